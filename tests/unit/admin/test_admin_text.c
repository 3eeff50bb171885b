/* Unit tests for the console's text table (src/admin/admin_text.def) and
 * its HTML helpers (src/admin/admin_page.c): every text exists in both
 * languages, a printf text has the same conversions in the same order in
 * English and Japanese (a swapped %s would print a path where a service
 * name belongs, a %u against a string would crash), and html_text escapes
 * what a log or a form may hold and never passes invalid UTF-8 on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "admin/admin_page.h"
#include "admin/admin_text.h"

/* conversions - the conversion letters of a printf format ("%s %llu" ->
 * "sl"), "%%" skipped. */
static void conversions(const char *fmt, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p == '%')
            continue;
        while (*p && strchr("0123456789.-+ #*$", *p))
            p++;
        while (*p && strchr("hlLqjzt", *p)) {
            if (n + 1 < cap)
                out[n++] = *p;
            p++;
        }
        if (*p && n + 1 < cap)
            out[n++] = *p;
        if (!*p)
            break;
    }
    out[n] = 0;
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xe0) == 0xc0 ? 2
                     : (*p & 0xf0) == 0xe0 ? 3
                     : (*p & 0xf8) == 0xf0 ? 4
                                           : 0;
        if (len == 0)
            return false;
        for (size_t i = 1; i < len; i++)
            if ((p[i] & 0xc0) != 0x80)
                return false;
        p += len;
    }
    return true;
}

static void test_every_text_in_both_languages(void **state)
{
    (void)state;
    for (int id = 0; id < ADMIN_TEXT_COUNT; id++) {
        const char *en = admin_text(ADMIN_LANG_EN, (enum admin_text_id)id);
        const char *ja = admin_text(ADMIN_LANG_JA, (enum admin_text_id)id);
        assert_non_null(en);
        assert_non_null(ja);
        assert_true(en[0] != 0);
        assert_true(ja[0] != 0);
        assert_true(utf8_valid(en));
        assert_true(utf8_valid(ja));
        char ce[32], cj[32];
        conversions(en, ce, sizeof(ce));
        conversions(ja, cj, sizeof(cj));
        if (strcmp(ce, cj) != 0)
            fail_msg("text %d: English \"%s\" has conversions \"%s\", Japanese \"%s\" \"%s\"", id,
                     en, ce, ja, cj);
        assert_null(strstr(en, "$")); /* no positional arguments: the order is the contract */
        assert_null(strstr(ja, "$"));
    }
}

static void test_lang_parse(void **state)
{
    (void)state;
    enum admin_lang l;
    assert_true(admin_lang_parse("ja", &l));
    assert_int_equal(l, ADMIN_LANG_JA);
    assert_true(admin_lang_parse("EN", &l));
    assert_int_equal(l, ADMIN_LANG_EN);
    assert_false(admin_lang_parse("fr", &l));
    assert_false(admin_lang_parse(NULL, &l));
    assert_string_equal(admin_lang_code(ADMIN_LANG_JA), "ja");
}

static const char *escaped(const char *in, size_t n)
{
    static char mem[1024];
    struct buf b;
    buf_init(&b, mem, sizeof(mem) - 1);
    html_text(&b, in, n);
    mem[buf_len(&b)] = 0;
    return mem;
}

static void test_html_text(void **state)
{
    (void)state;
    assert_string_equal(escaped("<a href=\"x\">&'", 14), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    assert_string_equal(escaped("日本語", strlen("日本語")), "日本語");
    /* Invalid UTF-8 (a lone continuation byte, an overlong '/', a
     * surrogate) and control bytes become U+FFFD, one per byte. */
    assert_string_equal(escaped("a\x80z", 3), "a\xef\xbf\xbdz");
    assert_string_equal(escaped("\xc0\xaf", 2), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(escaped("\xed\xa0\x80", 3), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(escaped("a\x01"
                                "b\x7f",
                                4),
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd");
    assert_string_equal(escaped("\t\r\n", 3), "\t\r\n");
    /* A NUL inside the length is not the end of the text. */
    assert_string_equal(escaped("a\0b", 3), "a\xef\xbf\xbd"
                                            "b");
    /* A sequence cut by the end of the text. */
    assert_string_equal(escaped("\xe6\x97", 2), "\xef\xbf\xbd\xef\xbf\xbd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_text_in_both_languages),
        cmocka_unit_test(test_lang_parse),
        cmocka_unit_test(test_html_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
