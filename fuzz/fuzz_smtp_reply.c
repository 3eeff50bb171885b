/* fuzz_smtp_reply - libFuzzer target for the server side of
 * proto/smtp_parse: smtp_reply_parse and smtp_ehlo_rewrite.
 *
 * The input is what a server sends: consecutive replies. Each verdict
 * must not change when more bytes follow (a prefix that is DONE, INVALID
 * or TOO_LONG gives the same on the whole); a DONE reply has a code in
 * 200-599, 1-64 lines that lie inside its len bytes, and reads the same
 * when given exactly those bytes. Every DONE reply is rewritten as an
 * EHLO reply (max_size and add_auth taken from the input): the output
 * must fit a buffer sized from the reply, be refused whole by one byte
 * less, parse back as DONE with the same code (or TOO_LONG when the added
 * lines pass the line limit), and for a 250 reply carry no deleted
 * option, exactly one SIZE line at most max_size, and exactly one AUTH
 * line "AUTH PLAIN LOGIN" when add_auth.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/smtp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLIES_MAX 32 /* replies looked at per input */

static struct smtp_reply r, r2, back;

static bool same_reply(const struct smtp_reply *a, const struct smtp_reply *b)
{
    if (a->code != b->code || a->nlines != b->nlines || a->len != b->len)
        return false;
    for (size_t i = 0; i < a->nlines; i++)
        if (a->lines[i].ptr != b->lines[i].ptr || a->lines[i].len != b->lines[i].len)
            return false;
    return true;
}

static struct str keyword(struct str line)
{
    size_t i = 0;
    while (i < line.len && line.ptr[i] != ' ' && line.ptr[i] != '\t' && line.ptr[i] != '=')
        i++;
    return str_make(line.ptr, i);
}

static void check_edited(const struct smtp_reply *in, const struct smtp_reply *o, uint64_t max_size,
                         bool add_auth)
{
    static const char *const deleted[] = {"CHUNKING", "BINARYMIME", "PIPELINING", "STARTTLS"};
    size_t sizes = 0, auths = 0;
    if (o->lines[0].len != in->lines[0].len ||
        memcmp(o->lines[0].ptr, in->lines[0].ptr, in->lines[0].len) != 0)
        abort(); /* the greeting line is kept */
    for (size_t i = 1; i < o->nlines; i++) {
        struct str kw = keyword(o->lines[i]);
        if (kw.len == 0)
            abort();
        for (size_t k = 0; k < sizeof(deleted) / sizeof(deleted[0]); k++)
            if (str_caseeq_cstr(kw, deleted[k]))
                abort();
        if (str_caseeq_cstr(kw, "SIZE")) {
            sizes++;
            struct str v = str_make(o->lines[i].ptr + 5, o->lines[i].len - 5);
            uint64_t n = 0;
            if (max_size && (o->lines[i].len < 6 || !str_to_u64(v, max_size, &n) || n == 0))
                abort();
        }
        if (str_caseeq_cstr(kw, "AUTH")) {
            auths++;
            if (add_auth && !str_eq_cstr(o->lines[i], "AUTH PLAIN LOGIN"))
                abort();
        }
    }
    if (max_size && sizes != 1)
        abort();
    if (add_auth && auths != 1)
        abort();
}

static void check_rewrite(const struct smtp_reply *in, uint64_t max_size, bool add_auth)
{
    /* every line may grow by 2 (a bare LF becomes CR LF, "DDD" becomes
     * "DDD "); at most two lines are added */
    size_t cap = in->len + 2 * in->nlines + 2 * 64;
    char *mem = malloc(cap);
    if (!mem)
        abort();
    struct buf out;
    buf_init(&out, mem, cap);
    bool keep_xforward = in->len % 2 == 0; /* both ways, whatever the input */
    if (!smtp_ehlo_rewrite(&out, in, max_size, add_auth, keep_xforward))
        abort();
    size_t n = buf_len(&out);
    if (n == 0 || mem[n - 1] != '\n' || mem[n - 2] != '\r')
        abort();
    struct buf small;
    buf_init(&small, mem, n - 1);
    if (smtp_ehlo_rewrite(&small, in, max_size, add_auth, keep_xforward) || small.wpos != 0)
        abort();
    enum smtp_result res = smtp_reply_parse(mem, n, &back);
    if (res == SMTP_TOO_LONG && in->code == 250 && in->nlines + 2 > SMTP_REPLY_LINES_MAX) {
        free(mem);
        return; /* the added SIZE / AUTH lines went past the line limit */
    }
    if (res != SMTP_DONE || back.code != in->code || back.len != n)
        abort();
    if (in->code != 250 && back.nlines != in->nlines)
        abort();
    if (in->code == 250)
        check_edited(in, &back, max_size, add_auth);
    free(mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    unsigned seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    size_t off = 0;
    for (size_t k = 0; k < REPLIES_MAX && off < size; k++) {
        size_t len = size - off;
        enum smtp_result res = smtp_reply_parse(p + off, len, &r);
        size_t cut = (seed + k) % (len + 1);
        enum smtp_result res2 = smtp_reply_parse(p + off, cut, &r2);
        if (res2 != SMTP_AGAIN && res2 != res)
            abort();
        if (res2 == SMTP_DONE && !same_reply(&r, &r2))
            abort();
        if (res != SMTP_DONE)
            break;
        if (r.code < 200 || r.code > 599 || r.nlines == 0 || r.nlines > SMTP_REPLY_LINES_MAX ||
            r.len == 0 || r.len > len || p[off + r.len - 1] != '\n')
            abort();
        for (size_t i = 0; i < r.nlines; i++) {
            struct str l = r.lines[i];
            if (l.ptr < p + off || l.ptr + l.len > p + off + r.len ||
                l.len > SMTP_REPLY_LINE_MAX - 4 || memchr(l.ptr, '\n', l.len))
                abort();
        }
        if (smtp_reply_parse(p + off, r.len, &r2) != SMTP_DONE || !same_reply(&r, &r2))
            abort();
        uint64_t max_size = (seed >> 3) % 4 == 0 ? 0 : (uint64_t)(seed >> 5) % 3000000000u;
        check_rewrite(&r, max_size, seed & 1);
        check_rewrite(&r, 2000000000u, !(seed & 1));
        off += r.len;
    }
    return 0;
}
