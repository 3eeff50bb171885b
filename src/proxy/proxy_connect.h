/* proxy_connect - an asynchronous connection to an upstream server.
 *
 * Resolves host (lib/dns, asynchronous), tries each address in turn with
 * a non-blocking connect, bounded by connect_timeout when set (G-12), and
 * calls back once: with the connected descriptor, or with the §8b
 * connection error message (CONN-1, CONN-2, CONN-4) that every service
 * puts in its own reply. The caller owns the descriptor it gets; the
 * connector owns nothing after the callback, and nothing at all after
 * proxy_connect_cancel.
 *
 * (The HTTP session still has its own copy of this logic, interleaved
 * with acl_to and the client-cancel check; it is to move onto this.)
 */
#ifndef SEKISHO_PROXY_CONNECT_H
#define SEKISHO_PROXY_CONNECT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/dns.h"
#include "lib/ev.h"
#include "lib/sock.h"

#define PROXY_CONNECT_ERROR_MAX 512

struct proxy_connect;

struct proxy_connect_result {
    int fd; /* connected, non-blocking; -1 on failure */
    char ip[SOCK_ADDRSTRLEN];
    uint16_t port;
    /* on failure: "CONNECT(<host>:<port>)/connect: Connection refused" ... */
    char error[PROXY_CONNECT_ERROR_MAX];
};

typedef void proxy_connect_fn(void *arg, const struct proxy_connect_result *r);

/* proxy_connect_start - cb runs exactly once (possibly before this
 * returns) unless proxy_connect_cancel is called first. timeout_s 0 = the
 * system's own connect timeout. Returns NULL when cb has already run. */
struct proxy_connect *proxy_connect_start(struct ev_loop *loop, struct dns *dns, const char *host,
                                          uint16_t port, bool ipv6, unsigned timeout_s,
                                          proxy_connect_fn *cb, void *arg);
void proxy_connect_cancel(struct proxy_connect *pc);

#endif
