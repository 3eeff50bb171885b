/* proxy_worker - one event-driven worker process of a proxy service.
 *
 * A worker shares the listening socket with its siblings (EPOLLEXCLUSIVE),
 * claims a session slot (proxy_slots) before each accept so that
 * pre_spawn caps concurrent sessions across the service, and hands the
 * connection to the protocol's session code. On SIGTERM it stops
 * accepting and exits when its last session has ended and its quarantine
 * copies are done (proxy_bgcopy: at most PROXY_BGCOPY_DRAIN_MS more). Protocol code
 * calls back proxy_worker_session_end() exactly once per session.
 */
#ifndef SEKISHO_PROXY_WORKER_H
#define SEKISHO_PROXY_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/config.h"
#include "lib/dns.h"
#include "lib/ev.h"
#include "lib/svc_stats.h"
#include "proxy/proxy_auth.h"
#include "proxy/proxy_resources.h"
#include "proxy/proxy_scan.h"
#include "proxy/proxy_slots.h"

/* In-memory spools (memfd) of one worker hold at most this much; past
 * it, spools go to tmpdir. */
#define PROXY_SPOOL_MEM_BUDGET (64u * 1024u * 1024u)

struct proxy_worker;
struct proxy_bgcopy;
struct spam_check_pool;

/* A session's entry in its worker's list, so that a stopping worker can
 * close the sessions that are only waiting (idle keep-alive). */
struct proxy_session_link {
    struct proxy_session_link *prev;
    struct proxy_session_link *next;
    /* on_stop - the worker is stopping: close now if idle; otherwise finish
     * the transaction in flight and close after it. */
    void (*on_stop)(struct proxy_session_link *link);
};

/* The protocol table every service fills (cf. ngx_mail_protocol_t). */
struct proxy_proto {
    const char *name;
    /* session_start - own fd from now on; call proxy_worker_session_end
     * when the session is over. */
    void (*session_start)(struct proxy_worker *w, int fd, const struct sockaddr_storage *peer,
                          int slot);
    /* busy_reply - what a connection refused by max_sessions_per_client
     * is sent before it is closed: a printf format whose one %s, if any,
     * is the product name. */
    const char *busy_reply;
    /* service_init - once per service start, in the master after it
     * dropped its privileges and before the workers: state the service
     * keeps outside the workers (POP: the POP-before-SMTP store, emptied
     * at every start, AUTH-7). NULL = none. 0, or -1 with errno. */
    int (*service_init)(const struct config *cfg);
};

struct proxy_worker_env {
    const struct config *cfg;
    const struct proxy_resources *res;
    const struct proxy_proto *proto;
    struct proxy_slots *slots;
    struct proxy_authfail *authfail; /* failed authentications per address (shared) */
    struct svc_stats *stats;         /* the status counters (shared); NULL = none */
    int listen_fd;
    int index; /* worker number, 0.. */
};

struct proxy_worker {
    const struct config *cfg;
    const struct proxy_resources *res;
    const struct proxy_proto *proto;
    struct proxy_slots *slots;
    struct svc_stats *stats; /* NULL = not counted */
    struct ev_loop *loop;
    struct dns *dns;
    struct proxy_scan_pool *scan_pool;
    struct proxy_auth_pool *auth_pool; /* PAM checks off the loop (no thread until the first) */
    struct proxy_bgcopy *bgcopy;       /* quarantine copies; NULL until the first */
    struct spam_check_pool *spam_pool; /* spam checks (proxy/spam_check); NULL until the first */
    int listen_fd;
    int index;
    pid_t pid; /* this worker process's (getpid once: it is in every access record) */
    uint16_t listen_port;
    char listen_ip[46];
    struct sockaddr_storage listen_addr; /* getsockname of listen_fd, once */
    bool listen_addr_ok;
    struct ev_io listen_io;
    struct ev_io signal_io;
    struct ev_timer resume_timer;
    uint64_t last_cap_warning_ms;
    uint64_t last_share_warning_ms;
    uint32_t sessions;                       /* open sessions of this worker */
    uint64_t spool_mem_used;                 /* bytes promised to in-memory spools */
    uint64_t accepted;                       /* sessions ever accepted, for ids */
    struct proxy_session_link sessions_head; /* circular list of open sessions */
    bool stopping;
};

/* proxy_worker_main - run a worker until it is told to stop; returns the
 * process exit status. */
int proxy_worker_main(const struct proxy_worker_env *env);

void proxy_worker_session_end(struct proxy_worker *w, int slot);
/* proxy_worker_listen_addr - the listener's address, NULL when it could
 * not be read at start. */
static inline const struct sockaddr *proxy_worker_listen_addr(const struct proxy_worker *w)
{
    return w->listen_addr_ok ? (const struct sockaddr *)&w->listen_addr : NULL;
}
/* proxy_worker_link / proxy_worker_unlink - enter and leave the list. */
void proxy_worker_link(struct proxy_worker *w, struct proxy_session_link *link);
void proxy_worker_unlink(struct proxy_session_link *link);

#endif
