/* http_tunnel - one direction of a CONNECT tunnel (HTTP-17): bytes move
 * socket -> pipe -> socket with splice(2), so tunnelled data is never
 * copied through user space.
 *
 * Owns its pipe (closed by http_tunnel_dir_close); the sockets are the
 * session's. Nothing blocks: every splice is SPLICE_F_NONBLOCK, and a
 * would-block ends a move until the session's next readiness event.
 */
#ifndef SEKISHO_PROXY_HTTP_TUNNEL_H
#define SEKISHO_PROXY_HTTP_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_tunnel_dir {
    int pipe[2];
    size_t in_pipe; /* bytes spliced into the pipe, not yet out */
    bool eof;       /* the source has closed its side */
    bool shut;      /* the destination's write side is shut down */
    uint64_t bytes; /* bytes delivered to the destination */
};

/* http_tunnel_dir_init - no pipe yet (safe to close). */
void http_tunnel_dir_init(struct http_tunnel_dir *d);

/* http_tunnel_dir_open - create the pipe; bulk = enlarge it for the
 * direction that carries most bytes. -1 with errno on failure. */
int http_tunnel_dir_open(struct http_tunnel_dir *d, bool bulk);

void http_tunnel_dir_close(struct http_tunnel_dir *d);

/* http_tunnel_move - move bytes from -> pipe -> to; the source's EOF is
 * passed on as a half-close. Returns 1 on progress, 0 when blocked, -1
 * when the tunnel must end (error). */
int http_tunnel_move(struct http_tunnel_dir *d, int from, int to);

#endif
