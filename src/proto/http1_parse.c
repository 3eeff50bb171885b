/* http1_parse - HTTP/1.x message heads, URLs, framing rules, chunked bodies.
 *
 * Heads are scanned line by line from a position kept in struct
 * http1_scan. The request and status lines are scanned byte by byte so
 * that the early decisions (method too long, line too long, HTTP/0.9
 * response) are taken at the same byte whatever the split of the input;
 * header lines are found with memchr and checked once, when complete.
 * Nothing here allocates or keeps pointers to the caller's buffer.
 */
#include "proto/http1_parse.h"

#include <string.h>

#include "lib/str.h"

/* ---------------------------------------------------------------- names */

const char *http1_result_name(enum http1_result r)
{
    switch (r) {
    case HTTP1_DONE:
        return "DONE";
    case HTTP1_AGAIN:
        return "AGAIN";
    case HTTP1_INVALID:
        return "INVALID";
    case HTTP1_TOO_LONG:
        return "TOO_LONG";
    }
    return "RESULT_???";
}

struct error_row {
    const char *name;
    int status;
    const char *message;
};

/* The first seven messages are the guide's (003:5852-5899), byte for byte. */
static const struct error_row error_rows[] = {
    [HTTP1_ERR_NONE] = {"NONE", 0, ""},
    [HTTP1_ERR_METHOD_TOO_LONG] = {"METHOD_TOO_LONG", 400, "Too long Request Method"},
    [HTTP1_ERR_METHOD_CHAR] = {"METHOD_CHAR", 400, "Illegal method character."},
    [HTTP1_ERR_VERSION_TOO_LONG] = {"VERSION_TOO_LONG", 400, "Too long Request Version"},
    [HTTP1_ERR_VERSION] = {"VERSION", 505, "Only support HTTP/0.9, HTTP/1.0, HTTP/1.1"},
    [HTTP1_ERR_URL_TOO_LONG] = {"URL_TOO_LONG", 414, "Request-URI Too Long"},
    [HTTP1_ERR_URL_CHAR] = {"URL_CHAR", 400, "Illegal URL character."},
    [HTTP1_ERR_URL_FORMAT] = {"URL_FORMAT", 400, "Invalid URL format"},
    [HTTP1_ERR_HEADER_NAME] = {"HEADER_NAME", 400, "Invalid header line"},
    [HTTP1_ERR_HEADER_VALUE] = {"HEADER_VALUE", 400, "Illegal header character."},
    [HTTP1_ERR_OBS_FOLD] = {"OBS_FOLD", 400, "Folded header line"},
    [HTTP1_ERR_DUPLICATE_HOST] = {"DUPLICATE_HOST", 400, "Duplicate Host header"},
    [HTTP1_ERR_TOO_MANY_HEADERS] = {"TOO_MANY_HEADERS", 431, "Too many header lines"},
    [HTTP1_ERR_HEAD_TOO_LONG] = {"HEAD_TOO_LONG", 431, "Too large header"},
    [HTTP1_ERR_STATUS_LINE] = {"STATUS_LINE", 502, "Invalid response status line"},
    [HTTP1_ERR_RESPONSE_VERSION] = {"RESPONSE_VERSION", 502, "Unsupported response version"},
    [HTTP1_ERR_RESPONSE_09] = {"RESPONSE_09", 502, "Response without status line"},
};

static const struct error_row *error_row(enum http1_error e)
{
    if ((size_t)e >= sizeof(error_rows) / sizeof(error_rows[0]))
        return NULL;
    return &error_rows[e];
}

const char *http1_error_name(enum http1_error e)
{
    const struct error_row *row = error_row(e);
    return row ? row->name : "ERR_???";
}

const char *http1_error_message(enum http1_error e)
{
    const struct error_row *row = error_row(e);
    return row ? row->message : "";
}

int http1_error_status(enum http1_error e)
{
    const struct error_row *row = error_row(e);
    return row ? row->status : 500;
}

struct reason_row {
    int status;
    const char *reason;
};

/* RFC 9110 15 phrases, with RFC 2616's where the guide quotes them
 * (414 "Request-URI Too Long", 003:5869) and WebDAV's (RFC 4918). */
static const struct reason_row reason_rows[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Requested Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Entity"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
};

const char *http1_status_reason(int status)
{
    for (size_t i = 0; i < sizeof(reason_rows) / sizeof(reason_rows[0]); i++) {
        if (reason_rows[i].status == status)
            return reason_rows[i].reason;
    }
    return "";
}

const char *http1_version_name(enum http1_version v)
{
    switch (v) {
    case HTTP1_VERSION_0_9:
        return "HTTP/0.9";
    case HTTP1_VERSION_1_0:
        return "HTTP/1.0";
    case HTTP1_VERSION_1_1:
        return "HTTP/1.1";
    }
    return "VERSION_???";
}

static const char *const method_names[] = {
    [HTTP1_METHOD_OTHER] = "OTHER",     [HTTP1_METHOD_GET] = "GET",
    [HTTP1_METHOD_HEAD] = "HEAD",       [HTTP1_METHOD_POST] = "POST",
    [HTTP1_METHOD_PUT] = "PUT",         [HTTP1_METHOD_DELETE] = "DELETE",
    [HTTP1_METHOD_CONNECT] = "CONNECT", [HTTP1_METHOD_OPTIONS] = "OPTIONS",
    [HTTP1_METHOD_TRACE] = "TRACE",
};
#define METHOD_COUNT (sizeof(method_names) / sizeof(method_names[0]))

const char *http1_method_name(enum http1_method m)
{
    return (size_t)m < METHOD_COUNT ? method_names[m] : "METHOD_???";
}

enum http1_method http1_method_from_str(struct str s)
{
    for (size_t i = 1; i < METHOD_COUNT; i++) {
        if (str_eq_cstr(s, method_names[i])) /* case-sensitive, RFC 9110 9.1 */
            return (enum http1_method)i;
    }
    return HTTP1_METHOD_OTHER;
}

const char *http1_url_form_name(enum http1_url_form f)
{
    switch (f) {
    case HTTP1_URL_ORIGIN:
        return "origin";
    case HTTP1_URL_ABSOLUTE:
        return "absolute";
    case HTTP1_URL_AUTHORITY:
        return "authority";
    case HTTP1_URL_ASTERISK:
        return "asterisk";
    }
    return "FORM_???";
}

const char *http1_body_name(enum http1_body b)
{
    switch (b) {
    case HTTP1_BODY_NONE:
        return "NONE";
    case HTTP1_BODY_LENGTH:
        return "LENGTH";
    case HTTP1_BODY_CHUNKED:
        return "CHUNKED";
    case HTTP1_BODY_UNTIL_CLOSE:
        return "UNTIL_CLOSE";
    case HTTP1_BODY_TUNNEL:
        return "TUNNEL";
    case HTTP1_BODY_INVALID:
        return "INVALID";
    }
    return "BODY_???";
}

/* ------------------------------------------------------ character classes */

static bool is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* tchar of RFC 9110 5.6.2: method names and header field names. */
static bool is_tchar(unsigned char c)
{
    if (is_alpha(c) || is_digit(c))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

static bool is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

/* A byte that may appear in a path or query: anything visible, including
 * obs-text that clients send unencoded, but no '#' (fragments are not part
 * of a request target, RFC 9112 3.2). */
static bool is_path_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && c != '#';
}

/* ------------------------------------------------------------------ URLs */

static bool parse_ipv4(struct str s)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= s.len || s.ptr[i] != '.')
                return false;
            i++;
        }
        size_t start = i;
        unsigned value = 0;
        while (i < s.len && is_digit((unsigned char)s.ptr[i]) && i - start < 3) {
            value = value * 10 + (unsigned)(s.ptr[i] - '0');
            i++;
        }
        size_t n = i - start;
        /* dec-octet of RFC 3986 3.2.2: no leading zeros, which inet_aton
         * would read as octal. */
        if (n == 0 || value > 255 || (n > 1 && s.ptr[start] == '0'))
            return false;
    }
    return i == s.len;
}

static bool parse_ipv6(struct str s)
{
    size_t i = 0, groups = 0;
    bool elided = false;
    if (s.len < 2)
        return false;
    if (s.ptr[0] == ':') {
        if (s.ptr[1] != ':')
            return false;
        elided = true;
        i = 2;
    }
    while (i < s.len) {
        size_t j = i;
        while (j < s.len && j - i < 5 && str_hex_digit((unsigned char)s.ptr[j]) >= 0)
            j++;
        if (j < s.len && s.ptr[j] == '.') {
            /* Trailing IPv4 part: two groups' worth, and the end. */
            if (!parse_ipv4(str_make(s.ptr + i, s.len - i)))
                return false;
            groups += 2;
            break;
        }
        if (j == i || j - i > 4)
            return false;
        groups++;
        if (j == s.len)
            break;
        if (s.ptr[j] != ':')
            return false;
        j++;
        if (j < s.len && s.ptr[j] == ':') {
            if (elided)
                return false;
            elided = true;
            j++;
        } else if (j == s.len) {
            return false; /* single trailing colon */
        }
        i = j;
    }
    return elided ? groups <= 7 : groups == 8;
}

static bool is_regname_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* A host whose last label is a number is read as an address by resolvers
 * (inet_aton: "127.1", "0x7f.1", "2130706433"); such a host is accepted
 * only as a canonical dotted quad (WHATWG URL's "ends in a number"). */
static bool ends_in_number(struct str host)
{
    size_t end = host.len;
    if (end > 0 && host.ptr[end - 1] == '.')
        end--;
    size_t start = end;
    while (start > 0 && host.ptr[start - 1] != '.')
        start--;
    struct str label = str_make(host.ptr + start, end - start);
    if (label.len == 0)
        return false;
    size_t i = 0;
    if (label.len >= 2 && label.ptr[0] == '0' && (label.ptr[1] == 'x' || label.ptr[1] == 'X')) {
        for (i = 2; i < label.len; i++) {
            if (str_hex_digit((unsigned char)label.ptr[i]) < 0)
                return false;
        }
        return true;
    }
    for (i = 0; i < label.len; i++) {
        if (!is_digit((unsigned char)label.ptr[i]))
            return false;
    }
    return true;
}

static bool parse_host(struct str s, struct http1_url *out)
{
    if (s.len == 0)
        return false;
    if (s.ptr[0] == '[') {
        if (s.len < 3 || s.ptr[s.len - 1] != ']')
            return false;
        struct str inner = str_make(s.ptr + 1, s.len - 2);
        if (!parse_ipv6(inner))
            return false; /* also zone ids ("%25eth0") and IPvFuture ("v1.x") */
        out->host = inner;
        out->host_kind = HTTP1_HOST_IPV6;
        return true;
    }
    if (s.len > HTTP1_HOST_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!is_regname_char((unsigned char)s.ptr[i]))
            return false;
    }
    out->host = s;
    if (parse_ipv4(s)) {
        out->host_kind = HTTP1_HOST_IPV4;
        return true;
    }
    if (ends_in_number(s))
        return false;
    out->host_kind = HTTP1_HOST_NAME;
    return true;
}

/* host[:port] of an authority; port_required for the authority-form. */
static bool parse_hostport(struct str s, bool port_required, struct http1_url *out)
{
    struct str host = s, port = STR_NULL;
    bool has_colon = false;
    size_t host_end = 0;
    if (s.len > 0 && s.ptr[0] == '[') {
        long close = str_find_char(s, ']');
        if (close < 0)
            return false;
        host_end = (size_t)close + 1;
    } else {
        long colon = str_find_char(s, ':');
        host_end = colon < 0 ? s.len : (size_t)colon;
    }
    if (host_end < s.len) {
        if (s.ptr[host_end] != ':')
            return false;
        has_colon = true;
        port = str_make(s.ptr + host_end + 1, s.len - host_end - 1);
    }
    host = str_make(s.ptr, host_end);
    if (!parse_host(host, out))
        return false;
    out->authority = s;
    if (has_colon && port.len > 0) {
        uint64_t v;
        if (port.len > 5 || !str_to_u64(port, 65535, &v) || v == 0)
            return false;
        out->port = (uint16_t)v;
        out->port_given = true;
    } else if (port_required) {
        return false;
    }
    return true;
}

/* path[?query] starting with '/'. */
static bool parse_path_query(struct str s, struct http1_url *out)
{
    if (s.len == 0 || s.ptr[0] != '/')
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (!is_path_char((unsigned char)s.ptr[i]))
            return false;
    }
    out->path_query = s;
    if (!str_cut(s, '?', &out->path, &out->query)) {
        out->path = s;
        out->query = STR_NULL;
        out->has_query = false;
    } else {
        out->has_query = true;
    }
    return true;
}

static bool is_scheme_char(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
}

static bool parse_userinfo(struct str s, struct http1_url *out)
{
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        /* unreserved / pct-encoded / sub-delims / ":" (RFC 3986 3.2.1) */
        if (is_regname_char(c) || c == '%' || c == ':' || c == '!' || c == '$' || c == '&' ||
            c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' ||
            c == '=')
            continue;
        return false;
    }
    out->has_password = str_cut(s, ':', &out->user, &out->password);
    if (!out->has_password)
        out->user = s;
    return true;
}

static bool parse_absolute(struct str url, size_t scheme_len, struct http1_url *out)
{
    struct str scheme = str_make(url.ptr, scheme_len);
    if (str_caseeq_cstr(scheme, "http")) {
        out->scheme = HTTP1_SCHEME_HTTP;
        out->port = 80; /* G-38 */
    } else if (str_caseeq_cstr(scheme, "ftp")) {
        out->scheme = HTTP1_SCHEME_FTP;
        out->port = 21; /* G-38 */
    } else {
        return false; /* HTTP-1: http:// and ftp:// only */
    }
    out->form = HTTP1_URL_ABSOLUTE;
    size_t start = scheme_len + 3;
    size_t end = start;
    while (end < url.len && url.ptr[end] != '/' && url.ptr[end] != '?' && url.ptr[end] != '#')
        end++;
    struct str auth = str_make(url.ptr + start, end - start);
    struct str rest = str_make(url.ptr + end, url.len - end);
    long at = str_find_char(auth, '@');
    if (at >= 0) {
        /* RFC 9110 4.2.4: userinfo in an http URI is an error. */
        if (out->scheme != HTTP1_SCHEME_FTP)
            return false;
        struct str info = str_make(auth.ptr, (size_t)at);
        auth = str_make(auth.ptr + at + 1, auth.len - (size_t)at - 1);
        if (str_find_char(auth, '@') >= 0 || !parse_userinfo(info, out))
            return false;
    }
    if (!parse_hostport(auth, false, out))
        return false;
    if (rest.len == 0) {
        /* RFC 9112 3.2.1: an empty path is sent as "/". */
        out->path = STR_LIT("/");
        out->path_query = out->path;
        return true;
    }
    return parse_path_query(rest, out);
}

bool http1_parse_url(struct str url, struct http1_url *out)
{
    memset(out, 0, sizeof(*out));
    if (url.len == 0)
        return false;
    if (url.len == 1 && url.ptr[0] == '*') {
        out->form = HTTP1_URL_ASTERISK;
        out->path = url;
        out->path_query = url;
        return true;
    }
    if (url.ptr[0] == '/') {
        out->form = HTTP1_URL_ORIGIN;
        return parse_path_query(url, out);
    }
    size_t i = 0;
    while (i < url.len && is_scheme_char((unsigned char)url.ptr[i]))
        i++;
    if (i > 0 && is_alpha((unsigned char)url.ptr[0]) && url.len - i >= 3 &&
        memcmp(url.ptr + i, "://", 3) == 0)
        return parse_absolute(url, i, out);
    out->form = HTTP1_URL_AUTHORITY;
    return parse_hostport(url, true, out);
}

bool http1_request_url(const struct http1_request *req, const char *buf, struct http1_url *out)
{
    return http1_parse_url(http1_span_str(buf, req->target), out);
}

/* ----------------------------------------------------------------- heads */

static void scan_init(struct http1_scan *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->sp1 = SIZE_MAX;
    sc->sp2 = SIZE_MAX;
}

void http1_request_init(struct http1_request *req, size_t max_head)
{
    memset(req, 0, sizeof(*req));
    req->max_head = max_head;
    scan_init(&req->scan);
}

void http1_response_init(struct http1_response *resp, size_t max_head)
{
    memset(resp, 0, sizeof(*resp));
    resp->max_head = max_head;
    scan_init(&resp->scan);
}

static enum http1_result finish(struct http1_scan *sc, enum http1_error *errp, enum http1_error e,
                                enum http1_result r)
{
    *errp = e;
    sc->finished = true;
    sc->final = r;
    return r;
}

/* Length of a complete line [start, lf) without its CR. */
static size_t line_content_len(const char *buf, size_t start, size_t lf)
{
    return (lf > start && buf[lf - 1] == '\r') ? lf - start - 1 : lf - start;
}

/* One complete header field line [ls, ls + n), n > 0, line end removed. */
static enum http1_error header_line(const char *buf, size_t ls, size_t n, struct http1_header *hdr,
                                    size_t *count, enum http1_result *res)
{
    const unsigned char *p = (const unsigned char *)buf + ls;
    *res = HTTP1_INVALID;
    if (is_ows(p[0]))
        return HTTP1_ERR_OBS_FOLD; /* RFC 9112 5.2; also 2.2 (space after start line) */
    size_t i = 0;
    while (i < n && is_tchar(p[i]))
        i++;
    /* Empty name, no colon, or anything between name and colon, notably
     * whitespace (RFC 9112 5.1: MUST reject, a smuggling vector). */
    if (i == 0 || i == n || p[i] != ':')
        return HTTP1_ERR_HEADER_NAME;
    size_t name_len = i;
    i++;
    while (i < n && is_ows(p[i]))
        i++;
    size_t vend = n;
    while (vend > i && is_ows(p[vend - 1]))
        vend--;
    /* RFC 9110 5.5: NUL and CR in a value are dangerous; reject. */
    if (vend > i &&
        (memchr(p + i, '\0', vend - i) != NULL || memchr(p + i, '\r', vend - i) != NULL))
        return HTTP1_ERR_HEADER_VALUE;
    if (*count >= HTTP1_MAX_HEADERS) {
        *res = HTTP1_TOO_LONG;
        return HTTP1_ERR_TOO_MANY_HEADERS;
    }
    hdr[*count].name = (struct http1_span){ls, name_len};
    hdr[*count].value = (struct http1_span){ls + i, vend - i};
    (*count)++;
    *res = HTTP1_AGAIN;
    return HTTP1_ERR_NONE;
}

/* Scan header lines from sc->pos up to end. Returns AGAIN when more bytes
 * are needed, DONE at the empty line (*head_len set), or a failure. */
static enum http1_result scan_headers(struct http1_scan *sc, const char *buf, size_t end,
                                      struct http1_header *hdr, size_t *count, size_t *head_len,
                                      enum http1_error *err)
{
    while (sc->pos < end) {
        const char *lf = memchr(buf + sc->pos, '\n', end - sc->pos);
        if (!lf) {
            sc->pos = end;
            break;
        }
        size_t lfo = (size_t)(lf - buf);
        size_t n = line_content_len(buf, sc->line_start, lfo);
        sc->pos = lfo + 1;
        if (n == 0) {
            *head_len = sc->pos;
            return HTTP1_DONE;
        }
        enum http1_result res;
        *err = header_line(buf, sc->line_start, n, hdr, count, &res);
        if (res != HTTP1_AGAIN)
            return res;
        sc->line_start = sc->pos;
    }
    return HTTP1_AGAIN;
}

static bool has_ctl_or_del(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

static bool is_method_token(struct str m)
{
    if (m.len == 0)
        return false;
    for (size_t i = 0; i < m.len; i++) {
        if (!is_tchar((unsigned char)m.ptr[i]))
            return false;
    }
    return true;
}

/* Validate a complete request line [ls, ls + n) in the order of G-36. */
static enum http1_error request_line(struct http1_request *req, const char *buf, size_t ls,
                                     size_t n)
{
    const char *line = buf + ls;
    size_t sp1 = req->scan.sp1, sp2 = req->scan.sp2;
    size_t mlen = sp1 < n ? sp1 : n;
    req->method_str = (struct http1_span){ls, mlen};
    if (mlen > HTTP1_METHOD_MAX)
        return HTTP1_ERR_METHOD_TOO_LONG;
    /* The guide names bytes below 0x20; any other non-token byte (and an
     * empty method) gets the same answer (RFC 9110 9.1: method = token). */
    if (!is_method_token(str_make(line, mlen)))
        return HTTP1_ERR_METHOD_CHAR;
    req->method = http1_method_from_str(str_make(line, mlen));

    size_t tstart = sp1 < n ? sp1 + 1 : n;
    size_t tend = sp2 < n ? sp2 : n;
    req->target = (struct http1_span){ls + tstart, tend - tstart};
    if (sp2 < n) {
        struct str v = str_make(line + sp2 + 1, n - sp2 - 1);
        req->version_str = (struct http1_span){ls + sp2 + 1, v.len};
        if (v.len > HTTP1_VERSION_MAX)
            return HTTP1_ERR_VERSION_TOO_LONG;
        if (str_eq_cstr(v, "HTTP/1.1"))
            req->version = HTTP1_VERSION_1_1;
        else if (str_eq_cstr(v, "HTTP/1.0"))
            req->version = HTTP1_VERSION_1_0;
        else
            return HTTP1_ERR_VERSION;
    } else {
        req->version_str = (struct http1_span){ls + n, 0};
        req->version = HTTP1_VERSION_0_9;
        /* HTTP/0.9 (RFC 1945 4.1): Simple-Request = "GET" SP Request-URI */
        if (req->method != HTTP1_METHOD_GET)
            return HTTP1_ERR_VERSION;
    }

    struct str target = http1_span_str(buf, req->target);
    if (target.len > HTTP1_URL_MAX)
        return HTTP1_ERR_URL_TOO_LONG;
    if (has_ctl_or_del(target.ptr, target.len))
        return HTTP1_ERR_URL_CHAR;
    struct http1_url url;
    if (!http1_parse_url(target, &url))
        return HTTP1_ERR_URL_FORMAT;
    req->target_form = url.form;
    /* RFC 9112 3.2.3 / 3.2.4: authority-form is for CONNECT, which takes
     * nothing else; asterisk-form is for OPTIONS. */
    bool connect = req->method == HTTP1_METHOD_CONNECT;
    if ((url.form == HTTP1_URL_AUTHORITY) != connect)
        return HTTP1_ERR_URL_FORMAT;
    if (url.form == HTTP1_URL_ASTERISK && req->method != HTTP1_METHOD_OPTIONS)
        return HTTP1_ERR_URL_FORMAT;
    return HTTP1_ERR_NONE;
}

/* Decide a request line that has not ended, from its first `content`
 * bytes (a trailing CR, which may be the line end, not counted).
 * HTTP1_ERR_NONE means keep reading. */
static enum http1_error request_line_early(const struct http1_request *req, const char *buf,
                                           size_t content)
{
    const struct http1_scan *sc = &req->scan;
    if (sc->sp1 == SIZE_MAX)
        return content > HTTP1_METHOD_MAX ? HTTP1_ERR_METHOD_TOO_LONG : HTTP1_ERR_NONE;
    if (content <= HTTP1_REQUEST_LINE_MAX)
        return HTTP1_ERR_NONE;
    /* Some part is over its limit. Report what G-36's order would report
     * first, as far as the bytes so far tell. */
    if (!is_method_token(str_make(buf + sc->line_start, sc->sp1)))
        return HTTP1_ERR_METHOD_CHAR;
    if (sc->sp2 == SIZE_MAX)
        return HTTP1_ERR_URL_TOO_LONG; /* the version (if any) is still to come */
    if (content - sc->sp2 - 1 > HTTP1_VERSION_MAX)
        return HTTP1_ERR_VERSION_TOO_LONG;
    return HTTP1_ERR_NONE; /* long URL, short version so far: wait for either */
}

static bool head_limit_reached(const struct http1_scan *sc, size_t max_head)
{
    return sc->pos >= max_head;
}

enum http1_result http1_parse_request(struct http1_request *req, const char *buf, size_t len)
{
    struct http1_scan *sc = &req->scan;
    if (sc->finished)
        return sc->final;
    size_t end = len < req->max_head ? len : req->max_head;
    while (!sc->in_headers && sc->pos < end) {
        unsigned char c = (unsigned char)buf[sc->pos];
        size_t i = sc->pos - sc->line_start;
        sc->pos++;
        if (c == '\n') {
            size_t n = line_content_len(buf, sc->line_start, sc->pos - 1);
            if (n == 0 && sc->empty < HTTP1_MAX_LEADING_EMPTY) {
                sc->empty++; /* RFC 9112 2.2 */
                sc->line_start = sc->pos;
                sc->sp1 = sc->sp2 = SIZE_MAX;
                continue;
            }
            enum http1_error e = request_line(req, buf, sc->line_start, n);
            if (e != HTTP1_ERR_NONE)
                return finish(sc, &req->error, e, HTTP1_INVALID);
            sc->in_headers = true;
            sc->line_start = sc->pos;
            if (req->version == HTTP1_VERSION_0_9) {
                req->head_len = sc->pos; /* no headers in HTTP/0.9 */
                return finish(sc, &req->error, HTTP1_ERR_NONE, HTTP1_DONE);
            }
            break;
        }
        if (c == ' ') {
            if (sc->sp1 == SIZE_MAX)
                sc->sp1 = i;
            else if (sc->sp2 == SIZE_MAX)
                sc->sp2 = i;
        }
        enum http1_error e = request_line_early(req, buf, c == '\r' ? i : i + 1);
        if (e != HTTP1_ERR_NONE)
            return finish(sc, &req->error, e, HTTP1_INVALID);
    }
    if (sc->in_headers) {
        enum http1_error e = HTTP1_ERR_NONE;
        enum http1_result r =
            scan_headers(sc, buf, end, req->hdr, &req->hdr_count, &req->head_len, &e);
        if (r == HTTP1_DONE) {
            /* RFC 9112 3.2: several Host lines MUST get a 400. */
            if (http1_fields_count(http1_request_fields(req, buf), "Host") > 1)
                return finish(sc, &req->error, HTTP1_ERR_DUPLICATE_HOST, HTTP1_INVALID);
            return finish(sc, &req->error, HTTP1_ERR_NONE, HTTP1_DONE);
        }
        if (r != HTTP1_AGAIN)
            return finish(sc, &req->error, e, r);
    }
    if (head_limit_reached(sc, req->max_head))
        return finish(sc, &req->error, HTTP1_ERR_HEAD_TOO_LONG, HTTP1_TOO_LONG);
    return HTTP1_AGAIN;
}

/* Validate a complete status line [ls, ls + n) that starts with "HTTP/". */
static enum http1_error status_line(struct http1_response *resp, const char *buf, size_t ls,
                                    size_t n)
{
    const unsigned char *p = (const unsigned char *)buf + ls;
    /* HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3) */
    if (n < 8 || !is_digit(p[5]) || p[6] != '.' || !is_digit(p[7]))
        return HTTP1_ERR_STATUS_LINE;
    if (p[5] != '1')
        return HTTP1_ERR_RESPONSE_VERSION;
    /* RFC 9110 2.5: a higher minor version is read as the highest we know. */
    resp->version = p[7] == '0' ? HTTP1_VERSION_1_0 : HTTP1_VERSION_1_1;
    if (n < 12 || p[8] != ' ' || !is_digit(p[9]) || !is_digit(p[10]) || !is_digit(p[11]))
        return HTTP1_ERR_STATUS_LINE;
    int status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (status < 100 || status > 599) /* RFC 9110 15 */
        return HTTP1_ERR_STATUS_LINE;
    resp->status = status;
    size_t rstart = 12;
    if (n > 12) {
        if (p[12] != ' ')
            return HTTP1_ERR_STATUS_LINE;
        rstart = 13;
    }
    /* reason-phrase = *( HTAB / SP / VCHAR / obs-text ) (RFC 9112 4) */
    for (size_t i = rstart; i < n; i++) {
        if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
            return HTTP1_ERR_STATUS_LINE;
    }
    resp->reason = (struct http1_span){ls + rstart, n - rstart};
    return HTTP1_ERR_NONE;
}

enum http1_result http1_parse_response(struct http1_response *resp, const char *buf, size_t len)
{
    static const char http_name[] = "HTTP/";
    struct http1_scan *sc = &resp->scan;
    if (sc->finished)
        return sc->final;
    size_t end = len < resp->max_head ? len : resp->max_head;
    while (!sc->in_headers && sc->pos < end) {
        unsigned char c = (unsigned char)buf[sc->pos];
        size_t i = sc->pos - sc->line_start;
        sc->pos++;
        if (c == '\n') {
            size_t n = line_content_len(buf, sc->line_start, sc->pos - 1);
            if (n == 0 && sc->empty < HTTP1_MAX_LEADING_EMPTY) {
                sc->empty++;
                sc->line_start = sc->pos;
                continue;
            }
            if (!sc->prefix_ok)
                return finish(sc, &resp->error, HTTP1_ERR_RESPONSE_09, HTTP1_INVALID);
            enum http1_error e = status_line(resp, buf, sc->line_start, n);
            if (e != HTTP1_ERR_NONE)
                return finish(sc, &resp->error, e, HTTP1_INVALID);
            sc->in_headers = true;
            sc->line_start = sc->pos;
            resp->parsed_len = sc->pos;
            break;
        }
        if (sc->prefix_ok || c == '\r')
            continue; /* a CR may end an empty line: judged with the next byte */
        /* Compare every byte that is now known to be line content. */
        for (size_t k = 0; k <= i && k < sizeof(http_name) - 1; k++) {
            if (buf[sc->line_start + k] != http_name[k])
                return finish(sc, &resp->error, HTTP1_ERR_RESPONSE_09, HTTP1_INVALID);
        }
        if (i + 1 >= sizeof(http_name) - 1)
            sc->prefix_ok = true;
    }
    if (sc->in_headers) {
        enum http1_error e = HTTP1_ERR_NONE;
        enum http1_result r =
            scan_headers(sc, buf, end, resp->hdr, &resp->hdr_count, &resp->head_len, &e);
        resp->parsed_len = sc->line_start;
        if (r == HTTP1_DONE) {
            resp->parsed_len = resp->head_len;
            return finish(sc, &resp->error, HTTP1_ERR_NONE, HTTP1_DONE);
        }
        if (r != HTTP1_AGAIN)
            return finish(sc, &resp->error, e, r);
    }
    if (head_limit_reached(sc, resp->max_head))
        return finish(sc, &resp->error, HTTP1_ERR_HEAD_TOO_LONG, HTTP1_TOO_LONG);
    return HTTP1_AGAIN;
}

/* ------------------------------------------------------------- head skip */

enum {
    SKIP_LINE_START = 0, /* at the first byte of a line */
    SKIP_CR_AT_START,    /* a CR was the first byte of the line */
    SKIP_IN_LINE,        /* inside a non-empty line */
    SKIP_DONE,
};

void http1_skip_init(struct http1_skip *st)
{
    st->state = SKIP_LINE_START;
}

enum http1_result http1_skip_head(struct http1_skip *st, const char *in, size_t len,
                                  size_t *consumed)
{
    size_t i = 0;
    while (i < len && st->state != SKIP_DONE) {
        char c = in[i];
        switch (st->state) {
        case SKIP_LINE_START:
        case SKIP_CR_AT_START:
            if (c == '\n')
                st->state = SKIP_DONE;
            else if (c == '\r' && st->state == SKIP_LINE_START)
                st->state = SKIP_CR_AT_START;
            else
                st->state = SKIP_IN_LINE;
            i++;
            break;
        default: {
            const char *lf = memchr(in + i, '\n', len - i);
            if (!lf) {
                i = len;
            } else {
                i = (size_t)(lf - in) + 1;
                st->state = SKIP_LINE_START;
            }
            break;
        }
        }
    }
    *consumed = i;
    return st->state == SKIP_DONE ? HTTP1_DONE : HTTP1_AGAIN;
}

/* -------------------------------------------------------- header helpers */

struct http1_fields http1_request_fields(const struct http1_request *req, const char *buf)
{
    return (struct http1_fields){buf, req->hdr, req->hdr_count};
}

struct http1_fields http1_response_fields(const struct http1_response *resp, const char *buf)
{
    return (struct http1_fields){buf, resp->hdr, resp->hdr_count};
}

struct str http1_fields_name(struct http1_fields f, size_t i)
{
    return i < f.count ? http1_span_str(f.buf, f.hdr[i].name) : STR_NULL;
}

struct str http1_fields_value(struct http1_fields f, size_t i)
{
    return i < f.count ? http1_span_str(f.buf, f.hdr[i].value) : STR_NULL;
}

bool http1_fields_find(struct http1_fields f, const char *name, size_t *iter, struct str *value)
{
    for (size_t i = *iter; i < f.count; i++) {
        if (str_caseeq_cstr(http1_span_str(f.buf, f.hdr[i].name), name)) {
            *value = http1_span_str(f.buf, f.hdr[i].value);
            *iter = i + 1;
            return true;
        }
    }
    *iter = f.count;
    return false;
}

size_t http1_fields_count(struct http1_fields f, const char *name)
{
    size_t n = 0, it = 0;
    struct str v;
    while (http1_fields_find(f, name, &it, &v))
        n++;
    return n;
}

/* Element `rest` of a comma list: the next non-empty element's name (up to
 * ';', trimmed). Returns false when the list is exhausted. */
static bool list_next(struct str *rest, struct str *elem)
{
    while (rest->len > 0) {
        struct str item, tail;
        if (!str_cut(*rest, ',', &item, &tail)) {
            item = *rest;
            tail = STR_NULL;
        }
        *rest = tail;
        struct str name, params;
        if (!str_cut(item, ';', &name, &params))
            name = item;
        name = str_trim(name);
        if (name.len > 0) {
            *elem = name;
            return true;
        }
        /* RFC 9110 5.6.1: empty list elements are ignored. */
    }
    return false;
}

bool http1_header_has_token(struct str value, const char *token)
{
    struct str elem;
    while (list_next(&value, &elem)) {
        if (str_caseeq_cstr(elem, token))
            return true;
    }
    return false;
}

enum http1_cl http1_content_length(struct http1_fields f, uint64_t *out)
{
    size_t it = 0;
    struct str v;
    if (!http1_fields_find(f, "Content-Length", &it, &v))
        return HTTP1_CL_NONE;
    struct str again;
    /* HTTP-20c and RFC 9110 8.6: repeated lines are rejected even when
     * equal, so that no two parsers can pick different ones. */
    if (http1_fields_find(f, "Content-Length", &it, &again))
        return HTTP1_CL_INVALID;
    uint64_t n;
    if (!str_to_u64(v, (uint64_t)HTTP1_CONTENT_LENGTH_MAX, &n))
        return HTTP1_CL_INVALID;
    *out = n;
    return HTTP1_CL_ONE;
}

/* Transfer-Encoding summary: present, final coding chunked, number of
 * codings, number of chunked codings. */
struct te_info {
    bool present;
    bool final_chunked;
    size_t codings;
    size_t chunked;
};

static struct te_info transfer_encoding(struct http1_fields f)
{
    struct te_info te = {false, false, 0, 0};
    size_t it = 0;
    struct str v;
    while (http1_fields_find(f, "Transfer-Encoding", &it, &v)) {
        te.present = true;
        struct str elem;
        while (list_next(&v, &elem)) {
            bool chunked = str_caseeq_cstr(elem, "chunked");
            te.codings++;
            te.chunked += chunked;
            te.final_chunked = chunked;
        }
    }
    return te;
}

bool http1_is_chunked(struct http1_fields f)
{
    return transfer_encoding(f).final_chunked;
}

enum http1_body http1_request_body_kind(const struct http1_request *req, const char *buf,
                                        uint64_t *length)
{
    struct http1_fields f = http1_request_fields(req, buf);
    *length = 0;
    if (req->version == HTTP1_VERSION_0_9)
        return HTTP1_BODY_NONE;
    struct te_info te = transfer_encoding(f);
    if (te.present) {
        if (http1_fields_count(f, "Content-Length") > 0)
            return HTTP1_BODY_INVALID; /* RFC 9112 6.3 rule 3: smuggling */
        if (req->version == HTTP1_VERSION_1_0)
            return HTTP1_BODY_INVALID; /* RFC 9112 6.1: framing faulty */
        if (te.codings != 1 || te.chunked != 1)
            return HTTP1_BODY_INVALID; /* rule 4; 6.1: only chunked is understood */
        return HTTP1_BODY_CHUNKED;
    }
    switch (http1_content_length(f, length)) {
    case HTTP1_CL_NONE:
        return HTTP1_BODY_NONE; /* rule 6 */
    case HTTP1_CL_ONE:
        return HTTP1_BODY_LENGTH;
    case HTTP1_CL_INVALID:
        break;
    }
    *length = 0;
    return HTTP1_BODY_INVALID; /* rule 5 */
}

enum http1_body http1_response_body_kind(const struct http1_response *resp, const char *buf,
                                         enum http1_method request_method, uint64_t *length)
{
    struct http1_fields f = http1_response_fields(resp, buf);
    *length = 0;
    /* Rule 1: HEAD, 1xx, 204, 304 never have content. */
    if (request_method == HTTP1_METHOD_HEAD || resp->status < 200 || resp->status == 204 ||
        resp->status == 304)
        return HTTP1_BODY_NONE;
    /* Rule 2: a 2xx to CONNECT switches to tunnel mode. */
    if (request_method == HTTP1_METHOD_CONNECT && resp->status < 300)
        return HTTP1_BODY_TUNNEL;
    struct te_info te = transfer_encoding(f);
    if (te.present) {
        if (resp->version == HTTP1_VERSION_1_0)
            return HTTP1_BODY_INVALID; /* RFC 9112 6.1 */
        /* Rules 3 and 4: Transfer-Encoding overrides Content-Length. */
        return te.final_chunked ? HTTP1_BODY_CHUNKED : HTTP1_BODY_UNTIL_CLOSE;
    }
    switch (http1_content_length(f, length)) {
    case HTTP1_CL_NONE:
        return HTTP1_BODY_UNTIL_CLOSE; /* rule 8 */
    case HTTP1_CL_ONE:
        return HTTP1_BODY_LENGTH; /* rule 6 */
    case HTTP1_CL_INVALID:
        break;
    }
    *length = 0;
    return HTTP1_BODY_INVALID; /* rule 5: the proxy answers 502 */
}

/* --------------------------------------------------------------- chunked */

enum {
    CH_SIZE_FIRST = 0, /* first hex digit of a chunk size */
    CH_SIZE,           /* more hex digits */
    CH_SIZE_WS,        /* whitespace after the digits */
    CH_EXT,            /* chunk extensions, ignored */
    CH_SIZE_LF,        /* LF of the size line */
    CH_DATA,           /* chunk data */
    CH_DATA_CR,        /* CRLF after chunk data */
    CH_DATA_LF,
    CH_TRAILER_START, /* first byte of a trailer line, or CR of the end */
    CH_TRAILER,       /* inside a trailer line, skipped */
    CH_TRAILER_LF,
    CH_END_LF, /* LF of the final empty line */
    CH_DONE,
    CH_INVALID,
    CH_TOO_LONG,
};

void http1_chunked_init(struct http1_chunked *st)
{
    memset(st, 0, sizeof(*st));
    st->state = CH_SIZE_FIRST;
}

static enum http1_result chunked_final(unsigned state)
{
    switch (state) {
    case CH_DONE:
        return HTTP1_DONE;
    case CH_TOO_LONG:
        return HTTP1_TOO_LONG;
    default:
        return HTTP1_INVALID;
    }
}

/* One framing byte; returns the new state. */
static unsigned chunked_step(struct http1_chunked *st, unsigned char c)
{
    switch (st->state) {
    case CH_SIZE_FIRST:
    case CH_SIZE: {
        int h = str_hex_digit(c);
        if (h >= 0) {
            /* RFC 9112 7.1: anticipate overflow of the size. */
            if (st->count >= HTTP1_CHUNK_SIZE_DIGITS_MAX || st->remaining > (UINT64_MAX >> 4))
                return CH_INVALID;
            st->remaining = (st->remaining << 4) | (uint64_t)h;
            st->count++;
            return CH_SIZE;
        }
        if (st->state == CH_SIZE_FIRST)
            return CH_INVALID;
        st->count = 0;
        if (c == ';')
            return CH_EXT;
        if (is_ows(c))
            return CH_SIZE_WS; /* BWS before ';' (7.1.1) and, leniently, before CRLF */
        return c == '\r' ? CH_SIZE_LF : CH_INVALID;
    }
    case CH_SIZE_WS:
        if (is_ows(c))
            return CH_SIZE_WS;
        if (c == ';')
            return CH_EXT;
        return c == '\r' ? CH_SIZE_LF : CH_INVALID;
    case CH_EXT:
        if (c == '\r')
            return CH_SIZE_LF;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return CH_INVALID; /* includes a bare LF */
        if (++st->count > HTTP1_CHUNK_EXT_MAX)
            return CH_TOO_LONG;
        return CH_EXT;
    case CH_SIZE_LF:
        if (c != '\n')
            return CH_INVALID;
        st->count = 0;
        return st->remaining == 0 ? CH_TRAILER_START : CH_DATA;
    case CH_DATA_CR:
        return c == '\r' ? CH_DATA_LF : CH_INVALID;
    case CH_DATA_LF:
        st->count = 0;
        return c == '\n' ? CH_SIZE_FIRST : CH_INVALID;
    case CH_TRAILER_START:
    case CH_TRAILER:
        /* Every byte of the trailer section counts, line ends included. */
        if (++st->count > HTTP1_CHUNK_TRAILER_MAX)
            return CH_TOO_LONG;
        if (c == '\r')
            return st->state == CH_TRAILER_START ? CH_END_LF : CH_TRAILER_LF;
        if (c == '\n' || c == '\0')
            return CH_INVALID;
        return CH_TRAILER;
    case CH_TRAILER_LF:
        if (++st->count > HTTP1_CHUNK_TRAILER_MAX)
            return CH_TOO_LONG;
        return c == '\n' ? CH_TRAILER_START : CH_INVALID;
    case CH_END_LF:
        return c == '\n' ? CH_DONE : CH_INVALID;
    default:
        return st->state;
    }
}

enum http1_result http1_chunked_decode(struct http1_chunked *st, const char *in, size_t len,
                                       size_t *consumed, struct str *data_out)
{
    size_t i = 0;
    *data_out = STR_NULL;
    while (i < len && st->state < CH_DONE) {
        if (st->state == CH_DATA) {
            size_t avail = len - i;
            size_t n = st->remaining < avail ? (size_t)st->remaining : avail;
            *data_out = str_make(in + i, n);
            st->remaining -= n;
            i += n;
            if (st->remaining == 0)
                st->state = CH_DATA_CR;
            break; /* one run of data per call */
        }
        st->state = chunked_step(st, (unsigned char)in[i]);
        if (st->state == CH_INVALID || st->state == CH_TOO_LONG)
            break; /* the offending byte is not consumed */
        i++;
    }
    *consumed = i;
    if (st->state >= CH_DONE)
        return chunked_final(st->state);
    return HTTP1_AGAIN;
}
