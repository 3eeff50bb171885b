/* pop_retr - RETR through the proxy (POP-7, POP-9, C-28, C-29, C-30).
 *
 * The server's "+OK" is relayed at once: the client then waits for the
 * message rather than for a reply, however long the message takes to
 * arrive and to be scanned. The message is unstuffed into a spool
 * (proxy_spool), scanned as a mail (proxy_mail_scan: the MIME walk, the
 * policies and the part scans SMTP has), and then sent, dot-stuffed
 * again, with the terminating line:
 *   clean                   the message, byte-identical;
 *   detected, action=pass   "Received: from SEKISHO: <date>" and
 *                           "X-Virus-Status: infected(<product>) with
 *                           <name>", then the message;
 *   detected, action=delete "Received:", "X-Virus-Status:", the
 *                           original's Date:, To:, Cc: when present, and
 *                           template_pop.txt in place of the message.
 * POP cannot withhold a mail (SCAN-12): the client always gets one.
 * A message the proxy cannot judge (the scanner dead, a full disk, a
 * message over 2,000,000,000 bytes, POP-1) is never delivered unjudged:
 * the connection is closed before the terminating line, so the client
 * takes the retrieval as failed and the message stays on the server for
 * the next attempt. Each RETR has one access record (POP-9).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/template.h"
#include "core/template_vars.h"
#include "lib/buf.h"
#include "lib/mail_date.h"
#include "lib/str.h"
#include "proto/notify_mail_format.h"
#include "proxy/pop/pop_internal.h"
#include "proxy/proxy_detect.h"

/* The prefix of the message (our header lines) or the replacement, before
 * dot-stuffing: bounded by the template's size (TPL-1: 9000 bytes, up to
 * four times that once rendered) and the copied header fields. */
#define POP_PREFIX_MAX 65536

static struct buf prefix_buf; /* a worker is one thread, and one RETR sends at a time */

#define POP_URL_MAX (POP_USER_MAX + PROXY_HOST_MAX + 32)

/* pop_url - POP-9: "pop://<user>@<server>:<port>", the record's URL. */
static void pop_url(const struct pop_session *s, char *out, size_t cap)
{
    snprintf(out, cap, "pop://%s@%s:%u", s->user, s->ps.server.host, s->ps.server.port);
}

/* pop_vars - every TPL-3 variable for a mail about the message (the
 * replacement, the admin notification): the outcome's and POP's own. The
 * views point into s and url. */
static void pop_vars(struct pop_session *s, struct template_vars *v, const char *url)
{
    *v = (struct template_vars){
        .status = 200,
        .method = STR_LIT("GET"),
        .url = str_from_cstr(url),
        .content_length = s->r.spool.len,
        .header = proxy_mail_header(s->r.spool.fd, s->r.header_len),
        .message_id = str_from_cstr(s->r.message_id),
    };
    proxy_outcome_vars(&s->ps, &s->r.o, v);
}

static void pop_record(struct pop_session *s, unsigned status)
{
    char url[POP_URL_MAX];
    pop_url(s, url, sizeof(url));
    struct access_record r = {
        .status = status,
        .size = s->r.spool.len,
        .method = STR_LIT("GET"),
        .url = str_from_cstr(url),
        .files = 1, /* POP-9 */
    };
    proxy_record_write(&s->ps, &s->r.o, &r);
}

void pop_retr_end(struct pop_session *s)
{
    proxy_mail_scan_free(s->r.mscan);
    s->r.mscan = NULL;
    spam_check_cancel(s->r.spam);
    s->r.spam = NULL;
    proxy_spool_close(&s->r.spool);
    s->ps.client_pull = false;
    s->r.send_done = true;
}

void pop_retr_abandon(struct pop_session *s, const char *error)
{
    if (!s->r.send_done) {
        str_copy(s->r.o.error, sizeof(s->r.o.error), error);
        pop_record(s, 500);
    }
    pop_retr_end(s);
}

/* fail - a message the proxy cannot judge: not delivered (see the top). */
static void fail(struct pop_session *s, const char *error)
{
    svclog_error(&s->ps.log, "pop: RETR from (%s:%u) not delivered: %s", s->ps.server.host,
                 s->ps.server.port, error);
    pop_retr_abandon(s, error);
    proxy_session_abort(&s->ps);
}

void pop_retr_start(struct pop_session *s, const struct pop3_status *st)
{
    pop_retr_end(s);
    s->r = (struct pop_retr){.spool = PROXY_SPOOL_CLOSED};
    proxy_outcome_begin(&s->r.o, &s->ps);
    s->retrs++;
    if (proxy_spool_open(&s->r.spool, s->ps.w, 0) < 0) {
        svclog_error_errno(&s->ps.log, errno, "cannot create a spool file in [%s]",
                           s->ps.cfg->tmpdir);
        fail(s, "PROXY/cannot create a spool file");
        return;
    }
    /* The server's +OK, now (see the top). */
    if (!buf_append(&s->ps.client.out, st->line.ptr, st->line.len) ||
        !buf_append(&s->ps.client.out, "\r\n", 2)) {
        fail(s, "PROXY/client not reading");
        return;
    }
    pop3_body_init(&s->r.body);
    s->state = POP_ST_RETR;
    pop_retr_input(s);
}

/* ---- after the scan: what the client gets ---------------------------- */

/* lead_lines - C-28, C-29: our header lines before the message. */
static bool lead_lines(struct pop_session *s, struct buf *out, bool replaced)
{
    char date[MAIL_DATE_MAX];
    mail_date(time(NULL), date, sizeof(date));
    const char *product = s->ps.w->res->product_name;
    bool ok = buf_printf(out, "Received: from SEKISHO: %s\r\n", date);
    if (ok && s->r.o.result == ACCESSLOG_RESULT_SPAM)
        ok = buf_printf(out, "X-Spam-Status: Yes(%s) with %s\r\n", product, s->r.o.detect_name);
    else if (ok)
        ok = buf_printf(out, "X-Virus-Status: infected(%s) with %s\r\n", product,
                        s->r.o.detect_name);
    if (ok && s->r.new_subject &&
        !spam_check_new_subject(s->r.spool.fd, &s->r.spam_res,
                                s->ps.cfg->spam_change_subject_prefix, out)) {
        svclog_error_errno(&s->ps.log, errno, "cannot write the changed Subject");
        ok = false;
    }
    if (ok && replaced) {
        /* POP-7: Date, To, Cc of the original, each when present. */
        if (s->r.orig_date[0])
            ok = buf_printf(out, "Date: %s\r\n", s->r.orig_date);
        if (ok && s->r.orig_to[0])
            ok = buf_printf(out, "To: %s\r\n", s->r.orig_to);
        if (ok && s->r.orig_cc[0])
            ok = buf_printf(out, "Cc: %s\r\n", s->r.orig_cc);
    }
    return ok;
}

/* replacement - action=delete: the lead lines and template_pop.txt. */
static bool replacement(struct pop_session *s, struct buf *out)
{
    static char lead_mem[8192], rendered_mem[TEMPLATE_PARSE_MAX_BYTES * 4];
    struct buf lead, rendered;
    buf_init(&lead, lead_mem, sizeof(lead_mem));
    buf_init(&rendered, rendered_mem, sizeof(rendered_mem));
    if (!lead_lines(s, &lead, true))
        return false;
    char url[POP_URL_MAX];
    pop_url(s, url, sizeof(url));
    struct template_vars v;
    pop_vars(s, &v, url);
    static struct template_var_table table;
    template_vars_table(&v, &table);
    if (template_render(s->ps.w->res->tpl_pop, table.vars, TEMPLATE_VAR_COUNT, &rendered) !=
        TEMPLATE_PARSE_DONE) {
        svclog_error(&s->ps.log, "pop: template_pop.txt does not render: a plain notice instead");
        buf_reset(&rendered);
        buf_printf(&rendered, "Subject: [VIRUS REMOVED] %s\r\n\r\n%s\r\n", s->r.o.detect_name,
                   s->r.o.detect_name);
    }
    struct notify_mail_parts parts = {buf_view(&lead), STR_NULL, STR_NULL};
    return notify_mail_format(buf_view(&rendered), &parts, out);
}

static void start_send(struct pop_session *s)
{
    if (!prefix_buf.data && buf_alloc_storage(&prefix_buf, POP_PREFIX_MAX) < 0) {
        fail(s, "PROXY/out of memory");
        return;
    }
    buf_reset(&prefix_buf);
    bool ok = true;
    s->r.send_spool = true;
    if (s->r.o.result == ACCESSLOG_RESULT_SPAM) {
        ok = lead_lines(s, &prefix_buf, false); /* POP never withholds spam (SPAM-10) */
    } else if (s->r.o.result == ACCESSLOG_RESULT_INFECTED) {
        if (s->r.o.action == ACCESSLOG_ACTION_DELETE) {
            ok = replacement(s, &prefix_buf);
            s->r.send_spool = false;
        } else {
            ok = lead_lines(s, &prefix_buf, false);
        }
    }
    if (!ok) {
        fail(s, "PROXY/the notice does not fit");
        return;
    }
    smtp_dot_encoder_init(&s->r.enc);
    s->r.send_off = 0;
    s->r.send_done = false;
    s->state = POP_ST_SEND;
    s->ps.client_pull = true;
    pop_retr_send_step(s);
}

/* pop_retr_send_step - what fits of the prefix, the spool, the end line. */
void pop_retr_send_step(struct pop_session *s)
{
    struct buf *out = &s->ps.client.out;
    char chunk[POP_SPOOL_CHUNK];
    /* Bounded: each round fills client.out or finishes a part. */
    for (;;) {
        buf_compact(out);
        if (buf_space(out) < 8)
            return; /* the client is slower: client_drained goes on */
        size_t used, w;
        if (buf_len(&prefix_buf) > 0) {
            w = smtp_dot_encode(&s->r.enc, buf_rptr(&prefix_buf), buf_len(&prefix_buf),
                                buf_wptr(out), buf_space(out), &used);
            buf_produce(out, w);
            buf_consume(&prefix_buf, used);
            continue;
        }
        uint64_t off = (uint64_t)s->r.send_off;
        size_t want = s->r.send_spool
                          ? proxy_spool_window(&off, s->r.spool.len, &s->r.skip, sizeof(chunk))
                          : 0;
        s->r.send_off = (off_t)off;
        if (want > 0) {
            ssize_t n = pread(s->r.spool.fd, chunk, want, s->r.send_off);
            if (n <= 0) {
                fail(s, "PROXY/spool read failed");
                return;
            }
            w = smtp_dot_encode(&s->r.enc, chunk, (size_t)n, buf_wptr(out), buf_space(out), &used);
            buf_produce(out, w);
            s->r.send_off += (off_t)used;
            continue;
        }
        char end[5];
        size_t k = smtp_dot_end(&s->r.enc, end);
        buf_append(out, end, k);
        pop_record(s, 200);
        pop_retr_end(s);
        pop_finish_command(s);
        return;
    }
}

static void copy_summary(struct pop_session *s, const struct mime_summary *sum)
{
    str_copy(s->r.o.content_type, sizeof(s->r.o.content_type), sum->content_type);
    str_copy_view(s->r.message_id, sizeof(s->r.message_id), str_trim(sum->message_id));
    str_copy_view(s->r.orig_date, sizeof(s->r.orig_date), str_trim(sum->date));
    str_copy_view(s->r.orig_to, sizeof(s->r.orig_to), str_trim(sum->to));
    str_copy_view(s->r.orig_cc, sizeof(s->r.orig_cc), str_trim(sum->cc));
    s->r.header_len = sum->header_len;
}

/* detected_extras - SCAN-12: whatever the action, a copy in quarantine (mailbox
 * format) and the administrator's notification when the settings ask. */
static void detected_extras(struct pop_session *s, const char *url, bool quarantine, bool notify)
{
    if (quarantine) {
        /* POP3 never sees the envelope: no sender, no recipients. */
        struct proxy_quarantine_who who = {.url = url, .user = s->user};
        proxy_quarantine_mbox(&s->ps, &s->r.o, s->r.spool.fd, s->user, &who);
    }
    if (notify && s->ps.cfg->admin_mailaddr.count > 0) {
        struct template_vars v;
        pop_vars(s, &v, url);
        proxy_notify_admin(&s->ps, &v);
    }
}

/* ---- the spam check (SPAM-1..10; POP: pass or change_subject) ---------- */

static void on_spam_checked(void *arg, const struct spam_check_result *r)
{
    struct pop_session *s = arg;
    proxy_session_enter(&s->ps);
    s->r.spam = NULL;
    const struct config *cfg = s->ps.cfg;
    char url[POP_URL_MAX];
    pop_url(s, url, sizeof(url));
    if (r->error) {
        /* POP cannot withhold a mail (SCAN-12): delivered unclassified. */
        svclog_error(&s->ps.log, "spam check failed: %s URL=[%s] (delivered unclassified)", r->note,
                     url);
    } else if (r->spam) {
        /* blackhole is refused in [pop] at start: pass or change_subject */
        proxy_outcome_spam(&s->r.o, r->name, spam_check_action(cfg->spam_action));
        svclog_info(&s->ps.log, "Spam: URL=[%s] SpamName: %s method=%s action=%s", url, r->name,
                    spam_check_method_name(r->method), accesslog_action_name(s->r.o.action));
        detected_extras(s, url, cfg->spam_quarantine, cfg->spam_notify_admin);
        if (s->r.o.action == ACCESSLOG_ACTION_CHANGE_SUBJECT) {
            if (spam_check_subject_skip(r, &s->r.skip)) {
                s->r.new_subject = true;
                s->r.spam_res = *r;
            } else {
                svclog_error(&s->ps.log,
                             "Subject of URL=[%s] longer than %u bytes: not changed "
                             "(X-Spam-Status added)",
                             url, SPAM_SUBJECT_MAX);
            }
        }
    } else if (r->white) {
        svclog_info(&s->ps.log, "Not spam: URL=[%s] matched a WHITE custom rule", url);
    }
    start_send(s);
    proxy_session_leave(&s->ps);
}

static void start_spam(struct pop_session *s)
{
    const struct spam_check_input in = {
        .spool_fd = s->r.spool.fd,
        .len = s->r.spool.len,
        .client_ip = NULL, /* SPAM-8: POP checks the Received: addresses only */
        .user = s->user,
        .queue_id = s->r.message_id,
    };
    s->r.spam = spam_check_start(s->ps.w, &in, &s->ps.log, on_spam_checked, s);
    if (!s->r.spam) {
        svclog_error_errno(&s->ps.log, errno,
                           "cannot start the spam check (delivered "
                           "unclassified)");
        start_send(s);
    }
}

static void on_scanned(struct pop_session *s, const struct proxy_mail_scan_result *res)
{
    s->r.o.checks += res->checks;
    s->r.o.scan_ms += res->scan_ms;
    s->r.o.details |= res->details;
    if (res->verdict == SCANREQ_ERROR) {
        char error[ACCESSLOG_ERROR_MAX];
        snprintf(error, sizeof(error), "PROXY/virus scan failed: %s", res->error);
        fail(s, error);
        return;
    }
    if (res->verdict == SCANREQ_INFECTED) {
        const struct config *cfg = s->ps.cfg;
        proxy_outcome_detected(&s->r.o, res->name, res->file, proxy_detect_action(cfg->action));
        char url[POP_URL_MAX];
        pop_url(s, url, sizeof(url));
        svclog_info(&s->ps.log, "Infected: URL=[%s] VirusName: %s File: [%s] action=%s", url,
                    res->name, res->file, accesslog_action_name(s->r.o.action));
        detected_extras(s, url, cfg->quarantine, cfg->notify_admin);
    }
    if (s->r.o.result == ACCESSLOG_RESULT_CLEAN && s->ps.cfg->spam_check) {
        start_spam(s); /* SCAN-10: spam after viruses */
        return;
    }
    start_send(s);
}

static void on_mail_scanned(void *arg, const struct proxy_mail_scan_result *r)
{
    struct pop_session *s = arg;
    struct proxy_mail_scan_result res = *r;
    proxy_session_enter(&s->ps);
    proxy_mail_scan_free(s->r.mscan);
    s->r.mscan = NULL;
    on_scanned(s, &res);
    proxy_session_leave(&s->ps);
}

/* admin_notification - SCAN-13: our own notification mails are not
 * judged again (they quote detection names). */
static bool admin_notification(const struct pop_session *s, const struct mime_summary *sum)
{
    uint64_t id;
    return s->ps.cfg->admin_notification_id != 0 && sum->admin_notification_id.ptr &&
           str_to_u64(str_trim(sum->admin_notification_id), UINT64_MAX, &id) &&
           id == s->ps.cfg->admin_notification_id;
}

/* on_mail_walked - the structure is known: the summary for the record
 * and a replacement, and SCAN-13 before anything is decided. */
static bool on_mail_walked(void *arg, const struct mime_summary *sum)
{
    struct pop_session *s = arg;
    copy_summary(s, sum);
    if (!admin_notification(s, sum))
        return true;
    proxy_session_enter(&s->ps);
    proxy_mail_scan_free(s->r.mscan);
    s->r.mscan = NULL;
    start_send(s);
    proxy_session_leave(&s->ps);
    return false;
}

static void start_scan(struct pop_session *s)
{
    s->state = POP_ST_SCAN;
    s->r.mscan =
        proxy_mail_scan_open(s->ps.w, SCANREQ_SVC_POP, s->r.spool.fd, s->r.spool.len, &s->ps.log);
    if (!s->r.mscan) {
        fail(s, "PROXY/cannot map the spooled message");
        return;
    }
    proxy_mail_scan_run(s->r.mscan, on_mail_walked, on_mail_scanned, s);
}

/* ---- receiving ---------------------------------------------------------- */

void pop_retr_input(struct pop_session *s)
{
    struct buf *in = &s->ps.server.in;
    char chunk[POP_SERVER_IN + 2];
    while (buf_len(in) > 0) {
        size_t used, written;
        enum pop3_result r = pop3_body_decode(&s->r.body, buf_rptr(in), buf_len(in), chunk,
                                              sizeof(chunk), &used, &written);
        buf_consume(in, used);
        if (r == POP3_TOO_LONG) {
            fail(s, "PROXY/message over 2000000000 bytes");
            return;
        }
        if (written && !s->r.spool_failed && proxy_spool_write(&s->r.spool, chunk, written) < 0) {
            svclog_error_errno(&s->ps.log, errno, "spool write failed in [%s]", s->ps.cfg->tmpdir);
            s->r.spool_failed = true; /* read on to the end: then fail */
        }
        if (r == POP3_DONE) {
            buf_compact(in);
            if (s->r.spool_failed) {
                fail(s, "PROXY/spool write failed");
                return;
            }
            start_scan(s);
            return;
        }
    }
    buf_compact(in);
}
