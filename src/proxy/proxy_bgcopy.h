/* proxy_bgcopy - a worker's quarantine copies, made off its event loop.
 *
 * A quarantine copy is O(object): a 2 GB infected mail rewritten in
 * mailbox format is seconds of disk I/O, and a worker's loop must not
 * block (nothing that can block runs on it). So a worker hands large
 * copies to one thread of its own, started on its first such copy:
 *
 *   loop:   create the destination (O_EXCL, 0600: the name in the record
 *           is reserved at once), dup() the spool, submit  ──► queue
 *   thread: copy (raw, or mailbox conversion), close both  ──► done
 *   loop:   eventfd readable: log a failure on the session's behalf
 *           (its log context was copied into the job), free the slot
 *
 * The queue holds PROXY_BGCOPY_JOBS jobs (queued, copying, or done and
 * not yet reported). When it is full, proxy_bgcopy_submit refuses
 * (EAGAIN): the caller logs that the object is not quarantined. It never
 * waits for room — eight large infected objects in flight on one worker
 * mean the disk is the bottleneck, and a ninth copy would only add to it.
 *
 * The thread touches nothing of the loop or of the logs (lib/log and
 * core/svclog keep process-wide state and are not thread-safe): it reads
 * its job, writes the result fields, and signals the eventfd. A failed
 * copy's partial file is unlinked by the thread; the error line is
 * written by the loop. The spool is read with pread / copy_file_range at
 * explicit offsets, so the dup'd descriptor never moves the session's own
 * file offset, and the session may close its descriptor at once.
 *
 * A job may carry the object's meta (proto/quarantine_meta): the thread
 * writes it beside the object once the copy is complete
 * (core/quarantine_store), never for a copy that failed.
 *
 * At a worker's exit, proxy_bgcopy_free lets queued copies finish for at
 * most wait_ms, then abandons the rest (partial files removed, each
 * logged), so a quarantined object is either complete or absent.
 */
#ifndef SEKISHO_PROXY_BGCOPY_H
#define SEKISHO_PROXY_BGCOPY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/svclog.h"
#include "lib/ev.h"

#define PROXY_BGCOPY_JOBS     8
#define PROXY_BGCOPY_DRAIN_MS 60000 /* a stopping worker waits this long */
#define PROXY_BGCOPY_PATH_MAX 4096
#define PROXY_BGCOPY_SEP_MAX  384 /* an mbox "From " line (mbox_separator) */

enum proxy_bgcopy_mode {
    PROXY_BGCOPY_RAW,  /* the bytes as they are (HTTP, FTP) */
    PROXY_BGCOPY_MBOX, /* sep, then the message in mailbox format (SMTP, POP3) */
};

/* What to copy. src and dst are taken over by a successful submit. */
struct proxy_bgcopy_req {
    enum proxy_bgcopy_mode mode;
    int src;          /* the object (a dup of the spool), read from offset 0 */
    uint64_t len;     /* bytes of src to copy (its size when queued) */
    int dst;          /* the destination, open for writing, empty */
    const char *path; /* dst's name, for the error line and the unlink */
    const char *sep;  /* MBOX: the separator line, '\n'-terminated */
    const char *meta; /* written as "<path>.meta" once the copy is done; NULL: none */
    size_t meta_len;
};

struct proxy_bgcopy;

/* proxy_bgcopy_run - the copy itself, on the calling thread: used by the
 * copier's thread, and by the loop for objects small enough to copy at
 * once. Stops with ECANCELED when *stop becomes true (stop may be NULL).
 * Neither descriptor is closed. 0, or -1 with errno. */
int proxy_bgcopy_run(const struct proxy_bgcopy_req *req, const atomic_bool *stop);

/* proxy_bgcopy_new - a copier reporting on loop; its thread starts
 * here. NULL with errno. */
struct proxy_bgcopy *proxy_bgcopy_new(struct ev_loop *loop);

/* proxy_bgcopy_submit - queue req; a failure is reported later with log
 * (copied: the session may be gone by then; so is the meta). 0, or -1
 * with errno (EAGAIN: the queue is full; ENAMETOOLONG; ENOMEM) and the
 * descriptors still the caller's. */
int proxy_bgcopy_submit(struct proxy_bgcopy *bc, const struct proxy_bgcopy_req *req,
                        const struct svclog_ctx *log);

/* proxy_bgcopy_pending - jobs submitted and not yet reported. */
unsigned proxy_bgcopy_pending(const struct proxy_bgcopy *bc);

/* proxy_bgcopy_free - finish the queued copies within wait_ms (blocking:
 * only when the loop has nothing else to do, at the worker's exit),
 * abandon the rest, report every job, stop the thread and free. NULL is
 * allowed. */
void proxy_bgcopy_free(struct proxy_bgcopy *bc, uint64_t wait_ms);

#endif
