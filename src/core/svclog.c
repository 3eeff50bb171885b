/* svclog - the info and error logs of a service (LOG-3, LOG-4). */
#include "core/svclog.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "lib/log.h"
#include "proto/logline_format.h"

static uint16_t default_listen_port;

void svclog_set_listen_port(uint16_t port)
{
    default_listen_port = port;
}

static void emit(enum log_sink sink, const struct svclog_ctx *c, const char *marker, int errnum,
                 const char *fmt, va_list ap)
{
    char msg[LOGLINE_MESSAGE_MAX];
    struct buf m;
    buf_init(&m, msg, sizeof(msg));
    buf_append_cstr(&m, marker);
    if (!buf_vprintf(&m, fmt, ap)) {
        /* Too long: keep what fits, visibly cut. */
        m.wpos = sizeof(msg) - 16;
        buf_append_cstr(&m, "...(cut)");
    }
    if (errnum)
        logline_strerror_suffix(&m, errnum);
    struct logline_ctx lc = {
        .listen_port = c ? c->listen_port : default_listen_port,
        .internal_id = c ? c->internal_id : LOGLINE_UNKNOWN,
        .client_ip = str_from_cstr(c ? c->client_ip : NULL),
        .client_host = str_from_cstr(c ? c->client_host : NULL),
        .client_port = c ? c->client_port : 0,
        .server_ip = str_from_cstr(c ? c->server_ip : NULL),
        .server_host = str_from_cstr(c ? c->server_host : NULL),
        .server_port = c ? c->server_port : 0,
    };
    clock_gettime(CLOCK_REALTIME, &lc.time);
    char line[LOGLINE_LINE_MAX + 64];
    struct buf l;
    buf_init(&l, line, sizeof(line));
    if (logline_format(&l, &lc, buf_view(&m)))
        log_sink_write(sink, buf_rptr(&l), buf_len(&l));
}

void svclog_info(const struct svclog_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SINK_INFO, ctx, "", 0, fmt, ap);
    va_end(ap);
}

void svclog_error(const struct svclog_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SINK_ERROR, ctx, "###ERROR### ", 0, fmt, ap);
    va_end(ap);
}

void svclog_warning(const struct svclog_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SINK_ERROR, ctx, "WARNING ", 0, fmt, ap);
    va_end(ap);
}

void svclog_error_errno(const struct svclog_ctx *ctx, int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(LOG_SINK_ERROR, ctx, "###ERROR### ", errnum, fmt, ap);
    va_end(ap);
}
