/* Unit tests for proto/dnsbl_name: RBL query names for IPv4 and IPv6
 * (RFC 5782 2.1, 2.4), SURBL names, zone validation, the meaning of the
 * answer codes, and the detection names of §16 within their bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/dnsbl_name.h"
#include "proto/scanreq.h"

static char out[600];

static void rbl(const char *addr, const char *zone, const char *want)
{
    size_t n = dnsbl_rbl_query(str_from_cstr(addr), str_from_cstr(zone), out, sizeof(out));
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void surbl(const char *domain, const char *zone, const char *want)
{
    size_t n = dnsbl_surbl_query(str_from_cstr(domain), str_from_cstr(zone), out, sizeof(out));
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_rbl(void **state)
{
    (void)state;
    rbl("192.0.2.99", "bl.spamcop.net", "99.2.0.192.bl.spamcop.net");
    rbl("127.0.0.2", "ZEN.Spamhaus.ORG", "2.0.0.127.zen.spamhaus.org");
    /* RFC 5782 2.4's example */
    rbl("2001:db8:1:2:3:4:567:89ab", "ugly.example.com",
        "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
    rbl("[::1]", "rbl.test",
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.rbl.test");
    /* an IPv4 client seen through a dual-stack socket */
    rbl("::ffff:198.51.100.7", "rbl.test", "7.100.51.198.rbl.test");
    /* refused: not addresses, bad zones */
    rbl("192.0.2", "rbl.test", "");
    rbl("192.0.2.256", "rbl.test", "");
    rbl("host.example", "rbl.test", "");
    rbl("1.2.3.4 ", "rbl.test", "");
    rbl("", "rbl.test", "");
    rbl("1.2.3.4", "", "");
    rbl("1.2.3.4", "rbl.test.", "");
    assert_int_equal(dnsbl_rbl_query(STR_LIT("1.2.3\0.4"), STR_LIT("rbl.test"), out, sizeof(out)),
                     0);
    /* the caller's capacity: "4.3.2.1.rbl.test" is 16 bytes */
    assert_int_equal(dnsbl_rbl_query(STR_LIT("1.2.3.4"), STR_LIT("rbl.test"), out, 17), 16);
    assert_int_equal(dnsbl_rbl_query(STR_LIT("1.2.3.4"), STR_LIT("rbl.test"), out, 16), 0);
    assert_string_equal(out, "");
    /* an IPv6 name is 64 bytes before the zone: a zone of 190 fits, 191 not */
    char zone[200];
    memset(zone, 'z', sizeof(zone));
    for (size_t i = 60; i < sizeof(zone); i += 61)
        zone[i] = '.';
    assert_int_equal(dnsbl_rbl_query(STR_LIT("::1"), str_make(zone, 189), out, sizeof(out)), 253);
    assert_int_equal(dnsbl_rbl_query(STR_LIT("::1"), str_make(zone, 190), out, sizeof(out)), 0);
}

static void test_zone(void **state)
{
    (void)state;
    assert_true(dnsbl_zone_valid(STR_LIT("bl.spamcop.net")));
    assert_true(dnsbl_zone_valid(STR_LIT("multi.surbl.org")));
    assert_true(dnsbl_zone_valid(STR_LIT("x-1.a9.test")));
    assert_true(dnsbl_zone_valid(STR_LIT("test")));
    assert_false(dnsbl_zone_valid(STR_LIT("")));
    assert_false(dnsbl_zone_valid(STR_LIT(".")));
    assert_false(dnsbl_zone_valid(STR_LIT("a..b")));
    assert_false(dnsbl_zone_valid(STR_LIT(".a.b")));
    assert_false(dnsbl_zone_valid(STR_LIT("a.b.")));
    assert_false(dnsbl_zone_valid(STR_LIT("-a.b")));
    assert_false(dnsbl_zone_valid(STR_LIT("a-.b")));
    assert_false(dnsbl_zone_valid(STR_LIT("a_b.test")));
    assert_false(dnsbl_zone_valid(STR_LIT("a b.test")));
    assert_false(dnsbl_zone_valid(STR_LIT("a.b\0c")));
    char z[300];
    memset(z, 'a', sizeof(z));
    assert_true(dnsbl_zone_valid(str_make(z, 63)));
    assert_false(dnsbl_zone_valid(str_make(z, 64)));
    for (size_t i = 63; i < sizeof(z); i += 64)
        z[i] = '.';
    assert_true(dnsbl_zone_valid(str_make(z, 253)));
    assert_false(dnsbl_zone_valid(str_make(z, 254)));
}

static void test_surbl(void **state)
{
    (void)state;
    surbl("spam.example", "multi.surbl.org", "spam.example.multi.surbl.org");
    surbl("Spam.CO.JP", "Multi.Surbl.Org", "spam.co.jp.multi.surbl.org");
    surbl("under_score.example", "surbl.test", "under_score.example.surbl.test");
    surbl("", "surbl.test", "");
    surbl("a..b", "surbl.test", "");
    surbl("[::1]", "surbl.test", "");
    surbl("spam.example", "bad zone", "");
    char d[260];
    memset(d, 'd', sizeof(d));
    for (size_t i = 63; i < sizeof(d); i += 64)
        d[i] = '.';
    /* 242 + ".surbl.test" (11) = 253 */
    assert_int_equal(dnsbl_surbl_query(str_make(d, 242), STR_LIT("surbl.test"), out, sizeof(out)),
                     253);
    assert_int_equal(dnsbl_surbl_query(str_make(d, 243), STR_LIT("surbl.test"), out, sizeof(out)),
                     0);
}

static enum dnsbl_answer classify(enum dnsbl_list l, unsigned a, unsigned b, unsigned c, unsigned d)
{
    const unsigned char r[4] = {(unsigned char)a, (unsigned char)b, (unsigned char)c,
                                (unsigned char)d};
    return dnsbl_classify(l, r);
}

static void test_classify(void **state)
{
    (void)state;
    for (int l = DNSBL_RBL; l <= DNSBL_SURBL; l++) {
        enum dnsbl_list k = (enum dnsbl_list)l;
        assert_int_equal(classify(k, 127, 0, 0, 2), DNSBL_LISTED);
        assert_int_equal(classify(k, 127, 0, 0, 4), DNSBL_LISTED);
        assert_int_equal(classify(k, 127, 0, 1, 2), DNSBL_LISTED);
        assert_int_equal(classify(k, 127, 0, 0, 0), DNSBL_LISTED);
        assert_int_equal(classify(k, 127, 255, 254, 0), DNSBL_LISTED);
        assert_int_equal(classify(k, 127, 0, 0, 1), DNSBL_REFUSED);
        assert_int_equal(classify(k, 127, 255, 255, 252), DNSBL_REFUSED);
        assert_int_equal(classify(k, 127, 255, 255, 254), DNSBL_REFUSED);
        assert_int_equal(classify(k, 127, 255, 255, 255), DNSBL_REFUSED);
        assert_int_equal(classify(k, 0, 0, 0, 0), DNSBL_UNEXPECTED);
        assert_int_equal(classify(k, 198, 51, 100, 1), DNSBL_UNEXPECTED);
        assert_int_equal(classify(k, 128, 0, 0, 2), DNSBL_UNEXPECTED);
        assert_int_equal(classify(k, 126, 0, 0, 2), DNSBL_UNEXPECTED);
    }
    assert_string_equal(dnsbl_answer_name(DNSBL_LISTED), "listed");
    assert_string_equal(dnsbl_answer_name(DNSBL_REFUSED), "refused");
    assert_string_equal(dnsbl_answer_name(DNSBL_UNEXPECTED), "unexpected");
}

static void test_detection_name(void **state)
{
    (void)state;
    static const unsigned char two[4] = {127, 0, 0, 2};
    static const unsigned char ten[4] = {127, 0, 0, 10};
    size_t n = dnsbl_detection_name(DNSBL_RBL, STR_LIT("192.0.2.99"), STR_LIT("bl.spamcop.net"),
                                    two, out, sizeof(out));
    assert_string_equal(out, "SEKISHO/SPAM_RBL/192.0.2.99[bl.spamcop.net:127.0.0.2]");
    assert_int_equal(n, strlen(out));
    /* the address in its canonical form */
    dnsbl_detection_name(DNSBL_RBL, STR_LIT("[2001:DB8:0::1]"), STR_LIT("rbl.test"), ten, out,
                         sizeof(out));
    assert_string_equal(out, "SEKISHO/SPAM_RBL/2001:db8::1[rbl.test:127.0.0.10]");
    dnsbl_detection_name(DNSBL_RBL, STR_LIT("::ffff:198.51.100.7"), STR_LIT("rbl.test"), two, out,
                         sizeof(out));
    assert_string_equal(out, "SEKISHO/SPAM_RBL/198.51.100.7[rbl.test:127.0.0.2]");
    dnsbl_detection_name(DNSBL_SURBL, STR_LIT("Spam.CO.jp"), STR_LIT("multi.surbl.org"), ten, out,
                         sizeof(out));
    assert_string_equal(out, "SEKISHO/SPAM_SURBL/spam.co.jp[multi.surbl.org:127.0.0.10]");
    /* invalid inputs */
    assert_int_equal(dnsbl_detection_name(DNSBL_RBL, STR_LIT("spam.example"), STR_LIT("rbl.test"),
                                          two, out, sizeof(out)),
                     0);
    assert_string_equal(out, "");
    assert_int_equal(dnsbl_detection_name(DNSBL_SURBL, STR_LIT("a b"), STR_LIT("rbl.test"), two,
                                          out, sizeof(out)),
                     0);
    assert_int_equal(
        dnsbl_detection_name(DNSBL_SURBL, STR_LIT("a.b"), STR_LIT("x]y"), two, out, sizeof(out)),
        0);
    /* bounded by SCANREQ_NAME_MAX and by cap */
    char d[260];
    memset(d, 'd', sizeof(d));
    for (size_t i = 63; i < sizeof(d); i += 64)
        d[i] = '.';
    /* "SEKISHO/SPAM_SURBL/" 19 + d + "[s.test:127.0.0.2]" 18 */
    size_t fit = SCANREQ_NAME_MAX - 19 - 18;
    assert_int_equal(dnsbl_detection_name(DNSBL_SURBL, str_make(d, fit), STR_LIT("s.test"), two,
                                          out, sizeof(out)),
                     SCANREQ_NAME_MAX);
    assert_int_equal(dnsbl_detection_name(DNSBL_SURBL, str_make(d, fit + 1), STR_LIT("s.test"), two,
                                          out, sizeof(out)),
                     0);
    assert_int_equal(
        dnsbl_detection_name(DNSBL_SURBL, STR_LIT("a.b"), STR_LIT("s.test"), two, out, 41), 40);
    assert_int_equal(
        dnsbl_detection_name(DNSBL_SURBL, STR_LIT("a.b"), STR_LIT("s.test"), two, out, 40), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rbl),
        cmocka_unit_test(test_zone),
        cmocka_unit_test(test_surbl),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_detection_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
