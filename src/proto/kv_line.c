/* kv_line - "key=value" lines, one entry at a time (see kv_line.h).
 *
 * A refused line ends the walk for good: both configuration files are
 * refused whole at their first error, and a reader that went on after one
 * would invite a caller to apply the lines that follow it.
 */
#include "proto/kv_line.h"

#include <string.h>

enum kv_why {
    WHY_NONE = 0,
    WHY_LONG,
    WHY_NUL,
    WHY_CTL,
    WHY_NO_EQ,
    WHY_NO_KEY,
};

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

struct str kv_trim(struct str s)
{
    while (s.len > 0 && is_blank(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_blank(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

void kv_reader_init(struct kv_reader *r, const char *text, size_t len, size_t line_max)
{
    memset(r, 0, sizeof(*r));
    r->text = text;
    r->len = len;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        r->pos = 3; /* UTF-8 byte order mark, as some editors write */
    r->line_max = line_max;
}

static enum kv_status fail(struct kv_reader *r, char *err, size_t errcap)
{
    switch (r->why) {
    case WHY_LONG:
        str_format(err, errcap, "line longer than %zu bytes", r->line_max);
        break;
    case WHY_NUL:
        str_format(err, errcap, "NUL byte in the line");
        break;
    case WHY_CTL:
        str_format(err, errcap, "control character 0x%02x in the line", r->byte);
        break;
    case WHY_NO_EQ:
        str_format(err, errcap, "expected key=value, found no '='");
        break;
    case WHY_NO_KEY:
        str_format(err, errcap, "no key before '='");
        break;
    }
    return KV_ERROR;
}

/* check_bytes - NUL and control bytes (tab aside) are refused: they cannot
 * be typed on purpose and would be invisible in an error message. */
static bool check_bytes(struct kv_reader *r, struct str line)
{
    for (size_t i = 0; i < line.len; i++) {
        unsigned char ch = (unsigned char)line.ptr[i];
        if (ch == '\0') {
            r->why = WHY_NUL;
            return false;
        }
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            r->why = WHY_CTL;
            r->byte = ch;
            return false;
        }
    }
    return true;
}

enum kv_status kv_next(struct kv_reader *r, struct str *key, struct str *value, char *err,
                       size_t errcap)
{
    if (r->why != WHY_NONE)
        return fail(r, err, errcap);
    while (r->pos < r->len) {
        r->line++;
        const char *nl = memchr(r->text + r->pos, '\n', r->len - r->pos);
        size_t end = nl ? (size_t)(nl - r->text) : r->len;
        struct str line = str_make(r->text + r->pos, end - r->pos);
        r->pos = nl ? end + 1 : r->len;
        if (line.len > 0 && line.ptr[line.len - 1] == '\r')
            line.len--;
        if (line.len > r->line_max) {
            r->why = WHY_LONG;
            return fail(r, err, errcap);
        }
        if (!check_bytes(r, line))
            return fail(r, err, errcap);
        struct str t = kv_trim(line);
        if (t.len == 0 || t.ptr[0] == '#')
            continue;
        struct str k, v;
        if (!str_cut(t, '=', &k, &v)) {
            r->why = WHY_NO_EQ;
            return fail(r, err, errcap);
        }
        k = kv_trim(k);
        if (k.len == 0) {
            r->why = WHY_NO_KEY;
            return fail(r, err, errcap);
        }
        *key = k;
        *value = kv_trim(v);
        return KV_ENTRY;
    }
    return KV_END;
}
