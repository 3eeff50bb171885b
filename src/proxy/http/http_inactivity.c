/* http_inactivity - see http_inactivity.h. */
#include "proxy/http/http_inactivity.h"

void http_inactivity_init(struct http_inactivity *ia, unsigned limit_s, ev_timer_fn *cb, void *data)
{
    ia->limit_ms = (uint64_t)limit_s * 1000u;
    ia->last_ms = 0;
    ia->mark = 0;
    ev_timer_init(&ia->timer, cb, data);
}

void http_inactivity_start(struct http_inactivity *ia, struct ev_loop *loop)
{
    if (!http_inactivity_enabled(ia))
        return;
    ia->last_ms = ev_now_ms(loop);
    ev_timer_start(loop, &ia->timer, ia->limit_ms);
}

void http_inactivity_stop(struct http_inactivity *ia, struct ev_loop *loop)
{
    ev_timer_stop(loop, &ia->timer);
}

void http_inactivity_observe(struct http_inactivity *ia, struct ev_loop *loop, uint64_t counter)
{
    if (counter != ia->mark) {
        ia->mark = counter;
        http_inactivity_traffic(ia, loop);
    }
}

bool http_inactivity_expired(struct http_inactivity *ia, struct ev_loop *loop)
{
    uint64_t now = ev_now_ms(loop);
    uint64_t quiet = now >= ia->last_ms ? now - ia->last_ms : 0;
    if (quiet >= ia->limit_ms)
        return true;
    ev_timer_start(loop, &ia->timer, ia->limit_ms - quiet);
    return false;
}

unsigned http_inactivity_seconds(const struct http_inactivity *ia)
{
    return (unsigned)(ia->limit_ms / 1000u);
}
