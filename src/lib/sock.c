/* sock - socket helpers: listening, non-blocking connect, address text. */
#include "lib/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "lib/str.h"

bool sock_parse_ip(const char *ip, uint16_t port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    if (!ip || !*ip)
        ip = "0.0.0.0";
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        *len = sizeof(*sin);
        return true;
    }
    char tmp[SOCK_ADDRSTRLEN + 2];
    size_t n = strlen(ip);
    if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']' && n - 2 < sizeof(tmp)) {
        memcpy(tmp, ip + 1, n - 2);
        tmp[n - 2] = '\0';
        ip = tmp;
    }
    if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        *len = sizeof(*sin6);
        return true;
    }
    return false;
}

int sock_listen(const char *addr, const char *iface, uint16_t port, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len;
    if (!sock_parse_ip(addr, port, &ss, &len)) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (iface && *iface &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface)) < 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0)
        goto fail;
    return fd;
fail : {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}
}

int sock_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int sock_connect_start(const struct sockaddr *sa, socklen_t len)
{
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (connect(fd, sa, len) < 0 && errno != EINPROGRESS) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

bool sock_connect_done(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    return getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
}

int sock_connect_result(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        return errno;
    return err;
}

void sock_addr_text(const struct sockaddr *sa, char *ip, size_t ipcap, uint16_t *port)
{
    if (ipcap)
        ip[0] = '\0';
    if (port)
        *port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &sin->sin_addr, ip, (socklen_t)ipcap);
        if (port)
            *port = ntohs(sin->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
            inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ip, (socklen_t)ipcap);
        else
            inet_ntop(AF_INET6, &sin6->sin6_addr, ip, (socklen_t)ipcap);
        if (port)
            *port = ntohs(sin6->sin6_port);
    }
}

int sock_local_text(int fd, char *ip, size_t ipcap, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    sock_addr_text((struct sockaddr *)&ss, ip, ipcap, port);
    return 0;
}

/* linux/netfilter_ipv4.h and linux/netfilter_ipv6/ip6_tables.h define
 * these, but pull kernel headers that clash with glibc's; both are 80. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

bool sock_original_dst(int fd, char *ip, size_t ipcap, uint16_t *port)
{
    *port = 0;
    if (ipcap)
        ip[0] = '\0';
    struct sockaddr_storage local;
    socklen_t len = sizeof(local);
    if (getsockname(fd, (struct sockaddr *)&local, &len) < 0)
        return false;
    if (local.ss_family == AF_INET6) {
        const struct sockaddr_in6 *l6 = (const void *)&local;
        if (IN6_IS_ADDR_V4MAPPED(&l6->sin6_addr)) {
            /* conntrack knows this connection as IPv4: compare in IPv4. */
            struct sockaddr_in *l4 = (struct sockaddr_in *)&local;
            struct in_addr a;
            memcpy(&a, &l6->sin6_addr.s6_addr[12], sizeof(a));
            in_port_t p = l6->sin6_port;
            memset(&local, 0, sizeof(local));
            l4->sin_family = AF_INET;
            l4->sin_port = p;
            l4->sin_addr = a;
        }
    }
    struct sockaddr_storage orig;
    memset(&orig, 0, sizeof(orig));
    len = local.ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int r = local.ss_family == AF_INET
                ? getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &orig, &len)
                : getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &orig, &len);
    if (r < 0 || orig.ss_family != local.ss_family || same_address(&orig, &local))
        return false;
    sock_addr_text((const struct sockaddr *)&orig, ip, ipcap, port);
    return *port != 0;
}

int sock_peer_text(int fd, char *ip, size_t ipcap, uint16_t *port)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    sock_addr_text((struct sockaddr *)&ss, ip, ipcap, port);
    return 0;
}
