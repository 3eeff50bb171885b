/* Unit tests for src/admin/admin_validate.c, the check the console (and
 * its controller, again) makes before it writes a file of conf/: the files
 * the repository ships pass, and a broken one of each kind is refused with
 * "file:line: reason", so nothing the services would refuse is ever
 * written. Run from the repository's root (tests/run.sh does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_validate.h"
#include "lib/file_read.h"

#define INI "conf/sekisho.ini"

static bool check(enum admin_ctl_file f, const char *text, char *err, size_t cap)
{
    return admin_validate_file(f, INI, text, strlen(text), err, cap);
}

static void test_shipped_files_pass(void **state)
{
    (void)state;
    for (unsigned f = 0; f < ADMIN_FILE_COUNT; f++) {
        char path[256], err[4096], rerr[128];
        snprintf(path, sizeof(path), "conf/%s", admin_ctl_file_path(f));
        size_t len;
        char *text = file_read_all(path, ADMIN_FILE_MAX, &len, rerr, sizeof(rerr));
        if (text == NULL)
            fail_msg("%s: %s", path, rerr);
        if (!admin_validate_file((enum admin_ctl_file)f, INI, text, len, err, sizeof(err)))
            fail_msg("%s refused: %s", path, err);
        free(text);
    }
}

static void test_bad_files_refused_with_line(void **state)
{
    (void)state;
    char err[4096];
    assert_false(check(ADMIN_FILE_INI, "[http]\nvirus_check=maybe\n", err, sizeof(err)));
    assert_non_null(strstr(err, "sekisho.ini:2:"));
    assert_non_null(strstr(err, "virus_check"));
    /* A key the code does not act on stays refused (a setting is a promise). */
    assert_false(check(ADMIN_FILE_INI, "[smtp]\nscan_error_action=pass\n", err, sizeof(err)));
    assert_non_null(strstr(err, "not supported"));
    assert_false(check(ADMIN_FILE_HOSTS_ALLOW, "http_client: 10.0.0.0/99\n", err, sizeof(err)));
    assert_non_null(strstr(err, "hosts.allow:1:"));
    assert_false(check(ADMIN_FILE_SPAM_CUSTOM, "MAYBE\tSubject:\t\tx\n", err, sizeof(err)));
    assert_non_null(strstr(err, "spam/custom.txt:1:"));
    assert_false(check(ADMIN_FILE_USERDB, "alice\n\n", err, sizeof(err)));
    assert_non_null(strstr(err, "pam/userdb.txt:1:"));
    assert_false(check(ADMIN_FILE_HTDIGEST, "bob:fsigk:0123456789abcdef0123456789abcdef\n", err,
                       sizeof(err)));
    assert_non_null(strstr(err, "admin"));
    assert_false(check(ADMIN_FILE_TPL_SMTP, "Subject: x\n\n\xff\n", err, sizeof(err)));
    assert_non_null(strstr(err, "template_smtp.txt:3:"));
}

static void test_too_large_refused(void **state)
{
    (void)state;
    size_t n = ADMIN_FILE_MAX + 1;
    char *big = malloc(n + 1);
    assert_non_null(big);
    memset(big, '#', n);
    big[n] = 0;
    char err[512];
    assert_false(admin_validate_file(ADMIN_FILE_HOSTS_ALLOW, INI, big, n, err, sizeof(err)));
    assert_non_null(strstr(err, "larger than"));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_files_pass),
        cmocka_unit_test(test_bad_files_refused_with_line),
        cmocka_unit_test(test_too_large_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
