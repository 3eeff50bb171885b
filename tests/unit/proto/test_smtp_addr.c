/* Unit tests for proto/smtp_addr: the open-relay matrix (SMTP-7, SMTP-12,
 * REF-2).
 *
 * Every row is one cmocka test named after its address, so a failure
 * names the trick. Each row says why it gets its class: a relay trick is
 * REFUSE because some mail server routes such an address to a host other
 * than the one after the first '@'; only harmless spellings of a plain
 * address (case, ordinary atext) are DOMAIN, with the lowercased domain
 * the caller matches against smtp_rcpt. Length limits are probed at
 * their edges in separate tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/smtp_addr.h"

struct row {
    const char *addr;
    size_t len; /* 0: strlen(addr); set for rows with a NUL byte */
    enum smtp_rcpt_class want;
    const char *domain; /* expected domain for DOMAIN, else "" */
    const char *why;
};

static const struct row rows[] = {
    /* ---- relay tricks: REFUSE ---- */
    {"user%remote.example@local.example", 0, SMTP_RCPT_REFUSE, "",
     "percent hack: sendmail and others turn the last % into @ and relay to remote.example"},
    {"user%remote.example", 0, SMTP_RCPT_REFUSE, "",
     "percent hack without @: would be NO_DOMAIN (never refused) but still routes off-site"},
    {"user%40remote.example@local.example", 0, SMTP_RCPT_REFUSE, "",
     "%-encoded @: a hop that decodes it gets two @"},
    {"remote.example!user@local.example", 0, SMTP_RCPT_REFUSE, "",
     "UUCP bang path: the local server forwards to remote.example"},
    {"remote.example!user", 0, SMTP_RCPT_REFUSE, "",
     "bang path without @: would be NO_DOMAIN, routes to remote.example"},
    {"user!@local.example", 0, SMTP_RCPT_REFUSE, "", "any '!' is refused (SMTP-7)"},
    {"@local.example:user@remote.example", 0, SMTP_RCPT_REFUSE, "",
     "source route (RFC 5321 4.1.1.3): the real destination is remote.example"},
    {"@local.example,@hop.example:user@remote.example", 0, SMTP_RCPT_REFUSE, "",
     "multi-hop source route"},
    {"@local.example, @hop.example:user@remote.example", 0, SMTP_RCPT_REFUSE, "",
     "source route with a space after the comma"},
    {"@local.example :user@remote.example", 0, SMTP_RCPT_REFUSE, "",
     "source route with a space before the colon"},
    {"user@remote.example@local.example", 0, SMTP_RCPT_REFUSE, "",
     "two @: the first domain is not local.example, some servers route on it"},
    {"user@local.example@remote.example", 0, SMTP_RCPT_REFUSE, "",
     "two @: the last domain is remote.example, most servers route on it"},
    {"user@@local.example", 0, SMTP_RCPT_REFUSE, "", "two adjacent @"},
    {"\"user@remote.example\"@local.example", 0, SMTP_RCPT_REFUSE, "",
     "quoted local part holding an @: a hop that unquotes it relays"},
    {"\"user%remote.example\"@local.example", 0, SMTP_RCPT_REFUSE, "",
     "quoted local part hiding a percent hack"},
    {"\"user\"@local.example", 0, SMTP_RCPT_REFUSE, "",
     "any quoted local part: strict, no quoting to hide routing in"},
    {"user\\@remote.example@local.example", 0, SMTP_RCPT_REFUSE, "",
     "backslash-escaped @: unescaped later it is a second @"},
    {"user@[192.0.2.1]", 0, SMTP_RCPT_REFUSE, "",
     "IPv4 address literal: bypasses the domain list and names any host"},
    {"user@[IPv6:2001:db8::1]", 0, SMTP_RCPT_REFUSE, "", "IPv6 address literal"},
    {"user@local.example.", 0, SMTP_RCPT_REFUSE, "",
     "trailing dot: strict (a suffix match on \"local.example\" must not be dodged)"},
    {"user@.local.example", 0, SMTP_RCPT_REFUSE, "", "leading dot in the domain"},
    {"user@local..example", 0, SMTP_RCPT_REFUSE, "", "double dot in the domain"},
    {"@local.example", 0, SMTP_RCPT_REFUSE, "", "empty local part (a source route's start)"},
    {"user@", 0, SMTP_RCPT_REFUSE, "", "empty domain"},
    {"", 0, SMTP_RCPT_REFUSE, "", "empty address: \"<>\" is no recipient"},
    {"user @local.example", 0, SMTP_RCPT_REFUSE, "", "blank inside the address"},
    {"user@local.example ", 0, SMTP_RCPT_REFUSE, "", "trailing blank"},
    {"user@local.example\tremote", 0, SMTP_RCPT_REFUSE, "", "tab inside the address"},
    {"user@local.example\r", 0, SMTP_RCPT_REFUSE, "", "CR: control bytes are refused"},
    {"user\x01@local.example", 0, SMTP_RCPT_REFUSE, "", "control byte in the local part"},
    {"user@local.example\0.remote.example", sizeof("user@local.example\0.remote.example") - 1,
     SMTP_RCPT_REFUSE, "", "NUL: a C string would stop at local.example, the wire would not"},
    {"us\xc3\xa9r@local.example", 0, SMTP_RCPT_REFUSE, "", "non-ASCII local part"},
    {"user@l\xd0\xbe"
     "cal.example",
     0, SMTP_RCPT_REFUSE, "", "non-ASCII domain (Cyrillic o: homograph of local.example)"},
    {"user@local_example", 0, SMTP_RCPT_REFUSE, "", "underscore: not a domain character"},
    {"user@local.example:25", 0, SMTP_RCPT_REFUSE, "", "colon (port or route) in the domain"},
    {"user@remote.example,user@local.example", 0, SMTP_RCPT_REFUSE, "",
     "comma: an address list in one path"},
    {"user@local.example;x@remote.example", 0, SMTP_RCPT_REFUSE, "", "semicolon"},
    {"<user@remote.example>", 0, SMTP_RCPT_REFUSE, "", "nested angle brackets"},
    {"user@(comment)local.example", 0, SMTP_RCPT_REFUSE, "", "RFC 5322 comment"},
    {"user(x)@local.example", 0, SMTP_RCPT_REFUSE, "", "comment in the local part"},
    {"user@remote.example%local.example", 0, SMTP_RCPT_REFUSE, "",
     "percent in the domain: routes via local.example to remote.example"},
    {"user@local.example/remote", 0, SMTP_RCPT_REFUSE, "", "slash in the domain"},
    {"user@local.example\\", 0, SMTP_RCPT_REFUSE, "", "trailing backslash"},
    {"\"postmaster\"", 0, SMTP_RCPT_REFUSE, "", "quoted name without @ is not plain"},
    {"post master", 0, SMTP_RCPT_REFUSE, "", "blank in a name without @"},
    {"%", 0, SMTP_RCPT_REFUSE, "", "a lone percent"},
    /* ---- harmless variants: DOMAIN with the lowercased domain ---- */
    {"USER@LOCAL.EXAMPLE", 0, SMTP_RCPT_DOMAIN, "local.example",
     "upper case: domains are case-insensitive, no routing effect"},
    {"user@Local.Example", 0, SMTP_RCPT_DOMAIN, "local.example", "mixed-case domain"},
    {"user@local.example", 0, SMTP_RCPT_DOMAIN, "local.example", "the plain address"},
    {"first.last@local.example", 0, SMTP_RCPT_DOMAIN, "local.example", "dot-atom local part"},
    {"user+tag@local.example", 0, SMTP_RCPT_DOMAIN, "local.example",
     "plus addressing: atext, no routing"},
    {"o'brien@local.example", 0, SMTP_RCPT_DOMAIN, "local.example", "apostrophe is atext"},
    {"abc..def.@docomo.ne.jp", 0, SMTP_RCPT_DOMAIN, "docomo.ne.jp",
     "double and trailing dots in the local part: real Japanese mobile addresses"},
    {"user@sub.local.example", 0, SMTP_RCPT_DOMAIN, "sub.local.example",
     "subdomain: reported as is, the caller's list decides"},
    {"user@xn--bcher-kva.example", 0, SMTP_RCPT_DOMAIN, "xn--bcher-kva.example",
     "IDN in A-label form is plain ASCII"},
    {"user@192.0.2.1", 0, SMTP_RCPT_DOMAIN, "192.0.2.1",
     "bare dotted digits are a domain name to the list, never in smtp_rcpt by accident"},
    /* ---- no '@' at all: NO_DOMAIN (SMTP-7) ---- */
    {"postmaster", 0, SMTP_RCPT_NO_DOMAIN, "", "RFC 5321 4.5.1 postmaster: not refused (SMTP-7)"},
    {"Postmaster", 0, SMTP_RCPT_NO_DOMAIN, "", "case does not matter"},
    {"abuse", 0, SMTP_RCPT_NO_DOMAIN, "", "any plain local name"},
};

static void test_row(void **state)
{
    const struct row *r = *state;
    size_t len = r->len ? r->len : strlen(r->addr);
    char domain[SMTP_ADDR_DOMAIN_MAX + 1];
    memset(domain, 'X', sizeof(domain));
    enum smtp_rcpt_class got = smtp_rcpt_classify(str_make(r->addr, len), domain, sizeof(domain));
    if (got != r->want)
        print_error("%s: got %s, want %s (%s)\n", r->addr, smtp_rcpt_class_name(got),
                    smtp_rcpt_class_name(r->want), r->why);
    assert_int_equal(got, r->want);
    assert_string_equal(domain, r->domain);
}

/* ---- limits ------------------------------------------------------------- */

static enum smtp_rcpt_class classify_cstr(const char *a, char *domain, size_t cap)
{
    return smtp_rcpt_classify(str_from_cstr(a), domain, cap);
}

static void test_local_part_limit(void **state)
{
    (void)state;
    char a[SMTP_ADDR_LOCAL_MAX + 32], d[SMTP_ADDR_DOMAIN_MAX + 1];
    memset(a, 'a', SMTP_ADDR_LOCAL_MAX);
    memcpy(a + SMTP_ADDR_LOCAL_MAX, "@local.example", 15);
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_DOMAIN);
    assert_string_equal(d, "local.example");
    memset(a, 'a', SMTP_ADDR_LOCAL_MAX + 1);
    memcpy(a + SMTP_ADDR_LOCAL_MAX + 1, "@local.example", 15);
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_REFUSE);
    /* the same limit without '@' */
    a[SMTP_ADDR_LOCAL_MAX + 1] = '\0';
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_REFUSE);
    a[SMTP_ADDR_LOCAL_MAX] = '\0';
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_NO_DOMAIN);
}

/* domain_of - "u@" followed by a domain of n bytes in labels of 50 ('a'
 * and a dot), ending in "x". */
static void domain_of(char *a, size_t n)
{
    memcpy(a, "u@", 2);
    for (size_t i = 0; i < n; i++)
        a[2 + i] = (i % 51 == 50) ? '.' : 'a';
    a[2 + n - 1] = 'x';
    a[2 + n] = '\0';
}

static void test_domain_limit(void **state)
{
    (void)state;
    char a[SMTP_ADDR_DOMAIN_MAX + 16], d[SMTP_ADDR_DOMAIN_MAX + 1];
    domain_of(a, SMTP_ADDR_DOMAIN_MAX);
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_DOMAIN);
    assert_int_equal(strlen(d), SMTP_ADDR_DOMAIN_MAX);
    assert_string_equal(d, a + 2);
    domain_of(a, SMTP_ADDR_DOMAIN_MAX + 1);
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_REFUSE);
    assert_string_equal(d, "");
}

static void test_label_limit(void **state)
{
    (void)state;
    char a[128], d[SMTP_ADDR_DOMAIN_MAX + 1];
    memcpy(a, "u@", 2);
    memset(a + 2, 'b', SMTP_ADDR_LABEL_MAX);
    memcpy(a + 2 + SMTP_ADDR_LABEL_MAX, ".example", 9);
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_DOMAIN);
    memset(a + 2, 'b', SMTP_ADDR_LABEL_MAX + 1);
    memcpy(a + 2 + SMTP_ADDR_LABEL_MAX + 1, ".example", 9);
    assert_int_equal(classify_cstr(a, d, sizeof(d)), SMTP_RCPT_REFUSE);
}

/* A domain that does not fit the caller's array is refused, never cut:
 * a cut "local.example.evil" would read "local.example". */
static void test_domain_cap(void **state)
{
    (void)state;
    char d[14];
    assert_int_equal(classify_cstr("u@local.example", d, sizeof(d)), SMTP_RCPT_DOMAIN);
    assert_string_equal(d, "local.example");
    assert_int_equal(classify_cstr("u@local.example.evil", d, sizeof(d)), SMTP_RCPT_REFUSE);
    assert_string_equal(d, "");
    assert_int_equal(classify_cstr("u@local.example", d, 13), SMTP_RCPT_REFUSE);
    assert_int_equal(classify_cstr("u@local.example", NULL, 0), SMTP_RCPT_REFUSE);
    assert_int_equal(classify_cstr("postmaster", NULL, 0), SMTP_RCPT_NO_DOMAIN);
}

static void test_class_names(void **state)
{
    (void)state;
    assert_string_equal(smtp_rcpt_class_name(SMTP_RCPT_DOMAIN), "DOMAIN");
    assert_string_equal(smtp_rcpt_class_name(SMTP_RCPT_NO_DOMAIN), "NO_DOMAIN");
    assert_string_equal(smtp_rcpt_class_name(SMTP_RCPT_REFUSE), "REFUSE");
    assert_string_equal(smtp_rcpt_class_name((enum smtp_rcpt_class)99), "?");
}

#define NROWS (sizeof(rows) / sizeof(rows[0]))

int main(void)
{
    static char names[NROWS][160];
    struct CMUnitTest tests[NROWS + 5];
    size_t n = 0;
    for (size_t i = 0; i < NROWS; i++) {
        /* The test name shows the address with non-printing bytes escaped. */
        size_t len = rows[i].len ? rows[i].len : strlen(rows[i].addr), w = 0;
        w += (size_t)snprintf(names[i], sizeof(names[i]), "relay %s \"",
                              smtp_rcpt_class_name(rows[i].want));
        for (size_t k = 0; k < len && w + 8 < sizeof(names[i]); k++) {
            unsigned char c = (unsigned char)rows[i].addr[k];
            w += (size_t)snprintf(names[i] + w, sizeof(names[i]) - w,
                                  c < 0x20 || c >= 0x7f ? "\\x%02x" : "%c", c);
        }
        snprintf(names[i] + w, sizeof(names[i]) - w, "\"");
        tests[n++] = (struct CMUnitTest){names[i], test_row, NULL, NULL, (void *)&rows[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_local_part_limit);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_domain_limit);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_label_limit);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_domain_cap);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_class_names);
    return _cmocka_run_group_tests("smtp_addr", tests, n, NULL, NULL);
}
