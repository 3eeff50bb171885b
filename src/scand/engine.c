/* engine - libclamav engines for sekisho-scand (see engine.h).
 *
 * Detection names are collected with the virus-found callback in
 * all-match mode, so that a PUA or heuristic alert does not hide a virus
 * in the same archive and a PUA the request does not want reported does
 * not end the scan. Classification (engine_classify) then picks the
 * verdict: a virus first, then reportable riskware, then the policy
 * names of block_encrypted / block_maxnested / block_scantimeout.
 *
 * Per-request deadline: MAX_SCANTIME is engine-wide, so each scan keeps
 * its own deadline in the callback context. The file-inspection callback,
 * which libclamav calls for the file and for every new object it extracts
 * (archive member, nested archive, decompressed stream, embedded file),
 * compares the clock with it; past the deadline it blocks that object,
 * which ends the whole scan at once (see cb_file_inspection). Granularity
 * is therefore one object: the time to scan the largest single object,
 * e.g. a 100 MB member at ~600 MB/s is ~0.2 s, is not interrupted; the
 * engine-wide CLAM_MAX_SCANTIME_MS backstop covers that case.
 */
#include "scand/engine.h"
#include "scand/engine_decode.h"

#include <clamav.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/engine_mark.h"
#include "lib/spoolfile.h"
#include "lib/str.h"
#include "proto/db_version.h"
#include "scand/scand_log.h"

#define ENGINE_NAMES_MAX 32 /* detection names kept per scan (all-match) */
#define ENGINE_NAME_LEN  256
/* What libclamav calls an object our callback blocked (the deadline). */
#define ENGINE_CALLBACK_NAME "Detected.By.Callback"

struct engine {
    struct cl_engine *cl;
    unsigned refs; /* guarded by the owning slot's mutex, or single-threaded */
    uint64_t signatures;
    double load_ms;
    uint64_t id;        /* random per compiled engine: SCAN replies carry it */
    uint64_t loaded_at; /* unix s */
    size_t ndbs;
    struct db_version_entry dbs[DB_VERSION_ENTRIES_MAX]; /* the directory at load time */
    /* libclamav's callbacks are engine-wide plain assignments: a served
     * scan (read side) never runs while the ceiling's bare loop has them
     * off (write side, engine_bare_begin). Writers first, so a measurement
     * asked for while scans go on still starts. */
    pthread_rwlock_t scan_lock;
};

struct scan_ctx {
    uint64_t deadline_ns;      /* CLOCK_MONOTONIC; 0 = none */
    const atomic_bool *cancel; /* set by the server when the requester has gone; may be NULL */
    bool timed_out;
    bool oversize; /* only a leading window of the file was scanned */
    bool cancelled;
    size_t count;
    char names[ENGINE_NAMES_MAX][ENGINE_NAME_LEN];
};

static pthread_mutex_t engine_refs_mu = PTHREAD_MUTEX_INITIALIZER;

/* Set once at start, before any scanner thread exists. */
static uint64_t max_filesize = CLAM_MAX_FILESIZE;

void engine_set_max_filesize(uint64_t bytes)
{
    max_filesize = bytes > 0 && bytes < CLAM_MAX_FILESIZE ? bytes : CLAM_MAX_FILESIZE;
}

uint64_t engine_max_filesize(void)
{
    return max_filesize;
}

const char *engine_scan_mode_name(enum engine_scan_mode m)
{
    switch (m) {
    case ENGINE_SCAN_FMAP:
        return "fmap";
    case ENGINE_SCAN_DESC:
        return "desc";
    }
    return "mode_???";
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- callbacks ------------------------------------------------------------ */

/* should_stop - the deadline has passed or nobody waits for the verdict
 * any more. Checked from every callback libclamav offers during a scan,
 * so that a hostile archive cannot hold a scanner thread for longer than
 * the time it takes to reach the next object or member. */
static bool should_stop(struct scan_ctx *c)
{
    if (c == NULL)
        return false;
    if (c->timed_out || c->cancelled)
        return true;
    if (c->cancel != NULL && atomic_load_explicit(c->cancel, memory_order_relaxed)) {
        c->cancelled = true;
        return true;
    }
    if (c->deadline_ns != 0 && now_ns() >= c->deadline_ns) {
        c->timed_out = true;
        return true;
    }
    return false;
}

static cl_error_t cb_file_inspection(int fd, const char *type, const char **ancestors,
                                     size_t parent_file_size, const char *file_name,
                                     size_t file_size, const char *file_buffer,
                                     uint32_t recursion_level, uint32_t layer_attributes,
                                     void *context)
{
    (void)fd;
    (void)type;
    (void)ancestors;
    (void)parent_file_size;
    (void)file_name;
    (void)file_size;
    (void)file_buffer;
    (void)recursion_level;
    (void)layer_attributes;
    if (should_stop(context)) {
        /* CL_VIRUS ("blocked by callback") ends the scan at once, even in
         * all-match mode, and a blocked object never enters libclamav's
         * clean cache. CL_BREAK ("allowed") would also end it, but the
         * file would then be cached as clean and a later scan of the same
         * bytes with a longer deadline would come back CLEAN unscanned
         * (measured with many_members.zip). The name libclamav records
         * for it (ENGINE_CALLBACK_NAME) is ours and engine_classify drops
         * it. */
        return CL_VIRUS;
    }
    return CL_CLEAN;
}

/* cb_pre_scan - before each object's own scan (also for objects too
 * small or too deep to get a file-inspection call). */
static cl_error_t cb_pre_scan(int fd, const char *type, void *context)
{
    (void)fd;
    (void)type;
    return should_stop(context) ? CL_VIRUS : CL_CLEAN;
}

/* cb_meta - for each member an archive parser lists, before extracting it:
 * the only callback inside the member loop of zip, rar, 7z, cab ... (a
 * 20,000-member zip gives 20,000 calls), so the deadline and a gone
 * requester are seen between members, not only after the listing. */
static cl_error_t cb_meta(const char *container_type, unsigned long fsize_container,
                          const char *filename, unsigned long fsize_real, int is_encrypted,
                          unsigned int filepos_container, void *context)
{
    (void)container_type;
    (void)fsize_container;
    (void)filename;
    (void)fsize_real;
    (void)is_encrypted;
    (void)filepos_container;
    return should_stop(context) ? CL_VIRUS : CL_CLEAN;
}

static void cb_virus_found(int fd, const char *virname, void *context)
{
    (void)fd;
    struct scan_ctx *c = context;
    if (c == NULL || virname == NULL || c->count >= ENGINE_NAMES_MAX)
        return;
    str_copy(c->names[c->count++], ENGINE_NAME_LEN, virname);
}

/* ---- load ---------------------------------------------------------------- */

/* Where libclamav writes what it extracts; "" = its default ($TMPDIR or
 * /tmp). Set once before the first engine_load. */
static char engine_tmpdir[4096];

const char *engine_tmpdir_path(void)
{
    return engine_tmpdir;
}

int engine_set_tmpdir(const char *dir)
{
    if (str_copy(engine_tmpdir, sizeof(engine_tmpdir), dir) >= sizeof(engine_tmpdir)) {
        engine_tmpdir[0] = '\0';
        return -1;
    }
    return 0;
}

/* set_callbacks - ours on (every served scan) or off (the ceiling's bare
 * loop only, under the write side of scan_lock). */
static void set_callbacks(struct engine *e, bool on)
{
    cl_engine_set_clcb_virus_found(e->cl, on ? cb_virus_found : NULL);
    cl_engine_set_clcb_file_inspection(e->cl, on ? cb_file_inspection : NULL);
    cl_engine_set_clcb_pre_scan(e->cl, on ? cb_pre_scan : NULL);
    cl_engine_set_clcb_meta(e->cl, on ? cb_meta : NULL);
}

struct engine *engine_load(const char *dir, bool clean_cache, char *err, size_t errcap)
{
    uint64_t t0 = now_ns();
    struct engine *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    const struct clam_engine_opts opts = {
        .max_filesize = max_filesize, .tmpdir = engine_tmpdir, .clean_cache = clean_cache};
    e->cl = clam_engine_load(dir, &opts, &e->signatures, err, errcap);
    if (e->cl == NULL) {
        free(e);
        return NULL;
    }
    pthread_rwlockattr_t la;
    pthread_rwlockattr_init(&la);
    pthread_rwlockattr_setkind_np(&la, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&e->scan_lock, &la);
    pthread_rwlockattr_destroy(&la);
    /* Plain assignments in libclamav (no recompile needed); they are ours,
     * not part of the load dbupdate verifies. */
    set_callbacks(e, true);
    e->refs = 1;
    if (getrandom(&e->id, sizeof(e->id), GRND_NONBLOCK) != (ssize_t)sizeof(e->id))
        e->id = now_ns() ^ ((uint64_t)getpid() << 32);
    e->id |= 1; /* never 0, which a proxy reads as "unknown" */
    e->loaded_at = (uint64_t)time(NULL);
    e->load_ms = (double)(now_ns() - t0) / 1e6; /* load and compile, as bench/ reports it */
    /* The directory as it is now, just after the load: dbupdate swaps a
     * whole verified directory in before it asks for a reload, so what is
     * listed is what was loaded. */
    char why[ENGINE_ERROR_MAX];
    if (clam_db_list(dir, e->dbs, DB_VERSION_ENTRIES_MAX, &e->ndbs, why, sizeof(why)) < 0)
        scand_log("cannot list the definitions (the engine serves): %s", why);
    return e;
}

int engine_set_clean_cache(struct engine *e, bool on)
{
    return cl_engine_set_num(e->cl, CL_ENGINE_DISABLE_CACHE, on ? 0 : 1) == CL_SUCCESS ? 0 : -1;
}

void engine_ref(struct engine *e)
{
    pthread_mutex_lock(&engine_refs_mu);
    e->refs++;
    pthread_mutex_unlock(&engine_refs_mu);
}

static void engine_free(struct engine *e)
{
    pthread_rwlock_destroy(&e->scan_lock);
    clam_engine_free(e->cl);
    free(e);
}

void engine_unref(struct engine *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&engine_refs_mu);
    bool last = --e->refs == 0;
    pthread_mutex_unlock(&engine_refs_mu);
    if (last)
        engine_free(e);
}

uint64_t engine_signatures(const struct engine *e)
{
    return e->signatures;
}

double engine_load_ms(const struct engine *e)
{
    return e->load_ms;
}

void engine_describe(const struct engine *e, struct scanreq_version *v)
{
    memset(v, 0, sizeof(*v));
    v->engine_id = e->id;
    v->loaded_at = e->loaded_at;
    v->signatures = e->signatures;
    str_copy(v->libclamav, sizeof(v->libclamav), clam_version());
    v->count = e->ndbs;
    memcpy(v->dbs, e->dbs, e->ndbs * sizeof(e->dbs[0]));
}

void engine_log_definitions(const struct engine *e)
{
    for (size_t i = 0; i < e->ndbs; i++) {
        char line[DB_VERSION_LINE_MAX];
        db_version_format(&e->dbs[i], line, sizeof(line));
        scand_log("definitions loaded: %s", line);
    }
    scand_log("definitions in service: engine=%016llx signatures=%llu databases=%zu "
              "libclamav=%s",
              (unsigned long long)e->id, (unsigned long long)e->signatures, e->ndbs,
              clam_version());
}

/* ---- scan ---------------------------------------------------------------- */

static struct str strip_unofficial(const char *name)
{
    static const struct str suffix = {".UNOFFICIAL", 11};
    struct str s = str_from_cstr(name);
    if (s.len >= suffix.len && memcmp(s.ptr + s.len - suffix.len, suffix.ptr, suffix.len) == 0)
        s.len -= suffix.len;
    return s;
}

/* engine_classify - names collected from one scan (plus the time-out
 * state) to verdict, details and detection name. */
static void engine_classify(const struct scan_ctx *c, const struct scanreq_request *req,
                            struct scanreq_reply *rep)
{
    static const struct str encrypted = {"Heuristics.Encrypted.", 21};
    static const struct str limits = {"Heuristics.Limits.Exceeded.", 27};
    static const struct str pua = {"PUA.", 4};
    static const struct str ours = {ENGINE_CALLBACK_NAME, sizeof(ENGINE_CALLBACK_NAME) - 1};
    char virus[ENGINE_NAME_LEN] = "", riskware[SCANREQ_RISKWARE_NAME_MAX + 1] = "";
    uint32_t details =
        (c->timed_out ? SCANREQ_VSD_SCANTIMEOUT : 0) | (c->oversize ? SCANREQ_VSD_OVERSIZE : 0);

    for (size_t i = 0; i < c->count; i++) {
        struct str n = strip_unofficial(c->names[i]);
        if ((c->timed_out || c->cancelled) && str_has_prefix(n, ours)) {
            continue; /* the deadline (already in details) or the abandon */
        } else if (str_has_prefix(n, encrypted)) {
            details |= SCANREQ_VSD_ENCRYPTED;
        } else if (str_has_prefix(n, limits)) {
            struct str which = str_make(n.ptr + limits.len, n.len - limits.len);
            if (str_eq_cstr(which, "MaxRecursion"))
                details |= SCANREQ_VSD_MAXNESTED;
            else if (str_eq_cstr(which, "MaxScanTime"))
                details |= SCANREQ_VSD_SCANTIMEOUT;
            else if (str_eq_cstr(which, "MaxFiles"))
                details |= SCANREQ_VSD_MAXFILES | SCANREQ_VSD_OVERSIZE;
            else /* MaxFileSize, MaxScanSize: something was not scanned */
                details |= SCANREQ_VSD_OVERSIZE;
            scand_log_debug("id=%llu limit %.*s", (unsigned long long)req->id, (int)n.len, n.ptr);
        } else if (str_has_prefix(n, pua)) {
            char mapped[SCANREQ_RISKWARE_NAME_MAX + 1];
            if (!(req->flags & SCANREQ_RF_RISKWARE) || riskware[0] != '\0' ||
                !scanreq_riskware_from_clamav(c->names[i], mapped, sizeof(mapped)))
                continue;
            if (!scanreq_riskware_match(str_from_cstr(req->patterns), str_from_cstr(mapped)))
                str_copy(riskware, sizeof(riskware), mapped);
        } else if (virus[0] == '\0') {
            str_copy_view(virus, sizeof(virus), n);
        }
    }
    rep->details = details;
    const char *name = NULL;
    if (virus[0] != '\0')
        name = virus;
    else if (riskware[0] != '\0')
        name = riskware;
    else if ((details & SCANREQ_VSD_ENCRYPTED) && (req->flags & SCANREQ_RF_BLOCK_ENCRYPTED))
        name = SCANREQ_NAME_BLOCK_ENCRYPTED;
    else if ((details & SCANREQ_VSD_MAXNESTED) && (req->flags & SCANREQ_RF_BLOCK_MAXNESTED))
        name = SCANREQ_NAME_BLOCK_MAXNESTED;
    else if ((details & SCANREQ_VSD_SCANTIMEOUT) && (req->flags & SCANREQ_RF_BLOCK_SCANTIMEOUT))
        name = SCANREQ_NAME_BLOCK_SCANTIMEOUT;
    else if ((details & SCANREQ_VSD_OVERSIZE) && (req->flags & SCANREQ_RF_BLOCK_OVERSIZE))
        name = SCANREQ_NAME_BLOCK_OVERSIZE;
    rep->verdict = name ? SCANREQ_INFECTED : SCANREQ_CLEAN;
    str_copy(rep->name, sizeof(rep->name), name ? name : "");
}

/* scan_options - what every scan asks of libclamav: the daemon's and the
 * ceiling's bare loop's (engine_scan_bare) alike. */
static void scan_options(struct cl_scan_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->parse = ~0u; /* every format libclamav knows, as clamscan does */
    opts->general = CL_SCAN_GENERAL_ALLMATCHES | CL_SCAN_GENERAL_HEURISTICS;
    opts->heuristic = CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_EXCEEDS_MAX;
}

int engine_scan_bare(struct engine *e, const void *buf, size_t len)
{
    struct cl_scan_options opts;
    scan_options(&opts);
    cl_fmap_t *fm = cl_fmap_open_memory(buf, len);
    if (fm == NULL)
        return -1;
    const char *vname = NULL;
    unsigned long scanned = 0;
    cl_error_t rc = cl_scanmap_callback(fm, NULL, &vname, &scanned, e->cl, &opts, NULL);
    cl_fmap_close(fm);
    return rc == CL_CLEAN ? 0 : rc == CL_VIRUS ? 1 : -1;
}

void engine_bare_begin(struct engine *e)
{
    pthread_rwlock_wrlock(&e->scan_lock);
    set_callbacks(e, false);
}

void engine_bare_end(struct engine *e)
{
    set_callbacks(e, true);
    pthread_rwlock_unlock(&e->scan_lock);
}

static void scan_error(struct scanreq_reply *rep, const char *what, int err)
{
    rep->verdict = SCANREQ_ERROR;
    rep->name[0] = '\0';
    if (err)
        snprintf(rep->error, sizeof(rep->error), "%s: %s", what, strerror(err));
    else
        str_copy(rep->error, sizeof(rep->error), what);
}

/* The copy buffer of a scanning thread: created on its first small
 * scan, freed when the thread ends (the key's destructor) or by
 * engine_thread_done. */
struct copy_buf {
    char *p;
    size_t cap;
};

static pthread_key_t copy_key;
static pthread_once_t copy_once = PTHREAD_ONCE_INIT;

static void copy_buf_free(void *arg)
{
    struct copy_buf *b = arg;
    if (b) {
        free(b->p);
        free(b);
    }
}

static void copy_key_create(void)
{
    (void)pthread_key_create(&copy_key, copy_buf_free);
}

void engine_thread_done(void)
{
    pthread_once(&copy_once, copy_key_create);
    copy_buf_free(pthread_getspecific(copy_key));
    pthread_setspecific(copy_key, NULL);
}

/* read_small - the whole file into the calling thread's copy buffer
 * (kept for the thread's life, grown up to ENGINE_COPY_MAX); MAP_FAILED
 * when it cannot be read whole. */
static void *read_small(int fd, size_t size)
{
    pthread_once(&copy_once, copy_key_create);
    struct copy_buf *b = pthread_getspecific(copy_key);
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b || pthread_setspecific(copy_key, b) != 0) {
            free(b);
            return MAP_FAILED;
        }
    }
    if (size > b->cap) {
        size_t want = size < 65536 ? 65536 : size;
        char *p = realloc(b->p, want);
        if (!p)
            return MAP_FAILED;
        b->p = p;
        b->cap = want;
    }
    return spoolfile_read_at(fd, b->p, size, 0) == 0 ? b->p : MAP_FAILED;
}

void engine_scan(struct engine *e, int fd, const struct scanreq_request *req,
                 enum engine_scan_mode mode, const atomic_bool *cancel, struct scanreq_reply *rep)
{
    uint64_t t0 = now_ns();
    memset(rep, 0, sizeof(*rep));
    rep->type = SCANREQ_T_SCAN;
    rep->id = req->id;
    rep->engine_id = e->id;

    /* A descriptor we cannot read must never come back CLEAN: libclamav
     * would see an empty file. Check access mode and type first. */
    struct stat st;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fstat(fd, &st) < 0) {
        scan_error(rep, "bad descriptor", errno);
        goto out;
    }
    if ((fl & O_ACCMODE) == O_WRONLY) {
        scan_error(rep, "descriptor not open for reading", 0);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        scan_error(rep, "descriptor is not a regular file", 0);
        goto out;
    }
    /* A file read whole into the thread's buffer below (a small one in
     * the fmap mode) shows it is readable then; the others are probed. */
    bool small = mode == ENGINE_SCAN_FMAP && st.st_size > 0 && st.st_size <= ENGINE_COPY_MAX &&
                 req->encoding == 0;
    char probe;
    if (!small && st.st_size > 0 && pread(fd, &probe, 1, 0) != 1) {
        scan_error(rep, "descriptor not readable", errno);
        goto out;
    }

    /* libclamav that cannot create its per-scan directory skips what it
     * would extract and answers CLEAN (measured: EICAR came back CLEAN
     * with a tmpdir the scanning user could not enter). Not CLEAN: ERROR. */
    if (engine_tmpdir[0] != '\0' && access(engine_tmpdir, W_OK | X_OK) < 0) {
        scan_error(rep, "temporary directory not writable", errno);
        goto out;
    }
    int decoded = -1;
    if (req->encoding != 0) {
        /* Item 7 of issue 10: scan what the client's decoder will see. A
         * body that cannot be decoded whole is blocked, never CLEAN. */
        char why[160];
        decoded = engine_decode(fd, req->encoding, CLAM_MAX_FILESIZE, why, sizeof(why));
        if (decoded < 0 || fstat(decoded, &st) < 0) {
            if (decoded >= 0)
                close(decoded);
            rep->verdict = SCANREQ_INFECTED;
            rep->details = SCANREQ_VSD_UNDECODED;
            str_copy(rep->name, sizeof(rep->name), SCANREQ_NAME_BLOCK_ENCODING);
            snprintf(rep->error, sizeof(rep->error), "%s", why);
            goto out;
        }
        fd = decoded;
    }

    struct scan_ctx *ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        if (decoded >= 0)
            close(decoded);
        scan_error(rep, "out of memory", 0);
        goto out;
    }
    if (req->timeout_ms > 0)
        ctx->deadline_ns = t0 + (uint64_t)req->timeout_ms * 1000000ull;
    ctx->cancel = cancel;

    struct cl_scan_options opts;
    scan_options(&opts);

    const char *vname = NULL;
    unsigned long scanned = 0;
    const char *fname = req->filename[0] ? req->filename : NULL;
    cl_error_t rc = CL_EMAP;
    void *map = MAP_FAILED;
    size_t size = (size_t)st.st_size;
    if ((uint64_t)st.st_size > max_filesize) {
        /* Issue 10, item 8: libclamav skips a file over its limit and
         * calls it clean. Scan the leading window it can take (mapped,
         * whatever the mode) and say the rest was not scanned. */
        ctx->oversize = true;
        size = (size_t)max_filesize;
    }
    bool copied = false;
    if (mode == ENGINE_SCAN_FMAP && size > 0 && size <= ENGINE_COPY_MAX) {
        /* Small files are read into this thread's buffer: unmapping a
         * mapping costs a TLB shootdown on every CPU (190 us a scan on our
         * VMs, more than scanning 60 KB), a pread of it 10 us. */
        map = read_small(fd, size);
        copied = map != MAP_FAILED;
        if (!copied && small) {
            /* Not probed above: unreadable (or no memory for the buffer). */
            free(ctx);
            scan_error(rep, "descriptor not readable", errno);
            goto out;
        }
    }
    if ((mode == ENGINE_SCAN_FMAP || ctx->oversize) && size > 0 && map == MAP_FAILED)
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    pthread_rwlock_rdlock(&e->scan_lock); /* our callbacks are on */
    if (map != MAP_FAILED) {
        cl_fmap_t *fm = cl_fmap_open_memory(map, size);
        if (fm != NULL) {
            rc = cl_scanmap_callback(fm, fname, &vname, &scanned, e->cl, &opts, ctx);
            cl_fmap_close(fm);
        } else {
            rc = cl_scandesc_callback(fd, fname, &vname, &scanned, e->cl, &opts, ctx);
        }
        if (!copied)
            munmap(map, size);
    } else {
        rc = cl_scandesc_callback(fd, fname, &vname, &scanned, e->cl, &opts, ctx);
    }
    pthread_rwlock_unlock(&e->scan_lock);

    if (rc == CL_ETIMEOUT)
        ctx->timed_out = true;
    if (rc == CL_VIRUS && ctx->count == 0 && vname != NULL) {
        /* Defensive: a detection the callback did not see. */
        str_copy(ctx->names[0], ENGINE_NAME_LEN, vname);
        ctx->count = 1;
    }
    engine_classify(ctx, req, rep);
    if (ctx->timed_out)
        scand_log("id=%llu scan stopped at its deadline of %u ms after %llu ms",
                  (unsigned long long)req->id, (unsigned)req->timeout_ms,
                  (unsigned long long)((now_ns() - t0) / 1000000));
    if (ctx->cancelled) {
        /* Nobody will read the verdict; the thread is free again. Never
         * CLEAN: the object that was blocked was not scanned. */
        scand_log("id=%llu scan abandoned after %llu ms: the requester has gone",
                  (unsigned long long)req->id, (unsigned long long)((now_ns() - t0) / 1000000));
        snprintf(rep->error, sizeof(rep->error), "scan abandoned: the requester has gone");
        rep->verdict = SCANREQ_ERROR;
        rep->name[0] = '\0';
    } else if (rc != CL_CLEAN && rc != CL_VIRUS && rc != CL_ETIMEOUT &&
               rep->verdict != SCANREQ_INFECTED) {
        /* The scan did not complete and found nothing: not CLEAN. */
        uint32_t details = rep->details;
        snprintf(rep->error, sizeof(rep->error), "scan failed: %s", cl_strerror(rc));
        rep->verdict = SCANREQ_ERROR;
        rep->details = details;
    }
    free(ctx);
    if (decoded >= 0)
        close(decoded);
out:
    rep->scan_us = (now_ns() - t0) / 1000;
}

/* ---- slot and reload ----------------------------------------------------- */

int engine_slot_set_mark(struct engine_slot *s, const char *path)
{
    str_copy(s->mark, sizeof(s->mark), path);
    pthread_mutex_lock(&s->mu);
    uint64_t id = s->cur ? s->cur->id : 0;
    pthread_mutex_unlock(&s->mu);
    return engine_mark_write(s->mark, id);
}

void engine_slot_init(struct engine_slot *s, struct engine *first, const char *dir,
                      engine_reload_done_fn *done, void *done_arg)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->released, NULL);
    s->cur = first;
    str_copy(s->dir, sizeof(s->dir), dir);
    s->done = done;
    s->done_arg = done_arg;
    s->last.ok = true;
    s->last.signatures = first ? first->signatures : 0;
    s->last.load_ms = first ? first->load_ms : 0;
}

struct engine *engine_slot_acquire(struct engine_slot *s)
{
    pthread_mutex_lock(&s->mu);
    struct engine *e = s->cur;
    engine_ref(e);
    pthread_mutex_unlock(&s->mu);
    return e;
}

void engine_slot_release(struct engine_slot *s, struct engine *e)
{
    /* The reload thread holds the last reference of a retired engine and
     * frees it itself, so a scanner thread never pays for cl_engine_free. */
    engine_unref(e);
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->released);
    pthread_mutex_unlock(&s->mu);
}

static unsigned engine_refs(struct engine *e)
{
    pthread_mutex_lock(&engine_refs_mu);
    unsigned n = e->refs;
    pthread_mutex_unlock(&engine_refs_mu);
    return n;
}

static void *reload_main(void *arg)
{
    struct engine_slot *s = arg;
    struct engine_reload_result res;
    memset(&res, 0, sizeof(res));
    /* This thread runs on the CPU time the scanners leave idle
     * (SCHED_IDLE, this thread only; it also frees the old engine below).
     * At their priority, compiling the full-scale database took a CPU from
     * them for seconds: on 2 CPUs at 70% load the queue grew and p99 scan
     * latency went from about 20 ms to 0.09-1.8 s (docs/bench.md,
     * "Definition reload"). Nice 19 was not enough (2.1-2.6x at 70%, a
     * growing queue at 85%): a nice-19 thread keeps a share of the CPU and
     * its CPU counts as busy when the kernel places a waking thread, while
     * a SCHED_IDLE thread is preempted at once by a waking scanner and its
     * CPU counts as idle. The price is a longer reload under load (7 s ->
     * 10-23 s); with the scanners saturated it takes about 40 s, as with
     * nice 19 (they leave moments idle, waiting for the disk). */
    struct sched_param idle = {.sched_priority = 0};
    int prc = pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
    if (prc != 0)
        scand_log("reload at normal priority: SCHED_IDLE refused: %s", strerror(prc));
    scand_log("reloading definitions from %s", s->dir);
    struct engine *fresh = engine_load(s->dir, true, res.error, sizeof(res.error));
    struct engine *old = NULL;
    pthread_mutex_lock(&s->mu);
    if (fresh != NULL) {
        old = s->cur;
        s->cur = fresh; /* atomic for scans: they take s->cur under s->mu */
        res.ok = true;
        res.load_ms = fresh->load_ms;
    }
    res.signatures = s->cur->signatures;
    pthread_mutex_unlock(&s->mu);
    if (fresh != NULL) {
        /* fresh cannot be retired before s->reloading is cleared below. */
        engine_log_definitions(fresh);
        if (s->mark[0] && engine_mark_write(s->mark, fresh->id) != 0)
            scand_log("cannot write %s: %s (proxies forget cached verdicts only after 60 s)",
                      s->mark, strerror(errno));
        scand_log("reload done: loaded %llu signatures from %s in %.0f ms",
                  (unsigned long long)res.signatures, s->dir, res.load_ms);
    } else {
        scand_log("reload failed, keeping the engine in service (%llu signatures): %s",
                  (unsigned long long)res.signatures, res.error);
    }

    /* Tell the server now: the swap is done; retiring the old engine
     * below must not delay the replies. */
    pthread_mutex_lock(&s->mu);
    s->last = res;
    s->reloading = false;
    pthread_cond_broadcast(&s->released); /* the watchdog, see reload_watch_main */
    pthread_mutex_unlock(&s->mu);
    if (s->done)
        s->done(s->done_arg);

    if (old != NULL) {
        pthread_mutex_lock(&s->mu);
        while (engine_refs(old) > 1)
            pthread_cond_wait(&s->released, &s->mu);
        pthread_mutex_unlock(&s->mu);
        engine_unref(old);
        scand_log_debug("old engine freed");
    }
    pthread_mutex_lock(&s->mu);
    s->threads--;
    pthread_cond_broadcast(&s->released);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* A reload runs at SCHED_IDLE (reload_main); after this long it goes back
 * to normal priority: scanners that never leave a CPU idle would otherwise
 * keep new definitions out for as long as the load lasts. Measured: 10-23 s
 * at 70% load, about 40 s with the scanners saturated (docs/bench.md,
 * "Definition reload"). */
#ifndef ENGINE_RELOAD_IDLE_MAX_S /* overridable for a manual check of the watchdog */
#define ENGINE_RELOAD_IDLE_MAX_S 60
#endif

struct reload_watch {
    struct engine_slot *slot;
    pthread_t thread; /* the reload thread; alive while slot->reloading (cleared under mu) */
    uint64_t gen;
};

static void *reload_watch_main(void *arg)
{
    struct reload_watch *w = arg;
    struct engine_slot *s = w->slot;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += ENGINE_RELOAD_IDLE_MAX_S;
    pthread_mutex_lock(&s->mu);
    int rc = 0;
    while (s->reloading && s->reload_gen == w->gen && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&s->released, &s->mu, &deadline);
    if (s->reloading && s->reload_gen == w->gen) {
        struct sched_param normal = {.sched_priority = 0};
        int e = pthread_setschedparam(w->thread, SCHED_OTHER, &normal);
        scand_log("reload still running after %d s at idle priority: %s", ENGINE_RELOAD_IDLE_MAX_S,
                  e == 0 ? "now at normal priority" : strerror(e));
    }
    s->threads--;
    pthread_cond_broadcast(&s->released);
    pthread_mutex_unlock(&s->mu);
    free(w);
    return NULL;
}

/* start_watch - the watchdog of reload thread t (none if it cannot be
 * started: the reload then stays at idle priority). */
static void start_watch(struct engine_slot *s, pthread_t t)
{
    struct reload_watch *w = malloc(sizeof(*w));
    if (!w)
        return;
    pthread_mutex_lock(&s->mu);
    *w = (struct reload_watch){.slot = s, .thread = t, .gen = s->reload_gen};
    s->threads++;
    pthread_mutex_unlock(&s->mu);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t wt;
    if (pthread_create(&wt, &attr, reload_watch_main, w) != 0) {
        pthread_mutex_lock(&s->mu);
        s->threads--;
        pthread_cond_broadcast(&s->released);
        pthread_mutex_unlock(&s->mu);
        free(w);
    }
    pthread_attr_destroy(&attr);
}

bool engine_slot_reload(struct engine_slot *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->reloading) {
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    s->reloading = true;
    s->reload_gen++;
    s->threads++;
    pthread_mutex_unlock(&s->mu);
    /* Detached: the event loop never joins (a previous reload thread may
     * still be waiting for the scans of the engine it retired). */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, reload_main, s);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_lock(&s->mu);
        s->reloading = false;
        s->threads--;
        s->last.ok = false;
        snprintf(s->last.error, sizeof(s->last.error), "pthread_create: %s", strerror(rc));
        pthread_mutex_unlock(&s->mu);
        if (s->done)
            s->done(s->done_arg);
        return false;
    }
    start_watch(s, t);
    return true;
}

bool engine_slot_is_reloading(struct engine_slot *s)
{
    pthread_mutex_lock(&s->mu);
    bool r = s->reloading;
    pthread_mutex_unlock(&s->mu);
    return r;
}

struct engine_reload_result engine_slot_last(struct engine_slot *s)
{
    pthread_mutex_lock(&s->mu);
    struct engine_reload_result r = s->last;
    pthread_mutex_unlock(&s->mu);
    return r;
}

void engine_slot_describe(struct engine_slot *s, struct scanreq_version *v)
{
    struct engine *e = engine_slot_acquire(s);
    engine_describe(e, v);
    engine_slot_release(s, e);
}

uint64_t engine_slot_signatures(struct engine_slot *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->cur ? s->cur->signatures : 0;
    pthread_mutex_unlock(&s->mu);
    return n;
}

void engine_slot_fini(struct engine_slot *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->threads > 0)
        pthread_cond_wait(&s->released, &s->mu);
    pthread_mutex_unlock(&s->mu);
    engine_unref(s->cur);
    s->cur = NULL;
    pthread_cond_destroy(&s->released);
    pthread_mutex_destroy(&s->mu);
}
