/* engine_mark - a file that changes each time sekisho-scand puts new
 * definitions in service ("<scand_socket>.engine").
 *
 * Why: a proxy worker answers a body it has seen from its verdict cache
 * without asking scand (core/verdict_cache). Entries were dropped only when
 * a scan reply named a new engine, or after 60 s, so for up to a minute
 * after dbupdate installed a definition a worker could still pass a file
 * the new definition detects. scand replaces this file (write, rename: a
 * new inode) right after a new engine serves and before it answers the
 * RELOAD, so when dbupdate reports success every worker's next cache
 * lookup sees the change and forgets what the old definitions passed.
 *
 * The file holds the engine id in hex, for people; readers only compare
 * the inode and modification time (one stat(2), no read).
 */
#ifndef SEKISHO_LIB_ENGINE_MARK_H
#define SEKISHO_LIB_ENGINE_MARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define ENGINE_MARK_SUFFIX ".engine"

/* engine_mark_path - "<socket_path>.engine" into out; -1 if it does not fit. */
int engine_mark_path(const char *socket_path, char *out, size_t cap);

/* engine_mark_write - replace the file at path with one naming engine_id.
 * -1 with errno. */
int engine_mark_write(const char *path, uint64_t engine_id);

struct engine_mark_seen {
    bool valid; /* the file existed at the last look */
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
};

/* engine_mark_changed - look at path: true when what is there now differs
 * from *seen (including appearing or disappearing), and *seen updated. */
bool engine_mark_changed(const char *path, struct engine_mark_seen *seen);

#endif
