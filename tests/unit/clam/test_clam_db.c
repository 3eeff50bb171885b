/* Unit tests for clam/clam_db against the real libclamav: which names are
 * database files, the listing (sorting, CVD headers, text databases'
 * signature lines and mtimes, every refusal), and the verifying load
 * dbupdate relies on (a good set, a malformed file named with its line,
 * an empty or missing directory). Each test works in its own temporary
 * directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "clam/clam_db.h"
#include "proto/db_version.h"

#define SIG_A "Sekisho.Unit.A-1:0:*:53454b4953484f2d554e49542d41\n"
#define SIG_B "Sekisho.Unit.B-1:0:*:53454b4953484f2d554e49542d42\n"

struct tdir {
    char path[64];
};

static void put(const struct tdir *d, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", d->path, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static void set_mtime(const struct tdir *d, const char *name, time_t t)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", d->path, name);
    struct timeval tv[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimes(p, tv), 0);
}

/* put_cvd - a file that starts with a 512-byte CVD header (what
 * cl_cvdhead reads) and goes on with bytes no loader will see here. */
static void put_cvd(const struct tdir *d, const char *name, unsigned version, unsigned sigs,
                    unsigned stime)
{
    char head[513];
    int n = snprintf(head, sizeof(head),
                     "ClamAV-VDB:06 Dec 2026 08-22 +0000:%u:%u:90:0123456789abcdef:"
                     "dsig:sekisho-unit:%u",
                     version, sigs, stime);
    memset(head + n, ' ', sizeof(head) - 1 - (size_t)n);
    head[512] = '\0';
    char text[600];
    snprintf(text, sizeof(text), "%sgzip data would follow", head);
    put(d, name, text);
}

static int setup(void **state)
{
    struct tdir *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return -1;
    snprintf(d->path, sizeof(d->path), "/tmp/sks-clam-XXXXXX");
    if (mkdtemp(d->path) == NULL) {
        free(d);
        return -1;
    }
    *state = d;
    char err[CLAM_ERROR_MAX];
    return clam_init(err, sizeof(err));
}

static int teardown(void **state)
{
    struct tdir *d = *state;
    DIR *dd = opendir(d->path);
    struct dirent *e;
    while (dd && (e = readdir(dd)) != NULL) {
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", d->path, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && unlink(p) < 0)
            rmdir(p); /* the test's empty subdirectories */
    }
    if (dd)
        closedir(dd);
    rmdir(d->path);
    free(d);
    return 0;
}

static void test_file_names(void **state)
{
    (void)state;
    static const char *const yes[] = {"daily.cvd", "main.cld",   "x.cud",  "sekisho-test.ndb",
                                      "A.NDB",     "b.hdb",      "c.ign2", "d.ign",
                                      "e.yara",    "f.yar",      "g.db",   "bytecode.cbc",
                                      "h.ldb",     ".hidden.ndb"};
    static const char *const no[] = {"README", "a.ndb.bak", "a.txt", "ndb", "a.cvdx", "a.yaml", ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(clam_db_file_name_ok(yes[i]));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(clam_db_file_name_ok(no[i]));
}

static void test_list(void **state)
{
    const struct tdir *d = *state;
    put(d, "b.ndb", "# a comment line is not a signature\n" SIG_A SIG_B);
    put(d, "a.hdb", "44d88612fea8a8f36de82e1278abb02f:68:Sekisho.Unit.Hash-1\n");
    put_cvd(d, "daily.cvd", 27463, 2076543, 1796545320);
    put(d, "README", "not a database\n");
    set_mtime(d, "b.ndb", 1796639400);
    set_mtime(d, "a.hdb", 1000000000);

    struct db_version_entry out[DB_VERSION_ENTRIES_MAX];
    size_t n = 99;
    char err[CLAM_ERROR_MAX] = "";
    assert_int_equal(clam_db_list(d->path, out, DB_VERSION_ENTRIES_MAX, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    char line[DB_VERSION_LINE_MAX];
    db_version_format(&out[0], line, sizeof(line));
    assert_string_equal(line, "a.hdb version=custom signatures=1 built=2001-09-09T01:46:40Z");
    db_version_format(&out[1], line, sizeof(line));
    assert_string_equal(line, "b.ndb version=custom signatures=2 built=2026-12-07T10:30:00Z");
    db_version_format(&out[2], line, sizeof(line));
    assert_string_equal(line,
                        "daily.cvd version=27463 signatures=2076543 built=2026-12-06T08:22:00Z");

    /* Exactly as many as fit, then one too many. */
    assert_int_equal(clam_db_list(d->path, out, 3, &n, err, sizeof(err)), 0);
    assert_int_equal(clam_db_list(d->path, out, 2, &n, err, sizeof(err)), -1);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err, "more than 2 database files"));
}

static void test_list_refusals(void **state)
{
    const struct tdir *d = *state;
    struct db_version_entry out[4];
    size_t n;
    char err[CLAM_ERROR_MAX] = "";
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/none", d->path);
    assert_int_equal(clam_db_list(missing, out, 4, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, missing));

    /* An empty directory is an empty list (scand refuses it at load). */
    assert_int_equal(clam_db_list(d->path, out, 4, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);

    put(d, "broken.cvd", "not a CVD header at all\n");
    assert_int_equal(clam_db_list(d->path, out, 4, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "broken.cvd: no readable CVD header"));
    assert_non_null(strstr(err, "Not a CVD file"));
    char p[256];
    snprintf(p, sizeof(p), "%s/broken.cvd", d->path);
    unlink(p);

    char name[DB_VERSION_NAME_MAX + 8];
    memset(name, 'n', DB_VERSION_NAME_MAX + 1);
    memcpy(name + DB_VERSION_NAME_MAX + 1 - 4, ".ndb", 5); /* 65 bytes */
    put(d, name, SIG_A);
    assert_int_equal(clam_db_list(d->path, out, 4, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "name longer than 64 bytes"));
    snprintf(p, sizeof(p), "%s/%s", d->path, name);
    unlink(p);

    snprintf(p, sizeof(p), "%s/dir.ndb", d->path);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(clam_db_list(d->path, out, 4, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "dir.ndb: not a regular file"));
}

static void test_verify(void **state)
{
    const struct tdir *d = *state;
    uint64_t sigs = 99;
    char err[CLAM_ERROR_MAX] = "";
    /* Nothing to load: refused as scand refuses to start on it. */
    assert_int_equal(clam_db_verify(d->path, &sigs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "No supported database files found"));
    /* A set that loads but detects nothing (only an ignore list). */
    put(d, "local.ign2", "Sekisho.Unit.A-1\n");
    assert_int_equal(clam_db_verify(d->path, &sigs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no signatures found"));
    char p[256];
    snprintf(p, sizeof(p), "%s/local.ign2", d->path);
    assert_int_equal(unlink(p), 0);

    put(d, "good.ndb", SIG_A SIG_B);
    put(d, "README", "ignored by cl_load\n");
    assert_int_equal(clam_db_verify(d->path, &sigs, err, sizeof(err)), 0);
    assert_true(sigs == 2);

    /* The second line is malformed: the reason names the file and the line. */
    put(d, "custom.ndb", SIG_A "this is not a signature\n");
    assert_int_equal(clam_db_verify(d->path, &sigs, err, sizeof(err)), -1);
    char want[256];
    snprintf(want, sizeof(want), "cl_load(%s): Can't load %s/custom.ndb: Malformed database",
             d->path, d->path);
    assert_memory_equal(err, want, strlen(want));
    assert_non_null(strstr(err, "line 2"));
    assert_true(sigs == 0);

    char missing[128];
    snprintf(missing, sizeof(missing), "%s/none", d->path);
    assert_int_equal(clam_db_verify(missing, &sigs, err, sizeof(err)), -1);
    assert_non_null(strstr(err, missing));
}

static void test_engine_load_options(void **state)
{
    const struct tdir *d = *state;
    put(d, "good.ndb", SIG_A);
    char tmp[128];
    snprintf(tmp, sizeof(tmp), "%s/tmp", d->path);
    assert_int_equal(mkdir(tmp, 0700), 0);
    struct clam_engine_opts o = {.max_filesize = 1024 * 1024, .tmpdir = tmp, .clean_cache = false};
    uint64_t sigs = 0;
    char err[CLAM_ERROR_MAX] = "";
    struct cl_engine *cl = clam_engine_load(d->path, &o, &sigs, err, sizeof(err));
    assert_non_null(cl);
    assert_true(sigs == 1);
    clam_engine_free(cl);
    clam_engine_free(NULL);
    /* Once per process: a second call gives the first result. */
    assert_int_equal(clam_init(err, sizeof(err)), 0);
    assert_non_null(clam_version());
    assert_true(strlen(clam_version()) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_names),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_engine_load_options, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
