/* http_upstream - the server side of a request.
 *
 * Resolves and connects to the origin or the parent server (acl_to, the
 * request-loop guard, connect_timeout), or reuses the connection kept
 * from the previous request (HTTP-20); forwards the rewritten request
 * head and its body (HTTP-7), then leaves the response to
 * http_response.c. A CONNECT instead becomes a tunnel (HTTP-17): not
 * scanned, moved zero-copy by proxy_splice.
 */
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include "core/access.h"
#include "core/upstream.h"
#include "lib/sock.h"
#include "lib/str.h"
#include "proto/http1_rewrite.h"
#include "proxy/http/http_decode.h"
#include "proxy/http/http_guard.h"
#include "proxy/proxy_splice.h"

/* ---- CONNECT tunnels (HTTP-17): not scanned, zero-copy (proxy_splice),
 * never kept alive ---------------------------------------------------- */

void http_tunnel_free_buffers(struct http_session *s)
{
    proxy_splice_dir_close(&s->up_dir);
    proxy_splice_dir_close(&s->down_dir);
}

void http_tunnel_step(struct http_session *s)
{
    int a = proxy_splice_move(&s->up_dir, s->ps.client.fd, s->ps.server.fd);
    int b = proxy_splice_move(&s->down_dir, s->ps.server.fd, s->ps.client.fd);
    if (a > 0 || b > 0)
        http_moved(s);
    s->t.bytes_out = s->down_dir.bytes;
    if (a < 0 || b < 0 || (s->up_dir.shut && s->down_dir.shut)) {
        http_session_close(s); /* never kept alive (HTTP-17) */
        return;
    }
    http_set_client_events(s, (s->up_dir.eof || s->up_dir.in_pipe ? 0 : EV_READ) |
                                  (s->down_dir.in_pipe ? EV_WRITE : 0));
    http_set_server_events(s, (s->down_dir.eof || s->down_dir.in_pipe ? 0 : EV_READ) |
                                  (s->up_dir.in_pipe ? EV_WRITE : 0));
}

/* tunnel_begin - the connection to host:port is up: confirm to the client
 * (unless a parent proxy answers itself) and start relaying. Bytes the
 * client sent after its CONNECT head (a TLS hello) go first. */
static void tunnel_begin(struct http_session *s)
{
    if (proxy_splice_dir_open(&s->up_dir, PROXY_SPLICE_PIPE_SMALL) < 0 ||
        proxy_splice_dir_open(&s->down_dir, PROXY_SPLICE_PIPE_BULK) <
            0) { /* downloads are the bulk */
        http_reply_error(s, 503, "Temporary failure: cannot create a tunnel");
        return;
    }
    size_t extra = s->in.wpos - s->t.req.head_len;
    buf_fini(&s->t.out);
    if (buf_alloc_storage(&s->t.out, extra + 4096) < 0 ||
        (s->via_parent
             ? !http1_rewrite_request(&s->t.out, &s->t.req, s->in.data, &s->url,
                                      &(struct http1_rewrite_request_opts){
                                          .absolute_uri = true,
                                          .anonymous = true,
                                          .strip_proxy_auth = s->ps.cfg->proxyauth_pam_auth})
             : false)) {
        http_reply_error(s, 503, "Temporary failure: cannot create a tunnel");
        return;
    }
    s->t.status = 200;
    s->state = HTTP_ST_TUNNEL;
    /* Bytes for the server (parent's CONNECT, early client bytes), then
     * the confirmation for the client. Both are small: written at once,
     * blocking only in theory (fresh sockets have empty buffers). */
    if (!buf_append(&s->t.out, s->in.data + s->t.req.head_len, extra) ||
        (buf_len(&s->t.out) && send(s->ps.server.fd, buf_rptr(&s->t.out), buf_len(&s->t.out),
                                    MSG_NOSIGNAL) != (ssize_t)buf_len(&s->t.out))) {
        http_session_close(s);
        return;
    }
    buf_reset(&s->t.out);
    if (!s->via_parent) {
        static const char ok[] = "HTTP/1.0 200 Connection established\r\n\r\n";
        if (send(s->ps.client.fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(ok) - 1) {
            http_session_close(s);
            return;
        }
        s->down_dir.bytes += sizeof(ok) - 1;
    }
    http_moved(s);
    http_tunnel_step(s);
}

/* ---- forwarding the request ------------------------------------------- */

void http_forward_step(struct http_session *s)
{
    for (;;) {
        while (buf_len(&s->t.up) > 0) {
            ssize_t n = send(s->ps.server.fd, buf_rptr(&s->t.up), buf_len(&s->t.up), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN) {
                    http_set_server_events(s, EV_WRITE);
                    http_set_client_events(s, 0);
                    return;
                }
                if (http_retry_fresh(s))
                    return;
                char msg[512];
                snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/send: %s", s->host, s->port,
                         strerror(errno));
                http_reply_error(s, 503, msg);
                return;
            }
            buf_consume(&s->t.up, (size_t)n);
            http_moved(s);
        }
        if (s->t.upload_fd >= 0 && (uint64_t)s->upload_off < s->t.upload_len) {
            uint64_t left = s->t.upload_len - (uint64_t)s->upload_off;
            ssize_t n = sendfile(s->ps.server.fd, s->t.upload_fd, &s->upload_off,
                                 left < SENDFILE_CHUNK ? (size_t)left : SENDFILE_CHUNK);
            if (n > 0) {
                http_moved(s);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                http_set_server_events(s, EV_WRITE);
                http_set_client_events(s, 0);
                return;
            }
            char msg[512];
            snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/send: %s", s->host, s->port,
                     n < 0 ? strerror(errno) : "spool file shrank");
            http_reply_error(s, 503, msg);
            return;
        }
        if (s->t.req_body_left == 0) {
            s->state = HTTP_ST_RESPONSE;
            if (buf_alloc_storage(&s->t.resp, RESP_BUF_SIZE) < 0) {
                http_reply_error(s, 503, "Temporary failure: out of memory");
                return;
            }
            http1_response_init(&s->rsp, HTTP1_RESPONSE_HEAD_MAX);
            http_set_client_events(s, 0);
            http_set_server_events(s, EV_READ);
            return;
        }
        /* Relay the request body from the client. */
        buf_reset(&s->t.up);
        size_t want = buf_space(&s->t.up);
        if (want > s->t.req_body_left)
            want = (size_t)s->t.req_body_left;
        ssize_t n = recv(s->ps.client.fd, buf_wptr(&s->t.up), want, 0);
        if (n > 0) {
            buf_produce(&s->t.up, (size_t)n);
            s->t.req_body_left -= (uint64_t)n;
            http_moved(s);
            continue;
        }
        if (n == 0) {
            svclog_info(&s->ps.log, "file uploading is interrupted by client.");
            http_session_close(s);
            return;
        }
        if (errno == EAGAIN || errno == EINTR) {
            http_set_server_events(s, 0);
            http_set_client_events(s, EV_READ);
            return;
        }
        http_session_close(s);
        return;
    }
}

static void start_forward(struct http_session *s)
{
    s->state = HTTP_ST_FORWARD;
    char via_host[HTTP1_HOST_MAX + 16];
    snprintf(via_host, sizeof(via_host), "%s:%u", s->ps.w->res->hostname, s->ps.w->listen_port);
    struct http1_rewrite_request_opts o = {
        .use_http11 = s->ps.cfg->use_http11,
        .absolute_uri = s->via_parent && s->url.form == HTTP1_URL_ABSOLUTE,
        .anonymous = s->ps.cfg->anonymous,
        .strip_proxy_auth = s->ps.cfg->proxyauth_pam_auth,
        .keep_alive = s->t.client_wants_ka, /* worth keeping only if the client returns */
        .via_host = str_from_cstr(via_host),
        .product_name = str_from_cstr(s->ps.w->res->product_name),
        .client_ip = str_from_cstr(s->ps.client.ip),
    };
    char accept[512];
    if (s->ps.cfg->virus_check) {
        o.filter_accept_encoding = true;
        o.accept_encoding =
            http_decode_accept(http1_request_fields(&s->t.req, s->in.data), accept, sizeof(accept));
        /* Item 9: what will be scanned is fetched whole (http_deliver_spool
         * serves a range of it). */
        o.strip_range = s->t.req.method == HTTP1_METHOD_GET && http_skip_reason(s) == 0;
    }
    s->range_stripped = o.strip_range;
    if (s->t.upload_fd >= 0) {
        /* G-35: a spooled body goes out with its Content-Length. */
        o.has_length = true;
        o.length = s->t.upload_len;
        s->upload_off = 0;
    }
    if (buf_alloc_storage(&s->t.up, s->in.cap + 4096) < 0 ||
        !http1_rewrite_request(&s->t.up, &s->t.req, s->in.data, &s->url, &o)) {
        http_reply_error(s, 400, "Request header too large");
        return;
    }
    if (s->t.upload_fd >= 0) {
        http_forward_step(s);
        return;
    }
    /* Body bytes that arrived with the head go first. */
    size_t extra = s->in.wpos - s->t.req.head_len;
    if (extra > s->t.req_body_left)
        extra = (size_t)s->t.req_body_left; /* pipelined bytes beyond the body are dropped */
    if (!buf_append(&s->t.up, s->in.data + s->t.req.head_len, extra)) {
        http_reply_error(s, 400, "Request header too large");
        return;
    }
    s->t.req_body_left -= extra;
    s->t.in_used = s->t.req.head_len + extra;
    http_forward_step(s);
}

/* ---- connecting ------------------------------------------------------- */

/* connect_filter - every resolved address, before any is contacted
 * (core/upstream): the name has resolved, so the session is connecting.
 * Issue 10 item 6: an address that is this gateway's own listener (by
 * any name or local address, the parent's too) would come back as a new
 * session, and nested CONNECTs to itself once filled every slot: 508 at
 * once. acl_to (ACL-6, ACL-7; not for the parent): an address matching
 * neither by itself nor by the destination's name is not contacted; when
 * none is left, the CONN-5 refusal (503). */
static enum upstream_verdict connect_filter(void *arg, const struct sockaddr *sa, socklen_t len,
                                            const char *ip, struct upstream_refusal *why)
{
    (void)len;
    struct http_session *s = arg;
    s->state = HTTP_ST_CONNECT;
    if (http_guard_is_self(sa, proxy_worker_listen_addr(s->ps.w))) {
        svclog_info(&s->ps.log, "Request loop refused: %s:%u is this proxy", s->host, s->port);
        why->code = 508;
        upstream_error_text(why->error, sizeof(why->error), s->host, s->port,
                            "Request loop: the destination is this proxy");
        return UPSTREAM_REFUSE;
    }
    const struct access_table *acl = s->ps.w->res->acl;
    if (!s->via_parent && s->ps.cfg->acl_to &&
        !(acl && access_match(acl, "http_to", ip, s->host))) {
        svclog_info(&s->ps.log, "Access Denied to [%s:%s]", ip, s->host);
        why->code = 503;
        return UPSTREAM_SKIP;
    }
    return UPSTREAM_TRY;
}

/* on_connected - core/upstream's one answer: a connected socket (then the
 * request goes out, or the tunnel starts), or the §8b text for the 503
 * (508 for a loop). */
static void on_connected_inner(struct http_session *s, const struct upstream_result *r)
{
    s->ps.pc = NULL;
    if (r->fd < 0) {
        if (r->ip[0]) {
            str_copy(s->ps.server.ip, sizeof(s->ps.server.ip), r->ip);
            s->ps.log.server_ip = s->ps.server.ip;
        }
        http_reply_error(s, r->refusal ? r->refusal : 503, r->error);
        return;
    }
    proxy_session_set_server(&s->ps, r->fd, r->ip);
    str_copy(s->conn_host, sizeof(s->conn_host), s->host);
    s->conn_port = s->port;
    s->conn_via_parent = s->via_parent;
    if (s->tunnel)
        tunnel_begin(s);
    else
        start_forward(s);
}

static void on_connected(void *arg, const struct upstream_result *r)
{
    struct http_session *s = arg;
    proxy_session_enter(&s->ps);
    on_connected_inner(s, r);
    proxy_session_leave(&s->ps);
}

void http_start_upstream(struct http_session *s)
{
    const struct config *cfg = s->ps.cfg;
    /* TP-1: a redirected client's origin-form request goes where the
     * client was going, past any parent (transparent_target). */
    bool to_original = proxy_session_redirected(&s->ps) && s->url.form == HTTP1_URL_ORIGIN;
    s->via_parent = !to_original && *cfg->parent_server_host && !cfg->self_proxy;
    if (s->via_parent) {
        str_copy(s->host, sizeof(s->host), cfg->parent_server_host);
        s->port = (uint16_t)(cfg->parent_server_port ? cfg->parent_server_port : 8080);
    } else if (to_original) {
        str_copy(s->host, sizeof(s->host), s->ps.orig_ip);
        s->port = s->ps.orig_port;
    } else {
        str_copy_view(s->host, sizeof(s->host), s->url.host);
        s->port = s->url.port;
    }
    s->ps.log.server_host = s->host;
    s->ps.log.server_port = s->port;
    s->t.upstream_reused = false;
    if (s->ps.server.fd >= 0) {
        if (!s->no_reuse && !s->tunnel && s->conn_port == s->port &&
            s->conn_via_parent == s->via_parent && strcmp(s->conn_host, s->host) == 0) {
            /* The connection kept from the previous request goes there. */
            s->t.upstream_reused = true;
            http_set_server_events(s, 0);
            start_forward(s);
            return;
        }
        http_close_server(s);
    }
    s->no_reuse = false;
    s->state = HTTP_ST_RESOLVE;
    /* Watch the client too: a cancel while connecting is CONN-3. */
    http_set_client_events(s, EV_READ);
    http_touch(s);
    struct upstream_request req = {
        .host = s->host,
        .port = s->port,
        .ipv6 = cfg->ipv6,
        .connect_timeout_s = cfg->connect_timeout,
        .filter = connect_filter,
        .filter_arg = s,
    };
    s->ps.pc = upstream_start(s->ps.w->loop, s->ps.w->dns, &req, on_connected, s);
}
