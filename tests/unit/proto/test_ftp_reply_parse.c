/* Unit tests for proto/ftp_reply_parse (RFC 959 4.2 replies, RFC 959/1123
 * PASV, RFC 2428 EPSV, LIST lines).
 *
 * Replies are fed whole, split at every point and one byte at a time,
 * and must give the same result; the line limit (998, spec §15) and the
 * line-count limit are probed at their edges; the text is checked for
 * sanitizing and truncation. LIST lines are real vsftpd output and the
 * other formats the parser promises to read or to hand back raw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/ftp_reply_parse.h"

/* ---- helpers ------------------------------------------------------------ */

/* parse p[0..n) whole; returns the result, *used the bytes consumed. */
static enum ftp_reply_result parse_whole(struct ftp_reply *r, const char *p, size_t n, size_t *used)
{
    ftp_reply_init(r);
    return ftp_reply_parse(r, p, n, used);
}

/* parse p one byte at a time; *used counts the bytes consumed in total. */
static enum ftp_reply_result parse_bytewise(struct ftp_reply *r, const char *p, size_t n,
                                            size_t *used)
{
    ftp_reply_init(r);
    enum ftp_reply_result res = FTP_REPLY_AGAIN;
    *used = 0;
    for (size_t i = 0; i < n && res == FTP_REPLY_AGAIN; i++) {
        size_t u = 0;
        res = ftp_reply_parse(r, p + i, 1, &u);
        *used += u;
    }
    return res;
}

/* expect_reply - p parses (whole, split anywhere, bytewise) to DONE with
 * code, text, and consumes exactly n_used bytes. */
static void expect_reply(const char *p, size_t n, size_t n_used, int code, const char *text)
{
    static struct ftp_reply r, s;
    size_t used = 0;
    assert_int_equal(parse_whole(&r, p, n, &used), FTP_REPLY_DONE);
    assert_int_equal(used, n_used);
    assert_int_equal(r.code, code);
    assert_string_equal(r.text, text);
    assert_int_equal(r.text_len, strlen(text));
    for (size_t cut = 0; cut <= n; cut++) {
        size_t u1 = 0, u2 = 0;
        ftp_reply_init(&s);
        enum ftp_reply_result res = ftp_reply_parse(&s, p, cut, &u1);
        if (res == FTP_REPLY_AGAIN) {
            assert_int_equal(u1, cut);
            res = ftp_reply_parse(&s, p + cut, n - cut, &u2);
        }
        assert_int_equal(res, FTP_REPLY_DONE);
        assert_int_equal(u1 + u2, n_used);
        assert_int_equal(s.code, code);
        assert_string_equal(s.text, text);
    }
    assert_int_equal(parse_bytewise(&s, p, n, &used), FTP_REPLY_DONE);
    assert_int_equal(used, n_used);
    assert_string_equal(s.text, text);
}

#define EXPECT(lit, code, text) expect_reply(lit, sizeof(lit) - 1, sizeof(lit) - 1, code, text)

static void expect_result(const char *p, size_t n, enum ftp_reply_result want)
{
    static struct ftp_reply r;
    size_t used = 0, used2 = 0;
    assert_int_equal(parse_whole(&r, p, n, &used), want);
    assert_int_equal(parse_bytewise(&r, p, n, &used2), want);
    assert_int_equal(used, used2);
}

/* ---- replies ------------------------------------------------------------ */

static void test_single_line(void **state)
{
    (void)state;
    EXPECT("220 (vsFTPd 3.0.3)\r\n", 220, "(vsFTPd 3.0.3)");
    EXPECT("230 Login successful.\n", 230, "Login successful."); /* bare LF */
    EXPECT("550 Failed to open file.\r\n", 550, "Failed to open file.");
    EXPECT("227 Entering Passive Mode (127,0,0,1,229,215).\r\n", 227,
           "Entering Passive Mode (127,0,0,1,229,215).");
    EXPECT("220\r\n", 220, "");  /* no text at all */
    EXPECT("220 \r\n", 220, ""); /* empty text */
    EXPECT("199 x\r\n", 199, "x");
    EXPECT("500  two  spaces \r\n", 500, " two  spaces ");
}

static void test_multi_line(void **state)
{
    (void)state;
    /* vsftpd's banner_file greeting, and RFC 959 4.2's own example. */
    EXPECT("220-Sekisho test server\r\n220-second banner line\r\n220 \r\n", 220,
           "Sekisho test server\nsecond banner line\n");
    EXPECT("123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n"
           "123 The last line\r\n",
           123, "First line\nSecond line\n  234 A line beginning with numbers\nThe last line");
    /* Another code with '-' or ' ' is text; only the same code ends it. */
    EXPECT("211-Features:\r\n SIZE\r\n211-x\r\n250 not the end\r\n211 End\r\n", 211,
           "Features:\n SIZE\nx\n250 not the end\nEnd");
    EXPECT("220-a\r\n220\r\n", 220, "a\n"); /* a last line of just the code */
    EXPECT("220-\r\n\r\n22\r\n220 ok\r\n", 220, "\n\n22\nok");
}

static void test_two_replies_in_one_buffer(void **state)
{
    (void)state;
    static const char in[] = "150 Here comes the directory listing.\r\n226 Directory send OK.\r\n";
    static const char first[] = "150 Here comes the directory listing.\r\n";
    expect_reply(in, sizeof(in) - 1, sizeof(first) - 1, 150, "Here comes the directory listing.");
    struct ftp_reply r;
    size_t used = 0;
    assert_int_equal(parse_whole(&r, in + sizeof(first) - 1, sizeof(in) - sizeof(first), &used),
                     FTP_REPLY_DONE);
    assert_int_equal(r.code, 226);
    assert_string_equal(r.text, "Directory send OK.");
    /* A finished parser returns its result again and consumes nothing. */
    assert_int_equal(ftp_reply_parse(&r, "220 x\r\n", 7, &used), FTP_REPLY_DONE);
    assert_int_equal(used, 0);
    assert_int_equal(r.code, 226);
}

static void test_again(void **state)
{
    (void)state;
    struct ftp_reply r;
    size_t used = 0;
    static const char part[] = "220-multi\r\n220 not yet";
    assert_int_equal(parse_whole(&r, part, sizeof(part) - 1, &used), FTP_REPLY_AGAIN);
    assert_int_equal(used, sizeof(part) - 1);
    assert_int_equal(parse_whole(&r, "", 0, &used), FTP_REPLY_AGAIN);
    assert_int_equal(used, 0);
    assert_int_equal(parse_whole(&r, "220 x\r", 6, &used), FTP_REPLY_AGAIN);
    assert_int_equal(ftp_reply_parse(&r, "\n", 1, &used), FTP_REPLY_DONE);
    assert_string_equal(r.text, "x");
}

static void test_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "abc\r\n",    "22\r\n",     "\r\n",      "620 x\r\n",  "020 x\r\n",
        "220x\r\n",   "2200 x\r\n", "22a x\r\n", " 220 x\r\n", "HTTP/1.1 200 OK\r\n",
        "220\tx\r\n", "-220 x\r\n", "2 0 x\r\n", "\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect_result(bad[i], strlen(bad[i]), FTP_REPLY_INVALID);
    }
    /* INVALID is decided by the fourth byte, before the line ends. */
    struct ftp_reply r;
    size_t used = 0;
    assert_int_equal(parse_whole(&r, "220x and more", 13, &used), FTP_REPLY_INVALID);
    assert_int_equal(used, 4);
}

static void test_line_limit(void **state)
{
    (void)state;
    static char line[FTP_REPLY_LINE_MAX + 8];
    struct ftp_reply r;
    size_t used = 0;
    /* exactly FTP_REPLY_LINE_MAX bytes before CR LF: accepted */
    memset(line, 'x', sizeof(line));
    memcpy(line, "550 ", 4);
    line[FTP_REPLY_LINE_MAX] = '\r';
    line[FTP_REPLY_LINE_MAX + 1] = '\n';
    assert_int_equal(parse_whole(&r, line, FTP_REPLY_LINE_MAX + 2, &used), FTP_REPLY_DONE);
    assert_int_equal(r.text_len, FTP_REPLY_LINE_MAX - 4);
    /* one byte more: refused at that byte */
    memset(line, 'x', sizeof(line));
    memcpy(line, "550 ", 4);
    line[FTP_REPLY_LINE_MAX + 1] = '\r';
    line[FTP_REPLY_LINE_MAX + 2] = '\n';
    expect_result(line, FTP_REPLY_LINE_MAX + 3, FTP_REPLY_TOO_LONG);
    assert_int_equal(parse_whole(&r, line, FTP_REPLY_LINE_MAX + 3, &used), FTP_REPLY_TOO_LONG);
    assert_int_equal(used, FTP_REPLY_LINE_MAX + 1);
    /* a CR that is not the line end counts as a byte of the line */
    memset(line, 'x', sizeof(line));
    memcpy(line, "550 ", 4);
    line[FTP_REPLY_LINE_MAX] = '\r';
    line[FTP_REPLY_LINE_MAX + 1] = 'y';
    expect_result(line, FTP_REPLY_LINE_MAX + 2, FTP_REPLY_TOO_LONG);
    /* the limit holds for continuation lines too */
    static char multi[FTP_REPLY_LINE_MAX + 32];
    memset(multi, 'z', sizeof(multi));
    memcpy(multi, "220-a\r\n", 7);
    expect_result(multi, sizeof(multi), FTP_REPLY_TOO_LONG);
}

static void test_lines_limit(void **state)
{
    (void)state;
    size_t cap = (FTP_REPLY_LINES_MAX + 2) * 8;
    char *buf = malloc(cap);
    assert_non_null(buf);
    /* FTP_REPLY_LINES_MAX lines in all: accepted */
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "220-x\r\n");
    for (int i = 0; i < FTP_REPLY_LINES_MAX - 2; i++)
        n += (size_t)snprintf(buf + n, cap - n, " l\r\n");
    n += (size_t)snprintf(buf + n, cap - n, "220 e\r\n");
    struct ftp_reply *r = malloc(sizeof(*r));
    assert_non_null(r);
    size_t used = 0;
    assert_int_equal(parse_whole(r, buf, n, &used), FTP_REPLY_DONE);
    assert_int_equal(r->lines, FTP_REPLY_LINES_MAX);
    assert_int_equal(used, n);
    /* one more: refused */
    n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "220-x\r\n");
    for (int i = 0; i < FTP_REPLY_LINES_MAX - 1; i++)
        n += (size_t)snprintf(buf + n, cap - n, " l\r\n");
    n += (size_t)snprintf(buf + n, cap - n, "220 e\r\n");
    assert_int_equal(parse_whole(r, buf, n, &used), FTP_REPLY_TOO_LONG);
    free(r);
    free(buf);
}

static void test_text_sanitized_and_truncated(void **state)
{
    (void)state;
    static const char ctl[] = "220 a\x01"
                              "b\x00"
                              "c\x7f"
                              "d\re\tf\r\n";
    expect_reply(ctl, sizeof(ctl) - 1, sizeof(ctl) - 1, 220, "a b c d e f");
    /* many lines: the text is cut at FTP_REPLY_TEXT_MAX, the reply is fine */
    static char big[8 * (FTP_REPLY_LINE_MAX + 2) + 16];
    size_t n = 0;
    memcpy(big, "220-", 4);
    n = 4;
    for (int l = 0; l < 8; l++) {
        memset(big + n, 'a' + l, 500);
        n += 500;
        memcpy(big + n, "\r\n", 2);
        n += 2;
    }
    memcpy(big + n, "220 end\r\n", 9);
    n += 9;
    struct ftp_reply r;
    size_t used = 0;
    assert_int_equal(parse_whole(&r, big, n, &used), FTP_REPLY_DONE);
    assert_int_equal(used, n);
    assert_true(r.truncated);
    assert_int_equal(r.text_len, FTP_REPLY_TEXT_MAX);
    assert_int_equal(strlen(r.text), FTP_REPLY_TEXT_MAX);
    assert_int_equal(r.text[0], 'a');
}

/* ---- PASV / EPSV -------------------------------------------------------- */

static void test_pasv(void **state)
{
    (void)state;
    uint8_t a[4];
    uint16_t port = 0;
    assert_int_equal(
        ftp_reply_parse_pasv(STR_LIT("Entering Passive Mode (127,0,0,1,229,215)."), a, &port),
        FTP_REPLY_DONE);
    assert_int_equal(port, 229 * 256 + 215);
    assert_int_equal(a[0], 127);
    assert_int_equal(a[3], 1);
    /* no parentheses (RFC 1123 4.1.2.6), digits before the address */
    assert_int_equal(ftp_reply_parse_pasv(STR_LIT("Mode 1 =10,0,0,255,0,21"), a, &port),
                     FTP_REPLY_DONE);
    assert_int_equal(port, 21);
    assert_int_equal(a[3], 255);
    assert_int_equal(ftp_reply_parse_pasv(STR_LIT("192,168,1,2,255,255"), a, &port),
                     FTP_REPLY_DONE);
    assert_int_equal(port, 65535);
    static const char *const bad[] = {
        "",
        "Entering Passive Mode",
        "(127,0,0,1,229)",
        "(127,0,0,1,229,256)",
        "(256,0,0,1,1,1)",
        "(127,0,0,1,0,0)",
        "(127,0,0,1,1,1,1)",
        "(127,0,0,1,1,0001)",
        "(127,0,0,1,,1)",
        "(127,0,0,1 ,1,1)",
        "(127,0,0,1,1,1,1,1,1,1,1,1)",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ftp_reply_parse_pasv(str_from_cstr(bad[i]), a, &port), FTP_REPLY_INVALID);
}

static void test_epsv(void **state)
{
    (void)state;
    uint16_t port = 0;
    assert_int_equal(
        ftp_reply_parse_epsv(STR_LIT("Entering Extended Passive Mode (|||40002|)"), &port),
        FTP_REPLY_DONE);
    assert_int_equal(port, 40002);
    assert_int_equal(ftp_reply_parse_epsv(STR_LIT("x (!!!1!)"), &port), FTP_REPLY_DONE);
    assert_int_equal(port, 1);
    assert_int_equal(ftp_reply_parse_epsv(STR_LIT("(bad) (|||65535|)"), &port), FTP_REPLY_DONE);
    assert_int_equal(port, 65535);
    static const char *const bad[] = {
        "",          "(|||0|)",     "(|||65536|)", "(||6446|)",    "(|||6446|",
        "(|||6446)", "(111222111)", "(   22 )",    "(|||123456|)", "(|||x|)",
        "(|||",      "(||||)",      "(|| |6446|)",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ftp_reply_parse_epsv(str_from_cstr(bad[i]), &port), FTP_REPLY_INVALID);
}

/* ---- LIST lines --------------------------------------------------------- */

static void assert_str(struct str s, const char *want)
{
    char tmp[512];
    str_copy_view(tmp, sizeof(tmp), s);
    assert_string_equal(tmp, want);
    assert_int_equal(s.len, strlen(want));
}

static void test_list_vsftpd(void **state)
{
    (void)state;
    struct ftp_list_entry e;
    assert_int_equal(
        ftp_list_parse_line(
            STR_LIT("-rw-r--r--    1 0        0         1048576 Nov 23 20:06 big.bin\r\n"), &e),
        FTP_LIST_ENTRY);
    assert_str(e.name, "big.bin");
    assert_str(e.mtime, "Nov 23 20:06");
    assert_str(e.raw, "-rw-r--r--    1 0        0         1048576 Nov 23 20:06 big.bin");
    assert_int_equal(e.type, FTP_LIST_FILE);
    assert_false(e.is_dir);
    assert_true(e.has_size);
    assert_int_equal(e.size, 1048576);
    assert_int_equal(e.target.len, 0);

    assert_int_equal(
        ftp_list_parse_line(STR_LIT("drwxr-xr-x    2 0        0            4096 Jan  5  2021 "
                                    "sub dir"),
                            &e),
        FTP_LIST_ENTRY);
    assert_str(e.name, "sub dir");
    assert_str(e.mtime, "Jan  5  2021");
    assert_true(e.is_dir);
    assert_int_equal(e.type, FTP_LIST_DIR);

    assert_int_equal(ftp_list_parse_line(STR_LIT("lrwxrwxrwx    1 0        0              10 "
                                                 "Nov 23 20:16 link.txt -> readme.txt"),
                                         &e),
                     FTP_LIST_ENTRY);
    assert_int_equal(e.type, FTP_LIST_LINK);
    assert_str(e.name, "link.txt");
    assert_str(e.target, "readme.txt");

    /* a name with leading spaces and one that looks like a date */
    assert_int_equal(
        ftp_list_parse_line(STR_LIT("-rw-r--r-- 1 u g 5 Nov 23 20:06  Dec 1 2020 x"), &e),
        FTP_LIST_ENTRY);
    assert_str(e.name, " Dec 1 2020 x");
    assert_int_equal(e.size, 5);
}

static void test_list_other_unix(void **state)
{
    (void)state;
    struct ftp_list_entry e;
    /* no group column (some servers), an ACL mark, a device, a pipe */
    assert_int_equal(ftp_list_parse_line(STR_LIT("-rw-r--r-- 1 ftp 12 Jan 1 2020 a.txt"), &e),
                     FTP_LIST_ENTRY);
    assert_str(e.name, "a.txt");
    assert_int_equal(e.size, 12);
    assert_int_equal(
        ftp_list_parse_line(STR_LIT("drwxr-xr-x+ 3 user group 4096 Feb 29 09:05 acl"), &e),
        FTP_LIST_ENTRY);
    assert_true(e.is_dir);
    assert_str(e.mtime, "Feb 29 09:05");
    assert_int_equal(
        ftp_list_parse_line(STR_LIT("crw-rw-rw- 1 root root 1, 3 Jan 1 2020 null"), &e),
        FTP_LIST_ENTRY);
    assert_int_equal(e.type, FTP_LIST_OTHER);
    assert_int_equal(e.size, 3);
    assert_int_equal(ftp_list_parse_line(STR_LIT("prw-r--r-- 1 a b 0 jan 1 2020 fifo"), &e),
                     FTP_LIST_ENTRY);
    assert_int_equal(e.type, FTP_LIST_OTHER);
    /* a link without a target is just its name */
    assert_int_equal(ftp_list_parse_line(STR_LIT("lrwxrwxrwx 1 a b 3 Jan 1 2020 l->x"), &e),
                     FTP_LIST_ENTRY);
    assert_str(e.name, "l->x");
    assert_int_equal(e.target.len, 0);
}

static void test_list_dos(void **state)
{
    (void)state;
    struct ftp_list_entry e;
    assert_int_equal(
        ftp_list_parse_line(STR_LIT("01-31-12  08:00PM       <DIR>          My Documents"), &e),
        FTP_LIST_ENTRY);
    assert_true(e.is_dir);
    assert_false(e.has_size);
    assert_str(e.name, "My Documents");
    assert_str(e.mtime, "01-31-12  08:00PM");
    assert_int_equal(
        ftp_list_parse_line(STR_LIT("01-31-2012  20:00                 1234 report.pdf\r\n"), &e),
        FTP_LIST_ENTRY);
    assert_false(e.is_dir);
    assert_true(e.has_size);
    assert_int_equal(e.size, 1234);
    assert_str(e.name, "report.pdf");
}

static void test_list_skip_and_unknown(void **state)
{
    (void)state;
    struct ftp_list_entry e;
    static const char *const skip[] = {
        "",
        "\r\n",
        "   ",
        "total 12",
        "total 0\r\n",
        "drwxr-xr-x 2 0 0 4096 Nov 23 20:06 .",
        "drwxr-xr-x 2 0 0 4096 Nov 23 20:06 ..",
        "01-31-12  08:00PM       <DIR>          .",
    };
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        assert_int_equal(ftp_list_parse_line(str_from_cstr(skip[i]), &e), FTP_LIST_SKIP);
    static const char *const unknown[] = {
        "+i8388621.29609,m824255902,/,\tpub", /* EPLF */
        "random text",
        "total twelve",
        "-rw-r--r-- 1 0 0 5 Nov 23 20:06",    /* no name */
        "-rw-r--r-- 1 0 0 5 Nov 23 20:06 ",   /* no name either */
        "-rw-r--r-- 1 0 0 x Nov 23 20:06 a",  /* no size */
        "-rw-r--r-- 1 0 0 5 Abc 23 20:06 a",  /* no month */
        "-rw-r--r-- 1 0 0 5 Nov 32 20:06 a",  /* no day */
        "-rw-r--r-- 1 0 0 5 Nov 23 2006: a",  /* no time */
        "xrw-r--r-- 1 0 0 5 Nov 23 20:06 a",  /* no type */
        " -rw-r--r-- 1 0 0 5 Nov 23 20:06 a", /* not at the start */
        "01-31-12  08:00XM  <DIR>  d",
        "01-31-12  08:00PM  <FILE>  d",
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct str line = str_from_cstr(unknown[i]);
        assert_int_equal(ftp_list_parse_line(line, &e), FTP_LIST_UNKNOWN);
        assert_true(e.raw.ptr == line.ptr);
        assert_int_equal(e.raw.len, line.len);
        assert_int_equal(e.name.len, 0);
        assert_false(e.has_size);
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ftp_reply_result_name(FTP_REPLY_DONE), "DONE");
    assert_string_equal(ftp_reply_result_name(FTP_REPLY_AGAIN), "AGAIN");
    assert_string_equal(ftp_reply_result_name(FTP_REPLY_INVALID), "INVALID");
    assert_string_equal(ftp_reply_result_name(FTP_REPLY_TOO_LONG), "TOO_LONG");
    assert_string_equal(ftp_reply_result_name((enum ftp_reply_result)9), "?");
    assert_string_equal(ftp_list_result_name(FTP_LIST_ENTRY), "ENTRY");
    assert_string_equal(ftp_list_result_name(FTP_LIST_SKIP), "SKIP");
    assert_string_equal(ftp_list_result_name(FTP_LIST_UNKNOWN), "UNKNOWN");
    assert_string_equal(ftp_list_type_name(FTP_LIST_DIR), "dir");
    assert_string_equal(ftp_list_type_name(FTP_LIST_LINK), "link");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_line),
        cmocka_unit_test(test_multi_line),
        cmocka_unit_test(test_two_replies_in_one_buffer),
        cmocka_unit_test(test_again),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_lines_limit),
        cmocka_unit_test(test_text_sanitized_and_truncated),
        cmocka_unit_test(test_pasv),
        cmocka_unit_test(test_epsv),
        cmocka_unit_test(test_list_vsftpd),
        cmocka_unit_test(test_list_other_unix),
        cmocka_unit_test(test_list_dos),
        cmocka_unit_test(test_list_skip_and_unknown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
