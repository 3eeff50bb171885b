/* ftp_client - one asynchronous FTP retrieval (FTP over HTTP, HTTP-16). */
#include "core/ftp_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/upstream.h"
#include "lib/buf.h"
#include "lib/sock.h"
#include "lib/str.h"
#include "proto/ftp_listing_format.h"
#include "proto/ftp_reply_parse.h"

/* The longest command we send: "RETR " + path + CRLF, and spare. */
#define FTP_CLIENT_CMD_MAX (FTP_CLIENT_PATH_MAX + 16)
/* Bytes read from the control connection at once (replies are parsed as
 * a stream, so this bounds nothing but one recv). */
#define FTP_CLIENT_CTRL_CHUNK 2048
/* ";type=X" at the end of an ftp URL path (RFC 1738 3.2.2). */
#define FTP_TYPECODE_LEN 7

enum ftpc_state {
    FTPC_CONNECT = 0, /* core/upstream: lookup and connect */
    FTPC_GREETING,
    FTPC_USER,
    FTPC_PASS,
    FTPC_TYPE,
    FTPC_SIZE,
    FTPC_CWD,
    FTPC_PASV, /* PASV or EPSV sent (epsv says which) */
    FTPC_DATA_CONNECT,
    FTPC_TRANSFER, /* RETR or LIST sent */
    FTPC_DONE,
};

struct ftp_client {
    struct ev_loop *loop;
    struct upstream *up;  /* the control connection being made */
    struct upstream *dup; /* the data connection being made */
    ftp_client_done_fn *done;
    void *arg;
    struct svclog_ctx log;
    const struct svclog_ctx *logp; /* &log, or NULL for process-level lines */

    char host[FTP_CLIENT_HOST_MAX + 1];
    uint16_t port;
    char user[FTP_CLIENT_CRED_MAX + 1];
    char password[FTP_CLIENT_CRED_MAX + 1];
    char path[FTP_CLIENT_PATH_MAX + 1]; /* relative to the login directory; "" = it */
    bool listing;                       /* LIST instead of RETR */
    uint64_t max_bytes;                 /* FTP_CLIENT_TOO_LARGE beyond this; 0 = none */
    bool ascii;                         /* ";type=a" */
    bool fallback;                      /* RETR answered 550: listing the directory */
    int retr_code;                      /* that 550, reported if the CWD fails too */
    char retr_text[FTP_CLIENT_ERROR_MAX];
    unsigned timeout_s;
    int data_fd;

    struct sockaddr_storage peer; /* the control connection's server address */
    socklen_t peer_len;

    int cfd;
    struct ev_io cio;
    int dfd;
    struct ev_io dio;
    char data_ip[SOCK_ADDRSTRLEN];
    uint16_t data_port;
    struct ev_timer timer;

    enum ftpc_state state;
    const char *cmd; /* the command whose reply is awaited, for error texts */
    bool epsv;       /* the passive command sent is EPSV */
    bool tried_other_passive;
    bool prelim;   /* 1xx seen for RETR/LIST */
    bool final_ok; /* 2xx seen for RETR/LIST */
    bool data_eof;
    bool size_known;
    uint64_t size;
    bool starting; /* inside ftp_client_start: done runs when it returns */
    bool finished;

    struct ftp_reply reply;
    struct buf out;
    char outmem[FTP_CLIENT_CMD_MAX];
    char dbuf[FTP_CLIENT_DATA_CHUNK];
    struct ftp_client_outcome outcome;
};

const char *ftp_client_result_name(enum ftp_client_result r)
{
    switch (r) {
    case FTP_CLIENT_FILE:
        return "FILE";
    case FTP_CLIENT_LISTING:
        return "LISTING";
    case FTP_CLIENT_ERROR:
        return "ERROR";
    case FTP_CLIENT_TOO_LARGE:
        return "TOO_LARGE";
    }
    return "?";
}

/* ---- ending ------------------------------------------------------------- */

static void close_data(struct ftp_client *f)
{
    if (f->dfd < 0)
        return;
    ev_io_stop(f->loop, &f->dio);
    close(f->dfd);
    f->dfd = -1;
}

static void teardown(struct ftp_client *f)
{
    ev_timer_stop(f->loop, &f->timer);
    upstream_cancel(f->up);
    f->up = NULL;
    upstream_cancel(f->dup);
    f->dup = NULL;
    close_data(f);
    if (f->cfd >= 0) {
        ev_io_stop(f->loop, &f->cio);
        /* A polite end (RFC 959 QUIT); its reply is not awaited. Not in the
         * middle of another command, and never before the greeting. */
        if (f->state > FTPC_GREETING && buf_len(&f->out) == 0) {
            static const char quit[] = "QUIT\r\n";
            ssize_t n = send(f->cfd, quit, sizeof(quit) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            (void)n;
        }
        close(f->cfd);
        f->cfd = -1;
    }
}

/* finish - the outcome is set: release everything and call back (unless
 * ftp_client_start is still running; it calls back itself). Afterwards f
 * must not be touched: callers return false up the stack. */
static bool finish(struct ftp_client *f)
{
    teardown(f);
    f->state = FTPC_DONE;
    f->finished = true;
    if (f->starting)
        return false;
    struct ftp_client_outcome o = f->outcome;
    ftp_client_done_fn *done = f->done;
    void *arg = f->arg;
    /* A watcher of f may still be pending in this batch: free after it. */
    if (ev_defer(f->loop, free, f) < 0)
        free(f);
    done(arg, &o);
    return false;
}

static bool fail(struct ftp_client *f, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail(struct ftp_client *f, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->outcome.error, sizeof(f->outcome.error), fmt, ap);
    va_end(ap);
    f->outcome.result = FTP_CLIENT_ERROR;
    f->outcome.status = status;
    if (status == 500)
        svclog_error(f->logp, "ftp_client: %s:%u: %s", f->host, (unsigned)f->port,
                     f->outcome.error);
    return finish(f);
}

/* fail_text - an error made of a server reply's code and text (one line). */
static bool fail_text(struct ftp_client *f, int status, int code, const char *text)
{
    f->outcome.reply_code = code;
    return fail(f, status, "%d %s", code, text);
}

static bool fail_reply(struct ftp_client *f, int status)
{
    for (size_t i = 0; i < f->reply.text_len; i++)
        if (f->reply.text[i] == '\n')
            f->reply.text[i] = ' ';
    return fail_text(f, status, f->reply.code, f->reply.text);
}

static bool fail_conn(struct ftp_client *f, const char *what, int err)
{
    return fail(f, 503, "CONNECT(%s:%u)/%s: %s", f->host, (unsigned)f->port, what, strerror(err));
}

/* ---- control connection ------------------------------------------------- */

static void touch(struct ftp_client *f)
{
    ev_timer_start(f->loop, &f->timer, (uint64_t)f->timeout_s * 1000u);
}

static bool watch(struct ftp_client *f, struct ev_io *io, uint32_t events)
{
    if (ev_io_set(f->loop, io, events) == 0)
        return true;
    return fail(f, 500, "epoll: %s", strerror(errno));
}

/* flush - send what is left of the current command. */
static bool flush(struct ftp_client *f)
{
    while (buf_len(&f->out) > 0) {
        ssize_t n = send(f->cfd, buf_rptr(&f->out), buf_len(&f->out), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return watch(f, &f->cio, EV_READ | EV_WRITE);
            return fail_conn(f, "send", errno);
        }
        buf_consume(&f->out, (size_t)n);
    }
    buf_reset(&f->out);
    return watch(f, &f->cio, EV_READ);
}

/* send_cmd - "<name>[ <arg>]" CRLF, then wait for its reply in state st. */
static bool send_cmd(struct ftp_client *f, enum ftpc_state st, const char *name, const char *arg)
{
    buf_reset(&f->out);
    if (!buf_printf(&f->out, "%s%s%s\r\n", name, arg ? " " : "", arg ? arg : ""))
        return fail(f, 400, "Invalid URL format");
    f->state = st;
    f->cmd = name;
    ftp_reply_init(&f->reply);
    touch(f);
    return flush(f);
}

static bool start_passive(struct ftp_client *f)
{
    /* RFC 2428: EPSV is the passive command of IPv6 (PASV carries only an
     * IPv4 address); each falls back to the other once when refused. */
    f->epsv = f->peer.ss_family == AF_INET6;
    f->tried_other_passive = false;
    return send_cmd(f, FTPC_PASV, f->epsv ? "EPSV" : "PASV", NULL);
}

static void on_data(struct ev_loop *loop, struct ev_io *io, uint32_t events);

static void on_data_connected(void *arg, const struct upstream_result *r);

/* connect_data - the data connection: the control peer's address, the
 * port the server announced (see the header on why not its address). */
static bool connect_data(struct ftp_client *f, uint16_t port)
{
    struct dns_result addr = {.n = 1};
    memcpy(&addr.addr[0], &f->peer, sizeof(addr.addr[0]));
    addr.len[0] = f->peer_len;
    if (f->peer.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&addr.addr[0])->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)&addr.addr[0])->sin_port = htons(port);
    sock_addr_text((const struct sockaddr *)&addr.addr[0], f->data_ip, sizeof(f->data_ip), NULL);
    f->data_port = port;
    close_data(f);
    f->state = FTPC_DATA_CONNECT;
    /* core/upstream bounds the connect; a reply on the control connection
     * meanwhile re-arms the step timer (and ends the retrieval). */
    ev_timer_stop(f->loop, &f->timer);
    struct upstream_request req = {
        .host = f->data_ip, .port = port, .connect_timeout_s = f->timeout_s};
    /* NULL: the connect failed at once and on_data_connected ended f. */
    struct upstream *up = upstream_start_addrs(f->loop, &addr, &req, on_data_connected, f);
    if (!up)
        return false;
    f->dup = up;
    return true;
}

/* too_large - the file passed the caller's max_bytes: stop fetching it. */
static bool too_large(struct ftp_client *f, uint64_t size)
{
    if (f->listing || f->max_bytes == 0 || size <= f->max_bytes)
        return false;
    f->outcome.result = FTP_CLIENT_TOO_LARGE;
    f->outcome.status = 0;
    finish(f);
    return true;
}

static bool complete_if_done(struct ftp_client *f)
{
    if (!f->final_ok || !f->data_eof)
        return true;
    if (!f->listing && !f->ascii && f->size_known && f->outcome.bytes != f->size)
        return fail(f, 503, "CONNECT(%s:%u)/transfer incomplete: %llu of %llu bytes", f->host,
                    (unsigned)f->port, (unsigned long long)f->outcome.bytes,
                    (unsigned long long)f->size);
    f->outcome.result = f->listing ? FTP_CLIENT_LISTING : FTP_CLIENT_FILE;
    f->outcome.status = 0;
    return finish(f);
}

static bool after_type(struct ftp_client *f)
{
    if (!f->listing)
        return send_cmd(f, FTPC_SIZE, "SIZE", f->path);
    if (f->path[0])
        return send_cmd(f, FTPC_CWD, "CWD", f->path);
    return start_passive(f);
}

static bool on_passive_reply(struct ftp_client *f)
{
    int code = f->reply.code;
    struct str text = str_make(f->reply.text, f->reply.text_len);
    uint16_t port = 0;
    uint8_t addr[4];
    if (!f->epsv && code == 227) {
        if (ftp_reply_parse_pasv(text, addr, &port) != FTP_REPLY_DONE)
            return fail(f, 503, "CONNECT(%s:%u)/invalid reply to PASV", f->host, (unsigned)f->port);
        return connect_data(f, port);
    }
    if (f->epsv && code == 229) {
        if (ftp_reply_parse_epsv(text, &port) != FTP_REPLY_DONE)
            return fail(f, 503, "CONNECT(%s:%u)/invalid reply to EPSV", f->host, (unsigned)f->port);
        return connect_data(f, port);
    }
    if (code / 100 == 5 && !f->tried_other_passive) {
        f->tried_other_passive = true;
        f->epsv = !f->epsv;
        return send_cmd(f, FTPC_PASV, f->epsv ? "EPSV" : "PASV", NULL);
    }
    return fail_reply(f, 503);
}

static bool on_transfer_reply(struct ftp_client *f)
{
    int code = f->reply.code;
    if (code / 100 == 1) {
        f->prelim = true;
        return true;
    }
    if (code / 100 == 2) {
        f->final_ok = true;
        return complete_if_done(f);
    }
    if (code == 550 && !f->listing && !f->prelim && f->outcome.bytes == 0) {
        /* Not a file we may read: perhaps a directory (the URL had no
         * trailing '/'). Remember why RETR failed in case CWD fails too. */
        close_data(f);
        f->fallback = true;
        f->listing = true;
        f->retr_code = code;
        str_copy(f->retr_text, sizeof(f->retr_text), f->reply.text);
        for (char *p = f->retr_text; *p; p++)
            if (*p == '\n')
                *p = ' ';
        return send_cmd(f, FTPC_CWD, "CWD", f->path);
    }
    return fail_reply(f, code == 550 ? 404 : 503);
}

/* on_reply - one whole reply arrived. False when f has finished. */
static bool on_reply(struct ftp_client *f)
{
    int code = f->reply.code;
    switch (f->state) {
    case FTPC_GREETING:
        if (code / 100 == 1)
            return true; /* 120: ready in a moment, a 220 follows */
        if (code == 220)
            return send_cmd(f, FTPC_USER, "USER", f->user);
        return fail_reply(f, 503);
    case FTPC_USER:
    case FTPC_PASS:
        if (code == 230 || (f->state == FTPC_PASS && code == 202))
            return send_cmd(f, FTPC_TYPE, "TYPE", f->ascii ? "A" : "I");
        if (code == 331 && f->state == FTPC_USER)
            return send_cmd(f, FTPC_PASS, "PASS", f->password);
        /* 332: an ACCT is needed, which a URL cannot give. */
        return fail_reply(f, code == 530 || code == 332 ? 401 : 503);
    case FTPC_TYPE:
        if (code / 100 == 2)
            return after_type(f);
        return fail_reply(f, 503);
    case FTPC_SIZE:
        if (code == 213) {
            struct str t = str_trim(str_make(f->reply.text, f->reply.text_len));
            f->size_known = str_to_u64(t, UINT64_MAX, &f->size);
            if (f->size_known && too_large(f, f->size))
                return false; /* before the data connection */
        }
        return start_passive(f); /* SIZE is optional (RFC 3659): any answer goes */
    case FTPC_CWD:
        if (code / 100 == 2)
            return start_passive(f);
        if (f->fallback)
            return fail_text(f, code == 550 ? 404 : 503, f->retr_code, f->retr_text);
        return fail_reply(f, code == 550 ? 404 : 503);
    case FTPC_PASV:
        return on_passive_reply(f);
    case FTPC_TRANSFER:
        return on_transfer_reply(f);
    default:
        /* Unsolicited (421 closing, or a reply while the data connection
         * is being made): the server gave up on us. */
        return fail_reply(f, 503);
    }
}

static void read_control(struct ftp_client *f)
{
    char in[FTP_CLIENT_CTRL_CHUNK];
    ssize_t n = recv(f->cfd, in, sizeof(in), 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            fail_conn(f, "recv", errno);
        return;
    }
    if (n == 0) {
        fail(f, 503, "CONNECT(%s:%u)/recv: Connection closed by server", f->host,
             (unsigned)f->port);
        return;
    }
    size_t off = 0;
    while (off < (size_t)n) {
        size_t used = 0;
        enum ftp_reply_result r = ftp_reply_parse(&f->reply, in + off, (size_t)n - off, &used);
        off += used;
        if (r == FTP_REPLY_AGAIN)
            break;
        if (r != FTP_REPLY_DONE) {
            fail(f, 503, "CONNECT(%s:%u)/invalid reply to %s", f->host, (unsigned)f->port,
                 f->cmd ? f->cmd : "?");
            return;
        }
        touch(f);
        if (!on_reply(f))
            return;
        ftp_reply_init(&f->reply);
    }
}

static void on_control(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct ftp_client *f = io->data;
    if ((events & EV_WRITE) && buf_len(&f->out) > 0 && !flush(f))
        return;
    if (events & (EV_READ | EV_ERROR | EV_HUP))
        read_control(f);
}

/* on_connected - core/upstream tried every address of the host. */
static void on_connected(void *arg, const struct upstream_result *r)
{
    struct ftp_client *f = arg;
    f->up = NULL;
    str_copy(f->outcome.server_ip, sizeof(f->outcome.server_ip), r->ip);
    if (r->fd < 0) {
        fail(f, 503, "%s", r->error);
        return;
    }
    f->cfd = r->fd;
    memcpy(&f->peer, &r->addr, sizeof(f->peer));
    f->peer_len = r->addr_len;
    ev_io_init(&f->cio, f->cfd, on_control, f);
    f->state = FTPC_GREETING;
    f->cmd = "greeting";
    ftp_reply_init(&f->reply);
    touch(f);
    watch(f, &f->cio, EV_READ);
}

/* ---- data connection ---------------------------------------------------- */

static bool write_all(struct ftp_client *f, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(f->data_fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return fail(f, 500, "write: %s", strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void read_data(struct ftp_client *f)
{
    for (int k = 0; k < FTP_CLIENT_READS_PER_EVENT; k++) {
        ssize_t n = recv(f->dfd, f->dbuf, sizeof(f->dbuf), 0);
        if (n > 0) {
            if (!write_all(f, f->dbuf, (size_t)n))
                return;
            f->outcome.bytes += (uint64_t)n;
            if (too_large(f, f->outcome.bytes))
                return;
            touch(f);
            continue;
        }
        if (n == 0) {
            f->data_eof = true;
            close_data(f);
            complete_if_done(f);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            fail(f, 503, "CONNECT(%s:%u)/data recv: %s", f->data_ip, (unsigned)f->data_port,
                 strerror(errno));
        return;
    }
}

static void on_data(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct ftp_client *f = io->data;
    if (f->state == FTPC_TRANSFER && !f->data_eof)
        read_data(f);
}

static void on_data_connected(void *arg, const struct upstream_result *r)
{
    struct ftp_client *f = arg;
    f->dup = NULL;
    if (r->fd < 0) {
        fail(f, 503, "CONNECT(%s:%u)/data connect: %s", f->data_ip, (unsigned)f->data_port,
             strerror(r->err ? r->err : ECONNREFUSED));
        return;
    }
    f->dfd = r->fd;
    ev_io_init(&f->dio, f->dfd, on_data, f);
    f->prelim = false;
    f->final_ok = false;
    f->data_eof = false;
    if (!watch(f, &f->dio, EV_READ))
        return;
    /* LIST without an argument lists the directory CWD went to, so no
     * name can be taken for an ls option. */
    send_cmd(f, FTPC_TRANSFER, f->listing ? "LIST" : "RETR", f->listing ? NULL : f->path);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct ftp_client *f = t->data;
    /* Not armed while core/upstream connects (it has its own bound). */
    fail(f, 503, "CONNECT(%s:%u)/timeout(>%u sec) waiting for %s", f->host, (unsigned)f->port,
         f->timeout_s, f->cmd ? f->cmd : "?");
}

/* ---- starting ----------------------------------------------------------- */

/* has_ctl - bytes that would end or corrupt a command line. */
static bool has_ctl(const char *s, size_t n, bool allow_tab)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(allow_tab && c == '\t')) || c == 0x7f)
            return true;
    }
    return false;
}

/* set_path - URL path -> the FTP path and what to do with it. */
static bool set_path(struct ftp_client *f, const char *url_path)
{
    struct str raw = str_from_cstr(url_path);
    if (raw.len >= FTP_TYPECODE_LEN &&
        str_caseeq(str_make(raw.ptr + raw.len - FTP_TYPECODE_LEN, FTP_TYPECODE_LEN - 1),
                   STR_LIT(";type=")) &&
        strchr("aAiIdD", raw.ptr[raw.len - 1])) {
        char t = raw.ptr[raw.len - 1];
        f->ascii = t == 'a' || t == 'A';
        f->listing = t == 'd' || t == 'D';
        raw.len -= FTP_TYPECODE_LEN;
    }
    if (raw.len == 0 || raw.ptr[raw.len - 1] == '/')
        f->listing = true;
    size_t n = ftp_listing_path_decode(raw, f->path, sizeof(f->path));
    if (n == (size_t)-1)
        return false;
    /* Only NUL, CR and LF would break the command line (RFC 959 5.3.2);
     * every other control byte is refused as well: no real name has one. */
    if (has_ctl(f->path, n, true))
        return false;
    /* RFC 1738 3.2.2: the path is relative to the login directory; a
     * leading "%2F" makes it absolute ("/%2Fetc" -> "/etc"). */
    size_t skip = n > 0 && f->path[0] == '/' ? 1 : 0;
    memmove(f->path, f->path + skip, n - skip + 1);
    n -= skip;
    if (f->listing)
        while (n > 1 && f->path[n - 1] == '/')
            f->path[--n] = '\0';
    if (!f->listing && n == 0)
        f->listing = true;
    return true;
}

static bool set_request(struct ftp_client *f, const struct ftp_client_request *req)
{
    const char *user = req->user && *req->user ? req->user : FTP_CLIENT_ANON_USER;
    const char *pass =
        req->password ? req->password : (req->user && *req->user ? "" : FTP_CLIENT_ANON_PASSWORD);
    if (!req->host || !*req->host ||
        str_copy(f->host, sizeof(f->host), req->host) >= sizeof(f->host) ||
        has_ctl(f->host, strlen(f->host), false) || strchr(f->host, ' '))
        return false;
    if (str_copy(f->user, sizeof(f->user), user) >= sizeof(f->user) ||
        str_copy(f->password, sizeof(f->password), pass) >= sizeof(f->password) ||
        has_ctl(f->user, strlen(f->user), false) ||
        has_ctl(f->password, strlen(f->password), false))
        return false;
    return set_path(f, req->path ? req->path : "");
}

struct ftp_client *ftp_client_start(struct ev_loop *loop, struct dns *dns,
                                    const struct ftp_client_request *req, ftp_client_done_fn *done,
                                    void *arg)
{
    struct ftp_client *f = calloc(1, sizeof(*f));
    if (!f) {
        struct ftp_client_outcome o;
        memset(&o, 0, sizeof(o));
        o.result = FTP_CLIENT_ERROR;
        o.status = 500;
        str_copy(o.error, sizeof(o.error), "out of memory");
        done(arg, &o);
        return NULL;
    }
    f->loop = loop;
    f->done = done;
    f->arg = arg;
    f->cfd = -1;
    f->dfd = -1;
    f->data_fd = req->data_fd;
    f->max_bytes = req->max_bytes;
    f->port = req->port ? req->port : FTP_CLIENT_DEFAULT_PORT;
    f->timeout_s = req->timeout ? req->timeout : FTP_CLIENT_TIMEOUT_DEFAULT;
    if (req->log) {
        f->log = *req->log;
        f->logp = &f->log;
    }
    buf_init(&f->out, f->outmem, sizeof(f->outmem));
    ev_io_init(&f->cio, -1, on_control, f);
    ev_io_init(&f->dio, -1, on_data, f);
    ev_timer_init(&f->timer, on_timeout, f);
    f->outcome.result = FTP_CLIENT_ERROR;
    f->starting = true;
    if (!set_request(f, req)) {
        str_copy(f->host, sizeof(f->host), req->host ? req->host : "");
        fail(f, 400, "Invalid URL format");
    } else {
        f->state = FTPC_CONNECT;
        f->cmd = "connect";
        struct upstream_request up = {.host = f->host,
                                      .port = f->port,
                                      .ipv6 = req->ipv6,
                                      .connect_timeout_s = f->timeout_s,
                                      .lookup_timeout_s = f->timeout_s,
                                      .filter = req->filter,
                                      .filter_arg = req->filter_arg};
        f->up = upstream_start(loop, dns, &up, on_connected, f);
    }
    f->starting = false;
    if (f->finished) {
        /* Nothing of f reached the loop's pending events: free it now. */
        struct ftp_client_outcome o = f->outcome;
        free(f);
        done(arg, &o);
        return NULL;
    }
    return f;
}

void ftp_client_cancel(struct ftp_client *f)
{
    if (!f || f->finished)
        return;
    teardown(f);
    f->state = FTPC_DONE;
    f->finished = true;
    if (ev_defer(f->loop, free, f) < 0)
        free(f);
}
