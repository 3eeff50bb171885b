/* ceiling_rerun - the daemon's --ceiling-first measurements: once before
 * it serves, and again on demand while it serves.
 *
 * Why: the per-scan cost of a large engine moves by several percent from
 * one process to the next and over minutes (docs/bench.md, issue 17), so
 * the benches' yardstick for "percent of the scan ceiling" is the bare
 * loop in the serving daemon itself, taken right before and right after
 * each measured cell (bench/procs.sh scand_remeasure). The bench asks with
 * SIGUSR2 between cells, when no load runs.
 *
 * What it does: ceiling_rerun_start measures one --ceiling-first directory
 * (or all) with scand_ceiling_run on a thread of its own (never on the
 * event thread, which goes on serving), with a reference on the engine in
 * service for the duration, and prints the usual "ceiling:" line. One
 * measurement at a time: a request while one runs is refused (logged).
 *
 * Owns: its thread, which ceiling_rerun_free waits for. Borrows the slot
 * and the options, which outlive it.
 */
#ifndef SEKISHO_SCAND_CEILING_RERUN_H
#define SEKISHO_SCAND_CEILING_RERUN_H

#include <stdbool.h>

#include "scand/engine.h"
#include "scand/scand_ceiling.h"

struct ceiling_rerun;

/* ceiling_rerun_new - for the ndirs directories of dirs, each measured
 * with the options of base (threads, seconds, stamp; bare path only).
 * NULL when out of memory. */
struct ceiling_rerun *ceiling_rerun_new(const struct ceiling_options *base, const char *const *dirs,
                                        unsigned ndirs, struct engine_slot *slot);

/* ceiling_rerun_now - every directory, on the calling thread: before
 * serving. */
void ceiling_rerun_now(struct ceiling_rerun *r);

/* ceiling_rerun_start - measure directory number which (1-based, as given
 * on the command line), or every directory when which is 0 or out of
 * range. Logs and returns false when a measurement is still running or
 * its thread cannot start. */
bool ceiling_rerun_start(struct ceiling_rerun *r, int which);

/* ceiling_rerun_free - wait for a running measurement, free. NULL no-op. */
void ceiling_rerun_free(struct ceiling_rerun *r);

#endif
