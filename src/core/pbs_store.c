/* pbs_store - the POP-before-SMTP database on LMDB; see pbs_store.h. */
#include "core/pbs_store.h"

#include "lib/lmdb_open.h"

#include <arpa/inet.h>
#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/buf.h"
#include "lib/str.h"

struct pbs_store {
    MDB_env *env;
    MDB_dbi dbi;
};

/* set_errno - errno for an LMDB return code (lib/lmdb_open); returns -1. */
static int set_errno(int rc)
{
    errno = lmdb_errno(rc);
    return -1;
}

bool pbs_store_key(const char *ip, char out[PBS_STORE_KEY_MAX])
{
    unsigned char a[16];
    if (!ip)
        return false;
    if (inet_pton(AF_INET, ip, a) == 1)
        return inet_ntop(AF_INET, a, out, PBS_STORE_KEY_MAX) != NULL;
    if (inet_pton(AF_INET6, ip, a) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, sizeof(mapped)) == 0)
        return inet_ntop(AF_INET, a + 12, out, PBS_STORE_KEY_MAX) != NULL;
    return inet_ntop(AF_INET6, a, out, PBS_STORE_KEY_MAX) != NULL;
}

/* parse_stamp - the decimal value of an entry; false when it is not one
 * (an entry written by something else is ignored, and pruned). */
static bool parse_stamp(const MDB_val *v, int64_t *out)
{
    uint64_t t = 0;
    if (!str_to_u64(str_make(v->mv_data, v->mv_size), (uint64_t)INT64_MAX, &t))
        return false;
    *out = (int64_t)t;
    return true;
}

static bool stamp_valid(int64_t stamp, int64_t lifetime_s, int64_t now)
{
    int64_t d = now - stamp;
    return lifetime_s >= 0 && d <= lifetime_s && d >= -lifetime_s;
}

struct pbs_store *pbs_store_open(const char *dir)
{
    return pbs_store_open_sized(dir, PBS_STORE_MAP_SIZE);
}

struct pbs_store *pbs_store_open_sized(const char *dir, size_t map_size)
{
    char path[4096];
    struct buf p;
    buf_init(&p, path, sizeof(path));
    if (!dir || !buf_printf(&p, "%s/%s", dir, PBS_STORE_DIR_NAME)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    const char *spath = buf_cstr(&p);
    if (!spath) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    if (mkdir(spath, 0700) < 0 && errno != EEXIST)
        return NULL;
    struct stat st;
    if (lstat(spath, &st) < 0)
        return NULL;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return NULL;
    }
    struct pbs_store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    int rc = mdb_env_create(&s->env);
    if (rc == 0)
        rc = mdb_env_set_mapsize(s->env, map_size);
    if (rc == 0)
        rc = mdb_env_set_maxreaders(s->env, PBS_STORE_MAX_READERS);
    if (rc == 0)
        rc = lmdb_open_main(s->env, spath, MDB_NOTLS | MDB_NOSYNC, 0600, true, 0, &s->dbi);
    if (rc != 0) {
        if (s->env)
            mdb_env_close(s->env);
        free(s);
        set_errno(rc);
        return NULL;
    }
    return s;
}

void pbs_store_close(struct pbs_store *s)
{
    if (!s)
        return;
    mdb_env_close(s->env);
    free(s);
}

/* begin - a transaction; a full reader table is most likely slots of
 * killed workers: cleared once, then tried again. */
static int begin(struct pbs_store *s, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(s->env, NULL, flags, txn);
    if (rc == MDB_READERS_FULL) {
        int dead = 0;
        mdb_reader_check(s->env, &dead);
        rc = mdb_txn_begin(s->env, NULL, flags, txn);
    }
    return rc;
}

int pbs_store_reset(struct pbs_store *s)
{
    MDB_txn *txn;
    int rc = begin(s, 0, &txn);
    if (rc != 0)
        return set_errno(rc);
    rc = mdb_drop(txn, s->dbi, 0);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return set_errno(rc);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? 0 : set_errno(rc);
}

/* prune_txn - delete, inside txn, the entries not valid for lifetime_s at
 * now (and entries that are not stamps). Returns the count, or an LMDB
 * error as a negative number below -1. */
static long prune_txn(struct pbs_store *s, MDB_txn *txn, int64_t lifetime_s, int64_t now, int *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, s->dbi, &cur);
    if (rc != 0) {
        *err = rc;
        return -1;
    }
    long n = 0;
    MDB_val k, v;
    /* One pass over the map: bounded by its entries. */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int64_t stamp;
        if (parse_stamp(&v, &stamp) && stamp_valid(stamp, lifetime_s, now))
            continue;
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0)
            break;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        *err = rc;
        return -1;
    }
    return n;
}

long pbs_store_prune(struct pbs_store *s, int64_t lifetime_s, int64_t now)
{
    MDB_txn *txn;
    int rc = begin(s, 0, &txn);
    if (rc != 0)
        return set_errno(rc);
    int err = 0;
    long n = prune_txn(s, txn, lifetime_s, now, &err);
    if (n < 0) {
        mdb_txn_abort(txn);
        return set_errno(err);
    }
    rc = mdb_txn_commit(txn);
    return rc == 0 ? n : set_errno(rc);
}

/* put - one write transaction storing key = stamp. */
static int put(struct pbs_store *s, const char *key, int64_t now)
{
    char val[24];
    struct buf b;
    buf_init(&b, val, sizeof(val));
    if (!buf_printf(&b, "%lld", (long long)(now < 0 ? 0 : now)))
        return EINVAL;
    MDB_txn *txn;
    int rc = begin(s, 0, &txn);
    if (rc != 0)
        return rc;
    MDB_val k = {strlen(key), (void *)key}, v = {buf_len(&b), buf_rptr(&b)};
    rc = mdb_put(txn, s->dbi, &k, &v, 0);
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

int pbs_store_record(struct pbs_store *s, const char *ip, int64_t now)
{
    char key[PBS_STORE_KEY_MAX];
    if (!pbs_store_key(ip, key)) {
        errno = EINVAL;
        return -1;
    }
    /* A full map: delete the old entries, then everything (pbs_store.h).
     * Pages freed by a commit can be used again only two commits later
     * (LMDB keeps the previous snapshot for readers), hence a few rounds;
     * bounded. */
    int rc = put(s, key, now);
    for (int round = 0; rc == MDB_MAP_FULL && round < 3; round++) {
        if (round > 0 || pbs_store_prune(s, PBS_STORE_PRUNE_AGE_S, now) <= 0)
            if (pbs_store_reset(s) < 0)
                return -1;
        rc = put(s, key, now);
    }
    return rc == 0 ? 0 : set_errno(rc);
}

bool pbs_store_lookup(struct pbs_store *s, const char *ip, int64_t lifetime_s, int64_t now)
{
    char key[PBS_STORE_KEY_MAX];
    if (!pbs_store_key(ip, key))
        return false;
    MDB_txn *txn;
    if (begin(s, MDB_RDONLY, &txn) != 0)
        return false;
    MDB_val k = {strlen(key), key}, v;
    int64_t stamp = 0;
    bool ok = mdb_get(txn, s->dbi, &k, &v) == 0 && parse_stamp(&v, &stamp) &&
              stamp_valid(stamp, lifetime_s, now);
    mdb_txn_abort(txn);
    return ok;
}

long pbs_store_count(struct pbs_store *s)
{
    MDB_txn *txn;
    int rc = begin(s, MDB_RDONLY, &txn);
    if (rc != 0)
        return set_errno(rc);
    MDB_stat st;
    rc = mdb_stat(txn, s->dbi, &st);
    mdb_txn_abort(txn);
    return rc == 0 ? (long)st.ms_entries : set_errno(rc);
}
