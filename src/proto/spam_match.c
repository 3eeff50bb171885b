/* spam_match - see spam_match.h. */
#include "proto/spam_match.h"

#include <stdio.h>
#include <string.h>

#include "lib/buf.h"
#include "proto/mime_decode.h"

#define LMAX SPAM_RULE_STRING_MAX

/* The state of one call. */
struct ctx {
    const struct spam_rule *rules;
    unsigned nrules;
    struct spam_mail_facts *facts;
    struct spam_match_scratch *w;
    unsigned nparts;                 /* parts in the bit sets (at least 1: part 0) */
    bool part_urls;                  /* URLHOST must know each host's part (AND_SAMEPART) */
    bool any[SPAM_FIELD_ALWAYS + 1]; /* some rule reads this field */
    bool text_lines;                 /* some TEXTBODY rule has HEADMATCH or TAILMATCH */
};

static void set_hit(struct ctx *c, unsigned r, unsigned part)
{
    c->w->hit[r][part / 8] |= (uint8_t)(1u << (part % 8));
}

static bool get_hit(const struct ctx *c, unsigned r, unsigned part)
{
    return (c->w->hit[r][part / 8] >> (part % 8)) & 1u;
}

static unsigned char lower(unsigned char b)
{
    return (b >= 'A' && b <= 'Z') ? (unsigned char)(b + 32) : b;
}

static bool bytes_eq(const char *a, const char *b, size_t n, bool fold)
{
    if (!fold)
        return memcmp(a, b, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return false;
    return true;
}

/* ---- the value matcher ----------------------------------------------
 *
 * A value (a header field, a file name, a host, a whole body, a line) is
 * fed in segments. Substring rules are searched in a window: the carry
 * (the last lmax - 1 bytes of what came before, so a string across two
 * segments is found) and the next piece. HEADMATCH / TAILMATCH rules are
 * decided at the end from the value's first and last LMAX bytes. */

enum vm_mode { VM_ALL, VM_SUB, VM_ENDS };

struct vm {
    struct ctx *c;
    unsigned part;
    unsigned n;
    unsigned char idx[SPAM_RULES_MAX]; /* the rules this value is matched against */
    bool hit[SPAM_RULES_MAX];          /* by position in idx */
    unsigned nsub;                     /* substring rules not found yet */
    bool ends;                         /* some HEADMATCH / TAILMATCH rule */
    size_t lmax;                       /* longest substring string */
    size_t carry;                      /* bytes of the window kept */
    uint64_t total;
    size_t head_len, tail_len;
    char head[LMAX];
    char tail[2 * LMAX];
};

static bool rule_ends(const struct spam_rule *r)
{
    return (r->flags & (SPAM_CMP_HEADMATCH | SPAM_CMP_TAILMATCH)) != 0;
}

/* rule_reads - rule r reads values of this field (and header name). */
static bool rule_reads(const struct spam_rule *r, enum spam_rule_field f, struct str name)
{
    if (r->field != f)
        return false;
    return f != SPAM_FIELD_HEADER || str_caseeq(name, str_make(r->header, r->header_len));
}

/* vm_begin - a matcher for the values of field f (name: the header field
 * name as written) of part, for the rules of mode not yet matched there.
 * False when no rule is left. */
static bool vm_begin(struct vm *v, struct ctx *c, unsigned part, enum spam_rule_field f,
                     struct str name, enum vm_mode mode)
{
    v->c = c;
    v->part = part;
    v->n = 0;
    v->nsub = 0;
    v->ends = false;
    v->lmax = 0;
    for (unsigned r = 0; r < c->nrules; r++) {
        const struct spam_rule *rule = &c->rules[r];
        if (!rule_reads(rule, f, name) || get_hit(c, r, part))
            continue;
        bool e = rule_ends(rule);
        if ((mode == VM_SUB && e) || (mode == VM_ENDS && !e))
            continue;
        v->hit[v->n] = false;
        v->idx[v->n++] = (unsigned char)r;
        if (e) {
            v->ends = true;
        } else {
            v->nsub++;
            for (unsigned i = 0; i < rule->nstrings; i++)
                if (rule->len[i] > v->lmax)
                    v->lmax = rule->len[i];
        }
    }
    v->carry = 0;
    v->total = 0;
    v->head_len = v->tail_len = 0;
    return v->n > 0;
}

/* vm_restart - the next value for the same rules (TEXTBODY lines). */
static void vm_restart(struct vm *v)
{
    v->carry = 0;
    v->total = 0;
    v->head_len = v->tail_len = 0;
}

/* search - the substring rules in win[0..wlen), of which win[0..carry)
 * was searched before. */
static void search(struct vm *v, size_t wlen, bool folded)
{
    struct spam_match_scratch *w = v->c->w;
    for (unsigned k = 0; k < v->n && v->nsub > 0; k++) {
        const struct spam_rule *r = &v->c->rules[v->idx[k]];
        if (v->hit[k] || rule_ends(r))
            continue;
        bool fold = (r->flags & SPAM_CMP_IGNORECASE) != 0;
        if (fold && !folded)
            continue;
        const char *hay = fold ? w->low : w->win;
        for (unsigned i = 0; i < r->nstrings; i++) {
            struct str s = spam_rule_string(r, i);
            if (s.len > wlen)
                continue;
            /* a match wholly inside the carry was looked for already */
            size_t from = v->carry >= s.len ? v->carry - s.len + 1 : 0;
            char pat[LMAX];
            const char *needle = s.ptr;
            if (fold) {
                for (size_t j = 0; j < s.len; j++)
                    pat[j] = (char)lower((unsigned char)s.ptr[j]);
                needle = pat;
            }
            if (memmem(hay + from, wlen - from, needle, s.len)) {
                v->hit[k] = true;
                v->nsub--;
                break;
            }
        }
    }
}

static bool vm_folds(const struct vm *v)
{
    for (unsigned k = 0; k < v->n; k++) {
        const struct spam_rule *r = &v->c->rules[v->idx[k]];
        if (!v->hit[k] && !rule_ends(r) && (r->flags & SPAM_CMP_IGNORECASE))
            return true;
    }
    return false;
}

static void vm_feed(struct vm *v, const char *p, size_t n)
{
    if (n == 0)
        return;
    v->total += n;
    if (v->ends) {
        if (v->head_len < LMAX) {
            size_t k = n < LMAX - v->head_len ? n : LMAX - v->head_len;
            memcpy(v->head + v->head_len, p, k);
            v->head_len += k;
        }
        if (n >= LMAX) {
            memcpy(v->tail, p + n - LMAX, LMAX);
            v->tail_len = LMAX;
        } else {
            if (v->tail_len + n > sizeof(v->tail)) {
                memmove(v->tail, v->tail + v->tail_len - LMAX, LMAX);
                v->tail_len = LMAX;
            }
            memcpy(v->tail + v->tail_len, p, n);
            v->tail_len += n;
        }
    }
    struct spam_match_scratch *w = v->c->w;
    while (n > 0 && v->nsub > 0) {
        size_t take = n < SPAM_MATCH_CHUNK ? n : SPAM_MATCH_CHUNK;
        bool fold = vm_folds(v);
        memcpy(w->win + v->carry, p, take);
        size_t wlen = v->carry + take;
        if (fold)
            for (size_t i = v->carry; i < wlen; i++)
                w->low[i] = (char)lower((unsigned char)w->win[i]);
        search(v, wlen, fold);
        size_t keep = v->lmax - 1 < wlen ? v->lmax - 1 : wlen;
        memmove(w->win, w->win + wlen - keep, keep);
        if (fold) /* once not needed it is never needed again in this value */
            memmove(w->low, w->low + wlen - keep, keep);
        v->carry = keep;
        p += take;
        n -= take;
    }
}

/* vm_end - decide the HEADMATCH / TAILMATCH rules and record the rules
 * that matched this value: in the part's bits, and a header rule's field
 * name as the mail writes it (name). */
static void vm_end(struct vm *v, struct str name)
{
    struct ctx *c = v->c;
    for (unsigned k = 0; k < v->n; k++) {
        unsigned ri = v->idx[k];
        const struct spam_rule *r = &c->rules[ri];
        if (!v->hit[k] && rule_ends(r) && !get_hit(c, ri, v->part)) {
            bool fold = (r->flags & SPAM_CMP_IGNORECASE) != 0;
            for (unsigned i = 0; i < r->nstrings && !v->hit[k]; i++) {
                struct str s = spam_rule_string(r, i);
                if (v->total < s.len)
                    continue;
                bool ok = true;
                if (r->flags & SPAM_CMP_HEADMATCH)
                    ok = bytes_eq(v->head, s.ptr, s.len, fold);
                if (ok && (r->flags & SPAM_CMP_TAILMATCH))
                    ok = bytes_eq(v->tail + v->tail_len - s.len, s.ptr, s.len, fold);
                v->hit[k] = ok;
            }
        }
        if (!v->hit[k])
            continue;
        set_hit(c, ri, v->part);
        if (r->field == SPAM_FIELD_HEADER && c->w->found[ri][0] == '\0' && name.len > 0 &&
            name.len <= SPAM_RULE_HEADER_MAX) {
            memcpy(c->w->found[ri], name.ptr, name.len);
            c->w->found[ri][name.len] = '\0';
        }
    }
}

/* match_value - one value of one piece. */
static void match_value(struct ctx *c, unsigned part, enum spam_rule_field f, struct str name,
                        struct str value)
{
    struct vm v;
    if (!vm_begin(&v, c, part, f, name, VM_ALL))
        return;
    vm_feed(&v, value.ptr, value.len);
    vm_end(&v, name);
}

/* ---- relay addresses ------------------------------------------------ */

static void relay_add(void *arg, const char *addr)
{
    struct spam_mail_facts *f = arg;
    for (unsigned i = 0; i < f->nrelay; i++)
        if (strcmp(f->relay[i], addr) == 0)
            return;
    if (f->nrelay == SPAM_RELAY_MAX) {
        f->relay_dropped++;
        return;
    }
    str_copy(f->relay[f->nrelay++], RECEIVED_ADDR_MAX, addr);
}

/* ---- header fields -------------------------------------------------- */

static bool is_wsp(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* feed_unfolded - the value raw (trimmed, possibly folded) to v and/or
 * the Received: scanner, line breaks removed (RFC 5322 unfolding). */
static void feed_unfolded(struct vm *v, struct received_scan *rs, struct spam_mail_facts *f,
                          struct str raw)
{
    const char *p = raw.ptr, *end = raw.ptr + raw.len;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        const char *seg_end = lf ? lf : end;
        size_t n = (size_t)(seg_end - p);
        if (lf && n > 0 && p[n - 1] == '\r')
            n--;
        if (v)
            vm_feed(v, p, n);
        if (rs)
            received_scan_feed(rs, p, n, relay_add, f);
        p = lf ? lf + 1 : end;
    }
}

static void header_field(struct ctx *c, unsigned part, struct str name, struct str raw)
{
    bool top = part == 0;
    if (!top && !str_has_caseprefix(name, STR_LIT("Content-")))
        return;
    struct str value = str_trim(raw);
    if (top && str_caseeq(name, STR_LIT("Received"))) {
        struct received_scan rs;
        received_scan_init(&rs);
        feed_unfolded(NULL, &rs, c->facts, value);
        received_scan_end(&rs);
    }
    if (!c->any[SPAM_FIELD_HEADER])
        return;
    struct vm v;
    if (!vm_begin(&v, c, part, SPAM_FIELD_HEADER, name, VM_ALL))
        return;
    if (top && str_caseeq(name, STR_LIT("Subject"))) {
        struct buf out;
        buf_init(&out, c->w->subject, sizeof(c->w->subject));
        if (mime_decode_words(value, &out)) {
            struct str d = str_trim(buf_view(&out));
            vm_feed(&v, d.ptr, d.len);
            vm_end(&v, name);
            return;
        }
    }
    feed_unfolded(&v, NULL, NULL, value);
    vm_end(&v, name);
}

/* headers - every field of a header block (mime_part.headers: its lines
 * with their line ends). A line that starts with a blank continues the
 * field before it; a line without ':' is skipped. */
static void headers(struct ctx *c, unsigned part, struct str h)
{
    const char *p = h.ptr, *end = h.ptr + h.len;
    while (p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        const char *next = lf ? lf + 1 : end;
        if (is_wsp(*p)) { /* a continuation without a field */
            p = next;
            continue;
        }
        const char *colon = memchr(p, ':', (size_t)(next - p));
        /* the field ends where a line that is not a continuation starts */
        const char *fend = next;
        while (fend < end && is_wsp(*fend)) {
            const char *l2 = memchr(fend, '\n', (size_t)(end - fend));
            fend = l2 ? l2 + 1 : end;
        }
        if (colon) {
            const char *ne = colon;
            while (ne > p && is_wsp(ne[-1])) /* obsolete "Subject :" */
                ne--;
            struct str name = str_make(p, (size_t)(ne - p));
            if (name.len > 0)
                header_field(c, part, name, str_make(colon + 1, (size_t)(fend - colon - 1)));
        }
        p = fend;
    }
}

/* ---- bodies --------------------------------------------------------- */

/* What one entity's decoded body feeds. */
struct body {
    struct ctx *c;
    unsigned part;
    uint64_t size;
    bool text, html, urls;
    bool sub;          /* body_vm is in use */
    bool lines;        /* line_vm is in use */
    bool line_open;    /* line_vm has a line started */
    bool line_cr;      /* a CR held back: it may be the CR of a CRLF */
    bool html_cr;      /* HTML: a CR held back, for CRLF as one space */
    struct vm body_vm; /* substring rules over the whole body */
    struct vm line_vm; /* TEXTBODY HEADMATCH / TAILMATCH, per line */
};

static void line_end(struct body *b)
{
    if (b->line_cr) { /* a CR before the end of the body is part of the line */
        vm_feed(&b->line_vm, "\r", 1);
        b->line_cr = false;
    }
    vm_end(&b->line_vm, STR_NULL);
    vm_restart(&b->line_vm);
    b->line_open = false;
}

static void lines_feed(struct body *b, const char *p, size_t n)
{
    while (n > 0) {
        const char *lf = memchr(p, '\n', n);
        size_t seg = lf ? (size_t)(lf - p) : n;
        if (b->line_cr && seg > 0) {
            vm_feed(&b->line_vm, "\r", 1);
            b->line_cr = false;
        }
        size_t keep = seg;
        if (keep > 0 && p[keep - 1] == '\r') {
            keep--;
            b->line_cr = true;
        }
        vm_feed(&b->line_vm, p, keep);
        if (seg > 0)
            b->line_open = true;
        if (!lf)
            return;
        b->line_cr = false; /* the CR of CRLF */
        line_end(b);
        p = lf + 1;
        n -= seg + 1;
    }
}

/* html_spaces - HTML: CRLF, LF and a lone CR to one space, in place
 * (dst may be src: it never writes ahead of what it read). */
static size_t html_spaces(struct body *b, const char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = src[i];
        if (b->html_cr) {
            b->html_cr = false;
            if (ch == '\n')
                continue; /* the space was written for the CR */
        }
        if (ch == '\r') {
            b->html_cr = true;
            ch = ' ';
        } else if (ch == '\n') {
            ch = ' ';
        }
        dst[o++] = ch;
    }
    return o;
}

/* body_emit - the next decoded bytes of the body. src may be scratch
 * dec itself. */
static void body_emit(struct body *b, const char *src, size_t n)
{
    struct ctx *c = b->c;
    b->size += n;
    if (b->urls) {
        url_hosts_feed(&c->facts->hosts, src, n);
        if (c->part_urls)
            url_hosts_feed(&c->w->part_hosts, src, n);
    }
    if (b->lines)
        lines_feed(b, src, n);
    if (b->sub && b->body_vm.nsub > 0) {
        if (b->html) {
            n = html_spaces(b, src, n, c->w->dec);
            src = c->w->dec;
        }
        vm_feed(&b->body_vm, src, n);
    }
}

static void body_decode(struct body *b, const struct mime_part *mp)
{
    char *dec = b->c->w->dec;
    const char *in = mp->body.ptr;
    size_t len = mp->body.len;
    if (mp->cte == MIME_CTE_BASE64) {
        struct mime_b64 d;
        mime_b64_init(&d);
        while (len > 0) {
            size_t used = 0;
            size_t n = mime_b64_decode(&d, in, len, dec, SPAM_MATCH_CHUNK, &used);
            body_emit(b, dec, n);
            in += used;
            len -= used;
        }
        size_t n;
        while ((n = mime_b64_finish(&d, dec, SPAM_MATCH_CHUNK)) > 0)
            body_emit(b, dec, n);
    } else if (mp->cte == MIME_CTE_QP) {
        struct mime_qp d;
        mime_qp_init(&d);
        while (len > 0) {
            size_t used = 0;
            size_t n = mime_qp_decode(&d, in, len, dec, SPAM_MATCH_CHUNK, &used);
            body_emit(b, dec, n);
            in += used;
            len -= used;
        }
        size_t n;
        while ((n = mime_qp_finish(&d, dec, SPAM_MATCH_CHUNK)) > 0)
            body_emit(b, dec, n);
    } else {
        /* identity: HTML needs a writable copy for its line breaks */
        while (len > 0) {
            size_t n = len < SPAM_MATCH_CHUNK ? len : SPAM_MATCH_CHUNK;
            if (b->html && b->sub) {
                memcpy(dec, in, n);
                body_emit(b, dec, n);
            } else {
                body_emit(b, in, n);
            }
            in += n;
            len -= n;
        }
    }
}

static void part_hosts(struct ctx *c, unsigned part, const struct url_hosts *u, size_t from)
{
    for (size_t i = from; i < u->n; i++)
        match_value(c, part, SPAM_FIELD_URLHOST, STR_NULL, url_hosts_get(u, i));
}

static void entity(struct ctx *c, const struct mime_part *mp)
{
    unsigned part = mp->index;
    headers(c, part, mp->headers);
    if (mp->filename[0] != '\0')
        match_value(c, part, SPAM_FIELD_FILENAME, STR_NULL, str_from_cstr(mp->filename));
    bool leaf = !mp->is_multipart && !mp->is_message;
    bool file = mp->filename[0] != '\0' || mp->attachment;
    bool body = leaf && !mp->attachment;
    struct body b;
    b.c = c;
    b.part = part;
    b.size = 0;
    b.text = body && strcmp(mp->type, "text/plain") == 0;
    b.html = body && strcmp(mp->type, "text/html") == 0;
    b.urls = b.text || b.html;
    b.sub = false;
    b.lines = false;
    b.line_open = b.line_cr = b.html_cr = false;
    if (b.text)
        b.sub = vm_begin(&b.body_vm, c, part, SPAM_FIELD_TEXTBODY, STR_NULL, VM_SUB);
    if (b.html)
        b.sub = vm_begin(&b.body_vm, c, part, SPAM_FIELD_HTMLBODY, STR_NULL, VM_SUB);
    if (b.text && c->text_lines)
        b.lines = vm_begin(&b.line_vm, c, part, SPAM_FIELD_TEXTBODY, STR_NULL, VM_ENDS);
    bool size = file && c->any[SPAM_FIELD_FILESIZE];
    if (!b.urls && !size)
        return;
    size_t hosts_before = c->facts->hosts.n;
    if (b.urls) {
        enum url_part_kind k = b.html ? URL_PART_HTML : URL_PART_TEXT;
        url_hosts_begin(&c->facts->hosts, k);
        if (c->part_urls) {
            url_hosts_init(&c->w->part_hosts);
            url_hosts_begin(&c->w->part_hosts, k);
        }
    }
    body_decode(&b, mp);
    if (b.html && b.html_cr)
        b.html_cr = false; /* its space was written */
    if (b.lines && (b.line_open || b.line_cr))
        line_end(&b);
    if (b.sub)
        vm_end(&b.body_vm, STR_NULL);
    if (b.urls) {
        url_hosts_end(&c->facts->hosts);
        if (c->any[SPAM_FIELD_URLHOST]) {
            if (c->part_urls) {
                url_hosts_end(&c->w->part_hosts);
                part_hosts(c, part, &c->w->part_hosts, 0);
            } else {
                part_hosts(c, part, &c->facts->hosts, hosts_before);
            }
        }
    }
    if (size) {
        char text[24];
        int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)b.size);
        match_value(c, part, SPAM_FIELD_FILESIZE, STR_NULL, str_make(text, (size_t)n));
    }
}

/* ---- the verdict ---------------------------------------------------- */

#define SET_BYTES ((MIME_PARTS_MAX + 7) / 8)

static void decide(struct ctx *c, struct spam_match_result *res)
{
    uint8_t prev[SET_BYTES], cur[SET_BYTES];
    bool prev_sat = false;
    memset(prev, 0, sizeof(prev));
    for (unsigned i = 0; i < c->nrules; i++) {
        const struct spam_rule *r = &c->rules[i];
        bool not = (r->flags & SPAM_CMP_NOT) != 0;
        bool matched = false;
        for (unsigned p = 0; p < c->nparts && !matched; p++)
            matched = get_hit(c, i, p);
        bool any = r->field == SPAM_FIELD_ALWAYS || (not ? !matched : matched);
        bool sat = false;
        memset(cur, 0, sizeof(cur));
        for (unsigned p = 0; p < c->nparts; p++) {
            bool own = r->field == SPAM_FIELD_ALWAYS || (get_hit(c, i, p) != not );
            if (own)
                cur[p / 8] |= (uint8_t)(1u << (p % 8));
        }
        if (r->flags & SPAM_CMP_AND_SAMEPART) {
            for (unsigned k = 0; k < SET_BYTES; k++) {
                cur[k] &= prev[k];
                sat = sat || cur[k] != 0;
            }
        } else {
            sat = any && (!(r->flags & SPAM_CMP_AND) || prev_sat);
            if (!sat)
                memset(cur, 0, sizeof(cur));
        }
        if (sat && r->judgment != SPAM_RULE_NONE) {
            res->line = r->line;
            if (r->judgment == SPAM_RULE_BLACK) {
                res->verdict = SPAM_MATCH_BLACK;
                spam_rule_detection_name(r, str_from_cstr(c->w->found[i]), res->name,
                                         sizeof(res->name));
            } else {
                res->verdict = SPAM_MATCH_WHITE;
            }
            return;
        }
        prev_sat = sat;
        memcpy(prev, cur, sizeof(prev));
    }
}

/* ---- the pass ------------------------------------------------------- */

void spam_mail_examine(const struct spam_rule *rules, unsigned nrules, const char *msg, size_t len,
                       const char *client_ip, struct spam_mail_facts *facts,
                       struct spam_match_result *res)
{
    struct ctx c;
    memset(&c, 0, sizeof(c));
    if (nrules > SPAM_RULES_MAX)
        nrules = SPAM_RULES_MAX;
    c.rules = rules;
    c.nrules = nrules;
    c.facts = facts;
    c.w = &facts->scratch;
    facts->nrelay = 0;
    facts->relay_dropped = 0;
    url_hosts_init(&facts->hosts);
    memset(c.w->hit, 0, sizeof(c.w->hit));
    memset(c.w->found, 0, sizeof(c.w->found));
    memset(res, 0, sizeof(*res));
    for (unsigned i = 0; i < nrules; i++) {
        const struct spam_rule *r = &rules[i];
        c.any[r->field] = true;
        if (r->field == SPAM_FIELD_TEXTBODY && rule_ends(r))
            c.text_lines = true;
        if (r->field == SPAM_FIELD_URLHOST &&
            ((r->flags & SPAM_CMP_AND_SAMEPART) ||
             (i + 1 < nrules && (rules[i + 1].flags & SPAM_CMP_AND_SAMEPART))))
            c.part_urls = true;
    }
    if (client_ip) {
        char addr[RECEIVED_ADDR_MAX];
        if (received_canonical(str_from_cstr(client_ip), addr))
            relay_add(facts, addr);
    }

    struct mime_walker *w = &c.w->walker;
    unsigned nparts = 0;
    if (msg && mime_walker_init(w, msg, len) == MIME_MORE) {
        while (mime_walker_step(w, SIZE_MAX) == MIME_MORE)
            ;
        nparts = mime_walker_parts(w);
    }
    c.nparts = nparts > 0 ? nparts : 1;
    for (unsigned k = 0; k < nparts; k++) {
        struct mime_part mp;
        mime_walker_part(w, k, &mp);
        if (mp.index >= MIME_PARTS_MAX)
            continue;
        entity(&c, &mp);
        if (k == 0)
            for (unsigned i = 0; i < facts->nrelay; i++)
                match_value(&c, 0, SPAM_FIELD_RELAYIP, STR_NULL, str_from_cstr(facts->relay[i]));
    }
    if (nparts == 0)
        for (unsigned i = 0; i < facts->nrelay; i++)
            match_value(&c, 0, SPAM_FIELD_RELAYIP, STR_NULL, str_from_cstr(facts->relay[i]));
    decide(&c, res);
}
