/* http_upload - request bodies spooled before the server is contacted.
 *
 * A chunked body (G-35) is de-chunked into a spool file and forwarded
 * with a Content-Length; with virus_check_post a POST or PUT body is
 * spooled and scanned first (HTTP-11, G-18), and an infected one is never
 * forwarded. Other request bodies are relayed while forwarding
 * (http_upstream.c).
 */
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/spoolfile.h"
#include "proxy/proxy_scan.h"

/* ---- request bodies spooled before forwarding (G-35, HTTP-11) -------- */

static void on_upload_scanned(void *arg, const struct scanreq_reply *rep);

/* upload_take - move body bytes from p into the upload spool, decoding
 * chunked framing. Returns bytes of p consumed, or -1 on a framing or
 * spool error; sets *done when the body is complete. */
static ssize_t upload_take(struct http_session *s, const char *p, size_t n, bool *done)
{
    size_t used = 0;
    while (used < n && !*done) {
        if (s->t.upload_chunked) {
            size_t c;
            struct str data = STR_NULL;
            enum http1_result r =
                http1_chunked_decode(&s->req_chunk, p + used, n - used, &c, &data);
            if (r == HTTP1_INVALID || r == HTTP1_TOO_LONG)
                return -1;
            used += c;
            if (data.len) {
                if (write(s->t.upload_fd, data.ptr, data.len) != (ssize_t)data.len)
                    return -1;
                s->t.upload_len += data.len;
            }
            if (r == HTTP1_DONE)
                *done = true;
            continue;
        }
        size_t take = n - used;
        if (take > s->t.upload_left)
            take = (size_t)s->t.upload_left;
        if (take && write(s->t.upload_fd, p + used, take) != (ssize_t)take)
            return -1;
        used += take;
        s->t.upload_len += take;
        s->t.upload_left -= take;
        if (s->t.upload_left == 0)
            *done = true;
    }
    return (ssize_t)used;
}

static void upload_complete(struct http_session *s)
{
    /* HTTP-12: Internet Explorer sends an extra CRLF after a POST body. */
    if (s->t.req.method == HTTP1_METHOD_POST && s->in.wpos - s->t.in_used >= 2 &&
        memcmp(s->in.data + s->t.in_used, "\r\n", 2) == 0) {
        s->t.in_used += 2;
        svclog_info(&s->ps.log, "read extra CRLF for POST method");
    }
    if (!s->t.upload_scan) {
        http_start_upstream(s);
        return;
    }
    s->state = HTTP_ST_UPLOAD_SCAN;
    http_touch(s);
    http_set_client_events(s, EV_READ);
    char url[HTTP1_URL_MAX + 1];
    http_url_text(s, url, sizeof(url));
    const char *file = strrchr(url, '/');
    s->scan = proxy_scan_start(s->ps.w->scan_pool, s->ps.cfg, SCANREQ_SVC_HTTP, s->t.upload_fd,
                               file ? file + 1 : url, NULL, &s->ps.log, on_upload_scanned, s);
}

void http_upload_step(struct http_session *s)
{
    char mem[65536];
    for (;;) {
        ssize_t n = recv(s->ps.client.fd, mem, sizeof(mem), 0);
        if (n == 0) {
            svclog_info(&s->ps.log, "file uploading is interrupted by client.");
            http_session_close(s);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            http_session_close(s);
            return;
        }
        http_moved(s);
        bool done = false;
        ssize_t used = upload_take(s, mem, (size_t)n, &done);
        if (used < 0) {
            http_reply_error(s, 400, "Invalid request body");
            return;
        }
        if (s->t.upload_scan && http_filesize_blocks(s, s->t.upload_len)) {
            http_reply_detection_page(s); /* G-13: the rest is not spooled */
            return;
        }
        if (done) {
            /* Bytes after the body (a pipelined request, IE's CRLF) are kept. */
            size_t rest = (size_t)n - (size_t)used;
            buf_compact(&s->in);
            s->in.wpos = s->t.in_used; /* the head stays; the body was taken from mem */
            if (rest && !buf_append(&s->in, mem + used, rest)) {
                http_reply_error(s, 400, "Request too large");
                return;
            }
            upload_complete(s);
            return;
        }
    }
}

void http_start_upload(struct http_session *s, uint64_t length)
{
    s->t.upload_fd = spoolfile_create(s->ps.cfg->tmpdir);
    if (s->t.upload_fd < 0) {
        svclog_error_errno(&s->ps.log, errno, "cannot create a spool file in [%s]",
                           s->ps.cfg->tmpdir);
        http_reply_error(s, 503, "Temporary failure: cannot create a spool file");
        return;
    }
    s->t.upload_left = length;
    if (s->t.upload_chunked)
        http1_chunked_init(&s->req_chunk);
    s->state = HTTP_ST_UPLOAD;
    http_touch(s);
    /* Body bytes that came with the head. */
    bool done = !s->t.upload_chunked && length == 0;
    ssize_t used =
        upload_take(s, s->in.data + s->t.req.head_len, s->in.wpos - s->t.req.head_len, &done);
    if (used < 0) {
        http_reply_error(s, 400, "Invalid request body");
        return;
    }
    if (s->t.upload_scan && http_filesize_blocks(s, s->t.upload_len)) {
        http_reply_detection_page(s);
        return;
    }
    s->t.in_used = s->t.req.head_len + (size_t)used;
    if (done) {
        upload_complete(s);
        return;
    }
    http_set_client_events(s, EV_READ);
}

static void on_upload_scanned_inner(void *arg, const struct scanreq_reply *rep)
{
    struct http_session *s = arg;
    if (!http_scan_accounted(s, rep))
        return;
    if (rep->verdict == SCANREQ_INFECTED) {
        http_handle_detection(s, rep, s->t.upload_fd);
        if (s->ps.cfg->action != CONFIG_ACTION_PASS) {
            /* HTTP-11 (PUT) and G-18 (POST): the upload is not forwarded. */
            http_reply_detection_page(s);
            return;
        }
    }
    http_start_upstream(s);
}

/* on_upload_scanned - runs inside the session core's enter/leave (proxy_session.h). */
static void on_upload_scanned(void *arg, const struct scanreq_reply *rep)
{
    struct http_session *s_ = arg;
    proxy_session_enter(&s_->ps);
    on_upload_scanned_inner(arg, rep);
    proxy_session_leave(&s_->ps);
}
