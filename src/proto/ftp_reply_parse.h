/* ftp_reply_parse - FTP control replies, passive-mode addresses, LIST lines.
 *
 * What it does: parses the replies an FTP server sends on its control
 * connection (RFC 959 4.2): single-line "ddd text" and multi-line
 * "ddd-text" ... "ddd text" replies, resumably, from bytes that may
 * arrive one at a time. It extracts the data port of a PASV reply
 * ("227 ... (h1,h2,h3,h4,p1,p2)", RFC 959 4.1.2 and RFC 1123 4.1.2.6) and
 * of an EPSV reply ("229 ... (|||port|)", RFC 2428 3), and splits one line
 * of LIST output into name, size, type and modification time for the
 * Unix "ls -l" format (vsftpd, ProFTPD, Pure-FTPd) and the MS-DOS format
 * (IIS); any other line is handed back whole as FTP_LIST_UNKNOWN.
 *
 * What it owns: nothing but the caller's structs. A struct ftp_reply keeps
 * a bounded, sanitized copy of the reply text (control bytes become
 * spaces, so the text can go into logs and error pages as it is); the
 * views of a struct ftp_list_entry point into the caller's line.
 *
 * What it does not do: no I/O, no allocation, no globals, no command
 * formatting, no decision on what a reply code means for the dialogue
 * (core/ftp_client does that). Every limit is a named constant below.
 */
#ifndef SEKISHO_PROTO_FTP_REPLY_PARSE_H
#define SEKISHO_PROTO_FTP_REPLY_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

/* One reply line without its CRLF: the FTP line limit of the guide (spec
 * §15, FTP-3) applied to what servers send as well. */
#define FTP_REPLY_LINE_MAX 998
/* Reply text kept; longer text is cut (ftp_reply.truncated), not refused. */
#define FTP_REPLY_TEXT_MAX 2048
/* Lines of one multi-line reply (a greeting banner is a few dozen). */
#define FTP_REPLY_LINES_MAX 1000

enum ftp_reply_result {
    FTP_REPLY_DONE = 0, /* a whole reply was parsed */
    FTP_REPLY_AGAIN,    /* need more bytes (everything so far is fine) */
    FTP_REPLY_INVALID,  /* not an FTP reply */
    FTP_REPLY_TOO_LONG, /* a line over FTP_REPLY_LINE_MAX or too many lines */
};
const char *ftp_reply_result_name(enum ftp_reply_result r);

/* A reply being parsed. Zero it with ftp_reply_init() before each reply;
 * the fields after "private" are the parser's. */
struct ftp_reply {
    int code;                          /* 100..599, set once the first line is seen */
    char text[FTP_REPLY_TEXT_MAX + 1]; /* NUL-terminated, see ftp_reply_parse */
    size_t text_len;
    bool truncated; /* text was cut at FTP_REPLY_TEXT_MAX */
    unsigned lines; /* lines consumed so far */
    /* private */
    char prefix[4];  /* first bytes of the current line, until decided */
    size_t line_len; /* bytes of the current line (without CR LF) */
    bool multi;      /* inside a "ddd-" reply */
    bool decided;    /* the current line's prefix has been classified */
    bool last_line;  /* the current line ends the reply */
    bool cr;         /* a CR was seen and is held back until the next byte */
    bool finished;
    enum ftp_reply_result final;
};

void ftp_reply_init(struct ftp_reply *r);

/* ftp_reply_parse - feed the next len bytes of the control connection.
 *
 * Consumes bytes until one reply is complete: *used is then the number
 * of bytes up to and including the LF that ended it (the rest belongs to
 * the next reply). AGAIN consumes all len bytes (they are remembered).
 * Lines end with LF; a CR just before it is dropped (CRLF, or a bare LF
 * from a sloppy server). The first line must start with three digits, the
 * first 1-5, followed by ' ', '-' or the line end; a multi-line reply ends
 * with the first line that starts with the same code followed by ' ' or
 * the line end (RFC 959 4.2). INVALID / TOO_LONG stop at the offending
 * byte (*used counts it). After a final result the parser returns it
 * again without consuming anything.
 *
 * On DONE, code is the reply code and text the reply text: the first
 * line after "ddd " / "ddd-", then each further line after a '\n' (a
 * leading "ddd-" or "ddd " of the same code removed), cut at
 * FTP_REPLY_TEXT_MAX bytes. Bytes below 0x20 and 0x7f become spaces. */
enum ftp_reply_result ftp_reply_parse(struct ftp_reply *r, const char *p, size_t len, size_t *used);

/* ftp_reply_parse_pasv - the data address of a 227 reply's text: the
 * first "h1,h2,h3,h4,p1,p2" (six decimal numbers 0-255 separated by
 * commas, parentheses optional as RFC 1123 4.1.2.6 advises). DONE with
 * addr and *port (p1 * 256 + p2, never 0), or INVALID. */
enum ftp_reply_result ftp_reply_parse_pasv(struct str text, uint8_t addr[4], uint16_t *port);

/* ftp_reply_parse_epsv - the port of a 229 reply's text "(<d><d><d>port<d>)"
 * where <d> is one delimiter byte in 33-126 that is not a digit (RFC 2428
 * 3; "|" in practice). DONE with *port in 1-65535, or INVALID. */
enum ftp_reply_result ftp_reply_parse_epsv(struct str text, uint16_t *port);

/* ---- LIST output -------------------------------------------------------- */

/* Fields of one "ls -l" line we look at before giving up. */
#define FTP_LIST_FIELDS_MAX 16

enum ftp_list_result {
    FTP_LIST_ENTRY = 0, /* a file, directory or link: the entry is filled in */
    FTP_LIST_SKIP,      /* nothing to show: empty, "total N", "." or ".." */
    FTP_LIST_UNKNOWN,   /* a format we do not know: only entry->raw is set */
};
const char *ftp_list_result_name(enum ftp_list_result r);

enum ftp_list_type {
    FTP_LIST_FILE = 0,
    FTP_LIST_DIR,
    FTP_LIST_LINK,
    FTP_LIST_OTHER, /* device, pipe, socket */
};
const char *ftp_list_type_name(enum ftp_list_type t);

struct ftp_list_entry {
    struct str raw;    /* the whole line without its line end */
    struct str name;   /* a link's name without " -> target" */
    struct str target; /* a link's target, else empty */
    struct str mtime;  /* as written: "Nov 23 20:06", "Jan  5  2021", "01-31-12  08:00PM" */
    enum ftp_list_type type;
    bool is_dir;
    bool has_size; /* false for directories in the MS-DOS format */
    uint64_t size;
};

/* ftp_list_parse_line - one line of LIST output (its CR LF may be present
 * or not). Views point into line. */
enum ftp_list_result ftp_list_parse_line(struct str line, struct ftp_list_entry *e);

#endif
