/* admin_web - the console's HTTP server (libmicrohttpd). */
#ifndef SEKISHO_ADMIN_ADMIN_WEB_H
#define SEKISHO_ADMIN_ADMIN_WEB_H

struct MHD_Daemon;

/* admin_web_start - serve on listen_fd (already bound and listening);
 * TLS when tls_cert and tls_key (PEM texts) are given. NULL on failure. */
struct MHD_Daemon *admin_web_start(int listen_fd, const char *tls_cert, const char *tls_key);

#endif
