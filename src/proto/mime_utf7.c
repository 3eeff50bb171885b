/* mime_utf7 - see mime_utf7.h. */
#include "proto/mime_utf7.h"

#include <string.h>

#include "proto/base64_strict.h"

void mime_utf7_init(struct mime_utf7 *d)
{
    memset(d, 0, sizeof(*d));
}

static size_t put_fffd(char *out)
{
    memcpy(out, "\xef\xbf\xbd", 3);
    return 3;
}

/* put_cp - code point cp (a scalar value) as UTF-8. */
static size_t put_cp(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* put_unit - one UTF-16 code unit, pairing surrogates. */
static size_t put_unit(struct mime_utf7 *d, uint16_t u, char *out)
{
    size_t n = 0;
    if (u >= 0xdc00 && u <= 0xdfff) {
        if (!d->hi)
            return put_fffd(out);
        uint32_t cp = 0x10000 + ((uint32_t)(d->hi - 0xd800) << 10) + (uint32_t)(u - 0xdc00);
        d->hi = 0;
        return put_cp(cp, out);
    }
    if (d->hi) {
        n = put_fffd(out);
        d->hi = 0;
    }
    if (u >= 0xd800 && u <= 0xdbff) {
        d->hi = u;
        return n;
    }
    return n + put_cp(u, out + n);
}

/* end_run - leave a base64 run: a high surrogate cannot be completed. */
static size_t end_run(struct mime_utf7 *d, char *out)
{
    d->b64 = false;
    d->bits = 0;
    d->nbits = 0;
    if (!d->hi)
        return 0;
    d->hi = 0;
    return put_fffd(out);
}

size_t mime_utf7_byte(struct mime_utf7 *d, unsigned char b, char *out)
{
    size_t n = 0;
    if (d->b64) {
        int v = base64_value(b);
        if (v >= 0) {
            d->fresh = false;
            d->bits = (d->bits << 6 | (uint32_t)v) & 0x3fffff;
            d->nbits += 6;
            if (d->nbits < 16)
                return 0;
            d->nbits -= 16;
            return put_unit(d, (uint16_t)(d->bits >> d->nbits), out);
        }
        bool fresh = d->fresh;
        n = end_run(d, out);
        if (b == '-') {
            if (fresh)
                out[n++] = '+';
            return n;
        }
        /* Any other byte ends the run and is direct text. */
    }
    if (b == '+') {
        d->b64 = true;
        d->fresh = true;
        return n;
    }
    if (b >= 0x80)
        return n + put_fffd(out + n);
    out[n++] = (char)b;
    return n;
}

size_t mime_utf7_finish(struct mime_utf7 *d, char *out)
{
    size_t n = end_run(d, out);
    mime_utf7_init(d);
    return n;
}
