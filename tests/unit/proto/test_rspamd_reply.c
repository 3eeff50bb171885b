/* Unit tests for proto/rspamd_reply: the replies rspamd 3.4 really sent
 * (captured into tests/data/rspamd/ by a run of the test harness: GTUBE,
 * a mail failing SPF, a ham mail, an empty body), the verdict mapping of
 * every action, the detection name and its bounds (top symbols, sanitised
 * characters, SCANREQ_NAME_MAX), the bound on kept symbols, and the
 * rejection of malformed, over-deep and ambiguous replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/rspamd_reply.h"
#include "proto/scanreq.h"

static struct rspamd_reply r;
static char err[128];

/* The captures live beside the sources; the suite runs from the
 * repository root (tests/run.sh), __FILE__ is relative to it. */
static char *capture(const char *name, size_t *len)
{
    char path[512];
    const char *me = __FILE__;
    const char *cut = strstr(me, "tests/unit/");
    snprintf(path, sizeof(path), "%.*stests/data/rspamd/%s", cut ? (int)(cut - me) : 0, me, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[65536];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    char *copy = malloc(*len ? *len : 1); /* exactly its size: ASan sees an over-read */
    assert_non_null(copy);
    memcpy(copy, buf, *len);
    return copy;
}

static enum rspamd_reply_status parse_s(const char *s)
{
    return rspamd_reply_parse(s, strlen(s), &r, err, sizeof(err));
}

static const struct rspamd_symbol *sym(const char *name)
{
    for (unsigned i = 0; i < r.nkept; i++)
        if (strcmp(r.symbols[i].name, name) == 0)
            return &r.symbols[i];
    return NULL;
}

static void test_capture_gtube(void **state)
{
    (void)state;
    size_t n;
    char *b = capture("gtube.json", &n);
    assert_int_equal(rspamd_reply_parse(b, n, &r, err, sizeof(err)), RSPAMD_REPLY_OK);
    free(b);
    assert_true(r.has_action);
    assert_string_equal(r.action, "reject");
    assert_true(r.is_skipped); /* the pre-filter decided */
    assert_true(r.score == 15.0 && r.required_score == 15.0);
    assert_int_equal(r.nsymbols, 1);
    assert_non_null(sym("GTUBE"));
    assert_false(r.has_error);
    assert_true(rspamd_reply_is_spam(r.action));
    char name[SCANREQ_NAME_MAX + 1];
    rspamd_reply_name(&r, name, sizeof(name));
    /* GTUBE scores 0: no symbol of positive score to name */
    assert_string_equal(name, "SEKISHO/SPAM_ENGINE/reject/15.00");
}

static void test_capture_spf_fail(void **state)
{
    (void)state;
    size_t n;
    char *b = capture("spf_fail.json", &n);
    assert_int_equal(rspamd_reply_parse(b, n, &r, err, sizeof(err)), RSPAMD_REPLY_OK);
    free(b);
    assert_string_equal(r.action, "add header");
    assert_false(r.is_skipped);
    assert_true(r.score > 12.09 && r.score < 12.11);
    assert_true(r.required_score == 15.0);
    assert_int_equal(r.nsymbols, 14);
    assert_int_equal(r.nkept, 14);
    assert_non_null(sym("R_SPF_FAIL"));
    assert_true(sym("R_SPF_FAIL")->score == 7.0);
    assert_true(sym("VIOLATED_DIRECT_SPF")->score == 3.5);
    assert_true(sym("ARC_NA")->score == 0.0);
    assert_true(rspamd_reply_is_spam(r.action));
    char name[SCANREQ_NAME_MAX + 1];
    rspamd_reply_name(&r, name, sizeof(name));
    assert_string_equal(
        name, "SEKISHO/SPAM_ENGINE/add_header/12.10/R_SPF_FAIL+VIOLATED_DIRECT_SPF+RDNS_NONE");
}

static void test_capture_ham_and_empty(void **state)
{
    (void)state;
    size_t n;
    char *b = capture("ham.json", &n);
    assert_int_equal(rspamd_reply_parse(b, n, &r, err, sizeof(err)), RSPAMD_REPLY_OK);
    free(b);
    assert_string_equal(r.action, "no action");
    assert_false(rspamd_reply_is_spam(r.action));
    assert_true(sym("R_SPF_ALLOW")->score == -0.2);
    b = capture("empty.json", &n);
    assert_int_equal(rspamd_reply_parse(b, n, &r, err, sizeof(err)), RSPAMD_REPLY_OK);
    free(b);
    assert_string_equal(r.action, "no action");
    assert_int_equal(r.nsymbols, 0);
    assert_true(r.score == 0.0);
}

static void test_error_reply(void **state)
{
    (void)state;
    /* what rspamd answers a request it cannot handle (with a 4xx/5xx) */
    assert_int_equal(parse_s("{\"error\":\"message has no body\"}"), RSPAMD_REPLY_OK);
    assert_true(r.has_error);
    assert_false(r.has_action);
    assert_string_equal(r.error, "message has no body");
    /* an over-long error is cut, not refused */
    char big[600];
    int n = snprintf(big, sizeof(big), "{\"error\":\"");
    memset(big + n, 'e', 400);
    snprintf(big + n + 400, sizeof(big) - (size_t)n - 400, "\"}");
    assert_int_equal(parse_s(big), RSPAMD_REPLY_OK);
    assert_int_equal(strlen(r.error), RSPAMD_REPLY_ERROR_MAX);
}

static void test_actions(void **state)
{
    (void)state;
    assert_true(rspamd_reply_is_spam("reject"));
    assert_true(rspamd_reply_is_spam("rewrite subject"));
    assert_true(rspamd_reply_is_spam("add header"));
    assert_false(rspamd_reply_is_spam("no action"));
    assert_false(rspamd_reply_is_spam("greylist"));
    assert_false(rspamd_reply_is_spam("soft reject"));
    assert_false(rspamd_reply_is_spam("Reject"));
    assert_false(rspamd_reply_is_spam(""));
}

static void test_escapes_and_whitespace(void **state)
{
    (void)state;
    assert_int_equal(
        parse_s(" \r\n\t{ \"act\\u0069on\" : \"rewrite\\u0020subject\" , \"score\":"
                "-1.5e1,\"symbols\":{\"S\\u00e9\\ud83d\\ude00_X\":{\"score\":2E0}}}\n "),
        RSPAMD_REPLY_OK);
    assert_string_equal(r.action, "rewrite subject");
    assert_true(r.score == -15.0);
    assert_string_equal(r.symbols[0].name, "S\xc3\xa9\xf0\x9f\x98\x80_X");
    char name[SCANREQ_NAME_MAX + 1];
    rspamd_reply_name(&r, name, sizeof(name));
    /* only [A-Za-z0-9_] of the symbol; the action's space becomes '_' */
    assert_string_equal(name, "SEKISHO/SPAM_ENGINE/rewrite_subject/-15.00/S_X");
}

static void test_top_symbols(void **state)
{
    (void)state;
    assert_int_equal(parse_s("{\"action\":\"reject\",\"score\":20.004,\"symbols\":{"
                             "\"A\":{\"score\":1},\"B\":{\"score\":5,\"options\":[\"x\",{}]},"
                             "\"C\":{\"score\":-3},\"D\":{\"score\":5},\"E\":{\"score\":9},"
                             "\"F\":{\"name\":\"F\"},\"G\":{\"score\":0.5}}}"),
                     RSPAMD_REPLY_OK);
    unsigned idx[RSPAMD_REPLY_TOP];
    assert_int_equal(rspamd_reply_top(&r, idx, RSPAMD_REPLY_TOP), 3);
    assert_string_equal(r.symbols[idx[0]].name, "E");
    assert_string_equal(r.symbols[idx[1]].name, "B"); /* tie with D: the earlier */
    assert_string_equal(r.symbols[idx[2]].name, "D");
    char name[SCANREQ_NAME_MAX + 1];
    rspamd_reply_name(&r, name, sizeof(name));
    assert_string_equal(name, "SEKISHO/SPAM_ENGINE/reject/20.00/E+B+D");
    /* only non-positive scores: none named */
    assert_int_equal(parse_s("{\"action\":\"reject\",\"score\":0,\"symbols\":{"
                             "\"A\":{\"score\":0},\"B\":{\"score\":-1}}}"),
                     RSPAMD_REPLY_OK);
    assert_int_equal(rspamd_reply_top(&r, idx, RSPAMD_REPLY_TOP), 0);
}

static void test_name_bounds(void **state)
{
    (void)state;
    /* three symbols of 63 characters do not all fit SCANREQ_NAME_MAX
     * after the prefix: the ones that do not fit are left out whole */
    char js[1024], s63[64];
    memset(s63, 'X', 63);
    s63[63] = '\0';
    snprintf(js, sizeof(js),
             "{\"action\":\"reject\",\"score\":99999,\"symbols\":{\"%sA\":{\"score\":3},"
             "\"%.62sB\":{\"score\":2},\"%.62sC\":{\"score\":1},\"%.62sD\":{\"score\":1}}}",
             s63, s63, s63, s63);
    assert_int_equal(parse_s(js), RSPAMD_REPLY_OK);
    /* a key longer than RSPAMD_REPLY_SYMBOL_MAX is cut */
    assert_int_equal(strlen(r.symbols[0].name), RSPAMD_REPLY_SYMBOL_MAX);
    char name[SCANREQ_NAME_MAX + 1];
    size_t n = rspamd_reply_name(&r, name, sizeof(name));
    assert_int_equal(n, strlen(name));
    assert_true(n <= SCANREQ_NAME_MAX);
    assert_non_null(strstr(name, "/99999.00/"));
    assert_non_null(strstr(name, "XB+"));
    /* a small buffer: the symbols go, then everything */
    char small[40];
    n = rspamd_reply_name(&r, small, sizeof(small));
    assert_string_equal(small, "SEKISHO/SPAM_ENGINE/reject/99999.00");
    n = rspamd_reply_name(&r, small, 10);
    assert_int_equal(n, 0);
    assert_string_equal(small, "");
    /* a huge score does not make a huge name */
    assert_int_equal(parse_s("{\"action\":\"reject\",\"score\":1e300}"), RSPAMD_REPLY_OK);
    n = rspamd_reply_name(&r, name, sizeof(name));
    assert_string_equal(name, "SEKISHO/SPAM_ENGINE/reject/0.00");
}

static void test_symbols_kept_bound(void **state)
{
    (void)state;
    /* 200 symbols with scores 0..199 (shuffled): the 64 highest kept */
    static char js[16384];
    size_t n = (size_t)snprintf(js, sizeof(js), "{\"action\":\"no action\",\"symbols\":{");
    for (unsigned i = 0; i < 200; i++) {
        unsigned s = (i * 67) % 200;
        n += (size_t)snprintf(js + n, sizeof(js) - n, "%s\"S%u\":{\"score\":%u}", i ? "," : "", s,
                              s);
    }
    snprintf(js + n, sizeof(js) - n, "}}");
    assert_int_equal(parse_s(js), RSPAMD_REPLY_OK);
    assert_int_equal(r.nsymbols, 200);
    assert_int_equal(r.nkept, RSPAMD_REPLY_SYMBOLS_MAX);
    for (unsigned i = 0; i < r.nkept; i++) {
        assert_true(r.symbols[i].score >= 200 - RSPAMD_REPLY_SYMBOLS_MAX);
        if (i > 0)
            assert_true(r.symbols[i].order > r.symbols[i - 1].order);
    }
    char name[SCANREQ_NAME_MAX + 1];
    rspamd_reply_name(&r, name, sizeof(name));
    assert_string_equal(name, "SEKISHO/SPAM_ENGINE/no_action/0.00/S199+S198+S197");
}

static void test_depth(void **state)
{
    (void)state;
    char js[256];
    /* RSPAMD_REPLY_DEPTH_MAX levels are fine (the reply object is one) */
    size_t n = (size_t)snprintf(js, sizeof(js), "{\"x\":");
    for (int i = 0; i < RSPAMD_REPLY_DEPTH_MAX - 1; i++)
        js[n++] = '[';
    for (int i = 0; i < RSPAMD_REPLY_DEPTH_MAX - 1; i++)
        js[n++] = ']';
    snprintf(js + n, sizeof(js) - n, "}");
    assert_int_equal(parse_s(js), RSPAMD_REPLY_OK);
    n = (size_t)snprintf(js, sizeof(js), "{\"x\":");
    for (int i = 0; i < RSPAMD_REPLY_DEPTH_MAX; i++)
        js[n++] = '[';
    for (int i = 0; i < RSPAMD_REPLY_DEPTH_MAX; i++)
        js[n++] = ']';
    snprintf(js + n, sizeof(js) - n, "}");
    assert_int_equal(parse_s(js), RSPAMD_REPLY_BAD);
    assert_non_null(strstr(err, "nested too deep"));
    /* a deep input of 100000 '[' stops at the bound, no stack overflow */
    static char deep[100010];
    memcpy(deep, "{\"x\":", 5);
    memset(deep + 5, '[', 100000);
    assert_int_equal(rspamd_reply_parse(deep, 100005, &r, err, sizeof(err)), RSPAMD_REPLY_BAD);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const bad_inputs[] = {
        "",
        "   ",
        "[]",
        "\"reject\"",
        "{",
        "{\"action\":\"reject\"",
        "{\"action\":\"reject\",}",
        "{\"action\":\"reject\"}x",
        "{\"action\":\"reject\"}{}",
        "{\"action\" \"reject\"}",
        "{action:\"reject\"}",
        "{'action':'reject'}",
        "{\"action\":reject}",
        "{\"action\":\"reject\",\"action\":\"no action\"}", /* ambiguous */
        "{\"score\":1,\"score\":2}",
        "{\"symbols\":{},\"symbols\":{}}",
        "{\"action\":5}",
        "{\"score\":\"5\"}",
        "{\"score\":01}",
        "{\"score\":1.}",
        "{\"score\":.5}",
        "{\"score\":+1}",
        "{\"score\":1e}",
        "{\"score\":-}",
        "{\"score\":NaN}",
        "{\"score\":1e999}",
        "{\"score\":1.000000000000000000000000000000000000000000000000000000000000000001}",
        "{\"is_skipped\":1}",
        "{\"is_skipped\":tru}",
        "{\"symbols\":[]}",
        "{\"symbols\":{\"A\":1}}",
        "{\"symbols\":{\"A\":{\"score\":1,\"score\":2}}}",
        "{\"action\":\"0123456789012345678901234567890123\"}", /* too long */
        "{\"action\":\"a\x01\"}",
        "{\"action\":\"\\x41\"}",
        "{\"action\":\"\\u12\"}",
        "{\"action\":\"\\ud800\"}",
        "{\"action\":\"\\udc00\"}",
        "{\"action\":\"\\ud800\\u0041\"}",
        "{\"action\":\"\xc0\xaf\"}",         /* overlong */
        "{\"action\":\"\xed\xa0\x80\"}",     /* encoded surrogate */
        "{\"action\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
        "{\"action\":\"\xe2\x82\"}",         /* cut sequence */
        "{\"x\":[1,]}",
        "{\"x\":[1 2]}",
        "{\"x\":nul}",
        "{\"x\"}",
        "{,}",
        "{\"action\":\"reject\"} /* comment */",
    };
    for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(bad_inputs[0]); i++) {
        if (parse_s(bad_inputs[i]) != RSPAMD_REPLY_BAD)
            fail_msg("accepted: %s", bad_inputs[i]);
        assert_true(err[0] != '\0');
        assert_false(r.has_action); /* nothing half-parsed left behind */
    }
    /* a NUL inside the input is not a terminator */
    static const char nul[] = "{\"action\":\"reject\"}\0";
    assert_int_equal(rspamd_reply_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)),
                     RSPAMD_REPLY_BAD);
    /* err with no room is fine */
    assert_int_equal(rspamd_reply_parse("x", 1, &r, NULL, 0), RSPAMD_REPLY_BAD);
    /* a valid edge: unknown members of every type are skipped */
    assert_int_equal(parse_s("{\"a\":null,\"b\":true,\"c\":false,\"d\":[[],{}],\"e\":-0.0e-0,"
                             "\"f\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"action\":\"greylist\"}"),
                     RSPAMD_REPLY_OK);
    assert_string_equal(r.action, "greylist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_gtube),
        cmocka_unit_test(test_capture_spf_fail),
        cmocka_unit_test(test_capture_ham_and_empty),
        cmocka_unit_test(test_error_reply),
        cmocka_unit_test(test_actions),
        cmocka_unit_test(test_escapes_and_whitespace),
        cmocka_unit_test(test_top_symbols),
        cmocka_unit_test(test_name_bounds),
        cmocka_unit_test(test_symbols_kept_bound),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
