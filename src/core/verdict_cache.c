/* verdict_cache - see verdict_cache.h. */
#include "core/verdict_cache.h"

#include <stdlib.h>
#include <string.h>

struct verdict_entry {
    uint8_t digest[SHA256_DIGEST_LEN];
    uint64_t expires_ms; /* 0: empty */
};

struct verdict_cache {
    uint64_t engine_id; /* of the entries held; 0 before the first reply */
    struct verdict_cache_stats stats;
    struct verdict_entry slot[VERDICT_CACHE_SLOTS];
};

struct verdict_cache *verdict_cache_new(void)
{
    return calloc(1, sizeof(struct verdict_cache));
}

void verdict_cache_free(struct verdict_cache *vc)
{
    free(vc);
}

/* The digest is uniformly distributed: its first bytes are the index. */
static struct verdict_entry *slot_of(struct verdict_cache *vc, const uint8_t *digest)
{
    uint32_t i = (uint32_t)digest[0] | (uint32_t)digest[1] << 8 | (uint32_t)digest[2] << 16;
    return &vc->slot[i % VERDICT_CACHE_SLOTS];
}

bool verdict_cache_is_clean(struct verdict_cache *vc, const uint8_t digest[SHA256_DIGEST_LEN],
                            uint64_t now_ms)
{
    struct verdict_entry *e = slot_of(vc, digest);
    bool hit = e->expires_ms > now_ms && memcmp(e->digest, digest, SHA256_DIGEST_LEN) == 0;
    if (hit)
        vc->stats.hits++;
    else
        vc->stats.misses++;
    return hit;
}

void verdict_cache_learn(struct verdict_cache *vc, const uint8_t *digest,
                         const struct scanreq_reply *rep, uint64_t now_ms)
{
    if (rep->engine_id == 0)
        return; /* not from an engine (a failure of ours or of the transport) */
    if (rep->engine_id != vc->engine_id) {
        if (vc->engine_id != 0)
            vc->stats.flushes++;
        memset(vc->slot, 0, sizeof(vc->slot));
        vc->engine_id = rep->engine_id;
    }
    if (!digest || rep->verdict != SCANREQ_CLEAN || rep->details != 0)
        return;
    struct verdict_entry *e = slot_of(vc, digest);
    memcpy(e->digest, digest, SHA256_DIGEST_LEN);
    e->expires_ms = now_ms + VERDICT_CACHE_TTL_MS;
    vc->stats.stored++;
}

void verdict_cache_forget(struct verdict_cache *vc)
{
    if (vc->engine_id != 0)
        vc->stats.flushes++;
    memset(vc->slot, 0, sizeof(vc->slot));
    /* The next reply's engine becomes the entries' engine without a
     * second flush. */
    vc->engine_id = 0;
}

struct verdict_cache_stats verdict_cache_stats(const struct verdict_cache *vc)
{
    return vc->stats;
}
