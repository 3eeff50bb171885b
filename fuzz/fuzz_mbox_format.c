/* fuzz_mbox_format - libFuzzer target for proto/mbox_format.
 *
 * Invariants: no line of an entry starts with "From " (so no message can
 * forge a separator), split input gives the same bytes as whole input,
 * and the entry ends with an empty line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mbox_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t run(const uint8_t *data, size_t size, size_t step, char *mem, size_t cap)
{
    struct buf b;
    buf_init(&b, mem, cap);
    struct mbox_writer w;
    mbox_writer_init(&w);
    for (size_t i = 0; i < size; i += step)
        if (!mbox_write(&w, (const char *)data + i, size - i < step ? size - i : step, &b))
            abort();
    if (!mbox_finish(&w, &b))
        abort();
    return buf_len(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    size_t cap = 2 * size + 16;
    char *a = malloc(cap), *b = malloc(cap);
    if (!a || !b)
        abort();
    size_t na = run(data, size, size ? size : 1, a, cap);
    size_t nb = run(data, size, 1, b, cap);
    if (na != nb || memcmp(a, b, na) != 0)
        abort();
    if (na == 0 || a[na - 1] != '\n')
        abort();
    for (size_t i = 0; i + 5 <= na; i++)
        if ((i == 0 || a[i - 1] == '\n') && memcmp(a + i, "From ", 5) == 0)
            abort();
    free(a);
    free(b);
    return 0;
}
