/* smtp_xclient - the real client for the parent (issue 13, item 6).
 *
 * Behind the gateway, a parent sees every client at the gateway's
 * address. A parent that trusts it (Postfix's mynetworks) relays for
 * anyone the gateway lets through; its HELO, client and RBL checks see
 * the gateway. With xclient=yes (the default) the proxy asks the parent
 * what it offers (EHLO right after the parent's greeting, before ours to
 * the client) and, when the parent offers XCLIENT to the gateway
 * (Postfix: smtpd_authorized_xclient_hosts), sends at the client's
 * HELO/EHLO:
 *
 *   XCLIENT NAME=<name> ADDR=<address> PORT=<port> PROTO=<SMTP|ESMTP> HELO=<helo>
 *   -> 220 (the parent starts the session anew, now as the real client)
 *   <HELO|EHLO> <the client's own name>   (the parent sees what a direct
 *                                          client would show, so its
 *                                          HELO restrictions apply)
 *
 * and after the client authenticated at the proxy (SMTP AUTH), when the
 * parent offers LOGIN: XCLIENT LOGIN=<user> and EHLO again, so that its
 * permit_sasl_authenticated lets the user relay as the gateway did.
 * A parent that offers only XFORWARD gets "XFORWARD ..." before each MAIL
 * (Postfix resets it with each transaction): its logs name the real client;
 * its relay decisions do not change (XFORWARD is for logging only).
 *
 * When the parent offers neither, nothing changes: the probe's EHLO
 * reply answers the client's first EHLO (the parent already holds that
 * EHLO), so the parent sees one EHLO as before. A refused XCLIENT is an
 * error-log line; the session goes on as without it.
 */
#include "proxy/smtp/smtp_internal.h"

#include <stdlib.h>
#include <string.h>

static void drop_probe(struct smtp_session *s)
{
    free(s->probe_reply);
    s->probe_reply = NULL;
    s->probe_len = 0;
}

void smtp_xclient_free(struct smtp_session *s)
{
    drop_probe(s);
}

static void on_probe_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code == 421) {
        smtp_session_relay(s, r);
        smtp_end_session(s);
        return;
    }
    s->xoffer = smtp_xoffer_parse(r);
    if (r->code == 250 && (s->probe_reply = malloc(r->len)) != NULL) {
        memcpy(s->probe_reply, buf_rptr(&s->ps.server.in), r->len);
        s->probe_len = r->len;
    }
    if (s->xoffer.xclient)
        svclog_info(&s->ps.log, "parent offers XCLIENT: it is told each client's address");
    smtp_greet_client(s);
}

void smtp_xclient_probe(struct smtp_session *s)
{
    smtp_up_command(s, on_probe_reply, "EHLO %s", s->ps.w->res->hostname);
}

static struct smtp_xclient_facts facts(const struct smtp_session *s)
{
    const char *host = s->ps.client.host;
    bool named = host[0] && strcmp(host, s->ps.client.ip) != 0;
    return (struct smtp_xclient_facts){
        .addr = str_from_cstr(s->ps.client.ip),
        .name = named ? str_from_cstr(host) : STR_NULL,
        .port = s->ps.client.port,
        .esmtp = s->esmtp,
        .helo = str_from_cstr(s->helo),
        .login = str_from_cstr(s->auth_user),
    };
}

/* send_own_helo - after XCLIENT: HELO/EHLO with the client's own name. */
static void send_own_helo(struct smtp_session *s, smtp_reply_fn *cb)
{
    smtp_up_command(s, cb, "%s %s", s->esmtp ? "EHLO" : "HELO",
                    s->helo[0] ? s->helo : s->ps.w->res->hostname);
}

/* queue_xclient - the XCLIENT line with the attributes the parent offers
 * (mask limits them). false when there is nothing to send. */
static bool queue_xclient(struct smtp_session *s, unsigned mask, smtp_reply_fn *cb)
{
    struct smtp_xclient_facts f = facts(s);
    char mem[SMTP_XCLIENT_LINE_MAX + 8];
    struct buf line;
    buf_init(&line, mem, sizeof(mem));
    if (!smtp_xclient_format(&line, "XCLIENT", s->xoffer.xclient & mask, &f))
        return false;
    line.wpos -= 2; /* smtp_up_command adds the line end */
    smtp_up_command(s, cb, "%.*s", (int)buf_len(&line), buf_rptr(&line));
    return true;
}

static void on_xclient_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code == 220) {
        s->xclient_done = true;
        s->xclient_login = s->auth_user[0] && (s->xoffer.xclient & SMTP_XATTR_LOGIN);
        send_own_helo(s, smtp_on_helo_reply);
        return;
    }
    if (r->code == 421) {
        smtp_session_relay(s, r);
        smtp_end_session(s);
        return;
    }
    /* The parent offered XCLIENT and refused it: it goes on seeing the
     * gateway. Say so loudly; the session is as without xclient. */
    svclog_error(&s->ps.log, "XCLIENT refused by the parent (%s:%u): buf=[%u %.*s]",
                 s->ps.server.host, s->ps.server.port, r->code,
                 r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    s->xoffer.xclient = 0;
    smtp_up_command(s, smtp_on_helo_reply, "%s %s", s->esmtp ? "EHLO" : "HELO",
                    s->ps.w->res->hostname);
}

bool smtp_xclient_helo(struct smtp_session *s, struct str arg)
{
    s->esmtp = strcmp(s->verb, "EHLO") == 0;
    str_copy_view(s->helo, sizeof(s->helo), arg);
    if (s->xoffer.xclient && !s->xclient_done) {
        drop_probe(s); /* XCLIENT starts the parent's session anew */
        if (queue_xclient(s, SMTP_XATTR_NAME | SMTP_XATTR_ADDR | SMTP_XATTR_PORT |
                                 SMTP_XATTR_PROTO | SMTP_XATTR_HELO | SMTP_XATTR_LOGIN,
                          on_xclient_reply))
            return true;
    }
    if (s->probe_reply && s->esmtp) {
        /* The parent is in the state the probe's EHLO left it in: its
         * reply answers this EHLO. */
        struct smtp_reply r;
        char *raw = s->probe_reply;
        s->probe_reply = NULL;
        if (smtp_reply_parse(raw, s->probe_len, &r) == SMTP_DONE)
            smtp_helo_answer(s, &r, raw);
        else
            smtp_session_reply(s, 451, "4.3.0 Cannot read the server's EHLO reply");
        free(raw);
        s->probe_len = 0;
        s->dlg.busy = false; /* answered here: the next line is taken by the caller's loop */
        return true;
    }
    drop_probe(s);
    if (s->xclient_done) {
        send_own_helo(s, smtp_on_helo_reply);
        return true;
    }
    return false;
}

/* ---- XCLIENT LOGIN after SMTP AUTH -------------------------------------- */

static void on_login_helo_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250)
        svclog_error(&s->ps.log, "EHLO after XCLIENT LOGIN refused by the parent: buf=[%u %.*s]",
                     r->code, r->nlines ? (int)r->lines[0].len : 0,
                     r->nlines ? r->lines[0].ptr : "");
    void (*then)(struct smtp_session *) = s->after_login;
    s->after_login = NULL;
    then(s);
}

static void on_login_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code == 220) {
        s->xclient_login = true;
        send_own_helo(s, on_login_helo_reply);
        return;
    }
    svclog_error(&s->ps.log, "XCLIENT LOGIN refused by the parent: buf=[%u %.*s]", r->code,
                 r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    void (*then)(struct smtp_session *) = s->after_login;
    s->after_login = NULL;
    then(s);
}

void smtp_xclient_login(struct smtp_session *s, void (*then)(struct smtp_session *s))
{
    if (s->xclient_done && !s->xclient_login && (s->xoffer.xclient & SMTP_XATTR_LOGIN) &&
        s->auth_user[0]) {
        s->after_login = then;
        if (queue_xclient(s, SMTP_XATTR_LOGIN, on_login_reply))
            return;
        s->after_login = NULL;
    }
    then(s);
}

/* ---- XFORWARD ------------------------------------------------------------ */

bool smtp_xforward_before(struct smtp_session *s)
{
    /* A LAN client may send its own XFORWARD (issue 10): ours would
     * override what it said. */
    if (s->xclient_done || !s->xoffer.xforward || s->lan)
        return false;
    struct smtp_xclient_facts f = facts(s);
    f.login = STR_NULL;
    return smtp_xclient_format(&s->ps.server.out, "XFORWARD", s->xoffer.xforward, &f);
}

static void on_xforward_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250)
        svclog_error(&s->ps.log, "XFORWARD refused by the parent: buf=[%u %.*s]", r->code,
                     r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    s->on_reply = s->xforward_next; /* MAIL's reply comes next */
    s->xforward_next = NULL;
}

void smtp_xforward_after(struct smtp_session *s)
{
    s->xforward_next = s->on_reply;
    s->on_reply = on_xforward_reply;
}
