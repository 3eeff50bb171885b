/* progress_record - the state file of a download shown with a progress page.
 *
 * What it does: encodes and decodes the small record through which the
 * worker that downloads a file (HTTP-13 `progress`) tells whichever worker
 * serves the browser's next request how far the download is, what the
 * verdict was, and the response head to deliver the file with. Workers
 * are separate processes, so the record lives in a file (http_progress).
 *
 * Format (text lines, then raw bytes):
 *   SEKISHO-PROGRESS 1\n
 *   state=<downloading|scanning|clean|infected|error>\n
 *   received=<u64>\n expected=<u64, 0 = unknown>\n started=<unix s>\n
 *   url=<text>\n type=<text>\n detect=<text>\n error=<text>\n
 *   head=<n>\n <n bytes: the HTTP response head to deliver with>
 * Every line is present, in this order. Text values never contain CR, LF
 * or NUL (the encoder replaces them by spaces).
 *
 * What it owns: nothing; the decoder fills fixed arrays and points head
 * into the caller's bytes. No I/O, no allocation.
 */
#ifndef SEKISHO_PROTO_PROGRESS_RECORD_H
#define SEKISHO_PROTO_PROGRESS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

#define PROGRESS_RECORD_URL_MAX  2100 /* the 2098-byte URL limit (HTTP-4) and some */
#define PROGRESS_RECORD_TYPE_MAX 128
#define PROGRESS_RECORD_TEXT_MAX 255   /* detection name, error text */
#define PROGRESS_RECORD_HEAD_MAX 17408 /* C-01: the response-head limit */
#define PROGRESS_RECORD_SIZE_MAX                                                                   \
    (512 + PROGRESS_RECORD_URL_MAX + PROGRESS_RECORD_TYPE_MAX + 2 * PROGRESS_RECORD_TEXT_MAX +     \
     PROGRESS_RECORD_HEAD_MAX)

enum progress_state {
    PROGRESS_DOWNLOADING = 0,
    PROGRESS_SCANNING,
    PROGRESS_CLEAN,
    PROGRESS_INFECTED,
    PROGRESS_ERROR,
};

const char *progress_state_name(enum progress_state st);

struct progress_record {
    enum progress_state state;
    uint64_t received;
    uint64_t expected; /* 0: the server did not say */
    int64_t started;   /* unix seconds */
    char url[PROGRESS_RECORD_URL_MAX + 1];
    char content_type[PROGRESS_RECORD_TYPE_MAX + 1];
    char detect[PROGRESS_RECORD_TEXT_MAX + 1];
    char error[PROGRESS_RECORD_TEXT_MAX + 1];
    struct str head; /* decoded: points into the caller's bytes */
};

/* progress_record_format - append r to out, all or nothing; false when it
 * does not fit or head is longer than PROGRESS_RECORD_HEAD_MAX. */
bool progress_record_format(struct buf *out, const struct progress_record *r);

/* progress_record_parse - decode data; false on anything malformed
 * (missing or reordered lines, bad numbers, over-long values, a head
 * length that does not match the bytes that follow). */
bool progress_record_parse(const char *data, size_t len, struct progress_record *r);

#endif
