/* http_verdict - from a spooled body to the client's answer.
 *
 * Starts the scan of the spool (proxy_scan) and acts on sekisho-scand's
 * verdict: a detection is logged, quarantined and reported (notify_admin)
 * and answered with the detection page (G-02); a clean body is delivered
 * from the spool (with the client's range cut from it, item 9). While the
 * body is spooled and scanned, trickle (HTTP-13) passes its start on
 * slowly; block_filesize (G-13) turns an object into a detection by its
 * size alone. Uploads (http_upload.c) and ftp:// files (http_ftp.c) share
 * these answers.
 */
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <time.h>
#include <unistd.h>

#include "core/notify.h"
#include "core/template_vars.h"
#include "lib/sha256.h"
#include "lib/spoolfile.h"
#include "proto/http1_rewrite.h"
#include "proxy/proxy_detect.h"
#include "proxy/proxy_scan.h"
#include "proxy/http/http_decode.h"

/* ---- scanning result -------------------------------------------------- */

static void detection_vars(void *arg, struct template_vars *v, const char *url)
{
    http_template_vars(arg, v, "", url);
}

void http_handle_detection(struct http_session *s, const struct scanreq_reply *rep, int fd)
{
    /* HTTP's action is pass or delete (config_keys.def) */
    char url[HTTP1_URL_MAX + 1];
    http_url_text(s, url, sizeof(url));
    proxy_detect_object(&s->ps, &s->t.o, rep->name, NULL, fd, url, s->t.user, detection_vars, s);
}

/* original_length_opts - the framing of a response whose body is not all
 * spooled yet: the server's Content-Length when it gave one, else close-
 * delimited (then the connection cannot be kept). */
static void original_length_opts(struct http_session *s, struct http1_rewrite_response_opts *o)
{
    if (s->body_kind == HTTP1_BODY_LENGTH) {
        o->has_length = true;
        o->length = s->t.spool_len + s->t.body_left;
    } else {
        o->drop_length = true;
        s->t.keep_client = false;
    }
    o->keep_alive = s->t.keep_client;
}

/* send_early_head - the client gets the response head before the verdict
 * (trickle, or an over-filesize body). */
static bool send_early_head(struct http_session *s)
{
    s->t.keep_client = s->t.client_wants_ka && http_server_supports_ka(s);
    struct http1_rewrite_response_opts o = {
        .proxy_support = !s->via_parent && !s->ps.cfg->transparent,
    };
    original_length_opts(s, &o);
    buf_fini(&s->t.out);
    if (buf_alloc_storage(&s->t.out, RESP_BUF_SIZE) < 0 ||
        !http1_rewrite_response(&s->t.out, &s->rsp, s->t.head_copy, &o))
        return false;
    s->t.head_sent = true;
    s->t.status = s->rsp.status;
    s->t.spool_off = 0;
    return true;
}

/* http_trickle_send - HTTP-13 trickle: while the body is spooled and scanned,
 * pass it on at trickle_rate, always holding back the last trickle_tail
 * bytes, so the client's download does not time out and yet never gets a
 * complete infected file. */
void http_trickle_send(struct http_session *s)
{
    bool failed = false;
    if (!http_flush_out(s, &failed)) {
        if (failed) {
            http_log_client_cancel(s);
            http_session_close(s);
        } else {
            http_set_client_events(s, EV_READ | EV_WRITE);
        }
        return;
    }
    uint64_t tail = s->ps.cfg->trickle_tail;
    uint64_t limit = s->t.spool_len > tail ? s->t.spool_len - tail : 0;
    uint64_t elapsed = ev_now_ms(s->ps.w->loop) - s->trickle_start_ms;
    uint64_t by_rate = s->ps.cfg->trickle_rate * (elapsed + 1000) / 1000;
    if (limit > by_rate)
        limit = by_rate;
    while ((uint64_t)s->t.spool_off < limit) {
        ssize_t n = sendfile(s->ps.client.fd, s->t.spool.fd, &s->t.spool_off,
                             (size_t)(limit - (uint64_t)s->t.spool_off));
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                http_set_client_events(s, EV_READ | EV_WRITE);
                return;
            }
            if (n < 0) {
                http_log_client_cancel(s);
                http_session_close(s);
            }
            return;
        }
        s->t.bytes_out += (uint64_t)n;
        http_moved(s);
    }
    http_set_client_events(s, EV_READ);
}

static void http_on_trickle_timer_inner(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct http_session *s = t->data;
    if (s->state != HTTP_ST_SPOOL && s->state != HTTP_ST_SCAN)
        return;
    if (!s->t.trickling) {
        if (!send_early_head(s)) {
            http_reply_error(s, 502, "Response header too large to forward");
            return;
        }
        s->t.trickling = true;
        s->trickle_start_ms = ev_now_ms(s->ps.w->loop);
    }
    http_trickle_send(s);
    if (!proxy_session_done(&s->ps) && (s->state == HTTP_ST_SPOOL || s->state == HTTP_ST_SCAN))
        ev_timer_start(s->ps.w->loop, &s->trickle_timer, 200);
}

/* http_on_trickle_timer - runs inside the session core's enter/leave (proxy_session.h). */
void http_on_trickle_timer(struct ev_loop *loop, struct ev_timer *t)
{
    struct http_session *s_ = t->data;
    proxy_session_enter(&s_->ps);
    http_on_trickle_timer_inner(loop, t);
    proxy_session_leave(&s_->ps);
}

void http_deliver_spool(struct http_session *s)
{
    ev_timer_stop(s->ps.w->loop, &s->trickle_timer);
    if (s->ftp) {
        if (!http_ftp_answer_head(s, STR_LIT("application/octet-stream"), s->t.spool_len, 0)) {
            http_reply_error(s, 500, "Temporary failure: out of memory");
            return;
        }
        s->t.send_spool = s->t.req.method != HTTP1_METHOD_HEAD;
        s->t.spool_off = 0;
        http_start_reply(s);
        return;
    }
    if (s->t.over_filesize && !s->t.head_sent && !send_early_head(s)) {
        http_reply_error(s, 502, "Response header too large to forward");
        return;
    }
    if (s->t.head_sent) {
        /* Trickled or over-filesize: the head is out; the rest follows. */
        s->t.send_spool = s->t.req.method != HTTP1_METHOD_HEAD;
        http_start_reply(s);
        return;
    }
    /* HTTP-20: the verdict is not a detection page here, so it depends on
     * client and server, and (b, C-33) on the server having said how long
     * the body is: we know the length of the spool, but the documented
     * condition is the server's Content-Length, and a server that frames
     * by closing is not one to stay connected through. */
    s->t.keep_client =
        s->t.client_wants_ka && http_server_supports_ka(s) && s->body_kind == HTTP1_BODY_LENGTH;
    struct http1_rewrite_response_opts o = {
        .use_http11 = false,
        .keep_alive = s->t.keep_client,
        .proxy_support = !s->via_parent && !s->ps.cfg->transparent,
        .has_length = true,
        .length = s->t.spool_len,
    };
    uint64_t first = 0;
    if (s->range_stripped && s->rsp.status == 200 &&
        http_decode_range(http1_request_fields(&s->t.req, s->in.data), s->t.spool_len, &first,
                          &o.range_last)) {
        /* Item 9: the client's one range, cut from the scanned whole. */
        o.partial = true;
        o.range_first = first;
        o.range_total = s->t.spool_len;
        o.length = o.range_last - first + 1;
    }
    buf_fini(&s->t.out);
    if (buf_alloc_storage(&s->t.out, RESP_BUF_SIZE) < 0 ||
        !http1_rewrite_response(&s->t.out, &s->rsp, s->t.head_copy, &o)) {
        http_reply_error(s, 502, "Response header too large to forward");
        return;
    }
    s->t.status = o.partial ? 206 : s->rsp.status;
    s->t.send_spool = s->t.req.method != HTTP1_METHOD_HEAD;
    s->t.spool_off = (off_t)first;
    if (o.partial)
        s->t.spool_len = o.range_last + 1; /* where sending stops */
    http_start_reply(s);
}

/* http_scan_accounted - the part of a verdict common to downloads and uploads:
 * PROXY-STAT bookkeeping (checks and scan time of the request, upload
 * included) and, on a scanner failure, the error line and with
 * scan_error_action=tempfail the 503. Returns false when the session has
 * been answered. */
bool http_scan_accounted(struct http_session *s, const struct scanreq_reply *rep)
{
    s->scan = NULL;
    s->t.o.checks++;
    s->t.o.scan_ms += rep->scan_us / 1000u;
    s->t.o.details |=
        rep->details & (SCANREQ_VSD_ENCRYPTED | SCANREQ_VSD_MAXNESTED | SCANREQ_VSD_SCANTIMEOUT);
    if (rep->details & SCANREQ_VSD_UNDECODED)
        s->t.o.details |= ACCESSLOG_DETAIL_VSD_UNDECODED;
    if (rep->details & SCANREQ_VSD_OVERSIZE)
        s->t.o.details |= ACCESSLOG_DETAIL_OVER_SCANLIMIT;
    if (rep->verdict != SCANREQ_ERROR)
        return true;
    char url[HTTP1_URL_MAX + 1];
    http_url_text(s, url, sizeof(url));
    svclog_error(&s->ps.log, "virus scan failed: %s URL=[%s] scan_error_action=%s", rep->error, url,
                 config_scan_error_action_name(s->ps.cfg->scan_error_action));
    if (s->ps.cfg->scan_error_action != CONFIG_SCAN_ERROR_ACTION_TEMPFAIL)
        return true;
    char msg[SCANREQ_ERROR_MAX + 64];
    snprintf(msg, sizeof(msg), "Virus scan failed (%s). Please try again later.", rep->error);
    http_reply_error(s, 503, msg);
    return false;
}

/* http_reply_detection_page - G-02 / HTTP-11: 403 with the detection page,
 * Connection: close (HTTP-20 d); nothing of the scanned body goes out. */
void http_reply_detection_page(struct http_session *s)
{
    s->t.keep_client = false;
    s->server_reusable = false;
    http_queue_page(s, s->ps.w->res->tpl_detect, 403, NULL);
    s->t.send_spool = false;
    http_start_reply(s);
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

static bool filesize_over(const struct http_session *s, uint64_t size)
{
    return s->ps.cfg->block_filesize && size > s->ps.cfg->block_filesize_len;
}

static void filesize_reply(struct scanreq_reply *rep)
{
    *rep = (struct scanreq_reply){.type = SCANREQ_T_SCAN, .verdict = SCANREQ_INFECTED};
    str_copy(rep->name, sizeof(rep->name), "SEKISHO/POLICY_BLOCK_FILESIZE");
}

/* http_filesize_blocks - the object is size bytes so far: when that is over the
 * limit, record the detection (once: logs, detect.log, notify_admin) and
 * say whether the action stops the object. */
bool http_filesize_blocks(struct http_session *s, uint64_t size)
{
    if (!filesize_over(s, size))
        return false;
    if (!s->t.filesize_hit) {
        struct scanreq_reply rep;
        filesize_reply(&rep);
        s->t.filesize_hit = true;
        http_handle_detection(s, &rep, -1);
    }
    return s->ps.cfg->action != CONFIG_ACTION_PASS;
}

/* http_filesize_stop_download - a blocked download: the answer on_scanned
 * gives a detection, and the server connection goes (its rest unread). */
void http_filesize_stop_download(struct http_session *s)
{
    http_abandon_waits(s);
    s->server_reusable = false;
    http_close_server(s);
    if (s->progress) {
        struct scanreq_reply rep;
        filesize_reply(&rep);
        http_progress_verdict(s, &rep);
        return;
    }
    if (s->t.head_sent) {
        svclog_info(&s->ps.log,
                    "block_filesize: connection cut after %" PRIu64 " bytes, the download is "
                    "larger than %" PRIu64 " bytes",
                    s->t.bytes_out, s->ps.cfg->block_filesize_len);
        http_session_close(s);
        return;
    }
    http_reply_detection_page(s);
}

static void on_scanned_inner(void *arg, const struct scanreq_reply *rep)
{
    struct http_session *s = arg;
    if (!http_scan_accounted(s, rep))
        return;
    if (rep->verdict == SCANREQ_INFECTED)
        http_handle_detection(s, rep, s->t.spool.fd);
    if (s->progress) {
        http_progress_verdict(s, rep);
        return;
    }
    if (rep->verdict == SCANREQ_INFECTED) {
        if (s->ps.cfg->action != CONFIG_ACTION_PASS && s->t.head_sent) {
            /* G-02: the head is out (trickle): cut the connection, so the
             * client never gets a complete infected file. */
            svclog_info(&s->ps.log,
                        "trickle: connection cut after %" PRIu64 " of %" PRIu64
                        " bytes, the download is infected",
                        (uint64_t)s->t.spool_off, s->t.spool_len);
            s->t.over_filesize = false;
            http_session_close(s);
            return;
        }
        if (s->ps.cfg->action != CONFIG_ACTION_PASS) {
            http_reply_detection_page(s);
            return;
        }
    }
    http_deliver_spool(s);
}

/* on_scanned - runs inside the session core's enter/leave (proxy_session.h). */
static void on_scanned(void *arg, const struct scanreq_reply *rep)
{
    struct http_session *s_ = arg;
    proxy_session_enter(&s_->ps);
    on_scanned_inner(arg, rep);
    proxy_session_leave(&s_->ps);
}

void http_start_scan(struct http_session *s)
{
    s->state = HTTP_ST_SCAN;
    http_touch(s); /* the scan's own limit times it (waits_with_own_bound) */
    if (s->t.over_filesize)
        http_set_server_events(s, 0); /* read the rest after the verdict */
    else if (s->server_reusable)
        http_set_server_events(s, 0);
    else
        http_close_server(s);
    /* While scanning, only a client hang-up is of interest. */
    http_set_client_events(s, EV_READ);
    char url[HTTP1_URL_MAX + 1];
    http_url_text(s, url, sizeof(url));
    const char *file = strrchr(url, '/');
    uint8_t digest[SHA256_DIGEST_LEN];
    bool whole =
        s->hashing && !s->t.over_filesize && !s->ftp && sha256_final(&s->body_hash, digest) == 0;
    sha256_release(&s->body_hash);
    s->hashing = false;
    s->scan = proxy_scan_start_coded(s->ps.w->scan_pool, s->ps.cfg, SCANREQ_SVC_HTTP, s->t.spool.fd,
                                     s->ftp ? 0 : s->scan_encoding, file ? file + 1 : url,
                                     whole ? digest : NULL, &s->ps.log, on_scanned, s);
}
