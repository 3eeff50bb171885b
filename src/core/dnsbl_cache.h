/* dnsbl_cache - a bounded cache of DNS list answers, expiring by TTL
 * (SPAM-8/SPAM-9: answers cached for their TTL).
 *
 * What it does: maps (list kind, query name) to the evaluated answer
 * (core/dnsbl_answer: listed, refused, unexpected or not listed, with
 * the deciding address) until now + its TTL. At most `capacity` entries:
 * a new entry past that evicts the least recently used one. An expired
 * entry is dropped when it is next looked up or evicted. Times are
 * passed in (milliseconds of a monotonic clock), so the worker passes its
 * loop's time and the tests any time they like.
 *
 * What it does not do: no I/O, no clock of its own, not thread-safe (one
 * per worker). Entries with ttl 0 (no answer, a negative answer without
 * SOA) are not stored.
 */
#ifndef SEKISHO_CORE_DNSBL_CACHE_H
#define SEKISHO_CORE_DNSBL_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/dnsbl_answer.h"
#include "proto/dnsbl_name.h"

struct dnsbl_cache;

struct dnsbl_cache_stats {
    unsigned entries, capacity;
    uint64_t hits, misses, expired, evicted;
};

/* dnsbl_cache_new - capacity >= 1 entries; NULL on no memory. */
struct dnsbl_cache *dnsbl_cache_new(unsigned capacity);
void dnsbl_cache_free(struct dnsbl_cache *c);

/* dnsbl_cache_get - true and *e (ttl = the seconds left, rounded up)
 * when name has an unexpired entry at now_ms. */
bool dnsbl_cache_get(struct dnsbl_cache *c, enum dnsbl_list list, const char *name, uint64_t now_ms,
                     struct dnsbl_eval *e);

/* dnsbl_cache_put - store e for e->ttl seconds from now_ms (replacing an
 * entry of the same name); nothing when e->ttl is 0, name is longer than
 * DNSBL_NAME_MAX, or there is no memory. */
void dnsbl_cache_put(struct dnsbl_cache *c, enum dnsbl_list list, const char *name,
                     const struct dnsbl_eval *e, uint64_t now_ms);

struct dnsbl_cache_stats dnsbl_cache_stats(const struct dnsbl_cache *c);

#endif
