/* log_view - see log_view.h. */
#include "core/log_view.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* U+FFFD REPLACEMENT CHARACTER */
static const char replacement[3] = {'\xef', '\xbf', '\xbd'};

struct view {
    int fd;
    const struct log_view_request *rq;
    size_t line_max;
    uint64_t read_max;
    struct buf *out;
    struct log_view_result *res;
    off_t size;
    char *chunk; /* [chunk_pos, chunk_pos + chunk_len) of the file */
    off_t chunk_pos;
    size_t chunk_len;
    char *head; /* a line's first bytes when they are not all in chunk */
    char *text; /* the line as shown */
    size_t text_cap;
    char *err;
    size_t errcap;
};

/* What emit_line tells the scan. */
enum step { STEP_MORE, STEP_STOP, STEP_ERROR };

static void set_err(struct view *v, int e, const char *what)
{
    str_format(v->err, v->errcap, "%s: %s", what, strerror(e));
    errno = e;
}

/* budget - how many of want bytes the read budget still allows. */
static size_t budget(const struct view *v, size_t want)
{
    uint64_t left = v->read_max - v->res->bytes_read;
    return left < want ? (size_t)left : want;
}

/* read_at - exactly n bytes at off; a file that ends before is an error
 * (it shrank after it was opened). */
static bool read_at(struct view *v, char *dst, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(v->fd, dst + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_err(v, errno, "read error");
            return false;
        }
        if (r == 0) {
            str_copy(v->err, v->errcap, "the file shrank while it was read");
            errno = EIO;
            return false;
        }
        got += (size_t)r;
    }
    v->res->bytes_read += n;
    return true;
}

/* utf8_len - the length of the valid UTF-8 sequence at p[0..n) (RFC 3629
 * table 4: no overlong forms, no surrogates, nothing above U+10FFFF); 0
 * when p[0] starts none; -1 when p[0..n) is a valid start of one that n
 * cuts short. */
static int utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    int len;
    unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else {
        return 0;
    }
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        unsigned char b = p[i];
        if (i == 1 ? b < lo || b > hi : b < 0x80 || b > 0xbf)
            return 0;
    }
    return len;
}

/* sanitize - write p[0..n) as text into dst[0..cap) (see log_view.h), as
 * much as fits in whole characters; *dn the bytes written. more: the line
 * goes on after n, so a sequence n cuts short is not invalid but unseen.
 * Returns the bytes of p written. */
static size_t sanitize(const char *src, size_t n, bool more, char *dst, size_t cap, size_t *dn)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char c = p[i];
        const char *w = src + i;
        size_t wl = 1, used = 1;
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                w = replacement;
                wl = sizeof(replacement);
            }
        } else {
            int l = utf8_len(p + i, n - i);
            if (l < 0 && more)
                break;
            if (l > 0) {
                wl = used = (size_t)l;
            } else {
                w = replacement;
                wl = sizeof(replacement);
            }
        }
        if (wl > cap - o)
            break;
        memcpy(dst + o, w, wl);
        o += wl;
        i += used;
    }
    *dn = o;
    return i;
}

/* contains_ascii_case - whether hay holds needle, ASCII letters in any case. */
static bool contains_ascii_case(const char *hay, size_t hn, struct str needle)
{
    if (needle.len == 0)
        return true;
    for (size_t i = 0; i + needle.len <= hn; i++) {
        if (str_caseeq(str_make(hay + i, needle.len), needle))
            return true;
    }
    return false;
}

/* emit_line - the line [s, e) of the file (its '\n' excluded). */
static enum step emit_line(struct view *v, off_t s, off_t e)
{
    uint64_t len = (uint64_t)(e - s);
    /* line_max + 1 file bytes show line_max bytes of text (a byte never
     * shows as less than one) and the one more tells a CR before the '\n'
     * from a line that is cut. */
    size_t hn = len > v->line_max + 1 ? v->line_max + 1 : (size_t)len;
    const char *p;
    if (s >= v->chunk_pos && s + (off_t)hn <= v->chunk_pos + (off_t)v->chunk_len) {
        p = v->chunk + (s - v->chunk_pos);
    } else {
        if (budget(v, hn) < hn) {
            v->res->read_limit = true;
            return STEP_STOP;
        }
        if (!read_at(v, v->head, hn, s))
            return STEP_ERROR;
        p = v->head;
    }
    bool whole = hn == len;
    size_t rn = hn;
    if (whole && rn > 0 && p[rn - 1] == '\r')
        rn--;

    size_t tn = 0;
    if (v->rq->convert) {
        struct logconv_line l;
        size_t skip;
        logconv_line_parse(p, rn, whole, &l);
        tn = logconv_line_rewrite(&l, LOGCONV_CONVERT, v->text, &skip);
    }
    size_t shown;
    size_t used = sanitize(p, rn, !whole, v->text + tn, v->line_max, &shown);
    tn += shown;
    if (!contains_ascii_case(v->text, tn, v->rq->filter))
        return STEP_MORE;
    bool cut = used < rn || !whole;
    if (cut) {
        int m =
            snprintf(v->text + tn, v->text_cap - tn, LOG_VIEW_CUT_MARK, (unsigned long long)len);
        if (m > 0 && (size_t)m < v->text_cap - tn)
            tn += (size_t)m;
    }
    v->text[tn++] = '\n';
    if (!buf_append(v->out, v->text, tn)) {
        v->res->out_full = true;
        return STEP_STOP;
    }
    v->res->lines++;
    if (cut)
        v->res->cut_lines++;
    return v->res->lines >= v->rq->max_lines ? STEP_STOP : STEP_MORE;
}

/* scan - read backwards from the end, emitting lines as their starts are
 * found. */
static enum step scan(struct view *v)
{
    off_t pos = v->size; /* the bytes from pos on have been scanned */
    off_t line_end = v->size;
    if (v->size == 0) {
        v->res->at_start = true;
        return STEP_STOP;
    }
    while (pos > 0) {
        size_t n = (size_t)(pos > (off_t)LOG_VIEW_CHUNK ? (off_t)LOG_VIEW_CHUNK : pos);
        n = budget(v, n);
        if (n == 0) {
            v->res->read_limit = true;
            return STEP_STOP;
        }
        pos -= (off_t)n;
        if (!read_at(v, v->chunk, n, pos))
            return STEP_ERROR;
        v->chunk_pos = pos;
        v->chunk_len = n;
        for (size_t i = n; i-- > 0;) {
            if (v->chunk[i] != '\n')
                continue;
            off_t k = pos + (off_t)i;
            if (k == v->size - 1) { /* ends the last line, starts none */
                line_end = k;
                continue;
            }
            enum step st = emit_line(v, k + 1, line_end);
            if (st != STEP_MORE)
                return st;
            line_end = k;
        }
    }
    enum step st = emit_line(v, 0, line_end);
    if (st != STEP_ERROR)
        v->res->at_start = !v->res->read_limit && !v->res->out_full;
    return st;
}

int log_view_read(const char *path, const struct log_view_request *rq, struct buf *out,
                  struct log_view_result *res, char *err, size_t errcap)
{
    memset(res, 0, sizeof(*res));
    struct view v = {
        .fd = -1,
        .rq = rq,
        .line_max = rq->line_max ? rq->line_max : LOG_VIEW_LINE_MAX,
        .read_max = rq->read_max ? rq->read_max : LOG_VIEW_READ_MAX,
        .out = out,
        .res = res,
        .err = err,
        .errcap = errcap,
    };
    if (v.line_max > LOG_VIEW_LINE_MAX_CAP || rq->filter.len > LOG_VIEW_FILTER_MAX) {
        str_copy(err, errcap,
                 v.line_max > LOG_VIEW_LINE_MAX_CAP ? "line limit too large" : "filter too long");
        errno = EINVAL;
        return -1;
    }
    size_t mark = out->wpos;
    v.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (v.fd < 0) {
        set_err(&v, errno, "cannot open");
        return -1;
    }
    int rc = -1;
    struct stat st;
    if (fstat(v.fd, &st) < 0) {
        set_err(&v, errno, "cannot stat");
        goto done;
    }
    if (!S_ISREG(st.st_mode)) {
        str_copy(err, errcap, "not a regular file");
        errno = EINVAL;
        goto done;
    }
    v.size = st.st_size;
    res->file_size = (uint64_t)st.st_size;
    v.text_cap = LOG_VIEW_LINE_OUT_MAX(v.line_max);
    v.chunk = malloc(LOG_VIEW_CHUNK);
    v.head = malloc(v.line_max + 1);
    v.text = malloc(v.text_cap);
    if (!v.chunk || !v.head || !v.text) {
        set_err(&v, ENOMEM, "cannot allocate");
        goto done;
    }
    if (rq->max_lines == 0 || scan(&v) != STEP_ERROR)
        rc = 0;
done:
    if (rc < 0) {
        int e = errno;
        out->wpos = mark;
        memset(res, 0, sizeof(*res));
        errno = e;
    }
    free(v.chunk);
    free(v.head);
    free(v.text);
    close(v.fd);
    return rc;
}
