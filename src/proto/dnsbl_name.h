/* dnsbl_name - DNS list query names, answers and detection names
 * (spec SPAM-8, SPAM-9, §16 detection names; RFC 5782).
 *
 * What it does:
 *   - the name to query for an address in an RBL zone: "d.c.b.a.<zone>"
 *     for IPv4, the 32 nibbles of an IPv6 address in reverse order
 *     ("1.0.0.0. ... .8.b.d.0.1.0.0.2.<zone>") for IPv6 (RFC 5782 2.1,
 *     2.4); an IPv4-mapped IPv6 address ("::ffff:1.2.3.4", as a dual-stack
 *     socket reports an IPv4 client) is queried as the IPv4 address;
 *   - the name for a SURBL domain: "<domain>.<zone>" (RFC 5782 3);
 *   - zone validation: LDH labels of 1..63 bytes (letters, digits, '-'
 *     not first or last), no empty label, no trailing dot, at most
 *     DNSBL_NAME_MAX bytes; every composed name is at most DNSBL_NAME_MAX;
 *   - what an A record in the answer means:
 *       127.0.0.0/8                 listed (RFC 5782 2.3), except:
 *       127.255.255.0/24            refused: Spamhaus's error codes
 *                                   (.252 typing error in the zone name,
 *                                   .254 query through a public/open
 *                                   resolver, .255 excessive number of
 *                                   queries): the operator did not answer
 *       127.0.0.1 from a SURBL zone refused: SURBL's "access blocked"
 *                                   answer (surbl.org: every query
 *                                   answered 127.0.0.1 means the
 *                                   resolver is blocked); RBLs never list
 *                                   with it either (RFC 5782 5: 127.0.0.1
 *                                   is the "not listed" test entry), so it
 *                                   is refused for both
 *       anything else               unexpected (a resolver that rewrites
 *                                   NXDOMAIN, a wildcard zone): not listed
 *     Refused and unexpected answers never classify a mail (SPAM-8: a
 *     failed lookup means not spam); the caller logs them;
 *   - the detection names SEKISHO/SPAM_RBL/<address>[<zone>:<reply>] and
 *     SEKISHO/SPAM_SURBL/<domain>[<zone>:<reply>] (§16 with the product's
 *     prefix), at most SCANREQ_NAME_MAX bytes so that they fit the scan
 *     result they travel in.
 *
 * What it does not do: no I/O, no DNS, no allocation; it writes only into
 * the caller's buffers, NUL-terminated, and returns 0 (and an empty
 * string when cap > 0) when an input is invalid or the result does not
 * fit.
 */
#ifndef SEKISHO_PROTO_DNSBL_NAME_H
#define SEKISHO_PROTO_DNSBL_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* Longest DNS name in presentation form, without the final dot. */
#define DNSBL_NAME_MAX 253

enum dnsbl_list {
    DNSBL_RBL = 0, /* addresses (SPAM-8) */
    DNSBL_SURBL,   /* URL domains (SPAM-9) */
};

enum dnsbl_answer {
    DNSBL_LISTED = 0, /* 127.0.0.0/8 but the codes below */
    DNSBL_REFUSED,    /* 127.255.255.0/24; 127.0.0.1 */
    DNSBL_UNEXPECTED, /* not in 127.0.0.0/8 */
};
const char *dnsbl_answer_name(enum dnsbl_answer a);

/* dnsbl_zone_valid - zone is a usable list zone (see above). */
bool dnsbl_zone_valid(struct str zone);

/* dnsbl_rbl_query - the RBL query name for addr (IPv4 dotted quad or
 * IPv6 text, as inet_pton reads them; an IPv6 literal may be in
 * brackets) in zone, into out[cap]. Returns its length, 0 on error. */
size_t dnsbl_rbl_query(struct str addr, struct str zone, char *out, size_t cap);

/* dnsbl_surbl_query - "<domain>.<zone>" into out[cap], domain lower-cased;
 * domain must be LDH labels (plus '_') as proto/surbl_domain gives them.
 * Returns the length, 0 on error. */
size_t dnsbl_surbl_query(struct str domain, struct str zone, char *out, size_t cap);

/* dnsbl_classify - the meaning of an A record (network byte order) in the
 * answer of a query to a list of this kind. */
enum dnsbl_answer dnsbl_classify(enum dnsbl_list list, const unsigned char reply[4]);

/* dnsbl_detection_name - SEKISHO/SPAM_RBL/<subject>[<zone>:<reply>] or
 * SEKISHO/SPAM_SURBL/..., reply in dotted decimal, into out[cap]; subject
 * is the address (RBL: written in its canonical inet_ntop form) or the
 * domain (SURBL: lower-cased); zone must be valid. Returns the length, 0
 * when an input is invalid or the name exceeds SCANREQ_NAME_MAX or cap-1. */
size_t dnsbl_detection_name(enum dnsbl_list list, struct str subject, struct str zone,
                            const unsigned char reply[4], char *out, size_t cap);

#endif
