/* accesslog_format - one access.log / detect.log line (spec LOG-2, Squid native).
 *
 * Turns a struct access_record into exactly one line
 *
 *   <time> <elapsed> <client> TCP_MISS/<status> <size> <method> <url> <user>
 *   DIRECT/<server-ip> <content-type> DETECT-STAT:<result>:<name>:<file>:<quarantine>::
 *   ACTION:<action>: PROXY-STAT:<service>:<internal-id>:<pid>:<host-ip>:<files>:<checks>:
 *   <scan-ms>:<details>: PROTOCOL-STAT:<p1>:<p2>: PROXY-ERROR:<error>:
 *
 * (one line, single spaces; <elapsed> is right-aligned in 6 columns as in
 * "1327996843.799   9153"). detect.log uses the same format (LOG-1).
 *
 * Field encoding, so that no value can forge a field or a line:
 * - the space-separated fields (client, method, url, user, server ip,
 *   content type) get %xx (lower-case hex) for every byte <= 0x20 and
 *   >= 0x7f; every other byte, '%' included, is kept, because URLs arrive
 *   already percent-encoded. An empty value is written "-".
 * - every value inside the ':'-separated STAT/ERROR fields is URL-encoded
 *   per G-20: [A-Za-z0-9] and -_.!~*'()/@<>$[] are kept, space becomes '+',
 *   every other byte becomes %xx in lower case (':' -> %3a, '=' -> %3d,
 *   ',' -> %2c, '+' -> %2b, '%' -> %25).
 * - the PROXY-STAT details and the HTTP PROTOCOL-STAT flags are lists of
 *   our own tokens joined by ',' and are written as they are.
 *
 * Truncation: each value has a cap on its *encoded* length (the
 * ACCESSLOG_*_MAX constants). A value that would exceed its cap is cut at
 * the last whole encoded character that fits (an escape is never split)
 * and nothing marks the cut, as Squid does with long URLs. The caps add
 * up to less than ACCESSLOG_LINE_MAX, so a buffer with that much free
 * space always receives the whole line, whatever the record holds.
 * The URL cap keeps a maximal accepted request URL (2098 bytes, HTTP-4)
 * whole unless it carries many bytes that need escaping.
 *
 * Owns nothing: the record's views belong to the caller. Does no I/O,
 * keeps no state, never allocates; writing the line to a file or pipe is
 * the log module's job.
 */
#ifndef SEKISHO_PROTO_ACCESSLOG_FORMAT_H
#define SEKISHO_PROTO_ACCESSLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

/* A buffer with this much free space always holds one whole line. It is
 * above PIPE_BUF, so a writer to a `|command` log must not rely on pipe
 * write atomicity for the longest lines. */
#define ACCESSLOG_LINE_MAX 8192

/* Caps on the encoded length of each value (bytes written for it). */
#define ACCESSLOG_CLIENT_MAX       256 /* host name (253) or address */
#define ACCESSLOG_METHOD_MAX       100 /* accepted methods are <= 98 bytes (HTTP-4) */
#define ACCESSLOG_URL_MAX          4096
#define ACCESSLOG_USER_MAX         128
#define ACCESSLOG_SERVER_IP_MAX    64
#define ACCESSLOG_CONTENT_TYPE_MAX 128
#define ACCESSLOG_DETECT_NAME_MAX  512
#define ACCESSLOG_DETECT_FILE_MAX  512
#define ACCESSLOG_QUARANTINE_MAX   256
#define ACCESSLOG_SERVICE_MAX      16
#define ACCESSLOG_HOST_IP_MAX      64
#define ACCESSLOG_PROTO_MAX        384 /* each of p1 and p2 */
#define ACCESSLOG_ERROR_MAX        512

/* The status field is always 3 digits; out-of-range values print as 000. */
#define ACCESSLOG_STATUS_MAX 999

/* DETECT-STAT result. */
enum accesslog_result {
    ACCESSLOG_RESULT_CLEAN = 0,
    ACCESSLOG_RESULT_INFECTED,
    ACCESSLOG_RESULT_SPAM,
};
#define ACCESSLOG_RESULT_COUNT (ACCESSLOG_RESULT_SPAM + 1)

/* ACTION taken. */
enum accesslog_action {
    ACCESSLOG_ACTION_NONE = 0,
    ACCESSLOG_ACTION_PASS,
    ACCESSLOG_ACTION_DELETE,
    ACCESSLOG_ACTION_DENY,
    ACCESSLOG_ACTION_SENDBACK,
    ACCESSLOG_ACTION_BLACKHOLE,
    ACCESSLOG_ACTION_CHANGE_SUBJECT,
};
#define ACCESSLOG_ACTION_COUNT (ACCESSLOG_ACTION_CHANGE_SUBJECT + 1)

/* PROXY-STAT detection details; written comma-separated in this order. */
enum accesslog_detail {
    ACCESSLOG_DETAIL_VSD_ENCRYPTED = 1u << 0,
    ACCESSLOG_DETAIL_VSD_MAXNESTED = 1u << 1,
    ACCESSLOG_DETAIL_VSD_SCANTIMEOUT = 1u << 2,
    ACCESSLOG_DETAIL_OVER_FILESIZE = 1u << 3,
    ACCESSLOG_DETAIL_PASS_TO = 1u << 4,
    ACCESSLOG_DETAIL_PASS_USER_AGENT = 1u << 5,
    ACCESSLOG_DETAIL_PASS_EXT = 1u << 6,
    /* The body's Content-Encoding could not be undone for the scan
     * (unknown coding, corrupt stream, too many layers, over the limit). */
    ACCESSLOG_DETAIL_VSD_UNDECODED = 1u << 7,
    /* Over sekisho-scand's size limits: only a leading part was scanned. */
    ACCESSLOG_DETAIL_OVER_SCANLIMIT = 1u << 8,
};
#define ACCESSLOG_DETAIL_ALL 0x1ffu

/* HTTP PROTOCOL-STAT first field flags; written comma-separated in this order. */
enum accesslog_proto_flag {
    ACCESSLOG_PROTO_KEEPALIVE = 1u << 0,
    ACCESSLOG_PROTO_PROGRESS = 1u << 1,
    ACCESSLOG_PROTO_TRICKLE = 1u << 2,
};
#define ACCESSLOG_PROTO_ALL 0x7u

/* One access. Empty views are allowed everywhere. */
struct access_record {
    int64_t time_sec;   /* access start, seconds since the epoch */
    unsigned time_msec; /* 0..999 (larger values print as 999) */
    long elapsed_ms;    /* connection duration; negative prints as 0 */
    struct str client;  /* host name or IP address */
    unsigned status;    /* HTTP status; 200/500/0 for other services (C-41) */
    uint64_t size;      /* bytes transferred */
    struct str method;  /* HTTP method; FTP PUT/GET; otherwise GET */
    struct str url;
    struct str user;         /* empty -> "-" */
    struct str server_ip;    /* server actually connected; empty -> "-" */
    struct str content_type; /* empty -> "-" */
    enum accesslog_result result;
    struct str detect_name;
    struct str detect_file;
    struct str quarantine_file; /* only when quarantined */
    enum accesslog_action action;
    struct str service; /* http|smtp|pop|ftp */
    unsigned internal_id;
    long pid;
    struct str host_ip; /* the gateway's own address */
    unsigned files;     /* requests in this session, from 1 */
    unsigned checks;    /* virus checks since the previous line of the session */
    uint64_t scan_ms;   /* scan time since the previous line of the session */
    unsigned details;   /* enum accesslog_detail bits */
    /* PROTOCOL-STAT: when proto_flags != 0 the first field is the flag
     * list (HTTP) and proto1 is ignored; otherwise proto1 is encoded
     * (SMTP MAIL FROM address). proto2: X-Forwarded-For or Message-ID. */
    unsigned proto_flags; /* enum accesslog_proto_flag bits */
    struct str proto1;
    struct str proto2;
    struct str proxy_error; /* CONN-* text, HTTP error text, SMTP reply error */
};

/* accesslog_format_line - append one whole line, '\n' included, to out.
 *
 * Every value is encoded and capped as described above, so the line
 * always has the same 15 space-separated fields and ends with its only
 * '\n'. All or nothing: returns false and leaves out unchanged when the
 * line does not fit in buf_space(out) (never the case with
 * ACCESSLOG_LINE_MAX free bytes). */
bool accesslog_format_line(struct buf *out, const struct access_record *r);

/* accesslog_encode_value - append s URL-encoded per G-20 (for a value
 * inside a STAT/ERROR field), at most cap encoded bytes, cut at a whole
 * encoded character. *consumed (may be NULL) gets the number of input
 * bytes written, s.len unless cut. All or nothing: returns false and
 * appends nothing when the encoded text does not fit in out. */
bool accesslog_encode_value(struct buf *out, struct str s, size_t cap, size_t *consumed);

/* accesslog_encode_token - the same for a space-separated field: bytes
 * <= 0x20 and >= 0x7f become %xx, an empty value becomes "-". */
bool accesslog_encode_token(struct buf *out, struct str s, size_t cap, size_t *consumed);

/* Names as written in the log; "UNKNOWN" for an out-of-range value. */
const char *accesslog_result_name(enum accesslog_result result);
const char *accesslog_action_name(enum accesslog_action action);
/* Name of one detail or proto flag bit; NULL when bit is not exactly one known flag. */
const char *accesslog_detail_name(unsigned bit);
const char *accesslog_proto_flag_name(unsigned bit);

#endif
