/* Unit tests for lib/fd_pass: bytes with descriptors attached over
 * UNIX-domain socketpairs, SOCK_SEQPACKET (the console's controller
 * channel) and SOCK_STREAM (the proxy <-> sekisho-scand link). What is
 * checked is what the peer observes: the bytes, a descriptor that reaches
 * the same open file (a pipe: what is written through the received end is
 * read at the other), close-on-exec on what is received, descriptors that
 * did not fit closed (their pipes see end of file), the pairing of a
 * descriptor with the first byte of its send on a stream, EAGAIN, end of
 * file, EPIPE without SIGPIPE, and EINTR retried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/fd_pass.h"

static void pair(int type, int sv[2])
{
    assert_int_equal(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv), 0);
}

/* same_pipe - a byte written through w comes out of r. */
static void same_pipe(int w, int r)
{
    assert_int_equal(write(w, "z", 1), 1);
    char c = 0;
    assert_int_equal(read(r, &c, 1), 1);
    assert_int_equal(c, 'z');
}

/* at_eof - every write end of r's pipe is closed. */
static bool at_eof(int r)
{
    struct pollfd p = {.fd = r, .events = POLLIN};
    if (poll(&p, 1, 0) != 1)
        return false;
    char c;
    return read(r, &c, 1) == 0;
}

static bool cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl >= 0 && (fl & FD_CLOEXEC);
}

/* send_fds - one sendmsg of "x" with n descriptors attached (more than
 * fd_pass_send attaches: the receiving side must cope with a peer that
 * does not follow the protocol). */
static void send_fds(int sock, const int *fds, size_t n)
{
    char ctl[CMSG_SPACE(sizeof(int) * 64)];
    assert_true(n <= 64);
    memset(ctl, 0, sizeof(ctl));
    struct iovec iov = {.iov_base = "x", .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = ctl,
                         .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * n);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    assert_int_equal(sendmsg(sock, &msg, 0), 1);
}

static void test_seqpacket_one(void **state)
{
    (void)state;
    int sv[2], p[2];
    pair(SOCK_SEQPACKET, sv);
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fd_pass_send(sv[0], "hello", 5, p[1]), 5);
    close(p[1]); /* the sent one stays the sender's: the pipe lives on through the passed copy */
    char buf[16];
    int fd = -2;
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_true(fd >= 0);
    assert_true(cloexec(fd));
    same_pipe(fd, p[0]);
    close(fd);
    assert_true(at_eof(p[0]));
    /* without a descriptor: -1, and a message boundary holds */
    assert_int_equal(fd_pass_send(sv[0], "ab", 2, -1), 2);
    assert_int_equal(fd_pass_send(sv[0], "cde", 3, -1), 3);
    fd = -2;
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 2);
    assert_int_equal(fd, -1);
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 3);
    assert_memory_equal(buf, "cde", 3);
    assert_int_equal(fd, -1);
    /* both ways: the controller answers with a descriptor too */
    assert_int_equal(pipe(p), 0);
    assert_int_equal(fd_pass_send(sv[1], "r", 1, p[1]), 1);
    assert_int_equal(fd_pass_recv1(sv[0], buf, sizeof(buf), 0, &fd), 1);
    same_pipe(fd, p[0]);
    close(fd);
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

static void test_extra_descriptors_closed(void **state)
{
    (void)state;
    int sv[2], r[3], w[3];
    pair(SOCK_SEQPACKET, sv);
    for (int i = 0; i < 3; i++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        r[i] = p[0];
        w[i] = p[1];
    }
    send_fds(sv[0], w, 3);
    for (int i = 0; i < 3; i++)
        close(w[i]);
    char buf[4];
    int fd = -2;
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 1);
    /* the first is handed out, the others are closed */
    assert_true(fd >= 0);
    assert_false(at_eof(r[0]));
    assert_true(at_eof(r[1]));
    assert_true(at_eof(r[2]));
    same_pipe(fd, r[0]);
    close(fd);
    assert_true(at_eof(r[0]));
    for (int i = 0; i < 3; i++)
        close(r[i]);

    /* the general receive: as many as fit, in order, and the overflow said */
    for (int i = 0; i < 3; i++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        r[i] = p[0];
        w[i] = p[1];
    }
    send_fds(sv[0], w, 3);
    for (int i = 0; i < 3; i++)
        close(w[i]);
    int got[2] = {-2, -2};
    size_t n = 99;
    bool over = false;
    assert_int_equal(fd_pass_recv(sv[1], buf, sizeof(buf), 0, got, 2, &n, &over), 1);
    assert_int_equal(n, 2);
    assert_true(over);
    same_pipe(got[0], r[0]);
    same_pipe(got[1], r[1]);
    assert_true(at_eof(r[2]));
    close(got[0]);
    close(got[1]);
    for (int i = 0; i < 3; i++)
        close(r[i]);

    /* exactly as many as fit: no overflow; room 0: every one closed */
    int p[2];
    assert_int_equal(pipe(p), 0);
    send_fds(sv[0], &p[1], 1);
    assert_int_equal(fd_pass_recv(sv[1], buf, sizeof(buf), 0, got, 1, &n, &over), 1);
    assert_int_equal(n, 1);
    assert_false(over);
    close(got[0]);
    send_fds(sv[0], &p[1], 1);
    close(p[1]);
    assert_int_equal(fd_pass_recv(sv[1], buf, sizeof(buf), 0, NULL, 0, &n, &over), 1);
    assert_int_equal(n, 0);
    assert_true(over);
    assert_true(at_eof(p[0]));
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
}

static void test_more_than_recv_max(void **state)
{
    (void)state;
    enum { N = FD_PASS_RECV_MAX + 3 };
    int sv[2], r[N], w[N];
    pair(SOCK_SEQPACKET, sv);
    for (int i = 0; i < N; i++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        r[i] = p[0];
        w[i] = p[1];
    }
    send_fds(sv[0], w, N);
    for (int i = 0; i < N; i++)
        close(w[i]);
    int got[N];
    size_t n = 0;
    bool over = false;
    char buf[4];
    assert_int_equal(fd_pass_recv(sv[1], buf, sizeof(buf), 0, got, N, &n, &over), 1);
    /* the kernel gave what the control buffer holds and dropped the rest */
    assert_int_equal(n, FD_PASS_RECV_MAX);
    assert_true(over);
    for (int i = 0; i < FD_PASS_RECV_MAX; i++) {
        same_pipe(got[i], r[i]);
        close(got[i]);
    }
    for (int i = 0; i < N; i++) {
        assert_true(at_eof(r[i]));
        close(r[i]);
    }
    close(sv[0]);
    close(sv[1]);
}

static void test_stream_first_byte(void **state)
{
    (void)state;
    int sv[2], p1[2], p2[2];
    pair(SOCK_STREAM, sv);
    assert_int_equal(pipe(p1), 0);
    assert_int_equal(pipe(p2), 0);
    /* two frames with a descriptor each, and one without */
    assert_int_equal(fd_pass_send(sv[0], "AAA", 3, p1[1]), 3);
    assert_int_equal(fd_pass_send(sv[0], "BBBB", 4, p2[1]), 4);
    assert_int_equal(fd_pass_send(sv[0], "CC", 2, -1), 2);
    close(p1[1]);
    close(p2[1]);
    /* a short read: the descriptor comes with the frame's first byte ... */
    char buf[16];
    int fd = -2;
    assert_int_equal(fd_pass_recv1(sv[1], buf, 2, 0, &fd), 2);
    assert_memory_equal(buf, "AA", 2);
    assert_true(cloexec(fd));
    same_pipe(fd, p1[0]);
    close(fd);
    /* ... not with its rest */
    assert_int_equal(fd_pass_recv1(sv[1], buf, 1, 0, &fd), 1);
    assert_int_equal(buf[0], 'A');
    assert_int_equal(fd, -1);
    /* a read that takes a descriptor ends with that send's bytes */
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 4);
    assert_memory_equal(buf, "BBBB", 4);
    same_pipe(fd, p2[0]);
    close(fd);
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 2);
    assert_memory_equal(buf, "CC", 2);
    assert_int_equal(fd, -1);
    /* nothing there on a non-blocking receive: EAGAIN, no descriptor */
    size_t n = 99;
    int got[1];
    errno = 0;
    assert_int_equal(fd_pass_recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT, got, 1, &n, NULL), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(n, 0);
    /* end of file */
    close(sv[0]);
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 0);
    assert_int_equal(fd, -1);
    close(sv[1]);
    close(p1[0]);
    close(p2[0]);
}

static void test_stream_full(void **state)
{
    (void)state;
    int sv[2], p[2];
    pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
    assert_int_equal(pipe(p), 0);
    /* fill the socket: EAGAIN, nothing sent, and the descriptor not passed */
    static char chunk[4096];
    size_t sent = 0;
    ssize_t w;
    for (int i = 0; i < 100000 && (w = fd_pass_send(sv[0], chunk, sizeof(chunk), -1)) > 0; i++)
        sent += (size_t)w;
    assert_int_equal(w, -1);
    assert_int_equal(errno, EAGAIN);
    assert_true(sent > 0);
    errno = 0;
    assert_int_equal(fd_pass_send(sv[0], "F", 1, p[1]), -1);
    assert_int_equal(errno, EAGAIN);
    /* drain it: no descriptor came with those bytes */
    static char in[65536];
    size_t drained = 0;
    while (drained < sent) {
        size_t n = 9;
        int got[1];
        ssize_t r = fd_pass_recv(sv[1], in, sizeof(in), 0, got, 1, &n, NULL);
        assert_true(r > 0);
        assert_int_equal(n, 0);
        drained += (size_t)r;
    }
    assert_int_equal(drained, sent);
    /* the retry passes it */
    assert_int_equal(fd_pass_send(sv[0], "F", 1, p[1]), 1);
    close(p[1]);
    int fd = -1;
    assert_int_equal(fd_pass_recv1(sv[1], in, sizeof(in), 0, &fd), 1);
    assert_int_equal(in[0], 'F');
    same_pipe(fd, p[0]);
    close(fd);
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
}

static void test_epipe_without_sigpipe(void **state)
{
    (void)state;
    /* SIGPIPE at its default would end this process: surviving is the test */
    signal(SIGPIPE, SIG_DFL);
    int sv[2];
    pair(SOCK_STREAM, sv);
    close(sv[1]);
    errno = 0;
    assert_int_equal(fd_pass_send(sv[0], "x", 1, 0), -1);
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
    pair(SOCK_SEQPACKET, sv);
    close(sv[1]);
    errno = 0;
    assert_int_equal(fd_pass_send(sv[0], "x", 1, -1), -1);
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
}

static atomic_int signals;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_fetch_add(&signals, 1);
}

struct interrupter {
    pthread_t target;
    int sock;
    int fd;
};

/* interrupt - signal the receiving thread a few times (no SA_RESTART:
 * each one that lands in recvmsg makes it fail with EINTR), then send. */
static void *interrupt(void *arg)
{
    struct interrupter *in = arg;
    struct timespec ms = {0, 1000000};
    for (int i = 0; i < 5000 && atomic_load(&signals) < 20; i++) {
        pthread_kill(in->target, SIGUSR1);
        nanosleep(&ms, NULL);
    }
    fd_pass_send(in->sock, "late", 4, in->fd);
    return NULL;
}

static void test_eintr_retried(void **state)
{
    (void)state;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    int sv[2], p[2];
    pair(SOCK_SEQPACKET, sv);
    assert_int_equal(pipe(p), 0);
    struct interrupter in = {.target = pthread_self(), .sock = sv[0], .fd = p[1]};
    pthread_t t;
    atomic_store(&signals, 0);
    assert_int_equal(pthread_create(&t, NULL, interrupt, &in), 0);
    char buf[8];
    int fd = -1;
    assert_int_equal(fd_pass_recv1(sv[1], buf, sizeof(buf), 0, &fd), 4);
    pthread_join(t, NULL);
    assert_true(atomic_load(&signals) >= 20);
    assert_memory_equal(buf, "late", 4);
    close(p[1]);
    same_pipe(fd, p[0]);
    close(fd);
    close(p[0]);
    close(sv[0]);
    close(sv[1]);
    signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seqpacket_one),      cmocka_unit_test(test_extra_descriptors_closed),
        cmocka_unit_test(test_more_than_recv_max), cmocka_unit_test(test_stream_first_byte),
        cmocka_unit_test(test_stream_full),        cmocka_unit_test(test_epipe_without_sigpipe),
        cmocka_unit_test(test_eintr_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
