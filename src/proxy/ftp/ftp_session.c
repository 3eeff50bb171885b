/* ftp_session - the FTP proxy's control connection (spec §8, FTP-1 .. FTP-11).
 *
 * With self_proxy=no the server is contacted at once and its greeting
 * relayed (FTP-2); with self_proxy=yes the proxy greets ("220 <product>
 * at <host> starting.") and the server is the one USER name@host or
 * name#host names, or the parent server (FTP-4). Commands are taken one
 * at a time (proxy_dialogue) and relayed; their replies come back as the
 * server wrote them (FTP-9), except:
 *   - PASV, EPSV, PORT, EPRT: the proxy sets up both sides of the data
 *     connection itself, with its own listening sockets (FTP-6, FTP-7,
 *     C-26; ftp_data.c);
 *   - RETR STOR STOU APPE LIST NLST MLSD: a transfer (FTP-8, ftp_xfer.c);
 *   - FEAT: the reply is edited so the client never uses a feature the
 *     proxy does not carry (proto/ftp_feat);
 *   - AUTH and the other RFC 2228 security commands, LPRT/LPSV, HOST and
 *     MODE/STRU other than the stream/file defaults: refused, as a
 *     session the proxy cannot read or addresses it does not rewrite
 *     would pass data unscanned;
 *   - before a server is chosen, anything but USER and QUIT (FTP-3).
 * During a transfer the server's control connection would sit idle while
 * the proxy receives and scans: NOOP keeps it alive, and a reply other
 * than 200 is the documented error line (FTP-8.5, LOG-E14).
 *
 * Server replies are read with proto/ftp_reply_parse. A reply the proxy
 * only relays goes to the client as it is parsed (a long STAT or HELP
 * listing is never held whole); a reply the proxy acts on (227, 229, FEAT,
 * a transfer's) is held until complete, within server.in.
 */
#include "proxy/ftp/ftp_session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/buf.h"
#include "lib/str.h"
#include "proto/ftp_feat.h"
#include "proto/ftp_path.h"
#include "proto/user_target.h"
#include "proxy/ftp/ftp_internal.h"

/* ---- replies to the client ---------------------------------------------- */

void ftp_reply(struct ftp_session *s, unsigned code, const char *fmt, ...)
{
    char text[FTP_CMD_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (!buf_printf(&s->ps.client.out, "%03u %s\r\n", code, text))
        ftp_end(s); /* the client does not read: it cannot take more */
}

void ftp_relay_raw(struct ftp_session *s, struct str raw)
{
    if (!buf_append(&s->ps.client.out, raw.ptr, raw.len))
        proxy_session_abort(&s->ps);
}

void ftp_end(struct ftp_session *s)
{
    s->state = FTP_ST_CLOSING;
    ftp_noop_stop(s);
    proxy_session_end(&s->ps);
}

/* connect_error - FTP-2, FTP-4, C-25: "500 Can't Connect to (h:p)
 * errmsg=[...]", then the end. */
static void connect_error(struct ftp_session *s, const char *error)
{
    ftp_reply(s, 500, "Can't Connect to (%s:%u) errmsg=[%s]", s->ps.server.host, s->ps.server.port,
              error);
    ftp_end(s);
}

/* ---- commands to the server ------------------------------------------------ */

bool ftp_up(struct ftp_session *s, const char *line, size_t len, ftp_reply_fn *on_reply)
{
    if (s->ps.server.fd < 0 || !buf_append(&s->ps.server.out, line, len) ||
        !buf_append(&s->ps.server.out, "\r\n", 2)) {
        ftp_server_lost(s);
        return false;
    }
    s->on_reply = on_reply;
    return true;
}

/* relay_command - FTP-9: the command as the client sent it (from the
 * verb on), its reply relayed as it comes. */
static void relay_command(struct ftp_session *s)
{
    if (ftp_up(s, s->cmd.command.ptr, s->cmd.command.len, NULL)) {
        s->dlg.busy = true;
        s->state = FTP_ST_REPLY;
    }
}

/* ---- the NOOP keep-alive (FTP-8.5, LOG-E14) ------------------------------ */

static void on_noop_timer(struct ev_loop *loop, struct ev_timer *t)
{
    (void)loop;
    struct ftp_session *s = t->data;
    proxy_session_enter(&s->ps);
    if (s->state == FTP_ST_XFER && s->x.phase >= FTP_XP_OPEN && s->x.phase != FTP_XP_SWALLOW &&
        s->ps.server.fd >= 0 && buf_append(&s->ps.server.out, "NOOP\r\n", 6)) {
        s->noop_pending++;
        ev_timer_start(s->ps.w->loop, &s->noop_timer, (uint64_t)s->ps.cfg->noop_interval * 1000u);
    }
    proxy_session_leave(&s->ps);
}

void ftp_noop_start(struct ftp_session *s)
{
    ev_timer_start(s->ps.w->loop, &s->noop_timer, (uint64_t)s->ps.cfg->noop_interval * 1000u);
}

void ftp_noop_stop(struct ftp_session *s)
{
    ev_timer_stop(s->ps.w->loop, &s->noop_timer);
}

static void on_noop_reply(struct ftp_session *s, const struct ftp_reply *r)
{
    s->noop_pending--;
    if (r->code != 200)
        svclog_error(&s->ps.log, "ftp_noop_callback:NOOP command reply error [%03d %s]", r->code,
                     r->text);
    if (s->noop_pending == 0 && s->finish_after_noops) {
        s->finish_after_noops = false;
        ftp_finish_command(s);
    }
}

/* ---- the commands -------------------------------------------------------------- */

static void process_input(struct ftp_session *s);

void ftp_finish_command(struct ftp_session *s)
{
    s->on_reply = NULL;
    if (s->noop_pending > 0) {
        /* The server still owes the keep-alive's replies: the next
         * command's reply would be taken for one of them. */
        s->finish_after_noops = true;
        return;
    }
    s->dlg.busy = false;
    if (s->quit) {
        ftp_end(s);
        return;
    }
    if (s->ps.w->stopping) {
        /* SIGTERM between commands: the client comes back later. */
        ftp_reply(s, 421, "Service shutting down, please try again later");
        ftp_end(s);
        return;
    }
    s->state = FTP_ST_COMMAND;
    process_input(s);
}

static void start_server(struct ftp_session *s, const char *host, uint16_t port)
{
    s->state = FTP_ST_CONNECT;
    s->dlg.busy = true;
    proxy_session_connect(&s->ps, host, port);
}

/* send_user - "USER <name>" upstream, its reply relayed (FTP-4). */
static void send_user(struct ftp_session *s)
{
    char line[FTP_USER_MAX + 8];
    int n = snprintf(line, sizeof(line), "USER %s", s->user);
    if (ftp_up(s, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, NULL)) {
        s->dlg.busy = true;
        s->state = FTP_ST_REPLY;
    }
}

/* user_go - FTP-4 after the user restriction: USER upstream (connected,
 * or self_proxy=no), or connect to acct_host first. */
static void user_go(struct ftp_session *s)
{
    if (!s->self_proxy || s->ps.server.fd >= 0) {
        send_user(s);
        return;
    }
    s->late_user = true;
    start_server(s, s->acct_host, s->acct_port);
}

/* acct_answered - the user restriction's verdict (AUTH-3: only users the
 * PAM service sekisho_ftp knows; the server still checks the password). */
static void acct_answered(void *arg, enum pam_check_result r)
{
    struct ftp_session *s = arg;
    s->acct = NULL;
    proxy_session_enter(&s->ps);
    s->dlg.busy = false;
    if (r == PAM_CHECK_OK) {
        user_go(s);
    } else {
        if (r == PAM_CHECK_DENIED) {
            proxy_auth_log_failure(s->ps.w->auth_pool, s->ps.client.host, s->ps.client.ip, "LOGIN",
                                   s->acct_limited ? "too many failures from this address"
                                                   : "user not permitted",
                                   s->user);
            svclog_info(&s->ps.log, "Invalid Account Auth.: user [%s] on [%s]", s->user,
                        s->acct_host);
            ftp_reply(s, 500, "Invalid Account Auth.");
        } else {
            ftp_reply(s, 421, "Authentication service unavailable, closing control connection.");
            ftp_end(s);
        }
        s->user[0] = '\0';
        if (r == PAM_CHECK_DENIED)
            ftp_finish_command(s);
    }
    proxy_session_leave(&s->ps);
}

/* cmd_user - FTP-4. */
static void cmd_user(struct proxy_session *ps, struct str line, struct str cmd_arg)
{
    (void)line;
    struct ftp_session *s = (struct ftp_session *)ps;
    struct str arg = ftp_arg_trim(cmd_arg);
    const struct config *cfg = ps->cfg;
    if (!s->self_proxy) {
        str_copy_view(s->user, sizeof(s->user), arg);
        str_copy(s->acct_host, sizeof(s->acct_host), ps->server.host);
    } else {
        struct user_target t;
        enum user_target_status st = user_target_split(arg, &t);
        if (st == USER_TARGET_SYNTAX || arg.len == 0 ||
            (st == USER_TARGET_PLAIN && !*cfg->parent_server_host)) {
            if (proxy_dialogue_invalid(&s->dlg)) {
                ftp_reply(s, 421, "Too many errors");
                ftp_end(s);
                return;
            }
            ftp_reply(s, 500, "USER format is USER username@hostname or username#hostname");
            return;
        }
        uint16_t port =
            cfg->parent_server_port ? (uint16_t)cfg->parent_server_port : FTP_DEFAULT_PORT;
        if (st == USER_TARGET_HOST) {
            str_copy_view(s->acct_host, sizeof(s->acct_host), t.host);
            if (t.port) /* G-16: else parent_server_port (21 unless set) */
                port = t.port;
        } else {
            str_copy(s->acct_host, sizeof(s->acct_host), cfg->parent_server_host);
        }
        s->acct_port = port;
        str_copy_view(s->user, sizeof(s->user), t.name);
        /* A second USER (a new login): the same server only, for the name
         * is all that goes to it. */
        if (ps->server.fd >= 0 &&
            (strcmp(s->acct_host, ps->server.host) != 0 || port != ps->server.port)) {
            ftp_reply(s, 530, "already connected to (%s:%u)", ps->server.host, ps->server.port);
            return;
        }
    }
    if (!cfg->proxyauth_pam_account) {
        user_go(s);
        return;
    }
    struct proxy_auth_req req = {
        .user = s->user, .client_ip = ps->client.ip, .server = s->acct_host};
    s->dlg.busy = true;
    s->acct_limited = proxy_auth_blocked(ps->w->auth_pool, ps->client.ip);
    s->acct = proxy_auth_start(ps->w->auth_pool, &req, &ps->log, acct_answered, s);
    if (!s->acct) {
        s->dlg.busy = false;
        ftp_reply(s, 421, "Authentication service unavailable, closing control connection.");
        ftp_end(s);
    }
}

/* cmd_quit - FTP-5. */
static void cmd_quit(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    struct ftp_session *s = (struct ftp_session *)ps;
    ps->client_quit = true;
    if (ps->server.fd < 0) {
        ftp_reply(s, 221, "Quit");
        ftp_end(s);
        return;
    }
    s->quit = true;
    relay_command(s);
}

/* on_feat - the server's FEAT reply, edited (proto/ftp_feat). */
static void on_feat(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    if (r->code < 200) {
        ftp_relay_raw(s, raw);
        return; /* a preliminary reply: the final one follows */
    }
    if (!ftp_feat_edit(r, &s->ps.client.out))
        ftp_relay_raw(s, raw);
    ftp_finish_command(s);
}

static void cmd_feat(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    struct ftp_session *s = (struct ftp_session *)ps;
    if (ftp_up(s, "FEAT", 4, on_feat)) {
        s->dlg.busy = true;
        s->state = FTP_ST_REPLY;
    }
}

/* ---- the current directory (FTP-11: the record names the file) ---------- */

void ftp_resolve(const struct ftp_session *s, struct str arg, char *out, size_t cap)
{
    if (!ftp_path_resolve(s->cwd, arg, out, cap))
        str_copy_view(out, cap, arg);
}

static void on_cwd(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    ftp_relay_raw(s, raw);
    if (r->code < 200) {
        s->on_reply = on_cwd;
        return;
    }
    if (r->code < 300 && s->new_cwd[0])
        str_copy(s->cwd, sizeof(s->cwd), s->new_cwd);
    ftp_finish_command(s);
}

static void on_pwd(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    ftp_relay_raw(s, raw);
    if (r->code < 200) {
        s->on_reply = on_pwd;
        return;
    }
    char dir[FTP_PATH_MAX + 1];
    if (r->code == 257 && ftp_pwd_parse(str_make(r->text, r->text_len), dir, sizeof(dir)) &&
        dir[0] == '/')
        ftp_path_resolve("/", str_from_cstr(dir), s->cwd, sizeof(s->cwd));
    ftp_finish_command(s);
}

/* cmd_dir - CWD, CDUP and PWD (and their X aliases) relayed; their
 * replies keep the current directory known. */
static void cmd_dir(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line;
    struct ftp_session *s = (struct ftp_session *)ps;
    ftp_reply_fn *fn = on_cwd;
    s->new_cwd[0] = '\0';
    if (s->verb == FTP_V_CWD || s->verb == FTP_V_XCWD) {
        if (!ftp_path_resolve(s->cwd, arg, s->new_cwd, sizeof(s->new_cwd)))
            s->new_cwd[0] = '\0';
    } else if (s->verb == FTP_V_CDUP || s->verb == FTP_V_XCUP) {
        if (!ftp_path_resolve(s->cwd, STR_LIT(".."), s->new_cwd, sizeof(s->new_cwd)))
            s->new_cwd[0] = '\0';
    } else {
        fn = on_pwd;
    }
    if (ftp_up(s, s->cmd.command.ptr, s->cmd.command.len, fn)) {
        s->dlg.busy = true;
        s->state = FTP_ST_REPLY;
    }
}

/* cmd_refuse - what the proxy cannot carry through. */
static void cmd_refuse(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    struct ftp_session *s = (struct ftp_session *)ps;
    switch (s->verb) {
    case FTP_V_AUTH:
    case FTP_V_ADAT:
    case FTP_V_PBSZ:
    case FTP_V_PROT:
    case FTP_V_CCC:
    case FTP_V_MIC:
    case FTP_V_CONF:
    case FTP_V_ENC:
        /* RFC 2228 534: a TLS session could not be scanned. */
        ftp_reply(s, 534,
                  "Request denied for policy reasons: %s is not available through this proxy",
                  ftp_verb_name(s->verb));
        return;
    default:
        ftp_reply(s, 502, "%s is not available through this proxy", ftp_verb_name(s->verb));
        return;
    }
}

/* cmd_mode - MODE S and STRU F (the defaults) are relayed; compressed or
 * block data (MODE Z, B, C) would reach the scanner as noise. */
static void cmd_mode(struct proxy_session *ps, struct str line, struct str cmd_arg)
{
    (void)line;
    struct ftp_session *s = (struct ftp_session *)ps;
    struct str arg = ftp_arg_trim(cmd_arg);
    char want = s->verb == FTP_V_MODE ? 'S' : 'F';
    if (arg.len == 1 && (arg.ptr[0] == want || arg.ptr[0] == (char)(want + 32))) {
        relay_command(s);
        return;
    }
    ftp_reply(s, 504, "Command not implemented for that parameter.");
}

static void cmd_relay(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    relay_command((struct ftp_session *)ps);
}

/* The command table (proxy_dialogue): what is not here is relayed (FTP-9). */
static const struct proxy_command ftp_commands[] = {
    {FTP_V_USER, cmd_user},         {FTP_V_QUIT, cmd_quit},         {FTP_V_FEAT, cmd_feat},
    {FTP_V_PASV, ftp_cmd_pasv},     {FTP_V_EPSV, ftp_cmd_pasv},     {FTP_V_PORT, ftp_cmd_port},
    {FTP_V_EPRT, ftp_cmd_port},     {FTP_V_RETR, ftp_cmd_transfer}, {FTP_V_STOR, ftp_cmd_transfer},
    {FTP_V_STOU, ftp_cmd_transfer}, {FTP_V_APPE, ftp_cmd_transfer}, {FTP_V_LIST, ftp_cmd_transfer},
    {FTP_V_NLST, ftp_cmd_transfer}, {FTP_V_MLSD, ftp_cmd_transfer}, {FTP_V_MODE, cmd_mode},
    {FTP_V_STRU, cmd_mode},         {FTP_V_AUTH, cmd_refuse},       {FTP_V_ADAT, cmd_refuse},
    {FTP_V_PBSZ, cmd_refuse},       {FTP_V_PROT, cmd_refuse},       {FTP_V_CCC, cmd_refuse},
    {FTP_V_MIC, cmd_refuse},        {FTP_V_CONF, cmd_refuse},       {FTP_V_ENC, cmd_refuse},
    {FTP_V_LPRT, cmd_refuse},       {FTP_V_LPSV, cmd_refuse},       {FTP_V_HOST, cmd_refuse},
    {FTP_V_CWD, cmd_dir},           {FTP_V_XCWD, cmd_dir},          {FTP_V_CDUP, cmd_dir},
    {FTP_V_XCUP, cmd_dir},          {FTP_V_PWD, cmd_dir},           {FTP_V_XPWD, cmd_dir},
};

static void do_command(struct ftp_session *s, const struct ftp_command *c)
{
    s->verb = c->verb;
    if (s->ps.server.fd < 0 && c->verb != FTP_V_USER && c->verb != FTP_V_QUIT) {
        ftp_reply(s, 530, "please use USER command at first."); /* FTP-3 */
        return;
    }
    s->cmd = *c; /* its views stay valid until the line is consumed */
    const struct proxy_command *cmd = proxy_command_find(
        ftp_commands, sizeof(ftp_commands) / sizeof(ftp_commands[0]), (int)c->verb);
    (cmd ? cmd->run : cmd_relay)(&s->ps, c->line, c->arg);
}

/* take_line - the dialogue's line finder: FTP-3's 998-byte limit. */
static enum proxy_line_status take_line(const char *buf, size_t len, size_t *line_len,
                                        size_t *consumed)
{
    struct ftp_command c;
    switch (ftp_command_find(buf, len, &c, consumed)) {
    case FTP_CMD_DONE:
    case FTP_CMD_INVALID: /* parsed again below, and refused */
        *line_len = c.line.len;
        return PROXY_LINE_DONE;
    case FTP_CMD_TOO_LONG:
        return PROXY_LINE_TOO_LONG;
    default:
        return PROXY_LINE_AGAIN;
    }
}

/* discard_long_line - the rest of a line over FTP-3's limit; true once
 * its end is gone. */
static bool discard_long_line(struct ftp_session *s)
{
    bool ended = false;
    struct buf *in = &s->ps.client.in;
    buf_consume(in, ftp_line_discard(buf_rptr(in), buf_len(in), &ended));
    buf_compact(in);
    return ended;
}

/* too_many_errors - the error budget of the dialogue is spent. */
static bool too_many_errors(struct ftp_session *s)
{
    if (!proxy_dialogue_invalid(&s->dlg))
        return false;
    ftp_reply(s, 421, "Too many errors");
    ftp_end(s);
    return true;
}

/* next_command - the buffered command lines, one at a time. */
static void next_command(struct ftp_session *s)
{
    while (s->state == FTP_ST_COMMAND && !proxy_session_done(&s->ps)) {
        if (s->discarding) {
            if (!discard_long_line(s)) {
                /* request_timeout bounds the line being dropped too. */
                proxy_dialogue_hold(&s->dlg);
                return;
            }
            s->discarding = false;
        }
        struct str line;
        size_t consumed;
        enum proxy_line_status r = proxy_dialogue_next(&s->dlg, &line, &consumed);
        if (r == PROXY_LINE_TOO_LONG) {
            /* FTP-3: the reply, then the rest of the line is dropped. */
            if (too_many_errors(s))
                return;
            ftp_reply(s, 500, "Too long line");
            s->discarding = true;
            continue;
        }
        if (r != PROXY_LINE_DONE)
            return;
        struct ftp_command c;
        size_t used;
        /* the line with its end: the parser sees what the finder saw */
        enum ftp_cmd_result pr = ftp_command_find(line.ptr, consumed, &c, &used);
        if (pr == FTP_CMD_INVALID) {
            svclog_info(&s->ps.log, "ftp: invalid command line refused (control bytes)");
            if (too_many_errors(s))
                return;
            ftp_reply(s, 500, "Invalid command line");
        } else {
            do_command(s, &c);
        }
        proxy_dialogue_consume(&s->dlg, consumed);
    }
}

/* abor_waiting - during a transfer the client's next line waits, except
 * ABOR (RFC 959 4.1.3), which ends the transfer now. */
static void abor_waiting(struct ftp_session *s)
{
    struct buf *in = &s->ps.client.in;
    struct ftp_command c;
    size_t consumed;
    if (ftp_command_find(buf_rptr(in), buf_len(in), &c, &consumed) == FTP_CMD_DONE &&
        c.verb == FTP_V_ABOR) {
        buf_consume(in, consumed);
        ftp_xfer_abort(s);
    }
}

static void process_input(struct ftp_session *s)
{
    if (proxy_session_done(&s->ps))
        return;
    if (s->state == FTP_ST_XFER)
        abor_waiting(s);
    else
        next_command(s);
}

/* ---- the server's replies ------------------------------------------------------ */

void ftp_server_lost(struct ftp_session *s)
{
    if (s->state == FTP_ST_XFER) {
        ftp_xfer_server_lost(s);
        return;
    }
    if (s->quit) {
        ftp_end(s);
        return;
    }
    ftp_reply(s, 421, "disconnected from (%s:%u)", s->ps.server.host, s->ps.server.port);
    ftp_end(s);
}

/* on_greeting - FTP-2: relayed, or (self_proxy, FTP-4) read and dropped
 * before USER <name> goes up. */
static void on_greeting(struct ftp_session *s, const struct ftp_reply *r, struct str raw)
{
    if (r->code < 200) { /* "120 ready in n minutes": the greeting follows */
        if (!s->late_user)
            ftp_relay_raw(s, raw);
        s->on_reply = on_greeting;
        return;
    }
    if (s->late_user) {
        s->late_user = false;
        if (r->code >= 300) {
            char text[FTP_REPLY_TEXT_MAX + 16];
            snprintf(text, sizeof(text), "%03d %.*s", r->code, FTP_REPLY_TEXT_MAX, r->text);
            connect_error(s, text);
            return;
        }
        send_user(s);
        return;
    }
    ftp_relay_raw(s, raw);
    if (r->code >= 300) {
        ftp_end(s);
        return;
    }
    ftp_finish_command(s);
}

/* reply_done - a relayed reply (FTP-9) is complete. */
static void reply_done(struct ftp_session *s, int code)
{
    if (s->state != FTP_ST_REPLY || code < 200)
        return; /* unasked (a 421 of the server), or preliminary */
    ftp_finish_command(s);
}

/* is_noop_reply - whether the reply complete now answers a keep-alive
 * NOOP: the server answers in order, and NOOPs go out only after a
 * transfer's 1xx, so they are answered after its final reply; a server
 * that answers them during the transfer gives 200, never a transfer's
 * final code. */
static bool is_noop_reply(const struct ftp_session *s, int code)
{
    if (s->noop_pending == 0)
        return false;
    if (s->state == FTP_ST_XFER && s->x.phase == FTP_XP_SWALLOW)
        return false; /* counted there */
    return !s->on_reply || code == 200;
}

static void on_server_input(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    struct buf *in = &ps->server.in;
    while (buf_len(in) > s->reply_fed && !proxy_session_done(ps)) {
        if (s->state == FTP_ST_CONNECT)
            return;
        /* Relayed as it comes: only a reply no one acts on. */
        bool stream = !s->on_reply && s->noop_pending == 0;
        size_t avail = buf_len(in) - s->reply_fed;
        if (stream) {
            size_t room = buf_space(&ps->client.out);
            if (room == 0) {
                buf_compact(&ps->client.out);
                room = buf_space(&ps->client.out);
            }
            if (room == 0) {
                ps->server.no_read = true; /* the client is slower */
                ps->client_pull = true;
                return;
            }
            if (avail > room)
                avail = room;
            /* Whole lines only: a line the parser refuses later must not
             * have gone out in part, with the proxy's own reply glued to
             * it. A longer run without a line end is fed whole: the parser
             * refuses it (FTP_REPLY_LINE_MAX). */
            const char *p = buf_rptr(in);
            size_t whole = avail;
            while (whole > 0 && p[whole - 1] != '\n')
                whole--;
            if (whole > 0)
                avail = whole;
            else if (avail <= FTP_REPLY_LINE_MAX + 2)
                return; /* the rest of the line comes later */
        }
        size_t used = 0;
        enum ftp_reply_result rr =
            ftp_reply_parse(&s->reply, buf_rptr(in) + s->reply_fed, avail, &used);
        if (rr == FTP_REPLY_AGAIN) {
            if (stream) {
                ftp_relay_raw(s, str_make(buf_rptr(in), s->reply_fed + used));
                buf_consume(in, s->reply_fed + used);
                s->reply_fed = 0;
                buf_compact(in);
                continue;
            }
            s->reply_fed += used;
            if (s->reply_fed >= in->cap) {
                svclog_error(&ps->log, "ftp: a reply of the server (%s:%u) is over %zu bytes",
                             ps->server.host, ps->server.port, in->cap);
                ftp_reply(s, 421, "invalid reply from the server");
                ftp_end(s);
                return;
            }
            buf_compact(in);
            return;
        }
        if (rr != FTP_REPLY_DONE) {
            svclog_error(&ps->log, "ftp: invalid reply from the server (%s:%u): %s",
                         ps->server.host, ps->server.port, ftp_reply_result_name(rr));
            if (s->state == FTP_ST_XFER)
                ftp_xfer_abandon(s, "SERVER/invalid reply");
            ftp_reply(s, 421, "invalid reply from the server");
            ftp_end(s);
            return;
        }
        size_t total = s->reply_fed + used;
        struct str raw = str_make(buf_rptr(in), total);
        struct ftp_reply r = s->reply; /* a handler may start the next reply */
        ftp_reply_init(&s->reply);
        s->reply_fed = 0;
        if (stream) {
            ftp_relay_raw(s, raw);
            buf_consume(in, total);
            reply_done(s, r.code);
        } else if (is_noop_reply(s, r.code)) {
            buf_consume(in, total);
            on_noop_reply(s, &r);
        } else {
            ftp_reply_fn *fn = s->on_reply;
            s->on_reply = NULL;
            fn(s, &r, raw);
            buf_consume(in, total);
        }
        buf_compact(in);
    }
}

static void on_client_drained(struct proxy_session *ps)
{
    ps->client_pull = false;
    ps->server.no_read = false;
    on_server_input(ps);
}

static void on_server_gone(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    if (s->state == FTP_ST_CLOSING)
        return;
    ftp_server_lost(s);
}

static void on_client_input(struct proxy_session *ps)
{
    process_input((struct ftp_session *)ps);
}

static void on_client_gone(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    if (s->state == FTP_ST_XFER) {
        svclog_info(&ps->log, "ftp: the client left during a transfer");
        ftp_xfer_abandon(s, "CLIENT/connection closed during transfer");
    }
}

/* ---- the session -------------------------------------------------------------- */

static void on_connected(struct proxy_session *ps, const char *error)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    if (error) {
        connect_error(s, error);
        return;
    }
    s->state = FTP_ST_GREETING;
    s->on_reply = on_greeting;
    ftp_reply_init(&s->reply);
}

/* on_admitted - FTP-2. */
static void on_admitted(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    const struct config *cfg = ps->cfg;
    if (s->self_proxy) {
        ftp_reply(s, 220, "%s at %s starting.", ps->w->res->product_name, ps->w->res->hostname);
        s->state = FTP_ST_COMMAND;
        return;
    }
    if (proxy_session_redirected(ps)) { /* TP-1: parent server and user@host ignored */
        start_server(s, ps->orig_ip, ps->orig_port);
        return;
    }
    uint16_t port = cfg->parent_server_port ? (uint16_t)cfg->parent_server_port : FTP_DEFAULT_PORT;
    start_server(s, *cfg->parent_server_host ? cfg->parent_server_host : "127.0.0.1", port);
}

static const char *waits_for(const struct proxy_session *ps)
{
    const struct ftp_session *s = (const struct ftp_session *)ps;
    if (buf_len(&ps->client.out) > 0)
        return "the client to read a reply";
    switch (s->state) {
    case FTP_ST_CONNECT:
        return "the connection to the server";
    case FTP_ST_GREETING:
        return "the server's greeting";
    case FTP_ST_COMMAND:
        return "a command of the client";
    case FTP_ST_REPLY:
        return "a reply of the server";
    case FTP_ST_XFER:
        switch (s->x.phase) {
        case FTP_XP_CLIENT_DATA:
            return "the client's data connection";
        case FTP_XP_SCAN:
            return "the virus scan";
        case FTP_XP_DELIVER:
            return "the client to take the file";
        default:
            return "the transfer";
        }
    default:
        return "the end of the session";
    }
}

/* on_idle - nothing moved: the idle limit, or inactive_timeout with
 * timeout_inactive=yes. */
static void on_idle(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    svclog_error(&ps->log, "ftp: no traffic for %u sec while waiting for %s: session closed",
                 (unsigned)(ps->idle_ms / 1000), waits_for(ps));
    if (s->state == FTP_ST_XFER) {
        ftp_xfer_abandon(s, "PROXY/inactive timeout");
        proxy_session_abort(ps);
        return;
    }
    if (buf_len(&ps->client.out) > 0) {
        proxy_session_abort(ps);
        return;
    }
    ftp_reply(s, 421, "Timeout, closing control connection.");
    ftp_end(s);
}

static void on_line_timeout(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    ftp_reply(s, 421, "Timeout: command line not complete within %u sec", ps->cfg->request_timeout);
    ftp_end(s);
}

/* on_stop - SIGTERM: a session between commands ends now; a transfer in
 * flight is finished first. */
static void on_stop(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    if (s->state == FTP_ST_COMMAND && !s->dlg.busy) {
        ftp_reply(s, 421, "Service shutting down, please try again later");
        ftp_end(s);
    }
}

static void on_closing(struct proxy_session *ps)
{
    struct ftp_session *s = (struct ftp_session *)ps;
    proxy_dialogue_stop(&s->dlg);
    proxy_auth_cancel(s->acct);
    s->acct = NULL;
    ftp_noop_stop(s);
    if (s->state == FTP_ST_XFER)
        ftp_xfer_abandon(s, "CLIENT/connection closed during transfer");
    ftp_xfer_end(s);
    ftp_data_close_all(s);
}

static const struct proxy_session_ops ftp_ops = {
    .name = "ftp",
    .acl_from = "ftp_from",
    .acl_to = "ftp_to",
    .waits_for = waits_for,
    .admitted = on_admitted,
    .connected = on_connected,
    .client_input = on_client_input,
    .client_gone = on_client_gone,
    .client_drained = on_client_drained,
    .server_input = on_server_input,
    .server_gone = on_server_gone,
    .idle = on_idle,
    .stop = on_stop,
    .closing = on_closing,
};

static void ftp_session_start(struct proxy_worker *w, int fd, const struct sockaddr_storage *peer,
                              int slot)
{
    struct proxy_session *ps =
        proxy_session_new(w, fd, peer, slot, sizeof(struct ftp_session), &ftp_ops, FTP_CLIENT_IN,
                          FTP_CLIENT_OUT, FTP_SERVER_IN, FTP_SERVER_OUT);
    if (!ps)
        return;
    struct ftp_session *s = (struct ftp_session *)ps;
    const struct config *cfg = w->cfg;
    /* A client sends ABOR "urgent" (RFC 959 4.1.3; Python's ftplib sends
     * the whole line with MSG_OOB): kept in the stream, as servers do,
     * or the line would lose its last byte. */
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
    ps->idle_ms = cfg->timeout_inactive ? (uint64_t)cfg->inactive_timeout * 1000u : FTP_IDLE_MS;
    /* A redirected client names no server: it is the one it was going to. */
    s->self_proxy = cfg->self_proxy && !proxy_session_redirected(&s->ps);
    str_copy(s->cwd, sizeof(s->cwd), "/"); /* until CWD or PWD say otherwise */
    ftp_reply_init(&s->reply);
    ev_timer_init(&s->noop_timer, on_noop_timer, s);
    ftp_sock_init(&s->listen_client);
    ftp_sock_init(&s->listen_server);
    ftp_sock_init(&s->early_cdata);
    ftp_xfer_init(s);
    proxy_dialogue_init(&s->dlg, ps, take_line, on_line_timeout);
    proxy_session_start(ps);
}

const struct proxy_proto ftp_proto = {
    .name = "ftp",
    .session_start = ftp_session_start,
    .busy_reply = "421 Too many connections from your address (%s)\r\n",
};
