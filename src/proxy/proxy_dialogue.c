/* proxy_dialogue - see proxy_dialogue.h. */
#include "proxy/proxy_dialogue.h"

#include "lib/buf.h"

static void on_line_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct proxy_dialogue *d = t->data;
    struct proxy_session *s = d->s;
    d->line_timed = false;
    if (d->paused || proxy_session_done(s))
        return;
    proxy_session_enter(s);
    svclog_error(&s->log,
                 "Timeout: the command line was not complete within %u sec (request_timeout), "
                 "received=%zu",
                 s->cfg->request_timeout, buf_len(&s->client.in));
    d->line_timeout(s);
    proxy_session_leave(s);
}

void proxy_dialogue_init(struct proxy_dialogue *d, struct proxy_session *s,
                         proxy_line_find_fn *find, void (*line_timeout)(struct proxy_session *s))
{
    *d = (struct proxy_dialogue){.s = s, .find = find, .line_timeout = line_timeout};
    ev_timer_init(&d->line_timer, on_line_timer, d);
}

void proxy_dialogue_stop(struct proxy_dialogue *d)
{
    ev_timer_stop(d->s->w->loop, &d->line_timer);
    d->line_timed = false;
}

/* deadline - a trickled command line restarts the idle timer with every
 * byte; request_timeout bounds the whole line from its first byte, so a
 * slow client cannot hold its session (issue 10, item 16). */
static void deadline(struct proxy_dialogue *d, bool partial)
{
    struct proxy_session *s = d->s;
    if (!partial || s->cfg->request_timeout == 0) {
        if (d->line_timed)
            proxy_dialogue_stop(d);
        return;
    }
    if (!d->line_timed) {
        ev_timer_start(s->w->loop, &d->line_timer, (uint64_t)s->cfg->request_timeout * 1000u);
        d->line_timed = true;
    }
}

enum proxy_line_status proxy_dialogue_next(struct proxy_dialogue *d, struct str *line,
                                           size_t *consumed)
{
    struct proxy_session *s = d->s;
    if (d->busy || d->paused || proxy_session_done(s))
        return PROXY_LINE_AGAIN;
    struct buf *in = &s->client.in;
    size_t line_len = 0;
    enum proxy_line_status r = d->find(buf_rptr(in), buf_len(in), &line_len, consumed);
    deadline(d, r == PROXY_LINE_AGAIN && buf_len(in) > 0);
    if (r == PROXY_LINE_DONE)
        *line = str_make(buf_rptr(in), line_len);
    return r;
}

void proxy_dialogue_hold(struct proxy_dialogue *d)
{
    deadline(d, true);
}

void proxy_dialogue_consume(struct proxy_dialogue *d, size_t consumed)
{
    buf_consume(&d->s->client.in, consumed);
}

bool proxy_dialogue_invalid(struct proxy_dialogue *d)
{
    return ++d->errors > PROXY_DIALOGUE_ERROR_BUDGET;
}

const struct proxy_command *proxy_command_find(const struct proxy_command *table, size_t n,
                                               int verb)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].verb == verb)
            return &table[i];
    return NULL;
}
