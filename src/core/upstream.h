/* upstream - the one connector to an upstream server.
 *
 * What it does: resolves a host (lib/dns, asynchronous; IPv6 addresses too
 * when asked, after the IPv4 ones), offers every resolved address to the
 * caller's optional filter before any of them is contacted, then tries
 * the remaining addresses in order with a non-blocking connect until one
 * connects (one that completed within connect(), as on loopback, is
 * reported from the loop's deferred calls without a wait for
 * writability). It calls back exactly once (unless cancelled first) with the
 * connected descriptor, or with the spec §8b connection error text that
 * every service puts in its own reply or log:
 *   CONNECT(<host>:<port>)/hostname lookup error: <detail>          CONN-4
 *   CONNECT(<host>:<port>)/hostname lookup error: timeout(><N> sec)  CONN-4
 *   CONNECT(<host>:<port>)/connect: <strerror of the last address>  CONN-1
 *   CONNECT(<host>:<port>)/connect timeout(><N> sec)                CONN-2
 *   CONNECT(<host>:<port>)/Access Inhibited by Proxy(SEKISHO)       CONN-5
 *     (or the filter's own text, see upstream_filter_fn)
 * CONN-3 ("connect cancelled") is the caller's: it cancels and writes
 * upstream_error_text(..., "%s", UPSTREAM_CANCELLED) itself.
 * When every address fails, the error is the last address's: CONN-2 when
 * its attempt ran out of connect_timeout_s, CONN-1 with its errno
 * otherwise.
 *
 * Who uses it: the SMTP session (parent server), core/ftp_client (control
 * connection by name, data connections by address), core/notify (the
 * admin mail server). All run on a worker's ev loop; none blocks.
 *
 * What the HTTP session will use (it still has its own copy in
 * http_session.c: start_upstream/on_resolved/refuse_self/acl_to_denied/
 * connect_next/on_connected/on_connect_timeout):
 *  - upstream_start with host/port of the origin or the parent, ipv6 and
 *    connect_timeout_s = cfg->ipv6 / cfg->connect_timeout (lookup_timeout_s
 *    0 keeps today's unbounded-by-G-12 lookup);
 *  - a filter doing, per resolved address, what on_resolved does on the
 *    list: http_guard_is_self -> UPSTREAM_REFUSE with code 508 and its
 *    "Request loop" text; acl_to (unless via the parent) ->
 *    UPSTREAM_REFUSE with code 503 and the preset CONN-5 text, after its
 *    "Access Denied to" info line. The session answers r->refusal (or 503
 *    for the other failures) with r->error;
 *  - r->ip for log.server_ip (the connected address, or the last one
 *    tried when all failed), r->fd for sfd;
 *  - on a client cancel in RESOLVE/CONNECT: upstream_cancel, then CONN-3
 *    via upstream_error_text.
 * Differences HTTP will see: acl_to is applied to every resolved address
 * (today only the first), and connect_timeout moves on to the next
 * address (today it ends the request at the first that times out).
 *
 * What it owns: one allocation per connection, its socket until the
 * callback hands it over, one timer, one DNS query. Nothing after the
 * callback or after upstream_cancel (the memory is freed after the
 * current batch of events).
 *
 * What it does not do: no I/O on the connection, no access control of its
 * own (the filter is the caller's), no retry of a whole connection.
 */
#ifndef SEKISHO_CORE_UPSTREAM_H
#define SEKISHO_CORE_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/dns.h"
#include "lib/ev.h"
#include "lib/sock.h"

#define UPSTREAM_ERROR_MAX  512
#define UPSTREAM_DETAIL_MAX 128

/* The detail texts of CONN-5 and CONN-3 (after "CONNECT(<host>:<port>)/"). */
#define UPSTREAM_ACCESS_INHIBITED "Access Inhibited by Proxy(SEKISHO)"
#define UPSTREAM_CANCELLED        "connect cancelled"

struct upstream;

enum upstream_failure {
    UPSTREAM_OK = 0,
    UPSTREAM_LOOKUP,  /* CONN-4: the name did not resolve (or lookup_timeout_s passed) */
    UPSTREAM_CONNECT, /* CONN-1: no address connected; err = the last one's errno */
    UPSTREAM_TIMEOUT, /* CONN-2: the last address's attempt passed connect_timeout_s */
    UPSTREAM_REFUSED, /* the filter refused (CONN-5 or its own text); refusal = its code */
};

struct upstream_result {
    int fd; /* connected, non-blocking, CLOEXEC; -1 on failure */
    enum upstream_failure failure;
    int err;     /* CONNECT: errno; TIMEOUT: ETIMEDOUT; else 0 */
    int refusal; /* REFUSED: the filter's code (e.g. an HTTP status); else 0 */
    /* The address connected to; on failure the last one tried or refused
     * ("" and addr_len 0 when there was none). */
    char ip[SOCK_ADDRSTRLEN];
    uint16_t port;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    /* LOOKUP: the resolver's text ("Unknown host", "timeout(>5 sec)");
     * CONNECT, TIMEOUT: strerror(err); else "". */
    char detail[UPSTREAM_DETAIL_MAX];
    char error[UPSTREAM_ERROR_MAX]; /* the whole CONN-* text; "" on success */
};

typedef void upstream_fn(void *arg, const struct upstream_result *r);

enum upstream_verdict {
    UPSTREAM_TRY = 0, /* connect to this address (in its turn) */
    UPSTREAM_SKIP,    /* leave this address out; the others are still tried */
    UPSTREAM_REFUSE,  /* contact none: the result is REFUSED with *why */
};

/* What a filter's refusal reports. Preset to code 0 and the CONN-5 text;
 * a filter may overwrite both. When every address is skipped, the last
 * skip's why is the (REFUSED) result. */
struct upstream_refusal {
    int code;
    char error[UPSTREAM_ERROR_MAX];
};

/* upstream_filter_fn - called for every resolved address, in order, before
 * the first connect (so a refusal of any address means nothing was
 * contacted). ip is sa's text. It may log; it must not cancel. */
typedef enum upstream_verdict upstream_filter_fn(void *arg, const struct sockaddr *sa,
                                                 socklen_t len, const char *ip,
                                                 struct upstream_refusal *why);

struct upstream_request {
    const char *host; /* name or IPv4/IPv6 literal; <host> of the error texts */
    uint16_t port;
    bool ipv6;                  /* also AAAA results (the ipv6 key) */
    unsigned connect_timeout_s; /* bound of each address's attempt; 0 = the system's */
    unsigned lookup_timeout_s;  /* bound of the lookup; 0 = the resolver's own */
    upstream_filter_fn *filter; /* NULL: every address is tried */
    void *filter_arg;
};

/* upstream_start - connect to req (its strings are copied). cb runs
 * exactly once unless upstream_cancel is called first. A failure may be
 * reported before this returns (a literal or a hosts-file name whose
 * every address fails at once, a filter's refusal, no memory), and then
 * NULL is returned; a success is always reported later, from the loop. */
struct upstream *upstream_start(struct ev_loop *loop, struct dns *dns,
                                const struct upstream_request *req, upstream_fn *cb, void *arg);

/* upstream_start_addrs - the same for addresses already known (no
 * lookup; req->ipv6 and lookup_timeout_s are ignored, req->host names
 * them in error texts): an FTP data connection, tests. */
struct upstream *upstream_start_addrs(struct ev_loop *loop, const struct dns_result *addrs,
                                      const struct upstream_request *req, upstream_fn *cb,
                                      void *arg);

/* upstream_cancel - stop now: cb will not run, a socket being connected
 * is closed. NULL is ignored; never after cb has run. */
void upstream_cancel(struct upstream *u);

/* upstream_error_text - "CONNECT(<host>:<port>)/" + the formatted detail
 * into out (cap bytes, truncated): the §8b texts the callers add (CONN-3,
 * their own refusals, FTP's "send:"/"recv:"). */
void upstream_error_text(char *out, size_t cap, const char *host, uint16_t port, const char *fmt,
                         ...) __attribute__((format(printf, 5, 6)));

#endif
