/* page_status - the Status page (beyond the guide) and /metrics.
 *
 * Each service up or down (its stats file names its master; the master
 * must be alive and be that service), its connections, requests or mails,
 * detections and spam per minute over the last hour as a small chart
 * (server-side SVG, no script), sessions now, the age of the
 * definitions, the free space of the spool and quarantine. /metrics gives
 * the same counters as OpenMetrics text (proto/metrics_format) to a
 * scraper that has metrics_token or comes from metrics_allow.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "admin/admin_status.h"
#include "core/svc_metrics.h"
#include "lib/svc_stats.h"
#include "proto/db_version.h"
#include "proto/metrics_format.h"

/* master_alive - pid runs and is the master of svc (not a reused pid):
 * its command line has --<svc>. /proc files have no size, so read them
 * until the end rather than by their stat. */
static bool master_alive(int64_t pid, const char *svc)
{
    if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno != EPERM))
        return false;
    char path[64], cmd[8192], want[32];
    str_format(path, sizeof(path), "/proc/%lld/cmdline", (long long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, cmd + len, sizeof(cmd) - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == sizeof(cmd) - 1)
            break;
    }
    close(fd);
    cmd[len] = 0;
    str_format(want, sizeof(want), "--%s", svc);
    for (size_t off = 0; off < len; off += strlen(cmd + off) + 1)
        if (strcmp(cmd + off, want) == 0)
            return true;
    return false;
}

bool admin_status_read(enum service svc, struct svc_stats_snapshot *snap, bool *up)
{
    *up = false;
    struct config *cfg = config_load(admin.ini_path, svc, NULL);
    if (cfg == NULL)
        return false;
    char path[PATH_MAX];
    bool ok = svc_stats_path(cfg->tmpdir, service_name(svc), path, sizeof(path)) == 0 &&
              svc_stats_read(path, snap, time(NULL)) == 0;
    config_free(cfg);
    if (ok)
        *up = master_alive(snap->master_pid, service_name(svc));
    return ok;
}

/* chart - requests as a line, detections as bars, 60 minutes. */
static void chart(struct admin_req *rq, const char *name, const struct svc_stats_snapshot *s)
{
    struct buf *b = rq->out;
    uint32_t max = 1;
    for (int m = 0; m < SVC_STATS_MINUTES; m++) {
        if (s->per_minute[SVC_STAT_REQUESTS][m] > max)
            max = s->per_minute[SVC_STAT_REQUESTS][m];
        if (s->per_minute[SVC_STAT_DETECTIONS][m] > max)
            max = s->per_minute[SVC_STAT_DETECTIONS][m];
    }
    char label[512];
    str_format(label, sizeof(label), T(rq, T_STATUS_CHART), name,
               (unsigned long long)s->total[SVC_STAT_REQUESTS],
               (unsigned long long)s->total[SVC_STAT_DETECTIONS]);
    buf_append_cstr(b, "<svg class=\"chart\" viewBox=\"0 0 600 130\" role=\"img\" aria-label=\"");
    html_cstr(b, label);
    buf_append_cstr(b, "\"><title>");
    html_cstr(b, label);
    buf_append_cstr(b, "</title><rect x=\"0\" y=\"0\" width=\"600\" height=\"130\" fill=\"#fff\"/>"
                       "<line x1=\"0\" y1=\"110\" x2=\"600\" y2=\"110\" stroke=\"#5f6b76\"/>");
    for (int m = 0; m < SVC_STATS_MINUTES; m++) {
        uint32_t d = s->per_minute[SVC_STAT_DETECTIONS][m];
        if (d == 0)
            continue;
        unsigned h = (unsigned)(100.0 * d / max);
        buf_printf(b, "<rect x=\"%d\" y=\"%u\" width=\"8\" height=\"%u\" fill=\"#b3261e\"/>",
                   m * 10 + 1, 110 - h, h);
    }
    buf_append_cstr(b, "<polyline fill=\"none\" stroke=\"#0b4f9c\" stroke-width=\"2\" points=\"");
    for (int m = 0; m < SVC_STATS_MINUTES; m++)
        buf_printf(b, "%d,%u ", m * 10 + 5,
                   110 - (unsigned)(100.0 * s->per_minute[SVC_STAT_REQUESTS][m] / max));
    buf_append_cstr(b, "\"/><text x=\"2\" y=\"126\" font-size=\"11\" fill=\"#1a1a1a\">");
    html_cstr(b, T(rq, T_CHART_START));
    buf_append_cstr(b, "</text><text x=\"598\" y=\"126\" font-size=\"11\" fill=\"#1a1a1a\" "
                       "text-anchor=\"end\">");
    html_cstr(b, T(rq, T_CHART_NOW));
    buf_append_cstr(b, "</text><text x=\"2\" y=\"12\" font-size=\"11\" fill=\"#1a1a1a\">");
    html_fmt(b, T(rq, T_CHART_PER_MIN), max);
    buf_append_cstr(b, "</text></svg>");
}

static void disk_line(struct admin_req *rq, const char *path)
{
    struct statvfs v;
    buf_append_cstr(rq->out, "<li>");
    if (statvfs(path, &v) == 0) {
        unsigned long long mib = 1024ull * 1024;
        html_fmt(rq->out, T(rq, T_STATUS_DISK_LINE), path,
                 (unsigned long long)v.f_bavail * v.f_frsize / mib,
                 (unsigned long long)v.f_blocks * v.f_frsize / mib);
    } else {
        html_fmt(rq->out, "%s: %s", path, strerror(errno));
    }
    buf_append_cstr(rq->out, "</li>");
}

void page_status(struct admin_req *rq)
{
    struct buf *b = rq->out;
    page_begin(rq, T(rq, T_MENU_STATUS), "/");
    buf_append_cstr(b, "<h2>");
    html_cstr(b, T(rq, T_STATUS_SERVICES));
    buf_append_cstr(b, "</h2><table><thead><tr>");
    static const enum admin_text_id cols[] = {
        T_SERVICE_STATE,      T_STATUS_STATE,    T_STATUS_SINCE,      T_STATUS_SESSIONS,
        T_STATUS_CONNECTIONS, T_STATUS_REQUESTS, T_STATUS_DETECTIONS, T_STATUS_SPAM};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        buf_append_cstr(b, "<th scope=\"col\">");
        html_cstr(b, T(rq, cols[i]));
        buf_append_cstr(b, "</th>");
    }
    buf_append_cstr(b, "</tr></thead><tbody>");
    static __thread struct svc_stats_snapshot snaps[SVC_COUNT];
    bool have[SVC_COUNT];
    for (enum service s = SVC_HTTP; s < SVC_COUNT; s++) {
        bool up = false;
        have[s] = admin_status_read(s, &snaps[s], &up);
        buf_printf(b, "<tr><th scope=\"row\">%s</th><td class=\"%s\">", service_name(s),
                   up ? "state-on" : "state-off");
        html_cstr(b, T(rq, up ? T_RUNNING : T_STOPPED));
        buf_append_cstr(b, "</td>");
        if (have[s] && up) {
            char since[DB_VERSION_TIME_MAX];
            db_version_time_format(snaps[s].start_time, since, sizeof(since));
            buf_append_cstr(b, "<td>");
            html_cstr(b, since);
            buf_printf(b, "</td><td>%llu</td>", (unsigned long long)snaps[s].sessions);
            for (int k = 0; k < SVC_STAT_KINDS; k++)
                buf_printf(b, "<td>%llu</td>", (unsigned long long)snaps[s].total[k]);
        } else {
            buf_append_cstr(b, "<td></td><td></td><td></td><td></td><td></td><td></td>");
        }
        buf_append_cstr(b, "</tr>");
    }
    buf_append_cstr(b, "</tbody></table><h2>");
    html_cstr(b, T(rq, T_STATUS_LAST_HOUR));
    buf_append_cstr(b, "</h2>");
    for (enum service s = SVC_HTTP; s < SVC_COUNT; s++)
        if (have[s])
            chart(rq, service_name(s), &snaps[s]);
    buf_append_cstr(b, "<h2>");
    html_cstr(b, T(rq, T_STATUS_DEFS));
    buf_append_cstr(b, "</h2>");
    admin_defs_summary(rq);
    buf_append_cstr(b, "<h2>");
    html_cstr(b, T(rq, T_STATUS_DISK));
    buf_append_cstr(b, "</h2><ul>");
    struct config *cfg = config_load(admin.ini_path, SVC_COMMON, NULL);
    if (cfg != NULL) {
        disk_line(rq, cfg->tmpdir);
        disk_line(rq, cfg->quarantine_dir);
        config_free(cfg);
    }
    buf_append_cstr(b, "</ul>");
    page_end(rq);
}

/* metrics_allowed - the bearer token, or an address of metrics_allow. */
static bool metrics_allowed(struct admin_req *rq)
{
    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Authorization");
    size_t tl = strlen(admin.conf.metrics_token);
    if (auth != NULL && tl > 0 && strncmp(auth, "Bearer ", 7) == 0 && strlen(auth + 7) == tl &&
        CRYPTO_memcmp(auth + 7, admin.conf.metrics_token, tl) == 0)
        return true;
    unsigned char a[16];
    int fam = strchr(rq->client_ip, ':') != NULL ? AF_INET6 : AF_INET;
    if (inet_pton(fam, rq->client_ip, a) != 1)
        return false;
    for (size_t i = 0; i < admin.conf.nallow; i++)
        if (admin.conf.allow[i].family == fam &&
            memcmp(admin.conf.allow[i].addr, a, fam == AF_INET ? 4 : 16) == 0)
            return true;
    return false;
}

void page_metrics(struct admin_req *rq)
{
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        rq->status = 405;
        rq->content_type = "text/plain; charset=utf-8";
        buf_append_cstr(rq->out, "GET only\n");
        return;
    }
    if (!metrics_allowed(rq)) {
        rq->status = 403;
        rq->content_type = "text/plain; charset=utf-8";
        buf_append_cstr(rq->out, "metrics: a token (metrics_token) or an allowed address "
                                 "(metrics_allow) is needed\n");
        admin_audit(rq->client_ip, NULL, "refused /metrics");
        return;
    }
    static __thread struct svc_stats_snapshot snap;
    struct metrics_service ms[SVC_COUNT];
    for (enum service s = SVC_HTTP; s < SVC_COUNT; s++) {
        bool up = false;
        bool known = admin_status_read(s, &snap, &up);
        ms[s] = svc_metrics_entry(service_name(s), known ? &snap : NULL, up);
    }
    rq->content_type = METRICS_CONTENT_TYPE;
    if (!metrics_format(rq->out, ms, SVC_COUNT)) {
        rq->status = 500;
        rq->content_type = "text/plain; charset=utf-8";
        buf_reset(rq->out);
        buf_append_cstr(rq->out, "metrics: could not be formatted\n");
    }
}
