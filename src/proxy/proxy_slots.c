/* proxy_slots - the session slots shared by every worker of a service. */
#include "proxy/proxy_slots.h"

#include <stdatomic.h>
#include <stddef.h>
#include <sys/mman.h>

struct proxy_slots {
    uint32_t cap;
    uint32_t nwords;
    size_t size; /* of the mapping */
    _Atomic uint64_t *words;
    _Atomic int32_t *owner;   /* pid holding each slot, for reaping */
    _Atomic uint64_t *client; /* client address key of each slot, 0 = none */
};

struct proxy_slots *proxy_slots_new(uint32_t cap)
{
    uint32_t nwords = (cap + 63) / 64;
    size_t size = sizeof(struct proxy_slots) + nwords * sizeof(uint64_t) + cap * sizeof(uint64_t) +
                  cap * sizeof(int32_t);
    void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return NULL;
    struct proxy_slots *s = mem;
    s->cap = cap;
    s->nwords = nwords;
    s->size = size;
    s->words = (_Atomic uint64_t *)(s + 1);
    s->client = s->words + nwords;
    s->owner = (_Atomic int32_t *)(s->client + cap);
    for (uint32_t i = 0; i < nwords; i++)
        atomic_init(&s->words[i], 0);
    for (uint32_t i = 0; i < cap; i++) {
        atomic_init(&s->owner[i], 0);
        atomic_init(&s->client[i], 0);
    }
    return s;
}

void proxy_slots_free(struct proxy_slots *s)
{
    if (s)
        munmap(s, s->size);
}

int proxy_slots_claim(struct proxy_slots *s)
{
    for (uint32_t w = 0; w < s->nwords; w++) {
        uint64_t cur = atomic_load(&s->words[w]);
        for (;;) {
            uint64_t free_bits = ~cur;
            if (w == s->nwords - 1 && s->cap % 64)
                free_bits &= (UINT64_C(1) << (s->cap % 64)) - 1;
            if (free_bits == 0)
                break;
            int bit = __builtin_ctzll(free_bits);
            if (atomic_compare_exchange_weak(&s->words[w], &cur, cur | (UINT64_C(1) << bit)))
                return (int)(w * 64 + (uint32_t)bit);
        }
    }
    return -1;
}

void proxy_slots_release(struct proxy_slots *s, int slot)
{
    if (slot < 0 || (uint32_t)slot >= s->cap)
        return;
    atomic_store(&s->owner[slot], 0);
    atomic_store(&s->client[slot], 0);
    atomic_fetch_and(&s->words[slot / 64], ~(UINT64_C(1) << (slot % 64)));
}

uint32_t proxy_slots_cap(const struct proxy_slots *s)
{
    return s->cap;
}

uint32_t proxy_slots_used(const struct proxy_slots *s)
{
    uint32_t n = 0;
    for (uint32_t w = 0; w < s->nwords; w++)
        n += (uint32_t)__builtin_popcountll(atomic_load(&s->words[w]));
    return n;
}

void proxy_slots_set_owner(struct proxy_slots *s, int slot, int32_t pid)
{
    if (slot >= 0 && (uint32_t)slot < s->cap)
        atomic_store(&s->owner[slot], pid);
}

uint32_t proxy_slots_reap(struct proxy_slots *s, int32_t pid)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->cap; i++) {
        if (atomic_load(&s->owner[i]) == pid) {
            proxy_slots_release(s, (int)i);
            n++;
        }
    }
    return n;
}

void proxy_slots_set_client(struct proxy_slots *s, int slot, uint64_t key)
{
    if (slot >= 0 && (uint32_t)slot < s->cap)
        atomic_store(&s->client[slot], key);
}

uint32_t proxy_slots_client_count(const struct proxy_slots *s, uint64_t key)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->cap; i++)
        n += atomic_load(&s->client[i]) == key;
    return n;
}
