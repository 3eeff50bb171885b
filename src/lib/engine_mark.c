/* engine_mark - see engine_mark.h. */
#include "lib/engine_mark.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int engine_mark_path(const char *socket_path, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s" ENGINE_MARK_SUFFIX, socket_path);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int engine_mark_write(const char *path, uint64_t engine_id)
{
    char tmp[4200], text[40];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int len = snprintf(text, sizeof(text), "engine=%016llx\n", (unsigned long long)engine_id);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write(fd, text, (size_t)len) != len || close(fd) != 0 || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

bool engine_mark_changed(const char *path, struct engine_mark_seen *seen)
{
    struct stat st;
    struct engine_mark_seen now = {0};
    if (stat(path, &st) == 0) {
        now.valid = true;
        now.dev = st.st_dev;
        now.ino = st.st_ino;
        now.mtime = st.st_mtim;
    }
    bool changed =
        now.valid != seen->valid || (now.valid && (now.dev != seen->dev || now.ino != seen->ino ||
                                                   now.mtime.tv_sec != seen->mtime.tv_sec ||
                                                   now.mtime.tv_nsec != seen->mtime.tv_nsec));
    *seen = now;
    return changed;
}
