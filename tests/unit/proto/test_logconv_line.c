/* Unit tests for proto/logconv_line, the line conversion logconv and the
 * web console share (LOG-7): which first fields are epoch times (the
 * digit and fraction bounds, the delimiter, a field whose end is not
 * seen), the shape of a logconv prefix, the classification of plain,
 * converted and other lines, the prefix text (TZ=UTC and a zone with an
 * offset) and what each mode writes. tests/integration/test_logconv.py
 * covers the tool around it byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "proto/logconv_line.h"

static bool epoch(const char *s, bool complete, time_t *t)
{
    return logconv_epoch(s, strlen(s), complete, t);
}

static void use_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void test_epoch_fields(void **state)
{
    (void)state;
    time_t t = 0;
    assert_true(epoch("1327996843.799   9153 192.51.16.1", true, &t));
    assert_int_equal(t, 1327996843);
    assert_true(epoch("1234567890.5\tafter a tab", true, &t));
    assert_int_equal(t, 1234567890);
    assert_true(epoch("123456789 nine digits", true, &t));
    assert_int_equal(t, 123456789);
    assert_true(epoch("999999999999 twelve", true, &t));
    assert_int_equal(t, 999999999999LL);
    assert_true(epoch("1234567890.123456789 nine fraction digits", true, &t));
    assert_true(epoch("1234567890\r\n", true, &t));
    assert_true(epoch("1234567890\n", false, &t));
    /* the whole line, no delimiter */
    assert_true(epoch("1234567890.1", true, &t));
    assert_int_equal(t, 1234567890);

    static const char *const not_times[] = {
        "hello world",
        "",
        "12 abc",
        "99999999 eight digits",
        "1234567890123 thirteen digits",
        "1234567890abc glued",
        "1234567890. no fraction",
        "1234567890.1234567890 ten fraction digits",
        "1234567890.5x",
        "1234567890,5 comma",
        " 1234567890 leading blank",
        "-1234567890 sign",
        "2012-01-31 08:00:43 : text",
    };
    for (size_t i = 0; i < sizeof(not_times) / sizeof(not_times[0]); i++) {
        t = 42;
        if (epoch(not_times[i], true, &t))
            fail_msg("'%s' taken as a time", not_times[i]);
        assert_int_equal(t, 42);
    }
    /* A field that reaches the end of what is seen is taken only when that
     * is the end of the line. */
    assert_false(epoch("1234567890", false, &t));
    assert_false(epoch("1234567890.12", false, &t));
    /* the length is the caller's */
    assert_false(logconv_epoch("1234567890 x", 5, true, &t));
    assert_true(logconv_epoch("1234567890x", 10, true, &t));
}

static void test_prefix_shape(void **state)
{
    (void)state;
    assert_int_equal(logconv_prefix_len("2014-12-26 09:02:08 : 1419552128.199", 36),
                     LOGCONV_PREFIX_LEN);
    assert_int_equal(logconv_prefix_len("2014-12-26 09:02:08 : ", 22), LOGCONV_PREFIX_LEN);
    assert_int_equal(logconv_prefix_len("2014-12-26 09:02:08 : ", 21), 0);
    assert_int_equal(logconv_prefix_len("2014-12-26 09:02:08 - x", 23), 0);
    assert_int_equal(logconv_prefix_len("2014/12/26 09:02:08 : x", 23), 0);
    assert_int_equal(logconv_prefix_len("2014-12-26T09:02:08 : x", 23), 0);
    assert_int_equal(logconv_prefix_len("2014-12-2a 09:02:08 : x", 23), 0);
    assert_int_equal(logconv_prefix_len("", 0), 0);
}

static void parse(const char *s, struct logconv_line *l)
{
    logconv_line_parse(s, strlen(s), true, l);
}

static void test_classify(void **state)
{
    (void)state;
    struct logconv_line l;
    parse("1419552128.199     27 192.168.1.204 TCP_MISS/503", &l);
    assert_true(l.timed);
    assert_true(l.epoch_first);
    assert_int_equal(l.prefix_len, 0);
    assert_int_equal(l.time, 1419552128);

    parse("2014-12-26 09:02:08 : 1419552128.199     27 192.168.1.204", &l);
    assert_true(l.timed);
    assert_false(l.epoch_first);
    assert_int_equal(l.prefix_len, LOGCONV_PREFIX_LEN);
    assert_int_equal(l.time, 1419552128);

    /* a prefix not followed by an epoch time is just text */
    parse("2014-12-26 09:02:08 : hello", &l);
    assert_false(l.timed);
    assert_int_equal(l.prefix_len, 0);
    parse("continuation line", &l);
    assert_false(l.timed);
    assert_false(l.epoch_first);

    /* Only LOGCONV_HEAD_MAX bytes are looked at: a longer head gives the
     * same answer, and a field the cut hides is not taken. */
    char big[200];
    memset(big, 'x', sizeof(big));
    memcpy(big, "1419552128.199 ", 15);
    logconv_line_parse(big, sizeof(big), true, &l);
    assert_true(l.epoch_first);
    memset(big, '1', sizeof(big));
    logconv_line_parse(big, LOGCONV_HEAD_MAX, true, &l);
    assert_false(l.timed);
    /* an epoch field that is the whole of a short line */
    logconv_line_parse("1419552128", 10, true, &l);
    assert_true(l.epoch_first);
    logconv_line_parse("1419552128", 10, false, &l);
    assert_false(l.timed);
}

static void test_format_prefix(void **state)
{
    (void)state;
    char p[LOGCONV_PREFIX_CAP];
    use_tz("UTC");
    assert_int_equal(logconv_format_prefix(1327996843, p), LOGCONV_PREFIX_LEN);
    assert_string_equal(p, "2012-01-31 08:00:43 : ");
    assert_int_equal(logconv_format_prefix(1000000000, p), LOGCONV_PREFIX_LEN);
    assert_string_equal(p, "2001-09-09 01:46:40 : ");
    /* the observed line of the guide, in JST (000:84) */
    use_tz("JST-9");
    assert_int_equal(logconv_format_prefix(1419552128, p), LOGCONV_PREFIX_LEN);
    assert_string_equal(p, "2014-12-26 09:02:08 : ");
    use_tz("UTC");
    /* the largest epoch time accepted is in a five-digit year: it fits */
    size_t n = logconv_format_prefix(999999999999LL, p);
    assert_int_equal(n, LOGCONV_PREFIX_LEN + 1);
    assert_int_equal(strlen(p), n);
    assert_string_equal(p, "33658-09-27 01:46:39 : ");
}

static void test_rewrite_modes(void **state)
{
    (void)state;
    use_tz("UTC");
    char p[LOGCONV_PREFIX_CAP];
    size_t skip;
    struct logconv_line plain, conv, other;
    parse("1327996843.799 line", &plain);
    parse("2012-01-31 08:00:43 : 1327996843.799 line", &conv);
    parse("free text", &other);

    assert_int_equal(logconv_line_rewrite(&plain, LOGCONV_CONVERT, p, &skip), 22);
    assert_string_equal(p, "2012-01-31 08:00:43 : ");
    assert_int_equal(skip, 0);
    /* never a second prefix */
    assert_int_equal(logconv_line_rewrite(&conv, LOGCONV_CONVERT, p, &skip), 0);
    assert_string_equal(p, "");
    assert_int_equal(skip, 0);
    assert_int_equal(logconv_line_rewrite(&other, LOGCONV_CONVERT, p, &skip), 0);
    assert_int_equal(skip, 0);

    for (int m = LOGCONV_NOCONV; m <= LOGCONV_REVERSE; m++) {
        assert_int_equal(logconv_line_rewrite(&plain, m, p, &skip), 0);
        assert_string_equal(p, "");
        assert_int_equal(skip, 0);
        assert_int_equal(logconv_line_rewrite(&other, m, p, &skip), 0);
        assert_int_equal(skip, 0);
    }
    assert_int_equal(logconv_line_rewrite(&conv, LOGCONV_NOCONV, p, &skip), 0);
    assert_int_equal(skip, 0);
    assert_int_equal(logconv_line_rewrite(&conv, LOGCONV_REVERSE, p, &skip), 0);
    assert_int_equal(skip, LOGCONV_PREFIX_LEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_epoch_fields),  cmocka_unit_test(test_prefix_shape),
        cmocka_unit_test(test_classify),      cmocka_unit_test(test_format_prefix),
        cmocka_unit_test(test_rewrite_modes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
