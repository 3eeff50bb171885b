/* userdb - the user database on LMDB; see userdb.h. */
#include "core/userdb.h"

#include "lib/lmdb_open.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "proto/user_target.h"
#include "proto/userdb_parse.h"

/* Room for a stored hash (a yescrypt hash is 73 bytes; crypt(3) outputs
 * are at most CRYPT_OUTPUT_SIZE). */
#define HASH_MAX CRYPT_OUTPUT_SIZE
/* Map size per record: the key, a hash, LMDB's node header, then a factor
 * for half-full pages and branch pages; plus a floor. Address space only:
 * without MDB_WRITEMAP the file grows to the pages written. */
#define MAP_PER_RECORD_EXTRA (128 + 16)
#define MAP_FACTOR           4
#define MAP_FLOOR            (1024u * 1024u)

struct userdb {
    MDB_env *env;
    MDB_dbi dbi;
};

const char *userdb_verdict_name(enum userdb_verdict v)
{
    switch (v) {
    case USERDB_OK:
        return "OK";
    case USERDB_BAD_PASSWORD:
        return "BAD_PASSWORD";
    case USERDB_UNKNOWN_USER:
        return "UNKNOWN_USER";
    case USERDB_FAILED:
        return "FAILED";
    }
    return "?";
}

/* ---- building ------------------------------------------------------------------------- */

/* report_fail - set the failure of r (line 0: not a line of the text) and
 * errno; returns -1. */
static int report_fail(struct userdb_build_report *r, int err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int report_fail(struct userdb_build_report *r, int err, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
    va_end(ap);
    r->line = line;
    errno = err;
    return -1;
}

/* first_line_of - the line of the first record of text whose canonical
 * key is canon (the earlier half of a duplicate); 0 when none. */
static unsigned first_line_of(const char *text, size_t len, const char *canon)
{
    struct userdb_parser p;
    struct userdb_record rec;
    struct userdb_error e;
    userdb_parser_init(&p, text, len);
    while (userdb_next(&p, &rec, &e) == USERDB_RECORD)
        if (strcmp(rec.canon, canon) == 0)
            return rec.line;
    return 0;
}

/* dir_of - the directory part of path ("." when it has none). */
static bool dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return str_copy(out, cap, ".") < cap;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= cap)
        return false;
    memcpy(out, path, n);
    out[n] = '\0';
    return true;
}

/* set_owner_mode - the permissions of the new file fd (userdb.h): those of
 * the file it replaces (old, when have_old), else 0640 and the group of
 * dir (kept as ours when we may not give it that group). */
static int set_owner_mode(int fd, bool have_old, const struct stat *old, const struct stat *dir,
                          const char *out_path, struct userdb_build_report *r)
{
    if (have_old) {
        if (fchown(fd, old->st_uid, old->st_gid) < 0)
            return report_fail(r, errno, 0,
                               "%s: cannot give the new database the owner and group of the old "
                               "one (uid %ld, gid %ld): %s",
                               out_path, (long)old->st_uid, (long)old->st_gid, strerror(errno));
        if (fchmod(fd, old->st_mode & 07777) < 0)
            return report_fail(r, errno, 0, "%s: cannot set the mode of the new database: %s",
                               out_path, strerror(errno));
        return 0;
    }
    if (fchown(fd, (uid_t)-1, dir->st_gid) < 0 && errno != EPERM)
        return report_fail(r, errno, 0, "%s: cannot set the group of the new database: %s",
                           out_path, strerror(errno));
    if (fchmod(fd, 0640) < 0)
        return report_fail(r, errno, 0, "%s: cannot set the mode of the new database: %s", out_path,
                           strerror(errno));
    return 0;
}

/* hash_password - the crypt(3) hash of pw[0..len) with a new random salt
 * into out (NUL-terminated). cd is the caller's scratch. */
static bool hash_password(struct str pw, struct crypt_data *cd, char out[HASH_MAX])
{
    char phrase[USERDB_PASSWORD_MAX + 1];
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    bool ok = false;
    if (pw.len < sizeof(phrase) &&
        crypt_gensalt_rn(USERDB_HASH_PREFIX, 0, NULL, 0, setting, sizeof(setting))) {
        memcpy(phrase, pw.ptr, pw.len);
        phrase[pw.len] = '\0';
        const char *h = crypt_rn(phrase, setting, cd, sizeof(*cd));
        ok = h && h[0] != '*' && str_copy(out, HASH_MAX, h) < HASH_MAX;
        explicit_bzero(phrase, sizeof(phrase));
    }
    return ok;
}

/* write_records - the records of text into dbi: first every key with an
 * empty value, refusing duplicates before any (slow) hash is computed,
 * then the hashes of the plain users. */
static int write_records(MDB_txn *txn, MDB_dbi dbi, const char *text, size_t len,
                         struct userdb_build_report *r)
{
    struct userdb_parser p;
    struct userdb_record rec;
    struct userdb_error e;
    userdb_parser_init(&p, text, len);
    while (userdb_next(&p, &rec, &e) == USERDB_RECORD) {
        MDB_val k = {rec.canon_len, rec.canon}, v = {0, (void *)""};
        int rc = mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
            return report_fail(r, EINVAL, rec.line,
                               "duplicate of line %u: both are the key \"%s\" (user#server is "
                               "user@server, and the server is compared without case)",
                               first_line_of(text, len, rec.canon), rec.canon);
        if (rc != 0)
            return report_fail(r, lmdb_errno(rc), 0, "writing key \"%s\": %s", rec.canon,
                               mdb_strerror(rc));
    }
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        return report_fail(r, ENOMEM, 0, "no memory for crypt(3)");
    int ret = 0;
    char hash[HASH_MAX];
    userdb_parser_init(&p, text, len);
    while (ret == 0 && userdb_next(&p, &rec, &e) == USERDB_RECORD) {
        if (rec.kind != USERDB_KEY_PLAIN)
            continue;
        if (!hash_password(rec.password, cd, hash)) {
            ret = report_fail(r, EIO, rec.line, "crypt(3) could not hash the password (%s)",
                              USERDB_HASH_PREFIX);
            break;
        }
        MDB_val k = {rec.canon_len, rec.canon}, v = {strlen(hash), hash};
        int rc = mdb_put(txn, dbi, &k, &v, 0);
        if (rc != 0)
            ret = report_fail(r, lmdb_errno(rc), 0, "writing key \"%s\": %s", rec.canon,
                              mdb_strerror(rc));
    }
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ret;
}

/* write_db - a new database file at tmp holding the records, synced, with
 * its permissions. */
static int write_db(const char *tmp, size_t map_size, const char *text, size_t len, bool have_old,
                    const struct stat *old, const struct stat *dir, const char *out_path,
                    struct userdb_build_report *r)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    int fd = -1;
    /* No lock file: nobody else knows this file until it is renamed. */
    int rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_mapsize(env, map_size);
    if (rc == 0)
        rc = mdb_env_open(env, tmp, MDB_NOSUBDIR | MDB_NOLOCK, 0600);
    if (rc != 0) {
        if (env)
            mdb_env_close(env);
        return report_fail(r, lmdb_errno(rc), 0, "%s: cannot create: %s", tmp, mdb_strerror(rc));
    }
    int ret = 0;
    if (mdb_env_get_fd(env, &fd) != 0 || fd < 0)
        ret = report_fail(r, EIO, 0, "%s: no descriptor", tmp);
    if (ret == 0)
        ret = set_owner_mode(fd, have_old, old, dir, out_path, r);
    if (ret == 0 && (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0)
        rc = mdb_dbi_open(txn, NULL, 0, &dbi);
    if (ret == 0 && rc != 0)
        ret = report_fail(r, lmdb_errno(rc), 0, "%s: %s", tmp, mdb_strerror(rc));
    if (ret == 0)
        ret = write_records(txn, dbi, text, len, r);
    if (ret == 0) {
        rc = mdb_txn_commit(txn); /* synced: not opened MDB_NOSYNC */
        txn = NULL;
        if (rc == 0)
            rc = mdb_env_sync(env, 1);
        if (rc != 0)
            ret = report_fail(r, lmdb_errno(rc), 0, "%s: writing: %s", tmp, mdb_strerror(rc));
    }
    if (txn)
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return ret;
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int userdb_build(const char *text, size_t len, const char *out_path, struct userdb_build_report *r)
{
    memset(r, 0, sizeof(*r));
    /* The whole text is checked before any file is touched. */
    struct userdb_parser p;
    struct userdb_record rec;
    struct userdb_error e = {0};
    enum userdb_result res;
    size_t map_bytes = 0;
    userdb_parser_init(&p, text, len);
    while ((res = userdb_next(&p, &rec, &e)) == USERDB_RECORD) {
        if (rec.kind == USERDB_KEY_PLAIN)
            r->users++;
        else
            r->entries++;
        map_bytes += rec.canon_len + MAP_PER_RECORD_EXTRA;
    }
    if (res == USERDB_ERROR) {
        unsigned users = r->users, entries = r->entries;
        report_fail(r, EINVAL, e.line, "%s", e.reason);
        r->users = users;
        r->entries = entries;
        return -1;
    }
    /* At most USERDB_RECORDS_MAX * (255 + 144) bytes: no overflow. */
    size_t map_size = map_bytes * MAP_FACTOR + MAP_FLOOR;
    long page = sysconf(_SC_PAGESIZE);
    if (page > 0)
        map_size = (map_size + (size_t)page - 1) / (size_t)page * (size_t)page;

    char dir[4096], tmp[4096];
    if (!dir_of(out_path, dir, sizeof(dir)) ||
        snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", out_path, (long)getpid()) >= (int)sizeof(tmp))
        return report_fail(r, ENAMETOOLONG, 0, "%s: path too long", out_path);
    struct stat old, dst;
    memset(&old, 0, sizeof(old));
    bool have_old = stat(out_path, &old) == 0;
    if (!have_old && errno != ENOENT)
        return report_fail(r, errno, 0, "%s: %s", out_path, strerror(errno));
    if (have_old && !S_ISREG(old.st_mode))
        return report_fail(r, EISDIR, 0, "%s: not a regular file", out_path);
    if (stat(dir, &dst) < 0)
        return report_fail(r, errno, 0, "%s: its directory %s: %s", out_path, dir, strerror(errno));
    /* A leftover of a crashed run with our pid would be added to. */
    if (unlink(tmp) < 0 && errno != ENOENT)
        return report_fail(r, errno, 0, "%s: cannot remove: %s", tmp, strerror(errno));
    if (write_db(tmp, map_size, text, len, have_old, &old, &dst, out_path, r) < 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    if (rename(tmp, out_path) < 0) {
        int err = errno;
        unlink(tmp);
        return report_fail(r, err, 0, "%s: cannot rename %s over it: %s", out_path, tmp,
                           strerror(err));
    }
    sync_dir(dir);
    return 0;
}

/* ---- reading -------------------------------------------------------------------------- */

struct userdb *userdb_open(const char *path)
{
    struct userdb *db = calloc(1, sizeof(*db));
    if (!db)
        return NULL;
    int rc = mdb_env_create(&db->env);
    if (rc == 0)
        rc = lmdb_open_main(db->env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0, false,
                            MDB_RDONLY, &db->dbi);
    if (rc != 0) {
        if (db->env)
            mdb_env_close(db->env);
        free(db);
        errno = lmdb_errno(rc);
        return NULL;
    }
    return db;
}

void userdb_close(struct userdb *db)
{
    if (!db)
        return;
    mdb_env_close(db->env);
    free(db);
}

/* lookup - whether key is in db; the value copied into val (NUL-terminated,
 * cap bytes) when val is not NULL. 1 found, 0 not found, -1 unreadable or a
 * value that does not fit. */
static int lookup(struct userdb *db, struct str key, char *val, size_t cap)
{
    if (key.len == 0 || key.len > USERDB_KEY_MAX)
        return 0;
    MDB_txn *txn;
    if (mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn) != 0)
        return -1;
    MDB_val k = {key.len, (void *)key.ptr}, v;
    int rc = mdb_get(txn, db->dbi, &k, &v);
    int ret = rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : -1;
    if (ret == 1 && val) {
        if (v.mv_size >= cap) {
            ret = -1;
        } else {
            memcpy(val, v.mv_data, v.mv_size);
            val[v.mv_size] = '\0';
        }
    }
    mdb_txn_abort(txn);
    return ret;
}

/* same_text - a and b are equal, in a time that does not depend on where
 * they differ (their lengths are not secret: every hash of one kind has
 * one length). */
static bool same_text(const char *a, const char *b)
{
    size_t n = strlen(a);
    if (n != strlen(b))
        return false;
    volatile unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

enum userdb_verdict userdb_check_password(struct userdb *db, const char *user, const char *password)
{
    char hash[HASH_MAX];
    bool known = false;
    if (user && !strpbrk(user, "@#")) {
        int found = lookup(db, str_from_cstr(user), hash, sizeof(hash));
        if (found < 0)
            return USERDB_FAILED;
        known = found == 1 && hash[0] != '\0';
    }
    if (!known) {
        /* A dummy setting of the same cost as the stored hashes (libxcrypt's
         * default), so an unknown name costs what a known one does. */
        static const char zeros[16] = {0};
        if (!crypt_gensalt_rn(USERDB_HASH_PREFIX, 0, zeros, sizeof(zeros), hash, sizeof(hash)))
            return USERDB_FAILED;
    }
    /* A password longer than any in the database cannot match; hash the
     * empty one instead, for the time. */
    bool too_long = !password || strlen(password) > USERDB_PASSWORD_MAX;
    struct crypt_data *cd = calloc(1, sizeof(*cd));
    if (!cd)
        return USERDB_FAILED;
    const char *out = crypt_rn(too_long ? "" : password, hash, cd, sizeof(*cd));
    bool computed = out && out[0] != '*';
    bool match = computed && known && !too_long && same_text(out, hash);
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    if (!known)
        return USERDB_UNKNOWN_USER;
    if (!computed)
        return USERDB_FAILED; /* the stored value is not a hash crypt(3) knows */
    return match ? USERDB_OK : USERDB_BAD_PASSWORD;
}

/* server_host - the host part of server ("host", "host:port", "[v6]",
 * "[v6]:port", or a bare IPv6 address) as userdb_key_for takes it. */
static bool server_host(struct str server, struct str *host)
{
    char tmp[2 + USER_TARGET_HOST_MAX + 8];
    if (server.len > sizeof(tmp) - 2)
        return false;
    tmp[0] = 'u';
    tmp[1] = '@';
    memcpy(tmp + 2, server.ptr, server.len);
    struct user_target t;
    if (user_target_split(str_make(tmp, server.len + 2), &t) == USER_TARGET_HOST &&
        t.name.len == 1) {
        *host = str_make(server.ptr + (t.host.ptr - tmp - 2), t.host.len);
        return true;
    }
    if (server.len > 0 && server.ptr[0] != '[' && str_find_char(server, ':') >= 0) {
        *host = server; /* a bare IPv6 address: userdb_key_for reads it */
        return true;
    }
    return false;
}

enum userdb_verdict userdb_check_account(struct userdb *db, const char *user, const char *server)
{
    if (!user || user[0] == '\0')
        return USERDB_UNKNOWN_USER;
    struct str u = str_from_cstr(user);
    struct str name = u, host;
    if (server && server[0]) {
        /* The proxy split USER already and names the server: the user
         * name is taken whole, '@' and all. Reading a server out of it
         * would let "alice@a.example@b.example" in on b.example with
         * a.example's entry. */
        if (!server_host(str_from_cstr(server), &host))
            return USERDB_UNKNOWN_USER;
    } else {
        struct user_target t;
        switch (user_target_split(u, &t)) {
        case USER_TARGET_HOST: /* "user@server" as pamtester passes it */
            name = t.name;
            host = t.host;
            break;
        case USER_TARGET_PLAIN: {
            int found = lookup(db, name, NULL, 0);
            return found < 0 ? USERDB_FAILED : found ? USERDB_OK : USERDB_UNKNOWN_USER;
        }
        case USER_TARGET_SYNTAX:
        default:
            return USERDB_UNKNOWN_USER;
        }
    }
    char key[USERDB_KEY_MAX + 1];
    size_t n = userdb_key_for(name, host, key, sizeof(key));
    int found = n > 0 ? lookup(db, str_make(key, n), NULL, 0) : 0;
    if (found == 0) {
        n = userdb_key_for(str_make(name.ptr, 0), host, key, sizeof(key));
        found = n > 0 ? lookup(db, str_make(key, n), NULL, 0) : 0;
    }
    return found < 0 ? USERDB_FAILED : found ? USERDB_OK : USERDB_UNKNOWN_USER;
}
