/* hosts_allow_parse - tokenizer for conf/hosts.allow, list files and patterns.
 *
 * The text is walked one logical line at a time (physical lines joined by
 * backslash-newline, as tcpd's xgets() does). Before a logical line is
 * tokenized its extent is found and every physical line in it is checked
 * against HOSTS_ALLOW_LINE_MAX, so an over-long line is rejected whole
 * instead of yielding half a rule. Tokens are always copied into the
 * parser's scratch buffer, which is what makes a token that spans a
 * continuation ("a\\\nb" is the token "ab" in tcpd) come out right.
 *
 * Owns nothing outside struct hosts_allow_parser; does no I/O.
 */
#include "proto/hosts_allow_parse.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const field_names[HOSTS_ALLOW_FIELD_COUNT] = {
    [HOSTS_ALLOW_HTTP_FROM] = "http_from",
    [HOSTS_ALLOW_HTTP_TO] = "http_to",
    [HOSTS_ALLOW_HTTP_PASS_TO] = "http_pass_to",
    [HOSTS_ALLOW_SMTP_FROM] = "smtp_from",
    [HOSTS_ALLOW_SMTP_TO] = "smtp_to",
    [HOSTS_ALLOW_SMTP_RCPT] = "smtp_rcpt",
    [HOSTS_ALLOW_SMTP_LAN] = "smtp_lan",
    [HOSTS_ALLOW_POP_FROM] = "pop_from",
    [HOSTS_ALLOW_POP_TO] = "pop_to",
    [HOSTS_ALLOW_FTP_FROM] = "ftp_from",
    [HOSTS_ALLOW_FTP_TO] = "ftp_to",
    [HOSTS_ALLOW_FTP_PASS_TO] = "ftp_pass_to",
    [HOSTS_ALLOW_SPAM_RBL_PASS] = "spam_rbl_pass",
};

/* Longest field name ("spam_rbl_pass") with room to spare. */
#define FIELD_NAME_MAX 32

const char *hosts_allow_field_name(enum hosts_allow_field f)
{
    if ((unsigned)f >= HOSTS_ALLOW_FIELD_COUNT)
        return "FIELD_???";
    return field_names[f];
}

const char *hosts_allow_event_name(enum hosts_allow_event e)
{
    switch (e) {
    case HOSTS_ALLOW_EV_END:
        return "END";
    case HOSTS_ALLOW_EV_RULE:
        return "RULE";
    case HOSTS_ALLOW_EV_PATTERN:
        return "PATTERN";
    case HOSTS_ALLOW_EV_ERROR:
        return "ERROR";
    }
    return "EV_???";
}

const char *hosts_allow_pattern_kind_name(enum hosts_allow_pattern_kind k)
{
    static const char *const names[] = {
        [HOSTS_ALLOW_PAT_ALL] = "ALL",           [HOSTS_ALLOW_PAT_KNOWN] = "KNOWN",
        [HOSTS_ALLOW_PAT_UNKNOWN] = "UNKNOWN",   [HOSTS_ALLOW_PAT_LOCAL] = "LOCAL",
        [HOSTS_ALLOW_PAT_EXCEPT] = "EXCEPT",     [HOSTS_ALLOW_PAT_IP4] = "IP4",
        [HOSTS_ALLOW_PAT_IP4_NET] = "IP4_NET",   [HOSTS_ALLOW_PAT_IP6] = "IP6",
        [HOSTS_ALLOW_PAT_IP6_NET] = "IP6_NET",   [HOSTS_ALLOW_PAT_NAME] = "NAME",
        [HOSTS_ALLOW_PAT_SUFFIX] = "SUFFIX",     [HOSTS_ALLOW_PAT_NAME_PREFIX] = "NAME_PREFIX",
        [HOSTS_ALLOW_PAT_WILDCARD] = "WILDCARD", [HOSTS_ALLOW_PAT_FILE] = "FILE",
    };
    if ((unsigned)k >= sizeof(names) / sizeof(names[0]))
        return "PAT_???";
    return names[k];
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Pattern separators of tcpd's list_match(): ", \t\r\n" (newlines are
 * handled by the callers). */
static bool is_sep(char c)
{
    return is_blank(c) || c == ',';
}

static bool is_ctl(char c)
{
    unsigned char u = (unsigned char)c;
    return (u < 0x20 && c != '\t' && c != '\r' && c != '\n') || u == 0x7f;
}

bool hosts_allow_field_lookup(struct str name, enum hosts_allow_field *out)
{
    char norm[FIELD_NAME_MAX];
    size_t n = 0;
    bool pending_blank = false;

    name = str_trim(name);
    for (size_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        if (is_blank(c)) {
            pending_blank = true;
            continue;
        }
        if (pending_blank) {
            if (n + 1 >= sizeof(norm))
                return false;
            norm[n++] = '_';
            pending_blank = false;
        }
        if (n + 1 >= sizeof(norm))
            return false;
        norm[n++] = (char)ascii_lower((unsigned char)c);
    }
    for (unsigned f = 0; f < HOSTS_ALLOW_FIELD_COUNT; f++) {
        if (str_eq_cstr(str_make(norm, n), field_names[f])) {
            *out = (enum hosts_allow_field)f;
            return true;
        }
    }
    return false;
}

static void parser_reset(struct hosts_allow_parser *p, const char *text, size_t len)
{
    memset(p, 0, sizeof(*p));
    p->text = text;
    p->len = text ? len : 0;
    p->line = 1;
    p->next_line = 1;
}

void hosts_allow_parser_init(struct hosts_allow_parser *p, const char *text, size_t len)
{
    parser_reset(p, text, len);
}

void hosts_allow_list_init(struct hosts_allow_parser *p, const char *text, size_t len)
{
    parser_reset(p, text, len);
    p->list_mode = true;
    p->in_list = true;
    p->line_end = p->len;
}

static enum hosts_allow_event set_error(struct hosts_allow_parser *p, struct hosts_allow_ev *ev,
                                        unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum hosts_allow_event set_error(struct hosts_allow_parser *p, struct hosts_allow_ev *ev,
                                        unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
    va_end(ap);
    ev->type = HOSTS_ALLOW_EV_ERROR;
    ev->line = line;
    ev->reason = p->reason;
    return HOSTS_ALLOW_EV_ERROR;
}

/* cont_len - length of a backslash-newline at i ("\\\n", or "\\\r\n" which
 * tcpd would not join; we do, for files edited on Windows), 0 if none. Only
 * newlines before line_end belong to the current logical line. */
static size_t cont_len(const struct hosts_allow_parser *p, size_t i)
{
    const char *t = p->text;
    if (p->list_mode || i >= p->line_end || t[i] != '\\')
        return 0;
    if (i + 1 < p->line_end && t[i + 1] == '\n')
        return 2;
    if (i + 2 < p->line_end && t[i + 1] == '\r' && t[i + 2] == '\n')
        return 3;
    return 0;
}

/* skip_logical_line - drop the rest of the current logical line (hosts.allow
 * mode) or physical line (list mode). */
static void skip_logical_line(struct hosts_allow_parser *p)
{
    if (p->list_mode) {
        const char *nl = memchr(p->text + p->pos, '\n', p->len - p->pos);
        if (nl) {
            p->pos = (size_t)(nl - p->text) + 1;
            p->line++;
        } else {
            p->pos = p->len;
        }
        return;
    }
    p->pos = p->line_end < p->len ? p->line_end + 1 : p->len;
    p->line = p->next_line;
    p->in_list = false;
}

/* find_logical_line - set line_end/next_line for the logical line starting
 * at pos. Returns the number of the first physical line that is too long,
 * or 0. */
static unsigned find_logical_line(struct hosts_allow_parser *p)
{
    const char *t = p->text;
    size_t i = p->pos;
    unsigned ln = p->line, too_long = 0;

    for (;;) {
        const char *nl = memchr(t + i, '\n', p->len - i);
        size_t e = nl ? (size_t)(nl - t) : p->len;
        size_t plen = e - i;
        if (nl && plen > 0 && t[e - 1] == '\r')
            plen--;
        if (plen > HOSTS_ALLOW_LINE_MAX && too_long == 0)
            too_long = ln;
        if (!nl) {
            p->line_end = p->len;
            break;
        }
        bool joined =
            (e > i && t[e - 1] == '\\') || (e >= i + 2 && t[e - 1] == '\r' && t[e - 2] == '\\');
        if (!joined) {
            p->line_end = e;
            break;
        }
        i = e + 1;
        ln++;
    }
    p->next_line = ln + 1;
    return too_long;
}

/* at_line_start - only blanks between the previous newline and pos. */
static bool at_line_start(const struct hosts_allow_parser *p)
{
    size_t i = p->pos;
    while (i > 0) {
        char c = p->text[i - 1];
        if (c == '\n')
            return true;
        if (!is_blank(c))
            return false;
        i--;
    }
    return true;
}

enum lex_result {
    LEX_TOKEN = 0,
    LEX_EOL,
    LEX_ERROR,
};

/* lex_token - next pattern token of the current logical line into p->tok. */
static enum lex_result lex_token(struct hosts_allow_parser *p, struct hosts_allow_ev *ev)
{
    const char *t = p->text;
    size_t cl;

    for (;;) {
        if (p->pos >= p->line_end)
            return LEX_EOL;
        char c = t[p->pos];
        if ((cl = cont_len(p, p->pos)) != 0) {
            p->pos += cl;
            p->line++;
        } else if (is_sep(c)) {
            p->pos++;
        } else if (c == '\n') {
            p->pos++;
            p->line++;
        } else if (c == '#' && p->list_mode && at_line_start(p)) {
            const char *nl = memchr(t + p->pos, '\n', p->len - p->pos);
            p->pos = nl ? (size_t)(nl - t) : p->len;
        } else {
            break;
        }
    }

    unsigned start_line = p->line;
    size_t n = 0;
    while (p->pos < p->line_end) {
        char c = t[p->pos];
        if ((cl = cont_len(p, p->pos)) != 0) {
            p->pos += cl;
            p->line++;
            continue;
        }
        if (is_sep(c) || c == '\n')
            break;
        if (is_ctl(c)) {
            set_error(p, ev, p->line, "control character 0x%02x in pattern list",
                      (unsigned)(unsigned char)c);
            return LEX_ERROR;
        }
        if (c == '#') {
            set_error(p, ev, p->line, "'#' starts a comment only at the beginning of a line");
            return LEX_ERROR;
        }
        if (n >= HOSTS_ALLOW_TOKEN_MAX) {
            set_error(p, ev, start_line, "pattern longer than %d bytes", HOSTS_ALLOW_TOKEN_MAX);
            return LEX_ERROR;
        }
        p->tok[n++] = c;
        p->pos++;
    }
    p->tok[n] = '\0';
    ev->type = HOSTS_ALLOW_EV_PATTERN;
    ev->token = str_make(p->tok, n);
    ev->line = start_line;
    return LEX_TOKEN;
}

/* start_rule - parse "field[, field]:" at the start of a logical line. */
static enum hosts_allow_event start_rule(struct hosts_allow_parser *p, struct hosts_allow_ev *ev)
{
    const char *t = p->text;
    unsigned rule_line = p->line;
    size_t n = 0, cl;
    bool colon = false;

    while (p->pos < p->line_end) {
        char c = t[p->pos];
        if ((cl = cont_len(p, p->pos)) != 0) {
            p->pos += cl;
            p->line++;
            continue;
        }
        if (c == ':') {
            p->pos++;
            colon = true;
            break;
        }
        if (is_ctl(c) || c == '\n') {
            set_error(p, ev, p->line, "control character 0x%02x in field name",
                      (unsigned)(unsigned char)c);
            skip_logical_line(p);
            return HOSTS_ALLOW_EV_ERROR;
        }
        if (n >= HOSTS_ALLOW_TOKEN_MAX) {
            set_error(p, ev, rule_line, "field name longer than %d bytes", HOSTS_ALLOW_TOKEN_MAX);
            skip_logical_line(p);
            return HOSTS_ALLOW_EV_ERROR;
        }
        p->tok[n++] = c;
        p->pos++;
    }
    if (!colon) {
        set_error(p, ev, rule_line, "missing ':' after the field name");
        skip_logical_line(p);
        return HOSTS_ALLOW_EV_ERROR;
    }

    /* A comma-separated list of fields, like tcpd's daemon_list. */
    unsigned fields = 0;
    struct str rest = str_make(p->tok, n), item;
    for (;;) {
        bool more = str_cut(rest, ',', &item, &rest);
        enum hosts_allow_field f;
        item = str_trim(item);
        if (item.len == 0) {
            set_error(p, ev, rule_line, "empty field name");
            skip_logical_line(p);
            return HOSTS_ALLOW_EV_ERROR;
        }
        if (!hosts_allow_field_lookup(item, &f)) {
            set_error(p, ev, rule_line, "unknown field '%.*s'",
                      (int)(item.len > 64 ? 64 : item.len), item.ptr);
            skip_logical_line(p);
            return HOSTS_ALLOW_EV_ERROR;
        }
        fields |= 1u << f;
        if (!more)
            break;
    }
    p->in_list = true;
    ev->type = HOSTS_ALLOW_EV_RULE;
    ev->fields = fields;
    ev->line = rule_line;
    return HOSTS_ALLOW_EV_RULE;
}

enum hosts_allow_event hosts_allow_next(struct hosts_allow_parser *p, struct hosts_allow_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    for (;;) {
        if (p->in_list) {
            switch (lex_token(p, ev)) {
            case LEX_TOKEN:
                return HOSTS_ALLOW_EV_PATTERN;
            case LEX_ERROR:
                skip_logical_line(p);
                return HOSTS_ALLOW_EV_ERROR;
            case LEX_EOL:
                if (p->list_mode) {
                    p->pos = p->len;
                    ev->type = HOSTS_ALLOW_EV_END;
                    return HOSTS_ALLOW_EV_END;
                }
                skip_logical_line(p);
                continue;
            }
        }
        if (p->pos >= p->len) {
            ev->type = HOSTS_ALLOW_EV_END;
            return HOSTS_ALLOW_EV_END;
        }
        unsigned too_long = find_logical_line(p);
        if (too_long) {
            set_error(p, ev, too_long, "line longer than %d bytes", HOSTS_ALLOW_LINE_MAX);
            skip_logical_line(p);
            return HOSTS_ALLOW_EV_ERROR;
        }
        /* Skip leading blanks; a blank or comment logical line is dropped
         * whole (a comment ending in a backslash swallows the next line,
         * as in tcpd). */
        size_t cl;
        while (p->pos < p->line_end) {
            if ((cl = cont_len(p, p->pos)) != 0) {
                p->pos += cl;
                p->line++;
            } else if (is_blank(p->text[p->pos])) {
                p->pos++;
            } else {
                break;
            }
        }
        if (p->pos >= p->line_end || p->text[p->pos] == '#') {
            skip_logical_line(p);
            continue;
        }
        return start_rule(p, ev);
    }
}

/* ---- pattern classification ---- */

static bool fail(char *reason, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(char *reason, size_t cap, const char *fmt, ...)
{
    if (reason && cap > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, cap, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* Show at most this much of a bad token in a message. */
#define SHOW_MAX 80
#define SHOW(s)  (int)((s).len > SHOW_MAX ? SHOW_MAX : (s).len), (s).ptr

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* parse_octets - "a", "a.b", ..., decimal octets 0..255 without leading
 * zeros (tcpd compares address text, so "010" could never match), at most
 * max_octets of them. Returns the count (0 on error); *out holds the octets
 * left-aligned in host order. */
static unsigned parse_octets(struct str s, unsigned max_octets, uint32_t *out)
{
    size_t i = 0;
    unsigned n = 0;
    uint32_t v = 0;

    if (s.len == 0)
        return 0;
    while (i < s.len) {
        size_t start = i;
        unsigned o = 0;
        if (n == max_octets)
            return 0;
        while (i < s.len && is_digit(s.ptr[i])) {
            if (i - start >= 3)
                return 0;
            o = o * 10 + (unsigned)(s.ptr[i] - '0');
            i++;
        }
        if (i == start || o > 255 || (i - start > 1 && s.ptr[start] == '0'))
            return 0;
        v = (v << 8) | o;
        n++;
        if (i < s.len) {
            if (s.ptr[i] != '.' || i + 1 == s.len)
                return 0;
            i++;
        }
    }
    *out = n < 4 ? v << (8 * (4 - n)) : v;
    return n;
}

static bool parse_ip4(struct str s, uint32_t *out)
{
    return parse_octets(s, 4, out) == 4;
}

static uint32_t prefix_mask4(unsigned len)
{
    return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

static bool parse_ip6(struct str s, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    if (s.len == 0 || s.len >= sizeof(buf))
        return false;
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1;
}

static bool is_v4_mapped(const uint8_t a[16])
{
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static uint32_t mapped_v4(const uint8_t a[16])
{
    return (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 | (uint32_t)a[14] << 8 | a[15];
}

/* set_ip6 - fill an IP6/IP6_NET pattern (prefix 128 = exact), turning an
 * IPv4-mapped network into the IPv4 one (clients are matched that way). */
static void set_ip6(struct hosts_allow_pattern *out, const uint8_t a[16], unsigned prefix)
{
    memcpy(out->ip6, a, 16);
    for (unsigned bit = prefix; bit < 128; bit++)
        out->ip6[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
    if (prefix >= 96 && is_v4_mapped(out->ip6)) {
        out->ip4 = mapped_v4(out->ip6);
        if (prefix == 128) {
            out->kind = HOSTS_ALLOW_PAT_IP4;
        } else {
            out->kind = HOSTS_ALLOW_PAT_IP4_NET;
            out->ip4_mask = prefix_mask4(prefix - 96);
        }
        return;
    }
    if (prefix == 128) {
        out->kind = HOSTS_ALLOW_PAT_IP6;
    } else {
        out->kind = HOSTS_ALLOW_PAT_IP6_NET;
        out->ip6_prefix = prefix;
    }
}

static bool only_digits_dots(struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!is_digit(s.ptr[i]) && s.ptr[i] != '.')
            return false;
    }
    return true;
}

/* name_char_ok - bytes allowed in name, suffix, prefix and wildcard
 * patterns: letters, digits, '-', '_', '.', and UTF-8 (IDN written raw). */
static bool name_char_ok(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || is_digit(c) || c == '-' ||
           c == '_' || c == '.' || u >= 0x80;
}

static bool parse_ip4_net(struct str tok, struct str net, struct str mask,
                          struct hosts_allow_pattern *out, char *reason, size_t cap)
{
    uint32_t addr, m;
    uint64_t len;

    if (!parse_ip4(net, &addr))
        return fail(reason, cap, "invalid network address in '%.*s'", SHOW(tok));
    if (str_find_char(mask, '.') >= 0) {
        if (!parse_ip4(mask, &m))
            return fail(reason, cap, "invalid netmask in '%.*s'", SHOW(tok));
        /* Guide 7.2 and hosts_access(5): 255.255.255.255 is not a valid
         * mask (it is INADDR_NONE to tcpd); a single host is its address. */
        if (m == 0xffffffffu)
            return fail(reason, cap, "netmask 255.255.255.255 is not allowed, write '%.*s' alone",
                        SHOW(net));
    } else {
        if (!str_to_u64(mask, 32, &len))
            return fail(reason, cap, "invalid netmask or prefix length in '%.*s'", SHOW(tok));
        m = prefix_mask4((unsigned)len);
    }
    if ((addr & ~m) != 0)
        return fail(reason, cap,
                    "network '%.*s' has bits outside its mask (it would match nothing)", SHOW(tok));
    out->kind = HOSTS_ALLOW_PAT_IP4_NET;
    out->ip4 = addr;
    out->ip4_mask = m;
    return true;
}

static bool parse_ip6_with_prefix(struct str tok, struct str addr, struct str prefix,
                                  bool has_prefix, struct hosts_allow_pattern *out, char *reason,
                                  size_t cap)
{
    uint8_t a[16];
    uint64_t len = 128;

    if (!parse_ip6(addr, a))
        return fail(reason, cap, "invalid IPv6 address in '%.*s'", SHOW(tok));
    if (has_prefix && !str_to_u64(prefix, 128, &len))
        return fail(reason, cap, "invalid IPv6 prefix length in '%.*s'", SHOW(tok));
    /* Host bits of the network are cleared, as tcpd's masked_match6 does. */
    set_ip6(out, a, (unsigned)len);
    return true;
}

static bool parse_bracketed(struct str tok, struct hosts_allow_pattern *out, char *reason,
                            size_t cap)
{
    long close = str_find_char(tok, ']');
    if (close < 0)
        return fail(reason, cap, "missing ']' in '%.*s'", SHOW(tok));
    struct str inner = str_make(tok.ptr + 1, (size_t)close - 1);
    struct str rest = str_make(tok.ptr + close + 1, tok.len - (size_t)close - 1);
    if (rest.len == 0) {
        /* tcpd strips the brackets of any token, so "[10.0.0.1]" is IPv4. */
        if (parse_ip4(inner, &out->ip4)) {
            out->kind = HOSTS_ALLOW_PAT_IP4;
            return true;
        }
        return parse_ip6_with_prefix(tok, inner, STR_NULL, false, out, reason, cap);
    }
    if (rest.ptr[0] != '/')
        return fail(reason, cap, "unexpected text after ']' in '%.*s'", SHOW(tok));
    return parse_ip6_with_prefix(tok, inner, str_make(rest.ptr + 1, rest.len - 1), true, out,
                                 reason, cap);
}

static bool parse_slash(struct str tok, long slash, struct hosts_allow_pattern *out, char *reason,
                        size_t cap)
{
    struct str net = str_make(tok.ptr, (size_t)slash);
    struct str mask = str_make(tok.ptr + slash + 1, tok.len - (size_t)slash - 1);

    if (str_find_char(net, '*') >= 0 || str_find_char(net, '?') >= 0)
        return fail(reason, cap, "wildcards cannot be combined with a netmask in '%.*s'",
                    SHOW(tok));
    if (str_find_char(net, ':') >= 0)
        return parse_ip6_with_prefix(tok, net, mask, true, out, reason, cap);
    if (net.len > 0 && only_digits_dots(net))
        return parse_ip4_net(tok, net, mask, out, reason, cap);
    return fail(reason, cap, "'%.*s' is neither net/mask nor an absolute list file path",
                SHOW(tok));
}

static bool parse_name_like(struct str tok, struct hosts_allow_pattern *out, char *reason,
                            size_t cap)
{
    bool wild = false;
    for (size_t i = 0; i < tok.len; i++) {
        char c = tok.ptr[i];
        if (c == '*' || c == '?') {
            wild = true;
            continue;
        }
        if (!name_char_ok(c))
            return fail(reason, cap, "invalid character '%c' in host name pattern '%.*s'", c,
                        SHOW(tok));
    }
    if (tok.len > HOSTS_ALLOW_NAME_MAX)
        return fail(reason, cap, "host name pattern longer than %d bytes", HOSTS_ALLOW_NAME_MAX);
    bool lead = tok.ptr[0] == '.', trail = tok.ptr[tok.len - 1] == '.';
    if (wild) {
        /* hosts_access(5): wildcards cannot be used with .domain or a.b. */
        if (lead || trail)
            return fail(reason, cap,
                        "wildcards cannot be combined with a leading or trailing '.' in '%.*s'",
                        SHOW(tok));
        out->kind = HOSTS_ALLOW_PAT_WILDCARD;
        return true;
    }
    if (lead) {
        if (tok.len < 2 || trail)
            return fail(reason, cap, "invalid domain pattern '%.*s'", SHOW(tok));
        out->kind = HOSTS_ALLOW_PAT_SUFFIX;
        return true;
    }
    out->kind = trail ? HOSTS_ALLOW_PAT_NAME_PREFIX : HOSTS_ALLOW_PAT_NAME;
    return true;
}

bool hosts_allow_pattern_parse(struct str tok, struct hosts_allow_pattern *out, char *reason,
                               size_t cap)
{
    static const struct {
        const char *word;
        enum hosts_allow_pattern_kind kind;
    } keywords[] = {
        {"ALL", HOSTS_ALLOW_PAT_ALL},         {"KNOWN", HOSTS_ALLOW_PAT_KNOWN},
        {"UNKNOWN", HOSTS_ALLOW_PAT_UNKNOWN}, {"LOCAL", HOSTS_ALLOW_PAT_LOCAL},
        {"EXCEPT", HOSTS_ALLOW_PAT_EXCEPT},
    };

    memset(out, 0, sizeof(*out));
    out->text = tok;
    if (tok.len == 0)
        return fail(reason, cap, "empty pattern");
    if (tok.len > HOSTS_ALLOW_TOKEN_MAX)
        return fail(reason, cap, "pattern longer than %d bytes", HOSTS_ALLOW_TOKEN_MAX);
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (str_caseeq_cstr(tok, keywords[i].word)) {
            out->kind = keywords[i].kind;
            return true;
        }
    }
    if (str_caseeq_cstr(tok, "PARANOID"))
        return fail(reason, cap, "PARANOID is not supported");
    for (size_t i = 0; i < tok.len; i++) {
        if (is_ctl(tok.ptr[i]) || tok.ptr[i] == ' ' || tok.ptr[i] == '\n')
            return fail(reason, cap, "control character or blank in pattern");
    }
    if (tok.ptr[0] == '/') {
        out->kind = HOSTS_ALLOW_PAT_FILE;
        return true;
    }
    if (str_find_char(tok, '@') >= 0)
        return fail(reason, cap, "user@host and @netgroup patterns are not supported ('%.*s')",
                    SHOW(tok));
    if (tok.ptr[0] == '[')
        return parse_bracketed(tok, out, reason, cap);
    long slash = str_find_char(tok, '/');
    if (slash >= 0)
        return parse_slash(tok, slash, out, reason, cap);
    if (str_find_char(tok, ':') >= 0) {
        if (!parse_ip6_with_prefix(tok, tok, STR_NULL, false, out, reason, cap))
            return fail(reason, cap,
                        "invalid IPv6 address '%.*s' (tcpd ': option' fields are not supported)",
                        SHOW(tok));
        return true;
    }
    if (only_digits_dots(tok)) {
        if (tok.ptr[0] == '.')
            return fail(reason, cap, "address suffix patterns are not supported ('%.*s')",
                        SHOW(tok));
        if (tok.ptr[tok.len - 1] == '.') {
            unsigned n = parse_octets(str_make(tok.ptr, tok.len - 1), 3, &out->ip4);
            if (n == 0)
                return fail(reason, cap, "invalid address prefix '%.*s'", SHOW(tok));
            out->kind = HOSTS_ALLOW_PAT_IP4_NET;
            out->ip4_mask = prefix_mask4(8 * n);
            return true;
        }
        if (!parse_ip4(tok, &out->ip4))
            return fail(reason, cap, "invalid IPv4 address '%.*s'", SHOW(tok));
        out->kind = HOSTS_ALLOW_PAT_IP4;
        return true;
    }
    if (str_find_char(tok, ']') >= 0)
        return fail(reason, cap, "unexpected ']' in '%.*s'", SHOW(tok));
    return parse_name_like(tok, out, reason, cap);
}
