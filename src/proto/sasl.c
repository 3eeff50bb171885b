/* sasl - see sasl.h. */
#include "proto/sasl.h"

#include <string.h>

const char *sasl_mech_name(enum sasl_mech m)
{
    switch (m) {
    case SASL_MECH_PLAIN:
        return "PLAIN";
    case SASL_MECH_LOGIN:
        return "LOGIN";
    case SASL_MECH_OTHER:
        return "OTHER";
    }
    return "?";
}

const char *sasl_result_name(enum sasl_result r)
{
    switch (r) {
    case SASL_OK:
        return "OK";
    case SASL_CANCEL:
        return "CANCEL";
    case SASL_BAD_BASE64:
        return "BAD_BASE64";
    case SASL_MALFORMED:
        return "MALFORMED";
    }
    return "?";
}

static bool is_mech_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static bool is_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

bool sasl_auth_parse(struct str arg, struct sasl_auth *out)
{
    memset(out, 0, sizeof(*out));
    size_t i = 0;
    while (i < arg.len && is_mech_char(arg.ptr[i]))
        i++;
    if (i == 0 || i > SASL_MECH_MAX)
        goto bad;
    struct str mech = str_make(arg.ptr, i);
    if (i < arg.len) {
        if (arg.ptr[i] != ' ' || i + 1 == arg.len)
            goto bad;
        struct str ir = str_make(arg.ptr + i + 1, arg.len - i - 1);
        for (size_t k = 0; k < ir.len; k++)
            if (!is_b64_char(ir.ptr[k]))
                goto bad;
        out->has_initial = true;
        /* RFC 4954 4: "=" is a present but empty initial response. */
        out->initial = str_eq_cstr(ir, "=") ? str_make(ir.ptr, 0) : ir;
    }
    out->mechanism = mech;
    if (str_caseeq_cstr(mech, "PLAIN"))
        out->mech = SASL_MECH_PLAIN;
    else if (str_caseeq_cstr(mech, "LOGIN"))
        out->mech = SASL_MECH_LOGIN;
    else
        out->mech = SASL_MECH_OTHER;
    return true;
bad:
    memset(out, 0, sizeof(*out));
    return false;
}

bool sasl_is_cancel(struct str line)
{
    return str_eq_cstr(line, "*");
}

/* field_ok - a field's bytes: min..SASL_FIELD_MAX of them, no NUL, CR, LF. */
static bool field_ok(const unsigned char *p, size_t n, size_t min)
{
    if (n < min || n > SASL_FIELD_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '\0' || p[i] == '\r' || p[i] == '\n')
            return false;
    return true;
}

static void field_set(struct sasl_field *f, const unsigned char *p, size_t n)
{
    memcpy(f->bytes, p, n);
    f->bytes[n] = '\0';
    f->len = n;
}

/* decode - the common first step: "*", the length bound, strict base64
 * into tmp[0..cap). */
static enum sasl_result decode(struct str b64, size_t b64_max, unsigned char *tmp, size_t cap,
                               size_t *n)
{
    *n = 0;
    if (sasl_is_cancel(b64))
        return SASL_CANCEL;
    if (b64.len > b64_max)
        return SASL_MALFORMED;
    if (!base64_strict_decode(b64, tmp, cap, n))
        return SASL_BAD_BASE64;
    return SASL_OK;
}

enum sasl_result sasl_plain_decode(struct str b64, struct sasl_plain *out)
{
    memset(out, 0, sizeof(*out));
    unsigned char tmp[BASE64_DECODED_MAX(SASL_PLAIN_B64_MAX)];
    size_t n;
    enum sasl_result r = decode(b64, SASL_PLAIN_B64_MAX, tmp, sizeof(tmp), &n);
    if (r != SASL_OK)
        goto out;
    r = SASL_MALFORMED;
    const unsigned char *nul1 = memchr(tmp, '\0', n);
    if (!nul1)
        goto out;
    size_t a = (size_t)(nul1 - tmp);
    const unsigned char *nul2 = memchr(nul1 + 1, '\0', n - a - 1);
    if (!nul2)
        goto out;
    size_t u = (size_t)(nul2 - nul1) - 1;
    size_t p = n - a - u - 2;
    /* field_ok refuses a third NUL inside the password. */
    if (!field_ok(tmp, a, 0) || !field_ok(nul1 + 1, u, 1) || !field_ok(nul2 + 1, p, 1))
        goto out;
    field_set(&out->authzid, tmp, a);
    field_set(&out->user, nul1 + 1, u);
    field_set(&out->password, nul2 + 1, p);
    out->authzid_other = a != 0 && (a != u || memcmp(tmp, nul1 + 1, a) != 0);
    r = SASL_OK;
out:
    explicit_bzero(tmp, sizeof(tmp));
    return r;
}

enum sasl_result sasl_login_decode(struct str b64, struct sasl_field *out)
{
    memset(out, 0, sizeof(*out));
    unsigned char tmp[BASE64_DECODED_MAX(SASL_LOGIN_B64_MAX)];
    size_t n;
    enum sasl_result r = decode(b64, SASL_LOGIN_B64_MAX, tmp, sizeof(tmp), &n);
    if (r == SASL_OK && !field_ok(tmp, n, 1))
        r = SASL_MALFORMED;
    if (r == SASL_OK)
        field_set(out, tmp, n);
    explicit_bzero(tmp, sizeof(tmp));
    return r;
}
