/* Unit tests for proto/dbupdate_conf: conf/dbupdate.conf (CLI-3, C-18,
 * C-39, KB-2; options.tsv section dbupdate), the orspservice_http_proxy
 * list syntax (KB-13) and the database file name rule. Each accepted form
 * with the values it gives, every error with the line it must name and
 * the words of its reason, and every limit at its edge (one inside, one
 * over). Inputs are parsed from heap copies of exactly their length, so
 * ASan sees a read past the end of the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/dbupdate_conf.h"

static struct dbupdate_conf conf;

static int parse_n(const char *text, size_t len, unsigned *line, char *err, size_t errcap)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    dbupdate_conf_defaults(&conf);
    int rc = dbupdate_conf_parse(copy, len, &conf, line, err, errcap);
    free(copy);
    return rc;
}

/* parse_ok - text is accepted; conf holds the result. */
static void parse_ok(const char *text)
{
    unsigned line = 99;
    char err[DBU_ERR_MAX] = "";
    if (parse_n(text, strlen(text), &line, err, sizeof(err)) != 0)
        fail_msg("refused at line %u: %s\n---\n%s", line, err, text);
    assert_int_equal(line, 0);
}

/* expect_err_n - text is refused at line with a reason containing word. */
static void expect_err_n(const char *text, size_t len, unsigned line, const char *word)
{
    unsigned got = 99;
    char err[DBU_ERR_MAX] = "";
    if (parse_n(text, len, &got, err, sizeof(err)) != -1)
        fail_msg("accepted:\n%.*s", (int)(len > 200 ? 200 : len), text);
    if (got != line || !strstr(err, word))
        fail_msg("wanted line %u \"%s\", got line %u \"%s\"", line, word, got, err);
    assert_null(memchr(err, '\n', strlen(err))); /* one line */
}

static void expect_err(const char *text, unsigned line, const char *word)
{
    expect_err_n(text, strlen(text), line, word);
}

/* ---- defaults and accepted forms ------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    parse_ok("");
    assert_false(conf.use_proxy);
    assert_string_equal(conf.proxy_host, "");
    assert_int_equal(conf.proxy_port, 0);
    assert_false(conf.proxyauth);
    assert_string_equal(conf.proxy_user, "");
    assert_string_equal(conf.proxy_pass, "");
    assert_string_equal(conf.updateurl, "");
    assert_int_equal(conf.ndb, 3);
    assert_string_equal(conf.db[0], "main");
    assert_string_equal(conf.db[1], "daily");
    assert_string_equal(conf.db[2], "bytecode");
    assert_int_equal(conf.ncustom, 0);
    assert_int_equal(conf.max_attempts, 3);
    assert_int_equal(conf.connect_timeout, 30);
    assert_int_equal(conf.receive_timeout, 60);
}

static void test_guide_file(void **state)
{
    (void)state;
    /* The keys of the guide (003:2787-2798), use_proxyauth as printed
     * there (C-18), and Sekisho's additions. */
    parse_ok("use_proxy=yes\n"
             "http_proxy_host=proxy.example.co.jp\n"
             "http_proxy_port=8080\n"
             "use_proxyauth=yes\n"
             "http_proxyauth_user=updater\n"
             "http_proxyauth_pass=s3cr#t pass\n"
             "UPDATEURL=http://fsbwserver-direct.f-secure.com:80/\n"
             "databases=main,daily\n"
             "custom_url=https://sigs.example/db/local.ndb\n"
             "custom_url=file:///srv/sigs/extra.hdb\n"
             "max_attempts=5\n"
             "connect_timeout=10\n"
             "receive_timeout=120\n");
    assert_true(conf.use_proxy);
    assert_string_equal(conf.proxy_host, "proxy.example.co.jp");
    assert_int_equal(conf.proxy_port, 8080);
    assert_true(conf.proxyauth);
    assert_string_equal(conf.proxy_user, "updater");
    assert_string_equal(conf.proxy_pass, "s3cr#t pass");
    assert_string_equal(conf.updateurl, "http://fsbwserver-direct.f-secure.com:80/");
    assert_int_equal(conf.ndb, 2);
    assert_string_equal(conf.db[0], "main");
    assert_string_equal(conf.db[1], "daily");
    assert_int_equal(conf.ncustom, 2);
    assert_string_equal(conf.custom_url[0], "https://sigs.example/db/local.ndb");
    assert_string_equal(conf.custom_url[1], "file:///srv/sigs/extra.hdb");
    assert_int_equal(conf.max_attempts, 5);
    assert_int_equal(conf.connect_timeout, 10);
    assert_int_equal(conf.receive_timeout, 120);
    /* the canonical spelling works the same */
    parse_ok("http_proxyauth=yes\nhttp_proxyauth_user=u\n");
    assert_true(conf.proxyauth);
}

static void test_syntax(void **state)
{
    (void)state;
    /* comments, blank lines, blanks around key and value, CRLF, case of
     * keys and yes/no, '#' and quotes kept inside a value, no final LF */
    parse_ok("# dbupdate.conf\r\n"
             "   # indented comment\r\n"
             "\r\n"
             " \t \r\n"
             "  USE_PROXY \t=  YES \r\n"
             "Http_Proxy_Host=10.0.0.1\r\n"
             "http_proxyauth_pass = \"p#w\" # not a comment\r\n"
             "updateurl=https://mirror.example/clamav");
    assert_true(conf.use_proxy);
    assert_string_equal(conf.proxy_host, "10.0.0.1");
    assert_string_equal(conf.proxy_pass, "\"p#w\" # not a comment");
    assert_string_equal(conf.updateurl, "https://mirror.example/clamav");
    /* '=' in a value: the key ends at the first one */
    parse_ok("http_proxyauth_pass=a=b==\n");
    assert_string_equal(conf.proxy_pass, "a=b==");
    /* a UTF-8 byte order mark before the first key */
    parse_ok("\xef\xbb\xbfuse_proxy=no\n");
    assert_false(conf.use_proxy);
    /* a password may hold any non-control byte, UTF-8 too */
    parse_ok("http_proxyauth_pass=p\xc3\xa4ss\twith tab\n");
    assert_string_equal(conf.proxy_pass, "p\xc3\xa4ss\twith tab");
}

static void test_empty_values(void **state)
{
    (void)state;
    /* an empty value is "not set": the guide's file lists every key empty */
    parse_ok("use_proxy=\nhttp_proxy_host=\nhttp_proxy_port=\nhttp_proxyauth=\n"
             "http_proxyauth_user=\nhttp_proxyauth_pass=\nUPDATEURL=\ncustom_url=\n"
             "max_attempts=\nconnect_timeout=  \nreceive_timeout=\n");
    assert_false(conf.use_proxy);
    assert_string_equal(conf.proxy_host, "");
    assert_int_equal(conf.proxy_port, 0);
    assert_int_equal(conf.ncustom, 0);
    assert_int_equal(conf.max_attempts, 3);
    assert_int_equal(conf.connect_timeout, 30);
    assert_int_equal(conf.receive_timeout, 60);
    assert_int_equal(conf.ndb, 3);
    /* except databases=: no official databases at all */
    parse_ok("databases=\n");
    assert_int_equal(conf.ndb, 0);
    parse_ok("databases= \t\n");
    assert_int_equal(conf.ndb, 0);
}

static void test_line_errors(void **state)
{
    (void)state;
    expect_err("use_proxy=no\n\njust words\n", 3, "no '='");
    expect_err("# c\nproxy_host=x\n", 2, "unknown key 'proxy_host'");
    expect_err("=value\n", 1, "no key");
    expect_err("use_proxy=true\n", 1, "'true' is not yes or no");
    expect_err("\n\nhttp_proxyauth=1\n", 3, "http_proxyauth: '1' is not yes or no");
    /* a key given twice, also when the first was empty; alias counts */
    expect_err("use_proxy=no\nx_y=1\n", 2, "unknown key 'x_y'");
    expect_err("use_proxy=no\n#\nuse_proxy=no\n", 3, "'use_proxy' set twice (first on line 1)");
    expect_err("http_proxy_host=\nhttp_proxy_host=h\n", 2, "set twice (first on line 1)");
    expect_err("http_proxyauth=no\nuse_proxyauth=no\n", 2,
               "'use_proxyauth' set twice (first on line 1, as 'http_proxyauth')");
    expect_err("databases=main\nDATABASES=daily\n", 2, "set twice (first on line 1)");
    /* custom_url may repeat */
    parse_ok("custom_url=http://h/a.ndb\ncustom_url=http://h/a.ndb\n");
    assert_int_equal(conf.ncustom, 2);
}

static void test_bytes(void **state)
{
    (void)state;
    static const char nul[] = "use_proxy=no\nhttp_proxyauth_pass=a\0b\n";
    expect_err_n(nul, sizeof(nul) - 1, 2, "NUL byte in the line");
    expect_err("use_proxy=no\nhttp_proxyauth_pass=a\x01z\n", 2, "control character 0x01");
    expect_err("http_proxyauth_pass=a\x7fz\n", 1, "control character 0x7f");
    expect_err("# comment with a bare \r inside\n", 1, "control character 0x0d");
    expect_err("use_proxy=no\r\r\n", 1, "control character 0x0d");
    expect_err("# \x1b[31m escape\n", 1, "control character 0x1b");
}

static void test_line_and_file_limits(void **state)
{
    (void)state;
    static char text[DBU_CONF_FILE_MAX + 2];
    /* a line of exactly DBU_LINE_MAX bytes (CR of CRLF not counted) */
    memset(text, 'x', sizeof(text));
    text[0] = '#';
    memcpy(text + DBU_LINE_MAX, "\r\nuse_proxy=no\n", 15);
    assert_int_equal(parse_n(text, DBU_LINE_MAX + 15, NULL, NULL, 0), 0);
    memcpy(text + DBU_LINE_MAX, "x\r\nuse_proxy=no\n", 16);
    expect_err_n(text, DBU_LINE_MAX + 16, 1, "line longer than 4096 bytes");
    /* the same on line 2, without a final line end */
    memset(text, 'x', sizeof(text));
    text[0] = '\n';
    text[1] = '#';
    assert_int_equal(parse_n(text, 1 + DBU_LINE_MAX, NULL, NULL, 0), 0);
    expect_err_n(text, 1 + DBU_LINE_MAX + 1, 2, "line longer than 4096 bytes");
    /* a file of exactly DBU_CONF_FILE_MAX bytes; one more is refused whole */
    for (size_t i = 0; i < sizeof(text); i += 64) {
        memset(text + i, ' ', 64 < sizeof(text) - i ? 64 : sizeof(text) - i);
        text[i] = '#';
        if (i + 63 < sizeof(text))
            text[i + 63] = '\n';
    }
    assert_int_equal(parse_n(text, DBU_CONF_FILE_MAX, NULL, NULL, 0), 0);
    expect_err_n(text, DBU_CONF_FILE_MAX + 1, 0, "file larger than 65536 bytes");
}

static void test_numbers(void **state)
{
    (void)state;
    parse_ok("http_proxy_port=1\nmax_attempts=1\nconnect_timeout=1\nreceive_timeout=1\n");
    assert_int_equal(conf.proxy_port, 1);
    assert_int_equal(conf.max_attempts, 1);
    assert_int_equal(conf.connect_timeout, 1);
    assert_int_equal(conf.receive_timeout, 1);
    parse_ok("http_proxy_port=65535\nmax_attempts=10\nconnect_timeout=600\n"
             "receive_timeout=3600\n");
    assert_int_equal(conf.proxy_port, 65535);
    assert_int_equal(conf.max_attempts, 10);
    assert_int_equal(conf.connect_timeout, 600);
    assert_int_equal(conf.receive_timeout, 3600);
    parse_ok("http_proxy_port=03128\n");
    assert_int_equal(conf.proxy_port, 3128);
    expect_err("http_proxy_port=0\n", 1, "http_proxy_port: 0 is out of range (1-65535)");
    expect_err("http_proxy_port=65536\n", 1, "65536 is out of range (1-65535)");
    expect_err("max_attempts=0\n", 1, "max_attempts: 0 is out of range (1-10)");
    expect_err("\nmax_attempts=11\n", 2, "max_attempts: 11 is out of range (1-10)");
    expect_err("connect_timeout=601\n", 1, "connect_timeout: 601 is out of range (1-600)");
    expect_err("connect_timeout=0\n", 1, "out of range (1-600)");
    expect_err("receive_timeout=3601\n", 1, "receive_timeout: 3601 is out of range (1-3600)");
    expect_err("receive_timeout=99999999999999999999999\n", 1, "out of range (1-3600)");
    expect_err("http_proxy_port=80a\n", 1, "http_proxy_port: '80a' is not a number");
    expect_err("http_proxy_port=-1\n", 1, "'-1' is not a number");
    expect_err("http_proxy_port=+80\n", 1, "'+80' is not a number");
    expect_err("max_attempts=1 0\n", 1, "'1 0' is not a number");
}

static void test_proxy_host(void **state)
{
    (void)state;
    static const struct {
        const char *value, *stored;
    } good[] = {
        {"proxy", "proxy"},
        {"proxy.example.co.jp", "proxy.example.co.jp"},
        {"Proxy-1.EXAMPLE", "Proxy-1.EXAMPLE"},
        {"my_proxy.local", "my_proxy.local"},
        {"192.0.2.1", "192.0.2.1"},
        {"::1", "::1"},
        {"[::1]", "::1"},
        {"2001:db8::8:800:200c:417a", "2001:db8::8:800:200c:417a"},
        {"[2001:db8::1]", "2001:db8::1"},
        {"fe80::1", "fe80::1"},
        {"1a.example", "1a.example"},
    };
    char text[512];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "http_proxy_host=%s\n", good[i].value);
        parse_ok(text);
        assert_string_equal(conf.proxy_host, good[i].stored);
    }
    expect_err("http_proxy_host=http://proxy.example/\n", 1, "give the host name only");
    expect_err("http_proxy_host=proxy.example/path\n", 1, "give the host name only");
    expect_err("http_proxy_host=proxy.example:8080\n", 1, "give the host name only");
    expect_err("http_proxy_host=10.0.0.1:3128\n", 1, "give the host name only");
    expect_err("http_proxy_host=user@proxy\n", 1, "give the host name only");
    static const char *const bad[] = {
        "proxy example", "-proxy", "proxy-",       "pro!xy",           "a..b",
        ".proxy",        "proxy.", "127.1",        "256.1.1.1",        "10.0.0.010",
        "[proxy]",       "[::1",   "fe80::1%eth0", "[fe80::1%25eth0]", "1:2:3:4:5:6:7:8:9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "\nhttp_proxy_host=%s\n", bad[i]);
        expect_err(text, 2, "http_proxy_host: '");
    }
    expect_err("http_proxy_host=pro!xy\n", 1,
               "'pro!xy' is not a valid host name, IPv4 or IPv6 address");
    /* a name of 255 bytes is fine, 256 are not; a label of 63 bytes is
     * fine, 64 are not */
    char host[300];
    for (size_t i = 0; i < 255; i++)
        host[i] = i % 2 ? '.' : 'a';
    host[255] = '\0';
    snprintf(text, sizeof(text), "http_proxy_host=%s\n", host);
    parse_ok(text);
    assert_string_equal(conf.proxy_host, host);
    host[254] = 'a';
    host[255] = 'a';
    host[256] = '\0';
    snprintf(text, sizeof(text), "http_proxy_host=%s\n", host);
    expect_err(text, 1, "not a valid host name");
    memset(host, 'b', 63);
    memcpy(host + 63, ".example", 9);
    snprintf(text, sizeof(text), "http_proxy_host=%s\n", host);
    parse_ok(text);
    assert_string_equal(conf.proxy_host, host);
    memset(host, 'b', 64);
    memcpy(host + 64, ".example", 9);
    snprintf(text, sizeof(text), "http_proxy_host=%s\n", host);
    expect_err(text, 1, "not a valid host name");
}

static void test_credentials(void **state)
{
    (void)state;
    char text[700], v[300];
    memset(v, 'u', DBU_CRED_MAX);
    v[DBU_CRED_MAX] = '\0';
    snprintf(text, sizeof(text), "http_proxyauth_user=%s\nhttp_proxyauth_pass=%s\n", v, v);
    parse_ok(text);
    assert_string_equal(conf.proxy_user, v);
    assert_string_equal(conf.proxy_pass, v);
    v[DBU_CRED_MAX] = 'u';
    v[DBU_CRED_MAX + 1] = '\0';
    snprintf(text, sizeof(text), "http_proxyauth_user=%s\n", v);
    expect_err(text, 1, "http_proxyauth_user: longer than 255 bytes");
    snprintf(text, sizeof(text), "use_proxy=no\nhttp_proxyauth_pass=%s\n", v);
    expect_err(text, 2, "http_proxyauth_pass: longer than 255 bytes");
}

static void test_updateurl(void **state)
{
    (void)state;
    static const char *const good[] = {
        "http://fsbserver.f-secure.com/",
        "HTTP://Mirror.Example:8080/",
        "https://mirror.example",
        "http://192.0.2.7:3000/clamav/",
        "http://[::1]:8080/",
        "http://[2001:db8::1]/db",
        "http://h/a%20b/~x_y-z.1?q=1&r=2;s=(3)",
        "http://h?x=1",
    };
    char text[2200];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "UPDATEURL=%s\n", good[i]);
        parse_ok(text);
        assert_string_equal(conf.updateurl, good[i]);
    }
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"ftp://mirror/", "not an http:// or https:// URL"},
        {"mirror.example", "not an http:// or https:// URL"},
        {"file:///srv/db/", "not an http:// or https:// URL"},
        {"http://", "no host in the URL"},
        {"http:///path", "no host in the URL"},
        {"http://mirror .example/", "blank inside the URL"},
        {"http://mirror/a\tb", "blank inside the URL"},
        {"http://user:pw@mirror/", "user name or password in the URL is not supported"},
        {"http://::1/", "not a valid host in the URL"},
        {"http://mirror:0/", "bad port '0' in the URL"},
        {"http://mirror:65536/", "bad port '65536'"},
        {"http://mirror:/", "bad port ''"},
        {"http://mirror:80x/", "bad port '80x'"},
        {"http://[::1/", "'[' without ']'"},
        {"http://[::1]x/", "text after ']'"},
        {"http://[mirror]/", "'mirror' is not an IPv6 address"},
        {"http://mir_ror!/", "not a valid host in the URL"},
        {"http://mirror/#frag", "character '#' not allowed"},
        {"http://mirror/a\"b", "character '\"' not allowed"},
        {"http://mirror/a%2", "'%' not followed by two hex digits"},
        {"http://mirror/a%zz", "'%' not followed by two hex digits"},
        {"http://mirror/\xc3\xa4", "non-ASCII byte in the URL"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "use_proxy=no\nUPDATEURL=%s\n", bad[i].url);
        expect_err(text, 2, bad[i].why);
        expect_err(text, 2, "UPDATEURL: ");
    }
    /* DBU_URL_MAX bytes are fine, one more is not */
    char url[DBU_URL_MAX + 2];
    memset(url, 'p', sizeof(url));
    memcpy(url, "http://h/", 9);
    url[DBU_URL_MAX] = '\0';
    snprintf(text, sizeof(text), "UPDATEURL=%s\n", url);
    parse_ok(text);
    assert_string_equal(conf.updateurl, url);
    url[DBU_URL_MAX] = 'p';
    url[DBU_URL_MAX + 1] = '\0';
    snprintf(text, sizeof(text), "UPDATEURL=%s\n", url);
    expect_err(text, 1, "UPDATEURL: URL longer than 1023 bytes");
}

static void test_custom_url(void **state)
{
    (void)state;
    static const char *const good[] = {
        "https://sigs.example/db/local.ndb",
        "http://[::1]:8080/x.hdb",
        "http://127.0.0.1:8000/sekisho.cvd",
        "file:///srv/sigs/extra.ldb",
        "FILE:///x.yara",
        "https://h/%7Eu/junk.ign2",
    };
    char text[2200];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), "custom_url=%s\n", good[i]);
        parse_ok(text);
        assert_int_equal(conf.ncustom, 1);
        assert_string_equal(conf.custom_url[0], good[i]);
    }
    static const struct {
        const char *url, *why;
    } bad[] = {
        {"https://h/", "must end in a database file name"},
        {"https://h", "must end in a database file name"},
        {"https://h/local.ndb?token=1", "must end in a database file name"},
        {"https://h/sigs.txt", "not 'sigs.txt'"},
        {"https://h/.ndb", "must end in a database file name"},
        {"file://host/x.ndb", "file:///absolute/path"},
        {"file://x.ndb", "file:///absolute/path"},
        {"ftp://h/x.ndb", "not an http://, https:// or file:/// URL"},
        {"https://u@h/x.ndb", "user name or password in the URL is not supported"},
        {"https://h/x y.ndb", "blank inside the URL"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "custom_url=http://ok/a.ndb\ncustom_url=%s\n", bad[i].url);
        expect_err(text, 2, bad[i].why);
        expect_err(text, 2, "custom_url: ");
    }
    /* at most DBU_CUSTOM_URLS_MAX lines */
    char many[64 * 40] = "";
    size_t n = 0;
    for (unsigned i = 0; i < DBU_CUSTOM_URLS_MAX; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, "custom_url=http://h/db%u.ndb\n", i);
    parse_ok(many);
    assert_int_equal(conf.ncustom, DBU_CUSTOM_URLS_MAX);
    assert_string_equal(conf.custom_url[0], "http://h/db0.ndb");
    assert_string_equal(conf.custom_url[31], "http://h/db31.ndb");
    snprintf(many + n, sizeof(many) - n, "custom_url=http://h/one-more.ndb\n");
    expect_err(many, 33, "more than 32 custom_url lines");
}

static void test_databases(void **state)
{
    (void)state;
    parse_ok("databases = main , daily,bytecode,\tsafebrowsing \n");
    assert_int_equal(conf.ndb, 4);
    assert_string_equal(conf.db[0], "main");
    assert_string_equal(conf.db[3], "safebrowsing");
    parse_ok("databases=daily\n");
    assert_int_equal(conf.ndb, 1);
    assert_string_equal(conf.db[0], "daily");
    expect_err("databases=main,,daily\n", 1, "databases: empty name in the list");
    expect_err("databases=main,\n", 1, "empty name");
    expect_err("databases=,main\n", 1, "empty name");
    expect_err("databases=Main\n", 1, "databases: 'Main' is not a database name");
    expect_err("databases=main.cvd\n", 1, "'main.cvd' is not a database name");
    expect_err("databases=ma in\n", 1, "'ma in' is not a database name");
    expect_err("\ndatabases=main,daily,main\n", 2, "databases: 'main' listed twice");
    /* names of 32 bytes are fine, 33 are not */
    char text[2048];
    snprintf(text, sizeof(text), "databases=%s\n", "abcdefghijklmnopqrstuvwxyz012345");
    parse_ok(text);
    assert_string_equal(conf.db[0], "abcdefghijklmnopqrstuvwxyz012345");
    snprintf(text, sizeof(text), "databases=%s\n", "abcdefghijklmnopqrstuvwxyz0123456");
    expect_err(text, 1, "databases: name longer than 32 bytes");
    /* 16 names are fine, 17 are not */
    size_t n = (size_t)snprintf(text, sizeof(text), "databases=d0");
    for (unsigned i = 1; i < DBU_DB_NAMES_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, ",d%u", i);
    parse_ok(text);
    assert_int_equal(conf.ndb, DBU_DB_NAMES_MAX);
    assert_string_equal(conf.db[15], "d15");
    snprintf(text + n, sizeof(text) - n, ",d16\n");
    expect_err(text, 1, "databases: more than 16 names");
}

static void test_whole_file_checks(void **state)
{
    (void)state;
    expect_err("# proxy\nuse_proxy=yes\nhttp_proxy_port=8080\n", 2,
               "use_proxy=yes but http_proxy_host is not set");
    expect_err("http_proxy_host=\nuse_proxy=yes\n", 2, "http_proxy_host is not set");
    expect_err("use_proxy=yes\nhttp_proxy_host=p\n\nhttp_proxyauth=yes\nhttp_proxyauth_pass=x\n", 4,
               "http_proxyauth=yes but http_proxyauth_user is not set");
    expect_err("use_proxyauth=yes\nhttp_proxyauth_user=\n", 1,
               "use_proxyauth=yes but http_proxyauth_user is not set");
    /* "no" needs nothing; the host alone is fine too */
    parse_ok("use_proxy=no\nhttp_proxyauth=no\n");
    parse_ok("http_proxy_host=p\n");
    assert_false(conf.use_proxy);
    /* an error on a line comes before the whole-file checks */
    expect_err("use_proxy=yes\nbogus=1\n", 2, "unknown key 'bogus'");
}

static void test_error_buffer(void **state)
{
    (void)state;
    /* a small buffer is filled and terminated, never overrun */
    char err[12];
    memset(err, 'Z', sizeof(err));
    unsigned line = 0;
    assert_int_equal(parse_n("\nunknown_key_with_a_long_name=1\n", 32, &line, err, 8), -1);
    assert_int_equal(line, 2);
    assert_string_equal(err, "unknown");
    assert_int_equal(err[8], 'Z');
    /* err and err_line may be left out */
    assert_int_equal(parse_n("x\n", 2, NULL, NULL, 0), -1);
    /* the longest reason, with a 64-byte key quoted, fits DBU_ERR_MAX */
    char text[200], big[DBU_ERR_MAX];
    memset(text, 'k', sizeof(text));
    memcpy(text + 150, "=1\n", 3);
    assert_int_equal(parse_n(text, 153, &line, big, sizeof(big)), -1);
    assert_true(strlen(big) < sizeof(big) - 1);
    assert_non_null(strstr(big, "unknown key 'kkkk"));
}

/* ---- proxy lists ------------------------------------------------------- */

static struct dbu_proxy px[DBU_PROXIES_MAX];
static size_t npx;

static void proxies_ok(const char *s)
{
    char err[DBU_ERR_MAX] = "";
    size_t len = strlen(s);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    npx = 99;
    int rc = dbu_proxy_list_parse(copy, len, px, DBU_PROXIES_MAX, &npx, err, sizeof(err));
    free(copy);
    if (rc != 0)
        fail_msg("'%s' refused: %s", s, err);
}

static void expect_proxy(size_t i, const char *host, unsigned port, const char *user,
                         const char *pass)
{
    assert_true(i < npx);
    assert_string_equal(px[i].host, host);
    assert_int_equal(px[i].port, port);
    assert_string_equal(px[i].user, user);
    assert_string_equal(px[i].pass, pass);
}

static void proxies_bad_cap(const char *s, size_t cap, const char *word)
{
    char err[DBU_ERR_MAX] = "";
    size_t n = 99;
    size_t len = strlen(s);
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, s, len);
    int rc = dbu_proxy_list_parse(copy, len, px, cap, &n, err, sizeof(err));
    free(copy);
    if (rc != -1)
        fail_msg("'%s' accepted", s);
    assert_int_equal(n, 0);
    if (!strstr(err, word))
        fail_msg("'%s': wanted \"%s\", got \"%s\"", s, word, err);
}

static void proxies_bad(const char *s, const char *word)
{
    proxies_bad_cap(s, DBU_PROXIES_MAX, word);
}

static void test_proxy_list(void **state)
{
    (void)state;
    proxies_ok("");
    assert_int_equal(npx, 0);
    proxies_ok("  \t ");
    assert_int_equal(npx, 0);
    proxies_ok("proxy.example:8080");
    assert_int_equal(npx, 1);
    expect_proxy(0, "proxy.example", 8080, "", "");
    proxies_ok("proxy");
    expect_proxy(0, "proxy", 0, "", "");
    proxies_ok("http://user:pa:ss@word@10.0.0.1:3128/");
    expect_proxy(0, "10.0.0.1", 3128, "user", "pa:ss@word");
    proxies_ok("HTTP://[2001:db8::1]:8080");
    expect_proxy(0, "2001:db8::1", 8080, "", "");
    proxies_ok("[::1]");
    expect_proxy(0, "::1", 0, "", "");
    proxies_ok("bob@h");
    expect_proxy(0, "h", 0, "bob", "");
    proxies_ok("bob:@h:1");
    expect_proxy(0, "h", 1, "bob", "");
    proxies_ok(" a:1 , http://u:p@b:2 ,c,\t[::2]:65535 ");
    assert_int_equal(npx, 4);
    expect_proxy(0, "a", 1, "", "");
    expect_proxy(1, "b", 2, "u", "p");
    expect_proxy(2, "c", 0, "", "");
    expect_proxy(3, "::2", 65535, "", "");
    /* DBU_PROXIES_MAX entries fit; a smaller cap is honoured */
    proxies_ok("a,b,c,d,e,f,g,h");
    assert_int_equal(npx, DBU_PROXIES_MAX);
    expect_proxy(7, "h", 0, "", "");
    proxies_bad("a,b,c,d,e,f,g,h,i", "more than 8 proxies");
    proxies_bad_cap("a,b,c", 2, "more than 2 proxies");
    proxies_bad_cap("a", 0, "more than 0 proxies");
}

static void test_proxy_list_errors(void **state)
{
    (void)state;
    proxies_bad("https://h:443", "proxy 1: only http:// proxies are supported");
    proxies_bad("a,socks5://h:1080", "proxy 2: only http:// proxies");
    proxies_bad("h:0", "proxy 1: bad port '0' (1-65535)");
    proxies_bad("h:65536", "bad port '65536'");
    proxies_bad("h:", "bad port ''");
    proxies_bad("h:8o", "bad port '8o'");
    proxies_bad("::1", "an IPv6 address must be in brackets");
    proxies_bad("2001:db8::1:8080", "must be in brackets");
    proxies_bad("[::1", "'[' without ']'");
    proxies_bad("[::1]x", "text after ']'");
    proxies_bad("[::1]:", "bad port ''");
    proxies_bad("[proxy]:80", "'proxy' is not an IPv6 address");
    proxies_bad("@h", "empty user name");
    proxies_bad(":pw@h", "empty user name");
    proxies_bad("u:p@", "no address");
    proxies_bad("http://", "no address");
    proxies_bad(":8080", "no address");
    proxies_bad("h/path", "no path");
    proxies_bad("http://h:1/x/", "no path");
    proxies_bad("pro xy:1", "'pro xy' is not a valid host name");
    proxies_bad("127.1:80", "'127.1' is not a valid host name");
    proxies_bad("a,,b", "proxy 2: empty entry");
    proxies_bad("a,", "proxy 2: empty entry");
    proxies_bad(",a", "proxy 1: empty entry");
    proxies_bad("a\n,b", "control character 0x0a");
    proxies_bad("a\tb:1", "'a\tb' is not a valid host name");
    proxies_bad("u:p\x7f@h", "control character 0x7f");
    char s[600];
    memset(s, 'u', 256);
    snprintf(s + 256, sizeof(s) - 256, "@h");
    proxies_bad(s, "longer than 255 bytes");
    snprintf(s, sizeof(s), "u:");
    memset(s + 2, 'p', 256);
    snprintf(s + 258, sizeof(s) - 258, "@h");
    proxies_bad(s, "longer than 255 bytes");
    /* the bound is exact: 255-byte user and password are fine */
    memset(s, 'u', 255);
    s[255] = ':';
    memset(s + 256, 'p', 255);
    snprintf(s + 511, sizeof(s) - 511, "@h:1");
    proxies_ok(s);
    assert_int_equal(strlen(px[0].user), 255);
    assert_int_equal(strlen(px[0].pass), 255);
    /* a NUL inside the given length is a control byte, not an end */
    char err[DBU_ERR_MAX];
    size_t n = 5;
    assert_int_equal(dbu_proxy_list_parse("a\0b", 3, px, DBU_PROXIES_MAX, &n, err, sizeof(err)),
                     -1);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err, "control character 0x00"));
}

/* ---- database file names --------------------------------------------- */

static bool name_ok(const char *s)
{
    return dbu_db_file_name_ok(s, strlen(s));
}

static void test_db_file_names(void **state)
{
    (void)state;
    static const char *const exts[] = {
        "cvd",  "cld", "cud", "ndb", "ndu",  "hdb",  "hdu", "hsb", "hsu",  "mdb", "mdu", "msb",
        "msu",  "ldb", "ldu", "idb", "cdb",  "cfg",  "crb", "cat", "ftm",  "fp",  "sfp", "ign",
        "ign2", "pdb", "gdb", "wdb", "pwdb", "info", "cbc", "yar", "yara", "imp",
    };
    char s[80];
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        snprintf(s, sizeof(s), "db-1_x.%s", exts[i]);
        if (!name_ok(s))
            fail_msg("%s refused", s);
        for (char *p = s; *p; p++)
            *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        if (!name_ok(s))
            fail_msg("%s refused (extensions are matched in any case)", s);
    }
    assert_true(name_ok("main.cvd"));
    assert_true(name_ok("a..ndb"));
    assert_true(name_ok("x.tar.ndb"));
    static const char *const bad[] = {
        "",           ".ndb",     "..ndb",        ".hidden.ndb",     "ndb",       "main",
        "main.",      "main.txt", "main.cvd.bak", "a/b.ndb",         "../b.ndb",  "a b.ndb",
        "a+b.ndb",    "a\\b.ndb", "a:b.ndb",      "m\xc3\xa4in.ndb", "main.ndbx", "main.ign3",
        "main.yarax",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (name_ok(bad[i]))
            fail_msg("'%s' accepted", bad[i]);
    /* 64 bytes are fine, 65 are not */
    memset(s, 'n', sizeof(s));
    memcpy(s + 60, ".ndb", 5);
    assert_int_equal(strlen(s), 64);
    assert_true(name_ok(s));
    memset(s, 'n', sizeof(s));
    memcpy(s + 61, ".ndb", 5);
    assert_false(name_ok(s));
    /* the length is the caller's: a NUL inside is a bad byte */
    assert_false(dbu_db_file_name_ok("a.ndb\0", 6));
    assert_true(dbu_db_file_name_ok("a.ndb.txt", 5));
    assert_false(dbu_db_file_name_ok(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_guide_file),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_empty_values),
        cmocka_unit_test(test_line_errors),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_line_and_file_limits),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_proxy_host),
        cmocka_unit_test(test_credentials),
        cmocka_unit_test(test_updateurl),
        cmocka_unit_test(test_custom_url),
        cmocka_unit_test(test_databases),
        cmocka_unit_test(test_whole_file_checks),
        cmocka_unit_test(test_error_buffer),
        cmocka_unit_test(test_proxy_list),
        cmocka_unit_test(test_proxy_list_errors),
        cmocka_unit_test(test_db_file_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
