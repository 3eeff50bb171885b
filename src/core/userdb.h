/* userdb - the user database conf/pam/userdb.db (AUTH-1..3, C-46, G-06).
 *
 * What it does: builds the database from the text of conf/pam/userdb.txt
 * (proto/userdb_parse) and answers the two questions PAM asks of it, for
 * the PAM module pam_sekisho_userdb.so (src/pam/) and for create_userdb:
 * is this the password of this user (HTTP proxy authentication, SMTP
 * AUTH), and may this user log in to this server through the POP/FTP
 * proxy (AUTH-3, POP-6, FTP-4).
 *
 * The file: one LMDB file without a lock file (MDB_NOSUBDIR), default name
 * USERDB_FILE_NAME. One record per userdb.txt record:
 *   key   = the canonical key of proto/userdb_parse (record.canon): a plain
 *           user name as written, or "user@server" / "@server" with the
 *           server lower-cased (userdb_key_for);
 *   value = for a plain user, the crypt(3) hash of the password (yescrypt,
 *           "$y$", libxcrypt's default cost), NUL not included; for a
 *           POP/FTP entry, empty (those entries never authenticate: the
 *           POP/FTP server checks the password, AUTH-3).
 * Plaintext passwords are never stored; the copies this module makes are
 * wiped (explicit_bzero) before it returns.
 *
 * Replaced, never written in place: userdb_build writes a new file next to
 * the old one, syncs it, then rename()s it over the old path. A reader
 * therefore sees either the whole old database or the whole new one, and
 * one that opened the old file keeps reading the old inode (its mapping)
 * until it closes. That is why readers open it MDB_RDONLY|MDB_NOLOCK:
 * LMDB's lock file exists to coordinate readers with a writer of the SAME
 * file, and this file never has one, so readers need no lock file (and no
 * write access to the directory, nor a reader table shared between the
 * proxy's processes). Anything that writes the file in place (mdb_load on
 * it) breaks this; rebuild with create_userdb instead.
 *
 * Permissions: a new file is mode 0640 with the group of its directory (so
 * the group the proxies run as can read it, and nobody else); a rebuild
 * keeps the owner, group and mode of the file it replaces, and fails,
 * leaving the old file, when it cannot give them to the new one.
 *
 * Bounded: the text is bounded by USERDB_FILE_MAX and USERDB_RECORDS_MAX
 * (the parser refuses more), the map is sized from the records.
 *
 * What it does not do: no policy (which service asks, what it does with
 * the answer), no logging (errors are errno values and texts for the
 * caller), no global state (every call works on its own handle; the proxy
 * calls PAM from several threads).
 */
#ifndef SEKISHO_CORE_USERDB_H
#define SEKISHO_CORE_USERDB_H

#include <stddef.h>

#define USERDB_FILE_NAME "userdb.db"
/* The crypt(3) prefix of new hashes: yescrypt (libxcrypt's own default). */
#define USERDB_HASH_PREFIX "$y$"

struct userdb;

/* What userdb_build did, or why it did not. */
struct userdb_build_report {
    unsigned users;   /* plain user names written (HTTP/SMTP authentication) */
    unsigned entries; /* POP/FTP entries written (user@server, @server) */
    unsigned line;    /* on failure: the line of userdb.txt at fault; 0: not a line (I/O) */
    char reason[512]; /* on failure: why, NUL-terminated; names both lines of a duplicate */
};

/* userdb_build - build the database at out_path from text[0..len).
 *
 * The whole text is parsed first; a bad record or two records with one
 * canonical key ("alice#POP.example" and "alice@pop.example" are one)
 * refuse the whole text. Then the records are written to the new file
 * "<out_path>.tmp.<pid>" (a leftover of that name is removed first), which
 * is synced, given its permissions (see above), renamed over out_path and
 * its directory synced. On any failure the temporary file is removed and
 * out_path is left as it was.
 * Returns 0 (r->users and r->entries set), or -1 with errno: EINVAL for a
 * refused text (r->line and r->reason say where and why), otherwise the
 * error of the I/O that failed (r->line 0, r->reason names the file and
 * the step). Slow on purpose: one yescrypt hash per user. */
int userdb_build(const char *text, size_t len, const char *out_path, struct userdb_build_report *r);

/* userdb_open - open the database read-only. NULL with errno on failure
 * (ENOENT: no such file; EIO: not an LMDB file or LMDB's own error). */
struct userdb *userdb_open(const char *path);
void userdb_close(struct userdb *db);

enum userdb_verdict {
    USERDB_OK = 0,
    USERDB_BAD_PASSWORD, /* a known plain user, another password */
    USERDB_UNKNOWN_USER, /* no such plain user (check_password) / no entry allows it (account) */
    USERDB_FAILED,       /* the database could not be read, or holds a bad hash */
};
const char *userdb_verdict_name(enum userdb_verdict v);

/* userdb_check_password - whether password is user's. Only plain keys
 * authenticate: a user name with '@' or '#' never does (it is a POP/FTP
 * entry, which has no password). Takes the time of one hash whatever the
 * answer: an unknown user (or a password too long to be in the database)
 * is checked against a dummy hash, so the time does not tell which user
 * names exist. user and password are NUL-terminated; NULL is unknown /
 * wrong. */
enum userdb_verdict userdb_check_password(struct userdb *db, const char *user,
                                          const char *password);

/* userdb_check_account - whether user may log in through the POP/FTP
 * proxy to server (AUTH-3, POP-6, FTP-4), or, without a server, whether
 * user is a known plain user (HTTP, SMTP).
 *
 * server (NULL or "" for none) is the host the proxy connects to (it
 * split USER itself): a host name, an IPv4 address or an IPv6 address
 * with or without brackets, no port; user is then the user name WHOLE,
 * even with '@' or '#' in it (an e-mail address as a POP user name; and
 * no server can be smuggled in through the name). Without a server, a
 * user containing '@' or '#' is split at the LAST one as
 * proto/user_target splits USER ("alice@pop.example", "alice#[::1]:110":
 * a port is ignored), the form pamtester and a PAM user name carry.
 * With a server: USERDB_OK when "user@server" or "@server" is in the
 * database (the server compared without case); a plain key "user" does
 * NOT allow it (AUTH-3: plain keys are HTTP/SMTP users). Without: OK when
 * the plain key user exists. USERDB_UNKNOWN_USER otherwise (also for a
 * name or server no key can match), USERDB_FAILED when the database
 * cannot be read. */
enum userdb_verdict userdb_check_account(struct userdb *db, const char *user, const char *server);

#endif
