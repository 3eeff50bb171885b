/* admin_log - log/admin/error.log (LOG-1: the console's problems) and
 * log/admin/audit.log (every login, failed login, change and restart), in
 * the info.log line format so logconv and the Logs page read them. Each
 * line is one write(2) on an O_APPEND descriptor, so the controller and
 * the web process (and its threads) never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "proto/logline_format.h"

static int error_fd = -1, audit_fd = -1;

static int open_log(const char *dir, const char *name, uid_t uid, gid_t gid)
{
    char path[PATH_MAX];
    str_format(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd >= 0 && uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int admin_log_open(const char *prefix, uid_t uid, gid_t gid)
{
    char dir[PATH_MAX];
    str_format(dir, sizeof(dir), "%s/log", prefix);
    mkdir(dir, 0755);
    str_format(dir, sizeof(dir), "%s/log/admin", prefix);
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return -1;
    if (uid != (uid_t)-1 && chown(dir, uid, gid) < 0)
        return -1;
    error_fd = open_log(dir, "error.log", uid, gid);
    audit_fd = open_log(dir, "audit.log", uid, gid);
    return error_fd >= 0 && audit_fd >= 0 ? 0 : -1;
}

static void write_line(int fd, const char *client_ip, const char *msg)
{
    char mem[LOGLINE_LINE_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct logline_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    clock_gettime(CLOCK_REALTIME, &ctx.time);
    ctx.listen_port = admin.listen_port > 0 ? (long)admin.listen_port : LOGLINE_UNKNOWN;
    ctx.internal_id = LOGLINE_UNKNOWN;
    ctx.client_ip = str_from_cstr(client_ip != NULL ? client_ip : "");
    ctx.client_host = str_from_cstr("");
    ctx.server_ip = str_from_cstr("");
    ctx.server_host = str_from_cstr("");
    if (!logline_format(&b, &ctx, str_from_cstr(msg)))
        return;
    if (fd >= 0) {
        ssize_t w = write(fd, buf_rptr(&b), buf_len(&b));
        (void)w;
    } else {
        fwrite(buf_rptr(&b), 1, buf_len(&b), stderr);
    }
}

void admin_error(const char *client_ip, const char *fmt, ...)
{
    char msg[LOGLINE_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    write_line(error_fd, client_ip, msg);
}

void admin_audit(const char *client_ip, const char *user, const char *fmt, ...)
{
    char msg[LOGLINE_MESSAGE_MAX];
    int n = snprintf(msg, sizeof(msg), "user %s: ", user != NULL && user[0] ? user : "-");
    if (n < 0 || (size_t)n >= sizeof(msg))
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    write_line(audit_fd, client_ip, msg);
}
