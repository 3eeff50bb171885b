/* Unit tests for proto/user_target (POP-4, FTP-4, G-16): the USER
 * name@host[:port] / name#host split at the LAST separator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/user_target.h"

static enum user_target_status split(const char *arg, struct user_target *t)
{
    memset(t, 0x5a, sizeof(*t));
    return user_target_split(str_from_cstr(arg), t);
}

static void assert_view(struct str v, const char *want)
{
    assert_int_equal(v.len, strlen(want));
    assert_memory_equal(v.ptr, want, v.len);
}

static void test_targets(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *name, *host;
        uint16_t port;
        bool ipv6;
    } ok[] = {
        {"anonymous@ftp.example.org", "anonymous", "ftp.example.org", 0, false},
        {"anonymous#ftp.example.org", "anonymous", "ftp.example.org", 0, false},
        {"a@b.example@ftp.example", "a@b.example", "ftp.example", 0, false},
        {"a#b@c#ftp.example:2121", "a#b@c", "ftp.example", 2121, false},
        {"u@127.0.0.1:21", "u", "127.0.0.1", 21, false},
        {"u@[::1]", "u", "::1", 0, true},
        {"u#[2001:db8::1]:65535", "u", "2001:db8::1", 65535, true},
        {"u@my_host-1.example", "u", "my_host-1.example", 0, false},
    };
    struct user_target t;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(split(ok[i].arg, &t), USER_TARGET_HOST);
        assert_view(t.name, ok[i].name);
        assert_view(t.host, ok[i].host);
        assert_int_equal(t.port, ok[i].port);
        assert_int_equal(t.ipv6, ok[i].ipv6);
    }
    assert_int_equal(split("alice", &t), USER_TARGET_PLAIN);
    assert_view(t.name, "alice");
    assert_int_equal(t.host.len, 0);
    assert_int_equal(t.port, 0);
    assert_string_equal(user_target_status_name(USER_TARGET_HOST), "HOST");
}

static void test_syntax(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "@host",      "u@",       "u#",           "a b@host",       "u@ho st",    "u@host/x",
        "u@::1",      "u@[::1",   "u@[]",         "u@[1.2.3.4]",    "u@[::1]x",   "u@[::1]:",
        "u@host:",    "u@host:0", "u@host:65536", "u@host:1234567", "u@host:21x", "u@h\x01st",
        "u\x7f@host", "u@[::g]",  "u@host:-1",
    };
    struct user_target t;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (split(bad[i], &t) != USER_TARGET_SYNTAX)
            fail_msg("accepted: %s", bad[i]);
    char longhost[300] = "u@";
    memset(longhost + 2, 'h', USER_TARGET_HOST_MAX);
    longhost[2 + USER_TARGET_HOST_MAX] = '\0';
    assert_int_equal(split(longhost, &t), USER_TARGET_HOST);
    longhost[2 + USER_TARGET_HOST_MAX] = 'h';
    longhost[3 + USER_TARGET_HOST_MAX] = '\0';
    assert_int_equal(split(longhost, &t), USER_TARGET_SYNTAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
