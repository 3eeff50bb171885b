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
#include "proxy/proxy_pbs.h"
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

/* ---- small helpers ------------------------------------------------------ */

uint64_t smtp_max_message_size(const struct config *cfg)
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
    spam_check_cancel(s->m.spam);
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
    smtp_auth_stop(s);
    smtp_xclient_free(s);
    proxy_mail_scan_free(s->m.mscan);
    s->m.mscan = NULL;
    spam_check_cancel(s->m.spam);
    s->m.spam = NULL;
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

void smtp_helo_answer(struct smtp_session *s, const struct smtp_reply *r, const char *raw)
{
    bool ehlo = strcmp(s->verb, "EHLO") == 0;
    size_t mark = s->ps.client.out.wpos;
    if (!(ehlo && r->code == 250 &&
          smtp_ehlo_rewrite(&s->ps.client.out, r, smtp_max_message_size(s->ps.cfg),
                            s->ps.cfg->proxymail_auth, s->lan))) {
        s->ps.client.out.wpos = mark;
        if (!buf_append(&s->ps.client.out, raw, r->len))
            s->close_after_out = true;
    }
}

void smtp_on_helo_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    smtp_helo_answer(s, r, buf_rptr(&s->ps.server.in));
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
    if (!s->ps.cfg->acl_rcpt || s->lan || smtp_authenticated(s))
        return true; /* SMTP-7 2: authenticated (PbS or SMTP AUTH) or LAN */
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

/* auth_required - SMTP-4 2: with pbs or proxymail_auth on, no relay
 * restriction (acl_rcpt) and not a LAN client, only HELO, EHLO, AUTH, QUIT
 * and RSET are taken before the session is authenticated. */
static bool auth_required(struct smtp_session *s, enum smtp_verb v)
{
    const struct config *cfg = s->ps.cfg;
    if (!(cfg->pbs || cfg->proxymail_auth) || s->lan || cfg->acl_rcpt)
        return false;
    if (v == SMTP_V_HELO || v == SMTP_V_EHLO || v == SMTP_V_AUTH || v == SMTP_V_QUIT ||
        v == SMTP_V_RSET)
        return false;
    return !smtp_authenticated(s);
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
    (void)line;
    S->dlg.busy = true;
    if (smtp_xclient_helo(S, arg))
        return; /* the real client for the parent (smtp_xclient.c) */
    smtp_up_command(S, smtp_on_helo_reply, "%s %s", strcmp(S->verb, "EHLO") == 0 ? "EHLO" : "HELO",
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
    if (smtp_xclient_mail(s, line, on_mail_reply))
        return; /* XCLIENT or XFORWARD first (smtp_xclient.c) */
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
    smtp_start_data(S);
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
        smtp_auth_command(S, arg); /* SMTP-8: the proxy's own AUTH */
        return;
    }
    S->dlg.busy = true;
    up_raw(S, line, on_auth_reply);
}

SMTP_CMD(cmd_quit)
{
    (void)arg;
    S->close_after_out = true;
    ps->client_quit = true;
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
    if (s->auth_step != SMTP_AUTH_NONE) {
        smtp_auth_response(s, line);
        return;
    }
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
            smtp_data_step(s);
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
    if (s->ps.cfg->xclient) {
        smtp_xclient_probe(s); /* what the parent offers; then the greeting */
        return;
    }
    smtp_greet_client(s);
}

void smtp_greet_client(struct smtp_session *s)
{
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
        smtp_send_step(s);
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
    if (proxy_session_redirected(ps)) /* TP-1: the parent servers are ignored */
        proxy_session_connect(ps, ps->orig_ip, ps->orig_port);
    else
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

/* smtp_service_init - AUTH-7: with pbs=yes the POP-before-SMTP store is
 * emptied when the service starts, as the POP service empties it. */
static int smtp_service_init(const struct config *cfg)
{
    return cfg->pbs ? proxy_pbs_reset(cfg) : 0;
}

const struct proxy_proto smtp_proto = {
    .name = "smtp",
    .session_start = smtp_session_start,
    .busy_reply = "421 4.7.0 Too many connections from your address (%s)\r\n",
    .service_init = smtp_service_init,
};
