/* http1_rewrite - the header rewriting of a forwarding proxy (HTTP-7, HTTP-8). */
#include "proto/http1_rewrite.h"

#include <inttypes.h>

/* Fields a Connection option can never remove. They frame or route the
 * message for every hop (RFC 9110 7.6.1: a sender must not nominate a
 * field meant for all recipients). Honouring "Connection: Content-Length"
 * would forward a body without its length: the origin then reads the body
 * as the next request (issue 10 item 4). The framing of the upstream
 * message is decided by http1_request_body_kind() alone. */
static bool is_never_nominated(struct str name)
{
    static const char *const framing[] = {
        "Content-Length",   "Transfer-Encoding", "Host", "Content-Type",
        "Content-Encoding", "Content-Range",     "Via",  "X-Forwarded-For"};
    for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++)
        if (str_caseeq_cstr(name, framing[i]))
            return true;
    return false;
}

/* is_hop_by_hop - headers that never cross the proxy (RFC 9110 7.6.1 and
 * the guide's list), plus every header the message's Connection names,
 * except the framing and routing fields above. */
static bool is_hop_by_hop(struct http1_fields f, struct str name)
{
    static const char *const fixed[] = {"Connection", "Proxy-Connection", "Keep-Alive", "Trailer",
                                        "TE",         "Upgrade"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (str_caseeq_cstr(name, fixed[i]))
            return true;
    if (is_never_nominated(name))
        return false;
    size_t iter = 0;
    struct str v;
    char token[64];
    while (http1_fields_find(f, "Connection", &iter, &v)) {
        if (name.len >= sizeof(token))
            continue;
        str_copy_view(token, sizeof(token), name);
        if (http1_header_has_token(v, token))
            return true;
    }
    return false;
}

static bool append_header(struct buf *out, struct str name, struct str value)
{
    return buf_append_str(out, name) && buf_append(out, ": ", 2) && buf_append_str(out, value) &&
           buf_append(out, "\r\n", 2);
}

/* append_list_header - NAME: <existing values joined by ", ">, <element>
 * (HTTP-7 steps 4 and 5: append after ',' when the header exists). */
static bool append_list_header(struct buf *out, struct http1_fields f, const char *name,
                               struct str element)
{
    if (!buf_append_cstr(out, name) || !buf_append(out, ": ", 2))
        return false;
    size_t iter = 0;
    struct str v;
    while (http1_fields_find(f, name, &iter, &v)) {
        if (v.len == 0)
            continue;
        if (!buf_append_str(out, v) || !buf_append(out, ", ", 2))
            return false;
    }
    return buf_append_str(out, element) && buf_append(out, "\r\n", 2);
}

bool http1_rewrite_request(struct buf *out, const struct http1_request *req, const char *buf,
                           const struct http1_url *url, const struct http1_rewrite_request_opts *o)
{
    size_t start = out->wpos;
    struct http1_fields f = http1_request_fields(req, buf);
    struct str method = http1_span_str(buf, req->method_str);
    struct str target = o->absolute_uri ? http1_span_str(buf, req->target) : url->path_query;
    const char *version =
        (o->use_http11 && req->version == HTTP1_VERSION_1_1) ? "HTTP/1.1" : "HTTP/1.0";
    bool ok = buf_append_str(out, method) && buf_append(out, " ", 1) &&
              buf_append_str(out, target) && buf_append(out, " ", 1) &&
              buf_append_cstr(out, version) && buf_append(out, "\r\n", 2);
    if (ok && url->authority.len)
        ok = append_header(out, STR_LIT("Host"), url->authority);
    for (size_t i = 0; ok && i < f.count; i++) {
        struct str name = http1_fields_name(f, i);
        if (is_hop_by_hop(f, name) || str_caseeq_cstr(name, "Host") ||
            (!o->anonymous &&
             (str_caseeq_cstr(name, "Via") || str_caseeq_cstr(name, "X-Forwarded-For"))) ||
            (o->strip_proxy_auth && str_caseeq_cstr(name, "Proxy-Authorization")) ||
            (o->has_length && (str_caseeq_cstr(name, "Content-Length") ||
                               str_caseeq_cstr(name, "Transfer-Encoding"))) ||
            (o->filter_accept_encoding && str_caseeq_cstr(name, "Accept-Encoding")) ||
            (o->strip_range &&
             (str_caseeq_cstr(name, "Range") || str_caseeq_cstr(name, "If-Range"))))
            continue;
        ok = append_header(out, name, http1_fields_value(f, i));
    }
    if (ok && o->filter_accept_encoding && o->accept_encoding.len)
        ok = append_header(out, STR_LIT("Accept-Encoding"), o->accept_encoding);
    if (ok && !o->anonymous) {
        char via[512];
        struct buf vb;
        buf_init(&vb, via, sizeof(via));
        ok = buf_printf(&vb, "1.0 %.*s (%.*s)", (int)o->via_host.len, o->via_host.ptr,
                        (int)o->product_name.len, o->product_name.ptr) &&
             append_list_header(out, f, "Via", buf_view(&vb)) &&
             append_list_header(out, f, "X-Forwarded-For", o->client_ip);
    }
    if (ok && o->has_length)
        ok = buf_printf(out, "Content-Length: %" PRIu64 "\r\n", o->length);
    if (ok)
        ok = buf_append_cstr(out, o->keep_alive ? "Connection: Keep-Alive\r\n\r\n"
                                                : "Connection: close\r\n\r\n");
    if (!ok)
        out->wpos = start;
    return ok;
}

bool http1_rewrite_response(struct buf *out, const struct http1_response *resp, const char *buf,
                            const struct http1_rewrite_response_opts *o)
{
    size_t start = out->wpos;
    struct http1_fields f = http1_response_fields(resp, buf);
    struct str reason = http1_span_str(buf, resp->reason);
    const char *version =
        (o->use_http11 && resp->version == HTTP1_VERSION_1_1) ? "HTTP/1.1" : "HTTP/1.0";
    bool ok = o->partial ? buf_printf(out, "%s 206 Partial Content\r\n", version)
                         : buf_printf(out, "%s %03d %.*s\r\n", version, resp->status,
                                      (int)reason.len, reason.ptr);
    bool www_auth = false;
    for (size_t i = 0; ok && i < f.count; i++) {
        struct str name = http1_fields_name(f, i);
        if (str_caseeq_cstr(name, "WWW-Authenticate"))
            www_auth = true;
        if (is_hop_by_hop(f, name) ||
            ((o->has_length || o->drop_length) && (str_caseeq_cstr(name, "Content-Length") ||
                                                   str_caseeq_cstr(name, "Transfer-Encoding"))) ||
            (o->partial && str_caseeq_cstr(name, "Content-Range")))
            continue;
        ok = append_header(out, name, http1_fields_value(f, i));
    }
    if (ok && o->partial)
        ok = buf_printf(out, "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64 "\r\n",
                        o->range_first, o->range_last, o->range_total);
    if (ok && www_auth && o->proxy_support)
        ok = buf_append_cstr(out, "Proxy-Support: Session-Based-Authentication\r\n");
    if (ok && o->has_length)
        ok = buf_printf(out, "Content-Length: %" PRIu64 "\r\n", o->length);
    if (ok)
        ok = buf_append_cstr(out, o->keep_alive ? "Connection: Keep-Alive\r\n\r\n"
                                                : "Connection: close\r\n\r\n");
    if (!ok)
        out->wpos = start;
    return ok;
}

bool http1_rewrite_simple_response(struct buf *out, bool http11, int status,
                                   struct str content_type, uint64_t length, struct str extra)
{
    size_t start = out->wpos;
    bool ok = buf_printf(out, "%s %03d %s\r\nContent-Type: %.*s\r\nContent-Length: %" PRIu64 "\r\n",
                         http11 ? "HTTP/1.1" : "HTTP/1.0", status, http1_status_reason(status),
                         (int)content_type.len, content_type.ptr, length) &&
              buf_append_str(out, extra) && buf_append_cstr(out, "Connection: close\r\n\r\n");
    if (!ok)
        out->wpos = start;
    return ok;
}
