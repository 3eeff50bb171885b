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
 * The quarantine copy is O(object) and a worker's loop must not block:
 * the destination file is created on the loop (O_EXCL, 0600: the record
 * names it at once), then an object of at most PROXY_QUARANTINE_NOW_MAX
 * bytes is copied at once (under a millisecond; every in-memory spool is
 * this small, so no copy ever holds a memfd and its budget), a larger one
 * by the worker's copier thread (proxy_bgcopy) while the loop goes on. A
 * spool file on quarantine_dir's file system is linked, not copied
 * (HTTP, FTP). The record is written before a large copy ends: a copy
 * that fails later is logged ("quarantine: cannot write [path]") and its
 * partial file removed, so the file named is complete or absent; one
 * refused because the worker's copier has PROXY_BGCOPY_JOBS copies in
 * flight is logged and named in no record.
 *
 * Once a copy is complete (at once, or when the copier is done with it),
 * "<name>.meta" is written beside it (proto/quarantine_meta, through
 * core/quarantine_store: a temporary name, then renamed), so an object
 * with a meta is always whole: the console and sekisho-quarantine list
 * only those.
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
#include "proxy/proxy_spool.h"

/* The original header block offered as #{HEADER}: at most this much and
 * this many whole lines (a notification must not carry an arbitrary
 * payload of the sender's). */
#define PROXY_DETECT_HEADER_MAX   8192
#define PROXY_DETECT_HEADER_LINES 64

/* Quarantine copies up to this size are made on the loop at once. */
#define PROXY_QUARANTINE_NOW_MAX PROXY_SPOOL_MEM_MAX

/* proxy_detect_action - the access-log action of a configured action. */
enum accesslog_action proxy_detect_action(enum config_action a);

/* What the meta of a quarantine copy says that only the protocol knows
 * (the time, service, client, verdict, detection, file and size are the
 * session's and the outcome's). */
struct proxy_quarantine_who {
    const char *url;    /* as in the access log */
    const char *user;   /* the access log's user; NULL or "": none */
    const char *sender; /* SMTP's MAIL FROM; NULL: not known (POP3) */
    const char *rcpts;  /* SMTP's accepted RCPT TO, comma-joined; NULL: none */
    unsigned nrcpt;     /* how many were accepted (rcpts may be cut) */
};

/* proxy_quarantine_mbox - the message of spool fd as a mailbox file
 * "<service>-<time>.<pid>.<n>" in quarantine_dir (envelope_from on its
 * "From " line) and its meta (who); its name goes to o->quarantine.
 * false (and an error line) when it cannot be created or queued. A large
 * copy finishes after the call (see above). */
bool proxy_quarantine_mbox(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const char *envelope_from, const struct proxy_quarantine_who *who);

/* proxy_quarantine_file - the spooled object itself (HTTP, FTP), linked
 * or copied into quarantine_dir (the copy as above), and its meta. */
bool proxy_quarantine_file(const struct proxy_session *s, struct proxy_outcome *o, int fd,
                           const struct proxy_quarantine_who *who);

/* The template variables of an administrator mail about the object at url
 * (the protocol's own, filled once the outcome names the detection). */
typedef void proxy_detect_vars_fn(void *arg, struct template_vars *v, const char *url);

/* proxy_detect_object - SCAN-12 for a detection name in a spooled object
 * (HTTP, FTP): the outcome (action from the configured one, file may be
 * NULL), the quarantine copy of fd when quarantine is on (fd < 0: there is
 * no whole object, e.g. a block_filesize detection; user for its meta), the info line
 * "Infected: URL=[url] VirusName: name action=...", and the administrator
 * mail (vars(arg, ...)) when notify_admin is on. */
void proxy_detect_object(const struct proxy_session *s, struct proxy_outcome *o, const char *name,
                         const char *file, int fd, const char *url, const char *user,
                         proxy_detect_vars_fn *vars, void *arg);

/* proxy_notify_admin - template_admin.txt rendered with v, to every
 * admin_mailaddr (core/notify: asynchronous, never blocks the loop). */
void proxy_notify_admin(const struct proxy_session *s, const struct template_vars *v);

/* proxy_mail_header - the first header_len bytes of the message in fd,
 * cut to whole CRLF lines within PROXY_DETECT_HEADER_MAX /
 * PROXY_DETECT_HEADER_LINES; a view of a static buffer valid until the
 * next call (a worker is one thread). */
struct str proxy_mail_header(int fd, size_t header_len);

#endif
