/* ftp_data - the data connections of the FTP proxy (FTP-6, FTP-7,
 * FTP-8.2/8.3, FTP-10, C-26).
 *
 * Both sides of a data connection end at the proxy: in passive mode the
 * client connects to a listening socket of the proxy (on the address the
 * client reached the proxy at) and the proxy connects to the server's
 * passive port; in active mode the server connects to a listening socket
 * of the proxy (on the address the proxy reaches the server from) and the
 * proxy connects to the client's PORT address. The two sides need not
 * speak the same family: a client on ::1 with EPSV is served by a PASV to
 * a server on 127.0.0.1, and the reverse.
 *
 * Bounce and theft protection (RFC 2577):
 *   - a PORT or EPRT must name the client's own address, and a port from
 *     1024 (the proxy connects to what it names: anything else would make
 *     the proxy attack a third party, or a service of the client's host);
 *   - a data connection to a passive listener must come from the control
 *     connection's client address, else it is closed and the transfer
 *     answered "530 Invalid Connection Source." (FTP-8.2);
 *   - the server's data connection in active mode must come from the
 *     server's address;
 *   - the address in a server's 227 is not used: the proxy connects to
 *     the address of the server's control connection with the 227's port
 *     (as curl does by default), so a server cannot aim the proxy
 *     elsewhere.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/sock.h"
#include "proxy/ftp/ftp_internal.h"

/* ---- sockets ------------------------------------------------------------------ */

static void data_io(struct ev_loop *loop, struct ev_io *io, uint32_t events);

void ftp_sock_init(struct ftp_sock *k)
{
    *k = (struct ftp_sock){.fd = -1};
}

void ftp_sock_close(struct ftp_session *s, struct ftp_sock *k)
{
    if (k->fd >= 0) {
        ev_io_stop(s->ps.w->loop, &k->io);
        close(k->fd);
    }
    ftp_sock_init(k);
}

static void sock_adopt(struct ftp_session *s, struct ftp_sock *k, int fd)
{
    ftp_sock_init(k);
    k->fd = fd;
    ev_io_init(&k->io, fd, data_io, s);
}

void ftp_sock_move(struct ftp_session *s, struct ftp_sock *from, struct ftp_sock *to)
{
    int fd = from->fd;
    if (fd >= 0)
        ev_io_stop(s->ps.w->loop, &from->io);
    ftp_sock_init(from);
    ftp_sock_close(s, to);
    if (fd >= 0)
        sock_adopt(s, to, fd);
}

void ftp_sock_watch(struct ftp_session *s, struct ftp_sock *k, uint32_t events)
{
    if (k->fd >= 0 && !s->ps.closed)
        ev_io_set(s->ps.w->loop, &k->io, events);
}

/* addr_of - the address of sa as an ftp_addr, IPv4-mapped IPv6 as IPv4. */
static bool addr_of(const struct sockaddr_storage *sa, struct ftp_addr *a)
{
    *a = (struct ftp_addr){0};
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        memcpy(a->ip, &in->sin_addr, 4);
        a->port = ntohs(in->sin_port);
        return true;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        a->port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            memcpy(a->ip, &in6->sin6_addr.s6_addr[12], 4);
            return true;
        }
        a->ipv6 = true;
        memcpy(a->ip, &in6->sin6_addr, 16);
        return true;
    }
    return false;
}

static bool same_host(const struct ftp_addr *a, const struct ftp_addr *b)
{
    return a->ipv6 == b->ipv6 && memcmp(a->ip, b->ip, a->ipv6 ? 16 : 4) == 0;
}

/* sockaddr_of - a connectable address of a. */
static socklen_t sockaddr_of(const struct ftp_addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->ipv6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, a->ip, 16);
        in6->sin6_port = htons(a->port);
        return sizeof(*in6);
    }
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    in->sin_family = AF_INET;
    memcpy(&in->sin_addr, a->ip, 4);
    in->sin_port = htons(a->port);
    return sizeof(*in);
}

/* local_of - the local end of a socket. */
static bool local_of(int fd, struct ftp_addr *a)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    return getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && addr_of(&ss, a);
}

bool ftp_listen_like(struct ftp_session *s, struct ftp_sock *k, int fd, struct ftp_addr *addr)
{
    ftp_sock_close(s, k);
    struct ftp_addr local;
    if (!local_of(fd, &local))
        return false;
    local.port = 0;
    struct sockaddr_storage ss;
    (void)sockaddr_of(&local, &ss);
    char ip[SOCK_ADDRSTRLEN];
    uint16_t port;
    sock_addr_text((const struct sockaddr *)&ss, ip, sizeof(ip), &port);
    int lfd = sock_listen(ip, NULL, 0, 1);
    if (lfd < 0) {
        svclog_error_errno(&s->ps.log, errno, "ftp: cannot listen for a data connection on [%s]",
                           ip);
        return false;
    }
    sock_adopt(s, k, lfd);
    if (!local_of(lfd, addr)) {
        ftp_sock_close(s, k);
        return false;
    }
    return true;
}

int ftp_accept_from(struct ftp_session *s, struct ftp_sock *l, const char *ip, struct ftp_sock *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return 0; /* EAGAIN, or a connection reset before it was taken */
    struct ftp_addr from, want;
    struct sockaddr_storage wss;
    socklen_t wlen;
    char from_ip[SOCK_ADDRSTRLEN];
    uint16_t from_port;
    sock_addr_text((const struct sockaddr *)&ss, from_ip, sizeof(from_ip), &from_port);
    if (!addr_of(&ss, &from) || !sock_parse_ip(ip, 0, &wss, &wlen) || !addr_of(&wss, &want) ||
        !same_host(&from, &want)) {
        svclog_info(&s->ps.log,
                    "ftp: data connection from [%s:%u] refused: only [%s] may connect there",
                    from_ip, from_port, ip);
        close(fd);
        return -1;
    }
    sock_adopt(s, out, fd);
    /* One data connection per PASV/PORT: nobody else gets in. */
    ftp_sock_close(s, l);
    return 1;
}

bool ftp_connect_from(struct ftp_session *s, struct ftp_sock *k, const struct sockaddr_storage *sa,
                      socklen_t len, int like_fd)
{
    ftp_sock_close(s, k);
    struct ftp_addr local;
    int fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    /* From the address the peer knows the proxy by (FTP-10). */
    if (local_of(like_fd, &local)) {
        struct ftp_addr want;
        if (addr_of(sa, &want) && want.ipv6 == local.ipv6) {
            local.port = 0;
            struct sockaddr_storage lss;
            socklen_t llen = sockaddr_of(&local, &lss);
            (void)bind(fd, (const struct sockaddr *)&lss, llen);
        }
    }
    if (connect(fd, (const struct sockaddr *)sa, len) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return false;
    }
    sock_adopt(s, k, fd);
    k->connecting = true;
    return true;
}

void ftp_mode_reset(struct ftp_session *s)
{
    s->mode = FTP_DM_NONE;
    s->bad_source = false;
    ftp_sock_close(s, &s->listen_client);
    ftp_sock_close(s, &s->listen_server);
    ftp_sock_close(s, &s->early_cdata);
}

void ftp_data_close_all(struct ftp_session *s)
{
    ftp_mode_reset(s);
    ftp_sock_close(s, &s->x.cdata);
    ftp_sock_close(s, &s->x.sdata);
}

/* ---- events ---------------------------------------------------------------------- */

void ftp_data_event(struct ftp_session *s, struct ftp_sock *k, uint32_t events)
{
    if (s->state == FTP_ST_XFER) {
        ftp_xfer_event(s, k, events);
        return;
    }
    if (k == &s->listen_client) {
        /* A passive client connects at once after the 227/229, before
         * its RETR: taken now, source checked (FTP-8.2). */
        int r = ftp_accept_from(s, k, s->ps.client.ip, &s->early_cdata);
        if (r < 0) {
            s->bad_source = true;
            ftp_sock_close(s, &s->listen_client);
        }
        return;
    }
    /* Anything else between transfers (the client closed an early data
     * connection): it is looked at when a transfer takes it. */
    ftp_sock_watch(s, k, 0);
}

static void data_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop;
    struct ftp_session *s = io->data;
    struct ftp_sock *k = (struct ftp_sock *)((char *)io - offsetof(struct ftp_sock, io));
    proxy_session_enter(&s->ps);
    if (!proxy_session_done(&s->ps))
        ftp_data_event(s, k, events);
    proxy_session_leave(&s->ps);
}

/* ---- PASV and EPSV (FTP-6) ------------------------------------------------------ */

static bool is_ipv6_text(const char *ip)
{
    return strchr(ip, ':') != NULL;
}

/* client_is_ipv6 - the client reached the proxy over IPv6 (not mapped). */
static bool client_is_ipv6(const struct ftp_session *s)
{
    struct ftp_addr a;
    return addr_of(&s->ps.peer, &a) && a.ipv6;
}

/* on_server_passive - the server's 227 or 229: its data port; then the
 * proxy's own listener for the client and the proxy's reply. */
static void on_server_passive(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    uint16_t port = 0;
    uint8_t ip4[4];
    enum ftp_reply_result pr = FTP_REPLY_INVALID;
    if (r->code == 227)
        pr = ftp_reply_parse_pasv(str_make(r->text, r->text_len), ip4, &port);
    else if (r->code == 229)
        pr = ftp_reply_parse_epsv(str_make(r->text, r->text_len), &port);
    else if (r->code < 200) {
        s->on_reply = on_server_passive;
        return;
    } else {
        ftp_relay_raw(s, raw); /* the server refused: the client hears why */
        ftp_finish_command(s);
        return;
    }
    struct ftp_addr a;
    if (pr != FTP_REPLY_DONE ||
        !sock_parse_ip(s->ps.server.ip, port, &s->server_data, &s->server_data_len)) {
        svclog_error(&s->ps.log, "ftp: unusable passive reply of the server (%s:%u): %03d %s",
                     s->ps.server.host, s->ps.server.port, r->code, r->text);
        ftp_reply(s, 425, "Can't open data connection.");
        ftp_finish_command(s);
        return;
    }
    if (!ftp_listen_like(s, &s->listen_client, s->ps.client.fd, &a)) {
        ftp_reply(s, 425, "Can't open data connection.");
        ftp_finish_command(s);
        return;
    }
    s->mode = FTP_DM_PASSIVE;
    ftp_sock_watch(s, &s->listen_client, EV_READ);
    bool ok = s->client_extended ? ftp_epsv_reply_format(&s->ps.client.out, a.port)
                                 : ftp_pasv_reply_format(&s->ps.client.out, &a);
    if (!ok)
        proxy_session_abort(&s->ps);
    ftp_finish_command(s);
}

/* epsv_unreachable - TP-1: a redirected client that takes an EPSV reply
 * connects to the port on the server it was going to, where no NAT rule
 * brings it to this proxy; a 227 names this proxy's own address instead
 * (003:4937, "the destination address from the client ... the address of
 * the product"). A 5xx to EPSV sends clients to PASV (RFC 2428 3). Only
 * a client whose server address is this proxy's own can use EPSV. */
static bool epsv_unreachable(const struct ftp_session *s)
{
    struct ftp_addr local, orig;
    struct sockaddr_storage ss;
    socklen_t len;
    if (!proxy_session_redirected(&s->ps))
        return false;
    return !local_of(s->ps.client.fd, &local) || !sock_parse_ip(s->ps.orig_ip, 0, &ss, &len) ||
           !addr_of(&ss, &orig) || !same_host(&local, &orig);
}

void ftp_cmd_pasv(struct proxy_session *ps, struct str line, struct str cmd_arg)
{
    (void)line;
    struct ftp_session *s = (struct ftp_session *)ps;
    bool epsv = s->verb == FTP_V_EPSV;
    if (epsv && epsv_unreachable(s)) {
        ftp_reply(s, 502, "EPSV is not available through the transparent proxy: use PASV.");
        return;
    }
    if (!epsv && s->epsv_all) {
        ftp_reply(s, 500, "EPSV ALL in effect: use EPSV.");
        return;
    }
    if (epsv) {
        switch (ftp_epsv_arg_parse(ftp_arg_trim(cmd_arg))) {
        case FTP_EPSV_ALL:
            s->epsv_all = true;
            ftp_reply(s, 200, "EPSV ALL ok.");
            return;
        case FTP_EPSV_BAD:
            ftp_reply(s, 501, "Syntax error in EPSV argument.");
            return;
        case FTP_EPSV_V4:
            if (client_is_ipv6(s)) {
                ftp_reply(s, 522, "Network protocol not supported, use (2)");
                return;
            }
            break;
        case FTP_EPSV_V6:
            if (!client_is_ipv6(s)) {
                ftp_reply(s, 522, "Network protocol not supported, use (1)");
                return;
            }
            break;
        default:
            break;
        }
    } else if (client_is_ipv6(s)) {
        /* A 227 carries an IPv4 address only (RFC 2428 1). */
        ftp_reply(s, 425, "PASV is not possible over IPv6: use EPSV.");
        return;
    }
    ftp_mode_reset(s);
    s->client_extended = epsv;
    /* The server side in its own family: PASV (FTP-6) to an IPv4 server,
     * EPSV to an IPv6 one. */
    bool v6 = is_ipv6_text(ps->server.ip);
    if (ftp_up(s, v6 ? "EPSV" : "PASV", 4, on_server_passive)) {
        s->dlg.busy = true;
        s->state = FTP_ST_REPLY;
    }
}

/* ---- PORT and EPRT (FTP-7, C-26) --------------------------------------------------- */

static void on_server_port(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    if (r->code < 200) {
        s->on_reply = on_server_port;
        return;
    }
    ftp_relay_raw(s, raw); /* FTP-7: the server's reply to the proxy's PORT */
    if (r->code < 300)
        s->mode = FTP_DM_ACTIVE;
    else
        ftp_sock_close(s, &s->listen_server);
    ftp_finish_command(s);
}

void ftp_cmd_port(struct proxy_session *ps, struct str line, struct str cmd_arg)
{
    (void)line;
    struct ftp_session *s = (struct ftp_session *)ps;
    bool eprt = s->verb == FTP_V_EPRT;
    if (s->epsv_all) {
        ftp_reply(s, 500, "EPSV ALL in effect: use EPSV.");
        return;
    }
    struct ftp_addr want;
    struct str arg = ftp_arg_trim(cmd_arg);
    if (!(eprt ? ftp_eprt_parse(arg, &want) : ftp_port_parse(arg, &want))) {
        ftp_reply(s, 501, "Syntax error in %s argument.", eprt ? "EPRT" : "PORT");
        return;
    }
    struct ftp_addr client;
    if (!addr_of(&s->ps.peer, &client))
        client = (struct ftp_addr){0};
    if (want.ipv6 != client.ipv6) {
        ftp_reply(s, 522, "Network protocol not supported, use (%d)", client.ipv6 ? 2 : 1);
        return;
    }
    if (!same_host(&want, &client) || want.port < 1024) {
        svclog_info(&s->ps.log,
                    "ftp: %s to [%.*s] refused: a data address must be the client's "
                    "own, with a port from 1024",
                    eprt ? "EPRT" : "PORT", (int)arg.len, arg.ptr);
        ftp_reply(s, 500, "Illegal %s command.", eprt ? "EPRT" : "PORT");
        return;
    }
    ftp_mode_reset(s);
    s->client_data_len = sockaddr_of(&want, &s->client_data);
    struct ftp_addr mine;
    if (!ftp_listen_like(s, &s->listen_server, ps->server.fd, &mine)) {
        ftp_reply(s, 425, "Can't open data connection.");
        return;
    }
    /* C-26: the proxy's own address and port go to the server, as PORT
     * to an IPv4 server and EPRT to an IPv6 one. */
    char cmd[FTP_EPRT_MAX + 8];
    struct buf b;
    buf_init(&b, cmd, sizeof(cmd));
    bool ok = mine.ipv6 ? buf_append_cstr(&b, "EPRT ") && ftp_eprt_format(&b, &mine)
                        : buf_append_cstr(&b, "PORT ") && ftp_port_format(&b, &mine);
    if (!ok) {
        ftp_sock_close(s, &s->listen_server);
        ftp_reply(s, 425, "Can't open data connection.");
        return;
    }
    if (ftp_up(s, buf_rptr(&b), buf_len(&b), on_server_port)) {
        s->dlg.busy = true;
        s->state = FTP_ST_REPLY;
    }
}
