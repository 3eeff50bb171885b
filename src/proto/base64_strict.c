/* base64_strict - see base64_strict.h. */
#include "proto/base64_strict.h"

#include <stdint.h>

int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool base64_strict_decode(struct str in, unsigned char *out, size_t cap, size_t *len)
{
    *len = 0;
    if (in.len % 4 != 0)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < in.len; i += 4) {
        const unsigned char *g = (const unsigned char *)in.ptr + i;
        bool last = i + 4 == in.len;
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            if (g[k] == '=' && last && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad > 0) /* data after padding ("ab=c") */
                return false;
            v[k] = base64_value(g[k]);
            if (v[k] < 0)
                return false;
        }
        /* "a===" or "ab=" + non-pad never get here; the unused bits of
         * the last group must be zero (RFC 4648 3.5). */
        if ((pad == 2 && (v[1] & 0x0f)) || (pad == 1 && (v[2] & 0x03)))
            return false;
        unsigned bits =
            (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
        unsigned char b[3] = {(unsigned char)(bits >> 16), (unsigned char)(bits >> 8),
                              (unsigned char)bits};
        size_t take = 3 - (size_t)pad;
        if (n + take > cap)
            return false;
        for (size_t k = 0; k < take; k++)
            out[n++] = b[k];
    }
    *len = n;
    return true;
}

bool base64_strict_encode(const unsigned char *in, size_t n, char *out, size_t cap, size_t *len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    *len = 0;
    if (n > (SIZE_MAX - 2) / 4 * 3 || BASE64_ENCODED_LEN(n) > cap)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        size_t take = n - i < 3 ? n - i : 3;
        unsigned bits = (unsigned)in[i] << 16;
        if (take > 1)
            bits |= (unsigned)in[i + 1] << 8;
        if (take > 2)
            bits |= in[i + 2];
        out[o++] = alphabet[bits >> 18 & 63];
        out[o++] = alphabet[bits >> 12 & 63];
        out[o++] = take > 1 ? alphabet[bits >> 6 & 63] : '=';
        out[o++] = take > 2 ? alphabet[bits & 63] : '=';
    }
    *len = o;
    return true;
}
