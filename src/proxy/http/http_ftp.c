/* http_ftp - ftp:// URLs through the HTTP proxy (HTTP-16).
 *
 * The retrieval (core/ftp_client) fills the spool, which is then scanned
 * and delivered like a download (http_verdict.c); a directory listing
 * becomes an HTML page (G-29). acl_to and block_filesize apply as they do
 * to HTTP; the answer is never kept alive (HTTP-20 f).
 */
#include "proxy/http/http_internal.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/access.h"
#include "core/ftp_client.h"
#include "lib/spoolfile.h"
#include "proto/ftp_listing_format.h"
#include "proto/http1_rewrite.h"
#include "proto/pass_rules.h"

/* http_ftp_answer_head - the HTTP head of an FTP-over-HTTP answer (HTTP-16:
 * Server: <product_name>; never kept alive, HTTP-20 f). */
bool http_ftp_answer_head(struct http_session *s, struct str content_type, uint64_t length,
                          size_t body_room)
{
    char extra[400];
    snprintf(extra, sizeof(extra), "Server: %s\r\n", s->ps.w->res->product_name);
    buf_fini(&s->t.out);
    s->t.keep_client = false;
    s->t.status = 200;
    return buf_alloc_storage(&s->t.out, 1024 + body_room) == 0 &&
           http1_rewrite_simple_response(&s->t.out, false, 200, content_type, length,
                                         str_from_cstr(extra));
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
              pread(s->t.spool.fd, listing, n, 0) == (ssize_t)n &&
              ftp_listing_format(&pb, s->url.host, s->url.port, str_make(path, plen),
                                 str_make(listing, n));
    free(listing);
    if (!ok) {
        free(page);
        http_reply_error(s, 500, "Cannot render the FTP directory listing");
        return;
    }
    str_copy(s->t.o.content_type, sizeof(s->t.o.content_type), "text/html");
    bool head_only = s->t.req.method == HTTP1_METHOD_HEAD;
    ok = http_ftp_answer_head(s, STR_LIT("text/html; charset=UTF-8"), buf_len(&pb),
                              head_only ? 0 : buf_len(&pb)) &&
         (head_only || buf_append(&s->t.out, buf_rptr(&pb), buf_len(&pb)));
    free(page);
    if (!ok) {
        http_reply_error(s, 500, "Temporary failure: out of memory");
        return;
    }
    s->t.send_spool = false;
    http_start_reply(s);
}

/* ftp_scanned - an ftp:// file is scanned (and subject to block_filesize)
 * unless virus_check is off or pass_ext exempts it; the exemption is
 * recorded in PROXY-STAT. */
static bool ftp_scanned(struct http_session *s)
{
    if (s->ps.cfg->pass_ext &&
        pass_rules_extension(pass_rules_url_filename(s->url.path), s->ps.cfg->pass_ext_list.items,
                             s->ps.cfg->pass_ext_list.count)) {
        s->t.o.details |= ACCESSLOG_DETAIL_PASS_EXT;
        return false;
    }
    return s->ps.cfg->virus_check;
}

static void on_ftp_done_inner(void *arg, const struct ftp_client_outcome *o)
{
    struct http_session *s = arg;
    s->ftpc = NULL;
    str_copy(s->ps.server.ip, sizeof(s->ps.server.ip), o->server_ip);
    s->ps.log.server_ip = s->ps.server.ip;
    if (o->result == FTP_CLIENT_TOO_LARGE) {
        /* G-13: only with action=delete is max_bytes set (http_start_ftp). */
        s->t.spool_len = o->bytes;
        str_copy(s->t.o.content_type, sizeof(s->t.o.content_type), "application/octet-stream");
        http_filesize_blocks(s, s->ps.cfg->block_filesize_len + 1);
        http_reply_detection_page(s);
        return;
    }
    if (o->result == FTP_CLIENT_ERROR) {
        http_reply_error(s, o->status ? o->status : 503, o->error);
        return;
    }
    s->t.spool_len = o->bytes;
    if (o->result == FTP_CLIENT_LISTING) {
        ftp_render_listing(s, o->bytes);
        return;
    }
    str_copy(s->t.o.content_type, sizeof(s->t.o.content_type), "application/octet-stream");
    s->t.status = 200;
    if (!ftp_scanned(s) || o->bytes == 0) {
        http_deliver_spool(s);
        return;
    }
    http_filesize_blocks(s, o->bytes); /* action=pass: logged, delivered if clean */
    http_start_scan(s);
}

/* on_ftp_done - runs inside the session core's enter/leave (proxy_session.h). */
static void on_ftp_done(void *arg, const struct ftp_client_outcome *o)
{
    struct http_session *s_ = arg;
    proxy_session_enter(&s_->ps);
    on_ftp_done_inner(arg, o);
    proxy_session_leave(&s_->ps);
}

/* ftp_acl_to - acl_to for the FTP server (ACL-6, ACL-7): as for http://
 * URLs, by the destination's name or by each resolved address, checked
 * before any address is contacted; none left is the CONN-5 refusal. */
static enum upstream_verdict ftp_acl_to(void *arg, const struct sockaddr *sa, socklen_t len,
                                        const char *ip, struct upstream_refusal *why)
{
    (void)sa, (void)len;
    struct http_session *s = arg;
    const struct access_table *acl = s->ps.w->res->acl;
    const char *name = strcmp(s->host, ip) ? s->host : NULL;
    if (acl && access_match(acl, "http_to", ip, name))
        return UPSTREAM_TRY;
    svclog_info(&s->ps.log, "Access Denied to [%s:%s]", ip, s->host);
    why->code = 503;
    return UPSTREAM_SKIP;
}

/* http_start_ftp - an ftp:// URL: fetch it into the spool, then scan and answer
 * like an HTTP download; directories become an HTML listing (G-29). */
void http_start_ftp(struct http_session *s)
{
    if (s->t.req.method != HTTP1_METHOD_GET && s->t.req.method != HTTP1_METHOD_HEAD) {
        http_reply_error(s, 501, "Only GET and HEAD are supported for ftp:// URLs");
        return;
    }
    s->ftp = true;
    s->t.client_wants_ka = false; /* HTTP-20 f */
    str_copy_view(s->host, sizeof(s->host), s->url.host);
    s->port = s->url.port;
    s->ps.log.server_host = s->host;
    s->ps.log.server_port = s->port;
    proxy_spool_open_disk(&s->t.spool, s->ps.w);
    if (s->t.spool.fd < 0) {
        svclog_error_errno(&s->ps.log, errno, "cannot create a spool file in [%s]",
                           s->ps.cfg->tmpdir);
        http_reply_error(s, 503, "Temporary failure: cannot create a spool file");
        return;
    }
    char user[FTP_CLIENT_CRED_MAX], pass[FTP_CLIENT_CRED_MAX];
    size_t ul = ftp_listing_path_decode(s->url.user, user, sizeof(user));
    size_t pl = ftp_listing_path_decode(s->url.password, pass, sizeof(pass));
    if (ul == (size_t)-1 || pl == (size_t)-1) {
        http_reply_error(s, 400, http1_error_message(HTTP1_ERR_URL_FORMAT));
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
        .ipv6 = s->ps.cfg->ipv6,
        .data_fd = s->t.spool.fd,
        .log = &s->ps.log,
        .filter = s->ps.cfg->acl_to ? ftp_acl_to : NULL,
        .filter_arg = s,
    };
    /* G-13: with action=delete a file over block_filesize_len is not fetched
     * whole; with action=pass it is, and the detection only logged. */
    if (s->ps.cfg->block_filesize && s->ps.cfg->action != CONFIG_ACTION_PASS &&
        s->ps.cfg->virus_check &&
        !(s->ps.cfg->pass_ext &&
          pass_rules_extension(pass_rules_url_filename(s->url.path), s->ps.cfg->pass_ext_list.items,
                               s->ps.cfg->pass_ext_list.count)))
        fr.max_bytes = s->ps.cfg->block_filesize_len;
    s->state = HTTP_ST_FTP;
    http_set_client_events(s, EV_READ);
    http_touch(s);
    s->ftpc = ftp_client_start(s->ps.w->loop, s->ps.w->dns, &fr, on_ftp_done, s);
}
