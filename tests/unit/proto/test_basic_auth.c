/* Unit tests for proto/basic_auth: RFC 7617 credentials in a
 * Proxy-Authorization value, every refusal and the 255/256 bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/basic_auth.h"

#define S(lit) str_make((lit), sizeof(lit) - 1)

/* header - "Basic " and the base64 of raw[0..n) in out, as a view. */
static struct str header(const void *raw, size_t n, char *out, size_t cap)
{
    size_t len;
    memcpy(out, "Basic ", 6);
    assert_true(base64_strict_encode(raw, n, out + 6, cap - 6, &len));
    return str_make(out, 6 + len);
}

static void test_rfc7617(void **state)
{
    (void)state;
    struct basic_auth a;
    /* RFC 7617 2 */
    assert_int_equal(basic_auth_parse(S("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &a), BASIC_AUTH_OK);
    assert_string_equal(a.user, "Aladdin");
    assert_int_equal(a.user_len, 7);
    assert_string_equal(a.password, "open sesame");
    assert_int_equal(a.password_len, 11);
    /* RFC 7617 2.1: UTF-8 bytes are kept */
    assert_int_equal(basic_auth_parse(S("Basic dGVzdDoxMjPCow=="), &a), BASIC_AUTH_OK);
    assert_string_equal(a.user, "test");
    assert_string_equal(a.password, "123\xc2\xa3");
    /* scheme in any case, blanks around the token */
    assert_int_equal(basic_auth_parse(S("bAsIc \t QWxhZGRpbjpvcGVuIHNlc2FtZQ== \t"), &a),
                     BASIC_AUTH_OK);
    assert_string_equal(a.user, "Aladdin");
    assert_int_equal(basic_auth_parse(S("BASIC\tQWxhZGRpbjpvcGVuIHNlc2FtZQ=="), &a), BASIC_AUTH_OK);
    /* an empty password; the first ':' splits */
    assert_int_equal(basic_auth_parse(S("Basic dXNlcjo="), &a), BASIC_AUTH_OK);
    assert_string_equal(a.user, "user");
    assert_int_equal(a.password_len, 0);
    assert_string_equal(a.password, "");
    assert_int_equal(basic_auth_parse(S("Basic dXNlcjpwYTpzcw=="), &a), BASIC_AUTH_OK);
    assert_string_equal(a.user, "user");
    assert_string_equal(a.password, "pa:ss");
    assert_string_equal(basic_auth_result_name(BASIC_AUTH_OK), "OK");
    assert_string_equal(basic_auth_result_name((enum basic_auth_result)9), "?");
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *v;
        enum basic_auth_result want;
    } v[] = {
        {"", BASIC_AUTH_OTHER_SCHEME},
        {"Digest username=\"a\"", BASIC_AUTH_OTHER_SCHEME},
        {"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==", BASIC_AUTH_OTHER_SCHEME},
        {"NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=", BASIC_AUTH_OTHER_SCHEME},
        {"BasicQWxhZGRpbjpvcGVuIHNlc2FtZQ==", BASIC_AUTH_OTHER_SCHEME},
        {" Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", BASIC_AUTH_OTHER_SCHEME},
        {"Basi QWxhZGRpbjpvcGVuIHNlc2FtZQ==", BASIC_AUTH_OTHER_SCHEME},
        {"Basic", BASIC_AUTH_BAD_BASE64},
        {"Basic ", BASIC_AUTH_BAD_BASE64},
        {"Basic  \t", BASIC_AUTH_BAD_BASE64},
        {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ", BASIC_AUTH_BAD_BASE64},   /* no padding */
        {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZR==", BASIC_AUTH_BAD_BASE64}, /* unused bits */
        {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== x", BASIC_AUTH_BAD_BASE64},
        {"Basic QWxhZGRp bjpvcGVuIHNlc2FtZQ==", BASIC_AUTH_BAD_BASE64},
        {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n", BASIC_AUTH_BAD_BASE64},
        {"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ-_", BASIC_AUTH_BAD_BASE64}, /* URL-safe */
        {"Basic dXNlcg==", BASIC_AUTH_MALFORMED},                      /* "user": no ':' */
        {"Basic OnB3", BASIC_AUTH_MALFORMED},                          /* ":pw": empty user */
        {"Basic dXMBZXI6cHc=", BASIC_AUTH_MALFORMED},                  /* 0x01 in the user */
        {"Basic dXNlcjpwf3c=", BASIC_AUTH_MALFORMED},                  /* DEL in the password */
        {"Basic AA==", BASIC_AUTH_MALFORMED},                          /* a NUL */
    };
    struct basic_auth a;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        memset(&a, 0x55, sizeof(a));
        assert_int_equal(basic_auth_parse(str_from_cstr(v[i].v), &a), v[i].want);
        assert_int_equal(a.user_len, 0);
        assert_int_equal(a.password_len, 0);
        assert_int_equal(a.user[0], 0);
        assert_int_equal(a.password[0], 0);
    }
    /* a NUL, CR, LF or tab inside the decoded fields */
    char h[64];
    static const char *ctl[] = {"us\0er:pw", "user:p\0w", "user:p\rw", "us\ner:pw", "user:p\tw"};
    for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++)
        assert_int_equal(basic_auth_parse(header(ctl[i], 8, h, sizeof(h)), &a),
                         BASIC_AUTH_MALFORMED);
    assert_int_equal(basic_auth_parse(str_make("Basic\0dXNlcjo=", 14), &a),
                     BASIC_AUTH_OTHER_SCHEME);
}

static void test_bounds(void **state)
{
    (void)state;
    static char raw[1024], h[2048];
    struct basic_auth a;
    memset(raw, 'u', 255);
    raw[255] = ':';
    memset(raw + 256, 'p', 255);
    struct str longest = header(raw, 511, h, sizeof(h));
    assert_int_equal(longest.len, 6 + BASIC_AUTH_B64_MAX);
    assert_int_equal(basic_auth_parse(longest, &a), BASIC_AUTH_OK);
    assert_int_equal(a.user_len, 255);
    assert_int_equal(strlen(a.user), 255);
    assert_int_equal(a.password_len, 255);
    assert_int_equal(strlen(a.password), 255);
    /* a 256-byte password: refused (its base64 is still within the bound) */
    memset(raw, 'u', 254);
    raw[254] = ':';
    memset(raw + 255, 'p', 256);
    assert_int_equal(basic_auth_parse(header(raw, 511, h, sizeof(h)), &a), BASIC_AUTH_MALFORMED);
    assert_int_equal(a.password_len, 0);
    /* a 256-byte user */
    memset(raw, 'u', 256);
    raw[256] = ':';
    memset(raw + 257, 'p', 10);
    assert_int_equal(basic_auth_parse(header(raw, 267, h, sizeof(h)), &a), BASIC_AUTH_MALFORMED);
    /* longer than any credentials */
    memset(raw, 'u', 255);
    raw[255] = ':';
    memset(raw + 256, 'p', 256);
    assert_int_equal(basic_auth_parse(header(raw, 512, h, sizeof(h)), &a), BASIC_AUTH_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7617),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
