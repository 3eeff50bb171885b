/* admin_status - what the Status page and /metrics read, and the
 * definitions summary the Status and Definitions pages share. */
#ifndef SEKISHO_ADMIN_ADMIN_STATUS_H
#define SEKISHO_ADMIN_ADMIN_STATUS_H

#include "admin/admin.h"
#include "lib/svc_stats.h"
#include "proto/scanreq.h"

/* admin_status_read - svc's counters (its stats file in its tmpdir) and
 * whether its master runs; false when there is no readable file. */
bool admin_status_read(enum service svc, struct svc_stats_snapshot *snap, bool *up);

/* admin_scand_version - ask sekisho-scand which definitions it serves
 * (a few seconds at most); false with a notice on the page. */
bool admin_scand_version(struct admin_req *rq, struct scanreq_version *v);

/* admin_defs_summary - one line: the newest database's build time and age. */
void admin_defs_summary(struct admin_req *rq);

#endif
