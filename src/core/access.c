/* access - the compiled access-control table of conf/hosts.allow.
 *
 * Compilation: every rule (one logical line) is a chain of groups
 * `g0 EXCEPT g1 EXCEPT ... gn`; a group is an OR of patterns, kept as
 * sorted arrays (exact IPv4/IPv6 addresses, lowercase names and domain
 * suffixes) plus short linear lists (networks, name prefixes, wildcards).
 * Rules without EXCEPT are all merged into one "simple" group per field,
 * since lines of one field are alternatives. List files are expanded into
 * the group that references them: tcpd's hostfile_match() is an OR of the
 * file's patterns.
 *
 * Matching follows tcpd's list_match(): `g0 EXCEPT rest` matches when g0
 * matches and rest does not, so a chain matches iff the number of leading
 * groups that match is odd.
 *
 * Owns the table; reads files only while loading; no DNS, no logging
 * beyond the diag stream given to the load functions.
 */
#include "core/access.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file_read.h"
#include "lib/str.h"

/* Group flags: the keyword patterns. */
#define ACCESS_GF_ALL     (1u << 0) /* ALL */
#define ACCESS_GF_KNOWN   (1u << 1) /* KNOWN */
#define ACCESS_GF_UNKNOWN (1u << 2) /* UNKNOWN */
#define ACCESS_GF_LOCAL   (1u << 3) /* LOCAL */

struct vec {
    char *items;
    size_t len;
    size_t cap;
};

struct net4 {
    uint32_t net;
    uint32_t mask;
};

struct net6 {
    uint8_t net[16];
    unsigned prefix;
};

struct access_group {
    unsigned flags;
    struct vec ip4;      /* uint32_t, sorted, unique */
    struct vec net4;     /* struct net4 */
    struct vec ip6;      /* uint8_t[16], sorted, unique */
    struct vec net6;     /* struct net6 */
    struct vec names;    /* char *, lowercase, sorted, unique */
    struct vec suffixes; /* char * ".domain", lowercase, sorted, unique */
    struct vec prefixes; /* char * "www.", lowercase */
    struct vec wild;     /* char *, lowercase */
};

struct access_rule {
    struct access_group *groups; /* groups[0] EXCEPT groups[1] EXCEPT ... */
    size_t n_groups;
};

struct access_field {
    bool present;
    size_t patterns;
    struct access_group simple; /* every rule without EXCEPT, merged */
    struct vec rules;           /* struct access_rule */
};

struct access_table {
    struct access_field fields[HOSTS_ALLOW_FIELD_COUNT];
};

/* ---- small containers ---- */

static void *vec_push(struct vec *v, size_t elem)
{
    if (v->len == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 8;
        if (ncap > SIZE_MAX / elem)
            return NULL;
        char *n = realloc(v->items, ncap * elem);
        if (!n)
            return NULL;
        v->items = n;
        v->cap = ncap;
    }
    return v->items + elem * v->len++;
}

static void vec_free_strings(struct vec *v)
{
    char **s = (char **)(void *)v->items;
    for (size_t i = 0; i < v->len; i++)
        free(s[i]);
}

static void vec_fini(struct vec *v)
{
    free(v->items);
    memset(v, 0, sizeof(*v));
}

static void group_fini(struct access_group *g)
{
    vec_free_strings(&g->names);
    vec_free_strings(&g->suffixes);
    vec_free_strings(&g->prefixes);
    vec_free_strings(&g->wild);
    vec_fini(&g->ip4);
    vec_fini(&g->net4);
    vec_fini(&g->ip6);
    vec_fini(&g->net6);
    vec_fini(&g->names);
    vec_fini(&g->suffixes);
    vec_fini(&g->prefixes);
    vec_fini(&g->wild);
    g->flags = 0;
}

static void field_fini(struct access_field *f)
{
    struct access_rule *r = (struct access_rule *)(void *)f->rules.items;
    for (size_t i = 0; i < f->rules.len; i++) {
        for (size_t j = 0; j < r[i].n_groups; j++)
            group_fini(&r[i].groups[j]);
        free(r[i].groups);
    }
    vec_fini(&f->rules);
    group_fini(&f->simple);
    memset(f, 0, sizeof(*f));
}

static int ascii_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static char *lower_dup(struct str s)
{
    char *d = malloc(s.len + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < s.len; i++)
        d[i] = (char)ascii_lower((unsigned char)s.ptr[i]);
    d[s.len] = '\0';
    return d;
}

static bool push_string(struct vec *v, const char *s)
{
    char *d = lower_dup(str_from_cstr(s));
    char **slot = d ? vec_push(v, sizeof(char *)) : NULL;
    if (!slot) {
        free(d);
        return false;
    }
    *slot = d;
    return true;
}

static bool push_bytes(struct vec *v, const void *p, size_t elem)
{
    void *slot = vec_push(v, elem);
    if (!slot)
        return false;
    memcpy(slot, p, elem);
    return true;
}

/* group_append - add every pattern of src to dst (deep copy). */
static bool group_append(struct access_group *dst, const struct access_group *src)
{
    const struct vec *sv[] = {&src->names, &src->suffixes, &src->prefixes, &src->wild};
    struct vec *dv[] = {&dst->names, &dst->suffixes, &dst->prefixes, &dst->wild};
    const struct vec *bs[] = {&src->ip4, &src->net4, &src->ip6, &src->net6};
    struct vec *bd[] = {&dst->ip4, &dst->net4, &dst->ip6, &dst->net6};
    const size_t bsz[] = {sizeof(uint32_t), sizeof(struct net4), 16, sizeof(struct net6)};

    dst->flags |= src->flags;
    for (size_t k = 0; k < 4; k++) {
        char **s = (char **)(void *)sv[k]->items;
        for (size_t i = 0; i < sv[k]->len; i++) {
            if (!push_string(dv[k], s[i]))
                return false;
        }
        for (size_t i = 0; i < bs[k]->len; i++) {
            if (!push_bytes(bd[k], bs[k]->items + i * bsz[k], bsz[k]))
                return false;
        }
    }
    return true;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_ip6(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void sort_unique(struct vec *v, size_t elem, int (*cmp)(const void *, const void *),
                        bool strings)
{
    if (v->len < 2)
        return;
    qsort(v->items, v->len, elem, cmp);
    size_t out = 1;
    for (size_t i = 1; i < v->len; i++) {
        char *cur = v->items + i * elem;
        if (cmp(cur, v->items + (out - 1) * elem) == 0) {
            if (strings)
                free(*(char **)(void *)cur);
            continue;
        }
        if (out != i)
            memcpy(v->items + out * elem, cur, elem);
        out++;
    }
    v->len = out;
}

static void group_finalize(struct access_group *g)
{
    sort_unique(&g->ip4, sizeof(uint32_t), cmp_u32, false);
    sort_unique(&g->ip6, 16, cmp_ip6, false);
    sort_unique(&g->names, sizeof(char *), cmp_strp, true);
    sort_unique(&g->suffixes, sizeof(char *), cmp_strp, true);
}

/* ---- loading ---- */

struct builder {
    struct access_table *t;
    FILE *diag;
    const char *name; /* file (or origin) named in messages */
    unsigned errors;
    unsigned list_files;
    size_t patterns;
    bool stop; /* too many errors, too many patterns or out of memory */
    /* the rule being built */
    bool rule_open;
    bool rule_bad;
    unsigned rule_fields;
    unsigned rule_line;
    size_t n_groups;
    struct access_group groups[ACCESS_EXCEPT_MAX + 1];
};

static void report(struct builder *b, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(struct builder *b, const char *file, unsigned line, const char *fmt, ...)
{
    if (b->stop)
        return;
    if (b->diag) {
        va_list ap;
        if (line)
            fprintf(b->diag, "%s:%u: ", file, line);
        else
            fprintf(b->diag, "%s: ", file);
        va_start(ap, fmt);
        vfprintf(b->diag, fmt, ap);
        va_end(ap);
        fputc('\n', b->diag);
    }
    if (++b->errors >= ACCESS_ERRORS_MAX) {
        if (b->diag)
            fprintf(b->diag, "%s: too many errors, giving up\n", b->name);
        b->stop = true;
    }
}

static void out_of_memory(struct builder *b)
{
    report(b, b->name, 0, "out of memory");
    b->stop = true;
    b->errors++;
}

static void rule_discard(struct builder *b)
{
    for (size_t i = 0; i < b->n_groups; i++)
        group_fini(&b->groups[i]);
    b->n_groups = 0;
    b->rule_open = false;
    b->rule_bad = false;
}

static void rule_begin(struct builder *b, unsigned fields, unsigned line)
{
    rule_discard(b);
    b->rule_open = true;
    b->rule_fields = fields;
    b->rule_line = line;
    b->n_groups = 1;
}

/* rule_end - file the rule under each of its fields. */
static void rule_end(struct builder *b)
{
    if (!b->rule_open)
        return;
    if (b->rule_bad || b->stop) {
        rule_discard(b);
        return;
    }
    for (unsigned f = 0; f < HOSTS_ALLOW_FIELD_COUNT; f++) {
        if (!(b->rule_fields & (1u << f)))
            continue;
        struct access_field *fld = &b->t->fields[f];
        fld->present = true;
        if (b->n_groups == 1) {
            if (!group_append(&fld->simple, &b->groups[0]))
                goto oom;
            continue;
        }
        struct access_rule *r = vec_push(&fld->rules, sizeof(*r));
        if (!r)
            goto oom;
        r->n_groups = 0;
        r->groups = calloc(b->n_groups, sizeof(*r->groups));
        if (!r->groups) {
            fld->rules.len--;
            goto oom;
        }
        r->n_groups = b->n_groups;
        for (size_t i = 0; i < b->n_groups; i++) {
            if (!group_append(&r->groups[i], &b->groups[i]))
                goto oom;
        }
    }
    rule_discard(b);
    return;
oom:
    rule_discard(b);
    out_of_memory(b);
}

/* group_add - put one classified, non-EXCEPT, non-FILE pattern in g. */
static bool group_add(struct access_group *g, const struct hosts_allow_pattern *pat)
{
    char buf[HOSTS_ALLOW_NAME_MAX + 1];

    switch (pat->kind) {
    case HOSTS_ALLOW_PAT_ALL:
        g->flags |= ACCESS_GF_ALL;
        return true;
    case HOSTS_ALLOW_PAT_KNOWN:
        g->flags |= ACCESS_GF_KNOWN;
        return true;
    case HOSTS_ALLOW_PAT_UNKNOWN:
        g->flags |= ACCESS_GF_UNKNOWN;
        return true;
    case HOSTS_ALLOW_PAT_LOCAL:
        g->flags |= ACCESS_GF_LOCAL;
        return true;
    case HOSTS_ALLOW_PAT_IP4:
        return push_bytes(&g->ip4, &pat->ip4, sizeof(uint32_t));
    case HOSTS_ALLOW_PAT_IP4_NET: {
        if (pat->ip4_mask == 0xffffffffu) /* "/32" is one address */
            return push_bytes(&g->ip4, &pat->ip4, sizeof(uint32_t));
        struct net4 n = {pat->ip4, pat->ip4_mask};
        return push_bytes(&g->net4, &n, sizeof(n));
    }
    case HOSTS_ALLOW_PAT_IP6:
        return push_bytes(&g->ip6, pat->ip6, 16);
    case HOSTS_ALLOW_PAT_IP6_NET: {
        struct net6 n;
        memcpy(n.net, pat->ip6, 16);
        n.prefix = pat->ip6_prefix;
        return push_bytes(&g->net6, &n, sizeof(n));
    }
    case HOSTS_ALLOW_PAT_NAME:
    case HOSTS_ALLOW_PAT_SUFFIX:
    case HOSTS_ALLOW_PAT_NAME_PREFIX:
    case HOSTS_ALLOW_PAT_WILDCARD: {
        struct vec *v = pat->kind == HOSTS_ALLOW_PAT_NAME          ? &g->names
                        : pat->kind == HOSTS_ALLOW_PAT_SUFFIX      ? &g->suffixes
                        : pat->kind == HOSTS_ALLOW_PAT_NAME_PREFIX ? &g->prefixes
                                                                   : &g->wild;
        str_copy_view(buf, sizeof(buf), pat->text);
        return push_string(v, buf);
    }
    case HOSTS_ALLOW_PAT_EXCEPT:
    case HOSTS_ALLOW_PAT_FILE:
        break;
    }
    return false;
}

static bool count_pattern(struct builder *b, const char *file, unsigned line)
{
    if (++b->patterns > ACCESS_PATTERNS_MAX) {
        report(b, file, line, "more than %u patterns", ACCESS_PATTERNS_MAX);
        b->stop = true;
        return false;
    }
    return true;
}

/* add_list_file - expand a /path pattern into the current group. */
static void add_list_file(struct builder *b, struct str path_view, unsigned ref_line)
{
    char path[HOSTS_ALLOW_TOKEN_MAX + 1];
    char err[128];
    size_t len;

    str_copy_view(path, sizeof(path), path_view);
    if (++b->list_files > ACCESS_LIST_FILES_MAX) {
        report(b, b->name, ref_line, "more than %d list file references", ACCESS_LIST_FILES_MAX);
        b->rule_bad = true;
        return;
    }
    char *text = file_read_all(path, ACCESS_LIST_FILE_MAX, &len, err, sizeof(err));
    if (!text) {
        report(b, b->name, ref_line, "cannot read list file %s: %s", path, err);
        b->rule_bad = true;
        return;
    }

    struct hosts_allow_parser p;
    struct hosts_allow_ev ev;
    struct hosts_allow_pattern pat;
    char reason[HOSTS_ALLOW_REASON_MAX];
    struct access_group *g = &b->groups[b->n_groups - 1];

    hosts_allow_list_init(&p, text, len);
    while (!b->stop && hosts_allow_next(&p, &ev) != HOSTS_ALLOW_EV_END) {
        if (ev.type == HOSTS_ALLOW_EV_ERROR) {
            report(b, path, ev.line, "%s (list file used at %s:%u)", ev.reason, b->name, ref_line);
            b->rule_bad = true;
            continue;
        }
        if (ev.type != HOSTS_ALLOW_EV_PATTERN)
            continue;
        if (!hosts_allow_pattern_parse(ev.token, &pat, reason, sizeof(reason))) {
            report(b, path, ev.line, "%s (list file used at %s:%u)", reason, b->name, ref_line);
            b->rule_bad = true;
            continue;
        }
        if (pat.kind == HOSTS_ALLOW_PAT_EXCEPT || pat.kind == HOSTS_ALLOW_PAT_FILE) {
            report(b, path, ev.line, "%s is not allowed in a list file (list file used at %s:%u)",
                   pat.kind == HOSTS_ALLOW_PAT_EXCEPT ? "EXCEPT" : "a list file reference", b->name,
                   ref_line);
            b->rule_bad = true;
            continue;
        }
        if (!count_pattern(b, path, ev.line))
            break;
        if (!group_add(g, &pat)) {
            out_of_memory(b);
            break;
        }
    }
    free(text);
}

static void add_pattern(struct builder *b, const struct hosts_allow_ev *ev)
{
    struct hosts_allow_pattern pat;
    char reason[HOSTS_ALLOW_REASON_MAX];

    if (!hosts_allow_pattern_parse(ev->token, &pat, reason, sizeof(reason))) {
        report(b, b->name, ev->line, "%s", reason);
        b->rule_bad = true;
        return;
    }
    if (pat.kind == HOSTS_ALLOW_PAT_EXCEPT) {
        if (b->n_groups > ACCESS_EXCEPT_MAX) {
            report(b, b->name, ev->line, "more than %d EXCEPT in one rule", ACCESS_EXCEPT_MAX);
            b->rule_bad = true;
            return;
        }
        b->n_groups++;
        return;
    }
    if (pat.kind == HOSTS_ALLOW_PAT_FILE) {
        add_list_file(b, pat.text, ev->line);
        return;
    }
    if (!count_pattern(b, b->name, ev->line))
        return;
    if (!group_add(&b->groups[b->n_groups - 1], &pat))
        out_of_memory(b);
}

static void field_finalize(struct access_field *f)
{
    size_t n = 0;
    struct access_rule *r = (struct access_rule *)(void *)f->rules.items;
    group_finalize(&f->simple);
    for (size_t i = 0; i < f->rules.len; i++) {
        for (size_t j = 0; j < r[i].n_groups; j++)
            group_finalize(&r[i].groups[j]);
    }
    const struct access_group *gs = &f->simple;
    n += gs->ip4.len + gs->net4.len + gs->ip6.len + gs->net6.len + gs->names.len +
         gs->suffixes.len + gs->prefixes.len + gs->wild.len + (size_t)__builtin_popcount(gs->flags);
    for (size_t i = 0; i < f->rules.len; i++) {
        for (size_t j = 0; j < r[i].n_groups; j++) {
            const struct access_group *g = &r[i].groups[j];
            n += g->ip4.len + g->net4.len + g->ip6.len + g->net6.len + g->names.len +
                 g->suffixes.len + g->prefixes.len + g->wild.len +
                 (size_t)__builtin_popcount(g->flags);
        }
    }
    f->patterns = n;
}

struct access_table *access_table_new(void)
{
    return calloc(1, sizeof(struct access_table));
}

void access_table_free(struct access_table *t)
{
    if (!t)
        return;
    for (unsigned f = 0; f < HOSTS_ALLOW_FIELD_COUNT; f++)
        field_fini(&t->fields[f]);
    free(t);
}

static void builder_init(struct builder *b, struct access_table *t, const char *name, FILE *diag)
{
    memset(b, 0, sizeof(*b));
    b->t = t;
    b->diag = diag;
    b->name = name ? name : "hosts.allow";
}

struct access_table *access_table_from_text(const char *text, size_t len, const char *name,
                                            FILE *diag)
{
    struct builder *b = malloc(sizeof(*b));
    struct access_table *t = access_table_new();
    struct hosts_allow_parser *p = malloc(sizeof(*p));
    struct hosts_allow_ev ev;

    if (!b || !t || !p) {
        if (diag)
            fprintf(diag, "%s: out of memory\n", name ? name : "hosts.allow");
        free(b);
        free(p);
        access_table_free(t);
        return NULL;
    }
    builder_init(b, t, name, diag);
    if (len > ACCESS_FILE_MAX) {
        report(b, b->name, 0, "larger than %u bytes", ACCESS_FILE_MAX);
        b->stop = true;
    }
    hosts_allow_parser_init(p, text, len);
    while (!b->stop && hosts_allow_next(p, &ev) != HOSTS_ALLOW_EV_END) {
        switch (ev.type) {
        case HOSTS_ALLOW_EV_RULE:
            rule_end(b);
            rule_begin(b, ev.fields, ev.line);
            break;
        case HOSTS_ALLOW_EV_PATTERN:
            if (b->rule_open && !b->rule_bad)
                add_pattern(b, &ev);
            break;
        case HOSTS_ALLOW_EV_ERROR:
            report(b, b->name, ev.line, "%s", ev.reason);
            /* The error ends the logical line: a pending rule is void. */
            if (b->rule_open)
                b->rule_bad = true;
            break;
        case HOSTS_ALLOW_EV_END:
            break;
        }
    }
    rule_end(b);
    bool failed = b->errors > 0 || b->stop;
    free(p);
    free(b);
    if (failed) {
        access_table_free(t);
        return NULL;
    }
    for (unsigned f = 0; f < HOSTS_ALLOW_FIELD_COUNT; f++)
        field_finalize(&t->fields[f]);
    return t;
}

struct access_table *access_table_load(const char *path, FILE *diag)
{
    char err[128];
    size_t len;
    char *text = file_read_all(path, ACCESS_FILE_MAX, &len, err, sizeof(err));
    if (!text) {
        if (diag)
            fprintf(diag, "%s: cannot read: %s\n", path, err);
        return NULL;
    }
    struct access_table *t = access_table_from_text(text, len, path, diag);
    free(text);
    return t;
}

int access_table_set_list(struct access_table *t, enum hosts_allow_field f, const char *list,
                          size_t len, const char *origin, FILE *diag)
{
    if (!t || (unsigned)f >= HOSTS_ALLOW_FIELD_COUNT)
        return -1;
    struct access_table *tmp = access_table_new();
    struct builder *b = malloc(sizeof(*b));
    struct hosts_allow_parser *p = malloc(sizeof(*p));
    struct hosts_allow_ev ev;
    if (!tmp || !b || !p) {
        if (diag)
            fprintf(diag, "%s: out of memory\n", origin ? origin : "list");
        free(b);
        free(p);
        access_table_free(tmp);
        return -1;
    }
    builder_init(b, tmp, origin ? origin : "list", diag);
    rule_begin(b, 1u << f, 1);
    hosts_allow_list_init(p, list, list ? len : 0);
    while (!b->stop && hosts_allow_next(p, &ev) != HOSTS_ALLOW_EV_END) {
        if (ev.type == HOSTS_ALLOW_EV_ERROR) {
            report(b, b->name, ev.line, "%s", ev.reason);
            b->rule_bad = true;
        } else if (ev.type == HOSTS_ALLOW_EV_PATTERN && !b->rule_bad) {
            add_pattern(b, &ev);
        }
    }
    rule_end(b);
    bool failed = b->errors > 0 || b->stop;
    free(p);
    free(b);
    if (failed) {
        access_table_free(tmp);
        return -1;
    }
    field_finalize(&tmp->fields[f]);
    field_fini(&t->fields[f]);
    t->fields[f] = tmp->fields[f];
    memset(&tmp->fields[f], 0, sizeof(tmp->fields[f]));
    access_table_free(tmp);
    return 0;
}

static bool field_lookup_cstr(const char *field, enum hosts_allow_field *f)
{
    return field && hosts_allow_field_lookup(str_from_cstr(field), f);
}

bool access_table_has(const struct access_table *t, enum hosts_allow_field f)
{
    return t && (unsigned)f < HOSTS_ALLOW_FIELD_COUNT && t->fields[f].present;
}

bool access_table_has_field(const struct access_table *t, const char *field)
{
    enum hosts_allow_field f;
    return field_lookup_cstr(field, &f) && access_table_has(t, f);
}

size_t access_table_pattern_count(const struct access_table *t, enum hosts_allow_field f)
{
    return access_table_has(t, f) ? t->fields[f].patterns : 0;
}

/* ---- matching ---- */

void access_client_init(struct access_client *c, const char *addr, const char *name)
{
    char buf[INET6_ADDRSTRLEN + 2];

    memset(c, 0, sizeof(*c));
    if (addr && *addr) {
        struct str a = str_from_cstr(addr);
        if (a.len >= 2 && a.ptr[0] == '[' && a.ptr[a.len - 1] == ']')
            a = str_make(a.ptr + 1, a.len - 2);
        long pct = str_find_char(a, '%'); /* scope id: not part of the address */
        if (pct >= 0)
            a.len = (size_t)pct;
        if (a.len < sizeof(buf)) {
            memcpy(buf, a.ptr, a.len);
            buf[a.len] = '\0';
            struct in_addr in4;
            struct in6_addr in6;
            if (inet_pton(AF_INET, buf, &in4) == 1) {
                c->family = AF_INET;
                c->ip4 = ntohl(in4.s_addr);
            } else if (inet_pton(AF_INET6, buf, &in6) == 1) {
                static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
                if (memcmp(in6.s6_addr, mapped, sizeof(mapped)) == 0) {
                    /* Dual-stack sockets report IPv4 clients this way; tcpd
                     * matches them as IPv4 too. */
                    const uint8_t *b = in6.s6_addr + 12;
                    c->family = AF_INET;
                    c->ip4 =
                        (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
                } else {
                    c->family = AF_INET6;
                    memcpy(c->ip6, in6.s6_addr, 16);
                }
            }
        }
        if (c->family == AF_INET) {
            struct in_addr in4 = {htonl(c->ip4)};
            inet_ntop(AF_INET, &in4, c->addr_text, sizeof(c->addr_text));
        } else if (c->family == AF_INET6) {
            inet_ntop(AF_INET6, c->ip6, c->addr_text, sizeof(c->addr_text));
        }
    }
    if (name && *name) {
        size_t n = strlen(name);
        if (n <= ACCESS_NAME_MAX) {
            for (size_t i = 0; i < n; i++)
                c->name[i] = (char)ascii_lower((unsigned char)name[i]);
            c->name[n] = '\0';
            c->has_name = true;
        }
    }
}

/* wild_match - '*' any run, '?' one byte; both strings lowercase. The
 * backtracking keeps only the last star, so it is O(len(s) * len(pat)). */
static bool wild_match(const char *pat, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*pat == '?' || (*pat != '*' && *pat == *s)) {
            pat++;
            s++;
        } else if (*pat == '*') {
            star = pat++;
            resume = s;
        } else if (star) {
            pat = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

static bool has_string(const struct vec *v, const char *key)
{
    return v->len && bsearch(&key, v->items, v->len, sizeof(char *), cmp_strp) != NULL;
}

static bool ip6_in_net(const uint8_t a[16], const struct net6 *n)
{
    unsigned full = n->prefix / 8, rest = n->prefix % 8;
    if (memcmp(a, n->net, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t m = (uint8_t)(0xffu << (8 - rest));
    return (a[full] & m) == n->net[full];
}

static bool group_match(const struct access_group *g, const struct access_client *c)
{
    if (g->flags) {
        if (g->flags & ACCESS_GF_ALL)
            return true;
        if ((g->flags & ACCESS_GF_KNOWN) && c->family && c->has_name)
            return true;
        if ((g->flags & ACCESS_GF_UNKNOWN) && (!c->family || !c->has_name))
            return true;
        if ((g->flags & ACCESS_GF_LOCAL) && c->has_name && !strchr(c->name, '.'))
            return true;
    }
    if (c->family == AF_INET) {
        if (g->ip4.len && bsearch(&c->ip4, g->ip4.items, g->ip4.len, sizeof(uint32_t), cmp_u32))
            return true;
        const struct net4 *n = (const struct net4 *)(const void *)g->net4.items;
        for (size_t i = 0; i < g->net4.len; i++) {
            if ((c->ip4 & n[i].mask) == n[i].net)
                return true;
        }
    } else if (c->family == AF_INET6) {
        if (g->ip6.len && bsearch(c->ip6, g->ip6.items, g->ip6.len, 16, cmp_ip6))
            return true;
        const struct net6 *n = (const struct net6 *)(const void *)g->net6.items;
        for (size_t i = 0; i < g->net6.len; i++) {
            if (ip6_in_net(c->ip6, &n[i]))
                return true;
        }
    }
    char *const *w = (char *const *)(const void *)g->wild.items;
    if (c->has_name) {
        if (has_string(&g->names, c->name))
            return true;
        /* ".domain.jp" matches a name ending in it, never the bare domain
         * (tcpd: the suffix must be strictly shorter than the name). */
        if (g->suffixes.len) {
            for (const char *d = strchr(c->name + 1, '.'); d && *d; d = strchr(d + 1, '.')) {
                if (has_string(&g->suffixes, d))
                    return true;
            }
        }
        char *const *pf = (char *const *)(const void *)g->prefixes.items;
        for (size_t i = 0; i < g->prefixes.len; i++) {
            if (strncmp(c->name, pf[i], strlen(pf[i])) == 0)
                return true;
        }
        for (size_t i = 0; i < g->wild.len; i++) {
            if (wild_match(w[i], c->name))
                return true;
        }
    }
    if (c->family) {
        for (size_t i = 0; i < g->wild.len; i++) {
            if (wild_match(w[i], c->addr_text))
                return true;
        }
    }
    return false;
}

static bool rule_match(const struct access_rule *r, const struct access_client *c)
{
    size_t k = 0;
    while (k < r->n_groups && group_match(&r->groups[k], c))
        k++;
    return (k & 1) != 0;
}

bool access_match_client(const struct access_table *t, enum hosts_allow_field f,
                         const struct access_client *c)
{
    if (!access_table_has(t, f) || !c)
        return false;
    const struct access_field *fld = &t->fields[f];
    if (group_match(&fld->simple, c))
        return true;
    const struct access_rule *r = (const struct access_rule *)(const void *)fld->rules.items;
    for (size_t i = 0; i < fld->rules.len; i++) {
        if (rule_match(&r[i], c))
            return true;
    }
    return false;
}

bool access_match(const struct access_table *t, const char *field, const char *addr,
                  const char *name)
{
    enum hosts_allow_field f;
    struct access_client c;
    if (!field_lookup_cstr(field, &f) || !access_table_has(t, f))
        return false;
    access_client_init(&c, addr, name);
    return access_match_client(t, f, &c);
}
