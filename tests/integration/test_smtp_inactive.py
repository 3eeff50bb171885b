"""timeout_inactive=yes for SMTP (G-22, KB-28): a session in which no byte
moved in either direction for inactive_timeout seconds ends whatever it
waits for; the client gets 421 with the reason, the error log says why,
and nothing is acknowledged that was not delivered. The tests use
inactive_timeout=2 and wait for the gateway's reaction (bounded), never
for a duration."""
import re
import unittest

import harness
from harness import smtp_parent
from harness.smtp_parent import HANG, PRODUCT_RX, RCPT, SENDER, Client

ENV = {}


def setUpModule():
    wd = harness.Workdir("smtp-inactive")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def clean_mail(msgid):
    return ("From: %s\r\nTo: %s\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\nHello.\r\n"
            % (SENDER, RCPT, msgid))


class TestInactiveTimeout(smtp_parent.ParentCase):
    ENV = ENV
    SECTION = {"timeout_inactive": "yes", "inactive_timeout": "2"}

    def timed_out(self, c, waiting_for):
        """The 421 that ends the session, then the close; the error line."""
        reply = c.reply()
        self.assertRegex(reply, r"^421 Timeout: no traffic for 2 seconds while waiting for "
                         + re.escape(waiting_for) + r", closing connection " + PRODUCT_RX + "$")
        c.wait_closed()
        self.gw.wait_log("error", r"\] ###ERROR### smtp: no traffic in either direction for 2 "
                         r"sec while waiting for " + re.escape(waiting_for) +
                         r": session closed \(timeout_inactive\)$")

    def test_silent_client_between_commands(self):
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.timed_out(c, "a command of the client")

    def test_silent_client_in_data(self):
        c = self.client()
        c.envelope(self, rcpts=("silent@local.example",))
        c.send("From: %s\r\nSubject: half\r\n\r\nthe first half" % SENDER)
        self.timed_out(c, "the client's message")
        # Nothing went upstream past the envelope; the record says why.
        self.assertEqual(self.parent.all_messages(), [])
        self.assertNotIn("DATA", self.parent.all_commands())
        line = self.gw.wait_log("access", r" GET mail:silent@local\.example ")[-1]
        self.assertIn(" TCP_MISS/500 ", line)
        self.assertIn("PROXY/inactive+timeout", line)

    def test_parent_never_answers_the_message(self):
        # The parent takes the whole message and never says a word about it:
        # the client must not hear 250.
        self.parent.reset(DOT=HANG)
        c = self.client()
        c.envelope(self, rcpts=("hang@local.example",))
        c.send(clean_mail("hang@x.example").encode() + b".\r\n")
        self.timed_out(c, "the server's reply to the message")
        line = self.gw.wait_log("access", r" GET mail:hang@local\.example ")[-1]
        self.assertIn(" TCP_MISS/500 ", line)

    def test_parent_never_answers_a_command(self):
        self.parent.reset(MAIL=HANG)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        c.send("MAIL FROM:<%s>\r\n" % SENDER)
        self.timed_out(c, "a reply of the server")

    def test_parent_never_greets(self):
        self.parent.reset(GREETING=HANG)
        c = Client(self.gw.port)  # the "greeting" read is the 421
        self.addCleanup(c.close)
        self.assertRegex(c.greeting, r"^421 Timeout: no traffic for 2 seconds while waiting for "
                         r"the server's greeting, closing connection " + PRODUCT_RX + "$")
        c.wait_closed()


if __name__ == "__main__":
    unittest.main()
