/* fuzz_basic_auth - libFuzzer target for proto/basic_auth.
 *
 * The input is read two ways. As a header value: an accepted one must be
 * "Basic" (any case), blanks, the base64 of "user:password" encoded again
 * from the outputs (so only canonical base64 passes), and nothing but
 * blanks after it; the user 1..BASIC_AUTH_FIELD_MAX bytes without ':',
 * the password 0..BASIC_AUTH_FIELD_MAX, both NUL-terminated and free of
 * control characters; OTHER_SCHEME only when the first word is not
 * "Basic"; a refusal leaves the output zeroed. As raw credentials: "Basic "
 * and their base64 is accepted exactly when the bytes meet RFC 7617's
 * rules as basic_auth.h states them, checked by a separate reading, and
 * gives back the same bytes (empty credentials are BAD_BASE64: "Basic "
 * carries no token).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/base64_strict.h"
#include "proto/basic_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static bool no_ctl(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
    return true;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

static void check_value(struct str in)
{
    static struct basic_auth a;
    enum basic_auth_result r = basic_auth_parse(in, &a);
    bool basic = in.len >= 5 && str_caseeq_cstr(str_make(in.ptr, 5), "Basic") &&
                 (in.len == 5 || blank(in.ptr[5]));
    if (r != BASIC_AUTH_OK) {
        if (!all_zero(&a, sizeof(a)) || (r == BASIC_AUTH_OTHER_SCHEME) == basic)
            abort();
        return;
    }
    if (!basic || a.user_len < 1 || a.user_len > BASIC_AUTH_FIELD_MAX ||
        a.password_len > BASIC_AUTH_FIELD_MAX || a.user[a.user_len] != '\0' ||
        a.password[a.password_len] != '\0' || memchr(a.user, ':', a.user_len) ||
        !no_ctl((const unsigned char *)a.user, a.user_len) ||
        !no_ctl((const unsigned char *)a.password, a.password_len))
        abort();
    unsigned char raw[BASIC_AUTH_DECODED_MAX];
    memcpy(raw, a.user, a.user_len);
    raw[a.user_len] = ':';
    memcpy(raw + a.user_len + 1, a.password, a.password_len);
    char back[BASIC_AUTH_B64_MAX];
    size_t blen;
    if (!base64_strict_encode(raw, a.user_len + 1 + a.password_len, back, sizeof(back), &blen))
        abort();
    size_t i = 5;
    while (i < in.len && blank(in.ptr[i]))
        i++;
    if (i == 5 || in.len - i < blen || memcmp(in.ptr + i, back, blen) != 0)
        abort();
    for (i += blen; i < in.len; i++)
        if (!blank(in.ptr[i]))
            abort();
}

static void check_raw(const uint8_t *data, size_t size)
{
    static char h[6 + BASE64_ENCODED_LEN(2048)];
    size_t len;
    if (size > 2048)
        return;
    memcpy(h, "Basic ", 6);
    if (!base64_strict_encode(data, size, h + 6, sizeof(h) - 6, &len))
        abort();
    const uint8_t *colon = memchr(data, ':', size);
    bool want = false;
    if (colon) {
        size_t u = (size_t)(colon - data), p = size - u - 1;
        want = u >= 1 && u <= BASIC_AUTH_FIELD_MAX && p <= BASIC_AUTH_FIELD_MAX &&
               no_ctl(data, u) && no_ctl(colon + 1, p);
    }
    static struct basic_auth a;
    enum basic_auth_result r = basic_auth_parse(str_make(h, 6 + len), &a);
    /* no credentials at all ("Basic ") are no base64 token */
    enum basic_auth_result refusal = size == 0 ? BASIC_AUTH_BAD_BASE64 : BASIC_AUTH_MALFORMED;
    if ((r == BASIC_AUTH_OK) != want || (r != BASIC_AUTH_OK && r != refusal))
        abort();
    if (r == BASIC_AUTH_OK &&
        (a.user_len + 1 + a.password_len != size || memcmp(a.user, data, a.user_len) != 0 ||
         memcmp(a.password, colon + 1, a.password_len) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_value(str_make((const char *)data, size));
    check_raw(data, size);
    return 0;
}
