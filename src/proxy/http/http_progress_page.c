/* http_progress_page - the download-progress page of a session (HTTP-13
 * `progress`).
 *
 * Which downloads get the page, the page itself, publishing the state of
 * a download that goes on without its client, and serving a published
 * state or scanned body to a later request, which may reach any worker.
 * The files behind it are http_progress.c's, which knows nothing of the
 * session; this is the session's side. See docs/internals/http-progress.md.
 */
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/http1_rewrite.h"
#include "proto/pass_rules.h"
#include "proxy/http/http_progress.h"

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

/* http_progress_wanted - HTTP-13: a browser's GET of a document to save. */
bool http_progress_wanted(const struct http_session *s)
{
    if (!s->ps.cfg->progress || !s->ps.w->res->tpl_progress ||
        s->t.req.method != HTTP1_METHOD_GET || s->http09 || s->rsp.status != 200)
        return false;
    struct http1_fields f = http1_request_fields(&s->t.req, s->in.data);
    struct str v;
    size_t iter = 0;
    if (!http1_fields_find(f, "User-Agent", &iter, &v) || !str_has_prefix(v, STR_LIT("Mozilla/")))
        return false;
    iter = 0;
    if (http1_fields_find(f, "Sec-Fetch-Dest", &iter, &v) &&
        !str_caseeq_cstr(str_trim(v), "document"))
        return false; /* an image, script, frame... of a page */
    struct str ct = str_from_cstr(s->t.o.content_type);
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
    r->received = s->t.spool_len;
    r->expected = s->body_kind == HTTP1_BODY_LENGTH ? s->t.spool_len + s->t.body_left : 0;
    r->started = (int64_t)s->t.o.start_rt.tv_sec;
    http_url_text(s, r->url, sizeof(r->url));
    str_copy(r->content_type, sizeof(r->content_type), s->t.o.content_type);
}

static void progress_publish(struct http_session *s, const struct progress_record *r)
{
    char dir[4096];
    if (!http_progress_dir(s->ps.cfg->tmpdir, dir, sizeof(dir)) ||
        http_progress_write(dir, s->progress_token, r) < 0)
        svclog_error_errno(&s->ps.log, errno,
                           "progress: cannot publish the state of URL=[%s] in [%s]", r->url, dir);
}

/* http_progress_end - the final state; the session closes after it. */
void http_progress_end(struct http_session *s, enum progress_state st, const char *detect,
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
    http_queue_page_vars(s, s->ps.w->res->tpl_progress, 200, NULL, r->url, vars,
                         sizeof(vars) / sizeof(vars[0]), STR_LIT("Cache-Control: no-store\r\n"));
}

/* progress_start - the download is slow: publish it, give the browser the
 * page, and go on without the client. */
static void progress_start(struct http_session *s)
{
    char dir[4096];
    if (http_progress_new_token(s->progress_token) < 0 ||
        !http_progress_dir(s->ps.cfg->tmpdir, dir, sizeof(dir))) {
        s->t.progress_ok = false;
        return;
    }
    http_progress_sweep(dir);
    int fd = http_progress_take_spool(dir, s->progress_token, s->t.spool.fd);
    if (fd < 0) {
        svclog_error_errno(&s->ps.log, errno, "progress: cannot move the download to [%s]", dir);
        s->t.progress_ok = false;
        return;
    }
    http_spool_close(s);
    s->t.spool.fd = fd;
    struct progress_record r;
    progress_record_of(s, s->state == HTTP_ST_SPOOL ? PROGRESS_DOWNLOADING : PROGRESS_SCANNING, &r);
    progress_publish(s, &r);
    progress_page(s, &r, s->progress_token);
    /* The page is a few KiB on a connection that has sent nothing yet: it
     * fits the socket buffer, so it goes out now and the client is let go. */
    bool failed = false;
    if (!http_flush_out(s, &failed))
        svclog_info(&s->ps.log, "progress: the page for URL=[%s] did not fit the socket", r.url);
    buf_fini(&s->t.out);
    ev_io_stop(s->ps.w->loop, &s->ps.client.io);
    close(s->ps.client.fd);
    s->ps.client.fd = -1;
    s->progress = true;
    s->t.keep_client = s->t.client_wants_ka = false;
    s->server_reusable = false;
    svclog_info(&s->ps.log, "progress: page sent, URL=[%s] continues in the background as %s",
                r.url, s->progress_token);
}

static void http_on_progress_timer_inner(struct ev_loop *loop, struct ev_timer *t)
{
    struct http_session *s = t->data;
    bool busy = s->state == HTTP_ST_SPOOL || (s->state == HTTP_ST_SCAN && !s->t.over_filesize);
    if (proxy_session_done(&s->ps) || !busy || s->t.head_sent)
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

/* http_on_progress_timer - runs inside the session core's enter/leave (proxy_session.h). */
void http_on_progress_timer(struct ev_loop *loop, struct ev_timer *t)
{
    struct http_session *s_ = t->data;
    proxy_session_enter(&s_->ps);
    http_on_progress_timer_inner(loop, t);
    proxy_session_leave(&s_->ps);
}

/* http_progress_verdict - on_scanned for a download whose client got the page:
 * publish the outcome (and the clean body), then end. */
void http_progress_verdict(struct http_session *s, const struct scanreq_reply *rep)
{
    char url[HTTP1_URL_MAX + 1];
    http_url_text(s, url, sizeof(url));
    char dir[4096];
    if (!http_progress_dir(s->ps.cfg->tmpdir, dir, sizeof(dir))) {
        http_progress_end(s, PROGRESS_ERROR, "", "Temporary failure: cannot keep the download",
                          STR_NULL);
        http_session_close(s);
        return;
    }
    if (rep->verdict == SCANREQ_INFECTED && s->ps.cfg->action != CONFIG_ACTION_PASS) {
        http_progress_drop_body(dir, s->progress_token);
        http_progress_end(s, PROGRESS_INFECTED, rep->name, "", STR_NULL);
        http_session_close(s);
        return;
    }
    struct http1_rewrite_response_opts o = {
        .proxy_support = !s->via_parent && !s->ps.cfg->transparent,
        .has_length = true,
        .length = s->t.spool_len,
    };
    char mem[RESP_BUF_SIZE];
    struct buf head;
    buf_init(&head, mem, sizeof(mem));
    if (!http1_rewrite_response(&head, &s->rsp, s->t.head_copy, &o)) {
        http_progress_end(s, PROGRESS_ERROR, "", "Response header too large to forward", STR_NULL);
    } else if (http_progress_keep_body(dir, s->progress_token) < 0) {
        svclog_error_errno(&s->ps.log, errno, "progress: cannot keep the body of URL=[%s] in [%s]",
                           url, dir);
        http_progress_end(s, PROGRESS_ERROR, "", "Temporary failure: cannot keep the download",
                          STR_NULL);
    } else {
        http_progress_end(s, PROGRESS_CLEAN, "", "", buf_view(&head));
    }
    http_session_close(s);
}

/* http_progress_serve - a request for /.sekisho-progress/<token>[/<file>],
 * from any worker: the page, the verdict, or the scanned file. */
void http_progress_serve(struct http_session *s, const char *token, bool file)
{
    static char mem[PROGRESS_RECORD_SIZE_MAX]; /* one worker thread; used before returning */
    char dir[4096];
    struct progress_record r;
    s->t.keep_client = false;
    s->t.send_spool = false;
    if (!http_progress_dir(s->ps.cfg->tmpdir, dir, sizeof(dir)) ||
        http_progress_read(dir, token, &r, mem, sizeof(mem)) < 0) {
        str_copy(s->t.o.error, sizeof(s->t.o.error), "progress: no such download");
        http_queue_page(s, s->ps.w->res->tpl_error, 404,
                        "This download is no longer available: it was fetched more than 10 minutes "
                        "ago or never existed. Please download the file again.");
        http_start_reply(s);
        return;
    }
    http_progress_sweep(dir);
    if (r.state == PROGRESS_INFECTED) {
        /* G-02: the detection page, as the download itself would have had. */
        str_copy(s->t.o.detect_name, sizeof(s->t.o.detect_name), r.detect);
        http_queue_page_vars(s, s->ps.w->res->tpl_detect, 403, NULL, r.url, NULL, 0, STR_NULL);
        s->t.o.detect_name[0] = '\0';
        http_start_reply(s);
        return;
    }
    if (r.state == PROGRESS_ERROR) {
        str_copy(s->t.o.error, sizeof(s->t.o.error), r.error);
        http_queue_page_vars(s, s->ps.w->res->tpl_error, 503, r.error, r.url, NULL, 0, STR_NULL);
        http_start_reply(s);
        return;
    }
    int fd = r.state == PROGRESS_CLEAN && file ? http_progress_open_body(dir, token) : -1;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        buf_fini(&s->t.out);
        if (buf_alloc_storage(&s->t.out, r.head.len + 1) < 0) {
            close(fd);
            http_reply_error(s, 503, "Temporary failure: out of memory");
            return;
        }
        buf_append_str(&s->t.out, r.head);
        s->t.spool.fd = fd;
        s->t.spool_len = (uint64_t)st.st_size;
        s->t.spool_off = 0;
        s->t.send_spool = s->t.req.method != HTTP1_METHOD_HEAD;
        s->t.status = 200;
        str_copy(s->t.o.content_type, sizeof(s->t.o.content_type), r.content_type);
        http_start_reply(s);
        return;
    }
    if (fd >= 0)
        close(fd);
    progress_page(s, &r, token);
    http_start_reply(s);
}
