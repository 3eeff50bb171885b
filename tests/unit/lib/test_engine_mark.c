/* Unit tests for lib/engine_mark: the file scand replaces when new
 * definitions serve, and the proxies' cheap look at it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/engine_mark.h"

static void test_path(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(engine_mark_path("run/sekisho-scand.sock", out, sizeof(out)), 0);
    assert_string_equal(out, "run/sekisho-scand.sock.engine");
    char small[8];
    assert_int_equal(engine_mark_path("run/sekisho-scand.sock", small, sizeof(small)), -1);
}

static void test_changes_seen(void **state)
{
    (void)state;
    char dir[] = "/tmp/engine-mark-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/s.engine", dir);
    struct engine_mark_seen seen = {0};
    /* Absent, and absent again: no change. */
    assert_false(engine_mark_changed(path, &seen));
    assert_int_equal(engine_mark_write(path, 0x1234), 0);
    assert_true(engine_mark_changed(path, &seen));
    assert_false(engine_mark_changed(path, &seen));
    /* The same id written again is still a new engine load: a change. */
    assert_int_equal(engine_mark_write(path, 0x1234), 0);
    assert_true(engine_mark_changed(path, &seen));
    assert_false(engine_mark_changed(path, &seen));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[64] = "";
    assert_non_null(fgets(text, sizeof(text), f));
    fclose(f);
    assert_string_equal(text, "engine=0000000000001234\n");
    /* Gone (scand stopped and the file removed): a change too. */
    assert_int_equal(unlink(path), 0);
    assert_true(engine_mark_changed(path, &seen));
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_changes_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
