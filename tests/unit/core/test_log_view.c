/* Unit tests for core/log_view, the newest lines of a log file for the web
 * console (CLI-6, LOG-7), on files the tests write: an empty file, a last
 * line without '\n', CRLF and empty lines, lines over the limit (cut at a
 * character boundary and marked), invalid UTF-8 and control bytes, 2500
 * lines of which the newest 1000 come back newest first, the filter,
 * the logconv conversion, the read budget, a full output buffer, a
 * 2 GiB sparse file with a few lines at its end, the reads a large file
 * costs (never the whole file), errors that leave the output alone, and
 * random files compared with a straightforward forward reading. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log_view.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    (void)state;
    str_copy(dir, sizeof(dir), "/tmp/sekisho-logview-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/access.log", dir);
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    char p[160];
    snprintf(p, sizeof(p), "%s/fifo", dir);
    unlink(p);
    snprintf(p, sizeof(p), "%s/sub", dir);
    rmdir(p);
    rmdir(dir);
    return 0;
}

static void write_file(const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void write_text(const char *s)
{
    write_file(s, strlen(s));
}

/* The result of one call, NUL-terminated in a buffer of the documented
 * capacity. */
struct view_out {
    struct buf b;
    struct log_view_result r;
    char err[128];
    int rc;
};

static void view(struct view_out *v, const struct log_view_request *rq, size_t cap)
{
    memset(v, 0, sizeof(*v));
    buf_init(&v->b, NULL, 0);
    assert_int_equal(buf_alloc_storage(&v->b, cap + 1), 0);
    v->b.cap = cap; /* one byte kept for the NUL */
    v->rc = log_view_read(path, rq, &v->b, &v->r, v->err, sizeof(v->err));
    v->b.data[v->b.wpos] = '\0';
}

static size_t cap_for(const struct log_view_request *rq)
{
    return LOG_VIEW_OUT_CAP(rq->max_lines, rq->line_max ? rq->line_max : LOG_VIEW_LINE_MAX);
}

static void done(struct view_out *v)
{
    buf_fini(&v->b);
}

/* expect - the lines text (each ended by '\n', newest first) of path. */
static void expect(const struct log_view_request *rq, const char *want, size_t lines)
{
    struct view_out v;
    view(&v, rq, cap_for(rq));
    assert_int_equal(v.rc, 0);
    assert_string_equal(v.b.data, want);
    assert_int_equal(v.r.lines, lines);
    done(&v);
}

static void test_empty_file(void **state)
{
    (void)state;
    write_text("");
    struct log_view_request rq = {.max_lines = 1000};
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.rc, 0);
    assert_int_equal(v.b.wpos, 0);
    assert_int_equal(v.r.lines, 0);
    assert_true(v.r.at_start);
    assert_false(v.r.read_limit);
    assert_int_equal(v.r.file_size, 0);
    assert_int_equal(v.r.bytes_read, 0);
    done(&v);
    /* one '\n' is one empty line, as tail counts it */
    write_text("\n");
    expect(&rq, "\n", 1);
}

static void test_line_ends(void **state)
{
    (void)state;
    struct log_view_request rq = {.max_lines = 1000};
    write_text("one\ntwo\nthree");
    expect(&rq, "three\ntwo\none\n", 3);
    write_text("one\ntwo\nthree\n");
    expect(&rq, "three\ntwo\none\n", 3);
    /* CRLF: the CR goes; empty lines stay lines; a lone CR is a control byte */
    write_text("one\r\n\r\n\ntwo\r\nx\ry\r\n");
    expect(&rq, "x\xef\xbf\xbdy\ntwo\n\n\none\n", 5);
    write_text("\n\nlast");
    expect(&rq, "last\n\n\n", 3);
    rq.max_lines = 2;
    write_text("a\nb\nc\nd\n");
    expect(&rq, "d\nc\n", 2);
    rq.max_lines = 0;
    expect(&rq, "", 0);
}

static void test_long_lines_cut(void **state)
{
    (void)state;
    struct log_view_request rq = {.max_lines = 10, .line_max = 16};
    /* 16 bytes are shown whole, also with a CR; 17 are cut */
    write_text("0123456789abcdef\n0123456789abcdef\r\n0123456789abcdefg\nshort\n");
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.rc, 0);
    assert_string_equal(v.b.data, "short\n"
                                  "0123456789abcdef [cut: line of 17 bytes]\n"
                                  "0123456789abcdef\n"
                                  "0123456789abcdef\n");
    assert_int_equal(v.r.lines, 4);
    assert_int_equal(v.r.cut_lines, 1);
    done(&v);

    /* a 3 MiB line between two short ones, the default limit */
    size_t big = 3u << 20;
    char *data = malloc(big + 32);
    assert_non_null(data);
    memcpy(data, "first\n", 6);
    memset(data + 6, 'x', big);
    memcpy(data + 6 + big, "\nlast\n", 6);
    write_file(data, big + 12);
    rq = (struct log_view_request){.max_lines = 10};
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.rc, 0);
    assert_int_equal(v.r.lines, 3);
    assert_int_equal(v.r.cut_lines, 1);
    assert_true(v.r.at_start);
    char want[128];
    snprintf(want, sizeof(want), " [cut: line of %zu bytes]\nfirst\n", big);
    size_t wl = strlen(want);
    assert_int_equal(v.b.wpos, 5 + LOG_VIEW_LINE_MAX + wl);
    assert_memory_equal(v.b.data, "last\n", 5);
    for (size_t i = 0; i < LOG_VIEW_LINE_MAX; i++)
        assert_int_equal(v.b.data[5 + i], 'x');
    assert_string_equal(v.b.data + 5 + LOG_VIEW_LINE_MAX, want);
    done(&v);
    free(data);
}

static void test_utf8(void **state)
{
    (void)state;
    struct log_view_request rq = {.max_lines = 20};
    /* valid text is kept, each bad byte is one U+FFFD */
    static const char text[] = "日本語 ok é 𝄞\n"
                               "bad \xff\xfe end\n"
                               "overlong \xc0\xaf and \xe0\x80\xaf\n"
                               "surrogate \xed\xa0\x80\n"
                               "too high \xf4\x90\x80\x80\n"
                               "cut short \xe6\x97 x\n"
                               "at the end \xe6\x97\n"
                               "nul \x00 esc \x1b del \x7f tab \t\n";
    write_file(text, sizeof(text) - 1);
    expect(&rq,
           "nul \xef\xbf\xbd esc \xef\xbf\xbd del \xef\xbf\xbd tab \t\n"
           "at the end \xef\xbf\xbd\xef\xbf\xbd\n"
           "cut short \xef\xbf\xbd\xef\xbf\xbd x\n"
           "too high \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n"
           "surrogate \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n"
           "overlong \xef\xbf\xbd\xef\xbf\xbd and \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\n"
           "bad \xef\xbf\xbd\xef\xbf\xbd end\n"
           "日本語 ok é 𝄞\n",
           8);
}

static void test_cut_keeps_characters_whole(void **state)
{
    (void)state;
    /* "abcd日本" is 10 bytes: with 5 shown, 日 (3 bytes) does not fit */
    struct log_view_request rq = {.max_lines = 5, .line_max = 5};
    write_text("abcd日本\n");
    expect(&rq, "abcd [cut: line of 10 bytes]\n", 1);
    rq.line_max = 7;
    expect(&rq, "abcd日 [cut: line of 10 bytes]\n", 1);
    /* replacements count as the three bytes they take */
    rq.line_max = 6;
    write_text("ab\xff\xff\xff\n");
    expect(&rq, "ab\xef\xbf\xbd [cut: line of 5 bytes]\n", 1);
    /* a sequence the cut hides is not called invalid */
    rq.line_max = 4;
    write_text("abc日本語\n");
    expect(&rq, "abc [cut: line of 12 bytes]\n", 1);
}

/* A line of the many-lines file: its number and a length that varies, so
 * lines end at every offset of the read blocks. */
static int numbered_line(char *dst, size_t cap, unsigned i)
{
    static const char fill[] = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz";
    return snprintf(dst, cap, "%u line %.*s\n", i, (int)(i * 7 % 61), fill);
}

static void test_many_lines_newest_first(void **state)
{
    (void)state;
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    char line[128];
    for (unsigned i = 0; i < 2500; i++) {
        numbered_line(line, sizeof(line), i);
        fputs(line, f);
    }
    assert_int_equal(fclose(f), 0);

    struct log_view_request rq = {.max_lines = 1000};
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.rc, 0);
    assert_int_equal(v.r.lines, 1000);
    assert_false(v.r.at_start);
    assert_false(v.r.read_limit);
    char *p = v.b.data;
    for (unsigned i = 2499; i >= 1500; i--) {
        numbered_line(line, sizeof(line), i);
        size_t n = strlen(line);
        if (strncmp(p, line, n) != 0)
            fail_msg("line %u: got %.60s", i, p);
        p += n;
    }
    assert_int_equal(*p, '\0');
    done(&v);
}

static void test_filter(void **state)
{
    (void)state;
    write_text("1 GET http://a/EICAR.com\n"
               "2 GET http://a/clean\n"
               "3 GET http://a/eicar.zip\n"
               "4 GET http://a/EiCaR\n"
               "5 日本語 EICAR\n"
               "6 ÉICAR\n");
    struct log_view_request rq = {.max_lines = 10, .filter = str_from_cstr("eicar")};
    expect(&rq,
           "5 日本語 EICAR\n4 GET http://a/EiCaR\n3 GET http://a/eicar.zip\n"
           "1 GET http://a/EICAR.com\n",
           4);
    /* only ASCII letters fold: é does not match É, É matches itself */
    rq.filter = str_from_cstr("éicar");
    expect(&rq, "", 0);
    rq.filter = str_from_cstr("Éicar");
    expect(&rq, "6 ÉICAR\n", 1);
    rq.filter = str_from_cstr("日本");
    expect(&rq, "5 日本語 EICAR\n", 1);
    /* max_lines counts matching lines */
    rq.filter = str_from_cstr("EICAR");
    rq.max_lines = 2;
    expect(&rq, "5 日本語 EICAR\n4 GET http://a/EiCaR\n", 2);
    rq.max_lines = 10;
    rq.filter = str_from_cstr("nothing like it");
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.r.lines, 0);
    assert_true(v.r.at_start);
    done(&v);
    /* the filter sees the text as shown: the converted time, not what the
     * cut left out */
    write_text("1327996843.799 GET x\n1419552128.199 GET y\n");
    rq = (struct log_view_request){
        .max_lines = 10, .convert = true, .filter = str_from_cstr("2012-01-31")};
    expect(&rq, "2012-01-31 08:00:43 : 1327996843.799 GET x\n", 1);
    rq.line_max = 16;
    rq.filter = str_from_cstr("GET");
    expect(&rq, "", 0);
}

static void test_convert(void **state)
{
    (void)state;
    write_text("1327996843.799   9153 192.51.16.1 TCP_MISS/200\n"
               "continuation of it\n"
               "2014-12-26 00:02:08 : 1419552128.199 already converted\n"
               "1000000000.000 [2001/09/09 01:46:40 9080 - -:-:- -:-:-] main: ### START ###\r\n"
               "99999999 eight digits\n");
    struct log_view_request rq = {.max_lines = 10, .convert = true};
    expect(&rq,
           "99999999 eight digits\n"
           "2001-09-09 01:46:40 : 1000000000.000 [2001/09/09 01:46:40 9080 - -:-:- -:-:-] main: "
           "### START ###\n"
           "2014-12-26 00:02:08 : 1419552128.199 already converted\n"
           "continuation of it\n"
           "2012-01-31 08:00:43 : 1327996843.799   9153 192.51.16.1 TCP_MISS/200\n",
           5);
    rq.convert = false;
    expect(&rq,
           "99999999 eight digits\n"
           "1000000000.000 [2001/09/09 01:46:40 9080 - -:-:- -:-:-] main: ### START ###\n"
           "2014-12-26 00:02:08 : 1419552128.199 already converted\n"
           "continuation of it\n"
           "1327996843.799   9153 192.51.16.1 TCP_MISS/200\n",
           5);
    /* the prefix does not count against line_max; a cut line is converted */
    rq = (struct log_view_request){.max_lines = 10, .convert = true, .line_max = 14};
    write_text("1327996843.799 GET x\n");
    expect(&rq, "2012-01-31 08:00:43 : 1327996843.799 [cut: line of 20 bytes]\n", 1);
}

static void test_read_budget(void **state)
{
    (void)state;
    /* 100 lines of 10 bytes: a budget of 95 bytes reads 9 whole lines and
     * part of the tenth, which is not shown */
    char data[1000];
    for (int i = 0; i < 100; i++) {
        char l[32];
        snprintf(l, sizeof(l), "line %03d.\n", i);
        memcpy(data + i * 10, l, 10);
    }
    write_file(data, sizeof(data));
    struct log_view_request rq = {.max_lines = 1000, .read_max = 95};
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.rc, 0);
    assert_true(v.r.read_limit);
    assert_false(v.r.at_start);
    assert_int_equal(v.r.lines, 9);
    assert_int_equal(v.r.bytes_read, 95);
    assert_memory_equal(v.b.data, "line 099.\nline 098.\n", 20);
    assert_string_equal(v.b.data + 80, "line 091.\n");
    done(&v);
    /* enough budget: the whole file, no flag */
    rq.read_max = 1000;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.r.lines, 100);
    assert_false(v.r.read_limit);
    assert_true(v.r.at_start);
    assert_int_equal(v.r.bytes_read, 1000);
    done(&v);
    /* max_lines reached first: no flag either */
    rq.max_lines = 5;
    rq.read_max = 60;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.r.lines, 5);
    assert_false(v.r.read_limit);
    assert_false(v.r.at_start);
    done(&v);
}

static void test_out_full(void **state)
{
    (void)state;
    write_text("aaaa\nbbbb\ncccc\n");
    struct log_view_request rq = {.max_lines = 10};
    struct view_out v;
    /* room for two lines and a half: two, and the flag */
    view(&v, &rq, 12);
    assert_int_equal(v.rc, 0);
    assert_string_equal(v.b.data, "cccc\nbbbb\n");
    assert_int_equal(v.r.lines, 2);
    assert_true(v.r.out_full);
    assert_false(v.r.at_start);
    done(&v);
    /* lines are appended after what out holds */
    view(&v, &rq, 64);
    assert_int_equal(v.r.lines, 3);
    struct log_view_result r;
    char err[64];
    assert_int_equal(log_view_read(path, &rq, &v.b, &r, err, sizeof(err)), 0);
    v.b.data[v.b.wpos] = '\0';
    assert_string_equal(v.b.data, "cccc\nbbbb\naaaa\ncccc\nbbbb\naaaa\n");
    done(&v);
}

static void test_sparse_2gib_file(void **state)
{
    (void)state;
    /* 2 GiB of hole, then three lines: the lines come back, the hole's
     * NUL bytes (a line without end) stop the reading at the budget, not
     * at 2 GiB. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    const off_t hole = (off_t)2 << 30;
    static const char tail[] = "\n1327996843.799 first\n1327996844.000 second\nthird without end";
    assert_int_equal(pwrite(fd, tail, sizeof(tail) - 1, hole), (ssize_t)(sizeof(tail) - 1));
    assert_int_equal(close(fd), 0);

    struct log_view_request rq = {.max_lines = 1000, .convert = true};
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.rc, 0);
    assert_string_equal(v.b.data, "third without end\n"
                                  "2012-01-31 08:00:44 : 1327996844.000 second\n"
                                  "2012-01-31 08:00:43 : 1327996843.799 first\n");
    assert_int_equal(v.r.lines, 3);
    assert_true(v.r.read_limit);
    assert_false(v.r.at_start);
    assert_int_equal(v.r.file_size, (uint64_t)hole + sizeof(tail) - 1);
    assert_int_equal(v.r.bytes_read, LOG_VIEW_READ_MAX);
    done(&v);
    /* a few lines wanted: a few bytes read */
    rq.max_lines = 2;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.r.lines, 2);
    assert_false(v.r.read_limit);
    assert_true(v.r.bytes_read <= LOG_VIEW_CHUNK);
    done(&v);
    assert_int_equal(unlink(path), 0);
}

static void test_large_file_read_from_the_end(void **state)
{
    (void)state;
    /* 20 MB of 100-byte lines: 1000 lines cost about 100 KB of reads */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    char line[101];
    for (unsigned i = 0; i < 200000; i++) {
        snprintf(line, sizeof(line), "%010u %088u\n", i, i);
        assert_int_equal(fwrite(line, 1, 100, f), 100);
    }
    assert_int_equal(fclose(f), 0);
    struct log_view_request rq = {.max_lines = 1000};
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.r.lines, 1000);
    assert_true(v.r.bytes_read >= 100000);
    assert_true(v.r.bytes_read <= 100000 + LOG_VIEW_CHUNK);
    snprintf(line, sizeof(line), "%010u %088u\n", 199999u, 199999u);
    assert_memory_equal(v.b.data, line, 100);
    snprintf(line, sizeof(line), "%010u %088u\n", 199000u, 199000u);
    assert_memory_equal(v.b.data + 99900, line, 100);
    done(&v);
}

static void test_lines_across_blocks(void **state)
{
    (void)state;
    /* Lines longer than a read block, shown whole (line_max at its cap):
     * their start is found blocks before their end and read again. */
    size_t n1 = LOG_VIEW_LINE_MAX_CAP - 1, n2 = LOG_VIEW_CHUNK + 1000;
    size_t total = 4 + n1 + 1 + n2 + 1 + 4;
    char *data = malloc(total);
    assert_non_null(data);
    char *p = data;
    memcpy(p, "top\n", 4);
    p += 4;
    for (size_t i = 0; i < n1; i++)
        *p++ = (char)('a' + i % 26);
    *p++ = '\n';
    for (size_t i = 0; i < n2; i++)
        *p++ = (char)('A' + i % 26);
    *p++ = '\n';
    memcpy(p, "end\n", 4);
    write_file(data, total);
    struct log_view_request rq = {.max_lines = 10, .line_max = LOG_VIEW_LINE_MAX_CAP};
    struct view_out v;
    view(&v, &rq, cap_for(&rq));
    assert_int_equal(v.rc, 0);
    assert_int_equal(v.r.lines, 4);
    assert_int_equal(v.r.cut_lines, 1);
    char *o = v.b.data;
    assert_memory_equal(o, "end\n", 4);
    o += 4;
    assert_memory_equal(o, data + 4 + n1 + 1, LOG_VIEW_LINE_MAX_CAP);
    o += LOG_VIEW_LINE_MAX_CAP;
    char mark[64];
    snprintf(mark, sizeof(mark), " [cut: line of %zu bytes]\n", n2);
    assert_memory_equal(o, mark, strlen(mark));
    o += strlen(mark);
    assert_memory_equal(o, data + 4, n1);
    o += n1;
    assert_string_equal(o, "\ntop\n");
    done(&v);
    free(data);
}

static void test_errors_leave_out_alone(void **state)
{
    (void)state;
    struct log_view_request rq = {.max_lines = 10};
    char mem[64];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    buf_append_cstr(&b, "kept");
    struct log_view_result r;
    char err[128];

    unlink(path);
    errno = 0;
    assert_int_equal(log_view_read(path, &rq, &b, &r, err, sizeof(err)), -1);
    assert_int_equal(errno, ENOENT);
    assert_string_equal(err, "cannot open: No such file or directory");

    char p[160];
    snprintf(p, sizeof(p), "%s/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    struct log_view_result r2;
    assert_int_equal(log_view_read(p, &rq, &b, &r2, err, sizeof(err)), -1);
    assert_string_equal(err, "not a regular file");

    /* a FIFO without a writer: refused at once, not waited on */
    snprintf(p, sizeof(p), "%s/fifo", dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    assert_int_equal(log_view_read(p, &rq, &b, &r2, err, sizeof(err)), -1);
    assert_string_equal(err, "not a regular file");

    write_text("line\n");
    rq.line_max = LOG_VIEW_LINE_MAX_CAP + 1;
    assert_int_equal(log_view_read(path, &rq, &b, &r, err, sizeof(err)), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(err, "line limit too large");
    rq.line_max = 0;
    char longf[LOG_VIEW_FILTER_MAX + 1];
    memset(longf, 'f', sizeof(longf));
    rq.filter = str_make(longf, sizeof(longf));
    assert_int_equal(log_view_read(path, &rq, &b, &r, err, sizeof(err)), -1);
    assert_string_equal(err, "filter too long");
    rq.filter = str_make(longf, LOG_VIEW_FILTER_MAX);
    assert_int_equal(log_view_read(path, &rq, &b, &r, err, sizeof(err)), 0);
    assert_int_equal(r.lines, 0);

    assert_int_equal(b.wpos, 4);
    assert_memory_equal(b.data, "kept", 4);
}

/* Random files of printable ASCII, CRLF and empty lines, some lines
 * longer than a block, read forward by the obvious method and compared. */
static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void reference(const char *data, size_t n, const struct log_view_request *rq, char *out,
                      size_t *outn, size_t *lines)
{
    /* the lines forward, then emitted backwards */
    size_t starts_cap = n + 2, count = 0;
    size_t *st = malloc(starts_cap * sizeof(*st));
    size_t *en = malloc(starts_cap * sizeof(*en));
    assert_true(st && en);
    size_t s = 0;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            st[count] = s;
            en[count++] = i;
            s = i + 1;
        }
    }
    if (s < n) {
        st[count] = s;
        en[count++] = n;
    }
    *outn = 0;
    *lines = 0;
    for (size_t k = count; k-- > 0 && *lines < rq->max_lines;) {
        size_t len = en[k] - st[k], shown = len;
        if (shown && data[st[k] + shown - 1] == '\r')
            shown--;
        bool cut = shown > rq->line_max;
        if (cut)
            shown = rq->line_max;
        bool match = rq->filter.len == 0;
        for (size_t i = 0; !match && i + rq->filter.len <= shown; i++)
            match = str_caseeq(str_make(data + st[k] + i, rq->filter.len), rq->filter);
        if (!match)
            continue;
        memcpy(out + *outn, data + st[k], shown);
        *outn += shown;
        if (cut)
            *outn += (size_t)snprintf(out + *outn, 64, LOG_VIEW_CUT_MARK, (unsigned long long)len);
        out[(*outn)++] = '\n';
        (*lines)++;
    }
    free(st);
    free(en);
}

static void test_against_forward_reading(void **state)
{
    (void)state;
    static const char alphabet[] = "abAB xyz:/.0123";
    for (int round = 0; round < 40; round++) {
        size_t nlines = next() % 3000;
        size_t cap = nlines * 220 + 4 * 200000 + 16;
        char *data = malloc(cap);
        assert_non_null(data);
        size_t n = 0;
        int longs = 0;
        for (size_t i = 0; i < nlines; i++) {
            size_t len = next() % 200;
            if (next() % 500 == 0 && longs < 4) {
                len = 60000 + next() % 140000;
                longs++;
            }
            for (size_t j = 0; j < len; j++)
                data[n++] = alphabet[next() % (sizeof(alphabet) - 1)];
            if (next() % 4 == 0)
                data[n++] = '\r';
            if (i + 1 < nlines || next() % 2)
                data[n++] = '\n';
        }
        write_file(data, n);
        struct log_view_request rq = {.max_lines = 1 + next() % 1200};
        static const size_t limits[] = {LOG_VIEW_LINE_MAX, 100, 1, 18928};
        rq.line_max = limits[next() % 4];
        if (next() % 2)
            rq.filter = str_from_cstr(next() % 2 ? "Ab" : "x:/");
        size_t outcap = LOG_VIEW_OUT_CAP(rq.max_lines, rq.line_max);
        char *want = malloc(outcap);
        assert_non_null(want);
        size_t wn, wlines;
        reference(data, n, &rq, want, &wn, &wlines);
        struct view_out v;
        view(&v, &rq, outcap);
        assert_int_equal(v.rc, 0);
        if (v.r.lines != wlines || v.b.wpos != wn || memcmp(v.b.data, want, wn) != 0)
            fail_msg("round %d (%zu lines, %zu bytes, max %zu, line_max %zu): %zu lines "
                     "%zu bytes, want %zu lines %zu bytes",
                     round, nlines, n, rq.max_lines, rq.line_max, v.r.lines, v.b.wpos, wlines, wn);
        assert_false(v.r.read_limit);
        if (wlines < rq.max_lines)
            assert_true(v.r.at_start);
        done(&v);
        free(want);
        free(data);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_long_lines_cut),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_cut_keeps_characters_whole),
        cmocka_unit_test(test_many_lines_newest_first),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_convert),
        cmocka_unit_test(test_read_budget),
        cmocka_unit_test(test_out_full),
        cmocka_unit_test(test_sparse_2gib_file),
        cmocka_unit_test(test_large_file_read_from_the_end),
        cmocka_unit_test(test_lines_across_blocks),
        cmocka_unit_test(test_errors_leave_out_alone),
        cmocka_unit_test(test_against_forward_reading),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
