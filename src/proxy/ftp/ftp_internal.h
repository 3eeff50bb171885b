/* ftp_internal - what the FTP session's modules share.
 *
 * ftp_session.c is the control dialogue (FTP-2..FTP-7, FTP-9: greeting,
 * USER and the choice of the server, QUIT, PASV/EPSV/PORT/EPRT, FEAT,
 * the relayed commands, the NOOP keep-alive); ftp_data.c the data
 * connections (the proxy's own listening sockets, the source checks,
 * connecting out); ftp_xfer.c one transfer (FTP-8: RETR, STOR, STOU,
 * APPE received whole, scanned and delivered or refused; LIST, NLST,
 * MLSD and skipped files spliced) and its record (FTP-11). Nothing
 * outside src/proxy/ftp/ includes this.
 */
#ifndef SEKISHO_PROXY_FTP_INTERNAL_H
#define SEKISHO_PROXY_FTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "proto/ftp_addr.h"
#include "proto/ftp_cmd_parse.h"
#include "proto/ftp_reply_parse.h"
#include "proxy/proxy_dialogue.h"
#include "proxy/proxy_record.h"
#include "proxy/proxy_scan.h"
#include "proto/user_target.h"
#include "proxy/proxy_session.h"
#include "proxy/proxy_splice.h"
#include "proxy/proxy_spool.h"

#define FTP_IDLE_MS      900000      /* control connection idle (vsftpd's own is 300 s) */
#define FTP_DATA_WAIT_MS 60000       /* a data connection must come (or connect) this soon */
#define FTP_CLIENT_IN    4096        /* command lines (998 bytes at most) */
#define FTP_CLIENT_OUT   (64 * 1024) /* replies */
#define FTP_SERVER_IN    (64 * 1024) /* replies */
#define FTP_SERVER_OUT   4096        /* command lines */
#define FTP_DEFAULT_PORT 21
#define FTP_USER_MAX     256
#define FTP_PATH_MAX     FTP_CMD_LINE_MAX
#define FTP_FINAL_MAX    1024 /* a transfer's final reply kept until it is due */
#define FTP_READ_ROUNDS  16   /* 64 KiB reads into a spool per event */
#define FTP_SEND_ROUNDS  4    /* sendfile calls per event */
#define FTP_SEND_CHUNK   (1024 * 1024)

enum ftp_state {
    FTP_ST_CONNECT = 0, /* connecting upstream */
    FTP_ST_GREETING,    /* waiting for the server's greeting */
    FTP_ST_COMMAND,     /* taking client commands (connected, or not yet with self_proxy) */
    FTP_ST_REPLY,       /* a command went upstream: its reply is awaited */
    FTP_ST_XFER,        /* a transfer command is being carried out (ftp_xfer.c) */
    FTP_ST_CLOSING,     /* the last reply is written, then close */
};

/* What the client chose for its data connection (PASV/EPSV or PORT/EPRT),
 * and what the proxy set up with the server to match (FTP-6, FTP-7). */
enum ftp_data_mode {
    FTP_DM_NONE = 0,
    FTP_DM_PASSIVE, /* the client connects to the proxy; the proxy to the server */
    FTP_DM_ACTIVE,  /* the server connects to the proxy; the proxy to the client */
};

/* A server reply handler: the reply parsed, raw its bytes as sent. */
struct ftp_session;
typedef void ftp_reply_fn(struct ftp_session *s, const struct ftp_reply *r, struct str raw);

/* One data connection end, or a listening socket of the proxy. */
struct ftp_sock {
    int fd;
    struct ev_io io;
    bool connecting; /* a connect in progress (writable = its outcome) */
};

enum ftp_xfer_phase {
    FTP_XP_NONE = 0,
    FTP_XP_CLIENT_DATA, /* passive: waiting for the client's data connection */
    FTP_XP_SERVER_DATA, /* passive: connecting to the server's data port */
    FTP_XP_PRELIM,      /* the command went upstream: its 1xx is awaited */
    FTP_XP_OPEN,        /* 1xx relayed: the data connections are being completed */
    FTP_XP_RECEIVE,     /* the file comes into the spool (scanned) */
    FTP_XP_FINAL,       /* download received: the server's final reply is awaited */
    FTP_XP_SCAN,        /* the scanner has it */
    FTP_XP_DELIVER,     /* the spool goes to the other side */
    FTP_XP_SPLICE,      /* unscanned bytes move source -> destination */
    FTP_XP_SETTLE,      /* data done: the server's final reply is awaited (uploads) */
    FTP_XP_SWALLOW,     /* ABOR went upstream: its replies are dropped */
};

/* One transfer command (FTP-8) from the command to its final reply. */
struct ftp_xfer {
    enum ftp_xfer_phase phase;
    enum ftp_verb verb;
    bool upload;   /* STOR STOU APPE: client -> server */
    bool file;     /* RETR STOR STOU APPE: a file, recorded (FTP-11) */
    bool scanned;  /* received whole and scanned before delivery */
    bool over;     /* pass_filesize: the rest is relayed unscanned (OVER_FILESIZE) */
    bool blocked;  /* block_filesize decided a detection */
    bool infected; /* a detection with action=delete: nothing delivered */
    bool src_eof;  /* the source closed its data connection */
    bool final_seen;
    bool final_ok; /* the server's final reply was 2xx */
    bool recorded;
    bool client_out_done; /* delivery (or splice) to the destination finished */
    char final[FTP_FINAL_MAX];
    size_t final_len;
    char path[FTP_PATH_MAX + 1];
    struct str cmd; /* the command line, for the server (copy in cmd_buf) */
    char cmd_buf[FTP_CMD_LINE_MAX + 3];
    struct ftp_sock cdata; /* the client's data connection */
    struct ftp_sock sdata; /* the server's data connection */
    struct proxy_spool spool;
    off_t send_off;
    uint64_t moved; /* bytes delivered to the destination */
    struct proxy_splice_dir splice;
    struct proxy_scan *scan;
    struct proxy_outcome o;
    struct ev_timer wait; /* a data connection that must come */
    char detection[SCANREQ_NAME_MAX + 1];
};

struct ftp_session {
    struct proxy_session ps; /* first: the session core */
    struct proxy_dialogue dlg;
    enum ftp_state state;
    bool self_proxy;
    bool late_user;     /* self_proxy: USER <name> goes up once the greeting is in */
    bool quit;          /* QUIT went upstream: end after its reply */
    bool epsv_all;      /* EPSV ALL (RFC 2428 4): no PORT, PASV, EPRT any more */
    bool discarding;    /* the rest of a line over FTP-3's limit is being dropped */
    enum ftp_verb verb; /* of the command in progress */
    struct ftp_command cmd;
    char user[FTP_USER_MAX];
    /* proxyauth_pam_account (FTP-4): the account check in flight, and the
     * server USER goes to once it passes. */
    struct proxy_auth *acct;
    char acct_host[USER_TARGET_HOST_MAX + 1];
    uint16_t acct_port;
    bool acct_limited;          /* the address was over the failure limit when the check began */
    char cwd[FTP_PATH_MAX + 1]; /* the server's current directory, as far as known */
    char new_cwd[FTP_PATH_MAX + 1]; /* where a CWD/CDUP in flight leads */
    /* the server's replies */
    struct ftp_reply reply;
    size_t reply_fed;       /* bytes of server.in the parser has seen */
    ftp_reply_fn *on_reply; /* NULL: relay as it comes */
    bool reply_stream;      /* the awaited reply is relayed as it comes */
    /* NOOP keep-alive (FTP-8.5) */
    struct ev_timer noop_timer;
    unsigned noop_pending; /* NOOPs sent, replies not yet read */
    bool finish_after_noops;
    /* the data connection set up by PASV/EPSV/PORT/EPRT */
    enum ftp_data_mode mode;
    bool bad_source;                     /* a data connection came from elsewhere (FTP-8.2) */
    struct ftp_sock listen_client;       /* passive: the client connects here */
    struct ftp_sock listen_server;       /* active: the server connects here */
    struct ftp_sock early_cdata;         /* the client's data connection, come before its command */
    struct sockaddr_storage client_data; /* active: the client's PORT/EPRT address */
    socklen_t client_data_len;
    struct sockaddr_storage server_data; /* passive: the server's data address */
    socklen_t server_data_len;
    bool client_extended; /* the client used EPSV/EPRT: replies in that form */
    unsigned transfers;
    struct ftp_xfer x;
};

/* ---- the dialogue (ftp_session.c) ---------------------------------------- */

/* ftp_reply - queue "<code> <text>" for the client. */
void ftp_reply(struct ftp_session *s, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ftp_relay_raw - a server reply to the client as the server wrote it. */
void ftp_relay_raw(struct ftp_session *s, struct str raw);
/* ftp_up - a command line to the server; on_reply gets its reply. */
bool ftp_up(struct ftp_session *s, const char *line, size_t len, ftp_reply_fn *on_reply);
/* ftp_finish_command - the command is done (once the NOOPs are answered): the next one. */
void ftp_finish_command(struct ftp_session *s);
/* ftp_end - close after what is queued for the client. */
void ftp_end(struct ftp_session *s);
/* ftp_noop_start / ftp_noop_stop - the keep-alive during a transfer. */
void ftp_noop_start(struct ftp_session *s);
void ftp_noop_stop(struct ftp_session *s);
/* ftp_resolve - the absolute path of arg in the current directory
 * (proto/ftp_path); arg itself when that does not fit. */
void ftp_resolve(const struct ftp_session *s, struct str arg, char *out, size_t cap);
/* ftp_server_lost - the server's control connection went away. */
void ftp_server_lost(struct ftp_session *s);

/* ---- data connections (ftp_data.c) ----------------------------------------- */

void ftp_sock_init(struct ftp_sock *k);
void ftp_sock_close(struct ftp_session *s, struct ftp_sock *k);
/* ftp_sock_move - the connection of from becomes to's (from is left empty). */
void ftp_sock_move(struct ftp_session *s, struct ftp_sock *from, struct ftp_sock *to);
/* ftp_sock_watch - the events k is watched for (ftp_data_event is called). */
void ftp_sock_watch(struct ftp_session *s, struct ftp_sock *k, uint32_t events);
/* ftp_listen_like - a listening socket on the local address of the
 * connection fd (port chosen by the kernel); *addr is its address. */
bool ftp_listen_like(struct ftp_session *s, struct ftp_sock *k, int fd, struct ftp_addr *addr);
/* ftp_accept_from - accept one connection on listener l into *out when it
 * comes from ip; a connection from elsewhere is closed and counted.
 * 1 accepted, 0 nothing yet, -1 one came from elsewhere. */
int ftp_accept_from(struct ftp_session *s, struct ftp_sock *l, const char *ip,
                    struct ftp_sock *out);
/* ftp_connect_from - start a connection to sa from the local address of
 * the connection like_fd. */
bool ftp_connect_from(struct ftp_session *s, struct ftp_sock *k, const struct sockaddr_storage *sa,
                      socklen_t len, int like_fd);
/* ftp_mode_reset - forget the data connection set up (after a transfer). */
void ftp_mode_reset(struct ftp_session *s);
/* ftp_data_closed_all - close every data socket of the session. */
void ftp_data_close_all(struct ftp_session *s);
/* ftp_data_event - an event on one of the session's data sockets. */
void ftp_data_event(struct ftp_session *s, struct ftp_sock *k, uint32_t events);

/* ---- the PASV/EPSV/PORT/EPRT commands (ftp_data.c) ----------------------- */

void ftp_cmd_pasv(struct proxy_session *ps, struct str line, struct str arg);
void ftp_cmd_port(struct proxy_session *ps, struct str line, struct str arg);

/* ---- transfers (ftp_xfer.c) ------------------------------------------------ */

/* ftp_xfer_init - a session's transfer slot, empty. */
void ftp_xfer_init(struct ftp_session *s);
/* ftp_cmd_transfer - RETR STOR STOU APPE LIST NLST MLSD (FTP-8). */
void ftp_cmd_transfer(struct proxy_session *ps, struct str line, struct str arg);
/* ftp_xfer_event - readiness of a data socket or a listener during a transfer. */
void ftp_xfer_event(struct ftp_session *s, struct ftp_sock *k, uint32_t events);
/* ftp_xfer_abort - ABOR from the client during a transfer. */
void ftp_xfer_abort(struct ftp_session *s);
/* ftp_xfer_abandon - the session ends in the middle of a transfer. */
void ftp_xfer_abandon(struct ftp_session *s, const char *error);
/* ftp_xfer_end - release what the transfer holds. */
void ftp_xfer_end(struct ftp_session *s);
/* ftp_xfer_server_lost - the server's control connection went away. */
void ftp_xfer_server_lost(struct ftp_session *s);

#endif
