/* ftp_client - one asynchronous FTP retrieval (FTP over HTTP, HTTP-16).
 *
 * What it does: fetches what an ftp:// URL names into a file descriptor,
 * without ever blocking the event loop: connect (core/upstream: resolve
 * the host, try its addresses in turn), read the greeting, log in (USER/PASS; anonymous with
 * password "sekisho@" when no user is given), TYPE I, then
 *  - for a path that does not end in '/': SIZE (informative), PASV (EPSV
 *    first when the control connection is IPv6; each falls back to the
 *    other when refused), RETR -> the file's bytes; if RETR answers 550,
 *    CWD to the path and LIST it instead (it was a directory);
 *  - for a path ending in '/' (or empty): CWD, PASV/EPSV, LIST.
 * and QUIT. The URL path is percent-decoded here and sent relative to
 * the login directory, as RFC 1738 3.2.2 says ("/pub/a.txt" -> "pub/a.txt";
 * "/%2Fetc/x" -> "/etc/x"); a ";type=a|i|d" suffix selects ASCII, binary
 * or a listing. Every step has a timeout, re-armed by progress, so a
 * transfer that keeps moving never times out.
 *
 * The data connection goes to the control connection's peer address and
 * the port of the 227/229 reply: the address inside a 227 reply is
 * ignored, so a hostile server cannot make the proxy connect elsewhere
 * (FTP bounce, RFC 2577 3) and a server behind NAT that announces its
 * private address still works.
 *
 * What it owns: its control and data sockets, their watchers, a timer, a
 * pending core/upstream connection and bounded buffers (one allocation of about 78 KB per
 * retrieval, 64 KB of it the data buffer). The request's strings are
 * copied; req->log's strings are the caller's and must live until done
 * runs or the retrieval is cancelled. Failures with status 500 (local)
 * are written to the error log; the others are the caller's to log (the
 * access log's PROXY-ERROR). data_fd stays
 * the caller's: bytes are appended at its current offset with write(2),
 * so it must be a regular file or a blocking descriptor (a spool file).
 *
 * What it does not do: no HTTP, no HTML (proto/ftp_listing_format renders
 * a listing), no scanning, no access control, no active mode (PORT), no
 * FTPS, no resumption. The only size limit is the caller's max_bytes: a
 * file larger than that (by SIZE, or as its bytes arrive) ends the
 * retrieval with FTP_CLIENT_TOO_LARGE instead of being fetched whole.
 */
#ifndef SEKISHO_CORE_FTP_CLIENT_H
#define SEKISHO_CORE_FTP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/svclog.h"
#include "core/upstream.h"
#include "lib/dns.h"
#include "lib/ev.h"

#define FTP_CLIENT_DEFAULT_PORT    21 /* G-38 */
#define FTP_CLIENT_ANON_USER       "anonymous"
#define FTP_CLIENT_ANON_PASSWORD   "sekisho@"
#define FTP_CLIENT_TIMEOUT_DEFAULT 60    /* seconds a step may stay silent */
#define FTP_CLIENT_HOST_MAX        255   /* RFC 1035 2.3.4 */
#define FTP_CLIENT_CRED_MAX        256   /* bytes of a user name or password */
#define FTP_CLIENT_PATH_MAX        4096  /* bytes of the decoded URL path */
#define FTP_CLIENT_DATA_CHUNK      65536 /* bytes read from the data connection at once */
#define FTP_CLIENT_READS_PER_EVENT 16    /* data reads before yielding to the loop */
#define FTP_CLIENT_ERROR_MAX       512

struct ftp_client;

struct ftp_client_request {
    const char *host;     /* name or IPv4/IPv6 literal (without brackets) */
    uint16_t port;        /* 0 means 21 */
    const char *user;     /* NULL or "": anonymous */
    const char *password; /* NULL: "" for a named user, "sekisho@" for anonymous */
    const char *path;     /* the URL path as in the URL, percent-encoded ("/pub/a%20b.txt") */
    bool ipv6;            /* also try AAAA addresses (the session's ipv6 setting) */
    unsigned timeout;     /* seconds per step; 0 = FTP_CLIENT_TIMEOUT_DEFAULT */
    int data_fd;          /* where the file's or the listing's bytes are written */
    uint64_t max_bytes;   /* a file (not a listing) larger than this is TOO_LARGE; 0 = none */
    const struct svclog_ctx *log; /* NULL = process-level lines */
    /* Every resolved address of the control connection is offered to
     * filter before any is contacted (core/upstream: the caller's acl_to);
     * NULL = every address is tried. */
    upstream_filter_fn *filter;
    void *filter_arg;
};

enum ftp_client_result {
    FTP_CLIENT_FILE = 0,  /* data_fd holds the file */
    FTP_CLIENT_LISTING,   /* data_fd holds LIST output: render it (ftp_listing_format) */
    FTP_CLIENT_ERROR,     /* see status and error; data_fd may hold a partial transfer */
    FTP_CLIENT_TOO_LARGE, /* the file is larger than max_bytes (SIZE, or the bytes so far);
                           * data_fd holds at most the part that showed it */
};
const char *ftp_client_result_name(enum ftp_client_result r);

struct ftp_client_outcome {
    enum ftp_client_result result;
    uint64_t bytes; /* written to data_fd */
    /* The HTTP status to answer an ERROR with: 400 the URL cannot be
     * sent (control bytes in the path, user or password; too long),
     * 401 login refused (530, or 332: an account is needed),
     * 404 not found (550 to RETR and CWD, or to CWD/LIST of a directory),
     * 500 local failure (writing data_fd, no memory),
     * 503 connection errors, timeouts and every other server refusal.
     * 0 on success. */
    int status;
    int reply_code;                   /* the FTP reply behind an ERROR, else 0 */
    char error[FTP_CLIENT_ERROR_MAX]; /* see ftp_client_start */
    char server_ip[46];               /* the address connected to (or tried last) */
};

typedef void ftp_client_done_fn(void *arg, const struct ftp_client_outcome *o);

/* ftp_client_start - begin retrieving req. done(arg, outcome) runs exactly
 * once, unless ftp_client_cancel is called first; the outcome is valid
 * only during the call, and the handle is gone once done has run (do not
 * cancel it then). Returns the handle, or NULL when done has already run
 * (bad request, a literal address that could not be connected, no
 * memory).
 *
 * Error texts (outcome.error), CONN-* style (spec §8b), <host>:<port> as
 * in the request:
 *   CONNECT(<host>:<port>)/hostname lookup error: <detail>      (CONN-4)
 *   CONNECT(<host>:<port>)/connect: <strerror>                  (CONN-1)
 *   CONNECT(<host>:<port>)/connect timeout(><N> sec)             (CONN-2)
 *     (these three from core/upstream; N is the step timeout, which
 *     bounds the lookup and each address's connect)
 *   CONNECT(<host>:<port>)/send: <strerror> | /recv: <strerror>
 *   CONNECT(<host>:<port>)/recv: Connection closed by server
 *   CONNECT(<host>:<port>)/timeout(><N> sec) waiting for <CMD> reply
 *   CONNECT(<host>:<port>)/invalid reply to <CMD>
 *   CONNECT(<ip>:<dataport>)/data connect: <strerror>          (data connection)
 *   CONNECT(<ip>:<dataport>)/data recv: <strerror>
 *   <code> <server's reply text>  (e.g. "550 Failed to open file.",
 *                                  "530 Login incorrect.")
 *   write: <strerror>  |  Invalid URL format  |  out of memory */
struct ftp_client *ftp_client_start(struct ev_loop *loop, struct dns *dns,
                                    const struct ftp_client_request *req, ftp_client_done_fn *done,
                                    void *arg);

/* ftp_client_cancel - stop now: done will not run; sockets are closed
 * (with a QUIT when logged in), the memory is freed after the current
 * batch of events. NULL is ignored. */
void ftp_client_cancel(struct ftp_client *f);

#endif
