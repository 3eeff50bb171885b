/* fuzz_http_coding - libFuzzer target for proto/http_coding.
 *
 * Input: a Content-Encoding / Accept-Encoding value. Checks besides
 * crashes and over-reads: the list never holds more than its maximum, its
 * codings are known ones, and the Accept-Encoding filter never writes
 * more than its input plus separators, all or nothing when short.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/http_coding.h"

static char out[1 << 17];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct str v = str_make((const char *)data, size);
    struct http_coding_list l;
    http_coding_list_init(&l);
    http_coding_add(&l, v);
    if (l.count > HTTP_CODING_LAYERS_MAX)
        abort();
    for (unsigned i = 0; i < l.count; i++)
        if (l.codings[i] > HTTP_CODING_ZSTD || (l.codings[i] == HTTP_CODING_UNKNOWN && !l.unknown))
            abort();
    size_t cap = size * 2 + 2 < sizeof(out) ? size * 2 + 2 : sizeof(out);
    struct buf b;
    buf_init(&b, out, cap);
    bool ok = http_coding_filter_accept(v, &b);
    if (!ok && b.wpos != 0)
        abort();
    buf_init(&b, out, cap / 3);
    ok = http_coding_filter_accept(v, &b);
    if (!ok && b.wpos != 0)
        abort();
    return 0;
}
