/* proxy_detect - what a detection gets besides the protocol's reply.
 *
 * SCAN-12: whatever the action, a detection is logged (the record of
 * proxy_record), a copy goes to quarantine_dir when quarantine is on (the
 * object as it was spooled for HTTP and FTP, the message in mailbox
 * format for SMTP and POP3), and the administrator gets
 * template_admin.txt when notify_admin is on. The action itself (a page,
 * a refusal, a replaced message) is the protocol's; the choice of the
 * access-log action from the configured one is here.
 *
 * Detections are rare: the quarantine copy is made on the worker's loop
 * in one go, bounded by the object's size (a mailbox copy reads the spool
 * in 16 KiB steps).
 */
#ifndef SEKISHO_PROXY_DETECT_H
#define SEKISHO_PROXY_DETECT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/template_vars.h"
#include "lib/str.h"
#include "proto/accesslog_format.h"
#include "proxy/proxy_record.h"
#include "proxy/proxy_session.h"

/* The original header block offered as #{HEADER}: at most this much and
 * this many whole lines (a notification must not carry an arbitrary
 * payload of the sender's). */
#define PROXY_DETECT_HEADER_MAX   8192
#define PROXY_DETECT_HEADER_LINES 64

/* proxy_detect_action - the access-log action of a configured action. */
enum accesslog_action proxy_detect_action(enum config_action a);

/* proxy_quarantine_mbox - the message of spool fd as a mailbox file
 * "<service>-<time>.<pid>.<n>" in quarantine_dir (envelope_from on its
 * "From " line); its name goes to o->quarantine. false (and an error
 * line) when it cannot be written. */
bool proxy_quarantine_mbox(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const char *envelope_from);

/* proxy_quarantine_file - the spooled object itself (HTTP, FTP), linked
 * or copied into quarantine_dir. */
bool proxy_quarantine_file(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const char *what);

/* proxy_notify_admin - template_admin.txt rendered with v, to every
 * admin_mailaddr (core/notify: asynchronous, never blocks the loop). */
void proxy_notify_admin(const struct proxy_session *s, const struct template_vars *v);

/* proxy_mail_header - the first header_len bytes of the message in fd,
 * cut to whole CRLF lines within PROXY_DETECT_HEADER_MAX /
 * PROXY_DETECT_HEADER_LINES; a view of a static buffer valid until the
 * next call (a worker is one thread). */
struct str proxy_mail_header(int fd, size_t header_len);

#endif
