/* Unit tests for proto/smtp_parse: command lines (C-04), commands
 * (SMTP-1, SMTP-11), MAIL/RCPT paths (SMTP-6, SMTP-7), server replies
 * (RFC 5321 4.2), the EHLO edit (SMTP-5) and the proxy's replies (SMTP-2).
 *
 * The line limit is probed at SMTP_LINE_MAX and one byte over, with and
 * without the line end present; replies are fed whole and cut at every
 * point; the EHLO edit is checked byte for byte on a real postfix reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/smtp_parse.h"

#define LIT(s) (s), (sizeof(s) - 1)

static void assert_str(struct str s, const char *want)
{
    char tmp[512];
    if (s.len != strlen(want) || memcmp(s.ptr, want, s.len) != 0) {
        str_copy_view(tmp, sizeof(tmp), s);
        print_error("got \"%s\" (%zu bytes), want \"%s\"\n", tmp, s.len, want);
        fail();
    }
}

/* ---- smtp_line_find ----------------------------------------------------- */

static void test_line_crlf(void **state)
{
    (void)state;
    size_t l = 99, c = 99;
    assert_int_equal(smtp_line_find(LIT("NOOP\r\nQUIT\r\n"), &l, &c), SMTP_DONE);
    assert_int_equal(l, 4);
    assert_int_equal(c, 6);
    assert_int_equal(smtp_line_find(LIT("\r\n"), &l, &c), SMTP_DONE);
    assert_int_equal(l, 0);
    assert_int_equal(c, 2);
    /* a CR that is not before the LF belongs to the line */
    assert_int_equal(smtp_line_find(LIT("A\rB\r\n"), &l, &c), SMTP_DONE);
    assert_int_equal(l, 3);
    assert_int_equal(c, 5);
}

static void test_line_bare_lf(void **state)
{
    (void)state;
    size_t l = 0, c = 0;
    assert_int_equal(smtp_line_find(LIT("QUIT\nNOOP\r\n"), &l, &c), SMTP_DONE);
    assert_int_equal(l, 4);
    assert_int_equal(c, 5);
    assert_int_equal(smtp_line_find(LIT("\n"), &l, &c), SMTP_DONE);
    assert_int_equal(l, 0);
    assert_int_equal(c, 1);
}

static void test_line_again(void **state)
{
    (void)state;
    size_t l = 7, c = 7;
    assert_int_equal(smtp_line_find("", 0, &l, &c), SMTP_AGAIN);
    assert_int_equal(smtp_line_find(LIT("NOOP"), &l, &c), SMTP_AGAIN);
    assert_int_equal(smtp_line_find(LIT("NOOP\r"), &l, &c), SMTP_AGAIN);
    /* outputs are left alone when not DONE */
    assert_int_equal(l, 7);
    assert_int_equal(c, 7);
}

static void test_line_nul(void **state)
{
    (void)state;
    size_t l = 0, c = 0;
    assert_int_equal(smtp_line_find(LIT("NO\0OP\r\n"), &l, &c), SMTP_DONE);
    assert_int_equal(l, 5);
    assert_int_equal(c, 7);
}

/* C-04: SMTP_LINE_MAX bytes are accepted, one more is refused, whether
 * the line end is CR LF, a bare LF, or not there yet. */
static void test_line_boundary(void **state)
{
    (void)state;
    static char b[SMTP_LINE_MAX + 16];
    size_t l = 0, c = 0;
    memset(b, 'x', sizeof(b));
    memcpy(b + SMTP_LINE_MAX, "\r\n", 2);
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 2, &l, &c), SMTP_DONE);
    assert_int_equal(l, SMTP_LINE_MAX);
    assert_int_equal(c, SMTP_LINE_MAX + 2);
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 1, &l, &c), SMTP_AGAIN); /* CR held */
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX, &l, &c), SMTP_AGAIN);
    b[SMTP_LINE_MAX] = '\n';
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 1, &l, &c), SMTP_DONE);
    assert_int_equal(l, SMTP_LINE_MAX);
    assert_int_equal(c, SMTP_LINE_MAX + 1);
    /* one byte more */
    memset(b, 'x', sizeof(b));
    memcpy(b + SMTP_LINE_MAX + 1, "\r\n", 2);
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 3, &l, &c), SMTP_TOO_LONG);
    b[SMTP_LINE_MAX + 1] = '\n';
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 2, &l, &c), SMTP_TOO_LONG);
}

/* TOO_LONG is known before the LF arrives: a client cannot make the
 * proxy buffer an endless line. */
static void test_line_too_long_before_lf(void **state)
{
    (void)state;
    static char b[SMTP_LINE_MAX + 16];
    size_t l = 0, c = 0;
    memset(b, 'x', sizeof(b));
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 1, &l, &c), SMTP_TOO_LONG);
    assert_int_equal(smtp_line_find(b, sizeof(b), &l, &c), SMTP_TOO_LONG);
    /* a CR at the limit might still be the line end; the byte after it decides */
    b[SMTP_LINE_MAX] = '\r';
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 1, &l, &c), SMTP_AGAIN);
    assert_int_equal(smtp_line_find(b, SMTP_LINE_MAX + 2, &l, &c), SMTP_TOO_LONG);
}

/* ---- smtp_command_parse ------------------------------------------------- */

static struct smtp_command parse_cmd(const char *p, size_t n)
{
    struct smtp_command c;
    memset(&c, 0xa5, sizeof(c));
    smtp_command_parse(str_make(p, n), &c);
    return c;
}

static void test_command_verbs(void **state)
{
    (void)state;
    static const char *const names[] = {"HELO", "EHLO",     "MAIL", "RCPT",     "DATA",
                                        "RSET", "VRFY",     "EXPN", "HELP",     "NOOP",
                                        "QUIT", "XFORWARD", "AUTH", "STARTTLS", "BDAT"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct smtp_command c = parse_cmd(names[i], strlen(names[i]));
        assert_int_not_equal(c.verb, SMTP_V_UNKNOWN);
        assert_string_equal(smtp_verb_name(c.verb), names[i]);
        assert_str(c.verb_text, names[i]);
        assert_int_equal(c.arg.len, 0);
    }
    assert_string_equal(smtp_verb_name(SMTP_V_UNKNOWN), "UNKNOWN");
    assert_string_equal(smtp_verb_name((enum smtp_verb)999), "?");
}

static void test_command_case(void **state)
{
    (void)state;
    struct smtp_command c = parse_cmd(LIT("mail FROM:<a@b>"));
    assert_int_equal(c.verb, SMTP_V_MAIL);
    assert_str(c.verb_text, "mail");
    assert_str(c.arg, "FROM:<a@b>");
    assert_int_equal(parse_cmd(LIT("Ehlo client.example")).verb, SMTP_V_EHLO);
    assert_int_equal(parse_cmd(LIT("rCpT TO:<x@y>")).verb, SMTP_V_RCPT);
    assert_int_equal(parse_cmd(LIT("xforward NAME=x")).verb, SMTP_V_XFORWARD);
}

static void test_command_spacing(void **state)
{
    (void)state;
    struct smtp_command c = parse_cmd(LIT("MAIL   FROM:<a@b>  SIZE=10   "));
    assert_int_equal(c.verb, SMTP_V_MAIL);
    assert_str(c.arg, "FROM:<a@b>  SIZE=10");
    c = parse_cmd(LIT("  NOOP"));
    assert_int_equal(c.verb, SMTP_V_NOOP);
    assert_str(c.verb_text, "NOOP");
    c = parse_cmd(LIT("RCPT\tTO:<x@y>\t"));
    assert_int_equal(c.verb, SMTP_V_RCPT);
    assert_str(c.arg, "TO:<x@y>");
    c = parse_cmd(LIT("QUIT   "));
    assert_int_equal(c.verb, SMTP_V_QUIT);
    assert_int_equal(c.arg.len, 0);
    c = parse_cmd(LIT("HELO a b  c"));
    assert_str(c.arg, "a b  c");
}

static void test_command_unknown(void **state)
{
    (void)state;
    struct smtp_command c = parse_cmd(LIT("TEST"));
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_str(c.verb_text, "TEST");
    c = parse_cmd(LIT("TURN now"));
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_str(c.verb_text, "TURN");
    assert_str(c.arg, "now");
    c = parse_cmd("", 0);
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_int_equal(c.verb_text.len, 0);
    assert_int_equal(c.arg.len, 0);
    c = parse_cmd(LIT("   "));
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_int_equal(c.verb_text.len, 0);
    assert_int_equal(parse_cmd(LIT("HEL")).verb, SMTP_V_UNKNOWN);
    assert_int_equal(parse_cmd(LIT("HELOO")).verb, SMTP_V_UNKNOWN);
}

static void test_command_glued(void **state)
{
    (void)state;
    struct smtp_command c = parse_cmd(LIT("MAILFROM:<a@b>"));
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_str(c.verb_text, "MAILFROM:<a@b>");
    assert_int_equal(parse_cmd(LIT("DATAX")).verb, SMTP_V_UNKNOWN);
    assert_int_equal(parse_cmd(LIT("RCPT:TO:<a@b>")).verb, SMTP_V_UNKNOWN);
}

/* A NUL, a CR or another control byte makes the command unknown: it is
 * answered 500 and never relayed upstream. HT is a blank, not refused. */
static void test_command_control_bytes(void **state)
{
    (void)state;
    struct smtp_command c = parse_cmd(LIT("NOOP\0"));
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_int_equal(c.verb_text.len, 5); /* the NUL is part of the word */
    c = parse_cmd(LIT("NOOP x\rRCPT TO:<v@remote.example>"));
    assert_int_equal(c.verb, SMTP_V_UNKNOWN);
    assert_str(c.verb_text, "NOOP");
    assert_int_equal(parse_cmd(LIT("VRFY a\x1b[2J")).verb, SMTP_V_UNKNOWN);
    assert_int_equal(parse_cmd(LIT("HELP \x7f")).verb, SMTP_V_UNKNOWN);
    assert_int_equal(parse_cmd(LIT("HELP\tme")).verb, SMTP_V_HELP);
    /* 8-bit bytes are not control bytes (SMTPUTF8 arguments) */
    assert_int_equal(parse_cmd(LIT("VRFY j\xc3\xb6rg")).verb, SMTP_V_VRFY);
}

/* ---- smtp_path_parse ---------------------------------------------------- */

static enum smtp_path_status path(const char *arg, const char *prefix, struct str *a, struct str *p)
{
    return smtp_path_parse(str_from_cstr(arg), prefix, a, p);
}

static void test_path_ok(void **state)
{
    (void)state;
    struct str a, p;
    assert_int_equal(path("FROM:<user@example.com>", "FROM:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "user@example.com");
    assert_int_equal(p.len, 0);
    assert_int_equal(path("from:<a@b> SIZE=1000 BODY=8BITMIME", "FROM:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "a@b");
    assert_str(p, "SIZE=1000 BODY=8BITMIME");
    assert_int_equal(path("To:<postmaster>", "TO:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "postmaster");
}

static void test_path_space_after_colon(void **state)
{
    (void)state;
    struct str a, p;
    assert_int_equal(path("FROM: <a@b>", "FROM:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "a@b");
    assert_int_equal(path("TO:  \t<a@b>   NOTIFY=NEVER  ", "TO:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "a@b");
    assert_str(p, "NOTIFY=NEVER");
}

static void test_path_null(void **state)
{
    (void)state;
    struct str a = STR_LIT("x"), p;
    assert_int_equal(path("FROM:<>", "FROM:", &a, &p), SMTP_PATH_OK);
    assert_int_equal(a.len, 0);
    assert_int_equal(path("FROM:<> SIZE=5", "FROM:", &a, &p), SMTP_PATH_OK);
    assert_int_equal(a.len, 0);
    assert_str(p, "SIZE=5");
}

static void test_path_bare(void **state)
{
    (void)state;
    struct str a, p;
    assert_int_equal(path("FROM:user@example.com", "FROM:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "user@example.com");
    assert_int_equal(path("TO: user@example.com NOTIFY=NEVER", "TO:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "user@example.com");
    assert_str(p, "NOTIFY=NEVER");
}

static void test_path_quoted(void **state)
{
    (void)state;
    struct str a, p;
    assert_int_equal(path("TO:<\"a>b\"@c> X=1", "TO:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "\"a>b\"@c");
    assert_str(p, "X=1");
    assert_int_equal(path("TO:<\"a\\\">\"@c>", "TO:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "\"a\\\">\"@c");
    assert_int_equal(path("TO:\"a b\"@c", "TO:", &a, &p), SMTP_PATH_OK);
    assert_str(a, "\"a b\"@c");
}

static void test_path_no_prefix(void **state)
{
    (void)state;
    struct str a, p;
    assert_int_equal(path("<a@b>", "FROM:", &a, &p), SMTP_PATH_NO_PREFIX);
    assert_int_equal(path("FROM <a@b>", "FROM:", &a, &p), SMTP_PATH_NO_PREFIX);
    assert_int_equal(path("FROM", "FROM:", &a, &p), SMTP_PATH_NO_PREFIX);
    assert_int_equal(path("", "FROM:", &a, &p), SMTP_PATH_NO_PREFIX);
    assert_int_equal(path("TO:<a@b>", "FROM:", &a, &p), SMTP_PATH_NO_PREFIX);
    assert_int_equal(path("FROM:<a@b>", "TO:", &a, &p), SMTP_PATH_NO_PREFIX);
    assert_int_equal(path("TO :<a@b>", "TO:", &a, &p), SMTP_PATH_NO_PREFIX);
}

static void test_path_syntax(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "FROM:",             /* nothing after the prefix */
        "FROM:   ",          /* blanks only */
        "FROM:<a@b",         /* unterminated < */
        "FROM:<a@b>x",       /* text glued to > */
        "FROM:<a@b>SIZE=1",  /* parameters glued to > */
        "FROM:<a<b>",        /* < inside the path */
        "FROM:a>b",          /* > in a bare address */
        "FROM:a<b>",         /* < in a bare address */
        "FROM:<\"a@b>",      /* unterminated quote */
        "FROM:<a\tb>",       /* tab inside the path */
        "FROM:<a\x01@b>",    /* control byte */
        "FROM:<a@b> X=\x7f", /* DEL in the parameters */
        "FROM:<a@b>\r",      /* CR */
        "FROM:<\"a\tb\"@c>", /* tab inside quotes */
        "FROM:\"a>b\"@c",    /* > in a bare address, even quoted */
        "FROM:\"a\tb\"@c x", /* tab in a bare quoted address */
    };
    struct str a = STR_LIT("unchanged"), p = STR_LIT("unchanged");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (path(bad[i], "FROM:", &a, &p) != SMTP_PATH_SYNTAX) {
            print_error("not SYNTAX: \"%s\"\n", bad[i]);
            fail();
        }
    }
    assert_str(a, "unchanged");
    assert_str(p, "unchanged");
    /* a NUL inside the argument (views carry the length) */
    assert_int_equal(smtp_path_parse(str_make(LIT("FROM:<a\0b>")), "FROM:", &a, &p),
                     SMTP_PATH_SYNTAX);
}

static void test_path_status_names(void **state)
{
    (void)state;
    assert_string_equal(smtp_path_status_name(SMTP_PATH_OK), "OK");
    assert_string_equal(smtp_path_status_name(SMTP_PATH_NO_PREFIX), "NO_PREFIX");
    assert_string_equal(smtp_path_status_name(SMTP_PATH_SYNTAX), "SYNTAX");
    assert_string_equal(smtp_result_name(SMTP_DONE), "DONE");
    assert_string_equal(smtp_result_name(SMTP_AGAIN), "AGAIN");
    assert_string_equal(smtp_result_name(SMTP_INVALID), "INVALID");
    assert_string_equal(smtp_result_name(SMTP_TOO_LONG), "TOO_LONG");
}

/* ---- smtp_reply_parse --------------------------------------------------- */

static struct smtp_reply reply;

static void test_reply_single(void **state)
{
    (void)state;
    assert_int_equal(smtp_reply_parse(LIT("250 2.0.0 Ok\r\n354 next"), &reply), SMTP_DONE);
    assert_int_equal(reply.code, 250);
    assert_int_equal(reply.nlines, 1);
    assert_str(reply.lines[0], "2.0.0 Ok");
    assert_int_equal(reply.len, 14);
    /* code only, and a bare LF */
    assert_int_equal(smtp_reply_parse(LIT("221\n"), &reply), SMTP_DONE);
    assert_int_equal(reply.code, 221);
    assert_int_equal(reply.lines[0].len, 0);
    assert_int_equal(reply.len, 4);
    assert_int_equal(smtp_reply_parse(LIT("554 \r\n"), &reply), SMTP_DONE);
    assert_int_equal(reply.code, 554);
    assert_int_equal(reply.lines[0].len, 0);
}

#define MULTI                                                                                      \
    "250-mail.example.com\r\n"                                                                     \
    "250-SIZE 10240000\r\n"                                                                        \
    "250-\r\n"                                                                                     \
    "250 8BITMIME\r\n"

static void test_reply_multi(void **state)
{
    (void)state;
    assert_int_equal(smtp_reply_parse(LIT(MULTI "250 next reply\r\n"), &reply), SMTP_DONE);
    assert_int_equal(reply.code, 250);
    assert_int_equal(reply.nlines, 4);
    assert_str(reply.lines[0], "mail.example.com");
    assert_str(reply.lines[1], "SIZE 10240000");
    assert_str(reply.lines[2], "");
    assert_str(reply.lines[3], "8BITMIME");
    assert_int_equal(reply.len, sizeof(MULTI) - 1);
    /* the last line may be the bare code */
    assert_int_equal(smtp_reply_parse(LIT("220-hello\r\n220\r\n"), &reply), SMTP_DONE);
    assert_int_equal(reply.nlines, 2);
    assert_int_equal(reply.lines[1].len, 0);
}

/* A reply split across reads: every proper prefix is AGAIN, the whole is
 * DONE with the same result. */
static void test_reply_split(void **state)
{
    (void)state;
    const char *m = MULTI;
    size_t n = strlen(m);
    for (size_t cut = 0; cut < n; cut++) {
        enum smtp_result r = smtp_reply_parse(m, cut, &reply);
        if (r != SMTP_AGAIN) {
            print_error("cut %zu: %s\n", cut, smtp_result_name(r));
            fail();
        }
    }
    assert_int_equal(smtp_reply_parse(m, n, &reply), SMTP_DONE);
    assert_int_equal(reply.len, n);
    assert_int_equal(reply.nlines, 4);
    /* a CR at the end of what has arrived may be the start of CR LF */
    assert_int_equal(smtp_reply_parse(LIT("220-a\r\n220\r"), &reply), SMTP_AGAIN);
    assert_int_equal(smtp_reply_parse(LIT("220-a\r\n220\r\n"), &reply), SMTP_DONE);
}

static void test_reply_bad_code(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "25 short\r\n", "2500 x\r\n", "250x\r\n",  "abc\r\n",   "\r\n",      " 250 x\r\n",
        "650 x\r\n",    "150 x\r\n",  "099 x\r\n", "2a0 x\r\n", "250_x\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (smtp_reply_parse(bad[i], strlen(bad[i]), &reply) != SMTP_INVALID) {
            print_error("not INVALID: \"%s\"\n", bad[i]);
            fail();
        }
    }
    /* garbage is INVALID before its line end arrives */
    assert_int_equal(smtp_reply_parse(LIT("HTTP/1.1 400"), &reply), SMTP_INVALID);
    assert_int_equal(smtp_reply_parse(LIT("2x"), &reply), SMTP_INVALID);
    assert_int_equal(smtp_reply_parse(LIT("2500"), &reply), SMTP_INVALID);
    assert_int_equal(smtp_reply_parse(LIT("25"), &reply), SMTP_AGAIN);
    assert_int_equal(smtp_reply_parse(LIT("250"), &reply), SMTP_AGAIN);
}

static void test_reply_mixed_codes(void **state)
{
    (void)state;
    assert_int_equal(smtp_reply_parse(LIT("250-a\r\n251 b\r\n"), &reply), SMTP_INVALID);
    assert_int_equal(smtp_reply_parse(LIT("250-a\r\n550 b\r\n"), &reply), SMTP_INVALID);
    assert_int_equal(smtp_reply_parse(LIT("250-a\r\nb\r\n"), &reply), SMTP_INVALID);
    /* known as soon as the differing digit is there */
    assert_int_equal(smtp_reply_parse(LIT("250-a\r\n25"), &reply), SMTP_AGAIN);
    assert_int_equal(smtp_reply_parse(LIT("250-a\r\n251"), &reply), SMTP_INVALID);
}

static void test_reply_too_many_lines(void **state)
{
    (void)state;
    static char b[SMTP_REPLY_LINES_MAX * 16 + 32];
    struct buf w;
    buf_init(&w, b, sizeof(b));
    for (size_t i = 0; i + 1 < SMTP_REPLY_LINES_MAX; i++)
        assert_true(buf_printf(&w, "250-line %zu\r\n", i));
    size_t mark = w.wpos;
    assert_true(buf_printf(&w, "250 last\r\n"));
    assert_int_equal(smtp_reply_parse(b, w.wpos, &reply), SMTP_DONE);
    assert_int_equal(reply.nlines, SMTP_REPLY_LINES_MAX);
    assert_str(reply.lines[SMTP_REPLY_LINES_MAX - 1], "last");
    /* one continuation more: refused once the 64th line says "more follow" */
    w.wpos = mark;
    assert_true(buf_printf(&w, "250-one more\r\n"));
    assert_int_equal(smtp_reply_parse(b, w.wpos, &reply), SMTP_TOO_LONG);
}

static void test_reply_line_too_long(void **state)
{
    (void)state;
    static char b[SMTP_REPLY_LINE_MAX + 16];
    memset(b, 'x', sizeof(b));
    memcpy(b, "250 ", 4);
    memcpy(b + SMTP_REPLY_LINE_MAX, "\r\n", 2);
    assert_int_equal(smtp_reply_parse(b, SMTP_REPLY_LINE_MAX + 2, &reply), SMTP_DONE);
    assert_int_equal(reply.lines[0].len, SMTP_REPLY_LINE_MAX - 4);
    memset(b + 4, 'x', sizeof(b) - 4);
    assert_int_equal(smtp_reply_parse(b, SMTP_REPLY_LINE_MAX + 1, &reply), SMTP_TOO_LONG);
    assert_int_equal(smtp_reply_parse(b, SMTP_REPLY_LINE_MAX, &reply), SMTP_AGAIN);
}

/* ---- smtp_ehlo_rewrite -------------------------------------------------- */

/* The EHLO reply of a postfix 3.x with STARTTLS and SASL enabled. */
#define POSTFIX_EHLO                                                                               \
    "250-mail.example.com\r\n"                                                                     \
    "250-PIPELINING\r\n"                                                                           \
    "250-SIZE 10240000\r\n"                                                                        \
    "250-VRFY\r\n"                                                                                 \
    "250-ETRN\r\n"                                                                                 \
    "250-STARTTLS\r\n"                                                                             \
    "250-AUTH PLAIN LOGIN CRAM-MD5\r\n"                                                            \
    "250-AUTH=PLAIN LOGIN CRAM-MD5\r\n"                                                            \
    "250-ENHANCEDSTATUSCODES\r\n"                                                                  \
    "250-8BITMIME\r\n"                                                                             \
    "250-DSN\r\n"                                                                                  \
    "250-SMTPUTF8\r\n"                                                                             \
    "250 CHUNKING\r\n"

#define MAX_SIZE 2000000000ull

/* rewrite - parse in, rewrite it into a 4 KiB buffer; returns the output
 * as a NUL-terminated string (static). */
static const char *rewrite(const char *in, uint64_t max_size, bool add_auth)
{
    static char mem[4096];
    static struct smtp_reply r;
    struct buf out;
    assert_int_equal(smtp_reply_parse(in, strlen(in), &r), SMTP_DONE);
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_ehlo_rewrite(&out, &r, max_size, add_auth, false));
    assert_true(buf_space(&out) > 0);
    return buf_cstr(&out);
}

static void test_ehlo_postfix(void **state)
{
    (void)state;
    assert_string_equal(rewrite(POSTFIX_EHLO, MAX_SIZE, false), "250-mail.example.com\r\n"
                                                                "250-SIZE 10240000\r\n"
                                                                "250-VRFY\r\n"
                                                                "250-ETRN\r\n"
                                                                "250-AUTH PLAIN LOGIN CRAM-MD5\r\n"
                                                                "250-AUTH=PLAIN LOGIN CRAM-MD5\r\n"
                                                                "250-ENHANCEDSTATUSCODES\r\n"
                                                                "250-8BITMIME\r\n"
                                                                "250-DSN\r\n"
                                                                "250 SMTPUTF8\r\n");
}

static void test_ehlo_postfix_add_auth(void **state)
{
    (void)state;
    assert_string_equal(rewrite(POSTFIX_EHLO, MAX_SIZE, true), "250-mail.example.com\r\n"
                                                               "250-SIZE 10240000\r\n"
                                                               "250-VRFY\r\n"
                                                               "250-ETRN\r\n"
                                                               "250-ENHANCEDSTATUSCODES\r\n"
                                                               "250-8BITMIME\r\n"
                                                               "250-DSN\r\n"
                                                               "250-SMTPUTF8\r\n"
                                                               "250 AUTH PLAIN LOGIN\r\n");
}

/* Issue 10: XFORWARD is offered only to LAN clients (keep_xforward),
 * XCLIENT never. */
static void test_ehlo_xforward_xclient(void **state)
{
    (void)state;
    const char *in = "250-parent.test\r\n250-XFORWARD NAME ADDR PROTO HELO\r\n"
                     "250-xclient NAME ADDR\r\n250 8BITMIME\r\n";
    static char mem[1024];
    struct smtp_reply r;
    struct buf out;
    assert_int_equal(smtp_reply_parse(in, strlen(in), &r), SMTP_DONE);
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_ehlo_rewrite(&out, &r, 0, false, false));
    assert_string_equal(buf_cstr(&out), "250-parent.test\r\n250 8BITMIME\r\n");
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_ehlo_rewrite(&out, &r, 0, false, true));
    assert_string_equal(buf_cstr(&out),
                        "250-parent.test\r\n250-XFORWARD NAME ADDR PROTO HELO\r\n250 8BITMIME\r\n");
}

static void test_ehlo_size(void **state)
{
    (void)state;
    /* the server's limit is larger: the proxy's wins */
    assert_string_equal(rewrite("250-h\r\n250-SIZE 5000000000\r\n250 DSN\r\n", MAX_SIZE, false),
                        "250-h\r\n250-SIZE 2000000000\r\n250 DSN\r\n");
    /* smaller: the server's stays */
    assert_string_equal(rewrite("250-h\r\n250 SIZE 1000\r\n", MAX_SIZE, false),
                        "250-h\r\n250 SIZE 1000\r\n");
    /* SIZE 0, SIZE alone, an unreadable number: no server limit */
    assert_string_equal(rewrite("250-h\r\n250 SIZE 0\r\n", MAX_SIZE, false),
                        "250-h\r\n250 SIZE 2000000000\r\n");
    assert_string_equal(rewrite("250-h\r\n250 SIZE\r\n", MAX_SIZE, false),
                        "250-h\r\n250 SIZE 2000000000\r\n");
    assert_string_equal(rewrite("250-h\r\n250 SIZE 99999999999999999999999\r\n", MAX_SIZE, false),
                        "250-h\r\n250 SIZE 2000000000\r\n");
    /* the keyword is case-insensitive; the edited line is written canonically */
    assert_string_equal(rewrite("250-h\r\n250 size 1000\r\n", MAX_SIZE, false),
                        "250-h\r\n250 SIZE 1000\r\n");
    /* none given: added at the end, before AUTH */
    assert_string_equal(rewrite("250-h\r\n250 DSN\r\n", MAX_SIZE, false),
                        "250-h\r\n250-DSN\r\n250 SIZE 2000000000\r\n");
    assert_string_equal(rewrite("250-h\r\n250 DSN\r\n", 1000, true),
                        "250-h\r\n250-DSN\r\n250-SIZE 1000\r\n250 AUTH PLAIN LOGIN\r\n");
    /* two SIZE lines: one, with the smallest limit, where the first was */
    assert_string_equal(
        rewrite("250-h\r\n250-SIZE 3000\r\n250-DSN\r\n250 SIZE 2000\r\n", MAX_SIZE, false),
        "250-h\r\n250-SIZE 2000\r\n250 DSN\r\n");
    /* max_size 0: the proxy sets no limit */
    assert_string_equal(rewrite("250-h\r\n250 SIZE 0\r\n", 0, false), "250-h\r\n250 SIZE 0\r\n");
    assert_string_equal(rewrite("250 h\r\n", 0, false), "250 h\r\n");
}

static void test_ehlo_single_line(void **state)
{
    (void)state;
    assert_string_equal(rewrite("250 mail.example.com\r\n", MAX_SIZE, false),
                        "250-mail.example.com\r\n250 SIZE 2000000000\r\n");
    assert_string_equal(rewrite("250 mail.example.com\n", MAX_SIZE, true),
                        "250-mail.example.com\r\n250-SIZE 2000000000\r\n"
                        "250 AUTH PLAIN LOGIN\r\n");
}

/* The deleted keywords go in any case; a keyword that merely starts like
 * one stays; the first line is the greeting even if it reads like one. */
static void test_ehlo_delete(void **state)
{
    (void)state;
    assert_string_equal(rewrite("250-STARTTLS\r\n250-starttls\r\n250-Pipelining\r\n"
                                "250-BINARYMIME\r\n250-CHUNKINGX\r\n250-\r\n250 chunking\r\n",
                                0, false),
                        "250-STARTTLS\r\n250 CHUNKINGX\r\n");
}

static void test_ehlo_error_reply(void **state)
{
    (void)state;
    assert_string_equal(rewrite("502 5.5.2 Error: command not recognized\n", MAX_SIZE, true),
                        "502 5.5.2 Error: command not recognized\r\n");
    assert_string_equal(rewrite("421-4.3.2 Service\r\n421 shutting down\r\n", MAX_SIZE, true),
                        "421-4.3.2 Service\r\n421 shutting down\r\n");
}

/* All or nothing: an exact fit works, one byte less leaves out unchanged. */
static void test_ehlo_fit(void **state)
{
    (void)state;
    static char mem[4096];
    const char *want = rewrite(POSTFIX_EHLO, MAX_SIZE, true);
    size_t n = strlen(want);
    struct buf out;
    assert_int_equal(smtp_reply_parse(LIT(POSTFIX_EHLO), &reply), SMTP_DONE);
    buf_init(&out, mem, n);
    assert_true(smtp_ehlo_rewrite(&out, &reply, MAX_SIZE, true, false));
    assert_int_equal(buf_len(&out), n);
    assert_memory_equal(mem, want, n);
    for (size_t cap = 0; cap < n; cap += 7) {
        memset(mem, 0, sizeof(mem));
        buf_init(&out, mem, cap);
        assert_false(smtp_ehlo_rewrite(&out, &reply, MAX_SIZE, true, false));
        assert_int_equal(out.wpos, 0);
    }
    buf_init(&out, mem, n - 1);
    assert_false(smtp_ehlo_rewrite(&out, &reply, MAX_SIZE, true, false));
    assert_int_equal(out.wpos, 0);
    /* not a parsed reply */
    struct smtp_reply empty;
    memset(&empty, 0, sizeof(empty));
    buf_init(&out, mem, sizeof(mem));
    assert_false(smtp_ehlo_rewrite(&out, &empty, MAX_SIZE, true, false));
}

/* ---- smtp_reply_format -------------------------------------------------- */

static void test_reply_format(void **state)
{
    (void)state;
    char mem[256];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_reply_format(&out, 500, "Unknown Command: \"TEST\"", "Sekisho/smtp/1.0/gw"));
    assert_string_equal(buf_cstr(&out), "500 Unknown Command: \"TEST\" (Sekisho/smtp/1.0/gw)\r\n");
    /* appends after what is there */
    assert_true(smtp_reply_format(&out, 354, "Enter mail", "P"));
    assert_string_equal(buf_cstr(&out), "500 Unknown Command: \"TEST\" (Sekisho/smtp/1.0/gw)\r\n"
                                        "354 Enter mail (P)\r\n");
}

/* A CR or LF echoed from a client's command must not split the reply. */
static void test_reply_format_control_bytes(void **state)
{
    (void)state;
    char mem[128];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_reply_format(&out, 500, "Unknown Command: \"A\rB\n250 ok\"", "P\r\n"));
    assert_string_equal(buf_cstr(&out), "500 Unknown Command: \"A B 250 ok\" (P  )\r\n");
}

static void test_reply_format_fit(void **state)
{
    (void)state;
    char mem[64];
    struct buf out;
    const char *want = "550 Relaying denied. (P)\r\n";
    size_t n = strlen(want);
    buf_init(&out, mem, n);
    assert_true(smtp_reply_format(&out, 550, "Relaying denied.", "P"));
    assert_memory_equal(mem, want, n);
    for (size_t cap = 0; cap < n; cap++) {
        buf_init(&out, mem, cap);
        assert_false(smtp_reply_format(&out, 550, "Relaying denied.", "P"));
        assert_int_equal(out.wpos, 0);
    }
    buf_init(&out, mem, sizeof(mem));
    assert_false(smtp_reply_format(&out, 199, "x", "P"));
    assert_false(smtp_reply_format(&out, 600, "x", "P"));
    assert_int_equal(out.wpos, 0);
}

/* RFC 5321 4.5.3.1.5: the proxy's reply lines stay within 512 bytes;
 * an over-long echo is cut in the text, the product name survives. */
static void test_reply_format_long(void **state)
{
    (void)state;
    static char text[SMTP_LINE_MAX + 1], mem[2048];
    struct buf out;
    memset(text, 'A', SMTP_LINE_MAX);
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_reply_format(&out, 500, text, "P"));
    assert_int_equal(buf_len(&out), SMTP_REPLY_FORMAT_MAX);
    assert_memory_equal(mem, "500 AAA", 7);
    assert_memory_equal(mem + SMTP_REPLY_FORMAT_MAX - 7, "A (P)\r\n", 7);
    /* one byte under the limit is not cut */
    text[SMTP_REPLY_FORMAT_MAX - 9 - 1 - 1] = '\0'; /* leaves room for "P" and one spare byte */
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_reply_format(&out, 500, text, "P"));
    assert_int_equal(buf_len(&out), SMTP_REPLY_FORMAT_MAX - 1);
    /* a product name that alone is too long is cut too */
    buf_init(&out, mem, sizeof(mem));
    assert_true(smtp_reply_format(&out, 421, "x", text + 1));
    assert_true(buf_len(&out) <= SMTP_REPLY_FORMAT_MAX);
    assert_memory_equal(mem + buf_len(&out) - 3, ")\r\n", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_crlf),
        cmocka_unit_test(test_line_bare_lf),
        cmocka_unit_test(test_line_again),
        cmocka_unit_test(test_line_nul),
        cmocka_unit_test(test_line_boundary),
        cmocka_unit_test(test_line_too_long_before_lf),
        cmocka_unit_test(test_command_verbs),
        cmocka_unit_test(test_command_case),
        cmocka_unit_test(test_command_spacing),
        cmocka_unit_test(test_command_unknown),
        cmocka_unit_test(test_command_glued),
        cmocka_unit_test(test_command_control_bytes),
        cmocka_unit_test(test_path_ok),
        cmocka_unit_test(test_path_space_after_colon),
        cmocka_unit_test(test_path_null),
        cmocka_unit_test(test_path_bare),
        cmocka_unit_test(test_path_quoted),
        cmocka_unit_test(test_path_no_prefix),
        cmocka_unit_test(test_path_syntax),
        cmocka_unit_test(test_path_status_names),
        cmocka_unit_test(test_reply_single),
        cmocka_unit_test(test_reply_multi),
        cmocka_unit_test(test_reply_split),
        cmocka_unit_test(test_reply_bad_code),
        cmocka_unit_test(test_reply_mixed_codes),
        cmocka_unit_test(test_reply_too_many_lines),
        cmocka_unit_test(test_reply_line_too_long),
        cmocka_unit_test(test_ehlo_postfix),
        cmocka_unit_test(test_ehlo_postfix_add_auth),
        cmocka_unit_test(test_ehlo_size),
        cmocka_unit_test(test_ehlo_xforward_xclient),
        cmocka_unit_test(test_ehlo_single_line),
        cmocka_unit_test(test_ehlo_delete),
        cmocka_unit_test(test_ehlo_error_reply),
        cmocka_unit_test(test_ehlo_fit),
        cmocka_unit_test(test_reply_format),
        cmocka_unit_test(test_reply_format_control_bytes),
        cmocka_unit_test(test_reply_format_fit),
        cmocka_unit_test(test_reply_format_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
