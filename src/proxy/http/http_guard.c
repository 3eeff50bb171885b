/* http_guard - CONNECT ports, requests to the gateway itself, Via loops. */
#include "proxy/http/http_guard.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

bool http_guard_port_allowed(const struct config_list *ports, unsigned port)
{
    for (size_t i = 0; i < ports->count; i++) {
        struct str lo = ports->items[i], hi = STR_NULL;
        bool range = str_cut(ports->items[i], '-', &lo, &hi);
        uint64_t a, b;
        if (!str_to_u64(str_trim(lo), 65535, &a))
            continue;
        b = a;
        if (range && !str_to_u64(str_trim(hi), 65535, &b))
            continue;
        if (a <= port && port <= b)
            return true;
    }
    return false;
}

/* via_received_by - the received-by part of one Via element:
 * "1.0 host:port (comment)" -> "host:port" (RFC 9110 7.6.3). */
static struct str via_received_by(struct str elem)
{
    struct str proto, rest;
    if (!str_cut(str_trim(elem), ' ', &proto, &rest))
        return STR_NULL;
    struct str by, comment;
    str_cut(str_trim(rest), ' ', &by, &comment);
    return by;
}

bool http_guard_via_loop(struct http1_fields f, struct str received_by)
{
    if (received_by.len == 0)
        return false;
    size_t iter = 0;
    struct str v;
    while (http1_fields_find(f, "Via", &iter, &v)) {
        struct str elem, rest = v;
        /* Commas inside a comment split it too; a piece that is not an
         * element then yields a received-by that matches nothing. */
        for (;;) {
            bool more = str_cut(rest, ',', &elem, &rest);
            if (str_caseeq(via_received_by(elem), received_by))
                return true;
            if (!more)
                break;
        }
    }
    return false;
}

/* An address reduced to its family and bytes; IPv4-mapped IPv6 becomes
 * IPv4, so ::ffff:127.0.0.1 and 127.0.0.1 compare equal. */
struct plain_addr {
    int family;
    unsigned char b[16];
    unsigned port;
};

static bool plain_of(const struct sockaddr *sa, struct plain_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        out->family = AF_INET;
        memcpy(out->b, &in->sin_addr, 4);
        out->port = ntohs(in->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        out->port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            out->family = AF_INET;
            memcpy(out->b, &in6->sin6_addr.s6_addr[12], 4);
        } else {
            out->family = AF_INET6;
            memcpy(out->b, &in6->sin6_addr, 16);
        }
        return true;
    }
    return false;
}

static size_t addr_len(int family)
{
    return family == AF_INET ? 4 : 16;
}

static bool same_addr(const struct plain_addr *a, const struct plain_addr *b)
{
    return a->family == b->family && memcmp(a->b, b->b, addr_len(a->family)) == 0;
}

static bool is_unspecified(const struct plain_addr *a)
{
    static const unsigned char zero[16];
    return memcmp(a->b, zero, addr_len(a->family)) == 0;
}

/* is_loopback - 127.0.0.0/8 (every address of it is this host on Linux)
 * or ::1. */
static bool is_loopback(const struct plain_addr *a)
{
    static const unsigned char one[16] = {[15] = 1};
    if (a->family == AF_INET)
        return a->b[0] == 127;
    return memcmp(a->b, one, 16) == 0;
}

/* is_local - an address of one of this host's interfaces. */
static bool is_local(const struct plain_addr *dst)
{
    if (is_unspecified(dst) || is_loopback(dst))
        return true;
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0)
        return true; /* cannot tell: refuse rather than risk a loop */
    bool found = false;
    for (struct ifaddrs *i = list; i && !found; i = i->ifa_next) {
        struct plain_addr a;
        if (i->ifa_addr && plain_of(i->ifa_addr, &a))
            found = same_addr(&a, dst);
    }
    freeifaddrs(list);
    return found;
}

bool http_guard_is_self(const struct sockaddr *dst, const struct sockaddr *listen_addr)
{
    struct plain_addr d, l;
    if (!plain_of(dst, &d))
        return false;
    if (listen_addr == NULL || !plain_of(listen_addr, &l))
        return true;
    if (d.port != l.port)
        return false;
    if (is_unspecified(&l))
        return is_local(&d); /* a wildcard listener answers on every local address */
    return same_addr(&d, &l) || is_unspecified(&d);
}
