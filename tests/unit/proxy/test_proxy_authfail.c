/* Unit tests for proxy/proxy_authfail: the per-address failure limit
 * holds across the worker processes of a service (failures noted in
 * forked children block the address in the parent), expires a window
 * after the last failure, is per address, and a success clears it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "proxy/proxy_authfail.h"

static void test_shared_across_processes(void **state)
{
    (void)state;
    struct proxy_authfail *t = proxy_authfail_new();
    assert_non_null(t);
    /* One failure in each of PROXY_AUTHFAIL_MAX workers. */
    for (int i = 0; i < PROXY_AUTHFAIL_MAX; i++) {
        assert_false(proxy_authfail_blocked(t, "192.0.2.7", 1000));
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            proxy_authfail_note(t, "192.0.2.7", 1000 + (uint64_t)i);
            _exit(0);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    assert_true(proxy_authfail_blocked(t, "192.0.2.7", 2000));
    assert_false(proxy_authfail_blocked(t, "192.0.2.8", 2000));
    assert_false(proxy_authfail_blocked(t, "2001:db8::7", 2000));
    /* Blocked until a window after the last failure (at 1004). */
    assert_true(proxy_authfail_blocked(t, "192.0.2.7", 1004 + PROXY_AUTHFAIL_WINDOW_MS - 1));
    assert_false(proxy_authfail_blocked(t, "192.0.2.7", 1004 + PROXY_AUTHFAIL_WINDOW_MS));
    proxy_authfail_free(t);
}

static void test_window_and_clear(void **state)
{
    (void)state;
    struct proxy_authfail *t = proxy_authfail_new();
    /* Failures a window apart never add up. */
    for (int i = 0; i < 10; i++)
        proxy_authfail_note(t, "192.0.2.9", (uint64_t)i * PROXY_AUTHFAIL_WINDOW_MS);
    assert_false(proxy_authfail_blocked(t, "192.0.2.9", 9 * (uint64_t)PROXY_AUTHFAIL_WINDOW_MS));
    for (int i = 0; i < PROXY_AUTHFAIL_MAX; i++)
        proxy_authfail_note(t, "192.0.2.10", 5000);
    assert_true(proxy_authfail_blocked(t, "192.0.2.10", 5001));
    proxy_authfail_clear(t, "192.0.2.10");
    assert_false(proxy_authfail_blocked(t, "192.0.2.10", 5002));
    proxy_authfail_free(t);
}

static void test_flood_of_addresses(void **state)
{
    (void)state;
    struct proxy_authfail *t = proxy_authfail_new();
    for (int i = 0; i < PROXY_AUTHFAIL_MAX; i++)
        proxy_authfail_note(t, "198.51.100.1", 100);
    /* More distinct addresses than entries: the stalest go, the table
     * keeps working, and the newest guesser is still counted. */
    char ip[32];
    for (int i = 0; i < 3 * PROXY_AUTHFAIL_SLOTS; i++) {
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16 & 255, i >> 8 & 255, i & 255);
        proxy_authfail_note(t, ip, 200 + (uint64_t)i);
    }
    for (int i = 0; i < PROXY_AUTHFAIL_MAX; i++)
        proxy_authfail_note(t, "198.51.100.2", 10000);
    assert_true(proxy_authfail_blocked(t, "198.51.100.2", 10001));
    proxy_authfail_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_across_processes),
        cmocka_unit_test(test_window_and_clear),
        cmocka_unit_test(test_flood_of_addresses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
