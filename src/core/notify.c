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

#include "core/upstream.h"
#include "lib/buf.h"
#include "lib/mail_date.h"
#include "proto/notify_mail_format.h"
#include "proto/smtp_dot.h"
#include "proto/template_parse.h"

#define NOTIFY_MESSAGE_MAX 65536
#define NOTIFY_REPLY_MAX   4096
#define NOTIFY_STEP_S      60 /* each SMTP step (and the connection) must answer within this */
#define NOTIFY_STEP_MS     (NOTIFY_STEP_S * 1000)
#define NOTIFY_ADDR_MAX    256

enum notify_stage {
    NOTIFY_GREETING = 0,
    NOTIFY_HELO,
    NOTIFY_MAIL,
    NOTIFY_RCPT,
    NOTIFY_DATA,
    NOTIFY_DATA_END,
    NOTIFY_QUIT,
};

/* The stage names of LOG-E5. */
static const char *notify_stage_name(enum notify_stage st)
{
    static const char *const names[] = {"GREETING", "HELO",     "MAIL FROM", "RCPT TO",
                                        "DATA",     "DATA END", "QUIT"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "STAGE_???";
}

struct notify_mail {
    struct ev_loop *loop;
    struct svclog_ctx log;
    char mx_host[256];
    uint16_t mx_port;
    char helo[256];
    char from[NOTIFY_ADDR_MAX];
    char (*rcpts)[NOTIFY_ADDR_MAX];
    size_t nrcpts;
    size_t rcpt_next;
    struct buf msg;   /* the message, dot-stuffed, ending CRLF.CRLF */
    struct buf out;   /* the command or data being written */
    struct buf reply; /* reply bytes being read */
    enum notify_stage stage;
    int fd;
    struct ev_io io;
    struct ev_timer timer;
    struct upstream *up; /* connecting to admin_mx_host */
    notify_done_fn *done;
    void *done_arg;
};

static void mail_free(void *arg)
{
    struct notify_mail *m = arg;
    buf_fini(&m->msg);
    buf_fini(&m->out);
    buf_fini(&m->reply);
    free(m->rcpts);
    free(m);
}

static void finish(struct notify_mail *m)
{
    if (m->up)
        upstream_cancel(m->up);
    m->up = NULL;
    ev_timer_stop(m->loop, &m->timer);
    if (m->fd >= 0) {
        ev_io_stop(m->loop, &m->io);
        close(m->fd);
        m->fd = -1;
    }
    notify_done_fn *done = m->done;
    void *arg = m->done_arg;
    if (ev_defer(m->loop, mail_free, m) < 0)
        mail_free(m);
    done(arg);
}

static void smtp_error(struct notify_mail *m, int err)
{
    char buf[NOTIFY_REPLY_MAX + 1];
    size_t n = buf_len(&m->reply);
    while (n > 0 && (m->reply.data[m->reply.rpos + n - 1] == '\n' ||
                     m->reply.data[m->reply.rpos + n - 1] == '\r'))
        n--;
    str_copy_view(buf, sizeof(buf), str_make(buf_rptr(&m->reply), n));
    for (char *p = buf; *p; p++)
        if (*p == '\r' || *p == '\n')
            *p = ' ';
    if (err)
        svclog_error_errno(&m->log, err, "notify_admin:smtp error:%s: buf=[%s] ",
                           notify_stage_name(m->stage), buf);
    else
        svclog_error(&m->log, "notify_admin:smtp error:%s: buf=[%s]", notify_stage_name(m->stage),
                     buf);
    finish(m);
}

static bool queue_command(struct notify_mail *m, const char *fmt, const char *arg)
{
    buf_reset(&m->out);
    return buf_printf(&m->out, fmt, arg);
}

/* next_command - after a good reply to the current stage, queue the next. */
static void next_command(struct notify_mail *m)
{
    bool ok = true;
    switch (m->stage) {
    case NOTIFY_GREETING:
        m->stage = NOTIFY_HELO;
        ok = queue_command(m, "HELO %s\r\n", m->helo);
        break;
    case NOTIFY_HELO:
        m->stage = NOTIFY_MAIL;
        ok = queue_command(m, "MAIL FROM:<%s>\r\n", m->from);
        break;
    case NOTIFY_MAIL:
    case NOTIFY_RCPT:
        if (m->rcpt_next < m->nrcpts) {
            m->stage = NOTIFY_RCPT;
            ok = queue_command(m, "RCPT TO:<%s>\r\n", m->rcpts[m->rcpt_next++]);
        } else {
            m->stage = NOTIFY_DATA;
            ok = queue_command(m, "%s", "DATA\r\n");
        }
        break;
    case NOTIFY_DATA:
        m->stage = NOTIFY_DATA_END;
        buf_fini(&m->out);
        m->out = m->msg; /* hand the message storage over */
        buf_init(&m->msg, NULL, 0);
        break;
    case NOTIFY_DATA_END:
        m->stage = NOTIFY_QUIT;
        buf_alloc_storage(&m->out, 512);
        ok = queue_command(m, "%s", "QUIT\r\n");
        break;
    case NOTIFY_QUIT:
        finish(m);
        return;
    }
    if (!ok) {
        smtp_error(m, ENOSPC);
        return;
    }
    buf_reset(&m->reply);
    ev_io_set(m->loop, &m->io, EV_WRITE);
    ev_timer_start(m->loop, &m->timer, NOTIFY_STEP_MS);
}

static int expected_ok(enum notify_stage st, int code)
{
    switch (st) {
    case NOTIFY_GREETING:
        return code == 220;
    case NOTIFY_RCPT:
        return code == 250 || code == 251;
    case NOTIFY_DATA:
        return code == 354;
    case NOTIFY_QUIT:
        return code == 221 || code == 250;
    default:
        return code == 250;
    }
}

/* reply_complete - a reply is complete at a line "ddd " (RFC 5321 4.2.1). */
static int reply_complete(const struct buf *r, int *code)
{
    const char *p = buf_rptr(r), *end = p + buf_len(r);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        if (nl - p >= 3 && p[0] >= '1' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' &&
            p[2] >= '0' && p[2] <= '9' && (nl - p == 3 || p[3] != '-')) {
            *code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
            return 1;
        }
        p = nl + 1;
    }
    return 0;
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct notify_mail *m = io->data;
    if (m->io.events & EV_WRITE) {
        while (buf_len(&m->out) > 0) {
            ssize_t n = send(m->fd, buf_rptr(&m->out), buf_len(&m->out), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    return;
                smtp_error(m, errno);
                return;
            }
            buf_consume(&m->out, (size_t)n);
            ev_timer_start(m->loop, &m->timer, NOTIFY_STEP_MS);
        }
        ev_io_set(m->loop, &m->io, EV_READ);
        return;
    }
    if (buf_space(&m->reply) == 0) {
        smtp_error(m, EMSGSIZE);
        return;
    }
    ssize_t n = recv(m->fd, buf_wptr(&m->reply), buf_space(&m->reply), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        smtp_error(m, n < 0 ? errno : ECONNRESET);
        return;
    }
    buf_produce(&m->reply, (size_t)n);
    int code = 0;
    if (!reply_complete(&m->reply, &code))
        return;
    if (!expected_ok(m->stage, code)) {
        smtp_error(m, 0);
        return;
    }
    next_command(m);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct notify_mail *m = t->data;
    smtp_error(m, ETIMEDOUT);
}

/* on_connected - core/upstream tried every address of admin_mx_host. */
static void on_connected(void *arg, const struct upstream_result *r)
{
    struct notify_mail *m = arg;
    m->up = NULL;
    if (r->failure == UPSTREAM_LOOKUP) {
        svclog_error(&m->log, "notify_admin:gethostbyname error:admin_mx_host=[%s] hstrerror=[%s]",
                     m->mx_host, r->detail);
        finish(m);
        return;
    }
    if (r->fd < 0) {
        svclog_error_errno(&m->log, r->err ? r->err : ECONNREFUSED,
                           "notify_admin:cannot connect to admin mail server[%s:%u] ", m->mx_host,
                           m->mx_port);
        finish(m);
        return;
    }
    m->fd = r->fd;
    ev_io_init(&m->io, m->fd, on_io, m);
    if (ev_io_set(m->loop, &m->io, EV_READ) < 0) {
        smtp_error(m, errno);
        return;
    }
    ev_timer_start(m->loop, &m->timer, NOTIFY_STEP_MS);
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
    if (!m || buf_alloc_storage(&m->msg, NOTIFY_MESSAGE_MAX) < 0 ||
        buf_alloc_storage(&m->out, 512) < 0 || buf_alloc_storage(&m->reply, NOTIFY_REPLY_MAX) < 0 ||
        !(m->rcpts = calloc(cfg->admin_mailaddr.count ? cfg->admin_mailaddr.count : 1,
                            sizeof(*m->rcpts)))) {
        if (m)
            mail_free(m);
        done(arg);
        return;
    }
    m->loop = loop;
    m->fd = -1;
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
    str_copy(m->helo, sizeof(m->helo), helo_host);
    for (size_t i = 0; i < cfg->admin_mailaddr.count; i++) {
        struct str a = cfg->admin_mailaddr.items[i];
        if (a.len == 0 || a.len >= NOTIFY_ADDR_MAX)
            continue;
        str_copy_view(m->rcpts[m->nrcpts++], NOTIFY_ADDR_MAX, a);
    }
    ev_timer_init(&m->timer, on_timeout, m);
    if (m->nrcpts == 0 ||
        !notify_build_message(&m->msg, cfg, rendered, m->from, sizeof(m->from), time(NULL))) {
        svclog_error(&m->log, "notify_admin: cannot build the notification (no address, or "
                              "template_admin.txt too large)");
        mail_free(m);
        done(arg);
        return;
    }
    m->stage = NOTIFY_GREETING;
    struct upstream_request req = {.host = m->mx_host,
                                   .port = m->mx_port,
                                   .ipv6 = true,
                                   .connect_timeout_s = NOTIFY_STEP_S,
                                   .lookup_timeout_s = NOTIFY_STEP_S};
    /* The callback may run (and end m) before upstream_start returns. */
    struct upstream *up = upstream_start(loop, dns, &req, on_connected, m);
    if (up)
        m->up = up;
}
