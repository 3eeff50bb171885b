/* file_read - a small configuration file, whole, into memory. */
#include "lib/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *file_read_all(const char *path, size_t max, size_t *len, char *err, size_t errcap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0) {
        int e = errno;
        snprintf(err, errcap, "%s", strerror(e));
        errno = e; /* callers tell a missing file (ENOENT) from the rest */
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "not a regular file");
        close(fd);
        return NULL;
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max) {
        snprintf(err, errcap, "larger than %zu bytes", max);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *data = malloc(cap + 1);
    if (!data) {
        snprintf(err, errcap, "out of memory");
        close(fd);
        return NULL;
    }
    /* Read one byte more than stat promised, to notice a file that grew
     * past the limit meanwhile. Bounded by cap. */
    while (n < cap) {
        ssize_t r = read(fd, data + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errcap, "%s", strerror(errno));
            free(data);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max) {
        snprintf(err, errcap, "larger than %zu bytes", max);
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}
