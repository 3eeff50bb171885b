/* mbox_format - see mbox_format.h. */
#include "proto/mbox_format.h"

#include <string.h>
#include <time.h>

static const char FROM_[] = "From ";

bool mbox_separator(struct buf *out, const char *sender, int64_t when)
{
    time_t t = (time_t)when;
    struct tm tm;
    char date[32];
    if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm))
        return false;
    /* A sender with white space would split the separator line. */
    char who[256];
    size_t n = 0;
    for (const char *p = sender && *sender ? sender : "MAILER-DAEMON"; *p && n + 1 < sizeof(who);
         p++)
        who[n++] = (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') ? '_' : *p;
    who[n] = '\0';
    return buf_printf(out, "From %s %s\n", who, date);
}

void mbox_writer_init(struct mbox_writer *w)
{
    memset(w, 0, sizeof(*w));
    w->line_start = true;
}

/* flush_prefix - the '>'s and the part of "From " matched so far, as they
 * were (the line turned out not to be a From_ line, or was escaped). */
static bool flush_prefix(struct mbox_writer *w, struct buf *out)
{
    for (size_t i = 0; i < w->gts; i++)
        if (!buf_append(out, ">", 1))
            return false;
    bool ok = buf_append(out, FROM_, w->from_len);
    w->gts = 0;
    w->from_len = 0;
    return ok;
}

bool mbox_write(struct mbox_writer *w, const char *in, size_t len, struct buf *out)
{
    size_t mark = out->wpos;
    struct mbox_writer saved = *w;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (w->cr) {
            w->cr = false;
            if (c != '\n' && !buf_append(out, "\r", 1))
                goto full;
        }
        if (w->line_start) {
            if (c == '>' && w->from_len == 0) {
                w->gts++;
                continue;
            }
            if (c == FROM_[w->from_len]) {
                if (++w->from_len == sizeof(FROM_) - 1) {
                    /* ">*From " at a line start: one more '>'. */
                    if (!buf_append(out, ">", 1) || !flush_prefix(w, out))
                        goto full;
                    w->line_start = false;
                }
                continue;
            }
            if (!flush_prefix(w, out))
                goto full;
            w->line_start = false;
        }
        if (c == '\r') {
            w->cr = true;
            continue;
        }
        if (!buf_append(out, &c, 1))
            goto full;
        if (c == '\n')
            w->line_start = true;
    }
    return true;
full:
    out->wpos = mark;
    *w = saved;
    return false;
}

bool mbox_finish(struct mbox_writer *w, struct buf *out)
{
    size_t mark = out->wpos;
    bool ok = true;
    if (w->cr)
        ok = buf_append(out, "\r", 1);
    if (ok && w->line_start && (w->gts || w->from_len))
        ok = flush_prefix(w, out) && buf_append(out, "\n", 1);
    else if (ok && !w->line_start)
        ok = buf_append(out, "\n", 1);
    ok = ok && buf_append(out, "\n", 1);
    if (!ok)
        out->wpos = mark;
    return ok;
}

void mbox_reader_init(struct mbox_reader *r)
{
    memset(r, 0, sizeof(*r));
    r->in_separator = true;
    r->line_start = true;
}

/* unquote_prefix - the '>'s and the part of "From " matched so far; one
 * '>' fewer when they made a whole ">From " (the writer added it). */
static bool unquote_prefix(struct mbox_reader *r, struct buf *out)
{
    size_t gts = r->gts;
    if (gts > 0 && r->from_len == sizeof(FROM_) - 1)
        gts--;
    for (size_t i = 0; i < gts; i++)
        if (!buf_append(out, ">", 1))
            return false;
    bool ok = buf_append(out, FROM_, r->from_len);
    r->gts = 0;
    r->from_len = 0;
    return ok;
}

bool mbox_read(struct mbox_reader *r, const char *in, size_t len, struct buf *out)
{
    size_t mark = out->wpos;
    struct mbox_reader saved = *r;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (r->in_separator) {
            r->in_separator = c != '\n';
            continue;
        }
        if (r->held_lf) {
            r->held_lf = false;
            if (!buf_append(out, "\r\n", 2))
                goto full;
        }
        if (r->line_start && c != '\n') {
            if (c == '>' && r->from_len == 0) {
                r->gts++;
                continue;
            }
            if (c == FROM_[r->from_len]) {
                if (++r->from_len == sizeof(FROM_) - 1) {
                    if (!unquote_prefix(r, out))
                        goto full;
                    r->line_start = false;
                }
                continue;
            }
            if (!unquote_prefix(r, out))
                goto full;
            r->line_start = false;
        }
        if (c == '\n') {
            if (!unquote_prefix(r, out))
                goto full;
            r->held_lf = true;
            r->line_start = true;
            continue;
        }
        if (!buf_append(out, &c, 1))
            goto full;
    }
    return true;
full:
    out->wpos = mark;
    *r = saved;
    return false;
}

bool mbox_read_finish(struct mbox_reader *r, struct buf *out)
{
    size_t mark = out->wpos;
    bool ok = true;
    if (r->gts || r->from_len) /* the entry ended inside a line (not the writer's) */
        ok = unquote_prefix(r, out) && buf_append(out, "\r\n", 2);
    r->held_lf = false;
    if (!ok)
        out->wpos = mark;
    return ok;
}
