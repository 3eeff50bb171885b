/* Unit tests for proto/htdigest: the console's password file
 * (conf/sekisho.htdigest, G-23). HA1 values are checked against RFC 2617's
 * worked example and MD5s computed independently (Python hashlib), lookups
 * against files with comments, CRLF, malformed and duplicate lines, and
 * every rewrite against the whole expected text (a changed byte anywhere
 * else fails it), then read back with htdigest_find. Inputs are heap
 * copies of exactly their length (ASan sees a read past the end). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/htdigest.h"

static void unhex(const char *hex, unsigned char out[16])
{
    for (size_t i = 0; i < 16; i++) {
        unsigned v = 0;
        assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (unsigned char)v;
    }
}

/* find - htdigest_find on a copy of exactly the text's bytes. */
static bool find_n(const char *text, size_t len, const char *user, const char *realm,
                   unsigned char ha1[16])
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    memset(ha1, 0xee, 16);
    bool ok = htdigest_find(copy, len, user, realm, ha1);
    free(copy);
    return ok;
}

static bool find(const char *text, const char *user, const char *realm, unsigned char ha1[16])
{
    return find_n(text, strlen(text), user, realm, ha1);
}

static void expect_found(const char *text, const char *user, const char *realm, const char *hex)
{
    unsigned char got[16], want[16];
    unhex(hex, want);
    if (!find(text, user, realm, got))
        fail_msg("%s:%s not found in\n%s", user, realm, text);
    assert_memory_equal(got, want, 16);
}

static const char FILE1[] = "# sekisho.htdigest\n"
                            "\n"
                            "admin:fsigk:7bcff3ad1a9ecdd7cd2f6c1172a074bc\n"
                            "Mufasa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9\r\n"
                            "admin:other:00000000000000000000000000000001\n"
                            "ope rator:fsigk:0123456789abcdef0123456789abcdef";

static void test_ha1(void **state)
{
    (void)state;
    unsigned char got[16], want[16];
    /* RFC 2617 3.5 */
    assert_true(htdigest_ha1("Mufasa", "testrealm@host.com", "Circle Of Life", got));
    unhex("939e7578ed9e3c518a452acee763bce9", want);
    assert_memory_equal(got, want, 16);
    /* the shipped account admin/admin in realm fsigk */
    assert_true(htdigest_ha1("admin", "fsigk", "admin", got));
    unhex("7bcff3ad1a9ecdd7cd2f6c1172a074bc", want);
    assert_memory_equal(got, want, 16);
    /* UTF-8 bytes as they are; an empty password */
    assert_true(htdigest_ha1("\xe3\x83\xa6\xe3\x83\xbc\xe3\x82\xb6", "fsigk",
                             "\xe3\x83\x91\xe3\x82\xb9", got));
    unhex("d786153a2926c7c8547e91f3fe38739d", want);
    assert_memory_equal(got, want, 16);
    assert_true(htdigest_ha1("u", "r", "", got));
    unhex("812a8f2a85863e9e1647da6133ea230d", want);
    assert_memory_equal(got, want, 16);
}

static void test_find(void **state)
{
    (void)state;
    unsigned char h[16];
    expect_found(FILE1, "admin", "fsigk", "7bcff3ad1a9ecdd7cd2f6c1172a074bc");
    expect_found(FILE1, "Mufasa", "testrealm@host.com", "939e7578ed9e3c518a452acee763bce9");
    expect_found(FILE1, "admin", "other", "00000000000000000000000000000001");
    /* blanks are part of a name; the last line needs no line end */
    expect_found(FILE1, "ope rator", "fsigk", "0123456789abcdef0123456789abcdef");
    /* exact, case-sensitive names; no prefixes */
    assert_false(find(FILE1, "Admin", "fsigk", h));
    assert_false(find(FILE1, "admin", "FSIGK", h));
    assert_false(find(FILE1, "admi", "fsigk", h));
    assert_false(find(FILE1, "admin", "fsig", h));
    assert_false(find(FILE1, "nobody", "fsigk", h));
    assert_false(find("", "admin", "fsigk", h));
    /* the first well-formed line wins */
    expect_found("a:r:11111111111111111111111111111111\na:r:22222222222222222222222222222222\n",
                 "a", "r", "11111111111111111111111111111111");
    /* invalid names are never found */
    assert_false(find(FILE1, "", "fsigk", h));
    assert_false(find(FILE1, "admin:fsigk", "7bcff3ad1a9ecdd7cd2f6c1172a074bc", h));
    assert_false(find(FILE1, NULL, "fsigk", h));
    assert_false(find(FILE1, "admin", NULL, h));
}

static void test_malformed_skipped(void **state)
{
    (void)state;
    unsigned char h[16];
    /* each of these lines is skipped; the good line after them is found */
    static const char *const bad[] = {
        "a:r:7BCFF3AD1A9ECDD7CD2F6C1172A074BC",  /* upper-case hex */
        "a:r:7bcff3ad1a9ecdd7cd2f6c1172a074b",   /* 31 digits */
        "a:r:7bcff3ad1a9ecdd7cd2f6c1172a074bcc", /* 33 */
        "a:r:7bcff3ad1a9ecdd7cd2f6c1172a074bg",  /* not hex */
        "a:r:7bcff3ad1a9ecdd7cd2f6c1172a074bc ", /* a trailing blank */
        "a:r:7bcff3ad1a9ecdd7cd2f6c1172a074bc:x",   "a:r", "a",
        "a:r:7bcff3ad1a9ecdd7cd2f6c1172a074bc\r\r", /* a CR before the CRLF */
        "# a:r:7bcff3ad1a9ecdd7cd2f6c1172a074bc",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "%s\nz:r:11111111111111111111111111111111\n", bad[i]);
        assert_false(find(text, "a", "r", h));
        expect_found(text, "z", "r", "11111111111111111111111111111111");
        char good[256];
        snprintf(good, sizeof(good), "%s\na:r:22222222222222222222222222222222\n", bad[i]);
        expect_found(good, "a", "r", "22222222222222222222222222222222");
    }
    /* control bytes in a name, a NUL in the line: skipped */
    const char nul[] =
        "a\0:r:11111111111111111111111111111111\na:r:22222222222222222222222222222222";
    unsigned char want[16];
    unhex("22222222222222222222222222222222", want);
    assert_true(find_n(nul, sizeof(nul) - 1, "a", "r", h));
    assert_memory_equal(h, want, 16);
    assert_false(find("a\x01:r:11111111111111111111111111111111\n", "a\x01", "r", h));
    /* a name of 256 bytes is not well-formed; 255 is */
    char big[600];
    memset(big, 'u', 255);
    snprintf(big + 255, sizeof(big) - 255, ":r:33333333333333333333333333333333\n");
    char user[257];
    memset(user, 'u', 255);
    user[255] = '\0';
    expect_found(big, user, "r", "33333333333333333333333333333333");
    memset(big, 'u', 256);
    snprintf(big + 256, sizeof(big) - 256, ":r:33333333333333333333333333333333\n");
    user[255] = 'u';
    user[256] = '\0';
    assert_false(find(big, user, "r", h));
}

static void test_names(void **state)
{
    (void)state;
    char n[300];
    memset(n, 'x', sizeof(n));
    n[255] = '\0';
    assert_true(htdigest_name_ok(n));
    n[255] = 'x';
    n[256] = '\0';
    assert_false(htdigest_name_ok(n));
    assert_true(htdigest_name_ok("a b@c.d-\xe3\x81\x82"));
    assert_false(htdigest_name_ok(""));
    assert_false(htdigest_name_ok(NULL));
    assert_false(htdigest_name_ok("a:b"));
    assert_false(htdigest_name_ok("a\tb"));
    assert_false(htdigest_name_ok("a\x7f"));
    assert_false(htdigest_name_ok("a\n"));
}

/* set - htdigest_set on an exact copy; the new text, NUL-terminated. */
static char *set_n(const char *text, size_t len, const char *user, const char *realm,
                   const char *hex, size_t *outlen, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    unsigned char ha1[16];
    unhex(hex, ha1);
    struct buf out = {0};
    bool ok = htdigest_set(copy, len, user, realm, ha1, &out, err, errlen);
    free(copy);
    if (!ok) {
        assert_null(out.data);
        return NULL;
    }
    assert_int_equal(out.cap, buf_len(&out));
    char *r = malloc(buf_len(&out) + 1);
    assert_non_null(r);
    memcpy(r, buf_rptr(&out), buf_len(&out));
    r[buf_len(&out)] = '\0';
    *outlen = buf_len(&out);
    buf_fini(&out);
    return r;
}

static void expect_set(const char *text, const char *user, const char *realm, const char *hex,
                       const char *want)
{
    char err[HTDIGEST_ERR_MAX] = "";
    size_t n = 0;
    char *got = set_n(text, strlen(text), user, realm, hex, &n, err, sizeof(err));
    if (!got)
        fail_msg("refused: %s", err);
    if (n != strlen(want) || memcmp(got, want, n) != 0)
        fail_msg("---- got\n%s\n---- wanted\n%s\n----", got, want);
    expect_found(got, user, realm, hex); /* reads back */
    free(got);
}

static void test_set_replace(void **state)
{
    (void)state;
    static const char NEW[] = "5f4dcc3b5aa765d61d8327deb882cf99";
    /* the admin line of fsigk only; the CRLF line, the other realm, the
     * comment, the blank line and the last line without LF are kept */
    expect_set(FILE1, "admin", "fsigk", NEW,
               "# sekisho.htdigest\n"
               "\n"
               "admin:fsigk:5f4dcc3b5aa765d61d8327deb882cf99\n"
               "Mufasa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9\r\n"
               "admin:other:00000000000000000000000000000001\n"
               "ope rator:fsigk:0123456789abcdef0123456789abcdef");
    /* a CRLF line keeps its CRLF; a last line keeps having no line end */
    expect_set(FILE1, "Mufasa", "testrealm@host.com", NEW,
               "# sekisho.htdigest\n"
               "\n"
               "admin:fsigk:7bcff3ad1a9ecdd7cd2f6c1172a074bc\n"
               "Mufasa:testrealm@host.com:5f4dcc3b5aa765d61d8327deb882cf99\r\n"
               "admin:other:00000000000000000000000000000001\n"
               "ope rator:fsigk:0123456789abcdef0123456789abcdef");
    expect_set(FILE1, "ope rator", "fsigk", NEW,
               "# sekisho.htdigest\n"
               "\n"
               "admin:fsigk:7bcff3ad1a9ecdd7cd2f6c1172a074bc\n"
               "Mufasa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9\r\n"
               "admin:other:00000000000000000000000000000001\n"
               "ope rator:fsigk:5f4dcc3b5aa765d61d8327deb882cf99");
    /* duplicates: all of them, so no reader finds the old one; malformed
     * lines for the same user stay as they were */
    expect_set("a:r:11111111111111111111111111111111\n"
               "a:r:BAD\n"
               "a:r:22222222222222222222222222222222\n",
               "a", "r", NEW,
               "a:r:5f4dcc3b5aa765d61d8327deb882cf99\n"
               "a:r:BAD\n"
               "a:r:5f4dcc3b5aa765d61d8327deb882cf99\n");
}

static void test_set_append(void **state)
{
    (void)state;
    static const char NEW[] = "5f4dcc3b5aa765d61d8327deb882cf99";
    expect_set("", "admin", "fsigk", NEW, "admin:fsigk:5f4dcc3b5aa765d61d8327deb882cf99\n");
    expect_set("# c\n", "admin", "fsigk", NEW,
               "# c\nadmin:fsigk:5f4dcc3b5aa765d61d8327deb882cf99\n");
    /* no line end on the last line: one is added first */
    expect_set("x:fsigk:11111111111111111111111111111111", "admin", "fsigk", NEW,
               "x:fsigk:11111111111111111111111111111111\n"
               "admin:fsigk:5f4dcc3b5aa765d61d8327deb882cf99\n");
    /* CRLF files get CRLF; a file cut after a CR gets its LF */
    expect_set("# c\r\nx:fsigk:11111111111111111111111111111111", "admin", "fsigk", NEW,
               "# c\r\nx:fsigk:11111111111111111111111111111111\r\n"
               "admin:fsigk:5f4dcc3b5aa765d61d8327deb882cf99\r\n");
    expect_set("# c\r\n# d\r", "a", "r", NEW,
               "# c\r\n# d\r\na:r:5f4dcc3b5aa765d61d8327deb882cf99\r\n");
    /* another realm or only a malformed line: appended */
    expect_set("admin:other:11111111111111111111111111111111\nadmin:fsigk:XX\n", "admin", "fsigk",
               NEW,
               "admin:other:11111111111111111111111111111111\nadmin:fsigk:XX\n"
               "admin:fsigk:5f4dcc3b5aa765d61d8327deb882cf99\n");
    /* an appended line after a malformed one is the one found */
    unsigned char h[16];
    assert_false(find("admin:fsigk:XX\n", "admin", "fsigk", h));
}

static void test_set_refused(void **state)
{
    (void)state;
    char err[HTDIGEST_ERR_MAX] = "";
    size_t n;
    static const char H[] = "5f4dcc3b5aa765d61d8327deb882cf99";
    assert_null(set_n("", 0, "a:b", "r", H, &n, err, sizeof(err)));
    assert_string_equal(err, "the user name must be 1-255 bytes without ':' or control bytes");
    assert_null(set_n("", 0, "a", "", H, &n, err, sizeof(err)));
    assert_string_equal(err, "the realm must be 1-255 bytes without ':' or control bytes");
    assert_null(set_n("", 0, "a\n", "r", H, &n, err, sizeof(err)));
    assert_null(set_n("", 0, NULL, "r", H, &n, err, sizeof(err)));
    assert_null(set_n("", 0, "a", "r\x7f", H, &n, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ha1),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_malformed_skipped),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_set_replace),
        cmocka_unit_test(test_set_append),
        cmocka_unit_test(test_set_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
