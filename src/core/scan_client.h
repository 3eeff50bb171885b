/* scan_client - the client end of the proxy <-> sekisho-scand link.
 *
 * What it does: connects to scand's UNIX socket, sends one encoded
 * proto/scanreq request with the spooled file's descriptor attached
 * (SCM_RIGHTS on the request's first byte), and accumulates and decodes
 * replies. Every step works on a blocking socket (the CLI, tests: the step
 * loops until done) and on an O_NONBLOCK one (a proxy worker: the step
 * returns AGAIN on EAGAIN and the caller polls and calls it again). A
 * connection may carry several sequential requests; replies carry the
 * request id, so a caller that pipelines can match them.
 *
 * What it owns: the encoded frame (struct scan_client_tx) and the reply
 * bytes received so far (struct scan_client_rx), both fixed-size and
 * embedded in the caller's struct. It never owns the socket or the file
 * descriptor: it only borrows them; closing is the caller's job.
 *
 * What it does not do: no event loop, no timers, no retries, no logging.
 * The caller owns polling and timeouts (and writes LOG-E24 when connecting
 * fails).
 */
#ifndef SEKISHO_CORE_SCAN_CLIENT_H
#define SEKISHO_CORE_SCAN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "proto/scanreq.h"

enum scan_client_status {
    SCAN_CLIENT_DONE = 0, /* the step completed */
    SCAN_CLIENT_AGAIN,    /* non-blocking socket would block: poll and call again */
    SCAN_CLIENT_ERROR,    /* failed; errno says why (EPROTO: invalid reply, ECONNRESET: EOF) */
};

const char *scan_client_status_name(enum scan_client_status s);

/* scan_client_connect - connect a new stream socket to the UNIX socket at
 * path (close-on-exec; O_NONBLOCK when nonblocking). Returns the socket
 * or -1 with errno (ENAMETOOLONG for a path that does not fit sun_path,
 * ENOENT/ECONNREFUSED when scand is not running, EAGAIN when its backlog
 * is full on a non-blocking socket). A UNIX-domain connect completes
 * immediately, so the socket is usable at once. */
int scan_client_connect(const char *path, bool nonblocking);

struct scan_client_tx {
    char frame[SCANREQ_REQUEST_MAX];
    size_t len; /* bytes of frame */
    size_t off; /* bytes already sent */
    int fd;     /* descriptor to attach to the first byte sent, -1 if none/sent */
};

/* scan_client_tx_init - encode req for sending; file_fd is borrowed (it
 * must stay open until the first byte is sent) and must be -1 for a
 * RELOAD. Returns -1 (errno EINVAL) when req cannot be encoded or a SCAN
 * has no descriptor. */
int scan_client_tx_init(struct scan_client_tx *tx, const struct scanreq_request *req, int file_fd);

/* scan_client_send - send what is left of tx on sock. DONE when all of it
 * is sent; AGAIN on EAGAIN (non-blocking sockets only); ERROR with errno
 * (EPIPE when scand went away: no SIGPIPE is raised). */
enum scan_client_status scan_client_send(int sock, struct scan_client_tx *tx);

struct scan_client_rx {
    char mem[SCANREQ_REPLY_MAX];
    struct buf buf; /* over mem; holds bytes of a reply not yet complete */
};

void scan_client_rx_init(struct scan_client_rx *rx);

/* scan_client_recv - read from sock until one reply is complete, decode
 * it into *rep. DONE: *rep is filled and its bytes consumed (bytes of a
 * following reply stay buffered). AGAIN on EAGAIN. ERROR with errno:
 * ECONNRESET on end of file, EPROTO on an invalid reply. */
enum scan_client_status scan_client_recv(int sock, struct scan_client_rx *rx,
                                         struct scanreq_reply *rep);

/* scan_client_call - blocking convenience: send req (with file_fd for a
 * SCAN) on a blocking sock and wait for the reply with the same id.
 * 0 on success, -1 with errno. */
int scan_client_call(int sock, const struct scanreq_request *req, int file_fd,
                     struct scanreq_reply *rep);

/* scan_client_version - blocking: send a VERSION request with id on a
 * blocking sock that has nothing outstanding and read its reply (larger
 * than struct scan_client_rx holds: it is read into a buffer of its own).
 * 0 with *v filled, -1 with errno (EPROTO: an invalid reply or another
 * id, ECONNRESET: EOF). */
int scan_client_version(int sock, uint64_t id, struct scanreq_version *v);

#endif
