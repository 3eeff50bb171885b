/* http_session - one client connection of the HTTP proxy.
 *
 * States, in order (a session may jump to REPLY from any of them):
 *   REQUEST   read the request head; validate (HTTP-4); acl checks
 *   RESOLVE   asynchronous DNS of the origin or the parent server
 *   CONNECT   non-blocking connect
 *   FORWARD   write the rewritten request head (HTTP-7) and the body
 *   RESPONSE  read the response head (HTTP-8)
 *   SPOOL     store the body in an unnamed spool file (GEN-11)
 *   SCAN      wait for sekisho-scand's verdict
 *   RELAY     pass the body through as it arrives (not scanned)
 *   REPLY     write what is queued for the client (head, page, spool
 *             file with sendfile), then close
 * Every wait is bounded by the idle timer (G-22: 120 s without progress).
 *
 * This file is the session's frame: what every state uses (re-arming the
 * timers, the socket event masks, the request's URL for messages), the
 * access-log line, the session's end (http_session_close, the idle and
 * inactivity timeouts), and the event dispatch that hands each readiness
 * event to the step function of the state's module. The states themselves
 * live in http_request.c, http_upstream.c, http_upload.c, http_ftp.c,
 * http_response.c, http_verdict.c, http_progress_page.c and http_reply.c;
 * http_internal.h is what they share.
 */
#include "proxy/http/http_session.h"
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ftp_client.h"
#include "core/upstream.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "proto/accesslog_format.h"
#include "proxy/proxy_scan.h"
#include "proxy/http/http_inactivity.h"
#include "proxy/http/http_progress.h"
#include "proxy/proxy_splice.h"

static const char *http_state_name(enum http_state st)
{
    static const char *const names[] = {"REQUEST", "RESOLVE", "CONNECT",     "FORWARD", "RESPONSE",
                                        "SPOOL",   "SCAN",    "RELAY",       "REPLY",   "LINGER",
                                        "TUNNEL",  "UPLOAD",  "UPLOAD_SCAN", "FTP",     "AUTH"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "STATE_???";
}

/* http_state_waits_for - what a session in st waits for, for the
 * timeout_inactive page and log line. */
static const char *http_state_waits_for(enum http_state st)
{
    static const char *const what[] = {
        "waiting for the client's request",
        "resolving the server's name",
        "connecting to the server",
        "sending the request to the server",
        "waiting for the server's response",
        "receiving the response body",
        "waiting for the virus scan",
        "relaying the response",
        "sending the reply to the client",
        "closing the connection",
        "relaying the CONNECT tunnel",
        "receiving the client's request body",
        "waiting for the virus scan of the upload",
        "fetching the ftp:// URL",
        "checking the proxy authentication",
    };
    return (unsigned)st < sizeof(what) / sizeof(what[0]) ? what[st] : "working";
}

/* ---- small helpers ---------------------------------------------------- */

/* waits_with_own_bound - a scan is bounded by vsd_scantimeout plus
 * proxy_scan's margin, an FTP retrieval by its per-step timeouts: G-22's
 * timer does not time them (a slow scan is not a stuck socket). A scan
 * with vsd_scantimeout=0 (unlimited) keeps G-22's 120 s as the backstop. */
static bool waits_with_own_bound(const struct http_session *s)
{
    if (s->state == HTTP_ST_SCAN || s->state == HTTP_ST_UPLOAD_SCAN)
        return s->ps.cfg->vsd_scantimeout > 0;
    return s->state == HTTP_ST_FTP;
}

/* http_touch - progress: re-arm G-22's timer. With timeout_inactive=yes the
 * inactivity timer replaces it (keepalive_timeout and the lingering close
 * still use it, armed where they begin). */
void http_touch(struct http_session *s)
{
    if (s->ps.cfg->timeout_inactive || waits_with_own_bound(s))
        ev_timer_stop(s->ps.w->loop, &s->ps.idle);
    else
        ev_timer_start(s->ps.w->loop, &s->ps.idle, IDLE_TIMEOUT_MS);
}

/* http_moved - bytes moved on the client or the server side. */
void http_moved(struct http_session *s)
{
    http_touch(s);
    http_inactivity_traffic(&s->inactivity, s->ps.w->loop);
}

/* http_server_supports_ka - HTTP-20 a: HTTP/1.1 without Connection: close, or
 * HTTP/1.0 with Connection or Proxy-Connection keep-alive. */
bool http_server_supports_ka(const struct http_session *s)
{
    struct http1_fields f =
        http1_response_fields(&s->rsp, s->t.head_copy ? s->t.head_copy : s->t.resp.data);
    struct str v;
    size_t iter = 0;
    if (s->rsp.version == HTTP1_VERSION_1_1) {
        while (http1_fields_find(f, "Connection", &iter, &v))
            if (http1_header_has_token(v, "close"))
                return false;
        return true;
    }
    const char *names[] = {"Connection", "Proxy-Connection"};
    for (int i = 0; i < 2; i++) {
        iter = 0;
        while (http1_fields_find(f, names[i], &iter, &v))
            if (http1_header_has_token(v, "keep-alive"))
                return true;
    }
    return false;
}

uint64_t http_elapsed_ms(const struct http_session *s)
{
    return ev_now_ms(s->ps.w->loop) - s->t.o.start_ms;
}

struct str http_req_str(const struct http_session *s, struct http1_span sp)
{
    return http1_span_str(s->in.data, sp);
}

/* http_url_text - the request's URL as sent; a request refused by the parser
 * still shows its target when the request line got that far (HTTP-15). */
void http_url_text(const struct http_session *s, char *out, size_t cap)
{
    struct http1_span t = s->t.req.target;
    if (s->t.have_req && s->url.form == HTTP1_URL_ORIGIN && s->url.authority.len)
        snprintf(out, cap, "http://%.*s%.*s", (int)s->url.authority.len, s->url.authority.ptr,
                 (int)t.len, s->in.data + t.off); /* reverse proxy */
    else if ((s->t.have_req || t.len > 0) && t.off + t.len <= s->in.wpos)
        str_copy_view(out, cap, http_req_str(s, t));
    else
        str_copy(out, cap, "-");
}

void http_set_client_events(struct http_session *s, uint32_t ev)
{
    proxy_session_watch(&s->ps, &s->ps.client, ev);
}

void http_set_server_events(struct http_session *s, uint32_t ev)
{
    proxy_session_watch(&s->ps, &s->ps.server, ev);
}

void http_close_server(struct http_session *s)
{
    proxy_session_close_server(&s->ps);
}

void http_txn_begin(struct http_session *s)
{
    http_spool_close(s);
    if (s->t.upload_fd >= 0)
        close(s->t.upload_fd);
    free(s->t.head_copy);
    buf_fini(&s->t.up);
    buf_fini(&s->t.resp);
    buf_fini(&s->t.out);
    s->t =
        (struct http_txn){.upload_fd = -1,
                          .spool = PROXY_SPOOL_CLOSED,
                          .o = {.result = ACCESSLOG_RESULT_CLEAN, .action = ACCESSLOG_ACTION_NONE}};
    http1_request_init(&s->t.req, REQ_BUF_MAX);
}

void http_start_clock(struct http_session *s)
{
    s->t.o.start_ms = ev_now_ms(s->ps.w->loop);
    clock_gettime(CLOCK_REALTIME, &s->t.o.start_rt);
}

/* ---- the access log (LOG-2, HTTP-18) ---------------------------------- */

void http_write_access_log(struct http_session *s)
{
    char url[HTTP1_URL_MAX + 1], xff[ACCESSLOG_PROTO_MAX] = "", method[HTTP1_METHOD_MAX + 1];
    http_url_text(s, url, sizeof(url));
    struct http1_span m = s->t.req.method_str;
    if (s->t.have_req || (m.len > 0 && m.off + m.len <= s->in.wpos))
        str_copy_view(method, sizeof(method), http_req_str(s, m));
    else
        str_copy(method, sizeof(method), "-");
    struct str v;
    size_t iter = 0;
    if (s->t.have_req && http1_fields_find(http1_request_fields(&s->t.req, s->in.data),
                                           "X-Forwarded-For", &iter, &v))
        str_copy_view(xff, sizeof(xff), v);
    struct access_record r = {
        .status = (unsigned)s->t.status,
        .size = s->t.bytes_out,
        .method = str_from_cstr(method),
        .url = str_from_cstr(url),
        .files = s->requests ? s->requests : 1,
        .proto_flags = (s->t.keep_client ? ACCESSLOG_PROTO_KEEPALIVE : 0) |
                       (s->t.trickling ? ACCESSLOG_PROTO_TRICKLE : 0) |
                       (s->progress ? ACCESSLOG_PROTO_PROGRESS : 0),
        .proto2 = str_from_cstr(xff),
        .user = str_from_cstr(s->t.user), /* HTTP-5: "-" when empty */
    };
    proxy_record_write(&s->ps, &s->t.o, &r);
}

/* ---- session lifetime ------------------------------------------------- */

/* on_release - the memory of the session's own buffers (deferred: see
 * proxy_session.h). */
static void on_release(struct proxy_session *ps)
{
    struct http_session *s = (struct http_session *)ps;
    buf_fini(&s->in);
    buf_fini(&s->t.up);
    buf_fini(&s->t.resp);
    buf_fini(&s->t.out);
    free(s->t.head_copy);
    sha256_release(&s->body_hash);
}

/* http_session_close - the session ends; the core closes it when the
 * event being handled returns, and on_closing does the rest. */
void http_session_close(struct http_session *s)
{
    proxy_session_abort(&s->ps);
}

/* on_closing - the record, the progress page's end, every wait stopped. */
static void on_closing(struct proxy_session *ps)
{
    struct http_session *s = (struct http_session *)ps;
    struct ev_loop *loop = s->ps.w->loop;
    if (s->progress && !s->progress_published_end)
        http_progress_end(s, PROGRESS_ERROR, "", "The download was interrupted", STR_NULL);
    if (s->progress) {
        /* Anything but a clean verdict leaves a partial body to remove. */
        char dir[4096];
        if (http_progress_dir(s->ps.cfg->tmpdir, dir, sizeof(dir)))
            http_progress_drop_body(dir, s->progress_token);
    }
    if (s->t.have_req || s->t.status || s->log_anyway || s->ps.refused_from)
        http_write_access_log(s);
    if (s->ps.pc)
        upstream_cancel(s->ps.pc);
    s->ps.pc = NULL;
    if (s->ftpc)
        ftp_client_cancel(s->ftpc);
    s->ftpc = NULL;
    proxy_scan_cancel(s->scan);
    s->scan = NULL;
    proxy_auth_cancel(s->auth);
    s->auth = NULL;
    http_inactivity_stop(&s->inactivity, loop);
    ev_timer_stop(loop, &s->trickle_timer);
    ev_timer_stop(loop, &s->progress_timer);
    ev_timer_stop(loop, &s->head_timer);
    http_spool_close(s);
    if (s->t.upload_fd >= 0)
        close(s->t.upload_fd);
    s->t.upload_fd = -1;
    http_tunnel_free_buffers(s);
}

/* on_idle - G-22's timer (http_touch arms the core's, see there). */
static void on_idle(struct proxy_session *ps)
{
    struct http_session *s = (struct http_session *)ps;
    char url[HTTP1_URL_MAX + 1];
    http_url_text(s, url, sizeof(url));
    if (s->state == HTTP_ST_LINGER || s->state == HTTP_ST_TUNNEL) {
        http_session_close(s);
        return;
    }
    if (s->state == HTTP_ST_REPLY || s->state == HTTP_ST_RELAY) {
        svclog_error(&s->ps.log,
                     "sendfile timeout: No data can send while 120 sec. There maybe temporary "
                     "network trouble between receiver.) / URL=[%s], written=%" PRIu64,
                     url, s->t.bytes_out);
        http_session_close(s);
        return;
    }
    if (s->state == HTTP_ST_REQUEST && !s->t.have_req && buf_len(&s->in) == 0) {
        http_session_close(s); /* an idle connection that never sent a request */
        return;
    }
    char msg[256];
    snprintf(msg, sizeof(msg), "Timeout (no progress for %d sec in %s)", IDLE_TIMEOUT_MS / 1000,
             http_state_name(s->state));
    if ((s->t.status == 0 && s->t.bytes_out == 0) || s->progress)
        http_reply_error(s, 504, msg);
    else
        http_session_close(s);
}

/* http_abandon_waits - stop whatever the session waits for besides its
 * sockets, so that nothing calls back into a session that has given up. */
void http_abandon_waits(struct http_session *s)
{
    proxy_scan_cancel(s->scan);
    s->scan = NULL;
    proxy_auth_cancel(s->auth);
    s->auth = NULL;
    if (s->ps.pc)
        upstream_cancel(s->ps.pc);
    s->ps.pc = NULL;
    if (s->ftpc)
        ftp_client_cancel(s->ftpc);
    s->ftpc = NULL;
    ev_timer_stop(s->ps.w->loop, &s->trickle_timer);
    ev_timer_stop(s->ps.w->loop, &s->progress_timer);
    s->t.over_filesize = false; /* no unscanned tail follows an error page */
}

/* on_inactive - timeout_inactive=yes (000:78): no byte moved in either
 * direction for inactive_timeout seconds, whatever the session waits for.
 * A client that got nothing yet gets the error page (504); one that got
 * bytes can only be cut off. Both leave an error line and the reason in
 * the access record's PROXY-ERROR. */
static void inactive(struct ev_loop *loop, struct http_session *s)
{
    struct stat st;
    if (s->state == HTTP_ST_FTP && s->t.spool.fd >= 0 && fstat(s->t.spool.fd, &st) == 0)
        http_inactivity_observe(&s->inactivity, loop, (uint64_t)st.st_size); /* FTP data */
    if (!http_inactivity_expired(&s->inactivity, loop))
        return;
    if (s->state == HTTP_ST_LINGER ||
        (s->state == HTTP_ST_REQUEST && !s->t.have_req && buf_len(&s->in) == 0)) {
        http_session_close(s); /* no request in progress: nothing to answer or log */
        return;
    }
    char url[HTTP1_URL_MAX + 1], msg[256];
    http_url_text(s, url, sizeof(url));
    snprintf(msg, sizeof(msg),
             "Timeout: no traffic in either direction for %u sec while %s (timeout_inactive)",
             http_inactivity_seconds(&s->inactivity), http_state_waits_for(s->state));
    svclog_error(&s->ps.log, "%s; session ended. URL=[%s], written=%" PRIu64, msg, url,
                 s->t.bytes_out);
    http_abandon_waits(s);
    if (s->t.bytes_out == 0 || s->progress) {
        http_reply_error(s, 504, msg);
        return;
    }
    str_copy(s->t.o.error, sizeof(s->t.o.error), msg);
    http_session_close(s);
}

static void on_inactive(struct ev_loop *loop, struct ev_timer *t)
{
    struct http_session *s = t->data;
    proxy_session_enter(&s->ps);
    inactive(loop, s);
    proxy_session_leave(&s->ps);
}

/* ---- event dispatch --------------------------------------------------- */

/* client_hung_up - while we are busy with the server, a readable client
 * socket means a hang-up (or pipelined bytes, which HTTP/1.0 does not
 * have): peek to tell. */
static bool client_hung_up(struct http_session *s)
{
    char c;
    ssize_t n = recv(s->ps.client.fd, &c, 1, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        return true;
    if (n > 0)
        http_set_client_events(s, 0); /* extra bytes: ignore until we are done */
    return false;
}

/* on_client_event - every readiness event of the client socket (HTTP
 * moves its bytes itself: growing head buffers, sendfile, splice). */
static void on_client_event(struct proxy_session *ps, uint32_t events)
{
    struct http_session *s = (struct http_session *)ps;
    switch (s->state) {
    case HTTP_ST_REQUEST:
        http_request_step(s);
        break;
    case HTTP_ST_FORWARD:
        http_forward_step(s);
        break;
    case HTTP_ST_RELAY:
        http_relay_step(s);
        break;
    case HTTP_ST_REPLY:
        http_do_reply(s);
        break;
    case HTTP_ST_LINGER:
        http_linger_step(s);
        break;
    case HTTP_ST_TUNNEL:
        http_tunnel_step(s);
        break;
    case HTTP_ST_UPLOAD:
        http_upload_step(s);
        break;
    default:
        if ((events & EV_WRITE) && s->t.trickling) {
            http_trickle_send(s);
            if (proxy_session_done(&s->ps))
                break;
        }
        if ((events & (EV_READ | EV_HUP | EV_ERROR)) && client_hung_up(s)) {
            if (s->state == HTTP_ST_CONNECT || s->state == HTTP_ST_RESOLVE)
                snprintf(s->t.o.error, sizeof(s->t.o.error), "CONNECT(%s:%u)/connect cancelled",
                         s->host, s->port);
            http_log_client_cancel(s);
            http_session_close(s);
        }
        break;
    }
}

/* on_server_event - every readiness event of the server socket. */
static void on_server_event(struct proxy_session *ps, uint32_t events)
{
    (void)events;
    struct http_session *s = (struct http_session *)ps;
    switch (s->state) {
    case HTTP_ST_FORWARD:
        http_forward_step(s);
        break;
    case HTTP_ST_RESPONSE:
        http_response_step(s);
        break;
    case HTTP_ST_SPOOL:
        http_spool_step(s);
        break;
    case HTTP_ST_RELAY:
        http_relay_step(s);
        break;
    case HTTP_ST_TUNNEL:
        http_tunnel_step(s);
        break;
    default:
        /* An idle kept connection (between requests, or while we scan or
         * reply): the server closing it, or sending anything unasked,
         * makes it unusable. */
        s->server_reusable = false;
        http_close_server(s);
        break;
    }
}

/* on_admitted - acl_from passed (the core refused the others, G-15:
 * closed at once, no banner, a record with status 000): read the request. */
static void on_admitted(struct proxy_session *ps)
{
    http_set_client_events((struct http_session *)ps, EV_READ);
}

/* on_stop - SIGTERM: a connection waiting for its next request closes
 * now; one in a transaction finishes it (http_request_done then closes
 * instead of keeping the connection). */
static void on_stop(struct proxy_session *ps)
{
    struct http_session *s = (struct http_session *)ps;
    if (s->state == HTTP_ST_REQUEST && !s->t.have_req && buf_len(&s->in) == 0)
        http_session_close(s);
}

static const char *waits_for(const struct proxy_session *ps)
{
    return http_state_waits_for(((const struct http_session *)ps)->state);
}

static const struct proxy_session_ops http_ops = {
    .name = "http",
    .acl_from = "http_from",
    .acl_to = "http_to",
    .waits_for = waits_for,
    .admitted = on_admitted,
    .client_event = on_client_event,
    .server_event = on_server_event,
    .idle = on_idle,
    .stop = on_stop,
    .closing = on_closing,
    .release = on_release,
};

static void http_session_start(struct proxy_worker *w, int fd, const struct sockaddr_storage *peer,
                               int slot)
{
    /* The core's buffers stay empty: HTTP's own grow with the head. */
    struct proxy_session *ps =
        proxy_session_new(w, fd, peer, slot, sizeof(struct http_session), &http_ops, 0, 0, 0, 0);
    if (!ps)
        return;
    struct http_session *s = (struct http_session *)ps;
    if (buf_alloc_storage(&s->in, REQ_BUF_INITIAL) < 0) {
        proxy_session_abort(ps);
        return;
    }
    s->t.spool = PROXY_SPOOL_CLOSED;
    s->t.upload_fd = -1;
    proxy_splice_dir_init(&s->up_dir);
    proxy_splice_dir_init(&s->down_dir);
    http_start_clock(s);
    http1_request_init(&s->t.req, REQ_BUF_MAX);
    ev_timer_init(&s->trickle_timer, http_on_trickle_timer, s);
    ev_timer_init(&s->progress_timer, http_on_progress_timer, s);
    ev_timer_init(&s->head_timer, http_on_head_timeout, s);
    http_inactivity_init(&s->inactivity, w->cfg->timeout_inactive ? w->cfg->inactive_timeout : 0,
                         on_inactive, s);
    http_inactivity_start(&s->inactivity, w->loop);
    s->state = HTTP_ST_REQUEST;
    /* G-22's timer is the core's, armed by http_touch (ps.idle_ms stays
     * 0: the core does not re-arm it on its own). */
    http_touch(s);
    proxy_session_start(ps);
}

const struct proxy_proto http_proto = {
    .name = "http",
    .session_start = http_session_start,
    .busy_reply = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 40\r\nConnection: close\r\n\r\n"
                  "Too many connections from your address\r\n",
};
