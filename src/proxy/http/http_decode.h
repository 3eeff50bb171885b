/* http_decode - what the HTTP proxy tells the scanner and the origin about
 * content codings (issue 10, item 7).
 *
 * A scanned download is scanned as the client will decode it: the codings
 * of its Content-Encoding go to scand (which decodes, in its threads), and
 * the request's Accept-Encoding offers the origin only codings scand
 * undoes. A coding nobody can undo is sent as SCANREQ_ENC_UNDECODABLE:
 * scand blocks it (SEKISHO/POLICY_BLOCK_ENCODING), never CLEAN.
 */
#ifndef SEKISHO_PROXY_HTTP_DECODE_H
#define SEKISHO_PROXY_HTTP_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"
#include "proto/http1_parse.h"

/* http_decode_scan_encoding - the scand request's encoding byte for a
 * response with header fields f. */
uint8_t http_decode_scan_encoding(struct http1_fields f);

/* http_decode_accept - the filtered Accept-Encoding of request fields f,
 * built in out[0..cap); an empty view when nothing is left (the header is
 * then dropped) or the request had none. */
struct str http_decode_accept(struct http1_fields f, char *out, size_t cap);

/* http_decode_range - item 9: the one byte range of a scanned whole
 * object (total bytes) the client asked for with request fields f: one
 * Range header of one satisfiable range and no If-Range (whose validator
 * we do not check: the whole object is always a correct answer). */
bool http_decode_range(struct http1_fields f, uint64_t total, uint64_t *first, uint64_t *last);

#endif
