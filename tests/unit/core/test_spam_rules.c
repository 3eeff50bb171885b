/* Unit tests for core/spam_rules: files.txt and the CUSTOM rule file it
 * names, loaded as the master does at start and on SIGHUP (SPAM-4, G-34):
 * no files.txt or no CUSTOM line is no rules; every problem is reported
 * as "<path>:<line>: <reason>" and refuses the whole load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/spam_rules.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/sekisho-spamrules-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void drop(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

/* load - spam_rules_load with what it printed in *diag (caller frees). */
static struct spam_rules *load(char **diag)
{
    size_t size = 0;
    FILE *d = open_memstream(diag, &size);
    assert_non_null(d);
    struct spam_rules *r = spam_rules_load(dir, d);
    fclose(d);
    return r;
}

static void expect_error(const char *want_suffix)
{
    char *diag;
    struct spam_rules *r = load(&diag);
    assert_null(r);
    char want[256];
    snprintf(want, sizeof(want), "%s/%s", dir, want_suffix);
    if (strncmp(diag, want, strlen(want)) != 0)
        fail_msg("want \"%s...\", got \"%s\"", want, diag);
    free(diag);
}

static void test_no_lists(void **state)
{
    (void)state;
    char *diag;
    drop("files.txt");
    struct spam_rules *r = load(&diag); /* no files.txt at all */
    assert_non_null(r);
    assert_int_equal(r->n, 0);
    assert_string_equal(r->path, "");
    assert_string_equal(diag, "");
    spam_rules_free(r);
    free(diag);
    put("files.txt", "# nothing active\n");
    r = load(&diag);
    assert_non_null(r);
    assert_int_equal(r->n, 0);
    spam_rules_free(r);
    free(diag);
}

static void test_rules_loaded_in_order(void **state)
{
    (void)state;
    put("files.txt", "CUSTOM\tmine.txt\n");
    put("mine.txt", "# c\nBLACK\tSubject\t\ta\n\nWHITE\tFrom\tIGNORECASE\t@b\n");
    char *diag;
    struct spam_rules *r = load(&diag);
    assert_non_null(r);
    assert_string_equal(diag, "");
    assert_int_equal(r->n, 2);
    assert_int_equal(r->rules[0].line, 2);
    assert_int_equal(r->rules[1].line, 4);
    assert_int_equal(r->rules[1].judgment, SPAM_RULE_WHITE);
    char want[128];
    snprintf(want, sizeof(want), "%s/mine.txt", dir);
    assert_string_equal(r->path, want);
    spam_rules_free(r);
    free(diag);
}

static void test_errors_with_lines(void **state)
{
    (void)state;
    put("files.txt", "CUSTOM\tmine.txt\n");
    put("mine.txt", "BLACK\tSubject\t\ta\nBLUE\tSubject\t\tb\n");
    expect_error("mine.txt:2: ");
    put("files.txt", "# lists\nCUSTOM\tmine.txt\nUCE\tuce.txt\n");
    put("mine.txt", "BLACK\tSubject\t\ta\n");
    expect_error("files.txt:3: ");
    put("files.txt", "CUSTOM\tmissing.txt\n");
    expect_error("missing.txt: No such file or directory");
    put("files.txt", "CUSTOM\t../escape.txt\n");
    expect_error("files.txt:1: ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_lists),
        cmocka_unit_test(test_rules_loaded_in_order),
        cmocka_unit_test(test_errors_with_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
