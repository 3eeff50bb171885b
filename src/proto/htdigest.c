/* htdigest - Apache htdigest password files (see htdigest.h). */
#include "proto/htdigest.h"

#include <openssl/evp.h>
#include <string.h>

#include "lib/str.h"

static bool name_ok(const char *p, size_t n)
{
    if (n == 0 || n > HTDIGEST_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == ':' || c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

bool htdigest_name_ok(const char *name)
{
    return name && name_ok(name, strnlen(name, HTDIGEST_NAME_MAX + 1));
}

/* One physical line: text[start..end) without its LF or CRLF,
 * text[end..next) the line end. */
struct line {
    size_t start, end, next;
};

static bool next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
    if (*pos >= len)
        return false;
    const char *nl = memchr(text + *pos, '\n', len - *pos);
    l->start = *pos;
    l->next = nl ? (size_t)(nl - text) + 1 : len;
    l->end = nl ? l->next - 1 : len;
    if (l->end > l->start && text[l->end - 1] == '\r')
        l->end--;
    *pos = l->next;
    return true;
}

/* entry - a well-formed line: its user, realm and hash views. */
static bool entry(const char *text, const struct line *l, struct str *user, struct str *realm,
                  struct str *hash)
{
    struct str rest = str_make(text + l->start, l->end - l->start);
    struct str tail;
    if (!str_cut(rest, ':', user, &tail) || !str_cut(tail, ':', realm, hash))
        return false;
    if (!name_ok(user->ptr, user->len) || !name_ok(realm->ptr, realm->len) || hash->len != 32)
        return false;
    for (size_t i = 0; i < 32; i++) {
        char c = hash->ptr[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static bool is_for(const char *text, const struct line *l, const char *user, const char *realm,
                   struct str *hash)
{
    struct str u, r;
    return entry(text, l, &u, &r, hash) && str_eq_cstr(u, user) && str_eq_cstr(r, realm);
}

bool htdigest_find(const char *text, size_t len, const char *user, const char *realm,
                   unsigned char ha1[16])
{
    if (!htdigest_name_ok(user) || !htdigest_name_ok(realm))
        return false;
    size_t pos = 0;
    struct line l;
    struct str hash;
    while (next_line(text, len, &pos, &l)) {
        if (!is_for(text, &l, user, realm, &hash))
            continue;
        for (size_t i = 0; i < 16; i++)
            ha1[i] = (unsigned char)(str_hex_digit((unsigned char)hash.ptr[2 * i]) << 4 |
                                     str_hex_digit((unsigned char)hash.ptr[2 * i + 1]));
        return true;
    }
    return false;
}

bool htdigest_ha1(const char *user, const char *realm, const char *password, unsigned char ha1[16])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    bool ok =
        ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, user, strlen(user)) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
        EVP_DigestUpdate(ctx, realm, strlen(realm)) == 1 && EVP_DigestUpdate(ctx, ":", 1) == 1 &&
        EVP_DigestUpdate(ctx, password, strlen(password)) == 1 &&
        EVP_DigestFinal_ex(ctx, ha1, &n) == 1 && n == 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        memset(ha1, 0, 16);
    return ok;
}

/* emit - the new text into b, or its size into *n when b is NULL. */
static void emit(const char *text, size_t len, const char *user, const char *realm,
                 const char hex[33], struct buf *b, size_t *n)
{
    const char *nl = len ? memchr(text, '\n', len) : NULL;
    const char *eol = nl && nl > text && nl[-1] == '\r' ? "\r\n" : "\n";
    size_t pos = 0, total = 0;
    bool found = false;
    struct line l;
    struct str hash;
#define PUT(p, k)                                                                                  \
    do {                                                                                           \
        if (b)                                                                                     \
            buf_append(b, (p), (k));                                                               \
        total += (k);                                                                              \
    } while (0)
    while (next_line(text, len, &pos, &l)) {
        if (is_for(text, &l, user, realm, &hash)) {
            found = true;
            size_t at = (size_t)(hash.ptr - text);
            PUT(text + l.start, at - l.start);
            PUT(hex, 32);
            PUT(text + at + 32, l.next - at - 32);
        } else {
            PUT(text + l.start, l.next - l.start);
        }
    }
    if (!found) {
        if (len > 0 && text[len - 1] != '\n')
            PUT(text[len - 1] == '\r' ? "\n" : eol, text[len - 1] == '\r' ? 1 : strlen(eol));
        PUT(user, strlen(user));
        PUT(":", 1);
        PUT(realm, strlen(realm));
        PUT(":", 1);
        PUT(hex, 32);
        PUT(eol, strlen(eol));
    }
#undef PUT
    *n = total;
}

bool htdigest_set(const char *text, size_t len, const char *user, const char *realm,
                  const unsigned char ha1[16], struct buf *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    buf_fini(out);
    if (!htdigest_name_ok(user) || !htdigest_name_ok(realm)) {
        str_format(err, errlen, "the %s must be 1-%d bytes without ':' or control bytes",
                   htdigest_name_ok(user) ? "realm" : "user name", HTDIGEST_NAME_MAX);
        return false;
    }
    static const char digits[] = "0123456789abcdef";
    char hex[33];
    for (size_t i = 0; i < 16; i++) {
        hex[2 * i] = digits[ha1[i] >> 4];
        hex[2 * i + 1] = digits[ha1[i] & 15];
    }
    hex[32] = '\0';
    size_t n = 0;
    emit(text, len, user, realm, hex, NULL, &n);
    if (buf_alloc_storage(out, n) < 0) {
        str_format(err, errlen, "out of memory");
        return false;
    }
    emit(text, len, user, realm, hex, out, &n);
    return true;
}
