/* logconv_line - the line conversion of logconv (LOG-7): recognise the
 * epoch time that starts a Sekisho log line, and the local-time prefix
 * logconv puts before it.
 *
 * Every log line of Sekisho (access, detect, info, error) starts with the
 * time in seconds since the epoch ("1419552128.199 ..."). Converted, the
 * line is prefixed with its local date and time:
 *
 *   2014-12-26 09:02:08 : 1419552128.199     27 192.168.1.204 TCP_MISS/503 ...
 *
 * An epoch time is 9 to 12 digits (1973 to year 33658: nothing older is a
 * log entry, nothing longer keeps time_t arithmetic safe), optionally '.'
 * and 1 to 9 digits, then a blank (space, tab, CR, LF) or the end of the
 * line. A line whose first field is not one is left as it is; a line that
 * starts with a logconv prefix followed by an epoch time is "converted":
 * it is never prefixed twice, its time is still known (for time filters)
 * and the reverse (-r) removes the prefix again.
 *
 * The decision needs only the start of a line: LOGCONV_HEAD_MAX bytes hold
 * a prefix and the longest epoch field with its delimiter, so callers may
 * stream the rest of a long line.
 *
 * Used by the logconv tool and by core/log_view (the web console's log
 * pages), so both show the same conversion.
 *
 * Owns nothing, does no I/O, no allocation, keeps no state; the only
 * outside input is the process time zone through localtime_r.
 */
#ifndef SEKISHO_PROTO_LOGCONV_LINE_H
#define SEKISHO_PROTO_LOGCONV_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Bytes of a line's start that decide its conversion. */
#define LOGCONV_HEAD_MAX 64
/* "YYYY-MM-DD hh:mm:ss : " for years 1000-9999 (every year an epoch time
 * up to 11 digits gives). */
#define LOGCONV_PREFIX_LEN 22
/* Room for any prefix logconv_format_prefix writes (a 12-digit epoch time
 * may be in a five-digit year) and its NUL. */
#define LOGCONV_PREFIX_CAP 32

/* What the start of a line says. */
struct logconv_line {
    bool timed;        /* an epoch time starts the line or follows a logconv prefix */
    bool epoch_first;  /* the line itself starts with its epoch time (not converted) */
    size_t prefix_len; /* LOGCONV_PREFIX_LEN when a logconv prefix precedes the time, else 0 */
    time_t time;       /* the epoch time's whole seconds, when timed */
};

enum logconv_mode {
    LOGCONV_CONVERT, /* prefix every line that starts with its epoch time */
    LOGCONV_NOCONV,  /* leave every line as it is */
    LOGCONV_REVERSE, /* remove the prefix of converted lines (logconv -r) */
};

/* logconv_epoch - the epoch time at the start of p[0..n). complete says
 * whether p[0..n) reaches the end of the line (a field that ends exactly at
 * n is then whole; otherwise its end is not seen and it is not taken).
 * Only the whole seconds go into *t. */
bool logconv_epoch(const char *p, size_t n, bool complete, time_t *t);

/* logconv_prefix_len - LOGCONV_PREFIX_LEN when p[0..n) starts with
 * "dddd-dd-dd dd:dd:dd : " (d a digit), else 0. */
size_t logconv_prefix_len(const char *p, size_t n);

/* logconv_line_parse - classify a line from its first n bytes (at most
 * LOGCONV_HEAD_MAX of them are looked at; the line ending may be included
 * or not). complete as for logconv_epoch. */
void logconv_line_parse(const char *p, size_t n, bool complete, struct logconv_line *l);

/* logconv_format_prefix - "YYYY-MM-DD hh:mm:ss : " for t in local time into
 * out[LOGCONV_PREFIX_CAP], NUL-terminated; its length (LOGCONV_PREFIX_LEN
 * up to year 9999), or 0 with out = "" when t cannot be converted. */
size_t logconv_format_prefix(time_t t, char out[LOGCONV_PREFIX_CAP]);

/* logconv_line_rewrite - how a parsed line is written in mode: prefix
 * (out[LOGCONV_PREFIX_CAP], NUL-terminated, maybe "") goes before it and
 * the first *skip bytes of the line are dropped. Only a line that starts
 * with its epoch time gets a prefix (a converted one never gets a second);
 * only a converted line loses its prefix in LOGCONV_REVERSE. Returns the
 * prefix's length; 0 also when the time could not be converted (the line
 * is then written as it is). */
size_t logconv_line_rewrite(const struct logconv_line *l, enum logconv_mode mode,
                            char prefix[LOGCONV_PREFIX_CAP], size_t *skip);

#endif
