/* Unit tests for core/template: loading from a directory with the
 * documented diagnostics (CFG-4, TPL-1), and every template shipped in
 * conf/ (run from the repository root, as tests/run.sh does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/template.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "proto/template_parse.h"

static const char *const shipped[] = {
    "template_http.html", "template_http_error.html", "template_admin.txt",
    "template_smtp.txt",  "template_smtp_lan.txt",    "template_pop.txt",
};

/* Diagnostics go to a memory stream so tests can read them. */
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
    return d->text;
}

/* A scratch directory for hand-made template files. */
static char scratch[64];

static int make_scratch(void **state)
{
    (void)state;
    snprintf(scratch, sizeof(scratch), "/tmp/sekisho-template-XXXXXX");
    return mkdtemp(scratch) ? 0 : -1;
}

static void write_file(const char *name, const void *data, size_t n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", scratch, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static int remove_scratch(void **state)
{
    (void)state;
    static const char *const names[] = {"ok.txt",  "big.txt", "max.html",
                                        "bad.txt", "bom.txt", "nul.html"};
    char path[256];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", scratch, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/sub", scratch);
    rmdir(path);
    return rmdir(scratch);
}

/* Values a hostile client or server could choose for every variable. */
static void hostile_vars(struct template_parse_var *vars)
{
    template_parse_vars_init(vars);
    for (size_t i = 0; i < TEMPLATE_VAR_COUNT; i++)
        vars[i].value = STR_LIT("<script>alert('x')</script>&\"\r\nFrom: evil@example.com");
}

static void test_shipped_templates_load_and_render(void **state)
{
    (void)state;
    static char mem[65536];
    for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
        struct diag d;
        diag_open(&d);
        struct template *t = template_load("conf", shipped[i], d.f);
        const char *msg = diag_close(&d);
        if (!t)
            fail_msg("%s: %s", shipped[i], msg);
        assert_string_equal(msg, "");
        free(d.text);

        struct str text = template_text(t);
        assert_true(text.len > 0 && text.len <= TEMPLATE_PARSE_MAX_BYTES);
        assert_int_equal(template_parse_validate(text, TEMPLATE_PARSE_MAX_BYTES, NULL),
                         TEMPLATE_CHECK_OK);
        bool html = strstr(shipped[i], ".html") != NULL;
        assert_int_equal(template_mode(t), html ? TEMPLATE_PARSE_HTML : TEMPLATE_PARSE_MAIL);

        struct template_parse_var vars[TEMPLATE_VAR_COUNT];
        hostile_vars(vars);
        struct buf b;
        buf_init(&b, mem, sizeof(mem) - 1);
        assert_int_equal(template_render(t, vars, TEMPLATE_VAR_COUNT, &b), TEMPLATE_PARSE_DONE);
        const char *out = buf_cstr(&b);
        /* Every reference was a known variable and got substituted. */
        if (strstr(out, "${") || strstr(out, "#{"))
            fail_msg("%s: unsubstituted variable in\n%s", shipped[i], out);
        if (html) {
            /* Shipped pages escape every value (they use ${} only). */
            assert_null(strstr(out, "<script>"));
            assert_non_null(strstr(out, "&lt;script&gt;"));
            assert_non_null(strstr(out, "<html"));
            assert_non_null(strstr(out, "charset=\"UTF-8\""));
        } else {
            struct str h, body;
            assert_true(template_parse_split_mail(buf_view(&b), &h, &body));
            struct str subject;
            assert_true(template_parse_header_find(h, "Subject", &subject));
            assert_true(subject.len > 0);
            assert_true(body.len > 0);
            /* A hostile value never becomes the notification's sender. */
            struct str from = template_parse_mail_from(h);
            assert_false(str_eq_cstr(from, "evil@example.com"));
            assert_null(memmem(h.ptr, h.len, "\nFrom: evil", 11));
        }
        template_free(t);
    }
}

/* The error page carries the observed text of HTTP-15. */
static void test_error_page_text(void **state)
{
    (void)state;
    struct template *t = template_load(NULL, "template_http_error.html", NULL);
    assert_non_null(t);
    struct template_parse_var vars[TEMPLATE_VAR_COUNT];
    template_parse_vars_init(vars);
    vars[TEMPLATE_VAR_URL].value = STR_LIT("http://www.example.com/japanese/index.html");
    vars[TEMPLATE_VAR_ERROR_STR].value =
        STR_LIT("CONNECT(www.example.com:80)/connect: No route to host");
    static char mem[16384];
    struct buf b;
    buf_init(&b, mem, sizeof(mem) - 1);
    assert_int_equal(template_render(t, vars, TEMPLATE_VAR_COUNT, &b), TEMPLATE_PARSE_DONE);
    const char *out = buf_cstr(&b);
    assert_non_null(strstr(out, "The server refuse to browse the page. The URL or other input may "
                                "not be correct. Please confirm the value."));
    assert_non_null(strstr(out, "URL: http://www.example.com/japanese/index.html\n"));
    assert_non_null(strstr(out, "ERROR: CONNECT(www.example.com:80)/connect: No route to host\n"));
    /* ERROR_STR may carry a hostile URL: it is escaped. */
    buf_reset(&b);
    vars[TEMPLATE_VAR_ERROR_STR].value = STR_LIT("bad url <img src=x onerror=alert(1)>");
    assert_int_equal(template_render(t, vars, TEMPLATE_VAR_COUNT, &b), TEMPLATE_PARSE_DONE);
    out = buf_cstr(&b);
    assert_null(strstr(out, "<img"));
    assert_non_null(strstr(out, "ERROR: bad url &lt;img src=x onerror=alert(1)&gt;"));
    template_free(t);
}

static void test_detection_page_fields(void **state)
{
    (void)state;
    struct template *t = template_load("conf", "template_http.html", NULL);
    assert_non_null(t);
    struct template_parse_var vars[TEMPLATE_VAR_COUNT];
    template_parse_vars_init(vars);
    vars[TEMPLATE_VAR_DETECTION_NAME].value = STR_LIT("Eicar-Test-Signature");
    vars[TEMPLATE_VAR_URL].value = STR_LIT("http://origin.test/eicar.com?a=1&b=2");
    vars[TEMPLATE_VAR_FILENAME].value = STR_LIT("eicar.com");
    vars[TEMPLATE_VAR_CLIENT_ADDR].value = STR_LIT("127.0.0.1");
    vars[TEMPLATE_VAR_TIME_STR].value = STR_LIT("Tue May  7 16:16:17 2002");
    vars[TEMPLATE_VAR_METHOD].value = STR_LIT("GET");
    vars[TEMPLATE_VAR_VIRUS_INFO_URL].value = STR_LIT("https://info.test/?q=Eicar");
    static char mem[16384];
    struct buf b;
    buf_init(&b, mem, sizeof(mem) - 1);
    assert_int_equal(template_render(t, vars, TEMPLATE_VAR_COUNT, &b), TEMPLATE_PARSE_DONE);
    const char *out = buf_cstr(&b);
    static const char *const want[] = {
        "Eicar-Test-Signature",
        "http://origin.test/eicar.com?a=1&amp;b=2",
        "eicar.com",
        "127.0.0.1",
        "Tue May  7 16:16:17 2002",
        ">GET<",
        "href=\"https://info.test/?q=Eicar\"",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(out, want[i]))
            fail_msg("detection page lacks \"%s\"", want[i]);
    }
    template_free(t);
}

static void test_admin_template_from(void **state)
{
    (void)state;
    struct template *t = template_load("conf", "template_admin.txt", NULL);
    assert_non_null(t);
    struct str h, body;
    assert_true(template_parse_split_mail(template_text(t), &h, &body));
    assert_true(str_eq_cstr(template_parse_mail_from(h), "postmaster@localhost"));
    template_free(t);
}

static void test_load_errors(void **state)
{
    (void)state;
    struct diag d;
    char want[512];

    diag_open(&d);
    assert_null(template_load(scratch, "missing.txt", d.f));
    snprintf(want, sizeof(want), "%s/missing.txt: cannot open: No such file or directory\n",
             scratch);
    assert_string_equal(diag_close(&d), want);
    free(d.text);

    char sub[256];
    snprintf(sub, sizeof(sub), "%s/sub", scratch);
    assert_int_equal(mkdir(sub, 0700), 0);
    diag_open(&d);
    assert_null(template_load(scratch, "sub", d.f));
    snprintf(want, sizeof(want), "%s/sub: not a regular file\n", scratch);
    assert_string_equal(diag_close(&d), want);
    free(d.text);

    /* 9000 bytes load, 9001 do not. */
    static char big[TEMPLATE_PARSE_MAX_BYTES + 1];
    memset(big, 'x', sizeof(big));
    write_file("max.html", big, TEMPLATE_PARSE_MAX_BYTES);
    struct template *t = template_load(scratch, "max.html", NULL);
    assert_non_null(t);
    assert_int_equal(template_text(t).len, TEMPLATE_PARSE_MAX_BYTES);
    assert_int_equal(template_mode(t), TEMPLATE_PARSE_HTML);
    template_free(t);
    write_file("big.txt", big, sizeof(big));
    diag_open(&d);
    assert_null(template_load(scratch, "big.txt", d.f));
    snprintf(want, sizeof(want), "%s/big.txt: template larger than 9000 bytes (9001 bytes)\n",
             scratch);
    assert_string_equal(diag_close(&d), want);
    free(d.text);

    /* Invalid UTF-8 on line 2: file:line: reason. */
    static const char bad[] = "Subject: x\nab\xC0\xAF\n";
    write_file("bad.txt", bad, sizeof(bad) - 1);
    diag_open(&d);
    assert_null(template_load(scratch, "bad.txt", d.f));
    snprintf(want, sizeof(want),
             "%s/bad.txt:2: invalid UTF-8 (overlong encoding) at byte 13 (column 3)\n", scratch);
    assert_string_equal(diag_close(&d), want);
    free(d.text);

    static const char nul[] = "<p>\0</p>";
    write_file("nul.html", nul, sizeof(nul) - 1);
    diag_open(&d);
    assert_null(template_load(scratch, "nul.html", d.f));
    snprintf(want, sizeof(want), "%s/nul.html:1: NUL byte in template at byte 3 (column 4)\n",
             scratch);
    assert_string_equal(diag_close(&d), want);
    free(d.text);

    /* No diag stream: still refused, quietly. */
    assert_null(template_load(scratch, "bad.txt", NULL));
}

static void test_load_ok_and_bom(void **state)
{
    (void)state;
    static const char ok[] = "Subject: ${DETECTION_NAME}\n\nclient #{CLIENT_ADDR}\n";
    write_file("ok.txt", ok, sizeof(ok) - 1);
    char abs[256];
    snprintf(abs, sizeof(abs), "%s/ok.txt", scratch);
    /* An absolute file name ignores dir. */
    struct template *t = template_load("/nonexistent", abs, NULL);
    assert_non_null(t);
    assert_string_equal(template_path(t), abs);
    assert_true(str_eq_cstr(template_text(t), ok));
    assert_int_equal(template_mode(t), TEMPLATE_PARSE_MAIL);
    struct template_parse_var vars[] = {
        {"DETECTION_NAME", STR_LIT("W32/Test")},
        {"CLIENT_ADDR", STR_LIT("192.0.2.7")},
    };
    char mem[128];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_int_equal(template_render(t, vars, 2, &b), TEMPLATE_PARSE_DONE);
    assert_true(str_eq_cstr(buf_view(&b), "Subject: W32/Test\n\nclient 192.0.2.7\n"));
    /* Too small an output buffer: TOO_LONG, nothing written. */
    buf_init(&b, mem, 10);
    assert_int_equal(template_render(t, vars, 2, &b), TEMPLATE_PARSE_TOO_LONG);
    assert_int_equal(buf_len(&b), 0);
    template_free(t);

    /* A byte-order mark is dropped so the Subject: line stays first. */
    static const char bom[] = "\xEF\xBB\xBFSubject: x\n\nbody\n";
    write_file("bom.txt", bom, sizeof(bom) - 1);
    t = template_load(scratch, "bom.txt", NULL);
    assert_non_null(t);
    assert_true(str_eq_cstr(template_text(t), "Subject: x\n\nbody\n"));
    assert_int_equal(template_text(t).ptr[template_text(t).len], '\0');
    struct str h, body;
    assert_true(template_parse_split_mail(template_text(t), &h, &body));
    template_free(t);
    template_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_templates_load_and_render),
        cmocka_unit_test(test_error_page_text),
        cmocka_unit_test(test_detection_page_fields),
        cmocka_unit_test(test_admin_template_from),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_ok_and_bom),
    };
    return cmocka_run_group_tests(tests, make_scratch, remove_scratch);
}
