/* Unit tests for proxy/proxy_slots: the lowest free slot is claimed first
 * (the slot number is the logged "internal process ID"), pre_spawn caps
 * the sessions, the per-client count, and the master's reaping of a dead
 * worker's slots, across a real fork as in the gateway. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "proxy/proxy_slots.h"

static void test_lowest_free_slot_first(void **state)
{
    (void)state;
    struct proxy_slots *s = proxy_slots_new(5);
    assert_non_null(s);
    assert_int_equal(proxy_slots_cap(s), 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(proxy_slots_claim(s), i);
    assert_int_equal(proxy_slots_used(s), 5);
    proxy_slots_release(s, 3);
    proxy_slots_release(s, 1);
    assert_int_equal(proxy_slots_used(s), 3);
    assert_int_equal(proxy_slots_claim(s), 1);
    assert_int_equal(proxy_slots_claim(s), 3);
    proxy_slots_free(s);
}

/* pre_spawn is a hard cap, also past a 64-bit word of the bitmap and
 * with a last word only partly used. */
static void test_cap_across_words(void **state)
{
    (void)state;
    struct proxy_slots *s = proxy_slots_new(130);
    assert_non_null(s);
    for (int i = 0; i < 130; i++)
        assert_int_equal(proxy_slots_claim(s), i);
    assert_int_equal(proxy_slots_claim(s), -1);
    assert_int_equal(proxy_slots_used(s), 130);
    proxy_slots_release(s, 64);
    proxy_slots_release(s, 129);
    assert_int_equal(proxy_slots_claim(s), 64);
    assert_int_equal(proxy_slots_claim(s), 129);
    assert_int_equal(proxy_slots_claim(s), -1);
    /* A slot number that is not one is ignored. */
    proxy_slots_release(s, -1);
    proxy_slots_release(s, 130);
    assert_int_equal(proxy_slots_used(s), 130);
    proxy_slots_free(s);
}

static void test_client_count(void **state)
{
    (void)state;
    struct proxy_slots *s = proxy_slots_new(8);
    assert_non_null(s);
    const uint64_t a = 0x1111, b = 0x2222;
    for (int i = 0; i < 4; i++) {
        int slot = proxy_slots_claim(s);
        proxy_slots_set_client(s, slot, i < 3 ? a : b);
    }
    assert_int_equal(proxy_slots_client_count(s, a), 3);
    assert_int_equal(proxy_slots_client_count(s, b), 1);
    assert_int_equal(proxy_slots_client_count(s, 0x3333), 0);
    /* A released slot no longer counts for its client, and the next
     * session in it starts without one. */
    proxy_slots_release(s, 1);
    assert_int_equal(proxy_slots_client_count(s, a), 2);
    assert_int_equal(proxy_slots_claim(s), 1);
    assert_int_equal(proxy_slots_client_count(s, a), 2);
    proxy_slots_set_client(s, 99, a); /* out of range: ignored */
    assert_int_equal(proxy_slots_client_count(s, a), 2);
    proxy_slots_free(s);
}

static void test_reap_releases_only_that_owner(void **state)
{
    (void)state;
    struct proxy_slots *s = proxy_slots_new(6);
    assert_non_null(s);
    const int32_t dead = 4242, alive = 4343;
    for (int i = 0; i < 5; i++) {
        int slot = proxy_slots_claim(s);
        proxy_slots_set_owner(s, slot, i % 2 ? dead : alive);
        proxy_slots_set_client(s, slot, 0x77);
    }
    assert_int_equal(proxy_slots_reap(s, dead), 2); /* slots 1 and 3 */
    assert_int_equal(proxy_slots_used(s), 3);
    assert_int_equal(proxy_slots_client_count(s, 0x77), 3);
    assert_int_equal(proxy_slots_claim(s), 1);
    assert_int_equal(proxy_slots_claim(s), 3);
    assert_int_equal(proxy_slots_reap(s, dead), 0);
    proxy_slots_free(s);
}

/* The bitmap is shared with forked workers: what a child claims, the
 * parent sees, and the parent can take back once the child is dead. */
static void test_shared_with_forked_worker(void **state)
{
    (void)state;
    struct proxy_slots *s = proxy_slots_new(4);
    assert_non_null(s);
    assert_int_equal(proxy_slots_claim(s), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int a = proxy_slots_claim(s), b = proxy_slots_claim(s);
        proxy_slots_set_owner(s, a, (int32_t)getpid());
        proxy_slots_set_owner(s, b, (int32_t)getpid());
        _exit(a == 1 && b == 2 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(proxy_slots_used(s), 3);
    assert_int_equal(proxy_slots_claim(s), 3);
    assert_int_equal(proxy_slots_claim(s), -1);
    assert_int_equal(proxy_slots_reap(s, (int32_t)pid), 2);
    assert_int_equal(proxy_slots_claim(s), 1);
    proxy_slots_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lowest_free_slot_first),
        cmocka_unit_test(test_cap_across_words),
        cmocka_unit_test(test_client_count),
        cmocka_unit_test(test_reap_releases_only_that_owner),
        cmocka_unit_test(test_shared_with_forked_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
