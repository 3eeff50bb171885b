/* Unit tests for proto/quarantine_meta: the meta beside a quarantined
 * object, written by the proxies and read by the console and
 * sekisho-quarantine; and the ids that name only the proxies' files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/quarantine_meta.h"

static char text[QMETA_TEXT_MAX + 1024];

/* format - m as text (NUL-terminated in text); false when refused. */
static bool format(const struct qmeta *m)
{
    struct buf b;
    buf_init(&b, text, sizeof(text) - 1);
    if (!qmeta_format(m, &b))
        return false;
    text[buf_len(&b)] = '\0';
    return true;
}

static struct qmeta smtp_meta(void)
{
    struct qmeta m = {
        .time = 1765112345,
        .service = STR_LIT("smtp"),
        .result = QMETA_INFECTED,
        .detection = STR_LIT("Eicar-Test-Signature"),
        .client = STR_LIT("127.0.0.1"),
        .has_sender = true,
        .sender = STR_LIT("a@example.org"),
        .url = STR_LIT("mail:b@example.net,c@example.net"),
        .file = STR_LIT("eicar.com"),
        .size = 1234,
    };
    m.rcpt[0] = STR_LIT("b@example.net");
    m.rcpt[1] = STR_LIT("c@example.net");
    m.nrcpt = 2;
    return m;
}

static void test_format_exact_text(void **state)
{
    (void)state;
    struct qmeta m = smtp_meta();
    assert_true(format(&m));
    assert_string_equal(text, "sekisho-quarantine: 1\n"
                              "time: 1765112345\n"
                              "service: smtp\n"
                              "result: INFECTED\n"
                              "detection: Eicar-Test-Signature\n"
                              "client: 127.0.0.1\n"
                              "sender: a@example.org\n"
                              "rcpt: b@example.net\n"
                              "rcpt: c@example.net\n"
                              "rcpt_count: 2\n"
                              "url: mail:b@example.net,c@example.net\n"
                              "file: eicar.com\n"
                              "size: 1234\n");
}

static void test_round_trip(void **state)
{
    (void)state;
    struct qmeta m = smtp_meta();
    m.user = STR_LIT("alice");
    m.result = QMETA_SPAM;
    m.released = true;
    m.released_time = 1765112399;
    m.released_by = STR_LIT("admin at console");
    assert_true(format(&m));
    struct qmeta p;
    const char *why = NULL;
    assert_true(qmeta_parse(str_from_cstr(text), &p, &why));
    assert_int_equal(p.version, 1);
    assert_int_equal(p.time, 1765112345);
    assert_true(str_eq_cstr(p.service, "smtp"));
    assert_int_equal(p.result, QMETA_SPAM);
    assert_true(str_eq_cstr(p.detection, "Eicar-Test-Signature"));
    assert_true(str_eq_cstr(p.client, "127.0.0.1"));
    assert_true(str_eq_cstr(p.user, "alice"));
    assert_true(p.has_sender);
    assert_true(str_eq_cstr(p.sender, "a@example.org"));
    assert_int_equal(p.nrcpt, 2);
    assert_true(str_eq_cstr(p.rcpt[1], "c@example.net"));
    assert_int_equal(p.rcpt_count, 2);
    assert_true(str_eq_cstr(p.file, "eicar.com"));
    assert_int_equal(p.size, 1234);
    assert_true(p.released);
    assert_int_equal(p.released_time, 1765112399);
    assert_true(str_eq_cstr(p.released_by, "admin at console"));
    assert_true(qmeta_is_mail(&p));
}

static void test_null_sender_and_http(void **state)
{
    (void)state;
    struct qmeta m = smtp_meta();
    m.sender = STR_LIT("");
    assert_true(format(&m));
    assert_non_null(strstr(text, "\nsender: \n"));
    struct qmeta p;
    assert_true(qmeta_parse(str_from_cstr(text), &p, NULL));
    assert_true(p.has_sender);
    assert_int_equal(p.sender.len, 0);

    struct qmeta h = {.time = 5,
                      .service = STR_LIT("http"),
                      .detection = STR_LIT("X"),
                      .client = STR_LIT("::1"),
                      .url = STR_LIT("http://127.0.0.1:8080/eicar.com"),
                      .size = 68};
    assert_true(format(&h));
    assert_null(strstr(text, "sender"));
    assert_null(strstr(text, "rcpt"));
    assert_true(qmeta_parse(str_from_cstr(text), &p, NULL));
    assert_false(p.has_sender);
    assert_int_equal(p.nrcpt, 0);
    assert_false(qmeta_is_mail(&p));
}

static void test_control_characters_never_split_a_line(void **state)
{
    (void)state;
    struct qmeta m = smtp_meta();
    m.detection = STR_LIT("Evil\nreleased: 1 x");
    m.url = STR_LIT("http://x/\r\nsize: 1");
    m.service = STR_LIT("http");
    assert_true(format(&m));
    assert_non_null(strstr(text, "detection: Evil?released: 1 x\n"));
    struct qmeta p;
    assert_true(qmeta_parse(str_from_cstr(text), &p, NULL));
    assert_false(p.released);
    assert_int_equal(p.size, 1234);
}

static void test_format_refuses(void **state)
{
    (void)state;
    struct qmeta m = smtp_meta();
    m.service = STR_LIT("gopher");
    assert_false(format(&m));
    m = smtp_meta();
    m.url = STR_LIT("");
    assert_false(format(&m));
    char small[32];
    struct buf b;
    buf_init(&b, small, sizeof(small));
    m = smtp_meta();
    assert_false(qmeta_format(&m, &b));
    assert_int_equal(buf_len(&b), 0); /* all or nothing */
}

static void test_cut_recipient_list_is_counted(void **state)
{
    (void)state;
    struct qmeta m = smtp_meta();
    m.rcpt_count = 700; /* the mail had more than the meta lists */
    assert_true(format(&m));
    assert_non_null(strstr(text, "rcpt_count: 700\n"));
    struct qmeta p;
    assert_true(qmeta_parse(str_from_cstr(text), &p, NULL));
    assert_int_equal(p.nrcpt, 2);
    assert_int_equal(p.rcpt_count, 700);
}

static void expect_malformed(const char *t)
{
    struct qmeta p;
    const char *why = NULL;
    assert_false(qmeta_parse(str_from_cstr(t), &p, &why));
    assert_non_null(why);
}

#define GOOD_HEAD "sekisho-quarantine: 1\ntime: 1\nservice: ftp\nresult: INFECTED\n"
#define GOOD_TAIL "detection: D\nclient: 1.2.3.4\nurl: ftp://h/f\nsize: 3\n"

static void test_parse_refuses_malformed(void **state)
{
    (void)state;
    struct qmeta p;
    assert_true(qmeta_parse(str_from_cstr(GOOD_HEAD GOOD_TAIL), &p, NULL));
    assert_true(qmeta_parse(str_from_cstr(GOOD_HEAD "future_key: x\n" GOOD_TAIL), &p, NULL));
    expect_malformed("");
    expect_malformed(GOOD_HEAD GOOD_TAIL "truncated: no line e");     /* a partial write */
    expect_malformed("time: 1\n" GOOD_HEAD GOOD_TAIL);                /* version not first */
    expect_malformed("sekisho-quarantine: 2\ntime: 1\n");             /* a newer version */
    expect_malformed(GOOD_HEAD "time: 2\n" GOOD_TAIL);                /* a repeated key */
    expect_malformed(GOOD_HEAD "detection: D\nclient: x\nsize: 3\n"); /* no url */
    expect_malformed(GOOD_HEAD GOOD_TAIL "released: soon\n");
    expect_malformed(GOOD_HEAD GOOD_TAIL "released: 12\n");
    expect_malformed(GOOD_HEAD "size: -1\n");
    expect_malformed(GOOD_HEAD GOOD_TAIL "user: a\tb\n"); /* a control character */
    expect_malformed(GOOD_HEAD GOOD_TAIL "user:nospace\n");
    expect_malformed(GOOD_HEAD GOOD_TAIL "rcpt: \n");
    expect_malformed("sekisho-quarantine: 1\ntime: 1\nservice: gopher\n");
    expect_malformed("sekisho-quarantine: 1\ntime: 1\nservice: ftp\nresult: CLEAN\n");
    /* More rcpt lines than a meta holds. */
    static char big[QMETA_TEXT_MAX * 2];
    size_t n = (size_t)snprintf(big, sizeof(big), "%s", GOOD_HEAD GOOD_TAIL);
    for (int i = 0; i <= QMETA_RCPT_MAX; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "rcpt: r%d@x\n", i);
    expect_malformed(big);
}

static void test_ids(void **state)
{
    (void)state;
    struct qmeta_id a, b;
    assert_true(qmeta_id_parse(STR_LIT("smtp-1765112345.4242.1"), &a));
    assert_true(str_eq_cstr(a.service, "smtp"));
    assert_int_equal(a.time, 1765112345);
    assert_int_equal(a.pid, 4242);
    assert_int_equal(a.seq, 1);
    const char *bad[] = {"",
                         "../x",
                         "/etc/passwd",
                         "smtp-1.2.3/../../etc",
                         "smtp-1.2.3.meta",
                         "smtp-1.2",
                         "smtp-1.2.",
                         "smtp-.2.3",
                         "smtp-1..3",
                         "smtp-1.2.3 ",
                         "gopher-1.2.3",
                         "SMTP-1.2.3",
                         "smtp-1.2.-3",
                         "smtp-99999999999999999999.1.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(qmeta_id_parse(str_from_cstr(bad[i]), NULL));
    assert_true(qmeta_id_parse(STR_LIT("http-1765112346.1.1"), &b));
    assert_true(qmeta_id_newer(&b, &a));
    assert_false(qmeta_id_newer(&a, &b));
    assert_true(qmeta_id_parse(STR_LIT("smtp-1765112345.4242.2"), &b));
    assert_true(qmeta_id_newer(&b, &a));
    assert_true(qmeta_id_parse(STR_LIT("pop-1765112345.4243.1"), &b));
    assert_true(qmeta_id_newer(&b, &a));
    assert_false(qmeta_id_newer(&a, &a));
}

static void test_rcpts_split(void **state)
{
    (void)state;
    struct str out[4];
    size_t n;
    qmeta_rcpts_split(STR_LIT("a@x,\"b,c\"@y, d@z,,"), out, 4, &n);
    assert_int_equal(n, 3);
    assert_true(str_eq_cstr(out[0], "a@x"));
    assert_true(str_eq_cstr(out[1], "\"b,c\"@y"));
    assert_true(str_eq_cstr(out[2], "d@z"));
    qmeta_rcpts_split(STR_LIT("\"q\\\"x,y\"@h,e@f"), out, 4, &n);
    assert_int_equal(n, 2);
    assert_true(str_eq_cstr(out[0], "\"q\\\"x,y\"@h"));
    qmeta_rcpts_split(STR_LIT("1@a,2@a,3@a,4@a,5@a,6@a"), out, 4, &n);
    assert_int_equal(n, 6); /* two left out, and said so */
    assert_true(str_eq_cstr(out[3], "4@a"));
    qmeta_rcpts_split(STR_LIT(""), out, 4, &n);
    assert_int_equal(n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_exact_text),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_null_sender_and_http),
        cmocka_unit_test(test_control_characters_never_split_a_line),
        cmocka_unit_test(test_format_refuses),
        cmocka_unit_test(test_cut_recipient_list_is_counted),
        cmocka_unit_test(test_parse_refuses_malformed),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_rcpts_split),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
