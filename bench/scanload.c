/* scanload - SCAN load generator for sekisho-scand (bench/reload.sh; not built by the Makefile).
 *
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Isrc -include dev/banned.h \
 *      -o scanload bench/scanload.c build/libsekisho.a -lpthread -lm
 *   scanload -g DIR [-n COUNT] [-s BYTES] [-e SEED]
 *   scanload -S SOCKET -d DIR [-c CONNS] [-r RATE] [-t SECONDS] [-w WARMUP]
 *            [-T IO_TIMEOUT] [-P PID] [-m MARKS] [-o RAW] [-p] [-U]
 *
 * -g writes COUNT (default 20000) files of BYTES (default 23552) fresh
 * pseudo-random bytes each into DIR (f000000.bin ...), seeded by SEED: the
 * worst case for libclamav, and no two alike.
 *
 * Otherwise CONNS threads (default 8) each keep one connection to
 * sekisho-scand's socket and send SCAN requests on it the way a proxy does
 * (core/scan_client: the file's descriptor rides on the request,
 * SCM_RIGHTS), one outstanding request per connection, for the regular
 * files of DIR (not those whose name starts with '.') taken round-robin in
 * name order. Each request sends a copy of its file in a memfd (as a
 * proxy's in-memory spool) whose first 16 bytes are this run's random nonce
 * and the request's number, so every scanned content is new even when the
 * directory wraps around (libclamav's clean cache keeps 65,536 digests,
 * more than the 20,000 files); the files themselves are never written. -U
 * sends the files themselves.
 *   -r RATE   open loop: request n is due at n/RATE s after the start,
 *             whatever came back before (a request that finds every
 *             connection busy leaves late, and its latency counts from when
 *             it was due, so a stall is not hidden by a waiting generator);
 *   -r 0      closed loop (default): each connection sends its next request
 *             as soon as the reply to the last one is in; measures capacity.
 * The run ends after SECONDS (default 10) or at SIGINT/SIGTERM, whichever
 * comes first; requests outstanding then are finished. Every socket
 * operation times out after IO_TIMEOUT s (default 30): the request fails
 * and the connection is opened anew.
 *
 * Latency of a request: from when it was due (open loop) or sent (closed
 * loop) to its reply, the copy into the memfd included. -P PID samples every 100 ms PID's VmRSS
 * (/proc/PID/status) and CPU time (/proc/PID/stat), the machine's busy CPU
 * time (/proc/stat) and this process's: the CPUs PID used, the generator
 * used, and the rest of the machine used (other work skews the figures).
 *
 * Output, one line each (times in ms, RSS in MiB, t in s from the start):
 *   SCANLOAD mode=open|closed conns= rate= files= t0_epoch= run_s= window_s=
 *       sent= unsent= ok= infected= errors= scans_per_s= p50_ms= p99_ms= max_ms=
 *       scan_p50_ms= scan_p99_ms= lag_p99_ms= lag_max_ms= gen_cpu_s=
 *     over the requests due from WARMUP (-w, default 0) s to the end;
 *     scans_per_s = replies received in that window per second; scan_* =
 *     scand's own time per scan (the reply's scan_us, which excludes the
 *     wait for a scanner thread); lag = how late a request left (open loop);
 *     unsent = requests due before the end that never left because every
 *     connection was still waiting for a reply (open loop: the scanner fell
 *     behind by more than CONNS requests; the latencies are then a lower
 *     bound).
 *   SCANLOAD_SEC t= sent= unsent= done= errors= p50_ms= p99_ms= max_ms= rss_mb=
 *       pid_cpus= gen_cpus= other_cpus=   (-p)
 *     per second of the run; rss_mb = the highest sample of that second;
 *     *_cpus = CPUs in use on average (-1 without -P).
 *   SCANLOAD_PHASE name= start_s= end_s= dur_s= sent= unsent= done= errors=
 *       scans_per_s= p50_ms= p99_ms= max_ms= scan_p50_ms= scan_p99_ms=
 *       rss_first_mb= rss_max_mb= rss_last_mb= rss_samples= pid_cpus= gen_cpus=
 *       other_cpus=
 *     for each line "NAME START END" of the file MARKS (-m), read at the
 *     end of the run; START and END are Unix times in seconds (decimals
 *     allowed, e.g. bash's $EPOCHREALTIME). A request belongs to the phase
 *     it was due in; done counts the replies that arrived in it.
 *   SCANFAIL what= count= sample=   per kind of failure (errno name, or
 *     ERROR/INFECTED verdicts with scand's text or name)
 *   -o RAW: one line per request "REQ due_us sent_us done_us status
 *     scan_us" (status 0 clean, 1 infected, 2 ERROR verdict, 3 transport
 *     failure; times from the start) and one per -P sample "RSS t_us kb
 *     pid_ticks busy_ticks all_ticks self_cpu_us".
 * Exit status 0 when the run took place (even with failures), 2 on bad
 * usage or when the directory, a thread or the memory could not be had.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "load_common.h"

#include "core/scan_client.h"
#include "lib/str.h"
#include "proto/scanreq.h"

#define LOAD_CONNS_MAX    1024
#define LOAD_FILES_MAX    2000000
#define LOAD_FAIL_KINDS   16
#define LOAD_SAMPLE_MAX   160
#define LOAD_COPY_CHUNK   (1u << 20)  /* file -> memfd copy buffer, per connection */
#define LOAD_RSS_EVERY_NS 100000000ll /* -P: one VmRSS sample per 100 ms */
#define LOAD_SLEEP_MAX_NS 100000000ll /* a waiting thread looks at stop this often */
#define LOAD_RECONNECT_NS 100000000ll /* pause after a failed connect */
#define LOAD_PHASES_MAX   32
#define LOAD_NAME_MAX     32
#define LOAD_GEN_BUF      (1u << 20)

enum load_status {
    LOAD_OK = 0,
    LOAD_INFECTED,
    LOAD_ERROR_VERDICT,
    LOAD_FAILED, /* no reply: socket error or time-out */
};

struct load_rec {
    int64_t due_ns, sent_ns, done_ns; /* from t0, CLOCK_MONOTONIC */
    uint32_t scan_us;
    uint8_t status;
};

/* One -P sample: PID's VmRSS and CPU time, the machine's busy and total
 * CPU time (/proc/stat, clock ticks), this process's CPU time. */
struct load_rss {
    int64_t t_ns;
    long kb;
    unsigned long long pid_ticks, busy_ticks, all_ticks;
    int64_t self_us;
};

struct load_fail {
    char what[48];
    unsigned long count;
    char sample[LOAD_SAMPLE_MAX];
};

struct load_opts {
    const char *socket_path;
    const char *dir;
    const char *marks;
    const char *raw;
    unsigned conns;
    double rate; /* 0 = closed loop */
    double seconds, warmup;
    int io_timeout;
    long rss_pid; /* 0 = none */
    bool per_second;
    bool stamp;
};

struct load_shared {
    struct load_opts o;
    char **files;
    size_t nfiles;
    uint64_t nonce;
    int64_t t0;        /* CLOCK_MONOTONIC ns */
    double t0_epoch;   /* CLOCK_REALTIME at t0, s */
    int64_t end_ns;    /* no request is due at or after this (from t0) */
    int64_t stop_ns;   /* when the run was stopped (from t0) */
    atomic_ullong seq; /* next request number */
    atomic_int stop;
    pthread_mutex_t lock;
    struct load_fail fails[LOAD_FAIL_KINDS];
    unsigned nfails;
    unsigned long fails_other;
    pthread_barrier_t barrier;
};

struct load_conn {
    struct load_shared *sh;
    unsigned id;
    int sock;
    struct load_rec *recs;
    size_t nrecs, cap;
    char *copy; /* LOAD_COPY_CHUNK bytes */
};

static int64_t load_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void load_fail_record(struct load_shared *sh, const char *what, const char *sample)
{
    pthread_mutex_lock(&sh->lock);
    unsigned i;
    for (i = 0; i < sh->nfails; i++)
        if (strcmp(sh->fails[i].what, what) == 0)
            break;
    if (i == sh->nfails) {
        if (sh->nfails == LOAD_FAIL_KINDS) {
            sh->fails_other++;
            pthread_mutex_unlock(&sh->lock);
            return;
        }
        sh->nfails++;
        snprintf(sh->fails[i].what, sizeof sh->fails[i].what, "%s", what);
        snprintf(sh->fails[i].sample, sizeof sh->fails[i].sample, "%s", sample ? sample : "");
    }
    sh->fails[i].count++;
    pthread_mutex_unlock(&sh->lock);
}

/* ---- -g: the files ------------------------------------------------------- */

static int load_generate(const char *dir, unsigned long count, size_t bytes, uint64_t seed)
{
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "scanload: mkdir %s: %s\n", dir, strerror(errno));
        return 2;
    }
    unsigned char *buf = malloc(LOAD_GEN_BUF);
    if (!buf) {
        fprintf(stderr, "scanload: out of memory\n");
        return 2;
    }
    uint64_t rng[4];
    load_seed(rng, seed);
    for (unsigned long i = 0; i < count; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/f%06lu.bin", dir, i);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "scanload: %s: %s\n", path, strerror(errno));
            free(buf);
            return 2;
        }
        for (size_t off = 0; off < bytes;) {
            size_t n = bytes - off < LOAD_GEN_BUF ? bytes - off : LOAD_GEN_BUF;
            for (size_t j = 0; j < n; j += 8) {
                uint64_t v = load_rand(rng);
                memcpy(buf + j, &v, n - j < 8 ? n - j : 8);
            }
            ssize_t w = write(fd, buf, n);
            if (w != (ssize_t)n) {
                fprintf(stderr, "scanload: write %s: %s\n", path,
                        w < 0 ? strerror(errno) : "short write");
                close(fd);
                free(buf);
                return 2;
            }
            off += n;
        }
        close(fd);
    }
    free(buf);
    printf("SCANGEN dir=%s files=%lu bytes=%zu seed=%llu\n", dir, count, bytes,
           (unsigned long long)seed);
    return 0;
}

static int load_cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir, sorted by name; 0 or -1 (reason printed). */
static int load_list_files(struct load_shared *sh)
{
    DIR *d = opendir(sh->o.dir);
    if (!d) {
        fprintf(stderr, "scanload: %s: %s\n", sh->o.dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
            continue; /* hidden: e.g. reload.sh's .complete marker */
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/%s", sh->o.dir, de->d_name);
        struct stat st;
        if (n < 0 || (size_t)n >= sizeof path || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (sh->nfiles == LOAD_FILES_MAX)
            break;
        if (sh->nfiles == cap) {
            cap = cap ? cap * 2 : 1024;
            char **p = realloc(sh->files, cap * sizeof *p);
            if (!p)
                goto nomem;
            sh->files = p;
        }
        if (!(sh->files[sh->nfiles] = strdup(path)))
            goto nomem;
        sh->nfiles++;
    }
    closedir(d);
    if (sh->nfiles == 0) {
        fprintf(stderr, "scanload: no regular file in %s\n", sh->o.dir);
        return -1;
    }
    qsort(sh->files, sh->nfiles, sizeof *sh->files, load_cmp_name);
    return 0;
nomem:
    closedir(d);
    fprintf(stderr, "scanload: out of memory\n");
    return -1;
}

/* ---- the connections ----------------------------------------------------- */

static int load_connect(struct load_conn *c)
{
    int s = scan_client_connect(c->sh->o.socket_path, false);
    if (s < 0) {
        load_fail_record(c->sh, load_errname(errno), "connect");
        return -1;
    }
    struct timeval tv = {.tv_sec = c->sh->o.io_timeout};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    c->sock = s;
    return 0;
}

static bool load_rec_add(struct load_conn *c, const struct load_rec *r)
{
    if (c->nrecs == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        struct load_rec *p = realloc(c->recs, cap * sizeof *p);
        if (!p)
            return false;
        c->recs = p;
        c->cap = cap;
    }
    c->recs[c->nrecs++] = *r;
    return true;
}

/* Sleeps until t0 + due_ns; false when the run was stopped meanwhile. */
static bool load_wait_due(struct load_shared *sh, int64_t due_ns)
{
    for (;;) {
        if (atomic_load(&sh->stop))
            return false;
        int64_t left = sh->t0 + due_ns - load_mono_ns();
        if (left <= 0)
            return true;
        if (left > LOAD_SLEEP_MAX_NS)
            left = LOAD_SLEEP_MAX_NS;
        struct timespec ts = {.tv_sec = left / 1000000000ll, .tv_nsec = left % 1000000000ll};
        nanosleep(&ts, NULL);
    }
}

/* A memfd holding the file's bytes with its first 16 replaced by the
 * run's nonce and the request number, as a proxy's in-memory spool
 * (spoolfile_create_mem); -1 with errno. Stamping the files themselves
 * instead dirtied their pages: the kernel wrote them back 30 s later, in
 * the middle of the measurement, on the file system where scand creates
 * and removes its per-scan directories, and scans stalled for 300 ms. */
static int load_copy_stamped(struct load_conn *c, int src, uint64_t n)
{
    int fd = memfd_create("scanload", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    uint64_t stamp[2] = {c->sh->nonce, n};
    for (off_t off = 0;;) {
        ssize_t got = pread(src, c->copy, LOAD_COPY_CHUNK, off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            if (got == 0)
                return fd;
            break;
        }
        if (off == 0)
            memcpy(c->copy, stamp, (size_t)got < sizeof stamp ? (size_t)got : sizeof stamp);
        if (write(fd, c->copy, (size_t)got) != got)
            break;
        off += got;
    }
    int e = errno;
    close(fd);
    errno = e;
    return -1;
}

/* One request: the file (or its stamped copy), sent, its reply awaited. */
static void load_one(struct load_conn *c, uint64_t n, int64_t due_ns)
{
    struct load_shared *sh = c->sh;
    const char *path = sh->files[n % sh->nfiles];
    struct load_rec r = {.due_ns = due_ns, .status = LOAD_FAILED};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && sh->o.stamp) {
        int copy = load_copy_stamped(c, fd, n);
        int e = errno;
        close(fd);
        fd = copy;
        errno = e;
    }
    if (fd < 0) {
        load_fail_record(sh, load_errname(errno), path);
        r.sent_ns = r.done_ns = load_mono_ns() - sh->t0;
        load_rec_add(c, &r);
        return;
    }
    struct scanreq_request req;
    memset(&req, 0, sizeof req);
    req.type = SCANREQ_T_SCAN;
    req.id = n + 1;
    req.service = SCANREQ_SVC_HTTP;
    const char *base = strrchr(path, '/');
    str_copy(req.filename, sizeof req.filename, base ? base + 1 : path);
    struct scanreq_reply rep;
    if (c->sock < 0 && load_connect(c) < 0) {
        close(fd);
        r.sent_ns = r.done_ns = load_mono_ns() - sh->t0;
        load_rec_add(c, &r);
        struct timespec ts = {0, LOAD_RECONNECT_NS}; /* do not spin on a dead socket */
        nanosleep(&ts, NULL);
        return;
    }
    r.sent_ns = load_mono_ns() - sh->t0;
    int rc = scan_client_call(c->sock, &req, fd, &rep);
    int err = errno;
    r.done_ns = load_mono_ns() - sh->t0;
    close(fd);
    if (rc < 0) {
        /* The connection's state is unknown (a reply may still come):
         * start a new one for the next request. */
        load_fail_record(sh, err == EAGAIN ? "timeout" : load_errname(err), "scan");
        close(c->sock);
        c->sock = -1;
    } else {
        r.scan_us = rep.scan_us > UINT32_MAX ? UINT32_MAX : (uint32_t)rep.scan_us;
        if (rep.verdict == SCANREQ_CLEAN) {
            r.status = LOAD_OK;
        } else if (rep.verdict == SCANREQ_INFECTED) {
            r.status = LOAD_INFECTED;
            load_fail_record(sh, "INFECTED", rep.name);
        } else {
            r.status = LOAD_ERROR_VERDICT;
            load_fail_record(sh, "ERROR", rep.error);
        }
    }
    if (!load_rec_add(c, &r))
        load_fail_record(sh, "ENOMEM", "record");
}

static void *load_conn_main(void *arg)
{
    struct load_conn *c = arg;
    struct load_shared *sh = c->sh;
    if (sh->o.stamp && !(c->copy = malloc(LOAD_COPY_CHUNK))) {
        load_fail_record(sh, "ENOMEM", "copy buffer");
        atomic_store(&sh->stop, 1);
    }
    load_connect(c); /* a failure is retried before the first request */
    pthread_barrier_wait(&sh->barrier);
    while (!atomic_load(&sh->stop)) {
        uint64_t n = atomic_fetch_add(&sh->seq, 1);
        int64_t due;
        if (sh->o.rate > 0) {
            due = (int64_t)((double)n * 1e9 / sh->o.rate);
            if (due >= sh->end_ns || !load_wait_due(sh, due))
                break;
        } else {
            due = load_mono_ns() - sh->t0;
            if (due >= sh->end_ns)
                break;
        }
        load_one(c, n, due);
    }
    if (c->sock >= 0)
        close(c->sock);
    free(c->copy);
    c->copy = NULL;
    return NULL;
}

/* ---- RSS samples --------------------------------------------------------- */

/* utime + stime of pid (ticks; fields 14 and 15 of /proc/PID/stat, after
 * the command name, which may hold spaces and parentheses). */
static bool load_pid_ticks(long pid, unsigned long long *ticks)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    const char *p = ok ? strrchr(line, ')') : NULL;
    unsigned long long ut, st;
    /* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime" */
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return false;
    *ticks = ut + st;
    return true;
}

/* The machine's busy (user nice system irq softirq steal) and total CPU
 * ticks, all CPUs, from the first line of /proc/stat. */
static bool load_machine_ticks(unsigned long long *busy, unsigned long long *all)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    unsigned long long v[8];
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n != 8)
        return false;
    *busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    *all = *busy + v[3] + v[4];
    return true;
}

static int64_t load_self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
           ru.ru_stime.tv_usec;
}

static long load_vmrss_kb(long pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

struct load_rss_set {
    struct load_rss *v;
    size_t n, cap;
};

static void load_rss_sample(struct load_rss_set *set, long pid, int64_t t_ns)
{
    struct load_rss r = {.t_ns = t_ns, .kb = load_vmrss_kb(pid), .self_us = load_self_cpu_us()};
    if (r.kb < 0 || !load_pid_ticks(pid, &r.pid_ticks) ||
        !load_machine_ticks(&r.busy_ticks, &r.all_ticks))
        return;
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 1024;
        struct load_rss *p = realloc(set->v, cap * sizeof *p);
        if (!p)
            return;
        set->v = p;
        set->cap = cap;
    }
    set->v[set->n++] = r;
}

/* ---- figures ------------------------------------------------------------- */

struct load_stats {
    unsigned long sent, done, ok, infected, errors;
    double p50_ms, p99_ms, max_ms, scan_p50_ms, scan_p99_ms, lag_p99_ms, lag_max_ms;
    double rss_first_mb, rss_max_mb, rss_last_mb;
    size_t rss_samples;
    /* CPUs in use on average (-P): PID, this generator, the rest of the
     * machine (busy minus those two); -1 without two samples. */
    double pid_cpus, gen_cpus, other_cpus;
};

static int load_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile (0..100) of v[0..n) sorted, as smtpload: v[(n-1)p/100]. */
static double load_pct_ms(int64_t *v, size_t n, unsigned p)
{
    if (n == 0)
        return -1;
    return (double)v[(n - 1) * p / 100] / 1e6;
}

/* Figures of the requests due in [from, to) and the replies and RSS
 * samples in it (ns from t0); scratch has room for every record. */
static void load_stats_of(const struct load_rec *recs, size_t nrecs, const struct load_rss_set *rss,
                          int64_t from, int64_t to, int64_t *scratch, struct load_stats *st)
{
    memset(st, 0, sizeof *st);
    size_t n = 0;
    for (size_t i = 0; i < nrecs; i++) {
        const struct load_rec *r = &recs[i];
        bool answered = r->status != LOAD_FAILED;
        if (answered && r->done_ns >= from && r->done_ns < to)
            st->done++;
        if (r->due_ns < from || r->due_ns >= to)
            continue;
        st->sent++;
        if (r->status == LOAD_OK)
            st->ok++;
        else if (r->status == LOAD_INFECTED)
            st->infected++;
        else
            st->errors++;
    }
    /* Latency, scand's scan time and lag: one sorted pass each. */
    for (int what = 0; what < 3; what++) {
        n = 0;
        for (size_t i = 0; i < nrecs; i++) {
            const struct load_rec *r = &recs[i];
            if (r->due_ns < from || r->due_ns >= to)
                continue;
            if (what == 2) {
                scratch[n++] = r->sent_ns - r->due_ns;
            } else if (r->status == LOAD_OK || r->status == LOAD_INFECTED) {
                scratch[n++] = what == 0 ? r->done_ns - r->due_ns : (int64_t)r->scan_us * 1000;
            }
        }
        qsort(scratch, n, sizeof *scratch, load_cmp_i64);
        if (what == 0) {
            st->p50_ms = load_pct_ms(scratch, n, 50);
            st->p99_ms = load_pct_ms(scratch, n, 99);
            st->max_ms = n ? (double)scratch[n - 1] / 1e6 : -1;
        } else if (what == 1) {
            st->scan_p50_ms = load_pct_ms(scratch, n, 50);
            st->scan_p99_ms = load_pct_ms(scratch, n, 99);
        } else {
            st->lag_p99_ms = load_pct_ms(scratch, n, 99);
            st->lag_max_ms = n ? (double)scratch[n - 1] / 1e6 : -1;
        }
    }
    st->rss_first_mb = st->rss_max_mb = st->rss_last_mb = -1;
    st->pid_cpus = st->gen_cpus = st->other_cpus = -1;
    const struct load_rss *first = NULL, *last = NULL;
    for (size_t i = 0; rss && i < rss->n; i++) {
        if (rss->v[i].t_ns < from || rss->v[i].t_ns >= to)
            continue;
        double mb = (double)rss->v[i].kb / 1024.0;
        if (st->rss_samples++ == 0)
            st->rss_first_mb = mb;
        if (mb > st->rss_max_mb)
            st->rss_max_mb = mb;
        st->rss_last_mb = mb;
        if (!first)
            first = &rss->v[i];
        last = &rss->v[i];
    }
    if (first && last != first && last->all_ticks > first->all_ticks) {
        double secs = (double)(last->t_ns - first->t_ns) / 1e9;
        double hz = (double)sysconf(_SC_CLK_TCK);
        double cpus = (double)sysconf(_SC_NPROCESSORS_ONLN);
        double busy = (double)(last->busy_ticks - first->busy_ticks) /
                      (double)(last->all_ticks - first->all_ticks) * cpus;
        st->pid_cpus = (double)(last->pid_ticks - first->pid_ticks) / hz / secs;
        st->gen_cpus = (double)(last->self_us - first->self_us) / 1e6 / secs;
        st->other_cpus = busy - st->pid_cpus - st->gen_cpus;
        if (st->other_cpus < 0)
            st->other_cpus = 0; /* tick rounding */
    }
}

/* Open loop: the requests due in [from, to) (ns from t0, up to the stop)
 * that were never sent, because every connection was still waiting for a
 * reply until the run ended (the scanner could not keep up): their
 * latency is unknown but longer than the run had left. */
static unsigned long load_unsent(const struct load_shared *sh, int64_t from, int64_t to,
                                 unsigned long sent)
{
    if (sh->o.rate <= 0)
        return 0;
    if (to > sh->stop_ns)
        to = sh->stop_ns;
    if (from < 0)
        from = 0;
    if (to <= from)
        return 0;
    /* Request n is due at n / rate: count the n in [from, to). */
    double lo = ceil((double)from * sh->o.rate / 1e9), hi = ceil((double)to * sh->o.rate / 1e9);
    double due = hi - lo;
    return due > (double)sent ? (unsigned long)(due - (double)sent) : 0;
}

/* SCANLOAD_PHASE lines for the marks file: "NAME START END" (epoch s). */
static void load_phases(const struct load_shared *sh, const struct load_rec *recs, size_t nrecs,
                        const struct load_rss_set *rss, int64_t *scratch)
{
    FILE *f = fopen(sh->o.marks, "r");
    if (!f) {
        fprintf(stderr, "scanload: marks %s: %s\n", sh->o.marks, strerror(errno));
        return;
    }
    char line[256];
    unsigned count = 0;
    while (fgets(line, sizeof line, f) && count < LOAD_PHASES_MAX) {
        char name[LOAD_NAME_MAX + 1];
        double a, b;
        if (sscanf(line, "%32s %lf %lf", name, &a, &b) != 3 || b <= a)
            continue;
        count++;
        double from = a - sh->t0_epoch, to = b - sh->t0_epoch;
        struct load_stats st;
        load_stats_of(recs, nrecs, rss, (int64_t)(from * 1e9), (int64_t)(to * 1e9), scratch, &st);
        printf("SCANLOAD_PHASE name=%s start_s=%.3f end_s=%.3f dur_s=%.3f sent=%lu unsent=%lu "
               "done=%lu errors=%lu scans_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
               "scan_p50_ms=%.2f "
               "scan_p99_ms=%.2f rss_first_mb=%.1f rss_max_mb=%.1f rss_last_mb=%.1f "
               "rss_samples=%zu pid_cpus=%.2f gen_cpus=%.2f other_cpus=%.2f\n",
               name, from, to, to - from, st.sent,
               load_unsent(sh, (int64_t)(from * 1e9), (int64_t)(to * 1e9), st.sent), st.done,
               st.errors + st.infected, (double)st.done / (to - from), st.p50_ms, st.p99_ms,
               st.max_ms, st.scan_p50_ms, st.scan_p99_ms, st.rss_first_mb, st.rss_max_mb,
               st.rss_last_mb, st.rss_samples, st.pid_cpus, st.gen_cpus, st.other_cpus);
    }
    fclose(f);
}

static void load_raw(const struct load_shared *sh, const struct load_rec *recs, size_t nrecs,
                     const struct load_rss_set *rss)
{
    FILE *f = fopen(sh->o.raw, "w");
    if (!f) {
        fprintf(stderr, "scanload: %s: %s\n", sh->o.raw, strerror(errno));
        return;
    }
    fprintf(f,
            "# t0_epoch=%.6f; REQ due_us sent_us done_us status scan_us; "
            "RSS t_us kb pid_ticks busy_ticks all_ticks self_cpu_us\n",
            sh->t0_epoch);
    for (size_t i = 0; i < nrecs; i++)
        fprintf(f, "REQ %lld %lld %lld %u %u\n", (long long)(recs[i].due_ns / 1000),
                (long long)(recs[i].sent_ns / 1000), (long long)(recs[i].done_ns / 1000),
                recs[i].status, recs[i].scan_us);
    for (size_t i = 0; i < rss->n; i++)
        fprintf(f, "RSS %lld %ld %llu %llu %llu %lld\n", (long long)(rss->v[i].t_ns / 1000),
                rss->v[i].kb, rss->v[i].pid_ticks, rss->v[i].busy_ticks, rss->v[i].all_ticks,
                (long long)rss->v[i].self_us);
    fclose(f);
}

/* ---- main ---------------------------------------------------------------- */

static void load_usage(void)
{
    fprintf(stderr,
            "usage: scanload -g DIR [-n COUNT] [-s BYTES] [-e SEED]\n"
            "       scanload -S SOCKET -d DIR [-c CONNS] [-r RATE] [-t SECONDS] [-w WARMUP]\n"
            "                [-T IO_TIMEOUT] [-P PID] [-m MARKS] [-o RAW] [-p] [-U]\n");
    exit(2);
}

static double load_num(const char *arg, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno || end == arg || *end || v < min || v > max)
        load_usage();
    return v;
}

static double load_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    static struct load_shared sh;
    struct load_opts *o = &sh.o;
    const char *gen_dir = NULL;
    unsigned long gen_count = 20000;
    size_t gen_bytes = 23552;
    uint64_t gen_seed = 1;
    o->conns = 8;
    o->seconds = 10;
    o->io_timeout = 30;
    o->stamp = true;
    int c;
    while ((c = getopt(argc, argv, "g:n:s:e:S:d:c:r:t:w:T:P:m:o:pU")) != -1) {
        switch (c) {
        case 'g':
            gen_dir = optarg;
            break;
        case 'n':
            gen_count = (unsigned long)load_num(optarg, 1, LOAD_FILES_MAX);
            break;
        case 's':
            gen_bytes = (size_t)load_num(optarg, 1, 1e9);
            break;
        case 'e':
            gen_seed = (uint64_t)load_num(optarg, 0, 1e15);
            break;
        case 'S':
            o->socket_path = optarg;
            break;
        case 'd':
            o->dir = optarg;
            break;
        case 'c':
            o->conns = (unsigned)load_num(optarg, 1, LOAD_CONNS_MAX);
            break;
        case 'r':
            o->rate = load_num(optarg, 0, 1e7);
            break;
        case 't':
            o->seconds = load_num(optarg, 0.1, 86400);
            break;
        case 'w':
            o->warmup = load_num(optarg, 0, 86400);
            break;
        case 'T':
            o->io_timeout = (int)load_num(optarg, 1, 3600);
            break;
        case 'P':
            o->rss_pid = (long)load_num(optarg, 1, 1e9);
            break;
        case 'm':
            o->marks = optarg;
            break;
        case 'o':
            o->raw = optarg;
            break;
        case 'p':
            o->per_second = true;
            break;
        case 'U':
            o->stamp = false;
            break;
        default:
            load_usage();
        }
    }
    if (optind != argc)
        load_usage();
    if (gen_dir)
        return load_generate(gen_dir, gen_count, gen_bytes, gen_seed);
    if (!o->socket_path || !o->dir || o->warmup >= o->seconds)
        load_usage();
    if (load_list_files(&sh) < 0)
        return 2;
    if (getrandom(&sh.nonce, sizeof sh.nonce, 0) != (ssize_t)sizeof sh.nonce)
        sh.nonce = (uint64_t)load_mono_ns() ^ ((uint64_t)getpid() << 32);

    /* SIGINT/SIGTERM end the run: taken by sigtimedwait below, blocked in
     * every thread (they inherit the mask). */
    sigset_t stopsigs;
    sigemptyset(&stopsigs);
    sigaddset(&stopsigs, SIGINT);
    sigaddset(&stopsigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopsigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct load_conn *conns = calloc(o->conns, sizeof *conns);
    pthread_t *tid = calloc(o->conns, sizeof *tid);
    if (!conns || !tid) {
        fprintf(stderr, "scanload: out of memory\n");
        return 2;
    }
    pthread_mutex_init(&sh.lock, NULL);
    pthread_barrier_init(&sh.barrier, NULL, o->conns + 1);
    sh.end_ns = (int64_t)(o->seconds * 1e9);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (unsigned i = 0; i < o->conns; i++) {
        conns[i].sh = &sh;
        conns[i].id = i;
        conns[i].sock = -1;
        if (pthread_create(&tid[i], &attr, load_conn_main, &conns[i]) != 0) {
            fprintf(stderr, "scanload: cannot start thread %u\n", i);
            return 2;
        }
    }
    double cpu0 = load_cpu_s();
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    sh.t0 = load_mono_ns();
    sh.t0_epoch = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9;
    pthread_barrier_wait(&sh.barrier);

    /* This thread: RSS samples and the stop signals until the end. */
    struct load_rss_set rss = {0};
    for (int64_t next = 0;;) {
        int64_t now = load_mono_ns() - sh.t0;
        if (now >= sh.end_ns || atomic_load(&sh.stop))
            break;
        if (o->rss_pid && now >= next) {
            load_rss_sample(&rss, o->rss_pid, now);
            next += LOAD_RSS_EVERY_NS;
            if (next <= now)
                next = now + LOAD_RSS_EVERY_NS; /* late (busy machine): no burst */
        }
        int64_t wait = (o->rss_pid ? next : sh.end_ns) - now;
        if (wait > LOAD_SLEEP_MAX_NS)
            wait = LOAD_SLEEP_MAX_NS;
        struct timespec ts = {.tv_sec = wait / 1000000000ll, .tv_nsec = wait % 1000000000ll};
        if (sigtimedwait(&stopsigs, NULL, &ts) > 0)
            break;
    }
    atomic_store(&sh.stop, 1);
    int64_t stop_ns = sh.stop_ns = load_mono_ns() - sh.t0;
    for (unsigned i = 0; i < o->conns; i++)
        pthread_join(tid[i], NULL);
    int64_t run_ns = load_mono_ns() - sh.t0;
    double cpu = load_cpu_s() - cpu0;

    size_t nrecs = 0;
    for (unsigned i = 0; i < o->conns; i++)
        nrecs += conns[i].nrecs;
    struct load_rec *recs = malloc((nrecs ? nrecs : 1) * sizeof *recs);
    int64_t *scratch = malloc((nrecs ? nrecs : 1) * sizeof *scratch);
    if (!recs || !scratch) {
        fprintf(stderr, "scanload: out of memory\n");
        return 2;
    }
    size_t k = 0;
    for (unsigned i = 0; i < o->conns; i++) {
        memcpy(recs + k, conns[i].recs, conns[i].nrecs * sizeof *recs);
        k += conns[i].nrecs;
    }

    /* The window: requests due from the warm-up to the stop (the end of
     * the run, or the signal). */
    int64_t from = (int64_t)(o->warmup * 1e9);
    int64_t to = stop_ns < sh.end_ns ? stop_ns : sh.end_ns;
    if (to <= from)
        to = from + 1;
    struct load_stats st;
    load_stats_of(recs, nrecs, &rss, from, to, scratch, &st);
    printf("SCANLOAD mode=%s conns=%u rate=%.1f files=%zu t0_epoch=%.6f run_s=%.3f window_s=%.3f "
           "sent=%lu unsent=%lu ok=%lu infected=%lu errors=%lu scans_per_s=%.1f p50_ms=%.2f "
           "p99_ms=%.2f "
           "max_ms=%.2f scan_p50_ms=%.2f scan_p99_ms=%.2f lag_p99_ms=%.2f lag_max_ms=%.2f "
           "gen_cpu_s=%.3f\n",
           o->rate > 0 ? "open" : "closed", o->conns, o->rate, sh.nfiles, sh.t0_epoch,
           (double)run_ns / 1e9, (double)(to - from) / 1e9, st.sent,
           load_unsent(&sh, from, to, st.sent), st.ok, st.infected, st.errors,
           (double)st.done / ((double)(to - from) / 1e9), st.p50_ms, st.p99_ms, st.max_ms,
           st.scan_p50_ms, st.scan_p99_ms, st.lag_p99_ms, st.lag_max_ms, cpu);
    if (o->per_second) {
        for (int64_t s = 0; s * 1000000000ll < to; s++) {
            struct load_stats ss;
            int64_t a = s * 1000000000ll, b = a + 1000000000ll < to ? a + 1000000000ll : to;
            load_stats_of(recs, nrecs, &rss, a, b, scratch, &ss);
            printf("SCANLOAD_SEC t=%lld sent=%lu unsent=%lu done=%lu errors=%lu p50_ms=%.2f "
                   "p99_ms=%.2f "
                   "max_ms=%.2f rss_mb=%.1f pid_cpus=%.2f gen_cpus=%.2f other_cpus=%.2f\n",
                   (long long)s, ss.sent, load_unsent(&sh, a, b, ss.sent), ss.done,
                   ss.errors + ss.infected, ss.p50_ms, ss.p99_ms, ss.max_ms, ss.rss_max_mb,
                   ss.pid_cpus, ss.gen_cpus, ss.other_cpus);
        }
    }
    if (o->marks)
        load_phases(&sh, recs, nrecs, &rss, scratch);
    for (unsigned i = 0; i < sh.nfails; i++) {
        for (char *p = sh.fails[i].sample; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p > 0x7e)
                *p = '_';
        printf("SCANFAIL what=%s count=%lu sample=%s\n", sh.fails[i].what, sh.fails[i].count,
               sh.fails[i].sample);
    }
    if (sh.fails_other)
        printf("SCANFAIL what=other count=%lu sample=\n", sh.fails_other);
    if (o->raw)
        load_raw(&sh, recs, nrecs, &rss);
    for (unsigned i = 0; i < o->conns; i++)
        free(conns[i].recs);
    for (size_t i = 0; i < sh.nfiles; i++)
        free(sh.files[i]);
    free(sh.files);
    free(rss.v);
    free(recs);
    free(scratch);
    free(conns);
    free(tid);
    return 0;
}
