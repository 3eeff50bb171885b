/* Unit tests for lib/ev's watchers: events reach the watcher that wants
 * them and only what it wants, a lazily narrowed watcher gets nothing it
 * gave up and gets it again when it widens back, a watcher stopped earlier
 * in a batch gets nothing, and after ev_io_close the events of a file
 * still open elsewhere (a dup, as a child between fork and exec holds)
 * reach nobody, not even a new watcher on the same fd number; and
 * ev_iteration is one value for a whole batch. The number
 * of epoll_ctl calls is what lazy narrowing saves: counted through
 * strace in docs/bench.md, not here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/ev.h"

struct seen {
    int calls;
    uint32_t events;
};

static void on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct seen *s = io->data;
    s->calls++;
    s->events |= events;
}

static void on_stop_other(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)events;
    struct ev_io *other = io->data;
    if (other->active)
        ((struct seen *)other->data)->calls += 100; /* never counted by on_io */
    ev_io_stop(loop, other);
    ev_io_stop(loop, io);
}

static void on_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)t;
    ev_break(loop);
}

/* turn - one bounded pass of the loop: whatever is ready now, then out. */
static void turn(struct ev_loop *loop)
{
    struct ev_timer t;
    ev_timer_init(&t, on_timer, NULL);
    ev_timer_start(loop, &t, 20);
    assert_int_equal(ev_run(loop), 0);
    ev_timer_stop(loop, &t);
}

static void pair(int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
}

static void unpair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

static void test_read_and_write_delivered(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    int sv[2];
    pair(sv);
    struct seen s = {0};
    struct ev_io io;
    ev_io_init(&io, sv[0], on_io, &s);
    assert_int_equal(ev_io_set(loop, &io, EV_READ), 0);
    turn(loop);
    assert_int_equal(s.calls, 0); /* nothing to read yet */
    assert_int_equal(write(sv[1], "x", 1), 1);
    turn(loop);
    assert_true(s.calls > 0);
    assert_int_equal(s.events, EV_READ);
    s = (struct seen){0};
    assert_int_equal(ev_io_set(loop, &io, EV_READ | EV_WRITE), 0);
    turn(loop);
    assert_int_equal(s.events, EV_READ | EV_WRITE);
    ev_io_stop(loop, &io);
    unpair(sv);
    ev_loop_free(loop);
}

/* Records ev_iteration as each callback of one batch, the deferred call
 * after it and the next batch see it. */
struct iters {
    struct ev_loop *loop;
    uint64_t seen[8];
    int n;
};

static void record_iteration(void *arg)
{
    struct iters *it = arg;
    if (it->n < 8)
        it->seen[it->n++] = ev_iteration(it->loop);
}

static void on_io_iteration(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)events;
    record_iteration(io->data);
    ev_defer(loop, record_iteration, io->data);
    ev_io_stop(loop, io);
}

static void test_iteration_is_one_per_batch(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    struct iters it = {.loop = loop};
    int a[2], b[2];
    pair(a);
    pair(b);
    struct ev_io ia, ib;
    ev_io_init(&ia, a[0], on_io_iteration, &it);
    ev_io_init(&ib, b[0], on_io_iteration, &it);
    assert_int_equal(ev_io_set(loop, &ia, EV_READ), 0);
    assert_int_equal(ev_io_set(loop, &ib, EV_READ), 0);
    assert_int_equal(write(a[1], "x", 1), 1);
    assert_int_equal(write(b[1], "x", 1), 1);
    uint64_t before = ev_iteration(loop);
    turn(loop); /* both ready in one batch: two callbacks, two deferred calls */
    assert_int_equal(it.n, 4);
    assert_true(it.seen[0] > before);
    for (int i = 1; i < 4; i++)
        assert_int_equal(it.seen[i], it.seen[0]);
    assert_int_equal(ev_io_set(loop, &ia, EV_READ), 0);
    turn(loop); /* a later batch: a later iteration */
    assert_int_equal(it.n, 6);
    assert_true(it.seen[4] > it.seen[0]);
    assert_int_equal(it.seen[5], it.seen[4]);
    ev_io_stop(loop, &ia);
    unpair(a);
    unpair(b);
    ev_loop_free(loop);
}

static void test_lazy_narrowing_delivers_only_what_is_wanted(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    int sv[2];
    pair(sv);
    struct seen s = {0};
    struct ev_io io;
    ev_io_init(&io, sv[0], on_io, &s);
    assert_int_equal(ev_io_set(loop, &io, EV_READ | EV_WRITE), 0);
    /* Narrowed to write only: the byte to read is not delivered, however
     * many turns, while writability is. */
    assert_int_equal(ev_io_set(loop, &io, EV_WRITE), 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    for (int i = 0; i < 3; i++)
        turn(loop);
    assert_true(s.calls > 0);
    assert_int_equal(s.events, EV_WRITE);
    /* Narrowed to nothing: no call at all. */
    assert_int_equal(ev_io_set(loop, &io, 0), 0);
    s = (struct seen){0};
    for (int i = 0; i < 3; i++)
        turn(loop);
    assert_int_equal(s.calls, 0);
    /* Widened back to read: the byte waiting is delivered. */
    assert_int_equal(ev_io_set(loop, &io, EV_READ), 0);
    turn(loop);
    assert_true(s.calls > 0);
    assert_int_equal(s.events, EV_READ);
    /* Narrowed with no event in between, widened again: still delivered. */
    assert_int_equal(ev_io_set(loop, &io, 0), 0);
    assert_int_equal(ev_io_set(loop, &io, EV_READ), 0);
    s = (struct seen){0};
    turn(loop);
    assert_int_equal(s.events, EV_READ);
    ev_io_stop(loop, &io);
    unpair(sv);
    ev_loop_free(loop);
}

static void test_hangup_reaches_an_idle_watcher(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    int sv[2];
    pair(sv);
    struct seen s = {0};
    struct ev_io io;
    ev_io_init(&io, sv[0], on_io, &s);
    assert_int_equal(ev_io_set(loop, &io, EV_READ), 0);
    assert_int_equal(ev_io_set(loop, &io, 0), 0); /* idle, as before the lazy change */
    close(sv[1]);
    turn(loop);
    assert_true(s.calls > 0);
    assert_true(s.events & EV_HUP);
    assert_false(s.events & EV_READ);
    ev_io_stop(loop, &io);
    close(sv[0]);
    ev_loop_free(loop);
}

static void test_stopped_in_the_batch_gets_nothing(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    int a[2], b[2];
    pair(a);
    pair(b);
    struct seen sb = {0};
    struct ev_io ioa, iob;
    ev_io_init(&iob, b[0], on_io, &sb);
    ev_io_init(&ioa, a[0], on_stop_other, &iob);
    /* Both writable at once, in one batch: a's callback stops b (and a).
     * b is called before that or never, and never once stopped. */
    assert_int_equal(ev_io_set(loop, &iob, EV_WRITE), 0);
    assert_int_equal(ev_io_set(loop, &ioa, EV_WRITE), 0);
    turn(loop);
    assert_true(sb.calls == 100 || sb.calls == 101);
    assert_false(iob.active);
    sb = (struct seen){0};
    turn(loop);
    assert_int_equal(sb.calls, 0);
    ev_io_stop(loop, &ioa);
    unpair(a);
    unpair(b);
    ev_loop_free(loop);
}

static void test_close_with_the_file_open_elsewhere(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    int sv[2];
    pair(sv);
    int copy = dup(sv[0]); /* the file stays open: its epoll entry stays */
    assert_true(copy >= 0);
    struct seen s = {0};
    struct ev_io io;
    ev_io_init(&io, sv[0], on_io, &s);
    assert_int_equal(ev_io_set(loop, &io, EV_READ), 0);
    int num = sv[0];
    ev_io_close(loop, &io);
    assert_int_equal(io.fd, -1);
    assert_false(io.active);
    assert_int_equal(fcntl(num, F_GETFD), -1); /* our descriptor is closed */
    assert_int_equal(write(sv[1], "x", 1), 1); /* the stale entry is readable */
    for (int i = 0; i < 3; i++)
        turn(loop);
    assert_int_equal(s.calls, 0);
    /* A new file on the same fd number, watched: only its own events. */
    int again[2];
    pair(again);
    if (again[0] != num) {
        assert_int_equal(dup2(again[0], num), num);
        close(again[0]);
        again[0] = num;
    }
    struct seen s2 = {0};
    struct ev_io io2;
    ev_io_init(&io2, again[0], on_io, &s2);
    assert_int_equal(ev_io_set(loop, &io2, EV_READ), 0);
    for (int i = 0; i < 3; i++)
        turn(loop);
    assert_int_equal(s2.calls, 0); /* the stale entry is readable, this one not */
    assert_int_equal(s.calls, 0);
    assert_int_equal(write(again[1], "y", 1), 1);
    turn(loop);
    assert_true(s2.calls > 0);
    assert_int_equal(s.calls, 0);
    ev_io_close(loop, &io2);
    close(again[1]);
    close(copy);
    close(sv[1]);
    ev_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_and_write_delivered),
        cmocka_unit_test(test_iteration_is_one_per_batch),
        cmocka_unit_test(test_lazy_narrowing_delivers_only_what_is_wanted),
        cmocka_unit_test(test_hangup_reaches_an_idle_watcher),
        cmocka_unit_test(test_stopped_in_the_batch_gets_nothing),
        cmocka_unit_test(test_close_with_the_file_open_elsewhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
