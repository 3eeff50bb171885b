/* proxy_auth - see proxy_auth.h. */
#include "proxy/proxy_auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/sha256.h"
#include "lib/str.h"
#include "lib/workq.h"
#include "proto/authlog_format.h"

#define IP_MAX 46

struct cache_slot {
    uint8_t key[SHA256_DIGEST_LEN];
    uint64_t expires_ms; /* 0: empty */
};

struct proxy_auth_pool {
    struct ev_loop *loop;
    struct workq *q;
    char service[PROXY_AUTH_SERVICE_MAX];
    uint64_t checks;
    struct cache_slot cache[PROXY_AUTH_CACHE_SLOTS];
    struct proxy_authfail *fails; /* the service's, shared by its workers */
};

enum auth_mode {
    MODE_DEFERRED, /* answered without PAM: the callback waits for ev_defer */
    MODE_QUEUED,   /* on the workq: its done() finishes it */
};

struct proxy_auth {
    struct workq_job job; /* first */
    struct proxy_auth_pool *pool;
    enum auth_mode mode;
    bool answered; /* the callback ran, or was cancelled: nothing more for the caller */
    proxy_auth_fn *cb;
    void *arg;
    struct ev_timer timer;
    /* the request, copied (the thread reads it) */
    char service[PROXY_AUTH_SERVICE_MAX];
    char user[PAM_CHECK_FIELD_MAX + 1];
    char password[PAM_CHECK_FIELD_MAX + 1];
    bool has_password;
    char server[PAM_CHECK_FIELD_MAX + 1];
    bool has_server;
    char client_ip[IP_MAX];
    uint8_t cache_key[SHA256_DIGEST_LEN];
    /* the answer (written by the thread, read after done) */
    enum pam_check_result result;
    char why[256];
    struct svclog_ctx log;
};

void proxy_auth_service(const char *proto, char *out, size_t cap)
{
    const char *prog = program_invocation_short_name;
    if (!prog || !*prog || strncmp(prog, "sekisho", 7) != 0)
        prog = "sekisho"; /* a test harness or a renamed binary: the default names */
    snprintf(out, cap, "%s_%s", prog, proto);
}

struct proxy_auth_pool *proxy_auth_pool_new(struct ev_loop *loop, const char *service,
                                            struct proxy_authfail *fails)
{
    struct proxy_auth_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->loop = loop;
    p->fails = fails;
    str_copy(p->service, sizeof(p->service), service);
    return p;
}

void proxy_auth_pool_free(struct proxy_auth_pool *pool)
{
    if (!pool)
        return;
    /* Checks in flight are abandoned: the worker is exiting; a thread in a
     * PAM call that still blocks after a second is left to the exit. */
    workq_free(pool->q, 1000);
    explicit_bzero(pool->cache, sizeof(pool->cache));
    free(pool);
}

uint64_t proxy_auth_checks(const struct proxy_auth_pool *pool)
{
    return pool->checks;
}

void proxy_auth_log_failure(const struct proxy_auth_pool *p, const char *client_host,
                            const char *client_ip, const char *mech, const char *reason,
                            const char *user)
{
    char mem[2048];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    struct authlog_line l = {
        .when = time(NULL),
        .program = str_from_cstr(p->service),
        .pid = (long)getpid(),
        .client_host = str_from_cstr(client_host ? client_host : ""),
        .client_ip = str_from_cstr(client_ip ? client_ip : ""),
        .mechanism = str_from_cstr(mech),
        .reason = reason,
        .user = str_from_cstr(user ? user : ""),
    };
    if (authlog_format(&b, &l))
        log_sink_write(LOG_SINK_AUTH, buf_rptr(&b), buf_len(&b));
}

/* ---- the failure limit (proxy_authfail) -------------------------------- */

bool proxy_auth_blocked(struct proxy_auth_pool *p, const char *ip)
{
    return p->fails && proxy_authfail_blocked(p->fails, ip, ev_now_ms(p->loop));
}

static void fail_note(struct proxy_auth_pool *p, const char *ip)
{
    if (p->fails)
        proxy_authfail_note(p->fails, ip, ev_now_ms(p->loop));
}

/* ---- the cache --------------------------------------------------------- */

static void cache_key(const struct proxy_auth *a, uint8_t out[SHA256_DIGEST_LEN])
{
    struct sha256 c = {0};
    if (sha256_init(&c) < 0) {
        memset(out, 0, SHA256_DIGEST_LEN);
        return;
    }
    sha256_update(&c, a->service, strlen(a->service) + 1);
    sha256_update(&c, a->user, strlen(a->user) + 1);
    sha256_update(&c, a->password, strlen(a->password));
    if (sha256_final(&c, out) < 0)
        memset(out, 0, SHA256_DIGEST_LEN);
}

static struct cache_slot *cache_slot(struct proxy_auth_pool *p, const uint8_t *key)
{
    return &p->cache[key[0] % PROXY_AUTH_CACHE_SLOTS];
}

static bool cache_hit(struct proxy_auth_pool *p, const uint8_t *key)
{
    const struct cache_slot *c = cache_slot(p, key);
    return c->expires_ms > ev_now_ms(p->loop) && memcmp(c->key, key, SHA256_DIGEST_LEN) == 0;
}

static void cache_put(struct proxy_auth_pool *p, const uint8_t *key)
{
    struct cache_slot *c = cache_slot(p, key);
    memcpy(c->key, key, SHA256_DIGEST_LEN);
    c->expires_ms = ev_now_ms(p->loop) + (uint64_t)PROXY_AUTH_CACHE_TTL_S * 1000;
}

/* ---- a check ----------------------------------------------------------- */

static void auth_free(struct proxy_auth *a)
{
    explicit_bzero(a->password, sizeof(a->password));
    free(a);
}

static void answer(struct proxy_auth *a)
{
    a->answered = true;
    ev_timer_stop(a->pool->loop, &a->timer);
    a->cb(a->arg, a->result);
}

static void run_check(struct workq_job *j)
{
    struct proxy_auth *a = (struct proxy_auth *)j;
    struct pam_check_req req = {
        .service = a->service,
        .user = a->user,
        .password = a->has_password ? a->password : NULL,
        .rhost = a->client_ip[0] ? a->client_ip : NULL,
        .server = a->has_server ? a->server : NULL,
    };
    a->result = pam_check(&req, a->why, sizeof(a->why));
    explicit_bzero(a->password, sizeof(a->password));
}

static void check_done(struct workq_job *j)
{
    struct proxy_auth *a = (struct proxy_auth *)j;
    struct proxy_auth_pool *p = a->pool;
    if (!a->answered) {
        if (a->result == PAM_CHECK_OK) {
            if (a->has_password)
                cache_put(p, a->cache_key);
            /* The address's failures are not cleared: one good account
             * must not reset a guesser's count. */
        } else if (a->result == PAM_CHECK_DENIED) {
            svclog_info(&a->log, "PAM %s (%s, user [%s]): %s", a->service,
                        a->has_password ? "authenticate" : "account", a->user, a->why);
            if (a->has_password)
                fail_note(p, a->client_ip);
        } else {
            svclog_error(&a->log, "PAM %s (%s, user [%s]): %s", a->service,
                         a->has_password ? "authenticate" : "account", a->user, a->why);
        }
        answer(a);
    }
    auth_free(a);
}

static void on_timeout(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct proxy_auth *a = t->data;
    svclog_error(&a->log, "PAM %s (user [%s]): no answer in %d ms", a->service, a->user,
                 PROXY_AUTH_TIMEOUT_MS);
    workq_cancel(a->pool->q, &a->job);
    a->result = PAM_CHECK_UNAVAILABLE;
    answer(a); /* check_done frees it when the thread lets go */
}

static void deferred(void *data)
{
    struct proxy_auth *a = data;
    if (!a->answered)
        answer(a);
    auth_free(a);
}

static struct proxy_auth *defer_answer(struct proxy_auth *a, enum pam_check_result r)
{
    a->mode = MODE_DEFERRED;
    a->result = r;
    explicit_bzero(a->password, sizeof(a->password));
    if (ev_defer(a->pool->loop, deferred, a) < 0) {
        auth_free(a);
        return NULL; /* out of memory: the caller treats NULL as UNAVAILABLE */
    }
    return a;
}

struct proxy_auth *proxy_auth_start(struct proxy_auth_pool *p, const struct proxy_auth_req *req,
                                    const struct svclog_ctx *log, proxy_auth_fn *cb, void *arg)
{
    struct proxy_auth *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->pool = p;
    a->cb = cb;
    a->arg = arg;
    str_copy(a->service, sizeof(a->service), p->service);
    str_copy(a->user, sizeof(a->user), req->user ? req->user : "");
    if (req->password) {
        a->has_password = true;
        str_copy(a->password, sizeof(a->password), req->password);
    }
    if (req->server) {
        a->has_server = true;
        str_copy(a->server, sizeof(a->server), req->server);
    }
    str_copy(a->client_ip, sizeof(a->client_ip), req->client_ip ? req->client_ip : "");
    a->log = log ? *log : (struct svclog_ctx){.internal_id = -1};
    a->log.client_ip = a->client_ip; /* the session's strings may go before us */
    a->log.client_host = NULL;
    a->log.server_ip = NULL;
    a->log.server_host = NULL;
    ev_timer_init(&a->timer, on_timeout, a);

    if (a->has_password && proxy_auth_blocked(p, a->client_ip))
        return defer_answer(a, PAM_CHECK_DENIED);
    if (a->has_password) {
        cache_key(a, a->cache_key);
        if (cache_hit(p, a->cache_key))
            return defer_answer(a, PAM_CHECK_OK);
    }
    if (!p->q)
        p->q = workq_new(p->loop, PROXY_AUTH_THREADS, PROXY_AUTH_QUEUE_MAX);
    a->job.run = run_check;
    a->job.done = check_done;
    if (!p->q || workq_submit(p->q, &a->job) < 0) {
        svclog_error_errno(&a->log, errno, "PAM %s: cannot queue the check of user [%s]",
                           a->service, a->user);
        return defer_answer(a, PAM_CHECK_UNAVAILABLE);
    }
    a->mode = MODE_QUEUED;
    p->checks++;
    ev_timer_start(p->loop, &a->timer, PROXY_AUTH_TIMEOUT_MS);
    return a;
}

void proxy_auth_cancel(struct proxy_auth *a)
{
    if (!a || a->answered)
        return;
    a->answered = true;
    if (a->mode == MODE_QUEUED) {
        ev_timer_stop(a->pool->loop, &a->timer);
        workq_cancel(a->pool->q, &a->job);
    }
}
