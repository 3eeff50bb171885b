/* svc_stats - see svc_stats.h. */
#include "lib/svc_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"

/* Shared between processes: a lock-based atomic would lock nothing there. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "svc_stats needs lock-free 64-bit atomics");

#define STATS_MAGIC     "SKSTATS\n"
#define COUNT_BITS      32
#define COUNT_MASK      ((UINT64_C(1) << COUNT_BITS) - 1)
#define MINUTE_MASK     UINT64_C(0xffffffff) /* the minute kept in the high half */
#define SECONDS_PER_MIN 60

/* The file, byte for byte (native order). The header is written before
 * the file gets its name and never changes after; the rest is atomics.
 * Offsets: magic 0, version 8, size 12, service 16, master_pid 32,
 * start_time 40, total 48, sessions 104, hash_ns 112, minute 120;
 * 3480 bytes. */
struct svc_stats {
    char magic[8];
    uint32_t version;
    uint32_t size; /* sizeof(struct svc_stats) */
    char service[SVC_STATS_SERVICE_MAX + 1];
    int64_t master_pid;
    int64_t start_time;
    _Atomic uint64_t total[SVC_STAT_KINDS];
    _Atomic int64_t sessions;
    _Atomic uint64_t hash_ns;
    /* minute[i][k]: (minute << 32) | count, for the minute m with
     * m % 60 == i; 0 = never used. */
    _Atomic uint64_t minute[SVC_STATS_MINUTES][SVC_STAT_KINDS];
};

_Static_assert(offsetof(struct svc_stats, total) == 48 &&
                   offsetof(struct svc_stats, minute) == 120 && sizeof(struct svc_stats) == 3480,
               "the layout changed: raise SVC_STATS_VERSION and the offsets above");

static uint64_t minute_of(time_t now)
{
    return now > 0 ? ((uint64_t)now / SECONDS_PER_MIN) & MINUTE_MASK : 0;
}

static bool service_name_ok(const char *service)
{
    size_t n = strlen(service);
    if (n == 0 || n > SVC_STATS_SERVICE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((service[i] >= 'a' && service[i] <= 'z') || (service[i] >= '0' && service[i] <= '9')))
            return false;
    return true;
}

int svc_stats_path(const char *dir, const char *service, char *out, size_t cap)
{
    if (!service_name_ok(service))
        return -1;
    int n = snprintf(out, cap, "%s/" SVC_STATS_PREFIX "%s", dir, service);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

struct svc_stats *svc_stats_create(const char *dir, const char *service, int64_t master_pid,
                                   time_t start)
{
    char path[4096], tmp[4096];
    if (svc_stats_path(dir, service, path, sizeof(path)) < 0 ||
        snprintf(tmp, sizeof(tmp), "%s/." SVC_STATS_PREFIX "%s.%lld.tmp", dir, service,
                 (long long)getpid()) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    int flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
    int fd = open(tmp, flags, 0600);
    if (fd < 0 && errno == EEXIST && unlink(tmp) == 0) /* left by a crash of this pid's namesake */
        fd = open(tmp, flags, 0600);
    if (fd < 0)
        return NULL;
    struct svc_stats *st = MAP_FAILED;
    if (fchmod(fd, 0600) == 0 && ftruncate(fd, (off_t)sizeof(*st)) == 0)
        st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd);
    if (st == MAP_FAILED) {
        unlink(tmp);
        errno = err;
        return NULL;
    }
    /* ftruncate gave zeros: every counter starts at 0, every slot unused. */
    memcpy(st->magic, STATS_MAGIC, sizeof(st->magic));
    st->version = SVC_STATS_VERSION;
    st->size = (uint32_t)sizeof(*st);
    str_copy(st->service, sizeof(st->service), service);
    st->master_pid = master_pid;
    st->start_time = (int64_t)start;
    if (rename(tmp, path) < 0) {
        err = errno;
        unlink(tmp);
        munmap(st, sizeof(*st));
        errno = err;
        return NULL;
    }
    return st;
}

void svc_stats_close(struct svc_stats *st)
{
    if (st)
        munmap(st, sizeof(*st));
}

static void add_minute(_Atomic uint64_t *word, uint64_t minute)
{
    uint64_t old = atomic_load_explicit(word, memory_order_relaxed);
    for (;;) {
        uint64_t tag = old >> COUNT_BITS, next;
        if (tag == minute) {
            if ((old & COUNT_MASK) == COUNT_MASK)
                return; /* saturated: the total still has it */
            next = old + 1;
        } else if (tag < minute) {
            next = (minute << COUNT_BITS) | 1; /* the minute an hour ago (or never) leaves */
        } else {
            return; /* the slot is already a later minute's: a stale clock */
        }
        if (atomic_compare_exchange_weak_explicit(word, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed))
            return;
    }
}

void svc_stats_add(struct svc_stats *st, enum svc_stat what, time_t now)
{
    if (!st || (unsigned)what >= SVC_STAT_KINDS)
        return;
    atomic_fetch_add_explicit(&st->total[what], 1, memory_order_relaxed);
    uint64_t m = minute_of(now);
    add_minute(&st->minute[m % SVC_STATS_MINUTES][what], m);
}

void svc_stats_session_open(struct svc_stats *st, time_t now)
{
    if (!st)
        return;
    atomic_fetch_add_explicit(&st->sessions, 1, memory_order_relaxed);
    svc_stats_add(st, SVC_STAT_CONNECTIONS, now);
}

void svc_stats_session_close(struct svc_stats *st, uint32_t n)
{
    if (st && n)
        atomic_fetch_sub_explicit(&st->sessions, (int64_t)n, memory_order_relaxed);
}

void svc_stats_hash_time(struct svc_stats *st, uint64_t ns)
{
    if (st)
        atomic_fetch_add_explicit(&st->hash_ns, ns, memory_order_relaxed);
}

void svc_stats_request(struct svc_stats *st, bool detection, bool spam, time_t now)
{
    svc_stats_add(st, SVC_STAT_REQUESTS, now);
    if (detection)
        svc_stats_add(st, SVC_STAT_DETECTIONS, now);
    if (spam)
        svc_stats_add(st, SVC_STAT_SPAM, now);
}

void svc_stats_take(const struct svc_stats *st, struct svc_stats_snapshot *out, time_t now)
{
    memset(out, 0, sizeof(*out));
    str_copy(out->service, sizeof(out->service), st->service);
    out->master_pid = st->master_pid;
    out->start_time = st->start_time;
    uint64_t last = minute_of(now);
    uint64_t first = last >= SVC_STATS_MINUTES - 1 ? last - (SVC_STATS_MINUTES - 1) : 0;
    out->first_minute = (int64_t)first;
    /* The loads take a const object: C17 allows it, and the reader's
     * mapping is read-only, which a plain load (all x86-64 and arm64 do
     * for 64-bit words) never writes to. */
    _Atomic uint64_t *total = (_Atomic uint64_t *)st->total;
    for (int k = 0; k < SVC_STAT_KINDS; k++)
        out->total[k] = atomic_load_explicit(&total[k], memory_order_relaxed);
    int64_t sessions = atomic_load_explicit((_Atomic int64_t *)&st->sessions, memory_order_relaxed);
    out->sessions = sessions > 0 ? (uint64_t)sessions : 0;
    out->hash_ns = atomic_load_explicit((_Atomic uint64_t *)&st->hash_ns, memory_order_relaxed);
    for (int i = 0; i < SVC_STATS_MINUTES; i++) {
        for (int k = 0; k < SVC_STAT_KINDS; k++) {
            uint64_t w =
                atomic_load_explicit((_Atomic uint64_t *)&st->minute[i][k], memory_order_relaxed);
            uint64_t tag = w >> COUNT_BITS;
            if (w == 0 || tag < first || tag > last)
                continue; /* unused, older than the hour, or ahead of now */
            out->per_minute[k][tag - first] = (uint32_t)(w & COUNT_MASK);
        }
    }
}

int svc_stats_read(const char *path, struct svc_stats_snapshot *out, time_t now)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size != (off_t)sizeof(struct svc_stats)) {
        close(fd);
        errno = EPROTO;
        return -1;
    }
    const struct svc_stats *st = mmap(NULL, sizeof(*st), PROT_READ, MAP_SHARED, fd, 0);
    int err = errno;
    close(fd);
    if (st == MAP_FAILED) {
        errno = err;
        return -1;
    }
    bool ok = memcmp(st->magic, STATS_MAGIC, sizeof(st->magic)) == 0 &&
              st->version == SVC_STATS_VERSION && st->size == sizeof(*st) &&
              memchr(st->service, '\0', sizeof(st->service)) && service_name_ok(st->service);
    if (ok)
        svc_stats_take(st, out, now);
    munmap((void *)st, sizeof(*st));
    if (!ok) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}
