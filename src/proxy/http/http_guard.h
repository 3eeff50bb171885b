/* http_guard - refusals that keep the HTTP proxy from being turned against
 * itself or against what sits behind it (issue 10 items 5 and 6).
 *
 *   - CONNECT only to the ports of connect_ports (as Squid's SSL_ports):
 *     a tunnel to the parent MTA's port made the gateway an open relay.
 *   - No request and no tunnel to the gateway's own listener: nested
 *     CONNECTs to itself once filled every session slot.
 *   - No request whose Via already names this gateway: a loop through
 *     another proxy (or a parent pointing back) ends at the first turn.
 *
 * The decisions are pure except http_guard_is_self(), which asks the
 * kernel, for a wildcard listener, for the host's interface addresses
 * (getifaddrs: a netlink query answered at once, no network wait), and
 * only when the destination port is the listener's. Owns nothing.
 */
#ifndef SEKISHO_PROXY_HTTP_GUARD_H
#define SEKISHO_PROXY_HTTP_GUARD_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/config.h"
#include "lib/str.h"
#include "proto/http1_parse.h"

/* http_guard_port_allowed - port is one of the list's items: a port
 * ("443") or an inclusive range ("8000-8999"). Items that are neither
 * match nothing (a typo closes, never opens). */
bool http_guard_port_allowed(const struct config_list *ports, unsigned port);

/* http_guard_via_loop - a Via element of the request was added by a proxy
 * that calls itself received_by ("<hostname>:<port>", what this gateway
 * writes in its own Via, http1_rewrite). */
bool http_guard_via_loop(struct http1_fields f, struct str received_by);

/* http_guard_is_self - dst (an address about to be connected) reaches the
 * listener whose address is listen_addr (its getsockname, read once by
 * the worker): same port, and the same address, or any address of this
 * host when the listener is bound to the wildcard. The unspecified
 * address (0.0.0.0, ::) counts as this host. Fails closed: true when
 * listen_addr is NULL (the listener's address could not be read). */
bool http_guard_is_self(const struct sockaddr *dst, const struct sockaddr *listen_addr);

#endif
