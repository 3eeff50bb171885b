/* Unit tests for lib/sha256 (libcrypto's EVP digest behind our API): the
 * FIPS 180-2 / NIST example vectors, the same vectors fed in odd chunk
 * sizes across block and padding boundaries, split updates against the
 * whole, and the life cycle of the context (restart, final twice,
 * release). */
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

/* digest_chunked - the digest of p[0..n) given in updates of chunk bytes
 * (the last one shorter), as hex. */
static void digest_chunked(const void *p, size_t n, size_t chunk, char out[65])
{
    struct sha256 c = {0};
    uint8_t d[SHA256_DIGEST_LEN];
    assert_int_equal(sha256_init(&c), 0);
    const uint8_t *b = p;
    for (size_t off = 0; off < n; off += chunk)
        sha256_update(&c, b + off, n - off < chunk ? n - off : chunk);
    assert_int_equal(sha256_final(&c, d), 0);
    assert_null(c.ctx);
    hex(d, out);
}

static void digest_of(const void *p, size_t n, char out[65])
{
    digest_chunked(p, n, n ? n : 1, out);
}

static const char TWO_BLOCKS[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char FOUR_BLOCKS[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                                  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static void test_vectors(void **state)
{
    (void)state;
    char h[65];
    digest_of("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    digest_of("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    digest_of(TWO_BLOCKS, strlen(TWO_BLOCKS), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    digest_of(FOUR_BLOCKS, strlen(FOUR_BLOCKS), h);
    assert_string_equal(h, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

/* The multi-block vectors in chunk sizes that straddle the 64-byte block
 * and the 56-byte padding boundary in every way. */
static void test_vectors_in_odd_chunks(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 2, 3, 5, 7, 13, 55, 56, 57, 63, 64, 65, 100};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        char h[65];
        digest_chunked(TWO_BLOCKS, strlen(TWO_BLOCKS), chunks[k], h);
        assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
        digest_chunked(FOUR_BLOCKS, strlen(FOUR_BLOCKS), chunks[k], h);
        assert_string_equal(h, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    }
}

/* One million 'a': whole, and streamed in odd sizes. */
static void test_million_a(void **state)
{
    (void)state;
    static char a[1000000];
    memset(a, 'a', sizeof(a));
    static const size_t chunks[] = {sizeof(a), 1, 61, 4093, 65537};
    for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
        char h[65];
        digest_chunked(a, sizeof(a), chunks[k], h);
        assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

/* Two updates cut anywhere give the digest of the whole. */
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
            struct sha256 c = {0};
            uint8_t d[SHA256_DIGEST_LEN];
            char h[65];
            assert_int_equal(sha256_init(&c), 0);
            sha256_update(&c, data, cut);
            sha256_update(&c, data + cut, len - cut);
            assert_int_equal(sha256_final(&c, d), 0);
            hex(d, h);
            assert_string_equal(h, whole);
        }
    }
}

/* A second init drops what the first was given; final ends the digest
 * (a second final has none to give); release is safe at any time. */
static void test_life_cycle(void **state)
{
    (void)state;
    struct sha256 c = {0};
    uint8_t d[SHA256_DIGEST_LEN];
    char h[65];
    assert_int_equal(sha256_final(&c, d), -1); /* never started */
    sha256_release(&c);
    assert_int_equal(sha256_init(&c), 0);
    sha256_update(&c, "not this", 8);
    assert_int_equal(sha256_init(&c), 0);
    sha256_update(&c, "abc", 3);
    assert_int_equal(sha256_final(&c, d), 0);
    hex(d, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(sha256_final(&c, d), -1);
    sha256_update(&c, "x", 1); /* ignored: no digest in progress */
    assert_int_equal(sha256_init(&c), 0);
    sha256_update(&c, "abc", 3);
    sha256_release(&c); /* abandoned: nothing held */
    assert_null(c.ctx);
    sha256_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),    cmocka_unit_test(test_vectors_in_odd_chunks),
        cmocka_unit_test(test_million_a),  cmocka_unit_test(test_splits),
        cmocka_unit_test(test_life_cycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
