/* dns - asynchronous name resolution (c-ares driven by the ev loop).
 *
 * Workers never call getaddrinfo(): a lookup is started here and its
 * callback runs later on the loop. c-ares reads /etc/hosts and
 * /etc/resolv.conf; CARES_HOSTS=<file> in the environment names another
 * hosts file for lookups (c-ares' ARES_AI_ENVHOSTS): the tests use it to
 * give a name several loopback addresses, which /etc/hosts cannot do
 * for them. A query can be cancelled (its callback is then never
 * called); the resolver owns the c-ares channel and the watchers of its
 * sockets.
 *
 * DNS lists (proxy/spam_dnsbl) need more than addresses: a channel with
 * explicit servers and its own timeout and tries (dns_new_opts), and a raw
 * A query whose answer keeps the records' TTLs and, for NXDOMAIN/NODATA,
 * the negative TTL of RFC 2308 5 (from the SOA in the authority section:
 * the smaller of the SOA record's TTL and its MINIMUM field). The parser
 * of such an answer (dns_a_answer_parse) is separate so that it can be
 * fuzzed on raw message bytes.
 */
#ifndef SEKISHO_LIB_DNS_H
#define SEKISHO_LIB_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "lib/ev.h"

#define DNS_MAX_ADDRS 8

struct dns;
struct dns_query;

struct dns_result {
    size_t n;
    struct sockaddr_storage addr[DNS_MAX_ADDRS];
    socklen_t len[DNS_MAX_ADDRS];
};

/* status 0 = ok (res has >= 1 address); otherwise errtext is the CONN-4
 * detail ("Unknown host", "Host name lookup failure", ...). */
typedef void dns_lookup_fn(void *arg, int status, const char *errtext,
                           const struct dns_result *res); /* res NULL only on ENOMEM */
/* name is NULL when the address has no PTR record (or lookup failed). */
typedef void dns_reverse_fn(void *arg, const char *name);

struct dns *dns_new(struct ev_loop *loop);
void dns_free(struct dns *dns);

/* dns_new_opts - a channel of its own: servers "addr[:port],..." (IPv6 in
 * brackets when a port is given, c-ares' ares_set_servers_ports_csv
 * syntax), or NULL/"" for the nameservers of /etc/resolv.conf;
 * timeout_ms per try and tries (>= 1). NULL on a bad server list or no
 * memory. Lookups through it never read /etc/hosts (dns_query_a only). */
struct dns *dns_new_opts(struct ev_loop *loop, const char *servers, unsigned timeout_ms,
                         unsigned tries);

#define DNS_A_MAX 16 /* A records kept from one answer */

enum dns_a_status {
    DNS_A_OK = 0,   /* >= 1 A record */
    DNS_A_NXDOMAIN, /* RCODE 3 */
    DNS_A_NODATA,   /* RCODE 0 and no A record (CNAME only, other types) */
    DNS_A_FAIL,     /* no usable answer: timeout, SERVFAIL, REFUSED, malformed */
};

struct dns_a_answer {
    enum dns_a_status status;
    unsigned n;                       /* records in addr/ttl (at most DNS_A_MAX) */
    unsigned char addr[DNS_A_MAX][4]; /* network byte order, answer order */
    uint32_t ttl[DNS_A_MAX];          /* seconds (c-ares: min with the CNAME chain's) */
    bool has_neg_ttl;                 /* NXDOMAIN/NODATA with an SOA in the authority */
    uint32_t neg_ttl;                 /* min(SOA TTL, SOA MINIMUM) (RFC 2308 5) */
    bool timeout;                     /* DNS_A_FAIL because no reply came */
};

/* dns_a_answer_parse - the answer in abuf[alen] (a whole DNS message as
 * c-ares hands it to a query callback) into *out; the status comes from
 * the message's RCODE and records. TTLs with the top bit set count as 0
 * (RFC 2181 8). No I/O; c-ares allocates and frees inside. */
void dns_a_answer_parse(const unsigned char *abuf, size_t alen, struct dns_a_answer *out);

/* dns_query_a - one A query for name as given (no search list, no
 * /etc/hosts). cb runs exactly once, never before this returns, unless
 * the query is cancelled (dns_cancel). NULL only when name is unusable
 * or there is no memory (cb is not called then). */
typedef void dns_a_fn(void *arg, const struct dns_a_answer *a);
struct dns_query *dns_query_a(struct dns *dns, const char *name, dns_a_fn *cb, void *arg);

/* dns_lookup - resolve host (name or literal) for port. ipv6 = also
 * accept AAAA results (IPv4 addresses are listed first). Returns the
 * pending query (for dns_cancel), or NULL when the callback has already
 * run (literal, /etc/hosts, immediate failure, or no memory). The
 * callback is called exactly once unless the query is cancelled. */
struct dns_query *dns_lookup(struct dns *dns, const char *host, uint16_t port, bool ipv6,
                             dns_lookup_fn *cb, void *arg);
struct dns_query *dns_reverse(struct dns *dns, const struct sockaddr *sa, dns_reverse_fn *cb,
                              void *arg);
/* dns_cancel - the callback of q will not be called; q is freed later. */
void dns_cancel(struct dns_query *q);

#endif
