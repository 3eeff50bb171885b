/* fuzz_http1_request - libFuzzer target for the request side of
 * proto/http1_parse.
 *
 * The input is the bytes a client sends. It is parsed all at once, then
 * again in two calls split at a point derived from the data, and (for
 * small inputs) one byte at a time: every way must reach the same result
 * with the same fields, or the target aborts - a parser that depends on
 * TCP segmentation is a smuggling bug. A parsed head must also satisfy
 * the module's promises (spans inside the head, a target that
 * http1_parse_url() accepts, TOO_LONG once max_head bytes are in), and
 * the URL parser and header helpers run on the same bytes. The head the
 * proxy would send upstream (proto/http1_rewrite) must frame the body
 * exactly as the client's head did: no Connection option may drop the
 * length (issue 10 item 4).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/buf.h"
#include "proto/http1_parse.h"
#include "proto/http1_rewrite.h"

#define BYTEWISE_MAX 4096 /* byte-at-a-time feeding is quadratic in calls; keep it short */

static bool same_span(struct http1_span a, struct http1_span b)
{
    return a.off == b.off && a.len == b.len;
}

static void check_same(const struct http1_request *a, enum http1_result ra,
                       const struct http1_request *b, enum http1_result rb)
{
    if (ra != rb || a->error != b->error)
        abort();
    if (ra != HTTP1_DONE)
        return;
    if (a->head_len != b->head_len || a->method != b->method || a->version != b->version ||
        a->target_form != b->target_form || a->hdr_count != b->hdr_count ||
        !same_span(a->method_str, b->method_str) || !same_span(a->target, b->target) ||
        !same_span(a->version_str, b->version_str))
        abort();
    for (size_t i = 0; i < a->hdr_count; i++) {
        if (!same_span(a->hdr[i].name, b->hdr[i].name) ||
            !same_span(a->hdr[i].value, b->hdr[i].value))
            abort();
    }
}

static void check_inside(struct http1_span s, size_t end)
{
    if (s.off > end || s.len > end - s.off)
        abort();
}

/* check_rewrite_framing - the rewritten head, parsed again, announces the
 * same body (kind and length) as the original. */
static void check_rewrite_framing(const struct http1_request *req, const char *p,
                                  const struct http1_url *url, enum http1_body body, uint64_t len)
{
    static char mem[HTTP1_REQUEST_HEAD_MAX * 2];
    static struct http1_request again;
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    const struct http1_rewrite_request_opts o = {
        .use_http11 = true,
        .via_host = STR_LIT("gw:8080"),
        .product_name = STR_LIT("fuzz"),
        .client_ip = STR_LIT("192.0.2.1"),
    };
    if (!http1_rewrite_request(&out, req, p, url, &o))
        return;
    http1_request_init(&again, sizeof(mem));
    if (http1_parse_request(&again, buf_rptr(&out), buf_len(&out)) != HTTP1_DONE)
        return; /* e.g. the added headers pass HTTP1_MAX_HEADERS: refused, not smuggled */
    uint64_t len2 = 0;
    if (http1_request_body_kind(&again, buf_rptr(&out), &len2) != body || len2 != len)
        abort();
}

static void check_done(const struct http1_request *req, const char *p, size_t size)
{
    if (req->head_len == 0 || req->head_len > size || req->head_len > req->max_head)
        abort();
    if (p[req->head_len - 1] != '\n' || req->hdr_count > HTTP1_MAX_HEADERS)
        abort();
    check_inside(req->method_str, req->head_len);
    check_inside(req->target, req->head_len);
    check_inside(req->version_str, req->head_len);
    if (req->method_str.len == 0 || req->method_str.len > HTTP1_METHOD_MAX ||
        req->target.len > HTTP1_URL_MAX || req->version_str.len > HTTP1_VERSION_MAX)
        abort();
    if (req->version == HTTP1_VERSION_0_9 && req->hdr_count != 0)
        abort();
    struct http1_fields f = http1_request_fields(req, p);
    for (size_t i = 0; i < f.count; i++) {
        check_inside(req->hdr[i].name, req->head_len);
        check_inside(req->hdr[i].value, req->head_len);
        struct str name = http1_fields_name(f, i), value = http1_fields_value(f, i);
        if (name.len == 0 || memchr(name.ptr, ':', name.len) != NULL)
            abort();
        if (value.len > 0 &&
            (memchr(value.ptr, '\0', value.len) || memchr(value.ptr, '\r', value.len) ||
             memchr(value.ptr, '\n', value.len)))
            abort();
        (void)http1_header_has_token(value, "close");
    }
    struct http1_url url;
    if (!http1_request_url(req, p, &url) || url.form != req->target_form)
        abort();
    if (url.form == HTTP1_URL_ABSOLUTE && (url.port == 0 || url.host.len == 0))
        abort();
    uint64_t len = 0;
    enum http1_body body = http1_request_body_kind(req, p, &len);
    if (body == HTTP1_BODY_UNTIL_CLOSE || body == HTTP1_BODY_TUNNEL)
        abort(); /* requests never read until close (RFC 9112 6.3 rule 6) */
    if (body != HTTP1_BODY_LENGTH && len != 0)
        abort();
    if (body == HTTP1_BODY_CHUNKED && !http1_is_chunked(f))
        abort();
    if (url.form == HTTP1_URL_ABSOLUTE && req->version == HTTP1_VERSION_1_1 &&
        (body == HTTP1_BODY_LENGTH || body == HTTP1_BODY_CHUNKED))
        check_rewrite_framing(req, p, &url, body, len);
}

static void run(const char *p, size_t size, size_t max_head, unsigned seed)
{
    static struct http1_request whole, split, step;
    http1_request_init(&whole, max_head);
    enum http1_result rw = http1_parse_request(&whole, p, size);
    if (rw == HTTP1_AGAIN && size >= max_head)
        abort(); /* the head limit must be reported once reached */
    if (rw == HTTP1_DONE)
        check_done(&whole, p, size);
    else if (rw != HTTP1_AGAIN && http1_error_status(whole.error) < 400)
        abort();

    /* Two calls, cut at a data-dependent point. */
    size_t cut = size ? seed % (size + 1) : 0;
    http1_request_init(&split, max_head);
    enum http1_result rs = http1_parse_request(&split, p, cut);
    if (rs == HTTP1_AGAIN)
        rs = http1_parse_request(&split, p, size);
    check_same(&whole, rw, &split, rs);

    if (size > BYTEWISE_MAX)
        return;
    http1_request_init(&step, max_head);
    enum http1_result rb = HTTP1_AGAIN;
    for (size_t k = 0; k <= size && rb == HTTP1_AGAIN; k++)
        rb = http1_parse_request(&step, p, k);
    check_same(&whole, rw, &step, rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    unsigned seed = 2166136261u; /* FNV-1a of the input picks the cut */
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    run(p, size, HTTP1_REQUEST_HEAD_MAX, seed);
    run(p, size, size / 2 + 1, seed >> 7); /* also exercise the head limit */

    struct http1_url url;
    if (size <= HTTP1_URL_MAX && http1_parse_url(str_make(p, size), &url)) {
        /* path and path_query may be the literal "/" (empty path). */
        const struct str views[] = {url.user, url.password, url.host, url.authority, url.query};
        for (size_t i = 0; i < sizeof(views) / sizeof(views[0]); i++) {
            if (views[i].len > 0 && (views[i].ptr < p || views[i].ptr + views[i].len > p + size))
                abort();
        }
        if (url.path.len == 0 && url.form != HTTP1_URL_AUTHORITY)
            abort();
    }
    return 0;
}
