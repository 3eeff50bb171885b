/* Unit tests for proto/mail_subject: where the Subject field is (its
 * continuation lines and line end included, the header's end respected)
 * and the field change_subject puts in its place (SPAM-10, G-08, issue 14:
 * an ASCII prefix as it is, any other RFC 2047 encoded; an encoded-word
 * stands apart from the text after it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/mail_subject.h"

static void find_eq(const char *h, bool found, size_t start, size_t end, const char *value)
{
    struct mail_subject_span s;
    mail_subject_find(h, strlen(h), &s);
    assert_int_equal(s.found, found);
    if (!found)
        return;
    assert_int_equal(s.start, start);
    assert_int_equal(s.end, end);
    assert_int_equal(s.value.len, strlen(value));
    assert_memory_equal(s.value.ptr, value, s.value.len);
}

static void test_find(void **state)
{
    (void)state;
    find_eq("From: a\r\nSubject: hi\r\nTo: b\r\n\r\nbody", true, 9, 22, " hi");
    /* continuation lines belong to the field */
    find_eq("Subject: a\r\n b\r\n\tc\r\nTo: x\r\n\r\n", true, 0, 20, " a\r\n b\r\n\tc");
    /* case-insensitive name, LF-only lines */
    find_eq("X: 1\nSUBJECT:x\n\nSubject: body\n", true, 5, 15, "x");
    /* only the header block: a Subject in the body is not it */
    find_eq("From: a\r\n\r\nSubject: not a header\r\n", false, 0, 0, "");
    /* "Subjects:" is another field */
    find_eq("Subjects: no\r\n\r\n", false, 0, 0, "");
    /* the first of two; a header without a blank line and without a line end */
    find_eq("Subject: one\r\nSubject: two\r\n", true, 0, 14, " one");
    find_eq("Subject: end", true, 0, 12, " end");
}

static void prefixed_eq(const char *prefix, const char *value, const char *want)
{
    char mem[4096];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(mail_subject_prefixed(str_from_cstr(prefix), str_from_cstr(value), &b));
    assert_int_equal(buf_len(&b), strlen(want));
    assert_memory_equal(buf_rptr(&b), want, strlen(want));
}

static void test_prefixed(void **state)
{
    (void)state;
    prefixed_eq("[[SPAM]]", " Hello", "Subject: [[SPAM]]Hello\r\n");
    prefixed_eq("[SPAM] ", " Hello\r\n world", "Subject: [SPAM] Hello\r\n world\r\n");
    /* no Subject: the prefix alone */
    prefixed_eq("[SPAM]", "", "Subject: [SPAM]\r\n");
    /* an encoded original needs the blank after an ASCII prefix */
    prefixed_eq("[SPAM]",
                " =?UTF-8?B?w7w=?=", "Subject: =?UTF-8?B?W1NQQU1d?=\r\n =?UTF-8?B?w7w=?=\r\n");
    prefixed_eq("[SPAM] ", " =?UTF-8?B?w7w=?=", "Subject: [SPAM] =?UTF-8?B?w7w=?=\r\n");
    /* a non-ASCII prefix is encoded, then a fold */
    prefixed_eq("\xc3\xbc", " x", "Subject: =?UTF-8?B?w7w=?=\r\n x\r\n");
}

static void test_long_first_line(void **state)
{
    (void)state;
    /* 9 + prefix + the first line over 998: the prefix goes encoded and
     * folded so that no line grows past the limit */
    char value[1000];
    value[0] = ' ';
    memset(value + 1, 'a', 985);
    value[986] = '\0';
    char mem[4096];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(mail_subject_prefixed(STR_LIT("[[SPAM]] "), str_from_cstr(value), &b));
    const char *p = buf_rptr(&b), *end = p + buf_len(&b);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        assert_true(nl - p <= 999);
        p = nl + 1;
    }
    assert_memory_equal(buf_rptr(&b), "Subject: =?UTF-8?B?", 19);
}

static void test_full_buffer(void **state)
{
    (void)state;
    char mem[16];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_false(mail_subject_prefixed(STR_LIT("[SPAM]"), STR_LIT(" a long enough subject"), &b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_prefixed),
        cmocka_unit_test(test_long_first_line),
        cmocka_unit_test(test_full_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
