/* proxy_spool - where a proxy keeps a body while it is scanned.
 *
 * Every spooled object (an HTTP response or upload, an SMTP or POP3
 * message, a decoded mail part) starts in memory (a memfd: no file-system
 * inode, no disk write for the common small object) when it is expected
 * to fit PROXY_SPOOL_MEM_MAX and the worker's budget allows, and moves to
 * an unnamed 0600 file in tmpdir as soon as it outgrows its reservation
 * or its size is unknown and the budget is spent. One constant, one
 * budget (struct proxy_worker spool_mem_used against
 * PROXY_SPOOL_MEM_BUDGET), one copy of the move. Spool files are never
 * named (lib/spoolfile), so a crash leaves nothing behind.
 */
#ifndef SEKISHO_PROXY_SPOOL_H
#define SEKISHO_PROXY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/proxy_worker.h"

/* Objects up to this size may be spooled in memory. */
#define PROXY_SPOOL_MEM_MAX (256u * 1024u)

struct proxy_spool {
    int fd;       /* -1 when closed */
    uint64_t len; /* bytes written */
    uint64_t mem; /* bytes of the worker's budget this spool holds */
    int err;      /* errno of the first failure, 0 if none */
    struct proxy_worker *w;
};

#define PROXY_SPOOL_CLOSED ((struct proxy_spool){.fd = -1})

/* proxy_spool_open - a new spool for an object of expected bytes (0 =
 * unknown). 0, or -1 with errno (and sp->err) when not even tmpdir can
 * take a file. */
int proxy_spool_open(struct proxy_spool *sp, struct proxy_worker *w, uint64_t expected);

/* proxy_spool_open_disk - a spool in tmpdir from the start, for an
 * object another module writes through the descriptor (the FTP client,
 * an upload of unknown size). */
int proxy_spool_open_disk(struct proxy_spool *sp, struct proxy_worker *w);

/* proxy_spool_write - append p[0..n), moving to tmpdir first when the
 * memory reservation would be exceeded. 0, or -1 with errno (a full disk:
 * ENOSPC); after a failure the spool takes nothing more. */
int proxy_spool_write(struct proxy_spool *sp, const void *p, size_t n);

/* proxy_spool_in_memory - the spool is a memfd. */
static inline bool proxy_spool_in_memory(const struct proxy_spool *sp)
{
    return sp->mem > 0;
}

/* proxy_spool_close - close it and give its memory back. Idempotent. */
void proxy_spool_close(struct proxy_spool *sp);

/* A byte range of the spool the sender leaves out (change_subject: the
 * original Subject field); start == end: none. */
struct proxy_spool_skip {
    uint64_t start, end;
};

/* proxy_spool_window - the sender's next read of a spool of len bytes at
 * *off: moves *off past the skipped range when it is there, and returns
 * how many bytes to read (at most cap, never into the range), 0 at the
 * end. */
static inline size_t proxy_spool_window(uint64_t *off, uint64_t len,
                                        const struct proxy_spool_skip *skip, size_t cap)
{
    if (skip->end > skip->start && *off >= skip->start && *off < skip->end)
        *off = skip->end;
    if (*off >= len)
        return 0;
    uint64_t stop = len;
    if (skip->end > skip->start && *off < skip->start)
        stop = skip->start;
    return stop - *off < cap ? (size_t)(stop - *off) : cap;
}

#endif
