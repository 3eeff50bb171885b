/* Unit tests for lib/content_decode: each coding decodes a known stream
 * (made here with zlib, and with the brotli/zstd tools for the fixed
 * vectors), deflate is taken in both forms, output is bounded, and
 * truncated, corrupt or trailing input is an error, never a short OK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "lib/content_decode.h"

struct sink {
    unsigned char data[1 << 20];
    size_t len;
};

static int to_sink(void *arg, const void *p, size_t n)
{
    struct sink *s = arg;
    if (n > sizeof(s->data) - s->len)
        return -1;
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return 0;
}

static struct sink sink;

static enum cdec_result dec(enum cdec_coding c, const void *in, size_t n, uint64_t max)
{
    sink.len = 0;
    return cdec_mem(c, in, n, max, to_sink, &sink);
}

/* zdeflate - wbits 15 zlib, -15 raw, 31 gzip. */
static size_t zdeflate(const void *in, size_t n, int wbits, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = cap - z.avail_out;
    deflateEnd(&z);
    return len;
}

static const char text[] = "Sekisho content decoding test, Sekisho content decoding test.\n";

static void test_zlib_forms(void **state)
{
    (void)state;
    unsigned char enc[512];
    static const int wbits[] = {15, -15, 31};
    static const enum cdec_coding codings[] = {CDEC_DEFLATE, CDEC_DEFLATE, CDEC_GZIP};
    for (int i = 0; i < 3; i++) {
        size_t n = zdeflate(text, sizeof(text), wbits[i], enc, sizeof(enc));
        assert_int_equal(dec(codings[i], enc, n, 1 << 20), CDEC_OK);
        assert_int_equal(sink.len, sizeof(text));
        assert_memory_equal(sink.data, text, sizeof(text));
        /* Truncated: an error, whatever came out before. */
        assert_int_equal(dec(codings[i], enc, n - 1, 1 << 20), CDEC_CORRUPT);
        /* Bytes after the end of the stream are not ignored. */
        enc[n] = 'X';
        assert_int_equal(dec(codings[i], enc, n + 1, 1 << 20), CDEC_CORRUPT);
        /* The bound holds. */
        assert_int_equal(dec(codings[i], enc, n, sizeof(text) - 1), CDEC_TOO_LARGE);
    }
}

static void test_gzip_members(void **state)
{
    (void)state;
    unsigned char enc[1024];
    size_t a = zdeflate(text, sizeof(text), 31, enc, sizeof(enc));
    size_t b = zdeflate(text, sizeof(text), 31, enc + a, sizeof(enc) - a);
    assert_int_equal(dec(CDEC_GZIP, enc, a + b, 1 << 20), CDEC_OK);
    assert_int_equal(sink.len, 2 * sizeof(text));
    /* Two zlib streams in a row are not one deflate body. */
    a = zdeflate(text, sizeof(text), 15, enc, sizeof(enc));
    b = zdeflate(text, sizeof(text), 15, enc + a, sizeof(enc) - a);
    assert_int_equal(dec(CDEC_DEFLATE, enc, a + b, 1 << 20), CDEC_CORRUPT);
}

/* printf 'hello' | brotli -c ; printf 'hello' | zstd -q -c */
static const unsigned char br_hello[] = {0x0f, 0x02, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x03};
static const unsigned char zstd_hello[] = {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x29, 0x00, 0x00,
                                           0x68, 0x65, 0x6c, 0x6c, 0x6f, 0xa3, 0x6d, 0x9f, 0x88};

static void test_br_zstd(void **state)
{
    (void)state;
    assert_int_equal(dec(CDEC_BR, br_hello, sizeof(br_hello), 100), CDEC_OK);
    assert_int_equal(sink.len, 5);
    assert_memory_equal(sink.data, "hello", 5);
    assert_int_equal(dec(CDEC_BR, br_hello, sizeof(br_hello) - 1, 100), CDEC_CORRUPT);
    assert_int_equal(dec(CDEC_BR, br_hello, sizeof(br_hello), 4), CDEC_TOO_LARGE);
    assert_int_equal(dec(CDEC_ZSTD, zstd_hello, sizeof(zstd_hello), 100), CDEC_OK);
    assert_int_equal(sink.len, 5);
    assert_memory_equal(sink.data, "hello", 5);
    assert_int_equal(dec(CDEC_ZSTD, zstd_hello, sizeof(zstd_hello) - 1, 100), CDEC_CORRUPT);
    assert_int_equal(dec(CDEC_ZSTD, zstd_hello, sizeof(zstd_hello), 4), CDEC_TOO_LARGE);
    unsigned char two[2 * sizeof(zstd_hello)];
    memcpy(two, zstd_hello, sizeof(zstd_hello));
    memcpy(two + sizeof(zstd_hello), zstd_hello, sizeof(zstd_hello));
    assert_int_equal(dec(CDEC_ZSTD, two, sizeof(two), 100), CDEC_OK);
    assert_int_equal(sink.len, 10);
}

static void test_bomb_is_bounded(void **state)
{
    (void)state;
    size_t big = 8u << 20;
    unsigned char *zeros = calloc(1, big);
    unsigned char *enc = malloc(64 * 1024);
    assert_non_null(zeros);
    assert_non_null(enc);
    size_t n = zdeflate(zeros, big, 31, enc, 64 * 1024);
    assert_true(n < 16 * 1024);
    assert_int_equal(dec(CDEC_GZIP, enc, n, 1 << 16), CDEC_TOO_LARGE);
    assert_true(sink.len <= 1 << 16);
    free(zeros);
    free(enc);
}

static void test_empty_and_fd(void **state)
{
    (void)state;
    assert_int_equal(dec(CDEC_GZIP, "", 0, 10), CDEC_OK);
    assert_int_equal(sink.len, 0);
    assert_int_equal(dec(CDEC_NONE, "x", 1, 10), CDEC_CORRUPT);
    FILE *in = tmpfile(), *out = tmpfile();
    assert_non_null(in);
    assert_non_null(out);
    assert_int_equal(fwrite(zstd_hello, 1, sizeof(zstd_hello), in), sizeof(zstd_hello));
    fflush(in);
    uint64_t written = 0;
    assert_int_equal(cdec_fd(CDEC_ZSTD, fileno(in), fileno(out), 100, &written), CDEC_OK);
    assert_int_equal(written, 5);
    char got[5];
    assert_int_equal(pread(fileno(out), got, 5, 0), 5);
    assert_memory_equal(got, "hello", 5);
    fclose(in);
    fclose(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zlib_forms),   cmocka_unit_test(test_gzip_members),
        cmocka_unit_test(test_br_zstd),      cmocka_unit_test(test_bomb_is_bounded),
        cmocka_unit_test(test_empty_and_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
