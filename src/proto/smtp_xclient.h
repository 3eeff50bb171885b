/* smtp_xclient - what the SMTP proxy tells its parent about the real
 * client: Postfix's XCLIENT and XFORWARD extensions
 * (https://www.postfix.org/XCLIENT_README.html, XFORWARD_README.html).
 *
 * Behind a gateway every connection comes from the gateway's address, so
 * a parent that trusts that address (mynetworks) relays for anyone the
 * gateway lets through, and its anti-spam rules see the gateway. A parent
 * that offers XCLIENT to the gateway can be told the real client's
 * address, name, port, protocol and HELO name (and, after the gateway
 * authenticated the client, its login), and applies its own rules to
 * them. XFORWARD carries the same for logging only.
 *
 * What it does: reads which attributes the parent's EHLO reply offers
 * ("250-XCLIENT NAME ADDR PORT PROTO HELO LOGIN ..." / "250-XFORWARD
 * ..."), and formats one XCLIENT or XFORWARD command line with the
 * attributes both sides have, values in xtext (RFC 3461 4: '+', '=' and
 * bytes outside 33..126 as "+HH"), an IPv6 address as "IPV6:<address>"
 * (an IPv4-mapped one as the IPv4 address), an unknown value as
 * "[UNAVAILABLE]".
 *
 * What it owns: nothing. No I/O, no allocation.
 */
#ifndef SEKISHO_PROTO_SMTP_XCLIENT_H
#define SEKISHO_PROTO_SMTP_XCLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/smtp_parse.h"

/* The attributes (a bit each). */
enum {
    SMTP_XATTR_NAME = 1u << 0,
    SMTP_XATTR_ADDR = 1u << 1,
    SMTP_XATTR_PORT = 1u << 2,
    SMTP_XATTR_PROTO = 1u << 3,
    SMTP_XATTR_HELO = 1u << 4,
    SMTP_XATTR_LOGIN = 1u << 5,
};

/* What the parent offers to this client (the gateway). */
struct smtp_xoffer {
    unsigned xclient;  /* SMTP_XATTR_* bits; 0: no XCLIENT */
    unsigned xforward; /* the same for XFORWARD */
};

/* smtp_xoffer_parse - the offer of a 250 EHLO reply (nothing for any
 * other reply). Unknown attribute names are ignored. */
struct smtp_xoffer smtp_xoffer_parse(const struct smtp_reply *r);

/* The facts about the client. Empty views are unknown ("[UNAVAILABLE]"). */
struct smtp_xclient_facts {
    struct str addr;  /* the client's address, as inet_ntop wrote it */
    struct str name;  /* its verified name; empty when none */
    uint16_t port;    /* 0: unknown */
    bool esmtp;       /* it said EHLO (PROTO=ESMTP), else SMTP */
    struct str helo;  /* its HELO/EHLO argument */
    struct str login; /* the user the gateway authenticated; empty: none (not sent) */
};

/* The longest command line formatted (Postfix accepts lines up to 2048). */
#define SMTP_XCLIENT_LINE_MAX 2048

/* smtp_xclient_format - "XCLIENT a=v ..." (verb "XCLIENT") or "XFORWARD
 * a=v ..." with the attributes in offer that facts has, CR LF appended.
 * Appends to out; false (out unchanged) when offer holds no attribute we
 * send or the line would be longer than SMTP_XCLIENT_LINE_MAX. */
bool smtp_xclient_format(struct buf *out, const char *verb, unsigned offer,
                         const struct smtp_xclient_facts *facts);

/* smtp_xtext_append - value in xtext (RFC 3461 4). */
bool smtp_xtext_append(struct buf *out, struct str value);

#endif
