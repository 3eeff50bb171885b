/* page_account - the top menu's own pages (003:2852-2919): Admin
 * password, Diagnostics, Version, Logout; and the language switch and
 * the style sheet. */
#include <fcntl.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "admin/admin_auth.h"
#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "core/version.h"
#include "proto/htdigest.h"

#define PASSWORD_MIN 8

static void password_form(struct admin_req *rq)
{
    struct buf *b = rq->out;
    form_begin(rq, "/account/password");
    static const struct {
        const char *name;
        enum admin_text_id label;
        const char *autocomplete;
    } fields[] = {
        {"current", T_PASSWORD_CURRENT, "current-password"},
        {"new", T_PASSWORD_NEW, "new-password"},
        {"again", T_PASSWORD_AGAIN, "new-password"},
    };
    for (size_t i = 0; i < 3; i++) {
        buf_printf(b, "<div class=\"field\"><label for=\"pw-%s\">", fields[i].name);
        html_cstr(b, T(rq, fields[i].label));
        buf_printf(b,
                   "</label><input type=\"password\" id=\"pw-%s\" name=\"%s\" required "
                   "autocomplete=\"%s\"%s>",
                   fields[i].name, fields[i].name, fields[i].autocomplete,
                   i > 0 ? " minlength=\"8\" aria-describedby=\"pw-rule\"" : "");
        if (i == 1) {
            buf_append_cstr(b, "<span class=\"help\" id=\"pw-rule\">");
            html_cstr(b, T(rq, T_PASSWORD_RULE));
            buf_append_cstr(b, "</span>");
        }
        buf_append_cstr(b, "</div>");
    }
    buf_append_cstr(b, "<div class=\"actions\"><button type=\"submit\">");
    html_cstr(b, T(rq, T_SAVE));
    buf_append_cstr(b, "</button></div></form>");
}

/* change_password - the checks, then the new htdigest line through the
 * controller; the text id of the outcome. */
static enum admin_text_id change_password(struct admin_req *rq)
{
    const char *cur = admin_field(rq, "current"), *nw = admin_field(rq, "new"),
               *again = admin_field(rq, "again");
    if (cur == NULL || nw == NULL || again == NULL)
        return T_PASSWORD_WEAK;
    char err[512];
    size_t len;
    char *text = admin_conf_file_read("sekisho.htdigest", 1024 * 1024, &len, err, sizeof(err));
    if (text == NULL) {
        admin_error(rq->client_ip, "password: %s", err);
        return T_PASSWORD_WRONG;
    }
    unsigned char have[16], given[16];
    enum admin_text_id result = T_PASSWORD_CHANGED;
    htdigest_ha1(rq->user, ADMIN_REALM, cur, given);
    if (!htdigest_find(text, len, rq->user, ADMIN_REALM, have) ||
        CRYPTO_memcmp(have, given, 16) != 0)
        result = T_PASSWORD_WRONG;
    else if (strcmp(nw, again) != 0)
        result = T_PASSWORD_MISMATCH;
    else if (strlen(nw) < PASSWORD_MIN || strcmp(nw, rq->user) == 0 || strcmp(nw, "admin") == 0)
        result = T_PASSWORD_WEAK;
    if (result != T_PASSWORD_CHANGED) {
        free(text);
        admin_audit(rq->client_ip, rq->user, "password not changed: %s",
                    admin_text(ADMIN_LANG_EN, result));
        return result;
    }
    unsigned char ha1[16];
    struct buf out;
    memset(&out, 0, sizeof(out));
    struct admin_ctl_reply reply;
    str_format(reply.text, sizeof(reply.text), "%s", "cannot compute the digest");
    bool ok = htdigest_ha1(rq->user, ADMIN_REALM, nw, ha1) &&
              htdigest_set(text, len, rq->user, ADMIN_REALM, ha1, &out, err, sizeof(err)) &&
              admin_ctl_write_file(ADMIN_FILE_HTDIGEST, buf_rptr(&out), buf_len(&out), &reply);
    free(text);
    buf_fini(&out);
    if (!ok) {
        admin_error(rq->client_ip, "password: not written: %s", reply.text);
        return T_PASSWORD_WRONG;
    }
    admin_audit(rq->client_ip, rq->user, "password changed");
    admin_auth_end_user(rq->user);
    return T_PASSWORD_CHANGED;
}

void page_password(struct admin_req *rq)
{
    page_begin(rq, T(rq, T_MENU_PASSWORD), "/account/password");
    if (strcmp(rq->method, "POST") == 0) {
        enum admin_text_id r = change_password(rq);
        page_notice(rq, r == T_PASSWORD_CHANGED ? "ok" : "error", T(rq, r));
        if (r == T_PASSWORD_CHANGED) {
            page_end(rq);
            return;
        }
    } else if (rq->must_change_password) {
        page_notice(rq, "info", T(rq, T_PASSWORD_FORCED));
    }
    password_form(rq);
    page_end(rq);
}

void page_version(struct admin_req *rq)
{
    struct buf *b = rq->out;
    page_begin(rq, T(rq, T_MENU_VERSION), "/account/version");
    struct utsname u;
    memset(&u, 0, sizeof(u));
    uname(&u);
    buf_append_cstr(b, "<table><tbody><tr><th scope=\"row\">");
    html_cstr(b, T(rq, T_VERSION_PRODUCT));
    buf_append_cstr(b, "</th><td>Sekisho " SEKISHO_VERSION "</td></tr><tr><th scope=\"row\">");
    html_cstr(b, T(rq, T_VERSION_SYSTEM));
    buf_append_cstr(b, "</th><td>");
    html_fmt(b, "%s %s %s", u.sysname, u.release, u.machine);
    buf_append_cstr(b, "</td></tr><tr><th scope=\"row\">");
    html_cstr(b, T(rq, T_VERSION_MHD));
    buf_append_cstr(b, "</th><td>");
    html_fmt(b, "libmicrohttpd %s", MHD_get_version());
    buf_append_cstr(b, "</td></tr></tbody></table>");
    page_end(rq);
}

void page_logout(struct admin_req *rq)
{
    if (strcmp(rq->method, "POST") == 0) {
        admin_auth_logout(rq);
        admin_audit(rq->client_ip, rq->user, "logout");
        rq->user = NULL; /* no menu: the session is over */
        page_begin(rq, T(rq, T_MENU_LOGOUT), NULL);
        page_notice(rq, "ok", T(rq, T_LOGGED_OUT));
        buf_append_cstr(rq->out, "<p><a href=\"/\">");
        html_cstr(rq->out, T(rq, T_LOGIN_AGAIN));
        buf_append_cstr(rq->out, "</a></p>");
        page_end(rq);
        return;
    }
    page_begin(rq, T(rq, T_MENU_LOGOUT), "/logout");
    form_begin(rq, "/logout");
    buf_append_cstr(rq->out, "<div class=\"actions\"><button type=\"submit\">");
    html_cstr(rq->out, T(rq, T_MENU_LOGOUT));
    buf_append_cstr(rq->out, "</button></div></form>");
    page_end(rq);
}

/* page_lang - the display language (a cookie, not a change of anything:
 * no CSRF token needed), then back to the page the switch was on. */
void page_lang(struct admin_req *rq)
{
    enum admin_lang lang;
    const char *to = admin_query(rq, "to"), *back = admin_query(rq, "back");
    if (!admin_lang_parse(to, &lang)) {
        admin_error_page(rq, 400, "to=en or to=ja");
        return;
    }
    /* Only a local path: never an open redirect. */
    if (back == NULL || back[0] != '/' || back[1] == '/' || back[1] == '\\' ||
        strpbrk(back, "\r\n") != NULL)
        back = "/";
    rq->lang = lang;
    admin_redirect(rq, back);
    char cookie[128];
    str_format(cookie, sizeof(cookie),
               "%s=%s; Path=/; Max-Age=31536000; HttpOnly; SameSite=Strict%s", ADMIN_COOKIE_LANG,
               admin_lang_code(lang), admin.tls ? "; Secure" : "");
    str_format(rq->set_cookie, sizeof(rq->set_cookie), "%s", cookie);
}

void page_css(struct admin_req *rq)
{
    rq->content_type = "text/css; charset=utf-8";
    buf_append_cstr(rq->out, admin_console_css);
}

void page_diag(struct admin_req *rq)
{
    if (strcmp(rq->method, "POST") == 0) {
        struct admin_ctl_request c = {.op = ADMIN_CTL_DIAG};
        struct admin_ctl_reply reply;
        admin_audit(rq->client_ip, rq->user, "diagnostics archive requested");
        if (admin_ctl_call(&c, -1, &reply) && reply.status == 0) {
            char path[PATH_MAX];
            str_format(path, sizeof(path), "%s/diag.tar.gz", admin.prefix);
            rq->body_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (rq->body_fd >= 0) {
                rq->content_type = "application/gzip";
                str_format(rq->disposition, sizeof(rq->disposition),
                           "attachment; filename=\"diag.tar.gz\"");
                return;
            }
        }
        page_begin(rq, T(rq, T_MENU_DIAG), "/account/diag");
        page_notice(rq, "error", reply.text);
        page_end(rq);
        return;
    }
    page_begin(rq, T(rq, T_MENU_DIAG), "/account/diag");
    form_begin(rq, "/account/diag");
    buf_append_cstr(rq->out, "<div class=\"actions\"><button type=\"submit\">diag.tar.gz</button>"
                             "</div></form>");
    page_end(rq);
}
