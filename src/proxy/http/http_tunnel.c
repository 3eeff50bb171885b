/* http_tunnel - see http_tunnel.h. */
#include "proxy/http/http_tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes moved per splice pair. Pipes are enlarged to this (F_SETPIPE_SZ)
 * when the per-user pipe allowance permits: at 1 GB/s a 64 KiB pipe costs
 * about 30000 splice calls a second, 256 KiB a quarter of that. Where the
 * kernel refuses, the pipe keeps its size and splice simply moves less. */
#define TUNNEL_CHUNK (256 * 1024)

void http_tunnel_dir_init(struct http_tunnel_dir *d)
{
    *d = (struct http_tunnel_dir){.pipe = {-1, -1}};
}

int http_tunnel_dir_open(struct http_tunnel_dir *d, bool bulk)
{
    if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    if (bulk)
        (void)fcntl(d->pipe[1], F_SETPIPE_SZ, TUNNEL_CHUNK);
    return 0;
}

void http_tunnel_dir_close(struct http_tunnel_dir *d)
{
    for (int j = 0; j < 2; j++) {
        if (d->pipe[j] >= 0)
            close(d->pipe[j]);
        d->pipe[j] = -1;
    }
}

int http_tunnel_move(struct http_tunnel_dir *d, int from, int to)
{
    int progress = 0;
    for (;;) {
        if (d->in_pipe > 0) {
            ssize_t n =
                splice(d->pipe[0], NULL, to, NULL, d->in_pipe, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
            if (n < 0)
                return (errno == EAGAIN || errno == EINTR) ? progress : -1;
            d->in_pipe -= (size_t)n;
            d->bytes += (uint64_t)n;
            progress = 1;
            continue;
        }
        if (d->eof) {
            if (!d->shut) {
                shutdown(to, SHUT_WR); /* pass the half-close on */
                d->shut = true;
            }
            return progress;
        }
        ssize_t n =
            splice(from, NULL, d->pipe[1], NULL, TUNNEL_CHUNK, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (n == 0) {
            d->eof = true;
            continue;
        }
        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? progress : -1;
        d->in_pipe = (size_t)n;
        progress = 1;
    }
}
