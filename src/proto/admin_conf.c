/* admin_conf - conf/admin.conf (see admin_conf.h).
 *
 * The file is walked entry by entry with proto/kv_line, as
 * proto/dbupdate_conf walks dbupdate.conf; every value is validated
 * completely on a bounded view before anything is copied into the struct,
 * and the first error ends the parse: the caller refuses the whole file.
 */
#include "proto/admin_conf.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "lib/str.h"
#include "proto/kv_line.h"

static bool all_digits(struct str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

enum admin_key {
    K_PORT,
    K_LISTEN,
    K_LANG,
    K_SESSION_TIMEOUT,
    K_TLS_CERT,
    K_TLS_KEY,
    K_METRICS_TOKEN,
    K_METRICS_ALLOW,
    K_LOGIN_FAILURES_MAX,
    K_LOGIN_PAUSE,
    K_IDLE_TIMEOUT,
    K_COUNT
};

static const char *const KEYS[K_COUNT] = {
    [K_PORT] = "adminport",
    [K_LISTEN] = "admin_listen",
    [K_LANG] = "lang",
    [K_SESSION_TIMEOUT] = "session_timeout",
    [K_TLS_CERT] = "tls_certificate",
    [K_TLS_KEY] = "tls_key",
    [K_METRICS_TOKEN] = "metrics_token",
    [K_METRICS_ALLOW] = "metrics_allow",
    [K_LOGIN_FAILURES_MAX] = "login_failures_max",
    [K_LOGIN_PAUSE] = "login_pause",
    [K_IDLE_TIMEOUT] = "idle_timeout",
};

/* addr_parse - an IPv4 or IPv6 literal (IPv6 optionally in brackets). */
static bool addr_parse(struct str v, struct admin_addr *a)
{
    struct str s = v;
    bool brackets = s.len >= 2 && s.ptr[0] == '[' && s.ptr[s.len - 1] == ']';
    if (brackets)
        s = str_make(s.ptr + 1, s.len - 2);
    char tmp[ADMIN_ADDR_TEXT_MAX + 1];
    if (s.len == 0 || s.len >= sizeof(tmp) || memchr(s.ptr, '\0', s.len))
        return false;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    memset(a, 0, sizeof(*a));
    if (!brackets && inet_pton(AF_INET, tmp, a->addr) == 1)
        a->family = AF_INET;
    else if (inet_pton(AF_INET6, tmp, a->addr) == 1)
        a->family = AF_INET6;
    else
        return false;
    memcpy(a->text, tmp, s.len + 1);
    return true;
}

static size_t addr_len(int family)
{
    return family == AF_INET ? 4 : 16;
}

void admin_conf_defaults(struct admin_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->port = 9012;
    addr_parse(STR_LIT("127.0.0.1"), &c->listen);
    c->lang = ADMIN_LANG_EN;
    c->session_timeout = 300;
    addr_parse(STR_LIT("127.0.0.1"), &c->allow[0]);
    addr_parse(STR_LIT("::1"), &c->allow[1]);
    c->nallow = 2;
    c->login_failures_max = 5;
    c->login_pause = 60;
    c->idle_timeout = 30;
}

const char *admin_lang_name(enum admin_lang lang)
{
    return lang == ADMIN_LANG_JA ? "ja" : "en";
}

static int parse_number(const char *key, struct str v, unsigned lo, unsigned hi, unsigned *out,
                        char *err, size_t errcap)
{
    uint64_t n = 0;
    if (!all_digits(v)) {
        str_format(err, errcap, "%s: '%.*s' is not a number", key, (int)(v.len > 32 ? 32 : v.len),
                   v.ptr);
        return -1;
    }
    if (!str_to_u64(v, hi, &n) || n < lo) {
        str_format(err, errcap, "%s: %.*s is out of range (%u-%u)", key,
                   (int)(v.len > 32 ? 32 : v.len), v.ptr, lo, hi);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

static int parse_listen(struct str v, struct admin_addr *a, char *err, size_t errcap)
{
    if (str_eq_cstr(v, "*")) {
        memset(a, 0, sizeof(*a));
        a->family = AF_UNSPEC;
        a->text[0] = '*';
        return 0;
    }
    struct admin_addr tmp;
    if (!addr_parse(v, &tmp)) {
        str_format(err, errcap,
                   "admin_listen: '%.*s' is not an IPv4 or IPv6 address (or '*' for any)",
                   (int)(v.len > 64 ? 64 : v.len), v.ptr);
        return -1;
    }
    *a = tmp;
    return 0;
}

static int parse_allow(struct str v, struct admin_conf *c, char *err, size_t errcap)
{
    c->nallow = 0;
    if (v.len == 0)
        return 0;
    struct str rest = v;
    for (;;) {
        struct str item, tail;
        bool more = str_cut(rest, ',', &item, &tail);
        item = kv_trim(item);
        if (item.len == 0) {
            str_format(err, errcap, "metrics_allow: empty item in the list");
            return -1;
        }
        if (c->nallow == ADMIN_ALLOW_MAX) {
            str_format(err, errcap, "metrics_allow: more than %d addresses", ADMIN_ALLOW_MAX);
            return -1;
        }
        struct admin_addr *a = &c->allow[c->nallow];
        if (!addr_parse(item, a)) {
            str_format(err, errcap, "metrics_allow: '%.*s' is not an IPv4 or IPv6 address",
                       (int)(item.len > 64 ? 64 : item.len), item.ptr);
            return -1;
        }
        for (size_t i = 0; i < c->nallow; i++) {
            if (c->allow[i].family == a->family &&
                memcmp(c->allow[i].addr, a->addr, addr_len(a->family)) == 0) {
                str_format(err, errcap, "metrics_allow: '%s' listed twice (as '%s')", a->text,
                           c->allow[i].text);
                return -1;
            }
        }
        c->nallow++;
        if (!more)
            return 0;
        rest = tail;
    }
}

static bool is_token_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '~' || ch == '-';
}

/* apply - one key=value (value trimmed, non-empty unless metrics_allow). */
static int apply(enum admin_key k, struct str v, struct admin_conf *c, char *err, size_t errcap)
{
    const char *key = KEYS[k];
    switch (k) {
    case K_PORT:
        return parse_number(key, v, 1, 65535, &c->port, err, errcap);
    case K_LISTEN:
        return parse_listen(v, &c->listen, err, errcap);
    case K_LANG:
        if (str_caseeq_cstr(v, "en") || str_caseeq_cstr(v, "ja")) {
            c->lang = str_caseeq_cstr(v, "ja") ? ADMIN_LANG_JA : ADMIN_LANG_EN;
            return 0;
        }
        str_format(err, errcap, "lang: '%.*s' is not en or ja", (int)(v.len > 32 ? 32 : v.len),
                   v.ptr);
        return -1;
    case K_SESSION_TIMEOUT:
        return parse_number(key, v, 10, 86400, &c->session_timeout, err, errcap);
    case K_TLS_CERT:
    case K_TLS_KEY:
        if (v.len > ADMIN_PATH_MAX) {
            str_format(err, errcap, "%s: path longer than %d bytes", key, ADMIN_PATH_MAX);
            return -1;
        }
        str_copy_view(k == K_TLS_CERT ? c->tls_certificate : c->tls_key, ADMIN_PATH_MAX + 1, v);
        return 0;
    case K_METRICS_TOKEN:
        /* the token is a secret: the reasons never quote it */
        if (v.len < ADMIN_TOKEN_MIN || v.len > ADMIN_TOKEN_MAX) {
            str_format(err, errcap, "metrics_token: %zu bytes long, must be %d-%d", v.len,
                       ADMIN_TOKEN_MIN, ADMIN_TOKEN_MAX);
            return -1;
        }
        for (size_t i = 0; i < v.len; i++) {
            if (!is_token_char(v.ptr[i])) {
                str_format(err, errcap, "metrics_token: byte %zu is not one of A-Z a-z 0-9 . _ ~ -",
                           i + 1);
                return -1;
            }
        }
        str_copy_view(c->metrics_token, sizeof(c->metrics_token), v);
        return 0;
    case K_METRICS_ALLOW:
        return parse_allow(v, c, err, errcap);
    case K_LOGIN_FAILURES_MAX:
        return parse_number(key, v, 1, 100, &c->login_failures_max, err, errcap);
    case K_LOGIN_PAUSE:
        return parse_number(key, v, 1, 86400, &c->login_pause, err, errcap);
    case K_IDLE_TIMEOUT:
        return parse_number(key, v, 1, 3600, &c->idle_timeout, err, errcap);
    case K_COUNT:
        break;
    }
    return -1;
}

int admin_conf_parse(const char *text, size_t len, struct admin_conf *c, unsigned *err_line,
                     char *err, size_t errcap)
{
    unsigned first[K_COUNT] = {0}; /* line where each key was given, 0 = not yet */
    unsigned dummy_line;
    if (!err_line)
        err_line = &dummy_line;
    *err_line = 0;
    if (errcap > 0 && err)
        err[0] = '\0';
    if (len > ADMIN_CONF_FILE_MAX) {
        str_format(err, errcap, "file larger than %u bytes", ADMIN_CONF_FILE_MAX);
        return -1;
    }
    struct kv_reader r;
    kv_reader_init(&r, text, len, ADMIN_LINE_MAX);
    struct str key, value;
    enum kv_status st;
    while ((st = kv_next(&r, &key, &value, err, errcap)) == KV_ENTRY) {
        *err_line = r.line;
        size_t k = 0;
        while (k < K_COUNT && !str_caseeq_cstr(key, KEYS[k]))
            k++;
        if (k == K_COUNT) {
            str_format(err, errcap, "unknown key '%.*s'", (int)(key.len > 64 ? 64 : key.len),
                       key.ptr);
            return -1;
        }
        if (first[k] != 0) {
            str_format(err, errcap, "'%s' set twice (first on line %u)", KEYS[k], first[k]);
            return -1;
        }
        first[k] = r.line;
        if (value.len == 0 && k != K_METRICS_ALLOW)
            continue; /* not set: the default stays */
        if (apply((enum admin_key)k, value, c, err, errcap) != 0)
            return -1;
    }
    if (st == KV_ERROR) {
        *err_line = r.line;
        return -1;
    }
    bool cert = c->tls_certificate[0] != '\0', tls_key = c->tls_key[0] != '\0';
    if (cert != tls_key) {
        *err_line = first[cert ? K_TLS_CERT : K_TLS_KEY];
        str_format(err, errcap, "%s is set but %s is not (HTTPS needs both)",
                   cert ? "tls_certificate" : "tls_key", cert ? "tls_key" : "tls_certificate");
        return -1;
    }
    *err_line = 0;
    return 0;
}
