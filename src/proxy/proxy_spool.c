/* proxy_spool - see proxy_spool.h. */
#include "proxy/proxy_spool.h"

#include <errno.h>
#include <unistd.h>

#include "lib/spoolfile.h"

int proxy_spool_open(struct proxy_spool *sp, struct proxy_worker *w, uint64_t expected)
{
    *sp = (struct proxy_spool){.fd = -1, .w = w};
    uint64_t want = expected ? expected : PROXY_SPOOL_MEM_MAX;
    if (want <= PROXY_SPOOL_MEM_MAX && w->spool_mem_used + want <= PROXY_SPOOL_MEM_BUDGET) {
        sp->fd = spoolfile_create_mem();
        if (sp->fd >= 0) {
            sp->mem = want;
            w->spool_mem_used += want;
            return 0;
        }
    }
    sp->fd = spoolfile_create(w->cfg->tmpdir);
    if (sp->fd < 0) {
        sp->err = errno;
        return -1;
    }
    return 0;
}

int proxy_spool_open_disk(struct proxy_spool *sp, struct proxy_worker *w)
{
    *sp = (struct proxy_spool){.fd = spoolfile_create(w->cfg->tmpdir), .w = w};
    if (sp->fd < 0) {
        sp->err = errno;
        return -1;
    }
    return 0;
}

/* to_disk - the object outgrew its memory: go on in tmpdir (a copy of at
 * most PROXY_SPOOL_MEM_MAX bytes, once per object). */
static int to_disk(struct proxy_spool *sp)
{
    int fd = spoolfile_to_disk(sp->fd, sp->w->cfg->tmpdir);
    if (fd < 0)
        return -1;
    close(sp->fd);
    sp->fd = fd;
    sp->w->spool_mem_used -= sp->mem;
    sp->mem = 0;
    return 0;
}

int proxy_spool_write(struct proxy_spool *sp, const void *p, size_t n)
{
    if (sp->err || sp->fd < 0) {
        errno = sp->err ? sp->err : EBADF;
        return -1;
    }
    if ((sp->mem && sp->len + n > sp->mem && to_disk(sp) < 0) ||
        spoolfile_write_all(sp->fd, p, n) < 0) {
        sp->err = errno;
        return -1;
    }
    sp->len += n;
    return 0;
}

void proxy_spool_close(struct proxy_spool *sp)
{
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
    if (sp->w)
        sp->w->spool_mem_used -= sp->mem;
    sp->mem = 0;
}
