/* svclog - the info and error logs of a service (LOG-3, LOG-4).
 *
 * Formats one line with the documented prefix (proto/logline_format) and
 * hands it to the info or error sink (lib/log). A context names the
 * session the line is about (listen port, internal id, client, server),
 * so "which session, in which state" comes out of one grep. Error lines
 * carry the guide's "###ERROR### " marker; a system-call failure appends
 * "/strerror(<errno>)=<text>" (C-24). No allocation.
 */
#ifndef SEKISHO_CORE_SVCLOG_H
#define SEKISHO_CORE_SVCLOG_H

#include <stdint.h>

struct svclog_ctx {
    uint16_t listen_port;
    int internal_id; /* -1 when not a session */
    const char *client_ip;
    const char *client_host;
    uint16_t client_port;
    const char *server_ip;
    const char *server_host;
    uint16_t server_port;
};

/* Each takes ctx == NULL for process-level lines (start, stop, signals). */
void svclog_set_listen_port(uint16_t port);
void svclog_info(const struct svclog_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void svclog_error(const struct svclog_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* svclog_warning - an error-log line marked "WARNING " instead of the
 * error marker: something was cut or ignored, and the session went on
 * (the KB v5 form of LOG-E9). */
void svclog_warning(const struct svclog_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void svclog_error_errno(const struct svclog_ctx *ctx, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
