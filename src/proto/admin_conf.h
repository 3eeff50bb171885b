/* admin_conf - the text of conf/admin.conf, the web console's settings.
 *
 * What it does: parses the whole admin.conf text (issue 16,
 * docs/internals/admin.md; CLI-6, G-23, INST-2) into a struct admin_conf,
 * refusing the file at its first error with the line and a one-line
 * reason. The console listens on the network with root's help, so a line
 * that could be read two ways is refused, not guessed at.
 *
 * File syntax, the same as conf/dbupdate.conf (proto/dbupdate_conf):
 * "key=value" lines; blanks (spaces, tabs) around the key and around the
 * value are dropped; LF or CRLF line ends, the last line may lack one; a
 * UTF-8 byte order mark at the very start is skipped. A line whose first
 * non-blank byte is '#' is a comment and blank lines are ignored; there
 * are no end-of-line comments and no quoting. Keys are ASCII
 * case-insensitive and each may be given once; an unknown key is an error.
 * An empty value means "not set" (the default stays), except for
 * metrics_allow= (an empty list: no address may scrape without the token).
 *
 * Keys, defaults and values:
 *   adminport=9012            the console's TCP port, 1-65535
 *   admin_listen=127.0.0.1    an IPv4 or IPv6 address literal (an IPv6 one
 *                             may be in brackets), or '*' for any address
 *   lang=en                   en or ja (any case): the console's language
 *   session_timeout=300       seconds without a request before the
 *                             password is asked again, 10-86400
 *   tls_certificate=          PEM certificate chain and private key files
 *   tls_key=                  for HTTPS: both or neither (checked after the
 *                             last line); a path, absolute or relative to
 *                             the installation, of at most ADMIN_PATH_MAX
 *                             bytes (no control bytes)
 *   metrics_token=            bearer token for /metrics: empty (none), or
 *                             16-128 bytes of A-Z a-z 0-9 . _ ~ - (it is
 *                             never quoted in an error message)
 *   metrics_allow=127.0.0.1,::1
 *                             comma list of IPv4/IPv6 address literals
 *                             that may scrape /metrics without the token,
 *                             at most ADMIN_ALLOW_MAX, none twice; blanks
 *                             around the items are dropped
 *   login_failures_max=5      failed logins in a row from one address
 *                             before it is paused, 1-100
 *   login_pause=60            seconds of that pause, 1-86400
 *   idle_timeout=30           seconds a connection may stay silent, 1-3600
 *
 * What it owns: nothing but the caller's struct (fixed arrays, every
 * string NUL-terminated). What it does not do: no I/O, no allocation, no
 * globals, no name resolution (addresses are literals), no check that the
 * TLS files exist (the console does that when it starts); reading the
 * file (and refusing it when larger than ADMIN_CONF_FILE_MAX before
 * reading it all) is the caller's.
 */
#ifndef SEKISHO_PROTO_ADMIN_CONF_H
#define SEKISHO_PROTO_ADMIN_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define ADMIN_CONF_FILE_MAX (64u * 1024) /* larger files are refused */
#define ADMIN_LINE_MAX      8192         /* bytes of a line (a path and its key fit) */
#define ADMIN_PATH_MAX      4095         /* bytes of a TLS file path (PATH_MAX - 1) */
#define ADMIN_ADDR_TEXT_MAX 63           /* bytes of an address as written */
#define ADMIN_TOKEN_MIN     16
#define ADMIN_TOKEN_MAX     128
#define ADMIN_ALLOW_MAX     32
#define ADMIN_ERR_MAX       256 /* every reason fits (a capacity for err) */

enum admin_lang { ADMIN_LANG_EN, ADMIN_LANG_JA };

struct admin_addr {
    int family;             /* AF_INET, AF_INET6; AF_UNSPEC: any address ('*', admin_listen) */
    unsigned char addr[16]; /* network order; 4 bytes for AF_INET; zero for any */
    char text[ADMIN_ADDR_TEXT_MAX + 1]; /* as written, without brackets; "*" for any */
};

struct admin_conf {
    unsigned port;                            /* adminport */
    struct admin_addr listen;                 /* admin_listen */
    enum admin_lang lang;                     /* lang */
    unsigned session_timeout;                 /* seconds */
    char tls_certificate[ADMIN_PATH_MAX + 1]; /* "" = no HTTPS */
    char tls_key[ADMIN_PATH_MAX + 1];         /* set exactly when tls_certificate is */
    char metrics_token[ADMIN_TOKEN_MAX + 1];  /* "" = none */
    size_t nallow;                            /* metrics_allow */
    struct admin_addr allow[ADMIN_ALLOW_MAX]; /* never AF_UNSPEC */
    unsigned login_failures_max;              /* 1-100 */
    unsigned login_pause;                     /* seconds */
    unsigned idle_timeout;                    /* seconds of silence before a close */
};

/* admin_conf_defaults - every field at its default (see above). */
void admin_conf_defaults(struct admin_conf *c);

/* admin_conf_parse - parse the whole file text[0..len) over c (call
 * admin_conf_defaults first). 0 on success; -1 with *err_line (1-based; 0
 * for whole-file errors) and a one-line reason in err (no file name: the
 * caller prefixes "path:line: "). The text need not be NUL-terminated and
 * may hold any bytes. Refused: len over ADMIN_CONF_FILE_MAX (line 0); a
 * line over ADMIN_LINE_MAX bytes, with a NUL or another control byte (tab
 * and the CR of a CRLF aside), without '=', with no key, an unknown key, a
 * key given twice or a bad value. After the last line: one of
 * tls_certificate and tls_key without the other (err_line = the line of
 * the one given). On -1, c is partly updated: discard it. */
int admin_conf_parse(const char *text, size_t len, struct admin_conf *c, unsigned *err_line,
                     char *err, size_t errcap);

/* admin_lang_name - "en" or "ja". */
const char *admin_lang_name(enum admin_lang lang);

#endif
