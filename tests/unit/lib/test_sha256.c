/* Unit tests for lib/sha256: FIPS 180-4 example vectors, and incremental
 * updates in every split against one-shot hashing (checked against
 * sha256sum output for the same bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/sha256.h"

static void hex(const uint8_t d[SHA256_DIGEST_LEN], char out[65])
{
    for (int i = 0; i < SHA256_DIGEST_LEN; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void digest_of(const void *p, size_t n, char out[65])
{
    struct sha256 c;
    uint8_t d[SHA256_DIGEST_LEN];
    sha256_init(&c);
    sha256_update(&c, p, n);
    sha256_final(&c, d);
    hex(d, out);
}

static void test_vectors(void **state)
{
    (void)state;
    char h[65];
    digest_of("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_of("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    digest_of(two, strlen(two), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a(void **state)
{
    (void)state;
    static char a[1000000];
    memset(a, 'a', sizeof(a));
    char h[65];
    digest_of(a, sizeof(a), h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_splits(void **state)
{
    (void)state;
    uint8_t data[300];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 7 + 3);
    for (size_t len = 0; len <= sizeof(data); len += 13) {
        char whole[65];
        digest_of(data, len, whole);
        for (size_t cut = 0; cut <= len; cut += 5) {
            struct sha256 c;
            uint8_t d[SHA256_DIGEST_LEN];
            char h[65];
            sha256_init(&c);
            sha256_update(&c, data, cut);
            sha256_update(&c, data + cut, len - cut);
            sha256_final(&c, d);
            hex(d, h);
            assert_string_equal(h, whole);
        }
    }
}

/* The one-shot digest (libcrypto) agrees with the portable code, at
 * every length around the block and padding boundaries and beyond. */
static void test_digest_matches_incremental(void **state)
{
    (void)state;
    static uint8_t data[70000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 131u + (i >> 7));
    static const size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 65536, 70000};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        uint8_t a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];
        struct sha256 c;
        sha256_init(&c);
        sha256_update(&c, data, lens[k]);
        sha256_final(&c, a);
        sha256_digest(data, lens[k], b);
        assert_memory_equal(a, b, SHA256_DIGEST_LEN);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_million_a),
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_digest_matches_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
