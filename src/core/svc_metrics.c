/* svc_metrics - see svc_metrics.h. */
#include "core/svc_metrics.h"

struct metrics_service svc_metrics_entry(const char *name, const struct svc_stats_snapshot *snap,
                                         bool up)
{
    if (snap == NULL)
        return (struct metrics_service){.name = name};
    return (struct metrics_service){.name = name,
                                    .known = true,
                                    .up = up,
                                    .start_time = snap->start_time,
                                    .connections = snap->total[SVC_STAT_CONNECTIONS],
                                    .requests = snap->total[SVC_STAT_REQUESTS],
                                    .detections = snap->total[SVC_STAT_DETECTIONS],
                                    .spam = snap->total[SVC_STAT_SPAM],
                                    .scans = snap->total[SVC_STAT_SCANS],
                                    .cache_hits = snap->total[SVC_STAT_CACHE_HITS],
                                    .cache_misses = snap->total[SVC_STAT_CACHE_MISSES],
                                    .hash_ns = snap->hash_ns,
                                    .sessions = up ? snap->sessions : 0};
}
