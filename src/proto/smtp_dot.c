/* smtp_dot - see smtp_dot.h. */
#include "proto/smtp_dot.h"

#include <string.h>

enum {
    DEC_LINE_START = 0, /* at the beginning of a line */
    DEC_IN_LINE,        /* inside a line */
    DEC_DOT,            /* a period began the line; it is not written */
    DEC_DOT_CR,         /* ".\r" began the line; neither is written yet */
};

void smtp_dot_decoder_init(struct smtp_dot_decoder *d)
{
    d->state = DEC_LINE_START;
    d->done = false;
}

size_t smtp_dot_decode(struct smtp_dot_decoder *d, const char *in, size_t len, char *out,
                       size_t *used)
{
    size_t o = 0, i = 0;
    while (i < len && !d->done) {
        char c = in[i++];
        switch (d->state) {
        case DEC_LINE_START:
            if (c == '.') {
                d->state = DEC_DOT;
                break;
            }
            out[o++] = c;
            d->state = c == '\n' ? DEC_LINE_START : DEC_IN_LINE;
            break;
        case DEC_IN_LINE: {
            /* The rest of the line in one copy. */
            const char *from = in + i - 1;
            const char *nl = memchr(from, '\n', len - (i - 1));
            size_t n = nl ? (size_t)(nl - from) + 1 : len - (i - 1);
            memcpy(out + o, from, n);
            o += n;
            i += n - 1;
            if (nl)
                d->state = DEC_LINE_START;
            break;
        }
        case DEC_DOT:
            if (c == '\n') { /* ".\n": the end (bare LF) */
                d->done = true;
                break;
            }
            if (c == '\r') {
                d->state = DEC_DOT_CR;
                break;
            }
            out[o++] = c; /* a stuffed period: dropped */
            d->state = DEC_IN_LINE;
            break;
        case DEC_DOT_CR:
            if (c == '\n') { /* ".\r\n": the end */
                d->done = true;
                break;
            }
            /* ".\r" then something else: a stuffed line that begins with
             * CR; c cannot be LF here. */
            out[o++] = '\r';
            out[o++] = c;
            d->state = DEC_IN_LINE;
            break;
        }
    }
    *used = i;
    return o;
}

void smtp_dot_encoder_init(struct smtp_dot_encoder *e)
{
    e->line_start = true;
    e->last_cr = false;
}

size_t smtp_dot_encode(struct smtp_dot_encoder *e, const char *in, size_t len, char *out,
                       size_t cap, size_t *used)
{
    size_t o = 0, i = 0;
    while (i < len) {
        if (!e->line_start) {
            /* Inside a line: copy up to and including its LF at once. */
            size_t room = cap - o < len - i ? cap - o : len - i;
            if (room == 0)
                break;
            const char *nl = memchr(in + i, '\n', room);
            size_t n = nl ? (size_t)(nl - (in + i)) + 1 : room;
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
            e->line_start = in[i - 1] == '\n';
            e->last_cr = in[i - 1] == '\r';
            continue;
        }
        char c = in[i];
        size_t need = (e->line_start && c == '.') ? 2 : 1;
        if (cap - o < need)
            break;
        if (need == 2)
            out[o++] = '.';
        out[o++] = c;
        e->line_start = c == '\n';
        e->last_cr = c == '\r';
        i++;
    }
    *used = i;
    return o;
}

size_t smtp_dot_end(const struct smtp_dot_encoder *e, char out[5])
{
    size_t o = 0;
    if (!e->line_start) {
        if (!e->last_cr)
            out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o++] = '.';
    out[o++] = '\r';
    out[o++] = '\n';
    return o;
}
