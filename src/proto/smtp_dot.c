/* smtp_dot - see smtp_dot.h. */
#include "proto/smtp_dot.h"

#include <string.h>

enum {
    DEC_LINE_START = 0, /* at the beginning of a line (after CRLF) */
    DEC_IN_LINE,        /* inside a line */
    DEC_CR,             /* inside a line, after a CR (already written) */
    DEC_DOT,            /* a period began the line; it is not written */
    DEC_DOT_CR,         /* ".\r" began the line; neither is written yet */
};

void smtp_dot_decoder_init(struct smtp_dot_decoder *d)
{
    d->state = DEC_LINE_START;
    d->done = false;
    d->bare_lf = false;
    d->bare_cr = false;
}

/* in_line_run - the plain bytes of a line up to the next CR or LF, in one
 * copy; returns how many. */
static size_t in_line_run(const char *in, size_t len, char *out)
{
    size_t n = 0;
    while (n < len && in[n] != '\r' && in[n] != '\n')
        n++;
    memcpy(out, in, n);
    return n;
}

size_t smtp_dot_decode(struct smtp_dot_decoder *d, const char *in, size_t len, char *out,
                       size_t *used)
{
    size_t o = 0, i = 0;
    while (i < len && !d->done) {
        char c = in[i];
        switch (d->state) {
        case DEC_LINE_START:
            if (c == '.') {
                d->state = DEC_DOT;
                i++;
                break;
            }
            d->state = DEC_IN_LINE; /* c is looked at again there */
            break;
        case DEC_IN_LINE: {
            size_t n = in_line_run(in + i, len - i, out + o);
            o += n;
            i += n;
            if (i == len)
                break;
            c = in[i++];
            out[o++] = c;
            if (c == '\r')
                d->state = DEC_CR;
            else
                d->bare_lf = true; /* a bare LF is data, never a line end */
            break;
        }
        case DEC_CR:
            if (c == '\n') {
                out[o++] = c;
                i++;
                d->state = DEC_LINE_START;
                break;
            }
            d->bare_cr = true;
            d->state = DEC_IN_LINE; /* c is looked at again there */
            break;
        case DEC_DOT:
            if (c == '\r') {
                d->state = DEC_DOT_CR;
                i++;
                break;
            }
            /* A stuffed period: dropped; c is looked at again in the line
             * (so ".\n" is a bare LF, not the end). */
            d->state = DEC_IN_LINE;
            break;
        case DEC_DOT_CR:
            if (c == '\n') { /* "\r\n.\r\n": the end */
                i++;
                d->done = true;
                break;
            }
            /* ".\r" then something else: a bare CR in a stuffed line. */
            out[o++] = '\r';
            d->bare_cr = true;
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
    e->crlf = true;
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
            if (e->line_start)
                e->crlf = n >= 2 ? in[i - 2] == '\r' : e->last_cr;
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
        if (e->line_start)
            e->crlf = e->last_cr;
        e->last_cr = c == '\r';
        i++;
    }
    *used = i;
    return o;
}

size_t smtp_dot_end(const struct smtp_dot_encoder *e, char out[5])
{
    size_t o = 0;
    if (!e->line_start || !e->crlf) {
        if (!e->last_cr)
            out[o++] = '\r';
        out[o++] = '\n';
    }
    out[o++] = '.';
    out[o++] = '\r';
    out[o++] = '\n';
    return o;
}
