/* http_progress - the files behind the download-progress page (HTTP-13).
 *
 * A browser that waits for a long download to be spooled and scanned gets
 * a page instead, and asks again (meta refresh) for a URL with a random
 * 128-bit token. That request may reach any worker process, so the worker
 * doing the download publishes its state in <tmpdir>/progress/ (0700, like
 * the spool directory):
 *   <token>.st    the progress_record, replaced atomically (rename)
 *   <token>.body.part  the download while it is spooled and scanned
 *   <token>.body  the scanned, clean body
 * Entries are removed PROGRESS_KEEP_S seconds after their last update by
 * whichever worker next publishes or serves one, so a browser may fetch
 * the file more than once, and an abandoned download does not fill the
 * disk for long.
 *
 * Owns nothing between calls. Blocking file I/O on small files in a local
 * directory (a few KiB per update, at most one update per second per
 * download); the body is served with sendfile by the session.
 */
#ifndef SEKISHO_PROXY_HTTP_PROGRESS_H
#define SEKISHO_PROXY_HTTP_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/str.h"
#include "proto/progress_record.h"

#define HTTP_PROGRESS_TOKEN_LEN 32 /* hex digits of 16 random bytes */
#define HTTP_PROGRESS_PREFIX    "/.sekisho-progress/"
#define PROGRESS_KEEP_S         600

/* http_progress_dir - <tmpdir>/progress into out; false when too long. */
bool http_progress_dir(const char *tmpdir, char *out, size_t cap);

/* http_progress_new_token - 32 lowercase hex digits and a NUL; -1 when
 * the kernel has no randomness to give (the caller then shows no page). */
int http_progress_new_token(char token[HTTP_PROGRESS_TOKEN_LEN + 1]);

/* http_progress_parse_path - a request path of the form
 * /.sekisho-progress/<token>[/<anything>]: the token copied out, *file
 * true when a part follows the token (the request for the file itself).
 * false for every other path. */
bool http_progress_parse_path(struct str path, char token[HTTP_PROGRESS_TOKEN_LEN + 1], bool *file);

/* http_progress_write - publish r for token (creating dir if needed);
 * 0, or -1 with errno. */
int http_progress_write(const char *dir, const char *token, const struct progress_record *r);

/* http_progress_read - the record of token, decoded into r; mem (at least
 * PROGRESS_RECORD_SIZE_MAX bytes) holds what r->head points into.
 * 0; -1 with errno ENOENT when there is no such download (or it expired),
 * EINVAL when the file is not a valid record. */
int http_progress_read(const char *dir, const char *token, struct progress_record *r, char *mem,
                       size_t cap);

/* http_progress_take_spool - move the download into the directory:
 * <token>.body.part gets what spool_fd holds so far and is returned, open
 * read-write at its end, for the rest of the download (the caller closes
 * spool_fd). A named file, because an unnamed one cannot be given a name
 * everywhere (linkat of /proc/self/fd fails across some file systems and
 * under gVisor), and copying a whole large download at the end would stall
 * the worker. -1 with errno. */
int http_progress_take_spool(const char *dir, const char *token, int spool_fd);

/* http_progress_keep_body - the download is clean: <token>.body.part
 * becomes <token>.body. 0, or -1 with errno. */
int http_progress_keep_body(const char *dir, const char *token);

/* http_progress_drop_body - remove <token>.body.part (infected, failed). */
void http_progress_drop_body(const char *dir, const char *token);

/* http_progress_open_body - the body of token, opened read-only; -1. */
int http_progress_open_body(const char *dir, const char *token);

/* http_progress_sweep - remove entries older than PROGRESS_KEEP_S. */
void http_progress_sweep(const char *dir);

#endif
