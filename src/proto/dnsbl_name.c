/* dnsbl_name - see dnsbl_name.h. */
#include "proto/dnsbl_name.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "proto/scanreq.h"

const char *dnsbl_answer_name(enum dnsbl_answer a)
{
    switch (a) {
    case DNSBL_LISTED:
        return "listed";
    case DNSBL_REFUSED:
        return "refused";
    case DNSBL_UNEXPECTED:
        return "unexpected";
    }
    return "?";
}

static bool is_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* labels_valid - dot-separated labels of 1..63 bytes of letters, digits
 * and '-' (also '_' when underscore), '-' neither first nor last. */
static bool labels_valid(struct str s, bool underscore)
{
    if (s.len == 0 || s.len > DNSBL_NAME_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i <= s.len; i++) {
        char c = i < s.len ? s.ptr[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s.ptr[i - 1] == '-')
                return false;
            label = 0;
        } else if (is_alnum(c) || (underscore && c == '_') || (c == '-' && label > 0)) {
            label++;
        } else {
            return false;
        }
    }
    return true;
}

bool dnsbl_zone_valid(struct str zone)
{
    return labels_valid(zone, false);
}

static size_t fail(char *out, size_t cap)
{
    if (cap > 0)
        out[0] = '\0';
    return 0;
}

/* parse_addr - addr as 4 (IPv4, also IPv4-mapped IPv6) or 16 bytes;
 * returns the family or 0. */
static int parse_addr(struct str addr, unsigned char bin[16])
{
    char buf[INET6_ADDRSTRLEN + 2];
    if (addr.len >= 2 && addr.ptr[0] == '[' && addr.ptr[addr.len - 1] == ']') {
        addr.ptr++;
        addr.len -= 2;
    }
    if (addr.len == 0 || addr.len >= sizeof(buf) || memchr(addr.ptr, '\0', addr.len))
        return 0;
    memcpy(buf, addr.ptr, addr.len);
    buf[addr.len] = '\0';
    if (inet_pton(AF_INET, buf, bin) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, buf, bin) != 1)
        return 0;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(bin, mapped, sizeof(mapped)) == 0) {
        memmove(bin, bin + 12, 4);
        return AF_INET;
    }
    return AF_INET6;
}

size_t dnsbl_rbl_query(struct str addr, struct str zone, char *out, size_t cap)
{
    unsigned char b[16];
    int af = parse_addr(addr, b);
    if (af == 0 || !dnsbl_zone_valid(zone))
        return fail(out, cap);
    char name[DNSBL_NAME_MAX + 80];
    size_t n = 0;
    if (af == AF_INET) {
        n = (size_t)snprintf(name, sizeof(name), "%u.%u.%u.%u.", b[3], b[2], b[1], b[0]);
    } else {
        static const char hex[] = "0123456789abcdef";
        for (int i = 15; i >= 0; i--) {
            name[n++] = hex[b[i] & 15];
            name[n++] = '.';
            name[n++] = hex[b[i] >> 4];
            name[n++] = '.';
        }
    }
    if (n + zone.len > DNSBL_NAME_MAX || n + zone.len >= cap)
        return fail(out, cap);
    memcpy(out, name, n);
    for (size_t i = 0; i < zone.len; i++)
        out[n + i] = lower(zone.ptr[i]);
    out[n + zone.len] = '\0';
    return n + zone.len;
}

size_t dnsbl_surbl_query(struct str domain, struct str zone, char *out, size_t cap)
{
    if (!labels_valid(domain, true) || !dnsbl_zone_valid(zone))
        return fail(out, cap);
    size_t n = domain.len + 1 + zone.len;
    if (n > DNSBL_NAME_MAX || n >= cap)
        return fail(out, cap);
    for (size_t i = 0; i < domain.len; i++)
        out[i] = lower(domain.ptr[i]);
    out[domain.len] = '.';
    for (size_t i = 0; i < zone.len; i++)
        out[domain.len + 1 + i] = lower(zone.ptr[i]);
    out[n] = '\0';
    return n;
}

enum dnsbl_answer dnsbl_classify(enum dnsbl_list list, const unsigned char reply[4])
{
    (void)list; /* 127.0.0.1 is refused for both kinds (see the header) */
    if (reply[0] != 127)
        return DNSBL_UNEXPECTED;
    if (reply[1] == 255 && reply[2] == 255)
        return DNSBL_REFUSED;
    if (reply[1] == 0 && reply[2] == 0 && reply[3] == 1)
        return DNSBL_REFUSED;
    return DNSBL_LISTED;
}

size_t dnsbl_detection_name(enum dnsbl_list list, struct str subject, struct str zone,
                            const unsigned char reply[4], char *out, size_t cap)
{
    char subj[DNSBL_NAME_MAX + 1];
    if (list == DNSBL_RBL) {
        unsigned char b[16];
        int af = parse_addr(subject, b);
        if (af == 0 || !inet_ntop(af, b, subj, sizeof(subj)))
            return fail(out, cap);
    } else {
        if (!labels_valid(subject, true))
            return fail(out, cap);
        for (size_t i = 0; i < subject.len; i++)
            subj[i] = lower(subject.ptr[i]);
        subj[subject.len] = '\0';
    }
    if (!dnsbl_zone_valid(zone))
        return fail(out, cap);
    char name[SCANREQ_NAME_MAX + 2];
    int n = snprintf(name, sizeof(name), "SEKISHO/SPAM_%s/%s[%.*s:%u.%u.%u.%u]",
                     list == DNSBL_RBL ? "RBL" : "SURBL", subj, (int)zone.len, zone.ptr, reply[0],
                     reply[1], reply[2], reply[3]);
    if (n < 0 || (size_t)n > SCANREQ_NAME_MAX || (size_t)n >= cap)
        return fail(out, cap);
    memcpy(out, name, (size_t)n + 1);
    return (size_t)n;
}
