/* scan_pool - a fixed pool of scanner threads fed by a bounded queue
 * (see scan_pool.h). The queue is a ring of job pointers under one
 * mutex; scans take milliseconds, so one lock is not a bottleneck. */
#include "scand/scan_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct scan_pool {
    pthread_mutex_t mu;
    pthread_cond_t nonempty;
    void **ring;
    size_t cap, head, len;
    bool stopping;
    scan_pool_run_fn *run;
    void *arg;
    unsigned nthreads;
    pthread_t threads[SCAN_POOL_THREADS_MAX];
};

static void *pool_main(void *arg)
{
    struct scan_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->len == 0 && !p->stopping)
            pthread_cond_wait(&p->nonempty, &p->mu);
        if (p->len == 0) /* stopping and drained */
            break;
        void *job = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->len--;
        pthread_mutex_unlock(&p->mu);
        p->run(job, p->arg);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct scan_pool *scan_pool_new(unsigned threads, size_t queue_cap, scan_pool_run_fn *run,
                                void *arg)
{
    if (threads == 0 || threads > SCAN_POOL_THREADS_MAX || queue_cap == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct scan_pool *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->ring = calloc(queue_cap, sizeof(*p->ring));
    if (p->ring == NULL) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->nonempty, NULL);
    p->cap = queue_cap;
    p->run = run;
    p->arg = arg;
    for (unsigned i = 0; i < threads; i++) {
        int rc = pthread_create(&p->threads[i], NULL, pool_main, p);
        if (rc != 0) {
            scan_pool_free(p);
            errno = rc;
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

int scan_pool_submit(struct scan_pool *p, void *job)
{
    pthread_mutex_lock(&p->mu);
    int err = p->stopping ? ESHUTDOWN : p->len == p->cap ? EAGAIN : 0;
    if (err == 0) {
        p->ring[(p->head + p->len) % p->cap] = job;
        p->len++;
        pthread_cond_signal(&p->nonempty);
    }
    pthread_mutex_unlock(&p->mu);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

size_t scan_pool_queued(struct scan_pool *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->len;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void scan_pool_free(struct scan_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->nonempty);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->nonempty);
    pthread_mutex_destroy(&p->mu);
    free(p->ring);
    free(p);
}
