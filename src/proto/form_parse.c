/* form_parse - form bodies, query strings, Cookie headers (see form_parse.h).
 *
 * Decoding in place: each pair text[s..e) is found on the raw bytes first
 * (its '&' and its first '='), then its name is decoded to the write
 * position w and its value right behind the name's NUL. A decoded run is
 * never longer than its source, so w never passes the byte being read and
 * the NUL after a value lands at e at the latest (the '&' already found,
 * or text[len] for the last pair).
 */
#include "proto/form_parse.h"

#include <stdint.h>
#include <string.h>

#include "lib/str.h"

static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

/* utf8_valid - RFC 3629: no overlong forms, no surrogates, <= U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return false;
        }
        if (n - i <= need)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= need; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += need + 1;
    }
    return true;
}

/* decode - percent-decode src[0..n) to dst (dst <= src); the decoded
 * length, or -1 on a bad escape. */
static long decode(char *dst, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3)
                return -1;
            int h = str_hex_digit((unsigned char)src[i + 1]);
            int l = str_hex_digit((unsigned char)src[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h << 4 | l);
            i += 2;
        }
        dst[o++] = c;
    }
    return (long)o;
}

bool form_parse(char *text, size_t len, struct form_field *fields, size_t cap, size_t *count,
                char *err, size_t errlen)
{
    *count = 0;
    if (err && errlen > 0)
        err[0] = '\0';
    size_t n = 0, w = 0, s = 0;
    while (s < len) {
        const char *amp = memchr(text + s, '&', len - s);
        size_t e = amp ? (size_t)(amp - text) : len;
        if (e == s) {
            s = e + 1;
            continue; /* an empty pair */
        }
        size_t num = n + 1;
        if (n == cap) {
            str_format(err, errlen, "more than %zu fields", cap);
            return false;
        }
        const char *eq = memchr(text + s, '=', e - s);
        size_t name_end = eq ? (size_t)(eq - text) : e;
        char *name = text + w;
        long dn = decode(name, text + s, name_end - s);
        if (dn < 0) {
            str_format(err, errlen, "field %zu: bad %%-escape in the name", num);
            return false;
        }
        if (dn == 0) {
            str_format(err, errlen, "field %zu: empty name", num);
            return false;
        }
        if (dn > FORM_NAME_MAX) {
            str_format(err, errlen, "field %zu: name longer than %d bytes", num, FORM_NAME_MAX);
            return false;
        }
        for (long i = 0; i < dn; i++) {
            if (!is_name_char((unsigned char)name[i])) {
                str_format(err, errlen,
                           "field %zu: the name holds a byte other than A-Z a-z 0-9 _ . -", num);
                return false;
            }
        }
        w += (size_t)dn;
        text[w++] = '\0';
        char *value = text + w - 1; /* "" (the name's NUL) when there is no '=' */
        long dv = 0;
        if (eq) {
            value = text + w;
            dv = decode(value, eq + 1, e - name_end - 1);
            if (dv < 0) {
                str_format(err, errlen, "field %zu (%s): bad %%-escape in the value", num, name);
                return false;
            }
            for (long i = 0; i < dv; i++) {
                unsigned char c = (unsigned char)value[i];
                if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f) {
                    str_format(err, errlen, "field %zu (%s): control byte 0x%02x in the value", num,
                               name, c);
                    return false;
                }
            }
            if (!utf8_valid((const unsigned char *)value, (size_t)dv)) {
                str_format(err, errlen, "field %zu (%s): the value is not valid UTF-8", num, name);
                return false;
            }
            w += (size_t)dv;
            text[w++] = '\0';
        }
        fields[n].name = name;
        fields[n].value = value;
        fields[n].value_len = (size_t)dv;
        n++;
        s = e + 1;
    }
    *count = n;
    return true;
}

const struct form_field *form_get(const struct form_field *f, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return &f[i];
    return NULL;
}

size_t form_count(const struct form_field *f, size_t n, const char *name)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(f[i].name, name) == 0;
    return k;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static struct str trim_blanks(struct str s)
{
    while (s.len > 0 && is_blank(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len > 0 && is_blank(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

/* RFC 6265 4.1.1 cookie-octet: US-ASCII except CTLs, blanks, DQUOTE, ',', ';', '\'. */
static bool is_cookie_octet(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

bool form_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    if (out && cap > 0)
        out[0] = '\0';
    if (!header || !name || !out)
        return false;
    struct str rest = str_from_cstr(header);
    for (;;) {
        struct str pair, tail;
        bool more = str_cut(rest, ';', &pair, &tail);
        struct str k, v;
        if (str_cut(pair, '=', &k, &v) && str_eq_cstr(trim_blanks(k), name)) {
            v = trim_blanks(v);
            if (v.len >= 2 && v.ptr[0] == '"' && v.ptr[v.len - 1] == '"')
                v = str_make(v.ptr + 1, v.len - 2);
            for (size_t i = 0; i < v.len; i++)
                if (!is_cookie_octet((unsigned char)v.ptr[i]))
                    return false;
            if (v.len >= cap)
                return false;
            memcpy(out, v.ptr, v.len);
            out[v.len] = '\0';
            return true;
        }
        if (!more)
            return false;
        rest = tail;
    }
}
