/* http1_parse - HTTP/1.x message heads, URLs, framing rules, chunked bodies.
 *
 * What it does: parses request and response heads (start line and header
 * fields) incrementally from a caller's growing buffer, validates the
 * request line exactly as the guide's HTTP error table requires (HTTP-4,
 * order of G-36), parses request targets (absolute-form http:// and ftp://,
 * origin-form, authority-form, asterisk-form), answers the RFC 9112 6.3
 * message-length question for requests and responses (with the request
 * smuggling rules), and decodes chunked bodies resumably. It also maps the
 * parser's errors to the status code and message the proxy sends.
 *
 * What it owns: nothing but the caller's structs. Parsed header fields are
 * offsets and lengths into the caller's buffer (struct http1_span), so the
 * caller may keep the head anywhere as long as the bytes stay at the same
 * offsets; views returned by helpers (struct str) point into that buffer.
 *
 * What it does not do: no I/O, no allocation, no globals, no logging, no
 * rewriting of headers (the HTTP proxy does that), no percent-decoding, no
 * host name resolution. Every limit is a named constant below; the head
 * size limit is chosen by the caller. docs/internals/http1_parse.md lists
 * what is rejected and why.
 */
#ifndef SEKISHO_PROTO_HTTP1_PARSE_H
#define SEKISHO_PROTO_HTTP1_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

/* Request-line limits of the guide's error table (003:5852-5899, HTTP-4). */
#define HTTP1_METHOD_MAX  98   /* longer -> 400 "Too long Request Method" */
#define HTTP1_URL_MAX     2098 /* longer -> 414 "Request-URI Too Long" */
#define HTTP1_VERSION_MAX 98   /* longer -> 400 "Too long Request Version" */
/* The longest request line (without its line end) in which every part is
 * within its limit: method SP URL SP version. A line that grows past it
 * without ending is decided early, see http1_parse_request(). */
#define HTTP1_REQUEST_LINE_MAX (HTTP1_METHOD_MAX + 1 + HTTP1_URL_MAX + 1 + HTTP1_VERSION_MAX)

#define HTTP1_MAX_HEADERS           128       /* header field lines per head */
#define HTTP1_MAX_LEADING_EMPTY     4         /* empty lines skipped before a start line */
#define HTTP1_RESPONSE_HEAD_MAX     17408     /* response head limit the proxy uses (C-01) */
#define HTTP1_REQUEST_HEAD_MAX      65536     /* suggested request head limit */
#define HTTP1_HOST_MAX              255       /* host name length (RFC 1035 2.3.4) */
#define HTTP1_CONTENT_LENGTH_MAX    INT64_MAX /* must fit an off_t (spool files) */
#define HTTP1_CHUNK_SIZE_DIGITS_MAX 32        /* hex digits of a chunk size incl. zeros */
#define HTTP1_CHUNK_EXT_MAX         4096      /* bytes of extensions on one size line */
#define HTTP1_CHUNK_TRAILER_MAX     16384     /* bytes of the whole trailer section */

enum http1_result {
    HTTP1_DONE = 0, /* complete; see the function for what is set */
    HTTP1_AGAIN,    /* need more bytes (everything so far is fine) */
    HTTP1_INVALID,  /* malformed; ->error says why */
    HTTP1_TOO_LONG, /* a size limit was reached; ->error says which */
};
const char *http1_result_name(enum http1_result r);

/* Why a head was rejected. The first seven are the guide's request-line
 * errors (responses.tsv, protocol http); the rest are Sekisho's. */
enum http1_error {
    HTTP1_ERR_NONE = 0,
    HTTP1_ERR_METHOD_TOO_LONG,  /* 400 Too long Request Method */
    HTTP1_ERR_METHOD_CHAR,      /* 400 Illegal method character. */
    HTTP1_ERR_VERSION_TOO_LONG, /* 400 Too long Request Version */
    HTTP1_ERR_VERSION,          /* 505 Only support HTTP/0.9, HTTP/1.0, HTTP/1.1 */
    HTTP1_ERR_URL_TOO_LONG,     /* 414 Request-URI Too Long */
    HTTP1_ERR_URL_CHAR,         /* 400 Illegal URL character. */
    HTTP1_ERR_URL_FORMAT,       /* 400 Invalid URL format */
    HTTP1_ERR_HEADER_NAME,      /* 400: empty/non-token name, space before ':', no ':' */
    HTTP1_ERR_HEADER_VALUE,     /* 400: NUL or bare CR in a value */
    HTTP1_ERR_OBS_FOLD,         /* 400: continuation line (RFC 9112 5.2) */
    HTTP1_ERR_DUPLICATE_HOST,   /* 400: more than one Host (RFC 9112 3.2) */
    HTTP1_ERR_TOO_MANY_HEADERS, /* 431: more than HTTP1_MAX_HEADERS lines */
    HTTP1_ERR_HEAD_TOO_LONG,    /* 431: head longer than max_head */
    HTTP1_ERR_STATUS_LINE,      /* 502: malformed response status line */
    HTTP1_ERR_RESPONSE_VERSION, /* 502: response version not HTTP/1.x */
    HTTP1_ERR_RESPONSE_09,      /* 502: no status line (HTTP/0.9 response) */
};
const char *http1_error_name(enum http1_error e);
/* http1_error_message - the message for the error page ("ERROR: ..."). */
const char *http1_error_message(enum http1_error e);
/* http1_error_status - the status code the proxy answers with (0 for NONE). */
int http1_error_status(enum http1_error e);
/* http1_status_reason - standard reason phrase ("Bad Request"); the RFC 2616
 * wording where the guide uses it (414 "Request-URI Too Long"); "" when
 * the code is unknown. */
const char *http1_status_reason(int status);

enum http1_version {
    HTTP1_VERSION_0_9 = 0, /* request line without a version */
    HTTP1_VERSION_1_0,
    HTTP1_VERSION_1_1, /* also responses HTTP/1.2 ... HTTP/1.9 (RFC 9110 2.5) */
};
const char *http1_version_name(enum http1_version v);

/* Methods the proxy treats specially; every other token is OTHER (method
 * names are case-sensitive, RFC 9110 9.1: "get" is OTHER). */
enum http1_method {
    HTTP1_METHOD_OTHER = 0,
    HTTP1_METHOD_GET,
    HTTP1_METHOD_HEAD,
    HTTP1_METHOD_POST,
    HTTP1_METHOD_PUT,
    HTTP1_METHOD_DELETE,
    HTTP1_METHOD_CONNECT,
    HTTP1_METHOD_OPTIONS,
    HTTP1_METHOD_TRACE,
};
const char *http1_method_name(enum http1_method m);
enum http1_method http1_method_from_str(struct str s);

/* An offset and length into the buffer the head was parsed from. */
struct http1_span {
    size_t off;
    size_t len;
};

static inline struct str http1_span_str(const char *buf, struct http1_span s)
{
    return str_make(buf + s.off, s.len);
}

/* One header field line: name as sent, value without surrounding spaces. */
struct http1_header {
    struct http1_span name;
    struct http1_span value;
};

/* Private progress of a head parser; callers only zero it (via _init). */
struct http1_scan {
    size_t pos;        /* next byte to examine */
    size_t line_start; /* offset of the line being scanned */
    size_t sp1;        /* request line: first SP (from line_start), or SIZE_MAX */
    size_t sp2;        /* request line: second SP, or SIZE_MAX */
    unsigned empty;    /* leading empty lines skipped so far */
    bool in_headers;   /* the start line is complete */
    bool prefix_ok;    /* response: "HTTP/" seen */
    bool finished;     /* a final result was returned */
    enum http1_result final;
};

enum http1_url_form {
    HTTP1_URL_ORIGIN = 0, /* /path?query (RFC 9112 3.2.1) */
    HTTP1_URL_ABSOLUTE,   /* http://host[:port]/path, ftp://... (3.2.2) */
    HTTP1_URL_AUTHORITY,  /* host:port, CONNECT only (3.2.3) */
    HTTP1_URL_ASTERISK,   /* *, OPTIONS only (3.2.4) */
};
const char *http1_url_form_name(enum http1_url_form f);

struct http1_request {
    /* Set by http1_request_init(). */
    size_t max_head; /* a head longer than this is TOO_LONG */
    /* Results: valid after DONE; error after INVALID / TOO_LONG. */
    enum http1_error error;
    size_t head_len; /* bytes from buf[0] through the empty line */
    struct http1_span method_str;
    enum http1_method method;
    struct http1_span target; /* request target as sent */
    enum http1_url_form target_form;
    struct http1_span version_str; /* empty for HTTP/0.9 */
    enum http1_version version;
    size_t hdr_count;
    struct http1_header hdr[HTTP1_MAX_HEADERS];
    struct http1_scan scan;
};

struct http1_response {
    /* Set by http1_response_init(). */
    size_t max_head;
    /* Results: valid after DONE (and partly after TOO_LONG, see below). */
    enum http1_error error;
    size_t head_len; /* bytes from buf[0] through the empty line */
    enum http1_version version;
    int status;               /* 100..599 */
    struct http1_span reason; /* may be empty */
    size_t parsed_len;        /* end of the last complete line kept (TOO_LONG) */
    size_t hdr_count;
    struct http1_header hdr[HTTP1_MAX_HEADERS];
    struct http1_scan scan;
};

/* http1_request_init / http1_response_init - prepare for a new head.
 * max_head bounds the head (leading empty lines included); it should be
 * at least HTTP1_REQUEST_LINE_MAX + 2 for requests so that an over-long
 * request line gets its own error instead of HEAD_TOO_LONG. */
void http1_request_init(struct http1_request *req, size_t max_head);
void http1_response_init(struct http1_response *resp, size_t max_head);

/* http1_parse_request - parse a request head from buf[0..len).
 *
 * Call again whenever more bytes were appended to the same buffer (same
 * offsets); work already done is not repeated, so the total cost is linear
 * in the head size, and the outcome does not depend on how the bytes were
 * split. Accepts CRLF and bare LF line ends and skips up to
 * HTTP1_MAX_LEADING_EMPTY empty lines before the request line (RFC 9112
 * 2.2). The request line is checked in the order of G-36:
 *   method length, method characters (bytes < 0x20 and, beyond the
 *   guide, any byte that is not an RFC 9110 token character - including
 *   an empty method - give "Illegal method character."), version length,
 *   version value (HTTP/1.0, HTTP/1.1, or absent = HTTP/0.9 for GET only),
 *   URL length, URL characters (bytes < 0x20 and DEL), URL format
 *   (http1_parse_url(), plus: CONNECT takes exactly the authority-form,
 *   the asterisk-form is for OPTIONS only).
 * Separators are single SP (RFC 9112 3): the method ends at the first SP,
 * the URL at the second, the version is the rest of the line.
 * When a request line grows past HTTP1_REQUEST_LINE_MAX without ending,
 * it is decided without waiting for its end: with no second SP yet the
 * URL is over its limit (414); otherwise the version is (400) once it
 * exceeds HTTP1_VERSION_MAX.
 * Header fields: the name must be a token directly followed by ':'
 * (whitespace before the colon is rejected, RFC 9112 5.1), lines starting
 * with SP/HTAB are rejected (obs-fold, RFC 9112 5.2), values must not
 * contain NUL or a CR that is not part of the line end (RFC 9110 5.5), at
 * most one Host (RFC 9112 3.2). An HTTP/0.9 request is complete after its
 * request line.
 * Returns DONE (head_len and all results set), AGAIN, INVALID (error set),
 * TOO_LONG (error HEAD_TOO_LONG or TOO_MANY_HEADERS). After a final result
 * further calls return it again. */
enum http1_result http1_parse_request(struct http1_request *req, const char *buf, size_t len);

/* http1_parse_response - parse a response head from buf[0..len).
 *
 * Same calling convention and header rules as http1_parse_request().
 * Status line: "HTTP/1.<digit> <3 digits>[ <reason>]" (HTTP-name is
 * case-sensitive, RFC 9112 2.3); code 100..599; the reason may hold SP,
 * HTAB, visible and obs-text bytes only. Results:
 *   INVALID / RESPONSE_09: the bytes do not start with "HTTP/", i.e. an
 *     HTTP/0.9 response without status line (or garbage); the caller
 *     decides whether to relay it as a body;
 *   INVALID / RESPONSE_VERSION: "HTTP/" with a major version other than 1;
 *   INVALID / STATUS_LINE, HEADER_*, OBS_FOLD: malformed;
 *   TOO_LONG / HEAD_TOO_LONG or TOO_MANY_HEADERS: when the status line was
 *     complete, version/status/reason, hdr[0..hdr_count) and parsed_len
 *     (the offset just after the last header line kept, a line start) are
 *     valid: the caller may keep those lines, drop the rest of the head
 *     with http1_skip_head() from parsed_len, and go on (C-01). When the
 *     status line itself did not fit, parsed_len is 0.
 * A 1xx head is complete on its own; the caller parses the next head. */
enum http1_result http1_parse_response(struct http1_response *resp, const char *buf, size_t len);

/* Skipping the rest of an over-long head (C-01). */
struct http1_skip {
    unsigned state; /* private */
};
void http1_skip_init(struct http1_skip *st);
/* http1_skip_head - consume bytes up to and including the empty line that
 * ends a head, starting at a line start. Returns DONE with *consumed the
 * bytes of in that belong to the head (the body starts after them), or
 * AGAIN with *consumed = len. No limit: the caller bounds the bytes it is
 * willing to skip. */
enum http1_result http1_skip_head(struct http1_skip *st, const char *in, size_t len,
                                  size_t *consumed);

/* Request targets. Every view points into the string given to
 * http1_parse_url(). */
enum http1_url_scheme {
    HTTP1_SCHEME_NONE = 0, /* origin, authority and asterisk forms */
    HTTP1_SCHEME_HTTP,
    HTTP1_SCHEME_FTP,
};

enum http1_host_kind {
    HTTP1_HOST_NONE = 0, /* origin and asterisk forms */
    HTTP1_HOST_NAME,     /* reg-name: letters, digits, - . _ ~ */
    HTTP1_HOST_IPV4,     /* dotted quad, no leading zeros */
    HTTP1_HOST_IPV6,     /* [IPv6address]; host is without the brackets */
};

struct http1_url {
    enum http1_url_form form;
    enum http1_url_scheme scheme;
    enum http1_host_kind host_kind;
    struct str user;     /* ftp userinfo, raw (percent-encoded); else empty */
    struct str password; /* after the ':' of the userinfo; has_password */
    bool has_password;
    struct str host;      /* without brackets for IPv6 */
    struct str authority; /* host[:port] as sent, brackets kept, no userinfo */
    uint16_t port;        /* explicit, else 80 (http) / 21 (ftp) (G-38); 0 if no host */
    bool port_given;
    struct str path;  /* "/" when the URL has none; "*" for asterisk-form */
    struct str query; /* after '?', without it */
    bool has_query;
    struct str path_query; /* what an origin-form request line carries */
};

/* http1_parse_url - parse a request target.
 *
 * Accepts (RFC 9112 3.2, RFC 3986): "*"; "/path[?query]"; "host:port"
 * (port required); "http://host[:port][/path[?query]]" and
 * "ftp://[user[:password]@]host[:port][/path]" with the scheme in any case.
 * host is a reg-name of letters, digits and "-._~", an IPv4 dotted quad or
 * a bracketed IPv6 address; port 1..65535 (an empty port after ':' in the
 * absolute-form means the default). Path and query bytes must be above
 * 0x20, not DEL and not '#'.
 * Rejects: other schemes; userinfo in http URLs (RFC 9110 4.2.4); several
 * '@'; percent-encoding or sub-delims in hosts; hosts that end in a
 * numeric label but are not a canonical dotted quad ("127.1", "0x7f.1",
 * "2130706433", "010.0.0.1"), which resolvers would read as addresses
 * and which could slip past acl_to; IPv6 zone ids and IPvFuture; hosts
 * longer than HTTP1_HOST_MAX; fragments; an empty path followed by a
 * query ("http://h?q": clients send "http://h/?q", RFC 9112 3.2.1, and
 * this keeps path_query one view). Returns false on rejection (out is
 * then unspecified). */
bool http1_parse_url(struct str url, struct http1_url *out);

/* http1_request_url - http1_parse_url() of a parsed request's target. */
bool http1_request_url(const struct http1_request *req, const char *buf, struct http1_url *out);

/* Header helpers. A struct http1_fields is a read-only view of a parsed
 * header list together with its buffer; iterate with an index. */
struct http1_fields {
    const char *buf;
    const struct http1_header *hdr;
    size_t count;
};

struct http1_fields http1_request_fields(const struct http1_request *req, const char *buf);
struct http1_fields http1_response_fields(const struct http1_response *resp, const char *buf);
struct str http1_fields_name(struct http1_fields f, size_t i);
struct str http1_fields_value(struct http1_fields f, size_t i);
/* http1_fields_find - the next header called name (ASCII case-insensitive)
 * at index >= *iter: stores its value and sets *iter past it. Start with
 * *iter = 0 and loop while it returns true. */
bool http1_fields_find(struct http1_fields f, const char *name, size_t *iter, struct str *value);
/* http1_fields_count - how many header lines are called name. */
size_t http1_fields_count(struct http1_fields f, const char *name);

/* http1_header_has_token - whether a comma-separated list (Connection,
 * Transfer-Encoding, ...) has an element equal to token, ASCII case-
 * insensitive, ignoring surrounding whitespace and ";parameters". */
bool http1_header_has_token(struct str value, const char *token);

enum http1_cl {
    HTTP1_CL_NONE = 0, /* no Content-Length header */
    HTTP1_CL_ONE,      /* exactly one, a valid decimal number */
    HTTP1_CL_INVALID,  /* several (even equal) lines, a list, non-digits, overflow */
};
/* http1_content_length - the message's Content-Length (HTTP-20c, RFC 9110
 * 8.6); *out is set for HTTP1_CL_ONE. Values above HTTP1_CONTENT_LENGTH_MAX
 * are INVALID. */
enum http1_cl http1_content_length(struct http1_fields f, uint64_t *out);

/* http1_is_chunked - whether Transfer-Encoding is present and its final
 * coding (last element of the last such line) is chunked (RFC 9112 6.3). */
bool http1_is_chunked(struct http1_fields f);

enum http1_body {
    HTTP1_BODY_NONE = 0,    /* no body */
    HTTP1_BODY_LENGTH,      /* *length bytes (may be 0) */
    HTTP1_BODY_CHUNKED,     /* http1_chunked_decode() */
    HTTP1_BODY_UNTIL_CLOSE, /* response read until the server closes */
    HTTP1_BODY_TUNNEL,      /* 2xx answer to CONNECT: the connection becomes a tunnel */
    HTTP1_BODY_INVALID,     /* framing cannot be trusted: reject (400 / 502) */
};
const char *http1_body_name(enum http1_body b);

/* http1_request_body_kind - RFC 9112 6.3 for a request parsed to DONE.
 * INVALID when Transfer-Encoding and Content-Length are both present
 * (request smuggling, 6.3 rule 3), when Transfer-Encoding is anything but
 * exactly "chunked" (rule 4; 6.1: the only coding we understand), when an
 * HTTP/1.0 request has Transfer-Encoding (6.1), or when Content-Length is
 * invalid (rule 5). No Transfer-Encoding and no Content-Length: NONE. */
enum http1_body http1_request_body_kind(const struct http1_request *req, const char *buf,
                                        uint64_t *length);

/* http1_response_body_kind - RFC 9112 6.3 for a response parsed to DONE to
 * a request with method request_method: NONE for HEAD and 1xx/204/304,
 * TUNNEL for 2xx to CONNECT, CHUNKED when the final transfer coding is
 * chunked (any Content-Length is then ignored, rule 3; the proxy re-frames
 * the body itself, G-35), UNTIL_CLOSE for other codings, INVALID for
 * Transfer-Encoding in an HTTP/1.0 response (6.1) or an invalid
 * Content-Length (rule 5: the proxy answers 502), LENGTH for one valid
 * Content-Length, else UNTIL_CLOSE. */
enum http1_body http1_response_body_kind(const struct http1_response *resp, const char *buf,
                                         enum http1_method request_method, uint64_t *length);

/* Chunked transfer coding (RFC 9112 7.1). */
struct http1_chunked {
    unsigned state;     /* private */
    uint64_t remaining; /* chunk-data bytes still to come in this chunk */
    size_t count;       /* digits / extension / trailer bytes counted */
};
void http1_chunked_init(struct http1_chunked *st);

/* http1_chunked_decode - decode chunked framing from in[0..len).
 *
 * Resumable at any byte boundary. Each call consumes framing bytes and at
 * most one run of chunk data, which *data_out then views (inside in; empty
 * when the call produced none); *consumed counts every byte used. Returns
 * AGAIN while the body is not finished: call again with in + *consumed
 * while bytes remain, and again once more bytes arrive. Returns DONE when
 * the last chunk and the trailer section have been consumed (trailers are
 * skipped; bytes after *consumed belong to the next message), INVALID on
 * bad framing (non-hex size, size overflow, missing CRLF after data, bare
 * LF or CR or other control bytes in a size line, bare LF in a trailer -
 * framing is strict because lenient chunk parsing is a request smuggling
 * vector), TOO_LONG when a size line's extensions exceed
 * HTTP1_CHUNK_EXT_MAX or the trailers HTTP1_CHUNK_TRAILER_MAX. After DONE,
 * INVALID or TOO_LONG further calls return the same and consume nothing. */
enum http1_result http1_chunked_decode(struct http1_chunked *st, const char *in, size_t len,
                                       size_t *consumed, struct str *data_out);

#endif
