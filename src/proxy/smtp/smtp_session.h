/* smtp_session - the SMTP proxy's side of one client connection.
 *
 * What it does (spec §6, SMTP-1 ... SMTP-15): connects upstream as soon
 * as a client is accepted, greets with its own 220, relays the command
 * dialogue with the documented edits and refusals (relay control with
 * acl_rcpt / smtp_rcpt / smtp_lan), answers DATA itself, spools the
 * message (dot-unstuffed, size-limited), has it scanned, and then either
 * forwards it with Received / X-Virus-Status headers or carries out the
 * configured action. The client gets 250 only after the upstream server
 * accepted the mail; every failure of ours is a 4xx.
 *
 * What it owns: the client and server sockets, the spool file of the
 * message in progress, its buffers and timers. Parsing is proto/'s
 * (smtp_parse, smtp_addr, smtp_dot); scanning is proxy_scan's.
 */
#ifndef SEKISHO_PROXY_SMTP_SESSION_H
#define SEKISHO_PROXY_SMTP_SESSION_H

#include "proxy/proxy_worker.h"

extern const struct proxy_proto smtp_proto;

#endif
