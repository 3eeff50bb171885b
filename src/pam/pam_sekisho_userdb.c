/* pam_sekisho_userdb - the PAM module reading Sekisho's user database
 * (AUTH-1..3): conf/pam/userdb.db, built by create_userdb (core/userdb).
 *
 * The shipped PAM services sekisho_{http,smtp,pop,ftp} use it, so the
 * proxies, pamtester and any other PAM application take one path, and a
 * site can replace it by pam_unix, LDAP or RADIUS in the PAM file.
 *
 *   auth    required /path/pam_sekisho_userdb.so db=/path/userdb.db [debug]
 *   account required /path/pam_sekisho_userdb.so db=/path/userdb.db [debug]
 *
 * auth: the password (PAM_AUTHTOK, asked for through the conversation when
 * not set) against the hash of the plain user PAM_USER: PAM_SUCCESS,
 * PAM_AUTH_ERR (wrong password), PAM_USER_UNKNOWN (no such plain user; a
 * name with '@' or '#' never authenticates), PAM_AUTHINFO_UNAVAIL (the
 * database cannot be read). account: whether PAM_USER may log in to the
 * server named by the PAM environment variable SEKISHO_SERVER (the POP and
 * FTP proxies set it; PAM_USER "user@server" carries the server instead,
 * as pamtester can), or, without a server, whether it is a plain user:
 * PAM_SUCCESS, PAM_USER_UNKNOWN, PAM_AUTHINFO_UNAVAIL. setcred: success.
 * A missing db= argument is PAM_SERVICE_ERR, logged with pam_syslog.
 *
 * No state between calls: the database is opened and closed per call (the
 * proxy calls PAM from several threads, and a rebuilt database is seen at
 * the next call). Only the pam_sm_* functions are exported (the library
 * code inside is built -fvisibility=hidden).
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "core/userdb.h"

#define EXPORT __attribute__((visibility("default")))

/* The PAM environment variable naming the POP/FTP server (the host, no
 * port) the proxy is about to connect to. */
#define SERVER_ENV "SEKISHO_SERVER"

struct args {
    const char *db;
    int debug;
};

/* parse_args - the module arguments; 0 (logged) when db= is missing. */
static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
    a->db = NULL;
    a->debug = 0;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "db=", 3) == 0 && argv[i][3] != '\0')
            a->db = argv[i] + 3;
        else if (strcmp(argv[i], "debug") == 0)
            a->debug = 1;
        else
            pam_syslog(pamh, LOG_ERR, "unknown option: %s", argv[i]);
    }
    if (!a->db) {
        pam_syslog(pamh, LOG_ERR, "no db=<path> argument: the user database is not configured");
        return 0;
    }
    return 1;
}

/* get_user - PAM_USER (asked for when not set); a PAM error, or
 * PAM_USER_UNKNOWN for an empty name. */
static int get_user(pam_handle_t *pamh, const char **user)
{
    int rc = pam_get_user(pamh, user, NULL);
    if (rc == PAM_CONV_AGAIN)
        return PAM_INCOMPLETE;
    if (rc != PAM_SUCCESS)
        return rc;
    return *user && (*user)[0] != '\0' ? PAM_SUCCESS : PAM_USER_UNKNOWN;
}

static struct userdb *open_db(pam_handle_t *pamh, const struct args *a)
{
    struct userdb *db = userdb_open(a->db);
    if (!db)
        pam_syslog(pamh, LOG_ERR, "cannot open the user database %s: %s", a->db, strerror(errno));
    return db;
}

EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)flags;
    struct args a;
    if (!parse_args(pamh, argc, argv, &a))
        return PAM_SERVICE_ERR;
    const char *user = NULL, *tok = NULL;
    int rc = get_user(pamh, &user);
    if (rc != PAM_SUCCESS)
        return rc;
    rc = pam_get_authtok(pamh, PAM_AUTHTOK, &tok, NULL);
    if (rc == PAM_CONV_AGAIN)
        return PAM_INCOMPLETE;
    if (rc != PAM_SUCCESS)
        return rc;
    struct userdb *db = open_db(pamh, &a);
    if (!db)
        return PAM_AUTHINFO_UNAVAIL;
    enum userdb_verdict v = userdb_check_password(db, user, tok);
    userdb_close(db);
    if (a.debug)
        pam_syslog(pamh, LOG_DEBUG, "authenticate %s: %s", user, userdb_verdict_name(v));
    switch (v) {
    case USERDB_OK:
        return PAM_SUCCESS;
    case USERDB_BAD_PASSWORD:
        return PAM_AUTH_ERR;
    case USERDB_UNKNOWN_USER:
        return PAM_USER_UNKNOWN;
    case USERDB_FAILED:
        pam_syslog(pamh, LOG_ERR, "the user database %s cannot be read or holds a bad hash", a.db);
        return PAM_AUTHINFO_UNAVAIL;
    }
    return PAM_SERVICE_ERR;
}

EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}

EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)flags;
    struct args a;
    if (!parse_args(pamh, argc, argv, &a))
        return PAM_SERVICE_ERR;
    const char *user = NULL;
    int rc = get_user(pamh, &user);
    if (rc != PAM_SUCCESS)
        return rc;
    const char *server = pam_getenv(pamh, SERVER_ENV);
    struct userdb *db = open_db(pamh, &a);
    if (!db)
        return PAM_AUTHINFO_UNAVAIL;
    enum userdb_verdict v = userdb_check_account(db, user, server);
    userdb_close(db);
    if (a.debug)
        pam_syslog(pamh, LOG_DEBUG, "account %s server %s: %s", user, server ? server : "(none)",
                   userdb_verdict_name(v));
    switch (v) {
    case USERDB_OK:
        return PAM_SUCCESS;
    case USERDB_UNKNOWN_USER:
    case USERDB_BAD_PASSWORD:
        return PAM_USER_UNKNOWN;
    case USERDB_FAILED:
        return PAM_AUTHINFO_UNAVAIL;
    }
    return PAM_SERVICE_ERR;
}
