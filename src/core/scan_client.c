/* scan_client - the client end of the proxy <-> sekisho-scand link
 * (see scan_client.h). */
#include "core/scan_client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/fd_pass.h"
#include "lib/str.h"

const char *scan_client_status_name(enum scan_client_status s)
{
    switch (s) {
    case SCAN_CLIENT_DONE:
        return "DONE";
    case SCAN_CLIENT_AGAIN:
        return "AGAIN";
    case SCAN_CLIENT_ERROR:
        return "ERROR";
    }
    return "STATUS_???";
}

int scan_client_connect(const char *path, bool nonblocking)
{
    struct sockaddr_un sun;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    int s = socket(AF_UNIX, type, 0);
    if (s < 0)
        return -1;
    int rc;
    do
        rc = connect(s, (struct sockaddr *)&sun, sizeof(sun));
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

int scan_client_tx_init(struct scan_client_tx *tx, const struct scanreq_request *req, int file_fd)
{
    struct buf b;
    buf_init(&b, tx->frame, sizeof(tx->frame));
    bool need_fd = req->type == SCANREQ_T_SCAN;
    if ((need_fd && file_fd < 0) || (!need_fd && file_fd >= 0) ||
        !scanreq_encode_request(&b, req)) {
        tx->len = tx->off = 0;
        tx->fd = -1;
        errno = EINVAL;
        return -1;
    }
    tx->len = buf_len(&b);
    tx->off = 0;
    tx->fd = file_fd;
    return 0;
}

enum scan_client_status scan_client_send(int sock, struct scan_client_tx *tx)
{
    while (tx->off < tx->len) {
        /* The descriptor rides on the first byte of the request; the
         * server pairs it with the request that byte starts. */
        ssize_t n = fd_pass_send(sock, tx->frame + tx->off, tx->len - tx->off, tx->fd);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return SCAN_CLIENT_AGAIN;
            return SCAN_CLIENT_ERROR;
        }
        if (n > 0)
            tx->fd = -1;
        tx->off += (size_t)n;
    }
    return SCAN_CLIENT_DONE;
}

void scan_client_rx_init(struct scan_client_rx *rx)
{
    buf_init(&rx->buf, rx->mem, sizeof(rx->mem));
}

enum scan_client_status scan_client_recv(int sock, struct scan_client_rx *rx,
                                         struct scanreq_reply *rep)
{
    for (;;) {
        size_t n = 0;
        enum scanreq_parse st =
            scanreq_decode_reply(buf_rptr(&rx->buf), buf_len(&rx->buf), rep, &n);
        if (st == SCANREQ_DONE) {
            buf_consume(&rx->buf, n);
            return SCAN_CLIENT_DONE;
        }
        if (st == SCANREQ_INVALID) {
            errno = EPROTO;
            return SCAN_CLIENT_ERROR;
        }
        buf_compact(&rx->buf);
        /* Read only what the frame still needs: bytes of a later reply
         * stay in the kernel until the caller asks for them. */
        size_t want = n < buf_space(&rx->buf) ? n : buf_space(&rx->buf);
        ssize_t got = read(sock, buf_wptr(&rx->buf), want);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return SCAN_CLIENT_AGAIN;
            return SCAN_CLIENT_ERROR;
        }
        if (got == 0) {
            errno = ECONNRESET;
            return SCAN_CLIENT_ERROR;
        }
        buf_produce(&rx->buf, (size_t)got);
    }
}

int scan_client_call(int sock, const struct scanreq_request *req, int file_fd,
                     struct scanreq_reply *rep)
{
    struct scan_client_tx tx;
    if (scan_client_tx_init(&tx, req, file_fd) < 0)
        return -1;
    if (scan_client_send(sock, &tx) != SCAN_CLIENT_DONE)
        return -1; /* errno EAGAIN when sock was non-blocking */
    struct scan_client_rx rx;
    scan_client_rx_init(&rx);
    for (;;) {
        if (scan_client_recv(sock, &rx, rep) != SCAN_CLIENT_DONE)
            return -1;
        if (rep->id == req->id && rep->type == req->type)
            return 0;
        /* A reply to some earlier pipelined request: not ours, skip it. */
    }
}

int scan_client_version(int sock, uint64_t id, struct scanreq_version *v)
{
    struct scanreq_request req;
    memset(&req, 0, sizeof(req));
    req.type = SCANREQ_T_VERSION;
    req.id = id;
    struct scan_client_tx tx;
    if (scan_client_tx_init(&tx, &req, -1) < 0 || scan_client_send(sock, &tx) != SCAN_CLIENT_DONE)
        return -1;
    char mem[SCANREQ_VERSION_REPLY_MAX];
    size_t have = 0;
    for (;;) {
        size_t n = 0;
        enum scanreq_parse st = scanreq_decode_version(mem, have, v, &n);
        if (st == SCANREQ_DONE && v->id == id)
            return 0;
        if (st != SCANREQ_AGAIN) {
            errno = EPROTO;
            return -1;
        }
        /* The decoder bounds the frame, so n always fits. */
        ssize_t got = read(sock, mem + have, n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                errno = ECONNRESET;
            return -1;
        }
        have += (size_t)got;
    }
}
