/* fuzz_progress_record - libFuzzer target for proto/progress_record.
 *
 * The record is read back from a file any worker of the service may have
 * written; a decoded record must re-encode to the same bytes (the format
 * is canonical), and nothing may over-read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "proto/progress_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct progress_record r;
    static char mem[PROGRESS_RECORD_SIZE_MAX];
    if (!progress_record_parse((const char *)data, size, &r))
        return 0;
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!progress_record_format(&b, &r) || buf_len(&b) != size || memcmp(mem, data, size) != 0)
        abort();
    return 0;
}
