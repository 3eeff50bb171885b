/* dbu_log - see dbu_log.h. */
#include "tools/dbupdate/dbu_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "proto/logline_format.h"

static int log_fd = -1;

int dbu_log_open(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            return -1;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    return 0;
}

void dbu_log(const char *fmt, ...)
{
    if (log_fd < 0)
        return;
    char msg[LOGLINE_MESSAGE_MAX];
    int n = snprintf(msg, sizeof(msg), "dbupdate[%ld]: ", (long)getpid());
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(msg))
        vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    struct logline_ctx ctx = {.listen_port = LOGLINE_UNKNOWN, .internal_id = LOGLINE_UNKNOWN};
    clock_gettime(CLOCK_REALTIME, &ctx.time);
    char mem[LOGLINE_LINE_MAX];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    if (!logline_format(&out, &ctx, str_from_cstr(msg)))
        return;
    if (write(log_fd, buf_rptr(&out), buf_len(&out)) < 0) {
        /* Nowhere left to say it: the result still reaches the caller
         * through the status file and the exit code. */
    }
}
