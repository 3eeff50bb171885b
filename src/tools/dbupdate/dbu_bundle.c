/* dbu_bundle - see dbu_bundle.h. */
#include "tools/dbupdate/dbu_bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "proto/db_bundle.h"

#define DBU_COPY_CHUNK (64 * 1024)

/* gzread reads plain files as they are, so one path serves .tar and .tar.gz. */
static int read_full(gzFile gz, void *p, size_t n)
{
    size_t got = 0;
    while (got < n) {
        int r = gzread(gz, (char *)p + got, (unsigned)(n - got));
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static bool same_content(const char *a, const char *b)
{
    int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);
    bool same = false;
    struct stat sa, sb;
    if (fa < 0 || fb < 0 || fstat(fa, &sa) != 0 || fstat(fb, &sb) != 0 || sa.st_size != sb.st_size)
        goto done;
    static char ba[DBU_COPY_CHUNK], bb[DBU_COPY_CHUNK];
    for (;;) {
        ssize_t na = read(fa, ba, sizeof(ba));
        if (na < 0)
            goto done;
        if (na == 0) {
            same = true;
            goto done;
        }
        ssize_t nb = read(fb, bb, (size_t)na);
        if (nb != na || memcmp(ba, bb, (size_t)na) != 0)
            goto done;
    }
done:
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return same;
}

/* extract - the entry's content to tmp/name.part. */
static int extract(gzFile gz, uint64_t size, const char *to, char *err, size_t errcap)
{
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errcap, "%s: %s", to, strerror(errno));
        return -1;
    }
    static char chunk[DBU_COPY_CHUNK];
    uint64_t left = size;
    int rc = 0;
    while (rc == 0 && left > 0) {
        size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
        if (read_full(gz, chunk, n) != 0) {
            snprintf(err, errcap, "the bundle ends inside a file (truncated or corrupt)");
            rc = -1;
        } else if (write(fd, chunk, n) != (ssize_t)n) {
            snprintf(err, errcap, "%s: %s", to, strerror(errno ? errno : ENOSPC));
            rc = -1;
        }
        left -= n;
    }
    size_t pad = (size_t)((DB_BUNDLE_BLOCK - size % DB_BUNDLE_BLOCK) % DB_BUNDLE_BLOCK);
    if (rc == 0 && pad && read_full(gz, chunk, pad) != 0) {
        snprintf(err, errcap, "the bundle ends inside a file (truncated or corrupt)");
        rc = -1;
    }
    if (close(fd) != 0 && rc == 0) {
        snprintf(err, errcap, "%s: %s", to, strerror(errno));
        rc = -1;
    }
    return rc;
}

/* The other form of an official database: daily.cvd <-> daily.cld. */
static void remove_other_form(const struct dbu_ctx *ctx, const char *name)
{
    size_t len = strlen(name);
    if (len < 5 || (strcmp(name + len - 4, ".cvd") != 0 && strcmp(name + len - 4, ".cld") != 0))
        return;
    char other[DBU_PATH_MAX + 80];
    snprintf(other, sizeof(other), "%s/%.*s.%s", ctx->staging, (int)(len - 4), name,
             name[len - 3] == 'v' ? "cld" : "cvd");
    unlink(other);
}

int dbu_bundle_import(const struct dbu_ctx *ctx, char *changed, size_t cap, char *err,
                      size_t errcap)
{
    changed[0] = '\0';
    gzFile gz = gzopen(ctx->bundle, "rb");
    if (!gz) {
        snprintf(err, errcap, "%s: %s", ctx->bundle, errno ? strerror(errno) : "cannot open");
        return -1;
    }
    int rc = -1;
    unsigned files = 0, entries = 0;
    uint64_t total = 0;
    for (;;) {
        uint8_t block[DB_BUNDLE_BLOCK];
        if (read_full(gz, block, sizeof(block)) != 0) {
            snprintf(err, errcap, "%s: not a tar archive, or it ends without its end marker",
                     ctx->bundle);
            break;
        }
        struct db_tar_entry e;
        char why[DBU_PATH_MAX + 512] = "";
        enum db_tar_kind kind = db_tar_header_parse(block, &e, why, sizeof(why));
        if (kind == DB_TAR_END) {
            if (files == 0)
                snprintf(err, errcap, "%s: holds no database file", ctx->bundle);
            else
                rc = 0;
            break;
        }
        if (kind == DB_TAR_BAD) {
            snprintf(err, errcap, "%s: entry %u: %s", ctx->bundle, entries + 1, why);
            break;
        }
        if (++entries > DBU_BUNDLE_ENTRIES_MAX) {
            snprintf(err, errcap, "%s: more than %d entries", ctx->bundle, DBU_BUNDLE_ENTRIES_MAX);
            break;
        }
        if (kind == DB_TAR_DIR) {
            if (e.size != 0) {
                snprintf(err, errcap, "%s: directory entry %s has content", ctx->bundle, e.name);
                break;
            }
            continue;
        }
        const char *name = db_tar_file_name(&e, why, sizeof(why));
        if (!name) {
            snprintf(err, errcap, "%s: %s: %s", ctx->bundle, e.name, why);
            break;
        }
        total += e.size;
        if (e.size > DBU_BUNDLE_FILE_MAX || total > DBU_BUNDLE_TOTAL_MAX) {
            snprintf(err, errcap, "%s: %s: larger than the limit of a bundle", ctx->bundle, name);
            break;
        }
        char part[DBU_PATH_MAX + 80], dest[DBU_PATH_MAX + 80];
        snprintf(part, sizeof(part), "%s/%s.part", ctx->tmp, name);
        snprintf(dest, sizeof(dest), "%s/%s", ctx->staging, name);
        if (extract(gz, e.size, part, why, sizeof(why)) != 0) {
            snprintf(err, errcap, "%s: %s: %s", ctx->bundle, name, why);
            break;
        }
        files++;
        if (same_content(part, dest)) {
            unlink(part);
            continue;
        }
        if (rename(part, dest) != 0) {
            snprintf(err, errcap, "%s: %s", dest, strerror(errno));
            break;
        }
        remove_other_form(ctx, name);
        size_t len = strlen(changed);
        snprintf(changed + len, cap - len, "%s%s", len ? ", " : "", name);
    }
    gzclose(gz);
    return rc;
}
