/* authlog_format - see authlog_format.h. */
#include "proto/authlog_format.h"

#include <stdio.h>
#include <string.h>

static bool needs_escape(unsigned char c)
{
    return c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '%' || c == ',';
}

static bool put_escaped(struct buf *out, struct str s)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        if (!(needs_escape(c) ? buf_append(out, e, 3) : buf_append(out, (const char *)&c, 1)))
            return false;
    }
    return true;
}

static bool mechanism_ok(struct str m)
{
    if (m.len == 0 || m.len > 20)
        return false;
    for (size_t i = 0; i < m.len; i++) {
        char c = m.ptr[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

bool authlog_format(struct buf *out, const struct authlog_line *l)
{
    size_t start = out->wpos;
    struct tm tm;
    char when[32] = "1970-01-01 00:00:00";
    if (localtime_r(&l->when, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    bool ok =
        buf_printf(out, "%s ", when) && put_escaped(out, l->program) &&
        buf_printf(out, "[%ld]: warning: ", l->pid) &&
        (l->client_host.len ? put_escaped(out, l->client_host) : buf_append_cstr(out, "unknown")) &&
        buf_append_cstr(out, "[") && put_escaped(out, l->client_ip) &&
        buf_append_cstr(out, "]: SASL ") &&
        (mechanism_ok(l->mechanism) ? buf_append_str(out, l->mechanism)
                                    : buf_append_cstr(out, "?")) &&
        buf_printf(out, " authentication failed: %s, user=", l->reason ? l->reason : "") &&
        put_escaped(out, l->user) && buf_append_cstr(out, "\n");
    if (!ok)
        out->wpos = start;
    return ok;
}
