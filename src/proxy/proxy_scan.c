/* proxy_scan - asynchronous scan of a spool file by sekisho-scand. */
#include "proxy/proxy_scan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"

#define SCAN_REPLY_MARGIN_MS 5000 /* scand's own timeout fires first */

struct proxy_scan {
    struct ev_loop *loop;
    int sock;
    struct ev_io io;
    struct ev_timer timer;
    struct scan_client_tx tx;
    struct scan_client_rx rx;
    proxy_scan_fn *cb;
    void *arg;
    bool sent;
};

static void finish(struct proxy_scan *ps, const struct scanreq_reply *rep)
{
    ev_io_stop(ps->loop, &ps->io);
    ev_timer_stop(ps->loop, &ps->timer);
    if (ps->sock >= 0)
        close(ps->sock);
    ps->sock = -1;
    proxy_scan_fn *cb = ps->cb;
    void *arg = ps->arg;
    /* The watcher may still be pending in this batch: free after it. */
    if (ev_defer(ps->loop, free, ps) < 0)
        free(ps);
    cb(arg, rep);
}

static void fail(struct proxy_scan *ps, const char *fmt, int err)
{
    struct scanreq_reply rep;
    memset(&rep, 0, sizeof(rep));
    rep.verdict = SCANREQ_ERROR;
    snprintf(rep.error, sizeof(rep.error), fmt, err ? strerror(err) : "");
    finish(ps, &rep);
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
            fail(ps, "scanner connection failed: %s", errno);
            return;
        }
        ps->sent = true;
        ev_io_set(ps->loop, &ps->io, EV_READ);
        return;
    }
    struct scanreq_reply rep;
    enum scan_client_status st = scan_client_recv(ps->sock, &ps->rx, &rep);
    if (st == SCAN_CLIENT_AGAIN)
        return;
    if (st == SCAN_CLIENT_ERROR) {
        fail(ps, "scanner connection failed: %s", errno);
        return;
    }
    finish(ps, &rep);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct proxy_scan *ps = t->data;
    struct scanreq_reply rep;
    memset(&rep, 0, sizeof(rep));
    /* scand did not answer within its own limit plus a margin: report it
     * as the documented scan timeout. */
    rep.verdict = SCANREQ_ERROR;
    rep.details = SCANREQ_VSD_SCANTIMEOUT;
    str_copy(rep.error, sizeof(rep.error), "scanner did not answer in time");
    finish(ps, &rep);
}

struct proxy_scan *proxy_scan_start(struct ev_loop *loop, const struct config *cfg,
                                    enum scanreq_service svc, int spool_fd, const char *filename,
                                    const struct svclog_ctx *log, proxy_scan_fn *cb, void *arg)
{
    struct proxy_scan *ps = calloc(1, sizeof(*ps));
    struct scanreq_reply err;
    memset(&err, 0, sizeof(err));
    err.verdict = SCANREQ_ERROR;
    if (!ps) {
        str_copy(err.error, sizeof(err.error), "out of memory");
        cb(arg, &err);
        return NULL;
    }
    ps->loop = loop;
    ps->cb = cb;
    ps->arg = arg;
    ps->sock = scan_client_connect(cfg->scand_socket, true);
    if (ps->sock < 0) {
        int e = errno;
        svclog_error_errno(log, e,
                           "fsav_open_session: Cannot connect to scand's socket(%s). "
                           "sekisho-scand may be not running. Please run 'rc.sekisho_scand "
                           "restart' to restart sekisho-scand.",
                           cfg->scand_socket);
        snprintf(err.error, sizeof(err.error), "scanner unavailable: %s", strerror(e));
        free(ps);
        cb(arg, &err);
        return NULL;
    }
    struct scanreq_request req;
    memset(&req, 0, sizeof(req));
    req.type = SCANREQ_T_SCAN;
    req.service = svc;
    req.flags = (cfg->riskware_check ? SCANREQ_RF_RISKWARE : 0) |
                (cfg->block_encrypted ? SCANREQ_RF_BLOCK_ENCRYPTED : 0) |
                (cfg->block_maxnested ? SCANREQ_RF_BLOCK_MAXNESTED : 0) |
                (cfg->block_scantimeout ? SCANREQ_RF_BLOCK_SCANTIMEOUT : 0);
    req.timeout_ms = cfg->vsd_scantimeout * 1000u;
    str_copy(req.patterns, sizeof(req.patterns), cfg->pass_riskware.text);
    str_copy(req.filename, sizeof(req.filename), filename ? filename : "");
    if (scan_client_tx_init(&ps->tx, &req, spool_fd) < 0) {
        close(ps->sock);
        free(ps);
        str_copy(err.error, sizeof(err.error), "scan request does not fit");
        cb(arg, &err);
        return NULL;
    }
    scan_client_rx_init(&ps->rx);
    ev_io_init(&ps->io, ps->sock, on_io, ps);
    ev_timer_init(&ps->timer, on_timeout, ps);
    ev_io_set(loop, &ps->io, EV_WRITE);
    if (cfg->vsd_scantimeout > 0)
        ev_timer_start(loop, &ps->timer, cfg->vsd_scantimeout * 1000u + SCAN_REPLY_MARGIN_MS);
    return ps;
}

void proxy_scan_cancel(struct proxy_scan *ps)
{
    if (!ps)
        return;
    ev_io_stop(ps->loop, &ps->io);
    ev_timer_stop(ps->loop, &ps->timer);
    if (ps->sock >= 0)
        close(ps->sock);
    ps->sock = -1;
    if (ev_defer(ps->loop, free, ps) < 0)
        free(ps);
}
