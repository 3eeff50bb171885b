/* text_line - see text_line.h. */
#include "proto/text_line.h"

#include <string.h>

enum text_line_result text_line_find(const char *buf, size_t len, size_t max, size_t *line_len,
                                     size_t *consumed)
{
    /* The LF of an acceptable line is at index max + 1 at the latest
     * (max bytes, CR, LF), so nothing beyond that is looked at. */
    size_t scan = len < max + 2 ? len : max + 2;
    const char *lf = memchr(buf, '\n', scan);
    if (lf) {
        size_t n = (size_t)(lf - buf);
        size_t l = n > 0 && buf[n - 1] == '\r' ? n - 1 : n;
        if (l > max)
            return TEXT_LINE_TOO_LONG;
        *line_len = l;
        *consumed = n + 1;
        return TEXT_LINE_DONE;
    }
    /* No LF yet. max bytes may be followed by CR LF: a CR at index max
     * still leaves hope; any other byte there, or a byte after that CR
     * that was not LF, means the line is already too long. */
    if (len > max + 1 || (len > max && buf[max] != '\r'))
        return TEXT_LINE_TOO_LONG;
    return TEXT_LINE_AGAIN;
}

size_t text_line_discard(const char *buf, size_t len, bool *ended)
{
    const char *lf = memchr(buf, '\n', len);
    *ended = lf != NULL;
    return lf ? (size_t)(lf - buf) + 1 : len;
}

struct str text_line_trim(struct str s)
{
    size_t b = 0, e = s.len;
    while (b < e && text_line_is_blank(s.ptr[b]))
        b++;
    while (e > b && text_line_is_blank(s.ptr[e - 1]))
        e--;
    return str_make(s.ptr + b, e - b);
}
