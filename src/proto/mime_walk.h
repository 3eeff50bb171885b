/* mime_walk - walk the MIME structure of a mail held in memory.
 *
 * Given a complete RFC 5322 message (the proxy mmaps the spooled mail, up
 * to 2 GB), mime_walk() finds every MIME entity (RFC 2045/2046: nested
 * multiparts, multipart/digest defaults, message/rfc822 and message/global
 * descended into, message/partial reported) and hands each one, in
 * document order, to a callback as a struct mime_part of views into the
 * message; and it fills a struct mime_summary with what the SMTP session,
 * the access log and the templates need from the top-level header (spec
 * SMTP-14, §11 #{HEADER}, Date/To/Cc/Subject/From, Message-ID,
 * X-Admin-Notification-Id). It flags the malformed-MIME conditions of
 * spec SCAN-7 (POLICY_FORMAT_MIME_BOUNDARY, POLICY_FORMAT_MIME_FILENAME)
 * and the limits below.
 *
 * It owns nothing and never copies the message: bodies and headers are
 * views, still encoded (mime_decode.h has the decoders). It does no I/O;
 * it allocates nothing but what mime_decode's iconv use allocates, and
 * uses at most about 48 KiB of stack (the part table, MIME_PARTS_MAX *
 * 24 bytes, lives there; gcc -fstack-usage: 30 KiB in mime_walk plus 15
 * KiB below it). It never reads outside [msg, msg + len), and its time is
 * linear in len: one pass finds the structure line by line (a line that
 * starts with "--" is compared with at most MIME_DEPTH_MAX + 1 open
 * boundaries, by length first), a second pass decodes each part's header
 * block again to build the struct handed to the callback; header blocks
 * do not overlap. What the parts mean (scanning, policies, spam rules) is
 * decided by the caller.
 *
 * Tolerated as mail clients do: LF-only line ends; a header block ended
 * by a line that is not a header field instead of a blank line (the line
 * starts the body), or by a boundary, or by the end of the message; a
 * whitespace-only line as the blank line; missing, duplicate and
 * unterminated boundaries; transport padding after a boundary; preamble
 * and epilogue; invalid Content-Type (RFC 2045 5.2: text/plain). A
 * boundary line must be "--" boundary ["--"] [whitespace] exactly, so a
 * boundary that is a prefix of another one does not match it; the
 * innermost open multipart is tried first. A message without MIME headers
 * is one text/plain part.
 */
#ifndef SEKISHO_PROTO_MIME_WALK_H
#define SEKISHO_PROTO_MIME_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/str.h"

/* Deepest entity reported: the top-level message is depth 0, a part of a
 * multipart or the message inside a message/rfc822 part is one deeper. A
 * container at this depth is not descended into (MIME_F_TOO_DEEP). */
#define MIME_DEPTH_MAX 20
/* Most entities reported per message, containers included. */
#define MIME_PARTS_MAX 1000
/* Longest file name kept, in bytes of UTF-8 (without the NUL). */
#define MIME_FILENAME_MAX 255
/* Longest boundary used (RFC 2046 allows 70); a multipart with a longer
 * one is not descended into (MIME_F_NO_BOUNDARY). */
#define MIME_BOUNDARY_MAX 256
/* Most header lines (field lines and their continuations) read in one
 * entity's header block (G-32); the lines after it are not looked at for
 * fields, and the entity is flagged MIME_F_LONG_HEADER. Its body still
 * starts where the header block really ends. */
#define MIME_HEADER_LINES_MAX 5500
/* Room in struct mime_summary for unfolded copies of folded fields. */
#define MIME_SUMMARY_STORE 16384

enum mime_cte {
    MIME_CTE_7BIT = 0, /* also when absent (RFC 2045 6.1) */
    MIME_CTE_8BIT,
    MIME_CTE_BINARY,
    MIME_CTE_BASE64,
    MIME_CTE_QP,
    MIME_CTE_OTHER, /* x-uuencode and the like: the body is left as it is */
};
const char *mime_cte_name(enum mime_cte cte);

/* Part flags.
 * BAD_BOUNDARY: the boundary holds '"' (after unquoting) or a byte < 0x20
 *   or > 0x7e: spec SCAN-7, FSIGK/POLICY_FORMAT_MIME_BOUNDARY.
 * BAD_FILENAME: a file name (filename= or name=, decoded) holds a byte
 *   < 0x20 other than ESC: SCAN-7, FSIGK/POLICY_FORMAT_MIME_FILENAME.
 * UNTERMINATED: a multipart whose closing boundary is missing.
 * TOO_DEEP: a container at MIME_DEPTH_MAX, not descended into.
 * TOO_MANY: (on the entity holding it) a part beyond MIME_PARTS_MAX was
 *   not reported.
 * LONG_FILENAME: a file name longer than MIME_FILENAME_MAX; its end was
 *   kept.
 * NO_BOUNDARY: a multipart type without a usable boundary (absent,
 *   empty, longer than MIME_BOUNDARY_MAX): reported as a leaf.
 * LONG_HEADER: the header block has more than MIME_HEADER_LINES_MAX
 *   lines; headers (and type, file name, encoding) come from the first
 *   MIME_HEADER_LINES_MAX only.
 * AMBIGUOUS: the header block can be read more than one way (two
 *   Content-Type or Content-Transfer-Encoding fields; a plain and an RFC
 *   2231 boundary that differ; an RFC 2231 boundary that cannot be
 *   decoded), so a mail client may see other parts than this walk.
 * A multipart with an RFC 2231 boundary (boundary*0=, boundary*1= ...,
 * boundary*=) and no plain one is walked with it. */
#define MIME_F_BAD_BOUNDARY  (1u << 0)
#define MIME_F_BAD_FILENAME  (1u << 1)
#define MIME_F_UNTERMINATED  (1u << 2)
#define MIME_F_TOO_DEEP      (1u << 3)
#define MIME_F_TOO_MANY      (1u << 4)
#define MIME_F_LONG_FILENAME (1u << 5)
#define MIME_F_NO_BOUNDARY   (1u << 6)
#define MIME_F_LONG_HEADER   (1u << 7)
#define MIME_F_AMBIGUOUS     (1u << 8)

struct mime_part {
    unsigned index;     /* 0 for the top-level message, then document order */
    unsigned depth;     /* 0 .. MIME_DEPTH_MAX */
    struct str headers; /* raw header block of the entity, its lines with their line
                           ends, without the blank line (may be empty) */
    char type[128];     /* lowercased type/subtype: "text/plain" when absent or invalid,
                           "message/rfc822" when absent inside multipart/digest */
    char charset[40];   /* lowercased charset parameter; "" when absent or too long */
    enum mime_cte cte;
    char filename[MIME_FILENAME_MAX + 1]; /* UTF-8, NUL-terminated: Content-Disposition
                                             filename, else Content-Type name; "" if none */
    bool attachment;                      /* Content-Disposition: attachment */
    bool is_multipart; /* a multipart the walker descends into: its parts follow */
    bool is_message;   /* message/rfc822 (or message/global) descended into: the
                          enclosed message follows as the next entity, one deeper */
    bool is_partial;   /* message/partial (spec SCAN-6 block_partial_message) */
    struct str body;   /* raw, still encoded; for containers the whole span (preamble,
                          parts and epilogue; the enclosed message). Ends before the line
                          break that precedes the next boundary line. */
    unsigned flags;    /* MIME_F_* */
};

/* The callback: return false to stop the walk (mime_walk returns
 * MIME_STOPPED). p and everything in it are valid during the call only;
 * the views point into the message. */
typedef bool mime_part_fn(void *arg, const struct mime_part *p);

/* What the session needs from the top-level header. Field values are
 * unfolded and trimmed raw values (no RFC 2047 decoding) of the first
 * occurrence: a view into the message when the field is one line, else a
 * view into store (so do not copy the struct by value while using them),
 * or, when store is full, the folded view into the message. A field that
 * is absent has a NULL ptr. */
struct mime_summary {
    char content_type[128]; /* top level, lowercased type/subtype (SMTP-14) */
    struct str message_id, date, from, to, cc, subject;
    struct str admin_notification_id; /* X-Admin-Notification-Id (SCAN-13) */
    size_t header_len;                /* bytes of the top-level header block including the blank
                                         line (the whole message when it has no body) */
    unsigned parts;                   /* entities reported (or that would be, after MIME_STOPPED) */
    unsigned flags;                   /* OR of all part flags */
    unsigned header_lines_max;        /* lines of the longest header block over
                                         MIME_HEADER_LINES_MAX (LONG_HEADER), else 0 */
    size_t store_len;
    char store[MIME_SUMMARY_STORE];
};

enum mime_result {
    MIME_DONE = 0,
    MIME_STOPPED, /* the callback returned false */
    MIME_INVALID, /* no message: msg NULL, len 0, or len above 4 GiB - 2 */
    MIME_MORE,    /* mime_walker_step: the structure is not complete yet */
};
const char *mime_result_name(enum mime_result r);

/* mime_walk - walk msg[0..len).
 *
 * Calls fn(arg, part) for every entity in document order: the top-level
 * message first (index 0), containers (multipart, message/rfc822) before
 * what they hold. fn may be NULL to get the summary only. out (may be
 * NULL) is filled completely before the first call of fn, so parts and
 * flags cover the whole message even when fn stops the walk. */
enum mime_result mime_walk(const char *msg, size_t len, mime_part_fn *fn, void *arg,
                           struct mime_summary *out);

/* ---- the walk in steps ----------------------------------------------
 *
 * mime_walk() is the walker below run in one step. A caller that must not
 * spend the time of a whole message at once (the proxy walks a 2 GB mail
 * on an event loop shared with other sessions) runs pass 1 in steps of a
 * bounded budget of message bytes, then takes the parts one at a time:
 *
 *     mime_walker_init(w, msg, len);
 *     while (mime_walker_step(w, budget) == MIME_MORE)
 *         ... yield ...
 *     mime_walker_summary(w, &sum);
 *     for (k = 0; k < mime_walker_parts(w); k++)
 *         mime_walker_part(w, k, &part);
 *
 * The whole message is in memory from the start (it is not fed in
 * pieces); what a step bounds is the work. A step reads at most budget
 * bytes searching for line ends, plus the work on the lines it found:
 * each line is compared with the open boundaries, and a line that ends a
 * header block has that block parsed. The outcome does not depend on the
 * budgets: any sequence of steps gives what one step of SIZE_MAX gives
 * (tests/unit/proto/test_mime_walk.c, fuzz/fuzz_mime_walk.c). */

/* Private: the walker's state, in the header so that a caller can hold a
 * walker (about 27 KiB) where it likes. Use the functions only. */
struct mime_walk_rec {
    uint32_t hdr_off, hdr_end, body_off, body_end;
    uint16_t flags;
    uint8_t depth, kind;
    bool in_digest; /* parent is multipart/digest */
};

struct mime_walk_frame {
    uint32_t rec; /* index in recs, or UINT32_MAX past MIME_PARTS_MAX */
    uint8_t kind, state;
    bool digest;        /* multipart/digest */
    bool header_seen;   /* a header field line was seen (continuations allowed) */
    uint32_t hdr_lines; /* lines of the header block so far */
    uint32_t hdr_cut;   /* where line MIME_HEADER_LINES_MAX + 1 starts, or 0 */
    size_t blen;
    char boundary[MIME_BOUNDARY_MAX];
};

struct mime_walker {
    const char *msg;
    size_t len;
    size_t pos;  /* the first line not walked yet */
    size_t scan; /* how far its line end has been searched for */
    bool invalid, done;
    unsigned nrec, nframes;
    unsigned long_header_lines; /* the most lines of a header block cut (G-32) */
    struct mime_walk_rec recs[MIME_PARTS_MAX];
    /* frames[i] is the open entity at depth i. */
    struct mime_walk_frame frames[MIME_DEPTH_MAX + 1];
};

/* mime_walker_init - start a walk of msg[0..len), which must stay valid
 * and unchanged while w is used. MIME_INVALID as mime_walk, else
 * MIME_MORE. */
enum mime_result mime_walker_init(struct mime_walker *w, const char *msg, size_t len);

/* mime_walker_step - walk on for about budget bytes (0 counts as 1; see
 * above). MIME_MORE until the structure is complete, then MIME_DONE (and
 * MIME_DONE again on later calls); MIME_INVALID for an invalid message. */
enum mime_result mime_walker_step(struct mime_walker *w, size_t budget);

/* mime_walker_summary - fill out as mime_walk does (all empty for an
 * invalid message). Only after MIME_DONE. */
void mime_walker_summary(const struct mime_walker *w, struct mime_summary *out);

/* mime_walker_parts - entities reported (0 for an invalid message), and
 * mime_walker_part - entity k < that, as mime_walk hands it to its
 * callback. Only after MIME_DONE. Each part costs the parsing of its own
 * header block. */
unsigned mime_walker_parts(const struct mime_walker *w);
void mime_walker_part(const struct mime_walker *w, unsigned k, struct mime_part *p);

#endif
