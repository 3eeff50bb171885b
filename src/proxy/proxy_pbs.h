/* proxy_pbs - the POP-before-SMTP store (core/pbs_store) as the services
 * use it: POP records a client's successful login (POP-6), SMTP with
 * pbs=yes reads it (AUTH-7); both services empty it when they start.
 *
 * One store per worker process, opened on first use (after fork: an LMDB
 * environment must not cross one). A store that cannot be opened is
 * logged once; then logins are not recorded and no address counts as
 * authenticated: the safe side.
 */
#ifndef SEKISHO_PROXY_PBS_H
#define SEKISHO_PROXY_PBS_H

#include <stdbool.h>

#include "core/config.h"
#include "core/svclog.h"

/* proxy_pbs_record - client_ip logged in through the POP proxy now. */
void proxy_pbs_record(const struct config *cfg, const char *client_ip,
                      const struct svclog_ctx *log);

/* proxy_pbs_valid - whether client_ip logged in within pbs_lifetime minutes. */
bool proxy_pbs_valid(const struct config *cfg, const char *client_ip);

/* proxy_pbs_reset - empty the store (a service start, AUTH-7). 0, or -1
 * with errno. */
int proxy_pbs_reset(const struct config *cfg);

#endif
