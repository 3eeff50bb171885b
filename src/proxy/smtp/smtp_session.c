/* smtp_session - see smtp_session.h.
 *
 * One session is one client connection and one upstream connection. The
 * client's commands are taken one at a time: a command that needs the
 * server sends one line upstream and the session waits for that reply
 * (on_reply) before it looks at the next buffered client line, so a
 * pipelining client is served in order without the proxy ever having two
 * upstream commands in flight. Generated replies carry (<product_name>)
 * (SMTP-2). Timeouts: smtp_timeout.c (G-22, timeout_inactive).
 */
#include "proxy/smtp/smtp_session.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/access.h"
#include "core/notify.h"
#include "core/svclog.h"
#include "core/template.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "lib/spoolfile.h"
#include "lib/str.h"
#include "proto/accesslog_format.h"
#include "proto/mbox_format.h"
#include "proto/mime_walk.h"
#include "proto/pass_rules.h"
#include "proto/smtp_addr.h"
#include "proto/smtp_dot.h"
#include "proto/smtp_parse.h"
#include "proxy/proxy_connect.h"
#include "proxy/proxy_mail_scan.h"
#include "proxy/proxy_scan.h"

#include "proxy/smtp/smtp_internal.h"

static void next_command(struct smtp_session *s);
static void process_input(struct smtp_session *s);
static void data_step(struct smtp_session *s);
static void server_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);

/* ---- small helpers ------------------------------------------------------ */

static void touch(struct smtp_session *s)
{
    ev_timer_start(s->w->loop, &s->idle, smtp_idle_ms(s->cfg));
}

static uint64_t max_message_size(const struct config *cfg)
{
    return cfg->block_messagesize ? cfg->block_messagesize_len : SMTP_MESSAGE_MAX;
}

static void set_client_events(struct smtp_session *s, uint32_t ev)
{
    if (s->cfd >= 0)
        ev_io_set(s->w->loop, &s->cio, ev);
}

static void set_server_events(struct smtp_session *s, uint32_t ev)
{
    if (s->sfd >= 0)
        ev_io_set(s->w->loop, &s->sio, ev);
}

static void close_server(struct smtp_session *s)
{
    if (s->sfd >= 0) {
        ev_io_stop(s->w->loop, &s->sio);
        close(s->sfd);
    }
    s->sfd = -1;
}

/* send_queued - write what b holds to fd until it would block; false on
 * a dead peer. Both directions use it. */
static bool send_queued(struct smtp_session *s, int fd, struct buf *b)
{
    while (buf_len(b) > 0) {
        ssize_t n = send(fd, buf_rptr(b), buf_len(b), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return false;
        }
        buf_consume(b, (size_t)n);
        touch(s);
    }
    buf_compact(b);
    return true;
}

/* flush_client - write what is queued; false on a dead client. */
static bool flush_client(struct smtp_session *s)
{
    return send_queued(s, s->cfd, &s->out);
}

/* client_events - what to wait for on the client. Reading stops while
 * the input buffer is full (a pipelining client ahead of a command, or of
 * a scan, in progress): level-triggered readiness with no room to read
 * into would wake the worker in a loop for as long as the command takes
 * (issue 10). The kernel's socket buffer holds the rest meanwhile, and the
 * client is read again once a command consumed its line. */
static void client_events(struct smtp_session *s)
{
    uint32_t ev = buf_len(&s->out) ? EV_WRITE : 0;
    if (!s->close_after_out && buf_len(&s->in) < s->in.cap &&
        (s->state == SMTP_ST_COMMAND || s->state == SMTP_ST_DATA ||
         s->state == SMTP_ST_AUTH_RELAY || s->state == SMTP_ST_SCAN || s->state == SMTP_ST_SEND ||
         s->state == SMTP_ST_GREETING || s->state == SMTP_ST_CONNECT))
        ev |= EV_READ;
    set_client_events(s, ev);
}

/* smtp_session_reply - queue a generated reply "<code> <text> (<product_name>)". */
void smtp_session_reply(struct smtp_session *s, unsigned code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (!smtp_reply_format(&s->out, code, text, s->w->res->product_name))
        s->close_after_out = true; /* cannot happen with SMTP_OUT_CAP; be safe */
    if (!flush_client(s)) {
        smtp_session_close(s);
        return;
    }
    client_events(s);
}

/* relay_reply - the server's reply, as it came. */
void smtp_session_relay(struct smtp_session *s, const struct smtp_reply *r)
{
    if (!buf_append(&s->out, buf_rptr(&s->sin), r->len))
        s->close_after_out = true;
}

/* finish_command - the command is done: flush, then the next one. */

void smtp_finish_command(struct smtp_session *s)
{
    s->busy = false;
    if (!flush_client(s)) {
        smtp_session_close(s);
        return;
    }
    if (s->close_after_out && buf_len(&s->out) == 0) {
        smtp_session_close(s);
        return;
    }
    if (s->w->stopping && s->state == SMTP_ST_COMMAND && !s->have_mail && !s->close_after_out) {
        /* SIGTERM: the mail in flight is done; the client comes back later. */
        smtp_session_reply(s, 421, "Service shutting down, please try again later");
        if (!s->closed)
            smtp_end_session(s);
        return;
    }
    client_events(s);
    if (!s->close_after_out)
        process_input(s);
}

/* end_session - say something final and close after it is out. */
void smtp_end_session(struct smtp_session *s)
{
    s->close_after_out = true;
    s->state = SMTP_ST_CLOSING;
    close_server(s);
    if (!flush_client(s) || buf_len(&s->out) == 0) {
        smtp_session_close(s);
        return;
    }
    client_events(s);
}

/* ---- talking to the server ---------------------------------------------- */

bool smtp_flush_server(struct smtp_session *s)
{
    return send_queued(s, s->sfd, &s->up);
}

void smtp_server_events(struct smtp_session *s)
{
    uint32_t ev = EV_READ;
    if (buf_len(&s->up) > 0 || (s->state == SMTP_ST_SEND && !s->send_done && !s->on_reply))
        ev |= EV_WRITE;
    set_server_events(s, ev);
}

static void on_auth_reply(struct smtp_session *s, const struct smtp_reply *r);

/* up_command - send one command line upstream; cb gets the reply (NULL
 * when the server closed the connection instead). */
void smtp_up_command(struct smtp_session *s, smtp_reply_fn *cb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = buf_vprintf(&s->up, fmt, ap) && buf_append(&s->up, "\r\n", 2);
    va_end(ap);
    s->on_reply = cb;
    if (!ok || s->sfd < 0 || !smtp_flush_server(s)) {
        smtp_server_lost(s);
        return;
    }
    smtp_server_events(s);
}

/* up_raw - send a client line upstream unchanged (AUTH exchange, and the
 * relayed commands that the proxy does not edit). */
static void up_raw(struct smtp_session *s, struct str line, smtp_reply_fn *cb)
{
    smtp_up_command(s, cb, "%.*s", (int)line.len, line.ptr);
}

/* ---- the envelope --------------------------------------------------------- */

/* close_spool - the message spool and its share of the memory budget. */
static void close_spool(struct smtp_session *s)
{
    if (s->spool_fd >= 0)
        close(s->spool_fd);
    s->spool_fd = -1;
    s->w->spool_mem_used -= s->spool_mem;
    s->spool_mem = 0;
}

void smtp_reset_mail(struct smtp_session *s)
{
    s->have_mail = false;
    s->mail_received = false;
    s->record_due = false;
    s->txn_error[0] = s->refused_rcpt[0] = '\0';
    s->mail_from[0] = '\0';
    s->rcpts[0] = '\0';
    s->nrcpt = 0;
    proxy_mail_scan_free(s->mscan);
    s->mscan = NULL;
    close_spool(s);
    s->msg_len = 0;
    s->too_long = false;
    s->spool_failed = false;
    s->send_off = 0;
    s->send_done = false;
    s->result = ACCESSLOG_RESULT_CLEAN;
    s->action = ACCESSLOG_ACTION_NONE;
    s->detect_name[0] = s->error[0] = s->content_type[0] = s->message_id[0] = '\0';
    s->quarantine[0] = s->detect_file[0] = '\0';
    s->orig_date[0] = s->orig_to[0] = s->orig_cc[0] = '\0';
    s->header_len = 0;
    s->details = s->checks = 0;
    s->scan_ms = 0;
}

/* ---- session lifetime ----------------------------------------------------- */

static void session_free(void *arg)
{
    struct smtp_session *s = arg;
    buf_fini(&s->in);
    buf_fini(&s->out);
    buf_fini(&s->up);
    buf_fini(&s->sin);
    free(s);
}

void smtp_session_close(struct smtp_session *s)
{
    struct ev_loop *loop = s->w->loop;
    if (s->closed)
        return;
    s->closed = true;
    if (s->record_due)
        smtp_write_record(s); /* the client left, or the session ended, mid-transaction */
    proxy_worker_unlink(&s->link);
    if (s->pc)
        proxy_connect_cancel(s->pc);
    s->pc = NULL;
    if (s->dnsq)
        dns_cancel(s->dnsq);
    s->dnsq = NULL;
    proxy_mail_scan_free(s->mscan);
    s->mscan = NULL;
    ev_timer_stop(loop, &s->idle);
    ev_timer_stop(loop, &s->line_timer);
    close_server(s);
    if (s->cfd >= 0) {
        ev_io_stop(loop, &s->cio);
        close(s->cfd);
        s->cfd = -1;
    }
    close_spool(s);
    proxy_worker_session_end(s->w, s->slot);
    if (ev_defer(loop, session_free, s) < 0)
        session_free(s);
}

/* server_lost - the server closed (or failed) while we needed it: a
 * temporary failure for the client, never a silent success. */
void smtp_server_lost(struct smtp_session *s)
{
    bool in_auth = s->on_reply == on_auth_reply || s->state == SMTP_ST_AUTH_RELAY;
    s->server_gone = true;
    s->on_reply = NULL;
    close_server(s);
    if (s->state == SMTP_ST_SEND || s->state == SMTP_ST_SCAN) {
        str_copy(s->error, sizeof(s->error), "SERVER/connection lost during DATA");
        smtp_write_record(s);
        smtp_reset_mail(s);
    }
    if (in_auth) /* SMTP-8: the relayed AUTH exchange has its own text */
        smtp_session_reply(s, 500, "disconnected from server(AUTH).");
    else
        smtp_session_reply(s, 421, "%s disconnected from (%s:%u)", s->verb[0] ? s->verb : "Server",
                           s->server_host, s->server_port);
    if (!s->closed)
        smtp_end_session(s);
}

/* ---- commands ------------------------------------------------------------- */

static void on_relayed_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    smtp_session_relay(s, r);
    if (r->code == 421)
        s->close_after_out = true; /* C-42: the server ends the session */
    smtp_finish_command(s);
}

static void on_helo_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    bool ehlo = strcmp(s->verb, "EHLO") == 0;
    if (ehlo && r->code == 250) {
        size_t mark = s->out.wpos;
        if (!smtp_ehlo_rewrite(&s->out, r, max_message_size(s->cfg), s->cfg->proxymail_auth,
                               s->lan)) {
            s->out.wpos = mark;
            smtp_session_relay(s, r);
        }
    } else {
        smtp_session_relay(s, r);
    }
    smtp_finish_command(s);
}

static void on_mail_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code / 100 == 2) {
        s->have_mail = true;
    } else {
        char text[256];
        snprintf(text, sizeof(text), "SERVER/ERROR Reply(MAIL): buf=[%u %.*s]", r->code,
                 r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
        str_copy(s->error, sizeof(s->error), text);
        smtp_log_server_error(s, "MAIL", r);
        /* SMTP-6: the refusal is logged with this mail's record. */
        smtp_write_record(s);
        s->error[0] = '\0';
    }
    on_relayed_reply(s, r);
}

static void add_rcpt(struct smtp_session *s, const char *addr)
{
    size_t used = strlen(s->rcpts);
    snprintf(s->rcpts + used, sizeof(s->rcpts) - used, "%s%s", used ? "," : "", addr);
    s->nrcpt++;
}

/* note_refused_rcpt - the first refused recipient names the record of a
 * transaction that has no accepted one. */
static void note_refused_rcpt(struct smtp_session *s, const char *addr)
{
    if (!s->refused_rcpt[0])
        str_copy(s->refused_rcpt, sizeof(s->refused_rcpt), addr);
}

static void on_rcpt_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code / 100 == 2) {
        add_rcpt(s, s->rcpt_pending);
    } else {
        smtp_log_server_error(s, "RCPT", r);
        note_refused_rcpt(s, s->rcpt_pending);
        smtp_note_server_refusal(s, "RCPT", r); /* LOG-2: in the record's PROXY-ERROR */
    }
    on_relayed_reply(s, r);
}

/* rcpt_allowed - SMTP-7 relay control. */
static bool rcpt_allowed(struct smtp_session *s, struct str addr)
{
    if (!s->cfg->acl_rcpt || s->lan)
        return true;
    char domain[256];
    switch (smtp_rcpt_classify(addr, domain, sizeof(domain))) {
    case SMTP_RCPT_NO_DOMAIN:
        return true;
    case SMTP_RCPT_DOMAIN:
        return s->w->res->acl && access_match(s->w->res->acl, "smtp_rcpt", NULL, domain);
    case SMTP_RCPT_REFUSE:
    default:
        return false;
    }
}

static void start_data(struct smtp_session *s);

/* auth_required - SMTP-4 b: authentication is a later issue; the gate
 * itself is here so that turning pbs or proxymail_auth on never opens a
 * relay: without a way to authenticate yet, such a client only gets the
 * commands the gate lets through. */
static bool auth_required(const struct smtp_session *s, enum smtp_verb v)
{
    const struct config *cfg = s->cfg;
    if (!(cfg->pbs || cfg->proxymail_auth) || s->lan || cfg->acl_rcpt)
        return false;
    return v != SMTP_V_HELO && v != SMTP_V_EHLO && v != SMTP_V_AUTH && v != SMTP_V_QUIT &&
           v != SMTP_V_RSET;
}

static void on_quit_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 221)
        smtp_log_server_error(s, "QUIT", r);
    on_relayed_reply(s, r);
}

static void on_auth_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code / 100 == 5)
        smtp_log_server_error(s, "AUTH", r);
    if (r->code / 100 == 4 || r->code / 100 == 5)
        smtp_note_server_refusal(s, "AUTH", r); /* SMTP-8: PROXY-ERROR */
    if (r->code != 334 && r->code != 235 && r->code / 100 != 5)
        svclog_error(&s->log, "smtp_data_cmd_itr:AUTH buf=[%u %.*s]", r->code,
                     r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    smtp_session_relay(s, r);
    s->state = r->code == 334 ? SMTP_ST_AUTH_RELAY : SMTP_ST_COMMAND;
    smtp_finish_command(s);
}

/* do_command - one complete client line (without its line end). */
static void do_command(struct smtp_session *s, struct str line)
{
    if (s->state == SMTP_ST_AUTH_RELAY) {
        s->busy = true;
        up_raw(s, line, on_auth_reply);
        return;
    }
    struct smtp_command c;
    smtp_command_parse(line, &c);
    str_copy_view(s->verb, sizeof(s->verb), c.verb_text);
    for (char *p = s->verb; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    if (auth_required(s, c.verb)) {
        smtp_session_reply(s, 500, "Authentication Required");
        return;
    }
    struct str addr, params;
    switch (c.verb) {
    case SMTP_V_HELO:
    case SMTP_V_EHLO:
        /* SMTP-5: our host name, not the client's argument. */
        s->busy = true;
        smtp_up_command(s, on_helo_reply, "%s %s", c.verb == SMTP_V_EHLO ? "EHLO" : "HELO",
                        s->w->res->hostname);
        return;
    case SMTP_V_MAIL:
        /* SMTP-6; a path that does not parse is refused the same way
         * (never relayed: the address is needed for the log and later). */
        if (smtp_path_parse(c.arg, "FROM:", &addr, &params) != SMTP_PATH_OK) {
            smtp_session_reply(s, 501, "Syntax error (MAIL FROM:)");
            return;
        }
        smtp_end_transaction(s); /* the previous one, if a record is due */
        clock_gettime(CLOCK_REALTIME, &s->start_rt);
        s->start_ms = ev_now_ms(s->w->loop);
        str_copy_view(s->mail_from, sizeof(s->mail_from), addr);
        s->busy = true;
        up_raw(s, line, on_mail_reply);
        return;
    case SMTP_V_RCPT:
        enum smtp_path_status ps = smtp_path_parse(c.arg, "TO:", &addr, &params);
        if (ps == SMTP_PATH_NO_PREFIX) {
            smtp_session_reply(s, 500, "RCPT command must begin with \"RCPT TO:\"");
            return;
        }
        if (ps != SMTP_PATH_OK) {
            /* Not relayed: relay control needs an address it can read. */
            smtp_session_reply(s, 501, "Syntax error (RCPT TO:)");
            return;
        }
        if (!rcpt_allowed(s, addr)) {
            svclog_info(&s->log, "Relaying denied: client=[%s] rcpt=[%.*s]", s->client_ip,
                        (int)addr.len, addr.ptr);
            char refused[SMTP_PATH_MAX + 1];
            str_copy_view(refused, sizeof(refused), addr);
            note_refused_rcpt(s, refused);
            smtp_note_refusal(s, "PROXY/550 Relaying denied."); /* SMTP-7 2, LOG-2 */
            smtp_session_reply(s, 550, "Relaying denied.");
            return;
        }
        str_copy_view(s->rcpt_pending, sizeof(s->rcpt_pending), addr);
        s->busy = true;
        up_raw(s, line, on_rcpt_reply);
        return;
    case SMTP_V_DATA:
        start_data(s);
        return;
    case SMTP_V_RSET:
        smtp_end_transaction(s);
        s->busy = true;
        up_raw(s, line, on_relayed_reply);
        return;
    case SMTP_V_AUTH:
        if (s->cfg->proxymail_auth) {
            /* Proxy authentication (PAM) is a later issue. */
            smtp_session_reply(s, 504, "this mechanism not available");
            return;
        }
        s->busy = true;
        up_raw(s, line, on_auth_reply);
        return;
    case SMTP_V_QUIT:
        s->close_after_out = true;
        s->busy = true;
        up_raw(s, line, on_quit_reply);
        return;
    case SMTP_V_XFORWARD:
        if (!s->lan) {
            /* Issue 10, a deviation from SMTP-10: the parent logs and
             * trusts XFORWARD from the gateway's address, so an outside
             * client could name itself anything there. Only LAN clients
             * (smtp_lan with lan=yes), e.g. a content filter in front,
             * may send it. XCLIENT is an unknown command for everyone. */
            svclog_info(&s->log, "XFORWARD refused: client [%s] is not a LAN client", s->client_ip);
            smtp_session_reply(s, 550, "5.7.0 Command not permitted");
            return;
        }
        s->busy = true;
        up_raw(s, line, on_relayed_reply);
        return;
    case SMTP_V_NOOP:
    case SMTP_V_VRFY:
    case SMTP_V_EXPN:
    case SMTP_V_HELP:
        /* SMTP-10, C-31: relayed as they are. */
        s->busy = true;
        up_raw(s, line, on_relayed_reply);
        return;
    case SMTP_V_STARTTLS:
    case SMTP_V_BDAT:
    case SMTP_V_UNKNOWN:
    default:
        /* C-06: answered here, nothing goes upstream. */
        smtp_session_reply(s, 500, "Unknown Command: \"%.*s\"", (int)c.verb_text.len,
                           c.verb_text.ptr);
        return;
    }
}

/* next_command - take the next complete line of in, if any. */
static void next_command(struct smtp_session *s)
{
    while (!s->busy && !s->closed && !s->close_after_out &&
           (s->state == SMTP_ST_COMMAND || s->state == SMTP_ST_AUTH_RELAY)) {
        size_t line_len, consumed;
        enum smtp_result r =
            smtp_line_find(buf_rptr(&s->in), buf_len(&s->in), &line_len, &consumed);
        if (r == SMTP_TOO_LONG) {
            smtp_session_reply(s, 500, "Too long line");
            if (!s->closed)
                smtp_end_session(s);
            return;
        }
        smtp_line_deadline(s, r != SMTP_DONE && buf_len(&s->in) > 0);
        if (r != SMTP_DONE)
            return;
        struct str line = str_make(buf_rptr(&s->in), line_len);
        do_command(s, line);
        if (s->closed)
            return;
        buf_consume(&s->in, consumed);
        if (s->state == SMTP_ST_DATA)
            return; /* what follows DATA is message */
    }
}

/* process_input - whatever the client sent that can be handled now:
 * commands, and after DATA the message (which may already be buffered). */
static void process_input(struct smtp_session *s)
{
    for (int round = 0; round < 4 && !s->closed; round++) {
        enum smtp_state before = s->state;
        if (s->state == SMTP_ST_DATA)
            data_step(s);
        else
            next_command(s);
        if (s->closed || s->state == before || buf_len(&s->in) == 0)
            return;
    }
}

/* ---- cancelling a mail upstream (SMTP-9 4 and 5) ------------------------- */

static void on_cancel_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250) {
        /* SMTP-9 5: the server would not forget the envelope: end. */
        smtp_session_reply(s, 421, "Cannot reset the mail transaction at the server (%s:%u)",
                           s->server_host, s->server_port);
        if (!s->closed)
            smtp_end_session(s);
        return;
    }
    smtp_session_reply(s, s->cancel_code, "%s", s->cancel_text);
    if (!s->closed)
        smtp_finish_command(s);
}

/* on_held_rset_reply - the RSET before a held reply: then the reply. */
static void on_held_rset_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250) {
        smtp_session_reply(s, 421, "Cannot reset the mail transaction at the server (%s:%u)",
                           s->server_host, s->server_port);
        if (!s->closed)
            smtp_end_session(s);
        return;
    }
    if (!buf_append(&s->out, s->held_reply, s->held_len))
        s->close_after_out = true;
    s->held_len = 0;
    smtp_finish_command(s);
}

void smtp_relay_after_rset(struct smtp_session *s, const struct smtp_reply *r)
{
    s->state = SMTP_ST_COMMAND;
    if (r->code == 421) {
        /* C-42: the server ends the session; nothing to reset. */
        smtp_session_relay(s, r);
        s->close_after_out = true;
        smtp_finish_command(s);
        return;
    }
    if (r->len <= sizeof(s->held_reply)) {
        memcpy(s->held_reply, buf_rptr(&s->sin), r->len);
        s->held_len = r->len;
    } else {
        /* A reply longer than we keep: its first line says what matters. */
        int n = snprintf(s->held_reply, sizeof(s->held_reply), "%u %.*s\r\n", r->code,
                         r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
        s->held_len = n < 0                               ? 0
                      : (size_t)n < sizeof(s->held_reply) ? (size_t)n
                                                          : sizeof(s->held_reply);
    }
    s->busy = true;
    smtp_up_command(s, on_held_rset_reply, "RSET");
}

/* cancel_mail - log the mail, RSET the envelope given upstream, then
 * answer the client with code/text. */
void smtp_cancel_mail(struct smtp_session *s, unsigned code, const char *text)
{
    smtp_write_record(s);
    smtp_reset_mail(s);
    s->cancel_code = code;
    str_copy(s->cancel_text, sizeof(s->cancel_text), text);
    s->state = SMTP_ST_COMMAND;
    s->busy = true;
    smtp_up_command(s, on_cancel_reply, "RSET");
}

/* ---- DATA ------------------------------------------------------------------ */

static void start_scan(struct smtp_session *s);

static void start_data(struct smtp_session *s)
{
    if (!s->have_mail || s->nrcpt == 0) {
        smtp_session_reply(s, 503, "Need MAIL FROM and RCPT TO before DATA");
        return;
    }
    /* A message starts in memory (no file-system inode per mail, no disk
     * write for the common small mail) and moves to tmpdir when it
     * outgrows SMTP_SPOOL_MEM_MAX, or when the worker's budget is used up. */
    if (s->w->spool_mem_used + SMTP_SPOOL_MEM_MAX <= PROXY_SPOOL_MEM_BUDGET) {
        s->spool_fd = spoolfile_create_mem();
        if (s->spool_fd >= 0) {
            s->spool_mem = SMTP_SPOOL_MEM_MAX;
            s->w->spool_mem_used += s->spool_mem;
        }
    }
    if (s->spool_fd < 0)
        s->spool_fd = spoolfile_create(s->cfg->tmpdir);
    if (s->spool_fd < 0) {
        svclog_error_errno(&s->log, errno, "cannot create a spool file in [%s]", s->cfg->tmpdir);
        smtp_session_reply(s, 451, "Temporary failure: cannot spool the message");
        return;
    }
    s->mails++;
    s->mail_received = true;
    clock_gettime(CLOCK_REALTIME, &s->start_rt);
    s->start_ms = ev_now_ms(s->w->loop);
    s->msg_len = 0;
    s->too_long = false;
    smtp_dot_decoder_init(&s->dot);
    s->state = SMTP_ST_DATA;
    smtp_session_reply(s, 354, "Enter mail");
}

/* spool_to_disk - the message outgrew memory: go on in tmpdir. */
static bool spool_to_disk(struct smtp_session *s)
{
    int fd = spoolfile_to_disk(s->spool_fd, s->cfg->tmpdir);
    if (fd < 0) {
        svclog_error_errno(&s->log, errno, "spool write failed in [%s]", s->cfg->tmpdir);
        str_copy(s->error, sizeof(s->error), "PROXY/spool write failed");
        s->too_long = true;
        s->spool_failed = true;
        return false;
    }
    close_spool(s);
    s->spool_fd = fd;
    return true;
}

/* data_step - move message bytes from in to the spool. */
static void data_step(struct smtp_session *s)
{
    char chunk[SMTP_IN_CAP + 1]; /* + a ".\r" held from the last call */
    while (buf_len(&s->in) > 0 && !s->dot.done) {
        size_t used, n = smtp_dot_decode(&s->dot, buf_rptr(&s->in), buf_len(&s->in), chunk, &used);
        buf_consume(&s->in, used);
        if (s->too_long)
            continue; /* read to the end, keep nothing */
        if (s->msg_len + n > max_message_size(s->cfg)) {
            s->too_long = true;
            continue;
        }
        if (s->spool_mem && s->msg_len + n > SMTP_SPOOL_MEM_MAX && !spool_to_disk(s))
            continue; /* spool_failed: read on to the end, then 451 */
        if (spoolfile_write_all(s->spool_fd, chunk, n) < 0) {
            /* A full disk is a temporary failure (never a drop). */
            svclog_error_errno(&s->log, errno, "spool write failed in [%s]", s->cfg->tmpdir);
            str_copy(s->error, sizeof(s->error), "PROXY/spool write failed");
            /* The rest of the message is still coming: read it to its end
             * (keeping nothing), then answer 451. */
            s->too_long = true;
            s->spool_failed = true;
        }
        s->msg_len += n;
    }
    buf_compact(&s->in);
    if (!s->dot.done)
        return;
    if (s->spool_failed) {
        smtp_cancel_mail(s, 451, "Temporary failure: cannot spool the message");
        return;
    }
    if (s->dot.bare_lf || s->dot.bare_cr) {
        /* SMTP smuggling: only CRLF ends a line (smtp_dot.h). The message
         * was read to its real end, so nothing of it runs as commands;
         * refused as postfix's smtpd_forbid_bare_newline does, never sent
         * on, so the server cannot see another message than the scanner. */
        const char *what = s->dot.bare_lf ? "<LF>" : "<CR>";
        svclog_info(&s->log, "bare %s received in DATA: mail from [%s] refused", what,
                    s->mail_from);
        snprintf(s->error, sizeof(s->error), "PROXY/bare %s received", what);
        char text[64];
        snprintf(text, sizeof(text), "5.5.2 Error: bare %s received", what);
        smtp_cancel_mail(s, 550, text);
        return;
    }
    if (s->too_long) {
        /* SMTP-9 4: refused; the envelope given upstream is cancelled. */
        s->result = ACCESSLOG_RESULT_INFECTED;
        str_copy(s->detect_name, sizeof(s->detect_name), "SEKISHO/POLICY_BLOCK_MESSAGESIZE");
        s->action = ACCESSLOG_ACTION_DENY;
        smtp_cancel_mail(s, 554, "Too long message");
        return;
    }
    start_scan(s);
}

/* ---- after the scan: forward, or the action ------------------------------- */

static void send_message(struct smtp_session *s);

void smtp_on_final_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    /* SMTP-9 / no mail lost: the client hears what the server said about
     * the mail, so it gets 250 only when the server accepted it. */
    if (r->code / 100 != 2 && !s->error[0]) {
        smtp_log_server_error(s, "DATAEND", r);
        snprintf(s->error, sizeof(s->error), "SERVER/ERROR Reply(DATA END): buf=[%u %.*s]", r->code,
                 r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    }
    smtp_write_record(s);
    smtp_reset_mail(s);
    s->state = SMTP_ST_COMMAND;
    s->on_reply = NULL;
    smtp_session_relay(s, r);
    if (r->code == 421)
        s->close_after_out = true;
    smtp_finish_command(s);
}

static void on_data_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 354) {
        /* SMTP-9 6: not accepted: the client hears why. */
        smtp_log_server_error(s, "DATA", r);
        snprintf(s->error, sizeof(s->error), "SERVER/ERROR Reply(DATA): buf=[%u %.*s]", r->code,
                 r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
        smtp_on_final_reply(s, r);
        return;
    }
    send_message(s);
}

/* received_header - SMTP-9 6: three folded lines. */
static bool added_headers(struct smtp_session *s)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
    const char *product = s->w->res->product_name;
    bool ok = true;
    if (!s->cfg->anonymous)
        ok = buf_printf(&s->up, "Received: from %s (%s)\r\n\tby %s (%s) ;\r\n\t%s\r\n",
                        s->client_host, s->client_ip, s->w->res->hostname, product, date);
    /* C-48: the status header is added even with anonymous. */
    if (ok && s->result == ACCESSLOG_RESULT_INFECTED)
        ok =
            buf_printf(&s->up, "X-Virus-Status: infected(%s) with %s\r\n", product, s->detect_name);
    else if (ok)
        ok = buf_printf(&s->up, "X-Virus-Status: clean(%s)\r\n", product);
    return ok;
}

/* send_step - the spool through the dot encoder into up, as the server
 * takes it; then the end line and the final reply. */
static void send_step(struct smtp_session *s)
{
    for (;;) {
        if (!smtp_flush_server(s)) {
            smtp_server_lost(s);
            return;
        }
        if (buf_len(&s->up) > 0) {
            smtp_server_events(s);
            return; /* the server is slower */
        }
        if (s->send_done)
            return;
        if ((uint64_t)s->send_off >= s->msg_len) {
            char end[5];
            size_t n = smtp_dot_end(&s->enc, end);
            buf_append(&s->up, end, n);
            s->send_done = true;
            s->on_reply = smtp_on_final_reply;
            continue;
        }
        char chunk[SMTP_SPOOL_CHUNK];
        ssize_t n = pread(s->spool_fd, chunk, sizeof(chunk), s->send_off);
        if (n <= 0) {
            svclog_error_errno(&s->log, n < 0 ? errno : EIO, "spool read failed");
            smtp_server_lost(s); /* a 421: the client will retry */
            return;
        }
        buf_compact(&s->up);
        size_t used, w = smtp_dot_encode(&s->enc, chunk, (size_t)n, buf_wptr(&s->up),
                                         buf_space(&s->up), &used);
        buf_produce(&s->up, w);
        s->send_off += (off_t)used;
    }
}

static void send_message(struct smtp_session *s)
{
    s->state = SMTP_ST_SEND;
    s->on_reply = NULL;
    s->send_off = 0;
    s->send_done = false;
    smtp_dot_encoder_init(&s->enc);
    if (!added_headers(s)) {
        smtp_server_lost(s);
        return;
    }
    send_step(s);
}

/* admin_notification - SCAN-13: our own notification mails (they carry
 * X-Admin-Notification-Id with the configured id) are not treated as
 * infected: they quote detection names, and would loop. */
static bool admin_notification(const struct smtp_session *s, const struct mime_summary *sum)
{
    uint64_t id;
    return s->cfg->admin_notification_id != 0 && sum->admin_notification_id.ptr &&
           str_to_u64(str_trim(sum->admin_notification_id), UINT64_MAX, &id) &&
           id == s->cfg->admin_notification_id;
}

static void on_scanned(struct smtp_session *s, const struct proxy_mail_scan_result *res)
{
    s->checks += res->checks;
    s->scan_ms += res->scan_ms;
    s->details |= res->details;
    if (res->verdict == SCANREQ_ERROR) {
        /* A dead scanner or a full disk is a temporary failure, never a pass. */
        svclog_error(&s->log, "virus scan failed: %s mail from [%s]", res->error, s->mail_from);
        snprintf(s->error, sizeof(s->error), "PROXY/virus scan failed: %s", res->error);
        smtp_cancel_mail(s, 451, "Temporary failure: virus scan failed, please try again later");
        return;
    }
    if (res->verdict == SCANREQ_INFECTED) {
        s->result = ACCESSLOG_RESULT_INFECTED;
        str_copy(s->detect_name, sizeof(s->detect_name), res->name);
        str_copy(s->detect_file, sizeof(s->detect_file), res->file);
        enum config_action a = s->lan ? s->cfg->lan_action : s->cfg->action;
        s->action = a == CONFIG_ACTION_PASS        ? ACCESSLOG_ACTION_PASS
                    : a == CONFIG_ACTION_BLACKHOLE ? ACCESSLOG_ACTION_BLACKHOLE
                    : a == CONFIG_ACTION_SENDBACK  ? ACCESSLOG_ACTION_SENDBACK
                    : a == CONFIG_ACTION_DELETE    ? ACCESSLOG_ACTION_DELETE
                                                   : ACCESSLOG_ACTION_DENY;
        svclog_info(&s->log, "Infected: mail from [%s] to [%s] VirusName: %s File: [%s] action=%s",
                    s->mail_from, s->rcpts, res->name, res->file, accesslog_action_name(s->action));
        if (s->lan ? s->cfg->lan_quarantine : s->cfg->quarantine)
            smtp_quarantine_mail(s);
        if ((s->lan ? s->cfg->lan_notify_admin : s->cfg->notify_admin) &&
            s->cfg->admin_mailaddr.count > 0)
            smtp_notify_admin(s);
        if (s->action != ACCESSLOG_ACTION_PASS) {
            if (s->action == ACCESSLOG_ACTION_SENDBACK || s->action == ACCESSLOG_ACTION_DELETE) {
                smtp_notify(s);
                return;
            }
            if (s->action == ACCESSLOG_ACTION_BLACKHOLE) {
                smtp_cancel_mail(s, 250, "Message accepted for delivery");
                return;
            }
            char text[SCANREQ_NAME_MAX + 64];
            snprintf(text, sizeof(text), "Infected by %s", res->name);
            smtp_cancel_mail(s, 554, text);
            return;
        }
    }
    s->state = SMTP_ST_SEND;
    smtp_up_command(s, on_data_reply, "DATA");
}

/* on_mail_scanned - the scan is over: the session goes on with a copy of
 * the result (mail_scan touches nothing after its callback, so it can be
 * freed here). */
static void on_mail_scanned(void *arg, const struct proxy_mail_scan_result *r)
{
    struct smtp_session *s = arg;
    struct proxy_mail_scan_result res = *r;
    proxy_mail_scan_free(s->mscan);
    s->mscan = NULL;
    on_scanned(s, &res);
}

/* copy_summary - what the logs and templates need from the header; the
 * summary's views die with the scan's mapping. */
static void copy_summary(struct smtp_session *s, const struct mime_summary *sum)
{
    str_copy(s->content_type, sizeof(s->content_type), sum->content_type);
    str_copy_view(s->message_id, sizeof(s->message_id), str_trim(sum->message_id));
    str_copy_view(s->orig_date, sizeof(s->orig_date), str_trim(sum->date));
    str_copy_view(s->orig_to, sizeof(s->orig_to), str_trim(sum->to));
    str_copy_view(s->orig_cc, sizeof(s->orig_cc), str_trim(sum->cc));
    s->header_len = sum->header_len;
}

/* on_mail_walked - the mail's structure is known (the walk runs in slices
 * on the loop): the summary, and SCAN-13 before anything is decided. */
static bool on_mail_walked(void *arg, const struct mime_summary *sum)
{
    struct smtp_session *s = arg;
    copy_summary(s, sum);
    if (admin_notification(s, sum)) {
        /* SCAN-13: our own notification is not scanned again. */
        proxy_mail_scan_free(s->mscan);
        s->mscan = NULL;
        s->state = SMTP_ST_SEND;
        smtp_up_command(s, on_data_reply, "DATA");
        return false;
    }
    return true;
}

static void start_scan(struct smtp_session *s)
{
    s->state = SMTP_ST_SCAN;
    s->busy = true;
    client_events(s);
    s->mscan = proxy_mail_scan_open(s->w, SCANREQ_SVC_SMTP, s->spool_fd, s->msg_len, &s->log);
    if (!s->mscan) {
        svclog_error_errno(&s->log, errno, "cannot map the spooled message");
        snprintf(s->error, sizeof(s->error), "PROXY/cannot map the spooled message");
        smtp_cancel_mail(s, 451, "Temporary failure: virus scan failed, please try again later");
        return;
    }
    proxy_mail_scan_run(s->mscan, on_mail_walked, on_mail_scanned, s);
}

/* ---- events ----------------------------------------------------------------- */

static void on_greeting(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 220) {
        smtp_session_reply(
            s, 421, "Cannot get correct greeting message from mail server (%s:%u). return code=%u",
            s->server_host, s->server_port, r->code);
        if (!s->closed)
            smtp_end_session(s);
        return;
    }
    /* SMTP-3 4 (C-02): our own greeting; the server's text is not relayed. */
    buf_printf(&s->out, "220 %s %s\r\n", s->w->res->hostname, s->w->res->product_name);
    s->state = SMTP_ST_COMMAND;
    smtp_finish_command(s);
}

static void read_replies(struct smtp_session *s)
{
    for (;;) {
        if (buf_space(&s->sin) == 0)
            buf_compact(&s->sin);
        ssize_t n = recv(s->sfd, buf_wptr(&s->sin), buf_space(&s->sin), 0);
        if (n > 0) {
            buf_produce(&s->sin, (size_t)n);
            touch(s);
        }
        while (buf_len(&s->sin) > 0) {
            struct smtp_reply r;
            enum smtp_result st = smtp_reply_parse(buf_rptr(&s->sin), buf_len(&s->sin), &r);
            if (st == SMTP_AGAIN)
                break;
            if (st != SMTP_DONE) {
                svclog_error(&s->log, "smtp: invalid reply from the server (%s:%u)", s->server_host,
                             s->server_port);
                smtp_server_lost(s);
                return;
            }
            smtp_reply_fn *cb = s->on_reply;
            s->on_reply = NULL;
            if (cb)
                cb(s, &r);
            else if (r.code == 421 && s->state == SMTP_ST_COMMAND && !s->busy)
                s->close_after_out = true, smtp_session_relay(s, &r), smtp_finish_command(s);
            /* (an unasked reply otherwise, e.g. to our RSET: dropped) */
            if (s->closed)
                return;
            buf_consume(&s->sin, r.len);
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            if (s->on_reply || s->state == SMTP_ST_SEND || s->state == SMTP_ST_SCAN ||
                s->state == SMTP_ST_GREETING) {
                smtp_server_lost(s);
                return;
            }
            close_server(s);
            s->server_gone = true;
            return;
        }
        if (n < 0)
            return;
    }
}

static void server_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct smtp_session *s = io->data;
    if (events & EV_WRITE) {
        if (s->state == SMTP_ST_SEND && !s->send_done) {
            send_step(s);
            if (s->closed)
                return;
        } else if (!smtp_flush_server(s)) {
            smtp_server_lost(s);
            return;
        }
    }
    if (events & (EV_READ | EV_HUP | EV_ERROR))
        read_replies(s);
    if (!s->closed && s->sfd >= 0)
        smtp_server_events(s);
}

static void client_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct smtp_session *s = io->data;
    if ((events & EV_WRITE) && !flush_client(s)) {
        smtp_session_close(s);
        return;
    }
    if (s->close_after_out && buf_len(&s->out) == 0) {
        smtp_session_close(s);
        return;
    }
    if (events & (EV_READ | EV_HUP | EV_ERROR)) {
        if (buf_space(&s->in) == 0)
            buf_compact(&s->in);
        ssize_t n = -1;
        if (buf_space(&s->in))
            n = recv(s->cfd, buf_wptr(&s->in), buf_space(&s->in), 0);
        else if (events & (EV_HUP | EV_ERROR))
            n = 0; /* reset or closed both ways: gone, though we had no room to read */
        else
            errno = EAGAIN; /* no room: nothing read (client_events stops reading) */
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            /* The client left. A mail not yet accepted upstream is not
             * accepted: we never send it on our own. */
            if (s->state == SMTP_ST_DATA || s->state == SMTP_ST_SCAN) {
                str_copy(s->error, sizeof(s->error), "CLIENT/connection closed during DATA");
                smtp_write_record(s);
            }
            smtp_session_close(s);
            return;
        }
        if (n > 0) {
            buf_produce(&s->in, (size_t)n);
            touch(s);
        }
    }
    process_input(s);
    if (!s->closed)
        client_events(s);
}

/* server_denied - acl_to (ACL-6, CONN-5): the upstream must match
 * hosts.allow smtp_to by its configured name or the address connected.
 * The check comes before a single byte of SMTP is exchanged; the client
 * gets the connection-error reply of SMTP-3 2 with the CONN-5 text. */
static bool server_denied(struct smtp_session *s, const char *ip)
{
    if (!s->cfg->acl_to)
        return false;
    const struct access_table *acl = s->w->res->acl;
    const char *name = strcmp(s->server_host, ip) ? s->server_host : NULL;
    if (acl && access_match(acl, "smtp_to", ip, name))
        return false;
    svclog_info(&s->log, "Access Denied to [%s:%s]", ip, s->server_host);
    snprintf(s->error, sizeof(s->error), "CONNECT(%s:%u)/Access Inhibited by Proxy(SEKISHO)",
             s->server_host, s->server_port);
    smtp_session_reply(s, 421, "server open error(%s:%u) errmsg=[%s]", s->server_host,
                       s->server_port, s->error);
    if (!s->closed)
        smtp_end_session(s);
    return true;
}

static void on_connected(void *arg, const struct proxy_connect_result *r)
{
    struct smtp_session *s = arg;
    s->pc = NULL;
    if (r->fd < 0) {
        /* SMTP-3 2 */
        svclog_error(&s->log, "%s", r->error);
        smtp_session_reply(s, 421, "server open error(%s:%u) errmsg=[%s]", s->server_host,
                           s->server_port, r->error);
        if (!s->closed)
            smtp_end_session(s);
        return;
    }
    if (server_denied(s, r->ip)) {
        close(r->fd);
        return;
    }
    s->sfd = r->fd;
    str_copy(s->server_ip, sizeof(s->server_ip), r->ip);
    s->log.server_ip = s->server_ip;
    ev_io_init(&s->sio, s->sfd, server_io, s);
    s->state = SMTP_ST_GREETING;
    s->on_reply = on_greeting;
    set_server_events(s, EV_READ);
}

/* admit - smtp_from (G-15), the LAN test, then the upstream connection
 * (SMTP-3 1). */
static void admit(struct smtp_session *s)
{
    const struct config *cfg = s->cfg;
    const struct access_table *acl = s->w->res->acl;
    const char *name = strcmp(s->client_host, s->client_ip) ? s->client_host : NULL;
    if (cfg->acl_from && (!acl || !access_match(acl, "smtp_from", s->client_ip, name))) {
        svclog_info(&s->log, "Access Denied from [%s:%s]", s->client_ip, s->client_host);
        smtp_session_close(s);
        return;
    }
    s->lan = cfg->lan && acl && access_match(acl, "smtp_lan", s->client_ip, name);
    bool lan_parent = s->lan && cfg->lan_parent_server && *cfg->lan_parent_server_host;
    str_copy(s->server_host, sizeof(s->server_host),
             lan_parent ? cfg->lan_parent_server_host : cfg->parent_server_host);
    s->server_port = (uint16_t)(lan_parent ? cfg->lan_parent_server_port : cfg->parent_server_port);
    if (!*s->server_host)
        str_copy(s->server_host, sizeof(s->server_host), "127.0.0.1");
    s->log.server_host = s->server_host;
    s->log.server_port = s->server_port;
    unsigned char addr[sizeof(struct in6_addr)];
    if ((inet_pton(AF_INET, s->server_host, addr) == 1 ||
         inet_pton(AF_INET6, s->server_host, addr) == 1) &&
        server_denied(s, s->server_host))
        return; /* ACL-6: an address is checked before it is contacted */
    s->state = SMTP_ST_CONNECT;
    set_client_events(s, EV_READ);
    s->pc = proxy_connect_start(s->w->loop, s->w->dns, s->server_host, s->server_port, cfg->ipv6,
                                cfg->connect_timeout, on_connected, s);
}

static void on_client_name(void *arg, const char *name)
{
    struct smtp_session *s = arg;
    s->dnsq = NULL;
    if (name && *name)
        str_copy(s->client_host, sizeof(s->client_host), name);
    admit(s);
}

/* on_worker_stop - SIGTERM: a session between mails closes now; one with
 * a mail in flight finishes it first (GEN-9: nothing is lost). */
static void on_worker_stop(struct proxy_session_link *link)
{
    struct smtp_session *s = (struct smtp_session *)link;
    if (s->state == SMTP_ST_COMMAND && !s->busy && !s->have_mail) {
        smtp_session_reply(s, 421, "Service shutting down, please try again later");
        if (!s->closed)
            smtp_end_session(s);
    }
}

static void smtp_session_start(struct proxy_worker *w, int fd, const struct sockaddr_storage *peer,
                               int slot)
{
    struct smtp_session *s = calloc(1, sizeof(*s));
    if (!s || buf_alloc_storage(&s->in, SMTP_IN_CAP) < 0 ||
        buf_alloc_storage(&s->out, SMTP_OUT_CAP) < 0 ||
        buf_alloc_storage(&s->up, SMTP_UP_CAP) < 0 ||
        buf_alloc_storage(&s->sin, SMTP_SIN_CAP) < 0) {
        if (s)
            session_free(s);
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
    s->peer = *peer;
    clock_gettime(CLOCK_REALTIME, &s->start_rt);
    s->start_ms = ev_now_ms(w->loop);
    sock_addr_text((const struct sockaddr *)peer, s->client_ip, sizeof(s->client_ip),
                   &s->client_port);
    str_copy(s->client_host, sizeof(s->client_host), s->client_ip);
    s->log = (struct svclog_ctx){.listen_port = w->listen_port,
                                 .internal_id = slot,
                                 .client_ip = s->client_ip,
                                 .client_host = s->client_host,
                                 .client_port = s->client_port};
    ev_io_init(&s->cio, fd, client_io, s);
    ev_timer_init(&s->idle, smtp_on_idle, s);
    ev_timer_init(&s->line_timer, smtp_on_line_timeout, s);
    s->link.on_stop = on_worker_stop;
    proxy_worker_link(w, &s->link);
    touch(s);
    if (w->cfg->reverselookup) {
        s->dnsq = dns_reverse(w->dns, (const struct sockaddr *)&s->peer, on_client_name, s);
        return;
    }
    admit(s);
}

const struct proxy_proto smtp_proto = {
    .name = "smtp",
    .session_start = smtp_session_start,
    .busy_reply = "421 4.7.0 Too many connections from your address (%s)\r\n",
};
