/* ftp_xfer - one transfer of the FTP proxy (FTP-8, FTP-11, G-17).
 *
 * A transfer command (RETR STOR STOU APPE LIST NLST MLSD) runs as FTP-8
 * describes: passive - the client's data connection (source-checked),
 * then the proxy's to the server, then the command upstream and its 1xx
 * relayed; active - the command upstream, its 1xx relayed, then the
 * server's data connection (source-checked) and the proxy's to the
 * client ("530 Cannot connect client" ends the session, C-27).
 *
 * A file (RETR down, STOR/STOU/APPE up) that is to be scanned is received
 * whole into a spool (proxy_spool: memory, then tmpdir), scanned, and only
 * then sent on (sendfile). A download is scanned only once the server's
 * final reply says the file is complete: a server that drops the data
 * connection gives a short file and a 426, and the client gets the 426
 * and none of the bytes. An infected file with action=delete is answered
 * "530 Infected by <name>" and never reaches the other side; for an upload
 * the server's data connection is reset and ABOR sent (G-17), so the
 * server never has a byte of it.
 *
 * Listings (LIST, NLST, MLSD) and files the policy exempts (virus_check=no,
 * acl_pass_to, pass_ext) move with splice (proxy_splice), never through
 * user space; pass_filesize scans the first pass_filesize_len bytes and
 * splices the rest (OVER_FILESIZE). block_filesize makes a larger file a
 * detection as soon as the spool passes the limit.
 *
 * Every failure takes one path (xfer_fail): the data connections are reset
 * (a plain close would look like a complete file in stream mode), the
 * client gets one final reply, the record is written, and when the server
 * still owes the transfer's final reply, ABOR and a NOOP go upstream and
 * every reply up to the NOOP's 200 is dropped, so the dialogue stays in
 * step whatever the server answers to ABOR.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/access.h"
#include "core/template_vars.h"
#include "lib/sha256.h"
#include "lib/sock.h"
#include "proto/pass_rules.h"
#include "proxy/ftp/ftp_internal.h"
#include "proxy/proxy_detect.h"

#define FTP_URL_MAX (FTP_USER_MAX + PROXY_HOST_MAX + FTP_PATH_MAX + 32)

static void pump(struct ftp_session *s);
static void start_scan(struct ftp_session *s);

/* ---- small helpers ---------------------------------------------------------- */

static struct ftp_sock *src_of(struct ftp_session *s)
{
    return s->x.upload ? &s->x.cdata : &s->x.sdata;
}

static struct ftp_sock *dst_of(struct ftp_session *s)
{
    return s->x.upload ? &s->x.sdata : &s->x.cdata;
}

static bool sock_ready(const struct ftp_sock *k)
{
    return k->fd >= 0 && !k->connecting;
}

/* sock_reset - close with a reset: in stream mode a plain close is the
 * end of the file, so a transfer that failed must not end with one where
 * it could be taken for the end of a file: on the server's side always
 * (the server would keep the upload), on the client's side once bytes
 * went out (a client with nothing yet reads the final reply, "530
 * Infected by ...", instead of a reset it reports as a network error). */
static void sock_hard_close(struct ftp_session *s, struct ftp_sock *k)
{
    if (k->fd >= 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    ftp_sock_close(s, k);
}

static void sock_reset(struct ftp_session *s, struct ftp_sock *k)
{
    if (k == &s->x.sdata || s->x.moved > 0 || s->x.upload)
        sock_hard_close(s, k);
    else
        ftp_sock_close(s, k);
}

/* ftp_url - FTP-11: "ftp://<user>@<server>:<port><absolute path>". */
static void ftp_url(const struct ftp_session *s, char *out, size_t cap)
{
    const char *path = s->x.path;
    snprintf(out, cap, "ftp://%s@%s:%u%s%s", s->user, s->ps.server.host, s->ps.server.port,
             path[0] == '/' ? "" : "/", path);
}

static struct str file_name(const struct ftp_session *s)
{
    return pass_rules_url_filename(str_from_cstr(s->x.path));
}

static void xfer_vars(struct ftp_session *s, struct template_vars *v, const char *url,
                      unsigned status)
{
    *v = (struct template_vars){
        .status = status,
        .method = s->x.upload ? STR_LIT("PUT") : STR_LIT("GET"),
        .url = str_from_cstr(url),
        .content_length = s->x.spool.len,
    };
    proxy_outcome_vars(&s->ps, &s->x.o, v);
}

/* xfer_record - FTP-11: one record per file transfer, PUT for uploads,
 * GET for downloads; status 200 delivered with a positive final reply,
 * 000 refused (a detection), 500 failed (C-41). */
static void xfer_record(struct ftp_session *s, unsigned status, const char *error)
{
    struct ftp_xfer *x = &s->x;
    if (!x->file || x->recorded)
        return;
    x->recorded = true;
    if (error && !x->o.error[0])
        str_copy(x->o.error, sizeof(x->o.error), error);
    char url[FTP_URL_MAX];
    ftp_url(s, url, sizeof(url));
    struct access_record r = {
        .status = status,
        .size = x->moved,
        .method = x->upload ? STR_LIT("PUT") : STR_LIT("GET"),
        .url = str_from_cstr(url),
        .user = str_from_cstr(s->user),
        .files = s->transfers + 1,
    };
    proxy_record_write(&s->ps, &x->o, &r);
}

void ftp_xfer_end(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    ev_timer_stop(s->ps.w->loop, &x->wait);
    if (x->scan)
        proxy_scan_cancel(x->scan);
    x->scan = NULL;
    proxy_spool_close(&x->spool);
    proxy_splice_dir_close(&x->splice);
    ftp_sock_close(s, &x->cdata);
    ftp_sock_close(s, &x->sdata);
}

/* xfer_done - the transfer is over: the next command, once the server
 * has answered every keep-alive NOOP. */
static void xfer_done(struct ftp_session *s)
{
    ftp_noop_stop(s);
    ftp_xfer_end(s);
    ftp_mode_reset(s);
    s->x.phase = FTP_XP_NONE;
    s->transfers++;
    s->state = FTP_ST_REPLY;
    ftp_finish_command(s);
}

/* relay_final - the server's final reply, held until the other side has
 * everything, goes to the client; the record says how it ended. */
static void relay_final(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    ftp_relay_raw(s, str_make(x->final, x->final_len));
    xfer_record(s, x->final_ok ? 200 : 500, x->final_ok ? NULL : "SERVER/transfer failed");
    xfer_done(s);
}

static void on_swallow(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    (void)raw;
    if (r->code == 200 && s->noop_pending > 0 && --s->noop_pending == 0) {
        xfer_done(s);
        return;
    }
    s->on_reply = on_swallow;
}

/* xfer_fail - every way a transfer ends without delivering (see the top):
 * the client's final reply is code text. */
static void xfer_fail(struct ftp_session *s, unsigned code, const char *text, unsigned status,
                      const char *error)
{
    struct ftp_xfer *x = &s->x;
    bool server_owes = x->phase >= FTP_XP_PRELIM && !x->final_seen;
    ev_timer_stop(s->ps.w->loop, &x->wait);
    ftp_noop_stop(s);
    if (x->scan)
        proxy_scan_cancel(x->scan);
    x->scan = NULL;
    sock_reset(s, &x->cdata);
    sock_reset(s, &x->sdata);
    proxy_spool_close(&x->spool);
    proxy_splice_dir_close(&x->splice);
    ftp_reply(s, code, "%s", text);
    xfer_record(s, status, error);
    if (server_owes && s->ps.server.fd >= 0 &&
        buf_append(&s->ps.server.out, "ABOR\r\nNOOP\r\n", 12)) {
        /* G-17: the server abandons the transfer; its replies up to the
         * NOOP's are dropped (see the top). */
        s->noop_pending++;
        x->phase = FTP_XP_SWALLOW;
        s->on_reply = on_swallow;
        return;
    }
    xfer_done(s);
}

/* cannot_connect_client - C-27: "530 Cannot connect client", and the end. */
static void cannot_connect_client(struct ftp_session *s, int err)
{
    char ip[SOCK_ADDRSTRLEN];
    uint16_t port;
    sock_addr_text((const struct sockaddr *)&s->client_data, ip, sizeof(ip), &port);
    svclog_error(&s->ps.log, "ftp: cannot connect to the client's data port [%s:%u]: %s", ip, port,
                 strerror(err));
    xfer_record(s, 500, "CLIENT/cannot connect client");
    ftp_xfer_end(s);
    ftp_reply(s, 530, "Cannot connect client");
    ftp_end(s);
}

/* ---- the policy ------------------------------------------------------------------- */

/* skip_reason - the exemptions of SCAN-3 for FTP: acl_pass_to (ftp_pass_to,
 * by the server's address or name), pass_ext (by the file name). */
static unsigned skip_reason(const struct ftp_session *s)
{
    const struct config *cfg = s->ps.cfg;
    const struct access_table *acl = s->ps.w->res->acl;
    if (cfg->acl_pass_to && acl &&
        access_match(acl, "ftp_pass_to", s->ps.server.ip,
                     strcmp(s->ps.server.host, s->ps.server.ip) ? s->ps.server.host : NULL))
        return ACCESSLOG_DETAIL_PASS_TO;
    if (cfg->pass_ext &&
        pass_rules_extension(file_name(s), cfg->pass_ext_list.items, cfg->pass_ext_list.count))
        return ACCESSLOG_DETAIL_PASS_EXT;
    return 0;
}

/* detected - SCAN-12: logged, quarantined, reported; true when the file
 * is refused (action=delete). */
static void detection_vars(void *arg, struct template_vars *v, const char *url)
{
    xfer_vars(arg, v, url, 0);
}

static bool detected(struct ftp_session *s, const char *name, int fd)
{
    struct ftp_xfer *x = &s->x;
    char url[FTP_URL_MAX];
    ftp_url(s, url, sizeof(url));
    char file[MIME_FILENAME_MAX + 1];
    str_copy_view(file, sizeof(file), file_name(s));
    proxy_detect_object(&s->ps, &x->o, name, file, fd, url, s->user, detection_vars, s);
    str_copy(x->detection, sizeof(x->detection), name);
    x->infected = s->ps.cfg->action == CONFIG_ACTION_DELETE;
    return x->infected;
}

static void refuse_infected(struct ftp_session *s)
{
    char text[SCANREQ_NAME_MAX + 16];
    snprintf(text, sizeof(text), "Infected by %s", s->x.detection);
    xfer_fail(s, 530, text, 0, NULL);
}

/* ---- the command and its data connections ----------------------------------------- */

static void on_wait_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct ftp_session *s = t->data;
    proxy_session_enter(&s->ps);
    svclog_error(&s->ps.log, "ftp: no data connection within %u sec while waiting for %s",
                 FTP_DATA_WAIT_MS / 1000, proxy_session_waits_for(&s->ps));
    xfer_fail(s, 425, "Can't open data connection.", 500, "PROXY/data connection timeout");
    proxy_session_leave(&s->ps);
}

static void start_data(struct ftp_session *s);

void ftp_xfer_init(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    ftp_sock_init(&x->cdata);
    ftp_sock_init(&x->sdata);
    x->spool = PROXY_SPOOL_CLOSED;
    proxy_splice_dir_init(&x->splice);
    ev_timer_init(&x->wait, on_wait_timeout, s);
}

static void on_final(struct ftp_session *s, const struct ftp_reply *r, struct str raw);

/* on_prelim - the reply to the command: 1xx, and the data flows; anything
 * else ends the command (550 no such file...), relayed. */
static void on_prelim(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    struct ftp_xfer *x = &s->x;
    ftp_relay_raw(s, raw);
    if (r->code >= 200) {
        x->final_seen = true; /* nothing owed */
        ftp_xfer_end(s);
        ftp_mode_reset(s);
        x->phase = FTP_XP_NONE;
        s->state = FTP_ST_REPLY;
        ftp_finish_command(s);
        return;
    }
    if (x->verb == FTP_V_STOU) {
        /* The server names the file (RFC 1123 4.1.2.9: "150 FILE: <name>"). */
        const char *f = strstr(r->text, "FILE: ");
        if (f) {
            struct str name = ftp_arg_trim(str_from_cstr(f + 6));
            ftp_resolve(s, name, x->path, sizeof(x->path));
        }
    }
    x->phase = FTP_XP_OPEN;
    s->on_reply = on_final;
    ftp_noop_start(s);
    if (s->mode == FTP_DM_ACTIVE && x->cdata.fd < 0) {
        /* FTP-8.3: the proxy connects to the client's PORT address. */
        if (!ftp_connect_from(s, &x->cdata, &s->client_data, s->client_data_len, s->ps.client.fd)) {
            cannot_connect_client(s, errno);
            return;
        }
        ftp_sock_watch(s, &x->cdata, EV_WRITE);
    }
    start_data(s);
}

static void send_command(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    ev_timer_stop(s->ps.w->loop, &x->wait);
    x->phase = FTP_XP_PRELIM;
    ftp_up(s, x->cmd.ptr, x->cmd.len, on_prelim);
    if (s->mode == FTP_DM_ACTIVE)
        ftp_sock_watch(s, &s->listen_server, EV_READ);
}

static void connect_server(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    x->phase = FTP_XP_SERVER_DATA;
    if (!ftp_connect_from(s, &x->sdata, &s->server_data, s->server_data_len, s->ps.server.fd)) {
        svclog_error_errno(&s->ps.log, errno, "ftp: cannot connect to the server's data port");
        xfer_fail(s, 425, "Can't open data connection.", 500, "SERVER/data connection failed");
        return;
    }
    ftp_sock_watch(s, &x->sdata, EV_WRITE);
    ev_timer_start(s->ps.w->loop, &x->wait, FTP_DATA_WAIT_MS);
}

/* start_data - once both data connections are up, the bytes move. */
static void start_data(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    if (!sock_ready(&x->cdata) || !sock_ready(&x->sdata)) {
        ev_timer_start(s->ps.w->loop, &x->wait, FTP_DATA_WAIT_MS);
        return;
    }
    ev_timer_stop(s->ps.w->loop, &x->wait);
    ftp_sock_watch(s, dst_of(s), 0);
    if (x->scanned) {
        if (proxy_spool_open(&x->spool, s->ps.w, 0) < 0) {
            svclog_error_errno(&s->ps.log, errno, "ftp: no spool in [%s]", s->ps.cfg->tmpdir);
            xfer_fail(s, 451, "Requested action aborted: local error in processing.", 500,
                      "PROXY/spool failed");
            return;
        }
        x->phase = FTP_XP_RECEIVE;
    } else {
        if (proxy_splice_dir_open(&x->splice, PROXY_SPLICE_PIPE_FILE) < 0) {
            xfer_fail(s, 451, "Requested action aborted: local error in processing.", 500,
                      "PROXY/pipe failed");
            return;
        }
        x->phase = FTP_XP_SPLICE;
    }
    pump(s);
}

void ftp_cmd_transfer(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line;
    struct ftp_session *s = (struct ftp_session *)ps;
    if (s->mode == FTP_DM_NONE || s->bad_source) {
        if (s->bad_source)
            ftp_reply(s, 530, "Invalid Connection Source.");
        else
            ftp_reply(s, 530, "please use PORT/PASV command at first."); /* FTP-8.1 */
        ftp_mode_reset(s);
        return;
    }
    struct ftp_xfer *x = &s->x;
    ftp_xfer_end(s);
    x->verb = s->verb;
    x->upload = ftp_verb_is_upload(s->verb);
    x->file = x->upload || s->verb == FTP_V_RETR;
    x->over = x->blocked = x->infected = x->src_eof = false;
    x->final_seen = x->final_ok = x->recorded = x->client_out_done = false;
    x->final_len = 0;
    x->send_off = 0;
    x->moved = 0;
    x->detection[0] = '\0';
    ftp_resolve(s, arg, x->path, sizeof(x->path));
    size_t n =
        s->cmd.command.len < sizeof(x->cmd_buf) ? s->cmd.command.len : sizeof(x->cmd_buf) - 1;
    memcpy(x->cmd_buf, s->cmd.command.ptr, n);
    x->cmd = str_make(x->cmd_buf, n);
    proxy_outcome_begin(&x->o, ps);
    unsigned skip = x->file ? skip_reason(s) : 0;
    x->o.details |= skip;
    x->scanned = x->file && ps->cfg->virus_check && !skip;
    s->state = FTP_ST_XFER;
    s->dlg.busy = true;
    if (s->mode == FTP_DM_ACTIVE) {
        send_command(s);
        return;
    }
    if (s->early_cdata.fd >= 0)
        ftp_sock_move(s, &s->early_cdata, &x->cdata);
    if (x->cdata.fd >= 0) {
        connect_server(s);
        return;
    }
    /* FTP-8.2: the client's data connection first. */
    x->phase = FTP_XP_CLIENT_DATA;
    ftp_sock_watch(s, &s->listen_client, EV_READ);
    ev_timer_start(ps->w->loop, &x->wait, FTP_DATA_WAIT_MS);
}

/* ---- moving the bytes ---------------------------------------------------------------- */

/* finished - the destination has everything: the server's final reply
 * completes the transfer (it may have come already). */
static void finished(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    x->client_out_done = true;
    ftp_sock_close(s, &x->cdata);
    ftp_sock_close(s, &x->sdata);
    if (x->final_seen) {
        relay_final(s);
        return;
    }
    x->phase = FTP_XP_SETTLE;
}

static void splice_step(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    struct ftp_sock *src = src_of(s), *dst = dst_of(s);
    int r = proxy_splice_move(&x->splice, src->fd, dst->fd);
    if (r > 0)
        proxy_session_touch(&s->ps);
    x->moved = x->splice.bytes + (x->over ? x->spool.len : 0);
    if (r < 0) {
        svclog_info(&s->ps.log, "ftp: a data connection was lost during %s",
                    ftp_verb_name(x->verb));
        xfer_fail(s, 426, "Connection closed; transfer aborted.", 500, "DATA/connection lost");
        return;
    }
    if (x->splice.eof && x->splice.in_pipe == 0) {
        finished(s);
        return;
    }
    ftp_sock_watch(s, src, x->splice.eof || x->splice.in_pipe ? 0 : EV_READ);
    ftp_sock_watch(s, dst, x->splice.in_pipe ? EV_WRITE : 0);
}

/* after_final - a download is received and the server says how it ended. */
static void after_final(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    if (!x->final_ok) {
        /* The server failed the transfer: the client gets its reply and
         * none of the bytes (FTP-8: nothing partial as if complete). */
        sock_reset(s, &x->cdata);
        proxy_spool_close(&x->spool);
        relay_final(s);
        return;
    }
    start_scan(s);
}

/* block_check - G-13: a scanned file over block_filesize_len is a
 * detection; true when the transfer was refused. */
static bool block_check(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    const struct config *cfg = s->ps.cfg;
    if (!cfg->block_filesize || x->blocked || x->spool.len <= cfg->block_filesize_len)
        return false;
    x->blocked = true;
    if (detected(s, "SEKISHO/POLICY_BLOCK_FILESIZE", -1)) {
        refuse_infected(s);
        return true;
    }
    return false;
}

static void receive(struct ftp_session *s)
{
    static char chunk[64 * 1024]; /* a worker is one thread */
    struct ftp_xfer *x = &s->x;
    struct ftp_sock *src = src_of(s);
    const struct config *cfg = s->ps.cfg;
    for (int round = 0; round < FTP_READ_ROUNDS; round++) {
        ssize_t n = recv(src->fd, chunk, sizeof(chunk), 0);
        if (n > 0) {
            proxy_session_touch(&s->ps);
            if (proxy_spool_write(&x->spool, chunk, (size_t)n) < 0) {
                svclog_error_errno(&s->ps.log, x->spool.err, "ftp: cannot spool [%s] in [%s]",
                                   x->path, cfg->tmpdir);
                xfer_fail(s, 451, "Requested action aborted: local error in processing.", 500,
                          "PROXY/spool write failed");
                return;
            }
            if (block_check(s))
                return;
            if (cfg->pass_filesize && x->spool.len > cfg->pass_filesize_len) {
                /* SCAN-4: the first part is scanned, the rest relayed. */
                x->over = true;
                x->o.details |= ACCESSLOG_DETAIL_OVER_FILESIZE;
                ftp_sock_watch(s, src, 0);
                start_scan(s);
                return;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            ftp_sock_watch(s, src, EV_READ);
            return;
        }
        if (n < 0 && x->upload) {
            /* The client reset its upload: it did not end it. */
            xfer_fail(s, 426, "Connection closed; transfer aborted.", 500,
                      "CLIENT/data connection reset");
            return;
        }
        /* The end of the file (a server's reset too: its final reply
         * says what it was). */
        x->src_eof = true;
        ftp_sock_close(s, src);
        if (x->upload) {
            start_scan(s);
        } else if (x->final_seen) {
            after_final(s);
        } else {
            x->phase = FTP_XP_FINAL;
        }
        return;
    }
    ftp_sock_watch(s, src, EV_READ);
}

static void deliver(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    struct ftp_sock *dst = dst_of(s);
    for (int round = 0; round < FTP_SEND_ROUNDS && (uint64_t)x->send_off < x->spool.len; round++) {
        uint64_t left = x->spool.len - (uint64_t)x->send_off;
        ssize_t n = sendfile(dst->fd, x->spool.fd, &x->send_off,
                             left < FTP_SEND_CHUNK ? (size_t)left : FTP_SEND_CHUNK);
        if (n > 0) {
            proxy_session_touch(&s->ps);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        svclog_info(&s->ps.log, "ftp: the %s data connection was lost during delivery",
                    x->upload ? "server's" : "client's");
        xfer_fail(s, 426, "Connection closed; transfer aborted.", 500,
                  x->upload ? "SERVER/data connection lost" : "CLIENT/data connection lost");
        return;
    }
    x->moved = (uint64_t)x->send_off;
    if ((uint64_t)x->send_off < x->spool.len) {
        ftp_sock_watch(s, dst, EV_WRITE);
        return;
    }
    if (x->over && !x->src_eof) {
        /* SCAN-4: the rest of the file, unscanned, as it comes. */
        if (proxy_splice_dir_open(&x->splice, PROXY_SPLICE_PIPE_FILE) < 0) {
            xfer_fail(s, 451, "Requested action aborted: local error in processing.", 500,
                      "PROXY/pipe failed");
            return;
        }
        x->phase = FTP_XP_SPLICE;
        splice_step(s);
        return;
    }
    finished(s);
}

static void pump(struct ftp_session *s)
{
    switch (s->x.phase) {
    case FTP_XP_RECEIVE:
        receive(s);
        return;
    case FTP_XP_SPLICE:
        splice_step(s);
        return;
    case FTP_XP_DELIVER:
        deliver(s);
        return;
    default:
        return;
    }
}

/* ---- the scan -------------------------------------------------------------------------- */

static void on_scanned(void *arg, const struct scanreq_reply *rep)
{
    struct ftp_session *s = arg;
    struct ftp_xfer *x = &s->x;
    proxy_session_enter(&s->ps);
    x->scan = NULL;
    x->o.checks++;
    x->o.scan_ms += rep->scan_us / 1000u;
    x->o.details |=
        rep->details & (SCANREQ_VSD_ENCRYPTED | SCANREQ_VSD_MAXNESTED | SCANREQ_VSD_SCANTIMEOUT);
    if (rep->details & SCANREQ_VSD_OVERSIZE)
        x->o.details |= ACCESSLOG_DETAIL_OVER_SCANLIMIT;
    if (rep->verdict == SCANREQ_ERROR) {
        char url[FTP_URL_MAX];
        ftp_url(s, url, sizeof(url));
        svclog_error(&s->ps.log, "virus scan failed: %s URL=[%s]", rep->error, url);
        xfer_fail(s, 451, "Requested action aborted: virus scan failed, please try again later.",
                  500, "PROXY/virus scan failed");
    } else if (rep->verdict == SCANREQ_INFECTED && detected(s, rep->name, x->spool.fd)) {
        refuse_infected(s);
    } else {
        x->phase = FTP_XP_DELIVER;
        x->send_off = 0;
        deliver(s);
    }
    proxy_session_leave(&s->ps);
}

static void start_scan(struct ftp_session *s)
{
    struct ftp_xfer *x = &s->x;
    x->phase = FTP_XP_SCAN;
    char name[FTP_PATH_MAX + 1];
    str_copy_view(name, sizeof(name), file_name(s));
    /* verdict_cache: a small file is hashed in one read of its spool
     * (in memory: at most VERDICT_CACHE_OBJECT_MAX bytes). */
    static char whole[VERDICT_CACHE_OBJECT_MAX];
    uint8_t digest[SHA256_DIGEST_LEN];
    bool hashed = s->ps.cfg->verdict_cache && !x->over && x->spool.len <= sizeof(whole) &&
                  pread(x->spool.fd, whole, (size_t)x->spool.len, 0) == (ssize_t)x->spool.len;
    if (hashed) {
        uint64_t t0 = ev_clock_ns();
        hashed = sha256_digest(whole, (size_t)x->spool.len, digest) == 0;
        svc_stats_hash_time(s->ps.w->stats, ev_clock_ns() - t0);
    }
    x->scan = proxy_scan_start(s->ps.w->scan_pool, s->ps.cfg, SCANREQ_SVC_FTP, x->spool.fd, name,
                               hashed ? digest : NULL, &s->ps.log, on_scanned, s);
}

/* ---- the server's final reply ---------------------------------------------------------- */

static void on_final(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    struct ftp_xfer *x = &s->x;
    if (r->code < 200) {
        s->on_reply = on_final; /* a second preliminary reply */
        return;
    }
    x->final_seen = true;
    x->final_ok = r->code < 300;
    if (raw.len <= sizeof(x->final)) {
        memcpy(x->final, raw.ptr, raw.len);
        x->final_len = raw.len;
    } else {
        int n = snprintf(x->final, sizeof(x->final), "%03d %.*s\r\n", r->code,
                         (int)(sizeof(x->final) - 16), r->text);
        x->final_len = n > 0 && (size_t)n < sizeof(x->final) ? (size_t)n : 0;
    }
    switch (x->phase) {
    case FTP_XP_FINAL:
        after_final(s);
        return;
    case FTP_XP_SETTLE:
        relay_final(s);
        return;
    default:
        break;
    }
    if (x->upload && (x->phase == FTP_XP_RECEIVE || x->phase == FTP_XP_SCAN)) {
        /* The server ended the upload before the proxy sent it: the
         * client stops and hears the server's reason. */
        if (x->scan)
            proxy_scan_cancel(x->scan);
        x->scan = NULL;
        sock_reset(s, &x->cdata);
        proxy_spool_close(&x->spool);
        x->final_ok = false;
        relay_final(s);
    }
    /* A download still moving: the reply waits for the end of delivery. */
}

/* ---- events, abort, the end ------------------------------------------------------------- */

void ftp_xfer_event(struct ftp_session *s, struct ftp_sock *k, uint32_t events)
{
    struct ftp_xfer *x = &s->x;
    if (k == &s->listen_client) {
        if (x->phase != FTP_XP_CLIENT_DATA) {
            ftp_sock_watch(s, k, 0);
            return;
        }
        int r = ftp_accept_from(s, k, s->ps.client.ip, &x->cdata);
        if (r < 0) {
            /* FTP-8.2: the command ends; the server never heard of it. */
            ftp_sock_close(s, &s->listen_client);
            ev_timer_stop(s->ps.w->loop, &x->wait);
            ftp_reply(s, 530, "Invalid Connection Source.");
            xfer_done(s);
            return;
        }
        if (r > 0)
            connect_server(s);
        return;
    }
    if (k == &s->listen_server) {
        int r = ftp_accept_from(s, k, s->ps.server.ip, &x->sdata);
        if (r > 0 && x->phase == FTP_XP_OPEN)
            start_data(s);
        return;
    }
    if (k->connecting) {
        if (!(events & (EV_WRITE | EV_ERROR | EV_HUP)))
            return;
        int err = sock_connect_result(k->fd);
        k->connecting = false;
        ftp_sock_watch(s, k, 0);
        if (k == &x->sdata) {
            if (err) {
                svclog_error(&s->ps.log, "ftp: cannot connect to the server's data port: %s",
                             strerror(err));
                xfer_fail(s, 425, "Can't open data connection.", 500,
                          "SERVER/data connection failed");
                return;
            }
            send_command(s);
            return;
        }
        if (err) {
            cannot_connect_client(s, err);
            return;
        }
        if (x->phase == FTP_XP_OPEN)
            start_data(s);
        return;
    }
    if (x->phase == FTP_XP_RECEIVE || x->phase == FTP_XP_SPLICE || x->phase == FTP_XP_DELIVER) {
        pump(s);
        return;
    }
    ftp_sock_watch(s, k, 0); /* nothing to do with it now */
}

void ftp_xfer_abort(struct ftp_session *s)
{
    if (s->x.phase == FTP_XP_SWALLOW) {
        /* Already ended (a refusal, a failure): its final reply is out. */
        ftp_reply(s, 226, "Abort successful");
        return;
    }
    svclog_info(&s->ps.log, "ftp: the client aborted %s [%s]", ftp_verb_name(s->x.verb), s->x.path);
    ftp_reply(s, 426, "Transfer aborted.");
    xfer_fail(s, 226, "Abort successful", 500, "CLIENT/ABOR");
}

void ftp_xfer_abandon(struct ftp_session *s, const char *error)
{
    /* The session ends with the transfer unfinished: neither side may take
     * the end of its data connection for the end of the file (a spliced
     * upload would be kept whole by the server). */
    sock_hard_close(s, &s->x.cdata);
    sock_hard_close(s, &s->x.sdata);
    xfer_record(s, 500, error);
    ftp_xfer_end(s);
    ftp_noop_stop(s);
}

void ftp_xfer_server_lost(struct ftp_session *s)
{
    svclog_info(&s->ps.log, "ftp: the server (%s:%u) closed the control connection during %s",
                s->ps.server.host, s->ps.server.port, ftp_verb_name(s->x.verb));
    ftp_xfer_abandon(s, "SERVER/connection lost");
    s->x.phase = FTP_XP_NONE;
    ftp_reply(s, 421, "disconnected from (%s:%u)", s->ps.server.host, s->ps.server.port);
    ftp_end(s);
}
