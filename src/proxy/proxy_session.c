/* proxy_session - see proxy_session.h. */
#include "proxy/proxy_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/access.h"
#include "core/upstream.h"
#include "lib/log.h"
#include "lib/str.h"
#include "proxy/proxy_linger.h"

static void client_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);
static void server_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);

/* ---- small helpers ------------------------------------------------------ */

void proxy_session_touch(struct proxy_session *s)
{
    if (s->idle_ms)
        ev_timer_start(s->w->loop, &s->idle, s->idle_ms);
}

const char *proxy_session_waits_for(const struct proxy_session *s)
{
    return s->ops->waits_for ? s->ops->waits_for(s) : "the client";
}

static void end_close_fd(struct proxy_session *s, struct proxy_end *e)
{
    if (e->fd >= 0 && e->io.fd == e->fd) {
        ev_io_close(s->w->loop, &e->io); /* a socket of ours alone: no EPOLL_CTL_DEL */
    } else if (e->fd >= 0) {
        ev_io_stop(s->w->loop, &e->io);
        close(e->fd);
    }
    e->fd = -1;
}

void proxy_session_close_server(struct proxy_session *s)
{
    end_close_fd(s, &s->server);
    buf_reset(&s->server.out);
    s->server_pull = false;
}

bool proxy_session_flush(struct proxy_session *s, struct proxy_end *e)
{
    if (e->fd < 0)
        return buf_len(&e->out) == 0;
    while (buf_len(&e->out) > 0) {
        ssize_t n = send(e->fd, buf_rptr(&e->out), buf_len(&e->out), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return false;
        }
        buf_consume(&e->out, (size_t)n);
        proxy_session_touch(s);
    }
    buf_compact(&e->out);
    return true;
}

/* read_end - read what fits into e->in. 1 read, 0 nothing now, -1 gone. */
static int read_end(struct proxy_session *s, struct proxy_end *e, uint32_t events)
{
    if (buf_space(&e->in) == 0)
        buf_compact(&e->in);
    if (buf_space(&e->in) == 0)
        /* No room: the protocol has not taken what it has. A hang-up is
         * still a hang-up, though we could not read up to it. */
        return (events & (EV_HUP | EV_ERROR)) ? -1 : 0;
    ssize_t n = recv(e->fd, buf_wptr(&e->in), buf_space(&e->in), 0);
    if (n > 0) {
        buf_produce(&e->in, (size_t)n);
        proxy_session_touch(s);
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return -1;
}

/* ---- closing -------------------------------------------------------------- */

static void session_free(void *arg)
{
    struct proxy_session *s = arg;
    if (s->ops->release)
        s->ops->release(s);
    buf_fini(&s->client.in);
    buf_fini(&s->client.out);
    buf_fini(&s->server.in);
    buf_fini(&s->server.out);
    free(s);
}

/* close_now - the one place where a session ends. */
static void close_now(struct proxy_session *s)
{
    struct ev_loop *loop = s->w->loop;
    if (s->closed)
        return;
    s->closed = true;
    if (s->ops->closing) {
        s->depth++;
        s->ops->closing(s);
        s->depth--;
    }
    proxy_worker_unlink(&s->link);
    if (s->pc)
        upstream_cancel(s->pc);
    s->pc = NULL;
    if (s->dnsq)
        dns_cancel(s->dnsq);
    s->dnsq = NULL;
    ev_timer_stop(loop, &s->idle);
    end_close_fd(s, &s->server);
    int unread = 0;
    if (s->ending && !s->aborting && s->client.fd >= 0 &&
        (!s->client_quit || (ioctl(s->client.fd, FIONREAD, &unread) == 0 && unread > 0))) {
        /* The last reply is out, and the client may still be sending (it
         * did not ask to end: an error budget spent, a timeout, a flood
         * still arriving) or sent more than we read: a lingering close,
         * or input arriving after close() would make the kernel reset
         * the connection before the client read that reply
         * (proxy_linger). After a QUIT with nothing unread, a plain close
         * costs nothing more. */
        ev_io_stop(loop, &s->client.io);
        proxy_linger(loop, s->client.fd);
        s->client.fd = -1;
    }
    end_close_fd(s, &s->client);
    proxy_worker_session_end(s->w, s->slot);
    /* Freed after this batch of events: a watcher of this session may
     * still be in the batch (ev.h). */
    if (ev_defer(loop, session_free, s) < 0)
        session_free(s);
}

/* settle_if_outside - end or abort asked from outside enter/leave. */
static void settle_if_outside(struct proxy_session *s)
{
    if (s->depth == 0) {
        s->depth++;
        proxy_session_leave(s);
    }
}

void proxy_session_end(struct proxy_session *s)
{
    s->ending = true;
    proxy_session_close_server(s);
    settle_if_outside(s);
}

void proxy_session_abort(struct proxy_session *s)
{
    s->aborting = true;
    settle_if_outside(s);
}

void proxy_session_watch(struct proxy_session *s, struct proxy_end *e, uint32_t events)
{
    if (e->fd >= 0 && !s->closed)
        ev_io_set(s->w->loop, &e->io, events);
}

/* ---- the dispatcher -------------------------------------------------------- */

void proxy_session_enter(struct proxy_session *s)
{
    s->depth++;
}

/* set_events - what to wait for on each end. */
static void set_events(struct proxy_session *s)
{
    struct proxy_end *c = &s->client, *u = &s->server;
    if (c->fd >= 0 && !s->ops->client_event) {
        uint32_t ev = (buf_len(&c->out) || s->client_pull) ? EV_WRITE : 0;
        /* Reading stops while the input buffer is full: level-triggered
         * readiness with no room to read into would wake the worker in a
         * loop until the protocol takes its input (issue 10). */
        if (!s->ending && !c->no_read && buf_len(&c->in) < c->in.cap)
            ev |= EV_READ;
        ev_io_set(s->w->loop, &c->io, ev);
    }
    if (u->fd >= 0 && !s->ops->server_event) {
        uint32_t ev = (buf_len(&u->out) || s->server_pull) ? EV_WRITE : 0;
        if (!u->no_read && buf_len(&u->in) < u->in.cap)
            ev |= EV_READ;
        ev_io_set(s->w->loop, &u->io, ev);
    }
}

/* server_failed - a write to the server failed: the protocol hears it
 * as the server going away. */
static void server_failed(struct proxy_session *s)
{
    proxy_session_close_server(s);
    if (s->ops->server_gone)
        s->ops->server_gone(s);
}

void proxy_session_leave(struct proxy_session *s)
{
    if (--s->depth > 0 || s->closed)
        return;
    /* Bounded: each round either closes, or finds the server written
     * (a failed server write closes the server end, so it cannot fail
     * twice). */
    for (int round = 0; round < 2 && !s->aborting; round++) {
        if (s->server.fd >= 0 && !proxy_session_flush(s, &s->server)) {
            s->depth++;
            server_failed(s);
            s->depth--;
            continue;
        }
        break;
    }
    if (!s->aborting && !proxy_session_flush(s, &s->client))
        s->aborting = true;
    if (s->aborting || (s->ending && buf_len(&s->client.out) == 0)) {
        close_now(s);
        return;
    }
    set_events(s);
}

/* ---- events ----------------------------------------------------------------- */

static void client_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct proxy_session *s = io->data;
    proxy_session_enter(s);
    if (s->ops->client_event) {
        s->ops->client_event(s, events);
        proxy_session_leave(s);
        return;
    }
    if ((events & EV_WRITE) && !proxy_session_flush(s, &s->client))
        s->aborting = true;
    else if ((events & EV_WRITE) && s->client_pull && buf_len(&s->client.out) == 0 &&
             s->ops->client_drained)
        s->ops->client_drained(s);
    if (!proxy_session_done(s) && (events & (EV_READ | EV_HUP | EV_ERROR))) {
        int r = read_end(s, &s->client, events);
        if (r > 0 && s->ops->client_input)
            s->ops->client_input(s);
        if (r < 0) {
            if (s->ops->client_gone)
                s->ops->client_gone(s);
            s->aborting = true;
        }
    }
    proxy_session_leave(s);
}

static void server_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct proxy_session *s = io->data;
    proxy_session_enter(s);
    if (s->ops->server_event) {
        s->ops->server_event(s, events);
        proxy_session_leave(s);
        return;
    }
    if (events & EV_WRITE) {
        if (!proxy_session_flush(s, &s->server))
            server_failed(s);
        else if (s->server_pull && buf_len(&s->server.out) == 0 && s->ops->server_drained)
            s->ops->server_drained(s);
    }
    if (s->server.fd >= 0 && !s->aborting && (events & (EV_READ | EV_HUP | EV_ERROR))) {
        int r = read_end(s, &s->server, events);
        if (r > 0 && s->ops->server_input)
            s->ops->server_input(s);
        if (r < 0 && s->server.fd >= 0) {
            proxy_session_close_server(s);
            if (s->ops->server_gone)
                s->ops->server_gone(s);
        }
    }
    proxy_session_leave(s);
}

static void on_idle(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct proxy_session *s = t->data;
    proxy_session_enter(s);
    if (s->ops->idle)
        s->ops->idle(s);
    else
        s->aborting = true;
    proxy_session_leave(s);
}

static void on_worker_stop(struct proxy_session_link *link)
{
    struct proxy_session *s = (struct proxy_session *)link;
    proxy_session_enter(s);
    if (s->ops->stop)
        s->ops->stop(s);
    proxy_session_leave(s);
}

/* ---- connecting ---------------------------------------------------------------- */

void proxy_session_set_server(struct proxy_session *s, int fd, const char *ip)
{
    proxy_session_close_server(s);
    s->server.fd = fd;
    str_copy(s->server.ip, sizeof(s->server.ip), ip);
    s->log.server_ip = s->server.ip;
    ev_io_init(&s->server.io, fd, server_io, s);
}

/* acl_to_filter - acl_to (ACL-6, ACL-7, CONN-5): the upstream must match
 * "<proto>_to" by its configured name or by the address about to be
 * contacted; every resolved address is checked before any is contacted. */
static enum upstream_verdict acl_to_filter(void *arg, const struct sockaddr *sa, socklen_t len,
                                           const char *ip, struct upstream_refusal *why)
{
    (void)sa, (void)len, (void)why; /* why keeps the preset CONN-5 text */
    struct proxy_session *s = arg;
    const struct access_table *acl = s->w->res->acl;
    const char *name = strcmp(s->server.host, ip) ? s->server.host : NULL;
    if (acl && access_match(acl, s->ops->acl_to, ip, name))
        return UPSTREAM_TRY;
    svclog_info(&s->log, "Access Denied to [%s:%s]", ip, s->server.host);
    return UPSTREAM_REFUSE;
}

static void on_connected(void *arg, const struct upstream_result *r)
{
    struct proxy_session *s = arg;
    proxy_session_enter(s);
    s->pc = NULL;
    if (r->fd < 0) {
        if (r->failure != UPSTREAM_REFUSED)
            svclog_error(&s->log, "%s", r->error);
        s->ops->connected(s, r->error);
    } else {
        proxy_session_set_server(s, r->fd, r->ip);
        s->ops->connected(s, NULL);
    }
    proxy_session_leave(s);
}

void proxy_session_connect(struct proxy_session *s, const char *host, uint16_t port)
{
    str_copy(s->server.host, sizeof(s->server.host), host);
    s->server.port = port;
    s->server.ip[0] = '\0';
    s->log.server_host = s->server.host;
    s->log.server_port = s->server.port;
    s->log.server_ip = NULL;
    struct upstream_request req = {
        .host = host,
        .port = port,
        .ipv6 = s->cfg->ipv6,
        .connect_timeout_s = s->cfg->connect_timeout,
        .filter = s->cfg->acl_to ? acl_to_filter : NULL,
        .filter_arg = s,
    };
    s->pc = upstream_start(s->w->loop, s->w->dns, &req, on_connected, s);
}

/* ---- start ------------------------------------------------------------------------ */

/* admit - acl_from (ACL-5, ACL-6, G-15): a client not allowed is closed
 * with the info line and nothing said. */
static void admit(struct proxy_session *s)
{
    const struct access_table *acl = s->w->res->acl;
    const char *name = strcmp(s->client.host, s->client.ip) ? s->client.host : NULL;
    if (s->cfg->acl_from && (!acl || !access_match(acl, s->ops->acl_from, s->client.ip, name))) {
        svclog_info(&s->log, "Access Denied from [%s:%s]", s->client.ip, s->client.host);
        s->refused_from = true;
        proxy_session_abort(s);
        return;
    }
    s->ops->admitted(s);
}

static void on_client_name(void *arg, const char *name)
{
    struct proxy_session *s = arg;
    proxy_session_enter(s);
    s->dnsq = NULL;
    if (name && *name)
        str_copy(s->client.host, sizeof(s->client.host), name);
    else
        svclog_info(&s->log, "reverselookup: gethostbyaddr(%s) failed. herror=Unknown host(1).",
                    s->client.ip);
    admit(s);
    proxy_session_leave(s);
}

void proxy_session_start(struct proxy_session *s)
{
    proxy_session_enter(s);
    proxy_session_touch(s);
    if (s->cfg->reverselookup)
        s->dnsq = dns_reverse(s->w->dns, (const struct sockaddr *)&s->peer, on_client_name, s);
    else
        admit(s);
    proxy_session_leave(s);
}

struct proxy_session *proxy_session_new(struct proxy_worker *w, int fd,
                                        const struct sockaddr_storage *peer, int slot, size_t size,
                                        const struct proxy_session_ops *ops, size_t client_in,
                                        size_t client_out, size_t server_in, size_t server_out)
{
    struct proxy_session *s = size >= sizeof(*s) ? calloc(1, size) : NULL;
    if (!s || buf_alloc_storage(&s->client.in, client_in) < 0 ||
        buf_alloc_storage(&s->client.out, client_out) < 0 ||
        buf_alloc_storage(&s->server.in, server_in) < 0 ||
        buf_alloc_storage(&s->server.out, server_out) < 0) {
        if (s) {
            s->ops = &(const struct proxy_session_ops){0}; /* the protocol has nothing yet */
            session_free(s);
        }
        close(fd);
        proxy_worker_session_end(w, slot);
        return NULL;
    }
    s->ops = ops;
    s->w = w;
    s->cfg = w->cfg;
    s->slot = slot;
    s->peer = *peer;
    s->client.fd = fd;
    s->server.fd = -1;
    clock_gettime(CLOCK_REALTIME, &s->start_rt);
    s->start_ms = ev_now_ms(w->loop);
    sock_addr_text((const struct sockaddr *)peer, s->client.ip, sizeof(s->client.ip),
                   &s->client.port);
    str_copy(s->client.host, sizeof(s->client.host), s->client.ip);
    if (s->cfg->transparent)
        sock_original_dst(fd, s->orig_ip, sizeof(s->orig_ip), &s->orig_port);
    s->log = (struct svclog_ctx){.listen_port = w->listen_port,
                                 .internal_id = slot,
                                 .client_ip = s->client.ip,
                                 .client_host = s->client.host,
                                 .client_port = s->client.port};
    if (s->cfg->transparent && !proxy_session_redirected(s))
        svclog_info(&s->log, "transparent: the connection was not redirected (no NAT original "
                             "destination); served as in proxy mode");
    ev_io_init(&s->client.io, fd, client_io, s);
    ev_timer_init(&s->idle, on_idle, s);
    s->link.on_stop = on_worker_stop;
    proxy_worker_link(w, &s->link);
    return s;
}
