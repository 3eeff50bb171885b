/* Unit tests for core/verdict_cache: what is remembered, for how long, and
 * when everything is forgotten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/verdict_cache.h"

static void digest_of(const char *s, uint8_t d[SHA256_DIGEST_LEN])
{
    struct sha256 c = {0};
    assert_int_equal(sha256_init(&c), 0);
    sha256_update(&c, s, strlen(s));
    assert_int_equal(sha256_final(&c, d), 0);
}

static struct scanreq_reply reply(enum scanreq_verdict v, uint32_t details, uint64_t engine)
{
    struct scanreq_reply r;
    memset(&r, 0, sizeof(r));
    r.type = SCANREQ_T_SCAN;
    r.verdict = v;
    r.details = details;
    r.engine_id = engine;
    return r;
}

static void test_clean_remembered_until_ttl(void **state)
{
    (void)state;
    struct verdict_cache *vc = verdict_cache_new();
    uint8_t a[32], b[32];
    digest_of("file a", a);
    digest_of("file b", b);
    assert_false(verdict_cache_is_clean(vc, a, 1000));
    struct scanreq_reply r = reply(SCANREQ_CLEAN, 0, 7);
    verdict_cache_learn(vc, a, &r, 1000);
    assert_true(verdict_cache_is_clean(vc, a, 1000));
    assert_false(verdict_cache_is_clean(vc, b, 1000));
    assert_true(verdict_cache_is_clean(vc, a, 1000 + VERDICT_CACHE_TTL_MS - 1));
    assert_false(verdict_cache_is_clean(vc, a, 1000 + VERDICT_CACHE_TTL_MS));
    struct verdict_cache_stats st = verdict_cache_stats(vc);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.stored, 1);
    verdict_cache_free(vc);
}

static void test_only_plain_clean_verdicts(void **state)
{
    (void)state;
    struct verdict_cache *vc = verdict_cache_new();
    uint8_t a[32];
    digest_of("x", a);
    struct scanreq_reply bad[] = {
        reply(SCANREQ_INFECTED, 0, 7),
        reply(SCANREQ_ERROR, 0, 7),
        reply(SCANREQ_CLEAN, SCANREQ_VSD_ENCRYPTED, 7),
        reply(SCANREQ_CLEAN, SCANREQ_VSD_MAXNESTED, 7),
        reply(SCANREQ_CLEAN, SCANREQ_VSD_SCANTIMEOUT, 7),
        reply(SCANREQ_CLEAN, 0, 0), /* no engine named */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        verdict_cache_learn(vc, a, &bad[i], 10);
        assert_false(verdict_cache_is_clean(vc, a, 10));
    }
    verdict_cache_free(vc);
}

static void test_new_engine_forgets_everything(void **state)
{
    (void)state;
    struct verdict_cache *vc = verdict_cache_new();
    uint8_t a[32], b[32];
    digest_of("a", a);
    digest_of("b", b);
    struct scanreq_reply r = reply(SCANREQ_CLEAN, 0, 7);
    verdict_cache_learn(vc, a, &r, 10);
    /* Any reply of another engine, even without a digest or not clean. */
    struct scanreq_reply other = reply(SCANREQ_INFECTED, 0, 8);
    verdict_cache_learn(vc, NULL, &other, 20);
    assert_false(verdict_cache_is_clean(vc, a, 20));
    r.engine_id = 8;
    verdict_cache_learn(vc, b, &r, 20);
    assert_true(verdict_cache_is_clean(vc, b, 20));
    assert_int_equal(verdict_cache_stats(vc).flushes, 1);
    verdict_cache_free(vc);
}

/* New definitions announced by scand's engine mark (lib/engine_mark):
 * everything goes at once, and the next reply's engine is taken without a
 * second flush. */
static void test_forget(void **state)
{
    (void)state;
    struct verdict_cache *vc = verdict_cache_new();
    uint8_t a[32];
    digest_of("a", a);
    struct scanreq_reply r = reply(SCANREQ_CLEAN, 0, 7);
    verdict_cache_learn(vc, a, &r, 10);
    assert_true(verdict_cache_is_clean(vc, a, 10));
    verdict_cache_forget(vc);
    assert_false(verdict_cache_is_clean(vc, a, 10));
    assert_int_equal(verdict_cache_stats(vc).flushes, 1);
    r.engine_id = 9;
    verdict_cache_learn(vc, a, &r, 20);
    assert_true(verdict_cache_is_clean(vc, a, 20));
    assert_int_equal(verdict_cache_stats(vc).flushes, 1);
    verdict_cache_forget(vc);
    verdict_cache_forget(vc); /* empty: not counted again */
    assert_int_equal(verdict_cache_stats(vc).flushes, 2);
    verdict_cache_free(vc);
}

static void test_colliding_slot_replaces(void **state)
{
    (void)state;
    struct verdict_cache *vc = verdict_cache_new();
    uint8_t a[32], b[32];
    memset(a, 0x11, sizeof(a));
    memcpy(b, a, sizeof(b));
    b[31] ^= 1; /* same slot, different digest */
    struct scanreq_reply r = reply(SCANREQ_CLEAN, 0, 7);
    verdict_cache_learn(vc, a, &r, 10);
    assert_false(verdict_cache_is_clean(vc, b, 10));
    verdict_cache_learn(vc, b, &r, 10);
    assert_true(verdict_cache_is_clean(vc, b, 10));
    assert_false(verdict_cache_is_clean(vc, a, 10));
    verdict_cache_free(vc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_remembered_until_ttl),
        cmocka_unit_test(test_only_plain_clean_verdicts),
        cmocka_unit_test(test_new_engine_forgets_everything),
        cmocka_unit_test(test_colliding_slot_replaces),
        cmocka_unit_test(test_forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
