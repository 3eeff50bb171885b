/* smtp_parse - SMTP command lines, paths, replies and the EHLO edit.
 *
 * What it does: the bytes-to-structs half of the SMTP proxy (spec §6).
 * It finds command lines in the client's byte stream (C-04 line limit),
 * splits a line into verb and argument (SMTP-1, SMTP-11), extracts the
 * path of MAIL FROM: / RCPT TO: (SMTP-6, SMTP-7, RFC 5321 4.1.2), parses
 * the server's possibly multi-line replies (RFC 5321 4.2), edits the EHLO
 * reply sent on to the client (SMTP-5) and formats the proxy's own
 * one-line replies (SMTP-2).
 *
 * What it owns: nothing. Every struct str it returns is a view into the
 * caller's bytes; the formatters append to the caller's struct buf, all
 * or nothing.
 *
 * What it does not do: no I/O, no allocation, no globals, no session
 * state, no decision about what a command or reply means for the
 * dialogue (proxy/smtp does that), no relay control (proto/smtp_addr).
 * The parsers are stateless: the caller keeps unparsed bytes in its
 * buffer and calls again with more (the work is bounded by the limits
 * below, so re-scanning is cheap).
 */
#ifndef SEKISHO_PROTO_SMTP_PARSE_H
#define SEKISHO_PROTO_SMTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

/* C-04: a command line longer than this, CRLF excluded, is refused
 * ("500 Too long line", SMTP-4). */
#define SMTP_LINE_MAX 9998
/* A server reply line, CRLF excluded (RFC 5321 4.5.3.1.5 says 512; real
 * servers and the proxy's own echo of a 9998-byte command go further). */
#define SMTP_REPLY_LINE_MAX 9998
/* Lines of one reply (an EHLO reply has one per extension, ~15-25). */
#define SMTP_REPLY_LINES_MAX 64

enum smtp_result {
    SMTP_DONE = 0, /* a whole line / reply is at the start of the buffer */
    SMTP_AGAIN,    /* need more bytes; everything so far is acceptable */
    SMTP_INVALID,  /* not a valid reply */
    SMTP_TOO_LONG, /* a line over its limit, or too many lines */
};
const char *smtp_result_name(enum smtp_result r);

/* smtp_line_find - the first line of buf[0..len).
 *
 * DONE: *line_len = bytes of the line without its line end, *consumed =
 * bytes including it. A line ends with CR LF, or with a bare LF: real
 * clients (scripts, old MUAs) send bare LFs, and postfix accepts them
 * too; the CR before the LF is not part of the line, any other CR is.
 * AGAIN while no line end has been seen and the line may still fit.
 * TOO_LONG as soon as more than SMTP_LINE_MAX bytes precede the line end,
 * without waiting for the LF (so at most SMTP_LINE_MAX + 2 bytes are ever
 * examined). NUL and other control bytes are line bytes: DONE, and the
 * command parser decides. *line_len and *consumed are set only on DONE. */
enum smtp_result smtp_line_find(const char *buf, size_t len, size_t *line_len, size_t *consumed);

enum smtp_verb {
    SMTP_V_UNKNOWN = 0,
    SMTP_V_HELO,
    SMTP_V_EHLO,
    SMTP_V_MAIL,
    SMTP_V_RCPT,
    SMTP_V_DATA,
    SMTP_V_RSET,
    SMTP_V_VRFY,
    SMTP_V_EXPN,
    SMTP_V_HELP,
    SMTP_V_NOOP,
    SMTP_V_QUIT,
    SMTP_V_XFORWARD,
    SMTP_V_AUTH,
    SMTP_V_STARTTLS,
    SMTP_V_BDAT,
};
/* "HELO" ... "BDAT", "UNKNOWN" for SMTP_V_UNKNOWN, "?" out of range. */
const char *smtp_verb_name(enum smtp_verb v);

struct smtp_command {
    enum smtp_verb verb;
    struct str verb_text; /* the first word as sent (for "500 Unknown Command") */
    struct str arg;       /* after the verb and its separating blanks, right-trimmed */
};

/* smtp_command_parse - split one line (as found by smtp_line_find, line
 * end excluded) into verb and argument.
 *
 * Leading blanks (SP, HT) are skipped; the verb is the first word, up to
 * a blank or the end of the line, matched case-insensitively: a verb
 * glued to other text ("MAILFROM:", "DATAX") is SMTP_V_UNKNOWN. arg is
 * the rest after the blanks that follow the verb, with trailing blanks
 * removed (empty, pointing at the line's end, when there is none).
 * A line holding a NUL, CR or any other control byte except HT, or DEL,
 * is SMTP_V_UNKNOWN whatever its verb: such a command is never relayed
 * (an upstream that takes a bare CR as a line end would see two
 * commands); verb_text and arg are still set. */
void smtp_command_parse(struct str line, struct smtp_command *out);

enum smtp_path_status {
    SMTP_PATH_OK = 0,
    SMTP_PATH_NO_PREFIX, /* arg does not start with the prefix */
    SMTP_PATH_SYNTAX,    /* prefix present, path malformed */
};
const char *smtp_path_status_name(enum smtp_path_status s);

/* smtp_path_parse - the path and parameters of MAIL / RCPT.
 *
 * prefix is "FROM:" or "TO:", compared case-insensitively with the start
 * of arg; blanks may follow the colon ("MAIL FROM: <a@b>", as some
 * clients send). NO_PREFIX when arg does not start with prefix (the
 * session sends 501 for MAIL, 500 for RCPT, SMTP-6/7).
 *
 * OK: *address = the path without its angle brackets (empty for "<>"),
 * *params = the ESMTP parameters after the blanks that follow the path
 * (empty when none). A '>' inside a quoted local part ("<\"a>b\"@c>")
 * does not end the path. A bare address without brackets is accepted
 * (old clients): it ends at the first blank outside quotes.
 * SYNTAX: nothing after the prefix, an unterminated '<' or quote, a '<'
 * inside the path outside quotes, a '<' or '>' anywhere in a bare
 * address, text glued to the closing '>' ("<a@b>x"), any control byte
 * (< 0x20 except HT between the parts, and DEL) anywhere in arg, and an
 * HT inside the path (quotes included).
 * The views point into arg; they are set only on OK. */
enum smtp_path_status smtp_path_parse(struct str arg, const char *prefix, struct str *address,
                                      struct str *params);

/* One server reply. lines[i] is the text of line i after "DDD-",
 * "DDD " or "DDD" (empty then), line end excluded; views into the
 * parsed buffer. len is the number of bytes of the whole reply,
 * the last line end included. */
struct smtp_reply {
    unsigned code; /* 200..599 */
    size_t nlines; /* 1..SMTP_REPLY_LINES_MAX */
    struct str lines[SMTP_REPLY_LINES_MAX];
    size_t len;
};

/* smtp_reply_parse - the reply at the start of buf[0..len).
 *
 * DONE: *out describes it (more bytes may follow: the next reply).
 * A line is three digits, the first 2-5 (RFC 5321 4.2: the only reply
 * classes), then '-' (more lines follow), ' ' or the line end (the last
 * line); every line of a multi-line reply must carry the first line's
 * code. Lines end with CR LF or a bare LF, as for smtp_line_find.
 * AGAIN: incomplete, and nothing seen so far is wrong.
 * INVALID: a line that is not a reply line, or a continuation with a
 * different code; reported as soon as the offending bytes are there,
 * even before their line end.
 * TOO_LONG: a line over SMTP_REPLY_LINE_MAX (known before its LF), or a
 * reply that would need more than SMTP_REPLY_LINES_MAX lines. A line that
 * is both malformed and too long is INVALID.
 * A verdict other than AGAIN never changes when more bytes are appended.
 * *out is fully meaningful only on DONE. */
enum smtp_result smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *out);

/* The option line added to a rewritten EHLO reply when add_auth (SMTP-5). */
#define SMTP_EHLO_AUTH_LINE "AUTH PLAIN LOGIN"

/* smtp_ehlo_rewrite - the EHLO reply to send to the client (SMTP-5).
 *
 * For a 250 reply: the first line (the server's greeting text) is kept;
 * option lines whose keyword (first word, up to a blank or '=',
 * case-insensitive) is CHUNKING, BINARYMIME, PIPELINING, STARTTLS or
 * XCLIENT are deleted, and so are empty lines, and XFORWARD unless
 * keep_xforward (the proxy relays XFORWARD only from LAN clients: the
 * parent trusts it for the gateway's address, issue 10); the first SIZE line becomes
 * "SIZE min(n, max_size)" where n is the smallest limit of the server's
 * SIZE lines ("SIZE", "SIZE 0" or an unreadable number mean no limit,
 * RFC 1870, so max_size), further SIZE lines are dropped; "SIZE
 * max_size" is added when the server gave none. With add_auth the
 * server's AUTH lines ("AUTH ..." and the old "AUTH=...") are removed
 * and SMTP_EHLO_AUTH_LINE is added; without it they are kept (the client
 * authenticates with the server, SMTP-8). Added lines come after the
 * server's, SIZE before AUTH. max_size 0 means the proxy has no limit:
 * the server's SIZE lines are kept as they are and none is added.
 * Any other code: the lines are copied unchanged (an error reply has no
 * options to edit).
 * Each line is written as "DDD-text" or, for the last, "DDD text", with
 * CR LF. All or nothing: false (out unchanged) when it does not fit, or
 * when r has no lines or a code outside 200..599 (not a parsed reply). */
bool smtp_ehlo_rewrite(struct buf *out, const struct smtp_reply *r, uint64_t max_size,
                       bool add_auth, bool keep_xforward);

/* The longest reply line the proxy writes, CR LF included (RFC 5321
 * 4.5.3.1.5: 512 octets). */
#define SMTP_REPLY_FORMAT_MAX 512

/* smtp_reply_format - "<code> <text> (<product_name>)\r\n" (SMTP-2).
 * code must be 200..599 (else false). Control bytes of text and
 * product_name (a CR from a client's echoed command, say) become spaces,
 * so the result is always exactly one reply line. A line that would be
 * longer than SMTP_REPLY_FORMAT_MAX is shortened by cutting text (and
 * product_name only if it alone is too long): a client's 9998-byte
 * unknown command is not echoed whole. All or nothing: false (out
 * unchanged) when it does not fit. */
bool smtp_reply_format(struct buf *out, unsigned code, const char *text, const char *product_name);

#endif
