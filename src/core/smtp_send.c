/* smtp_send - see smtp_send.h. */
#include "core/smtp_send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/upstream.h"
#include "lib/buf.h"
#include "lib/str.h"

#define HOST_MAX 256

const char *smtp_send_stage_name(enum smtp_send_stage st)
{
    static const char *const names[] = {"GREETING", "HELO",     "MAIL FROM", "RCPT TO",
                                        "DATA",     "DATA END", "QUIT"};
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "STAGE_???";
}

struct smtp_send {
    struct ev_loop *loop;
    char host[HOST_MAX];
    uint16_t port;
    char helo[HOST_MAX];
    char from[SMTP_SEND_ADDR_MAX];
    char (*rcpts)[SMTP_SEND_ADDR_MAX];
    size_t nrcpts;
    size_t rcpt_next;
    smtp_send_read_fn *read;
    void *read_arg;
    bool read_done; /* the reader returned 0 */
    uint64_t step_ms;
    struct buf out;   /* the command or message bytes being written */
    struct buf reply; /* reply bytes being read */
    enum smtp_send_stage stage;
    bool delivered;
    int fd;
    struct ev_io io;
    struct ev_timer timer;
    struct upstream *up;
    smtp_send_done_fn *done;
    void *done_arg;
};

static void send_free(void *arg)
{
    struct smtp_send *m = arg;
    buf_fini(&m->out);
    buf_fini(&m->reply);
    free(m->rcpts);
    free(m);
}

/* reply_text - the reply so far, its final line end cut, the others as
 * spaces. */
static void reply_text(const struct smtp_send *m, char *out, size_t cap)
{
    size_t n = buf_len(&m->reply);
    const char *p = buf_rptr(&m->reply);
    while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
        n--;
    str_copy_view(out, cap, str_make(p, n));
    for (char *q = out; *q; q++)
        if (*q == '\r' || *q == '\n')
            *q = ' ';
}

/* finish - report r (its failure, err and detail set by the caller) and
 * free the client once the loop is out of its callbacks. */
static void finish(struct smtp_send *m, struct smtp_send_result *r)
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
    r->stage = m->stage;
    r->delivered = m->delivered;
    if (r->failure == SMTP_SEND_REFUSED || r->failure == SMTP_SEND_IO)
        reply_text(m, r->reply, sizeof(r->reply));
    smtp_send_done_fn *done = m->done;
    void *arg = m->done_arg;
    if (ev_defer(m->loop, send_free, m) < 0)
        send_free(m);
    done(arg, r);
}

static void fail(struct smtp_send *m, enum smtp_send_failure f, int err)
{
    struct smtp_send_result r = {.failure = f, .err = err};
    finish(m, &r);
}

static bool queue_command(struct smtp_send *m, const char *fmt, const char *arg)
{
    buf_reset(&m->out);
    return buf_printf(&m->out, fmt, arg);
}

/* next_command - after a good reply to the current stage, queue the next. */
static void next_command(struct smtp_send *m)
{
    bool ok = true;
    switch (m->stage) {
    case SMTP_SEND_GREETING:
        m->stage = SMTP_SEND_HELO;
        ok = queue_command(m, "HELO %s\r\n", m->helo);
        break;
    case SMTP_SEND_HELO:
        m->stage = SMTP_SEND_MAIL;
        ok = queue_command(m, "MAIL FROM:<%s>\r\n", m->from);
        break;
    case SMTP_SEND_MAIL:
    case SMTP_SEND_RCPT:
        if (m->rcpt_next < m->nrcpts) {
            m->stage = SMTP_SEND_RCPT;
            ok = queue_command(m, "RCPT TO:<%s>\r\n", m->rcpts[m->rcpt_next++]);
        } else {
            m->stage = SMTP_SEND_DATA;
            ok = queue_command(m, "%s", "DATA\r\n");
        }
        break;
    case SMTP_SEND_DATA:
        m->stage = SMTP_SEND_DATA_END; /* on_io pulls the message from the reader */
        buf_reset(&m->out);
        break;
    case SMTP_SEND_DATA_END:
        m->delivered = true;
        m->stage = SMTP_SEND_QUIT;
        ok = queue_command(m, "%s", "QUIT\r\n");
        break;
    case SMTP_SEND_QUIT: {
        struct smtp_send_result r = {.failure = SMTP_SEND_OK};
        finish(m, &r);
        return;
    }
    }
    if (!ok) {
        fail(m, SMTP_SEND_IO, ENOSPC);
        return;
    }
    buf_reset(&m->reply);
    ev_io_set(m->loop, &m->io, EV_WRITE);
    ev_timer_start(m->loop, &m->timer, m->step_ms);
}

static int expected_ok(enum smtp_send_stage st, int code)
{
    switch (st) {
    case SMTP_SEND_GREETING:
        return code == 220;
    case SMTP_SEND_RCPT:
        return code == 250 || code == 251;
    case SMTP_SEND_DATA:
        return code == 354;
    case SMTP_SEND_QUIT:
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

/* refill - the next piece of the message into the empty out. False (and
 * the attempt over) when the reader fails. */
static bool refill(struct smtp_send *m)
{
    if (m->stage != SMTP_SEND_DATA_END || m->read_done)
        return true;
    buf_reset(&m->out);
    ssize_t n = m->read(m->read_arg, buf_wptr(&m->out), buf_space(&m->out));
    if (n < 0) {
        fail(m, SMTP_SEND_SETUP, errno ? errno : EIO);
        return false;
    }
    if (n == 0)
        m->read_done = true;
    else
        buf_produce(&m->out, (size_t)n);
    return true;
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct smtp_send *m = io->data;
    if (m->io.events & EV_WRITE) {
        for (;;) {
            if (buf_len(&m->out) == 0 && !refill(m))
                return;
            if (buf_len(&m->out) == 0)
                break;
            ssize_t n = send(m->fd, buf_rptr(&m->out), buf_len(&m->out), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                    return;
                fail(m, SMTP_SEND_IO, errno);
                return;
            }
            buf_consume(&m->out, (size_t)n);
            ev_timer_start(m->loop, &m->timer, m->step_ms);
        }
        ev_io_set(m->loop, &m->io, EV_READ);
        return;
    }
    if (buf_space(&m->reply) == 0) {
        fail(m, SMTP_SEND_IO, EMSGSIZE);
        return;
    }
    ssize_t n = recv(m->fd, buf_wptr(&m->reply), buf_space(&m->reply), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        fail(m, SMTP_SEND_IO, n < 0 ? errno : ECONNRESET);
        return;
    }
    buf_produce(&m->reply, (size_t)n);
    int code = 0;
    if (!reply_complete(&m->reply, &code))
        return;
    if (!expected_ok(m->stage, code)) {
        fail(m, SMTP_SEND_REFUSED, 0);
        return;
    }
    next_command(m);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    fail(t->data, SMTP_SEND_IO, ETIMEDOUT);
}

/* on_connected - core/upstream tried every address of the host. */
static void on_connected(void *arg, const struct upstream_result *r)
{
    struct smtp_send *m = arg;
    m->up = NULL;
    if (r->failure == UPSTREAM_LOOKUP) {
        struct smtp_send_result res = {.failure = SMTP_SEND_LOOKUP};
        str_copy(res.detail, sizeof(res.detail), r->detail);
        finish(m, &res);
        return;
    }
    if (r->fd < 0) {
        fail(m, SMTP_SEND_CONNECT, r->err ? r->err : ECONNREFUSED);
        return;
    }
    m->fd = r->fd;
    ev_io_init(&m->io, m->fd, on_io, m);
    if (ev_io_set(m->loop, &m->io, EV_READ) < 0) {
        fail(m, SMTP_SEND_IO, errno);
        return;
    }
    ev_timer_start(m->loop, &m->timer, m->step_ms);
}

static bool fits(const char *s, size_t cap)
{
    return s && strlen(s) < cap;
}

void smtp_send_start(struct ev_loop *loop, struct dns *dns, const struct smtp_send_req *req,
                     smtp_send_done_fn *done, void *arg)
{
    struct smtp_send *m = calloc(1, sizeof(*m));
    bool ok = m && buf_alloc_storage(&m->out, SMTP_SEND_CHUNK) == 0 &&
              buf_alloc_storage(&m->reply, SMTP_SEND_REPLY_MAX) == 0 && req->nrcpts > 0 &&
              (m->rcpts = calloc(req->nrcpts, sizeof(*m->rcpts))) != NULL;
    int err = ok ? 0 : ENOMEM;
    if (ok && (!fits(req->host, HOST_MAX) || !fits(req->helo, HOST_MAX) ||
               !fits(req->from, SMTP_SEND_ADDR_MAX))) {
        ok = false;
        err = ENAMETOOLONG;
    }
    for (size_t i = 0; ok && i < req->nrcpts; i++) {
        if (!fits(req->rcpts[i], SMTP_SEND_ADDR_MAX)) {
            ok = false;
            err = ENAMETOOLONG;
            break;
        }
        str_copy(m->rcpts[i], SMTP_SEND_ADDR_MAX, req->rcpts[i]);
    }
    if (!ok) {
        if (m)
            send_free(m);
        struct smtp_send_result r = {.failure = SMTP_SEND_SETUP, .err = err};
        done(arg, &r);
        return;
    }
    m->loop = loop;
    m->fd = -1;
    m->done = done;
    m->done_arg = arg;
    str_copy(m->host, sizeof(m->host), req->host);
    m->port = req->port;
    str_copy(m->helo, sizeof(m->helo), req->helo);
    str_copy(m->from, sizeof(m->from), req->from);
    m->nrcpts = req->nrcpts;
    m->read = req->read;
    m->read_arg = req->read_arg;
    m->step_ms = (uint64_t)req->step_timeout_s * 1000;
    m->stage = SMTP_SEND_GREETING;
    ev_timer_init(&m->timer, on_timeout, m);
    struct upstream_request ureq = {.host = m->host,
                                    .port = m->port,
                                    .ipv6 = true,
                                    .connect_timeout_s = req->step_timeout_s,
                                    .lookup_timeout_s = req->step_timeout_s};
    /* The callback may run (and end m) before upstream_start returns. */
    struct upstream *up = upstream_start(loop, dns, &ureq, on_connected, m);
    if (up)
        m->up = up;
}
