/* pidfile - the file an rc script finds a running master by. */
#include "lib/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/spoolfile.h"

int pidfile_write(const char *path, pid_t pid)
{
    char tmp[4096], text[32];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int len = snprintf(text, sizeof(text), "%d\n", (int)pid);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return -1;
    int wrote = spoolfile_write_all(fd, text, (size_t)len);
    int err = errno;
    if (close(fd) < 0 && wrote == 0) {
        wrote = -1;
        err = errno;
    }
    if (wrote < 0) {
        unlink(tmp);
        errno = err;
        return -1;
    }
    if (rename(tmp, path) < 0) {
        err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}
