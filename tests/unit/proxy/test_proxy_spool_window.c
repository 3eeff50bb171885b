/* Unit tests for proxy_spool_window: the sender's reads of a spool around
 * a range it leaves out (change_subject: the original Subject field is not
 * sent, SPAM-10): never into the range, past it when reached, the end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proxy/proxy_spool.h"

static void test_no_skip(void **state)
{
    (void)state;
    struct proxy_spool_skip none = {0, 0};
    uint64_t off = 0;
    assert_int_equal(proxy_spool_window(&off, 100, &none, 64), 64);
    off = 64;
    assert_int_equal(proxy_spool_window(&off, 100, &none, 64), 36);
    off = 100;
    assert_int_equal(proxy_spool_window(&off, 100, &none, 64), 0);
}

static void test_skip_in_the_middle(void **state)
{
    (void)state;
    struct proxy_spool_skip skip = {10, 30};
    uint64_t off = 0;
    assert_int_equal(proxy_spool_window(&off, 100, &skip, 64), 10); /* up to the range */
    assert_int_equal(off, 0);
    off = 10;
    assert_int_equal(proxy_spool_window(&off, 100, &skip, 64), 64); /* jumped over it */
    assert_int_equal(off, 30);
    off = 5; /* a partial read before it: the rest up to it */
    assert_int_equal(proxy_spool_window(&off, 100, &skip, 64), 5);
    off = 20; /* inside (a caller never lands there, but a read never starts in it) */
    assert_int_equal(proxy_spool_window(&off, 100, &skip, 64), 64);
    assert_int_equal(off, 30);
}

static void test_skip_at_the_ends(void **state)
{
    (void)state;
    struct proxy_spool_skip first = {0, 20};
    uint64_t off = 0;
    assert_int_equal(proxy_spool_window(&off, 50, &first, 64), 30);
    assert_int_equal(off, 20);
    struct proxy_spool_skip last = {40, 50};
    off = 40;
    assert_int_equal(proxy_spool_window(&off, 50, &last, 64), 0); /* the end */
    assert_int_equal(off, 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_skip),
        cmocka_unit_test(test_skip_in_the_middle),
        cmocka_unit_test(test_skip_at_the_ends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
