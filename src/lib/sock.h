/* sock - socket helpers: listening, non-blocking connect, address text.
 *
 * Thin wrappers over the BSD socket calls with the options Sekisho always
 * wants (CLOEXEC, NONBLOCK, REUSEADDR). Syscall-like: 0 / fd, or -1 with
 * errno. Owns nothing; callers close what they get.
 */
#ifndef SEKISHO_LIB_SOCK_H
#define SEKISHO_LIB_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SOCK_ADDRSTRLEN 46 /* INET6_ADDRSTRLEN */

/* sock_listen - bind and listen on addr (IPv4 or IPv6 literal, or NULL/""
 * for every IPv4 address) port, optionally bound to the network interface
 * iface (SO_BINDTODEVICE; NULL/"" for none). Non-blocking, CLOEXEC. */
int sock_listen(const char *addr, const char *iface, uint16_t port, int backlog);

/* sock_connect_start - non-blocking connect; returns the fd with the
 * connection in progress (or complete). The caller waits for writability
 * and then calls sock_connect_result. */
int sock_connect_start(const struct sockaddr *sa, socklen_t len);
/* sock_connect_result - 0 when the pending connect succeeded, else the errno. */
int sock_connect_result(int fd);
/* sock_connect_done - true when the connect sock_connect_start began has
 * already completed (a loopback or a very near peer answers within the
 * connect call): the socket has a peer. False also when it failed: the
 * caller then waits for writability and asks sock_connect_result. */
bool sock_connect_done(int fd);

int sock_set_nonblock(int fd);

/* sock_addr_text - "1.2.3.4" / "::1" and port of a socket address. */
void sock_addr_text(const struct sockaddr *sa, char *ip, size_t ipcap, uint16_t *port);
/* sock_local_text / sock_peer_text - the same for getsockname/getpeername. */
int sock_local_text(int fd, char *ip, size_t ipcap, uint16_t *port);
int sock_peer_text(int fd, char *ip, size_t ipcap, uint16_t *port);

/* sock_original_dst - the destination a NAT REDIRECT rewrote for the
 * accepted connection fd (netfilter's SO_ORIGINAL_DST, IP6T_SO_ORIGINAL_DST
 * for IPv6; an IPv4 client on a dual-stack socket is asked in IPv4), as
 * text and port. False when the connection was not redirected: no
 * conntrack entry, or an original destination that is the socket's own
 * address (the client came to the port directly); *port is then 0. */
bool sock_original_dst(int fd, char *ip, size_t ipcap, uint16_t *port);

/* sock_parse_ip - parse an IPv4/IPv6 literal with port into *ss. */
bool sock_parse_ip(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len);

#endif
