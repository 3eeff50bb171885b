/* scand_tmpdir - where libclamav writes what it extracts.
 *
 * What it does: prepares <tmpdir>/scand, the directory libclamav's
 * temporary files go to (CL_ENGINE_TMPDIR), inside the tmpdir of [common]
 * that the proxies spool in: 0700, owned by the user scand will run as,
 * the same 5 MB free-space check as the proxies' start (GEN-7). A
 * scanning process killed in the middle of a scan leaves libclamav's
 * per-scan directories behind; they are removed here, at each start.
 *
 * What it owns: nothing after the call (it only touches the file system).
 * What it does not do: no libclamav calls (engine_set_tmpdir does that).
 */
#ifndef SEKISHO_SCAND_TMPDIR_H
#define SEKISHO_SCAND_TMPDIR_H

#include <stddef.h>

#define SCAND_TMPDIR_SUBDIR      "scand"
#define SCAND_TMPDIR_MIN_FREE_KB (5 * 1024) /* GEN-7: 5 MB, as the proxies check */

/* scand_tmpdir_prepare - create (or fix) tmpdir and tmpdir/scand for user
 * (NULL or not root: the current user), empty the latter, check the free
 * space; the path of tmpdir/scand in path. 0, or -1 with a reason in err. */
int scand_tmpdir_prepare(const char *tmpdir, const char *user, char *path, size_t cap, char *err,
                         size_t errcap);

/* scand_tmpdir_empty - remove everything inside path (a scanning process
 * that replaces one that was killed mid-scan). 0, or -1 with errno. */
int scand_tmpdir_empty(const char *path);

#endif
