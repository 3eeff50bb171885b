/* Unit tests for proxy/proxy_bgcopy: copies made on the copier's thread
 * and reported through the loop (raw and mailbox format), a failed copy
 * removed and logged with the session's log context copied into the job,
 * the bounded queue (refused when full, free again once reported, never
 * earlier), and the drain at a worker's exit (complete, or abandoned:
 * never a partial file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/ev.h"
#include "lib/log.h"
#include "lib/spoolfile.h"
#include "proxy/proxy_bgcopy.h"

static char dir[] = "/tmp/test_proxy_bgcopy.XXXXXX";
static char errlog[256];

/* A message block whose mailbox form is known: CRLF becomes LF, a line
 * that starts with ">"* "From " gets one more '>'. */
static const char BLOCK[] = "From a@b.example\r\n>From c\r\nplain line\r\n";
static const char BLOCK_MBOX[] = ">From a@b.example\n>>From c\nplain line\n";
static const char SEP[] = "From sender@x.example Thu Jan  1 00:00:00 1970\n";

/* source - a spool-like unnamed file of n blocks, or n raw bytes. */
static int source_blocks(size_t n)
{
    int fd = spoolfile_create(dir);
    assert_true(fd >= 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(spoolfile_write_all(fd, BLOCK, sizeof(BLOCK) - 1), 0);
    return fd;
}

static int source_bytes(size_t n)
{
    int fd = spoolfile_create(dir);
    assert_true(fd >= 0);
    static unsigned char chunk[65536];
    for (size_t off = 0; off < n;) {
        size_t k = n - off < sizeof(chunk) ? n - off : sizeof(chunk);
        for (size_t i = 0; i < k; i++)
            chunk[i] = (unsigned char)((off + i) * 31 % 251);
        assert_int_equal(spoolfile_write_all(fd, chunk, k), 0);
        off += k;
    }
    return fd;
}

static int dest(const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    return fd;
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = file_size(path) + 1, n = 0;
    char *p = malloc(cap);
    assert_non_null(p);
    n = fread(p, 1, cap - 1, f);
    fclose(f);
    p[n] = '\0';
    *len = n;
    return p;
}

static bool raw_content_ok(const char *path, size_t n)
{
    size_t len;
    char *p = slurp(path, &len);
    bool ok = p && len == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = (unsigned char)p[i] == (unsigned char)(i * 31 % 251);
    free(p);
    return ok;
}

static bool fd_closed(int fd)
{
    return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

/* ---- running the loop until every job is reported ------------------- */

struct poll {
    struct proxy_bgcopy *bc;
    struct ev_timer t;
    unsigned ticks;
};

#define POLL_MS    2
#define POLL_TICKS 60000 /* a hang guard, not a time limit on the copy */

static void on_poll(struct ev_loop *loop, struct ev_timer *t)
{
    struct poll *p = t->data;
    if (proxy_bgcopy_pending(p->bc) == 0 || ++p->ticks >= POLL_TICKS)
        ev_break(loop);
    else
        ev_timer_start(loop, t, POLL_MS);
}

static void run_until_reported(struct ev_loop *loop, struct proxy_bgcopy *bc)
{
    struct poll p = {.bc = bc};
    ev_timer_init(&p.t, on_poll, &p);
    ev_timer_start(loop, &p.t, POLL_MS);
    assert_int_equal(ev_run(loop), 0);
    ev_timer_stop(loop, &p.t);
    assert_int_equal(proxy_bgcopy_pending(bc), 0);
}

static bool error_log_has(const char *needle)
{
    size_t len;
    char *p = slurp(errlog, &len);
    bool has = p && strstr(p, needle);
    free(p);
    return has;
}

/* ---- tests ---------------------------------------------------------- */

static void test_raw_and_mbox_copied_off_the_loop(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    struct proxy_bgcopy *bc = proxy_bgcopy_new(loop);
    assert_non_null(bc);
    const size_t raw_len = 3u << 20, blocks = 100000;
    int raw_src = source_bytes(raw_len), mbox_src = source_blocks(blocks);
    char raw_path[512], mbox_path[512];
    int raw_dst = dest("raw", raw_path, sizeof(raw_path));
    int mbox_dst = dest("mbox", mbox_path, sizeof(mbox_path));
    struct proxy_bgcopy_req raw = {
        .mode = PROXY_BGCOPY_RAW, .src = raw_src, .len = raw_len, .dst = raw_dst, .path = raw_path};
    struct proxy_bgcopy_req mbox = {.mode = PROXY_BGCOPY_MBOX,
                                    .src = mbox_src,
                                    .len = blocks * (sizeof(BLOCK) - 1),
                                    .dst = mbox_dst,
                                    .path = mbox_path,
                                    .sep = SEP};
    assert_int_equal(proxy_bgcopy_submit(bc, &raw, NULL), 0);
    assert_int_equal(proxy_bgcopy_submit(bc, &mbox, NULL), 0);
    assert_int_equal(proxy_bgcopy_pending(bc), 2);
    run_until_reported(loop, bc);

    assert_true(raw_content_ok(raw_path, raw_len));
    size_t len;
    char *box = slurp(mbox_path, &len);
    assert_non_null(box);
    size_t want = sizeof(SEP) - 1 + blocks * (sizeof(BLOCK_MBOX) - 1) + 1;
    assert_int_equal(len, want);
    assert_memory_equal(box, SEP, sizeof(SEP) - 1);
    for (size_t i = 0; i < blocks; i++)
        assert_memory_equal(box + sizeof(SEP) - 1 + i * (sizeof(BLOCK_MBOX) - 1), BLOCK_MBOX,
                            sizeof(BLOCK_MBOX) - 1);
    assert_int_equal(box[len - 1], '\n'); /* the empty line that ends the entry */
    free(box);
    /* The copier closed what it was given. */
    assert_true(fd_closed(raw_src) && fd_closed(raw_dst));
    assert_true(fd_closed(mbox_src) && fd_closed(mbox_dst));
    struct stat st;
    assert_int_equal(stat(mbox_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    unlink(raw_path);
    unlink(mbox_path);
    proxy_bgcopy_free(bc, 0);
    ev_loop_free(loop);
}

/* A copy that fails on the thread: its file is removed, and the error
 * line, written on the loop, names the session of the job's log context
 * (copied at submit: the caller's strings are gone by then). */
static void test_failure_removed_and_logged_with_session_context(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    struct proxy_bgcopy *bc = proxy_bgcopy_new(loop);
    assert_non_null(bc);
    char path[512];
    int w = dest("failing", path, sizeof(path));
    close(w);
    int ro = open(path, O_RDONLY | O_CLOEXEC); /* every write fails: EBADF */
    assert_true(ro >= 0);
    char client_ip[32] = "192.0.2.77", server_host[64] = "mx.upstream.example";
    struct svclog_ctx ctx = {.listen_port = 2525,
                             .internal_id = 3,
                             .client_ip = client_ip,
                             .client_port = 40000,
                             .server_host = server_host,
                             .server_port = 25};
    struct proxy_bgcopy_req req = {.mode = PROXY_BGCOPY_MBOX,
                                   .src = source_blocks(10),
                                   .len = 10 * (sizeof(BLOCK) - 1),
                                   .dst = ro,
                                   .path = path,
                                   .sep = SEP};
    assert_int_equal(proxy_bgcopy_submit(bc, &req, &ctx), 0);
    memset(client_ip, 'X', sizeof(client_ip) - 1); /* the session went away */
    memset(server_host, 'Y', sizeof(server_host) - 1);
    run_until_reported(loop, bc);

    assert_int_equal(access(path, F_OK), -1); /* removed */
    char want[2048];
    snprintf(want, sizeof(want), "quarantine: cannot write [%s]", path);
    assert_true(error_log_has(want));
    assert_true(error_log_has("192.0.2.77"));
    assert_true(error_log_has("mx.upstream.example"));
    assert_false(error_log_has("XXXX"));
    proxy_bgcopy_free(bc, 0);
    ev_loop_free(loop);
}

/* PROXY_BGCOPY_JOBS jobs fill the queue whether or not the thread has
 * copied them: a slot is free only once the loop reported its job. */
static void test_full_queue_refused_until_reported(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    struct proxy_bgcopy *bc = proxy_bgcopy_new(loop);
    assert_non_null(bc);
    char paths[PROXY_BGCOPY_JOBS + 1][512];
    for (int i = 0; i <= PROXY_BGCOPY_JOBS; i++) {
        char name[32];
        snprintf(name, sizeof(name), "q%d", i);
        struct proxy_bgcopy_req req = {.mode = PROXY_BGCOPY_RAW,
                                       .src = source_bytes(1000),
                                       .len = 1000,
                                       .dst = dest(name, paths[i], sizeof(paths[i])),
                                       .path = paths[i]};
        int rc = proxy_bgcopy_submit(bc, &req, NULL);
        if (i < PROXY_BGCOPY_JOBS) {
            assert_int_equal(rc, 0);
            continue;
        }
        assert_int_equal(rc, -1);
        assert_int_equal(errno, EAGAIN);
        assert_int_equal(proxy_bgcopy_pending(bc), PROXY_BGCOPY_JOBS);
        /* Refused: the descriptors are still the caller's. */
        assert_false(fd_closed(req.src) || fd_closed(req.dst));
        run_until_reported(loop, bc);
        assert_int_equal(proxy_bgcopy_submit(bc, &req, NULL), 0);
        run_until_reported(loop, bc);
    }
    for (int i = 0; i <= PROXY_BGCOPY_JOBS; i++) {
        assert_true(raw_content_ok(paths[i], 1000));
        unlink(paths[i]);
    }
    proxy_bgcopy_free(bc, 0);
    ev_loop_free(loop);
}

/* At a worker's exit the queued copies finish, without the loop. */
static void test_free_finishes_queued_copies(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    struct proxy_bgcopy *bc = proxy_bgcopy_new(loop);
    assert_non_null(bc);
    char paths[4][512];
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof(name), "drain%d", i);
        struct proxy_bgcopy_req req = {.mode = PROXY_BGCOPY_RAW,
                                       .src = source_bytes(2u << 20),
                                       .len = 2u << 20,
                                       .dst = dest(name, paths[i], sizeof(paths[i])),
                                       .path = paths[i]};
        assert_int_equal(proxy_bgcopy_submit(bc, &req, NULL), 0);
    }
    proxy_bgcopy_free(bc, PROXY_BGCOPY_DRAIN_MS);
    for (int i = 0; i < 4; i++) {
        assert_true(raw_content_ok(paths[i], 2u << 20));
        unlink(paths[i]);
    }
    ev_loop_free(loop);
}

/* With no time left, what is not copied yet is abandoned: each file is
 * complete, or removed and logged — never left partial. */
static void test_abandoned_copies_leave_no_partial_file(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new();
    struct proxy_bgcopy *bc = proxy_bgcopy_new(loop);
    assert_non_null(bc);
    const size_t n = 16u << 20;
    char paths[3][512];
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "abandon%d", i);
        struct proxy_bgcopy_req req = {.mode = PROXY_BGCOPY_RAW,
                                       .src = source_bytes(n),
                                       .len = n,
                                       .dst = dest(name, paths[i], sizeof(paths[i])),
                                       .path = paths[i]};
        assert_int_equal(proxy_bgcopy_submit(bc, &req, NULL), 0);
    }
    proxy_bgcopy_free(bc, 0);
    for (int i = 0; i < 3; i++) {
        char want[2048];
        snprintf(want, sizeof(want), "cannot write [%s]: the worker stopped", paths[i]);
        if (access(paths[i], F_OK) == 0) {
            assert_true(raw_content_ok(paths[i], n));
            assert_false(error_log_has(want));
            unlink(paths[i]);
        } else {
            assert_true(error_log_has(want));
        }
    }
    ev_loop_free(loop);
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(errlog, sizeof(errlog), "%s/error.log", dir);
    return log_sink_open(LOG_SINK_ERROR, errlog, (uid_t)-1, (gid_t)-1);
}

static int teardown(void **state)
{
    (void)state;
    log_sink_close_all();
    unlink(errlog);
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_and_mbox_copied_off_the_loop),
        cmocka_unit_test(test_failure_removed_and_logged_with_session_context),
        cmocka_unit_test(test_full_queue_refused_until_reported),
        cmocka_unit_test(test_free_finishes_queued_copies),
        cmocka_unit_test(test_abandoned_copies_leave_no_partial_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
