/* test_text_line - the bounded line finder shared by the SMTP and POP3
 * parsers (proto/text_line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/text_line.h"

static enum text_line_result find(const char *s, size_t max, size_t *line, size_t *used)
{
    *line = *used = 9999;
    return text_line_find(s, strlen(s), max, line, used);
}

static void test_line_ends(void **state)
{
    (void)state;
    size_t line, used;
    assert_int_equal(find("NOOP\r\nQUIT\r\n", 10, &line, &used), TEXT_LINE_DONE);
    assert_int_equal(line, 4);
    assert_int_equal(used, 6);
    assert_int_equal(find("NOOP\nQUIT", 10, &line, &used), TEXT_LINE_DONE); /* bare LF */
    assert_int_equal(line, 4);
    assert_int_equal(used, 5);
    assert_int_equal(find("A\rB\r\n", 10, &line, &used), TEXT_LINE_DONE); /* a CR inside stays */
    assert_int_equal(line, 3);
    assert_int_equal(find("\r\n", 10, &line, &used), TEXT_LINE_DONE); /* empty line */
    assert_int_equal(line, 0);
    assert_int_equal(used, 2);
    assert_int_equal(find("NOOP", 10, &line, &used), TEXT_LINE_AGAIN);
    assert_int_equal(line, 9999); /* untouched unless DONE */
}

static void test_limit(void **state)
{
    (void)state;
    size_t line, used;
    assert_int_equal(find("12345\r\n", 5, &line, &used), TEXT_LINE_DONE); /* exactly max */
    assert_int_equal(line, 5);
    assert_int_equal(find("123456\r\n", 5, &line, &used), TEXT_LINE_TOO_LONG);
    assert_int_equal(find("12345\r", 5, &line, &used), TEXT_LINE_AGAIN);   /* a CR at max: hope */
    assert_int_equal(find("12345x", 5, &line, &used), TEXT_LINE_TOO_LONG); /* known before LF */
    assert_int_equal(find("12345\rx", 5, &line, &used), TEXT_LINE_TOO_LONG);
    /* nothing beyond max + 2 bytes is looked at */
    assert_int_equal(find("1234567890\n", 5, &line, &used), TEXT_LINE_TOO_LONG);
}

static void test_discard_and_trim(void **state)
{
    (void)state;
    bool ended;
    assert_int_equal(text_line_discard("xxxx\nNOOP\r\n", 10, &ended), 5);
    assert_true(ended);
    assert_int_equal(text_line_discard("xxxx", 4, &ended), 4);
    assert_false(ended);
    struct str s = text_line_trim(str_from_cstr(" \t a b \t"));
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "a b", 3);
    assert_int_equal(text_line_trim(str_from_cstr(" \t ")).len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_discard_and_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
