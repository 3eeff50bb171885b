/* dns - asynchronous name resolution (c-ares driven by the ev loop). */
#include "lib/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct dns_watch {
    struct ev_io io;
    struct dns *dns;
    struct dns_watch *next;
};

struct dns {
    struct ev_loop *loop;
    ares_channel channel;
    struct ev_timer timer;
    struct dns_watch *watches;
};

struct dns_query {
    struct dns *dns;
    dns_lookup_fn *lookup_cb;
    dns_reverse_fn *reverse_cb;
    dns_a_fn *a_cb;
    struct dns_a_answer *early; /* dns_query_a: answered while starting */
    void *arg;
    uint16_t port;
    bool ipv6;
    bool cancelled;
    bool starting; /* inside dns_lookup/dns_reverse: the callback may run now */
    bool done;     /* completed while starting: the starter frees q */
};

/* finish - free q, unless its starter is still on the stack. */
static void finish(struct dns_query *q)
{
    if (q->starting)
        q->done = true;
    else
        free(q);
}

/* started - what dns_lookup/dns_reverse return: NULL when the query
 * already completed synchronously (its callback has run). */
static struct dns_query *started(struct dns_query *q)
{
    q->starting = false;
    if (q->done) {
        free(q);
        return NULL;
    }
    return q;
}

static void dns_schedule_timer(struct dns *dns)
{
    struct timeval tv, *tvp = ares_timeout(dns->channel, NULL, &tv);
    if (!tvp) {
        ev_timer_stop(dns->loop, &dns->timer);
        return;
    }
    uint64_t ms = (uint64_t)tvp->tv_sec * 1000u + (uint64_t)tvp->tv_usec / 1000u;
    if (ms == 0)
        ms = 1;
    /* Never push a pending deadline later: under a steady stream of new
     * lookups a restarted timer would never fire. */
    if (ev_timer_active(&dns->timer) && dns->timer.when_ms <= ev_now_ms(dns->loop) + ms)
        return;
    ev_timer_start(dns->loop, &dns->timer, ms);
}

static void dns_on_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct dns *dns = t->data;
    ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    dns_schedule_timer(dns);
}

static void dns_on_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct dns_watch *w = io->data;
    struct dns *dns = w->dns;
    int fd = io->fd;
    ares_socket_t r = (events & (EV_READ | EV_ERROR | EV_HUP)) ? fd : ARES_SOCKET_BAD;
    ares_socket_t wr = (events & EV_WRITE) ? fd : ARES_SOCKET_BAD;
    ares_process_fd(dns->channel, r, wr);
    dns_schedule_timer(dns);
}

static void dns_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns *dns = data;
    struct dns_watch **pp = &dns->watches, *w;
    while ((w = *pp) != NULL && w->io.fd != fd)
        pp = &w->next;
    if (!readable && !writable) {
        if (w) {
            ev_io_stop(dns->loop, &w->io);
            *pp = w->next;
            /* An event for this watcher may still be pending in the batch. */
            if (ev_defer(dns->loop, free, w) < 0)
                free(w);
        }
        return;
    }
    if (!w) {
        w = calloc(1, sizeof(*w));
        if (!w)
            return; /* c-ares times the query out */
        w->dns = dns;
        ev_io_init(&w->io, fd, dns_on_io, w);
        w->next = dns->watches;
        dns->watches = w;
    }
    ev_io_set(dns->loop, &w->io, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
}

struct dns *dns_new_opts(struct ev_loop *loop, const char *servers, unsigned timeout_ms,
                         unsigned tries)
{
    static bool library_ready;
    if (!library_ready) {
        if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
            return NULL;
        library_ready = true;
    }
    struct dns *dns = calloc(1, sizeof(*dns));
    if (!dns)
        return NULL;
    dns->loop = loop;
    ev_timer_init(&dns->timer, dns_on_timer, dns);
    struct ares_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.sock_state_cb = dns_sock_state;
    opts.sock_state_cb_data = dns;
    opts.timeout = timeout_ms ? (int)timeout_ms : 1; /* ms per try */
    opts.tries = tries ? (int)tries : 1;
    if (ares_init_options(&dns->channel, &opts,
                          ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) !=
        ARES_SUCCESS) {
        free(dns);
        return NULL;
    }
    if (servers && *servers && ares_set_servers_ports_csv(dns->channel, servers) != ARES_SUCCESS) {
        ares_destroy(dns->channel);
        free(dns);
        return NULL;
    }
    return dns;
}

struct dns *dns_new(struct ev_loop *loop)
{
    return dns_new_opts(loop, NULL, 2000, 2);
}

void dns_free(struct dns *dns)
{
    if (!dns)
        return;
    ares_destroy(dns->channel); /* runs pending callbacks with ARES_EDESTRUCTION */
    ev_timer_stop(dns->loop, &dns->timer);
    while (dns->watches) {
        struct dns_watch *w = dns->watches;
        dns->watches = w->next;
        ev_io_stop(dns->loop, &w->io);
        free(w);
    }
    free(dns);
}

static const char *dns_errtext(int status)
{
    switch (status) {
    case ARES_ENOTFOUND:
        return "Unknown host";
    case ARES_ENODATA:
        return "No address associated with name";
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
    case ARES_ESERVFAIL:
        return "Host name lookup failure";
    default:
        return "Unknown server error";
    }
}

static void add_nodes(struct dns_result *res, const struct ares_addrinfo *ai, int family,
                      uint16_t port)
{
    for (const struct ares_addrinfo_node *n = ai->nodes; n && res->n < DNS_MAX_ADDRS;
         n = n->ai_next) {
        if (n->ai_family != family || n->ai_addrlen > sizeof(res->addr[0]))
            continue;
        memcpy(&res->addr[res->n], n->ai_addr, n->ai_addrlen);
        if (family == AF_INET)
            ((struct sockaddr_in *)&res->addr[res->n])->sin_port = htons(port);
        else
            ((struct sockaddr_in6 *)&res->addr[res->n])->sin6_port = htons(port);
        res->len[res->n++] = n->ai_addrlen;
    }
}

static void dns_on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
    (void)timeouts;
    struct dns_query *q = arg;
    struct dns_result res;
    res.n = 0;
    if (status == ARES_SUCCESS && ai) {
        add_nodes(&res, ai, AF_INET, q->port);
        if (q->ipv6)
            add_nodes(&res, ai, AF_INET6, q->port);
        if (res.n == 0)
            status = ARES_ENODATA;
    }
    if (ai)
        ares_freeaddrinfo(ai);
    if (!q->cancelled && status != ARES_EDESTRUCTION)
        q->lookup_cb(q->arg, status == ARES_SUCCESS ? 0 : status,
                     status == ARES_SUCCESS ? "" : dns_errtext(status), &res);
    finish(q);
}

/* literal - a numeric address needs no resolver: answer at once (c-ares
 * would go through its query machinery and a timer for it). */
static bool literal(const char *host, uint16_t port, bool ipv6, struct dns_result *res)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&res->addr[0];
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&res->addr[0];
    memset(&res->addr[0], 0, sizeof(res->addr[0]));
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        res->len[0] = sizeof(*sin);
    } else if (ipv6 && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        res->len[0] = sizeof(*sin6);
    } else {
        return false;
    }
    res->n = 1;
    return true;
}

struct dns_query *dns_lookup(struct dns *dns, const char *host, uint16_t port, bool ipv6,
                             dns_lookup_fn *cb, void *arg)
{
    struct dns_result lit;
    if (literal(host, port, ipv6, &lit)) {
        cb(arg, 0, "", &lit);
        return NULL;
    }
    struct dns_query *q = calloc(1, sizeof(*q));
    if (!q) {
        cb(arg, ARES_ENOMEM, dns_errtext(ARES_ENOMEM), NULL);
        return NULL;
    }
    q->dns = dns;
    q->lookup_cb = cb;
    q->arg = arg;
    q->port = port;
    q->ipv6 = ipv6;
    struct ares_addrinfo_hints hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = ipv6 ? AF_UNSPEC : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = ARES_AI_ENVHOSTS; /* CARES_HOSTS, see dns.h */
    q->starting = true;
    ares_getaddrinfo(dns->channel, host, NULL, &hints, dns_on_addrinfo, q);
    dns_schedule_timer(dns);
    return started(q);
}

static void dns_on_hostent(void *arg, int status, int timeouts, struct hostent *he)
{
    (void)timeouts;
    struct dns_query *q = arg;
    if (!q->cancelled && status != ARES_EDESTRUCTION)
        q->reverse_cb(q->arg, status == ARES_SUCCESS && he ? he->h_name : NULL);
    finish(q);
}

struct dns_query *dns_reverse(struct dns *dns, const struct sockaddr *sa, dns_reverse_fn *cb,
                              void *arg)
{
    struct dns_query *q = calloc(1, sizeof(*q));
    if (!q) {
        cb(arg, NULL);
        return NULL;
    }
    q->dns = dns;
    q->reverse_cb = cb;
    q->arg = arg;
    q->starting = true;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        ares_gethostbyaddr(dns->channel, &sin->sin_addr, sizeof(sin->sin_addr), AF_INET,
                           dns_on_hostent, q);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        ares_gethostbyaddr(dns->channel, &sin6->sin6_addr, sizeof(sin6->sin6_addr), AF_INET6,
                           dns_on_hostent, q);
    }
    dns_schedule_timer(dns);
    return started(q);
}

void dns_cancel(struct dns_query *q)
{
    if (q)
        q->cancelled = true;
}

/* ---- raw A queries (DNS lists) ---- */

static uint32_t ttl_value(const unsigned char *p)
{
    uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return (v & 0x80000000u) ? 0 : v; /* RFC 2181 8 */
}

/* skip_name - the offset after the (possibly compressed) name at off, or
 * 0 when it runs past the message. A pointer ends the name in place. */
static size_t skip_name(const unsigned char *m, size_t len, size_t off)
{
    while (off < len) {
        unsigned l = m[off];
        if ((l & 0xc0) == 0xc0)
            return off + 2 <= len ? off + 2 : 0;
        if (l & 0xc0)
            return 0; /* the reserved label types */
        if (l == 0)
            return off + 1;
        off += 1 + l;
    }
    return 0;
}

/* negative_ttl - RFC 2308 5: the SOA of the authority section, the
 * smaller of its TTL and its MINIMUM. False when there is none or the
 * message is cut short before it. */
static bool negative_ttl(const unsigned char *m, size_t len, uint32_t *ttl)
{
    if (len < 12)
        return false;
    unsigned qd = (unsigned)m[4] << 8 | m[5], an = (unsigned)m[6] << 8 | m[7];
    unsigned ns = (unsigned)m[8] << 8 | m[9];
    size_t off = 12;
    for (unsigned i = 0; i < qd; i++) {
        off = skip_name(m, len, off);
        if (!off || off + 4 > len)
            return false;
        off += 4;
    }
    for (unsigned i = 0; i < an + ns; i++) {
        off = skip_name(m, len, off);
        if (!off || off + 10 > len)
            return false;
        unsigned type = (unsigned)m[off] << 8 | m[off + 1];
        unsigned cls = (unsigned)m[off + 2] << 8 | m[off + 3];
        uint32_t rr_ttl = ttl_value(m + off + 4);
        size_t rdlen = (size_t)m[off + 8] << 8 | m[off + 9];
        size_t rdata = off + 10;
        if (rdata + rdlen > len)
            return false;
        if (i >= an && type == 6 && cls == 1) { /* SOA IN */
            size_t p = skip_name(m, rdata + rdlen, rdata);
            p = p ? skip_name(m, rdata + rdlen, p) : 0; /* MNAME, RNAME */
            if (!p || p + 20 > rdata + rdlen)
                return false;
            uint32_t minimum = ttl_value(m + p + 16);
            *ttl = rr_ttl < minimum ? rr_ttl : minimum;
            return true;
        }
        off = rdata + rdlen;
    }
    return false;
}

void dns_a_answer_parse(const unsigned char *abuf, size_t alen, struct dns_a_answer *out)
{
    memset(out, 0, sizeof(*out));
    out->status = DNS_A_FAIL;
    if (!abuf || alen < 12 || alen > 65535 || !(abuf[2] & 0x80))
        return; /* not a response */
    unsigned rcode = abuf[3] & 0x0f;
    if (rcode == 3) {
        out->status = DNS_A_NXDOMAIN;
    } else if (rcode != 0) {
        return;
    } else {
        struct ares_addrttl rec[DNS_A_MAX];
        int n = DNS_A_MAX;
        int st = ares_parse_a_reply(abuf, (int)alen, NULL, rec, &n);
        if (st == ARES_SUCCESS && n > 0) {
            out->status = DNS_A_OK;
            for (int i = 0; i < n && i < DNS_A_MAX; i++) {
                memcpy(out->addr[i], &rec[i].ipaddr, 4);
                out->ttl[i] = rec[i].ttl < 0 ? 0 : (uint32_t)rec[i].ttl;
            }
            out->n = (unsigned)(n < DNS_A_MAX ? n : DNS_A_MAX);
            return;
        }
        if (st != ARES_SUCCESS && st != ARES_ENODATA)
            return; /* malformed */
        out->status = DNS_A_NODATA;
    }
    out->has_neg_ttl = negative_ttl(abuf, alen, &out->neg_ttl);
}

static void deliver_early(void *data)
{
    struct dns_query *q = data;
    if (!q->cancelled)
        q->a_cb(q->arg, q->early);
    free(q->early);
    free(q);
}

static void dns_on_a(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    struct dns_query *q = arg;
    if (status == ARES_EDESTRUCTION || q->cancelled) {
        if (q->starting) {
            q->done = true;
            q->cancelled = true;
        } else {
            free(q);
        }
        return;
    }
    struct dns_a_answer a;
    /* c-ares hands over the message also for NXDOMAIN and NODATA (its
     * status is then ENOTFOUND/ENODATA); none for a timeout. */
    dns_a_answer_parse(abuf, alen > 0 ? (size_t)alen : 0, &a);
    if (a.status == DNS_A_FAIL && (!abuf || alen <= 0))
        a.timeout = status == ARES_ETIMEOUT;
    if (q->starting) { /* answered inside ares_query: deliver after return */
        q->early = malloc(sizeof(a));
        if (q->early)
            memcpy(q->early, &a, sizeof(a));
        q->done = true;
        return;
    }
    q->a_cb(q->arg, &a);
    free(q);
}

struct dns_query *dns_query_a(struct dns *dns, const char *name, dns_a_fn *cb, void *arg)
{
    if (!name || !*name)
        return NULL;
    struct dns_query *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->dns = dns;
    q->a_cb = cb;
    q->arg = arg;
    q->starting = true;
    ares_query(dns->channel, name, 1 /* C_IN */, 1 /* T_A */, dns_on_a, q);
    dns_schedule_timer(dns);
    q->starting = false;
    if (!q->done)
        return q;
    /* ares_query completed at once (no memory, a name it refuses): the
     * promise is a callback after return, so it goes through ev_defer. */
    if (q->cancelled || !q->early || ev_defer(dns->loop, deliver_early, q) < 0) {
        free(q->early);
        free(q);
        return NULL;
    }
    return q;
}
