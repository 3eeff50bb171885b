/* basic_auth - see basic_auth.h. */
#include "proto/basic_auth.h"

#include <string.h>

const char *basic_auth_result_name(enum basic_auth_result r)
{
    switch (r) {
    case BASIC_AUTH_OK:
        return "OK";
    case BASIC_AUTH_OTHER_SCHEME:
        return "OTHER_SCHEME";
    case BASIC_AUTH_BAD_BASE64:
        return "BAD_BASE64";
    case BASIC_AUTH_MALFORMED:
        return "MALFORMED";
    }
    return "?";
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* field_ok - n bytes with no CTL (RFC 7617 2), at least min of them. */
static bool field_ok(const unsigned char *p, size_t n, size_t min)
{
    if (n < min || n > BASIC_AUTH_FIELD_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
    return true;
}

enum basic_auth_result basic_auth_parse(struct str v, struct basic_auth *out)
{
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    while (i < v.len && !is_blank(v.ptr[i]))
        i++;
    if (!str_caseeq_cstr(str_make(v.ptr, i), "Basic"))
        return BASIC_AUTH_OTHER_SCHEME;
    size_t start = i;
    while (i < v.len && is_blank(v.ptr[i]))
        i++;
    if (i == start)
        return BASIC_AUTH_BAD_BASE64; /* "Basic" alone */
    start = i;
    while (i < v.len && !is_blank(v.ptr[i]))
        i++;
    struct str b64 = str_make(v.ptr + start, i - start);
    while (i < v.len && is_blank(v.ptr[i]))
        i++;
    if (i != v.len) /* a second word: not one token68 (RFC 9110 11.1) */
        return BASIC_AUTH_BAD_BASE64;
    if (b64.len > BASIC_AUTH_B64_MAX)
        return BASIC_AUTH_MALFORMED;
    unsigned char tmp[BASE64_DECODED_MAX(BASIC_AUTH_B64_MAX)];
    size_t n;
    enum basic_auth_result r = BASIC_AUTH_BAD_BASE64;
    if (b64.len == 0 || !base64_strict_decode(b64, tmp, sizeof(tmp), &n))
        goto out;
    r = BASIC_AUTH_MALFORMED;
    const unsigned char *colon = memchr(tmp, ':', n);
    if (!colon)
        goto out;
    size_t u = (size_t)(colon - tmp);
    size_t p = n - u - 1;
    if (!field_ok(tmp, u, 1) || !field_ok(colon + 1, p, 0))
        goto out;
    memcpy(out->user, tmp, u);
    out->user[u] = '\0';
    out->user_len = u;
    memcpy(out->password, colon + 1, p);
    out->password[p] = '\0';
    out->password_len = p;
    r = BASIC_AUTH_OK;
out:
    explicit_bzero(tmp, sizeof(tmp));
    return r;
}
