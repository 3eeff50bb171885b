/* dnsbl_probe - drive proxy/spam_dnsbl from the command line, for
 * tests/integration/test_dnsbl_resolver.py (against a real unbound).
 *
 *   dnsbl_probe [--server ADDR[:PORT],...] [--rbl ZONE,...] [--surbl ZONE,...]
 *               [--addr ADDR,...] [--domain HOST,...] [--rounds N] [--gap-ms MS]
 *
 * Runs the same check N times (default 1) with one struct spam_dnsbl, so
 * that later rounds see the answer cache; MS milliseconds of the event
 * loop between rounds (a timer: the loop keeps turning). Prints one JSON
 * object per round with the result's fields and the cache's entry count.
 * Exits 0, 2 on bad usage or setup, 3 when a promise of the interface is
 * broken (a callback before spam_dnsbl_check returned, or twice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ev.h"
#include "proxy/spam_dnsbl.h"

#define LIST_MAX 256

struct list {
    const char *v[LIST_MAX];
    unsigned n;
};

static struct ev_loop *loop;
static struct spam_dnsbl *dnsbl;
static struct spam_dnsbl_query_set qs;
static unsigned rounds = 1, round_no, gap_ms;
static int returned, calls;
static struct ev_timer gap;

static void split(char *s, struct list *l)
{
    char *save = NULL;
    for (char *t = strtok_r(s, ",", &save); t && l->n < LIST_MAX; t = strtok_r(NULL, ",", &save))
        l->v[l->n++] = t;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void start_round(void);

static void on_gap(struct ev_loop *l, struct ev_timer *t)
{
    (void)l;
    (void)t;
    start_round();
}

static void on_result(void *arg, const struct spam_dnsbl_result *r)
{
    (void)arg;
    if (!returned || ++calls > 1) {
        fprintf(stderr, "dnsbl_probe: callback %s\n", returned ? "ran twice" : "before return");
        exit(3);
    }
    struct dnsbl_cache_stats st = spam_dnsbl_cache_stats(dnsbl);
    printf("{\"round\": %u, \"listed\": %s, \"name\": ", round_no, r->listed ? "true" : "false");
    json_str(r->name);
    printf(", \"rbl_queries\": %u, \"surbl_queries\": %u, \"cached\": %u, \"timeouts\": %u, "
           "\"refused\": %u, \"unexpected\": %u, \"skipped\": %u, \"failed\": %u, "
           "\"cache_entries\": %u, \"note\": ",
           r->rbl_queries, r->surbl_queries, r->cached, r->timeouts, r->refused, r->unexpected,
           r->skipped, r->failed, st.entries);
    json_str(r->note);
    printf("}\n");
    fflush(stdout);
    if (round_no >= rounds)
        ev_break(loop);
    else
        ev_timer_start(loop, &gap, gap_ms);
}

static void start_round(void)
{
    round_no++;
    returned = 0;
    calls = 0;
    struct spam_dnsbl_req *r = spam_dnsbl_check(dnsbl, &qs, on_result, NULL);
    returned = 1;
    if (!r) {
        fprintf(stderr, "dnsbl_probe: spam_dnsbl_check: no memory\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    static struct list addrs, domains, rbl, surbl;
    const char *server = "";
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            fprintf(stderr, "dnsbl_probe: %s needs a value\n", argv[i]);
            return 2;
        }
        char *v = argv[++i];
        const char *opt = argv[i - 1];
        if (strcmp(opt, "--server") == 0)
            server = v;
        else if (strcmp(opt, "--rbl") == 0)
            split(v, &rbl);
        else if (strcmp(opt, "--surbl") == 0)
            split(v, &surbl);
        else if (strcmp(opt, "--addr") == 0)
            split(v, &addrs);
        else if (strcmp(opt, "--domain") == 0)
            split(v, &domains);
        else if (strcmp(opt, "--rounds") == 0)
            rounds = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(opt, "--gap-ms") == 0)
            gap_ms = (unsigned)strtoul(v, NULL, 10);
        else {
            fprintf(stderr, "dnsbl_probe: unknown option %s\n", opt);
            return 2;
        }
    }
    qs = (struct spam_dnsbl_query_set){addrs.v,   addrs.n,   rbl.v,   rbl.n,
                                       domains.v, domains.n, surbl.v, surbl.n};
    loop = ev_loop_new();
    if (!loop)
        return 2;
    dnsbl = spam_dnsbl_new(loop, server);
    if (!dnsbl) {
        fprintf(stderr, "dnsbl_probe: cannot set up the resolver for '%s'\n", server);
        return 2;
    }
    ev_timer_init(&gap, on_gap, NULL);
    if (rounds == 0)
        rounds = 1;
    start_round();
    int rc = ev_run(loop);
    spam_dnsbl_free(dnsbl);
    ev_loop_free(loop);
    return rc < 0 ? 2 : 0;
}
