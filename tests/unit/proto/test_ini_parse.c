/* Unit tests for proto/ini_parse: syntax accepted, errors and their line
 * numbers, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/ini_parse.h"

/* Collected results of one parse, as text lines that are easy to compare:
 *   "S <line> <section>"            header
 *   "E <line> <section> <key>=<value>|"  entry
 *   "X <line> <error-id>"           error */
#define OUT_MAX 8192

static void collect(const char *text, size_t len, char *out, size_t cap)
{
    struct ini_parser ps;
    struct ini_item it;
    enum ini_parse_result r;
    size_t n = 0;
    out[0] = '\0';
    ini_parse_init(&ps, text, len);
    while ((r = ini_parse_next(&ps, &it)) != INI_PARSE_DONE) {
        int w = 0;
        switch (r) {
        case INI_PARSE_SECTION:
            w = snprintf(out + n, cap - n, "S %u %.*s\n", it.line, (int)it.section.len,
                         it.section.ptr);
            break;
        case INI_PARSE_ENTRY:
            w = snprintf(out + n, cap - n, "E %u %.*s %.*s=%.*s|\n", it.line,
                         it.section.ptr ? (int)it.section.len : 1,
                         it.section.ptr ? it.section.ptr : "-", (int)it.key.len, it.key.ptr,
                         (int)it.value.len, it.value.ptr);
            break;
        default:
            w = snprintf(out + n, cap - n, "X %u %d%s\n", it.line, (int)it.error,
                         r == INI_PARSE_TOO_LONG ? " long" : "");
            break;
        }
        assert_true(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
    }
    /* DONE is sticky */
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_DONE);
}

static void check(const char *text, const char *expect)
{
    char out[OUT_MAX];
    collect(text, strlen(text), out, sizeof(out));
    assert_string_equal(out, expect);
}

static void test_basic_sections_and_entries(void **state)
{
    (void)state;
    check("[common]\n"
          "tmpdir=/var/tmp/x\n"
          "[http]\n"
          "svcport = 9080\n"
          "  virus_check\t=\tyes  \n",
          "S 1 common\n"
          "E 2 common tmpdir=/var/tmp/x|\n"
          "S 3 http\n"
          "E 4 http svcport=9080|\n"
          "E 5 http virus_check=yes|\n");
}

static void test_comments_and_blank_lines(void **state)
{
    (void)state;
    check("# comment\n"
          "; another\n"
          "\n"
          "   \t \n"
          "  # indented comment\n"
          "[smtp] # trailing comment after header\n"
          "a=1\n"
          "[pop] ; also\n",
          "S 6 smtp\n"
          "E 7 smtp a=1|\n"
          "S 8 pop\n");
}

static void test_no_inline_comments(void **state)
{
    (void)state;
    /* ';' is the pass_riskware separator and '#' occurs in URLs: they are
     * part of the value. */
    check("[x]\npass_riskware=Client-IRC.*.*;Adware.*.* # not a comment\n",
          "S 1 x\n"
          "E 2 x pass_riskware=Client-IRC.*.*;Adware.*.* # not a comment|\n");
}

static void test_crlf_and_missing_final_newline(void **state)
{
    (void)state;
    check("[http]\r\nkeepalive=yes\r\naction = delete", "S 1 http\n"
                                                        "E 2 http keepalive=yes|\n"
                                                        "E 3 http action=delete|\n");
    check("[http]\r\nkeepalive=no\r", "S 1 http\nE 2 http keepalive=no|\n");
}

static void test_quotes(void **state)
{
    (void)state;
    check("[s]\n"
          "a=\"[SPAM] \"\n"
          "b=\"\"\n"
          "c = \" x \" \n"
          "d=\"in\"side\"\n"
          "e=mid\"quote\n",
          "S 1 s\n"
          "E 2 s a=[SPAM] |\n"
          "E 3 s b=|\n"
          "E 4 s c= x |\n"
          "E 5 s d=in\"side|\n"
          "E 6 s e=mid\"quote|\n");
    check("[s]\na=\"open\nb=\"x\" y\nc=\"\n", "S 1 s\n"
                                              "X 2 6\n" /* INI_ERR_UNTERMINATED_QUOTE */
                                              "X 3 7\n" /* INI_ERR_TRAILING_TEXT */
                                              "X 4 6\n");
}

static void test_empty_value_and_equals_in_value(void **state)
{
    (void)state;
    check("[s]\nproduct_name=\nurl=http://a/?x=1&y=2\n", "S 1 s\n"
                                                         "E 2 s product_name=|\n"
                                                         "E 3 s url=http://a/?x=1&y=2|\n");
}

static void test_entries_before_section(void **state)
{
    (void)state;
    check("k=v\n[a]\n", "E 1 - k=v|\nS 2 a\n");
}

static void test_errors_have_line_numbers_and_resume(void **state)
{
    (void)state;
    char expect[256];
    snprintf(expect, sizeof(expect),
             "S 1 http\n"
             "X 2 %d\n"
             "E 3 http ok=1|\n"
             "X 4 %d\n"
             "X 5 %d\n"
             "X 6 %d\n"
             "E 7 http also=2|\n",
             INI_ERR_NO_EQUALS, INI_ERR_BAD_KEY, INI_ERR_BAD_KEY, INI_ERR_BAD_KEY);
    check("[http]\n"
          "no equals sign\n"
          "ok=1\n"
          "=value\n"
          "bad key=1\n"
          "k\xc3\xa9y=1\n"
          "also=2\n",
          expect);
}

static void test_bad_section_headers(void **state)
{
    (void)state;
    const char *bad[] = {"[http\n", "[]\n", "[ ]\n", "[ht tp]\n", "[http] x\n", "[a/b]\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char expect[64];
        snprintf(expect, sizeof(expect), "X 1 %d\n", INI_ERR_BAD_SECTION);
        check(bad[i], expect);
    }
    /* blanks inside the brackets are allowed; names keep their case */
    check("[ Common ]\n", "S 1 Common\n");
    check("[smtp-lan]\n", "S 1 smtp-lan\n");
}

static void test_entries_after_bad_section_are_flagged(void **state)
{
    (void)state;
    struct ini_parser ps;
    struct ini_item it;
    const char *t = "[http]\na=1\n[bad\nb=2\n[pop]\nc=3\n";
    ini_parse_init(&ps, t, strlen(t));
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_SECTION);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_ENTRY);
    assert_false(it.section_invalid);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_INVALID);
    assert_int_equal(it.error, INI_ERR_BAD_SECTION);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_ENTRY);
    assert_true(it.section_invalid);
    assert_null(it.section.ptr); /* not filed under [http] */
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_SECTION);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_ENTRY);
    assert_false(it.section_invalid);
    assert_true(str_eq_cstr(it.section, "pop"));
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_DONE);
}

static void test_control_characters(void **state)
{
    (void)state;
    char expect[64];
    snprintf(expect, sizeof(expect), "S 1 s\nX 2 %d\nX 3 %d\nX 4 %d\nE 5 s ok=a\tb|\n",
             INI_ERR_CONTROL_CHAR, INI_ERR_CONTROL_CHAR, INI_ERR_CONTROL_CHAR);
    const char text[] = "[s]\na=b\x01\nc=\rd\ne=\x7f\nok=a\tb\n";
    char out[OUT_MAX];
    collect(text, sizeof(text) - 1, out, sizeof(out));
    assert_string_equal(out, expect);
    /* a NUL byte is a control character too, and does not end the text */
    const char nul[] = "[s]\na=b\0c\nd=e\n";
    collect(nul, sizeof(nul) - 1, out, sizeof(out));
    snprintf(expect, sizeof(expect), "S 1 s\nX 2 %d\nE 3 s d=e|\n", INI_ERR_CONTROL_CHAR);
    assert_string_equal(out, expect);
}

static void test_line_length_limit(void **state)
{
    (void)state;
    /* exactly INI_LINE_MAX bytes is accepted, one more is TOO_LONG; CR of
     * a CRLF does not count */
    size_t cap = 3 * INI_LINE_MAX;
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = 0;
    n += (size_t)snprintf(t + n, cap - n, "[s]\n");
    t[n++] = 'k';
    t[n++] = '=';
    memset(t + n, 'v', INI_LINE_MAX - 2);
    n += INI_LINE_MAX - 2;
    t[n++] = '\r';
    t[n++] = '\n';
    t[n++] = 'k';
    t[n++] = '=';
    memset(t + n, 'v', INI_LINE_MAX - 1);
    n += INI_LINE_MAX - 1;
    t[n++] = '\n';
    n += (size_t)snprintf(t + n, cap - n, "after=1\n");

    struct ini_parser ps;
    struct ini_item it;
    ini_parse_init(&ps, t, n);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_SECTION);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_ENTRY);
    assert_int_equal(it.value.len, INI_LINE_MAX - 2);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_TOO_LONG);
    assert_int_equal(it.error, INI_ERR_LINE_TOO_LONG);
    assert_int_equal(it.line, 3);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_ENTRY);
    assert_int_equal(it.line, 4);
    assert_true(str_eq_cstr(it.key, "after"));
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_DONE);
    free(t);
}

static void test_bom_and_empty_input(void **state)
{
    (void)state;
    check("\xEF\xBB\xBF[common]\n", "S 1 common\n");
    check("", "");
    check("\n\n\n", "");
    /* a BOM later in the file is not skipped */
    char expect[64];
    snprintf(expect, sizeof(expect), "S 1 a\nX 2 %d\n", INI_ERR_BAD_KEY);
    check("[a]\n\xEF\xBB\xBFk=v\n", expect);
}

static void test_views_point_into_text(void **state)
{
    (void)state;
    const char *t = "[sec]\nkey = value\n";
    struct ini_parser ps;
    struct ini_item it;
    ini_parse_init(&ps, t, strlen(t));
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_SECTION);
    assert_ptr_equal(it.section.ptr, t + 1);
    assert_int_equal(ini_parse_next(&ps, &it), INI_PARSE_ENTRY);
    assert_ptr_equal(it.key.ptr, t + 6);
    assert_ptr_equal(it.value.ptr, t + 12);
    assert_ptr_equal(it.section.ptr, t + 1);
}

static void test_error_names(void **state)
{
    (void)state;
    assert_string_equal(ini_parse_error_name(INI_ERR_LINE_TOO_LONG),
                        "line too long (max 4096 bytes)");
    assert_string_equal(ini_parse_error_name(INI_ERR_NO_EQUALS), "expected 'key = value'");
    for (int e = INI_ERR_NONE; e <= INI_ERR_TRAILING_TEXT; e++)
        assert_string_not_equal(ini_parse_error_name((enum ini_parse_error)e), "unknown error");
    assert_string_equal(ini_parse_result_name(INI_PARSE_ENTRY), "entry");
    assert_string_equal(ini_parse_result_name(INI_PARSE_TOO_LONG), "too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_sections_and_entries),
        cmocka_unit_test(test_comments_and_blank_lines),
        cmocka_unit_test(test_no_inline_comments),
        cmocka_unit_test(test_crlf_and_missing_final_newline),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_empty_value_and_equals_in_value),
        cmocka_unit_test(test_entries_before_section),
        cmocka_unit_test(test_errors_have_line_numbers_and_resume),
        cmocka_unit_test(test_bad_section_headers),
        cmocka_unit_test(test_entries_after_bad_section_are_flagged),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_line_length_limit),
        cmocka_unit_test(test_bom_and_empty_input),
        cmocka_unit_test(test_views_point_into_text),
        cmocka_unit_test(test_error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
