/* ftp_path - the FTP proxy's idea of the server's current directory.
 *
 * What it does: resolves a path a client names in RETR/STOR/CWD against
 * a known current directory into an absolute, normalized path ("." and
 * empty components dropped, ".." going up, never above "/"), and reads
 * the directory out of a PWD reply ('257 "/a ""b""" is the current
 * directory': RFC 959 Appendix II, a quote inside the name is doubled).
 * The session uses it so the access log names the file, not the word the
 * client typed after a CWD (FTP-11: ftp://user@host:port/<path>).
 *
 * What it owns: nothing. No I/O, no allocation; outputs are
 * NUL-terminated and bounded by the caller's capacity, all or nothing.
 */
#ifndef SEKISHO_PROTO_FTP_PATH_H
#define SEKISHO_PROTO_FTP_PATH_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"

/* ftp_path_resolve - dir (absolute, as this module writes it) joined with
 * arg (absolute when it starts with '/'), normalized, into out[0..cap).
 * false (out = "") when the result does not fit or arg holds a NUL. */
bool ftp_path_resolve(const char *dir, struct str arg, char *out, size_t cap);

/* ftp_pwd_parse - the directory named in the text of a 257 reply: the
 * characters between the first '"' and the next '"' that is not doubled,
 * with doubled quotes undone. false when there is no closed quoted name,
 * it does not fit, or it holds a NUL. */
bool ftp_pwd_parse(struct str text, char *out, size_t cap);

#endif
