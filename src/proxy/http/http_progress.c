/* http_progress - see http_progress.h. */
#include "proxy/http/http_progress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/spoolfile.h"

#define SWEEP_MAX_ENTRIES 4096 /* bounded work per sweep */

bool http_progress_dir(const char *tmpdir, char *out, size_t cap)
{
    return (size_t)snprintf(out, cap, "%s/progress", tmpdir) < cap;
}

int http_progress_new_token(char token[HTTP_PROGRESS_TOKEN_LEN + 1])
{
    unsigned char raw[HTTP_PROGRESS_TOKEN_LEN / 2];
    if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) != (ssize_t)sizeof(raw))
        return -1;
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        token[2 * i] = hex[raw[i] >> 4];
        token[2 * i + 1] = hex[raw[i] & 15];
    }
    token[HTTP_PROGRESS_TOKEN_LEN] = '\0';
    return 0;
}

static bool is_token(struct str s)
{
    if (s.len != HTTP_PROGRESS_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < s.len; i++)
        if (!((s.ptr[i] >= '0' && s.ptr[i] <= '9') || (s.ptr[i] >= 'a' && s.ptr[i] <= 'f')))
            return false;
    return true;
}

bool http_progress_parse_path(struct str path, char token[HTTP_PROGRESS_TOKEN_LEN + 1], bool *file)
{
    struct str prefix = STR_LIT(HTTP_PROGRESS_PREFIX);
    if (!str_has_prefix(path, prefix))
        return false;
    struct str rest = str_make(path.ptr + prefix.len, path.len - prefix.len), tok, tail;
    struct str q;
    str_cut(rest, '?', &rest, &q); /* a query (cache buster) is ignored */
    *file = str_cut(rest, '/', &tok, &tail);
    if (!is_token(tok))
        return false;
    str_copy_view(token, HTTP_PROGRESS_TOKEN_LEN + 1, tok);
    return true;
}

static int entry_path(char *out, size_t cap, const char *dir, const char *token, const char *ext)
{
    if ((size_t)snprintf(out, cap, "%s/%s%s", dir, token, ext) >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int http_progress_write(const char *dir, const char *token, const struct progress_record *r)
{
    static char mem[PROGRESS_RECORD_SIZE_MAX];
    struct buf b;
    buf_init(&b, mem, sizeof(mem));
    if (!progress_record_format(&b, r)) {
        errno = EOVERFLOW;
        return -1;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -1;
    char tmp[4096], path[4096];
    if (entry_path(tmp, sizeof(tmp), dir, token, ".st.tmp") < 0 ||
        entry_path(path, sizeof(path), dir, token, ".st") < 0)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    int rc = spoolfile_write_all(fd, buf_rptr(&b), buf_len(&b));
    int saved = errno;
    if (close(fd) < 0 && rc == 0)
        rc = -1, saved = errno;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1, saved = errno;
    if (rc < 0)
        unlink(tmp);
    errno = saved;
    return rc;
}

int http_progress_read(const char *dir, const char *token, struct progress_record *r, char *mem,
                       size_t cap)
{
    char path[4096];
    if (entry_path(path, sizeof(path), dir, token, ".st") < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, mem + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || (len += (size_t)n) == cap)
            break;
    }
    close(fd);
    if (len == cap || !progress_record_parse(mem, len, r)) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int http_progress_take_spool(const char *dir, const char *token, int spool_fd)
{
    char path[4096];
    if ((mkdir(dir, 0700) < 0 && errno != EEXIST) ||
        entry_path(path, sizeof(path), dir, token, ".body.part") < 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    off_t in_off = 0;
    int rc = fstat(spool_fd, &st);
    while (rc == 0 && in_off < st.st_size) {
        ssize_t n = copy_file_range(spool_fd, &in_off, fd, NULL, (size_t)(st.st_size - in_off), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* No copy_file_range across these files: plain reads. */
            char chunk[65536];
            n = pread(spool_fd, chunk, sizeof(chunk), in_off);
            if (n <= 0 || spoolfile_write_all(fd, chunk, (size_t)n) < 0) {
                rc = -1;
                break;
            }
            in_off += n;
        }
    }
    if (rc < 0) {
        int saved = errno;
        close(fd);
        unlink(path);
        errno = saved;
        return -1;
    }
    return fd;
}

int http_progress_keep_body(const char *dir, const char *token)
{
    char part[4096], path[4096];
    if (entry_path(part, sizeof(part), dir, token, ".body.part") < 0 ||
        entry_path(path, sizeof(path), dir, token, ".body") < 0)
        return -1;
    utimensat(AT_FDCWD, part, NULL, 0); /* kept PROGRESS_KEEP_S from now */
    return rename(part, path);
}

void http_progress_drop_body(const char *dir, const char *token)
{
    char part[4096];
    if (entry_path(part, sizeof(part), dir, token, ".body.part") == 0)
        unlink(part);
}

int http_progress_open_body(const char *dir, const char *token)
{
    char path[4096];
    if (entry_path(path, sizeof(path), dir, token, ".body") < 0)
        return -1;
    return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

void http_progress_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    for (int i = 0; i < SWEEP_MAX_ENTRIES && (e = readdir(d)) != NULL; i++) {
        struct str name = str_from_cstr(e->d_name);
        if (name.len < HTTP_PROGRESS_TOKEN_LEN ||
            !is_token(str_make(name.ptr, HTTP_PROGRESS_TOKEN_LEN)))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        /* The state file is rewritten at least once per second while the
         * download runs; the body is linked once at the end. */
        if (now - st.st_mtime > PROGRESS_KEEP_S)
            unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}
