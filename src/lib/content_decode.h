/* content_decode - bounded streaming decoders for HTTP content codings.
 *
 * Why: a body sent with Content-Encoding reaches the client's decoder, not
 * ours; libclamav unpacks gzip but not zlib/raw deflate, brotli or zstd, so
 * such a body must be decoded before it is scanned (issue 10, item 7). The
 * decoders run in sekisho-scand's scanner threads (CPU work, never on a
 * proxy event loop). Output is bounded by the caller (decompression
 * bombs); a stream that does not end exactly where its input ends
 * (truncated, corrupt, trailing bytes) is an error, never a short success.
 * Uses zlib, libbrotlidec and libzstd; nothing of ours.
 */
#ifndef SEKISHO_LIB_CONTENT_DECODE_H
#define SEKISHO_LIB_CONTENT_DECODE_H

#include <stddef.h>
#include <stdint.h>

enum cdec_coding {
    CDEC_NONE = 0,
    CDEC_GZIP = 1,    /* RFC 1952, any number of members */
    CDEC_DEFLATE = 2, /* RFC 1950 zlib, or raw RFC 1951 as browsers accept it */
    CDEC_BR = 3,      /* RFC 7932 */
    CDEC_ZSTD = 4,    /* RFC 8878, any number of frames */
    CDEC_CODING_MAX = CDEC_ZSTD,
};

enum cdec_result {
    CDEC_OK = 0,
    CDEC_CORRUPT,   /* not a valid stream of that coding */
    CDEC_TOO_LARGE, /* the decoded size would pass the bound */
    CDEC_IO,        /* reading or writing a descriptor failed (errno) */
    CDEC_NOMEM,
};

const char *cdec_coding_name(enum cdec_coding c);
const char *cdec_result_name(enum cdec_result r);

/* cdec_out_fn - takes n decoded bytes; returns 0, or -1 to stop (CDEC_IO). */
typedef int cdec_out_fn(void *arg, const void *p, size_t n);

/* cdec_mem - decode the whole of in[0..n) with coding c, handing the output
 * to out in pieces; at most max_out bytes in all. */
enum cdec_result cdec_mem(enum cdec_coding c, const void *in, size_t n, uint64_t max_out,
                          cdec_out_fn *out, void *arg);

/* cdec_fd - decode the regular file in_fd (from offset 0) into out_fd at
 * its current offset; *written = decoded bytes. */
enum cdec_result cdec_fd(enum cdec_coding c, int in_fd, int out_fd, uint64_t max_out,
                         uint64_t *written);

#endif
