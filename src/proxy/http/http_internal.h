/* http_internal - what the HTTP session's modules share.
 *
 * One client connection is one struct http_session, driven through the
 * states of http_session.c's comment. Each group of states has its module
 * (the file names below), and they call each other through the functions
 * declared here; http_session.c holds the session's frame (helpers every
 * state uses, its end, the event dispatch). Nothing outside
 * src/proxy/http/ includes this; the rest of the proxy sees http_proto
 * (http_session.h).
 */
#ifndef SEKISHO_PROXY_HTTP_INTERNAL_H
#define SEKISHO_PROXY_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include "core/ftp_client.h"
#include "core/svclog.h"
#include "core/template.h"
#include "core/template_vars.h"
#include "lib/buf.h"
#include "lib/sha256.h"
#include "lib/sock.h"
#include "proto/accesslog_format.h"
#include "proto/http1_parse.h"
#include "proto/scanreq.h"
#include "proxy/proxy_auth.h"
#include "proxy/proxy_record.h"
#include "proxy/proxy_session.h"
#include "proxy/proxy_spool.h"
#include "proxy/proxy_worker.h"
#include "proxy/http/http_inactivity.h"
#include "proxy/http/http_progress.h"
#include "proxy/proxy_splice.h"

#define REQ_BUF_INITIAL 16384
#define REQ_BUF_MAX     HTTP1_REQUEST_HEAD_MAX
#define RESP_BUF_SIZE   32768  /* response head limit 17408 (C-01) plus body bytes */
#define PAGE_BUF_SIZE   65536  /* rendered templates: 9000 bytes + escaped values */
#define IDLE_TIMEOUT_MS 120000 /* G-22: no progress for 120 s */
#define SENDFILE_CHUNK  (1u << 20)
#define SENDFILE_ROUNDS 4    /* sendfile calls per event at most */
#define LINGER_MS       2000 /* read what the client still sends before closing */

enum http_state {
    HTTP_ST_REQUEST = 0,
    HTTP_ST_RESOLVE,
    HTTP_ST_CONNECT,
    HTTP_ST_FORWARD,
    HTTP_ST_RESPONSE,
    HTTP_ST_SPOOL,
    HTTP_ST_SCAN,
    HTTP_ST_RELAY,
    HTTP_ST_REPLY,
    HTTP_ST_LINGER,
    HTTP_ST_TUNNEL,
    HTTP_ST_UPLOAD,
    HTTP_ST_UPLOAD_SCAN,
    HTTP_ST_FTP,
    HTTP_ST_AUTH, /* proxyauth_pam_auth: PAM checks the credentials (http_auth.c) */
};

/* One request and its response: everything that begins anew with each
 * request of a kept connection (http_txn_begin), the outcome its
 * access-log record reports included. */
struct http_txn {
    struct proxy_outcome o; /* times, status of the scan, detection, PROXY-ERROR */
    int status;             /* the HTTP status the client got (access log) */
    uint64_t bytes_out;     /* body and head bytes the client got */

    struct http1_request req;
    bool have_req;
    uint64_t req_body_left;
    size_t in_used;       /* bytes of in that belong to this request */
    bool client_wants_ka; /* the request asked for a persistent connection */
    bool keep_client;     /* the response was sent with Connection: Keep-Alive */
    bool upstream_reused; /* this request went over a kept upstream connection */

    struct buf up;   /* bytes queued for the server */
    struct buf resp; /* response head, then body bytes */
    bool have_rsp;
    uint64_t body_left;
    char *head_copy; /* SPOOL: the response head, kept for delivery */

    struct proxy_spool spool; /* the response body (proxy_spool: memory, then tmpdir) */
    uint64_t spool_len;       /* bytes of it that count (a range may stop short) */

    struct buf out;  /* bytes queued for the client */
    bool send_spool; /* after out: the spool file */
    off_t spool_off;
    bool relay_done; /* RELAY: the server side is finished */

    /* Request bodies spooled before the server is contacted: chunked
     * ones (G-35) and scanned uploads (HTTP-11). */
    int upload_fd;
    uint64_t upload_len;
    uint64_t upload_left; /* Content-Length bytes still to read */
    bool upload_chunked;
    bool upload_scan;

    /* Large downloads: pass_filesize (SCAN-4) and trickle (HTTP-13). */
    bool over_filesize; /* only the first pass_filesize_len bytes were scanned */
    bool filesize_hit;  /* block_filesize: the object is a POLICY_BLOCK_FILESIZE detection */
    bool filesize_tail; /* RELAY of an over_filesize tail: relayed counts against the limit */
    uint64_t relayed;   /* body bytes of this response queued for the client in RELAY */
    bool head_sent;     /* the response head went out before the verdict */
    bool trickling;     /* body bytes go out slowly while spooling/scanning */
    bool progress_ok;   /* this download may get the progress page */
    /* HTTP-5: the user proxy authentication admitted for this request
     * (the access log's user field); empty when none was needed. */
    bool auth_ok;
    char user[PAM_CHECK_FIELD_MAX + 1];
};

struct http_session {
    struct proxy_session ps; /* first: the session core (its ends are raw:
                                HTTP moves the bytes itself, see ops) */
    enum http_state state;
    struct http_txn t;                 /* the request in progress */
    struct http_inactivity inactivity; /* timeout_inactive=yes */
    bool http09;                       /* HTTP/0.9 request: the answer is the body alone */
    bool head_stripped;
    /* Where we connect (origin or parent) and what errors name. */
    char host[HTTP1_HOST_MAX + 1];
    uint16_t port;
    bool via_parent;

    struct buf in; /* request head, then the start of its body (and the
                      next requests a client pipelines) */
    struct http1_url url;

    struct http1_response rsp;
    enum http1_body body_kind;
    uint8_t scan_encoding; /* Content-Encoding for scand (http_decode.h) */
    bool range_stripped;   /* Range/If-Range not sent upstream: fetched whole */
    struct http1_chunked chunk;
    struct http1_skip skip; /* C-01: dropping the rest of an over-long head */
    bool skipping_head;
    int spool_errno; /* why the spool failed, 0 if it did not */
    bool hashing;    /* body_hash covers the whole spool (verdict_cache) */
    struct sha256 body_hash;
    struct proxy_scan *scan;
    struct proxy_auth *auth; /* HTTP_ST_AUTH: the PAM check in flight */
    bool auth_limited;       /* ... its address was over the failure limit already */
    bool log_anyway;         /* log even without a request */

    /* Keep-alive (HTTP-20). */
    unsigned requests;                  /* requests on this connection so far (PROXY-STAT files) */
    bool server_reusable;               /* the upstream connection may carry the next request */
    bool no_reuse;                      /* a reused connection failed: use a new one */
    char conn_host[HTTP1_HOST_MAX + 1]; /* what the open upstream connection is to */
    uint16_t conn_port;
    bool conn_via_parent;

    /* CONNECT tunnel (HTTP-17): one pipe per direction for splice(2). */
    struct proxy_splice_dir up_dir, down_dir; /* client->server, server->client */
    bool tunnel;

    off_t upload_off; /* bytes of the upload spool already sent upstream */
    struct http1_chunked req_chunk;

    uint64_t trickle_start_ms;
    struct ev_timer trickle_timer;
    struct ev_timer head_timer; /* request_timeout: a whole head in bounded time */
    bool head_timed;

    /* Download-progress page (HTTP-13): after progress_delay the browser
     * gets a page and the session goes on without a client, publishing
     * its state under progress_token (http_progress). */
    bool progress;               /* the page went out; the client is gone */
    bool reply_deferred;         /* http_start_reply's first write is queued (ev_defer) */
    bool progress_published_end; /* the final state is published */
    char progress_token[HTTP_PROGRESS_TOKEN_LEN + 1];
    struct ev_timer progress_timer;
    bool progress_serving; /* this request fetches a published body */

    /* FTP over HTTP (HTTP-16): the retrieval fills the spool. */
    bool ftp;
    struct ftp_client *ftpc;
};

/* ---- the session's frame (http_session.c) --------------------------- */

/* http_touch - progress: re-arm G-22's timer (not while timeout_inactive
 * or a wait with its own bound times the session). */
void http_touch(struct http_session *s);
/* http_moved - bytes moved on the client or the server side. */
void http_moved(struct http_session *s);
/* http_server_supports_ka - HTTP-20 a: the server's response allows keep-alive. */
bool http_server_supports_ka(const struct http_session *s);
/* http_elapsed_ms - since the current request started. */
uint64_t http_elapsed_ms(const struct http_session *s);
/* http_req_str - a span of the request head. */
struct str http_req_str(const struct http_session *s, struct http1_span sp);
/* http_url_text - the request's URL as sent, for logs and pages. */
void http_url_text(const struct http_session *s, char *out, size_t cap);
/* http_set_client_events, http_set_server_events - the events a socket is
 * watched for (nothing when it is closed). */
void http_set_client_events(struct http_session *s, uint32_t ev);
void http_set_server_events(struct http_session *s, uint32_t ev);
/* http_close_server - close the server connection, if any. */
void http_close_server(struct http_session *s);
/* http_txn_begin - forget the request (its spools, buffers and outcome)
 * and begin the next one: every field of s->t in one assignment. */
void http_txn_begin(struct http_session *s);
/* http_start_clock - a request starts now (elapsed time, log time). */
void http_start_clock(struct http_session *s);
/* http_write_access_log - the access-log (and detect.log) line of the request. */
void http_write_access_log(struct http_session *s);
/* http_session_close - the session ends: the core closes it once the
 * event being handled returns (ops->closing logs it and stops its waits). */
void http_session_close(struct http_session *s);
/* http_abandon_waits - stop the scan, DNS, FTP and timers the session waits on. */
void http_abandon_waits(struct http_session *s);

/* ---- reading the request (http_request.c) --------------------------- */

/* http_request_step - REQUEST: read and parse the client's request head. */
void http_request_step(struct http_session *s);
/* http_parse_buffered - parse a pipelined request already in the buffer. */
void http_parse_buffered(struct http_session *s);
/* http_on_head_timeout - request_timeout ran out before the head was complete (408). */
void http_on_head_timeout(struct ev_loop *loop, struct ev_timer *t);
/* http_request_route - the parsed request, authenticated when that is
 * required: where it goes (tunnel, ftp://, upload, upstream). */
void http_request_route(struct http_session *s);

/* ---- proxy authentication (http_auth.c) ----------------------------- */

/* http_auth_admit - HTTP-5 with proxyauth_pam_auth=yes: true when the
 * request may go on now; otherwise the 407 (or a temporary failure) is
 * under way, or the session waits in AUTH for PAM and goes on with
 * http_request_route when the credentials are good. */
bool http_auth_admit(struct http_session *s);

/* ---- the server side (http_upstream.c) ------------------------------ */

/* http_start_upstream - resolve and connect through core/upstream (or
 * reuse the kept connection), then forward the request or begin the tunnel. */
void http_start_upstream(struct http_session *s);
/* http_forward_step - FORWARD: send the request head and body upstream. */
void http_forward_step(struct http_session *s);
/* http_tunnel_step - TUNNEL: move the bytes of a CONNECT tunnel. */
void http_tunnel_step(struct http_session *s);
/* http_tunnel_free_buffers - close the tunnel's pipes. */
void http_tunnel_free_buffers(struct http_session *s);

/* ---- request bodies spooled first (http_upload.c) ------------------- */

/* http_start_upload - UPLOAD: spool the request body (G-35, HTTP-11). */
void http_start_upload(struct http_session *s, uint64_t length);
/* http_upload_step - UPLOAD: read more of the request body into the spool. */
void http_upload_step(struct http_session *s);

/* ---- FTP over HTTP (http_ftp.c) ------------------------------------- */

/* http_start_ftp - an ftp:// URL (HTTP-16): fetch it into the spool. */
void http_start_ftp(struct http_session *s);
/* http_ftp_answer_head - queue the HTTP head of an FTP-over-HTTP answer. */
bool http_ftp_answer_head(struct http_session *s, struct str content_type, uint64_t length,
                          size_t body_room);

/* ---- the response (http_response.c) --------------------------------- */

/* http_response_step - RESPONSE: read and parse the server's response head. */
void http_response_step(struct http_session *s);
/* http_spool_step - SPOOL: read the body into the spool file. */
void http_spool_step(struct http_session *s);
/* http_relay_step - RELAY: pass the body through to the client. */
void http_relay_step(struct http_session *s);
/* http_spool_close - close the response spool and return its memory budget. */
void http_spool_close(struct http_session *s);
/* http_skip_reason - the skip rule (SCAN-4/SCAN-5) that exempts the response, or 0. */
unsigned http_skip_reason(const struct http_session *s);
/* http_retry_fresh - resend a request a kept connection lost on a new one. */
bool http_retry_fresh(struct http_session *s);

/* ---- the scan and its verdict (http_verdict.c) ---------------------- */

/* http_start_scan - SCAN: have the spool scanned. */
void http_start_scan(struct http_session *s);
/* http_scan_accounted - PROXY-STAT bookkeeping of a verdict and the
 * scanner-failure answer; false when the session has been answered. */
bool http_scan_accounted(struct http_session *s, const struct scanreq_reply *rep);
/* http_handle_detection - log, quarantine (fd, -1 for none) and notify a detection. */
void http_handle_detection(struct http_session *s, const struct scanreq_reply *rep, int fd);
/* http_reply_detection_page - 403 with the detection page, then close. */
void http_reply_detection_page(struct http_session *s);
/* http_deliver_spool - the clean (or passed) spool goes to the client. */
void http_deliver_spool(struct http_session *s);
/* http_trickle_send - HTTP-13 trickle: pass on what may go out by now. */
void http_trickle_send(struct http_session *s);
/* http_on_trickle_timer - the trickle timer: start or continue trickling. */
void http_on_trickle_timer(struct ev_loop *loop, struct ev_timer *t);
/* http_filesize_blocks - block_filesize (G-13): is size over the limit, with
 * the detection recorded once and action=delete stopping the object? */
bool http_filesize_blocks(struct http_session *s, uint64_t size);
/* http_filesize_stop_download - answer a download that block_filesize stopped. */
void http_filesize_stop_download(struct http_session *s);

/* ---- the download-progress page (http_progress_page.c) -------------- */

/* http_progress_wanted - HTTP-13: a browser's GET of a document to save. */
bool http_progress_wanted(const struct http_session *s);
/* http_on_progress_timer - progress_delay passed, or the next update is due. */
void http_on_progress_timer(struct ev_loop *loop, struct ev_timer *t);
/* http_progress_end - publish the final state; the session closes after it. */
void http_progress_end(struct http_session *s, enum progress_state st, const char *detect,
                       const char *error, struct str head);
/* http_progress_verdict - publish the verdict of a download whose client got the page. */
void http_progress_verdict(struct http_session *s, const struct scanreq_reply *rep);
/* http_progress_serve - answer a request for /.sekisho-progress/<token>[/<file>]. */
void http_progress_serve(struct http_session *s, const char *token, bool file);

/* ---- what goes to the client (http_reply.c) ------------------------- */

/* http_template_vars - every TPL-3 variable for a page or mail about this
 * request (views into s, url and message). */
void http_template_vars(struct http_session *s, struct template_vars *v, const char *message,
                        const char *url);
/* http_queue_page_vars - queue a generated page of tpl with extra variables
 * and headers, replacing whatever was queued. */
void http_queue_page_vars(struct http_session *s, const struct template *tpl, int status,
                          const char *message, const char *url,
                          const struct template_parse_var *extra, size_t n_extra,
                          struct str extra_headers);
/* http_queue_page - the same for the request's URL, without extras. */
void http_queue_page(struct http_session *s, const struct template *tpl, int status,
                     const char *message);
/* http_reply_error - an error page (HTTP-15) with message, then close. */
void http_reply_error(struct http_session *s, int status, const char *message);
/* http_start_reply - REPLY: write what is queued (and the spool), then finish. */
void http_start_reply(struct http_session *s);
/* http_do_reply - REPLY: write more. */
void http_do_reply(struct http_session *s);
/* http_flush_out - write queued bytes; true when out is empty, *failed on error. */
bool http_flush_out(struct http_session *s, bool *failed);
/* http_log_client_cancel - the info line of a client that hung up. */
void http_log_client_cancel(struct http_session *s);
/* http_request_done - the response is complete: next request or close. */
void http_request_done(struct http_session *s);
/* http_linger_step - LINGER: drain what the client still sends, then close. */
void http_linger_step(struct http_session *s);

#endif
