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
 *     summary;
 *   - walking in steps of pseudo-random budgets (from 1 byte to the whole
 *     input, seeded by the input) gives the same summary and the same
 *     parts as one pass.
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

/* The parts of the one pass, to compare the stepped walk with. */
static struct mime_part seen[MIME_PARTS_MAX];

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
    seen[s->n] = *p;
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

static int same_view(struct str a, struct str b)
{
    if (!a.ptr || !b.ptr)
        return a.ptr == b.ptr;
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static int same_part(const struct mime_part *a, const struct mime_part *b)
{
    return a->index == b->index && a->depth == b->depth && a->flags == b->flags &&
           a->headers.ptr == b->headers.ptr && a->headers.len == b->headers.len &&
           a->body.ptr == b->body.ptr && a->body.len == b->body.len &&
           strcmp(a->type, b->type) == 0 && strcmp(a->charset, b->charset) == 0 &&
           strcmp(a->filename, b->filename) == 0 && a->cte == b->cte &&
           a->attachment == b->attachment && a->is_multipart == b->is_multipart &&
           a->is_message == b->is_message && a->is_partial == b->is_partial;
}

/* check_stepped - the walk in steps of budgets drawn from an xorshift
 * generator seeded with the input's FNV-1a hash. */
static void check_stepped(const char *msg, size_t size, const struct mime_summary *one,
                          unsigned nparts)
{
    static struct mime_walker w;
    static struct mime_summary sum;
    uint64_t x = 1469598103934665603u;
    for (size_t i = 0; i < size; i++)
        x = (x ^ (uint8_t)msg[i]) * 1099511628211u;
    x |= 1;
    check(mime_walker_init(&w, msg, size) == MIME_MORE);
    size_t steps = 0;
    enum mime_result r;
    do {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* mostly small budgets, sometimes up to the whole input */
        size_t budget = (x & 3) ? 1 + (size_t)(x >> 8) % 64 : 1 + (size_t)(x >> 8) % (size + 1);
        r = mime_walker_step(&w, budget);
        check(++steps <= size + 2);
    } while (r == MIME_MORE);
    check(r == MIME_DONE);
    mime_walker_summary(&w, &sum);
    check(sum.parts == one->parts && sum.flags == one->flags);
    check(sum.header_len == one->header_len && sum.header_lines_max == one->header_lines_max);
    check(strcmp(sum.content_type, one->content_type) == 0);
    check(same_view(sum.message_id, one->message_id) && same_view(sum.date, one->date));
    check(same_view(sum.from, one->from) && same_view(sum.to, one->to));
    check(same_view(sum.cc, one->cc) && same_view(sum.subject, one->subject));
    check(same_view(sum.admin_notification_id, one->admin_notification_id));
    check(mime_walker_parts(&w) == nparts);
    for (unsigned k = 0; k < nparts; k++) {
        struct mime_part p;
        mime_walker_part(&w, k, &p);
        check(same_part(&p, &seen[k]));
    }
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

    check_stepped(msg, size, &sum, s.n);
    return 0;
}
