/* proxy_authfail - see proxy_authfail.h. */
#include "proxy/proxy_authfail.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

struct entry {
    uint64_t key; /* 0: free */
    uint32_t count;
    uint64_t last_ms;
};

struct proxy_authfail {
    pthread_mutex_t mu; /* process-shared, robust */
    struct entry e[PROXY_AUTHFAIL_SLOTS];
};

/* key_of - FNV-1a of the address text; never 0 (0 marks a free entry). */
static uint64_t key_of(const char *ip)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)ip; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h ? h : 1;
}

static void lock(struct proxy_authfail *t)
{
    if (pthread_mutex_lock(&t->mu) == EOWNERDEAD)
        pthread_mutex_consistent(&t->mu); /* a worker died holding it: counts may be off by one */
}

struct proxy_authfail *proxy_authfail_new(void)
{
    struct proxy_authfail *t =
        mmap(NULL, sizeof(*t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (t == MAP_FAILED)
        return NULL;
    memset(t, 0, sizeof(*t));
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    int err = pthread_mutex_init(&t->mu, &a);
    pthread_mutexattr_destroy(&a);
    if (err) {
        munmap(t, sizeof(*t));
        errno = err;
        return NULL;
    }
    return t;
}

void proxy_authfail_free(struct proxy_authfail *t)
{
    if (t)
        munmap(t, sizeof(*t));
}

static struct entry *find(struct proxy_authfail *t, uint64_t key)
{
    for (size_t i = 0; i < PROXY_AUTHFAIL_SLOTS; i++)
        if (t->e[i].key == key)
            return &t->e[i];
    return NULL;
}

bool proxy_authfail_blocked(struct proxy_authfail *t, const char *ip, uint64_t now_ms)
{
    lock(t);
    const struct entry *e = find(t, key_of(ip));
    bool blocked =
        e && e->count >= PROXY_AUTHFAIL_MAX && now_ms - e->last_ms < PROXY_AUTHFAIL_WINDOW_MS;
    pthread_mutex_unlock(&t->mu);
    return blocked;
}

void proxy_authfail_note(struct proxy_authfail *t, const char *ip, uint64_t now_ms)
{
    uint64_t key = key_of(ip);
    lock(t);
    struct entry *e = find(t, key);
    if (!e) {
        /* A free entry, else the one whose last failure is the oldest. */
        e = &t->e[0];
        for (size_t i = 0; i < PROXY_AUTHFAIL_SLOTS && e->key; i++)
            if (!t->e[i].key || t->e[i].last_ms < e->last_ms)
                e = &t->e[i];
        *e = (struct entry){.key = key};
    } else if (now_ms - e->last_ms >= PROXY_AUTHFAIL_WINDOW_MS) {
        e->count = 0; /* its old failures have expired */
    }
    e->count++;
    e->last_ms = now_ms;
    pthread_mutex_unlock(&t->mu);
}

void proxy_authfail_clear(struct proxy_authfail *t, const char *ip)
{
    lock(t);
    struct entry *e = find(t, key_of(ip));
    if (e)
        *e = (struct entry){0};
    pthread_mutex_unlock(&t->mu);
}
