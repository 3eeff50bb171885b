/* fuzz_accesslog - arbitrary records through accesslog_format and logline_format.
 *
 * Input layout: a FUZZ_HEADER-byte header of numbers (zero-padded when the
 * input is shorter), then the string fields in struct order separated by
 * NUL bytes (missing ones are empty). Checked, with abort() so the fuzzer
 * flags a violation:
 * - an access line always fits ACCESSLOG_LINE_MAX, has exactly one '\n'
 *   (the last byte), no other control byte, exactly 15 space-separated
 *   fields and the fixed ':' count in each STAT/ERROR field;
 * - formatting into a smaller buffer gives the same line or nothing;
 * - an info/error line has exactly one '\n' and 6 fields in its bracket.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/accesslog_format.h"
#include "proto/logline_format.h"

#define FUZZ_HEADER  48
#define FUZZ_STRINGS 18
#define LINE_FIELDS  15

static uint64_t get_le(const uint8_t *h, size_t off, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)h[off + i] << (8 * i);
    return v;
}

static size_t count_char(const char *p, size_t n, char c)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == c;
    return k;
}

static void check_one_line(const char *p, size_t n)
{
    if (n == 0 || p[n - 1] != '\n')
        abort();
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            abort();
    }
}

static void check_access_line(const char *p, size_t n)
{
    static const struct {
        const char *prefix;
        size_t colons;
    } stat[] = {
        {"DETECT-STAT:", 6},   {"ACTION:", 2},      {"PROXY-STAT:", 9},
        {"PROTOCOL-STAT:", 3}, {"PROXY-ERROR:", 2},
    };
    check_one_line(p, n);
    size_t fields = 0, i = 0;
    while (i + 1 < n) {
        if (p[i] == ' ') {
            i++;
            continue;
        }
        size_t j = i;
        while (j + 1 < n && p[j] != ' ')
            j++;
        if (fields >= LINE_FIELDS - 5 && fields < LINE_FIELDS) {
            size_t k = fields - (LINE_FIELDS - 5);
            size_t plen = strlen(stat[k].prefix);
            if (j - i < plen || memcmp(p + i, stat[k].prefix, plen) != 0 ||
                count_char(p + i, j - i, ':') != stat[k].colons)
                abort();
        }
        fields++;
        i = j;
    }
    if (fields != LINE_FIELDS)
        abort();
}

static void check_log_line(const char *p, size_t n)
{
    check_one_line(p, n);
    const char *open = memchr(p, '[', n);
    if (!open)
        abort();
    const char *close = memchr(open, ']', n - (size_t)(open - p));
    if (!close || count_char(open, (size_t)(close - open), ' ') != 5 ||
        count_char(open, (size_t)(close - open), '[') != 1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t h[FUZZ_HEADER] = {0};
    memcpy(h, data, size < FUZZ_HEADER ? size : FUZZ_HEADER);

    struct str s[FUZZ_STRINGS];
    const char *p = size > FUZZ_HEADER ? (const char *)data + FUZZ_HEADER : NULL;
    size_t left = size > FUZZ_HEADER ? size - FUZZ_HEADER : 0;
    for (size_t i = 0; i < FUZZ_STRINGS; i++) {
        const char *nul = left ? memchr(p, '\0', left) : NULL;
        size_t len = nul ? (size_t)(nul - p) : left;
        s[i] = str_make(left ? p : "", len);
        if (left) {
            p += len + (nul != NULL);
            left -= len + (nul != NULL);
        }
    }

    struct access_record r = {
        .time_sec = (int64_t)get_le(h, 0, 8),
        .time_msec = (unsigned)get_le(h, 8, 2),
        .elapsed_ms = (long)(int32_t)get_le(h, 10, 4),
        .status = (unsigned)get_le(h, 14, 2),
        .size = get_le(h, 16, 8),
        .result = (enum accesslog_result)h[24],
        .action = (enum accesslog_action)h[25],
        .internal_id = (unsigned)get_le(h, 26, 2),
        .pid = (long)(int32_t)get_le(h, 28, 4),
        .files = (unsigned)get_le(h, 32, 2),
        .checks = (unsigned)get_le(h, 34, 2),
        .scan_ms = get_le(h, 36, 4),
        .details = h[40],
        .proto_flags = h[41],
        .client = s[0],
        .method = s[1],
        .url = s[2],
        .user = s[3],
        .server_ip = s[4],
        .content_type = s[5],
        .detect_name = s[6],
        .detect_file = s[7],
        .quarantine_file = s[8],
        .service = s[9],
        .host_ip = s[10],
        .proto1 = s[11],
        .proto2 = s[12],
        .proxy_error = s[13],
    };

    static char full[ACCESSLOG_LINE_MAX], small[ACCESSLOG_LINE_MAX];
    struct buf b;
    buf_init(&b, full, sizeof(full));
    if (!accesslog_format_line(&b, &r))
        abort();
    size_t n = buf_len(&b);
    check_access_line(full, n);

    /* a smaller buffer: the same line or nothing at all */
    size_t cap = (size_t)get_le(h, 42, 2) % (n + 2);
    buf_init(&b, small, cap);
    bool ok = accesslog_format_line(&b, &r);
    if (ok != (cap >= n) || buf_len(&b) != (ok ? n : 0) || (ok && memcmp(small, full, n) != 0))
        abort();

    struct logline_ctx ctx = {
        .time = {.tv_sec = (time_t)(int32_t)get_le(h, 0, 4),
                 .tv_nsec = (long)(get_le(h, 4, 4) % 1000000000u)},
        .listen_port = (long)(int16_t)get_le(h, 44, 2),
        .internal_id = (long)(int16_t)get_le(h, 46, 2),
        .client_ip = s[14],
        .client_host = s[15],
        .client_port = (unsigned)get_le(h, 14, 2),
        .server_ip = s[16],
        .server_host = s[17],
        .server_port = (unsigned)get_le(h, 32, 2),
    };
    static char log[LOGLINE_LINE_MAX];
    buf_init(&b, log, sizeof(log));
    /* the message is everything after the header, NULs included */
    struct str msg = size > FUZZ_HEADER
                         ? str_make((const char *)data + FUZZ_HEADER, size - FUZZ_HEADER)
                         : STR_NULL;
    if (!logline_format(&b, &ctx, msg))
        abort();
    check_log_line(log, buf_len(&b));
    return 0;
}
