/* text_line - the first line of a text protocol's buffer, bounded.
 *
 * SMTP commands and replies, POP3 commands and status lines (and FTP's
 * next) are lines ending in CR LF or a bare LF, with a length limit. This
 * finds the first one in buf[0..len) without looking at more than max + 2
 * bytes: DONE with *line_len (the line without its end; the CR before the
 * LF is not part of it, any other CR is) and *consumed (with its end);
 * TOO_LONG as soon as more than max bytes precede the end, known before
 * the LF arrives; AGAIN otherwise. A verdict other than AGAIN never
 * changes when bytes are appended. Pure: no I/O, no allocation.
 */
#ifndef SEKISHO_PROTO_TEXT_LINE_H
#define SEKISHO_PROTO_TEXT_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

enum text_line_result {
    TEXT_LINE_DONE = 0,
    TEXT_LINE_AGAIN,
    TEXT_LINE_TOO_LONG,
};

enum text_line_result text_line_find(const char *buf, size_t len, size_t max, size_t *line_len,
                                     size_t *consumed);

/* text_line_discard - after TOO_LONG: the bytes of buf[0..len) up to and
 * including the first LF (*ended = true), or all of them (*ended = false:
 * call again with the next bytes). */
size_t text_line_discard(const char *buf, size_t len, bool *ended);

/* text_line_is_blank - SP or HT, the blanks between words of a line. */
static inline bool text_line_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* text_line_trim - s without leading and trailing blanks (SP, HT). */
struct str text_line_trim(struct str s);

#endif
