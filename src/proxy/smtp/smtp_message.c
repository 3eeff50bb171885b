/* smtp_message - the message of an SMTP transaction: DATA received into
 * its spool (dot-unstuffed, size-limited, bare CR/LF refused), the scan
 * (proxy_mail_scan, in slices), then the action: the message sent on with
 * Received: and X-Virus-Status:, or refused, blackholed, replaced by a
 * notification (smtp_notify.c). The dialogue around it is smtp_session.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/svclog.h"
#include "lib/buf.h"
#include "lib/mail_date.h"
#include "lib/str.h"
#include "proto/accesslog_format.h"
#include "proto/smtp_dot.h"
#include "proxy/proxy_detect.h"
#include "proxy/proxy_mail_scan.h"
#include "proxy/smtp/smtp_internal.h"

/* ---- DATA ------------------------------------------------------------------ */

static void start_scan(struct smtp_session *s);

void smtp_start_data(struct smtp_session *s)
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

/* smtp_data_step - move message bytes from in to the spool. */
void smtp_data_step(struct smtp_session *s)
{
    char chunk[SMTP_IN_CAP + 1]; /* + a ".\r" held from the last call */
    while (buf_len(&s->ps.client.in) > 0 && !s->m.dot.done) {
        size_t used, n = smtp_dot_decode(&s->m.dot, buf_rptr(&s->ps.client.in),
                                         buf_len(&s->ps.client.in), chunk, &used);
        buf_consume(&s->ps.client.in, used);
        if (s->m.too_long)
            continue; /* read to the end, keep nothing */
        if (s->m.msg_len + n > smtp_max_message_size(s->ps.cfg)) {
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

/* new_subject - change_subject (SPAM-10, G-08): the prefix and the
 * original value (whose own bytes smtp_send_step skips). */
static bool new_subject(struct smtp_session *s)
{
    if (spam_check_new_subject(s->m.spool.fd, &s->m.spam_res, s->ps.cfg->spam_change_subject_prefix,
                               &s->ps.server.out))
        return true;
    svclog_error_errno(&s->ps.log, errno, "cannot write the changed Subject");
    return false;
}

/* received_header - SMTP-9 6: three folded lines. */
static bool added_headers(struct smtp_session *s)
{
    char date[MAIL_DATE_MAX];
    mail_date(time(NULL), date, sizeof(date));
    const char *product = s->ps.w->res->product_name;
    bool ok = true;
    if (!s->ps.cfg->anonymous)
        ok = buf_printf(&s->ps.server.out, "Received: from %s (%s)\r\n\tby %s (%s) ;\r\n\t%s\r\n",
                        s->ps.client.host, s->ps.client.ip, s->ps.w->res->hostname, product, date);
    /* SMTP-9 6: the spam status, then the virus status (the mail is
     * virus-clean when it got as far as the spam check). */
    if (ok && s->m.o.result == ACCESSLOG_RESULT_SPAM)
        ok = buf_printf(&s->ps.server.out, "X-Spam-Status: Yes(%s) with %s\r\n", product,
                        s->m.o.detect_name);
    if (ok && s->m.new_subject)
        ok = new_subject(s);
    /* C-48: the status header is added even with anonymous. */
    if (ok && s->m.o.result == ACCESSLOG_RESULT_INFECTED)
        ok = buf_printf(&s->ps.server.out, "X-Virus-Status: infected(%s) with %s\r\n", product,
                        s->m.o.detect_name);
    else if (ok)
        ok = buf_printf(&s->ps.server.out, "X-Virus-Status: clean(%s)\r\n", product);
    return ok;
}

/* smtp_send_step - the spool through the dot encoder into up, as the server
 * takes it; then the end line and the final reply. */
void smtp_send_step(struct smtp_session *s)
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
        uint64_t off = (uint64_t)s->m.send_off;
        char chunk[SMTP_SPOOL_CHUNK];
        size_t want = proxy_spool_window(&off, s->m.msg_len, &s->m.skip, sizeof(chunk));
        s->m.send_off = (off_t)off;
        if (want == 0)
            continue; /* the skipped field ended the message: the end line next */
        ssize_t n = pread(s->m.spool.fd, chunk, want, s->m.send_off);
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
    smtp_send_step(s);
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

/* ---- the spam check (SPAM-1..10) -------------------------------------------- */

/* detected_extras - SCAN-12: whatever the action, a copy in quarantine and
 * the administrator's notification when the settings ask for them. */
static void detected_extras(struct smtp_session *s, bool quarantine, bool notify)
{
    if (quarantine)
        smtp_quarantine_mail(s);
    if (notify && s->ps.cfg->admin_mailaddr.count > 0)
        smtp_notify_admin(s);
}

static void on_spam_checked(void *arg, const struct spam_check_result *r)
{
    struct smtp_session *s = arg;
    proxy_session_enter(&s->ps);
    s->m.spam = NULL;
    if (r->error) {
        /* The check could not run at all: the client tries again later;
         * nothing passes unchecked. */
        svclog_error(&s->ps.log, "spam check failed: %s mail from [%s]", r->note, s->m.mail_from);
        snprintf(s->m.o.error, sizeof(s->m.o.error), "PROXY/spam check failed: %s", r->note);
        smtp_cancel_mail(s, 451, "Temporary failure: spam check failed, please try again later");
        proxy_session_leave(&s->ps);
        return;
    }
    if (r->spam) {
        const struct config *cfg = s->ps.cfg;
        proxy_outcome_spam(&s->m.o, r->name, spam_check_action(cfg->spam_action));
        svclog_info(&s->ps.log, "Spam: mail from [%s] to [%s] SpamName: %s method=%s action=%s",
                    s->m.mail_from, s->m.rcpts, r->name, spam_check_method_name(r->method),
                    accesslog_action_name(s->m.o.action));
        detected_extras(s, cfg->spam_quarantine, cfg->spam_notify_admin);
        if (s->m.o.action == ACCESSLOG_ACTION_BLACKHOLE) {
            smtp_cancel_mail(s, 250, "Message accepted for delivery");
            proxy_session_leave(&s->ps);
            return;
        }
        if (s->m.o.action == ACCESSLOG_ACTION_CHANGE_SUBJECT) {
            if (spam_check_subject_skip(r, &s->m.skip)) {
                s->m.new_subject = true;
                s->m.spam_res = *r;
            } else {
                svclog_error(&s->ps.log,
                             "Subject of mail from [%s] longer than %u bytes: not "
                             "changed (X-Spam-Status added)",
                             s->m.mail_from, SPAM_SUBJECT_MAX);
            }
        }
    } else if (r->white) {
        svclog_info(&s->ps.log, "Not spam: mail from [%s] matched a WHITE custom rule",
                    s->m.mail_from);
    }
    s->state = SMTP_ST_SEND;
    smtp_up_command(s, on_data_reply, "DATA");
    proxy_session_leave(&s->ps);
}

static void start_spam(struct smtp_session *s)
{
    /* the recipients one by one, for the engine's Rcpt headers */
    str_copy(s->m.spam_rcpt_text, sizeof(s->m.spam_rcpt_text), s->m.rcpts);
    unsigned n = 0;
    char *save = NULL;
    for (char *t = strtok_r(s->m.spam_rcpt_text, ",", &save); t && n < SMTP_RCPT_SPAM_MAX;
         t = strtok_r(NULL, ",", &save))
        s->m.spam_rcpt[n++] = t;
    const struct spam_check_input in = {
        .spool_fd = s->m.spool.fd,
        .len = s->m.msg_len,
        .client_ip = s->ps.client.ip,
        /* the session's host is the address itself when no name is known */
        .client_host = strcmp(s->ps.client.host, s->ps.client.ip) != 0 ? s->ps.client.host : NULL,
        .helo = s->helo,
        .mail_from = s->m.mail_from,
        .user = s->authed ? s->auth_user : NULL,
        .queue_id = s->m.message_id,
        .rcpt = s->m.spam_rcpt,
        .nrcpt = n,
    };
    s->m.spam = spam_check_start(s->ps.w, &in, &s->ps.log, on_spam_checked, s);
    if (!s->m.spam) {
        svclog_error_errno(&s->ps.log, errno, "cannot start the spam check of mail from [%s]",
                           s->m.mail_from);
        snprintf(s->m.o.error, sizeof(s->m.o.error), "PROXY/spam check failed: %s",
                 strerror(errno));
        smtp_cancel_mail(s, 451, "Temporary failure: spam check failed, please try again later");
    }
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
        detected_extras(s, s->lan ? s->ps.cfg->lan_quarantine : s->ps.cfg->quarantine,
                        s->lan ? s->ps.cfg->lan_notify_admin : s->ps.cfg->notify_admin);
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
    if (s->m.o.result == ACCESSLOG_RESULT_CLEAN && s->ps.cfg->spam_check && !s->lan) {
        start_spam(s); /* SCAN-10: spam after viruses; SPAM-3: not for LAN clients */
        return;
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
