/* access - the compiled access-control table of conf/hosts.allow.
 *
 * Loads a hosts.allow file (guide 7.2, spec §3 ACL-1..ACL-8), reads the
 * list files it references (`/path`) at load time, compiles every field
 * into sorted address and name sets, and answers "does this client match
 * field F" in O(log n) per set. A table is immutable once built, so one
 * table can be shared read-only by every session and thread; a reload
 * builds a new table and swaps it.
 *
 * It owns the table's memory. It does no DNS (the caller passes the name
 * it resolved, or NULL), reads files only in the load functions, and does
 * not decide what a non-match means: the caller applies ACL-2 (switches)
 * and ACL-8/G-15 (enabled but empty or absent list = deny).
 */
#ifndef SEKISHO_CORE_ACCESS_H
#define SEKISHO_CORE_ACCESS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/hosts_allow_parse.h"

/* Largest hosts.allow text accepted (2047-byte lines, many repeated fields). */
#define ACCESS_FILE_MAX (4u << 20)
/* Largest list file (a list file exists to hold long lists). */
#define ACCESS_LIST_FILE_MAX (16u << 20)
/* List file references per table (each is read at load time). */
#define ACCESS_LIST_FILES_MAX 256
/* Patterns per table, list files included. */
#define ACCESS_PATTERNS_MAX 2000000u
/* EXCEPT operators per rule. */
#define ACCESS_EXCEPT_MAX 64
/* Errors reported before a load gives up. */
#define ACCESS_ERRORS_MAX 50
/* Longest client name that can match name patterns; a longer one (no DNS
 * name can be) is treated as unknown. */
#define ACCESS_NAME_MAX HOSTS_ALLOW_NAME_MAX

struct access_table;

/* A client (or destination) prepared once for several lookups. */
struct access_client {
    int family;                       /* AF_INET, AF_INET6, or 0 when the address is unknown */
    uint32_t ip4;                     /* AF_INET, host byte order (IPv4-mapped IPv6 lands here) */
    uint8_t ip6[16];                  /* AF_INET6 */
    char addr_text[INET6_ADDRSTRLEN]; /* canonical text, for wildcard patterns */
    bool has_name;                    /* name known */
    char name[ACCESS_NAME_MAX + 1];   /* lowercase */
};

/* access_client_init - addr: textual IPv4 or IPv6 address ("[::1]" and
 * "fe80::1%eth0" are accepted), NULL, "" or anything unparsable meaning
 * unknown; name: host or domain name, NULL or "" when unknown. */
void access_client_init(struct access_client *c, const char *addr, const char *name);

/* access_table_load - read and compile the hosts.allow at path. Every
 * error is written to diag (may be NULL) as "file:line: reason\n"; any
 * error makes the load fail. Returns NULL on error (a missing file is an
 * error too: the caller decides whether that matters). */
struct access_table *access_table_load(const char *path, FILE *diag);

/* access_table_from_text - the same for text already in memory; name is
 * used in messages. */
struct access_table *access_table_from_text(const char *text, size_t len, const char *name,
                                            FILE *diag);

/* access_table_new - an empty table (no field present), to be filled with
 * access_table_set_list (CFG-7: ini keys holding pattern lists). */
struct access_table *access_table_new(void);

/* access_table_set_list - replace field f of t with the pattern list text
 * (blank/comma separated, list files allowed, EXCEPT allowed; newlines
 * separate patterns). origin names the source in messages ("sekisho.ini
 * [http] http_from"). Returns 0, or -1 after writing errors to diag; on
 * error t is unchanged. Not for a table already shared with readers. */
int access_table_set_list(struct access_table *t, enum hosts_allow_field f, const char *list,
                          size_t len, const char *origin, FILE *diag);

/* access_table_free - NULL is a no-op. */
void access_table_free(struct access_table *t);

/* access_table_has_field - the field appeared in the file (even with an
 * empty list). Unknown field names give false. */
bool access_table_has_field(const struct access_table *t, const char *field);
bool access_table_has(const struct access_table *t, enum hosts_allow_field f);

/* access_table_pattern_count - patterns compiled into field f (for logs). */
size_t access_table_pattern_count(const struct access_table *t, enum hosts_allow_field f);

/* access_match - hosts_access(5) client-list matching of field against a
 * client. addr: textual address or NULL (e.g. smtp_rcpt matches a domain
 * only); name: host or domain name, NULL when unknown (a name pattern then
 * never matches). An absent field or unknown field name never matches.
 * Several lines of one field are alternatives (tcpd stops at the first
 * matching line). */
bool access_match(const struct access_table *t, const char *field, const char *addr,
                  const char *name);

/* access_match_client - the same with a prepared client and a field enum. */
bool access_match_client(const struct access_table *t, enum hosts_allow_field f,
                         const struct access_client *c);

#endif
