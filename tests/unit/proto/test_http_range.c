/* Unit tests for proto/http_range: the single byte-range forms served from
 * a scanned spool (first-last, first-, -suffix, clipped to the object) and
 * everything answered with the whole object instead. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/http_range.h"

static void test_single_ranges(void **state)
{
    (void)state;
    uint64_t a = 0, b = 0;
    assert_true(http_range_single(STR_LIT("bytes=0-33"), 68, &a, &b));
    assert_true(a == 0 && b == 33);
    assert_true(http_range_single(STR_LIT(" Bytes = 34 - 67 "), 68, &a, &b));
    assert_true(a == 34 && b == 67);
    assert_true(http_range_single(STR_LIT("bytes=10-"), 68, &a, &b));
    assert_true(a == 10 && b == 67);
    assert_true(http_range_single(STR_LIT("bytes=-8"), 68, &a, &b));
    assert_true(a == 60 && b == 67);
    assert_true(http_range_single(STR_LIT("bytes=-100"), 68, &a, &b));
    assert_true(a == 0 && b == 67);
    assert_true(http_range_single(STR_LIT("bytes=5-1000"), 68, &a, &b));
    assert_true(a == 5 && b == 67);
}

static void test_whole_object_instead(void **state)
{
    (void)state;
    uint64_t a, b;
    static const char *const no[] = {
        "bytes=0-9,20-29", "bytes=68-", "bytes=9-5",   "bytes=-0",
        "items=0-1",       "bytes=",    "bytes=-",     "bytes=a-b",
        "bytes0-1",        "",          "bytes=1-2-3", "bytes=0-1234567890123456789",
    };
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(http_range_single(str_from_cstr(no[i]), 68, &a, &b));
    assert_false(http_range_single(STR_LIT("bytes=0-0"), 0, &a, &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_ranges),
        cmocka_unit_test(test_whole_object_instead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
