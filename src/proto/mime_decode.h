/* mime_decode - decoders for mail bodies and header values.
 *
 * Streaming base64 and quoted-printable body decoders (RFC 2045 sections
 * 6.7 and 6.8) that accept what mail clients accept; RFC 2047 encoded-words
 * in unstructured header text; Content-Type / Content-Disposition
 * parameters with quoted strings, RFC 2231 continuations and charsets and
 * the legacy `name="=?ISO-2022-JP?B?...?="` form; and a header field
 * lookup with RFC 5322 unfolding. Text in a known charset comes out as
 * UTF-8: UTF-8 and US-ASCII are validated here (invalid bytes become
 * U+FFFD), ISO-8859-1 (read as Windows-1252, as mail clients do),
 * ISO-8859-15, Windows-1252, Shift_JIS / CP932 and EUC-JP (read as CP932 /
 * eucJP-ms, the supersets Japanese mailers really write) go through
 * iconv(3), ISO-2022-JP is turned into CP932 here first so that the
 * NEC and IBM extension characters (circled digits, ...) that Japanese
 * mailers put into it decode too, and UTF-7 is decoded here (mime_utf7).
 * Text in any other charset (ISO-8859-2, KOI8-R, GBK, Big5,
 * windows-1251, ...) is decoded all the same, as ASCII with every byte
 * >= 0x80 as U+FFFD: the ASCII of a file name, its extension, is then
 * exactly what a mail client shows, which the attachment policies need
 * (kept raw, `=?ISO-8859-2?Q?evil.exe?=` passed block_ext=.exe). Decoded
 * control bytes (NUL included) are kept for the caller to judge (see
 * mime_param_get_tail).
 *
 * It owns nothing: inputs are caller views, outputs go into caller
 * buffers. It does no I/O and keeps no global state. The only allocation
 * is iconv_open(3) for a non-UTF-8 charset (glibc mallocs the descriptor
 * and loads its gconv module once per process; both are released before
 * the call returns). Every function is linear in its input; the stack use
 * is below 16 KiB. What to do with decoded bytes (scanning, policies) is
 * the caller's business.
 */
#ifndef SEKISHO_PROTO_MIME_DECODE_H
#define SEKISHO_PROTO_MIME_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

/* Whitespace a quoted-printable decoder holds back because it may be the
 * trailing whitespace of a line, which RFC 2045 6.7 (3) says to delete.
 * A longer run is passed through as data (no real line is that padded). */
#define MIME_QP_HOLD_MAX 64
/* RFC 2231 continuation segments looked at (name*0 .. name*255); a value
 * with more segments is cut after the 256th. */
#define MIME_PARAM_SEGMENTS_MAX 256

/* Base64 decoder state (RFC 2045 6.8). Characters outside the alphabet
 * are skipped, as every mail client does; whitespace silently, anything
 * else counted in garbage. '=' ends a quantum and decoding goes on after
 * it (concatenated base64 blocks occur in the wild). */
struct mime_b64 {
    uint32_t acc;          /* sextets of the quantum being read */
    unsigned nsext;        /* how many (0..3) */
    unsigned char pend[3]; /* decoded bytes that did not fit in out */
    unsigned npend, pendpos;
    size_t garbage; /* bytes neither alphabet, '=' nor whitespace, plus
                       a dangling single sextet */
};

void mime_b64_init(struct mime_b64 *d);

/* mime_b64_decode - decode in[0..len) into out[0..cap).
 *
 * Writes as much as fits and returns the number of bytes written; *used
 * gets the number of input bytes consumed (all of them unless out filled
 * up). Call again with the rest of the input and fresh room. Never fails:
 * bad input only raises d->garbage. */
size_t mime_b64_decode(struct mime_b64 *d, const char *in, size_t len, char *out, size_t cap,
                       size_t *used);

/* mime_b64_finish - at the end of the input: write the bytes of an
 * unpadded last quantum and anything still held. Returns the bytes
 * written; call until it returns 0. */
size_t mime_b64_finish(struct mime_b64 *d, char *out, size_t cap);

/* Quoted-printable decoder state (RFC 2045 6.7). Soft line breaks ("=" at
 * the end of a line, also with whitespace between), =XX in either case;
 * an invalid escape ("=G1", "=" before a non-hex byte, "=" at the end) is
 * kept literally and counted; whitespace at the end of a line is deleted.
 * Line ends are passed through as they are (CRLF or LF). */
struct mime_qp {
    unsigned char state; /* internal */
    unsigned char first; /* first hex digit of an escape, as read */
    unsigned nhold;
    char hold[MIME_QP_HOLD_MAX]; /* whitespace that may be trailing */
    char pend[MIME_QP_HOLD_MAX + 4];
    unsigned npend, pendpos;
    size_t invalid; /* invalid escapes seen */
};

void mime_qp_init(struct mime_qp *d);
/* mime_qp_decode / mime_qp_finish - as for base64. */
size_t mime_qp_decode(struct mime_qp *d, const char *in, size_t len, char *out, size_t cap,
                      size_t *used);
size_t mime_qp_finish(struct mime_qp *d, char *out, size_t cap);

/* mime_decode_words - decode the RFC 2047 encoded-words in header text.
 *
 * in is an unstructured header value (Subject, a display name), folded or
 * not. Encoded-words (B and Q) in a known charset are decoded to UTF-8;
 * whitespace (folding included) between two adjacent decoded words is
 * dropped (RFC 2047 section 6.2), and adjacent words in the same charset
 * are converted as one byte stream, so a character or an ISO-2022-JP
 * escape state split over two words still decodes. Words are recognised
 * anywhere, also glued to text, as mail clients do. A word in a charset
 * we do not convert is decoded too (ASCII kept, 8-bit bytes U+FFFD);
 * raw 8-bit text between words is copied as it is. Folding line breaks
 * are removed (RFC 5322 2.2.3).
 *
 * Appends to out all or nothing: false (out unchanged) when the result
 * does not fit. */
bool mime_decode_words(struct str in, struct buf *out);

/* mime_param_get - the value of parameter `name` (ASCII, case-insensitive)
 * of a Content-Type or Content-Disposition field value.
 *
 * params is the whole field value, e.g. `attachment; filename="a.txt"`
 * (what mime_header_get returns, folded or not); the leading type and any
 * word that is not attribute=value are skipped, and a missing ';' between
 * parameters is tolerated. Understood, best first: RFC 2231 continuations
 * name*0 / name*0* / name*1* ... (in any order, up to the first missing
 * index) and name*=charset'lang'%XX, converted from their charset to
 * UTF-8 (a charset we do not convert gives ASCII with 8-bit bytes as
 * U+FFFD, an empty or missing one the percent-decoded bytes raw); then
 * plain name=value (token or quoted-string with backslash
 * escapes), with RFC 2047 words inside decoded. The first occurrence of a
 * form counts.
 *
 * Appends the value to out all or nothing; false when the parameter is
 * absent or the value does not fit. */
bool mime_param_get(struct str params, const char *name, struct buf *out);

enum mime_param_result {
    MIME_PARAM_ABSENT = 0,
    MIME_PARAM_FOUND,
    MIME_PARAM_TRUNCATED, /* longer than dst: its end was kept */
};
const char *mime_param_result_name(enum mime_param_result r);

/* mime_param_get_tail - mime_param_get into dst[cap] as a NUL-terminated
 * string, for file names: a value longer than cap - 1 bytes keeps its
 * last bytes (cut at a UTF-8 character boundary), because the end of a
 * file name, its extension, is what the policies look at. When ctl is not
 * NULL it gets the number of bytes below 0x20 other than ESC (0x1b) in
 * the whole decoded value, the invalid characters of spec SCAN-7. A
 * decoded NUL ends the string in dst early ("evil.exe\0.txt" gives
 * "evil.exe") but is counted in ctl, so a caller that blocks on ctl (the
 * walker's BAD_FILENAME) blocks such a name whatever a client makes of
 * it: one stops at the NUL, another drops or replaces it. */
enum mime_param_result mime_param_get_tail(struct str params, const char *name, char *dst,
                                           size_t cap, size_t *ctl);

/* mime_param_raw - the undecoded text of plain parameter name=value: for
 * a quoted-string the bytes between the quotes (backslash escapes and
 * folding still in, *quoted set), for a token the token. No RFC 2047 or
 * 2231 decoding: this is for MIME boundaries, where "=?" is legal text.
 * The view points into params. False when absent. */
bool mime_param_raw(struct str params, const char *name, struct str *value, bool *quoted);

/* mime_header_get - find a header field by name (ASCII, case-insensitive)
 * in a header block and return its value.
 *
 * headers holds header lines (CRLF or LF ends); the search stops at the
 * first empty line. *iter is the offset to start from (set it to 0 for the
 * first search; iter may be NULL to always find the first field) and is
 * moved past the field found, so repeated calls visit every occurrence.
 * Returns the value with surrounding whitespace trimmed, or a view with a
 * NULL ptr when there is none (an empty value has a non-NULL ptr).
 *
 * A one-line value is a view into headers. A folded value is unfolded
 * (RFC 5322 2.2.3: the line breaks removed, the whitespace kept) into the
 * free space of unfold and the view points there (appended to unfold,
 * which must outlive the view); when unfold is NULL or too small the view
 * into headers is returned still folded (CRLF + whitespace inside; the
 * parameter and word decoders above accept that). */
struct str mime_header_get(struct str headers, const char *name, size_t *iter, struct buf *unfold);

#endif
