/* mime_uu - find and decode uuencoded files in a text (see mime_uu.h). */
#include "proto/mime_uu.h"

#include <string.h>

/* line_at - the line starting at off, without its line end; *next gets
 * the offset of the following line. */
static struct str line_at(struct str t, size_t off, size_t *next)
{
    const char *nl = memchr(t.ptr + off, '\n', t.len - off);
    size_t e = nl ? (size_t)(nl - t.ptr) : t.len;
    *next = nl ? e + 1 : t.len;
    if (e > off && t.ptr[e - 1] == '\r')
        e--;
    return str_make(t.ptr + off, e - off);
}

/* uu_bytes - the byte count a data line declares, or -1 when it is not
 * a data line: its characters must be in ' '..'`' and enough of them. */
static int uu_bytes(struct str l)
{
    if (l.len == 0)
        return -1;
    unsigned char c0 = (unsigned char)l.ptr[0];
    if (c0 < 0x20 || c0 > 0x60)
        return -1;
    int n = (c0 - 0x20) & 0x3f;
    size_t chars = ((size_t)n + 2) / 3 * 4;
    if (l.len < 1 + chars)
        return -1;
    for (size_t i = 1; i <= chars; i++)
        if ((unsigned char)l.ptr[i] < 0x20 || (unsigned char)l.ptr[i] > 0x60)
            return -1;
    return n;
}

/* begin_line - "begin" SP+ octal-mode SP+ name; the name into out. */
static bool begin_line(struct str l, char *name, size_t cap)
{
    if (l.len < 6 || memcmp(l.ptr, "begin", 5) != 0 || (l.ptr[5] != ' ' && l.ptr[5] != '\t'))
        return false;
    size_t i = 5;
    while (i < l.len && (l.ptr[i] == ' ' || l.ptr[i] == '\t'))
        i++;
    size_t d = i;
    while (i < l.len && l.ptr[i] >= '0' && l.ptr[i] <= '7')
        i++;
    if (i == d || i - d > 6 || i >= l.len || (l.ptr[i] != ' ' && l.ptr[i] != '\t'))
        return false;
    if (name)
        str_copy_view(name, cap, str_trim(str_make(l.ptr + i, l.len - i)));
    return true;
}

bool mime_uu_next(struct str text, size_t from, struct mime_uu *out)
{
    size_t off = from, next;
    while (off < text.len) {
        struct str l = line_at(text, off, &next);
        if (!begin_line(l, out->name, sizeof(out->name))) {
            off = next;
            continue;
        }
        size_t d = next, e = next;
        int first = e < text.len ? uu_bytes(line_at(text, e, &next)) : -1;
        if (first <= 0) {
            off = d; /* a decoy begin line: go on after it */
            continue;
        }
        while (e < text.len) {
            struct str dl = line_at(text, e, &next);
            if (dl.len >= 3 && memcmp(dl.ptr, "end", 3) == 0) {
                e = next;
                break;
            }
            if (uu_bytes(dl) < 0)
                break;
            e = next;
        }
        out->begin = off;
        out->data = d;
        out->end = e;
        return true;
    }
    return false;
}

bool mime_uu_begins(struct str text)
{
    for (size_t i = 0; i + 6 <= text.len;) {
        const char *hit = memmem(text.ptr + i, text.len - i, "begin", 5);
        if (!hit)
            return false;
        size_t at = (size_t)(hit - text.ptr);
        size_t next;
        if ((at == 0 || text.ptr[at - 1] == '\n') && begin_line(line_at(text, at, &next), NULL, 0))
            return true;
        i = at + 1;
    }
    return false;
}

size_t mime_uu_decode(const char *in, size_t len, char *out, size_t cap, size_t *used)
{
    struct str t = str_make(in, len);
    size_t off = 0, w = 0, next;
    while (off < len) {
        struct str l = line_at(t, off, &next);
        int n = uu_bytes(l);
        if (n <= 0 || (l.len >= 3 && memcmp(l.ptr, "end", 3) == 0)) {
            off = len; /* the block is over */
            break;
        }
        if (w + (size_t)n > cap)
            break;
        for (int k = 0; k < n; k++) {
            int q = k / 3, r = k % 3;
            unsigned a = ((unsigned char)l.ptr[1 + q * 4 + r] - 0x20u) & 0x3fu;
            unsigned b = ((unsigned char)l.ptr[2 + q * 4 + r] - 0x20u) & 0x3fu;
            out[w++] = (char)(((a << (2 + 2 * r)) | (b >> (4 - 2 * r))) & 0xffu);
        }
        off = next;
    }
    *used = off;
    return w;
}
