/* proxy_pbs - see proxy_pbs.h. */
#include "proxy/proxy_pbs.h"

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "core/pbs_store.h"

static struct pbs_store *store(const struct config *cfg)
{
    static struct pbs_store *s;
    static bool failed;
    if (!s && !failed) {
        s = pbs_store_open(cfg->tmpdir);
        if (!s) {
            failed = true;
            svclog_error_errno(NULL, errno, "POP-before-SMTP store in [%s] cannot be opened",
                               cfg->tmpdir);
        }
    }
    return s;
}

void proxy_pbs_record(const struct config *cfg, const char *client_ip, const struct svclog_ctx *log)
{
    struct pbs_store *s = store(cfg);
    if (s && pbs_store_record(s, client_ip, (int64_t)time(NULL)) < 0)
        svclog_error_errno(log, errno, "POP-before-SMTP: cannot record [%s]", client_ip);
}

bool proxy_pbs_valid(const struct config *cfg, const char *client_ip)
{
    struct pbs_store *s = store(cfg);
    return s &&
           pbs_store_lookup(s, client_ip, (int64_t)cfg->pbs_lifetime * 60, (int64_t)time(NULL));
}

int proxy_pbs_reset(const struct config *cfg)
{
    struct pbs_store *s = pbs_store_open(cfg->tmpdir);
    if (!s)
        return -1;
    int rc = pbs_store_reset(s);
    pbs_store_close(s);
    return rc;
}
