/* digest_param - one parameter of an HTTP Digest Authorization header.
 *
 * What it does: finds name="value" (or name=token) in the parameter list
 * of "Authorization: Digest ..." (RFC 7616 §3.4) and copies the value,
 * with quoted-pair escapes undone, into the caller's buffer. The console
 * needs the opaque value it issued, which libmicrohttpd does not return.
 * Parameter names compare ASCII case-insensitively; the scheme must be
 * "Digest". Bounded: a value that does not fit, an unterminated quote, or
 * a malformed list gives false.
 *
 * What it owns: nothing. No I/O, no allocation.
 */
#ifndef SEKISHO_PROTO_DIGEST_PARAM_H
#define SEKISHO_PROTO_DIGEST_PARAM_H

#include <stdbool.h>
#include <stddef.h>

bool digest_param(const char *header, size_t len, const char *name, char *out, size_t cap);

#endif
