/* svc_stats - the live counters of one service, in a small shared file.
 *
 * What it does: the master of a service creates "<tmpdir>/stats.<svc>"
 * (svc_stats_create: 0600, owned by whoever calls it - the master calls
 * it after dropping to run_user; a new file replaces the old one at every
 * start, by rename, so a reader never sees a half-written header) and maps
 * it shared; the workers inherit the mapping with fork() and count into it
 * with C11 atomics: connections, requests (one per access-log record: an
 * HTTP request, an SMTP mail, a POP3 retrieval, an FTP transfer),
 * detections (DETECT-STAT INFECTED), spam (DETECT-STAT SPAM), scans and
 * the verdict cache's hits and misses, each as a
 * total since the start and per minute over the last hour, and the
 * sessions open now, and the time spent hashing for the verdict cache
 * (a total only). Readers (the console, running as run_user) take a
 * snapshot with svc_stats_read().
 *
 * Hot path: svc_stats_add() and friends take no lock and make no system
 * call (the caller passes the time; time(2) is a vDSO call). A total is
 * one atomic add, so totals are exact. A per-minute counter is one 64-bit
 * word holding the minute it counts (epoch/60, high 32 bits) and its
 * count (low 32 bits), changed by compare-and-swap: the first add of a new
 * minute replaces the word of the minute an hour before in one step, so
 * no add is lost to a roll-over and per-minute counts are exact too. Two
 * bounded exceptions, both documented at svc_stats_add: a count that
 * arrives with a time more than an hour older than its slot's minute, and
 * a minute with more than 2^32-1 events, go to the total only.
 *
 * Sessions now: +1 when a session starts, -1 when it ends; the master
 * takes off the sessions of a worker that died (proxy_slots_reap's
 * count). A worker killed between releasing a session's slot and counting
 * its end leaves one too many until the next start; a reader never sees a
 * negative number (it reads as 0).
 *
 * What it owns: the mapping (svc_stats_close unmaps it). What it does not
 * do: no threads, no globals, no allocation; it does not decide whether
 * the service is up (the header's master pid tells the caller whom to ask)
 * and does not lock the file: a reader's snapshot is a set of atomic
 * loads, each word consistent, the words not taken at one instant.
 * Same-host only (native byte order and word size); needs lock-free
 * 64-bit atomics (checked at compile time).
 */
#ifndef SEKISHO_LIB_SVC_STATS_H
#define SEKISHO_LIB_SVC_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SVC_STATS_VERSION     2  /* layout version in the header; others are refused */
#define SVC_STATS_MINUTES     60 /* one-minute slots: the last hour */
#define SVC_STATS_SERVICE_MAX 15 /* bytes of a service name ("http", "smtp", ...) */
#define SVC_STATS_PREFIX      "stats."

enum svc_stat {
    SVC_STAT_CONNECTIONS = 0, /* client connections that became sessions */
    SVC_STAT_REQUESTS,        /* access-log records */
    SVC_STAT_DETECTIONS,      /* records with DETECT-STAT INFECTED */
    SVC_STAT_SPAM,            /* records with DETECT-STAT SPAM */
    SVC_STAT_SCANS,           /* objects sent to sekisho-scand */
    SVC_STAT_CACHE_HITS,      /* verdicts the worker's verdict cache gave (no scan) */
    SVC_STAT_CACHE_MISSES,    /* objects looked up there in vain (then scanned) */
    SVC_STAT_KINDS
};

/* The mapped file; opaque (its layout is in svc_stats.c). */
struct svc_stats;

struct svc_stats_snapshot {
    char service[SVC_STATS_SERVICE_MAX + 1];
    int64_t master_pid;
    int64_t start_time;   /* epoch seconds of the service's start */
    int64_t first_minute; /* epoch/60 of per_minute[k][0]; [k][59] is now's minute */
    uint64_t total[SVC_STAT_KINDS];
    uint64_t sessions; /* open now */
    uint64_t hash_ns;  /* time spent computing verdict-cache keys, in all */
    /* Oldest first; 0 for minutes without traffic (and for minutes before
     * the start). */
    uint32_t per_minute[SVC_STAT_KINDS][SVC_STATS_MINUTES];
};

/* svc_stats_path - "<dir>/stats.<service>" into out; -1 when it does not
 * fit or service is empty, longer than SVC_STATS_SERVICE_MAX or not made
 * of lower-case letters and digits. */
int svc_stats_path(const char *dir, const char *service, char *out, size_t cap);

/* svc_stats_create - a new zeroed file for service in dir, replacing an
 * older one, mapped shared read-write. NULL with errno. */
struct svc_stats *svc_stats_create(const char *dir, const char *service, int64_t master_pid,
                                   time_t start);
/* svc_stats_close - unmap (NULL: nothing). The file stays: its totals are
 * the last run's until the next start replaces it. */
void svc_stats_close(struct svc_stats *st);

/* svc_stats_add - count one event of kind what at time now (st NULL: no
 * counting). Lock-free, no system call. The total always counts it; the
 * minute of now counts it too, except when its slot already holds a later
 * minute (now more than an hour behind the newest count of that slot: a
 * caller's stale clock) or when that minute's count is at 2^32-1. */
void svc_stats_add(struct svc_stats *st, enum svc_stat what, time_t now);

/* svc_stats_session_open - a session started: a connection counted and
 * one more session open. */
void svc_stats_session_open(struct svc_stats *st, time_t now);
/* svc_stats_session_close - n sessions ended (1, or a dead worker's). */
void svc_stats_session_close(struct svc_stats *st, uint32_t n);

/* svc_stats_hash_time - ns spent computing a verdict-cache key (SHA-256
 * of a body or a mail part), added to the total: what the cache costs on
 * a miss, beside SVC_STAT_CACHE_MISSES. */
void svc_stats_hash_time(struct svc_stats *st, uint64_t ns);

/* svc_stats_request - an access-log record was written: a request, and a
 * detection or a spam when the record says so. */
void svc_stats_request(struct svc_stats *st, bool detection, bool spam, time_t now);

/* svc_stats_take - snapshot of a mapping (the writer's own, e.g. tests),
 * the last hour ending with now's minute. */
void svc_stats_take(const struct svc_stats *st, struct svc_stats_snapshot *out, time_t now);

/* svc_stats_read - open the file at path read-only and take its snapshot.
 * 0, or -1 with errno: that of open/fstat/mmap, or EPROTO when the file is
 * not a stats file of this layout (size, magic, version, service name). */
int svc_stats_read(const char *path, struct svc_stats_snapshot *out, time_t now);

#endif
