/* proxy_scan - asynchronous scan of a spool file by sekisho-scand.
 *
 * Drives core/scan_client from a worker's event loop: connect to the
 * scand socket, send the request with the spool fd, wait for the reply
 * (bounded by vsd_scantimeout plus a margin), then call back once. A
 * scanner that cannot be reached gives the documented LOG-E24 error line
 * and a SCANREQ_ERROR result, never a silent CLEAN. Owns its socket and
 * watchers; the spool fd stays the caller's.
 */
#ifndef SEKISHO_PROXY_SCAN_H
#define SEKISHO_PROXY_SCAN_H

#include "core/config.h"
#include "core/scan_client.h"
#include "core/svclog.h"
#include "lib/ev.h"
#include "proto/scanreq.h"

struct proxy_scan;

typedef void proxy_scan_fn(void *arg, const struct scanreq_reply *rep);

/* proxy_scan_start - scan spool_fd for service svc with the options of
 * cfg; cb runs exactly once (possibly before this returns, with an ERROR
 * reply) unless proxy_scan_cancel is called. Returns the handle, or NULL
 * when cb has already run. */
struct proxy_scan *proxy_scan_start(struct ev_loop *loop, const struct config *cfg,
                                    enum scanreq_service svc, int spool_fd, const char *filename,
                                    const struct svclog_ctx *log, proxy_scan_fn *cb, void *arg);
void proxy_scan_cancel(struct proxy_scan *ps);

#endif
