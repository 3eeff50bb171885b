/* notify_mail_format - a notification mail built from a rendered mail
 * template (spec TPL-2, TPL-5, G-31). See notify_mail_format.h. */
#include "proto/notify_mail_format.h"

#include <string.h>

#include "proto/template_parse.h"

static bool has_8bit(struct str s)
{
    for (size_t i = 0; i < s.len; i++) {
        if ((unsigned char)s.ptr[i] >= 0x80)
            return true;
    }
    return false;
}

static bool has_field(struct str header, const char *name)
{
    struct str v;
    return template_parse_header_find(header, name, &v);
}

/* append_crlf_lines - text with every line ending made CRLF (a last line
 * without an ending gets one). */
static bool append_crlf_lines(struct buf *out, struct str text)
{
    size_t i = 0;
    while (i < text.len) {
        const char *nl = memchr(text.ptr + i, '\n', text.len - i);
        size_t end = nl ? (size_t)(nl - text.ptr) : text.len;
        size_t len = end - i;
        if (len > 0 && text.ptr[i + len - 1] == '\r')
            len--;
        if (!buf_append(out, text.ptr + i, len) || !buf_append(out, "\r\n", 2))
            return false;
        i = nl ? end + 1 : text.len;
    }
    return true;
}

bool notify_mail_format(struct str rendered, const struct notify_mail_parts *parts, struct buf *out)
{
    size_t start = out->wpos;
    struct str header, body;
    template_parse_split_mail(rendered, &header, &body);
    bool ok = buf_append_str(out, parts->lead) &&
              template_parse_encode_header_wire(header, out) == TEMPLATE_PARSE_DONE;
    if (ok && parts->from.len && !has_field(header, "From"))
        ok = buf_append_cstr(out, "From: ") && buf_append_str(out, parts->from) &&
             buf_append(out, "\r\n", 2);
    if (ok && !has_field(header, "MIME-Version"))
        ok = buf_append_cstr(out, "MIME-Version: 1.0\r\n");
    if (ok && !has_field(header, "Content-Type"))
        ok = buf_append_cstr(out, "Content-Type: text/plain; charset=UTF-8\r\n");
    /* RFC 2045 6.2: 7bit only when it is true; UTF-8 text is 8bit. */
    if (ok && !has_field(header, "Content-Transfer-Encoding"))
        ok = buf_append_cstr(out, has_8bit(body) ? "Content-Transfer-Encoding: 8bit\r\n"
                                                 : "Content-Transfer-Encoding: 7bit\r\n");
    ok = ok && buf_append_str(out, parts->trail) && buf_append(out, "\r\n", 2) &&
         append_crlf_lines(out, body);
    if (!ok)
        out->wpos = start;
    return ok;
}
