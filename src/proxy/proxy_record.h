/* proxy_record - the outcome of a transaction and its access-log record.
 *
 * Every protocol's transaction (an HTTP request, an SMTP mail, a POP3
 * retrieval, an FTP transfer) ends in one access-log record (LOG-2) and,
 * when something was detected, the same line in the detect log. Most of
 * the record is the same everywhere: the times, the client, the server,
 * the verdict, the scan counters. That part lives in struct
 * proxy_outcome, which a protocol's transaction struct embeds; the
 * protocol fills the fields only it knows (status, method, URL, user,
 * size, its PROTOCOL-STAT) into a struct access_record and
 * proxy_record_write() completes and writes it.
 */
#ifndef SEKISHO_PROXY_RECORD_H
#define SEKISHO_PROXY_RECORD_H

#include <stdint.h>
#include <time.h>

#include "core/template_vars.h"
#include "proto/accesslog_format.h"
#include "proto/mime_walk.h"
#include "proto/scanreq.h"
#include "proxy/proxy_session.h"

#define PROXY_QUARANTINE_NAME_MAX 128

struct proxy_outcome {
    struct timespec start_rt; /* the transaction's start */
    uint64_t start_ms;
    enum accesslog_result result;
    enum accesslog_action action;
    char detect_name[SCANREQ_NAME_MAX + 1];
    char detect_file[MIME_FILENAME_MAX + 1];
    char quarantine[PROXY_QUARANTINE_NAME_MAX]; /* file name in quarantine_dir */
    char content_type[ACCESSLOG_CONTENT_TYPE_MAX];
    char error[ACCESSLOG_ERROR_MAX]; /* PROXY-ERROR */
    unsigned details;                /* SCANREQ_VSD_* and pass reasons */
    unsigned checks;                 /* scans done */
    uint64_t scan_ms;
};

/* proxy_outcome_begin - a clean outcome of a transaction starting now. */
void proxy_outcome_begin(struct proxy_outcome *o, const struct proxy_session *s);

/* proxy_outcome_detected - record a detection (result INFECTED, the
 * name, the file) with the action taken. */
void proxy_outcome_detected(struct proxy_outcome *o, const char *name, const char *file,
                            enum accesslog_action action);

/* proxy_outcome_spam - record a spam classification (result SPAM, the
 * name; no file) with the spam action taken (SPAM-10: PASS,
 * CHANGE_SUBJECT, BLACKHOLE). */
void proxy_outcome_spam(struct proxy_outcome *o, const char *name, enum accesslog_action action);

/* proxy_record_write - complete r (the protocol set status, size, method,
 * url, user, files, proto_flags, proto1, proto2 and, if it wants another
 * than o->error, proxy_error) with the session's and the outcome's part,
 * and write it to the access log, and to the detect log when something
 * was detected. */
void proxy_record_write(const struct proxy_session *s, const struct proxy_outcome *o,
                        struct access_record *r);

/* proxy_outcome_vars - the template variables every protocol has
 * (service, detection, client, server, content type, file, quarantine,
 * time, error, action); the protocol adds its own (url, status, ...). The
 * views point into s and o. */
void proxy_outcome_vars(const struct proxy_session *s, const struct proxy_outcome *o,
                        struct template_vars *v);

#endif
