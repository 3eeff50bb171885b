/* Unit tests for proto/notify_mail_format: the wire form of notification
 * mails (TPL-2, TPL-5, G-31). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <stdio.h>
#include "lib/buf.h"
#include "lib/str.h"
#include "proto/notify_mail_format.h"

static char mem[65536];

static const char *format(const char *rendered, struct notify_mail_parts parts)
{
    struct buf b;
    buf_init(&b, mem, sizeof(mem) - 1);
    assert_true(notify_mail_format(str_from_cstr(rendered), &parts, &b));
    mem[buf_len(&b)] = '\0';
    return mem;
}

static void test_headers_added_in_order(void **state)
{
    (void)state;
    struct notify_mail_parts p = {STR_LIT("X-Lead: 1\r\n"), STR_LIT("gw@example.test"),
                                  STR_LIT("X-Trail: 2\r\n")};
    const char *m = format("Subject: hi\n\nline one\nline two\n", p);
    assert_string_equal(m, "X-Lead: 1\r\nSubject: hi\r\nFrom: gw@example.test\r\n"
                           "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                           "Content-Transfer-Encoding: 7bit\r\nX-Trail: 2\r\n\r\n"
                           "line one\r\nline two\r\n");
}

static void test_template_headers_win(void **state)
{
    (void)state;
    struct notify_mail_parts p = {STR_NULL, STR_LIT("gw@example.test"), STR_NULL};
    const char *m = format("From: me@example.test\nMIME-Version: 1.0\n"
                           "Content-Type: text/plain; charset=ISO-2022-JP\n"
                           "Content-Transfer-Encoding: 7bit\n\nb\n",
                           p);
    assert_string_equal(m, "From: me@example.test\r\nMIME-Version: 1.0\r\n"
                           "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
                           "Content-Transfer-Encoding: 7bit\r\n\r\nb\r\n");
}

static void test_utf8_subject_encoded_and_body_8bit(void **state)
{
    (void)state;
    struct notify_mail_parts p = {STR_NULL, STR_NULL, STR_NULL};
    const char *m = format("Subject: \xE6\x97\xA5\xE6\x9C\xAC\n\n\xE6\x97\xA5\n", p);
    assert_string_equal(m, "Subject: =?UTF-8?B?5pel5pys?=\r\nMIME-Version: 1.0\r\n"
                           "Content-Type: text/plain; charset=UTF-8\r\n"
                           "Content-Transfer-Encoding: 8bit\r\n\r\n\xE6\x97\xA5\r\n");
}

/* RFC 5322 2.1.1: no header line longer than 998 bytes, whatever the
 * values made the template's lines. */
static void test_long_lines_folded(void **state)
{
    (void)state;
    static char tpl[8192];
    size_t o = 0;
    o += (size_t)snprintf(tpl + o, sizeof(tpl) - o, "Subject: ");
    for (int i = 0; i < 400; i++)
        o += (size_t)snprintf(tpl + o, sizeof(tpl) - o, "word ");
    o += (size_t)snprintf(tpl + o, sizeof(tpl) - o, "\nX-Url: ");
    memset(tpl + o, 'q', 2500);
    o += 2500;
    snprintf(tpl + o, sizeof(tpl) - o, "\n\nbody\n");
    struct notify_mail_parts p = {STR_NULL, STR_NULL, STR_NULL};
    const char *m = format(tpl, p);
    const char *end = strstr(m, "\r\n\r\n");
    assert_non_null(end);
    size_t words = 0, us = 0;
    for (const char *l = m; l < end;) {
        const char *e = strstr(l, "\r\n");
        assert_true(e - l <= 998);
        for (const char *c = l; c < e; c++)
            us += *c == 'q';
        for (const char *c = l; (c = strstr(c, "word")) && c < e; c += 4)
            words++;
        l = e + 2;
    }
    assert_int_equal(words, 400); /* folded, nothing lost */
    assert_int_equal(us, 2500);
}

static void test_too_small_leaves_out_unchanged(void **state)
{
    (void)state;
    char small[32];
    struct buf b;
    buf_init(&b, small, sizeof(small));
    buf_append_cstr(&b, "keep");
    struct notify_mail_parts p = {STR_NULL, STR_NULL, STR_NULL};
    assert_false(notify_mail_format(STR_LIT("Subject: x\n\nbody\n"), &p, &b));
    assert_int_equal(buf_len(&b), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers_added_in_order),
        cmocka_unit_test(test_template_headers_win),
        cmocka_unit_test(test_utf8_subject_encoded_and_body_8bit),
        cmocka_unit_test(test_long_lines_folded),
        cmocka_unit_test(test_too_small_leaves_out_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
