/* log_view - the newest lines of a log file, for the web console's log
 * pages (CLI-6: "up to 1000 lines"; LOG-1 files; LOG-7 conversion).
 *
 * What it does: reads a log file backwards from its end in LOG_VIEW_CHUNK
 * blocks (pread; never the whole file, files of any size, 2 GB and more)
 * and appends its newest lines to the caller's buffer, newest first, each
 * ended by '\n':
 *   - at most max_lines lines;
 *   - with a filter, only lines whose shown text (the logconv prefix
 *     included) contains it, ASCII letters compared case-insensitively,
 *     other bytes exactly; lines that do not match are not counted;
 *   - with convert, each line that starts with its epoch time gets the
 *     local time prefix logconv writes (proto/logconv_line, LOG-7);
 *   - a line's end is '\n'; the CR of a CRLF is dropped; a last line
 *     without '\n' is a line; the '\n' that ends the file does not start
 *     an empty line after it, other empty lines are lines;
 *   - the text is valid UTF-8 without control bytes (the console renders
 *     it as HTML): each byte that is not part of a valid UTF-8 sequence
 *     (RFC 3629: no overlong forms, no surrogates, nothing above
 *     U+10FFFF), and each control byte (below 0x20 but tab, and 0x7f), is
 *     written as U+FFFD;
 *   - a line whose text is longer than line_max bytes is cut at the last
 *     whole character that fits and marked with LOG_VIEW_CUT_MARK
 *     (" [cut: line of N bytes]", N the line's length in the file); only
 *     the shown part is looked at, by the filter too.
 * It stops at the first of: max_lines lines, the start of the file, the
 * read budget (read_max bytes read in all: reported in read_limit, the
 * lines found until then are kept), a line that does not fit into the
 * room left in out (out_full).
 *
 * What it owns: nothing after it returns. It allocates its working memory
 * (one chunk, one line head, one line of text: about LOG_VIEW_CHUNK + 2 *
 * line_max bytes) for the call and frees it; the lines go into the
 * caller's struct buf, which never grows (lib/buf). No globals, no state
 * between calls; the only outside inputs are the file and, with convert,
 * the process time zone.
 *
 * What it does not do: no HTML escaping (the text is plain text, '<' and
 * '&' included), no time filters (logconv --tailsec / --today), no locking
 * against the writer (the file's size when opened is its end: lines
 * written later are not seen; a file that shrinks while it is read is an
 * error), no following of rotated files.
 */
#ifndef SEKISHO_CORE_LOG_VIEW_H
#define SEKISHO_CORE_LOG_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/logconv_line.h"

#define LOG_VIEW_CHUNK        (64u * 1024)       /* bytes per backward read */
#define LOG_VIEW_READ_MAX     (8u * 1024 * 1024) /* default read budget */
#define LOG_VIEW_LINE_MAX     4096               /* default shown bytes of a line */
#define LOG_VIEW_LINE_MAX_CAP (64u * 1024)       /* largest line_max accepted */
#define LOG_VIEW_FILTER_MAX   256                /* longest filter accepted */
#define LOG_VIEW_CUT_MARK     " [cut: line of %llu bytes]"
#define LOG_VIEW_CUT_MARK_MAX 48 /* the mark with any 64-bit length */

/* The most bytes one line takes in out (its '\n' included), and a capacity
 * of out that holds n lines whatever they are. */
#define LOG_VIEW_LINE_OUT_MAX(line_max)                                                            \
    ((line_max) + LOGCONV_PREFIX_CAP + LOG_VIEW_CUT_MARK_MAX + 1)
#define LOG_VIEW_OUT_CAP(n, line_max) ((n)*LOG_VIEW_LINE_OUT_MAX(line_max))

struct log_view_request {
    size_t max_lines;  /* lines wanted (the console: 1000); 0 gives none */
    struct str filter; /* empty: every line; at most LOG_VIEW_FILTER_MAX bytes */
    bool convert;      /* the logconv prefix (LOG-7) */
    size_t line_max;   /* shown bytes of a line, 1..LOG_VIEW_LINE_MAX_CAP; 0: LOG_VIEW_LINE_MAX */
    uint64_t read_max; /* read budget in bytes; 0: LOG_VIEW_READ_MAX */
};

struct log_view_result {
    size_t lines;        /* lines appended to out */
    size_t cut_lines;    /* of them, lines cut at line_max */
    bool at_start;       /* every line of the file was looked at */
    bool read_limit;     /* the read budget stopped it before max_lines and the start */
    bool out_full;       /* the next line did not fit into out */
    uint64_t file_size;  /* the size when opened */
    uint64_t bytes_read; /* bytes read from the file, <= the read budget */
};

/* log_view_read - append the newest lines of the regular file at path to
 * out (see above). 0 on success (also with read_limit / out_full: the
 * lines found are there). -1 on error, with a one-line reason in
 * err[errcap] (no path in it) and errno set (ENOENT when the file does not
 * exist, EINVAL for a bad request, ENOMEM, EIO when the file shrank while
 * read, else open/pread's), out left as it was and *res zeroed. Opening
 * does not block on a FIFO; anything but a regular file is refused. */
int log_view_read(const char *path, const struct log_view_request *rq, struct buf *out,
                  struct log_view_result *res, char *err, size_t errcap);

#endif
