/* engine_decode - undo a body's content codings before it is scanned.
 *
 * Why here: decoding is CPU work proportional to the decoded size; the
 * scanner threads of scand already do that kind of work, so no proxy event
 * loop ever decodes (issue 10, item 7). The decoded copy is an unnamed
 * temporary file (O_TMPFILE in $TMPDIR or /tmp), bounded in size.
 */
#ifndef SEKISHO_SCAND_ENGINE_DECODE_H
#define SEKISHO_SCAND_ENGINE_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* engine_decode - decode fd with the codings of the request's encoding
 * byte (SCANREQ_ENC_*, canonical, not 0), at most max_out bytes per layer.
 * Returns a new descriptor of the decoded body (the caller closes it), or
 * -1 with the reason in why: the body cannot be scanned as the client will
 * see it. */
int engine_decode(int fd, unsigned encoding, uint64_t max_out, char *why, size_t whycap);

#endif
