"""Hostile SMTP clients (issue 10): attacks on the acceptance setup,
replayed against the gateway in front of the scripted parent
(harness/smtp_parent.py), which records every command and message it
received. Each test asserts what the client, the parent and the logs saw."""
import itertools
import re
import unittest

import harness
from harness import smtp_parent
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


if __name__ == "__main__":
    unittest.main()
