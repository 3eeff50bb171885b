/* Unit tests for core/access and proto/hosts_allow_parse.
 *
 * The heart is a differential test: every case of diff_cases[] is written
 * as a real tcpd hosts.allow ("http_from: <patterns>", hosts.deny
 * "ALL: ALL"), libwrap's hosts_ctl() is asked, and our access_match() must
 * give the same answer and the expected one. Cases where we differ from
 * libwrap on purpose are marked ours_only, with the reason; for those we
 * assert that libwrap really does give the other answer, so the list of
 * documented differences (docs/internals/access.md) stays true.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <tcpd.h>
#include <unistd.h>

#include "core/access.h"
#include "proto/hosts_allow_parse.h"

/* libwrap wants its programs to define these (logging severities). */
int allow_severity = 0;
int deny_severity = 0;

static char tmpdir[64];
static char list1[128], list2[128], allow_path[128], deny_path[128];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/sekisho-access-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(list1, sizeof(list1), "%s/allow_list.txt", tmpdir);
    snprintf(list2, sizeof(list2), "%s/deny_list.txt", tmpdir);
    snprintf(allow_path, sizeof(allow_path), "%s/hosts.allow", tmpdir);
    snprintf(deny_path, sizeof(deny_path), "%s/hosts.deny", tmpdir);
    /* List file as in guide 7.2: one pattern per line or several per line.
     * The "# d.example" line is a comment for us, patterns for libwrap. */
    write_file(list1, "a.example\n  b.example c.example\n10.1.\n[::1]\n# d.example\n"
                      ".corp.example\n");
    write_file(list2, "10.0.0.2\n192.168.0.2 172.16.0.0/255.240.0.0\n");
    write_file(deny_path, "ALL: ALL\n");
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    unlink(list1);
    unlink(list2);
    unlink(allow_path);
    unlink(deny_path);
    rmdir(tmpdir);
    return 0;
}

/* expand - copy src, replacing @L1@/@L2@ by the list file paths. */
static void expand(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    while (*src && n + 1 < cap) {
        const char *rep = NULL;
        if (strncmp(src, "@L1@", 4) == 0)
            rep = list1;
        else if (strncmp(src, "@L2@", 4) == 0)
            rep = list2;
        if (rep) {
            size_t l = strlen(rep);
            assert_true(n + l < cap);
            memcpy(dst + n, rep, l);
            n += l;
            src += 4;
        } else {
            dst[n++] = *src++;
        }
    }
    dst[n] = '\0';
}

/* write_allow - "http_from: <line>" for every '\n'-separated line. */
static void write_allow(const char *patterns)
{
    char expanded[2048], text[4096];
    size_t n = 0;
    expand(expanded, sizeof(expanded), patterns);
    const char *p = expanded;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        int w = snprintf(text + n, sizeof(text) - n, "http_from: %.*s\n", (int)l, p);
        assert_true(w > 0 && (size_t)w < sizeof(text) - n);
        n += (size_t)w;
        if (!nl)
            break;
        p = nl + 1;
    }
    write_file(allow_path, text);
}

static bool libwrap_allows(const char *addr, const char *name)
{
    char daemon[] = "http_from";
    char a[128], h[300], u[] = STRING_UNKNOWN;
    snprintf(a, sizeof(a), "%s", addr ? addr : STRING_UNKNOWN);
    snprintf(h, sizeof(h), "%s", name ? name : STRING_UNKNOWN);
    hosts_allow_table = allow_path;
    hosts_deny_table = deny_path;
    return hosts_ctl(daemon, h, a, u) != 0;
}

struct diff_case {
    const char *patterns; /* '\n' separates hosts.allow lines; @L1@/@L2@ list files */
    const char *addr;     /* NULL: unknown */
    const char *name;     /* NULL: unknown */
    bool expect;
    const char *ours_only; /* why libwrap answers differently, or NULL */
};

static const struct diff_case diff_cases[] = {
    /* exact addresses, space-separated list = OR (guide 7.2) */
    {"123.45.67.89 10.9.8.7", "10.9.8.7", NULL, true, NULL},
    {"123.45.67.89 10.9.8.7", "10.9.8.8", NULL, false, NULL},
    {"123.45.67.89,10.9.8.7", "123.45.67.89", NULL, true, NULL},
    /* host names and .domain */
    {"host.domain.jp", "192.0.2.1", "host.domain.jp", true, NULL},
    {"host.domain.jp", "192.0.2.1", "xxx.host.domain.jp", false, NULL},
    {"host.domain.jp", "192.0.2.1", NULL, false, NULL},
    {".domain.jp", "192.0.2.1", "xxx.domain.jp", true, NULL},
    {".domain.jp", "192.0.2.1", "domain.jp", false, NULL},
    {".domain.jp", "192.0.2.1", NULL, false, NULL},
    {".domain.jp", "192.0.2.1", "xdomain.jp", false, NULL},
    {"domain.jp .domain.jp", "192.0.2.1", "domain.jp", true, NULL},
    {"domain.jp .domain.jp", "192.0.2.1", "a.b.domain.jp", true, NULL},
    /* case differences */
    {"WWW.Example.COM", "192.0.2.1", "www.example.com", true, NULL},
    {".EXAMPLE.com", "192.0.2.1", "WWW.EXAMPLE.COM", true, NULL},
    {"all", "192.0.2.1", NULL, true, NULL},
    {"ALL except 192.0.2.1", "192.0.2.1", NULL, false, NULL},
    /* a.b.c. prefixes */
    {"192.168.", "192.168.3.4", NULL, true, NULL},
    {"192.168.", "192.169.3.4", NULL, false, NULL},
    {"10.", "110.0.0.1", NULL, false, NULL},
    {"10.", "10.200.0.1", NULL, true, NULL},
    {"10.1.", "10.10.0.1", NULL, false, NULL},
    {"10.1.", "10.1.0.1", NULL, true, NULL},
    /* net/mask */
    {"192.168.0.0/255.255.0.0", "192.168.255.1", NULL, true, NULL},
    {"192.168.0.0/255.255.0.0", "192.169.0.1", NULL, false, NULL},
    {"131.155.72.0/255.255.254.0", "131.155.73.255", NULL, true, NULL},
    {"131.155.72.0/255.255.254.0", "131.155.74.0", NULL, false, NULL},
    {"172.16.0.0/255.240.0.0", "172.31.255.255", NULL, true, NULL},
    {"172.16.0.0/255.240.0.0", "172.32.0.1", NULL, false, NULL},
    {"10.0.0.0/8", "10.255.0.1", NULL, true, NULL},
    {"10.0.0.0/8", "11.0.0.1", NULL, false, NULL},
    {"10.1.2.3/32", "10.1.2.3", NULL, true, NULL},
    {"0.0.0.0/0.0.0.0", "203.0.113.9", NULL, true, NULL},
    {"10.0.0.0/255.0.255.0", "10.5.0.7", NULL, true, NULL},
    {"10.0.0.0/255.0.255.0", "10.5.1.7", NULL, false, NULL},
    /* ALL and EXCEPT (guide 7.2) */
    {"ALL", NULL, NULL, true, NULL},
    {"ALL EXCEPT 10.0.0.2 192.168.0.2", "192.168.0.2", NULL, false, NULL},
    {"ALL EXCEPT 10.0.0.2 192.168.0.2", "192.168.0.3", NULL, true, NULL},
    {"ALL EXCEPT 192.168.0.0/255.255.0.0", "192.168.5.5", NULL, false, NULL},
    {"ALL EXCEPT 192.168.0.0/255.255.0.0", "10.0.0.1", NULL, true, NULL},
    {".domain.jp EXCEPT 10.0.0.2 192.168.0.2", "10.0.0.2", "a.domain.jp", false, NULL},
    {".domain.jp EXCEPT 10.0.0.2 192.168.0.2", "10.0.0.3", "a.domain.jp", true, NULL},
    {".domain.jp EXCEPT 10.0.0.2 192.168.0.2", "10.0.0.3", NULL, false, NULL},
    /* nesting: a EXCEPT (b EXCEPT c) */
    {"ALL EXCEPT .example.com EXCEPT www.example.com", "192.0.2.1", "www.example.com", true, NULL},
    {"ALL EXCEPT .example.com EXCEPT www.example.com", "192.0.2.1", "mail.example.com", false,
     NULL},
    {"ALL EXCEPT .example.com EXCEPT www.example.com", "192.0.2.1", "other.org", true, NULL},
    {"10.0.0.1 EXCEPT", "10.0.0.1", NULL, true, NULL},
    {"EXCEPT ALL", "10.0.0.1", NULL, false, NULL},
    /* list files */
    {"@L1@", "192.0.2.1", "c.example", true, NULL},
    {"@L1@", "10.1.2.3", NULL, true, NULL},
    {"@L1@", "192.0.2.1", "z.example", false, NULL},
    {"@L1@", "::1", NULL, true, NULL},
    {"@L1@", "192.0.2.1", "x.corp.example", true, NULL},
    {"ALL EXCEPT @L2@", "10.0.0.2", NULL, false, NULL},
    {"ALL EXCEPT @L2@", "172.20.1.1", NULL, false, NULL},
    {"ALL EXCEPT @L2@", "10.0.0.3", NULL, true, NULL},
    {"a.example @L2@", "192.0.2.1", "a.example", true, NULL},
    /* keywords */
    {"LOCAL", "192.0.2.1", "foo", true, NULL},
    {"LOCAL", "192.0.2.1", "foo.bar", false, NULL},
    {"LOCAL", "192.0.2.1", NULL, false, NULL},
    {"KNOWN", "192.0.2.1", "foo", true, NULL},
    {"KNOWN", "192.0.2.1", NULL, false, NULL},
    {"KNOWN", NULL, "foo", false, NULL},
    {"UNKNOWN", "192.0.2.1", NULL, true, NULL},
    {"UNKNOWN", "192.0.2.1", "foo", false, NULL},
    {"unknown", NULL, "foo", true, NULL},
    /* wildcards */
    {"*.example.com", "192.0.2.1", "www.example.com", true, NULL},
    {"*.example.com", "192.0.2.1", "example.com", false, NULL},
    {"192.168.*", "192.168.1.1", NULL, true, NULL},
    {"192.168.*", "192.169.1.1", NULL, false, NULL},
    {"?ww.example.com", "192.0.2.1", "www.example.com", true, NULL},
    {"*.*.*.4", "1.2.3.4", NULL, true, NULL},
    /* name prefix (tcpd: a pattern ending in '.' is also tried on names) */
    {"www.", "192.0.2.1", "www.example.com", true, NULL},
    {"www.", "192.0.2.1", "wwwx.example.com", false, NULL},
    /* IPv6 and IPv4-mapped clients */
    {"[::1]", "::1", NULL, true, NULL},
    {"[0::1]", "::1", NULL, true, NULL},
    {"[2001:DB8::1]", "2001:db8::1", NULL, true, NULL},
    {"[2001:db8::]/32", "2001:db8::5", NULL, true, NULL},
    {"[2001:db8::]/32", "2001:db9::1", NULL, false, NULL},
    {"[2001:db8::]/32", "10.0.0.1", NULL, false, NULL},
    {"10.0.0.1", "::ffff:10.0.0.1", NULL, true, NULL},
    {"10.0.0.0/8", "::ffff:10.0.0.1", NULL, true, NULL},
    /* repeated lines of one field are alternatives, not one long list */
    {"aaa.com bbb.com ccc.com\nddd.com eee.com fff.com", "192.0.2.1", "eee.com", true, NULL},
    {"10.0.0.0/8 EXCEPT 10.0.0.1\n10.0.0.1", "10.0.0.1", NULL, true, NULL},
    {"10.0.0.0/8 EXCEPT 10.0.0.1\n192.168.", "10.0.0.1", NULL, false, NULL},
    /* differences on purpose */
    {"0.0.0.0/0", "203.0.113.9", NULL, true,
     "Debian's libwrap rejects the prefix length 0; /0 is 'every IPv4 address' here"},
    {"[::ffff:10.0.0.1]", "10.0.0.1", NULL, true,
     "IPv4-mapped patterns become IPv4 patterns, as mapped clients are matched as IPv4"},
    {"unk*", "192.0.2.1", NULL, false,
     "libwrap matches name patterns against the string \"unknown\"; an unknown name never "
     "matches a name pattern here"},
    {"@L1@", "192.0.2.1", "d.example", false,
     "'#' lines in list files are comments here; libwrap reads '#' and 'd.example' as patterns"},
};

static void test_differential_libwrap(void **state)
{
    (void)state;
    size_t n = sizeof(diff_cases) / sizeof(diff_cases[0]);
    size_t ours_only = 0;
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct diff_case *c = &diff_cases[i];
        write_allow(c->patterns);
        struct access_table *t = access_table_load(allow_path, stderr);
        if (!t)
            fail_msg("case %zu [%s]: table did not load", i, c->patterns);
        bool ours = access_match(t, "http_from", c->addr, c->name);
        bool theirs = libwrap_allows(c->addr, c->name);
        access_table_free(t);
        if (ours != c->expect)
            fail_msg("case %zu [%s] addr=%s name=%s: ours %d, expected %d", i, c->patterns,
                     c->addr ? c->addr : "(unknown)", c->name ? c->name : "(unknown)", ours,
                     c->expect);
        if (c->ours_only) {
            ours_only++;
            if (theirs == c->expect)
                fail_msg("case %zu [%s]: marked ours-only (%s) but libwrap agrees", i, c->patterns,
                         c->ours_only);
        } else if (theirs != ours) {
            fail_msg("case %zu [%s] addr=%s name=%s: libwrap %d, ours %d", i, c->patterns,
                     c->addr ? c->addr : "(unknown)", c->name ? c->name : "(unknown)", theirs,
                     ours);
        }
    }
    assert_true(n - ours_only >= 40);
}

/* ---- load errors and their line numbers ---- */

struct diag {
    char *text;
    size_t len;
    FILE *f;
};

static void diag_open(struct diag *d)
{
    d->text = NULL;
    d->len = 0;
    d->f = open_memstream(&d->text, &d->len);
    assert_non_null(d->f);
}

static const char *diag_close(struct diag *d)
{
    fclose(d->f);
    return d->text ? d->text : "";
}

/* load_text - compile text; returns the table (or NULL) and the messages. */
static struct access_table *load_text(const char *text, struct diag *d)
{
    diag_open(d);
    struct access_table *t = access_table_from_text(text, strlen(text), "t.allow", d->f);
    diag_close(d);
    return t;
}

static void expect_error(const char *text, const char *message)
{
    struct diag d;
    struct access_table *t = load_text(text, &d);
    if (t || !strstr(d.text ? d.text : "", message))
        fail_msg("text [%s]: expected failure with \"%s\", got %s \"%s\"", text, message,
                 t ? "a table and" : "", d.text ? d.text : "");
    access_table_free(t);
    free(d.text);
}

static void test_line_limit(void **state)
{
    (void)state;
    const char *prefix = "http_from: ";
    size_t plen = strlen(prefix);
    char *text = malloc(3 * HOSTS_ALLOW_LINE_MAX);
    assert_non_null(text);

    /* exactly 2047 bytes: accepted, and its last pattern is used */
    size_t n = 0;
    n += (size_t)snprintf(text + n, 64, "# comment\n");
    memcpy(text + n, prefix, plen);
    n += plen;
    while (n - 10 < HOSTS_ALLOW_LINE_MAX - 8)
        text[n++] = ' ';
    memcpy(text + n, "10.9.8.7", 8); /* line = 2047 bytes: "http_from: " + blanks + 8 */
    n += 8;
    text[n] = '\0';
    assert_int_equal(n - 10, HOSTS_ALLOW_LINE_MAX);
    struct diag d;
    struct access_table *t = load_text(text, &d);
    assert_non_null(t);
    assert_true(access_match(t, "http_from", "10.9.8.7", NULL));
    access_table_free(t);
    free(d.text);

    /* 2048 bytes on line 3: error naming line 3, even with CRLF endings */
    n = (size_t)snprintf(text, 64, "# comment\r\nsmtp_rcpt: a.com\r\n");
    size_t start = n;
    memcpy(text + n, prefix, plen);
    n += plen;
    while (n - start < HOSTS_ALLOW_LINE_MAX + 1 - 8)
        text[n++] = ' ';
    memcpy(text + n, "10.9.8.7\r\nhttp_to: ALL\r\n", 25);
    expect_error(text, "t.allow:3: line longer than 2047 bytes");
    free(text);
}

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("http_from: 10.\nhtp_from: 10.\n", "t.allow:2: unknown field 'htp_from'");
    expect_error("\n\nhttp_from 10.0.0.1\n", "t.allow:3: missing ':'");
    expect_error("http_from: 10.0.0.0/255.0.0.256\n", "t.allow:1: invalid netmask");
    expect_error("# x\nhttp_from: 10.1.2.3/255.255.255.255\n",
                 "t.allow:2: netmask 255.255.255.255 is not allowed");
    expect_error("http_from: 10.1.2.0/255.0.0.0\n", "t.allow:1: network '10.1.2.0/255.0.0.0' has "
                                                    "bits outside its mask");
    expect_error("http_from: 10.0.0.0/33\n", "invalid netmask or prefix length");
    expect_error("http_from: 999.999.999.999\n", "t.allow:1: invalid IPv4 address");
    expect_error("http_from: 010.0.0.1\n", "invalid IPv4 address");
    expect_error("http_from: 1.2.3\n", "invalid IPv4 address");
    expect_error("http_from: 1.2.3.4.\n", "invalid address prefix");
    expect_error("http_from: .1\n", "address suffix patterns are not supported");
    expect_error("http_from: etc/list.txt\n", "neither net/mask nor an absolute list file path");
    expect_error("http_from: user@host\n", "not supported");
    expect_error("http_from: 10.0.0.1 # office\n", "t.allow:1: '#' starts a comment only");
    expect_error("http_from: a.b: allow\n", "invalid IPv6 address");
    expect_error("http_from: *.example.\n", "wildcards cannot be combined");
    expect_error("http_from: PARANOID\n", "PARANOID is not supported");
    expect_error("http_from: [2001:db8::]/129\n", "invalid IPv6 prefix length");
    expect_error("http_from: 10.\n\n\nftp_to: /nonexistent/sekisho/list.txt\n",
                 "t.allow:4: cannot read list file /nonexistent/sekisho/list.txt");
    expect_error("http_from: a\001b\n", "control character 0x01");
    expect_error("http_from: 10.\\\nfoo\\\n bar\nftp_to: 1.2.3\n", "t.allow:4: invalid IPv4");
    expect_error("ALL: ALL\n", "unknown field 'ALL'");
    expect_error(": 10.\n", "empty field name");
}

static void test_list_file_errors(void **state)
{
    (void)state;
    char path[160], text[400], want[400];
    snprintf(path, sizeof(path), "%s/bad_list.txt", tmpdir);
    write_file(path, "ok.example\n# comment\n10.0.0.1 1.2.3\n");
    snprintf(text, sizeof(text), "# header\nsmtp_rcpt: %s\n", path);
    snprintf(want, sizeof(want), "%s:3: invalid IPv4 address '1.2.3' (list file used at t.allow:2)",
             path);
    expect_error(text, want);

    write_file(path, "a.example EXCEPT b.example\n");
    expect_error(text, "EXCEPT is not allowed in a list file");
    snprintf(text, sizeof(text), "smtp_rcpt: %s\n", tmpdir);
    expect_error(text, "not a regular file");
    unlink(path);
}

static void test_fields_combined_and_spelled(void **state)
{
    (void)state;
    struct diag d;
    struct access_table *t = load_text("# guide 7.2 example\n"
                                       "smtp_rcpt: aaa.com bbb.com ccc.com\n"
                                       "smtp_rcpt: ddd.com eee.com fff.com\n"
                                       "spam rbl pass: 127.0.0.1 10.\n"
                                       "HTTP From, ftp_from : 192.168.\n"
                                       "http_to:\n"
                                       "pop_from: a \\\n"
                                       "  b.example\\\n"
                                       ".org\n",
                                       &d);
    assert_non_null(t);
    assert_string_equal(d.text, "");
    free(d.text);
    assert_true(access_match(t, "smtp_rcpt", NULL, "aaa.com"));
    assert_true(access_match(t, "smtp_rcpt", NULL, "fff.com"));
    assert_true(access_match(t, "smtp_rcpt", NULL, "BBB.COM"));
    assert_false(access_match(t, "smtp_rcpt", NULL, "ggg.com"));
    assert_false(access_match(t, "smtp_rcpt", NULL, NULL));
    assert_true(access_match(t, "spam_rbl_pass", "10.2.3.4", NULL));
    assert_true(access_match(t, "spam rbl pass", "127.0.0.1", NULL));
    assert_false(access_match(t, "spam_rbl_pass", "127.0.0.2", NULL));
    assert_true(access_match(t, "http_from", "192.168.1.1", NULL));
    assert_true(access_match(t, "ftp_from", "192.168.1.1", NULL));
    assert_false(access_match(t, "smtp_from", "192.168.1.1", NULL));
    /* present but empty: matches nothing (G-15: enabled and empty = deny) */
    assert_true(access_table_has_field(t, "http_to"));
    assert_false(access_match(t, "http_to", "192.168.1.1", "x"));
    assert_false(access_table_has_field(t, "pop_to"));
    assert_false(access_table_has_field(t, "no_such_field"));
    assert_false(access_match(t, "pop_to", "192.168.1.1", NULL));
    /* backslash-newline joins with no blank, as tcpd: "b.example.org" */
    assert_true(access_match(t, "pop_from", NULL, "b.example.org"));
    assert_true(access_match(t, "pop_from", NULL, "a"));
    assert_false(access_match(t, "pop_from", NULL, "b.example"));
    assert_int_equal(access_table_pattern_count(t, HOSTS_ALLOW_SMTP_RCPT), 6);
    access_table_free(t);
}

static void test_parser_events(void **state)
{
    (void)state;
    static const char text[] = "  # c\n\nsmtp_lan: 10., [::1]\\\n  x.y\nbad\n  pop_to : \n";
    struct hosts_allow_parser p;
    struct hosts_allow_ev ev;
    hosts_allow_parser_init(&p, text, sizeof(text) - 1);

    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_RULE);
    assert_int_equal(ev.fields, 1u << HOSTS_ALLOW_SMTP_LAN);
    assert_int_equal(ev.line, 3);
    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_PATTERN);
    assert_true(str_eq_cstr(ev.token, "10."));
    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_PATTERN);
    assert_true(str_eq_cstr(ev.token, "[::1]"));
    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_PATTERN);
    assert_true(str_eq_cstr(ev.token, "x.y"));
    assert_int_equal(ev.line, 4);
    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_ERROR);
    assert_int_equal(ev.line, 5);
    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_RULE);
    assert_int_equal(ev.fields, 1u << HOSTS_ALLOW_POP_TO);
    assert_int_equal(ev.line, 6);
    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_END);
    assert_int_equal(hosts_allow_next(&p, &ev), HOSTS_ALLOW_EV_END);
    assert_string_equal(hosts_allow_event_name(HOSTS_ALLOW_EV_PATTERN), "PATTERN");
    assert_string_equal(hosts_allow_field_name(HOSTS_ALLOW_SPAM_RBL_PASS), "spam_rbl_pass");
    assert_string_equal(hosts_allow_field_name(HOSTS_ALLOW_FIELD_COUNT), "FIELD_???");
}

static void test_pattern_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *tok;
        enum hosts_allow_pattern_kind kind;
    } cases[] = {
        {"ALL", HOSTS_ALLOW_PAT_ALL},
        {"Except", HOSTS_ALLOW_PAT_EXCEPT},
        {"10.0.0.1", HOSTS_ALLOW_PAT_IP4},
        {"[10.0.0.1]", HOSTS_ALLOW_PAT_IP4},
        {"10.", HOSTS_ALLOW_PAT_IP4_NET},
        {"10.0.0.0/255.0.0.0", HOSTS_ALLOW_PAT_IP4_NET},
        {"::1", HOSTS_ALLOW_PAT_IP6},
        {"2001:db8::/32", HOSTS_ALLOW_PAT_IP6_NET},
        {"[::ffff:10.0.0.0]/104", HOSTS_ALLOW_PAT_IP4_NET},
        {"host.domain.jp", HOSTS_ALLOW_PAT_NAME},
        {".domain.jp", HOSTS_ALLOW_PAT_SUFFIX},
        {"www.", HOSTS_ALLOW_PAT_NAME_PREFIX},
        {"*.jp", HOSTS_ALLOW_PAT_WILDCARD},
        {"/etc/list.txt", HOSTS_ALLOW_PAT_FILE},
    };
    struct hosts_allow_pattern pat;
    char reason[HOSTS_ALLOW_REASON_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!hosts_allow_pattern_parse(str_from_cstr(cases[i].tok), &pat, reason, sizeof(reason)))
            fail_msg("%s: %s", cases[i].tok, reason);
        if (pat.kind != cases[i].kind)
            fail_msg("%s: kind %s", cases[i].tok, hosts_allow_pattern_kind_name(pat.kind));
    }
    assert_true(hosts_allow_pattern_parse(STR_LIT("[::ffff:10.0.0.0]/104"), &pat, reason, 64));
    assert_int_equal(pat.ip4, 0x0a000000u);
    assert_int_equal(pat.ip4_mask, 0xff000000u);
    assert_true(hosts_allow_pattern_parse(STR_LIT("192.168."), &pat, reason, 64));
    assert_int_equal(pat.ip4, 0xc0a80000u);
    assert_int_equal(pat.ip4_mask, 0xffff0000u);
}

static void test_set_list(void **state)
{
    (void)state;
    struct access_table *t = access_table_new();
    assert_non_null(t);
    struct diag d;
    diag_open(&d);
    static const char list[] = "aaa.com, bbb.com\n.ccc.com";
    assert_int_equal(access_table_set_list(t, HOSTS_ALLOW_SMTP_RCPT, list, sizeof(list) - 1,
                                           "sekisho.ini smtp_rcpt", d.f),
                     0);
    static const char bad[] = "10.0.0.1 1.2.3";
    assert_int_equal(access_table_set_list(t, HOSTS_ALLOW_SMTP_RCPT, bad, sizeof(bad) - 1,
                                           "sekisho.ini smtp_rcpt", d.f),
                     -1);
    diag_close(&d);
    assert_non_null(strstr(d.text, "sekisho.ini smtp_rcpt:1: invalid IPv4 address '1.2.3'"));
    free(d.text);
    /* the failed update left the field as it was */
    assert_true(access_match(t, "smtp_rcpt", NULL, "bbb.com"));
    assert_true(access_match(t, "smtp_rcpt", NULL, "x.ccc.com"));
    assert_false(access_match(t, "smtp_rcpt", NULL, "ccc.com"));
    assert_int_equal(access_table_set_list(t, HOSTS_ALLOW_SMTP_RCPT, "", 0, "empty", NULL), 0);
    assert_true(access_table_has(t, HOSTS_ALLOW_SMTP_RCPT));
    assert_false(access_match(t, "smtp_rcpt", NULL, "bbb.com"));
    access_table_free(t);
}

/* Large list files exercise the sorted sets (binary search, dedupe). */
static void test_large_list(void **state)
{
    (void)state;
    enum { N = 20000 };
    char path[160], text[256];
    snprintf(path, sizeof(path), "%s/big_list.txt", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (unsigned i = 0; i < N; i++) {
        fprintf(f, "host%u.example 10.%u.%u.%u .d%u.example [2001:db8::%x]\n", i * 2,
                (i >> 16) & 255, (i >> 8) & 255, i & 255, i, i);
        if (i % 1000 == 0)
            fprintf(f, "host%u.example\n", i * 2); /* duplicates */
    }
    assert_int_equal(fclose(f), 0);
    snprintf(text, sizeof(text), "smtp_lan: %s\n", path);
    struct diag d;
    struct access_table *t = load_text(text, &d);
    assert_non_null(t);
    free(d.text);
    assert_int_equal(access_table_pattern_count(t, HOSTS_ALLOW_SMTP_LAN), 4 * N);
    char name[64], addr[64];
    for (unsigned i = 0; i < N; i += 997) {
        snprintf(name, sizeof(name), "HOST%u.example", i * 2);
        assert_true(access_match(t, "smtp_lan", NULL, name));
        snprintf(name, sizeof(name), "host%u.example", i * 2 + 1);
        assert_false(access_match(t, "smtp_lan", NULL, name));
        snprintf(name, sizeof(name), "a.b.d%u.example", i);
        assert_true(access_match(t, "smtp_lan", NULL, name));
        snprintf(addr, sizeof(addr), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_true(access_match(t, "smtp_lan", addr, NULL));
        snprintf(addr, sizeof(addr), "2001:db8::%x", i);
        assert_true(access_match(t, "smtp_lan", addr, NULL));
        snprintf(addr, sizeof(addr), "2001:db8::1:%x", i);
        assert_false(access_match(t, "smtp_lan", addr, NULL));
    }
    assert_false(access_match(t, "smtp_lan", "10.255.0.0", NULL));
    access_table_free(t);
    unlink(path);
}

static void test_client_forms(void **state)
{
    (void)state;
    struct access_client c;
    access_client_init(&c, "[fe80::1%eth0]", "MiXeD.Example");
    assert_int_equal(c.family, AF_INET6);
    assert_string_equal(c.addr_text, "fe80::1");
    assert_string_equal(c.name, "mixed.example");
    access_client_init(&c, "::ffff:192.0.2.7", "");
    assert_int_equal(c.family, AF_INET);
    assert_string_equal(c.addr_text, "192.0.2.7");
    assert_false(c.has_name);
    access_client_init(&c, "unknown", NULL);
    assert_int_equal(c.family, 0);
    char longname[300];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    access_client_init(&c, "192.0.2.1", longname);
    assert_false(c.has_name);
    assert_false(access_match(NULL, "http_from", "192.0.2.1", NULL));
}

static void test_load_missing_file(void **state)
{
    (void)state;
    struct diag d;
    diag_open(&d);
    assert_null(access_table_load("/nonexistent/sekisho/hosts.allow", d.f));
    diag_close(&d);
    assert_non_null(strstr(d.text, "/nonexistent/sekisho/hosts.allow: cannot read"));
    free(d.text);
}

static void test_shipped_default(void **state)
{
    (void)state;
    /* conf/hosts.allow: spam_rbl_pass (options.tsv default) and the example
     * smtp_rcpt domains that go with the shipped acl_rcpt=yes are active. */
    struct diag d;
    diag_open(&d);
    struct access_table *t = access_table_load("conf/hosts.allow", d.f);
    diag_close(&d);
    if (!t)
        fail_msg("conf/hosts.allow: %s", d.text);
    free(d.text);
    for (unsigned f = 0; f < HOSTS_ALLOW_FIELD_COUNT; f++)
        assert_int_equal(access_table_has(t, f),
                         f == HOSTS_ALLOW_SPAM_RBL_PASS || f == HOSTS_ALLOW_SMTP_RCPT);
    assert_true(access_match(t, "smtp_rcpt", NULL, "example.com"));
    assert_true(access_match(t, "smtp_rcpt", NULL, "example.net"));
    assert_false(access_match(t, "smtp_rcpt", NULL, "example.org"));
    assert_true(access_match(t, "spam_rbl_pass", "127.0.0.1", NULL));
    assert_true(access_match(t, "spam_rbl_pass", "10.1.1.1", NULL));
    assert_true(access_match(t, "spam_rbl_pass", "192.168.7.7", NULL));
    assert_true(access_match(t, "spam_rbl_pass", "172.20.0.1", NULL));
    assert_false(access_match(t, "spam_rbl_pass", "172.32.0.1", NULL));
    assert_false(access_match(t, "spam_rbl_pass", "198.51.100.1", NULL));
    access_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_differential_libwrap),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_list_file_errors),
        cmocka_unit_test(test_fields_combined_and_spelled),
        cmocka_unit_test(test_parser_events),
        cmocka_unit_test(test_pattern_kinds),
        cmocka_unit_test(test_set_list),
        cmocka_unit_test(test_large_list),
        cmocka_unit_test(test_client_forms),
        cmocka_unit_test(test_load_missing_file),
        cmocka_unit_test(test_shipped_default),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
