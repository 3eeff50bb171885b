/* fuzz_admin_conf - libFuzzer target for proto/admin_conf.
 *
 * The first input byte picks the error buffer: a full one, or a tiny one
 * (0-7 bytes) to check truncation. admin.conf tells a root-started
 * program where to listen and whom to let in, so any crash, over-read
 * (ASan: the text is a buffer of exactly its size) or UB is a bug; so is
 * an accepted value outside the struct's documented bounds, an error line
 * past the end of the text, or a result that does not survive being
 * written out and parsed again (the parser and the rules it states would
 * disagree).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/admin_conf.h"

static void check_cstr(const char *s, size_t cap)
{
    if (strnlen(s, cap) >= cap)
        abort();
}

static void check_addr(const struct admin_addr *a, bool any_ok)
{
    check_cstr(a->text, sizeof(a->text));
    if (a->family == AF_UNSPEC) {
        static const unsigned char zero[16];
        if (!any_ok || strcmp(a->text, "*") != 0 || memcmp(a->addr, zero, 16) != 0)
            abort();
        return;
    }
    unsigned char b[16];
    if ((a->family != AF_INET && a->family != AF_INET6) || inet_pton(a->family, a->text, b) != 1 ||
        memcmp(b, a->addr, a->family == AF_INET ? 4 : 16) != 0)
        abort();
}

static void check_conf(const struct admin_conf *c)
{
    if (c->port < 1 || c->port > 65535 || c->session_timeout < 10 || c->session_timeout > 86400 ||
        c->login_failures_max < 1 || c->login_failures_max > 100 || c->login_pause < 1 ||
        c->login_pause > 86400 || (c->lang != ADMIN_LANG_EN && c->lang != ADMIN_LANG_JA))
        abort();
    check_addr(&c->listen, true);
    check_cstr(c->tls_certificate, sizeof(c->tls_certificate));
    check_cstr(c->tls_key, sizeof(c->tls_key));
    if ((c->tls_certificate[0] == '\0') != (c->tls_key[0] == '\0'))
        abort();
    check_cstr(c->metrics_token, sizeof(c->metrics_token));
    size_t tl = strlen(c->metrics_token);
    if (tl && (tl < ADMIN_TOKEN_MIN || tl > ADMIN_TOKEN_MAX ||
               strspn(c->metrics_token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789._~-") != tl))
        abort();
    if (c->nallow > ADMIN_ALLOW_MAX)
        abort();
    for (size_t i = 0; i < c->nallow; i++) {
        check_addr(&c->allow[i], false);
        for (size_t j = 0; j < i; j++)
            if (c->allow[j].family == c->allow[i].family &&
                memcmp(c->allow[j].addr, c->allow[i].addr, 16) == 0)
                abort();
    }
}

/* format - c written back as an admin.conf text. */
static size_t format(const struct admin_conf *c, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "adminport=%u\nadmin_listen=%s\nlang=%s\nsession_timeout=%u\n"
                     "tls_certificate=%s\ntls_key=%s\nmetrics_token=%s\nlogin_failures_max=%u\n"
                     "login_pause=%u\nmetrics_allow=",
                     c->port, c->listen.text, admin_lang_name(c->lang), c->session_timeout,
                     c->tls_certificate, c->tls_key, c->metrics_token, c->login_failures_max,
                     c->login_pause);
    if (n < 0 || (size_t)n >= cap)
        abort();
    size_t o = (size_t)n;
    for (size_t i = 0; i < c->nallow; i++) {
        n = snprintf(out + o, cap - o, "%s%s", i ? "," : "", c->allow[i].text);
        if (n < 0 || (size_t)n >= cap - o)
            abort();
        o += (size_t)n;
    }
    return o;
}

static bool same_addr(const struct admin_addr *a, const struct admin_addr *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0 &&
           strcmp(a->text, b->text) == 0;
}

static bool same(const struct admin_conf *a, const struct admin_conf *b)
{
    if (a->port != b->port || a->lang != b->lang || a->session_timeout != b->session_timeout ||
        a->login_failures_max != b->login_failures_max || a->login_pause != b->login_pause ||
        a->nallow != b->nallow || !same_addr(&a->listen, &b->listen) ||
        strcmp(a->tls_certificate, b->tls_certificate) != 0 ||
        strcmp(a->tls_key, b->tls_key) != 0 || strcmp(a->metrics_token, b->metrics_token) != 0)
        return false;
    for (size_t i = 0; i < a->nallow; i++)
        if (!same_addr(&a->allow[i], &b->allow[i]))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t errcap = data[0] & 1 ? (size_t)(data[0] >> 1 & 7) : ADMIN_ERR_MAX;
    size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, len);
    static struct admin_conf c, again;
    static char out[3 * ADMIN_LINE_MAX];
    char err[ADMIN_ERR_MAX];
    unsigned line = 12345;
    admin_conf_defaults(&c);
    if (admin_conf_parse(text, len, &c, &line, err, errcap) != 0) {
        if (errcap > 1 && (err[0] == '\0' || strchr(err, '\n') || strnlen(err, errcap) >= errcap))
            abort();
        size_t lines = 1;
        for (size_t i = 0; i < len; i++)
            lines += text[i] == '\n';
        if (line > lines)
            abort();
        free(text);
        return 0;
    }
    if (line != 0)
        abort();
    check_conf(&c);
    size_t n = format(&c, out, sizeof(out));
    admin_conf_defaults(&again);
    if (admin_conf_parse(out, n, &again, &line, err, sizeof(err)) != 0 || !same(&c, &again))
        abort();
    free(text);
    return 0;
}
