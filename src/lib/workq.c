/* workq - see workq.h. */
#include "lib/workq.h"

#include "lib/thread.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define WORKQ_THREADS_MAX 64
#define THREAD_STACK      (256u * 1024u) /* PAM modules keep little on the stack */

struct jlist {
    struct workq_job *head, *tail;
};

struct workq {
    struct ev_loop *loop;
    struct ev_io io; /* the eventfd: a thread finished a job */
    int efd;
    pthread_mutex_t mu;
    pthread_cond_t work;  /* threads wait: a job queued, or quit */
    struct jlist pending; /* under mu */
    struct jlist done;    /* under mu */
    unsigned threads;     /* under mu: started */
    unsigned idle;        /* under mu: waiting for work */
    unsigned exited;      /* under mu: threads that left their loop */
    bool quit;            /* under mu */
    unsigned max_threads;
    unsigned max_queued;
    unsigned in_flight; /* the loop's: submitted, done() not yet called */
    pthread_t tid[WORKQ_THREADS_MAX];
};

static void jlist_push(struct jlist *l, struct workq_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static struct workq_job *jlist_pop(struct jlist *l)
{
    struct workq_job *j = l->head;
    if (j) {
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
        j->next = NULL;
    }
    return j;
}

/* signal_loop - one more finished job for the loop (under mu). The counter
 * cannot overflow short of 2^64-2 unread completions. */
static void signal_loop(struct workq *q)
{
    uint64_t one = 1;
    ssize_t w = write(q->efd, &one, sizeof(one));
    (void)w;
}

static void *worker(void *arg)
{
    struct workq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->pending.head && !q->quit)
            pthread_cond_wait(&q->work, &q->mu);
        struct workq_job *j = jlist_pop(&q->pending);
        if (!j)
            break; /* quit and nothing left */
        q->idle--;
        if (q->quit)
            j->cancelled = true; /* stopping: queued jobs are not started */
        bool skip = j->cancelled;
        pthread_mutex_unlock(&q->mu);
        if (!skip)
            j->run(j);
        pthread_mutex_lock(&q->mu);
        jlist_push(&q->done, j);
        q->idle++;
        signal_loop(q);
    }
    q->exited++;
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

/* report - done() of every finished job, on the loop. */
static void report(struct workq *q)
{
    pthread_mutex_lock(&q->mu);
    struct jlist done = q->done;
    q->done = (struct jlist){0};
    pthread_mutex_unlock(&q->mu);
    struct workq_job *j;
    while ((j = jlist_pop(&done))) {
        q->in_flight--;
        j->done(j);
    }
}

static void on_done(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct workq *q = io->data;
    uint64_t n;
    ssize_t r = read(q->efd, &n, sizeof(n));
    (void)r; /* EAGAIN: another wakeup already took the count */
    report(q);
}

struct workq *workq_new(struct ev_loop *loop, unsigned max_threads, unsigned max_queued)
{
    if (max_threads == 0 || max_threads > WORKQ_THREADS_MAX || max_queued == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct workq *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->loop = loop;
    q->max_threads = max_threads;
    q->max_queued = max_queued;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0) {
        int e = errno;
        free(q);
        errno = e;
        return NULL;
    }
    ev_io_init(&q->io, q->efd, on_done, q);
    if (ev_io_set(loop, &q->io, EV_READ) < 0) {
        int e = errno;
        close(q->efd);
        free(q);
        errno = e;
        return NULL;
    }
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    return q;
}

/* start_thread - one more thread (under mu). 0 or an errno value. */
static int start_thread(struct workq *q)
{
    int err = thread_start(&q->tid[q->threads], THREAD_STACK, worker, q);
    if (!err) {
        q->threads++;
        q->idle++;
    }
    return err;
}

int workq_submit(struct workq *q, struct workq_job *j)
{
    if (q->in_flight >= q->max_queued) {
        errno = EAGAIN;
        return -1;
    }
    pthread_mutex_lock(&q->mu);
    int err = 0;
    /* idle counts threads that will take a queued job; one per job that
     * waits beyond them, up to the maximum. */
    unsigned waiting = 0;
    for (const struct workq_job *p = q->pending.head; p; p = p->next)
        waiting++;
    if (waiting + 1 > q->idle && q->threads < q->max_threads)
        err = start_thread(q);
    if (err && q->threads == 0) {
        pthread_mutex_unlock(&q->mu);
        errno = err;
        return -1;
    }
    j->cancelled = false;
    jlist_push(&q->pending, j);
    pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
    q->in_flight++;
    return 0;
}

void workq_cancel(struct workq *q, struct workq_job *j)
{
    pthread_mutex_lock(&q->mu);
    j->cancelled = true;
    pthread_mutex_unlock(&q->mu);
}

unsigned workq_in_flight(const struct workq *q)
{
    return q->in_flight;
}

void workq_free(struct workq *q, unsigned wait_ms)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->mu);
    q->quit = true;
    pthread_cond_broadcast(&q->work);
    unsigned threads = q->threads;
    pthread_mutex_unlock(&q->mu);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until); /* pthread_timedjoin_np's clock */
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    unsigned joined = 0;
    for (unsigned i = 0; i < threads; i++)
        if (pthread_timedjoin_np(q->tid[i], NULL, &until) == 0)
            joined++;
    if (joined < threads) {
        /* A thread is still blocked in its job: the process is exiting,
         * and freeing what the thread uses would be worse than leaving
         * it. */
        ev_io_stop(q->loop, &q->io);
        return;
    }
    report(q); /* done() of what finished or was never started */
    ev_io_stop(q->loop, &q->io);
    close(q->efd);
    pthread_cond_destroy(&q->work);
    pthread_mutex_destroy(&q->mu);
    free(q);
}
