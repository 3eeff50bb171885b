/* template_parse - render and check notification / detection templates.
 *
 * Templates (spec TPL-1..TPL-5, guide chapter 7.3) are UTF-8 texts of at
 * most 9000 bytes holding `${NAME}` and `#{NAME}` variables. This module
 * renders one into a caller-provided struct buf (HTML-escaping `${}`
 * values in HTML pages, G-30), validates the size and UTF-8 encoding of a
 * template file's bytes (CFG-4), splits a rendered notification mail into
 * header and body, finds the `From:` address (TPL-2) and RFC 2047-encodes
 * non-ASCII `Subject:` / `From:` display text (G-31).
 *
 * It owns nothing: every input is a view owned by the caller and every
 * output goes into the caller's buffer, all or nothing. It does no I/O and
 * never allocates; every function is linear in its input (a variable
 * lookup costs at most the caller's variable count, a constant).
 * Loading template files is core/template's job; deciding which template
 * to send to whom, adding X-Virus-Status and MIME headers and putting the
 * mail on the wire (CRLF, dot-stuffing) is the notifier's.
 */
#ifndef SEKISHO_PROTO_TEMPLATE_PARSE_H
#define SEKISHO_PROTO_TEMPLATE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/str.h"

/* Largest template file, in bytes (guide 003:926, spec §15). */
#define TEMPLATE_PARSE_MAX_BYTES 9000
/* Longest variable name looked for between `{` and `}`; anything longer
 * is literal text. Bounds the work per `$` or `#` to a constant. */
#define TEMPLATE_PARSE_NAME_MAX 32
/* Raw bytes per RFC 2047 encoded-word: 36 bytes give 48 base64 characters,
 * a 60-character word, so "Subject: " + word stays within the 76
 * characters RFC 2047 section 2 allows on a line holding encoded-words. */
#define TEMPLATE_PARSE_RFC2047_CHUNK 36
/* Longest header line written, without its CRLF (RFC 5322 2.1.1). */
#define TEMPLATE_PARSE_LINE_MAX 998

/* The variables of guide chapter 7.3 (spec TPL-3), in the guide's order.
 * template_parse_var_name() gives the name used inside `${}` / `#{}`. */
enum template_parse_var_id {
    TEMPLATE_VAR_SERVICE_TYPE = 0,
    TEMPLATE_VAR_DETECTION_NAME,
    TEMPLATE_VAR_VIRUS_INFO_URL,
    TEMPLATE_VAR_CLIENT_HOST,
    TEMPLATE_VAR_CLIENT_ADDR,
    TEMPLATE_VAR_SERVER_HOST,
    TEMPLATE_VAR_SERVER_ADDR,
    TEMPLATE_VAR_STATUS,
    TEMPLATE_VAR_METHOD,
    TEMPLATE_VAR_URL,
    TEMPLATE_VAR_CONTENT_TYPE,
    TEMPLATE_VAR_CONTENT_LENGTH,
    TEMPLATE_VAR_FILENAME,
    TEMPLATE_VAR_QUARANTINE_FILE,
    TEMPLATE_VAR_TIME,
    TEMPLATE_VAR_TIME_STR,
    TEMPLATE_VAR_HEADER,
    TEMPLATE_VAR_TEXT,
    TEMPLATE_VAR_MAILFROM,
    TEMPLATE_VAR_RCPTTO,
    TEMPLATE_VAR_MESSAGE_ID,
    TEMPLATE_VAR_ERROR_STR,
    TEMPLATE_VAR_ACTION,
    TEMPLATE_VAR_PATH_QUERY,
    TEMPLATE_VAR_X_FORWARDED_FOR,
    TEMPLATE_VAR_COUNT, /* not a variable: the number of them */
};

/* One variable offered to the renderer. name is the bare name ("URL"),
 * value a view the caller keeps alive during the call. A value with a NULL
 * ptr is "unset": its references stay in the output untouched, as for an
 * unknown name. Pass an empty non-NULL view (STR_LIT("")) to substitute
 * nothing instead. */
struct template_parse_var {
    const char *name;
    struct str value;
};

/* How values are inserted (G-30).
 * TEXT: `${}` and `#{}` values both raw.
 * HTML: `${}` values HTML-escaped (& < > " '), `#{}` values raw.
 * MAIL: as TEXT, except that in the template's header section (up to the
 *       first blank line, see template_parse_split_mail) control
 *       characters of values (CR, LF, NUL ...; not TAB) become spaces, so a
 *       hostile file name or subject cannot add header lines, end the header
 *       early or change the notification's From: address. A template
 *       without a header section is all body, where values stay raw. */
enum template_parse_mode {
    TEMPLATE_PARSE_TEXT = 0,
    TEMPLATE_PARSE_HTML,
    TEMPLATE_PARSE_MAIL,
};

enum template_parse_result {
    TEMPLATE_PARSE_DONE = 0,
    TEMPLATE_PARSE_TOO_LONG, /* output did not fit; the buf is unchanged */
};

/* Outcome of template_parse_validate; template_parse_check_name() gives the
 * reason printed to the administrator. */
enum template_parse_check {
    TEMPLATE_CHECK_OK = 0,
    TEMPLATE_CHECK_TOO_BIG,        /* more than max bytes */
    TEMPLATE_CHECK_NUL,            /* a NUL byte: never valid in mail or HTML text */
    TEMPLATE_CHECK_UTF8_BAD_BYTE,  /* 0x80-0xC1 or 0xF5-0xFF where a character starts */
    TEMPLATE_CHECK_UTF8_TRUNCATED, /* a multi-byte sequence missing continuation bytes */
    TEMPLATE_CHECK_UTF8_OVERLONG,  /* a sequence longer than the code point needs */
    TEMPLATE_CHECK_UTF8_SURROGATE, /* U+D800..U+DFFF */
    TEMPLATE_CHECK_UTF8_RANGE,     /* above U+10FFFF */
};

/* Where template_parse_validate found the problem. offset is the byte
 * offset (0-based) of the offending sequence; line and column are 1-based,
 * column counting bytes. For TOO_BIG, offset = max and line/column are 0. */
struct template_parse_pos {
    size_t offset;
    size_t line;
    size_t column;
};

const char *template_parse_var_name(enum template_parse_var_id id);
const char *template_parse_mode_name(enum template_parse_mode mode);
const char *template_parse_result_name(enum template_parse_result r);
const char *template_parse_check_name(enum template_parse_check c);

/* template_parse_vars_init - fill vars[TEMPLATE_VAR_COUNT] with every name
 * of chapter 7.3 (index = enum template_parse_var_id) and unset values.
 * The caller then sets vars[TEMPLATE_VAR_URL].value = ... and passes the
 * array and TEMPLATE_VAR_COUNT to template_parse_render. */
void template_parse_vars_init(struct template_parse_var *vars);

/* template_parse_render - substitute the variables of tpl into out.
 *
 * `${NAME}` and `#{NAME}` are replaced by the value of the first entry of
 * vars[0..nvars) whose name equals NAME exactly (case-sensitive) and whose
 * value is set, escaped or not as mode says. Everything else is copied
 * byte for byte: unknown or unset names, `$` or `#` not followed by
 * `{NAME}`, an unterminated `${`, a name longer than
 * TEMPLATE_PARSE_NAME_MAX or holding characters other than A-Z a-z 0-9 _.
 * Values are inserted once and never rescanned, so a value holding
 * `${URL}` stays literal.
 *
 * Returns DONE with the rendering appended at out's write position, or
 * TOO_LONG when it does not fit in out's free space: out is then exactly as
 * before the call. tpl needs no terminator; NUL bytes are copied. */
enum template_parse_result template_parse_render(struct str tpl, enum template_parse_mode mode,
                                                 const struct template_parse_var *vars,
                                                 size_t nvars, struct buf *out);

/* template_parse_validate - check a template file's bytes (CFG-4): at most
 * max bytes (TEMPLATE_PARSE_MAX_BYTES for every shipped use), no NUL, and
 * well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). Returns TEMPLATE_CHECK_OK, or the first problem with its
 * position in *pos (pos may be NULL). */
enum template_parse_check template_parse_validate(struct str text, size_t max,
                                                  struct template_parse_pos *pos);

/* template_parse_split_mail - cut a rendered mail template into its header
 * section and body (TPL-2).
 *
 * A mail template has a header section when its first line is a header
 * field ("Name:" with Name made of printable ASCII other than ':'); the
 * section runs to the first blank line (an empty line ended by LF or
 * CRLF). *header then gets the header lines with their line endings and
 * *body everything after the blank line; without a blank line the whole
 * text is header and the body is empty. A text starting with a blank
 * line has an empty header section and the body after that line. A text
 * whose first line is neither has no header section: *header is empty and
 * *body is the whole text. Returns true when a header section (possibly
 * empty) was found. The views point into rendered. */
bool template_parse_split_mail(struct str rendered, struct str *header, struct str *body);

/* template_parse_header_find - value of the first field called name (ASCII
 * case-insensitive) in a header section: the text after the colon and its
 * leading blanks, continuation lines included, without the final line
 * ending. Returns false when there is no such field. */
bool template_parse_header_find(struct str header, const char *name, struct str *value);

/* template_parse_mail_from - the address of the header's From: field, used
 * as header From and envelope sender of SMTP notifications (TPL-2).
 * Accepts `From: a@b`, `From: Name <a@b>`, `From: "Name" <a@b>` and
 * `From: a@b (comment)`. The address must be local@domain made of
 * RFC 5321 atext characters and dots (domain: letters, digits, '-', '.',
 * or a [literal]); anything else (spaces, controls, quotes, non-ASCII, a
 * missing '@') gives an empty view, so a template can never inject text
 * into a MAIL FROM command. Returns a view into header, or empty. */
struct str template_parse_mail_from(struct str header);

/* template_parse_rfc2047 - append text as RFC 2047 "B" encoded-words in
 * UTF-8 (=?UTF-8?B?...?=), at most TEMPLATE_PARSE_RFC2047_CHUNK raw bytes
 * each and never splitting a UTF-8 character, separated by fold (for
 * example "\r\n " to fold a header line, or " "). CR and LF bytes of text
 * are dropped (they can only be the ends of folded header lines). Empty
 * text appends nothing. All or nothing: returns false with out unchanged
 * when the words do not fit. */
bool template_parse_rfc2047(struct str text, struct str fold, struct buf *out);

/* template_parse_encode_header - copy a header section to out with the
 * non-ASCII text of Subject: and From: fields RFC 2047-encoded (G-31):
 * Subject's whole value, From's display name (`Name <a@b>` or
 * `a@b (Name)` become `=?UTF-8?B?...?= <a@b>`). Encoded words are folded
 * with the field's own line ending (LF or CRLF) followed by a space. Other
 * fields, ASCII-only fields and From: fields of another shape are copied
 * unchanged, except that a line longer than TEMPLATE_PARSE_LINE_MAX bytes
 * is folded as template_parse_encode_header_wire says. Returns DONE, or TOO_LONG with out
 * unchanged. */
enum template_parse_result template_parse_encode_header(struct str header, struct buf *out);

/* template_parse_encode_header_wire - template_parse_encode_header for a
 * mail on its way out: every line ends in CRLF (one is added to a last
 * line without an ending), and any header line longer than
 * TEMPLATE_PARSE_LINE_MAX bytes is folded (before its last blank that
 * fits; without one, cut between UTF-8 characters and continued after an
 * added space). Encoded-words are at most 60 characters (RFC 2047 2: 75).
 * Both functions fold long lines; this one also fixes the line ends.
 * Returns DONE, or TOO_LONG with out unchanged. */
enum template_parse_result template_parse_encode_header_wire(struct str header, struct buf *out);

#endif
