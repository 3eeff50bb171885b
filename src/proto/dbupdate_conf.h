/* dbupdate_conf - the text of conf/dbupdate.conf, the proxy-list syntax of
 * orspservice_http_proxy, and the rule for database file names.
 *
 * What it does: parses the whole dbupdate.conf text (CLI-3, C-18, C-39,
 * KB-2; spec/options.tsv section dbupdate) into a struct dbupdate_conf,
 * refusing the file at its first error with the line and a one-line
 * reason; parses the fsaua http_proxies syntax
 * "[http://][user[:passwd]@]<address>[:port][,...]" (KB-13) into a
 * bounded array; and says whether a name may be a ClamAV database file in
 * databases/ (used for custom_url= and for the members of an offline
 * bundle, proto/db_bundle).
 *
 * File syntax: "key=value" lines; blanks (spaces, tabs) around the key and
 * around the value are dropped; LF or CRLF line ends, the last line may
 * lack one; a UTF-8 byte order mark at the very start is skipped. A line
 * whose first non-blank byte is '#' is a comment and blank lines are
 * ignored; there are no end-of-line comments ('#' inside a value is part
 * of it: passwords may contain it) and no quoting (quotes are kept). Keys
 * are ASCII case-insensitive; use_proxyauth is an alias of http_proxyauth
 * (C-18). An empty value means "not set" (the default stays), except for
 * databases= (an empty list: no official databases) and custom_url= (adds
 * nothing). Every key but custom_url may be given once. Strict on purpose:
 * the file configures what is downloaded and through which proxy, so a
 * line that could be read two ways is refused, not guessed at.
 *
 * Values: yes/no (any case); numbers in decimal within the ranges of the
 * struct; http_proxy_host a host name (labels of letters, digits, '-' and
 * '_'), an IPv4 dotted quad or an IPv6 address (brackets optional), never a
 * URL or "host:port"; UPDATEURL an http:// or https:// URL; custom_url an
 * http://, https:// or file:///absolute/path URL whose last path component
 * is a database file name (libfreshclam names the downloaded file after
 * it). A URL is scheme://host[:port][/path], host as above with IPv6 in
 * brackets, port 1-65535; no user name or password in it (they would end
 * up in logs), no blanks, path bytes as RFC 3986 allows (no '#'
 * fragments, '%' followed by two hex digits).
 *
 * What it owns: nothing but the caller's structs (fixed arrays, every
 * string NUL-terminated). What it does not do: no I/O, no allocation, no
 * globals, no name resolution; reading the file (and refusing it when
 * larger than DBU_CONF_FILE_MAX before reading it all) is the caller's.
 */
#ifndef SEKISHO_PROTO_DBUPDATE_CONF_H
#define SEKISHO_PROTO_DBUPDATE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define DBU_CONF_FILE_MAX   (64u * 1024) /* larger files are refused */
#define DBU_LINE_MAX        4096         /* bytes of a line, its line end excluded */
#define DBU_URL_MAX         1023
#define DBU_HOST_MAX        255
#define DBU_CRED_MAX        255
#define DBU_CUSTOM_URLS_MAX 32
#define DBU_DB_NAMES_MAX    16
#define DBU_DB_NAME_MAX     32
#define DBU_ERR_MAX         256 /* every reason fits (a capacity for err) */

struct dbupdate_conf {
    bool use_proxy;                    /* use_proxy=yes|no, default no */
    char proxy_host[DBU_HOST_MAX + 1]; /* http_proxy_host */
    unsigned proxy_port;               /* http_proxy_port, 0 = not set */
    bool proxyauth;                    /* http_proxyauth (alias use_proxyauth), default no */
    char proxy_user[DBU_CRED_MAX + 1]; /* http_proxyauth_user */
    char proxy_pass[DBU_CRED_MAX + 1]; /* http_proxyauth_pass */
    char updateurl[DBU_URL_MAX + 1];   /* UPDATEURL, "" = not set */
    size_t ndb;                        /* databases=, default main,daily,bytecode */
    char db[DBU_DB_NAMES_MAX][DBU_DB_NAME_MAX + 1];
    size_t ncustom; /* custom_url= lines, in order */
    char custom_url[DBU_CUSTOM_URLS_MAX][DBU_URL_MAX + 1];
    unsigned max_attempts;    /* 1-10, default 3 */
    unsigned connect_timeout; /* seconds 1-600, default 30 */
    unsigned receive_timeout; /* seconds 1-3600, default 60 */
};

/* dbupdate_conf_defaults - every field at its default (see the struct). */
void dbupdate_conf_defaults(struct dbupdate_conf *c);

/* Parse the whole file text[0..len) over c (call dbupdate_conf_defaults first).
 * 0 on success; -1 with *err_line (1-based; 0 for whole-file errors) and a
 * one-line reason in err (no file name: the caller prefixes "path:line: ").
 * The text need not be NUL-terminated and may hold any bytes. Refused:
 * len over DBU_CONF_FILE_MAX (line 0); a line over DBU_LINE_MAX bytes, with
 * a NUL or another control byte (tab and the CR of a CRLF aside), without
 * '=', with an unknown key, or with a bad value; a key other than
 * custom_url given twice; more than DBU_CUSTOM_URLS_MAX custom_url lines.
 * After the last line: use_proxy=yes without http_proxy_host, and
 * http_proxyauth=yes without http_proxyauth_user (err_line = the line of
 * use_proxy / http_proxyauth). On -1, c is partly updated: discard it. */
int dbupdate_conf_parse(const char *text, size_t len, struct dbupdate_conf *c, unsigned *err_line,
                        char *err, size_t errcap);

struct dbu_proxy {
    char host[DBU_HOST_MAX + 1]; /* name, IPv4, or IPv6 without brackets */
    unsigned port;               /* 0 = not given */
    char user[DBU_CRED_MAX + 1]; /* "" = none */
    char pass[DBU_CRED_MAX + 1];
};
#define DBU_PROXIES_MAX 8

/* orspservice_http_proxy syntax (KB-13, fsaua http_proxies):
 * [http://][user[:passwd]@]<address>[:port][,...]; address a host name,
 * IPv4 or [IPv6]. 0 with *n entries; -1 with a reason. Empty string: n = 0.
 * Blanks around the whole string and around each entry are ignored; an
 * empty entry (",," or a trailing ',') is an error, so are more than cap
 * entries. "http://" is matched in any case, other schemes are refused; a
 * single '/' after the address is allowed (as in http_proxy variables),
 * any other path is not. The user part ends at the LAST '@' and the user
 * name at its first ':', so a password may hold '@' and ':' but no ','
 * (the list separator); there is no percent-decoding. An IPv6 address must
 * be in brackets (else its last group reads as a port); port 1-65535.
 * Control bytes (tab aside: it is a blank) are refused. On -1, *n = 0. */
int dbu_proxy_list_parse(const char *s, size_t len, struct dbu_proxy *out, size_t cap, size_t *n,
                         char *err, size_t errcap);

/* The name of a database file that may live in databases/ (ClamAV types):
 * one path component, [A-Za-z0-9._-], 1..64 bytes, not starting with '.', with one
 * of the extensions cvd cld cud ndb ndu hdb hdu hsb hsu mdb mdu msb msu ldb ldu idb
 * cdb cfg crb cat ftm fp sfp ign ign2 pdb gdb wdb pwdb info cbc yar yara imp.
 * The extension is the part after the last '.' and is matched in any case,
 * as libclamav does when it loads a directory. */
bool dbu_db_file_name_ok(const char *name, size_t len);

#endif
