/* dbu_proxy_probe - see dbu_proxy_probe.h. */
#include "tools/dbupdate/dbu_proxy_probe.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/sock.h"
#include "proto/base64_strict.h"

#define DBU_PROBE_REPLY_MAX 512
#define DBU_CRED_TEXT_MAX   (2 * 256 + 2)

/* url_authority - "host:port" of an http(s) URL (port from the scheme
 * when none is written). */
static int url_authority(const char *url, char *out, size_t cap)
{
    unsigned def = 80;
    const char *p = url;
    if (strncmp(p, "http://", 7) == 0) {
        p += 7;
    } else if (strncmp(p, "https://", 8) == 0) {
        p += 8;
        def = 443;
    } else {
        return -1;
    }
    size_t len = strcspn(p, "/?#");
    if (len == 0 || len >= cap)
        return -1;
    const char *close = p[0] == '[' ? memchr(p, ']', len) : NULL;
    const char *colon = memchr(close ? close : p, ':', len - (size_t)((close ? close : p) - p));
    if (colon)
        return (size_t)snprintf(out, cap, "%.*s", (int)len, p) < cap ? 0 : -1;
    return (size_t)snprintf(out, cap, "%.*s:%u", (int)len, p, def) < cap ? 0 : -1;
}

static int connect_timed(const char *host, unsigned port, unsigned timeout_s, char *why, size_t cap)
{
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(why, cap, "%s", gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = sock_connect_start(ai->ai_addr, ai->ai_addrlen);
        if (fd < 0)
            continue;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int ready = poll(&pfd, 1, (int)timeout_s * 1000);
        int e = ready == 1 ? sock_connect_result(fd) : ETIMEDOUT;
        if (e != 0) {
            snprintf(why, cap, "%s", strerror(e));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

void dbu_proxy_probe(const char *proxy_host, unsigned proxy_port, const char *user,
                     const char *pass, const char *url, unsigned timeout_s, char *out, size_t cap)
{
    char target[300], why[256] = "no address";
    if (url_authority(url, target, sizeof(target)) != 0) {
        snprintf(out, cap, "the proxy %s:%u was not asked (%s is not an http URL)", proxy_host,
                 proxy_port, url);
        return;
    }
    int fd = connect_timed(proxy_host, proxy_port, timeout_s, why, sizeof(why));
    if (fd < 0) {
        snprintf(out, cap, "the proxy %s:%u cannot be reached: %s", proxy_host, proxy_port, why);
        return;
    }
    char req[1200], auth[800] = "";
    if (user) {
        char cred[DBU_CRED_TEXT_MAX], b64[700];
        size_t n = (size_t)snprintf(cred, sizeof(cred), "%s:%s", user, pass ? pass : "");
        size_t blen;
        if (n < sizeof(cred) &&
            base64_strict_encode((const unsigned char *)cred, n, b64, sizeof(b64), &blen))
            snprintf(auth, sizeof(auth), "Proxy-Authorization: Basic %.*s\r\n", (int)blen, b64);
    }
    int len = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", target,
                       target, auth);
    char reply[DBU_PROBE_REPLY_MAX + 1] = "";
    size_t got = 0;
    if (len > 0 && (size_t)len < sizeof(req) && write(fd, req, (size_t)len) == len) {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (got < DBU_PROBE_REPLY_MAX && !memchr(reply, '\n', got)) {
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (poll(&pfd, 1, (int)timeout_s * 1000) != 1)
                break;
            ssize_t r = read(fd, reply + got, DBU_PROBE_REPLY_MAX - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
    }
    close(fd);
    size_t line = 0;
    while (line < got && reply[line] != '\r' && reply[line] != '\n' &&
           (unsigned char)reply[line] >= 0x20 && reply[line] != 0x7f)
        line++;
    if (line == 0)
        snprintf(out, cap, "the proxy %s:%u gave no answer to CONNECT %s", proxy_host, proxy_port,
                 target);
    else
        snprintf(out, cap, "the proxy %s:%u answered %.*s", proxy_host, proxy_port, (int)line,
                 reply);
}
