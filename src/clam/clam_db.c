/* clam_db - the libclamav code shared by sekisho-scand and dbupdate (see
 * clam_db.h).
 *
 * Error capture: libclamav reports the reason of a failed load only as
 * messages ("Problem parsing database at line 1", "Can't load
 * DIR/x.ndb: Malformed database", "cli_loaddbdir: error loading database
 * DIR/x.ndb"); cl_load itself returns just CL_EMALFDB. Its message
 * callback is one per process and is called in the thread that logs, so
 * the capture is thread-local: a reload thread's load collects its own
 * messages while scanner threads go on logging their warnings. Of the
 * messages of one load, the reason is the "Can't load FILE: WHY" one
 * (libclamav's cli_load writes it for every file it fails on) or else the
 * last one, followed by the first one in parentheses when it differs (the
 * parser's detail, which names the line).
 */
#include "clam/clam_db.h"

#include <clamav.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/str.h"

#define CLAM_MSG_MAX  200 /* one captured libclamav message */
#define CLAM_PATH_MAX 4096

/* ---- messages ------------------------------------------------------------ */

struct msg_capture {
    bool on;
    unsigned count;
    char first[CLAM_MSG_MAX];
    char last[CLAM_MSG_MAX];
    char cant_load[CLAM_MSG_MAX];
};

static _Thread_local struct msg_capture capture;

static void capture_start(void)
{
    memset(&capture, 0, sizeof(capture));
    capture.on = true;
}

/* copy_line - msg without its trailing newline. */
static void copy_line(char *dst, size_t cap, const char *msg)
{
    size_t n = strcspn(msg, "\r\n");
    str_copy_view(dst, cap, str_make(msg, n));
}

static void on_message(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
    (void)ctx;
    fputs(fullmsg, stderr); /* what libclamav's own callback does */
    if (!capture.on || severity != CL_MSG_ERROR || msg == NULL)
        return;
    if (capture.count++ == 0)
        copy_line(capture.first, sizeof(capture.first), msg);
    copy_line(capture.last, sizeof(capture.last), msg);
    if (strncmp(msg, "Can't load ", 11) == 0)
        copy_line(capture.cant_load, sizeof(capture.cant_load), msg);
}

/* capture_end - stop capturing; the reason into why ("" when libclamav
 * logged no error). */
static void capture_end(char *why, size_t cap)
{
    capture.on = false;
    why[0] = '\0';
    if (capture.count == 0)
        return;
    const char *reason = capture.cant_load[0] ? capture.cant_load : capture.last;
    if (strcmp(reason, capture.first) != 0)
        snprintf(why, cap, "%s (%s)", reason, capture.first);
    else
        str_copy(why, cap, reason);
}

/* ---- sanitizer builds ----------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define CLAM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CLAM_ASAN 1
#endif
#endif
#ifdef CLAM_ASAN
/* LeakSanitizer reads this at start in the programs that link this layer
 * (sekisho-scand, dbupdate). libclamav 1.4.6 leaks a SHA-256 context
 * (EVP_MD_CTX, ~1 KB with what OpenSSL hangs on it) at every load of a
 * CVD/CLD/CUD container: cl_load -> cli_cvdload -> cli_tgzload ->
 * cl_hash_init, seen with ASAN_OPTIONS=fast_unwind_on_malloc=0. With the
 * default (fast) unwinding the stack stops inside libcrypto, which has no
 * frame pointers, so the only name to match is libcrypto's. sekisho-
 * scand makes no libcrypto call of its own (lib/sha256 is the proxies');
 * in dbupdate, leaks through libcrypto are libclamav's or libfreshclam's. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libcrypto.so\n";
}
#endif

/* ---- init ----------------------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static cl_error_t init_rc;

static void init_libclamav(void)
{
    init_rc = cl_init(CL_INIT_DEFAULT);
    if (init_rc == CL_SUCCESS)
        cl_set_clcb_msg(on_message);
}

int clam_init(char *err, size_t errcap)
{
    pthread_once(&init_once, init_libclamav);
    if (init_rc != CL_SUCCESS) {
        snprintf(err, errcap, "cl_init: %s", cl_strerror(init_rc));
        return -1;
    }
    return 0;
}

const char *clam_version(void)
{
    return cl_retver();
}

/* ---- load ------------------------------------------------------------------ */

static int set_num(struct cl_engine *cl, enum cl_engine_field f, long long v, const char *what,
                   char *err, size_t errcap)
{
    cl_error_t rc = cl_engine_set_num(cl, f, v);
    if (rc != CL_SUCCESS) {
        snprintf(err, errcap, "cl_engine_set_num(%s): %s", what, cl_strerror(rc));
        return -1;
    }
    return 0;
}

static int set_options(struct cl_engine *cl, const struct clam_engine_opts *o, char *err,
                       size_t errcap)
{
    uint64_t max = o->max_filesize > 0 && o->max_filesize < CLAM_MAX_FILESIZE ? o->max_filesize
                                                                              : CLAM_MAX_FILESIZE;
    if (set_num(cl, CL_ENGINE_MAX_RECURSION, CLAM_MAX_RECURSION, "max_recursion", err, errcap) <
            0 ||
        set_num(cl, CL_ENGINE_MAX_FILESIZE, (long long)max, "max_filesize", err, errcap) < 0 ||
        set_num(cl, CL_ENGINE_MAX_SCANSIZE, (long long)max, "max_scansize", err, errcap) < 0 ||
        set_num(cl, CL_ENGINE_MAX_SCANTIME, CLAM_MAX_SCANTIME_MS, "max_scantime", err, errcap) <
            0 ||
        set_num(cl, CL_ENGINE_MAX_FILES, CLAM_MAX_FILES, "max_files", err, errcap) < 0)
        return -1;
    if (!o->clean_cache &&
        set_num(cl, CL_ENGINE_DISABLE_CACHE, 1, "disable_cache", err, errcap) < 0)
        return -1;
    if (o->tmpdir != NULL && o->tmpdir[0] != '\0') {
        cl_error_t rc = cl_engine_set_str(cl, CL_ENGINE_TMPDIR, o->tmpdir);
        if (rc != CL_SUCCESS) {
            snprintf(err, errcap, "cl_engine_set_str(tmpdir %s): %s", o->tmpdir, cl_strerror(rc));
            return -1;
        }
    }
    return 0;
}

struct cl_engine *clam_engine_load(const char *dir, const struct clam_engine_opts *o,
                                   uint64_t *sigs, char *err, size_t errcap)
{
    static const struct clam_engine_opts defaults = {0, NULL, true};
    if (o == NULL)
        o = &defaults;
    *sigs = 0;
    struct cl_engine *cl = cl_engine_new();
    if (cl == NULL) {
        snprintf(err, errcap, "cl_engine_new failed");
        return NULL;
    }
    char why[2 * CLAM_MSG_MAX + 4];
    unsigned int loaded = 0;
    capture_start();
    /* CL_DB_PUA: riskware signatures are always in the engine; whether a
     * PUA hit is reported is each request's riskware_check. */
    cl_error_t rc = cl_load(dir, cl, &loaded, CL_DB_STDOPT | CL_DB_PUA);
    capture_end(why, sizeof(why));
    if (rc != CL_SUCCESS) {
        snprintf(err, errcap, "cl_load(%s): %s", dir, why[0] ? why : cl_strerror(rc));
        goto fail;
    }
    if (loaded == 0) {
        snprintf(err, errcap, "cl_load(%s): no signatures found", dir);
        goto fail;
    }
    if (set_options(cl, o, err, errcap) < 0)
        goto fail;
    capture_start();
    rc = cl_engine_compile(cl);
    capture_end(why, sizeof(why));
    if (rc != CL_SUCCESS) {
        snprintf(err, errcap, "cl_engine_compile: %s%s%s", cl_strerror(rc), why[0] ? ": " : "",
                 why);
        goto fail;
    }
    *sigs = loaded;
    return cl;
fail:
    cl_engine_free(cl);
    return NULL;
}

void clam_engine_free(struct cl_engine *cl)
{
    if (cl != NULL)
        cl_engine_free(cl);
}

int clam_db_verify(const char *dir, uint64_t *sigs, char *err, size_t errcap)
{
    struct cl_engine *cl = clam_engine_load(dir, NULL, sigs, err, errcap);
    if (cl == NULL)
        return -1;
    clam_engine_free(cl);
    return 0;
}

/* ---- listing ---------------------------------------------------------------- */

/* ClamAV 1.4's CLI_DBEXT (libclamav/readdb.h, with YARA): the suffixes
 * cl_load reads from a directory. Longer suffixes sharing an ending
 * (".ign2", ".ign") are separate entries, as there. */
static const char *const DB_EXTENSIONS[] = {
    ".db",  ".hdb", ".hdu", ".fp",   ".mdb",  ".mdu", ".hsb",  ".hsu", ".sfp", ".msb",
    ".msu", ".ndb", ".ndu", ".ldb",  ".ldu",  ".sdb", ".zmd",  ".rmd", ".pdb", ".gdb",
    ".wdb", ".cbc", ".ftm", ".cfg",  ".cvd",  ".cld", ".cud",  ".cdb", ".cat", ".crb",
    ".idb", ".ioc", ".yar", ".yara", ".pwdb", ".ign", ".ign2", ".imp",
};
/* Containers with a CVD header (version, signature count, build time). */
static const char *const CVD_EXTENSIONS[] = {".cvd", ".cld", ".cud"};

static bool has_suffix(const char *name, const char *const *list, size_t count)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(list[i]);
        if (len >= n && strcasecmp(name + len - n, list[i]) == 0)
            return true;
    }
    return false;
}

bool clam_db_file_name_ok(const char *name)
{
    return has_suffix(name, DB_EXTENSIONS, sizeof(DB_EXTENSIONS) / sizeof(DB_EXTENSIONS[0]));
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct db_version_entry *)a)->name,
                  ((const struct db_version_entry *)b)->name);
}

/* describe - fill e for the database file path (named name). */
static int describe(const char *path, const char *name, struct db_version_entry *e, char *err,
                    size_t errcap)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s: not a regular file", path);
        return -1;
    }
    memset(e, 0, sizeof(*e));
    str_copy(e->name, sizeof(e->name), name);
    char why[2 * CLAM_MSG_MAX + 4];
    capture_start();
    if (has_suffix(name, CVD_EXTENSIONS, sizeof(CVD_EXTENSIONS) / sizeof(CVD_EXTENSIONS[0]))) {
        struct cl_cvd *cvd = cl_cvdhead(path);
        capture_end(why, sizeof(why));
        if (cvd == NULL) {
            snprintf(err, errcap, "%s: no readable CVD header%s%s", path, why[0] ? ": " : "", why);
            return -1;
        }
        e->version = cvd->version;
        e->signatures = cvd->sigs;
        e->built = (int64_t)cvd->stime;
        cl_cvdfree(cvd);
        return 0;
    }
    unsigned int sigs = 0;
    cl_error_t rc = cl_countsigs(path, CL_COUNTSIGS_ALL, &sigs);
    capture_end(why, sizeof(why));
    if (rc != CL_SUCCESS) {
        snprintf(err, errcap, "%s: %s", path, why[0] ? why : cl_strerror(rc));
        return -1;
    }
    e->signatures = sigs;
    e->built = (int64_t)st.st_mtime;
    return 0;
}

int clam_db_list(const char *dir, struct db_version_entry *out, size_t cap, size_t *n, char *err,
                 size_t errcap)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errcap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    size_t count = 0;
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || !clam_db_file_name_ok(name))
            continue;
        char path[CLAM_PATH_MAX];
        if (count == cap) {
            snprintf(err, errcap, "%s: more than %zu database files", dir, cap);
            rc = -1;
        } else if (strlen(name) > DB_VERSION_NAME_MAX) {
            snprintf(err, errcap, "%s/%s: name longer than %d bytes", dir, name,
                     DB_VERSION_NAME_MAX);
            rc = -1;
        } else if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
            snprintf(err, errcap, "%s: path too long", dir);
            rc = -1;
        } else {
            rc = describe(path, name, &out[count], err, errcap);
            count += rc == 0;
        }
        errno = 0;
    }
    if (rc == 0 && errno != 0) {
        snprintf(err, errcap, "%s: %s", dir, strerror(errno));
        rc = -1;
    }
    closedir(d);
    if (rc < 0)
        return -1;
    qsort(out, count, sizeof(out[0]), entry_cmp);
    *n = count;
    return 0;
}
