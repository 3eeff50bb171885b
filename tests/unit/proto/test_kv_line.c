/* Unit tests for proto/kv_line: the "key=value" line walker that
 * proto/dbupdate_conf and proto/admin_conf share. Each input is walked to
 * its end and written down as a transcript, "line:[key]=[value]" per
 * entry, then "END@lines" or "ERR@line:reason", so a test states the
 * whole walk: which lines give entries, what the blanks trimming leaves,
 * the line numbers (comments and blank lines count), and the exact words
 * of every reason (the two parsers print them as their own). Inputs are
 * walked over heap copies of exactly their length, so ASan sees a read
 * past the end of the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/kv_line.h"

static char got[8192 + 64];

/* walk_n - the transcript of text[0..len) with lines of line_max bytes. */
static const char *walk_n(const char *text, size_t len, size_t line_max)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    struct kv_reader r;
    kv_reader_init(&r, copy, len, line_max);
    size_t o = 0;
    got[0] = '\0';
    for (;;) {
        struct str k = STR_NULL, v = STR_NULL;
        char err[128] = "";
        enum kv_status st = kv_next(&r, &k, &v, err, sizeof(err));
        if (st == KV_ENTRY) {
            assert_true(k.len > 0);
            o += (size_t)snprintf(got + o, sizeof(got) - o, "%u:[%.*s]=[%.*s];", r.line, (int)k.len,
                                  k.ptr, (int)v.len, v.ptr);
            assert_true(o < sizeof(got));
            continue;
        }
        if (st == KV_END)
            snprintf(got + o, sizeof(got) - o, "END@%u", r.line);
        else
            snprintf(got + o, sizeof(got) - o, "ERR@%u:%s", r.line, err);
        break;
    }
    free(copy);
    return got;
}

static const char *walk(const char *text)
{
    return walk_n(text, strlen(text), 4096);
}

static void test_entries_and_lines(void **state)
{
    (void)state;
    assert_string_equal(walk(""), "END@0");
    assert_string_equal(walk("a=1"), "1:[a]=[1];END@1");
    assert_string_equal(walk("a=1\n"), "1:[a]=[1];END@1");
    assert_string_equal(walk("a=1\nb=2"), "1:[a]=[1];2:[b]=[2];END@2");
    assert_string_equal(walk("a=1\r\nb=2\r\n"), "1:[a]=[1];2:[b]=[2];END@2");
    /* LF and CRLF mixed; the last line without its end */
    assert_string_equal(walk("a=1\nb=2\r\nc=3"), "1:[a]=[1];2:[b]=[2];3:[c]=[3];END@3");
    /* blank lines and comments are skipped but counted */
    assert_string_equal(walk("\n# note\n  \t \n\t# indented = comment\na=1\n\n"),
                        "5:[a]=[1];END@6");
    assert_string_equal(walk("\n\n\n"), "END@3");
    assert_string_equal(walk("#only=comment"), "END@1");
    /* calling again after the end stays at the end */
    struct kv_reader r;
    struct str k, v;
    kv_reader_init(&r, "a=1", 3, 10);
    assert_int_equal(kv_next(&r, &k, &v, NULL, 0), KV_ENTRY);
    assert_int_equal(kv_next(&r, &k, &v, NULL, 0), KV_END);
    assert_int_equal(kv_next(&r, &k, &v, NULL, 0), KV_END);
    assert_int_equal(r.line, 1);
}

static void test_split_and_trim(void **state)
{
    (void)state;
    /* blanks around key and value go, blanks inside stay */
    assert_string_equal(walk(" \tmy key \t= \tsome value\t \n"), "1:[my key]=[some value];END@1");
    /* the first '=' splits; '=' and '#' later are the value's */
    assert_string_equal(walk("pass=a=b#c # d"), "1:[pass]=[a=b#c # d];END@1");
    assert_string_equal(walk("a==\n"), "1:[a]=[=];END@1");
    /* an empty value is an entry: what it means is the caller's */
    assert_string_equal(walk("a=\nb =  \t\n"), "1:[a]=[];2:[b]=[];END@2");
    /* a '#' that is not the first non-blank byte is no comment */
    assert_string_equal(walk("a#=1"), "1:[a#]=[1];END@1");
    /* quotes and case are kept as written */
    assert_string_equal(walk("Key=\"V\"'"), "1:[Key]=[\"V\"'];END@1");
    /* bytes above 0x7f are data */
    assert_string_equal(walk("k=\xc3\xa4\xff"), "1:[k]=[\xc3\xa4\xff];END@1");
}

static void test_byte_order_mark(void **state)
{
    (void)state;
    assert_string_equal(walk("\xef\xbb\xbf"
                             "a=1\n"),
                        "1:[a]=[1];END@1");
    assert_string_equal(walk("\xef\xbb\xbf"), "END@0");
    assert_string_equal(walk("\xef\xbb\xbf\n"
                             "a=1"),
                        "2:[a]=[1];END@2");
    /* only at the very start: elsewhere it is part of the line */
    assert_string_equal(walk("a=1\n\xef\xbb\xbf"
                             "b=2"),
                        "1:[a]=[1];2:[\xef\xbb\xbf"
                        "b]=[2];END@2");
    assert_string_equal(walk(" \xef\xbb\xbf"
                             "a=1"),
                        "1:[\xef\xbb\xbf"
                        "a]=[1];END@1");
    /* a part of one is not skipped */
    assert_string_equal(walk_n("\xef\xbb", 2, 10), "ERR@1:expected key=value, found no '='");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    assert_string_equal(walk("a=1\nnovalue\nb=2"),
                        "1:[a]=[1];ERR@2:expected key=value, found no '='");
    assert_string_equal(walk("# c\n\n=v"), "ERR@3:no key before '='");
    assert_string_equal(walk(" \t = v"), "ERR@1:no key before '='");
    assert_string_equal(walk("="), "ERR@1:no key before '='");
    /* a comment needs no '=', anything else does */
    assert_string_equal(walk("x # y"), "ERR@1:expected key=value, found no '='");
}

static void test_control_bytes(void **state)
{
    (void)state;
    assert_string_equal(walk("a=1\nb=\x01"), "1:[a]=[1];ERR@2:control character 0x01 in the line");
    assert_string_equal(walk("a=\x7f"), "ERR@1:control character 0x7f in the line");
    assert_string_equal(walk("a=\x1b[0m"), "ERR@1:control character 0x1b in the line");
    assert_string_equal(walk_n("a=x\0y", 5, 100), "ERR@1:NUL byte in the line");
    /* even in a comment or a blank line: they cannot be typed on purpose */
    assert_string_equal(walk("# \x02"), "ERR@1:control character 0x02 in the line");
    assert_string_equal(walk_n("\0\n", 2, 100), "ERR@1:NUL byte in the line");
    /* a CR is a line end only right before the LF (or the text's end) */
    assert_string_equal(walk("a=1\r"), "1:[a]=[1];END@1");
    assert_string_equal(walk("a=1\r\r\n"), "ERR@1:control character 0x0d in the line");
    assert_string_equal(walk("a=1\rb=2\n"), "ERR@1:control character 0x0d in the line");
    /* a form feed, a vertical tab: not blanks */
    assert_string_equal(walk("a=\f"), "ERR@1:control character 0x0c in the line");
    assert_string_equal(walk("\va=1"), "ERR@1:control character 0x0b in the line");
    /* tabs are blanks, also inside a value */
    assert_string_equal(walk("a=x\ty"), "1:[a]=[x\ty];END@1");
}

static void test_line_limit(void **state)
{
    (void)state;
    char line[64];
    memset(line, 'v', sizeof(line));
    memcpy(line, "k=", 2);
    /* line_max bytes pass, one more does not; the line end is not counted */
    assert_string_equal(walk_n(line, 10, 10), "1:[k]=[vvvvvvvv];END@1");
    char crlf[12];
    memcpy(crlf, line, 10);
    memcpy(crlf + 10, "\r\n", 2);
    assert_string_equal(walk_n(crlf, 12, 10), "1:[k]=[vvvvvvvv];END@1");
    assert_string_equal(walk_n(line, 11, 10), "ERR@1:line longer than 10 bytes");
    /* blanks and comments count too: the limit bounds every line */
    char text[40] = "a=1\n#";
    memset(text + 5, ' ', 20);
    assert_string_equal(walk_n(text, 25, 20), "1:[a]=[1];ERR@2:line longer than 20 bytes");
    /* the limits of the two files */
    assert_string_equal(walk_n(line, 11, 8192), "1:[k]=[vvvvvvvvv];END@1");
    char *big = malloc(8193);
    char *want = malloc(8192 + 32);
    assert_non_null(big);
    assert_non_null(want);
    memset(big, 'x', 8193);
    memcpy(big, "k=", 2);
    memcpy(want, "1:[k]=[", 7);
    memset(want + 7, 'x', 8190);
    memcpy(want + 7 + 8190, "];END@1", 8);
    assert_string_equal(walk_n(big, 8192, 8192), want);
    assert_string_equal(walk_n(big, 8193, 8192), "ERR@1:line longer than 8192 bytes");
    assert_string_equal(walk_n(big, 4097, 4096), "ERR@1:line longer than 4096 bytes");
    free(want);
    free(big);
}

static void test_error_sticks(void **state)
{
    (void)state;
    struct kv_reader r;
    struct str k, v;
    char err[64];
    const char *text = "a=1\nbad\nb=2\n";
    kv_reader_init(&r, text, strlen(text), 100);
    assert_int_equal(kv_next(&r, &k, &v, err, sizeof(err)), KV_ENTRY);
    assert_int_equal(kv_next(&r, &k, &v, err, sizeof(err)), KV_ERROR);
    assert_int_equal(r.line, 2);
    /* the walk is over: the line after the error is never handed out */
    memcpy(err, "-", 2);
    assert_int_equal(kv_next(&r, &k, &v, err, sizeof(err)), KV_ERROR);
    assert_string_equal(err, "expected key=value, found no '='");
    assert_int_equal(r.line, 2);
    /* the control byte of a reason is kept for the repeat */
    kv_reader_init(&r, "\x03", 1, 100);
    assert_int_equal(kv_next(&r, &k, &v, err, sizeof(err)), KV_ERROR);
    assert_int_equal(kv_next(&r, &k, &v, err, sizeof(err)), KV_ERROR);
    assert_string_equal(err, "control character 0x03 in the line");
}

static void test_error_buffer(void **state)
{
    (void)state;
    struct kv_reader r;
    struct str k, v;
    char err[8];
    /* a small buffer holds the start of the reason, NUL-terminated */
    memset(err, '#', sizeof(err));
    kv_reader_init(&r, "x", 1, 100);
    assert_int_equal(kv_next(&r, &k, &v, err, 5), KV_ERROR);
    assert_string_equal(err, "expe");
    assert_int_equal(err[5], '#');
    /* none at all */
    kv_reader_init(&r, "x", 1, 100);
    assert_int_equal(kv_next(&r, &k, &v, NULL, 0), KV_ERROR);
    memset(err, '#', sizeof(err));
    assert_int_equal(kv_next(&r, &k, &v, err, 0), KV_ERROR);
    assert_int_equal(err[0], '#');
}

static void test_trim(void **state)
{
    (void)state;
    struct str s = kv_trim(STR_LIT(" \t a b \t "));
    assert_int_equal(s.len, 3);
    assert_memory_equal(s.ptr, "a b", 3);
    assert_int_equal(kv_trim(STR_LIT(" \t ")).len, 0);
    assert_int_equal(kv_trim(STR_NULL).len, 0);
    /* only spaces and tabs are blanks here */
    s = kv_trim(STR_LIT("\r x \n"));
    assert_int_equal(s.len, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_and_lines),
        cmocka_unit_test(test_split_and_trim),
        cmocka_unit_test(test_byte_order_mark),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_control_bytes),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_error_sticks),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
