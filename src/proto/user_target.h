/* user_target - "USER name@host[:port]" / "name#host[:port]" for self_proxy.
 *
 * What it does: splits the argument of a USER command into the user name
 * sent upstream and the server to connect to, as the POP proxy (POP-4,
 * G-16) and the FTP proxy (FTP-4) both do: at the LAST '@' or '#'.
 *
 * What it owns: nothing; the views point into the caller's argument.
 *
 * What it does not do: no I/O, no name lookup, no decision about what
 * PLAIN means (the parent server, or "USER format is ..."): the sessions
 * decide. Shared by proto/pop3_parse (pop3_user_split) and the FTP session.
 */
#ifndef SEKISHO_PROTO_USER_TARGET_H
#define SEKISHO_PROTO_USER_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/str.h"

/* A host name is at most this long (RFC 1035 2.3.4 without the final dot). */
#define USER_TARGET_HOST_MAX 253

enum user_target_status {
    USER_TARGET_PLAIN = 0, /* no '@' or '#': the whole argument is the name */
    USER_TARGET_HOST,      /* name@host[:port] or name#host[:port] */
    USER_TARGET_SYNTAX,    /* a separator, but the parts are not usable */
};
const char *user_target_status_name(enum user_target_status s);

struct user_target {
    struct str name; /* the user name sent upstream ("USER <name>") */
    struct str host; /* host name or address; an IPv6 literal without its brackets */
    uint16_t port;   /* 1..65535 when given, 0 when not (G-16: the caller's default) */
    bool ipv6;       /* host came in brackets */
};

/* user_target_split - the argument of USER, already trimmed of blanks.
 *
 * The split is at the LAST '@' or '#': "a@b.example@pop.example" is the
 * user "a@b.example" at pop.example. The server part is a host name
 * (letters, digits, '-', '.', '_'), an IPv4 address, or an IPv6 literal
 * in brackets ("[::1]"), optionally followed by ":port" (G-16), port
 * 1..65535 in decimal.
 * PLAIN: no separator; out->name is the whole arg, the rest is empty.
 * SYNTAX: an empty name, a name with a blank (it would be two words
 * upstream), a control byte anywhere, an empty host, a host longer than
 * USER_TARGET_HOST_MAX or with other bytes (a blank, '/', a second ':'
 * outside brackets: an IPv6 address must be bracketed so that its last
 * group is not taken for a port), an unterminated '[', a bracketed part
 * that is not hex digits, ':' and '.', anything but ":port" after ']', an
 * empty or bad port.
 * The views point into arg and are set on PLAIN and HOST only. */
enum user_target_status user_target_split(struct str arg, struct user_target *out);

#endif
