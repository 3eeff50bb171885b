/* Unit tests for lib/str and lib/buf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "lib/str.h"

static void test_str_basics(void **state)
{
    (void)state;
    struct str s = str_trim(STR_LIT("  Host: a \r\n"));
    assert_true(str_eq_cstr(s, "Host: a"));
    assert_true(str_caseeq_cstr(STR_LIT("CONTENT-length"), "Content-Length"));
    assert_true(str_has_casesuffix(STR_LIT("eicar.COM"), STR_LIT(".com")));
    struct str head, tail;
    assert_true(str_cut(STR_LIT("a:b:c"), ':', &head, &tail));
    assert_true(str_eq_cstr(head, "a"));
    assert_true(str_eq_cstr(tail, "b:c"));
    assert_false(str_cut(STR_LIT("abc"), ':', &head, &tail));
    assert_int_equal(tail.len, 0);
}

static void test_str_to_u64(void **state)
{
    (void)state;
    uint64_t v;
    assert_true(str_to_u64(STR_LIT("65535"), 65535, &v));
    assert_int_equal(v, 65535);
    assert_false(str_to_u64(STR_LIT("65536"), 65535, &v));
    assert_false(str_to_u64(STR_LIT(""), 10, &v));
    assert_false(str_to_u64(STR_LIT("-1"), 10, &v));
    assert_false(str_to_u64(STR_LIT("18446744073709551616"), UINT64_MAX, &v));
    assert_true(str_to_u64(STR_LIT("18446744073709551615"), UINT64_MAX, &v));
    assert_false(str_to_u64(STR_LIT("5"), 3, &v));
}

static void test_str_copy_truncates(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(str_copy(small, sizeof(small), "abcdef"), 6);
    assert_string_equal(small, "abc");
}

static void test_buf_bounded(void **state)
{
    (void)state;
    char mem[8];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "abcde"));
    assert_false(buf_append_cstr(&b, "xyzw")); /* all or nothing */
    assert_int_equal(buf_len(&b), 5);
    assert_false(buf_printf(&b, "%d", 12345));
    assert_int_equal(buf_len(&b), 5);
    buf_consume(&b, 2);
    buf_compact(&b);
    assert_int_equal(b.rpos, 0);
    assert_true(buf_append_cstr(&b, "fg"));
    assert_string_equal(buf_cstr(&b), "cdefg");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_str_basics),
        cmocka_unit_test(test_str_to_u64),
        cmocka_unit_test(test_str_copy_truncates),
        cmocka_unit_test(test_buf_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
