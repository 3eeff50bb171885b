/* digest_param - see digest_param.h. */
#include "proto/digest_param.h"

#include <string.h>
#include <strings.h>

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

bool digest_param(const char *h, size_t len, const char *name, char *out, size_t cap)
{
    if (cap == 0)
        return false;
    const char *p = h, *end = h + len;
    while (p < end && is_blank(*p))
        p++;
    if ((size_t)(end - p) < 6 || strncasecmp(p, "Digest", 6) != 0)
        return false;
    p += 6;
    if (p < end && !is_blank(*p))
        return false;
    size_t want = strlen(name);
    /* The whole list is read even after the parameter was found: a header
     * malformed anywhere gives nothing (libmicrohttpd read the same one). */
    bool found = false;
    for (;;) {
        while (p < end && (is_blank(*p) || *p == ','))
            p++;
        if (p >= end)
            return found;
        const char *n = p;
        while (p < end && is_tchar((unsigned char)*p))
            p++;
        size_t nlen = (size_t)(p - n);
        while (p < end && is_blank(*p))
            p++;
        if (nlen == 0 || p >= end || *p != '=')
            return false;
        p++;
        while (p < end && is_blank(*p))
            p++;
        bool match = !found && nlen == want && strncasecmp(n, name, want) == 0;
        size_t o = 0;
        if (p < end && *p == '"') {
            p++;
            for (;;) {
                if (p >= end)
                    return false;
                char c = *p++;
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (p >= end)
                        return false;
                    c = *p++;
                }
                if ((unsigned char)c < 0x20 || c == 0x7f)
                    return false;
                if (match) {
                    if (o + 1 >= cap)
                        return false;
                    out[o++] = c;
                }
            }
        } else {
            const char *v = p;
            while (p < end && is_tchar((unsigned char)*p))
                p++;
            if (p == v)
                return false;
            if (match) {
                if ((size_t)(p - v) + 1 > cap)
                    return false;
                memcpy(out, v, (size_t)(p - v));
                o = (size_t)(p - v);
            }
        }
        if (match) {
            out[o] = 0;
            found = true;
        }
        while (p < end && is_blank(*p))
            p++;
        if (p < end && *p != ',')
            return false;
    }
}
