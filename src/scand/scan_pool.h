/* scan_pool - a fixed pool of scanner threads fed by a bounded queue.
 *
 * What it does: runs a caller-supplied function on each submitted job in
 * one of N threads started at creation. The queue holds at most cap jobs;
 * a full queue refuses the job at once (the caller answers it with an
 * error) rather than blocking the event loop that submits.
 *
 * What it owns: the threads and the queue array (job pointers only; jobs
 * belong to the caller and come back to it through the run function).
 *
 * What it does not do: no scanning, no I/O; it does not know what a job
 * is.
 */
#ifndef SEKISHO_SCAND_SCAN_POOL_H
#define SEKISHO_SCAND_SCAN_POOL_H

#include <stddef.h>

#define SCAN_POOL_THREADS_MAX 256

typedef void scan_pool_run_fn(void *job, void *arg);

struct scan_pool;

/* scan_pool_new - start threads (1..SCAN_POOL_THREADS_MAX) running
 * run(job, arg) for each job; queue_cap >= 1. NULL with errno. */
struct scan_pool *scan_pool_new(unsigned threads, size_t queue_cap, scan_pool_run_fn *run,
                                void *arg);

/* scan_pool_submit - queue job; 0, or -1 with errno EAGAIN (queue full)
 * or ESHUTDOWN (pool stopping). Never blocks on a scan. */
int scan_pool_submit(struct scan_pool *p, void *job);

/* scan_pool_queued - jobs waiting (not yet picked up by a thread). */
size_t scan_pool_queued(struct scan_pool *p);

/* scan_pool_free - refuse new jobs, let the threads finish every queued
 * job, join them and free the pool. NULL is a no-op. */
void scan_pool_free(struct scan_pool *p);

#endif
