/* dnsbl_cache - a bounded cache of DNS list answers, expiring by TTL. */
#include "core/dnsbl_cache.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    struct entry *hnext;       /* bucket chain */
    struct entry *prev, *next; /* LRU list: head = most recently used */
    uint64_t expires_ms;
    struct dnsbl_eval eval;
    enum dnsbl_list list;
    uint32_t hash;
    char name[]; /* NUL-terminated */
};

struct dnsbl_cache {
    struct entry **buckets;
    uint32_t mask;
    struct entry *head, *tail;
    struct dnsbl_cache_stats st;
};

static uint32_t hash_of(enum dnsbl_list list, const char *name)
{
    uint32_t h = 2166136261u ^ (uint32_t)list; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

struct dnsbl_cache *dnsbl_cache_new(unsigned capacity)
{
    if (capacity == 0)
        capacity = 1;
    struct dnsbl_cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    uint32_t nb = 1;
    while (nb < capacity && nb < (1u << 30))
        nb <<= 1;
    c->buckets = calloc(nb, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        return NULL;
    }
    c->mask = nb - 1;
    c->st.capacity = capacity;
    return c;
}

static void lru_unlink(struct dnsbl_cache *c, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(struct dnsbl_cache *c, struct entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (!c->tail)
        c->tail = e;
}

static struct entry **slot_of(struct dnsbl_cache *c, enum dnsbl_list list, const char *name,
                              uint32_t h)
{
    struct entry **pp = &c->buckets[h & c->mask];
    while (*pp && ((*pp)->hash != h || (*pp)->list != list || strcmp((*pp)->name, name) != 0))
        pp = &(*pp)->hnext;
    return pp;
}

static void drop(struct dnsbl_cache *c, struct entry *e)
{
    struct entry **pp = slot_of(c, e->list, e->name, e->hash);
    if (*pp == e)
        *pp = e->hnext;
    lru_unlink(c, e);
    c->st.entries--;
    free(e);
}

void dnsbl_cache_free(struct dnsbl_cache *c)
{
    if (!c)
        return;
    struct entry *e = c->head;
    while (e) {
        struct entry *next = e->next;
        free(e);
        e = next;
    }
    free(c->buckets);
    free(c);
}

bool dnsbl_cache_get(struct dnsbl_cache *c, enum dnsbl_list list, const char *name, uint64_t now_ms,
                     struct dnsbl_eval *out)
{
    uint32_t h = hash_of(list, name);
    struct entry *e = *slot_of(c, list, name, h);
    if (!e) {
        c->st.misses++;
        return false;
    }
    if (e->expires_ms <= now_ms) {
        drop(c, e);
        c->st.expired++;
        c->st.misses++;
        return false;
    }
    lru_unlink(c, e);
    lru_front(c, e);
    *out = e->eval;
    out->ttl = (uint32_t)((e->expires_ms - now_ms + 999) / 1000);
    c->st.hits++;
    return true;
}

void dnsbl_cache_put(struct dnsbl_cache *c, enum dnsbl_list list, const char *name,
                     const struct dnsbl_eval *ev, uint64_t now_ms)
{
    size_t len = strlen(name);
    if (ev->ttl == 0 || len > DNSBL_NAME_MAX)
        return;
    uint32_t h = hash_of(list, name);
    struct entry *old = *slot_of(c, list, name, h);
    if (old)
        drop(c, old);
    while (c->st.entries >= c->st.capacity && c->tail) {
        struct entry *victim = c->tail;
        if (victim->expires_ms <= now_ms)
            c->st.expired++;
        else
            c->st.evicted++;
        drop(c, victim);
    }
    struct entry *e = malloc(sizeof(*e) + len + 1);
    if (!e)
        return;
    memset(e, 0, sizeof(*e));
    memcpy(e->name, name, len + 1);
    e->list = list;
    e->hash = h;
    e->eval = *ev;
    e->expires_ms = now_ms + (uint64_t)ev->ttl * 1000u;
    struct entry **pp = &c->buckets[h & c->mask];
    e->hnext = *pp;
    *pp = e;
    lru_front(c, e);
    c->st.entries++;
}

struct dnsbl_cache_stats dnsbl_cache_stats(const struct dnsbl_cache *c)
{
    return c->st;
}
