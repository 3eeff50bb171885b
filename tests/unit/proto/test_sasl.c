/* Unit tests for proto/sasl: the AUTH argument (RFC 4954 4), PLAIN (RFC
 * 4616) and LOGIN responses, "*", every refusal and the 255/256 bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/sasl.h"

#define S(lit) str_make((lit), sizeof(lit) - 1)

/* enc - the base64 of raw[0..n) in out (NUL-terminated), as a view. */
static struct str enc(const void *raw, size_t n, char *out, size_t cap)
{
    size_t len;
    assert_true(base64_strict_encode(raw, n, out, cap - 1, &len));
    out[len] = '\0';
    return str_make(out, len);
}

static void test_auth_arg(void **state)
{
    (void)state;
    struct sasl_auth a;
    assert_true(sasl_auth_parse(S("PLAIN"), &a));
    assert_int_equal(a.mech, SASL_MECH_PLAIN);
    assert_false(a.has_initial);
    assert_true(str_eq_cstr(a.mechanism, "PLAIN"));

    /* RFC 4954 4 example */
    assert_true(sasl_auth_parse(S("PLAIN dGVzdAB0ZXN0ADEyMzQ="), &a));
    assert_int_equal(a.mech, SASL_MECH_PLAIN);
    assert_true(a.has_initial);
    assert_true(str_eq_cstr(a.initial, "dGVzdAB0ZXN0ADEyMzQ="));

    assert_true(sasl_auth_parse(S("login"), &a));
    assert_int_equal(a.mech, SASL_MECH_LOGIN);
    assert_true(str_eq_cstr(a.mechanism, "login"));
    assert_true(sasl_auth_parse(S("Plain ="), &a));
    assert_int_equal(a.mech, SASL_MECH_PLAIN);
    assert_true(a.has_initial);
    assert_int_equal(a.initial.len, 0);
    assert_true(sasl_auth_parse(S("LOGIN dGlt"), &a));
    assert_int_equal(a.mech, SASL_MECH_LOGIN);
    assert_true(str_eq_cstr(a.initial, "dGlt"));

    assert_true(sasl_auth_parse(S("CRAM-MD5"), &a));
    assert_int_equal(a.mech, SASL_MECH_OTHER);
    assert_true(sasl_auth_parse(S("SCRAM-SHA-256-PLUS biws"), &a));
    assert_int_equal(a.mech, SASL_MECH_OTHER);
    assert_true(sasl_auth_parse(S("X_1 ="), &a));
    assert_int_equal(a.mech, SASL_MECH_OTHER);
    /* 20 characters is the longest name (RFC 4422 3.1) */
    assert_true(sasl_auth_parse(S("ABCDEFGHIJKLMNOPQRST"), &a));
    assert_int_equal(a.mech, SASL_MECH_OTHER);
    /* a prefix of PLAIN is not PLAIN */
    assert_true(sasl_auth_parse(S("PLAINX"), &a));
    assert_int_equal(a.mech, SASL_MECH_OTHER);

    assert_string_equal(sasl_mech_name(SASL_MECH_PLAIN), "PLAIN");
    assert_string_equal(sasl_mech_name(SASL_MECH_OTHER), "OTHER");
    assert_string_equal(sasl_mech_name((enum sasl_mech)9), "?");
}

static void test_auth_arg_refused(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        " PLAIN",
        "PLAIN ",       /* SP without a response */
        "PLAIN  dGlt",  /* two blanks */
        "PLAIN\tdGlt",  /* a tab */
        "PLAIN dGlt ",  /* a blank after the response */
        "PLAIN dGlt x", /* a third word */
        "PLAIN dG-t",   /* not a base64 character */
        "PLAIN dGlt\r", /* line end */
        "PL.AIN",       /* not a name character */
        "PLAIN*",
        "ABCDEFGHIJKLMNOPQRSTU", /* 21 characters */
        "=",
    };
    struct sasl_auth a;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&a, 0x55, sizeof(a));
        assert_false(sasl_auth_parse(str_from_cstr(bad[i]), &a));
        assert_int_equal(a.mechanism.len, 0);
        assert_false(a.has_initial);
    }
    assert_false(sasl_auth_parse(str_make("PLAIN\0", 6), &a));
    assert_false(sasl_auth_parse(str_make("PLAIN d\0lt", 10), &a));
}

static void test_cancel(void **state)
{
    (void)state;
    assert_true(sasl_is_cancel(S("*")));
    assert_false(sasl_is_cancel(S("* ")));
    assert_false(sasl_is_cancel(S("**")));
    assert_false(sasl_is_cancel(S("")));
    struct sasl_plain p;
    struct sasl_field f;
    assert_int_equal(sasl_plain_decode(S("*"), &p), SASL_CANCEL);
    assert_int_equal(sasl_login_decode(S("*"), &f), SASL_CANCEL);
    assert_string_equal(sasl_result_name(SASL_CANCEL), "CANCEL");
    assert_string_equal(sasl_result_name((enum sasl_result)9), "?");
}

static void test_plain_rfc4616(void **state)
{
    (void)state;
    struct sasl_plain p;
    /* RFC 4616 4: no authzid */
    assert_int_equal(sasl_plain_decode(S("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"), &p), SASL_OK);
    assert_int_equal(p.authzid.len, 0);
    assert_string_equal(p.authzid.bytes, "");
    assert_string_equal(p.user.bytes, "tim");
    assert_int_equal(p.user.len, 3);
    assert_string_equal(p.password.bytes, "tanstaaftanstaaf");
    assert_int_equal(p.password.len, 16);
    assert_false(p.authzid_other);

    /* RFC 4616 4: Kurt asks to act as Ursel */
    assert_int_equal(sasl_plain_decode(S("VXJzZWwAS3VydAB4aXBqM3BsbXE="), &p), SASL_OK);
    assert_string_equal(p.authzid.bytes, "Ursel");
    assert_string_equal(p.user.bytes, "Kurt");
    assert_string_equal(p.password.bytes, "xipj3plmq");
    assert_true(p.authzid_other);

    /* RFC 4954 4: authzid equal to authcid is no such request */
    assert_int_equal(sasl_plain_decode(S("dGVzdAB0ZXN0ADEyMzQ="), &p), SASL_OK);
    assert_string_equal(p.authzid.bytes, "test");
    assert_string_equal(p.user.bytes, "test");
    assert_string_equal(p.password.bytes, "1234");
    assert_false(p.authzid_other);
    /* one differing byte, and a prefix, are other identities */
    char b[64];
    assert_int_equal(sasl_plain_decode(enc("tesT\0test\0pw", 12, b, sizeof(b)), &p), SASL_OK);
    assert_true(p.authzid_other);
    assert_int_equal(sasl_plain_decode(enc("tes\0test\0pw", 11, b, sizeof(b)), &p), SASL_OK);
    assert_true(p.authzid_other);
    /* bytes from 0x80 (UTF-8) and other controls are the user's */
    assert_int_equal(sasl_plain_decode(enc("\0j\xc3\xbcrg\0p\tw", 10, b, sizeof(b)), &p), SASL_OK);
    assert_string_equal(p.user.bytes, "j\xc3\xbcrg");
    assert_string_equal(p.password.bytes, "p\tw");
}

static void test_plain_refused(void **state)
{
    (void)state;
    static const struct {
        const char *b64;
        enum sasl_result want;
    } v[] = {
        {"", SASL_MALFORMED},                              /* "=" as the initial response */
        {"AHRpbQ==", SASL_MALFORMED},                      /* "\0tim": one NUL */
        {"dGlt", SASL_MALFORMED},                          /* no NUL */
        {"AABwdw==", SASL_MALFORMED},                      /* "\0\0pw": empty authcid */
        {"AHRpbQA=", SASL_MALFORMED},                      /* "\0tim\0": empty password */
        {"AHRpbQBwdwB4", SASL_MALFORMED},                  /* a third NUL */
        {"YQBiAGMA", SASL_MALFORMED},                      /* "a\0b\0c\0" */
        {"VXJzZWwAAHhpcGozcGxtcQ==", SASL_MALFORMED},      /* authzid, empty authcid */
        {"AHRpDW0AcHc=", SASL_MALFORMED},                  /* CR in the authcid */
        {"AHRpbQBwCnc=", SASL_MALFORMED},                  /* LF in the password */
        {"AHRpbQB0YW5zdGFhZnRhbnN0YWF", SASL_BAD_BASE64},  /* short group */
        {"VXJzZWwAS3VydAB4aXBqM3BsbXF=", SASL_BAD_BASE64}, /* unused bits set */
        {"AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n", SASL_BAD_BASE64},
        {" AHRpbQB0YW5zdGFhZnRhbnN0YWFm", SASL_BAD_BASE64},
        {"AHRpbQB0YW5zdGFhZnRhbnN0YWFm=", SASL_BAD_BASE64},
        {"=", SASL_BAD_BASE64}, /* the session maps "=" to "" itself */
        {"* ", SASL_BAD_BASE64},
    };
    struct sasl_plain p;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        memset(&p, 0x55, sizeof(p));
        assert_int_equal(sasl_plain_decode(str_from_cstr(v[i].b64), &p), v[i].want);
        assert_int_equal(p.user.len, 0);
        assert_int_equal(p.password.len, 0);
        assert_int_equal(p.password.bytes[0], 0);
        assert_false(p.authzid_other);
    }
}

/* plain - the PLAIN message authzid NUL user NUL password, sizes given,
 * each field filled with its own letter; its base64 in b64. */
static struct str plain(size_t a, size_t u, size_t pw, char *b64, size_t cap)
{
    unsigned char raw[1024];
    size_t n = 0;
    memset(raw + n, 'a', a);
    n += a;
    raw[n++] = '\0';
    memset(raw + n, 'u', u);
    n += u;
    raw[n++] = '\0';
    memset(raw + n, 'p', pw);
    n += pw;
    return enc(raw, n, b64, cap);
}

static void test_plain_bounds(void **state)
{
    (void)state;
    static char b64[2048];
    struct sasl_plain p;
    struct str longest = plain(255, 255, 255, b64, sizeof(b64));
    assert_int_equal(longest.len, SASL_PLAIN_B64_MAX);
    assert_int_equal(sasl_plain_decode(longest, &p), SASL_OK);
    assert_int_equal(p.authzid.len, 255);
    assert_int_equal(p.user.len, 255);
    assert_int_equal(p.password.len, 255);
    assert_int_equal(strlen(p.password.bytes), 255);
    assert_true(p.authzid_other);
    assert_int_equal(sasl_plain_decode(plain(0, 1, 1, b64, sizeof(b64)), &p), SASL_OK);
    assert_int_equal(sasl_plain_decode(plain(256, 1, 1, b64, sizeof(b64)), &p), SASL_MALFORMED);
    assert_int_equal(sasl_plain_decode(plain(0, 256, 1, b64, sizeof(b64)), &p), SASL_MALFORMED);
    assert_int_equal(sasl_plain_decode(plain(0, 1, 256, b64, sizeof(b64)), &p), SASL_MALFORMED);
    assert_int_equal(p.user.len, 0);
    /* longer than any message: refused before decoding */
    assert_int_equal(sasl_plain_decode(plain(255, 255, 256, b64, sizeof(b64)), &p), SASL_MALFORMED);
    assert_int_equal(sasl_plain_decode(plain(0, 255, 600, b64, sizeof(b64)), &p), SASL_MALFORMED);
}

static void test_login(void **state)
{
    (void)state;
    struct sasl_field f;
    assert_int_equal(sasl_login_decode(S("dGlt"), &f), SASL_OK);
    assert_string_equal(f.bytes, "tim");
    assert_int_equal(f.len, 3);
    /* the server's own prompts decode as fields too */
    assert_int_equal(sasl_login_decode(S("VXNlcm5hbWU6"), &f), SASL_OK);
    assert_string_equal(f.bytes, "Username:");
    assert_int_equal(sasl_login_decode(S("UGFzc3dvcmQ6"), &f), SASL_OK);
    assert_string_equal(f.bytes, "Password:");

    static const struct {
        const char *b64;
        enum sasl_result want;
    } v[] = {
        {"", SASL_MALFORMED},         /* empty */
        {"dGkAbQ==", SASL_MALFORMED}, /* NUL */
        {"dGkNCm0=", SASL_MALFORMED}, /* CR LF */
        {"cHcK", SASL_MALFORMED},     /* trailing LF */
        {"dGl", SASL_BAD_BASE64},     {"dGlu=", SASL_BAD_BASE64},
        {"dGlt ", SASL_BAD_BASE64},   {"dG\nlt", SASL_BAD_BASE64},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        memset(&f, 0x55, sizeof(f));
        assert_int_equal(sasl_login_decode(str_from_cstr(v[i].b64), &f), v[i].want);
        assert_int_equal(f.len, 0);
        assert_int_equal(f.bytes[0], 0);
    }

    char raw[300], b64[512];
    memset(raw, 'x', sizeof(raw));
    struct str s = enc(raw, 255, b64, sizeof(b64));
    assert_int_equal(s.len, SASL_LOGIN_B64_MAX);
    assert_int_equal(sasl_login_decode(s, &f), SASL_OK);
    assert_int_equal(f.len, 255);
    assert_int_equal(strlen(f.bytes), 255);
    assert_int_equal(sasl_login_decode(enc(raw, 256, b64, sizeof(b64)), &f), SASL_MALFORMED);
    assert_int_equal(f.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_arg),      cmocka_unit_test(test_auth_arg_refused),
        cmocka_unit_test(test_cancel),        cmocka_unit_test(test_plain_rfc4616),
        cmocka_unit_test(test_plain_refused), cmocka_unit_test(test_plain_bounds),
        cmocka_unit_test(test_login),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
