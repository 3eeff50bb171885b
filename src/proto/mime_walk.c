/* mime_walk - walk the MIME structure of a mail held in memory.
 *
 * See mime_walk.h. Pass 1 reads the message once, line by line, with a
 * stack of open entities (one per depth): an entity is in its header
 * block, or in its body; a multipart's body is in its preamble, between
 * parts, or in its epilogue. Every line that starts with "--" is compared
 * with the boundaries of the open multiparts, innermost first; a match
 * closes everything inside that multipart. Entities are recorded in a
 * fixed table of offsets (struct mime_walk_rec). Pass 2 turns each record into
 * a struct mime_part, in document order, for the callback: containers can
 * only be reported before their parts with their whole span once the
 * span's end is known, which is why there are two passes and not one.
 *
 * Owns only its stack; see the header for what it does not do.
 */
#include "proto/mime_walk.h"

#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/mime_decode.h"

/* Messages are addressed with 32-bit offsets to keep the part table small
 * (the proxy's limit is 2,000,000,000 bytes, spec SMTP-9). */
#define WALK_LEN_MAX (UINT32_MAX - 1u)
#define WALK_NO_REC  UINT32_MAX

enum walk_kind {
    WALK_LEAF = 0,
    WALK_MULTIPART, /* descended into: has a boundary */
    WALK_MESSAGE,   /* message/rfc822: the enclosed message is the next entity */
};

enum walk_state {
    WALK_ST_HEADERS = 0, /* in the header block */
    WALK_ST_BODY,        /* leaf or message body */
    WALK_ST_PREAMBLE,    /* multipart before its first boundary */
    WALK_ST_PARTS,       /* multipart after a boundary */
    WALK_ST_EPILOGUE,    /* multipart after its closing boundary */
};

const char *mime_cte_name(enum mime_cte cte)
{
    switch (cte) {
    case MIME_CTE_7BIT:
        return "7bit";
    case MIME_CTE_8BIT:
        return "8bit";
    case MIME_CTE_BINARY:
        return "binary";
    case MIME_CTE_BASE64:
        return "base64";
    case MIME_CTE_QP:
        return "quoted-printable";
    case MIME_CTE_OTHER:
        return "other";
    }
    return "CTE_???";
}

const char *mime_result_name(enum mime_result r)
{
    switch (r) {
    case MIME_DONE:
        return "DONE";
    case MIME_STOPPED:
        return "STOPPED";
    case MIME_INVALID:
        return "INVALID";
    case MIME_MORE:
        return "MORE";
    }
    return "MIME_???";
}

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static bool is_lws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* first_token - the first word of a field value (type, disposition,
 * encoding): up to ';', whitespace or a comment. */
static struct str first_token(struct str v)
{
    if (!v.ptr)
        return STR_LIT("");
    size_t i = 0;
    while (i < v.len && is_lws((unsigned char)v.ptr[i]))
        i++;
    size_t s = i;
    while (i < v.len && !is_lws((unsigned char)v.ptr[i]) && v.ptr[i] != ';' && v.ptr[i] != '(')
        i++;
    return str_make(v.ptr + s, i - s);
}

static bool tspecial(unsigned char c)
{
    return c != 0 && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* type_parse - RFC 2045 5.1 type "/" subtype into dst, lowercased; false
 * when the value is not that (the caller then uses the default). */
static bool type_parse(struct str v, char *dst, size_t cap)
{
    size_t i = 0;
    while (i < v.len && is_lws((unsigned char)v.ptr[i]))
        i++;
    size_t s = i, slash = 0, nslash = 0;
    while (i < v.len) {
        unsigned char c = (unsigned char)v.ptr[i];
        if (c == '/') {
            nslash++;
            slash = i++;
            continue;
        }
        if (c <= 0x20 || c >= 0x7f || tspecial(c))
            break;
        i++;
    }
    if (nslash != 1 || slash == s || slash + 1 == i || i - s >= cap)
        return false;
    if (i < v.len && !is_lws((unsigned char)v.ptr[i]) && v.ptr[i] != ';' && v.ptr[i] != '(')
        return false;
    for (size_t k = s; k < i; k++)
        dst[k - s] = lower(v.ptr[k]);
    dst[i - s] = '\0';
    return true;
}

static enum mime_cte cte_parse(struct str v)
{
    struct str t = first_token(v);
    if (t.len == 0)
        return MIME_CTE_7BIT;
    if (str_caseeq_cstr(t, "7bit"))
        return MIME_CTE_7BIT;
    if (str_caseeq_cstr(t, "8bit"))
        return MIME_CTE_8BIT;
    if (str_caseeq_cstr(t, "binary"))
        return MIME_CTE_BINARY;
    if (str_caseeq_cstr(t, "base64"))
        return MIME_CTE_BASE64;
    if (str_caseeq_cstr(t, "quoted-printable"))
        return MIME_CTE_QP;
    return MIME_CTE_OTHER;
}

/* part_fill - the fields of a part that come from its header block;
 * returns the flags found there (file name checks). */
static unsigned part_fill(struct str headers, bool in_digest, struct mime_part *p)
{
    unsigned flags = 0;
    struct str ct = mime_header_get(headers, "Content-Type", NULL, NULL);
    /* A second Content-Type or Content-Transfer-Encoding: clients differ
     * on which one counts, so this walk may not be what they see. */
    size_t it = 0;
    (void)mime_header_get(headers, "Content-Type", &it, NULL);
    if (mime_header_get(headers, "Content-Type", &it, NULL).ptr)
        flags |= MIME_F_AMBIGUOUS;
    it = 0;
    (void)mime_header_get(headers, "Content-Transfer-Encoding", &it, NULL);
    if (mime_header_get(headers, "Content-Transfer-Encoding", &it, NULL).ptr)
        flags |= MIME_F_AMBIGUOUS;
    if (!ct.ptr || !type_parse(ct, p->type, sizeof(p->type)))
        str_copy(p->type, sizeof(p->type),
                 (in_digest && !ct.ptr) ? "message/rfc822" : "text/plain");

    p->charset[0] = '\0';
    if (ct.ptr) {
        char tmp[sizeof(p->charset)];
        struct buf b;
        buf_init(&b, tmp, sizeof(tmp) - 1);
        if (mime_param_get(ct, "charset", &b)) {
            for (size_t i = 0; i < buf_len(&b); i++)
                p->charset[i] = lower(tmp[i]);
            p->charset[buf_len(&b)] = '\0';
        }
    }
    p->cte = cte_parse(mime_header_get(headers, "Content-Transfer-Encoding", NULL, NULL));

    struct str cd = mime_header_get(headers, "Content-Disposition", NULL, NULL);
    p->attachment = cd.ptr && str_caseeq_cstr(first_token(cd), "attachment");

    /* Both names are checked for SCAN-7: a client may show either. */
    char other[sizeof(p->filename)];
    size_t ctl_fn = 0, ctl_name = 0;
    enum mime_param_result r = MIME_PARAM_ABSENT, rn = MIME_PARAM_ABSENT;
    p->filename[0] = '\0';
    if (cd.ptr)
        r = mime_param_get_tail(cd, "filename", p->filename, sizeof(p->filename), &ctl_fn);
    if (ct.ptr)
        rn = mime_param_get_tail(ct, "name", other, sizeof(other), &ctl_name);
    if ((r == MIME_PARAM_ABSENT || p->filename[0] == '\0') && rn != MIME_PARAM_ABSENT) {
        memcpy(p->filename, other, sizeof(other));
        r = rn;
    }
    if (ctl_fn || ctl_name)
        flags |= MIME_F_BAD_FILENAME;
    if (r == MIME_PARAM_TRUNCATED)
        flags |= MIME_F_LONG_FILENAME;
    p->is_partial = strcmp(p->type, "message/partial") == 0;
    return flags;
}

/* boundary_get - the boundary of a multipart into f, unquoted; checks the
 * SCAN-7 characters. False when there is no usable boundary. */
static bool boundary_get(struct str ct, struct mime_walk_frame *f, unsigned *flags)
{
    struct str raw;
    bool quoted = false;
    /* RFC 2231 (boundary*0, boundary*1 ...) as clients read it; decoded
     * only for that form, since "=?" is legal in a plain boundary. */
    char cont[MIME_BOUNDARY_MAX + 1];
    struct buf cb;
    buf_init(&cb, cont, sizeof(cont));
    bool has_cont = mime_param_get(ct, "boundary", &cb);
    if (!mime_param_raw(ct, "boundary", &raw, &quoted)) {
        if (!has_cont && !mime_param_raw(ct, "boundary*", &raw, &quoted) &&
            !mime_param_raw(ct, "boundary*0", &raw, &quoted) &&
            !mime_param_raw(ct, "boundary*0*", &raw, &quoted)) {
            *flags |= MIME_F_NO_BOUNDARY;
            return false;
        }
        if (!has_cont) { /* an RFC 2231 form too long or broken */
            *flags |= MIME_F_NO_BOUNDARY | MIME_F_AMBIGUOUS;
            return false;
        }
        raw = str_make(cont, buf_len(&cb));
        quoted = false;
    } else if (has_cont && !quoted && !str_eq(raw, str_make(cont, buf_len(&cb)))) {
        /* Both a plain and an RFC 2231 boundary: which one a client
         * takes is anyone's guess. */
        *flags |= MIME_F_AMBIGUOUS;
    }
    size_t n = 0;
    bool bad = false, too_long = false;
    for (size_t i = 0; i < raw.len;) {
        if (raw.ptr[i] == '\r' && i + 2 < raw.len && raw.ptr[i + 1] == '\n' &&
            is_wsp((unsigned char)raw.ptr[i + 2])) {
            i += 2; /* folding inside a quoted boundary */
            continue;
        }
        if (raw.ptr[i] == '\n' && i + 1 < raw.len && is_wsp((unsigned char)raw.ptr[i + 1])) {
            i++;
            continue;
        }
        unsigned char c = (unsigned char)raw.ptr[i++];
        if (quoted && c == '\\' && i < raw.len)
            c = (unsigned char)raw.ptr[i++];
        if (c == '"' || c < 0x20 || c > 0x7e)
            bad = true;
        if (n < sizeof(f->boundary))
            f->boundary[n++] = (char)c;
        else
            too_long = true;
    }
    /* Transport padding is stripped from boundary lines before comparing,
     * so a boundary's own trailing whitespace cannot be matched. */
    while (n > 0 && is_wsp((unsigned char)f->boundary[n - 1]))
        n--;
    if (bad)
        *flags |= MIME_F_BAD_BOUNDARY;
    if (n == 0 || too_long) {
        *flags |= MIME_F_NO_BOUNDARY;
        return false;
    }
    f->blen = n;
    return true;
}

static struct mime_walk_frame *top(struct mime_walker *w)
{
    return &w->frames[w->nframes - 1];
}

/* entity_start - open an entity whose header block starts at off. */
static void entity_start(struct mime_walker *w, size_t off, unsigned depth, bool in_digest)
{
    struct mime_walk_frame *f = &w->frames[w->nframes++];
    f->kind = WALK_LEAF;
    f->state = WALK_ST_HEADERS;
    f->digest = false;
    f->header_seen = false;
    f->hdr_lines = 0;
    f->hdr_cut = 0;
    f->blen = 0;
    if (w->nrec == MIME_PARTS_MAX) {
        /* Not reported; still tracked as a leaf so the spans around it
         * stay right. Its parent always has a record. */
        f->rec = WALK_NO_REC;
        f->state = WALK_ST_BODY;
        for (unsigned i = w->nframes - 1; i-- > 0;) {
            if (w->frames[i].rec != WALK_NO_REC) {
                w->recs[w->frames[i].rec].flags |= MIME_F_TOO_MANY;
                break;
            }
        }
        return;
    }
    f->rec = w->nrec++;
    struct mime_walk_rec *r = &w->recs[f->rec];
    r->hdr_off = r->hdr_end = r->body_off = r->body_end = (uint32_t)off;
    r->depth = (uint8_t)depth;
    r->kind = WALK_LEAF;
    r->flags = 0;
    r->in_digest = in_digest;
}

/* headers_end - the top entity's header block is [hdr_off, hdr_end) and its
 * body starts at body_off: find out what it is and, if allowed, descend. */
static void headers_end(struct mime_walker *w, size_t hdr_end, size_t body_off, bool descend)
{
    unsigned depth = w->nframes - 1;
    struct mime_walk_frame *f = top(w);
    f->state = WALK_ST_BODY;
    if (f->rec == WALK_NO_REC)
        return;
    struct mime_walk_rec *r = &w->recs[f->rec];
    r->hdr_end = (uint32_t)hdr_end;
    r->body_off = r->body_end = (uint32_t)body_off;
    if (f->hdr_cut && f->hdr_cut < hdr_end) {
        /* G-32: the lines past the limit are not read for fields. */
        r->hdr_end = f->hdr_cut;
        r->flags |= MIME_F_LONG_HEADER;
        if (f->hdr_lines > w->long_header_lines)
            w->long_header_lines = f->hdr_lines;
        hdr_end = f->hdr_cut;
    }
    struct str headers = str_make(w->msg + r->hdr_off, hdr_end - r->hdr_off);
    struct mime_part p;
    unsigned flags = part_fill(headers, r->in_digest, &p);
    if (strncmp(p.type, "multipart/", 10) == 0) {
        struct str ct = mime_header_get(headers, "Content-Type", NULL, NULL);
        if (boundary_get(ct, f, &flags) && descend) {
            if (depth >= MIME_DEPTH_MAX) {
                flags |= MIME_F_TOO_DEEP;
            } else {
                f->kind = r->kind = WALK_MULTIPART;
                f->state = WALK_ST_PREAMBLE;
                f->digest = strcmp(p.type, "multipart/digest") == 0;
            }
        }
    } else if ((strcmp(p.type, "message/rfc822") == 0 || strcmp(p.type, "message/global") == 0) &&
               descend) {
        /* RFC 2046 5.2.1: only 7bit, 8bit or binary; an encoded one is
         * left to the scanner as a leaf. */
        if (p.cte == MIME_CTE_7BIT || p.cte == MIME_CTE_8BIT || p.cte == MIME_CTE_BINARY) {
            if (depth >= MIME_DEPTH_MAX) {
                flags |= MIME_F_TOO_DEEP;
            } else {
                f->kind = r->kind = WALK_MESSAGE;
                r->flags |= (uint16_t)flags;
                entity_start(w, body_off, depth + 1, false);
                return;
            }
        }
    }
    r->flags |= (uint16_t)flags;
}

/* frame_close - close the top entity: the line at ls (a boundary, or the
 * end of the message) ends it; its body ends at e. */
static void frame_close(struct mime_walker *w, size_t ls, size_t e)
{
    struct mime_walk_frame *f = top(w);
    if (f->rec != WALK_NO_REC) {
        if (f->state == WALK_ST_HEADERS)
            headers_end(w, ls, ls, false);
        struct mime_walk_rec *r = &w->recs[f->rec];
        /* The line break before a boundary is not part of what it ends,
         * so nothing may reach past e: an entity that began on the
         * boundary line itself, or whose body would start there, is
         * empty and is placed at e, inside its parent's span. */
        if (r->hdr_off > e)
            r->hdr_off = (uint32_t)e;
        if (r->hdr_end > e)
            r->hdr_end = (uint32_t)e;
        if (r->body_off > e)
            r->body_off = (uint32_t)e;
        r->body_end = (uint32_t)e;
        if (f->kind == WALK_MULTIPART && f->state != WALK_ST_EPILOGUE)
            r->flags |= MIME_F_UNTERMINATED;
    }
    w->nframes--;
}

/* boundary_hit - the line [ls, next) is a boundary of frames[i]. */
static void boundary_hit(struct mime_walker *w, unsigned i, size_t ls, size_t next, bool close)
{
    /* RFC 2046 5.1.1: the line break before a boundary belongs to it. */
    size_t e = ls;
    if (e >= 2 && w->msg[e - 2] == '\r' && w->msg[e - 1] == '\n')
        e -= 2;
    else if (e >= 1 && w->msg[e - 1] == '\n')
        e -= 1;
    while (w->nframes > i + 1)
        frame_close(w, ls, e);
    struct mime_walk_frame *f = &w->frames[i];
    if (close) {
        f->state = WALK_ST_EPILOGUE;
        return;
    }
    f->state = WALK_ST_PARTS;
    entity_start(w, next, i + 1, f->digest);
}

/* header_line - is [ls, ce) a header field line (or, after one, a
 * continuation line)? */
static bool header_line(const char *m, size_t ls, size_t ce, bool seen)
{
    if (is_wsp((unsigned char)m[ls]))
        return seen;
    size_t i = ls;
    while (i < ce && (unsigned char)m[i] > 0x20 && (unsigned char)m[i] < 0x7f && m[i] != ':')
        i++;
    if (i == ls)
        return false;
    while (i < ce && is_wsp((unsigned char)m[i]))
        i++;
    return i < ce && m[i] == ':';
}

/* walk_line - one line [ls, ce) (ce excludes the line end; next starts the
 * next line). Returns true when the line must be looked at again because
 * it ended a header block and so belongs to the new body. */
static bool walk_line(struct mime_walker *w, size_t ls, size_t ce, size_t next)
{
    const char *m = w->msg;
    if (ce - ls >= 2 && m[ls] == '-' && m[ls + 1] == '-') {
        size_t te = ce;
        while (te > ls + 2 && is_wsp((unsigned char)m[te - 1]))
            te--;
        size_t n = te - ls - 2;
        for (unsigned i = w->nframes; i-- > 0;) {
            const struct mime_walk_frame *f = &w->frames[i];
            if (f->kind != WALK_MULTIPART || f->state == WALK_ST_EPILOGUE)
                continue;
            bool close;
            if (n == f->blen)
                close = false;
            else if (n == f->blen + 2 && m[te - 1] == '-' && m[te - 2] == '-')
                close = true;
            else
                continue;
            if (memcmp(m + ls + 2, f->boundary, f->blen) != 0)
                continue;
            boundary_hit(w, i, ls, next, close);
            return false;
        }
    }
    struct mime_walk_frame *f = top(w);
    if (f->state != WALK_ST_HEADERS)
        return false;
    size_t k = ls;
    while (k < ce && is_wsp((unsigned char)m[k]))
        k++;
    if (k == ce) { /* the blank line */
        headers_end(w, ls, next, true);
        return false;
    }
    if (header_line(m, ls, ce, f->header_seen)) {
        f->header_seen = true;
        if (++f->hdr_lines == MIME_HEADER_LINES_MAX + 1)
            f->hdr_cut = (uint32_t)ls;
        return false;
    }
    headers_end(w, ls, ls, true);
    return true;
}

enum mime_result mime_walker_init(struct mime_walker *w, const char *msg, size_t len)
{
    w->msg = msg;
    w->len = len;
    w->pos = w->scan = 0;
    w->nrec = w->nframes = 0;
    w->long_header_lines = 0;
    w->invalid = !msg || len == 0 || len > WALK_LEN_MAX;
    w->done = w->invalid;
    if (w->invalid)
        return MIME_INVALID;
    /* The part table is filled as entities are found, never cleared as a
     * whole (it is 24 KiB). */
    entity_start(w, 0, 0, false);
    return MIME_MORE;
}

/* mime_walker_step - pass 1, line by line from w->pos. The end of the
 * line is searched for in at most what is left of the budget, so that a
 * line of any length is found over several steps (w->scan is how far
 * the search has come); a line found is then walked whole. */
enum mime_result mime_walker_step(struct mime_walker *w, size_t budget)
{
    if (w->invalid)
        return MIME_INVALID;
    if (w->done)
        return MIME_DONE;
    const char *m = w->msg;
    size_t spent = 0;
    if (budget == 0)
        budget = 1;
    while (w->pos < w->len) {
        if (spent >= budget)
            return MIME_MORE;
        size_t room = w->len - w->scan;
        size_t look = budget - spent < room ? budget - spent : room;
        const char *nl = memchr(m + w->scan, '\n', look);
        if (!nl) {
            spent += look;
            w->scan += look;
            if (w->scan < w->len)
                continue; /* the budget is spent: the search goes on next step */
        } else {
            spent += (size_t)(nl - (m + w->scan)) + 1;
        }
        size_t pos = w->pos;
        size_t le = nl ? (size_t)(nl - m) : w->len;
        size_t next = nl ? le + 1 : w->len;
        size_t ce = (le > pos && m[le - 1] == '\r') ? le - 1 : le;
        /* A line is looked at again at most once per entity it starts
         * (each time one level deeper). */
        for (unsigned k = 0; k <= MIME_DEPTH_MAX + 1 && walk_line(w, pos, ce, next); k++)
            ;
        w->pos = w->scan = next;
    }
    while (w->nframes > 0)
        frame_close(w, w->len, w->len);
    w->done = true;
    return MIME_DONE;
}

unsigned mime_walker_parts(const struct mime_walker *w)
{
    return w->invalid ? 0 : w->nrec;
}

void mime_walker_part(const struct mime_walker *w, unsigned k, struct mime_part *p)
{
    const struct mime_walk_rec *r = &w->recs[k];
    p->headers = str_make(w->msg + r->hdr_off, r->hdr_end - r->hdr_off);
    part_fill(p->headers, r->in_digest, p);
    p->index = k;
    p->depth = r->depth;
    p->body = str_make(w->msg + r->body_off, r->body_end - r->body_off);
    p->flags = r->flags;
    p->is_multipart = r->kind == WALK_MULTIPART;
    p->is_message = r->kind == WALK_MESSAGE;
}

static void summary_clear(struct mime_summary *out)
{
    out->content_type[0] = '\0';
    out->message_id = out->date = out->from = out->to = out->cc = out->subject = STR_NULL;
    out->admin_notification_id = STR_NULL;
    out->header_len = 0;
    out->parts = out->flags = 0;
    out->header_lines_max = 0;
    out->store_len = 0;
}

void mime_walker_summary(const struct mime_walker *w, struct mime_summary *out)
{
    summary_clear(out);
    if (w->invalid || w->nrec == 0)
        return;
    const struct mime_walk_rec *r0 = &w->recs[0];
    struct str h = str_make(w->msg, r0->hdr_end);
    struct mime_part p;
    part_fill(h, false, &p);
    str_copy(out->content_type, sizeof(out->content_type), p.type);
    out->header_len = r0->body_off;
    out->parts = w->nrec;
    out->header_lines_max = (unsigned)w->long_header_lines;
    out->flags = 0;
    for (unsigned k = 0; k < w->nrec; k++)
        out->flags |= w->recs[k].flags;
    struct buf st;
    buf_init(&st, out->store, sizeof(out->store));
    out->message_id = mime_header_get(h, "Message-ID", NULL, &st);
    out->date = mime_header_get(h, "Date", NULL, &st);
    out->from = mime_header_get(h, "From", NULL, &st);
    out->to = mime_header_get(h, "To", NULL, &st);
    out->cc = mime_header_get(h, "Cc", NULL, &st);
    out->subject = mime_header_get(h, "Subject", NULL, &st);
    out->admin_notification_id = mime_header_get(h, "X-Admin-Notification-Id", NULL, &st);
    out->store_len = buf_len(&st);
}

enum mime_result mime_walk(const char *msg, size_t len, mime_part_fn *fn, void *arg,
                           struct mime_summary *out)
{
    struct mime_walker w;
    if (mime_walker_init(&w, msg, len) == MIME_INVALID) {
        if (out)
            summary_clear(out);
        return MIME_INVALID;
    }
    (void)mime_walker_step(&w, SIZE_MAX);
    if (out)
        mime_walker_summary(&w, out);
    if (!fn)
        return MIME_DONE;
    for (unsigned k = 0; k < w.nrec; k++) {
        struct mime_part p;
        mime_walker_part(&w, k, &p);
        if (!fn(arg, &p))
            return MIME_STOPPED;
    }
    return MIME_DONE;
}
