/* http1_rewrite - the header rewriting of a forwarding proxy (HTTP-7, HTTP-8).
 *
 * Builds the request head sent upstream and the response head sent to the
 * client from heads parsed by http1_parse, exactly as the guide lists the
 * steps (003:5911-5954): request line downgraded to HTTP/1.0 unless
 * use_http11, absolute URI reduced to path+query when going direct;
 * Connection, Proxy-Connection, Keep-Alive, Trailer (and the headers the
 * Connection header names) removed; Via and X-Forwarded-For appended
 * unless anonymous; Proxy-Authorization removed when the proxy
 * authenticates; Proxy-Support added for WWW-Authenticate without parent.
 * Pure: bytes in, bytes out into a caller buffer, all or nothing.
 */
#ifndef SEKISHO_PROTO_HTTP1_REWRITE_H
#define SEKISHO_PROTO_HTTP1_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/http1_parse.h"

struct http1_rewrite_request_opts {
    bool use_http11;       /* relay HTTP/1.1 requests as HTTP/1.1 (HTTP-21) */
    bool absolute_uri;     /* keep the absolute URI (to a parent proxy) */
    bool anonymous;        /* no Via, no X-Forwarded-For */
    bool strip_proxy_auth; /* proxy authentication is ours (HTTP-5) */
    bool keep_alive;       /* upstream connection to be kept alive */
    struct str via_host;   /* <hostname>:<port> for Via */
    struct str product_name;
    struct str client_ip; /* for X-Forwarded-For */
    /* Framing override: when has_length, Content-Length is replaced by
     * length and Transfer-Encoding dropped (a spooled or de-chunked body). */
    bool has_length;
    uint64_t length;
    /* Scanned downloads (issue 10): Accept-Encoding is replaced by
     * accept_encoding (left out when empty) so the origin only uses codings
     * the scanner undoes; strip_range drops Range and If-Range so the whole
     * object is fetched and scanned. */
    bool filter_accept_encoding;
    struct str accept_encoding;
    bool strip_range;
};

/* http1_rewrite_request - append the upstream request head (request line,
 * headers, blank line). The Host header is set from the URL's authority
 * (RFC 9112 3.2.2: the proxy replaces it). False if out is too small. */
bool http1_rewrite_request(struct buf *out, const struct http1_request *req, const char *buf,
                           const struct http1_url *url, const struct http1_rewrite_request_opts *o);

struct http1_rewrite_response_opts {
    bool use_http11;    /* keep HTTP/1.1 in the status line */
    bool keep_alive;    /* add Connection: Keep-Alive (else Connection: close) */
    bool proxy_support; /* no parent server and not transparent (HTTP-8) */
    bool has_length;    /* replace framing by Content-Length: length */
    uint64_t length;
    bool drop_length; /* remove Content-Length / Transfer-Encoding (close-delimited) */
    /* A byte range of a whole object (issue 10, item 9): status 206 and
     * Content-Range: bytes range_first-range_last/range_total. */
    bool partial;
    uint64_t range_first, range_last, range_total;
};

/* http1_rewrite_response - append the response head sent to the client. */
bool http1_rewrite_response(struct buf *out, const struct http1_response *resp, const char *buf,
                            const struct http1_rewrite_response_opts *o);

/* http1_rewrite_simple_response - a response the proxy generates itself:
 * status line, Content-Type, Content-Length, Connection: close, and any
 * extra header lines (each ending in CRLF), then the blank line. */
bool http1_rewrite_simple_response(struct buf *out, bool http11, int status,
                                   struct str content_type, uint64_t length, struct str extra);

#endif
