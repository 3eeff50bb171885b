"""Hostile SMTP clients (issue 10): attacks on the acceptance setup,
replayed against the gateway in front of the scripted parent
(harness/smtp_parent.py), which records every command and message it
received. Each test asserts what the client, the parent and the logs saw."""
import itertools
import os
import re
import threading
import time
import unittest

import harness
from harness import smtp_parent
from harness import testfiles
from harness.fake_scanner import HungScanner
from harness.smtp_parent import PRODUCT_RX, RCPT, SENDER

ENV = {}


def setUpModule():
    wd = harness.Workdir("smtp-hostile")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


SPOOFED = "ceo@local.example"
LINE_ENDS = {"CRLF": b"\r\n", "LF": b"\n", "CR": b"\r"}


def smuggling_payload(before, after):
    """A message whose first "end" is <before>.<after>; behind it a second
    transaction from a spoofed sender, ended by the real <CR><LF>.<CR><LF>."""
    return (b"From: " + SENDER.encode() + b"\r\nSubject: visible\r\n\r\nhello" + before + b"." +
            after + b"MAIL FROM:<" + SPOOFED.encode() + b">\r\nRCPT TO:<" + RCPT.encode() +
            b">\r\nDATA\r\nFrom: " + SPOOFED.encode() + b"\r\nSubject: smuggled\r\n\r\n"
            b"pay the invoice\r\n.\r\n")


def bare_kind(data):
    """What the gateway must name: <LF> when there is a bare LF, else <CR>."""
    if re.search(rb"(?<!\r)\n", data):
        return "LF"
    return "CR"


class TestSmtpSmuggling(smtp_parent.ParentCase):
    """Only <CR><LF>.<CR><LF> ends DATA (RFC 5321 2.3.8, SMTP-9); a message
    with a bare CR or LF is read to its real end and refused with 550 5.5.2;
    the parent never sees it, and never the smuggled second mail."""
    ENV = ENV

    def assert_refused_nothing_smuggled(self, c, data, pipelined):
        reply = c.reply()
        self.assertRegex(reply, r"^550 5\.5\.2 Error: bare <%s> received %s$"
                         % (bare_kind(data), PRODUCT_RX))
        if pipelined:
            self.assertRegex(c.reply(), r"^250 ")  # the NOOP after the message
        # The session goes on: a clean mail is delivered, once.
        c.envelope(self)
        self.assertRegex(c.message("Subject: after\r\n\r\nclean\r\n"), r"^250 2\.0\.0 queued$")
        self.assertRegex(c.cmd("QUIT"), r"^221 ")
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1, messages)
        self.assertIn(b"Subject: after", messages[0][0])
        commands = self.parent.all_commands()
        self.assertFalse([x for x in commands if SPOOFED in x], commands)
        self.assertEqual(len([x for x in commands if x.upper().startswith("MAIL")]), 2, commands)
        self.gw.wait_log("info", r"bare <%s> received in DATA: mail from \[%s\] refused"
                         % (bare_kind(data), re.escape(SENDER)))

    def run_variant(self, before, after, pipelined):
        self.parent.reset()
        data = smuggling_payload(before, after)
        with self.subTest(before=before, after=after, pipelined=pipelined):
            c = self.client()
            if pipelined:
                c.send(b"EHLO client.test\r\nMAIL FROM:<" + SENDER.encode() + b">\r\nRCPT TO:<" +
                       RCPT.encode() + b">\r\nDATA\r\n" + data + b"NOOP\r\n")
                for _ in range(4):
                    self.assertRegex(c.reply(), r"^(250|354)[ -]")
            else:
                c.envelope(self)
                c.send(data)
            self.assert_refused_nothing_smuggled(c, data, pipelined)

    def test_every_end_but_crlf_dot_crlf_is_data(self):
        for (bn, before), (an, after) in itertools.product(LINE_ENDS.items(), repeat=2):
            if bn == "CRLF" and an == "CRLF":
                continue
            for pipelined in (False, True):
                self.run_variant(before, after, pipelined)

    def test_bare_lf_or_cr_inside_a_line(self):
        for inside in (b"\n", b"\r", b"\r\r\n", b"\n\r"):
            for pipelined in (False, True):
                self.parent.reset()
                data = b"Subject: x\r\n\r\nhel" + inside + b"lo\r\n.\r\n"
                with self.subTest(inside=inside, pipelined=pipelined):
                    c = self.client()
                    if pipelined:
                        c.send(b"EHLO client.test\r\nMAIL FROM:<" + SENDER.encode() +
                               b">\r\nRCPT TO:<" + RCPT.encode() + b">\r\nDATA\r\n" + data +
                               b"NOOP\r\n")
                        for _ in range(4):
                            self.assertRegex(c.reply(), r"^(250|354)[ -]")
                    else:
                        c.envelope(self)
                        c.send(data)
                    self.assert_refused_nothing_smuggled(c, data, pipelined)

    def test_crlf_mail_is_delivered_unchanged(self):
        c = self.client()
        c.envelope(self)
        body = "Subject: ok\r\n\r\n.leading dot\r\nline\r\n"
        self.assertRegex(c.message(body), r"^250 2\.0\.0 queued$")
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1)
        self.assertTrue(messages[0][0].endswith(body.encode()), messages[0][0])


# ---- item 2: sendback only to local senders (sendback_any_sender) -----------

VICTIM = "victim@foreign.example"
ATTACK_LINES = 200


def eicar_mail(header_lines=ATTACK_LINES):
    """An infected mail whose header carries many attacker-chosen lines."""
    attack = "".join("X-Attack-%03d: buy cheap pills at http://spam.example/%d\r\n" % (i, i)
                     for i in range(header_lines))
    return ("From: %s\r\nTo: %s\r\nSubject: eicar\r\nMessage-ID: <ev@foreign.example>\r\n%s"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"eicar.com\"\r\n"
            "Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n%s\r\n--b1--\r\n"
            % (VICTIM, RCPT, attack, testfiles.EICAR.decode()))


class SendbackCase(smtp_parent.ParentCase):
    ENV = ENV
    COMMON = {"admin_mailaddr": "postmaster@gw.test"}

    def send_infected(self, sender):
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        self.assertRegex(c.cmd("MAIL FROM:<%s>" % sender), r"^250")
        self.assertRegex(c.cmd("RCPT TO:<%s>" % RCPT), r"^250")
        self.assertRegex(c.cmd("DATA"), r"^354 ")
        reply = c.message(eicar_mail())
        self.assertRegex(c.cmd("QUIT"), r"^221 ")
        return reply

    def assert_denied_not_notified(self, sender):
        reply = self.send_infected(sender)
        self.assertRegex(reply, r"^554 Infected by Eicar\S* " + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_messages(), [])
        commands = self.parent.all_commands()
        self.assertFalse([x for x in commands if "foreign" in x and x.startswith("RCPT")],
                         commands)
        self.gw.wait_log("info", r"sendback: sender \[%s\] is not local \(smtp_rcpt\) and the "
                         r"client not LAN: denied instead" % re.escape(sender))
        self.assertIn("ACTION:DENY:", self.gw.wait_log("detect", r"INFECTED")[-1])

    def assert_notified(self, sender):
        reply = self.send_infected(sender)
        self.assertRegex(reply, r"^250 2\.0\.0 queued$")
        self.assertIn("RCPT TO:<%s>" % sender, self.parent.all_commands())
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1, messages)
        note = messages[0][0]
        self.assertNotIn(testfiles.EICAR, note)
        # #{HEADER}: bounded to 64 whole lines of the original header.
        copied = re.findall(rb"X-Attack-\d+: [^\r\n]*\r\n", note)
        self.assertGreater(len(copied), 0)
        self.assertLessEqual(len(copied), 64)
        self.assertNotIn(b"X-Attack-%03d" % (ATTACK_LINES - 1), note)
        return note


class TestSendbackForeignSender(SendbackCase):
    SECTION = {"action": "sendback", "smtp_rcpt": "local.example"}

    def test_foreign_sender_is_denied_not_notified(self):
        self.assert_denied_not_notified(VICTIM)

    def test_source_routed_sender_is_denied_not_notified(self):
        self.assert_denied_not_notified("@local.example:" + VICTIM)

    def test_percent_hack_sender_is_denied_not_notified(self):
        self.assert_denied_not_notified("victim%foreign.example@local.example")

    def test_local_sender_is_notified_header_bounded(self):
        self.assert_notified("boss@local.example")


class TestSendbackLanClient(SendbackCase):
    SECTION = {"action": "deny", "lan": "yes", "lan_action": "sendback"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_lan_client_notifies_any_sender(self):
        self.assert_notified(VICTIM)


class TestSendbackAnySender(SendbackCase):
    SECTION = {"action": "sendback", "sendback_any_sender": "yes"}

    def test_sendback_any_sender_restores_the_guide(self):
        self.assert_notified(VICTIM)


# ---- item 3: XFORWARD / XCLIENT only from LAN clients --------------------------

PARENT_EHLO = ("250-parent.test\r\n250-XFORWARD NAME ADDR PROTO HELO SOURCE\r\n"
               "250-XCLIENT NAME ADDR PROTO HELO\r\n250-SIZE 10240000\r\n250 8BITMIME")


class TestXforwardFromOutside(smtp_parent.ParentCase):
    """SMTP-10 relayed XFORWARD, so any client could set the address and
    name the parent logs and trusts for the gateway's session."""
    ENV = ENV

    def setUp(self):
        self.parent.reset(EHLO=PARENT_EHLO, **{"*": "250 2.0.0 Ok"})

    def assert_only_the_gateways_xclient(self):
        """What the client claimed never reached the parent; the parent
        offers XCLIENT, so the gateway told it the real client itself
        (xclient=yes, issue 13)."""
        commands = self.parent.all_commands()
        x = [c for c in commands if c.upper().startswith(("XFORWARD", "XCLIENT"))]
        self.assertFalse([c for c in x if "10.9.9.9" in c or "trusted" in c], commands)
        self.assertEqual(len(x), 1, commands)
        self.assertRegex(x[0], r"^XCLIENT .*ADDR=127\.0\.0\.1 ")

    def test_not_advertised_and_refused(self):
        c = self.client()
        ehlo = c.cmd("EHLO client.test")
        self.assertRegex(ehlo, r"^250-parent\.test")
        self.assertNotRegex(ehlo.upper(), r"XFORWARD|XCLIENT")
        self.assertRegex(c.cmd("XFORWARD ADDR=10.9.9.9 NAME=trusted.example"),
                         r"^550 5\.7\.0 Command not permitted " + PRODUCT_RX + "$")
        self.assertRegex(c.cmd("xclient ADDR=10.9.9.9"),
                         r'^500 Unknown Command: "xclient" ' + PRODUCT_RX + "$")
        c.envelope(self)
        self.assertRegex(c.message("Subject: x\r\n\r\nclean\r\n"), r"^250 2\.0\.0 queued$")
        self.assert_only_the_gateways_xclient()
        self.assertEqual(len(self.parent.all_messages()), 1)
        self.gw.wait_log("info", r"XFORWARD refused: client \[127\.0\.0\.1\] is not a LAN client")

    def test_pipelined_xforward_refused(self):
        c = self.client()
        c.send("EHLO client.test\r\nXFORWARD ADDR=10.9.9.9\r\nXCLIENT ADDR=10.9.9.9\r\n"
               "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (SENDER, RCPT))
        self.assertRegex(c.reply(), r"^250-")
        self.assertRegex(c.reply(), r"^550 5\.7\.0 Command not permitted ")
        self.assertRegex(c.reply(), r"^500 Unknown Command: \"XCLIENT\" ")
        self.assertRegex(c.reply(), r"^250 ")
        self.assertRegex(c.reply(), r"^250 ")
        self.assertRegex(c.reply(), r"^354 ")
        self.assertRegex(c.message("Subject: x\r\n\r\nclean\r\n"), r"^250 2\.0\.0 queued$")
        self.assert_only_the_gateways_xclient()


class TestXforwardFromLan(smtp_parent.ParentCase):
    """A LAN client (smtp_lan with lan=yes, e.g. a filter in front) may."""
    ENV = ENV
    SECTION = {"lan": "yes"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def setUp(self):
        self.parent.reset(EHLO=PARENT_EHLO, **{"*": "250 2.0.0 Ok"})

    def test_lan_client_xforward_relayed(self):
        c = self.client()
        ehlo = c.cmd("EHLO client.test")
        self.assertIn("XFORWARD NAME ADDR PROTO HELO SOURCE", ehlo)
        self.assertNotIn("XCLIENT", ehlo.upper())
        self.assertEqual(c.cmd("XFORWARD ADDR=10.9.9.9"), "250 2.0.0 Ok")
        self.assertIn("XFORWARD ADDR=10.9.9.9", self.parent.all_commands())


# ---- item 15: a pipelined burst during a scan does not pin the worker -------

BURST_LINES = 128
BURST_LINE = "NOOP " + "x" * (1024 - len("NOOP ") - 2) + "\r\n"  # 1 KiB per command


class _HungScand:
    """A scanner socket that takes every request and never answers, in the
    place of sekisho-scand: the scan lasts vsd_scantimeout plus the proxy's
    margin, then the mail gets 451."""

    def __init__(self, d):
        harness.chown_for_daemons(d)
        self.scanner = HungScanner(os.path.join(d, "hung.sock"))
        self.socket = self.scanner.path


class TestPipelinedBurstDuringScan(smtp_parent.ParentCase):
    SECTION = {"vsd_scantimeout": "1"}

    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, "hung-scand")
        os.makedirs(d, exist_ok=True)
        cls.hung = _HungScand(d)
        cls.ENV = {"wd": ENV["wd"], "scand": cls.hung}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.hung.scanner.stop()

    def test_burst_is_not_spun_on_and_answered_in_order(self):
        c = self.client()
        c.envelope(self)
        c.send(re.sub(r"(?m)^\.", "..", eicar_mail(header_lines=0).replace(
            testfiles.EICAR.decode(), "harmless bytes")) + ".\r\n")
        harness.wait_for(lambda: self.hung.scanner.request_count() >= 1, 10,
                         what="the scan request")
        workers = self.gw.worker_pids()
        self.assertTrue(workers)
        cpu0, t0 = harness.cpu_seconds(workers), time.monotonic()
        # The burst goes in from a thread: the gateway may stop reading,
        # and the kernel's buffers need not hold all of it.
        sender = threading.Thread(target=c.send, args=(BURST_LINE * BURST_LINES,), daemon=True)
        sender.start()
        reply = c.reply()  # the scan's end: the hung scanner makes it 451
        cpu1, t1 = harness.cpu_seconds(workers), time.monotonic()
        self.assertRegex(reply, r"^451 ")
        used, waited = cpu1 - cpu0, t1 - t0
        self.assertGreater(waited, 0.5)  # the burst did arrive during the scan
        self.assertLess(used, 0.5 * waited,
                        "the worker used %.2f s of CPU in %.2f s of scan" % (used, waited))
        for i in range(BURST_LINES):
            self.assertRegex(c.reply(), r"^250 2\.0\.0 noop$", "reply %d" % i)
        sender.join(30)
        self.assertEqual(len([x for x in self.parent.all_commands() if x.startswith("NOOP ")]),
                         BURST_LINES)
        self.assertEqual(self.parent.all_messages(), [])
        self.assertRegex(c.cmd("QUIT"), r"^221 ")


if __name__ == "__main__":
    unittest.main()
