/* lmdb_open - see lmdb_open.h. */
#include "lib/lmdb_open.h"

#include <errno.h>

int lmdb_errno(int rc)
{
    if (rc > 0)
        return rc;
    if (rc == MDB_MAP_FULL)
        return ENOSPC;
    if (rc == MDB_READERS_FULL)
        return EAGAIN;
    return EIO;
}

int lmdb_open_main(MDB_env *env, const char *path, unsigned env_flags, mdb_mode_t mode,
                   bool check_readers, unsigned txn_flags, MDB_dbi *dbi)
{
    MDB_txn *txn = NULL;
    int rc = mdb_env_open(env, path, env_flags, mode);
    if (rc == 0 && check_readers) {
        int dead = 0;
        mdb_reader_check(env, &dead);
    }
    if (rc == 0)
        rc = mdb_txn_begin(env, NULL, txn_flags, &txn);
    if (rc == 0)
        rc = mdb_dbi_open(txn, NULL, 0, dbi);
    if (rc == 0)
        return mdb_txn_commit(txn);
    if (txn)
        mdb_txn_abort(txn);
    return rc;
}
