/* pop_session - the POP3 proxy service (`sekisho --pop`, spec §7).
 *
 * Each accepted client is one session on the session core
 * (proxy_session): the dialogue of POP-2..POP-8 with the server of
 * self_proxy's USER name@host or the parent server, RETR's message
 * received whole, scanned as mail (proxy_mail_scan: the same MIME walk,
 * policies and detections as SMTP) and then relayed byte-identical,
 * marked (action=pass) or replaced by template_pop.txt (action=delete).
 * See pop_session.c and pop_retr.c.
 */
#ifndef SEKISHO_PROXY_POP_SESSION_H
#define SEKISHO_PROXY_POP_SESSION_H

#include "proxy/proxy_worker.h"

extern const struct proxy_proto pop_proto;

#endif
