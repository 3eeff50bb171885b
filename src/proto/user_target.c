/* user_target - see user_target.h. */
#include "proto/user_target.h"

const char *user_target_status_name(enum user_target_status s)
{
    switch (s) {
    case USER_TARGET_PLAIN:
        return "PLAIN";
    case USER_TARGET_HOST:
        return "HOST";
    case USER_TARGET_SYNTAX:
        return "SYNTAX";
    }
    return "?";
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* has_bad_ctl - a control byte other than HT, or DEL. */
static bool has_bad_ctl(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if (((unsigned char)s.ptr[i] < 0x20 && s.ptr[i] != '\t') || s.ptr[i] == 0x7f)
            return true;
    return false;
}

/* parse_port - ":port" at s (s.len may be 0: no port). */
static bool parse_port(struct str s, uint16_t *port)
{
    *port = 0;
    if (s.len == 0)
        return true;
    if (s.ptr[0] != ':' || s.len < 2 || s.len > 6)
        return false;
    uint32_t v = 0;
    for (size_t i = 1; i < s.len; i++) {
        if (!is_digit(s.ptr[i]))
            return false;
        v = v * 10 + (uint32_t)(s.ptr[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* split_server - "host[:port]" or "[v6][:port]". */
static bool split_server(struct str s, struct user_target *out)
{
    if (s.len == 0)
        return false;
    if (s.ptr[0] == '[') {
        long close = str_find_char(s, ']');
        if (close < 2) /* none, or "[]" */
            return false;
        struct str h = str_make(s.ptr + 1, (size_t)close - 1);
        for (size_t i = 0; i < h.len; i++)
            if (!is_hex(h.ptr[i]) && h.ptr[i] != ':' && h.ptr[i] != '.')
                return false;
        if (str_find_char(h, ':') < 0 || h.len > USER_TARGET_HOST_MAX)
            return false; /* a bracketed IPv4 or name is not an IPv6 literal */
        out->host = h;
        out->ipv6 = true;
        return parse_port(str_make(s.ptr + close + 1, s.len - (size_t)close - 1), &out->port);
    }
    long colon = str_find_char(s, ':');
    size_t hlen = colon < 0 ? s.len : (size_t)colon;
    if (hlen == 0 || hlen > USER_TARGET_HOST_MAX)
        return false;
    for (size_t i = 0; i < hlen; i++)
        if (!is_alnum(s.ptr[i]) && s.ptr[i] != '-' && s.ptr[i] != '.' && s.ptr[i] != '_')
            return false;
    out->host = str_make(s.ptr, hlen);
    out->ipv6 = false;
    return parse_port(str_make(s.ptr + hlen, s.len - hlen), &out->port);
}

enum user_target_status user_target_split(struct str arg, struct user_target *out)
{
    size_t sep = arg.len;
    for (size_t i = arg.len; i > 0; i--)
        if (arg.ptr[i - 1] == '@' || arg.ptr[i - 1] == '#') {
            sep = i - 1;
            break;
        }
    struct user_target t = {.name = arg, .host = str_make(arg.ptr + arg.len, 0)};
    if (sep == arg.len) {
        *out = t;
        return USER_TARGET_PLAIN;
    }
    t.name = str_make(arg.ptr, sep);
    if (t.name.len == 0 || has_bad_ctl(arg))
        return USER_TARGET_SYNTAX;
    for (size_t i = 0; i < t.name.len; i++)
        if (is_blank(t.name.ptr[i]))
            return USER_TARGET_SYNTAX; /* "USER a b@host" would be two words upstream */
    if (!split_server(str_make(arg.ptr + sep + 1, arg.len - sep - 1), &t))
        return USER_TARGET_SYNTAX;
    *out = t;
    return USER_TARGET_HOST;
}
