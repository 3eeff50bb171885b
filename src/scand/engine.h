/* engine - libclamav engines for sekisho-scand: load, scan, swap.
 *
 * What it does: has a definitions directory loaded and compiled into a
 * new cl_engine by clam/clam_db (the load dbupdate verifies with: PUA
 * signatures always loaded, reporting is decided per request; the limits
 * of SCAN-2/SCAN-3), remembers what it was compiled from (the database
 * list, clam_db_list, and the time), and scans one descriptor with the
 * options of one proto/scanreq request, turning libclamav's detections
 * into a scanreq reply (verdict, VSD_* details, detection name). A slot
 * holds the engine in service; a reload compiles a new engine in a
 * background thread and swaps it in atomically, and the old engine is
 * freed by that thread once its last scan has ended.
 *
 * What it owns: the engines (struct engine, refcounted) and the reload
 * thread. It borrows the descriptors it scans (never closes them).
 *
 * What it does not do: no sockets, no queues, no threads other than the
 * reload thread. src/scand/ and src/clam/ are the only code that includes
 * <clamav.h>.
 */
#ifndef SEKISHO_SCAND_ENGINE_H
#define SEKISHO_SCAND_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clam/clam_db.h"
#include "proto/scanreq.h"

/* The limits (CLAM_MAX_RECURSION, CLAM_MAX_FILESIZE ...) are set by
 * clam/clam_db.h's load. */
#define ENGINE_ERROR_MAX CLAM_ERROR_MAX

/* Files up to this size are read into a per-thread buffer instead of
 * being mapped (ENGINE_SCAN_FMAP). */
#define ENGINE_COPY_MAX (1024u * 1024u)

enum engine_scan_mode {
    ENGINE_SCAN_FMAP = 0, /* mmap the file, cl_fmap_open_memory + cl_scanmap_callback */
    ENGINE_SCAN_DESC,     /* cl_scandesc_callback on the descriptor */
};

const char *engine_scan_mode_name(enum engine_scan_mode m);

struct engine;

/* engine_set_max_filesize - libclamav's max file size and max scan size
 * for the engines loaded from now on (scand_max_filesize; at most
 * CLAM_MAX_FILESIZE). Call before the first engine_load. (clam_init, once
 * per process, comes before any engine_load too.) */
void engine_set_max_filesize(uint64_t bytes);
uint64_t engine_max_filesize(void);

/* engine_set_tmpdir - where libclamav writes its temporary files for the
 * engines loaded after this call (the proxies' spool tmpdir: same
 * directory, same free-space check); -1 if the path is too long. */
int engine_set_tmpdir(const char *dir);
/* engine_tmpdir_path - that directory, "" when none was set (the decoded
 * copies of content-coded bodies go there too). */
const char *engine_tmpdir_path(void);

/* engine_load - load and compile every database in dir into a new
 * engine with one reference (clam_engine_load), and list dir's databases
 * for engine_describe (a list that cannot be made is logged and left
 * empty: the engine still serves). NULL with a reason in err on failure.
 * clean_cache=false disables libclamav's cache of clean files (keyed by
 * content hash): the benchmark needs that so repeated scans of one file
 * measure scanning, not a cache hit. */
struct engine *engine_load(const char *dir, bool clean_cache, char *err, size_t errcap);
/* engine_set_clean_cache - switch the clean cache on a compiled engine;
 * for the single-threaded benchmark only (libclamav: not thread-safe). */
int engine_set_clean_cache(struct engine *e, bool on);
void engine_ref(struct engine *e);
/* engine_unref - drop a reference; frees at zero. NULL is a no-op. */
void engine_unref(struct engine *e);
uint64_t engine_signatures(const struct engine *e);
double engine_load_ms(const struct engine *e);
/* engine_describe - what e was compiled from, as a VERSION reply (all but
 * the id): engine id, load time, signatures, libclamav version, the
 * database files of its directory at load time. */
void engine_describe(const struct engine *e, struct scanreq_version *v);
/* engine_log_definitions - scand's info log: "definitions loaded: <line>"
 * for each database (proto/db_version's line), then "definitions in
 * service: engine=<hex id> signatures=<n> databases=<k> libclamav=<v>". */
void engine_log_definitions(const struct engine *e);

/* engine_scan - scan the file open on fd with the options of req (a
 * SCAN request) and fill *rep (id, verdict, details, name, scan_us,
 * error). An unreadable descriptor or an engine error gives ERROR with
 * text, never CLEAN. The descriptor is borrowed and its offset unused.
 * mode ENGINE_SCAN_FMAP falls back to the descriptor path for files that
 * cannot be mapped (empty files, pipes). cancel (may be NULL): when it
 * becomes true (the requester has gone) the scan ends at the next object
 * or archive member and the reply is ERROR; so does the request's
 * deadline (timeout_ms), with VSD_SCANTIMEOUT. */
void engine_scan(struct engine *e, int fd, const struct scanreq_request *req,
                 enum engine_scan_mode mode, const atomic_bool *cancel, struct scanreq_reply *rep);

/* engine_scan_bare - the bare libclamav loop of the ceiling benchmark
 * (scand_ceiling): buf[0..len) scanned with engine_scan's options through
 * cl_fmap_open_memory + cl_scanmap_callback and no context, nothing else.
 * 0 clean, 1 a detection, -1 an error. */
int engine_scan_bare(struct engine *e, const void *buf, size_t len);
/* engine_bare_begin / engine_bare_end - our libclamav callbacks
 * (deadline, cancel, detection names) off for the ceiling's bare loop, and
 * on again. Between the two no engine_scan of e runs: one that is running
 * is waited for, later ones wait (the callbacks are engine-wide in
 * libclamav, and a served scan without them would lose its deadline and
 * its detection details). */
void engine_bare_begin(struct engine *e);
void engine_bare_end(struct engine *e);

/* engine_thread_done - free the calling thread's copy buffer now (other
 * threads' buffers go when they end). */
void engine_thread_done(void);

/* ---- the engine in service and its reloads ---- */

struct engine_reload_result {
    bool ok;
    uint64_t signatures; /* of the engine serving after the reload */
    double load_ms;
    char error[ENGINE_ERROR_MAX];
};

typedef void engine_reload_done_fn(void *arg);

struct engine_slot {
    pthread_mutex_t mu;
    pthread_cond_t released; /* broadcast when a scan drops its reference or a reload thread ends */
    struct engine *cur;
    char dir[4096];
    bool reloading;
    unsigned threads; /* reload threads alive (detached; one may still be retiring) */
    struct engine_reload_result last; /* of the last finished reload */
    engine_reload_done_fn *done;
    void *done_arg;
    char mark[4200];     /* lib/engine_mark file, "" = none */
    uint64_t reload_gen; /* counts reloads: tells a watchdog whose reload it watches */
};

/* engine_slot_init - put first (already loaded; the slot takes its
 * reference) in service; dir is where reloads read from. */
void engine_slot_init(struct engine_slot *s, struct engine *first, const char *dir,
                      engine_reload_done_fn *done, void *done_arg);
/* engine_slot_set_mark - from now on, replace the lib/engine_mark file at
 * path each time an engine goes into service (now, for the one serving;
 * after each reload, before done() is called). -1 with errno when the
 * first write fails (scand goes on: the proxies' verdict caches then fall
 * back to their 60 s expiry). */
int engine_slot_set_mark(struct engine_slot *s, const char *path);
/* engine_slot_fini - wait for a running reload, free the engine. */
void engine_slot_fini(struct engine_slot *s);
/* engine_slot_acquire - a reference to the engine in service, for one
 * scan; give it back with engine_slot_release. */
struct engine *engine_slot_acquire(struct engine_slot *s);
void engine_slot_release(struct engine_slot *s, struct engine *e);
/* engine_slot_reload - start a reload in a background thread unless one
 * is running (returns false then). When it ends, the result is in
 * engine_slot_last() and done(done_arg) is called from that thread. */
bool engine_slot_reload(struct engine_slot *s);
bool engine_slot_is_reloading(struct engine_slot *s);
struct engine_reload_result engine_slot_last(struct engine_slot *s);
uint64_t engine_slot_signatures(struct engine_slot *s);
/* engine_slot_describe - engine_describe of the engine in service. */
void engine_slot_describe(struct engine_slot *s, struct scanreq_version *v);

#endif
