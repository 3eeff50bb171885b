/* form_parse - application/x-www-form-urlencoded bodies, URL query strings
 * and Cookie headers, for the web console.
 *
 * What it does: splits a form body or a query string (the same grammar,
 * WHATWG URL "application/x-www-form-urlencoded parsing") into name/value
 * fields and percent-decodes them in place: '+' is a space, "%XX" a byte
 * (hex digits in either case). Pairs are separated by '&'; empty pairs
 * ("a=1&&b=2", a trailing '&') are skipped; "a" without '=' is a field
 * with an empty value; a name given more than once gives one field per
 * occurrence, in order (checkbox lists). Strict on purpose: the console
 * writes what it reads here into configuration files, so everything that
 * no browser sends for the console's own forms is refused with a reason,
 * not repaired: a '%' not followed by two hex digits; a name that is
 * empty, longer than FORM_NAME_MAX or not made of [A-Za-z0-9_.-] after
 * decoding; a control byte in a value other than TAB, CR and LF
 * (textareas send CRLF line ends), DEL included; a value that is not
 * valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF);
 * more fields than the caller's array holds. Also: the value of one cookie
 * of a Cookie request header (RFC 6265 5.4 "name=value; name=value").
 *
 * What it owns: nothing. Fields point into the caller's buffer, which is
 * rewritten by form_parse() (decoding only shrinks, each name and value is
 * NUL-terminated where it lies) and must outlive them. What it does not
 * do: no I/O, no allocation, no globals; no charset other than UTF-8 (the
 * console's pages say so, so browsers send UTF-8); no multipart/form-data;
 * no knowledge of which fields a form has.
 */
#ifndef SEKISHO_PROTO_FORM_PARSE_H
#define SEKISHO_PROTO_FORM_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define FORM_NAME_MAX 64  /* bytes of a decoded field name */
#define FORM_ERR_MAX  128 /* every reason fits (a capacity for err) */

struct form_field {
    const char *name;  /* NUL-terminated, [A-Za-z0-9_.-]{1,FORM_NAME_MAX} */
    const char *value; /* NUL-terminated; valid UTF-8 without NUL */
    size_t value_len;  /* strlen(value) */
};

/* form_parse - decode text[0..len) in place into fields[0..*count).
 * text[len] must be writable too (one byte past the data, for example the
 * NUL of a C string): the last value is terminated there when nothing
 * before it shrank. The text may hold any bytes. true on success; false
 * with *count = 0 and a one-line reason in err (it names the field by its
 * 1-based position and never quotes a value: a value may be a password),
 * the buffer then holds partly decoded bytes. len 0 gives 0 fields. */
bool form_parse(char *text, size_t len, struct form_field *fields, size_t cap, size_t *count,
                char *err, size_t errlen);

/* form_get - the first field called name (exact, case-sensitive), or NULL. */
const struct form_field *form_get(const struct form_field *f, size_t n, const char *name);

/* form_count - how many fields are called name. */
size_t form_count(const struct form_field *f, size_t n, const char *name);

/* form_cookie_get - the value of the first cookie called name (exact,
 * case-sensitive) in a Cookie header value ("a=b; c=d"; blanks around
 * pairs ignored), copied NUL-terminated to out. The value is taken as it
 * is (no decoding); a value in double quotes loses them. false when the
 * header is NULL, the cookie is absent, its value holds a byte outside
 * RFC 6265's cookie-octet, or it does not fit cap (out is then "" when cap
 * > 0). A pair without '=' is skipped. */
bool form_cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
