/* fuzz_http_range - libFuzzer target for proto/http_range.
 *
 * Input: 2 bytes of object size (0-65535), then a Range value. Checks
 * besides crashes and over-reads: an accepted range lies inside the object
 * and is not empty (first <= last < total).
 */
#include <stdint.h>
#include <stdlib.h>

#include "lib/str.h"
#include "proto/http_range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint64_t total = (uint64_t)data[0] << 8 | data[1];
    uint64_t a = 0, b = 0;
    if (http_range_single(str_make((const char *)data + 2, size - 2), total, &a, &b) &&
        !(a <= b && b < total))
        abort();
    return 0;
}
