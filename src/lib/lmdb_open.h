/* lmdb_open - the part of opening an LMDB database every user repeats:
 * open the environment the caller created and configured, open its main
 * database in a transaction, and translate LMDB's return codes to errno.
 * Used by core/pbs_store (the POP-before-SMTP store, read and written by
 * many processes) and core/userdb (the user database, read-only).
 */
#ifndef SEKISHO_LIB_LMDB_OPEN_H
#define SEKISHO_LIB_LMDB_OPEN_H

#include <lmdb.h>
#include <stdbool.h>

/* lmdb_errno - errno for an LMDB return code: LMDB passes system errors
 * through as themselves; of its own (negative, MDB_*) a full map is
 * ENOSPC, a full reader table EAGAIN, the rest EIO. */
int lmdb_errno(int rc);

/* lmdb_open_main - mdb_env_open(env, path, env_flags, mode), then (when
 * check_readers) clear stale reader slots of dead processes, then open
 * the main database into *dbi with a transaction of txn_flags (0 or
 * MDB_RDONLY). Returns 0 or an LMDB code; env stays the caller's to close
 * either way. */
int lmdb_open_main(MDB_env *env, const char *path, unsigned env_flags, mdb_mode_t mode,
                   bool check_readers, unsigned txn_flags, MDB_dbi *dbi);

#endif
