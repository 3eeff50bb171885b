/* spam_engine - asynchronous checks of a spooled mail by rspamd (/checkv2). */
#include "proxy/spam_engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/sock.h"
#include "lib/str.h"
#include "proto/http1_parse.h"
#include "proto/rspamd_reply.h"

#define SPAM_ENGINE_INTERIM_MAX 4 /* 1xx heads before the reply (rspamd sends none) */

enum phase {
    PH_CONNECT = 0,
    PH_SEND, /* request head and body */
    PH_READ, /* everything sent, waiting for the rest of the reply */
    PH_DONE, /* result stored, callback pending or run */
};

static const char *const phase_name[] = {"connecting", "sending", "reading the reply", "done"};

struct spam_engine_req {
    struct ev_loop *loop;
    spam_engine_fn *cb;
    void *arg;
    enum phase phase;
    int sock;
    struct ev_io io;
    struct ev_timer timer; /* the overall timeout, then the deferred callback */
    uint64_t start_ms;
    unsigned timeout_ms;
    int spool_fd;
    uint64_t len, body_off; /* body bytes to send / already read from the spool */
    char *head;             /* request head */
    size_t head_len, head_off;
    size_t chunk_len, chunk_off; /* body bytes in chunk not yet sent */
    /* reply */
    char *rbuf;
    size_t rlen, rcap;
    bool head_done;
    unsigned interim; /* 1xx heads skipped */
    struct http1_response resp;
    enum http1_body body_kind;
    uint64_t body_len; /* LENGTH: expected body bytes */
    size_t body_start; /* offset of the body in rbuf */
    struct http1_chunked chunked;
    size_t chunk_in; /* CHUNKED: raw bytes of rbuf consumed by the decoder */
    size_t body_out; /* CHUNKED: decoded bytes, written in place from body_start */
    struct spam_engine_result result;
    char chunk[SPAM_ENGINE_CHUNK];
};

const char *spam_engine_verdict_name(enum spam_engine_verdict v)
{
    switch (v) {
    case SPAM_ENGINE_HAM:
        return "HAM";
    case SPAM_ENGINE_SPAM:
        return "SPAM";
    case SPAM_ENGINE_SKIPPED:
        return "SKIPPED";
    case SPAM_ENGINE_ERROR:
        return "ERROR";
    }
    return "?";
}

int spam_engine_target_parse(const char *text, struct spam_engine_target *t, char *err,
                             size_t errcap)
{
    memset(t, 0, sizeof(*t));
    if (errcap > 0)
        err[0] = '\0';
    if (!text || !*text) {
        snprintf(err, errcap, "empty address");
        return -1;
    }
    if (text[0] == '/') {
        struct sockaddr_un *un = (struct sockaddr_un *)&t->addr;
        size_t n = strlen(text);
        if (n >= sizeof(un->sun_path)) {
            snprintf(err, errcap, "socket path longer than %zu bytes", sizeof(un->sun_path) - 1);
            return -1;
        }
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, text, n + 1);
        t->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 0;
    }
    struct str s = str_from_cstr(text), host, port;
    if (text[0] == '[') {
        long rb = str_find_char(s, ']');
        if (rb < 0 || (size_t)rb + 1 >= s.len || text[rb + 1] != ':') {
            snprintf(err, errcap, "expected [IPv6]:port");
            return -1;
        }
        host = str_make(text + 1, (size_t)rb - 1);
        port = str_make(text + rb + 2, s.len - (size_t)rb - 2);
    } else {
        long colon = str_find_char(s, ':');
        if (colon < 0 ||
            str_find_char(str_make(text + colon + 1, s.len - (size_t)colon - 1), ':') >= 0) {
            snprintf(err, errcap, "expected IPv4:port, [IPv6]:port or /socket/path");
            return -1;
        }
        host = str_make(text, (size_t)colon);
        port = str_make(text + colon + 1, s.len - (size_t)colon - 1);
    }
    uint64_t p;
    if (!str_to_u64(port, 65535, &p) || p == 0) {
        snprintf(err, errcap, "invalid port");
        return -1;
    }
    char ip[SOCK_ADDRSTRLEN + 1];
    if (host.len == 0 || host.len >= sizeof(ip)) {
        snprintf(err, errcap, "invalid IP address");
        return -1;
    }
    str_copy_view(ip, sizeof(ip), host);
    if (!sock_parse_ip(ip, (uint16_t)p, &t->addr, &t->addrlen) ||
        (text[0] == '[') != (t->addr.ss_family == AF_INET6)) {
        snprintf(err, errcap, "invalid IP address");
        memset(t, 0, sizeof(*t));
        return -1;
    }
    return 0;
}

/* ---- the request head ---- */

struct headbuf {
    char *p;
    size_t len, cap;
    bool oom;
};

static void hb_add(struct headbuf *h, const char *s, size_t n)
{
    if (h->oom)
        return;
    if (h->len + n + 1 > h->cap) {
        size_t cap = h->cap ? h->cap : 1024;
        while (cap < h->len + n + 1)
            cap *= 2;
        char *p = realloc(h->p, cap);
        if (!p) {
            h->oom = true;
            return;
        }
        h->p = p;
        h->cap = cap;
    }
    memcpy(h->p + h->len, s, n);
    h->len += n;
    h->p[h->len] = '\0';
}

static void hb_str(struct headbuf *h, const char *s)
{
    hb_add(h, s, strlen(s));
}

/* hb_field - "Name: value\r\n" with the value's control bytes (CR, LF,
 * NUL ... and DEL) dropped and the rest cut to SPAM_ENGINE_VALUE_MAX;
 * nothing when the value is NULL or ends up empty. */
static void hb_field(struct headbuf *h, const char *name, const char *value)
{
    if (!value)
        return;
    char v[SPAM_ENGINE_VALUE_MAX + 1];
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)value; *p && n < SPAM_ENGINE_VALUE_MAX;
         p++)
        if (*p >= 0x20 && *p != 0x7f)
            v[n++] = (char)*p;
    /* no leading/trailing blanks: they are not part of a field value */
    size_t a = 0;
    while (a < n && v[a] == ' ')
        a++;
    while (n > a && v[n - 1] == ' ')
        n--;
    if (n == a)
        return;
    hb_str(h, name);
    hb_add(h, ": ", 2);
    hb_add(h, v + a, n - a);
    hb_add(h, "\r\n", 2);
}

static char *build_head(const struct spam_engine_meta *m, uint64_t len, size_t *out_len)
{
    struct headbuf h = {NULL, 0, 0, false};
    char line[96];
    hb_str(&h, "POST /checkv2 HTTP/1.1\r\nHost: rspamd\r\nConnection: close\r\n");
    snprintf(line, sizeof(line), "Content-Length: %llu\r\n", (unsigned long long)len);
    hb_str(&h, line);
    if (m) {
        hb_field(&h, "IP", m->client_ip);
        hb_field(&h, "Helo", m->helo);
        hb_field(&h, "From", m->from);
        for (unsigned i = 0; m->rcpt && i < m->nrcpt && i < SPAM_ENGINE_RCPT_MAX; i++)
            hb_field(&h, "Rcpt", m->rcpt[i]);
        hb_field(&h, "User", m->user);
        hb_field(&h, "Hostname", m->hostname);
        hb_field(&h, "Queue-Id", m->queue_id);
    }
    hb_add(&h, "\r\n", 2);
    if (h.oom) {
        free(h.p);
        return NULL;
    }
    *out_len = h.len;
    return h.p;
}

/* ---- completion ---- */

static void free_req(void *data)
{
    struct spam_engine_req *r = data;
    free(r->head);
    free(r->rbuf);
    free(r);
}

static void release(struct spam_engine_req *r)
{
    ev_io_stop(r->loop, &r->io);
    ev_timer_stop(r->loop, &r->timer);
    if (r->sock >= 0) {
        close(r->sock);
        r->sock = -1;
    }
    /* a watcher event may still be pending in this batch: free after it */
    if (ev_defer(r->loop, free_req, r) < 0)
        free_req(r);
}

static void deliver(struct spam_engine_req *r)
{
    r->result.ms = ev_clock_ms() - r->start_ms;
    spam_engine_fn *cb = r->cb;
    void *arg = r->arg;
    struct spam_engine_result res = r->result;
    release(r);
    cb(arg, &res);
}

static void on_deferred(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    deliver(t->data);
}

/* set_error - the verdict and its reason, anything but printable ASCII
 * turned into '?' (it ends up in log lines). */
static void set_error(struct spam_engine_req *r, enum spam_engine_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct spam_engine_req *r, enum spam_engine_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->result.error, sizeof(r->result.error), fmt, ap);
    va_end(ap);
    for (char *p = r->result.error; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    r->result.verdict = v;
}

/* finish - from a watcher callback: the result is set, call back now. */
static void finish(struct spam_engine_req *r)
{
    r->phase = PH_DONE;
    deliver(r);
}

/* finish_later - from spam_engine_check(): call back from the loop. */
static void finish_later(struct spam_engine_req *r)
{
    r->phase = PH_DONE;
    ev_io_stop(r->loop, &r->io);
    if (r->sock >= 0) {
        close(r->sock);
        r->sock = -1;
    }
    ev_timer_init(&r->timer, on_deferred, r);
    ev_timer_start(r->loop, &r->timer, 0);
}

static void fail_errno(struct spam_engine_req *r, const char *what, int err)
{
    set_error(r, SPAM_ENGINE_ERROR, "%s: %s", what, strerror(err));
    finish(r);
}

/* ---- the reply ---- */

/* reply_done - the whole body is in rbuf[body_start .. +n): judge it. */
static void reply_done(struct spam_engine_req *r, size_t n)
{
    const char *body = r->rbuf + r->body_start;
    struct rspamd_reply *rep = malloc(sizeof(*rep));
    if (!rep) {
        fail_errno(r, "reply", ENOMEM);
        return;
    }
    char why[96];
    enum rspamd_reply_status st = rspamd_reply_parse(body, n, rep, why, sizeof(why));
    int status = r->resp.status;
    if (status != 200) {
        if (st == RSPAMD_REPLY_OK && rep->has_error)
            set_error(r, SPAM_ENGINE_ERROR, "HTTP %d: %s", status, rep->error);
        else
            set_error(r, SPAM_ENGINE_ERROR, "HTTP %d", status);
    } else if (st != RSPAMD_REPLY_OK) {
        set_error(r, SPAM_ENGINE_ERROR, "bad reply: %s", why);
    } else if (rep->has_error) {
        set_error(r, SPAM_ENGINE_ERROR, "rspamd: %s", rep->error);
    } else if (!rep->has_action) {
        set_error(r, SPAM_ENGINE_ERROR, "bad reply: no action");
    } else {
        struct spam_engine_result *res = &r->result;
        res->verdict = rspamd_reply_is_spam(rep->action) ? SPAM_ENGINE_SPAM : SPAM_ENGINE_HAM;
        str_copy(res->action, sizeof(res->action), rep->action);
        res->score = rep->score;
        res->required_score = rep->required_score;
        if (res->verdict == SPAM_ENGINE_SPAM)
            rspamd_reply_name(rep, res->name, sizeof(res->name));
    }
    free(rep);
    finish(r);
}

/* reply_progress - look at what arrived; true when the request finished. */
static bool reply_progress(struct spam_engine_req *r, bool eof)
{
    while (!r->head_done) {
        enum http1_result hr = http1_parse_response(&r->resp, r->rbuf, r->rlen);
        if (hr == HTTP1_AGAIN) {
            if (!eof)
                return false;
            set_error(r, SPAM_ENGINE_ERROR, "connection closed %s",
                      r->rlen ? "in the reply head" : "without a reply");
            finish(r);
            return true;
        }
        if (hr == HTTP1_TOO_LONG) {
            set_error(r, SPAM_ENGINE_ERROR, "bad reply: head longer than %d bytes",
                      SPAM_ENGINE_HEAD_MAX);
            finish(r);
            return true;
        }
        if (hr != HTTP1_DONE) {
            set_error(r, SPAM_ENGINE_ERROR, "bad reply: not HTTP (%s)",
                      http1_error_name(r->resp.error));
            finish(r);
            return true;
        }
        if (r->resp.status < 200) { /* 100 Continue: the next head follows */
            if (++r->interim > SPAM_ENGINE_INTERIM_MAX) {
                set_error(r, SPAM_ENGINE_ERROR, "bad reply: more than %d interim responses",
                          SPAM_ENGINE_INTERIM_MAX);
                finish(r);
                return true;
            }
            size_t h = r->resp.head_len;
            memmove(r->rbuf, r->rbuf + h, r->rlen - h);
            r->rlen -= h;
            http1_response_init(&r->resp, SPAM_ENGINE_HEAD_MAX);
            continue;
        }
        r->head_done = true;
        r->body_start = r->resp.head_len;
        r->body_kind = http1_response_body_kind(&r->resp, r->rbuf, HTTP1_METHOD_POST, &r->body_len);
        if (r->body_kind == HTTP1_BODY_INVALID || r->body_kind == HTTP1_BODY_TUNNEL) {
            set_error(r, SPAM_ENGINE_ERROR, "bad reply: invalid framing");
            finish(r);
            return true;
        }
        if (r->body_kind == HTTP1_BODY_LENGTH &&
            r->body_len > SPAM_ENGINE_REPLY_MAX - r->body_start) {
            set_error(r, SPAM_ENGINE_ERROR, "reply larger than %u bytes", SPAM_ENGINE_REPLY_MAX);
            finish(r);
            return true;
        }
        http1_chunked_init(&r->chunked);
        r->chunk_in = r->body_start;
        r->body_out = 0;
    }
    size_t have = r->rlen - r->body_start;
    switch (r->body_kind) {
    case HTTP1_BODY_NONE:
        reply_done(r, 0);
        return true;
    case HTTP1_BODY_LENGTH:
        if (have >= r->body_len) {
            reply_done(r, (size_t)r->body_len); /* bytes after it are ignored */
            return true;
        }
        break;
    case HTTP1_BODY_UNTIL_CLOSE:
        if (eof) {
            reply_done(r, have);
            return true;
        }
        break;
    case HTTP1_BODY_CHUNKED:
        /* decode in place: the decoded body never outgrows the raw bytes */
        while (r->chunk_in < r->rlen) {
            size_t used = 0;
            struct str data;
            enum http1_result cr = http1_chunked_decode(&r->chunked, r->rbuf + r->chunk_in,
                                                        r->rlen - r->chunk_in, &used, &data);
            if (data.len > 0)
                memmove(r->rbuf + r->body_start + r->body_out, data.ptr, data.len);
            r->body_out += data.len;
            r->chunk_in += used;
            if (cr == HTTP1_DONE) {
                reply_done(r, r->body_out);
                return true;
            }
            if (cr != HTTP1_AGAIN) {
                set_error(r, SPAM_ENGINE_ERROR, "bad reply: invalid chunked body");
                finish(r);
                return true;
            }
            if (used == 0)
                break;
        }
        break;
    default:
        break;
    }
    if (eof) {
        set_error(r, SPAM_ENGINE_ERROR, "connection closed in the reply body");
        finish(r);
        return true;
    }
    return false;
}

/* read_reply - read what is there; true when the request finished. */
static bool read_reply(struct spam_engine_req *r)
{
    for (;;) {
        if (r->rlen == r->rcap) {
            if (r->rcap >= SPAM_ENGINE_REPLY_MAX) {
                set_error(r, SPAM_ENGINE_ERROR, "reply larger than %u bytes",
                          SPAM_ENGINE_REPLY_MAX);
                finish(r);
                return true;
            }
            size_t cap = r->rcap ? r->rcap * 2 : 8192;
            if (cap > SPAM_ENGINE_REPLY_MAX)
                cap = SPAM_ENGINE_REPLY_MAX;
            char *p = realloc(r->rbuf, cap);
            if (!p) {
                fail_errno(r, "reply", ENOMEM);
                return true;
            }
            r->rbuf = p;
            r->rcap = cap;
        }
        ssize_t n = recv(r->sock, r->rbuf + r->rlen, r->rcap - r->rlen, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return false;
            fail_errno(r, "receive", errno);
            return true;
        }
        if (n == 0)
            return reply_progress(r, true);
        r->rlen += (size_t)n;
        if (reply_progress(r, false))
            return true;
    }
}

/* ---- sending ---- */

/* send_some - send head and body while the socket takes them; true when
 * the request finished (error). */
static bool send_some(struct spam_engine_req *r)
{
    for (;;) {
        const char *p;
        size_t n;
        if (r->head_off < r->head_len) {
            p = r->head + r->head_off;
            n = r->head_len - r->head_off;
        } else if (r->chunk_off < r->chunk_len) {
            p = r->chunk + r->chunk_off;
            n = r->chunk_len - r->chunk_off;
        } else if (r->body_off < r->len) {
            uint64_t want = r->len - r->body_off;
            size_t k = want < sizeof(r->chunk) ? (size_t)want : sizeof(r->chunk);
            ssize_t got = pread(r->spool_fd, r->chunk, k, (off_t)r->body_off);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                fail_errno(r, "reading the spool", errno);
                return true;
            }
            if (got == 0) {
                set_error(r, SPAM_ENGINE_ERROR, "spool shorter than %llu bytes",
                          (unsigned long long)r->len);
                finish(r);
                return true;
            }
            r->body_off += (uint64_t)got;
            r->chunk_len = (size_t)got;
            r->chunk_off = 0;
            continue;
        } else {
            r->phase = PH_READ;
            ev_io_set(r->loop, &r->io, EV_READ);
            return false;
        }
        ssize_t w = send(r->sock, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return false;
            /* rspamd may have answered (an error) and closed: read it */
            int err = errno;
            r->phase = PH_READ;
            if (read_reply(r))
                return true;
            fail_errno(r, "send", err);
            return true;
        }
        if (r->head_off < r->head_len)
            r->head_off += (size_t)w;
        else
            r->chunk_off += (size_t)w;
    }
}

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct spam_engine_req *r = io->data;
    if (r->phase == PH_CONNECT) {
        int err = sock_connect_result(r->sock);
        if (err != 0) {
            fail_errno(r, "connect", err);
            return;
        }
        r->phase = PH_SEND;
        ev_io_set(r->loop, &r->io, EV_READ | EV_WRITE);
        events = EV_WRITE;
    }
    if (r->phase == PH_SEND) {
        /* a reply (or a close) before the whole mail was sent */
        if ((events & (EV_READ | EV_HUP | EV_ERROR)) && read_reply(r))
            return;
        if (send_some(r))
            return;
        if (r->phase == PH_SEND)
            return;
    }
    if (r->phase == PH_READ)
        read_reply(r);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct spam_engine_req *r = t->data;
    /* The timer counts from the loop's cached time, which may be older
     * than the call: never give up before timeout_ms really passed. */
    uint64_t spent = ev_clock_ms() - r->start_ms;
    if (spent < r->timeout_ms) {
        ev_timer_start(r->loop, &r->timer, r->timeout_ms - spent);
        return;
    }
    set_error(r, SPAM_ENGINE_ERROR, "timeout after %u ms (%s)", r->timeout_ms,
              phase_name[r->phase]);
    finish(r);
}

struct spam_engine_req *spam_engine_check(struct ev_loop *loop, const struct spam_engine_target *t,
                                          unsigned timeout_ms, int spool_fd, uint64_t len,
                                          const struct spam_engine_meta *meta, spam_engine_fn *cb,
                                          void *arg)
{
    if (!loop || !t || !cb) {
        errno = EINVAL;
        return NULL;
    }
    struct spam_engine_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->loop = loop;
    r->cb = cb;
    r->arg = arg;
    r->sock = -1;
    r->spool_fd = spool_fd;
    r->len = len;
    r->timeout_ms = timeout_ms;
    r->start_ms = ev_clock_ms();
    http1_response_init(&r->resp, SPAM_ENGINE_HEAD_MAX);
    ev_io_init(&r->io, -1, on_io, r);
    ev_timer_init(&r->timer, on_timeout, r);
    if (len > SPAM_ENGINE_MAX_SIZE) {
        set_error(r, SPAM_ENGINE_SKIPPED, "mail of %llu bytes is larger than %u bytes",
                  (unsigned long long)len, SPAM_ENGINE_MAX_SIZE);
        finish_later(r);
        return r;
    }
    r->head = build_head(meta, len, &r->head_len);
    if (!r->head) {
        free(r);
        errno = ENOMEM;
        return NULL;
    }
    r->sock = sock_connect_start((const struct sockaddr *)&t->addr, t->addrlen);
    if (r->sock < 0) {
        set_error(r, SPAM_ENGINE_ERROR, "connect: %s", strerror(errno));
        finish_later(r);
        return r;
    }
    ev_io_init(&r->io, r->sock, on_io, r);
    if (ev_io_set(loop, &r->io, EV_WRITE) < 0) {
        set_error(r, SPAM_ENGINE_ERROR, "event loop: %s", strerror(errno));
        finish_later(r);
        return r;
    }
    ev_timer_start(loop, &r->timer, timeout_ms);
    return r;
}

void spam_engine_cancel(struct spam_engine_req *r)
{
    if (r)
        release(r);
}
