/* basic_auth - the credentials of an HTTP "Basic" authorization header.
 *
 * What it does: reads the value of a Proxy-Authorization (spec HTTP-5) or
 * Authorization header: the scheme "Basic" (any case, RFC 7617 2, RFC 9110
 * 11.1), one or more SP or HTAB, the credentials as token68 in canonical
 * base64 (proto/base64_strict: the proxy, PAM and the access log must all
 * read the same user name), optional trailing blanks. The decoded
 * "user-id:password" is split at its FIRST ':' (RFC 7617 2: a user-id
 * cannot contain one); the user-id is 1..BASIC_AUTH_FIELD_MAX bytes, the
 * password 0..BASIC_AUTH_FIELD_MAX; control characters (< 0x20 and 0x7f,
 * RFC 7617 2 forbids CTLs) are refused in both. Bytes from 0x80 are kept
 * as they are (RFC 7617 2.1: UTF-8 when the server asked for it, which the
 * proxy's realm does not; either way they are the user's bytes).
 *
 * What it owns: nothing. The fields are copied into the caller's bounded
 * struct basic_auth (NUL-terminated for PAM), all or nothing: on any
 * refusal it is zeroed. The decoded bytes pass through one stack buffer,
 * wiped before return; the caller wipes its own copy (explicit_bzero) once
 * the password is checked.
 *
 * What it does not do: no I/O, no allocation, no policy: finding the
 * header, the 407 reply with its Proxy-Authenticate, the PAM check and
 * removing the header before forwarding are the HTTP session's.
 */
#ifndef SEKISHO_PROTO_BASIC_AUTH_H
#define SEKISHO_PROTO_BASIC_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"
#include "proto/base64_strict.h"

/* The longest user-id and the longest password (the same bound as SASL's,
 * proto/sasl.h, so that an account reachable by SMTP AUTH is by HTTP). */
#define BASIC_AUTH_FIELD_MAX 255
/* The longest decoded credentials: user-id ':' password. */
#define BASIC_AUTH_DECODED_MAX (2 * BASIC_AUTH_FIELD_MAX + 1)
/* The longest base64 credentials (684 characters). */
#define BASIC_AUTH_B64_MAX BASE64_ENCODED_LEN(BASIC_AUTH_DECODED_MAX)

enum basic_auth_result {
    BASIC_AUTH_OK = 0,
    BASIC_AUTH_OTHER_SCHEME, /* a scheme other than Basic (Digest, NTLM, Bearer, ...) */
    BASIC_AUTH_BAD_BASE64,   /* Basic, but no credentials or not canonical base64 */
    BASIC_AUTH_MALFORMED,    /* base64, but no ':', a bad field, or longer than any */
};
/* "OK", "OTHER_SCHEME", "BAD_BASE64", "MALFORMED", "?" out of range. */
const char *basic_auth_result_name(enum basic_auth_result r);

struct basic_auth {
    char user[BASIC_AUTH_FIELD_MAX + 1]; /* NUL-terminated, no CTL, no ':' */
    size_t user_len;
    char password[BASIC_AUTH_FIELD_MAX + 1]; /* NUL-terminated, no CTL, may be empty */
    size_t password_len;
};

/* basic_auth_parse - field_value as the HTTP parser gives it (leading
 * blanks are refused: RFC 9110 5.5 excludes them from a field value). */
enum basic_auth_result basic_auth_parse(struct str field_value, struct basic_auth *out);

#endif
