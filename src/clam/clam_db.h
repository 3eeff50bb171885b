/* clam_db - the libclamav code shared by sekisho-scand and dbupdate.
 *
 * What it does: initialises libclamav once per process; loads a
 * definitions directory into a compiled engine exactly as sekisho-scand
 * serves it (CL_DB_STDOPT | CL_DB_PUA, the limits of SCAN-2/SCAN-3, the
 * temporary directory), so that dbupdate's test load of a staging
 * directory (clam_db_verify) accepts exactly what scand will load; and
 * lists the database files of a directory with each one's version,
 * signature count and build time (clam_db_list: `make show-dbversion`,
 * scand's VERSION reply and info log).
 *
 * Errors name what libclamav names: clam_init installs a message callback
 * that still prints every libclamav message on stderr, as libclamav's own
 * does, and keeps the error messages logged by the calling thread during
 * a load, so a failure reads "cl_load(DIR): Can't load DIR/x.ndb:
 * Malformed database (Problem parsing database at line 3)" rather than
 * only "Malformed database".
 *
 * What it owns: the cl_engine of a load until it is handed to the caller
 * (free it with clam_engine_free); nothing between calls.
 *
 * What it does not do: no scanning, callbacks or reference counting
 * (scand/engine.c), no downloads (tools/dbupdate). This directory and
 * src/scand/ are the only code that includes <clamav.h>.
 */
#ifndef SEKISHO_CLAM_CLAM_DB_H
#define SEKISHO_CLAM_CLAM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/db_version.h"

/* Archive nesting of SCAN-2: 6 levels are unpacked. libclamav counts the
 * outermost file as level 0's parent, so 7 lets an EICAR inside 6 nested
 * zips be found and raises Heuristics.Limits.Exceeded.MaxRecursion for 7
 * (measured with tests/integration/harness/testfiles.py nested_N.zip). */
#define CLAM_MAX_RECURSION 7
/* SCAN-2: max scannable file 2 GB, before and after extraction; the
 * default and the maximum of scand_max_filesize (clam_engine_opts). */
#define CLAM_MAX_FILESIZE (2048ull * 1024 * 1024)
/* Engine-wide backstop behind scand's per-request deadline (which cannot
 * interrupt one long object, see scand/engine.c): 10 minutes. */
#define CLAM_MAX_SCANTIME_MS (10u * 60 * 1000)
/* Archive members scanned per file (libclamav's default, set explicitly
 * so that it is ours): a 20,000-member zip stops at this many with
 * VSD_MAXFILES instead of going through every member. */
#define CLAM_MAX_FILES 10000u
#define CLAM_ERROR_MAX 256 /* room for any error this module writes */

struct cl_engine; /* <clamav.h>; opaque to callers outside src/scand/ */

struct clam_engine_opts {
    uint64_t max_filesize; /* MAX_FILESIZE and MAX_SCANSIZE; 0 or over: CLAM_MAX_FILESIZE */
    const char *tmpdir;    /* CL_ENGINE_TMPDIR; NULL or "": libclamav's default */
    bool clean_cache;      /* false: CL_ENGINE_DISABLE_CACHE (the benchmark) */
};

/* clam_init - cl_init and the message callback, once per process (later
 * calls return the first result). Call before any thread uses libclamav.
 * 0, or -1 with the reason in err. */
int clam_init(char *err, size_t errcap);

/* clam_engine_load - load every database of dir into a new engine with
 * the options of o (NULL: the defaults), compile it. The engine, with
 * what libclamav loaded in *sigs, or NULL with libclamav's reason in err
 * ("cl_load(DIR): ..." or "cl_engine_compile: ..."); a directory with no
 * signatures is an error too. */
struct cl_engine *clam_engine_load(const char *dir, const struct clam_engine_opts *o,
                                   uint64_t *sigs, char *err, size_t errcap);
/* clam_engine_free - NULL is a no-op. */
void clam_engine_free(struct cl_engine *cl);

/* clam_db_verify - load every database of dir exactly as sekisho-scand
 * would, compile, free. 0 with *sigs; -1 with the reason in err (naming
 * the file when libclamav does). */
int clam_db_verify(const char *dir, uint64_t *sigs, char *err, size_t errcap);

/* clam_db_file_name_ok - is name a database file cl_load reads from a
 * directory (ClamAV's extensions, case-insensitive, as its CLI_DBEXT)? */
bool clam_db_file_name_ok(const char *name);

/* clam_db_list - the database files of dir (clam_db_file_name_ok), sorted
 * by name (strcmp), into out[cap], *n of them: for .cvd/.cld/.cud the
 * header's version, signature count and build time; for the others
 * version 0, the signatures as libclamav counts them (cl_countsigs:
 * signature lines; allow lists and metadata files count 0) and the file's
 * mtime. -1 with the reason (*n = 0) when dir cannot be read, a file is
 * not a regular file, has an unreadable header or a name over
 * DB_VERSION_NAME_MAX, or there are more than cap files. */
int clam_db_list(const char *dir, struct db_version_entry *out, size_t cap, size_t *n, char *err,
                 size_t errcap);

/* clam_version - libclamav's version string, e.g. "1.4.6" (cl_retver). */
const char *clam_version(void);

#endif
