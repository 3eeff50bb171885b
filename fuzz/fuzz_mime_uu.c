/* fuzz_mime_uu - libFuzzer target for proto/mime_uu.
 *
 * Input: a text. Besides crashes and over-reads, it checks mime_uu's
 * promises: every block lies inside the text, begin < data <= end, blocks
 * come in order and the search always moves on; decoding consumes at most
 * its input and writes at most its room; mime_uu_begins agrees with
 * mime_uu_next finding a block (a block needs a begin line).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/mime_uu.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct str t = str_make((const char *)data, size);
    struct mime_uu u;
    size_t from = 0;
    unsigned blocks = 0;
    while (mime_uu_next(t, from, &u)) {
        check(u.begin >= from && u.begin < u.data && u.data <= u.end && u.end <= size);
        check(memchr(u.name, '\0', sizeof(u.name)) != NULL);
        char out[100];
        size_t used = 0;
        size_t n = mime_uu_decode(t.ptr + u.data, u.end - u.data, out, sizeof(out), &used);
        check(n <= sizeof(out) && used <= u.end - u.data);
        from = u.end;
        blocks++;
    }
    if (blocks)
        check(mime_uu_begins(t));
    return 0;
}
