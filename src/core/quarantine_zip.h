/* quarantine_zip - a quarantined object handed out as a protected zip.
 *
 * Whoever downloads a quarantined object (the console's "download",
 * sekisho-quarantine zip) gets a zip archive, never the bare object: two
 * entries, the object ("<id>.mbox" for a mail in mailbox format, "<id>"
 * otherwise) and its meta as "quarantine-info.txt", both encrypted with
 * WinZip AES-256 (libzip's ZIP_EM_AES_256) under the given password
 * ("infected" by convention), so that no scanner on the way quarantines
 * the download itself and no one opens it by a slip.
 *
 * libzip writes an archive to a file it can seek in: the archive is made
 * as a file in tmpdir (0600, removed before return) and then copied to
 * the caller's descriptor (a file, a pipe, a socket), from its current
 * position; the descriptor is not closed.
 *
 * What it owns: the temporary archive, for the call. Links with -lzip.
 */
#ifndef SEKISHO_CORE_QUARANTINE_ZIP_H
#define SEKISHO_CORE_QUARANTINE_ZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/quarantine_store.h"

#define QZIP_DEFAULT_PASSWORD "infected"
#define QZIP_INFO_NAME        "quarantine-info.txt"
#define QZIP_TEXT_MAX         512

/* qzip_write - the item id of dir as a protected zip into out_fd. The
 * store's refusals (a bad id, no such item, ...) come back as their
 * status; QSTORE_IO with text for anything else (an empty password,
 * libzip without AES, a full disk). text (cap bytes) gets a sentence. */
enum qstore_status qzip_write(const char *dir, const char *id, const char *password,
                              const char *tmpdir, int out_fd, char *text, size_t cap);

#endif
