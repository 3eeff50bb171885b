/* quarantine_release - a quarantined object let go.
 *
 * A mail (SMTP, or a POP3 message whose envelope recipient the meta
 * knows) is delivered again to the recipients of its envelope, from its
 * original envelope sender, through the SMTP parent the caller names
 * ([smtp] parent_server_host/port), with core/smtp_send on a private
 * lib/ev loop (the call blocks until the parent has answered every step,
 * each within timeout_s). What is sent is the message as it came: the
 * mailbox "From " line left out and the mboxrd quoting undone
 * (proto/mbox_format), dot-stuffed (proto/smtp_dot). Once the parent took
 * it, the meta records "released: <time> <by>". An HTTP or FTP object
 * is only marked released (it stays in quarantine_dir, downloadable).
 *
 * Refused, with a sentence saying why, and nothing sent: an id that is not
 * a quarantined item (core/quarantine_store), an item released already
 * (a release happens once), a mail whose meta has no recipients (a POP3
 * message: the proxy never sees its envelope) or lists fewer than it had,
 * or has no envelope sender, no parent configured, an object that is not
 * in mailbox format. The item is locked for the whole release, so two
 * releases at once cannot both send it.
 *
 * What it owns: its loop, resolver and descriptors, for the call only.
 */
#ifndef SEKISHO_CORE_QUARANTINE_RELEASE_H
#define SEKISHO_CORE_QUARANTINE_RELEASE_H

#include <stddef.h>
#include <stdint.h>

#define QRELEASE_TEXT_MAX 5120 /* the sentence, with the parent's reply */

struct qrelease_target {
    const char *host; /* the SMTP parent ("" or NULL: none configured) */
    uint16_t port;
    const char *helo; /* our name in HELO */
    unsigned timeout_s;
};

enum qrelease_outcome {
    QRELEASE_DELIVERED, /* the parent took the mail; marked released */
    QRELEASE_MARKED,    /* an HTTP/FTP object marked released */
    QRELEASE_REFUSED,   /* nothing done: text says why */
    QRELEASE_FAILED,    /* the delivery failed (text: the step and the reply); not marked */
};

/* qrelease_run - release id of dir (see above) on behalf of by, at now.
 * text (cap bytes) gets a one-line account either way. */
enum qrelease_outcome qrelease_run(const char *dir, const char *id, const struct qrelease_target *t,
                                   const char *by, int64_t now, char *text, size_t cap);

#endif
