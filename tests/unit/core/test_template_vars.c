/* Unit tests for core/template_vars: every shipped template (conf/, run
 * from the repository root as tests/run.sh does) rendered in every service
 * context that renders it leaves no `${...}` / `#{...}` behind and shows
 * each variable's value (TPL-3); ${VIRUS_INFO_URL} is whole and
 * percent-encoded for the longest detection name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/template.h"
#include "core/template_vars.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "proto/template_parse.h"

/* Values of a context that knows everything: distinct, so a value found in
 * the output can only come from its own variable. */
static struct template_vars everything(const char *service)
{
    return (struct template_vars){
        .service_type = str_from_cstr(service),
        .detection_name = STR_LIT("W32/NetSky.D@mm"),
        .client_host = STR_LIT("client.example"),
        .client_addr = STR_LIT("192.0.2.1"),
        .server_host = STR_LIT("server.example"),
        .server_addr = STR_LIT("198.51.100.2"),
        .status = 403,
        .method = STR_LIT("POST"),
        .url = STR_LIT("http://server.example/dir/file.exe?q=1"),
        .content_type = STR_LIT("application/x-test"),
        .content_length = 12345,
        .filename = STR_LIT("file.exe"),
        .quarantine_file = STR_LIT("http-1020755777.42.7"),
        .time = 1020755777,
        .header = STR_LIT("X-Original: h1\n"),
        .text = STR_LIT("the original text"),
        .mail_from = STR_LIT("from@example.test"),
        .rcpt_to = STR_LIT("a@example.test,b@example.test"),
        .message_id = STR_LIT("<m1@example.test>"),
        .error_str = STR_LIT("PROXY/connect failed"),
        .action = STR_LIT("DELETE"),
        .path_query = STR_LIT("/dir/file.exe?q=1"),
        .x_forwarded_for = STR_LIT("203.0.113.9"),
    };
}

/* What each session actually fills (http_fill_vars of http_reply.c and
 * fill_vars of smtp_notify.c): the rest stays empty. */
static struct template_vars http_context(void)
{
    struct template_vars v = everything("http");
    v.header = v.text = v.mail_from = v.rcpt_to = v.message_id = STR_NULL;
    return v;
}

static struct template_vars smtp_context(void)
{
    struct template_vars v = everything("smtp");
    v.method = STR_LIT("GET");
    v.url = STR_LIT("mail:a@example.test,b@example.test");
    v.text = v.path_query = v.x_forwarded_for = STR_NULL;
    return v;
}

/* The progress page's own variables (http_progress_page.c progress_page). */
static const struct template_parse_var progress_extra[] = {
    {"PROGRESS_STATE", STR_LIT("scanning")},
    {"PROGRESS_RECEIVED", STR_LIT("100")},
    {"PROGRESS_EXPECTED", STR_LIT("200")},
    {"PROGRESS_PERCENT", STR_LIT("(50%)")},
    {"PROGRESS_URL", STR_LIT("http://p/u")},
    {"DOWNLOAD_URL", STR_LIT("http://p/u/f")},
    {"REFRESH", STR_LIT("5")},
};

static bool has_sigil(struct str s)
{
    for (size_t i = 0; i + 1 < s.len; i++) {
        if ((s.ptr[i] == '$' || s.ptr[i] == '#') && s.ptr[i + 1] == '{')
            return true;
    }
    return false;
}

static bool contains(struct str hay, struct str needle)
{
    if (needle.len == 0)
        return true;
    for (size_t i = 0; i + needle.len <= hay.len; i++) {
        if (memcmp(hay.ptr + i, needle.ptr, needle.len) == 0)
            return true;
    }
    return false;
}

/* render_check - render file with v (and the progress variables for the
 * progress page); no sigil may remain and every variable the template
 * names must show its value. */
static void render_check(const char *file, const struct template_vars *v)
{
    struct template *t = template_load("conf", file, NULL);
    assert_non_null(t);
    static struct template_var_table table;
    template_vars_table(v, &table);
    struct template_parse_var vars[TEMPLATE_VAR_COUNT + 8];
    memcpy(vars, table.vars, sizeof(table.vars));
    size_t n = TEMPLATE_VAR_COUNT;
    if (strcmp(file, "template_http_progress.html") == 0) {
        memcpy(vars + n, progress_extra, sizeof(progress_extra));
        n += sizeof(progress_extra) / sizeof(progress_extra[0]);
    }
    static char mem[65536];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_int_equal(template_render(t, vars, n, &out), TEMPLATE_PARSE_DONE);
    struct str r = buf_view(&out);
    if (has_sigil(r))
        fail_msg("%s (%.*s): a sigil is left:\n%.*s", file, (int)v->service_type.len,
                 v->service_type.ptr, (int)r.len, r.ptr);
    struct str text = template_text(t);
    for (size_t i = 0; i < n; i++) {
        char ref[64];
        snprintf(ref, sizeof(ref), "{%s}", vars[i].name);
        if (!contains(text, str_from_cstr(ref)))
            continue;
        if (!contains(r, vars[i].value))
            fail_msg("%s: value [%.*s] of %s missing", file, (int)vars[i].value.len,
                     vars[i].value.ptr, vars[i].name);
    }
    template_free(t);
}

static void test_every_template_in_every_context(void **state)
{
    (void)state;
    static const char *const http_pages[] = {"template_http.html", "template_http_error.html",
                                             "template_http_progress.html", "template_admin.txt"};
    static const char *const smtp_mails[] = {"template_smtp.txt", "template_smtp_lan.txt",
                                             "template_admin.txt"};
    struct template_vars v = http_context();
    for (size_t i = 0; i < sizeof(http_pages) / sizeof(http_pages[0]); i++)
        render_check(http_pages[i], &v);
    v = smtp_context();
    for (size_t i = 0; i < sizeof(smtp_mails) / sizeof(smtp_mails[0]); i++)
        render_check(smtp_mails[i], &v);
    v = everything("pop");
    render_check("template_pop.txt", &v);
    /* A context that knows nothing (an error before the request was read)
     * still leaves no sigil. */
    static const char *const all[] = {
        "template_http.html", "template_http_error.html", "template_http_progress.html",
        "template_admin.txt", "template_smtp.txt",        "template_smtp_lan.txt",
        "template_pop.txt",
    };
    struct template_vars none = {0};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        render_check(all[i], &none);
}

static void test_table_formats(void **state)
{
    (void)state;
    struct template_vars v = everything("http");
    static struct template_var_table t;
    template_vars_table(&v, &t);
    for (size_t i = 0; i < TEMPLATE_VAR_COUNT; i++) {
        assert_non_null(t.vars[i].value.ptr); /* every variable is set */
        assert_string_equal(t.vars[i].name, template_parse_var_name((enum template_parse_var_id)i));
    }
    assert_true(str_eq_cstr(t.vars[TEMPLATE_VAR_STATUS].value, "403"));
    assert_true(str_eq_cstr(t.vars[TEMPLATE_VAR_CONTENT_LENGTH].value, "12345"));
    assert_true(str_eq_cstr(t.vars[TEMPLATE_VAR_TIME].value, "1020755777"));
    /* ctime style, local time: the year and the shape are fixed. */
    struct str ts = t.vars[TEMPLATE_VAR_TIME_STR].value;
    assert_int_equal(ts.len, 24);
    assert_true(contains(ts, STR_LIT(" 2002")));
    assert_true(str_eq_cstr(t.vars[TEMPLATE_VAR_VIRUS_INFO_URL].value,
                            TEMPLATE_VARS_INFO_URL_BASE "W32%2FNetSky.D%40mm"));
    struct template_vars z = {0};
    template_vars_table(&z, &t);
    assert_true(str_eq_cstr(t.vars[TEMPLATE_VAR_STATUS].value, "000"));
    assert_true(str_eq_cstr(t.vars[TEMPLATE_VAR_VIRUS_INFO_URL].value, ""));
    assert_true(str_eq_cstr(t.vars[TEMPLATE_VAR_MAILFROM].value, ""));
}

static void test_info_url_long_name_is_whole(void **state)
{
    (void)state;
    char name[TEMPLATE_VARS_NAME_MAX + 2];
    /* The longest name, every byte needing %XX: the worst case fits. */
    memset(name, '/', TEMPLATE_VARS_NAME_MAX);
    char url[TEMPLATE_VARS_INFO_URL_MAX];
    size_t n = template_vars_info_url(str_make(name, TEMPLATE_VARS_NAME_MAX), url, sizeof(url));
    assert_int_equal(n, strlen(TEMPLATE_VARS_INFO_URL_BASE) + 3 * TEMPLATE_VARS_NAME_MAX);
    assert_int_equal(strlen(url), n);
    /* A 200-character name with reserved characters arrives whole. */
    char name200[201];
    for (size_t i = 0; i < 200; i++)
        name200[i] = "Ab9/@ &=+#?%.-_~"[i % 16];
    name200[200] = '\0';
    n = template_vars_info_url(str_from_cstr(name200), url, sizeof(url));
    assert_true(n > 0);
    const char *q = url + strlen(TEMPLATE_VARS_INFO_URL_BASE);
    char back[256];
    size_t k = 0;
    for (const char *p = q; *p; p++) {
        assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%",
                           *p) != NULL);
        if (*p == '%') {
            unsigned c;
            assert_int_equal(sscanf(p + 1, "%2X", &c), 1);
            back[k++] = (char)c;
            p += 2;
        } else {
            back[k++] = *p;
        }
    }
    back[k] = '\0';
    assert_string_equal(back, name200);
    /* Too small a buffer gives no URL, never a cut one. */
    assert_int_equal(template_vars_info_url(str_from_cstr(name200), url, 64), 0);
    assert_string_equal(url, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_template_in_every_context),
        cmocka_unit_test(test_table_formats),
        cmocka_unit_test(test_info_url_long_name_is_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
