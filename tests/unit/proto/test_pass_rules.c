/* Unit tests for proto/pass_rules (SCAN-4, SCAN-5, CFG-3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto/pass_rules.h"

static void test_builtin_user_agents(void **state)
{
    (void)state;
    assert_true(pass_rules_builtin_user_agent(STR_LIT("Windows-Update-Agent/10.0.10011")));
    assert_true(pass_rules_builtin_user_agent(STR_LIT("Microsoft BITS/7.8")));
    assert_true(pass_rules_builtin_user_agent(STR_LIT("RMA/1.0 (compatible; RealMedia)")));
    assert_true(pass_rules_builtin_user_agent(
        STR_LIT("Mozilla/4.0 (compatible; Win32; Commtouch Http Client x)")));
    assert_false(pass_rules_builtin_user_agent(STR_LIT("Mozilla/5.0 (X11; Linux)")));
    assert_false(pass_rules_builtin_user_agent(STR_LIT("windows-update-agent"))); /* case */
    assert_false(pass_rules_builtin_user_agent(STR_LIT("")));
}

static void test_configured_prefixes(void **state)
{
    (void)state;
    const struct str list[] = {STR_LIT("MyUpdater/"), STR_LIT(""), STR_LIT("curl")};
    assert_true(pass_rules_user_agent(STR_LIT("MyUpdater/2.1"), list, 3));
    assert_true(pass_rules_user_agent(STR_LIT("curl/7.88.1"), list, 3));
    assert_false(pass_rules_user_agent(STR_LIT("xcurl"), list, 3)); /* prefix, not substring */
    assert_false(pass_rules_user_agent(STR_LIT("Mozilla/5.0"), list, 3));
}

static void test_extensions(void **state)
{
    (void)state;
    const struct str list[] = {STR_LIT(".iso"), STR_LIT(".MP4"), STR_LIT("")};
    assert_true(pass_rules_extension(STR_LIT("debian.ISO"), list, 3));
    assert_true(pass_rules_extension(STR_LIT("clip.mp4"), list, 3));
    assert_false(pass_rules_extension(STR_LIT("clip.mp4.exe"), list, 3));
    assert_false(pass_rules_extension(STR_LIT(""), list, 3));
}

static void test_url_filename(void **state)
{
    (void)state;
    struct str f = pass_rules_url_filename(STR_LIT("/a/b/setup.exe?x=/y.iso"));
    assert_true(str_eq_cstr(f, "setup.exe"));
    assert_true(str_eq_cstr(pass_rules_url_filename(STR_LIT("/dir/")), ""));
    assert_true(str_eq_cstr(pass_rules_url_filename(STR_LIT("/x")), "x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_user_agents),
        cmocka_unit_test(test_configured_prefixes),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_url_filename),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
