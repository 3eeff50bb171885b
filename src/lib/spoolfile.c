/* spoolfile - unnamed temporary files for spooled bodies. */
#include "lib/spoolfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lib/str.h"

static int mkdir_parents(const char *dir)
{
    char path[4096];
    if (str_copy(path, sizeof(path), dir) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int spoolfile_prepare_dir(const char *dir, uid_t uid, gid_t gid)
{
    if (mkdir_parents(dir) < 0)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    int rc = 0;
    if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0)
        rc = -1;
    if (rc == 0 && fchmod(fd, 0700) < 0)
        rc = -1;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int spoolfile_create(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR))
        return fd;
    /* File systems without O_TMPFILE: a named file unlinked at once. */
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/proxytmp-XXXXXX", dir) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        unlink(path);
    return fd;
}

int spoolfile_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int spoolfile_read_at(int fd, void *buf, size_t n, off_t off)
{
    char *c = buf;
    while (n > 0) {
        ssize_t r = pread(fd, c, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        c += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

static int copy_all(int from, int to)
{
    off_t in_off = 0;
    for (;;) {
        ssize_t n = copy_file_range(from, &in_off, to, NULL, 1 << 20, 0);
        if (n == 0)
            return 0;
        if (n > 0)
            continue;
        if (errno == EINTR)
            continue;
        if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
            return -1;
        break; /* e.g. an in-memory spool to a disk file: plain copy */
    }
    char chunk[65536];
    for (;;) {
        ssize_t n = pread(from, chunk, sizeof(chunk), in_off);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (spoolfile_write_all(to, chunk, (size_t)n) < 0)
            return -1;
        in_off += n;
    }
}

int spoolfile_to_disk(int fd, const char *dir)
{
    int out = spoolfile_create(dir);
    if (out < 0)
        return -1;
    if (copy_all(fd, out) < 0) {
        int saved = errno;
        close(out);
        errno = saved;
        return -1;
    }
    return out;
}

int spoolfile_create_mem(void)
{
    int fd = memfd_create("sekisho-spool", MFD_CLOEXEC);
    /* A memfd starts 0777; like every spool it is the owner's alone. */
    if (fd >= 0 && fchmod(fd, 0600) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int spoolfile_link(int fd, const char *dir, const char *name)
{
    char path[4096], proc[64];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

int spoolfile_keep(int fd, const char *dir, const char *name)
{
    if (spoolfile_link(fd, dir, name) == 0)
        return 0;
    char path[4096];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0)
        return -1;
    int rc = copy_all(fd, out);
    int saved = errno;
    if (close(out) < 0 && rc == 0)
        rc = -1, saved = errno;
    if (rc < 0)
        unlink(path);
    errno = saved;
    return rc;
}

int64_t spoolfile_free_kb(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) < 0)
        return -1;
    return (int64_t)((uint64_t)sv.f_bavail * sv.f_frsize / 1024u);
}
