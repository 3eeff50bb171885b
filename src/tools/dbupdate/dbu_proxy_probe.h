/* dbu_proxy_probe - what a proxy answers, after a download through it failed.
 *
 * libfreshclam tunnels through the proxy (CONNECT) and, when the proxy
 * refuses the tunnel, reports only curl's "Failure when receiving data
 * from the peer". To tell the administrator that the proxy refused, and
 * how (407: the proxy wants other credentials; 403: it does not allow the
 * destination), dbupdate asks the proxy the same CONNECT with the same
 * credentials and reports the status line. Blocking, bounded by the
 * connection timeout; only run after a failure, in the update process.
 */
#ifndef SEKISHO_TOOLS_DBU_PROXY_PROBE_H
#define SEKISHO_TOOLS_DBU_PROXY_PROBE_H

#include <stddef.h>

/* dbu_proxy_probe - CONNECT to the host:port of url through proxy
 * host:port (user may be NULL), within timeout_s; out gets "the proxy
 * H:P answered <status line>" or "the proxy H:P: <why it could not be
 * asked>". */
void dbu_proxy_probe(const char *proxy_host, unsigned proxy_port, const char *user,
                     const char *pass, const char *url, unsigned timeout_s, char *out, size_t cap);

#endif
