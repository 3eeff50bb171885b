/* proxy_mail_scan - virus and policy scanning of a spooled mail, part by part
 * (see proxy_mail_scan.h for what is scanned and why). */
#include "proxy/proxy_mail_scan.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

struct proxy_mail_scan {
    struct proxy_worker *w;
    const struct config *cfg;
    enum scanreq_service svc;
    const struct svclog_ctx *log;
    const char *map; /* the message, or NULL when it is empty */
    size_t len;
    bool map_heap; /* map is a malloc'ed copy, not a mapping */
    struct mail_part *parts;
    size_t nparts, cap;
    bool oom;
    bool uu_seen;       /* a uuencoded file in a raw body: the message is scanned whole too */
    unsigned uu_files;  /* uuencoded files found, at most MIME_PARTS_MAX */
    const char *policy; /* a structural policy detection, or NULL */
    char policy_file[MIME_FILENAME_MAX + 1];
    size_t next; /* the next part to scan */
    /* the part in flight */
    int part_fd, exec_fd;
    uint64_t mem_held; /* bytes of the worker's memory budget the spools hold */
    struct proxy_scan *scan;
    bool in_step;  /* advance() is on the stack: a synchronous callback only records */
    bool returned; /* a scan callback ran during proxy_scan_start */
    struct proxy_mail_scan_result res;
    proxy_mail_scan_fn *cb;
    void *cb_arg;
    bool finished;
};

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

/* add_uu_parts - every uuencoded file in a raw body, each scanned on its
 * own under its name: clients extract them from anywhere in a text. */
static bool add_uu_parts(struct proxy_mail_scan *ms, struct str body)
{
    struct mime_uu uu;
    for (size_t from = 0; mime_uu_next(body, from, &uu); from = uu.end) {
        ms->uu_seen = true;
        if (++ms->uu_files > MIME_PARTS_MAX) {
            /* Bounded work, as for MIME parts; what is not scanned is
             * not passed either. */
            ms->policy = PROXY_MAIL_SCAN_POLICY_UUENCODE;
            str_copy(ms->policy_file, sizeof(ms->policy_file), uu.name);
            return false;
        }
        if (!add_part(ms, str_make(body.ptr + uu.data, uu.end - uu.data), MIME_CTE_7BIT,
                      uu.name[0] ? uu.name : "uuencoded"))
            return false;
        ms->parts[ms->nparts - 1].uu = true;
    }
    return true;
}

/* encoded_uu - does the base64 or quoted-printable body of p, decoded,
 * hold a uuencoded file? Streamed through a scratch buffer; a line cut
 * by a chunk end is carried over (up to UU_CARRY bytes of it). */
#define UU_CARRY 512
static bool encoded_uu(const struct mime_part *p)
{
    static char scratch[UU_CARRY + DECODE_CHUNK]; /* a worker is one thread */
    struct mime_b64 b64;
    struct mime_qp qp;
    mime_b64_init(&b64);
    mime_qp_init(&qp);
    bool b = p->cte == MIME_CTE_BASE64;
    const char *in = p->body.ptr;
    size_t left = p->body.len, carry = 0;
    for (bool draining = false;;) {
        size_t used = 0, n;
        if (!draining && left > 0) {
            n = b ? mime_b64_decode(&b64, in, left, scratch + carry, DECODE_CHUNK, &used)
                  : mime_qp_decode(&qp, in, left, scratch + carry, DECODE_CHUNK, &used);
            in += used;
            left -= used;
        } else {
            draining = true;
            n = b ? mime_b64_finish(&b64, scratch + carry, DECODE_CHUNK)
                  : mime_qp_finish(&qp, scratch + carry, DECODE_CHUNK);
            if (n == 0)
                return carry > 0 && mime_uu_begins(str_make(scratch, carry));
        }
        size_t have = carry + n;
        if (mime_uu_begins(str_make(scratch, have)))
            return true;
        /* keep the last, maybe unfinished, line */
        const char *nl = have ? memrchr(scratch, '\n', have) : NULL;
        size_t keep = nl ? have - (size_t)(nl - scratch) : have;
        if (keep > UU_CARRY)
            keep = UU_CARRY;
        memmove(scratch, scratch + have - keep, keep);
        carry = keep;
        if (n == 0 && used == 0 && !draining)
            draining = true;
    }
}

/* decoded_size_over - is the decoded body of p longer than limit? Decoding
 * never makes a body longer, so only a body longer than limit is decoded
 * (into a scratch buffer, counting). */
static bool decoded_size_over(const struct mime_part *p, uint64_t limit)
{
    if ((uint64_t)p->body.len <= limit)
        return false;
    if (p->cte != MIME_CTE_BASE64 && p->cte != MIME_CTE_QP)
        return true;
    static char scratch[DECODE_CHUNK]; /* a worker is one thread */
    struct mime_b64 b64;
    struct mime_qp qp;
    mime_b64_init(&b64);
    mime_qp_init(&qp);
    bool b = p->cte == MIME_CTE_BASE64;
    uint64_t total = 0;
    const char *in = p->body.ptr;
    size_t left = p->body.len;
    while (left > 0 && total <= limit) {
        size_t used = 0;
        total += b ? mime_b64_decode(&b64, in, left, scratch, sizeof(scratch), &used)
                   : mime_qp_decode(&qp, in, left, scratch, sizeof(scratch), &used);
        if (used == 0)
            break; /* cannot happen: the decoders take input while out has room */
        in += used;
        left -= used;
    }
    for (size_t n = 1; n > 0 && total <= limit; total += n)
        n = b ? mime_b64_finish(&b64, scratch, sizeof(scratch))
              : mime_qp_finish(&qp, scratch, sizeof(scratch));
    return total > limit;
}

static bool collect(void *arg, const struct mime_part *p)
{
    struct proxy_mail_scan *ms = arg;
    const struct config *cfg = ms->cfg;
    const char *hit = NULL;
    if (p->flags & MIME_F_BAD_BOUNDARY)
        hit = PROXY_MAIL_SCAN_POLICY_BOUNDARY;
    else if (p->flags & MIME_F_BAD_FILENAME)
        hit = PROXY_MAIL_SCAN_POLICY_FILENAME;
    else if (p->flags & MIME_F_TOO_DEEP)
        hit = PROXY_MAIL_SCAN_POLICY_DEPTH; /* libclamav stops sooner still */
    else if (cfg->block_partial_message && p->is_partial)
        hit = PROXY_MAIL_SCAN_POLICY_PARTIAL;
    else if (cfg->block_ext && p->filename[0] && block_ext_matches(cfg, p->filename))
        hit = PROXY_MAIL_SCAN_POLICY_EXT;
    if (hit) {
        ms->policy = hit;
        str_copy(ms->policy_file, sizeof(ms->policy_file), p->filename);
        return false; /* the first one decides */
    }
    if (p->is_multipart || p->is_message)
        return true; /* a container: its parts follow */
    if (cfg->block_filesize && decoded_size_over(p, cfg->block_filesize_len)) {
        ms->policy = PROXY_MAIL_SCAN_POLICY_FILESIZE;
        str_copy(ms->policy_file, sizeof(ms->policy_file), p->filename);
        return false;
    }
    ms->res.files++;
    bool named = p->filename[0] || p->attachment;
    if (named && cfg->pass_ext &&
        pass_rules_extension(str_from_cstr(p->filename), cfg->pass_ext_list.items,
                             cfg->pass_ext_list.count))
        return true; /* SCAN-4: exempt from scanning */
    bool html = strcmp(p->type, "text/html") == 0;
    bool encoded = p->cte == MIME_CTE_BASE64 || p->cte == MIME_CTE_QP;
    if (encoded && strncmp(p->type, "text/", 5) == 0 && encoded_uu(p)) {
        /* A uuencoded file inside an encoded text: clients decode both
         * layers, libclamav does not; the mail cannot be passed unseen. */
        ms->policy = PROXY_MAIL_SCAN_POLICY_UUENCODE;
        str_copy(ms->policy_file, sizeof(ms->policy_file), p->filename);
        return false;
    }
    /* A uuencoded file in any raw body is an attachment all the same. */
    if (!encoded && !add_uu_parts(ms, p->body))
        return false; /* out of memory (ms->oom) or too many (ms->policy) */
    if (!named && strcmp(p->type, "text/plain") == 0) {
        /* SCAN-8: virus_check_text=no skips prose, never an encoded
         * payload: a base64 or QP text body is scanned decoded. */
        if ((cfg->virus_check_text || encoded) && !add_part(ms, p->body, p->cte, ""))
            return false;
        return true;
    }
    if (!add_part(ms, p->body, p->cte, p->filename))
        return false;
    ms->parts[ms->nparts - 1].html = html;
    ms->parts[ms->nparts - 1].exec_only = html && !named && !cfg->virus_check_wholehtml;
    return true;
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

struct proxy_mail_scan *proxy_mail_scan_open(struct proxy_worker *w, enum scanreq_service svc,
                                             int spool_fd, uint64_t len,
                                             const struct svclog_ctx *log, struct mime_summary *sum)
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
    ms->part_fd = -1;
    ms->exec_fd = -1;
    ms->len = (size_t)len;
    memset(sum, 0, sizeof(*sum));
    if (len == 0)
        return ms;
    void *map = ms->len <= PROXY_MAIL_SCAN_COPY_MAX ? read_whole(spool_fd, ms->len) : NULL;
    ms->map_heap = map != NULL;
    if (!map) {
        map = mmap(NULL, ms->len, PROT_READ, MAP_PRIVATE, spool_fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            free(ms);
            errno = e;
            return NULL;
        }
    }
    ms->map = map;
    mime_walk(ms->map, ms->len, collect, ms, sum);
    if (sum->flags & MIME_F_LONG_HEADER)
        svclog_warning(log, "parse_header: Too long header lines (len=%u,limit=%u). ignored",
                       sum->header_lines_max, MIME_HEADER_LINES_MAX);
    if (!ms->policy && ((sum->flags & WHOLE_FLAGS) || ms->uu_seen) && !ms->oom &&
        add_part(ms, str_make(ms->map, ms->len), MIME_CTE_BINARY, "")) {
        /* What the walk could not take apart with certainty (and a
         * uuencoded file, which clients may read otherwise): libclamav's
         * mail parser gets the whole message. */
        ms->parts[ms->nparts - 1].whole = true;
    }
    if (ms->oom) {
        proxy_mail_scan_free(ms);
        errno = ENOMEM;
        return NULL;
    }
    return ms;
}

/* ---- scanning the parts ----------------------------------------------- */

static void release_part(struct proxy_mail_scan *ms)
{
    if (ms->part_fd >= 0)
        close(ms->part_fd);
    if (ms->exec_fd >= 0)
        close(ms->exec_fd);
    ms->part_fd = ms->exec_fd = -1;
    ms->w->spool_mem_used -= ms->mem_held;
    ms->mem_held = 0;
}

static void finish(struct proxy_mail_scan *ms)
{
    release_part(ms);
    ms->finished = true;
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

/* new_spool - memfd when bound bytes fit the worker's budget, else an
 * unnamed file in tmpdir. */
static int new_spool(struct proxy_mail_scan *ms, uint64_t bound)
{
    struct proxy_worker *w = ms->w;
    if (bound <= PROXY_MAIL_SCAN_MEM_PART_MAX &&
        w->spool_mem_used + bound <= PROXY_SPOOL_MEM_BUDGET) {
        int fd = spoolfile_create_mem();
        if (fd >= 0) {
            w->spool_mem_used += bound;
            ms->mem_held += bound;
            return fd;
        }
    }
    return spoolfile_create(ms->cfg->tmpdir);
}

struct decoded {
    uint64_t len;
    bool has_digest;
    uint8_t digest[SHA256_DIGEST_LEN];
};

/* decode_part - the decoded body of p into fd. false with errno. */
static bool decode_part(struct proxy_mail_scan *ms, const struct mail_part *p, int fd,
                        struct decoded *out)
{
    static char chunk[DECODE_CHUNK]; /* a worker is one thread */
    bool hashing = ms->cfg->verdict_cache;
    out->len = 0;
    const char *in = ms->map + p->off;
    size_t left = p->len;
    struct mime_b64 b64;
    struct mime_qp qp;
    mime_b64_init(&b64);
    mime_qp_init(&qp);
    bool draining = false;
    if (p->whole) {
        if (spoolfile_write_all(fd, WHOLE_PREFIX, sizeof(WHOLE_PREFIX) - 1) < 0)
            return false;
        hashing = false; /* not a part: the verdict cache is for parts */
        out->len = sizeof(WHOLE_PREFIX) - 1;
    }
    /* A part small enough for the verdict cache is hashed as it is
     * decoded; without a digest it is only scanned. */
    struct sha256 hash = {0};
    if (hashing && sha256_init(&hash) < 0)
        hashing = false;
    for (;;) {
        const char *data;
        size_t n;
        if (p->uu) {
            size_t used = 0;
            n = left ? mime_uu_decode(in, left, chunk, sizeof(chunk), &used) : 0;
            if (n == 0 && used == 0)
                break;
            in += used;
            left -= used;
            data = chunk;
        } else if (p->cte == MIME_CTE_BASE64 || p->cte == MIME_CTE_QP) {
            size_t used = 0;
            if (!draining && left > 0) {
                n = p->cte == MIME_CTE_BASE64
                        ? mime_b64_decode(&b64, in, left, chunk, sizeof(chunk), &used)
                        : mime_qp_decode(&qp, in, left, chunk, sizeof(chunk), &used);
                in += used;
                left -= used;
            } else {
                draining = true;
                n = p->cte == MIME_CTE_BASE64 ? mime_b64_finish(&b64, chunk, sizeof(chunk))
                                              : mime_qp_finish(&qp, chunk, sizeof(chunk));
                if (n == 0)
                    break;
            }
            data = chunk;
        } else {
            if (left == 0)
                break;
            n = left < DECODE_CHUNK ? left : DECODE_CHUNK;
            data = in;
            in += n;
            left -= n;
        }
        if (n == 0)
            continue;
        if (spoolfile_write_all(fd, data, n) < 0) {
            int err = errno;
            sha256_release(&hash);
            errno = err;
            return false;
        }
        if (hashing && out->len + n <= VERDICT_CACHE_OBJECT_MAX) {
            sha256_update(&hash, data, n);
        } else if (hashing) {
            hashing = false;
            sha256_release(&hash);
        }
        out->len += n;
    }
    out->has_digest = hashing && sha256_final(&hash, out->digest) == 0;
    sha256_release(&hash);
    return true;
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

/* start_part - decode part i and start its scan. Returns true when a scan
 * is in flight (or its callback already ran); false when the part needed
 * no scan, or the run is decided (ms->res set). */
static bool start_part(struct proxy_mail_scan *ms, const struct mail_part *p)
{
    uint64_t bound = p->cte == MIME_CTE_BASE64 ? (uint64_t)p->len / 4u * 3u + 3u : p->len;
    if (p->whole)
        bound += sizeof(WHOLE_PREFIX);
    ms->part_fd = new_spool(ms, bound);
    if (ms->part_fd < 0) {
        fail(ms, errno, "cannot create a spool file");
        return false;
    }
    struct decoded dec;
    if (!decode_part(ms, p, ms->part_fd, &dec)) {
        fail(ms, errno, "spool write failed");
        return false;
    }
    int scan_fd = ms->part_fd;
    if (p->html && dec.len > 0 &&
        (p->exec_only || ms->cfg->block_script || ms->cfg->block_activex)) {
        void *html = mmap(NULL, (size_t)dec.len, PROT_READ, MAP_PRIVATE, ms->part_fd, 0);
        if (html == MAP_FAILED) {
            fail(ms, errno, "cannot map a decoded part");
            return false;
        }
        struct exec_sink x = {.fd = -1};
        if (p->exec_only) {
            x.fd = ms->exec_fd = new_spool(ms, dec.len * 2u + 16u);
            if (x.fd < 0) {
                int e = errno;
                munmap(html, (size_t)dec.len);
                fail(ms, e, "cannot create a spool file");
                return false;
            }
        }
        unsigned flags = html_scan(html, (size_t)dec.len, write_exec_part, &x);
        munmap(html, (size_t)dec.len);
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
            scan_fd = ms->exec_fd;
            dec.has_digest = false;
        }
    }
    ms->returned = false;
    ms->scan = proxy_scan_start(ms->w->scan_pool, ms->cfg, ms->svc, scan_fd,
                                p->filename[0] ? p->filename : "message",
                                dec.has_digest ? dec.digest : NULL, ms->log, on_part_scanned, ms);
    return true;
}

/* advance - scan the parts from ms->next on until one is in flight or
 * the run is decided; then call back. Iterative, so that scans answered
 * synchronously (verdict cache) do not recurse. */
static void advance(struct proxy_mail_scan *ms)
{
    ms->in_step = true;
    while (ms->res.verdict == SCANREQ_CLEAN && ms->next < ms->nparts) {
        const struct mail_part *p = &ms->parts[ms->next++];
        bool asked = start_part(ms, p);
        if (asked && !ms->returned) {
            ms->in_step = false;
            return; /* in flight: on_part_scanned goes on */
        }
        release_part(ms);
    }
    ms->in_step = false;
    finish(ms);
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
    advance(ms);
}

void proxy_mail_scan_run(struct proxy_mail_scan *ms, proxy_mail_scan_fn *cb, void *arg)
{
    ms->cb = cb;
    ms->cb_arg = arg;
    ms->res.verdict = SCANREQ_CLEAN;
    if (ms->policy) {
        /* SCAN-6/7: a policy detection is handled exactly like a virus. */
        detected(ms, ms->policy, ms->policy_file);
        finish(ms);
        return;
    }
    if (!ms->cfg->virus_check) {
        finish(ms);
        return;
    }
    advance(ms);
}

void proxy_mail_scan_free(struct proxy_mail_scan *ms)
{
    if (!ms)
        return;
    if (ms->scan)
        proxy_scan_cancel(ms->scan);
    ms->scan = NULL;
    release_part(ms);
    if (ms->map_heap)
        free((void *)ms->map);
    else if (ms->map)
        munmap((void *)ms->map, ms->len);
    free(ms->parts);
    free(ms);
}
