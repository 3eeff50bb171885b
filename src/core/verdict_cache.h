/* verdict_cache - clean verdicts remembered by content digest.
 *
 * A worker that has had a body scanned CLEAN need not ask the scanner
 * again for the same bytes under the same definitions: the round trip to
 * sekisho-scand and libclamav's fixed cost per scan are most of what a
 * small download costs (docs/bench.md). The key is the SHA-256 of the
 * whole body, so a crafted file cannot take over another file's verdict.
 *
 * What is remembered: only CLEAN verdicts without any detail flag
 * (nothing encrypted, nested too deep or timed out), from a scanner that
 * named its engine. Each entry holds for VERDICT_CACHE_TTL_MS, and all of
 * them are forgotten as soon as any reply names another engine (scand
 * draws a new id each time it compiles definitions), so new definitions
 * reach a remembered file within VERDICT_CACHE_TTL_MS at the latest.
 * Direct-mapped, fixed size: a colliding digest replaces the entry.
 *
 * One cache per worker process (per scan options, which are fixed for a
 * worker's configuration). Owns its table; no I/O, no clock of its own.
 */
#ifndef SEKISHO_CORE_VERDICT_CACHE_H
#define SEKISHO_CORE_VERDICT_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/sha256.h"
#include "proto/scanreq.h"

#define VERDICT_CACHE_SLOTS      4096
#define VERDICT_CACHE_TTL_MS     60000
#define VERDICT_CACHE_OBJECT_MAX (128u * 1024u) /* larger bodies cost more to hash than to ask */

struct verdict_cache;

struct verdict_cache_stats {
    uint64_t hits, misses, stored, flushes;
};

struct verdict_cache *verdict_cache_new(void);
void verdict_cache_free(struct verdict_cache *vc);

/* verdict_cache_is_clean - true when digest was scanned CLEAN by the
 * current engine less than VERDICT_CACHE_TTL_MS before now_ms. */
bool verdict_cache_is_clean(struct verdict_cache *vc, const uint8_t digest[SHA256_DIGEST_LEN],
                            uint64_t now_ms);

/* verdict_cache_learn - a reply from the scanner: forget everything if it
 * names another engine than the last one; then remember digest (when not
 * NULL) if the verdict may be reused. */
void verdict_cache_learn(struct verdict_cache *vc, const uint8_t *digest,
                         const struct scanreq_reply *rep, uint64_t now_ms);

/* verdict_cache_forget - drop every entry (new definitions are in service,
 * lib/engine_mark); counted as a flush when there were any. */
void verdict_cache_forget(struct verdict_cache *vc);

struct verdict_cache_stats verdict_cache_stats(const struct verdict_cache *vc);

#endif
