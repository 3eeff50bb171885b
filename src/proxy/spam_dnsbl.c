/* spam_dnsbl - RBL and SURBL lookups of one mail over c-ares. */
#include "proxy/spam_dnsbl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dns.h"
#include "lib/str.h"
#include "proto/surbl_domain.h"

struct spam_dnsbl {
    struct ev_loop *loop;
    struct dns *dns;
    struct dnsbl_cache *cache;
    struct spam_dnsbl_req *reqs; /* pending checks, for spam_dnsbl_free */
};

struct pending {
    struct spam_dnsbl_req *req;
    struct dns_query *q; /* NULL once answered (or never sent) */
    unsigned idx;
};

struct spam_dnsbl_req {
    struct spam_dnsbl *d;
    struct spam_dnsbl_req *prev, *next;
    spam_dnsbl_fn *cb;
    void *arg;
    struct ev_timer timer; /* the 1 s deadline, or 0 ms to report after return */
    unsigned outstanding;
    struct spam_dnsbl_plan plan;
    bool answered[2 * SPAM_DNSBL_QUERIES_MAX];
    struct dnsbl_eval eval[2 * SPAM_DNSBL_QUERIES_MAX];
    struct pending pend[2 * SPAM_DNSBL_QUERIES_MAX];
    struct spam_dnsbl_result res;
};

struct spam_dnsbl *spam_dnsbl_new(struct ev_loop *loop, const char *servers)
{
    struct spam_dnsbl *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->loop = loop;
    /* One try: SPAM-8's 1 s is the whole budget, a retransmission could
     * only answer after the mail was decided. */
    d->dns = dns_new_opts(loop, servers, SPAM_DNSBL_TIMEOUT_MS, 1);
    d->cache = dnsbl_cache_new(SPAM_DNSBL_CACHE_ENTRIES);
    if (!d->dns || !d->cache) {
        dns_free(d->dns);
        dnsbl_cache_free(d->cache);
        free(d);
        return NULL;
    }
    return d;
}

static void req_unlink_free(struct spam_dnsbl_req *r)
{
    struct spam_dnsbl *d = r->d;
    ev_timer_stop(d->loop, &r->timer);
    for (unsigned i = 0; i < r->plan.n; i++)
        if (r->pend[i].q) {
            dns_cancel(r->pend[i].q);
            r->pend[i].q = NULL;
        }
    if (r->prev)
        r->prev->next = r->next;
    else
        d->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    free(r);
}

void spam_dnsbl_free(struct spam_dnsbl *d)
{
    if (!d)
        return;
    while (d->reqs)
        req_unlink_free(d->reqs);
    dns_free(d->dns);
    dnsbl_cache_free(d->cache);
    free(d);
}

struct dnsbl_cache_stats spam_dnsbl_cache_stats(const struct spam_dnsbl *d)
{
    return dnsbl_cache_stats(d->cache);
}

/* ---- planning ---- */

static bool seen(const struct spam_dnsbl_plan *p, unsigned from, const char *name)
{
    for (unsigned i = from; i < p->n; i++)
        if (strcmp(p->l[i].name, name) == 0)
            return true;
    return false;
}

/* add - one lookup of the method that starts at index `from`; *count is
 * the method's count (capped). */
static void add(struct spam_dnsbl_plan *p, unsigned from, unsigned *count, enum dnsbl_list list,
                const char *name, struct str subject, const char *zone)
{
    if (seen(p, from, name))
        return;
    if (*count >= SPAM_DNSBL_QUERIES_MAX) {
        p->skipped++;
        return;
    }
    struct spam_dnsbl_lookup *l = &p->l[p->n++];
    l->list = list;
    str_copy(l->name, sizeof(l->name), name);
    str_copy_view(l->subject, sizeof(l->subject), subject);
    l->zone = zone;
    (*count)++;
}

void spam_dnsbl_plan(const struct spam_dnsbl_query_set *q, struct spam_dnsbl_plan *p)
{
    memset(p, 0, sizeof(*p));
    char name[DNSBL_NAME_MAX + 1];
    for (unsigned a = 0; a < q->naddrs; a++) {
        if (!q->addrs[a])
            continue;
        struct str addr = str_from_cstr(q->addrs[a]);
        for (unsigned z = 0; z < q->nrbl; z++) {
            if (!q->rbl_zones[z] ||
                !dnsbl_rbl_query(addr, str_from_cstr(q->rbl_zones[z]), name, sizeof(name)))
                continue;
            add(p, 0, &p->rbl, DNSBL_RBL, name, addr, q->rbl_zones[z]);
        }
    }
    unsigned from = p->n;
    for (unsigned h = 0; h < q->ndomains; h++) {
        struct str domain;
        if (!q->domains[h] || surbl_domain(str_from_cstr(q->domains[h]), &domain) != SURBL_DOMAIN)
            continue;
        for (unsigned z = 0; z < q->nsurbl; z++) {
            if (!q->surbl_zones[z] ||
                !dnsbl_surbl_query(domain, str_from_cstr(q->surbl_zones[z]), name, sizeof(name)))
                continue;
            /* the subject of the detection name is lower case, like the query */
            char lower[DNSBL_NAME_MAX + 1];
            size_t n = str_copy_view(lower, sizeof(lower), domain);
            for (size_t i = 0; i < n; i++)
                if (lower[i] >= 'A' && lower[i] <= 'Z')
                    lower[i] = (char)(lower[i] + 32);
            add(p, from, &p->surbl, DNSBL_SURBL, name, str_make(lower, n), q->surbl_zones[z]);
        }
    }
}

/* ---- the check ---- */

static void note_add(struct spam_dnsbl_result *res, const struct spam_dnsbl_lookup *l,
                     const struct dnsbl_eval *e)
{
    size_t used = strlen(res->note);
    if (used + 1 >= sizeof(res->note))
        return;
    /* e.g. "refused 2.0.0.127.zen.example=127.255.255.254"; a note that
     * does not fit ends in "..." (snprintf truncates) */
    int w = snprintf(res->note + used, sizeof(res->note) - used, "%s%s %s=%u.%u.%u.%u",
                     used ? "; " : "", dnsbl_outcome_name(e->outcome), l->name, e->reply[0],
                     e->reply[1], e->reply[2], e->reply[3]);
    if (w > 0 && (size_t)w >= sizeof(res->note) - used && sizeof(res->note) > 4)
        memcpy(res->note + sizeof(res->note) - 4, "...", 4);
}

static void report(struct spam_dnsbl_req *r)
{
    struct spam_dnsbl_result *res = &r->res;
    for (unsigned i = 0; i < r->plan.n; i++) {
        const struct spam_dnsbl_lookup *l = &r->plan.l[i];
        if (!r->answered[i]) {
            res->timeouts++;
            continue;
        }
        const struct dnsbl_eval *e = &r->eval[i];
        switch (e->outcome) {
        case DNSBL_OUT_LISTED:
            if (res->listed)
                break;
            res->listed = true;
            /* a name too long for a scan result (a long zone after an
             * IPv6 address) still lists the mail, under a shortened name */
            if (!dnsbl_detection_name(l->list, str_from_cstr(l->subject), str_from_cstr(l->zone),
                                      e->reply, res->name, sizeof(res->name)))
                snprintf(res->name, sizeof(res->name), "SEKISHO/%s/%s",
                         l->list == DNSBL_RBL ? "SPAM_RBL" : "SPAM_SURBL", l->subject);
            break;
        case DNSBL_OUT_REFUSED:
            res->refused++;
            note_add(res, l, e);
            break;
        case DNSBL_OUT_UNEXPECTED:
            res->unexpected++;
            note_add(res, l, e);
            break;
        case DNSBL_OUT_NO_ANSWER:
            res->failed++;
            break;
        case DNSBL_OUT_NOT_LISTED:
            break;
        }
    }
    spam_dnsbl_fn *cb = r->cb;
    void *arg = r->arg;
    struct spam_dnsbl_result copy = *res;
    req_unlink_free(r); /* the callback may free the whole spam_dnsbl */
    cb(arg, &copy);
}

static void on_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    report(t->data);
}

static void on_answer(void *arg, const struct dns_a_answer *a)
{
    struct pending *p = arg;
    struct spam_dnsbl_req *r = p->req;
    const struct spam_dnsbl_lookup *l = &r->plan.l[p->idx];
    p->q = NULL;
    if (a->timeout) /* c-ares gave up: the deadline reports it as a timeout */
        return;
    dnsbl_answer_eval(l->list, a, &r->eval[p->idx]);
    r->answered[p->idx] = true;
    dnsbl_cache_put(r->d->cache, l->list, l->name, &r->eval[p->idx], ev_now_ms(r->d->loop));
    if (--r->outstanding == 0) /* report from the loop, not from inside c-ares */
        ev_timer_start(r->d->loop, &r->timer, 0);
}

struct spam_dnsbl_req *spam_dnsbl_check(struct spam_dnsbl *d, const struct spam_dnsbl_query_set *q,
                                        spam_dnsbl_fn *cb, void *arg)
{
    struct spam_dnsbl_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->d = d;
    r->cb = cb;
    r->arg = arg;
    ev_timer_init(&r->timer, on_timer, r);
    r->next = d->reqs;
    if (d->reqs)
        d->reqs->prev = r;
    d->reqs = r;
    spam_dnsbl_plan(q, &r->plan);
    r->res.rbl_queries = r->plan.rbl;
    r->res.surbl_queries = r->plan.surbl;
    r->res.skipped = r->plan.skipped;
    uint64_t now = ev_now_ms(d->loop);
    for (unsigned i = 0; i < r->plan.n; i++) {
        const struct spam_dnsbl_lookup *l = &r->plan.l[i];
        if (dnsbl_cache_get(d->cache, l->list, l->name, now, &r->eval[i])) {
            r->answered[i] = true;
            r->res.cached++;
            continue;
        }
        r->pend[i].req = r;
        r->pend[i].idx = i;
        r->outstanding++;
        r->pend[i].q = dns_query_a(d->dns, l->name, on_answer, &r->pend[i]);
        if (!r->pend[i].q) /* no memory: counted as not answered */
            r->outstanding--;
    }
    ev_timer_start(d->loop, &r->timer, r->outstanding ? SPAM_DNSBL_TIMEOUT_MS : 0);
    return r;
}

void spam_dnsbl_cancel(struct spam_dnsbl_req *r)
{
    if (r)
        req_unlink_free(r);
}
