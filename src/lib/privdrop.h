/* privdrop - giving up root for good, done one way by the sekisho master
 * and by sekisho-scand's supervisor.
 *
 * Both start as root only to bind what needs it (the service port, the
 * scanner's socket) and to prepare their directories for the user they
 * will run as; they become that user before any peer byte is read, and
 * everything they fork (workers, the scanning process, log pipes) inherits
 * it. PR_SET_NO_NEW_PRIVS is set whether or not there was root to give up,
 * so that neither they nor anything they execute can gain privileges back
 * through a set-user-ID file or file capabilities.
 */
#ifndef SEKISHO_LIB_PRIVDROP_H
#define SEKISHO_LIB_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* privdrop_resolve - whom to become. When running as root: user's uid and
 * primary gid; -1 with a reason in err when there is no such user or it is
 * root itself (sessions and scans never run as root). When not root:
 * (uid_t)-1 and (gid_t)-1, nothing to drop, and 0. */
int privdrop_resolve(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/* privdrop_to - unless uid is (uid_t)-1: no supplementary groups, gid and
 * uid as real, effective and saved ids, and a check that setuid(0) now
 * fails; the process stays dumpable (core files for the crash lines,
 * LOG-E19). Then, in every case, PR_SET_NO_NEW_PRIVS. 0, or -1 with
 * errno. */
int privdrop_to(uid_t uid, gid_t gid);

#endif
