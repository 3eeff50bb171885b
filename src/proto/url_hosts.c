/* url_hosts - see url_hosts.h. */
#include "proto/url_hosts.h"

#include <arpa/inet.h>
#include <string.h>

enum {
    S_TEXT = 0, /* looking for "http:" / "https:" */
    S_COLON,    /* after the scheme's ':', at least one '/' or '\' needed */
    S_SLASHES,  /* among the slashes */
    S_AUTH,     /* reading the authority into auth[] */
};

/* A non-ASCII byte or reference, as the scanner sees it. */
#define NON_ASCII 0x80

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool is_alnum(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A byte that may be part of a scheme: "xhttp:" is not "http:". */
static bool is_scheme_byte(unsigned char c)
{
    return is_alnum(c) || c == '+' || c == '-' || c == '.';
}

/* A byte of a reported host (after percent-decoding and lower-casing). */
static bool is_host_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.';
}

void url_hosts_init(struct url_hosts *u)
{
    memset(u, 0, sizeof(*u));
}

struct str url_hosts_get(const struct url_hosts *u, size_t i)
{
    if (i >= u->n)
        return STR_NULL;
    return str_make(u->host[i], u->host_len[i]);
}

static void add_host(struct url_hosts *u, const char *h, size_t len)
{
    for (size_t i = 0; i < u->n; i++)
        if (u->host_len[i] == len && memcmp(u->host[i], h, len) == 0)
            return;
    if (u->n == URL_HOSTS_MAX) {
        u->dropped++;
        return;
    }
    memcpy(u->host[u->n], h, len);
    u->host[u->n][len] = '\0';
    u->host_len[u->n] = (unsigned char)len;
    u->n++;
}

/* take_ipv6 - a[0..len) is "[...]": report it if inet_pton accepts it. */
static bool take_ipv6(struct url_hosts *u, const char *a, size_t len)
{
    char buf[64];
    if (len < 3 || len - 2 >= sizeof(buf))
        return false;
    for (size_t i = 0; i < len - 2; i++)
        buf[i] = (char)lower((unsigned char)a[i + 1]);
    buf[len - 2] = '\0';
    unsigned char bin[16];
    if (inet_pton(AF_INET6, buf, bin) != 1)
        return false;
    char out[66];
    out[0] = '[';
    memcpy(out + 1, buf, len - 2);
    out[len - 1] = ']';
    add_host(u, out, len);
    return true;
}

/* take_host - a[0..len) is the host part (no userinfo, no port):
 * percent-decode, lower-case, check, drop trailing dots, report. */
static bool take_host(struct url_hosts *u, const char *a, size_t len, int term)
{
    char h[URL_HOST_MAX + 1];
    size_t n = 0;
    bool dot = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c == '%') {
            int hi = i + 2 < len ? str_hex_digit((unsigned char)a[i + 1]) : -1;
            int lo = hi >= 0 ? str_hex_digit((unsigned char)a[i + 2]) : -1;
            if (lo < 0)
                return false;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        c = lower(c);
        if (!is_host_byte(c))
            return false;
        if (n == sizeof(h))
            return false; /* too long even before the trailing dots go */
        dot |= c == '.';
        h[n++] = (char)c;
    }
    while (n > 0 && h[n - 1] == '.')
        n--;
    if (n == 0 || n > URL_HOST_MAX)
        return false;
    /* A UTF-8 host ("bücher.de") is cut at its first non-ASCII byte; do not
     * report "b" for it. "example.jp" followed by Japanese text has a dot. */
    if (term >= NON_ASCII && !dot)
        return false;
    add_host(u, h, n);
    return true;
}

/* end_authority - the authority ended before byte term (-1: end of part). */
static void end_authority(struct url_hosts *u, int term)
{
    const char *a = u->auth;
    size_t len = u->auth_len, host_end, i;
    bool ok = false;
    if (!u->overflow && len > 0) {
        if (a[0] == '[') {
            const char *close = memchr(a, ']', len);
            host_end = close ? (size_t)(close - a) + 1 : len + 1;
        } else {
            const char *colon = memchr(a, ':', len);
            host_end = colon ? (size_t)(colon - a) : len;
        }
        ok = host_end <= len;
        /* the port: ':' and digits (possibly none), nothing else */
        if (ok && host_end < len) {
            ok = a[host_end] == ':';
            for (i = host_end + 1; ok && i < len; i++)
                ok = a[i] >= '0' && a[i] <= '9';
        }
        if (ok)
            ok = a[0] == '[' ? take_ipv6(u, a, host_end) : take_host(u, a, host_end, term);
    }
    if (!ok)
        u->invalid++;
    u->state = S_TEXT;
    u->auth_len = 0;
    u->overflow = false;
    u->bracket = false;
}

/* auth_byte - take c into the authority; false: c ends it. */
static bool auth_byte(struct url_hosts *u, unsigned char c)
{
    if (u->bracket) {
        if (c == ']')
            u->bracket = false;
        else if (!(is_alnum(c) || c == ':' || c == '.' || c == '%'))
            return false;
    } else if (c == '@') {
        /* userinfo: the host follows the last '@' */
        u->auth_len = 0;
        u->overflow = false;
        return true;
    } else if (c == '[' && u->auth_len == 0) {
        u->bracket = true;
    } else if (!(is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '%' ||
                 c == ':' || c == '[' || c == ']')) {
        /* a '[' or ']' elsewhere is kept: it makes the host invalid, as a
         * browser refuses "http://x[::1]/" rather than going to x */
        return false;
    }
    if (u->auth_len < sizeof(u->auth))
        u->auth[u->auth_len++] = (char)c;
    else
        u->overflow = true;
    return true;
}

/* scan - one byte of the part, after character references (HTML). */
static void scan(struct url_hosts *u, unsigned char c)
{
    if (u->state == S_AUTH) {
        if (auth_byte(u, c)) {
            u->prev = c;
            return;
        }
        end_authority(u, c);
    } else if (u->state == S_COLON || u->state == S_SLASHES) {
        if (c == '/' || c == '\\') {
            u->state = S_SLASHES;
            u->prev = c;
            return;
        }
        if (u->state == S_SLASHES) {
            u->state = S_AUTH;
            u->auth_len = 0;
            if (auth_byte(u, c)) {
                u->prev = c;
                return;
            }
            end_authority(u, c); /* "http:// ": no host */
        }
        u->state = S_TEXT;
    }
    /* S_TEXT: match "http:" or "https:" */
    unsigned char l = lower(c);
    static const char scheme[] = "http";
    if (u->match < 4 && l == (unsigned char)scheme[u->match] &&
        (u->match > 0 || !is_scheme_byte(u->prev)))
        u->match++;
    else if (u->match == 4 && l == 's')
        u->match = 5;
    else if (u->match >= 4 && c == ':') {
        u->match = 0;
        u->state = S_COLON;
    } else
        u->match = (l == 'h' && !is_scheme_byte(u->prev)) ? 1 : 0;
    u->prev = c;
}

/* The named references that stand for an ASCII byte that matters in a URL
 * (HTML5 named character references; names are case-sensitive). */
static const struct {
    const char *name;
    char c;
} named[] = {
    {"amp", '&'},    {"AMP", '&'},          {"lt", '<'},
    {"LT", '<'},     {"gt", '>'},           {"GT", '>'},
    {"quot", '"'},   {"QUOT", '"'},         {"apos", '\''},
    {"period", '.'}, {"colon", ':'},        {"sol", '/'},
    {"bsol", '\\'},  {"commat", '@'},       {"percnt", '%'},
    {"lowbar", '_'}, {"UnderBar", '_'},     {"num", '#'},
    {"quest", '?'},  {"Tab", '\t'},         {"NewLine", '\n'},
    {"lsqb", '['},   {"lbrack", '['},       {"rsqb", ']'},
    {"rbrack", ']'}, {"excl", '!'},         {"equals", '='},
    {"plus", '+'},   {"comma", ','},        {"semi", ';'},
    {"lpar", '('},   {"rpar", ')'},         {"ast", '*'},
    {"midast", '*'}, {"dollar", '$'},       {"grave", '`'},
    {"Hat", '^'},    {"lcub", '{'},         {"lbrace", '{'},
    {"rcub", '}'},   {"rbrace", '}'},       {"verbar", '|'},
    {"vert", '|'},   {"VerticalLine", '|'}, {"DiacriticalGrave", '`'},
};

/* resolve - the pending reference ent[0..ent_len) ("&..." without the
 * ';'), ended by ';' (semi) or by another byte: scan what it stands for. */
static void resolve(struct url_hosts *u, bool semi)
{
    const char *e = u->ent;
    size_t n = u->ent_len, i;
    int out = -1;
    u->ent_len = 0;
    if (n >= 2 && e[1] == '#') {
        bool hex = n >= 3 && (e[2] == 'x' || e[2] == 'X');
        unsigned long v = 0;
        size_t start = hex ? 3 : 2;
        for (i = start; i < n; i++) {
            int d = hex ? str_hex_digit((unsigned char)e[i])
                        : (e[i] >= '0' && e[i] <= '9' ? e[i] - '0' : -1);
            if (d < 0)
                break;
            if (v < 0x110000)
                v = v * (hex ? 16 : 10) + (unsigned long)d;
        }
        if (i == n && n > start) /* NUL and out-of-range give U+FFFD */
            out = (v > 0 && v < 0x80) ? (int)v : NON_ASCII;
    } else if (n >= 2) {
        for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
            size_t l = strlen(named[i].name);
            /* only the legacy four (and their capitals) work without ';' */
            if (l == n - 1 && memcmp(named[i].name, e + 1, l) == 0 && (semi || i < 8)) {
                out = (unsigned char)named[i].c;
                break;
            }
        }
    }
    if (out >= 0) {
        scan(u, (unsigned char)out);
        return;
    }
    for (i = 0; i < n; i++) /* not a reference: the bytes as written */
        scan(u, (unsigned char)e[i]);
    if (semi)
        scan(u, ';');
}

static bool ent_byte(const struct url_hosts *u, unsigned char c)
{
    if (u->ent_len >= sizeof(u->ent))
        return false;
    if (u->ent_len == 1)
        return c == '#' || is_alnum(c);
    if (u->ent[1] != '#')
        return is_alnum(c);
    if (u->ent_len == 2 && (c == 'x' || c == 'X'))
        return true;
    if (u->ent_len >= 3 && (u->ent[2] == 'x' || u->ent[2] == 'X'))
        return str_hex_digit(c) >= 0;
    return c >= '0' && c <= '9';
}

void url_hosts_feed(struct url_hosts *u, const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (u->kind != URL_PART_HTML) {
            scan(u, c);
            continue;
        }
        if (u->ent_len > 0) {
            if (c == ';') {
                resolve(u, true);
                continue;
            }
            if (ent_byte(u, c)) {
                u->ent[u->ent_len++] = (char)c;
                continue;
            }
            resolve(u, false);
        }
        if (c == '&') {
            u->ent[0] = '&';
            u->ent_len = 1;
            continue;
        }
        scan(u, c);
    }
}

void url_hosts_end(struct url_hosts *u)
{
    if (u->ent_len > 0)
        resolve(u, false);
    if (u->state == S_AUTH)
        end_authority(u, -1);
    u->state = S_TEXT;
    u->match = 0;
    u->prev = 0;
    u->auth_len = 0;
    u->overflow = false;
    u->bracket = false;
}

void url_hosts_begin(struct url_hosts *u, enum url_part_kind kind)
{
    url_hosts_end(u);
    u->kind = kind;
}
