"""The SMTP proxy's remaining documented replies (responses.tsv smtp rows,
spec SMTP-3 ... SMTP-14, ACL-6, CONN-5, C-10, C-42, C-49, LOG-E12/E13),
against a scripted parent server (harness/smtp_parent.py): every reply of the parent is
chosen per test, and every command line and message the parent receives is
recorded, so the tests can assert what the client was told, what the parent
got, and what was logged.

The client side is a raw socket (exact reply lines are asserted); the
gateway is harness.Gateway with service="smtp"."""
import os
import re
import shutil
import socket
import threading
import time
import unittest
import urllib.parse

import harness
from harness import testfiles
from harness import smtp_parent
from harness.smtp_parent import (CLOSE, PRODUCT_RX, RCPT, SENDER, Client,  # noqa: F401
                                  ScriptedParent)

ENV = {}
AUTH_PLAIN = "AUTH PLAIN AGFsaWNlAHNlY3JldA=="  # \0alice\0secret


def setUpModule():
    wd = harness.Workdir("smtp-replies")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def clean_mail(rcpt=RCPT, msgid="m1@outside.example", body="Hello there.\r\n"):
    return ("From: %s\r\nTo: %s\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\n%s"
            % (SENDER, rcpt, msgid, body))


def eicar_mail(rcpt=RCPT, msgid="eicar@outside.example"):
    return ("From: %s\r\nTo: %s\r\nSubject: eicar\r\n"
            "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"eicar.com\"\r\n"
            "Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n%s\r\n--b1--\r\n"
            % (SENDER, rcpt, msgid, testfiles.EICAR.decode()))


# The scripted parent and the raw client: harness/smtp_parent.py.

class ParentCase(smtp_parent.ParentCase):
    ENV = ENV


# ---- SMTP-9 5: sendback, and its error replies (responses.tsv, C-10) --------

class TestSendbackReplies(ParentCase):
    # The sender's domain is local (sendback_any_sender=no, issue 10).
    SECTION = {"action": "sendback", "smtp_rcpt": "outside.example"}
    COMMON = {"admin_mailaddr": "postmaster@gw.test,second@gw.test"}

    def refused(self, step, **script):
        self.parent.reset(**script)
        c = self.client()
        c.envelope(self)
        reply = c.message(eicar_mail())
        self.assertGenerated(
            reply, "554 SENDBACK:smtp error[%s] (Server Reply: 550 5.7.1 no thanks)" % step)
        # LOG-E12 with the action keyword (C-49).
        self.error_line("smtp_data_cmd_senddata:SENDBACK:smtp error:%s: buf=[550 5.7.1 no thanks]"
                        % step)
        self.assertEqual(self.parent.all_messages(), [])
        self.assertNotIn("DATA", self.parent.all_commands())
        return c

    def test_sendback_rset_refused(self):
        # A server that refuses RSET refuses every RSET of the session.
        self.refused("RSET", RSET="550 5.7.1 no thanks")

    def test_sendback_rset_refused_once(self):
        # Only the first RSET (the one before the notification) is refused.
        self.refused("RSET", RSET=lambda line, n: "550 5.7.1 no thanks" if n == 1 else None)

    def test_sendback_mail_from_refused(self):
        # The first MAIL is the client's; the second is the notification's.
        self.refused("MAIL FROM",
                     MAIL=lambda line, n: "550 5.7.1 no thanks" if n == 2 else None)
        cmds = self.parent.all_commands()
        self.assertIn("MAIL FROM:<postmaster@gw.test>", cmds)

    def test_sendback_rcpt_to_refused(self):
        self.refused("RCPT TO",
                     RCPT=lambda line, n: "550 5.7.1 no thanks" if n == 2 else None)
        self.assertEqual([c for c in self.parent.all_commands() if c.startswith("RCPT")],
                         ["RCPT TO:<%s>" % RCPT, "RCPT TO:<%s>" % SENDER])

    def test_sendback_notification_envelope_and_final_reply(self):
        self.parent.reset(DOT="250 2.0.0 queued as SB1")
        c = self.client()
        c.envelope(self)
        reply = c.message(eicar_mail(msgid="sb-ok@outside.example"))
        # The parent's final reply about the notification, relayed unchanged.
        self.assertEqual(reply, "250 2.0.0 queued as SB1")
        self.assertEqual(self.parent.all_commands(), [
            "EHLO gw.test",
            "MAIL FROM:<%s>" % SENDER,
            "RCPT TO:<%s>" % RCPT,
            "RSET",
            "MAIL FROM:<postmaster@gw.test>",  # no From: in the template: first admin_mailaddr
            "RCPT TO:<%s>" % SENDER,
            "DATA",
        ])
        msgs = self.parent.all_messages()
        self.assertEqual(len(msgs), 1)
        note = msgs[0][0].decode()
        self.assertNotIn(testfiles.EICAR.decode(), note)
        self.assertIn("\r\nTo: %s\r\n" % SENDER, note)
        self.assertIn("\r\nFrom: postmaster@gw.test\r\n", note)
        # SMTP-14: the per-mail info line of a detection.
        line = self.gw.wait_log("info", r"Message-Id: <sb-ok@outside\.example>")[-1]
        self.assertRegex(line, r" Infected: 1 VirusName: Eicar\S*$")
        # The session goes on.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")


class TestSendbackTemplateFrom(ParentCase):
    # The sender's domain is local (sendback_any_sender=no, issue 10).
    SECTION = {"action": "sendback", "smtp_rcpt": "outside.example"}
    COMMON = {"admin_mailaddr": "postmaster@gw.test"}
    TEMPLATE_FROM = "From: Virus Gate <virusgate@gw.test>"

    def test_sendback_envelope_sender_from_the_template(self):
        c = self.client()
        c.envelope(self)
        self.assertEqual(c.message(eicar_mail()), "250 2.0.0 queued")
        cmds = self.parent.all_commands()
        self.assertEqual(cmds[3:], ["RSET", "MAIL FROM:<virusgate@gw.test>",
                                    "RCPT TO:<%s>" % SENDER, "DATA"])
        note = self.parent.all_messages()[0][0].decode()
        self.assertIn("\r\nFrom: Virus Gate <virusgate@gw.test>\r\n", note)
        self.assertNotIn("From: postmaster@gw.test", note)


# ---- C-42: a refused notification (sendback and delete) ----------------------
# The server's reply to the notification is relayed as it came and the
# session goes on; it ends only on 421 or when the server closes. The
# infected mail itself is never delivered either way.

class NotificationRefusedMixin:
    RCPT_ADDR = None

    def next_mail_goes_through(self, c, msgid):
        """The session is usable: a clean mail is delivered after the refusal."""
        self.assertTrue(c.cmd("MAIL FROM:<%s>" % SENDER).startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<%s>" % RCPT).startswith("250"))
        self.assertRegex(c.cmd("DATA"), r"^354 ")
        self.assertEqual(c.message(clean_mail(msgid=msgid)), "250 2.0.0 queued")
        msgs = self.parent.all_messages()
        self.assertIn(("Message-ID: <%s>" % msgid).encode(), msgs[-1][0])

    def data_refused(self, reply_text, msgid):
        self.parent.reset(DATA=lambda line, n: reply_text if n == 1 else None)
        c = self.client()
        c.envelope(self, rcpts=(self.RCPT_ADDR,))
        reply = c.message(eicar_mail(rcpt=self.RCPT_ADDR))
        self.assertEqual(reply, reply_text)
        self.error_line("smtp_data_cmd_senddata:%s:smtp error:DATA: buf=[%s]"
                        % (self.ACTION, reply_text))
        # The transaction left open upstream is reset before the reply.
        cmds = self.parent.all_commands()
        self.assertEqual(cmds[cmds.index("DATA") + 1], "RSET")
        line = self.access_line(self.RCPT_ADDR)
        self.assertIn("ACTION:%s:" % self.ACTION, line)
        self.assertEqual(self.proxy_error(line), "SERVER/ERROR Reply(DATA): buf=[%s]" % reply_text)
        self.assertEqual(self.parent.all_messages(), [])
        self.next_mail_goes_through(c, msgid)

    def test_c42_notification_data_refused_relayed(self):
        self.data_refused("554 5.7.1 no notifications", "c42-after-554@outside.example")

    def test_c42_notification_data_deferred_relayed(self):
        self.data_refused("451 4.3.0 try later", "c42-after-451@outside.example")

    def test_c42_notification_end_refused_relayed(self):
        self.parent.reset(DOT=lambda line, n: "550 5.6.0 notification refused" if n == 1
                          else None)
        c = self.client()
        c.envelope(self, rcpts=(self.RCPT_ADDR,))
        self.assertEqual(c.message(eicar_mail(rcpt=self.RCPT_ADDR)),
                         "550 5.6.0 notification refused")
        self.error_line("smtp_data_cmd_senddata:%s:smtp error:DATA END: "
                        "buf=[550 5.6.0 notification refused]" % self.ACTION)
        msgs = self.parent.all_messages()
        self.assertEqual(len(msgs), 1)  # the notification, refused
        self.assertNotIn(testfiles.EICAR, msgs[0][0])
        self.next_mail_goes_through(c, "c42-after-dot@outside.example")

    def test_c42_notification_421_ends_the_session(self):
        self.parent.reset(DOT=("421 4.3.2 shutting down", CLOSE))
        c = self.client()
        c.envelope(self, rcpts=(self.RCPT_ADDR,))
        self.assertEqual(c.message(eicar_mail(rcpt=self.RCPT_ADDR)), "421 4.3.2 shutting down")
        self.assertEqual(c.wait_closed(), b"")


class TestDeleteNotificationRefused(NotificationRefusedMixin, ParentCase):
    SECTION = {"action": "delete"}
    ACTION = "DELETE"
    RCPT_ADDR = "del@local.example"


class TestSendbackNotificationRefused(NotificationRefusedMixin, ParentCase):
    # The sender's domain is local (sendback_any_sender=no, issue 10).
    SECTION = {"action": "sendback", "smtp_rcpt": "outside.example"}
    COMMON = {"admin_mailaddr": "postmaster@gw.test"}
    ACTION = "SENDBACK"
    RCPT_ADDR = "sb@local.example"


# ---- SMTP-9 5: deny and blackhole, the RSET refused ---------------------------

class CancelRefusedMixin:
    def test_rset_refused_ends_the_session(self):
        self.parent.reset(RSET="554 5.5.1 will not reset")
        c = self.client()
        c.envelope(self)
        reply = c.message(eicar_mail())
        # SMTP-9 5: "if the reply is not 250 end session": neither the
        # action's reply nor a positive one, a temporary failure, then closed.
        self.assertRegex(reply, r"^421 .* " + PRODUCT_RX + "$")
        c.wait_closed()
        self.assertEqual(self.parent.all_messages(), [])
        self.assertEqual(self.parent.all_commands()[-1], "RSET")
        self.assertNotIn("DATA", self.parent.all_commands())


class TestDenyRsetRefused(CancelRefusedMixin, ParentCase):
    SECTION = {"action": "deny"}


class TestBlackholeRsetRefused(CancelRefusedMixin, ParentCase):
    SECTION = {"action": "blackhole"}


# ---- the dialogue: HELO/EHLO, AUTH, RCPT/MAIL refusals, DATA, logs -------------

class TestDialogueReplies(ParentCase):
    # xclient=no: the parent closes on HELO/EHLO, and with xclient=yes it
    # would close on the gateway's own EHLO after its greeting instead.
    SECTION = {"action": "deny", "xclient": "no"}

    # SMTP-5, responses.tsv "421 <HELO|EHLO> disconnected from (<host>:<port>)"
    def helo_closed(self, verb):
        self.parent.reset(**{verb: CLOSE})
        c = self.client()
        reply = c.cmd("%s client.test" % verb)
        self.assertGenerated(reply, "421 %s disconnected from (127.0.0.1:%d)"
                             % (verb, self.parent.port))
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands(), ["%s gw.test" % verb])

    def test_smtp5_server_closes_on_helo(self):
        self.helo_closed("HELO")

    def test_smtp5_server_closes_on_ehlo(self):
        self.helo_closed("EHLO")

    # SMTP-8 with proxymail_auth=no: the AUTH exchange is relayed.
    def test_smtp8_server_closes_on_auth(self):
        self.parent.reset(AUTH=CLOSE)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertGenerated(c.cmd(AUTH_PLAIN), "500 disconnected from server(AUTH).")
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands()[-1], AUTH_PLAIN)

    def test_smtp8_server_closes_during_auth_login(self):
        self.parent.reset(AUTH="334 ", AUTH_DATA=CLOSE)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 ")
        self.assertGenerated(c.cmd("YWxpY2U="), "500 disconnected from server(AUTH).")
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands()[-2:], ["AUTH LOGIN", "YWxpY2U="])

    def test_smtp8_auth_success_relayed(self):
        self.parent.reset(AUTH="235 2.7.0 Authentication successful")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd(AUTH_PLAIN), "235 2.7.0 Authentication successful")
        self.assertEqual(self.parent.all_commands(), ["EHLO gw.test", AUTH_PLAIN])
        # Back to commands: the next one is relayed as a command.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")

    def test_smtp8_auth_login_exchange_relayed(self):
        self.parent.reset(AUTH="334 VXNlcm5hbWU6",
                          AUTH_DATA=lambda line, n: "334 UGFzc3dvcmQ6" if n == 1
                          else "235 2.7.0 ok")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd("YWxpY2U="), "334 UGFzc3dvcmQ6")
        self.assertEqual(c.cmd("c2VjcmV0"), "235 2.7.0 ok")
        self.assertEqual(self.parent.all_commands()[1:],
                         ["AUTH LOGIN", "YWxpY2U=", "c2VjcmV0"])
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")

    def test_smtp8_unexpected_auth_reply_relayed_and_logged(self):
        self.parent.reset(AUTH="454 try later")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd(AUTH_PLAIN), "454 try later")
        self.error_line("smtp_data_cmd_itr:AUTH buf=[454 try later]")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")  # not stuck in the exchange

    # SMTP-7 3 / C-42: a refused recipient is relayed, the session goes on.
    def test_c42_rcpt_refusal_relayed_session_goes_on(self):
        self.parent.reset(RCPT=lambda line, n: "450 4.2.0 busy" if n == 1 else None,
                          DOT="250 2.0.0 queued as C42")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<busy@local.example>"), "450 4.2.0 busy")
        self.gw.wait_log("info", r"\] ERROR Reply\(RCPT\): buf=\[450 4\.2\.0 busy\]$")
        self.assertEqual(c.cmd("RCPT TO:<ok@local.example>"), "250 2.1.5 recipient ok")
        self.assertRegex(c.cmd("DATA"), r"^354 Enter mail " + PRODUCT_RX + "$")
        self.assertEqual(c.message(clean_mail(rcpt="ok@local.example", msgid="c42@x.example")),
                         "250 2.0.0 queued as C42")
        self.assertEqual(len(self.parent.all_messages()), 1)
        self.assertEqual([x for x in self.parent.all_commands() if x.startswith("RCPT")],
                         ["RCPT TO:<busy@local.example>", "RCPT TO:<ok@local.example>"])
        # Only the accepted recipient is the mail's (SMTP-7 4, SMTP-14).
        line = self.gw.wait_log("access", r"c42@x\.example")[-1]
        self.assertIn(" GET mail:ok@local.example ", line)
        info = self.gw.wait_log("info", r"Message-Id: <c42@x\.example>")[-1]
        self.assertIn(":%d(ok@local.example) Message-Id:" % self.parent.port, info)

    def test_c42_rcpt_421_ends_the_session(self):
        self.parent.reset(RCPT=("421 4.3.2 closing down", CLOSE))
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % RCPT), "421 4.3.2 closing down")
        self.assertEqual(c.wait_closed(), b"")

    # SMTP-6: a refused MAIL is relayed; the session goes on.
    def test_smtp6_mail_refusal_relayed_session_goes_on(self):
        self.parent.reset(MAIL=lambda line, n: "550 5.7.1 sender refused" if n == 1 else None)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<bad@outside.example>"), "550 5.7.1 sender refused")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % RCPT), "250 2.1.5 recipient ok")
        self.assertRegex(c.cmd("DATA"), r"^354 ")
        self.assertEqual(c.message(clean_mail(msgid="after-refusal@x.example")),
                         "250 2.0.0 queued")
        self.assertEqual(len(self.parent.all_messages()), 1)

    def test_smtp6_mail_refusal_logged_as_proxy_error(self):
        # SMTP-6: "Error reply from the server is logged as PROXY-ERROR
        # SERVER/ERROR Reply(MAIL): buf=[<reply>]" -- in the access log, the
        # only log with a PROXY-ERROR field; at the latest when the session ends.
        self.parent.reset(MAIL="550 5.7.1 sender refused")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<refused@outside.example>"),
                         "550 5.7.1 sender refused")
        c.cmd("QUIT")
        c.wait_closed()
        want = "SERVER/ERROR Reply(MAIL): buf=[550 5.7.1 sender refused]"
        harness.wait_for(
            lambda: [l for l in self.gw.log_lines("access") if self.proxy_error(l) == want],
            3, what="an access.log record with PROXY-ERROR %r (access.log: %r)"
            % (want, self.gw.log_lines("access")[-3:]))
        # LOG-4: and the info line of the server's error reply.
        self.gw.wait_log("info", r"\] ERROR Reply\(MAIL\): buf=\[550 5\.7\.1 sender refused\]$")

    # SMTP-9 6: the parent refuses the DATA, or the message.
    def test_smtp9_data_refused_relayed(self):
        self.parent.reset(DATA="451 4.3.0 no")
        c = self.client()
        c.envelope(self, rcpts=("datano@local.example",))
        self.assertEqual(c.message(clean_mail(rcpt="datano@local.example")), "451 4.3.0 no")
        self.assertEqual(self.parent.all_messages(), [])
        self.assertEqual(self.parent.all_commands()[-1], "DATA")
        self.gw.wait_log("info", r"\] ERROR Reply\(DATA\) url=\[mail:datano@local\.example\] "
                                 r"buf=\[451 4\.3\.0 no\]$")
        line = self.access_line("datano@local.example")
        self.assertTrue(self.proxy_error(line), line)
        self.assertIn("451 4.3.0 no", self.proxy_error(line))
        self.assertIn(" TCP_MISS/500 ", line)
        # The session goes on.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")

    def test_smtp9_final_dot_refused_relayed(self):
        self.parent.reset(DOT="554 5.7.1 rejected")
        c = self.client()
        c.envelope(self, rcpts=("dotno@local.example",))
        self.assertEqual(c.message(clean_mail(rcpt="dotno@local.example")), "554 5.7.1 rejected")
        msgs = self.parent.all_messages()
        self.assertEqual(len(msgs), 1)  # received, and refused by the parent
        self.assertEqual(msgs[0][1], "554 5.7.1 rejected")
        self.gw.wait_log("info", r"\] ERROR Reply\(DATAEND\): url=\[mail:dotno@local\.example\] "
                                 r"buf=\[554 5\.7\.1 rejected\]$")
        line = self.access_line("dotno@local.example")
        self.assertTrue(self.proxy_error(line), line)
        self.assertIn("554 5.7.1 rejected", self.proxy_error(line))
        self.assertIn(" TCP_MISS/500 ", line)

    # SMTP-14: the info line of every mail.
    def test_smtp14_info_line_clean(self):
        c = self.client()
        c.envelope(self, rcpts=("info-clean@local.example",))
        self.assertEqual(c.message(clean_mail(rcpt="info-clean@local.example",
                                              msgid="info-clean@outside.example")),
                         "250 2.0.0 queued")
        line = self.gw.wait_log("info", r"Message-Id: <info-clean@outside\.example>")[-1]
        self.assertRegex(line, r"\] From: 127\.0\.0\.1:%d\(%s\) To: 127\.0\.0\.1:%d\("
                         r"info-clean@local\.example\) Message-Id: <info-clean@outside\.example> "
                         r"Infected: 0 VirusName: -?$"
                         % (c.local_port, re.escape(SENDER), self.parent.port))

    def test_smtp14_info_line_infected_denied(self):
        c = self.client()
        c.envelope(self, rcpts=("info-virus@local.example",))
        reply = c.message(eicar_mail(rcpt="info-virus@local.example",
                                     msgid="info-virus@outside.example"))
        m = re.match(r"^554 Infected by (\S+) " + PRODUCT_RX + "$", reply)
        self.assertTrue(m, reply)
        line = self.gw.wait_log("info", r"Message-Id: <info-virus@outside\.example>", 3)[-1]
        self.assertRegex(line, r"\] From: 127\.0\.0\.1:%d\(%s\) To: 127\.0\.0\.1:%d\("
                         r"info-virus@local\.example\) Message-Id: <info-virus@outside\.example> "
                         r"Infected: 1 VirusName: %s$"
                         % (c.local_port, re.escape(SENDER), self.parent.port,
                            re.escape(m.group(1))))


# ---- ACL-6 / CONN-5: acl_to and hosts.allow smtp_to ------------------------------

class TestAclToDenied(ParentCase):
    SECTION = {"acl_to": "yes"}
    HOSTS_ALLOW = "smtp_to: 127.0.0.2\n"

    def test_acl6_server_not_allowed(self):
        c = Client(self.gw.port)
        self.addCleanup(c.close)
        port = self.parent.port
        self.assertGenerated(
            c.greeting, "421 server open error(127.0.0.1:%d) errmsg=[CONNECT(127.0.0.1:%d)/"
            "Access Inhibited by Proxy(SEKISHO)]" % (port, port))
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"\] Access Denied to \[127\.0\.0\.1:127\.0\.0\.1\]$")
        time.sleep(0.3 * harness.SLOW)
        self.assertEqual(self.parent.all_commands(), [])

    def test_acl6_server_not_contacted(self):
        # ACL-6: "destination not contacted" -- not even a TCP connection.
        c = Client(self.gw.port)
        self.addCleanup(c.close)
        self.assertTrue(c.greeting.startswith("421 server open error"), c.greeting)
        c.wait_closed()
        time.sleep(0.5 * harness.SLOW)
        self.assertEqual(self.parent.accepted, 0,
                         "the denied parent was connected to (TCP) %d time(s)"
                         % self.parent.accepted)


class TestAclToAllowed(ParentCase):
    SECTION = {"acl_to": "yes"}
    HOSTS_ALLOW = "smtp_to: 127.0.0.1\n"

    def test_acl6_allowed_server_gets_the_mail(self):
        c = self.client()
        c.envelope(self)
        self.assertEqual(c.message(clean_mail(msgid="aclto@outside.example")),
                         "250 2.0.0 queued")
        msgs = self.parent.all_messages()
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Message-ID: <aclto@outside.example>", msgs[0][0])
        self.assertNotIn("Access Denied to", self.gw.log_text("info"))


if __name__ == "__main__":
    unittest.main()
