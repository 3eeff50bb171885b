/* Unit tests for proto/base64_strict (RFC 4648 4, canonical only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/base64_strict.h"

static void test_vectors(void **state)
{
    (void)state;
    /* RFC 4648 10 */
    static const struct {
        const char *in, *out;
    } v[] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
        {"AGFsaWNlAHNlY3JldA==", "\0alice\0secret"},
    };
    unsigned char out[64];
    size_t len;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_true(base64_strict_decode(str_from_cstr(v[i].in), out, sizeof(out), &len));
        size_t want = i == 7 ? 13 : strlen(v[i].out);
        assert_int_equal(len, want);
        assert_memory_equal(out, v[i].out, want);
    }
    assert_true(base64_strict_decode(str_from_cstr("+/+/"), out, sizeof(out), &len));
    assert_int_equal(len, 3);
    assert_int_equal(out[0], 0xfb);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "Zg",       /* no padding */
        "Zg=",      /* short */
        "Zg===",    /* too much */
        "Z===",     /* three pads */
        "====",     /* nothing but pads */
        "Zh==",     /* unused bits set */
        "Zm9=",     /* unused bits set */
        "Zm=v",     /* data after padding */
        "Zg==Zg==", /* padding in the middle */
        "Zm9 v",    /* blank */
        "Zm9v\r\n", /* line end */
        "Zm-_",     /* URL-safe alphabet */
        "Zm9\x80",
    };
    unsigned char out[16];
    size_t len;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(base64_strict_decode(str_from_cstr(bad[i]), out, sizeof(out), &len));
    assert_false(base64_strict_decode(str_make("Zm9\0", 4), out, sizeof(out), &len));
}

static void test_bounded(void **state)
{
    (void)state;
    unsigned char out[3];
    size_t len;
    assert_true(base64_strict_decode(str_from_cstr("Zm9v"), out, 3, &len));
    assert_false(base64_strict_decode(str_from_cstr("Zm9vYg=="), out, 3, &len));
    assert_false(base64_strict_decode(str_from_cstr("Zm9v"), out, 2, &len));
}

static void test_encode(void **state)
{
    (void)state;
    /* RFC 4648 10, and back */
    static const char *v[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    char out[16];
    unsigned char back[16];
    size_t len, blen;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i][0]);
        assert_true(
            base64_strict_encode((const unsigned char *)v[i][0], n, out, sizeof(out), &len));
        assert_int_equal(len, BASE64_ENCODED_LEN(n));
        assert_memory_equal(out, v[i][1], len);
        assert_true(base64_strict_decode(str_make(out, len), back, sizeof(back), &blen));
        assert_int_equal(blen, n);
        assert_memory_equal(back, v[i][0], n);
    }
    static const unsigned char hi[] = {0xfb, 0xff, 0x00};
    assert_true(base64_strict_encode(hi, 3, out, sizeof(out), &len));
    assert_memory_equal(out, "+/8A", 4);
    /* one character short: refused whole */
    assert_false(base64_strict_encode((const unsigned char *)"foob", 4, out, 7, &len));
    assert_int_equal(len, 0);
    assert_true(base64_strict_encode((const unsigned char *)"foob", 4, out, 8, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
