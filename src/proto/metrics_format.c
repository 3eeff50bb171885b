/* metrics_format - see metrics_format.h. */
#include "proto/metrics_format.h"

#include <inttypes.h>
#include <string.h>

enum family_kind { FAMILY_GAUGE, FAMILY_COUNTER };

/* Which number of a service a family shows. */
enum family_value {
    VALUE_UP,
    VALUE_START,
    VALUE_CONNECTIONS,
    VALUE_REQUESTS,
    VALUE_DETECTIONS,
    VALUE_SPAM,
    VALUE_SCANS,
    VALUE_CACHE_HITS,
    VALUE_CACHE_MISSES,
    VALUE_HASH_SECONDS,
    VALUE_SESSIONS
};

struct family {
    const char *name; /* without _total */
    enum family_kind kind;
    const char *unit; /* NULL = none */
    const char *help;
    enum family_value value;
};

static const struct family families[] = {
    {"sekisho_up", FAMILY_GAUGE, NULL, "Whether the service's master process runs (1) or not (0).",
     VALUE_UP},
    {"sekisho_start_time_seconds", FAMILY_GAUGE, "seconds",
     "When the service started (Unix time); its counters count from then.", VALUE_START},
    {"sekisho_connections", FAMILY_COUNTER, NULL, "Client connections accepted as sessions.",
     VALUE_CONNECTIONS},
    {"sekisho_requests", FAMILY_COUNTER, NULL,
     "Transactions logged: HTTP requests, SMTP mails, POP3 retrievals, FTP transfers.",
     VALUE_REQUESTS},
    {"sekisho_detections", FAMILY_COUNTER, NULL, "Transactions in which a virus was detected.",
     VALUE_DETECTIONS},
    {"sekisho_spam", FAMILY_COUNTER, NULL, "Mails classified as spam.", VALUE_SPAM},
    {"sekisho_scans", FAMILY_COUNTER, NULL, "Objects sent to sekisho-scand to be scanned.",
     VALUE_SCANS},
    {"sekisho_verdict_cache_hits", FAMILY_COUNTER, NULL,
     "Scans the workers' verdict caches made unnecessary (the same content scanned clean "
     "before).",
     VALUE_CACHE_HITS},
    {"sekisho_verdict_cache_misses", FAMILY_COUNTER, NULL,
     "Objects looked up in the verdict caches in vain, then scanned.", VALUE_CACHE_MISSES},
    {"sekisho_verdict_cache_hash_seconds", FAMILY_COUNTER, "seconds",
     "Time spent computing verdict-cache keys (SHA-256): the caches' cost, paid on hits and "
     "misses alike.",
     VALUE_HASH_SECONDS},
    {"sekisho_sessions", FAMILY_GAUGE, NULL, "Client sessions open now.", VALUE_SESSIONS},
};

/* label_value - name escaped as an OpenMetrics label value. */
static bool label_value(struct buf *b, const char *name)
{
    for (const char *p = name; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        if (!(esc ? buf_append_cstr(b, esc) : buf_append(b, p, 1)))
            return false;
    }
    return true;
}

static bool sample(struct buf *b, const struct family *f, const struct metrics_service *s)
{
    if (!s->known && f->value != VALUE_UP)
        return true; /* nothing known but that it does not run */
    uint64_t v = 0;
    switch (f->value) {
    case VALUE_UP:
        v = s->up ? 1 : 0;
        break;
    case VALUE_START:
        break; /* signed: printed below */
    case VALUE_CONNECTIONS:
        v = s->connections;
        break;
    case VALUE_REQUESTS:
        v = s->requests;
        break;
    case VALUE_DETECTIONS:
        v = s->detections;
        break;
    case VALUE_SPAM:
        v = s->spam;
        break;
    case VALUE_SCANS:
        v = s->scans;
        break;
    case VALUE_CACHE_HITS:
        v = s->cache_hits;
        break;
    case VALUE_CACHE_MISSES:
        v = s->cache_misses;
        break;
    case VALUE_HASH_SECONDS:
        break; /* seconds with a fraction: printed below */
    case VALUE_SESSIONS:
        v = s->up ? s->sessions : 0;
        break;
    }
    if (!buf_printf(b, "%s%s{service=\"", f->name, f->kind == FAMILY_COUNTER ? "_total" : "") ||
        !label_value(b, s->name))
        return false;
    if (f->value == VALUE_START)
        return buf_printf(b, "\"} %" PRId64 "\n", s->start_time);
    if (f->value == VALUE_HASH_SECONDS)
        return buf_printf(b, "\"} %" PRIu64 ".%09" PRIu64 "\n", s->hash_ns / 1000000000u,
                          s->hash_ns % 1000000000u);
    return buf_printf(b, "\"} %" PRIu64 "\n", v);
}

bool metrics_format(struct buf *b, const struct metrics_service *svcs, size_t n)
{
    if (n > METRICS_SERVICES_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!svcs[i].name || !*svcs[i].name)
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(svcs[i].name, svcs[j].name) == 0)
                return false; /* two samples with one label set: not OpenMetrics */
    }
    size_t mark = b->wpos;
    bool ok = true;
    for (size_t f = 0; ok && f < sizeof(families) / sizeof(families[0]); f++) {
        const struct family *fam = &families[f];
        ok = buf_printf(b, "# TYPE %s %s\n", fam->name,
                        fam->kind == FAMILY_COUNTER ? "counter" : "gauge") &&
             (!fam->unit || buf_printf(b, "# UNIT %s %s\n", fam->name, fam->unit)) &&
             buf_printf(b, "# HELP %s %s\n", fam->name, fam->help);
        for (size_t i = 0; ok && i < n; i++)
            ok = sample(b, fam, &svcs[i]);
    }
    ok = ok && buf_append_cstr(b, "# EOF\n");
    if (!ok)
        b->wpos = mark;
    return ok;
}
