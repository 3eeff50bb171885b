/* Unit tests for proto/db_version: the line shared by `make show-dbversion`,
 * `sekisho-scan --version` and scand's info log (official and custom
 * databases, widest fields, cut output, hostile names) and the UTC times
 * it shows (leap years, century rules, before 1970, out of range). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "lib/str.h"
#include "proto/db_version.h"

static struct db_version_entry entry(const char *name, uint32_t version, uint64_t sigs,
                                     int64_t built)
{
    struct db_version_entry e;
    memset(&e, 0, sizeof(e));
    str_copy(e.name, sizeof(e.name), name);
    e.version = version;
    e.signatures = sigs;
    e.built = built;
    return e;
}

static void test_official_and_custom(void **state)
{
    (void)state;
    char out[DB_VERSION_LINE_MAX];
    /* The two lines of the brief: 2026-12-06T08:22:00Z, 2026-12-07T10:30:00Z. */
    struct db_version_entry daily = entry("daily.cvd", 27463, 2076543, 1796545320);
    size_t n = db_version_format(&daily, out, sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_string_equal(out,
                        "daily.cvd version=27463 signatures=2076543 built=2026-12-06T08:22:00Z");
    struct db_version_entry custom = entry("custom.ndb", 0, 12, 1796639400);
    db_version_format(&custom, out, sizeof(out));
    assert_string_equal(out, "custom.ndb version=custom signatures=12 built=2026-12-07T10:30:00Z");
}

static void test_widest_line_fits(void **state)
{
    (void)state;
    char name[DB_VERSION_NAME_MAX + 1];
    memset(name, 'n', DB_VERSION_NAME_MAX);
    name[DB_VERSION_NAME_MAX] = '\0';
    struct db_version_entry e = entry(name, UINT32_MAX, UINT64_MAX, 253402300799ll);
    char out[DB_VERSION_LINE_MAX];
    size_t n = db_version_format(&e, out, sizeof(out));
    assert_true(n < sizeof(out));
    assert_int_equal(n, strlen(out));
    assert_non_null(strstr(out, " version=4294967295 signatures=18446744073709551615 "
                                "built=9999-12-31T23:59:59Z"));
    assert_memory_equal(out, name, DB_VERSION_NAME_MAX);
}

static void test_cut_output(void **state)
{
    (void)state;
    struct db_version_entry e = entry("main.cvd", 62, 6647427, 1632231600);
    char full[DB_VERSION_LINE_MAX];
    size_t n = db_version_format(&e, full, sizeof(full));
    assert_string_equal(full, "main.cvd version=62 signatures=6647427 built=2021-09-21T13:40:00Z");
    /* Like snprintf: the whole length is returned, the output is cut and
     * terminated, nothing is written past cap. */
    char small[12];
    memset(small, 'X', sizeof(small));
    assert_int_equal(db_version_format(&e, small, 10), n);
    assert_string_equal(small, "main.cvd ");
    assert_int_equal(small[10], 'X');
    char none[1] = {'X'};
    assert_int_equal(db_version_format(&e, none, 0), n);
    assert_int_equal(none[0], 'X');
}

static void test_control_characters_in_names(void **state)
{
    (void)state;
    struct db_version_entry e = entry("evil\ninjected.ndb", 0, 1, 0);
    e.name[1] = '\x7f';
    e.name[2] = '\t';
    char out[DB_VERSION_LINE_MAX];
    db_version_format(&e, out, sizeof(out));
    assert_string_equal(out, "e??l?injected.ndb version=custom signatures=1 "
                             "built=1970-01-01T00:00:00Z");
    /* Bytes above 0x7f (UTF-8 names) are left alone. */
    e = entry("d\xc3\xa9"
              "f.ndb",
              0, 1, 0);
    db_version_format(&e, out, sizeof(out));
    assert_memory_equal(out,
                        "d\xc3\xa9"
                        "f.ndb ",
                        8);
}

static void test_times(void **state)
{
    (void)state;
    static const struct {
        int64_t t;
        const char *text;
    } table[] = {
        {0, "1970-01-01T00:00:00Z"},
        {-1, "1969-12-31T23:59:59Z"},
        {-86400, "1969-12-31T00:00:00Z"},
        {951782400, "2000-02-29T00:00:00Z"},    /* a century that is a leap year */
        {4107542400ll, "2100-03-01T00:00:00Z"}, /* one that is not: no 2100-02-29 */
        {4107542399ll, "2100-02-28T23:59:59Z"},
        {1709164800, "2024-02-29T00:00:00Z"},
        {1735689599, "2024-12-31T23:59:59Z"},
        {-62167219200ll, "0000-01-01T00:00:00Z"},
        {253402300799ll, "9999-12-31T23:59:59Z"},
        {253402300800ll, "unknown"},
        {-62167219201ll, "unknown"},
        {INT64_MIN, "unknown"},
        {INT64_MAX, "unknown"},
    };
    char out[DB_VERSION_TIME_MAX];
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        size_t n = db_version_time_format(table[i].t, out, sizeof(out));
        assert_string_equal(out, table[i].text);
        assert_int_equal(n, strlen(table[i].text));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_and_custom),
        cmocka_unit_test(test_widest_line_fits),
        cmocka_unit_test(test_cut_output),
        cmocka_unit_test(test_control_characters_in_names),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
