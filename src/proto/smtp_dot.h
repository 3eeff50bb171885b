/* smtp_dot - the SMTP DATA transparency procedure (RFC 5321 4.5.2).
 *
 * Decoding: the bytes a client sends after DATA become the message: a
 * line that begins with a period loses that period, and the line holding
 * a single period ends the message (not part of it). Encoding: the other
 * way round for a message sent upstream, followed by the end line.
 *
 * Only CRLF ends a line, and only "<CR><LF>.<CR><LF>" ends the message
 * (RFC 5321 2.3.8 and 4.1.1.4; SMTP-9). A bare LF or a bare CR is kept as
 * data and noted in bare_lf / bare_cr: a gateway that let "\n.\n" or
 * "\r\n.\n" end the message would run what follows as commands while a
 * server behind it sees one message (SMTP smuggling); the caller refuses
 * such a message once it has read it to its real end (as postfix's
 * smtpd_forbid_bare_newline), so what is scanned is what is sent.
 * The CRLF is kept as data (so CRLF mail comes out byte for byte).
 *
 * Streaming: both sides keep their state between calls, so the input may
 * be split anywhere. No allocation, no I/O.
 */
#ifndef SEKISHO_PROTO_SMTP_DOT_H
#define SEKISHO_PROTO_SMTP_DOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smtp_dot_decoder {
    int state;
    bool done;
    bool bare_lf; /* an LF without a CR before it was seen */
    bool bare_cr; /* a CR without an LF after it was seen */
};

void smtp_dot_decoder_init(struct smtp_dot_decoder *d);

/* smtp_dot_decode - decode in[0..len) into out (cap >= len + 1 always
 * suffices: a ".\r" held back from the previous call may come out as "\r"
 * with the first byte of this one). *used = input bytes taken: all of
 * them, or up to and including the end line. Returns the number of bytes
 * written. d->done is set when the end line has been seen. A pending "."
 * or ".\r" at the start of a line at the end of in is held back in the
 * state, not written. */
size_t smtp_dot_decode(struct smtp_dot_decoder *d, const char *in, size_t len, char *out,
                       size_t *used);

struct smtp_dot_encoder {
    bool line_start; /* the next byte begins a line */
    bool last_cr;    /* the last byte written was CR */
    bool crlf;       /* line_start came from a CRLF (not a bare LF) */
};

void smtp_dot_encoder_init(struct smtp_dot_encoder *e);

/* smtp_dot_encode - stuff in[0..len) into out; needs cap >= 2 * len in
 * the worst case (every byte a period starting a line); takes as much as
 * fits and sets *used. Returns bytes written. */
size_t smtp_dot_encode(struct smtp_dot_encoder *e, const char *in, size_t len, char *out,
                       size_t cap, size_t *used);

/* smtp_dot_encode stuffs a period after any LF, bare or not: a server
 * that ends lines at a bare LF unstuffs it, a strict one keeps one more
 * period; neither sees an end line inside the message. */

/* smtp_dot_end - the end line, preceded by CRLF when the message did not
 * end with a CRLF (so even a strict server sees "<CR><LF>.<CR><LF>"). Writes at most 5 bytes;
 * returns how many. */
size_t smtp_dot_end(const struct smtp_dot_encoder *e, char out[5]);

#endif
