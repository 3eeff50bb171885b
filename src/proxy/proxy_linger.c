/* proxy_linger - see proxy_linger.h. */
#include "proxy/proxy_linger.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

struct linger_conn {
    struct ev_loop *loop;
    struct ev_io io;
    struct ev_timer timer;
    uint64_t drained;
};

static void linger_free(void *arg)
{
    free(arg);
}

static void linger_end(struct linger_conn *l)
{
    ev_timer_stop(l->loop, &l->timer);
    ev_io_close(l->loop, &l->io);
    if (ev_defer(l->loop, linger_free, l) < 0)
        free(l);
}

static void on_readable(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop, (void)events;
    struct linger_conn *l = io->data;
    char sink[16384];
    /* Bounded: one buffer per event, PROXY_LINGER_BYTES in all. */
    ssize_t n = recv(io->fd, sink, sizeof(sink), 0);
    if (n > 0)
        l->drained += (uint64_t)n;
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || l->drained >= PROXY_LINGER_BYTES)
        linger_end(l);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    linger_end(t->data);
}

void proxy_linger(struct ev_loop *loop, int fd)
{
    struct linger_conn *l = calloc(1, sizeof(*l));
    if (!l || shutdown(fd, SHUT_WR) < 0) {
        free(l);
        close(fd);
        return;
    }
    l->loop = loop;
    ev_io_init(&l->io, fd, on_readable, l);
    ev_timer_init(&l->timer, on_timeout, l);
    ev_io_set(loop, &l->io, EV_READ);
    ev_timer_start(loop, &l->timer, PROXY_LINGER_MS);
}
