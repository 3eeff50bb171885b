/* fd_pass - send and receive bytes with open descriptors attached
 * (SCM_RIGHTS over a UNIX-domain socket).
 *
 * What it does: one sendmsg of a buffer with at most one descriptor
 * attached, and one recvmsg that takes the descriptors out of what it
 * received. On a SOCK_SEQPACKET or SOCK_DGRAM socket that is one message;
 * on a SOCK_STREAM socket the bytes of one call, and Linux hands the
 * descriptors of a sendmsg to the recvmsg that returns that sendmsg's
 * first byte (so a protocol attaches a descriptor to the first byte of its
 * frame). Always: MSG_NOSIGNAL on send (a peer gone is EPIPE, not
 * SIGPIPE), MSG_CMSG_CLOEXEC on receive (no received descriptor leaks into
 * a child), EINTR retried. A receive never leaves a descriptor behind
 * unaccounted: those beyond the caller's room are closed and reported.
 *
 * What it owns: nothing. The socket is borrowed; a sent descriptor stays
 * the caller's (the kernel passes a duplicate); received descriptors
 * become the caller's to close. What it does not do: no partial-write or
 * EAGAIN handling (a stream caller keeps its own offset and retries; the
 * descriptor rode on the first call that sent a byte), no framing, no
 * polling, no logging; no SCM_CREDENTIALS.
 */
#ifndef SEKISHO_LIB_FD_PASS_H
#define SEKISHO_LIB_FD_PASS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* descriptors one receive makes room for; more in one call are closed */
#define FD_PASS_RECV_MAX 32

/* fd_pass_send - send buf[0..len) on sock, with fd attached when fd >= 0.
 * Returns the bytes sent (on a stream socket perhaps fewer than len: when
 * more than 0, fd went with them) or -1 with errno (EAGAIN on a
 * non-blocking socket that is full: nothing sent, fd not passed). */
ssize_t fd_pass_send(int sock, const void *buf, size_t len, int fd);

/* fd_pass_recv - receive into buf[0..cap) from sock (flags: 0 or
 * MSG_DONTWAIT, MSG_CMSG_CLOEXEC is added), the descriptors that came with
 * the bytes into fds[0..*nfds) (at most fdcap, in the order sent). Returns
 * the bytes received (0 at end of file; the descriptors that came with a
 * zero-length message are handed out too) or -1 with errno and *nfds = 0.
 * *overflow (may be NULL) is set when descriptors came that did not fit:
 * more than fdcap (those are closed) or than FD_PASS_RECV_MAX (the kernel
 * closed them, MSG_CTRUNC). */
ssize_t fd_pass_recv(int sock, void *buf, size_t cap, int flags, int *fds, size_t fdcap,
                     size_t *nfds, bool *overflow);

/* fd_pass_recv1 - fd_pass_recv for a protocol that passes at most one
 * descriptor with a message: *fd is the first one received or -1; any
 * others are closed. */
ssize_t fd_pass_recv1(int sock, void *buf, size_t cap, int flags, int *fd);

#endif
