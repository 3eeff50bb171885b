/* mime_utf7 - a streaming UTF-7 (RFC 2152) to UTF-8 decoder.
 *
 * For RFC 2047 encoded-words and RFC 2231 values labelled UTF-7. Outlook
 * and Thunderbird decode them, and in UTF-7 the ASCII of a file name can
 * hide in base64 ("evil+AC4-exe" is "evil.exe"), so reading such a word
 * as plain ASCII would miss the extension the attachment policies look
 * at. Lenient as clients are: a run of base64 ends at '-' (consumed) or
 * at any other non-base64 byte (read as direct text); "+-" is '+';
 * leftover bits at the end of a run are dropped. Invalid input (8-bit
 * bytes, a lone surrogate) becomes U+FFFD; decoded control characters
 * (U+0000 included) are written as they are, for the caller to judge.
 *
 * Byte at a time, no allocation, no I/O, constant state.
 */
#ifndef SEKISHO_PROTO_MIME_UTF7_H
#define SEKISHO_PROTO_MIME_UTF7_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most UTF-8 bytes one input byte (or the finish) can produce: a lost
 * high surrogate (U+FFFD, 3 bytes) and a character (at most 4 bytes). */
#define MIME_UTF7_OUT_MAX 8

struct mime_utf7 {
    uint32_t bits;  /* base64 bits not yet making a UTF-16 unit */
    unsigned nbits; /* how many (0..21) */
    uint16_t hi;    /* a high surrogate waiting for its low half, or 0 */
    bool b64;       /* inside a '+' ... run */
    bool fresh;     /* right after the '+' (so "+-" is '+') */
};

void mime_utf7_init(struct mime_utf7 *d);

/* mime_utf7_byte - feed one byte; writes 0..MIME_UTF7_OUT_MAX bytes of
 * UTF-8 to out and returns how many. */
size_t mime_utf7_byte(struct mime_utf7 *d, unsigned char b, char *out);

/* mime_utf7_finish - at the end of the text: U+FFFD for a high surrogate
 * left waiting. Returns the bytes written (0 or 3); d is reset. */
size_t mime_utf7_finish(struct mime_utf7 *d, char *out);

#endif
