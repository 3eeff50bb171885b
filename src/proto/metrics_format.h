/* metrics_format - the services' counters as OpenMetrics text (/metrics).
 *
 * What it does: renders the counters of the services (the caller copies
 * them from lib/svc_stats snapshots: proto/ does not see lib/svc_stats) as
 * an OpenMetrics 1.0.0 text exposition, the format Prometheus scrapes
 * with "Accept: application/openmetrics-text" (METRICS_CONTENT_TYPE):
 *
 *   # TYPE sekisho_up gauge                      1 = the master runs
 *   # TYPE sekisho_start_time_seconds gauge      epoch seconds of its start
 *   # TYPE sekisho_connections counter           -> sekisho_connections_total
 *   # TYPE sekisho_requests counter              -> sekisho_requests_total
 *   # TYPE sekisho_detections counter            -> sekisho_detections_total
 *   # TYPE sekisho_spam counter                  -> sekisho_spam_total
 *   # TYPE sekisho_scans counter                 -> sekisho_scans_total
 *   # TYPE sekisho_verdict_cache_hits counter    -> ..._hits_total
 *   # TYPE sekisho_verdict_cache_misses counter  -> ..._misses_total
 *   # TYPE sekisho_verdict_cache_hash_seconds counter (UNIT seconds)
 *                                                -> ..._hash_seconds_total
 *   # TYPE sekisho_sessions gauge                open now
 *   # EOF
 *
 * one sample per service in each family, labelled service="<name>", every
 * family once with its TYPE, UNIT (the seconds families) and HELP lines before
 * its samples, families in the order above, LF line ends, "# EOF" last.
 * A service given as not known (no stats file: never started) has only
 * sekisho_up 0. One that is down keeps its last run's counters and
 * start time (counters of a run; the start time tells runs apart), and
 * reports 0 sessions (its workers end with their master).
 *
 * What it owns: nothing. What it does not do: no I/O, no allocation, no
 * globals; whether a service is up is the caller's (the snapshot's master
 * pid alive), as is the HTTP side (content type, access control).
 */
#ifndef SEKISHO_PROTO_METRICS_FORMAT_H
#define SEKISHO_PROTO_METRICS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define METRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define METRICS_SERVICES_MAX 8 /* more are refused */

struct metrics_service {
    const char *name; /* the label value, e.g. "http" */
    bool known;       /* its counters were read (a stats file); false: only up 0 */
    bool up;
    int64_t start_time; /* epoch seconds */
    uint64_t connections, requests, detections, spam, sessions;
    uint64_t scans, cache_hits, cache_misses;
    uint64_t hash_ns; /* printed as seconds */
};

/* metrics_format - append the exposition of n services to b; all or
 * nothing: false (b unchanged) when it does not fit, n is larger than
 * METRICS_SERVICES_MAX, or a name is empty or given twice. Names are label values: '\\',
 * '"' and line feeds in them are escaped as OpenMetrics says. */
bool metrics_format(struct buf *b, const struct metrics_service *svcs, size_t n);

#endif
