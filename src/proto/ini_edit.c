/* ini_edit - change values in the text of sekisho.ini (see ini_edit.h).
 *
 * The text is walked twice by physical line, each line paired with what
 * ini_parse says it is (the parser skips blank and comment lines, so its
 * items are matched to lines by line number). The first walk finds, for
 * every change, whether its key is present and where a missing key goes
 * (the end of the last entry or header of its section). The second walk
 * writes; it runs once to count the bytes and once into storage of that
 * size, so the output is allocated exactly once and no limit on the
 * output size is needed beyond the input's.
 */
#include "proto/ini_edit.h"

#include <stdint.h>
#include <string.h>

#include "proto/ini_parse.h"

#define UTF8_BOM "\xEF\xBB\xBF"

/* One physical line: text[start..end) its content, text[end..next) its
 * line end (LF, CRLF, or nothing on the last line). */
struct line {
    size_t start, end, next;
    enum ini_parse_result kind; /* INI_PARSE_DONE: blank or comment */
    struct ini_item item;
};

struct walker {
    const char *text;
    size_t len, pos;
    unsigned lineno;
    struct ini_parser ps;
    enum ini_parse_result pending; /* the parser's next item, not yet matched */
    struct ini_item pitem;
};

static size_t bom_len(const char *text, size_t len)
{
    return len >= 3 && memcmp(text, UTF8_BOM, 3) == 0 ? 3 : 0;
}

static void walk_init(struct walker *w, const char *text, size_t len)
{
    w->text = text;
    w->len = len;
    w->pos = bom_len(text, len);
    w->lineno = 0;
    ini_parse_init(&w->ps, text, len);
    w->pending = ini_parse_next(&w->ps, &w->pitem);
}

/* walk_next - the next line, split exactly as ini_parse splits them. */
static bool walk_next(struct walker *w, struct line *l)
{
    if (w->pos >= w->len)
        return false;
    w->lineno++;
    const char *nl = memchr(w->text + w->pos, '\n', w->len - w->pos);
    l->start = w->pos;
    l->next = nl ? (size_t)(nl - w->text) + 1 : w->len;
    l->end = nl ? l->next - 1 : w->len;
    if (l->end > l->start && w->text[l->end - 1] == '\r')
        l->end--;
    w->pos = l->next;
    l->kind = INI_PARSE_DONE;
    if (w->pending != INI_PARSE_DONE && w->pitem.line == w->lineno) {
        l->kind = w->pending;
        l->item = w->pitem;
        w->pending = ini_parse_next(&w->ps, &w->pitem);
    }
    return true;
}

static bool default_same(struct str file_key, const char *key, void *arg)
{
    (void)arg;
    return str_caseeq_cstr(file_key, key);
}

struct editor {
    const char *text;
    size_t len;
    const struct ini_change *ch;
    size_t n;
    ini_same_key_fn *same;
    void *arg;
    const char *eol;
    bool found[INI_EDIT_MAX];
    size_t insert_at[INI_EDIT_MAX]; /* offset after the anchor line; SIZE_MAX: no section */
};

/* Output: counted when b is NULL, else appended (the storage was sized by
 * the counting run, so an append cannot fail). */
struct sink {
    struct buf *b;
    size_t n;
    char last;
};

static void put(struct sink *s, const char *p, size_t n)
{
    if (n == 0)
        return;
    if (s->b)
        buf_append(s->b, p, n);
    s->n += n;
    s->last = p[n - 1];
}

static void put_cstr(struct sink *s, const char *p)
{
    put(s, p, strlen(p));
}

static bool entry_in_section(const struct line *l, const char *section)
{
    return l->kind == INI_PARSE_ENTRY && l->item.section.ptr && !l->item.section_invalid &&
           str_caseeq_cstr(l->item.section, section);
}

/* matching_change - the change that names this entry, or -1. */
static long matching_change(const struct editor *ed, const struct line *l)
{
    for (size_t i = 0; i < ed->n; i++)
        if (entry_in_section(l, ed->ch[i].section) && ed->same(l->item.key, ed->ch[i].key, ed->arg))
            return (long)i;
    return -1;
}

static bool needs_quotes(const char *v, size_t n)
{
    return n > 0 &&
           (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t' || v[0] == '"');
}

static size_t encoded_len(const char *v)
{
    size_t n = strlen(v);
    return n + (needs_quotes(v, n) ? 2 : 0);
}

static void put_value(struct sink *s, const char *v)
{
    size_t n = strlen(v);
    bool q = needs_quotes(v, n);
    if (q)
        put(s, "\"", 1);
    put(s, v, n);
    if (q)
        put(s, "\"", 1);
}

/* line_start - before a new line: end the last one if it has no line end
 * (a lone CR left by a file cut after it only needs the LF). */
static void line_start(const struct editor *ed, struct sink *s, size_t bom)
{
    if (s->n > bom && s->last != '\n')
        put_cstr(s, s->last == '\r' ? "\n" : ed->eol);
}

static bool put_new_entry(const struct editor *ed, struct sink *s, size_t bom, size_t i, char *err,
                          size_t errlen)
{
    const struct ini_change *c = &ed->ch[i];
    if (strlen(c->key) + 1 + encoded_len(c->value) > INI_LINE_MAX) {
        str_format(err, errlen, "[%.64s] %.64s: the line would be longer than %d bytes", c->section,
                   c->key, INI_LINE_MAX);
        return false;
    }
    line_start(ed, s, bom);
    put_cstr(s, c->key);
    put(s, "=", 1);
    put_value(s, c->value);
    put_cstr(s, ed->eol);
    return true;
}

static bool is_missing(const struct editor *ed, size_t i)
{
    return ed->ch[i].value && !ed->found[i];
}

/* emit - the whole new text into s. */
static bool emit(const struct editor *ed, struct sink *s, char *err, size_t errlen)
{
    const char *text = ed->text;
    size_t bom = bom_len(text, ed->len);
    put(s, text, bom);
    struct walker w;
    struct line l;
    walk_init(&w, text, ed->len);
    while (walk_next(&w, &l)) {
        long j = matching_change(ed, &l);
        if (j < 0) {
            put(s, text + l.start, l.next - l.start);
        } else if (ed->ch[j].value) {
            /* the raw value: what follows the first '=', blanks trimmed,
             * quotes included (ini_parse cuts it the same way) */
            const char *eq = memchr(text + l.start, '=', l.end - l.start);
            size_t after = (size_t)(eq - text) + 1;
            struct str raw = str_trim(str_make(text + after, l.end - after));
            size_t vstart = raw.len ? (size_t)(raw.ptr - text) : l.end;
            size_t vend = vstart + raw.len;
            if (vstart - l.start + encoded_len(ed->ch[j].value) + (l.end - vend) > INI_LINE_MAX) {
                str_format(err, errlen, "[%.64s] %.64s: the line would be longer than %d bytes",
                           ed->ch[j].section, ed->ch[j].key, INI_LINE_MAX);
                return false;
            }
            put(s, text + l.start, vstart - l.start);
            put_value(s, ed->ch[j].value);
            put(s, text + vend, l.next - vend);
        } /* else removed, line end included */
        for (size_t i = 0; i < ed->n; i++)
            if (is_missing(ed, i) && ed->insert_at[i] == l.next &&
                !put_new_entry(ed, s, bom, i, err, errlen))
                return false;
    }
    /* sections the file lacks, in the order of their first change */
    for (size_t i = 0; i < ed->n; i++) {
        if (!is_missing(ed, i) || ed->insert_at[i] != SIZE_MAX)
            continue;
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            if (is_missing(ed, k) && ed->insert_at[k] == SIZE_MAX &&
                str_caseeq_cstr(str_from_cstr(ed->ch[k].section), ed->ch[i].section))
                first = false;
        if (!first)
            continue;
        line_start(ed, s, bom);
        if (s->n > bom)
            put_cstr(s, ed->eol);
        put(s, "[", 1);
        put_cstr(s, ed->ch[i].section);
        put(s, "]", 1);
        put_cstr(s, ed->eol);
        for (size_t k = i; k < ed->n; k++)
            if (is_missing(ed, k) && ed->insert_at[k] == SIZE_MAX &&
                str_caseeq_cstr(str_from_cstr(ed->ch[k].section), ed->ch[i].section) &&
                !put_new_entry(ed, s, bom, k, err, errlen))
                return false;
    }
    return true;
}

static bool is_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > INI_LINE_MAX - 2)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!ini_is_name_char(s[i]))
            return false;
    return true;
}

static bool check_changes(const struct editor *ed, char *err, size_t errlen)
{
    if (ed->n > INI_EDIT_MAX) {
        str_format(err, errlen, "more than %d changes", INI_EDIT_MAX);
        return false;
    }
    for (size_t i = 0; i < ed->n; i++) {
        const struct ini_change *c = &ed->ch[i];
        if (!is_name(c->section)) {
            str_format(err, errlen,
                       "change %zu: the section name is empty or not made of "
                       "A-Z a-z 0-9 _ . -",
                       i + 1);
            return false;
        }
        if (!is_name(c->key)) {
            str_format(err, errlen, "change %zu: the key is empty or not made of A-Z a-z 0-9 _ . -",
                       i + 1);
            return false;
        }
        for (const char *p = c->value; p && *p; p++) {
            unsigned char b = (unsigned char)*p;
            if ((b < 0x20 && b != '\t') || b == 0x7f) {
                str_format(err, errlen, "[%.64s] %.64s: control byte 0x%02x in the value",
                           c->section, c->key, b);
                return false;
            }
        }
        for (size_t k = 0; k < i; k++) {
            if (str_caseeq_cstr(str_from_cstr(ed->ch[k].section), c->section) &&
                ed->same(str_from_cstr(ed->ch[k].key), c->key, ed->arg)) {
                str_format(err, errlen, "[%.64s] %.64s: changed twice (changes %zu and %zu)",
                           c->section, c->key, k + 1, i + 1);
                return false;
            }
        }
    }
    return true;
}

/* analyse - which keys are present, and where each missing one goes. */
static void analyse(struct editor *ed)
{
    for (size_t i = 0; i < ed->n; i++) {
        ed->found[i] = false;
        ed->insert_at[i] = SIZE_MAX;
    }
    struct walker w;
    struct line l;
    walk_init(&w, ed->text, ed->len);
    while (walk_next(&w, &l)) {
        for (size_t i = 0; i < ed->n; i++) {
            const char *sec = ed->ch[i].section;
            if (l.kind == INI_PARSE_SECTION && str_caseeq_cstr(l.item.section, sec)) {
                ed->insert_at[i] = l.next;
            } else if (entry_in_section(&l, sec)) {
                ed->insert_at[i] = l.next;
                if (ed->same(l.item.key, ed->ch[i].key, ed->arg))
                    ed->found[i] = true;
            }
        }
    }
}

bool ini_edit_apply(const char *text, size_t len, const struct ini_change *ch, size_t n,
                    ini_same_key_fn *same, void *arg, struct buf *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    buf_fini(out);
    struct editor edit = {
        .text = text, .len = len, .ch = ch, .n = n, .same = same ? same : default_same, .arg = arg};
    struct editor *ed = &edit;
    if (!check_changes(ed, err, errlen))
        return false;
    /* the file's line end: that of its first line */
    const char *nl = len ? memchr(text, '\n', len) : NULL;
    ed->eol = nl && nl > text && nl[-1] == '\r' ? "\r\n" : "\n";
    analyse(ed);
    struct sink count = {0};
    if (!emit(ed, &count, err, errlen))
        return false;
    if (buf_alloc_storage(out, count.n) < 0) {
        str_format(err, errlen, "out of memory");
        return false;
    }
    struct sink write = {.b = out};
    emit(ed, &write, err, errlen);
    return true;
}
