/* quarantine_release - see quarantine_release.h. */
#include "core/quarantine_release.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/quarantine_store.h"
#include "core/smtp_send.h"
#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/ev.h"
#include "lib/str.h"
#include "proto/mbox_format.h"
#include "proto/smtp_dot.h"

#define READ_CHUNK 16384 /* mailbox bytes read at a time */
#define STAGE_MAX  (2 * READ_CHUNK + 64)

/* The message as smtp_send pulls it: mailbox bytes from the file, the
 * quoting undone (stage), then dot-stuffed into smtp_send's buffer. */
struct reader {
    int fd;
    uint64_t off;
    bool eof, finished, end_written;
    struct mbox_reader mr;
    struct smtp_dot_encoder enc;
    struct buf stage;
    char stage_mem[STAGE_MAX];
    char in[READ_CHUNK];
};

/* fill_stage - the next piece of the message into the empty stage. False
 * when there is nothing more (the end line is next). */
static int fill_stage(struct reader *rd)
{
    buf_reset(&rd->stage);
    while (!rd->eof) {
        ssize_t n = pread(rd->fd, rd->in, sizeof(rd->in), (off_t)rd->off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            rd->eof = true;
            break;
        }
        rd->off += (uint64_t)n;
        if (!mbox_read(&rd->mr, rd->in, (size_t)n, &rd->stage)) {
            errno = EOVERFLOW; /* cannot happen: the stage holds 2 * READ_CHUNK + 8 */
            return -1;
        }
        if (buf_len(&rd->stage))
            return 1;
    }
    if (!rd->finished) {
        rd->finished = true;
        if (!mbox_read_finish(&rd->mr, &rd->stage)) {
            errno = EOVERFLOW;
            return -1;
        }
        return buf_len(&rd->stage) ? 1 : 0;
    }
    return 0;
}

static ssize_t read_message(void *arg, char *out, size_t cap)
{
    struct reader *rd = arg;
    size_t w = 0;
    while (w < cap) {
        if (buf_len(&rd->stage) == 0) {
            int f = fill_stage(rd);
            if (f < 0)
                return -1;
            if (f > 0)
                continue;
            if (rd->end_written)
                break;
            char end[5];
            size_t k = smtp_dot_end(&rd->enc, end);
            if (cap - w < k)
                break; /* the next call */
            memcpy(out + w, end, k);
            w += k;
            rd->end_written = true;
            break;
        }
        size_t used = 0;
        size_t k = smtp_dot_encode(&rd->enc, buf_rptr(&rd->stage), buf_len(&rd->stage), out + w,
                                   cap - w, &used);
        buf_consume(&rd->stage, used);
        w += k;
        if (used == 0)
            break;
    }
    return (ssize_t)w;
}

struct sending {
    bool done;
    struct smtp_send_result r;
    struct ev_loop *loop;
};

static void on_sent(void *arg, const struct smtp_send_result *r)
{
    struct sending *s = arg;
    s->r = *r;
    s->done = true;
    ev_break(s->loop);
}

/* deliver - the mail in fd to m's envelope through t. */
static enum qrelease_outcome deliver(int fd, const struct qmeta *m, const struct qrelease_target *t,
                                     char *text, size_t cap)
{
    enum { RCPT_ADDR = SMTP_SEND_ADDR_MAX };
    const char **rcpts = calloc(m->nrcpt, sizeof(*rcpts));
    char(*addrs)[RCPT_ADDR] = calloc(m->nrcpt, RCPT_ADDR);
    struct reader *rd = calloc(1, sizeof(*rd));
    struct ev_loop *loop = ev_loop_new();
    struct dns *dns = loop ? dns_new(loop) : NULL;
    char from[RCPT_ADDR];
    enum qrelease_outcome out = QRELEASE_FAILED;
    if (!rcpts || !addrs || !rd || !loop || !dns) {
        snprintf(text, cap, "cannot set up the delivery: %s", strerror(errno ? errno : ENOMEM));
        goto done;
    }
    if (m->sender.len >= RCPT_ADDR) {
        snprintf(text, cap, "refused: the envelope sender is longer than SMTP allows");
        out = QRELEASE_REFUSED;
        goto done;
    }
    str_copy_view(from, sizeof(from), m->sender);
    for (size_t i = 0; i < m->nrcpt; i++) {
        if (m->rcpt[i].len >= RCPT_ADDR) {
            snprintf(text, cap, "refused: a recipient is longer than SMTP allows");
            out = QRELEASE_REFUSED;
            goto done;
        }
        str_copy_view(addrs[i], RCPT_ADDR, m->rcpt[i]);
        rcpts[i] = addrs[i];
    }
    rd->fd = fd;
    mbox_reader_init(&rd->mr);
    smtp_dot_encoder_init(&rd->enc);
    buf_init(&rd->stage, rd->stage_mem, sizeof(rd->stage_mem));
    struct sending s = {.loop = loop};
    struct smtp_send_req req = {.host = t->host,
                                .port = t->port,
                                .helo = t->helo && *t->helo ? t->helo : "localhost",
                                .from = from,
                                .rcpts = rcpts,
                                .nrcpts = m->nrcpt,
                                .read = read_message,
                                .read_arg = rd,
                                .step_timeout_s = t->timeout_s ? t->timeout_s : 60};
    smtp_send_start(loop, dns, &req, on_sent, &s);
    if (!s.done && ev_run(loop) < 0 && !s.done) {
        snprintf(text, cap, "the delivery's event loop failed: %s", strerror(errno));
        goto done;
    }
    const struct smtp_send_result *r = &s.r;
    if (r->delivered) {
        out = QRELEASE_DELIVERED;
        snprintf(text, cap, "delivered to %zu recipient(s) through %s:%u", m->nrcpt, t->host,
                 t->port);
        goto done;
    }
    switch (r->failure) {
    case SMTP_SEND_LOOKUP:
        snprintf(text, cap, "not delivered: the SMTP parent %s does not resolve: %s", t->host,
                 r->detail);
        break;
    case SMTP_SEND_CONNECT:
        snprintf(text, cap, "not delivered: cannot connect to the SMTP parent %s:%u: %s", t->host,
                 t->port, strerror(r->err));
        break;
    case SMTP_SEND_REFUSED:
        snprintf(text, cap, "not delivered: the SMTP parent answered %s with [%s]",
                 smtp_send_stage_name(r->stage), r->reply);
        break;
    default:
        snprintf(text, cap, "not delivered: %s at %s (the parent said [%s])", strerror(r->err),
                 smtp_send_stage_name(r->stage), r->reply);
        break;
    }
done:
    if (dns)
        dns_free(dns);
    ev_loop_free(loop);
    free(rd);
    free(addrs);
    free(rcpts);
    return out;
}

/* mail_refusal - why a mail cannot be released, or NULL. */
static const char *mail_refusal(const struct qmeta *m, const struct qrelease_target *t)
{
    if (m->nrcpt == 0)
        return str_eq_cstr(m->service, "pop")
                   ? "a POP3 message has no envelope recipient the proxy knows: download it "
                     "instead"
                   : "the meta names no recipient";
    if (m->rcpt_count > m->nrcpt)
        return "the meta lists only some of the mail's recipients (too many to keep)";
    if (!m->has_sender)
        return "the meta has no envelope sender";
    if (!t->host || !*t->host || t->port == 0)
        return "no SMTP parent is configured ([smtp] parent_server_host)";
    return NULL;
}

static bool is_mailbox(int fd)
{
    char head[5];
    return pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
           memcmp(head, "From ", sizeof(head)) == 0;
}

enum qrelease_outcome qrelease_run(const char *dir, const char *id, const struct qrelease_target *t,
                                   const char *by, int64_t now, char *text, size_t cap)
{
    struct qstore_item *item = malloc(sizeof(*item));
    if (!item) {
        snprintf(text, cap, "refused: out of memory");
        return QRELEASE_REFUSED;
    }
    int fd = -1;
    enum qrelease_outcome out = QRELEASE_REFUSED;
    enum qstore_status st = qstore_lock(dir, id, item, &fd);
    const struct qmeta *m = &item->meta;
    const char *why = NULL;
    if (st != QSTORE_OK)
        why = qstore_status_text(st);
    else if (m->released)
        why = "released already";
    else if (qmeta_is_mail(m) && !(why = mail_refusal(m, t)) && !is_mailbox(fd))
        why = "the object is not in mailbox format";
    if (why) {
        if (st == QSTORE_OK && m->released)
            snprintf(text, cap, "refused: released already (at %" PRId64 " by %.*s)",
                     m->released_time, (int)m->released_by.len, m->released_by.ptr);
        else
            snprintf(text, cap, "refused: %s", why);
        goto done;
    }
    if (qmeta_is_mail(m)) {
        out = deliver(fd, m, t, text, cap);
        if (out != QRELEASE_DELIVERED)
            goto done;
    } else {
        out = QRELEASE_MARKED;
        snprintf(text, cap, "marked released (the object stays in quarantine)");
    }
    st = qstore_set_released(dir, item, now, by);
    if (st != QSTORE_OK) {
        size_t n = strlen(text);
        snprintf(text + n, cap - n, "; but the meta could not record it: %s (%s)",
                 qstore_status_text(st), strerror(errno));
        if (out == QRELEASE_MARKED)
            out = QRELEASE_FAILED;
    }
done:
    qstore_unlock(fd);
    free(item);
    return out;
}
