/* Unit tests for core/upstream: the one connector to upstream servers
 * (spec §8b CONN-1, CONN-2, CONN-5; every resolved address in turn). All
 * traffic is on 127.0.0.1 and ::1; names resolve through a hosts file of
 * the test's own (CARES_HOSTS, lib/dns). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/upstream.h"
#include "lib/dns.h"
#include "lib/ev.h"
#include "lib/sock.h"

#define GUARD_MS 30000 /* a hang guard only: every test ends long before */

static char scratch_ip[SOCK_ADDRSTRLEN]; /* addresses the tests do not look at */

struct outcome {
    struct ev_loop *loop;
    int calls;
    struct upstream_result r;
};

static void on_result(void *arg, const struct upstream_result *r)
{
    struct outcome *o = arg;
    o->calls++;
    o->r = *r;
    ev_break(o->loop);
}

static void on_guard(struct ev_loop *loop, struct ev_timer *t)
{
    (void)t;
    ev_break(loop);
}

/* run - the loop until the callback ran (or the guard fired). */
static void run(struct outcome *o)
{
    struct ev_timer guard;
    ev_timer_init(&guard, on_guard, NULL);
    ev_timer_start(o->loop, &guard, GUARD_MS);
    if (o->calls == 0)
        assert_int_equal(ev_run(o->loop), 0);
    ev_timer_stop(o->loop, &guard);
    assert_int_equal(o->calls, 1);
}

/* listener - a listening socket on ip (IPv6 only for "::1"), its port. */
static int listener(const char *ip, int backlog, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    assert_true(sock_parse_ip(ip, 0, &ss, &len));
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int one = 1;
    if (ss.ss_family == AF_INET6)
        assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    assert_int_equal(listen(fd, backlog), 0);
    assert_int_equal(sock_local_text(fd, scratch_ip, sizeof(scratch_ip), port), 0);
    return fd;
}

/* closed_port - a port of 127.0.0.1 where nothing listens (bound, never
 * listened on, so no other test can take it meanwhile). */
static int closed_port(uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    assert_true(sock_parse_ip("127.0.0.1", 0, &ss, &len));
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    assert_int_equal(sock_local_text(fd, scratch_ip, sizeof(scratch_ip), port), 0);
    return fd;
}

static void add_addr(struct dns_result *res, const char *ip, uint16_t port)
{
    assert_true(res->n < DNS_MAX_ADDRS);
    assert_true(sock_parse_ip(ip, port, &res->addr[res->n], &res->len[res->n]));
    res->n++;
}

/* pending - whether a connection is in the listener's queue, waiting up
 * to wait_ms for one (0 when nothing can be on its way). */
static bool pending(int lfd, int wait_ms)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, wait_ms) != 1)
        return false;
    int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return false;
    close(c);
    return true;
}
#define accepted(lfd)       pending(lfd, GUARD_MS)
#define nothing_queued(lfd) (!pending(lfd, 0))

static char hosts_path[64];

static int setup_hosts(void **state)
{
    (void)state;
    snprintf(hosts_path, sizeof(hosts_path), "/tmp/test_upstream_hosts.XXXXXX");
    int fd = mkstemp(hosts_path);
    assert_true(fd >= 0);
    /* Both addresses of one name; lib/dns lists IPv4 first. */
    static const char text[] = "::1 two.upstream.test\n127.0.0.1 two.upstream.test\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    setenv("CARES_HOSTS", hosts_path, 1);
    return 0;
}

static int teardown_hosts(void **state)
{
    (void)state;
    unlink(hosts_path);
    unsetenv("CARES_HOSTS");
    return 0;
}

static void test_connects_to_a_loopback_listener(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    struct dns *dns = dns_new(o.loop);
    uint16_t port;
    int lfd = listener("127.0.0.1", 8, &port);
    struct upstream_request req = {.host = "127.0.0.1", .port = port};
    struct upstream *u = upstream_start(o.loop, dns, &req, on_result, &o);
    assert_non_null(u);
    run(&o);
    assert_int_equal(o.r.failure, UPSTREAM_OK);
    assert_true(o.r.fd >= 0);
    assert_string_equal(o.r.ip, "127.0.0.1");
    assert_int_equal(o.r.port, port);
    assert_string_equal(o.r.error, "");
    uint16_t peer_port = 0;
    assert_int_equal(sock_peer_text(o.r.fd, scratch_ip, sizeof(scratch_ip), &peer_port), 0);
    assert_int_equal(peer_port, port);
    assert_true(accepted(lfd));
    close(o.r.fd);
    close(lfd);
    dns_free(dns);
    ev_loop_free(o.loop);
}

static void test_refused_port_is_conn1(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    struct dns *dns = dns_new(o.loop);
    uint16_t port;
    int hold = closed_port(&port);
    struct upstream_request req = {.host = "127.0.0.1", .port = port};
    upstream_start(o.loop, dns, &req, on_result, &o);
    run(&o);
    char want[128];
    snprintf(want, sizeof(want), "CONNECT(127.0.0.1:%u)/connect: Connection refused",
             (unsigned)port);
    assert_int_equal(o.r.fd, -1);
    assert_int_equal(o.r.failure, UPSTREAM_CONNECT);
    assert_int_equal(o.r.err, ECONNREFUSED);
    assert_string_equal(o.r.error, want);
    assert_string_equal(o.r.detail, "Connection refused");
    assert_string_equal(o.r.ip, "127.0.0.1");
    close(hold);
    dns_free(dns);
    ev_loop_free(o.loop);
}

static void test_every_address_is_tried_in_order(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    uint16_t dead1, dead2, port;
    int h1 = closed_port(&dead1), h2 = closed_port(&dead2);
    int lfd = listener("127.0.0.1", 8, &port);
    struct dns_result addrs = {0};
    add_addr(&addrs, "127.0.0.1", dead1);
    add_addr(&addrs, "127.0.0.1", dead2);
    add_addr(&addrs, "127.0.0.1", port);
    struct upstream_request req = {.host = "origin.test", .port = 80};
    assert_non_null(upstream_start_addrs(o.loop, &addrs, &req, on_result, &o));
    run(&o);
    assert_int_equal(o.r.failure, UPSTREAM_OK);
    assert_true(o.r.fd >= 0);
    uint16_t peer_port = 0;
    assert_int_equal(sock_peer_text(o.r.fd, scratch_ip, sizeof(scratch_ip), &peer_port), 0);
    assert_int_equal(peer_port, port);
    assert_true(accepted(lfd));
    close(o.r.fd);
    close(lfd);
    close(h1);
    close(h2);
    ev_loop_free(o.loop);
}

static void test_all_addresses_fail_with_the_last_error(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    uint16_t dead1, dead2;
    int h1 = closed_port(&dead1), h2 = closed_port(&dead2);
    struct dns_result addrs = {0};
    add_addr(&addrs, "127.0.0.1", dead1);
    add_addr(&addrs, "127.0.0.1", dead2);
    struct upstream_request req = {.host = "origin.test", .port = 8080};
    upstream_start_addrs(o.loop, &addrs, &req, on_result, &o);
    run(&o);
    assert_int_equal(o.r.failure, UPSTREAM_CONNECT);
    assert_string_equal(o.r.error, "CONNECT(origin.test:8080)/connect: Connection refused");
    /* The last address tried is the one reported. */
    assert_int_equal(ntohs(((struct sockaddr_in *)&o.r.addr)->sin_port), dead2);
    close(h1);
    close(h2);
    ev_loop_free(o.loop);
}

static void test_a_name_with_two_addresses_reaches_the_second(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    struct dns *dns = dns_new(o.loop);
    /* Only ::1 listens: 127.0.0.1 (listed first) refuses the port. */
    uint16_t port;
    int lfd = listener("::1", 8, &port);
    struct upstream_request req = {.host = "two.upstream.test", .port = port, .ipv6 = true};
    upstream_start(o.loop, dns, &req, on_result, &o);
    run(&o);
    assert_int_equal(o.r.failure, UPSTREAM_OK);
    assert_string_equal(o.r.ip, "::1");
    assert_true(accepted(lfd));
    close(o.r.fd);

    /* ipv6=no: the name has only its IPv4 address, which refuses. */
    struct outcome o4 = {.loop = o.loop};
    req.ipv6 = false;
    upstream_start(o.loop, dns, &req, on_result, &o4);
    run(&o4);
    assert_int_equal(o4.r.failure, UPSTREAM_CONNECT);
    assert_string_equal(o4.r.ip, "127.0.0.1");
    char want[128];
    snprintf(want, sizeof(want), "CONNECT(two.upstream.test:%u)/connect: Connection refused",
             (unsigned)port);
    assert_string_equal(o4.r.error, want);
    assert_true(nothing_queued(lfd));
    close(lfd);
    dns_free(dns);
    ev_loop_free(o.loop);
}

/* full_listener - a listener whose queue (backlog 0) holds one connection
 * already: a further SYN is dropped, so a connect to it hangs. */
static int full_listener(uint16_t *port, int *filler)
{
    int lfd = listener("127.0.0.1", 0, port);
    struct sockaddr_storage ss;
    socklen_t len;
    assert_true(sock_parse_ip("127.0.0.1", *port, &ss, &len));
    *filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(connect(*filler, (struct sockaddr *)&ss, len), 0);
    return lfd;
}

static void test_timeout_is_conn2(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    struct dns *dns = dns_new(o.loop);
    uint16_t port;
    int filler;
    int lfd = full_listener(&port, &filler);
    struct upstream_request req = {.host = "127.0.0.1", .port = port, .connect_timeout_s = 1};
    upstream_start(o.loop, dns, &req, on_result, &o);
    run(&o);
    char want[128];
    snprintf(want, sizeof(want), "CONNECT(127.0.0.1:%u)/connect timeout(>1 sec)", (unsigned)port);
    assert_int_equal(o.r.failure, UPSTREAM_TIMEOUT);
    assert_int_equal(o.r.err, ETIMEDOUT);
    assert_string_equal(o.r.error, want);
    close(filler);
    close(lfd);
    dns_free(dns);
    ev_loop_free(o.loop);
}

static void test_timeout_moves_on_to_the_next_address(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    uint16_t hung, port;
    int filler;
    int full = full_listener(&hung, &filler);
    int lfd = listener("127.0.0.1", 8, &port);
    struct dns_result addrs = {0};
    add_addr(&addrs, "127.0.0.1", hung);
    add_addr(&addrs, "127.0.0.1", port);
    struct upstream_request req = {.host = "origin.test", .port = 80, .connect_timeout_s = 1};
    upstream_start_addrs(o.loop, &addrs, &req, on_result, &o);
    run(&o);
    assert_int_equal(o.r.failure, UPSTREAM_OK);
    assert_true(accepted(lfd));
    close(o.r.fd);
    close(lfd);
    close(filler);
    close(full);
    ev_loop_free(o.loop);
}

struct filter_log {
    int calls;
    char ips[4][SOCK_ADDRSTRLEN];
    enum upstream_verdict verdicts[4];
};

static enum upstream_verdict filter(void *arg, const struct sockaddr *sa, socklen_t len,
                                    const char *ip, struct upstream_refusal *why)
{
    (void)sa;
    (void)len;
    (void)why;
    struct filter_log *f = arg;
    assert_true(f->calls < 4);
    snprintf(f->ips[f->calls], sizeof(f->ips[0]), "%s", ip);
    return f->verdicts[f->calls++];
}

static void test_filter_refusal_contacts_nothing(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    uint16_t p1, p2;
    int l1 = listener("127.0.0.1", 8, &p1), l2 = listener("127.0.0.1", 8, &p2);
    struct dns_result addrs = {0};
    add_addr(&addrs, "127.0.0.1", p1);
    add_addr(&addrs, "127.0.0.1", p2);
    /* The second address is refused: not even the first is contacted. */
    struct filter_log f = {.verdicts = {UPSTREAM_TRY, UPSTREAM_REFUSE}};
    struct upstream_request req = {
        .host = "denied.test", .port = 25, .filter = filter, .filter_arg = &f};
    assert_null(upstream_start_addrs(o.loop, &addrs, &req, on_result, &o));
    assert_int_equal(o.calls, 1); /* reported before the start returned */
    assert_int_equal(f.calls, 2);
    assert_int_equal(o.r.failure, UPSTREAM_REFUSED);
    assert_int_equal(o.r.fd, -1);
    assert_string_equal(o.r.error, "CONNECT(denied.test:25)/Access Inhibited by Proxy(SEKISHO)");
    assert_true(nothing_queued(l1));
    assert_true(nothing_queued(l2));
    close(l1);
    close(l2);
    ev_loop_free(o.loop);
}

static enum upstream_verdict refuse_508(void *arg, const struct sockaddr *sa, socklen_t len,
                                        const char *ip, struct upstream_refusal *why)
{
    (void)arg;
    (void)sa;
    (void)len;
    (void)ip;
    why->code = 508;
    upstream_error_text(why->error, sizeof(why->error), "self.test", 8080, "Request loop");
    return UPSTREAM_REFUSE;
}

static void test_filter_sets_code_and_text(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    struct dns *dns = dns_new(o.loop);
    struct upstream_request req = {.host = "127.0.0.1", .port = 8080, .filter = refuse_508};
    assert_null(upstream_start(o.loop, dns, &req, on_result, &o));
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.r.failure, UPSTREAM_REFUSED);
    assert_int_equal(o.r.refusal, 508);
    assert_string_equal(o.r.error, "CONNECT(self.test:8080)/Request loop");
    assert_string_equal(o.r.ip, "127.0.0.1");
    dns_free(dns);
    ev_loop_free(o.loop);
}

static void test_filter_skip_leaves_an_address_out(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    uint16_t p1, p2;
    int l1 = listener("127.0.0.1", 8, &p1), l2 = listener("127.0.0.1", 8, &p2);
    struct dns_result addrs = {0};
    add_addr(&addrs, "127.0.0.1", p1);
    add_addr(&addrs, "127.0.0.1", p2);
    struct filter_log f = {.verdicts = {UPSTREAM_SKIP, UPSTREAM_TRY}};
    struct upstream_request req = {
        .host = "origin.test", .port = 80, .filter = filter, .filter_arg = &f};
    upstream_start_addrs(o.loop, &addrs, &req, on_result, &o);
    run(&o);
    assert_int_equal(o.r.failure, UPSTREAM_OK);
    assert_true(nothing_queued(l1));
    assert_true(accepted(l2));
    close(o.r.fd);

    /* Every address skipped: refused with the CONN-5 text. */
    struct outcome o2 = {.loop = o.loop};
    struct filter_log f2 = {.verdicts = {UPSTREAM_SKIP, UPSTREAM_SKIP}};
    req.filter_arg = &f2;
    assert_null(upstream_start_addrs(o.loop, &addrs, &req, on_result, &o2));
    assert_int_equal(o2.r.failure, UPSTREAM_REFUSED);
    assert_string_equal(o2.r.error, "CONNECT(origin.test:80)/Access Inhibited by Proxy(SEKISHO)");
    assert_true(nothing_queued(l1));
    assert_true(nothing_queued(l2));
    close(l1);
    close(l2);
    ev_loop_free(o.loop);
}

static void on_stop(struct ev_loop *loop, struct ev_timer *t)
{
    (void)t;
    ev_break(loop);
}

static void test_cancel_means_no_callback(void **state)
{
    (void)state;
    struct outcome o = {.loop = ev_loop_new()};
    uint16_t hung;
    int filler;
    int full = full_listener(&hung, &filler);
    struct dns_result addrs = {0};
    add_addr(&addrs, "127.0.0.1", hung);
    struct upstream_request req = {.host = "origin.test", .port = 80, .connect_timeout_s = 1};
    struct upstream *u = upstream_start_addrs(o.loop, &addrs, &req, on_result, &o);
    assert_non_null(u);
    upstream_cancel(u);
    /* Past the connect timeout: a watcher left behind would fire now. */
    struct ev_timer stop;
    ev_timer_init(&stop, on_stop, NULL);
    ev_timer_start(o.loop, &stop, 1500);
    assert_int_equal(ev_run(o.loop), 0);
    assert_int_equal(o.calls, 0);
    close(filler);
    close(full);
    ev_loop_free(o.loop);
}

static void test_error_text(void **state)
{
    (void)state;
    char out[64];
    upstream_error_text(out, sizeof(out), "host.test", 21, "%s", UPSTREAM_CANCELLED);
    assert_string_equal(out, "CONNECT(host.test:21)/connect cancelled");
    char small[16];
    upstream_error_text(small, sizeof(small), "host.test", 21, "%s", UPSTREAM_CANCELLED);
    assert_int_equal(strlen(small), sizeof(small) - 1); /* truncated, terminated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connects_to_a_loopback_listener),
        cmocka_unit_test(test_refused_port_is_conn1),
        cmocka_unit_test(test_every_address_is_tried_in_order),
        cmocka_unit_test(test_all_addresses_fail_with_the_last_error),
        cmocka_unit_test(test_a_name_with_two_addresses_reaches_the_second),
        cmocka_unit_test(test_timeout_is_conn2),
        cmocka_unit_test(test_timeout_moves_on_to_the_next_address),
        cmocka_unit_test(test_filter_refusal_contacts_nothing),
        cmocka_unit_test(test_filter_sets_code_and_text),
        cmocka_unit_test(test_filter_skip_leaves_an_address_out),
        cmocka_unit_test(test_cancel_means_no_callback),
        cmocka_unit_test(test_error_text),
    };
    return cmocka_run_group_tests(tests, setup_hosts, teardown_hosts);
}
