/* pam_check - one PAM transaction: a password check (HTTP proxy
 * authentication, SMTP AUTH) or an account check (the POP/FTP user
 * restriction), against a PAM service (AUTH-1: sekisho_http,
 * sekisho_smtp, sekisho_pop, sekisho_ftp; /etc/pam.d/<service>).
 *
 * BLOCKING: a PAM module may talk to an LDAP or RADIUS server, sleep on a
 * failure delay (pam_faildelay) or hash a password for tens of
 * milliseconds. Never call it on a worker's event loop; proxy_auth runs
 * it on a workq thread. It is reentrant: each call has its own PAM
 * handle, and Linux-PAM is thread-safe across handles (a module that is
 * not is the site's choice; ours, pam_sekisho_userdb, is).
 *
 * The conversation answers PAM_PROMPT_ECHO_OFF with the password and
 * PAM_PROMPT_ECHO_ON with the user name, and ignores PAM's messages.
 * Items set: PAM_RHOST = the client's address (pam_unix's failure lines,
 * and fail2ban's pam-generic filter, name it), PAM_RUSER = the user name,
 * PAM_TTY = the service name. For an account check the server the client
 * asked for goes into the PAM environment as SEKISHO_SERVER (AUTH-3:
 * user@server entries), so that PAM_USER stays a plain user name that
 * pam_unix or LDAP also know.
 *
 * Results: OK; DENIED when PAM says the user or the password is wrong
 * (or the account is expired, locked, not permitted); UNAVAILABLE for
 * everything else (no such service file, a module that cannot reach its
 * backend, a missing database): the callers fail closed with a temporary
 * error, never open.
 */
#ifndef SEKISHO_CORE_PAM_CHECK_H
#define SEKISHO_CORE_PAM_CHECK_H

#include <stddef.h>

#define PAM_CHECK_FIELD_MAX 255 /* user, password, server: SASL_FIELD_MAX */

enum pam_check_result {
    PAM_CHECK_OK = 0,
    PAM_CHECK_DENIED,
    PAM_CHECK_UNAVAILABLE,
};

/* "OK", "DENIED", "UNAVAILABLE". */
const char *pam_check_result_name(enum pam_check_result r);

struct pam_check_req {
    const char *service;  /* e.g. "sekisho_smtp" */
    const char *user;     /* the user name, 1..PAM_CHECK_FIELD_MAX bytes */
    const char *password; /* NULL: an account check only (pam_acct_mgmt) */
    const char *rhost;    /* the client's address, or NULL */
    const char *server;   /* account check: the server asked for, or NULL */
};

/* pam_check - run the transaction; why (may be NULL) gets PAM's reason
 * for a result other than OK (pam_strerror of the failing step). */
enum pam_check_result pam_check(const struct pam_check_req *req, char *why, size_t why_len);

#endif
