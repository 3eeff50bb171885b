/* dbu_fetch - see dbu_fetch.h. */
#include "tools/dbupdate/dbu_fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <libfreshclam.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/dbupdate/dbu_log.h"
#include "tools/dbupdate/dbu_proxy_probe.h"

/* ClamAV's database mirror and the DNS name of its version record, as
 * freshclam uses them. */
#define DBU_OFFICIAL_MIRROR "https://database.clamav.net"
#define DBU_DNS_UPDATE_INFO "current.cvd.clamav.net"
/* How much of freshclam.log's new part is searched for the reason. */
#define DBU_FC_LOG_TAIL (64 * 1024)
/* "Mon Dec  7 11:07:46 2026": the time libfreshclam writes before " -> ". */
#define DBU_CTIME_LEN 24
/* A proxy given without a port (dbupdate.conf, orspservice_http_proxy). */
#define DBU_PROXY_PORT_DEFAULT 8080

struct attempt {
    const char *proxy_host; /* NULL: direct */
    unsigned proxy_port;
    const char *user, *pass;
};

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

/* log_since - what libfreshclam wrote to its log after offset from (its
 * last DBU_FC_LOG_TAIL bytes at most), NUL-terminated in a static buffer;
 * NULL when there is nothing. */
static char *log_since(const char *log_path, off_t from)
{
    static char text[DBU_FC_LOG_TAIL + 1];
    int fd = open(log_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    off_t end = lseek(fd, 0, SEEK_END);
    if (end - from > DBU_FC_LOG_TAIL)
        from = end - DBU_FC_LOG_TAIL;
    ssize_t n = end > from ? pread(fd, text, (size_t)(end - from), from) : 0;
    close(fd);
    if (n <= 0)
        return NULL;
    text[n] = '\0';
    return text;
}

/* Lines libfreshclam writes for every failure whatever its cause: they
 * say that it failed, not why. */
static bool generic(const char *text)
{
    static const char *const prefixes[] = {
        "Update failed for",
        "Can't download ",
        "Giving up",
        "updatedb:",
        "check_for_new_database_version: Failed to find",
        "Failed to get",
        "remote_cvdhead: Download failed",
        "Download failed (",
        "Unexpected error when",
    };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(text, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* fc_reason - why libfreshclam failed, from what it wrote to its log after
 * offset from: the first ERROR (else WARNING) line that names a cause,
 * and curl's message when there is one ("Couldn't connect to server").
 * Only the log file's own lines ("<time> -> ERROR: ...") are read; the
 * copies libfreshclam also prints to stderr (which lands in the same file)
 * are not. "" when there is nothing. */
static void fc_reason(const char *log_path, off_t from, char *out, size_t cap)
{
    out[0] = '\0';
    char *text = log_since(log_path, from);
    if (!text)
        return;
    char cause[512] = "", curl[256] = "";
    bool cause_is_error = false;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "ERROR: ", 7) == 0 || strncmp(line, "WARNING: ", 9) == 0)
            continue; /* a copy printed to stderr */
        /* One line may hold several messages: libfreshclam continues a
         * message with a new "<ctime> -> " in the middle of the line. */
        for (const char *p = strstr(line, " -> "); p; p = strstr(p, " -> ")) {
            p += 4;
            bool error = strncmp(p, "ERROR: ", 7) == 0;
            if (!error && strncmp(p, "WARNING: ", 9) != 0)
                continue;
            p += error ? 7 : 9;
            while (*p == ' ')
                p++;
            const char *stop = strstr(p, " -> ");
            size_t len = stop ? (size_t)(stop - p) : strlen(p);
            len = stop && len > DBU_CTIME_LEN ? len - DBU_CTIME_LEN : len;
            while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\r'))
                len--;
            if (strncmp(p, "Message: ", 9) == 0) {
                if (!curl[0])
                    snprintf(curl, sizeof(curl), "%.*s", (int)(len - 9), p + 9);
            } else if (len > 0 && !generic(p) && (!cause[0] || (error && !cause_is_error))) {
                snprintf(cause, sizeof(cause), "%.*s", (int)len, p);
                cause_is_error = error;
            }
        }
    }
    snprintf(out, cap, "%s%s%s", cause, cause[0] && curl[0] ? ": " : "", curl);
}

static bool in_log(const char *log_path, off_t from, const char *needle, char *line, size_t cap)
{
    const char *text = log_since(log_path, from);
    if (!text)
        return false;
    const char *p = strstr(text, needle);
    if (!p)
        return false;
    snprintf(line, cap, "%.*s", (int)strcspn(p, "\n"), p);
    return true;
}

static void add_name(char *updated, size_t cap, const char *name)
{
    size_t len = strlen(updated);
    snprintf(updated + len, cap - len, "%s%s", len ? ", " : "", name);
}

static const char *last_component(const char *url)
{
    const char *s = strrchr(url, '/');
    return s ? s + 1 : url;
}

/* One pass over every source through one proxy (or none). */
static fc_error_t run_pass(const struct dbu_ctx *ctx, const struct attempt *a, dbu_stage_fn *stage,
                           char *updated, size_t cap, char *what, size_t whatcap,
                           const char **failed_url)
{
    fc_config fcc;
    memset(&fcc, 0, sizeof(fcc));
    /* Its messages to the terminal go to stdout, which the update points
     * at /dev/null (main.c): the log file has them all, and stderr stays
     * for what must not be lost (a crash, a sanitizer report). */
    fcc.msgFlags =
        FC_CONFIG_MSG_QUIET | FC_CONFIG_MSG_STDOUT | (ctx->verbose ? FC_CONFIG_MSG_VERBOSE : 0);
    fcc.logFlags = FC_CONFIG_LOG_TIME | FC_CONFIG_LOG_VERBOSE;
    fcc.maxAttempts = ctx->conf.max_attempts;
    fcc.connectTimeout = ctx->conf.connect_timeout;
    fcc.requestTimeout = ctx->conf.receive_timeout;
    fcc.logFile = ctx->fc_log_path;
    fcc.userAgent = NULL; /* libfreshclam's own: mirrors expect it */
    fcc.proxyServer = a->proxy_host;
    fcc.proxyPort = (uint16_t)a->proxy_port;
    fcc.proxyUsername = a->user;
    fcc.proxyPassword = a->pass;
    fcc.databaseDirectory = ctx->staging;
    fcc.tempDirectory = ctx->tmp;
    fc_error_t rc = fc_initialize(&fcc);
    if (rc != FC_SUCCESS) {
        snprintf(what, whatcap, "libfreshclam could not start");
        return rc;
    }

    const char *url = ctx->conf.updateurl[0] ? ctx->conf.updateurl : ctx->ini_updateurl;
    char server[DBU_URL_MAX + 1];
    snprintf(server, sizeof(server), "%s", url[0] ? url : DBU_OFFICIAL_MIRROR);
    for (size_t n = strlen(server); n > 0 && server[n - 1] == '/'; n--)
        server[n - 1] = '\0'; /* libfreshclam appends "/<file>" */
    char *servers[1] = {server};
    int private_mirror = url[0] != '\0';
    char *dns_info = NULL, *new_version = NULL;
    if (!private_mirror && ctx->conf.ndb > 0 &&
        fc_dns_query_update_info(DBU_DNS_UPDATE_INFO, &dns_info, &new_version) != FC_SUCCESS)
        dns_info = NULL; /* libfreshclam then reads the versions over HTTP */

    for (size_t i = 0; rc == FC_SUCCESS && i < ctx->conf.ndb; i++) {
        int changed = 0;
        stage("fetching %s from %s%s%s", ctx->conf.db[i], server,
              a->proxy_host ? " via proxy " : "", a->proxy_host ? a->proxy_host : "");
        rc = fc_update_database(ctx->conf.db[i], servers, 1, private_mirror, dns_info, 1, NULL,
                                &changed);
        if (rc != FC_SUCCESS) {
            snprintf(what, whatcap, "%s from %s", ctx->conf.db[i], server);
            *failed_url = url[0] ? url : DBU_OFFICIAL_MIRROR;
        } else if (changed)
            add_name(updated, cap, ctx->conf.db[i]);
    }
    for (size_t i = 0; rc == FC_SUCCESS && i < ctx->conf.ncustom; i++) {
        int changed = 0;
        stage("fetching %s%s%s", ctx->conf.custom_url[i], a->proxy_host ? " via proxy " : "",
              a->proxy_host ? a->proxy_host : "");
        rc = fc_download_url_database(ctx->conf.custom_url[i], NULL, &changed);
        if (rc != FC_SUCCESS) {
            snprintf(what, whatcap, "%s", ctx->conf.custom_url[i]);
            *failed_url = ctx->conf.custom_url[i];
        } else if (changed)
            add_name(updated, cap, last_component(ctx->conf.custom_url[i]));
    }
    free(dns_info);
    free(new_version);
    fc_cleanup();
    return rc;
}

int dbu_fetch(const struct dbu_ctx *ctx, dbu_stage_fn *stage, char *updated, size_t cap, char *err,
              size_t errcap)
{
    struct attempt list[DBU_PROXIES_MAX];
    size_t n = 0;
    const struct dbupdate_conf *c = &ctx->conf;
    if (c->use_proxy) {
        list[n++] =
            (struct attempt){c->proxy_host, c->proxy_port, c->proxyauth ? c->proxy_user : NULL,
                             c->proxyauth ? c->proxy_pass : NULL};
    } else {
        for (size_t i = 0; i < ctx->nproxies; i++) {
            const struct dbu_proxy *p = &ctx->proxies[i];
            list[n++] = (struct attempt){p->host, p->port ? p->port : DBU_PROXY_PORT_DEFAULT,
                                         p->user[0] ? p->user : NULL, p->user[0] ? p->pass : NULL};
        }
    }
    if (n == 0)
        list[n++] = (struct attempt){NULL, 0, NULL, NULL};

    updated[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        off_t log_from = file_size(ctx->fc_log_path);
        char what[DBU_URL_MAX + 64] = "";
        const char *failed_url = NULL;
        fc_error_t rc =
            run_pass(ctx, &list[i], stage, updated, cap, what, sizeof(what), &failed_url);
        char line[512];
        if (rc == FC_SUCCESS &&
            in_log(ctx->fc_log_path, log_from, "cool-down until", line, sizeof(line))) {
            /* libfreshclam calls a 429 a success: nothing was fetched. */
            snprintf(err, errcap, "the mirror asks to wait (HTTP 429): %s", line);
            return -1;
        }
        if (rc == FC_SUCCESS)
            return 0;
        char reason[1024], probe[600] = "";
        fc_reason(ctx->fc_log_path, log_from, reason, sizeof(reason));
        bool network = rc == FC_ECONNECTION || rc == FC_EFAILEDGET || rc == FC_EFORBIDDEN;
        if (network && list[i].proxy_host && failed_url)
            dbu_proxy_probe(list[i].proxy_host, list[i].proxy_port, list[i].user, list[i].pass,
                            failed_url, c->connect_timeout, probe, sizeof(probe));
        snprintf(err, errcap, "%s: %s%s%s%s%s%s", what, fc_strerror(rc), reason[0] ? " (" : "",
                 reason, reason[0] ? ")" : "", probe[0] ? "; " : "", probe);
        if (i + 1 < n)
            dbu_log("%s; trying the next proxy", err);
        if (!network || i + 1 == n)
            return -1;
        /* the next proxy of orspservice_http_proxy */
    }
    return -1;
}
