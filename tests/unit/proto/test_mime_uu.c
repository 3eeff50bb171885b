/* Unit tests for proto/mime_uu: finding and decoding uuencoded files the
 * way mail clients do (issue 10 item 11). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "lib/str.h"
#include "proto/mime_uu.h"

/* "hello world\n" uuencoded */
#define HELLO ",:&5L;&\\@=V]R;&0*\n"

static struct str S(const char *s) {
    return str_make(s, strlen(s));
}

static void
decoded_is(const char *text, const struct mime_uu *u, const char *want)
{
    char out[256];
    size_t used = 0;
    size_t n = mime_uu_decode(text + u->data, u->end - u->data, out, sizeof(out), &used);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n);
    assert_int_equal(used, u->end - u->data);
}

static void test_find_and_decode(void **state)
{
    (void)state;
    const char *t = "prose first\nbegin 644 a.txt\n" HELLO "`\nend\ntrailing\n";
    struct mime_uu u;
    assert_true(mime_uu_next(S(t), 0, &u));
    assert_string_equal(u.name, "a.txt");
    assert_int_equal(u.begin, 12);
    decoded_is(t, &u, "hello world\n");
    assert_false(mime_uu_next(S(t), u.end, &u));
    assert_true(mime_uu_begins(S(t)));
}

static void test_client_forms(void **state)
{
    (void)state;
    /* Four-digit mode and CRLF line ends. */
    const char *crlf = "begin 0644 b.com\r\n,:&5L;&\\@=V]R;&0*\r\n`\r\nend\r\n";
    struct mime_uu u;
    assert_true(mime_uu_next(S(crlf), 0, &u));
    assert_string_equal(u.name, "b.com");
    decoded_is(crlf, &u, "hello world\n");
    /* A decoy begin line followed by prose is skipped; both real files
     * are found, in order. */
    const char *two = "begin 644 decoy.txt\nnot data at all\n"
                      "begin 644 one\n" HELLO "end\n"
                      "begin 755 two\n" HELLO "end\n";
    assert_true(mime_uu_next(S(two), 0, &u));
    assert_string_equal(u.name, "one");
    assert_true(mime_uu_next(S(two), u.end, &u));
    assert_string_equal(u.name, "two");
    assert_false(mime_uu_next(S(two), u.end, &u));
    /* Not a begin line: no mode, mode not octal, not at a line start. */
    assert_false(mime_uu_begins(S("begin here\n" HELLO)));
    assert_false(mime_uu_begins(S("begin 999 x\n" HELLO)));
    assert_false(mime_uu_begins(S("xbegin 644 x\n" HELLO)));
    /* A block without "end" runs to its last data line. */
    const char *open_end = "begin 644 c\n" HELLO "and then prose\n";
    assert_true(mime_uu_next(S(open_end), 0, &u));
    assert_int_equal(u.end, strlen("begin 644 c\n" HELLO));
}

static void test_bounded_output(void **state)
{
    (void)state;
    const char *t = HELLO HELLO;
    char out[16];
    size_t used = 0;
    /* Only whole lines that fit are decoded. */
    assert_int_equal(mime_uu_decode(t, strlen(t), out, sizeof(out), &used), 12);
    assert_int_equal(used, strlen(HELLO));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_decode),
        cmocka_unit_test(test_client_forms),
        cmocka_unit_test(test_bounded_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
