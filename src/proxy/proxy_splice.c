/* proxy_splice - see proxy_splice.h. */
#include "proxy/proxy_splice.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Bytes asked of one splice into a pipe of the kernel's default size. */
#define SPLICE_CHUNK_DEFAULT (64 * 1024)

void proxy_splice_dir_init(struct proxy_splice_dir *d)
{
    *d = (struct proxy_splice_dir){.pipe = {-1, -1}};
}

int proxy_splice_dir_open(struct proxy_splice_dir *d, enum proxy_splice_pipe size)
{
    /* A fresh direction: an FTP session opens one per transfer. */
    proxy_splice_dir_close(d);
    proxy_splice_dir_init(d);
    if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    d->chunk = SPLICE_CHUNK_DEFAULT;
    if (size != PROXY_SPLICE_PIPE_SMALL) {
        int got = fcntl(d->pipe[1], F_SETPIPE_SZ, (int)size);
        if (got > 0)
            d->chunk = (size_t)got;
    }
    return 0;
}

void proxy_splice_dir_close(struct proxy_splice_dir *d)
{
    for (int j = 0; j < 2; j++) {
        if (d->pipe[j] >= 0)
            close(d->pipe[j]);
        d->pipe[j] = -1;
    }
}

int proxy_splice_move(struct proxy_splice_dir *d, int from, int to)
{
    int progress = 0;
    for (int round = 0; round < 2 * PROXY_SPLICE_ROUNDS; round++) {
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
            splice(from, NULL, d->pipe[1], NULL, d->chunk, SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
        if (n == 0) {
            d->eof = true;
            continue;
        }
        if (n < 0)
            return (errno == EAGAIN || errno == EINTR) ? progress : -1;
        d->in_pipe = (size_t)n;
        progress = 1;
    }
    return progress;
}
