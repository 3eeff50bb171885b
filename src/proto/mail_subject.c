/* mail_subject - the Subject field for spam_action=change_subject. */
#include "proto/mail_subject.h"

#include <string.h>

#include "proto/template_parse.h"

#define SUBJECT_NAME     "Subject:"
#define SUBJECT_NAME_LEN 8u
#define LINE_MAX_BYTES   998u /* RFC 5322 2.1.1, CRLF excluded */

/* line_end - offset just past the line starting at i (its LF included). */
static size_t line_end(const char *h, size_t len, size_t i)
{
    const char *nl = memchr(h + i, '\n', len - i);
    return nl ? (size_t)(nl - h) + 1 : len;
}

void mail_subject_find(const char *header, size_t len, struct mail_subject_span *out)
{
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    while (i < len) {
        size_t end = line_end(header, len, i);
        size_t body = end - i;
        if (body == 0 || header[i] == '\n' || (header[i] == '\r' && body <= 2))
            return; /* the blank line: the header block is over */
        if (body >= SUBJECT_NAME_LEN &&
            strncasecmp(header + i, SUBJECT_NAME, SUBJECT_NAME_LEN) == 0) {
            /* the field goes on over its continuation lines (RFC 5322 2.2.3) */
            size_t fend = end;
            while (fend < len && (header[fend] == ' ' || header[fend] == '\t'))
                fend = line_end(header, len, fend);
            size_t vend = fend;
            if (vend > i && header[vend - 1] == '\n')
                vend--;
            if (vend > i && header[vend - 1] == '\r')
                vend--;
            size_t vstart = i + SUBJECT_NAME_LEN;
            out->found = true;
            out->start = i;
            out->end = fend;
            out->value = str_make(header + vstart, vend > vstart ? vend - vstart : 0);
            return;
        }
        i = end;
    }
}

static bool printable_ascii(struct str s)
{
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.ptr[i] < 0x20 || (unsigned char)s.ptr[i] > 0x7e)
            return false;
    return true;
}

bool mail_subject_prefixed(struct str prefix, struct str value, struct buf *out)
{
    /* The value keeps its own leading blank, if any ("Subject: Hello"):
     * it belongs after the field name, not between prefix and text. */
    size_t lead = 0;
    while (lead < value.len && (value.ptr[lead] == ' ' || value.ptr[lead] == '\t'))
        lead++;
    struct str text = str_make(value.ptr + lead, value.len - lead);
    const char *nl = memchr(text.ptr, '\n', text.len);
    size_t first = nl ? (size_t)(nl - text.ptr) : text.len;
    bool starts_encoded = text.len >= 2 && text.ptr[0] == '=' && text.ptr[1] == '?';
    bool raw = printable_ascii(prefix) &&
               (!starts_encoded || (prefix.len > 0 && prefix.ptr[prefix.len - 1] == ' ')) &&
               SUBJECT_NAME_LEN + 1 + prefix.len + first <= LINE_MAX_BYTES;
    if (!buf_append(out, SUBJECT_NAME " ", SUBJECT_NAME_LEN + 1))
        return false;
    if (raw) {
        if (!buf_append(out, prefix.ptr, prefix.len))
            return false;
    } else {
        if (!template_parse_rfc2047(prefix, STR_LIT("\r\n "), out))
            return false;
        /* an encoded-word stands apart from what follows it; a fold is
         * that blank and keeps the first line short */
        if (text.len > 0 && !buf_append(out, "\r\n ", 3))
            return false;
    }
    return buf_append(out, text.ptr, text.len) && buf_append(out, "\r\n", 2);
}
