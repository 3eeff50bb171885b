/* pam_check - see pam_check.h. */
#include "core/pam_check.h"

#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conv_data {
    const char *user;
    const char *password; /* NULL: an account check, nothing to answer */
};

/* converse - PAM asks; we answer from conv_data. PAM frees the replies
 * (and the responses), so they are malloc'd here. */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *arg)
{
    const struct conv_data *d = arg;
    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    struct pam_response *r = calloc((size_t)n, sizeof(*r));
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *answer = NULL;
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            answer = d->password;
            break;
        case PAM_PROMPT_ECHO_ON:
            answer = d->user;
            break;
        case PAM_ERROR_MSG:
        case PAM_TEXT_INFO:
            continue;
        default:
            break;
        }
        if (!answer || !(r[i].resp = strdup(answer))) {
            for (int k = 0; k < i; k++) {
                if (r[k].resp) {
                    explicit_bzero(r[k].resp, strlen(r[k].resp));
                    free(r[k].resp);
                }
            }
            free(r);
            return PAM_CONV_ERR;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

const char *pam_check_result_name(enum pam_check_result r)
{
    switch (r) {
    case PAM_CHECK_OK:
        return "OK";
    case PAM_CHECK_DENIED:
        return "DENIED";
    case PAM_CHECK_UNAVAILABLE:
        return "UNAVAILABLE";
    }
    return "?";
}

/* classify - what a PAM error means for the client: a wrong name or
 * password (or an account PAM will not let in) is DENIED; a broken or
 * unreachable backend is UNAVAILABLE (a temporary failure, never a pass). */
static enum pam_check_result classify(int rc)
{
    switch (rc) {
    case PAM_SUCCESS:
        return PAM_CHECK_OK;
    case PAM_AUTH_ERR:
    case PAM_USER_UNKNOWN:
    case PAM_PERM_DENIED:
    case PAM_ACCT_EXPIRED:
    case PAM_CRED_INSUFFICIENT:
    case PAM_MAXTRIES:
    case PAM_AUTHTOK_EXPIRED:
        return PAM_CHECK_DENIED;
    default:
        return PAM_CHECK_UNAVAILABLE;
    }
}

static enum pam_check_result fail(pam_handle_t *h, int rc, const char *step, char *why,
                                  size_t why_len)
{
    if (why && why_len)
        snprintf(why, why_len, "%s: %s", step, pam_strerror(h, rc));
    return classify(rc);
}

enum pam_check_result pam_check(const struct pam_check_req *req, char *why, size_t why_len)
{
    if (why && why_len)
        why[0] = '\0';
    if (!req->user || !*req->user || strlen(req->user) > PAM_CHECK_FIELD_MAX) {
        if (why && why_len)
            snprintf(why, why_len, "bad user name");
        return PAM_CHECK_DENIED;
    }
    struct conv_data d = {.user = req->user, .password = req->password};
    struct pam_conv conv = {.conv = converse, .appdata_ptr = &d};
    pam_handle_t *h = NULL;
    int rc = pam_start(req->service, req->user, &conv, &h);
    if (rc != PAM_SUCCESS) {
        if (why && why_len)
            snprintf(why, why_len, "pam_start(%s): %s", req->service, pam_strerror(h, rc));
        if (h)
            pam_end(h, rc);
        return PAM_CHECK_UNAVAILABLE;
    }
    enum pam_check_result res = PAM_CHECK_OK;
    if (req->rhost && (rc = pam_set_item(h, PAM_RHOST, req->rhost)) != PAM_SUCCESS)
        res = fail(h, rc, "pam_set_item", why, why_len);
    if (res == PAM_CHECK_OK && (rc = pam_set_item(h, PAM_RUSER, req->user)) != PAM_SUCCESS)
        res = fail(h, rc, "pam_set_item", why, why_len);
    if (res == PAM_CHECK_OK && (rc = pam_set_item(h, PAM_TTY, req->service)) != PAM_SUCCESS)
        res = fail(h, rc, "pam_set_item", why, why_len);
    if (res == PAM_CHECK_OK && req->server) {
        char env[PAM_CHECK_FIELD_MAX + 32];
        snprintf(env, sizeof(env), "SEKISHO_SERVER=%s", req->server);
        if ((rc = pam_putenv(h, env)) != PAM_SUCCESS)
            res = fail(h, rc, "pam_putenv", why, why_len);
    }
    if (res == PAM_CHECK_OK && req->password) {
        rc = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
        if (rc != PAM_SUCCESS)
            res = fail(h, rc, "pam_authenticate", why, why_len);
    }
    if (res == PAM_CHECK_OK) {
        rc = pam_acct_mgmt(h, PAM_SILENT);
        /* An expired password is the password's business (the server, or
         * the site's password change), not the account's existence. */
        if (rc != PAM_SUCCESS && !(rc == PAM_NEW_AUTHTOK_REQD && !req->password))
            res = fail(h, rc == PAM_NEW_AUTHTOK_REQD ? PAM_AUTHTOK_EXPIRED : rc, "pam_acct_mgmt",
                       why, why_len);
    }
    pam_end(h, rc);
    return res;
}
