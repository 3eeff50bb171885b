/* ftp_cmd_parse - FTP client command lines.
 *
 * What it does: the client half of the FTP proxy's bytes-to-structs
 * (spec §8). It finds a client's command line (FTP-3: 998-byte limit,
 * proto/text_line), drops the Telnet commands a client may put before the
 * verb (ABOR "urgent": IAC IP IAC DM, RFC 959 4.1.3), and splits the line
 * into verb and argument. Verbs are those of RFC 959, 1639, 2228, 2389,
 * 2428, 2640, 3659 and 7151, plus the X* aliases of RFC 775.
 *
 * What it owns: nothing; every struct str is a view into the caller's
 * bytes.
 *
 * What it does not do: no I/O, no allocation, no session state, no
 * decision about what a verb means for the dialogue (the FTP session
 * does that). Addresses of PORT/EPRT are proto/ftp_addr's, the USER split
 * proto/user_target's, replies proto/ftp_reply_parse's. Stateless: the
 * caller keeps unparsed bytes and calls again with more.
 */
#ifndef SEKISHO_PROTO_FTP_CMD_PARSE_H
#define SEKISHO_PROTO_FTP_CMD_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* FTP-3: a command line longer than this, line end excluded, is answered
 * "500 Too long line". */
#define FTP_CMD_LINE_MAX 998

enum ftp_cmd_result {
    FTP_CMD_DONE = 0, /* a whole acceptable line is at the start of the buffer */
    FTP_CMD_AGAIN,    /* need more bytes; everything so far is acceptable */
    FTP_CMD_INVALID,  /* a whole line that is refused, never relayed */
    FTP_CMD_TOO_LONG, /* more than FTP_CMD_LINE_MAX bytes before the line end */
};
const char *ftp_cmd_result_name(enum ftp_cmd_result r);

enum ftp_verb {
    FTP_V_UNKNOWN = 0, /* anything else (FTP-9: the session relays or refuses it) */
    /* RFC 959 */
    FTP_V_USER,
    FTP_V_PASS,
    FTP_V_ACCT,
    FTP_V_CWD,
    FTP_V_CDUP,
    FTP_V_SMNT,
    FTP_V_REIN,
    FTP_V_QUIT,
    FTP_V_PORT,
    FTP_V_PASV,
    FTP_V_TYPE,
    FTP_V_STRU,
    FTP_V_MODE,
    FTP_V_RETR,
    FTP_V_STOR,
    FTP_V_STOU,
    FTP_V_APPE,
    FTP_V_ALLO,
    FTP_V_REST,
    FTP_V_RNFR,
    FTP_V_RNTO,
    FTP_V_ABOR,
    FTP_V_DELE,
    FTP_V_RMD,
    FTP_V_MKD,
    FTP_V_PWD,
    FTP_V_LIST,
    FTP_V_NLST,
    FTP_V_SITE,
    FTP_V_SYST,
    FTP_V_STAT,
    FTP_V_HELP,
    FTP_V_NOOP,
    /* RFC 775 aliases */
    FTP_V_XCWD,
    FTP_V_XCUP,
    FTP_V_XMKD,
    FTP_V_XRMD,
    FTP_V_XPWD,
    /* RFC 1639 (long addresses: not rewritten by the proxy) */
    FTP_V_LPRT,
    FTP_V_LPSV,
    /* RFC 2228 (security) */
    FTP_V_AUTH,
    FTP_V_ADAT,
    FTP_V_PBSZ,
    FTP_V_PROT,
    FTP_V_CCC,
    FTP_V_MIC,
    FTP_V_CONF,
    FTP_V_ENC,
    /* RFC 2389 */
    FTP_V_FEAT,
    FTP_V_OPTS,
    /* RFC 2428 */
    FTP_V_EPRT,
    FTP_V_EPSV,
    /* RFC 2640 */
    FTP_V_LANG,
    /* RFC 3659 */
    FTP_V_SIZE,
    FTP_V_MDTM,
    FTP_V_MLSD,
    FTP_V_MLST,
    /* RFC 7151 */
    FTP_V_HOST,
};
/* "USER" ... "HOST", "UNKNOWN" for FTP_V_UNKNOWN, "?" out of range. */
const char *ftp_verb_name(enum ftp_verb v);

/* ftp_verb_opens_data - whether the verb transfers over a data
 * connection: RETR STOR STOU APPE LIST NLST MLSD (FTP-8; MLSD is RFC
 * 3659's LIST). The session must not relay any of them without having
 * set up the data connection itself. */
bool ftp_verb_opens_data(enum ftp_verb v);

/* ftp_verb_is_upload - STOR STOU APPE (FTP-11: method PUT). */
bool ftp_verb_is_upload(enum ftp_verb v);

struct ftp_command {
    enum ftp_verb verb;
    struct str line;      /* the whole line as sent, line end excluded */
    struct str command;   /* the line from the verb on (Telnet prefix and blanks dropped) */
    struct str verb_text; /* the first word as sent */
    struct str arg;       /* after the ONE blank that follows the verb, untrimmed */
    bool telnet_prefix;   /* Telnet commands preceded the verb (ABOR "urgent") */
};

/* ftp_command_find - the client command line at the start of buf[0..len).
 *
 * Line ends: CR LF, or a bare LF (as vsftpd and ProFTPD accept); the CR
 * before the LF is not part of the line. *consumed (set on DONE and
 * INVALID) = bytes of the line with its end: the caller drops them.
 * Before the verb, Telnet commands are dropped, as servers do (RFC 959
 * 4.1.3 has clients send ABOR as IAC IP, IAC DM "urgent", then "ABOR"):
 * IAC followed by a byte 240-254 (IAC WILL/WONT/DO/DONT with their option
 * byte), and a lone IAC whose DM went out of band (a receiver without
 * SO_OOBINLINE never sees the urgent byte). Then leading blanks (SP, HT)
 * are skipped; the verb is the first word up to a blank or the line end,
 * matched case-insensitively (RFC 959 5.3); a verb glued to other text
 * ("RETR1") is FTP_V_UNKNOWN. arg is everything after the ONE blank that
 * follows the verb, not trimmed (RFC 959 lets path names begin or end
 * with blanks; ftp_arg_trim for the verbs whose arguments are tokens).
 * DONE: *out is the parsed line.
 * INVALID: a NUL, a CR other than the one before the LF, another control
 * byte except HT, or DEL anywhere; an IAC (0xff) after the Telnet prefix
 * (IAC IAC in a path is RFC 959's escaped 0xff, but a server that does
 * not undo the escape, or does Telnet in the argument, would act on other
 * bytes than the proxy saw: never relayed); an IAC IAC in the prefix; a
 * line that is nothing but a Telnet prefix (the verb was lost). *out is
 * still set (verb FTP_V_UNKNOWN) so the session can log it.
 * TOO_LONG: more than FTP_CMD_LINE_MAX bytes precede the line end, known
 * before the LF arrives; ftp_line_discard then drops the rest of it.
 * AGAIN: no line end yet and the line may still fit.
 * A verdict other than AGAIN never changes when more bytes are appended. */
enum ftp_cmd_result ftp_command_find(const char *buf, size_t len, struct ftp_command *out,
                                     size_t *consumed);

/* ftp_line_discard - after TOO_LONG: the bytes of buf[0..len) up to and
 * including the first LF (then *ended = true), or all of them (*ended =
 * false: call again with the next bytes). */
size_t ftp_line_discard(const char *buf, size_t len, bool *ended);

/* ftp_arg_trim - arg without leading and trailing blanks (SP, HT). */
struct str ftp_arg_trim(struct str arg);

#endif
