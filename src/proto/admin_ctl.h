/* admin_ctl - the wire format between the console's web process and its
 * controller (docs/internals/admin.md).
 *
 * What it does: encodes and decodes the few requests the unprivileged web
 * process of sekisho-admin may make of the controller, which keeps root
 * for exactly these: write one of a fixed set of configuration files,
 * read one that run_user may not read, start/stop/restart/reload/query
 * one service through its rc script, start a
 * definition update, switch automatic updates, build the diagnostics
 * archive, switch the NAT redirect of one service (misc/rc.transparent). Requests name things by
 * number, never by path or command text, so the controller runs only the argv it builds itself. The
 * new content of a file travels as a descriptor (a memfd, SCM_RIGHTS) beside the request, never in
 * it.
 *
 * What it owns: nothing. No I/O, no allocation, no globals.
 *
 * Frame (one SOCK_SEQPACKET datagram each; integers big-endian):
 *   request: magic[4] "SKA1", op u8, arg u8, verb u8, reserved u8 = 0
 *   reply:   magic[4] "SKB1", op u8, reserved u8 = 0, status i32,
 *            text_len u16, text[text_len]   (text_len <= ADMIN_CTL_TEXT_MAX)
 * status: the command's exit status (0..255), or ADMIN_CTL_REFUSED /
 * ADMIN_CTL_FAILED with the reason in text. Unknown ops, out-of-range
 * arguments, non-zero reserved bytes, bad lengths and trailing bytes are
 * invalid.
 */
#ifndef SEKISHO_PROTO_ADMIN_CTL_H
#define SEKISHO_PROTO_ADMIN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_CTL_REQUEST_LEN 8
#define ADMIN_CTL_TEXT_MAX    4000
#define ADMIN_CTL_REPLY_MAX   (12 + ADMIN_CTL_TEXT_MAX)
#define ADMIN_CTL_REFUSED     (-1) /* the request or the content was refused */
#define ADMIN_CTL_FAILED      (-2) /* could not be carried out (I/O, spawn) */

enum admin_ctl_op {
    ADMIN_CTL_WRITE_FILE = 1, /* arg: enum admin_ctl_file; content: memfd */
    ADMIN_CTL_SERVICE,        /* arg: enum admin_ctl_service; verb: enum admin_ctl_verb */
    ADMIN_CTL_DBUPDATE,       /* start dbupdate in the background */
    ADMIN_CTL_AUTOUPDATE,     /* verb: ON, OFF or STATUS */
    ADMIN_CTL_DIAG,           /* build <prefix>/diag.tar.gz */
    ADMIN_CTL_READ_FILE,      /* arg: enum admin_ctl_file; the reply carries a memfd
                                 (files run_user may not read: pam/userdb.txt) */
    ADMIN_CTL_NAT,            /* TP-2: verb ON or OFF with arg a proxy service (HTTP..FTP;
                                 the port is the controller's own reading of the ini), or
                                 STATUS with arg 0 (every service, one line each) */
    ADMIN_CTL_OP_END,
};

/* The files the console may change, all under <prefix>/conf. */
#define ADMIN_CTL_FILES(X)                                                                         \
    X(ADMIN_FILE_INI, "sekisho.ini")                                                               \
    X(ADMIN_FILE_HOSTS_ALLOW, "hosts.allow")                                                       \
    X(ADMIN_FILE_SPAM_CUSTOM, "spam/custom.txt")                                                   \
    X(ADMIN_FILE_USERDB, "pam/userdb.txt")                                                         \
    X(ADMIN_FILE_HTDIGEST, "sekisho.htdigest")                                                     \
    X(ADMIN_FILE_TPL_HTTP, "template_http.html")                                                   \
    X(ADMIN_FILE_TPL_HTTP_ERROR, "template_http_error.html")                                       \
    X(ADMIN_FILE_TPL_HTTP_PROGRESS, "template_http_progress.html")                                 \
    X(ADMIN_FILE_TPL_SMTP, "template_smtp.txt")                                                    \
    X(ADMIN_FILE_TPL_SMTP_LAN, "template_smtp_lan.txt")                                            \
    X(ADMIN_FILE_TPL_POP, "template_pop.txt")                                                      \
    X(ADMIN_FILE_TPL_ADMIN, "template_admin.txt")

enum admin_ctl_file {
#define ADMIN_CTL_FILE_ENUM(id, path) id,
    ADMIN_CTL_FILES(ADMIN_CTL_FILE_ENUM)
#undef ADMIN_CTL_FILE_ENUM
        ADMIN_FILE_COUNT,
};

enum admin_ctl_service {
    ADMIN_SVC_HTTP = 0,
    ADMIN_SVC_SMTP,
    ADMIN_SVC_POP,
    ADMIN_SVC_FTP,
    ADMIN_SVC_SCAND,
    ADMIN_SVC_COUNT,
};

enum admin_ctl_verb {
    ADMIN_VERB_NONE = 0,
    ADMIN_VERB_START,
    ADMIN_VERB_STOP,
    ADMIN_VERB_RESTART,
    ADMIN_VERB_STATUS,
    ADMIN_VERB_ON,
    ADMIN_VERB_OFF,
    ADMIN_VERB_RELOAD,
    ADMIN_VERB_COUNT,
};

struct admin_ctl_request {
    enum admin_ctl_op op;
    unsigned arg;  /* file or service, by op */
    unsigned verb; /* enum admin_ctl_verb, by op */
};

struct admin_ctl_reply {
    enum admin_ctl_op op;
    int status;
    size_t text_len;
    char text[ADMIN_CTL_TEXT_MAX + 1]; /* NUL-terminated */
};

/* admin_ctl_file_path - "sekisho.ini", "pam/userdb.txt" ... (relative to
 * conf/); NULL for a number that is not a file. */
const char *admin_ctl_file_path(unsigned file);
/* admin_ctl_service_name - "http", "smtp", "pop", "ftp", "scand"; NULL. */
const char *admin_ctl_service_name(unsigned svc);
/* admin_ctl_verb_name - "start", "stop", "restart", "status", "on", "off",
 * "reload". */
const char *admin_ctl_verb_name(unsigned verb);

/* admin_ctl_request_valid - the op takes these arguments. */
bool admin_ctl_request_valid(const struct admin_ctl_request *rq);

/* Encoders return the frame length (out has room for it), or 0 when the
 * request is not valid. */
size_t admin_ctl_encode_request(const struct admin_ctl_request *rq,
                                unsigned char out[ADMIN_CTL_REQUEST_LEN]);
size_t admin_ctl_encode_reply(enum admin_ctl_op op, int status, const char *text, size_t text_len,
                              unsigned char out[ADMIN_CTL_REPLY_MAX]);

/* Decoders: false for anything that is not exactly one valid frame. */
bool admin_ctl_decode_request(const unsigned char *in, size_t len, struct admin_ctl_request *rq);
bool admin_ctl_decode_reply(const unsigned char *in, size_t len, struct admin_ctl_reply *rp);

#endif
