/* mime_uu - find and decode uuencoded files in a text.
 *
 * Mail clients extract a uuencoded file ("begin <mode> <name>", data
 * lines, "end") from anywhere in a text body, and from every such block
 * in it, whatever the mode's digit count ("644", "0644") or the line
 * ends (LF, CRLF). libclamav decodes only a block that starts what it
 * scans and only a three-digit mode, so the proxy finds every block
 * itself and scans each decoded file on its own.
 *
 * A "begin" line counts only when a data line follows it (a decoy
 * "begin" in prose is skipped, and the search goes on after it). A block
 * ends at its "end" line, at the first line that is not uuencoded data,
 * or at the end of the text. No allocation, no I/O; time linear in the
 * text.
 */
#ifndef SEKISHO_PROTO_MIME_UU_H
#define SEKISHO_PROTO_MIME_UU_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

struct mime_uu {
    size_t begin;   /* offset of the "begin" line */
    size_t data;    /* offset of the first data line */
    size_t end;     /* offset just past the block's last line */
    char name[256]; /* the file name of the begin line, trimmed */
};

/* mime_uu_next - the first uuencoded file in text at or after offset
 * from; false when there is none. */
bool mime_uu_next(struct str text, size_t from, struct mime_uu *out);

/* mime_uu_begins - does text hold a line starting "begin " followed by
 * an octal mode (a cheap test, for encoded bodies)? */
bool mime_uu_begins(struct str text);

/* mime_uu_decode - decode whole data lines of in[0..len) into out[0..cap)
 * while a line's bytes fit; *used gets the input consumed. Returns the
 * bytes written. Stops (consuming the rest) at an "end" line or a zero-
 * length line. */
size_t mime_uu_decode(const char *in, size_t len, char *out, size_t cap, size_t *used);

#endif
