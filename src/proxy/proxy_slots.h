/* proxy_slots - the session slots shared by every worker of a service.
 *
 * pre_spawn caps the number of concurrent sessions of a service across
 * all its worker processes. A slot is one bit in a bitmap in shared
 * memory (created by the master before forking); a session claims the
 * lowest free slot before accept() and releases it when it ends. The
 * slot number is the guide's "internal process ID" (GEN-3): the lowest
 * idle number is taken first, so id + 1 is the number of concurrent
 * sessions when the access started. Lock-free (atomic CAS per word).
 */
#ifndef SEKISHO_PROXY_SLOTS_H
#define SEKISHO_PROXY_SLOTS_H

#include <stdint.h>

struct proxy_slots;

/* proxy_slots_new - shared (MAP_SHARED) bitmap of cap slots; NULL on error. */
struct proxy_slots *proxy_slots_new(uint32_t cap);
void proxy_slots_free(struct proxy_slots *s);

/* proxy_slots_claim - take the lowest free slot; -1 when all are taken. */
int proxy_slots_claim(struct proxy_slots *s);
void proxy_slots_release(struct proxy_slots *s, int slot);
uint32_t proxy_slots_cap(const struct proxy_slots *s);
uint32_t proxy_slots_used(const struct proxy_slots *s);
/* proxy_slots_set_owner - record which worker holds slot (for reaping). */
void proxy_slots_set_owner(struct proxy_slots *s, int slot, int32_t pid);
/* proxy_slots_set_client - record the client address key of slot (a
 * non-zero hash of the address, see proxy_worker.c); released with it. */
void proxy_slots_set_client(struct proxy_slots *s, int slot, uint64_t key);
/* proxy_slots_client_count - slots held by sessions of that client key,
 * across every worker. O(cap): once per accepted connection. */
uint32_t proxy_slots_client_count(const struct proxy_slots *s, uint64_t key);
/* proxy_slots_reap - release every slot owned by pid (a dead worker);
 * returns how many were released. */
uint32_t proxy_slots_reap(struct proxy_slots *s, int32_t pid);

#endif
