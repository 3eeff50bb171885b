/* smtp_xclient - see smtp_xclient.h. */
#include "proto/smtp_xclient.h"

#include <arpa/inet.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} attrs[] = {
    {"NAME", SMTP_XATTR_NAME},   {"ADDR", SMTP_XATTR_ADDR}, {"PORT", SMTP_XATTR_PORT},
    {"PROTO", SMTP_XATTR_PROTO}, {"HELO", SMTP_XATTR_HELO}, {"LOGIN", SMTP_XATTR_LOGIN},
};

/* offer_of - the attribute bits named after the keyword of line. */
static unsigned offer_of(struct str rest)
{
    unsigned bits = 0;
    while (rest.len) {
        struct str word;
        str_cut(rest, ' ', &word, &rest);
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
            if (str_caseeq_cstr(word, attrs[i].name))
                bits |= attrs[i].bit;
    }
    return bits;
}

struct smtp_xoffer smtp_xoffer_parse(const struct smtp_reply *r)
{
    struct smtp_xoffer o = {0};
    if (r->code != 250)
        return o;
    for (size_t i = 1; i < r->nlines; i++) { /* line 0 is the greeting text */
        struct str keyword, rest;
        str_cut(r->lines[i], ' ', &keyword, &rest);
        if (str_caseeq_cstr(keyword, "XCLIENT"))
            o.xclient |= offer_of(rest);
        else if (str_caseeq_cstr(keyword, "XFORWARD"))
            o.xforward |= offer_of(rest);
    }
    return o;
}

bool smtp_xtext_append(struct buf *out, struct str v)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < v.len; i++) {
        unsigned char c = (unsigned char)v.ptr[i];
        bool plain = c >= 33 && c <= 126 && c != '+' && c != '=';
        char e[3] = {'+', hex[c >> 4], hex[c & 15]};
        if (!(plain ? buf_append(out, (const char *)&c, 1) : buf_append(out, e, 3)))
            return false;
    }
    return true;
}

/* put_addr - ADDR's value: IPv4 as is, IPv6 as "IPV6:..." (an IPv4-mapped
 * address as the IPv4 address it maps). */
static bool put_addr(struct buf *out, struct str addr)
{
    char text[INET6_ADDRSTRLEN + 1];
    if (addr.len == 0 || addr.len >= sizeof(text))
        return buf_append_cstr(out, "[UNAVAILABLE]");
    memcpy(text, addr.ptr, addr.len);
    text[addr.len] = '\0';
    struct in6_addr a6;
    struct in_addr a4;
    if (inet_pton(AF_INET, text, &a4) == 1)
        return buf_append_cstr(out, text);
    if (inet_pton(AF_INET6, text, &a6) != 1)
        return buf_append_cstr(out, "[UNAVAILABLE]");
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        char v4[INET_ADDRSTRLEN];
        memcpy(&a4, &a6.s6_addr[12], 4);
        return inet_ntop(AF_INET, &a4, v4, sizeof(v4)) && buf_append_cstr(out, v4);
    }
    char v6[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, &a6, v6, sizeof(v6)) && buf_printf(out, "IPV6:%s", v6);
}

static bool put_value(struct buf *out, struct str v)
{
    return v.len ? smtp_xtext_append(out, v) : buf_append_cstr(out, "[UNAVAILABLE]");
}

bool smtp_xclient_format(struct buf *out, const char *verb, unsigned offer,
                         const struct smtp_xclient_facts *f)
{
    size_t start = out->wpos;
    unsigned send = offer & (SMTP_XATTR_NAME | SMTP_XATTR_ADDR | SMTP_XATTR_PORT |
                             SMTP_XATTR_PROTO | SMTP_XATTR_HELO);
    if (f->login.len)
        send |= offer & SMTP_XATTR_LOGIN;
    if (!send)
        return false;
    bool ok = buf_append_cstr(out, verb);
    if (ok && (send & SMTP_XATTR_NAME))
        ok = buf_append_cstr(out, " NAME=") && put_value(out, f->name);
    if (ok && (send & SMTP_XATTR_ADDR))
        ok = buf_append_cstr(out, " ADDR=") && put_addr(out, f->addr);
    if (ok && (send & SMTP_XATTR_PORT))
        ok = f->port ? buf_printf(out, " PORT=%u", f->port)
                     : buf_append_cstr(out, " PORT=[UNAVAILABLE]");
    if (ok && (send & SMTP_XATTR_PROTO))
        ok = buf_append_cstr(out, f->esmtp ? " PROTO=ESMTP" : " PROTO=SMTP");
    if (ok && (send & SMTP_XATTR_HELO))
        ok = buf_append_cstr(out, " HELO=") && put_value(out, f->helo);
    if (ok && (send & SMTP_XATTR_LOGIN))
        ok = buf_append_cstr(out, " LOGIN=") && smtp_xtext_append(out, f->login);
    ok = ok && out->wpos - start <= SMTP_XCLIENT_LINE_MAX && buf_append_cstr(out, "\r\n");
    if (!ok)
        out->wpos = start;
    return ok;
}
