/* pop_session - the POP3 proxy (spec §7, POP-1 .. POP-10).
 *
 * With self_proxy=no the server is contacted at once and its greeting
 * relayed (POP-2); with self_proxy=yes the proxy greets ("+OK <product>
 * starting.") and the server is the one USER name@host or name#host
 * names, or the parent server (POP-4, G-16). Commands are taken one at a
 * time (proxy_dialogue): each goes upstream as sent and its reply comes
 * back as the server wrote it, multi-line bodies included (LIST, UIDL,
 * TOP, CAPA: relayed unscanned, C-30), except:
 *   - RETR, whose message is received whole, scanned and then relayed,
 *     marked or replaced (pop_retr.c);
 *   - STLS, refused (a TLS session through the proxy would be a tunnel
 *     the scanner cannot see into), and STLS taken out of CAPA's list;
 *   - before a server is chosen, anything but USER and QUIT (POP-3).
 * A positive reply to PASS, APOP or AUTH is a login: the client's address
 * goes to the POP-before-SMTP store (AUTH-7, core/pbs_store).
 */
#include "proxy/pop/pop_session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy/proxy_pbs.h"
#include "lib/buf.h"
#include "lib/str.h"
#include "proxy/pop/pop_internal.h"

/* ---- replies ------------------------------------------------------------ */

void pop_reply(struct pop_session *s, bool ok, const char *fmt, ...)
{
    char text[POP3_STATUS_FORMAT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (!pop3_status_format(&s->ps.client.out, ok, text))
        pop_end(s); /* the client does not read: it cannot take more */
}

void pop_end(struct pop_session *s)
{
    s->state = POP_ST_CLOSING;
    proxy_session_end(&s->ps);
}

/* connect_error - POP-2, POP-4, C-25: "-ERR Can't Connect to (h:p)
 * errmsg=[...]", then the end. */
static void connect_error(struct pop_session *s, const char *error)
{
    pop_reply(s, false, "Can't Connect to (%s:%u) errmsg=[%s]", s->ps.server.host,
              s->ps.server.port, error);
    pop_end(s);
}

/* ---- the POP-before-SMTP feed (AUTH-7) --------------------------------- */

static void record_login(struct pop_session *s)
{
    proxy_pbs_record(s->ps.cfg, s->ps.client.ip, &s->ps.log);
}

/* ---- the commands --------------------------------------------------------- */

static void process_input(struct pop_session *s);

void pop_finish_command(struct pop_session *s)
{
    s->dlg.busy = false;
    if (s->quit) {
        pop_end(s);
        return;
    }
    if (s->ps.w->stopping) {
        /* SIGTERM between commands: the client comes back later. */
        pop_reply(s, false, "Service shutting down, please try again later");
        pop_end(s);
        return;
    }
    s->state = s->ps.server.fd >= 0 ? POP_ST_COMMAND : POP_ST_NOSERVER;
    process_input(s);
}

/* up_line - a command line upstream; the reply is awaited. */
static void up_line(struct pop_session *s, struct str line)
{
    if (s->ps.server.fd < 0 || !buf_append(&s->ps.server.out, line.ptr, line.len) ||
        !buf_append(&s->ps.server.out, "\r\n", 2)) {
        pop_reply(s, false, "disconnected from (%s:%u)", s->ps.server.host, s->ps.server.port);
        pop_end(s);
        return;
    }
    s->dlg.busy = true;
    s->state = POP_ST_REPLY;
}

/* relay_command - POP-8: the line upstream as sent, the reply back. */
static void relay_command(struct pop_session *s, const struct pop3_command *c)
{
    s->multiline = pop3_reply_is_multiline(c);
    s->edit_capa = c->verb == POP3_V_CAPA;
    up_line(s, c->line);
}

static void start_server(struct pop_session *s, const char *host, uint16_t port)
{
    s->state = POP_ST_CONNECT;
    s->dlg.busy = true;
    proxy_session_connect(&s->ps, host, port);
}

/* user_go - POP-4 after the user restriction: USER upstream (connected,
 * or self_proxy=no), or connect to acct_host first. */
static void user_go(struct pop_session *s)
{
    if (!s->self_proxy || s->ps.server.fd >= 0) {
        char line[POP_USER_MAX + 8];
        int n = snprintf(line, sizeof(line), "USER %s", s->user);
        s->multiline = false;
        s->edit_capa = false;
        up_line(s, str_make(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1));
        return;
    }
    s->late_user = true;
    start_server(s, s->acct_host, s->acct_port);
}

/* acct_answered - the user restriction's verdict (AUTH-3: only users the
 * PAM service sekisho_pop knows; the server still checks the password). */
static void acct_answered(void *arg, enum pam_check_result r)
{
    struct pop_session *s = arg;
    s->acct = NULL;
    proxy_session_enter(&s->ps);
    s->dlg.busy = false;
    if (r == PAM_CHECK_OK) {
        if (s->acct_apop) {
            s->login = true;
            s->multiline = false;
            s->edit_capa = false;
            up_line(s, str_from_cstr(s->acct_line));
            explicit_bzero(s->acct_line, sizeof(s->acct_line));
        } else {
            user_go(s);
        }
    } else if (r == PAM_CHECK_DENIED) {
        proxy_auth_log_failure(s->ps.w->auth_pool, s->ps.client.host, s->ps.client.ip, "LOGIN",
                               s->acct_limited ? "too many failures from this address"
                                               : "user not permitted",
                               s->user);
        svclog_info(&s->ps.log, "Invalid Account Auth.: user [%s] on [%s]", s->user, s->acct_host);
        s->user[0] = '\0';
        pop_reply(s, false, "Invalid Account Auth.");
        pop_finish_command(s);
    } else {
        s->user[0] = '\0';
        pop_reply(s, false, "[SYS/TEMP] Authentication service unavailable");
        pop_finish_command(s);
    }
    proxy_session_leave(&s->ps);
}

/* check_account - proxyauth_pam_account=yes: ask PAM whether user may use
 * acct_host (POP-4, POP-6); the command goes on in acct_answered. */
static void check_account(struct pop_session *s, const char *user)
{
    struct proxy_auth_req req = {
        .user = user, .client_ip = s->ps.client.ip, .server = s->acct_host};
    s->dlg.busy = true;
    s->acct_limited = proxy_auth_blocked(s->ps.w->auth_pool, s->ps.client.ip);
    s->acct = proxy_auth_start(s->ps.w->auth_pool, &req, &s->ps.log, acct_answered, s);
    if (!s->acct) {
        s->dlg.busy = false;
        pop_reply(s, false, "[SYS/TEMP] Authentication service unavailable");
    }
}

/* cmd_user - POP-4. */
static void cmd_user(struct proxy_session *ps, struct str cmd_line, struct str cmd_arg)
{
    (void)cmd_line;
    struct pop_session *s = (struct pop_session *)ps;
    struct str arg = pop3_arg_trim(cmd_arg);
    const struct config *cfg = s->ps.cfg;
    s->acct_apop = false;
    if (!s->self_proxy) {
        str_copy_view(s->user, sizeof(s->user), arg);
        str_copy(s->acct_host, sizeof(s->acct_host), s->ps.server.host);
        if (cfg->proxyauth_pam_account)
            check_account(s, s->user);
        else
            user_go(s);
        return;
    }
    struct pop3_user_target t;
    enum pop3_user_status st = pop3_user_split(arg, &t);
    /* An empty name is a format error too: there is no user to name to
     * the server (RFC 1939 USER takes one), and "USER " would be sent. */
    if (st == POP3_USER_SYNTAX || arg.len == 0 ||
        (st == POP3_USER_PLAIN && !*cfg->parent_server_host)) {
        if (proxy_dialogue_invalid(&s->dlg)) {
            pop_reply(s, false, "Too many errors");
            pop_end(s);
            return;
        }
        pop_reply(s, false, "USER format is USER username@hostname or username#hostname");
        return;
    }
    uint16_t port = cfg->parent_server_port ? (uint16_t)cfg->parent_server_port : POP_DEFAULT_PORT;
    if (st == POP3_USER_TARGET) {
        str_copy_view(s->acct_host, sizeof(s->acct_host), t.host);
        if (t.port)
            port = t.port;
    } else {
        str_copy(s->acct_host, sizeof(s->acct_host), cfg->parent_server_host);
    }
    s->acct_port = port;
    str_copy_view(s->user, sizeof(s->user), t.name);
    /* A second USER (after a refused PASS): the same server only, for the
     * name is all that goes to it. */
    if (s->ps.server.fd >= 0 &&
        (strcmp(s->acct_host, s->ps.server.host) != 0 || port != s->ps.server.port)) {
        pop_reply(s, false, "already connected to (%s:%u)", s->ps.server.host, s->ps.server.port);
        return;
    }
    if (cfg->proxyauth_pam_account)
        check_account(s, s->user);
    else
        user_go(s);
}

/* cmd_quit - POP-5. */
static void cmd_quit(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    struct pop_session *s = (struct pop_session *)ps;
    const struct pop3_command *c = &s->cmd;
    ps->client_quit = true;
    if (s->ps.server.fd < 0) {
        pop_reply(s, true, "Quit");
        pop_end(s);
        return;
    }
    s->quit = true;
    relay_command(s, c);
}

/* cmd_login - POP-6: PASS, APOP and AUTH; a positive final reply is a
 * login (AUTH-7). AUTH with a mechanism is an exchange: the client's
 * lines go upstream as they are until the server's final reply. */
static void cmd_login(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line;
    struct pop_session *s = (struct pop_session *)ps;
    const struct pop3_command *c = &s->cmd;
    if (ps->cfg->proxyauth_pam_account && c->verb == POP3_V_APOP) {
        /* POP-6: APOP names its user itself; it is checked like USER's. */
        struct str a = pop3_arg_trim(arg), name, rest;
        str_cut(a, ' ', &name, &rest);
        if (name.len == 0 || name.len >= sizeof(s->user) || line.len >= sizeof(s->acct_line)) {
            pop_reply(s, false, "Invalid Account Auth.");
            return;
        }
        str_copy_view(s->user, sizeof(s->user), name);
        str_copy_view(s->acct_line, sizeof(s->acct_line), line);
        str_copy(s->acct_host, sizeof(s->acct_host), s->ps.server.host);
        s->acct_apop = true;
        check_account(s, s->user);
        return;
    }
    if (ps->cfg->proxyauth_pam_account && c->verb == POP3_V_AUTH) {
        /* A SASL exchange names its user in base64 the proxy does not
         * read: with the user restriction on it would be a way around it. */
        pop_reply(s, false, "AUTH is not available here; use USER and PASS");
        return;
    }
    s->login = true;
    relay_command(s, c);
}

static void cmd_stls(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    struct pop_session *s = (struct pop_session *)ps;
    const struct pop3_command *c = &s->cmd;
    (void)c;
    pop_reply(s, false, "STLS is not available through this proxy");
}

static void cmd_retr(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    struct pop_session *s = (struct pop_session *)ps;
    const struct pop3_command *c = &s->cmd;
    s->multiline = false; /* the body is pop_retr's */
    s->edit_capa = false;
    up_line(s, c->line);
}

static void cmd_relay(struct proxy_session *ps, struct str line, struct str arg)
{
    (void)line, (void)arg;
    struct pop_session *s = (struct pop_session *)ps;
    const struct pop3_command *c = &s->cmd;
    relay_command(s, c);
}

/* The command table (proxy_dialogue): what is not here is relayed (POP-8). */
static const struct proxy_command pop_commands[] = {
    {POP3_V_USER, cmd_user},  {POP3_V_QUIT, cmd_quit},  {POP3_V_PASS, cmd_login},
    {POP3_V_APOP, cmd_login}, {POP3_V_AUTH, cmd_login}, {POP3_V_STLS, cmd_stls},
    {POP3_V_RETR, cmd_retr},
};

static void do_command(struct pop_session *s, const struct pop3_command *c)
{
    s->verb = c->verb;
    s->login = false;
    if (s->ps.server.fd < 0 && c->verb != POP3_V_USER && c->verb != POP3_V_QUIT) {
        /* POP-3 (self_proxy before USER) */
        pop_reply(s, false, "please use USER command at first.");
        return;
    }
    s->cmd = *c; /* its views stay valid until the line is consumed */
    const struct proxy_command *cmd = proxy_command_find(
        pop_commands, sizeof(pop_commands) / sizeof(pop_commands[0]), (int)c->verb);
    (cmd ? cmd->run : cmd_relay)(&s->ps, c->line, c->arg);
}

/* take_line - the dialogue's line finder: POP-3's 998-byte limit. */
static enum proxy_line_status take_line(const char *buf, size_t len, size_t *line_len,
                                        size_t *consumed)
{
    struct pop3_command c;
    switch (pop3_command_find(buf, len, &c, consumed)) {
    case POP3_DONE:
    case POP3_INVALID: /* parsed again below, and refused */
        *line_len = c.line.len;
        return PROXY_LINE_DONE;
    case POP3_TOO_LONG:
        return PROXY_LINE_TOO_LONG;
    default:
        return PROXY_LINE_AGAIN;
    }
}

/* next_command - the buffered command lines, one at a time. */
static void next_command(struct pop_session *s)
{
    while (s->state == POP_ST_COMMAND || s->state == POP_ST_NOSERVER || s->state == POP_ST_AUTH) {
        struct str line;
        size_t consumed;
        enum proxy_line_status r = proxy_dialogue_next(&s->dlg, &line, &consumed);
        if (r == PROXY_LINE_TOO_LONG) {
            /* POP-3; the rest of the line cannot be told from a command. */
            pop_reply(s, false, "Too long line");
            pop_end(s);
            return;
        }
        if (r != PROXY_LINE_DONE)
            return;
        if (s->state == POP_ST_AUTH) {
            /* RFC 5034: the client's response to the challenge, as sent. */
            up_line(s, line);
            proxy_dialogue_consume(&s->dlg, consumed);
            return;
        }
        struct pop3_command c;
        size_t used;
        /* the line with its end: the parser sees what the finder saw */
        enum pop3_result pr = pop3_command_find(line.ptr, consumed, &c, &used);
        if (pr == POP3_INVALID) {
            svclog_info(&s->ps.log, "pop: invalid command line refused (control bytes)");
            if (proxy_dialogue_invalid(&s->dlg)) {
                pop_reply(s, false, "Too many errors");
                pop_end(s);
                return;
            }
            pop_reply(s, false, "Invalid command line");
        } else {
            do_command(s, &c);
        }
        proxy_dialogue_consume(&s->dlg, consumed);
    }
}

static void process_input(struct pop_session *s)
{
    if (!proxy_session_done(&s->ps))
        next_command(s);
}

/* ---- the server's replies ------------------------------------------------ */

/* capa_line_kept - CAPA's list without STLS (RFC 2595): the client must
 * not start a TLS session the proxy would have to tunnel unscanned. */
static bool capa_line_kept(struct str line)
{
    return !(line.len >= 4 && strncasecmp(line.ptr, "STLS", 4) == 0 &&
             (line.len == 4 || line.ptr[4] == ' ' || line.ptr[4] == '\r'));
}

/* relay_body - a multi-line body to the client as it comes, unchanged
 * (CAPA: without its STLS line), as fast as the client takes it. */
static void relay_body(struct pop_session *s)
{
    struct buf *in = &s->ps.server.in, *out = &s->ps.client.out;
    while (buf_len(in) > 0) {
        size_t room = buf_space(out);
        if (room == 0) {
            buf_compact(out);
            room = buf_space(out);
        }
        size_t take = buf_len(in) < room ? buf_len(in) : room;
        if (s->edit_capa) {
            /* CAPA is short: line by line, so a line can be left out. */
            const char *nl = memchr(buf_rptr(in), '\n', buf_len(in));
            if (!nl)
                break;
            take = (size_t)(nl - buf_rptr(in)) + 1;
            if (take > room)
                break;
        }
        if (take == 0)
            break;
        size_t used;
        enum pop3_result r = pop3_body_skip(&s->relay, buf_rptr(in), take, &used);
        if (!s->edit_capa || capa_line_kept(str_make(buf_rptr(in), used)))
            buf_append(out, buf_rptr(in), used);
        buf_consume(in, used);
        if (r == POP3_DONE) {
            s->ps.client_pull = false;
            s->ps.server.no_read = false;
            pop_finish_command(s);
            return;
        }
        if (r != POP3_AGAIN) {
            svclog_error(&s->ps.log, "pop: a reply body from the server is over %u bytes",
                         POP3_BODY_MAX);
            proxy_session_abort(&s->ps);
            return;
        }
    }
    buf_compact(in);
    /* The client is slower: wait for it before reading more. */
    s->ps.server.no_read = buf_space(out) == 0;
    s->ps.client_pull = s->ps.server.no_read;
}

/* on_status - the status line of the reply to the command in progress. */
static void on_status(struct pop_session *s, const struct pop3_status *st, size_t len)
{
    bool ok = st->kind == POP3_ST_OK;
    if (s->state == POP_ST_GREETING) {
        if (s->late_user) {
            /* G-16: the greeting is read and dropped; then USER <name>. */
            buf_consume(&s->ps.server.in, len);
            if (!ok) {
                char text[POP3_STATUS_LINE_MAX + 1];
                str_copy_view(text, sizeof(text), st->line);
                connect_error(s, text);
                return;
            }
            s->late_user = false;
            char line[POP_USER_MAX + 8];
            int n = snprintf(line, sizeof(line), "USER %s", s->user);
            s->multiline = false;
            up_line(s, str_make(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1));
            return;
        }
        /* POP-2: the server's greeting is the client's. */
        buf_append(&s->ps.client.out, buf_rptr(&s->ps.server.in), len);
        buf_consume(&s->ps.server.in, len);
        if (!ok) {
            pop_end(s);
            return;
        }
        pop_finish_command(s);
        return;
    }
    if (s->verb == POP3_V_RETR && ok) {
        buf_consume(&s->ps.server.in, len);
        pop_retr_start(s, st);
        return;
    }
    buf_append(&s->ps.client.out, buf_rptr(&s->ps.server.in), len);
    buf_consume(&s->ps.server.in, len);
    if (st->kind == POP3_ST_CONT && s->verb == POP3_V_AUTH) {
        s->state = POP_ST_AUTH; /* the client answers the challenge */
        s->dlg.busy = false;
        process_input(s);
        return;
    }
    if (ok && s->login)
        record_login(s);
    if (ok && s->multiline) {
        s->state = POP_ST_BODY;
        pop3_body_init(&s->relay);
        relay_body(s);
        return;
    }
    pop_finish_command(s);
}

static void on_server_input(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    while (buf_len(&ps->server.in) > 0 && !proxy_session_done(ps)) {
        switch (s->state) {
        case POP_ST_BODY:
            relay_body(s);
            if (s->state == POP_ST_BODY)
                return;
            continue;
        case POP_ST_RETR:
            pop_retr_input(s);
            return;
        case POP_ST_GREETING:
        case POP_ST_REPLY:
            break;
        default:
            /* Unasked: the server speaks out of turn (or after QUIT). */
            return;
        }
        struct pop3_status st;
        size_t len;
        enum pop3_result r =
            pop3_status_find(buf_rptr(&ps->server.in), buf_len(&ps->server.in), &st, &len);
        if (r == POP3_AGAIN)
            return;
        if (r != POP3_DONE) {
            svclog_error(&ps->log, "pop: invalid reply from the server (%s:%u): %s",
                         ps->server.host, ps->server.port, pop3_result_name(r));
            pop_reply(s, false, "invalid reply from the server");
            pop_end(s);
            return;
        }
        on_status(s, &st, len);
    }
}

static void on_server_gone(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    if (s->state == POP_ST_RETR || s->state == POP_ST_SCAN || s->state == POP_ST_SEND) {
        if (s->state == POP_ST_RETR) {
            svclog_info(&ps->log, "pop: the server (%s:%u) closed the connection during RETR",
                        ps->server.host, ps->server.port);
            pop_retr_abandon(s, "SERVER/connection lost during RETR");
            proxy_session_abort(ps); /* the client must not take half a message for whole */
            return;
        }
        return; /* the message is whole: it is delivered; the next command finds out */
    }
    if (s->quit) {
        pop_end(s);
        return;
    }
    if (s->state == POP_ST_REPLY || s->state == POP_ST_BODY || s->state == POP_ST_GREETING ||
        s->state == POP_ST_AUTH) {
        /* A body cut off cannot be ended honestly: the client must see
         * the connection go, not a short list. */
        if (s->state == POP_ST_BODY) {
            proxy_session_abort(ps);
            return;
        }
        pop_reply(s, false, "disconnected from (%s:%u)", ps->server.host, ps->server.port);
        pop_end(s);
    }
}

static void on_client_input(struct proxy_session *ps)
{
    process_input((struct pop_session *)ps);
}

static void on_client_drained(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    if (s->state == POP_ST_BODY) {
        s->ps.server.no_read = false;
        relay_body(s);
    } else if (s->state == POP_ST_SEND) {
        pop_retr_send_step(s);
    }
}

static void on_client_gone(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    if (s->state == POP_ST_RETR || s->state == POP_ST_SCAN || s->state == POP_ST_SEND) {
        svclog_info(&ps->log, "pop: the client left during RETR");
        pop_retr_abandon(s, "CLIENT/connection closed during RETR");
    }
}

/* ---- the session -------------------------------------------------------------- */

static void on_connected(struct proxy_session *ps, const char *error)
{
    struct pop_session *s = (struct pop_session *)ps;
    if (error) {
        connect_error(s, error);
        return;
    }
    s->state = POP_ST_GREETING;
}

/* on_admitted - POP-2. */
static void on_admitted(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    const struct config *cfg = ps->cfg;
    if (s->self_proxy) {
        pop_reply(s, true, "%s starting.", ps->w->res->product_name);
        s->state = POP_ST_NOSERVER;
        return;
    }
    if (proxy_session_redirected(ps)) { /* TP-1: parent server and user@host ignored */
        start_server(s, ps->orig_ip, ps->orig_port);
        return;
    }
    uint16_t port = cfg->parent_server_port ? (uint16_t)cfg->parent_server_port : POP_DEFAULT_PORT;
    start_server(s, *cfg->parent_server_host ? cfg->parent_server_host : "127.0.0.1", port);
}

static const char *waits_for(const struct proxy_session *ps)
{
    const struct pop_session *s = (const struct pop_session *)ps;
    if (buf_len(&ps->client.out) > 0)
        return "the client to read a reply";
    switch (s->state) {
    case POP_ST_CONNECT:
        return "the connection to the server";
    case POP_ST_GREETING:
        return "the server's greeting";
    case POP_ST_NOSERVER:
    case POP_ST_COMMAND:
    case POP_ST_AUTH:
        return "a command of the client";
    case POP_ST_REPLY:
        return "a reply of the server";
    case POP_ST_BODY:
    case POP_ST_RETR:
        return "the server's message";
    case POP_ST_SCAN:
        return "the virus scan";
    default:
        return "the client to read the message";
    }
}

/* on_idle - nothing moved: RFC 1939's autologout (10 minutes), or
 * inactive_timeout with timeout_inactive=yes. */
static void on_idle(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    svclog_error(&ps->log, "pop: no traffic for %u sec while waiting for %s: session closed",
                 (unsigned)(ps->idle_ms / 1000), waits_for(ps));
    if (s->state == POP_ST_RETR || s->state == POP_ST_SCAN || s->state == POP_ST_SEND) {
        pop_retr_abandon(s, "PROXY/inactive timeout");
        proxy_session_abort(ps);
        return;
    }
    if (buf_len(&ps->client.out) > 0) {
        proxy_session_abort(ps);
        return;
    }
    pop_reply(s, false, "Timeout, closing connection");
    pop_end(s);
}

static void on_line_timeout(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    pop_reply(s, false, "Timeout: command line not complete within %u sec",
              ps->cfg->request_timeout);
    pop_end(s);
}

/* on_stop - SIGTERM: a session between commands ends now; a RETR in
 * flight is finished first. */
static void on_stop(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    if ((s->state == POP_ST_COMMAND || s->state == POP_ST_NOSERVER) && !s->dlg.busy) {
        pop_reply(s, false, "Service shutting down, please try again later");
        pop_end(s);
    }
}

static void on_closing(struct proxy_session *ps)
{
    struct pop_session *s = (struct pop_session *)ps;
    proxy_dialogue_stop(&s->dlg);
    proxy_auth_cancel(s->acct);
    s->acct = NULL;
    explicit_bzero(s->acct_line, sizeof(s->acct_line));
    /* A RETR still unrecorded here ended without a hook of ours: the core
     * aborts the session when a write to the client fails (the client
     * reset the connection while the message was being sent). POP-9: it
     * has its record all the same (pop_retr_abandon records once). */
    if (s->state == POP_ST_RETR || s->state == POP_ST_SCAN || s->state == POP_ST_SEND)
        pop_retr_abandon(s, "CLIENT/connection closed during RETR");
    pop_retr_end(s);
}

static const struct proxy_session_ops pop_ops = {
    .name = "pop",
    .acl_from = "pop_from",
    .acl_to = "pop_to",
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

static void pop_session_start(struct proxy_worker *w, int fd, const struct sockaddr_storage *peer,
                              int slot)
{
    struct proxy_session *ps =
        proxy_session_new(w, fd, peer, slot, sizeof(struct pop_session), &pop_ops, POP_CLIENT_IN,
                          POP_CLIENT_OUT, POP_SERVER_IN, POP_SERVER_OUT);
    if (!ps)
        return;
    struct pop_session *s = (struct pop_session *)ps;
    const struct config *cfg = w->cfg;
    ps->idle_ms = cfg->timeout_inactive ? (uint64_t)cfg->inactive_timeout * 1000u : POP_IDLE_MS;
    /* A redirected client names no server: it is the one it was going to. */
    s->self_proxy = cfg->self_proxy && !proxy_session_redirected(&s->ps);
    s->r.spool = PROXY_SPOOL_CLOSED;
    proxy_dialogue_init(&s->dlg, ps, take_line, on_line_timeout);
    proxy_session_start(ps);
}

/* pop_service_init - AUTH-7: the POP-before-SMTP store is emptied when
 * the service starts. */
static int pop_service_init(const struct config *cfg)
{
    return proxy_pbs_reset(cfg);
}

const struct proxy_proto pop_proto = {
    .name = "pop",
    .session_start = pop_session_start,
    .busy_reply = "-ERR Too many connections from your address (%s)\r\n",
    .service_init = pop_service_init,
};
