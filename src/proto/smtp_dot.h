/* smtp_dot - the SMTP DATA transparency procedure (RFC 5321 4.5.2).
 *
 * Decoding: the bytes a client sends after DATA become the message: a
 * line that begins with a period loses that period, and the line holding
 * a single period ends the message (not part of it). Encoding: the other
 * way round for a message sent upstream, followed by the end line.
 *
 * Lines end at LF; a CR before it is kept as data (so CRLF mail comes out
 * byte for byte). A bare LF ends a line too: some clients send them, and
 * "\n.\n" is then the end of the message as well, as in postfix.
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
};

void smtp_dot_decoder_init(struct smtp_dot_decoder *d);

/* smtp_dot_decode - decode in[0..len) into out (cap >= len always
 * suffices: decoding never grows the data). *used = input bytes taken:
 * all of them, or up to and including the end line. Returns the number of
 * bytes written. d->done is set when the end line has been seen. A
 * pending ".\r" at the end of in is held back in the state, not written. */
size_t smtp_dot_decode(struct smtp_dot_decoder *d, const char *in, size_t len, char *out,
                       size_t *used);

struct smtp_dot_encoder {
    bool line_start; /* the next byte begins a line */
    bool last_cr;    /* the last byte written was CR */
};

void smtp_dot_encoder_init(struct smtp_dot_encoder *e);

/* smtp_dot_encode - stuff in[0..len) into out; needs cap >= 2 * len in
 * the worst case (every byte a period starting a line); takes as much as
 * fits and sets *used. Returns bytes written. */
size_t smtp_dot_encode(struct smtp_dot_encoder *e, const char *in, size_t len, char *out,
                       size_t cap, size_t *used);

/* smtp_dot_end - the end line, preceded by CRLF when the message did not
 * end with a line end. Writes at most 5 bytes; returns how many. */
size_t smtp_dot_end(const struct smtp_dot_encoder *e, char out[5]);

#endif
