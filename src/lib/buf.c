/* buf - bounded byte buffer with read and write offsets. */
#include "lib/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, char *mem, size_t cap)
{
    b->data = mem;
    b->cap = cap;
    b->rpos = b->wpos = 0;
    b->owned = false;
}

struct buf *buf_new(size_t cap)
{
    struct buf *b = malloc(sizeof(*b));
    if (!b)
        return NULL;
    buf_init(b, NULL, 0);
    if (buf_alloc_storage(b, cap) < 0) {
        free(b);
        return NULL;
    }
    return b;
}

void buf_free(struct buf *b)
{
    if (!b)
        return;
    buf_fini(b);
    free(b);
}

int buf_alloc_storage(struct buf *b, size_t cap)
{
    char *mem = malloc(cap ? cap : 1);
    if (!mem)
        return -1;
    buf_fini(b);
    buf_init(b, mem, cap);
    b->owned = true;
    return 0;
}

void buf_fini(struct buf *b)
{
    if (b->owned)
        free(b->data);
    buf_init(b, NULL, 0);
}

void buf_reset(struct buf *b)
{
    b->rpos = b->wpos = 0;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n > buf_len(b))
        n = buf_len(b);
    b->rpos += n;
    if (b->rpos == b->wpos)
        b->rpos = b->wpos = 0;
}

void buf_produce(struct buf *b, size_t n)
{
    if (n > buf_space(b))
        n = buf_space(b);
    b->wpos += n;
}

void buf_compact(struct buf *b)
{
    if (b->rpos == 0)
        return;
    size_t n = buf_len(b);
    if (n)
        memmove(b->data, b->data + b->rpos, n);
    b->rpos = 0;
    b->wpos = n;
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
    if (n > buf_space(b))
        return false;
    if (n)
        memcpy(b->data + b->wpos, p, n);
    b->wpos += n;
    return true;
}

bool buf_append_str(struct buf *b, struct str s)
{
    return buf_append(b, s.ptr, s.len);
}

bool buf_append_cstr(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

bool buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    size_t space = buf_space(b);
    if (space == 0)
        return false;
    int n = vsnprintf(b->data + b->wpos, space, fmt, ap);
    if (n < 0 || (size_t)n >= space)
        return false; /* truncated: wpos unchanged, so nothing was appended */
    b->wpos += (size_t)n;
    return true;
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    bool ok = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return ok;
}

const char *buf_cstr(struct buf *b)
{
    if (buf_space(b) == 0)
        return "";
    b->data[b->wpos] = '\0';
    return buf_rptr(b);
}
