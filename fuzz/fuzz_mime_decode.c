/* fuzz_mime_decode - libFuzzer target for proto/mime_decode.
 *
 * Input: one selector byte, one size byte, then data. Checks besides
 * crashes and over-reads:
 *   - base64 and quoted-printable decoding give the same bytes whatever
 *     the input chunking and output room (streaming equivalence), never
 *     more output than input, and consume input only forwards;
 *   - mime_decode_words is all or nothing: with one byte less room than
 *     it needs it fails and leaves the buffer alone, with exactly enough
 *     it gives the same bytes;
 *   - mime_param_get and mime_param_get_tail agree: the tail is the end of
 *     the full value (cut at a UTF-8 boundary), NUL-terminated, its
 *     control-byte count independent of the room;
 *   - mime_header_get views lie inside the header block or the unfold
 *     buffer, iteration moves forwards and ends.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/mime_decode.h"

#define OUT_CAP (128 * 1024)

static char one[OUT_CAP], two[OUT_CAP];

static void check(int cond)
{
    if (!cond)
        abort();
}

/* run_b64 / run_qp - decode in with chunks of `chunk` bytes and `room`
 * bytes of output per call into dst; returns the length. */
static size_t run_b64(struct str in, size_t chunk, size_t room, char *dst)
{
    struct mime_b64 d;
    mime_b64_init(&d);
    size_t pos = 0, n = 0, guard = 0;
    while (pos < in.len) {
        size_t take = in.len - pos < chunk ? in.len - pos : chunk, used;
        size_t cap = OUT_CAP - n < room ? OUT_CAP - n : room;
        size_t w = mime_b64_decode(&d, in.ptr + pos, take, dst + n, cap, &used);
        check(used <= take && w <= cap);
        n += w;
        pos += used;
        check(++guard < 4 * in.len + 16); /* progress with room >= 1 */
    }
    size_t w;
    while ((w = mime_b64_finish(&d, dst + n, room)) > 0) {
        n += w;
        check(++guard < 4 * in.len + 32);
    }
    check(n <= in.len);
    return n;
}

static size_t run_qp(struct str in, size_t chunk, size_t room, char *dst)
{
    struct mime_qp d;
    mime_qp_init(&d);
    size_t pos = 0, n = 0, guard = 0;
    while (pos < in.len) {
        size_t take = in.len - pos < chunk ? in.len - pos : chunk, used;
        size_t cap = OUT_CAP - n < room ? OUT_CAP - n : room;
        size_t w = mime_qp_decode(&d, in.ptr + pos, take, dst + n, cap, &used);
        check(used <= take && w <= cap);
        n += w;
        pos += used;
        check(++guard < 4 * in.len + 16 + 80 * in.len);
    }
    size_t w;
    while ((w = mime_qp_finish(&d, dst + n, room)) > 0) {
        n += w;
        check(++guard < 80 * in.len + 32);
    }
    check(n <= in.len);
    return n;
}

static void fuzz_bodies(struct str in, unsigned k)
{
    size_t chunk = 1 + k % 7, room = 1 + (k / 7) % 5;
    size_t a = run_b64(in, in.len ? in.len : 1, OUT_CAP, one);
    size_t b = run_b64(in, chunk, room, two);
    check(a == b && memcmp(one, two, a) == 0);
    a = run_qp(in, in.len ? in.len : 1, OUT_CAP, one);
    b = run_qp(in, chunk, room, two);
    check(a == b && memcmp(one, two, a) == 0);
}

static void fuzz_words(struct str in)
{
    struct buf out;
    buf_init(&out, one, sizeof(one));
    if (!mime_decode_words(in, &out)) {
        check(buf_len(&out) == 0);
        return;
    }
    size_t n = buf_len(&out);
    struct buf again;
    buf_init(&again, two, n);
    check(mime_decode_words(in, &again));
    check(buf_len(&again) == n && memcmp(one, two, n) == 0);
    if (n > 0) {
        buf_init(&again, two, n - 1);
        check(!mime_decode_words(in, &again));
        check(buf_len(&again) == 0);
    }
}

static void fuzz_param(struct str in, unsigned k)
{
    static const char *const names[] = {"filename", "name", "boundary", "charset", "title"};
    const char *name = names[k % 5];
    struct buf out;
    buf_init(&out, one, sizeof(one));
    bool found = mime_param_get(in, name, &out);
    if (!found)
        check(buf_len(&out) == 0);
    size_t n = buf_len(&out);

    char tail[64];
    size_t cap = 1 + k % sizeof(tail), ctl = 0, ctl_big = 0;
    enum mime_param_result r = mime_param_get_tail(in, name, tail, cap, &ctl);
    check(memchr(tail, '\0', cap) != NULL);
    size_t tl = strlen(tail);
    check(tl < cap);
    if (r == MIME_PARAM_ABSENT) {
        check(!found && tl == 0);
        return;
    }
    check(found);
    /* A value may hold NUL bytes (%00); the C-string tail then stops at
     * the first one, and only the counts can be compared. */
    if (memchr(one, '\0', n) != NULL) {
        check(ctl > 0);
    } else if (r == MIME_PARAM_FOUND) {
        check(tl == n && memcmp(tail, one, n) == 0);
    } else {
        check(n > cap - 1 && tl <= cap - 1 && tl + 3 >= cap - 1);
        check(memcmp(tail, one + n - tl, tl) == 0);
    }
    static char big[OUT_CAP];
    check(mime_param_get_tail(in, name, big, sizeof(big), &ctl_big) == MIME_PARAM_FOUND);
    check(ctl == ctl_big);
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += (unsigned char)one[i] < 0x20 && one[i] != 0x1b;
    check(count == ctl);

    struct str raw;
    bool quoted;
    if (mime_param_raw(in, name, &raw, &quoted))
        check(raw.ptr >= in.ptr && raw.ptr + raw.len <= in.ptr + in.len);
}

static void fuzz_headers(struct str in, unsigned k)
{
    static const char *const names[] = {"Subject", "content-type", "X", "Received", "To"};
    const char *name = names[k % 5];
    char mem[256];
    struct buf unfold;
    buf_init(&unfold, mem, 1 + (k * 37) % sizeof(mem));
    size_t it = 0, last = 0;
    for (unsigned guard = 0;; guard++) {
        check(guard <= in.len + 1);
        struct str v = mime_header_get(in, name, &it, &unfold);
        check(it <= in.len);
        if (!v.ptr)
            break;
        check(it > last);
        last = it;
        check((v.ptr >= in.ptr && v.ptr + v.len <= in.ptr + in.len) ||
              (v.ptr >= mem && v.ptr + v.len <= mem + buf_len(&unfold)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned sel = data[0], k = data[1];
    struct str in = str_make((const char *)data + 2, size - 2);
    /* Decoding at most triples the size (U+FFFD for a byte). */
    if (in.len > OUT_CAP / 4)
        in.len = OUT_CAP / 4;
    switch (sel % 4) {
    case 0:
        fuzz_bodies(in, k);
        break;
    case 1:
        fuzz_words(in);
        break;
    case 2:
        fuzz_param(in, k);
        break;
    default:
        fuzz_headers(in, k);
        break;
    }
    return 0;
}
