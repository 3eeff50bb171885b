/* svc_metrics - a service's counters (lib/svc_stats) as one entry of the
 * OpenMetrics text (proto/metrics_format), which may not know the
 * snapshot's layout (the layer rule): the copy is written once here, for
 * the console's /metrics and the test suite's stats_dump. */
#ifndef SEKISHO_CORE_SVC_METRICS_H
#define SEKISHO_CORE_SVC_METRICS_H

#include <stdbool.h>

#include "lib/svc_stats.h"
#include "proto/metrics_format.h"

/* svc_metrics_entry - name's entry: snap's totals (NULL: no stats file,
 * only "up 0"); a service that is not up has no open sessions. */
struct metrics_service svc_metrics_entry(const char *name, const struct svc_stats_snapshot *snap,
                                         bool up);

#endif
