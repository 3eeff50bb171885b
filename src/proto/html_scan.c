/* html_scan - find the executable parts of an HTML mail body (see
 * html_scan.h for what counts and why).
 *
 * The pass follows the HTML5 tokenizer where it matters for hiding a
 * script: what ends a comment, a bogus comment (<!x>, <?x>, </ x>), a
 * CDATA section, the text of a raw-text element (<style>, <title>...) and
 * a script body. Those "regions" are skipped as a browser skips them, so a
 * quote opened inside one cannot swallow the markup after its end; and
 * their content is also read as markup (scan() one level deeper), since
 * IE ran the scripts of conditional comments and a mail reader may not
 * know <noscript> or <title>. A tag inside a region that runs past the
 * region's end is read in full as well (the reading of whoever does not
 * see the region), unless it starts inside a tag already read that way:
 * that keeps every byte read a bounded number of times.
 */
#include "proto/html_scan.h"

#include <string.h>

/* Levels of region content read again as markup: a conditional comment
 * inside a <style> inside a CDATA section. Each byte is read at most
 * HTML_DEPTH_MAX + 1 times as markup, plus once inside a read-in-full
 * tag. */
#define HTML_DEPTH_MAX 3

/* Code point of a numeric character reference beyond Unicode: U+FFFD. */
#define HTML_CP_MAX 0x10FFFF

struct html_pass {
    const char *p;
    size_t len;
    size_t ext_end; /* end of the last tag read past its region's end */
    size_t cd_from; /* the first "]]>" at or after cd_from ... */
    size_t cd_at;   /* ... is at cd_at (len: none) */
    bool cd_valid;
    unsigned flags;
    html_exec_fn *fn;
    void *arg;
    bool stopped;
};

enum html_kind {
    HTML_K_OTHER = 0,
    HTML_K_SCRIPT,    /* body is script data */
    HTML_K_OBJECT,    /* ActiveX by classid/codebase; the tag is a part */
    HTML_K_EMBEDDED,  /* embed, applet: the tag is a part */
    HTML_K_RAWTEXT,   /* text up to its end tag: style, title, textarea... */
    HTML_K_PLAINTEXT, /* text to the end of the input */
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

/* has_at - does [at, lim) begin with lit (ASCII case-insensitive)? */
static bool has_at(const struct html_pass *h, size_t at, size_t lim, const char *lit)
{
    size_t n = strlen(lit);
    return lim >= at && lim - at >= n && str_caseeq(str_make(h->p + at, n), str_make(lit, n));
}

/* has_tag_at - is p[at] the name of an appropriate end tag (or a script
 * start tag inside script data): name, then whitespace, '/' or '>'? */
static bool has_tag_at(const struct html_pass *h, size_t at, size_t lim, const char *name)
{
    size_t n = strlen(name);
    if (!has_at(h, at, lim, name) || lim - at == n)
        return false;
    unsigned char c = (unsigned char)h->p[at + n];
    return is_space(c) || c == '/' || c == '>';
}

/* read_name - a tag or attribute name at *i, lowercased into out (its
 * first HTML_NAME_MAX bytes; NUL read as '?', as browsers read it as
 * U+FFFD). It ends at whitespace, '/', '>' and, for an attribute name
 * after its first byte, at '='. */
static void read_name(const struct html_pass *h, size_t *i, size_t lim, bool attr,
                      char out[HTML_NAME_MAX + 1])
{
    size_t n = 0;
    size_t start = *i;
    for (; *i < lim; (*i)++) {
        unsigned char c = (unsigned char)h->p[*i];
        if (is_space(c) || c == '/' || c == '>' || (attr && c == '=' && *i > start))
            break;
        if (n < HTML_NAME_MAX)
            out[n++] = c ? (char)lower(c) : '?';
    }
    out[n] = '\0';
}

static void skip_space(const struct html_pass *h, size_t *i, size_t lim)
{
    while (*i < lim && is_space((unsigned char)h->p[*i]))
        (*i)++;
}

/* char_ref - decode a character reference at v[*k] (just after '&');
 * returns the code point of a numeric reference (any number of digits,
 * ';' optional, U+FFFD beyond Unicode) or of &colon; / &tab; / &newline;,
 * or -1 (then *k is unchanged and '&' is literal). */
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
        for (; j < v.len; j++, digits++) {
            unsigned char c = lower((unsigned char)v.ptr[j]);
            unsigned d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (base == 16 && c >= 'a' && c <= 'f')
                d = 10u + (c - 'a');
            else
                break;
            if (cp <= HTML_CP_MAX) /* stays small: no overflow */
                cp = cp * (long)base + (long)d;
        }
        if (digits == 0)
            return -1;
        if (j < v.len && v.ptr[j] == ';')
            j++;
        *k = j;
        return cp > HTML_CP_MAX ? 0xFFFD : cp;
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

static enum html_kind kind_of(const char *name)
{
    static const char *const rawtext[] = {"style",  "title",   "textarea", "xmp",
                                          "iframe", "noembed", "noframes", "noscript"};
    if (strcmp(name, "script") == 0)
        return HTML_K_SCRIPT;
    if (strcmp(name, "object") == 0)
        return HTML_K_OBJECT;
    if (strcmp(name, "embed") == 0 || strcmp(name, "applet") == 0)
        return HTML_K_EMBEDDED;
    if (strcmp(name, "plaintext") == 0)
        return HTML_K_PLAINTEXT;
    for (size_t n = 0; n < sizeof(rawtext) / sizeof(rawtext[0]); n++)
        if (strcmp(name, rawtext[n]) == 0)
            return HTML_K_RAWTEXT;
    return HTML_K_OTHER;
}

/* script_end - where the script body starting at from ends: the "</script"
 * of HTML5 script data, which inside "<!--" ... "-->" skips over a nested
 * "<script" ... "</script" (double-escaped); or lim. */
static size_t script_end(const struct html_pass *h, size_t from, size_t lim)
{
    enum { SD_DATA, SD_ESCAPED, SD_DOUBLE } st = SD_DATA;
    unsigned dashes = 0; /* '-' just before, outside SD_DATA */
    for (size_t i = from; i < lim; i++) {
        char c = h->p[i];
        if (c == '-') {
            if (st != SD_DATA && dashes < 2)
                dashes++;
            continue;
        }
        if (c == '>' && dashes == 2)
            st = SD_DATA; /* "-->" */
        dashes = 0;
        if (c != '<')
            continue;
        if (st != SD_DOUBLE && has_tag_at(h, i + 1, lim, "/script"))
            return i;
        if (st == SD_DATA && has_at(h, i, lim, "<!--")) {
            st = SD_ESCAPED;
            dashes = 2; /* "<!-->" ends the escape at once */
            i += 3;
        } else if (st == SD_ESCAPED && has_tag_at(h, i + 1, lim, "script")) {
            st = SD_DOUBLE;
            i += 6;
        } else if (st == SD_DOUBLE && has_tag_at(h, i + 1, lim, "/script")) {
            st = SD_ESCAPED;
            i += 7;
        }
    }
    return lim;
}

/* rawtext_end - the '<' of the end tag closing the raw text of element
 * name, at or after from, or lim. */
static size_t rawtext_end(const struct html_pass *h, size_t from, size_t lim, const char *name)
{
    for (size_t i = from; i < lim;) {
        const char *lt = memchr(h->p + i, '<', lim - i);
        if (!lt)
            break;
        size_t at = (size_t)(lt - h->p);
        if (at + 1 < lim && h->p[at + 1] == '/' && has_tag_at(h, at + 2, lim, name))
            return at;
        i = at + 1;
    }
    return lim;
}

/* attributes - the attributes of a tag from *i up to its '>' (after which
 * *i is left) or lim. Only a start tag's attributes count. */
static void attributes(struct html_pass *h, size_t *i, size_t lim, enum html_kind kind,
                       bool start_tag)
{
    while (*i < lim && !h->stopped) {
        while (*i < lim && (is_space((unsigned char)h->p[*i]) || h->p[*i] == '/'))
            (*i)++;
        if (*i >= lim)
            break;
        if (h->p[*i] == '>') {
            (*i)++;
            break;
        }
        char attr[HTML_NAME_MAX + 1];
        read_name(h, i, lim, true, attr);
        skip_space(h, i, lim);
        size_t vstart = *i, vend = *i;
        if (*i < lim && h->p[*i] == '=') {
            (*i)++;
            skip_space(h, i, lim);
            if (*i < lim && (h->p[*i] == '"' || h->p[*i] == '\'')) {
                char q = h->p[(*i)++];
                vstart = *i;
                const char *close = memchr(h->p + *i, q, lim - *i);
                vend = close ? (size_t)(close - h->p) : lim;
                *i = close ? vend + 1 : lim;
            } else {
                vstart = *i;
                while (*i < lim && !is_space((unsigned char)h->p[*i]) && h->p[*i] != '>')
                    (*i)++;
                vend = *i;
            }
        }
        if (!start_tag)
            continue;
        if (kind == HTML_K_OBJECT &&
            (strcmp(attr, "classid") == 0 || strcmp(attr, "codebase") == 0))
            h->flags |= HTML_F_ACTIVEX;
        if (vend == vstart)
            continue;
        struct str value = str_make(h->p + vstart, vend - vstart);
        if (is_event_handler(attr) ||
            (strcmp(attr, "alt") != 0 && strcmp(attr, "title") != 0 && has_script_url(value))) {
            h->flags |= HTML_F_SCRIPT;
            emit(h, vstart, vend);
        }
    }
}

static void scan(struct html_pass *h, size_t from, size_t end, unsigned depth);

/* region - the content [from, to) of a comment or raw-text element, read
 * as markup one level deeper. */
static void region(struct html_pass *h, size_t from, size_t to, unsigned depth)
{
    if (depth < HTML_DEPTH_MAX && from < to)
        scan(h, from, to, depth + 1);
}

/* element - the start or end tag at p[at] == '<' (a scan up to end), with
 * what a start tag opens: a script body, raw text. Returns where the
 * scan goes on. */
static size_t element(struct html_pass *h, size_t at, size_t end, unsigned depth)
{
    /* Inside a region (end < len), read the tag in full unless it starts
     * inside a tag already read so. */
    size_t lim = at >= h->ext_end ? h->len : end;
    bool start_tag = h->p[at + 1] != '/';
    size_t i = at + (start_tag ? 1 : 2);
    char name[HTML_NAME_MAX + 1];
    read_name(h, &i, lim, false, name);
    enum html_kind kind = start_tag ? kind_of(name) : HTML_K_OTHER;
    attributes(h, &i, lim, kind, start_tag);
    if (kind == HTML_K_OBJECT || kind == HTML_K_EMBEDDED)
        emit(h, at, i);
    if (kind == HTML_K_SCRIPT) {
        h->flags |= HTML_F_SCRIPT;
        size_t body = i;
        i = script_end(h, body, lim);
        emit(h, body, i);
    }
    if (i > end) {
        h->ext_end = i;
        return end;
    }
    if (kind == HTML_K_RAWTEXT || kind == HTML_K_PLAINTEXT) {
        size_t text_end = kind == HTML_K_RAWTEXT ? rawtext_end(h, i, end, name) : end;
        region(h, i, text_end, depth);
        return text_end;
    }
    return i;
}

/* comment - "<!--" at at: its content is read as markup; it ends at the
 * first "-->" or "--!>" ("<!-->" and "<!--->" are empty comments). */
static size_t comment(struct html_pass *h, size_t at, size_t end, unsigned depth)
{
    size_t j = at + 2;
    for (;;) {
        const char *dash = j < end ? memchr(h->p + j, '-', end - j) : NULL;
        if (!dash) {
            region(h, at + 4, end, depth);
            return end;
        }
        j = (size_t)(dash - h->p);
        if (has_at(h, j, end, "-->") || (j >= at + 4 && has_at(h, j, end, "--!>"))) {
            region(h, at + 4, j, depth);
            return j + (h->p[j + 2] == '>' ? 3 : 4);
        }
        j++;
    }
}

/* cdata_end - the first "]]>" at or after from in the whole input (len
 * if none). Calls come with from never decreasing, so the answer is kept
 * and the input searched once. */
static size_t cdata_end(struct html_pass *h, size_t from)
{
    if (!h->cd_valid || from < h->cd_from || h->cd_at < from) {
        const char *cd = memmem(h->p + from, h->len - from, "]]>", 3);
        h->cd_from = from;
        h->cd_at = cd ? (size_t)(cd - h->p) : h->len;
        h->cd_valid = true;
    }
    return h->cd_at;
}

/* bogus - "<!x", "<?x", "</ x", "<![CDATA[": a comment up to the first
 * '>'. In <svg> and <math> a CDATA section ends at "]]>" instead: then
 * the text between both ends is read as markup at one level deeper, and
 * the scan goes on after "]]>". */
static size_t bogus(struct html_pass *h, size_t at, size_t end, unsigned depth)
{
    size_t from = at + 2;
    const char *gt = memchr(h->p + from, '>', end - from);
    size_t close = gt ? (size_t)(gt - h->p) : end;
    size_t after = gt ? close + 1 : end;
    if (!has_at(h, at, end, "<![CDATA[")) {
        region(h, from, close, depth);
        return after;
    }
    from = at + 9;
    size_t cd = cdata_end(h, from);
    if (cd + 3 > end) { /* no CDATA end: only the bogus comment */
        region(h, from, close, depth);
        return after;
    }
    region(h, from, close < cd ? close : cd, depth);
    if (after < cd)
        region(h, after, cd, depth);
    return cd + 3;
}

/* markup - what starts with the '<' at at; returns where the scan goes
 * on. */
static size_t markup(struct html_pass *h, size_t at, size_t end, unsigned depth)
{
    if (at + 1 >= end)
        return end;
    unsigned char c = (unsigned char)h->p[at + 1];
    if (is_alpha(c))
        return element(h, at, end, depth);
    if (c == '/' && at + 2 < end && is_alpha((unsigned char)h->p[at + 2]))
        return element(h, at, end, depth);
    if (c == '!' && has_at(h, at, end, "<!--"))
        return comment(h, at, end, depth);
    if (c == '!' || c == '?' || c == '/')
        return bogus(h, at, end, depth);
    return at + 1; /* a '<' in text */
}

/* scan - the data state over [from, end). */
static void scan(struct html_pass *h, size_t from, size_t end, unsigned depth)
{
    size_t i = from;
    while (i < end && !h->stopped) {
        const char *lt = memchr(h->p + i, '<', end - i);
        if (!lt)
            return;
        i = markup(h, (size_t)(lt - h->p), end, depth);
    }
}

unsigned html_scan(const char *html, size_t len, html_exec_fn *fn, void *arg)
{
    if (!html)
        return 0;
    struct html_pass h = {.p = html, .len = len, .fn = fn, .arg = arg};
    scan(&h, 0, len, 0);
    return h.flags;
}
