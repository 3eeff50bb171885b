/* smtp_auth - SMTP AUTH at the proxy (SMTP-8, G-21, proxymail_auth=yes)
 * and whether a session counts as authenticated (SMTP-4, AUTH-4, AUTH-7).
 *
 * The exchanges (proto/sasl decodes them):
 *   PLAIN:  AUTH PLAIN <b64>            or  AUTH PLAIN -> "334 " -> <b64>
 *   LOGIN:  AUTH LOGIN -> "334 VXNlcm5hbWU6" -> <b64 user>
 *                      -> "334 UGFzc3dvcmQ6" -> <b64 password>
 *           (AUTH LOGIN <b64 user> skips the first prompt)
 *   "*" instead of a response cancels: 501.
 * The credentials are checked through PAM service sekisho_smtp
 * (proxy_auth: off the loop; the session takes no other line meanwhile).
 * 235 ok authed / 535 authorization failed / 504 this mechanism not
 * available, as documented; 454 when PAM is unavailable (a temporary
 * failure, never a pass). SMTP_AUTH_FAILURES_MAX failures end the
 * session with 421 (a guesser gets a new connection, and the per-address
 * limit of proxy_auth, for each three guesses), and every failure is a
 * line in the auth log that fail2ban's postfix[mode=auth] filter reads.
 *
 * The 334 lines are not "generated replies" in SMTP-2's sense: their text
 * is the base64 challenge, so no product name follows it.
 */
#include "proxy/smtp/smtp_internal.h"

#include <string.h>

#include "proto/sasl.h"
#include "proxy/proxy_pbs.h"

#define LOGIN_USER_PROMPT "334 VXNlcm5hbWU6\r\n" /* "Username:" */
#define LOGIN_PASS_PROMPT "334 UGFzc3dvcmQ6\r\n" /* "Password:" */
#define PLAIN_PROMPT      "334 \r\n"

bool smtp_authenticated(struct smtp_session *s)
{
    if (s->authed)
        return true;
    /* AUTH-7: a POP login from this address within pbs_lifetime minutes;
     * read at every question, so an address whose time ran out mid-session
     * no longer counts. */
    return s->ps.cfg->pbs && proxy_pbs_valid(s->ps.cfg, s->ps.client.ip);
}

static void raw_reply(struct smtp_session *s, const char *line)
{
    if (!buf_append_cstr(&s->ps.client.out, line))
        s->close_after_out = true;
}

static void auth_reset(struct smtp_session *s)
{
    s->auth_step = SMTP_AUTH_NONE;
    explicit_bzero(s->auth_login_user.bytes, sizeof(s->auth_login_user.bytes));
    s->auth_login_user.len = 0;
}

static void auth_answered(void *arg, enum pam_check_result r)
{
    struct smtp_session *s = arg;
    s->auth = NULL;
    proxy_session_enter(&s->ps);
    switch (r) {
    case PAM_CHECK_OK:
        s->authed = true;
        str_copy(s->auth_user, sizeof(s->auth_user), s->auth_pending_user);
        s->auth_pending_user[0] = '\0';
        svclog_info(&s->ps.log, "SMTP AUTH %s: user [%s] authenticated", s->auth_mech,
                    s->auth_user);
        smtp_session_reply(s, 235, "ok authed");
        break;
    case PAM_CHECK_DENIED:
        s->auth_failures++;
        proxy_auth_log_failure(s->ps.w->auth_pool, s->ps.client.host, s->ps.client.ip, s->auth_mech,
                               s->auth_limited ? "too many failures from this address"
                                               : "authentication failure",
                               s->auth_pending_user);
        svclog_info(&s->ps.log, "SMTP AUTH %s: user [%s] refused (%u in this session)",
                    s->auth_mech, s->auth_pending_user, s->auth_failures);
        smtp_session_reply(s, 535, "authorization failed");
        if (s->auth_failures >= SMTP_AUTH_FAILURES_MAX) {
            smtp_session_reply(s, 421, "4.7.0 Error: too many authentication failures");
            smtp_end_session(s);
        }
        break;
    default:
        smtp_session_reply(s, 454, "4.7.0 Temporary authentication failure");
        break;
    }
    s->auth_pending_user[0] = '\0';
    smtp_finish_command(s);
    proxy_session_leave(&s->ps);
}

/* check - PAM, off the loop; no client line is taken until it answers. */
static void check(struct smtp_session *s, const char *user, const char *password)
{
    str_copy(s->auth_pending_user, sizeof(s->auth_pending_user), user);
    struct proxy_auth_req req = {.user = user, .password = password, .client_ip = s->ps.client.ip};
    s->dlg.busy = true;
    s->auth_limited = proxy_auth_blocked(s->ps.w->auth_pool, s->ps.client.ip);
    s->auth = proxy_auth_start(s->ps.w->auth_pool, &req, &s->ps.log, auth_answered, s);
    if (!s->auth) {
        smtp_session_reply(s, 454, "4.7.0 Temporary authentication failure");
        s->dlg.busy = false;
    }
}

/* refuse - a response that cannot be credentials. */
static void refuse(struct smtp_session *s, enum sasl_result r, const char *user)
{
    auth_reset(s);
    if (r == SASL_CANCEL) {
        smtp_session_reply(s, 501, "Authentication cancelled");
    } else if (r == SASL_BAD_BASE64) {
        smtp_session_reply(s, 501, "5.5.2 Cannot decode response");
    } else {
        /* A malformed message counts as a failed guess. */
        s->auth_failures++;
        proxy_auth_log_failure(s->ps.w->auth_pool, s->ps.client.host, s->ps.client.ip, s->auth_mech,
                               "malformed credentials", user);
        smtp_session_reply(s, 535, "authorization failed");
        if (s->auth_failures >= SMTP_AUTH_FAILURES_MAX) {
            smtp_session_reply(s, 421, "4.7.0 Error: too many authentication failures");
            smtp_end_session(s);
        }
    }
}

static void plain_response(struct smtp_session *s, struct str b64)
{
    struct sasl_plain p;
    enum sasl_result r = sasl_plain_decode(b64, &p);
    if (r == SASL_OK && p.authzid_other)
        r = SASL_MALFORMED; /* acting as another user: no such right here */
    if (r != SASL_OK) {
        refuse(s, r, r == SASL_MALFORMED ? p.user.bytes : "");
        explicit_bzero(&p, sizeof(p));
        return;
    }
    auth_reset(s);
    check(s, p.user.bytes, p.password.bytes);
    explicit_bzero(&p, sizeof(p));
}

static void login_user(struct smtp_session *s, struct str b64)
{
    enum sasl_result r = sasl_login_decode(b64, &s->auth_login_user);
    if (r != SASL_OK) {
        refuse(s, r, "");
        return;
    }
    s->auth_step = SMTP_AUTH_LOGIN_PASS;
    raw_reply(s, LOGIN_PASS_PROMPT);
}

static void login_pass(struct smtp_session *s, struct str b64)
{
    struct sasl_field pw;
    enum sasl_result r = sasl_login_decode(b64, &pw);
    if (r != SASL_OK) {
        refuse(s, r, s->auth_login_user.bytes);
        explicit_bzero(&pw, sizeof(pw));
        return;
    }
    char user[SASL_FIELD_MAX + 1];
    str_copy(user, sizeof(user), s->auth_login_user.bytes);
    auth_reset(s);
    check(s, user, pw.bytes);
    explicit_bzero(&pw, sizeof(pw));
}

void smtp_auth_response(struct smtp_session *s, struct str line)
{
    switch (s->auth_step) {
    case SMTP_AUTH_PLAIN:
        plain_response(s, line);
        break;
    case SMTP_AUTH_LOGIN_USER:
        login_user(s, line);
        break;
    case SMTP_AUTH_LOGIN_PASS:
        login_pass(s, line);
        break;
    default:
        auth_reset(s);
        break;
    }
}

void smtp_auth_command(struct smtp_session *s, struct str arg)
{
    if (s->authed) {
        smtp_session_reply(s, 503, "5.5.1 Error: already authenticated");
        return;
    }
    if (s->m.have_mail) {
        smtp_session_reply(s, 503, "5.5.1 Error: MAIL transaction in progress");
        return;
    }
    if (s->xclient_done && (s->xoffer.xclient & SMTP_XATTR_LOGIN)) {
        /* The parent was told this client (XCLIENT, smtp_xclient.c) at the
         * first MAIL, without a login, and takes no second XCLIENT: an
         * AUTH now would let the gateway relay what the parent refuses. */
        smtp_session_reply(s, 503, "5.5.1 Error: AUTH must come before the first MAIL");
        return;
    }
    struct sasl_auth a;
    if (!sasl_auth_parse(arg, &a)) {
        smtp_session_reply(s, 501, "Syntax error (AUTH mechanism [initial-response])");
        return;
    }
    if (a.mech == SASL_MECH_OTHER) {
        smtp_session_reply(s, 504, "this mechanism not available");
        return;
    }
    str_copy(s->auth_mech, sizeof(s->auth_mech), sasl_mech_name(a.mech));
    if (a.mech == SASL_MECH_PLAIN) {
        if (a.has_initial) {
            plain_response(s, a.initial);
        } else {
            s->auth_step = SMTP_AUTH_PLAIN;
            raw_reply(s, PLAIN_PROMPT);
        }
        return;
    }
    if (a.has_initial) {
        login_user(s, a.initial);
    } else {
        s->auth_step = SMTP_AUTH_LOGIN_USER;
        raw_reply(s, LOGIN_USER_PROMPT);
    }
}

void smtp_auth_stop(struct smtp_session *s)
{
    proxy_auth_cancel(s->auth);
    s->auth = NULL;
    auth_reset(s);
}
