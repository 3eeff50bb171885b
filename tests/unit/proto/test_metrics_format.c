/* Unit tests for proto/metrics_format: the exact OpenMetrics text of a
 * running, a stopped and a never-started service (families once each, in
 * order, counters' samples with _total, sessions 0 when down, "# EOF"
 * last), label escaping, and all-or-nothing refusals (no room, too many
 * services, empty or repeated names). The text is also checked by a real
 * OpenMetrics parser in tests/integration/test_svc_stats.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lib/buf.h"
#include "proto/metrics_format.h"

static struct metrics_service known(const char *name, bool up, uint64_t base)
{
    return (struct metrics_service){.name = name,
                                    .known = true,
                                    .up = up,
                                    .start_time = 1700000000,
                                    .connections = base + 1,
                                    .requests = base + 2,
                                    .detections = base + 3,
                                    .spam = base + 4,
                                    .sessions = base + 5,
                                    .scans = base + 6, /* wraps to 0 for smtp */
                                    .cache_hits = base + 7,
                                    .cache_misses = base + 8,
                                    .hash_ns = base ? UINT64_MAX : 1500000007u};
}

static const char expected[] =
    "# TYPE sekisho_up gauge\n"
    "# HELP sekisho_up Whether the service's master process runs (1) or not (0).\n"
    "sekisho_up{service=\"http\"} 1\n"
    "sekisho_up{service=\"smtp\"} 0\n"
    "sekisho_up{service=\"pop\"} 0\n"
    "# TYPE sekisho_start_time_seconds gauge\n"
    "# UNIT sekisho_start_time_seconds seconds\n"
    "# HELP sekisho_start_time_seconds When the service started (Unix time); its counters count "
    "from then.\n"
    "sekisho_start_time_seconds{service=\"http\"} 1700000000\n"
    "sekisho_start_time_seconds{service=\"smtp\"} 1700000000\n"
    "# TYPE sekisho_connections counter\n"
    "# HELP sekisho_connections Client connections accepted as sessions.\n"
    "sekisho_connections_total{service=\"http\"} 1\n"
    "sekisho_connections_total{service=\"smtp\"} 18446744073709551611\n"
    "# TYPE sekisho_requests counter\n"
    "# HELP sekisho_requests Transactions logged: HTTP requests, SMTP mails, POP3 retrievals, "
    "FTP transfers.\n"
    "sekisho_requests_total{service=\"http\"} 2\n"
    "sekisho_requests_total{service=\"smtp\"} 18446744073709551612\n"
    "# TYPE sekisho_detections counter\n"
    "# HELP sekisho_detections Transactions in which a virus was detected.\n"
    "sekisho_detections_total{service=\"http\"} 3\n"
    "sekisho_detections_total{service=\"smtp\"} 18446744073709551613\n"
    "# TYPE sekisho_spam counter\n"
    "# HELP sekisho_spam Mails classified as spam.\n"
    "sekisho_spam_total{service=\"http\"} 4\n"
    "sekisho_spam_total{service=\"smtp\"} 18446744073709551614\n"
    "# TYPE sekisho_scans counter\n"
    "# HELP sekisho_scans Objects sent to sekisho-scand to be scanned.\n"
    "sekisho_scans_total{service=\"http\"} 6\n"
    "sekisho_scans_total{service=\"smtp\"} 0\n"
    "# TYPE sekisho_verdict_cache_hits counter\n"
    "# HELP sekisho_verdict_cache_hits Scans the workers' verdict caches made unnecessary (the "
    "same content scanned clean before).\n"
    "sekisho_verdict_cache_hits_total{service=\"http\"} 7\n"
    "sekisho_verdict_cache_hits_total{service=\"smtp\"} 1\n"
    "# TYPE sekisho_verdict_cache_misses counter\n"
    "# HELP sekisho_verdict_cache_misses Objects looked up in the verdict caches in vain, then "
    "scanned.\n"
    "sekisho_verdict_cache_misses_total{service=\"http\"} 8\n"
    "sekisho_verdict_cache_misses_total{service=\"smtp\"} 2\n"
    "# TYPE sekisho_verdict_cache_hash_seconds counter\n"
    "# UNIT sekisho_verdict_cache_hash_seconds seconds\n"
    "# HELP sekisho_verdict_cache_hash_seconds Time spent computing verdict-cache keys (SHA-256): "
    "the caches' cost, paid on hits and misses alike.\n"
    "sekisho_verdict_cache_hash_seconds_total{service=\"http\"} 1.500000007\n"
    "sekisho_verdict_cache_hash_seconds_total{service=\"smtp\"} 18446744073.709551615\n"
    "# TYPE sekisho_sessions gauge\n"
    "# HELP sekisho_sessions Client sessions open now.\n"
    "sekisho_sessions{service=\"http\"} 5\n"
    "sekisho_sessions{service=\"smtp\"} 0\n"
    "# EOF\n";

static void test_three_services_exact(void **state)
{
    (void)state;
    struct metrics_service svcs[] = {
        known("http", true, 0),
        known("smtp", false, UINT64_MAX - 5), /* stopped (sessions shown 0), large counters */
        {.name = "pop", .known = false},      /* never started */
    };
    static char mem[8192];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(metrics_format(&b, svcs, 3));
    assert_int_equal(buf_len(&b), strlen(expected));
    assert_memory_equal(buf_rptr(&b), expected, strlen(expected));
}

static void test_appends_after_existing_bytes(void **state)
{
    (void)state;
    struct metrics_service svcs[] = {known("http", true, 0)};
    char mem[4096];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "HEAD"));
    assert_true(metrics_format(&b, svcs, 1));
    assert_memory_equal(buf_rptr(&b), "HEAD# TYPE sekisho_up gauge\n", 28);
    const char *end = "# EOF\n";
    assert_memory_equal(buf_rptr(&b) + buf_len(&b) - strlen(end), end, strlen(end));
}

static void test_label_escaped(void **state)
{
    (void)state;
    struct metrics_service svcs[] = {{.name = "a\"b\\c\nd", .up = true}};
    char mem[4096];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(metrics_format(&b, svcs, 1));
    const char *want = "sekisho_up{service=\"a\\\"b\\\\c\\nd\"} 1\n";
    assert_non_null(memmem(buf_rptr(&b), buf_len(&b), want, strlen(want)));
}

static void test_no_room_leaves_buffer_unchanged(void **state)
{
    (void)state;
    struct metrics_service svcs[] = {known("http", true, 0)};
    char mem[4096];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(metrics_format(&b, svcs, 1));
    size_t need = buf_len(&b);
    for (size_t cap = 0; cap < need; cap += 7) {
        buf_init(&b, mem, cap);
        assert_false(metrics_format(&b, svcs, 1));
        assert_int_equal(buf_len(&b), 0);
    }
    buf_init(&b, mem, need);
    assert_true(metrics_format(&b, svcs, 1));
}

static void test_bad_service_lists_refused(void **state)
{
    (void)state;
    char mem[8192];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct metrics_service twice[] = {{.name = "http"}, {.name = "http"}};
    assert_false(metrics_format(&b, twice, 2));
    struct metrics_service empty[] = {{.name = ""}};
    assert_false(metrics_format(&b, empty, 1));
    struct metrics_service none[] = {{.name = NULL}};
    assert_false(metrics_format(&b, none, 1));
    struct metrics_service many[METRICS_SERVICES_MAX + 1];
    static const char *names[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    for (size_t i = 0; i <= METRICS_SERVICES_MAX; i++)
        many[i] = (struct metrics_service){.name = names[i]};
    assert_false(metrics_format(&b, many, METRICS_SERVICES_MAX + 1));
    assert_int_equal(buf_len(&b), 0);
    assert_true(metrics_format(&b, many, METRICS_SERVICES_MAX));
    /* No service at all: the families' metadata and # EOF. */
    buf_reset(&b);
    assert_true(metrics_format(&b, NULL, 0));
    assert_memory_equal(buf_rptr(&b) + buf_len(&b) - 6, "# EOF\n", 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_services_exact),
        cmocka_unit_test(test_appends_after_existing_bytes),
        cmocka_unit_test(test_label_escaped),
        cmocka_unit_test(test_no_room_leaves_buffer_unchanged),
        cmocka_unit_test(test_bad_service_lists_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
