/* accesslog_format - one access.log / detect.log line (spec LOG-2).
 *
 * See accesslog_format.h for the line layout, the two encodings and the
 * truncation rule. Each value is encoded in two passes (measure, then
 * write) so that a field is appended whole or not at all and the caps are
 * applied identically whatever the buffer's free space; the line as a
 * whole is rolled back to its starting offset when any piece does not fit.
 * No I/O, no allocation, no state.
 */
#include "proto/accesslog_format.h"

#include <inttypes.h>
#include <string.h>

enum enc_class {
    ENC_VALUE = 0, /* inside a ':'-separated STAT/ERROR field (G-20) */
    ENC_TOKEN,     /* a whole space-separated field */
};

static const char hex_digits[] = "0123456789abcdef";

/* G-20: bytes a STAT/ERROR value keeps as they are. */
static bool value_keeps(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("-_.!~*'()/@<>$[]", c) != NULL;
}

/* Space-separated fields only have to keep separators and line ends out;
 * 8-bit bytes are escaped too so that a log viewer never sees raw binary. */
static bool token_keeps(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/* encoded_char - the encoding of one byte into one[3]; returns its length. */
static size_t encoded_char(unsigned char c, enum enc_class cls, char one[3])
{
    bool keep = cls == ENC_VALUE ? value_keeps(c) : token_keeps(c);
    if (keep) {
        one[0] = (char)c;
        return 1;
    }
    if (cls == ENC_VALUE && c == ' ') {
        one[0] = '+';
        return 1;
    }
    one[0] = '%';
    one[1] = hex_digits[c >> 4];
    one[2] = hex_digits[c & 0xf];
    return 3;
}

/* encode - write the encoding of s (cut at a whole character so that at
 * most cap bytes are produced) to dst, or only measure it when dst is
 * NULL. Returns the encoded length; *used gets the input bytes taken. */
static size_t encode(char *dst, struct str s, size_t cap, enum enc_class cls, size_t *used)
{
    size_t n = 0, i;
    for (i = 0; i < s.len; i++) {
        char one[3];
        size_t k = encoded_char((unsigned char)s.ptr[i], cls, one);
        if (k > cap - n)
            break;
        if (dst)
            memcpy(dst + n, one, k);
        n += k;
    }
    *used = i;
    return n;
}

static bool put_encoded(struct buf *out, struct str s, size_t cap, enum enc_class cls,
                        size_t *consumed)
{
    size_t used;
    if (cls == ENC_TOKEN && s.len == 0) {
        /* An empty space-separated field would merge two separators. */
        if (consumed)
            *consumed = 0;
        return cap >= 1 && buf_append(out, "-", 1);
    }
    size_t n = encode(NULL, s, cap, cls, &used);
    if (n > buf_space(out))
        return false;
    encode(buf_wptr(out), s, cap, cls, &used);
    buf_produce(out, n);
    if (consumed)
        *consumed = used;
    return true;
}

bool accesslog_encode_value(struct buf *out, struct str s, size_t cap, size_t *consumed)
{
    return put_encoded(out, s, cap, ENC_VALUE, consumed);
}

bool accesslog_encode_token(struct buf *out, struct str s, size_t cap, size_t *consumed)
{
    return put_encoded(out, s, cap, ENC_TOKEN, consumed);
}

static const char *const result_names[ACCESSLOG_RESULT_COUNT] = {
    [ACCESSLOG_RESULT_CLEAN] = "CLEAN",
    [ACCESSLOG_RESULT_INFECTED] = "INFECTED",
    [ACCESSLOG_RESULT_SPAM] = "SPAM",
};

static const char *const action_names[ACCESSLOG_ACTION_COUNT] = {
    [ACCESSLOG_ACTION_NONE] = "NONE",
    [ACCESSLOG_ACTION_PASS] = "PASS",
    [ACCESSLOG_ACTION_DELETE] = "DELETE",
    [ACCESSLOG_ACTION_DENY] = "DENY",
    [ACCESSLOG_ACTION_SENDBACK] = "SENDBACK",
    [ACCESSLOG_ACTION_BLACKHOLE] = "BLACKHOLE",
    [ACCESSLOG_ACTION_CHANGE_SUBJECT] = "CHANGE_SUBJECT",
};

/* Indexed by bit number; the array order is the order in the log (LOG-2). */
static const char *const detail_names[] = {
    "VSD_ENCRYPTED",   "VSD_MAXNESTED", "VSD_SCANTIMEOUT", "OVER_FILESIZE",  "PASS_TO",
    "PASS_USER_AGENT", "PASS_EXT",      "VSD_UNDECODED",   "OVER_SCANLIMIT",
};

static const char *const proto_flag_names[] = {"KEEPALIVE", "PROGRESS", "TRICKLE"};

#define NAMES_COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *accesslog_result_name(enum accesslog_result result)
{
    unsigned i = (unsigned)result;
    return i < ACCESSLOG_RESULT_COUNT ? result_names[i] : "UNKNOWN";
}

const char *accesslog_action_name(enum accesslog_action action)
{
    unsigned i = (unsigned)action;
    return i < ACCESSLOG_ACTION_COUNT ? action_names[i] : "UNKNOWN";
}

/* bit_name - name of a single-bit value in a bit-numbered table. */
static const char *bit_name(unsigned bit, const char *const *names, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (bit == 1u << i)
            return names[i];
    }
    return NULL;
}

const char *accesslog_detail_name(unsigned bit)
{
    return bit_name(bit, detail_names, NAMES_COUNT(detail_names));
}

const char *accesslog_proto_flag_name(unsigned bit)
{
    return bit_name(bit, proto_flag_names, NAMES_COUNT(proto_flag_names));
}

/* put_flags - the names of the set bits joined by ','; unknown bits are
 * ignored so that a newer caller cannot make an older formatter emit
 * something unparsable. */
static bool put_flags(struct buf *out, unsigned bits, const char *const *names, size_t count)
{
    bool first = true;
    for (size_t i = 0; i < count; i++) {
        if (!(bits & (1u << i)))
            continue;
        if (!first && !buf_append(out, ",", 1))
            return false;
        if (!buf_append_cstr(out, names[i]))
            return false;
        first = false;
    }
    return true;
}

static bool put_token(struct buf *out, struct str s, size_t cap)
{
    return put_encoded(out, s, cap, ENC_TOKEN, NULL);
}

static bool put_value(struct buf *out, struct str s, size_t cap)
{
    return put_encoded(out, s, cap, ENC_VALUE, NULL);
}

/* The fields up to and including the content type. */
static bool put_squid_part(struct buf *out, const struct access_record *r)
{
    unsigned msec = r->time_msec > 999 ? 999 : r->time_msec;
    long elapsed = r->elapsed_ms < 0 ? 0 : r->elapsed_ms;
    /* C-41: the status is always three digits; a value that is not one is
     * a caller bug, logged as the "otherwise" status 000. */
    unsigned status = r->status > ACCESSLOG_STATUS_MAX ? 0 : r->status;

    return buf_printf(out, "%" PRId64 ".%03u %6ld ", r->time_sec, msec, elapsed) &&
           put_token(out, r->client, ACCESSLOG_CLIENT_MAX) &&
           buf_printf(out, " TCP_MISS/%03u %" PRIu64 " ", status, r->size) &&
           put_token(out, r->method, ACCESSLOG_METHOD_MAX) && buf_append_cstr(out, " ") &&
           put_token(out, r->url, ACCESSLOG_URL_MAX) && buf_append_cstr(out, " ") &&
           put_token(out, r->user, ACCESSLOG_USER_MAX) && buf_append_cstr(out, " DIRECT/") &&
           put_token(out, r->server_ip, ACCESSLOG_SERVER_IP_MAX) && buf_append_cstr(out, " ") &&
           put_token(out, r->content_type, ACCESSLOG_CONTENT_TYPE_MAX);
}

/* The five STAT/ERROR fields, C-40: DETECT-STAT has one empty reserved
 * field after the four documented ones. */
static bool put_stat_part(struct buf *out, const struct access_record *r)
{
    return buf_append_cstr(out, " DETECT-STAT:") &&
           buf_append_cstr(out, accesslog_result_name(r->result)) && buf_append_cstr(out, ":") &&
           put_value(out, r->detect_name, ACCESSLOG_DETECT_NAME_MAX) && buf_append_cstr(out, ":") &&
           put_value(out, r->detect_file, ACCESSLOG_DETECT_FILE_MAX) && buf_append_cstr(out, ":") &&
           put_value(out, r->quarantine_file, ACCESSLOG_QUARANTINE_MAX) &&
           buf_append_cstr(out, ":: ACTION:") &&
           buf_append_cstr(out, accesslog_action_name(r->action)) &&
           buf_append_cstr(out, ": PROXY-STAT:") &&
           put_value(out, r->service, ACCESSLOG_SERVICE_MAX) &&
           buf_printf(out, ":%u:%ld:", r->internal_id, r->pid) &&
           put_value(out, r->host_ip, ACCESSLOG_HOST_IP_MAX) &&
           buf_printf(out, ":%u:%u:%" PRIu64 ":", r->files, r->checks, r->scan_ms) &&
           put_flags(out, r->details, detail_names, NAMES_COUNT(detail_names)) &&
           buf_append_cstr(out, ": PROTOCOL-STAT:") &&
           (r->proto_flags & ACCESSLOG_PROTO_ALL
                ? put_flags(out, r->proto_flags, proto_flag_names, NAMES_COUNT(proto_flag_names))
                : put_value(out, r->proto1, ACCESSLOG_PROTO_MAX)) &&
           buf_append_cstr(out, ":") && put_value(out, r->proto2, ACCESSLOG_PROTO_MAX) &&
           buf_append_cstr(out, ": PROXY-ERROR:") &&
           put_value(out, r->proxy_error, ACCESSLOG_ERROR_MAX) && buf_append_cstr(out, ":\n");
}

bool accesslog_format_line(struct buf *out, const struct access_record *r)
{
    size_t mark = out->wpos;
    if (put_squid_part(out, r) && put_stat_part(out, r))
        return true;
    out->wpos = mark; /* all or nothing */
    return false;
}
