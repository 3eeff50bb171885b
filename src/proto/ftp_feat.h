/* ftp_feat - the FEAT reply the FTP proxy passes on.
 *
 * What it does: given the server's reply to FEAT (RFC 2389 3.2), parsed by
 * proto/ftp_reply_parse, writes the reply the proxy sends to its client:
 * the same multi-line framing ("211-Features:" ... "211 End") with only
 * the features the proxy carries through. A client that sees a feature
 * uses it; one the proxy cannot follow (AUTH TLS: an encrypted session
 * that cannot be scanned; MODE Z: compressed data the scanner would see
 * as noise; HOST: a virtual host choice that USER name@host already
 * made) must therefore not be seen.
 *
 * The allow-list (feature name case-insensitive, as RFC 2389 3.3 says):
 *   SIZE, MDTM, TVFS, UTF8, PASV, EPSV, EPRT   no parameters kept
 *   REST STREAM                                only with "STREAM"
 *   MLST <facts>, LANG <tags>                  parameters kept
 * Everything else is dropped: AUTH, PBSZ, PROT, CCC, ADAT, MIC, CONF, ENC
 * (RFC 2228/4217 security), MODE (Z, ...), HOST, CLNT, SITE ..., MFMT,
 * MFCT, MFF (change files' facts), XCRC, XMD5, XSHA*, HASH, RANG, ESTA,
 * ESTP, and anything unknown: a feature nobody reviewed is not passed.
 * MLST is kept because MLSD is a data command the session handles as
 * LIST (ftp_verb_opens_data); a session that does not must drop it too.
 *
 * What it owns: nothing. All or nothing on the caller's struct buf. No
 * I/O, no allocation.
 */
#ifndef SEKISHO_PROTO_FTP_FEAT_H
#define SEKISHO_PROTO_FTP_FEAT_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/ftp_reply_parse.h"

/* A feature line the proxy passes on, its leading blank included; a longer
 * one is dropped (RFC 2389 features are a word and a few parameters). */
#define FTP_FEAT_LINE_MAX 256

/* ftp_feat_allowed - whether a feature line (the text after the leading
 * blank, e.g. "REST STREAM") is on the allow-list above. */
bool ftp_feat_allowed(struct str feature);

/* ftp_feat_edit - the proxy's reply to FEAT, from the server's reply r
 * (a DONE struct ftp_reply).
 *
 * Only code 211 is edited: false for any other code (the session relays
 * a 500/502 "not understood" as it is), and out is unchanged. Feature
 * lines are the lines of r->text between the first and the last that
 * begin with a blank (RFC 2389 3.2): the last is the "211 End" line, or,
 * in a text cut at FTP_REPLY_TEXT_MAX (r->truncated), a line that may be
 * cut in the middle. Allowed ones are written " <feature>\r\n"
 * as the server spelled them (r->text is already free of control bytes),
 * between "211-Features:\r\n" and "211 End\r\n"; none at all gives the
 * single line "211 No features\r\n" (RFC 2389 3.2 no-features). false
 * also when out is too small (out unchanged). */
bool ftp_feat_edit(const struct ftp_reply *r, struct buf *out);

#endif
