/* ev - a small epoll event loop with timers.
 *
 * One loop per worker process. An ev_io watches one fd; an ev_timer fires
 * once at an absolute monotonic time (milliseconds). Callbacks run on the
 * loop's thread and must not block. The loop owns no fds and frees no
 * watchers: watchers are embedded in the objects that own them (a session
 * embeds its client and server ev_io), which stop them before freeing.
 *
 * System calls are what a relayed connection costs (docs/bench.md, "the
 * relay path"), so the loop saves the epoll_ctl calls it can:
 *   - narrowing is lazy: ev_io_set to a subset of what the kernel already
 *     watches changes only the watcher; the kernel's interest is narrowed
 *     when an event nobody wants arrives (then once), and widening back
 *     costs nothing if that never happened;
 *   - ev_io_close closes the fd without EPOLL_CTL_DEL: closing the last
 *     descriptor of a file removes it from the epoll set.
 * Events reach a watcher through the fd's slot in the loop and a
 * generation number, never through a pointer held by the kernel: an event
 * of a stopped or closed watcher (or of a file another process still held
 * open when we closed ours) is dropped, never delivered to freed memory.
 */
#ifndef SEKISHO_LIB_EV_H
#define SEKISHO_LIB_EV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct ev_io;
struct ev_timer;

typedef void ev_io_fn(struct ev_loop *loop, struct ev_io *io, uint32_t events);
typedef void ev_timer_fn(struct ev_loop *loop, struct ev_timer *t);

#define EV_READ  0x001u /* EPOLLIN */
#define EV_WRITE 0x004u /* EPOLLOUT */
#define EV_ERROR 0x008u /* EPOLLERR */
#define EV_HUP   0x010u /* EPOLLHUP */

struct ev_io {
    int fd;
    uint32_t events;  /* EV_READ | EV_WRITE currently requested */
    uint32_t kevents; /* what the kernel watches (a superset of events when active) */
    uint32_t gen;     /* generation of the registration (the loop's slot for fd) */
    bool active;
    bool exclusive; /* EPOLLEXCLUSIVE (listening sockets shared by workers) */
    ev_io_fn *cb;
    void *data;
};

struct ev_timer {
    uint64_t when_ms;
    size_t heap_idx; /* position in the loop's heap; SIZE_MAX when stopped */
    ev_timer_fn *cb;
    void *data;
};

struct ev_loop *ev_loop_new(void);
/* ev_loop_free - runs the calls still deferred (ev_defer), then frees. */
void ev_loop_free(struct ev_loop *loop);

void ev_io_init(struct ev_io *io, int fd, ev_io_fn *cb, void *data);
/* ev_io_set - watch io->fd for events (0 = keep registered but idle).
 * Returns 0 or -1 with errno. */
int ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events);
void ev_io_stop(struct ev_loop *loop, struct ev_io *io);
/* ev_io_close - stop io and close its fd (io->fd becomes -1), without
 * the epoll_ctl call ev_io_stop makes: the close takes the fd out of the
 * epoll set. Should another descriptor of the same file still be open
 * (a child between fork and exec holds CLOEXEC copies), its events are
 * dropped by the generation check until that one closes too. */
void ev_io_close(struct ev_loop *loop, struct ev_io *io);

void ev_timer_init(struct ev_timer *t, ev_timer_fn *cb, void *data);
/* ev_timer_start - (re)arm t to fire after_ms from now. */
void ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
bool ev_timer_active(const struct ev_timer *t);

/* ev_now_ms - the loop's cached monotonic time, updated once per iteration. */
uint64_t ev_now_ms(const struct ev_loop *loop);
/* ev_iteration - counts the loop's iterations: it changes each time
 * epoll_wait returns, before that batch's callbacks, deferred calls and
 * timers run. A look at the outside world taken in an iteration (after
 * the wait returned) has seen everything that happened before any event
 * of the batch, so it may be reused for the rest of the iteration. */
uint64_t ev_iteration(const struct ev_loop *loop);
uint64_t ev_clock_ms(void);
/* ev_clock_ns - CLOCK_MONOTONIC in ns (a vDSO call: no system call). */
uint64_t ev_clock_ns(void);

/* ev_defer - call fn(data) after the current batch of events. Objects that
 * embed watchers free themselves this way, because another event for the
 * same object may still be pending in the batch being dispatched. */
typedef void ev_defer_fn(void *data);
int ev_defer(struct ev_loop *loop, ev_defer_fn *fn, void *data);

/* ev_run - dispatch until ev_break is called. Returns 0, or -1 if
 * epoll_wait failed with something other than EINTR. */
int ev_run(struct ev_loop *loop);
void ev_break(struct ev_loop *loop);

#endif
