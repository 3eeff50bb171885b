/* upstream - the one connector to an upstream server; see upstream.h. */
#include "core/upstream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"

struct upstream {
    struct ev_loop *loop;
    struct dns_query *q;
    char host[256];
    uint16_t port;
    unsigned connect_timeout_s;
    unsigned lookup_timeout_s;
    upstream_filter_fn *filter;
    void *filter_arg;
    upstream_fn *cb;
    void *arg;

    struct dns_result addrs; /* after the filter: the addresses to try */
    size_t next;
    size_t current; /* index of the address being tried (valid once next > 0) */
    int fd;
    struct ev_io io;
    struct ev_timer timer;
    bool looking_up;
    bool starting; /* inside upstream_start*: the result waits for its return */
    bool finished; /* the result is set; nothing more happens */
    struct upstream_result result;
};

void upstream_error_text(char *out, size_t cap, const char *host, uint16_t port, const char *fmt,
                         ...)
{
    if (cap == 0)
        return;
    int n = snprintf(out, cap, "CONNECT(%s:%u)/", host, (unsigned)port);
    if (n < 0 || (size_t)n >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
}

static void release(struct upstream *u)
{
    ev_io_stop(u->loop, &u->io);
    ev_timer_stop(u->loop, &u->timer);
    if (u->q)
        dns_cancel(u->q);
    u->q = NULL;
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
}

/* deliver - hand the result over: now, or when upstream_start* returns. */
static void deliver(struct upstream *u)
{
    release(u);
    u->finished = true;
    if (u->starting)
        return;
    struct upstream_result r = u->result;
    upstream_fn *cb = u->cb;
    void *arg = u->arg;
    /* An event of ours may still be pending in this batch. */
    if (ev_defer(u->loop, free, u) < 0)
        free(u);
    cb(arg, &r);
}

static void succeed(struct upstream *u)
{
    u->result.fd = u->fd;
    u->fd = -1; /* the caller's now */
    u->result.failure = UPSTREAM_OK;
    deliver(u);
}

static void fail(struct upstream *u, enum upstream_failure failure, int err, const char *detail)
{
    struct upstream_result *r = &u->result;
    r->fd = -1;
    r->failure = failure;
    r->err = err;
    str_copy(r->detail, sizeof(r->detail), detail);
    switch (failure) {
    case UPSTREAM_LOOKUP:
        upstream_error_text(r->error, sizeof(r->error), u->host, u->port,
                            "hostname lookup error: %s", detail);
        break;
    case UPSTREAM_TIMEOUT:
        upstream_error_text(r->error, sizeof(r->error), u->host, u->port,
                            "connect timeout(>%u sec)", u->connect_timeout_s);
        break;
    default:
        upstream_error_text(r->error, sizeof(r->error), u->host, u->port, "connect: %s", detail);
        break;
    }
    deliver(u);
}

static void refuse(struct upstream *u, const struct upstream_refusal *why)
{
    u->result.fd = -1;
    u->result.failure = UPSTREAM_REFUSED;
    u->result.refusal = why->code;
    str_copy(u->result.error, sizeof(u->result.error), why->error);
    deliver(u);
}

static void note_address(struct upstream *u, size_t i)
{
    struct upstream_result *r = &u->result;
    memcpy(&r->addr, &u->addrs.addr[i], sizeof(r->addr));
    r->addr_len = u->addrs.len[i];
    sock_addr_text((const struct sockaddr *)&r->addr, r->ip, sizeof(r->ip), NULL);
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);

/* try_next - the next address; when none is left, the last failure
 * (timed_out: the last attempt ran out of connect_timeout_s) is the
 * result. */
static void try_next(struct upstream *u, int last_err, bool timed_out)
{
    while (u->next < u->addrs.n) {
        size_t i = u->next++;
        u->current = i;
        note_address(u, i);
        int fd = sock_connect_start((const struct sockaddr *)&u->addrs.addr[i], u->addrs.len[i]);
        if (fd < 0) {
            last_err = errno;
            timed_out = false;
            continue;
        }
        u->fd = fd;
        ev_io_init(&u->io, fd, on_io, u);
        if (sock_connect_done(fd)) {
            /* Connected already: one getpeername instead of registering
             * for writability, a loop turn, SO_ERROR and unregistering
             * (the relay path's cost per connection, docs/bench.md). */
            succeed(u);
            return;
        }
        if (ev_io_set(u->loop, &u->io, EV_WRITE) < 0) {
            last_err = errno;
            timed_out = false;
            close(u->fd);
            u->fd = -1;
            continue;
        }
        if (u->connect_timeout_s > 0)
            ev_timer_start(u->loop, &u->timer, (uint64_t)u->connect_timeout_s * 1000u);
        else
            ev_timer_stop(u->loop, &u->timer);
        return;
    }
    if (timed_out) {
        fail(u, UPSTREAM_TIMEOUT, ETIMEDOUT, strerror(ETIMEDOUT));
        return;
    }
    if (last_err == 0)
        last_err = ECONNREFUSED;
    fail(u, UPSTREAM_CONNECT, last_err, strerror(last_err));
}

/* end_attempt - the socket of the current address is given up. */
static void end_attempt(struct upstream *u)
{
    ev_timer_stop(u->loop, &u->timer);
    ev_io_close(u->loop, &u->io); /* u->io.fd is u->fd */
    u->fd = -1;
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct upstream *u = io->data;
    int err = sock_connect_result(u->fd);
    if (err == 0) {
        ev_io_stop(u->loop, &u->io);
        succeed(u);
        return;
    }
    end_attempt(u);
    try_next(u, err, false);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct upstream *u = t->data;
    if (u->looking_up) {
        char detail[64];
        snprintf(detail, sizeof(detail), "timeout(>%u sec)", u->lookup_timeout_s);
        fail(u, UPSTREAM_LOOKUP, 0, detail);
        return;
    }
    end_attempt(u);
    try_next(u, ETIMEDOUT, true);
}

/* begin - run the filter over every address, then connect. */
static void begin(struct upstream *u, const struct dns_result *res)
{
    u->addrs.n = 0;
    struct upstream_refusal why = {0, ""};
    bool skipped = false;
    for (size_t i = 0; i < res->n && i < DNS_MAX_ADDRS; i++) {
        enum upstream_verdict v = UPSTREAM_TRY;
        if (u->filter) {
            char ip[SOCK_ADDRSTRLEN];
            sock_addr_text((const struct sockaddr *)&res->addr[i], ip, sizeof(ip), NULL);
            why.code = 0;
            upstream_error_text(why.error, sizeof(why.error), u->host, u->port, "%s",
                                UPSTREAM_ACCESS_INHIBITED);
            v = u->filter(u->filter_arg, (const struct sockaddr *)&res->addr[i], res->len[i], ip,
                          &why);
            if (v != UPSTREAM_TRY) {
                memcpy(&u->result.addr, &res->addr[i], sizeof(u->result.addr));
                u->result.addr_len = res->len[i];
                str_copy(u->result.ip, sizeof(u->result.ip), ip);
            }
        }
        if (v == UPSTREAM_REFUSE) {
            refuse(u, &why);
            return;
        }
        if (v == UPSTREAM_SKIP) {
            skipped = true;
            continue;
        }
        memcpy(&u->addrs.addr[u->addrs.n], &res->addr[i], sizeof(u->addrs.addr[0]));
        u->addrs.len[u->addrs.n++] = res->len[i];
    }
    if (u->addrs.n == 0 && skipped) {
        refuse(u, &why);
        return;
    }
    u->next = 0;
    try_next(u, 0, false);
}

static void on_resolved(void *arg, int status, const char *errtext, const struct dns_result *res)
{
    struct upstream *u = arg;
    u->q = NULL;
    u->looking_up = false;
    ev_timer_stop(u->loop, &u->timer);
    if (status != 0 || !res || res->n == 0) {
        fail(u, UPSTREAM_LOOKUP, 0, errtext && *errtext ? errtext : "Unknown host");
        return;
    }
    begin(u, res);
}

static struct upstream *create(struct ev_loop *loop, const struct upstream_request *req,
                               upstream_fn *cb, void *arg)
{
    struct upstream *u = calloc(1, sizeof(*u));
    if (!u) {
        struct upstream_result r;
        memset(&r, 0, sizeof(r));
        r.fd = -1;
        r.failure = UPSTREAM_CONNECT;
        r.err = ENOMEM;
        r.port = req->port;
        str_copy(r.detail, sizeof(r.detail), strerror(ENOMEM));
        upstream_error_text(r.error, sizeof(r.error), req->host, req->port, "connect: %s",
                            r.detail);
        cb(arg, &r);
        return NULL;
    }
    u->loop = loop;
    u->fd = -1;
    str_copy(u->host, sizeof(u->host), req->host);
    u->port = req->port;
    u->connect_timeout_s = req->connect_timeout_s;
    u->lookup_timeout_s = req->lookup_timeout_s;
    u->filter = req->filter;
    u->filter_arg = req->filter_arg;
    u->cb = cb;
    u->arg = arg;
    u->result.fd = -1;
    u->result.port = req->port;
    ev_io_init(&u->io, -1, on_io, u);
    ev_timer_init(&u->timer, on_timeout, u);
    u->starting = true;
    return u;
}

/* started - what upstream_start* return: NULL once the callback has run
 * (it ran here, after the start, so that u was never seen by the loop
 * and can be freed at once). */
static struct upstream *started(struct upstream *u)
{
    u->starting = false;
    if (!u->finished)
        return u;
    struct upstream_result r = u->result;
    upstream_fn *cb = u->cb;
    void *arg = u->arg;
    free(u);
    cb(arg, &r);
    return NULL;
}

struct upstream *upstream_start(struct ev_loop *loop, struct dns *dns,
                                const struct upstream_request *req, upstream_fn *cb, void *arg)
{
    struct upstream *u = create(loop, req, cb, arg);
    if (!u)
        return NULL;
    u->looking_up = true;
    if (req->lookup_timeout_s > 0)
        ev_timer_start(loop, &u->timer, (uint64_t)req->lookup_timeout_s * 1000u);
    u->q = dns_lookup(dns, u->host, u->port, req->ipv6, on_resolved, u);
    return started(u);
}

struct upstream *upstream_start_addrs(struct ev_loop *loop, const struct dns_result *addrs,
                                      const struct upstream_request *req, upstream_fn *cb,
                                      void *arg)
{
    struct upstream *u = create(loop, req, cb, arg);
    if (!u)
        return NULL;
    if (addrs->n == 0)
        fail(u, UPSTREAM_CONNECT, EDESTADDRREQ, strerror(EDESTADDRREQ));
    else
        begin(u, addrs);
    return started(u);
}

void upstream_cancel(struct upstream *u)
{
    if (!u || u->finished)
        return;
    release(u);
    u->finished = true;
    if (ev_defer(u->loop, free, u) < 0)
        free(u);
}
