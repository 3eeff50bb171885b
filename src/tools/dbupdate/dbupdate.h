/* dbupdate - shared state of the dbupdate program (CLI-3).
 *
 * The program is two processes: the one the administrator (or the hourly
 * timer) starts, which takes the update lock, forks the update and waits
 * for it at most --timeout (G-24), and the update itself (dbu_worker.c),
 * which goes on in the background when the wait ends first. They share
 * nothing but the lock file and the status file (dbu_status.h).
 *
 * Paths (all absolute, from sekisho.ini's [common] and the prefix):
 *   databases    database_dir, the set sekisho-scand loads
 *   staging      "<databases>.staging": the next set is built here
 *   previous     "<databases>.previous": the set the last update replaced
 *   tmp          "<databases>.tmp": libfreshclam's downloads (same file
 *                system as staging, so its renames are renames)
 *   run/dbupdate.lock, run/dbupdate.status, log/dbupdate.log, and
 *   log/freshclam.log (libfreshclam's own detailed log; the guide's
 *   fsaua.log has the same role).
 */
#ifndef SEKISHO_TOOLS_DBUPDATE_H
#define SEKISHO_TOOLS_DBUPDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/dbupdate_conf.h"

#define DBU_PATH_MAX 4096

/* Exit codes of CLI-3. A signal gives 128 + its number (the shell's rule;
 * the program re-raises the signal after stopping the update). */
enum dbu_exit {
    DBU_EXIT_NOTHING_NEW = 0,
    DBU_EXIT_FAILED = 1,
    DBU_EXIT_UPDATED = 2,
};

/* Where the next set comes from. */
enum dbu_source {
    DBU_SOURCE_NETWORK = 0, /* libfreshclam: official databases and custom URLs */
    DBU_SOURCE_BUNDLE,      /* an offline bundle (KB-7) */
};

struct dbu_ctx {
    char ini_path[DBU_PATH_MAX];
    char conf_path[DBU_PATH_MAX]; /* conf/dbupdate.conf */
    char prefix[DBU_PATH_MAX];
    char databases[DBU_PATH_MAX];
    char staging[DBU_PATH_MAX];
    char previous[DBU_PATH_MAX];
    char tmp[DBU_PATH_MAX];
    char lock_path[DBU_PATH_MAX];
    char status_path[DBU_PATH_MAX];
    char log_path[DBU_PATH_MAX];
    char fc_log_path[DBU_PATH_MAX];
    char scand_socket[DBU_PATH_MAX];
    enum dbu_source source;
    char bundle[DBU_PATH_MAX];
    bool quiet; /* --auto: no progress lines on stdout */
    bool verbose;
    struct dbupdate_conf conf;
    /* From sekisho.ini [common] (KB-2, KB-13): used when dbupdate.conf
     * does not set UPDATEURL / use_proxy. */
    char ini_updateurl[DBU_URL_MAX + 1];
    size_t nproxies;
    struct dbu_proxy proxies[DBU_PROXIES_MAX];
};

/* dbu_worker_run - the update (in the forked process, holding the lock);
 * returns its exit code. Progress and the result go to the status file
 * and the log, never to the terminal (the caller may be gone). */
int dbu_worker_run(struct dbu_ctx *ctx);

#endif
