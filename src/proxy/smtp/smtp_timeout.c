/* smtp_timeout - when a silent session ends (G-22, timeout_inactive).
 *
 * Every byte that moves between the session and its client or its server
 * restarts one timer (touch() in smtp_session.c). When it runs out:
 *
 *   timeout_inactive=no: G-22's limit, 300 s, is the command channel's
 *     idle limit; a client in the command dialogue or in DATA gets "421
 *     Timeout", a session in any other state is closed.
 *   timeout_inactive=yes: nothing moved in either direction for
 *     inactive_timeout seconds, whatever the session waits for (the
 *     server's connection or greeting, a client command, the client's
 *     message, a server reply, the virus scan, the server taking the
 *     message). The session ends: the error log says what it waited
 *     for, a mail in progress gets its record (500) and is not sent on
 *     (the server never gets the end of the message from us, so it
 *     discards it), and the client gets 421 with the reason unless it is
 *     the one not reading. Nothing is acknowledged: the client's mail is
 *     still the client's, and it retries later.
 */
#include <stdio.h>

#include "core/svclog.h"
#include "lib/buf.h"
#include "proxy/smtp/smtp_internal.h"

uint64_t smtp_idle_ms(const struct config *cfg)
{
    return cfg->timeout_inactive ? (uint64_t)cfg->inactive_timeout * 1000u : SMTP_IDLE_MS;
}

const char *smtp_waits_for(const struct proxy_session *ps)
{
    const struct smtp_session *s = (const struct smtp_session *)ps;
    if (buf_len(&s->ps.client.out) > 0)
        return "the client to read a reply";
    switch (s->state) {
    case SMTP_ST_CONNECT:
        return "the connection to the server";
    case SMTP_ST_GREETING:
        return "the server's greeting";
    case SMTP_ST_COMMAND:
    case SMTP_ST_AUTH_RELAY:
        return s->on_reply ? "a reply of the server" : "a command of the client";
    case SMTP_ST_DATA:
        return "the client's message";
    case SMTP_ST_SCAN:
        return "the virus scan";
    case SMTP_ST_SEND:
        return s->on_reply ? "the server's reply to the message" : "the server to take the message";
    case SMTP_ST_CLOSING:
    default:
        return "the client to read the last reply";
    }
}

/* idle_limit - G-22 as it was before timeout_inactive existed. */
static void idle_limit(struct smtp_session *s)
{
    svclog_info(&s->ps.log, "smtp: no traffic for %d sec in state %d: closing", SMTP_IDLE_MS / 1000,
                (int)s->state);
    if (s->state == SMTP_ST_COMMAND || s->state == SMTP_ST_DATA) {
        smtp_session_reply(s, 421, "Timeout");
        smtp_end_session(s);
        return;
    }
    smtp_session_abort(s);
}

void smtp_on_idle(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (!s->ps.cfg->timeout_inactive) {
        idle_limit(s);
        return;
    }
    unsigned sec = s->ps.cfg->inactive_timeout;
    const char *what = smtp_waits_for(ps);
    bool client_stuck = buf_len(&s->ps.client.out) > 0 || s->state == SMTP_ST_CLOSING;
    svclog_error(&s->ps.log,
                 "smtp: no traffic in either direction for %u sec while waiting for %s: "
                 "session closed (timeout_inactive)",
                 sec, what);
    char reason[160];
    snprintf(reason, sizeof(reason), "no traffic for %u seconds while waiting for %s", sec, what);
    if (s->state == SMTP_ST_DATA || s->state == SMTP_ST_SCAN || s->state == SMTP_ST_SEND) {
        snprintf(s->m.o.error, sizeof(s->m.o.error), "PROXY/inactive timeout: %s", reason);
        smtp_write_record(s);
        smtp_reset_mail(s); /* cancels the scan; the spool goes */
    }
    s->on_reply = NULL;
    if (client_stuck) {
        smtp_session_abort(s);
        return;
    }
    smtp_session_reply(s, 421, "Timeout: %s, closing connection", reason);
    smtp_end_session(s);
}

void smtp_on_line_timeout(struct proxy_session *ps)
{
    struct smtp_session *s = (struct smtp_session *)ps;
    if (s->state != SMTP_ST_COMMAND && s->state != SMTP_ST_AUTH_RELAY)
        return;
    smtp_session_reply(s, 421,
                       "Timeout: command line not complete within %u sec, closing connection",
                       s->ps.cfg->request_timeout);
    smtp_end_session(s);
}
