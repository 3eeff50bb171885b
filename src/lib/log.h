/* log - the process-wide log sinks: where finished log lines go.
 *
 * Five sinks per service (access, detect, info, error, auth), each a file opened
 * O_APPEND or a pipe to a shell command (`|command`, CFG-6). A line is
 * written with one write(2), so lines from several worker processes never
 * interleave (files: O_APPEND; pipes: lines below PIPE_BUF). Formatting
 * the lines is the caller's business (proto/accesslog_format,
 * proto/logline_format); this module only delivers bytes. The sinks are
 * the only mutable process-wide state besides the config snapshot.
 */
#ifndef SEKISHO_LIB_LOG_H
#define SEKISHO_LIB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum log_sink {
    LOG_SINK_ACCESS = 0,
    LOG_SINK_DETECT,
    LOG_SINK_INFO,
    LOG_SINK_ERROR,
    LOG_SINK_AUTH, /* failed authentications, in a form fail2ban reads (proxy_auth) */
    LOG_SINK_COUNT,
};

const char *log_sink_name(enum log_sink sink);

/* log_sink_open - (re)open a sink: dest is a path (parent directories are
 * created; the file is made owned by uid:gid when uid != -1) or
 * "|command" run with /bin/sh. On failure the sink keeps its previous
 * destination and -1 is returned with errno set. */
int log_sink_open(enum log_sink sink, const char *dest, uid_t uid, gid_t gid);
void log_sink_close_all(void);

/* log_sink_write - append one complete line (must end with '\n'). */
void log_sink_write(enum log_sink sink, const char *line, size_t len);

/* log_set_stderr_mirror - also copy info and error lines to stderr
 * (foreground -v mode). */
void log_set_stderr_mirror(bool on);

#endif
