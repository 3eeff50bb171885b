/* admin - what every part of sekisho-admin's web process shares.
 *
 * The web process (docs/internals/admin.md) runs as run_user and serves
 * the console with libmicrohttpd, one thread per connection. This header
 * holds the process-wide context (read-only after start, but for the
 * controller channel, which has its own lock), the per-request context a
 * page handler gets, and the small API each page uses: text in the
 * viewer's language, HTML output, the controller, the logs.
 */
#ifndef SEKISHO_ADMIN_ADMIN_H
#define SEKISHO_ADMIN_ADMIN_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "lib/buf.h"
#include "proto/admin_conf.h"
#include "proto/admin_ctl.h"
#include "proto/form_parse.h"

#define ADMIN_REALM        "fsigk" /* G-23: existing htdigest files keep working */
#define ADMIN_USER_DEFAULT "admin"
#define ADMIN_BODY_MAX     (1024u * 1024) /* a POST body: the largest form is a file editor */
#define ADMIN_FORM_FIELDS  1024
#define ADMIN_PAGE_MAX     (8u * 1024 * 1024) /* rendered HTML (logs: 1000 lines) */

#define ADMIN_LANG_COUNT 2 /* enum admin_lang (proto/admin_conf.h): en, ja */

struct admin_ctx {
    char ini_path[PATH_MAX];  /* conf/sekisho.ini */
    char conf_dir[PATH_MAX];  /* its directory */
    char prefix[PATH_MAX];    /* the installation */
    char conf_path[PATH_MAX]; /* conf/admin.conf */
    char suffix[4];           /* make install suffix= (INST-2) */
    struct admin_conf conf;
    unsigned listen_port;
    bool tls;
    int ctl_fd; /* the controller, SOCK_SEQPACKET */
    pthread_mutex_t ctl_lock;
};

extern struct admin_ctx admin; /* the one context of the web process */

struct admin_session; /* admin_auth.c */

/* One request, as a page handler sees it. */
struct admin_req {
    struct MHD_Connection *conn;
    const char *method; /* "GET", "POST" */
    const char *path;   /* without the query */
    char client_ip[64];
    enum admin_lang lang;
    const char *user;          /* authenticated user; NULL on open routes */
    const char *csrf;          /* the session's token (hidden field of every form) */
    bool must_change_password; /* the account still has the default password */
    char user_buf[256];
    char csrf_buf[48];
    struct form_field *form; /* a POST's fields (after the CSRF check) */
    size_t form_count;
    /* The response the handler builds. */
    unsigned status; /* HTTP status, 200 unless set */
    struct buf *out;
    const char *content_type; /* NULL: text/html; charset=utf-8 */
    char location[512];       /* a redirect target ("" none) */
    char disposition[256];    /* Content-Disposition ("" none) */
    char set_cookie[160];     /* a Set-Cookie of the page's own ("" none) */
    int body_fd;              /* >= 0: send this file instead of out */
};

/* admin_query - the value of a query argument (decoded by libmicrohttpd);
 * NULL when absent. */
const char *admin_query(const struct admin_req *rq, const char *name);
/* admin_field - the value of a POST field; NULL when absent. */
const char *admin_field(const struct admin_req *rq, const char *name);

/* admin_redirect - 303 See Other to a local path. */
void admin_redirect(struct admin_req *rq, const char *path);

/* ---- the controller (admin_ctl_client.c) ------------------------------ */

/* admin_ctl_call - one request, its reply. content_fd >= 0 rides along
 * (WRITE_FILE). false when the channel failed (reply->text says so). */
bool admin_ctl_call(const struct admin_ctl_request *rq, int content_fd,
                    struct admin_ctl_reply *reply);
/* admin_ctl_read_file - READ_FILE: the file's text (malloc'd, NUL-
 * terminated; free it, wiping what it held), NULL with reply->text. */
#define ADMIN_FILE_READ_MAX (16u * 1024 * 1024)
char *admin_ctl_read_file(enum admin_ctl_file file, size_t *len, struct admin_ctl_reply *reply);
/* admin_ctl_write_file - WRITE_FILE with text as the new content. */
bool admin_ctl_write_file(enum admin_ctl_file file, const char *text, size_t len,
                          struct admin_ctl_reply *reply);

/* ---- logs (admin_log.c): log/admin/error.log and log/admin/audit.log ---- */

int admin_log_open(const char *prefix, uid_t uid, gid_t gid);
void admin_error(const char *client_ip, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void admin_audit(const char *client_ip, const char *user, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- reading a configuration file of conf/ ----------------------------- */

/* admin_conf_file_read - conf/<rel> into a malloc'd NUL-terminated text
 * (free()); NULL with err filled. */
char *admin_conf_file_read(const char *rel, size_t max, size_t *len, char *err, size_t errcap);

#endif
