/* page_lists - the files of conf/ an administrator edits beside the ini:
 * hosts.allow (kept editable: the successor product removed this page and
 * its users missed it), the templates, the custom spam rules, the user
 * database ("Add or remove users", AUTH-2) and the NAT redirect page
 * (TP-2).
 *
 * A file is checked by the loader its service uses (admin_validate), then
 * written by the controller, which checks it again; the services that
 * read it and are running then reload (SIGHUP re-reads hosts.allow, the
 * templates and the spam rules; a refused file leaves them as they were).
 * The console edits only the files under conf/: when sekisho.ini points a
 * service elsewhere (hosts_allow=, template_dir=, spam_dir=) the page says
 * so and offers no editor, because the controller never writes a path
 * the ini names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "admin/admin_validate.h"
#include "proto/userdb_parse.h"

#define SVC_BIT(s) (1u << (s))
#define ALL_SVCS   (SVC_BIT(SVC_HTTP) | SVC_BIT(SVC_SMTP) | SVC_BIT(SVC_POP) | SVC_BIT(SVC_FTP))

struct editable {
    const char *slug; /* /lists/<slug> or /lists/templates?name=<slug> */
    enum admin_ctl_file file;
    unsigned services; /* SVC_BIT: who reads it */
};

static const struct editable templates[] = {
    {"template_http.html", ADMIN_FILE_TPL_HTTP, SVC_BIT(SVC_HTTP)},
    {"template_http_error.html", ADMIN_FILE_TPL_HTTP_ERROR, SVC_BIT(SVC_HTTP)},
    {"template_http_progress.html", ADMIN_FILE_TPL_HTTP_PROGRESS, SVC_BIT(SVC_HTTP)},
    {"template_smtp.txt", ADMIN_FILE_TPL_SMTP, SVC_BIT(SVC_SMTP)},
    {"template_smtp_lan.txt", ADMIN_FILE_TPL_SMTP_LAN, SVC_BIT(SVC_SMTP)},
    {"template_pop.txt", ADMIN_FILE_TPL_POP, SVC_BIT(SVC_POP)},
    {"template_admin.txt", ADMIN_FILE_TPL_ADMIN, ALL_SVCS},
};

/* where_read - the path the services read file from (their [common]
 * view); "" when it cannot be told. */
static void where_read(enum admin_ctl_file file, char *out, size_t cap)
{
    out[0] = 0;
    struct config *cfg = config_load(admin.ini_path, SVC_COMMON, NULL);
    if (cfg == NULL)
        return;
    if (file == ADMIN_FILE_HOSTS_ALLOW)
        str_format(out, cap, "%s", cfg->hosts_allow);
    else if (file == ADMIN_FILE_SPAM_CUSTOM)
        str_format(out, cap, "%s/custom.txt", cfg->spam_dir);
    else
        str_format(out, cap, "%s/%s", cfg->template_dir, admin_ctl_file_path(file));
    config_free(cfg);
}

/* reload_readers - SIGHUP every running service that reads the file. */
static void reload_readers(struct admin_req *rq, unsigned services)
{
    for (enum service s = SVC_HTTP; s < SVC_COUNT; s++) {
        if (!(services & SVC_BIT(s)))
            continue;
        struct admin_ctl_request st = {
            .op = ADMIN_CTL_SERVICE, .arg = s, .verb = ADMIN_VERB_STATUS};
        struct admin_ctl_reply reply;
        if (!admin_ctl_call(&st, -1, &reply) || reply.status != 0)
            continue; /* not running: it reads the file when it starts */
        struct admin_ctl_request rl = {
            .op = ADMIN_CTL_SERVICE, .arg = s, .verb = ADMIN_VERB_RELOAD};
        bool ok = admin_ctl_call(&rl, -1, &reply) && reply.status == 0;
        admin_audit(rq->client_ip, rq->user, "reload %s: status %d", service_name(s), reply.status);
        char text[256];
        str_format(text, sizeof(text), "%s: %s", service_name(s), reply.text);
        page_notice(rq, ok ? "ok" : "error", text);
    }
}

static void editor(struct admin_req *rq, const char *action, const char *label, const char *text,
                   size_t len)
{
    struct buf *b = rq->out;
    form_begin(rq, action);
    buf_append_cstr(b, "<div><label for=\"content\">");
    html_cstr(b, label);
    buf_append_cstr(b, "</label></div><textarea id=\"content\" name=\"content\" rows=\"24\" "
                       "spellcheck=\"false\">");
    html_text(b, text, len);
    buf_append_cstr(b, "</textarea><div class=\"actions\"><button type=\"submit\">");
    html_cstr(b, T(rq, T_SAVE));
    buf_printf(b, "</button><a class=\"button secondary\" href=\"");
    html_cstr(b, action);
    buf_append_cstr(b, "\">");
    html_cstr(b, T(rq, T_CANCEL));
    buf_append_cstr(b, "</a></div></form>");
}

/* edit_file - GET: the editor with the file; POST: check, write, reload. */
static void edit_file(struct admin_req *rq, const struct editable *e, const char *action,
                      const char *title)
{
    char here[PATH_MAX], read_by[PATH_MAX];
    str_format(here, sizeof(here), "%s/%s", admin.conf_dir, admin_ctl_file_path(e->file));
    where_read(e->file, read_by, sizeof(read_by));
    page_begin(rq, title, action[8] == 't' ? "/lists/templates" : action);
    if (strcmp(here, read_by) != 0) {
        char t[2 * PATH_MAX + 128];
        str_format(t, sizeof(t), T(rq, T_EDIT_ELSEWHERE), read_by, here);
        page_notice(rq, "info", t);
        page_end(rq);
        return;
    }
    if (strcmp(rq->method, "POST") == 0) {
        const char *content = admin_field(rq, "content");
        if (content == NULL)
            content = "";
        size_t len = strlen(content);
        char err[4096];
        struct admin_ctl_reply reply;
        if (!admin_validate_file(e->file, admin.ini_path, content, len, err, sizeof(err))) {
            char t[4200];
            str_format(t, sizeof(t), T(rq, T_FILE_REFUSED), err);
            page_notice(rq, "error", t);
            admin_audit(rq->client_ip, rq->user, "%s refused", admin_ctl_file_path(e->file));
            editor(rq, action, admin_ctl_file_path(e->file), content, len);
        } else if (!admin_ctl_write_file(e->file, content, len, &reply)) {
            char t[ADMIN_CTL_TEXT_MAX + 64];
            str_format(t, sizeof(t), T(rq, T_FILE_REFUSED), reply.text);
            page_notice(rq, "error", t);
            editor(rq, action, admin_ctl_file_path(e->file), content, len);
        } else {
            admin_audit(rq->client_ip, rq->user, "%s saved (%zu bytes)",
                        admin_ctl_file_path(e->file), len);
            page_notice(rq, "ok", T(rq, T_SAVED));
            reload_readers(rq, e->services);
            editor(rq, action, admin_ctl_file_path(e->file), content, len);
        }
        page_end(rq);
        return;
    }
    char err[512];
    size_t len = 0;
    char *text =
        admin_conf_file_read(admin_ctl_file_path(e->file), ADMIN_FILE_MAX, &len, err, sizeof(err));
    if (text == NULL)
        page_notice(rq, "error", err);
    editor(rq, action, admin_ctl_file_path(e->file), text != NULL ? text : "", len);
    free(text);
    page_end(rq);
}

static void page_templates(struct admin_req *rq)
{
    const char *name = admin_query(rq, "name");
    for (size_t i = 0; name != NULL && i < sizeof(templates) / sizeof(templates[0]); i++) {
        if (strcmp(name, templates[i].slug) == 0) {
            char action[96];
            str_format(action, sizeof(action), "/lists/templates?name=%s", templates[i].slug);
            edit_file(rq, &templates[i], action, templates[i].slug);
            return;
        }
    }
    page_begin(rq, T(rq, T_MENU_TEMPLATES), "/lists/templates");
    buf_append_cstr(rq->out, "<ul>");
    for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
        buf_printf(rq->out, "<li><a href=\"/lists/templates?name=%s\">%s</a></li>",
                   templates[i].slug, templates[i].slug);
    buf_append_cstr(rq->out, "</ul>");
    page_end(rq);
}

/* ---- Add or remove users (AUTH-2) -------------------------------------- */

struct user_key {
    char key[USERDB_KEY_MAX + 1];
};

/* users_text_without - text minus the record of key (both its lines). */
static bool users_rewrite(const char *text, size_t len, const char *drop, const char *add_key,
                          const char *add_pw, struct buf *out)
{
    struct userdb_parser p;
    struct userdb_record rec;
    struct userdb_error err;
    userdb_parser_init(&p, text, len);
    for (size_t i = 0; i <= USERDB_RECORDS_MAX; i++) {
        enum userdb_result r = userdb_next(&p, &rec, &err);
        if (r == USERDB_ERROR)
            return false;
        if (r == USERDB_END)
            break;
        if (drop != NULL && str_eq_cstr(rec.key, drop))
            continue;
        if (add_key != NULL && str_eq_cstr(rec.key, add_key))
            continue; /* replaced below: a new password */
        if (!buf_append_str(out, rec.key) || !buf_append_cstr(out, "\n") ||
            !buf_append_str(out, rec.password) || !buf_append_cstr(out, "\n"))
            return false;
    }
    if (add_key != NULL)
        return buf_printf(out, "%s\n%s\n", add_key, add_pw);
    return true;
}

static void users_page(struct admin_req *rq)
{
    struct buf *b = rq->out;
    page_begin(rq, T(rq, T_MENU_USERS), "/lists/users");
    struct admin_ctl_reply reply;
    size_t len = 0;
    char *text = admin_ctl_read_file(ADMIN_FILE_USERDB, &len, &reply);
    if (text == NULL) {
        page_notice(rq, "error", reply.text);
        page_end(rq);
        return;
    }
    if (strcmp(rq->method, "POST") == 0) {
        const char *remove = admin_field(rq, "remove");
        const char *key = admin_field(rq, "key"), *pw = admin_field(rq, "password");
        struct buf *out = buf_new(len + 4096);
        bool adding = remove == NULL;
        bool ok = out != NULL &&
                  users_rewrite(text, len, remove, adding ? key : NULL, adding ? pw : NULL, out);
        char err[1024] = "";
        if (ok && !admin_validate_file(ADMIN_FILE_USERDB, admin.ini_path, buf_rptr(out),
                                       buf_len(out), err, sizeof(err)))
            ok = false;
        if (ok && !admin_ctl_write_file(ADMIN_FILE_USERDB, buf_rptr(out), buf_len(out), &reply)) {
            str_format(err, sizeof(err), "%s", reply.text);
            ok = false;
        }
        if (ok) {
            admin_audit(rq->client_ip, rq->user, "user database: %s %s",
                        adding ? "added or changed" : "removed", adding ? key : remove);
            page_notice(rq, "ok", T(rq, T_SAVED));
            explicit_bzero(text, len);
            free(text);
            text = admin_ctl_read_file(ADMIN_FILE_USERDB, &len, &reply);
        } else {
            char t[1200];
            str_format(t, sizeof(t), T(rq, T_FILE_REFUSED), err[0] ? err : "invalid entry");
            page_notice(rq, "error", t);
        }
        if (out != NULL) {
            explicit_bzero(buf_rptr(out), buf_len(out));
            buf_free(out);
        }
    }
    /* The entries: keys only, never a password. */
    buf_append_cstr(b, "<table><thead><tr><th scope=\"col\">");
    html_cstr(b, T(rq, T_USER));
    buf_append_cstr(b, "</th><th scope=\"col\">");
    html_cstr(b, T(rq, T_ACTIONS));
    buf_append_cstr(b, "</th></tr></thead><tbody>");
    struct userdb_parser p;
    struct userdb_record rec;
    struct userdb_error uerr;
    userdb_parser_init(&p, text != NULL ? text : "", text != NULL ? len : 0);
    for (size_t i = 0; i <= USERDB_RECORDS_MAX; i++) {
        if (userdb_next(&p, &rec, &uerr) != USERDB_RECORD)
            break;
        buf_append_cstr(b, "<tr><td>");
        html_text(b, rec.key.ptr, rec.key.len);
        buf_append_cstr(b, "</td><td>");
        form_begin(rq, "/lists/users");
        buf_append_cstr(b, "<input type=\"hidden\" name=\"remove\" value=\"");
        html_text(b, rec.key.ptr, rec.key.len);
        buf_append_cstr(b, "\"><button type=\"submit\" class=\"secondary\" aria-label=\"");
        char key[USERDB_KEY_MAX + 1];
        str_copy_view(key, sizeof(key), rec.key);
        html_fmt(b, T(rq, T_REMOVE_USER), key);
        buf_append_cstr(b, "\">");
        html_cstr(b, T(rq, T_REMOVE));
        buf_append_cstr(b, "</button></form></td></tr>");
    }
    buf_append_cstr(b, "</tbody></table><h2>");
    html_cstr(b, T(rq, T_ADD_USER));
    buf_append_cstr(b, "</h2>");
    form_begin(rq, "/lists/users");
    buf_append_cstr(b, "<div class=\"field\"><label for=\"u-key\">");
    html_cstr(b, T(rq, T_USER_KEY));
    buf_append_cstr(b, "</label><input type=\"text\" id=\"u-key\" name=\"key\" required "
                       "autocomplete=\"off\"></div><div class=\"field\"><label for=\"u-pw\">");
    html_cstr(b, T(rq, T_PASSWORD));
    buf_append_cstr(b, "</label><input type=\"password\" id=\"u-pw\" name=\"password\" "
                       "autocomplete=\"new-password\"></div><div class=\"actions\"><button "
                       "type=\"submit\">");
    html_cstr(b, T(rq, T_SAVE));
    buf_append_cstr(b, "</button></div></form>");
    if (text != NULL) {
        explicit_bzero(text, len);
        free(text);
    }
    page_end(rq);
}

/* ---- NAT redirect (TP-2) ----------------------------------------------- */

/* The guide's four checkboxes: a service's standard port (003:4904-4910). */
static const struct nat_row {
    enum service svc;
    const char *label;
    unsigned std_port;
} nat_rows[] = {
    {SVC_HTTP, "HTTP", 80},
    {SVC_SMTP, "SMTP", 25},
    {SVC_POP, "POP", 110},
    {SVC_FTP, "FTP", 21},
};
#define NAT_ROWS (sizeof(nat_rows) / sizeof(nat_rows[0]))

struct nat_state {
    unsigned port; /* the proxy's port in sekisho.ini; 0: the ini cannot be loaded */
    bool on;       /* a sekisho-<svc> rule is there */
    bool partial;  /* in one address family only */
    char to[8];    /* the port it redirects to, as rc.transparent says it */
    char line[64]; /* rc.transparent's line, for a partial rule */
};

/* nat_parse_line - one line of rc.transparent status ("http on 9080",
 * "smtp off", "pop on 9110 (IPv6: off)") into st. */
static void nat_parse_line(const char *line, size_t len, struct nat_state st[NAT_ROWS])
{
    for (size_t i = 0; i < NAT_ROWS; i++) {
        const char *name = service_name(nat_rows[i].svc);
        size_t n = strlen(name);
        if (len <= n || memcmp(line, name, n) != 0 || line[n] != ' ')
            continue;
        /* IPv4 and IPv6 differ: "http on 9080 (IPv6: off)", "http off (IPv6: on 9080)" */
        st[i].partial = memmem(line, len, "(IPv6:", 6) != NULL;
        if (st[i].partial) {
            st[i].on = true;
            str_format(st[i].line, sizeof(st[i].line), "%.*s", (int)len, line);
        }
        if (len < n + 4 || memcmp(line + n, " on ", 4) != 0)
            continue;
        const char *p = line + n + 4, *end = line + len;
        size_t k = 0;
        while (p + k < end && k + 1 < sizeof(st[i].to) && p[k] >= '0' && p[k] <= '9')
            k++;
        st[i].on = true;
        memcpy(st[i].to, p, k);
        st[i].to[k] = 0;
    }
}

/* nat_read - the rules as rc.transparent status reports them; false (with
 * the script's message as a notice) when they cannot be read. */
static bool nat_read(struct admin_req *rq, struct nat_state st[NAT_ROWS])
{
    for (size_t i = 0; i < NAT_ROWS; i++) {
        st[i].on = st[i].partial = false;
        st[i].to[0] = st[i].line[0] = 0;
    }
    struct admin_ctl_request c = {.op = ADMIN_CTL_NAT, .verb = ADMIN_VERB_STATUS};
    struct admin_ctl_reply reply;
    if (!admin_ctl_call(&c, -1, &reply) || reply.status != 0) {
        char t[ADMIN_CTL_TEXT_MAX + 128];
        str_format(t, sizeof(t), T(rq, T_NAT_STATUS_FAILED), reply.text);
        page_notice(rq, "error", t);
        return false;
    }
    for (const char *p = reply.text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
        nat_parse_line(p, len, st);
        p += len + (e != NULL);
    }
    return true;
}

/* nat_has - the rule is there, in both families, and sends to the proxy's
 * port. */
static bool nat_has(const struct nat_state *st)
{
    char want[8];
    str_format(want, sizeof(want), "%u", st->port);
    return st->on && !st->partial && strcmp(st->to, want) == 0;
}

/* nat_switch - one service's redirect on or off through the controller,
 * with its audit line and its notice. */
static void nat_switch(struct admin_req *rq, size_t i, bool on, const struct nat_state *st)
{
    const char *name = service_name(nat_rows[i].svc);
    struct admin_ctl_request c = {
        .op = ADMIN_CTL_NAT, .arg = nat_rows[i].svc, .verb = on ? ADMIN_VERB_ON : ADMIN_VERB_OFF};
    struct admin_ctl_reply reply;
    bool ok = admin_ctl_call(&c, -1, &reply) && reply.status == 0;
    /* The script's output ends with a line feed: not part of a notice. */
    while (reply.text_len > 0 && reply.text[reply.text_len - 1] == '\n')
        reply.text[--reply.text_len] = 0;
    admin_audit(rq->client_ip, rq->user, "NAT redirect %s %s (%u -> %u): status %d: %s", name,
                on ? "on" : "off", nat_rows[i].std_port, st->port, reply.status, reply.text);
    char t[ADMIN_CTL_TEXT_MAX + 128];
    if (!ok)
        str_format(t, sizeof(t), T(rq, T_NAT_FAILED), nat_rows[i].label, reply.text);
    else if (on)
        str_format(t, sizeof(t), T(rq, T_NAT_ON), nat_rows[i].label, nat_rows[i].std_port,
                   st->port);
    else
        str_format(t, sizeof(t), T(rq, T_NAT_OFF), nat_rows[i].label);
    page_notice(rq, ok ? "ok" : "error", t);
}

/* nat_save - POST: each ticked service redirected to its proxy's port,
 * each unticked one not redirected; only what differs is changed. */
static void nat_save(struct admin_req *rq, struct nat_state st[NAT_ROWS])
{
    bool changed = false;
    for (size_t i = 0; i < NAT_ROWS; i++) {
        if (st[i].port == 0)
            continue;
        bool want = admin_field(rq, service_name(nat_rows[i].svc)) != NULL;
        if (want == nat_has(&st[i]) && (want || !st[i].on))
            continue;
        nat_switch(rq, i, want, &st[i]);
        changed = true;
    }
    if (!changed)
        page_notice(rq, "info", T(rq, T_NOTHING_CHANGED));
}

static void nat_page(struct admin_req *rq)
{
    struct buf *b = rq->out;
    page_begin(rq, T(rq, T_MENU_NAT), "/lists/nat");
    struct nat_state st[NAT_ROWS];
    for (size_t i = 0; i < NAT_ROWS; i++)
        st[i].port = admin_service_port(admin.ini_path, nat_rows[i].svc);
    bool readable = nat_read(rq, st);
    if (readable && strcmp(rq->method, "POST") == 0) {
        nat_save(rq, st);
        readable = nat_read(rq, st);
    }
    buf_append_cstr(b, "<p>");
    html_cstr(b, T(rq, T_NAT_INTRO));
    buf_append_cstr(b, "</p>");
    for (size_t i = 0; readable && i < NAT_ROWS; i++) {
        char t[256];
        if (st[i].port == 0)
            str_format(t, sizeof(t), T(rq, T_NAT_NO_PORT), nat_rows[i].label);
        else if (st[i].partial)
            str_format(t, sizeof(t), T(rq, T_NAT_PARTIAL), nat_rows[i].label, st[i].line);
        else if (st[i].on && !nat_has(&st[i]))
            str_format(t, sizeof(t), T(rq, T_NAT_OTHER_PORT), nat_rows[i].label,
                       nat_rows[i].std_port, st[i].to, st[i].port);
        else
            continue;
        page_notice(rq, "info", t);
    }
    form_begin(rq, "/lists/nat");
    buf_printf(b, "<fieldset%s><legend>", readable ? "" : " disabled");
    html_cstr(b, T(rq, T_NAT_LEGEND));
    buf_append_cstr(b, "</legend>");
    for (size_t i = 0; i < NAT_ROWS; i++) {
        const char *name = service_name(nat_rows[i].svc);
        buf_printf(b,
                   "<div><input type=\"checkbox\" id=\"nat-%s\" name=\"%s\" value=\"on\"%s%s> "
                   "<label for=\"nat-%s\">",
                   name, name, st[i].on ? " checked" : "", st[i].port == 0 ? " disabled" : "",
                   name);
        html_fmt(b, T(rq, T_NAT_REDIRECT), nat_rows[i].label, nat_rows[i].std_port, st[i].port);
        buf_append_cstr(b, "</label></div>");
    }
    buf_append_cstr(b, "</fieldset><div class=\"actions\"><button type=\"submit\" "
                       "name=\"action\" value=\"save\"");
    buf_append_cstr(b, readable ? ">" : " disabled>");
    html_cstr(b, T(rq, T_SAVE));
    buf_append_cstr(b, "</button></div></form><p>");
    html_cstr(b, T(rq, T_NAT_NOT_SAVED));
    buf_append_cstr(b, "</p>");
    page_end(rq);
}

void page_lists(struct admin_req *rq)
{
    const char *what = rq->path + strlen("/lists/");
    static const struct editable hosts = {"hosts", ADMIN_FILE_HOSTS_ALLOW, ALL_SVCS};
    static const struct editable spam = {"spam", ADMIN_FILE_SPAM_CUSTOM,
                                         SVC_BIT(SVC_SMTP) | SVC_BIT(SVC_POP)};
    if (strcmp(what, "hosts") == 0)
        edit_file(rq, &hosts, "/lists/hosts", T(rq, T_MENU_HOSTS));
    else if (strcmp(what, "spam") == 0)
        edit_file(rq, &spam, "/lists/spam", T(rq, T_MENU_SPAM));
    else if (strcmp(what, "templates") == 0)
        page_templates(rq);
    else if (strcmp(what, "users") == 0)
        users_page(rq);
    else if (strcmp(what, "nat") == 0)
        nat_page(rq);
    else
        admin_error_page(rq, 404, T(rq, T_NOT_FOUND));
}
