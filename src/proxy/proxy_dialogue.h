/* proxy_dialogue - a line-by-line command dialogue with a client.
 *
 * SMTP and POP3 (and next the FTP control connection) take one command
 * line at a time from the client, look the verb up in a table, and carry
 * the command out, often by waiting for the server. This module holds
 * what they share:
 *
 *   - taking the next complete line from client.in with the protocol's
 *     own line finder and limit (SMTP 1000 incl. CRLF, POP/FTP 998), one
 *     command at a time: while a command is busy (waiting for the server)
 *     the following lines wait in the buffer, so a pipelining client is
 *     served in order and never has two upstream commands in flight;
 *   - request_timeout: a partial line must be complete within that many
 *     seconds of its first byte (issue 10), whatever trickles in;
 *   - the command table: verb id -> handler, so a protocol is a list of
 *     small functions rather than one switch;
 *   - an error budget: a client that sends more invalid commands than the
 *     budget (as postfix's smtpd_hard_error_limit, 20) is disconnected
 *     with the protocol's own reply, so 100,000 invalid commands cost the
 *     worker 20 replies, not 100,000.
 *
 * The dialogue lives inside the protocol's session struct and is driven
 * from the protocol's client_input hook and from its "command finished"
 * step; it never closes the session itself (proxy_session.h).
 */
#ifndef SEKISHO_PROXY_DIALOGUE_H
#define SEKISHO_PROXY_DIALOGUE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/ev.h"
#include "lib/str.h"
#include "proxy/proxy_session.h"

/* Invalid commands a session may send before it is disconnected. */
#define PROXY_DIALOGUE_ERROR_BUDGET 20u

enum proxy_line_status {
    PROXY_LINE_AGAIN = 0, /* no complete line yet */
    PROXY_LINE_DONE,      /* *line and *consumed set */
    PROXY_LINE_TOO_LONG,  /* over the protocol's limit, before its end */
};

/* The protocol's line finder over buf[0..len): DONE with the line (no
 * line end) and the bytes it takes with its line end. */
typedef enum proxy_line_status proxy_line_find_fn(const char *buf, size_t len, size_t *line_len,
                                                  size_t *consumed);

/* One row of a command table: the protocol's verb id and its handler,
 * which gets the whole line and the argument after the verb. */
struct proxy_command {
    int verb;
    void (*run)(struct proxy_session *s, struct str line, struct str arg);
};

struct proxy_dialogue {
    struct proxy_session *s;
    proxy_line_find_fn *find;
    /* line_timeout - request_timeout ran out on a partial line: the
     * protocol answers (SMTP 421, POP -ERR) and ends the session. */
    void (*line_timeout)(struct proxy_session *s);
    struct ev_timer line_timer;
    bool line_timed;
    bool busy;       /* a command is being carried out */
    bool paused;     /* the protocol takes no command lines now (DATA...) */
    unsigned errors; /* invalid commands so far */
};

void proxy_dialogue_init(struct proxy_dialogue *d, struct proxy_session *s,
                         proxy_line_find_fn *find, void (*line_timeout)(struct proxy_session *s));
/* proxy_dialogue_stop - stop the line timer (the session closes). */
void proxy_dialogue_stop(struct proxy_dialogue *d);

/* proxy_dialogue_next - the next command line, when one can be taken now
 * (not busy, not paused, the session not ending). DONE: *line is valid
 * until proxy_dialogue_consume(d, consumed), which the caller does once
 * the command no longer needs the line's bytes (normally right after it
 * is dispatched). TOO_LONG: the protocol answers and ends the session. */
enum proxy_line_status proxy_dialogue_next(struct proxy_dialogue *d, struct str *line,
                                           size_t *consumed);
void proxy_dialogue_consume(struct proxy_dialogue *d, size_t consumed);

/* proxy_dialogue_hold - a line is still arriving that the protocol takes
 * apart itself (the rest of a line over the limit, being dropped):
 * request_timeout runs on it as on any partial line (from now, if it was
 * not running). The next proxy_dialogue_next() settles it again. */
void proxy_dialogue_hold(struct proxy_dialogue *d);

/* proxy_dialogue_invalid - count an invalid command; true once the budget
 * is spent (the protocol then says so and ends the session). */
bool proxy_dialogue_invalid(struct proxy_dialogue *d);

/* proxy_command_find - the row of verb in table[0..n), or NULL. */
const struct proxy_command *proxy_command_find(const struct proxy_command *table, size_t n,
                                               int verb);

#endif
