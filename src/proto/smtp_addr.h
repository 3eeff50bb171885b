/* smtp_addr - recipient addresses for relay control (SMTP-7, SMTP-12, REF-2).
 *
 * What it does: decides whether a RCPT TO: address is plain enough to be
 * judged by its domain alone. Mail servers route on more than the text
 * after the first '@': "user%remote@local" (the percent hack), "remote!user"
 * (UUCP bang paths), "@local:user@remote" (RFC 5321 source routes, which
 * servers may still honour, 4.1.1.3 and appendix C), "\"user@remote\"@local"
 * (a quoted local part that a later hop unquotes), "user@[1.2.3.4]" (an
 * address literal that bypasses domain lists). Each of these has turned
 * gateways into open relays. So only local-part@domain made of plain
 * characters is classified DOMAIN, with its domain lowercased for the
 * caller's smtp_rcpt match; everything else is REFUSE, except an address
 * with no '@' at all ("postmaster"), which SMTP-7 says is not refused.
 *
 * What it owns: nothing; it writes the domain into the caller's array.
 * What it does not do: no list matching (the caller compares the domain
 * with smtp_rcpt), no parsing of the RCPT line (smtp_parse does that), no
 * I/O, no allocation.
 */
#ifndef SEKISHO_PROTO_SMTP_ADDR_H
#define SEKISHO_PROTO_SMTP_ADDR_H

#include <stddef.h>

#include "lib/str.h"

/* RFC 5321 4.5.3.1.1 and 4.5.3.1.2. A caller's domain array of
 * SMTP_ADDR_DOMAIN_MAX + 1 bytes always suffices. */
#define SMTP_ADDR_LOCAL_MAX  64
#define SMTP_ADDR_DOMAIN_MAX 255
/* RFC 1035 2.3.4: one label of a domain name. */
#define SMTP_ADDR_LABEL_MAX 63

enum smtp_rcpt_class {
    SMTP_RCPT_DOMAIN = 0, /* plain local@domain: match domain against smtp_rcpt */
    SMTP_RCPT_NO_DOMAIN,  /* no '@' and nothing suspicious: not refused (SMTP-7) */
    SMTP_RCPT_REFUSE,     /* a relay trick or not a plain address: 550 */
};
const char *smtp_rcpt_class_name(enum smtp_rcpt_class c);

/* smtp_rcpt_classify - classify address, the path smtp_path_parse gave
 * for RCPT TO: (without angle brackets).
 *
 * DOMAIN: exactly one '@', a local part of 1..SMTP_ADDR_LOCAL_MAX bytes
 * of RFC 5322 atext and dots (minus '!' and '%'), a domain of
 * 1..SMTP_ADDR_DOMAIN_MAX bytes of letters, digits, '-' and '.' in
 * labels of 1..SMTP_ADDR_LABEL_MAX bytes (so no leading, trailing or
 * double dot: "user@local.example." is refused, strict). The domain is
 * written lowercased and NUL-terminated to domain (cap bytes; REFUSE if
 * it does not fit). Dots in the local part are not checked: no server
 * routes on them, and real addresses such as "abc..def@docomo.ne.jp"
 * have double and trailing ones.
 * NO_DOMAIN: no '@', and the local part passes the same checks.
 * REFUSE: everything else: '!' or '%' anywhere (so %-encoded "%40" too),
 * source routes, a second '@', a quoted local part or backslash, '[' ']'
 * (address literals), ',' ':' ';' '<' '>' '(' ')', blanks, control and
 * non-ASCII bytes, an empty local part, domain or address ("<>" as a
 * recipient), and over-long parts.
 * On NO_DOMAIN and REFUSE, domain is set to "" (when cap > 0). */
enum smtp_rcpt_class smtp_rcpt_classify(struct str address, char *domain, size_t cap);

#endif
