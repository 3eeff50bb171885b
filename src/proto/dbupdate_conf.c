/* dbupdate_conf - conf/dbupdate.conf, proxy lists, database file names
 * (see dbupdate_conf.h).
 *
 * The file is walked entry by entry over the caller's bytes
 * (proto/kv_line); every check is made on a bounded view (a line is at
 * most DBU_LINE_MAX bytes), values are validated completely before
 * anything is copied into the struct, and the first error ends the parse:
 * the caller refuses the whole file.
 */
#include "proto/dbupdate_conf.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/str.h"
#include "proto/kv_line.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool has_blank(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (is_blank(s.ptr[i]))
            return true;
    return false;
}

static bool all_digits(struct str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!is_digit(s.ptr[i]))
            return false;
    return true;
}

/* ---- database file names ---------------------------------------------- */

static const char *const DB_EXTS[] = {
    "cvd",  "cld", "cud", "ndb", "ndu",  "hdb",  "hdu", "hsb", "hsu",  "mdb", "mdu", "msb",
    "msu",  "ldb", "ldu", "idb", "cdb",  "cfg",  "crb", "cat", "ftm",  "fp",  "sfp", "ign",
    "ign2", "pdb", "gdb", "wdb", "pwdb", "info", "cbc", "yar", "yara", "imp",
};

bool dbu_db_file_name_ok(const char *name, size_t len)
{
    if (!name || len == 0 || len > 64 || name[0] == '.')
        return false;
    size_t dot = len;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
            return false;
        if (c == '.')
            dot = i;
    }
    if (dot == len)
        return false;
    struct str ext = str_make(name + dot + 1, len - dot - 1);
    for (size_t i = 0; i < sizeof(DB_EXTS) / sizeof(DB_EXTS[0]); i++)
        if (str_caseeq_cstr(ext, DB_EXTS[i]))
            return true;
    return false;
}

/* ---- hosts, ports, URLs ----------------------------------------------- */

static bool ip_parse(int af, struct str s)
{
    char tmp[64];
    unsigned char addr[16];
    if (s.len == 0 || s.len >= sizeof(tmp) || memchr(s.ptr, '\0', s.len))
        return false;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    return inet_pton(af, tmp, addr) == 1;
}

static bool is_ipv4(struct str s)
{
    return ip_parse(AF_INET, s);
}

static bool is_ipv6(struct str s)
{
    return ip_parse(AF_INET6, s);
}

/* is_host_name - dot-separated labels of 1..63 letters, digits, '-' and
 * '_', no label starting or ending with '-', at most DBU_HOST_MAX bytes.
 * A name whose last label is all digits is refused: resolvers read
 * "127.1" or "10.0.0.010" as addresses, so only a real dotted quad
 * (is_ipv4) may end in a number. */
static bool is_host_name(struct str s)
{
    if (s.len == 0 || s.len > DBU_HOST_MAX)
        return false;
    size_t start = 0;
    bool digits_only = true;
    for (size_t i = 0; i <= s.len; i++) {
        if (i == s.len || s.ptr[i] == '.') {
            size_t n = i - start;
            if (n == 0 || n > 63 || s.ptr[start] == '-' || s.ptr[i - 1] == '-')
                return false;
            start = i + 1;
            if (i < s.len)
                digits_only = true;
            continue;
        }
        char c = s.ptr[i];
        if (!is_alnum(c) && c != '-' && c != '_')
            return false;
        if (!is_digit(c))
            digits_only = false;
    }
    return !digits_only;
}

/* parse_port - decimal 1..65535. */
static bool parse_port(struct str s, unsigned *port)
{
    uint64_t v;
    if (s.len > 5 || !str_to_u64(s, 65535, &v) || v == 0)
        return false;
    *port = (unsigned)v;
    return true;
}

/* URL path bytes (RFC 3986 pchar, '/' and '?'); '%' is checked apart. */
static bool is_url_path_char(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/?", c) != NULL);
}

static bool check_url_path(struct str p, char *err, size_t errcap)
{
    for (size_t i = 0; i < p.len; i++) {
        char c = p.ptr[i];
        if (c == '%') {
            if (i + 2 >= p.len || str_hex_digit((unsigned char)p.ptr[i + 1]) < 0 ||
                str_hex_digit((unsigned char)p.ptr[i + 2]) < 0) {
                str_format(err, errcap, "'%%' not followed by two hex digits in the URL");
                return false;
            }
            i += 2;
            continue;
        }
        if (!is_url_path_char(c)) {
            if ((unsigned char)c >= 0x80)
                str_format(err, errcap, "non-ASCII byte in the URL (percent-encode it)");
            else
                str_format(err, errcap, "character '%c' not allowed in the URL", c);
            return false;
        }
    }
    return true;
}

/* check_authority - host[:port] of a URL, IPv6 in brackets. */
static bool check_authority(struct str a, char *err, size_t errcap)
{
    if (a.len == 0) {
        str_format(err, errcap, "no host in the URL");
        return false;
    }
    if (memchr(a.ptr, '@', a.len)) {
        str_format(err, errcap, "a user name or password in the URL is not supported");
        return false;
    }
    struct str host = a, port = STR_NULL;
    bool has_port = false;
    if (a.ptr[0] == '[') {
        long close = str_find_char(a, ']');
        if (close < 0) {
            str_format(err, errcap, "'[' without ']' in the URL's host");
            return false;
        }
        host = str_make(a.ptr + 1, (size_t)close - 1);
        struct str rest = str_make(a.ptr + close + 1, a.len - (size_t)close - 1);
        if (rest.len > 0) {
            if (rest.ptr[0] != ':') {
                str_format(err, errcap, "text after ']' in the URL's host");
                return false;
            }
            has_port = true;
            port = str_make(rest.ptr + 1, rest.len - 1);
        }
        if (!is_ipv6(host)) {
            str_format(err, errcap, "'%.*s' is not an IPv6 address",
                       (int)(host.len > 64 ? 64 : host.len), host.ptr);
            return false;
        }
    } else {
        long colon = str_find_char(a, ':');
        if (colon >= 0) {
            host = str_make(a.ptr, (size_t)colon);
            port = str_make(a.ptr + colon + 1, a.len - (size_t)colon - 1);
            has_port = true;
        }
        if (!is_ipv4(host) && !is_host_name(host)) {
            str_format(err, errcap, "'%.*s' is not a valid host in the URL (IPv6 goes in brackets)",
                       (int)(host.len > 64 ? 64 : host.len), host.ptr);
            return false;
        }
    }
    unsigned p;
    if (has_port && !parse_port(port, &p)) {
        str_format(err, errcap, "bad port '%.*s' in the URL (1-65535)",
                   (int)(port.len > 16 ? 16 : port.len), port.ptr);
        return false;
    }
    return true;
}

/* check_url - UPDATEURL (http/https) or custom_url (also file:///, and
 * the last path component must name a database file). */
static bool check_url(struct str v, bool custom, char *err, size_t errcap)
{
    if (v.len > DBU_URL_MAX) {
        str_format(err, errcap, "URL longer than %u bytes", DBU_URL_MAX);
        return false;
    }
    if (has_blank(v)) {
        str_format(err, errcap, "blank inside the URL (percent-encode it as %%20)");
        return false;
    }
    struct str rest;
    bool file = false;
    if (str_has_caseprefix(v, STR_LIT("http://"))) {
        rest = str_make(v.ptr + 7, v.len - 7);
    } else if (str_has_caseprefix(v, STR_LIT("https://"))) {
        rest = str_make(v.ptr + 8, v.len - 8);
    } else if (custom && str_has_caseprefix(v, STR_LIT("file://"))) {
        rest = str_make(v.ptr + 7, v.len - 7);
        file = true;
    } else {
        str_format(err, errcap,
                   custom ? "not an http://, https:// or file:/// URL"
                          : "not an http:// or https:// URL");
        return false;
    }
    struct str path;
    if (file) {
        if (rest.len == 0 || rest.ptr[0] != '/') {
            str_format(err, errcap, "a file URL is file:///absolute/path (no host)");
            return false;
        }
        path = rest;
    } else {
        long slash = str_find_char(rest, '/');
        size_t alen = slash < 0 ? rest.len : (size_t)slash;
        /* '?' or '#' right after the host: no path, and not a host byte */
        for (size_t i = 0; i < alen; i++) {
            if (rest.ptr[i] == '?' || rest.ptr[i] == '#') {
                alen = i;
                break;
            }
        }
        if (!check_authority(str_make(rest.ptr, alen), err, errcap))
            return false;
        path = str_make(rest.ptr + alen, rest.len - alen);
    }
    if (!check_url_path(path, err, errcap))
        return false;
    if (!custom)
        return true;
    const char *last = path.ptr;
    for (size_t i = 0; i < path.len; i++)
        if (path.ptr[i] == '/')
            last = path.ptr + i + 1;
    size_t last_len = path.len - (size_t)(last - path.ptr);
    if (path.len == 0 || path.ptr[0] != '/' || !dbu_db_file_name_ok(last, last_len)) {
        str_format(err, errcap,
                   "the URL must end in a database file name (e.g. /sigs/local.ndb), "
                   "not '%.*s'",
                   (int)(last_len > 64 ? 64 : last_len), last);
        return false;
    }
    return true;
}

/* ---- dbupdate.conf ----------------------------------------------------- */

enum dbu_key {
    K_USE_PROXY = 0,
    K_PROXY_HOST,
    K_PROXY_PORT,
    K_PROXYAUTH,
    K_PROXY_USER,
    K_PROXY_PASS,
    K_UPDATEURL,
    K_DATABASES,
    K_CUSTOM_URL,
    K_MAX_ATTEMPTS,
    K_CONNECT_TIMEOUT,
    K_RECEIVE_TIMEOUT,
    K_COUNT
};

static const struct {
    const char *name;
    enum dbu_key key;
} KEYS[] = {
    {"use_proxy", K_USE_PROXY},
    {"http_proxy_host", K_PROXY_HOST},
    {"http_proxy_port", K_PROXY_PORT},
    {"http_proxyauth", K_PROXYAUTH},
    {"use_proxyauth", K_PROXYAUTH}, /* C-18: printed so once in the guide */
    {"http_proxyauth_user", K_PROXY_USER},
    {"http_proxyauth_pass", K_PROXY_PASS},
    {"UPDATEURL", K_UPDATEURL},
    {"databases", K_DATABASES},
    {"custom_url", K_CUSTOM_URL},
    {"max_attempts", K_MAX_ATTEMPTS},
    {"connect_timeout", K_CONNECT_TIMEOUT},
    {"receive_timeout", K_RECEIVE_TIMEOUT},
};

void dbupdate_conf_defaults(struct dbupdate_conf *c)
{
    memset(c, 0, sizeof(*c));
    static const char *const dbs[] = {"main", "daily", "bytecode"};
    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
        str_copy(c->db[i], sizeof(c->db[i]), dbs[i]);
    c->ndb = sizeof(dbs) / sizeof(dbs[0]);
    c->max_attempts = 3;
    c->connect_timeout = 30;
    c->receive_timeout = 60;
}

static int parse_yesno(struct str key, struct str v, bool *out, char *err, size_t errcap)
{
    if (str_caseeq_cstr(v, "yes") || str_caseeq_cstr(v, "no")) {
        *out = str_caseeq_cstr(v, "yes");
        return 0;
    }
    str_format(err, errcap, "%.*s: '%.*s' is not yes or no", (int)key.len, key.ptr,
               (int)(v.len > 32 ? 32 : v.len), v.ptr);
    return -1;
}

static int parse_number(struct str key, struct str v, unsigned lo, unsigned hi, unsigned *out,
                        char *err, size_t errcap)
{
    uint64_t n = 0;
    if (!all_digits(v)) {
        str_format(err, errcap, "%.*s: '%.*s' is not a number", (int)key.len, key.ptr,
                   (int)(v.len > 32 ? 32 : v.len), v.ptr);
        return -1;
    }
    if (!str_to_u64(v, hi, &n) || n < lo) {
        str_format(err, errcap, "%.*s: %.*s is out of range (%u-%u)", (int)key.len, key.ptr,
                   (int)(v.len > 32 ? 32 : v.len), v.ptr, lo, hi);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

/* The port part of "host:port" typed into http_proxy_host. */
static bool looks_like_host_port(struct str v)
{
    long colon = str_find_char(v, ':');
    if (colon <= 0)
        return false;
    struct str host = str_make(v.ptr, (size_t)colon);
    struct str port = str_make(v.ptr + colon + 1, v.len - (size_t)colon - 1);
    return all_digits(port) && (is_host_name(host) || is_ipv4(host));
}

static int parse_proxy_host(struct str v, char *out, char *err, size_t errcap)
{
    struct str h = v;
    if (h.len >= 2 && h.ptr[0] == '[' && h.ptr[h.len - 1] == ']') {
        h = str_make(h.ptr + 1, h.len - 2);
        if (!is_ipv6(h)) {
            str_format(err, errcap, "http_proxy_host: '%.*s' is not an IPv6 address",
                       (int)(v.len > 64 ? 64 : v.len), v.ptr);
            return -1;
        }
    } else if (memchr(v.ptr, '/', v.len) || memchr(v.ptr, '@', v.len) || looks_like_host_port(v)) {
        str_format(err, errcap,
                   "http_proxy_host: give the host name only (the port goes in "
                   "http_proxy_port, the user in http_proxyauth_user)");
        return -1;
    } else if (!is_ipv4(h) && !is_ipv6(h) && !is_host_name(h)) {
        str_format(err, errcap,
                   "http_proxy_host: '%.*s' is not a valid host name, IPv4 or IPv6 address",
                   (int)(v.len > 64 ? 64 : v.len), v.ptr);
        return -1;
    }
    str_copy_view(out, DBU_HOST_MAX + 1, h);
    return 0;
}

static int parse_databases(struct str v, struct dbupdate_conf *c, char *err, size_t errcap)
{
    c->ndb = 0;
    if (v.len == 0)
        return 0;
    struct str rest = v;
    for (;;) {
        struct str item, tail;
        bool more = str_cut(rest, ',', &item, &tail);
        item = kv_trim(item);
        if (item.len == 0) {
            str_format(err, errcap, "databases: empty name in the list");
            return -1;
        }
        if (item.len > DBU_DB_NAME_MAX) {
            str_format(err, errcap, "databases: name longer than %u bytes", DBU_DB_NAME_MAX);
            return -1;
        }
        for (size_t i = 0; i < item.len; i++) {
            char ch = item.ptr[i];
            if (!((ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '_' || ch == '-')) {
                str_format(err, errcap,
                           "databases: '%.*s' is not a database name (lower-case letters, "
                           "digits, '_', '-')",
                           (int)item.len, item.ptr);
                return -1;
            }
        }
        for (size_t i = 0; i < c->ndb; i++) {
            if (str_eq_cstr(item, c->db[i])) {
                str_format(err, errcap, "databases: '%.*s' listed twice", (int)item.len, item.ptr);
                return -1;
            }
        }
        if (c->ndb == DBU_DB_NAMES_MAX) {
            str_format(err, errcap, "databases: more than %u names", DBU_DB_NAMES_MAX);
            return -1;
        }
        str_copy_view(c->db[c->ndb], sizeof(c->db[c->ndb]), item);
        c->ndb++;
        if (!more)
            return 0;
        rest = tail;
    }
}

/* apply - one key=value (value trimmed, non-empty unless databases). */
static int apply(enum dbu_key k, struct str key, struct str v, struct dbupdate_conf *c, char *err,
                 size_t errcap)
{
    switch (k) {
    case K_USE_PROXY:
        return parse_yesno(key, v, &c->use_proxy, err, errcap);
    case K_PROXYAUTH:
        return parse_yesno(key, v, &c->proxyauth, err, errcap);
    case K_PROXY_HOST:
        return parse_proxy_host(v, c->proxy_host, err, errcap);
    case K_PROXY_PORT:
        return parse_number(key, v, 1, 65535, &c->proxy_port, err, errcap);
    case K_PROXY_USER:
    case K_PROXY_PASS:
        if (v.len > DBU_CRED_MAX) {
            str_format(err, errcap, "%.*s: longer than %u bytes", (int)key.len, key.ptr,
                       DBU_CRED_MAX);
            return -1;
        }
        str_copy_view(k == K_PROXY_USER ? c->proxy_user : c->proxy_pass, DBU_CRED_MAX + 1, v);
        return 0;
    case K_UPDATEURL:
    case K_CUSTOM_URL: {
        char why[DBU_ERR_MAX];
        if (!check_url(v, k == K_CUSTOM_URL, why, sizeof(why))) {
            str_format(err, errcap, "%.*s: %s", (int)key.len, key.ptr, why);
            return -1;
        }
        if (k == K_UPDATEURL) {
            str_copy_view(c->updateurl, sizeof(c->updateurl), v);
            return 0;
        }
        if (c->ncustom == DBU_CUSTOM_URLS_MAX) {
            str_format(err, errcap, "more than %u custom_url lines", DBU_CUSTOM_URLS_MAX);
            return -1;
        }
        str_copy_view(c->custom_url[c->ncustom], sizeof(c->custom_url[0]), v);
        c->ncustom++;
        return 0;
    }
    case K_DATABASES:
        return parse_databases(v, c, err, errcap);
    case K_MAX_ATTEMPTS:
        return parse_number(key, v, 1, 10, &c->max_attempts, err, errcap);
    case K_CONNECT_TIMEOUT:
        return parse_number(key, v, 1, 600, &c->connect_timeout, err, errcap);
    case K_RECEIVE_TIMEOUT:
        return parse_number(key, v, 1, 3600, &c->receive_timeout, err, errcap);
    case K_COUNT:
        break;
    }
    return -1;
}

int dbupdate_conf_parse(const char *text, size_t len, struct dbupdate_conf *c, unsigned *err_line,
                        char *err, size_t errcap)
{
    unsigned first[K_COUNT] = {0};       /* line where each key was set, 0 = not yet */
    const char *first_as[K_COUNT] = {0}; /* the spelling used there (alias) */
    unsigned dummy_line;
    if (!err_line)
        err_line = &dummy_line;
    *err_line = 0;
    if (errcap > 0 && err)
        err[0] = '\0';
    if (len > DBU_CONF_FILE_MAX) {
        str_format(err, errcap, "file larger than %u bytes", DBU_CONF_FILE_MAX);
        return -1;
    }
    struct kv_reader r;
    kv_reader_init(&r, text, len, DBU_LINE_MAX);
    struct str key, value;
    enum kv_status st;
    while ((st = kv_next(&r, &key, &value, err, errcap)) == KV_ENTRY) {
        *err_line = r.line;
        size_t ki = 0;
        while (ki < sizeof(KEYS) / sizeof(KEYS[0]) && !str_caseeq_cstr(key, KEYS[ki].name))
            ki++;
        if (ki == sizeof(KEYS) / sizeof(KEYS[0])) {
            str_format(err, errcap, "unknown key '%.*s'", (int)(key.len > 64 ? 64 : key.len),
                       key.ptr);
            return -1;
        }
        enum dbu_key k = KEYS[ki].key;
        if (k != K_CUSTOM_URL) {
            if (first[k] != 0) {
                if (strcmp(first_as[k], KEYS[ki].name) != 0)
                    str_format(err, errcap, "'%s' set twice (first on line %u, as '%s')",
                               KEYS[ki].name, first[k], first_as[k]);
                else
                    str_format(err, errcap, "'%s' set twice (first on line %u)", KEYS[ki].name,
                               first[k]);
                return -1;
            }
            first[k] = r.line;
            first_as[k] = KEYS[ki].name;
        }
        if (value.len == 0 && k != K_DATABASES)
            continue; /* not set: the default stays */
        if (apply(k, str_from_cstr(KEYS[ki].name), value, c, err, errcap) != 0)
            return -1;
    }
    if (st == KV_ERROR) {
        *err_line = r.line;
        return -1;
    }
    if (c->use_proxy && c->proxy_host[0] == '\0') {
        *err_line = first[K_USE_PROXY];
        str_format(err, errcap, "use_proxy=yes but http_proxy_host is not set");
        return -1;
    }
    if (c->proxyauth && c->proxy_user[0] == '\0') {
        *err_line = first[K_PROXYAUTH];
        str_format(err, errcap, "%s=yes but http_proxyauth_user is not set",
                   first_as[K_PROXYAUTH] ? first_as[K_PROXYAUTH] : "http_proxyauth");
        return -1;
    }
    *err_line = 0;
    return 0;
}

/* ---- proxy lists ------------------------------------------------------- */

static int parse_one_proxy(struct str e, struct dbu_proxy *p, char *err, size_t errcap)
{
    memset(p, 0, sizeof(*p));
    if (str_has_caseprefix(e, STR_LIT("http://"))) {
        e = str_make(e.ptr + 7, e.len - 7);
    } else {
        for (size_t i = 0; i + 3 <= e.len; i++) {
            if (memcmp(e.ptr + i, "://", 3) == 0) {
                str_format(err, errcap, "only http:// proxies are supported");
                return -1;
            }
        }
    }
    if (e.len > 0 && e.ptr[e.len - 1] == '/')
        e.len--;
    struct str user = STR_NULL, pass = STR_NULL, hostport = e;
    for (size_t i = e.len; i > 0; i--) {
        if (e.ptr[i - 1] == '@') {
            struct str userinfo = str_make(e.ptr, i - 1);
            hostport = str_make(e.ptr + i, e.len - i);
            if (!str_cut(userinfo, ':', &user, &pass))
                pass = STR_NULL;
            if (user.len == 0) {
                str_format(err, errcap, "empty user name before '@'");
                return -1;
            }
            if (user.len > DBU_CRED_MAX || pass.len > DBU_CRED_MAX) {
                str_format(err, errcap, "user name or password longer than %u bytes", DBU_CRED_MAX);
                return -1;
            }
            break;
        }
    }
    if (memchr(hostport.ptr, '/', hostport.len)) {
        str_format(err, errcap, "a proxy is [http://][user[:passwd]@]address[:port], no path");
        return -1;
    }
    struct str host = hostport, port = STR_NULL;
    bool has_port = false;
    if (hostport.len > 0 && hostport.ptr[0] == '[') {
        long close = str_find_char(hostport, ']');
        if (close < 0) {
            str_format(err, errcap, "'[' without ']'");
            return -1;
        }
        host = str_make(hostport.ptr + 1, (size_t)close - 1);
        struct str rest = str_make(hostport.ptr + close + 1, hostport.len - (size_t)close - 1);
        if (rest.len > 0) {
            if (rest.ptr[0] != ':') {
                str_format(err, errcap, "text after ']'");
                return -1;
            }
            has_port = true;
            port = str_make(rest.ptr + 1, rest.len - 1);
        }
        if (!is_ipv6(host)) {
            str_format(err, errcap, "'%.*s' is not an IPv6 address",
                       (int)(host.len > 64 ? 64 : host.len), host.ptr);
            return -1;
        }
    } else {
        long colon = str_find_char(hostport, ':');
        if (colon >= 0) {
            host = str_make(hostport.ptr, (size_t)colon);
            port = str_make(hostport.ptr + colon + 1, hostport.len - (size_t)colon - 1);
            has_port = true;
            if (memchr(port.ptr, ':', port.len)) {
                str_format(err, errcap, "an IPv6 address must be in brackets ([::1]:3128)");
                return -1;
            }
        }
        if (host.len == 0) {
            str_format(err, errcap, "no address");
            return -1;
        }
        if (!is_ipv4(host) && !is_host_name(host)) {
            str_format(err, errcap, "'%.*s' is not a valid host name or IPv4 address",
                       (int)(host.len > 64 ? 64 : host.len), host.ptr);
            return -1;
        }
    }
    if (has_port && !parse_port(port, &p->port)) {
        str_format(err, errcap, "bad port '%.*s' (1-65535)", (int)(port.len > 16 ? 16 : port.len),
                   port.ptr);
        return -1;
    }
    str_copy_view(p->host, sizeof(p->host), host);
    str_copy_view(p->user, sizeof(p->user), user);
    str_copy_view(p->pass, sizeof(p->pass), pass);
    return 0;
}

int dbu_proxy_list_parse(const char *s, size_t len, struct dbu_proxy *out, size_t cap, size_t *n,
                         char *err, size_t errcap)
{
    *n = 0;
    if (errcap > 0 && err)
        err[0] = '\0';
    struct str rest = kv_trim(str_make(s, len));
    if (rest.len == 0)
        return 0;
    for (size_t i = 0; i < rest.len; i++) {
        if (is_ctl((unsigned char)rest.ptr[i]) && rest.ptr[i] != '\t') {
            str_format(err, errcap, "control character 0x%02x in the proxy list",
                       (unsigned char)rest.ptr[i]);
            return -1;
        }
    }
    size_t count = 0;
    for (;;) {
        struct str item, tail;
        bool more = str_cut(rest, ',', &item, &tail);
        item = kv_trim(item);
        if (item.len == 0) {
            str_format(err, errcap, "proxy %zu: empty entry", count + 1);
            return -1;
        }
        if (count == cap) {
            str_format(err, errcap, "more than %zu proxies", cap);
            return -1;
        }
        char why[DBU_ERR_MAX];
        if (parse_one_proxy(item, &out[count], why, sizeof(why)) != 0) {
            str_format(err, errcap, "proxy %zu: %s", count + 1, why);
            return -1;
        }
        count++;
        if (!more)
            break;
        rest = tail;
    }
    *n = count;
    return 0;
}
