/* Unit tests for proto/template_parse: rendering (G-30), validation
 * (CFG-4), mail header handling (TPL-2) and RFC 2047 encoding (G-31). */
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
#include "proto/template_parse.h"

/* The names of guide chapter 7.3, written out independently of the
 * module's table so that a typo there fails here. */
static const char *const guide_names[] = {
    "SERVICE_TYPE", "DETECTION_NAME", "VIRUS_INFO_URL", "CLIENT_HOST",     "CLIENT_ADDR",
    "SERVER_HOST",  "SERVER_ADDR",    "STATUS",         "METHOD",          "URL",
    "CONTENT_TYPE", "CONTENT_LENGTH", "FILENAME",       "QUARANTINE_FILE", "TIME",
    "TIME_STR",     "HEADER",         "TEXT",           "MAILFROM",        "RCPTTO",
    "MESSAGE_ID",   "ERROR_STR",      "ACTION",         "PATH_QUERY",      "X_FORWARDED_FOR",
};

#define OUT_CAP 16384

/* render - render tpl into a fresh buffer of cap bytes; returns the result
 * and copies the output, NUL-terminated, into static storage. */
static char rendered[OUT_CAP + 1];
static enum template_parse_result render(const char *tpl, enum template_parse_mode mode,
                                         const struct template_parse_var *vars, size_t n,
                                         size_t cap)
{
    static char mem[OUT_CAP];
    struct buf b;
    assert_true(cap <= sizeof(mem));
    buf_init(&b, mem, cap);
    enum template_parse_result r = template_parse_render(str_from_cstr(tpl), mode, vars, n, &b);
    memcpy(rendered, buf_rptr(&b), buf_len(&b));
    rendered[buf_len(&b)] = '\0';
    return r;
}

static void test_var_names(void **state)
{
    (void)state;
    assert_int_equal(sizeof(guide_names) / sizeof(guide_names[0]), TEMPLATE_VAR_COUNT);
    struct template_parse_var vars[TEMPLATE_VAR_COUNT];
    template_parse_vars_init(vars);
    for (size_t i = 0; i < TEMPLATE_VAR_COUNT; i++) {
        assert_string_equal(template_parse_var_name((enum template_parse_var_id)i), guide_names[i]);
        assert_string_equal(vars[i].name, guide_names[i]);
        assert_null(vars[i].value.ptr);
    }
    assert_string_equal(template_parse_var_name(TEMPLATE_VAR_COUNT), "?");
    assert_string_equal(template_parse_result_name(TEMPLATE_PARSE_TOO_LONG), "TOO_LONG");
    assert_string_equal(template_parse_mode_name(TEMPLATE_PARSE_HTML), "html");
    assert_string_equal(template_parse_check_name(TEMPLATE_CHECK_TOO_BIG),
                        "template larger than 9000 bytes");
}

/* Every variable, with both sigils, in every mode. */
static void test_every_variable(void **state)
{
    (void)state;
    static char values[TEMPLATE_VAR_COUNT][32];
    static char tpl[4096], want[4096];
    struct template_parse_var vars[TEMPLATE_VAR_COUNT];
    template_parse_vars_init(vars);
    size_t tl = 0, wl = 0;
    for (size_t i = 0; i < TEMPLATE_VAR_COUNT; i++) {
        snprintf(values[i], sizeof(values[i]), "value-%zu", i);
        vars[i].value = str_from_cstr(values[i]);
        tl += (size_t)snprintf(tpl + tl, sizeof(tpl) - tl, "%s=${%s} #{%s};", guide_names[i],
                               guide_names[i], guide_names[i]);
        wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%s=%s %s;", guide_names[i], values[i],
                               values[i]);
    }
    const enum template_parse_mode modes[] = {TEMPLATE_PARSE_TEXT, TEMPLATE_PARSE_HTML,
                                              TEMPLATE_PARSE_MAIL};
    for (size_t m = 0; m < 3; m++) {
        assert_int_equal(render(tpl, modes[m], vars, TEMPLATE_VAR_COUNT, OUT_CAP),
                         TEMPLATE_PARSE_DONE);
        assert_string_equal(rendered, want);
    }
}

static void test_html_escaping(void **state)
{
    (void)state;
    struct template_parse_var vars[] = {
        {"URL", STR_LIT("http://x/?a=1&b=<script>\"'")},
    };
    assert_int_equal(render("<a href=\"${URL}\">#{URL}</a>", TEMPLATE_PARSE_HTML, vars, 1, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "<a href=\"http://x/?a=1&amp;b=&lt;script&gt;&quot;&#39;\">"
                                  "http://x/?a=1&b=<script>\"'</a>");
    /* Text and mail bodies: both raw. */
    assert_int_equal(render("${URL}|#{URL}", TEMPLATE_PARSE_TEXT, vars, 1, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "http://x/?a=1&b=<script>\"'|http://x/?a=1&b=<script>\"'");
    /* Template text itself is never escaped. */
    assert_int_equal(render("<b>&amp;</b>", TEMPLATE_PARSE_HTML, vars, 1, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "<b>&amp;</b>");
}

static void test_unknown_and_unset(void **state)
{
    (void)state;
    struct template_parse_var vars[] = {
        {"URL", STR_NULL},         /* unset: left as is */
        {"FILENAME", STR_LIT("")}, /* set but empty: replaced by nothing */
        {"METHOD", STR_LIT("GET")},
    };
    assert_int_equal(render("${NOPE} #{NOPE} ${URL} #{URL} [${FILENAME}] ${METHOD}",
                            TEMPLATE_PARSE_HTML, vars, 3, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "${NOPE} #{NOPE} ${URL} #{URL} [] GET");
    /* Names are case-sensitive. */
    assert_int_equal(render("${method}", TEMPLATE_PARSE_TEXT, vars, 3, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "${method}");
    /* No variables at all. */
    assert_int_equal(render("${METHOD}", TEMPLATE_PARSE_TEXT, NULL, 0, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "${METHOD}");
}

static void test_literal_sigils(void **state)
{
    (void)state;
    struct template_parse_var vars[] = {{"URL", STR_LIT("U")}};
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"$", "$"},
        {"#", "#"},
        {"cost $5 #1", "cost $5 #1"},
        {"${", "${"},
        {"#{", "#{"},
        {"${URL", "${URL"},
        {"x ${URL y}", "x ${URL y}"},
        {"${ URL}", "${ URL}"},
        {"${}", "${}"},
        {"$ {URL}", "$ {URL}"},
        {"$${URL}", "$U"},
        {"#${URL}#", "#U#"},
        {"${URL}${URL}#{URL}", "UUU"},
        {"${URL}}", "U}"},
        {"{${URL}}", "{U}"},
        {"${${URL}}", "${U}"},
        {"a#{URL", "a#{URL"},
        {"end$", "end$"},
        {"color:#fff; ${URL}", "color:#fff; U"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(render(cases[i].in, TEMPLATE_PARSE_HTML, vars, 1, OUT_CAP),
                         TEMPLATE_PARSE_DONE);
        assert_string_equal(rendered, cases[i].out);
    }
    /* A name longer than TEMPLATE_PARSE_NAME_MAX is literal even when the
     * caller offers it; one of exactly the maximum is looked up. */
    char longname[TEMPLATE_PARSE_NAME_MAX + 2], tpl[64];
    memset(longname, 'A', sizeof(longname) - 1);
    longname[TEMPLATE_PARSE_NAME_MAX + 1] = '\0';
    struct template_parse_var lv[] = {{longname, STR_LIT("L")}};
    snprintf(tpl, sizeof(tpl), "${%s}", longname);
    assert_int_equal(render(tpl, TEMPLATE_PARSE_TEXT, lv, 1, OUT_CAP), TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, tpl);
    longname[TEMPLATE_PARSE_NAME_MAX] = '\0';
    snprintf(tpl, sizeof(tpl), "${%s}", longname);
    assert_int_equal(render(tpl, TEMPLATE_PARSE_TEXT, lv, 1, OUT_CAP), TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "L");
}

/* Values are inserted once and never rescanned. */
static void test_no_rescan(void **state)
{
    (void)state;
    struct template_parse_var vars[] = {
        {"URL", STR_LIT("${ERROR_STR}#{ERROR_STR}")},
        {"ERROR_STR", STR_LIT("boom")},
    };
    assert_int_equal(render("${URL} ${ERROR_STR}", TEMPLATE_PARSE_TEXT, vars, 2, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "${ERROR_STR}#{ERROR_STR} boom");
}

/* Values may hold NUL and other bytes; the template need not be
 * terminated. */
static void test_binary_safe(void **state)
{
    (void)state;
    struct template_parse_var vars[] = {{"TEXT", str_make("a\0b", 3)}};
    char mem[32];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_int_equal(template_parse_render(str_make("x#{TEXT}y\0${TEXT}zzz", 20),
                                           TEMPLATE_PARSE_TEXT, vars, 1, &b),
                     TEMPLATE_PARSE_DONE);
    assert_int_equal(buf_len(&b), 12);
    assert_memory_equal(buf_rptr(&b), "xa\0by\0a\0bzzz", 12);
}

/* Overflow: exact fit is DONE, one byte less is TOO_LONG and leaves the
 * buffer as it was, whether the overflow is in text, value or escape. */
static void test_output_overflow(void **state)
{
    (void)state;
    struct template_parse_var vars[] = {{"URL", STR_LIT("a<b")}};
    const char *tpl = "<p>${URL}</p>";
    const char *want = "<p>a&lt;b</p>";
    size_t wl = strlen(want);
    for (size_t cap = 0; cap <= wl + 1; cap++) {
        char mem[64];
        struct buf b;
        buf_init(&b, mem, sizeof(mem));
        assert_true(buf_append_cstr(&b, "PRE"));
        b.cap = 3 + cap; /* room for exactly cap more bytes */
        enum template_parse_result r =
            template_parse_render(str_from_cstr(tpl), TEMPLATE_PARSE_HTML, vars, 1, &b);
        if (cap >= wl) {
            assert_int_equal(r, TEMPLATE_PARSE_DONE);
            assert_int_equal(buf_len(&b), 3 + wl);
            assert_memory_equal(buf_rptr(&b), "PRE<p>a&lt;b</p>", 3 + wl);
        } else {
            assert_int_equal(r, TEMPLATE_PARSE_TOO_LONG);
            assert_int_equal(buf_len(&b), 3);
            assert_memory_equal(buf_rptr(&b), "PRE", 3);
        }
    }
}

/* MAIL mode: in the template's header section a value cannot add lines. */
static void test_mail_header_injection(void **state)
{
    (void)state;
    struct template_parse_var vars[] = {
        {"FILENAME", STR_LIT("x.exe\r\nFrom: evil@example.com\n\nBcc: a@b")},
        {"HEADER", STR_LIT("Received: by x\r\n\tfolded\r\n")},
    };
    const char *tpl = "Subject: ${FILENAME}\nFrom: gw@example.org\n\nfile ${FILENAME}\n#{HEADER}";
    assert_int_equal(render(tpl, TEMPLATE_PARSE_MAIL, vars, 2, OUT_CAP), TEMPLATE_PARSE_DONE);
    assert_string_equal(rendered, "Subject: x.exe  From: evil@example.com  Bcc: a@b\n"
                                  "From: gw@example.org\n\n"
                                  "file x.exe\r\nFrom: evil@example.com\n\nBcc: a@b\n"
                                  "Received: by x\r\n\tfolded\r\n");
    struct str h, body;
    assert_true(template_parse_split_mail(str_from_cstr(rendered), &h, &body));
    assert_true(str_eq_cstr(template_parse_mail_from(h), "gw@example.org"));
    /* TEXT mode does no such thing. */
    assert_int_equal(render("Subject: ${FILENAME}\n\n", TEMPLATE_PARSE_TEXT, vars, 1, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_non_null(strstr(rendered, "\r\nFrom: evil"));
    /* A template without a header section is all body: values stay raw. */
    assert_int_equal(render("Dear user ${FILENAME}", TEMPLATE_PARSE_MAIL, vars, 1, OUT_CAP),
                     TEMPLATE_PARSE_DONE);
    assert_non_null(strstr(rendered, "\r\nFrom: evil"));
}

/* ---- validation ---- */

static enum template_parse_check check(const char *s, size_t n, struct template_parse_pos *pos)
{
    return template_parse_validate(str_make(s, n), TEMPLATE_PARSE_MAX_BYTES, pos);
}

static void test_size_limit(void **state)
{
    (void)state;
    char *big = malloc(TEMPLATE_PARSE_MAX_BYTES + 1);
    assert_non_null(big);
    memset(big, 'a', TEMPLATE_PARSE_MAX_BYTES + 1);
    struct template_parse_pos pos;
    assert_int_equal(check(big, TEMPLATE_PARSE_MAX_BYTES, &pos), TEMPLATE_CHECK_OK);
    assert_int_equal(check(big, TEMPLATE_PARSE_MAX_BYTES + 1, &pos), TEMPLATE_CHECK_TOO_BIG);
    assert_int_equal(pos.offset, TEMPLATE_PARSE_MAX_BYTES);
    /* The limit is in bytes, not characters: 3000 three-byte characters
     * fill it exactly. */
    for (size_t i = 0; i + 3 <= TEMPLATE_PARSE_MAX_BYTES; i += 3)
        memcpy(big + i, "\xE3\x81\x82", 3);
    assert_int_equal(check(big, TEMPLATE_PARSE_MAX_BYTES, &pos), TEMPLATE_CHECK_OK);
    big[TEMPLATE_PARSE_MAX_BYTES] = 'x';
    assert_int_equal(check(big, TEMPLATE_PARSE_MAX_BYTES + 1, &pos), TEMPLATE_CHECK_TOO_BIG);
    /* Another limit can be asked for. */
    assert_int_equal(template_parse_validate(STR_LIT("abcd"), 3, NULL), TEMPLATE_CHECK_TOO_BIG);
    assert_int_equal(template_parse_validate(STR_LIT("abc"), 3, NULL), TEMPLATE_CHECK_OK);
    free(big);
}

static void test_utf8_validation(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t n;
        enum template_parse_check want;
    } cases[] = {
#define C(lit, w) {lit, sizeof(lit) - 1, w}
        C("", TEMPLATE_CHECK_OK),
        C("plain ascii\n", TEMPLATE_CHECK_OK),
        C("\xC2\x80", TEMPLATE_CHECK_OK),                 /* U+0080 */
        C("\xDF\xBF", TEMPLATE_CHECK_OK),                 /* U+07FF */
        C("\xE0\xA0\x80", TEMPLATE_CHECK_OK),             /* U+0800 */
        C("\xE6\x97\xA5\xE6\x9C\xAC", TEMPLATE_CHECK_OK), /* 日本 */
        C("\xED\x9F\xBF", TEMPLATE_CHECK_OK),             /* U+D7FF */
        C("\xEE\x80\x80", TEMPLATE_CHECK_OK),             /* U+E000 */
        C("\xEF\xBB\xBF", TEMPLATE_CHECK_OK),             /* BOM */
        C("\xF0\x90\x80\x80", TEMPLATE_CHECK_OK),         /* U+10000 */
        C("\xF4\x8F\xBF\xBF", TEMPLATE_CHECK_OK),         /* U+10FFFF */
        C("a\0b", TEMPLATE_CHECK_NUL),
        C("\x80", TEMPLATE_CHECK_UTF8_BAD_BYTE),
        C("\xBF", TEMPLATE_CHECK_UTF8_BAD_BYTE),
        C("\xF8\x88\x80\x80\x80", TEMPLATE_CHECK_UTF8_BAD_BYTE),
        C("\xFE", TEMPLATE_CHECK_UTF8_BAD_BYTE),
        C("\xFF", TEMPLATE_CHECK_UTF8_BAD_BYTE),
        C("\xC0\x80", TEMPLATE_CHECK_UTF8_OVERLONG), /* overlong NUL */
        C("\xC1\xBF", TEMPLATE_CHECK_UTF8_OVERLONG),
        C("\xE0\x80\xAF", TEMPLATE_CHECK_UTF8_OVERLONG), /* overlong '/' */
        C("\xE0\x9F\xBF", TEMPLATE_CHECK_UTF8_OVERLONG),
        C("\xF0\x80\x80\xAF", TEMPLATE_CHECK_UTF8_OVERLONG),
        C("\xF0\x8F\xBF\xBF", TEMPLATE_CHECK_UTF8_OVERLONG),
        C("\xED\xA0\x80", TEMPLATE_CHECK_UTF8_SURROGATE), /* U+D800 */
        C("\xED\xBF\xBF", TEMPLATE_CHECK_UTF8_SURROGATE), /* U+DFFF */
        C("\xF4\x90\x80\x80", TEMPLATE_CHECK_UTF8_RANGE), /* U+110000 */
        C("\xF5\x80\x80\x80", TEMPLATE_CHECK_UTF8_RANGE),
        C("\xF7\xBF\xBF\xBF", TEMPLATE_CHECK_UTF8_RANGE),
        C("\xC2", TEMPLATE_CHECK_UTF8_TRUNCATED),
        C("\xE3\x81", TEMPLATE_CHECK_UTF8_TRUNCATED),
        C("\xE3\x81"
          "A",
          TEMPLATE_CHECK_UTF8_TRUNCATED),
        C("\xF0\x9F\x98", TEMPLATE_CHECK_UTF8_TRUNCATED),
        C("\xC3\xC3\xA9", TEMPLATE_CHECK_UTF8_TRUNCATED),
#undef C
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct template_parse_pos pos;
        enum template_parse_check got = check(cases[i].s, cases[i].n, &pos);
        if (got != cases[i].want)
            fail_msg("case %zu: got %s, want %s", i, template_parse_check_name(got),
                     template_parse_check_name(cases[i].want));
    }
}

static void test_utf8_position(void **state)
{
    (void)state;
    struct template_parse_pos pos;
    const char t[] = "line one\n\xE6\x97\xA5 two\nab\xED\xA0\x80 three\n";
    assert_int_equal(check(t, sizeof(t) - 1, &pos), TEMPLATE_CHECK_UTF8_SURROGATE);
    assert_int_equal(pos.line, 3);
    assert_int_equal(pos.column, 3);
    assert_int_equal(pos.offset, 9 + 8 + 2);
    assert_int_equal(check("abc", 3, &pos), TEMPLATE_CHECK_OK);
    assert_int_equal(pos.line, 1);
    assert_int_equal(check("\x80", 1, &pos), TEMPLATE_CHECK_UTF8_BAD_BYTE);
    assert_int_equal(pos.offset, 0);
    assert_int_equal(pos.line, 1);
    assert_int_equal(pos.column, 1);
}

/* ---- mail header section ---- */

static void split(const char *s, bool want_found, const char *want_h, const char *want_b)
{
    struct str h, b;
    bool found = template_parse_split_mail(str_from_cstr(s), &h, &b);
    if (found != want_found || !str_eq_cstr(h, want_h) || !str_eq_cstr(b, want_b))
        fail_msg("split of \"%s\": found %d header \"%.*s\" body \"%.*s\"", s, found, (int)h.len,
                 h.ptr, (int)b.len, b.ptr);
}

static void test_split_mail(void **state)
{
    (void)state;
    split("Subject: hi\nFrom: a@b\n\nbody\n\nmore\n", true, "Subject: hi\nFrom: a@b\n",
          "body\n\nmore\n");
    split("Subject: hi\r\n\r\nbody\r\n", true, "Subject: hi\r\n", "body\r\n");
    split("Subject: hi\n continued\n\nbody", true, "Subject: hi\n continued\n", "body");
    split("Subject: only a header\n", true, "Subject: only a header\n", "");
    split("Subject: x", true, "Subject: x", "");
    split("Subject: x\n\n", true, "Subject: x\n", "");
    split("\nbody only\n", true, "", "body only\n");
    split("\r\nbody only\n", true, "", "body only\n");
    split("Dear user,\n\nA virus.\n", false, "", "Dear user,\n\nA virus.\n");
    split(": no name\n\nx", false, "", ": no name\n\nx");
    split("Sub ject: x\n\nx", false, "", "Sub ject: x\n\nx");
    split("", false, "", "");
    /* Whitespace-only lines are not blank (they are continuation lines). */
    split("Subject: a\n \nX: b\n\nbody", true, "Subject: a\n \nX: b\n", "body");
}

static void test_header_find(void **state)
{
    (void)state;
    struct str h = STR_LIT("Subject: hello\r\n world\r\nfrom:   A <a@b>  \r\nX-From: no\r\n"
                           "\r\nFrom: body@x\r\n");
    struct str v;
    assert_true(template_parse_header_find(h, "Subject", &v));
    assert_true(str_eq_cstr(v, "hello\r\n world"));
    assert_true(template_parse_header_find(h, "FROM", &v));
    assert_true(str_eq_cstr(v, "A <a@b>"));
    assert_true(template_parse_header_find(h, "x-from", &v));
    assert_true(str_eq_cstr(v, "no"));
    assert_false(template_parse_header_find(h, "To", &v));
    assert_false(template_parse_header_find(STR_LIT("Subject:x"), "Subj", &v));
    assert_true(template_parse_header_find(STR_LIT("Subject:"), "Subject", &v));
    assert_int_equal(v.len, 0);
}

static void mail_from(const char *header, const char *want)
{
    struct str a = template_parse_mail_from(str_from_cstr(header));
    if (!str_eq_cstr(a, want))
        fail_msg("From of \"%s\": got \"%.*s\", want \"%s\"", header, (int)a.len,
                 a.ptr ? a.ptr : "", want);
}

static void test_mail_from(void **state)
{
    (void)state;
    mail_from("Subject: x\nFrom: admin@example.com\n", "admin@example.com");
    mail_from("From: Virus Wall <gw@example.org>\n", "gw@example.org");
    mail_from("From: \"Wall, <Virus>\" <gw@example.org>\n", "gw@example.org");
    mail_from("From: gw@example.org (Virus Wall)\n", "gw@example.org");
    mail_from("From: (a <x@y> comment) gw@example.org\n", "gw@example.org");
    mail_from("from:\tgw@example.org\r\n", "gw@example.org");
    mail_from("From: \xE9\x96\xA2\xE6\x89\x80 <sekisho@example.jp>\n", "sekisho@example.jp");
    mail_from("From: Folded\n <gw@example.org>\n", "gw@example.org");
    mail_from("From: <postmaster@[192.0.2.1]>\n", "postmaster@[192.0.2.1]");
    mail_from("From: a.b+tag_x@mail-1.example.org\n", "a.b+tag_x@mail-1.example.org");
    mail_from("Subject: no from\n", "");
    mail_from("X-From: a@b.c\n", "");
    mail_from("Subject: x\n\nFrom: body@example.com\n", "");
    mail_from("From: <>\n", "");
    mail_from("From: no address here\n", "");
    mail_from("From: <unterminated@example.com\n", "");
    mail_from("From: a@b@c\n", "");
    mail_from("From: @example.com\n", "");
    mail_from("From: user@\n", "");
    mail_from("From: <a b@example.com>\n", "");
    mail_from("From: <\"q\"@example.com>\n", "");
    mail_from("From: <a@exa_mple.com>\n", "");
    mail_from("From: <a@example.com\r\nRCPT TO:<x@y>>\n", "");
    mail_from("From: <\xE9\x96\xA2@example.jp>\n", "");
}

/* ---- RFC 2047 ---- */

static int b64val(char c)
{
    const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = strchr(abc, c);
    return c && p ? (int)(p - abc) : -1;
}

/* decode_words - decode a sequence of =?UTF-8?B?...?= words separated by
 * sep into out; checks each word's shape and length. Returns bytes. */
static size_t decode_words(struct str s, const char *sep, unsigned char *out, size_t *nwords)
{
    size_t o = 0, seplen = strlen(sep);
    *nwords = 0;
    while (s.len) {
        if (*nwords) {
            assert_true(s.len > seplen && memcmp(s.ptr, sep, seplen) == 0);
            s = str_make(s.ptr + seplen, s.len - seplen);
        }
        assert_true(str_has_prefix(s, STR_LIT("=?UTF-8?B?")));
        const char *end = memmem(s.ptr + 10, s.len - 10, "?=", 2);
        assert_non_null(end);
        size_t wlen = (size_t)(end - s.ptr) + 2;
        assert_true(wlen <= 75); /* RFC 2047 2 */
        struct str b = str_make(s.ptr + 10, wlen - 12);
        assert_int_equal(b.len % 4, 0);
        size_t start = o;
        for (size_t i = 0; i < b.len; i += 4) {
            int v[4];
            for (int k = 0; k < 4; k++)
                v[k] = b.ptr[i + k] == '=' ? 0 : b64val(b.ptr[i + k]);
            for (int k = 0; k < 4; k++)
                assert_true(v[k] >= 0);
            unsigned x = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
            out[o++] = (unsigned char)(x >> 16);
            if (b.ptr[i + 2] != '=')
                out[o++] = (unsigned char)(x >> 8);
            if (b.ptr[i + 3] != '=')
                out[o++] = (unsigned char)x;
        }
        /* Each word holds whole UTF-8 characters (RFC 2047 5). */
        assert_int_equal(template_parse_validate(str_make((char *)out + start, o - start),
                                                 TEMPLATE_PARSE_MAX_BYTES, NULL),
                         TEMPLATE_CHECK_OK);
        (*nwords)++;
        s = str_make(end + 2, s.len - wlen);
    }
    return o;
}

static void test_rfc2047(void **state)
{
    (void)state;
    char mem[2048];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(
        template_parse_rfc2047(STR_LIT("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"), STR_LIT(" "), &b));
    assert_true(str_eq_cstr(buf_view(&b), "=?UTF-8?B?5pel5pys6Kqe?="));
    buf_reset(&b);
    assert_true(template_parse_rfc2047(STR_LIT("Hello"), STR_LIT(" "), &b));
    assert_true(str_eq_cstr(buf_view(&b), "=?UTF-8?B?SGVsbG8=?="));
    buf_reset(&b);
    assert_true(template_parse_rfc2047(STR_LIT(""), STR_LIT(" "), &b));
    assert_int_equal(buf_len(&b), 0);

    /* "a" + 13 three-byte characters: the 36-byte chunk must end before the
     * 12th character, which does not fit whole. */
    const char *text = "a\xE3\x82\xA6\xE3\x82\xA4\xE3\x83\xAB\xE3\x82\xB9\xE6\xA4\x9C"
                       "\xE5\x87\xBA\xE3\x81\xAE\xE3\x81\x8A\xE7\x9F\xA5\xE3\x82\x89"
                       "\xE3\x81\x9B\xE3\x81\xA7\xE3\x81\x99";
    buf_reset(&b);
    assert_true(template_parse_rfc2047(str_from_cstr(text), STR_LIT("\r\n "), &b));
    unsigned char dec[1024];
    size_t nwords;
    size_t n = decode_words(buf_view(&b), "\r\n ", dec, &nwords);
    assert_int_equal(nwords, 2);
    assert_int_equal(n, strlen(text));
    assert_memory_equal(dec, text, n);

    /* A long mixed text round-trips; CR and LF (folding) are dropped. */
    char longtext[600];
    size_t l = 0;
    for (int i = 0; l + 8 < sizeof(longtext); i++) {
        static const char *parts[] = {"x", "\xC3\xA9", "\xE9\x96\xA2", "\xF0\x9F\x98\x80", " "};
        const char *p = parts[i % 5];
        memcpy(longtext + l, p, strlen(p));
        l += strlen(p);
    }
    longtext[l] = '\0';
    buf_reset(&b);
    assert_true(template_parse_rfc2047(str_make(longtext, l), STR_LIT(" "), &b));
    n = decode_words(buf_view(&b), " ", dec, &nwords);
    assert_true(nwords > 5);
    assert_int_equal(n, l);
    assert_memory_equal(dec, longtext, l);
    buf_reset(&b);
    assert_true(template_parse_rfc2047(STR_LIT("ab\r\n cd"), STR_LIT(" "), &b));
    n = decode_words(buf_view(&b), " ", dec, &nwords);
    assert_int_equal(n, 5);
    assert_memory_equal(dec, "ab cd", 5);

    /* Too small: nothing appended. */
    char small[30];
    struct buf sb;
    buf_init(&sb, small, sizeof(small));
    assert_true(buf_append_cstr(&sb, "Subject: "));
    assert_false(template_parse_rfc2047(str_from_cstr(text), STR_LIT(" "), &sb));
    assert_true(str_eq_cstr(buf_view(&sb), "Subject: "));
}

static const char *encode_header(const char *h, size_t cap, enum template_parse_result *r)
{
    static char mem[4096];
    struct buf b;
    buf_init(&b, mem, cap);
    *r = template_parse_encode_header(str_from_cstr(h), &b);
    if (buf_space(&b) == 0)
        return "";
    return buf_cstr(&b);
}

static void test_encode_header(void **state)
{
    (void)state;
    enum template_parse_result r;
    /* ASCII headers are copied byte for byte. */
    const char *ascii = "Subject: Virus found\r\nFrom: Wall <gw@example.org>\r\nX-A: b\r\n";
    assert_string_equal(encode_header(ascii, 4096, &r), ascii);
    assert_int_equal(r, TEMPLATE_PARSE_DONE);

    assert_string_equal(
        encode_header("Subject: \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\nX-Other: \xE6\x97\xA5\n",
                      4096, &r),
        "Subject: =?UTF-8?B?5pel5pys6Kqe?=\nX-Other: \xE6\x97\xA5\n");
    assert_string_equal(
        encode_header("from: \xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E <taro@example.jp>"
                      "\r\nSubject: hi\r\n",
                      4096, &r),
        "from: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.jp>\r\nSubject: hi\r\n");
    assert_string_equal(
        encode_header(
            "From: \"\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E\" <taro@example.jp>", 4096,
            &r),
        "From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.jp>");
    assert_string_equal(
        encode_header("From: taro@example.jp (\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E)\n",
                      4096, &r),
        "From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <taro@example.jp>\n");
    /* Shapes we do not rewrite are copied as they are. */
    const char *odd = "From: \xE5\xB1\xB1 no address\nFrom: <\xE5\xB1\xB1@example.jp>\n";
    assert_string_equal(encode_header(odd, 4096, &r), odd);
    assert_int_equal(r, TEMPLATE_PARSE_DONE);
    /* A folded subject is unfolded, encoded and refolded with CRLF SP. */
    const char *folded = "Subject: \xE6\x97\xA5\r\n \xE6\x9C\xAC\r\n\r\nbody\r\n";
    assert_string_equal(encode_header(folded, 4096, &r),
                        "Subject: =?UTF-8?B?5pelIOacrA==?=\r\n\r\nbody\r\n");
    /* Overflow leaves nothing. */
    char mem[16];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_int_equal(template_parse_encode_header(STR_LIT("Subject: \xE6\x97\xA5\n"), &b),
                     TEMPLATE_PARSE_TOO_LONG);
    assert_int_equal(buf_len(&b), 0);
    assert_int_equal(template_parse_encode_header(STR_LIT("X: 0123456789abcdef\n"), &b),
                     TEMPLATE_PARSE_TOO_LONG);
    assert_int_equal(buf_len(&b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_var_names),
        cmocka_unit_test(test_every_variable),
        cmocka_unit_test(test_html_escaping),
        cmocka_unit_test(test_unknown_and_unset),
        cmocka_unit_test(test_literal_sigils),
        cmocka_unit_test(test_no_rescan),
        cmocka_unit_test(test_binary_safe),
        cmocka_unit_test(test_output_overflow),
        cmocka_unit_test(test_mail_header_injection),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_utf8_validation),
        cmocka_unit_test(test_utf8_position),
        cmocka_unit_test(test_split_mail),
        cmocka_unit_test(test_header_find),
        cmocka_unit_test(test_mail_from),
        cmocka_unit_test(test_rfc2047),
        cmocka_unit_test(test_encode_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
