/* Unit tests for core/dnsbl_cache and core/dnsbl_answer: answers kept for
 * their TTL and no longer, negative answers for the SOA's negative TTL
 * (and not at all without one), failures never, the bound (least
 * recently used evicted first), and what an answer means (the deciding
 * record, the smallest TTL, the one-hour cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/dnsbl_answer.h"
#include "core/dnsbl_cache.h"

static struct dnsbl_eval listed(uint32_t ttl)
{
    struct dnsbl_eval e = {DNSBL_OUT_LISTED, {127, 0, 0, 2}, ttl};
    return e;
}

static void test_ttl_expiry(void **state)
{
    (void)state;
    struct dnsbl_cache *c = dnsbl_cache_new(16);
    assert_non_null(c);
    struct dnsbl_eval e = listed(5), got;
    dnsbl_cache_put(c, DNSBL_RBL, "2.0.0.127.rbl.test", &e, 1000);
    assert_true(dnsbl_cache_get(c, DNSBL_RBL, "2.0.0.127.rbl.test", 1000, &got));
    assert_int_equal(got.outcome, DNSBL_OUT_LISTED);
    assert_memory_equal(got.reply, e.reply, 4);
    assert_int_equal(got.ttl, 5);
    /* 1 ms before the end: still there, 1 s left (rounded up) */
    assert_true(dnsbl_cache_get(c, DNSBL_RBL, "2.0.0.127.rbl.test", 5999, &got));
    assert_int_equal(got.ttl, 1);
    /* at the end: gone, and dropped */
    assert_false(dnsbl_cache_get(c, DNSBL_RBL, "2.0.0.127.rbl.test", 6000, &got));
    struct dnsbl_cache_stats st = dnsbl_cache_stats(c);
    assert_int_equal(st.entries, 0);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.misses, 1);
    dnsbl_cache_free(c);
}

static void test_keys(void **state)
{
    (void)state;
    struct dnsbl_cache *c = dnsbl_cache_new(16);
    struct dnsbl_eval e = listed(60), got;
    dnsbl_cache_put(c, DNSBL_SURBL, "spam.example.surbl.test", &e, 0);
    /* the same name asked as an RBL name is another question */
    assert_false(dnsbl_cache_get(c, DNSBL_RBL, "spam.example.surbl.test", 0, &got));
    assert_false(dnsbl_cache_get(c, DNSBL_SURBL, "ham.example.surbl.test", 0, &got));
    assert_true(dnsbl_cache_get(c, DNSBL_SURBL, "spam.example.surbl.test", 0, &got));
    /* a new answer replaces the old one */
    struct dnsbl_eval neg = {DNSBL_OUT_NOT_LISTED, {0}, 10};
    dnsbl_cache_put(c, DNSBL_SURBL, "spam.example.surbl.test", &neg, 0);
    assert_true(dnsbl_cache_get(c, DNSBL_SURBL, "spam.example.surbl.test", 0, &got));
    assert_int_equal(got.outcome, DNSBL_OUT_NOT_LISTED);
    assert_int_equal(dnsbl_cache_stats(c).entries, 1);
    /* ttl 0 is not stored */
    struct dnsbl_eval none = {DNSBL_OUT_NO_ANSWER, {0}, 0};
    dnsbl_cache_put(c, DNSBL_RBL, "1.0.0.127.rbl.test", &none, 0);
    assert_false(dnsbl_cache_get(c, DNSBL_RBL, "1.0.0.127.rbl.test", 0, &got));
    dnsbl_cache_free(c);
}

static void test_bound_lru(void **state)
{
    (void)state;
    struct dnsbl_cache *c = dnsbl_cache_new(3);
    struct dnsbl_eval e = listed(100), got;
    dnsbl_cache_put(c, DNSBL_RBL, "a", &e, 0);
    dnsbl_cache_put(c, DNSBL_RBL, "b", &e, 0);
    dnsbl_cache_put(c, DNSBL_RBL, "c", &e, 0);
    assert_true(dnsbl_cache_get(c, DNSBL_RBL, "a", 1, &got)); /* a is now the most recent */
    dnsbl_cache_put(c, DNSBL_RBL, "d", &e, 2);                /* evicts b */
    assert_int_equal(dnsbl_cache_stats(c).entries, 3);
    assert_int_equal(dnsbl_cache_stats(c).evicted, 1);
    assert_false(dnsbl_cache_get(c, DNSBL_RBL, "b", 3, &got));
    assert_true(dnsbl_cache_get(c, DNSBL_RBL, "a", 3, &got));
    assert_true(dnsbl_cache_get(c, DNSBL_RBL, "c", 3, &got));
    assert_true(dnsbl_cache_get(c, DNSBL_RBL, "d", 3, &got));
    /* many more than the bound: never more entries than capacity */
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "%d.rbl.test", i);
        dnsbl_cache_put(c, DNSBL_RBL, name, &e, 10);
    }
    assert_int_equal(dnsbl_cache_stats(c).entries, 3);
    assert_true(dnsbl_cache_get(c, DNSBL_RBL, "999.rbl.test", 10, &got));
    assert_false(dnsbl_cache_get(c, DNSBL_RBL, "996.rbl.test", 10, &got));
    dnsbl_cache_free(c);
}

static struct dns_a_answer answer(unsigned n, const unsigned char (*addr)[4], const uint32_t *ttl)
{
    struct dns_a_answer a;
    memset(&a, 0, sizeof(a));
    a.status = DNS_A_OK;
    a.n = n;
    for (unsigned i = 0; i < n; i++) {
        memcpy(a.addr[i], addr[i], 4);
        a.ttl[i] = ttl[i];
    }
    return a;
}

static void test_eval(void **state)
{
    (void)state;
    struct dnsbl_eval e;
    /* the first LISTED record decides; the smallest TTL counts */
    const unsigned char r1[][4] = {
        {10, 0, 0, 1}, {127, 255, 255, 254}, {127, 0, 0, 4}, {127, 0, 0, 2}};
    const uint32_t t1[] = {300, 200, 100, 400};
    struct dns_a_answer a = answer(4, r1, t1);
    dnsbl_answer_eval(DNSBL_RBL, &a, &e);
    assert_int_equal(e.outcome, DNSBL_OUT_LISTED);
    assert_memory_equal(e.reply, r1[2], 4);
    assert_int_equal(e.ttl, 100);
    /* no listed record: refused beats unexpected */
    a = answer(2, r1, t1);
    dnsbl_answer_eval(DNSBL_RBL, &a, &e);
    assert_int_equal(e.outcome, DNSBL_OUT_REFUSED);
    assert_memory_equal(e.reply, r1[1], 4);
    a = answer(1, r1, t1);
    dnsbl_answer_eval(DNSBL_SURBL, &a, &e);
    assert_int_equal(e.outcome, DNSBL_OUT_UNEXPECTED);
    /* 127.0.0.1 from a SURBL zone: the "access blocked" answer */
    const unsigned char r2[][4] = {{127, 0, 0, 1}};
    const uint32_t t2[] = {86400};
    a = answer(1, r2, t2);
    dnsbl_answer_eval(DNSBL_SURBL, &a, &e);
    assert_int_equal(e.outcome, DNSBL_OUT_REFUSED);
    assert_int_equal(e.ttl, DNSBL_TTL_MAX); /* capped */
    /* negative answers: the SOA's negative TTL, or not cached */
    memset(&a, 0, sizeof(a));
    a.status = DNS_A_NXDOMAIN;
    a.has_neg_ttl = true;
    a.neg_ttl = 30;
    dnsbl_answer_eval(DNSBL_RBL, &a, &e);
    assert_int_equal(e.outcome, DNSBL_OUT_NOT_LISTED);
    assert_int_equal(e.ttl, 30);
    a.status = DNS_A_NODATA;
    a.has_neg_ttl = false;
    dnsbl_answer_eval(DNSBL_RBL, &a, &e);
    assert_int_equal(e.outcome, DNSBL_OUT_NOT_LISTED);
    assert_int_equal(e.ttl, 0);
    a.status = DNS_A_FAIL;
    a.timeout = true;
    dnsbl_answer_eval(DNSBL_RBL, &a, &e);
    assert_int_equal(e.outcome, DNSBL_OUT_NO_ANSWER);
    assert_int_equal(e.ttl, 0);
}

/* A message built by hand: NXDOMAIN for 3.0.0.127.rbl.test with the SOA
 * of rbl.test (TTL 300, MINIMUM 30) in the authority section, the SOA's
 * names compressed against the question. */
static const unsigned char nxdomain[] = {
    0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 1, 0, 0,
    /* question: 3.0.0.127.rbl.test A IN (offset 12) */
    1, '3', 1, '0', 1, '0', 3, '1', '2', '7', 3, 'r', 'b', 'l', 4, 't', 'e', 's', 't', 0, 0, 1, 0,
    1,
    /* authority: rbl.test (pointer to offset 22) SOA IN TTL 300 */
    0xc0, 22, 0, 6, 0, 1, 0, 0, 1, 44, 0, 29,
    /* MNAME ns.<rbl.test>, RNAME h.<rbl.test> */
    2, 'n', 's', 0xc0, 22, 1, 'h', 0xc0, 22,
    /* serial refresh retry expire minimum */
    0, 0, 0, 1, 0, 0, 14, 16, 0, 0, 2, 88, 0, 1, 81, 128, 0, 0, 0, 30};

static void test_parse(void **state)
{
    (void)state;
    struct dns_a_answer a;
    dns_a_answer_parse(nxdomain, sizeof(nxdomain), &a);
    assert_int_equal(a.status, DNS_A_NXDOMAIN);
    assert_true(a.has_neg_ttl);
    assert_int_equal(a.neg_ttl, 30); /* min(300, 30) */
    unsigned char m[sizeof(nxdomain)];
    memcpy(m, nxdomain, sizeof(m));
    m[sizeof(m) - 1] = 0;
    m[sizeof(m) - 2] = 2; /* MINIMUM 512 > TTL 300 */
    dns_a_answer_parse(m, sizeof(m), &a);
    assert_int_equal(a.neg_ttl, 300);
    /* RCODE 0 without records: NODATA, the same SOA */
    m[3] = 0x80;
    dns_a_answer_parse(m, sizeof(m), &a);
    assert_int_equal(a.status, DNS_A_NODATA);
    assert_true(a.has_neg_ttl);
    /* SERVFAIL: no answer */
    m[3] = 0x82;
    dns_a_answer_parse(m, sizeof(m), &a);
    assert_int_equal(a.status, DNS_A_FAIL);
    assert_false(a.has_neg_ttl);
    /* cut inside the SOA: NXDOMAIN still, but no negative TTL */
    dns_a_answer_parse(nxdomain, sizeof(nxdomain) - 3, &a);
    assert_int_equal(a.status, DNS_A_NXDOMAIN);
    assert_false(a.has_neg_ttl);
    /* a query (QR clear) is not an answer */
    memcpy(m, nxdomain, sizeof(m));
    m[2] = 0x01;
    dns_a_answer_parse(m, sizeof(m), &a);
    assert_int_equal(a.status, DNS_A_FAIL);
}

static const unsigned char two_a[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, 1, '2', 1,
                                      '0', 1, '0', 3, '1', '2', '7', 3, 'r', 'b', 'l', 4, 't', 'e',
                                      's', 't', 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0,
                                      4, 127, 0, 0, 2,
                                      /* TTL with the top bit set counts as 0 (RFC 2181 8) */
                                      0xc0, 12, 0, 1, 0, 1, 0x80, 0, 0, 0, 0, 4, 127, 0, 0, 4};

static void test_parse_records(void **state)
{
    (void)state;
    struct dns_a_answer a;
    dns_a_answer_parse(two_a, sizeof(two_a), &a);
    assert_int_equal(a.status, DNS_A_OK);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.addr[0][3], 2);
    assert_int_equal(a.ttl[0], 300);
    assert_int_equal(a.addr[1][3], 4);
    assert_int_equal(a.ttl[1], 0);
    assert_false(a.has_neg_ttl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttl_expiry), cmocka_unit_test(test_keys),
        cmocka_unit_test(test_bound_lru),  cmocka_unit_test(test_eval),
        cmocka_unit_test(test_parse),      cmocka_unit_test(test_parse_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
