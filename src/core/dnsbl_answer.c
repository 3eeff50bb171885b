/* dnsbl_answer - what one DNS answer means for a DNS list query. */
#include "core/dnsbl_answer.h"

#include <string.h>

const char *dnsbl_outcome_name(enum dnsbl_outcome o)
{
    switch (o) {
    case DNSBL_OUT_NOT_LISTED:
        return "not listed";
    case DNSBL_OUT_LISTED:
        return "listed";
    case DNSBL_OUT_REFUSED:
        return "refused";
    case DNSBL_OUT_UNEXPECTED:
        return "unexpected";
    case DNSBL_OUT_NO_ANSWER:
        return "no answer";
    }
    return "?";
}

static uint32_t capped(uint32_t ttl)
{
    return ttl > DNSBL_TTL_MAX ? DNSBL_TTL_MAX : ttl;
}

void dnsbl_answer_eval(enum dnsbl_list list, const struct dns_a_answer *a, struct dnsbl_eval *e)
{
    memset(e, 0, sizeof(*e));
    switch (a->status) {
    case DNS_A_NXDOMAIN:
    case DNS_A_NODATA:
        e->outcome = DNSBL_OUT_NOT_LISTED;
        e->ttl = a->has_neg_ttl ? capped(a->neg_ttl) : 0;
        return;
    case DNS_A_FAIL:
        e->outcome = DNSBL_OUT_NO_ANSWER;
        return;
    case DNS_A_OK:
        break;
    }
    unsigned n = a->n < DNS_A_MAX ? a->n : DNS_A_MAX;
    if (n == 0) {
        e->outcome = DNSBL_OUT_NO_ANSWER;
        return;
    }
    unsigned best = 0;
    enum dnsbl_answer best_class = dnsbl_classify(list, a->addr[0]);
    uint32_t ttl = a->ttl[0];
    for (unsigned i = 1; i < n; i++) {
        enum dnsbl_answer c = dnsbl_classify(list, a->addr[i]);
        /* LISTED < REFUSED < UNEXPECTED: the smaller class decides, the
         * first record of it in answer order */
        if (c < best_class) {
            best = i;
            best_class = c;
        }
        if (a->ttl[i] < ttl)
            ttl = a->ttl[i];
    }
    e->outcome = best_class == DNSBL_LISTED    ? DNSBL_OUT_LISTED
                 : best_class == DNSBL_REFUSED ? DNSBL_OUT_REFUSED
                                               : DNSBL_OUT_UNEXPECTED;
    memcpy(e->reply, a->addr[best], 4);
    e->ttl = capped(ttl);
}
