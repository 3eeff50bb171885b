/* Unit tests for proto/digest_param: one parameter of an
 * "Authorization: Digest ..." header (RFC 7616 §3.4). The console finds
 * the opaque it issued this way and ties the session to it, so a header a
 * browser sends must give its value exactly, and anything malformed, an
 * over-long value or another scheme must give false with nothing read or
 * written past the buffers. Headers are heap copies of exactly their
 * length without a NUL (ASan sees a read past the end); the output buffer
 * is filled with a marker first and checked beyond the terminator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/digest_param.h"

#define MARK 0x5a

/* get - digest_param on an exact copy of header; out is cap bytes of a
 * larger buffer whose tail must stay untouched. */
static bool get_n(const char *header, size_t len, const char *name, char *out, size_t cap)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, header, len);
    char area[512];
    assert_true(cap <= sizeof(area));
    memset(area, MARK, sizeof(area));
    bool ok = digest_param(copy, len, name, area, cap);
    free(copy);
    for (size_t i = cap; i < sizeof(area); i++)
        assert_int_equal((unsigned char)area[i], MARK);
    if (ok) {
        size_t n = strnlen(area, cap);
        assert_true(n < cap); /* NUL-terminated inside cap */
    }
    if (cap > 0)
        memcpy(out, area, cap);
    return ok;
}

static bool get(const char *header, const char *name, char *out, size_t cap)
{
    return get_n(header, strlen(header), name, out, cap);
}

static void expect(const char *header, const char *name, const char *want)
{
    char out[256];
    if (!get(header, name, out, sizeof(out)))
        fail_msg("%s: not found in [%s]", name, header);
    assert_string_equal(out, want);
}

static void refuse(const char *header, const char *name)
{
    char out[256];
    if (get(header, name, out, sizeof(out)))
        fail_msg("%s: found [%s] in [%s], expected false", name, out, header);
}

/* What curl --digest and Firefox send (captured from curl 7.88 against
 * libmicrohttpd, the opaque being the console's 32 hex digits). */
static const char CURL[] =
    "Digest username=\"admin\", realm=\"fsigk\", "
    "nonce=\"4e1b1f3a9f6c0e5d2b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b6543210a\", "
    "uri=\"/settings/http?x=1\", cnonce=\"ZTk0YjI2NDk3Y2M4NjQ3\", nc=00000001, qop=auth, "
    "response=\"0a4f113b5a1e7c4b3c2d1e0f9a8b7c6d\", opaque=\"0123456789abcdef0123456789abcdef\", "
    "algorithm=MD5";

static void test_browser_headers(void **state)
{
    (void)state;
    expect(CURL, "opaque", "0123456789abcdef0123456789abcdef");
    expect(CURL, "username", "admin");
    expect(CURL, "uri", "/settings/http?x=1");
    /* token values (RFC 7616: nc, qop, algorithm are unquoted) */
    expect(CURL, "nc", "00000001");
    expect(CURL, "qop", "auth");
    expect(CURL, "algorithm", "MD5");
    /* names compare case-insensitively, the scheme too */
    expect(CURL, "OPAQUE", "0123456789abcdef0123456789abcdef");
    expect("dIgEsT Opaque=\"x\"", "opaque", "x");
    /* the first parameter; blanks, tabs and empty list elements around */
    expect("Digest opaque=\"a\"", "opaque", "a");
    expect("  Digest\topaque = \"b\" ,", "opaque", "b");
    expect("Digest ,, realm=\"r\" ,,\t, opaque=\"c\"", "opaque", "c");
    /* the first of two */
    expect("Digest opaque=\"first\", opaque=\"second\"", "opaque", "first");
    /* a prefix of a longer name is not the name, nor the reverse */
    expect("Digest opaque2=\"no\", opaque=\"yes\"", "opaque", "yes");
    expect("Digest opaq=\"no\", opaque=\"yes\"", "opaque", "yes");
    refuse("Digest opaque2=\"no\"", "opaque");
}

static void test_quoted_strings(void **state)
{
    (void)state;
    /* quoted-pair escapes are undone */
    expect("Digest username=\"a\\\"b\\\\c\\d\"", "username", "a\"b\\cd");
    /* commas, '=' and blanks inside quotes belong to the value */
    expect("Digest uri=\"/a?b=c, d\", opaque=\"o\"", "uri", "/a?b=c, d");
    expect("Digest uri=\"/a?b=c, d\", opaque=\"o\"", "opaque", "o");
    /* an empty value */
    expect("Digest opaque=\"\"", "opaque", "");
    /* UTF-8 (a user name in Japanese) as it is */
    expect("Digest username=\"\xe7\xae\xa1\xe7\x90\x86\"", "username", "\xe7\xae\xa1\xe7\x90\x86");
    /* unterminated quotes, a trailing lone backslash */
    refuse("Digest opaque=\"abc", "opaque");
    refuse("Digest opaque=\"abc\\\"", "opaque");
    refuse("Digest opaque=\"abc\\", "opaque");
    refuse("Digest realm=\"abc, opaque=\"x\"", "opaque");
    /* control bytes, escaped or not, even in another parameter */
    refuse("Digest opaque=\"a\tb\"", "opaque");
    refuse("Digest opaque=\"a\\\rb\"", "opaque");
    refuse("Digest opaque=\"a\x7f\"", "opaque");
    refuse("Digest realm=\"a\nb\", opaque=\"x\"", "opaque");
    /* a NUL inside the header (len counts it) */
    static const char nul[] = "Digest opaque=\"a\0b\"";
    char out[32];
    assert_false(get_n(nul, sizeof(nul) - 1, "opaque", out, sizeof(out)));
    static const char nul2[] = "Digest realm=\"r\"\0, opaque=\"x\"";
    assert_false(get_n(nul2, sizeof(nul2) - 1, "opaque", out, sizeof(out)));
}

static void test_malformed_lists(void **state)
{
    (void)state;
    /* other schemes, no scheme, a scheme glued to its parameters */
    refuse("Basic YWRtaW46YWRtaW4=", "opaque");
    refuse("Bearer opaque=\"x\"", "opaque");
    refuse("opaque=\"x\"", "opaque");
    refuse("Digestopaque=\"x\"", "opaque");
    refuse("Digest,opaque=\"x\"", "opaque");
    refuse("Digest", "opaque");
    refuse("Digest ", "opaque");
    refuse("Diges", "opaque");
    refuse("", "opaque");
    /* no '=' or no value */
    refuse("Digest opaque", "opaque");
    refuse("Digest opaque=", "opaque");
    refuse("Digest opaque= , realm=\"r\"", "opaque");
    refuse("Digest =\"x\", opaque=\"y\"", "opaque");
    /* two values glued together; junk after a value */
    refuse("Digest realm=\"r\"opaque=\"x\"", "opaque");
    refuse("Digest realm=r opaque=\"x\"", "opaque");
    refuse("Digest opaque=abc\"def\"", "opaque");
    refuse("Digest nc=00000001;qop=auth, opaque=\"x\"", "opaque");
    /* ... after the parameter too: the whole list must be well-formed */
    refuse("Digest opaque=\"x\" junk", "opaque");
    refuse("Digest opaque=\"x\"junk", "opaque");
    refuse("Digest opaque=x, realm", "opaque");
    refuse("Digest opaque=x, realm=\"unterminated", "opaque");
    refuse("Digest opaque=x, realm=\"a\x01\"", "opaque");
    /* a second one of the same name does not count, even too long */
    char h[400];
    snprintf(h, sizeof(h), "Digest opaque=\"ok\", opaque=\"%0300d\"", 7);
    expect(h, "opaque", "ok");
    /* a name that is not a token */
    refuse("Digest op(aque=\"x\"", "op(aque");
    refuse("Digest r@alm=\"x\", opaque=\"y\"", "opaque");
    /* the parameter is not there at all */
    refuse(CURL, "stale");
    refuse(CURL, "");
}

static void test_bounds(void **state)
{
    (void)state;
    char out[64];
    /* "abcd" needs 5 bytes with its NUL */
    assert_true(get("Digest opaque=\"abcd\"", "opaque", out, 5));
    assert_string_equal(out, "abcd");
    assert_false(get("Digest opaque=\"abcd\"", "opaque", out, 4));
    assert_true(get("Digest opaque=abcd", "opaque", out, 5));
    assert_string_equal(out, "abcd");
    assert_false(get("Digest opaque=abcd", "opaque", out, 4));
    /* escapes count once: a\"b is 3 bytes */
    assert_true(get("Digest opaque=\"a\\\"b\"", "opaque", out, 4));
    assert_string_equal(out, "a\"b");
    assert_false(get("Digest opaque=\"a\\\"b\"", "opaque", out, 3));
    /* an empty value fits in one byte; nothing fits in none */
    assert_true(get("Digest opaque=\"\"", "opaque", out, 1));
    assert_string_equal(out, "");
    assert_false(get("Digest opaque=\"\"", "opaque", out, 0));
    /* a long value of another parameter does not matter */
    char h[400];
    snprintf(h, sizeof(h), "Digest nonce=\"%0300d\", opaque=\"ok\"", 7);
    assert_true(get(h, "opaque", out, 3));
    assert_string_equal(out, "ok");
    /* the opaque the console issues (32 hex digits) in its 48-byte buffer,
     * and one far too long for it */
    assert_true(get(CURL, "opaque", out, 48));
    snprintf(h, sizeof(h), "Digest opaque=\"%0100d\"", 1);
    assert_false(get(h, "opaque", out, 48));
    /* the header ends exactly after the value (no NUL after it) */
    static const char cut[] = "Digest opaque=\"xy\", realm=\"r\"";
    assert_true(get_n(cut, 18, "opaque", out, sizeof(out)));
    assert_string_equal(out, "xy");
    assert_false(get_n(cut, 17, "opaque", out, sizeof(out))); /* no closing quote */
    assert_true(get_n("Digest opaque=xyz", 16, "opaque", out, sizeof(out)));
    assert_string_equal(out, "xy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_browser_headers),
        cmocka_unit_test(test_quoted_strings),
        cmocka_unit_test(test_malformed_lists),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
