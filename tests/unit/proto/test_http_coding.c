/* Unit tests for proto/http_coding: Content-Encoding lists (order,
 * identity, unknown tokens, too many layers) and the Accept-Encoding
 * filter (codings kept with their parameters, others dropped, all or
 * nothing when the buffer is short). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/http_coding.h"

static void test_content_encoding(void **state)
{
    (void)state;
    struct http_coding_list l;
    http_coding_list_init(&l);
    http_coding_add(&l, STR_LIT(" Deflate , identity,,"));
    http_coding_add(&l, STR_LIT("X-GZIP"));
    assert_int_equal(l.count, 2);
    assert_int_equal(l.codings[0], HTTP_CODING_DEFLATE);
    assert_int_equal(l.codings[1], HTTP_CODING_GZIP);
    assert_false(l.unknown);
    http_coding_add(&l, STR_LIT("br;q=1, zstd, compress"));
    assert_int_equal(l.count, 5);
    assert_int_equal(l.codings[2], HTTP_CODING_BR);
    assert_int_equal(l.codings[3], HTTP_CODING_ZSTD);
    assert_true(l.unknown);
    http_coding_list_init(&l);
    http_coding_add(&l, STR_LIT("identity"));
    http_coding_add(&l, STR_LIT(""));
    assert_int_equal(l.count, 0);
    for (int i = 0; i < 10; i++)
        http_coding_add(&l, STR_LIT("gzip"));
    assert_int_equal(l.count, HTTP_CODING_LAYERS_MAX);
    assert_true(l.too_many);
}

static void test_accept_filter(void **state)
{
    (void)state;
    char mem[64];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(http_coding_filter_accept(
        STR_LIT("gzip;q=1.0, xz, *;q=0, identity, BR ,compress,zstd"), &b));
    assert_string_equal((buf_append(&b, "", 1), b.data), "gzip;q=1.0, identity, BR, zstd");
    buf_init(&b, mem, sizeof(mem));
    assert_true(http_coding_filter_accept(STR_LIT("xz, *"), &b));
    assert_int_equal(b.wpos, 0);
    buf_init(&b, mem, 8);
    assert_false(http_coding_filter_accept(STR_LIT("gzip, deflate"), &b));
    assert_int_equal(b.wpos, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_encoding),
        cmocka_unit_test(test_accept_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
