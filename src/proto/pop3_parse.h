/* pop3_parse - POP3 command lines, USER targets, status lines and
 * multi-line bodies.
 *
 * What it does: the bytes-to-structs half of the POP proxy (spec §7).
 * It finds a client's command lines (POP-3: 998-byte limit), splits them
 * into verb and argument (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS,
 * RFC 5034 AUTH, RFC 6856 UTF8), splits the argument of USER into user
 * name and server for self_proxy (POP-4, G-16), reads the server's
 * status lines ("+OK", "-ERR", and the "+ " of an AUTH exchange), says
 * which replies carry a multi-line body, and follows such a body to its
 * terminating line (the byte stuffing itself is proto/smtp_dot's: POP3
 * multi-line responses use exactly the SMTP DATA transparency).
 *
 * What it owns: nothing. Every struct str it returns is a view into the
 * caller's bytes; the formatter appends to the caller's struct buf, all or
 * nothing.
 *
 * What it does not do: no I/O, no allocation, no globals, no session
 * state, no decision about what a command means for the dialogue (the
 * POP session does that). The line parsers are stateless: the caller keeps
 * unparsed bytes in its buffer and calls again with more (the work per
 * call is bounded by the line limits below).
 */
#ifndef SEKISHO_PROTO_POP3_PARSE_H
#define SEKISHO_PROTO_POP3_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/smtp_dot.h"
#include "proto/user_target.h"

/* POP-3: a command line longer than this, line end excluded, is answered
 * "-ERR Too long line" (the RFC 5322 line limit; RFC 1939 itself allows
 * only 255 bytes of arguments, RFC 2449 4). */
#define POP3_LINE_MAX 998
/* A server status line, line end excluded. RFC 2449 4 says 512 octets
 * with the CRLF, but an AUTH continuation ("+ " base64 challenge) of a
 * GSSAPI exchange is longer; this bounds the proxy's reply buffer. */
#define POP3_STATUS_LINE_MAX 8192
/* POP-1: the largest body the proxy transfers (2,000,000,000 bytes), as
 * sent by the server: byte stuffing and the end line included. */
#define POP3_BODY_MAX 2000000000u

enum pop3_result {
    POP3_DONE = 0, /* a whole line is at the start of the buffer / the body ended */
    POP3_AGAIN,    /* need more bytes; everything so far is acceptable */
    POP3_INVALID,  /* a line that is found but refused (see each parser) */
    POP3_TOO_LONG, /* a line or body over its limit */
};
const char *pop3_result_name(enum pop3_result r);

enum pop3_verb {
    POP3_V_UNKNOWN = 0, /* anything else, XTND and LAST included: relayed (POP-8) */
    POP3_V_USER,
    POP3_V_PASS,
    POP3_V_APOP,
    POP3_V_AUTH,
    POP3_V_UIDL,
    POP3_V_TOP,
    POP3_V_STAT,
    POP3_V_LIST,
    POP3_V_RETR,
    POP3_V_DELE,
    POP3_V_NOOP,
    POP3_V_RSET,
    POP3_V_QUIT,
    POP3_V_CAPA,
    POP3_V_STLS,
    POP3_V_UTF8,
};
/* "USER" ... "UTF8", "UNKNOWN" for POP3_V_UNKNOWN, "?" out of range. */
const char *pop3_verb_name(enum pop3_verb v);

struct pop3_command {
    enum pop3_verb verb;
    struct str line;      /* the whole line, line end excluded */
    struct str verb_text; /* the first word as sent */
    struct str arg;       /* the rest, untrimmed (see pop3_command_find) */
};

/* pop3_command_find - the client command line at the start of buf[0..len).
 *
 * Line ends: CR LF, or a bare LF (telnet users and scripts send bare LFs,
 * and dovecot accepts them too); the CR before the LF is not part of the
 * line. *consumed (set on DONE and INVALID) = bytes of the line with its
 * line end: the caller drops them in both cases.
 * DONE: *out is the parsed line. Leading blanks (SP, HT) are skipped; the
 * verb is the first word up to a blank or the line end, matched
 * case-insensitively (RFC 1939 3); a verb glued to other text ("RETR1")
 * is POP3_V_UNKNOWN. arg is everything after the ONE blank that follows
 * the verb, not trimmed: RFC 1939 7 lets PASS take spaces as part of the
 * password, so the bytes of PASS reach the server as sent. Use
 * pop3_arg_trim for the other verbs' arguments.
 * INVALID: the line holds a NUL, a CR other than the one before the LF,
 * or another control byte except HT, or DEL. Such a line is never relayed
 * (a server that takes a bare CR or NUL as a line end would see another
 * command than the proxy did); the session answers -ERR and goes on.
 * *out is still set (its verb is UNKNOWN) so the session can log it.
 * TOO_LONG: more than POP3_LINE_MAX bytes precede the line end, known
 * before the LF arrives (so at most POP3_LINE_MAX + 2 bytes are looked
 * at); pop3_line_discard then drops the rest of the line.
 * AGAIN: no line end yet and the line may still fit.
 * A verdict other than AGAIN never changes when more bytes are appended. */
enum pop3_result pop3_command_find(const char *buf, size_t len, struct pop3_command *out,
                                   size_t *consumed);

/* pop3_line_discard - after TOO_LONG: the number of bytes of buf[0..len)
 * up to and including the first LF (then *ended = true), or all of them
 * (*ended = false: call again with the next bytes). */
size_t pop3_line_discard(const char *buf, size_t len, bool *ended);

/* pop3_arg_trim - arg without leading and trailing blanks. */
struct str pop3_arg_trim(struct str arg);

/* pop3_reply_is_multiline - whether a positive reply to c carries a body
 * that ends with a line holding a single period (RFC 1939 3).
 * RETR, TOP and CAPA always; LIST and UIDL without an argument (after
 * pop3_arg_trim, "LIST " is "LIST"); AUTH without an argument too: that
 * is the old SASL mechanism discovery (draft-myers-sasl-pop3, used by
 * Outlook), and dovecot, Courier and others answer it with "+OK" and one
 * mechanism per line (RFC 5034 AUTH with a mechanism never has a body).
 * Every other command, UNKNOWN included, never. A -ERR reply never has a
 * body. */
bool pop3_reply_is_multiline(const struct pop3_command *c);

/* ---- USER name@host for self_proxy (POP-4, G-16) ------------------------ */

/* The split itself is proto/user_target's, shared with the FTP proxy
 * (FTP-4); these are its POP names. */
#define POP3_HOST_MAX USER_TARGET_HOST_MAX

enum pop3_user_status {
    POP3_USER_PLAIN = 0, /* no '@' or '#': the whole argument is the name */
    POP3_USER_TARGET,    /* name@host[:port] or name#host[:port] */
    POP3_USER_SYNTAX,    /* a separator, but the parts are not usable */
};
const char *pop3_user_status_name(enum pop3_user_status s);

struct pop3_user_target {
    struct str name; /* the user name sent upstream ("USER <name>") */
    struct str host; /* host name or address; an IPv6 literal without its brackets */
    uint16_t port;   /* 1..65535 when given, 0 when not (G-16: the caller's default) */
    bool ipv6;       /* host came in brackets */
};

/* pop3_user_split - the argument of USER (after pop3_arg_trim):
 * user_target_split, whose rules are these.
 *
 * The split is at the LAST '@' or '#' (POP-4): "a@b.example@pop.example"
 * is the user "a@b.example" at pop.example. The server part is a host
 * name (letters, digits, '-', '.', '_'), an IPv4 address, or an IPv6
 * literal in brackets ("[::1]"), optionally followed by ":port" (G-16),
 * port 1..65535 in decimal.
 * PLAIN: no separator; out->name is the whole arg, the rest is empty.
 * SYNTAX: an empty name, an empty host, a host longer than POP3_HOST_MAX
 * or with other bytes (a blank, '/', a second ':' outside brackets: an
 * IPv6 address must be bracketed so that its last group is not taken for
 * a port), an unterminated '[', a bracketed part that is not hex digits,
 * ':' and '.', anything but ":port" after ']', an empty or bad port.
 * The views point into arg and are set on PLAIN and TARGET only. */
enum pop3_user_status pop3_user_split(struct str arg, struct pop3_user_target *out);

/* ---- server status lines ------------------------------------------------ */

enum pop3_status_kind {
    POP3_ST_OK = 0, /* "+OK" */
    POP3_ST_ERR,    /* "-ERR" */
    POP3_ST_CONT,   /* "+" alone or "+ ...": an AUTH continuation (RFC 5034 4) */
};
const char *pop3_status_kind_name(enum pop3_status_kind k);

struct pop3_status {
    enum pop3_status_kind kind;
    struct str line; /* the whole line, line end excluded */
    struct str text; /* after the indicator and the blank that follows it (may be empty) */
};

/* pop3_status_find - the server status line at the start of buf[0..len).
 *
 * Lines end as for pop3_command_find. The indicator is matched
 * case-insensitively ("+ok" is seen from old servers) and must be
 * followed by a blank or the line end ("+OKAY" is not a status).
 * DONE: *out describes the line, *consumed = its bytes with the line end.
 * INVALID: a line that starts with something else, or holds a NUL or
 * another control byte except HT (the status decides what the proxy does,
 * and it is relayed to the client). Reported as soon as the first bytes
 * show it, before the line end; the session ends then (the dialogue is
 * lost).
 * TOO_LONG: over POP3_STATUS_LINE_MAX before the line end.
 * AGAIN: nothing wrong yet, no line end yet.
 * A verdict other than AGAIN never changes when more bytes are appended. */
enum pop3_result pop3_status_find(const char *buf, size_t len, struct pop3_status *out,
                                  size_t *consumed);

/* The longest status line the proxy writes itself, CRLF included
 * (RFC 2449 4). */
#define POP3_STATUS_FORMAT_MAX 512

/* pop3_status_format - "+OK <text>\r\n" or "-ERR <text>\r\n" (text may be
 * empty: then just the indicator). Control bytes of text (a CR in a
 * connection error message, say) become spaces, so the result is exactly
 * one line; a text that would make the line longer than
 * POP3_STATUS_FORMAT_MAX is cut. All or nothing: false (out unchanged)
 * when it does not fit in out. */
bool pop3_status_format(struct buf *out, bool ok, const char *text);

/* ---- multi-line bodies -------------------------------------------------- */

/* The body of a multi-line reply, after its "+OK" status line: byte
 * stuffed lines ending with "<CR><LF>.<CR><LF>" (RFC 1939 3). Decoding is
 * proto/smtp_dot's decoder, so the same rules hold: only CRLF ends a line,
 * only CRLF "." CRLF ends the body (a server sending bare-LF lines is not
 * followed; dovecot converts bare LFs of stored mail to CRLF), a bare LF
 * or CR is data and noted in dec.bare_lf / dec.bare_cr. Re-stuffing the
 * (possibly modified) message for the client is smtp_dot_encode and
 * smtp_dot_end. */
struct pop3_body {
    struct smtp_dot_decoder dec;
    uint64_t wire_len; /* body bytes taken so far, stuffing and end line included */
    uint64_t data_len; /* unstuffed message bytes produced so far */
};

void pop3_body_init(struct pop3_body *b);

/* pop3_body_decode - unstuff in[0..len) into out[0..cap).
 *
 * *used = input bytes taken, *written = message bytes written. At most
 * cap - 1 input bytes are taken per call (the decoder may release a
 * held-back "\r" with the first byte), so any cap >= 2 makes progress;
 * the caller loops while *used < len. The end line is taken but not
 * written; nothing after it is taken (the next reply).
 * DONE: the end line has been taken. AGAIN: not yet. TOO_LONG: the body
 * has grown past POP3_BODY_MAX (nothing more is taken; the session ends).
 * INVALID: cap < 2. */
enum pop3_result pop3_body_decode(struct pop3_body *b, const char *in, size_t len, char *out,
                                  size_t cap, size_t *used, size_t *written);

/* pop3_body_skip - as pop3_body_decode without keeping the message: for a
 * body relayed unchanged (LIST, UIDL, CAPA, TOP), *used says where it
 * ends in in[0..len). */
enum pop3_result pop3_body_skip(struct pop3_body *b, const char *in, size_t len, size_t *used);

#endif
