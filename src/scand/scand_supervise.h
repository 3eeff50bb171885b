/* scand_supervise - the supervisor process of sekisho-scand.
 *
 * What it does: the process started as sekisho-scand becomes a small
 * supervisor (it never links a scan: no engine, no threads) that forks
 * the scanning process and restarts it when it dies abnormally (a signal,
 * a non-zero exit after it was ready): at once, or after a second when it
 * keeps dying young, with the recovery lines of the proxies' master
 * (behaviour.md LOG-E19). It holds the listening socket, which the
 * scanning process inherits, so clients that connect while a new one
 * starts wait in the backlog instead of failing. SIGTERM/SIGINT and
 * SIGHUP are passed on; after a SIGTERM it exits with the scanning
 * process's status. A scanning process that exits 0 by itself (someone
 * sent it SIGTERM) ends the supervisor too. The first scanning process
 * failing before it is ready (definitions not loadable) ends the
 * supervisor with its status, as before there was a supervisor. With
 * --daemon the supervisor detaches and the command returns once the
 * first scanning process is ready (0) or has failed (1).
 *
 * What it owns: the scanning process (its pid) and the readiness pipes.
 * What it does not do: no scanning, no socket I/O (scand_server).
 */
#ifndef SEKISHO_SCAND_SUPERVISE_H
#define SEKISHO_SCAND_SUPERVISE_H

#include <stdbool.h>

#define SCAND_SUPERVISE_BACKOFF_MS 1000 /* a scanning process dying this young waits */
#define SCAND_SUPERVISE_TICK_MS    100

typedef void scand_supervise_exit_fn(void *arg);

/* scand_supervise - returns 0 in each scanning process (which then loads
 * and serves, and calls scand_supervise_ready when it can scan); in the
 * supervisor it does not return: at_exit(arg) runs before it exits. */
int scand_supervise(bool daemon, scand_supervise_exit_fn *at_exit, void *arg);

/* scand_supervise_ready - in the scanning process: loaded, serving now. */
void scand_supervise_ready(void);

/* scand_supervise_restarted - in the scanning process: true when it
 * replaces one that died (its leftovers may need cleaning). */
bool scand_supervise_restarted(void);

#endif
