/* fuzz_sasl - libFuzzer target for proto/sasl.
 *
 * The input is read four ways. As an AUTH argument: an accepted one must
 * be rebuilt exactly from the mechanism and the initial response ("=" for
 * an empty one), the name 1..SASL_MECH_MAX name characters, its class
 * the case-insensitive PLAIN/LOGIN match; a refused one leaves the output
 * zeroed. As a PLAIN and as a LOGIN response: an accepted one must give
 * back the input when its fields are encoded again (so only canonical
 * base64 passes), every field bounded, NUL-terminated, free of NUL, CR and
 * LF; "*" is CANCEL and nothing else is; BAD_BASE64 only when the strict
 * decoder refuses the input; a refusal leaves the output zeroed. As raw
 * bytes: their base64 is accepted by each decoder exactly when the bytes
 * meet the rules of sasl.h, checked here by a separate reading.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/base64_strict.h"
#include "proto/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void check_field(const struct sasl_field *f, size_t min)
{
    if (f->len < min || f->len > SASL_FIELD_MAX || f->bytes[f->len] != '\0' ||
        strlen(f->bytes) != f->len || memchr(f->bytes, '\r', f->len) ||
        memchr(f->bytes, '\n', f->len))
        abort();
}

/* field_rule - the reference reading of one field. */
static bool field_rule(const unsigned char *p, size_t n, size_t min)
{
    if (n < min || n > SASL_FIELD_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] == 0 || p[i] == '\r' || p[i] == '\n')
            return false;
    return true;
}

static void check_auth(struct str in)
{
    struct sasl_auth a;
    if (!sasl_auth_parse(in, &a)) {
        if (!all_zero(&a, sizeof(a)))
            abort();
        return;
    }
    if (a.mechanism.ptr != in.ptr || a.mechanism.len < 1 || a.mechanism.len > SASL_MECH_MAX)
        abort();
    for (size_t i = 0; i < a.mechanism.len; i++) {
        char c = a.mechanism.ptr[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            abort();
    }
    enum sasl_mech want = str_caseeq_cstr(a.mechanism, "PLAIN")   ? SASL_MECH_PLAIN
                          : str_caseeq_cstr(a.mechanism, "LOGIN") ? SASL_MECH_LOGIN
                                                                  : SASL_MECH_OTHER;
    if (a.mech != want)
        abort();
    if (!a.has_initial) {
        if (a.mechanism.len != in.len || a.initial.len != 0)
            abort();
        return;
    }
    struct str rest = str_make(in.ptr + a.mechanism.len, in.len - a.mechanism.len);
    if (rest.len < 2 || rest.ptr[0] != ' ')
        abort();
    rest = str_make(rest.ptr + 1, rest.len - 1);
    if (a.initial.len == 0 ? !str_eq_cstr(rest, "=") : !str_eq(rest, a.initial))
        abort();
    for (size_t i = 0; i < a.initial.len; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=",
                    a.initial.ptr[i]) ||
            a.initial.ptr[i] == '\0')
            abort();
}

/* check_refusal - what a decoder's refusal r of in must mean. */
static void check_refusal(struct str in, enum sasl_result r, size_t b64_max)
{
    static unsigned char big[1 << 16];
    size_t n;
    bool is_b64 = in.len <= sizeof(big) && base64_strict_decode(in, big, sizeof(big), &n);
    switch (r) {
    case SASL_CANCEL:
        if (!str_eq_cstr(in, "*"))
            abort();
        break;
    case SASL_BAD_BASE64:
        if (is_b64 || in.len > b64_max)
            abort();
        break;
    case SASL_MALFORMED:
        if (!is_b64 && in.len <= b64_max)
            abort();
        break;
    default:
        abort();
    }
}

static void check_plain(struct str in)
{
    static struct sasl_plain p;
    enum sasl_result r = sasl_plain_decode(in, &p);
    if (r != SASL_OK) {
        check_refusal(in, r, SASL_PLAIN_B64_MAX);
        if (!all_zero(&p, sizeof(p)))
            abort();
        return;
    }
    if (str_eq_cstr(in, "*"))
        abort();
    check_field(&p.authzid, 0);
    check_field(&p.user, 1);
    check_field(&p.password, 1);
    bool other = p.authzid.len != 0 && (p.authzid.len != p.user.len ||
                                        memcmp(p.authzid.bytes, p.user.bytes, p.user.len) != 0);
    if (p.authzid_other != other)
        abort();
    unsigned char raw[SASL_PLAIN_MAX];
    size_t n = 0;
    memcpy(raw, p.authzid.bytes, p.authzid.len);
    n += p.authzid.len;
    raw[n++] = 0;
    memcpy(raw + n, p.user.bytes, p.user.len);
    n += p.user.len;
    raw[n++] = 0;
    memcpy(raw + n, p.password.bytes, p.password.len);
    n += p.password.len;
    char back[SASL_PLAIN_B64_MAX];
    size_t blen;
    if (!base64_strict_encode(raw, n, back, sizeof(back), &blen) ||
        !str_eq(in, str_make(back, blen)))
        abort();
}

static void check_login(struct str in)
{
    static struct sasl_field f;
    enum sasl_result r = sasl_login_decode(in, &f);
    if (r != SASL_OK) {
        check_refusal(in, r, SASL_LOGIN_B64_MAX);
        if (!all_zero(&f, sizeof(f)))
            abort();
        return;
    }
    check_field(&f, 1);
    char back[SASL_LOGIN_B64_MAX];
    size_t blen;
    if (!base64_strict_encode((const unsigned char *)f.bytes, f.len, back, sizeof(back), &blen) ||
        !str_eq(in, str_make(back, blen)))
        abort();
}

/* check_raw - the input as decoded bytes, encoded for each decoder. */
static void check_raw(const uint8_t *data, size_t size)
{
    static char b64[BASE64_ENCODED_LEN(4096)];
    size_t len;
    if (size > 4096 || !base64_strict_encode(data, size, b64, sizeof(b64), &len))
        return;
    struct str s = str_make(b64, len);

    bool plain_ok = false;
    const uint8_t *nul1 = memchr(data, 0, size);
    const uint8_t *nul2 = nul1 ? memchr(nul1 + 1, 0, size - (size_t)(nul1 - data) - 1) : NULL;
    if (nul2) {
        size_t a = (size_t)(nul1 - data), u = (size_t)(nul2 - nul1) - 1;
        size_t p = size - a - u - 2;
        plain_ok =
            field_rule(data, a, 0) && field_rule(nul1 + 1, u, 1) && field_rule(nul2 + 1, p, 1);
    }
    static struct sasl_plain pl;
    enum sasl_result r = sasl_plain_decode(s, &pl);
    if ((r == SASL_OK) != plain_ok || (r != SASL_OK && r != SASL_MALFORMED))
        abort();

    static struct sasl_field f;
    r = sasl_login_decode(s, &f);
    if ((r == SASL_OK) != field_rule(data, size, 1) || (r != SASL_OK && r != SASL_MALFORMED))
        abort();
    if (r == SASL_OK && (f.len != size || memcmp(f.bytes, data, size) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct str in = str_make((const char *)data, size);
    check_auth(in);
    check_plain(in);
    check_login(in);
    check_raw(data, size);
    return 0;
}
