/* quarantine_store - see quarantine_store.h. */
#include "core/quarantine_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/spoolfile.h"
#include "lib/str.h"

#define TMP_SUFFIX ".meta.tmp"
#define NAME_MAX_Q (QMETA_ID_MAX + sizeof(TMP_SUFFIX))
#define BY_MAX     256

const char *qstore_status_text(enum qstore_status st)
{
    switch (st) {
    case QSTORE_OK:
        return "done";
    case QSTORE_BAD_ID:
        return "not an id of a quarantined object";
    case QSTORE_NOT_FOUND:
        return "no such quarantined object";
    case QSTORE_NO_META:
        return "the object has no meta file (its copy is not complete, or failed)";
    case QSTORE_MALFORMED:
        return "the object's meta file is malformed";
    case QSTORE_RELEASED:
        return "released already";
    case QSTORE_BUSY:
        return "another release or delete of this object is under way";
    case QSTORE_IO:
        return "a system call failed";
    }
    return "unknown status";
}

static bool id_ok(const char *id)
{
    return id && qmeta_id_parse(str_from_cstr(id), NULL);
}

static int open_dir(const char *dir)
{
    return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* open_regular - name in dirfd, a regular file, not through a link. */
static int open_regular(int dirfd, const char *name, int flags, struct stat *st)
{
    int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    int err = fstat(fd, st) < 0 ? errno : !S_ISREG(st->st_mode) ? ENOENT : 0;
    if (err) {
        close(fd);
        errno = err;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

/* read_meta - "<id>.meta" of dirfd into item (id and object_size set). */
static enum qstore_status read_meta(int dirfd, struct qstore_item *item)
{
    char name[NAME_MAX_Q];
    snprintf(name, sizeof(name), "%s%s", item->id, QMETA_SUFFIX);
    struct stat st;
    int fd = open_regular(dirfd, name, O_RDONLY, &st);
    if (fd < 0)
        return errno == ENOENT || errno == ELOOP ? QSTORE_NO_META : QSTORE_IO;
    if (st.st_size > QMETA_TEXT_MAX) {
        close(fd);
        return QSTORE_MALFORMED;
    }
    size_t got = 0;
    while (got < QMETA_TEXT_MAX) {
        ssize_t n = read(fd, item->text + got, QMETA_TEXT_MAX - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            errno = err;
            return QSTORE_IO;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    item->text[got] = '\0';
    return qmeta_parse(str_make(item->text, got), &item->meta, NULL) ? QSTORE_OK : QSTORE_MALFORMED;
}

/* get_at - the item id of dirfd; *fd the object open for reading when fd
 * is not NULL. */
static enum qstore_status get_at(int dirfd, const char *id, struct qstore_item *out, int *fd)
{
    struct stat st;
    int ofd = open_regular(dirfd, id, O_RDONLY, &st);
    if (ofd < 0)
        return errno == ENOENT || errno == ELOOP ? QSTORE_NOT_FOUND : QSTORE_IO;
    str_copy(out->id, sizeof(out->id), id);
    out->object_size = (uint64_t)st.st_size;
    enum qstore_status s = read_meta(dirfd, out);
    if (s != QSTORE_OK || !fd)
        close(ofd);
    else
        *fd = ofd;
    return s;
}

enum qstore_status qstore_open_object(const char *dir, const char *id, struct qstore_item *out,
                                      int *fd)
{
    if (!id_ok(id))
        return QSTORE_BAD_ID;
    int dirfd = open_dir(dir);
    if (dirfd < 0)
        return QSTORE_IO;
    enum qstore_status s = get_at(dirfd, id, out, fd);
    close(dirfd);
    return s;
}

enum qstore_status qstore_get(const char *dir, const char *id, struct qstore_item *out)
{
    return qstore_open_object(dir, id, out, NULL);
}

enum qstore_status qstore_lock(const char *dir, const char *id, struct qstore_item *out, int *fd)
{
    if (!id_ok(id))
        return QSTORE_BAD_ID;
    int dirfd = open_dir(dir);
    if (dirfd < 0)
        return QSTORE_IO;
    struct stat st;
    int ofd = open_regular(dirfd, id, O_RDONLY, &st);
    if (ofd < 0) {
        int err = errno;
        close(dirfd);
        errno = err;
        return err == ENOENT || err == ELOOP ? QSTORE_NOT_FOUND : QSTORE_IO;
    }
    if (flock(ofd, LOCK_EX | LOCK_NB) < 0) {
        int err = errno;
        close(ofd);
        close(dirfd);
        errno = err;
        return err == EWOULDBLOCK ? QSTORE_BUSY : QSTORE_IO;
    }
    /* Read under the lock: what another holder wrote is seen. */
    str_copy(out->id, sizeof(out->id), id);
    out->object_size = (uint64_t)st.st_size;
    enum qstore_status s = read_meta(dirfd, out);
    close(dirfd);
    if (s != QSTORE_OK) {
        close(ofd);
        return s;
    }
    *fd = ofd;
    return QSTORE_OK;
}

void qstore_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* the flock goes with the last descriptor */
}

int qstore_meta_write(const char *object_path, const char *text, size_t len, bool sync)
{
    char tmp[4096 + sizeof(TMP_SUFFIX)], final[4096 + sizeof(QMETA_SUFFIX)];
    if ((size_t)snprintf(tmp, sizeof(tmp), "%s%s", object_path, TMP_SUFFIX) >= sizeof(tmp) ||
        (size_t)snprintf(final, sizeof(final), "%s%s", object_path, QMETA_SUFFIX) >=
            sizeof(final)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int err = 0;
    struct stat st;
    /* As root (the command-line tool), the file stays the proxies' and
     * the console's: the object's owner. */
    if (geteuid() == 0 && stat(object_path, &st) == 0 && fchown(fd, st.st_uid, st.st_gid) < 0)
        err = errno;
    if (!err && spoolfile_write_all(fd, text, len) < 0)
        err = errno;
    if (!err && sync && fsync(fd) < 0)
        err = errno;
    if (close(fd) < 0 && !err)
        err = errno;
    if (!err && rename(tmp, final) < 0)
        err = errno;
    if (err) {
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}

/* object_path - dir/id. */
static bool object_path(const char *dir, const char *id, char *out, size_t cap)
{
    if ((size_t)snprintf(out, cap, "%s/%s", dir, id) >= cap) {
        errno = ENAMETOOLONG;
        return false;
    }
    return true;
}

enum qstore_status qstore_set_released(const char *dir, struct qstore_item *item, int64_t when,
                                       const char *by)
{
    if (item->meta.released)
        return QSTORE_RELEASED;
    char who[BY_MAX];
    size_t n = 0;
    for (const char *p = by && *by ? by : "-"; *p && n + 1 < sizeof(who); p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            break;
        who[n++] = *p;
    }
    who[n] = '\0';
    struct qmeta m = item->meta;
    m.released = true;
    m.released_time = when;
    m.released_by = str_from_cstr(who);
    static _Thread_local char mem[QMETA_TEXT_MAX + 64];
    struct buf out;
    buf_init(&out, mem, sizeof(mem));
    char path[4096];
    if (!qmeta_format(&m, &out)) {
        errno = EOVERFLOW;
        return QSTORE_IO;
    }
    if (!object_path(dir, item->id, path, sizeof(path)) ||
        qstore_meta_write(path, buf_rptr(&out), buf_len(&out), true) < 0)
        return QSTORE_IO;
    /* item now says what the file says. */
    size_t len = buf_len(&out) < QMETA_TEXT_MAX ? buf_len(&out) : QMETA_TEXT_MAX;
    memcpy(item->text, buf_rptr(&out), len);
    item->text[len] = '\0';
    if (!qmeta_parse(str_make(item->text, len), &item->meta, NULL))
        return QSTORE_MALFORMED;
    return QSTORE_OK;
}

enum qstore_status qstore_mark_released(const char *dir, const char *id, int64_t when,
                                        const char *by)
{
    struct qstore_item *item = malloc(sizeof(*item));
    if (!item)
        return QSTORE_IO;
    int fd = -1;
    enum qstore_status s = qstore_lock(dir, id, item, &fd);
    if (s == QSTORE_OK)
        s = qstore_set_released(dir, item, when, by);
    qstore_unlock(fd);
    free(item);
    return s;
}

enum qstore_status qstore_delete(const char *dir, const char *id)
{
    if (!id_ok(id))
        return QSTORE_BAD_ID;
    int dirfd = open_dir(dir);
    if (dirfd < 0)
        return QSTORE_IO;
    struct stat st;
    int ofd = open_regular(dirfd, id, O_RDONLY, &st);
    enum qstore_status s = QSTORE_OK;
    if (ofd < 0)
        s = errno == ENOENT || errno == ELOOP ? QSTORE_NOT_FOUND : QSTORE_IO;
    else if (flock(ofd, LOCK_EX | LOCK_NB) < 0)
        s = errno == EWOULDBLOCK ? QSTORE_BUSY : QSTORE_IO;
    char name[NAME_MAX_Q];
    /* The meta first: an object without its meta is never listed, so no
     * half-deleted item shows. */
    snprintf(name, sizeof(name), "%s%s", id, QMETA_SUFFIX);
    if (s == QSTORE_OK && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        s = QSTORE_IO;
    snprintf(name, sizeof(name), "%s%s", id, TMP_SUFFIX);
    if (s == QSTORE_OK)
        unlinkat(dirfd, name, 0);
    if (s == QSTORE_OK && unlinkat(dirfd, id, 0) < 0)
        s = QSTORE_IO;
    int err = errno;
    if (ofd >= 0)
        close(ofd);
    close(dirfd);
    errno = err;
    return s;
}

/* ---- the list ------------------------------------------------------------- */

struct cand {
    char id[QMETA_ID_MAX + 1];
    uint64_t time, pid, seq;
};

/* newer - a is newer than b (qmeta_id_newer's order, on the copies). */
static bool newer(const struct cand *a, const struct cand *b)
{
    struct qmeta_id x, y;
    qmeta_id_parse(str_from_cstr(a->id), &x);
    qmeta_id_parse(str_from_cstr(b->id), &y);
    return qmeta_id_newer(&x, &y);
}

/* A min-heap of the max newest candidates (the root is the oldest). */
static void sift_down(struct cand *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && newer(&h[m], &h[l]))
            m = l;
        if (r < n && newer(&h[m], &h[r]))
            m = r;
        if (m == i)
            return;
        struct cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void sift_up(struct cand *h, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!newer(&h[p], &h[i]))
            return;
        struct cand t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

static int newest_first(const void *a, const void *b)
{
    return newer(a, b) ? -1 : newer(b, a) ? 1 : 0;
}

long qstore_list(const char *dir, size_t max, qstore_item_fn *fn, void *arg)
{
    if (max > QSTORE_LIST_MAX)
        max = QSTORE_LIST_MAX;
    int dirfd = open_dir(dir);
    if (dirfd < 0)
        return -1;
    int scanfd = dup(dirfd);
    DIR *d = scanfd >= 0 ? fdopendir(scanfd) : NULL;
    struct cand *heap = calloc(max ? max : 1, sizeof(*heap));
    struct qstore_item *item = malloc(sizeof(*item));
    if (!d || !heap || !item) {
        int err = errno;
        if (d)
            closedir(d);
        else if (scanfd >= 0)
            close(scanfd);
        close(dirfd);
        free(heap);
        free(item);
        errno = err ? err : ENOMEM;
        return -1;
    }
    size_t n = 0;
    const struct dirent *e;
    while (max && (e = readdir(d)) != NULL) {
        struct str name = str_from_cstr(e->d_name);
        struct str suffix = STR_LIT(QMETA_SUFFIX);
        if (name.len <= suffix.len ||
            memcmp(name.ptr + name.len - suffix.len, suffix.ptr, suffix.len) != 0)
            continue;
        struct cand c;
        struct str id = str_make(name.ptr, name.len - suffix.len);
        struct qmeta_id q;
        if (!qmeta_id_parse(id, &q))
            continue;
        str_copy_view(c.id, sizeof(c.id), id);
        c.time = q.time;
        c.pid = q.pid;
        c.seq = q.seq;
        bool enters = n < max || newer(&c, &heap[0]);
        /* Read only what would enter: an item that cannot be listed (no
         * object, a malformed meta) never takes a good one's place. */
        if (!enters || get_at(dirfd, c.id, item, NULL) != QSTORE_OK)
            continue;
        if (n < max) {
            heap[n] = c;
            sift_up(heap, n++);
        } else if (newer(&c, &heap[0])) {
            heap[0] = c;
            sift_down(heap, n, 0);
        }
    }
    closedir(d);
    qsort(heap, n, sizeof(*heap), newest_first);
    long listed = 0;
    for (size_t i = 0; i < n; i++) {
        if (get_at(dirfd, heap[i].id, item, NULL) != QSTORE_OK)
            continue; /* gone meanwhile, or malformed */
        listed++;
        if (!fn(arg, item))
            break;
    }
    close(dirfd);
    free(heap);
    free(item);
    return listed;
}
