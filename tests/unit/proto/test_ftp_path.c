/* Unit tests for proto/ftp_path: the absolute path of a file a client
 * names after CWD (FTP-11's URL) and the directory of a 257 reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/ftp_path.h"

static void test_resolve(void **state)
{
    (void)state;
    static const struct {
        const char *dir, *arg, *want;
    } cases[] = {
        {"/", "a.bin", "/a.bin"},
        {"/", "/a.bin", "/a.bin"},
        {"/incoming", "x.bin", "/incoming/x.bin"},
        {"/incoming", "/x.bin", "/x.bin"},
        {"/a/b", "..", "/a"},
        {"/a/b", "../../..", "/"},
        {"/a", "./b//c/./", "/a/b/c"},
        {"/", "", "/"},
        {"/a", "", "/a"},
        {"", "x", "/x"},
        {"/a", "b/../c", "/a/c"},
        {"/a", "...", "/a/..."},
        {"/a", "name with blanks ", "/a/name with blanks "},
    };
    char out[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(ftp_path_resolve(cases[i].dir, str_from_cstr(cases[i].arg), out, sizeof(out)));
        assert_string_equal(out, cases[i].want);
    }
    assert_true(ftp_path_resolve(NULL, str_from_cstr("a"), out, sizeof(out)));
    assert_string_equal(out, "/a");
}

static void test_resolve_bounded(void **state)
{
    (void)state;
    char out[8];
    assert_true(ftp_path_resolve("/", str_from_cstr("abcdef"), out, sizeof(out)));
    assert_string_equal(out, "/abcdef");
    assert_false(ftp_path_resolve("/", str_from_cstr("abcdefg"), out, sizeof(out)));
    assert_string_equal(out, "");
    assert_false(ftp_path_resolve("/abc", str_from_cstr("defg"), out, sizeof(out)));
    assert_false(ftp_path_resolve("/", str_from_cstr("a"), out, 1));
    assert_false(ftp_path_resolve("/", str_make("a\0b", 3), out, sizeof(out)));
}

static void test_pwd(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } ok[] = {
        {"\"/\" is the current directory", "/"},
        {"\"/incoming\"", "/incoming"},
        {"\"/a \"\"b\"\"\" is current", "/a \"b\""},
        {"MKD ok \"/x\"", "/x"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(ftp_pwd_parse(str_from_cstr(ok[i].text), out, sizeof(out)));
        assert_string_equal(out, ok[i].want);
    }
    static const char *bad[] = {"no quotes", "\"unterminated", "",
                                "\"/abcdefghijklmnopqrstuvwxyz0123456789\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(ftp_pwd_parse(str_from_cstr(bad[i]), out, sizeof(out)));
    assert_false(ftp_pwd_parse(str_make("\"/a\0b\"", 6), out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_resolve_bounded),
        cmocka_unit_test(test_pwd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
