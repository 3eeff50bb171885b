/* spam_check - is this mail spam? (see the header). */
#include "proxy/spam_check.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/access.h"
#include "lib/spoolfile.h"
#include "lib/str.h"
#include "lib/workq.h"
#include "proto/spam_match.h"
#include "proto/surbl_domain.h"
#include "proxy/spam_dnsbl.h"
#include "proxy/proxy_mail_scan.h"
#include "proxy/spam_engine.h"

struct spam_check_pool {
    struct workq *q;
    struct spam_dnsbl *dnsbl; /* NULL until the first RBL/SURBL check */
};

enum phase {
    PHASE_READ = 0, /* on the pool: the rules and the facts */
    PHASE_ENGINE,
    PHASE_DNSBL,
};

struct spam_check {
    struct workq_job job; /* first */
    struct proxy_worker *w;
    const struct svclog_ctx *log;
    struct spam_check_input in;
    int fd; /* our duplicate of the spool */
    spam_check_fn *cb;
    void *arg;
    enum phase phase;
    bool cancelled;
    uint64_t start_ms;
    /* filled by the pool thread */
    int read_errno;
    unsigned nrelay; /* the facts the DNS lists need, copied from the thread's memory */
    char relay[SPAM_RELAY_MAX][RECEIVED_ADDR_MAX];
    struct url_hosts hosts;
    struct spam_match_result match;
    struct spam_check_result res;
    /* in flight on the loop */
    struct spam_engine_req *engine;
    struct spam_dnsbl_req *dnsbl;
};

const char *spam_check_method_name(enum spam_check_method m)
{
    static const char *const names[] = {"none", "custom", "engine", "rbl", "surbl"};
    return (unsigned)m < sizeof(names) / sizeof(names[0]) ? names[m] : "?";
}

static struct spam_check_pool *pool_get(struct proxy_worker *w)
{
    if (w->spam_pool)
        return w->spam_pool;
    struct spam_check_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->q = workq_new(w->loop, SPAM_CHECK_THREADS, SPAM_CHECK_QUEUE_MAX);
    if (!p->q) {
        free(p);
        return NULL;
    }
    w->spam_pool = p;
    return p;
}

void spam_check_pool_free(struct proxy_worker *w)
{
    struct spam_check_pool *p = w->spam_pool;
    if (!p)
        return;
    workq_free(p->q, 1000);
    spam_dnsbl_free(p->dnsbl);
    free(p);
    w->spam_pool = NULL;
}

static void release(struct spam_check *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static void finish(struct spam_check *c)
{
    c->res.ms = ev_now_ms(c->w->loop) - c->start_ms;
    spam_check_fn *cb = c->cb;
    void *arg = c->arg;
    struct spam_check_result res = c->res;
    release(c);
    cb(arg, &res);
}

/* ---- 1. on a pool thread: the mail read once ------------------------------ */

/* Per pool thread, reused mail after mail: the matcher's working memory
 * (about 300 KiB) and a buffer for small messages. Allocating them per
 * mail cost more than the match itself: blocks this size are mmapped
 * (lib/memtune fixes the threshold), and unmapping them (like unmapping
 * a message mapping) interrupts every CPU that runs the worker's threads
 * to flush its TLB - measured at about 0.5 ms of CPU per mail on the
 * bench's 81 KB mails. Freed with the thread (the key's destructor). */
struct thread_mem {
    struct spam_mail_facts facts;
    char msg[PROXY_MAIL_SCAN_COPY_MAX];
};
static pthread_key_t mem_key;
static pthread_once_t mem_once = PTHREAD_ONCE_INIT;

static void mem_key_create(void)
{
    if (pthread_key_create(&mem_key, free) != 0)
        abort(); /* only when the process is out of keys: a programming error */
}

static struct thread_mem *thread_mem(void)
{
    pthread_once(&mem_once, mem_key_create);
    struct thread_mem *m = pthread_getspecific(mem_key);
    if (!m && (m = malloc(sizeof(*m))) != NULL && pthread_setspecific(mem_key, m) != 0) {
        free(m);
        m = NULL;
    }
    return m;
}

/* read_message - the whole message: read into buf when it fits (no
 * mapping to tear down), else mapped. NULL with errno. */
static const char *read_message(int fd, uint64_t len, char *buf, bool *mapped)
{
    *mapped = false;
    if (len <= PROXY_MAIL_SCAN_COPY_MAX)
        return spoolfile_read_at(fd, buf, (size_t)len, 0) == 0 ? buf : NULL;
    void *msg = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (msg == MAP_FAILED)
        return NULL;
    *mapped = true;
    return msg;
}

static void run_read(struct workq_job *j)
{
    struct spam_check *c = (struct spam_check *)j;
    const struct spam_rules *rules = c->w->res->spam_rules;
    struct thread_mem *m = thread_mem();
    bool mapped = false;
    const char *msg = m ? read_message(c->fd, c->in.len, m->msg, &mapped) : NULL;
    if (!msg) {
        c->read_errno = errno ? errno : ENOMEM;
        return;
    }
    spam_mail_examine(rules->rules, rules->n, msg, (size_t)c->in.len, c->in.client_ip, &m->facts,
                      &c->match);
    /* what the RBL/SURBL step needs, out of the thread's memory */
    c->nrelay = m->facts.nrelay;
    memcpy(c->relay, m->facts.relay, sizeof(c->relay));
    c->hosts = m->facts.hosts;
    /* the Subject field's place, for change_subject (the header block is
     * at the start; its length is at most the message's) */
    mail_subject_find(msg, (size_t)c->in.len, &c->res.subject);
    if (c->res.subject.found) {
        c->res.subject_value_off = (uint64_t)(c->res.subject.value.ptr - msg);
        c->res.subject_value_len = c->res.subject.value.len;
    }
    c->res.subject.value = str_make(NULL, 0); /* a view into the message, about to go */
    if (mapped)
        munmap((void *)msg, (size_t)c->in.len);
}

static void start_engine(struct spam_check *c);
static void start_dnsbl(struct spam_check *c);

static void read_done(struct workq_job *j)
{
    struct spam_check *c = (struct spam_check *)j;
    if (c->cancelled) {
        release(c);
        return;
    }
    if (c->read_errno) {
        c->res.error = true;
        snprintf(c->res.note, sizeof(c->res.note), "cannot map the spooled message: %s",
                 strerror(c->read_errno));
        finish(c);
        return;
    }
    if (c->match.verdict == SPAM_MATCH_BLACK || c->match.verdict == SPAM_MATCH_WHITE) {
        c->res.method = SPAM_METHOD_CUSTOM;
        c->res.spam = c->match.verdict == SPAM_MATCH_BLACK;
        c->res.white = !c->res.spam;
        if (c->res.spam)
            str_copy(c->res.name, sizeof(c->res.name), c->match.name);
        finish(c);
        return;
    }
    start_engine(c);
}

/* ---- 2. the engine ---------------------------------------------------------- */

static void on_engine(void *arg, const struct spam_engine_result *r)
{
    struct spam_check *c = arg;
    c->engine = NULL;
    if (r->verdict == SPAM_ENGINE_SPAM) {
        c->res.spam = true;
        c->res.method = SPAM_METHOD_ENGINE;
        str_copy(c->res.name, sizeof(c->res.name), r->name);
        finish(c);
        return;
    }
    if (r->verdict == SPAM_ENGINE_ERROR)
        /* LOG-E23: the engine is not there; the mail goes on unclassified. */
        svclog_error(c->log,
                     "spam_engine_open_session(%s) failed: %s (mail not classified by the engine)",
                     c->w->cfg->spam_engine_server, r->error);
    else if (r->verdict == SPAM_ENGINE_SKIPPED)
        svclog_info(c->log, "spam engine skipped: %s", r->error);
    start_dnsbl(c);
}

static void start_engine(struct spam_check *c)
{
    const struct config *cfg = c->w->cfg;
    if (!cfg->spam_commtouch) {
        start_dnsbl(c);
        return;
    }
    struct spam_engine_target t;
    char err[160];
    if (spam_engine_target_parse(cfg->spam_engine_server, &t, err, sizeof(err)) < 0) {
        /* the loader checked the syntax; a path too long for sun_path is all that is left */
        svclog_error(c->log, "spam engine %s: %s", cfg->spam_engine_server, err);
        start_dnsbl(c);
        return;
    }
    const struct spam_engine_meta meta = {
        .client_ip = c->in.client_ip,
        .helo = c->in.helo,
        .from = c->in.mail_from,
        .user = c->in.user,
        .hostname = c->in.client_host,
        .queue_id = c->in.queue_id,
        .rcpt = c->in.rcpt,
        .nrcpt = c->in.nrcpt,
    };
    c->phase = PHASE_ENGINE;
    c->engine = spam_engine_check(c->w->loop, &t, cfg->spam_engine_timeout * 1000u, c->fd,
                                  c->in.len, &meta, on_engine, c);
    if (!c->engine) {
        svclog_error(c->log,
                     "spam_engine_open_session(%s) failed: %s (mail not classified by the engine)",
                     cfg->spam_engine_server, strerror(errno));
        start_dnsbl(c);
    }
}

/* ---- 3, 4. RBL and SURBL ------------------------------------------------------ */

static void on_dnsbl(void *arg, const struct spam_dnsbl_result *r)
{
    struct spam_check *c = arg;
    c->dnsbl = NULL;
    if (r->listed) {
        c->res.spam = true;
        c->res.method =
            strncmp(r->name, "SEKISHO/SPAM_RBL/", 17) == 0 ? SPAM_METHOD_RBL : SPAM_METHOD_SURBL;
        str_copy(c->res.name, sizeof(c->res.name), r->name);
    }
    if (r->timeouts)
        svclog_error(c->log,
                     "RBL/SURBL: %u of %u queries had no answer within 1 s (taken as not "
                     "listed)",
                     r->timeouts, r->rbl_queries + r->surbl_queries);
    if (r->note[0])
        svclog_info(c->log, "RBL/SURBL: %s", r->note);
    finish(c);
}

static void start_dnsbl(struct spam_check *c)
{
    const struct config *cfg = c->w->cfg;
    const char *addrs[SPAM_RELAY_MAX], *rbl[64], *surbl[64], *hosts[URL_HOSTS_MAX];
    unsigned naddrs = 0, nrbl = 0, nsurbl = 0, nhosts = 0;
    if (cfg->spam_rbl) {
        for (unsigned i = 0; i < c->nrelay; i++)
            if (!access_match(c->w->res->acl, "spam_rbl_pass", c->relay[i], NULL))
                addrs[naddrs++] = c->relay[i];
        for (size_t i = 0; i < cfg->spam_rbl_list.count && nrbl < 64; i++)
            rbl[nrbl++] = cfg->spam_rbl_list.items[i].ptr;
    }
    if (cfg->spam_surbl) {
        for (size_t i = 0; i < c->hosts.n; i++)
            hosts[nhosts++] = c->hosts.host[i];
        for (size_t i = 0; i < cfg->spam_surbl_list.count && nsurbl < 64; i++)
            surbl[nsurbl++] = cfg->spam_surbl_list.items[i].ptr;
    }
    if ((naddrs == 0 || nrbl == 0) && (nhosts == 0 || nsurbl == 0)) {
        finish(c);
        return;
    }
    struct spam_check_pool *p = c->w->spam_pool;
    if (!p->dnsbl) {
        char servers[512] = "";
        size_t off = 0;
        for (size_t i = 0; i < cfg->spam_dns_server.count; i++)
            off +=
                (size_t)snprintf(servers + off, off < sizeof(servers) ? sizeof(servers) - off : 0,
                                 "%s%.*s", i ? "," : "", (int)cfg->spam_dns_server.items[i].len,
                                 cfg->spam_dns_server.items[i].ptr);
        p->dnsbl = spam_dnsbl_new(c->w->loop, servers);
        if (!p->dnsbl) {
            svclog_error(c->log,
                         "RBL/SURBL: cannot set up the resolver: %s (mail not "
                         "classified by RBL/SURBL)",
                         strerror(errno));
            finish(c);
            return;
        }
    }
    const struct spam_dnsbl_query_set q = {
        .addrs = addrs,
        .naddrs = naddrs,
        .rbl_zones = rbl,
        .nrbl = nrbl,
        .domains = hosts,
        .ndomains = nhosts,
        .surbl_zones = surbl,
        .nsurbl = nsurbl,
    };
    c->phase = PHASE_DNSBL;
    c->dnsbl = spam_dnsbl_check(p->dnsbl, &q, on_dnsbl, c);
    if (!c->dnsbl) {
        svclog_error(c->log, "RBL/SURBL: %s (mail not classified by RBL/SURBL)", strerror(errno));
        finish(c);
    }
}

enum accesslog_action spam_check_action(enum config_spam_action a)
{
    switch (a) {
    case CONFIG_SPAM_ACTION_CHANGE_SUBJECT:
        return ACCESSLOG_ACTION_CHANGE_SUBJECT;
    case CONFIG_SPAM_ACTION_BLACKHOLE:
        return ACCESSLOG_ACTION_BLACKHOLE;
    case CONFIG_SPAM_ACTION_PASS:
        break;
    }
    return ACCESSLOG_ACTION_PASS;
}

bool spam_check_subject_skip(const struct spam_check_result *r, struct proxy_spool_skip *skip)
{
    *skip = (struct proxy_spool_skip){0, 0};
    if (!r->subject.found)
        return true;
    if (r->subject_value_len > SPAM_SUBJECT_MAX)
        return false;
    *skip = (struct proxy_spool_skip){r->subject.start, r->subject.end};
    return true;
}

bool spam_check_new_subject(int spool_fd, const struct spam_check_result *r, const char *prefix,
                            struct buf *out)
{
    static char old[SPAM_SUBJECT_MAX]; /* a worker is one thread */
    size_t n = r->subject.found ? r->subject_value_len : 0;
    if (n > sizeof(old)) {
        errno = EFBIG;
        return false;
    }
    if (n > 0 && spoolfile_read_at(spool_fd, old, n, (off_t)r->subject_value_off) < 0)
        return false;
    if (!mail_subject_prefixed(str_from_cstr(prefix), str_make(old, n), out)) {
        errno = ENOSPC;
        return false;
    }
    return true;
}

/* ---- start and cancel -------------------------------------------------------- */

struct spam_check *spam_check_start(struct proxy_worker *w, const struct spam_check_input *in,
                                    const struct svclog_ctx *log, spam_check_fn *cb, void *arg)
{
    struct spam_check_pool *p = pool_get(w);
    if (!p)
        return NULL;
    struct spam_check *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fcntl(in->spool_fd, F_DUPFD_CLOEXEC, 0);
    if (c->fd < 0) {
        int e = errno;
        release(c);
        errno = e;
        return NULL;
    }
    c->w = w;
    c->log = log;
    c->in = *in;
    c->cb = cb;
    c->arg = arg;
    c->start_ms = ev_now_ms(w->loop);
    c->job.run = run_read;
    c->job.done = read_done;
    if (workq_submit(p->q, &c->job) < 0) {
        int e = errno;
        release(c);
        errno = e;
        return NULL;
    }
    return c;
}

void spam_check_cancel(struct spam_check *c)
{
    if (!c)
        return;
    if (c->phase == PHASE_READ) {
        /* read_done frees it, later, on the loop */
        c->cancelled = true;
        workq_cancel(c->w->spam_pool->q, &c->job);
        return;
    }
    if (c->engine)
        spam_engine_cancel(c->engine);
    if (c->dnsbl)
        spam_dnsbl_cancel(c->dnsbl);
    release(c);
}
