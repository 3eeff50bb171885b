/* Unit tests for proto/admin_conf: conf/admin.conf, the web console's
 * settings (issue 16, docs/internals/admin.md). Each accepted form with
 * the values it gives, every error with the line it must name and the
 * words of its reason, every limit at its edge (one inside, one over),
 * and the shipped conf/admin.conf: as shipped and with every commented
 * key switched on it gives the defaults, so the file documents what the
 * parser does. Inputs are parsed from heap copies of exactly their
 * length, so ASan sees a read past the end of the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/admin_conf.h"

static struct admin_conf conf;

static int parse_n(const char *text, size_t len, unsigned *line, char *err, size_t errcap)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    admin_conf_defaults(&conf);
    int rc = admin_conf_parse(copy, len, &conf, line, err, errcap);
    free(copy);
    return rc;
}

static void parse_ok_n(const char *text, size_t len)
{
    unsigned line = 99;
    char err[ADMIN_ERR_MAX] = "";
    if (parse_n(text, len, &line, err, sizeof(err)) != 0)
        fail_msg("refused at line %u: %s\n---\n%s", line, err, text);
    assert_int_equal(line, 0);
}

static void parse_ok(const char *text)
{
    parse_ok_n(text, strlen(text));
}

static void expect_err_n(const char *text, size_t len, unsigned line, const char *word)
{
    unsigned got = 99;
    char err[ADMIN_ERR_MAX] = "";
    if (parse_n(text, len, &got, err, sizeof(err)) != -1)
        fail_msg("accepted:\n%.*s", (int)(len > 200 ? 200 : len), text);
    if (got != line || !strstr(err, word))
        fail_msg("wanted line %u \"%s\", got line %u \"%s\"", line, word, got, err);
    assert_null(strchr(err, '\n'));
}

static void expect_err(const char *text, unsigned line, const char *word)
{
    expect_err_n(text, strlen(text), line, word);
}

static void addr_is(const struct admin_addr *a, int family, const char *text, const char *bytes,
                    size_t n)
{
    assert_int_equal(a->family, family);
    assert_string_equal(a->text, text);
    assert_memory_equal(a->addr, bytes, n);
}

static void check_defaults(void)
{
    assert_int_equal(conf.port, 9012);
    addr_is(&conf.listen, AF_INET, "127.0.0.1", "\x7f\0\0\x01", 4);
    assert_int_equal(conf.lang, ADMIN_LANG_EN);
    assert_int_equal(conf.session_timeout, 300);
    assert_string_equal(conf.tls_certificate, "");
    assert_string_equal(conf.tls_key, "");
    assert_string_equal(conf.metrics_token, "");
    assert_int_equal(conf.nallow, 2);
    addr_is(&conf.allow[0], AF_INET, "127.0.0.1", "\x7f\0\0\x01", 4);
    addr_is(&conf.allow[1], AF_INET6, "::1", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    assert_int_equal(conf.login_failures_max, 5);
    assert_int_equal(conf.login_pause, 60);
    assert_int_equal(conf.idle_timeout, 30);
}

static void test_defaults(void **state)
{
    (void)state;
    parse_ok("");
    check_defaults();
    /* empty values leave the defaults (metrics_allow aside) */
    parse_ok("adminport=\nadmin_listen=\nlang=\nsession_timeout=\ntls_certificate=\ntls_key=\n"
             "metrics_token=\nlogin_failures_max=\nlogin_pause=\n");
    check_defaults();
    assert_string_equal(admin_lang_name(ADMIN_LANG_EN), "en");
    assert_string_equal(admin_lang_name(ADMIN_LANG_JA), "ja");
}

static void test_full_file(void **state)
{
    (void)state;
    parse_ok("adminport=8443\n"
             "admin_listen=::\n"
             "lang=ja\n"
             "session_timeout=600\n"
             "tls_certificate=/etc/ssl/console chain.pem\n"
             "tls_key=conf/console.key\n"
             "metrics_token=AZaz09._~-0123456\n"
             "metrics_allow=10.0.0.5, 2001:db8::7 ,\t192.168.1.1\n"
             "login_failures_max=100\n"
             "login_pause=86400\n");
    assert_int_equal(conf.port, 8443);
    addr_is(&conf.listen, AF_INET6, "::", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    assert_int_equal(conf.lang, ADMIN_LANG_JA);
    assert_int_equal(conf.session_timeout, 600);
    assert_string_equal(conf.tls_certificate, "/etc/ssl/console chain.pem");
    assert_string_equal(conf.tls_key, "conf/console.key");
    assert_string_equal(conf.metrics_token, "AZaz09._~-0123456");
    assert_int_equal(conf.nallow, 3);
    addr_is(&conf.allow[0], AF_INET, "10.0.0.5", "\x0a\0\0\x05", 4);
    addr_is(&conf.allow[1], AF_INET6, "2001:db8::7", "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07",
            16);
    addr_is(&conf.allow[2], AF_INET, "192.168.1.1", "\xc0\xa8\x01\x01", 4);
    assert_int_equal(conf.login_failures_max, 100);
    assert_int_equal(conf.login_pause, 86400);
}

static void test_syntax(void **state)
{
    (void)state;
    /* comments, blanks, CRLF, a BOM, key case, a last line without LF */
    parse_ok("\xef\xbb\xbf# admin.conf\r\n"
             "   # indented\r\n"
             "\r\n"
             " \t\r\n"
             "  ADMINPORT \t=  9013 \r\n"
             "Lang=JA\r\n"
             "admin_listen = [::1]");
    assert_int_equal(conf.port, 9013);
    assert_int_equal(conf.lang, ADMIN_LANG_JA);
    addr_is(&conf.listen, AF_INET6, "::1", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    parse_ok("lang=En\n");
    assert_int_equal(conf.lang, ADMIN_LANG_EN);
    /* any address */
    parse_ok("admin_listen=*\n");
    assert_int_equal(conf.listen.family, AF_UNSPEC);
    assert_string_equal(conf.listen.text, "*");
    assert_memory_equal(conf.listen.addr, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    parse_ok("admin_listen=0.0.0.0\n");
    addr_is(&conf.listen, AF_INET, "0.0.0.0", "\0\0\0\0", 4);
    /* an empty list: nobody scrapes without the token */
    parse_ok("metrics_allow=\n");
    assert_int_equal(conf.nallow, 0);
    parse_ok("metrics_allow=[::1]\n");
    assert_int_equal(conf.nallow, 1);
    assert_string_equal(conf.allow[0].text, "::1");
    /* '=' and '#' in a value are the value's */
    parse_ok("tls_key=a=b #c\ntls_certificate=x\n");
    assert_string_equal(conf.tls_key, "a=b #c");
}

static void test_line_errors(void **state)
{
    (void)state;
    expect_err("# c\nadminport 9012\n", 2, "expected key=value, found no '='");
    expect_err("=9012\n", 1, "no key before '='");
    expect_err("\n\nadmin_port=1\n", 3, "unknown key 'admin_port'");
    expect_err("use_proxy=no\n", 1, "unknown key 'use_proxy'");
    expect_err("lang=en\nLANG=ja\n", 2, "'lang' set twice (first on line 1)");
    /* twice even when the first was empty */
    expect_err("adminport=\nadminport=1\n", 2, "set twice");
    expect_err_n("lang=en\0\n", 9, 1, "NUL byte in the line");
    expect_err("lang=e\x01n\n", 1, "control character 0x01");
    expect_err("lang=en\rx\n", 1, "control character 0x0d");
    expect_err("a\x7f=1\n", 1, "control character 0x7f");
    /* a tab is a blank */
    parse_ok("\tlang\t=\tja\t\n");
    assert_int_equal(conf.lang, ADMIN_LANG_JA);
}

static void test_limits(void **state)
{
    (void)state;
    /* a line: ADMIN_LINE_MAX bytes is fine (its CR aside), one more is not */
    static char text[ADMIN_CONF_FILE_MAX + 16];
    size_t n = (size_t)snprintf(text, sizeof(text), "# ");
    memset(text + n, 'c', ADMIN_LINE_MAX - n);
    memcpy(text + ADMIN_LINE_MAX, "\r\n", 2);
    parse_ok_n(text, ADMIN_LINE_MAX + 2);
    text[ADMIN_LINE_MAX] = 'c';
    expect_err_n(text, ADMIN_LINE_MAX + 2, 1, "line longer than 8192 bytes");
    /* the file: ADMIN_CONF_FILE_MAX bytes of comments is fine */
    memset(text, '\n', ADMIN_CONF_FILE_MAX + 1);
    parse_ok_n(text, ADMIN_CONF_FILE_MAX);
    expect_err_n(text, ADMIN_CONF_FILE_MAX + 1, 0, "file larger than 65536 bytes");
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        unsigned lo, hi;
    } k[] = {
        {"adminport", 1, 65535},   {"session_timeout", 10, 86400}, {"login_failures_max", 1, 100},
        {"login_pause", 1, 86400}, {"idle_timeout", 1, 3600},
    };
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        char t[128], w[128];
        snprintf(t, sizeof(t), "%s=%u\n", k[i].key, k[i].lo);
        parse_ok(t);
        snprintf(t, sizeof(t), "%s=%u\n", k[i].key, k[i].hi);
        parse_ok(t);
        snprintf(w, sizeof(w), "%s: %u is out of range (%u-%u)", k[i].key, k[i].lo - 1, k[i].lo,
                 k[i].hi);
        snprintf(t, sizeof(t), "%s=%u\n", k[i].key, k[i].lo - 1);
        expect_err(t, 1, w);
        snprintf(w, sizeof(w), "%s: %u is out of range", k[i].key, k[i].hi + 1);
        snprintf(t, sizeof(t), "%s=%u\n", k[i].key, k[i].hi + 1);
        expect_err(t, 1, w);
        snprintf(t, sizeof(t), "%s=99999999999999999999999\n", k[i].key);
        expect_err(t, 1, "out of range");
        snprintf(t, sizeof(t), "%s=-1\n", k[i].key);
        expect_err(t, 1, "is not a number");
        snprintf(t, sizeof(t), "%s=1 0\n", k[i].key);
        expect_err(t, 1, "is not a number");
        snprintf(t, sizeof(t), "%s=0x10\n", k[i].key);
        expect_err(t, 1, "is not a number");
    }
    parse_ok("adminport=09012\n"); /* decimal, leading zeros are digits */
    assert_int_equal(conf.port, 9012);
    parse_ok("session_timeout=10\nlogin_pause=1\nlogin_failures_max=1\nadminport=65535\n");
    assert_int_equal(conf.session_timeout, 10);
    assert_int_equal(conf.login_pause, 1);
    assert_int_equal(conf.login_failures_max, 1);
    assert_int_equal(conf.port, 65535);
}

static void test_lang(void **state)
{
    (void)state;
    expect_err("lang=de\n", 1, "lang: 'de' is not en or ja");
    expect_err("lang=english\n", 1, "is not en or ja");
    expect_err("lang=e n\n", 1, "is not en or ja");
}

static void test_addresses(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "localhost", "127.0.0.1:9012", "127.1", "1.2.3.4.5", "256.1.1.1", "[127.0.0.1]", "::1%lo",
        "[::1",      "::1]",           "[]",    "**",        "* ",        "fe80::1::2",  "01.2.3.4",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char t[128];
        snprintf(t, sizeof(t), "admin_listen=%s\n", bad[i]);
        if (strcmp(bad[i], "* ") == 0) {
            parse_ok(t); /* the blank is trimmed */
            continue;
        }
        expect_err(t, 1, "admin_listen: ");
        expect_err(t, 1, "is not an IPv4 or IPv6 address (or '*' for any)");
        snprintf(t, sizeof(t), "metrics_allow=::1,%s\n", bad[i]);
        if (strcmp(bad[i], "**") == 0 || strcmp(bad[i], "* ") == 0)
            continue;
        expect_err(t, 1, "metrics_allow: ");
    }
    /* '*' is not an address to allow */
    expect_err("metrics_allow=*\n", 1, "metrics_allow: '*' is not an IPv4 or IPv6 address");
    /* IPv4-mapped and long IPv6 forms */
    parse_ok("admin_listen=::ffff:127.0.0.1\n");
    assert_int_equal(conf.listen.family, AF_INET6);
    parse_ok("admin_listen=0000:0000:0000:0000:0000:0000:0000:0001\n");
    assert_string_equal(conf.listen.text, "0000:0000:0000:0000:0000:0000:0000:0001");
    /* list errors */
    expect_err("metrics_allow=::1,\n", 1, "metrics_allow: empty item in the list");
    expect_err("metrics_allow=,::1\n", 1, "empty item");
    expect_err("metrics_allow=::1,,127.0.0.1\n", 1, "empty item");
    expect_err("metrics_allow=::1, 0::1\n", 1, "metrics_allow: '0::1' listed twice (as '::1')");
    expect_err("metrics_allow=10.0.0.1,10.0.0.1\n", 1, "listed twice");
    /* an IPv4 address and its IPv4-mapped IPv6 form are two entries */
    parse_ok("metrics_allow=127.0.0.1,::ffff:127.0.0.1\n");
    assert_int_equal(conf.nallow, 2);
    /* at most ADMIN_ALLOW_MAX */
    char list[1024];
    size_t n = (size_t)snprintf(list, sizeof(list), "metrics_allow=");
    for (int i = 1; i <= ADMIN_ALLOW_MAX; i++)
        n += (size_t)snprintf(list + n, sizeof(list) - n, "%s10.0.0.%d", i > 1 ? "," : "", i);
    snprintf(list + n, sizeof(list) - n, "\n");
    parse_ok(list);
    assert_int_equal(conf.nallow, ADMIN_ALLOW_MAX);
    addr_is(&conf.allow[ADMIN_ALLOW_MAX - 1], AF_INET, "10.0.0.32", "\x0a\0\0\x20", 4);
    snprintf(list + n, sizeof(list) - n, ",10.0.0.99\n");
    expect_err(list, 1, "metrics_allow: more than 32 addresses");
}

static void test_tls(void **state)
{
    (void)state;
    parse_ok("tls_certificate=c.pem\ntls_key=k.pem\n");
    assert_string_equal(conf.tls_certificate, "c.pem");
    assert_string_equal(conf.tls_key, "k.pem");
    /* both or neither, named at the line of the one given */
    expect_err("# x\ntls_certificate=/c.pem\n", 2,
               "tls_certificate is set but tls_key is not (HTTPS needs both)");
    expect_err("lang=en\n\ntls_key=k.pem\n", 3, "tls_key is set but tls_certificate is not");
    expect_err("tls_key=k.pem\ntls_certificate=\n", 1, "tls_key is set but");
    /* a path of ADMIN_PATH_MAX bytes; one more is refused */
    static char text[ADMIN_LINE_MAX + 64];
    size_t n = (size_t)snprintf(text, sizeof(text), "tls_key=k\ntls_certificate=/");
    memset(text + n, 'p', ADMIN_PATH_MAX - 1);
    memcpy(text + n + ADMIN_PATH_MAX - 1, "\n", 2);
    parse_ok(text);
    assert_int_equal(strlen(conf.tls_certificate), ADMIN_PATH_MAX);
    memcpy(text + n + ADMIN_PATH_MAX - 1, "p\n", 3);
    expect_err(text, 2, "tls_certificate: path longer than 4095 bytes");
}

static void test_metrics_token(void **state)
{
    (void)state;
    char t[256];
    snprintf(t, sizeof(t), "metrics_token=%.*s\n", ADMIN_TOKEN_MIN, "0123456789abcdefXYZ");
    parse_ok(t);
    assert_string_equal(conf.metrics_token, "0123456789abcdef");
    char tok[ADMIN_TOKEN_MAX + 2];
    memset(tok, 'T', sizeof(tok));
    tok[ADMIN_TOKEN_MAX] = '\0';
    snprintf(t, sizeof(t), "metrics_token=%s\n", tok);
    parse_ok(t);
    assert_int_equal(strlen(conf.metrics_token), ADMIN_TOKEN_MAX);
    tok[ADMIN_TOKEN_MAX] = 'T';
    tok[ADMIN_TOKEN_MAX + 1] = '\0';
    snprintf(t, sizeof(t), "metrics_token=%s\n", tok);
    expect_err(t, 1, "metrics_token: 129 bytes long, must be 16-128");
    expect_err("metrics_token=secret-but-shrt\n", 1, "metrics_token: 15 bytes long");
    /* a bad byte is named by position; the secret is never in the reason */
    char err[ADMIN_ERR_MAX] = "";
    unsigned line = 0;
    const char *bad = "metrics_token=sup3r$ecretvalue99\n";
    assert_int_equal(parse_n(bad, strlen(bad), &line, err, sizeof(err)), -1);
    assert_string_equal(err, "metrics_token: byte 6 is not one of A-Z a-z 0-9 . _ ~ -");
    expect_err("metrics_token=0123456789abcdef 0\n", 1, "byte 17");
    expect_err("metrics_token=0123456789abcdef/0\n", 1, "byte 17");
    expect_err("metrics_token=0123456789abcdef\xc3\xa4\n", 1, "byte 17");
}

static void test_error_buffer(void **state)
{
    (void)state;
    /* a short buffer gets a truncated, terminated reason; none gets none,
     * and err_line may be NULL */
    char err[8];
    memset(err, 'z', sizeof(err));
    unsigned line = 0;
    assert_int_equal(parse_n("x=1\n", 4, &line, err, sizeof(err)), -1);
    assert_int_equal(strlen(err), sizeof(err) - 1);
    assert_int_equal(line, 1);
    assert_int_equal(parse_n("x=1\n", 4, NULL, NULL, 0), -1);
    assert_int_equal(parse_n("lang=ja\n", 8, NULL, NULL, 0), 0);
}

/* shipped - conf/admin.conf of the source tree. */
static char *shipped(size_t *len)
{
    char path[512];
    const char *me = __FILE__;
    const char *cut = strstr(me, "tests/unit/");
    snprintf(path, sizeof(path), "%.*sconf/admin.conf", cut ? (int)(cut - me) : 0, me);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    static char buf[ADMIN_CONF_FILE_MAX + 1];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_true(*len <= ADMIN_CONF_FILE_MAX);
    char *copy = malloc(*len + 1);
    assert_non_null(copy);
    memcpy(copy, buf, *len);
    copy[*len] = '\0';
    return copy;
}

static void test_shipped_file(void **state)
{
    (void)state;
    size_t len;
    char *text = shipped(&len);
    parse_ok_n(text, len);
    check_defaults();
    /* every "# key=value" line switched on: still the defaults, and every
     * key is there */
    static const char *const keys[] = {
        "adminport", "admin_listen",  "lang",          "session_timeout",    "tls_certificate",
        "tls_key",   "metrics_token", "metrics_allow", "login_failures_max", "login_pause"};
    char *on = malloc(len + 1);
    assert_non_null(on);
    size_t o = 0, found = 0;
    for (const char *p = text; p < text + len;) {
        const char *nl = memchr(p, '\n', (size_t)(text + len - p));
        size_t l = nl ? (size_t)(nl - p) + 1 : (size_t)(text + len - p);
        bool is_key = false;
        for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
            size_t kl = strlen(keys[k]);
            if (l > kl + 3 && strncmp(p, "# ", 2) == 0 && strncmp(p + 2, keys[k], kl) == 0 &&
                p[2 + kl] == '=') {
                is_key = true;
                found++;
            }
        }
        memcpy(on + o, is_key ? p + 2 : p, is_key ? l - 2 : l);
        o += is_key ? l - 2 : l;
        p += l;
    }
    assert_int_equal(found, sizeof(keys) / sizeof(keys[0]));
    parse_ok_n(on, o);
    check_defaults();
    free(on);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),     cmocka_unit_test(test_full_file),
        cmocka_unit_test(test_syntax),       cmocka_unit_test(test_line_errors),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_lang),         cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_tls),          cmocka_unit_test(test_metrics_token),
        cmocka_unit_test(test_error_buffer), cmocka_unit_test(test_shipped_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
