/* fuzz_digest_param - libFuzzer target for proto/digest_param.
 *
 * Input: a parameter name, a NUL, then the Authorization header value
 * (without a NUL: the name "opaque" and the whole input as the header).
 * The header comes from any client before it is authenticated, so any
 * crash, over-read (the header is a buffer of exactly its size), write
 * past the output capacity (checked with a guard area) or UB is a bug;
 * so is a found value that breaks the documented rules: not terminated
 * inside the capacity, holding a control byte, longer than the header,
 * found with a capacity one byte too small, not found again under the
 * name in upper case, or not given back from a header rebuilt as
 * Digest name="<value with \ and " escaped>".
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/digest_param.h"

#define CAP   256
#define GUARD 16

static bool call(const char *h, size_t len, const char *name, char *out, size_t cap)
{
    memset(out, 0xa5, cap + GUARD);
    bool ok = digest_param(h, len, name, out, cap);
    for (size_t i = cap; i < cap + GUARD; i++)
        if ((unsigned char)out[i] != 0xa5)
            abort();
    if (ok && strnlen(out, cap) >= cap)
        abort();
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    char name[64] = "opaque";
    const char *z = memchr(p, '\0', size);
    if (z != NULL && (size_t)(z - p) < sizeof(name)) {
        memcpy(name, p, (size_t)(z - p) + 1);
        p = z + 1;
        size -= (size_t)(z - (const char *)data) + 1;
    }
    char *h = malloc(size ? size : 1);
    if (h == NULL)
        return 0;
    memcpy(h, p, size);
    static char out[CAP + GUARD], again[CAP + GUARD];
    /* a capacity from the input's length, so small ones are tried too */
    size_t cap = 1 + size % CAP;
    if (!call(h, size, name, out, cap)) {
        free(h);
        return 0;
    }
    size_t n = strlen(out);
    if (n > size)
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
            abort();
    /* exactly n + 1 bytes are enough, n are not */
    if (!call(h, size, name, again, n + 1) || strcmp(again, out) != 0)
        abort();
    if (n > 0 && call(h, size, name, again, n))
        abort();
    /* the name in another case */
    char upper[64];
    size_t nl = strlen(name);
    for (size_t i = 0; i <= nl; i++)
        upper[i] = (char)toupper((unsigned char)name[i]);
    if (!call(h, size, upper, again, cap) || strcmp(again, out) != 0)
        abort();
    free(h);
    /* rebuilt as one quoted parameter, the value comes back */
    char *r = malloc(16 + nl + 2 * n);
    if (r == NULL)
        return 0;
    size_t rl = (size_t)(stpcpy(stpcpy(r, "Digest "), name) - r);
    r[rl++] = '=';
    r[rl++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (out[i] == '"' || out[i] == '\\')
            r[rl++] = '\\';
        r[rl++] = out[i];
    }
    r[rl++] = '"';
    if (!call(r, rl, name, again, CAP) || strcmp(again, out) != 0)
        abort();
    free(r);
    return 0;
}
