/* http_coding - Content-Encoding and Accept-Encoding values (RFC 9110
 * 8.4, 12.5.3) for the scanner.
 *
 * Why: a scanned download must be scanned as the client will decode it
 * (issue 10, item 7), so the gateway needs the list of codings applied to
 * a body, and offers upstream only the codings scand can undo. Pure; uses
 * lib/str and lib/buf only.
 */
#ifndef SEKISHO_PROTO_HTTP_CODING_H
#define SEKISHO_PROTO_HTTP_CODING_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

/* Codings we can undo; the values are those of lib/content_decode.h's
 * enum cdec_coding and of the scand request's encoding nibbles. */
enum http_coding {
    HTTP_CODING_UNKNOWN = 0,
    HTTP_CODING_GZIP = 1, /* gzip, x-gzip */
    HTTP_CODING_DEFLATE = 2,
    HTTP_CODING_BR = 3,
    HTTP_CODING_ZSTD = 4,
};

#define HTTP_CODING_LAYERS_MAX 8 /* recorded; scand undoes fewer */

/* The codings of a body in the order they were applied (the first is
 * undone last). identity and empty list elements are left out. */
struct http_coding_list {
    uint8_t codings[HTTP_CODING_LAYERS_MAX];
    unsigned count;
    bool unknown;  /* a coding we cannot undo */
    bool too_many; /* more than HTTP_CODING_LAYERS_MAX */
};

void http_coding_list_init(struct http_coding_list *l);

/* http_coding_add - append the codings of one Content-Encoding field
 * value (call once per field, in order). */
void http_coding_add(struct http_coding_list *l, struct str value);

/* http_coding_token - the coding named by one token, HTTP_CODING_UNKNOWN
 * for others (identity included: the caller skips it). */
enum http_coding http_coding_token(struct str token);

/* http_coding_filter_accept - append to out the elements of an
 * Accept-Encoding value whose coding we can undo (identity kept, `*` and
 * unknown codings dropped), comma-separated, parameters kept. All or
 * nothing: false (out unchanged) if out is too small. */
bool http_coding_filter_accept(struct str value, struct buf *out);

#endif
