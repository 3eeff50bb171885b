/* relay_warning - never an open relay by accident (SMTP-12).
 *
 * The parent server of an SMTP gateway usually trusts the gateway's
 * address (sendmail RELAY, postfix mynetworks, qmail RELAYCLIENT), so with
 * acl_rcpt=no the gateway and its parent together relay for anyone. The
 * master says so where the administrator looks: the info log and stderr,
 * at start and on a SIGHUP reload that switches acl_rcpt off.
 */
#ifndef SEKISHO_MASTER_RELAY_WARNING_H
#define SEKISHO_MASTER_RELAY_WARNING_H

#include <stdbool.h>

#include "core/config.h"

#define RELAY_WARNING_TEXT                                                                         \
    "WARNING: acl_rcpt=no: the SMTP proxy accepts mail for any recipient; a parent server "        \
    "that trusts the gateway's address relays it to anyone (open relay). Set acl_rcpt=yes "        \
    "and list your domains in smtp_rcpt (hosts.allow)."

/* relay_warning_check - warn when cfg is an SMTP view with acl_rcpt off
 * and before (the configuration replaced on reload; NULL at start) had it
 * on or is absent. The warning goes to the info log, and to stderr too when
 * to_stderr (false when the info log is already mirrored there). */
void relay_warning_check(const struct config *before, const struct config *cfg, bool to_stderr);

#endif
