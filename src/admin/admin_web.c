/* admin_web - the web process's HTTP layer on libmicrohttpd.
 *
 * One thread per connection (a page may wait seconds for a service
 * restart without holding up the others), bounded everywhere: at most
 * ADMIN_CONNECTIONS_MAX connections (ADMIN_PER_IP_MAX from one address),
 * request headers within ADMIN_HEADER_MEMORY (libmicrohttpd answers 431
 * beyond it), bodies within ADMIN_BODY_MAX (413), idle_timeout s of
 * silence (admin.conf). Every answer carries the security headers; no page but the
 * style sheet and the login challenge is served before authentication.
 */
#include "admin/admin_web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin/admin_auth.h"
#include "admin/admin_page.h"
#include "admin/admin_routes.h"
#include "lib/sock.h"

#define ADMIN_CONNECTIONS_MAX 32
#define ADMIN_PER_IP_MAX      16
#define ADMIN_HEADER_MEMORY   (64u * 1024)

struct conn_state {
    struct buf body;
    bool too_big;
    /* The login is decided on the first call, when the headers are in and
     * before any body is read: a client without it gets its 401 (or 429)
     * at once instead of having its body read, and the digest nonce count
     * is checked once per request. */
    bool checked;
    enum admin_auth_result auth_result;
    struct admin_auth_out auth;
    char user[256];
    char csrf[48];
    bool must_change_password;
    bool answered; /* a response is queued already */
};

static const char *const security_headers[][2] = {
    {"Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"},
    {"X-Frame-Options", "DENY"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-store"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
};

const char *admin_query(const struct admin_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *admin_field(const struct admin_req *rq, const char *name)
{
    const struct form_field *f = form_get(rq->form, rq->form_count, name);
    return f != NULL ? f->value : NULL;
}

void admin_redirect(struct admin_req *rq, const char *path)
{
    rq->status = MHD_HTTP_SEE_OTHER;
    str_format(rq->location, sizeof(rq->location), "%s", path[0] == '/' ? path : "/");
}

static void add_headers(struct MHD_Response *r, const struct admin_req *rq, const char *cookie)
{
    for (size_t i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]); i++)
        MHD_add_response_header(r, security_headers[i][0], security_headers[i][1]);
    if (admin.tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    MHD_add_response_header(r, "Content-Type",
                            rq->content_type != NULL ? rq->content_type
                                                     : "text/html; charset=utf-8");
    if (cookie != NULL && cookie[0] != 0)
        MHD_add_response_header(r, "Set-Cookie", cookie);
    if (rq->set_cookie[0] != 0)
        MHD_add_response_header(r, "Set-Cookie", rq->set_cookie);
    if (rq->location[0] != 0)
        MHD_add_response_header(r, "Location", rq->location);
    if (rq->disposition[0] != 0)
        MHD_add_response_header(r, "Content-Disposition", rq->disposition);
}

static struct MHD_Response *make_response(struct admin_req *rq)
{
    if (rq->body_fd >= 0) {
        off_t size = lseek(rq->body_fd, 0, SEEK_END);
        if (size >= 0 && lseek(rq->body_fd, 0, SEEK_SET) == 0) {
            struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)size, rq->body_fd);
            if (r != NULL) {
                rq->body_fd = -1; /* libmicrohttpd closes it */
                return r;
            }
        }
        close(rq->body_fd);
        rq->body_fd = -1;
        admin_error_page(rq, 500, "cannot send the file");
    }
    return MHD_create_response_from_buffer(buf_len(rq->out), buf_rptr(rq->out),
                                           MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result send_page(struct admin_req *rq, const char *cookie)
{
    struct MHD_Response *r = make_response(rq);
    if (r == NULL)
        return MHD_NO;
    add_headers(r, rq, cookie);
    enum MHD_Result ret = MHD_queue_response(rq->conn, rq->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_challenge(struct admin_req *rq, const struct admin_auth_out *a)
{
    admin_error_page(rq, MHD_HTTP_UNAUTHORIZED, T(rq, T_LOGIN_REQUIRED));
    struct MHD_Response *r =
        MHD_create_response_from_buffer(buf_len(rq->out), buf_rptr(rq->out), MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    add_headers(r, rq, NULL);
    enum MHD_Result ret = MHD_queue_auth_fail_response2(
        rq->conn, ADMIN_REALM, a->opaque, r, a->stale ? MHD_YES : MHD_NO, MHD_DIGEST_ALG_MD5);
    MHD_destroy_response(r);
    return ret;
}

static void client_ip(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = 0;
    if (ci != NULL && ci->client_addr != NULL) {
        uint16_t port;
        sock_addr_text(ci->client_addr, out, cap, &port);
    }
}

static enum admin_lang request_lang(struct MHD_Connection *c)
{
    enum admin_lang lang;
    const char *v = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, ADMIN_COOKIE_LANG);
    if (admin_lang_parse(v, &lang))
        return lang;
    return admin.conf.lang;
}

static bool is_form(struct MHD_Connection *c)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (ct == NULL)
        return false;
    static const char want[] = "application/x-www-form-urlencoded";
    size_t n = sizeof(want) - 1;
    return strncasecmp(ct, want, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

static enum MHD_Result handle(struct MHD_Connection *c, const char *url, const char *method,
                              struct conn_state *st)
{
    struct admin_req rq;
    memset(&rq, 0, sizeof(rq));
    rq.conn = c;
    rq.method = method;
    rq.path = url;
    rq.status = MHD_HTTP_OK;
    rq.body_fd = -1;
    rq.out = buf_new(64 * 1024);
    if (rq.out == NULL)
        return MHD_NO;
    client_ip(c, rq.client_ip, sizeof(rq.client_ip));
    rq.lang = request_lang(c);

    struct form_field *fields = NULL;
    struct admin_auth_out auth;
    memset(&auth, 0, sizeof(auth));
    enum MHD_Result ret;
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    const struct admin_route *route = admin_route_find(url);

    if (route != NULL && (route->flags & ROUTE_OPEN)) {
        if (!get)
            admin_error_page(&rq, MHD_HTTP_METHOD_NOT_ALLOWED, T(&rq, T_METHOD_NOT_ALLOWED));
        else
            route->fn(&rq);
        ret = send_page(&rq, NULL);
        goto out;
    }
    if (route != NULL && (route->flags & ROUTE_METRICS)) {
        route->fn(&rq); /* checks its token or address itself */
        ret = send_page(&rq, NULL);
        goto out;
    }

    auth = st->auth;
    if (st->checked && st->auth_result == ADMIN_AUTH_OK) {
        str_format(rq.user_buf, sizeof(rq.user_buf), "%s", st->user);
        str_format(rq.csrf_buf, sizeof(rq.csrf_buf), "%s", st->csrf);
        rq.user = rq.user_buf;
        rq.csrf = rq.csrf_buf;
        rq.must_change_password = st->must_change_password;
    }
    switch (st->checked ? st->auth_result : ADMIN_AUTH_CHALLENGE) {
    case ADMIN_AUTH_CHALLENGE:
        ret = send_challenge(&rq, &auth);
        goto out;
    case ADMIN_AUTH_LIMITED: {
        char text[256];
        str_format(text, sizeof(text), T(&rq, T_TOO_MANY_LOGINS), auth.retry_after);
        admin_error_page(&rq, MHD_HTTP_TOO_MANY_REQUESTS, text);
        struct MHD_Response *r = make_response(&rq);
        if (r == NULL) {
            ret = MHD_NO;
            goto out;
        }
        add_headers(r, &rq, NULL);
        char ra[16];
        str_format(ra, sizeof(ra), "%u", auth.retry_after);
        MHD_add_response_header(r, "Retry-After", ra);
        ret = MHD_queue_response(c, rq.status, r);
        MHD_destroy_response(r);
        goto out;
    }
    case ADMIN_AUTH_OK:
        break;
    }

    if (route == NULL) {
        admin_error_page(&rq, MHD_HTTP_NOT_FOUND, T(&rq, T_NOT_FOUND));
    } else if ((get && !(route->flags & ROUTE_GET)) || (post && !(route->flags & ROUTE_POST)) ||
               (!get && !post)) {
        admin_error_page(&rq, MHD_HTTP_METHOD_NOT_ALLOWED, T(&rq, T_METHOD_NOT_ALLOWED));
    } else if (rq.must_change_password && !(route->flags & ROUTE_ANY_PASSWORD)) {
        admin_redirect(&rq, "/account/password");
    } else if (post && st->too_big) {
        admin_error_page(&rq, 413, "request body too large");
    } else if (post) {
        char err[256];
        fields = calloc(ADMIN_FORM_FIELDS, sizeof(*fields));
        buf_append(&st->body, "", 1); /* NUL after the text; the parser gets len */
        if (fields == NULL) {
            admin_error_page(&rq, 500, "out of memory");
        } else if (!is_form(c) ||
                   !form_parse(buf_rptr(&st->body), buf_len(&st->body) - 1, fields,
                               ADMIN_FORM_FIELDS, &rq.form_count, err, sizeof(err))) {
            admin_error_page(&rq, MHD_HTTP_BAD_REQUEST, is_form(c) ? err : "not a form");
        } else {
            rq.form = fields;
            if (!admin_auth_csrf_ok(&rq)) {
                admin_audit(rq.client_ip, rq.user, "refused POST %s: no valid CSRF token", url);
                admin_error_page(&rq, MHD_HTTP_FORBIDDEN, T(&rq, T_FORBIDDEN_CSRF));
            } else {
                route->fn(&rq);
            }
        }
    } else {
        route->fn(&rq);
    }
    ret = send_page(&rq, auth.set_cookie);
out:
    if (rq.body_fd >= 0)
        close(rq.body_fd);
    free(fields);
    buf_free(rq.out);
    return ret;
}

/* decide_login - the first call's part: the login of a request to a page
 * that needs one, kept in st for the last call. */
static void decide_login(struct MHD_Connection *c, const char *url, struct conn_state *st)
{
    const struct admin_route *route = admin_route_find(url);
    if (route != NULL && (route->flags & (ROUTE_OPEN | ROUTE_METRICS)))
        return;
    struct admin_req rq;
    memset(&rq, 0, sizeof(rq));
    rq.conn = c;
    client_ip(c, rq.client_ip, sizeof(rq.client_ip));
    st->auth_result = admin_auth_check(&rq, &st->auth);
    st->checked = true;
    if (st->auth_result == ADMIN_AUTH_OK) {
        str_format(st->user, sizeof(st->user), "%s", rq.user_buf);
        str_format(st->csrf, sizeof(st->csrf), "%s", rq.csrf_buf);
        st->must_change_password = rq.must_change_password;
    }
}

/* declared_too_big - a Content-Length beyond ADMIN_BODY_MAX. */
static bool declared_too_big(struct MHD_Connection *c)
{
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl == NULL)
        return false;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    return errno != 0 || *end != 0 || n > ADMIN_BODY_MAX;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct conn_state *st = *con_cls;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        *con_cls = st;
        decide_login(c, url, st);
        /* Answered before the body: no login, or a body too large. */
        if ((st->checked && st->auth_result != ADMIN_AUTH_OK) || declared_too_big(c)) {
            st->too_big = declared_too_big(c);
            st->answered = true;
            return handle(c, url, method, st);
        }
        return MHD_YES;
    }
    if (st->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!st->too_big) {
            if (st->body.data == NULL && buf_alloc_storage(&st->body, ADMIN_BODY_MAX + 1) < 0)
                return MHD_NO;
            if (buf_len(&st->body) + *upload_data_size > ADMIN_BODY_MAX)
                st->too_big = true;
            else
                buf_append(&st->body, upload_data, *upload_data_size);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->body.data == NULL && buf_alloc_storage(&st->body, 1) < 0)
        return MHD_NO;
    return handle(c, url, method, st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    struct conn_state *st = *con_cls;
    if (st != NULL) {
        buf_fini(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[1024];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    admin_error(NULL, "http: %s", line);
}

struct MHD_Daemon *admin_web_start(int listen_fd, const char *tls_cert, const char *tls_key)
{
    static unsigned char digest_random[32];
    FILE *r = fopen("/dev/urandom", "rb");
    if (r == NULL || fread(digest_random, 1, sizeof(digest_random), r) != sizeof(digest_random)) {
        if (r != NULL)
            fclose(r);
        return NULL;
    }
    fclose(r);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | MHD_USE_POLL;
    if (tls_cert != NULL)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    /* The logger first: libmicrohttpd uses it only for what follows it. */
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)ADMIN_CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)ADMIN_PER_IP_MAX, MHD_OPTION_CONNECTION_TIMEOUT, admin.conf.idle_timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ADMIN_HEADER_MEMORY,
        MHD_OPTION_DIGEST_AUTH_RANDOM, sizeof(digest_random), digest_random,
        MHD_OPTION_NONCE_NC_SIZE, (unsigned)4096, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_ARRAY, tls_cert != NULL ? tls_opts : &tls_opts[2], MHD_OPTION_END);
}
