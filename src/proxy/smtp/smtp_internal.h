/* smtp_internal - what the SMTP session's modules share.
 *
 * The session (smtp_session.c: the dialogue, DATA, the events) is one
 * struct; the access-log records (smtp_record.c) and the actions that
 * answer a detection (smtp_notify.c: quarantine, administrator mail,
 * sendback and delete notifications) work on the same struct and call
 * back into the dialogue through the functions declared here. Nothing
 * outside src/proxy/smtp/ includes this.
 */
#ifndef SEKISHO_PROXY_SMTP_INTERNAL_H
#define SEKISHO_PROXY_SMTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "core/svclog.h"
#include "lib/buf.h"
#include "lib/sock.h"
#include "proto/accesslog_format.h"
#include "proto/mime_walk.h"
#include "proto/scanreq.h"
#include "proto/smtp_dot.h"
#include "proto/sasl.h"
#include "proto/smtp_parse.h"
#include "proto/smtp_xclient.h"
#include "proxy/proxy_dialogue.h"
#include "proxy/proxy_mail_scan.h"
#include "proxy/proxy_record.h"
#include "proxy/proxy_session.h"
#include "proxy/proxy_spool.h"
#include "proxy/proxy_worker.h"
#include "proxy/spam_check.h"

#define SMTP_IDLE_MS        300000      /* G-22: command channel without progress */
#define SMTP_IN_CAP         65536       /* client bytes: command lines, DATA chunks */
#define SMTP_SIN_CAP        (64 * 1024) /* server replies (EHLO can be long) */
#define SMTP_OUT_CAP        (64 * 1024)
#define SMTP_UP_CAP         (128 * 1024)  /* commands; message chunks after stuffing */
#define SMTP_SPOOL_CHUNK    (32 * 1024)   /* read from the spool per upstream write */
#define SMTP_SEND_ROUNDS    32            /* spool chunks sent per event at most (1 MiB) */
#define SMTP_MESSAGE_MAX    2000000000ull /* SMTP-1 */
#define SMTP_PATH_MAX       512
#define SMTP_RCPTS_MAX      4096 /* bytes of the comma-joined recipients kept for logs */
#define SMTP_RCPT_SPAM_MAX  256  /* recipients named to the spam engine */
#define SMTP_HELD_REPLY_MAX 1024 /* a server reply kept while RSET goes first */
/* Failed AUTH attempts in one session before it is ended (421), as
 * Postfix's smtpd_hard_error_limit ends a guessing session. */
#define SMTP_AUTH_FAILURES_MAX 3
/* Room client.out must have before the next command is taken, so that any
 * one reply fits (a generated one is at most SMTP_REPLY_FORMAT_MAX bytes, a
 * relayed one far below this); with less, the session waits for the client
 * to read (a pipelined flood of refusals, a client that does not read). */
#define SMTP_OUT_ROOM (SMTP_OUT_CAP / 2)

enum smtp_state {
    SMTP_ST_CONNECT = 0, /* connecting upstream */
    SMTP_ST_GREETING,    /* waiting for the server's 220 */
    SMTP_ST_COMMAND,     /* taking client commands */
    SMTP_ST_AUTH_RELAY,  /* relayed AUTH: client lines go upstream as they are */
    SMTP_ST_DATA,        /* receiving the message */
    SMTP_ST_SCAN,        /* the message is being scanned */
    SMTP_ST_SEND,        /* the message goes upstream */
    SMTP_ST_CLOSING,     /* flushing the last reply, then close */
};

/* Where a proxy AUTH exchange is (smtp_auth.c): the next client line is
 * a SASL response, not a command. */
enum smtp_auth_step {
    SMTP_AUTH_NONE = 0,
    SMTP_AUTH_PLAIN,      /* after "334 " */
    SMTP_AUTH_LOGIN_USER, /* after "334 VXNlcm5hbWU6" */
    SMTP_AUTH_LOGIN_PASS, /* after "334 UGFzc3dvcmQ6" */
};

struct smtp_session;
typedef void smtp_reply_fn(struct smtp_session *s, const struct smtp_reply *r);

/* The transaction in progress: its envelope, its message and what its
 * access-log record will say. smtp_reset_mail() ends one and begins the
 * next in one assignment, so nothing of a mail survives into the next. */
struct smtp_mail {
    bool have_mail;
    bool mail_received; /* DATA went as far as the message (the record is the mail's) */
    bool record_due;    /* the transaction has a refusal its record must show */
    char txn_error[ACCESSLOG_ERROR_MAX];  /* the first refusal in it (PROXY-ERROR) */
    char refused_rcpt[SMTP_PATH_MAX + 1]; /* its first refused recipient (the URL of a
                                             record without accepted ones) */
    char mail_from[SMTP_PATH_MAX + 1];
    char rcpts[SMTP_RCPTS_MAX]; /* comma-joined, for mail:<...> and #{RCPTTO} */
    unsigned nrcpt;

    /* The message: spooled, then scanned, then sent. */
    struct proxy_spool spool;
    uint64_t msg_len;
    bool too_long;
    bool spool_failed;
    struct smtp_dot_decoder dot;
    struct smtp_dot_encoder enc;
    off_t send_off;
    bool send_done;
    struct proxy_mail_scan *mscan; /* the message's scan, while it runs */
    struct spam_check *spam;       /* the spam check, while it runs */
    struct proxy_spool_skip skip;  /* spool bytes not sent: the Subject change_subject replaces */
    bool new_subject;              /* send "Subject: <prefix>..." with the added lines */
    struct spam_check_result spam_res;   /* where the original Subject is */
    char spam_rcpt_text[SMTP_RCPTS_MAX]; /* the recipients cut apart, for the spam engine */
    const char *spam_rcpt[SMTP_RCPT_SPAM_MAX];

    /* For the access log record of the mail (SMTP-14). */
    struct proxy_outcome o; /* times, verdict, detection, PROXY-ERROR */
    char message_id[256];
    char orig_date[128];
    char orig_to[1024];
    char orig_cc[1024];
    size_t header_len; /* of the original message, for #{HEADER} */
};

struct smtp_session {
    struct proxy_session ps; /* first: the session core (proxy_session.h) */
    struct proxy_dialogue dlg;
    enum smtp_state state;
    bool lan; /* smtp_lan client with lan=yes (SMTP-7, relay control) */

    smtp_reply_fn *on_reply; /* waiting for a server reply */
    bool server_gone;
    bool close_after_out;                 /* end once the reply in progress is out */
    char verb[16];                        /* of the command in progress, for messages */
    char rcpt_pending[SMTP_PATH_MAX + 1]; /* the RCPT waiting for its reply */
    char held_reply[SMTP_HELD_REPLY_MAX]; /* a server reply relayed once RSET is through */
    size_t held_len;
    unsigned cancel_code; /* the reply once RSET cancelled a mail */
    char cancel_text[SCANREQ_NAME_MAX + 64];
    unsigned mails; /* messages received in this session */

    /* SMTP AUTH at the proxy (smtp_auth.c). */
    bool authed;                                /* 235 was given */
    char auth_user[SASL_FIELD_MAX + 1];         /* who: the access log's user field */
    char auth_pending_user[SASL_FIELD_MAX + 1]; /* being checked */
    char auth_mech[8];                          /* "PLAIN" / "LOGIN" */
    enum smtp_auth_step auth_step;
    struct sasl_field auth_login_user; /* LOGIN: the name, until the password */
    struct proxy_auth *auth;           /* the PAM check in flight */
    unsigned auth_failures;
    bool auth_limited; /* the address was over the failure limit when the check began */

    /* The real client for the parent (smtp_xclient.c). */
    struct smtp_xoffer xoffer; /* what the parent's EHLO offered us */
    char *probe_reply;         /* that EHLO reply, kept for the client's first EHLO */
    size_t probe_len;
    bool xclient_done;                      /* the parent took XCLIENT: it sees the real client */
    char xclient_login[SASL_FIELD_MAX + 1]; /* the LOGIN it was told, if any */
    char helo[256];                         /* the client's HELO/EHLO argument */
    bool esmtp;                             /* it said EHLO */
    char *held_mail;                        /* the MAIL line waiting for XCLIENT to go through */
    smtp_reply_fn *mail_cb;                 /* MAIL's reply handler (after XCLIENT or XFORWARD) */

    struct smtp_mail m; /* the transaction in progress */
};

/* ---- the dialogue (smtp_session.c) ---------------------------------- */

/* smtp_session_reply - queue a generated reply "<code> <text> (<product_name>)". */
void smtp_session_reply(struct smtp_session *s, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* smtp_session_relay - queue the server's reply r as it came. */
void smtp_session_relay(struct smtp_session *s, const struct smtp_reply *r);
/* smtp_finish_command - the command is done: flush, then the next one. */
void smtp_finish_command(struct smtp_session *s);
/* smtp_end_session - close upstream, flush what is queued, then close. */
void smtp_end_session(struct smtp_session *s);
/* smtp_up_command - one command line upstream; cb gets the reply. */
void smtp_up_command(struct smtp_session *s, smtp_reply_fn *cb, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* smtp_server_lost - the server is gone while needed: 421, end. */
void smtp_server_lost(struct smtp_session *s);
/* smtp_reset_mail - forget the envelope and the message. */
void smtp_reset_mail(struct smtp_session *s);
/* smtp_cancel_mail - log the mail, RSET upstream, then answer code/text. */
void smtp_cancel_mail(struct smtp_session *s, unsigned code, const char *text);
/* smtp_on_final_reply - the server's final reply about the mail: log it,
 * relay it, go on (or end after a 421). */
void smtp_on_final_reply(struct smtp_session *s, const struct smtp_reply *r);
/* smtp_relay_after_rset - keep r, RSET the server's transaction, then
 * relay r (C-42: the session goes on; a refused RSET ends it). */
void smtp_relay_after_rset(struct smtp_session *s, const struct smtp_reply *r);

/* smtp_session_abort - close both sides now (the core closes once the
 * handler in progress returns). */
void smtp_session_abort(struct smtp_session *s);

/* smtp_max_message_size - SMTP-1's limit, or block_messagesize_len. */
uint64_t smtp_max_message_size(const struct config *cfg);

/* ---- authentication (smtp_auth.c) ----------------------------------- */

/* smtp_authenticated - SMTP AUTH succeeded in this session, or (pbs=yes)
 * the client's address logged in through the POP proxy within
 * pbs_lifetime minutes (AUTH-4, AUTH-7: either suffices). */
bool smtp_authenticated(struct smtp_session *s);
/* smtp_auth_command - AUTH with proxymail_auth=yes (SMTP-8). */
void smtp_auth_command(struct smtp_session *s, struct str arg);
/* smtp_auth_response - the client's line while an exchange waits for one. */
void smtp_auth_response(struct smtp_session *s, struct str line);
/* smtp_auth_stop - the session ends: no callback, nothing kept. */
void smtp_auth_stop(struct smtp_session *s);

/* ---- the real client for the parent (smtp_xclient.c) --------------- */

/* smtp_xclient_probe - xclient=yes, after the parent's 220: EHLO to learn
 * its offer, then our greeting (smtp_greet_client). */
void smtp_xclient_probe(struct smtp_session *s);
/* smtp_xclient_helo - the client's HELO/EHLO with argument arg: true when
 * it is carried out here (XCLIENT first, or the probe's reply reused, or
 * the client's own name after XCLIENT); false: the usual SMTP-5 path. */
bool smtp_xclient_helo(struct smtp_session *s, struct str arg);
/* smtp_xclient_mail - MAIL (line, its reply for cb): when the parent
 * offers XCLIENT and has not been told yet, XCLIENT (with the login of an
 * authenticated client) and HELO/EHLO go first: true, the MAIL follows by
 * itself. Else, when the parent offers only XFORWARD, that is queued
 * before MAIL's line (true as well). false: send MAIL as usual. */
bool smtp_xclient_mail(struct smtp_session *s, struct str line, smtp_reply_fn *cb);
void smtp_xclient_free(struct smtp_session *s);

/* smtp_greet_client - SMTP-3 4: our 220, then commands. */
void smtp_greet_client(struct smtp_session *s);
/* smtp_helo_answer - the parent's reply r to HELO/EHLO (raw: its bytes),
 * edited (SMTP-5), queued for the client. */
void smtp_helo_answer(struct smtp_session *s, const struct smtp_reply *r, const char *raw);
void smtp_on_helo_reply(struct smtp_session *s, const struct smtp_reply *r);

/* ---- the message (smtp_message.c) ----------------------------------- */

/* smtp_start_data - DATA: the spool, then 354 (or why not). */
void smtp_start_data(struct smtp_session *s);
/* smtp_data_step - DATA: message bytes from the client into the spool;
 * at its end the scan. */
void smtp_data_step(struct smtp_session *s);
/* smtp_send_step - SEND: more of the spool upstream (bounded per event). */
void smtp_send_step(struct smtp_session *s);

/* ---- timeouts (smtp_timeout.c) -------------------------------------- */

/* smtp_on_line_timeout - request_timeout ran out on a partial command
 * line (proxy_dialogue): 421, end. */
void smtp_on_line_timeout(struct proxy_session *ps);
/* smtp_idle_ms - how long the session may go without traffic. */
uint64_t smtp_idle_ms(const struct config *cfg);
/* smtp_on_idle - nothing moved for smtp_idle_ms (proxy_session's timer). */
void smtp_on_idle(struct proxy_session *ps);
/* smtp_waits_for - what the session waits for, for logs. */
const char *smtp_waits_for(const struct proxy_session *ps);

/* ---- the records (smtp_record.c) ------------------------------------ */

/* smtp_log_server_error - LOG-4 info line of a server's error reply. */
void smtp_log_server_error(struct smtp_session *s, const char *cmd, const struct smtp_reply *r);
/* smtp_write_record - the access (and detect) record and the info line
 * of the transaction (SMTP-14); clears record_due. */
/* smtp_access_status - the access-log status of the current transaction
 * (C-41: 200, 500 or 000). */
unsigned smtp_access_status(const struct smtp_session *s);
void smtp_write_record(struct smtp_session *s);
/* smtp_note_refusal - a refusal inside the transaction (relay control,
 * the server refusing RCPT or AUTH): its record will show the first. */
void smtp_note_refusal(struct smtp_session *s, const char *error);
/* smtp_note_server_refusal - the same for the server's reply r to cmd. */
void smtp_note_server_refusal(struct smtp_session *s, const char *cmd, const struct smtp_reply *r);
/* smtp_end_transaction - write the record still due, then reset. */
void smtp_end_transaction(struct smtp_session *s);

/* ---- detections (smtp_notify.c) ------------------------------------- */

void smtp_quarantine_mail(struct smtp_session *s);
void smtp_notify_admin(struct smtp_session *s);
/* smtp_notify - SMTP-9 5: the sendback or delete notification. */
void smtp_notify(struct smtp_session *s);

#endif
