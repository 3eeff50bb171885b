/* http_inactivity - timeout_inactive=yes: end a session in which no byte
 * moved in either direction for inactive_timeout seconds (000:78, KB-28).
 *
 * G-22's idle timer measures progress on what a session waits for, and a
 * session waiting for something that has its own bound (a scan, an FTP
 * retrieval) is not timed by it. timeout_inactive=yes is the site's "no
 * stuck sessions, whatever they wait for" switch: one timer per session,
 * fed only by bytes moving on the client or the server side (a scan, a
 * DNS answer or a state change are not traffic).
 *
 * Moving bytes only stamps the time (no timer re-arming on the hot path);
 * when the timer fires it re-arms itself for the rest of the period when
 * there was traffic meanwhile. A session may also report a counter that
 * grows with traffic it does not see byte by byte (the FTP retrieval's
 * spool): a changed value counts as traffic.
 *
 * Owns its timer; the session embeds it and stops it when it closes.
 */
#ifndef SEKISHO_PROXY_HTTP_INACTIVITY_H
#define SEKISHO_PROXY_HTTP_INACTIVITY_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/ev.h"

struct http_inactivity {
    struct ev_timer timer;
    uint64_t limit_ms; /* inactive_timeout; 0 = timeout_inactive=no */
    uint64_t last_ms;  /* when a byte last moved */
    uint64_t mark;     /* the last counter given to http_inactivity_observe */
};

/* http_inactivity_init - limit_s 0 disables; cb(loop, timer) with
 * timer->data == data runs when the timer fires: it calls
 * http_inactivity_expired to tell a real expiry from a re-arm. */
void http_inactivity_init(struct http_inactivity *ia, unsigned limit_s, ev_timer_fn *cb,
                          void *data);

/* http_inactivity_start - begin timing from now (traffic counts as now). */
void http_inactivity_start(struct http_inactivity *ia, struct ev_loop *loop);
void http_inactivity_stop(struct http_inactivity *ia, struct ev_loop *loop);

static inline bool http_inactivity_enabled(const struct http_inactivity *ia)
{
    return ia->limit_ms > 0;
}

/* http_inactivity_traffic - a byte moved now. */
static inline void http_inactivity_traffic(struct http_inactivity *ia, struct ev_loop *loop)
{
    ia->last_ms = ev_now_ms(loop);
}

/* http_inactivity_observe - counter changed since the last call: traffic. */
void http_inactivity_observe(struct http_inactivity *ia, struct ev_loop *loop, uint64_t counter);

/* http_inactivity_expired - in the timer's callback: true when nothing
 * moved for the whole limit (the caller ends the session); false when the
 * timer was re-armed for the rest of the period. */
bool http_inactivity_expired(struct http_inactivity *ia, struct ev_loop *loop);

/* http_inactivity_seconds - the limit, for messages. */
unsigned http_inactivity_seconds(const struct http_inactivity *ia);

#endif
