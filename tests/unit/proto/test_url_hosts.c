/* Unit tests for proto/url_hosts: the hosts of http/https URLs in text and
 * HTML bodies (SPAM-9, G-33). What a browser reaches is what must come
 * out: scheme and boundary rules, userinfo, ports, percent-encoding and
 * character references, IPv6 literals, the length and count limits, and
 * the same hosts whatever the chunking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/url_hosts.h"

static struct url_hosts u;

/* hosts_of - the hosts of one part, fed whole, as "h1 h2 ..." in buf. */
static const char *hosts_of(enum url_part_kind kind, const char *in, size_t len, size_t step)
{
    static char buf[URL_HOSTS_MAX * (URL_HOST_MAX + 1) + 1];
    url_hosts_init(&u);
    url_hosts_begin(&u, kind);
    if (step == 0)
        step = len ? len : 1;
    for (size_t off = 0; off < len; off += step)
        url_hosts_feed(&u, in + off, len - off < step ? len - off : step);
    url_hosts_end(&u);
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < u.n; i++) {
        struct str h = url_hosts_get(&u, i);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%.*s", i ? " " : "", (int)h.len, h.ptr);
    }
    return buf;
}

/* expect - the same hosts fed whole, byte by byte and in 7-byte chunks. */
static void expect(enum url_part_kind kind, const char *in, const char *want)
{
    size_t len = strlen(in);
    static const size_t steps[] = {0, 1, 7};
    for (size_t i = 0; i < 3; i++) {
        const char *got = hosts_of(kind, in, len, steps[i]);
        if (strcmp(got, want) != 0)
            fail_msg("%s (step %zu): wanted \"%s\", got \"%s\"", in, steps[i], want, got);
    }
}

static void text(const char *in, const char *want)
{
    expect(URL_PART_TEXT, in, want);
}

static void html(const char *in, const char *want)
{
    expect(URL_PART_HTML, in, want);
}

static void test_schemes(void **state)
{
    (void)state;
    text("see http://www.example.com/path?q=1 now", "www.example.com");
    text("HTTPS://Www.Example.COM/", "www.example.com");
    text("hTtP://a.example", "a.example");
    text("http:/one.example http:\\\\two.example http:///three.example",
         "one.example two.example three.example");
    /* not URLs: other schemes, defanged, glued to a word, no slash */
    text("hxxp://evil.example ftp://f.example xhttp://x.example shttp://s.example", "");
    text("http:evil.example http: //gap.example httpx://y.example", "");
    text("web+http://w.example", "");
    text("(http://p.example) \"http://q.example\",<http://r.example>",
         "p.example q.example r.example");
    /* www. without a scheme: not a URL (G-33) */
    text("www.example.com/x and example.org", "");
    text("", "");
    text("http", "");
    text("http://", "");
}

static void test_authority(void **state)
{
    (void)state;
    text("http://user:pass@host.example:8080/x", "host.example");
    text("http://a@b@c.example/", "c.example");
    text("http://www.bank.example@evil.example/", "evil.example");
    text("http://host.example:80", "host.example");
    text("http://host.example:/", "host.example");
    text("http://host.example:8x/ http://ok.example", "ok.example");
    text("http://example.com./ http://example.com", "example.com");
    text("http://exa%6Dple.COM/ http://%77%77%77.example.net", "example.com www.example.net");
    text("http://bad%2.example http://bad%zz.example http://a%2fb.example", "");
    text("http://xn--bcher-kva.example/", "xn--bcher-kva.example");
    text("http://under_score.example", "under_score.example");
    /* a UTF-8 host is not reported; Japanese text after a URL ends it */
    text("http://b\xc3\xbc"
         "cher.de/",
         "");
    text("http://example.jp\xe3\x80\x82\xe3\x81\x93", "example.jp");
    /* IPv4 in every form: reported as written (surbl_domain tells) */
    text("http://1.2.3.4/ http://0x7f.1/ http://2130706433/", "1.2.3.4 0x7f.1 2130706433");
    /* IPv6 literals */
    text("http://[2001:DB8::1]:8080/ http://[::1]/", "[2001:db8::1] [::1]");
    text("http://[2001:db8::zz]/ http://[fe80::1%25eth0]/ http://[::1/ http://x[::1]/", "");
    text("http://.../ http://a..b.example/", "a..b.example");
}

static void test_html(void **state)
{
    (void)state;
    html("<a href=\"http://a.example/x\">http://b.example</a><img src='https://c.example/i.png'>",
         "a.example b.example c.example");
    html("<a href=\"http://evil&#46;example/\">", "evil.example");
    html("<a href=\"http://evil&#x2E;example&period;com/\">", "evil.example.com");
    html("<a href=\"http&#58;//ent&#x2e;example&colon;81&sol;\">", "ent.example");
    html("<a href=\"http://u&commat;h&#46example\">", "h.example");
    html("<a href=\"http://&#69;XAMPLE.org\">", "example.org");
    html("http://a.example&amp;b=http://b.example", "a.example b.example");
    html("http://a.example&ampx http://b.example&lt;", "a.example b.example");
    /* not double-decoded: &amp;#46; is "&#46;" to a browser */
    html("http://x&amp;#46;example", "x");
    /* unknown or non-ASCII references end the host */
    html("http://a.example&nbsp;x http://b.example&unknown;c", "a.example b.example");
    html("http://a&#233;b.example", "");
    html("http://a&#0;b.example", "");
    /* a text part does not decode references */
    text("http://evil&#46;example/", "evil");
}

static void test_parts(void **state)
{
    (void)state;
    /* hosts collect over the parts of a mail; nothing carries across */
    url_hosts_init(&u);
    url_hosts_begin(&u, URL_PART_TEXT);
    url_hosts_feed(&u, "http://one.example http://two", 29);
    url_hosts_begin(&u, URL_PART_HTML);
    url_hosts_feed(&u, ".example http://one.example &#46;", 33);
    url_hosts_begin(&u, URL_PART_TEXT);
    url_hosts_feed(&u, "&#46; http://three.example", 26);
    url_hosts_end(&u);
    assert_int_equal(u.n, 3);
    assert_true(str_eq_cstr(url_hosts_get(&u, 0), "one.example"));
    assert_true(str_eq_cstr(url_hosts_get(&u, 1), "two"));
    assert_true(str_eq_cstr(url_hosts_get(&u, 2), "three.example"));
    assert_null(url_hosts_get(&u, 3).ptr);
    /* an entity split across chunks */
    url_hosts_init(&u);
    url_hosts_begin(&u, URL_PART_HTML);
    url_hosts_feed(&u, "http://a&#4", 11);
    url_hosts_feed(&u, "6;example", 9);
    url_hosts_end(&u);
    assert_int_equal(u.n, 1);
    assert_true(str_eq_cstr(url_hosts_get(&u, 0), "a.example"));
}

static void test_limits(void **state)
{
    (void)state;
    char in[2048], want[300];
    /* 253 bytes: reported; 254: invalid */
    memset(want, 'a', 253);
    for (size_t i = 63; i < 253; i += 64)
        want[i] = '.';
    want[253] = '\0';
    snprintf(in, sizeof(in), "http://%s/", want);
    text(in, want);
    assert_int_equal(u.invalid, 0);
    snprintf(in, sizeof(in), "http://%sa/ http://ok.example", want);
    text(in, "ok.example");
    assert_int_equal(u.invalid, 1);
    /* percent-encoded to 759 bytes, still 253 decoded */
    size_t n = (size_t)snprintf(in, sizeof(in), "http://");
    for (size_t i = 0; i < 253; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "%%%02X", (unsigned char)want[i]);
    snprintf(in + n, sizeof(in) - n, "/");
    text(in, want);
    /* a very long userinfo does not hide the host */
    n = (size_t)snprintf(in, sizeof(in), "http://");
    memset(in + n, 'u', 1500);
    snprintf(in + n + 1500, sizeof(in) - n - 1500, "@h.example/");
    text(in, "h.example");
    /* a very long authority without '@': invalid, and the next URL found */
    memset(in + n, 'u', 1500);
    snprintf(in + n + 1500, sizeof(in) - n - 1500, " http://next.example");
    text(in, "next.example");
    assert_int_equal(u.invalid, 1);
}

static void test_thousand(void **state)
{
    (void)state;
    /* 1000 URLs, 100 distinct hosts, each 10 times */
    static char in[64 * 1000];
    size_t n = 0;
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "http://h%d.example/p%d\n", i % 100, i);
    for (size_t step = 1; step <= 4096; step *= 8) {
        hosts_of(URL_PART_TEXT, in, n, step);
        assert_int_equal(u.n, URL_HOSTS_MAX);
        assert_int_equal(u.dropped, (100 - URL_HOSTS_MAX) * 10);
        assert_int_equal(u.invalid, 0);
        for (size_t i = 0; i < u.n; i++) {
            char want[32];
            snprintf(want, sizeof(want), "h%zu.example", i);
            assert_true(str_eq_cstr(url_hosts_get(&u, i), want));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemes), cmocka_unit_test(test_authority),
        cmocka_unit_test(test_html),    cmocka_unit_test(test_parts),
        cmocka_unit_test(test_limits),  cmocka_unit_test(test_thousand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
