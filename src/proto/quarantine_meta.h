/* quarantine_meta - the small text kept beside each quarantined object.
 *
 * Every object the proxies copy into quarantine_dir (SCAN-12) gets a file
 * "<id>.meta" next to it, so that the console and sekisho-quarantine can
 * say what it is without reading logs: when, which service, the verdict,
 * the detection, the client, the user, the envelope of a mail, the URL or
 * file name, the size, and once it was released, when and by whom. It
 * holds nothing the access log does not hold already.
 *
 * The text is "key: value" lines, LF-terminated, in this order:
 *
 *   sekisho-quarantine: 1          the format's version (first line)
 *   time: 1765112345               seconds since the epoch
 *   service: smtp                  http, smtp, pop, ftp
 *   result: INFECTED               INFECTED or SPAM
 *   detection: Eicar-Test-Signature
 *   client: 127.0.0.1
 *   user: alice                    absent when there is none
 *   sender: a@example.org          SMTP's MAIL FROM (empty: the null sender)
 *   rcpt: b@example.net            each accepted RCPT TO, at most QMETA_RCPT_MAX
 *   rcpt_count: 1                  how many the mail had (more than listed: cut)
 *   url: mail:b@example.net        as in the access log
 *   file: eicar.com                absent when there is none
 *   size: 1234                     bytes of the object as it came
 *   released: 1765112399 admin     absent until released
 *
 * A value is any bytes but control characters (the formatter writes each
 * as '?', the parser refuses them); unknown keys are skipped, so a newer
 * writer's additions do not make an older reader refuse the file.
 *
 * An id (the object's file name) is what the proxies make, nothing else:
 * "<service>-<time>.<pid>.<n>" (proxy_detect); qmeta_id_parse accepts only
 * that, so no id names a path outside quarantine_dir.
 *
 * Pure: no I/O, no allocation. A parsed struct qmeta points into the text
 * it was parsed from.
 */
#ifndef SEKISHO_PROTO_QUARANTINE_META_H
#define SEKISHO_PROTO_QUARANTINE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"
#include "lib/str.h"

#define QMETA_VERSION   1
#define QMETA_TEXT_MAX  32768 /* a whole meta file, at most */
#define QMETA_VALUE_MAX 8192  /* one value (an HTTP URL is the longest) */
#define QMETA_RCPT_MAX  512   /* recipients listed (SMTP keeps 4 KB of them) */
#define QMETA_ID_MAX    127   /* an id's length (PROXY_QUARANTINE_NAME_MAX - 1) */
#define QMETA_SUFFIX    ".meta"

enum qmeta_result {
    QMETA_INFECTED = 0,
    QMETA_SPAM,
};

struct qmeta {
    unsigned version;
    int64_t time;
    struct str service; /* "http", "smtp", "pop", "ftp" */
    enum qmeta_result result;
    struct str detection;
    struct str client;
    struct str user;   /* len 0: none */
    bool has_sender;   /* a sender line is present (SMTP) */
    struct str sender; /* len 0 with has_sender: the null sender "<>" */
    struct str rcpt[QMETA_RCPT_MAX];
    size_t nrcpt;        /* listed */
    uint64_t rcpt_count; /* the mail had this many (>= nrcpt) */
    struct str url;
    struct str file; /* len 0: none */
    uint64_t size;
    bool released;
    int64_t released_time;
    struct str released_by;
};

/* The parts of an id "<service>-<time>.<pid>.<n>". */
struct qmeta_id {
    struct str service;
    uint64_t time, pid, seq;
};

/* qmeta_format - m as text (the order above). False, out unchanged, when
 * out has no room or m is incomplete (no service, no url) or lists more
 * than QMETA_RCPT_MAX recipients. */
bool qmeta_format(const struct qmeta *m, struct buf *out);

/* qmeta_parse - text into m (views into text). False with *why (a static
 * sentence) when the text is not a complete meta of a version this code
 * reads: a required key missing, a bad number, a control character, a
 * repeated key, more than QMETA_TEXT_MAX bytes or QMETA_RCPT_MAX rcpt lines. */
bool qmeta_parse(struct str text, struct qmeta *m, const char **why);

/* qmeta_id_parse - whether id is one the proxies make; its parts in out
 * (out may be NULL). */
bool qmeta_id_parse(struct str id, struct qmeta_id *out);

/* qmeta_id_newer - true when a is newer than b (time, then pid, then n;
 * ties by the service name, so the order is total). */
bool qmeta_id_newer(const struct qmeta_id *a, const struct qmeta_id *b);

/* qmeta_rcpts_split - a comma-joined recipient list (SMTP's #{RCPTTO})
 * cut into addresses; a comma inside a quoted local part ("a,b"@x) does
 * not cut. Empty pieces are dropped. At most cap go to out; *n is how
 * many there were in all (so *n > cap means some were left out). */
void qmeta_rcpts_split(struct str joined, struct str *out, size_t cap, size_t *n);

/* qmeta_result_name - "INFECTED", "SPAM". */
const char *qmeta_result_name(enum qmeta_result r);

/* qmeta_is_mail - the object is a mail in mailbox format (smtp, pop). */
bool qmeta_is_mail(const struct qmeta *m);

#endif
