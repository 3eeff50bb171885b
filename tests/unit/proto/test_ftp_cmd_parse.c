/* Unit tests for proto/ftp_cmd_parse (spec §8 FTP-3, RFC 959 4.1.3 and 5.3,
 * RFC 2389, 2428, 3659): command lines, verbs, the 998-byte limit, Telnet
 * commands before the verb, refused bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/ftp_cmd_parse.h"

static enum ftp_cmd_result cmdn(const char *s, size_t n, struct ftp_command *c, size_t *consumed)
{
    *consumed = 0;
    return ftp_command_find(s, n, c, consumed);
}

static enum ftp_cmd_result cmd(const char *s, struct ftp_command *c, size_t *consumed)
{
    return cmdn(s, strlen(s), c, consumed);
}

static void assert_view(struct str v, const char *want)
{
    assert_int_equal(v.len, strlen(want));
    assert_memory_equal(v.ptr, want, v.len);
}

static void test_verbs(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        enum ftp_verb verb;
        const char *verb_text, *arg;
    } cases[] = {
        {"USER anonymous@ftp.example\r\n", FTP_V_USER, "USER", "anonymous@ftp.example"},
        {"pass  two spaces \r\n", FTP_V_PASS, "pass", " two spaces "},
        {"RETR file name.txt\n", FTP_V_RETR, "RETR", "file name.txt"},
        {"Stor x\r\n", FTP_V_STOR, "Stor", "x"},
        {"CWD /\r\n", FTP_V_CWD, "CWD", "/"},
        {"xmkd d\r\n", FTP_V_XMKD, "xmkd", "d"},
        {"PORT 127,0,0,1,4,1\r\n", FTP_V_PORT, "PORT", "127,0,0,1,4,1"},
        {"EPRT |2|::1|5282|\r\n", FTP_V_EPRT, "EPRT", "|2|::1|5282|"},
        {"EPSV ALL\r\n", FTP_V_EPSV, "EPSV", "ALL"},
        {"MLSD\r\n", FTP_V_MLSD, "MLSD", ""},
        {"FEAT\r\n", FTP_V_FEAT, "FEAT", ""},
        {"OPTS UTF8 ON\r\n", FTP_V_OPTS, "OPTS", "UTF8 ON"},
        {"AUTH TLS\r\n", FTP_V_AUTH, "AUTH", "TLS"},
        {"  NOOP\r\n", FTP_V_NOOP, "NOOP", ""},
        {"RETR1\r\n", FTP_V_UNKNOWN, "RETR1", ""},
        {"XYZZY plugh\r\n", FTP_V_UNKNOWN, "XYZZY", "plugh"},
        {"RETR \xe6\x97\xa5\xe6\x9c\xac.txt\r\n", FTP_V_RETR, "RETR",
         "\xe6\x97\xa5\xe6\x9c\xac.txt"},
        {"RETR\ta\r\n", FTP_V_RETR, "RETR", "a"},
        {"\r\n", FTP_V_UNKNOWN, "", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ftp_command c;
        size_t used;
        assert_int_equal(cmd(cases[i].line, &c, &used), FTP_CMD_DONE);
        assert_int_equal(used, strlen(cases[i].line));
        assert_int_equal(c.verb, cases[i].verb);
        assert_view(c.verb_text, cases[i].verb_text);
        assert_view(c.arg, cases[i].arg);
        assert_false(c.telnet_prefix);
    }
    struct ftp_command c;
    size_t used;
    assert_int_equal(cmd("RETR a\r\nQUIT\r\n", &c, &used), FTP_CMD_DONE);
    assert_int_equal(used, 8);
    assert_view(c.line, "RETR a");
    assert_view(c.command, "RETR a");
    assert_view(ftp_arg_trim(str_from_cstr(" \t x y \t")), "x y");
    assert_string_equal(ftp_verb_name(FTP_V_MLSD), "MLSD");
    assert_string_equal(ftp_verb_name(FTP_V_UNKNOWN), "UNKNOWN");
    assert_string_equal(ftp_cmd_result_name(FTP_CMD_TOO_LONG), "TOO_LONG");
    assert_true(ftp_verb_opens_data(FTP_V_MLSD));
    assert_true(ftp_verb_opens_data(FTP_V_NLST));
    assert_false(ftp_verb_opens_data(FTP_V_MLST));
    assert_true(ftp_verb_is_upload(FTP_V_APPE));
    assert_false(ftp_verb_is_upload(FTP_V_RETR));
}

static void test_telnet(void **state)
{
    (void)state;
    struct ftp_command c;
    size_t used;
    /* IAC IP IAC DM ABOR, all in band (SO_OOBINLINE) */
    static const char inband[] = "\xff\xf4\xff\xf2"
                                 "ABOR\r\n";
    assert_int_equal(cmd(inband, &c, &used), FTP_CMD_DONE);
    assert_int_equal(used, sizeof(inband) - 1);
    assert_int_equal(c.verb, FTP_V_ABOR);
    assert_true(c.telnet_prefix);
    assert_view(c.command, "ABOR");
    assert_int_equal(c.line.len, sizeof(inband) - 3);
    /* the DM went out of band: IAC IP IAC ABOR */
    assert_int_equal(cmd("\xff\xf4\xff"
                         "ABOR\r\n",
                         &c, &used),
                     FTP_CMD_DONE);
    assert_int_equal(c.verb, FTP_V_ABOR);
    /* option negotiation, then a command */
    assert_int_equal(cmd("\xff\xfb\x01\xff\xfd\x03"
                         "NOOP\r\n",
                         &c, &used),
                     FTP_CMD_DONE);
    assert_int_equal(c.verb, FTP_V_NOOP);
    assert_view(c.command, "NOOP");
    /* refused: IAC IAC before the verb, IAC in the argument, nothing but Telnet */
    static const char *const bad[] = {
        "\xff\xff"
        "ABOR\r\n",
        "RETR a\xff\xff"
        "b\r\n",
        "RETR a\xff\r\n",
        "\xff\xf4\xff\xf2\r\n",
        "\xff\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cmd(bad[i], &c, &used), FTP_CMD_INVALID);
        assert_int_equal(used, strlen(bad[i]));
        assert_int_equal(c.verb, FTP_V_UNKNOWN);
    }
}

static void test_invalid(void **state)
{
    (void)state;
    struct ftp_command c;
    size_t used;
    static const char nul[] = "RETR a\0b\r\n";
    assert_int_equal(cmdn(nul, sizeof(nul) - 1, &c, &used), FTP_CMD_INVALID);
    assert_int_equal(used, sizeof(nul) - 1);
    static const char *const bad[] = {
        "RETR a\rDELE b\r\n", "RETR a\x01\r\n", "RETR \x7f\r\n", "\x1b[AUSER x\r\n", "RETR a\r\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cmd(bad[i], &c, &used), FTP_CMD_INVALID);
        assert_int_equal(used, strlen(bad[i]));
        assert_int_equal(c.verb, FTP_V_UNKNOWN);
    }
    /* no line end yet */
    assert_int_equal(cmd("RETR a", &c, &used), FTP_CMD_AGAIN);
    assert_int_equal(cmd("RETR a\r", &c, &used), FTP_CMD_AGAIN);
    assert_int_equal(cmd("", &c, &used), FTP_CMD_AGAIN);
}

static void test_limit(void **state)
{
    (void)state;
    static char line[FTP_CMD_LINE_MAX + 16];
    struct ftp_command c;
    size_t used;
    memcpy(line, "STOR ", 5);
    memset(line + 5, 'x', FTP_CMD_LINE_MAX - 5);
    memcpy(line + FTP_CMD_LINE_MAX, "\r\n", 2);
    assert_int_equal(cmdn(line, FTP_CMD_LINE_MAX + 2, &c, &used), FTP_CMD_DONE);
    assert_int_equal(c.line.len, FTP_CMD_LINE_MAX);
    assert_int_equal(c.verb, FTP_V_STOR);
    /* one byte more: too long, known before the LF */
    memset(line + 5, 'x', FTP_CMD_LINE_MAX - 4);
    assert_int_equal(cmdn(line, FTP_CMD_LINE_MAX + 1, &c, &used), FTP_CMD_TOO_LONG);
    line[FTP_CMD_LINE_MAX + 1] = '\n';
    assert_int_equal(cmdn(line, FTP_CMD_LINE_MAX + 2, &c, &used), FTP_CMD_TOO_LONG);
    bool ended = true;
    assert_int_equal(ftp_line_discard(line, FTP_CMD_LINE_MAX + 1, &ended), FTP_CMD_LINE_MAX + 1);
    assert_false(ended);
    assert_int_equal(ftp_line_discard(line, FTP_CMD_LINE_MAX + 2, &ended), FTP_CMD_LINE_MAX + 2);
    assert_true(ended);
    assert_int_equal(ftp_line_discard("ab\ncd", 5, &ended), 3);
    /* 998 bytes but not yet the end: still AGAIN */
    assert_int_equal(cmdn(line, FTP_CMD_LINE_MAX, &c, &used), FTP_CMD_AGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),
        cmocka_unit_test(test_telnet),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
