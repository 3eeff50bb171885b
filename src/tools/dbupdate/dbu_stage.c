/* dbu_stage - see dbu_stage.h. */
#include "tools/dbupdate/dbu_stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* freshclam.dat: libfreshclam's state (its uuid and the mirror's
 * cool-down), rewritten in place by fopen("wb"). */
#define DBU_FRESHCLAM_DAT  "freshclam.dat"
#define DBU_TREE_DEPTH_FDS 16

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = flag == FTW_DP ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

int dbu_tree_remove(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    return nftw(path, remove_one, DBU_TREE_DEPTH_FDS, FTW_DEPTH | FTW_PHYS);
}

int dbu_copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    struct stat st;
    int out = -1, rc = -1;
    if (fstat(in, &st) != 0)
        goto done;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0)
        goto done;
    for (off_t left = st.st_size; left > 0;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto done; /* n == 0: the file shrank under us */
        left -= n;
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    rc = futimens(out, times);
done:
    if (out >= 0 && close(out) != 0)
        rc = -1;
    close(in);
    if (rc != 0 && out >= 0)
        unlink(dst);
    return rc;
}

static int join(char *out, size_t cap, const char *dir, const char *name)
{
    return (size_t)snprintf(out, cap, "%s/%s", dir, name) < cap ? 0 : -1;
}

int dbu_stage_create(const struct dbu_ctx *ctx, char *err, size_t errcap)
{
    if (dbu_tree_remove(ctx->staging) != 0 || dbu_tree_remove(ctx->tmp) != 0) {
        snprintf(err, errcap, "cannot remove what an earlier update left in %s: %s", ctx->staging,
                 strerror(errno));
        return -1;
    }
    if (mkdir(ctx->staging, 0755) != 0 || mkdir(ctx->tmp, 0700) != 0) {
        snprintf(err, errcap, "cannot create %s: %s", ctx->staging, strerror(errno));
        return -1;
    }
    DIR *d = opendir(ctx->databases);
    if (!d) {
        snprintf(err, errcap, "%s: %s", ctx->databases, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char from[DBU_PATH_MAX + 256], to[DBU_PATH_MAX + 256];
        struct stat st;
        if (de->d_name[0] == '.' || join(from, sizeof(from), ctx->databases, de->d_name) != 0 ||
            join(to, sizeof(to), ctx->staging, de->d_name) != 0)
            continue;
        if (lstat(from, &st) != 0 || !S_ISREG(st.st_mode))
            continue; /* only files are part of the set (scand loads no subdirectory) */
        if (strcmp(de->d_name, DBU_FRESHCLAM_DAT) != 0 && link(from, to) == 0)
            continue;
        if (dbu_copy_file(from, to) != 0) {
            snprintf(err, errcap, "cannot copy %s into %s: %s", from, ctx->staging,
                     strerror(errno));
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

void dbu_stage_discard(const struct dbu_ctx *ctx)
{
    dbu_tree_remove(ctx->staging);
    dbu_tree_remove(ctx->tmp);
}

/* exchange - swap two directories atomically; file systems without
 * RENAME_EXCHANGE (EINVAL) get two renames, with a moment in which a
 * does not exist: scand reloads only when told, after this. */
static int exchange(const char *a, const char *b)
{
    if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    char mid[DBU_PATH_MAX + 16];
    if ((size_t)snprintf(mid, sizeof(mid), "%s.swap", a) >= sizeof(mid)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (rename(a, mid) != 0)
        return -1;
    if (rename(b, a) != 0) {
        int e = errno;
        rename(mid, a);
        errno = e;
        return -1;
    }
    return rename(mid, b);
}

int dbu_stage_switch(const struct dbu_ctx *ctx, char *err, size_t errcap)
{
    if (exchange(ctx->staging, ctx->databases) != 0) {
        snprintf(err, errcap, "cannot switch %s and %s: %s", ctx->staging, ctx->databases,
                 strerror(errno));
        return -1;
    }
    /* staging now holds the old set: it becomes previous. */
    if (dbu_tree_remove(ctx->previous) != 0 || rename(ctx->staging, ctx->previous) != 0) {
        snprintf(err, errcap,
                 "the new definitions are in service, but %s could not be kept as %s: %s",
                 ctx->staging, ctx->previous, strerror(errno));
        return 0; /* the switch itself happened */
    }
    err[0] = '\0';
    return 0;
}

int dbu_stage_switch_back(const struct dbu_ctx *ctx, char *err, size_t errcap)
{
    if (exchange(ctx->previous, ctx->databases) != 0) {
        snprintf(err, errcap, "cannot put %s back as %s: %s", ctx->previous, ctx->databases,
                 strerror(errno));
        return -1;
    }
    dbu_tree_remove(ctx->previous);
    return 0;
}
