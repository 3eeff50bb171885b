/* fuzz_smtp_dot - libFuzzer target for proto/smtp_dot.
 *
 * Invariants: decoding never writes more than it reads; any message,
 * stuffed by the encoder and ended by smtp_dot_end, is read to its end
 * line, which is the last thing in it (bare CR or LF cannot end it
 * early); a message without bare CR or LF decodes to itself (plus the
 * line end smtp_dot_end had to add); splitting the input changes nothing,
 * the bare CR / LF flags included.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/smtp_dot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *in = (const char *)data;
    char *dec = malloc(size + 1), *enc = malloc(2 * size + 5), *back = malloc(2 * size + 5);
    if (!dec || !enc || !back)
        abort();
    /* 1. raw input as a client's DATA stream, whole and byte by byte */
    struct smtp_dot_decoder d, d1;
    smtp_dot_decoder_init(&d);
    size_t used, n = smtp_dot_decode(&d, in, size, dec, &used);
    if (n > used || used > size)
        abort();
    smtp_dot_decoder_init(&d1);
    size_t n1 = 0, i = 0;
    while (i < size && !d1.done) {
        size_t u;
        n1 += smtp_dot_decode(&d1, in + i, 1, back + n1, &u);
        i += u;
    }
    if (d1.done != d.done || i != used || n1 != n || memcmp(back, dec, n) != 0 ||
        d1.bare_lf != d.bare_lf || d1.bare_cr != d.bare_cr)
        abort();
    /* 2. the input as a message: encode, end, decode */
    struct smtp_dot_encoder e;
    smtp_dot_encoder_init(&e);
    size_t m = smtp_dot_encode(&e, in, size, enc, 2 * size, &used);
    if (used != size)
        abort();
    m += smtp_dot_end(&e, enc + m);
    smtp_dot_decoder_init(&d);
    size_t b = smtp_dot_decode(&d, enc, m, back, &used);
    if (!d.done || used != m)
        abort();
    if (d.bare_lf || d.bare_cr) {
        /* Not a message a client may send (it is refused); only the end
         * line matters here. */
        free(dec);
        free(enc);
        free(back);
        return 0;
    }
    if (b < size || memcmp(back, in, size) != 0)
        abort();
    size_t extra = b - size; /* the line end smtp_dot_end added */
    if (extra > 2 || (size > 0 && in[size - 1] == '\n' && extra != 0))
        abort();
    free(dec);
    free(enc);
    free(back);
    return 0;
}
