/* surbl_domain - see surbl_domain.h. */
#include "proto/surbl_domain.h"

#include <string.h>

/* The generic second-level labels of surbl_domain.h, sorted. */
static const char *const generic_sld[] = {
    "ac", "ad",  "co",  "com", "ed",  "edu", "go", "gob", "gov", "gr",
    "lg", "ltd", "mil", "ne",  "net", "nom", "or", "org", "plc", "sch",
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* WHATWG "ends in a number": decimal digits, or 0x/0X and hex digits
 * (possibly none: "0x" is zero). */
static bool is_number(struct str l)
{
    if (l.len >= 2 && l.ptr[0] == '0' && (l.ptr[1] == 'x' || l.ptr[1] == 'X')) {
        for (size_t i = 2; i < l.len; i++)
            if (str_hex_digit((unsigned char)l.ptr[i]) < 0)
                return false;
        return true;
    }
    for (size_t i = 0; i < l.len; i++)
        if (!is_digit(l.ptr[i]))
            return false;
    return l.len > 0;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

enum surbl_host surbl_domain(struct str host, struct str *domain)
{
    *domain = STR_NULL;
    if (host.len > 0 && host.ptr[host.len - 1] == '.')
        host.len--;
    if (host.len == 0)
        return SURBL_NOT_DOMAIN;
    if (host.ptr[0] == '[' || memchr(host.ptr, ':', host.len))
        return SURBL_IP;
    /* the start of each of the last four labels, last first */
    size_t start[4] = {0}, n = 0, end = host.len;
    for (size_t i = host.len + 1; i-- > 0 && n < 4;) {
        if (i == 0 || host.ptr[i - 1] == '.') {
            if (i == end)
                return SURBL_NOT_DOMAIN; /* an empty label */
            start[n++] = i;
            end = i - 1;
        }
    }
    struct str tld = str_make(host.ptr + start[0], host.len - start[0]);
    if (is_number(tld))
        return SURBL_IP;
    size_t want = 2;
    if (n >= 2 && tld.len == 2 && is_alpha(tld.ptr[0]) && is_alpha(tld.ptr[1])) {
        struct str sld = str_make(host.ptr + start[1], start[0] - 1 - start[1]);
        for (size_t i = 0; i < sizeof(generic_sld) / sizeof(generic_sld[0]); i++)
            if (str_caseeq_cstr(sld, generic_sld[i]))
                want = 3;
    }
    if (n < want)
        return SURBL_NOT_DOMAIN;
    *domain = str_make(host.ptr + start[want - 1], host.len - start[want - 1]);
    return SURBL_DOMAIN;
}
