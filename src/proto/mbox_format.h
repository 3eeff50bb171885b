/* mbox_format - a message as one entry of a mailbox file (mboxrd).
 *
 * Quarantined mails are kept in mailbox format (SCAN-12) so that any mail
 * reader or formail can open them: a "From " separator line, then the
 * message with CRLF turned into LF and every line that begins with
 * zero or more '>' followed by "From " given one more '>' (the mboxrd
 * rule, reversible), then an empty line.
 *
 * Reading (a quarantined mail released to its recipients) undoes it:
 * the separator line is dropped, one '>' comes off every ">...>From "
 * line, LF becomes CRLF, and the empty line that ends the entry goes.
 *
 * Streaming: the message may be fed in pieces of any size. No I/O, no
 * allocation.
 */
#ifndef SEKISHO_PROTO_MBOX_FORMAT_H
#define SEKISHO_PROTO_MBOX_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

struct mbox_writer {
    bool line_start; /* the next byte begins a line */
    size_t gts;      /* '>' seen at the start of the current line */
    size_t from_len; /* bytes of "From " matched after them */
    bool cr;         /* a CR is held back (dropped if LF follows) */
};

/* mbox_separator - "From <sender or MAILER-DAEMON> <asctime date>\n". */
bool mbox_separator(struct buf *out, const char *sender, int64_t when);

void mbox_writer_init(struct mbox_writer *w);

/* mbox_write - append in[0..len) escaped to out; out needs room for at
 * most 2 * len + 8 bytes. False (out unchanged) when it does not fit. */
bool mbox_write(struct mbox_writer *w, const char *in, size_t len, struct buf *out);

/* mbox_finish - what is held back, a line end if the message lacked one,
 * and the empty line that ends the entry. */
bool mbox_finish(struct mbox_writer *w, struct buf *out);

struct mbox_reader {
    bool in_separator; /* the "From " line is being skipped */
    bool line_start;
    size_t gts;      /* '>' seen at the start of the current line */
    size_t from_len; /* bytes of "From " matched after them */
    bool held_lf;    /* a line end held back: the entry's last one is dropped */
};

void mbox_reader_init(struct mbox_reader *r);

/* mbox_read - append the message bytes of in[0..len) (one entry, from its
 * separator line on) to out; out needs room for at most 2 * len + 8
 * bytes. False (out unchanged) when it does not fit. */
bool mbox_read(struct mbox_reader *r, const char *in, size_t len, struct buf *out);

/* mbox_read_finish - what is held back at the end of the entry (the line
 * end of the empty line that ends it is not part of the message). */
bool mbox_read_finish(struct mbox_reader *r, struct buf *out);

#endif
