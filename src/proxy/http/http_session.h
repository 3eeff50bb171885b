/* http_session - one client connection of the HTTP proxy.
 *
 * The state machine of an HTTP proxy session: read and validate the
 * request (HTTP-4), check access (acl_from, acl_to), resolve and connect
 * (or use the parent server), forward the rewritten request (HTTP-7),
 * read the response (HTTP-8), and then either spool the body, have it
 * scanned by sekisho-scand and deliver it, the detection page or an
 * error, or relay it as it arrives. Logs one access-log line per request.
 * Owns both sockets, its buffers, the spool file and its timers.
 */
#ifndef SEKISHO_PROXY_HTTP_SESSION_H
#define SEKISHO_PROXY_HTTP_SESSION_H

#include "proxy/proxy_worker.h"

extern const struct proxy_proto http_proto;

#endif
