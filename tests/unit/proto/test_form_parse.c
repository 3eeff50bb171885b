/* Unit tests for proto/form_parse: the console's form bodies and query
 * strings (application/x-www-form-urlencoded) and its session cookie.
 * Each accepted form with the fields it gives (names, values, lengths,
 * order), each refusal with the words of its reason and the promise that
 * a value is never quoted in it, every limit at its edge (one inside, one
 * over). Inputs are heap copies of exactly len + 1 bytes (the documented
 * writable byte past the data, filled with a non-NUL byte), so ASan sees a
 * write or read beyond it and the test sees a missing terminator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/form_parse.h"

#define CAP 16

static struct form_field fields[CAP];
static size_t nfields;
static char *copy;

static void teardown_copy(void)
{
    free(copy);
    copy = NULL;
}

static bool parse_n(const char *text, size_t len, size_t cap, char *err, size_t errlen)
{
    teardown_copy();
    copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    copy[len] = 'X'; /* must be overwritten by a NUL or left alone */
    nfields = 99;
    return form_parse(copy, len, fields, cap, &nfields, err, errlen);
}

/* parse_ok - text is accepted into want fields. */
static void parse_ok(const char *text, size_t want)
{
    char err[FORM_ERR_MAX] = "";
    if (!parse_n(text, strlen(text), CAP, err, sizeof(err)))
        fail_msg("refused: %s\n---\n%s", err, text);
    assert_int_equal(nfields, want);
    for (size_t i = 0; i < nfields; i++) {
        /* views lie in the buffer and are terminated there */
        assert_true(fields[i].name >= copy && fields[i].name <= copy + strlen(text));
        assert_true(fields[i].value >= copy && fields[i].value <= copy + strlen(text));
        assert_int_equal(strlen(fields[i].value), fields[i].value_len);
    }
}

static void field_is(size_t i, const char *name, const char *value)
{
    assert_true(i < nfields);
    assert_string_equal(fields[i].name, name);
    assert_string_equal(fields[i].value, value);
}

/* expect_err_n - refused with word in the reason; the count is 0. */
static void expect_err_n(const char *text, size_t len, const char *word)
{
    char err[FORM_ERR_MAX] = "";
    if (parse_n(text, len, CAP, err, sizeof(err)))
        fail_msg("accepted: %.*s", (int)len, text);
    assert_int_equal(nfields, 0);
    if (!strstr(err, word))
        fail_msg("wanted \"%s\", got \"%s\"", word, err);
    assert_null(strchr(err, '\n'));
    assert_true(strlen(err) < FORM_ERR_MAX - 1);
}

static void expect_err(const char *text, const char *word)
{
    expect_err_n(text, strlen(text), word);
}

static void test_basic(void **state)
{
    (void)state;
    parse_ok("", 0);
    parse_ok("a=1", 1);
    field_is(0, "a", "1");
    /* the last value is terminated in the byte past the data */
    assert_int_equal(copy[3], '\0');
    parse_ok("csrf=0123abcd&listen_port=8080&action=delete", 3);
    field_is(0, "csrf", "0123abcd");
    field_is(1, "listen_port", "8080");
    field_is(2, "action", "delete");
    /* names may hold '.', '-', '_' and digits */
    parse_ok("A.b-c_9=x", 1);
    field_is(0, "A.b-c_9", "x");
    /* the value runs to the '&': '=' inside it is kept */
    parse_ok("k=a=b==&l==", 2);
    field_is(0, "k", "a=b==");
    field_is(1, "l", "=");
}

static void test_empty_pairs_and_values(void **state)
{
    (void)state;
    parse_ok("a=1&&b=2&", 2);
    field_is(0, "a", "1");
    field_is(1, "b", "2");
    parse_ok("&&&", 0);
    parse_ok("&x=y", 1);
    field_is(0, "x", "y");
    /* no '=': a field with an empty value; '=' alone: empty value too */
    parse_ok("flag&b=&c", 3);
    field_is(0, "flag", "");
    assert_int_equal(fields[0].value_len, 0);
    field_is(1, "b", "");
    field_is(2, "c", "");
    assert_int_equal(copy[9], '\0');
}

static void test_decoding(void **state)
{
    (void)state;
    /* '+' is a space, %XX in either case, %2B a real '+', %26 '&', %3D '=' */
    parse_ok("q=a+b%20c%2bd%2Be&r=%26%3d%25", 2);
    field_is(0, "q", "a b c+d+e");
    assert_int_equal(fields[0].value_len, 9);
    field_is(1, "r", "&=%");
    /* an escaped name character is decoded before the name is checked */
    parse_ok("%61%5Fb=1", 1);
    field_is(0, "a_b", "1");
    /* textareas send CRLF; a TAB is kept */
    parse_ok("list=a%0D%0Ab%0D%0A%09c", 1);
    field_is(0, "list", "a\r\nb\r\n\tc");
    /* UTF-8 (2, 3 and 4 bytes), raw or escaped */
    parse_ok("lang=%E6%97%A5%E6%9C%AC&x=\xc3\xa4&y=%F0%9F%98%80&z=%F4%8F%BF%BF", 4);
    field_is(0, "lang", "\xe6\x97\xa5\xe6\x9c\xac");
    field_is(1, "x", "\xc3\xa4");
    field_is(2, "y", "\xf0\x9f\x98\x80");
    field_is(3, "z", "\xf4\x8f\xbf\xbf");
    /* decoding shrank the text: the fields are packed from its start */
    parse_ok("a=%41%42&b=%43", 2);
    field_is(0, "a", "AB");
    field_is(1, "b", "C");
    assert_memory_equal(copy, "a\0AB\0b\0C\0", 9);
}

static void test_duplicates_and_lookup(void **state)
{
    (void)state;
    parse_ok("svc=http&svc=smtp&other=1&svc=ftp", 4);
    field_is(0, "svc", "http");
    field_is(1, "svc", "smtp");
    field_is(3, "svc", "ftp");
    const struct form_field *f = form_get(fields, nfields, "svc");
    assert_ptr_equal(f, &fields[0]);
    assert_ptr_equal(form_get(fields, nfields, "other"), &fields[2]);
    assert_null(form_get(fields, nfields, "Svc")); /* case-sensitive */
    assert_null(form_get(fields, nfields, "sv"));
    assert_null(form_get(fields, 0, "svc"));
    assert_int_equal(form_count(fields, nfields, "svc"), 3);
    assert_int_equal(form_count(fields, nfields, "other"), 1);
    assert_int_equal(form_count(fields, nfields, "none"), 0);
    /* the count covers only the n given */
    assert_int_equal(form_count(fields, 2, "svc"), 2);
}

static void test_bad_escapes(void **state)
{
    (void)state;
    expect_err("a=%", "bad %-escape in the value");
    expect_err("a=%4", "bad %-escape in the value");
    expect_err("a=%4g", "bad %-escape in the value");
    expect_err("a=%%41", "bad %-escape");
    expect_err("a=%G1&b=2", "field 1 (a): bad %-escape in the value");
    expect_err("a=1&%zz=2", "field 2: bad %-escape in the name");
    /* an escape cut by the end of the text, "%4" then the byte past it */
    expect_err_n("a=%41", 4, "bad %-escape");
    /* the field number counts fields, not '&' */
    expect_err("&&a=1&&b=%", "field 2 (b)");
}

static void test_names(void **state)
{
    (void)state;
    expect_err("=x", "field 1: empty name");
    expect_err("a=1&=", "field 2: empty name");
    expect_err("a+b=1", "other than A-Z");    /* '+' decodes to a space */
    expect_err("a%00=1", "other than A-Z");   /* a decoded NUL */
    expect_err("a%0A=1", "other than A-Z");   /* a decoded control byte */
    expect_err("a\x01=1", "other than A-Z");  /* a raw one */
    expect_err("%C3%A4=1", "other than A-Z"); /* not ASCII */
    expect_err("a%3D=1", "other than A-Z");   /* an escaped '=' */
    expect_err("a/b=1", "other than A-Z");
    char name[FORM_NAME_MAX + 8];
    memset(name, 'n', FORM_NAME_MAX);
    memcpy(name + FORM_NAME_MAX, "=v", 3);
    parse_ok(name, 1);
    assert_int_equal(strlen(fields[0].name), FORM_NAME_MAX);
    memset(name, 'n', FORM_NAME_MAX + 1);
    memcpy(name + FORM_NAME_MAX + 1, "=v", 3);
    expect_err(name, "name longer than 64 bytes");
    /* the limit is on the decoded name: 64 escaped letters are fine */
    char esc[3 * FORM_NAME_MAX + 4];
    for (size_t i = 0; i < FORM_NAME_MAX; i++)
        memcpy(esc + 3 * i, "%41", 3);
    memcpy(esc + 3 * FORM_NAME_MAX, "=1", 3);
    parse_ok(esc, 1);
    assert_int_equal(strlen(fields[0].name), FORM_NAME_MAX);
}

static void test_value_bytes(void **state)
{
    (void)state;
    expect_err("pw=a%00b", "field 1 (pw): control byte 0x00 in the value");
    expect_err_n("pw=a\0b", 6, "control byte 0x00");
    expect_err("pw=%01", "control byte 0x01");
    expect_err("pw=%1B", "control byte 0x1b");
    expect_err("pw=%7F", "control byte 0x7f");
    expect_err("pw=a\x1f", "control byte 0x1f"); /* raw ones too, except TAB CR LF */
    parse_ok("pw=a\r\n\tb", 1);
    field_is(0, "pw", "a\r\n\tb");
    /* invalid UTF-8: stray continuation, overlong, surrogate, above
     * U+10FFFF, cut sequences, 0xff */
    static const char *const bad[] = {
        "v=%80",          "v=%C0%AF",       "v=%C1%BF",    "v=%E0%80%AF", "v=%ED%A0%80",
        "v=%F0%80%80%AF", "v=%F4%90%80%80", "v=%F5%80%80", "v=%C3",       "v=%E6%97",
        "v=%F0%9F%98",    "v=%FF",          "v=\xc3(",     "v=%C3%28",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_err(bad[i], "field 1 (v): the value is not valid UTF-8");
    /* the edges that are valid */
    parse_ok("v=%C2%80%DF%BF%E0%A0%80%ED%9F%BF%EE%80%80%F0%90%80%80", 1);
    assert_int_equal(fields[0].value_len, 17);
    /* a secret is never echoed in the reason */
    char err[FORM_ERR_MAX] = "";
    assert_false(parse_n("password=s3cret%00", 18, CAP, err, sizeof(err)));
    assert_null(strstr(err, "s3cret"));
}

static void test_capacity(void **state)
{
    (void)state;
    char err[FORM_ERR_MAX] = "";
    assert_true(parse_n("a=1&b=2&c=3", 11, 3, err, sizeof(err)));
    assert_int_equal(nfields, 3);
    assert_false(parse_n("a=1&b=2&c=3&d", 13, 3, err, sizeof(err)));
    assert_int_equal(nfields, 0);
    assert_string_equal(err, "more than 3 fields");
    /* empty pairs do not count */
    assert_true(parse_n("a=1&&&b=2&", 10, 2, err, sizeof(err)));
    assert_int_equal(nfields, 2);
    assert_false(parse_n("a", 1, 0, err, sizeof(err)));
    assert_true(parse_n("", 0, 0, err, sizeof(err)));
    assert_int_equal(nfields, 0);
    /* the byte past an empty text is not touched */
    assert_int_equal(copy[0], 'X');
}

static void test_error_buffer(void **state)
{
    (void)state;
    /* a small buffer gets a truncated, terminated reason; none gets none */
    char err[8];
    memset(err, 'z', sizeof(err));
    assert_false(parse_n("a=%", 3, CAP, err, sizeof(err)));
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_false(parse_n("a=%", 3, CAP, NULL, 0));
    assert_int_equal(nfields, 0);
    char one[1] = {'z'};
    assert_false(parse_n("a=%", 3, CAP, one, 0));
    assert_int_equal(one[0], 'z');
}

static void test_cookie(void **state)
{
    (void)state;
    char out[64];
    assert_true(form_cookie_get("sid=abc123", "sid", out, sizeof(out)));
    assert_string_equal(out, "abc123");
    assert_true(form_cookie_get("lang=ja; sid=Zz-_.~9; theme=x", "sid", out, sizeof(out)));
    assert_string_equal(out, "Zz-_.~9");
    assert_true(form_cookie_get("lang=ja; sid=Zz; theme=x", "theme", out, sizeof(out)));
    assert_string_equal(out, "x");
    assert_true(form_cookie_get("lang=ja;sid=1", "lang", out, sizeof(out)));
    assert_string_equal(out, "ja");
    /* blanks around pairs and around '='; the first of two wins */
    assert_true(form_cookie_get(" \tsid = v1 ;sid=v2", "sid", out, sizeof(out)));
    assert_string_equal(out, "v1");
    /* '=' in a value is kept; quotes around it go */
    assert_true(form_cookie_get("t=YWJj==", "t", out, sizeof(out)));
    assert_string_equal(out, "YWJj==");
    assert_true(form_cookie_get("t=\"q\"", "t", out, sizeof(out)));
    assert_string_equal(out, "q");
    assert_true(form_cookie_get("t=", "t", out, sizeof(out)));
    assert_string_equal(out, "");
    /* names are exact: no prefix, no suffix, no case folding */
    assert_false(form_cookie_get("sid2=a; xsid=b; SID=c", "sid", out, sizeof(out)));
    assert_string_equal(out, "");
    /* a pair without '=' is skipped, not taken as a name */
    assert_false(form_cookie_get("sid; a=b", "sid", out, sizeof(out)));
    assert_true(form_cookie_get("sid; sid=ok", "sid", out, sizeof(out)));
    assert_string_equal(out, "ok");
    /* bytes outside cookie-octet: refused, not cut */
    assert_false(form_cookie_get("sid=a b", "sid", out, sizeof(out)));
    assert_false(form_cookie_get("sid=a\\b", "sid", out, sizeof(out)));
    assert_false(form_cookie_get("sid=a,b", "sid", out, sizeof(out)));
    assert_false(form_cookie_get("sid=\"a", "sid", out, sizeof(out)));
    assert_false(form_cookie_get("sid=\xc3\xa4", "sid", out, sizeof(out)));
    assert_false(form_cookie_get("sid=a\x01", "sid", out, sizeof(out)));
    /* capacity: the value and its NUL */
    assert_true(form_cookie_get("sid=1234567", "sid", out, 8));
    assert_string_equal(out, "1234567");
    assert_false(form_cookie_get("sid=12345678", "sid", out, 8));
    assert_string_equal(out, "");
    assert_false(form_cookie_get("sid=", "sid", out, 0));
    assert_false(form_cookie_get(NULL, "sid", out, sizeof(out)));
    assert_false(form_cookie_get("", "sid", out, sizeof(out)));
}

static int teardown(void **state)
{
    (void)state;
    teardown_copy();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_basic, teardown),
        cmocka_unit_test_teardown(test_empty_pairs_and_values, teardown),
        cmocka_unit_test_teardown(test_decoding, teardown),
        cmocka_unit_test_teardown(test_duplicates_and_lookup, teardown),
        cmocka_unit_test_teardown(test_bad_escapes, teardown),
        cmocka_unit_test_teardown(test_names, teardown),
        cmocka_unit_test_teardown(test_value_bytes, teardown),
        cmocka_unit_test_teardown(test_capacity, teardown),
        cmocka_unit_test_teardown(test_error_buffer, teardown),
        cmocka_unit_test_teardown(test_cookie, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
