/* smtpload - SMTP load generator for bench/smtp.sh (not built by the Makefile).
 *
 *   cc -O2 -Wall -Wextra -o smtpload bench/smtpload.c -lpthread
 *   smtpload -p PORT [-H 127.0.0.1] [-c SENDERS] [-m one|many] [-t SECONDS]
 *            [-w WARMUP] [-n MESSAGES] [-s ATTACHMENT_BYTES] [-T IO_TIMEOUT] [-E] [-v]
 *            [-R fixed|unique] [-a FIRST] [-A ADDRESS] [-D HOST] [-G] [-u RUN_ID]
 *
 * SENDERS threads (default 1) each send mails to 127.0.0.1:PORT until
 * SECONDS (default 10) have passed or MESSAGES mails (in all) were started:
 *   -m one   one mail per connection: connect, 220, EHLO, MAIL, RCPT, DATA,
 *            the message, ".", QUIT;
 *   -m many  many mails per connection: after EHLO, MAIL/RCPT/DATA/"." again
 *            and again on the same session (no RSET); QUIT at the end.
 * Every mail is unique: a multipart/mixed message with From/To/Subject/
 * Message-ID/Date headers, a short text/plain part and an
 * application/octet-stream attachment of ATTACHMENT_BYTES (default 58800)
 * fresh pseudo-random bytes, base64-encoded (about 81 KB in all), so no
 * verdict or scan cache can make a repeated mail free. Unique by
 * construction, not by chance: the attachment's first 8 bytes are RUN_ID
 * (-u; default: a random number) and the next 8 the mail's number in this
 * run (one counter for all senders, from 0), so with a RUN_ID of its own per
 * run (bench/smtp.sh counts them) no two attachments of a bench are equal
 * (ATTACHMENT_BYTES of 16 or more). -E puts the EICAR test string in the
 * attachment instead (eicar.com; for the checks).
 *
 * For the spam rows (RBL/SURBL lookups of the Received: addresses and URL
 * domains, SPAM-8/9), -R adds a Received: field (first header) naming a
 * relay address and a line with an http:// URL to the text part:
 *   -R fixed   every mail the same address (-A, default 198.18.0.1) and URL
 *              host (-D, default www.bench-shop.example): after the first
 *              mail a gateway answers from its DNS cache;
 *   -R unique  every mail a new address and a new URL domain, numbered from
 *              FIRST (-a, default 0): address 198.18.1.0 + n (wrapping
 *              within 198.18.1.0 .. 198.19.254.255, RFC 2544's benchmark
 *              range, outside the default spam_rbl_pass), host
 *              www.u<n>.example (registered domain u<n>.example, G-33);
 *              the SMTPLOAD line says rcv_next= (the first number not used:
 *              the next run's -a, so that a gateway's cache never knows a
 *              name of a later run).
 * -A or -D alone imply -R fixed. -G puts the GTUBE test string (spam to
 * every engine) in the text part.
 *
 * Every reply code is checked: 220 greeting, 250 EHLO/MAIL/RCPT, 354 DATA,
 * 250 after the dot (the mail counts as delivered), 221 QUIT. Any other
 * reply, a timeout or a closed connection fails the mail in progress; the
 * session is then closed and the sender starts a new one. Every socket
 * operation times out after IO_TIMEOUT seconds (default 30); the whole run is
 * bounded by alarm() at SECONDS + 3 x IO_TIMEOUT + 10.
 *
 * Latency of a delivered mail: from MAIL to the 250 after the dot (-m many),
 * from connect() to that 250 (-m one). Output, one line each:
 *   SMTPLOAD key=value ...   msgs_per_s and mb_per_s count the mails (ok)
 *       delivered in the measured window, from WARMUP seconds (default 0)
 *       after the start to the deadline (10^6 bytes of message data per
 *       second, envelope and dot-stuffing not included); warm = delivered
 *       before the window, late = after it (those started before the
 *       deadline are finished, not counted); p50_ms/p99_ms over the mails of
 *       the window; failed = mails not delivered; gen_cpu_us = this
 *       program's CPU time per mail (user + system), gen_cpu_s in all.
 *   SMTPFAIL stage=... what=... count=N sample=...   per kind of failure
 *   SMTPREPLY ...   with -v: the reply to the dot of the first mail
 *       (or the failing reply).
 * Exit status 0 when the run took place (even with failed mails), 2 on bad
 * usage or when a thread could not be started.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "load_common.h"

#define LOAD_SENDERS_MAX 4096
#define LOAD_LINE_MAX    2048
#define LOAD_RBUF_CAP    8192
#define LOAD_FAIL_KINDS  32
#define LOAD_SAMPLE_MAX  160
#define LOAD_B64_LINE    57 /* input bytes per 76-character base64 line */
/* -R unique: addresses 198.18.1.0 + n, n modulo this (198.18.0.x and
 * 198.19.255.x stay free for -R fixed and the listed address of the checks). */
#define LOAD_RCV_ADDRS (131072u - 512u)
#define LOAD_HOST_MAX  200

static const char load_eicar[] =
    "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
static const char load_gtube[] =
    "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

enum load_mode {
    LOAD_MODE_ONE = 0,
    LOAD_MODE_MANY,
};

enum load_rcv {
    LOAD_RCV_NONE = 0, /* no Received: field, no URL */
    LOAD_RCV_FIXED,
    LOAD_RCV_UNIQUE,
};

struct load_opts {
    struct sockaddr_in addr;
    unsigned senders;
    enum load_mode mode;
    double seconds;
    double warmup;
    long max_msgs; /* 0 = no limit */
    size_t attach_len;
    int io_timeout;
    bool eicar;
    bool verbose;
    bool gtube;
    enum load_rcv rcv;
    uint64_t run_id;                  /* -u: the attachments' first 8 bytes */
    unsigned long rcv_first;          /* -a */
    char rcv_addr[INET_ADDRSTRLEN];   /* -A (fixed) */
    char url_host[LOAD_HOST_MAX + 1]; /* -D (fixed) */
};

/* One kind of failure: stage + reply code or error word. */
struct load_fail {
    char stage[8];
    char what[32];
    unsigned long count;
    char sample[LOAD_SAMPLE_MAX];
};

struct load_shared {
    struct load_opts o;
    double t0;           /* start, monotonic seconds */
    double deadline;     /* t0 + seconds */
    double measure_from; /* t0 + warmup: start of the measured window */
    atomic_long started;
    atomic_ulong rcv_seq;  /* -R unique: numbers used so far */
    atomic_ulong mail_seq; /* attachments made so far (their bytes 8..15) */
    atomic_int stop;
    pthread_mutex_t lock;
    struct load_fail fails[LOAD_FAIL_KINDS];
    unsigned nfails;
    unsigned long fails_other; /* kinds beyond LOAD_FAIL_KINDS */
    char first_reply[LOAD_SAMPLE_MAX];
    pthread_barrier_t barrier;
};

struct load_sender {
    struct load_shared *sh;
    unsigned id;
    uint64_t rng[4];
    char *msg; /* the message being sent, with the final CRLF.CRLF */
    size_t msg_len;
    size_t msg_cap;
    size_t data_len; /* message bytes without the terminator */
    unsigned long seq;
    /* results */
    unsigned long ok_warm, ok_window, ok_late, failed;
    uint64_t bytes_window;
    uint32_t *lat_us;
    size_t lat_len, lat_cap;
    /* connection */
    int fd;
    char rbuf[LOAD_RBUF_CAP];
    size_t rpos, rlen;
};

/* errno's name (ETIMEDOUT ...) for the failure lines. */
static double load_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void load_fail_record(struct load_shared *sh, const char *stage, const char *what,
                             const char *sample)
{
    pthread_mutex_lock(&sh->lock);
    unsigned i;
    for (i = 0; i < sh->nfails; i++)
        if (strcmp(sh->fails[i].stage, stage) == 0 && strcmp(sh->fails[i].what, what) == 0)
            break;
    if (i == sh->nfails) {
        if (sh->nfails == LOAD_FAIL_KINDS) {
            sh->fails_other++;
            pthread_mutex_unlock(&sh->lock);
            return;
        }
        sh->nfails++;
        snprintf(sh->fails[i].stage, sizeof sh->fails[i].stage, "%s", stage);
        snprintf(sh->fails[i].what, sizeof sh->fails[i].what, "%s", what);
        snprintf(sh->fails[i].sample, sizeof sh->fails[i].sample, "%.*s", LOAD_SAMPLE_MAX - 1,
                 sample ? sample : "");
    }
    sh->fails[i].count++;
    pthread_mutex_unlock(&sh->lock);
}

static void load_first_reply(struct load_shared *sh, const char *line)
{
    pthread_mutex_lock(&sh->lock);
    if (sh->first_reply[0] == '\0')
        snprintf(sh->first_reply, sizeof sh->first_reply, "%.*s", LOAD_SAMPLE_MAX - 1, line);
    pthread_mutex_unlock(&sh->lock);
}

static bool load_reserve(struct load_sender *s, size_t need)
{
    if (s->msg_len + need <= s->msg_cap)
        return true;
    size_t cap = s->msg_cap ? s->msg_cap : 4096;
    while (cap < s->msg_len + need)
        cap *= 2;
    char *p = realloc(s->msg, cap);
    if (!p)
        return false;
    s->msg = p;
    s->msg_cap = cap;
    return true;
}

static bool load_put(struct load_sender *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool load_put(struct load_sender *s, const char *fmt, ...)
{
    char line[LOAD_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line || !load_reserve(s, (size_t)n))
        return false;
    memcpy(s->msg + s->msg_len, line, (size_t)n);
    s->msg_len += (size_t)n;
    return true;
}

static const char load_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of data[0..len) in 76-character CRLF-terminated lines. */
static bool load_put_base64(struct load_sender *s, const unsigned char *data, size_t len)
{
    size_t lines = (len + LOAD_B64_LINE - 1) / LOAD_B64_LINE;
    if (!load_reserve(s, lines * 78 + 4))
        return false;
    char *o = s->msg + s->msg_len;
    for (size_t off = 0; off < len; off += LOAD_B64_LINE) {
        size_t n = len - off < LOAD_B64_LINE ? len - off : LOAD_B64_LINE;
        const unsigned char *p = data + off;
        size_t i = 0;
        for (; i + 3 <= n; i += 3) {
            uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
            *o++ = load_b64[v >> 18];
            *o++ = load_b64[(v >> 12) & 63];
            *o++ = load_b64[(v >> 6) & 63];
            *o++ = load_b64[v & 63];
        }
        if (i < n) {
            uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
            *o++ = load_b64[v >> 18];
            *o++ = load_b64[(v >> 12) & 63];
            *o++ = i + 1 < n ? load_b64[(v >> 6) & 63] : '=';
            *o++ = '=';
        }
        *o++ = '\r';
        *o++ = '\n';
    }
    s->msg_len = (size_t)(o - s->msg);
    return true;
}

/* Builds the next unique message into s->msg (with the ".\r\n" terminator;
 * base64 and the fixed lines never start with '.', so no stuffing). */
static bool load_make_message(struct load_sender *s, unsigned char *attach)
{
    const struct load_opts *o = &s->sh->o;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    uint64_t tag = load_rand(s->rng);
    uint64_t boundary = load_rand(s->rng);
    s->seq++;
    s->msg_len = 0;
    char addr[INET_ADDRSTRLEN], host[LOAD_HOST_MAX + 32], url[LOAD_HOST_MAX + 64] = "";
    bool ok = true;
    if (o->rcv != LOAD_RCV_NONE) {
        if (o->rcv == LOAD_RCV_UNIQUE) {
            unsigned long n = o->rcv_first + atomic_fetch_add(&s->sh->rcv_seq, 1);
            uint32_t a = (198u << 24 | 18u << 16) + 256u + (uint32_t)(n % LOAD_RCV_ADDRS);
            snprintf(addr, sizeof addr, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                     a & 255);
            snprintf(host, sizeof host, "www.u%lu.example", n);
        } else {
            snprintf(addr, sizeof addr, "%s", o->rcv_addr);
            snprintf(host, sizeof host, "%s", o->url_host);
        }
        snprintf(url, sizeof url, "Offer: http://%s/offer/%u-%lu\r\n", host, s->id, s->seq);
        ok = load_put(s,
                      "Received: from sender%u.bench.example (sender%u.bench.example [%s])\r\n"
                      "\tby mx.bench.example with ESMTP id %016llx; %s\r\n",
                      s->id, s->id, addr, (unsigned long long)tag, date);
    }
    ok = ok &&
         load_put(s,
                  "From: Bench Sender %u <sender%u@bench.example>\r\n"
                  "To: Bench Recipient <rcpt@bench.example>\r\n"
                  "Subject: bench mail %u-%lu\r\n"
                  "Message-ID: <%lu.%u.%016llx@bench.example>\r\n"
                  "Date: %s\r\n"
                  "MIME-Version: 1.0\r\n"
                  "Content-Type: multipart/mixed; boundary=\"=_bench_%016llx\"\r\n"
                  "\r\n"
                  "This is a multi-part message in MIME format.\r\n"
                  "\r\n"
                  "--=_bench_%016llx\r\n"
                  "Content-Type: text/plain; charset=us-ascii\r\n"
                  "Content-Transfer-Encoding: 7bit\r\n"
                  "\r\n"
                  "Hello,\r\n"
                  "the attached file holds benchmark data (mail %u-%lu).\r\n"
                  "%s%s%s"
                  "\r\n"
                  "--=_bench_%016llx\r\n"
                  "Content-Type: application/octet-stream; name=\"%s\"\r\n"
                  "Content-Transfer-Encoding: base64\r\n"
                  "Content-Disposition: attachment; filename=\"%s\"\r\n"
                  "\r\n",
                  s->id, s->id, s->id, s->seq, s->seq, s->id, (unsigned long long)tag, date,
                  (unsigned long long)boundary, (unsigned long long)boundary, s->id, s->seq, url,
                  o->gtube ? load_gtube : "", o->gtube ? "\r\n" : "", (unsigned long long)boundary,
                  o->eicar ? "eicar.com" : "data.bin", o->eicar ? "eicar.com" : "data.bin");
    if (!ok)
        return false;
    if (o->eicar) {
        ok = load_put_base64(s, (const unsigned char *)load_eicar, sizeof load_eicar - 1);
    } else {
        for (size_t i = 0; i < o->attach_len; i += 8) {
            uint64_t v = load_rand(s->rng);
            size_t n = o->attach_len - i < 8 ? o->attach_len - i : 8;
            memcpy(attach + i, &v, n);
        }
        /* The stamp that makes the attachment unique (see the header). */
        uint64_t stamp[2] = {o->run_id, atomic_fetch_add(&s->sh->mail_seq, 1)};
        memcpy(attach, stamp, o->attach_len < sizeof stamp ? o->attach_len : sizeof stamp);
        ok = load_put_base64(s, attach, o->attach_len);
    }
    ok = ok && load_put(s, "--=_bench_%016llx--\r\n", (unsigned long long)boundary);
    if (!ok)
        return false;
    s->data_len = s->msg_len;
    return load_put(s, ".\r\n");
}

/* ---- connection -------------------------------------------------------- */

static void load_close(struct load_sender *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->rpos = s->rlen = 0;
}

/* 0, or -1 with a failure word in what. */
static int load_connect(struct load_sender *s, char *what, size_t what_cap)
{
    const struct load_opts *o = &s->sh->o;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(what, what_cap, "socket:%s", load_errname(errno));
        return -1;
    }
    struct timeval tv = {.tv_sec = o->io_timeout};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* also bounds connect() */
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)&o->addr, sizeof o->addr) != 0) {
        snprintf(what, what_cap, "%s", errno == EINPROGRESS ? "timeout" : load_errname(errno));
        close(fd);
        return -1;
    }
    s->fd = fd;
    s->rpos = s->rlen = 0;
    return 0;
}

static int load_send_all(struct load_sender *s, const char *p, size_t len, char *what,
                         size_t what_cap)
{
    while (len > 0) {
        ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            snprintf(what, what_cap, "%s", errno == EAGAIN ? "timeout" : load_errname(errno));
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One line without CRLF into line; 0, or -1 with what set. */
static int load_read_line(struct load_sender *s, char *line, size_t cap, char *what,
                          size_t what_cap)
{
    size_t len = 0;
    for (;;) {
        while (s->rpos < s->rlen) {
            char c = s->rbuf[s->rpos++];
            if (c == '\n') {
                if (len > 0 && line[len - 1] == '\r')
                    len--;
                line[len] = '\0';
                return 0;
            }
            if (len + 1 < cap)
                line[len++] = c;
        }
        ssize_t n = recv(s->fd, s->rbuf, sizeof s->rbuf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(what, what_cap, "%s",
                     n == 0            ? "closed"
                     : errno == EAGAIN ? "timeout"
                                       : load_errname(errno));
            return -1;
        }
        s->rpos = 0;
        s->rlen = (size_t)n;
    }
}

/* Reads a (multi-line) reply; its code, or -1 with what set. The last line
 * is left in line. */
static int load_reply(struct load_sender *s, char *line, size_t cap, char *what, size_t what_cap)
{
    for (int lines = 0; lines < 100; lines++) {
        if (load_read_line(s, line, cap, what, what_cap) != 0)
            return -1;
        if (strlen(line) < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' || line[1] > '9' ||
            line[2] < '0' || line[2] > '9' ||
            (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
            snprintf(what, what_cap, "garbage");
            return -1;
        }
        if (line[3] != '-')
            return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    }
    snprintf(what, what_cap, "too-many-lines");
    return -1;
}

/* Sends cmd (if any) and expects code; true when it came. On failure the
 * failure is recorded under stage and the connection closed. */
static bool load_step(struct load_sender *s, const char *stage, const char *cmd, size_t cmd_len,
                      int want, char *line, size_t cap)
{
    char what[32] = "";
    int code = -1;
    if (cmd && load_send_all(s, cmd, cmd_len, what, sizeof what) != 0)
        goto fail;
    code = load_reply(s, line, cap, what, sizeof what);
    if (code == want)
        return true;
    if (code >= 0)
        snprintf(what, sizeof what, "%d", code);
fail:
    load_fail_record(s->sh, stage, what, code >= 0 ? line : "");
    if (s->sh->o.verbose)
        load_first_reply(s->sh, code >= 0 ? line : what);
    load_close(s);
    return false;
}

static bool load_lat_add(struct load_sender *s, double secs)
{
    if (s->lat_len == s->lat_cap) {
        size_t cap = s->lat_cap ? s->lat_cap * 2 : 1024;
        uint32_t *p = realloc(s->lat_us, cap * sizeof *p);
        if (!p)
            return false;
        s->lat_us = p;
        s->lat_cap = cap;
    }
    double us = secs * 1e6;
    s->lat_us[s->lat_len++] = us > 4e9 ? 4000000000u : (uint32_t)us;
    return true;
}

/* True while another mail may be started (and counts it). */
static bool load_may_start(struct load_sender *s)
{
    struct load_shared *sh = s->sh;
    if (atomic_load(&sh->stop) || load_now() >= sh->deadline)
        return false;
    if (sh->o.max_msgs > 0 && atomic_fetch_add(&sh->started, 1) >= sh->o.max_msgs) {
        atomic_store(&sh->stop, 1);
        return false;
    }
    return true;
}

static void *load_sender_main(void *arg)
{
    struct load_sender *s = arg;
    struct load_shared *sh = s->sh;
    const struct load_opts *o = &sh->o;
    char line[LOAD_LINE_MAX], cmd[256], what[32];
    unsigned char *attach = malloc(o->attach_len + 8);
    if (!attach) {
        load_fail_record(sh, "setup", "ENOMEM", "");
        return NULL;
    }
    pthread_barrier_wait(&sh->barrier);
    double t_conn = 0;
    /* One mail per turn; a mail that fails is counted and not retried. */
    while (load_may_start(s)) {
        if (!load_make_message(s, attach)) {
            load_fail_record(sh, "setup", "ENOMEM", "");
            break;
        }
        if (s->fd < 0) {
            t_conn = load_now();
            if (load_connect(s, what, sizeof what) != 0) {
                load_fail_record(sh, "connect", what, "");
                s->failed++;
                if (o->verbose)
                    load_first_reply(sh, what);
                /* Do not spin on a refused port. */
                usleep(100000);
                continue;
            }
            if (!load_step(s, "greet", NULL, 0, 220, line, sizeof line)) {
                s->failed++;
                continue;
            }
            int n = snprintf(cmd, sizeof cmd, "EHLO sender%u.bench.example\r\n", s->id);
            if (!load_step(s, "EHLO", cmd, (size_t)n, 250, line, sizeof line)) {
                s->failed++;
                continue;
            }
        }
        double t_mail = load_now();
        int n = snprintf(cmd, sizeof cmd, "MAIL FROM:<sender%u@bench.example>\r\n", s->id);
        if (!load_step(s, "MAIL", cmd, (size_t)n, 250, line, sizeof line)) {
            s->failed++;
            continue;
        }
        n = snprintf(cmd, sizeof cmd, "RCPT TO:<rcpt@bench.example>\r\n");
        if (!load_step(s, "RCPT", cmd, (size_t)n, 250, line, sizeof line)) {
            s->failed++;
            continue;
        }
        if (!load_step(s, "DATA", "DATA\r\n", 6, 354, line, sizeof line)) {
            s->failed++;
            continue;
        }
        if (!load_step(s, "dot", s->msg, s->msg_len, 250, line, sizeof line)) {
            s->failed++;
            continue;
        }
        double t_done = load_now();
        if (o->verbose)
            load_first_reply(sh, line);
        if (t_done < sh->measure_from) {
            s->ok_warm++;
        } else if (t_done <= sh->deadline) {
            s->ok_window++;
            s->bytes_window += s->data_len;
            load_lat_add(s, t_done - (o->mode == LOAD_MODE_ONE ? t_conn : t_mail));
        } else {
            s->ok_late++;
        }
        if (o->mode == LOAD_MODE_ONE) {
            /* The mail is delivered; a bad QUIT is recorded, not a failed mail. */
            if (load_step(s, "QUIT", "QUIT\r\n", 6, 221, line, sizeof line))
                load_close(s);
        }
    }
    if (s->fd >= 0) {
        if (load_step(s, "QUIT", "QUIT\r\n", 6, 221, line, sizeof line))
            load_close(s);
    }
    free(attach);
    return NULL;
}

static int load_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void load_usage(void)
{
    fprintf(stderr, "usage: smtpload -p PORT [-H ADDR] [-c SENDERS] [-m one|many] [-t SECONDS]\n"
                    "                [-w WARMUP] [-n MESSAGES] [-s ATTACHMENT_BYTES] [-T "
                    "IO_TIMEOUT] [-E] [-v]\n"
                    "                [-R fixed|unique] [-a FIRST] [-A ADDRESS] [-D HOST] [-G] "
                    "[-u RUN_ID]\n");
    exit(2);
}

static long load_num(const char *arg, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max)
        load_usage();
    return v;
}

int main(int argc, char **argv)
{
    static struct load_shared sh;
    struct load_opts *o = &sh.o;
    const char *host = "127.0.0.1";
    long port = 0;
    o->senders = 1;
    o->mode = LOAD_MODE_ONE;
    o->seconds = 10;
    o->attach_len = 58800;
    o->io_timeout = 30;
    snprintf(o->rcv_addr, sizeof o->rcv_addr, "198.18.0.1");
    snprintf(o->url_host, sizeof o->url_host, "www.bench-shop.example");
    bool fixed_given = false, run_id_given = false;
    int c;
    while ((c = getopt(argc, argv, "H:p:c:m:t:w:n:s:T:EvR:a:A:D:Gu:")) != -1) {
        switch (c) {
        case 'H':
            host = optarg;
            break;
        case 'p':
            port = load_num(optarg, 1, 65535);
            break;
        case 'c':
            o->senders = (unsigned)load_num(optarg, 1, LOAD_SENDERS_MAX);
            break;
        case 'm':
            if (strcmp(optarg, "one") == 0)
                o->mode = LOAD_MODE_ONE;
            else if (strcmp(optarg, "many") == 0)
                o->mode = LOAD_MODE_MANY;
            else
                load_usage();
            break;
        case 't':
            o->seconds = (double)load_num(optarg, 1, 86400);
            break;
        case 'w':
            o->warmup = (double)load_num(optarg, 0, 86400);
            break;
        case 'n':
            o->max_msgs = load_num(optarg, 1, 100000000);
            break;
        case 's':
            o->attach_len = (size_t)load_num(optarg, 1, 100000000);
            break;
        case 'T':
            o->io_timeout = (int)load_num(optarg, 1, 3600);
            break;
        case 'E':
            o->eicar = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'R':
            if (strcmp(optarg, "fixed") == 0)
                o->rcv = LOAD_RCV_FIXED;
            else if (strcmp(optarg, "unique") == 0)
                o->rcv = LOAD_RCV_UNIQUE;
            else
                load_usage();
            break;
        case 'a':
            o->rcv_first = (unsigned long)load_num(optarg, 0, 1000000000);
            break;
        case 'A': {
            struct in_addr in;
            if (inet_pton(AF_INET, optarg, &in) != 1)
                load_usage();
            snprintf(o->rcv_addr, sizeof o->rcv_addr, "%s", optarg);
            fixed_given = true;
            break;
        }
        case 'D':
            if (strlen(optarg) == 0 || strlen(optarg) > LOAD_HOST_MAX ||
                strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(optarg))
                load_usage();
            snprintf(o->url_host, sizeof o->url_host, "%s", optarg);
            fixed_given = true;
            break;
        case 'G':
            o->gtube = true;
            break;
        case 'u': {
            char *end;
            errno = 0;
            o->run_id = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || *optarg == '-')
                load_usage();
            run_id_given = true;
            break;
        }
        default:
            load_usage();
        }
    }
    if (port == 0 || optind != argc || o->warmup >= o->seconds)
        load_usage();
    if (fixed_given) {
        if (o->rcv == LOAD_RCV_UNIQUE)
            load_usage();
        o->rcv = LOAD_RCV_FIXED;
    }
    o->addr.sin_family = AF_INET;
    o->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &o->addr.sin_addr) != 1)
        load_usage();
    /* Whole-run bound: the deadline, the last mails, a QUIT, and slack. */
    alarm((unsigned)o->seconds + 3u * (unsigned)o->io_timeout + 10u);

    struct load_sender *snd = calloc(o->senders, sizeof *snd);
    pthread_t *tid = calloc(o->senders, sizeof *tid);
    if (!snd || !tid) {
        fprintf(stderr, "smtpload: out of memory\n");
        return 2;
    }
    pthread_mutex_init(&sh.lock, NULL);
    pthread_barrier_init(&sh.barrier, NULL, o->senders + 1);
    uint64_t seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    if (!run_id_given) {
        uint64_t r[4];
        load_seed(r, seed);
        o->run_id = load_rand(r);
    }
    for (unsigned i = 0; i < o->senders; i++) {
        snd[i].sh = &sh;
        snd[i].id = i;
        snd[i].fd = -1;
        load_seed(snd[i].rng, seed + 0x1000003ull * i);
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (unsigned i = 0; i < o->senders; i++) {
        if (pthread_create(&tid[i], &attr, load_sender_main, &snd[i]) != 0) {
            fprintf(stderr, "smtpload: cannot start thread %u\n", i);
            return 2;
        }
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    sh.t0 = load_now();
    sh.deadline = sh.t0 + o->seconds;
    sh.measure_from = sh.t0 + o->warmup;
    pthread_barrier_wait(&sh.barrier);
    for (unsigned i = 0; i < o->senders; i++)
        pthread_join(tid[i], NULL);
    double t_end = load_now();
    getrusage(RUSAGE_SELF, &ru1);

    unsigned long ok_warm = 0, ok_window = 0, ok_late = 0, failed = 0;
    uint64_t bytes = 0;
    size_t nlat = 0;
    for (unsigned i = 0; i < o->senders; i++) {
        ok_warm += snd[i].ok_warm;
        ok_window += snd[i].ok_window;
        ok_late += snd[i].ok_late;
        failed += snd[i].failed;
        bytes += snd[i].bytes_window;
        nlat += snd[i].lat_len;
    }
    uint32_t *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    size_t k = 0;
    for (unsigned i = 0; i < o->senders && lat; i++) {
        memcpy(lat + k, snd[i].lat_us, snd[i].lat_len * sizeof *lat);
        k += snd[i].lat_len;
    }
    double p50 = -1, p99 = -1;
    if (lat && nlat > 0) {
        qsort(lat, nlat, sizeof *lat, load_cmp_u32);
        p50 = lat[(nlat - 1) * 50 / 100] / 1000.0;
        p99 = lat[(nlat - 1) * 99 / 100] / 1000.0;
    }
    /* The window: after the warm-up, to the deadline, or to the end when -n
     * ended the run earlier. */
    double window = (t_end < sh.deadline ? t_end : sh.deadline) - sh.measure_from;
    if (window <= 0)
        window = 1e-9;
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    unsigned long delivered = ok_warm + ok_window + ok_late;
    printf("SMTPLOAD senders=%u mode=%s window_s=%.3f run_s=%.3f msgs_per_s=%.1f mb_per_s=%.2f "
           "p50_ms=%.1f p99_ms=%.1f warm=%lu ok=%lu late=%lu failed=%lu avg_msg_bytes=%.0f "
           "gen_cpu_us=%.0f gen_cpu_s=%.3f rcv_next=%lu\n",
           o->senders, o->mode == LOAD_MODE_ONE ? "one" : "many", window, t_end - sh.t0,
           (double)ok_window / window, (double)bytes / window / 1e6, p50, p99, ok_warm, ok_window,
           ok_late, failed, ok_window ? (double)bytes / (double)ok_window : 0.0,
           delivered ? cpu * 1e6 / (double)delivered : -1.0, cpu,
           o->rcv_first + atomic_load(&sh.rcv_seq));
    for (unsigned i = 0; i < sh.nfails; i++) {
        /* The sample is a reply line: keep it on one line, printable. */
        for (char *p = sh.fails[i].sample; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                *p = '?';
        printf("SMTPFAIL stage=%s what=%s count=%lu sample=%s\n", sh.fails[i].stage,
               sh.fails[i].what, sh.fails[i].count, sh.fails[i].sample);
    }
    if (sh.fails_other)
        printf("SMTPFAIL stage=other what=other count=%lu sample=\n", sh.fails_other);
    if (o->verbose)
        printf("SMTPREPLY %s\n", sh.first_reply);
    for (unsigned i = 0; i < o->senders; i++) {
        free(snd[i].msg);
        free(snd[i].lat_us);
    }
    free(lat);
    free(snd);
    free(tid);
    return 0;
}
