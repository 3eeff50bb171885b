/* Unit tests for core/quarantine_store (list, get, released, delete, the
 * meta's atomic write), the refusals of core/quarantine_release (no mail
 * leaves: those that deliver are in tests/integration/test_quarantine.py)
 * and core/quarantine_zip (the archive read back with libzip). Every test
 * works in a directory of its own, made like the proxies make theirs. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include <cmocka.h>

#include "core/quarantine_release.h"
#include "core/quarantine_store.h"
#include "core/quarantine_zip.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/qstore-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void put_file(const char *name, const char *content)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static bool exists(const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

/* meta_text - a valid meta of service svc at time t. */
static const char *meta_text(const char *svc, long t, const char *extra)
{
    static char text[2048];
    bool mail = strcmp(svc, "smtp") == 0;
    snprintf(text, sizeof(text),
             "sekisho-quarantine: 1\ntime: %ld\nservice: %s\nresult: INFECTED\n"
             "detection: Eicar-Test-Signature\nclient: 127.0.0.1\n%s%s"
             "url: %s\nsize: 68\n",
             t, svc, mail ? "sender: a@x.test\nrcpt: b@y.test\nrcpt_count: 1\n" : "",
             extra ? extra : "", mail ? "mail:b@y.test" : "http://o/e");
    return text;
}

/* item - the object and its meta, as the proxies leave them. */
static void item(const char *id, const char *object, const char *meta)
{
    put_file(id, object);
    char name[256];
    snprintf(name, sizeof(name), "%s.meta", id);
    put_file(name, meta);
}

#define MBOX "From a@x.test Thu Jan  1 00:00:00 1970\nSubject: s\n\n>From here\nbody\n\n"

struct seen {
    char ids[16][QMETA_ID_MAX + 1];
    size_t n;
    size_t stop_after;
};

static bool collect(void *arg, const struct qstore_item *it)
{
    struct seen *s = arg;
    snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", it->id);
    assert_int_equal(it->object_size, strlen(MBOX));
    return s->n != s->stop_after;
}

static void test_list_newest_first_only_complete_items(void **state)
{
    (void)state;
    item("smtp-100.5.1", MBOX, meta_text("smtp", 100, NULL));
    item("http-300.5.1", MBOX, meta_text("http", 300, NULL));
    item("smtp-200.5.2", MBOX, meta_text("smtp", 200, NULL));
    item("smtp-200.5.1", MBOX, meta_text("smtp", 200, NULL));
    put_file("smtp-400.5.1", MBOX);                                  /* no meta: being copied */
    put_file("smtp-500.5.1.meta", meta_text("smtp", 500, NULL));     /* no object */
    item("ftp-600.5.1", MBOX, "sekisho-quarantine: 1\ntime: 600\n"); /* malformed */
    put_file("smtp-700.5.1.meta.tmp", meta_text("smtp", 700, NULL));
    item("notes.txt", MBOX, meta_text("smtp", 800, NULL)); /* not the proxies' name */
    char target[512], link[512];
    snprintf(target, sizeof(target), "%s/smtp-100.5.1", dir);
    snprintf(link, sizeof(link), "%s/pop-900.5.1", dir);
    assert_int_equal(symlink(target, link), 0); /* a link is never an object */
    put_file("pop-900.5.1.meta", meta_text("pop", 900, NULL));

    struct seen s = {0};
    assert_int_equal(qstore_list(dir, 10, collect, &s), 4);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.ids[0], "http-300.5.1");
    assert_string_equal(s.ids[1], "smtp-200.5.2");
    assert_string_equal(s.ids[2], "smtp-200.5.1");
    assert_string_equal(s.ids[3], "smtp-100.5.1");

    struct seen two = {0};
    assert_int_equal(qstore_list(dir, 2, collect, &two), 2); /* at most max */
    assert_string_equal(two.ids[1], "smtp-200.5.2");
    struct seen stop = {.stop_after = 1};
    assert_int_equal(qstore_list(dir, 10, collect, &stop), 1); /* the callback stops it */

    char missing[300];
    snprintf(missing, sizeof(missing), "%s/none", dir);
    assert_int_equal(qstore_list(missing, 10, collect, &s), -1);
}

static void test_get_refuses_what_the_proxies_did_not_make(void **state)
{
    (void)state;
    static struct qstore_item it;
    item("smtp-100.5.1", MBOX, meta_text("smtp", 100, "user: alice\n"));
    assert_int_equal(qstore_get(dir, "smtp-100.5.1", &it), QSTORE_OK);
    assert_string_equal(it.id, "smtp-100.5.1");
    assert_true(str_eq_cstr(it.meta.user, "alice"));
    assert_true(str_eq_cstr(it.meta.rcpt[0], "b@y.test"));

    const char *hostile[] = {
        "../x", "/etc/passwd", "..", ".", "", "smtp-100.5.1/../x", "smtp-100.5.1.meta"};
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        assert_int_equal(qstore_get(dir, hostile[i], &it), QSTORE_BAD_ID);
        assert_int_equal(qstore_delete(dir, hostile[i]), QSTORE_BAD_ID);
        assert_int_equal(qstore_mark_released(dir, hostile[i], 1, "t"), QSTORE_BAD_ID);
    }
    assert_int_equal(qstore_get(dir, NULL, &it), QSTORE_BAD_ID);
    put_file("smtp-500.5.1.meta", meta_text("smtp", 500, NULL));
    assert_int_equal(qstore_get(dir, "smtp-500.5.1", &it), QSTORE_NOT_FOUND);
    assert_int_equal(qstore_delete(dir, "smtp-500.5.1"), QSTORE_NOT_FOUND);
    assert_true(exists("smtp-500.5.1.meta")); /* not touched */
    put_file("smtp-400.5.1", MBOX);
    assert_int_equal(qstore_get(dir, "smtp-400.5.1", &it), QSTORE_NO_META);
    item("smtp-600.5.1", MBOX, "garbage\n");
    assert_int_equal(qstore_get(dir, "smtp-600.5.1", &it), QSTORE_MALFORMED);
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/smtp-700.5.1", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(qstore_get(dir, "smtp-700.5.1", &it), QSTORE_NOT_FOUND);
    assert_string_equal(qstore_status_text(QSTORE_BAD_ID), "not an id of a quarantined object");
}

static void test_released_once_and_recorded(void **state)
{
    (void)state;
    static struct qstore_item it;
    item("http-100.5.1", MBOX, meta_text("http", 100, NULL));
    assert_int_equal(qstore_mark_released(dir, "http-100.5.1", 1765000000, "admin\nx"), QSTORE_OK);
    assert_int_equal(qstore_get(dir, "http-100.5.1", &it), QSTORE_OK);
    assert_true(it.meta.released);
    assert_int_equal(it.meta.released_time, 1765000000);
    assert_true(str_eq_cstr(it.meta.released_by, "admin")); /* cut at the line end */
    assert_non_null(strstr(it.text, "\nreleased: 1765000000 admin\n"));
    assert_true(str_eq_cstr(it.meta.detection, "Eicar-Test-Signature")); /* the rest kept */
    assert_int_equal(qstore_mark_released(dir, "http-100.5.1", 1765000001, "b"), QSTORE_RELEASED);
    assert_int_equal(qstore_get(dir, "http-100.5.1", &it), QSTORE_OK);
    assert_int_equal(it.meta.released_time, 1765000000);
    assert_false(exists("http-100.5.1.meta.tmp"));
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/http-100.5.1.meta", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_lock_makes_others_wait_their_turn(void **state)
{
    (void)state;
    static struct qstore_item it, other;
    item("smtp-100.5.1", MBOX, meta_text("smtp", 100, NULL));
    int fd = -1;
    assert_int_equal(qstore_lock(dir, "smtp-100.5.1", &it, &fd), QSTORE_OK);
    int fd2 = -1;
    assert_int_equal(qstore_lock(dir, "smtp-100.5.1", &other, &fd2), QSTORE_BUSY);
    assert_int_equal(qstore_delete(dir, "smtp-100.5.1"), QSTORE_BUSY);
    assert_int_equal(qstore_mark_released(dir, "smtp-100.5.1", 1, "x"), QSTORE_BUSY);
    assert_true(exists("smtp-100.5.1"));
    qstore_unlock(fd);
    assert_int_equal(qstore_delete(dir, "smtp-100.5.1"), QSTORE_OK);
}

static void test_delete_removes_both_and_follows_no_link(void **state)
{
    (void)state;
    item("smtp-100.5.1", MBOX, meta_text("smtp", 100, NULL));
    put_file("smtp-100.5.1.meta.tmp", "left by a crash");
    assert_int_equal(qstore_delete(dir, "smtp-100.5.1"), QSTORE_OK);
    assert_false(exists("smtp-100.5.1"));
    assert_false(exists("smtp-100.5.1.meta"));
    assert_false(exists("smtp-100.5.1.meta.tmp"));
    assert_int_equal(qstore_delete(dir, "smtp-100.5.1"), QSTORE_NOT_FOUND);

    put_file("victim", "keep me");
    char target[512], link[512];
    snprintf(target, sizeof(target), "%s/victim", dir);
    snprintf(link, sizeof(link), "%s/ftp-1.1.1", dir);
    assert_int_equal(symlink(target, link), 0);
    put_file("ftp-1.1.1.meta", meta_text("ftp", 1, NULL));
    assert_int_equal(qstore_delete(dir, "ftp-1.1.1"), QSTORE_NOT_FOUND);
    assert_true(exists("victim"));
}

static void test_meta_write_is_whole_or_absent(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s/pop-1.2.3", dir);
    put_file("pop-1.2.3", MBOX);
    const char *m = meta_text("pop", 1, NULL);
    assert_int_equal(qstore_meta_write(path, m, strlen(m), false), 0);
    static struct qstore_item it;
    assert_int_equal(qstore_get(dir, "pop-1.2.3", &it), QSTORE_OK);
    assert_string_equal(it.text, m);
    assert_false(exists("pop-1.2.3.meta.tmp"));
    /* A planted link at the temporary name is not written through. */
    char target[512], link[512];
    snprintf(target, sizeof(target), "%s/victim", dir);
    put_file("victim", "keep me");
    snprintf(link, sizeof(link), "%s/pop-1.2.3.meta.tmp", dir);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(qstore_meta_write(path, m, strlen(m), true), -1);
    assert_int_equal(errno, ELOOP);
    char buf[16] = {0};
    int fd = open(target, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), 7);
    close(fd);
    assert_string_equal(buf, "keep me");
}

static enum qrelease_outcome release(const char *id, const char *host, char *text, size_t cap)
{
    struct qrelease_target t = {.host = host, .port = 25, .helo = "gw.test", .timeout_s = 5};
    return qrelease_run(dir, id, &t, "tester", 1765000000, text, cap);
}

static void test_release_refusals_send_nothing(void **state)
{
    (void)state;
    char text[QRELEASE_TEXT_MAX];
    static struct qstore_item it;
    /* A POP3 message: no envelope recipient is known. */
    item("pop-100.5.1", MBOX, meta_text("pop", 100, "user: u\n"));
    assert_int_equal(release("pop-100.5.1", "127.0.0.1", text, sizeof(text)), QRELEASE_REFUSED);
    assert_non_null(strstr(text, "POP3 message has no envelope recipient"));
    /* SMTP without a parent configured. */
    item("smtp-100.5.1", MBOX, meta_text("smtp", 100, NULL));
    assert_int_equal(release("smtp-100.5.1", "", text, sizeof(text)), QRELEASE_REFUSED);
    assert_non_null(strstr(text, "parent_server_host"));
    /* Only some of the recipients known. */
    item("smtp-101.5.1", MBOX,
         "sekisho-quarantine: 1\ntime: 1\nservice: smtp\nresult: INFECTED\ndetection: D\n"
         "client: c\nsender: a@x\nrcpt: b@y\nrcpt_count: 9\nurl: mail:b@y\nsize: 1\n");
    assert_int_equal(release("smtp-101.5.1", "127.0.0.1", text, sizeof(text)), QRELEASE_REFUSED);
    assert_non_null(strstr(text, "only some of the mail's recipients"));
    /* Not a mailbox file. */
    item("smtp-102.5.1", "Subject: no separator\r\n", meta_text("smtp", 102, NULL));
    assert_int_equal(release("smtp-102.5.1", "127.0.0.1", text, sizeof(text)), QRELEASE_REFUSED);
    assert_non_null(strstr(text, "mailbox format"));
    /* An HTTP object: marked, once. */
    item("http-100.5.1", MBOX, meta_text("http", 100, NULL));
    assert_int_equal(release("http-100.5.1", "", text, sizeof(text)), QRELEASE_MARKED);
    assert_int_equal(qstore_get(dir, "http-100.5.1", &it), QSTORE_OK);
    assert_true(it.meta.released);
    assert_true(str_eq_cstr(it.meta.released_by, "tester"));
    assert_int_equal(release("http-100.5.1", "", text, sizeof(text)), QRELEASE_REFUSED);
    assert_non_null(strstr(text, "released already (at 1765000000 by tester)"));
    assert_true(exists("http-100.5.1")); /* still there to download */
    /* Hostile ids. */
    assert_int_equal(release("../x", "127.0.0.1", text, sizeof(text)), QRELEASE_REFUSED);
    assert_non_null(strstr(text, "not an id"));
    for (const char *const *id = (const char *const[]){"pop-100.5.1", "smtp-100.5.1",
                                                       "smtp-101.5.1", "smtp-102.5.1", NULL};
         *id; id++) {
        assert_int_equal(qstore_get(dir, *id, &it), QSTORE_OK);
        assert_false(it.meta.released); /* a refusal records nothing */
    }
}

static void test_release_unreachable_parent_is_not_recorded(void **state)
{
    (void)state;
    char text[QRELEASE_TEXT_MAX];
    static struct qstore_item it;
    item("smtp-100.5.1", MBOX, meta_text("smtp", 100, NULL));
    /* Port 1 on loopback: nothing listens, the connection is refused. */
    struct qrelease_target t = {.host = "127.0.0.1", .port = 1, .helo = "gw", .timeout_s = 5};
    assert_int_equal(qrelease_run(dir, "smtp-100.5.1", &t, "x", 1, text, sizeof(text)),
                     QRELEASE_FAILED);
    assert_non_null(strstr(text, "cannot connect to the SMTP parent 127.0.0.1:1"));
    assert_int_equal(qstore_get(dir, "smtp-100.5.1", &it), QSTORE_OK);
    assert_false(it.meta.released);
}

/* read_entry - the entry name of the archive at path with password (NULL:
 * none); its bytes in out, or -1 when it cannot be read. */
static long read_entry(const char *path, const char *name, const char *password, char *out,
                       size_t cap)
{
    int err = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &err);
    assert_non_null(za);
    zip_file_t *f = password ? zip_fopen_encrypted(za, name, 0, password) : zip_fopen(za, name, 0);
    long n = -1;
    if (f) {
        n = (long)zip_fread(f, out, cap);
        zip_fclose(f);
    }
    zip_discard(za);
    return n;
}

static void test_zip_is_encrypted_with_aes256(void **state)
{
    (void)state;
    const char *meta = meta_text("smtp", 100, NULL);
    item("smtp-100.5.1", MBOX, meta);
    char out[512], text[QZIP_TEXT_MAX];
    snprintf(out, sizeof(out), "%s/out.zip", dir);
    int fd = open(out, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(qzip_write(dir, "smtp-100.5.1", "s3cret", dir, fd, text, sizeof(text)),
                     QSTORE_OK);
    close(fd);
    int err = 0;
    zip_t *za = zip_open(out, ZIP_RDONLY, &err);
    assert_non_null(za);
    assert_int_equal(zip_get_num_entries(za, 0), 2);
    for (zip_uint64_t i = 0; i < 2; i++) {
        zip_stat_t st;
        assert_int_equal(zip_stat_index(za, i, 0, &st), 0);
        assert_int_equal(st.encryption_method, ZIP_EM_AES_256);
    }
    zip_discard(za);
    char buf[4096];
    long n = read_entry(out, "smtp-100.5.1.mbox", "s3cret", buf, sizeof(buf));
    assert_int_equal(n, (long)strlen(MBOX));
    assert_memory_equal(buf, MBOX, strlen(MBOX));
    n = read_entry(out, QZIP_INFO_NAME, "s3cret", buf, sizeof(buf));
    assert_int_equal(n, (long)strlen(meta));
    assert_memory_equal(buf, meta, strlen(meta));
    assert_true(read_entry(out, "smtp-100.5.1.mbox", NULL, buf, sizeof(buf)) < 0);
    assert_true(read_entry(out, "smtp-100.5.1.mbox", "wrong", buf, sizeof(buf)) < 0);
    /* No temporary archive is left behind. */
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "ls -a '%s' | grep -q qzip", dir);
    assert_int_not_equal(system(cmd), 0);

    fd = open(out, O_WRONLY | O_TRUNC);
    assert_int_equal(qzip_write(dir, "../x", "p", dir, fd, text, sizeof(text)), QSTORE_BAD_ID);
    assert_int_equal(qzip_write(dir, "smtp-100.5.1", "", dir, fd, text, sizeof(text)), QSTORE_IO);
    assert_non_null(strstr(text, "empty password"));
    close(fd);
    struct stat st;
    assert_int_equal(stat(out, &st), 0);
    assert_int_equal(st.st_size, 0); /* a refusal writes nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_newest_first_only_complete_items, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_get_refuses_what_the_proxies_did_not_make, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_released_once_and_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_makes_others_wait_their_turn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_removes_both_and_follows_no_link, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_meta_write_is_whole_or_absent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_refusals_send_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_unreachable_parent_is_not_recorded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_zip_is_encrypted_with_aes256, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
