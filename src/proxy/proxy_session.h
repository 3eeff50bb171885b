/* proxy_session - what every proxy session is, whatever its protocol.
 *
 * A session is one client connection and at most one upstream connection
 * (cf. nginx's ngx_mail_session_t, HAProxy's connection/stream split).
 * Every protocol's session struct embeds struct proxy_session FIRST and
 * fills a struct proxy_session_ops; this module does, once for all of
 * them:
 *
 *   start     reverse lookup (reverselookup), acl_from ("<proto>_from" of
 *             hosts.allow, ACL-5), then ops->admitted;
 *   connect   the upstream connector, acl_to ("<proto>_to", ACL-6/ACL-7)
 *             by configured name AND by every resolved address before a
 *             byte is sent, the CONN-1..5 error texts (§8b), then
 *             ops->connected;
 *   events    reading both ends into bounded buffers, writing what the
 *             protocol queued, the idle timer, the worker's stop;
 *   closing   in ONE place. A handler never closes: it asks with
 *             proxy_session_end() (close once what is queued for the
 *             client is written) or proxy_session_abort() (now), and
 *             returns. Every entry into protocol code (an event, a timer,
 *             a callback of the connector, the resolver, the scanner...)
 *             runs between proxy_session_enter() and
 *             proxy_session_leave(); leave() flushes, updates the event
 *             mask, and closes when asked and the last entry returns.
 *             So a reply can never free the session in the middle of a
 *             call chain, and no caller re-checks "closed".
 *
 * The protocol owns its state machine, its buffers' contents and its
 * transaction state; the session owns the descriptors, watchers, timers,
 * the slot and the memory.
 */
#ifndef SEKISHO_PROXY_SESSION_H
#define SEKISHO_PROXY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "core/svclog.h"
#include "lib/buf.h"
#include "lib/ev.h"
#include "lib/sock.h"
#include "proxy/proxy_worker.h"

struct upstream;

#define PROXY_HOST_MAX 256

/* One end of the session: the client, or the upstream server. */
struct proxy_end {
    int fd; /* -1 when not (or no longer) connected */
    struct ev_io io;
    struct buf in;  /* read, not yet taken by the protocol */
    struct buf out; /* queued for writing */
    char ip[SOCK_ADDRSTRLEN];
    char host[PROXY_HOST_MAX];
    uint16_t port;
    bool no_read; /* the protocol does not want input now (e.g. while a
                     reply is written, or a server that may not speak) */
};

struct proxy_session;

/* The protocol table. Every hook runs inside enter/leave; none may close
 * the session other than by proxy_session_end/abort. NULL = not needed. */
struct proxy_session_ops {
    const char *name;     /* "smtp", "pop": the service in logs */
    const char *acl_from; /* hosts.allow list of clients, "smtp_from" */
    const char *acl_to;   /* ... of servers, "smtp_to" */
    /* waits_for - what the session waits for now, for the error log of
     * the idle timer and of the worker's stop ("a command of the client"). */
    const char *(*waits_for)(const struct proxy_session *s);
    /* admitted - acl_from passed: greet, choose a server, connect. */
    void (*admitted)(struct proxy_session *s);
    /* connected - proxy_session_connect finished: error == NULL with
     * server.fd open, or the §8b text ("CONNECT(h:p)/connect: ...") that
     * the protocol puts in its own reply. */
    void (*connected)(struct proxy_session *s, const char *error);
    /* client_input - client.in has new bytes. */
    void (*client_input)(struct proxy_session *s);
    /* client_gone - the client closed or reset the connection (what was
     * read before is in client.in and was offered to client_input). The
     * session is aborted after this returns. */
    void (*client_gone)(struct proxy_session *s);
    /* server_input - server.in has new bytes. */
    void (*server_input)(struct proxy_session *s);
    /* server_gone - the server closed, reset, or could not be written;
     * server.fd is already closed. */
    void (*server_gone)(struct proxy_session *s);
    /* server_drained - server.out was written out while server_pull is
     * set: the protocol may queue the next chunk (streaming a spool). */
    void (*server_drained)(struct proxy_session *s);
    /* client_drained - client.out was written out while client_pull is
     * set: the protocol may queue the next chunk (a message to the
     * client, a relayed body). */
    void (*client_drained)(struct proxy_session *s);
    /* client_event, server_event - a protocol that moves bytes itself
     * (sendfile of a spool, splice of a tunnel, buffers of its own that
     * grow) sets these: the core then hands it each readiness event of
     * that end instead of reading and writing the end's buffers, and
     * leaves the end's event mask to the protocol (proxy_session_watch).
     * Still inside enter/leave, still closed only by end/abort. */
    void (*client_event)(struct proxy_session *s, uint32_t events);
    void (*server_event)(struct proxy_session *s, uint32_t events);
    /* idle - nothing moved for idle_ms. */
    void (*idle)(struct proxy_session *s);
    /* stop - the worker stops: end now if between transactions. */
    void (*stop)(struct proxy_session *s);
    /* closing - the session is being closed: write the access record that
     * is still due, cancel scans. Runs once; descriptors still open. */
    void (*closing)(struct proxy_session *s);
    /* release - free what the protocol holds (spools, buffers of its
     * own): run with the deferred free, after the batch of events in
     * which the session closed, so no code of that batch finds them gone. */
    void (*release)(struct proxy_session *s);
};

struct proxy_session {
    struct proxy_session_link link; /* first: the worker's list points here */
    const struct proxy_session_ops *ops;
    struct proxy_worker *w;
    const struct config *cfg;
    int slot;
    struct proxy_end client;
    struct proxy_end server;
    struct sockaddr_storage peer;
    /* Transparent mode (TP-1): where the client's connection was going
     * before a NAT REDIRECT brought it to this port. orig_port is 0 when
     * transparent is off or the client came to the port directly; the
     * session is then served as in proxy mode. */
    char orig_ip[SOCK_ADDRSTRLEN];
    uint16_t orig_port;
    struct svclog_ctx log;
    struct ev_timer idle;
    uint64_t idle_ms;    /* 0 = no idle limit */
    struct upstream *pc; /* the connection being made (core/upstream) */
    struct dns_query *dnsq;
    struct timespec start_rt; /* the session's start (records of protocols
                                 without transactions) */
    uint64_t start_ms;
    unsigned depth;    /* enter/leave nesting */
    bool ending;       /* close once client.out is written */
    bool aborting;     /* close now */
    bool closed;       /* closing or closed: nothing runs any more */
    bool refused_from; /* acl_from refused the client (a protocol may log it) */
    bool client_quit;  /* the client asked to end (QUIT): it sends nothing more */
    bool server_pull;  /* call server_drained when server.out empties */
    bool client_pull;  /* call client_drained when client.out empties */
};

/* proxy_session_new - a session of size bytes (the protocol's struct,
 * which starts with struct proxy_session) for an accepted fd, with
 * buffers of the given capacities; NULL when memory is short (the fd is
 * then closed and the slot given back). */
struct proxy_session *proxy_session_new(struct proxy_worker *w, int fd,
                                        const struct sockaddr_storage *peer, int slot, size_t size,
                                        const struct proxy_session_ops *ops, size_t client_in,
                                        size_t client_out, size_t server_in, size_t server_out);
/* proxy_session_redirected - the client was redirected here in
 * transparent mode: its server is orig_ip:orig_port, whatever the parent
 * server settings say. */
static inline bool proxy_session_redirected(const struct proxy_session *s)
{
    return s->orig_port != 0;
}

/* proxy_session_start - reverse lookup and acl_from, then ops->admitted.
 * Called once after new and after the protocol set up its own fields. */
void proxy_session_start(struct proxy_session *s);

/* proxy_session_connect - connect upstream to host:port (core/upstream:
 * every resolved address tried in turn); ops->connected gets the outcome.
 * With acl_to, every address is checked against "<proto>_to" (by the
 * configured name or the address) before any is contacted. */
void proxy_session_connect(struct proxy_session *s, const char *host, uint16_t port);

/* enter/leave - bracket every entry into protocol code from outside the
 * session's own events (see the top of this file). After leave the
 * session may be gone: do not touch it. */
void proxy_session_enter(struct proxy_session *s);
void proxy_session_leave(struct proxy_session *s);

/* proxy_session_end - close once what is queued for the client is out.
 * The server connection is closed now. Called outside enter/leave (a
 * protocol's own callback that forgot to enter), it settles at once, so
 * a session is never left open by mistake. */
void proxy_session_end(struct proxy_session *s);
/* proxy_session_abort - close now, dropping what is queued. */
void proxy_session_abort(struct proxy_session *s);
/* proxy_session_done - end or abort was asked: take no more input. */
static inline bool proxy_session_done(const struct proxy_session *s)
{
    return s->ending || s->aborting || s->closed;
}

/* proxy_session_watch - the events end e is watched for (protocols with
 * client_event/server_event; nothing when e is closed). */
void proxy_session_watch(struct proxy_session *s, struct proxy_end *e, uint32_t events);

/* proxy_session_set_server - a connection the protocol made itself (or
 * kept from an earlier request) becomes the server end. */
void proxy_session_set_server(struct proxy_session *s, int fd, const char *ip);

/* proxy_session_close_server - close the upstream connection (e.g. after
 * QUIT); what is still queued for it is dropped. */
void proxy_session_close_server(struct proxy_session *s);

/* proxy_session_flush - write what is queued for end e now (leave()
 * does it too; this is for a protocol that needs to know). false when
 * the peer is gone. */
bool proxy_session_flush(struct proxy_session *s, struct proxy_end *e);

/* proxy_session_touch - traffic moved: restart the idle timer. */
void proxy_session_touch(struct proxy_session *s);

/* proxy_session_waits_for - ops->waits_for, or "the client" when none. */
const char *proxy_session_waits_for(const struct proxy_session *s);

#endif
