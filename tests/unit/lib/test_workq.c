/* Unit tests for lib/workq: blocking jobs run off the loop's thread, each
 * done() runs once on the loop's thread, a cancelled job that has not
 * started is not run but still done(), a full queue refuses, and the loop
 * keeps turning while a job blocks (the reason workq exists: PAM). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lib/ev.h"
#include "lib/workq.h"

struct job {
    struct workq_job j;
    unsigned sleep_ms;
    pthread_t ran_on;
    int runs, dones;
    int finished; /* set (atomically) when run() returns */
    bool was_cancelled;
};

static pthread_t loop_thread;
static int pending;
static struct ev_loop *the_loop;

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void run(struct workq_job *wj)
{
    struct job *j = (struct job *)wj;
    j->ran_on = pthread_self();
    j->runs++;
    sleep_ms(j->sleep_ms);
    __atomic_store_n(&j->finished, 1, __ATOMIC_SEQ_CST);
}

static void done(struct workq_job *wj)
{
    struct job *j = (struct job *)wj;
    assert_true(pthread_equal(pthread_self(), loop_thread));
    j->dones++;
    j->was_cancelled = wj->cancelled;
    if (--pending == 0)
        ev_break(the_loop);
}

static int ticks;
static struct ev_timer tick;
static void on_tick(struct ev_loop *loop, struct ev_timer *t)
{
    ticks++;
    ev_timer_start(loop, t, 10);
}

static struct ev_timer guard;
static void on_guard(struct ev_loop *loop, struct ev_timer *t)
{
    (void)t;
    ev_break(loop); /* a bound on every test: never hang */
}

static void setup_loop(void)
{
    loop_thread = pthread_self();
    the_loop = ev_loop_new();
    assert_non_null(the_loop);
    ev_timer_init(&guard, on_guard, NULL);
    ev_timer_start(the_loop, &guard, 10000);
}

static void test_jobs_run_off_the_loop_and_done_once(void **state)
{
    (void)state;
    setup_loop();
    struct workq *q = workq_new(the_loop, 4, 16);
    assert_non_null(q);
    struct job jobs[8];
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < 8; i++) {
        jobs[i].j.run = run;
        jobs[i].j.done = done;
        jobs[i].sleep_ms = 200;
        assert_int_equal(workq_submit(q, &jobs[i].j), 0);
    }
    pending = 8;
    ticks = 0;
    ev_timer_init(&tick, on_tick, NULL);
    ev_timer_start(the_loop, &tick, 10);
    ev_run(the_loop);
    ev_timer_stop(the_loop, &tick);
    assert_int_equal(pending, 0);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(jobs[i].runs, 1);
        assert_int_equal(jobs[i].dones, 1);
        assert_false(pthread_equal(jobs[i].ran_on, loop_thread));
    }
    /* 8 jobs of 200 ms on 4 threads: ~400 ms during which the loop's
     * 10 ms timer kept firing (it was never blocked). */
    assert_true(ticks >= 10);
    assert_int_equal(workq_in_flight(q), 0);
    workq_free(q, 1000);
    ev_loop_free(the_loop);
}

static void test_full_queue_refuses(void **state)
{
    (void)state;
    setup_loop();
    struct workq *q = workq_new(the_loop, 1, 2);
    struct job jobs[3];
    memset(jobs, 0, sizeof(jobs));
    for (int i = 0; i < 3; i++) {
        jobs[i].j.run = run;
        jobs[i].j.done = done;
        jobs[i].sleep_ms = 50;
    }
    assert_int_equal(workq_submit(q, &jobs[0].j), 0);
    assert_int_equal(workq_submit(q, &jobs[1].j), 0);
    errno = 0;
    assert_int_equal(workq_submit(q, &jobs[2].j), -1);
    assert_int_equal(errno, EAGAIN);
    pending = 2;
    ev_run(the_loop);
    assert_int_equal(jobs[2].dones, 0); /* a refused job is not done() */
    assert_int_equal(jobs[0].dones + jobs[1].dones, 2);
    workq_free(q, 1000);
    ev_loop_free(the_loop);
}

static void test_cancel_before_start_skips_run(void **state)
{
    (void)state;
    setup_loop();
    struct workq *q = workq_new(the_loop, 1, 4);
    struct job a = {.sleep_ms = 200}, b = {.sleep_ms = 0};
    a.j.run = b.j.run = run;
    a.j.done = b.j.done = done;
    assert_int_equal(workq_submit(q, &a.j), 0);
    assert_int_equal(workq_submit(q, &b.j), 0); /* waits behind a: one thread */
    workq_cancel(q, &b.j);
    pending = 2;
    ev_run(the_loop);
    assert_int_equal(a.runs, 1);
    assert_int_equal(b.runs, 0);
    assert_int_equal(b.dones, 1);
    assert_true(b.was_cancelled);
    workq_free(q, 1000);
    ev_loop_free(the_loop);
}

static void test_free_abandons_a_stuck_job(void **state)
{
    (void)state;
    setup_loop();
    struct workq *q = workq_new(the_loop, 1, 4);
    static struct job stuck = {.sleep_ms = 1500}; /* outlives the test's stack frame */
    stuck.j.run = run;
    stuck.j.done = done;
    assert_int_equal(workq_submit(q, &stuck.j), 0);
    sleep_ms(50);
    workq_free(q, 100); /* gives up on the job instead of waiting for it */
    assert_int_equal(__atomic_load_n(&stuck.finished, __ATOMIC_SEQ_CST), 0);
    assert_int_equal(stuck.dones, 0);
    ev_loop_free(the_loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jobs_run_off_the_loop_and_done_once),
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_cancel_before_start_skips_run),
        cmocka_unit_test(test_free_abandons_a_stuck_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
