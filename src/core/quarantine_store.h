/* quarantine_store - the quarantined objects in quarantine_dir.
 *
 * The proxies copy each detected object into quarantine_dir (SCAN-12,
 * proxy_detect) and, once the copy is complete, write "<id>.meta" beside
 * it (proto/quarantine_meta) with qstore_meta_write: to "<id>.meta.tmp",
 * then renamed, so a meta that is there is whole and its object complete.
 * This module is what the console and sekisho-quarantine see of them:
 * the list (newest first), one item, delete, and "released".
 *
 * Only files the proxies made are touched: an id must be of their form
 * (qmeta_id_parse: no '/', no "..", nothing else), every file is opened
 * relative to the directory with O_NOFOLLOW and must be a regular file,
 * and an item is an object with a valid meta beside it (an object without
 * its meta is still being copied, or its copy failed; a meta without its
 * object was deleted by hand: neither is listed nor acted on).
 *
 * Concurrency: an action that changes an item (released, delete) takes
 * an exclusive flock on its object, without waiting: a second console
 * tab or a command-line run at the same moment gets QSTORE_BUSY. A meta
 * is rewritten as root keeps the object's owner, so the console (running
 * as run_user) still reads it.
 *
 * What it owns: nothing between calls (no globals). What it does not do:
 * no mail, no zip (core/quarantine_release, core/quarantine_zip).
 */
#ifndef SEKISHO_CORE_QUARANTINE_STORE_H
#define SEKISHO_CORE_QUARANTINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/quarantine_meta.h"

#define QSTORE_LIST_MAX 10000 /* items one list call returns, at most */

enum qstore_status {
    QSTORE_OK = 0,
    QSTORE_BAD_ID,    /* not an id the proxies make */
    QSTORE_NOT_FOUND, /* no such object (or it is not a regular file) */
    QSTORE_NO_META,   /* the object has no meta (still being copied, or its copy failed) */
    QSTORE_MALFORMED, /* the meta is not one this program reads */
    QSTORE_RELEASED,  /* released already */
    QSTORE_BUSY,      /* another release or delete of it is under way */
    QSTORE_IO,        /* a system call failed: errno */
};

/* qstore_status_text - a sentence for a status ("no such quarantined
 * object", ...). */
const char *qstore_status_text(enum qstore_status st);

struct qstore_item {
    char id[QMETA_ID_MAX + 1];
    uint64_t object_size;          /* the file in quarantine_dir */
    char text[QMETA_TEXT_MAX + 1]; /* the meta, as read */
    struct qmeta meta;             /* views into text */
};

/* Called newest first; return false to stop. item is valid during the
 * call only. */
typedef bool qstore_item_fn(void *arg, const struct qstore_item *item);

/* qstore_list - at most max (<= QSTORE_LIST_MAX) items of dir, newest
 * first (by the time in their ids); what is not an item (see above) is
 * skipped. The number passed to fn, or -1 with errno (dir unreadable). */
long qstore_list(const char *dir, size_t max, qstore_item_fn *fn, void *arg);

/* qstore_get - one item. */
enum qstore_status qstore_get(const char *dir, const char *id, struct qstore_item *out);

/* qstore_open_object - the object of a valid item (qstore_get's checks),
 * open for reading; *fd, and out filled. */
enum qstore_status qstore_open_object(const char *dir, const char *id, struct qstore_item *out,
                                      int *fd);

/* qstore_lock - qstore_open_object, then an exclusive flock on the object
 * (QSTORE_BUSY when someone holds it); the item is read after the lock is
 * taken. qstore_unlock(fd) ends it. */
enum qstore_status qstore_lock(const char *dir, const char *id, struct qstore_item *out, int *fd);
void qstore_unlock(int fd);

/* qstore_set_released - rewrite the meta of a locked item (qstore_lock)
 * with "released: when by"; QSTORE_RELEASED when it is already. by is
 * cut at the first control character. */
enum qstore_status qstore_set_released(const char *dir, struct qstore_item *item, int64_t when,
                                       const char *by);

/* qstore_mark_released - lock, set released, unlock (an HTTP or FTP
 * object: nothing is sent anywhere). */
enum qstore_status qstore_mark_released(const char *dir, const char *id, int64_t when,
                                        const char *by);

/* qstore_delete - the object and its meta removed (under the lock). */
enum qstore_status qstore_delete(const char *dir, const char *id);

/* qstore_meta_write - text as the meta of the object at object_path
 * ("<object_path>.meta"): written to "<object_path>.meta.tmp" (0600, the
 * object's owner when run as root), fsync'd when sync, renamed. Any
 * thread; no other state. 0, or -1 with errno (the temporary file
 * removed). */
int qstore_meta_write(const char *object_path, const char *text, size_t len, bool sync);

#endif
