/* Unit tests for proxy/spam_dnsbl's name handling (spam_dnsbl_plan): the
 * order of the lookups (RBL address x zone, then SURBL domain x zone), the
 * registered-domain reduction and de-duplication of SURBL hosts (G-33),
 * IP literals skipped, repeated names looked up once, the cap of 32 per
 * method keeping the first ones in order; and that a check with nothing
 * to look up still calls back once, after spam_dnsbl_check returned. The
 * lookups themselves run against a real unbound in
 * tests/integration/test_dnsbl_resolver.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/ev.h"
#include "proxy/spam_dnsbl.h"

#define COUNT(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

static struct spam_dnsbl_plan plan;

static void test_order(void **state)
{
    (void)state;
    const char *addrs[] = {"192.0.2.1", "2001:db8::1"};
    const char *rbl[] = {"a.rbl.test", "b.rbl.test"};
    const char *hosts[] = {"www.spam.example", "ham.example"};
    const char *surbl[] = {"s.test"};
    struct spam_dnsbl_query_set q = {addrs, 2, rbl, 2, hosts, 2, surbl, 1};
    spam_dnsbl_plan(&q, &plan);
    assert_int_equal(plan.n, 6);
    assert_int_equal(plan.rbl, 4);
    assert_int_equal(plan.surbl, 2);
    assert_int_equal(plan.skipped, 0);
    assert_string_equal(plan.l[0].name, "1.2.0.192.a.rbl.test");
    assert_string_equal(plan.l[1].name, "1.2.0.192.b.rbl.test");
    assert_string_equal(plan.l[2].name,
                        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0."
                        "0.2.a.rbl.test");
    assert_string_equal(plan.l[2].subject, "2001:db8::1");
    assert_int_equal(plan.l[3].list, DNSBL_RBL);
    assert_string_equal(plan.l[4].name, "spam.example.s.test");
    assert_string_equal(plan.l[4].subject, "spam.example");
    assert_int_equal(plan.l[4].list, DNSBL_SURBL);
    assert_string_equal(plan.l[5].name, "ham.example.s.test");
    assert_ptr_equal(plan.l[5].zone, surbl[0]);
}

static void test_surbl_reduction(void **state)
{
    (void)state;
    const char *hosts[] = {
        "www.Spam.Example", "mail.spam.example", "192.0.2.7",    "[2001:db8::2]", "co.jp",
        "www.spam.co.jp",   "localhost",         "x.spam.co.jp", "a.b.tokyo.jp"};
    const char *surbl[] = {"multi.surbl.test"};
    struct spam_dnsbl_query_set q = {NULL, 0, NULL, 0, hosts, COUNT(hosts), surbl, 1};
    spam_dnsbl_plan(&q, &plan);
    assert_int_equal(plan.n, 3);
    assert_string_equal(plan.l[0].name, "spam.example.multi.surbl.test");
    assert_string_equal(plan.l[0].subject, "spam.example");
    assert_string_equal(plan.l[1].name, "spam.co.jp.multi.surbl.test");
    assert_string_equal(plan.l[2].name, "tokyo.jp.multi.surbl.test");
    assert_int_equal(plan.surbl, 3);
    assert_int_equal(plan.skipped, 0);
}

static void test_rbl_duplicates_and_bad_input(void **state)
{
    (void)state;
    const char *addrs[] = {"198.51.100.7", "::ffff:198.51.100.7", "198.51.100.7", "not-an-address",
                           "198.51.100.8"};
    const char *rbl[] = {"rbl.test", "bad..zone", "rbl.test"};
    struct spam_dnsbl_query_set q = {addrs, COUNT(addrs), rbl, COUNT(rbl), NULL, 0, NULL, 0};
    spam_dnsbl_plan(&q, &plan);
    assert_int_equal(plan.n, 2);
    assert_string_equal(plan.l[0].name, "7.100.51.198.rbl.test");
    assert_string_equal(plan.l[1].name, "8.100.51.198.rbl.test");
    assert_int_equal(plan.rbl, 2);
}

static void test_cap(void **state)
{
    (void)state;
    /* 12 addresses x 3 zones = 36: the first 32 in order (address 11's
     * first two zones are the last), 4 skipped */
    static char buf[40][32];
    const char *addrs[40];
    for (int i = 0; i < 40; i++) {
        snprintf(buf[i], sizeof(buf[i]), "192.0.2.%d", i + 1);
        addrs[i] = buf[i];
    }
    const char *rbl[] = {"one.test", "two.test", "three.test"};
    struct spam_dnsbl_query_set q = {addrs, 12, rbl, 3, NULL, 0, NULL, 0};
    spam_dnsbl_plan(&q, &plan);
    assert_int_equal(plan.rbl, SPAM_DNSBL_QUERIES_MAX);
    assert_int_equal(plan.skipped, 4);
    assert_string_equal(plan.l[31].name, "11.2.0.192.two.test");
    /* both methods capped on their own: 40 addresses and 40 domains */
    static char dbuf[40][32];
    const char *hosts[40];
    for (int i = 0; i < 40; i++) {
        snprintf(dbuf[i], sizeof(dbuf[i]), "www.d%d.example", i);
        hosts[i] = dbuf[i];
    }
    const char *surbl[] = {"s.test"};
    struct spam_dnsbl_query_set q2 = {addrs, 40, rbl, 1, hosts, 40, surbl, 1};
    spam_dnsbl_plan(&q2, &plan);
    assert_int_equal(plan.n, 64);
    assert_int_equal(plan.rbl, 32);
    assert_int_equal(plan.surbl, 32);
    assert_int_equal(plan.skipped, 16);
    assert_string_equal(plan.l[31].name, "32.2.0.192.one.test");
    assert_string_equal(plan.l[32].name, "d0.example.s.test");
    assert_string_equal(plan.l[63].name, "d31.example.s.test");
}

static int calls, returned_first;
static bool returned;

static void on_result(void *arg, const struct spam_dnsbl_result *r)
{
    calls++;
    returned_first = returned;
    assert_false(r->listed);
    assert_int_equal(r->rbl_queries + r->surbl_queries + r->timeouts, 0);
    ev_break(arg);
}

static void test_empty_check_calls_back_later(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    /* a server that is never asked: nothing to look up */
    struct spam_dnsbl *d = spam_dnsbl_new(loop, "127.0.0.1:9");
    assert_non_null(d);
    const char *hosts[] = {"192.0.2.1"}; /* an IP literal: no SURBL lookup */
    const char *surbl[] = {"s.test"};
    struct spam_dnsbl_query_set q = {NULL, 0, NULL, 0, hosts, 1, surbl, 1};
    calls = 0;
    returned = false;
    struct spam_dnsbl_req *r = spam_dnsbl_check(d, &q, on_result, loop);
    returned = true;
    assert_non_null(r);
    assert_int_equal(calls, 0);
    assert_int_equal(ev_run(loop), 0);
    assert_int_equal(calls, 1);
    assert_true(returned_first);
    /* a cancelled check never calls back */
    r = spam_dnsbl_check(d, &q, on_result, loop);
    spam_dnsbl_cancel(r);
    spam_dnsbl_free(d);
    assert_int_equal(calls, 1);
    ev_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_surbl_reduction),
        cmocka_unit_test(test_rbl_duplicates_and_bad_input),
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_empty_check_calls_back_later),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
