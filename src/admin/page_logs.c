/* page_logs - Logs (003:2834-2849, CLI-6, LOG-1, LOG-7): the access,
 * detection, information and error logs of each service, the
 * authentication failures, the definition update log and the console's
 * own logs, converted as logconv does, newest first, at most 1000 lines,
 * with a filter. The files come from the services' own settings
 * (access_log= ... of each [service]): the console shows what the service
 * writes, wherever that is; a log sent to a command cannot be shown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "admin/admin_view.h"

enum log_kind { K_ACCESS, K_DETECT, K_INFO, K_ERROR, K_AUTH, K_COUNT };

static const char *const kind_slug[K_COUNT] = {"access", "detect", "info", "error", "auth"};
static const enum admin_text_id kind_text[K_COUNT] = {T_LOG_ACCESS, T_LOG_DETECT, T_LOG_INFO,
                                                      T_LOG_ERROR, T_LOG_AUTH};

/* The sources besides the four services. */
enum { SRC_DBUPDATE = SVC_COUNT, SRC_AUDIT, SRC_CONSOLE_ERRORS, SRC_COUNT };
static const char *const src_slug[SRC_COUNT] = {"http",     "smtp",  "pop",  "ftp",
                                                "dbupdate", "audit", "admin"};

static const char *log_path(const struct config *cfg, enum log_kind k)
{
    switch (k) {
    case K_ACCESS:
        return cfg->access_log;
    case K_DETECT:
        return cfg->detect_log;
    case K_INFO:
        return cfg->info_log;
    case K_ERROR:
        return cfg->error_log;
    default:
        return cfg->auth_log;
    }
}

static void selector(struct admin_req *rq, unsigned src, unsigned kind, const char *filter,
                     unsigned lines)
{
    struct buf *b = rq->out;
    buf_append_cstr(b, "<form method=\"get\" action=\"/logs\" class=\"log-select\">"
                       "<div class=\"field\"><label for=\"l-src\">");
    html_cstr(b, T(rq, T_LOG_SERVICE));
    buf_append_cstr(b, "</label><select id=\"l-src\" name=\"svc\">");
    for (unsigned s = 0; s < SRC_COUNT; s++) {
        buf_printf(b, "<option value=\"%s\"%s>", src_slug[s], s == src ? " selected" : "");
        if (s < SVC_COUNT)
            html_cstr(b, T(rq, (enum admin_text_id)(T_MENU_HTTP + s)));
        else if (s == SRC_DBUPDATE)
            html_cstr(b, T(rq, T_UPDATE_LOG));
        else
            html_cstr(b, T(rq, s == SRC_AUDIT ? T_LOG_AUDIT : T_LOG_CONSOLE_ERRORS));
        buf_append_cstr(b, "</option>");
    }
    buf_append_cstr(b, "</select></div><div class=\"field\"><label for=\"l-kind\">");
    html_cstr(b, T(rq, T_LOG_KIND));
    buf_append_cstr(b, "</label><select id=\"l-kind\" name=\"kind\">");
    for (unsigned k = 0; k < K_COUNT; k++) {
        buf_printf(b, "<option value=\"%s\"%s>", kind_slug[k], k == kind ? " selected" : "");
        html_cstr(b, T(rq, kind_text[k]));
        buf_append_cstr(b, "</option>");
    }
    buf_append_cstr(b, "</select></div><div class=\"field\"><label for=\"l-q\">");
    html_cstr(b, T(rq, T_LOG_FILTER));
    buf_append_cstr(b, "</label><input type=\"text\" id=\"l-q\" name=\"q\" maxlength=\"256\" "
                       "value=\"");
    html_cstr(b, filter != NULL ? filter : "");
    buf_append_cstr(b, "\"></div><div class=\"field\"><label for=\"l-n\">");
    html_cstr(b, T(rq, T_LOG_LINES));
    buf_printf(b,
               "</label><input type=\"number\" id=\"l-n\" name=\"n\" min=\"1\" max=\"%u\" "
               "value=\"%u\"></div><div class=\"actions\"><button type=\"submit\">",
               ADMIN_LOG_LINES_MAX, lines);
    html_cstr(b, T(rq, T_LOG_SHOW));
    buf_append_cstr(b, "</button></div></form>");
}

void page_logs(struct admin_req *rq)
{
    const char *svc = admin_query(rq, "svc"), *kind = admin_query(rq, "kind"),
               *filter = admin_query(rq, "q"), *n = admin_query(rq, "n");
    unsigned src = SVC_HTTP, k = K_ACCESS, lines = ADMIN_LOG_LINES_MAX;
    for (unsigned s = 0; svc != NULL && s < SRC_COUNT; s++)
        if (strcmp(svc, src_slug[s]) == 0)
            src = s;
    for (unsigned i = 0; kind != NULL && i < K_COUNT; i++)
        if (strcmp(kind, kind_slug[i]) == 0)
            k = i;
    if (n != NULL) {
        unsigned long v = strtoul(n, NULL, 10);
        if (v >= 1 && v <= ADMIN_LOG_LINES_MAX)
            lines = (unsigned)v;
    }
    page_begin(rq, T(rq, T_MENU_LOGS), "/logs");
    selector(rq, src, k, filter, lines);
    char path[PATH_MAX];
    if (src == SRC_DBUPDATE) {
        str_format(path, sizeof(path), "%s/log/dbupdate.log", admin.prefix);
    } else if (src == SRC_AUDIT || src == SRC_CONSOLE_ERRORS) {
        str_format(path, sizeof(path), "%s/log/admin/%s", admin.prefix,
                   src == SRC_AUDIT ? "audit.log" : "error.log");
    } else {
        struct config *cfg = config_load(admin.ini_path, (enum service)src, NULL);
        if (cfg == NULL) {
            page_notice(rq, "error", admin.ini_path);
            page_end(rq);
            return;
        }
        const char *p = log_path(cfg, (enum log_kind)k);
        if (p[0] == '|') {
            char t[PATH_MAX + 200];
            str_format(t, sizeof(t), T(rq, T_LOG_PIPE), T(rq, kind_text[k]), src_slug[src], p);
            page_notice(rq, "info", t);
            config_free(cfg);
            page_end(rq);
            return;
        }
        str_format(path, sizeof(path), "%s", p);
        config_free(cfg);
    }
    admin_view_log(rq, path, lines, filter);
    page_end(rq);
}
