/* scand_server - sekisho-scand's socket server and event loop (see
 * scand_server.h).
 *
 * Threads: the event thread (this file's loop) owns every connection and
 * all socket I/O; scanner threads (scan_pool) only run engine_scan on a
 * job, close the job's descriptor and push the job onto the done list,
 * waking the loop through an eventfd; the reload thread (engine.c) sets
 * reload_done and wakes the loop the same way.
 *
 * Descriptor pairing: a client attaches each SCAN request's descriptor to
 * the request's first byte. Linux hands the descriptors of a sendmsg to
 * the recvmsg that returns that message's first byte, so they arrive no
 * later than the request is complete; the connection keeps received
 * descriptors in arrival order and each decoded SCAN request takes the
 * oldest one.
 */
#include "scand/scand_server.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/fd_pass.h"
#include "lib/str.h"
#include "proto/scanreq.h"
#include "scand/scan_pool.h"
#include "scand/scand_log.h"

#define SCAND_EPOLL_BATCH 64
#define SCAND_TICK_MS     500
/* The replies of every outstanding request, and one VERSION reply (which
 * is answered at once, so never outstanding). */
#define CONN_TX_CAP (SCAND_CONN_INFLIGHT_MAX * SCANREQ_REPLY_MAX + SCANREQ_VERSION_REPLY_MAX)

enum ev_kind {
    EV_LISTEN = 0,
    EV_WAKE,
    EV_SIGNAL,
    EV_CONN,
};

struct ev_tag {
    enum ev_kind kind;
};

struct conn {
    struct ev_tag tag; /* first: epoll data points here */
    int fd;
    uint64_t serial;  /* for log lines */
    bool dead;        /* socket closed; freed when inflight drops to 0 */
    atomic_bool gone; /* = dead, read by scanner threads: running scans are abandoned */
    bool rd_eof;      /* peer sent EOF: answer what is outstanding, then close */
    unsigned inflight;
    uint32_t events; /* registered epoll mask */
    int fds[SCAND_CONN_FDS_MAX];
    size_t nfds;
    struct buf rx;
    char rxmem[SCANREQ_REQUEST_MAX];
    struct buf tx;
    char txmem[CONN_TX_CAP];
    struct conn *prev, *next;
};

struct scand_job {
    struct conn *conn;
    int fd;
    struct scanreq_request req;
    struct scanreq_reply rep;
    struct scand_job *next;
};

struct reload_waiter {
    struct conn *conn;
    uint64_t id;
    struct reload_waiter *next;
};

struct scand_server {
    struct scand_server_config cfg;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    int listen_fd, epoll_fd, wake_fd, signal_fd;
    struct ev_tag listen_tag, wake_tag, signal_tag;
    struct scan_pool *pool;
    struct conn *conns;
    size_t nconns;
    uint64_t next_serial;
    unsigned total_inflight;
    bool draining;
    bool reap_needed;
    uint64_t drain_deadline_ns; /* set when inflight reached 0 while draining */

    pthread_mutex_t done_mu;
    struct scand_job *done_head, *done_tail;
    atomic_bool reload_done;

    bool reload_running;
    bool reload_again; /* asked for while one was running */
    struct reload_waiter *waiters_cur, *waiters_next;

    scand_usr2_fn *usr2; /* NULL: SIGUSR2 is logged and ignored */
    void *usr2_arg;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int scand_server_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void wake(struct scand_server *s)
{
    uint64_t one = 1;
    ssize_t rc = write(s->wake_fd, &one, sizeof(one));
    (void)rc; /* EAGAIN means the counter is already non-zero: awake anyway */
}

void scand_server_set_slot(struct scand_server *s, struct engine_slot *slot)
{
    s->cfg.slot = slot;
}

void scand_server_set_usr2(struct scand_server *s, scand_usr2_fn *fn, void *arg)
{
    s->usr2 = fn;
    s->usr2_arg = arg;
}

void scand_server_reload_done(void *arg)
{
    struct scand_server *s = arg;
    atomic_store(&s->reload_done, true);
    wake(s);
}

/* bind_socket - GEN-5: a socket file nobody listens on is stale and is
 * removed; one that answers belongs to a running scand and is kept. */
static int bind_socket(struct scand_server *s, char *err, size_t errcap)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (str_copy(sun.sun_path, sizeof(sun.sun_path), s->cfg.socket_path) >= sizeof(sun.sun_path)) {
        snprintf(err, errcap, "socket path too long: %s", s->cfg.socket_path);
        return -1;
    }
    str_copy(s->path, sizeof(s->path), s->cfg.socket_path);
    struct stat st;
    if (lstat(s->path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errcap, "%s exists and is not a socket", s->path);
            return -1;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
            close(probe);
            snprintf(err, errcap, "%s: another sekisho-scand is listening", s->path);
            return -1;
        }
        if (probe >= 0)
            close(probe);
        if (unlink(s->path) < 0 && errno != ENOENT) {
            snprintf(err, errcap, "unlink stale %s: %s", s->path, strerror(errno));
            return -1;
        }
        scand_log("removed stale socket %s", s->path);
    }
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0 || bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        snprintf(err, errcap, "bind %s: %s", s->path, strerror(errno));
        return -1;
    }
    if (chmod(s->path, SCAND_SOCKET_MODE) < 0 || listen(s->listen_fd, SOMAXCONN) < 0) {
        snprintf(err, errcap, "listen %s: %s", s->path, strerror(errno));
        unlink(s->path);
        return -1;
    }
    return 0;
}

static int ep_add(struct scand_server *s, int fd, uint32_t events, void *ptr)
{
    struct epoll_event ev = {.events = events, .data.ptr = ptr};
    return epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &ev);
}

struct scand_server *scand_server_new(const struct scand_server_config *cfg, char *err,
                                      size_t errcap)
{
    struct scand_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->listen_fd = s->epoll_fd = s->wake_fd = s->signal_fd = -1;
    s->listen_tag.kind = EV_LISTEN;
    s->wake_tag.kind = EV_WAKE;
    s->signal_tag.kind = EV_SIGNAL;
    pthread_mutex_init(&s->done_mu, NULL);
    atomic_init(&s->reload_done, false);
    if (bind_socket(s, err, errcap) < 0)
        goto fail;
    return s;
fail:
    scand_server_free(s);
    return NULL;
}

/* ---- connections --------------------------------------------------------- */

static void conn_free(struct scand_server *s, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nconns--;
    free(c);
}

/* conn_kill - close the socket now; the struct lives on while scans of
 * this connection are running (their replies are then dropped) and until
 * the next conn_reap. */
static void conn_kill(struct scand_server *s, struct conn *c, const char *why)
{
    if (c->dead)
        return;
    scand_log_debug("conn %llu closed: %s", (unsigned long long)c->serial, why);
    epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    for (size_t i = 0; i < c->nfds; i++)
        close(c->fds[i]);
    c->nfds = 0;
    c->dead = true;
    atomic_store(&c->gone, true);
    s->reap_needed = true; /* freed by conn_reap, never under a caller's feet */
}

/* conn_reap - free dead connections that have nothing outstanding; runs
 * between event batches, when no pointer to a connection is live. */
static void conn_reap(struct scand_server *s)
{
    if (!s->reap_needed)
        return;
    s->reap_needed = false;
    for (struct conn *c = s->conns, *next; c; c = next) {
        next = c->next;
        if (c->dead && c->inflight == 0)
            conn_free(s, c);
    }
}

static bool conn_can_take(const struct conn *c)
{
    /* Room in tx for the reply of every request outstanding plus this one. */
    return c->inflight < SCAND_CONN_INFLIGHT_MAX &&
           buf_space(&c->tx) >= (size_t)(c->inflight + 1) * SCANREQ_REPLY_MAX;
}

/* version_fits - room in tx, once compacted, for a VERSION reply next to
 * the replies of every request outstanding. Always true when tx is empty
 * (conn_can_take keeps inflight below the maximum). */
static bool version_fits(const struct conn *c)
{
    return c->tx.cap - buf_len(&c->tx) >=
           (size_t)c->inflight * SCANREQ_REPLY_MAX + SCANREQ_VERSION_REPLY_MAX;
}

static void conn_queue_reply(struct conn *c, const struct scanreq_reply *rep)
{
    buf_compact(&c->tx);
    if (!scanreq_encode_reply(&c->tx, rep))
        scand_log("conn %llu: reply %llu does not fit (bug)", (unsigned long long)c->serial,
                  (unsigned long long)rep->id);
}

static void conn_queue_version(struct conn *c, const struct scanreq_version *v)
{
    buf_compact(&c->tx);
    if (!scanreq_encode_version(&c->tx, v))
        scand_log("conn %llu: version reply %llu does not fit (bug)", (unsigned long long)c->serial,
                  (unsigned long long)v->id);
}

static void error_reply(struct conn *c, const struct scanreq_request *req, const char *why)
{
    struct scanreq_reply rep;
    memset(&rep, 0, sizeof(rep));
    rep.type = req->type;
    rep.id = req->id;
    rep.verdict = SCANREQ_ERROR;
    str_copy(rep.error, sizeof(rep.error), why);
    conn_queue_reply(c, &rep);
}

static void start_reload(struct scand_server *s)
{
    if (s->reload_running) {
        s->reload_again = true;
        return;
    }
    s->reload_running = true;
    engine_slot_reload(s->cfg.slot); /* reports through scand_server_reload_done */
}

static void handle_request(struct scand_server *s, struct conn *c,
                           const struct scanreq_request *req)
{
    if (req->type == SCANREQ_T_VERSION) {
        /* The engine in service, even while a reload compiles another:
         * that is the one scanning. */
        struct scanreq_version v;
        engine_slot_describe(s->cfg.slot, &v);
        v.id = req->id;
        conn_queue_version(c, &v);
        scand_log_debug("conn %llu: version (id %llu)", (unsigned long long)c->serial,
                        (unsigned long long)req->id);
        return;
    }
    if (req->type == SCANREQ_T_RELOAD) {
        struct reload_waiter *w = calloc(1, sizeof(*w));
        if (w == NULL) {
            error_reply(c, req, "out of memory");
            return;
        }
        w->conn = c;
        w->id = req->id;
        /* A reload already running may have read the directory before
         * this request was made: such a request waits for the next one. */
        struct reload_waiter **list = s->reload_running ? &s->waiters_next : &s->waiters_cur;
        w->next = *list;
        *list = w;
        c->inflight++;
        s->total_inflight++;
        scand_log("reload requested (conn %llu, id %llu)", (unsigned long long)c->serial,
                  (unsigned long long)req->id);
        start_reload(s);
        return;
    }
    if (c->nfds == 0) {
        error_reply(c, req, "no file descriptor came with the request");
        return;
    }
    int fd = c->fds[0];
    memmove(c->fds, c->fds + 1, (c->nfds - 1) * sizeof(c->fds[0]));
    c->nfds--;
    struct scand_job *j = malloc(sizeof(*j));
    if (j == NULL) {
        close(fd);
        error_reply(c, req, "out of memory");
        return;
    }
    j->conn = c;
    j->fd = fd;
    j->req = *req;
    j->next = NULL;
    if (scan_pool_submit(s->pool, j) < 0) {
        int e = errno;
        close(fd);
        free(j);
        error_reply(c, req, e == EAGAIN ? "scan queue full" : "scanner stopping");
        return;
    }
    c->inflight++;
    s->total_inflight++;
}

/* conn_flush - write what tx holds; false if the connection died. */
static bool conn_flush(struct scand_server *s, struct conn *c)
{
    while (buf_len(&c->tx) > 0) {
        ssize_t n = send(c->fd, buf_rptr(&c->tx), buf_len(&c->tx), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            conn_kill(s, c, strerror(errno));
            return false;
        }
        buf_consume(&c->tx, (size_t)n);
    }
    buf_compact(&c->tx);
    return true;
}

/* conn_update - decode buffered requests while the connection may take
 * more, flush replies, set the epoll mask, close when finished. */
static void conn_update(struct scand_server *s, struct conn *c)
{
    if (c->dead)
        return;
    while (!s->draining && conn_can_take(c) && buf_len(&c->rx) > 0) {
        struct scanreq_request req;
        size_t n = 0;
        enum scanreq_parse st = scanreq_decode_request(buf_rptr(&c->rx), buf_len(&c->rx), &req, &n);
        if (st == SCANREQ_AGAIN)
            break;
        if (st == SCANREQ_INVALID) {
            scand_log("conn %llu: invalid request, closing", (unsigned long long)c->serial);
            conn_kill(s, c, "invalid request");
            return;
        }
        if (req.type == SCANREQ_T_VERSION && !version_fits(c)) {
            /* Replies queued before it go out first; if they cannot yet,
             * the request stays in rx until EPOLLOUT brings us back. */
            if (!conn_flush(s, c))
                return;
            if (!version_fits(c))
                break;
        }
        buf_consume(&c->rx, n);
        handle_request(s, c, &req);
    }
    buf_compact(&c->rx);
    if (!conn_flush(s, c))
        return;
    if (c->rd_eof && c->inflight == 0 && buf_len(&c->tx) == 0) {
        conn_kill(s, c, "client done");
        return;
    }
    uint32_t ev = 0;
    if (!c->rd_eof && !s->draining && conn_can_take(c) && buf_space(&c->rx) > 0)
        ev |= EPOLLIN;
    if (buf_len(&c->tx) > 0)
        ev |= EPOLLOUT;
    if (ev != c->events) {
        struct epoll_event e = {.events = ev, .data.ptr = &c->tag};
        epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->fd, &e);
        c->events = ev;
    }
}

/* one receive makes room for every descriptor a connection may hold */
_Static_assert(SCAND_CONN_FDS_MAX <= FD_PASS_RECV_MAX, "fd_pass receives too few descriptors");

static void conn_read(struct scand_server *s, struct conn *c)
{
    if (buf_space(&c->rx) == 0)
        return;
    size_t got = 0;
    bool overflow = false;
    ssize_t n = fd_pass_recv(c->fd, buf_wptr(&c->rx), buf_space(&c->rx), MSG_DONTWAIT,
                             c->fds + c->nfds, SCAND_CONN_FDS_MAX - c->nfds, &got, &overflow);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_kill(s, c, strerror(errno));
        return;
    }
    c->nfds += got;
    if (overflow) {
        scand_log("conn %llu: too many descriptors, closing", (unsigned long long)c->serial);
        conn_kill(s, c, "descriptor overflow");
        return;
    }
    if (n == 0) {
        c->rd_eof = true;
        if (buf_len(&c->rx) > 0)
            scand_log_debug("conn %llu: EOF inside a request", (unsigned long long)c->serial);
        return;
    }
    buf_produce(&c->rx, (size_t)n);
}

static void do_accept(struct scand_server *s)
{
    for (;;) {
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                scand_log("accept: %s", strerror(errno));
            return;
        }
        if (s->nconns >= SCAND_CONN_MAX) {
            scand_log("too many connections (%d), refusing one", SCAND_CONN_MAX);
            close(fd);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->tag.kind = EV_CONN;
        c->fd = fd;
        atomic_init(&c->gone, false);
        c->serial = ++s->next_serial;
        buf_init(&c->rx, c->rxmem, sizeof(c->rxmem));
        buf_init(&c->tx, c->txmem, sizeof(c->txmem));
        c->events = EPOLLIN;
        if (ep_add(s, fd, EPOLLIN, &c->tag) < 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = s->conns;
        if (s->conns)
            s->conns->prev = c;
        s->conns = c;
        s->nconns++;
    }
}

/* ---- scans and reloads finishing ----------------------------------------- */

static void job_run(void *job, void *arg)
{
    struct scand_job *j = job;
    struct scand_server *s = arg;
    struct engine *e = engine_slot_acquire(s->cfg.slot);
    /* The connection outlives its running scans (conn_reap), so its flag
     * may be read here until this job is handed back. */
    engine_scan(e, j->fd, &j->req, s->cfg.mode, &j->conn->gone, &j->rep);
    engine_slot_release(s->cfg.slot, e);
    close(j->fd);
    j->fd = -1;
    if (scand_log_is_verbose()) {
        char det[128]; /* every VSD_* name fits */
        struct buf d;
        buf_init(&d, det, sizeof(det) - 1);
        scanreq_details_format(j->rep.details, &d);
        scand_log_debug("id=%llu %s %s%s%s details=%s scan_us=%llu%s%s",
                        (unsigned long long)j->req.id, scanreq_service_name(j->req.service),
                        scanreq_verdict_name(j->rep.verdict), j->rep.name[0] ? " " : "",
                        j->rep.name, buf_cstr(&d), (unsigned long long)j->rep.scan_us,
                        j->rep.error[0] ? " error=" : "", j->rep.error);
    }
    pthread_mutex_lock(&s->done_mu);
    bool first = s->done_head == NULL;
    if (s->done_tail)
        s->done_tail->next = j;
    else
        s->done_head = j;
    s->done_tail = j;
    pthread_mutex_unlock(&s->done_mu);
    /* One wake-up per batch: a list that was not empty has a wake-up
     * pending already (handle_wake reads the eventfd before it takes the
     * list, so a job added after the take finds the list empty). The
     * eventfd write was 2% of the daemon's CPU with small scans. */
    if (first)
        wake(s);
}

static void request_done(struct scand_server *s, struct conn *c)
{
    c->inflight--;
    s->total_inflight--;
    if (c->dead) {
        s->reap_needed = true;
        return;
    }
    conn_update(s, c);
}

static void answer_waiters(struct scand_server *s, struct reload_waiter *list,
                           const struct engine_reload_result *r)
{
    while (list) {
        struct reload_waiter *w = list;
        list = w->next;
        if (!w->conn->dead) {
            struct scanreq_reply rep;
            memset(&rep, 0, sizeof(rep));
            rep.type = SCANREQ_T_RELOAD;
            rep.id = w->id;
            rep.reload_ok = r->ok;
            rep.signatures = r->signatures;
            str_copy(rep.error, sizeof(rep.error), r->error);
            conn_queue_reply(w->conn, &rep);
        }
        request_done(s, w->conn);
        free(w);
    }
}

static void handle_wake(struct scand_server *s)
{
    uint64_t v;
    ssize_t rc = read(s->wake_fd, &v, sizeof(v));
    (void)rc;
    pthread_mutex_lock(&s->done_mu);
    struct scand_job *j = s->done_head;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->done_mu);
    while (j) {
        struct scand_job *next = j->next;
        struct conn *c = j->conn;
        if (!c->dead)
            conn_queue_reply(c, &j->rep);
        free(j);
        request_done(s, c);
        j = next;
    }
    if (atomic_exchange(&s->reload_done, false)) {
        struct engine_reload_result r = engine_slot_last(s->cfg.slot);
        struct reload_waiter *list = s->waiters_cur;
        s->waiters_cur = NULL;
        s->reload_running = false;
        answer_waiters(s, list, &r);
        if (s->reload_again || s->waiters_next) {
            s->reload_again = false;
            s->waiters_cur = s->waiters_next;
            s->waiters_next = NULL;
            start_reload(s);
        }
    }
}

static void handle_signal(struct scand_server *s)
{
    struct signalfd_siginfo si;
    while (read(s->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            scand_log("SIGHUP: reloading definitions");
            start_reload(s);
        } else if (si.ssi_signo == SIGUSR2) {
            if (s->usr2)
                s->usr2(s->usr2_arg, si.ssi_int);
            else
                scand_log("SIGUSR2: ignored (only --ceiling-first gives it a meaning)");
        } else if (!s->draining) {
            scand_log("%s: stopping; finishing %u outstanding requests",
                      si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT", s->total_inflight);
            s->draining = true;
            epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->listen_fd, NULL);
            close(s->listen_fd);
            s->listen_fd = -1;
            unlink(s->path); /* new clients fail at once instead of hanging */
            for (struct conn *c = s->conns; c; c = c->next)
                conn_update(s, c);
        }
    }
}

static bool tx_pending(struct scand_server *s)
{
    for (struct conn *c = s->conns; c; c = c->next)
        if (!c->dead && buf_len(&c->tx) > 0)
            return true;
    return false;
}

/* event_setup - the epoll set, the wake eventfd and the signalfd. Done in
 * run(), not new(), because main() may fork (--daemon) in between: a
 * signalfd registered in an epoll set before fork() never wakes the
 * child's epoll for the child's signals. */
static int event_setup(struct scand_server *s)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->epoll_fd < 0 || s->wake_fd < 0 || s->signal_fd < 0 ||
        ep_add(s, s->listen_fd, EPOLLIN, &s->listen_tag) < 0 ||
        ep_add(s, s->wake_fd, EPOLLIN, &s->wake_tag) < 0 ||
        ep_add(s, s->signal_fd, EPOLLIN, &s->signal_tag) < 0) {
        scand_log("event setup: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* run_as_batch - SCHED_BATCH for this thread and, inherited, for the
 * scanner and reload threads started from it: a thread of the daemon that
 * wakes up (a request arrived, a job was queued) no longer preempts
 * whatever runs on that CPU (a scan, a proxy worker relaying), it waits
 * for the running task's slice (the kernel's "batch tasks do not preempt
 * on wakeup"). Same weight, same share of the CPUs: only the wake-up
 * preemptions go, and with them the reschedule interrupts that cut into
 * the scans (6% of the daemon's CPU in a profile with small scans; on a
 * paravirtualised host each costs an exit). bench/scand.sh, bundled
 * database, 23 KiB distinct contents, CPU per scan against the daemon's
 * own bare loop: 112-117% before, 104-105% with the whole daemon batch
 * (docs/bench.md, session 13). Latency: a request waits at most one
 * slice for the event thread when every CPU is busy, nothing when one is
 * idle. */
static void run_as_batch(void)
{
    struct sched_param sp = {0};
    if (sched_setscheduler(0, SCHED_BATCH, &sp) < 0)
        scand_log("SCHED_BATCH: %s (scans go on at the normal policy)", strerror(errno));
}

int scand_server_run(struct scand_server *s)
{
    if (event_setup(s) < 0)
        return -1;
    run_as_batch(); /* before the pool: its threads inherit the policy */
    s->pool = scan_pool_new(s->cfg.threads, SCAND_QUEUE_MAX, job_run, s);
    if (s->pool == NULL) {
        scand_log("cannot start %u scanner threads: %s", s->cfg.threads, strerror(errno));
        return -1;
    }
    struct epoll_event evs[SCAND_EPOLL_BATCH];
    for (;;) {
        if (s->draining && s->total_inflight == 0) {
            if (!tx_pending(s))
                break;
            if (s->drain_deadline_ns == 0)
                s->drain_deadline_ns = mono_ns() + SCAND_DRAIN_FLUSH_MS * 1000000ull;
            else if (mono_ns() > s->drain_deadline_ns) {
                scand_log("giving up on clients that do not read their replies");
                break;
            }
        }
        int n = epoll_wait(s->epoll_fd, evs, SCAND_EPOLL_BATCH, SCAND_TICK_MS);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            scand_log("epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            struct ev_tag *tag = evs[i].data.ptr;
            switch (tag->kind) {
            case EV_LISTEN:
                if (s->listen_fd >= 0)
                    do_accept(s);
                break;
            case EV_WAKE:
                handle_wake(s);
                break;
            case EV_SIGNAL:
                handle_signal(s);
                break;
            case EV_CONN: {
                struct conn *c = (struct conn *)tag;
                if (c->dead)
                    break;
                /* HUP on a UNIX stream: the peer closed both directions
                 * and can read no reply; a half-close (shutdown SHUT_WR)
                 * shows as EOF on read and still gets its replies. */
                if (evs[i].events & (EPOLLHUP | EPOLLERR))
                    conn_kill(s, c, "peer closed");
                else if (evs[i].events & EPOLLIN)
                    conn_read(s, c);
                if (!c->dead)
                    conn_update(s, c);
                break;
            }
            }
        }
        conn_reap(s);
    }
    scan_pool_free(s->pool); /* every job is done: nothing left to run */
    s->pool = NULL;
    handle_wake(s);
    return 0;
}

void scand_server_free(struct scand_server *s)
{
    if (s == NULL)
        return;
    scan_pool_free(s->pool);
    while (s->conns) {
        struct conn *c = s->conns;
        if (!c->dead) {
            close(c->fd);
            for (size_t i = 0; i < c->nfds; i++)
                close(c->fds[i]);
        }
        conn_free(s, c);
    }
    for (struct reload_waiter *lists[2] = {s->waiters_cur, s->waiters_next}, **l = lists;
         l < lists + 2; l++)
        while (*l) {
            struct reload_waiter *w = *l;
            *l = w->next;
            free(w);
        }
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        unlink(s->path);
    }
    if (s->epoll_fd >= 0)
        close(s->epoll_fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->signal_fd >= 0)
        close(s->signal_fd);
    pthread_mutex_destroy(&s->done_mu);
    free(s);
}
