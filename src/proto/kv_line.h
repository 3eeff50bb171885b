/* kv_line - the "key=value" line syntax of conf/dbupdate.conf and
 * conf/admin.conf, walked one entry at a time.
 *
 * What it does: iterates over a whole file text held by the caller and
 * hands back each "key=value" line as two views, blanks trimmed, with its
 * 1-based line number; the caller knows its keys and values. The syntax:
 * a UTF-8 byte order mark at the very start is skipped; lines end in LF
 * or CRLF, the last one may lack it; blanks are spaces and tabs. A line is
 * refused (KV_ERROR with a one-line reason) when it is longer than the
 * caller's line limit (its line end excluded), when it holds a NUL or
 * another control byte (tab aside; the CR of a CRLF is the line end), and
 * then, unless it is blank or its first non-blank byte is '#' (a comment:
 * skipped), when it has no '=' or nothing but blanks before its first '='.
 * The key is what comes before the first '=', the value all after it (so
 * a value may hold '=' and '#': there are no end-of-line comments and no
 * quoting), both without the blanks around them; the value may be empty.
 * Reasons, exactly: "line longer than N bytes", "NUL byte in the line",
 * "control character 0xNN in the line", "expected key=value, found no
 * '='", "no key before '='". They name no file and no line: the caller
 * prefixes "path:line: " (proto/dbupdate_conf and proto/admin_conf keep
 * their documented messages through this module).
 *
 * What it owns: nothing. The reader is the caller's struct, the views
 * point into the caller's text, which must outlive them; the text need not
 * be NUL-terminated and may hold any bytes. What it does not do: no I/O,
 * no allocation, no globals; no file size limit (the caller refuses a file
 * too large before reading it); no knowledge of keys, duplicates, or
 * values (case of keys, empty values meaning "not set": the caller's).
 */
#ifndef SEKISHO_PROTO_KV_LINE_H
#define SEKISHO_PROTO_KV_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

enum kv_status {
    KV_END = 0, /* no more entries: the text is walked to its end */
    KV_ENTRY,   /* *key (non-empty) and *value are set */
    KV_ERROR,   /* the line refused: a reason in err */
};

struct kv_reader {
    const char *text;
    size_t len;
    size_t pos;         /* where the next line starts */
    size_t line_max;    /* bytes of a line, its line end excluded */
    unsigned line;      /* 1-based number of the line last read, 0 before the first */
    unsigned char why;  /* the reason of a KV_ERROR returned, 0 = none yet */
    unsigned char byte; /* the control byte of that reason */
};

/* kv_reader_init - walk text[0..len), lines of at most line_max bytes. */
void kv_reader_init(struct kv_reader *r, const char *text, size_t len, size_t line_max);

/* kv_next - the next entry. KV_ENTRY: *key and *value are set, r->line is
 * its line. KV_ERROR: a one-line reason in err (truncated to errcap,
 * always NUL-terminated when errcap > 0; err may be NULL with errcap 0),
 * r->line is the refused line; the walk ends there and later calls give
 * the same error again. KV_END: r->line is the number of lines read (a
 * text ending in a line end has no empty line after it). */
enum kv_status kv_next(struct kv_reader *r, struct str *key, struct str *value, char *err,
                       size_t errcap);

/* kv_trim - s without the blanks (spaces, tabs) at either end: the
 * trimming of keys and values, for the items of a value's lists. */
struct str kv_trim(struct str s);

#endif
