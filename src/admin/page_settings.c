/* page_settings - Proxy settings: HTTP, SMTP, POP, FTP, Common settings
 * (003:618-629, CLI-6).
 *
 * Each page shows every key built in its ini group (setting_labels.def)
 * with its label, help text, default and current value. Save and Restart
 * writes only the keys whose value changed, into the administrator's own
 * file (proto/ini_edit: comments, unknown lines and order survive),
 * after the whole new file passed the loader the services use; a refused
 * value is shown beside its field and nothing is written, so the services
 * keep running with what they have. Then the page's service is restarted
 * (or stopped, when its switch is now off) through the controller; on
 * Common settings every service.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "admin/admin_settings.h"
#include "proto/ini_edit.h"
#include "proto/ini_parse.h"

#define INI_MAX    CONFIG_FILE_MAX
#define ERRORS_MAX 8192

struct field_error {
    const char *key;
    char text[512];
};

struct page_state {
    enum setting_page page;
    enum service svc;
    const char *slug; /* "http" ... "common" */
    struct field_error errors[64];
    size_t nerrors;
    char general[ERRORS_MAX]; /* errors no field owns */
};

static const char *const slugs[PAGE_COUNT] = {"http", "smtp", "pop", "ftp", "common"};
static const enum admin_text_id titles[PAGE_COUNT] = {T_MENU_HTTP, T_MENU_SMTP, T_MENU_POP,
                                                      T_MENU_FTP, T_MENU_COMMON};

static const char *field_error(const struct page_state *ps, const char *key)
{
    for (size_t i = 0; i < ps->nerrors; i++)
        if (strcmp(ps->errors[i].key, key) == 0)
            return ps->errors[i].text;
    return NULL;
}

/* The alias-aware comparison proto/ini_edit asks for. */
static bool same_key(struct str file_key, const char *key, void *arg)
{
    (void)arg;
    const struct config_key *a = config_key_find(file_key);
    const struct config_key *b = config_key_find(str_from_cstr(key));
    return a != NULL && a == b;
}

static void input_for(struct admin_req *rq, const struct config_key *k, enum service svc,
                      const char *id, const char *value, bool invalid)
{
    struct buf *b = rq->out;
    const char *aria = invalid ? " aria-invalid=\"true\"" : "";
    if (k->type == CONFIG_TYPE_BOOL) {
        bool on = strcmp(value, "yes") == 0;
        for (int i = 0; i < 2; i++) {
            const char *v = i == 0 ? "yes" : "no";
            buf_printf(b,
                       "<label class=\"radio\"><input type=\"radio\" name=\"%s\" value=\"%s\""
                       "%s%s> ",
                       k->name, v, (i == 0) == on ? " checked" : "", aria);
            html_cstr(b, T(rq, i == 0 ? T_ON : T_OFF));
            buf_append_cstr(b, "</label> ");
        }
        return;
    }
    if (k->type == CONFIG_TYPE_ENUM) {
        const char *vals[16];
        size_t n = config_enum_values(k, svc, vals, 16);
        buf_printf(b, "<select id=\"%s\" name=\"%s\" aria-describedby=\"%s-help\"%s>", id, k->name,
                   id, aria);
        for (size_t i = 0; i < n && i < 16; i++) {
            buf_printf(b, "<option%s>", strcmp(vals[i], value) == 0 ? " selected" : "");
            html_cstr(b, vals[i]);
            buf_append_cstr(b, "</option>");
        }
        buf_append_cstr(b, "</select>");
        return;
    }
    bool number =
        k->type == CONFIG_TYPE_UINT || k->type == CONFIG_TYPE_U64 || k->type == CONFIG_TYPE_PORT;
    buf_printf(b, "<input type=\"text\" id=\"%s\" name=\"%s\" aria-describedby=\"%s-help\"%s", id,
               k->name, id, aria);
    if (number)
        buf_append_cstr(b, " inputmode=\"numeric\"");
    else if (k->max > 0 && k->max < 100000)
        buf_printf(b, " maxlength=\"%llu\"", (unsigned long long)k->max);
    buf_append_cstr(b, " value=\"");
    html_cstr(b, value);
    buf_append_cstr(b, "\">");
}

static void render(struct admin_req *rq, struct page_state *ps, const struct config *cfg,
                   bool from_form)
{
    struct buf *b = rq->out;
    char path[64];
    str_format(path, sizeof(path), "/settings/%s", ps->slug);
    if (ps->general[0] != 0) {
        buf_append_cstr(b, "<div class=\"notice error\" role=\"alert\"><p>");
        html_cstr(b, T(rq, T_ERRORS_IN_FILE));
        buf_append_cstr(b, "</p><pre>");
        html_cstr(b, ps->general);
        buf_append_cstr(b, "</pre></div>");
    }
    form_begin(rq, path);
    int group = -1;
    for (size_t i = 0; i < setting_row_count(); i++) {
        const struct setting_row *r = setting_row_at(i);
        if (r->page != ps->page)
            continue;
        const struct config_key *k = config_key_find(str_from_cstr(r->key));
        if (k == NULL)
            continue;
        if ((int)r->group != group) {
            if (group >= 0)
                buf_append_cstr(b, "</fieldset>");
            group = (int)r->group;
            buf_append_cstr(b, "<fieldset><legend>");
            html_cstr(b, setting_group_title(r->group, rq->lang));
            buf_append_cstr(b, "</legend>");
        }
        char value[CONFIG_FORMAT_MAX];
        const char *submitted = from_form ? admin_field(rq, k->name) : NULL;
        if (submitted != NULL)
            str_format(value, sizeof(value), "%s", submitted);
        else if (!config_format_value(cfg, k, value, sizeof(value)))
            value[0] = 0;
        const char *err = field_error(ps, k->name);
        char id[80];
        str_format(id, sizeof(id), "f-%s", k->name);
        buf_append_cstr(b, "<div class=\"field\">");
        if (k->type == CONFIG_TYPE_BOOL) {
            /* A radio pair is a group: its name is the group's label. */
            buf_printf(b, "<span id=\"%s\" class=\"label\">", id);
            html_cstr(b, r->label[rq->lang]);
            buf_printf(b,
                       "</span><div role=\"radiogroup\" aria-labelledby=\"%s\" "
                       "aria-describedby=\"%s-help\">",
                       id, id);
            input_for(rq, k, ps->svc, id, value, err != NULL);
            buf_append_cstr(b, "</div>");
        } else {
            buf_printf(b, "<label for=\"%s\">", id);
            html_cstr(b, r->label[rq->lang]);
            buf_append_cstr(b, "</label>");
            input_for(rq, k, ps->svc, id, value, err != NULL);
        }
        if (err != NULL) {
            buf_printf(b, "<span class=\"err\" id=\"%s-err\">", id);
            html_cstr(b, err);
            buf_append_cstr(b, "</span>");
        }
        buf_printf(b, "<span class=\"help\" id=\"%s-help\">", id);
        html_cstr(b, rq->lang == ADMIN_LANG_JA && r->help_ja[0] ? r->help_ja : k->doc);
        buf_append_cstr(b, " ");
        const char *def = k->def[ps->svc == SVC_COMMON ? SVC_HTTP : ps->svc];
        html_fmt(b, T(rq, T_DEFAULT_IS), def != NULL && def[0] ? def : "\"\"");
        buf_append_cstr(b, " · ");
        html_fmt(b, T(rq, T_KEY), k->name);
        buf_append_cstr(b, "</span></div>");
    }
    if (group >= 0)
        buf_append_cstr(b, "</fieldset>");
    /* The button has no name: "action" is a setting of this very form. */
    buf_append_cstr(b, "<div class=\"actions\"><button type=\"submit\">");
    html_cstr(b, T(rq, T_SAVE_RESTART));
    buf_printf(b, "</button><a class=\"button secondary\" href=\"%s\">", path);
    html_cstr(b, T(rq, T_CANCEL));
    buf_append_cstr(b, "</a></div></form>");
}

/* key_at_line - the key of the entry on line of text (for an error). */
static const char *key_at_line(const char *text, size_t len, unsigned line)
{
    struct ini_parser p;
    struct ini_item it;
    ini_parse_init(&p, text, len);
    for (;;) {
        enum ini_parse_result r = ini_parse_next(&p, &it);
        if (r == INI_PARSE_DONE)
            return NULL;
        if (r == INI_PARSE_ENTRY && it.line == line) {
            const struct config_key *k = config_key_find(it.key);
            return k != NULL ? k->name : NULL;
        }
        if (it.line > line)
            return NULL;
    }
}

/* attribute_errors - the loader's "file:line: reason" lines to fields. */
static void attribute_errors(struct page_state *ps, const char *name, const char *text, size_t len,
                             const char *diag)
{
    size_t nlen = strlen(name);
    size_t glen = 0;
    for (const char *line = diag; *line != 0;) {
        const char *end = strchr(line, '\n');
        size_t ll = end != NULL ? (size_t)(end - line) : strlen(line);
        const char *key = NULL;
        const char *reason = line;
        if (ll > nlen + 1 && strncmp(line, name, nlen) == 0 && line[nlen] == ':') {
            unsigned ln = (unsigned)strtoul(line + nlen + 1, NULL, 10);
            key = key_at_line(text, len, ln);
            const char *colon = memchr(line + nlen + 1, ':', ll - nlen - 1);
            if (colon != NULL)
                reason = colon + 1 + (colon[1] == ' ');
        }
        size_t rl = ll - (size_t)(reason - line);
        if (key != NULL && ps->nerrors < sizeof(ps->errors) / sizeof(ps->errors[0]) &&
            field_error(ps, key) == NULL) {
            ps->errors[ps->nerrors].key = key;
            str_format(ps->errors[ps->nerrors].text, sizeof(ps->errors[0].text), "%.*s", (int)rl,
                       reason);
            ps->nerrors++;
        } else if (glen + ll + 2 < sizeof(ps->general)) {
            memcpy(ps->general + glen, line, ll);
            glen += ll;
            ps->general[glen++] = '\n';
            ps->general[glen] = 0;
        }
        if (end == NULL)
            break;
        line = end + 1;
    }
}

/* restart - the page's service (every service on Common settings): restart
 * it when its switch is on, stop it when off. The outcome as a notice. */
static void restart_services(struct admin_req *rq, struct page_state *ps, const char *ini_text,
                             size_t ini_len)
{
    for (enum service s = SVC_HTTP; s < SVC_COUNT; s++) {
        if (ps->svc != SVC_COMMON && s != ps->svc)
            continue;
        struct config *cfg = config_load_text(ini_text, ini_len, admin.ini_path, s, NULL);
        if (cfg == NULL)
            continue;
        char key[32];
        str_format(key, sizeof(key), "%s_service", service_name(s));
        const struct config_key *k = config_key_find(str_from_cstr(key));
        char on[8] = "no";
        if (k != NULL)
            config_format_value(cfg, k, on, sizeof(on));
        config_free(cfg);
        bool run = strcmp(on, "yes") == 0;
        struct admin_ctl_request c = {.op = ADMIN_CTL_SERVICE,
                                      .arg = (unsigned)s,
                                      .verb = run ? ADMIN_VERB_RESTART : ADMIN_VERB_STOP};
        struct admin_ctl_reply reply;
        bool ok = admin_ctl_call(&c, -1, &reply) && reply.status == 0;
        admin_audit(rq->client_ip, rq->user, "%s %s: status %d", run ? "restart" : "stop",
                    service_name(s), reply.status);
        char text[256];
        if (ok) {
            str_format(text, sizeof(text), T(rq, run ? T_SAVED_RESTARTED : T_SAVED_STOPPED),
                       service_name(s));
            page_notice(rq, "ok", text);
        } else {
            str_format(text, sizeof(text), T(rq, T_RESTART_FAILED), service_name(s));
            buf_append_cstr(rq->out, "<div class=\"notice error\" role=\"alert\"><p>");
            html_cstr(rq->out, text);
            buf_append_cstr(rq->out, "</p><pre>");
            html_cstr(rq->out, reply.text);
            buf_append_cstr(rq->out, "</pre></div>");
        }
    }
}

static void save(struct admin_req *rq, struct page_state *ps, const char *text, size_t len,
                 const struct config *cur)
{
    struct ini_change ch[256];
    size_t n = 0;
    char changed_list[2048] = "";
    size_t cl = 0;
    for (size_t i = 0; i < setting_row_count() && n < 256; i++) {
        const struct setting_row *r = setting_row_at(i);
        if (r->page != ps->page)
            continue;
        const struct config_key *k = config_key_find(str_from_cstr(r->key));
        const char *v = k != NULL ? admin_field(rq, k->name) : NULL;
        if (v == NULL)
            continue;
        char now[CONFIG_FORMAT_MAX];
        if (config_format_value(cur, k, now, sizeof(now)) && strcmp(now, v) == 0)
            continue;
        ch[n].section = service_name(ps->svc);
        ch[n].key = k->name;
        ch[n].value = v;
        n++;
        int w =
            snprintf(changed_list + cl, sizeof(changed_list) - cl, "%s%s", cl ? ", " : "", k->name);
        if (w > 0 && cl + (size_t)w < sizeof(changed_list))
            cl += (size_t)w;
    }
    if (n == 0) {
        page_notice(rq, "info", T(rq, T_NOTHING_CHANGED));
        render(rq, ps, cur, false);
        return;
    }
    struct buf *out = buf_new(len + 64 * 1024);
    char err[1024];
    if (out == NULL || !ini_edit_apply(text, len, ch, n, same_key, NULL, out, err, sizeof(err))) {
        page_notice(rq, "error", out == NULL ? "out of memory" : err);
        render(rq, ps, cur, true);
        buf_free(out);
        return;
    }
    /* The whole new file through the services' own loader first. */
    char *diag = calloc(1, ERRORS_MAX);
    FILE *df = diag != NULL ? fmemopen(diag, ERRORS_MAX - 1, "w") : NULL;
    if (df != NULL)
        setvbuf(df, NULL, _IONBF, 0);
    struct config *next =
        config_load_text(buf_rptr(out), buf_len(out), admin.ini_path, ps->svc, df);
    if (df != NULL)
        fclose(df);
    if (next == NULL) {
        attribute_errors(ps, admin.ini_path, buf_rptr(out), buf_len(out), diag != NULL ? diag : "");
        admin_audit(rq->client_ip, rq->user, "settings [%s] refused (%s)", ps->slug, changed_list);
        page_notice(rq, "error", T(rq, T_REFUSED));
        render(rq, ps, cur, true);
        free(diag);
        buf_free(out);
        return;
    }
    config_free(next);
    free(diag);
    struct admin_ctl_reply reply;
    if (!admin_ctl_write_file(ADMIN_FILE_INI, buf_rptr(out), buf_len(out), &reply)) {
        char t[ADMIN_CTL_TEXT_MAX + 64];
        str_format(t, sizeof(t), T(rq, T_FILE_REFUSED), reply.text);
        page_notice(rq, "error", t);
        render(rq, ps, cur, true);
        buf_free(out);
        return;
    }
    admin_audit(rq->client_ip, rq->user, "settings [%s] saved: %s", ps->slug, changed_list);
    page_notice(rq, "ok", T(rq, T_SAVED));
    restart_services(rq, ps, buf_rptr(out), buf_len(out));
    struct config *now =
        config_load_text(buf_rptr(out), buf_len(out), admin.ini_path, ps->svc, NULL);
    render(rq, ps, now != NULL ? now : cur, false);
    if (now != NULL)
        config_free(now);
    buf_free(out);
}

void page_settings(struct admin_req *rq)
{
    struct page_state *ps = calloc(1, sizeof(*ps));
    if (ps == NULL) {
        admin_error_page(rq, 500, "out of memory");
        return;
    }
    const char *slug = rq->path + strlen("/settings/");
    ps->page = PAGE_COUNT;
    for (unsigned p = 0; p < PAGE_COUNT; p++)
        if (strcmp(slug, slugs[p]) == 0)
            ps->page = (enum setting_page)p;
    if (ps->page == PAGE_COUNT) {
        admin_error_page(rq, 404, T(rq, T_NOT_FOUND));
        free(ps);
        return;
    }
    ps->slug = slugs[ps->page];
    ps->svc = setting_page_service(ps->page);
    char err[512], path[64];
    size_t len;
    char *text = admin_conf_file_read("sekisho.ini", INI_MAX, &len, err, sizeof(err));
    str_format(path, sizeof(path), "/settings/%s", ps->slug);
    page_begin(rq, T(rq, titles[ps->page]), path);
    struct config *cur =
        text != NULL ? config_load_text(text, len, admin.ini_path, ps->svc, NULL) : NULL;
    if (cur == NULL) {
        /* The running file itself is refused (edited by hand): say so. */
        char *diag = calloc(1, ERRORS_MAX);
        FILE *df = diag != NULL ? fmemopen(diag, ERRORS_MAX - 1, "w") : NULL;
        if (text != NULL && df != NULL) {
            setvbuf(df, NULL, _IONBF, 0);
            struct config *c = config_load_text(text, len, admin.ini_path, ps->svc, df);
            if (c != NULL)
                config_free(c);
        }
        if (df != NULL)
            fclose(df);
        page_notice(rq, "error", text == NULL ? err : (diag != NULL ? diag : "refused"));
        free(diag);
    } else if (strcmp(rq->method, "POST") == 0) {
        save(rq, ps, text, len, cur);
    } else {
        render(rq, ps, cur, false);
    }
    if (cur != NULL)
        config_free(cur);
    free(text);
    page_end(rq);
    free(ps);
}
