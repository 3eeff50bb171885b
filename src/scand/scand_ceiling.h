/* scand_ceiling - the scan ceiling benchmark of sekisho-scand --ceiling.
 *
 * What it measures: how many distinct objects N threads scan per second
 * with the loaded engine, and the CPU time each scan costs, along two
 * paths on the same files:
 *   - bare: a bare libclamav loop (engine_scan_bare: cl_fmap_open_memory
 *     + cl_scanmap_callback with the daemon's scan options, our callbacks
 *     off): the ceiling no daemon on this engine can beat;
 *   - engine: the daemon's own scan of a request (engine_scan on a memfd
 *     holding the content, callbacks on, the request's checks, copy and
 *     classification): what sekisho-scand spends per scan minus the
 *     socket and the thread hand-off (those show in bench/scanload.c's
 *     figures against a running daemon).
 * Content: the regular files of a directory, read into memory before the
 * clock starts. With stamp "head" every scan's content is its file with
 * the first 16 bytes replaced by a nonce unique in the run (so neither
 * libclamav's clean cache nor anything else has seen it, and the files
 * may be reused); with stamp "none" each file is scanned at most once per
 * run (one path only then: the second path would hit the clean cache).
 * Timing: wall time of the whole phase (scans_per_s) and each thread's
 * CPU time inside the scan calls (cpu_us_per_scan); copying a file into
 * the thread's buffer or memfd is outside both.
 *
 * Output (stdout), per path:
 *   ceiling: path=bare threads=2 files=2000 avg_bytes=23552 scans=24816
 *     seconds=10.00 scans_per_s=2481.6 MB_per_s=58.4 cpu_us_per_scan=803.1
 *     clean=24816 infected=0 errors=0 dir=DIR
 * (MB = 10^6 bytes.) bench/ scripts parse it.
 */
#ifndef SEKISHO_SCAND_CEILING_H
#define SEKISHO_SCAND_CEILING_H

#include <stdbool.h>

#include "scand/engine.h"

#define CEILING_BYTES_MAX (4ull << 30) /* files read into memory at most */

struct ceiling_options {
    const char *dir;
    unsigned threads;
    double seconds;
    bool path_bare, path_engine;
    bool stamp; /* "head" (true) or "none" */
    /* Called once a path's measurement holds the engine (for the bare
     * path: no served scan runs from now until its line is printed);
     * NULL for none. */
    void (*started)(const char *dir);
};

/* scand_ceiling_run - measure along each chosen path (bare first) and
 * print a ceiling: line each. 0, or 2 (with a message on stderr) when the
 * files cannot be read or a thread not started. */
int scand_ceiling_run(const struct ceiling_options *o, struct engine *e);

#endif
