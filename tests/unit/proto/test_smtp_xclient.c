/* Unit tests for proto/smtp_xclient: what a parent's EHLO offers (XCLIENT,
 * XFORWARD attributes) and the command lines the SMTP proxy sends it
 * (issue 13 item 6): only offered attributes, xtext values, IPv6 with its
 * prefix, [UNAVAILABLE] for unknowns, LOGIN only when there is one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/smtp_xclient.h"

static struct smtp_xoffer offer_of(const char *raw)
{
    struct smtp_reply r;
    assert_int_equal(smtp_reply_parse(raw, strlen(raw), &r), SMTP_DONE);
    return smtp_xoffer_parse(&r);
}

static void test_offer_postfix(void **state)
{
    (void)state;
    struct smtp_xoffer o = offer_of(
        "250-parent.test\r\n250-PIPELINING\r\n250-XCLIENT NAME ADDR PROTO HELO REVERSE_NAME "
        "PORT LOGIN DESTADDR DESTPORT\r\n250-XFORWARD NAME ADDR PROTO HELO SOURCE PORT "
        "IDENT\r\n250 8BITMIME\r\n");
    assert_int_equal(o.xclient, SMTP_XATTR_NAME | SMTP_XATTR_ADDR | SMTP_XATTR_PROTO |
                                    SMTP_XATTR_HELO | SMTP_XATTR_PORT | SMTP_XATTR_LOGIN);
    assert_int_equal(o.xforward, SMTP_XATTR_NAME | SMTP_XATTR_ADDR | SMTP_XATTR_PROTO |
                                     SMTP_XATTR_HELO | SMTP_XATTR_PORT);
}

static void test_offer_none(void **state)
{
    (void)state;
    struct smtp_xoffer o = offer_of("250-parent.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n");
    assert_int_equal(o.xclient, 0);
    assert_int_equal(o.xforward, 0);
    /* Not a 250: nothing, even if a line looks like an offer. */
    o = offer_of("550-no\r\n550 XCLIENT ADDR\r\n");
    assert_int_equal(o.xclient, 0);
    /* The greeting line (line 0) is not a keyword line. */
    o = offer_of("250-XCLIENT ADDR\r\n250 8BITMIME\r\n");
    assert_int_equal(o.xclient, 0);
    /* Case-insensitive keyword and names; unknown names ignored. */
    o = offer_of("250-p\r\n250 xclient addr Bogus helo\r\n");
    assert_int_equal(o.xclient, SMTP_XATTR_ADDR | SMTP_XATTR_HELO);
}

static void format_eq(const char *verb, unsigned offer, const struct smtp_xclient_facts *f,
                      const char *want)
{
    char mem[4096];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    bool ok = smtp_xclient_format(&b, verb, offer, f);
    if (!want) {
        assert_false(ok);
        assert_int_equal(buf_len(&b), 0);
        return;
    }
    assert_true(ok);
    assert_int_equal(buf_len(&b), strlen(want));
    assert_memory_equal(buf_rptr(&b), want, strlen(want));
}

static void test_format(void **state)
{
    (void)state;
    unsigned all = SMTP_XATTR_NAME | SMTP_XATTR_ADDR | SMTP_XATTR_PORT | SMTP_XATTR_PROTO |
                   SMTP_XATTR_HELO | SMTP_XATTR_LOGIN;
    struct smtp_xclient_facts f = {.addr = STR_LIT("192.0.2.7"),
                                   .name = STR_LIT("client.example"),
                                   .port = 40000,
                                   .esmtp = true,
                                   .helo = STR_LIT("outside.client")};
    format_eq("XCLIENT", all, &f,
              "XCLIENT NAME=client.example ADDR=192.0.2.7 PORT=40000 PROTO=ESMTP "
              "HELO=outside.client\r\n");
    f.login = STR_LIT("alice");
    format_eq("XCLIENT", all, &f,
              "XCLIENT NAME=client.example ADDR=192.0.2.7 PORT=40000 PROTO=ESMTP "
              "HELO=outside.client LOGIN=alice\r\n");
    /* Only what is offered; LOGIN never to XFORWARD's offer (it has none). */
    format_eq("XFORWARD", SMTP_XATTR_ADDR | SMTP_XATTR_HELO, &f,
              "XFORWARD ADDR=192.0.2.7 HELO=outside.client\r\n");
    /* Unknowns and HELO from a HELO client. */
    struct smtp_xclient_facts u = {.addr = STR_LIT("192.0.2.7")};
    format_eq("XCLIENT", all, &u,
              "XCLIENT NAME=[UNAVAILABLE] ADDR=192.0.2.7 PORT=[UNAVAILABLE] PROTO=SMTP "
              "HELO=[UNAVAILABLE]\r\n");
    /* Nothing offered that we send. */
    format_eq("XCLIENT", 0, &f, NULL);
    format_eq("XCLIENT", SMTP_XATTR_LOGIN, &u, NULL);
}

static void test_addresses(void **state)
{
    (void)state;
    struct smtp_xclient_facts f = {.addr = STR_LIT("2001:db8::5")};
    format_eq("XCLIENT", SMTP_XATTR_ADDR, &f, "XCLIENT ADDR=IPV6:2001:db8::5\r\n");
    f.addr = STR_LIT("::ffff:192.0.2.9");
    format_eq("XCLIENT", SMTP_XATTR_ADDR, &f, "XCLIENT ADDR=192.0.2.9\r\n");
    f.addr = STR_LIT("not an address");
    format_eq("XCLIENT", SMTP_XATTR_ADDR, &f, "XCLIENT ADDR=[UNAVAILABLE]\r\n");
}

static void test_xtext(void **state)
{
    (void)state;
    /* RFC 3461 4: '+', '=', and bytes outside 33..126 as +HH; a client
     * cannot add an attribute or a line with its HELO. */
    struct smtp_xclient_facts f = {.helo = STR_LIT("a b=c+d\r\nXCLIENT ADDR=1.2.3.4\x7f\xff")};
    format_eq("XCLIENT", SMTP_XATTR_HELO, &f,
              "XCLIENT HELO=a+20b+3Dc+2Bd+0D+0AXCLIENT+20ADDR+3D1.2.3.4+7F+FF\r\n");
}

static void test_too_long(void **state)
{
    (void)state;
    char helo[900];
    memset(helo, ' ', sizeof(helo)); /* 2700 bytes once encoded */
    struct smtp_xclient_facts f = {.helo = str_make(helo, sizeof(helo))};
    format_eq("XCLIENT", SMTP_XATTR_HELO, &f, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offer_postfix), cmocka_unit_test(test_offer_none),
        cmocka_unit_test(test_format),        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_xtext),         cmocka_unit_test(test_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
