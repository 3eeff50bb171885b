/* mail_subject - spam_action=change_subject: where the Subject field is,
 * and the field that takes its place (SPAM-10, G-08, issue 14).
 *
 * The mail is forwarded from its spool unchanged but for the header
 * lines the proxy puts in front; to change the subject, the proxy leaves
 * out the bytes of the original Subject field (its name, its value, its
 * folded continuation lines and its line end: mail_subject_find) and
 * puts the new field with the lines it adds (mail_subject_prefixed).
 *
 * The new value is the prefix then the original value as it was written
 * (G-08: no separator; the administrator ends the prefix with a blank if
 * one is wanted). The issue asks for the prefix in UTF-8 RFC 2047
 * encoded: a prefix of printable ASCII is written as it is (it needs no
 * encoding, and every client shows it), any other prefix is written as
 * "=?UTF-8?B?...?=" encoded-words. An encoded-word must stand apart from
 * the text around it (RFC 2047 5), so an encoded prefix, and an ASCII
 * prefix in front of an original that starts with an encoded-word, are
 * followed by one blank: between two encoded-words a reader drops it
 * (RFC 2047 6.2), before plain text it shows as a space. No Subject
 * field: the new one holds the prefix alone. Lines are folded before
 * 998 bytes (RFC 5322 2.1.1) at the original's own folds.
 *
 * Pure: no I/O, no allocation but the caller's buf.
 */
#ifndef SEKISHO_PROTO_MAIL_SUBJECT_H
#define SEKISHO_PROTO_MAIL_SUBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

struct mail_subject_span {
    bool found;       /* a Subject field is in the header block */
    size_t start;     /* offset of its first byte ("Subject:") */
    size_t end;       /* offset just past its last line end */
    struct str value; /* its value after "Subject:", continuation lines included, line end
                       * excluded (a view into the header) */
};

/* mail_subject_find - the first Subject field of header[0..len) (the
 * top-level header block, its blank line included or not). A header line
 * ends with LF or CRLF. */
void mail_subject_find(const char *header, size_t len, struct mail_subject_span *out);

/* mail_subject_prefixed - append to out "Subject: <prefix><value>\r\n"
 * as described above (value is the span's value, or empty). false when
 * out is full (out's content then undefined). */
bool mail_subject_prefixed(struct str prefix, struct str value, struct buf *out);

#endif
