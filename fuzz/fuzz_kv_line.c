/* fuzz_kv_line - libFuzzer target for proto/kv_line.
 *
 * The first input byte picks the line limit (a small one, 0-63 bytes, to
 * reach it often, or 4096) and the error buffer (full, or 3 bytes to check
 * truncation); the rest is the text, a buffer of exactly its size (ASan
 * catches an over-read). The walker feeds the parsers of two files read by
 * root-started programs, so any crash or UB is a bug; so is a walk that
 * disagrees with the rules its header states, checked here line by line
 * against the text itself: an entry's key and value lie on the line it
 * names, trimmed, split at that line's first '='; every line skipped
 * before an entry or an error is blank or a comment; no line handed out or
 * skipped is over the limit or holds a control byte; an error names the
 * line that breaks a rule, with one of the documented reasons, and sticks;
 * the end comes with the number of lines.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/kv_line.h"

struct line {
    const char *p;
    size_t len; /* without LF and the CR before it */
};

/* nth_line - the 1-based line n of text (after a byte order mark). */
static struct line nth_line(const char *text, size_t len, size_t start, unsigned n)
{
    size_t pos = start;
    for (unsigned i = 1; i < n; i++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        if (!nl)
            abort(); /* the walker named a line the text does not have */
        pos = (size_t)(nl - text) + 1;
    }
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t end = nl ? (size_t)(nl - text) : len;
    struct line l = {text + pos, end - pos};
    if (l.len > 0 && l.p[l.len - 1] == '\r')
        l.len--;
    return l;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* clean - within the limit and without control bytes (tab aside). */
static bool clean(struct line l, size_t line_max)
{
    if (l.len > line_max)
        return false;
    for (size_t i = 0; i < l.len; i++) {
        unsigned char c = (unsigned char)l.p[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

/* skippable - a blank line or a comment. */
static bool skippable(struct line l)
{
    size_t i = 0;
    while (i < l.len && blank(l.p[i]))
        i++;
    return i == l.len || l.p[i] == '#';
}

static void check_entry(struct line l, struct str k, struct str v)
{
    if (k.len == 0 || k.ptr < l.p || k.ptr + k.len > l.p + l.len || v.ptr < k.ptr + k.len ||
        v.ptr + v.len > l.p + l.len)
        abort();
    if (blank(k.ptr[0]) || blank(k.ptr[k.len - 1]) ||
        (v.len > 0 && (blank(v.ptr[0]) || blank(v.ptr[v.len - 1]))))
        abort();
    if (memchr(k.ptr, '=', k.len))
        abort();
    /* before the key, blanks only; between key and value one '=' and
     * blanks; after the value, blanks only */
    for (const char *p = l.p; p < k.ptr; p++)
        if (!blank(*p))
            abort();
    size_t eq = 0;
    for (const char *p = k.ptr + k.len; p < v.ptr; p++) {
        if (*p == '=')
            eq++;
        else if (!blank(*p))
            abort();
    }
    if (eq != 1)
        abort();
    for (const char *p = v.ptr + v.len; p < l.p + l.len; p++)
        if (!blank(*p))
            abort();
}

static const char *const REASONS[] = {
    "line longer than ",    "NUL byte in the line",
    "control character 0x", "expected key=value, found no '='",
    "no key before '='",
};

static void check_error(struct line l, size_t line_max, const char *err, size_t errcap)
{
    if (errcap == 0)
        return;
    if (strnlen(err, errcap) >= errcap || err[0] == '\0')
        abort();
    bool known = false;
    for (size_t i = 0; i < sizeof(REASONS) / sizeof(REASONS[0]); i++)
        if (strncmp(err, REASONS[i], strlen(err)) == 0 ||
            strncmp(err, REASONS[i], strlen(REASONS[i])) == 0)
            known = true;
    if (!known)
        abort();
    /* the line refused breaks a rule */
    if (clean(l, line_max)) {
        if (skippable(l))
            abort();
        const char *eq = memchr(l.p, '=', l.len);
        if (eq) {
            bool key = false;
            for (const char *p = l.p; p < eq; p++)
                key |= !blank(*p);
            if (key)
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t line_max = data[0] & 0x80 ? 4096 : (size_t)(data[0] & 0x3f);
    size_t errcap = data[0] & 0x40 ? 3 : 128;
    size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, len);
    size_t start = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    struct kv_reader r;
    kv_reader_init(&r, text, len, line_max);
    unsigned prev = 0;
    char err[128];
    for (;;) {
        struct str k, v;
        enum kv_status st = kv_next(&r, &k, &v, err, errcap);
        if (st == KV_END) {
            /* the lines: LF count, one more for a last line without one */
            unsigned lines = 0;
            for (size_t i = start; i < len; i++)
                lines += text[i] == '\n';
            if (len > start && text[len - 1] != '\n')
                lines++;
            if (r.line != lines)
                abort();
            for (unsigned n = prev + 1; n <= lines; n++) {
                struct line l = nth_line(text, len, start, n);
                if (!clean(l, line_max) || !skippable(l))
                    abort();
            }
            if (kv_next(&r, &k, &v, err, errcap) != KV_END)
                abort();
            break;
        }
        if (st != KV_ENTRY && st != KV_ERROR)
            abort();
        if (r.line <= prev)
            abort();
        for (unsigned n = prev + 1; n < r.line; n++) {
            struct line l = nth_line(text, len, start, n);
            if (!clean(l, line_max) || !skippable(l))
                abort();
        }
        struct line l = nth_line(text, len, start, r.line);
        if (st == KV_ENTRY) {
            if (!clean(l, line_max))
                abort();
            check_entry(l, k, v);
            prev = r.line;
            continue;
        }
        check_error(l, line_max, err, errcap);
        char again[128];
        unsigned line = r.line;
        if (kv_next(&r, &k, &v, again, errcap) != KV_ERROR || r.line != line ||
            strncmp(again, err, errcap) != 0)
            abort();
        break;
    }
    free(text);
    return 0;
}
