/* proxy_splice - one direction of an unscanned relay: bytes move
 * socket -> pipe -> socket with splice(2), so relayed data is never
 * copied through user space. HTTP's CONNECT tunnels (HTTP-17) and the FTP
 * proxy's unscanned data connections (listings, skipped files) use it.
 *
 * Owns its pipe (closed by proxy_splice_dir_close); the sockets are the
 * session's. Nothing blocks: every splice is SPLICE_F_NONBLOCK, and a
 * would-block ends a move until the session's next readiness event.
 */
#ifndef SEKISHO_PROXY_SPLICE_H
#define SEKISHO_PROXY_SPLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pipefuls moved per proxy_splice_move call. */
#define PROXY_SPLICE_ROUNDS 16

struct proxy_splice_dir {
    int pipe[2];
    size_t in_pipe; /* bytes spliced into the pipe, not yet out */
    bool eof;       /* the source has closed its side */
    bool shut;      /* the destination's write side is shut down */
    uint64_t bytes; /* bytes delivered to the destination */
};

/* proxy_splice_dir_init - no pipe yet (safe to close). */
void proxy_splice_dir_init(struct proxy_splice_dir *d);

/* proxy_splice_dir_open - a new direction (counters and flags reset, an
 * earlier pipe closed), with its pipe; bulk = enlarge it for the
 * direction that carries most bytes. -1 with errno on failure. */
int proxy_splice_dir_open(struct proxy_splice_dir *d, bool bulk);

void proxy_splice_dir_close(struct proxy_splice_dir *d);

/* proxy_splice_move - move bytes from -> pipe -> to, at most
 * PROXY_SPLICE_ROUNDS pipefuls per call (a fast pair must not hold the
 * worker: level-triggered readiness brings the caller back); the
 * source's EOF is passed on as a half-close. Returns 1 on progress, 0
 * when blocked, -1 when the relay must end (error). */
int proxy_splice_move(struct proxy_splice_dir *d, int from, int to);

#endif
