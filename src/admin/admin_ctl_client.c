/* admin_ctl_client - the web process's side of the controller channel.
 * One request at a time (the lock), each answered before the next: the
 * controller is sequential, and a restart takes as long as it takes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include "admin/admin.h"
#include "lib/fd_pass.h"
#include "lib/file_read.h"

static bool call(const struct admin_ctl_request *rq, int content_fd, struct admin_ctl_reply *reply,
                 int *reply_fd)
{
    unsigned char frame[ADMIN_CTL_REQUEST_LEN];
    static unsigned char in[ADMIN_CTL_REPLY_MAX + 1]; /* under ctl_lock */
    memset(reply, 0, sizeof(*reply));
    reply->status = ADMIN_CTL_FAILED;
    size_t len = admin_ctl_encode_request(rq, frame);
    if (len == 0) {
        str_format(reply->text, sizeof(reply->text), "invalid request");
        return false;
    }
    pthread_mutex_lock(&admin.ctl_lock);
    bool ok = fd_pass_send(admin.ctl_fd, frame, len, content_fd) == (ssize_t)len;
    ssize_t n = -1;
    int got = -1;
    if (ok)
        n = fd_pass_recv1(admin.ctl_fd, in, sizeof(in), 0, &got);
    ok = n > 0 && admin_ctl_decode_reply(in, (size_t)n, reply) && reply->op == rq->op;
    pthread_mutex_unlock(&admin.ctl_lock);
    if (ok && reply_fd != NULL)
        *reply_fd = got;
    else if (got >= 0)
        close(got);
    if (!ok) {
        reply->status = ADMIN_CTL_FAILED;
        str_format(reply->text, sizeof(reply->text), "the controller did not answer (%s)",
                   n < 0 ? strerror(errno) : "bad reply");
    }
    return ok;
}

bool admin_ctl_call(const struct admin_ctl_request *rq, int content_fd,
                    struct admin_ctl_reply *reply)
{
    return call(rq, content_fd, reply, NULL);
}

char *admin_ctl_read_file(enum admin_ctl_file file, size_t *len, struct admin_ctl_reply *reply)
{
    struct admin_ctl_request rq = {.op = ADMIN_CTL_READ_FILE, .arg = file};
    int fd = -1;
    if (!call(&rq, -1, reply, &fd) || reply->status != 0 || fd < 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && st.st_size >= 0 && (size_t)st.st_size <= ADMIN_FILE_READ_MAX) {
        size_t size = (size_t)st.st_size;
        text = malloc(size + 1);
        size_t off = 0;
        while (text != NULL && off < size) {
            ssize_t r = pread(fd, text + off, size - off, (off_t)off);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            off += (size_t)r;
        }
        if (text != NULL && off != size) {
            free(text);
            text = NULL;
        }
        if (text != NULL) {
            text[size] = 0;
            *len = size;
        }
    }
    close(fd);
    if (text == NULL)
        str_format(reply->text, sizeof(reply->text), "the content could not be read");
    return text;
}

bool admin_ctl_write_file(enum admin_ctl_file file, const char *text, size_t len,
                          struct admin_ctl_reply *reply)
{
    int fd = memfd_create("sekisho-admin-file", MFD_CLOEXEC);
    if (fd < 0) {
        memset(reply, 0, sizeof(*reply));
        reply->status = ADMIN_CTL_FAILED;
        str_format(reply->text, sizeof(reply->text), "memfd_create: %s", strerror(errno));
        return false;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            reply->status = ADMIN_CTL_FAILED;
            str_format(reply->text, sizeof(reply->text), "write: %s", strerror(errno));
            return false;
        }
        off += (size_t)w;
    }
    struct admin_ctl_request rq = {.op = ADMIN_CTL_WRITE_FILE, .arg = file};
    bool ok = admin_ctl_call(&rq, fd, reply);
    close(fd);
    return ok && reply->status == 0;
}

char *admin_conf_file_read(const char *rel, size_t max, size_t *len, char *err, size_t errcap)
{
    char path[PATH_MAX];
    str_format(path, sizeof(path), "%s/%s", admin.conf_dir, rel);
    return file_read_all(path, max, len, err, errcap);
}
