/* Unit tests for proto/authlog_format: the auth log line in the form of
 * Postfix's SASL failure line (what fail2ban's postfix[mode=auth] filter
 * reads; the integration tests run fail2ban-regex on real lines), with
 * hostile bytes escaped so no client can end the line or forge a host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/authlog_format.h"

static void line_eq(const struct authlog_line *l, const char *want)
{
    char mem[1024];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(authlog_format(&b, l));
    mem[buf_len(&b)] = '\0';
    assert_string_equal(mem, want);
}

static void test_line(void **state)
{
    (void)state;
    struct authlog_line l = {.when = 0,
                             .program = STR_LIT("sekisho_smtp"),
                             .pid = 1234,
                             .client_ip = STR_LIT("192.0.2.7"),
                             .mechanism = STR_LIT("LOGIN"),
                             .reason = "authentication failure",
                             .user = STR_LIT("alice")};
    line_eq(&l, "1970-01-01 00:00:00 sekisho_smtp[1234]: warning: unknown[192.0.2.7]: SASL LOGIN "
                "authentication failed: authentication failure, user=alice\n");
    l.client_host = STR_LIT("client.example");
    l.mechanism = STR_LIT("plain!");
    line_eq(&l, "1970-01-01 00:00:00 sekisho_smtp[1234]: warning: client.example[192.0.2.7]: "
                "SASL ? authentication failed: authentication failure, user=alice\n");
}

static void test_hostile(void **state)
{
    (void)state;
    struct authlog_line l = {.when = 0,
                             .program = STR_LIT("sekisho_http"),
                             .pid = 1,
                             .client_host = STR_LIT("x[10.0.0.1]"),
                             .client_ip = STR_LIT("192.0.2.7"),
                             .mechanism = STR_LIT("PLAIN"),
                             .reason = "authentication failure",
                             .user = STR_LIT("a b,c%\r\nwarning: unknown[10.9.9.9]: SASL")};
    line_eq(&l, "1970-01-01 00:00:00 sekisho_http[1]: warning: x%5b10.0.0.1%5d[192.0.2.7]: SASL "
                "PLAIN authentication failed: authentication failure, "
                "user=a%20b%2cc%25%0d%0awarning:%20unknown%5b10.9.9.9%5d:%20SASL\n");
}

static void test_too_small(void **state)
{
    (void)state;
    char mem[40];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct authlog_line l = {.program = STR_LIT("sekisho_smtp"),
                             .client_ip = STR_LIT("192.0.2.7"),
                             .mechanism = STR_LIT("PLAIN"),
                             .reason = "authentication failure",
                             .user = STR_LIT("alice")};
    assert_false(authlog_format(&b, &l));
    assert_int_equal(buf_len(&b), 0);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_too_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
