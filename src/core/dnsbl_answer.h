/* dnsbl_answer - what one DNS answer means for a DNS list query
 * (SPAM-8, SPAM-9; RFC 5782; RFC 2308 for negative answers).
 *
 * What it does: turns the parsed answer of an A query (lib/dns'
 * struct dns_a_answer) into an outcome and the time it may be cached:
 *   - A records: each classified by proto/dnsbl_name (dnsbl_classify);
 *     the record that decides is the first LISTED one, else the first
 *     REFUSED, else the first UNEXPECTED (a list answers several
 *     127.0.0.x codes for several sub-lists; an error code comes alone);
 *     cached for the smallest TTL of the records;
 *   - NXDOMAIN and NODATA: not listed, cached for the negative TTL of the
 *     SOA (RFC 2308 5) when the server sent one, else not cached;
 *   - no answer (timeout, SERVFAIL, REFUSED, a malformed message): not
 *     listed (SPAM-8: a failed lookup is "not spam"), never cached.
 * Every cache time is at most DNSBL_TTL_MAX: a listing that is removed
 * upstream stops counting within the hour whatever TTL a zone sets.
 *
 * What it does not do: no I/O, no allocation.
 */
#ifndef SEKISHO_CORE_DNSBL_ANSWER_H
#define SEKISHO_CORE_DNSBL_ANSWER_H

#include <stdint.h>

#include "lib/dns.h"
#include "proto/dnsbl_name.h"

#define DNSBL_TTL_MAX 3600 /* seconds */

enum dnsbl_outcome {
    DNSBL_OUT_NOT_LISTED = 0, /* NXDOMAIN, NODATA */
    DNSBL_OUT_LISTED,
    DNSBL_OUT_REFUSED,    /* the list's error codes (dnsbl_name.h) */
    DNSBL_OUT_UNEXPECTED, /* an address outside 127/8 */
    DNSBL_OUT_NO_ANSWER,  /* timeout, SERVFAIL, REFUSED, malformed */
};

struct dnsbl_eval {
    enum dnsbl_outcome outcome;
    unsigned char reply[4]; /* the deciding A record (LISTED/REFUSED/UNEXPECTED) */
    uint32_t ttl;           /* seconds it may be cached; 0 = not at all */
};

const char *dnsbl_outcome_name(enum dnsbl_outcome o);

/* dnsbl_answer_eval - the meaning of a for a query to a list of kind list. */
void dnsbl_answer_eval(enum dnsbl_list list, const struct dns_a_answer *a, struct dnsbl_eval *e);

#endif
