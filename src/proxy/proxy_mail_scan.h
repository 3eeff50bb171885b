/* proxy_mail_scan - virus and policy scanning of a spooled mail, part by part.
 *
 * The SMTP proxy (and later the POP proxy) hands over the spool file of a
 * complete message. proxy_mail_scan_open() maps it; proxy_mail_scan_run()
 * walks its MIME structure once (mime_walker), which gives the caller the
 * top-level header summary for logs and templates (the walked callback),
 * and gives this module the list of parts to check. It then decides, in
 * document order:
 *
 *   1. the structural policies of spec SCAN-6/SCAN-7, on the MIME
 *      structure alone: FSIGK/POLICY_FORMAT_MIME_BOUNDARY and
 *      _FILENAME, block_partial_message, block_ext / block_ext_list
 *      (ALL = any attachment), and with block_filesize=yes
 *      SEKISHO/POLICY_BLOCK_FILESIZE for a leaf part (an attachment or a
 *      body) whose decoded size is above block_filesize_len: the "file"
 *      of G-13 is what the recipient saves, the whole mail has
 *      block_messagesize. They apply even with virus_check=no.
 *   2. with virus_check=yes, each leaf part is decoded (base64, quoted-
 *      printable) into its own spool (memfd for small parts, within the
 *      worker's in-memory spool budget: proxy_spool; else an unnamed file in tmpdir)
 *      and scanned by sekisho-scand, one part at a time, under its
 *      decoded RFC 2231 / 2047 file name, so a detection names the file
 *      (DETECT-STAT file field, #{FILE}...). Which parts (SCAN-8):
 *        - attachments (a file name, or Content-Disposition: attachment)
 *          always, unless pass_ext / pass_ext_list matches the name;
 *        - text/plain body parts only with virus_check_text=yes, which
 *          skips prose only: a base64 or QP one is scanned decoded;
 *        - every uuencoded file (proto/mime_uu) in a raw body, decoded,
 *          under its name; one inside a base64/QP text part is
 *          SEKISHO/POLICY_FORMAT_MIME_UUENCODE (clients decode both
 *          layers, libclamav does not);
 *        - text/html body parts always; block_script / block_activex
 *          are checked on them (html_scan), and with
 *          virus_check_wholehtml=no only their executable parts (scripts,
 *          event handlers, script URLs, object/embed/applet tags) are
 *          scanned, with =yes the whole decoded part;
 *        - every other leaf (images, application/..., an unparsable
 *          multipart) whole.
 *      A message with more parts than mime_walk reports
 *      (MIME_F_TOO_MANY), a multipart without a usable boundary
 *      (MIME_F_NO_BOUNDARY), a header block clients may read otherwise
 *      (MIME_F_AMBIGUOUS) or a uuencoded file is scanned whole as well,
 *      after a "Received:" line so that libclamav types it as a mail, so
 *      its own mail parser sees what the walk could not: a part is never
 *      skipped silently. So is a message with a header block of more
 *      than MIME_HEADER_LINES_MAX lines (G-32: the lines after the limit
 *      are not read, with the LOG-E9 warning): a Content-Type hidden
 *      behind them cannot make an attachment look like an unscanned text
 *      body. Containers nested deeper than the walk descends (deeper
 *      than libclamav's parser does too) are
 *      SEKISHO/POLICY_FORMAT_MIME_DEPTH.
 * The first detection decides (a policy before the virus scan of the
 * same part). A scan error, a spool that cannot be created or written
 * (full disk) end the run with MAIL_SCAN verdict ERROR: the caller must
 * then refuse the mail temporarily, never pass it.
 *
 * Slices. A message may be 2 GB, and its worker serves other sessions
 * on the same event loop, so the run never does O(message) work at once:
 * it goes in slices of about PROXY_MAIL_SCAN_SLICE bytes of the message
 * per loop turn (walked, checked, or decoded and written), and between
 * two slices the loop polls and serves every other ready event. The
 * turns come from an eventfd kept readable while there is work (lib/ev's
 * deferred calls and 0 ms timers run before the loop polls again, so
 * they would not let other sessions in). The phases:
 *   1. the walk: mime_walker_step, a slice's budget per turn;
 *   2. the part list: each entity's policies (block_filesize decodes a
 *      body to count it), the search for uuencoded files (a raw body in
 *      windows, a base64/QP text decoded), resumed where the budget ran
 *      out;
 *   3. per part to scan: decoding into its spool over as many turns as
 *      it takes, then scand (the turns stop while scand works).
 * What is not sliced: the work on one line of the message (a line
 * longer than a slice is searched for in slices but compared whole), the
 * parsing of one header block, the delimiting of one uuencoded block in
 * a raw body, and html_scan on one decoded text/html part. Each is linear
 * in that line, block or part, at memchr-like speed except html_scan.
 * The result counts the slices and the longest one (slice_max_us).
 *
 * It owns the mapping of the message, the part list and the part spools;
 * the message's spool fd stays the caller's (and must stay open until
 * proxy_mail_scan_free). Scans go through the worker's proxy_scan pool (and its
 * verdict cache, keyed by the decoded part's SHA-256).
 */
#ifndef SEKISHO_PROXY_PROXY_MAIL_SCAN_H
#define SEKISHO_PROXY_PROXY_MAIL_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/svclog.h"
#include "proto/mime_walk.h"
#include "proto/scanreq.h"
#include "proxy/proxy_worker.h"

/* Messages up to this size are read into the heap rather than mapped. */
#define PROXY_MAIL_SCAN_COPY_MAX (1024u * 1024u)
/* Bytes of the message walked, checked or decoded per loop turn: a few
 * ms of work (docs/internals/mail-scan.md has the figures). */
#define PROXY_MAIL_SCAN_SLICE (2u * 1024u * 1024u)

/* Detection names this module gives (DET-2 with the SEKISHO/ prefix). */
#define PROXY_MAIL_SCAN_POLICY_EXT      "SEKISHO/POLICY_BLOCK_EXT"
#define PROXY_MAIL_SCAN_POLICY_PARTIAL  "SEKISHO/POLICY_BLOCK_PARTIAL_MESSAGE"
#define PROXY_MAIL_SCAN_POLICY_BOUNDARY "SEKISHO/POLICY_FORMAT_MIME_BOUNDARY"
#define PROXY_MAIL_SCAN_POLICY_FILENAME "SEKISHO/POLICY_FORMAT_MIME_FILENAME"
#define PROXY_MAIL_SCAN_POLICY_SCRIPT   "SEKISHO/POLICY_BLOCK_SCRIPT"
#define PROXY_MAIL_SCAN_POLICY_ACTIVEX  "SEKISHO/POLICY_BLOCK_ACTIVEX"
#define PROXY_MAIL_SCAN_POLICY_FILESIZE "SEKISHO/POLICY_BLOCK_FILESIZE"
#define PROXY_MAIL_SCAN_POLICY_UUENCODE "SEKISHO/POLICY_FORMAT_MIME_UUENCODE"
#define PROXY_MAIL_SCAN_POLICY_DEPTH    "SEKISHO/POLICY_FORMAT_MIME_DEPTH"

struct proxy_mail_scan_result {
    enum scanreq_verdict verdict;      /* CLEAN, INFECTED (virus or policy), ERROR */
    char name[SCANREQ_NAME_MAX + 1];   /* detection name when INFECTED */
    char file[MIME_FILENAME_MAX + 1];  /* the detected part's file name, or "" */
    char error[SCANREQ_ERROR_MAX + 1]; /* why, for ERROR */
    uint32_t details;                  /* SCANREQ_VSD_* of all scans */
    unsigned files;                    /* leaf parts of the message */
    unsigned checks;                   /* scans done by scand */
    uint64_t scan_ms;                  /* their scanning time */
    unsigned slices;                   /* loop turns the run took (walk, checks, decoding) */
    uint64_t slice_max_us;             /* the longest of them, in microseconds */
};

typedef void proxy_mail_scan_fn(void *arg, const struct proxy_mail_scan_result *res);
/* The walk is over: sum is the top-level header summary (its views valid
 * until proxy_mail_scan_free). Return true to go on deciding the message;
 * false to end the run here (the result callback is then never called;
 * the caller may free the scan inside this callback, and then must
 * return false). */
typedef bool proxy_mail_scan_walked_fn(void *arg, const struct mime_summary *sum);

struct proxy_mail_scan;

/* proxy_mail_scan_open - map spool_fd[0..len), nothing more. NULL with
 * errno when the message cannot be mapped or memory or fds are short. */
struct proxy_mail_scan *proxy_mail_scan_open(struct proxy_worker *w, enum scanreq_service svc,
                                             int spool_fd, uint64_t len,
                                             const struct svclog_ctx *log);

/* proxy_mail_scan_run - walk and decide the message (policies, then with
 * virus_check the scans), in slices on w's loop. walked (may be NULL)
 * runs once when the walk is over; then cb runs exactly once, unless
 * walked returned false or proxy_mail_scan_free comes first. Neither runs
 * before this returns: both run from the event loop. Call once per
 * mail_scan. */
void proxy_mail_scan_run(struct proxy_mail_scan *ms, proxy_mail_scan_walked_fn *walked,
                         proxy_mail_scan_fn *cb, void *arg);

/* proxy_mail_scan_free - cancel what is in flight and release everything;
 * at any time, also from either callback. */
void proxy_mail_scan_free(struct proxy_mail_scan *ms);

#endif
