/* fuzz_dnsbl_answer - libFuzzer target for the DNS list answer handling:
 * lib/dns dns_a_answer_parse (a raw DNS message as c-ares hands it to a
 * query callback: RCODE, the A records with their TTLs through
 * ares_parse_a_reply, the negative TTL of RFC 2308 from the SOA of the
 * authority section) and core/dnsbl_answer dnsbl_answer_eval (listed,
 * refused, unexpected, not listed, and how long to cache it).
 *
 * Input: the message, copied into a buffer of exactly its size. Besides
 * crashes, it checks the promises:
 *   - at most DNS_A_MAX records; DNS_A_OK exactly when there is one;
 *   - RCODE 3 is NXDOMAIN, an RCODE other than 0 and 3 (or a message that
 *     is not a response) is FAIL; TTLs are below 2^31 (RFC 2181 8);
 *   - a negative TTL only for NXDOMAIN/NODATA;
 *   - for both list kinds: no answer exactly for FAIL, never cached; a
 *     negative answer is cached for min(negative TTL, DNSBL_TTL_MAX) or
 *     not at all without an SOA; LISTED/REFUSED/UNEXPECTED name one of
 *     the records, of that class, and no record of a smaller class
 *     exists; every cache time is at most DNSBL_TTL_MAX.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dnsbl_answer.h"
#include "lib/dns.h"
#include "proto/dnsbl_name.h"

static void check(int cond)
{
    if (!cond)
        abort();
}

static void check_eval(enum dnsbl_list list, const struct dns_a_answer *a)
{
    struct dnsbl_eval e;
    dnsbl_answer_eval(list, a, &e);
    check(e.ttl <= DNSBL_TTL_MAX);
    check((e.outcome == DNSBL_OUT_NO_ANSWER) == (a->status == DNS_A_FAIL));
    switch (e.outcome) {
    case DNSBL_OUT_NO_ANSWER:
        check(e.ttl == 0);
        return;
    case DNSBL_OUT_NOT_LISTED:
        check(a->status == DNS_A_NXDOMAIN || a->status == DNS_A_NODATA);
        if (a->has_neg_ttl)
            check(e.ttl == (a->neg_ttl < DNSBL_TTL_MAX ? a->neg_ttl : DNSBL_TTL_MAX));
        else
            check(e.ttl == 0);
        return;
    default:
        break;
    }
    check(a->status == DNS_A_OK);
    enum dnsbl_answer want = e.outcome == DNSBL_OUT_LISTED    ? DNSBL_LISTED
                             : e.outcome == DNSBL_OUT_REFUSED ? DNSBL_REFUSED
                                                              : DNSBL_UNEXPECTED;
    check(dnsbl_classify(list, e.reply) == want);
    bool found = false;
    uint32_t min_ttl = UINT32_MAX;
    for (unsigned i = 0; i < a->n; i++) {
        enum dnsbl_answer c = dnsbl_classify(list, a->addr[i]);
        check(c >= want);
        if (memcmp(a->addr[i], e.reply, 4) == 0)
            found = true;
        if (a->ttl[i] < min_ttl)
            min_ttl = a->ttl[i];
    }
    check(found);
    check(e.ttl == (min_ttl < DNSBL_TTL_MAX ? min_ttl : DNSBL_TTL_MAX));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char *msg = malloc(size ? size : 1);
    if (!msg)
        return 0;
    memcpy(msg, data, size);
    struct dns_a_answer a;
    dns_a_answer_parse(msg, size, &a);
    check(a.n <= DNS_A_MAX);
    check((a.status == DNS_A_OK) == (a.n > 0));
    check(!a.timeout);
    if (size >= 12 && (msg[2] & 0x80)) {
        unsigned rcode = msg[3] & 0x0f;
        if (rcode == 3)
            check(a.status == DNS_A_NXDOMAIN);
        else if (rcode != 0)
            check(a.status == DNS_A_FAIL);
    } else {
        check(a.status == DNS_A_FAIL);
    }
    for (unsigned i = 0; i < a.n; i++)
        check(a.ttl[i] < 0x80000000u);
    if (a.has_neg_ttl)
        check((a.status == DNS_A_NXDOMAIN || a.status == DNS_A_NODATA) && a.neg_ttl < 0x80000000u);
    check_eval(DNSBL_RBL, &a);
    check_eval(DNSBL_SURBL, &a);
    free(msg);
    return 0;
}
