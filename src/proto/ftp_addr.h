/* ftp_addr - FTP data addresses: PORT and EPRT arguments, the proxy's
 * own 227 and 229 replies.
 *
 * What it does: parses and formats the data address a client names in
 * PORT "h1,h2,h3,h4,p1,p2" (RFC 959 4.1.2) and EPRT "|1|a.b.c.d|port|" /
 * "|2|v6|port|" (RFC 2428 2), the argument of EPSV (RFC 2428 3), and
 * formats the replies the proxy writes for PASV (FTP-6, spec responses
 * "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)") and EPSV ("229
 * Entering Extended Passive Mode (|||port|)"). Parsing a server's 227 and
 * 229 replies is proto/ftp_reply_parse's (ftp_reply_parse_pasv/_epsv).
 *
 * Strict on purpose: the proxy connects to what it parses, so anything
 * another parser could read differently is refused: octets 0-255 and a
 * port 1-65535 in plain decimal without leading zeros (inet_aton reads
 * "010" as octal), no blanks inside, nothing after the address, port 0
 * refused.
 *
 * What it owns: nothing. Formatters append to the caller's struct buf, all
 * or nothing. No I/O, no allocation, no policy (whether the address must be
 * the client's own is the session's business, FTP-8).
 */
#ifndef SEKISHO_PROTO_FTP_ADDR_H
#define SEKISHO_PROTO_FTP_ADDR_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

/* The longest EPRT argument: "|2|" + 45 bytes of IPv6 text + "|65535|". */
#define FTP_EPRT_MAX 64

struct ftp_addr {
    bool ipv6;
    uint8_t ip[16]; /* IPv4 in ip[0..3] */
    uint16_t port;  /* 1..65535 */
};

/* ftp_port_parse - PORT's argument (after ftp_arg_trim): exactly six
 * numbers 0-255 separated by single commas; the port p1 * 256 + p2 not 0. */
bool ftp_port_parse(struct str arg, struct ftp_addr *out);

/* ftp_eprt_parse - EPRT's argument (after ftp_arg_trim): <d>proto<d>addr<d>port<d>
 * with one delimiter byte d in 33-126 that is not a digit, '.' or ':' and
 * occurs exactly four times; proto "1" with a dotted quad, or "2" with an
 * IPv6 address in text form (no zone "%..."; an IPv4-mapped one is kept
 * as IPv6). */
bool ftp_eprt_parse(struct str arg, struct ftp_addr *out);

enum ftp_epsv_arg {
    FTP_EPSV_ANY = 0, /* no argument */
    FTP_EPSV_V4,      /* "1" */
    FTP_EPSV_V6,      /* "2" */
    FTP_EPSV_ALL,     /* "ALL" (any case): only EPSV from now on */
    FTP_EPSV_BAD,     /* anything else (the server would answer 522 or 501) */
};

/* ftp_epsv_arg_parse - EPSV's argument (after ftp_arg_trim). */
enum ftp_epsv_arg ftp_epsv_arg_parse(struct str arg);

/* ftp_port_format - "h1,h2,h3,h4,p1,p2" of an IPv4 address (the argument
 * of the PORT the proxy sends upstream, C-26). false when a is IPv6 or
 * port 0, or out is full (out unchanged). */
bool ftp_port_format(struct buf *out, const struct ftp_addr *a);

/* ftp_eprt_format - "|1|a.b.c.d|port|" or "|2|v6|port|" with '|'. */
bool ftp_eprt_format(struct buf *out, const struct ftp_addr *a);

/* ftp_pasv_reply_format - "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)\r\n". */
bool ftp_pasv_reply_format(struct buf *out, const struct ftp_addr *a);

/* ftp_epsv_reply_format - "229 Entering Extended Passive Mode (|||port|)\r\n";
 * false for port 0. */
bool ftp_epsv_reply_format(struct buf *out, uint16_t port);

#endif
