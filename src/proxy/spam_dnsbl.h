/* spam_dnsbl - RBL and SURBL lookups of one mail (SPAM-8, SPAM-9), never
 * blocking the worker.
 *
 * Each worker has one struct spam_dnsbl: a c-ares channel of its own
 * (lib/dns dns_new_opts: the explicit servers or /etc/resolv.conf, one
 * try of SPAM_DNSBL_TIMEOUT_MS) and a bounded answer cache
 * (core/dnsbl_cache, SPAM_DNSBL_CACHE_ENTRIES entries, each kept for the
 * TTL of its answer: A records, and NXDOMAIN/NODATA for the SOA's
 * negative TTL, RFC 2308).
 *
 * A check (spam_dnsbl_check) is one mail: the RBL names (every address x
 * every RBL zone, address order then zone order) and the SURBL names
 * (every host reduced to its registered domain by proto/surbl_domain, IP
 * literals and public suffixes skipped, de-duplicated after the
 * reduction, then x every SURBL zone), at most SPAM_DNSBL_QUERIES_MAX of
 * each in that order (the rest counted as skipped); a name that recurs
 * in a method (the same address twice, "::ffff:a.b.c.d" and "a.b.c.d")
 * is looked up once and counted once. Names come from proto/dnsbl_name;
 * an address or zone it refuses makes no lookup. Cached names answer at
 * once; all the others are sent together. The callback runs exactly once,
 * never before spam_dnsbl_check returns: when every lookup has answered,
 * or SPAM_DNSBL_TIMEOUT_MS after the check started, whichever is first
 * (a lookup without an answer by then is "not listed", SPAM-8, and
 * counted in timeouts). The result names the FIRST listed lookup in the
 * order above (RBL before SURBL), with the detection name of §16
 * (SEKISHO/SPAM_RBL/<address>[<zone>:<reply>], .../SPAM_SURBL/...).
 * Refused and unexpected answers (dnsbl_name.h) never list a mail; they
 * are counted and described in the result's note for the log.
 *
 * The query set's strings need only live until spam_dnsbl_check returns.
 */
#ifndef SEKISHO_PROXY_SPAM_DNSBL_H
#define SEKISHO_PROXY_SPAM_DNSBL_H

#include <stdbool.h>

#include "core/dnsbl_answer.h"
#include "core/dnsbl_cache.h"
#include "lib/ev.h"
#include "proto/dnsbl_name.h"
#include "proto/scanreq.h"

#define SPAM_DNSBL_QUERIES_MAX   32 /* per method per mail (SPAM-8, SPAM-9: each section says 32) */
#define SPAM_DNSBL_TIMEOUT_MS    1000 /* SPAM-8: no reply within 1 s = not spam */
#define SPAM_DNSBL_CACHE_ENTRIES 4096 /* per worker */

struct spam_dnsbl;
struct spam_dnsbl_req;

struct spam_dnsbl *spam_dnsbl_new(struct ev_loop *loop,
                                  const char *servers /* "" = /etc/resolv.conf */);
void spam_dnsbl_free(struct spam_dnsbl *d); /* pending checks are dropped: no callback */

struct spam_dnsbl_query_set {
    const char *const *addrs;
    unsigned naddrs; /* RBL subjects, already filtered (spam_rbl_pass) */
    const char *const *rbl_zones;
    unsigned nrbl;
    const char *const *domains;
    unsigned ndomains; /* SURBL subjects: hosts, reduced by surbl_domain here */
    const char *const *surbl_zones;
    unsigned nsurbl;
};

struct spam_dnsbl_result {
    bool listed;
    char name[SCANREQ_NAME_MAX + 1];     /* the FIRST hit in order: RBL (address order,
                            then zone order) before SURBL (domain order, zone order) */
    unsigned rbl_queries, surbl_queries; /* lookups made (cached or not), each <= 32 */
    unsigned cached, timeouts, refused, unexpected, skipped; /* skipped: over the cap */
    unsigned failed; /* (added) answered without a usable answer: SERVFAIL, REFUSED rcode */
    char note[200];  /* refused/unexpected answers, for the log */
};

typedef void spam_dnsbl_fn(void *arg, const struct spam_dnsbl_result *r);

struct spam_dnsbl_req *spam_dnsbl_check(struct spam_dnsbl *d, const struct spam_dnsbl_query_set *q,
                                        spam_dnsbl_fn *cb, void *arg);
/* spam_dnsbl_cancel - cb will not run; r is freed. Only before cb ran. */
void spam_dnsbl_cancel(struct spam_dnsbl_req *r);

/* spam_dnsbl_cache_stats - the worker's cache figures. */
struct dnsbl_cache_stats spam_dnsbl_cache_stats(const struct spam_dnsbl *d);

/* ---- the lookups of a query set (exposed for the unit tests) ---- */

struct spam_dnsbl_lookup {
    enum dnsbl_list list;
    char name[DNSBL_NAME_MAX + 1];    /* the query name */
    char subject[DNSBL_NAME_MAX + 1]; /* the address as given, or the reduced domain */
    const char *zone;                 /* the caller's zone string */
};

struct spam_dnsbl_plan {
    unsigned n; /* RBL lookups first, then SURBL */
    unsigned rbl, surbl, skipped;
    struct spam_dnsbl_lookup l[2 * SPAM_DNSBL_QUERIES_MAX];
};

/* spam_dnsbl_plan - the lookups of q in order, within the caps (above). */
void spam_dnsbl_plan(const struct spam_dnsbl_query_set *q, struct spam_dnsbl_plan *p);

#endif
