/* notify - administrator notification mails (SCAN-13, LOG-E3..E5).
 *
 * Sends one mail to every admin_mailaddr through admin_mx_host:port with
 * the gateway's small SMTP client, core/smtp_send (every address of
 * admin_mx_host in turn until one answers): greeting, HELO, MAIL FROM, one
 * RCPT TO per address (G-37), DATA, the message, QUIT. The message is the
 * rendered template_admin.txt (header up to the first blank line, TPL-2)
 * plus X-Admin-Notification-Id, Date, To, and the MIME headers of G-31.
 * Failures are logged with the documented lines; nothing is retried. The
 * mail owns copies of everything it needs, so the session that caused it
 * may end first.
 */
#ifndef SEKISHO_CORE_NOTIFY_H
#define SEKISHO_CORE_NOTIFY_H

#include "core/config.h"
#include "core/svclog.h"
#include "lib/buf.h"
#include "lib/dns.h"
#include "lib/ev.h"
#include "lib/str.h"

typedef void notify_done_fn(void *arg);

/* notify_admin_send - start sending rendered (a template_admin.txt
 * rendering). done(arg) runs exactly once when the attempt is over
 * (success or failure), possibly before this returns. */
void notify_admin_send(struct ev_loop *loop, struct dns *dns, const struct config *cfg,
                       const char *helo_host, struct str rendered, const struct svclog_ctx *log,
                       notify_done_fn *done, void *arg);

/* notify_build_message - the message bytes sent after DATA (dot-stuffed,
 * CRLF line ends, without the final "."): exposed for unit tests. Writes
 * the envelope sender into from (cap bytes). False if out is too small. */
bool notify_build_message(struct buf *out, const struct config *cfg, struct str rendered,
                          char *from, size_t from_cap, long now);

#endif
