/* proxy_auth - a worker's authentications: PAM off the event loop, a
 * short cache of good credentials, and a limit on failures per client.
 *
 * Every check (a password for HTTP proxy authentication or SMTP AUTH, an
 * account for the POP/FTP user restriction) goes through PAM
 * (core/pam_check), which blocks. A worker runs them on a workq of its
 * own (PROXY_AUTH_THREADS threads, started on the first check, at most
 * PROXY_AUTH_QUEUE_MAX checks in flight) and gets the result back on its
 * loop: other sessions are served while a check takes seconds.
 *
 * proxy_auth_start's callback runs exactly once, always after
 * proxy_auth_start returned (from the loop), unless proxy_auth_cancel is
 * called first. Results: OK, DENIED, UNAVAILABLE (PAM broken or
 * unreachable, the queue full, or no answer within PROXY_AUTH_TIMEOUT_MS:
 * the callers answer with a temporary failure, never let the client in).
 *
 * The cache: a good password check is remembered for
 * PROXY_AUTH_CACHE_TTL_S, keyed by a SHA-256 of service, user and
 * password (no password is kept), so that HTTP, whose clients send
 * Proxy-Authorization with every request, does not run PAM per request.
 * A removed user or a changed password takes effect within that time.
 *
 * The failure limit (proxy_authfail, shared by the service's workers):
 * PROXY_AUTHFAIL_MAX failed password checks from one client address,
 * with less than a minute between them, block that address's checks until a minute after
 * its last failure: they are answered DENIED without asking PAM (the
 * guesser learns nothing, the backend is spared). A good check does not
 * clear the count (one known account must not reset a guesser's).
 * Callers that log why a check failed ask proxy_auth_blocked BEFORE
 * starting it: after a failure the address may have just become blocked.
 */
#ifndef SEKISHO_PROXY_AUTH_H
#define SEKISHO_PROXY_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/pam_check.h"
#include "core/svclog.h"
#include "lib/ev.h"
#include "proxy/proxy_authfail.h"

#define PROXY_AUTH_THREADS     4
#define PROXY_AUTH_QUEUE_MAX   256
#define PROXY_AUTH_TIMEOUT_MS  30000
#define PROXY_AUTH_CACHE_SLOTS 256
#define PROXY_AUTH_CACHE_TTL_S 60
#define PROXY_AUTH_SERVICE_MAX 64

struct proxy_auth;
struct proxy_auth_pool;

typedef void proxy_auth_fn(void *arg, enum pam_check_result r);

/* proxy_auth_pool_new - service is the PAM service name (proxy_auth_service);
 * fails the service's failure table (NULL: no limit, unit tests). */
struct proxy_auth_pool *proxy_auth_pool_new(struct ev_loop *loop, const char *service,
                                            struct proxy_authfail *fails);
void proxy_auth_pool_free(struct proxy_auth_pool *pool);

/* proxy_auth_service - the PAM service of protocol proto ("http", ...):
 * "<program>_<proto>", the program's name as it was started (sekisho, or
 * sekisho2 for an installation with suffix=2, INST-2), so that each
 * installation has its own /etc/pam.d files. */
void proxy_auth_service(const char *proto, char *out, size_t cap);

struct proxy_auth_req {
    const char *user;     /* 1..PAM_CHECK_FIELD_MAX bytes */
    const char *password; /* NULL: an account check */
    const char *client_ip;
    const char *server; /* account check: the server named, or NULL */
};

/* proxy_auth_start - check req (its strings are copied); cb(arg, result)
 * runs once, later, on the loop. log names the session in the lines the
 * pool writes (a PAM failure other than a wrong password, a timeout). */
struct proxy_auth *proxy_auth_start(struct proxy_auth_pool *pool, const struct proxy_auth_req *req,
                                    const struct svclog_ctx *log, proxy_auth_fn *cb, void *arg);
void proxy_auth_cancel(struct proxy_auth *a);

/* proxy_auth_blocked - whether client_ip is over the failure limit now. */
bool proxy_auth_blocked(struct proxy_auth_pool *pool, const char *client_ip);

/* proxy_auth_log_failure - one line in the auth log (auth_log,
 * proto/authlog_format: the form fail2ban's postfix[mode=auth] filter
 * reads, which knows the mechanisms LOGIN, PLAIN, CRAM-MD5, DIGEST-MD5).
 * mech: "PLAIN" (SMTP, and HTTP Basic: the same user and password pair)
 * or "LOGIN" (SMTP, and the POP/FTP user restriction: a login's user
 * step); client_host may be NULL. */
void proxy_auth_log_failure(const struct proxy_auth_pool *pool, const char *client_host,
                            const char *client_ip, const char *mech, const char *reason,
                            const char *user);

/* proxy_auth_checks - checks that went to PAM so far (tests of the cache
 * read it through the worker's stats; also the bench). */
uint64_t proxy_auth_checks(const struct proxy_auth_pool *pool);

#endif
