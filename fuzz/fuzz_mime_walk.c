/* fuzz_mime_walk - libFuzzer target for proto/mime_walk.
 *
 * Input: a mail. Besides crashes and over-reads (the replay runner gives
 * a buffer of exactly the input's size), it checks the walker's promises:
 *   - every part's headers and body lie inside the input, headers before
 *     body, parts in document order (index 0, 1, ...), children after and
 *     inside their container;
 *   - depth <= MIME_DEPTH_MAX, parts <= MIME_PARTS_MAX, the summary's
 *     count and flags agree with what the callback saw;
 *   - strings are NUL-terminated, the type lowercased, the file name at
 *     most MIME_FILENAME_MAX bytes;
 *   - summary views point into the input or into the summary's store;
 *   - stopping after the first part gives MIME_STOPPED and the same
 *     summary.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/mime_walk.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

struct state {
    const char *msg;
    size_t len;
    unsigned n, flags;
    /* The open containers: where their spans end, by depth. */
    size_t end[MIME_DEPTH_MAX + 2];
    size_t start[MIME_DEPTH_MAX + 2];
};

static int inside(struct str v, const char *lo, const char *hi)
{
    return v.ptr && v.ptr >= lo && v.ptr + v.len <= hi;
}

static bool part_fn(void *arg, const struct mime_part *p)
{
    struct state *s = arg;
    const char *end = s->msg + s->len;
    check(p->index == s->n);
    check(p->depth <= MIME_DEPTH_MAX);
    check(s->n < MIME_PARTS_MAX);
    check(inside(p->headers, s->msg, end) || (p->headers.len == 0 && p->headers.ptr == end));
    check(inside(p->body, s->msg, end) || (p->body.len == 0 && p->body.ptr == end));
    check(p->headers.ptr <= p->body.ptr);
    check(memchr(p->type, '\0', sizeof(p->type)) != NULL);
    check(memchr(p->charset, '\0', sizeof(p->charset)) != NULL);
    check(strlen(p->filename) <= MIME_FILENAME_MAX);
    check(strchr(p->type, '/') != NULL);
    for (const char *c = p->type; *c; c++)
        check(!(*c >= 'A' && *c <= 'Z'));
    check(p->cte >= MIME_CTE_7BIT && p->cte <= MIME_CTE_OTHER);
    check(!(p->is_multipart && p->is_message));
    if (p->depth == 0) {
        check(p->index == 0 && p->headers.ptr == s->msg);
    } else {
        /* Inside its parent's span, after the parent's start. */
        size_t off = (size_t)(p->headers.ptr - s->msg);
        check(off >= s->start[p->depth - 1]);
        check((size_t)(p->body.ptr + p->body.len - s->msg) <= s->end[p->depth - 1]);
    }
    s->start[p->depth] = (size_t)(p->body.ptr - s->msg);
    s->end[p->depth] = (size_t)(p->body.ptr + p->body.len - s->msg);
    s->flags |= p->flags;
    s->n++;
    return true;
}

static bool stop_fn(void *arg, const struct mime_part *p)
{
    (void)p;
    (*(unsigned *)arg)++;
    return false;
}

static void check_view(const struct mime_summary *sum, struct str v, const char *msg, size_t len)
{
    if (!v.ptr)
        return;
    check(inside(v, msg, msg + len) || inside(v, sum->store, sum->store + sum->store_len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mime_summary sum, sum2;
    static struct state s;
    const char *msg = (const char *)data;
    memset(&s, 0, sizeof(s));
    s.msg = msg;
    s.len = size;
    enum mime_result r = mime_walk(msg, size, part_fn, &s, &sum);
    if (size == 0) {
        check(r == MIME_INVALID && s.n == 0);
        return 0;
    }
    check(r == MIME_DONE);
    check(s.n >= 1 && s.n <= MIME_PARTS_MAX);
    check(sum.parts == s.n);
    check(sum.flags == s.flags);
    check(sum.header_len <= size);
    check(sum.store_len <= sizeof(sum.store));
    check(memchr(sum.content_type, '\0', sizeof(sum.content_type)) != NULL);
    check_view(&sum, sum.message_id, msg, size);
    check_view(&sum, sum.date, msg, size);
    check_view(&sum, sum.from, msg, size);
    check_view(&sum, sum.to, msg, size);
    check_view(&sum, sum.cc, msg, size);
    check_view(&sum, sum.subject, msg, size);
    check_view(&sum, sum.admin_notification_id, msg, size);

    unsigned calls = 0;
    check(mime_walk(msg, size, stop_fn, &calls, &sum2) == MIME_STOPPED);
    check(calls == 1);
    check(sum2.parts == sum.parts && sum2.flags == sum.flags);
    check(sum2.header_len == sum.header_len);
    check(strcmp(sum2.content_type, sum.content_type) == 0);
    return 0;
}
