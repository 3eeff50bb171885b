/* config_value_check - key-specific checks of values (see the header). */
#include "core/config_value_check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "lib/str.h"
#include "proto/dbupdate_conf.h"
#include "proto/dnsbl_name.h"

bool config_host_port_parse(const char *text, unsigned def_port, char addr[46], unsigned *port)
{
    struct in6_addr a6;
    struct in_addr a4;
    const char *host = text, *rest = "";
    size_t hlen = strlen(text);
    if (text[0] == '[') {
        const char *end = strchr(text, ']');
        if (!end)
            return false;
        host = text + 1;
        hlen = (size_t)(end - host);
        rest = end + 1;
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':'))
            rest = ""; /* a bare IPv6 address: no port */
        else if (colon) {
            hlen = (size_t)(colon - text);
            rest = colon;
        }
    }
    if (hlen == 0 || hlen > 45)
        return false;
    memcpy(addr, host, hlen);
    addr[hlen] = '\0';
    if (inet_pton(AF_INET6, addr, &a6) != 1 &&
        (text[0] == '[' || inet_pton(AF_INET, addr, &a4) != 1))
        return false;
    *port = def_port;
    if (*rest == '\0')
        return true;
    uint64_t n;
    if (rest[0] != ':' || !str_to_u64(str_from_cstr(rest + 1), 65535, &n) || n == 0)
        return false;
    *port = (unsigned)n;
    return true;
}

static bool zones_check(const struct config_list *l, char *why, size_t cap)
{
    for (size_t i = 0; i < l->count; i++) {
        if (!dnsbl_zone_valid(l->items[i])) {
            snprintf(why, cap, "'%.*s' is not a DNS zone name (letters, digits and '-' labels)",
                     (int)(l->items[i].len > 64 ? 64 : l->items[i].len), l->items[i].ptr);
            return false;
        }
    }
    return true;
}

static bool check_rbl_list(const struct config *cfg, char *why, size_t cap)
{
    return zones_check(&cfg->spam_rbl_list, why, cap);
}

static bool check_surbl_list(const struct config *cfg, char *why, size_t cap)
{
    return zones_check(&cfg->spam_surbl_list, why, cap);
}

static bool check_engine_server(const struct config *cfg, char *why, size_t cap)
{
    const char *v = cfg->spam_engine_server;
    char addr[46];
    unsigned port;
    if (v[0] == '/') {
        if (strlen(v) >= 108) { /* sizeof(sun_path) */
            snprintf(why, cap, "a unix socket path is at most 107 bytes");
            return false;
        }
        return true;
    }
    if (!config_host_port_parse(v, 0, addr, &port)) {
        snprintf(why, cap, "expected A.A.A.A:PPP, [v6]:PPP or /path/to/socket (a numeric address)");
        return false;
    }
    if (port == 0) {
        snprintf(why, cap, "a port is needed: A.A.A.A:PPP, [v6]:PPP or /path/to/socket");
        return false;
    }
    return true;
}

static bool check_dns_server(const struct config *cfg, char *why, size_t cap)
{
    const struct config_list *l = &cfg->spam_dns_server;
    for (size_t i = 0; i < l->count; i++) {
        char text[128], addr[46];
        unsigned port;
        str_copy_view(text, sizeof(text), l->items[i]);
        if (l->items[i].len >= sizeof(text) || !config_host_port_parse(text, 53, addr, &port)) {
            snprintf(why, cap, "'%s' is not A.A.A.A[:PPP] or [v6][:PPP] (a numeric address)", text);
            return false;
        }
    }
    return true;
}

/* KB-13: the fsaua http_proxies syntax, as dbupdate reads it. */
static bool check_orsp_proxy(const struct config *cfg, char *why, size_t cap)
{
    struct dbu_proxy list[DBU_PROXIES_MAX];
    size_t n;
    const char *v = cfg->orspservice_http_proxy;
    return dbu_proxy_list_parse(v, strlen(v), list, DBU_PROXIES_MAX, &n, why, cap) == 0;
}

static const struct {
    const char *key;
    bool (*check)(const struct config *cfg, char *why, size_t cap);
} checks[] = {
    {"spam_rbl_list", check_rbl_list},
    {"spam_surbl_list", check_surbl_list},
    {"spam_engine_server", check_engine_server},
    {"spam_dns_server", check_dns_server},
    {"orspservice_http_proxy", check_orsp_proxy},
};

bool config_value_check(const char *key, const struct config *cfg, char *why, size_t cap)
{
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
        if (strcmp(checks[i].key, key) == 0)
            return checks[i].check(cfg, why, cap);
    return true;
}
