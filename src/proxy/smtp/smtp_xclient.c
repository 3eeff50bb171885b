/* smtp_xclient - the real client for the parent (issue 13, item 6).
 *
 * Behind the gateway, a parent sees every client at the gateway's
 * address. A parent that trusts it (Postfix's mynetworks) relays for
 * anyone the gateway lets through; its HELO, client and RBL checks see
 * the gateway. With xclient=yes (the default) the proxy asks the parent
 * what it offers (EHLO right after the parent's greeting, before ours to
 * the client). When the parent offers XCLIENT to the gateway (Postfix:
 * smtpd_authorized_xclient_hosts), the first MAIL of the session is
 * preceded by
 *
 *   XCLIENT NAME=<name> ADDR=<address> PORT=<port> PROTO=<SMTP|ESMTP>
 *           HELO=<helo> [LOGIN=<user>]            (one command: Postfix
 *                     checks a second XCLIENT against the new address)
 *   -> 220 (the parent starts the session anew, now as the real client)
 *   <HELO|EHLO> <the client's own name> -> 250   (its HELO rules apply)
 *   MAIL FROM:...
 *
 * It waits for the first MAIL because only then is it known whether the
 * client authenticated (SMTP AUTH at the proxy: LOGIN=<user>; POP-before-
 * SMTP: LOGIN=pop-before-smtp), which the parent's
 * permit_sasl_authenticated needs to let it relay as the gateway did. A
 * parent that refuses XCLIENT would go on seeing the gateway, which it
 * may trust: the session ends with 421 instead (fail closed), and the
 * error log says why.
 *
 * A parent that offers only XFORWARD gets "XFORWARD ..." before each MAIL
 * (Postfix forgets it with each transaction): its logs name the real
 * client; its relay decisions do not change (XFORWARD is for logging).
 *
 * When the parent offers neither, nothing changes: the probe's EHLO reply
 * answers the client's first EHLO (the parent already holds that EHLO),
 * so the parent sees one EHLO as before.
 */
#include "proxy/smtp/smtp_internal.h"

#include <stdlib.h>
#include <string.h>

#include "proxy/proxy_pbs.h"

static void drop_probe(struct smtp_session *s)
{
    free(s->probe_reply);
    s->probe_reply = NULL;
    s->probe_len = 0;
}

void smtp_xclient_free(struct smtp_session *s)
{
    drop_probe(s);
    free(s->held_mail);
    s->held_mail = NULL;
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
    smtp_up_command(s, cb, "%s %s", s->esmtp ? "EHLO" : "HELO", s->helo);
}

bool smtp_xclient_helo(struct smtp_session *s, struct str arg)
{
    s->esmtp = strcmp(s->verb, "EHLO") == 0;
    str_copy_view(s->helo, sizeof(s->helo), arg);
    if (s->probe_reply && s->esmtp && !s->xclient_done) {
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
    if (s->xclient_done && s->helo[0]) {
        send_own_helo(s, smtp_on_helo_reply);
        return true;
    }
    return false;
}

/* ---- XCLIENT before the first MAIL --------------------------------------- */

static void xclient_failed(struct smtp_session *s, const char *what, const struct smtp_reply *r)
{
    svclog_error(&s->ps.log,
                 "%s refused by the parent (%s:%u): buf=[%u %.*s]; session ended (the parent "
                 "would see the gateway's address)",
                 what, s->ps.server.host, s->ps.server.port, r->code,
                 r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    free(s->held_mail);
    s->held_mail = NULL;
    smtp_session_reply(s, 421, "4.7.0 Cannot pass the client to the mail server (%s:%u)",
                       s->ps.server.host, s->ps.server.port);
    smtp_end_session(s);
}

static void send_held_mail(struct smtp_session *s)
{
    char *line = s->held_mail;
    s->held_mail = NULL;
    smtp_up_command(s, s->mail_cb, "%s", line ? line : "");
    free(line);
}

static void on_xclient_helo_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250) {
        xclient_failed(s, s->esmtp ? "EHLO after XCLIENT" : "HELO after XCLIENT", r);
        return;
    }
    send_held_mail(s);
}

static void on_xclient_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 220 && r->code != 250) { /* 220 (Postfix), 250 (older smtp-sink) */
        xclient_failed(s, "XCLIENT", r);
        return;
    }
    s->xclient_done = true;
    svclog_info(&s->ps.log, "XCLIENT: the parent was told client [%s]%s%s", s->ps.client.ip,
                s->xclient_login[0] ? " login " : "", s->xclient_login);
    if (s->helo[0])
        send_own_helo(s, on_xclient_helo_reply);
    else
        send_held_mail(s); /* no HELO to repeat: the parent takes MAIL after XCLIENT */
}

static bool start_xclient(struct smtp_session *s, struct str line, smtp_reply_fn *cb)
{
    struct smtp_xclient_facts f = facts(s);
    if (!f.login.len && s->ps.cfg->pbs && proxy_pbs_valid(s->ps.cfg, s->ps.client.ip))
        f.login = STR_LIT("pop-before-smtp"); /* AUTH-7: the gateway vouches for it */
    str_copy_view(s->xclient_login, sizeof(s->xclient_login),
                  (s->xoffer.xclient & SMTP_XATTR_LOGIN) ? f.login : STR_NULL);
    char mem[SMTP_XCLIENT_LINE_MAX + 8];
    struct buf x;
    buf_init(&x, mem, sizeof(mem));
    if (!smtp_xclient_format(&x, "XCLIENT", s->xoffer.xclient, &f))
        return false;
    s->held_mail = strndup(line.ptr, line.len);
    if (!s->held_mail) {
        smtp_session_reply(s, 451, "4.3.0 Out of memory");
        s->dlg.busy = false;
        return true;
    }
    s->mail_cb = cb;
    x.wpos -= 2; /* smtp_up_command adds the line end */
    smtp_up_command(s, on_xclient_reply, "%.*s", (int)buf_len(&x), buf_rptr(&x));
    return true;
}

/* ---- XFORWARD ------------------------------------------------------------ */

static void on_xforward_reply(struct smtp_session *s, const struct smtp_reply *r)
{
    if (r->code != 250)
        svclog_error(&s->ps.log, "XFORWARD refused by the parent: buf=[%u %.*s]", r->code,
                     r->nlines ? (int)r->lines[0].len : 0, r->nlines ? r->lines[0].ptr : "");
    s->on_reply = s->mail_cb; /* MAIL's reply comes next */
}

bool smtp_xclient_mail(struct smtp_session *s, struct str line, smtp_reply_fn *cb)
{
    /* Without ADDR the parent would still see the gateway's address:
     * such an XCLIENT is not worth the round trips. */
    if ((s->xoffer.xclient & SMTP_XATTR_ADDR) && !s->xclient_done)
        return start_xclient(s, line, cb);
    /* A LAN client may send its own XFORWARD (issue 10): ours would
     * override what it said. */
    if (s->xclient_done || !s->xoffer.xforward || s->lan)
        return false;
    struct smtp_xclient_facts f = facts(s);
    f.login = STR_NULL;
    if (!smtp_xclient_format(&s->ps.server.out, "XFORWARD", s->xoffer.xforward, &f))
        return false;
    s->mail_cb = cb;
    smtp_up_command(s, on_xforward_reply, "%.*s", (int)line.len, line.ptr);
    return true;
}
