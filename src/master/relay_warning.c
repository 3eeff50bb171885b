/* relay_warning - never an open relay by accident (SMTP-12). */
#include "master/relay_warning.h"

#include <stdio.h>

#include "core/svclog.h"

void relay_warning_check(const struct config *before, const struct config *cfg, bool to_stderr)
{
    if (cfg->service != SVC_SMTP || cfg->acl_rcpt)
        return;
    if (before && !before->acl_rcpt)
        return; /* already warned when it was switched off */
    svclog_info(NULL, "main: %s", RELAY_WARNING_TEXT);
    if (to_stderr) {
        fprintf(stderr, "sekisho_smtp: %s\n", RELAY_WARNING_TEXT);
        fflush(stderr);
    }
}
