"""The SMTP proxy's access-log records of transactions that were refused in
part or in whole (spec SMTP-7 2, SMTP-8, LOG-2 PROXY-ERROR, C-41), against
the scripted parent of harness/smtp_parent.py.

One record per transaction (MAIL ... the end of DATA, RSET, the next MAIL,
QUIT, or the end of the session): a mail that reached DATA always has one;
a transaction that never got there has one when something in it was
refused, with the first refusal as PROXY-ERROR."""
import unittest

import harness
from harness import smtp_parent
from harness.smtp_parent import RCPT, SENDER

ENV = {}
FOREIGN = "someone@elsewhere.example"
AUTH_PLAIN = "AUTH PLAIN AGFsaWNlAHNlY3JldA=="


def setUpModule():
    wd = harness.Workdir("smtp-records")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def clean_mail(rcpt, msgid):
    return ("From: %s\r\nTo: %s\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\nHello.\r\n"
            % (SENDER, rcpt, msgid))


class RecordCase(smtp_parent.ParentCase):
    ENV = ENV
    SECTION = {"acl_rcpt": "yes", "lan": "no"}
    HOSTS_ALLOW = "smtp_rcpt: local.example\n"

    def records(self, url):
        return [l for l in self.gw.log_lines("access") if (" GET mail:%s " % url) in l]

    def one_record(self, url):
        """The only record whose URL is mail:<url>, once it is written."""
        lines = harness.wait_for(lambda: self.records(url), 10,
                                 what="an access.log record for mail:%s" % url)
        self.assertEqual(len(lines), 1, lines)
        return lines[0]


class TestRelayDeniedRecord(RecordCase):
    """SMTP-7 2: PROXY/550 Relaying denied. is in the access log however the
    transaction ends."""

    def denied(self, c, rcpt):
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertGenerated(c.cmd("RCPT TO:<%s>" % rcpt), "550 Relaying denied.")

    def assertDeniedRecord(self, rcpt):
        line = self.one_record(rcpt)
        # LOG-2: values URL-encoded, space as "+".
        self.assertTrue(line.endswith(" PROXY-ERROR:PROXY/550+Relaying+denied.:"), line)
        self.assertIn(" TCP_MISS/500 ", line)  # C-41: refused
        self.assertIn(" PROTOCOL-STAT:%s::" % SENDER, line)
        return line

    def test_relay_denied_then_quit(self):
        rcpt = "quit@elsewhere.example"
        c = self.client()
        self.denied(c, rcpt)
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 bye")
        c.wait_closed()
        self.assertDeniedRecord(rcpt)
        self.assertNotIn("RCPT TO:<%s>" % rcpt, self.parent.all_commands())

    def test_relay_denied_then_disconnect(self):
        rcpt = "gone@elsewhere.example"
        c = self.client()
        self.denied(c, rcpt)
        c.close()
        self.assertDeniedRecord(rcpt)

    def test_relay_denied_then_rset_and_next_mail(self):
        # The refused transaction has its own record when RSET ends it; the
        # next mail's record does not carry the refusal.
        rcpt = "rset@elsewhere.example"
        c = self.client()
        self.denied(c, rcpt)
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 reset")
        self.assertDeniedRecord(rcpt)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<rset-ok@local.example>"), "250 2.1.5 recipient ok")
        self.assertRegex(c.cmd("DATA"), r"^354 ")
        self.assertEqual(c.message(clean_mail("rset-ok@local.example", "rset-ok@x.example")),
                         "250 2.0.0 queued")
        line = self.one_record("rset-ok@local.example")
        self.assertIn(" TCP_MISS/200 ", line)
        self.assertTrue(line.endswith(" PROXY-ERROR::"), line)

    def test_two_refusals_one_record(self):
        c = self.client()
        self.denied(c, "first@elsewhere.example")
        self.assertGenerated(c.cmd("RCPT TO:<second@elsewhere.example>"), "550 Relaying denied.")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 bye")
        c.wait_closed()
        self.assertDeniedRecord("first@elsewhere.example")
        self.assertEqual(self.records("second@elsewhere.example"), [])

    def test_mail_to_the_other_recipients_is_200(self):
        # C-41: delivered, the client got 250: 200, whatever was refused.
        self.parent.reset(DOT="250 2.0.0 queued as PART")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<part@local.example>"), "250 2.1.5 recipient ok")
        self.assertGenerated(c.cmd("RCPT TO:<%s>" % FOREIGN), "550 Relaying denied.")
        self.assertRegex(c.cmd("DATA"), r"^354 ")
        self.assertEqual(c.message(clean_mail("part@local.example", "part@x.example")),
                         "250 2.0.0 queued as PART")
        self.assertEqual(len(self.parent.all_messages()), 1)
        line = self.one_record("part@local.example")
        self.assertIn(" TCP_MISS/200 ", line)
        self.assertIn(" PROTOCOL-STAT:%s:<part@x.example>:" % SENDER, line)
        self.assertTrue(line.endswith(" PROXY-ERROR:PROXY/550+Relaying+denied.:"), line)


class TestServerRefusalRecords(RecordCase):
    """LOG-2: SERVER/ERROR Reply(RCPT) and Reply(AUTH) are PROXY-ERROR."""
    SECTION = {}
    HOSTS_ALLOW = ""

    def test_rcpt_refused_by_the_server_then_delivered(self):
        self.parent.reset(RCPT=lambda line, n: "550 5.1.1 no such user" if n == 1 else None)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<nouser@local.example>"), "550 5.1.1 no such user")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % RCPT), "250 2.1.5 recipient ok")
        self.assertRegex(c.cmd("DATA"), r"^354 ")
        self.assertEqual(c.message(clean_mail(RCPT, "rcpt-refused@x.example")),
                         "250 2.0.0 queued")
        line = self.one_record(RCPT)
        self.assertIn(" TCP_MISS/200 ", line)
        self.assertEqual(self.proxy_error(line),
                         "SERVER/ERROR Reply(RCPT): buf=[550 5.1.1 no such user]")

    def test_rcpt_refused_by_the_server_then_quit(self):
        self.parent.reset(RCPT="550 5.1.1 no such user")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<nobody@local.example>"), "550 5.1.1 no such user")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 bye")
        c.wait_closed()
        line = self.one_record("nobody@local.example")
        self.assertIn(" TCP_MISS/500 ", line)
        self.assertEqual(self.proxy_error(line),
                         "SERVER/ERROR Reply(RCPT): buf=[550 5.1.1 no such user]")

    def test_auth_refused_by_the_server(self):
        self.parent.reset(AUTH="535 5.7.8 bad credentials")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd(AUTH_PLAIN), "535 5.7.8 bad credentials")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 bye")
        c.wait_closed()
        want = "SERVER/ERROR Reply(AUTH): buf=[535 5.7.8 bad credentials]"
        lines = harness.wait_for(
            lambda: [l for l in self.gw.log_lines("access") if self.proxy_error(l) == want],
            10, what="an access.log record with PROXY-ERROR %r" % want)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(" TCP_MISS/500 ", lines[0])
        self.assertIn(" GET mail: ", lines[0])


if __name__ == "__main__":
    unittest.main()
