/* scand_log - timestamped lines on stderr for sekisho-scand.
 *
 * What it does: prints "YYYY/MM/DD HH:MM:SS sekisho-scand[pid]: message"
 * lines to stderr, one write(2) per line so lines of different threads do
 * not interleave. The proxies own the documented log files; scand only
 * reports its own life (start, reloads, errors) where its rc script or
 * supervisor sends stderr.
 *
 * What it owns: the verbosity flag. What it does not do: no syslog, no
 * files, no rotation.
 */
#ifndef SEKISHO_SCAND_LOG_H
#define SEKISHO_SCAND_LOG_H

#include <stdbool.h>

void scand_log_set_verbose(bool verbose);
bool scand_log_is_verbose(void);
/* scand_log - always printed. */
void scand_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* scand_log_debug - printed only with -v. */
void scand_log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
