/* mime_cte - the content-transfer-encodings of mail bodies: base64 and
 * quoted-printable, decoded in pieces as they come (mime_decode.h).
 * Pure and bounded: no I/O, no allocation, the caller's output buffer.
 */
#include "proto/mime_decode.h"

#include <string.h>

#include "lib/str.h"

/* ---- base64 ----------------------------------------------------------- */

/* 0..63 for the alphabet, 64 for '=', 65 for whitespace, 66 for garbage. */
static const unsigned char b64_class[256] = {
    ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,   ['E'] = 4,   ['F'] = 5,   ['G'] = 6,
    ['H'] = 7,  ['I'] = 8,  ['J'] = 9,  ['K'] = 10,  ['L'] = 11,  ['M'] = 12,  ['N'] = 13,
    ['O'] = 14, ['P'] = 15, ['Q'] = 16, ['R'] = 17,  ['S'] = 18,  ['T'] = 19,  ['U'] = 20,
    ['V'] = 21, ['W'] = 22, ['X'] = 23, ['Y'] = 24,  ['Z'] = 25,  ['a'] = 26,  ['b'] = 27,
    ['c'] = 28, ['d'] = 29, ['e'] = 30, ['f'] = 31,  ['g'] = 32,  ['h'] = 33,  ['i'] = 34,
    ['j'] = 35, ['k'] = 36, ['l'] = 37, ['m'] = 38,  ['n'] = 39,  ['o'] = 40,  ['p'] = 41,
    ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45,  ['u'] = 46,  ['v'] = 47,  ['w'] = 48,
    ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52,  ['1'] = 53,  ['2'] = 54,  ['3'] = 55,
    ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59,  ['8'] = 60,  ['9'] = 61,  ['+'] = 62,
    ['/'] = 63, ['='] = 64, [' '] = 65, ['\t'] = 65, ['\r'] = 65, ['\n'] = 65,
};
#define B64_PAD   64
#define B64_SPACE 65

static unsigned b64_classify(unsigned char c)
{
    unsigned v = b64_class[c];
    /* The table leaves unlisted bytes at 0, which is also 'A'. */
    if (v == 0 && c != 'A')
        return 66;
    return v;
}

void mime_b64_init(struct mime_b64 *d)
{
    memset(d, 0, sizeof(*d));
}

static size_t b64_drain(struct mime_b64 *d, char *out, size_t cap, size_t w)
{
    while (d->pendpos < d->npend && w < cap)
        out[w++] = (char)d->pend[d->pendpos++];
    if (d->pendpos == d->npend)
        d->npend = d->pendpos = 0;
    return w;
}

/* b64_emit - queue n (1..3) decoded bytes from the top of acc. */
static void b64_emit(struct mime_b64 *d, unsigned n)
{
    uint32_t v = d->acc;
    if (n == 1) {
        d->pend[0] = (unsigned char)(v >> 4);
    } else if (n == 2) {
        d->pend[0] = (unsigned char)(v >> 10);
        d->pend[1] = (unsigned char)(v >> 2);
    } else {
        d->pend[0] = (unsigned char)(v >> 16);
        d->pend[1] = (unsigned char)(v >> 8);
        d->pend[2] = (unsigned char)v;
    }
    d->npend = n;
    d->pendpos = 0;
    d->acc = 0;
    d->nsext = 0;
}

/* b64_end_quantum - '=' or the end of input: flush a partial quantum. */
static void b64_end_quantum(struct mime_b64 *d)
{
    if (d->nsext == 2)
        b64_emit(d, 1);
    else if (d->nsext == 3)
        b64_emit(d, 2);
    else if (d->nsext == 1)
        d->garbage++; /* six bits make no byte */
    d->acc = 0;
    d->nsext = 0;
}

size_t mime_b64_decode(struct mime_b64 *d, const char *in, size_t len, char *out, size_t cap,
                       size_t *used)
{
    size_t w = b64_drain(d, out, cap, 0), i = 0;
    while (i < len && d->npend == 0) {
        /* Fast path: a whole quantum of alphabet characters at a quantum
         * boundary (nearly all of a base64 body) goes straight to out. */
        while (d->nsext == 0 && len - i >= 4 && cap - w >= 3) {
            const unsigned char *q = (const unsigned char *)in + i;
            unsigned a = b64_classify(q[0]), b = b64_classify(q[1]);
            unsigned c = b64_classify(q[2]), e = b64_classify(q[3]);
            if ((a | b | c | e) >= 64)
                break;
            uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | e;
            out[w++] = (char)(v >> 16);
            out[w++] = (char)(v >> 8);
            out[w++] = (char)v;
            i += 4;
        }
        if (i >= len)
            break;
        unsigned v = b64_classify((unsigned char)in[i++]);
        if (v < 64) {
            d->acc = (d->acc << 6) | v;
            if (++d->nsext == 4)
                b64_emit(d, 3);
        } else if (v == B64_PAD) {
            b64_end_quantum(d);
        } else if (v != B64_SPACE) {
            d->garbage++;
        }
        w = b64_drain(d, out, cap, w);
    }
    *used = i;
    return w;
}

size_t mime_b64_finish(struct mime_b64 *d, char *out, size_t cap)
{
    size_t w = b64_drain(d, out, cap, 0);
    if (d->npend == 0 && d->nsext > 0) {
        b64_end_quantum(d);
        w = b64_drain(d, out, cap, w);
    }
    return w;
}

/* ---- quoted-printable ------------------------------------------------- */

enum qp_state {
    QP_TEXT = 0, /* hold: whitespace that may be trailing */
    QP_CR,       /* saw CR after text; hold kept */
    QP_EQ,       /* saw '=' */
    QP_EQ_WS,    /* saw '=' and whitespace (hold has it) */
    QP_EQ_CR,    /* saw '=' [whitespace] CR */
    QP_HEX1,     /* saw '=' and one hex digit (first) */
};

void mime_qp_init(struct mime_qp *d)
{
    memset(d, 0, sizeof(*d));
}

static void qp_put(struct mime_qp *d, const char *p, size_t n)
{
    /* Callers never queue more than MIME_QP_HOLD_MAX + 3 bytes per input
     * byte and only feed a byte when pend is empty, so this always fits. */
    if (n > sizeof(d->pend) - d->npend)
        n = sizeof(d->pend) - d->npend;
    memcpy(d->pend + d->npend, p, n);
    d->npend += (unsigned)n;
}

static void qp_put_hold(struct mime_qp *d)
{
    qp_put(d, d->hold, d->nhold);
    d->nhold = 0;
}

static size_t qp_drain(struct mime_qp *d, char *out, size_t cap, size_t w)
{
    while (d->pendpos < d->npend && w < cap)
        out[w++] = d->pend[d->pendpos++];
    if (d->pendpos == d->npend)
        d->npend = d->pendpos = 0;
    return w;
}

/* qp_byte - feed one input byte. */
static void qp_byte(struct mime_qp *d, char c)
{
    for (;;) { /* at most two rounds: an invalid escape re-reads c as text */
        switch ((enum qp_state)d->state) {
        case QP_TEXT:
            if (c == '=') {
                qp_put_hold(d);
                d->state = QP_EQ;
            } else if (c == ' ' || c == '\t') {
                if (d->nhold == MIME_QP_HOLD_MAX)
                    qp_put_hold(d);
                d->hold[d->nhold++] = c;
            } else if (c == '\r') {
                d->state = QP_CR;
            } else if (c == '\n') {
                d->nhold = 0; /* trailing whitespace, RFC 2045 6.7 (3) */
                qp_put(d, "\n", 1);
            } else {
                qp_put_hold(d);
                qp_put(d, &c, 1);
            }
            return;
        case QP_CR:
            d->state = QP_TEXT;
            if (c == '\n') {
                d->nhold = 0;
                qp_put(d, "\r\n", 2);
                return;
            }
            qp_put_hold(d);
            qp_put(d, "\r", 1);
            continue;
        case QP_EQ:
            if (str_hex_digit((unsigned char)c) >= 0) {
                d->first = (unsigned char)c;
                d->state = QP_HEX1;
                return;
            }
            if (c == ' ' || c == '\t') {
                d->hold[d->nhold++] = c;
                d->state = QP_EQ_WS;
                return;
            }
            if (c == '\r') {
                d->state = QP_EQ_CR;
                return;
            }
            if (c == '\n') { /* soft line break */
                d->state = QP_TEXT;
                return;
            }
            d->invalid++;
            qp_put(d, "=", 1);
            d->state = QP_TEXT;
            continue;
        case QP_EQ_WS:
            if ((c == ' ' || c == '\t') && d->nhold < MIME_QP_HOLD_MAX) {
                d->hold[d->nhold++] = c;
                return;
            }
            if (c == '\r') {
                d->state = QP_EQ_CR;
                return;
            }
            if (c == '\n') {
                d->nhold = 0;
                d->state = QP_TEXT;
                return;
            }
            d->invalid++;
            qp_put(d, "=", 1);
            qp_put_hold(d);
            d->state = QP_TEXT;
            continue;
        case QP_EQ_CR:
            if (c == '\n') {
                d->nhold = 0;
                d->state = QP_TEXT;
                return;
            }
            d->invalid++;
            qp_put(d, "=", 1);
            qp_put_hold(d);
            qp_put(d, "\r", 1);
            d->state = QP_TEXT;
            continue;
        case QP_HEX1: {
            int lo = str_hex_digit((unsigned char)c);
            d->state = QP_TEXT;
            if (lo >= 0) {
                char b = (char)(str_hex_digit(d->first) << 4 | lo);
                qp_put(d, &b, 1);
                return;
            }
            d->invalid++;
            char lit[2] = {'=', (char)d->first};
            qp_put(d, lit, 2);
            continue;
        }
        }
        d->state = QP_TEXT; /* unreachable: unknown state */
    }
}

size_t mime_qp_decode(struct mime_qp *d, const char *in, size_t len, char *out, size_t cap,
                      size_t *used)
{
    size_t w = qp_drain(d, out, cap, 0), i = 0;
    while (i < len && d->npend == 0) {
        qp_byte(d, in[i++]);
        w = qp_drain(d, out, cap, w);
    }
    *used = i;
    return w;
}

size_t mime_qp_finish(struct mime_qp *d, char *out, size_t cap)
{
    size_t w = qp_drain(d, out, cap, 0);
    if (d->npend > 0)
        return w;
    switch ((enum qp_state)d->state) {
    case QP_TEXT:
        d->nhold = 0; /* the last line's trailing whitespace */
        break;
    case QP_CR:
        d->nhold = 0;
        qp_put(d, "\r", 1);
        break;
    case QP_EQ:
        d->invalid++;
        qp_put(d, "=", 1);
        break;
    case QP_EQ_WS:
    case QP_EQ_CR:
        d->nhold = 0; /* a soft line break at the very end */
        break;
    case QP_HEX1: {
        char lit[2] = {'=', (char)d->first};
        d->invalid++;
        qp_put(d, lit, 2);
        break;
    }
    }
    d->state = QP_TEXT;
    return qp_drain(d, out, cap, w);
}
