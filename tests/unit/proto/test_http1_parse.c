/* Unit tests for proto/http1_parse: the guide's request-line errors and
 * their limits, HTTP/0.9, methods, line ends, header limits, smuggling
 * cases, URL forms, response heads with the 17408-byte limit (C-01),
 * message-length rules, chunked decoding split at every offset, and the
 * golden files tests/golden/http1_request/NAME.in -> NAME.out (run from
 * the repository root; SEKISHO_GOLDEN_UPDATE=1 rewrites the .out files,
 * which must then be reviewed). Every request is also fed one byte at a
 * time and must give the same result as all at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/http1_parse.h"

#define GOLDEN_DIR "tests/golden/http1_request"

/* ------------------------------------------------------------- helpers */

static bool same_span(struct http1_span a, struct http1_span b)
{
    return a.off == b.off && a.len == b.len;
}

/* Whether two parses of the same bytes reached the same outcome. */
static bool same_request(const struct http1_request *a, enum http1_result ra,
                         const struct http1_request *b, enum http1_result rb)
{
    if (ra != rb || a->error != b->error)
        return false;
    if (ra != HTTP1_DONE)
        return true;
    if (a->head_len != b->head_len || a->method != b->method || a->version != b->version ||
        a->target_form != b->target_form || a->hdr_count != b->hdr_count ||
        !same_span(a->method_str, b->method_str) || !same_span(a->target, b->target) ||
        !same_span(a->version_str, b->version_str))
        return false;
    for (size_t i = 0; i < a->hdr_count; i++) {
        if (!same_span(a->hdr[i].name, b->hdr[i].name) ||
            !same_span(a->hdr[i].value, b->hdr[i].value))
            return false;
    }
    return true;
}

static enum http1_result parse_req(struct http1_request *req, const char *p, size_t n,
                                   size_t max_head)
{
    http1_request_init(req, max_head);
    return http1_parse_request(req, p, n);
}

/* Feed p one byte at a time (the same buffer, growing) and check that the
 * outcome equals the all-at-once parse in *whole. AGAIN must be returned
 * until the final result, and nothing after it may change it. */
static void check_bytewise_req(const char *p, size_t n, size_t max_head,
                               const struct http1_request *whole, enum http1_result rw)
{
    static struct http1_request req;
    http1_request_init(&req, max_head);
    enum http1_result r = HTTP1_AGAIN;
    for (size_t k = 1; k <= n && r == HTTP1_AGAIN; k++)
        r = http1_parse_request(&req, p, k);
    assert_true(same_request(&req, r, whole, rw));
    assert_int_equal(http1_parse_request(&req, p, n), r); /* final results stick */
}

/* Parse all at once and byte by byte; return the all-at-once result. */
static enum http1_result req_both(struct http1_request *req, const char *p, size_t n)
{
    enum http1_result r = parse_req(req, p, n, HTTP1_REQUEST_HEAD_MAX);
    check_bytewise_req(p, n, HTTP1_REQUEST_HEAD_MAX, req, r);
    return r;
}

static enum http1_result req_cstr(struct http1_request *req, const char *s)
{
    return req_both(req, s, strlen(s));
}

static struct str req_header(const struct http1_request *req, const char *buf, const char *name)
{
    size_t it = 0;
    struct str v = STR_NULL;
    if (!http1_fields_find(http1_request_fields(req, buf), name, &it, &v))
        return STR_NULL;
    return v;
}

static void assert_str(struct str s, const char *want)
{
    if (!str_eq_cstr(s, want))
        fail_msg("got \"%.*s\", want \"%s\"", (int)s.len, s.ptr ? s.ptr : "", want);
}

/* Build "METHOD TARGET VERSION\r\nHost: h\r\n\r\n" into mem. */
static size_t build_line(char *mem, size_t cap, const char *method, const char *target,
                         const char *version)
{
    struct buf b;
    buf_init(&b, mem, cap);
    bool ok =
        buf_printf(&b, "%s %s%s%s\r\n", method, target, version ? " " : "", version ? version : "");
    if (version)
        ok = ok && buf_append_cstr(&b, "Host: h\r\n\r\n");
    assert_true(ok);
    return buf_len(&b);
}

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* -------------------------------------------------- the guide's errors */

struct guide_row {
    const char *request;
    enum http1_error error;
    int status;
    const char *reason;
    const char *message;
};

/* One row per HTTP-4 row of responses.tsv (003:5852-5899): status line
 * and message exactly as the guide writes them. */
static void test_guide_error_rows(void **state)
{
    (void)state;
    char *long_method = repeat('M', 99);
    char *long_version = repeat('V', 99);
    char *long_url = repeat('a', 2099);
    long_url[0] = '/';
    static char mem[4][4096];
    build_line(mem[0], sizeof(mem[0]), long_method, "/", "HTTP/1.1");
    build_line(mem[1], sizeof(mem[1]), "GET", "/", long_version);
    build_line(mem[2], sizeof(mem[2]), "GET", long_url, "HTTP/1.1");
    const struct guide_row rows[] = {
        {mem[0], HTTP1_ERR_METHOD_TOO_LONG, 400, "Bad Request", "Too long Request Method"},
        {"G\x01T / HTTP/1.1\r\n\r\n", HTTP1_ERR_METHOD_CHAR, 400, "Bad Request",
         "Illegal method character."},
        {mem[2], HTTP1_ERR_URL_TOO_LONG, 414, "Request-URI Too Long", "Request-URI Too Long"},
        {"GET /a\x1f HTTP/1.1\r\n\r\n", HTTP1_ERR_URL_CHAR, 400, "Bad Request",
         "Illegal URL character."},
        {"GET http//x/ HTTP/1.1\r\n\r\n", HTTP1_ERR_URL_FORMAT, 400, "Bad Request",
         "Invalid URL format"},
        {mem[1], HTTP1_ERR_VERSION_TOO_LONG, 400, "Bad Request", "Too long Request Version"},
        {"GET / HTTP/2.0\r\n\r\n", HTTP1_ERR_VERSION, 505, "HTTP Version Not Supported",
         "Only support HTTP/0.9, HTTP/1.0, HTTP/1.1"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct http1_request req;
        assert_int_equal(req_cstr(&req, rows[i].request), HTTP1_INVALID);
        assert_int_equal(req.error, rows[i].error);
        assert_int_equal(http1_error_status(req.error), rows[i].status);
        assert_string_equal(http1_status_reason(rows[i].status), rows[i].reason);
        assert_string_equal(http1_error_message(req.error), rows[i].message);
    }
    /* The guide's other HTTP rows use these phrases too. */
    assert_string_equal(http1_status_reason(503), "Service Unavailable");
    assert_string_equal(http1_status_reason(407), "Proxy Authentication Required");
    assert_string_equal(http1_status_reason(403), "Forbidden");
    assert_string_equal(http1_status_reason(200), "OK");
    assert_string_equal(http1_status_reason(999), "");
    assert_int_equal(http1_error_status(HTTP1_ERR_NONE), 0);
    free(long_method);
    free(long_version);
    free(long_url);
}

static enum http1_error line_error(const char *method, const char *target, const char *version)
{
    static char mem[8192];
    static struct http1_request req;
    size_t n = build_line(mem, sizeof(mem), method, target, version);
    enum http1_result r = req_both(&req, mem, n);
    if (r == HTTP1_DONE)
        return HTTP1_ERR_NONE;
    assert_int_equal(r, HTTP1_INVALID);
    return req.error;
}

static void test_limits_boundaries(void **state)
{
    (void)state;
    char *m98 = repeat('M', 98), *m99 = repeat('M', 99);
    assert_int_equal(line_error(m98, "/", "HTTP/1.1"), HTTP1_ERR_NONE);
    assert_int_equal(line_error(m99, "/", "HTTP/1.1"), HTTP1_ERR_METHOD_TOO_LONG);
    /* The method is judged before the line ends. */
    struct http1_request req;
    assert_int_equal(parse_req(&req, m99, 99, HTTP1_REQUEST_HEAD_MAX), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_METHOD_TOO_LONG);
    assert_int_equal(parse_req(&req, m98, 98, HTTP1_REQUEST_HEAD_MAX), HTTP1_AGAIN);

    char *u2098 = repeat('u', 2098), *u2099 = repeat('u', 2099);
    u2098[0] = u2099[0] = '/';
    assert_int_equal(line_error("GET", u2098, "HTTP/1.1"), HTTP1_ERR_NONE);
    assert_int_equal(line_error("GET", u2099, "HTTP/1.1"), HTTP1_ERR_URL_TOO_LONG);
    assert_int_equal(line_error("GET", u2098, NULL), HTTP1_ERR_NONE); /* HTTP/0.9 */
    assert_int_equal(line_error("GET", u2099, NULL), HTTP1_ERR_URL_TOO_LONG);
    /* Absolute-form counts the whole URL. */
    char abs2098[2200];
    int k = snprintf(abs2098, sizeof(abs2098), "http://example.com/%s", u2098 + 19);
    assert_int_equal(k, 2098);
    assert_int_equal(line_error("GET", abs2098, "HTTP/1.0"), HTTP1_ERR_NONE);

    char *v98 = repeat('V', 98), *v99 = repeat('V', 99);
    assert_int_equal(line_error("GET", "/", v98), HTTP1_ERR_VERSION);
    assert_int_equal(line_error("GET", "/", v99), HTTP1_ERR_VERSION_TOO_LONG);

    /* G-36 order: method length, method characters, version, URL length,
     * URL characters, URL format. */
    assert_int_equal(line_error(m99, "/\x01", "HTTP/9"), HTTP1_ERR_METHOD_TOO_LONG);
    assert_int_equal(line_error("G\x02T", u2099, v99), HTTP1_ERR_METHOD_CHAR);
    assert_int_equal(line_error("GET", u2099, v99), HTTP1_ERR_VERSION_TOO_LONG);
    assert_int_equal(line_error("GET", u2099, "HTTP/3"), HTTP1_ERR_VERSION);
    char *u2099c = repeat('\x01', 2099);
    assert_int_equal(line_error("GET", u2099c, "HTTP/1.1"), HTTP1_ERR_URL_TOO_LONG);
    assert_int_equal(line_error("GET", "x\x01", "HTTP/1.1"), HTTP1_ERR_URL_CHAR);
    assert_int_equal(line_error("GET", "/\x7f", "HTTP/1.1"), HTTP1_ERR_URL_CHAR);
    assert_int_equal(line_error("GET", "x", "HTTP/1.1"), HTTP1_ERR_URL_FORMAT);

    /* A line that never ends is decided once it is longer than any valid
     * one: no second SP -> the URL is too long; a short URL and a version
     * still growing -> the version is too long. */
    static char big[8192];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    assert_int_equal(parse_req(&req, big, sizeof(big), HTTP1_REQUEST_HEAD_MAX), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_URL_TOO_LONG);
    memcpy(big, "GET / ", 6);
    assert_int_equal(parse_req(&req, big, sizeof(big), HTTP1_REQUEST_HEAD_MAX), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_VERSION_TOO_LONG);
    assert_int_equal(parse_req(&req, big, HTTP1_REQUEST_LINE_MAX, HTTP1_REQUEST_HEAD_MAX),
                     HTTP1_AGAIN);
    free(m98);
    free(m99);
    free(u2098);
    free(u2099);
    free(u2099c);
    free(v98);
    free(v99);
}

/* ------------------------------------------------------------ requests */

static void test_request_basic(void **state)
{
    (void)state;
    const char *s = "GET http://Example.COM:8080/a/b?c=d HTTP/1.1\r\n"
                    "Host: example.com:8080\r\n"
                    "User-Agent:  curl/8  \r\n"
                    "Accept:\r\n"
                    "\r\n"
                    "BODY";
    struct http1_request req;
    assert_int_equal(req_cstr(&req, s), HTTP1_DONE);
    assert_int_equal(req.head_len, strlen(s) - 4);
    assert_int_equal(req.method, HTTP1_METHOD_GET);
    assert_str(http1_span_str(s, req.method_str), "GET");
    assert_str(http1_span_str(s, req.target), "http://Example.COM:8080/a/b?c=d");
    assert_str(http1_span_str(s, req.version_str), "HTTP/1.1");
    assert_int_equal(req.version, HTTP1_VERSION_1_1);
    assert_int_equal(req.target_form, HTTP1_URL_ABSOLUTE);
    assert_int_equal(req.hdr_count, 3);
    assert_str(req_header(&req, s, "user-agent"), "curl/8");
    assert_str(req_header(&req, s, "ACCEPT"), "");
    assert_null(req_header(&req, s, "Cookie").ptr);
    struct http1_url url;
    assert_true(http1_request_url(&req, s, &url));
    assert_str(url.host, "Example.COM");
    assert_int_equal(url.port, 8080);
    assert_str(url.path_query, "/a/b?c=d");
    uint64_t len = 99;
    assert_int_equal(http1_request_body_kind(&req, s, &len), HTTP1_BODY_NONE);
    assert_int_equal(len, 0);
}

static void test_http09(void **state)
{
    (void)state;
    struct http1_request req;
    const char *s = "GET /index.html\r\nTrailing: ignored";
    assert_int_equal(req_cstr(&req, s), HTTP1_DONE);
    assert_int_equal(req.version, HTTP1_VERSION_0_9);
    assert_int_equal(req.head_len, strlen("GET /index.html\r\n"));
    assert_int_equal(req.hdr_count, 0);
    assert_int_equal(req.version_str.len, 0);
    assert_str(http1_span_str(s, req.target), "/index.html");
    uint64_t len;
    assert_int_equal(http1_request_body_kind(&req, s, &len), HTTP1_BODY_NONE);
    assert_int_equal(req_cstr(&req, "GET http://h/\n"), HTTP1_DONE);
    assert_int_equal(req.version, HTTP1_VERSION_0_9);
    /* HTTP/0.9 had GET only (RFC 1945 4.1). */
    assert_int_equal(req_cstr(&req, "POST /\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_VERSION);
    assert_int_equal(req_cstr(&req, "HEAD /\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_VERSION);
    /* Not yet a line. */
    assert_int_equal(req_cstr(&req, "GET /index.html"), HTTP1_AGAIN);
    /* Case-sensitive versions; trailing space makes an empty version. */
    assert_int_equal(req_cstr(&req, "GET / http/1.1\r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_VERSION);
    assert_int_equal(req_cstr(&req, "GET / \r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_VERSION);
    /* Single SP separators: a doubled one makes the URL empty and the
     * version "/ HTTP/1.1", and the version is judged first (G-36). */
    assert_int_equal(req_cstr(&req, "GET  / HTTP/1.1\r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_VERSION);
    assert_int_equal(req_cstr(&req, "GET / HTTP/1.0\r\n\r\n"), HTTP1_DONE);
    assert_int_equal(req.version, HTTP1_VERSION_1_0);
}

static void test_methods(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        enum http1_method method;
    } ok[] = {
        {"GET / HTTP/1.1", HTTP1_METHOD_GET},
        {"HEAD / HTTP/1.1", HTTP1_METHOD_HEAD},
        {"POST / HTTP/1.1", HTTP1_METHOD_POST},
        {"PUT /f HTTP/1.1", HTTP1_METHOD_PUT},
        {"DELETE /f HTTP/1.1", HTTP1_METHOD_DELETE},
        {"CONNECT www.example.com:443 HTTP/1.1", HTTP1_METHOD_CONNECT},
        {"CONNECT [2001:db8::1]:443 HTTP/1.0", HTTP1_METHOD_CONNECT},
        {"OPTIONS * HTTP/1.1", HTTP1_METHOD_OPTIONS},
        {"OPTIONS http://h/ HTTP/1.1", HTTP1_METHOD_OPTIONS},
        {"TRACE / HTTP/1.1", HTTP1_METHOD_TRACE},
        {"PROPFIND /dav/ HTTP/1.1", HTTP1_METHOD_OTHER},
        {"PROPPATCH /dav/x HTTP/1.1", HTTP1_METHOD_OTHER},
        {"MKCOL /dav/new/ HTTP/1.1", HTTP1_METHOD_OTHER},
        {"COPY /dav/x HTTP/1.1", HTTP1_METHOD_OTHER},
        {"MOVE /dav/x HTTP/1.1", HTTP1_METHOD_OTHER},
        {"LOCK /dav/x HTTP/1.1", HTTP1_METHOD_OTHER},
        {"UNLOCK /dav/x HTTP/1.1", HTTP1_METHOD_OTHER},
        {"M-SEARCH /x HTTP/1.1", HTTP1_METHOD_OTHER},
        {"BREW /pot HTTP/1.1", HTTP1_METHOD_OTHER},
        {"X_ODD.tok~en!#$%&'*+^`| / HTTP/1.1", HTTP1_METHOD_OTHER},
        {"get / HTTP/1.1", HTTP1_METHOD_OTHER}, /* methods are case-sensitive */
    };
    static char mem[256];
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        int n = snprintf(mem, sizeof(mem), "%s\r\nHost: h\r\n\r\n", ok[i].line);
        struct http1_request req;
        assert_int_equal(req_both(&req, mem, (size_t)n), HTTP1_DONE);
        assert_int_equal(req.method, ok[i].method);
    }
    static const char *const bad_char[] = {
        "GE(T / HTTP/1.1\r\n\r\n",  "GE\tT / HTTP/1.1\r\n\r\n",   "G\xc3\xa9T / HTTP/1.1\r\n\r\n",
        " / HTTP/1.1\r\n\r\n",      "GE\x7fT / HTTP/1.1\r\n\r\n", "GE:T / HTTP/1.1\r\n\r\n",
        "GET\r / HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad_char) / sizeof(bad_char[0]); i++) {
        struct http1_request req;
        assert_int_equal(req_cstr(&req, bad_char[i]), HTTP1_INVALID);
        assert_int_equal(req.error, HTTP1_ERR_METHOD_CHAR);
    }
    /* Target forms must match the method (RFC 9112 3.2.3, 3.2.4). */
    static const char *const bad_form[] = {
        "GET www.example.com:443 HTTP/1.1\r\n\r\n",
        "CONNECT http://www.example.com/ HTTP/1.1\r\n\r\n",
        "CONNECT / HTTP/1.1\r\n\r\n",
        "CONNECT www.example.com HTTP/1.1\r\n\r\n",
        "GET * HTTP/1.1\r\n\r\n",
        "GET https://www.example.com/ HTTP/1.1\r\n\r\n",
        "GET\r\n",
    };
    for (size_t i = 0; i < sizeof(bad_form) / sizeof(bad_form[0]); i++) {
        struct http1_request req;
        assert_int_equal(req_cstr(&req, bad_form[i]), HTTP1_INVALID);
        assert_int_equal(req.error, HTTP1_ERR_URL_FORMAT);
    }
    assert_int_equal(http1_method_from_str(STR_LIT("CONNECT")), HTTP1_METHOD_CONNECT);
    assert_string_equal(http1_method_name(HTTP1_METHOD_OPTIONS), "OPTIONS");
}

static void test_line_ends(void **state)
{
    (void)state;
    struct http1_request req;
    const char *s = "GET / HTTP/1.1\nHost: a\nX: y\r\n\nrest";
    assert_int_equal(req_cstr(&req, s), HTTP1_DONE);
    assert_int_equal(req.head_len, strlen(s) - 4);
    assert_int_equal(req.hdr_count, 2);
    assert_str(req_header(&req, s, "x"), "y");
    /* Up to four empty lines before the request line (RFC 9112 2.2). */
    s = "\r\n\n\r\n\nGET / HTTP/1.0\r\n\r\n";
    assert_int_equal(req_cstr(&req, s), HTTP1_DONE);
    assert_int_equal(req.head_len, strlen(s));
    assert_int_equal(req.method_str.off, 6);
    assert_int_equal(req_cstr(&req, "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.0\r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_METHOD_CHAR);
    /* A CR that does not end the line is a byte of the line. */
    assert_int_equal(req_cstr(&req, "GET /\r HTTP/1.1\r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_URL_CHAR);
    assert_int_equal(req_cstr(&req, "GET / HTTP/1.1\r\r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_VERSION);
    assert_int_equal(req_cstr(&req, "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_HEADER_VALUE);
    assert_int_equal(req_cstr(&req, "GET / HTTP/1.1\r\nA: b\r\r\n\r\n"), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_HEADER_VALUE);
    assert_int_equal(req_cstr(&req, "GET / HTTP/1.1\r\nHost: h\r\n\r"), HTTP1_AGAIN);
}

static size_t build_headers(char *mem, size_t cap, size_t count)
{
    struct buf b;
    buf_init(&b, mem, cap);
    assert_true(buf_append_cstr(&b, "GET / HTTP/1.1\r\n"));
    for (size_t i = 0; i < count; i++)
        assert_true(buf_printf(&b, "X-H%zu: %zu\r\n", i, i));
    assert_true(buf_append_cstr(&b, "\r\n"));
    return buf_len(&b);
}

static void test_header_limits(void **state)
{
    (void)state;
    static char mem[16384];
    struct http1_request req;
    size_t n = build_headers(mem, sizeof(mem), HTTP1_MAX_HEADERS);
    assert_int_equal(req_both(&req, mem, n), HTTP1_DONE);
    assert_int_equal(req.hdr_count, HTTP1_MAX_HEADERS);
    assert_str(http1_fields_value(http1_request_fields(&req, mem), 127), "127");
    n = build_headers(mem, sizeof(mem), HTTP1_MAX_HEADERS + 1);
    assert_int_equal(req_both(&req, mem, n), HTTP1_TOO_LONG);
    assert_int_equal(req.error, HTTP1_ERR_TOO_MANY_HEADERS);
    assert_int_equal(http1_error_status(req.error), 431);

    /* max_head: a head of exactly max_head bytes fits, one more does not. */
    n = build_headers(mem, sizeof(mem), 10);
    assert_int_equal(parse_req(&req, mem, n, n), HTTP1_DONE);
    assert_int_equal(req.head_len, n);
    check_bytewise_req(mem, n, n, &req, HTTP1_DONE);
    enum http1_result r = parse_req(&req, mem, n, n - 1);
    assert_int_equal(r, HTTP1_TOO_LONG);
    assert_int_equal(req.error, HTTP1_ERR_HEAD_TOO_LONG);
    check_bytewise_req(mem, n, n - 1, &req, r);
    /* Reached with fewer bytes than the whole head too. */
    assert_int_equal(parse_req(&req, mem, n - 1, n - 1), HTTP1_TOO_LONG);
    assert_int_equal(parse_req(&req, mem, n - 2, n - 1), HTTP1_AGAIN);
}

static void expect_invalid(const char *s, enum http1_error e)
{
    struct http1_request req;
    assert_int_equal(req_cstr(&req, s), HTTP1_INVALID);
    if (req.error != e)
        fail_msg("%s: got %s, want %s", s, http1_error_name(req.error), http1_error_name(e));
}

static enum http1_body body_of(const char *s, uint64_t *len)
{
    static struct http1_request req;
    assert_int_equal(req_cstr(&req, s), HTTP1_DONE);
    return http1_request_body_kind(&req, s, len);
}

static void test_smuggling(void **state)
{
    (void)state;
    uint64_t len = 0;
    /* Head-level rejections. */
    expect_invalid("POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", HTTP1_ERR_HEADER_NAME);
    expect_invalid("POST / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n",
                   HTTP1_ERR_HEADER_NAME);
    expect_invalid("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", HTTP1_ERR_OBS_FOLD);
    expect_invalid("GET / HTTP/1.1\r\n\tX: y\r\n\r\n", HTTP1_ERR_OBS_FOLD);
    expect_invalid("GET / HTTP/1.1\r\n X: y\r\n\r\n", HTTP1_ERR_OBS_FOLD);
    static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
    struct http1_request req;
    assert_int_equal(req_both(&req, nul, sizeof(nul) - 1), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_HEADER_VALUE);
    static const char nul_name[] = "GET / HTTP/1.1\r\nX\0: ab\r\n\r\n";
    assert_int_equal(req_both(&req, nul_name, sizeof(nul_name) - 1), HTTP1_INVALID);
    assert_int_equal(req.error, HTTP1_ERR_HEADER_NAME);
    expect_invalid("GET / HTTP/1.1\r\n: empty\r\n\r\n", HTTP1_ERR_HEADER_NAME);
    expect_invalid("GET / HTTP/1.1\r\nNoColon\r\n\r\n", HTTP1_ERR_HEADER_NAME);
    expect_invalid("GET / HTTP/1.1\r\nX(y): z\r\n\r\n", HTTP1_ERR_HEADER_NAME);
    expect_invalid("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", HTTP1_ERR_DUPLICATE_HOST);

    /* Message-length rules (RFC 9112 6.3). */
    assert_int_equal(body_of("POST / HTTP/1.1\r\nContent-Length: 5\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n",
                             &len),
                     HTTP1_BODY_INVALID);
    assert_int_equal(
        body_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", &len),
        HTTP1_BODY_INVALID);
    assert_int_equal(
        body_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &len),
        HTTP1_BODY_INVALID);
    static const char *const bad_cl[] = {"+5",
                                         "-1",
                                         "5 5",
                                         "5,5",
                                         "0x5",
                                         "",
                                         "5a",
                                         "9223372036854775808",
                                         "99999999999999999999999"};
    static char mem[256];
    for (size_t i = 0; i < sizeof(bad_cl) / sizeof(bad_cl[0]); i++) {
        snprintf(mem, sizeof(mem), "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n", bad_cl[i]);
        assert_int_equal(body_of(mem, &len), HTTP1_BODY_INVALID);
    }
    assert_int_equal(
        body_of("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n", &len),
        HTTP1_BODY_LENGTH);
    assert_true(len == 9223372036854775807ull);
    assert_int_equal(body_of("POST / HTTP/1.1\r\ncontent-length:  0042 \r\n\r\n", &len),
                     HTTP1_BODY_LENGTH);
    assert_int_equal(len, 42);
    assert_int_equal(body_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &len),
                     HTTP1_BODY_CHUNKED);
    assert_int_equal(body_of("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &len),
                     HTTP1_BODY_CHUNKED);
    static const char *const bad_te[] = {
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad_te) / sizeof(bad_te[0]); i++)
        assert_int_equal(body_of(bad_te[i], &len), HTTP1_BODY_INVALID);
}

/* ---------------------------------------------------------------- URLs */

struct url_case {
    const char *url;
    enum http1_url_form form;
    enum http1_url_scheme scheme;
    enum http1_host_kind kind;
    const char *host;
    unsigned port;
    const char *path_query;
    const char *path;
    const char *query; /* NULL: no '?' */
};

static void test_url_forms(void **state)
{
    (void)state;
    static const struct url_case ok[] = {
        {"http://example.com", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_NAME,
         "example.com", 80, "/", "/", NULL},
        {"HTTP://Example.com:8080/a?b=c&d", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_NAME,
         "Example.com", 8080, "/a?b=c&d", "/a", "b=c&d"},
        {"http://h:/x", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_NAME, "h", 80, "/x", "/x",
         NULL},
        {"http://192.0.2.1:65535/", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_IPV4,
         "192.0.2.1", 65535, "/", "/", NULL},
        {"http://[2001:db8::1]/p?", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_IPV6,
         "2001:db8::1", 80, "/p?", "/p", ""},
        {"http://[::1]:8080", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_IPV6, "::1", 8080,
         "/", "/", NULL},
        {"http://[::ffff:192.0.2.1]/", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_IPV6,
         "::ffff:192.0.2.1", 80, "/", "/", NULL},
        {"http://[1:2:3:4:5:6:7:8]/", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_IPV6,
         "1:2:3:4:5:6:7:8", 80, "/", "/", NULL},
        {"http://[fe80::]/", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_IPV6, "fe80::", 80,
         "/", "/", NULL},
        {"http://under_score.example-1.jp/%7Efoo/\xe6\x97\xa5", HTTP1_URL_ABSOLUTE,
         HTTP1_SCHEME_HTTP, HTTP1_HOST_NAME, "under_score.example-1.jp", 80, "/%7Efoo/\xe6\x97\xa5",
         "/%7Efoo/\xe6\x97\xa5", NULL},
        {"http://www.example.com./", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_NAME,
         "www.example.com.", 80, "/", "/", NULL},
        {"http://1host.example/", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_HTTP, HTTP1_HOST_NAME,
         "1host.example", 80, "/", "/", NULL},
        {"ftp://ftp.example.org/pub/file.zip;type=i", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_FTP,
         HTTP1_HOST_NAME, "ftp.example.org", 21, "/pub/file.zip;type=i", "/pub/file.zip;type=i",
         NULL},
        {"FTP://ftp.example.org:2121", HTTP1_URL_ABSOLUTE, HTTP1_SCHEME_FTP, HTTP1_HOST_NAME,
         "ftp.example.org", 2121, "/", "/", NULL},
        {"/", HTTP1_URL_ORIGIN, HTTP1_SCHEME_NONE, HTTP1_HOST_NONE, "", 0, "/", "/", NULL},
        {"/a/b?x=1?y", HTTP1_URL_ORIGIN, HTTP1_SCHEME_NONE, HTTP1_HOST_NONE, "", 0, "/a/b?x=1?y",
         "/a/b", "x=1?y"},
        {"//double", HTTP1_URL_ORIGIN, HTTP1_SCHEME_NONE, HTTP1_HOST_NONE, "", 0, "//double",
         "//double", NULL},
        {"www.example.com:443", HTTP1_URL_AUTHORITY, HTTP1_SCHEME_NONE, HTTP1_HOST_NAME,
         "www.example.com", 443, "", "", NULL},
        {"10.0.0.1:1", HTTP1_URL_AUTHORITY, HTTP1_SCHEME_NONE, HTTP1_HOST_IPV4, "10.0.0.1", 1, "",
         "", NULL},
        {"[::1]:443", HTTP1_URL_AUTHORITY, HTTP1_SCHEME_NONE, HTTP1_HOST_IPV6, "::1", 443, "", "",
         NULL},
        {"*", HTTP1_URL_ASTERISK, HTTP1_SCHEME_NONE, HTTP1_HOST_NONE, "", 0, "*", "*", NULL},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct http1_url u;
        const struct url_case *c = &ok[i];
        if (!http1_parse_url(str_from_cstr(c->url), &u))
            fail_msg("rejected %s", c->url);
        assert_int_equal(u.form, c->form);
        assert_int_equal(u.scheme, c->scheme);
        assert_int_equal(u.host_kind, c->kind);
        assert_str(u.host, c->host);
        assert_int_equal(u.port, c->port);
        assert_str(u.path_query, c->path_query);
        assert_str(u.path, c->path);
        assert_int_equal(u.has_query, c->query != NULL);
        assert_str(u.query, c->query ? c->query : "");
    }
    struct http1_url u;
    assert_true(http1_parse_url(STR_LIT("http://h:81/x"), &u));
    assert_str(u.authority, "h:81");
    assert_true(u.port_given);
    assert_true(http1_parse_url(STR_LIT("http://[::1]/x"), &u));
    assert_str(u.authority, "[::1]");
    assert_false(u.port_given);
    assert_true(http1_parse_url(STR_LIT("ftp://anon:me%40x@ftp.example.org/pub/"), &u));
    assert_str(u.user, "anon");
    assert_true(u.has_password);
    assert_str(u.password, "me%40x");
    assert_str(u.host, "ftp.example.org");
    assert_int_equal(u.port, 21);
    assert_true(http1_parse_url(STR_LIT("ftp://user@h/"), &u));
    assert_str(u.user, "user");
    assert_false(u.has_password);

    static const char *const bad[] = {
        "",
        "http://",
        "http:///x",
        "http://user@example.com/",
        "http://u:p@example.com/",
        "ftp://a@b@c/",
        "https://example.com/",
        "gopher://example.com/",
        "http//example.com/",
        "http:/example.com/",
        "http://example.com:0/",
        "http://example.com:65536/",
        "http://example.com:123456/",
        "http://example.com:8o/",
        "http://example.com:-1/",
        "http://exa mple.com/",
        "http://exa%2ample.com/",
        "http://ex!ample.com/",
        "http://127.1/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://2130706433/",
        "http://010.0.0.1/",
        "http://1.2.3.4.5/",
        "http://256.0.0.1/",
        "http://1.2.3/",
        "http://host.123/",
        "http://[::1/",
        "http://[::1]x/",
        "http://[fe80::1%25eth0]/",
        "http://[v1.x]/",
        "http://[1:2:3:4:5:6:7:8:9]/",
        "http://[1:2:3:4:5:6:7]/",
        "http://[1::2::3]/",
        "http://[12345::]/",
        "http://[:1]/",
        "http://[1:]/",
        "http://[::1.2.3]/",
        "http://h?q",
        "http://h/#frag",
        "http://h#frag",
        "http://h/a b",
        "http://h/\x7f",
        "/a#b",
        "/a\x01",
        "a/b",
        "www.example.com",
        "www.example.com:",
        "user@www.example.com:443",
        "[::1]",
        "**",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (http1_parse_url(str_from_cstr(bad[i]), &u))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    /* Host length: 255 is fine, 256 is not (RFC 1035 2.3.4). */
    static char url[400];
    char *h255 = repeat('a', HTTP1_HOST_MAX);
    snprintf(url, sizeof(url), "http://%s/", h255);
    assert_true(http1_parse_url(str_from_cstr(url), &u));
    snprintf(url, sizeof(url), "http://%sa/", h255);
    assert_false(http1_parse_url(str_from_cstr(url), &u));
    free(h255);
}

/* ------------------------------------------------------------ responses */

static bool same_response(const struct http1_response *a, enum http1_result ra,
                          const struct http1_response *b, enum http1_result rb)
{
    if (ra != rb || a->error != b->error || a->parsed_len != b->parsed_len ||
        a->hdr_count != b->hdr_count)
        return false;
    if (a->parsed_len > 0 &&
        (a->status != b->status || a->version != b->version || !same_span(a->reason, b->reason)))
        return false;
    if (ra == HTTP1_DONE && a->head_len != b->head_len)
        return false;
    for (size_t i = 0; i < a->hdr_count; i++) {
        if (!same_span(a->hdr[i].name, b->hdr[i].name) ||
            !same_span(a->hdr[i].value, b->hdr[i].value))
            return false;
    }
    return true;
}

static enum http1_result resp_both(struct http1_response *resp, const char *p, size_t n,
                                   size_t max_head)
{
    http1_response_init(resp, max_head);
    enum http1_result rw = http1_parse_response(resp, p, n);
    static struct http1_response step;
    http1_response_init(&step, max_head);
    enum http1_result r = HTTP1_AGAIN;
    for (size_t k = 1; k <= n && r == HTTP1_AGAIN; k++)
        r = http1_parse_response(&step, p, k);
    assert_true(same_response(resp, rw, &step, r));
    return rw;
}

static enum http1_result resp_cstr(struct http1_response *resp, const char *s)
{
    return resp_both(resp, s, strlen(s), HTTP1_RESPONSE_HEAD_MAX);
}

static void test_response_basic(void **state)
{
    (void)state;
    struct http1_response resp;
    const char *s = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.version, HTTP1_VERSION_1_1);
    assert_str(http1_span_str(s, resp.reason), "OK");
    assert_int_equal(resp.head_len, strlen(s) - 5);
    assert_int_equal(resp.parsed_len, resp.head_len);
    assert_int_equal(resp.hdr_count, 2);
    uint64_t len;
    assert_int_equal(http1_response_body_kind(&resp, s, HTTP1_METHOD_GET, &len), HTTP1_BODY_LENGTH);
    assert_int_equal(len, 5);

    s = "HTTP/1.0 404 Not   Found \t\nServer: x\n\n";
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    assert_int_equal(resp.version, HTTP1_VERSION_1_0);
    assert_int_equal(resp.status, 404);
    assert_str(http1_span_str(s, resp.reason), "Not   Found \t");
    assert_int_equal(http1_response_body_kind(&resp, s, HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_UNTIL_CLOSE);

    s = "\r\nHTTP/1.1 204\r\n\r\n";
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    assert_int_equal(resp.status, 204);
    assert_int_equal(resp.reason.len, 0);
    s = "HTTP/1.1 302 \r\nLocation: /\r\n\r\n";
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    assert_int_equal(resp.reason.len, 0);
    s = "HTTP/1.2 200 OK\r\n\r\n";
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    assert_int_equal(resp.version, HTTP1_VERSION_1_1);
    s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n";
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    assert_int_equal(resp.head_len, strlen("HTTP/1.1 100 Continue\r\n\r\n"));

    static const struct {
        const char *s;
        enum http1_error e;
    } bad[] = {
        {"<html>hello</html>", HTTP1_ERR_RESPONSE_09},
        {"http/1.1 200 OK\r\n\r\n", HTTP1_ERR_RESPONSE_09},
        {"HTTX", HTTP1_ERR_RESPONSE_09},
        {"HTT\r\n", HTTP1_ERR_RESPONSE_09},
        {"\rHTTP/1.1 200 OK\r\n\r\n", HTTP1_ERR_RESPONSE_09},
        {"HTTP/2.0 200 OK\r\n\r\n", HTTP1_ERR_RESPONSE_VERSION},
        {"HTTP/0.9 200 OK\r\n\r\n", HTTP1_ERR_RESPONSE_VERSION},
        {"HTTP/1.1 2000 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 20 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 099 Low\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 600 High\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1  200 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 200 O\x01K\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 200 O\rK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.x 200 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/11 200 OK\r\n\r\n", HTTP1_ERR_STATUS_LINE},
        {"HTTP/1.1 200 OK\r\nA : b\r\n\r\n", HTTP1_ERR_HEADER_NAME},
        {"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", HTTP1_ERR_OBS_FOLD},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(resp_cstr(&resp, bad[i].s), HTTP1_INVALID);
        if (resp.error != bad[i].e)
            fail_msg("%s: got %s", bad[i].s, http1_error_name(resp.error));
    }
    assert_int_equal(http1_error_status(HTTP1_ERR_RESPONSE_09), 502);
    /* An HTTP/0.9 answer is recognised from its first byte. */
    http1_response_init(&resp, HTTP1_RESPONSE_HEAD_MAX);
    assert_int_equal(http1_parse_response(&resp, "<", 1), HTTP1_INVALID);
    http1_response_init(&resp, HTTP1_RESPONSE_HEAD_MAX);
    assert_int_equal(http1_parse_response(&resp, "HTTP/1.1 200 OK\r", 16), HTTP1_AGAIN);
}

/* A response head with n_big headers of 1000 bytes each. */
static size_t build_big_response(char *mem, size_t cap, size_t n_big)
{
    struct buf b;
    buf_init(&b, mem, cap);
    assert_true(buf_append_cstr(&b, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n"));
    for (size_t i = 0; i < n_big; i++) {
        assert_true(buf_printf(&b, "Set-Cookie: c%03zu=", i));
        for (size_t k = 0; k < 1000 - 19; k++)
            assert_true(buf_append(&b, "v", 1));
        assert_true(buf_append_cstr(&b, "\r\n"));
    }
    assert_true(buf_append_cstr(&b, "\r\nBODY"));
    return buf_len(&b);
}

static void test_response_head_limit(void **state)
{
    (void)state;
    static char mem[70000];
    struct http1_response resp;
    /* 8 KB of headers pass (C-01). */
    size_t n = build_big_response(mem, sizeof(mem), 8);
    assert_int_equal(resp_both(&resp, mem, n, HTTP1_RESPONSE_HEAD_MAX), HTTP1_DONE);
    assert_int_equal(resp.hdr_count, 9);
    assert_int_equal(resp.head_len, n - 4);

    /* 64 KB trigger the limit; what fits is usable and the rest skips. */
    n = build_big_response(mem, sizeof(mem), 64);
    assert_int_equal(resp_both(&resp, mem, n, HTTP1_RESPONSE_HEAD_MAX), HTTP1_TOO_LONG);
    assert_int_equal(resp.error, HTTP1_ERR_HEAD_TOO_LONG);
    assert_int_equal(resp.status, 200);
    size_t first = strlen("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n");
    assert_int_equal(resp.hdr_count, 1 + (HTTP1_RESPONSE_HEAD_MAX - first) / 1000);
    assert_int_equal(resp.parsed_len, first + (resp.hdr_count - 1) * 1000);
    assert_true(resp.parsed_len <= HTTP1_RESPONSE_HEAD_MAX);
    assert_int_equal(mem[resp.parsed_len - 1], '\n');
    uint64_t len;
    assert_int_equal(http1_response_body_kind(&resp, mem, HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_LENGTH);
    assert_int_equal(len, 4);
    struct http1_skip sk;
    http1_skip_init(&sk);
    size_t used = 0, at = resp.parsed_len;
    enum http1_result r = HTTP1_AGAIN;
    while (r == HTTP1_AGAIN && at < n) {
        size_t piece = (n - at) < 777 ? n - at : 777; /* arbitrary segments */
        r = http1_skip_head(&sk, mem + at, piece, &used);
        at += used;
    }
    assert_int_equal(r, HTTP1_DONE);
    assert_memory_equal(mem + at, "BODY", 4);

    /* The limit is exact: a head of 17408 bytes fits, 17409 does not. */
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "HTTP/1.1 200 OK\r\nX: "));
    while (buf_len(&b) < HTTP1_RESPONSE_HEAD_MAX - 4)
        assert_true(buf_append(&b, "x", 1));
    assert_true(buf_append_cstr(&b, "\r\n\r\n"));
    n = buf_len(&b);
    assert_int_equal(n, HTTP1_RESPONSE_HEAD_MAX);
    assert_int_equal(resp_both(&resp, mem, n, HTTP1_RESPONSE_HEAD_MAX), HTTP1_DONE);
    /* One byte less: the X line still fits, the empty line does not. */
    assert_int_equal(resp_both(&resp, mem, n, HTTP1_RESPONSE_HEAD_MAX - 1), HTTP1_TOO_LONG);
    assert_int_equal(resp.hdr_count, 1);
    assert_int_equal(resp.parsed_len, n - 2);

    /* A status line that does not fit leaves nothing usable. */
    assert_int_equal(resp_both(&resp, mem, n, 10), HTTP1_TOO_LONG);
    assert_int_equal(resp.parsed_len, 0);

    /* Too many header lines: also TOO_LONG with the lines kept. */
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "HTTP/1.1 200 OK\r\n"));
    for (size_t i = 0; i < HTTP1_MAX_HEADERS + 5; i++)
        assert_true(buf_printf(&b, "H%zu: v\r\n", i));
    assert_true(buf_append_cstr(&b, "\r\n"));
    n = buf_len(&b);
    assert_int_equal(resp_both(&resp, mem, n, HTTP1_RESPONSE_HEAD_MAX), HTTP1_TOO_LONG);
    assert_int_equal(resp.error, HTTP1_ERR_TOO_MANY_HEADERS);
    assert_int_equal(resp.hdr_count, HTTP1_MAX_HEADERS);
    assert_memory_equal(mem + resp.parsed_len, "H128: v\r\n", 9);
    http1_skip_init(&sk);
    assert_int_equal(http1_skip_head(&sk, mem + resp.parsed_len, n - resp.parsed_len, &used),
                     HTTP1_DONE);
    assert_int_equal(resp.parsed_len + used, n);
}

static void test_skip_head(void **state)
{
    (void)state;
    struct http1_skip sk;
    size_t used;
    const char *s = "a: b\n\rx\r\n\r\nrest";
    http1_skip_init(&sk);
    assert_int_equal(http1_skip_head(&sk, s, strlen(s), &used), HTTP1_DONE);
    assert_int_equal(used, strlen(s) - 4);
    /* One byte at a time. */
    http1_skip_init(&sk);
    size_t at = 0;
    enum http1_result r = HTTP1_AGAIN;
    while (r == HTTP1_AGAIN) {
        r = http1_skip_head(&sk, s + at, 1, &used);
        at += used;
    }
    assert_int_equal(at, strlen(s) - 4);
    http1_skip_init(&sk);
    assert_int_equal(http1_skip_head(&sk, "\n", 1, &used), HTTP1_DONE);
    http1_skip_init(&sk);
    assert_int_equal(http1_skip_head(&sk, "abc\r\ndef", 8, &used), HTTP1_AGAIN);
    assert_int_equal(used, 8);
}

static enum http1_body resp_body(const char *s, enum http1_method m, uint64_t *len)
{
    static struct http1_response resp;
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    return http1_response_body_kind(&resp, s, m, len);
}

static void test_response_body_kind(void **state)
{
    (void)state;
    uint64_t len;
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
    assert_int_equal(resp_body(cl, HTTP1_METHOD_HEAD, &len), HTTP1_BODY_NONE);
    assert_int_equal(resp_body(cl, HTTP1_METHOD_GET, &len), HTTP1_BODY_LENGTH);
    assert_int_equal(len, 10);
    assert_int_equal(
        resp_body("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", HTTP1_METHOD_GET, &len),
        HTTP1_BODY_NONE);
    assert_int_equal(resp_body("HTTP/1.1 304 Not Modified\r\n\r\n", HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_NONE);
    assert_int_equal(resp_body("HTTP/1.1 101 Switching\r\n\r\n", HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_NONE);
    assert_int_equal(
        resp_body("HTTP/1.1 200 Connection established\r\n\r\n", HTTP1_METHOD_CONNECT, &len),
        HTTP1_BODY_TUNNEL);
    assert_int_equal(
        resp_body("HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\n", HTTP1_METHOD_CONNECT, &len),
        HTTP1_BODY_LENGTH);
    assert_int_equal(resp_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                               "Content-Length: 10\r\n\r\n",
                               HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_CHUNKED);
    assert_int_equal(resp_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                               HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_CHUNKED);
    assert_int_equal(resp_body("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
                               HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_UNTIL_CLOSE);
    assert_int_equal(
        resp_body("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP1_METHOD_GET, &len),
        HTTP1_BODY_INVALID);
    assert_int_equal(resp_body("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
                               HTTP1_METHOD_GET, &len),
                     HTTP1_BODY_INVALID);
    assert_int_equal(
        resp_body("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", HTTP1_METHOD_GET, &len),
        HTTP1_BODY_INVALID);
    assert_int_equal(resp_body("HTTP/1.1 200 OK\r\n\r\n", HTTP1_METHOD_POST, &len),
                     HTTP1_BODY_UNTIL_CLOSE);
    assert_string_equal(http1_body_name(HTTP1_BODY_UNTIL_CLOSE), "UNTIL_CLOSE");
}

static void test_header_helpers(void **state)
{
    (void)state;
    const char *s = "HTTP/1.1 200 OK\r\n"
                    "Connection: keep-alive, Close\r\n"
                    "Set-Cookie: a=1\r\n"
                    "set-cookie: b=2\r\n"
                    "Transfer-Encoding: gzip\r\n"
                    "TRANSFER-ENCODING: , chunked ,\r\n"
                    "\r\n";
    struct http1_response resp;
    assert_int_equal(resp_cstr(&resp, s), HTTP1_DONE);
    struct http1_fields f = http1_response_fields(&resp, s);
    assert_int_equal(f.count, 5);
    assert_str(http1_fields_name(f, 2), "set-cookie");
    assert_int_equal(http1_fields_name(f, 5).len, 0);
    size_t it = 0, seen = 0;
    struct str v;
    const char *want[] = {"a=1", "b=2"};
    while (http1_fields_find(f, "Set-Cookie", &it, &v)) {
        assert_true(seen < 2);
        assert_str(v, want[seen++]);
    }
    assert_int_equal(seen, 2);
    assert_int_equal(http1_fields_count(f, "SET-COOKIE"), 2);
    assert_int_equal(http1_fields_count(f, "Cookie"), 0);
    it = 0;
    assert_true(http1_fields_find(f, "connection", &it, &v));
    assert_true(http1_header_has_token(v, "close"));
    assert_true(http1_header_has_token(v, "Keep-Alive"));
    assert_false(http1_header_has_token(v, "keep"));
    assert_true(http1_is_chunked(f));
    assert_true(http1_header_has_token(STR_LIT(" , ,close;x=1 ,"), "close"));
    assert_false(http1_header_has_token(STR_LIT("closed, unclose"), "close"));
    assert_false(http1_header_has_token(STR_LIT(""), "close"));
    uint64_t n = 7;
    assert_int_equal(http1_content_length(f, &n), HTTP1_CL_NONE);
    assert_int_equal(n, 7);

    const char *t =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: br\r\n\r\n";
    assert_int_equal(resp_cstr(&resp, t), HTTP1_DONE);
    assert_false(http1_is_chunked(http1_response_fields(&resp, t)));
}

/* ------------------------------------------------------------- chunked */

static const char chunk_sample[] = "4\r\nWiki\r\n"
                                   "5;name=\"va;l\"\r\npedia\r\n"
                                   "E \t; a ; b=c\r\n in\r\n\r\nchunks.\r\n"
                                   "000\r\n"
                                   "X-Trailer: 1\r\nY: 2\r\n"
                                   "\r\n"
                                   "NEXT";
static const char chunk_decoded[] = "Wikipedia in\r\n\r\nchunks.";

/* Decode in pieces: pieces[] are the lengths made available in turn (0
 * terminated; the rest at the end). Collects data into out. */
static enum http1_result chunk_run(const char *in, size_t len, const size_t *pieces, char *out,
                                   size_t cap, size_t *out_len, size_t *used_total)
{
    struct http1_chunked st;
    http1_chunked_init(&st);
    size_t at = 0, avail = 0, o = 0, p = 0;
    enum http1_result r = HTTP1_AGAIN;
    for (size_t guard = 0; guard < 4 * len + 16 && r == HTTP1_AGAIN; guard++) {
        if (at == avail) {
            if (avail == len)
                break;
            size_t step = pieces && pieces[p] ? pieces[p++] : len - avail;
            avail = avail + step > len ? len : avail + step;
        }
        size_t used;
        struct str data;
        r = http1_chunked_decode(&st, in + at, avail - at, &used, &data);
        assert_true(used <= avail - at);
        if (data.len > 0) {
            assert_true(data.ptr >= in + at && data.ptr + data.len <= in + at + used);
            assert_true(o + data.len <= cap);
            memcpy(out + o, data.ptr, data.len);
            o += data.len;
        }
        at += used;
    }
    *out_len = o;
    *used_total = at;
    return r;
}

static void test_chunked_every_split(void **state)
{
    (void)state;
    size_t len = sizeof(chunk_sample) - 1, dlen = sizeof(chunk_decoded) - 1;
    char out[128];
    size_t olen, used;
    assert_int_equal(chunk_run(chunk_sample, len, NULL, out, sizeof(out), &olen, &used),
                     HTTP1_DONE);
    assert_int_equal(olen, dlen);
    assert_memory_equal(out, chunk_decoded, dlen);
    assert_int_equal(used, len - 4); /* "NEXT" is the next message */
    for (size_t cut = 1; cut < len; cut++) {
        size_t pieces[] = {cut, 0};
        assert_int_equal(chunk_run(chunk_sample, len, pieces, out, sizeof(out), &olen, &used),
                         HTTP1_DONE);
        assert_int_equal(olen, dlen);
        assert_memory_equal(out, chunk_decoded, dlen);
        assert_int_equal(used, len - 4);
    }
    size_t ones[sizeof(chunk_sample)];
    for (size_t i = 0; i < len; i++)
        ones[i] = 1;
    ones[len] = 0;
    assert_int_equal(chunk_run(chunk_sample, len, ones, out, sizeof(out), &olen, &used),
                     HTTP1_DONE);
    assert_int_equal(olen, dlen);
    assert_memory_equal(out, chunk_decoded, dlen);
    assert_int_equal(used, len - 4);
}

static enum http1_result chunk_cstr(const char *s, size_t *out_len)
{
    char out[256];
    size_t used;
    return chunk_run(s, strlen(s), NULL, out, sizeof(out), out_len, &used);
}

static void test_chunked_invalid(void **state)
{
    (void)state;
    size_t olen;
    assert_int_equal(chunk_cstr("0\r\n\r\n", &olen), HTTP1_DONE);
    assert_int_equal(olen, 0);
    assert_int_equal(chunk_cstr("00000000000000000000000000000004\r\nabcd\r\n0\r\n\r\n", &olen),
                     HTTP1_DONE);
    assert_int_equal(olen, 4);
    assert_int_equal(chunk_cstr("a\r\n0123456789\r\n0\r\n\r\n", &olen), HTTP1_DONE);
    assert_int_equal(olen, 10);
    assert_int_equal(chunk_cstr("4\r\nabcd\r\n", &olen), HTTP1_AGAIN);
    static const char *const bad[] = {
        "",                                      /* (AGAIN, not bad: checked below) */
        "x\r\n",                                 /* not hex */
        ";\r\n",                                 /* no digits */
        " 4\r\nabcd\r\n0\r\n\r\n",               /* leading space */
        "4\nabcd\r\n0\r\n\r\n",                  /* bare LF after size */
        "4\rabcd\r\n0\r\n\r\n",                  /* bare CR after size */
        "4\r\nabcdX\r\n0\r\n\r\n",               /* data longer than size */
        "4\r\nabcd\n0\r\n\r\n",                  /* bare LF after data */
        "4;a\nb\r\nabcd\r\n0\r\n\r\n",           /* LF in extension */
        "4;a\x01\r\nabcd\r\n0\r\n\r\n",          /* control byte in extension */
        "4 x\r\nabcd\r\n0\r\n\r\n",              /* junk after size */
        "-4\r\nabcd\r\n0\r\n\r\n",               /* sign */
        "0x4\r\nabcd\r\n0\r\n\r\n",              /* 0x prefix */
        "10000000000000000\r\n",                 /* 2^64: overflow */
        "000000000000000000000000000000001\r\n", /* 33 digits */
        "0\r\nX: y\n\r\n",                       /* bare LF in trailer */
        "0\r\n\n",                               /* bare LF at end */
        "0\r\n\rX",                              /* CR not followed by LF */
    };
    assert_int_equal(chunk_cstr(bad[0], &olen), HTTP1_AGAIN);
    for (size_t i = 1; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum http1_result r = chunk_cstr(bad[i], &olen);
        if (r != HTTP1_INVALID)
            fail_msg("case %zu: %s", i, http1_result_name(r));
    }
    /* 16 hex digits are the most a size can have without overflow. */
    struct http1_chunked st;
    size_t used;
    struct str data;
    http1_chunked_init(&st);
    assert_int_equal(http1_chunked_decode(&st, "ffffffffffffffff\r\nab", 20, &used, &data),
                     HTTP1_AGAIN);
    assert_int_equal(used, 20);
    assert_int_equal(data.len, 2);
    assert_memory_equal(data.ptr, "ab", 2);
    assert_true(st.remaining == UINT64_MAX - 2);

    /* Bounded extensions and trailers. */
    static char mem[40000];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "1;"));
    for (size_t i = 0; i < HTTP1_CHUNK_EXT_MAX + 1; i++)
        assert_true(buf_append(&b, "e", 1));
    assert_true(buf_append_cstr(&b, "\r\nx\r\n0\r\n\r\n"));
    http1_chunked_init(&st);
    assert_int_equal(http1_chunked_decode(&st, mem, buf_len(&b), &used, &data), HTTP1_TOO_LONG);
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "1;"));
    for (size_t i = 0; i < HTTP1_CHUNK_EXT_MAX; i++)
        assert_true(buf_append(&b, "e", 1));
    assert_true(buf_append_cstr(&b, "\r\nx\r\n0\r\n\r\n"));
    assert_int_equal(chunk_run(mem, buf_len(&b), NULL, mem + 20000, 100, &olen, &used), HTTP1_DONE);
    buf_init(&b, mem, sizeof(mem));
    assert_true(buf_append_cstr(&b, "0\r\n"));
    while (buf_len(&b) < HTTP1_CHUNK_TRAILER_MAX + 100)
        assert_true(buf_append_cstr(&b, "X-T: 0123456789\r\n"));
    assert_true(buf_append_cstr(&b, "\r\n"));
    http1_chunked_init(&st);
    enum http1_result r = HTTP1_AGAIN;
    size_t at = 0;
    while (r == HTTP1_AGAIN && at < buf_len(&b)) {
        r = http1_chunked_decode(&st, mem + at, buf_len(&b) - at, &used, &data);
        at += used;
    }
    assert_int_equal(r, HTTP1_TOO_LONG);
    /* Final results stick and consume nothing. */
    assert_int_equal(http1_chunked_decode(&st, "0\r\n\r\n", 5, &used, &data), HTTP1_TOO_LONG);
    assert_int_equal(used, 0);
    http1_chunked_init(&st);
    assert_int_equal(http1_chunked_decode(&st, "0\r\n\r\nXYZ", 8, &used, &data), HTTP1_DONE);
    assert_int_equal(used, 5);
    assert_int_equal(http1_chunked_decode(&st, "XYZ", 3, &used, &data), HTTP1_DONE);
    assert_int_equal(used, 0);
}

/* -------------------------------------------------------------- golden */

static void dump_str(struct buf *b, struct str s)
{
    buf_append_cstr(b, "\"");
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            buf_append(b, &s.ptr[i], 1);
        else
            buf_printf(b, "\\x%02x", c);
    }
    buf_append_cstr(b, "\"");
}

static const char *scheme_name(enum http1_url_scheme s)
{
    return s == HTTP1_SCHEME_HTTP ? "http" : s == HTTP1_SCHEME_FTP ? "ftp" : "none";
}

static const char *host_kind_name(enum http1_host_kind k)
{
    static const char *const names[] = {"none", "name", "ipv4", "ipv6"};
    return (size_t)k < 4 ? names[k] : "?";
}

/* The textual form of a request parse that the .out files hold. */
static void dump_request(struct buf *b, const struct http1_request *req, enum http1_result r,
                         const char *in)
{
    buf_printf(b, "result %s\n", http1_result_name(r));
    if (r == HTTP1_AGAIN)
        return;
    if (r != HTTP1_DONE) {
        buf_printf(b, "error %s %d ", http1_error_name(req->error), http1_error_status(req->error));
        dump_str(b, str_from_cstr(http1_error_message(req->error)));
        buf_append_cstr(b, "\n");
        return;
    }
    buf_printf(b, "head_len %zu\nmethod %s ", req->head_len, http1_method_name(req->method));
    dump_str(b, http1_span_str(in, req->method_str));
    buf_printf(b, "\nversion %s ", http1_version_name(req->version));
    dump_str(b, http1_span_str(in, req->version_str));
    buf_printf(b, "\ntarget %s ", http1_url_form_name(req->target_form));
    dump_str(b, http1_span_str(in, req->target));
    buf_append_cstr(b, "\n");
    struct http1_url u;
    if (http1_request_url(req, in, &u)) {
        buf_printf(b, "url scheme=%s host_kind=%s host=", scheme_name(u.scheme),
                   host_kind_name(u.host_kind));
        dump_str(b, u.host);
        buf_printf(b, " port=%u path_query=", (unsigned)u.port);
        dump_str(b, u.path_query);
        if (u.user.len > 0 || u.has_password) {
            buf_append_cstr(b, " user=");
            dump_str(b, u.user);
            if (u.has_password) {
                buf_append_cstr(b, " password=");
                dump_str(b, u.password);
            }
        }
        buf_append_cstr(b, "\n");
    } else {
        buf_append_cstr(b, "url UNPARSABLE\n");
    }
    struct http1_fields f = http1_request_fields(req, in);
    for (size_t i = 0; i < f.count; i++) {
        buf_append_cstr(b, "header ");
        dump_str(b, http1_fields_name(f, i));
        buf_append_cstr(b, " ");
        dump_str(b, http1_fields_value(f, i));
        buf_append_cstr(b, "\n");
    }
    uint64_t len = 0;
    enum http1_body body = http1_request_body_kind(req, in, &len);
    buf_printf(b, "body %s", http1_body_name(body));
    if (body == HTTP1_BODY_LENGTH)
        buf_printf(b, " %llu", (unsigned long long)len);
    buf_append_cstr(b, "\n");
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *data = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            char *grown = realloc(data, cap);
            if (!grown) {
                free(data);
                fclose(fp);
                return NULL;
            }
            data = grown;
        }
        size_t got = fread(data + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    fclose(fp);
    *len = n;
    return data;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_golden_requests(void **state)
{
    (void)state;
    DIR *d = opendir(GOLDEN_DIR);
    if (!d)
        fail_msg("cannot open %s (run from the repository root)", GOLDEN_DIR);
    char *names[256] = {NULL};
    size_t count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && count < 256) {
        size_t n = strlen(e->d_name);
        if (n > 3 && strcmp(e->d_name + n - 3, ".in") == 0) {
            names[count] = strdup(e->d_name);
            assert_non_null(names[count]);
            count++;
        }
    }
    closedir(d);
    qsort(names, count, sizeof(names[0]), name_cmp);
    assert_true(count >= 10);
    bool update = getenv("SEKISHO_GOLDEN_UPDATE") != NULL;
    size_t failures = 0;
    static char out[65536];
    for (size_t i = 0; i < count; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, names[i]);
        size_t in_len = 0;
        char *in = read_file(path, &in_len);
        assert_non_null(in);
        struct http1_request req;
        enum http1_result r = parse_req(&req, in, in_len, HTTP1_REQUEST_HEAD_MAX);
        check_bytewise_req(in, in_len, HTTP1_REQUEST_HEAD_MAX, &req, r);
        struct buf b;
        buf_init(&b, out, sizeof(out));
        dump_request(&b, &req, r, in);
        path[strlen(path) - 3] = '\0';
        str_copy(path + strlen(path), sizeof(path) - strlen(path), ".out");
        if (update) {
            FILE *fp = fopen(path, "wb");
            assert_non_null(fp);
            fwrite(out, 1, buf_len(&b), fp);
            fclose(fp);
        } else {
            size_t want_len = 0;
            char *want = read_file(path, &want_len);
            if (!want || want_len != buf_len(&b) || memcmp(want, out, want_len) != 0) {
                print_error("golden mismatch for %s; got:\n%.*s", names[i], (int)buf_len(&b), out);
                failures++;
            }
            free(want);
        }
        free(in);
        free(names[i]);
    }
    assert_int_equal(failures, 0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(http1_result_name(HTTP1_TOO_LONG), "TOO_LONG");
    assert_string_equal(http1_error_name(HTTP1_ERR_URL_FORMAT), "URL_FORMAT");
    assert_string_equal(http1_error_name((enum http1_error)999), "ERR_???");
    assert_string_equal(http1_error_message((enum http1_error)999), "");
    assert_string_equal(http1_version_name(HTTP1_VERSION_0_9), "HTTP/0.9");
    assert_string_equal(http1_url_form_name(HTTP1_URL_AUTHORITY), "authority");
    /* Every Sekisho error has a status and a message. */
    for (int e = HTTP1_ERR_METHOD_TOO_LONG; e <= HTTP1_ERR_RESPONSE_09; e++) {
        assert_true(http1_error_status((enum http1_error)e) >= 400);
        assert_true(strlen(http1_error_message((enum http1_error)e)) > 0);
        assert_true(strlen(http1_status_reason(http1_error_status((enum http1_error)e))) > 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guide_error_rows),
        cmocka_unit_test(test_limits_boundaries),
        cmocka_unit_test(test_request_basic),
        cmocka_unit_test(test_http09),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_line_ends),
        cmocka_unit_test(test_header_limits),
        cmocka_unit_test(test_smuggling),
        cmocka_unit_test(test_url_forms),
        cmocka_unit_test(test_response_basic),
        cmocka_unit_test(test_response_head_limit),
        cmocka_unit_test(test_skip_head),
        cmocka_unit_test(test_response_body_kind),
        cmocka_unit_test(test_header_helpers),
        cmocka_unit_test(test_chunked_every_split),
        cmocka_unit_test(test_chunked_invalid),
        cmocka_unit_test(test_golden_requests),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
