/* Unit tests for core/userdb: the user database create_userdb builds and
 * pam_sekisho_userdb.so reads (AUTH-1..3, C-46, G-06). What is stored
 * (hashes, never passwords; empty values for POP/FTP entries), password
 * checks (right, wrong, unknown, '@' keys, edge lengths, UTF-8), the
 * POP/FTP account table, refusals (duplicates naming both lines, bad text)
 * that leave the old database in place, the permissions of new and
 * rebuilt files, and the atomic replacement (a reader keeps its snapshot). */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>
#include <lmdb.h>

#include "core/userdb.h"
#include "proto/userdb_parse.h"

/* A uid and gid other than root's that exist on Debian (nobody, nogroup). */
#define OTHER_ID 65534

struct fixture {
    char dir[64];
    char db[96];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    memcpy(f->dir, "/tmp/sekisho-userdb-XXXXXX", sizeof("/tmp/sekisho-userdb-XXXXXX"));
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof(f->db), "%s/%s", f->dir, USERDB_FILE_NAME);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* build - userdb_build of a C string; its result, the report in *r. */
static int build(const char *path, const char *text, struct userdb_build_report *r)
{
    return userdb_build(text, strlen(text), path, r);
}

/* build_ok - the text builds, with these counts. */
static void build_ok(const char *path, const char *text, unsigned users, unsigned entries)
{
    struct userdb_build_report r;
    if (build(path, text, &r) != 0)
        fail_msg("build failed: line %u: %s", r.line, r.reason);
    assert_int_equal(r.users, users);
    assert_int_equal(r.entries, entries);
}

/* tmp_leftovers - files in dir whose name holds ".tmp." */
static int tmp_leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp."))
            n++;
    if (d)
        closedir(d);
    return n;
}

/* raw_get - the value of key in the LMDB file path, read with LMDB itself
 * (not through core/userdb), into out; its length, or -1 when missing. */
static long raw_get(const char *path, const char *key, char *out, size_t cap)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    long n = -1;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val k = {strlen(key), (void *)key}, v;
    if (mdb_get(txn, dbi, &k, &v) == 0 && v.mv_size < cap) {
        memcpy(out, v.mv_data, v.mv_size);
        out[v.mv_size] = '\0';
        n = (long)v.mv_size;
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return n;
}

/* file_contains - whether the bytes of path contain needle. */
static bool file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

static const char *const TEXT = "alice\n"
                                "alice-pw\n"
                                "bob\n"
                                "p\xc3\xa4sswort \xe6\x97\xa5\xe6\x9c\xac\n" /* UTF-8, a blank */
                                "carol@pop.example\n"
                                "\n"
                                "@ftp.example\r\n"
                                "\r\n"
                                "eve#[2001:DB8:0::1]\n"
                                "ignored-for-entries\n"
                                "@192.0.2.1\n"
                                "\n"
                                "a@b.example@pop.example\n"
                                "\n";

static void test_stores_hashes_not_passwords(void **state)
{
    struct fixture *f = *state;
    build_ok(f->db, TEXT, 2, 5);
    char v[512];
    /* A yescrypt hash that crypt(3) reproduces from the password. */
    assert_true(raw_get(f->db, "alice", v, sizeof(v)) > 0);
    assert_memory_equal(v, "$y$", 3);
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *h = crypt_rn("alice-pw", v, &cd, sizeof(cd));
    assert_non_null(h);
    assert_string_equal(h, v);
    /* POP/FTP entries under their canonical keys, with empty values; the
     * password line of an entry is not kept either. */
    assert_int_equal(raw_get(f->db, "carol@pop.example", v, sizeof(v)), 0);
    assert_int_equal(raw_get(f->db, "@ftp.example", v, sizeof(v)), 0);
    assert_int_equal(raw_get(f->db, "eve@[2001:db8::1]", v, sizeof(v)), 0);
    assert_int_equal(raw_get(f->db, "@192.0.2.1", v, sizeof(v)), 0);
    assert_int_equal(raw_get(f->db, "a@b.example@pop.example", v, sizeof(v)), 0);
    assert_int_equal(raw_get(f->db, "eve#[2001:DB8:0::1]", v, sizeof(v)), -1);
    assert_false(file_contains(f->db, "alice-pw"));
    assert_false(file_contains(f->db, "p\xc3\xa4sswort"));
    assert_false(file_contains(f->db, "ignored-for-entries"));
    /* A new salt per build: the same password, another hash. */
    char first[512];
    assert_true(raw_get(f->db, "alice", first, sizeof(first)) > 0);
    build_ok(f->db, TEXT, 2, 5);
    assert_true(raw_get(f->db, "alice", v, sizeof(v)) > 0);
    assert_string_not_equal(first, v);
    assert_int_equal(tmp_leftovers(f->dir), 0);
}

static void test_check_password(void **state)
{
    struct fixture *f = *state;
    char pw255[256], pw256[257], text[600];
    memset(pw255, 'x', 255);
    pw255[255] = '\0';
    memset(pw256, 'x', 256);
    pw256[256] = '\0';
    snprintf(text, sizeof(text), "%slong\n%s\n", TEXT, pw255);
    build_ok(f->db, text, 3, 5);
    struct userdb *db = userdb_open(f->db);
    assert_non_null(db);
    const struct {
        const char *user, *password;
        enum userdb_verdict want;
    } cases[] = {
        {"alice", "alice-pw", USERDB_OK},
        {"alice", "alice-pw ", USERDB_BAD_PASSWORD},
        {"alice", "Alice-pw", USERDB_BAD_PASSWORD},
        {"alice", "", USERDB_BAD_PASSWORD},
        {"alice", NULL, USERDB_BAD_PASSWORD},
        {"Alice", "alice-pw", USERDB_UNKNOWN_USER}, /* user names are case-sensitive */
        {"bob", "p\xc3\xa4sswort \xe6\x97\xa5\xe6\x9c\xac", USERDB_OK},
        {"bob", "p\xc3\xa4sswort", USERDB_BAD_PASSWORD},
        {"zed", "alice-pw", USERDB_UNKNOWN_USER},
        {"", "alice-pw", USERDB_UNKNOWN_USER},
        {NULL, "alice-pw", USERDB_UNKNOWN_USER},
        /* POP/FTP entries never authenticate, whatever the password */
        {"carol@pop.example", "", USERDB_UNKNOWN_USER},
        {"carol@pop.example", "x", USERDB_UNKNOWN_USER},
        {"@ftp.example", "", USERDB_UNKNOWN_USER},
        {"eve#[2001:db8::1]", "ignored-for-entries", USERDB_UNKNOWN_USER},
        {"alice@pop.example", "alice-pw", USERDB_UNKNOWN_USER},
        /* the longest password matches; one byte more cannot be stored */
        {"long", pw255, USERDB_OK},
        {"long", pw256, USERDB_BAD_PASSWORD},
        {"zed", pw256, USERDB_UNKNOWN_USER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum userdb_verdict v = userdb_check_password(db, cases[i].user, cases[i].password);
        if (v != cases[i].want)
            fail_msg("case %zu (%s): got %s, wanted %s", i, cases[i].user ? cases[i].user : "NULL",
                     userdb_verdict_name(v), userdb_verdict_name(cases[i].want));
    }
    userdb_close(db);
}

static void test_check_account(void **state)
{
    struct fixture *f = *state;
    build_ok(f->db, TEXT, 2, 5);
    struct userdb *db = userdb_open(f->db);
    assert_non_null(db);
    static const struct {
        const char *user, *server;
        enum userdb_verdict want;
    } cases[] = {
        /* user@server: the proxy passes the server apart (SEKISHO_SERVER)... */
        {"carol", "pop.example", USERDB_OK},
        {"carol", "POP.Example", USERDB_OK}, /* host names without case */
        {"carol", "pop.example:110", USERDB_OK},
        {"carol", "pop2.example", USERDB_UNKNOWN_USER},
        {"Carol", "pop.example", USERDB_UNKNOWN_USER}, /* user names with case */
        {"carol", NULL, USERDB_UNKNOWN_USER},          /* no plain key carol */
        {"carol", "", USERDB_UNKNOWN_USER},
        /* ... or within the name, split at the last '@' or '#' */
        {"carol@pop.example", NULL, USERDB_OK},
        {"carol#pop.example", NULL, USERDB_OK},
        {"carol@POP.EXAMPLE:995", NULL, USERDB_OK},
        /* with a server named, the name is taken whole (issue 13: no server
         * smuggled in through the name; e-mail addresses as user names) */
        {"carol@pop.example", "other.example", USERDB_UNKNOWN_USER},
        {"carol@other.example", "pop.example", USERDB_UNKNOWN_USER},
        {"a@b.example@pop.example", NULL, USERDB_OK},
        {"a@b.example", "pop.example", USERDB_OK}, /* user "a@b.example" on pop.example */
        {"a@b.example", "b.example", USERDB_UNKNOWN_USER},
        /* @server: every user of that server */
        {"dave", "ftp.example", USERDB_OK},
        {"dave@FTP.example", NULL, USERDB_OK},
        {"dave#ftp.example", "x.example", USERDB_UNKNOWN_USER}, /* not x.example's */
        {"dave", "ftp2.example", USERDB_UNKNOWN_USER},
        {"x", "192.0.2.1", USERDB_OK},
        {"x@192.0.2.1:21", NULL, USERDB_OK},
        {"x", "192.0.2.10", USERDB_UNKNOWN_USER},
        /* IPv6 in any form names one server */
        {"eve", "2001:DB8:0::1", USERDB_OK},
        {"eve", "[2001:db8::1]", USERDB_OK},
        {"eve", "[2001:db8::1]:110", USERDB_OK},
        {"eve@[2001:db8:0:0::1]", NULL, USERDB_OK},
        {"eve", "2001:db8::2", USERDB_UNKNOWN_USER},
        /* a plain key is an HTTP/SMTP user: it does not allow POP/FTP (AUTH-3) */
        {"alice", "pop.example", USERDB_UNKNOWN_USER},
        {"alice@pop.example", NULL, USERDB_UNKNOWN_USER},
        {"alice", NULL, USERDB_OK},
        {"alice", "", USERDB_OK},
        /* names and servers no key can match */
        {"@pop.example", NULL, USERDB_UNKNOWN_USER},
        {"", "pop.example", USERDB_UNKNOWN_USER},
        {NULL, "pop.example", USERDB_UNKNOWN_USER},
        {"carol", "pop.example/x", USERDB_UNKNOWN_USER},
        {"carol x", "pop.example", USERDB_UNKNOWN_USER},
        {"carol@", NULL, USERDB_UNKNOWN_USER},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum userdb_verdict v = userdb_check_account(db, cases[i].user, cases[i].server);
        if (v != cases[i].want)
            fail_msg("case %zu (%s, %s): got %s, wanted %s", i,
                     cases[i].user ? cases[i].user : "NULL",
                     cases[i].server ? cases[i].server : "NULL", userdb_verdict_name(v),
                     userdb_verdict_name(cases[i].want));
    }
    userdb_close(db);
}

/* expect_refused - text is refused at line with a reason containing each
 * of the words; the database at path still answers as before; no
 * temporary file is left. */
static void expect_refused(struct fixture *f, const char *text, unsigned line, const char *word1,
                           const char *word2)
{
    struct stat before, after;
    assert_int_equal(stat(f->db, &before), 0);
    struct userdb_build_report r;
    errno = 0;
    assert_int_equal(build(f->db, text, &r), -1);
    assert_int_equal(errno, EINVAL);
    if (r.line != line || !strstr(r.reason, word1) || (word2 && !strstr(r.reason, word2)))
        fail_msg("wanted line %u \"%s\", got line %u \"%s\"", line, word1, r.line, r.reason);
    assert_int_equal(stat(f->db, &after), 0);
    assert_int_equal(after.st_ino, before.st_ino); /* not replaced */
    assert_int_equal(tmp_leftovers(f->dir), 0);
    struct userdb *db = userdb_open(f->db);
    assert_non_null(db);
    assert_int_equal(userdb_check_password(db, "alice", "alice-pw"), USERDB_OK);
    assert_int_equal(userdb_check_account(db, "carol", "pop.example"), USERDB_OK);
    userdb_close(db);
}

static void test_refusals_keep_the_old_database(void **state)
{
    struct fixture *f = *state;
    build_ok(f->db, TEXT, 2, 5);
    /* duplicates: the error is at the second, and names the first */
    expect_refused(f, "x\n1\nalice\n2\ny\n3\nalice\n4\n", 7, "duplicate of line 3", "\"alice\"");
    expect_refused(f, "u#POP.Example\n\nv\nw\nu@pop.example\n\n", 5, "duplicate of line 1",
                   "\"u@pop.example\"");
    expect_refused(f, "@[::1]\n\n#[0:0::1]\n\n", 3, "duplicate of line 1", "\"@[::1]\"");
    /* what the parser refuses, with its line */
    expect_refused(f, "alice\nnew-pw\n\nbob\n", 3, "blank line", NULL);
    expect_refused(f, "alice\nnew-pw\nbob\n\n", 3, "empty password", NULL);
    expect_refused(f, "alice\nnew-pw\nbob", 3, "without a password line", NULL);
    expect_refused(f, "carol@pop.example:110\n\n", 1, "port", NULL);
    expect_refused(f, "al ice\npw\n", 1, "blank", NULL);
}

static void test_refusal_of_text_with_nul(void **state)
{
    /* expect_refused takes C strings: a NUL inside the text needs its
     * length given. */
    struct fixture *f = *state;
    build_ok(f->db, TEXT, 2, 5);
    static const char text[] = "alice\npw\0x\n";
    struct userdb_build_report r;
    assert_int_equal(userdb_build(text, sizeof(text) - 1, f->db, &r), -1);
    assert_int_equal(r.line, 1);
    assert_non_null(strstr(r.reason, "NUL"));
    assert_int_equal(tmp_leftovers(f->dir), 0);
}

static void test_io_errors(void **state)
{
    struct fixture *f = *state;
    char path[160];
    struct userdb_build_report r;
    snprintf(path, sizeof(path), "%s/no-such-dir/userdb.db", f->dir);
    errno = 0;
    assert_int_equal(build(path, "alice\npw\n", &r), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(r.line, 0);
    assert_non_null(strstr(r.reason, "no-such-dir"));
    /* a directory in the way is not replaced */
    snprintf(path, sizeof(path), "%s/adir", f->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(build(path, "alice\npw\n", &r), -1);
    assert_int_equal(r.line, 0);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(tmp_leftovers(f->dir), 0);
    /* open: a missing file, a file that is not a database */
    errno = 0;
    assert_null(userdb_open(f->db));
    assert_int_equal(errno, ENOENT);
    FILE *fp = fopen(f->db, "w");
    assert_non_null(fp);
    for (int i = 0; i < 1000; i++)
        fputs("not an LMDB file\n", fp);
    fclose(fp);
    errno = 0;
    assert_null(userdb_open(f->db));
    assert_int_not_equal(errno, 0);
}

static void test_leftover_temporary_file_is_not_reused(void **state)
{
    /* A crashed run with our pid left "<db>.tmp.<pid>" holding a user: the
     * build starts from an empty file, so that user does not appear. */
    struct fixture *f = *state;
    char tmp[160];
    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", f->db, (long)getpid());
    struct userdb_build_report r;
    assert_int_equal(build(tmp, "mallory\nm-pw\n", &r), 0);
    build_ok(f->db, "alice\nalice-pw\n", 1, 0);
    struct userdb *db = userdb_open(f->db);
    assert_non_null(db);
    assert_int_equal(userdb_check_password(db, "mallory", "m-pw"), USERDB_UNKNOWN_USER);
    assert_int_equal(userdb_check_password(db, "alice", "alice-pw"), USERDB_OK);
    userdb_close(db);
    assert_int_equal(tmp_leftovers(f->dir), 0);
}

static void test_bad_stored_hash_is_a_failure(void **state)
{
    /* A value crypt(3) cannot use (written by something else than
     * create_userdb) is reported, not taken for a wrong password. */
    struct fixture *f = *state;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, f->db, MDB_NOSUBDIR | MDB_NOLOCK, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val k = {5, "alice"}, v = {5, "*bad*"};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    struct userdb *db = userdb_open(f->db);
    assert_non_null(db);
    assert_int_equal(userdb_check_password(db, "alice", "x"), USERDB_FAILED);
    assert_int_equal(userdb_check_password(db, "bob", "x"), USERDB_UNKNOWN_USER);
    userdb_close(db);
}

static void test_permissions(void **state)
{
    struct fixture *f = *state;
    struct stat st;
    /* new: 0640 whatever the umask */
    mode_t old_mask = umask(0);
    build_ok(f->db, "alice\nalice-pw\n", 1, 0);
    assert_int_equal(stat(f->db, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(unlink(f->db), 0);
    umask(077);
    build_ok(f->db, "alice\nalice-pw\n", 1, 0);
    assert_int_equal(stat(f->db, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    umask(old_mask);
    /* rebuilt: the mode of the file it replaces */
    assert_int_equal(chmod(f->db, 0600), 0);
    build_ok(f->db, "alice\nalice-pw\n", 1, 0);
    assert_int_equal(stat(f->db, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    if (geteuid() != 0)
        skip(); /* the group and owner parts need root */
    /* new: the group of its directory */
    assert_int_equal(unlink(f->db), 0);
    assert_int_equal(chown(f->dir, 0, OTHER_ID), 0);
    build_ok(f->db, "alice\nalice-pw\n", 1, 0);
    assert_int_equal(stat(f->db, &st), 0);
    assert_int_equal(st.st_gid, OTHER_ID);
    assert_int_equal(st.st_uid, 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    /* rebuilt: owner and group of the file it replaces */
    assert_int_equal(chown(f->dir, 0, 0), 0);
    assert_int_equal(chown(f->db, OTHER_ID, 0), 0);
    assert_int_equal(chmod(f->db, 0604), 0);
    build_ok(f->db, "alice\nalice-pw\n", 1, 0);
    assert_int_equal(stat(f->db, &st), 0);
    assert_int_equal(st.st_uid, OTHER_ID);
    assert_int_equal(st.st_gid, 0);
    assert_int_equal(st.st_mode & 07777, 0604);
}

static void test_rebuild_is_atomic_for_readers(void **state)
{
    /* A reader that opened the database before a rebuild keeps reading
     * the old one whole (its inode), one that opens after sees the new one
     * whole: the file is replaced by rename, never written in place. */
    struct fixture *f = *state;
    build_ok(f->db, "alice\nold-pw\ncarol@pop.example\n\n", 1, 1);
    struct stat before, after;
    assert_int_equal(stat(f->db, &before), 0);
    struct userdb *old = userdb_open(f->db);
    assert_non_null(old);
    build_ok(f->db, "alice\nnew-pw\nbob\nbob-pw\n@pop.example\n\n", 2, 1);
    assert_int_equal(stat(f->db, &after), 0);
    assert_int_not_equal(after.st_ino, before.st_ino);
    struct userdb *cur = userdb_open(f->db);
    assert_non_null(cur);
    assert_int_equal(userdb_check_password(old, "alice", "old-pw"), USERDB_OK);
    assert_int_equal(userdb_check_password(old, "alice", "new-pw"), USERDB_BAD_PASSWORD);
    assert_int_equal(userdb_check_password(old, "bob", "bob-pw"), USERDB_UNKNOWN_USER);
    assert_int_equal(userdb_check_account(old, "dave", "pop.example"), USERDB_UNKNOWN_USER);
    assert_int_equal(userdb_check_password(cur, "alice", "new-pw"), USERDB_OK);
    assert_int_equal(userdb_check_password(cur, "alice", "old-pw"), USERDB_BAD_PASSWORD);
    assert_int_equal(userdb_check_password(cur, "bob", "bob-pw"), USERDB_OK);
    assert_int_equal(userdb_check_account(cur, "dave", "pop.example"), USERDB_OK);
    assert_int_equal(userdb_check_account(cur, "carol", "pop.example"), USERDB_OK);
    userdb_close(old);
    userdb_close(cur);
    /* no lock file next to it: readers and the builder use none */
    char lock[160];
    snprintf(lock, sizeof(lock), "%s-lock", f->db);
    assert_int_equal(access(lock, F_OK), -1);
}

static void test_many_entries_and_empty(void **state)
{
    /* The map is sized from the records: thousands of the longest keys
     * fit; an empty text is an empty database (nobody). */
    struct fixture *f = *state;
    enum { N = 4000 };
    size_t cap = (size_t)N * 260 + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t len = 0;
    char server[230];
    for (int i = 0; i < N; i++) {
        snprintf(server, sizeof(server), "%0200d.example", i);
        len += (size_t)snprintf(text + len, cap - len, "u%d@%s\n\n", i, server);
    }
    len += (size_t)snprintf(text + len, cap - len, "alice\nalice-pw\n");
    struct userdb_build_report r;
    if (userdb_build(text, len, f->db, &r) != 0)
        fail_msg("build failed: %s", r.reason);
    free(text);
    assert_int_equal(r.users, 1);
    assert_int_equal(r.entries, N);
    struct userdb *db = userdb_open(f->db);
    assert_non_null(db);
    for (int i = 0; i < N; i += 97) {
        char user[16];
        snprintf(user, sizeof(user), "u%d", i);
        snprintf(server, sizeof(server), "%0200d.EXAMPLE", i);
        assert_int_equal(userdb_check_account(db, user, server), USERDB_OK);
        snprintf(server, sizeof(server), "%0200d.example", i + 1);
        assert_int_equal(userdb_check_account(db, user, server), USERDB_UNKNOWN_USER);
    }
    assert_int_equal(userdb_check_password(db, "alice", "alice-pw"), USERDB_OK);
    userdb_close(db);

    build_ok(f->db, "", 0, 0);
    db = userdb_open(f->db);
    assert_non_null(db);
    assert_int_equal(userdb_check_password(db, "alice", "alice-pw"), USERDB_UNKNOWN_USER);
    assert_int_equal(userdb_check_account(db, "alice", NULL), USERDB_UNKNOWN_USER);
    assert_int_equal(userdb_check_account(db, "u1", "pop.example"), USERDB_UNKNOWN_USER);
    userdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_stores_hashes_not_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_keep_the_old_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusal_of_text_with_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_io_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftover_temporary_file_is_not_reused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_stored_hash_is_a_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rebuild_is_atomic_for_readers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_entries_and_empty, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
