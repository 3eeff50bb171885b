/* proxy_mail_scan - virus and policy scanning of a spooled mail, part by part
 * (see proxy_mail_scan.h for what is scanned and why, and for how the
 * work is cut into slices). */
#include "proxy/proxy_mail_scan.h"
#include "proxy/proxy_spool.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "core/verdict_cache.h"
#include "lib/sha256.h"
#include "lib/spoolfile.h"
#include "lib/str.h"
#include "proto/html_scan.h"
#include "proto/mime_decode.h"
#include "proto/mime_uu.h"
#include "proto/pass_rules.h"

#define DECODE_CHUNK 65536 /* decoder output per write(2) */
#define UU_CARRY     512   /* the end of a decoded line kept for the next chunk */

/* Put before a message scanned whole: libclamav's file typing knows a
 * mail by its first header field, and only a mail goes to its mail
 * parser; a message may start with any field. */
static const char WHOLE_PREFIX[] = "Received: by sekisho; whole-message scan\r\n";

/* The walk leaves these to libclamav's mail parser as well: parts it did
 * not report or headers it did not read, containers it did not open, a
 * header block clients may read otherwise. */
#define WHOLE_FLAGS (MIME_F_TOO_MANY | MIME_F_LONG_HEADER | MIME_F_NO_BOUNDARY | MIME_F_AMBIGUOUS)

/* One leaf part to scan: where its encoded body is in the message. */
struct mail_part {
    size_t off, len;
    enum mime_cte cte;
    bool html;      /* text/html: block_script / block_activex apply */
    bool exec_only; /* scan only the executable parts (virus_check_wholehtml=no) */
    bool uu;        /* uuencoded data lines (mime_uu), decoded */
    bool whole;     /* the whole message, after WHOLE_PREFIX */
    char filename[MIME_FILENAME_MAX + 1];
};

/* A body being decoded over several slices (base64, QP, uuencoded data
 * lines, or as it is). */
struct body_dec {
    const char *in;
    size_t left;
    enum mime_cte cte;
    bool uu, draining;
    struct mime_b64 b64;
    struct mime_qp qp;
};

enum phase {
    PH_WALK = 0, /* mime_walker_step */
    PH_COLLECT,  /* the structural policies and the part list, part by part */
    PH_SCAN,     /* decode a part into its spool, then scand; the next part */
};

/* Where the decision on the current entity (collect) goes on. */
enum stage {
    ST_START = 0, /* flags, containers; block_filesize on the encoded size */
    ST_SIZE,      /* block_filesize: decoding, counting */
    ST_NAMED,     /* counted as a file; pass_ext; which uu search */
    ST_ENC_UU,    /* a uuencoded file inside a base64/QP text? */
    ST_RAW_UU,    /* the uuencoded files of a raw body */
    ST_ADD,       /* into the part list */
};

struct proxy_mail_scan {
    struct proxy_worker *w;
    const struct config *cfg;
    enum scanreq_service svc;
    const struct svclog_ctx *log;
    const char *map; /* the message, or NULL when it is empty */
    size_t len;
    bool map_heap; /* map is a malloc'ed copy, not a mapping */
    /* turns: while there is work to slice, the scan is in its worker's
     * turn queue (see turns()) */
    struct proxy_mail_scan *turn_next;
    bool turning;
    enum phase phase;
    struct mime_walker *walker;
    struct mime_summary sum;
    /* PH_COLLECT */
    unsigned entity, entities;
    enum stage stage;
    struct mime_part cur; /* the entity being decided */
    struct body_dec cdec; /* ST_SIZE, ST_ENC_UU */
    uint64_t counted;     /* ST_SIZE */
    char carry[UU_CARRY]; /* ST_ENC_UU */
    size_t carry_len;
    size_t uu_from; /* ST_RAW_UU: the next line to look at */
    struct mail_part *parts;
    size_t nparts, cap;
    bool oom;
    bool uu_seen;       /* a uuencoded file in a raw body: the message is scanned whole too */
    unsigned uu_files;  /* uuencoded files found, at most MIME_PARTS_MAX */
    const char *policy; /* a structural policy detection, or NULL */
    char policy_file[MIME_FILENAME_MAX + 1];
    /* PH_SCAN */
    size_t next; /* the next part to scan */
    /* the part in flight */
    bool decoding;
    struct body_dec dec;
    uint64_t dec_len;
    bool hashing;
    char *hash_buf;          /* VERDICT_CACHE_OBJECT_MAX bytes, for one-call hashing */
    struct proxy_spool part; /* the decoded part (proxy_spool: memory, then tmpdir) */
    struct proxy_spool exec; /* the executable parts of an HTML part */
    struct proxy_scan *scan;
    bool in_step;  /* proxy_scan_start is on the stack: a synchronous callback only records */
    bool returned; /* a scan callback ran during proxy_scan_start */
    struct proxy_mail_scan_result res;
    proxy_mail_scan_walked_fn *walked;
    proxy_mail_scan_fn *cb;
    void *cb_arg;
};

/* The worker's turn queue: the scans that have work to slice, and one
 * eventfd, readable while the queue is not empty, so the loop hands one
 * slice to the scan at the head once per iteration, among the other
 * events (ev_defer and 0 ms timers run before the loop polls again, so
 * other sessions would never get in). One eventfd per worker, created on
 * first use: a mail costs no descriptor and no epoll change of its own.
 * A worker is one thread. */
static struct {
    struct ev_loop *loop;
    int fd;
    struct ev_io io;
    struct proxy_mail_scan *head, *tail;
} turnq = {.fd = -1};

static void on_turn(struct ev_loop *loop, struct ev_io *io, uint32_t events);

static bool turnq_ready(struct ev_loop *loop)
{
    if (turnq.fd >= 0)
        return true;
    turnq.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (turnq.fd < 0)
        return false;
    turnq.loop = loop;
    ev_io_init(&turnq.io, turnq.fd, on_turn, NULL);
    if (ev_io_set(loop, &turnq.io, EV_READ) < 0) {
        close(turnq.fd);
        turnq.fd = -1;
        return false;
    }
    return true;
}

/* turnq_signal - the eventfd readable (on) or not. An eventfd's counter
 * cannot overflow at 1 and reading a non-zero one cannot block. */
static void turnq_signal(bool on)
{
    uint64_t v = 1;
    ssize_t r = on ? write(turnq.fd, &v, sizeof(v)) : read(turnq.fd, &v, sizeof(v));
    (void)r;
}

static void turnq_remove(struct proxy_mail_scan *ms)
{
    struct proxy_mail_scan **pp = &turnq.head, *prev = NULL;
    while (*pp && *pp != ms) {
        prev = *pp;
        pp = &(*pp)->turn_next;
    }
    if (!*pp)
        return;
    *pp = ms->turn_next;
    if (turnq.tail == ms)
        turnq.tail = prev;
    ms->turn_next = NULL;
    if (!turnq.head)
        turnq_signal(false);
}

static void turnq_append(struct proxy_mail_scan *ms)
{
    bool was_empty = !turnq.head;
    ms->turn_next = NULL;
    if (turnq.tail)
        turnq.tail->turn_next = ms;
    else
        turnq.head = ms;
    turnq.tail = ms;
    if (was_empty)
        turnq_signal(true);
}

static void turns(struct proxy_mail_scan *ms, bool on)
{
    if (on == ms->turning)
        return;
    ms->turning = on;
    if (on)
        turnq_append(ms);
    else
        turnq_remove(ms);
}

/* ---- decoding a body in pieces ------------------------------------------ */

static void body_dec_init(struct body_dec *d, const char *in, size_t len, enum mime_cte cte,
                          bool uu)
{
    d->in = in;
    d->left = len;
    d->cte = cte;
    d->uu = uu;
    d->draining = false;
    mime_b64_init(&d->b64);
    mime_qp_init(&d->qp);
}

/* body_dec_next - the next piece of the decoded body, at most cap bytes:
 * in scratch, or for a raw body a view of the message (*data). 0 at the
 * end, and only there. *spent grows by the input consumed (at least 1). */
static size_t body_dec_next(struct body_dec *d, char *scratch, size_t cap, const char **data,
                            size_t *spent)
{
    *data = scratch;
    size_t before = d->left, n = 0;
    if (d->uu) {
        size_t used = 0;
        n = d->left ? mime_uu_decode(d->in, d->left, scratch, cap, &used) : 0;
        d->in += used;
        d->left -= used;
    } else if (d->cte == MIME_CTE_BASE64 || d->cte == MIME_CTE_QP) {
        bool b = d->cte == MIME_CTE_BASE64;
        /* n == 0 with input consumed (line ends, padding) comes back as
         * an empty piece; the caller asks again */
        while (!d->draining && d->left > 0 && n == 0) {
            size_t used = 0;
            n = b ? mime_b64_decode(&d->b64, d->in, d->left, scratch, cap, &used)
                  : mime_qp_decode(&d->qp, d->in, d->left, scratch, cap, &used);
            if (used == 0)
                d->draining = true; /* cannot happen: the decoders take input while out has room */
            d->in += used;
            d->left -= used;
        }
        if (n == 0) {
            d->draining = true;
            n = b ? mime_b64_finish(&d->b64, scratch, cap) : mime_qp_finish(&d->qp, scratch, cap);
        }
    } else {
        n = d->left < cap ? d->left : cap;
        *data = d->in;
        d->in += n;
        d->left -= n;
    }
    *spent += before - d->left ? before - d->left : 1;
    return n;
}

/* ---- the walk: structural policies and the part list ----------------- */

static bool block_ext_matches(const struct config *cfg, const char *filename)
{
    for (size_t i = 0; i < cfg->block_ext_list.count; i++)
        if (str_caseeq_cstr(cfg->block_ext_list.items[i], "ALL"))
            return true;
    return pass_rules_extension(str_from_cstr(filename), cfg->block_ext_list.items,
                                cfg->block_ext_list.count);
}

static bool add_part(struct proxy_mail_scan *ms, struct str body, enum mime_cte cte,
                     const char *filename)
{
    if (ms->nparts == ms->cap) {
        size_t cap = ms->cap ? ms->cap * 2 : 8;
        struct mail_part *p = realloc(ms->parts, cap * sizeof(*p));
        if (!p) {
            ms->oom = true;
            return false;
        }
        ms->parts = p;
        ms->cap = cap;
    }
    struct mail_part *p = &ms->parts[ms->nparts++];
    memset(p, 0, offsetof(struct mail_part, filename));
    p->off = body.ptr ? (size_t)(body.ptr - ms->map) : 0;
    p->len = body.len;
    p->cte = cte;
    str_copy(p->filename, sizeof(p->filename), filename);
    return true;
}

/* A step's outcome. */
enum step {
    STEP_DONE = 0, /* this stage is over */
    STEP_MORE,     /* the slice's budget is spent: go on next turn */
    STEP_STOP,     /* the run is decided (ms->policy) or failed (ms->oom) */
};

static void hit(struct proxy_mail_scan *ms, const char *policy, const char *file)
{
    ms->policy = policy;
    str_copy(ms->policy_file, sizeof(ms->policy_file), file);
}

/* raw_uu_step - every uuencoded file in a raw body, each scanned on its
 * own under its name: clients extract them from anywhere in a text. The
 * body is searched in windows of about the budget that end at a line end
 * and reach one line further, so that a "begin" line and the data line
 * after it are always seen together; a window's last line is looked at
 * again with the next window. A block that reaches the end of a window
 * is delimited in the whole body. */
static enum step raw_uu_step(struct proxy_mail_scan *ms, size_t *spent, size_t budget)
{
    struct str body = ms->cur.body;
    while (ms->uu_from < body.len) {
        if (*spent >= budget)
            return STEP_MORE;
        size_t from = ms->uu_from, w = body.len;
        if (body.len - from > budget - *spent) {
            size_t at = from + (budget - *spent);
            for (int lines = 0; lines < 2 && at < body.len; lines++) {
                const char *nl = memchr(body.ptr + at, '\n', body.len - at);
                at = nl ? (size_t)(nl - body.ptr) + 1 : body.len;
            }
            w = at;
        }
        struct mime_uu uu;
        if (!mime_uu_next(str_make(body.ptr, w), from, &uu)) {
            *spent += w - from;
            if (w == body.len) {
                ms->uu_from = w;
                break;
            }
            /* the window's last line again, with what follows it */
            const char *nl = memrchr(body.ptr + from, '\n', w - 1 - from);
            ms->uu_from = nl ? (size_t)(nl - body.ptr) + 1 : w;
            continue;
        }
        if (uu.end == w && w < body.len)
            (void)mime_uu_next(body, uu.begin, &uu);
        *spent += uu.end - from;
        ms->uu_from = uu.end;
        ms->uu_seen = true;
        if (++ms->uu_files > MIME_PARTS_MAX) {
            /* Bounded work, as for MIME parts; what is not scanned is
             * not passed either. */
            hit(ms, PROXY_MAIL_SCAN_POLICY_UUENCODE, uu.name);
            return STEP_STOP;
        }
        if (!add_part(ms, str_make(body.ptr + uu.data, uu.end - uu.data), MIME_CTE_7BIT,
                      uu.name[0] ? uu.name : "uuencoded"))
            return STEP_STOP;
        ms->parts[ms->nparts - 1].uu = true;
    }
    return STEP_DONE;
}

/* enc_uu_step - does the base64 or quoted-printable body of the entity,
 * decoded, hold a uuencoded file? *found is set when it does. A line cut
 * by a chunk end is carried over (up to UU_CARRY bytes of it). */
static enum step enc_uu_step(struct proxy_mail_scan *ms, size_t *spent, size_t budget, bool *found)
{
    static char scratch[UU_CARRY + DECODE_CHUNK]; /* a worker is one thread; per slice only */
    size_t carry = ms->carry_len;
    memcpy(scratch, ms->carry, carry);
    *found = false;
    for (;;) {
        if (*spent >= budget) {
            memcpy(ms->carry, scratch, carry);
            ms->carry_len = carry;
            return STEP_MORE;
        }
        const char *data;
        size_t n = body_dec_next(&ms->cdec, scratch + carry, DECODE_CHUNK, &data, spent);
        if (n == 0) {
            *found = carry > 0 && mime_uu_begins(str_make(scratch, carry));
            return STEP_DONE;
        }
        size_t have = carry + n;
        if (mime_uu_begins(str_make(scratch, have))) {
            *found = true;
            return STEP_DONE;
        }
        /* keep the last, maybe unfinished, line */
        const char *nl = have ? memrchr(scratch, '\n', have) : NULL;
        size_t keep = nl ? have - (size_t)(nl - scratch) : have;
        if (keep > UU_CARRY)
            keep = UU_CARRY;
        memmove(scratch, scratch + have - keep, keep);
        carry = keep;
    }
}

/* size_step - is the decoded body of the entity longer than limit?
 * Decoding never makes a body longer, so only a base64 or QP body longer
 * than limit comes here; it is decoded into a scratch buffer, counting. */
static enum step size_step(struct proxy_mail_scan *ms, size_t *spent, size_t budget, bool *over)
{
    static char scratch[DECODE_CHUNK]; /* a worker is one thread */
    uint64_t limit = ms->cfg->block_filesize_len;
    for (;;) {
        if (ms->counted > limit) {
            *over = true;
            return STEP_DONE;
        }
        if (*spent >= budget)
            return STEP_MORE;
        const char *data;
        size_t n = body_dec_next(&ms->cdec, scratch, sizeof(scratch), &data, spent);
        if (n == 0) {
            *over = false;
            return STEP_DONE;
        }
        ms->counted += n;
    }
}

/* collect_step - go on deciding entity ms->cur from ms->stage. */
static enum step collect_step(struct proxy_mail_scan *ms, size_t *spent, size_t budget)
{
    const struct config *cfg = ms->cfg;
    const struct mime_part *p = &ms->cur;
    bool encoded = p->cte == MIME_CTE_BASE64 || p->cte == MIME_CTE_QP;
    bool named = p->filename[0] || p->attachment;
    for (;;) {
        switch (ms->stage) {
        case ST_START: {
            const char *policy = NULL;
            if (p->flags & MIME_F_BAD_BOUNDARY)
                policy = PROXY_MAIL_SCAN_POLICY_BOUNDARY;
            else if (p->flags & MIME_F_BAD_FILENAME)
                policy = PROXY_MAIL_SCAN_POLICY_FILENAME;
            else if (p->flags & MIME_F_TOO_DEEP)
                policy = PROXY_MAIL_SCAN_POLICY_DEPTH; /* libclamav stops sooner still */
            else if (cfg->block_partial_message && p->is_partial)
                policy = PROXY_MAIL_SCAN_POLICY_PARTIAL;
            else if (cfg->block_ext && p->filename[0] && block_ext_matches(cfg, p->filename))
                policy = PROXY_MAIL_SCAN_POLICY_EXT;
            if (policy) {
                hit(ms, policy, p->filename); /* the first one decides */
                return STEP_STOP;
            }
            if (p->is_multipart || p->is_message)
                return STEP_DONE; /* a container: its parts follow */
            ms->stage = ST_NAMED;
            if (cfg->block_filesize && (uint64_t)p->body.len > cfg->block_filesize_len) {
                if (!encoded) {
                    hit(ms, PROXY_MAIL_SCAN_POLICY_FILESIZE, p->filename);
                    return STEP_STOP;
                }
                body_dec_init(&ms->cdec, p->body.ptr, p->body.len, p->cte, false);
                ms->counted = 0;
                ms->stage = ST_SIZE;
            }
            break;
        }
        case ST_SIZE: {
            bool over = false;
            enum step r = size_step(ms, spent, budget, &over);
            if (r != STEP_DONE)
                return r;
            if (over) {
                hit(ms, PROXY_MAIL_SCAN_POLICY_FILESIZE, p->filename);
                return STEP_STOP;
            }
            ms->stage = ST_NAMED;
            break;
        }
        case ST_NAMED:
            ms->res.files++;
            if (named && cfg->pass_ext &&
                pass_rules_extension(str_from_cstr(p->filename), cfg->pass_ext_list.items,
                                     cfg->pass_ext_list.count))
                return STEP_DONE; /* SCAN-4: exempt from scanning */
            if (encoded && strncmp(p->type, "text/", 5) == 0) {
                body_dec_init(&ms->cdec, p->body.ptr, p->body.len, p->cte, false);
                ms->carry_len = 0;
                ms->stage = ST_ENC_UU;
            } else if (!encoded) {
                ms->uu_from = 0;
                ms->stage = ST_RAW_UU;
            } else {
                ms->stage = ST_ADD;
            }
            break;
        case ST_ENC_UU: {
            bool found = false;
            enum step r = enc_uu_step(ms, spent, budget, &found);
            if (r != STEP_DONE)
                return r;
            if (found) {
                /* A uuencoded file inside an encoded text: clients decode
                 * both layers, libclamav does not; the mail cannot be
                 * passed unseen. */
                hit(ms, PROXY_MAIL_SCAN_POLICY_UUENCODE, p->filename);
                return STEP_STOP;
            }
            ms->stage = ST_ADD;
            break;
        }
        case ST_RAW_UU: {
            /* A uuencoded file in any raw body is an attachment all the same. */
            enum step r = raw_uu_step(ms, spent, budget);
            if (r != STEP_DONE)
                return r;
            ms->stage = ST_ADD;
            break;
        }
        case ST_ADD:
            if (!named && strcmp(p->type, "text/plain") == 0) {
                /* SCAN-8: virus_check_text=no skips prose, never an encoded
                 * payload: a base64 or QP text body is scanned decoded. */
                if ((cfg->virus_check_text || encoded) && !add_part(ms, p->body, p->cte, ""))
                    return STEP_STOP;
                return STEP_DONE;
            }
            if (!add_part(ms, p->body, p->cte, p->filename))
                return STEP_STOP;
            ms->parts[ms->nparts - 1].html = strcmp(p->type, "text/html") == 0;
            ms->parts[ms->nparts - 1].exec_only =
                ms->parts[ms->nparts - 1].html && !named && !cfg->virus_check_wholehtml;
            return STEP_DONE;
        }
    }
}

/* read_whole - a small message is read into the heap: unmapping a
 * mapping costs a TLB flush, more than copying a few hundred KiB. */
static void *read_whole(int fd, size_t len)
{
    char *p = malloc(len);
    if (p && spoolfile_read_at(fd, p, len, 0) < 0) {
        free(p);
        p = NULL;
    }
    return p;
}

/* ---- scanning the parts ----------------------------------------------- */

static void release_part(struct proxy_mail_scan *ms)
{
    proxy_spool_close(&ms->part);
    proxy_spool_close(&ms->exec);
    ms->decoding = false;
}

/* finish - the run is decided: call back (which may free ms). */
static void finish(struct proxy_mail_scan *ms)
{
    release_part(ms);
    turns(ms, false);
    ms->phase = PH_SCAN;
    ms->next = ms->nparts; /* nothing more, whatever comes */
    ms->cb(ms->cb_arg, &ms->res);
}

static void fail(struct proxy_mail_scan *ms, int err, const char *what)
{
    ms->res.verdict = SCANREQ_ERROR;
    snprintf(ms->res.error, sizeof(ms->res.error), "%s: %s", what, strerror(err));
    svclog_error_errno(ms->log, err, "mail scan: %s in [%s]", what, ms->cfg->tmpdir);
}

static void detected(struct proxy_mail_scan *ms, const char *name, const char *file)
{
    ms->res.verdict = SCANREQ_INFECTED;
    str_copy(ms->res.name, sizeof(ms->res.name), name);
    str_copy(ms->res.file, sizeof(ms->res.file), file);
}

/* part_begin - the spool of part p, and its decoder. */
static bool part_begin(struct proxy_mail_scan *ms, const struct mail_part *p)
{
    uint64_t bound = p->cte == MIME_CTE_BASE64 ? (uint64_t)p->len / 4u * 3u + 3u : p->len;
    if (p->whole)
        bound += sizeof(WHOLE_PREFIX);
    if (proxy_spool_open(&ms->part, ms->w, bound) < 0) {
        fail(ms, errno, "cannot create a spool file");
        return false;
    }
    ms->decoding = true;
    ms->dec_len = 0;
    /* A part small enough for the verdict cache is also kept, to be
     * hashed in one call (libcrypto's SHA extensions) once decoded. */
    ms->hashing = ms->cfg->verdict_cache && !p->whole; /* the cache is for parts */
    if (ms->hashing && !ms->hash_buf && !(ms->hash_buf = malloc(VERDICT_CACHE_OBJECT_MAX)))
        ms->hashing = false;
    body_dec_init(&ms->dec, ms->map ? ms->map + p->off : NULL, p->len, p->cte, p->uu);
    if (p->whole) {
        if (proxy_spool_write(&ms->part, WHOLE_PREFIX, sizeof(WHOLE_PREFIX) - 1) < 0) {
            fail(ms, errno, "spool write failed");
            return false;
        }
        ms->dec_len = sizeof(WHOLE_PREFIX) - 1;
    }
    return true;
}

/* decode_step - the decoded body of the part into its spool, for about
 * budget bytes of input. */
static enum step decode_step(struct proxy_mail_scan *ms, size_t *spent, size_t budget)
{
    static char chunk[DECODE_CHUNK]; /* a worker is one thread; per call only */
    for (;;) {
        if (*spent >= budget)
            return STEP_MORE;
        const char *data;
        size_t n = body_dec_next(&ms->dec, chunk, sizeof(chunk), &data, spent);
        if (n == 0)
            return STEP_DONE;
        if (proxy_spool_write(&ms->part, data, n) < 0) {
            fail(ms, errno, "spool write failed");
            return STEP_STOP;
        }
        if (ms->hashing && ms->dec_len + n <= VERDICT_CACHE_OBJECT_MAX)
            memcpy(ms->hash_buf + ms->dec_len, data, n);
        else
            ms->hashing = false;
        ms->dec_len += n;
    }
}

struct exec_sink {
    int fd;
    uint64_t bytes;
    bool failed;
    int err;
};

static bool write_exec_part(void *arg, struct str part)
{
    struct exec_sink *x = arg;
    if (x->fd < 0)
        return true; /* flags only */
    if (spoolfile_write_all(x->fd, part.ptr, part.len) < 0 ||
        spoolfile_write_all(x->fd, "\n", 1) < 0) {
        x->failed = true;
        x->err = errno;
        return false;
    }
    x->bytes += part.len + 1;
    return true;
}

static void on_part_scanned(void *arg, const struct scanreq_reply *rep);

/* part_scan - the part is decoded: the HTML policies, then its scan.
 * Returns true when a scan is in flight (or its callback already ran);
 * false when the part needed no scan, or the run is decided (ms->res
 * set). */
static bool part_scan(struct proxy_mail_scan *ms, const struct mail_part *p)
{
    uint8_t digest[SHA256_DIGEST_LEN];
    uint64_t t0 = ev_clock_ns();
    bool has_digest = ms->hashing && sha256_digest(ms->hash_buf, (size_t)ms->dec_len, digest) == 0;
    if (ms->hashing)
        svc_stats_hash_time(ms->w->stats, ev_clock_ns() - t0);
    uint64_t len = ms->dec_len;
    int scan_fd = ms->part.fd;
    if (p->html && len > 0 && (p->exec_only || ms->cfg->block_script || ms->cfg->block_activex)) {
        /* html_scan is not resumable: an HTML part is looked at in one go. */
        void *html = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, ms->part.fd, 0);
        if (html == MAP_FAILED) {
            fail(ms, errno, "cannot map a decoded part");
            return false;
        }
        struct exec_sink x = {.fd = -1};
        if (p->exec_only) {
            /* len * 2 + 16 bounds the extract: it stays where it began */
            x.fd = proxy_spool_open(&ms->exec, ms->w, len * 2u + 16u) < 0 ? -1 : ms->exec.fd;
            if (x.fd < 0) {
                int e = errno;
                munmap(html, (size_t)len);
                fail(ms, e, "cannot create a spool file");
                return false;
            }
        }
        unsigned flags = html_scan(html, (size_t)len, write_exec_part, &x);
        munmap(html, (size_t)len);
        if (x.failed) {
            fail(ms, x.err, "spool write failed");
            return false;
        }
        if (ms->cfg->block_script && (flags & HTML_F_SCRIPT)) {
            detected(ms, PROXY_MAIL_SCAN_POLICY_SCRIPT, p->filename);
            return false;
        }
        if (ms->cfg->block_activex && (flags & HTML_F_ACTIVEX)) {
            detected(ms, PROXY_MAIL_SCAN_POLICY_ACTIVEX, p->filename);
            return false;
        }
        if (p->exec_only) {
            if (x.bytes == 0)
                return false; /* nothing executable: nothing to scan */
            scan_fd = ms->exec.fd;
            has_digest = false;
        }
    }
    ms->returned = false;
    ms->in_step = true;
    ms->scan = proxy_scan_start(ms->w->scan_pool, ms->cfg, ms->svc, scan_fd,
                                p->filename[0] ? p->filename : "message",
                                has_digest ? digest : NULL, ms->log, on_part_scanned, ms);
    ms->in_step = false;
    return true;
}

/* scan_slice - decode and scan the parts from ms->next on, within the
 * budget. Returns false when ms may be gone (the run is finished); when
 * a scan is in flight, the turns stop until on_part_scanned. */
static bool scan_slice(struct proxy_mail_scan *ms, size_t *spent, size_t budget)
{
    for (;;) {
        if (!ms->decoding) {
            if (ms->res.verdict != SCANREQ_CLEAN || ms->next >= ms->nparts) {
                finish(ms);
                return false;
            }
            if (!part_begin(ms, &ms->parts[ms->next++])) {
                finish(ms);
                return false;
            }
        }
        const struct mail_part *p = &ms->parts[ms->next - 1];
        enum step r = decode_step(ms, spent, budget);
        if (r == STEP_MORE)
            return true;
        if (r == STEP_STOP) {
            finish(ms);
            return false;
        }
        bool asked = part_scan(ms, p);
        if (asked && !ms->returned) {
            turns(ms, false);
            return true; /* in flight: on_part_scanned goes on */
        }
        release_part(ms);
    }
}

static void on_part_scanned(void *arg, const struct scanreq_reply *rep)
{
    struct proxy_mail_scan *ms = arg;
    ms->scan = NULL;
    ms->res.checks++;
    ms->res.scan_ms += rep->scan_us / 1000u;
    ms->res.details |= rep->details & SCANREQ_VSD_ALL;
    const struct mail_part *p = &ms->parts[ms->next - 1];
    if (rep->verdict == SCANREQ_ERROR) {
        ms->res.verdict = SCANREQ_ERROR;
        str_copy(ms->res.error, sizeof(ms->res.error), rep->error);
    } else if (rep->verdict == SCANREQ_INFECTED) {
        detected(ms, rep->name, p->filename);
    }
    if (ms->in_step) {
        ms->returned = true; /* answered inside proxy_scan_start */
        return;
    }
    release_part(ms);
    turns(ms, true); /* the next part on the next turn */
}

/* ---- the slices --------------------------------------------------------- */

/* walked - the structure is known: the summary to the caller, then the
 * part list. Returns false when ms is gone. */
static bool walked(struct proxy_mail_scan *ms)
{
    if (ms->walker)
        mime_walker_summary(ms->walker, &ms->sum);
    if (ms->sum.flags & MIME_F_LONG_HEADER)
        svclog_warning(ms->log, "parse_header: Too long header lines (len=%u,limit=%u). ignored",
                       ms->sum.header_lines_max, MIME_HEADER_LINES_MAX);
    if (ms->walked && !ms->walked(ms->cb_arg, &ms->sum))
        return false;
    ms->phase = PH_COLLECT;
    ms->entity = 0;
    ms->entities = ms->walker ? mime_walker_parts(ms->walker) : 0;
    ms->stage = ST_START;
    return true;
}

/* collected - the part list is complete (or a policy decided): what the
 * walk could not take apart goes whole; then the scans. */
static bool collected(struct proxy_mail_scan *ms)
{
    ms->phase = PH_SCAN;
    ms->next = 0;
    if (!ms->policy && ((ms->sum.flags & WHOLE_FLAGS) || ms->uu_seen) && !ms->oom &&
        add_part(ms, str_make(ms->map, ms->len), MIME_CTE_BINARY, "")) {
        /* What the walk could not take apart with certainty (and a
         * uuencoded file, which clients may read otherwise): libclamav's
         * mail parser gets the whole message. */
        ms->parts[ms->nparts - 1].whole = true;
    }
    if (ms->oom) {
        fail(ms, ENOMEM, "out of memory");
        finish(ms);
        return false;
    }
    if (ms->policy) {
        /* SCAN-6/7: a policy detection is handled exactly like a virus. */
        detected(ms, ms->policy, ms->policy_file);
        finish(ms);
        return false;
    }
    if (!ms->cfg->virus_check) {
        finish(ms);
        return false;
    }
    return true;
}

static void on_turn(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
    (void)loop, (void)io, (void)events;
    struct proxy_mail_scan *ms = turnq.head;
    if (!ms)
        return;
    /* The head's slice, and it goes to the back: every scan with work
     * gets a slice in turn. */
    if (ms->turn_next) {
        turnq.head = ms->turn_next;
        turnq.tail->turn_next = ms;
        turnq.tail = ms;
        ms->turn_next = NULL;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t spent = 0, budget = PROXY_MAIL_SCAN_SLICE;
    bool alive = true;
    while (alive && ms->turning && spent < budget) {
        switch (ms->phase) {
        case PH_WALK: {
            enum mime_result r =
                ms->walker ? mime_walker_step(ms->walker, budget - spent) : MIME_INVALID;
            if (r == MIME_MORE) {
                spent = budget; /* the step took its budget */
                break;
            }
            /* The walk ended within the budget: a small mail goes on to
             * its checks and decoding in the same turn. */
            spent += ms->len < budget - spent ? ms->len : budget - spent;
            alive = walked(ms);
            break;
        }
        case PH_COLLECT:
            if (ms->entity == ms->entities) {
                alive = collected(ms);
                break;
            }
            if (ms->stage == ST_START) {
                mime_walker_part(ms->walker, ms->entity, &ms->cur);
                spent += ms->cur.headers.len + 1;
            }
            switch (collect_step(ms, &spent, budget)) {
            case STEP_DONE:
                ms->entity++;
                ms->stage = ST_START;
                break;
            case STEP_STOP:
                ms->entity = ms->entities; /* decided (policy) or out of memory */
                break;
            case STEP_MORE:
                break;
            }
            break;
        case PH_SCAN:
            alive = scan_slice(ms, &spent, budget);
            break;
        }
    }
    if (!alive)
        return;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    uint64_t us = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000u + (uint64_t)(t1.tv_nsec / 1000) -
                  (uint64_t)(t0.tv_nsec / 1000);
    ms->res.slices++;
    if (us > ms->res.slice_max_us)
        ms->res.slice_max_us = us;
}

/* ---- the interface -------------------------------------------------------- */

struct proxy_mail_scan *proxy_mail_scan_open(struct proxy_worker *w, enum scanreq_service svc,
                                             int spool_fd, uint64_t len,
                                             const struct svclog_ctx *log)
{
    if (len > SIZE_MAX) {
        errno = EFBIG;
        return NULL;
    }
    struct proxy_mail_scan *ms = calloc(1, sizeof(*ms));
    if (!ms)
        return NULL;
    ms->w = w;
    ms->cfg = w->cfg;
    ms->svc = svc;
    ms->log = log;
    ms->part = ms->exec = PROXY_SPOOL_CLOSED;
    ms->len = (size_t)len;
    if (!turnq_ready(w->loop))
        goto fail;
    if (len > 0) {
        void *map = ms->len <= PROXY_MAIL_SCAN_COPY_MAX ? read_whole(spool_fd, ms->len) : NULL;
        ms->map_heap = map != NULL;
        if (!map) {
            map = mmap(NULL, ms->len, PROT_READ, MAP_PRIVATE, spool_fd, 0);
            if (map == MAP_FAILED)
                goto fail;
        }
        ms->map = map;
        ms->walker = malloc(sizeof(*ms->walker));
        if (!ms->walker)
            goto fail;
        if (mime_walker_init(ms->walker, ms->map, ms->len) == MIME_INVALID) {
            free(ms->walker); /* too long to walk: as an empty one */
            ms->walker = NULL;
        }
    }
    return ms;
fail:;
    int e = errno;
    proxy_mail_scan_free(ms);
    errno = e;
    return NULL;
}

void proxy_mail_scan_run(struct proxy_mail_scan *ms, proxy_mail_scan_walked_fn *walked_fn,
                         proxy_mail_scan_fn *cb, void *arg)
{
    ms->walked = walked_fn;
    ms->cb = cb;
    ms->cb_arg = arg;
    ms->res.verdict = SCANREQ_CLEAN;
    ms->phase = PH_WALK;
    turns(ms, true);
}

void proxy_mail_scan_free(struct proxy_mail_scan *ms)
{
    if (!ms)
        return;
    if (ms->scan)
        proxy_scan_cancel(ms->scan);
    ms->scan = NULL;
    release_part(ms);
    turns(ms, false);
    if (ms->map_heap)
        free((void *)ms->map);
    else if (ms->map)
        munmap((void *)ms->map, ms->len);
    free(ms->walker);
    free(ms->hash_buf);
    free(ms->parts);
    /* A callback of this scan may still be on the stack (a slice that
     * ended in a verdict): the memory goes after the batch of events. */
    if (ev_defer(ms->w->loop, free, ms) < 0)
        free(ms);
}
