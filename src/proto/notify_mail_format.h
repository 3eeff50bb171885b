/* notify_mail_format - a notification mail built from a rendered mail
 * template (spec TPL-2, TPL-5, G-31).
 *
 * Both kinds of notification the gateway sends - the administrator's
 * (template_admin.txt, core/notify) and the sendback / delete mails of the
 * SMTP service (template_smtp.txt, template_smtp_lan.txt) - are the
 * template's header section (up to the first blank line) and body, plus
 * header lines the sender adds. This module writes that message once for
 * both, in wire form: the caller's leading lines, the template's header
 * with non-ASCII Subject: / From: RFC 2047-encoded and long lines folded
 * (template_parse_encode_header_wire), a From: when the template has
 * none, `MIME-Version: 1.0`, `Content-Type: text/plain; charset=UTF-8`
 * and `Content-Transfer-Encoding` (7bit, or 8bit when the body holds
 * 8-bit bytes) each unless the template defines it, the caller's trailing
 * lines, the blank line and the body; every line ends in CRLF.
 *
 * The result is not dot-stuffed: the SMTP client that sends it does that
 * (proto/smtp_dot). Pure: no I/O, no allocation, all or nothing.
 */
#ifndef SEKISHO_PROTO_NOTIFY_MAIL_FORMAT_H
#define SEKISHO_PROTO_NOTIFY_MAIL_FORMAT_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/str.h"

struct notify_mail_parts {
    /* Complete header lines, each ending in CRLF, put first (Received,
     * X-Virus-Status, Date, To ... of TPL-5). May be empty. */
    struct str lead;
    /* The address of a `From: <from>` line added when the template has no
     * From: field; empty adds none. */
    struct str from;
    /* Complete header lines, each ending in CRLF, put last
     * (X-Admin-Notification-Id). May be empty. */
    struct str trail;
};

/* notify_mail_format - append the message for the rendered template to
 * out as described above. A rendering without a header section is all
 * body. Returns false with out unchanged when it does not fit. */
bool notify_mail_format(struct str rendered, const struct notify_mail_parts *parts,
                        struct buf *out);

#endif
