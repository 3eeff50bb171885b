/* service_switch - the <svc>_service keys: which services an installation
 * runs (003:833, 003:1211, 003:1801, 003:2186).
 *
 * The switch is read by the rc scripts and by dev/run-gateway.sh through
 * `sekisho --<svc> -f <ini> --service-enabled`, so the shell never parses
 * the ini: the real loader validates it and reports file:line on error.
 * `sekisho --<svc>` run by hand starts the service whatever the switch says
 * (an explicit request); the master then logs that the switch is off.
 */
#ifndef SEKISHO_MASTER_SERVICE_SWITCH_H
#define SEKISHO_MASTER_SERVICE_SWITCH_H

#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"

/* Exit statuses of --service-enabled. */
enum service_switch_status {
    SERVICE_SWITCH_ON = 0,        /* <svc>_service=yes: rc start runs it */
    SERVICE_SWITCH_OFF = 1,       /* <svc>_service=no (or not set) */
    SERVICE_SWITCH_INVALID = 2,   /* configuration refused (reported on stderr) */
    SERVICE_SWITCH_NOT_BUILT = 3, /* switched on, but this binary has no such service */
};

/* service_switch_on - the value of cfg's own <svc>_service key. */
bool service_switch_on(const struct config *cfg);

/* service_switch_report - print "<svc>_service=yes|no in <ini>" (and why a
 * switched-on service cannot run) on out; returns the exit status. built
 * says whether this binary implements cfg's service. */
enum service_switch_status service_switch_report(const struct config *cfg, bool built, FILE *out);

#endif
