/* dbu_log - log/dbupdate.log (LOG-1): one line per event of an update.
 *
 * Lines have the prefix of info.log (proto/logline_format, with every
 * session field "-") and the message "dbupdate[<pid>]: <text>", so
 * misc/logconv and the tools that read the services' logs read this one
 * too. Written with one write(2) on an O_APPEND descriptor.
 */
#ifndef SEKISHO_TOOLS_DBU_LOG_H
#define SEKISHO_TOOLS_DBU_LOG_H

/* dbu_log_open - the log file (its directory is created); -1 with errno.
 * Until it is open (or when it cannot be), lines go nowhere. */
int dbu_log_open(const char *path);
void dbu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
