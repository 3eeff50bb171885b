/* fuzz_http1_chunked - libFuzzer target for http1_chunked_decode().
 *
 * The input is a chunked message body as a peer sends it. It is decoded
 * in one piece, in pieces cut at data-dependent points, and one byte at a
 * time; the result, the number of bytes consumed and the decoded data
 * must be the same every way, data views must lie inside the input, and
 * every call must make progress or finish.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/http1_parse.h"

struct outcome {
    enum http1_result r;
    size_t consumed;
    size_t out_len;
};

/* Decode in[0..len), making at most `step` new bytes visible per round
 * (0: everything). step_seed varies the step per round. */
static struct outcome decode(const char *in, size_t len, size_t step, unsigned step_seed, char *out)
{
    struct http1_chunked st;
    http1_chunked_init(&st);
    struct outcome o = {HTTP1_AGAIN, 0, 0};
    size_t avail = 0;
    while (o.r == HTTP1_AGAIN) {
        if (o.consumed == avail) {
            if (avail == len)
                break;
            size_t n = step ? 1 + (step_seed % step) : len;
            step_seed = step_seed * 1103515245u + 12345u;
            avail = n > len - avail ? len : avail + n;
        }
        size_t used = 0;
        struct str data;
        o.r = http1_chunked_decode(&st, in + o.consumed, avail - o.consumed, &used, &data);
        if (used > avail - o.consumed)
            abort();
        if (o.r == HTTP1_AGAIN && used == 0)
            abort(); /* no progress with bytes available */
        if (data.len > 0) {
            if (data.ptr < in + o.consumed || data.ptr + data.len > in + o.consumed + used)
                abort();
            memcpy(out + o.out_len, data.ptr, data.len);
            o.out_len += data.len;
        }
        o.consumed += used;
    }
    if (o.r != HTTP1_AGAIN) {
        size_t used = 1;
        struct str data;
        if (http1_chunked_decode(&st, in, len, &used, &data) != o.r || used != 0 || data.len)
            abort(); /* final results stick */
    }
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char *a = malloc(size + 1), *b = malloc(size + 1), *c = malloc(size + 1);
    if (!a || !b || !c)
        abort();
    unsigned seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    struct outcome whole = decode(in, size, 0, 0, a);
    struct outcome parts = decode(in, size, 64, seed, b);
    struct outcome ones = decode(in, size, 1, 0, c);
    if (whole.r != parts.r || whole.consumed != parts.consumed || whole.out_len != parts.out_len ||
        memcmp(a, b, whole.out_len) != 0)
        abort();
    if (whole.r != ones.r || whole.consumed != ones.consumed || whole.out_len != ones.out_len ||
        memcmp(a, c, whole.out_len) != 0)
        abort();
    if (whole.out_len > whole.consumed)
        abort();
    free(a);
    free(b);
    free(c);
    return 0;
}
