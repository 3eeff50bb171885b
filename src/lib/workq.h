/* workq - blocking work taken off an event loop: a few threads of the
 * worker's own, a bounded queue, and each completion handed back to the
 * loop.
 *
 * A worker's loop must never block, yet some work can only be done by
 * blocking calls: a PAM conversation (pam_unix, an LDAP or RADIUS server
 * that takes seconds to answer). Such a job is submitted here:
 *
 *   loop:    workq_submit(job)                       ──► queue (bounded)
 *   thread:  job->run(job)   (blocks as long as it must)
 *   loop:    eventfd readable: job->done(job)         (exactly once)
 *
 * Threads are started on demand, up to the pool's maximum, so a worker
 * that never authenticates has none. A full queue refuses at once
 * (EAGAIN): the caller answers with a temporary failure rather than
 * queueing without bound behind a stuck backend.
 *
 * Ownership: the job is the caller's memory (embed struct workq_job in
 * your own struct). From a successful submit until done() runs, the
 * workq may touch it; done() always runs, on the loop, also for a
 * cancelled job (workq_cancel: run() is skipped if it had not started),
 * so done() is the one place the caller frees it.
 *
 * run() executes on another thread: it may touch only its job (no loop,
 * no logs: lib/log and core/svclog are not thread-safe). Threads take no
 * signals. workq_free waits up to wait_ms for the jobs in flight; a
 * thread still blocked after that is abandoned (the process is exiting)
 * and its job's done() never runs.
 */
#ifndef SEKISHO_LIB_WORKQ_H
#define SEKISHO_LIB_WORKQ_H

#include <stdbool.h>

#include "lib/ev.h"

struct workq;

struct workq_job {
    void (*run)(struct workq_job *j);  /* on a pool thread: the blocking part */
    void (*done)(struct workq_job *j); /* on the loop, once */
    /* private */
    struct workq_job *next;
    bool cancelled; /* under the pool's lock */
};

/* workq_new - a pool for loop with at most max_threads threads and at
 * most max_queued jobs submitted and not yet done. NULL with errno. */
struct workq *workq_new(struct ev_loop *loop, unsigned max_threads, unsigned max_queued);

/* workq_free - stop the threads; see above for jobs still in flight. */
void workq_free(struct workq *q, unsigned wait_ms);

/* workq_submit - queue j (run and done set). 0, or -1 with errno: EAGAIN
 * when max_queued jobs are in flight, or a thread could not be started
 * and none runs. done() is not called for a refused job. */
int workq_submit(struct workq *q, struct workq_job *j);

/* workq_cancel - j's result is not wanted: run() is skipped if it has
 * not started; done() still runs (later, on the loop) so the caller can
 * free j there. */
void workq_cancel(struct workq *q, struct workq_job *j);

/* workq_in_flight - jobs submitted and not yet done. */
unsigned workq_in_flight(const struct workq *q);

#endif
