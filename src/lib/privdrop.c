/* privdrop - see privdrop.h. */
#include "lib/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int privdrop_resolve(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
    *uid = (uid_t)-1;
    *gid = (gid_t)-1;
    if (geteuid() != 0)
        return 0; /* already unprivileged: nothing to drop */
    const struct passwd *pw = user && *user ? getpwnam(user) : NULL;
    if (!pw) {
        snprintf(err, errlen, "user '%s': no such user", user ? user : "");
        return -1;
    }
    if (pw->pw_uid == 0) {
        snprintf(err, errlen, "user '%s' is root; refusing to run as root", user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

int privdrop_to(uid_t uid, gid_t gid)
{
    if (uid != (uid_t)-1) {
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
            return -1;
        if (setuid(0) == 0) { /* must be impossible now */
            errno = EPERM;
            return -1;
        }
        /* setuid clears the dumpable flag; core dumps of a crashed
         * worker or scanning process are wanted. */
        if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
            return -1;
    }
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
