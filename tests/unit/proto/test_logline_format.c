/* Unit tests for proto/logline_format (spec LOG-3, LOG-4, C-24, C-47).
 *
 * Fixed times with TZ=UTC (and a POSIX JST-9 zone for the local-time
 * check), unknown parts, hostile host names and messages, truncation,
 * and the /strerror(<errno>)=<text> suffix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/logline_format.h"

static char mem[LOGLINE_LINE_MAX + 1];

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static int setup_utc(void **state)
{
    (void)state;
    set_tz("UTC");
    return 0;
}

/* format one line into mem and return it NUL-terminated. */
static const char *line_of(const struct logline_ctx *ctx, struct str msg)
{
    struct buf b;
    buf_init(&b, mem, LOGLINE_LINE_MAX);
    assert_true(logline_format(&b, ctx, msg));
    mem[buf_len(&b)] = '\0';
    return mem;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

/* assert the bracket holds exactly 6 space-separated fields */
static void assert_bracket_fields(const char *line)
{
    const char *open = strchr(line, '[');
    assert_non_null(open);
    /* the closing bracket of the prefix: the first ']' after '[' */
    const char *close = strchr(open, ']');
    assert_non_null(close);
    size_t fields = 1;
    for (const char *p = open + 1; p < close; p++) {
        assert_true(*p != '[');
        fields += *p == ' ';
    }
    assert_int_equal(fields, 6);
    assert_int_equal(close[1], ' ');
}

static void test_full_prefix_utc(void **state)
{
    (void)state;
    struct logline_ctx ctx = {
        .time = {.tv_sec = 1327996843, .tv_nsec = 799999999},
        .listen_port = 9080,
        .internal_id = 0,
        .client_ip = STR_LIT("192.51.16.1"),
        .client_host = STR_LIT("client.example.jp"),
        .client_port = 40000,
        .server_ip = STR_LIT("127.0.0.1"),
        .server_host = STR_LIT("localhost"),
        .server_port = 80,
    };
    const char *l = line_of(&ctx, STR_LIT("###ERROR### get_response_header: Too Large Header"));
    assert_string_equal(l, "1327996843.799 [2012/01/31 08:00:43 9080 0 "
                           "192.51.16.1:client.example.jp:40000 127.0.0.1:localhost:80] "
                           "###ERROR### get_response_header: Too Large Header\n");
    assert_bracket_fields(l);
}

static void test_local_time_zone(void **state)
{
    (void)state;
    /* 000:84: 1419552128.199 was shown by logconv as 2014-12-26 09:02:08 (JST) */
    set_tz("JST-9");
    struct logline_ctx ctx = {
        .time = {.tv_sec = 1419552128, .tv_nsec = 199000000},
        .listen_port = 8080,
        .internal_id = 60,
    };
    const char *l = line_of(&ctx, STR_LIT("m"));
    set_tz("UTC");
    assert_string_equal(l, "1419552128.199 [2014/12/26 09:02:08 8080 60 -:-:- -:-:-] m\n");
}

static void test_unknown_parts(void **state)
{
    (void)state;
    struct logline_ctx ctx = {
        .time = {.tv_sec = 0, .tv_nsec = 5000000},
        .listen_port = LOGLINE_UNKNOWN,
        .internal_id = LOGLINE_UNKNOWN,
    };
    const char *l = line_of(&ctx, STR_LIT("main: ### START ###"));
    assert_string_equal(l, "0.005 [1970/01/01 00:00:00 - - -:-:- -:-:-] main: ### START ###\n");
    assert_bracket_fields(l);

    /* ip known, host not (no reverse lookup), server not contacted */
    ctx.listen_port = 9025;
    ctx.internal_id = 3;
    ctx.client_ip = STR_LIT("10.0.0.5");
    ctx.client_port = 51234;
    l = line_of(&ctx, STR_NULL);
    assert_string_equal(l, "0.005 [1970/01/01 00:00:00 9025 3 10.0.0.5:-:51234 -:-:-] \n");
}

static void test_ipv6_and_hostile_hosts(void **state)
{
    (void)state;
    struct logline_ctx ctx = {
        .time = {.tv_sec = 1, .tv_nsec = 0},
        .listen_port = 9110,
        .internal_id = 1,
        .client_ip = STR_LIT("::1"),
        .client_host = STR_LIT("evil host:1] x[\n"),
        .client_port = 1,
        .server_ip = STR_LIT("2001:db8::5"),
        .server_host = STR_LIT("pop%.example"),
        .server_port = 110,
    };
    const char *l = line_of(&ctx, STR_LIT("ok"));
    assert_string_equal(l, "1.000 [1970/01/01 00:00:01 9110 1 ::1:evil%20host%3a1%5d%20x%5b%0a:1 "
                           "2001:db8::5:pop%25.example:110] ok\n");
    assert_bracket_fields(l);
    assert_int_equal(count_char(l, '\n'), 1);
}

static void test_message_control_bytes(void **state)
{
    (void)state;
    struct logline_ctx ctx = {.time = {.tv_sec = 2}, .internal_id = 0, .listen_port = 21};
    static const char msg[] = "ERROR Reply(MAIL): buf=[550 no\r\n1 [forged] x]\x7f\ttab";
    const char *l = line_of(&ctx, str_make(msg, sizeof(msg) - 1));
    assert_string_equal(l, "2.000 [1970/01/01 00:00:02 21 0 -:-:- -:-:-] "
                           "ERROR Reply(MAIL): buf=[550 no\\x0d\\x0a1 [forged] x]\\x7f\\x09tab\n");
    assert_int_equal(count_char(l, '\n'), 1);
    /* NUL inside a length-carrying message */
    l = line_of(&ctx, str_make("a\0b", 3));
    assert_string_equal(l, "2.000 [1970/01/01 00:00:02 21 0 -:-:- -:-:-] a\\x00b\n");
}

static void test_long_message_truncated(void **state)
{
    (void)state;
    static char msg[10000];
    memset(msg, 'm', sizeof(msg));
    struct logline_ctx ctx = {.time = {.tv_sec = 3}, .listen_port = 9080};
    const char *l = line_of(&ctx, str_make(msg, sizeof(msg)));
    const char *body = strstr(l, "] ") + 2;
    assert_int_equal(strspn(body, "m"), LOGLINE_MESSAGE_MAX);
    assert_string_equal(body + LOGLINE_MESSAGE_MAX, "\n");

    /* a buffer smaller than prefix + message: the message is cut to fit,
     * the '\n' is kept; escapes are never split */
    msg[0] = '\n';
    char small[64];
    struct buf b;
    buf_init(&b, small, sizeof(small));
    assert_true(logline_format(&b, &ctx, str_make(msg, sizeof(msg))));
    assert_int_equal(buf_len(&b), sizeof(small));
    assert_int_equal(small[sizeof(small) - 1], '\n');
    assert_null(memchr(small, '\n', sizeof(small) - 1));

    /* too small for the prefix itself: false, nothing written */
    buf_init(&b, small, 20);
    assert_true(buf_append_cstr(&b, "old"));
    assert_false(logline_format(&b, &ctx, STR_LIT("x")));
    assert_int_equal(buf_len(&b), 3);
    assert_false(logline_format_prefix(&b, &ctx));
    assert_int_equal(buf_len(&b), 3);
}

static void test_cut_escape_whole(void **state)
{
    (void)state;
    struct logline_ctx ctx = {.time = {.tv_sec = 4}};
    char small[128];
    struct buf b;
    buf_init(&b, small, sizeof(small));
    assert_true(logline_format_prefix(&b, &ctx));
    size_t prefix = buf_len(&b);
    /* room for "ab" + 2 bytes + '\n': "\x0a" (4 bytes) must not be split */
    buf_init(&b, small, prefix + 5);
    assert_true(logline_format(&b, &ctx, STR_LIT("ab\ncd")));
    assert_int_equal(buf_len(&b), prefix + 3);
    assert_memory_equal(small + prefix, "ab\n", 3);
}

static void test_strerror_suffix(void **state)
{
    (void)state;
    char m[256];
    struct buf b;
    buf_init(&b, m, sizeof(m));
    assert_true(buf_append_cstr(&b, "###ERROR### bind(port=9080,addr=0.0.0.0). "));
    assert_true(logline_strerror_suffix(&b, EADDRINUSE));
    assert_true(str_eq_cstr(buf_view(&b), "###ERROR### bind(port=9080,addr=0.0.0.0). "
                                          "/strerror(98)=Address already in use"));
    buf_reset(&b);
    assert_true(logline_strerror_suffix(&b, ENOSPC));
    assert_true(str_eq_cstr(buf_view(&b), "/strerror(28)=No space left on device"));
    buf_reset(&b);
    assert_true(logline_strerror_suffix(&b, ENFILE));
    assert_true(str_eq_cstr(buf_view(&b), "/strerror(23)=Too many open files in system"));
    buf_reset(&b);
    assert_true(logline_strerror_suffix(&b, ENOENT));
    assert_true(str_eq_cstr(buf_view(&b), "/strerror(2)=No such file or directory"));
    buf_reset(&b);
    assert_true(logline_strerror_suffix(&b, 123456));
    assert_true(str_has_prefix(buf_view(&b), STR_LIT("/strerror(123456)=")));
    assert_true(buf_len(&b) > strlen("/strerror(123456)="));
    /* all or nothing */
    buf_init(&b, m, 10);
    assert_false(logline_strerror_suffix(&b, ENOENT));
    assert_int_equal(buf_len(&b), 0);
}

static void test_bad_timespec(void **state)
{
    (void)state;
    struct logline_ctx ctx = {.time = {.tv_sec = 5, .tv_nsec = 2000000000L}};
    const char *l = line_of(&ctx, STR_LIT("x"));
    assert_true(strncmp(l, "5.000 [1970/01/01 00:00:05 ", 27) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_full_prefix_utc, setup_utc),
        cmocka_unit_test_setup(test_local_time_zone, setup_utc),
        cmocka_unit_test_setup(test_unknown_parts, setup_utc),
        cmocka_unit_test_setup(test_ipv6_and_hostile_hosts, setup_utc),
        cmocka_unit_test_setup(test_message_control_bytes, setup_utc),
        cmocka_unit_test_setup(test_long_message_truncated, setup_utc),
        cmocka_unit_test_setup(test_cut_escape_whole, setup_utc),
        cmocka_unit_test_setup(test_strerror_suffix, setup_utc),
        cmocka_unit_test_setup(test_bad_timespec, setup_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
