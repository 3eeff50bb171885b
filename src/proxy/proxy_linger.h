/* proxy_linger - a lingering close of a client connection.
 *
 * A session that ends with its last reply queued (421 Too many errors, a
 * timeout, QUIT) while the client is still sending must not close() at
 * once: unread input at close() makes the kernel reset the connection,
 * and a reset throws away what the client has not yet read of our
 * replies, the last one included. So the write side is shut down (the
 * client sees the end after our last byte) and the read side drained,
 * bounded by PROXY_LINGER_MS and PROXY_LINGER_BYTES, before the close.
 * The connection no longer belongs to any session: the session and its
 * slot are gone; the linger is a small object of the worker's loop.
 */
#ifndef SEKISHO_PROXY_LINGER_H
#define SEKISHO_PROXY_LINGER_H

#include "lib/ev.h"

#define PROXY_LINGER_MS    2000
#define PROXY_LINGER_BYTES (1024u * 1024u)

/* proxy_linger - take fd over (it is closed within PROXY_LINGER_MS, or
 * at once when memory is short). */
void proxy_linger(struct ev_loop *loop, int fd);

#endif
