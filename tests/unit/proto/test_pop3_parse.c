/* Unit tests for proto/pop3_parse (spec §7, RFC 1939, RFC 2449, RFC 5034). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/pop3_parse.h"

static enum pop3_result cmd(const char *s, struct pop3_command *c, size_t *consumed)
{
    *consumed = 0;
    return pop3_command_find(s, strlen(s), c, consumed);
}

static void assert_view(struct str v, const char *want)
{
    assert_int_equal(v.len, strlen(want));
    assert_memory_equal(v.ptr, want, v.len);
}

static void test_command_verbs(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        enum pop3_verb verb;
        const char *arg;
    } cases[] = {
        {"USER alice\r\n", POP3_V_USER, "alice"},
        {"user alice@pop.example\r\n", POP3_V_USER, "alice@pop.example"},
        {"PASS  two  spaces \r\n", POP3_V_PASS, " two  spaces "}, /* RFC 1939 7: kept */
        {"APOP alice c4c9334bac560ecc979e58001b3e22fb\r\n", POP3_V_APOP,
         "alice c4c9334bac560ecc979e58001b3e22fb"},
        {"AUTH PLAIN\r\n", POP3_V_AUTH, "PLAIN"},
        {"UIDL\r\n", POP3_V_UIDL, ""},
        {"TOP 1 10\r\n", POP3_V_TOP, "1 10"},
        {"STAT\r\n", POP3_V_STAT, ""},
        {"LIST 2\r\n", POP3_V_LIST, "2"},
        {"Retr 1\r\n", POP3_V_RETR, "1"},
        {"DELE 1\r\n", POP3_V_DELE, "1"},
        {"NOOP\r\n", POP3_V_NOOP, ""},
        {"RSET\r\n", POP3_V_RSET, ""},
        {"quit\n", POP3_V_QUIT, ""}, /* bare LF */
        {"CAPA\r\n", POP3_V_CAPA, ""},
        {"STLS\r\n", POP3_V_STLS, ""},
        {"UTF8\r\n", POP3_V_UTF8, ""},
        {"XTND XMIT\r\n", POP3_V_UNKNOWN, "XMIT"},
        {"LAST\r\n", POP3_V_UNKNOWN, ""},
        {"RETR1\r\n", POP3_V_UNKNOWN, ""}, /* glued: not RETR */
        {"  \tLIST\t3\r\n", POP3_V_LIST, "3"},
        {"\r\n", POP3_V_UNKNOWN, ""},
        {"USER é\r\n", POP3_V_USER, "é"}, /* 8-bit bytes are line bytes */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pop3_command c;
        size_t used;
        assert_int_equal(cmd(cases[i].line, &c, &used), POP3_DONE);
        assert_int_equal(c.verb, cases[i].verb);
        assert_view(c.arg, cases[i].arg);
        assert_int_equal(used, strlen(cases[i].line));
    }
    struct pop3_command c;
    size_t used;
    assert_int_equal(cmd("RETR 1\r\nDELE 1\r\n", &c, &used), POP3_DONE);
    assert_int_equal(used, 8); /* only the first line */
    assert_view(c.line, "RETR 1");
    assert_view(c.verb_text, "RETR");
    assert_string_equal(pop3_verb_name(POP3_V_TOP), "TOP");
    assert_string_equal(pop3_verb_name(POP3_V_UNKNOWN), "UNKNOWN");
    assert_string_equal(pop3_result_name(POP3_TOO_LONG), "TOO_LONG");
}

static void test_command_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {"USER a\rb\r\n", "PASS x\r\r\n", "DEL\x7f 1\r\n",
                                      "RETR 1\x1b\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct pop3_command c;
        size_t used = 0;
        assert_int_equal(cmd(bad[i], &c, &used), POP3_INVALID);
        assert_int_equal(used, strlen(bad[i])); /* the session drops the line */
        assert_int_equal(c.verb, POP3_V_UNKNOWN);
    }
    /* NUL: strlen cannot carry it */
    static const char nul[] = "RETR \0 1\r\nNOOP\r\n";
    struct pop3_command c;
    size_t used = 0;
    assert_int_equal(pop3_command_find(nul, sizeof(nul) - 1, &c, &used), POP3_INVALID);
    assert_int_equal(used, 10);
    assert_int_equal(pop3_command_find(nul + used, sizeof(nul) - 1 - used, &c, &used), POP3_DONE);
    assert_int_equal(c.verb, POP3_V_NOOP);
}

static void test_command_limit(void **state)
{
    (void)state;
    static char line[POP3_LINE_MAX + 16];
    struct pop3_command c;
    size_t used = 0;
    memcpy(line, "USER ", 5);
    memset(line + 5, 'a', POP3_LINE_MAX - 5);
    /* exactly 998 bytes: accepted, with CRLF or LF */
    memcpy(line + POP3_LINE_MAX, "\r\n", 2);
    assert_int_equal(pop3_command_find(line, POP3_LINE_MAX + 2, &c, &used), POP3_DONE);
    assert_int_equal(used, POP3_LINE_MAX + 2);
    assert_int_equal(c.arg.len, POP3_LINE_MAX - 5);
    assert_int_equal(pop3_command_find(line, POP3_LINE_MAX + 1, &c, &used), POP3_AGAIN);
    assert_int_equal(pop3_command_find(line, POP3_LINE_MAX, &c, &used), POP3_AGAIN);
    /* 999 bytes: too long, known without waiting for the LF */
    line[POP3_LINE_MAX] = 'a';
    assert_int_equal(pop3_command_find(line, POP3_LINE_MAX + 1, &c, &used), POP3_TOO_LONG);
    memcpy(line + POP3_LINE_MAX + 1, "\r\n", 2);
    assert_int_equal(pop3_command_find(line, POP3_LINE_MAX + 3, &c, &used), POP3_TOO_LONG);
    /* 998 bytes then CR then something else than LF: too long */
    line[POP3_LINE_MAX] = '\r';
    line[POP3_LINE_MAX + 1] = 'x';
    assert_int_equal(pop3_command_find(line, POP3_LINE_MAX + 2, &c, &used), POP3_TOO_LONG);
    assert_int_equal(pop3_command_find("", 0, &c, &used), POP3_AGAIN);
    assert_int_equal(pop3_command_find("RETR 1\r", 7, &c, &used), POP3_AGAIN);

    bool ended = true;
    assert_int_equal(pop3_line_discard("aaaa", 4, &ended), 4);
    assert_false(ended);
    assert_int_equal(pop3_line_discard("aa\r\nNOOP\r\n", 10, &ended), 4);
    assert_true(ended);
}

static bool multiline(const char *line)
{
    struct pop3_command c;
    size_t used;
    assert_int_equal(cmd(line, &c, &used), POP3_DONE);
    return pop3_reply_is_multiline(&c);
}

static void test_multiline(void **state)
{
    (void)state;
    assert_true(multiline("RETR 1\r\n"));
    assert_true(multiline("TOP 1 0\r\n"));
    assert_true(multiline("CAPA\r\n"));
    assert_true(multiline("LIST\r\n"));
    assert_true(multiline("LIST \r\n")); /* dovecot: an empty argument */
    assert_false(multiline("LIST 1\r\n"));
    assert_true(multiline("uidl\r\n"));
    assert_false(multiline("UIDL 1\r\n"));
    assert_true(multiline("AUTH\r\n")); /* mechanism discovery, as dovecot answers it */
    assert_false(multiline("AUTH PLAIN\r\n"));
    assert_false(multiline("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n"));
    assert_false(multiline("STAT\r\n"));
    assert_false(multiline("USER a\r\n"));
    assert_false(multiline("XTND XMIT\r\n"));
    assert_false(multiline("NOOP\r\n"));
}

static enum pop3_user_status split(const char *arg, struct pop3_user_target *t)
{
    memset(t, 0, sizeof(*t));
    return pop3_user_split(str_from_cstr(arg), t);
}

static void test_user_split(void **state)
{
    (void)state;
    static const struct {
        const char *arg, *name, *host;
        uint16_t port;
        bool ipv6;
    } ok[] = {
        {"alice@pop.example", "alice", "pop.example", 0, false},
        {"alice#pop.example", "alice", "pop.example", 0, false},
        {"a@b.example@pop.example", "a@b.example", "pop.example", 0, false}, /* last '@' */
        {"a@b.example#pop.example", "a@b.example", "pop.example", 0, false}, /* last '#' */
        {"a#b@127.0.0.1:1110", "a#b", "127.0.0.1", 1110, false},
        {"alice@[::1]", "alice", "::1", 0, true},
        {"alice@[::1]:995", "alice", "::1", 995, true},
        {"alice@[::ffff:127.0.0.1]:110", "alice", "::ffff:127.0.0.1", 110, true},
        {"alice@mail_1-x.example:65535", "alice", "mail_1-x.example", 65535, false},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct pop3_user_target t;
        assert_int_equal(split(ok[i].arg, &t), POP3_USER_TARGET);
        assert_view(t.name, ok[i].name);
        assert_view(t.host, ok[i].host);
        assert_int_equal(t.port, ok[i].port);
        assert_int_equal(t.ipv6, ok[i].ipv6);
    }
    struct pop3_user_target t;
    assert_int_equal(split("alice", &t), POP3_USER_PLAIN);
    assert_view(t.name, "alice");
    assert_int_equal(t.host.len, 0);
    static const char *const bad[] = {
        "@pop.example",       /* empty name */
        "alice@",             /* empty host */
        "alice#",             /* empty host */
        "alice@:110",         /* empty host */
        "alice@host:",        /* empty port */
        "alice@host:0",       /* port 0 */
        "alice@host:65536",   /* port too big */
        "alice@host:1234567", /* port too long */
        "alice@host:11x",     /* port not numeric */
        "alice@::1",          /* IPv6 without brackets */
        "alice@fe80::1:110",  /* ambiguous */
        "alice@[::1",         /* unterminated */
        "alice@[]",           /* empty literal */
        "alice@[::1]x",       /* garbage after ']' */
        "alice@[::1]:",       /* empty port */
        "alice@[host]",       /* not an IPv6 literal */
        "alice@[127.0.0.1]",  /* not an IPv6 literal */
        "alice@[::1%eth0]",   /* zone: not supported */
        "alice@ho st",        /* blank in host */
        "ali ce@host",        /* blank in name */
        "alice@host/x",       /* '/' */
        "alice@h\x01st",      /* control byte */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (split(bad[i], &t) != POP3_USER_SYNTAX)
            fail_msg("accepted: %s", bad[i]);
    }
    char longhost[POP3_HOST_MAX + 16] = "a@";
    memset(longhost + 2, 'h', POP3_HOST_MAX);
    assert_int_equal(split(longhost, &t), POP3_USER_TARGET);
    longhost[2 + POP3_HOST_MAX] = 'h';
    assert_int_equal(split(longhost, &t), POP3_USER_SYNTAX);
    assert_string_equal(pop3_user_status_name(POP3_USER_SYNTAX), "SYNTAX");
}

static enum pop3_result status(const char *s, struct pop3_status *st, size_t *used)
{
    *used = 0;
    return pop3_status_find(s, strlen(s), st, used);
}

static void test_status(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        enum pop3_status_kind kind;
        const char *text;
    } ok[] = {
        {"+OK Dovecot (Debian) ready.\r\n", POP3_ST_OK, "Dovecot (Debian) ready."},
        {"+OK\r\n", POP3_ST_OK, ""},
        {"+ok logged in\n", POP3_ST_OK, "logged in"},
        {"-ERR [AUTH] Authentication failed.\r\n", POP3_ST_ERR, "[AUTH] Authentication failed."},
        {"-ERR\r\n", POP3_ST_ERR, ""},
        {"+ \r\n", POP3_ST_CONT, ""},
        {"+\r\n", POP3_ST_CONT, ""},
        {"+ VXNlcm5hbWU6\r\n", POP3_ST_CONT, "VXNlcm5hbWU6"},
        {"+OK\t1 35\r\n", POP3_ST_OK, "1 35"},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct pop3_status st;
        size_t used;
        assert_int_equal(status(ok[i].line, &st, &used), POP3_DONE);
        assert_int_equal(st.kind, ok[i].kind);
        assert_view(st.text, ok[i].text);
        assert_int_equal(used, strlen(ok[i].line));
    }
    struct pop3_status st;
    size_t used;
    /* Bad starts are known before the line end. */
    static const char *const bad[] = {"OK\r\n",       "+OKAY\r\n", "-ERROR x\r\n",  "+x\r\n",
                                      "-EX",          "* OK",      "220 ready\r\n", "+OK a\rb",
                                      "+OK \x01\r\n", "\r\n",      "-\r\n",         "+O\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (status(bad[i], &st, &used) != POP3_INVALID)
            fail_msg("accepted: %s", bad[i]);
    static const char *const again[] = {"",   "+",   "+O",   "+OK",     "-",
                                        "-E", "-ER", "-ERR", "+OK a\r", "+OK partial"};
    for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++)
        if (status(again[i], &st, &used) != POP3_AGAIN)
            fail_msg("not AGAIN: '%s'", again[i]);
    static char lng[POP3_STATUS_LINE_MAX + 8];
    memset(lng, 'x', sizeof(lng));
    memcpy(lng, "+OK ", 4);
    assert_int_equal(pop3_status_find(lng, POP3_STATUS_LINE_MAX, &st, &used), POP3_AGAIN);
    assert_int_equal(pop3_status_find(lng, POP3_STATUS_LINE_MAX + 1, &st, &used), POP3_TOO_LONG);
    memcpy(lng + POP3_STATUS_LINE_MAX, "\r\n", 2);
    assert_int_equal(pop3_status_find(lng, POP3_STATUS_LINE_MAX + 2, &st, &used), POP3_DONE);
    assert_int_equal(used, POP3_STATUS_LINE_MAX + 2);
    /* the second of two pipelined replies is left alone */
    assert_int_equal(status("+OK 1\r\n-ERR x\r\n", &st, &used), POP3_DONE);
    assert_int_equal(used, 7);
}

static void test_status_format(void **state)
{
    (void)state;
    char mem[1024];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(pop3_status_format(&b, false, "Too long line"));
    assert_true(pop3_status_format(&b, true, "Quit"));
    assert_true(pop3_status_format(&b, true, ""));
    assert_true(pop3_status_format(&b, false, "Can't Connect to (h:110) errmsg=[a\r\nb]"));
    assert_int_equal(buf_len(&b), strlen("-ERR Too long line\r\n+OK Quit\r\n+OK\r\n"
                                         "-ERR Can't Connect to (h:110) errmsg=[a  b]\r\n"));
    assert_memory_equal(buf_rptr(&b),
                        "-ERR Too long line\r\n+OK Quit\r\n+OK\r\n"
                        "-ERR Can't Connect to (h:110) errmsg=[a  b]\r\n",
                        buf_len(&b));
    /* a long text is cut to one 512-byte line */
    static char text[2000];
    memset(text, 'x', sizeof(text) - 1);
    buf_reset(&b);
    assert_true(pop3_status_format(&b, false, text));
    assert_int_equal(buf_len(&b), POP3_STATUS_FORMAT_MAX);
    assert_memory_equal(buf_rptr(&b) + POP3_STATUS_FORMAT_MAX - 2, "\r\n", 2);
    /* all or nothing */
    char small[8];
    buf_init(&b, small, sizeof(small));
    assert_true(buf_append(&b, "ab", 2));
    assert_false(pop3_status_format(&b, true, "too long for it"));
    assert_int_equal(buf_len(&b), 2);
}

/* decode wire fed in pieces of step bytes through a cap-byte output. */
static enum pop3_result body_steps(const char *wire, size_t step, size_t cap, char *msg,
                                   size_t *msg_len, size_t *taken)
{
    struct pop3_body b;
    pop3_body_init(&b);
    size_t len = strlen(wire), i = 0, o = 0;
    enum pop3_result r = POP3_AGAIN;
    for (size_t rounds = 0; rounds < 4 * len + 4 && r == POP3_AGAIN && i < len; rounds++) {
        size_t n = len - i < step ? len - i : step, used, written;
        r = pop3_body_decode(&b, wire + i, n, msg + o, cap, &used, &written);
        i += used;
        o += written;
    }
    assert_int_equal(b.wire_len, i);
    assert_int_equal(b.data_len, o);
    *msg_len = o;
    *taken = i;
    return r;
}

static void test_body(void **state)
{
    (void)state;
    static const struct {
        const char *wire, *msg;
        enum pop3_result r;
        size_t taken;
    } cases[] = {
        {"Subject: x\r\n\r\nhi\r\n.\r\n+OK next\r\n", "Subject: x\r\n\r\nhi\r\n", POP3_DONE, 21},
        {".\r\n", "", POP3_DONE, 3},
        {"..dot\r\n...\r\n.\r\n", ".dot\r\n..\r\n", POP3_DONE, 15},
        {"1 35\r\n2 40\r\n.\r\n", "1 35\r\n2 40\r\n", POP3_DONE, 15},
        {"a\r\n.\nb\r\n", "a\r\n\nb\r\n", POP3_AGAIN, 8}, /* ".\n" does not end it */
        {"partial\r\n.", "partial\r\n", POP3_AGAIN, 10},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        size_t wl = strlen(cases[k].wire);
        for (size_t step = 1; step <= wl; step++) {
            for (size_t cap = 2; cap <= 6; cap += 4) {
                char msg[128];
                size_t ml, taken;
                assert_int_equal(body_steps(cases[k].wire, step, cap, msg, &ml, &taken),
                                 cases[k].r);
                assert_int_equal(taken, cases[k].taken);
                assert_int_equal(ml, strlen(cases[k].msg));
                assert_memory_equal(msg, cases[k].msg, ml);
            }
        }
        struct pop3_body b;
        pop3_body_init(&b);
        size_t used = 99;
        assert_int_equal(pop3_body_skip(&b, cases[k].wire, wl, &used), cases[k].r);
        assert_int_equal(used, cases[k].taken);
    }
    struct pop3_body b;
    pop3_body_init(&b);
    char o[4];
    size_t used, written;
    assert_int_equal(pop3_body_decode(&b, "x", 1, o, 1, &used, &written), POP3_INVALID);
    assert_int_equal(used, 0);
    /* the POP-1 bound */
    b.wire_len = POP3_BODY_MAX - 2;
    assert_int_equal(pop3_body_decode(&b, "abcd", 4, o, sizeof(o), &used, &written), POP3_TOO_LONG);
    assert_int_equal(used, 2);
    assert_int_equal(pop3_body_decode(&b, "cd", 2, o, sizeof(o), &used, &written), POP3_TOO_LONG);
    assert_int_equal(used, 0);
    /* once done, nothing more is taken */
    pop3_body_init(&b);
    assert_int_equal(pop3_body_skip(&b, ".\r\n", 3, &used), POP3_DONE);
    assert_int_equal(pop3_body_skip(&b, "x\r\n", 3, &used), POP3_DONE);
    assert_int_equal(used, 0);
}

/* A message that goes through the decoder and the encoder (the proxy's
 * RETR path) comes out as the server sent it. */
static void test_body_restuff(void **state)
{
    (void)state;
    static const char wire[] = "..a\r\nb\r\n..\r\n...x\r\n.\r\n";
    char msg[64], again[128];
    size_t ml, taken;
    assert_int_equal(body_steps(wire, 3, 5, msg, &ml, &taken), POP3_DONE);
    struct smtp_dot_encoder e;
    smtp_dot_encoder_init(&e);
    size_t used, n = smtp_dot_encode(&e, msg, ml, again, sizeof(again), &used);
    assert_int_equal(used, ml);
    char end[5];
    size_t en = smtp_dot_end(&e, end);
    memcpy(again + n, end, en);
    assert_int_equal(n + en, sizeof(wire) - 1);
    assert_memory_equal(again, wire, sizeof(wire) - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_command_verbs), cmocka_unit_test(test_command_invalid),
        cmocka_unit_test(test_command_limit), cmocka_unit_test(test_multiline),
        cmocka_unit_test(test_user_split),    cmocka_unit_test(test_status),
        cmocka_unit_test(test_status_format), cmocka_unit_test(test_body),
        cmocka_unit_test(test_body_restuff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
