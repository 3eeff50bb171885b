/* pass_rules - the skip rules that exempt HTTP/FTP data from scanning.
 *
 * SCAN-4 / SCAN-5 / CFG-3: a User-Agent prefix list (case-sensitive) with
 * the guide's built-in list of updaters and streaming players that is
 * always active, and a file-name suffix list (case-insensitive). Pure:
 * views in, a verdict out.
 */
#ifndef SEKISHO_PROTO_PASS_RULES_H
#define SEKISHO_PROTO_PASS_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* pass_rules_builtin_user_agent - whether ua starts with one of the
 * built-in User-Agents of SCAN-5 (always skipped). */
bool pass_rules_builtin_user_agent(struct str ua);

/* pass_rules_user_agent - whether ua starts with one of the n prefixes. */
bool pass_rules_user_agent(struct str ua, const struct str *prefixes, size_t n);

/* pass_rules_extension - whether name ends with one of the n suffixes,
 * ASCII case-insensitive (".exe" matches "SETUP.EXE"). Empty suffixes
 * never match. */
bool pass_rules_extension(struct str name, const struct str *suffixes, size_t n);

/* pass_rules_url_filename - the last path segment of a path (without the
 * query), the name pass_ext is matched against. */
struct str pass_rules_url_filename(struct str path);

#endif
