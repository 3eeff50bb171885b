/* http_response - the server's response to a forwarded request.
 *
 * Reads and parses the response head (HTTP-8; an over-long head is cut,
 * C-01), decides whether the body is scanned (SCAN-1, the skip rules of
 * SCAN-4/SCAN-5), and then either spools the body for the scan (SPOOL:
 * in memory when small, else in tmpdir) or relays it to the client as it
 * arrives (RELAY), with back-pressure from the slower side. A kept
 * upstream connection that the server closed before answering is retried
 * once on a new one.
 */
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/sha256.h"
#include "lib/spoolfile.h"
#include "proto/http1_rewrite.h"
#include "proto/pass_rules.h"
#include "proxy/http/http_decode.h"

/* ---- spool files -------------------------------------------------------- */

void http_spool_close(struct http_session *s)
{
    proxy_spool_close(&s->t.spool);
}

/* ---- response body ---------------------------------------------------- */

static bool spool_write(struct http_session *s, const char *p, size_t n)
{
    if (proxy_spool_write(&s->t.spool, p, n) < 0) {
        s->spool_errno = errno;
        svclog_error_errno(&s->ps.log, errno, "spool write failed in [%s]", s->ps.cfg->tmpdir);
        return false;
    }
    if (s->hashing && s->t.spool_len + n > VERDICT_CACHE_OBJECT_MAX) {
        s->hashing = false;
        sha256_release(&s->body_hash);
    }
    if (s->hashing)
        sha256_update(&s->body_hash, p, n);
    s->t.spool_len += n;
    return true;
}

/* consume_body - take body bytes from resp: into the spool (SPOOL) or
 * into out (RELAY). Returns 1 when the body is complete, 0 for more,
 * -1 on a framing or spool error. */
static int consume_body(struct http_session *s)
{
    while (buf_len(&s->t.resp) > 0) {
        struct str data = STR_NULL;
        size_t used;
        if (s->body_kind == HTTP1_BODY_CHUNKED) {
            size_t avail = buf_len(&s->t.resp);
            if (s->state == HTTP_ST_RELAY) {
                buf_compact(&s->t.out);
                if (avail > buf_space(&s->t.out))
                    avail = buf_space(&s->t.out); /* decoded data never exceeds its input */
                if (avail == 0)
                    return 0;
            }
            enum http1_result r =
                http1_chunked_decode(&s->chunk, buf_rptr(&s->t.resp), avail, &used, &data);
            if (r == HTTP1_INVALID || r == HTTP1_TOO_LONG)
                return -1;
            buf_consume(&s->t.resp, used);
            if (data.len) {
                if (s->state == HTTP_ST_SPOOL ? !spool_write(s, data.ptr, data.len)
                                              : !buf_append_str(&s->t.out, data))
                    return -1;
                if (s->state != HTTP_ST_SPOOL)
                    s->t.relayed += data.len;
            }
            if (r == HTTP1_DONE)
                return 1;
            continue;
        }
        size_t take = buf_len(&s->t.resp);
        if (s->body_kind == HTTP1_BODY_LENGTH && take > s->t.body_left)
            take = (size_t)s->t.body_left;
        if (s->state == HTTP_ST_SPOOL) {
            if (!spool_write(s, buf_rptr(&s->t.resp), take))
                return -1;
        } else {
            size_t room = buf_space(&s->t.out);
            if (room == 0) {
                buf_compact(&s->t.out);
                room = buf_space(&s->t.out);
            }
            if (take > room)
                take = room;
            if (take == 0)
                return 0;
            buf_append(&s->t.out, buf_rptr(&s->t.resp), take);
            s->t.relayed += take;
        }
        buf_consume(&s->t.resp, take);
        if (s->body_kind == HTTP1_BODY_LENGTH) {
            s->t.body_left -= take;
            if (s->t.body_left == 0)
                return 1;
        }
    }
    if (s->body_kind == HTTP1_BODY_LENGTH && s->t.body_left == 0)
        return 1;
    return 0;
}

static void log_server_close(struct http_session *s)
{
    svclog_info(&s->ps.log,
                "is_server_alivesocket: select(s=%d):ret=1,cur_pid=%d: Server closed connection "
                "while transaction. There may be timeout on the server because of no traffic. "
                "(elapsed=%" PRIu64 "ms)",
                s->ps.server.fd, (int)getpid(), http_elapsed_ms(s));
}

/* read_server - read what the server sent into resp; returns bytes read,
 * 0 on EOF, -1 on would-block, -2 on error. */
static ssize_t read_server(struct http_session *s)
{
    if (buf_space(&s->t.resp) == 0)
        buf_compact(&s->t.resp);
    if (buf_space(&s->t.resp) == 0)
        return -1;
    ssize_t n = recv(s->ps.server.fd, buf_wptr(&s->t.resp), buf_space(&s->t.resp), 0);
    if (n > 0) {
        buf_produce(&s->t.resp, (size_t)n);
        http_moved(s);
        return n;
    }
    if (n == 0)
        return 0;
    return (errno == EAGAIN || errno == EINTR) ? -1 : -2;
}

void http_spool_step(struct http_session *s)
{
    for (;;) {
        int done = consume_body(s);
        if (done < 0) {
            /* A spool that cannot be written is a temporary failure of ours,
             * never a reason to pass the body unscanned. */
            if (s->spool_errno)
                http_reply_error(s, 503, "Temporary failure: cannot write the spool file");
            else
                http_reply_error(s, 502, "Invalid response body from the server");
            return;
        }
        if (http_filesize_blocks(s, s->t.spool_len)) {
            http_filesize_stop_download(s); /* G-13: the rest is not spooled */
            return;
        }
        if (done == 1) {
            s->server_reusable =
                s->t.client_wants_ka && buf_len(&s->t.resp) == 0 && http_server_supports_ka(s);
            http_start_scan(s);
            return;
        }
        if (s->ps.cfg->pass_filesize && s->t.spool_len >= s->ps.cfg->pass_filesize_len &&
            !s->t.trickling && !s->progress) {
            /* (With the progress page the client takes the file from the
             * spool, so all of it is spooled, and then all of it scanned.) */
            /* SCAN-4: scan what is spooled; the rest will not be scanned. */
            s->t.over_filesize = true;
            s->t.o.details |= ACCESSLOG_DETAIL_OVER_FILESIZE;
            http_start_scan(s);
            return;
        }
        if (s->t.trickling)
            http_trickle_send(s);
        ssize_t n = read_server(s);
        if (n == -1)
            return;
        if (n == 0 && s->body_kind == HTTP1_BODY_UNTIL_CLOSE) {
            http_start_scan(s);
            return;
        }
        if (n <= 0) {
            log_server_close(s);
            http_reply_error(s, 502, "Server closed connection while transaction");
            return;
        }
    }
}

void http_relay_step(struct http_session *s)
{
    bool failed = false;
    for (;;) {
        /* The body bytes already read join what is queued (the head, on
         * the first turn) before the flush: one send for both. */
        if (!s->t.relay_done) {
            int done = consume_body(s);
            if (done < 0) {
                http_session_close(s); /* headers are out: all we can do is cut (G-02) */
                return;
            }
            if (s->t.filesize_tail && http_filesize_blocks(s, s->t.spool_len + s->t.relayed)) {
                http_filesize_stop_download(s); /* G-13: the queued bytes never go out */
                return;
            }
            if (done == 1) {
                s->t.relay_done = true;
                s->server_reusable = s->t.keep_client && buf_len(&s->t.resp) == 0;
                if (!s->server_reusable)
                    http_close_server(s);
            }
        }
        if (!http_flush_out(s, &failed)) {
            if (failed) {
                http_log_client_cancel(s);
                http_session_close(s);
                return;
            }
            http_set_client_events(s, EV_WRITE);
            http_set_server_events(s, 0); /* back-pressure: the client is slower */
            return;
        }
        if (s->t.relay_done) {
            http_request_done(s);
            return;
        }
        if (buf_len(&s->t.resp) > 0)
            continue; /* more than the queue held: consume and flush again */
        ssize_t n = read_server(s);
        if (n == -1) {
            http_set_client_events(s, 0);
            http_set_server_events(s, EV_READ);
            return;
        }
        if (n == 0 && s->body_kind == HTTP1_BODY_UNTIL_CLOSE) {
            s->t.relay_done = true;
            continue;
        }
        if (n <= 0) {
            log_server_close(s);
            http_session_close(s);
            return;
        }
    }
}

/* http_skip_reason - SCAN-4/SCAN-5: the PROXY-STAT detail of a skip rule that
 * exempts this response from scanning, or 0. */
unsigned http_skip_reason(const struct http_session *s)
{
    const struct config *cfg = s->ps.cfg;
    struct str ua = STR_NULL;
    size_t iter = 0;
    http1_fields_find(http1_request_fields(&s->t.req, s->in.data), "User-Agent", &iter, &ua);
    if (pass_rules_builtin_user_agent(ua) ||
        (cfg->pass_user_agent && pass_rules_user_agent(ua, cfg->pass_user_agent_list.items,
                                                       cfg->pass_user_agent_list.count)))
        return ACCESSLOG_DETAIL_PASS_USER_AGENT;
    if (cfg->acl_pass_to && s->ps.w->res->acl &&
        access_match(s->ps.w->res->acl, "http_pass_to", s->ps.server.ip,
                     s->url.host.len ? s->host : NULL))
        return ACCESSLOG_DETAIL_PASS_TO;
    if (cfg->pass_ext && pass_rules_extension(pass_rules_url_filename(s->url.path),
                                              cfg->pass_ext_list.items, cfg->pass_ext_list.count))
        return ACCESSLOG_DETAIL_PASS_EXT;
    return 0;
}

static bool should_scan(struct http_session *s)
{
    if (!s->ps.cfg->virus_check)
        return false;
    /* SCAN-1 names GET, POST and PUT; every response that has content is
     * scanned whatever the method (issue 10 item 10: OPTIONS, DELETE,
     * PROPFIND or an invented method carried malware past the scanner).
     * What has no content is decided by the framing: HEAD, 1xx, 204, 304
     * are NONE and a 2xx to CONNECT is TUNNEL (RFC 9112 6.3 rules 1-2). */
    if (s->body_kind != HTTP1_BODY_LENGTH && s->body_kind != HTTP1_BODY_CHUNKED &&
        s->body_kind != HTTP1_BODY_UNTIL_CLOSE)
        return false;
    unsigned skip = http_skip_reason(s);
    s->t.o.details |= skip;
    return skip == 0;
}

static void got_response_head(struct http_session *s)
{
    struct http1_fields f = http1_response_fields(&s->rsp, s->t.resp.data);
    struct str ct;
    size_t iter = 0;
    if (http1_fields_find(f, "Content-Type", &iter, &ct)) {
        struct str type, params;
        str_cut(ct, ';', &type, &params);
        str_copy_view(s->t.o.content_type, sizeof(s->t.o.content_type), str_trim(type));
    }
    s->body_kind =
        http1_response_body_kind(&s->rsp, s->t.resp.data, s->t.req.method, &s->t.body_left);
    if (s->body_kind == HTTP1_BODY_INVALID) {
        http_reply_error(s, 502, "Invalid response framing from the server");
        return;
    }
    if (s->body_kind == HTTP1_BODY_CHUNKED)
        http1_chunked_init(&s->chunk);
    s->t.status = s->rsp.status;
    s->scan_encoding = http_decode_scan_encoding(f);
    if (should_scan(s) && !(s->body_kind == HTTP1_BODY_LENGTH && s->t.body_left == 0)) {
        if (s->rsp.status == 206) {
            /* Item 9 of issue 10: a part cannot be scanned as the whole
             * the client assembles; we never asked for one. */
            http_reply_error(s, 502, "Partial content from the server cannot be scanned");
            return;
        }
        if (s->body_kind == HTTP1_BODY_LENGTH && http_filesize_blocks(s, s->t.body_left)) {
            http_filesize_stop_download(s); /* G-13: before any body byte */
            return;
        }
        proxy_spool_open(&s->t.spool, s->ps.w,
                         s->body_kind == HTTP1_BODY_LENGTH ? s->t.body_left : 0);
        if (s->t.spool.fd < 0) {
            svclog_error_errno(&s->ps.log, errno, "cannot create a spool file in [%s]",
                               s->ps.cfg->tmpdir);
            http_reply_error(s, 503, "Temporary failure: cannot create a spool file");
            return;
        }
        /* Keep the head in resp (http_deliver_spool rewrites it); body bytes go
         * to the spool from head_len on. */
        s->t.head_copy = malloc(s->rsp.head_len);
        if (!s->t.head_copy) {
            http_reply_error(s, 503, "Temporary failure: out of memory");
            return;
        }
        memcpy(s->t.head_copy, s->t.resp.data, s->rsp.head_len);
        s->t.resp.rpos = s->rsp.head_len;
        s->state = HTTP_ST_SPOOL;
        s->hashing = s->ps.cfg->verdict_cache && (s->body_kind != HTTP1_BODY_LENGTH ||
                                                  s->t.body_left <= VERDICT_CACHE_OBJECT_MAX);
        if (s->hashing && sha256_init(&s->body_hash) < 0)
            s->hashing = false; /* no key: the body is scanned, not looked up */
        s->t.progress_ok = http_progress_wanted(s);
        if (s->t.progress_ok)
            ev_timer_start(s->ps.w->loop, &s->progress_timer,
                           (uint64_t)s->ps.cfg->progress_delay * 1000u);
        else if (s->ps.cfg->trickle > 0 && s->t.req.method != HTTP1_METHOD_HEAD)
            ev_timer_start(s->ps.w->loop, &s->trickle_timer, (uint64_t)s->ps.cfg->trickle * 1000u);
        http_set_server_events(s, EV_READ);
        http_set_client_events(s, EV_READ);
        http_spool_step(s);
        return;
    }
    /* Not scanned: the head now, the body as it arrives. Keep-alive only
     * when the client can tell where the body ends (HTTP-20 b). */
    s->t.keep_client = s->t.client_wants_ka && http_server_supports_ka(s) &&
                       (s->body_kind == HTTP1_BODY_LENGTH || s->body_kind == HTTP1_BODY_NONE);
    struct http1_rewrite_response_opts o = {
        .keep_alive = s->t.keep_client,
        .proxy_support = !s->via_parent && !s->ps.cfg->transparent,
        .has_length = s->body_kind == HTTP1_BODY_LENGTH,
        .length = s->t.body_left,
        /* De-chunked or close-delimited bodies lose their framing headers;
         * bodiless responses (HEAD, 204, 304) keep the origin's. */
        .drop_length = s->body_kind == HTTP1_BODY_CHUNKED || s->body_kind == HTTP1_BODY_UNTIL_CLOSE,
    };
    if (buf_alloc_storage(&s->t.out, RESP_BUF_SIZE) < 0 ||
        !http1_rewrite_response(&s->t.out, &s->rsp, s->t.resp.data, &o)) {
        http_reply_error(s, 502, "Response header too large to forward");
        return;
    }
    /* The head stays at the front of resp's storage: body bytes after it
     * are consumed from head_len; compacting later discards the head,
     * which is no longer needed once it is rewritten into out. */
    s->t.resp.rpos = s->rsp.head_len;
    s->state = HTTP_ST_RELAY;
    s->t.relay_done = s->body_kind == HTTP1_BODY_NONE ||
                      (s->body_kind == HTTP1_BODY_LENGTH && s->t.body_left == 0);
    if (s->t.relay_done) {
        s->server_reusable = s->t.keep_client && buf_len(&s->t.resp) == 0;
        if (!s->server_reusable)
            http_close_server(s);
    }
    http_relay_step(s);
}

/* http_retry_fresh - a kept upstream connection was closed by the server before
 * it answered (it may time idle connections out at any moment): send the
 * request again on a new connection, once, if it had no body. */
bool http_retry_fresh(struct http_session *s)
{
    if (!s->t.upstream_reused || s->t.in_used != s->t.req.head_len || buf_len(&s->t.resp) > 0)
        return false;
    http_close_server(s);
    s->no_reuse = true;
    http_start_upstream(s);
    return true;
}

/* skip_oversized_head - C-01: keep the header lines that fit in the limit,
 * drop the rest of the head. Bytes after parsed_len in resp are head bytes
 * to discard until the blank line; the body then starts at parsed_len. */
static enum http1_result skip_oversized_head(struct http_session *s)
{
    size_t keep = s->rsp.parsed_len, consumed;
    enum http1_result r =
        http1_skip_head(&s->skip, s->t.resp.data + keep, s->t.resp.wpos - keep, &consumed);
    if (r == HTTP1_DONE) {
        size_t body = s->t.resp.wpos - keep - consumed;
        memmove(s->t.resp.data + keep, s->t.resp.data + keep + consumed, body);
        s->t.resp.wpos = keep + body;
        s->rsp.head_len = keep;
        s->skipping_head = false;
    } else {
        s->t.resp.wpos = keep; /* all of it was head: make room for more */
    }
    return r;
}

void http_response_step(struct http_session *s)
{
    for (;;) {
        /* Parse what is buffered first: an interim 1xx head may have come
         * with the final head in the same read. */
        enum http1_result r = HTTP1_AGAIN;
        if (s->skipping_head)
            r = skip_oversized_head(s);
        else if (s->t.resp.wpos > 0)
            r = http1_parse_response(&s->rsp, s->t.resp.data, s->t.resp.wpos);
        if (r == HTTP1_AGAIN) {
            ssize_t n = read_server(s);
            if (n == -1)
                return;
            if (n <= 0 && http_retry_fresh(s))
                return;
            if (n <= 0) {
                log_server_close(s);
                http_reply_error(s, 502, "Server closed connection without a response");
                return;
            }
            continue;
        }
        if (r == HTTP1_TOO_LONG && !s->skipping_head) {
            char url[HTTP1_URL_MAX + 1];
            http_url_text(s, url, sizeof(url));
            svclog_error(&s->ps.log, "Too large header (>%d) ignored. URL=[%s]",
                         HTTP1_RESPONSE_HEAD_MAX, url);
            if (s->rsp.parsed_len == 0) {
                http_reply_error(s, 502, "get_response_header: Too Large Header");
                return;
            }
            s->skipping_head = true;
            http1_skip_init(&s->skip);
            continue;
        }
        if (r == HTTP1_INVALID || r == HTTP1_TOO_LONG) {
            http_reply_error(s, 502, http1_error_message(s->rsp.error));
            return;
        }
        if (s->rsp.status < 200) {
            /* 1xx interim responses are not relayed to HTTP/1.0 clients. */
            buf_consume(&s->t.resp, s->rsp.head_len);
            buf_compact(&s->t.resp);
            http1_response_init(&s->rsp, HTTP1_RESPONSE_HEAD_MAX);
            continue;
        }
        s->t.have_rsp = true;
        got_response_head(s);
        return;
    }
}
