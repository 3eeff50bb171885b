/* Unit tests for lib/svc_stats with an injected clock: the file a master
 * creates (mode, header, replaced at a start), the last hour as minutes
 * oldest first, the roll-over of a slot to the minute an hour later, an
 * hour (and more) without traffic, a clock that goes back, sessions now,
 * files of another layout refused, and adds from many threads at once -
 * across roll-overs - leaving totals and per-minute counts exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/svc_stats.h"

static char dir[] = "/tmp/test_svc_stats.XXXXXX";
static char path[256];

/* A minute boundary: T0 is the first second of minute M0. */
#define M0 ((int64_t)28000000)
#define T0 ((time_t)(M0 * 60))

static struct svc_stats *fresh(void)
{
    struct svc_stats *st = svc_stats_create(dir, "http", 4242, T0 - 5);
    assert_non_null(st);
    return st;
}

static struct svc_stats_snapshot snap_at(time_t now)
{
    struct svc_stats_snapshot s;
    assert_int_equal(svc_stats_read(path, &s, now), 0);
    return s;
}

static uint64_t sum_minutes(const struct svc_stats_snapshot *s, enum svc_stat k)
{
    uint64_t n = 0;
    for (int i = 0; i < SVC_STATS_MINUTES; i++)
        n += s->per_minute[k][i];
    return n;
}

static void test_create_header_and_mode(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_uid, geteuid());
    struct svc_stats_snapshot s = snap_at(T0);
    assert_string_equal(s.service, "http");
    assert_int_equal(s.master_pid, 4242);
    assert_int_equal(s.start_time, T0 - 5);
    assert_int_equal(s.first_minute, M0 - 59);
    assert_int_equal(s.sessions, 0);
    for (int k = 0; k < SVC_STAT_KINDS; k++) {
        assert_int_equal(s.total[k], 0);
        assert_int_equal(sum_minutes(&s, k), 0);
    }
    /* No temporary file is left next to it. */
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s/.stats.http.%d.tmp", dir, (int)getpid());
    assert_int_equal(access(tmp, F_OK), -1);
    svc_stats_close(st);
}

static void test_minutes_oldest_first(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    svc_stats_add(st, SVC_STAT_REQUESTS, T0);         /* minute M0 */
    svc_stats_add(st, SVC_STAT_REQUESTS, T0 + 59);    /* still M0 */
    svc_stats_add(st, SVC_STAT_REQUESTS, T0 + 60);    /* M0 + 1 */
    svc_stats_add(st, SVC_STAT_DETECTIONS, T0 + 150); /* M0 + 2 */
    svc_stats_request(st, true, false, T0 + 179);     /* M0 + 2: request and detection */
    svc_stats_request(st, false, true, T0 + 179);     /* request and spam */
    svc_stats_session_open(st, T0 + 30);
    /* Read at M0 + 2: the newest minute is the last element. */
    struct svc_stats_snapshot s = snap_at(T0 + 125);
    assert_int_equal(s.first_minute, M0 + 2 - 59);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][57], 2);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][58], 1);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][59], 2);
    assert_int_equal(s.per_minute[SVC_STAT_DETECTIONS][59], 2);
    assert_int_equal(s.per_minute[SVC_STAT_SPAM][59], 1);
    assert_int_equal(s.per_minute[SVC_STAT_CONNECTIONS][57], 1);
    assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), 5);
    assert_int_equal(s.total[SVC_STAT_REQUESTS], 5);
    assert_int_equal(s.total[SVC_STAT_DETECTIONS], 2);
    assert_int_equal(s.total[SVC_STAT_SPAM], 1);
    assert_int_equal(s.total[SVC_STAT_CONNECTIONS], 1);
    assert_int_equal(s.sessions, 1);
    /* Read 30 minutes later: the same counts, 30 places older. */
    s = snap_at(T0 + 125 + 30 * 60);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][27], 2);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][28], 1);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][29], 2);
    assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), 5);
    /* Read at M0 + 59: M0 is the oldest minute shown; at M0 + 60 it is gone. */
    s = snap_at(T0 + 59 * 60);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][0], 2);
    assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), 5);
    s = snap_at(T0 + 60 * 60);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][0], 1);
    assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), 3);
    assert_int_equal(s.total[SVC_STAT_REQUESTS], 5);
    svc_stats_close(st);
}

static void test_rollover_replaces_the_hour_old_minute(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    for (int i = 0; i < 7; i++)
        svc_stats_add(st, SVC_STAT_CONNECTIONS, T0 + i);
    /* M0 + 60 uses M0's slot: its first add starts the count at 1. */
    svc_stats_add(st, SVC_STAT_CONNECTIONS, T0 + 3600);
    svc_stats_add(st, SVC_STAT_CONNECTIONS, T0 + 3601);
    struct svc_stats_snapshot s = snap_at(T0 + 3600);
    assert_int_equal(s.per_minute[SVC_STAT_CONNECTIONS][59], 2);
    assert_int_equal(sum_minutes(&s, SVC_STAT_CONNECTIONS), 2);
    assert_int_equal(s.total[SVC_STAT_CONNECTIONS], 9);
    /* Read as if at M0: the slot's minute is ahead of that now and the
     * minute M0 it held is gone: nothing shown, nothing invented. */
    s = snap_at(T0);
    assert_int_equal(sum_minutes(&s, SVC_STAT_CONNECTIONS), 0);
    /* Other kinds in the same slot are not touched by the roll-over. */
    svc_stats_add(st, SVC_STAT_SPAM, T0 + 3600 + 60 * 60); /* M0 + 120, same slot */
    s = snap_at(T0 + 7200);
    assert_int_equal(s.per_minute[SVC_STAT_SPAM][59], 1);
    assert_int_equal(s.per_minute[SVC_STAT_CONNECTIONS][0], 0); /* M0 + 61: none */
    assert_int_equal(sum_minutes(&s, SVC_STAT_CONNECTIONS), 0);
    svc_stats_close(st);
}

static void test_hour_gap_keeps_totals(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    for (int m = 0; m < 60; m++)
        svc_stats_add(st, SVC_STAT_REQUESTS, T0 + m * 60 + 1);
    struct svc_stats_snapshot s = snap_at(T0 + 59 * 60);
    for (int i = 0; i < SVC_STATS_MINUTES; i++)
        assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][i], 1);
    /* An hour and a half later, with no traffic in between. */
    s = snap_at(T0 + 59 * 60 + 90 * 60);
    assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), 0);
    assert_int_equal(s.total[SVC_STAT_REQUESTS], 60);
    /* Traffic again after a gap of days: only the new minute counts. */
    time_t later = T0 + 3 * 86400;
    svc_stats_add(st, SVC_STAT_REQUESTS, later);
    svc_stats_add(st, SVC_STAT_REQUESTS, later + 60);
    s = snap_at(later + 60);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][58], 1);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][59], 1);
    assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), 2);
    assert_int_equal(s.total[SVC_STAT_REQUESTS], 62);
    svc_stats_close(st);
}

static void test_stale_clock_counts_in_total_only(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    svc_stats_add(st, SVC_STAT_REQUESTS, T0 + 3600); /* M0 + 60 */
    svc_stats_add(st, SVC_STAT_REQUESTS, T0);        /* M0: same slot, an hour behind */
    struct svc_stats_snapshot s = snap_at(T0 + 3600);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][59], 1);
    assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), 1);
    assert_int_equal(s.total[SVC_STAT_REQUESTS], 2);
    /* A clock a minute behind is no problem: another slot. */
    svc_stats_add(st, SVC_STAT_REQUESTS, T0 + 3600 - 60);
    s = snap_at(T0 + 3600);
    assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][58], 1);
    svc_stats_close(st);
}

static void test_sessions_now(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    for (int i = 0; i < 5; i++)
        svc_stats_session_open(st, T0);
    svc_stats_session_close(st, 1);
    struct svc_stats_snapshot s = snap_at(T0);
    assert_int_equal(s.sessions, 4);
    assert_int_equal(s.total[SVC_STAT_CONNECTIONS], 5);
    svc_stats_session_close(st, 3); /* a dead worker's three */
    s = snap_at(T0);
    assert_int_equal(s.sessions, 1);
    svc_stats_session_close(st, 2); /* one too many: reads as 0, not 2^64-1 */
    s = snap_at(T0);
    assert_int_equal(s.sessions, 0);
    svc_stats_session_open(st, T0);
    s = snap_at(T0);
    assert_int_equal(s.sessions, 0); /* the count is exact underneath: -1 + 1 */
    svc_stats_close(st);
}

static void test_null_counts_nothing(void **state)
{
    (void)state;
    svc_stats_add(NULL, SVC_STAT_REQUESTS, T0);
    svc_stats_session_open(NULL, T0);
    svc_stats_session_close(NULL, 1);
    svc_stats_request(NULL, true, true, T0);
    svc_stats_close(NULL);
    struct svc_stats *st = fresh();
    svc_stats_add(st, SVC_STAT_KINDS, T0); /* out of range: ignored */
    struct svc_stats_snapshot s = snap_at(T0);
    for (int k = 0; k < SVC_STAT_KINDS; k++)
        assert_int_equal(s.total[k], 0);
    svc_stats_close(st);
}

static void test_restart_replaces_the_file(void **state)
{
    (void)state;
    struct svc_stats *old = fresh();
    svc_stats_add(old, SVC_STAT_REQUESTS, T0);
    struct stat a, b;
    assert_int_equal(stat(path, &a), 0);
    struct svc_stats *st = svc_stats_create(dir, "http", 4343, T0 + 100);
    assert_non_null(st);
    assert_int_equal(stat(path, &b), 0);
    assert_true(a.st_ino != b.st_ino); /* renamed over: an old reader keeps the old file */
    struct svc_stats_snapshot s = snap_at(T0 + 100);
    assert_int_equal(s.master_pid, 4343);
    assert_int_equal(s.start_time, T0 + 100);
    assert_int_equal(s.total[SVC_STAT_REQUESTS], 0);
    /* A left-over worker of the old run counts into the old file only. */
    svc_stats_add(old, SVC_STAT_REQUESTS, T0 + 100);
    s = snap_at(T0 + 100);
    assert_int_equal(s.total[SVC_STAT_REQUESTS], 0);
    struct svc_stats_snapshot o;
    svc_stats_take(old, &o, T0 + 100);
    assert_int_equal(o.total[SVC_STAT_REQUESTS], 2);
    svc_stats_close(old);
    svc_stats_close(st);
}

static void patch(off_t off, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, p, n, off), (ssize_t)n);
    close(fd);
}

static void expect_refused(int err)
{
    struct svc_stats_snapshot s;
    errno = 0;
    assert_int_equal(svc_stats_read(path, &s, T0), -1);
    assert_int_equal(errno, err);
}

static void test_other_layouts_refused(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    svc_stats_close(st);
    uint32_t v = SVC_STATS_VERSION + 1;
    patch(8, &v, sizeof(v)); /* the layout version (offset 8) */
    expect_refused(EPROTO);

    svc_stats_close(fresh());
    patch(0, "XXXX", 4); /* the magic */
    expect_refused(EPROTO);

    svc_stats_close(fresh());
    uint32_t size = 4000;
    patch(12, &size, sizeof(size)); /* the size field */
    expect_refused(EPROTO);

    svc_stats_close(fresh());
    patch(16, "HT/P", 4); /* a service name that cannot be one */
    expect_refused(EPROTO);

    svc_stats_close(fresh());
    char sixteen[16];
    memset(sixteen, 'a', sizeof(sixteen)); /* no NUL in the name */
    patch(16, sixteen, sizeof(sixteen));
    expect_refused(EPROTO);

    svc_stats_close(fresh());
    assert_int_equal(truncate(path, 4096), 0); /* a longer file (a later layout) */
    expect_refused(EPROTO);
    assert_int_equal(truncate(path, 100), 0); /* a shorter one */
    expect_refused(EPROTO);
    assert_int_equal(truncate(path, 0), 0);
    expect_refused(EPROTO);

    assert_int_equal(unlink(path), 0);
    expect_refused(ENOENT);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_refused(EPROTO); /* a directory */
    assert_int_equal(rmdir(path), 0);
}

static void test_path_and_names(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(svc_stats_path("/t", "smtp", out, sizeof(out)), 0);
    assert_string_equal(out, "/t/stats.smtp");
    assert_int_equal(svc_stats_path("/t", "", out, sizeof(out)), -1);
    assert_int_equal(svc_stats_path("/t", "../x", out, sizeof(out)), -1);
    assert_int_equal(svc_stats_path("/t", "Http", out, sizeof(out)), -1);
    assert_int_equal(svc_stats_path("/t", "abcdefghijklmnop", out, sizeof(out)), -1);
    assert_int_equal(svc_stats_path("/t", "smtp", out, 13), -1); /* no room for the NUL */
    errno = 0;
    assert_null(svc_stats_create(dir, "a/b", 1, T0));
    assert_null(svc_stats_create("/nonexistent-dir-of-test", "http", 1, T0));
    assert_int_equal(errno, ENOENT);
}

/* ---- many writers -------------------------------------------------------- */

#define THREADS 8
#define ADDS    20000
#define ROUNDS  4

struct writer {
    struct svc_stats *st;
    pthread_barrier_t *start;
    int round;
};

static void *write_round(void *arg)
{
    struct writer *w = arg;
    pthread_barrier_wait(w->start);
    /* Every round's minute is an hour after the last one's: the same slot,
     * so the first adds of each round race to roll it over. Half the
     * adds go to the next minute (the neighbour slot) and connections
     * go through session open/close too. */
    time_t base = T0 + (time_t)w->round * 3600;
    for (int i = 0; i < ADDS; i++) {
        svc_stats_add(w->st, SVC_STAT_REQUESTS, base + (i & 1) * 60);
        svc_stats_session_open(w->st, base);
        svc_stats_session_close(w->st, 1);
    }
    return NULL;
}

static void test_threads_exact(void **state)
{
    (void)state;
    struct svc_stats *st = fresh();
    for (int round = 0; round < ROUNDS; round++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, THREADS);
        pthread_t t[THREADS];
        struct writer w[THREADS];
        for (int i = 0; i < THREADS; i++) {
            w[i] = (struct writer){.st = st, .start = &start, .round = round};
            assert_int_equal(pthread_create(&t[i], NULL, write_round, &w[i]), 0);
        }
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        time_t now = T0 + (time_t)round * 3600 + 60;
        struct svc_stats_snapshot s = snap_at(now);
        uint64_t per_round = (uint64_t)THREADS * ADDS;
        assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][58], per_round / 2);
        assert_int_equal(s.per_minute[SVC_STAT_REQUESTS][59], per_round / 2);
        assert_int_equal(sum_minutes(&s, SVC_STAT_REQUESTS), per_round);
        assert_int_equal(s.per_minute[SVC_STAT_CONNECTIONS][58], per_round);
        assert_int_equal(sum_minutes(&s, SVC_STAT_CONNECTIONS), per_round);
        assert_int_equal(s.total[SVC_STAT_REQUESTS], per_round * (uint64_t)(round + 1));
        assert_int_equal(s.total[SVC_STAT_CONNECTIONS], per_round * (uint64_t)(round + 1));
        assert_int_equal(s.sessions, 0);
    }
    svc_stats_close(st);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/stats.http", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_header_and_mode),
        cmocka_unit_test(test_minutes_oldest_first),
        cmocka_unit_test(test_rollover_replaces_the_hour_old_minute),
        cmocka_unit_test(test_hour_gap_keeps_totals),
        cmocka_unit_test(test_stale_clock_counts_in_total_only),
        cmocka_unit_test(test_sessions_now),
        cmocka_unit_test(test_null_counts_nothing),
        cmocka_unit_test(test_restart_replaces_the_file),
        cmocka_unit_test(test_other_layouts_refused),
        cmocka_unit_test(test_path_and_names),
        cmocka_unit_test(test_threads_exact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
