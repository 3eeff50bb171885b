/* stats_dump - print the status counters of services (lib/svc_stats) as the
 * console's /metrics would (proto/metrics_format), for
 * tests/integration/test_svc_stats.py.
 *
 *   stats_dump [--minutes] [--now EPOCH] FILE...
 *
 * Each FILE is a "<tmpdir>/stats.<svc>" file; the service's label is its
 * name after "stats.". A missing file is a service that never started
 * (sekisho_up 0 only); a service is up when the master pid in its file
 * exists. --minutes prints, instead of the metrics text, one line per file
 * and counter: "<svc> <counter> <first_minute> <60 counts, oldest first>"
 * (counter: connections, requests, detections, spam, scans, cache_hits,
 * cache_misses). --now: the time of
 * the snapshot (default: now). Exits 0, 2 on bad usage, 3 when a file is
 * refused (another layout, not a stats file) or cannot be read.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "lib/buf.h"
#include "core/svc_metrics.h"
#include "lib/svc_stats.h"
#include "proto/metrics_format.h"

static const char *const kind_names[SVC_STAT_KINDS] = {
    "connections", "requests", "detections", "spam", "scans", "cache_hits", "cache_misses"};
_Static_assert(SVC_STAT_KINDS == 7, "a name for each counter");

static int usage(void)
{
    fprintf(stderr, "usage: stats_dump [--minutes] [--now EPOCH] FILE...\n");
    return 2;
}

/* label_of - the service name in "<dir>/stats.<svc>". */
static const char *label_of(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strncmp(base, SVC_STATS_PREFIX, strlen(SVC_STATS_PREFIX)) == 0
               ? base + strlen(SVC_STATS_PREFIX)
               : base;
}

static bool pid_alive(int64_t pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int main(int argc, char **argv)
{
    bool minutes = false;
    time_t now = time(NULL);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--minutes") == 0) {
            minutes = true;
        } else if (strcmp(argv[i], "--now") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            long long v = strtoll(argv[++i], &end, 10);
            if (errno || *end || end == argv[i])
                return usage();
            now = (time_t)v;
        } else {
            return usage();
        }
    }
    int n = argc - i;
    if (n <= 0 || n > METRICS_SERVICES_MAX)
        return usage();
    static struct svc_stats_snapshot snaps[METRICS_SERVICES_MAX];
    struct metrics_service svcs[METRICS_SERVICES_MAX];
    for (int k = 0; k < n; k++) {
        const char *path = argv[i + k];
        svcs[k] = (struct metrics_service){.name = label_of(path)};
        if (svc_stats_read(path, &snaps[k], now) < 0) {
            if (errno == ENOENT)
                continue;
            fprintf(stderr, "stats_dump: %s: %s\n", path,
                    errno == EPROTO ? "not a stats file of this layout" : strerror(errno));
            return 3;
        }
        svcs[k] = svc_metrics_entry(svcs[k].name, &snaps[k], pid_alive(snaps[k].master_pid));
    }
    if (minutes) {
        for (int k = 0; k < n; k++) {
            if (!svcs[k].known)
                continue;
            for (int s = 0; s < SVC_STAT_KINDS; s++) {
                printf("%s %s %lld", svcs[k].name, kind_names[s], (long long)snaps[k].first_minute);
                for (int m = 0; m < SVC_STATS_MINUTES; m++)
                    printf(" %u", (unsigned)snaps[k].per_minute[s][m]);
                printf("\n");
            }
        }
        return 0;
    }
    static char mem[64 * 1024];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!metrics_format(&b, svcs, (size_t)n)) {
        fprintf(stderr, "stats_dump: the metrics text does not fit\n");
        return 3;
    }
    fwrite(buf_rptr(&b), 1, buf_len(&b), stdout);
    return 0;
}
