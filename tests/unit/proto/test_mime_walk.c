/* Unit tests for proto/mime_walk: the structure of realistic mails
 * (Outlook, Thunderbird, Japanese mailers, forwarded messages, partial
 * messages), the SCAN-7 flags, the limits and the summary (SMTP-14,
 * templates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/mime_walk.h"

#define MAX_SEEN (MIME_PARTS_MAX + 10)

struct seen {
    unsigned index, depth, flags;
    char type[128], charset[40], filename[MIME_FILENAME_MAX + 1];
    enum mime_cte cte;
    bool attachment, is_multipart, is_message, is_partial;
    size_t hdr_off, hdr_len, body_off, body_len;
};

struct collect {
    const char *msg;
    size_t len;
    unsigned n, stop_after;
    struct seen p[MAX_SEEN];
};

static bool collect_fn(void *arg, const struct mime_part *p)
{
    struct collect *c = arg;
    assert_true(c->n < MAX_SEEN);
    assert_int_equal(p->index, c->n);
    /* Every view lies inside the message. */
    assert_true(p->headers.ptr >= c->msg && p->headers.ptr + p->headers.len <= c->msg + c->len);
    assert_true(p->body.ptr >= c->msg && p->body.ptr + p->body.len <= c->msg + c->len);
    struct seen *s = &c->p[c->n++];
    s->index = p->index;
    s->depth = p->depth;
    s->flags = p->flags;
    memcpy(s->type, p->type, sizeof(s->type));
    memcpy(s->charset, p->charset, sizeof(s->charset));
    memcpy(s->filename, p->filename, sizeof(s->filename));
    s->cte = p->cte;
    s->attachment = p->attachment;
    s->is_multipart = p->is_multipart;
    s->is_message = p->is_message;
    s->is_partial = p->is_partial;
    s->hdr_off = (size_t)(p->headers.ptr - c->msg);
    s->hdr_len = p->headers.len;
    s->body_off = (size_t)(p->body.ptr - c->msg);
    s->body_len = p->body.len;
    return c->stop_after == 0 || c->n < c->stop_after;
}

static struct collect col;
static struct mime_summary sum;

static enum mime_result walk(const char *msg)
{
    memset(&col, 0, sizeof(col));
    col.msg = msg;
    col.len = strlen(msg);
    return mime_walk(msg, col.len, collect_fn, &col, &sum);
}

/* body_is - the part's body is exactly want. */
static void body_is(unsigned i, const char *want)
{
    assert_true(i < col.n);
    assert_int_equal(col.p[i].body_len, strlen(want));
    assert_memory_equal(col.msg + col.p[i].body_off, want, strlen(want));
}

static bool sv_is(struct str v, const char *want)
{
    return v.ptr && v.len == strlen(want) && memcmp(v.ptr, want, v.len) == 0;
}

/* ---- realistic mails ---- */

static const char outlook[] = "Received: from pc1 ([192.0.2.10])\r\n"
                              "\tby mx.example.jp; Mon, 4 Mar 2024 10:00:00 +0900\r\n"
                              "From: =?iso-2022-jp?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>\r\n"
                              "To: <sato@example.jp>\r\n"
                              "Cc: a@example.jp,\r\n"
                              "\tb@example.jp\r\n"
                              "Subject: =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=\r\n"
                              "\t=?iso-2022-jp?B?GyRCO3FOQRsoQg==?=\r\n"
                              "Date: Mon, 4 Mar 2024 10:00:00 +0900\r\n"
                              "Message-ID: <000001da6e0b$1a2b3c4d$@example.jp>\r\n"
                              "MIME-Version: 1.0\r\n"
                              "Content-Type: multipart/mixed;\r\n"
                              "\tboundary=\"----=_NextPart_000_0001_01DA6E56.8A0F7B40\"\r\n"
                              "X-Mailer: Microsoft Outlook 16.0\r\n"
                              "\r\n"
                              "This is a multipart message in MIME format.\r\n"
                              "\r\n"
                              "------=_NextPart_000_0001_01DA6E56.8A0F7B40\r\n"
                              "Content-Type: multipart/alternative;\r\n"
                              "\tboundary=\"----=_NextPart_001_0002_01DA6E56.8A0F7B40\"\r\n"
                              "\r\n"
                              "\r\n"
                              "------=_NextPart_001_0002_01DA6E56.8A0F7B40\r\n"
                              "Content-Type: text/plain;\r\n"
                              "\tcharset=\"iso-2022-jp\"\r\n"
                              "Content-Transfer-Encoding: 7bit\r\n"
                              "\r\n"
                              "plain body\r\n"
                              "------=_NextPart_001_0002_01DA6E56.8A0F7B40\r\n"
                              "Content-Type: text/html;\r\n"
                              "\tcharset=\"iso-2022-jp\"\r\n"
                              "Content-Transfer-Encoding: quoted-printable\r\n"
                              "\r\n"
                              "<html>=3D</html>\r\n"
                              "\r\n"
                              "------=_NextPart_001_0002_01DA6E56.8A0F7B40--\r\n"
                              "\r\n"
                              "------=_NextPart_000_0001_01DA6E56.8A0F7B40\r\n"
                              "Content-Type: application/vnd.ms-excel;\r\n"
                              "\tname=\"=?iso-2022-jp?B?GyRCJUYlOSVIO3FOQRsoQi54bHM=?=\"\r\n"
                              "Content-Transfer-Encoding: base64\r\n"
                              "Content-Disposition: attachment;\r\n"
                              "\tfilename=\"=?iso-2022-jp?B?GyRCJUYlOSVIO3FOQRsoQi54bHM=?=\"\r\n"
                              "\r\n"
                              "0M8R4KGxGuEAAAAAAAAAAAAAAAAAAAAAPgADAP7/CQAGAAAAAAAAAAAAAAAB\r\n"
                              "\r\n"
                              "------=_NextPart_000_0001_01DA6E56.8A0F7B40--\r\n"
                              "\r\n";

static const char tesuto_xls[] = "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88\xe8\xb3\x87\xe6\x96\x99.xls";

static void test_outlook(void **state)
{
    (void)state;
    assert_int_equal(walk(outlook), MIME_DONE);
    assert_int_equal(col.n, 5);
    assert_int_equal(sum.parts, 5);
    assert_int_equal(sum.flags, 0);

    assert_string_equal(col.p[0].type, "multipart/mixed");
    assert_true(col.p[0].is_multipart);
    assert_int_equal(col.p[0].depth, 0);
    assert_int_equal(col.p[0].hdr_off, 0);
    assert_int_equal(col.p[0].body_off, sum.header_len);

    assert_string_equal(col.p[1].type, "multipart/alternative");
    assert_true(col.p[1].is_multipart);
    assert_int_equal(col.p[1].depth, 1);

    assert_string_equal(col.p[2].type, "text/plain");
    assert_string_equal(col.p[2].charset, "iso-2022-jp");
    assert_int_equal(col.p[2].cte, MIME_CTE_7BIT);
    assert_int_equal(col.p[2].depth, 2);
    assert_false(col.p[2].attachment);
    body_is(2, "plain body");

    assert_string_equal(col.p[3].type, "text/html");
    assert_int_equal(col.p[3].cte, MIME_CTE_QP);
    body_is(3, "<html>=3D</html>\r\n");

    assert_string_equal(col.p[4].type, "application/vnd.ms-excel");
    assert_int_equal(col.p[4].cte, MIME_CTE_BASE64);
    assert_int_equal(col.p[4].depth, 1);
    assert_true(col.p[4].attachment);
    assert_string_equal(col.p[4].filename, tesuto_xls);
    body_is(4, "0M8R4KGxGuEAAAAAAAAAAAAAAAAAAAAAPgADAP7/CQAGAAAAAAAAAAAAAAAB\r\n");
    /* The part's headers are its own lines. */
    assert_memory_equal(outlook + col.p[4].hdr_off, "Content-Type: application/vnd.ms-excel;", 39);

    /* The multipart/alternative spans from its body start to its end. */
    const char *alt = outlook + col.p[1].body_off;
    assert_memory_equal(alt, "\r\n------=_NextPart_001", 21);
    assert_memory_equal(alt + col.p[1].body_len - 6, "40--\r\n", 6);

    /* Summary (SMTP-14, templates). */
    assert_string_equal(sum.content_type, "multipart/mixed");
    assert_true(sv_is(sum.message_id, "<000001da6e0b$1a2b3c4d$@example.jp>"));
    assert_true(sv_is(sum.date, "Mon, 4 Mar 2024 10:00:00 +0900"));
    assert_true(sv_is(sum.to, "<sato@example.jp>"));
    assert_true(sv_is(sum.cc, "a@example.jp,\tb@example.jp"));
    assert_true(sv_is(sum.subject,
                      "=?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=\t=?iso-2022-jp?B?GyRCO3FOQRsoQg==?="));
    assert_true(sv_is(sum.from, "=?iso-2022-jp?B?GyRCOzNFRBsoQg==?= <yamada@example.jp>"));
    assert_null(sum.admin_notification_id.ptr);
    /* One-line values are views into the message, unfolded ones live in
     * the summary's store. */
    assert_true(sum.to.ptr > outlook && sum.to.ptr < outlook + sizeof(outlook));
    assert_true(sum.cc.ptr >= sum.store && sum.cc.ptr < sum.store + sum.store_len);
    /* header_len covers the blank line. */
    assert_memory_equal(outlook + sum.header_len - 4, "\r\n\r\n", 4);
    assert_memory_equal(outlook + sum.header_len, "This is a multipart", 19);
}

static const char thunderbird[] =
    "From: Taro <taro@example.org>\n"
    "To: jiro@example.org\n"
    "Subject: report\n"
    "Message-ID: <1c2d@example.org>\n"
    "X-Admin-Notification-Id: 0123456789abcdef\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"------------8qoSlP0QyeQ5sgZpNf4Zb6yA\"\n"
    "Content-Language: ja\n"
    "\n"
    "This is a multi-part message in MIME format.\n"
    "--------------8qoSlP0QyeQ5sgZpNf4Zb6yA\n"
    "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "see attached\n"
    "\n"
    "--------------8qoSlP0QyeQ5sgZpNf4Zb6yA\n"
    "Content-Type: application/pdf;\n"
    " name*0*=UTF-8''%E3%81%A8%E3%81%A6%E3%82%82%E9%95%B7%E3%81%84%E5%90%8D;\n"
    " name*1*=%E5%89%8D%2E%70%64%66\n"
    "Content-Disposition: attachment;\n"
    " filename*0*=UTF-8''%E3%81%A8%E3%81%A6%E3%82%82%E9%95%B7%E3%81%84%E5%90%8D;\n"
    " filename*1*=%E5%89%8D%2E%70%64%66\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQK\n"
    "\n"
    "--------------8qoSlP0QyeQ5sgZpNf4Zb6yA--\n";

static void test_thunderbird_rfc2231_lf(void **state)
{
    (void)state;
    assert_int_equal(walk(thunderbird), MIME_DONE);
    assert_int_equal(col.n, 3);
    assert_string_equal(col.p[1].type, "text/plain");
    assert_string_equal(col.p[1].charset, "utf-8");
    assert_int_equal(col.p[1].cte, MIME_CTE_8BIT);
    body_is(1, "see attached\n");
    assert_string_equal(col.p[2].type, "application/pdf");
    assert_true(col.p[2].attachment);
    /* とても長い名前.pdf */
    assert_string_equal(col.p[2].filename, "\xe3\x81\xa8\xe3\x81\xa6\xe3\x82\x82\xe9\x95\xb7"
                                           "\xe3\x81\x84\xe5\x90\x8d\xe5\x89\x8d.pdf");
    body_is(2, "JVBERi0xLjQK\n");
    assert_true(sv_is(sum.admin_notification_id, "0123456789abcdef"));
    assert_true(sv_is(sum.subject, "report"));
    assert_null(sum.cc.ptr);
    assert_int_equal(sum.flags, 0);
}

static const char forwarded[] =
    "From: boss@example.com\r\n"
    "Subject: Fwd: invoice\r\n"
    "Content-Type: multipart/mixed; boundary=outer\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "FYI\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment; filename=\"invoice.eml\"\r\n"
    "\r\n"
    "From: vendor@example.net\r\n"
    "Subject: invoice\r\n"
    "Content-Type: multipart/mixed; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "please pay\r\n"
    "--inner\r\n"
    "Content-Type: application/octet-stream; name=\"invoice.pdf.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    "--inner--\r\n"
    "\r\n"
    "--outer--\r\n";

static void test_forwarded_structure(void **state)
{
    (void)state;
    assert_int_equal(walk(forwarded), MIME_DONE);
    /* mixed, text, message/rfc822 part, the enclosed message (a
     * multipart/mixed), its text, its attachment. */
    assert_int_equal(col.n, 6);
    assert_true(col.p[2].is_message);
    assert_false(col.p[2].is_multipart);
    assert_true(col.p[2].attachment);
    assert_string_equal(col.p[2].filename, "invoice.eml");
    /* The message part's body is the enclosed message, whose own headers
     * begin it; the enclosed entity starts there, one deeper. */
    assert_int_equal(col.p[3].hdr_off, col.p[2].body_off);
    assert_memory_equal(forwarded + col.p[3].hdr_off, "From: vendor@example.net", 24);
    assert_true(col.p[3].is_multipart);
    assert_int_equal(col.p[3].depth, 2);
    assert_int_equal(col.p[2].body_off + col.p[2].body_len, col.p[3].body_off + col.p[3].body_len);
    body_is(4, "please pay");
    assert_string_equal(col.p[5].filename, "invoice.pdf.exe");
    assert_false(col.p[5].attachment);
    body_is(5, "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(sum.flags, 0);
    assert_true(sv_is(sum.subject, "Fwd: invoice"));
}

static const char partial[] = "From: a@example.com\r\n"
                              "Subject: big (part 1 of 2)\r\n"
                              "MIME-Version: 1.0\r\n"
                              "Content-Type: message/partial; id=\"ABC@host.com\";\r\n"
                              "\tnumber=1; total=2\r\n"
                              "\r\n"
                              "Content-Type: multipart/mixed; boundary=x\r\n"
                              "\r\n"
                              "--x\r\n";

static void test_message_partial(void **state)
{
    (void)state;
    assert_int_equal(walk(partial), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_true(col.p[0].is_partial);
    assert_false(col.p[0].is_message);
    assert_false(col.p[0].is_multipart);
    assert_string_equal(sum.content_type, "message/partial");
    /* Inside a multipart too (the policy sees it wherever it is). */
    const char *nested = "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                         "Content-Type: Message/Partial; number=2; total=3; id=x\n\n"
                         "data\n--b--\n";
    assert_int_equal(walk(nested), MIME_DONE);
    assert_int_equal(col.n, 2);
    assert_true(col.p[1].is_partial);
    assert_string_equal(col.p[1].type, "message/partial");
}

static void test_bad_boundary(void **state)
{
    (void)state;
    /* '"' after unquoting. */
    const char *quote = "Content-Type: multipart/mixed; boundary=\"ab\\\"cd\"\r\n\r\n"
                        "--ab\"cd\r\n\r\nx\r\n--ab\"cd--\r\n";
    assert_int_equal(walk(quote), MIME_DONE);
    assert_true(col.p[0].flags & MIME_F_BAD_BOUNDARY);
    assert_true(sum.flags & MIME_F_BAD_BOUNDARY);
    /* Still used, as clients would. */
    assert_int_equal(col.n, 2);
    body_is(1, "x");
    /* Control and 8-bit bytes. */
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=\"a\x01"
                          "b\"\n\n--a\x01"
                          "b\n\nx\n"),
                     MIME_DONE);
    assert_true(sum.flags & MIME_F_BAD_BOUNDARY);
    assert_true(sum.flags & MIME_F_UNTERMINATED);
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=a\xe3\x81\x82\n\n"), MIME_DONE);
    assert_true(sum.flags & MIME_F_BAD_BOUNDARY);
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=\"a\x7f\"\n\n"), MIME_DONE);
    assert_true(sum.flags & MIME_F_BAD_BOUNDARY);
    /* Good ones: Outlook's, with "=" and "?" and a space inside. */
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=\"=_?a b'()+,-./:=?\"\n\n"
                          "--=_?a b'()+,-./:=?\n\nx\n--=_?a b'()+,-./:=?--\n"),
                     MIME_DONE);
    assert_int_equal(sum.flags, 0);
    assert_int_equal(col.n, 2);
    body_is(1, "x");
    /* A boundary on a type that is not multipart is not checked. */
    assert_int_equal(walk("Content-Type: text/plain; boundary=\"a\x01\"\n\nx"), MIME_DONE);
    assert_int_equal(sum.flags, 0);
}

static void test_bad_filename(void **state)
{
    (void)state;
    const char *ctl = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
                      "--b\r\n"
                      "Content-Type: application/octet-stream\r\n"
                      "Content-Disposition: attachment; filename=\"=?UTF-8?Q?a=01b.exe?=\"\r\n"
                      "\r\nx\r\n--b--\r\n";
    assert_int_equal(walk(ctl), MIME_DONE);
    assert_int_equal(col.n, 2);
    assert_true(col.p[1].flags & MIME_F_BAD_FILENAME);
    assert_false(col.p[0].flags & MIME_F_BAD_FILENAME);
    assert_true(sum.flags & MIME_F_BAD_FILENAME);
    assert_string_equal(col.p[1].filename, "a\x01"
                                           "b.exe");
    /* Raw bytes in the header, in the name= of Content-Type. */
    assert_int_equal(walk("Content-Type: application/x; name=\"a\x1f.txt\"\n\nx"), MIME_DONE);
    assert_true(sum.flags & MIME_F_BAD_FILENAME);
    /* ESC is allowed: raw ISO-2022-JP names carry it. */
    assert_int_equal(walk("Content-Type: application/x; name=\"\x1b$B%F\x1b(B.txt\"\n\nx"),
                     MIME_DONE);
    assert_int_equal(sum.flags, 0);
    assert_string_equal(col.p[0].filename, "\x1b$B%F\x1b(B.txt");
    /* A clean name on a part whose other name is bad is still flagged. */
    assert_int_equal(walk("Content-Type: application/x; name=\"a\tb\"\n"
                          "Content-Disposition: attachment; filename=ok.txt\n\nx"),
                     MIME_DONE);
    assert_string_equal(col.p[0].filename, "ok.txt");
    assert_true(sum.flags & MIME_F_BAD_FILENAME);
}

static void test_long_filename(void **state)
{
    (void)state;
    char msg[2048];
    char name[601];
    memset(name, 'a', 596);
    memcpy(name + 596, ".exe", 5);
    snprintf(msg, sizeof(msg),
             "Content-Type: application/x\r\n"
             "Content-Disposition: attachment; filename=\"%s\"\r\n\r\nx",
             name);
    assert_int_equal(walk(msg), MIME_DONE);
    assert_int_equal(strlen(col.p[0].filename), MIME_FILENAME_MAX);
    assert_string_equal(col.p[0].filename + MIME_FILENAME_MAX - 5, "a.exe");
    assert_true(col.p[0].flags & MIME_F_LONG_FILENAME);
}

/* nested - a multipart nested n deep with a leaf at the bottom. */
static char *nested(unsigned n)
{
    size_t cap = 200 + n * 200;
    char *m = malloc(cap);
    assert_non_null(m);
    size_t len = 0;
    len += (size_t)snprintf(m + len, cap - len, "Subject: deep\r\n");
    for (unsigned i = 0; i < n; i++)
        len += (size_t)snprintf(m + len, cap - len,
                                "Content-Type: multipart/mixed; boundary=\"b%u\"\r\n\r\n--b%u\r\n",
                                i, i);
    len += (size_t)snprintf(m + len, cap - len, "Content-Type: text/plain\r\n\r\nbottom\r\n");
    for (unsigned i = n; i-- > 0;)
        len += (size_t)snprintf(m + len, cap - len, "--b%u--\r\n", i);
    return m;
}

static void test_depth_limit(void **state)
{
    (void)state;
    /* 20 levels of multipart: depths 0..19 are containers, the leaf at 20. */
    char *m = nested(MIME_DEPTH_MAX);
    assert_int_equal(walk(m), MIME_DONE);
    assert_int_equal(col.n, MIME_DEPTH_MAX + 1);
    assert_int_equal(col.p[MIME_DEPTH_MAX].depth, MIME_DEPTH_MAX);
    assert_string_equal(col.p[MIME_DEPTH_MAX].type, "text/plain");
    body_is(MIME_DEPTH_MAX, "bottom");
    assert_int_equal(sum.flags, 0);
    free(m);

    /* 21 levels: the multipart at depth 20 is not descended into. */
    m = nested(MIME_DEPTH_MAX + 1);
    assert_int_equal(walk(m), MIME_DONE);
    assert_int_equal(col.n, MIME_DEPTH_MAX + 1);
    for (unsigned i = 0; i < col.n; i++)
        assert_true(col.p[i].depth <= MIME_DEPTH_MAX);
    const struct seen *last = &col.p[MIME_DEPTH_MAX];
    assert_string_equal(last->type, "multipart/mixed");
    assert_false(last->is_multipart);
    assert_true(last->flags & MIME_F_TOO_DEEP);
    assert_true(sum.flags & MIME_F_TOO_DEEP);
    /* Its body holds the rest, raw, up to its parent's closing boundary. */
    assert_memory_equal(m + last->body_off, "--b20\r\n", 7);
    assert_memory_equal(m + last->body_off + last->body_len - 7, "--b20--", 7);
    assert_false(sum.flags & MIME_F_UNTERMINATED);
    free(m);

    /* message/rfc822 counts as a level too. */
    char msg[8192];
    size_t len = 0;
    for (unsigned i = 0; i < 25; i++)
        len += (size_t)snprintf(msg + len, sizeof(msg) - len,
                                "Subject: level %u\r\nContent-Type: message/rfc822\r\n\r\n", i);
    snprintf(msg + len, sizeof(msg) - len, "Subject: end\r\n\r\nbody\r\n");
    assert_int_equal(walk(msg), MIME_DONE);
    assert_int_equal(col.n, MIME_DEPTH_MAX + 1);
    assert_true(col.p[MIME_DEPTH_MAX].flags & MIME_F_TOO_DEEP);
    assert_false(col.p[MIME_DEPTH_MAX].is_message);
    assert_true(col.p[MIME_DEPTH_MAX - 1].is_message);
}

static void test_too_many(void **state)
{
    (void)state;
    size_t cap = 64 + (MIME_PARTS_MAX + 50) * 16;
    char *m = malloc(cap);
    assert_non_null(m);
    size_t len = (size_t)snprintf(m, cap, "Content-Type: multipart/mixed; boundary=z\n\n");
    for (unsigned i = 0; i < MIME_PARTS_MAX + 20; i++)
        len += (size_t)snprintf(m + len, cap - len, "--z\n\np%u\n", i);
    len += (size_t)snprintf(m + len, cap - len, "--z--\n");
    assert_int_equal(walk(m), MIME_DONE);
    assert_int_equal(col.n, MIME_PARTS_MAX);
    assert_int_equal(sum.parts, MIME_PARTS_MAX);
    assert_true(col.p[0].flags & MIME_F_TOO_MANY);
    assert_true(sum.flags & MIME_F_TOO_MANY);
    assert_false(sum.flags & MIME_F_UNTERMINATED);
    /* The container still spans everything. */
    assert_int_equal(col.p[0].body_off + col.p[0].body_len, len);
    body_is(MIME_PARTS_MAX - 1, "p998");
    free(m);
}

/* ---- robustness ---- */

static void test_no_mime(void **state)
{
    (void)state;
    const char *m = "From: a@example.com\r\nSubject: hi\r\n\r\nHello\r\n";
    assert_int_equal(walk(m), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_string_equal(col.p[0].type, "text/plain");
    assert_int_equal(col.p[0].cte, MIME_CTE_7BIT);
    assert_string_equal(col.p[0].charset, "");
    body_is(0, "Hello\r\n");
    assert_int_equal(sum.header_len, strlen("From: a@example.com\r\nSubject: hi\r\n\r\n"));
    assert_string_equal(sum.content_type, "text/plain");
    /* Headers only, no final line end. */
    assert_int_equal(walk("Subject: x"), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_int_equal(col.p[0].hdr_len, 10);
    assert_int_equal(col.p[0].body_len, 0);
    assert_int_equal(sum.header_len, 10);
    assert_true(sv_is(sum.subject, "x"));
    /* No header at all. */
    assert_int_equal(walk("just text\nmore\n"), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_int_equal(col.p[0].hdr_len, 0);
    body_is(0, "just text\nmore\n");
    assert_int_equal(sum.header_len, 0);
    assert_null(sum.subject.ptr);
    /* Nothing. */
    assert_int_equal(mime_walk("", 0, collect_fn, &col, &sum), MIME_INVALID);
    assert_int_equal(mime_walk(NULL, 5, collect_fn, &col, &sum), MIME_INVALID);
    assert_string_equal(mime_result_name(MIME_INVALID), "INVALID");
    assert_string_equal(mime_cte_name(MIME_CTE_QP), "quoted-printable");
}

static void test_header_end_without_blank_line(void **state)
{
    (void)state;
    /* A part whose header block runs into its body. */
    const char *m = "Content-Type: multipart/mixed; boundary=b\n"
                    "--b\n"
                    "Content-Type: text/html\n"
                    "<html>no blank line</html>\n"
                    "--b\n"
                    "Content-Type: text/plain\n"
                    "--b--\n";
    assert_int_equal(walk(m), MIME_DONE);
    assert_int_equal(col.n, 3);
    assert_true(col.p[0].is_multipart);
    assert_string_equal(col.p[1].type, "text/html");
    body_is(1, "<html>no blank line</html>");
    /* Ended by the boundary: headers, empty body. */
    assert_string_equal(col.p[2].type, "text/plain");
    assert_int_equal(col.p[2].body_len, 0);
    assert_int_equal(sum.flags, 0);
    /* A whitespace-only line ends the header block too. */
    assert_int_equal(walk("Subject: a\r\n \t\r\nbody"), MIME_DONE);
    body_is(0, "body");
}

static void test_boundary_edge_cases(void **state)
{
    (void)state;
    /* Prefix boundaries, transport padding, duplicate boundary (an empty
     * part), preamble and epilogue, invalid Content-Type, digest. */
    const char *m = "Content-Type: multipart/mixed; boundary=abc\r\n"
                    "\r\n"
                    "preamble --abc\r\n"
                    "--abc  \t\r\n"
                    "Content-Type: multipart/alternative; boundary=abcdef\r\n"
                    "\r\n"
                    "--abcdef\r\n"
                    "Content-Type: text\r\n"
                    "\r\n"
                    "--abcd\r\n"
                    "--abcdefg\r\n"
                    "--abcdef\r\n"
                    "\r\n"
                    "two\r\n"
                    "--abc\r\n"
                    "--abc\r\n"
                    "Content-Type: multipart/digest; boundary=d\r\n"
                    "\r\n"
                    "--d\r\n"
                    "\r\n"
                    "Subject: digest entry\r\n"
                    "\r\n"
                    "entry body\r\n"
                    "--d--\r\n"
                    "--abc--\r\n"
                    "epilogue\r\n"
                    "--abc\r\n";
    assert_int_equal(walk(m), MIME_DONE);
    /* mixed, alternative, text, text(two), empty, digest, message/rfc822
     * default, the enclosed message. */
    assert_int_equal(col.n, 8);
    assert_string_equal(col.p[1].type, "multipart/alternative");
    assert_true(col.p[1].is_multipart);
    assert_true(col.p[1].flags & MIME_F_UNTERMINATED); /* closed by --abc */
    assert_string_equal(col.p[2].type, "text/plain");  /* "text" is invalid */
    body_is(2, "--abcd\r\n--abcdefg");
    body_is(3, "two");
    assert_int_equal(col.p[4].depth, 1);
    assert_int_equal(col.p[4].hdr_len, 0);
    assert_int_equal(col.p[4].body_len, 0);
    assert_string_equal(col.p[5].type, "multipart/digest");
    assert_string_equal(col.p[6].type, "message/rfc822");
    assert_true(col.p[6].is_message);
    assert_int_equal(col.p[6].hdr_len, 0);
    assert_int_equal(col.p[7].depth, 3);
    body_is(7, "entry body");
    assert_memory_equal(m + col.p[7].hdr_off, "Subject: digest entry\r\n", col.p[7].hdr_len);
    /* The top-level multipart ends at the end of the message (epilogue
     * included, the repeated boundary there ignored). */
    assert_int_equal(col.p[0].body_off + col.p[0].body_len, strlen(m));
    assert_false(col.p[0].flags & MIME_F_UNTERMINATED);
    assert_int_equal(sum.flags, MIME_F_UNTERMINATED);
}

static void test_missing_boundaries(void **state)
{
    (void)state;
    /* No boundary parameter: a leaf. */
    assert_int_equal(walk("Content-Type: multipart/mixed\n\n--x\n\nbody\n"), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_false(col.p[0].is_multipart);
    assert_true(sum.flags & MIME_F_NO_BOUNDARY);
    /* Boundary never seen: all preamble, unterminated. */
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=q\n\nno parts\n"), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_true(col.p[0].is_multipart);
    assert_true(sum.flags & MIME_F_UNTERMINATED);
    /* Last part without closing boundary runs to the end. */
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=q\n\n--q\n\nlast\n"), MIME_DONE);
    assert_int_equal(col.n, 2);
    body_is(1, "last\n");
    assert_true(col.p[0].flags & MIME_F_UNTERMINATED);
    /* Empty boundary. */
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\n"), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_true(sum.flags & MIME_F_NO_BOUNDARY);
    /* An encoded message/rfc822 is not descended into. */
    assert_int_equal(walk("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
                          "U3ViamVjdDogeAoK\n"),
                     MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_false(col.p[0].is_message);
}

static bool stop_fn(void *arg, const struct mime_part *p)
{
    unsigned *n = arg;
    (*n)++;
    return p->index < 1;
}

static void test_stop_and_summary_only(void **state)
{
    (void)state;
    unsigned n = 0;
    assert_int_equal(mime_walk(forwarded, strlen(forwarded), stop_fn, &n, &sum), MIME_STOPPED);
    assert_int_equal(n, 2);
    assert_int_equal(sum.parts, 6); /* the summary covers the whole message */
    assert_int_equal(mime_walk(outlook, strlen(outlook), NULL, NULL, &sum), MIME_DONE);
    assert_int_equal(sum.parts, 5);
    assert_int_equal(mime_walk(outlook, strlen(outlook), stop_fn, &n, NULL), MIME_STOPPED);
}

static void test_never_reads_outside(void **state)
{
    (void)state;
    /* Every prefix of a real mail, each in a buffer of exactly its size
     * (run under ASan by the sanitizer pass). */
    size_t len = strlen(outlook);
    for (size_t n = 1; n <= len; n += 7) {
        char *m = malloc(n);
        assert_non_null(m);
        memcpy(m, outlook, n);
        memset(&col, 0, sizeof(col));
        col.msg = m;
        col.len = n;
        assert_int_equal(mime_walk(m, n, collect_fn, &col, &sum), MIME_DONE);
        assert_true(col.n >= 1 && col.n <= 5);
        free(m);
    }
}

static void test_linear_on_hostile_input(void **state)
{
    (void)state;
    /* 20 open multiparts with long boundaries, then 4 MiB of lines that
     * look like boundaries of the same length but do not match. */
    size_t cap = 16u << 20;
    char *m = malloc(cap);
    assert_non_null(m);
    size_t len = 0;
    char b[80];
    memset(b, 'x', sizeof(b) - 1);
    b[sizeof(b) - 1] = '\0';
    for (unsigned i = 0; i < MIME_DEPTH_MAX; i++) {
        b[0] = (char)('A' + i);
        len += (size_t)snprintf(m + len, cap - len,
                                "Content-Type: multipart/mixed; boundary=\"%s\"\n\n--%s\n", b, b);
    }
    b[0] = 'z';
    while (len + sizeof(b) + 4 < (4u << 20))
        len += (size_t)snprintf(m + len, cap - len, "--%s\n", b);
    assert_int_equal(mime_walk(m, len, NULL, NULL, &sum), MIME_DONE);
    assert_int_equal(sum.parts, MIME_DEPTH_MAX + 1);
    free(m);
}

/* G-32: at most MIME_HEADER_LINES_MAX header lines are read; a field after
 * them is not seen, the part is flagged, and its body still starts after
 * the real end of the header block. */
static void test_header_lines_limit(void **state)
{
    (void)state;
    size_t cap = 1u << 20;
    char *m = malloc(cap);
    assert_non_null(m);
    size_t len = 0;
    for (unsigned i = 0; i < MIME_HEADER_LINES_MAX; i++)
        len += (size_t)snprintf(m + len, cap - len, "X-Pad: %u\r\n", i);
    len += (size_t)snprintf(m + len, cap - len,
                            "Content-Type: application/zip\r\n\tname=\"a.zip\"\r\n\r\nbody");
    m[len] = '\0';
    assert_int_equal(walk(m), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_string_equal(col.p[0].type, "text/plain"); /* the field was past the limit */
    assert_true(col.p[0].flags & MIME_F_LONG_HEADER);
    assert_true(sum.flags & MIME_F_LONG_HEADER);
    assert_int_equal(sum.header_lines_max, MIME_HEADER_LINES_MAX + 2);
    body_is(0, "body");
    /* Exactly at the limit: everything is read. */
    len = 0;
    for (unsigned i = 0; i + 1 < MIME_HEADER_LINES_MAX; i++)
        len += (size_t)snprintf(m + len, cap - len, "X-Pad: %u\r\n", i);
    len += (size_t)snprintf(m + len, cap - len, "Content-Type: application/zip\r\n\r\nbody");
    m[len] = '\0';
    assert_int_equal(walk(m), MIME_DONE);
    assert_string_equal(col.p[0].type, "application/zip");
    assert_false(col.p[0].flags & MIME_F_LONG_HEADER);
    assert_int_equal(sum.header_lines_max, 0);
    free(m);
}

/* Forms a mail client reads otherwise than a naive walk (issue 10/11). */
static void test_rfc2231_boundary_and_ambiguity(void **state)
{
    (void)state;
    /* RFC 2231 continued boundary, no plain one: walked with it. */
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary*0=\"ab-\"; boundary*1=cd\n\n"
                          "--ab-cd\nContent-Type: text/plain\n\nx\n--ab-cd--\n"),
                     MIME_DONE);
    assert_int_equal(col.n, 2);
    assert_true(col.p[0].is_multipart);
    body_is(1, "x");
    assert_int_equal(sum.flags, 0);
    /* A plain and an RFC 2231 boundary that differ: AMBIGUOUS. */
    assert_int_equal(walk("Content-Type: multipart/mixed; boundary=zz; boundary*0=yy\n\n"
                          "--zz\n\nx\n--zz--\n"),
                     MIME_DONE);
    assert_true(sum.flags & MIME_F_AMBIGUOUS);
    /* Two Content-Type fields, two Content-Transfer-Encoding fields. */
    assert_int_equal(walk("Content-Type: text/plain\nContent-Type: application/x-foo\n\nx\n"),
                     MIME_DONE);
    assert_true(sum.flags & MIME_F_AMBIGUOUS);
    assert_int_equal(walk("Content-Transfer-Encoding: 7bit\nContent-Transfer-Encoding: base64\n"
                          "\nx\n"),
                     MIME_DONE);
    assert_true(sum.flags & MIME_F_AMBIGUOUS);
    /* A boundary over MIME_BOUNDARY_MAX is not used (the proxy then has
     * the message scanned whole). */
    char msg[1024];
    char b[301];
    memset(b, 'B', 300);
    b[300] = '\0';
    snprintf(msg, sizeof(msg), "Content-Type: multipart/mixed; boundary=%s\n\n--%s\n\nx\n", b, b);
    assert_int_equal(walk(msg), MIME_DONE);
    assert_int_equal(col.n, 1);
    assert_true(sum.flags & MIME_F_NO_BOUNDARY);
}

/* ---- the walk in steps ---- */

static void part_equal(const struct mime_part *a, const struct seen *b, const char *msg)
{
    assert_int_equal(a->index, b->index);
    assert_int_equal(a->depth, b->depth);
    assert_int_equal(a->flags, b->flags);
    assert_string_equal(a->type, b->type);
    assert_string_equal(a->charset, b->charset);
    assert_string_equal(a->filename, b->filename);
    assert_int_equal(a->cte, b->cte);
    assert_int_equal(a->attachment, b->attachment);
    assert_int_equal(a->is_multipart, b->is_multipart);
    assert_int_equal(a->is_message, b->is_message);
    assert_int_equal(a->is_partial, b->is_partial);
    assert_int_equal(a->headers.ptr - msg, b->hdr_off);
    assert_int_equal(a->headers.len, b->hdr_len);
    assert_int_equal(a->body.ptr - msg, b->body_off);
    assert_int_equal(a->body.len, b->body_len);
}

static bool view_equal(struct str a, struct str b)
{
    if (!a.ptr || !b.ptr)
        return a.ptr == b.ptr;
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

static struct mime_walker walker;
static struct mime_summary sum2;

/* stepped_equals_one_pass - walking msg in steps of every budget from 1
 * to its length + 1 gives the parts and the summary of one pass; a step
 * returns MIME_MORE while the walk is unfinished, and a budget smaller
 * than the message takes more than one step. */
static void stepped_equals_one_pass(const char *msg, size_t len)
{
    memset(&col, 0, sizeof(col));
    col.msg = msg;
    col.len = len;
    assert_int_equal(mime_walk(msg, len, collect_fn, &col, &sum), MIME_DONE);
    for (size_t budget = 1; budget <= len + 1; budget++) {
        assert_int_equal(mime_walker_init(&walker, msg, len), MIME_MORE);
        size_t steps = 0;
        enum mime_result r;
        while ((r = mime_walker_step(&walker, budget)) == MIME_MORE)
            assert_true(++steps <= len + 1);
        assert_int_equal(r, MIME_DONE);
        assert_int_equal(mime_walker_step(&walker, budget), MIME_DONE);
        if (budget < len)
            assert_true(steps >= 1 && steps + 1 >= len / budget);
        mime_walker_summary(&walker, &sum2);
        assert_string_equal(sum2.content_type, sum.content_type);
        assert_int_equal(sum2.header_len, sum.header_len);
        assert_int_equal(sum2.parts, sum.parts);
        assert_int_equal(sum2.flags, sum.flags);
        assert_int_equal(sum2.header_lines_max, sum.header_lines_max);
        assert_true(view_equal(sum2.message_id, sum.message_id));
        assert_true(view_equal(sum2.date, sum.date));
        assert_true(view_equal(sum2.from, sum.from));
        assert_true(view_equal(sum2.to, sum.to));
        assert_true(view_equal(sum2.cc, sum.cc));
        assert_true(view_equal(sum2.subject, sum.subject));
        assert_true(view_equal(sum2.admin_notification_id, sum.admin_notification_id));
        assert_int_equal(mime_walker_parts(&walker), col.n);
        for (unsigned k = 0; k < col.n; k++) {
            struct mime_part p;
            mime_walker_part(&walker, k, &p);
            part_equal(&p, &col.p[k], msg);
        }
    }
}

static void test_steps_give_one_pass(void **state)
{
    (void)state;
    const char *mails[] = {outlook, thunderbird, forwarded, partial};
    for (size_t i = 0; i < sizeof(mails) / sizeof(mails[0]); i++)
        stepped_equals_one_pass(mails[i], strlen(mails[i]));
    /* Boundaries, line ends and header blocks cut at every place: CR LF
     * split, a boundary line and a header block with no blank line, an
     * unterminated part, no final line end. */
    static const char edgy[] = "Subject: x\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n"
                               "\r\npre\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
                               "Content-Type: multipart/alternative; boundary=c\n\n--c\n"
                               "Content-Type: text/html\nnot a header\n--c--\n--b  \r\n"
                               "Content-Disposition: attachment; filename=a.exe\r\n"
                               "Content-Transfer-Encoding: base64\r\n\r\nTVqQ\r\n--b";
    stepped_equals_one_pass(edgy, strlen(edgy));
    char *deep = nested(MIME_DEPTH_MAX + 2);
    stepped_equals_one_pass(deep, strlen(deep));
    free(deep);
}

static void test_steps_bound_a_long_line(void **state)
{
    (void)state;
    /* A 1 MiB line without a line end is searched for in steps too. */
    size_t len = 1u << 20;
    char *m = malloc(len);
    assert_non_null(m);
    static const char head[] = "Subject: x\n\n";
    size_t hl = sizeof(head) - 1;
    memcpy(m, head, hl);
    memset(m + hl, 'a', len - hl);
    assert_int_equal(mime_walker_init(&walker, m, len), MIME_MORE);
    size_t steps = 0;
    while (mime_walker_step(&walker, 4096) == MIME_MORE)
        assert_true(++steps <= len);
    assert_true(steps >= len / 4096 - 1);
    mime_walker_summary(&walker, &sum2);
    assert_int_equal(sum2.parts, 1);
    assert_int_equal(sum2.header_len, hl);
    struct mime_part p;
    mime_walker_part(&walker, 0, &p);
    assert_int_equal(p.body.len, len - hl);
    free(m);
    /* An invalid message stays invalid, with an empty summary. */
    assert_int_equal(mime_walker_init(&walker, NULL, 0), MIME_INVALID);
    assert_int_equal(mime_walker_step(&walker, 1), MIME_INVALID);
    assert_int_equal(mime_walker_parts(&walker), 0);
    mime_walker_summary(&walker, &sum2);
    assert_int_equal(sum2.parts, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outlook),
        cmocka_unit_test(test_thunderbird_rfc2231_lf),
        cmocka_unit_test(test_forwarded_structure),
        cmocka_unit_test(test_message_partial),
        cmocka_unit_test(test_bad_boundary),
        cmocka_unit_test(test_bad_filename),
        cmocka_unit_test(test_long_filename),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_too_many),
        cmocka_unit_test(test_no_mime),
        cmocka_unit_test(test_header_end_without_blank_line),
        cmocka_unit_test(test_boundary_edge_cases),
        cmocka_unit_test(test_missing_boundaries),
        cmocka_unit_test(test_stop_and_summary_only),
        cmocka_unit_test(test_never_reads_outside),
        cmocka_unit_test(test_linear_on_hostile_input),
        cmocka_unit_test(test_header_lines_limit),
        cmocka_unit_test(test_rfc2231_boundary_and_ambiguity),
        cmocka_unit_test(test_steps_give_one_pass),
        cmocka_unit_test(test_steps_bound_a_long_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
