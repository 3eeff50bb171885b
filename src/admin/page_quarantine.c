/* page_quarantine - the quarantined objects (beyond the guide; SCAN-12
 * puts them there): date, service, detection, client, sender and
 * recipients from each object's meta (core/quarantine_store), and per
 * object: download as a password-protected zip (core/quarantine_zip),
 * release (a mail re-delivered to its recipients through the SMTP parent,
 * a file marked released: core/quarantine_release), delete.
 *
 * The web process runs as run_user, who owns the quarantine: no root is
 * needed. A release talks SMTP for up to its timeout on this request's
 * own thread, never on another's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "core/quarantine_release.h"
#include "core/quarantine_store.h"
#include "core/quarantine_zip.h"
#include "proto/db_version.h"

#define Q_SHOWN_MAX    1000
#define RELEASE_WAIT_S 60

struct list_ctx {
    struct admin_req *rq;
};

static void cell_str(struct buf *b, struct str s)
{
    buf_append_cstr(b, "<td>");
    html_text(b, s.ptr != NULL ? s.ptr : "", s.len);
    buf_append_cstr(b, "</td>");
}

static void action_button(struct admin_req *rq, const char *id, const char *action,
                          enum admin_text_id label)
{
    form_begin(rq, "/quarantine");
    struct buf *b = rq->out;
    buf_append_cstr(b, "<input type=\"hidden\" name=\"id\" value=\"");
    html_cstr(b, id);
    buf_printf(b,
               "\"><button type=\"submit\" name=\"action\" value=\"%s\" class=\"secondary\" "
               "aria-label=\"",
               action);
    html_fmt(b, "%s %s", T(rq, label), id);
    buf_append_cstr(b, "\">");
    html_cstr(b, T(rq, label));
    buf_append_cstr(b, "</button></form>");
}

static bool list_one(void *arg, const struct qstore_item *it)
{
    struct list_ctx *lc = arg;
    struct admin_req *rq = lc->rq;
    struct buf *b = rq->out;
    const struct qmeta *m = &it->meta;
    char when[DB_VERSION_TIME_MAX];
    db_version_time_format(m->time, when, sizeof(when));
    buf_append_cstr(b, "<tr><td>");
    html_cstr(b, when);
    buf_append_cstr(b, "</td>");
    cell_str(b, m->service);
    buf_append_cstr(b, "<td>");
    html_cstr(b, qmeta_result_name(m->result));
    buf_append_cstr(b, " ");
    html_text(b, m->detection.ptr, m->detection.len);
    buf_append_cstr(b, "</td>");
    cell_str(b, m->client);
    buf_append_cstr(b, "<td>");
    if (m->has_sender)
        m->sender.len > 0 ? html_text(b, m->sender.ptr, m->sender.len) : html_cstr(b, "<>");
    buf_append_cstr(b, "</td><td>");
    for (size_t i = 0; i < m->nrcpt; i++) {
        if (i > 0)
            buf_append_cstr(b, "<br>");
        html_text(b, m->rcpt[i].ptr, m->rcpt[i].len);
    }
    if (m->rcpt_count > m->nrcpt)
        buf_printf(b, " (+%llu)", (unsigned long long)(m->rcpt_count - m->nrcpt));
    buf_append_cstr(b, "</td><td class=\"wrap\">");
    if (m->url.len > 0)
        html_text(b, m->url.ptr, m->url.len);
    else
        html_text(b, m->file.ptr, m->file.len);
    buf_printf(b, "</td><td>%llu</td><td>", (unsigned long long)m->size);
    if (m->released) {
        char rel[DB_VERSION_TIME_MAX], by[256];
        db_version_time_format(m->released_time, rel, sizeof(rel));
        str_copy_view(by, sizeof(by), m->released_by);
        html_fmt(b, T(rq, T_Q_RELEASED), rel, by);
    } else {
        action_button(rq, it->id, "release", T_Q_RELEASE);
    }
    action_button(rq, it->id, "delete", T_Q_DELETE);
    /* Download: a form of its own with the zip password. */
    form_begin(rq, "/quarantine");
    buf_append_cstr(b, "<input type=\"hidden\" name=\"id\" value=\"");
    html_cstr(b, it->id);
    buf_append_cstr(b, "\"><label>");
    html_cstr(b, T(rq, T_Q_ZIP_PASSWORD));
    buf_append_cstr(b, " <input type=\"text\" name=\"password\" value=\"" QZIP_DEFAULT_PASSWORD
                       "\" size=\"10\" autocomplete=\"off\"></label> <button type=\"submit\" "
                       "name=\"action\" value=\"zip\" class=\"secondary\">");
    html_cstr(b, T(rq, T_Q_DOWNLOAD));
    buf_append_cstr(b, "</button></form></td></tr>");
    return true;
}

static bool quarantine_dir(char *out, size_t cap, char *helo, size_t helo_cap, char *host,
                           size_t host_cap, unsigned *port)
{
    struct config *cfg = config_load(admin.ini_path, SVC_SMTP, NULL);
    if (cfg == NULL)
        return false;
    str_format(out, cap, "%s", cfg->quarantine_dir);
    if (host != NULL) {
        str_format(host, host_cap, "%s", cfg->parent_server_host);
        *port = cfg->parent_server_port;
        if (gethostname(helo, helo_cap) != 0 || helo[0] == 0)
            str_format(helo, helo_cap, "%s", "localhost");
        helo[helo_cap - 1] = 0;
    }
    config_free(cfg);
    return true;
}

/* act - one POST: release, delete or zip. true when the answer is a file
 * (the zip), false when the list follows with a notice. */
static bool act(struct admin_req *rq, const char *dir)
{
    const char *id = admin_field(rq, "id"), *action = admin_field(rq, "action");
    if (id == NULL || action == NULL)
        return false;
    char text[QRELEASE_TEXT_MAX];
    if (strcmp(action, "delete") == 0) {
        enum qstore_status st = qstore_delete(dir, id);
        admin_audit(rq->client_ip, rq->user, "quarantine delete %s: %s", id,
                    qstore_status_text(st));
        if (st == QSTORE_OK) {
            str_format(text, sizeof(text), T(rq, T_Q_DELETED), id);
            page_notice(rq, "ok", text);
        } else {
            str_format(text, sizeof(text), T(rq, T_Q_FAILED), id, qstore_status_text(st));
            page_notice(rq, "error", text);
        }
        return false;
    }
    if (strcmp(action, "release") == 0) {
        char d[PATH_MAX], helo[256], host[256];
        unsigned port = 25;
        quarantine_dir(d, sizeof(d), helo, sizeof(helo), host, sizeof(host), &port);
        struct qrelease_target t = {
            .host = host, .port = (uint16_t)port, .helo = helo, .timeout_s = RELEASE_WAIT_S};
        char by[300];
        str_format(by, sizeof(by), "%s@console", rq->user);
        enum qrelease_outcome o =
            qrelease_run(dir, id, &t, by, (int64_t)time(NULL), text, sizeof(text));
        admin_audit(rq->client_ip, rq->user, "quarantine release %s: %s", id, text);
        page_notice(rq, o == QRELEASE_DELIVERED || o == QRELEASE_MARKED ? "ok" : "error", text);
        return false;
    }
    if (strcmp(action, "zip") == 0) {
        const char *pw = admin_field(rq, "password");
        if (pw == NULL || pw[0] == 0)
            pw = QZIP_DEFAULT_PASSWORD;
        int fd = memfd_create("sekisho-quarantine-zip", MFD_CLOEXEC);
        struct config *cfg = config_load(admin.ini_path, SVC_COMMON, NULL);
        enum qstore_status st = fd >= 0 && cfg != NULL
                                    ? qzip_write(dir, id, pw, cfg->tmpdir, fd, text, sizeof(text))
                                    : QSTORE_IO;
        if (cfg != NULL)
            config_free(cfg);
        admin_audit(rq->client_ip, rq->user, "quarantine download %s: %s", id,
                    qstore_status_text(st));
        if (st == QSTORE_OK && fd >= 0) {
            rq->body_fd = fd;
            rq->content_type = "application/zip";
            str_format(rq->disposition, sizeof(rq->disposition), "attachment; filename=\"%s.zip\"",
                       id);
            return true;
        }
        if (fd >= 0)
            close(fd);
        page_notice(rq, "error", text[0] ? text : qstore_status_text(st));
        return false;
    }
    return false;
}

void page_quarantine(struct admin_req *rq)
{
    if (strcmp(rq->path, "/quarantine") != 0) {
        admin_error_page(rq, 404, T(rq, T_NOT_FOUND));
        return;
    }
    char dir[PATH_MAX];
    if (!quarantine_dir(dir, sizeof(dir), NULL, 0, NULL, 0, NULL)) {
        admin_error_page(rq, 500, admin.ini_path);
        return;
    }
    /* A zip answers with the file: decided before the page starts. */
    struct buf *page = rq->out;
    struct buf *notices = buf_new(16 * 1024);
    if (notices == NULL) {
        admin_error_page(rq, 500, "out of memory");
        return;
    }
    if (strcmp(rq->method, "POST") == 0) {
        rq->out = notices;
        bool file = act(rq, dir);
        rq->out = page;
        if (file) {
            buf_free(notices);
            return;
        }
    }
    page_begin(rq, T(rq, T_MENU_QUARANTINE), "/quarantine");
    buf_append(page, buf_rptr(notices), buf_len(notices));
    buf_free(notices);
    struct buf *b = rq->out;
    buf_append_cstr(b, "<p>");
    html_cstr(b, T(rq, T_Q_ZIP_HELP));
    buf_append_cstr(b, "</p>");
    size_t mark = buf_len(b);
    buf_append_cstr(b, "<table><thead><tr>");
    static const enum admin_text_id cols[] = {T_Q_DATE,   T_Q_SERVICE, T_Q_DETECTION,
                                              T_Q_CLIENT, T_Q_SENDER,  T_Q_RECIPIENTS,
                                              T_Q_OBJECT, T_Q_SIZE,    T_ACTIONS};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        buf_append_cstr(b, "<th scope=\"col\">");
        html_cstr(b, T(rq, cols[i]));
        buf_append_cstr(b, "</th>");
    }
    buf_append_cstr(b, "</tr></thead><tbody>");
    struct list_ctx lc = {.rq = rq};
    long n = qstore_list(dir, Q_SHOWN_MAX, list_one, &lc);
    buf_append_cstr(b, "</tbody></table>");
    char t[PATH_MAX + 300];
    if (n < 0 && errno != ENOENT) {
        b->wpos = b->rpos + mark; /* no table */
        str_format(t, sizeof(t), T(rq, T_Q_NO_DIR), dir, strerror(errno));
        page_notice(rq, "error", t);
    } else if (n <= 0) {
        /* No directory yet: nothing was ever quarantined. */
        b->wpos = b->rpos + mark;
        page_notice(rq, "info", T(rq, T_Q_EMPTY));
    } else {
        str_format(t, sizeof(t), T(rq, T_Q_COUNT), n, (unsigned)Q_SHOWN_MAX);
        buf_append_cstr(b, "<p>");
        html_cstr(b, t);
        buf_append_cstr(b, "</p>");
    }
    page_end(rq);
}
