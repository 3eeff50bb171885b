/* fuzz_http1_response - libFuzzer target for the response side of
 * proto/http1_parse.
 *
 * The input is the bytes a server sends. It is parsed with the proxy's
 * 17408-byte head limit (C-01) and with a limit derived from the size,
 * all at once, in two calls split at a data-dependent point and (for
 * small inputs) one byte at a time; every way must give the same result
 * and fields. A complete or over-long head must keep the module's
 * promises (spans inside the kept lines, parsed_len at a line start), the
 * body-length rules run for every request method, and the rest of an
 * over-long head is skipped with http1_skip_head().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "proto/http1_parse.h"

#define BYTEWISE_MAX 4096

static bool same_span(struct http1_span a, struct http1_span b)
{
    return a.off == b.off && a.len == b.len;
}

static void check_same(const struct http1_response *a, enum http1_result ra,
                       const struct http1_response *b, enum http1_result rb)
{
    if (ra != rb || a->error != b->error || a->parsed_len != b->parsed_len ||
        a->hdr_count != b->hdr_count)
        abort();
    if (a->parsed_len > 0 &&
        (a->status != b->status || a->version != b->version || !same_span(a->reason, b->reason)))
        abort();
    if (ra == HTTP1_DONE && a->head_len != b->head_len)
        abort();
    for (size_t i = 0; i < a->hdr_count; i++) {
        if (!same_span(a->hdr[i].name, b->hdr[i].name) ||
            !same_span(a->hdr[i].value, b->hdr[i].value))
            abort();
    }
}

static void check_kept(const struct http1_response *resp, const char *p, size_t size,
                       enum http1_result r)
{
    size_t end = r == HTTP1_DONE ? resp->head_len : resp->parsed_len;
    if (end > size || end > resp->max_head || resp->hdr_count > HTTP1_MAX_HEADERS)
        abort();
    if (r == HTTP1_DONE && resp->parsed_len != resp->head_len)
        abort();
    if (resp->parsed_len == 0) {
        if (r == HTTP1_DONE || resp->hdr_count != 0)
            abort();
        return;
    }
    if (p[resp->parsed_len - 1] != '\n' || resp->status < 100 || resp->status > 599)
        abort();
    for (size_t i = 0; i < resp->hdr_count; i++) {
        struct http1_span n = resp->hdr[i].name, v = resp->hdr[i].value;
        if (n.len == 0 || n.off + n.len > end || v.off + v.len > end)
            abort();
    }
    static const enum http1_method methods[] = {HTTP1_METHOD_GET, HTTP1_METHOD_HEAD,
                                                HTTP1_METHOD_CONNECT, HTTP1_METHOD_POST};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        uint64_t len = 0;
        enum http1_body body = http1_response_body_kind(resp, p, methods[i], &len);
        if (body != HTTP1_BODY_LENGTH && len != 0)
            abort();
        if (methods[i] == HTTP1_METHOD_HEAD && body != HTTP1_BODY_NONE)
            abort();
    }
    if (r == HTTP1_TOO_LONG) {
        struct http1_skip sk;
        size_t used = 0;
        http1_skip_init(&sk);
        if (http1_skip_head(&sk, p + resp->parsed_len, size - resp->parsed_len, &used) ==
                HTTP1_DONE &&
            (used == 0 || p[resp->parsed_len + used - 1] != '\n'))
            abort();
        if (used > size - resp->parsed_len)
            abort();
    }
}

static void run(const char *p, size_t size, size_t max_head, unsigned seed)
{
    static struct http1_response whole, split, step;
    http1_response_init(&whole, max_head);
    enum http1_result rw = http1_parse_response(&whole, p, size);
    if (rw == HTTP1_AGAIN && size >= max_head)
        abort();
    if (rw == HTTP1_DONE || rw == HTTP1_TOO_LONG)
        check_kept(&whole, p, size, rw);
    if (rw == HTTP1_INVALID && http1_error_status(whole.error) < 400)
        abort();

    size_t cut = size ? seed % (size + 1) : 0;
    http1_response_init(&split, max_head);
    enum http1_result rs = http1_parse_response(&split, p, cut);
    if (rs == HTTP1_AGAIN)
        rs = http1_parse_response(&split, p, size);
    check_same(&whole, rw, &split, rs);

    if (size > BYTEWISE_MAX)
        return;
    http1_response_init(&step, max_head);
    enum http1_result rb = HTTP1_AGAIN;
    for (size_t k = 0; k <= size && rb == HTTP1_AGAIN; k++)
        rb = http1_parse_response(&step, p, k);
    check_same(&whole, rw, &step, rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    unsigned seed = 2166136261u;
    for (size_t i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    run(p, size, HTTP1_RESPONSE_HEAD_MAX, seed);
    run(p, size, size / 3 + 1, seed >> 9);
    return 0;
}
