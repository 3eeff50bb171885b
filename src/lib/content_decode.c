/* content_decode - bounded streaming decoders; see content_decode.h. */
#include "lib/content_decode.h"

#include <brotli/decode.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define CHUNK (64 * 1024)

const char *cdec_coding_name(enum cdec_coding c)
{
    static const char *const names[] = {"identity", "gzip", "deflate", "br", "zstd"};
    return (unsigned)c <= CDEC_CODING_MAX ? names[c] : "unknown";
}

const char *cdec_result_name(enum cdec_result r)
{
    switch (r) {
    case CDEC_OK:
        return "ok";
    case CDEC_CORRUPT:
        return "corrupt stream";
    case CDEC_TOO_LARGE:
        return "decoded size over the limit";
    case CDEC_IO:
        return "I/O error";
    case CDEC_NOMEM:
        return "out of memory";
    }
    return "?";
}

/* One decoder of any coding, fed input in pieces. */
struct dec {
    enum cdec_coding c;
    z_stream z;
    bool z_init;
    bool z_end;   /* a zlib/gzip stream (member) ended */
    bool started; /* first input byte seen (deflate form sniffing) */
    BrotliDecoderState *br;
    bool br_end;
    ZSTD_DStream *zs;
    size_t zs_hint; /* 0 right after a frame ended */
    uint64_t total;
    uint64_t max_out;
    cdec_out_fn *out;
    void *arg;
    unsigned char buf[CHUNK];
};

static enum cdec_result emit(struct dec *d, size_t n)
{
    if (n == 0)
        return CDEC_OK;
    if (n > d->max_out - d->total)
        return CDEC_TOO_LARGE;
    d->total += n;
    return d->out(d->arg, d->buf, n) == 0 ? CDEC_OK : CDEC_IO;
}

/* zlib_start - gzip: windowBits 15+16. deflate: a valid zlib header (CM 8,
 * CINFO <= 7, FCHECK) means RFC 1950, anything else is tried as raw
 * deflate, as browsers do. */
static enum cdec_result zlib_start(struct dec *d, const unsigned char *p, size_t n)
{
    int wbits = 15 + 16;
    if (d->c == CDEC_DEFLATE) {
        bool zhdr = n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
                    ((unsigned)p[0] * 256u + p[1]) % 31u == 0;
        wbits = zhdr ? 15 : -15;
    }
    memset(&d->z, 0, sizeof(d->z));
    if (inflateInit2(&d->z, wbits) != Z_OK)
        return CDEC_NOMEM;
    d->z_init = true;
    d->z_end = false;
    return CDEC_OK;
}

static enum cdec_result feed_zlib(struct dec *d, const unsigned char *p, size_t n)
{
    while (n > 0) {
        if (d->z_end) {
            /* Only gzip may carry another member; anything after the end
             * of a stream is bytes the client may see and we did not. */
            if (d->c != CDEC_GZIP)
                return CDEC_CORRUPT;
            inflateEnd(&d->z);
            d->z_init = false;
        }
        if (!d->z_init) {
            enum cdec_result r = zlib_start(d, p, n);
            if (r != CDEC_OK)
                return r;
        }
        d->z.next_in = (Bytef *)(uintptr_t)p;
        d->z.avail_in = (uInt)(n > CHUNK ? CHUNK : n);
        size_t given = d->z.avail_in;
        int zr;
        do {
            d->z.next_out = d->buf;
            d->z.avail_out = CHUNK;
            zr = inflate(&d->z, Z_NO_FLUSH);
            if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
                return zr == Z_MEM_ERROR ? CDEC_NOMEM : CDEC_CORRUPT;
            enum cdec_result r = emit(d, CHUNK - d->z.avail_out);
            if (r != CDEC_OK)
                return r;
            if (zr == Z_STREAM_END) {
                d->z_end = true;
                break;
            }
        } while (d->z.avail_out == 0 || (d->z.avail_in > 0 && zr == Z_OK));
        size_t used = given - d->z.avail_in;
        if (used == 0 && !d->z_end)
            return CDEC_CORRUPT; /* no progress with input available */
        p += used;
        n -= used;
    }
    return CDEC_OK;
}

static enum cdec_result feed_br(struct dec *d, const unsigned char *p, size_t n)
{
    size_t avail_in = n;
    const uint8_t *next_in = p;
    for (;;) {
        if (d->br_end)
            return avail_in > 0 ? CDEC_CORRUPT : CDEC_OK;
        size_t avail_out = CHUNK;
        uint8_t *next_out = d->buf;
        BrotliDecoderResult br =
            BrotliDecoderDecompressStream(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        if (br == BROTLI_DECODER_RESULT_ERROR)
            return CDEC_CORRUPT;
        enum cdec_result r = emit(d, CHUNK - avail_out);
        if (r != CDEC_OK)
            return r;
        if (br == BROTLI_DECODER_RESULT_SUCCESS)
            d->br_end = true;
        else if (br == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT)
            return CDEC_OK;
    }
}

static enum cdec_result feed_zstd(struct dec *d, const unsigned char *p, size_t n)
{
    ZSTD_inBuffer in = {p, n, 0};
    for (;;) {
        size_t before = in.pos;
        ZSTD_outBuffer o = {d->buf, CHUNK, 0};
        size_t zr = ZSTD_decompressStream(d->zs, &o, &in);
        if (ZSTD_isError(zr))
            return CDEC_CORRUPT;
        /* zr is 0 once a frame is decoded and flushed; a call that moved
         * nothing (draining after a full buffer) says nothing new. */
        if (in.pos != before || o.pos > 0)
            d->zs_hint = zr;
        enum cdec_result r = emit(d, o.pos);
        if (r != CDEC_OK)
            return r;
        if (in.pos == in.size && o.pos < CHUNK)
            return CDEC_OK;
    }
}

static enum cdec_result dec_init(struct dec *d, enum cdec_coding c, uint64_t max_out,
                                 cdec_out_fn *out, void *arg)
{
    memset(d, 0, offsetof(struct dec, buf));
    d->c = c;
    d->max_out = max_out;
    d->out = out;
    d->arg = arg;
    d->zs_hint = 1;
    switch (c) {
    case CDEC_GZIP:
    case CDEC_DEFLATE:
        return CDEC_OK; /* started on the first bytes */
    case CDEC_BR:
        d->br = BrotliDecoderCreateInstance(NULL, NULL, NULL);
        return d->br ? CDEC_OK : CDEC_NOMEM;
    case CDEC_ZSTD:
        d->zs = ZSTD_createDStream();
        if (!d->zs)
            return CDEC_NOMEM;
        /* Bound the window a frame may ask for (8 MB, the RFC 8878
         * recommendation for HTTP), so a header cannot make us allocate
         * gigabytes. */
        if (ZSTD_isError(ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, 23)))
            return CDEC_NOMEM;
        return CDEC_OK;
    case CDEC_NONE:
        break;
    }
    return CDEC_CORRUPT;
}

static enum cdec_result dec_feed(struct dec *d, const unsigned char *p, size_t n)
{
    if (n == 0)
        return CDEC_OK;
    d->started = true;
    switch (d->c) {
    case CDEC_GZIP:
    case CDEC_DEFLATE:
        return feed_zlib(d, p, n);
    case CDEC_BR:
        return feed_br(d, p, n);
    case CDEC_ZSTD:
        return feed_zstd(d, p, n);
    case CDEC_NONE:
        break;
    }
    return CDEC_CORRUPT;
}

/* dec_end - the input is over: the stream must be complete. An empty body
 * is a valid empty body whatever its declared coding. */
static enum cdec_result dec_end(struct dec *d)
{
    if (!d->started)
        return CDEC_OK;
    switch (d->c) {
    case CDEC_GZIP:
    case CDEC_DEFLATE:
        return d->z_end ? CDEC_OK : CDEC_CORRUPT;
    case CDEC_BR:
        return d->br_end ? CDEC_OK : CDEC_CORRUPT;
    case CDEC_ZSTD:
        return d->zs_hint == 0 ? CDEC_OK : CDEC_CORRUPT;
    case CDEC_NONE:
        break;
    }
    return CDEC_CORRUPT;
}

static void dec_fini(struct dec *d)
{
    if (d->z_init)
        inflateEnd(&d->z);
    if (d->br)
        BrotliDecoderDestroyInstance(d->br);
    if (d->zs)
        ZSTD_freeDStream(d->zs);
}

enum cdec_result cdec_mem(enum cdec_coding c, const void *in, size_t n, uint64_t max_out,
                          cdec_out_fn *out, void *arg)
{
    struct dec *d = malloc(sizeof(*d));
    if (!d)
        return CDEC_NOMEM;
    enum cdec_result r = dec_init(d, c, max_out, out, arg);
    const unsigned char *p = in;
    while (r == CDEC_OK && n > 0) {
        size_t k = n > CHUNK ? CHUNK : n;
        r = dec_feed(d, p, k);
        p += k;
        n -= k;
    }
    if (r == CDEC_OK)
        r = dec_end(d);
    dec_fini(d);
    free(d);
    return r;
}

static int write_fd(void *arg, const void *p, size_t n)
{
    int fd = *(int *)arg;
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

enum cdec_result cdec_fd(enum cdec_coding c, int in_fd, int out_fd, uint64_t max_out,
                         uint64_t *written)
{
    *written = 0;
    struct dec *d = malloc(sizeof(*d));
    unsigned char *in = malloc(CHUNK);
    enum cdec_result r = CDEC_NOMEM;
    if (d && in) {
        int fd = out_fd;
        r = dec_init(d, c, max_out, write_fd, &fd);
        off_t off = 0;
        while (r == CDEC_OK) {
            ssize_t k = pread(in_fd, in, CHUNK, off);
            if (k < 0 && errno == EINTR)
                continue;
            if (k < 0) {
                r = CDEC_IO;
                break;
            }
            if (k == 0) {
                r = dec_end(d);
                break;
            }
            off += k;
            r = dec_feed(d, in, (size_t)k);
        }
        *written = d->total;
        dec_fini(d);
    }
    free(in);
    free(d);
    return r;
}
