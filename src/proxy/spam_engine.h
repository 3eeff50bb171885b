/* spam_engine - asynchronous checks of a spooled mail by rspamd (/checkv2).
 *
 * What it does: one request per check, on the worker's event loop: a
 * non-blocking connect to the configured rspamd (IPv4/IPv6 literal and
 * port, or a UNIX socket path), "POST /checkv2" with rspamd's request
 * headers (IP, Helo, From, one Rcpt per recipient, User, Hostname,
 * Queue-Id; each value stripped of control bytes and cut to
 * SPAM_ENGINE_VALUE_MAX so that an SMTP client cannot inject header
 * lines), the body streamed from the spool fd with pread() in chunks of
 * SPAM_ENGINE_CHUNK bytes (never the whole mail in memory), then the HTTP
 * reply (proto/http1_parse: Content-Length, chunked or until close; at
 * most SPAM_ENGINE_REPLY_MAX bytes) parsed by proto/rspamd_reply.
 *
 * Verdicts: SPAM when rspamd's action is "reject", "rewrite subject" or
 * "add header" (its own thresholds were reached), with the detection name
 * SEKISHO/SPAM_ENGINE/<action>/<score>/<top symbols>; HAM for "no
 * action", "greylist", "soft reject"; SKIPPED without any connection for
 * a mail above SPAM_ENGINE_MAX_SIZE; ERROR when rspamd cannot be reached,
 * does not answer within the timeout, answers an HTTP status other than
 * 200, an "error" member or a reply that is not one (result.error says
 * which). ERROR and SKIPPED never classify a mail: the caller logs them.
 *
 * Timeout: one overall bound (timeout_ms) from spam_engine_check() to the
 * reply, covering connect, sending and reading; when it fires the request
 * is abandoned (connection closed) and the result is ERROR "timeout".
 *
 * Callback: exactly once per started check, from the event loop (never
 * before spam_engine_check() returns), unless spam_engine_cancel() was
 * called first. The handle is invalid once the callback has run.
 *
 * What it owns: the connection, its watchers, the request head and reply
 * buffers; the spool fd stays the caller's (only read with pread, so its
 * offset is not moved) and must stay open until the callback or cancel.
 */
#ifndef SEKISHO_PROXY_SPAM_ENGINE_H
#define SEKISHO_PROXY_SPAM_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/ev.h"
#include "proto/scanreq.h"

#define SPAM_ENGINE_MAX_SIZE  (20u * 1024 * 1024) /* larger mails are not sent: SKIPPED */
#define SPAM_ENGINE_CHUNK     65536               /* bytes read from the spool at a time */
#define SPAM_ENGINE_REPLY_MAX (1u * 1024 * 1024)  /* reply head + body */
#define SPAM_ENGINE_HEAD_MAX  16384               /* reply head */
#define SPAM_ENGINE_VALUE_MAX 1000                /* bytes of one request header value */
#define SPAM_ENGINE_RCPT_MAX  1024                /* Rcpt headers sent (rspamd's max_recipients) */

enum spam_engine_verdict {
    SPAM_ENGINE_HAM = 0,
    SPAM_ENGINE_SPAM,
    SPAM_ENGINE_SKIPPED,
    SPAM_ENGINE_ERROR,
};
const char *spam_engine_verdict_name(enum spam_engine_verdict v); /* "HAM" ... */

struct spam_engine_result {
    enum spam_engine_verdict verdict;
    char name[SCANREQ_NAME_MAX + 1]; /* SPAM: SEKISHO/SPAM_ENGINE/<action>/<score>/<top symbols> */
    char action[32];                 /* HAM/SPAM: rspamd's action */
    double score, required_score;    /* HAM/SPAM */
    char error[160];                 /* ERROR/SKIPPED: why (printable ASCII) */
    uint64_t ms;                     /* time taken */
};

/* Envelope and session facts sent as request headers; any may be NULL or
 * empty (then the header is not sent). */
struct spam_engine_meta {
    const char *client_ip, *helo, *from, *user, *hostname, *queue_id;
    const char *const *rcpt;
    unsigned nrcpt;
};

struct spam_engine_target {
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

/* spam_engine_target_parse - "127.0.0.1:11333", "[::1]:11333" or an
 * absolute UNIX socket path "/path/to/socket". Returns 0, or -1 with a
 * reason in err. */
int spam_engine_target_parse(const char *text, struct spam_engine_target *t, char *err,
                             size_t errcap);

struct spam_engine_req;
typedef void spam_engine_fn(void *arg, const struct spam_engine_result *r);

/* spam_engine_check - start checking len bytes of spool_fd (from offset
 * 0). Returns the handle, or NULL with errno when nothing could start
 * (no memory, EINVAL for a NULL loop/target/cb); then cb never runs. */
struct spam_engine_req *spam_engine_check(struct ev_loop *loop, const struct spam_engine_target *t,
                                          unsigned timeout_ms, int spool_fd, uint64_t len,
                                          const struct spam_engine_meta *meta, spam_engine_fn *cb,
                                          void *arg);

/* spam_engine_cancel - abandon a check whose callback has not run yet:
 * the callback will not run, the connection is closed. */
void spam_engine_cancel(struct spam_engine_req *r);

#endif
