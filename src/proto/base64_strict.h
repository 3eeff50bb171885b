/* base64_strict - RFC 4648 section 4 base64, strictly.
 *
 * What it does: decodes the base64 of authentication exchanges (SASL
 * PLAIN and LOGIN in SMTP AUTH, RFC 4954; HTTP Basic credentials, RFC
 * 7617), where a decoder that skips or repairs bytes would let two
 * parsers read different credentials. Accepted: the 64 characters of the
 * standard alphabet in groups of four, '=' padding only at the end and
 * only as RFC 4648 3.2 requires, unused bits of the last group zero
 * (section 3.5: a non-canonical encoding is refused). Refused: blanks, line
 * ends, the URL-safe alphabet, missing or extra padding.
 * (proto/mime_decode's streaming decoder is the lenient one, for mail
 * bodies, where real mail breaks every rule.)
 *
 * The encoder is the other direction of the same alphabet (the canonical
 * form: decoding it gives the bytes back, encoding a decoded input gives
 * the input back), for test and fuzz round trips and for any credentials
 * the proxy has to send itself.
 *
 * What it owns: nothing. No I/O, no allocation; all or nothing.
 */
#ifndef SEKISHO_PROTO_BASE64_STRICT_H
#define SEKISHO_PROTO_BASE64_STRICT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* The decoded size of n base64 characters, at most. */
#define BASE64_DECODED_MAX(n) ((n) / 4 * 3)

/* base64_strict_decode - in decoded into out[0..cap); *len the bytes.
 * false (nothing promised in out) when in is not canonical base64 or
 * does not fit. An empty in decodes to nothing (true, *len = 0). */
bool base64_strict_decode(struct str in, unsigned char *out, size_t cap, size_t *len);

/* The encoded size of n bytes (padding included). */
#define BASE64_ENCODED_LEN(n) (((n) + 2) / 3 * 4)

/* base64_strict_encode - in[0..n) encoded into out[0..cap), padded, no
 * line ends, no NUL added; *len the characters. false (*len = 0) when
 * BASE64_ENCODED_LEN(n) > cap. */
bool base64_strict_encode(const unsigned char *in, size_t n, char *out, size_t cap, size_t *len);

/* base64_value - the 6 bits of a character of the base64 alphabet (RFC 4648
 * table 1: A-Z a-z 0-9 + /), -1 for anything else ('=' too). Also the
 * alphabet of UTF-7's modified base64 (proto/mime_utf7). */
int base64_value(unsigned char c);

#endif
