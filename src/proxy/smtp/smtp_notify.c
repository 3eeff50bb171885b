/* smtp_notify - what a detection gets besides the log records (SCAN-12,
 * SMTP-9 5): the quarantine copy, the administrator's notification, and
 * the notification mails of action=sendback (to the sender, over a new
 * envelope) and action=delete (to the recipients, over the envelope the
 * server already has).
 *
 * A refused notification (C-42): the documented 554 SENDBACK:smtp error
 * replies stay for the envelope steps of sendback (RSET, MAIL FROM, RCPT
 * TO; responses.tsv); when the server refuses the notification itself
 * (its DATA or its end), the client hears the server's reply as it came
 * and the session goes on, unless that reply is 421 or the server closed
 * the connection. Nothing is acknowledged that was not delivered: the
 * client's mail was kept back by the detection either way, and the reply
 * it gets is the server's verdict on what replaced it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/access.h"
#include "core/notify.h"
#include "core/template.h"
#include "core/template_vars.h"
#include "lib/mail_date.h"
#include "lib/spoolfile.h"
#include "lib/str.h"
#include "proto/mbox_format.h"
#include "proto/notify_mail_format.h"
#include "proto/smtp_addr.h"
#include "proxy/proxy_detect.h"
#include "proxy/smtp/smtp_internal.h"

/* ---- what every detection gets (SCAN-12) ----------------------------- */

void smtp_quarantine_mail(struct smtp_session *s)
{
    static char url[SMTP_RCPTS_MAX + 8]; /* the access log's */
    snprintf(url, sizeof(url), "mail:%s", s->m.rcpts);
    struct proxy_quarantine_who who = {.url = url,
                                       .user = s->auth_user, /* the access log's (SMTP-8) */
                                       .sender = s->m.mail_from,
                                       .rcpts = s->m.rcpts,
                                       .nrcpt = s->m.nrcpt};
    proxy_quarantine_mbox(&s->ps, &s->m.o, s->m.spool.fd, s->m.mail_from, &who);
}

/* fill_vars - every TPL-3 variable for a mail about the session's message
 * (core/template_vars: what SMTP has no value for renders empty). */
static void fill_vars(struct smtp_session *s, struct template_vars *v, struct str header)
{
    static char url[SMTP_RCPTS_MAX + 8];
    snprintf(url, sizeof(url), "mail:%s", s->m.rcpts);
    *v = (struct template_vars){
        .status = smtp_access_status(s),
        .method = STR_LIT("GET"),
        .url = str_from_cstr(url),
        .content_length = s->m.msg_len,
        .header = header,
        .mail_from = str_from_cstr(s->m.mail_from),
        .rcpt_to = str_from_cstr(s->m.rcpts),
        .message_id = str_from_cstr(s->m.message_id),
    };
    proxy_outcome_vars(&s->ps, &s->m.o, v);
}

#define NOTIFY_MAX 65536 /* the notification before dot-stuffing */

/* notify_admin - template_admin.txt to admin_mailaddr (SCAN-13). */
void smtp_notify_admin(struct smtp_session *s)
{
    struct template_vars v;
    fill_vars(s, &v, proxy_mail_header(s->m.spool.fd, s->m.header_len));
    proxy_notify_admin(&s->ps, &v);
}

/* ---- sendback and delete: the notification mail (SMTP-9 5) ----------- */

static void notify_fail(struct smtp_session *s, const char *step, const struct smtp_reply *r)
{
    char reply_text[256];
    snprintf(reply_text, sizeof(reply_text), "%u %.*s", r->code,
             r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    svclog_error(&s->ps.log, "smtp_data_cmd_senddata:%s:smtp error:%s: buf=[%s]",
                 accesslog_action_name(s->m.o.action), step, reply_text);
    snprintf(s->m.o.error, sizeof(s->m.o.error), "SERVER/ERROR Reply(%s): buf=[%s]", step,
             reply_text);
    if (s->m.o.action == ACCESSLOG_ACTION_SENDBACK && strcmp(step, "DATA END") != 0 &&
        strcmp(step, "DATA") != 0) {
        char text[400];
        snprintf(text, sizeof(text), "SENDBACK:smtp error[%s] (Server Reply: %s)", step,
                 reply_text);
        if (strcmp(step, "RSET") == 0) {
            /* The server refused RSET itself: another one would fare no
             * better; the client gets the documented 554 now. */
            smtp_write_record(s);
            smtp_reset_mail(s);
            s->state = SMTP_ST_COMMAND;
            smtp_session_reply(s, 554, "%s", text);
            smtp_finish_command(s);
            return;
        }
        smtp_cancel_mail(s, 554, text);
        return;
    }
    /* C-42: the notification itself was refused. Its record is written
     * now; the client hears the server. */
    smtp_write_record(s);
    smtp_reset_mail(s);
    s->state = SMTP_ST_COMMAND;
    if (strcmp(step, "DATA END") == 0) {
        /* The server's transaction ended with this reply. */
        smtp_session_relay(s, r);
        if (r->code == 421)
            s->close_after_out = true;
        smtp_finish_command(s);
        return;
    }
    /* DATA refused: the envelope is still open upstream; RSET it first. */
    smtp_relay_after_rset(s, r);
}

/* template_from - the address of the From: line of the rendered
 * template's header part (TPL-2), or "" when it has none or an unsafe one. */
static void template_from(struct str rendered, char *out, size_t cap)
{
    struct str header, body;
    template_parse_split_mail(rendered, &header, &body);
    str_copy_view(out, cap, template_parse_mail_from(header));
}

/* render_notification - the rendered template of the session's mail. */
static bool render_notification(struct smtp_session *s, struct buf *out)
{
    static struct template_var_table table; /* a worker is one thread */
    struct template_vars v;
    fill_vars(s, &v, proxy_mail_header(s->m.spool.fd, s->m.header_len));
    template_vars_table(&v, &table);
    const struct template *tpl = s->lan ? s->ps.w->res->tpl_smtp_lan : s->ps.w->res->tpl_smtp;
    return tpl && template_render(tpl, table.vars, TEMPLATE_VAR_COUNT, out) == TEMPLATE_PARSE_DONE;
}

static void on_notify_final(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250) {
        notify_fail(s, "DATA END", r);
        return;
    }
    smtp_on_final_reply(s, r); /* logs the mail, relays 250 to the client */
}

/* on_notify_data - 354: the notification, dot-stuffed, then the end. */
static void on_notify_data(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 354) {
        notify_fail(s, "DATA", r);
        return;
    }
    static char rendered_mem[TEMPLATE_PARSE_MAX_BYTES * 4], msg_mem[NOTIFY_MAX];
    struct buf rendered, msg;
    buf_init(&rendered, rendered_mem, sizeof(rendered_mem));
    buf_init(&msg, msg_mem, sizeof(msg_mem));
    if (!render_notification(s, &rendered)) {
        svclog_error(&s->ps.log, "smtp: cannot render the notification template");
        buf_reset(&rendered);
        buf_printf(&rendered, "Subject: Virus notification: %s\r\n\r\n%s\r\n", s->m.o.detect_name,
                   s->m.o.detect_name);
    }
    char date[MAIL_DATE_MAX];
    mail_date(time(NULL), date, sizeof(date));
    const char *product = s->ps.w->res->product_name;
    /* TPL-5: our lines first, then the template (core of G-31 there). */
    static char lead_mem[8192];
    struct buf lead;
    buf_init(&lead, lead_mem, sizeof(lead_mem));
    bool ok =
        buf_printf(&lead, "Received: from %s (%s)\r\n\tby %s (%s) ;\r\n\t%s\r\n", s->ps.client.host,
                   s->ps.client.ip, s->ps.w->res->hostname, product, date) &&
        buf_printf(&lead, "X-Virus-Status: infected(%s) with %s\r\n", product,
                   s->m.o.detect_name) &&
        buf_printf(&lead, "Date: %s\r\n", s->m.orig_date[0] ? s->m.orig_date : date);
    if (ok && s->m.o.action == ACCESSLOG_ACTION_SENDBACK)
        ok = buf_printf(&lead, "To: %s\r\n", s->m.mail_from);
    else if (ok)
        ok = buf_printf(&lead, "To: %s\r\n", s->m.orig_to[0] ? s->m.orig_to : s->m.rcpts) &&
             (!s->m.orig_cc[0] || buf_printf(&lead, "CC: %s\r\n", s->m.orig_cc));
    struct notify_mail_parts parts = {buf_view(&lead), STR_NULL, STR_NULL};
    if (s->ps.cfg->admin_mailaddr.count > 0)
        parts.from = s->ps.cfg->admin_mailaddr.items[0];
    ok = ok && notify_mail_format(buf_view(&rendered), &parts, &msg);
    struct smtp_dot_encoder enc;
    smtp_dot_encoder_init(&enc);
    buf_compact(&s->ps.server.out);
    size_t used,
        w = smtp_dot_encode(&enc, buf_rptr(&msg), buf_len(&msg), buf_wptr(&s->ps.server.out),
                            buf_space(&s->ps.server.out), &used);
    buf_produce(&s->ps.server.out, w);
    char end[5];
    size_t k = smtp_dot_end(&enc, end);
    if (!ok || used != buf_len(&msg) || !buf_append(&s->ps.server.out, end, k)) {
        svclog_error(&s->ps.log, "smtp: the notification does not fit");
        smtp_server_lost(s); /* the server waits for data we cannot send: 421, retry */
        return;
    }
    s->on_reply = on_notify_final; /* the core writes it out */
}

static void on_sendback_rcpt(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code / 100 != 2) {
        notify_fail(s, "RCPT TO", r);
        return;
    }
    smtp_up_command(s, on_notify_data, "DATA");
}

static void on_sendback_mail(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code / 100 != 2) {
        notify_fail(s, "MAIL FROM", r);
        return;
    }
    smtp_up_command(s, on_sendback_rcpt, "RCPT TO:<%s>", s->m.mail_from);
}

static void on_sendback_rset(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250) {
        notify_fail(s, "RSET", r);
        return;
    }
    static char rendered_mem[TEMPLATE_PARSE_MAX_BYTES * 4];
    struct buf rendered;
    buf_init(&rendered, rendered_mem, sizeof(rendered_mem));
    char from[SMTP_PATH_MAX + 1] = "";
    if (render_notification(s, &rendered))
        template_from(buf_view(&rendered), from, sizeof(from));
    if (!from[0] && s->ps.cfg->admin_mailaddr.count > 0)
        str_copy_view(from, sizeof(from), s->ps.cfg->admin_mailaddr.items[0]);
    smtp_up_command(s, on_sendback_mail, "MAIL FROM:<%s>", from);
}

/* sendback_allowed - issue 10: a sendback notification goes to the
 * envelope sender, which a virus forges; sent to any address it is
 * backscatter and relays the attacker's header text (#{HEADER}) through
 * the gateway. So only a local sender (its domain is one of smtp_rcpt, the
 * domains the gateway accepts mail for: also with acl_rcpt=no, where every
 * domain would pass) or a LAN client gets it, unless sendback_any_sender
 * restores the guide's unconditional notice. A source route, '%', '!' or
 * an address without a domain is never local (smtp_rcpt_classify). */
static bool sendback_allowed(struct smtp_session *s)
{
    if (s->ps.cfg->sendback_any_sender || s->lan)
        return true;
    char domain[256];
    return smtp_rcpt_classify(str_from_cstr(s->m.mail_from), domain, sizeof(domain)) ==
               SMTP_RCPT_DOMAIN &&
           s->ps.w->res->acl && access_match(s->ps.w->res->acl, "smtp_rcpt", NULL, domain);
}

/* notify - SMTP-9 5: sendback (to the sender, a new envelope) and delete
 * (to the recipients, over the envelope the server already has). */
void smtp_notify(struct smtp_session *s)
{
    s->state = SMTP_ST_SEND;
    s->dlg.busy = true;
    s->m.send_done = true; /* no spool streaming: the notification is one buffer */
    if (s->m.o.action == ACCESSLOG_ACTION_DELETE) {
        smtp_up_command(s, on_notify_data, "DATA");
        return;
    }
    if (!s->m.mail_from[0]) {
        /* G-14: never a notification to an empty reverse-path. */
        svclog_info(&s->ps.log, "sendback: empty sender, the mail is dropped without notice");
        smtp_cancel_mail(s, 250, "Message accepted for delivery");
        return;
    }
    if (!sendback_allowed(s)) {
        svclog_info(&s->ps.log,
                    "sendback: sender [%s] is not local (smtp_rcpt) and the client not LAN: "
                    "denied instead (sendback_any_sender=no)",
                    s->m.mail_from);
        s->m.o.action = ACCESSLOG_ACTION_DENY;
        char text[SCANREQ_NAME_MAX + 64];
        snprintf(text, sizeof(text), "Infected by %s", s->m.o.detect_name);
        smtp_cancel_mail(s, 554, text);
        return;
    }
    smtp_up_command(s, on_sendback_rset, "RSET");
}
