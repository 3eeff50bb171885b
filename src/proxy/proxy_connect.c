/* proxy_connect - see proxy_connect.h. */
#include "proxy/proxy_connect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"

struct proxy_connect {
    struct ev_loop *loop;
    struct dns_query *q;
    char host[256];
    uint16_t port;
    unsigned timeout_s;
    struct dns_result addrs;
    size_t next;
    int fd;
    struct ev_io io;
    struct ev_timer timer;
    proxy_connect_fn *cb;
    void *arg;
    bool finished; /* the callback ran; the memory waits for its deferred free */
};

static void release(struct proxy_connect *pc)
{
    ev_io_stop(pc->loop, &pc->io);
    ev_timer_stop(pc->loop, &pc->timer);
    if (pc->q)
        dns_cancel(pc->q);
    pc->q = NULL;
    /* An event of ours may still be pending in this batch. */
    if (ev_defer(pc->loop, free, pc) < 0)
        free(pc);
}

static void finish(struct proxy_connect *pc, int fd, const char *error)
{
    struct proxy_connect_result r = {.fd = fd, .port = pc->port};
    if (fd >= 0 && pc->next > 0)
        sock_addr_text((const struct sockaddr *)&pc->addrs.addr[pc->next - 1], r.ip, sizeof(r.ip),
                       NULL);
    str_copy(r.error, sizeof(r.error), error ? error : "");
    proxy_connect_fn *cb = pc->cb;
    void *arg = pc->arg;
    pc->fd = -1; /* the caller's now */
    pc->finished = true;
    release(pc);
    cb(arg, &r);
}

static void fail(struct proxy_connect *pc, const char *fmt_detail, const char *detail)
{
    char msg[PROXY_CONNECT_ERROR_MAX];
    snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/%s%s", pc->host, pc->port, fmt_detail, detail);
    if (pc->fd >= 0)
        close(pc->fd);
    pc->fd = -1;
    finish(pc, -1, msg);
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);

static void try_next(struct proxy_connect *pc, int last_err)
{
    while (pc->next < pc->addrs.n) {
        size_t i = pc->next++;
        int fd = sock_connect_start((const struct sockaddr *)&pc->addrs.addr[i], pc->addrs.len[i]);
        if (fd < 0) {
            last_err = errno;
            continue;
        }
        pc->fd = fd;
        ev_io_init(&pc->io, fd, on_io, pc);
        ev_io_set(pc->loop, &pc->io, EV_WRITE);
        return;
    }
    fail(pc, "connect: ", strerror(last_err ? last_err : ECONNREFUSED));
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)events;
    struct proxy_connect *pc = io->data;
    ev_io_stop(loop, &pc->io);
    int err = sock_connect_result(pc->fd);
    if (err == 0) {
        finish(pc, pc->fd, NULL);
        return;
    }
    close(pc->fd);
    pc->fd = -1;
    try_next(pc, err);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct proxy_connect *pc = t->data;
    char detail[64];
    snprintf(detail, sizeof(detail), "connect timeout(>%u sec)", pc->timeout_s);
    fail(pc, detail, ""); /* CONN-2 */
}

static void on_resolved(void *arg, int status, const char *errtext, const struct dns_result *res)
{
    struct proxy_connect *pc = arg;
    pc->q = NULL;
    if (status != 0 || !res || res->n == 0) {
        fail(pc, "hostname lookup error: ", errtext && *errtext ? errtext : "Unknown host");
        return;
    }
    pc->addrs = *res;
    pc->next = 0;
    try_next(pc, 0);
}

struct proxy_connect *proxy_connect_start(struct ev_loop *loop, struct dns *dns, const char *host,
                                          uint16_t port, bool ipv6, unsigned timeout_s,
                                          proxy_connect_fn *cb, void *arg)
{
    struct proxy_connect *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        struct proxy_connect_result r = {.fd = -1, .port = port};
        snprintf(r.error, sizeof(r.error), "CONNECT(%s:%u)/connect: %s", host, port,
                 strerror(ENOMEM));
        cb(arg, &r);
        return NULL;
    }
    pc->loop = loop;
    pc->fd = -1;
    str_copy(pc->host, sizeof(pc->host), host);
    pc->port = port;
    pc->timeout_s = timeout_s;
    pc->cb = cb;
    pc->arg = arg;
    ev_io_init(&pc->io, -1, on_io, pc);
    ev_timer_init(&pc->timer, on_timeout, pc);
    if (timeout_s > 0)
        ev_timer_start(loop, &pc->timer, (uint64_t)timeout_s * 1000u);
    /* A literal is answered at once, and may fail at once: pc is then
     * finished (its free deferred, so reading the flag is safe). */
    pc->q = dns_lookup(dns, host, port, ipv6, on_resolved, pc);
    return pc->finished ? NULL : pc;
}

void proxy_connect_cancel(struct proxy_connect *pc)
{
    if (!pc)
        return;
    if (pc->fd >= 0)
        close(pc->fd);
    pc->fd = -1;
    release(pc);
}
