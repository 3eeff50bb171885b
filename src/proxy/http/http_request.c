/* http_request - reading and dispatching the client's request.
 *
 * Reads the request head (HTTP-4) within request_timeout of its first
 * byte, checks it (URL form, the Via loop and connect_ports guards),
 * notes whether the client wants keep-alive (HTTP-20), and sends it on:
 * a CONNECT tunnel, an ftp:// URL, a progress-page request, a body to
 * spool first, or straight upstream.
 */
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "proxy/http/http_guard.h"
#include "proxy/http/http_progress.h"

/* ---- reading the request ---------------------------------------------- */

/* client_wants_keepalive - HTTP-20: keepalive=yes, and the client asks for
 * it (HTTP/1.1 unless Connection: close; HTTP/1.0 with Connection or
 * Proxy-Connection: keep-alive). Never for CONNECT (g). */
static bool client_wants_keepalive(const struct http_session *s)
{
    if (!s->ps.cfg->keepalive || s->t.req.method == HTTP1_METHOD_CONNECT ||
        s->t.req.version == HTTP1_VERSION_0_9)
        return false;
    struct http1_fields f = http1_request_fields(&s->t.req, s->in.data);
    const char *names[] = {"Connection", "Proxy-Connection"};
    bool ka = s->t.req.version == HTTP1_VERSION_1_1;
    for (int i = 0; i < 2; i++) {
        struct str v;
        size_t iter = 0;
        while (http1_fields_find(f, names[i], &iter, &v)) {
            if (http1_header_has_token(v, "close"))
                return false;
            if (http1_header_has_token(v, "keep-alive"))
                ka = true;
        }
    }
    return ka;
}

/* request_host - the trimmed Host of the request (empty without one). */
static struct str request_host(struct http_session *s)
{
    struct str host = STR_NULL;
    size_t iter = 0;
    http1_fields_find(http1_request_fields(&s->t.req, s->in.data), "Host", &iter, &host);
    return str_trim(host);
}

/* url_from_host - an origin-form request's site is authority (a Host
 * value): scheme, host and port (default_port without one) of s->url. */
static void url_from_host(struct http_session *s, struct str authority, uint16_t default_port)
{
    s->url.scheme = HTTP1_SCHEME_HTTP;
    s->url.authority = authority;
    struct str name = authority, port = STR_NULL;
    if (authority.len && authority.ptr[0] != '[')
        str_cut(authority, ':', &name, &port);
    uint64_t n = default_port;
    if (port.len)
        str_to_u64(port, 65535, &n);
    s->url.host = name;
    s->url.port = (uint16_t)n;
}

/* reverse_proxy_target - HTTP-1 reverse proxy (003:5589-5615): clients
 * take the gateway for the web server (the parent) and send origin-form
 * requests; the site is the one their Host header names (the parent's
 * name without one). It goes upstream as it came, origin-form with that
 * Host, and is logged as http://<host><path>. */
static void reverse_proxy_target(struct http_session *s)
{
    struct str host = request_host(s);
    url_from_host(s, host.len ? host : str_from_cstr(s->ps.cfg->parent_server_host), 80);
}

/* transparent_target - TP-1: a client redirected here by a NAT rule takes
 * the gateway for the web server and sends origin-form requests. The
 * request goes to the address it was going to (orig_ip:orig_port, see
 * http_start_upstream; not what its Host would resolve to: a client
 * cannot name another server than the one its packets were for) as it
 * came, origin-form with its Host, and is logged as http://<Host><path>,
 * or with the original address when it sent no Host (HTTP/1.0). */
static void transparent_target(struct http_session *s)
{
    struct str host = request_host(s);
    url_from_host(s, host.len ? host : str_from_cstr(s->ps.orig_ip), s->ps.orig_port);
}

/* refuse_guarded - issue 10 items 5 and 6, decided on the head alone:
 * a request that already passed through this gateway (its own Via
 * received-by, as start_forward writes it) is a loop (508); a CONNECT to
 * a port outside connect_ports is refused (403) before any lookup, so
 * nothing reaches a mail server or other service behind the gateway. */
static bool refuse_guarded(struct http_session *s)
{
    char me[HTTP1_HOST_MAX + 16];
    snprintf(me, sizeof(me), "%s:%u", s->ps.w->res->hostname, s->ps.w->listen_port);
    char msg[512];
    if (http_guard_via_loop(http1_request_fields(&s->t.req, s->in.data), str_from_cstr(me))) {
        snprintf(msg, sizeof(msg), "Request loop: Via shows the request already passed %s", me);
        svclog_info(&s->ps.log, "Request loop refused: Via names %s", me);
        http_reply_error(s, 508, msg);
        return true;
    }
    if (s->t.req.method == HTTP1_METHOD_CONNECT && s->url.form == HTTP1_URL_AUTHORITY &&
        !http_guard_port_allowed(&s->ps.cfg->connect_ports, s->url.port)) {
        snprintf(msg, sizeof(msg), "CONNECT(%.*s:%u)/Port not allowed for CONNECT (connect_ports)",
                 (int)s->url.host.len, s->url.host.ptr, s->url.port);
        svclog_info(&s->ps.log, "Access Denied to [%.*s:%u] (connect_ports)", (int)s->url.host.len,
                    s->url.host.ptr, s->url.port);
        http_reply_error(s, 403, msg);
        return true;
    }
    return false;
}

static void request_ready(struct http_session *s)
{
    s->t.have_req = true;
    s->http09 = s->t.req.version == HTTP1_VERSION_0_9;
    s->requests++;
    s->t.in_used = s->t.req.head_len;
    s->t.client_wants_ka = client_wants_keepalive(s);
    if (!http1_request_url(&s->t.req, s->in.data, &s->url)) {
        http_reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
        return;
    }
    if (refuse_guarded(s))
        return;
    if (s->ps.cfg->proxyauth_pam_auth && !http_auth_admit(s))
        return;
    http_request_route(s);
}

void http_request_route(struct http_session *s)
{
    if (s->t.req.method == HTTP1_METHOD_CONNECT) {
        if (s->url.form != HTTP1_URL_AUTHORITY) {
            http_reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
            return;
        }
        s->tunnel = true;
        s->t.client_wants_ka = false;
        http_start_upstream(s);
        return;
    }
    if (s->url.scheme == HTTP1_SCHEME_FTP && s->url.form == HTTP1_URL_ABSOLUTE) {
        http_start_ftp(s);
        return;
    }
    if (s->url.form == HTTP1_URL_ORIGIN && proxy_session_redirected(&s->ps)) {
        transparent_target(s);
    } else if (s->url.form == HTTP1_URL_ORIGIN && *s->ps.cfg->parent_server_host &&
               !s->ps.cfg->self_proxy && !s->ps.cfg->transparent) {
        reverse_proxy_target(s);
    } else if (s->url.form != HTTP1_URL_ABSOLUTE || s->url.scheme != HTTP1_SCHEME_HTTP) {
        http_reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
        return;
    }
    char token[HTTP_PROGRESS_TOKEN_LEN + 1];
    bool file;
    if (s->ps.cfg->progress && http_progress_parse_path(s->url.path, token, &file)) {
        http_progress_serve(s, token, file);
        return;
    }
    uint64_t len = 0;
    enum http1_body kind = http1_request_body_kind(&s->t.req, s->in.data, &len);
    if (kind == HTTP1_BODY_INVALID) {
        http_reply_error(s, 400, "Invalid request body framing");
        return;
    }
    const struct config *cfg = s->ps.cfg;
    bool has_body = kind == HTTP1_BODY_CHUNKED || (kind == HTTP1_BODY_LENGTH && len > 0);
    s->t.upload_chunked = kind == HTTP1_BODY_CHUNKED;
    /* HTTP-11: with virus_check_post the whole POST/PUT body is spooled and
     * scanned before the server is contacted. */
    s->t.upload_scan =
        has_body && cfg->virus_check && cfg->virus_check_post &&
        (s->t.req.method == HTTP1_METHOD_POST || s->t.req.method == HTTP1_METHOD_PUT);
    if (s->t.upload_scan && kind == HTTP1_BODY_LENGTH && http_filesize_blocks(s, len)) {
        http_reply_detection_page(s); /* G-13: the body is not read, the server not contacted */
        return;
    }
    if (s->t.upload_chunked || s->t.upload_scan) {
        http_start_upload(s, kind == HTTP1_BODY_LENGTH ? len : 0);
        return;
    }
    s->t.req_body_left = kind == HTTP1_BODY_LENGTH ? len : 0;
    http_start_upstream(s);
}

static void request_parsed(struct http_session *s, enum http1_result r)
{
    if (r == HTTP1_DONE) {
        request_ready(s);
        return;
    }
    /* INVALID or TOO_LONG: the documented error (HTTP-4). */
    int status = http1_error_status(s->t.req.error);
    http_reply_error(s, status ? status : 400, http1_error_message(s->t.req.error));
}

/* A request head trickled a byte at a time restarts the idle timer with
 * every byte; request_timeout bounds the whole head from its first byte,
 * so that slow clients cannot hold sessions (issue 10, item 16). */
static void http_on_head_timeout_inner(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct http_session *s = t->data;
    s->head_timed = false;
    if (s->state != HTTP_ST_REQUEST || s->t.have_req)
        return;
    char msg[160];
    snprintf(msg, sizeof(msg),
             "Request Timeout: the request head was not complete within %u sec (request_timeout)",
             s->ps.cfg->request_timeout);
    svclog_error(&s->ps.log, "%s, received=%zu", msg, buf_len(&s->in));
    http_reply_error(s, 408, msg);
}

/* http_on_head_timeout - runs inside the session core's enter/leave (proxy_session.h). */
void http_on_head_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    struct http_session *s_ = t->data;
    proxy_session_enter(&s_->ps);
    http_on_head_timeout_inner(loop, t);
    proxy_session_leave(&s_->ps);
}

/* head_deadline_arm - some of a head is here: the whole of it must follow
 * within request_timeout (timed from the first byte, not restarted). */
static void head_deadline_arm(struct http_session *s)
{
    if (!s->head_timed && s->ps.cfg->request_timeout > 0) {
        ev_timer_start(s->ps.w->loop, &s->head_timer, (uint64_t)s->ps.cfg->request_timeout * 1000u);
        s->head_timed = true;
    }
}

static void head_deadline_stop(struct http_session *s)
{
    ev_timer_stop(s->ps.w->loop, &s->head_timer);
    s->head_timed = false;
}

void http_request_step(struct http_session *s)
{
    for (;;) {
        if (buf_space(&s->in) == 0) {
            if (s->in.cap >= REQ_BUF_MAX) {
                http_reply_error(s, 400, "Request header too large");
                return;
            }
            /* Grow: the parser keeps offsets, never pointers. */
            char *bigger = realloc(s->in.data, REQ_BUF_MAX);
            if (!bigger) {
                http_reply_error(s, 503, "Temporary failure: out of memory");
                return;
            }
            s->in.data = bigger;
            s->in.cap = REQ_BUF_MAX;
        }
        ssize_t n = recv(s->ps.client.fd, buf_wptr(&s->in), buf_space(&s->in), 0);
        if (n == 0) {
            http_session_close(s); /* closed before a complete request */
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            http_session_close(s);
            return;
        }
        buf_produce(&s->in, (size_t)n);
        http_moved(s);
        if (s->requests > 0 && s->t.o.start_rt.tv_sec == 0)
            http_start_clock(s); /* a kept-alive connection: the new request starts now */
        enum http1_result r = http1_parse_request(&s->t.req, s->in.data, s->in.wpos);
        if (r == HTTP1_AGAIN) {
            head_deadline_arm(s);
            continue;
        }
        head_deadline_stop(s);
        request_parsed(s, r);
        return;
    }
}

/* http_parse_buffered - a kept-alive connection may already hold the next
 * (pipelined) request. */
void http_parse_buffered(struct http_session *s)
{
    if (buf_len(&s->in) == 0)
        return;
    http_start_clock(s);
    enum http1_result r = http1_parse_request(&s->t.req, s->in.data, s->in.wpos);
    if (r == HTTP1_AGAIN) {
        head_deadline_arm(s);
        return;
    }
    head_deadline_stop(s);
    request_parsed(s, r);
}
