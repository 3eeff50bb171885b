/* Unit tests for proto/html_scan: which HTML mail bodies hold scripts
 * (block_script) or ActiveX controls (block_activex), and which bytes are
 * handed over as "executable parts", the only ones virus-scanned with
 * virus_check_wholehtml=no (spec SCAN-6, SCAN-8). Every case checks the
 * flags and the exact list of parts, and that the flags do not depend on
 * whether a callback is given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/html_scan.h"

#define MAX_PARTS 32

struct collect {
    const char *in;
    size_t len;
    unsigned n, calls, stop_after;
    struct str part[MAX_PARTS];
};

static struct collect col;

static bool collect_fn(void *arg, struct str part)
{
    struct collect *c = arg;
    c->calls++;
    /* Every part is a non-empty view into the input. */
    assert_non_null(part.ptr);
    assert_true(part.len > 0);
    assert_true(part.ptr >= c->in && part.ptr + part.len <= c->in + c->len);
    if (c->n < MAX_PARTS)
        c->part[c->n++] = part;
    return c->stop_after == 0 || c->calls < c->stop_after;
}

/* scan_n - html_scan over in[0..len) with the collecting callback; also
 * checks that a pass without callback finds the same flags. */
static unsigned scan_n(const char *in, size_t len)
{
    memset(&col, 0, sizeof(col));
    col.in = in;
    col.len = len;
    unsigned flags = html_scan(in, len, collect_fn, &col);
    if (col.stop_after == 0)
        assert_int_equal(html_scan(in, len, NULL, NULL), flags);
    return flags;
}

static unsigned scan(const char *in)
{
    return scan_n(in, strlen(in));
}

/* parts_are - the parts seen are exactly the n strings given, in order. */
static void parts_are(unsigned n, ...)
{
    va_list ap;
    va_start(ap, n);
    if (col.calls != n) {
        for (unsigned i = 0; i < col.n; i++)
            print_message("part %u: [%.*s]\n", i, (int)col.part[i].len, col.part[i].ptr);
    }
    assert_int_equal(col.calls, n);
    for (unsigned i = 0; i < n; i++) {
        const char *want = va_arg(ap, const char *);
        if (col.part[i].len != strlen(want) || memcmp(col.part[i].ptr, want, strlen(want)) != 0)
            print_message("part %u: [%.*s], want [%s]\n", i, (int)col.part[i].len, col.part[i].ptr,
                          want);
        assert_int_equal(col.part[i].len, strlen(want));
        assert_memory_equal(col.part[i].ptr, want, strlen(want));
    }
    va_end(ap);
}

/* part_n_is - part i, a view of n bytes that may hold NULs. */
static void part_n_is(unsigned i, const char *want, size_t n)
{
    assert_true(i < col.n);
    assert_int_equal(col.part[i].len, n);
    assert_memory_equal(col.part[i].ptr, want, n);
}

/* ---- no scripts ---- */

static void test_plain_html(void **state)
{
    (void)state;
    assert_int_equal(scan("<!DOCTYPE html>\r\n<html><head><meta charset=\"utf-8\">"
                          "<title>Invoice</title><style>p { color: red }</style></head>\r\n"
                          "<body bgcolor=\"#ffffff\"><p class=x>Hello <b>world</b>,<br/>"
                          "see <a href=\"https://example.jp/a?b=1&amp;c=2\">here</a>."
                          "<img src=\"cid:logo@example.jp\" width=10></p></body></html>\r\n"),
                     0);
    parts_are(0);
}

static void test_text_mentions_script(void **state)
{
    (void)state;
    /* Words in text are not markup; "< script" is not a tag. */
    assert_int_equal(scan("<p>Write a script; javascript: is a URL scheme, onload=go() an "
                          "attribute, and a < script > tag starts one. 1 < 2 > 0</p>"),
                     0);
    parts_are(0);
}

static void test_excluded_attributes(void **state)
{
    (void)state;
    assert_int_equal(scan("<p title=\"javascript: book\">x</p><img alt='javascript:void(0)' "
                          "src=a.png><a TITLE=vbscript:x ALT=\"jscript:y\">z</a>"),
                     0);
    parts_are(0);
    /* The same values in another attribute are script URLs. */
    assert_int_equal(scan("<p title=\"javascript: book\" data-x=\"javascript: book\">"),
                     HTML_F_SCRIPT);
    parts_are(1, "javascript: book");
}

static void test_empty_and_null_input(void **state)
{
    (void)state;
    assert_int_equal(scan(""), 0);
    parts_are(0);
    assert_int_equal(html_scan(NULL, 0, collect_fn, &col), 0);
    assert_int_equal(html_scan(NULL, 100, NULL, NULL), 0);
}

/* ---- <script> elements ---- */

static void test_script_simple(void **state)
{
    (void)state;
    assert_int_equal(scan("<p>a</p><script>alert(1)</script><p>b</p>"), HTML_F_SCRIPT);
    parts_are(1, "alert(1)");
}

static void test_script_case(void **state)
{
    (void)state;
    assert_int_equal(scan("<SCRIPT>x=1</SCRIPT>"), HTML_F_SCRIPT);
    parts_are(1, "x=1");
    assert_int_equal(scan("<ScRiPt type=\"text/javascript\">a()</ScRiPt >b"), HTML_F_SCRIPT);
    parts_are(1, "a()");
    assert_int_equal(scan("<script\n>c()</script\t\n>"), HTML_F_SCRIPT);
    parts_are(1, "c()");
    assert_int_equal(scan("<script/>d()</script/>"), HTML_F_SCRIPT);
    parts_are(1, "d()");
}

static void test_script_unterminated(void **state)
{
    (void)state;
    assert_int_equal(scan("<p>x</p><script>var a = 1;\n"), HTML_F_SCRIPT);
    parts_are(1, "var a = 1;\n");
    assert_int_equal(scan("<script>e()</scr"), HTML_F_SCRIPT);
    parts_are(1, "e()</scr");
    /* An unterminated start tag: flagged, no body. */
    assert_int_equal(scan("<script type='text/javascript"), HTML_F_SCRIPT);
    parts_are(0);
}

static void test_script_src_only(void **state)
{
    (void)state;
    /* A script from elsewhere: flagged, nothing of it to scan here. */
    assert_int_equal(scan("<script src=\"x.js\"></script><p>text</p>"), HTML_F_SCRIPT);
    parts_are(0);
}

static void test_two_scripts(void **state)
{
    (void)state;
    assert_int_equal(scan("<script>one()</script><p>mid</p><script language=vbscript>"
                          "MsgBox 2</script>"),
                     HTML_F_SCRIPT);
    parts_are(2, "one()", "MsgBox 2");
}

static void test_script_end_tag_needs_delimiter(void **state)
{
    (void)state;
    /* "</scriptx>" does not end a script (HTML5): the body runs on. */
    assert_int_equal(scan("<script>a()</scriptx>b()</script>"), HTML_F_SCRIPT);
    parts_are(1, "a()</scriptx>b()");
    /* "</script>" inside a JavaScript string does end it. */
    assert_int_equal(scan("<script>s='</script>';</script>"), HTML_F_SCRIPT);
    parts_are(1, "s='");
}

static void test_script_escaped_body(void **state)
{
    (void)state;
    /* "<!--" then "<script" inside a script: the next </script> does not
     * end it (HTML5 double-escaped script data), so c() is script too. */
    assert_int_equal(scan("<script><!--<script></script>c()</script><p>x"), HTML_F_SCRIPT);
    parts_are(1, "<!--<script></script>c()");
    /* "-->" closes the escape: the next </script> ends the script. */
    assert_int_equal(scan("<script><!-- a() --></script>b<script>c()</script>"), HTML_F_SCRIPT);
    parts_are(2, "<!-- a() -->", "c()");
    /* After "-->" a "<script" no longer nests. */
    assert_int_equal(scan("<script><!-- --><script></script>x()</script>"), HTML_F_SCRIPT);
    parts_are(1, "<!-- --><script>");
    /* Escaped, but no nested <script>: </script> ends it. */
    assert_int_equal(scan("<script><!-- d()</script>e"), HTML_F_SCRIPT);
    parts_are(1, "<!-- d()");
}

static void test_script_in_comment(void **state)
{
    (void)state;
    assert_int_equal(scan("<p>a</p><!-- <script>x</script> --><p>b</p>"), HTML_F_SCRIPT);
    parts_are(1, "x");
}

static void test_ie_conditional_comments(void **state)
{
    (void)state;
    /* Downlevel-hidden: a comment to other browsers, markup to IE. */
    assert_int_equal(scan("<!--[if IE]><script>ie()</script><![endif]--><p>x</p>"), HTML_F_SCRIPT);
    parts_are(1, "ie()");
    assert_int_equal(scan("<!--[if gte mso 9]><xml><o:OfficeDocumentSettings>"
                          "</o:OfficeDocumentSettings></xml><![endif]-->"),
                     0);
    parts_are(0);
    /* Downlevel-revealed: markup to every browser. */
    assert_int_equal(scan("<![if !IE]><script>y()</script><![endif]>"), HTML_F_SCRIPT);
    parts_are(1, "y()");
    assert_int_equal(scan("<!--[if IE]><body onload=\"z()\"><![endif]-->"), HTML_F_SCRIPT);
    parts_are(1, "z()");
}

static void test_script_in_raw_text(void **state)
{
    (void)state;
    /* Inside <title> a browser sees text; read as markup all the same
     * (a mail reader may not), and what follows </title> is markup. */
    assert_int_equal(scan("<title><script>t()</script></title><script>u()</script>"),
                     HTML_F_SCRIPT);
    parts_are(2, "t()", "u()");
    assert_int_equal(scan("<textarea>just <b>text</b></textarea>"), 0);
    parts_are(0);
}

/* ---- markup that must not hide what a browser runs ---- */

static void test_comment_end_closes_quotes(void **state)
{
    (void)state;
    /* A browser ends the comment at the first "-->": the script after it
     * runs, although a tag inside the comment opened a quote. */
    assert_int_equal(scan("<!-- <a title=\"--><script>evil()</script><!-- \"> -->"), HTML_F_SCRIPT);
    parts_are(1, "evil()");
    /* "--!>" ends a comment too, "<!-->" is an empty comment. */
    assert_int_equal(scan("<!-- <a title='--!><script>f()</script>'>"), HTML_F_SCRIPT);
    parts_are(1, "f()");
    assert_int_equal(scan("<!--><img src=x onerror=\"g()\">"), HTML_F_SCRIPT);
    parts_are(1, "g()");
}

static void test_tag_read_past_comment_end(void **state)
{
    (void)state;
    /* For a reader that takes the conditional comment's inside as markup,
     * the quote runs on past "-->": the handler is read in full. */
    assert_int_equal(scan("<!--[if IE]><img src=x onerror=\"--><![endif]-->alert(1)\">"),
                     HTML_F_SCRIPT);
    parts_are(1, "--><![endif]-->alert(1)");
    /* A tag starting inside a tag read so is not read in full again: to
     * anyone the <img> here is inside a comment or an attribute value. */
    assert_int_equal(scan("<!-- <a x=\"--> <!-- <img onerror=\"--> y() \"> -->"), 0);
    parts_are(0);
}

static void test_raw_text_end_closes_quotes(void **state)
{
    (void)state;
    assert_int_equal(scan("<style><a title=\"</style><script>evil()</script>\"></style>"),
                     HTML_F_SCRIPT);
    parts_are(1, "evil()");
    assert_int_equal(scan("<TITLE><p x='</title ><img src=x onerror=h()>'>"), HTML_F_SCRIPT);
    parts_are(1, "h()");
}

static void test_bogus_comment_closes_quotes(void **state)
{
    (void)state;
    /* "<!x", "<?x" and "</ x" end at the first '>'. */
    assert_int_equal(scan("<! <a title=\"> <script>a()</script> \">"), HTML_F_SCRIPT);
    parts_are(1, "a()");
    assert_int_equal(scan("<?xml <a title=\"?> <script>b()</script> \">"), HTML_F_SCRIPT);
    parts_are(1, "b()");
    assert_int_equal(scan("</ <a title=\"> <script>c()</script> \">"), HTML_F_SCRIPT);
    parts_are(1, "c()");
}

static void test_end_tag_attributes(void **state)
{
    (void)state;
    /* An end tag's attribute values are quoted like a start tag's. */
    assert_int_equal(scan("</x title=\"<a title='\"> <script>evil()</script> '>"), HTML_F_SCRIPT);
    parts_are(1, "evil()");
    /* ...but do nothing: a handler on an end tag never runs. */
    assert_int_equal(scan("<p>x</p onclick=\"y()\">"), 0);
    parts_are(0);
}

static void test_cdata_section(void **state)
{
    (void)state;
    /* In <svg> a CDATA section ends at "]]>": the script after it runs. */
    assert_int_equal(scan("<svg><![CDATA[ > <a title=\"]]><script>evil()</script>\"></svg>"),
                     HTML_F_SCRIPT);
    parts_are(1, "evil()");
    /* In HTML it is a bogus comment ending at the first '>'. */
    assert_int_equal(scan("<![CDATA[ x > <img src=1 onerror=\"]]>e()\">"), HTML_F_SCRIPT);
    parts_are(1, "]]>e()");
    /* A "]]>" after the end of the comment holding the section does not
     * end it: the script is read once, after the comment. */
    assert_int_equal(scan("<!-- <![CDATA[ > --> <script>x()</script> ]]>"), HTML_F_SCRIPT);
    parts_are(1, "x()");
}

/* ---- event handlers ---- */

static void test_event_handler_quoted(void **state)
{
    (void)state;
    assert_int_equal(scan("<body onload=\"go()\"><p>hi</p></body>"), HTML_F_SCRIPT);
    parts_are(1, "go()");
    assert_int_equal(scan("<DIV OnMouseOver='h(\"x\")' class=c>"), HTML_F_SCRIPT);
    parts_are(1, "h(\"x\")");
}

static void test_event_handler_unquoted(void **state)
{
    (void)state;
    assert_int_equal(scan("<img src=x onerror=alert(1)>"), HTML_F_SCRIPT);
    parts_are(1, "alert(1)");
    assert_int_equal(scan("<img src=x/onerror = a()/>"), 0); /* the src is "x/onerror" */
    parts_are(0);
    assert_int_equal(scan("<svg/onload=b()>"), HTML_F_SCRIPT);
    parts_are(1, "b()");
    assert_int_equal(scan("<p\nonclick\n=\nc()\n>"), HTML_F_SCRIPT);
    parts_are(1, "c()");
}

static void test_not_event_handlers(void **state)
{
    (void)state;
    assert_int_equal(scan("<p on=\"x()\" onfoo1=\"y()\" on-click=z() o=1 only1=q>"), 0);
    parts_are(0);
}

static void test_empty_event_handler(void **state)
{
    (void)state;
    assert_int_equal(scan("<p onclick=\"\" onload='' onerror= >x</p><p onmouseover>"), 0);
    parts_are(0);
}

static void test_several_handlers(void **state)
{
    (void)state;
    assert_int_equal(scan("<a onclick=\"a()\" href=\"/x\" onmouseover=b()>t</a>"
                          "<form onsubmit='c()'>"),
                     HTML_F_SCRIPT);
    parts_are(3, "a()", "b()", "c()");
}

/* ---- script URLs ---- */

static void test_javascript_href(void **state)
{
    (void)state;
    assert_int_equal(scan("<a href=\"javascript:evil()\">x</a>"), HTML_F_SCRIPT);
    parts_are(1, "javascript:evil()");
    assert_int_equal(scan("<a href=JaVaScRiPt:evil()>x</a>"), HTML_F_SCRIPT);
    parts_are(1, "JaVaScRiPt:evil()");
    assert_int_equal(scan("<iframe src='jscript:a'></iframe><a href=livescript:b>"), HTML_F_SCRIPT);
    parts_are(2, "jscript:a", "livescript:b");
}

static void test_char_ref_evasions(void **state)
{
    (void)state;
    static const char *const hrefs[] = {
        "java&#115;cript:a()",
        "javascript&#58;a()",
        "&#x6A;avascript:a()",
        "java&Tab;script:a()",
        "jav&#x09;ascript:a()",
        "javascript&colon;a()",
        "java&NewLine;script:a()",
        "javascript&#0000058;a()",
        "javascript&#00000000000058;a()",
        "javascript&#x3a a()",
        "javascript&#X3A;a()",
        "&#106&#97&#118&#97&#115&#99"
        "&#114&#105&#112&#116&#58a()",
    };
    for (size_t i = 0; i < sizeof(hrefs) / sizeof(hrefs[0]); i++) {
        char html[160];
        snprintf(html, sizeof(html), "<a href=\"%s\">x</a>", hrefs[i]);
        print_message("%s\n", html);
        assert_int_equal(scan(html), HTML_F_SCRIPT);
        parts_are(1, hrefs[i]);
    }
}

static void test_char_refs_that_are_not_schemes(void **state)
{
    (void)state;
    /* Double-encoded: the browser decodes once, "&#115;" stays literal. */
    assert_int_equal(scan("<a href=\"java&amp;#115;cript:x\">"), 0);
    parts_are(0);
    /* Out of Unicode range: U+FFFD, not ':'. */
    assert_int_equal(scan("<a href=\"javascript&#x11000003a;x\">"), 0);
    parts_are(0);
    /* "&#;" and "&#x;" are literal text. */
    assert_int_equal(scan("<a href=\"javascript&#;x&#x;\">"), 0);
    parts_are(0);
}

static void test_leading_space_and_controls(void **state)
{
    (void)state;
    assert_int_equal(scan("<a href=\"  \x01\x02\x1f javascript:x()\">"), HTML_F_SCRIPT);
    parts_are(1, "  \x01\x02\x1f javascript:x()");
    assert_int_equal(scan("<a href=\"java\tscr\nipt\r:y()\">"), HTML_F_SCRIPT);
    parts_are(1, "java\tscr\nipt\r:y()");
}

static void test_vbscript(void **state)
{
    (void)state;
    assert_int_equal(scan("<a href=\"vbscript:MsgBox(1)\">x</a>"), HTML_F_SCRIPT);
    parts_are(1, "vbscript:MsgBox(1)");
    assert_int_equal(scan("<img src=\"VBScript:x\">"), HTML_F_SCRIPT);
    parts_are(1, "VBScript:x");
}

static void test_meta_refresh(void **state)
{
    (void)state;
    assert_int_equal(scan("<meta http-equiv=\"refresh\" content=\"0;url=javascript:x\">"),
                     HTML_F_SCRIPT);
    parts_are(1, "0;url=javascript:x");
    assert_int_equal(scan("<meta http-equiv=refresh content=\"5; URL=https://example.jp/\">"), 0);
    parts_are(0);
}

static void test_data_and_other_urls(void **state)
{
    (void)state;
    assert_int_equal(scan("<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">"
                          "<img src=\"https://example.jp/javascript.png\">"
                          "<a href=\"mailto:script@example.jp\">"),
                     0);
    parts_are(0);
}

static void test_script_url_in_style(void **state)
{
    (void)state;
    /* A scheme anywhere in the value counts (old IE ran url(javascript:)). */
    assert_int_equal(scan("<div style=\"background:url(javascript:x())\">"), HTML_F_SCRIPT);
    parts_are(1, "background:url(javascript:x())");
}

static void test_script_url_scan_limit(void **state)
{
    (void)state;
    /* The scheme is searched in the first HTML_URL_SCAN_MAX normalised
     * bytes; dropped bytes (spaces) do not count. */
    char html[4 * HTML_URL_SCAN_MAX];
    size_t pad = HTML_URL_SCAN_MAX - strlen("javascript:");
    int n = snprintf(html, sizeof(html), "<a href=\"%*sjavascript:\">", (int)(2 * pad), "");
    assert_true(n > 0 && (size_t)n < sizeof(html));
    assert_int_equal(scan(html), HTML_F_SCRIPT);
    assert_int_equal(col.calls, 1);
    memset(html, 0, sizeof(html));
    memcpy(html, "<a href=\"", 9);
    memset(html + 9, 'x', pad + 1);
    memcpy(html + 9 + pad + 1, "javascript:\">", 13);
    assert_int_equal(scan(html), 0);
    parts_are(0);
    html[9 + pad] = ' ';
    assert_int_equal(scan(html), HTML_F_SCRIPT);
    assert_int_equal(col.calls, 1);
}

/* ---- ActiveX, object, embed, applet ---- */

static void test_object_classid(void **state)
{
    (void)state;
    const char *tag =
        "<object classid=\"clsid:D27CDB6E-AE6D-11cf-96B8-444553540000\" width=1 height=1>";
    char html[256];
    snprintf(html, sizeof(html), "<p>x</p>%s<param name=movie value=a.swf></object>", tag);
    assert_int_equal(scan(html), HTML_F_ACTIVEX);
    parts_are(1, tag);
}

static void test_object_codebase(void **state)
{
    (void)state;
    assert_int_equal(scan("<OBJECT CODEBASE=\"http://evil.example/x.cab#version=1,0\" ID=a>"),
                     HTML_F_ACTIVEX);
    parts_are(1, "<OBJECT CODEBASE=\"http://evil.example/x.cab#version=1,0\" ID=a>");
    /* An empty codebase is still the attribute. */
    assert_int_equal(scan("<object codebase>"), HTML_F_ACTIVEX);
    parts_are(1, "<object codebase>");
}

static void test_object_data_only(void **state)
{
    (void)state;
    assert_int_equal(scan("<object data=\"x.swf\" type=\"application/x-shockwave-flash\">"
                          "</object>"),
                     0);
    parts_are(1, "<object data=\"x.swf\" type=\"application/x-shockwave-flash\">");
}

static void test_embed_and_applet(void **state)
{
    (void)state;
    assert_int_equal(scan("<embed src=\"movie.swf\" width=5><applet code=Evil.class "
                          "archive=e.jar></applet>"),
                     0);
    parts_are(2, "<embed src=\"movie.swf\" width=5>", "<applet code=Evil.class archive=e.jar>");
    /* classid on embed or applet is not how ActiveX is embedded. */
    assert_int_equal(scan("<EMBED classid=clsid:1>"), 0);
    parts_are(1, "<EMBED classid=clsid:1>");
}

static void test_object_with_handler(void **state)
{
    (void)state;
    /* The handler value, then the whole tag. */
    assert_int_equal(scan("<object classid=clsid:1 onerror=\"x()\">"),
                     HTML_F_ACTIVEX | HTML_F_SCRIPT);
    parts_are(2, "x()", "<object classid=clsid:1 onerror=\"x()\">");
    /* An unterminated object tag runs to the end of the input. */
    assert_int_equal(scan("<object classid='clsid:1"), HTML_F_ACTIVEX);
    parts_are(1, "<object classid='clsid:1");
}

/* ---- malformed input ---- */

static void test_lt_at_end(void **state)
{
    (void)state;
    assert_int_equal(scan("<p>text<"), 0);
    parts_are(0);
    assert_int_equal(scan("<"), 0);
    parts_are(0);
    assert_int_equal(scan("<p>text</"), 0);
    parts_are(0);
    assert_int_equal(scan("<!-"), 0);
    parts_are(0);
}

static void test_tag_at_end(void **state)
{
    (void)state;
    assert_int_equal(scan("<p>text<a"), 0);
    parts_are(0);
    assert_int_equal(scan("<a onclick"), 0);
    parts_are(0);
    assert_int_equal(scan("<a onclick="), 0);
    parts_are(0);
    assert_int_equal(scan("<a onclick=x"), HTML_F_SCRIPT);
    parts_are(1, "x");
    assert_int_equal(scan("<script"), HTML_F_SCRIPT);
    parts_are(0);
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    /* The value runs to the end of the input. */
    assert_int_equal(scan("<a href=\"javascript:x()\n<p>more text"), HTML_F_SCRIPT);
    parts_are(1, "javascript:x()\n<p>more text");
    /* A script inside the unterminated value is not a tag. */
    assert_int_equal(scan("<a title=\"x <script>y()</script>"), 0);
    parts_are(0);
    assert_int_equal(scan("<p onclick='a()"), HTML_F_SCRIPT);
    parts_are(1, "a()");
}

static void test_long_names(void **state)
{
    (void)state;
    char html[256];
    char letters[HTML_NAME_MAX * 2 + 1];
    memset(letters, 'q', sizeof(letters) - 1);
    letters[sizeof(letters) - 1] = '\0';
    /* "on" and 64 letters: a handler (its first HTML_NAME_MAX bytes say so). */
    snprintf(html, sizeof(html), "<p on%s=\"a()\">", letters);
    assert_int_equal(scan(html), HTML_F_SCRIPT);
    parts_are(1, "a()");
    /* A long name that ends in "onclick" is not a handler. */
    snprintf(html, sizeof(html), "<p %sonclick=\"b()\">", letters);
    assert_int_equal(scan(html), 0);
    parts_are(0);
    /* A digit past HTML_NAME_MAX is not looked at. */
    snprintf(html, sizeof(html), "<p on%s1=\"c()\">", letters);
    assert_int_equal(scan(html), HTML_F_SCRIPT);
    parts_are(1, "c()");
    /* A long tag name starting with "script" is another element. */
    snprintf(html, sizeof(html), "<script%s>d()</script>", letters);
    assert_int_equal(scan(html), 0);
    parts_are(0);
}

static void test_attribute_starting_with_equals(void **state)
{
    (void)state;
    assert_int_equal(scan("<a =x>y</a>"), 0);
    parts_are(0);
    assert_int_equal(scan("<a =x onclick=y()>"), HTML_F_SCRIPT);
    parts_are(1, "y()");
    assert_int_equal(scan("<a ==\"javascript:z\">"), HTML_F_SCRIPT); /* name "=", value */
    parts_are(1, "javascript:z");
}

static void test_nul_bytes(void **state)
{
    (void)state;
    static const char a[] = "<p>\0</p><script>a\0b</script>\0";
    assert_int_equal(scan_n(a, sizeof(a) - 1), HTML_F_SCRIPT);
    assert_int_equal(col.calls, 1);
    part_n_is(0, "a\0b", 3);
    /* A NUL inside a scheme is dropped like other control bytes. */
    static const char b[] = "<a href=\"java\0script:x\">";
    assert_int_equal(scan_n(b, sizeof(b) - 1), HTML_F_SCRIPT);
    assert_int_equal(col.calls, 1);
    part_n_is(0, "java\0script:x", 13);
    /* A NUL in a tag or attribute name makes another name. */
    static const char c[] = "<script\0x>c()</script><p onclick\0=\"d()\">";
    assert_int_equal(scan_n(c, sizeof(c) - 1), 0);
    parts_are(0);
}

static void test_never_reads_outside(void **state)
{
    (void)state;
    /* Every prefix of a document, each in a buffer of exactly its size
     * (under ASan in the sanitizer build). */
    static const char doc[] = "<!--[if IE]><object classid=\"clsid:1\"><![endif]-->"
                              "<script><!--<script></script>x</script>"
                              "<a href=\"&#x6A;avascript&colon;y\" onclick='z'>"
                              "<style>s</style><![CDATA[>]]><? x ?></p a='b'>";
    for (size_t n = 0; n <= sizeof(doc) - 1; n++) {
        char *m = malloc(n ? n : 1);
        assert_non_null(m);
        memcpy(m, doc, n);
        unsigned flags = scan_n(m, n);
        assert_true((flags & ~(HTML_F_SCRIPT | HTML_F_ACTIVEX)) == 0);
        free(m);
    }
    assert_int_equal(scan(doc), HTML_F_SCRIPT | HTML_F_ACTIVEX);
    parts_are(4, "<object classid=\"clsid:1\">", "<!--<script></script>x",
              "&#x6A;avascript&colon;y", "z");
}

/* ---- stopping ---- */

static void test_callback_stops(void **state)
{
    (void)state;
    const char *html = "<script>a()</script><p onclick=b()><object classid=x>";
    memset(&col, 0, sizeof(col));
    col.in = html;
    col.len = strlen(html);
    col.stop_after = 1;
    assert_int_equal(html_scan(html, col.len, collect_fn, &col), HTML_F_SCRIPT);
    parts_are(1, "a()");
    /* Without a stop: all three, and the ActiveX flag. */
    assert_int_equal(scan(html), HTML_F_SCRIPT | HTML_F_ACTIVEX);
    parts_are(3, "a()", "b()", "<object classid=x>");
    /* Stopping on the second part. */
    memset(&col, 0, sizeof(col));
    col.in = html;
    col.len = strlen(html);
    col.stop_after = 2;
    assert_int_equal(html_scan(html, col.len, collect_fn, &col), HTML_F_SCRIPT);
    parts_are(2, "a()", "b()");
    /* Stopping on a handler: the tag holding it is not handed over. */
    html = "<object onerror=\"x()\" classid=y>";
    memset(&col, 0, sizeof(col));
    col.in = html;
    col.len = strlen(html);
    col.stop_after = 1;
    assert_int_equal(html_scan(html, col.len, collect_fn, &col), HTML_F_SCRIPT);
    parts_are(1, "x()");
}

/* ---- hostile sizes: linear time ---- */

static char *repeat(const char *unit, size_t total, size_t *len)
{
    size_t u = strlen(unit);
    char *m = malloc(total);
    assert_non_null(m);
    size_t n = 0;
    while (n + u <= total) {
        memcpy(m + n, unit, u);
        n += u;
    }
    *len = n;
    return m;
}

static void test_hostile_repetitions(void **state)
{
    (void)state;
    /* Each of these would take minutes if any step were quadratic. */
    static const char *const units[] = {
        "<",
        "<a a a a ",
        "<a",
        "<!--",
        "<style>",
        "<![CDATA[>",
        "<!",
        "<?",
        "</",
        "<script>",
        "<script><!--",
        "<a x=\"",
        "--><a x='",
        "<!--<a x=\"",
        "&#0",
        "<a href=&#0000",
        "<p onclick=",
        "<object ",
        "</style",
        "<title><!-- ",
        "<!--<a x=\"-->",
        "<style><a x='</style>",
        "<![CDATA[ > <a x=\"]]>",
        "<!-- <script>a -->",
        "<script><!--<script>",
        "<noscript><!-- <a x=\"-->\">",
        "<!-- -",
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t len;
        char *m = repeat(units[i], 1u << 20, &len);
        print_message("1 MiB of %s\n", units[i]);
        unsigned flags = scan_n(m, len);
        assert_true((flags & ~(HTML_F_SCRIPT | HTML_F_ACTIVEX)) == 0);
        free(m);
    }
}

static void test_hostile_values(void **state)
{
    (void)state;
    /* One 1 MiB attribute value of spaces before the scheme. */
    size_t len = 1u << 20;
    char *m = malloc(len);
    assert_non_null(m);
    memset(m, ' ', len);
    memcpy(m, "<a href=\"", 9);
    memcpy(m + len - 13, "javascript:\">", 13);
    assert_int_equal(scan_n(m, len), HTML_F_SCRIPT);
    assert_int_equal(col.calls, 1);
    assert_int_equal(col.part[0].len, len - 9 - 2);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_html),
        cmocka_unit_test(test_text_mentions_script),
        cmocka_unit_test(test_excluded_attributes),
        cmocka_unit_test(test_empty_and_null_input),
        cmocka_unit_test(test_script_simple),
        cmocka_unit_test(test_script_case),
        cmocka_unit_test(test_script_unterminated),
        cmocka_unit_test(test_script_src_only),
        cmocka_unit_test(test_two_scripts),
        cmocka_unit_test(test_script_end_tag_needs_delimiter),
        cmocka_unit_test(test_script_escaped_body),
        cmocka_unit_test(test_script_in_comment),
        cmocka_unit_test(test_ie_conditional_comments),
        cmocka_unit_test(test_script_in_raw_text),
        cmocka_unit_test(test_comment_end_closes_quotes),
        cmocka_unit_test(test_tag_read_past_comment_end),
        cmocka_unit_test(test_raw_text_end_closes_quotes),
        cmocka_unit_test(test_bogus_comment_closes_quotes),
        cmocka_unit_test(test_end_tag_attributes),
        cmocka_unit_test(test_cdata_section),
        cmocka_unit_test(test_event_handler_quoted),
        cmocka_unit_test(test_event_handler_unquoted),
        cmocka_unit_test(test_not_event_handlers),
        cmocka_unit_test(test_empty_event_handler),
        cmocka_unit_test(test_several_handlers),
        cmocka_unit_test(test_javascript_href),
        cmocka_unit_test(test_char_ref_evasions),
        cmocka_unit_test(test_char_refs_that_are_not_schemes),
        cmocka_unit_test(test_leading_space_and_controls),
        cmocka_unit_test(test_vbscript),
        cmocka_unit_test(test_meta_refresh),
        cmocka_unit_test(test_data_and_other_urls),
        cmocka_unit_test(test_script_url_in_style),
        cmocka_unit_test(test_script_url_scan_limit),
        cmocka_unit_test(test_object_classid),
        cmocka_unit_test(test_object_codebase),
        cmocka_unit_test(test_object_data_only),
        cmocka_unit_test(test_embed_and_applet),
        cmocka_unit_test(test_object_with_handler),
        cmocka_unit_test(test_lt_at_end),
        cmocka_unit_test(test_tag_at_end),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_long_names),
        cmocka_unit_test(test_attribute_starting_with_equals),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_never_reads_outside),
        cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_hostile_repetitions),
        cmocka_unit_test(test_hostile_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
