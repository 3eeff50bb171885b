/* html_scan - find the executable parts of an HTML mail body (see
 * html_scan.h for what counts and why). */
#include "proto/html_scan.h"

#include <string.h>

struct html_pass {
    const char *p;
    size_t len;
    size_t i;
    unsigned flags;
    html_exec_fn *fn;
    void *arg;
    bool stopped;
};

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static void emit(struct html_pass *h, size_t from, size_t to)
{
    if (h->stopped || !h->fn || to <= from)
        return;
    if (!h->fn(h->arg, str_make(h->p + from, to - from)))
        h->stopped = true;
}

/* read_name - a tag or attribute name at h->i, lowercased into out (its
 * first HTML_NAME_MAX bytes); stops at whitespace, '/', '>' and, after
 * the first byte, '='. */
static void read_name(struct html_pass *h, char out[HTML_NAME_MAX + 1])
{
    size_t n = 0;
    size_t start = h->i;
    while (h->i < h->len) {
        unsigned char c = (unsigned char)h->p[h->i];
        if (is_space(c) || c == '/' || c == '>' || (c == '=' && h->i > start))
            break;
        if (n < HTML_NAME_MAX)
            out[n++] = (char)lower(c);
        h->i++;
    }
    out[n] = '\0';
}

static void skip_space(struct html_pass *h)
{
    while (h->i < h->len && is_space((unsigned char)h->p[h->i]))
        h->i++;
}

/* char_ref - decode a character reference at v[*k] (just after '&');
 * returns the code point of a numeric reference or of &colon; / &tab; /
 * &newline;, or -1 (then *k is unchanged and '&' is literal). */
static long char_ref(struct str v, size_t *k)
{
    size_t j = *k;
    if (j < v.len && v.ptr[j] == '#') {
        j++;
        unsigned base = 10;
        if (j < v.len && (v.ptr[j] == 'x' || v.ptr[j] == 'X')) {
            base = 16;
            j++;
        }
        long cp = 0;
        size_t digits = 0;
        while (j < v.len && digits < 8) {
            unsigned char c = lower((unsigned char)v.ptr[j]);
            unsigned d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (base == 16 && c >= 'a' && c <= 'f')
                d = 10u + (c - 'a');
            else
                break;
            cp = cp * (long)base + (long)d;
            digits++;
            j++;
        }
        if (digits == 0)
            return -1;
        while (j < v.len && digits++ < 16 && ((v.ptr[j] >= '0' && v.ptr[j] <= '9')))
            j++; /* over-long zero padding: &#0000000058; */
        if (j < v.len && v.ptr[j] == ';')
            j++;
        *k = j;
        return cp;
    }
    static const struct {
        const char *name;
        long cp;
    } named[] = {{"colon;", ':'}, {"tab;", '\t'}, {"newline;", '\n'}};
    for (size_t n = 0; n < sizeof(named) / sizeof(named[0]); n++) {
        size_t l = strlen(named[n].name);
        if (v.len - j >= l && str_caseeq(str_make(v.ptr + j, l), str_make(named[n].name, l))) {
            *k = j + l;
            return named[n].cp;
        }
    }
    return -1;
}

/* has_script_url - does the value, normalised as a browser reads a URL,
 * contain a script scheme? */
static bool has_script_url(struct str v)
{
    char norm[HTML_URL_SCAN_MAX];
    size_t n = 0;
    for (size_t k = 0; k < v.len && n < sizeof(norm);) {
        long c = (unsigned char)v.ptr[k++];
        if (c == '&') {
            long cp = char_ref(v, &k);
            if (cp >= 0)
                c = cp;
        }
        if (c <= 0x20 || c == 0x7f)
            continue; /* browsers drop these inside a scheme */
        norm[n++] = c < 0x80 ? (char)lower((unsigned char)c) : '?';
    }
    static const char *const schemes[] = {"javascript:", "vbscript:", "jscript:", "livescript:"};
    for (size_t s = 0; s < sizeof(schemes) / sizeof(schemes[0]); s++)
        if (memmem(norm, n, schemes[s], strlen(schemes[s])))
            return true;
    return false;
}

static bool is_event_handler(const char *name)
{
    if (name[0] != 'o' || name[1] != 'n' || name[2] == '\0')
        return false;
    for (const char *c = name + 2; *c; c++)
        if (!is_alpha((unsigned char)*c))
            return false;
    return true;
}

/* find_script_end - the offset of "</script" (any case) at or after from,
 * or len. */
static size_t find_script_end(const struct html_pass *h, size_t from)
{
    static const char end[] = "</script";
    size_t el = sizeof(end) - 1;
    for (size_t i = from; i < h->len;) {
        const char *lt = memchr(h->p + i, '<', h->len - i);
        if (!lt)
            break;
        size_t at = (size_t)(lt - h->p);
        if (h->len - at >= el && str_caseeq(str_make(lt, el), str_make(end, el)))
            return at;
        i = at + 1;
    }
    return h->len;
}

/* tag - a start tag whose name begins at h->i (just after '<'). */
static void tag(struct html_pass *h, size_t lt)
{
    char name[HTML_NAME_MAX + 1];
    read_name(h, name);
    bool script = strcmp(name, "script") == 0;
    bool object = strcmp(name, "object") == 0;
    bool embedded = object || strcmp(name, "embed") == 0 || strcmp(name, "applet") == 0;
    if (script)
        h->flags |= HTML_F_SCRIPT;
    while (h->i < h->len && !h->stopped) {
        while (h->i < h->len && (is_space((unsigned char)h->p[h->i]) || h->p[h->i] == '/'))
            h->i++;
        if (h->i >= h->len)
            break;
        if (h->p[h->i] == '>') {
            h->i++;
            break;
        }
        char attr[HTML_NAME_MAX + 1];
        read_name(h, attr);
        skip_space(h);
        struct str value = STR_NULL;
        size_t vstart = h->i, vend = h->i;
        if (h->i < h->len && h->p[h->i] == '=') {
            h->i++;
            skip_space(h);
            if (h->i < h->len && (h->p[h->i] == '"' || h->p[h->i] == '\'')) {
                char q = h->p[h->i++];
                vstart = h->i;
                const char *close = memchr(h->p + h->i, q, h->len - h->i);
                vend = close ? (size_t)(close - h->p) : h->len;
                h->i = close ? vend + 1 : h->len;
            } else {
                vstart = h->i;
                while (h->i < h->len && !is_space((unsigned char)h->p[h->i]) && h->p[h->i] != '>')
                    h->i++;
                vend = h->i;
            }
            value = str_make(h->p + vstart, vend - vstart);
        }
        if (object && (strcmp(attr, "classid") == 0 || strcmp(attr, "codebase") == 0))
            h->flags |= HTML_F_ACTIVEX;
        if (value.len == 0)
            continue;
        if (is_event_handler(attr)) {
            h->flags |= HTML_F_SCRIPT;
            emit(h, vstart, vend);
        } else if (strcmp(attr, "alt") != 0 && strcmp(attr, "title") != 0 &&
                   has_script_url(value)) {
            h->flags |= HTML_F_SCRIPT;
            emit(h, vstart, vend);
        }
    }
    if (embedded)
        emit(h, lt, h->i);
    if (script) {
        size_t end = find_script_end(h, h->i);
        emit(h, h->i, end);
        h->i = end;
    }
}

unsigned html_scan(const char *html, size_t len, html_exec_fn *fn, void *arg)
{
    if (!html)
        return 0;
    struct html_pass h = {.p = html, .len = len, .fn = fn, .arg = arg};
    while (h.i < h.len && !h.stopped) {
        const char *lt = memchr(h.p + h.i, '<', h.len - h.i);
        if (!lt)
            break;
        size_t at = (size_t)(lt - h.p);
        h.i = at + 1;
        if (h.i < h.len && is_alpha((unsigned char)h.p[h.i]))
            tag(&h, at);
        /* end tags, comments, declarations: their text is read on as
         * ordinary text, so a tag inside a comment still counts */
    }
    return h.flags;
}
