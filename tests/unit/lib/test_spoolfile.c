/* Unit tests for lib/spoolfile: in-memory spools and keeping (quarantine)
 * both kinds of spool under a name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/spoolfile.h"

static char dir[] = "/tmp/test_spoolfile.XXXXXX";

static void keep_and_compare(int fd, const char *name, size_t len)
{
    assert_int_equal(spoolfile_keep(fd, dir, name), 0);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((size_t)st.st_size, len);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(fgetc(f), (int)(i * 31 % 251));
    fclose(f);
    unlink(path);
}

static int filled(int fd, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)(i * 31 % 251);
        if (write(fd, &c, 1) != 1)
            return -1;
    }
    return fd;
}

static void test_mem_spool_kept_by_copy(void **state)
{
    (void)state;
    int fd = spoolfile_create_mem();
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(S_ISREG(st.st_mode)); /* scand refuses anything else */
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_true(filled(fd, 200000) >= 0);
    keep_and_compare(fd, "mem", 200000);
    close(fd);
}

static void test_disk_spool_kept(void **state)
{
    (void)state;
    int fd = spoolfile_create(dir);
    assert_true(fd >= 0);
    assert_true(filled(fd, 70000) >= 0);
    keep_and_compare(fd, "disk", 70000);
    close(fd);
}

static void test_mem_spool_moved_to_disk(void **state)
{
    (void)state;
    int mem = spoolfile_create_mem();
    assert_true(mem >= 0);
    assert_true(filled(mem, 100000) >= 0);
    int disk = spoolfile_to_disk(mem, dir);
    assert_true(disk >= 0);
    close(mem);
    struct stat st;
    assert_int_equal(fstat(disk, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_nlink, 0); /* unnamed, like every spool */
    /* Writing goes on at the end. */
    unsigned char c = (unsigned char)(100000u * 31 % 251);
    assert_int_equal(write(disk, &c, 1), 1);
    keep_and_compare(disk, "moved", 100001);
    close(disk);
}

static void test_to_disk_in_missing_dir_fails(void **state)
{
    (void)state;
    int mem = spoolfile_create_mem();
    assert_true(mem >= 0);
    assert_int_equal(spoolfile_to_disk(mem, "/nonexistent/sekisho-spool"), -1);
    close(mem);
}

static void test_write_all_and_read_at(void **state)
{
    (void)state;
    int fd = spoolfile_create_mem();
    assert_true(fd >= 0);
    static char data[300000], back[300000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)(i * 7 % 253);
    assert_int_equal(spoolfile_write_all(fd, data, sizeof(data)), 0);
    assert_int_equal(spoolfile_read_at(fd, back, sizeof(back), 0), 0);
    assert_memory_equal(data, back, sizeof(data));
    assert_int_equal(spoolfile_read_at(fd, back, 10, 1000), 0);
    assert_memory_equal(data + 1000, back, 10);
    /* Past the end: an error, never a short success. */
    assert_int_equal(spoolfile_read_at(fd, back, 10, (off_t)sizeof(data) - 5), -1);
    close(fd);
    assert_int_equal(spoolfile_write_all(fd, data, 1), -1); /* closed: EBADF */
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mem_spool_kept_by_copy),
        cmocka_unit_test(test_disk_spool_kept),
        cmocka_unit_test(test_mem_spool_moved_to_disk),
        cmocka_unit_test(test_to_disk_in_missing_dir_fails),
        cmocka_unit_test(test_write_all_and_read_at),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
