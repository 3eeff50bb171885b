/* scand_ceiling - the scan ceiling benchmark (see scand_ceiling.h). */
#include "scand/scand_ceiling.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/spoolfile.h"
#include "proto/scanreq.h"
#include "scand/scan_pool.h"

#define CEILING_NONCE_LEN 16
#define CEILING_FILES_MAX 1000000
/* What a proxy asks with the default vsd_scantimeout (config_keys.def):
 * the deadline is checked in every callback, so it belongs to the cost. */
#define CEILING_TIMEOUT_MS 120000u

struct ceiling_file {
    char *data;
    size_t len;
};

struct ceiling_run {
    struct engine *engine;
    const struct ceiling_options *o;
    struct ceiling_file *files;
    size_t nfiles, max_len;
    bool bare;
    uint64_t nonce_run; /* random per run: the nonce's first half */
    uint64_t deadline_ns;
    atomic_uint_fast64_t next; /* the next scan's number: picks the file and the nonce */
    uint64_t first;            /* next when this path started */
};

struct ceiling_thread {
    struct ceiling_run *run;
    pthread_t tid;
    uint64_t scans, bytes, cpu_ns, clean, infected, errors;
    int failed; /* errno of a setup failure */
};

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void files_free(struct ceiling_file *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i].data);
    free(f);
}

/* files_read - every regular file of dir not starting with '.', in name
 * order, into memory (CEILING_BYTES_MAX at most). */
static int files_read(const char *dir, struct ceiling_run *r)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "sekisho-scand: --ceiling %s: %s\n", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0, n = 0;
    char **names = NULL;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL && n < CEILING_FILES_MAX) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            char **p = realloc(names, ncap * sizeof(*p));
            if (p == NULL) {
                rc = -1;
                break;
            }
            names = p;
            cap = ncap;
        }
        if ((names[n] = strdup(de->d_name)) == NULL) {
            rc = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (rc == 0 && n > 0)
        qsort(names, n, sizeof(*names), by_name);
    r->files = rc == 0 ? calloc(n ? n : 1, sizeof(*r->files)) : NULL;
    uint64_t total = 0;
    int dfd = rc == 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd < 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && r->files && i < n; i++) {
        int f = openat(dfd, names[i], O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (f < 0 || fstat(f, &st) < 0 || !S_ISREG(st.st_mode)) {
            if (f >= 0)
                close(f);
            continue; /* a subdirectory or a file gone: not content */
        }
        size_t len = (size_t)st.st_size;
        total += len;
        char *data = len ? malloc(len) : NULL;
        if (total > CEILING_BYTES_MAX || (len && data == NULL) ||
            (len && spoolfile_read_at(f, data, len, 0) != 0)) {
            fprintf(stderr, "sekisho-scand: --ceiling %s/%s: %s\n", dir, names[i],
                    total > CEILING_BYTES_MAX ? "more than 4 GiB of files" : strerror(errno));
            free(data);
            close(f);
            rc = -1;
            break;
        }
        close(f);
        r->files[r->nfiles].data = data;
        r->files[r->nfiles].len = len;
        r->nfiles++;
        if (len > r->max_len)
            r->max_len = len;
    }
    if (dfd >= 0)
        close(dfd);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc == 0 && r->files == NULL)
        rc = -1;
    if (rc == 0 && r->nfiles == 0) {
        fprintf(stderr, "sekisho-scand: --ceiling %s: no regular file\n", dir);
        rc = -1;
    }
    return rc;
}

/* content - the scan's content into buf: file number k % nfiles with the
 * nonce (run, k) over its head. */
static size_t content(struct ceiling_run *r, uint64_t k, char *buf)
{
    const struct ceiling_file *f = &r->files[k % r->nfiles];
    if (f->len)
        memcpy(buf, f->data, f->len);
    if (r->o->stamp) {
        char nonce[CEILING_NONCE_LEN];
        memcpy(nonce, &r->nonce_run, 8);
        memcpy(nonce + 8, &k, 8);
        memcpy(buf, nonce, f->len < sizeof(nonce) ? f->len : sizeof(nonce));
    }
    return f->len;
}

static void *ceiling_thread_main(void *arg)
{
    struct ceiling_thread *t = arg;
    struct ceiling_run *r = t->run;
    char *buf = malloc(r->max_len ? r->max_len : 1);
    int memfd = r->bare ? -1 : memfd_create("sekisho-ceiling", MFD_CLOEXEC);
    if (buf == NULL || (!r->bare && memfd < 0)) {
        t->failed = errno ? errno : ENOMEM;
        free(buf);
        return NULL;
    }
    struct scanreq_request req;
    memset(&req, 0, sizeof(req));
    req.type = SCANREQ_T_SCAN;
    req.timeout_ms = CEILING_TIMEOUT_MS;
    struct scanreq_reply rep;
    while (clock_ns(CLOCK_MONOTONIC) < r->deadline_ns) {
        uint64_t k = atomic_fetch_add(&r->next, 1);
        if (!r->o->stamp && k >= r->first + r->nfiles)
            break;
        size_t len = content(r, k, buf);
        int verdict;
        uint64_t c0;
        if (r->bare) {
            c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            verdict = engine_scan_bare(r->engine, buf, len);
        } else {
            if (ftruncate(memfd, (off_t)len) < 0 ||
                (len && pwrite(memfd, buf, len, 0) != (ssize_t)len)) {
                t->failed = errno;
                break;
            }
            req.id = k;
            c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
            engine_scan(r->engine, memfd, &req, ENGINE_SCAN_FMAP, NULL, &rep);
            verdict = rep.verdict == SCANREQ_CLEAN ? 0 : rep.verdict == SCANREQ_INFECTED ? 1 : -1;
        }
        t->cpu_ns += clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        t->scans++;
        t->bytes += len;
        if (verdict == 0)
            t->clean++;
        else if (verdict == 1)
            t->infected++;
        else
            t->errors++;
    }
    if (memfd >= 0)
        close(memfd);
    free(buf);
    engine_thread_done();
    return NULL;
}

static int run_path(struct ceiling_run *r, bool bare)
{
    const struct ceiling_options *o = r->o;
    struct ceiling_thread *t = calloc(o->threads, sizeof(*t));
    if (t == NULL)
        return 2;
    r->bare = bare;
    /* next is not reset: the second path's nonces go on from the first's,
     * or its scans would be of contents the clean cache has just seen. */
    r->first = atomic_load(&r->next);
    if (bare)
        engine_bare_begin(r->engine);
    if (o->started)
        o->started(o->dir);
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    r->deadline_ns = t0 + (uint64_t)(o->seconds * 1e9);
    unsigned started = 0;
    int rc = 0;
    for (; started < o->threads; started++) {
        t[started].run = r;
        int err = pthread_create(&t[started].tid, NULL, ceiling_thread_main, &t[started]);
        if (err != 0) {
            fprintf(stderr, "sekisho-scand: --ceiling: thread: %s\n", strerror(err));
            r->deadline_ns = 0;
            rc = 2;
            break;
        }
    }
    struct ceiling_thread sum = {0};
    for (unsigned i = 0; i < started; i++) {
        pthread_join(t[i].tid, NULL);
        if (t[i].failed) {
            fprintf(stderr, "sekisho-scand: --ceiling: %s\n", strerror(t[i].failed));
            rc = 2;
        }
        sum.scans += t[i].scans;
        sum.bytes += t[i].bytes;
        sum.cpu_ns += t[i].cpu_ns;
        sum.clean += t[i].clean;
        sum.infected += t[i].infected;
        sum.errors += t[i].errors;
    }
    double secs = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
    free(t);
    printf("ceiling: path=%s threads=%u files=%zu avg_bytes=%.0f scans=%llu seconds=%.2f "
           "scans_per_s=%.1f MB_per_s=%.1f cpu_us_per_scan=%.1f clean=%llu infected=%llu "
           "errors=%llu dir=%s\n",
           bare ? "bare" : "engine", o->threads, r->nfiles,
           sum.scans ? (double)sum.bytes / (double)sum.scans : 0.0, (unsigned long long)sum.scans,
           secs, secs > 0 ? (double)sum.scans / secs : 0.0,
           secs > 0 ? (double)sum.bytes / secs / 1e6 : 0.0,
           sum.scans ? (double)sum.cpu_ns / (double)sum.scans / 1e3 : 0.0,
           (unsigned long long)sum.clean, (unsigned long long)sum.infected,
           (unsigned long long)sum.errors, o->dir);
    fflush(stdout);
    /* After the line: a served scan that waited is answered after it. */
    if (bare)
        engine_bare_end(r->engine);
    return rc;
}

int scand_ceiling_run(const struct ceiling_options *o, struct engine *e)
{
    if (o->threads == 0 || o->threads > SCAN_POOL_THREADS_MAX || o->seconds <= 0 ||
        (!o->path_bare && !o->path_engine) || (!o->stamp && o->path_bare && o->path_engine)) {
        fprintf(stderr, "sekisho-scand: --ceiling: bad options (--stamp none takes one path)\n");
        return 2;
    }
    struct ceiling_run r;
    memset(&r, 0, sizeof(r));
    r.engine = e;
    r.o = o;
    if (files_read(o->dir, &r) < 0) {
        files_free(r.files, r.nfiles);
        return 2;
    }
    if (getrandom(&r.nonce_run, sizeof(r.nonce_run), 0) != (ssize_t)sizeof(r.nonce_run))
        r.nonce_run = clock_ns(CLOCK_REALTIME) ^ (uint64_t)getpid();
    int rc = 0;
    if (o->path_bare)
        rc = run_path(&r, true);
    if (rc == 0 && o->path_engine)
        rc = run_path(&r, false);
    files_free(r.files, r.nfiles);
    return rc;
}
