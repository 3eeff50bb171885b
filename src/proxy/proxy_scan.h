/* proxy_scan - asynchronous scans of spool files by sekisho-scand.
 *
 * Each worker has one pool: a bounded number of connections to the scand
 * socket that are reused for sequential requests, and a FIFO of scans
 * waiting for one. This bounds what a worker asks of scand (which itself
 * scans only with its thread pool) however many sessions are scanning. A
 * scan sends the request with the spool fd, waits for the reply (bounded
 * by vsd_scantimeout plus a margin, queueing included), then calls back
 * once. A scanner that cannot be reached gives the documented LOG-E24
 * line and an ERROR result, never a silent CLEAN. The pool owns its
 * sockets and watchers; spool fds stay the caller's.
 */
#ifndef SEKISHO_PROXY_SCAN_H
#define SEKISHO_PROXY_SCAN_H

#include "core/config.h"
#include "core/scan_client.h"
#include "core/svclog.h"
#include "core/verdict_cache.h"
#include "lib/ev.h"
#include "lib/svc_stats.h"
#include "proto/scanreq.h"

#define PROXY_SCAN_CONNS_MAX 32 /* scand connections per worker */

struct proxy_scan;
struct proxy_scan_pool;

typedef void proxy_scan_fn(void *arg, const struct scanreq_reply *rep);

/* proxy_scan_pool_new - stats (may be NULL) counts the scans sent and the
 * verdict cache's hits and misses (lib/svc_stats). */
struct proxy_scan_pool *proxy_scan_pool_new(struct ev_loop *loop, const char *socket_path,
                                            struct svc_stats *stats);
void proxy_scan_pool_free(struct proxy_scan_pool *pool);

/* proxy_scan_start - scan spool_fd for service svc with the options of
 * cfg; cb runs exactly once (possibly before this returns: an ERROR
 * reply, or CLEAN from the verdict cache) unless proxy_scan_cancel is
 * called first. digest is the SHA-256 of the whole spool when the caller
 * computed it (cfg->verdict_cache, body up to VERDICT_CACHE_OBJECT_MAX),
 * else NULL. Returns the handle, or NULL when cb has already run. */
struct proxy_scan *proxy_scan_start(struct proxy_scan_pool *pool, const struct config *cfg,
                                    enum scanreq_service svc, int spool_fd, const char *filename,
                                    const uint8_t *digest, const struct svclog_ctx *log,
                                    proxy_scan_fn *cb, void *arg);

/* proxy_scan_start_coded - the same for a body scand must decode first:
 * encoding is the request's encoding byte (SCANREQ_ENC_*, 0 for none).
 * The verdict cache is not used for a coded body. */
struct proxy_scan *proxy_scan_start_coded(struct proxy_scan_pool *pool, const struct config *cfg,
                                          enum scanreq_service svc, int spool_fd, uint8_t encoding,
                                          const char *filename, const uint8_t *digest,
                                          const struct svclog_ctx *log, proxy_scan_fn *cb,
                                          void *arg);

/* proxy_scan_cache_stats - the worker's verdict cache figures. */
struct verdict_cache_stats proxy_scan_cache_stats(const struct proxy_scan_pool *pool);
void proxy_scan_cancel(struct proxy_scan *ps);

#endif
