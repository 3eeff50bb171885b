/* logline_format - the info.log / error.log line prefix (LOG-3, C-47).
 *
 * See logline_format.h for the layout and the escaping rules. Every piece
 * is appended with the all-or-nothing buf calls and the whole prefix is
 * rolled back to its starting offset when one piece does not fit. No I/O,
 * no allocation, no state.
 */
#include "proto/logline_format.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

/* Size of the strerror_r scratch buffer; glibc's longest text is < 64. */
#define LOGLINE_STRERROR_MAX 128

enum part_class {
    PART_IP = 0, /* keeps ':' (IPv6) */
    PART_HOST,   /* escapes ':' so "ip:host:port" splits from the right */
};

static bool part_keeps(unsigned char c, enum part_class cls)
{
    if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '%')
        return false;
    return cls == PART_IP || c != ':';
}

/* put_part - s escaped per cls, cut at a whole escape to cap bytes; "-"
 * when s is empty so that the field count never changes. */
static bool put_part(struct buf *out, struct str s, size_t cap, enum part_class cls)
{
    if (s.len == 0)
        return buf_append(out, "-", 1);
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        size_t k = part_keeps(c, cls) ? 1 : 3;
        if (k > cap - n)
            break;
        bool ok = k == 1 ? buf_append(out, &s.ptr[i], 1)
                         : buf_printf(out, "%%%c%c", hex_digits[c >> 4], hex_digits[c & 0xf]);
        if (!ok)
            return false;
        n += k;
    }
    return true;
}

static bool put_number(struct buf *out, long v, bool known)
{
    return known ? buf_printf(out, "%ld", v) : buf_append(out, "-", 1);
}

static bool put_peer(struct buf *out, struct str ip, struct str host, unsigned port)
{
    return put_part(out, ip, LOGLINE_IP_MAX, PART_IP) && buf_append(out, ":", 1) &&
           put_part(out, host, LOGLINE_HOST_MAX, PART_HOST) && buf_append(out, ":", 1) &&
           put_number(out, (long)port, port != 0);
}

static bool put_prefix(struct buf *out, const struct logline_ctx *ctx)
{
    long msec = ctx->time.tv_nsec / 1000000;
    if (msec < 0 || msec > 999)
        msec = 0; /* not a normalized timespec: do not print garbage digits */
    if (!buf_printf(out, "%lld.%03ld [", (long long)ctx->time.tv_sec, msec))
        return false;

    struct tm tm;
    char date[32];
    time_t t = ctx->time.tv_sec;
    if (localtime_r(&t, &tm) && strftime(date, sizeof(date), "%Y/%m/%d %H:%M:%S", &tm) > 0) {
        if (!buf_append_cstr(out, date))
            return false;
    } else if (!buf_append_cstr(out, "- -")) {
        return false;
    }

    return buf_append(out, " ", 1) && put_number(out, ctx->listen_port, ctx->listen_port >= 0) &&
           buf_append(out, " ", 1) && put_number(out, ctx->internal_id, ctx->internal_id >= 0) &&
           buf_append(out, " ", 1) &&
           put_peer(out, ctx->client_ip, ctx->client_host, ctx->client_port) &&
           buf_append(out, " ", 1) &&
           put_peer(out, ctx->server_ip, ctx->server_host, ctx->server_port) &&
           buf_append(out, "] ", 2);
}

bool logline_format_prefix(struct buf *out, const struct logline_ctx *ctx)
{
    size_t mark = out->wpos;
    if (put_prefix(out, ctx))
        return true;
    out->wpos = mark;
    return false;
}

/* put_message - the message with control bytes as \xNN, cut at a whole
 * escape to at most limit bytes. */
static void put_message(struct buf *out, struct str msg, size_t limit)
{
    size_t n = 0;
    for (size_t i = 0; i < msg.len; i++) {
        unsigned char c = (unsigned char)msg.ptr[i];
        bool ctl = c < 0x20 || c == 0x7f;
        size_t k = ctl ? 4 : 1;
        if (k > limit - n)
            break;
        if (ctl) {
            char esc[4] = {'\\', 'x', hex_digits[c >> 4], hex_digits[c & 0xf]};
            buf_append(out, esc, sizeof(esc));
        } else {
            buf_append(out, &msg.ptr[i], 1);
        }
        n += k;
    }
}

bool logline_format(struct buf *out, const struct logline_ctx *ctx, struct str message)
{
    size_t mark = out->wpos;
    if (!logline_format_prefix(out, ctx) || buf_space(out) < 1) {
        out->wpos = mark;
        return false;
    }
    size_t limit = buf_space(out) - 1; /* keep room for the '\n' */
    if (limit > LOGLINE_MESSAGE_MAX)
        limit = LOGLINE_MESSAGE_MAX;
    put_message(out, message, limit);
    return buf_append(out, "\n", 1);
}

bool logline_strerror_suffix(struct buf *out, int errnum)
{
    char scratch[LOGLINE_STRERROR_MAX];
    /* GNU strerror_r (we build with _GNU_SOURCE): returns the text, which
     * may or may not be in scratch; it is thread-safe, unlike strerror. */
    const char *text = strerror_r(errnum, scratch, sizeof(scratch));
    return buf_printf(out, "/strerror(%d)=%s", errnum, text ? text : "");
}
