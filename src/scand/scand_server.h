/* scand_server - sekisho-scand's socket server and event loop.
 *
 * What it does: listens on a UNIX stream socket (a stale socket left by
 * a crash is removed at start, GEN-5; a live one makes start fail), runs
 * one event thread (epoll) that accepts connections, reads proto/scanreq
 * requests with the file descriptors that ride along (SCM_RIGHTS), hands
 * SCAN jobs to the scan_pool and writes the replies back; RELOAD requests
 * and SIGHUP start a background reload of the definitions (engine.h) and
 * RELOAD requests are answered when it has ended; VERSION requests are
 * answered at once with the engine in service. SIGUSR2 is passed to the
 * hook set with scand_server_set_usr2 (the benches' ceiling measurement,
 * ceiling_rerun.h), or logged and ignored. SIGTERM (or SIGINT)
 * stops accepting, lets every queued scan finish and its reply go out,
 * then run() returns.
 *
 * A slow or dead client never blocks scanning: replies wait in a bounded
 * per-connection buffer, a connection stops being read while it has
 * SCAND_CONN_INFLIGHT_MAX requests outstanding, and the replies of a
 * connection that went away are dropped.
 *
 * What it owns: the listening socket (and its path, unlinked at exit),
 * the connections, the received descriptors until a scan has used them,
 * the pool. It borrows the engine slot.
 *
 * What it does not do: no libclamav calls (engine.c), no privilege drop
 * or daemonizing (main.c).
 */
#ifndef SEKISHO_SCAND_SERVER_H
#define SEKISHO_SCAND_SERVER_H

#include <stddef.h>

#include "scand/engine.h"

#define SCAND_CONN_MAX          1024 /* concurrent client connections */
#define SCAND_CONN_INFLIGHT_MAX 16   /* outstanding requests per connection */
#define SCAND_CONN_FDS_MAX      (SCAND_CONN_INFLIGHT_MAX + 4) /* descriptors not yet paired */
#define SCAND_QUEUE_MAX         4096                          /* scan jobs waiting for a thread */
#define SCAND_DRAIN_FLUSH_MS    5000 /* after SIGTERM, time left to flush replies */
/* Socket mode: any local user may connect (the proxies run as their own
 * unprivileged user). Safe enough because a client can only ask to scan
 * descriptors it already holds; put run/ in a 0755 (or group-restricted)
 * directory to narrow who can reach it. */
#define SCAND_SOCKET_MODE 0666

struct scand_server_config {
    const char *socket_path;
    unsigned threads;
    enum engine_scan_mode mode;
    struct engine_slot *slot; /* initialised by the caller with scand_server_reload_done */
};

struct scand_server;

/* scand_usr2_fn - called on the event thread for each SIGUSR2 with the
 * signal's value (sigqueue; 0 from a plain kill). Must not block. */
typedef void scand_usr2_fn(void *arg, int value);

/* scand_server_block_signals - block SIGHUP, SIGTERM, SIGINT, SIGUSR2 in the
 * calling thread (call before any thread exists, so all inherit it) and
 * ignore SIGPIPE; the event loop takes them through a signalfd. */
int scand_server_block_signals(void);

/* scand_server_new - bind and listen (mode SCAND_SOCKET_MODE). NULL with
 * a reason in err. No thread, epoll set or signalfd exists yet, so the
 * caller may still fork (daemonize) before scand_server_run. */
struct scand_server *scand_server_new(const struct scand_server_config *cfg, char *err,
                                      size_t errcap);

/* scand_server_set_slot - the engine slot to scan with; before run (the
 * scanning process sets it after fork, the supervisor never does). */
void scand_server_set_slot(struct scand_server *s, struct engine_slot *slot);

/* scand_server_set_usr2 - what SIGUSR2 does; before run. Without it the
 * signal is logged and ignored. */
void scand_server_set_usr2(struct scand_server *s, scand_usr2_fn *fn, void *arg);

/* scand_server_reload_done - engine_reload_done_fn for the slot; arg is
 * the server. Safe from any thread. */
void scand_server_reload_done(void *arg);

/* scand_server_run - set up the event loop, start the pool and serve
 * until SIGTERM/SIGINT and drained. 0, or -1 on a setup failure (logged). */
int scand_server_run(struct scand_server *s);

/* scand_server_free - close everything, unlink the socket. NULL no-op. */
void scand_server_free(struct scand_server *s);

#endif
