/* pop_internal - what the POP3 session's modules share.
 *
 * pop_session.c is the dialogue (POP-2..POP-8: greeting, USER and the
 * choice of the server, QUIT, the relayed commands and their single- or
 * multi-line replies); pop_retr.c is RETR (POP-7: the message received
 * whole, scanned as mail, then relayed, marked or replaced) and its
 * record (POP-9). Nothing outside src/proxy/pop/ includes this.
 */
#ifndef SEKISHO_PROXY_POP_INTERNAL_H
#define SEKISHO_PROXY_POP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/pop3_parse.h"
#include "proto/smtp_dot.h"
#include "proxy/proxy_dialogue.h"
#include "proxy/proxy_mail_scan.h"
#include "proxy/proxy_record.h"
#include "proxy/proxy_session.h"
#include "proxy/proxy_spool.h"
#include "proxy/spam_check.h"

#define POP_IDLE_MS       600000      /* RFC 1939 3: the autologout timer, at least 10 minutes */
#define POP_CLIENT_IN     4096        /* command lines (998 bytes at most) */
#define POP_CLIENT_OUT    (64 * 1024) /* replies, relayed bodies, the message */
#define POP_SERVER_IN     (64 * 1024) /* status lines and bodies */
#define POP_SERVER_OUT    4096        /* command lines */
#define POP_SPOOL_CHUNK   (32 * 1024) /* spool bytes stuffed per step */
#define POP_DEFAULT_PORT  110         /* G-16 */
#define POP_USER_MAX      256
#define POP_LINE_KEEP_MAX 1024 /* an APOP line kept while its user is checked */

enum pop_state {
    POP_ST_CONNECT = 0, /* connecting upstream */
    POP_ST_GREETING,    /* waiting for the server's greeting */
    POP_ST_NOSERVER,    /* self_proxy: our greeting is out, waiting for USER */
    POP_ST_COMMAND,     /* taking client commands */
    POP_ST_REPLY,       /* a command went upstream: waiting for its status line */
    POP_ST_BODY,        /* relaying a multi-line body as it comes */
    POP_ST_AUTH,        /* an AUTH exchange: client lines go upstream as they are */
    POP_ST_RETR,        /* receiving the message of RETR */
    POP_ST_SCAN,        /* scanning it */
    POP_ST_SEND,        /* sending the (possibly replaced) message to the client */
    POP_ST_CLOSING,     /* the last reply is written, then close */
};

/* One RETR: the message, its scan and its record (POP-7, POP-9). Begun
 * with pop_retr_begin, ended with pop_retr_end. */
struct pop_retr {
    struct proxy_spool spool;      /* the unstuffed message */
    struct pop3_body body;         /* the server's body, being decoded */
    struct proxy_mail_scan *mscan; /* while it is scanned */
    struct spam_check *spam;       /* while its spam check runs */
    bool new_subject;              /* change_subject: the Subject is replaced */
    struct spam_check_result spam_res;
    struct proxy_spool_skip skip; /* the original Subject's bytes, not sent */
    struct proxy_outcome o;
    bool too_long;     /* over POP3_BODY_MAX: not kept, not delivered */
    bool spool_failed; /* a full disk */
    /* Sending: a prefix (our header lines, or the whole replacement)
     * then, unless replaced, the spool, all through the dot encoder. */
    struct smtp_dot_encoder enc;
    off_t send_off;
    bool send_spool; /* the spool follows the prefix */
    bool send_done;
    char message_id[256];
    char orig_date[128];
    char orig_to[1024];
    char orig_cc[1024];
    size_t header_len;
};

struct pop_session {
    struct proxy_session ps; /* first: the session core */
    struct proxy_dialogue dlg;
    enum pop_state state;
    bool self_proxy;         /* the client names the server (POP-4) */
    bool late_user;          /* self_proxy: USER <name> goes up once connected */
    bool quit;               /* QUIT went upstream: end after its reply */
    bool multiline;          /* the reply awaited has a body when positive */
    bool edit_capa;          /* ... and it is CAPA's, which is edited */
    bool login;              /* PASS/APOP/AUTH: a positive reply is a login (POP-6) */
    enum pop3_verb verb;     /* of the command in progress */
    struct pop3_command cmd; /* the command line being carried out (views into client.in) */
    char user[POP_USER_MAX]; /* the POP user name, for the record's URL */
    struct pop3_body relay;  /* a multi-line body relayed unchanged */
    unsigned retrs;          /* messages retrieved */
    struct pop_retr r;
    /* proxyauth_pam_account (POP-4, POP-6): the account check in flight,
     * and what USER does once it passes. */
    struct proxy_auth *acct;
    char acct_host[POP3_HOST_MAX + 1];
    uint16_t acct_port;
    bool acct_apop;    /* the check is APOP's: the line is kept in acct_line */
    bool acct_limited; /* the address was over the failure limit when the check began */
    char acct_line[POP_LINE_KEEP_MAX];
};

/* ---- the dialogue (pop_session.c) ------------------------------------ */

/* pop_reply - queue "+OK text" / "-ERR text" for the client. */
void pop_reply(struct pop_session *s, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* pop_finish_command - the command is done: the next one. */
void pop_finish_command(struct pop_session *s);
/* pop_end - close after what is queued for the client. */
void pop_end(struct pop_session *s);

/* ---- RETR (pop_retr.c) ----------------------------------------------- */

/* pop_retr_start - the server said +OK to RETR: status line st (relayed
 * now, so the client waits for the message and does not time out while
 * it is received and scanned), then the body. */
void pop_retr_start(struct pop_session *s, const struct pop3_status *st);
/* pop_retr_input - body bytes from server.in. */
void pop_retr_input(struct pop_session *s);
/* pop_retr_send_step - more of the result to the client (client_drained). */
void pop_retr_send_step(struct pop_session *s);
/* pop_retr_abandon - the session ends in the middle of a RETR (the
 * client or the server left, a timeout): the record, then nothing more. */
void pop_retr_abandon(struct pop_session *s, const char *error);
/* pop_retr_end - release what the RETR holds. */
void pop_retr_end(struct pop_session *s);

#endif
