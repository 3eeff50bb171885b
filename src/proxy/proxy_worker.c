/* proxy_worker - one event-driven worker process of a proxy service. */
#include "proxy/proxy_worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/svclog.h"
#include "lib/sock.h"
#include "proxy/proxy_bgcopy.h"
#include "proxy/proxy_resources.h"
#include "proxy/spam_check.h"

#define CAP_RECHECK_MS       20    /* how often a capped worker looks for a free slot */
#define CAP_WARNING_EVERY_MS 10000 /* LOG-E2 at most this often per worker */
#define EMFILE_PAUSE_MS      100
#define SATURATED_BACKLOG    5 /* C-03: listen(fd, 5) while at pre_spawn */
#define NORMAL_BACKLOG       1024

static void listen_pause(struct proxy_worker *w, uint64_t ms)
{
    ev_io_set(w->loop, &w->listen_io, 0);
    ev_timer_start(w->loop, &w->resume_timer, ms);
}

static const int provisional_pre_spawn[SVC_COUNT] = {200, 50, 50, 10};

static void at_capacity(struct proxy_worker *w)
{
    uint64_t now = ev_now_ms(w->loop);
    if (w->last_cap_warning_ms == 0 || now - w->last_cap_warning_ms >= CAP_WARNING_EVERY_MS) {
        w->last_cap_warning_ms = now;
        svclog_error(NULL,
                     "Maximum connections: warning: Client connections reached maximum "
                     "connections (%u) . More request will be blocked/rejected. If there is many "
                     "warnings, please increase 'Maximum Connections' settings (pre_spawn value "
                     "of sekisho.ini) of this service. (%d will be good value as start line).",
                     proxy_slots_cap(w->slots),
                     w->cfg->service < SVC_COUNT ? provisional_pre_spawn[w->cfg->service] : 200);
    }
    /* Waiting clients queue in the kernel; keep that queue as short as
     * the guide's (C-03) until a slot frees. */
    listen(w->listen_fd, SATURATED_BACKLOG);
    listen_pause(w, CAP_RECHECK_MS);
}

/* client_key - a non-zero hash of the client's address (not its port),
 * the same for an IPv4 client and its IPv4-mapped IPv6 form. */
static uint64_t client_key(const struct sockaddr_storage *peer)
{
    const uint8_t *p = NULL;
    size_t n = 0;
    if (peer->ss_family == AF_INET) {
        p = (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr;
        n = 4;
    } else if (peer->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)peer)->sin6_addr;
        p = a->s6_addr;
        n = 16;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            p += 12;
            n = 4;
        }
    }
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * UINT64_C(1099511628211);
    return h | 1;
}

/* over_client_share - one client address may hold at most
 * max_sessions_per_client of the service's sessions, so that a single
 * host holding connections open cannot take every slot (issue 10, 16).
 * The refused connection gets the protocol's short busy reply. */
static bool over_client_share(struct proxy_worker *w, int fd, int slot,
                              const struct sockaddr_storage *peer)
{
    uint64_t key = client_key(peer);
    unsigned max = w->cfg->max_sessions_per_client;
    /* Claim first, then count (ours included): two workers accepting from
     * the same address at once may both refuse, never both exceed. */
    proxy_slots_set_client(w->slots, slot, key);
    if (max == 0 || proxy_slots_client_count(w->slots, key) <= max)
        return false;
    char ip[64] = "?";
    uint16_t port;
    sock_addr_text((const struct sockaddr *)peer, ip, sizeof(ip), &port);
    uint64_t now = ev_now_ms(w->loop);
    if (w->last_share_warning_ms == 0 || now - w->last_share_warning_ms >= CAP_WARNING_EVERY_MS) {
        w->last_share_warning_ms = now;
        svclog_error(NULL,
                     "Maximum connections per client: %s already holds %u sessions "
                     "(max_sessions_per_client); further connections are refused",
                     ip, max);
    }
    if (w->proto->busy_reply) {
        char reply[256];
        int len = snprintf(reply, sizeof(reply), w->proto->busy_reply, w->res->product_name);
        if (len > 0 && (size_t)len < sizeof(reply) && write(fd, reply, (size_t)len) < 0) {
            /* best effort: the client is refused either way */
        }
    }
    close(fd);
    return true;
}

static void on_accept(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct proxy_worker *w = io->data;
    for (int burst = 0; burst < 64 && !w->stopping; burst++) {
        int slot = proxy_slots_claim(w->slots);
        if (slot < 0) {
            at_capacity(w);
            return;
        }
        struct sockaddr_storage peer;
        socklen_t len = sizeof(peer);
        int fd =
            accept4(w->listen_fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            proxy_slots_release(w->slots, slot);
            if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
                return;
            svclog_error_errno(NULL, err, "main/accept_loop/accept(s=%d):", w->listen_fd);
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM)
                listen_pause(w, EMFILE_PAUSE_MS);
            return;
        }
        /* Replies are written in few large writes (head, then sendfile);
         * Nagle would hold the body behind the client's delayed ACK of the
         * head for 40 ms. */
        if (over_client_share(w, fd, slot, &peer)) {
            proxy_slots_release(w->slots, slot);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        proxy_slots_set_owner(w->slots, slot, (int32_t)w->pid);
        w->sessions++;
        w->accepted++;
        svc_stats_session_open(w->stats, time(NULL));
        w->proto->session_start(w, fd, &peer, slot);
    }
}

static void on_resume(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct proxy_worker *w = t->data;
    if (w->stopping)
        return;
    if (proxy_slots_used(w->slots) >= proxy_slots_cap(w->slots)) {
        ev_timer_start(w->loop, &w->resume_timer, CAP_RECHECK_MS);
        return;
    }
    listen(w->listen_fd, NORMAL_BACKLOG);
    ev_io_set(w->loop, &w->listen_io, EV_READ);
}

void proxy_worker_link(struct proxy_worker *w, struct proxy_session_link *link)
{
    struct proxy_session_link *head = &w->sessions_head;
    link->next = head->next;
    link->prev = head;
    head->next->prev = link;
    head->next = link;
}

void proxy_worker_unlink(struct proxy_session_link *link)
{
    if (!link->next)
        return;
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->next = link->prev = NULL;
}

static void begin_stop(struct proxy_worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    ev_io_stop(w->loop, &w->listen_io);
    ev_timer_stop(w->loop, &w->resume_timer);
    close(w->listen_fd);
    w->listen_fd = -1;
    /* Idle sessions close now; busy ones after their transaction. A
     * session may unlink itself from inside on_stop: step first. */
    struct proxy_session_link *head = &w->sessions_head;
    for (struct proxy_session_link *l = head->next, *next; l != head; l = next) {
        next = l->next;
        if (l->on_stop)
            l->on_stop(l);
    }
    if (w->sessions == 0)
        ev_break(w->loop);
}

static void on_signal(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    (void)events;
    struct proxy_worker *w = io->data;
    struct signalfd_siginfo si;
    while (read(io->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM)
            begin_stop(w);
    }
}

void proxy_worker_session_end(struct proxy_worker *w, int slot)
{
    proxy_slots_release(w->slots, slot);
    svc_stats_session_close(w->stats, 1);
    if (w->sessions > 0)
        w->sessions--;
    if (w->stopping && w->sessions == 0)
        ev_break(w->loop);
}

int proxy_worker_main(const struct proxy_worker_env *env)
{
    struct proxy_worker *w = calloc(1, sizeof(*w));
    if (!w)
        return 1;
    w->cfg = env->cfg;
    w->res = env->res;
    w->proto = env->proto;
    w->slots = env->slots;
    w->stats = env->stats;
    w->listen_fd = env->listen_fd;
    w->index = env->index;
    w->sessions_head.next = w->sessions_head.prev = &w->sessions_head;
    sock_local_text(w->listen_fd, w->listen_ip, sizeof(w->listen_ip), &w->listen_port);
    socklen_t alen = sizeof(w->listen_addr);
    w->listen_addr_ok = getsockname(w->listen_fd, (struct sockaddr *)&w->listen_addr, &alen) == 0;
    w->pid = getpid();
    /* Ctrl-C in a terminal reaches the whole process group: only the master
     * acts on it, and tells the workers with SIGTERM. */
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    w->loop = ev_loop_new();
    w->dns = w->loop ? dns_new(w->loop) : NULL;
    w->scan_pool = w->loop ? proxy_scan_pool_new(w->loop, w->cfg->scand_socket) : NULL;
    char pam_service[PROXY_AUTH_SERVICE_MAX];
    proxy_auth_service(w->proto->name, pam_service, sizeof(pam_service));
    w->auth_pool = w->loop ? proxy_auth_pool_new(w->loop, pam_service, env->authfail) : NULL;
    if (sfd < 0 || !w->loop || !w->dns || !w->scan_pool || !w->auth_pool) {
        svclog_error_errno(NULL, errno, "worker %d: cannot initialise its event loop", w->index);
        return 1;
    }
    ev_io_init(&w->signal_io, sfd, on_signal, w);
    ev_io_set(w->loop, &w->signal_io, EV_READ);
    ev_io_init(&w->listen_io, w->listen_fd, on_accept, w);
    w->listen_io.exclusive = true;
    ev_io_set(w->loop, &w->listen_io, EV_READ);
    ev_timer_init(&w->resume_timer, on_resume, w);
    int rc = ev_run(w->loop) < 0 ? 1 : 0;
    /* A quarantined object must not be lost to a stop: its copy ends
     * first, within a bound (then it is removed and logged). */
    spam_check_pool_free(w);
    proxy_bgcopy_free(w->bgcopy, PROXY_BGCOPY_DRAIN_MS);
    proxy_auth_pool_free(w->auth_pool);
    dns_free(w->dns);
    proxy_scan_pool_free(w->scan_pool);
    ev_loop_free(w->loop);
    close(sfd);
    free(w);
    return rc;
}
