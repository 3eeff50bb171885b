/* authlog_format - one line of a service's auth log (auth_log).
 *
 * A failed authentication (HTTP proxy authentication, SMTP AUTH, the
 * POP/FTP user restriction) is written as Postfix writes a failed SMTP
 * AUTH:
 *
 *   2026-12-07 04:00:00 sekisho_smtp[1234]: warning: unknown[192.0.2.7]:
 *   SASL LOGIN authentication failed: authentication failure, user=alice
 *
 * (one line), because that is the line fail2ban's stock filter
 * postfix[mode=auth] (the postfix-sasl jail) already matches: a site
 * bans password guessers with a stock jail whose logpath is the auth
 * logs. HTTP Basic is written as mechanism PLAIN (it carries the same
 * user and password pair), the POP/FTP user restriction as LOGIN (the
 * user step of a login; the filter knows LOGIN, PLAIN, CRAM-MD5 and
 * DIGEST-MD5 only).
 *
 * Hostile bytes: the host, the address and the user name get %xx (lower
 * case) for every byte <= 0x20, >= 0x7f and for '[' ']' '%' ',', so no
 * client can end the line, forge a second address in brackets, or make
 * the filter read another host. A mechanism that is not A-Z 0-9 '-' '_'
 * is written "?". The reason is the caller's static text.
 *
 * Owns nothing, no I/O; the time zone is the process's (localtime_r).
 */
#ifndef SEKISHO_PROTO_AUTHLOG_FORMAT_H
#define SEKISHO_PROTO_AUTHLOG_FORMAT_H

#include <stdbool.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/str.h"

struct authlog_line {
    time_t when;
    struct str program; /* "sekisho_smtp": the PAM service name */
    long pid;
    struct str client_host; /* empty: "unknown", as Postfix writes it */
    struct str client_ip;
    struct str mechanism; /* "PLAIN", "LOGIN" */
    const char *reason;
    struct str user; /* may be empty */
};

/* authlog_format - append the line with its '\n' to out; false (out
 * unchanged) when it does not fit. */
bool authlog_format(struct buf *out, const struct authlog_line *l);

#endif
