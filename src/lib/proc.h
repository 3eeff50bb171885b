/* proc - process plumbing shared by the sekisho master and sekisho-scand.
 *
 * proc_signal_name names a signal for the guide's recovery and stop lines;
 * proc_detach / proc_ready make a daemon whose starting parent exits only
 * when the daemon says it is ready (0) or gives up (1), so that an rc
 * script's `start` returns once the service can be used.
 */
#ifndef SEKISHO_LIB_PROC_H
#define SEKISHO_LIB_PROC_H

#include <stdbool.h>

/* proc_signal_name - "SIGKILL", "SIGSEGV", ...; "SIG???" if unknown. */
const char *proc_signal_name(int sig);

/* proc_detach - fork; the parent waits for the readiness byte and exits 0
 * (ready) or 1 (the pipe closed without it). Returns 0 in the child, now
 * in a new session with stdin (and, unless keep_output, stdout and stderr)
 * on /dev/null and *ready_fd the pipe to report on; -1 on error. */
int proc_detach(bool keep_output, int *ready_fd);

/* proc_ready - tell the waiting parent that the daemon is ready; closes
 * ready_fd. Returns 0, or -1 if the byte could not be written. */
int proc_ready(int ready_fd);

#endif
