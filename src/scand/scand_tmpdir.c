/* scand_tmpdir - where libclamav writes what it extracts (see
 * scand_tmpdir.h). */
#include "scand/scand_tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "lib/spoolfile.h"

#define SCAND_TMPDIR_NFTW_FDS 16

static const char *clean_root; /* nftw has no context argument */

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (strcmp(path, clean_root) == 0)
        return 0; /* the directory itself stays */
    int rc = type == FTW_DP ? rmdir(path) : unlink(path);
    return rc < 0 && errno != ENOENT ? -1 : 0;
}

int scand_tmpdir_empty(const char *path)
{
    /* Depth first, never following links; the directory itself stays. */
    clean_root = path;
    return nftw(path, remove_entry, SCAND_TMPDIR_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

int scand_tmpdir_prepare(const char *tmpdir, const char *user, char *path, size_t cap, char *err,
                         size_t errcap)
{
    uid_t uid = (uid_t)-1;
    gid_t gid = (gid_t)-1;
    if (user != NULL && geteuid() == 0) {
        const struct passwd *pw = getpwnam(user);
        if (pw == NULL) {
            snprintf(err, errcap, "tmpdir: no such user %s", user);
            return -1;
        }
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if ((size_t)snprintf(path, cap, "%s/%s", tmpdir, SCAND_TMPDIR_SUBDIR) >= cap) {
        snprintf(err, errcap, "tmpdir too long: %s", tmpdir);
        return -1;
    }
    if (spoolfile_prepare_dir(tmpdir, uid, gid) < 0 || spoolfile_prepare_dir(path, uid, gid) < 0) {
        snprintf(err, errcap, "cannot prepare %s: %s", path, strerror(errno));
        return -1;
    }
    /* Leftovers of a scanning process that was killed mid-scan: nothing
     * else writes here. */
    if (scand_tmpdir_empty(path) < 0) {
        snprintf(err, errcap, "cannot empty %s: %s", path, strerror(errno));
        return -1;
    }
    int64_t kb = spoolfile_free_kb(path);
    if (kb >= 0 && kb < SCAND_TMPDIR_MIN_FREE_KB) {
        snprintf(err, errcap, "%s: only %lld KB free, at least %d KB needed", path, (long long)kb,
                 SCAND_TMPDIR_MIN_FREE_KB);
        return -1;
    }
    return 0;
}
