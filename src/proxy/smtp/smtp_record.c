/* smtp_record - the access-log record of each SMTP transaction and the
 * info lines of server error replies (LOG-2, LOG-4, SMTP-14, C-41).
 *
 * One record per transaction: a transaction runs from MAIL (or from the
 * start of the session, or the end of the previous one) to the end of
 * its DATA, an RSET, the next MAIL, QUIT, or the end of the session. A
 * mail that reached DATA always gets its record when it is decided; a
 * transaction that never got there gets one only when something in it
 * was refused (relay control's 550, the server refusing MAIL, RCPT or
 * AUTH), so that a refused relay attempt is in the access log even when
 * the client gives up without DATA. Its PROXY-ERROR is the mail's own
 * error when it has one (DATA refused, scan failed...), else the first
 * refusal of the transaction.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/str.h"
#include "proxy/smtp/smtp_internal.h"

/* smtp_log_server_error - LOG-4: an error reply of the server, as the info
 * line of the command it answered ("MAIL", "RCPT", "AUTH", "QUIT"; the
 * DATA ones carry the mail's URL). */
void smtp_log_server_error(struct smtp_session *s, const char *cmd, const struct smtp_reply *r)
{
    int len = r->nlines ? (int)r->lines[0].len : 0;
    const char *text = r->nlines ? r->lines[0].ptr : "";
    if (strcmp(cmd, "DATA") == 0 || strcmp(cmd, "DATAEND") == 0)
        svclog_info(&s->ps.log, "ERROR Reply(%s)%s url=[mail:%s] buf=[%u %.*s]", cmd,
                    strcmp(cmd, "DATA") ? ":" : "", s->m.rcpts, r->code, len, text);
    else
        svclog_info(&s->ps.log, "ERROR Reply(%s): buf=[%u %.*s]", cmd, r->code, len, text);
}

/* ---- the access log (LOG-2, SMTP-14) ------------------------------------ */

/* access_status - C-41: 200 when the mail went through and the client had
 * a positive final reply (also when some of its recipients were refused:
 * it went to the others), 500 on an error or a transaction that ended
 * refused, 000 when nothing was relayed (a detection whose action keeps
 * the mail back). */
unsigned smtp_access_status(const struct smtp_session *s)
{
    if (*s->m.o.error)
        return 500;
    if (s->m.o.result != ACCESSLOG_RESULT_CLEAN && s->m.o.action != ACCESSLOG_ACTION_PASS)
        return 0;
    if (!s->m.mail_received)
        return *s->m.txn_error ? 500 : 0;
    return 200;
}

void smtp_write_record(struct smtp_session *s)
{
    s->m.record_due = false;
    const char *rcpts = s->m.rcpts[0] || s->m.mail_received ? s->m.rcpts : s->m.refused_rcpt;
    svclog_info(&s->ps.log,
                "From: %s:%u(%s) To: %s:%u(%s) Message-Id: %s Infected: %d VirusName: %s",
                s->ps.client.ip, s->ps.client.port, s->m.mail_from, s->ps.server.ip,
                s->ps.server.port, rcpts, s->m.message_id[0] ? s->m.message_id : "-",
                s->m.o.result == ACCESSLOG_RESULT_INFECTED,
                s->m.o.detect_name[0] ? s->m.o.detect_name : "-");
    char url[SMTP_RCPTS_MAX + 8];
    snprintf(url, sizeof(url), "mail:%s", rcpts);
    struct access_record r = {
        .status = smtp_access_status(s),
        .size = s->m.msg_len,
        .method = STR_LIT("GET"),
        .url = str_from_cstr(url),
        .files = s->mails ? s->mails : 1,
        .proto1 = str_from_cstr(s->m.mail_from),
        .proto2 = str_from_cstr(s->m.message_id),
        .user = str_from_cstr(s->auth_user), /* SMTP-8: the AUTH user, else "-" */
        .proxy_error = str_from_cstr(*s->m.o.error ? s->m.o.error : s->m.txn_error),
    };
    proxy_record_write(&s->ps, &s->m.o, &r);
}

void smtp_note_refusal(struct smtp_session *s, const char *error)
{
    if (!*s->m.txn_error)
        str_copy(s->m.txn_error, sizeof(s->m.txn_error), error);
    s->m.record_due = true;
}

void smtp_note_server_refusal(struct smtp_session *s, const char *cmd, const struct smtp_reply *r)
{
    char text[ACCESSLOG_ERROR_MAX];
    snprintf(text, sizeof(text), "SERVER/ERROR Reply(%s): buf=[%u %.*s]", cmd, r->code,
             r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    smtp_note_refusal(s, text);
}

void smtp_end_transaction(struct smtp_session *s)
{
    if (s->m.record_due)
        smtp_write_record(s);
    smtp_reset_mail(s);
}
