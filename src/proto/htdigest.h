/* htdigest - Apache htdigest password files (conf/sekisho.htdigest).
 *
 * What it does: finds a user's HA1 for a realm in the text of an htdigest
 * file, computes an HA1 (MD5 of "user:realm:password", RFC 7616 3.4.2
 * with MD5, what Apache's htdigest(1) writes), and writes a new file text
 * with one user's HA1 set. The file is the one Apache's htdigest(1)
 * writes and the web console's login reads (G-23, realm "fsigk"): one
 * "user:realm:ha1" line per account, ha1 32 lowercase hex digits, LF or
 * CRLF line ends. A line is well-formed when it has exactly that shape
 * with a user and a realm of 1..HTDIGEST_NAME_MAX bytes holding no ':'
 * and no control byte; every other line (a '#' comment, a blank line,
 * anything else) is skipped by htdigest_find() and copied by
 * htdigest_set(). Upper-case hex is not well-formed: Apache compares the
 * stored text, so such a line would never let anyone in there either.
 * User and realm compare exactly (case-sensitive, as in Apache).
 *
 * What it owns: nothing after the call; htdigest_set() gives the caller
 * heap storage in out (lib/buf). What it does not do: no I/O, no globals,
 * no HTTP (the Digest exchange itself is libmicrohttpd's), no password
 * policy. htdigest_ha1() calls OpenSSL's EVP API (the only code of proto/
 * that does: a pure function, and the project's one MD5).
 */
#ifndef SEKISHO_PROTO_HTDIGEST_H
#define SEKISHO_PROTO_HTDIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"

#define HTDIGEST_NAME_MAX 255 /* bytes of a user or realm name */
#define HTDIGEST_ERR_MAX  96  /* every reason fits (a capacity for err) */

/* htdigest_name_ok - 1..HTDIGEST_NAME_MAX bytes, no ':', no control byte
 * (0x00-0x1f, 0x7f). NULL is not a name. */
bool htdigest_name_ok(const char *name);

/* htdigest_find - the HA1 of the first well-formed line for user and
 * realm in text[0..len) (any bytes, need not be NUL-terminated), decoded
 * into ha1. false when there is none or user/realm is not a valid name. */
bool htdigest_find(const char *text, size_t len, const char *user, const char *realm,
                   unsigned char ha1[16]);

/* htdigest_ha1 - MD5(user ":" realm ":" password) into ha1. false only
 * when OpenSSL refuses MD5 (a FIPS-only provider); ha1 is then zeroed. */
bool htdigest_ha1(const char *user, const char *realm, const char *password, unsigned char ha1[16]);

/* htdigest_set - the text with ha1 on every well-formed line for user and
 * realm (each keeps its line end), or with "user:realm:ha1" appended when
 * there is none (after a line end added to a last line without one; the
 * new line ends like the file's first line, LF when it has none). Every
 * other byte is kept. out must hold no owned storage (zeroed, or after
 * buf_fini) and gets heap storage of exactly the new text's size. false
 * with a one-line reason in err and out empty: user or realm not a valid
 * name, or no memory. */
bool htdigest_set(const char *text, size_t len, const char *user, const char *realm,
                  const unsigned char ha1[16], struct buf *out, char *err, size_t errlen);

#endif
