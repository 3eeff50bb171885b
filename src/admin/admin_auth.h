/* admin_auth - who may use the console (docs/internals/admin.md).
 *
 * HTTP Digest (MD5, qop=auth) against conf/sekisho.htdigest, realm fsigk
 * (G-23), read at each request so a changed password counts at once. A
 * session is tied to the digest opaque we issue with each challenge and
 * to a SameSite=Strict cookie; session_timeout seconds without a request
 * end it, and the next request is challenged with a new opaque and
 * stale=false, so the browser asks for the password again (CLI-6: 300 s).
 * Each session has a CSRF token every POST must carry. Failed logins are
 * counted per client address; after login_failures_max in a row the
 * address gets 429 for login_pause seconds without any check. Logins,
 * failures, time-outs and logouts go to the audit log.
 */
#ifndef SEKISHO_ADMIN_ADMIN_AUTH_H
#define SEKISHO_ADMIN_ADMIN_AUTH_H

#include <microhttpd.h>

#include "admin/admin.h"

#define ADMIN_COOKIE_SESSION "sekisho_session"
#define ADMIN_COOKIE_LANG    "sekisho_lang"
#define ADMIN_SESSIONS_MAX   64

enum admin_auth_result {
    ADMIN_AUTH_OK,        /* rq->user, rq->csrf set */
    ADMIN_AUTH_CHALLENGE, /* answer 401 with out->opaque, out->stale */
    ADMIN_AUTH_LIMITED,   /* answer 429, Retry-After: out->retry_after */
};

struct admin_auth_out {
    char opaque[48];
    bool stale;
    unsigned retry_after;
    char set_cookie[160]; /* "" or a Set-Cookie value for a new session */
};

/* admin_auth_init - random state; false if the kernel gives no entropy. */
bool admin_auth_init(void);

/* admin_auth_check - decide about one request. */
enum admin_auth_result admin_auth_check(struct admin_req *rq, struct admin_auth_out *out);

/* admin_auth_csrf_ok - a POST carries its session's token and cookie. */
bool admin_auth_csrf_ok(const struct admin_req *rq);

/* admin_auth_logout - end rq's session: its next request is challenged. */
void admin_auth_logout(const struct admin_req *rq);

/* admin_auth_end_user - end every session of user (a new password). */
void admin_auth_end_user(const char *user);

/* admin_auth_is_default - ha1 is that of the default password "admin". */
bool admin_auth_is_default(const char *user, const unsigned char ha1[16]);

/* admin_auth_session_timeout_set - for tests of the time-out (admin.conf). */

#endif
