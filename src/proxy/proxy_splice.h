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

/* Pipe sizes a direction asks for (F_SETPIPE_SZ; where the per-user pipe
 * allowance refuses, the pipe keeps the kernel's 64 KiB and splice simply
 * moves less per call). At 1 GB/s a 64 KiB pipe costs about 30000 splice
 * pairs a second, 256 KiB a quarter of that. A CONNECT tunnel's download
 * side takes 256 KiB (a busy proxy holds hundreds of tunnels: the
 * allowance, 64 MiB per user by default, is shared); an FTP data
 * connection moves whole files, few at a time (pre_spawn 10), and takes
 * 1 MiB (bench/ftp.sh: 100 MB RETR 1.39 -> 1.80 GB/s on loopback). */
enum proxy_splice_pipe {
    PROXY_SPLICE_PIPE_SMALL = 0,          /* the kernel's default */
    PROXY_SPLICE_PIPE_BULK = 256 * 1024,  /* a tunnel's bulk direction */
    PROXY_SPLICE_PIPE_FILE = 1024 * 1024, /* a file transfer */
};

struct proxy_splice_dir {
    int pipe[2];
    size_t in_pipe; /* bytes spliced into the pipe, not yet out */
    size_t chunk;   /* bytes asked of one splice into the pipe */
    bool eof;       /* the source has closed its side */
    bool shut;      /* the destination's write side is shut down */
    uint64_t bytes; /* bytes delivered to the destination */
};

/* proxy_splice_dir_init - no pipe yet (safe to close). */
void proxy_splice_dir_init(struct proxy_splice_dir *d);

/* proxy_splice_dir_open - a new direction (counters and flags reset, an
 * earlier pipe closed), with its pipe of the size asked for (see above).
 * -1 with errno on failure. */
int proxy_splice_dir_open(struct proxy_splice_dir *d, enum proxy_splice_pipe size);

void proxy_splice_dir_close(struct proxy_splice_dir *d);

/* proxy_splice_move - move bytes from -> pipe -> to, at most
 * PROXY_SPLICE_ROUNDS pipefuls per call (a fast pair must not hold the
 * worker: level-triggered readiness brings the caller back); the
 * source's EOF is passed on as a half-close. Returns 1 on progress, 0
 * when blocked, -1 when the relay must end (error). */
int proxy_splice_move(struct proxy_splice_dir *d, int from, int to);

#endif
