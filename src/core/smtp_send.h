/* smtp_send - one message to one SMTP server, on an event loop.
 *
 * The small SMTP client of the gateway's own mails: the administrator's
 * notifications (core/notify) and quarantined mails released to their
 * recipients (core/quarantine_release). It connects with core/upstream
 * (every address of the host in turn until one answers), then: greeting,
 * HELO, MAIL FROM, one RCPT TO per recipient, DATA, the message, QUIT.
 * Each step (and the connection, and the lookup) must answer within
 * step_timeout_s. Every reply must be the expected one (220, 250, 250/251
 * for RCPT, 354, 221/250 for QUIT); the first other one ends the attempt.
 * Nothing is retried.
 *
 * The message after DATA is pulled from the caller's reader as the socket
 * takes it, already dot-stuffed and ending with the "." line, so a large
 * mail is never all in memory.
 *
 * What it owns: the connection, its buffers, copies of the envelope. It
 * logs nothing: the result says what happened and the caller logs it in
 * its own words. What it does not do: no EHLO extensions, no TLS, no AUTH.
 */
#ifndef SEKISHO_CORE_SMTP_SEND_H
#define SEKISHO_CORE_SMTP_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/dns.h"
#include "lib/ev.h"

#define SMTP_SEND_ADDR_MAX   256 /* an address of the envelope, NUL included */
#define SMTP_SEND_REPLY_MAX  4096
#define SMTP_SEND_DETAIL_MAX 128
#define SMTP_SEND_CHUNK      65536 /* message bytes asked of the reader at a time */

enum smtp_send_stage {
    SMTP_SEND_GREETING = 0,
    SMTP_SEND_HELO,
    SMTP_SEND_MAIL,
    SMTP_SEND_RCPT,
    SMTP_SEND_DATA,
    SMTP_SEND_DATA_END,
    SMTP_SEND_QUIT,
};

/* smtp_send_stage_name - "GREETING", "HELO", "MAIL FROM", "RCPT TO",
 * "DATA", "DATA END", "QUIT" (the stage names of LOG-E5). */
const char *smtp_send_stage_name(enum smtp_send_stage st);

enum smtp_send_failure {
    SMTP_SEND_OK = 0,  /* every step answered as expected */
    SMTP_SEND_LOOKUP,  /* the host name did not resolve: detail */
    SMTP_SEND_CONNECT, /* no address answered: err */
    SMTP_SEND_REFUSED, /* a reply other than the expected one: stage, reply */
    SMTP_SEND_IO,      /* the connection failed or timed out: stage, err, reply so far */
    SMTP_SEND_SETUP,   /* out of memory, an address too long, the reader failed: err */
};

struct smtp_send_result {
    enum smtp_send_failure failure;
    enum smtp_send_stage stage; /* the step that failed */
    bool delivered;             /* the server took the message (its end got 250) */
    int err;                    /* errno of CONNECT, IO, SETUP */
    char detail[SMTP_SEND_DETAIL_MAX];
    /* The server's last reply (or what had come of it), line ends turned
     * into spaces and the final one cut. */
    char reply[SMTP_SEND_REPLY_MAX + 1];
};

/* The message after DATA, dot-stuffed, the final ".\r\n" included: up to
 * cap bytes into out; the number written, 0 once all is given, -1 with
 * errno when it cannot be read. */
typedef ssize_t smtp_send_read_fn(void *arg, char *out, size_t cap);

/* The result; r is valid during the call only. */
typedef void smtp_send_done_fn(void *arg, const struct smtp_send_result *r);

struct smtp_send_req {
    const char *host;
    uint16_t port;
    const char *helo;         /* the HELO argument */
    const char *from;         /* MAIL FROM:<from> ("" for the null sender) */
    const char *const *rcpts; /* RCPT TO:<...> each */
    size_t nrcpts;            /* at least one */
    smtp_send_read_fn *read;  /* called on the loop until it returns 0 */
    void *read_arg;
    unsigned step_timeout_s;
};

/* smtp_send_start - begin sending; every string of req is copied.
 * done(arg, result) runs exactly once when the attempt is over, possibly
 * before this returns. */
void smtp_send_start(struct ev_loop *loop, struct dns *dns, const struct smtp_send_req *req,
                     smtp_send_done_fn *done, void *arg);

#endif
