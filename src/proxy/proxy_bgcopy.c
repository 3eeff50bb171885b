/* proxy_bgcopy - see proxy_bgcopy.h. */
#include "proxy/proxy_bgcopy.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/quarantine_store.h"
#include "lib/thread.h"
#include "lib/buf.h"
#include "lib/sock.h"
#include "lib/spoolfile.h"
#include "lib/str.h"
#include "proto/mbox_format.h"

#define MBOX_CHUNK   16384     /* message bytes per pread in mailbox mode */
#define RANGE_CHUNK  (1 << 20) /* bytes per copy_file_range, between stop checks */
#define PLAIN_CHUNK  65536     /* bytes per pread when the kernel cannot copy */
#define NAME_MAX_LOG 256       /* a host name in a log context (PROXY_HOST_MAX) */
#define THREAD_STACK (256 * 1024)

struct job {
    enum proxy_bgcopy_mode mode;
    int src;
    int dst;
    uint64_t len;
    int err;      /* written by the thread before `finished` moves past the job */
    int meta_err; /* the meta could not be written (the copy is complete) */
    char *meta;   /* the meta's text (malloc'd), or NULL */
    size_t meta_len;
    char path[PROXY_BGCOPY_PATH_MAX];
    char sep[PROXY_BGCOPY_SEP_MAX];
    /* The session's log context, with its strings copied: the session may
     * be freed long before the copy ends. */
    struct svclog_ctx log;
    char client_ip[SOCK_ADDRSTRLEN];
    char client_host[NAME_MAX_LOG];
    char server_ip[SOCK_ADDRSTRLEN];
    char server_host[NAME_MAX_LOG];
};

/* Jobs live in a ring indexed by three counters (unsigned, wrapping):
 * [reported, finished) done and not yet reported (the loop's),
 * [finished, submitted) queued or being copied (the thread's). A slot is
 * reused only once reported, so neither side ever sees the other
 * writing a job it reads. */
struct proxy_bgcopy {
    struct ev_loop *loop;
    struct ev_io io; /* the eventfd: the thread finished a job */
    int efd;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* the thread waits: a job queued, or quit */
    pthread_cond_t done; /* proxy_bgcopy_free waits: a job finished */
    unsigned submitted;  /* under mu; written by the loop */
    unsigned finished;   /* under mu; written by the thread */
    unsigned reported;   /* the loop's alone */
    bool quit;           /* under mu */
    atomic_bool abandon; /* the drain's time is up: stop copying */
    struct job jobs[PROXY_BGCOPY_JOBS];
};

/* ---- the copy itself (any thread) -------------------------------------- */

static bool stopped(const atomic_bool *stop)
{
    if (stop && atomic_load(stop)) {
        errno = ECANCELED;
        return true;
    }
    return false;
}

/* copy_plain - src[off, len) to dst by pread and write. */
static int copy_plain(const struct proxy_bgcopy_req *req, uint64_t off, const atomic_bool *stop)
{
    char chunk[PLAIN_CHUNK];
    while (off < req->len) {
        if (stopped(stop))
            return -1;
        size_t want = req->len - off < sizeof(chunk) ? (size_t)(req->len - off) : sizeof(chunk);
        ssize_t n = pread(req->src, chunk, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0; /* the object ends early: what there is, is copied */
        if (spoolfile_write_all(req->dst, chunk, (size_t)n) < 0)
            return -1;
        off += (uint64_t)n;
    }
    return 0;
}

/* copy_raw - in the kernel when it can (no data through user space),
 * a megabyte per call so that a stop is seen between calls. */
static int copy_raw(const struct proxy_bgcopy_req *req, const atomic_bool *stop)
{
    uint64_t off = 0;
    while (off < req->len) {
        if (stopped(stop))
            return -1;
        uint64_t left = req->len - off;
        loff_t in_off = (loff_t)off;
        ssize_t n = copy_file_range(req->src, &in_off, req->dst, NULL,
                                    left < RANGE_CHUNK ? (size_t)left : RANGE_CHUNK, 0);
        if (n > 0) {
            off += (uint64_t)n;
            continue;
        }
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return -1;
        break; /* e.g. a memfd, or another file system on an older kernel */
    }
    return copy_plain(req, off, stop);
}

/* copy_mbox - the separator, then the message escaped (proto/mbox_format). */
static int copy_mbox(const struct proxy_bgcopy_req *req, const atomic_bool *stop)
{
    char in[MBOX_CHUNK], mem[2 * MBOX_CHUNK + 512];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    struct mbox_writer mw;
    mbox_writer_init(&mw);
    if (spoolfile_write_all(req->dst, req->sep, strlen(req->sep)) < 0)
        return -1;
    for (uint64_t off = 0; off < req->len;) {
        if (stopped(stop))
            return -1;
        size_t want = req->len - off < sizeof(in) ? (size_t)(req->len - off) : sizeof(in);
        ssize_t n = pread(req->src, in, want, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (!mbox_write(&mw, in, (size_t)n, &out)) {
            errno = EOVERFLOW; /* cannot happen: out holds 2 * MBOX_CHUNK + 8 */
            return -1;
        }
        if (spoolfile_write_all(req->dst, buf_rptr(&out), buf_len(&out)) < 0)
            return -1;
        buf_reset(&out);
        off += (uint64_t)n;
    }
    if (!mbox_finish(&mw, &out)) {
        errno = EOVERFLOW;
        return -1;
    }
    return spoolfile_write_all(req->dst, buf_rptr(&out), buf_len(&out));
}

int proxy_bgcopy_run(const struct proxy_bgcopy_req *req, const atomic_bool *stop)
{
    return req->mode == PROXY_BGCOPY_MBOX ? copy_mbox(req, stop) : copy_raw(req, stop);
}

/* ---- the thread ---------------------------------------------------------- */

/* copy_job - copy, close both descriptors, remove what a failure left. */
static void copy_job(struct proxy_bgcopy *bc, struct job *j)
{
    struct proxy_bgcopy_req req = {.mode = j->mode,
                                   .src = j->src,
                                   .len = j->len,
                                   .dst = j->dst,
                                   .path = j->path,
                                   .sep = j->sep};
    int rc = proxy_bgcopy_run(&req, &bc->abandon);
    int err = rc < 0 ? errno : 0;
    if (close(j->dst) < 0 && rc == 0)
        err = errno; /* a late write error (NFS, quota) shows at close */
    close(j->src);
    if (err)
        unlink(j->path);
    j->err = err;
    j->meta_err = 0;
    if (!err && j->meta && qstore_meta_write(j->path, j->meta, j->meta_len, false) < 0)
        j->meta_err = errno;
}

static void *copier(void *arg)
{
    struct proxy_bgcopy *bc = arg;
    pthread_mutex_lock(&bc->mu);
    for (;;) {
        while (bc->finished == bc->submitted && !bc->quit)
            pthread_cond_wait(&bc->work, &bc->mu);
        if (bc->finished == bc->submitted)
            break; /* quit, and nothing left */
        struct job *j = &bc->jobs[bc->finished % PROXY_BGCOPY_JOBS];
        pthread_mutex_unlock(&bc->mu);
        copy_job(bc, j);
        pthread_mutex_lock(&bc->mu);
        bc->finished++;
        pthread_cond_signal(&bc->done);
        uint64_t one = 1;
        /* Cannot fail short of a counter at 2^64-2: the loop reads it. */
        ssize_t w = write(bc->efd, &one, sizeof(one));
        (void)w;
    }
    pthread_mutex_unlock(&bc->mu);
    return NULL;
}

/* ---- the loop's side --------------------------------------------------- */

/* report - an error line for each finished job that failed; their slots
 * are free again. */
static void report(struct proxy_bgcopy *bc)
{
    pthread_mutex_lock(&bc->mu);
    unsigned finished = bc->finished;
    pthread_mutex_unlock(&bc->mu);
    for (; bc->reported != finished; bc->reported++) {
        const struct job *j = &bc->jobs[bc->reported % PROXY_BGCOPY_JOBS];
        if (j->err == ECANCELED)
            svclog_error(&j->log,
                         "quarantine: cannot write [%s]: the worker stopped before the "
                         "copy was done (removed)",
                         j->path);
        else if (j->err)
            svclog_error_errno(&j->log, j->err, "quarantine: cannot write [%s]", j->path);
        else if (j->meta_err)
            svclog_error_errno(&j->log, j->meta_err, "quarantine: cannot write [%s%s]", j->path,
                               QMETA_SUFFIX);
        free(bc->jobs[bc->reported % PROXY_BGCOPY_JOBS].meta);
        bc->jobs[bc->reported % PROXY_BGCOPY_JOBS].meta = NULL;
    }
}

static void on_done(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct proxy_bgcopy *bc = io->data;
    uint64_t n;
    if (read(bc->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        svclog_error_errno(NULL, errno, "quarantine: copier eventfd");
    report(bc);
}

struct proxy_bgcopy *proxy_bgcopy_new(struct ev_loop *loop)
{
    struct proxy_bgcopy *bc = calloc(1, sizeof(*bc));
    if (!bc)
        return NULL;
    bc->loop = loop;
    atomic_init(&bc->abandon, false);
    bc->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&bc->mu, NULL);
    pthread_cond_init(&bc->work, NULL);
    pthread_cond_init(&bc->done, &ca);
    pthread_condattr_destroy(&ca);
    int err = bc->efd < 0 ? errno : 0;
    if (!err) {
        ev_io_init(&bc->io, bc->efd, on_done, bc);
        if (ev_io_set(loop, &bc->io, EV_READ) < 0)
            err = errno;
    }
    if (!err) {
        err = thread_start(&bc->thread, THREAD_STACK, copier, bc); /* no signals */
    }
    if (err) {
        if (bc->efd >= 0) {
            ev_io_stop(loop, &bc->io);
            close(bc->efd);
        }
        pthread_cond_destroy(&bc->done);
        pthread_cond_destroy(&bc->work);
        pthread_mutex_destroy(&bc->mu);
        free(bc);
        errno = err;
        return NULL;
    }
    return bc;
}

/* copy_log - ctx into j, its strings copied. */
static void copy_log(struct job *j, const struct svclog_ctx *ctx)
{
    j->log = *ctx;
    j->log.client_ip = NULL;
    j->log.client_host = NULL;
    j->log.server_ip = NULL;
    j->log.server_host = NULL;
    if (ctx->client_ip) {
        str_copy(j->client_ip, sizeof(j->client_ip), ctx->client_ip);
        j->log.client_ip = j->client_ip;
    }
    if (ctx->client_host) {
        str_copy(j->client_host, sizeof(j->client_host), ctx->client_host);
        j->log.client_host = j->client_host;
    }
    if (ctx->server_ip) {
        str_copy(j->server_ip, sizeof(j->server_ip), ctx->server_ip);
        j->log.server_ip = j->server_ip;
    }
    if (ctx->server_host) {
        str_copy(j->server_host, sizeof(j->server_host), ctx->server_host);
        j->log.server_host = j->server_host;
    }
}

int proxy_bgcopy_submit(struct proxy_bgcopy *bc, const struct proxy_bgcopy_req *req,
                        const struct svclog_ctx *log)
{
    if (bc->submitted - bc->reported >= PROXY_BGCOPY_JOBS) {
        errno = EAGAIN;
        return -1;
    }
    const char *sep = req->mode == PROXY_BGCOPY_MBOX && req->sep ? req->sep : "";
    if (strlen(req->path) >= PROXY_BGCOPY_PATH_MAX || strlen(sep) >= PROXY_BGCOPY_SEP_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    struct job *j = &bc->jobs[bc->submitted % PROXY_BGCOPY_JOBS];
    j->meta = NULL;
    j->meta_len = 0;
    if (req->meta) {
        if (!(j->meta = malloc(req->meta_len ? req->meta_len : 1)))
            return -1;
        memcpy(j->meta, req->meta, req->meta_len);
        j->meta_len = req->meta_len;
    }
    j->mode = req->mode;
    j->src = req->src;
    j->dst = req->dst;
    j->len = req->len;
    j->err = 0;
    str_copy(j->path, sizeof(j->path), req->path);
    str_copy(j->sep, sizeof(j->sep), sep);
    static const struct svclog_ctx none = {.internal_id = -1};
    copy_log(j, log ? log : &none);
    pthread_mutex_lock(&bc->mu);
    bc->submitted++;
    pthread_cond_signal(&bc->work);
    pthread_mutex_unlock(&bc->mu);
    return 0;
}

unsigned proxy_bgcopy_pending(const struct proxy_bgcopy *bc)
{
    return bc ? bc->submitted - bc->reported : 0;
}

void proxy_bgcopy_free(struct proxy_bgcopy *bc, uint64_t wait_ms)
{
    if (!bc)
        return;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(wait_ms / 1000);
    until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&bc->mu);
    bc->quit = true;
    pthread_cond_signal(&bc->work);
    while (bc->finished != bc->submitted) {
        if (pthread_cond_timedwait(&bc->done, &bc->mu, &until) == ETIMEDOUT) {
            /* The copy in progress stops within a chunk, the queued ones
             * at once: each ends ECANCELED, its file removed. */
            atomic_store(&bc->abandon, true);
            break;
        }
    }
    pthread_mutex_unlock(&bc->mu);
    pthread_join(bc->thread, NULL);
    report(bc);
    ev_io_stop(bc->loop, &bc->io);
    close(bc->efd);
    pthread_cond_destroy(&bc->done);
    pthread_cond_destroy(&bc->work);
    pthread_mutex_destroy(&bc->mu);
    free(bc);
}
