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
#include "proxy/proxy_detect.h"
#include "proxy/proxy_mail_scan.h"
#include "proxy/proxy_scan.h"

#include "proxy/smtp/smtp_internal.h"

static void next_command(struct smtp_session *s);
static void process_input(struct smtp_session *s);
static void data_step(struct smtp_session *s);

/* ---- small helpers ------------------------------------------------------ */

static uint64_t max_message_size(const struct config *cfg)
{
    return cfg->block_messagesize ? cfg->block_messagesize_len : SMTP_MESSAGE_MAX;
}

/* smtp_session_reply - queue a generated reply "<code> <text> (<product_name>)".
 * The core writes it when the handler returns. */
void smtp_session_reply(struct smtp_session *s, unsigned code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (!smtp_reply_format(&s->ps.client.out, code, text, s->ps.w->res->product_name))
        s->close_after_out = true; /* next_command keeps SMTP_OUT_ROOM; be safe */
}

/* relay_reply - the server's reply, as it came. */
void smtp_session_relay(struct smtp_session *s, const struct smtp_reply *r)
{
    if (!buf_append(&s->ps.client.out, buf_rptr(&s->ps.server.in), r->len))
        s->close_after_out = true;
}

/* finish_command - the command is done: the next one. */
void smtp_finish_command(struct smtp_session *s)
{
    s->dlg.busy = false;
    if (s->close_after_out) {
        proxy_session_end(&s->ps);
        return;
    }
    if (s->ps.w->stopping && s->state == SMTP_ST_COMMAND && !s->m.have_mail) {
        /* SIGTERM: the mail in flight is done; the client comes back later. */
        smtp_session_reply(s, 421, "Service shutting down, please try again later");
        smtp_end_session(s);
        return;
    }
    process_input(s);
}

/* end_session - say something final and close after it is out. */
void smtp_end_session(struct smtp_session *s)
{
    s->state = SMTP_ST_CLOSING;
    s->on_reply = NULL;
    proxy_session_end(&s->ps);
}

void smtp_session_abort(struct smtp_session *s)
{
    proxy_session_abort(&s->ps);
}

/* ---- talking to the server ---------------------------------------------- */

static void on_auth_reply(struct smtp_session *s, const struct smtp_reply *r);

/* up_command - send one command line upstream; cb gets the reply (NULL
 * when the server closed the connection instead). */
void smtp_up_command(struct smtp_session *s, smtp_reply_fn *cb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = buf_vprintf(&s->ps.server.out, fmt, ap) && buf_append(&s->ps.server.out, "\r\n", 2);
    va_end(ap);
    s->on_reply = cb;
    if (!ok || s->ps.server.fd < 0)
        smtp_server_lost(s); /* else the core writes it out */
}

/* up_raw - send a client line upstream unchanged (AUTH exchange, and the
 * relayed commands that the proxy does not edit). */
static void up_raw(struct smtp_session *s, struct str line, smtp_reply_fn *cb)
{
    smtp_up_command(s, cb, "%.*s", (int)line.len, line.ptr);
}

/* ---- the envelope --------------------------------------------------------- */

/* smtp_reset_mail - end the transaction (its record was written or is
 * not due) and begin the next one, which starts now. */
void smtp_reset_mail(struct smtp_session *s)
{
    proxy_mail_scan_free(s->m.mscan);
    proxy_spool_close(&s->m.spool);
    s->m = (struct smtp_mail){.spool = PROXY_SPOOL_CLOSED};
    proxy_outcome_begin(&s->m.o, &s->ps);
}

/* ---- session lifetime ----------------------------------------------------- */

/* on_closing - the session ends (proxy_session): a transaction cut off
 * still gets its record. */
static void on_closing(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (s->m.record_due)
        smtp_write_record(s); /* the client left, or the session ended, mid-transaction */
    proxy_dialogue_stop(&s->dlg);
    proxy_mail_scan_free(s->m.mscan);
    s->m.mscan = NULL;
}

static void on_release(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    proxy_spool_close(&s->m.spool);
}

/* server_lost - the server closed (or failed) while we needed it: a
 * temporary failure for the client, never a silent success. */
void smtp_server_lost(struct smtp_session *s)
{
    bool in_auth = s->on_reply == on_auth_reply || s->state == SMTP_ST_AUTH_RELAY;
    s->server_gone = true;
    s->on_reply = NULL;
    proxy_session_close_server(&s->ps);
    if (s->state == SMTP_ST_SEND || s->state == SMTP_ST_SCAN) {
        str_copy(s->m.o.error, sizeof(s->m.o.error), "SERVER/connection lost during DATA");
        smtp_write_record(s);
        smtp_reset_mail(s);
    }
    if (in_auth) /* SMTP-8: the relayed AUTH exchange has its own text */
        smtp_session_reply(s, 500, "disconnected from server(AUTH).");
    else
        smtp_session_reply(s, 421, "%s disconnected from (%s:%u)", s->verb[0] ? s->verb : "Server",
                           s->ps.server.host, s->ps.server.port);
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
        size_t mark = s->ps.client.out.wpos;
        if (!smtp_ehlo_rewrite(&s->ps.client.out, r, max_message_size(s->ps.cfg),
                               s->ps.cfg->proxymail_auth, s->lan)) {
            s->ps.client.out.wpos = mark;
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
        s->m.have_mail = true;
    } else {
        char text[256];
        snprintf(text, sizeof(text), "SERVER/ERROR Reply(MAIL): buf=[%u %.*s]", r->code,
                 r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
        str_copy(s->m.o.error, sizeof(s->m.o.error), text);
        smtp_log_server_error(s, "MAIL", r);
        /* SMTP-6: the refusal is logged with this mail's record. */
        smtp_write_record(s);
        s->m.o.error[0] = '\0';
    }
    on_relayed_reply(s, r);
}

static void add_rcpt(struct smtp_session *s, const char *addr)
{
    size_t used = strlen(s->m.rcpts);
    snprintf(s->m.rcpts + used, sizeof(s->m.rcpts) - used, "%s%s", used ? "," : "", addr);
    s->m.nrcpt++;
}

/* note_refused_rcpt - the first refused recipient names the record of a
 * transaction that has no accepted one. */
static void note_refused_rcpt(struct smtp_session *s, const char *addr)
{
    if (!s->m.refused_rcpt[0])
        str_copy(s->m.refused_rcpt, sizeof(s->m.refused_rcpt), addr);
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
    if (!s->ps.cfg->acl_rcpt || s->lan)
        return true;
    char domain[256];
    switch (smtp_rcpt_classify(addr, domain, sizeof(domain))) {
    case SMTP_RCPT_NO_DOMAIN:
        return true;
    case SMTP_RCPT_DOMAIN:
        return s->ps.w->res->acl && access_match(s->ps.w->res->acl, "smtp_rcpt", NULL, domain);
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
    const struct config *cfg = s->ps.cfg;
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
        svclog_error(&s->ps.log, "smtp_data_cmd_itr:AUTH buf=[%u %.*s]", r->code,
                     r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    smtp_session_relay(s, r);
    s->state = r->code == 334 ? SMTP_ST_AUTH_RELAY : SMTP_ST_COMMAND;
    smtp_finish_command(s);
}

/* smtp_invalid_command - a command refused as invalid: the reply, and
 * the error budget (proxy_dialogue): a client that keeps sending them is
 * disconnected, as postfix's smtpd_hard_error_limit does. */
static void smtp_invalid_command(struct smtp_session *s, unsigned code, const char *text)
{
    if (proxy_dialogue_invalid(&s->dlg)) {
        svclog_info(&s->ps.log, "too many errors from [%s]: disconnected", s->ps.client.ip);
        smtp_session_reply(s, 421, "4.7.0 Error: too many errors");
        smtp_end_session(s);
        return;
    }
    smtp_session_reply(s, code, "%s", text);
}

/* ---- the commands (SMTP-1, SMTP-5..8, SMTP-10, C-06) --------------------- */

/* Each runs one complete client line; ps is the session, line the whole
 * line (without its end), arg what follows the verb. */
#define SMTP_CMD(name) static void name(struct proxy_session *ps, struct str line, struct str arg)
#define S              ((struct smtp_session *)ps)

/* SMTP-5: our host name, not the client's argument. */
SMTP_CMD(cmd_helo)
{
    (void)line, (void)arg;
    S->dlg.busy = true;
    smtp_up_command(S, on_helo_reply, "%s %s", strcmp(S->verb, "EHLO") == 0 ? "EHLO" : "HELO",
                    ps->w->res->hostname);
}

/* SMTP-6; a path that does not parse is refused the same way (never
 * relayed: the address is needed for the log and later). */
SMTP_CMD(cmd_mail)
{
    struct smtp_session *s = S;
    struct str addr, params;
    if (smtp_path_parse(arg, "FROM:", &addr, &params) != SMTP_PATH_OK) {
        smtp_invalid_command(s, 501, "Syntax error (MAIL FROM:)");
        return;
    }
    smtp_end_transaction(s); /* the previous one, if a record is due; this one starts */
    str_copy_view(s->m.mail_from, sizeof(s->m.mail_from), addr);
    s->dlg.busy = true;
    up_raw(s, line, on_mail_reply);
}

SMTP_CMD(cmd_rcpt)
{
    struct smtp_session *s = S;
    struct str addr, params;
    enum smtp_path_status st = smtp_path_parse(arg, "TO:", &addr, &params);
    if (st == SMTP_PATH_NO_PREFIX) {
        smtp_invalid_command(s, 500, "RCPT command must begin with \"RCPT TO:\"");
        return;
    }
    if (st != SMTP_PATH_OK) {
        /* Not relayed: relay control needs an address it can read. */
        smtp_invalid_command(s, 501, "Syntax error (RCPT TO:)");
        return;
    }
    if (!rcpt_allowed(s, addr)) {
        svclog_info(&ps->log, "Relaying denied: client=[%s] rcpt=[%.*s]", ps->client.ip,
                    (int)addr.len, addr.ptr);
        char refused[SMTP_PATH_MAX + 1];
        str_copy_view(refused, sizeof(refused), addr);
        note_refused_rcpt(s, refused);
        smtp_note_refusal(s, "PROXY/550 Relaying denied."); /* SMTP-7 2, LOG-2 */
        smtp_session_reply(s, 550, "Relaying denied.");
        return;
    }
    str_copy_view(s->rcpt_pending, sizeof(s->rcpt_pending), addr);
    s->dlg.busy = true;
    up_raw(s, line, on_rcpt_reply);
}

SMTP_CMD(cmd_data)
{
    (void)line, (void)arg;
    start_data(S);
}

SMTP_CMD(cmd_rset)
{
    (void)arg;
    smtp_end_transaction(S);
    S->dlg.busy = true;
    up_raw(S, line, on_relayed_reply);
}

SMTP_CMD(cmd_auth)
{
    (void)arg;
    if (ps->cfg->proxymail_auth) {
        /* Proxy authentication (PAM) is a later issue. */
        smtp_session_reply(S, 504, "this mechanism not available");
        return;
    }
    S->dlg.busy = true;
    up_raw(S, line, on_auth_reply);
}

SMTP_CMD(cmd_quit)
{
    (void)arg;
    S->close_after_out = true;
    S->dlg.busy = true;
    up_raw(S, line, on_quit_reply);
}

/* Issue 10, a deviation from SMTP-10: the parent logs and trusts XFORWARD
 * from the gateway's address, so an outside client could name itself
 * anything there. Only LAN clients (smtp_lan with lan=yes), e.g. a content
 * filter in front, may send it. XCLIENT is an unknown command for everyone. */
SMTP_CMD(cmd_xforward)
{
    (void)arg;
    if (!S->lan) {
        svclog_info(&ps->log, "XFORWARD refused: client [%s] is not a LAN client", ps->client.ip);
        smtp_session_reply(S, 550, "5.7.0 Command not permitted");
        return;
    }
    S->dlg.busy = true;
    up_raw(S, line, on_relayed_reply);
}

/* SMTP-10, C-31: relayed as they are. */
SMTP_CMD(cmd_relay)
{
    (void)arg;
    S->dlg.busy = true;
    up_raw(S, line, on_relayed_reply);
}

#undef S

static const struct proxy_command smtp_commands[] = {
    {SMTP_V_HELO, cmd_helo},  {SMTP_V_EHLO, cmd_helo},  {SMTP_V_MAIL, cmd_mail},
    {SMTP_V_RCPT, cmd_rcpt},  {SMTP_V_DATA, cmd_data},  {SMTP_V_RSET, cmd_rset},
    {SMTP_V_AUTH, cmd_auth},  {SMTP_V_QUIT, cmd_quit},  {SMTP_V_XFORWARD, cmd_xforward},
    {SMTP_V_NOOP, cmd_relay}, {SMTP_V_VRFY, cmd_relay}, {SMTP_V_EXPN, cmd_relay},
    {SMTP_V_HELP, cmd_relay},
    /* STARTTLS, BDAT and anything else: C-06, answered here, nothing
     * goes upstream. */
};

/* do_command - one complete client line (without its line end). */
static void do_command(struct smtp_session *s, struct str line)
{
    if (s->state == SMTP_ST_AUTH_RELAY) {
        s->dlg.busy = true;
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
    const struct proxy_command *cmd = proxy_command_find(
        smtp_commands, sizeof(smtp_commands) / sizeof(smtp_commands[0]), (int)c.verb);
    if (!cmd) {
        char text[256];
        snprintf(text, sizeof(text), "Unknown Command: \"%.*s\"", (int)c.verb_text.len,
                 c.verb_text.ptr);
        smtp_invalid_command(s, 500, text);
        return;
    }
    cmd->run(&s->ps, line, c.arg);
}

/* find_line - proxy_dialogue's view of smtp_line_find. */
static enum proxy_line_status find_line(const char *buf, size_t len, size_t *line_len,
                                        size_t *consumed)
{
    switch (smtp_line_find(buf, len, line_len, consumed)) {
    case SMTP_DONE:
        return PROXY_LINE_DONE;
    case SMTP_TOO_LONG:
        return PROXY_LINE_TOO_LONG;
    default:
        return PROXY_LINE_AGAIN;
    }
}

/* next_command - take the next complete lines of in, one command at a time.
 * A command answered here (a refusal) does not wait for the server, so a
 * pipelined flood of them would queue replies faster than a client that
 * does not read takes them: once client.out is short of SMTP_OUT_ROOM the
 * next line waits until the client has read (on_client_drained), and the
 * client's input backs up in its buffer and the kernel instead. */
static void next_command(struct smtp_session *s)
{
    while (!s->close_after_out && (s->state == SMTP_ST_COMMAND || s->state == SMTP_ST_AUTH_RELAY)) {
        if (buf_space(&s->ps.client.out) < SMTP_OUT_ROOM) {
            s->ps.client_pull = true;
            return;
        }
        struct str line;
        size_t consumed;
        enum proxy_line_status r = proxy_dialogue_next(&s->dlg, &line, &consumed);
        if (r == PROXY_LINE_TOO_LONG) {
            smtp_session_reply(s, 500, "Too long line");
            smtp_end_session(s);
            return;
        }
        if (r != PROXY_LINE_DONE)
            return;
        do_command(s, line);
        proxy_dialogue_consume(&s->dlg, consumed);
        if (s->state == SMTP_ST_DATA)
            return; /* what follows DATA is message */
    }
}

/* process_input - whatever the client sent that can be handled now:
 * commands, and after DATA the message (which may already be buffered). */
static void process_input(struct smtp_session *s)
{
    for (int round = 0; round < 4 && !proxy_session_done(&s->ps); round++) {
        enum smtp_state before = s->state;
        if (s->state == SMTP_ST_DATA)
            data_step(s);
        else
            next_command(s);
        if (s->state == before || buf_len(&s->ps.client.in) == 0)
            return;
    }
}

/* ---- cancelling a mail upstream (SMTP-9 4 and 5) ------------------------- */

static void on_cancel_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250) {
        /* SMTP-9 5: the server would not forget the envelope: end. */
        smtp_session_reply(s, 421, "Cannot reset the mail transaction at the server (%s:%u)",
                           s->ps.server.host, s->ps.server.port);
        smtp_end_session(s);
        return;
    }
    smtp_session_reply(s, s->cancel_code, "%s", s->cancel_text);
    smtp_finish_command(s);
}

/* on_held_rset_reply - the RSET before a held reply: then the reply. */
static void on_held_rset_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250) {
        smtp_session_reply(s, 421, "Cannot reset the mail transaction at the server (%s:%u)",
                           s->ps.server.host, s->ps.server.port);
        smtp_end_session(s);
        return;
    }
    if (!buf_append(&s->ps.client.out, s->held_reply, s->held_len))
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
        memcpy(s->held_reply, buf_rptr(&s->ps.server.in), r->len);
        s->held_len = r->len;
    } else {
        /* A reply longer than we keep: its first line says what matters. */
        int n = snprintf(s->held_reply, sizeof(s->held_reply), "%u %.*s\r\n", r->code,
                         r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
        s->held_len = n < 0                               ? 0
                      : (size_t)n < sizeof(s->held_reply) ? (size_t)n
                                                          : sizeof(s->held_reply);
    }
    s->dlg.busy = true;
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
    s->dlg.busy = true;
    smtp_up_command(s, on_cancel_reply, "RSET");
}

/* ---- DATA ------------------------------------------------------------------ */

static void start_scan(struct smtp_session *s);

static void start_data(struct smtp_session *s)
{
    if (!s->m.have_mail || s->m.nrcpt == 0) {
        smtp_session_reply(s, 503, "Need MAIL FROM and RCPT TO before DATA");
        return;
    }
    /* In memory while small, then in tmpdir (proxy_spool). */
    if (proxy_spool_open(&s->m.spool, s->ps.w, 0) < 0) {
        svclog_error_errno(&s->ps.log, errno, "cannot create a spool file in [%s]",
                           s->ps.cfg->tmpdir);
        smtp_session_reply(s, 451, "Temporary failure: cannot spool the message");
        return;
    }
    s->mails++;
    s->m.mail_received = true;
    clock_gettime(CLOCK_REALTIME, &s->m.o.start_rt);
    s->m.o.start_ms = ev_now_ms(s->ps.w->loop);
    s->m.msg_len = 0;
    s->m.too_long = false;
    smtp_dot_decoder_init(&s->m.dot);
    s->state = SMTP_ST_DATA;
    smtp_session_reply(s, 354, "Enter mail");
}

/* data_step - move message bytes from in to the spool. */
static void data_step(struct smtp_session *s)
{
    char chunk[SMTP_IN_CAP + 1]; /* + a ".\r" held from the last call */
    while (buf_len(&s->ps.client.in) > 0 && !s->m.dot.done) {
        size_t used, n = smtp_dot_decode(&s->m.dot, buf_rptr(&s->ps.client.in),
                                         buf_len(&s->ps.client.in), chunk, &used);
        buf_consume(&s->ps.client.in, used);
        if (s->m.too_long)
            continue; /* read to the end, keep nothing */
        if (s->m.msg_len + n > max_message_size(s->ps.cfg)) {
            s->m.too_long = true;
            continue;
        }
        if (proxy_spool_write(&s->m.spool, chunk, n) < 0) {
            /* A full disk is a temporary failure (never a drop). */
            svclog_error_errno(&s->ps.log, errno, "spool write failed in [%s]", s->ps.cfg->tmpdir);
            str_copy(s->m.o.error, sizeof(s->m.o.error), "PROXY/spool write failed");
            /* The rest of the message is still coming: read it to its end
             * (keeping nothing), then answer 451. */
            s->m.too_long = true;
            s->m.spool_failed = true;
        }
        s->m.msg_len += n;
    }
    buf_compact(&s->ps.client.in);
    if (!s->m.dot.done)
        return;
    if (s->m.spool_failed) {
        smtp_cancel_mail(s, 451, "Temporary failure: cannot spool the message");
        return;
    }
    if (s->m.dot.bare_lf || s->m.dot.bare_cr) {
        /* SMTP smuggling: only CRLF ends a line (smtp_dot.h). The message
         * was read to its real end, so nothing of it runs as commands;
         * refused as postfix's smtpd_forbid_bare_newline does, never sent
         * on, so the server cannot see another message than the scanner. */
        const char *what = s->m.dot.bare_lf ? "<LF>" : "<CR>";
        svclog_info(&s->ps.log, "bare %s received in DATA: mail from [%s] refused", what,
                    s->m.mail_from);
        snprintf(s->m.o.error, sizeof(s->m.o.error), "PROXY/bare %s received", what);
        char text[64];
        snprintf(text, sizeof(text), "5.5.2 Error: bare %s received", what);
        smtp_cancel_mail(s, 550, text);
        return;
    }
    if (s->m.too_long) {
        /* SMTP-9 4: refused; the envelope given upstream is cancelled. */
        s->m.o.result = ACCESSLOG_RESULT_INFECTED;
        str_copy(s->m.o.detect_name, sizeof(s->m.o.detect_name),
                 "SEKISHO/POLICY_BLOCK_MESSAGESIZE");
        s->m.o.action = ACCESSLOG_ACTION_DENY;
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
    if (r->code / 100 != 2 && !s->m.o.error[0]) {
        smtp_log_server_error(s, "DATAEND", r);
        snprintf(s->m.o.error, sizeof(s->m.o.error), "SERVER/ERROR Reply(DATA END): buf=[%u %.*s]",
                 r->code, r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
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
        snprintf(s->m.o.error, sizeof(s->m.o.error), "SERVER/ERROR Reply(DATA): buf=[%u %.*s]",
                 r->code, r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
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
    const char *product = s->ps.w->res->product_name;
    bool ok = true;
    if (!s->ps.cfg->anonymous)
        ok = buf_printf(&s->ps.server.out, "Received: from %s (%s)\r\n\tby %s (%s) ;\r\n\t%s\r\n",
                        s->ps.client.host, s->ps.client.ip, s->ps.w->res->hostname, product, date);
    /* C-48: the status header is added even with anonymous. */
    if (ok && s->m.o.result == ACCESSLOG_RESULT_INFECTED)
        ok = buf_printf(&s->ps.server.out, "X-Virus-Status: infected(%s) with %s\r\n", product,
                        s->m.o.detect_name);
    else if (ok)
        ok = buf_printf(&s->ps.server.out, "X-Virus-Status: clean(%s)\r\n", product);
    return ok;
}

/* send_step - the spool through the dot encoder into up, as the server
 * takes it; then the end line and the final reply. */
static void send_step(struct smtp_session *s)
{
    /* Bounded per event (SMTP_SEND_ROUNDS chunks): a fast server on the
     * same host would otherwise take a 2 GB message in one turn of the
     * loop while the worker's other sessions wait. The rest goes on at
     * the next writable event (server_pull). */
    for (unsigned round = 0; round < SMTP_SEND_ROUNDS; round++) {
        if (!proxy_session_flush(&s->ps, &s->ps.server)) {
            smtp_server_lost(s);
            return;
        }
        if (buf_len(&s->ps.server.out) > 0)
            return; /* the server is slower: on_server_drained goes on */
        if (s->m.send_done) {
            s->ps.server_pull = false;
            return;
        }
        if ((uint64_t)s->m.send_off >= s->m.msg_len) {
            char end[5];
            size_t n = smtp_dot_end(&s->m.enc, end);
            buf_append(&s->ps.server.out, end, n);
            s->m.send_done = true;
            s->on_reply = smtp_on_final_reply;
            continue;
        }
        char chunk[SMTP_SPOOL_CHUNK];
        ssize_t n = pread(s->m.spool.fd, chunk, sizeof(chunk), s->m.send_off);
        if (n <= 0) {
            svclog_error_errno(&s->ps.log, n < 0 ? errno : EIO, "spool read failed");
            smtp_server_lost(s); /* a 421: the client will retry */
            return;
        }
        buf_compact(&s->ps.server.out);
        size_t used, w = smtp_dot_encode(&s->m.enc, chunk, (size_t)n, buf_wptr(&s->ps.server.out),
                                         buf_space(&s->ps.server.out), &used);
        buf_produce(&s->ps.server.out, w);
        s->m.send_off += (off_t)used;
    }
}

static void send_message(struct smtp_session *s)
{
    s->state = SMTP_ST_SEND;
    s->on_reply = NULL;
    s->m.send_off = 0;
    s->m.send_done = false;
    smtp_dot_encoder_init(&s->m.enc);
    s->ps.server_pull = true; /* on_server_drained: the next chunk */
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
    return s->ps.cfg->admin_notification_id != 0 && sum->admin_notification_id.ptr &&
           str_to_u64(str_trim(sum->admin_notification_id), UINT64_MAX, &id) &&
           id == s->ps.cfg->admin_notification_id;
}

static void on_scanned(struct smtp_session *s, const struct proxy_mail_scan_result *res)
{
    s->m.o.checks += res->checks;
    s->m.o.scan_ms += res->scan_ms;
    s->m.o.details |= res->details;
    if (res->verdict == SCANREQ_ERROR) {
        /* A dead scanner or a full disk is a temporary failure, never a pass. */
        svclog_error(&s->ps.log, "virus scan failed: %s mail from [%s]", res->error,
                     s->m.mail_from);
        snprintf(s->m.o.error, sizeof(s->m.o.error), "PROXY/virus scan failed: %s", res->error);
        smtp_cancel_mail(s, 451, "Temporary failure: virus scan failed, please try again later");
        return;
    }
    if (res->verdict == SCANREQ_INFECTED) {
        proxy_outcome_detected(
            &s->m.o, res->name, res->file,
            proxy_detect_action(s->lan ? s->ps.cfg->lan_action : s->ps.cfg->action));
        svclog_info(
            &s->ps.log, "Infected: mail from [%s] to [%s] VirusName: %s File: [%s] action=%s",
            s->m.mail_from, s->m.rcpts, res->name, res->file, accesslog_action_name(s->m.o.action));
        if (s->lan ? s->ps.cfg->lan_quarantine : s->ps.cfg->quarantine)
            smtp_quarantine_mail(s);
        if ((s->lan ? s->ps.cfg->lan_notify_admin : s->ps.cfg->notify_admin) &&
            s->ps.cfg->admin_mailaddr.count > 0)
            smtp_notify_admin(s);
        if (s->m.o.action != ACCESSLOG_ACTION_PASS) {
            if (s->m.o.action == ACCESSLOG_ACTION_SENDBACK ||
                s->m.o.action == ACCESSLOG_ACTION_DELETE) {
                smtp_notify(s);
                return;
            }
            if (s->m.o.action == ACCESSLOG_ACTION_BLACKHOLE) {
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
    proxy_session_enter(&s->ps);
    proxy_mail_scan_free(s->m.mscan);
    s->m.mscan = NULL;
    on_scanned(s, &res);
    proxy_session_leave(&s->ps);
}

/* copy_summary - what the logs and templates need from the header; the
 * summary's views die with the scan's mapping. */
static void copy_summary(struct smtp_session *s, const struct mime_summary *sum)
{
    str_copy(s->m.o.content_type, sizeof(s->m.o.content_type), sum->content_type);
    str_copy_view(s->m.message_id, sizeof(s->m.message_id), str_trim(sum->message_id));
    str_copy_view(s->m.orig_date, sizeof(s->m.orig_date), str_trim(sum->date));
    str_copy_view(s->m.orig_to, sizeof(s->m.orig_to), str_trim(sum->to));
    str_copy_view(s->m.orig_cc, sizeof(s->m.orig_cc), str_trim(sum->cc));
    s->m.header_len = sum->header_len;
}

/* on_mail_walked - the mail's structure is known (the walk runs in slices
 * on the loop): the summary, and SCAN-13 before anything is decided. */
static bool on_mail_walked(void *arg, const struct mime_summary *sum)
{
    struct smtp_session *s = arg;
    copy_summary(s, sum);
    if (!admin_notification(s, sum))
        return true;
    /* SCAN-13: our own notification is not scanned again. */
    proxy_session_enter(&s->ps);
    proxy_mail_scan_free(s->m.mscan);
    s->m.mscan = NULL;
    s->state = SMTP_ST_SEND;
    smtp_up_command(s, on_data_reply, "DATA");
    proxy_session_leave(&s->ps);
    return false;
}

static void start_scan(struct smtp_session *s)
{
    s->state = SMTP_ST_SCAN;
    s->dlg.busy = true;
    s->m.mscan =
        proxy_mail_scan_open(s->ps.w, SCANREQ_SVC_SMTP, s->m.spool.fd, s->m.msg_len, &s->ps.log);
    if (!s->m.mscan) {
        svclog_error_errno(&s->ps.log, errno, "cannot map the spooled message");
        snprintf(s->m.o.error, sizeof(s->m.o.error), "PROXY/cannot map the spooled message");
        smtp_cancel_mail(s, 451, "Temporary failure: virus scan failed, please try again later");
        return;
    }
    proxy_mail_scan_run(s->m.mscan, on_mail_walked, on_mail_scanned, s);
}

/* ---- events ----------------------------------------------------------------- */

static void on_greeting(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 220) {
        smtp_session_reply(
            s, 421, "Cannot get correct greeting message from mail server (%s:%u). return code=%u",
            s->ps.server.host, s->ps.server.port, r->code);
        smtp_end_session(s);
        return;
    }
    /* SMTP-3 4 (C-02): our own greeting; the server's text is not relayed. */
    buf_printf(&s->ps.client.out, "220 %s %s\r\n", s->ps.w->res->hostname,
               s->ps.w->res->product_name);
    s->state = SMTP_ST_COMMAND;
    smtp_finish_command(s);
}

/* on_server_input - the server's replies, each to the command waiting
 * for it (on_reply). */
static void on_server_input(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    struct buf *sin = &ps->server.in;
    while (buf_len(sin) > 0 && ps->server.fd >= 0 && !proxy_session_done(ps)) {
        struct smtp_reply r;
        enum smtp_result st = smtp_reply_parse(buf_rptr(sin), buf_len(sin), &r);
        if (st == SMTP_AGAIN)
            break;
        if (st != SMTP_DONE) {
            svclog_error(&ps->log, "smtp: invalid reply from the server (%s:%u)", ps->server.host,
                         ps->server.port);
            smtp_server_lost(s);
            return;
        }
        smtp_reply_fn *cb = s->on_reply;
        s->on_reply = NULL;
        if (cb) {
            cb(s, &r);
        } else if (r.code == 421 && s->state == SMTP_ST_COMMAND && !s->dlg.busy) {
            s->close_after_out = true;
            smtp_session_relay(s, &r);
            smtp_finish_command(s);
        }
        /* (an unasked reply otherwise, e.g. to our RSET: dropped) */
        buf_consume(sin, r.len);
    }
    buf_compact(sin);
}

/* on_server_gone - the server closed: a loss when we needed it. */
static void on_server_gone(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (s->on_reply || s->state == SMTP_ST_SEND || s->state == SMTP_ST_SCAN ||
        s->state == SMTP_ST_GREETING || s->state == SMTP_ST_CONNECT) {
        smtp_server_lost(s);
        return;
    }
    s->server_gone = true;
}

static void on_server_drained(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (s->state == SMTP_ST_SEND && !s->m.send_done)
        send_step(s);
}

static void on_client_input(struct proxy_session *ps)
{
    process_input((struct smtp_session *)ps);
}

/* on_client_drained - the client read the replies next_command waited on. */
static void on_client_drained(struct proxy_session *ps)
{
    ps->client_pull = false;
    process_input((struct smtp_session *)ps);
}

/* on_client_gone - the client left. A mail not yet accepted upstream is
 * not accepted: we never send it on our own. */
static void on_client_gone(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (s->state == SMTP_ST_DATA || s->state == SMTP_ST_SCAN) {
        str_copy(s->m.o.error, sizeof(s->m.o.error), "CLIENT/connection closed during DATA");
        smtp_write_record(s);
    }
}

/* on_connected - SMTP-3 1 and 2: the server's greeting is awaited; a
 * connection error (or acl_to, CONN-5) is the client's 421. */
static void on_connected(struct proxy_session *ps, const char *error)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (error) {
        smtp_session_reply(s, 421, "server open error(%s:%u) errmsg=[%s]", ps->server.host,
                           ps->server.port, error);
        smtp_end_session(s);
        return;
    }
    s->state = SMTP_ST_GREETING;
    s->on_reply = on_greeting;
}

/* on_admitted - the LAN test (SMTP-7), then the upstream connection
 * (SMTP-3 1). */
static void on_admitted(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    const struct config *cfg = ps->cfg;
    const struct access_table *acl = ps->w->res->acl;
    const char *name = strcmp(ps->client.host, ps->client.ip) ? ps->client.host : NULL;
    s->lan = cfg->lan && acl && access_match(acl, "smtp_lan", ps->client.ip, name);
    bool lan_parent = s->lan && cfg->lan_parent_server && *cfg->lan_parent_server_host;
    const char *host = lan_parent ? cfg->lan_parent_server_host : cfg->parent_server_host;
    uint16_t port = (uint16_t)(lan_parent ? cfg->lan_parent_server_port : cfg->parent_server_port);
    s->state = SMTP_ST_CONNECT;
    proxy_session_connect(ps, *host ? host : "127.0.0.1", port);
}

/* on_stop - SIGTERM: a session between mails closes now; one with a mail
 * in flight finishes it first (GEN-9: nothing is lost). */
static void on_stop(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (s->state == SMTP_ST_COMMAND && !s->dlg.busy && !s->m.have_mail) {
        smtp_session_reply(s, 421, "Service shutting down, please try again later");
        smtp_end_session(s);
    }
}

static const struct proxy_session_ops smtp_ops = {
    .name = "smtp",
    .acl_from = "smtp_from",
    .acl_to = "smtp_to",
    .waits_for = smtp_waits_for,
    .admitted = on_admitted,
    .connected = on_connected,
    .client_input = on_client_input,
    .client_gone = on_client_gone,
    .server_input = on_server_input,
    .server_gone = on_server_gone,
    .server_drained = on_server_drained,
    .client_drained = on_client_drained,
    .idle = smtp_on_idle,
    .stop = on_stop,
    .closing = on_closing,
    .release = on_release,
};

static void smtp_session_start(struct proxy_worker *w, int fd, const struct sockaddr_storage *peer,
                               int slot)
{
    struct proxy_session *ps =
        proxy_session_new(w, fd, peer, slot, sizeof(struct smtp_session), &smtp_ops, SMTP_IN_CAP,
                          SMTP_OUT_CAP, SMTP_SIN_CAP, SMTP_UP_CAP);
    if (!ps)
        return;
    struct smtp_session *s = (struct smtp_session *)ps;
    ps->idle_ms = smtp_idle_ms(w->cfg);
    proxy_dialogue_init(&s->dlg, ps, find_line, smtp_on_line_timeout);
    s->m.spool = PROXY_SPOOL_CLOSED;
    smtp_reset_mail(s);
    proxy_session_start(ps);
}

const struct proxy_proto smtp_proto = {
    .name = "smtp",
    .session_start = smtp_session_start,
    .busy_reply = "421 4.7.0 Too many connections from your address (%s)\r\n",
};
