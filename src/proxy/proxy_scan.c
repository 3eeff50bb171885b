/* proxy_scan - asynchronous scans of spool files by sekisho-scand. */
#include "proxy/proxy_scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/engine_mark.h"
#include "lib/str.h"

#define SCAN_REPLY_MARGIN_MS 5000 /* scand's own timeout fires first */

struct proxy_scan_pool {
    struct ev_loop *loop;
    char *socket_path;
    int idle[PROXY_SCAN_CONNS_MAX]; /* connected, no request outstanding */
    size_t nidle;
    unsigned busy;                /* connections carrying a request */
    struct proxy_scan *wait_head; /* scans waiting for a connection, FIFO */
    struct proxy_scan *wait_tail;
    struct verdict_cache *cache;
    struct svc_stats *stats; /* scans and cache hits/misses counted there; NULL = none */
    uint64_t engine_id;      /* of the last SCAN reply from scand; 0 before the first */
    char engine_mark[4096 + sizeof(ENGINE_MARK_SUFFIX)]; /* "" when the path does not fit */
    struct engine_mark_seen mark_seen;
    uint64_t mark_looked; /* ev_iteration of the last look; UINT64_MAX: none */
};

struct proxy_scan {
    struct proxy_scan_pool *pool;
    struct proxy_scan *next_waiting;
    bool waiting;
    int sock;    /* -1 while waiting */
    bool reused; /* sock came from the idle list (scand may have closed it) */
    bool sent;
    bool got_bytes;
    struct ev_io io;
    struct ev_timer timer;
    struct scan_client_tx tx;
    struct scan_client_rx rx;
    struct svclog_ctx log;
    proxy_scan_fn *cb;
    void *arg;
    bool has_digest;
    uint8_t digest[SHA256_DIGEST_LEN];
};

static void start_next_waiting(struct proxy_scan_pool *pool);

struct proxy_scan_pool *proxy_scan_pool_new(struct ev_loop *loop, const char *socket_path,
                                            struct svc_stats *stats)
{
    struct proxy_scan_pool *pool = calloc(1, sizeof(*pool));
    if (!pool)
        return NULL;
    pool->loop = loop;
    pool->stats = stats;
    pool->socket_path = strdup(socket_path);
    pool->cache = verdict_cache_new();
    pool->mark_looked = UINT64_MAX;
    if (engine_mark_path(socket_path, pool->engine_mark, sizeof(pool->engine_mark)) != 0)
        pool->engine_mark[0] = '\0';
    if (!pool->socket_path || !pool->cache) {
        free(pool->socket_path);
        verdict_cache_free(pool->cache);
        free(pool);
        return NULL;
    }
    return pool;
}

void proxy_scan_pool_free(struct proxy_scan_pool *pool)
{
    if (!pool)
        return;
    for (size_t i = 0; i < pool->nidle; i++)
        close(pool->idle[i]);
    free(pool->socket_path);
    verdict_cache_free(pool->cache);
    free(pool);
}

struct verdict_cache_stats proxy_scan_cache_stats(const struct proxy_scan_pool *pool)
{
    return verdict_cache_stats(pool->cache);
}

/* release_conn - a request finished: keep a clean connection for reuse. */
static void release_conn(struct proxy_scan_pool *pool, int sock, bool reusable)
{
    if (sock >= 0) {
        if (reusable && pool->nidle < PROXY_SCAN_CONNS_MAX)
            pool->idle[pool->nidle++] = sock;
        else
            close(sock);
        pool->busy--;
    }
    start_next_waiting(pool);
}

static void unlink_waiting(struct proxy_scan *ps)
{
    struct proxy_scan_pool *pool = ps->pool;
    struct proxy_scan **pp = &pool->wait_head, *prev = NULL;
    while (*pp && *pp != ps) {
        prev = *pp;
        pp = &(*pp)->next_waiting;
    }
    if (*pp) {
        *pp = ps->next_waiting;
        if (pool->wait_tail == ps)
            pool->wait_tail = prev;
    }
    ps->waiting = false;
}

/* note_engine - the info log records when scand's definitions changed,
 * as this worker sees it: on the first reply of a new engine (issue 15:
 * "the info log of every service records when the engine changed").
 * Replies made up here (errors, the verdict cache) carry no engine. */
static void note_engine(struct proxy_scan_pool *pool, const struct scanreq_reply *rep)
{
    if (rep->engine_id == 0 || rep->engine_id == pool->engine_id)
        return;
    if (pool->engine_id != 0)
        svclog_info(NULL,
                    "virus definitions changed: sekisho-scand engine %016llx replaces %016llx",
                    (unsigned long long)rep->engine_id, (unsigned long long)pool->engine_id);
    pool->engine_id = rep->engine_id;
}

static void finish(struct proxy_scan *ps, const struct scanreq_reply *rep, bool reusable)
{
    struct proxy_scan_pool *pool = ps->pool;
    note_engine(pool, rep);
    ev_io_stop(pool->loop, &ps->io);
    ev_timer_stop(pool->loop, &ps->timer);
    if (ps->waiting)
        unlink_waiting(ps);
    int sock = ps->sock;
    ps->sock = -1;
    proxy_scan_fn *cb = ps->cb;
    void *arg = ps->arg;
    verdict_cache_learn(pool->cache, ps->has_digest ? ps->digest : NULL, rep,
                        ev_now_ms(pool->loop));
    /* The watcher may still be pending in this batch: free after it. */
    if (ev_defer(pool->loop, free, ps) < 0)
        free(ps);
    cb(arg, rep);
    if (sock >= 0)
        release_conn(pool, sock, reusable);
}

static void fail(struct proxy_scan *ps, const char *what, int err)
{
    struct scanreq_reply rep;
    memset(&rep, 0, sizeof(rep));
    rep.verdict = SCANREQ_ERROR;
    snprintf(rep.error, sizeof(rep.error), "%s%s%s", what, err ? ": " : "",
             err ? strerror(err) : "");
    finish(ps, &rep, false);
}

static void unreachable(struct proxy_scan *ps, int err)
{
    svclog_error_errno(&ps->log, err,
                       "fsav_open_session: Cannot connect to scand's socket(%s). "
                       "sekisho-scand may be not running. Please run 'rc.sekisho_scand "
                       "restart' to restart sekisho-scand.",
                       ps->pool->socket_path);
    fail(ps, "scanner unavailable", err);
}

static bool retry_fresh(struct proxy_scan *ps);

/* attach - give ps a connection (idle or new) and send. False when it
 * could not, after calling back with an error. */
static bool attach(struct proxy_scan *ps)
{
    struct proxy_scan_pool *pool = ps->pool;
    if (pool->nidle > 0) {
        ps->sock = pool->idle[--pool->nidle];
        ps->reused = true;
    } else {
        ps->sock = scan_client_connect(pool->socket_path, true);
        ps->reused = false;
        if (ps->sock < 0) {
            unreachable(ps, errno);
            return false;
        }
    }
    pool->busy++;
    ev_io_init(&ps->io, ps->sock, ps->io.cb, ps);
    /* Send at once: an idle or new connection has room for a request, and
     * waiting for writability cost an epoll_ctl and a loop turn per scan. */
    enum scan_client_status st = scan_client_send(ps->sock, &ps->tx);
    if (st == SCAN_CLIENT_ERROR) {
        if (ps->reused)
            return retry_fresh(ps);
        fail(ps, "scanner connection failed", errno);
        return false;
    }
    ps->sent = st == SCAN_CLIENT_DONE;
    ev_io_set(pool->loop, &ps->io, ps->sent ? EV_READ : EV_WRITE);
    return true;
}

/* retry_fresh - a reused connection turned out dead (scand restarted):
 * send the same request once more on a new connection. False when that
 * failed too (ps has called back then, as attach says). */
static bool retry_fresh(struct proxy_scan *ps)
{
    struct proxy_scan_pool *pool = ps->pool;
    ev_io_stop(pool->loop, &ps->io);
    close(ps->sock);
    pool->busy--;
    ps->sock = -1;
    ps->sent = false;
    ps->tx.off = 0;
    scan_client_rx_init(&ps->rx);
    /* Drain the idle list: its connections are as dead as this one. */
    while (pool->nidle > 0)
        close(pool->idle[--pool->nidle]);
    return attach(ps);
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct proxy_scan *ps = io->data;
    if (!ps->sent) {
        enum scan_client_status st = scan_client_send(ps->sock, &ps->tx);
        if (st == SCAN_CLIENT_AGAIN)
            return;
        if (st == SCAN_CLIENT_ERROR) {
            if (ps->reused) {
                (void)retry_fresh(ps);
                return;
            }
            fail(ps, "scanner connection failed", errno);
            return;
        }
        ps->sent = true;
        ev_io_set(ps->pool->loop, &ps->io, EV_READ);
        return;
    }
    struct scanreq_reply rep;
    enum scan_client_status st = scan_client_recv(ps->sock, &ps->rx, &rep);
    if (st == SCAN_CLIENT_AGAIN) {
        ps->got_bytes = ps->got_bytes || buf_len(&ps->rx.buf) > 0;
        return;
    }
    if (st == SCAN_CLIENT_ERROR) {
        if (ps->reused && !ps->got_bytes && errno == ECONNRESET) {
            (void)retry_fresh(ps); /* closed before reading our request */
            return;
        }
        fail(ps, "scanner connection failed", errno);
        return;
    }
    finish(ps, &rep, true);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct proxy_scan *ps = t->data;
    struct scanreq_reply rep;
    memset(&rep, 0, sizeof(rep));
    /* scand did not answer within its own limit plus a margin: report it
     * as the documented scan timeout. The connection is not reused (its
     * reply may still come). */
    rep.verdict = SCANREQ_ERROR;
    rep.details = SCANREQ_VSD_SCANTIMEOUT;
    str_copy(rep.error, sizeof(rep.error), "scanner did not answer in time");
    finish(ps, &rep, false);
}

static void start_next_waiting(struct proxy_scan_pool *pool)
{
    while (pool->wait_head && pool->busy < PROXY_SCAN_CONNS_MAX) {
        struct proxy_scan *ps = pool->wait_head;
        unlink_waiting(ps);
        attach(ps); /* on failure it has called back and freed itself */
    }
}

struct proxy_scan *proxy_scan_start(struct proxy_scan_pool *pool, const struct config *cfg,
                                    enum scanreq_service svc, int spool_fd, const char *filename,
                                    const uint8_t *digest, const struct svclog_ctx *log,
                                    proxy_scan_fn *cb, void *arg)
{
    return proxy_scan_start_coded(pool, cfg, svc, spool_fd, 0, filename, digest, log, cb, arg);
}

struct proxy_scan *proxy_scan_start_coded(struct proxy_scan_pool *pool, const struct config *cfg,
                                          enum scanreq_service svc, int spool_fd, uint8_t encoding,
                                          const char *filename, const uint8_t *digest,
                                          const struct svclog_ctx *log, proxy_scan_fn *cb,
                                          void *arg)
{
    /* The cache knows bytes, not how they decode: never with a coding. */
    if (encoding != 0)
        digest = NULL;
    /* New definitions in service since the last look: what the old ones
     * passed must be scanned again (lib/engine_mark.h). One look (a stat)
     * per loop iteration: a request handled in this iteration arrived
     * before the wait returned, so after any change its sender could have
     * known of, and the look was taken after the wait returned
     * (ev_iteration). It was 2% of a worker's CPU with one per request. */
    if (digest && pool->engine_mark[0] && pool->mark_looked != ev_iteration(pool->loop)) {
        pool->mark_looked = ev_iteration(pool->loop);
        if (engine_mark_changed(pool->engine_mark, &pool->mark_seen))
            verdict_cache_forget(pool->cache);
    }
    bool hit = digest && verdict_cache_is_clean(pool->cache, digest, ev_now_ms(pool->loop));
    if (digest)
        svc_stats_add(pool->stats, hit ? SVC_STAT_CACHE_HITS : SVC_STAT_CACHE_MISSES, time(NULL));
    if (hit) {
        struct scanreq_reply clean;
        memset(&clean, 0, sizeof(clean));
        clean.type = SCANREQ_T_SCAN;
        clean.verdict = SCANREQ_CLEAN;
        cb(arg, &clean);
        return NULL;
    }
    struct proxy_scan *ps = calloc(1, sizeof(*ps));
    if (!ps) {
        struct scanreq_reply err;
        memset(&err, 0, sizeof(err));
        err.verdict = SCANREQ_ERROR;
        str_copy(err.error, sizeof(err.error), "out of memory");
        cb(arg, &err);
        return NULL;
    }
    ps->pool = pool;
    ps->sock = -1;
    ps->cb = cb;
    ps->arg = arg;
    if (digest) {
        ps->has_digest = true;
        memcpy(ps->digest, digest, SHA256_DIGEST_LEN);
    }
    if (log) {
        ps->log = *log; /* the strings are the session's, alive while ps is */
    }
    struct scanreq_request req;
    memset(&req, 0, sizeof(req));
    req.type = SCANREQ_T_SCAN;
    req.service = svc;
    req.encoding = encoding;
    req.flags = (cfg->riskware_check ? SCANREQ_RF_RISKWARE : 0) |
                (cfg->block_encrypted ? SCANREQ_RF_BLOCK_ENCRYPTED : 0) |
                (cfg->block_maxnested ? SCANREQ_RF_BLOCK_MAXNESTED : 0) |
                (cfg->block_scantimeout ? SCANREQ_RF_BLOCK_SCANTIMEOUT : 0) |
                (cfg->block_oversize ? SCANREQ_RF_BLOCK_OVERSIZE : 0);
    req.timeout_ms = cfg->vsd_scantimeout * 1000u;
    str_copy(req.patterns, sizeof(req.patterns), cfg->pass_riskware.text);
    str_copy(req.filename, sizeof(req.filename), filename ? filename : "");
    ev_io_init(&ps->io, -1, on_io, ps);
    ev_timer_init(&ps->timer, on_timeout, ps);
    scan_client_rx_init(&ps->rx);
    if (scan_client_tx_init(&ps->tx, &req, spool_fd) < 0) {
        fail(ps, "scan request does not fit", 0);
        return NULL;
    }
    svc_stats_add(pool->stats, SVC_STAT_SCANS, time(NULL));
    if (cfg->vsd_scantimeout > 0)
        ev_timer_start(pool->loop, &ps->timer, cfg->vsd_scantimeout * 1000u + SCAN_REPLY_MARGIN_MS);
    if (pool->busy >= PROXY_SCAN_CONNS_MAX) {
        ps->waiting = true;
        if (pool->wait_tail)
            pool->wait_tail->next_waiting = ps;
        else
            pool->wait_head = ps;
        pool->wait_tail = ps;
        return ps;
    }
    return attach(ps) ? ps : NULL;
}

void proxy_scan_cancel(struct proxy_scan *ps)
{
    if (!ps)
        return;
    struct proxy_scan_pool *pool = ps->pool;
    ev_io_stop(pool->loop, &ps->io);
    ev_timer_stop(pool->loop, &ps->timer);
    if (ps->waiting)
        unlink_waiting(ps);
    int sock = ps->sock;
    ps->sock = -1;
    if (ev_defer(pool->loop, free, ps) < 0)
        free(ps);
    /* A request may be outstanding on it: never reuse that connection. */
    if (sock >= 0)
        release_conn(pool, sock, false);
}
