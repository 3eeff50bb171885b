/* http_auth - HTTP proxy authentication (HTTP-5, proxyauth_pam_auth=yes).
 *
 * Every request, CONNECT and ftp:// included, needs good Basic
 * credentials in Proxy-Authorization, checked through PAM service
 * sekisho_http (proxy_auth: off the loop, good answers cached for a
 * minute). Missing, malformed, or wrong credentials get 407 Proxy
 * Authentication Required with Proxy-Authenticate: Basic realm="input
 * proxy user/pass" (responses.tsv rows 10-11); the connection closes
 * after it, so that a request body the client may still send is never
 * read as the next request. PAM broken or unreachable: 503, never a pass.
 * The admitted user goes to the access log's user field; the header is
 * never forwarded (http1_rewrite's strip_proxy_auth).
 *
 * A client over the failure limit (proxy_auth) gets the 407 without PAM
 * being asked.
 */
#include "proxy/http/http_internal.h"

#include <string.h>

#include "proto/basic_auth.h"

#define REALM_HEADER "Proxy-Authenticate: Basic realm=\"input proxy user/pass\"\r\n"

static void reply_407(struct http_session *s, const char *why)
{
    s->t.keep_client = false;
    s->server_reusable = false;
    str_copy(s->t.o.error, sizeof(s->t.o.error), why);
    char url[HTTP1_URL_MAX + 1];
    http_url_text(s, url, sizeof(url));
    http_queue_page_vars(s, s->ps.w->res->tpl_error, 407, "Proxy Authentication Required", url,
                         NULL, 0, STR_LIT(REALM_HEADER));
    s->t.send_spool = false;
    http_start_reply(s);
}

static void auth_answered(void *arg, enum pam_check_result r)
{
    struct http_session *s = arg;
    s->auth = NULL;
    proxy_session_enter(&s->ps);
    switch (r) {
    case PAM_CHECK_OK:
        s->t.auth_ok = true;
        s->state = HTTP_ST_REQUEST;
        http_request_route(s);
        break;
    case PAM_CHECK_DENIED:
        svclog_info(&s->ps.log, "Proxy authentication failed: user [%s]", s->t.user);
        proxy_auth_log_failure(s->ps.w->auth_pool, s->ps.client.host, s->ps.client.ip, "PLAIN",
                               s->auth_limited ? "too many failures from this address"
                                               : "authentication failure",
                               s->t.user);
        s->t.user[0] = '\0'; /* the access log names admitted users only */
        reply_407(s, "PROXY/407 Proxy authentication failed");
        break;
    default:
        s->t.user[0] = '\0';
        http_reply_error(s, 503, "Temporary failure: proxy authentication is unavailable");
        break;
    }
    proxy_session_leave(&s->ps);
}

bool http_auth_admit(struct http_session *s)
{
    if (s->t.auth_ok)
        return true;
    struct str value;
    size_t iter = 0;
    if (!http1_fields_find(http1_request_fields(&s->t.req, s->in.data), "Proxy-Authorization",
                           &iter, &value)) {
        reply_407(s, "PROXY/407 Proxy authentication required");
        return false;
    }
    struct basic_auth cred;
    enum basic_auth_result br = basic_auth_parse(value, &cred);
    if (br != BASIC_AUTH_OK) {
        svclog_info(&s->ps.log, "Proxy authentication refused: %s credentials",
                    basic_auth_result_name(br));
        reply_407(s, "PROXY/407 Proxy authentication required");
        return false;
    }
    str_copy(s->t.user, sizeof(s->t.user), cred.user);
    struct proxy_auth_req req = {
        .user = cred.user,
        .password = cred.password,
        .client_ip = s->ps.client.ip,
    };
    s->state = HTTP_ST_AUTH;
    s->auth_limited = proxy_auth_blocked(s->ps.w->auth_pool, s->ps.client.ip);
    http_set_client_events(s, EV_READ); /* a hang-up while PAM works ends the session */
    s->auth = proxy_auth_start(s->ps.w->auth_pool, &req, &s->ps.log, auth_answered, s);
    explicit_bzero(&cred, sizeof(cred));
    if (!s->auth) {
        s->t.user[0] = '\0';
        http_reply_error(s, 503, "Temporary failure: proxy authentication is unavailable");
    }
    return false;
}
