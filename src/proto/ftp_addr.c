/* ftp_addr - see ftp_addr.h. */
#include "proto/ftp_addr.h"

#include <arpa/inet.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* number - plain decimal at s[*i]: 1 to maxdigits digits, no leading zero
 * (a lone "0" is fine), value <= max. */
static bool number(struct str s, size_t *i, size_t maxdigits, unsigned max, unsigned *out)
{
    size_t j = *i;
    unsigned v = 0;
    while (j < s.len && is_digit(s.ptr[j])) {
        if (j - *i == maxdigits)
            return false;
        v = v * 10 + (unsigned)(s.ptr[j] - '0');
        j++;
    }
    if (j == *i || v > max || (j - *i > 1 && s.ptr[*i] == '0'))
        return false;
    *i = j;
    *out = v;
    return true;
}

bool ftp_port_parse(struct str arg, struct ftp_addr *out)
{
    unsigned v[6];
    size_t i = 0;
    for (size_t k = 0; k < 6; k++) {
        if (k > 0) {
            if (i >= arg.len || arg.ptr[i] != ',')
                return false;
            i++;
        }
        if (!number(arg, &i, 3, 255, &v[k]))
            return false;
    }
    if (i != arg.len || v[4] * 256 + v[5] == 0)
        return false;
    *out = (struct ftp_addr){.port = (uint16_t)(v[4] * 256 + v[5])};
    for (size_t k = 0; k < 4; k++)
        out->ip[k] = (uint8_t)v[k];
    return true;
}

/* dotted_quad - exactly "a.b.c.d", each 0-255. */
static bool dotted_quad(struct str s, uint8_t ip[4])
{
    size_t i = 0;
    for (size_t k = 0; k < 4; k++) {
        unsigned v;
        if (k > 0) {
            if (i >= s.len || s.ptr[i] != '.')
                return false;
            i++;
        }
        if (!number(s, &i, 3, 255, &v))
            return false;
        ip[k] = (uint8_t)v;
    }
    return i == s.len;
}

/* ipv6_text - an IPv6 address in text form (hex digits, ':' and '.'
 * only, so no zone), via inet_pton. */
static bool ipv6_text(struct str s, uint8_t ip[16])
{
    char tmp[INET6_ADDRSTRLEN];
    if (s.len == 0 || s.len >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!is_digit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') && c != ':' &&
            c != '.')
            return false;
    }
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    return inet_pton(AF_INET6, tmp, ip) == 1;
}

bool ftp_eprt_parse(struct str arg, struct ftp_addr *out)
{
    if (arg.len < 8 || arg.len > FTP_EPRT_MAX)
        return false;
    char d = arg.ptr[0];
    if (d < 33 || d > 126 || is_digit(d) || d == '.' || d == ':' || arg.ptr[arg.len - 1] != d)
        return false;
    size_t pos[4], n = 0;
    for (size_t i = 0; i < arg.len; i++)
        if (arg.ptr[i] == d) {
            if (n == 4)
                return false;
            pos[n++] = i;
        }
    if (n != 4)
        return false;
    struct str proto = str_make(arg.ptr + 1, pos[1] - 1);
    struct str host = str_make(arg.ptr + pos[1] + 1, pos[2] - pos[1] - 1);
    struct str port = str_make(arg.ptr + pos[2] + 1, pos[3] - pos[2] - 1);
    struct ftp_addr a = {0};
    if (str_eq_cstr(proto, "1")) {
        if (!dotted_quad(host, a.ip))
            return false;
    } else if (str_eq_cstr(proto, "2")) {
        if (!ipv6_text(host, a.ip))
            return false;
        a.ipv6 = true;
    } else {
        return false;
    }
    size_t i = 0;
    unsigned p;
    if (!number(port, &i, 5, 65535, &p) || i != port.len || p == 0)
        return false;
    a.port = (uint16_t)p;
    *out = a;
    return true;
}

enum ftp_epsv_arg ftp_epsv_arg_parse(struct str arg)
{
    if (arg.len == 0)
        return FTP_EPSV_ANY;
    if (str_eq_cstr(arg, "1"))
        return FTP_EPSV_V4;
    if (str_eq_cstr(arg, "2"))
        return FTP_EPSV_V6;
    if (str_caseeq_cstr(arg, "ALL"))
        return FTP_EPSV_ALL;
    return FTP_EPSV_BAD;
}

bool ftp_port_format(struct buf *out, const struct ftp_addr *a)
{
    if (a->ipv6 || a->port == 0)
        return false;
    return buf_printf(out, "%u,%u,%u,%u,%u,%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3],
                      (unsigned)(a->port >> 8), (unsigned)(a->port & 0xff));
}

bool ftp_eprt_format(struct buf *out, const struct ftp_addr *a)
{
    if (a->port == 0)
        return false;
    if (!a->ipv6)
        return buf_printf(out, "|1|%u.%u.%u.%u|%u|", a->ip[0], a->ip[1], a->ip[2], a->ip[3],
                          (unsigned)a->port);
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, a->ip, text, sizeof(text)))
        return false;
    return buf_printf(out, "|2|%s|%u|", text, (unsigned)a->port);
}

bool ftp_pasv_reply_format(struct buf *out, const struct ftp_addr *a)
{
    if (a->ipv6 || a->port == 0)
        return false;
    return buf_printf(out, "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u)\r\n", a->ip[0], a->ip[1],
                      a->ip[2], a->ip[3], (unsigned)(a->port >> 8), (unsigned)(a->port & 0xff));
}

bool ftp_epsv_reply_format(struct buf *out, uint16_t port)
{
    if (port == 0)
        return false;
    return buf_printf(out, "229 Entering Extended Passive Mode (|||%u|)\r\n", (unsigned)port);
}
