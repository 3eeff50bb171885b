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
 */
#include "proxy/http/http_session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ftp_client.h"
#include "core/notify.h"
#include "core/svclog.h"
#include "core/template_vars.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "lib/sha256.h"
#include "lib/spoolfile.h"
#include "proto/accesslog_format.h"
#include "proto/ftp_listing_format.h"
#include "proto/http1_parse.h"
#include "proto/http1_rewrite.h"
#include "proto/pass_rules.h"
#include "proxy/proxy_scan.h"
#include "proxy/http/http_decode.h"
#include "proxy/http/http_guard.h"
#include "proxy/http/http_inactivity.h"
#include "proxy/http/http_progress.h"
#include "proxy/http/http_tunnel.h"

#define REQ_BUF_INITIAL 16384
#define REQ_BUF_MAX     HTTP1_REQUEST_HEAD_MAX
#define RESP_BUF_SIZE   32768  /* response head limit 17408 (C-01) plus body bytes */
#define PAGE_BUF_SIZE   65536  /* rendered templates: 9000 bytes + escaped values */
#define IDLE_TIMEOUT_MS 120000 /* G-22: no progress for 120 s */
#define SENDFILE_CHUNK  (1u << 20)
#define LINGER_MS       2000 /* read what the client still sends before closing */
/* Bodies announced up to this size are spooled in memory (memfd), as long
 * as the worker's in-memory spools stay within the budget; larger ones,
 * and any beyond the budget, go to tmpdir. */
#define SPOOL_MEM_OBJECT_MAX (256u * 1024u)
#define SPOOL_MEM_BUDGET     (64u * 1024u * 1024u)

enum http_state {
    HTTP_ST_REQUEST = 0,
    HTTP_ST_RESOLVE,
    HTTP_ST_CONNECT,
    HTTP_ST_FORWARD,
    HTTP_ST_RESPONSE,
    HTTP_ST_SPOOL,
    HTTP_ST_SCAN,
    HTTP_ST_RELAY,
    HTTP_ST_REPLY,
    HTTP_ST_LINGER,
    HTTP_ST_TUNNEL,
    HTTP_ST_UPLOAD,
    HTTP_ST_UPLOAD_SCAN,
    HTTP_ST_FTP,
};

static const char *http_state_name(enum http_state st)
{
    static const char *const names[] = {"REQUEST", "RESOLVE", "CONNECT",     "FORWARD", "RESPONSE",
                                        "SPOOL",   "SCAN",    "RELAY",       "REPLY",   "LINGER",
                                        "TUNNEL",  "UPLOAD",  "UPLOAD_SCAN", "FTP"};
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
    };
    return (unsigned)st < sizeof(what) / sizeof(what[0]) ? what[st] : "working";
}

struct http_session {
    struct proxy_session_link link; /* first: the worker's list points here */
    struct proxy_worker *w;
    const struct config *cfg;
    int slot;
    enum http_state state;
    int cfd;
    int sfd;
    struct ev_io cio;
    struct ev_io sio;
    struct ev_timer idle;
    struct http_inactivity inactivity; /* timeout_inactive=yes */
    struct svclog_ctx log;
    char client_ip[SOCK_ADDRSTRLEN];
    char client_host[256]; /* reverselookup result, else the address */
    struct sockaddr_storage peer;
    bool http09; /* HTTP/0.9 request: the answer is the body alone */
    bool head_stripped;
    char local_ip[SOCK_ADDRSTRLEN];
    char server_ip[SOCK_ADDRSTRLEN];
    uint16_t client_port;
    uint16_t local_port;
    /* Where we connect (origin or parent) and what errors name. */
    char host[HTTP1_HOST_MAX + 1];
    uint16_t port;
    bool via_parent;
    struct timespec start_rt;
    uint64_t start_ms;

    struct buf in; /* request head, then the start of its body */
    struct http1_request req;
    struct http1_url url;
    bool have_req;
    uint64_t req_body_left;

    struct buf up;   /* bytes queued for the server */
    struct buf resp; /* response head, then body bytes */
    struct http1_response rsp;
    bool have_rsp;
    enum http1_body body_kind;
    uint8_t scan_encoding; /* Content-Encoding for scand (http_decode.h) */
    bool range_stripped;   /* Range/If-Range not sent upstream: fetched whole */
    uint64_t body_left;
    struct http1_chunked chunk;
    struct http1_skip skip; /* C-01: dropping the rest of an over-long head */
    bool skipping_head;
    char *head_copy; /* SPOOL: the response head, kept for delivery */
    int spool_errno; /* why the spool failed, 0 if it did not */

    int spool_fd;
    uint64_t spool_mem; /* bytes of the worker's memory budget this spool holds */
    uint64_t spool_len;
    bool hashing; /* body_hash covers the whole spool (verdict_cache) */
    struct sha256 body_hash;
    struct proxy_scan *scan;

    struct buf out;  /* bytes queued for the client */
    bool send_spool; /* after out: the spool file */
    off_t spool_off;
    bool relay_done; /* RELAY: the server side is finished */

    struct dns_query *dnsq;
    struct dns_result addrs;
    size_t addr_next;

    /* For the access log. */
    int status;
    uint64_t bytes_out;
    char content_type[ACCESSLOG_CONTENT_TYPE_MAX];
    char error[ACCESSLOG_ERROR_MAX];
    enum accesslog_result result;
    enum accesslog_action action;
    char detect_name[SCANREQ_NAME_MAX + 1];
    char quarantine[128];
    unsigned details;
    unsigned checks;
    uint64_t scan_ms;
    bool log_anyway; /* log even without a request (acl_from denial) */

    /* Keep-alive (HTTP-20). */
    unsigned requests;                  /* requests on this connection so far (PROXY-STAT files) */
    size_t in_used;                     /* bytes of in that belong to the current request */
    bool client_wants_ka;               /* the request asked for a persistent connection */
    bool keep_client;                   /* the response was sent with Connection: Keep-Alive */
    bool server_reusable;               /* the upstream connection may carry the next request */
    bool upstream_reused;               /* this request went over a kept upstream connection */
    bool no_reuse;                      /* a reused connection failed: use a new one */
    char conn_host[HTTP1_HOST_MAX + 1]; /* what the open upstream connection is to */
    uint16_t conn_port;
    bool conn_via_parent;

    /* CONNECT tunnel (HTTP-17): one pipe per direction for splice(2). */
    struct http_tunnel_dir up_dir, down_dir; /* client->server, server->client */
    bool tunnel;

    /* Request bodies spooled before the server is contacted: chunked
     * ones (G-35) and scanned uploads (HTTP-11). */
    int upload_fd;
    uint64_t upload_len;
    off_t upload_off;     /* bytes of the spool already sent upstream */
    uint64_t upload_left; /* Content-Length bytes still to read */
    bool upload_chunked;
    bool upload_scan;
    struct http1_chunked req_chunk;

    /* Large downloads: pass_filesize (SCAN-4) and trickle (HTTP-13). */
    bool over_filesize; /* only the first pass_filesize_len bytes were scanned */
    bool filesize_hit;  /* block_filesize: the object is a POLICY_BLOCK_FILESIZE detection */
    bool filesize_tail; /* RELAY of an over_filesize tail: relayed counts against the limit */
    uint64_t relayed;   /* body bytes of this response queued for the client in RELAY */
    bool head_sent;     /* the response head went out before the verdict */
    bool trickling;     /* body bytes go out slowly while spooling/scanning */
    uint64_t trickle_start_ms;
    struct ev_timer trickle_timer;
    struct ev_timer connect_timer; /* G-12: connect_timeout */
    struct ev_timer head_timer;    /* request_timeout: a whole head in bounded time */
    bool head_timed;

    /* Download-progress page (HTTP-13): after progress_delay the browser
     * gets a page and the session goes on without a client, publishing
     * its state under progress_token (http_progress). */
    bool progress_ok;            /* this download may get the page */
    bool progress;               /* the page went out; the client is gone */
    bool progress_published_end; /* the final state is published */
    char progress_token[HTTP_PROGRESS_TOKEN_LEN + 1];
    struct ev_timer progress_timer;
    bool progress_serving; /* this request fetches a published body */

    /* FTP over HTTP (HTTP-16): the retrieval fills the spool. */
    bool ftp;
    struct ftp_client *ftpc;
    bool closed; /* session_close ran; the memory waits for its deferred free */
};

static void session_close(struct http_session *s);
static void reply_error(struct http_session *s, int status, const char *message);
static void progress_end(struct http_session *s, enum progress_state st, const char *detect,
                         const char *error, struct str head);
static void on_progress_timer(struct ev_loop *loop, struct ev_timer *t);
static bool progress_wanted(const struct http_session *s);
static void progress_serve(struct http_session *s, const char *token, bool file);
static void client_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);
static void server_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);
static void start_reply(struct http_session *s);
static void relay_step(struct http_session *s);
static void request_done(struct http_session *s);
static void start_upstream(struct http_session *s);
static void on_worker_stop(struct proxy_session_link *link);
static void on_client_name(void *arg, const char *name);
static void start_scan(struct http_session *s);
static void deliver_spool(struct http_session *s);
static void tunnel_free_buffers(struct http_session *s);
static void parse_buffered(struct http_session *s);
static void on_head_timeout(struct ev_loop *loop, struct ev_timer *t);

/* ---- small helpers ---------------------------------------------------- */

/* waits_with_own_bound - a scan is bounded by vsd_scantimeout plus
 * proxy_scan's margin, an FTP retrieval by its per-step timeouts: G-22's
 * timer does not time them (a slow scan is not a stuck socket). A scan
 * with vsd_scantimeout=0 (unlimited) keeps G-22's 120 s as the backstop. */
static bool waits_with_own_bound(const struct http_session *s)
{
    if (s->state == HTTP_ST_SCAN || s->state == HTTP_ST_UPLOAD_SCAN)
        return s->cfg->vsd_scantimeout > 0;
    return s->state == HTTP_ST_FTP;
}

/* touch - progress: re-arm G-22's timer. With timeout_inactive=yes the
 * inactivity timer replaces it (keepalive_timeout and the lingering close
 * still use it, armed where they begin). */
static void touch(struct http_session *s)
{
    if (s->cfg->timeout_inactive || waits_with_own_bound(s))
        ev_timer_stop(s->w->loop, &s->idle);
    else
        ev_timer_start(s->w->loop, &s->idle, IDLE_TIMEOUT_MS);
}

/* moved - bytes moved on the client or the server side. */
static void moved(struct http_session *s)
{
    touch(s);
    http_inactivity_traffic(&s->inactivity, s->w->loop);
}

/* server_supports_ka - HTTP-20 a: HTTP/1.1 without Connection: close, or
 * HTTP/1.0 with Connection or Proxy-Connection keep-alive. */
static bool server_supports_ka(const struct http_session *s)
{
    struct http1_fields f =
        http1_response_fields(&s->rsp, s->head_copy ? s->head_copy : s->resp.data);
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

static uint64_t elapsed_ms(const struct http_session *s)
{
    return ev_now_ms(s->w->loop) - s->start_ms;
}

static struct str req_str(const struct http_session *s, struct http1_span sp)
{
    return http1_span_str(s->in.data, sp);
}

/* url_text - the request's URL as sent; a request refused by the parser
 * still shows its target when the request line got that far (HTTP-15). */
static void url_text(const struct http_session *s, char *out, size_t cap)
{
    struct http1_span t = s->req.target;
    if (s->have_req && s->url.form == HTTP1_URL_ORIGIN && s->url.authority.len)
        snprintf(out, cap, "http://%.*s%.*s", (int)s->url.authority.len, s->url.authority.ptr,
                 (int)t.len, s->in.data + t.off); /* reverse proxy */
    else if ((s->have_req || t.len > 0) && t.off + t.len <= s->in.wpos)
        str_copy_view(out, cap, req_str(s, t));
    else
        str_copy(out, cap, "-");
}

static void set_client_events(struct http_session *s, uint32_t ev)
{
    if (s->cfd >= 0)
        ev_io_set(s->w->loop, &s->cio, ev);
}

static void set_server_events(struct http_session *s, uint32_t ev)
{
    if (s->sfd >= 0)
        ev_io_set(s->w->loop, &s->sio, ev);
}

static void close_server(struct http_session *s)
{
    if (s->sfd < 0)
        return;
    ev_io_stop(s->w->loop, &s->sio);
    close(s->sfd);
    s->sfd = -1;
}

static void start_clock(struct http_session *s)
{
    s->start_ms = ev_now_ms(s->w->loop);
    clock_gettime(CLOCK_REALTIME, &s->start_rt);
}

/* ---- the access log (LOG-2, HTTP-18) ---------------------------------- */

static void write_access_log(struct http_session *s)
{
    char url[HTTP1_URL_MAX + 1], xff[ACCESSLOG_PROTO_MAX] = "", method[HTTP1_METHOD_MAX + 1];
    url_text(s, url, sizeof(url));
    struct http1_span m = s->req.method_str;
    if (s->have_req || (m.len > 0 && m.off + m.len <= s->in.wpos))
        str_copy_view(method, sizeof(method), req_str(s, m));
    else
        str_copy(method, sizeof(method), "-");
    struct str v;
    size_t iter = 0;
    if (s->have_req &&
        http1_fields_find(http1_request_fields(&s->req, s->in.data), "X-Forwarded-For", &iter, &v))
        str_copy_view(xff, sizeof(xff), v);
    struct access_record r = {
        .time_sec = s->start_rt.tv_sec,
        .time_msec = (unsigned)(s->start_rt.tv_nsec / 1000000),
        .elapsed_ms = (long)elapsed_ms(s),
        .client = str_from_cstr(s->client_host),
        .status = (unsigned)s->status,
        .size = s->bytes_out,
        .method = str_from_cstr(method),
        .url = str_from_cstr(url),
        .user = STR_NULL,
        .server_ip = str_from_cstr(s->server_ip),
        .content_type = str_from_cstr(s->content_type),
        .result = s->result,
        .detect_name = str_from_cstr(s->detect_name),
        .detect_file = STR_NULL,
        .quarantine_file = str_from_cstr(s->quarantine),
        .action = s->action,
        .service = STR_LIT("http"),
        .internal_id = (unsigned)s->slot,
        .pid = (long)getpid(),
        .host_ip = str_from_cstr(s->client_ip),
        .files = s->requests ? s->requests : 1,
        .checks = s->checks,
        .scan_ms = s->scan_ms,
        .details = s->details,
        .proto_flags = (s->keep_client ? ACCESSLOG_PROTO_KEEPALIVE : 0) |
                       (s->trickling ? ACCESSLOG_PROTO_TRICKLE : 0) |
                       (s->progress ? ACCESSLOG_PROTO_PROGRESS : 0),
        .proto1 = STR_NULL,
        .proto2 = str_from_cstr(xff),
        .proxy_error = str_from_cstr(s->error),
    };
    char line[ACCESSLOG_LINE_MAX];
    struct buf b;
    buf_init(&b, line, sizeof(line));
    if (!accesslog_format_line(&b, &r))
        return;
    log_sink_write(LOG_SINK_ACCESS, buf_rptr(&b), buf_len(&b));
    if (s->result != ACCESSLOG_RESULT_CLEAN)
        log_sink_write(LOG_SINK_DETECT, buf_rptr(&b), buf_len(&b));
}

/* ---- spool files -------------------------------------------------------- */

/* spool_open - the spool of a response body of expected bytes (0 when the
 * server did not say): in memory when small and the budget allows. */
static int spool_open(struct http_session *s, uint64_t expected)
{
    struct proxy_worker *w = s->w;
    if (expected > 0 && expected <= SPOOL_MEM_OBJECT_MAX &&
        w->spool_mem_used + expected <= SPOOL_MEM_BUDGET) {
        int fd = spoolfile_create_mem();
        if (fd >= 0) {
            s->spool_mem = expected;
            w->spool_mem_used += expected;
            return fd;
        }
    }
    return spoolfile_create(s->cfg->tmpdir);
}

static void spool_close(struct http_session *s)
{
    if (s->spool_fd >= 0)
        close(s->spool_fd);
    s->spool_fd = -1;
    s->w->spool_mem_used -= s->spool_mem;
    s->spool_mem = 0;
}

/* ---- session lifetime ------------------------------------------------- */

static void session_free(void *arg)
{
    struct http_session *s = arg;
    buf_fini(&s->in);
    buf_fini(&s->up);
    buf_fini(&s->resp);
    buf_fini(&s->out);
    free(s->head_copy);
    sha256_release(&s->body_hash);
    free(s);
}

static void session_close(struct http_session *s)
{
    struct ev_loop *loop = s->w->loop;
    if (s->closed)
        return;
    s->closed = true;
    if (s->progress && !s->progress_published_end)
        progress_end(s, PROGRESS_ERROR, "", "The download was interrupted", STR_NULL);
    if (s->progress) {
        /* Anything but a clean verdict leaves a partial body to remove. */
        char dir[4096];
        if (http_progress_dir(s->cfg->tmpdir, dir, sizeof(dir)))
            http_progress_drop_body(dir, s->progress_token);
    }
    proxy_worker_unlink(&s->link);
    if (s->have_req || s->status || s->log_anyway)
        write_access_log(s);
    if (s->dnsq)
        dns_cancel(s->dnsq);
    if (s->ftpc)
        ftp_client_cancel(s->ftpc);
    s->ftpc = NULL;
    proxy_scan_cancel(s->scan);
    ev_timer_stop(loop, &s->idle);
    http_inactivity_stop(&s->inactivity, loop);
    ev_timer_stop(loop, &s->trickle_timer);
    ev_timer_stop(loop, &s->progress_timer);
    ev_timer_stop(loop, &s->connect_timer);
    ev_timer_stop(loop, &s->head_timer);
    close_server(s);
    if (s->cfd >= 0) {
        ev_io_stop(loop, &s->cio);
        close(s->cfd);
        s->cfd = -1;
    }
    spool_close(s);
    s->scan = NULL;
    if (s->upload_fd >= 0)
        close(s->upload_fd);
    s->upload_fd = -1;
    tunnel_free_buffers(s);
    proxy_worker_session_end(s->w, s->slot);
    /* A pending event of this session may still be in the current batch. */
    if (ev_defer(loop, session_free, s) < 0)
        session_free(s);
}

static void on_idle(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct http_session *s = t->data;
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    if (s->state == HTTP_ST_LINGER || s->state == HTTP_ST_TUNNEL) {
        session_close(s);
        return;
    }
    if (s->state == HTTP_ST_REPLY || s->state == HTTP_ST_RELAY) {
        svclog_error(&s->log,
                     "sendfile timeout: No data can send while 120 sec. There maybe temporary "
                     "network trouble between receiver.) / URL=[%s], written=%" PRIu64,
                     url, s->bytes_out);
        session_close(s);
        return;
    }
    if (s->state == HTTP_ST_REQUEST && !s->have_req && buf_len(&s->in) == 0) {
        session_close(s); /* an idle connection that never sent a request */
        return;
    }
    char msg[256];
    snprintf(msg, sizeof(msg), "Timeout (no progress for %d sec in %s)", IDLE_TIMEOUT_MS / 1000,
             http_state_name(s->state));
    if ((s->status == 0 && s->bytes_out == 0) || s->progress)
        reply_error(s, 504, msg);
    else
        session_close(s);
}

/* abandon_waits - stop whatever the session waits for besides its
 * sockets, so that nothing calls back into a session that has given up. */
static void abandon_waits(struct http_session *s)
{
    proxy_scan_cancel(s->scan);
    s->scan = NULL;
    if (s->dnsq)
        dns_cancel(s->dnsq);
    s->dnsq = NULL;
    if (s->ftpc)
        ftp_client_cancel(s->ftpc);
    s->ftpc = NULL;
    ev_timer_stop(s->w->loop, &s->connect_timer);
    ev_timer_stop(s->w->loop, &s->trickle_timer);
    ev_timer_stop(s->w->loop, &s->progress_timer);
    s->over_filesize = false; /* no unscanned tail follows an error page */
}

/* on_inactive - timeout_inactive=yes (000:78): no byte moved in either
 * direction for inactive_timeout seconds, whatever the session waits for.
 * A client that got nothing yet gets the error page (504); one that got
 * bytes can only be cut off. Both leave an error line and the reason in
 * the access record's PROXY-ERROR. */
static void on_inactive(struct ev_loop *loop, struct ev_timer *t)
{
    struct http_session *s = t->data;
    struct stat st;
    if (s->state == HTTP_ST_FTP && s->spool_fd >= 0 && fstat(s->spool_fd, &st) == 0)
        http_inactivity_observe(&s->inactivity, loop, (uint64_t)st.st_size); /* FTP data */
    if (!http_inactivity_expired(&s->inactivity, loop))
        return;
    if (s->state == HTTP_ST_LINGER ||
        (s->state == HTTP_ST_REQUEST && !s->have_req && buf_len(&s->in) == 0)) {
        session_close(s); /* no request in progress: nothing to answer or log */
        return;
    }
    char url[HTTP1_URL_MAX + 1], msg[256];
    url_text(s, url, sizeof(url));
    snprintf(msg, sizeof(msg),
             "Timeout: no traffic in either direction for %u sec while %s (timeout_inactive)",
             http_inactivity_seconds(&s->inactivity), http_state_waits_for(s->state));
    svclog_error(&s->log, "%s; session ended. URL=[%s], written=%" PRIu64, msg, url, s->bytes_out);
    abandon_waits(s);
    if (s->bytes_out == 0 || s->progress) {
        reply_error(s, 504, msg);
        return;
    }
    str_copy(s->error, sizeof(s->error), msg);
    session_close(s);
}

/* ---- replies generated by the proxy ----------------------------------- */

/* fill_vars - every TPL-3 variable for a page or mail about this request
 * (core/template_vars: what HTTP has no value for renders empty). */
static void fill_vars(struct http_session *s, struct template_var_table *t, const char *message,
                      const char *url)
{
    const char *file = strrchr(url, '/');
    file = file && file[1] ? file + 1 : url;
    struct template_vars v = {
        .service_type = STR_LIT("http"),
        .detection_name = str_from_cstr(s->detect_name),
        .client_host = str_from_cstr(s->client_host),
        .client_addr = str_from_cstr(s->client_ip),
        .server_host = str_from_cstr(s->host),
        .server_addr = str_from_cstr(s->server_ip),
        .status = (unsigned)s->status,
        .method = s->have_req ? req_str(s, s->req.method_str) : STR_LIT("GET"),
        .url = str_from_cstr(url),
        .content_type = str_from_cstr(s->content_type),
        .content_length = s->spool_len,
        .filename = str_from_cstr(file),
        .quarantine_file = str_from_cstr(s->quarantine),
        .time = time(NULL),
        .error_str = str_from_cstr(message ? message : ""),
        .action = str_from_cstr(accesslog_action_name(s->action)),
        .path_query = s->have_req ? s->url.path_query : STR_NULL,
    };
    if (s->have_req) {
        size_t iter = 0;
        http1_fields_find(http1_request_fields(&s->req, s->in.data), "X-Forwarded-For", &iter,
                          &v.x_forwarded_for);
    }
    template_vars_table(&v, t);
}

/* queue_page - replace whatever was queued for the client by a complete
 * generated response: status line, headers, rendered template. */
static void queue_page_vars(struct http_session *s, const struct template *tpl, int status,
                            const char *message, const char *url,
                            const struct template_parse_var *extra, size_t n_extra,
                            struct str extra_headers)
{
    s->status = status;
    static struct template_var_table table; /* a worker is one thread */
    fill_vars(s, &table, message, url);
    struct template_parse_var vars[TEMPLATE_VAR_COUNT + 8];
    size_t n = TEMPLATE_VAR_COUNT;
    memcpy(vars, table.vars, sizeof(table.vars));
    for (size_t i = 0; i < n_extra && n < sizeof(vars) / sizeof(vars[0]); i++)
        vars[n++] = extra[i];
    buf_fini(&s->out);
    char *page = malloc(PAGE_BUF_SIZE);
    if (buf_alloc_storage(&s->out, PAGE_BUF_SIZE + 512) < 0 || !page) {
        free(page);
        return;
    }
    struct buf body;
    buf_init(&body, page, PAGE_BUF_SIZE);
    if (template_render(tpl, vars, n, &body) != TEMPLATE_PARSE_DONE) {
        buf_reset(&body);
        buf_printf(&body, "<html><body>ERROR: %d</body></html>\n", status);
    }
    http1_rewrite_simple_response(&s->out, false, status, STR_LIT("text/html; charset=UTF-8"),
                                  buf_len(&body), extra_headers);
    bool head_only = s->have_req && s->req.method == HTTP1_METHOD_HEAD;
    if (!head_only)
        buf_append(&s->out, buf_rptr(&body), buf_len(&body));
    free(page);
    str_copy(s->content_type, sizeof(s->content_type), "text/html");
}

static void queue_page(struct http_session *s, const struct template *tpl, int status,
                       const char *message)
{
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    queue_page_vars(s, tpl, status, message, url, NULL, 0, STR_NULL);
}

/* reply_error - an error page (HTTP-15) with message, then close. */
static void reply_error(struct http_session *s, int status, const char *message)
{
    if (s->progress) {
        /* The client has the progress page: the error is for its next look. */
        str_copy(s->error, sizeof(s->error), message);
        progress_end(s, PROGRESS_ERROR, "", message, STR_NULL);
        session_close(s);
        return;
    }
    s->keep_client = false; /* HTTP-20 e */
    s->server_reusable = false;
    str_copy(s->error, sizeof(s->error), message);
    queue_page(s, s->w->res->tpl_error, status, message);
    s->send_spool = false;
    start_reply(s);
}

/* ---- writing to the client -------------------------------------------- */

static void start_reply(struct http_session *s)
{
    s->state = HTTP_ST_REPLY;
    if (s->over_filesize)
        set_server_events(s, 0); /* the rest of the body comes after the spool */
    else if (s->server_reusable)
        set_server_events(s, 0); /* idle until the next request; any event closes it */
    else
        close_server(s);
    touch(s);
    set_client_events(s, EV_WRITE);
}

/* flush_out - write queued bytes; true when out is empty. */
static bool flush_out(struct http_session *s, bool *failed)
{
    if (s->http09 && !s->head_stripped && buf_len(&s->out) > 0) {
        /* HTTP-3: an HTTP/0.9 client gets the body without status line or
         * headers; every response we queue starts with its head. */
        struct str v = buf_view(&s->out);
        for (size_t i = 0; i + 3 < v.len; i++) {
            if (memcmp(v.ptr + i, "\r\n\r\n", 4) == 0) {
                buf_consume(&s->out, i + 4);
                s->head_stripped = true;
                break;
            }
        }
    }
    while (buf_len(&s->out) > 0) {
        /* MSG_MORE: a spooled body follows at once; let the kernel put the
         * head and the start of the body in the same segments. */
        int more = s->send_spool && (uint64_t)s->spool_off < s->spool_len ? MSG_MORE : 0;
        ssize_t n = send(s->cfd, buf_rptr(&s->out), buf_len(&s->out), MSG_NOSIGNAL | more);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN)
                *failed = true;
            return false;
        }
        buf_consume(&s->out, (size_t)n);
        s->bytes_out += (uint64_t)n;
        moved(s);
    }
    return true;
}

static void log_client_cancel(struct http_session *s)
{
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    svclog_info(&s->log,
                "is_alivesocket:recv=0, Client closed connection. Client may be cancel the "
                "session. url=[%s], elapsed=%" PRIu64 "ms",
                url, elapsed_ms(s));
}

static void do_reply(struct http_session *s)
{
    bool failed = false;
    if (!flush_out(s, &failed)) {
        if (failed) {
            log_client_cancel(s);
            session_close(s);
        }
        return;
    }
    while (s->send_spool && (uint64_t)s->spool_off < s->spool_len) {
        uint64_t left = s->spool_len - (uint64_t)s->spool_off;
        ssize_t n = sendfile(s->cfd, s->spool_fd, &s->spool_off,
                             left < SENDFILE_CHUNK ? (size_t)left : SENDFILE_CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            char url[HTTP1_URL_MAX + 1];
            url_text(s, url, sizeof(url));
            svclog_info(&s->log,
                        "sendfile canceled: n=%" PRIu64 ", written=%lld, filelen=%" PRIu64
                        " writesize=%" PRIu64 " url=[%s]",
                        left, (long long)s->spool_off, s->spool_len, left, url);
            session_close(s);
            return;
        }
        if (n == 0)
            break; /* the file shrank: someone removed it (LOG-E16) */
        s->bytes_out += (uint64_t)n;
        moved(s);
    }
    if (s->over_filesize) {
        /* SCAN-4: the part beyond pass_filesize_len is relayed as it comes. */
        s->over_filesize = false;
        s->filesize_tail = true;
        s->relayed = 0;
        s->state = HTTP_ST_RELAY;
        s->relay_done = false;
        relay_step(s);
        return;
    }
    request_done(s);
}

/* linger_close - lingering close: a client whose request bytes we did not
 * all read would get a reset that can destroy the response in flight. */
static void linger_close(struct http_session *s)
{
    shutdown(s->cfd, SHUT_WR);
    s->state = HTTP_ST_LINGER;
    set_client_events(s, EV_READ);
    ev_timer_start(s->w->loop, &s->idle, LINGER_MS);
}

/* request_done - the response is complete: log it, then either wait for
 * the next request on this connection (HTTP-20) or close. */
static void request_done(struct http_session *s)
{
    if (!s->keep_client || s->w->stopping) {
        linger_close(s);
        return;
    }
    write_access_log(s);
    /* Forget the request; keep the connection, a reusable upstream
     * connection, and bytes the client already sent (pipelining). */
    size_t left = s->in.wpos - s->in_used;
    if (left)
        memmove(s->in.data, s->in.data + s->in_used, left);
    s->in.rpos = 0;
    s->in.wpos = left;
    spool_close(s);
    if (s->upload_fd >= 0)
        close(s->upload_fd);
    s->upload_fd = -1;
    s->upload_len = s->upload_left = 0;
    s->upload_chunked = s->upload_scan = false;
    s->over_filesize = s->head_sent = s->trickling = false;
    s->filesize_hit = s->filesize_tail = false;
    s->relayed = 0;
    ev_timer_stop(s->w->loop, &s->trickle_timer);
    ev_timer_stop(s->w->loop, &s->progress_timer);
    s->progress_ok = false;
    free(s->head_copy);
    s->head_copy = NULL;
    buf_fini(&s->up);
    buf_fini(&s->resp);
    buf_fini(&s->out);
    http1_request_init(&s->req, REQ_BUF_MAX);
    s->have_req = s->have_rsp = false;
    s->req_body_left = s->body_left = 0;
    s->spool_len = 0;
    s->spool_off = 0;
    s->send_spool = s->relay_done = false;
    s->status = 0;
    s->bytes_out = 0;
    s->content_type[0] = s->error[0] = s->detect_name[0] = s->quarantine[0] = '\0';
    s->result = ACCESSLOG_RESULT_CLEAN;
    s->action = ACCESSLOG_ACTION_NONE;
    s->details = s->checks = 0;
    s->scan_ms = 0;
    s->keep_client = s->client_wants_ka = false;
    s->upstream_reused = false;
    s->in_used = 0;
    s->start_rt.tv_sec = 0;
    s->state = HTTP_ST_REQUEST;
    set_client_events(s, EV_READ);
    ev_timer_start(s->w->loop, &s->idle, (uint64_t)s->cfg->keepalive_timeout * 1000u);
    parse_buffered(s);
}

static void linger_step(struct http_session *s)
{
    char scratch[4096];
    for (int i = 0; i < 64; i++) {
        ssize_t n = recv(s->cfd, scratch, sizeof(scratch), 0);
        if (n > 0)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        break;
    }
    session_close(s);
}

/* ---- scanning result -------------------------------------------------- */

static void notify_done(void *arg)
{
    (void)arg;
}

static void handle_detection(struct http_session *s, const struct scanreq_reply *rep, int fd)
{
    const struct config *cfg = s->cfg;
    struct proxy_worker *w = s->w;
    s->result = ACCESSLOG_RESULT_INFECTED;
    str_copy(s->detect_name, sizeof(s->detect_name), rep->name);
    s->action = cfg->action == CONFIG_ACTION_PASS ? ACCESSLOG_ACTION_PASS : ACCESSLOG_ACTION_DELETE;
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    if (cfg->quarantine && fd >= 0) { /* a block_filesize detection has no whole file */
        static unsigned seq;
        char name[128];
        snprintf(name, sizeof(name), "http-%lld.%d.%u", (long long)time(NULL), (int)getpid(),
                 ++seq);
        if (spoolfile_keep(fd, cfg->quarantine_dir, name) == 0)
            str_copy(s->quarantine, sizeof(s->quarantine), name);
        else
            svclog_error_errno(&s->log, errno, "quarantine: cannot store [%s/%s] URL=[%s]",
                               cfg->quarantine_dir, name, url);
    }
    svclog_info(&s->log, "Infected: URL=[%s] VirusName: %s action=%s", url, rep->name,
                accesslog_action_name(s->action));
    if (cfg->notify_admin && cfg->admin_mailaddr.count > 0) {
        static struct template_var_table table;
        static char mem[PAGE_BUF_SIZE];
        fill_vars(s, &table, "", url);
        struct buf body;
        buf_init(&body, mem, sizeof(mem));
        if (template_render(w->res->tpl_admin, table.vars, TEMPLATE_VAR_COUNT, &body) ==
            TEMPLATE_PARSE_DONE)
            notify_admin_send(w->loop, w->dns, cfg, w->res->hostname, buf_view(&body), &s->log,
                              notify_done, NULL);
        else
            svclog_error(&s->log,
                         "notify_admin: template_admin.txt does not fit in %u bytes "
                         "once rendered: no notification",
                         (unsigned)sizeof(mem));
    }
}

/* original_length_opts - the framing of a response whose body is not all
 * spooled yet: the server's Content-Length when it gave one, else close-
 * delimited (then the connection cannot be kept). */
static void original_length_opts(struct http_session *s, struct http1_rewrite_response_opts *o)
{
    if (s->body_kind == HTTP1_BODY_LENGTH) {
        o->has_length = true;
        o->length = s->spool_len + s->body_left;
    } else {
        o->drop_length = true;
        s->keep_client = false;
    }
    o->keep_alive = s->keep_client;
}

/* send_early_head - the client gets the response head before the verdict
 * (trickle, or an over-filesize body). */
static bool send_early_head(struct http_session *s)
{
    s->keep_client = s->client_wants_ka && server_supports_ka(s);
    struct http1_rewrite_response_opts o = {
        .proxy_support = !s->via_parent && !s->cfg->transparent,
    };
    original_length_opts(s, &o);
    buf_fini(&s->out);
    if (buf_alloc_storage(&s->out, RESP_BUF_SIZE) < 0 ||
        !http1_rewrite_response(&s->out, &s->rsp, s->head_copy, &o))
        return false;
    s->head_sent = true;
    s->status = s->rsp.status;
    s->spool_off = 0;
    return true;
}

/* trickle_send - HTTP-13 trickle: while the body is spooled and scanned,
 * pass it on at trickle_rate, always holding back the last trickle_tail
 * bytes, so the client's download does not time out and yet never gets a
 * complete infected file. */
static void trickle_send(struct http_session *s)
{
    bool failed = false;
    if (!flush_out(s, &failed)) {
        if (failed) {
            log_client_cancel(s);
            session_close(s);
        } else {
            set_client_events(s, EV_READ | EV_WRITE);
        }
        return;
    }
    uint64_t tail = s->cfg->trickle_tail;
    uint64_t limit = s->spool_len > tail ? s->spool_len - tail : 0;
    uint64_t elapsed = ev_now_ms(s->w->loop) - s->trickle_start_ms;
    uint64_t by_rate = s->cfg->trickle_rate * (elapsed + 1000) / 1000;
    if (limit > by_rate)
        limit = by_rate;
    while ((uint64_t)s->spool_off < limit) {
        ssize_t n =
            sendfile(s->cfd, s->spool_fd, &s->spool_off, (size_t)(limit - (uint64_t)s->spool_off));
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                set_client_events(s, EV_READ | EV_WRITE);
                return;
            }
            if (n < 0) {
                log_client_cancel(s);
                session_close(s);
            }
            return;
        }
        s->bytes_out += (uint64_t)n;
        moved(s);
    }
    set_client_events(s, EV_READ);
}

static void on_trickle_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct http_session *s = t->data;
    if (s->state != HTTP_ST_SPOOL && s->state != HTTP_ST_SCAN)
        return;
    if (!s->trickling) {
        if (!send_early_head(s)) {
            reply_error(s, 502, "Response header too large to forward");
            return;
        }
        s->trickling = true;
        s->trickle_start_ms = ev_now_ms(s->w->loop);
    }
    trickle_send(s);
    if (!s->closed && (s->state == HTTP_ST_SPOOL || s->state == HTTP_ST_SCAN))
        ev_timer_start(s->w->loop, &s->trickle_timer, 200);
}

/* ftp_answer_head - the HTTP head of an FTP-over-HTTP answer (HTTP-16:
 * Server: <product_name>; never kept alive, HTTP-20 f). */
static bool ftp_answer_head(struct http_session *s, struct str content_type, uint64_t length,
                            size_t body_room)
{
    char extra[400];
    snprintf(extra, sizeof(extra), "Server: %s\r\n", s->w->res->product_name);
    buf_fini(&s->out);
    s->keep_client = false;
    s->status = 200;
    return buf_alloc_storage(&s->out, 1024 + body_room) == 0 &&
           http1_rewrite_simple_response(&s->out, false, 200, content_type, length,
                                         str_from_cstr(extra));
}

static void deliver_spool(struct http_session *s)
{
    ev_timer_stop(s->w->loop, &s->trickle_timer);
    if (s->ftp) {
        if (!ftp_answer_head(s, STR_LIT("application/octet-stream"), s->spool_len, 0)) {
            reply_error(s, 500, "Temporary failure: out of memory");
            return;
        }
        s->send_spool = s->req.method != HTTP1_METHOD_HEAD;
        s->spool_off = 0;
        start_reply(s);
        return;
    }
    if (s->over_filesize && !s->head_sent && !send_early_head(s)) {
        reply_error(s, 502, "Response header too large to forward");
        return;
    }
    if (s->head_sent) {
        /* Trickled or over-filesize: the head is out; the rest follows. */
        s->send_spool = s->req.method != HTTP1_METHOD_HEAD;
        start_reply(s);
        return;
    }
    /* HTTP-20: the verdict is not a detection page here, so it depends on
     * client and server, and (b, C-33) on the server having said how long
     * the body is: we know the length of the spool, but the documented
     * condition is the server's Content-Length, and a server that frames
     * by closing is not one to stay connected through. */
    s->keep_client =
        s->client_wants_ka && server_supports_ka(s) && s->body_kind == HTTP1_BODY_LENGTH;
    struct http1_rewrite_response_opts o = {
        .use_http11 = false,
        .keep_alive = s->keep_client,
        .proxy_support = !s->via_parent && !s->cfg->transparent,
        .has_length = true,
        .length = s->spool_len,
    };
    uint64_t first = 0;
    if (s->range_stripped && s->rsp.status == 200 &&
        http_decode_range(http1_request_fields(&s->req, s->in.data), s->spool_len, &first,
                          &o.range_last)) {
        /* Item 9: the client's one range, cut from the scanned whole. */
        o.partial = true;
        o.range_first = first;
        o.range_total = s->spool_len;
        o.length = o.range_last - first + 1;
    }
    buf_fini(&s->out);
    if (buf_alloc_storage(&s->out, RESP_BUF_SIZE) < 0 ||
        !http1_rewrite_response(&s->out, &s->rsp, s->head_copy, &o)) {
        reply_error(s, 502, "Response header too large to forward");
        return;
    }
    s->status = o.partial ? 206 : s->rsp.status;
    s->send_spool = s->req.method != HTTP1_METHOD_HEAD;
    s->spool_off = (off_t)first;
    if (o.partial)
        s->spool_len = o.range_last + 1; /* where sending stops */
    start_reply(s);
}

/* scan_accounted - the part of a verdict common to downloads and uploads:
 * PROXY-STAT bookkeeping (checks and scan time of the request, upload
 * included) and, on a scanner failure, the error line and with
 * scan_error_action=tempfail the 503. Returns false when the session has
 * been answered. */
static bool scan_accounted(struct http_session *s, const struct scanreq_reply *rep)
{
    s->scan = NULL;
    s->checks++;
    s->scan_ms += rep->scan_us / 1000u;
    s->details |=
        rep->details & (SCANREQ_VSD_ENCRYPTED | SCANREQ_VSD_MAXNESTED | SCANREQ_VSD_SCANTIMEOUT);
    if (rep->details & SCANREQ_VSD_UNDECODED)
        s->details |= ACCESSLOG_DETAIL_VSD_UNDECODED;
    if (rep->details & SCANREQ_VSD_OVERSIZE)
        s->details |= ACCESSLOG_DETAIL_OVER_SCANLIMIT;
    if (rep->verdict != SCANREQ_ERROR)
        return true;
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    svclog_error(&s->log, "virus scan failed: %s URL=[%s] scan_error_action=%s", rep->error, url,
                 config_scan_error_action_name(s->cfg->scan_error_action));
    if (s->cfg->scan_error_action != CONFIG_SCAN_ERROR_ACTION_TEMPFAIL)
        return true;
    char msg[SCANREQ_ERROR_MAX + 64];
    snprintf(msg, sizeof(msg), "Virus scan failed (%s). Please try again later.", rep->error);
    reply_error(s, 503, msg);
    return false;
}

/* reply_detection_page - G-02 / HTTP-11: 403 with the detection page,
 * Connection: close (HTTP-20 d); nothing of the scanned body goes out. */
static void reply_detection_page(struct http_session *s)
{
    s->keep_client = false;
    s->server_reusable = false;
    queue_page(s, s->w->res->tpl_detect, 403, NULL);
    s->send_spool = false;
    start_reply(s);
}

/* ---- block_filesize (G-13) --------------------------------------------
 *
 * An object the proxy would scan that is larger than block_filesize_len is
 * the detection SEKISHO/POLICY_BLOCK_FILESIZE, decided as soon as the size
 * is known (a Content-Length before any body byte is read; else when the
 * spool passes the limit, without spooling the rest) and answered like a
 * scanner's detection: action=delete gives the detection page (or, when
 * the head is already out, a cut connection); action=pass only logs it
 * and the object goes on (scanned as usual). It is checked before
 * pass_filesize, and the unscanned tail that pass_filesize relays counts
 * too, so a blocked object never reaches the client whole. */

static void progress_verdict(struct http_session *s, const struct scanreq_reply *rep);

static bool filesize_over(const struct http_session *s, uint64_t size)
{
    return s->cfg->block_filesize && size > s->cfg->block_filesize_len;
}

static void filesize_reply(struct scanreq_reply *rep)
{
    *rep = (struct scanreq_reply){.type = SCANREQ_T_SCAN, .verdict = SCANREQ_INFECTED};
    str_copy(rep->name, sizeof(rep->name), "SEKISHO/POLICY_BLOCK_FILESIZE");
}

/* filesize_blocks - the object is size bytes so far: when that is over the
 * limit, record the detection (once: logs, detect.log, notify_admin) and
 * say whether the action stops the object. */
static bool filesize_blocks(struct http_session *s, uint64_t size)
{
    if (!filesize_over(s, size))
        return false;
    if (!s->filesize_hit) {
        struct scanreq_reply rep;
        filesize_reply(&rep);
        s->filesize_hit = true;
        handle_detection(s, &rep, -1);
    }
    return s->cfg->action != CONFIG_ACTION_PASS;
}

/* filesize_stop_download - a blocked download: the answer on_scanned
 * gives a detection, and the server connection goes (its rest unread). */
static void filesize_stop_download(struct http_session *s)
{
    abandon_waits(s);
    s->server_reusable = false;
    close_server(s);
    if (s->progress) {
        struct scanreq_reply rep;
        filesize_reply(&rep);
        progress_verdict(s, &rep);
        return;
    }
    if (s->head_sent) {
        svclog_info(&s->log,
                    "block_filesize: connection cut after %" PRIu64 " bytes, the download is "
                    "larger than %" PRIu64 " bytes",
                    s->bytes_out, s->cfg->block_filesize_len);
        session_close(s);
        return;
    }
    reply_detection_page(s);
}

/* ---- the download-progress page (HTTP-13 `progress`) ------------------ */

#define PROGRESS_UPDATE_MS 1000 /* how often a running download publishes */
#define PROGRESS_REFRESH_S "2"  /* how often the page asks again */

/* Content a page shows inline (or embeds) rather than saves: replacing it
 * by a progress page would break the page, so it never gets one. */
static const char *const progress_inline_types[] = {
    "text/html",
    "text/css",
    "text/javascript",
    "image/",
    "application/javascript",
    "application/json",
    "application/xhtml",
    "application/xml",
    "text/xml",
};

/* progress_wanted - HTTP-13: a browser's GET of a document to save. */
static bool progress_wanted(const struct http_session *s)
{
    if (!s->cfg->progress || !s->w->res->tpl_progress || s->req.method != HTTP1_METHOD_GET ||
        s->http09 || s->rsp.status != 200)
        return false;
    struct http1_fields f = http1_request_fields(&s->req, s->in.data);
    struct str v;
    size_t iter = 0;
    if (!http1_fields_find(f, "User-Agent", &iter, &v) || !str_has_prefix(v, STR_LIT("Mozilla/")))
        return false;
    iter = 0;
    if (http1_fields_find(f, "Sec-Fetch-Dest", &iter, &v) &&
        !str_caseeq_cstr(str_trim(v), "document"))
        return false; /* an image, script, frame... of a page */
    struct str ct = str_from_cstr(s->content_type);
    for (size_t i = 0; i < sizeof(progress_inline_types) / sizeof(progress_inline_types[0]); i++)
        if (str_has_caseprefix(ct, str_from_cstr(progress_inline_types[i])))
            return false;
    return true;
}

static void progress_record_of(struct http_session *s, enum progress_state st,
                               struct progress_record *r)
{
    memset(r, 0, sizeof(*r));
    r->state = st;
    r->received = s->spool_len;
    r->expected = s->body_kind == HTTP1_BODY_LENGTH ? s->spool_len + s->body_left : 0;
    r->started = (int64_t)s->start_rt.tv_sec;
    url_text(s, r->url, sizeof(r->url));
    str_copy(r->content_type, sizeof(r->content_type), s->content_type);
}

static void progress_publish(struct http_session *s, const struct progress_record *r)
{
    char dir[4096];
    if (!http_progress_dir(s->cfg->tmpdir, dir, sizeof(dir)) ||
        http_progress_write(dir, s->progress_token, r) < 0)
        svclog_error_errno(&s->log, errno, "progress: cannot publish the state of URL=[%s] in [%s]",
                           r->url, dir);
}

/* progress_end - the final state; the session closes after it. */
static void progress_end(struct http_session *s, enum progress_state st, const char *detect,
                         const char *error, struct str head)
{
    struct progress_record r;
    progress_record_of(s, st, &r);
    str_copy(r.detect, sizeof(r.detect), detect);
    str_copy(r.error, sizeof(r.error), error);
    r.head = head;
    progress_publish(s, &r);
    s->progress_published_end = true;
}

/* progress_page - queue the page for record r of token: refreshing while
 * the download runs, sending the browser to the file once it is clean. */
static void progress_page(struct http_session *s, const struct progress_record *r,
                          const char *token)
{
    char page_url[HTTP1_HOST_MAX + 128], file_url[HTTP1_URL_MAX + 256];
    char refresh[sizeof(file_url) + 16], received[24], expected[24], percent[16] = "";
    snprintf(page_url, sizeof(page_url), "http://%.*s" HTTP_PROGRESS_PREFIX "%s",
             (int)s->url.authority.len, s->url.authority.ptr, token);
    struct str file = pass_rules_url_filename(str_from_cstr(r->url));
    if (file.len == 0 || memchr(r->url, '/', strlen(r->url)) == NULL)
        file = STR_LIT("download");
    snprintf(file_url, sizeof(file_url), "%s/%.*s", page_url, (int)file.len, file.ptr);
    if (r->state == PROGRESS_CLEAN)
        snprintf(refresh, sizeof(refresh), "0; url=%s", file_url);
    else
        str_copy(refresh, sizeof(refresh), PROGRESS_REFRESH_S);
    snprintf(received, sizeof(received), "%" PRIu64, r->received);
    if (r->expected) {
        snprintf(expected, sizeof(expected), "%" PRIu64, r->expected);
        snprintf(percent, sizeof(percent), "(%u%%)",
                 (unsigned)(r->received >= r->expected ? 100 : r->received * 100 / r->expected));
    } else {
        str_copy(expected, sizeof(expected), "unknown");
    }
    const struct template_parse_var vars[] = {
        {"PROGRESS_STATE", str_from_cstr(progress_state_name(r->state))},
        {"PROGRESS_RECEIVED", str_from_cstr(received)},
        {"PROGRESS_EXPECTED", str_from_cstr(expected)},
        {"PROGRESS_PERCENT", str_from_cstr(percent)},
        {"PROGRESS_URL", str_from_cstr(page_url)},
        {"DOWNLOAD_URL", str_from_cstr(file_url)},
        {"REFRESH", str_from_cstr(refresh)},
    };
    queue_page_vars(s, s->w->res->tpl_progress, 200, NULL, r->url, vars,
                    sizeof(vars) / sizeof(vars[0]), STR_LIT("Cache-Control: no-store\r\n"));
}

/* progress_start - the download is slow: publish it, give the browser the
 * page, and go on without the client. */
static void progress_start(struct http_session *s)
{
    char dir[4096];
    if (http_progress_new_token(s->progress_token) < 0 ||
        !http_progress_dir(s->cfg->tmpdir, dir, sizeof(dir))) {
        s->progress_ok = false;
        return;
    }
    http_progress_sweep(dir);
    int fd = http_progress_take_spool(dir, s->progress_token, s->spool_fd);
    if (fd < 0) {
        svclog_error_errno(&s->log, errno, "progress: cannot move the download to [%s]", dir);
        s->progress_ok = false;
        return;
    }
    spool_close(s);
    s->spool_fd = fd;
    struct progress_record r;
    progress_record_of(s, s->state == HTTP_ST_SPOOL ? PROGRESS_DOWNLOADING : PROGRESS_SCANNING, &r);
    progress_publish(s, &r);
    progress_page(s, &r, s->progress_token);
    /* The page is a few KiB on a connection that has sent nothing yet: it
     * fits the socket buffer, so it goes out now and the client is let go. */
    bool failed = false;
    if (!flush_out(s, &failed))
        svclog_info(&s->log, "progress: the page for URL=[%s] did not fit the socket", r.url);
    buf_fini(&s->out);
    ev_io_stop(s->w->loop, &s->cio);
    close(s->cfd);
    s->cfd = -1;
    s->progress = true;
    s->keep_client = s->client_wants_ka = false;
    s->server_reusable = false;
    svclog_info(&s->log, "progress: page sent, URL=[%s] continues in the background as %s", r.url,
                s->progress_token);
}

static void on_progress_timer(struct ev_loop *loop, struct ev_timer *t)
{
    struct http_session *s = t->data;
    bool busy = s->state == HTTP_ST_SPOOL || (s->state == HTTP_ST_SCAN && !s->over_filesize);
    if (s->closed || !busy || s->head_sent)
        return;
    if (!s->progress) {
        progress_start(s);
        if (!s->progress)
            return;
    } else {
        struct progress_record r;
        progress_record_of(s, s->state == HTTP_ST_SPOOL ? PROGRESS_DOWNLOADING : PROGRESS_SCANNING,
                           &r);
        progress_publish(s, &r);
    }
    ev_timer_start(loop, &s->progress_timer, PROGRESS_UPDATE_MS);
}

/* progress_verdict - on_scanned for a download whose client got the page:
 * publish the outcome (and the clean body), then end. */
static void progress_verdict(struct http_session *s, const struct scanreq_reply *rep)
{
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    char dir[4096];
    if (!http_progress_dir(s->cfg->tmpdir, dir, sizeof(dir))) {
        progress_end(s, PROGRESS_ERROR, "", "Temporary failure: cannot keep the download",
                     STR_NULL);
        session_close(s);
        return;
    }
    if (rep->verdict == SCANREQ_INFECTED && s->cfg->action != CONFIG_ACTION_PASS) {
        http_progress_drop_body(dir, s->progress_token);
        progress_end(s, PROGRESS_INFECTED, rep->name, "", STR_NULL);
        session_close(s);
        return;
    }
    struct http1_rewrite_response_opts o = {
        .proxy_support = !s->via_parent && !s->cfg->transparent,
        .has_length = true,
        .length = s->spool_len,
    };
    char mem[RESP_BUF_SIZE];
    struct buf head;
    buf_init(&head, mem, sizeof(mem));
    if (!http1_rewrite_response(&head, &s->rsp, s->head_copy, &o)) {
        progress_end(s, PROGRESS_ERROR, "", "Response header too large to forward", STR_NULL);
    } else if (http_progress_keep_body(dir, s->progress_token) < 0) {
        svclog_error_errno(&s->log, errno, "progress: cannot keep the body of URL=[%s] in [%s]",
                           url, dir);
        progress_end(s, PROGRESS_ERROR, "", "Temporary failure: cannot keep the download",
                     STR_NULL);
    } else {
        progress_end(s, PROGRESS_CLEAN, "", "", buf_view(&head));
    }
    session_close(s);
}

/* progress_serve - a request for /.sekisho-progress/<token>[/<file>],
 * from any worker: the page, the verdict, or the scanned file. */
static void progress_serve(struct http_session *s, const char *token, bool file)
{
    static char mem[PROGRESS_RECORD_SIZE_MAX]; /* one worker thread; used before returning */
    char dir[4096];
    struct progress_record r;
    s->keep_client = false;
    s->send_spool = false;
    if (!http_progress_dir(s->cfg->tmpdir, dir, sizeof(dir)) ||
        http_progress_read(dir, token, &r, mem, sizeof(mem)) < 0) {
        str_copy(s->error, sizeof(s->error), "progress: no such download");
        queue_page(s, s->w->res->tpl_error, 404,
                   "This download is no longer available: it was fetched more than 10 minutes "
                   "ago or never existed. Please download the file again.");
        start_reply(s);
        return;
    }
    http_progress_sweep(dir);
    if (r.state == PROGRESS_INFECTED) {
        /* G-02: the detection page, as the download itself would have had. */
        str_copy(s->detect_name, sizeof(s->detect_name), r.detect);
        queue_page_vars(s, s->w->res->tpl_detect, 403, NULL, r.url, NULL, 0, STR_NULL);
        s->detect_name[0] = '\0';
        start_reply(s);
        return;
    }
    if (r.state == PROGRESS_ERROR) {
        str_copy(s->error, sizeof(s->error), r.error);
        queue_page_vars(s, s->w->res->tpl_error, 503, r.error, r.url, NULL, 0, STR_NULL);
        start_reply(s);
        return;
    }
    int fd = r.state == PROGRESS_CLEAN && file ? http_progress_open_body(dir, token) : -1;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        buf_fini(&s->out);
        if (buf_alloc_storage(&s->out, r.head.len + 1) < 0) {
            close(fd);
            reply_error(s, 503, "Temporary failure: out of memory");
            return;
        }
        buf_append_str(&s->out, r.head);
        s->spool_fd = fd;
        s->spool_len = (uint64_t)st.st_size;
        s->spool_off = 0;
        s->send_spool = s->req.method != HTTP1_METHOD_HEAD;
        s->status = 200;
        str_copy(s->content_type, sizeof(s->content_type), r.content_type);
        start_reply(s);
        return;
    }
    if (fd >= 0)
        close(fd);
    progress_page(s, &r, token);
    start_reply(s);
}

static void on_scanned(void *arg, const struct scanreq_reply *rep)
{
    struct http_session *s = arg;
    if (!scan_accounted(s, rep))
        return;
    if (rep->verdict == SCANREQ_INFECTED)
        handle_detection(s, rep, s->spool_fd);
    if (s->progress) {
        progress_verdict(s, rep);
        return;
    }
    if (rep->verdict == SCANREQ_INFECTED) {
        if (s->cfg->action != CONFIG_ACTION_PASS && s->head_sent) {
            /* G-02: the head is out (trickle): cut the connection, so the
             * client never gets a complete infected file. */
            svclog_info(&s->log,
                        "trickle: connection cut after %" PRIu64 " of %" PRIu64
                        " bytes, the download is infected",
                        (uint64_t)s->spool_off, s->spool_len);
            s->over_filesize = false;
            session_close(s);
            return;
        }
        if (s->cfg->action != CONFIG_ACTION_PASS) {
            reply_detection_page(s);
            return;
        }
    }
    deliver_spool(s);
}

static void start_scan(struct http_session *s)
{
    s->state = HTTP_ST_SCAN;
    touch(s); /* the scan's own limit times it (waits_with_own_bound) */
    if (s->over_filesize)
        set_server_events(s, 0); /* read the rest after the verdict */
    else if (s->server_reusable)
        set_server_events(s, 0);
    else
        close_server(s);
    /* While scanning, only a client hang-up is of interest. */
    set_client_events(s, EV_READ);
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    const char *file = strrchr(url, '/');
    uint8_t digest[SHA256_DIGEST_LEN];
    bool whole =
        s->hashing && !s->over_filesize && !s->ftp && sha256_final(&s->body_hash, digest) == 0;
    sha256_release(&s->body_hash);
    s->hashing = false;
    s->scan = proxy_scan_start_coded(s->w->scan_pool, s->cfg, SCANREQ_SVC_HTTP, s->spool_fd,
                                     s->ftp ? 0 : s->scan_encoding, file ? file + 1 : url,
                                     whole ? digest : NULL, &s->log, on_scanned, s);
}

/* ---- response body ---------------------------------------------------- */

static bool spool_write(struct http_session *s, const char *p, size_t n)
{
    if (spoolfile_write_all(s->spool_fd, p, n) < 0) {
        s->spool_errno = errno;
        svclog_error_errno(&s->log, errno, "spool write failed in [%s]", s->cfg->tmpdir);
        return false;
    }
    if (s->hashing && s->spool_len + n > VERDICT_CACHE_OBJECT_MAX) {
        s->hashing = false;
        sha256_release(&s->body_hash);
    }
    if (s->hashing)
        sha256_update(&s->body_hash, p, n);
    s->spool_len += n;
    return true;
}

/* consume_body - take body bytes from resp: into the spool (SPOOL) or
 * into out (RELAY). Returns 1 when the body is complete, 0 for more,
 * -1 on a framing or spool error. */
static int consume_body(struct http_session *s)
{
    while (buf_len(&s->resp) > 0) {
        struct str data = STR_NULL;
        size_t used;
        if (s->body_kind == HTTP1_BODY_CHUNKED) {
            size_t avail = buf_len(&s->resp);
            if (s->state == HTTP_ST_RELAY) {
                buf_compact(&s->out);
                if (avail > buf_space(&s->out))
                    avail = buf_space(&s->out); /* decoded data never exceeds its input */
                if (avail == 0)
                    return 0;
            }
            enum http1_result r =
                http1_chunked_decode(&s->chunk, buf_rptr(&s->resp), avail, &used, &data);
            if (r == HTTP1_INVALID || r == HTTP1_TOO_LONG)
                return -1;
            buf_consume(&s->resp, used);
            if (data.len) {
                if (s->state == HTTP_ST_SPOOL ? !spool_write(s, data.ptr, data.len)
                                              : !buf_append_str(&s->out, data))
                    return -1;
                if (s->state != HTTP_ST_SPOOL)
                    s->relayed += data.len;
            }
            if (r == HTTP1_DONE)
                return 1;
            continue;
        }
        size_t take = buf_len(&s->resp);
        if (s->body_kind == HTTP1_BODY_LENGTH && take > s->body_left)
            take = (size_t)s->body_left;
        if (s->state == HTTP_ST_SPOOL) {
            if (!spool_write(s, buf_rptr(&s->resp), take))
                return -1;
        } else {
            size_t room = buf_space(&s->out);
            if (room == 0) {
                buf_compact(&s->out);
                room = buf_space(&s->out);
            }
            if (take > room)
                take = room;
            if (take == 0)
                return 0;
            buf_append(&s->out, buf_rptr(&s->resp), take);
            s->relayed += take;
        }
        buf_consume(&s->resp, take);
        if (s->body_kind == HTTP1_BODY_LENGTH) {
            s->body_left -= take;
            if (s->body_left == 0)
                return 1;
        }
    }
    if (s->body_kind == HTTP1_BODY_LENGTH && s->body_left == 0)
        return 1;
    return 0;
}

static void log_server_close(struct http_session *s)
{
    svclog_info(&s->log,
                "is_server_alivesocket: select(s=%d):ret=1,cur_pid=%d: Server closed connection "
                "while transaction. There may be timeout on the server because of no traffic. "
                "(elapsed=%" PRIu64 "ms)",
                s->sfd, (int)getpid(), elapsed_ms(s));
}

/* read_server - read what the server sent into resp; returns bytes read,
 * 0 on EOF, -1 on would-block, -2 on error. */
static ssize_t read_server(struct http_session *s)
{
    if (buf_space(&s->resp) == 0)
        buf_compact(&s->resp);
    if (buf_space(&s->resp) == 0)
        return -1;
    ssize_t n = recv(s->sfd, buf_wptr(&s->resp), buf_space(&s->resp), 0);
    if (n > 0) {
        buf_produce(&s->resp, (size_t)n);
        moved(s);
        return n;
    }
    if (n == 0)
        return 0;
    return (errno == EAGAIN || errno == EINTR) ? -1 : -2;
}

static void spool_step(struct http_session *s)
{
    for (;;) {
        int done = consume_body(s);
        if (done < 0) {
            /* A spool that cannot be written is a temporary failure of ours,
             * never a reason to pass the body unscanned. */
            if (s->spool_errno)
                reply_error(s, 503, "Temporary failure: cannot write the spool file");
            else
                reply_error(s, 502, "Invalid response body from the server");
            return;
        }
        if (filesize_blocks(s, s->spool_len)) {
            filesize_stop_download(s); /* G-13: the rest is not spooled */
            return;
        }
        if (done == 1) {
            s->server_reusable =
                s->client_wants_ka && buf_len(&s->resp) == 0 && server_supports_ka(s);
            start_scan(s);
            return;
        }
        if (s->cfg->pass_filesize && s->spool_len >= s->cfg->pass_filesize_len && !s->trickling &&
            !s->progress) {
            /* (With the progress page the client takes the file from the
             * spool, so all of it is spooled, and then all of it scanned.) */
            /* SCAN-4: scan what is spooled; the rest will not be scanned. */
            s->over_filesize = true;
            s->details |= ACCESSLOG_DETAIL_OVER_FILESIZE;
            start_scan(s);
            return;
        }
        if (s->trickling)
            trickle_send(s);
        ssize_t n = read_server(s);
        if (n == -1)
            return;
        if (n == 0 && s->body_kind == HTTP1_BODY_UNTIL_CLOSE) {
            start_scan(s);
            return;
        }
        if (n <= 0) {
            log_server_close(s);
            reply_error(s, 502, "Server closed connection while transaction");
            return;
        }
    }
}

static void relay_step(struct http_session *s)
{
    bool failed = false;
    for (;;) {
        if (!flush_out(s, &failed)) {
            if (failed) {
                log_client_cancel(s);
                session_close(s);
                return;
            }
            set_client_events(s, EV_WRITE);
            set_server_events(s, 0); /* back-pressure: the client is slower */
            return;
        }
        if (s->relay_done) {
            request_done(s);
            return;
        }
        int done = consume_body(s);
        if (done < 0) {
            session_close(s); /* headers are out: all we can do is cut (G-02) */
            return;
        }
        if (s->filesize_tail && filesize_blocks(s, s->spool_len + s->relayed)) {
            filesize_stop_download(s); /* G-13: the queued bytes never go out */
            return;
        }
        if (done == 1) {
            s->relay_done = true;
            s->server_reusable = s->keep_client && buf_len(&s->resp) == 0;
            if (!s->server_reusable)
                close_server(s);
            continue;
        }
        if (buf_len(&s->out) > 0)
            continue;
        ssize_t n = read_server(s);
        if (n == -1) {
            set_client_events(s, 0);
            set_server_events(s, EV_READ);
            return;
        }
        if (n == 0 && s->body_kind == HTTP1_BODY_UNTIL_CLOSE) {
            s->relay_done = true;
            continue;
        }
        if (n <= 0) {
            log_server_close(s);
            session_close(s);
            return;
        }
    }
}

/* skip_reason - SCAN-4/SCAN-5: the PROXY-STAT detail of a skip rule that
 * exempts this response from scanning, or 0. */
static unsigned skip_reason(const struct http_session *s)
{
    const struct config *cfg = s->cfg;
    struct str ua = STR_NULL;
    size_t iter = 0;
    http1_fields_find(http1_request_fields(&s->req, s->in.data), "User-Agent", &iter, &ua);
    if (pass_rules_builtin_user_agent(ua) ||
        (cfg->pass_user_agent && pass_rules_user_agent(ua, cfg->pass_user_agent_list.items,
                                                       cfg->pass_user_agent_list.count)))
        return ACCESSLOG_DETAIL_PASS_USER_AGENT;
    if (cfg->acl_pass_to && s->w->res->acl &&
        access_match(s->w->res->acl, "http_pass_to", s->server_ip,
                     s->url.host.len ? s->host : NULL))
        return ACCESSLOG_DETAIL_PASS_TO;
    if (cfg->pass_ext && pass_rules_extension(pass_rules_url_filename(s->url.path),
                                              cfg->pass_ext_list.items, cfg->pass_ext_list.count))
        return ACCESSLOG_DETAIL_PASS_EXT;
    return 0;
}

static bool should_scan(struct http_session *s)
{
    if (!s->cfg->virus_check)
        return false;
    /* SCAN-1 names GET, POST and PUT; every response that has content is
     * scanned whatever the method (issue 10 item 10: OPTIONS, DELETE,
     * PROPFIND or an invented method carried malware past the scanner).
     * What has no content is decided by the framing: HEAD, 1xx, 204, 304
     * are NONE and a 2xx to CONNECT is TUNNEL (RFC 9112 6.3 rules 1-2). */
    if (s->body_kind != HTTP1_BODY_LENGTH && s->body_kind != HTTP1_BODY_CHUNKED &&
        s->body_kind != HTTP1_BODY_UNTIL_CLOSE)
        return false;
    unsigned skip = skip_reason(s);
    s->details |= skip;
    return skip == 0;
}

static void got_response_head(struct http_session *s)
{
    struct http1_fields f = http1_response_fields(&s->rsp, s->resp.data);
    struct str ct;
    size_t iter = 0;
    if (http1_fields_find(f, "Content-Type", &iter, &ct)) {
        struct str type, params;
        str_cut(ct, ';', &type, &params);
        str_copy_view(s->content_type, sizeof(s->content_type), str_trim(type));
    }
    s->body_kind = http1_response_body_kind(&s->rsp, s->resp.data, s->req.method, &s->body_left);
    if (s->body_kind == HTTP1_BODY_INVALID) {
        reply_error(s, 502, "Invalid response framing from the server");
        return;
    }
    if (s->body_kind == HTTP1_BODY_CHUNKED)
        http1_chunked_init(&s->chunk);
    s->status = s->rsp.status;
    s->scan_encoding = http_decode_scan_encoding(f);
    if (should_scan(s) && !(s->body_kind == HTTP1_BODY_LENGTH && s->body_left == 0)) {
        if (s->rsp.status == 206) {
            /* Item 9 of issue 10: a part cannot be scanned as the whole
             * the client assembles; we never asked for one. */
            reply_error(s, 502, "Partial content from the server cannot be scanned");
            return;
        }
        if (s->body_kind == HTTP1_BODY_LENGTH && filesize_blocks(s, s->body_left)) {
            filesize_stop_download(s); /* G-13: before any body byte */
            return;
        }
        s->spool_fd = spool_open(s, s->body_kind == HTTP1_BODY_LENGTH ? s->body_left : 0);
        if (s->spool_fd < 0) {
            svclog_error_errno(&s->log, errno, "cannot create a spool file in [%s]",
                               s->cfg->tmpdir);
            reply_error(s, 503, "Temporary failure: cannot create a spool file");
            return;
        }
        /* Keep the head in resp (deliver_spool rewrites it); body bytes go
         * to the spool from head_len on. */
        s->head_copy = malloc(s->rsp.head_len);
        if (!s->head_copy) {
            reply_error(s, 503, "Temporary failure: out of memory");
            return;
        }
        memcpy(s->head_copy, s->resp.data, s->rsp.head_len);
        s->resp.rpos = s->rsp.head_len;
        s->state = HTTP_ST_SPOOL;
        s->hashing = s->cfg->verdict_cache && (s->body_kind != HTTP1_BODY_LENGTH ||
                                               s->body_left <= VERDICT_CACHE_OBJECT_MAX);
        if (s->hashing && sha256_init(&s->body_hash) < 0)
            s->hashing = false; /* no key: the body is scanned, not looked up */
        s->progress_ok = progress_wanted(s);
        if (s->progress_ok)
            ev_timer_start(s->w->loop, &s->progress_timer,
                           (uint64_t)s->cfg->progress_delay * 1000u);
        else if (s->cfg->trickle > 0 && s->req.method != HTTP1_METHOD_HEAD)
            ev_timer_start(s->w->loop, &s->trickle_timer, (uint64_t)s->cfg->trickle * 1000u);
        set_server_events(s, EV_READ);
        set_client_events(s, EV_READ);
        spool_step(s);
        return;
    }
    /* Not scanned: the head now, the body as it arrives. Keep-alive only
     * when the client can tell where the body ends (HTTP-20 b). */
    s->keep_client = s->client_wants_ka && server_supports_ka(s) &&
                     (s->body_kind == HTTP1_BODY_LENGTH || s->body_kind == HTTP1_BODY_NONE);
    struct http1_rewrite_response_opts o = {
        .keep_alive = s->keep_client,
        .proxy_support = !s->via_parent && !s->cfg->transparent,
        .has_length = s->body_kind == HTTP1_BODY_LENGTH,
        .length = s->body_left,
        /* De-chunked or close-delimited bodies lose their framing headers;
         * bodiless responses (HEAD, 204, 304) keep the origin's. */
        .drop_length = s->body_kind == HTTP1_BODY_CHUNKED || s->body_kind == HTTP1_BODY_UNTIL_CLOSE,
    };
    if (buf_alloc_storage(&s->out, RESP_BUF_SIZE) < 0 ||
        !http1_rewrite_response(&s->out, &s->rsp, s->resp.data, &o)) {
        reply_error(s, 502, "Response header too large to forward");
        return;
    }
    /* The head stays at the front of resp's storage: body bytes after it
     * are consumed from head_len; compacting later discards the head,
     * which is no longer needed once it is rewritten into out. */
    s->resp.rpos = s->rsp.head_len;
    s->state = HTTP_ST_RELAY;
    s->relay_done =
        s->body_kind == HTTP1_BODY_NONE || (s->body_kind == HTTP1_BODY_LENGTH && s->body_left == 0);
    if (s->relay_done) {
        s->server_reusable = s->keep_client && buf_len(&s->resp) == 0;
        if (!s->server_reusable)
            close_server(s);
    }
    relay_step(s);
}

/* retry_fresh - a kept upstream connection was closed by the server before
 * it answered (it may time idle connections out at any moment): send the
 * request again on a new connection, once, if it had no body. */
static bool retry_fresh(struct http_session *s)
{
    if (!s->upstream_reused || s->in_used != s->req.head_len || buf_len(&s->resp) > 0)
        return false;
    close_server(s);
    s->no_reuse = true;
    start_upstream(s);
    return true;
}

/* skip_oversized_head - C-01: keep the header lines that fit in the limit,
 * drop the rest of the head. Bytes after parsed_len in resp are head bytes
 * to discard until the blank line; the body then starts at parsed_len. */
static enum http1_result skip_oversized_head(struct http_session *s)
{
    size_t keep = s->rsp.parsed_len, consumed;
    enum http1_result r =
        http1_skip_head(&s->skip, s->resp.data + keep, s->resp.wpos - keep, &consumed);
    if (r == HTTP1_DONE) {
        size_t body = s->resp.wpos - keep - consumed;
        memmove(s->resp.data + keep, s->resp.data + keep + consumed, body);
        s->resp.wpos = keep + body;
        s->rsp.head_len = keep;
        s->skipping_head = false;
    } else {
        s->resp.wpos = keep; /* all of it was head: make room for more */
    }
    return r;
}

static void response_step(struct http_session *s)
{
    for (;;) {
        /* Parse what is buffered first: an interim 1xx head may have come
         * with the final head in the same read. */
        enum http1_result r = HTTP1_AGAIN;
        if (s->skipping_head)
            r = skip_oversized_head(s);
        else if (s->resp.wpos > 0)
            r = http1_parse_response(&s->rsp, s->resp.data, s->resp.wpos);
        if (r == HTTP1_AGAIN) {
            ssize_t n = read_server(s);
            if (n == -1)
                return;
            if (n <= 0 && retry_fresh(s))
                return;
            if (n <= 0) {
                log_server_close(s);
                reply_error(s, 502, "Server closed connection without a response");
                return;
            }
            continue;
        }
        if (r == HTTP1_TOO_LONG && !s->skipping_head) {
            char url[HTTP1_URL_MAX + 1];
            url_text(s, url, sizeof(url));
            svclog_error(&s->log, "Too large header (>%d) ignored. URL=[%s]",
                         HTTP1_RESPONSE_HEAD_MAX, url);
            if (s->rsp.parsed_len == 0) {
                reply_error(s, 502, "get_response_header: Too Large Header");
                return;
            }
            s->skipping_head = true;
            http1_skip_init(&s->skip);
            continue;
        }
        if (r == HTTP1_INVALID || r == HTTP1_TOO_LONG) {
            reply_error(s, 502, http1_error_message(s->rsp.error));
            return;
        }
        if (s->rsp.status < 200) {
            /* 1xx interim responses are not relayed to HTTP/1.0 clients. */
            buf_consume(&s->resp, s->rsp.head_len);
            buf_compact(&s->resp);
            http1_response_init(&s->rsp, HTTP1_RESPONSE_HEAD_MAX);
            continue;
        }
        s->have_rsp = true;
        got_response_head(s);
        return;
    }
}

/* ---- request bodies spooled before forwarding (G-35, HTTP-11) -------- */

static void on_upload_scanned(void *arg, const struct scanreq_reply *rep);

/* upload_take - move body bytes from p into the upload spool, decoding
 * chunked framing. Returns bytes of p consumed, or -1 on a framing or
 * spool error; sets *done when the body is complete. */
static ssize_t upload_take(struct http_session *s, const char *p, size_t n, bool *done)
{
    size_t used = 0;
    while (used < n && !*done) {
        if (s->upload_chunked) {
            size_t c;
            struct str data = STR_NULL;
            enum http1_result r =
                http1_chunked_decode(&s->req_chunk, p + used, n - used, &c, &data);
            if (r == HTTP1_INVALID || r == HTTP1_TOO_LONG)
                return -1;
            used += c;
            if (data.len) {
                if (write(s->upload_fd, data.ptr, data.len) != (ssize_t)data.len)
                    return -1;
                s->upload_len += data.len;
            }
            if (r == HTTP1_DONE)
                *done = true;
            continue;
        }
        size_t take = n - used;
        if (take > s->upload_left)
            take = (size_t)s->upload_left;
        if (take && write(s->upload_fd, p + used, take) != (ssize_t)take)
            return -1;
        used += take;
        s->upload_len += take;
        s->upload_left -= take;
        if (s->upload_left == 0)
            *done = true;
    }
    return (ssize_t)used;
}

static void upload_complete(struct http_session *s)
{
    /* HTTP-12: Internet Explorer sends an extra CRLF after a POST body. */
    if (s->req.method == HTTP1_METHOD_POST && s->in.wpos - s->in_used >= 2 &&
        memcmp(s->in.data + s->in_used, "\r\n", 2) == 0) {
        s->in_used += 2;
        svclog_info(&s->log, "read extra CRLF for POST method");
    }
    if (!s->upload_scan) {
        start_upstream(s);
        return;
    }
    s->state = HTTP_ST_UPLOAD_SCAN;
    touch(s);
    set_client_events(s, EV_READ);
    char url[HTTP1_URL_MAX + 1];
    url_text(s, url, sizeof(url));
    const char *file = strrchr(url, '/');
    s->scan = proxy_scan_start(s->w->scan_pool, s->cfg, SCANREQ_SVC_HTTP, s->upload_fd,
                               file ? file + 1 : url, NULL, &s->log, on_upload_scanned, s);
}

static void upload_step(struct http_session *s)
{
    char mem[65536];
    for (;;) {
        ssize_t n = recv(s->cfd, mem, sizeof(mem), 0);
        if (n == 0) {
            svclog_info(&s->log, "file uploading is interrupted by client.");
            session_close(s);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            session_close(s);
            return;
        }
        moved(s);
        bool done = false;
        ssize_t used = upload_take(s, mem, (size_t)n, &done);
        if (used < 0) {
            reply_error(s, 400, "Invalid request body");
            return;
        }
        if (s->upload_scan && filesize_blocks(s, s->upload_len)) {
            reply_detection_page(s); /* G-13: the rest is not spooled */
            return;
        }
        if (done) {
            /* Bytes after the body (a pipelined request, IE's CRLF) are kept. */
            size_t rest = (size_t)n - (size_t)used;
            buf_compact(&s->in);
            s->in.wpos = s->in_used; /* the head stays; the body was taken from mem */
            if (rest && !buf_append(&s->in, mem + used, rest)) {
                reply_error(s, 400, "Request too large");
                return;
            }
            upload_complete(s);
            return;
        }
    }
}

static void start_upload(struct http_session *s, uint64_t length)
{
    s->upload_fd = spoolfile_create(s->cfg->tmpdir);
    if (s->upload_fd < 0) {
        svclog_error_errno(&s->log, errno, "cannot create a spool file in [%s]", s->cfg->tmpdir);
        reply_error(s, 503, "Temporary failure: cannot create a spool file");
        return;
    }
    s->upload_left = length;
    if (s->upload_chunked)
        http1_chunked_init(&s->req_chunk);
    s->state = HTTP_ST_UPLOAD;
    touch(s);
    /* Body bytes that came with the head. */
    bool done = !s->upload_chunked && length == 0;
    ssize_t used =
        upload_take(s, s->in.data + s->req.head_len, s->in.wpos - s->req.head_len, &done);
    if (used < 0) {
        reply_error(s, 400, "Invalid request body");
        return;
    }
    if (s->upload_scan && filesize_blocks(s, s->upload_len)) {
        reply_detection_page(s);
        return;
    }
    s->in_used = s->req.head_len + (size_t)used;
    if (done) {
        upload_complete(s);
        return;
    }
    set_client_events(s, EV_READ);
}

static void on_upload_scanned(void *arg, const struct scanreq_reply *rep)
{
    struct http_session *s = arg;
    if (!scan_accounted(s, rep))
        return;
    if (rep->verdict == SCANREQ_INFECTED) {
        handle_detection(s, rep, s->upload_fd);
        if (s->cfg->action != CONFIG_ACTION_PASS) {
            /* HTTP-11 (PUT) and G-18 (POST): the upload is not forwarded. */
            reply_detection_page(s);
            return;
        }
    }
    start_upstream(s);
}

/* ---- FTP over HTTP (HTTP-16) ----------------------------------------- */

#define FTP_LISTING_MAX (1u << 20) /* LIST output rendered, at most */

static void ftp_render_listing(struct http_session *s, uint64_t bytes)
{
    size_t n = bytes < FTP_LISTING_MAX ? (size_t)bytes : FTP_LISTING_MAX;
    char *listing = malloc(n ? n : 1);
    char *page = malloc(4 * FTP_LISTING_MAX);
    char path[HTTP1_URL_MAX + 1];
    size_t plen = ftp_listing_path_decode(s->url.path, path, sizeof(path));
    struct buf pb;
    buf_init(&pb, page, page ? 4 * FTP_LISTING_MAX : 0);
    bool ok = listing && page && plen != (size_t)-1 &&
              pread(s->spool_fd, listing, n, 0) == (ssize_t)n &&
              ftp_listing_format(&pb, s->url.host, s->url.port, str_make(path, plen),
                                 str_make(listing, n));
    free(listing);
    if (!ok) {
        free(page);
        reply_error(s, 500, "Cannot render the FTP directory listing");
        return;
    }
    str_copy(s->content_type, sizeof(s->content_type), "text/html");
    bool head_only = s->req.method == HTTP1_METHOD_HEAD;
    ok = ftp_answer_head(s, STR_LIT("text/html; charset=UTF-8"), buf_len(&pb),
                         head_only ? 0 : buf_len(&pb)) &&
         (head_only || buf_append(&s->out, buf_rptr(&pb), buf_len(&pb)));
    free(page);
    if (!ok) {
        reply_error(s, 500, "Temporary failure: out of memory");
        return;
    }
    s->send_spool = false;
    start_reply(s);
}

/* ftp_scanned - an ftp:// file is scanned (and subject to block_filesize)
 * unless virus_check is off or pass_ext exempts it; the exemption is
 * recorded in PROXY-STAT. */
static bool ftp_scanned(struct http_session *s)
{
    if (s->cfg->pass_ext &&
        pass_rules_extension(pass_rules_url_filename(s->url.path), s->cfg->pass_ext_list.items,
                             s->cfg->pass_ext_list.count)) {
        s->details |= ACCESSLOG_DETAIL_PASS_EXT;
        return false;
    }
    return s->cfg->virus_check;
}

static void on_ftp_done(void *arg, const struct ftp_client_outcome *o)
{
    struct http_session *s = arg;
    s->ftpc = NULL;
    str_copy(s->server_ip, sizeof(s->server_ip), o->server_ip);
    s->log.server_ip = s->server_ip;
    if (o->result == FTP_CLIENT_TOO_LARGE) {
        /* G-13: only with action=delete is max_bytes set (start_ftp). */
        s->spool_len = o->bytes;
        str_copy(s->content_type, sizeof(s->content_type), "application/octet-stream");
        filesize_blocks(s, s->cfg->block_filesize_len + 1);
        reply_detection_page(s);
        return;
    }
    if (o->result == FTP_CLIENT_ERROR) {
        reply_error(s, o->status ? o->status : 503, o->error);
        return;
    }
    s->spool_len = o->bytes;
    if (o->result == FTP_CLIENT_LISTING) {
        ftp_render_listing(s, o->bytes);
        return;
    }
    str_copy(s->content_type, sizeof(s->content_type), "application/octet-stream");
    s->status = 200;
    if (!ftp_scanned(s) || o->bytes == 0) {
        deliver_spool(s);
        return;
    }
    filesize_blocks(s, o->bytes); /* action=pass: logged, delivered if clean */
    start_scan(s);
}

/* start_ftp - an ftp:// URL: fetch it into the spool, then scan and answer
 * like an HTTP download; directories become an HTML listing (G-29). */
static void start_ftp(struct http_session *s)
{
    if (s->req.method != HTTP1_METHOD_GET && s->req.method != HTTP1_METHOD_HEAD) {
        reply_error(s, 501, "Only GET and HEAD are supported for ftp:// URLs");
        return;
    }
    s->ftp = true;
    s->client_wants_ka = false; /* HTTP-20 f */
    str_copy_view(s->host, sizeof(s->host), s->url.host);
    s->port = s->url.port;
    s->log.server_host = s->host;
    s->log.server_port = s->port;
    if (s->cfg->acl_to) {
        const struct access_table *acl = s->w->res->acl;
        const char *ip = s->url.host_kind == HTTP1_HOST_NAME ? NULL : s->host;
        const char *name = s->url.host_kind == HTTP1_HOST_NAME ? s->host : NULL;
        if (!acl || !access_match(acl, "http_to", ip, name)) {
            svclog_info(&s->log, "Access Denied to [%s:%s]", ip ? ip : "", s->host);
            char msg[512];
            snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/Access Inhibited by Proxy(SEKISHO)", s->host,
                     s->port);
            reply_error(s, 503, msg);
            return;
        }
    }
    s->spool_fd = spoolfile_create(s->cfg->tmpdir);
    if (s->spool_fd < 0) {
        svclog_error_errno(&s->log, errno, "cannot create a spool file in [%s]", s->cfg->tmpdir);
        reply_error(s, 503, "Temporary failure: cannot create a spool file");
        return;
    }
    char user[FTP_CLIENT_CRED_MAX], pass[FTP_CLIENT_CRED_MAX];
    size_t ul = ftp_listing_path_decode(s->url.user, user, sizeof(user));
    size_t pl = ftp_listing_path_decode(s->url.password, pass, sizeof(pass));
    if (ul == (size_t)-1 || pl == (size_t)-1) {
        reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
        return;
    }
    char path[FTP_CLIENT_PATH_MAX];
    str_copy_view(path, sizeof(path), s->url.path);
    struct ftp_client_request fr = {
        .host = s->host,
        .port = s->port,
        .user = ul ? user : NULL,
        .password = s->url.has_password ? pass : NULL,
        .path = path,
        .ipv6 = s->cfg->ipv6,
        .data_fd = s->spool_fd,
        .log = &s->log,
    };
    /* G-13: with action=delete a file over block_filesize_len is not fetched
     * whole; with action=pass it is, and the detection only logged. */
    if (s->cfg->block_filesize && s->cfg->action != CONFIG_ACTION_PASS && s->cfg->virus_check &&
        !(s->cfg->pass_ext &&
          pass_rules_extension(pass_rules_url_filename(s->url.path), s->cfg->pass_ext_list.items,
                               s->cfg->pass_ext_list.count)))
        fr.max_bytes = s->cfg->block_filesize_len;
    s->state = HTTP_ST_FTP;
    set_client_events(s, EV_READ);
    touch(s);
    s->ftpc = ftp_client_start(s->w->loop, s->w->dns, &fr, on_ftp_done, s);
}

/* ---- CONNECT tunnels (HTTP-17): not scanned, zero-copy (http_tunnel),
 * never kept alive ---------------------------------------------------- */

static void tunnel_free_buffers(struct http_session *s)
{
    http_tunnel_dir_close(&s->up_dir);
    http_tunnel_dir_close(&s->down_dir);
}

static void tunnel_step(struct http_session *s)
{
    int a = http_tunnel_move(&s->up_dir, s->cfd, s->sfd);
    int b = http_tunnel_move(&s->down_dir, s->sfd, s->cfd);
    if (a > 0 || b > 0)
        moved(s);
    s->bytes_out = s->down_dir.bytes;
    if (a < 0 || b < 0 || (s->up_dir.shut && s->down_dir.shut)) {
        session_close(s); /* never kept alive (HTTP-17) */
        return;
    }
    set_client_events(s, (s->up_dir.eof || s->up_dir.in_pipe ? 0 : EV_READ) |
                             (s->down_dir.in_pipe ? EV_WRITE : 0));
    set_server_events(s, (s->down_dir.eof || s->down_dir.in_pipe ? 0 : EV_READ) |
                             (s->up_dir.in_pipe ? EV_WRITE : 0));
}

/* tunnel_begin - the connection to host:port is up: confirm to the client
 * (unless a parent proxy answers itself) and start relaying. Bytes the
 * client sent after its CONNECT head (a TLS hello) go first. */
static void tunnel_begin(struct http_session *s)
{
    if (http_tunnel_dir_open(&s->up_dir, false) < 0 ||
        http_tunnel_dir_open(&s->down_dir, true) < 0) { /* downloads are the bulk */
        reply_error(s, 503, "Temporary failure: cannot create a tunnel");
        return;
    }
    size_t extra = s->in.wpos - s->req.head_len;
    buf_fini(&s->out);
    if (buf_alloc_storage(&s->out, extra + 4096) < 0 ||
        (s->via_parent ? !http1_rewrite_request(&s->out, &s->req, s->in.data, &s->url,
                                                &(struct http1_rewrite_request_opts){
                                                    .absolute_uri = true,
                                                    .anonymous = true,
                                                    .strip_proxy_auth = s->cfg->proxyauth_pam_auth})
                       : false)) {
        reply_error(s, 503, "Temporary failure: cannot create a tunnel");
        return;
    }
    s->status = 200;
    s->state = HTTP_ST_TUNNEL;
    /* Bytes for the server (parent's CONNECT, early client bytes), then
     * the confirmation for the client. Both are small: written at once,
     * blocking only in theory (fresh sockets have empty buffers). */
    if (!buf_append(&s->out, s->in.data + s->req.head_len, extra) ||
        (buf_len(&s->out) && send(s->sfd, buf_rptr(&s->out), buf_len(&s->out), MSG_NOSIGNAL) !=
                                 (ssize_t)buf_len(&s->out))) {
        session_close(s);
        return;
    }
    buf_reset(&s->out);
    if (!s->via_parent) {
        static const char ok[] = "HTTP/1.0 200 Connection established\r\n\r\n";
        if (send(s->cfd, ok, sizeof(ok) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(ok) - 1) {
            session_close(s);
            return;
        }
        s->down_dir.bytes += sizeof(ok) - 1;
    }
    moved(s);
    tunnel_step(s);
}

/* ---- forwarding the request ------------------------------------------- */

static void forward_step(struct http_session *s)
{
    for (;;) {
        while (buf_len(&s->up) > 0) {
            ssize_t n = send(s->sfd, buf_rptr(&s->up), buf_len(&s->up), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN) {
                    set_server_events(s, EV_WRITE);
                    set_client_events(s, 0);
                    return;
                }
                if (retry_fresh(s))
                    return;
                char msg[512];
                snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/send: %s", s->host, s->port,
                         strerror(errno));
                reply_error(s, 503, msg);
                return;
            }
            buf_consume(&s->up, (size_t)n);
            moved(s);
        }
        if (s->upload_fd >= 0 && (uint64_t)s->upload_off < s->upload_len) {
            uint64_t left = s->upload_len - (uint64_t)s->upload_off;
            ssize_t n = sendfile(s->sfd, s->upload_fd, &s->upload_off,
                                 left < SENDFILE_CHUNK ? (size_t)left : SENDFILE_CHUNK);
            if (n > 0) {
                moved(s);
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                set_server_events(s, EV_WRITE);
                set_client_events(s, 0);
                return;
            }
            char msg[512];
            snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/send: %s", s->host, s->port,
                     n < 0 ? strerror(errno) : "spool file shrank");
            reply_error(s, 503, msg);
            return;
        }
        if (s->req_body_left == 0) {
            s->state = HTTP_ST_RESPONSE;
            if (buf_alloc_storage(&s->resp, RESP_BUF_SIZE) < 0) {
                reply_error(s, 503, "Temporary failure: out of memory");
                return;
            }
            http1_response_init(&s->rsp, HTTP1_RESPONSE_HEAD_MAX);
            set_client_events(s, 0);
            set_server_events(s, EV_READ);
            return;
        }
        /* Relay the request body from the client. */
        buf_reset(&s->up);
        size_t want = buf_space(&s->up);
        if (want > s->req_body_left)
            want = (size_t)s->req_body_left;
        ssize_t n = recv(s->cfd, buf_wptr(&s->up), want, 0);
        if (n > 0) {
            buf_produce(&s->up, (size_t)n);
            s->req_body_left -= (uint64_t)n;
            moved(s);
            continue;
        }
        if (n == 0) {
            svclog_info(&s->log, "file uploading is interrupted by client.");
            session_close(s);
            return;
        }
        if (errno == EAGAIN || errno == EINTR) {
            set_server_events(s, 0);
            set_client_events(s, EV_READ);
            return;
        }
        session_close(s);
        return;
    }
}

static void start_forward(struct http_session *s)
{
    s->state = HTTP_ST_FORWARD;
    char via_host[HTTP1_HOST_MAX + 16];
    snprintf(via_host, sizeof(via_host), "%s:%u", s->w->res->hostname, s->w->listen_port);
    struct http1_rewrite_request_opts o = {
        .use_http11 = s->cfg->use_http11,
        .absolute_uri = s->via_parent && s->url.form == HTTP1_URL_ABSOLUTE,
        .anonymous = s->cfg->anonymous,
        .strip_proxy_auth = s->cfg->proxyauth_pam_auth,
        .keep_alive = s->client_wants_ka, /* worth keeping only if the client returns */
        .via_host = str_from_cstr(via_host),
        .product_name = str_from_cstr(s->w->res->product_name),
        .client_ip = str_from_cstr(s->client_ip),
    };
    char accept[512];
    if (s->cfg->virus_check) {
        o.filter_accept_encoding = true;
        o.accept_encoding =
            http_decode_accept(http1_request_fields(&s->req, s->in.data), accept, sizeof(accept));
        /* Item 9: what will be scanned is fetched whole (deliver_spool
         * serves a range of it). */
        o.strip_range = s->req.method == HTTP1_METHOD_GET && skip_reason(s) == 0;
    }
    s->range_stripped = o.strip_range;
    if (s->upload_fd >= 0) {
        /* G-35: a spooled body goes out with its Content-Length. */
        o.has_length = true;
        o.length = s->upload_len;
        s->upload_off = 0;
    }
    if (buf_alloc_storage(&s->up, s->in.cap + 4096) < 0 ||
        !http1_rewrite_request(&s->up, &s->req, s->in.data, &s->url, &o)) {
        reply_error(s, 400, "Request header too large");
        return;
    }
    if (s->upload_fd >= 0) {
        forward_step(s);
        return;
    }
    /* Body bytes that arrived with the head go first. */
    size_t extra = s->in.wpos - s->req.head_len;
    if (extra > s->req_body_left)
        extra = (size_t)s->req_body_left; /* pipelined bytes beyond the body are dropped */
    if (!buf_append(&s->up, s->in.data + s->req.head_len, extra)) {
        reply_error(s, 400, "Request header too large");
        return;
    }
    s->req_body_left -= extra;
    s->in_used = s->req.head_len + extra;
    forward_step(s);
}

/* ---- connecting ------------------------------------------------------- */

static void connect_next(struct http_session *s, int last_err);

static void on_connect_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct http_session *s = t->data;
    if (s->state != HTTP_ST_CONNECT)
        return;
    close_server(s);
    char msg[512];
    snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/connect timeout(>%u sec)", s->host, s->port,
             s->cfg->connect_timeout);
    reply_error(s, 503, msg);
}

static void on_connected(struct http_session *s)
{
    ev_timer_stop(s->w->loop, &s->connect_timer);
    int err = sock_connect_result(s->sfd);
    if (err != 0) {
        close_server(s);
        connect_next(s, err);
        return;
    }
    str_copy(s->conn_host, sizeof(s->conn_host), s->host);
    s->conn_port = s->port;
    s->conn_via_parent = s->via_parent;
    if (s->tunnel)
        tunnel_begin(s);
    else
        start_forward(s);
}

static void connect_next(struct http_session *s, int last_err)
{
    while (s->addr_next < s->addrs.n) {
        size_t i = s->addr_next++;
        const struct sockaddr *sa = (const struct sockaddr *)&s->addrs.addr[i];
        sock_addr_text(sa, s->server_ip, sizeof(s->server_ip), NULL);
        s->log.server_ip = s->server_ip;
        int fd = sock_connect_start(sa, s->addrs.len[i]);
        if (fd < 0) {
            last_err = errno;
            continue;
        }
        s->sfd = fd;
        ev_io_init(&s->sio, fd, server_io, s);
        s->state = HTTP_ST_CONNECT;
        /* Watch the client too: a cancel while connecting is CONN-3. */
        set_client_events(s, EV_READ);
        set_server_events(s, EV_WRITE);
        touch(s);
        if (s->cfg->connect_timeout > 0)
            ev_timer_start(s->w->loop, &s->connect_timer,
                           (uint64_t)s->cfg->connect_timeout * 1000u);
        return;
    }
    char msg[512];
    snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/connect: %s", s->host, s->port,
             strerror(last_err ? last_err : ECONNREFUSED));
    reply_error(s, 503, msg);
}

static bool acl_to_denied(struct http_session *s, const char *ip)
{
    if (!s->cfg->acl_to)
        return false;
    const struct access_table *acl = s->w->res->acl;
    /* ACL-7: matched against the destination name and the address connected. */
    if (acl && access_match(acl, "http_to", ip, s->host))
        return false;
    svclog_info(&s->log, "Access Denied to [%s:%s]", ip ? ip : "", s->host);
    char msg[512];
    snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/Access Inhibited by Proxy(SEKISHO)", s->host,
             s->port);
    reply_error(s, 503, msg);
    return true;
}

/* refuse_self - issue 10 item 6: a request or tunnel to this gateway's
 * own listener (by any name or local address) would come back as a new
 * session, and nested CONNECTs to itself once filled every slot. Checked
 * on every resolved address, the parent's too: 508 at once. */
static bool refuse_self(struct http_session *s)
{
    for (size_t i = 0; i < s->addrs.n; i++) {
        if (!http_guard_is_self((const struct sockaddr *)&s->addrs.addr[i], s->w->listen_fd))
            continue;
        char msg[512];
        snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/Request loop: the destination is this proxy",
                 s->host, s->port);
        svclog_info(&s->log, "Request loop refused: %s:%u is this proxy", s->host, s->port);
        reply_error(s, 508, msg);
        return true;
    }
    return false;
}

static void on_resolved(void *arg, int status, const char *errtext, const struct dns_result *res)
{
    struct http_session *s = arg;
    s->dnsq = NULL;
    if (status != 0 || !res || res->n == 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "CONNECT(%s:%u)/hostname lookup error: %s", s->host, s->port,
                 errtext && *errtext ? errtext : "Unknown host");
        reply_error(s, 503, msg);
        return;
    }
    s->addrs = *res;
    s->addr_next = 0;
    if (refuse_self(s))
        return;
    char ip[SOCK_ADDRSTRLEN];
    sock_addr_text((const struct sockaddr *)&res->addr[0], ip, sizeof(ip), NULL);
    if (!s->via_parent && acl_to_denied(s, ip))
        return;
    connect_next(s, 0);
}

static void start_upstream(struct http_session *s)
{
    const struct config *cfg = s->cfg;
    s->via_parent = *cfg->parent_server_host && !cfg->self_proxy;
    if (s->via_parent) {
        str_copy(s->host, sizeof(s->host), cfg->parent_server_host);
        s->port = (uint16_t)(cfg->parent_server_port ? cfg->parent_server_port : 8080);
    } else {
        str_copy_view(s->host, sizeof(s->host), s->url.host);
        s->port = s->url.port;
    }
    s->log.server_host = s->host;
    s->log.server_port = s->port;
    s->upstream_reused = false;
    if (s->sfd >= 0) {
        if (!s->no_reuse && !s->tunnel && s->conn_port == s->port &&
            s->conn_via_parent == s->via_parent && strcmp(s->conn_host, s->host) == 0) {
            /* The connection kept from the previous request goes there. */
            s->upstream_reused = true;
            set_server_events(s, 0);
            start_forward(s);
            return;
        }
        close_server(s);
    }
    s->no_reuse = false;
    s->state = HTTP_ST_RESOLVE;
    set_client_events(s, EV_READ);
    touch(s);
    s->dnsq = dns_lookup(s->w->dns, s->host, s->port, cfg->ipv6, on_resolved, s);
}

/* ---- reading the request ---------------------------------------------- */

/* client_wants_keepalive - HTTP-20: keepalive=yes, and the client asks for
 * it (HTTP/1.1 unless Connection: close; HTTP/1.0 with Connection or
 * Proxy-Connection: keep-alive). Never for CONNECT (g). */
static bool client_wants_keepalive(const struct http_session *s)
{
    if (!s->cfg->keepalive || s->req.method == HTTP1_METHOD_CONNECT ||
        s->req.version == HTTP1_VERSION_0_9)
        return false;
    struct http1_fields f = http1_request_fields(&s->req, s->in.data);
    const char *names[] = {"Connection", "Proxy-Connection"};
    bool ka = s->req.version == HTTP1_VERSION_1_1;
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

/* reverse_proxy_target - HTTP-1 reverse proxy (003:5589-5615): clients
 * take the gateway for the web server (the parent) and send origin-form
 * requests; the site is the one their Host header names (the parent's
 * name without one). It goes upstream as it came, origin-form with that
 * Host, and is logged as http://<host><path>. */
static void reverse_proxy_target(struct http_session *s)
{
    struct str host = STR_NULL;
    size_t iter = 0;
    http1_fields_find(http1_request_fields(&s->req, s->in.data), "Host", &iter, &host);
    host = str_trim(host);
    if (host.len == 0)
        host = str_from_cstr(s->cfg->parent_server_host);
    s->url.scheme = HTTP1_SCHEME_HTTP;
    s->url.authority = host;
    struct str name = host, port = STR_NULL;
    if (host.len && host.ptr[0] != '[')
        str_cut(host, ':', &name, &port);
    uint64_t n = 80;
    if (port.len)
        str_to_u64(port, 65535, &n);
    s->url.host = name;
    s->url.port = (uint16_t)n;
}

/* refuse_guarded - issue 10 items 5 and 6, decided on the head alone:
 * a request that already passed through this gateway (its own Via
 * received-by, as start_forward writes it) is a loop (508); a CONNECT to
 * a port outside connect_ports is refused (403) before any lookup, so
 * nothing reaches a mail server or other service behind the gateway. */
static bool refuse_guarded(struct http_session *s)
{
    char me[HTTP1_HOST_MAX + 16];
    snprintf(me, sizeof(me), "%s:%u", s->w->res->hostname, s->w->listen_port);
    char msg[512];
    if (http_guard_via_loop(http1_request_fields(&s->req, s->in.data), str_from_cstr(me))) {
        snprintf(msg, sizeof(msg), "Request loop: Via shows the request already passed %s", me);
        svclog_info(&s->log, "Request loop refused: Via names %s", me);
        reply_error(s, 508, msg);
        return true;
    }
    if (s->req.method == HTTP1_METHOD_CONNECT && s->url.form == HTTP1_URL_AUTHORITY &&
        !http_guard_port_allowed(&s->cfg->connect_ports, s->url.port)) {
        snprintf(msg, sizeof(msg), "CONNECT(%.*s:%u)/Port not allowed for CONNECT (connect_ports)",
                 (int)s->url.host.len, s->url.host.ptr, s->url.port);
        svclog_info(&s->log, "Access Denied to [%.*s:%u] (connect_ports)", (int)s->url.host.len,
                    s->url.host.ptr, s->url.port);
        reply_error(s, 403, msg);
        return true;
    }
    return false;
}

static void request_ready(struct http_session *s)
{
    s->have_req = true;
    s->http09 = s->req.version == HTTP1_VERSION_0_9;
    s->requests++;
    s->in_used = s->req.head_len;
    s->client_wants_ka = client_wants_keepalive(s);
    if (!http1_request_url(&s->req, s->in.data, &s->url)) {
        reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
        return;
    }
    if (refuse_guarded(s))
        return;
    if (s->req.method == HTTP1_METHOD_CONNECT) {
        if (s->url.form != HTTP1_URL_AUTHORITY) {
            reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
            return;
        }
        s->tunnel = true;
        s->client_wants_ka = false;
        start_upstream(s);
        return;
    }
    if (s->url.scheme == HTTP1_SCHEME_FTP && s->url.form == HTTP1_URL_ABSOLUTE) {
        start_ftp(s);
        return;
    }
    if (s->url.form == HTTP1_URL_ORIGIN && *s->cfg->parent_server_host && !s->cfg->self_proxy &&
        !s->cfg->transparent) {
        reverse_proxy_target(s);
    } else if (s->url.form != HTTP1_URL_ABSOLUTE || s->url.scheme != HTTP1_SCHEME_HTTP) {
        reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
        return;
    }
    char token[HTTP_PROGRESS_TOKEN_LEN + 1];
    bool file;
    if (s->cfg->progress && http_progress_parse_path(s->url.path, token, &file)) {
        progress_serve(s, token, file);
        return;
    }
    uint64_t len = 0;
    enum http1_body kind = http1_request_body_kind(&s->req, s->in.data, &len);
    if (kind == HTTP1_BODY_INVALID) {
        reply_error(s, 400, "Invalid request body framing");
        return;
    }
    const struct config *cfg = s->cfg;
    bool has_body = kind == HTTP1_BODY_CHUNKED || (kind == HTTP1_BODY_LENGTH && len > 0);
    s->upload_chunked = kind == HTTP1_BODY_CHUNKED;
    /* HTTP-11: with virus_check_post the whole POST/PUT body is spooled and
     * scanned before the server is contacted. */
    s->upload_scan = has_body && cfg->virus_check && cfg->virus_check_post &&
                     (s->req.method == HTTP1_METHOD_POST || s->req.method == HTTP1_METHOD_PUT);
    if (s->upload_scan && kind == HTTP1_BODY_LENGTH && filesize_blocks(s, len)) {
        reply_detection_page(s); /* G-13: the body is not read, the server not contacted */
        return;
    }
    if (s->upload_chunked || s->upload_scan) {
        start_upload(s, kind == HTTP1_BODY_LENGTH ? len : 0);
        return;
    }
    s->req_body_left = kind == HTTP1_BODY_LENGTH ? len : 0;
    start_upstream(s);
}

static void request_parsed(struct http_session *s, enum http1_result r)
{
    if (r == HTTP1_DONE) {
        request_ready(s);
        return;
    }
    /* INVALID or TOO_LONG: the documented error (HTTP-4). */
    int status = http1_error_status(s->req.error);
    reply_error(s, status ? status : 400, http1_error_message(s->req.error));
}

/* A request head trickled a byte at a time restarts the idle timer with
 * every byte; request_timeout bounds the whole head from its first byte,
 * so that slow clients cannot hold sessions (issue 10, item 16). */
static void on_head_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct http_session *s = t->data;
    s->head_timed = false;
    if (s->state != HTTP_ST_REQUEST || s->have_req)
        return;
    char msg[160];
    snprintf(msg, sizeof(msg),
             "Request Timeout: the request head was not complete within %u sec (request_timeout)",
             s->cfg->request_timeout);
    svclog_error(&s->log, "%s, received=%zu", msg, buf_len(&s->in));
    reply_error(s, 408, msg);
}

/* head_deadline_arm - some of a head is here: the whole of it must follow
 * within request_timeout (timed from the first byte, not restarted). */
static void head_deadline_arm(struct http_session *s)
{
    if (!s->head_timed && s->cfg->request_timeout > 0) {
        ev_timer_start(s->w->loop, &s->head_timer, (uint64_t)s->cfg->request_timeout * 1000u);
        s->head_timed = true;
    }
}

static void head_deadline_stop(struct http_session *s)
{
    ev_timer_stop(s->w->loop, &s->head_timer);
    s->head_timed = false;
}

static void request_step(struct http_session *s)
{
    for (;;) {
        if (buf_space(&s->in) == 0) {
            if (s->in.cap >= REQ_BUF_MAX) {
                reply_error(s, 400, "Request header too large");
                return;
            }
            /* Grow: the parser keeps offsets, never pointers. */
            char *bigger = realloc(s->in.data, REQ_BUF_MAX);
            if (!bigger) {
                reply_error(s, 503, "Temporary failure: out of memory");
                return;
            }
            s->in.data = bigger;
            s->in.cap = REQ_BUF_MAX;
        }
        ssize_t n = recv(s->cfd, buf_wptr(&s->in), buf_space(&s->in), 0);
        if (n == 0) {
            session_close(s); /* closed before a complete request */
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            session_close(s);
            return;
        }
        buf_produce(&s->in, (size_t)n);
        moved(s);
        if (s->requests > 0 && s->start_rt.tv_sec == 0)
            start_clock(s); /* a kept-alive connection: the new request starts now */
        enum http1_result r = http1_parse_request(&s->req, s->in.data, s->in.wpos);
        if (r == HTTP1_AGAIN) {
            head_deadline_arm(s);
            continue;
        }
        head_deadline_stop(s);
        request_parsed(s, r);
        return;
    }
}

/* parse_buffered - a kept-alive connection may already hold the next
 * (pipelined) request. */
static void parse_buffered(struct http_session *s)
{
    if (buf_len(&s->in) == 0)
        return;
    start_clock(s);
    enum http1_result r = http1_parse_request(&s->req, s->in.data, s->in.wpos);
    if (r == HTTP1_AGAIN) {
        head_deadline_arm(s);
        return;
    }
    head_deadline_stop(s);
    request_parsed(s, r);
}

/* ---- event dispatch --------------------------------------------------- */

/* client_hung_up - while we are busy with the server, a readable client
 * socket means a hang-up (or pipelined bytes, which HTTP/1.0 does not
 * have): peek to tell. */
static bool client_hung_up(struct http_session *s)
{
    char c;
    ssize_t n = recv(s->cfd, &c, 1, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        return true;
    if (n > 0)
        set_client_events(s, 0); /* extra bytes: ignore until we are done */
    return false;
}

static void client_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct http_session *s = io->data;
    switch (s->state) {
    case HTTP_ST_REQUEST:
        request_step(s);
        break;
    case HTTP_ST_FORWARD:
        forward_step(s);
        break;
    case HTTP_ST_RELAY:
        relay_step(s);
        break;
    case HTTP_ST_REPLY:
        do_reply(s);
        break;
    case HTTP_ST_LINGER:
        linger_step(s);
        break;
    case HTTP_ST_TUNNEL:
        tunnel_step(s);
        break;
    case HTTP_ST_UPLOAD:
        upload_step(s);
        break;
    default:
        if ((events & EV_WRITE) && s->trickling) {
            trickle_send(s);
            if (s->closed)
                break;
        }
        if ((events & (EV_READ | EV_HUP | EV_ERROR)) && client_hung_up(s)) {
            if (s->state == HTTP_ST_CONNECT || s->state == HTTP_ST_RESOLVE)
                snprintf(s->error, sizeof(s->error), "CONNECT(%s:%u)/connect cancelled", s->host,
                         s->port);
            log_client_cancel(s);
            session_close(s);
        }
        break;
    }
}

static void server_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct http_session *s = io->data;
    switch (s->state) {
    case HTTP_ST_CONNECT:
        on_connected(s);
        break;
    case HTTP_ST_FORWARD:
        forward_step(s);
        break;
    case HTTP_ST_RESPONSE:
        response_step(s);
        break;
    case HTTP_ST_SPOOL:
        spool_step(s);
        break;
    case HTTP_ST_RELAY:
        relay_step(s);
        break;
    case HTTP_ST_TUNNEL:
        tunnel_step(s);
        break;
    default:
        /* An idle kept connection (between requests, or while we scan or
         * reply): the server closing it, or sending anything unasked,
         * makes it unusable. */
        s->server_reusable = false;
        close_server(s);
        break;
    }
}

/* admit - acl_from (G-15: refused clients are closed at once, no banner,
 * status 000), then start reading the request. */
static void admit(struct http_session *s)
{
    if (s->cfg->acl_from) {
        const struct access_table *acl = s->w->res->acl;
        const char *name = strcmp(s->client_host, s->client_ip) ? s->client_host : NULL;
        if (!acl || !access_match(acl, "http_from", s->client_ip, name)) {
            svclog_info(&s->log, "Access Denied from [%s:%s]", s->client_ip, s->client_host);
            s->log_anyway = true;
            session_close(s);
            return;
        }
    }
    set_client_events(s, EV_READ);
}

static void on_client_name(void *arg, const char *name)
{
    struct http_session *s = arg;
    s->dnsq = NULL;
    if (name && *name)
        str_copy(s->client_host, sizeof(s->client_host), name);
    else
        svclog_info(&s->log, "reverselookup: gethostbyaddr(%s) failed. herror=Unknown host(1).",
                    s->client_ip);
    admit(s);
}

static void http_session_start(struct proxy_worker *w, int fd, const struct sockaddr_storage *peer,
                               int slot)
{
    struct http_session *s = calloc(1, sizeof(*s));
    if (!s || buf_alloc_storage(&s->in, REQ_BUF_INITIAL) < 0) {
        free(s);
        close(fd);
        proxy_worker_session_end(w, slot);
        return;
    }
    s->w = w;
    s->cfg = w->cfg;
    s->slot = slot;
    s->cfd = fd;
    s->sfd = -1;
    s->spool_fd = -1;
    s->upload_fd = -1;
    http_tunnel_dir_init(&s->up_dir);
    http_tunnel_dir_init(&s->down_dir);
    start_clock(s);
    sock_addr_text((const struct sockaddr *)peer, s->client_ip, sizeof(s->client_ip),
                   &s->client_port);
    sock_local_text(fd, s->local_ip, sizeof(s->local_ip), &s->local_port);
    s->log = (struct svclog_ctx){.listen_port = w->listen_port,
                                 .internal_id = slot,
                                 .client_ip = s->client_ip,
                                 .client_host = s->client_ip,
                                 .client_port = s->client_port};
    http1_request_init(&s->req, REQ_BUF_MAX);
    ev_io_init(&s->cio, fd, client_io, s);
    ev_timer_init(&s->idle, on_idle, s);
    ev_timer_init(&s->trickle_timer, on_trickle_timer, s);
    ev_timer_init(&s->progress_timer, on_progress_timer, s);
    ev_timer_init(&s->connect_timer, on_connect_timeout, s);
    ev_timer_init(&s->head_timer, on_head_timeout, s);
    http_inactivity_init(&s->inactivity, w->cfg->timeout_inactive ? w->cfg->inactive_timeout : 0,
                         on_inactive, s);
    http_inactivity_start(&s->inactivity, w->loop);
    s->link.on_stop = on_worker_stop;
    proxy_worker_link(w, &s->link);
    s->state = HTTP_ST_REQUEST;
    s->peer = *peer;
    str_copy(s->client_host, sizeof(s->client_host), s->client_ip);
    s->log.client_host = s->client_host;
    touch(s);
    if (w->cfg->reverselookup) {
        /* ACL-4 / LOG-2: host names need the client's PTR record; the
         * request waits in the socket until the answer (or failure). */
        s->dnsq = dns_reverse(w->dns, (const struct sockaddr *)&s->peer, on_client_name, s);
        return;
    }
    admit(s);
}

/* on_worker_stop - SIGTERM: a connection waiting for its next request
 * closes now; one in a transaction finishes it (request_done then closes
 * instead of keeping the connection). */
static void on_worker_stop(struct proxy_session_link *link)
{
    struct http_session *s = (struct http_session *)link;
    if (s->state == HTTP_ST_REQUEST && !s->have_req && buf_len(&s->in) == 0)
        session_close(s);
}

const struct proxy_proto http_proto = {
    .name = "http",
    .session_start = http_session_start,
    .busy_reply = "HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 40\r\nConnection: close\r\n\r\n"
                  "Too many connections from your address\r\n",
};
