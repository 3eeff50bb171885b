/* popload - POP3 RETR load generator for bench/pop.sh (not built by the Makefile).
 *
 *   cc -O2 -Wall -Wextra -o popload bench/popload.c -lpthread
 *   popload -p PORT [-H 127.0.0.1] -u USER -P PASSWORD [-c CLIENTS] [-t SECONDS]
 *           [-w WARMUP] [-f FIRST] [-n COUNT] [-m cycle|unique|repeat] [-T IO_TIMEOUT] [-v]
 *
 * CLIENTS threads (default 1) each open one POP3 session to PORT (greeting
 * +OK, USER, PASS) and then send RETR after RETR on it, no DELE, until
 * SECONDS (default 10) have passed; QUIT at the end. The message numbers
 * come from one counter shared by all clients over the window FIRST ..
 * FIRST+COUNT-1 (default 1, and 1 message):
 *   -m cycle   wrap around at the end of the window (numbers repeat);
 *   -m unique  stop when every number of the window was handed out once, so
 *              no message is retrieved twice in the run (no cache of the
 *              proxy or the scanner can help);
 *   -m repeat  every RETR is of message FIRST (the repeated-object case).
 *
 * Every reply is checked: +OK to the greeting, USER, PASS and RETR; a RETR
 * counts when its multi-line answer ended with the CRLF.CRLF terminator. Any
 * -ERR, a timeout (IO_TIMEOUT, default 30 s, on every socket operation) or
 * a closed connection fails the RETR in progress; the session is closed and
 * the client starts a new one. The whole run is bounded by alarm().
 *
 * Latency: from sending RETR to the terminator. Output, one line each:
 *   POPLOAD key=value ...   msgs_per_s and mb_per_s count the RETRs (ok)
 *       completed from WARMUP seconds after the start to the deadline (or
 *       to the end, when -m unique ran out of numbers first); mb = 10^6
 *       bytes of message data (the lines between the +OK line and the
 *       terminator, CRLF included); warm/late = completed before/after that
 *       window; nowarm=1 when the run was over before twice WARMUP and the
 *       window is then the whole run; repeats = RETRs of a number this run had already handed out
 *       (-m cycle, -m repeat); gen_cpu_us = this program's CPU per RETR.
 *   POPFAIL stage=... what=... count=N sample=...   per kind of failure
 *   POPREPLY ...   with -v: the +OK line of the first RETR (or the failure).
 * Exit status 0 when the run took place (even with failures), 2 on bad
 * usage or when a thread could not be started.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
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

#define LOAD_CLIENTS_MAX 4096
#define LOAD_LINE_MAX    1024
#define LOAD_RBUF_CAP    65536
#define LOAD_FAIL_KINDS  32
#define LOAD_SAMPLE_MAX  160

enum load_mode {
    LOAD_MODE_CYCLE = 0,
    LOAD_MODE_UNIQUE,
    LOAD_MODE_REPEAT,
};

struct load_opts {
    struct sockaddr_in addr;
    const char *user;
    const char *pass;
    unsigned clients;
    enum load_mode mode;
    double seconds;
    double warmup;
    long first;
    long count;
    int io_timeout;
    bool verbose;
};

struct load_fail {
    char stage[8];
    char what[32];
    unsigned long count;
    char sample[LOAD_SAMPLE_MAX];
};

struct load_shared {
    struct load_opts o;
    double t0;
    double deadline;
    double measure_from;
    atomic_long next; /* next index into the window */
    atomic_int stop;
    pthread_mutex_t lock;
    struct load_fail fails[LOAD_FAIL_KINDS];
    unsigned nfails;
    unsigned long fails_other;
    char first_reply[LOAD_SAMPLE_MAX];
    pthread_barrier_t barrier;
};

struct load_retr {
    double t_done; /* monotonic seconds */
    uint32_t lat_us;
    uint32_t bytes;
};

struct load_client {
    struct load_shared *sh;
    unsigned id;
    unsigned long failed, repeats;
    struct load_retr *done; /* every completed RETR, the window is chosen at the end */
    size_t done_len, done_cap;
    int fd;
    char *rbuf;
    size_t rpos, rlen;
};

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

static void load_close(struct load_client *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->rpos = s->rlen = 0;
}

static int load_connect(struct load_client *s, char *what, size_t what_cap)
{
    const struct load_opts *o = &s->sh->o;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(what, what_cap, "socket:%s", load_errname(errno));
        return -1;
    }
    struct timeval tv = {.tv_sec = o->io_timeout};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
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

static int load_send_all(struct load_client *s, const char *p, size_t len, char *what,
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

/* Refills the read buffer; 0, or -1 with what set. */
static int load_fill(struct load_client *s, char *what, size_t what_cap)
{
    for (;;) {
        ssize_t n = recv(s->fd, s->rbuf, LOAD_RBUF_CAP, 0);
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
        return 0;
    }
}

/* One line without CRLF into line; 0, or -1 with what set. */
static int load_read_line(struct load_client *s, char *line, size_t cap, char *what,
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
        if (load_fill(s, what, what_cap) != 0)
            return -1;
    }
}

/* The body of a multi-line answer, up to and including CRLF.CRLF (the
 * first line, +OK, already read). Returns its size without the ".CRLF",
 * or -1 with what set. A line-start state machine: no copy of the body. */
static long load_read_body(struct load_client *s, char *what, size_t what_cap)
{
    /* state: 0 inside a line, 1 at a line start, 2 after "." at a line
     * start, 3 after ".\r" at a line start */
    int state = 1;
    long bytes = 0;
    for (long rounds = 0; rounds < 100000000L; rounds++) {
        if (s->rpos == s->rlen && load_fill(s, what, what_cap) != 0)
            return -1;
        const char *p = s->rbuf + s->rpos, *end = s->rbuf + s->rlen;
        while (p < end) {
            if (state == 0) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl) {
                    bytes += end - p;
                    p = end;
                    break;
                }
                bytes += nl + 1 - p;
                p = nl + 1;
                state = 1;
            } else if (state == 1) {
                state = *p == '.' ? 2 : 0;
                if (state == 0)
                    continue; /* the byte is counted by state 0 */
                p++;
            } else if (state == 2) {
                if (*p == '\r') {
                    state = 3;
                    p++;
                } else {
                    bytes++; /* the "." of a dot-stuffed line */
                    state = 0;
                }
            } else {
                if (*p == '\n') {
                    s->rpos = (size_t)(p + 1 - s->rbuf);
                    return bytes;
                }
                bytes += 2;
                state = 0;
            }
        }
        s->rpos = (size_t)(p - s->rbuf);
    }
    snprintf(what, what_cap, "too-long");
    return -1;
}

/* Sends cmd (if any), expects a +OK line; on failure it is recorded under
 * stage and the connection closed. */
static bool load_step(struct load_client *s, const char *stage, const char *cmd, size_t cmd_len,
                      char *line, size_t cap)
{
    char what[32] = "";
    bool got = false;
    if (cmd && load_send_all(s, cmd, cmd_len, what, sizeof what) != 0)
        goto fail;
    if (load_read_line(s, line, cap, what, sizeof what) != 0)
        goto fail;
    got = true;
    if (strncmp(line, "+OK", 3) == 0)
        return true;
    snprintf(what, sizeof what, "%.3s", line[0] == '-' ? "ERR" : "garbage");
fail:
    load_fail_record(s->sh, stage, what, got ? line : "");
    if (s->sh->o.verbose)
        load_first_reply(s->sh, got ? line : what);
    load_close(s);
    return false;
}

static bool load_record(struct load_client *s, double t_done, double secs, long bytes)
{
    if (s->done_len == s->done_cap) {
        size_t cap = s->done_cap ? s->done_cap * 2 : 1024;
        struct load_retr *p = realloc(s->done, cap * sizeof *p);
        if (!p)
            return false;
        s->done = p;
        s->done_cap = cap;
    }
    double us = secs * 1e6;
    s->done[s->done_len++] = (struct load_retr){
        .t_done = t_done,
        .lat_us = us > 4e9 ? 4000000000u : (uint32_t)us,
        .bytes = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes,
    };
    return true;
}

/* The next message number, or 0 when the run is over. */
static long load_next_msg(struct load_client *s)
{
    struct load_shared *sh = s->sh;
    const struct load_opts *o = &sh->o;
    if (atomic_load(&sh->stop) || load_now() >= sh->deadline)
        return 0;
    if (o->mode == LOAD_MODE_REPEAT) {
        if (atomic_fetch_add(&sh->next, 1) > 0)
            s->repeats++;
        return o->first;
    }
    long i = atomic_fetch_add(&sh->next, 1);
    if (i >= o->count) {
        if (o->mode == LOAD_MODE_UNIQUE) {
            atomic_store(&sh->stop, 1);
            return 0;
        }
        s->repeats++;
    }
    return o->first + i % o->count;
}

static void *load_client_main(void *arg)
{
    struct load_client *s = arg;
    struct load_shared *sh = s->sh;
    const struct load_opts *o = &sh->o;
    char line[LOAD_LINE_MAX], cmd[LOAD_LINE_MAX], what[32];
    pthread_barrier_wait(&sh->barrier);
    long msg;
    while ((msg = load_next_msg(s)) != 0) {
        if (s->fd < 0) {
            if (load_connect(s, what, sizeof what) != 0) {
                load_fail_record(sh, "connect", what, "");
                s->failed++;
                if (o->verbose)
                    load_first_reply(sh, what);
                usleep(100000); /* do not spin on a refused port */
                continue;
            }
            if (!load_step(s, "greet", NULL, 0, line, sizeof line)) {
                s->failed++;
                continue;
            }
            int n = snprintf(cmd, sizeof cmd, "USER %s\r\n", o->user);
            if (!load_step(s, "USER", cmd, (size_t)n, line, sizeof line)) {
                s->failed++;
                continue;
            }
            n = snprintf(cmd, sizeof cmd, "PASS %s\r\n", o->pass);
            if (!load_step(s, "PASS", cmd, (size_t)n, line, sizeof line)) {
                s->failed++;
                continue;
            }
        }
        double t_retr = load_now();
        int n = snprintf(cmd, sizeof cmd, "RETR %ld\r\n", msg);
        if (!load_step(s, "RETR", cmd, (size_t)n, line, sizeof line)) {
            s->failed++;
            continue;
        }
        if (o->verbose)
            load_first_reply(sh, line);
        long bytes = load_read_body(s, what, sizeof what);
        if (bytes < 0) {
            load_fail_record(sh, "body", what, "");
            load_close(s);
            s->failed++;
            continue;
        }
        double t_done = load_now();
        if (!load_record(s, t_done, t_done - t_retr, bytes)) {
            load_fail_record(sh, "setup", "ENOMEM", "");
            break;
        }
    }
    if (s->fd >= 0 && load_step(s, "QUIT", "QUIT\r\n", 6, line, sizeof line))
        load_close(s);
    return NULL;
}

static int load_cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void load_usage(void)
{
    fprintf(stderr,
            "usage: popload -p PORT [-H ADDR] -u USER -P PASSWORD [-c CLIENTS] [-t SECONDS]\n"
            "               [-w WARMUP] [-f FIRST] [-n COUNT] [-m cycle|unique|repeat]\n"
            "               [-T IO_TIMEOUT] [-v]\n");
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
    o->clients = 1;
    o->mode = LOAD_MODE_CYCLE;
    o->seconds = 10;
    o->first = 1;
    o->count = 1;
    o->io_timeout = 30;
    int c;
    while ((c = getopt(argc, argv, "H:p:u:P:c:t:w:f:n:m:T:v")) != -1) {
        switch (c) {
        case 'H':
            host = optarg;
            break;
        case 'p':
            port = load_num(optarg, 1, 65535);
            break;
        case 'u':
            o->user = optarg;
            break;
        case 'P':
            o->pass = optarg;
            break;
        case 'c':
            o->clients = (unsigned)load_num(optarg, 1, LOAD_CLIENTS_MAX);
            break;
        case 't':
            o->seconds = (double)load_num(optarg, 1, 86400);
            break;
        case 'w':
            o->warmup = (double)load_num(optarg, 0, 86400);
            break;
        case 'f':
            o->first = load_num(optarg, 1, 100000000);
            break;
        case 'n':
            o->count = load_num(optarg, 1, 100000000);
            break;
        case 'm':
            if (strcmp(optarg, "cycle") == 0)
                o->mode = LOAD_MODE_CYCLE;
            else if (strcmp(optarg, "unique") == 0)
                o->mode = LOAD_MODE_UNIQUE;
            else if (strcmp(optarg, "repeat") == 0)
                o->mode = LOAD_MODE_REPEAT;
            else
                load_usage();
            break;
        case 'T':
            o->io_timeout = (int)load_num(optarg, 1, 3600);
            break;
        case 'v':
            o->verbose = true;
            break;
        default:
            load_usage();
        }
    }
    if (port == 0 || !o->user || !o->pass || optind != argc || o->warmup >= o->seconds)
        load_usage();
    o->addr.sin_family = AF_INET;
    o->addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &o->addr.sin_addr) != 1)
        load_usage();
    alarm((unsigned)o->seconds + 3u * (unsigned)o->io_timeout + 10u);

    struct load_client *cl = calloc(o->clients, sizeof *cl);
    pthread_t *tid = calloc(o->clients, sizeof *tid);
    if (!cl || !tid) {
        fprintf(stderr, "popload: out of memory\n");
        return 2;
    }
    pthread_mutex_init(&sh.lock, NULL);
    pthread_barrier_init(&sh.barrier, NULL, o->clients + 1);
    for (unsigned i = 0; i < o->clients; i++) {
        cl[i].sh = &sh;
        cl[i].id = i;
        cl[i].fd = -1;
        cl[i].rbuf = malloc(LOAD_RBUF_CAP);
        if (!cl[i].rbuf) {
            fprintf(stderr, "popload: out of memory\n");
            return 2;
        }
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (unsigned i = 0; i < o->clients; i++) {
        if (pthread_create(&tid[i], &attr, load_client_main, &cl[i]) != 0) {
            fprintf(stderr, "popload: cannot start thread %u\n", i);
            return 2;
        }
    }
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    sh.t0 = load_now();
    sh.deadline = sh.t0 + o->seconds;
    sh.measure_from = sh.t0 + o->warmup;
    pthread_barrier_wait(&sh.barrier);
    for (unsigned i = 0; i < o->clients; i++)
        pthread_join(tid[i], NULL);
    double t_end = load_now();
    getrusage(RUSAGE_SELF, &ru1);

    /* The window: from the warm-up's end to the deadline, or to the end when
     * -m unique ran out of numbers first; when the run was over before
     * twice the warm-up, from the start (nowarm=1). */
    double from = sh.measure_from, to = t_end < sh.deadline ? t_end : sh.deadline;
    int nowarm = 0;
    if (t_end - sh.t0 < 2 * o->warmup) {
        from = sh.t0;
        nowarm = 1;
    }
    double window = to - from;
    if (window <= 0)
        window = 1e-9;
    unsigned long ok_warm = 0, ok_window = 0, ok_late = 0, failed = 0, repeats = 0;
    uint64_t bytes = 0;
    size_t nlat = 0;
    for (unsigned i = 0; i < o->clients; i++) {
        failed += cl[i].failed;
        repeats += cl[i].repeats;
        nlat += cl[i].done_len;
    }
    uint32_t *lat = malloc((nlat ? nlat : 1) * sizeof *lat);
    if (!lat) {
        fprintf(stderr, "popload: out of memory\n");
        return 2;
    }
    size_t k = 0;
    for (unsigned i = 0; i < o->clients; i++) {
        for (size_t j = 0; j < cl[i].done_len; j++) {
            const struct load_retr *r = &cl[i].done[j];
            if (r->t_done < from) {
                ok_warm++;
            } else if (r->t_done <= to) {
                ok_window++;
                bytes += r->bytes;
                lat[k++] = r->lat_us;
            } else {
                ok_late++;
            }
        }
    }
    nlat = k;
    double p50 = -1, p99 = -1;
    if (nlat > 0) {
        qsort(lat, nlat, sizeof *lat, load_cmp_u32);
        p50 = lat[(nlat - 1) * 50 / 100] / 1000.0;
        p99 = lat[(nlat - 1) * 99 / 100] / 1000.0;
    }
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    unsigned long done = ok_warm + ok_window + ok_late;
    static const char *const mode_names[] = {"cycle", "unique", "repeat"};
    printf("POPLOAD clients=%u mode=%s window_s=%.3f run_s=%.3f msgs_per_s=%.1f mb_per_s=%.2f "
           "p50_ms=%.1f p99_ms=%.1f warm=%lu ok=%lu late=%lu failed=%lu repeats=%lu nowarm=%d "
           "avg_msg_bytes=%.0f gen_cpu_us=%.0f gen_cpu_s=%.3f\n",
           o->clients, mode_names[o->mode], window, t_end - sh.t0, (double)ok_window / window,
           (double)bytes / window / 1e6, p50, p99, ok_warm, ok_window, ok_late, failed, repeats,
           nowarm, ok_window ? (double)bytes / (double)ok_window : 0.0,
           done ? cpu * 1e6 / (double)done : -1.0, cpu);
    for (unsigned i = 0; i < sh.nfails; i++) {
        for (char *p = sh.fails[i].sample; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                *p = '?';
        printf("POPFAIL stage=%s what=%s count=%lu sample=%s\n", sh.fails[i].stage,
               sh.fails[i].what, sh.fails[i].count, sh.fails[i].sample);
    }
    if (sh.fails_other)
        printf("POPFAIL stage=other what=other count=%lu sample=\n", sh.fails_other);
    if (o->verbose)
        printf("POPREPLY %s\n", sh.first_reply);
    for (unsigned i = 0; i < o->clients; i++) {
        free(cl[i].rbuf);
        free(cl[i].done);
    }
    free(lat);
    free(cl);
    free(tid);
    return 0;
}
