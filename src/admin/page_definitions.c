/* page_definitions - Virus definition database (003:2765-2810): the
 * definitions sekisho-scand scans with and their age, Manual update
 * (dbupdate through the controller, its progress from run/dbupdate.status),
 * Automatic updates on/off (make autoupdate-on|off in the prefix), and the
 * update log. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "admin/admin_status.h"
#include "admin/admin_view.h"
#include "core/dbu_status.h"
#include "core/scan_client.h"
#include "proto/db_version.h"

#define SCAND_WAIT_S 5

static void age_text(const struct admin_req *rq, int64_t built, time_t now, char *out, size_t cap)
{
    long long h = built > 0 && now > built ? (long long)(now - built) / 3600 : 0;
    if (h < 48)
        str_format(out, cap, T(rq, T_AGE_HOURS), h);
    else
        str_format(out, cap, T(rq, T_AGE_DAYS), h / 24, h % 24);
}

bool admin_scand_version(struct admin_req *rq, struct scanreq_version *v)
{
    struct config *cfg = config_load(admin.ini_path, SVC_COMMON, NULL);
    if (cfg == NULL)
        return false;
    int sock = scan_client_connect(cfg->scand_socket, false);
    int rc = -1;
    if (sock >= 0) {
        struct timeval tv = {.tv_sec = SCAND_WAIT_S};
        setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        rc = scan_client_version(sock, 1, v);
        close(sock);
    }
    if (rc < 0) {
        char t[PATH_MAX + 256];
        str_format(t, sizeof(t), T(rq, T_DEFS_NO_SCAND), cfg->scand_socket, strerror(errno));
        page_notice(rq, "error", t);
    }
    config_free(cfg);
    return rc == 0;
}

void admin_defs_summary(struct admin_req *rq)
{
    static __thread struct scanreq_version v;
    if (!admin_scand_version(rq, &v))
        return;
    int64_t newest = 0;
    for (size_t i = 0; i < v.count; i++)
        if (v.dbs[i].built > newest)
            newest = v.dbs[i].built;
    char built[DB_VERSION_TIME_MAX], age[64];
    db_version_time_format(newest, built, sizeof(built));
    age_text(rq, newest, time(NULL), age, sizeof(age));
    buf_append_cstr(rq->out, "<p>");
    html_fmt(rq->out, T(rq, T_STATUS_DEFS_AGE), built, age);
    buf_append_cstr(rq->out, " <a href=\"/definitions\">");
    html_cstr(rq->out, T(rq, T_MENU_DEFS));
    buf_append_cstr(rq->out, "</a></p>");
}

static void versions(struct admin_req *rq)
{
    struct buf *b = rq->out;
    buf_append_cstr(b, "<h2>");
    html_cstr(b, T(rq, T_DEFS_IN_SERVICE));
    buf_append_cstr(b, "</h2>");
    static __thread struct scanreq_version v;
    if (!admin_scand_version(rq, &v))
        return;
    char loaded[DB_VERSION_TIME_MAX];
    db_version_time_format((int64_t)v.loaded_at, loaded, sizeof(loaded));
    buf_append_cstr(b, "<p>");
    html_fmt(b, T(rq, T_DEFS_ENGINE), v.libclamav, (unsigned long long)v.signatures, loaded);
    buf_append_cstr(b, "</p><table><thead><tr>");
    static const enum admin_text_id cols[] = {T_DEFS_DATABASE, T_DEFS_VERSION, T_DEFS_SIGNATURES,
                                              T_DEFS_BUILT, T_DEFS_AGE};
    for (size_t i = 0; i < 5; i++) {
        buf_append_cstr(b, "<th scope=\"col\">");
        html_cstr(b, T(rq, cols[i]));
        buf_append_cstr(b, "</th>");
    }
    buf_append_cstr(b, "</tr></thead><tbody>");
    time_t now = time(NULL);
    for (size_t i = 0; i < v.count; i++) {
        char built[DB_VERSION_TIME_MAX], age[64];
        db_version_time_format(v.dbs[i].built, built, sizeof(built));
        age_text(rq, v.dbs[i].built, now, age, sizeof(age));
        buf_append_cstr(b, "<tr><td>");
        html_cstr(b, v.dbs[i].name);
        buf_append_cstr(b, "</td><td>");
        if (v.dbs[i].version > 0)
            buf_printf(b, "%u", v.dbs[i].version);
        else
            html_cstr(b, T(rq, T_DEFS_CUSTOM));
        buf_printf(b, "</td><td>%llu</td><td>", (unsigned long long)v.dbs[i].signatures);
        html_cstr(b, built);
        buf_append_cstr(b, "</td><td>");
        html_cstr(b, age);
        buf_append_cstr(b, "</td></tr>");
    }
    buf_append_cstr(b, "</tbody></table>");
}

static void update_state(struct admin_req *rq)
{
    char path[PATH_MAX];
    str_format(path, sizeof(path), "%s/run/dbupdate.status", admin.prefix);
    struct dbu_status st;
    if (dbu_status_read(path, &st) < 0)
        return;
    char when[DB_VERSION_TIME_MAX], t[DBU_MESSAGE_MAX + DBU_STAGE_MAX + 128];
    db_version_time_format((int64_t)st.started, when, sizeof(when));
    /* A status file says "running" until its update ends; a pid that is
     * gone ended without saying so (killed): not running. (dbupdate runs as
     * root: EPERM is "alive" to this process.) */
    if (st.result < 0 && st.pid > 0 && (kill((pid_t)st.pid, 0) == 0 || errno == EPERM))
        str_format(t, sizeof(t), T(rq, T_UPDATE_RUNNING), st.pid, when, st.stage);
    else
        str_format(t, sizeof(t), T(rq, T_UPDATE_LAST), when, st.message[0] ? st.message : st.stage);
    page_notice(rq, st.result == 1 ? "error" : "info", t);
}

static void auto_update(struct admin_req *rq, const char *verb_text)
{
    struct buf *b = rq->out;
    struct admin_ctl_request c = {.op = ADMIN_CTL_AUTOUPDATE, .verb = ADMIN_VERB_STATUS};
    struct admin_ctl_reply reply;
    bool ok = admin_ctl_call(&c, -1, &reply);
    bool on = ok && strstr(reply.text, ": on") != NULL;
    buf_append_cstr(b, "<h2>");
    html_cstr(b, T(rq, T_AUTO_UPDATE));
    buf_append_cstr(b, "</h2><p>");
    html_cstr(b, T(rq, T_AUTO_UPDATE_HELP));
    buf_append_cstr(b, "</p>");
    if (verb_text != NULL)
        page_notice(rq, "ok", verb_text);
    buf_printf(b, "<p class=\"%s\">", on ? "state-on" : "state-off");
    html_cstr(b, ok ? reply.text : "?");
    buf_append_cstr(b, "</p>");
    form_begin(rq, "/definitions");
    buf_printf(b, "<button type=\"submit\" name=\"action\" value=\"auto-on\"%s>",
               on ? " disabled" : "");
    html_cstr(b, T(rq, T_ON));
    buf_printf(b, "</button><button type=\"submit\" name=\"action\" value=\"auto-off\"%s>",
               on ? "" : " disabled");
    html_cstr(b, T(rq, T_OFF));
    buf_append_cstr(b, "</button></form>");
}

void page_definitions(struct admin_req *rq)
{
    struct buf *b = rq->out;
    page_begin(rq, T(rq, T_MENU_DEFS), "/definitions");
    const char *auto_result = NULL;
    char auto_text[ADMIN_CTL_TEXT_MAX + 1];
    if (strcmp(rq->method, "POST") == 0) {
        const char *action = admin_field(rq, "action");
        struct admin_ctl_reply reply;
        if (action != NULL && strcmp(action, "update") == 0) {
            struct admin_ctl_request c = {.op = ADMIN_CTL_DBUPDATE};
            bool ok = admin_ctl_call(&c, -1, &reply) && reply.status == 0;
            admin_audit(rq->client_ip, rq->user, "manual definition update: %s", reply.text);
            page_notice(rq, ok ? "ok" : "error", ok ? T(rq, T_UPDATE_STARTED) : reply.text);
            /* Give a fast update (nothing new) the time to say so. */
            if (ok)
                usleep(300 * 1000);
        } else if (action != NULL &&
                   (strcmp(action, "auto-on") == 0 || strcmp(action, "auto-off") == 0)) {
            bool on = strcmp(action, "auto-on") == 0;
            struct admin_ctl_request c = {.op = ADMIN_CTL_AUTOUPDATE,
                                          .verb = on ? ADMIN_VERB_ON : ADMIN_VERB_OFF};
            admin_ctl_call(&c, -1, &reply);
            admin_audit(rq->client_ip, rq->user, "automatic updates %s: status %d: %s",
                        on ? "on" : "off", reply.status, reply.text);
            str_format(auto_text, sizeof(auto_text), "%s", reply.text);
            auto_result = auto_text;
        }
    }
    versions(rq);
    buf_append_cstr(b, "<h2>");
    html_cstr(b, T(rq, T_MANUAL_UPDATE));
    buf_append_cstr(b, "</h2><p>");
    html_cstr(b, T(rq, T_MANUAL_UPDATE_HELP));
    buf_append_cstr(b, "</p>");
    update_state(rq);
    form_begin(rq, "/definitions");
    buf_append_cstr(b, "<button type=\"submit\" name=\"action\" value=\"update\">");
    html_cstr(b, T(rq, T_UPDATE_NOW));
    buf_append_cstr(b, "</button></form>");
    auto_update(rq, auto_result);
    buf_append_cstr(b, "<h2>");
    html_cstr(b, T(rq, T_UPDATE_LOG));
    buf_append_cstr(b, "</h2>");
    char log[PATH_MAX];
    str_format(log, sizeof(log), "%s/log/dbupdate.log", admin.prefix);
    admin_view_log(rq, log, 200, NULL);
    page_end(rq);
}
