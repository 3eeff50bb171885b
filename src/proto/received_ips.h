/* received_ips - the IP addresses of a Received: header field, and the
 * canonical text of an address (spec SPAM-8, the RELAYIP condition of the
 * custom rules, SPAM-4).
 *
 * What it does: reads one unfolded Received: field value as a stream of
 * segments and reports, in order, every address literal written in one of
 * the forms MTAs use for the connecting and receiving hosts:
 *   "from host (rdns [192.0.2.1])"            Postfix, sendmail
 *   "from [192.0.2.1] (helo=...)"             Exim
 *   "[IPv6:2001:db8::1]"                      RFC 5321 address literal
 *   "from host (192.0.2.1) by ..."            Exchange, qmail-like
 *   "(user@192.0.2.1)"                        qmail's remoteinfo@ip
 * Precisely: a token is a maximal run of letters, digits, '.', ':', '-'
 * and '_'; it is an address candidate when the byte before it is '[', '('
 * or '@' and the byte after it is ']' or ')'. A leading "IPv6:" (any case)
 * is dropped; what remains must be accepted by inet_pton (IPv4 dotted quad,
 * or IPv6). Why the delimiters: a Received: field is full of dotted and
 * colon-separated words that parse as addresses but are none ("Exim
 * 4.92.3.1", "helo=10.0.0.1" as the client claims it, times "12:00::"),
 * while every MTA puts the addresses it saw between brackets or
 * parentheses. The unspecified addresses (0.0.0.0, ::) are skipped.
 *
 * The canonical text is inet_ntop's, with an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) written as IPv4, so "[IPv6:::ffff:192.0.2.1]" and
 * "[192.0.2.1]" are one address to the caller's de-duplication and to the
 * RBL query names (proto/dnsbl_name).
 *
 * Streaming: a token is kept in a small buffer (RECEIVED_TOKEN_MAX); a
 * longer token cannot be an address and is skipped, so any value length
 * is read in bounded memory and linear time, whatever the segmenting.
 * Pure: no I/O, no allocation.
 */
#ifndef SEKISHO_PROTO_RECEIVED_IPS_H
#define SEKISHO_PROTO_RECEIVED_IPS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* INET6_ADDRSTRLEN: the canonical text and its NUL. */
#define RECEIVED_ADDR_MAX 46
/* Longest token looked at: "IPv6:" and the longest IPv6 text. */
#define RECEIVED_TOKEN_MAX 64

/* received_canonical - the canonical text of the address in s (IPv4
 * dotted quad, IPv6, or "IPv6:..." as above), NUL-terminated into out;
 * false (out "") when s is not an address or is unspecified. */
bool received_canonical(struct str s, char out[RECEIVED_ADDR_MAX]);

/* One address found: its canonical text (valid during the call). */
typedef void received_addr_fn(void *arg, const char *addr);

/* The scanner of one field value; fields private. */
struct received_scan {
    char tok[RECEIVED_TOKEN_MAX];
    size_t len;
    bool over;        /* the token is longer than tok */
    unsigned char lb; /* the byte before the token, 0 at the start */
    unsigned char prev;
};

void received_scan_init(struct received_scan *s);
/* received_scan_feed - the next bytes of the value, any segmenting. */
void received_scan_feed(struct received_scan *s, const char *p, size_t n, received_addr_fn *fn,
                        void *arg);
/* received_scan_end - the end of the value (a token at the very end is
 * not delimited, so it is not an address). */
void received_scan_end(struct received_scan *s);

#endif
