/* Unit tests for proto/ftp_addr (RFC 959 PORT, RFC 2428 EPRT/EPSV, the
 * proxy's 227 and 229 replies of FTP-6): strict parsing, exact formats,
 * and format -> parse round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/ftp_addr.h"
#include "proto/ftp_reply_parse.h"

static void test_port_parse(void **state)
{
    (void)state;
    struct ftp_addr a;
    assert_true(ftp_port_parse(STR_LIT("127,0,0,1,4,1"), &a));
    assert_false(a.ipv6);
    assert_memory_equal(a.ip, "\x7f\x00\x00\x01", 4);
    assert_int_equal(a.port, 1025);
    assert_true(ftp_port_parse(STR_LIT("255,255,255,255,255,255"), &a));
    assert_int_equal(a.port, 65535);
    assert_true(ftp_port_parse(STR_LIT("0,0,0,0,0,1"), &a));
    assert_int_equal(a.port, 1);
    static const char *const bad[] = {
        "",
        "127,0,0,1,4",
        "127,0,0,1,4,1,",
        "127,0,0,1,4,1,2",
        "127,0,0,1,0,0",   /* port 0 */
        "256,0,0,1,4,1",   /* octet */
        "127,0,0,1,4,256", /* port byte */
        "127,0,0,01,4,1",  /* leading zero */
        "127,0,0,1,4,0001",
        "127, 0,0,1,4,1", /* blank inside */
        "127,0,0,1,4,1 ", /* nothing after */
        "(127,0,0,1,4,1)",
        "127,,0,0,1,4,1",
        "127.0.0.1,4,1",
        "-1,0,0,1,4,1",
        "+1,0,0,1,4,1",
        "1270,0,0,1,4,1",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ftp_port_parse(str_from_cstr(bad[i]), &a))
            fail_msg("accepted: %s", bad[i]);
}

static void test_eprt_parse(void **state)
{
    (void)state;
    struct ftp_addr a;
    assert_true(ftp_eprt_parse(STR_LIT("|1|132.235.1.2|6275|"), &a));
    assert_false(a.ipv6);
    assert_memory_equal(a.ip, "\x84\xeb\x01\x02", 4);
    assert_int_equal(a.port, 6275);
    assert_true(ftp_eprt_parse(STR_LIT("|2|1080::8:800:200C:417A|5282|"), &a));
    assert_true(a.ipv6);
    assert_memory_equal(a.ip, "\x10\x80\0\0\0\0\0\0\0\x08\x08\0\x20\x0c\x41\x7a", 16);
    assert_int_equal(a.port, 5282);
    assert_true(ftp_eprt_parse(STR_LIT("!2!::ffff:1.2.3.4!65535!"), &a));
    assert_true(a.ipv6);
    assert_int_equal(a.port, 65535);
    assert_true(ftp_eprt_parse(STR_LIT("~1~10.0.0.1~21~"), &a));
    static const char *const bad[] = {
        "",
        "|1|1.2.3.4|0|", /* port 0 */
        "|1|1.2.3.4|65536|",
        "|1|1.2.3.4|021|", /* leading zero */
        "|1|1.2.3.04|21|",
        "|1|1.2.3|21|",
        "|1|1.2.3.4.5|21|",
        "|1|256.2.3.4|21|",
        "|1|::1|21|", /* family mismatch */
        "|2|1.2.3.4|21|",
        "|3|1.2.3.4|21|",
        "||1.2.3.4|21|",
        "|01|1.2.3.4|21|",
        "|1|1.2.3.4|21", /* no closing delimiter */
        "|1|1.2.3.4|21||",
        "|1|1.2.3.4|21|x",
        "1|1|1.2.3.4|21|",
        "1112131.2.3.41211", /* digit delimiter */
        ".1.1.2.3.4.21.",
        ":2:::1:21:",
        " |1|1.2.3.4|21|",
        "|1| 1.2.3.4|21|",
        "|2|fe80::1%eth0|21|", /* zone */
        "|2|:::|21|",
        "|2||21|",
        "|1|1.2.3.4|+21|",
        "\x7f"
        "1\x7f"
        "1.2.3.4\x7f"
        "21\x7f",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (ftp_eprt_parse(str_from_cstr(bad[i]), &a))
            fail_msg("accepted: %s", bad[i]);
}

static void test_epsv_arg(void **state)
{
    (void)state;
    assert_int_equal(ftp_epsv_arg_parse(STR_LIT("")), FTP_EPSV_ANY);
    assert_int_equal(ftp_epsv_arg_parse(STR_LIT("1")), FTP_EPSV_V4);
    assert_int_equal(ftp_epsv_arg_parse(STR_LIT("2")), FTP_EPSV_V6);
    assert_int_equal(ftp_epsv_arg_parse(STR_LIT("all")), FTP_EPSV_ALL);
    assert_int_equal(ftp_epsv_arg_parse(STR_LIT("3")), FTP_EPSV_BAD);
    assert_int_equal(ftp_epsv_arg_parse(STR_LIT("ALLx")), FTP_EPSV_BAD);
}

static void test_format(void **state)
{
    (void)state;
    char mem[128];
    struct buf b;
    struct ftp_addr v4 = {.ip = {192, 168, 1, 2}, .port = 50001};
    buf_init(&b, mem, sizeof(mem));
    assert_true(ftp_port_format(&b, &v4));
    assert_string_equal(buf_cstr(&b), "192,168,1,2,195,81");
    buf_init(&b, mem, sizeof(mem));
    assert_true(ftp_pasv_reply_format(&b, &v4));
    assert_string_equal(buf_cstr(&b), "227 Entering Passive Mode (192,168,1,2,195,81)\r\n");
    buf_init(&b, mem, sizeof(mem));
    assert_true(ftp_eprt_format(&b, &v4));
    assert_string_equal(buf_cstr(&b), "|1|192.168.1.2|50001|");
    buf_init(&b, mem, sizeof(mem));
    assert_true(ftp_epsv_reply_format(&b, 40002));
    assert_string_equal(buf_cstr(&b), "229 Entering Extended Passive Mode (|||40002|)\r\n");
    struct ftp_addr v6 = {.ipv6 = true, .port = 21};
    v6.ip[15] = 1;
    buf_init(&b, mem, sizeof(mem));
    assert_true(ftp_eprt_format(&b, &v6));
    assert_string_equal(buf_cstr(&b), "|2|::1|21|");
    /* refused: IPv6 in PORT/227, port 0, no room (out unchanged) */
    buf_init(&b, mem, sizeof(mem));
    assert_false(ftp_port_format(&b, &v6));
    assert_false(ftp_pasv_reply_format(&b, &v6));
    assert_false(ftp_epsv_reply_format(&b, 0));
    struct ftp_addr zero = v4;
    zero.port = 0;
    assert_false(ftp_port_format(&b, &zero));
    assert_false(ftp_eprt_format(&b, &zero));
    assert_int_equal(buf_len(&b), 0);
    char small[20];
    buf_init(&b, small, sizeof(small));
    assert_true(buf_append_cstr(&b, "x"));
    assert_false(ftp_pasv_reply_format(&b, &v4));
    assert_int_equal(buf_len(&b), 1);
}

/* The proxy's own replies read back by the reply parser the FTP client
 * uses: what the proxy writes is what a client understands. */
static void test_round_trip(void **state)
{
    (void)state;
    static const uint16_t ports[] = {1, 255, 256, 1025, 50001, 65535};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        struct ftp_addr a = {.ip = {10, 0, (uint8_t)i, 255}, .port = ports[i]}, back;
        char mem[128];
        struct buf b;
        buf_init(&b, mem, sizeof(mem));
        assert_true(ftp_port_format(&b, &a));
        assert_true(ftp_port_parse(buf_view(&b), &back));
        assert_memory_equal(back.ip, a.ip, 4);
        assert_int_equal(back.port, a.port);
        buf_init(&b, mem, sizeof(mem));
        assert_true(ftp_eprt_format(&b, &a));
        assert_true(ftp_eprt_parse(buf_view(&b), &back));
        assert_int_equal(back.port, a.port);
        static struct ftp_reply r;
        size_t used;
        buf_init(&b, mem, sizeof(mem));
        assert_true(ftp_pasv_reply_format(&b, &a));
        ftp_reply_init(&r);
        assert_int_equal(ftp_reply_parse(&r, buf_rptr(&b), buf_len(&b), &used), FTP_REPLY_DONE);
        assert_int_equal(r.code, 227);
        uint8_t ip[4];
        uint16_t port;
        assert_int_equal(ftp_reply_parse_pasv(str_make(r.text, r.text_len), ip, &port),
                         FTP_REPLY_DONE);
        assert_memory_equal(ip, a.ip, 4);
        assert_int_equal(port, a.port);
        buf_init(&b, mem, sizeof(mem));
        assert_true(ftp_epsv_reply_format(&b, a.port));
        ftp_reply_init(&r);
        assert_int_equal(ftp_reply_parse(&r, buf_rptr(&b), buf_len(&b), &used), FTP_REPLY_DONE);
        assert_int_equal(r.code, 229);
        assert_int_equal(ftp_reply_parse_epsv(str_make(r.text, r.text_len), &port), FTP_REPLY_DONE);
        assert_int_equal(port, a.port);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_parse), cmocka_unit_test(test_eprt_parse),
        cmocka_unit_test(test_epsv_arg),   cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
