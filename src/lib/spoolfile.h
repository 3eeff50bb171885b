/* spoolfile - unnamed temporary files for spooled bodies.
 *
 * A spool file is created with O_TMPFILE in the spool directory, so it has
 * no name at any time: nothing else can open it, and a crash leaves nothing
 * behind. Mode 0600; the directory itself is 0700 (spoolfile_prepare_dir).
 * The scanner gets the descriptor, never a path. Owns nothing beyond the
 * fds it returns.
 */
#ifndef SEKISHO_LIB_SPOOLFILE_H
#define SEKISHO_LIB_SPOOLFILE_H

#include <stdint.h>
#include <sys/types.h>

/* spoolfile_prepare_dir - create dir (and parents) if missing, then force
 * mode 0700 and owner uid:gid (when uid != (uid_t)-1). -1 with errno. */
int spoolfile_prepare_dir(const char *dir, uid_t uid, gid_t gid);

/* spoolfile_create - an unnamed 0600 file in dir, opened read-write. */
int spoolfile_create(const char *dir);

/* spoolfile_create_mem - an anonymous in-memory file (memfd) for a body
 * known to be small. It needs no file-system inode: on ext4, creating and
 * freeing one per request was 30% of the HTTP proxy's CPU at 1000 clients
 * (inode bitmap searches, docs/bench.md). Same semantics as a spool file
 * otherwise (0600, regular, readable through the descriptor only); the
 * caller bounds how much memory such files hold. -1 with errno. */
int spoolfile_create_mem(void);

/* spoolfile_write_all - write p[0..n) at fd's offset, retrying short
 * writes and EINTR. 0, or -1 with errno (ENOSPC when a write makes no
 * progress). */
int spoolfile_write_all(int fd, const void *p, size_t n);

/* spoolfile_read_at - read exactly n bytes at offset off. 0, or -1 with
 * errno (EIO when the file ends first). */
int spoolfile_read_at(int fd, void *buf, size_t n, off_t off);

/* spoolfile_to_disk - a new spool file in dir holding the content of fd
 * (an in-memory spool that grew too big), its offset at the end, so that
 * writing goes on where it was. fd stays open. -1 with errno. */
int spoolfile_to_disk(int fd, const char *dir);

/* spoolfile_link - give the spool file the name dir/name by a hard link
 * (no data moved): works for an O_TMPFILE spool on dir's file system;
 * fails (EXDEV, ENOENT) for a memfd, another file system, or a spool
 * that was unlinked rather than created unnamed. 0, or -1 with errno. */
int spoolfile_link(int fd, const char *dir, const char *name);

/* spoolfile_keep - give the spool file a name in dir (quarantine):
 * links it when dir is on the same file system, copies it otherwise
 * (O(size), blocking: not for an event loop, see proxy/proxy_bgcopy).
 * The new file is 0600. Returns 0, or -1 with errno. */
int spoolfile_keep(int fd, const char *dir, const char *name);

/* spoolfile_free_kb - free space available to unprivileged users, in KiB,
 * or -1 with errno. */
int64_t spoolfile_free_kb(const char *dir);

#endif
