/* buf - bounded byte buffer with read and write offsets.
 *
 * Invariant: 0 <= rpos <= wpos <= cap. Bytes [rpos, wpos) are the
 * unread data; [wpos, cap) is free space. A buffer never grows past its
 * cap and never moves its storage, except buf_compact(), which slides the
 * unread bytes to the front (callers keep offsets, not pointers, across
 * it). The storage is either caller-provided (buf_init) or owned
 * (buf_new/buf_free).
 */
#ifndef SEKISHO_LIB_BUF_H
#define SEKISHO_LIB_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

struct buf {
    char *data;
    size_t cap;
    size_t rpos;
    size_t wpos;
    bool owned; /* data is ours to free */
};

/* buf_init - wrap caller memory; nothing is freed by buf_fini. */
void buf_init(struct buf *b, char *mem, size_t cap);
/* buf_new - heap buffer of cap bytes; NULL on allocation failure. */
struct buf *buf_new(size_t cap);
void buf_free(struct buf *b);
/* buf_alloc_storage - give an embedded buf owned heap storage; -1 on ENOMEM. */
int buf_alloc_storage(struct buf *b, size_t cap);
void buf_fini(struct buf *b);

static inline size_t buf_len(const struct buf *b)
{
    return b->wpos - b->rpos;
}
static inline size_t buf_space(const struct buf *b)
{
    return b->cap - b->wpos;
}
static inline char *buf_rptr(const struct buf *b)
{
    return b->data + b->rpos;
}
static inline char *buf_wptr(const struct buf *b)
{
    return b->data + b->wpos;
}
static inline struct str buf_view(const struct buf *b)
{
    return str_make(b->data + b->rpos, b->wpos - b->rpos);
}

/* buf_reset - empty the buffer (keeps storage). */
void buf_reset(struct buf *b);
/* buf_consume - mark n unread bytes as read (n <= buf_len). */
void buf_consume(struct buf *b, size_t n);
/* buf_produce - mark n bytes written at buf_wptr (n <= buf_space). */
void buf_produce(struct buf *b, size_t n);
/* buf_compact - move unread bytes to the start of the storage. */
void buf_compact(struct buf *b);

/* buf_append - append all n bytes or nothing; false when they do not fit. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_append_str(struct buf *b, struct str s);
bool buf_append_cstr(struct buf *b, const char *s);
/* buf_printf - formatted append, all or nothing; false on truncation. */
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* buf_cstr - NUL-terminate the unread data in place (needs one free byte)
 * and return it; returns "" when there is no room. */
const char *buf_cstr(struct buf *b);

#endif
