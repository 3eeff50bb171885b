/* ftpload - FTP transfer timer for bench/ftp.sh (not built by the Makefile).
 *
 *   cc -O2 -Wall -Wextra -o ftpload bench/ftpload.c
 *   ftpload -p PORT [-H 127.0.0.1] [-u USER] [-P PASSWORD] -x retr|stor [-a]
 *           [-s BYTES] [-r REMOTE_DIR] [-l LOCAL_DIR] [-T IO_TIMEOUT] NAME...
 *   ftpload -G BYTES FILE...
 *
 * One FTP control session to HOST:PORT (greeting 220, USER, PASS when the
 * server asks for it with 331, 230), then one transfer per NAME, one after
 * the other, then QUIT:
 *   -x retr   RETR REMOTE_DIR/NAME; the bytes are read and thrown away (one
 *             recv into a 256 KiB buffer at a time), counted, and with -s
 *             the count must be BYTES;
 *   -x stor   STOR REMOTE_DIR/NAME of the file LOCAL_DIR/NAME, sent with
 *             sendfile(2) once the server's 1xx is in, the data connection
 *             closed at its end (the end of the file in stream mode).
 * Passive by default (PASV, then a data connection to the address of the
 * 227); -a: active (a listening socket on the control connection's local
 * address, PORT naming it, the server's data connection accepted after the
 * 1xx). Every socket operation is bounded by IO_TIMEOUT (default 120 s)
 * and the whole run by alarm().
 *
 * A transfer is timed from sending PASV (or PORT) to the final reply of
 * RETR/STOR: the data connection, the transfer and, through a scanning
 * proxy, the scan, all that a client waits for per file. It counts when
 * the 1xx came, the bytes moved (and matched -s), and the final reply was
 * 2xx. Output, one line each:
 *   FTPXFER name=... cmd=RETR|STOR mode=pasv|port bytes=N secs=S mb_per_s=M
 *       reply=226 cpu_s=C   (mb = 10^6 bytes; cpu_s: this program's CPU
 *       time, user+system, over the timed part)
 *   FTPFAIL name=... stage=PASV|PORT|data|RETR|STOR|transfer|final what=...
 *       reply="..."   the transfer failed (the session is ended: the rest
 *       of the names are not tried)
 *   FTPLOAD transfers=N ok=K failed=F cpu_s=C   at the end; cpu_s is this
 *       program's CPU time for the whole run (start and login included).
 * Exit status 0 when every transfer counted, 1 when one failed, 2 on bad
 * usage or when the session could not be set up.
 *
 * -G BYTES FILE...: writes each FILE with BYTES pseudo-random bytes
 * (xoshiro256** seeded from getrandom(2) per file), mode 0644: distinct
 * contents, so no verdict cache and no clean-file cache of the scanner can
 * know one, and incompressible.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define FL_LINE_MAX    1024
#define FL_REPLY_LINES 200
#define FL_DATA_BUF    (256 * 1024)
#define FL_GEN_BUF     (1024 * 1024)
#define FL_PATH_MAX    4096

struct fl_opts {
    struct sockaddr_in addr;
    const char *user;
    const char *pass;
    const char *remote_dir;
    const char *local_dir;
    bool stor;
    bool active;
    long long expect;
    int io_timeout;
};

struct fl_conn {
    int fd;
    char buf[FL_LINE_MAX * 4];
    size_t pos, len;
};

/* The last reply: its code and its last line. */
struct fl_reply {
    int code;
    char text[FL_LINE_MAX];
};

static double fl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *fl_err(int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS)
        return "timeout";
    const char *name = strerrorname_np(err);
    return name ? name : "error";
}

static void fl_timeouts(int fd, int secs)
{
    struct timeval tv = {.tv_sec = secs};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* fl_connect - a TCP connection to addr (bounded by SO_SNDTIMEO); -1 with
 * errno on failure. */
static int fl_connect(const struct sockaddr_in *addr, int secs)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    fl_timeouts(fd, secs);
    if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int fl_send(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* fl_line - one control line without CRLF; -1 with what set. */
static int fl_line(struct fl_conn *c, char *line, size_t cap, const char **what)
{
    size_t len = 0;
    for (;;) {
        while (c->pos < c->len) {
            char ch = c->buf[c->pos++];
            if (ch == '\n') {
                if (len > 0 && line[len - 1] == '\r')
                    len--;
                line[len] = '\0';
                return 0;
            }
            if (len + 1 < cap)
                line[len++] = ch;
        }
        ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *what = n == 0 ? "closed" : fl_err(errno);
            return -1;
        }
        c->pos = 0;
        c->len = (size_t)n;
    }
}

/* fl_reply - one whole reply (RFC 959 4.2: "ddd-" lines up to "ddd "); its
 * code and last line in r. -1 with what set. */
static int fl_reply(struct fl_conn *c, struct fl_reply *r, const char **what)
{
    if (fl_line(c, r->text, sizeof r->text, what) != 0)
        return -1;
    if (strlen(r->text) < 3 || r->text[0] < '1' || r->text[0] > '5') {
        *what = "garbage";
        return -1;
    }
    r->code = atoi(r->text);
    if (r->text[3] == '-') {
        char code[4];
        memcpy(code, r->text, 3);
        code[3] = '\0';
        for (int i = 0;; i++) {
            if (i == FL_REPLY_LINES) {
                *what = "too-long";
                return -1;
            }
            if (fl_line(c, r->text, sizeof r->text, what) != 0)
                return -1;
            if (strncmp(r->text, code, 3) == 0 && (r->text[3] == ' ' || r->text[3] == '\0'))
                break;
        }
    }
    return 0;
}

/* fl_cmd - sends "cmd\r\n" and reads its reply. */
static int fl_cmd(struct fl_conn *c, const char *cmd, struct fl_reply *r, const char **what)
{
    char line[FL_LINE_MAX];
    int n = snprintf(line, sizeof line, "%s\r\n", cmd);
    if (n < 0 || (size_t)n >= sizeof line) {
        *what = "too-long";
        return -1;
    }
    if (fl_send(c->fd, line, (size_t)n) != 0) {
        *what = fl_err(errno);
        return -1;
    }
    return fl_reply(c, r, what);
}

/* fl_parse_227 - the address of "227 ... (h1,h2,h3,h4,p1,p2)". */
static bool fl_parse_227(const char *text, struct sockaddr_in *out)
{
    const char *p = strchr(text, '(');
    unsigned v[6];
    if (!p || sscanf(p + 1, "%u,%u,%u,%u,%u,%u", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        if (v[i] > 255)
            return false;
    *out = (struct sockaddr_in){
        .sin_family = AF_INET,
        .sin_port = htons((uint16_t)(v[4] << 8 | v[5])),
        .sin_addr.s_addr = htonl(v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3]),
    };
    return true;
}

static void fl_fail(const char *name, const char *stage, const char *what, const char *reply)
{
    printf("FTPFAIL name=%s stage=%s what=%s reply=\"%s\"\n", name, stage, what,
           reply ? reply : "");
    fflush(stdout);
}

/* fl_active_listen - a listening socket on the control connection's local
 * address; its PORT argument in arg. */
static int fl_active_listen(const struct fl_conn *c, char *arg, size_t cap, int secs)
{
    struct sockaddr_in local;
    socklen_t len = sizeof local;
    if (getsockname(c->fd, (struct sockaddr *)&local, &len) != 0)
        return -1;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0)
        return -1;
    fl_timeouts(ls, secs);
    local.sin_port = 0;
    len = sizeof local;
    if (bind(ls, (struct sockaddr *)&local, sizeof local) != 0 || listen(ls, 1) != 0 ||
        getsockname(ls, (struct sockaddr *)&local, &len) != 0) {
        close(ls);
        return -1;
    }
    uint32_t a = ntohl(local.sin_addr.s_addr);
    unsigned port = ntohs(local.sin_port);
    snprintf(arg, cap, "%u,%u,%u,%u,%u,%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
             port >> 8, port & 255);
    return ls;
}

static int fl_accept(int ls, int secs)
{
    struct pollfd p = {.fd = ls, .events = POLLIN};
    int n;
    do
        n = poll(&p, 1, secs * 1000);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        errno = n == 0 ? ETIMEDOUT : errno;
        return -1;
    }
    int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        fl_timeouts(fd, secs);
    return fd;
}

/* fl_recv_all - reads the data connection to its end; the byte count, or
 * -1 with errno. */
static long long fl_recv_all(int fd, char *buf)
{
    long long total = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, FL_DATA_BUF, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return total;
        total += n;
    }
}

static long long fl_send_file(int fd, int file, long long size)
{
    off_t off = 0;
    while (off < size) {
        ssize_t n = sendfile(fd, file, &off, (size_t)(size - off));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
    }
    return off;
}

static double fl_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* fl_transfer - one timed transfer of name; true when it counted. */
static bool fl_transfer(struct fl_conn *c, const struct fl_opts *o, const char *name, char *buf)
{
    const char *what = "";
    const char *verb = o->stor ? "STOR" : "RETR";
    struct fl_reply r = {0};
    char cmd[FL_LINE_MAX], arg[64], local_path[FL_PATH_MAX];
    int file = -1, ls = -1, dfd = -1;
    long long size = 0, moved;
    bool ok = false;

    if (o->stor) {
        snprintf(local_path, sizeof local_path, "%s/%s", o->local_dir, name);
        struct stat st;
        file = open(local_path, O_RDONLY | O_CLOEXEC);
        if (file < 0 || fstat(file, &st) != 0) {
            fl_fail(name, "open", fl_err(errno), local_path);
            goto out;
        }
        size = st.st_size;
    }
    snprintf(cmd, sizeof cmd, "%s %s%s%s", verb, o->remote_dir, o->remote_dir[0] ? "/" : "", name);

    double t0 = fl_now(), cpu0 = fl_cpu_s();
    if (o->active) {
        ls = fl_active_listen(c, arg, sizeof arg, o->io_timeout);
        if (ls < 0) {
            fl_fail(name, "PORT", fl_err(errno), "");
            goto out;
        }
        char port_cmd[96];
        snprintf(port_cmd, sizeof port_cmd, "PORT %s", arg);
        if (fl_cmd(c, port_cmd, &r, &what) != 0 || r.code != 200) {
            fl_fail(name, "PORT", r.code ? "reply" : what, r.text);
            goto out;
        }
    } else {
        struct sockaddr_in daddr;
        if (fl_cmd(c, "PASV", &r, &what) != 0 || r.code != 227) {
            fl_fail(name, "PASV", r.code ? "reply" : what, r.text);
            goto out;
        }
        if (!fl_parse_227(r.text, &daddr)) {
            fl_fail(name, "PASV", "unparsable", r.text);
            goto out;
        }
        dfd = fl_connect(&daddr, o->io_timeout);
        if (dfd < 0) {
            fl_fail(name, "data", fl_err(errno), r.text);
            goto out;
        }
    }
    r.code = 0;
    if (fl_cmd(c, cmd, &r, &what) != 0 || r.code >= 200) {
        fl_fail(name, verb, r.code ? "reply" : what, r.text);
        goto out;
    }
    if (o->active) {
        dfd = fl_accept(ls, o->io_timeout);
        if (dfd < 0) {
            fl_fail(name, "data", fl_err(errno), "");
            goto out;
        }
    }
    moved = o->stor ? fl_send_file(dfd, file, size) : fl_recv_all(dfd, buf);
    int moved_err = errno;
    close(dfd);
    dfd = -1;
    r.code = 0;
    if (fl_reply(c, &r, &what) != 0 || r.code < 200 || r.code >= 300) {
        fl_fail(name, "final", r.code ? "reply" : what, r.text);
        goto out;
    }
    double secs = fl_now() - t0, cpu = fl_cpu_s() - cpu0;
    if (moved < 0) {
        fl_fail(name, "transfer", fl_err(moved_err), r.text);
        goto out;
    }
    if ((o->stor && moved != size) || (!o->stor && o->expect >= 0 && moved != o->expect)) {
        char why[64];
        snprintf(why, sizeof why, "bytes-%lld-of-%lld", moved, o->stor ? size : o->expect);
        fl_fail(name, "transfer", why, r.text);
        goto out;
    }
    printf(
        "FTPXFER name=%s cmd=%s mode=%s bytes=%lld secs=%.6f mb_per_s=%.2f reply=%d cpu_s=%.6f\n",
        name, verb, o->active ? "port" : "pasv", moved, secs,
        secs > 0 ? (double)moved / 1e6 / secs : 0.0, r.code, cpu);
    fflush(stdout);
    ok = true;
out:
    if (dfd >= 0)
        close(dfd);
    if (ls >= 0)
        close(ls);
    if (file >= 0)
        close(file);
    return ok;
}

/* ---- -G: pseudo-random files --------------------------------------------- */

static uint64_t fl_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t fl_next(uint64_t s[4])
{
    uint64_t out = fl_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = fl_rotl(s[3], 45);
    return out;
}

static int fl_generate(long long bytes, int argc, char **argv)
{
    uint64_t *buf = malloc(FL_GEN_BUF);
    if (!buf) {
        fprintf(stderr, "ftpload: out of memory\n");
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        uint64_t s[4];
        if (getrandom(s, sizeof s, 0) != (ssize_t)sizeof s) {
            fprintf(stderr, "ftpload: getrandom: %s\n", strerror(errno));
            free(buf);
            return 2;
        }
        s[0] |= 1; /* never the all-zero state */
        int fd = open(argv[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "ftpload: %s: %s\n", argv[i], strerror(errno));
            free(buf);
            return 2;
        }
        for (long long left = bytes; left > 0;) {
            size_t n = left < FL_GEN_BUF ? (size_t)left : FL_GEN_BUF;
            for (size_t w = 0; w < (n + 7) / 8; w++)
                buf[w] = fl_next(s);
            const char *p = (const char *)buf;
            size_t todo = n;
            while (todo > 0) {
                ssize_t k = write(fd, p, todo);
                if (k < 0 && errno == EINTR)
                    continue;
                if (k <= 0) {
                    fprintf(stderr, "ftpload: %s: %s\n", argv[i], strerror(errno));
                    close(fd);
                    free(buf);
                    return 2;
                }
                p += k;
                todo -= (size_t)k;
            }
            left -= (long long)n;
        }
        if (close(fd) != 0) {
            fprintf(stderr, "ftpload: %s: %s\n", argv[i], strerror(errno));
            free(buf);
            return 2;
        }
    }
    free(buf);
    return 0;
}

/* ---- main ------------------------------------------------------------------ */

static void fl_usage(void)
{
    fprintf(stderr, "usage: ftpload -p PORT [-H HOST] [-u USER] [-P PASSWORD] -x retr|stor [-a]\n"
                    "               [-s BYTES] [-r REMOTE_DIR] [-l LOCAL_DIR] [-T IO_TIMEOUT] "
                    "NAME...\n"
                    "       ftpload -G BYTES FILE...\n");
}

int main(int argc, char **argv)
{
    struct fl_opts o = {
        .user = "anonymous",
        .pass = "bench@example.com",
        .remote_dir = "",
        .local_dir = ".",
        .expect = -1,
        .io_timeout = 120,
    };
    const char *host = "127.0.0.1", *xfer = NULL;
    long port = 0, gen = -1;
    int opt;
    while ((opt = getopt(argc, argv, "p:H:u:P:x:as:r:l:T:G:")) != -1) {
        switch (opt) {
        case 'p':
            port = strtol(optarg, NULL, 10);
            break;
        case 'H':
            host = optarg;
            break;
        case 'u':
            o.user = optarg;
            break;
        case 'P':
            o.pass = optarg;
            break;
        case 'x':
            xfer = optarg;
            break;
        case 'a':
            o.active = true;
            break;
        case 's':
            o.expect = strtoll(optarg, NULL, 10);
            break;
        case 'r':
            o.remote_dir = optarg;
            break;
        case 'l':
            o.local_dir = optarg;
            break;
        case 'T':
            o.io_timeout = atoi(optarg);
            break;
        case 'G':
            gen = strtol(optarg, NULL, 10);
            break;
        default:
            fl_usage();
            return 2;
        }
    }
    if (gen >= 0)
        return optind < argc ? fl_generate(gen, argc - optind, argv + optind) : (fl_usage(), 2);
    if (port <= 0 || port > 65535 || !xfer || optind >= argc || o.io_timeout <= 0 ||
        (strcmp(xfer, "retr") != 0 && strcmp(xfer, "stor") != 0)) {
        fl_usage();
        return 2;
    }
    o.stor = strcmp(xfer, "stor") == 0;
    o.addr.sin_family = AF_INET;
    o.addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &o.addr.sin_addr) != 1) {
        fprintf(stderr, "ftpload: not an IPv4 address: %s\n", host);
        return 2;
    }
    int names = argc - optind;
    /* Every transfer may take several timeouts (connect, 1xx, data, final
     * reply); the whole run cannot take longer than that. */
    alarm((unsigned)((names + 1) * 4 * o.io_timeout));

    struct fl_conn *c = calloc(1, sizeof *c);
    char *buf = malloc(FL_DATA_BUF);
    if (!c || !buf) {
        fprintf(stderr, "ftpload: out of memory\n");
        return 2;
    }
    const char *what = "";
    struct fl_reply r = {0};
    c->fd = fl_connect(&o.addr, o.io_timeout);
    if (c->fd < 0) {
        fl_fail("-", "connect", fl_err(errno), "");
        return 2;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fl_reply(c, &r, &what) != 0 || r.code != 220) {
        fl_fail("-", "greet", r.code ? "reply" : what, r.text);
        return 2;
    }
    char cmd[FL_LINE_MAX];
    snprintf(cmd, sizeof cmd, "USER %s", o.user);
    r.code = 0;
    if (fl_cmd(c, cmd, &r, &what) == 0 && r.code == 331) {
        snprintf(cmd, sizeof cmd, "PASS %s", o.pass);
        r.code = 0;
        (void)fl_cmd(c, cmd, &r, &what);
    }
    if (r.code != 230) {
        fl_fail("-", "login", r.code ? "reply" : what, r.text);
        return 2;
    }
    /* Binary: vsftpd's default is ASCII, which it would serve as is for
     * RETR (ascii_download_enable=NO) but a proxy need not know that. */
    r.code = 0;
    if (fl_cmd(c, "TYPE I", &r, &what) != 0 || r.code != 200) {
        fl_fail("-", "TYPE", r.code ? "reply" : what, r.text);
        return 2;
    }
    int ok = 0, failed = 0;
    for (int i = optind; i < argc; i++) {
        if (fl_transfer(c, &o, argv[i], buf)) {
            ok++;
        } else {
            failed = names - ok;
            break;
        }
    }
    if (failed == 0) {
        r.code = 0;
        (void)fl_cmd(c, "QUIT", &r, &what);
    }
    close(c->fd);
    printf("FTPLOAD transfers=%d ok=%d failed=%d cpu_s=%.3f\n", names, ok, failed, fl_cpu_s());
    free(buf);
    free(c);
    return failed ? 1 : 0;
}
