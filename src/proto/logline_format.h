/* logline_format - the info.log / error.log line prefix (LOG-3, LOG-4, C-47).
 *
 * A line is
 *
 *   <time> [<YYYY/MM/DD> <HH:MM:SS> <listen port> <internal id>
 *   <client ip>:<client host>:<client port> <server ip>:<server host>:<server port>] <message>
 *
 * on one line: <time> is seconds since the epoch with 3 decimals (as in
 * the access log), the date and time are local time (the process TZ), and
 * the bracket always holds exactly 6 space-separated fields. A part that
 * is unknown (no session yet, no server contacted) is written "-": an
 * empty ip or host, a port of 0 (a TCP peer never has port 0), a
 * negative listen port or internal id. So a master-process line reads
 * "[2012/01/31 08:00:43 9080 - -:-:- -:-:-]".
 *
 * Hostile bytes: ips and hosts get %xx (lower case) for every byte <= 0x20,
 * >= 0x7f and for '[' ']' ('%' too, so the escape is reversible); host
 * names also escape ':' so the client and server fields split
 * unambiguously: ip = everything before the last two ':', even for an
 * IPv6 address. The message gets every control byte (< 0x20 and 0x7f)
 * written as \xNN, so a peer's reply quoted in a message cannot start a
 * new line.
 *
 * logline_strerror_suffix() produces the "/strerror(<errno>)=<text>"
 * ending of messages about failed system calls (C-24).
 *
 * Owns nothing, does no I/O and keeps no state; the only outside input is
 * the process time zone through localtime_r.
 */
#ifndef SEKISHO_PROTO_LOGLINE_FORMAT_H
#define SEKISHO_PROTO_LOGLINE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/str.h"

/* A buffer with this much free space holds any prefix and a message of
 * up to LOGLINE_MESSAGE_MAX escaped bytes. */
#define LOGLINE_LINE_MAX    4096
#define LOGLINE_MESSAGE_MAX 3072
/* Caps on the escaped length of each prefix part. */
#define LOGLINE_IP_MAX   64
#define LOGLINE_HOST_MAX 256

/* Value of listen_port / internal_id for "unknown". */
#define LOGLINE_UNKNOWN (-1)

struct logline_ctx {
    struct timespec time; /* when the event happened */
    long listen_port;     /* < 0: unknown */
    long internal_id;     /* worker number from 0; < 0: unknown (master) */
    struct str client_ip; /* empty: unknown */
    struct str client_host;
    unsigned client_port; /* 0: unknown */
    struct str server_ip;
    struct str server_host;
    unsigned server_port;
};

/* logline_format_prefix - append "<time> [<...>] " (with the trailing
 * space). All or nothing: false and out unchanged when it does not fit. */
bool logline_format_prefix(struct buf *out, const struct logline_ctx *ctx);

/* logline_format - append prefix, message and '\n'. The escaped message
 * is cut (at a whole escape) to LOGLINE_MESSAGE_MAX bytes and to what fits
 * in out after the prefix, so a long message is shortened rather than
 * lost. Returns false (out unchanged) only when the prefix and the '\n'
 * alone do not fit. */
bool logline_format(struct buf *out, const struct logline_ctx *ctx, struct str message);

/* logline_strerror_suffix - append "/strerror(<errnum>)=<text>" (C-24),
 * text from strerror_r (glibc's "Unknown error N" for unknown numbers).
 * All or nothing. */
bool logline_strerror_suffix(struct buf *out, int errnum);

#endif
