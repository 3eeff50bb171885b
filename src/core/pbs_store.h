/* pbs_store - the POP-before-SMTP database (AUTH-7, G-07).
 *
 * When a POP login through the POP proxy succeeds (POP-6), the client's
 * IP address is recorded with the time; the SMTP proxy with pbs=yes
 * treats that address as authenticated for pbs_lifetime minutes. The two
 * services are separate masters with many worker processes each, so the
 * store is an LMDB environment, which serialises writers and lets readers
 * run beside them across processes.
 *
 * Layout: the directory <tmpdir>/pbs.lmdb (mode 0700) holding LMDB's
 * data.mdb and lock.mdb (mode 0600). One record per address:
 *   key   = the address as text, canonical (inet_ntop: "192.0.2.1",
 *           "2001:db8::1"; an IPv4-mapped IPv6 address is stored as the
 *           IPv4 address, so both services agree whatever socket family
 *           they accepted on);
 *   value = the time of the login, seconds since the epoch, decimal
 *           ASCII without terminator (G-07: the original's encoding, so
 *           `mdb_dump -p` shows it readably; docs/internals/pbs.md).
 * An entry is valid while |now - value| <= lifetime (G-07 says
 * now - value <= lifetime; a stamp in the future, after the clock was
 * stepped back, is held to the same bound instead of lasting forever).
 *
 * The map is PBS_STORE_MAP_SIZE bytes (tens of thousands of addresses).
 * When it is full, record() first deletes the entries older than
 * PBS_STORE_PRUNE_AGE_S (a day: longer than any sensible pbs_lifetime),
 * then, while the map is still full, empties the store (bounded rounds):
 * a flood of distinct addresses costs the other clients a new POP
 * login, never the gateway its service.
 *
 * Processes: open the store in each process that uses it, after fork()
 * (an LMDB environment must not cross a fork); MDB_NOTLS, so a handle does
 * not tie reader slots to threads. Stale reader slots of dead workers are
 * cleared on open and when the reader table is full.
 *
 * What it does not do: no policy (whether pbs is on, which lifetime: the
 * callers pass them), no logging (errors are errno; the caller logs).
 */
#ifndef SEKISHO_CORE_PBS_STORE_H
#define SEKISHO_CORE_PBS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PBS_STORE_DIR_NAME    "pbs.lmdb"
#define PBS_STORE_MAP_SIZE    (16u * 1024u * 1024u)
#define PBS_STORE_MAX_READERS 1024
#define PBS_STORE_PRUNE_AGE_S (24 * 3600)

struct pbs_store;

/* pbs_store_open - open, creating when missing, <dir>/pbs.lmdb. dir must
 * exist (it is tmpdir). The store directory is created 0700 and the LMDB
 * files 0600, owned by the caller: open it first as the user the workers
 * run as. NULL with errno on failure (LMDB's own errors become EIO; a
 * pbs.lmdb that is not a directory gives ENOTDIR).
 * Commits are not synced to disk (MDB_NOSYNC): a record is written by a
 * POP worker on its event loop, which must never wait for the disk
 * (issue 11), and the store has nothing to keep across a crash of the
 * host: the next service start empties it anyway (AUTH-7). Other
 * processes see a commit at once (the map is shared), synced or not.
 */
struct pbs_store *pbs_store_open(const char *dir);
/* pbs_store_open_sized - the same with another map size (tests fill a
 * small map to exercise the pruning; a multiple of the page size). An
 * existing store keeps the larger of its size and map_size. */
struct pbs_store *pbs_store_open_sized(const char *dir, size_t map_size);
void pbs_store_close(struct pbs_store *s);

/* pbs_store_reset - delete every entry (AUTH-7: at service start). Works
 * while other processes have the store open (it is one write transaction,
 * not a file removal). 0, or -1 with errno. */
int pbs_store_reset(struct pbs_store *s);

/* pbs_store_record - ip (text, IPv4 or IPv6) logged in at now. 0, or -1
 * with errno (EINVAL: not an address). */
int pbs_store_record(struct pbs_store *s, const char *ip, int64_t now);

/* pbs_store_lookup - whether ip logged in within lifetime_s of now. False
 * too when ip is not an address or the store cannot be read. */
bool pbs_store_lookup(struct pbs_store *s, const char *ip, int64_t lifetime_s, int64_t now);

/* pbs_store_prune - delete the entries not valid for lifetime_s at now;
 * returns how many, or -1 with errno. */
long pbs_store_prune(struct pbs_store *s, int64_t lifetime_s, int64_t now);

/* pbs_store_count - entries in the store, or -1 with errno. */
long pbs_store_count(struct pbs_store *s);

/* pbs_store_key - the canonical key of ip into out (see above); false
 * when ip is not an IPv4 or IPv6 address. */
#define PBS_STORE_KEY_MAX 46 /* INET6_ADDRSTRLEN */
bool pbs_store_key(const char *ip, char out[PBS_STORE_KEY_MAX]);

#endif
