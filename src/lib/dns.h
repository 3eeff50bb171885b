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
