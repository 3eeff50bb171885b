/* fuzz_pop3_reply - libFuzzer target for the server side of
 * proto/pop3_parse: pop3_status_find and pop3_body_decode / _skip.
 *
 * The input is what a server sends: status lines, each followed by a
 * multi-line body when it is +OK and the low bit of its first text byte
 * is set (the session knows from the command; the fuzzer lets the data
 * decide). Invariants: a status verdict other than AGAIN holds for every
 * longer prefix; a DONE line starts with its indicator, its text lies
 * inside it. A body decodes to the same message and stops at the same
 * byte whether it comes whole, in random pieces through a small output
 * buffer, or through pop3_body_skip; the message, stuffed again with
 * smtp_dot_encode and smtp_dot_end (the proxy's RETR path), decodes to
 * itself (plus the line end smtp_dot_end adds when it had none).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pop3_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLIES_MAX 64

static size_t decode_whole(const char *in, size_t len, char *out, size_t *used, enum pop3_result *r)
{
    struct pop3_body b;
    pop3_body_init(&b);
    size_t w = 0;
    *r = pop3_body_decode(&b, in, len, out, len + 2, used, &w);
    if (b.wire_len != *used || b.data_len != w || w > *used)
        abort();
    return w;
}

static void check_body(const char *in, size_t len, const uint8_t *steer, size_t steer_len,
                       size_t *taken, bool *done)
{
    char *whole = malloc(len + 2), *pieces = malloc(len + 2);
    if (!whole || !pieces)
        abort();
    size_t used = 0;
    enum pop3_result r;
    size_t w = decode_whole(in, len, whole, &used, &r);
    if (r != POP3_DONE && r != POP3_AGAIN)
        abort();
    if (r == POP3_AGAIN && used != len)
        abort();
    /* in pieces, through an output of 2..9 bytes */
    struct pop3_body b;
    pop3_body_init(&b);
    size_t i = 0, o = 0, s = 0;
    enum pop3_result rp = POP3_AGAIN;
    for (size_t rounds = 0; rp == POP3_AGAIN && i < len && rounds < 4 * len + 4; rounds++) {
        unsigned k = steer_len ? steer[s++ % steer_len] : 7;
        size_t piece = 1 + k % 16, cap = 2 + (k >> 4) % 8, u, wr;
        char out[16];
        if (piece > len - i)
            piece = len - i;
        rp = pop3_body_decode(&b, in + i, piece, out, cap, &u, &wr);
        if (wr > cap || o + wr > len)
            abort();
        memcpy(pieces + o, out, wr);
        i += u;
        o += wr;
    }
    if (rp != r || i != used || o != w || memcmp(whole, pieces, w) != 0)
        abort();
    pop3_body_init(&b);
    size_t su = 0;
    if (pop3_body_skip(&b, in, len, &su) != r || su != used)
        abort();
    /* restuffed, the message reads back as itself */
    char *enc = malloc(2 * w + 5), *back = malloc(2 * w + 7);
    if (!enc || !back)
        abort();
    struct smtp_dot_encoder e;
    smtp_dot_encoder_init(&e);
    size_t eu, n = smtp_dot_encode(&e, whole, w, enc, 2 * w, &eu);
    if (eu != w)
        abort();
    char end[5];
    size_t en = smtp_dot_end(&e, end);
    memcpy(enc + n, end, en);
    size_t bu;
    enum pop3_result rb;
    size_t bw = decode_whole(enc, n + en, back, &bu, &rb);
    if (rb != POP3_DONE || bu != n + en)
        abort();
    struct pop3_body chk;
    pop3_body_init(&chk);
    size_t cu = 0, cw = 0;
    pop3_body_decode(&chk, in, used, pieces, used + 2, &cu, &cw);
    bool bare = chk.dec.bare_lf || chk.dec.bare_cr;
    if (!bare && (bw < w || memcmp(back, whole, w) != 0 || bw - w > 2))
        abort();
    free(enc);
    free(back);
    free(whole);
    free(pieces);
    *taken = used;
    *done = r == POP3_DONE;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *p = (const char *)data;
    size_t off = 0;
    for (size_t k = 0; k < REPLIES_MAX && off < size; k++) {
        size_t len = size - off, used = 0;
        struct pop3_status st;
        enum pop3_result r = pop3_status_find(p + off, len, &st, &used);
        size_t cut = (size_t)(unsigned char)p[off + len / 2] % (len + 1), u2 = 0;
        struct pop3_status st2;
        enum pop3_result r2 = pop3_status_find(p + off, cut, &st2, &u2);
        if (r2 != POP3_AGAIN && (r2 != r || (r == POP3_DONE && u2 != used)))
            abort();
        if (r == POP3_AGAIN && len > POP3_STATUS_LINE_MAX + 1)
            abort();
        if (r != POP3_DONE)
            break;
        if (used > len || st.line.ptr != p + off || st.line.len > POP3_STATUS_LINE_MAX ||
            memchr(st.line.ptr, '\n', st.line.len))
            abort();
        if (st.text.len &&
            (st.text.ptr < st.line.ptr || st.text.ptr + st.text.len != st.line.ptr + st.line.len))
            abort();
        char first = st.line.ptr[0];
        if ((st.kind == POP3_ST_ERR) != (first == '-'))
            abort();
        off += used;
        if (st.kind == POP3_ST_OK && (st.text.len == 0 || (st.text.ptr[0] & 1))) {
            size_t taken = 0;
            bool done = false;
            check_body(p + off, size - off, data, size, &taken, &done);
            off += taken;
            if (!done)
                break;
        }
    }
    return 0;
}
