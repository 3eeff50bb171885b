/* ev - a small epoll event loop with timers (binary min-heap). */
#include "lib/ev.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define EV_BATCH 256

struct ev_loop {
    int epfd;
    bool stop;
    uint64_t now_ms;
    uint64_t iteration;
    struct ev_timer **heap;
    size_t heap_len;
    size_t heap_cap;
    struct ev_deferred {
        ev_defer_fn *fn;
        void *data;
    } * deferred;
    size_t deferred_len;
    size_t deferred_cap;
    /* Indexed by fd: the watcher registered for it and the generation its
     * registration carries in the epoll data (with the fd). */
    struct ev_slot {
        struct ev_io *io;
        uint32_t gen;
    } * slots;
    size_t nslots;
    uint32_t gen; /* the last generation given out */
};

uint64_t ev_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ev_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ev_loop *ev_loop_new(void)
{
    struct ev_loop *loop = calloc(1, sizeof(*loop));
    if (!loop)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    loop->now_ms = ev_clock_ms();
    return loop;
}

static void run_deferred(struct ev_loop *loop);

void ev_loop_free(struct ev_loop *loop)
{
    if (!loop)
        return;
    /* Calls deferred after the last batch (an owner freed after ev_run
     * returned: lib/dns' socket watchers closed by dns_free) are frees
     * that would otherwise be lost. */
    run_deferred(loop);
    close(loop->epfd);
    free(loop->slots);
    free(loop->heap);
    free(loop->deferred);
    free(loop);
}

void ev_io_init(struct ev_io *io, int fd, ev_io_fn *cb, void *data)
{
    io->fd = fd;
    io->events = 0;
    io->kevents = 0;
    io->gen = 0;
    io->active = false;
    io->exclusive = false;
    io->cb = cb;
    io->data = data;
}

/* slot - the slot of fd, grown to hold it; NULL when out of memory. */
static struct ev_slot *slot(struct ev_loop *loop, int fd)
{
    if (fd < 0)
        return NULL;
    if ((size_t)fd >= loop->nslots) {
        size_t n = loop->nslots ? loop->nslots : 256;
        while (n <= (size_t)fd)
            n *= 2;
        struct ev_slot *p = realloc(loop->slots, n * sizeof(*p));
        if (!p)
            return NULL;
        for (size_t i = loop->nslots; i < n; i++)
            p[i] = (struct ev_slot){NULL, 0};
        loop->slots = p;
        loop->nslots = n;
    }
    return &loop->slots[fd];
}

static uint64_t key(const struct ev_io *io)
{
    return (uint64_t)io->gen << 32 | (uint32_t)io->fd;
}

/* forget - io leaves its slot (it is no longer registered). */
static void forget(struct ev_loop *loop, struct ev_io *io)
{
    if (io->fd >= 0 && (size_t)io->fd < loop->nslots && loop->slots[io->fd].io == io)
        loop->slots[io->fd] = (struct ev_slot){NULL, 0};
    io->active = false;
    io->events = 0;
    io->kevents = 0;
}

int ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    if (io->active && io->events == events)
        return 0;
    if (io->active && !io->exclusive && (events & ~io->kevents) == 0) {
        io->events = events; /* lazy: the kernel's interest is a superset */
        return 0;
    }
    struct epoll_event ee = {.events = events};
    if (io->exclusive)
        ee.events |= EPOLLEXCLUSIVE;
    int op = io->active ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (io->active && io->exclusive) {
        /* EPOLLEXCLUSIVE watchers cannot be modified: re-add them. */
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
        op = EPOLL_CTL_ADD;
    }
    struct ev_slot *sl = slot(loop, io->fd);
    if (!sl) {
        errno = io->fd < 0 ? EBADF : ENOMEM;
        return -1;
    }
    if (!io->active)
        io->gen = ++loop->gen;
    ee.data.u64 = key(io);
    if (epoll_ctl(loop->epfd, op, io->fd, &ee) < 0) {
        if (io->active && io->exclusive)
            forget(loop, io); /* deleted above and not added again */
        return -1;
    }
    *sl = (struct ev_slot){io, io->gen};
    io->active = true;
    io->events = events;
    io->kevents = events;
    return 0;
}

void ev_io_stop(struct ev_loop *loop, struct ev_io *io)
{
    if (!io->active)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    forget(loop, io);
}

void ev_io_close(struct ev_loop *loop, struct ev_io *io)
{
    if (io->active)
        forget(loop, io);
    if (io->fd >= 0)
        close(io->fd);
    io->fd = -1;
}

/* watcher - the watcher an event is for, or NULL when its registration
 * is not the one in service (stopped, closed, or re-registered since). */
static struct ev_io *watcher(struct ev_loop *loop, uint64_t k)
{
    size_t fd = (uint32_t)k;
    if (fd >= loop->nslots)
        return NULL;
    struct ev_slot *sl = &loop->slots[fd];
    return sl->io && sl->gen == (uint32_t)(k >> 32) ? sl->io : NULL;
}

/* --- timers: binary min-heap ordered by when_ms --- */

static void heap_swap(struct ev_loop *loop, size_t a, size_t b)
{
    struct ev_timer *t = loop->heap[a];
    loop->heap[a] = loop->heap[b];
    loop->heap[b] = t;
    loop->heap[a]->heap_idx = a;
    loop->heap[b]->heap_idx = b;
}

static void heap_up(struct ev_loop *loop, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->heap[parent]->when_ms <= loop->heap[i]->when_ms)
            break;
        heap_swap(loop, parent, i);
        i = parent;
    }
}

static void heap_down(struct ev_loop *loop, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < loop->heap_len && loop->heap[l]->when_ms < loop->heap[m]->when_ms)
            m = l;
        if (r < loop->heap_len && loop->heap[r]->when_ms < loop->heap[m]->when_ms)
            m = r;
        if (m == i)
            return;
        heap_swap(loop, i, m);
        i = m;
    }
}

void ev_timer_init(struct ev_timer *t, ev_timer_fn *cb, void *data)
{
    t->when_ms = 0;
    t->heap_idx = SIZE_MAX;
    t->cb = cb;
    t->data = data;
}

bool ev_timer_active(const struct ev_timer *t)
{
    return t->heap_idx != SIZE_MAX;
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
    size_t i = t->heap_idx;
    if (i == SIZE_MAX)
        return;
    t->heap_idx = SIZE_MAX;
    loop->heap_len--;
    if (i == loop->heap_len)
        return;
    loop->heap[i] = loop->heap[loop->heap_len];
    loop->heap[i]->heap_idx = i;
    heap_down(loop, i);
    heap_up(loop, i);
}

void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms)
{
    ev_timer_stop(loop, t);
    if (loop->heap_len == loop->heap_cap) {
        size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
        struct ev_timer **h = realloc(loop->heap, cap * sizeof(*h));
        if (!h)
            abort(); /* a timer that silently never fires would hang a session */
        loop->heap = h;
        loop->heap_cap = cap;
    }
    t->when_ms = loop->now_ms + after_ms;
    t->heap_idx = loop->heap_len;
    loop->heap[loop->heap_len++] = t;
    heap_up(loop, t->heap_idx);
}

uint64_t ev_now_ms(const struct ev_loop *loop)
{
    return loop->now_ms;
}

uint64_t ev_iteration(const struct ev_loop *loop)
{
    return loop->iteration;
}

void ev_break(struct ev_loop *loop)
{
    loop->stop = true;
}

int ev_defer(struct ev_loop *loop, ev_defer_fn *fn, void *data)
{
    if (loop->deferred_len == loop->deferred_cap) {
        size_t cap = loop->deferred_cap ? loop->deferred_cap * 2 : 64;
        struct ev_deferred *d = realloc(loop->deferred, cap * sizeof(*d));
        if (!d)
            return -1;
        loop->deferred = d;
        loop->deferred_cap = cap;
    }
    loop->deferred[loop->deferred_len].fn = fn;
    loop->deferred[loop->deferred_len].data = data;
    loop->deferred_len++;
    return 0;
}

static void run_deferred(struct ev_loop *loop)
{
    /* A deferred call may defer more work; run until the list is empty. */
    for (size_t i = 0; i < loop->deferred_len; i++)
        loop->deferred[i].fn(loop->deferred[i].data);
    loop->deferred_len = 0;
}

static void run_timers(struct ev_loop *loop)
{
    while (loop->heap_len > 0 && loop->heap[0]->when_ms <= loop->now_ms) {
        struct ev_timer *t = loop->heap[0];
        ev_timer_stop(loop, t);
        t->cb(loop, t);
    }
}

int ev_run(struct ev_loop *loop)
{
    struct epoll_event events[EV_BATCH];
    loop->stop = false;
    while (!loop->stop) {
        int timeout = -1;
        loop->now_ms = ev_clock_ms();
        if (loop->deferred_len > 0)
            timeout = 0;
        else if (loop->heap_len > 0) {
            uint64_t when = loop->heap[0]->when_ms;
            timeout = when <= loop->now_ms ? 0 : (int)(when - loop->now_ms);
        }
        int n = epoll_wait(loop->epfd, events, EV_BATCH, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        loop->now_ms = ev_clock_ms();
        loop->iteration++;
        for (int i = 0; i < n; i++) {
            /* An earlier callback of this batch may have stopped this watcher
             * (its owner is closing; the memory lives until the deferred
             * free) or narrowed its interest: deliver only what is still
             * wanted. */
            struct ev_io *io = watcher(loop, events[i].data.u64);
            if (!io)
                continue;
            uint32_t ev = events[i].events & (io->events | EV_ERROR | EV_HUP);
            if (events[i].events & io->kevents & ~io->events) {
                /* Lazy narrowing caught up with: an event the watcher no
                 * longer wants; level-triggered, it would come again. */
                struct epoll_event ee = {.events = io->events, .data.u64 = key(io)};
                if (!io->exclusive && epoll_ctl(loop->epfd, EPOLL_CTL_MOD, io->fd, &ee) == 0)
                    io->kevents = io->events;
            }
            if (ev == 0)
                continue;
            io->cb(loop, io, ev);
            if (loop->stop)
                break;
        }
        run_deferred(loop);
        run_timers(loop);
        run_deferred(loop);
    }
    return 0;
}
