/* Unit tests for core/notify: the admin notification message (SCAN-13, G-31, G-37). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/notify.h"

static struct config *load(const char *text)
{
    struct config *cfg = config_load_text(text, strlen(text), "test.ini", SVC_HTTP, stderr);
    assert_non_null(cfg);
    return cfg;
}

static void test_message_headers_and_dot_stuffing(void **state)
{
    (void)state;
    struct config *cfg = load("[common]\nadmin_mailaddr=a@example.test, b@example.test\n"
                              "admin_notification_id=777\n");
    const char *tpl = "Subject: Virus found\nFrom: Gateway <gw@example.test>\n\n"
                      "line one\n.starts with a dot\nlast\n";
    char mem[8192], from[256];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(notify_build_message(&out, cfg, str_from_cstr(tpl), from, sizeof(from), 0));
    const char *msg = buf_cstr(&out);
    assert_string_equal(from, "gw@example.test"); /* TPL-2: From: sets the envelope sender */
    assert_non_null(strstr(msg, "Subject: Virus found\r\n"));
    assert_non_null(strstr(msg, "To: a@example.test, b@example.test\r\n"));
    assert_non_null(strstr(msg, "MIME-Version: 1.0\r\n"));
    assert_non_null(strstr(msg, "Content-Type: text/plain; charset=UTF-8\r\n"));
    assert_non_null(strstr(msg, "X-Admin-Notification-Id: 777\r\n\r\nline one\r\n"));
    assert_non_null(strstr(msg, "\r\n..starts with a dot\r\n")); /* RFC 5321 4.5.2 */
    size_t n = strlen(msg);
    const char *end = "\r\nlast\r\n.\r\n"; /* the body, then the end-of-data line */
    assert_true(n > strlen(end) && strcmp(msg + n - strlen(end), end) == 0);
    config_free(cfg);
}

static void test_envelope_sender_defaults_to_first_admin(void **state)
{
    (void)state;
    struct config *cfg = load("[common]\nadmin_mailaddr=first@example.test,second@example.test\n");
    char mem[4096], from[256];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(
        notify_build_message(&out, cfg, STR_LIT("Subject: x\n\nbody\n"), from, sizeof(from), 0));
    assert_string_equal(from, "first@example.test"); /* G-37 */
    assert_non_null(strstr(buf_cstr(&out), "From: first@example.test\r\n"));
    config_free(cfg);
}

static void test_utf8_subject_is_encoded(void **state)
{
    (void)state;
    struct config *cfg = load("[common]\nadmin_mailaddr=a@example.test\n");
    char mem[4096], from[256];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(notify_build_message(&out, cfg, str_from_cstr("Subject: ウイルス検出\n\nb\n"), from,
                                     sizeof(from), 0));
    assert_non_null(strstr(buf_cstr(&out), "Subject: =?UTF-8?B?"));
    config_free(cfg);
}

static void test_no_address_no_message(void **state)
{
    (void)state;
    struct config *cfg = load("[common]\n");
    char mem[4096], from[256];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_false(
        notify_build_message(&out, cfg, STR_LIT("Subject: x\n\nb\n"), from, sizeof(from), 0));
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_message_headers_and_dot_stuffing),
        cmocka_unit_test(test_envelope_sender_defaults_to_first_admin),
        cmocka_unit_test(test_utf8_subject_is_encoded),
        cmocka_unit_test(test_no_address_no_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
