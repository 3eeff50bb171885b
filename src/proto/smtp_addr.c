/* smtp_addr - recipient addresses for relay control (SMTP-7, SMTP-12, REF-2). */
#include "proto/smtp_addr.h"

#include <string.h>

const char *smtp_rcpt_class_name(enum smtp_rcpt_class c)
{
    switch (c) {
    case SMTP_RCPT_DOMAIN:
        return "DOMAIN";
    case SMTP_RCPT_NO_DOMAIN:
        return "NO_DOMAIN";
    case SMTP_RCPT_REFUSE:
        return "REFUSE";
    }
    return "?";
}

/* local_char - a byte allowed in a local part: RFC 5322 atext and '.',
 * without '!' (bang paths) and '%' (the percent hack). Everything that
 * quotes, escapes, routes or separates (" \ @ [ ] , : ; < > ( ) and
 * blanks), control and non-ASCII bytes are not in the set. */
static bool local_char(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("#$&'*+-/=?^_`{|}~.", c) != NULL;
}

static bool domain_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

static bool local_ok(struct str s)
{
    if (s.len == 0 || s.len > SMTP_ADDR_LOCAL_MAX)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!local_char(s.ptr[i]))
            return false;
    return true;
}

static bool domain_ok(struct str s)
{
    if (s.len == 0 || s.len > SMTP_ADDR_DOMAIN_MAX)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (!domain_char(c))
            return false;
        if (c == '.') {
            if (label == 0)
                return false; /* leading or double dot */
            label = 0;
        } else if (++label > SMTP_ADDR_LABEL_MAX) {
            return false;
        }
    }
    return label > 0; /* a trailing dot leaves an empty last label */
}

enum smtp_rcpt_class smtp_rcpt_classify(struct str address, char *domain, size_t cap)
{
    if (cap > 0)
        domain[0] = '\0';
    struct str local, dom;
    if (!str_cut(address, '@', &local, &dom))
        return local_ok(address) ? SMTP_RCPT_NO_DOMAIN : SMTP_RCPT_REFUSE;
    /* A second '@' is not a domain character, so domain_ok refuses it. */
    if (!local_ok(local) || !domain_ok(dom) || dom.len + 1 > cap)
        return SMTP_RCPT_REFUSE;
    for (size_t i = 0; i < dom.len; i++) {
        char c = dom.ptr[i];
        domain[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    domain[dom.len] = '\0';
    return SMTP_RCPT_DOMAIN;
}
