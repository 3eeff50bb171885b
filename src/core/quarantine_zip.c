/* quarantine_zip - see quarantine_zip.h. */
#include "core/quarantine_zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "lib/spoolfile.h"
#include "lib/str.h"

#define COPY_CHUNK 65536

/* copy_out - the archive file to out_fd. */
static int copy_out(int fd, int out_fd)
{
    char chunk[COPY_CHUNK];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (spoolfile_write_all(out_fd, chunk, (size_t)n) < 0)
            return -1;
    }
}

/* add_entry - src as name, encrypted; src is the archive's on success
 * and freed here otherwise. */
static bool add_entry(zip_t *za, zip_source_t *src, const char *name, const char *password)
{
    if (!src)
        return false;
    zip_int64_t idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return false;
    }
    return zip_file_set_encryption(za, (zip_uint64_t)idx, ZIP_EM_AES_256, password) == 0;
}

/* build - the archive at path (which must not exist) from the object in
 * obj_fd (taken over) and the meta text. */
static bool build(const char *path, const struct qstore_item *item, int obj_fd,
                  const char *password, char *text, size_t cap)
{
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_EXCL, &zerr);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        snprintf(text, cap, "cannot create the archive %s: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        close(obj_fd);
        return false;
    }
    FILE *obj = fdopen(obj_fd, "rb");
    if (!obj)
        close(obj_fd);
    char name[QMETA_ID_MAX + 8];
    snprintf(name, sizeof(name), "%s%s", item->id, qmeta_is_mail(&item->meta) ? ".mbox" : "");
    bool ok = obj && add_entry(za, zip_source_filep(za, obj, 0, -1), name, password);
    if (!ok && obj)
        fclose(obj); /* not taken by the archive: zip_source_filep failed */
    ok = ok && add_entry(za, zip_source_buffer(za, item->text, strlen(item->text), 0),
                         QZIP_INFO_NAME, password);
    if (!ok) {
        snprintf(text, cap, "cannot add to the archive: %s", zip_strerror(za));
        zip_discard(za);
        return false;
    }
    if (zip_close(za) < 0) {
        snprintf(text, cap, "cannot write the archive: %s", zip_strerror(za));
        zip_discard(za);
        return false;
    }
    return true;
}

enum qstore_status qzip_write(const char *dir, const char *id, const char *password,
                              const char *tmpdir, int out_fd, char *text, size_t cap)
{
    if (!password || !*password) {
        snprintf(text, cap, "refused: an empty password");
        return QSTORE_IO;
    }
    if (!zip_encryption_method_supported(ZIP_EM_AES_256, 1)) {
        snprintf(text, cap, "this libzip cannot encrypt with AES-256");
        return QSTORE_IO;
    }
    struct qstore_item *item = malloc(sizeof(*item));
    if (!item) {
        snprintf(text, cap, "out of memory");
        return QSTORE_IO;
    }
    int obj_fd = -1;
    enum qstore_status st = qstore_open_object(dir, id, item, &obj_fd);
    if (st != QSTORE_OK) {
        snprintf(text, cap, "refused: %s", qstore_status_text(st));
        free(item);
        return st;
    }
    /* A name of our own in tmpdir: mkstemp reserves it, and libzip, which
     * insists on creating the file itself, gets it back empty. */
    char path[4096];
    int tfd = -1;
    if ((size_t)snprintf(path, sizeof(path), "%s/.qzip-XXXXXX", tmpdir ? tmpdir : "/tmp") <
        sizeof(path))
        tfd = mkstemp(path);
    if (tfd < 0) {
        snprintf(text, cap, "cannot create a temporary file in %s: %s", tmpdir ? tmpdir : "/tmp",
                 strerror(errno));
        close(obj_fd);
        free(item);
        return QSTORE_IO;
    }
    close(tfd);
    unlink(path);
    st = QSTORE_IO;
    if (build(path, item, obj_fd, password, text, cap)) {
        int afd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (afd < 0 || copy_out(afd, out_fd) < 0)
            snprintf(text, cap, "cannot copy the archive out: %s", strerror(errno));
        else {
            snprintf(text, cap, "%s as a zip protected by its password (AES-256)", id);
            st = QSTORE_OK;
        }
        if (afd >= 0)
            close(afd);
    }
    unlink(path);
    free(item);
    return st;
}
