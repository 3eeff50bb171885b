/* scand_log - timestamped lines on stderr for sekisho-scand. */
#include "scand/scand_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"

#define SCAND_LOG_LINE_MAX 1024

static volatile bool log_verbose;

void scand_log_set_verbose(bool verbose)
{
    log_verbose = verbose;
}

bool scand_log_is_verbose(void)
{
    return log_verbose;
}

static void log_line(const char *fmt, va_list ap)
{
    char mem[SCAND_LOG_LINE_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem) - 1);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y/%m/%d %H:%M:%S", &tm);
    buf_printf(&b, "%s sekisho-scand[%ld]: ", stamp, (long)getpid());
    if (!buf_vprintf(&b, fmt, ap))
        buf_append_cstr(&b, "(line too long)");
    b.cap++; /* the byte kept back above is for the newline */
    buf_append_cstr(&b, "\n");
    ssize_t rc = write(STDERR_FILENO, buf_rptr(&b), buf_len(&b));
    (void)rc; /* nowhere left to report a failing stderr */
}

void scand_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

void scand_log_debug(const char *fmt, ...)
{
    if (!log_verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}
