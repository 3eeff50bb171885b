/* dbu_status - the update lock and the status file of a running update.
 *
 * The lock (run/dbupdate.lock, flock) makes one update at a time; the
 * update process holds it from start to end. The status file
 * (run/dbupdate.status) says what that update is doing and, once it has
 * ended, how: a second `dbupdate` reads it to report progress (G-24) and
 * the one that started the update reads it for the result. It is small,
 * key=value lines, replaced whole (write a temporary, rename), so a
 * reader never sees half of it. dbupdate writes them; the web console
 * reads them too (its Definitions page).
 */
#ifndef SEKISHO_CORE_DBU_STATUS_H
#define SEKISHO_CORE_DBU_STATUS_H

#include <stdbool.h>
#include <time.h>

#define DBU_STAGE_MAX   256
#define DBU_MESSAGE_MAX 1024

struct dbu_status {
    long pid;       /* of the update process */
    time_t started; /* when it started */
    time_t changed; /* when stage last changed */
    char stage[DBU_STAGE_MAX];
    int result;                    /* -1 while running, else its exit code */
    char message[DBU_MESSAGE_MAX]; /* the result in one line (reason of a failure) */
};

/* dbu_lock_open - open (create) the lock file; -1 with errno. */
int dbu_lock_open(const char *path);
/* dbu_lock_try - take the lock without waiting: 1 taken, 0 held by
 * another process, -1 error. */
int dbu_lock_try(int fd);

int dbu_status_write(const char *path, const struct dbu_status *st);
/* dbu_status_read - 0 when the file exists and parses, else -1. */
int dbu_status_read(const char *path, struct dbu_status *st);

#endif
