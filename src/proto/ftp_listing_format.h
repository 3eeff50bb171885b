/* ftp_listing_format - an FTP directory listing as a simple HTML page (G-29).
 *
 * What it does: turns the LIST output of an FTP server (as
 * core/ftp_client stores it) into the page the HTTP proxy answers an
 * ftp:// directory URL with: a title "Index of ftp://host[:port]/path",
 * then a <ul> whose first item links to the parent directory (except at
 * "/") and whose other items link to each entry, directories with a
 * trailing '/', with size and modification time as the server wrote them
 * (ftp_list_parse_line); a line in a format we do not know is shown as it
 * is, without a link. Names are HTML-escaped for display and
 * percent-encoded for the links; links are absolute paths
 * ("/pub/dir/name"), so they are right whether the page's own URL ended
 * in '/' or not (a file URL that turned out to be a directory). It also
 * decodes the percent-encoded path of a URL (ftp_listing_path_decode),
 * which the FTP client and the page both need.
 *
 * What it owns: nothing. Every call appends to the caller's struct buf
 * all or nothing (on false the buffer is as before the call), so a page
 * that does not fit is refused whole, never cut. The page is UTF-8
 * declared; names that are not UTF-8 are passed through byte for byte.
 *
 * What it does not do: no I/O, no allocation, no HTTP head (the session
 * adds "Content-Type: text/html" and Server: <product_name>, HTTP-16).
 */
#ifndef SEKISHO_PROTO_FTP_LISTING_FORMAT_H
#define SEKISHO_PROTO_FTP_LISTING_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

/* Default FTP port (G-38): not shown in the page title. */
#define FTP_LISTING_DEFAULT_PORT 21

/* ftp_listing_path_decode - percent-decode a URL path into out (cap bytes,
 * NUL-terminated). "%" not followed by two hex digits is kept as it is.
 * Returns the decoded length, or (size_t)-1 when it does not fit. The
 * result may contain any byte, NUL included: callers that put it into an
 * FTP command must refuse control bytes (core/ftp_client does). */
size_t ftp_listing_path_decode(struct str raw, char *out, size_t cap);

/* ftp_listing_begin - the page head: doctype, title, heading, "<ul>" and
 * the parent-directory item. host is shown as given (an IPv6 literal is
 * bracketed), port only when not 21; path is the decoded directory path
 * ("/pub/dir" or "/pub/dir/"; "" means "/"), shown with a trailing '/'. */
bool ftp_listing_begin(struct buf *out, struct str host, uint16_t port, struct str path);

/* ftp_listing_entry - one "<li>" for one line of LIST output (its line end
 * may be present); lines with nothing to show ("total N", ".", "..",
 * empty) append nothing and return true. path as for ftp_listing_begin. */
bool ftp_listing_entry(struct buf *out, struct str path, struct str line);

/* ftp_listing_end - "</ul>" and the end of the page. */
bool ftp_listing_end(struct buf *out);

/* ftp_listing_format - the whole page for a whole listing (lines end with
 * LF or CR LF; a last line without its end counts). */
bool ftp_listing_format(struct buf *out, struct str host, uint16_t port, struct str path,
                        struct str listing);

#endif
