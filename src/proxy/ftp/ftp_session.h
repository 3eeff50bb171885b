/* ftp_session - the FTP proxy service (`sekisho --ftp`, spec §8).
 *
 * Each accepted client is one session on the session core
 * (proxy_session): the control dialogue of FTP-2..FTP-9 with the server
 * of self_proxy's USER name@host or the parent server, data connections
 * through the proxy's own listening sockets in passive and active mode,
 * IPv4 and IPv6 (PASV, EPSV, PORT, EPRT), and each file transfer (RETR,
 * STOR, STOU, APPE) received whole, scanned and then delivered or refused
 * with "530 Infected by <name>". See ftp_session.c, ftp_data.c and
 * ftp_xfer.c.
 */
#ifndef SEKISHO_PROXY_FTP_SESSION_H
#define SEKISHO_PROXY_FTP_SESSION_H

#include "proxy/proxy_worker.h"

extern const struct proxy_proto ftp_proto;

#endif
