/* fuzz_form_parse - libFuzzer target for proto/form_parse.
 *
 * The first input byte picks what is exercised and the capacity: a form
 * body or query string (decoded in a buffer of exactly len + 1 bytes, the
 * documented one writable byte past the data, so ASan sees any write or
 * read beyond it), or a Cookie header. Form fields come from browsers and
 * are written into configuration files, so any crash, over-read or UB is
 * a bug; so is an accepted field that breaks the documented rules (name
 * bytes and length, control bytes, UTF-8, terminators inside the buffer),
 * a field count other than the number of non-empty pairs, a refusal
 * without a reason, or fields that do not survive being percent-encoded
 * again and parsed a second time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/form_parse.h"

#define CAP_MAX 64

/* utf8_ok - an independent reading of RFC 3629 (by code point). */
static bool utf8_ok(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : 9;
        if (k == 9 || n - i <= k)
            return false;
        unsigned cp = k == 0 ? c : c & (0x3f >> k);
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        static const unsigned min[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static void check_field(const struct form_field *f, const char *lo, const char *hi)
{
    if (f->name < lo || f->name > hi || f->value < lo || f->value > hi)
        abort();
    size_t nl = strnlen(f->name, (size_t)(hi - f->name) + 1);
    if (nl == 0 || nl > FORM_NAME_MAX || f->name + nl > hi)
        abort();
    if (strspn(f->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != nl)
        abort();
    if (f->value + f->value_len > hi || f->value[f->value_len] != '\0' ||
        memchr(f->value, '\0', f->value_len))
        abort();
    for (size_t i = 0; i < f->value_len; i++) {
        unsigned char c = (unsigned char)f->value[i];
        if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f)
            abort();
    }
    if (!utf8_ok((const unsigned char *)f->value, f->value_len))
        abort();
}

static size_t encode(char *out, const char *s, size_t n, bool plus)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' && plus) {
            out[o++] = '+';
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return o;
}

static void fuzz_form(const char *p, size_t len, size_t cap)
{
    static struct form_field f[CAP_MAX], g[CAP_MAX];
    char *text = malloc(len + 1);
    if (!text)
        return;
    memcpy(text, p, len);
    text[len] = 'X';
    size_t pairs = 0;
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(p + i, '&', len - i);
        size_t e = amp ? (size_t)(amp - p) : len;
        pairs += e > i;
        i = e + 1;
    }
    char err[FORM_ERR_MAX];
    size_t n = 77;
    if (!form_parse(text, len, f, cap, &n, err, sizeof(err))) {
        if (n != 0 || err[0] == '\0' || strchr(err, '\n') ||
            strnlen(err, sizeof(err)) >= sizeof(err))
            abort();
        free(text);
        return;
    }
    if (n != pairs || n > cap)
        abort();
    /* encoded again (names too, '+' or %20 for a blank), it parses the same */
    size_t cap2 = 0;
    for (size_t i = 0; i < n; i++) {
        check_field(&f[i], text, text + len);
        cap2 += 3 * (strlen(f[i].name) + f[i].value_len) + 2;
    }
    char *again = malloc(cap2 + 1);
    if (!again)
        abort();
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        o += encode(again + o, f[i].name, strlen(f[i].name), false);
        again[o++] = '=';
        o += encode(again + o, f[i].value, f[i].value_len, i & 1);
        again[o++] = '&';
    }
    size_t n2 = 0;
    if (!form_parse(again, o, g, cap, &n2, err, sizeof(err)) || n2 != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, g[i].name) != 0 || f[i].value_len != g[i].value_len ||
            memcmp(f[i].value, g[i].value, f[i].value_len) != 0)
            abort();
    /* lookups agree with the array: the first of a name, and how many */
    for (size_t i = 0; i < n; i++) {
        size_t firsti = 0, k = 0;
        while (strcmp(f[firsti].name, f[i].name) != 0)
            firsti++;
        for (size_t j = 0; j < n; j++)
            k += strcmp(f[j].name, f[i].name) == 0;
        if (form_get(f, n, f[i].name) != &f[firsti] || form_count(f, n, f[i].name) != k)
            abort();
    }
    free(again);
    free(text);
}

static bool is_cookie_octet(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

/* The header (a C string) after a name of 1..8 bytes ended by '\n'. */
static void fuzz_cookie(const char *p, size_t len, size_t cap)
{
    const char *nl = memchr(p, '\n', len < 9 ? len : 9);
    if (!nl || nl == p)
        return;
    char name[9];
    memcpy(name, p, (size_t)(nl - p));
    name[nl - p] = '\0';
    size_t hl = len - (size_t)(nl - p) - 1;
    char *header = malloc(hl + 1);
    if (!header)
        return;
    memcpy(header, nl + 1, hl);
    header[hl] = '\0';
    char out[CAP_MAX];
    memset(out, 'z', sizeof(out));
    bool ok = form_cookie_get(header, name, out, cap);
    if (cap > 0 && strnlen(out, cap) >= cap)
        abort();
    if (ok) {
        size_t vl = strlen(out);
        for (size_t i = 0; i < vl; i++)
            if (!is_cookie_octet((unsigned char)out[i]))
                abort();
        /* the value stands in the header after "name" and '=' */
        if (vl && !strstr(header, out))
            abort();
        if (!strstr(header, name))
            abort();
    } else if (cap > 0 && out[0] != '\0') {
        abort();
    }
    free(header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *p = (const char *)data + 1;
    size_t len = size - 1;
    size_t cap = (size_t)(data[0] >> 1) % (CAP_MAX + 1);
    if (data[0] & 1)
        fuzz_cookie(p, len, cap);
    else
        fuzz_form(p, len, cap);
    return 0;
}
