/* notify - administrator notification mails (SCAN-13, LOG-E3..E5). */
#include "core/notify.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/smtp_send.h"
#include "lib/buf.h"
#include "lib/mail_date.h"
#include "proto/notify_mail_format.h"
#include "proto/smtp_dot.h"
#include "proto/template_parse.h"

#define NOTIFY_MESSAGE_MAX 65536
#define NOTIFY_STEP_S      60 /* each SMTP step (and the connection) must answer within this */
#define NOTIFY_ADDR_MAX    SMTP_SEND_ADDR_MAX

/* One notification being sent (core/smtp_send carries it). */
struct notify_mail {
    struct svclog_ctx log;
    char mx_host[256];
    uint16_t mx_port;
    char from[NOTIFY_ADDR_MAX];
    struct buf msg; /* the message, dot-stuffed, ending CRLF.CRLF */
    notify_done_fn *done;
    void *done_arg;
};

static void mail_free(struct notify_mail *m)
{
    buf_fini(&m->msg);
    free(m);
}

/* read_message - the message for smtp_send, as the socket takes it. */
static ssize_t read_message(void *arg, char *out, size_t cap)
{
    struct notify_mail *m = arg;
    size_t n = buf_len(&m->msg) < cap ? buf_len(&m->msg) : cap;
    memcpy(out, buf_rptr(&m->msg), n);
    buf_consume(&m->msg, n);
    return (ssize_t)n;
}

/* on_sent - the documented lines of a failure (LOG-E3..E5), then done. */
static void on_sent(void *arg, const struct smtp_send_result *r)
{
    struct notify_mail *m = arg;
    switch (r->failure) {
    case SMTP_SEND_OK:
        break;
    case SMTP_SEND_LOOKUP:
        svclog_error(&m->log, "notify_admin:gethostbyname error:admin_mx_host=[%s] hstrerror=[%s]",
                     m->mx_host, r->detail);
        break;
    case SMTP_SEND_CONNECT:
        svclog_error_errno(&m->log, r->err,
                           "notify_admin:cannot connect to admin mail server[%s:%u] ", m->mx_host,
                           m->mx_port);
        break;
    case SMTP_SEND_REFUSED:
        svclog_error(&m->log, "notify_admin:smtp error:%s: buf=[%s]",
                     smtp_send_stage_name(r->stage), r->reply);
        break;
    case SMTP_SEND_IO:
    case SMTP_SEND_SETUP:
        svclog_error_errno(&m->log, r->err, "notify_admin:smtp error:%s: buf=[%s] ",
                           smtp_send_stage_name(r->stage), r->reply);
        break;
    }
    notify_done_fn *done = m->done;
    void *done_arg = m->done_arg;
    mail_free(m);
    done(done_arg);
}

/* dot_stuff - append text dot-stuffed (RFC 5321 4.5.2) and the final
 * "." line; all or nothing. */
static bool dot_stuff(struct buf *out, struct str text)
{
    struct smtp_dot_encoder enc;
    smtp_dot_encoder_init(&enc);
    size_t used,
        w = smtp_dot_encode(&enc, text.ptr, text.len, buf_wptr(out), buf_space(out), &used);
    char end[5];
    size_t k = smtp_dot_end(&enc, end);
    if (used != text.len || buf_space(out) - w < k)
        return false;
    buf_produce(out, w);
    return buf_append(out, end, k);
}

bool notify_build_message(struct buf *out, const struct config *cfg, struct str rendered,
                          char *from, size_t from_cap, long now)
{
    struct str header, body;
    template_parse_split_mail(rendered, &header, &body);
    struct str addr = template_parse_mail_from(header);
    if (addr.len == 0 && cfg->admin_mailaddr.count > 0)
        addr = cfg->admin_mailaddr.items[0];
    if (addr.len == 0 || addr.len >= from_cap)
        return false;
    str_copy_view(from, from_cap, addr);

    /* To, Date (each unless the template has it) and the id of SCAN-13. */
    char tmem[8192];
    struct buf trail;
    buf_init(&trail, tmem, sizeof(tmem));
    struct str v;
    bool ok = true;
    if (!template_parse_header_find(header, "To", &v)) {
        /* One line while it stays short (RFC 5322 2.1.1: 78), folded after
         * a comma beyond that, so a long list never makes a long line. */
        ok = buf_append_cstr(&trail, "To: ");
        size_t line = 4;
        for (size_t i = 0; ok && i < cfg->admin_mailaddr.count; i++) {
            struct str a = cfg->admin_mailaddr.items[i];
            bool fold = i > 0 && line + 2 + a.len > 78;
            if (i > 0)
                ok = buf_append_cstr(&trail, fold ? ",\r\n " : ", ");
            line = (fold ? 1 : line + (i > 0 ? 2 : 0)) + a.len;
            ok = ok && buf_append_str(&trail, a);
        }
        ok = ok && buf_append(&trail, "\r\n", 2);
    }
    if (ok && !template_parse_header_find(header, "Date", &v)) {
        char date[MAIL_DATE_MAX];
        mail_date((time_t)now, date, sizeof(date));
        ok = buf_printf(&trail, "Date: %s\r\n", date);
    }
    ok = ok && buf_printf(&trail, "X-Admin-Notification-Id: %" PRIu64 "\r\n",
                          (uint64_t)cfg->admin_notification_id);
    static char mmem[NOTIFY_MESSAGE_MAX]; /* a worker is one thread */
    struct buf msg;
    buf_init(&msg, mmem, sizeof(mmem));
    struct notify_mail_parts parts = {STR_NULL, str_from_cstr(from), buf_view(&trail)};
    return ok && notify_mail_format(rendered, &parts, &msg) && dot_stuff(out, buf_view(&msg));
}

void notify_admin_send(struct ev_loop *loop, struct dns *dns, const struct config *cfg,
                       const char *helo_host, struct str rendered, const struct svclog_ctx *log,
                       notify_done_fn *done, void *arg)
{
    struct notify_mail *m = calloc(1, sizeof(*m));
    size_t count = cfg->admin_mailaddr.count;
    const char **rcpts = calloc(count ? count : 1, sizeof(*rcpts));
    char(*addrs)[NOTIFY_ADDR_MAX] = calloc(count ? count : 1, sizeof(*addrs));
    if (!m || !rcpts || !addrs || buf_alloc_storage(&m->msg, NOTIFY_MESSAGE_MAX) < 0) {
        if (m)
            mail_free(m);
        free(rcpts);
        free(addrs);
        done(arg);
        return;
    }
    m->done = done;
    m->done_arg = arg;
    if (log)
        m->log = *log;
    str_copy(m->mx_host, sizeof(m->mx_host), cfg->admin_mx_host);
    m->mx_port = (uint16_t)cfg->admin_mx_port;
    m->log.server_host = NULL; /* the session's strings may not outlive us */
    m->log.server_ip = NULL;
    m->log.client_ip = NULL;
    m->log.client_host = NULL;
    size_t nrcpts = 0;
    for (size_t i = 0; i < count; i++) {
        struct str a = cfg->admin_mailaddr.items[i];
        if (a.len == 0 || a.len >= NOTIFY_ADDR_MAX)
            continue;
        str_copy_view(addrs[nrcpts], NOTIFY_ADDR_MAX, a);
        rcpts[nrcpts] = addrs[nrcpts];
        nrcpts++;
    }
    if (nrcpts == 0 ||
        !notify_build_message(&m->msg, cfg, rendered, m->from, sizeof(m->from), time(NULL))) {
        svclog_error(&m->log, "notify_admin: cannot build the notification (no address, or "
                              "template_admin.txt too large)");
        mail_free(m);
        free(rcpts);
        free(addrs);
        done(arg);
        return;
    }
    struct smtp_send_req req = {.host = m->mx_host,
                                .port = m->mx_port,
                                .helo = helo_host,
                                .from = m->from,
                                .rcpts = rcpts,
                                .nrcpts = nrcpts,
                                .read = read_message,
                                .read_arg = m,
                                .step_timeout_s = NOTIFY_STEP_S};
    /* smtp_send copies the envelope; on_sent may run before this returns. */
    smtp_send_start(loop, dns, &req, on_sent, m);
    free(rcpts);
    free(addrs);
}
