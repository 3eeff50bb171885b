/* Unit tests for proto/spam_match (custom rules over a mail, SPAM-4/5,
 * C-14, C-15, G-09) and proto/received_ips (SPAM-8). Each field and
 * modifier, AND / AND_SAMEPART chains as defined in spam_match.h, WHITE
 * stopping, detection names with line numbers (comments and blank lines
 * count), RFC 2047 subjects and file names, base64 and quoted-printable
 * bodies, a string straddling a decode-chunk boundary, CRLF and LF mail,
 * the Received: forms, the relay cap. The verdict and detection name are
 * what the proxy logs and writes into X-Spam-Status, so they are what is
 * asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/received_ips.h"
#include "proto/spam_match.h"

static struct spam_rule rules[SPAM_RULES_MAX];
static struct spam_mail_facts facts;
static struct spam_match_result res;

/* load - parse a rule file (must be valid); the number of rules. */
static unsigned load(const char *text)
{
    struct spam_rule_parser p;
    struct spam_rule_error e = {0};
    unsigned n = 0;
    enum spam_rule_result r;
    spam_rule_parser_init(&p, text, strlen(text));
    while ((r = spam_rule_next(&p, &rules[n], &e)) == SPAM_RULE_RULE)
        n++;
    if (r != SPAM_RULE_END)
        fail_msg("rules refused: line %u: %s", e.line, e.reason);
    return n;
}

/* lf_to_crlf - the same mail with CRLF line ends (static storage). */
static const char *lf_to_crlf(const char *m, size_t *len)
{
    static char out[1 << 20];
    size_t o = 0;
    for (const char *p = m; *p; p++) {
        if (*p == '\n')
            out[o++] = '\r';
        out[o++] = *p;
    }
    *len = o;
    return out;
}

/* verdict - rules over mail (LF line ends as written, and CRLF: both must
 * give the same); "" for NONE, "WHITE:<line>" or the detection name. */
static const char *verdict_ip(const char *rtext, const char *mail, const char *ip)
{
    static char out[2][128];
    unsigned n = load(rtext);
    for (int k = 0; k < 2; k++) {
        size_t len = strlen(mail);
        const char *m = k ? lf_to_crlf(mail, &len) : mail;
        spam_mail_examine(rules, n, m, len, ip, &facts, &res);
        if (res.verdict == SPAM_MATCH_BLACK)
            snprintf(out[k], sizeof(out[k]), "%s", res.name);
        else if (res.verdict == SPAM_MATCH_WHITE)
            snprintf(out[k], sizeof(out[k]), "WHITE:%u", res.line);
        else
            out[k][0] = '\0';
    }
    if (strcmp(out[0], out[1]) != 0)
        fail_msg("LF gave \"%s\", CRLF \"%s\"", out[0], out[1]);
    return out[0];
}

static const char *verdict(const char *rtext, const char *mail)
{
    return verdict_ip(rtext, mail, NULL);
}

#define CUSTOM "SEKISHO/SPAM_LIST/CUSTOM/"

static const char *simple = "From: Alice <alice@example.com>\n"
                            "To: bob@example.org\n"
                            "Subject: Cheap watches\n"
                            "X-Tag: one\n"
                            "X-Tag: two\n"
                            "  folded\n"
                            "\n"
                            "Hello Bob,\n"
                            "buy now at http://shop.example.net/x\n"
                            "-- \n"
                            "Alice\n";

static void test_header_fields(void **state)
{
    (void)state;
    assert_string_equal(verdict("BLACK\tSubject\t\twatches\n", simple), CUSTOM "1/Subject");
    assert_string_equal(verdict("BLACK\tSubject\t\tWATCHES\n", simple), "");
    assert_string_equal(verdict("BLACK\tSubject\tIGNORECASE\tWATCHES\n", simple),
                        CUSTOM "1/Subject");
    /* name case-insensitive; the detection name writes it as the mail does */
    assert_string_equal(verdict("BLACK\tSUBJECT\t\tCheap\n", simple), CUSTOM "1/Subject");
    assert_string_equal(verdict("BLACK\tfrom\t\talice@\n", simple), CUSTOM "1/From");
    /* every occurrence; folded values unfolded (the blanks kept) */
    assert_string_equal(verdict("BLACK\tX-Tag\tHEADMATCH,TAILMATCH\ttwo\n", simple), "");
    assert_string_equal(verdict("BLACK\tX-Tag\tHEADMATCH\ttwo  folded\n", simple),
                        CUSTOM "1/X-Tag");
    assert_string_equal(verdict("BLACK\tX-Tag\tHEADMATCH,TAILMATCH\tone\n", simple),
                        CUSTOM "1/X-Tag");
    assert_string_equal(verdict("BLACK\tX-Tag\tTAILMATCH\tfolded\n", simple), CUSTOM "1/X-Tag");
    /* prefix and suffix of the trimmed value */
    assert_string_equal(verdict("BLACK\tFrom\tHEADMATCH\tAlice\n", simple), CUSTOM "1/From");
    assert_string_equal(verdict("BLACK\tFrom\tHEADMATCH\talice\n", simple), "");
    assert_string_equal(verdict("BLACK\tFrom\tTAILMATCH\t.com>\n", simple), CUSTOM "1/From");
    assert_string_equal(verdict("BLACK\tFrom\tTAILMATCH\t.com\n", simple), "");
    /* a field that is absent; a body word is not a header */
    assert_string_equal(verdict("BLACK\tX-Missing\t\ta\n", simple), "");
    assert_string_equal(verdict("BLACK\tSubject\t\tHello\n", simple), "");
    /* any one of the strings; %x escapes */
    assert_string_equal(verdict("BLACK\tTo\t\tnobody,bob%x40example\n", simple), CUSTOM "1/To");
    /* a header field of an inner part other than Content-* is not read */
    const char *inner = "Subject: outer\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
                        "X-Inner: yes\nContent-Type: text/plain\n\nbody\n--b--\n";
    assert_string_equal(verdict("BLACK\tX-Inner\t\tyes\n", inner), "");
    assert_string_equal(verdict("BLACK\tContent-Type\t\ttext/plain\n", inner),
                        CUSTOM "1/Content-Type");
}

static void test_subject_rfc2047(void **state)
{
    (void)state;
    /* 完全無料 in UTF-8 base64, and in ISO-2022-JP; the rule's UTF-8 bytes */
    const char *rule = "BLACK\tSubject\t\t%xe5%xae%x8c%xe5%x85%xa8%xe7%x84%xa1%xe6%x96%x99\n";
    assert_string_equal(verdict(rule, "Subject: =?UTF-8?B?5a6M5YWo54Sh5paZ?=\n\nx\n"),
                        CUSTOM "1/Subject");
    assert_string_equal(verdict(rule, "Subject: =?ISO-2022-JP?B?GyRCNDBBNEw1TkEbKEI=?=\n\nx\n"),
                        CUSTOM "1/Subject");
    /* Q encoding, two words joined across a fold */
    assert_string_equal(verdict("BLACK\tSubject\t\tfree money\n",
                                "Subject: =?utf-8?Q?free_mo?=\n =?utf-8?Q?ney?=\n\nx\n"),
                        CUSTOM "1/Subject");
    /* the raw encoded-word is not what is matched */
    assert_string_equal(
        verdict("BLACK\tSubject\t\t=?UTF-8?B?\n", "Subject: =?UTF-8?B?5a6M5YWo54Sh5paZ?=\n\nx\n"),
        "");
    /* other fields are not decoded */
    assert_string_equal(verdict("BLACK\tX-Enc\t\t=?UTF-8?Q?a?=\n", "X-Enc: =?UTF-8?Q?a?=\n\nx\n"),
                        CUSTOM "1/X-Enc");
}

static const char *attach =
    "From: a@example.com\n"
    "Subject: files\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"BB\"\n"
    "\n"
    "--BB\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Please see the invo=\n"
    "ice attached=2E\n"
    "Line two ends here\n"
    "--BB\n"
    "Content-Type: application/zip; name=\"=?UTF-8?Q?r=C3=A9sum=C3=A9.zip?=\"\n"
    "Content-Disposition: attachment\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "UEsDBBQAAAAIAA==\n" /* 11 bytes decoded */
    "--BB\n"
    "Content-Type: application/octet-stream\n"
    "Content-Disposition: attachment; filename*=UTF-8''evil%2Eexe\n"
    "\n"
    "MZ12345\n"
    "--BB\n"
    "Content-Type: text/plain\n"
    "Content-Disposition: attachment; filename=notes.txt\n"
    "\n"
    "secret attached text http://attached.example/\n"
    "--BB--\n";

static void test_filename_filesize(void **state)
{
    (void)state;
    assert_string_equal(verdict("BLACK\tFILENAME\tTAILMATCH\t.exe\n", attach), CUSTOM "1/FILENAME");
    /* RFC 2047 inside name=, decoded to UTF-8 */
    assert_string_equal(verdict("BLACK\tFILENAME\tHEADMATCH\tr%xc3%xa9sum%xc3%xa9\n", attach),
                        CUSTOM "1/FILENAME");
    assert_string_equal(verdict("BLACK\tFILENAME\tIGNORECASE\tEVIL\n", attach),
                        CUSTOM "1/FILENAME");
    assert_string_equal(verdict("BLACK\tFILENAME\t\t.scr\n", attach), "");
    /* decoded sizes as text: 10 (base64), 7 (the body before the boundary's
     * line break), 45 */
    assert_string_equal(verdict("BLACK\tFILESIZE\tHEADMATCH,TAILMATCH\t10\n", attach),
                        CUSTOM "1/FILESIZE");
    assert_string_equal(verdict("BLACK\tFILESIZE\tHEADMATCH,TAILMATCH\t7\n", attach),
                        CUSTOM "1/FILESIZE");
    assert_string_equal(verdict("BLACK\tFILESIZE\tHEADMATCH,TAILMATCH\t16\n", attach), "");
    assert_string_equal(verdict("BLACK\tFILESIZE\t\t4\n", attach), CUSTOM "1/FILESIZE");
    /* the text body (51 bytes decoded) is no attached file */
    assert_string_equal(verdict("BLACK\tFILESIZE\tHEADMATCH,TAILMATCH\t51\n", attach), "");
}

static void test_textbody(void **state)
{
    (void)state;
    assert_string_equal(verdict("BLACK\tTEXTBODY\t\tbuy now\n", simple), CUSTOM "1/TEXTBODY");
    assert_string_equal(verdict("BLACK\tTEXTBODY\t\tBUY NOW\n", simple), "");
    assert_string_equal(verdict("BLACK\tTEXTBODY\tIGNORECASE\tBUY NOW\n", simple),
                        CUSTOM "1/TEXTBODY");
    /* per line: the prefix and suffix of a line, its CR excluded */
    assert_string_equal(verdict("BLACK\tTEXTBODY\tHEADMATCH\tbuy\n", simple), CUSTOM "1/TEXTBODY");
    assert_string_equal(verdict("BLACK\tTEXTBODY\tHEADMATCH\tnow\n", simple), "");
    assert_string_equal(verdict("BLACK\tTEXTBODY\tTAILMATCH\tBob%x2c\n", simple),
                        CUSTOM "1/TEXTBODY");
    assert_string_equal(verdict("BLACK\tTEXTBODY\tHEADMATCH,TAILMATCH\tAlice\n", simple),
                        CUSTOM "1/TEXTBODY");
    assert_string_equal(verdict("BLACK\tTEXTBODY\tHEADMATCH,TAILMATCH\t-- \n", simple),
                        CUSTOM "1/TEXTBODY");
    /* the last line without a line end */
    assert_string_equal(verdict("BLACK\tTEXTBODY\tTAILMATCH\tlast\n", "Subject: x\n\nfirst\nlast"),
                        CUSTOM "1/TEXTBODY");
    /* a header is not the body */
    assert_string_equal(verdict("BLACK\tTEXTBODY\t\tCheap\n", simple), "");
    /* quoted-printable: soft line break joined, =2E decoded */
    assert_string_equal(verdict("BLACK\tTEXTBODY\t\tinvoice attached.\n", attach),
                        CUSTOM "1/TEXTBODY");
    assert_string_equal(
        verdict("BLACK\tTEXTBODY\tHEADMATCH,TAILMATCH\tLine two ends here\n", attach),
        CUSTOM "1/TEXTBODY");
    /* a text/plain attachment is not a text body, nor are its URLs read */
    assert_string_equal(verdict("BLACK\tTEXTBODY\t\tsecret\n", attach), "");
    assert_string_equal(verdict("BLACK\tURLHOST\t\tattached\n", attach), "");
    /* base64 text body */
    assert_string_equal(verdict("BLACK\tTEXTBODY\tTAILMATCH\tworld\n",
                                "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
                                "aGVsbG8gd29ybGQNCnNlY29uZA0K\n"),
                        CUSTOM "1/TEXTBODY");
    /* no charset conversion: Shift_JIS bytes as %x (the guide's example) */
    assert_string_equal(verdict("BLACK\tTEXTBODY\t\t%x8a%xae%x91%x53%x96%xb3%x97%xbf\n",
                                "Content-Type: text/plain; charset=Shift_JIS\n\n"
                                "\x8a\xae\x91\x53\x96\xb3\x97\xbf!\n"),
                        CUSTOM "1/TEXTBODY");
}

static void test_htmlbody_urlhost(void **state)
{
    (void)state;
    const char *m = "Content-Type: multipart/alternative; boundary=x\n\n--x\n"
                    "Content-Type: text/plain\n\nplain words\n--x\n"
                    "Content-Type: text/html\n\n<p>click\nhere</p> <a href=\"https://"
                    "Track.Example.COM/a\">x</a>\n--x--\n";
    assert_string_equal(verdict("BLACK\tHTMLBODY\t\tclick here\n", m), CUSTOM "1/HTMLBODY");
    assert_string_equal(verdict("BLACK\tHTMLBODY\t\tplain\n", m), "");
    assert_string_equal(verdict("BLACK\tTEXTBODY\t\tclick\n", m), "");
    assert_string_equal(verdict("BLACK\tURLHOST\tTAILMATCH\t.example.com\n", m),
                        CUSTOM "1/URLHOST");
    assert_string_equal(verdict("BLACK\tURLHOST\tHEADMATCH,TAILMATCH\ttrack.example.com\n", m),
                        CUSTOM "1/URLHOST");
    assert_int_equal(facts.hosts.n, 1);
    assert_string_equal(verdict("BLACK\tURLHOST\t\tshop.example.net\n", simple),
                        CUSTOM "1/URLHOST");
    assert_string_equal(verdict("BLACK\tURLHOST\t\texample.org\n", simple), "");
}

static void test_relayip(void **state)
{
    (void)state;
    const char *m = "Received: from mx.example.net (mx.example.net [192.0.2.7])\n"
                    "\tby gw.example.com (Postfix) with ESMTP id ABC; Tue, 1 Jan 2019 12:00:00\n"
                    "Received: from [IPv6:2001:DB8::1] (helo=10.9.9.9) by x (Exim 4.92.3.1)\n"
                    "Received: from host (198.51.100.3) by y (203.0.113.9)\n"
                    "Received: from q (user@[IPv6:::ffff:192.0.2.7]) (user@198.51.100.4)\n"
                    "Subject: relays\n\nbody\n";
    assert_string_equal(verdict_ip("BLACK\tRELAYIP\t\t192.0.2.7\n", m, NULL), CUSTOM "1/RELAYIP");
    assert_int_equal(facts.nrelay, 5);
    assert_string_equal(facts.relay[0], "192.0.2.7");
    assert_string_equal(facts.relay[1], "2001:db8::1");
    assert_string_equal(facts.relay[2], "198.51.100.3");
    assert_string_equal(facts.relay[3], "203.0.113.9");
    assert_string_equal(facts.relay[4], "198.51.100.4");
    /* HELO claims and version numbers are not addresses */
    assert_string_equal(verdict("BLACK\tRELAYIP\t\t10.9.9.9,4.92\n", m), "");
    /* the SMTP client first */
    assert_string_equal(verdict_ip("BLACK\tRELAYIP\tHEADMATCH\t172.16.\n", m, "172.16.5.5"),
                        CUSTOM "1/RELAYIP");
    assert_int_equal(facts.nrelay, 6);
    assert_string_equal(facts.relay[0], "172.16.5.5");
    /* an IPv4-mapped client; an invalid client text is ignored */
    verdict_ip("NONE\tALWAYS\t\t\nBLACK\tRELAYIP\tAND\t1.2.3.4\n", "\n\nx", "::ffff:1.2.3.4");
    assert_int_equal(facts.nrelay, 1);
    assert_string_equal(facts.relay[0], "1.2.3.4");
    assert_string_equal(res.name, CUSTOM "2/RELAYIP");
    verdict_ip("BLACK\tRELAYIP\t\t1\n", "Subject: x\n\nx", "not-an-ip");
    assert_int_equal(facts.nrelay, 0);
    /* Received: in a body part is not read */
    verdict("BLACK\tALWAYS\t\t\n", "Content-Type: message/rfc822\n\nReceived: from x ([5.6.7.8])\n"
                                   "Subject: inner\n\nb\n");
    assert_int_equal(facts.nrelay, 0);
}

static void test_relay_cap(void **state)
{
    (void)state;
    static char m[8192];
    size_t o = 0;
    for (int i = 0; i < 40; i++)
        o += (size_t)snprintf(m + o, sizeof(m) - o,
                              "Received: from h%d (h%d [198.51.100.%d]) by x ([198.51.100.%d])\n",
                              i, i, i, i); /* the same address twice: kept once */
    snprintf(m + o, sizeof(m) - o, "\nbody\n");
    verdict_ip("BLACK\tRELAYIP\t\t198.51.100.39\n", m, "192.0.2.1");
    assert_int_equal(res.verdict, SPAM_MATCH_NONE); /* the 40th is beyond the cap */
    assert_int_equal(facts.nrelay, SPAM_RELAY_MAX);
    /* counted with repeats: 9 fields of 2 beyond the cap */
    assert_int_equal(facts.relay_dropped, 18);
    assert_string_equal(facts.relay[0], "192.0.2.1");
    assert_string_equal(facts.relay[31], "198.51.100.30");
    verdict("BLACK\tRELAYIP\t\t198.51.100.30\n", m);
    assert_int_equal(res.verdict, SPAM_MATCH_BLACK);
}

static void test_received_scan(void **state)
{
    (void)state;
    char out[RECEIVED_ADDR_MAX];
    assert_true(received_canonical(STR_LIT("IPv6:2001:0db8:0:0:0:0:0:0001"), out));
    assert_string_equal(out, "2001:db8::1");
    assert_true(received_canonical(STR_LIT("ipv6:::FFFF:10.1.2.3"), out));
    assert_string_equal(out, "10.1.2.3");
    assert_false(received_canonical(STR_LIT("0.0.0.0"), out));
    assert_false(received_canonical(STR_LIT("::"), out));
    assert_false(received_canonical(STR_LIT("1.2.3"), out));
    assert_false(received_canonical(STR_LIT("01.2.3.4x"), out));
    assert_false(received_canonical(STR_LIT("256.1.1.1"), out));
    assert_false(received_canonical(STR_LIT("12:34:56"), out));
}

static void test_always_not(void **state)
{
    (void)state;
    assert_string_equal(verdict("BLACK\tALWAYS\t\t\n", simple), CUSTOM "1/ALWAYS");
    assert_string_equal(verdict("BLACK\tSubject\tNOT\tviagra,casino\n", simple),
                        CUSTOM "1/Subject");
    assert_string_equal(verdict("BLACK\tSubject\tNOT\tviagra,watches\n", simple), "");
    /* NOT of a field the mail lacks: nothing matches, so true */
    assert_string_equal(verdict("BLACK\tX-Missing\tNOT\tx\n", simple), CUSTOM "1/X-Missing");
    /* NOT means nowhere: X-Tag "one" matches, so not satisfied although "two" does not */
    assert_string_equal(verdict("BLACK\tX-Tag\tNOT,HEADMATCH\tone\n", simple), "");
}

static void test_and_chains(void **state)
{
    (void)state;
    /* AND: anywhere in the mail */
    assert_string_equal(verdict("NONE\tSubject\t\tCheap\nBLACK\tTEXTBODY\tAND\tbuy\n", simple),
                        CUSTOM "2/TEXTBODY");
    assert_string_equal(verdict("NONE\tSubject\t\tFree\nBLACK\tTEXTBODY\tAND\tbuy\n", simple), "");
    assert_string_equal(verdict("NONE\tSubject\t\tCheap\nBLACK\tTEXTBODY\tAND\tsell\n", simple),
                        "");
    /* a chain of three */
    assert_string_equal(verdict("NONE\tFrom\t\talice\nNONE\tTo\tAND\tbob\n"
                                "BLACK\tURLHOST\tAND\tshop\n",
                                simple),
                        CUSTOM "3/URLHOST");
    assert_string_equal(verdict("NONE\tFrom\t\tcarol\nNONE\tTo\tAND\tbob\n"
                                "BLACK\tURLHOST\tAND\tshop\n",
                                simple),
                        "");
    /* AND_SAMEPART: the zip type and the .exe name are different parts */
    assert_string_equal(verdict("NONE\tContent-Type\t\tapplication/zip\n"
                                "BLACK\tFILENAME\tAND_SAMEPART,TAILMATCH\t.exe\n",
                                attach),
                        "");
    assert_string_equal(verdict("NONE\tContent-Type\t\tapplication/zip\n"
                                "BLACK\tFILENAME\tAND,TAILMATCH\t.exe\n",
                                attach),
                        CUSTOM "2/FILENAME");
    assert_string_equal(verdict("NONE\tContent-Type\t\tapplication/octet-stream\n"
                                "BLACK\tFILENAME\tAND_SAMEPART,TAILMATCH\t.exe\n",
                                attach),
                        CUSTOM "2/FILENAME");
    /* NOT with AND_SAMEPART: a zip whose name does not end in .zip (none) */
    assert_string_equal(verdict("NONE\tContent-Type\t\tapplication/zip\n"
                                "BLACK\tFILENAME\tNOT,AND_SAMEPART,TAILMATCH\t.zip\n",
                                attach),
                        "");
    assert_string_equal(verdict("NONE\tContent-Type\t\tapplication/octet-stream\n"
                                "BLACK\tFILENAME\tNOT,AND_SAMEPART,TAILMATCH\t.zip\n",
                                attach),
                        CUSTOM "2/FILENAME");
    /* the top-level header is part 0: with a non-MIME mail its body too */
    assert_string_equal(
        verdict("NONE\tSubject\t\tCheap\nBLACK\tTEXTBODY\tAND_SAMEPART\tbuy\n", simple),
        CUSTOM "2/TEXTBODY");
    assert_string_equal(
        verdict("NONE\tSubject\t\tfiles\nBLACK\tTEXTBODY\tAND_SAMEPART\tinvoice\n", attach), "");
    /* the relay address belongs to part 0 */
    assert_string_equal(verdict_ip("NONE\tSubject\t\tCheap\nBLACK\tRELAYIP\tAND_SAMEPART\t192.0.2."
                                   "1\n",
                                   simple, "192.0.2.1"),
                        CUSTOM "2/RELAYIP");
    /* URL hosts belong to the body they are in */
    const char *m = "Content-Type: multipart/mixed; boundary=x\n\n--x\n"
                    "Content-Type: text/plain\n\nhttp://one.example/ first\n--x\n"
                    "Content-Type: text/html\n\n<a href=http://two.example/>second</a>\n--x--\n";
    assert_string_equal(verdict("NONE\tURLHOST\t\ttwo.example\n"
                                "BLACK\tHTMLBODY\tAND_SAMEPART\tsecond\n",
                                m),
                        CUSTOM "2/HTMLBODY");
    assert_string_equal(verdict("NONE\tURLHOST\t\tone.example\n"
                                "BLACK\tHTMLBODY\tAND_SAMEPART\tsecond\n",
                                m),
                        "");
    assert_int_equal(facts.hosts.n, 2);
    /* an unsatisfied NONE rule breaks the chain for a later AND only */
    assert_string_equal(verdict("NONE\tSubject\t\tnope\nBLACK\tTo\tAND\tbob\n"
                                "BLACK\tFrom\t\talice\n",
                                simple),
                        CUSTOM "3/From");
}

static void test_white_and_order(void **state)
{
    (void)state;
    assert_string_equal(verdict("WHITE\tFrom\t\talice@example.com\nBLACK\tALWAYS\t\t\n", simple),
                        "WHITE:1");
    assert_string_equal(verdict("BLACK\tALWAYS\t\t\nWHITE\tFrom\t\talice@example.com\n", simple),
                        CUSTOM "1/ALWAYS");
    assert_string_equal(verdict("WHITE\tFrom\t\tcarol\nBLACK\tSubject\t\tCheap\n", simple),
                        CUSTOM "2/Subject");
    /* a NONE rule decides nothing even when satisfied */
    assert_string_equal(verdict("NONE\tSubject\t\tCheap\nWHITE\tALWAYS\tAND\t\n", simple),
                        "WHITE:2");
    assert_string_equal(verdict("NONE\tSubject\t\tCheap\nNONE\tALWAYS\tAND\t\n"
                                "BLACK\tFrom\tAND_SAMEPART\tcarol\n",
                                simple),
                        "");
}

static void test_line_numbers(void **state)
{
    (void)state;
    const char *r = "# custom rules\n"
                    "\n"
                    "WHITE\tFrom\t\tcarol@\r\n"
                    "   \n"
                    "# spam words\n"
                    "BLACK\tsubject\tIGNORECASE\tcheap\n";
    assert_string_equal(verdict(r, simple), CUSTOM "6/Subject");
    assert_int_equal(res.line, 6);
    assert_string_equal(verdict("\n\nBLACK\tX-Missing\tNOT\tq\n", simple), CUSTOM "3/X-Missing");
}

/* body_at - a text body with word at decoded offset off, in a body of
 * size bytes of filler, optionally base64-encoded. */
static char *body_at(size_t size, size_t off, const char *word, bool b64, size_t *mlen)
{
    char *raw = malloc(size);
    assert_non_null(raw);
    for (size_t i = 0; i < size; i++)
        raw[i] = (i % 61 == 60) ? '\n' : (char)('a' + i % 7);
    memcpy(raw + off, word, strlen(word));
    const char *hdr = b64 ? "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
                          : "Content-Type: text/plain\n\n";
    char *m = malloc(strlen(hdr) + 2 * size + 16);
    assert_non_null(m);
    size_t o = strlen(hdr);
    memcpy(m, hdr, o);
    if (!b64) {
        memcpy(m + o, raw, size);
        o += size;
    } else {
        static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (size_t i = 0, col = 0; i < size; i += 3) {
            unsigned v = (unsigned char)raw[i] << 16;
            size_t k = size - i;
            if (k > 1)
                v |= (unsigned char)raw[i + 1] << 8;
            if (k > 2)
                v |= (unsigned char)raw[i + 2];
            m[o++] = al[v >> 18 & 63];
            m[o++] = al[v >> 12 & 63];
            m[o++] = k > 1 ? al[v >> 6 & 63] : '=';
            m[o++] = k > 2 ? al[v & 63] : '=';
            if (++col == 19) {
                m[o++] = '\n';
                col = 0;
            }
        }
    }
    m[o] = '\0';
    *mlen = o;
    free(raw);
    return m;
}

static void test_chunk_boundary(void **state)
{
    (void)state;
    const char *word = "STRADDLE";
    for (int b64 = 0; b64 < 2; b64++) {
        for (size_t d = 0; d < 9; d++) {
            /* the word ends at, around and across the first chunk's end */
            size_t off = SPAM_MATCH_CHUNK - d;
            size_t mlen;
            char *m = body_at(3 * SPAM_MATCH_CHUNK, off, word, b64, &mlen);
            unsigned n = load("NONE\tTEXTBODY\t\tSTRADDLE\n"
                              "BLACK\tTEXTBODY\tAND,IGNORECASE\tstraddle\n");
            spam_mail_examine(rules, n, m, mlen, NULL, &facts, &res);
            if (res.verdict != SPAM_MATCH_BLACK)
                fail_msg("b64 %d, offset %zu: not found", b64, off);
            assert_string_equal(res.name, CUSTOM "2/TEXTBODY");
            n = load("BLACK\tTEXTBODY\t\tSTRADDLEX\n");
            spam_mail_examine(rules, n, m, mlen, NULL, &facts, &res);
            assert_int_equal(res.verdict, SPAM_MATCH_NONE);
            free(m);
        }
    }
    /* a line longer than a chunk: its head and tail are still known */
    size_t mlen;
    char *m = body_at(3 * SPAM_MATCH_CHUNK, 10, "", false, &mlen);
    for (size_t i = 26; i < mlen; i++)
        if (m[i] == '\n')
            m[i] = 'x';
    memcpy(m + 26, "BEGIN", 5);
    memcpy(m + mlen - 3, "END", 3);
    unsigned n = load("NONE\tTEXTBODY\tHEADMATCH\tBEGIN\nBLACK\tTEXTBODY\tAND,TAILMATCH\tEND\n");
    spam_mail_examine(rules, n, m, mlen, NULL, &facts, &res);
    assert_string_equal(res.name, CUSTOM "2/TEXTBODY");
    free(m);
}

static void test_empty_and_invalid(void **state)
{
    (void)state;
    unsigned n = load("BLACK\tTEXTBODY\tNOT\tx\n");
    spam_mail_examine(rules, n, NULL, 0, "192.0.2.1", &facts, &res);
    assert_int_equal(res.verdict, SPAM_MATCH_BLACK);
    assert_int_equal(facts.nrelay, 1);
    spam_mail_examine(rules, 0, simple, strlen(simple), NULL, &facts, &res);
    assert_int_equal(res.verdict, SPAM_MATCH_NONE);
    assert_int_equal(res.line, 0);
    assert_int_equal(facts.hosts.n, 1); /* the facts without rules */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_fields),     cmocka_unit_test(test_subject_rfc2047),
        cmocka_unit_test(test_filename_filesize), cmocka_unit_test(test_textbody),
        cmocka_unit_test(test_htmlbody_urlhost),  cmocka_unit_test(test_relayip),
        cmocka_unit_test(test_relay_cap),         cmocka_unit_test(test_received_scan),
        cmocka_unit_test(test_always_not),        cmocka_unit_test(test_and_chains),
        cmocka_unit_test(test_white_and_order),   cmocka_unit_test(test_line_numbers),
        cmocka_unit_test(test_chunk_boundary),    cmocka_unit_test(test_empty_and_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
