/* Unit tests for core/pbs_store: what is recorded, how long it counts,
 * the on-disk encoding and permissions, several processes at once, and a
 * full map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <lmdb.h>

#include "core/pbs_store.h"

struct fixture {
    char dir[64];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    memcpy(f->dir, "/tmp/sekisho-pbs-XXXXXX", sizeof("/tmp/sekisho-pbs-XXXXXX"));
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static void remove_store(const char *dir)
{
    char p[128];
    static const char *const names[] = {"/pbs.lmdb/data.mdb", "/pbs.lmdb/lock.mdb", "/pbs.lmdb"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", dir, names[i]);
        if (i < 2)
            unlink(p);
        else
            rmdir(p);
    }
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    remove_store(f->dir);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_record_lookup(void **state)
{
    struct fixture *f = *state;
    struct pbs_store *s = pbs_store_open(f->dir);
    assert_non_null(s);
    assert_false(pbs_store_lookup(s, "192.0.2.1", 120, 1000));
    assert_int_equal(pbs_store_record(s, "192.0.2.1", 1000), 0);
    assert_true(pbs_store_lookup(s, "192.0.2.1", 120, 1000));
    assert_true(pbs_store_lookup(s, "192.0.2.1", 120, 1120));  /* now - t == lifetime */
    assert_false(pbs_store_lookup(s, "192.0.2.1", 120, 1121)); /* one second later */
    assert_true(pbs_store_lookup(s, "192.0.2.1", 120, 880));   /* clock stepped back */
    assert_false(pbs_store_lookup(s, "192.0.2.1", 120, 879));
    assert_false(pbs_store_lookup(s, "192.0.2.2", 120, 1000)); /* another address */
    /* a later login renews the entry */
    assert_int_equal(pbs_store_record(s, "192.0.2.1", 2000), 0);
    assert_true(pbs_store_lookup(s, "192.0.2.1", 120, 2100));
    assert_int_equal(pbs_store_count(s), 1);
    /* IPv6, and the IPv4-mapped form meets the IPv4 one */
    assert_int_equal(pbs_store_record(s, "2001:DB8:0::1", 2000), 0);
    assert_true(pbs_store_lookup(s, "2001:db8::1", 60, 2000));
    assert_int_equal(pbs_store_record(s, "::ffff:198.51.100.7", 2000), 0);
    assert_true(pbs_store_lookup(s, "198.51.100.7", 60, 2000));
    assert_int_equal(pbs_store_count(s), 3);
    /* not addresses */
    assert_int_equal(pbs_store_record(s, "pop.example", 2000), -1);
    assert_int_equal(pbs_store_record(s, "", 2000), -1);
    assert_int_equal(pbs_store_record(s, NULL, 2000), -1);
    assert_false(pbs_store_lookup(s, "192.0.2.1 ", 120, 2000));
    assert_int_equal(pbs_store_count(s), 3);
    pbs_store_close(s);

    /* it is a file: another handle sees the entries */
    s = pbs_store_open(f->dir);
    assert_non_null(s);
    assert_true(pbs_store_lookup(s, "192.0.2.1", 120, 2000));
    assert_int_equal(pbs_store_reset(s), 0);
    assert_false(pbs_store_lookup(s, "192.0.2.1", 120, 2000));
    assert_int_equal(pbs_store_count(s), 0);
    pbs_store_close(s);
}

/* The encoding of G-07, read back with plain LMDB (what mdb_dump shows),
 * and the permissions. */
static void test_encoding_and_modes(void **state)
{
    struct fixture *f = *state;
    struct pbs_store *s = pbs_store_open(f->dir);
    assert_non_null(s);
    assert_int_equal(pbs_store_record(s, "203.0.113.9", 1700000000), 0);
    pbs_store_close(s);

    char path[128];
    struct stat st;
    snprintf(path, sizeof(path), "%s/pbs.lmdb", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
    snprintf(path, sizeof(path), "%s/pbs.lmdb/data.mdb", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    snprintf(path, sizeof(path), "%s/pbs.lmdb/lock.mdb", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);

    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    snprintf(path, sizeof(path), "%s/pbs.lmdb", f->dir);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, path, MDB_RDONLY, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val k = {strlen("203.0.113.9"), "203.0.113.9"}, v;
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    assert_int_equal(v.mv_size, 10);
    assert_memory_equal(v.mv_data, "1700000000", 10);
    /* an entry that is not a stamp is ignored and pruned */
    mdb_txn_abort(txn);
    mdb_env_close(env);
    assert_int_equal(mdb_env_create(&env), 0);
    assert_int_equal(mdb_env_open(env, path, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val k2 = {strlen("192.0.2.50"), "192.0.2.50"}, v2 = {3, "abc"};
    assert_int_equal(mdb_put(txn, dbi, &k2, &v2, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    s = pbs_store_open(f->dir);
    assert_non_null(s);
    assert_false(pbs_store_lookup(s, "192.0.2.50", 1000000000, 1700000000));
    assert_int_equal(pbs_store_count(s), 2);
    assert_int_equal(pbs_store_prune(s, 60, 1700000030), 1); /* only the bad one */
    assert_int_equal(pbs_store_prune(s, 60, 1700000061), 1); /* now expired */
    assert_int_equal(pbs_store_count(s), 0);
    pbs_store_close(s);
}

static void test_open_errors(void **state)
{
    struct fixture *f = *state;
    char path[128];
    snprintf(path, sizeof(path), "%s/nonexistent", f->dir);
    assert_null(pbs_store_open(path));
    /* pbs.lmdb that is a file */
    snprintf(path, sizeof(path), "%s/pbs.lmdb", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_null(pbs_store_open(f->dir));
    unlink(path);
}

/* child - open the store after fork, record count addresses, look each
 * up; exit status 0 when all went well. */
static void child(const char *dir, int id, int count)
{
    struct pbs_store *s = pbs_store_open(dir);
    if (!s)
        _exit(10);
    for (int i = 0; i < count; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", id, i / 250, i % 250 + 1);
        if (pbs_store_record(s, ip, 5000 + i) != 0)
            _exit(11);
        if (!pbs_store_lookup(s, ip, 60, 5000 + i))
            _exit(12);
    }
    pbs_store_close(s);
    _exit(0);
}

static void test_two_processes(void **state)
{
    struct fixture *f = *state;
    /* the parent holds the store open across the children's writes */
    struct pbs_store *s = pbs_store_open(f->dir);
    assert_non_null(s);
    assert_int_equal(pbs_store_reset(s), 0);
    enum { N = 200 };
    pid_t pids[2];
    for (int c = 0; c < 2; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0)
            child(f->dir, c + 1, N);
    }
    for (int c = 0; c < 2; c++) {
        int status = -1;
        assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(pbs_store_count(s), 2 * N);
    assert_true(pbs_store_lookup(s, "10.1.0.1", 60, 5000));
    assert_true(pbs_store_lookup(s, "10.2.0.200", 60, 5199));
    assert_false(pbs_store_lookup(s, "10.2.0.200", 60, 5199 + 61));
    /* a reset by one process is seen by another's open handle */
    struct pbs_store *s2 = pbs_store_open(f->dir);
    assert_non_null(s2);
    assert_int_equal(pbs_store_reset(s2), 0);
    pbs_store_close(s2);
    assert_false(pbs_store_lookup(s, "10.1.0.1", 60, 5000));
    assert_int_equal(pbs_store_count(s), 0);
    pbs_store_close(s);
}

/* A full map: recording goes on (old entries are dropped first, then
 * everything), the newest address is always found. */
static void test_map_full(void **state)
{
    struct fixture *f = *state;
    struct pbs_store *s = pbs_store_open_sized(f->dir, 16 * 4096);
    assert_non_null(s);
    long max_seen = 0;
    bool dropped = false;
    for (int i = 0; i < 2000; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "10.%d.%d.%d", i / 62500, i / 250 % 250, i % 250 + 1);
        /* the first half is old: the pruning of PBS_STORE_PRUNE_AGE_S
         * removes it; the second half is recent */
        int64_t t = i < 1000 ? 1000 : 1000 + PBS_STORE_PRUNE_AGE_S + 10;
        assert_int_equal(pbs_store_record(s, ip, t), 0);
        assert_true(pbs_store_lookup(s, ip, 60, t));
        long n = pbs_store_count(s);
        if (n < max_seen)
            dropped = true;
        if (n > max_seen)
            max_seen = n;
    }
    assert_true(dropped); /* the map did fill */
    assert_true(max_seen < 2000);
    pbs_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_record_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_encoding_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
