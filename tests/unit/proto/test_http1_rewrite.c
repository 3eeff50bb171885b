/* Unit tests for proto/http1_rewrite: the header rewriting of HTTP-7/HTTP-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/http1_parse.h"
#include "proto/http1_rewrite.h"

struct parsed_request {
    const char *text;
    struct http1_request req;
    struct http1_url url;
};

static void parse_request(struct parsed_request *p, const char *text)
{
    p->text = text;
    http1_request_init(&p->req, 65536);
    assert_int_equal(http1_parse_request(&p->req, text, strlen(text)), HTTP1_DONE);
    assert_true(http1_request_url(&p->req, text, &p->url));
}

static const char *rewrite_request(struct parsed_request *p,
                                   const struct http1_rewrite_request_opts *o, char *mem,
                                   size_t cap)
{
    struct buf out;
    buf_init(&out, mem, cap);
    assert_true(http1_rewrite_request(&out, &p->req, p->text, &p->url, o));
    return buf_cstr(&out);
}

static const struct http1_rewrite_request_opts base_opts = {
    .via_host = STR_LIT("gw.example:9080"),
    .product_name = STR_LIT("Sekisho/sekisho_http/010/gw.example"),
    .client_ip = STR_LIT("192.0.2.7"),
};

static void test_request_direct(void **state)
{
    (void)state;
    struct parsed_request p;
    parse_request(&p, "GET http://www.example.com:8080/a/b?c=d HTTP/1.1\r\n"
                      "Host: www.example.com:8080\r\n"
                      "Connection: keep-alive, X-Hop\r\n"
                      "Proxy-Connection: Keep-Alive\r\n"
                      "Keep-Alive: 300\r\n"
                      "X-Hop: secret\r\n"
                      "Trailer: X\r\n"
                      "Accept: */*\r\n\r\n");
    char mem[4096];
    const char *out = rewrite_request(&p, &base_opts, mem, sizeof(mem));
    /* HTTP-7: path+query, HTTP/1.0, hop-by-hop gone, Via and X-Forwarded-For added. */
    assert_string_equal(out, "GET /a/b?c=d HTTP/1.0\r\n"
                             "Host: www.example.com:8080\r\n"
                             "Accept: */*\r\n"
                             "Via: 1.0 gw.example:9080 (Sekisho/sekisho_http/010/gw.example)\r\n"
                             "X-Forwarded-For: 192.0.2.7\r\n"
                             "Connection: close\r\n\r\n");
}

static void test_request_appends_to_existing_via_and_xff(void **state)
{
    (void)state;
    struct parsed_request p;
    parse_request(&p, "GET http://h/ HTTP/1.0\r\nVia: 1.1 upstream\r\n"
                      "X-Forwarded-For: 10.0.0.1\r\n\r\n");
    char mem[4096];
    const char *out = rewrite_request(&p, &base_opts, mem, sizeof(mem));
    assert_non_null(strstr(out, "\r\nVia: 1.1 upstream, 1.0 gw.example:9080 (Sekisho/"));
    assert_non_null(strstr(out, "\r\nX-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n"));
}

static void test_request_anonymous_parent_http11(void **state)
{
    (void)state;
    struct parsed_request p;
    parse_request(&p, "POST http://h/form HTTP/1.1\r\nHost: h\r\nVia: 1.1 x\r\n"
                      "Proxy-Authorization: Basic Zm9vOmJhcg==\r\nContent-Length: 3\r\n\r\n");
    struct http1_rewrite_request_opts o = base_opts;
    o.anonymous = true;
    o.absolute_uri = true;
    o.use_http11 = true;
    o.strip_proxy_auth = true;
    char mem[4096];
    const char *out = rewrite_request(&p, &o, mem, sizeof(mem));
    assert_true(strncmp(out, "POST http://h/form HTTP/1.1\r\n", 29) == 0);
    assert_null(strstr(out, "X-Forwarded-For"));
    assert_null(strstr(out, "Proxy-Authorization"));
    assert_non_null(strstr(out, "\r\nVia: 1.1 x\r\n")); /* anonymous keeps others' Via as is */
    assert_non_null(strstr(out, "\r\nContent-Length: 3\r\n"));
}

static void test_request_too_small_leaves_buffer_untouched(void **state)
{
    (void)state;
    struct parsed_request p;
    parse_request(&p, "GET http://h/ HTTP/1.0\r\nAccept: */*\r\n\r\n");
    char mem[40];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    buf_append_cstr(&out, "keep");
    assert_false(http1_rewrite_request(&out, &p.req, p.text, &p.url, &base_opts));
    assert_int_equal(buf_len(&out), 4);
}

static void test_connection_cannot_nominate_framing(void **state)
{
    (void)state;
    /* Issue 10 item 4: "Connection: Content-Length" once dropped the length
     * and the body went upstream as a second request. Framing and routing
     * fields stay; other nominated fields still go. */
    struct parsed_request p;
    parse_request(&p, "POST http://h/ HTTP/1.1\r\n"
                      "Connection: Content-Length, transfer-encoding, HOST, X-Hop, Via\r\n"
                      "Content-Length: 5\r\n"
                      "X-Hop: 1\r\n\r\nabcde");
    char mem[4096];
    const char *out = rewrite_request(&p, &base_opts, mem, sizeof(mem));
    assert_string_equal(out, "POST / HTTP/1.0\r\n"
                             "Host: h\r\n"
                             "Content-Length: 5\r\n"
                             "Via: 1.0 gw.example:9080 (Sekisho/sekisho_http/010/gw.example)\r\n"
                             "X-Forwarded-For: 192.0.2.7\r\n"
                             "Connection: close\r\n\r\n");
}

static void test_response(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 401 Unauthorized\r\n"
                       "Connection: keep-alive\r\n"
                       "Transfer-Encoding: chunked\r\n"
                       "WWW-Authenticate: NTLM\r\n"
                       "Content-Type: text/html\r\n\r\n";
    struct http1_response r;
    http1_response_init(&r, 17408);
    assert_int_equal(http1_parse_response(&r, text, strlen(text)), HTTP1_DONE);
    struct http1_rewrite_response_opts o = {
        .proxy_support = true, .has_length = true, .length = 1234};
    char mem[1024];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(http1_rewrite_response(&out, &r, text, &o));
    /* HTTP-8: HTTP/1.0 status line, Proxy-Support for WWW-Authenticate. */
    assert_string_equal(buf_cstr(&out), "HTTP/1.0 401 Unauthorized\r\n"
                                        "WWW-Authenticate: NTLM\r\n"
                                        "Content-Type: text/html\r\n"
                                        "Proxy-Support: Session-Based-Authentication\r\n"
                                        "Content-Length: 1234\r\n"
                                        "Connection: close\r\n\r\n");
}

/* Issue 10: Accept-Encoding filtered, Range/If-Range stripped upstream. */
static void test_request_scan_filters(void **state)
{
    (void)state;
    struct parsed_request p;
    parse_request(&p, "GET http://h/x HTTP/1.1\r\n"
                      "Accept-Encoding: gzip, xz\r\n"
                      "Range: bytes=0-33\r\n"
                      "If-Range: \"e\"\r\n"
                      "Accept: */*\r\n\r\n");
    struct http1_rewrite_request_opts o = base_opts;
    o.anonymous = true;
    o.filter_accept_encoding = true;
    o.accept_encoding = STR_LIT("gzip");
    o.strip_range = true;
    char mem[4096];
    assert_string_equal(rewrite_request(&p, &o, mem, sizeof(mem)),
                        "GET /x HTTP/1.0\r\nHost: h\r\nAccept: */*\r\n"
                        "Accept-Encoding: gzip\r\nConnection: close\r\n\r\n");
}

/* Issue 10, item 9: a range of a whole 200 answer. */
static void test_response_partial(void **state)
{
    (void)state;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 68\r\nContent-Range: x\r\n"
                       "Content-Type: text/plain\r\n\r\n";
    struct http1_response r;
    http1_response_init(&r, 17408);
    assert_int_equal(http1_parse_response(&r, text, strlen(text)), HTTP1_DONE);
    struct http1_rewrite_response_opts o = {.has_length = true,
                                            .length = 34,
                                            .partial = true,
                                            .range_first = 34,
                                            .range_last = 67,
                                            .range_total = 68};
    char mem[1024];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(http1_rewrite_response(&out, &r, text, &o));
    assert_string_equal(buf_cstr(&out), "HTTP/1.0 206 Partial Content\r\n"
                                        "Content-Type: text/plain\r\n"
                                        "Content-Range: bytes 34-67/68\r\n"
                                        "Content-Length: 34\r\n"
                                        "Connection: close\r\n\r\n");
}

static void test_simple_response(void **state)
{
    (void)state;
    char mem[512];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    assert_true(
        http1_rewrite_simple_response(&out, false, 403, STR_LIT("text/html"), 10, STR_NULL));
    assert_string_equal(buf_cstr(&out), "HTTP/1.0 403 Forbidden\r\nContent-Type: text/html\r\n"
                                        "Content-Length: 10\r\nConnection: close\r\n\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_direct),
        cmocka_unit_test(test_request_appends_to_existing_via_and_xff),
        cmocka_unit_test(test_request_anonymous_parent_http11),
        cmocka_unit_test(test_request_too_small_leaves_buffer_untouched),
        cmocka_unit_test(test_connection_cannot_nominate_framing),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_simple_response),
        cmocka_unit_test(test_request_scan_filters),
        cmocka_unit_test(test_response_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
