/* Unit tests for proto/surbl_domain: G-33's registrable-domain reduction
 * (two labels, three under a generic ccSLD) and the IP literals that are
 * not looked up (every form a browser reads as an address). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/surbl_domain.h"

static void expect(const char *host, enum surbl_host kind, const char *domain)
{
    struct str d;
    enum surbl_host got = surbl_domain(str_from_cstr(host), &d);
    if (got != kind || !str_eq_cstr(d, domain))
        fail_msg("%s: wanted %d \"%s\", got %d \"%.*s\"", host, kind, domain, got, (int)d.len,
                 d.ptr ? d.ptr : "");
}

static void test_two_labels(void **state)
{
    (void)state;
    expect("example.com", SURBL_DOMAIN, "example.com");
    expect("www.spam.example.com", SURBL_DOMAIN, "example.com");
    expect("a.b.c.d.e.example.net", SURBL_DOMAIN, "example.net");
    expect("example.com.", SURBL_DOMAIN, "example.com");
    expect("www.example.jp", SURBL_DOMAIN, "example.jp");
    /* geographic second levels are not in the rule */
    expect("shop.city.tokyo.jp", SURBL_DOMAIN, "tokyo.jp");
    /* generic labels under a generic TLD are not ccSLDs */
    expect("www.co.com", SURBL_DOMAIN, "co.com");
    expect("x.co.example", SURBL_DOMAIN, "co.example");
    expect("xn--bcher-kva.example", SURBL_DOMAIN, "xn--bcher-kva.example");
}

static void test_ccsld(void **state)
{
    (void)state;
    expect("www.spam.co.jp", SURBL_DOMAIN, "spam.co.jp");
    expect("spam.co.uk", SURBL_DOMAIN, "spam.co.uk");
    expect("a.b.ne.jp", SURBL_DOMAIN, "b.ne.jp");
    expect("x.univ.ac.jp", SURBL_DOMAIN, "univ.ac.jp");
    expect("shop.com.au", SURBL_DOMAIN, "shop.com.au");
    expect("x.y.or.jp", SURBL_DOMAIN, "y.or.jp");
    expect("www.ministry.gov.uk", SURBL_DOMAIN, "ministry.gov.uk");
    expect("WWW.Spam.CO.JP", SURBL_DOMAIN, "Spam.CO.JP");
    expect("a.b.go.jp", SURBL_DOMAIN, "b.go.jp");
    expect("a.b.lg.jp", SURBL_DOMAIN, "b.lg.jp");
    expect("a.b.ltd.uk", SURBL_DOMAIN, "b.ltd.uk");
    expect("a.b.net.br", SURBL_DOMAIN, "b.net.br");
    /* only the suffix: nothing registrable */
    expect("co.jp", SURBL_NOT_DOMAIN, "");
    expect("co.jp.", SURBL_NOT_DOMAIN, "");
}

static void test_not_domains(void **state)
{
    (void)state;
    expect("", SURBL_NOT_DOMAIN, "");
    expect(".", SURBL_NOT_DOMAIN, "");
    expect("localhost", SURBL_NOT_DOMAIN, "");
    expect("a..example", SURBL_NOT_DOMAIN, "");
    expect(".example", SURBL_NOT_DOMAIN, "");
    expect("a.b..", SURBL_NOT_DOMAIN, "");
    expect("x.y.co..jp", SURBL_NOT_DOMAIN, "");
}

static void test_ip(void **state)
{
    (void)state;
    expect("1.2.3.4", SURBL_IP, "");
    expect("127.1", SURBL_IP, "");
    expect("0x7f.1", SURBL_IP, "");
    expect("0x7f.0x0.0x0.0x1", SURBL_IP, "");
    expect("2130706433", SURBL_IP, "");
    expect("017700000001", SURBL_IP, "");
    expect("10.0.0.0x1", SURBL_IP, "");
    expect("example.123", SURBL_IP, "");
    expect("1.2.3.4.", SURBL_IP, "");
    expect("0X", SURBL_IP, "");
    expect("[2001:db8::1]", SURBL_IP, "");
    expect("[::ffff:1.2.3.4]", SURBL_IP, "");
    expect("::1", SURBL_IP, "");
    /* a number-like label that is not last, or hex without 0x: names */
    expect("1.2.3.example", SURBL_DOMAIN, "3.example");
    expect("a.0xg1", SURBL_DOMAIN, "a.0xg1");
    expect("a.7f", SURBL_DOMAIN, "a.7f");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_labels),
        cmocka_unit_test(test_ccsld),
        cmocka_unit_test(test_not_domains),
        cmocka_unit_test(test_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
