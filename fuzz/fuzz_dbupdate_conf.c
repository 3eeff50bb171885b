/* fuzz_dbupdate_conf - libFuzzer target for proto/dbupdate_conf.
 *
 * The first input byte picks what is exercised: the dbupdate.conf parser
 * (with a full and with a tiny error buffer), the proxy-list parser, or
 * the database file name rule. The file is written by an administrator
 * but read by a program that downloads code into databases/, so any
 * crash, over-read (ASan) or UB here is a bug; so is an accepted value
 * that breaks the struct's documented bounds, or a result that does not
 * survive being written out and parsed again (the parser and the rules it
 * states would disagree).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/db_bundle.h"
#include "proto/dbupdate_conf.h"

static void check_cstr(const char *s, size_t cap)
{
    if (strnlen(s, cap) >= cap)
        abort();
}

static void check_err(const char *err, size_t cap)
{
    check_cstr(err, cap);
    if (err[0] == '\0' || strchr(err, '\n'))
        abort();
}

static size_t put(char *out, size_t n, size_t cap, const char *key, const char *value)
{
    int w = snprintf(out + n, cap - n, "%s=%s\n", key, value);
    if (w < 0 || (size_t)w >= cap - n)
        abort(); /* the buffer below holds every possible file */
    return n + (size_t)w;
}

/* format - c written back as a dbupdate.conf text. */
static size_t format(const struct dbupdate_conf *c, char *out, size_t cap)
{
    char num[32];
    size_t n = 0;
    n = put(out, n, cap, "use_proxy", c->use_proxy ? "yes" : "no");
    n = put(out, n, cap, "http_proxy_host", c->proxy_host);
    snprintf(num, sizeof(num), "%u", c->proxy_port);
    n = put(out, n, cap, "http_proxy_port", c->proxy_port ? num : "");
    n = put(out, n, cap, "http_proxyauth", c->proxyauth ? "yes" : "no");
    n = put(out, n, cap, "http_proxyauth_user", c->proxy_user);
    n = put(out, n, cap, "http_proxyauth_pass", c->proxy_pass);
    n = put(out, n, cap, "UPDATEURL", c->updateurl);
    char dbs[DBU_DB_NAMES_MAX * (DBU_DB_NAME_MAX + 1) + 1] = "";
    size_t dn = 0;
    for (size_t i = 0; i < c->ndb; i++)
        dn += (size_t)snprintf(dbs + dn, sizeof(dbs) - dn, "%s%s", i ? "," : "", c->db[i]);
    n = put(out, n, cap, "databases", dbs);
    for (size_t i = 0; i < c->ncustom; i++)
        n = put(out, n, cap, "custom_url", c->custom_url[i]);
    snprintf(num, sizeof(num), "%u", c->max_attempts);
    n = put(out, n, cap, "max_attempts", num);
    snprintf(num, sizeof(num), "%u", c->connect_timeout);
    n = put(out, n, cap, "connect_timeout", num);
    snprintf(num, sizeof(num), "%u", c->receive_timeout);
    n = put(out, n, cap, "receive_timeout", num);
    return n;
}

static bool same(const struct dbupdate_conf *a, const struct dbupdate_conf *b)
{
    if (a->use_proxy != b->use_proxy || a->proxy_port != b->proxy_port ||
        a->proxyauth != b->proxyauth || a->ndb != b->ndb || a->ncustom != b->ncustom ||
        a->max_attempts != b->max_attempts || a->connect_timeout != b->connect_timeout ||
        a->receive_timeout != b->receive_timeout || strcmp(a->proxy_host, b->proxy_host) != 0 ||
        strcmp(a->proxy_user, b->proxy_user) != 0 || strcmp(a->proxy_pass, b->proxy_pass) != 0 ||
        strcmp(a->updateurl, b->updateurl) != 0)
        return false;
    for (size_t i = 0; i < a->ndb; i++)
        if (strcmp(a->db[i], b->db[i]) != 0)
            return false;
    for (size_t i = 0; i < a->ncustom; i++)
        if (strcmp(a->custom_url[i], b->custom_url[i]) != 0)
            return false;
    return true;
}

static void check_conf(const struct dbupdate_conf *c)
{
    check_cstr(c->proxy_host, sizeof(c->proxy_host));
    check_cstr(c->proxy_user, sizeof(c->proxy_user));
    check_cstr(c->proxy_pass, sizeof(c->proxy_pass));
    check_cstr(c->updateurl, sizeof(c->updateurl));
    if (c->proxy_port > 65535 || c->ndb > DBU_DB_NAMES_MAX || c->ncustom > DBU_CUSTOM_URLS_MAX)
        abort();
    if (c->max_attempts < 1 || c->max_attempts > 10 || c->connect_timeout < 1 ||
        c->connect_timeout > 600 || c->receive_timeout < 1 || c->receive_timeout > 3600)
        abort();
    if ((c->use_proxy && !c->proxy_host[0]) || (c->proxyauth && !c->proxy_user[0]))
        abort();
    for (size_t i = 0; i < c->ndb; i++) {
        check_cstr(c->db[i], sizeof(c->db[i]));
        if (c->db[i][0] == '\0' ||
            strspn(c->db[i], "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(c->db[i]))
            abort();
    }
    for (size_t i = 0; i < c->ncustom; i++) {
        check_cstr(c->custom_url[i], sizeof(c->custom_url[i]));
        const char *last = strrchr(c->custom_url[i], '/');
        if (!last || !dbu_db_file_name_ok(last + 1, strlen(last + 1)))
            abort();
    }
}

static void fuzz_conf(const char *p, size_t len, size_t errcap)
{
    static struct dbupdate_conf c, again;
    static char text[DBU_CONF_FILE_MAX * 2];
    char err[DBU_ERR_MAX];
    unsigned line = 12345;
    dbupdate_conf_defaults(&c);
    if (dbupdate_conf_parse(p, len, &c, &line, err, errcap) != 0) {
        if (errcap > 1)
            check_err(err, errcap);
        size_t lines = 1;
        for (size_t i = 0; i < len; i++)
            lines += p[i] == '\n';
        if (line > lines)
            abort();
        return;
    }
    if (line != 0)
        abort();
    check_conf(&c);
    size_t n = format(&c, text, sizeof(text));
    dbupdate_conf_defaults(&again);
    if (dbupdate_conf_parse(text, n, &again, &line, err, sizeof(err)) != 0 || !same(&c, &again))
        abort();
}

static void fuzz_proxies(const char *p, size_t len)
{
    if (len == 0)
        return;
    size_t cap = (unsigned char)p[0] % (DBU_PROXIES_MAX + 1);
    p++;
    len--;
    static struct dbu_proxy px[DBU_PROXIES_MAX], again[DBU_PROXIES_MAX];
    char err[DBU_ERR_MAX];
    size_t n = 77;
    if (dbu_proxy_list_parse(p, len, px, cap, &n, err, sizeof(err)) != 0) {
        check_err(err, sizeof(err));
        if (n != 0)
            abort();
        return;
    }
    if (n > cap)
        abort();
    /* written back as a list, it parses to the same entries */
    /* an entry is at most ",http://" user ":" pass "@[" host "]:65535" */
    static char list[DBU_PROXIES_MAX * (8 + 2 * DBU_CRED_MAX + 2 + DBU_HOST_MAX + 2 + 6) + 1];
    size_t ln = 0;
    for (size_t i = 0; i < n; i++) {
        const struct dbu_proxy *x = &px[i];
        check_cstr(x->host, sizeof(x->host));
        check_cstr(x->user, sizeof(x->user));
        check_cstr(x->pass, sizeof(x->pass));
        if (x->host[0] == '\0' || x->port > 65535 || (x->pass[0] && !x->user[0]))
            abort();
        bool v6 = strchr(x->host, ':') != NULL;
        ln += (size_t)snprintf(list + ln, sizeof(list) - ln, "%shttp://%s%s%s%s%s%s%s",
                               i ? "," : "", x->user, x->user[0] ? ":" : "", x->pass,
                               x->user[0] ? "@" : "", v6 ? "[" : "", x->host, v6 ? "]" : "");
        if (x->port)
            ln += (size_t)snprintf(list + ln, sizeof(list) - ln, ":%u", x->port);
        if (ln >= sizeof(list))
            abort();
    }
    size_t n2 = 0;
    if (dbu_proxy_list_parse(list, ln, again, cap, &n2, err, sizeof(err)) != 0 || n2 != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (strcmp(px[i].host, again[i].host) != 0 || px[i].port != again[i].port ||
            strcmp(px[i].user, again[i].user) != 0 || strcmp(px[i].pass, again[i].pass) != 0)
            abort();
}

static void fuzz_name(const char *p, size_t len)
{
    bool ok = dbu_db_file_name_ok(p, len);
    if (!ok || len >= 256)
        return;
    if (len == 0 || len > 64 || p[0] == '.')
        abort();
    for (size_t i = 0; i < len; i++)
        if (!p[i] ||
            !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", p[i]))
            abort();
    /* the bundle reader agrees: the name at the top of a bundle is taken */
    struct db_tar_entry e = {.kind = DB_TAR_FILE};
    memcpy(e.name, "./", 2);
    memcpy(e.name + 2, p, len);
    e.name[len + 2] = '\0';
    char err[DBU_ERR_MAX];
    const char *fn = db_tar_file_name(&e, err, sizeof(err));
    if (!fn || fn != e.name + 2)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t len = size - 1;
    switch (data[0] & 3) {
    case 0:
        fuzz_conf(p, len, DBU_ERR_MAX);
        break;
    case 1:
        fuzz_proxies(p, len);
        break;
    case 2:
        fuzz_name(p, len);
        break;
    default:
        fuzz_conf(p, len, data[0] >> 2 & 7);
        break;
    }
    return 0;
}
