/* spam_check - is this mail spam? (SPAM-1..SPAM-9, issue 14).
 *
 * The SMTP and POP proxies call it for a mail whose virus and policy scan
 * found nothing (SCAN-10: the virus result is handled first), with the
 * spool of the whole message. The methods run in the guide's order, and
 * the first that classifies the mail names the detection (SPAM-2):
 *
 *   1. custom rules (proto/spam_match over the message, read whole or mapped, on the
 *      worker's spam thread pool: a 2 GB mail may take a second to read,
 *      and the loop serves other sessions meanwhile). The same pass
 *      collects what the later methods need: the Received: addresses,
 *      the URL hosts of text and HTML bodies, and where the Subject field
 *      is (change_subject). A WHITE rule ends the check: not spam, later
 *      methods skipped (G-09).
 *   2. the spam engine (spam_commtouch=yes): rspamd over HTTP
 *      (proxy/spam_engine), at most spam_engine_timeout seconds.
 *   3. and 4. RBL and SURBL (spam_rbl, spam_surbl): proxy/spam_dnsbl,
 *      every query of the mail sent together, 1 s at most; an RBL hit
 *      names the detection before a SURBL hit. The client address (SMTP)
 *      and the Received: addresses matching spam_rbl_pass are neither
 *      queried nor counted (SPAM-8).
 *
 * A method that fails (the engine down or slow, DNS silent) does not
 * classify: the guide's rule for RBL/SURBL timeouts (SPAM-8) and the
 * engine's LOG-E23 are both "the mail goes on unclassified", with an
 * error log line, never a lost or indefinitely held mail. Only when the
 * check itself cannot run (no memory, the thread pool's queue full) is
 * the result ERROR: SMTP answers 451 then, so the client retries and
 * nothing passes unchecked; POP, which cannot withhold a mail, delivers it
 * unclassified (SCAN-12).
 *
 * Threads: only step 1 runs off the loop, on a duplicate of the spool
 * descriptor the check owns, so a session that ends meanwhile cannot
 * pull the file from under it. The callback runs exactly once, on the
 * loop, never before spam_check_start returns, unless spam_check_cancel
 * comes first.
 */
#ifndef SEKISHO_PROXY_SPAM_CHECK_H
#define SEKISHO_PROXY_SPAM_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/svclog.h"
#include "proto/accesslog_format.h"
#include "proto/mail_subject.h"
#include "proto/scanreq.h"
#include "proxy/proxy_spool.h"
#include "proxy/proxy_worker.h"

/* Threads and queued mails of a worker's spam pool. */
#define SPAM_CHECK_THREADS   2u
#define SPAM_CHECK_QUEUE_MAX 4096u

enum spam_check_method {
    SPAM_METHOD_NONE = 0,
    SPAM_METHOD_CUSTOM,
    SPAM_METHOD_ENGINE,
    SPAM_METHOD_RBL,
    SPAM_METHOD_SURBL,
};
const char *spam_check_method_name(enum spam_check_method m);

struct spam_check_input {
    int spool_fd; /* the whole message; duplicated, the caller keeps its own */
    uint64_t len;
    const char *client_ip;   /* SMTP: the client's address (RBL, RELAYIP); NULL for POP */
    const char *client_host; /* its reverse-DNS name, NULL when unknown (the engine's
                                Hostname: without it rspamd counts RDNS_NONE) */
    /* for the engine (any may be NULL or empty) */
    const char *helo, *mail_from, *user, *queue_id;
    const char *const *rcpt;
    unsigned nrcpt;
};

struct spam_check_result {
    bool error;                       /* the check could not run: see above */
    bool spam;                        /* classified as spam */
    bool white;                       /* a WHITE rule said not spam */
    enum spam_check_method method;    /* the method that classified (spam or white) */
    char name[SCANREQ_NAME_MAX + 1];  /* the detection name when spam */
    char note[256];                   /* why error, for logs */
    struct mail_subject_span subject; /* offsets in the spool; value not kept (see next) */
    uint64_t subject_value_off;       /* the Subject value's offset and length in the spool */
    size_t subject_value_len;
    uint64_t ms; /* the whole check */
};

typedef void spam_check_fn(void *arg, const struct spam_check_result *r);

struct spam_check;

/* spam_check_start - check in's mail with w's configuration (cfg and the
 * custom rules of res). log gets the methods' error lines. NULL only when
 * nothing could start: then cb never runs and errno says why. */
struct spam_check *spam_check_start(struct proxy_worker *w, const struct spam_check_input *in,
                                    const struct svclog_ctx *log, spam_check_fn *cb, void *arg);

/* spam_check_cancel - cb will not run; everything is released (now, or
 * for a mail being read by a pool thread, when the thread is done). */
void spam_check_cancel(struct spam_check *c);

/* Longest original Subject value change_subject rewrites; a longer one is
 * left as it is (X-Spam-Status still says spam) and the error log says so. */
#define SPAM_SUBJECT_MAX 8192u

/* spam_check_new_subject - change_subject (SPAM-10): append to out the
 * field "Subject: <prefix><original value>" (proto/mail_subject), the
 * original value read back from spool_fd as r located it. false (errno
 * set) when the spool cannot be read, the value is over SPAM_SUBJECT_MAX
 * (EFBIG) or out is full (ENOSPC). The sender then leaves out the spool
 * bytes [r->subject.start, r->subject.end) when r->subject.found. */
bool spam_check_new_subject(int spool_fd, const struct spam_check_result *r, const char *prefix,
                            struct buf *out);

/* spam_check_action - the access log's action for spam_action (SPAM-10). */
enum accesslog_action spam_check_action(enum config_spam_action a);

/* spam_check_subject_skip - change_subject: the spool range the sender
 * leaves out, the original Subject field (empty when the mail has none).
 * false when its value is over SPAM_SUBJECT_MAX: the Subject is then left
 * as it is (the caller logs it; X-Spam-Status still says spam). */
bool spam_check_subject_skip(const struct spam_check_result *r, struct proxy_spool_skip *skip);

/* spam_check_pool_free - at worker exit. */
void spam_check_pool_free(struct proxy_worker *w);

#endif
