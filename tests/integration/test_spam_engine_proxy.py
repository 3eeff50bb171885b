"""The spam engine through the SMTP and POP proxies (issue 14 deliverable 3;
spec SPAM-7 as mapped by G-10 and C-37, SPAM-2 order, LOG-E23), against a
real rspamd started by the suite (harness/rspamd.py: its own configuration
in the test directory, no system service) that resolves through a real
unbound (harness/unbound.py) serving the SPF policy of a test domain.

Covered, each by what the parent (smtp-sink) or the POP client received
and by the logs:
- GTUBE is spam: X-Spam-Status names SEKISHO/SPAM_ENGINE/reject/<score>;
- a mail whose sender domain's SPF policy does not allow the client
  (127.0.0.1, which the gateway names to rspamd in the IP header) is spam
  by R_SPF_FAIL ("add header"); a clean mail is not;
- order (SPAM-2): a custom BLACK rule names a GTUBE mail before the
  engine; the engine names it before RBL; RBL still classifies what the
  engine passed;
- the engine unreachable (nothing listening) or silent (a listener that
  never answers, spam_engine_timeout=1): the mail is delivered
  unclassified, never lost or held, and the error log says why (LOG-E23);
- POP: a GTUBE message is delivered with X-Spam-Status (never withheld).
"""
import os
import re
import smtplib
import socket
import threading
import unittest

import harness
from harness import mail_fixtures as mf
from harness import rspamd as rs
from harness import spam
from harness import unbound
from harness.pop_proxy import PopCase, PopEnv

ENV = {}
RCPT = "user@local.example"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SPF_DOMAIN = "spf-fail.example"
SPF_POLICY = "v=spf1 ip4:198.51.100.0/24 -all"  # 127.0.0.1 is not allowed


def setUpModule():
    if not rs.available() or unbound.available():
        raise RuntimeError("rspamd or unbound is not installed (dev/install-deps.sh test)")
    wd = harness.Workdir("spamengine")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)
    ENV["dns"] = unbound.Unbound(wd.path, zones={
        SPF_DOMAIN: {"records": [("@", "TXT", SPF_POLICY, 300)]},
        "rbl.test": {"records": [("9.113.0.203", "A", "127.0.0.2", 300)]},
    })
    ENV["rspamd"] = rs.Rspamd(wd.path, dns=ENV["dns"].server)


def tearDownModule():
    for k in ("pop", "rspamd", "dns", "scand"):
        if k in ENV:
            ENV[k].stop()
    ENV["wd"].cleanup()


def mail(subject, body="hello\r\n", sender="sender@outside.example", received=None):
    rcv = ("Received: from relay.example (relay.example [%s])\r\n\tby mx.example; "
           "Mon, 7 Dec 2026 08:00:00 +0000\r\n" % received) if received else ""
    return ("%sFrom: %s\r\nTo: %s\r\nSubject: %s\r\nDate: Mon, 7 Dec 2026 08:00:00 +0000\r\n"
            "Message-ID: <%s@outside.example>\r\n\r\n%s"
            % (rcv, sender, RCPT, subject, subject.replace(" ", "."), body))


class EngineCase(unittest.TestCase):
    ENGINE = None  # "host:port" of the engine; None = the suite's rspamd
    COMMON = {}

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir)
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port),
                   "virus_check": "yes", "action": "deny", "spam_check": "yes",
                   "spam_action": "pass"}
        common = {"hostname": "gw.test", "spam_commtouch": "yes",
                  "spam_engine_server": cls.ENGINE or ENV["rspamd"].address}
        common.update(cls.COMMON)
        cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp", section=section,
                                 common=common, start=False)
        spam.write_rules(os.path.join(cls.gw.prefix, "conf", "spam"),
                         "BLACK\tSubject\t\tcustom-black\n")
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()

    def send(self, msg, sender="sender@outside.example"):
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=60) as c:
            c.sendmail(sender, [RCPT], msg.encode())

    def delivered(self, subject):
        got = harness.wait_for(lambda: [m for m in self.sink.messages()
                                        if re.search(r"^Subject: %s\r?$" % re.escape(subject),
                                                     m, re.M)], 30,
                               what="mail %r at the sink" % subject)
        self.assertEqual(len(got), 1)
        return got[0]

    def spam_name(self, got):
        return spam.spam_name(got)


class TestEngine(EngineCase):
    COMMON = {"spam_rbl": "yes", "spam_rbl_list": "rbl.test"}

    @classmethod
    def setUpClass(cls):
        cls.COMMON = dict(cls.COMMON, spam_dns_server=ENV["dns"].server)
        super().setUpClass()

    def test_engine_gtube_is_spam(self):
        self.send(mail("gtube mail", body=GTUBE + "\r\n"))
        name = self.spam_name(self.delivered("gtube mail"))
        self.assertRegex(name or "", r"^SEKISHO/SPAM_ENGINE/reject/\d+\.\d\d")
        line = self.gw.wait_log("access", r"gtube\.mail@")[0]
        self.assertRegex(line, r" DETECT-STAT:SPAM:SEKISHO/SPAM_ENGINE/reject/\d+\.\d\d:")
        self.gw.wait_log("info", r"Spam: .*method=engine action=PASS")

    def test_engine_spf_failure_is_spam(self):
        sender = "someone@" + SPF_DOMAIN
        self.send(mail("spf failing", sender=sender), sender=sender)
        name = self.spam_name(self.delivered("spf failing"))
        self.assertRegex(name or "", r"^SEKISHO/SPAM_ENGINE/add_header/\d+\.\d\d/.*R_SPF_FAIL")

    def test_engine_clean_mail_not_spam(self):
        self.send(mail("ordinary engine mail", body="Lunch at noon?\r\n"))
        self.assertIsNone(self.spam_name(self.delivered("ordinary engine mail")))

    def test_spam2_custom_before_engine_before_rbl(self):
        self.send(mail("custom-black gtube", body=GTUBE + "\r\n"))
        self.assertEqual(self.spam_name(self.delivered("custom-black gtube")),
                         "SEKISHO/SPAM_LIST/CUSTOM/1/Subject")
        self.send(mail("gtube listed", body=GTUBE + "\r\n", received="203.0.113.9"))
        self.assertRegex(self.spam_name(self.delivered("gtube listed")) or "",
                         r"^SEKISHO/SPAM_ENGINE/reject/")
        self.send(mail("ham listed", body="Lunch at one?\r\n", received="203.0.113.9"))
        self.assertEqual(self.spam_name(self.delivered("ham listed")),
                         "SEKISHO/SPAM_RBL/203.0.113.9[rbl.test:127.0.0.2]")


class TestEngineDown(EngineCase):
    """LOG-E23: nothing listens at spam_engine_server."""

    @classmethod
    def setUpClass(cls):
        cls.ENGINE = "127.0.0.1:%d" % harness.free_port()
        super().setUpClass()

    def test_log_e23_engine_down_mail_delivered_unclassified(self):
        self.send(mail("engine down", body=GTUBE + "\r\n"))
        self.assertIsNone(self.spam_name(self.delivered("engine down")))
        self.gw.wait_log("error", r"###ERROR### spam_engine_open_session\(%s\) failed: "
                                  r".*\(mail not classified by the "
                                  r"engine\)" % re.escape(self.ENGINE))


class SilentEngine:
    """Accepts connections, reads, never answers (bounded: stop() ends it)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while self.running:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)

    def stop(self):
        self.running = False
        self.thread.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


class TestEngineSilent(EngineCase):
    """An engine that never answers: spam_engine_timeout bounds the wait."""
    COMMON = {"spam_engine_timeout": "1"}

    @classmethod
    def setUpClass(cls):
        cls.silent = SilentEngine()
        cls.ENGINE = "127.0.0.1:%d" % cls.silent.port
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.silent.stop()

    def test_engine_timeout_mail_delivered_unclassified(self):
        self.send(mail("silent engine", body=GTUBE + "\r\n"))
        self.assertIsNone(self.spam_name(self.delivered("silent engine")))
        self.gw.wait_log("error", r"###ERROR### spam_engine_open_session\(%s\) failed: "
                                  r".*(timeout|timed out)"
                         % re.escape(self.ENGINE))
        self.assertTrue(self.silent.conns, "the gateway did connect to the engine")


class TestPopEngine(PopCase):
    ENV = ENV
    SECTION = {"spam_check": "yes", "spam_action": "pass"}

    @classmethod
    def setUpClass(cls):
        if "pop" not in ENV:
            ENV["pop"] = PopEnv("spamengine-pop")
            ENV["pop"].a.set_mailbox("bob", [mf.plain("pop gtube", (GTUBE + "\r\n").encode())])
        ENV["env"] = ENV["pop"]
        cls.COMMON = {"spam_commtouch": "yes", "spam_engine_server": ENV["rspamd"].address}
        super().setUpClass()

    def test_pop_engine_gtube_marked_and_delivered(self):
        body = spam.pop_retr(self, 1)
        self.assertRegex(body.split(b"\r\n")[1].decode(),
                         r"^X-Spam-Status: Yes\(.*\) with SEKISHO/SPAM_ENGINE/reject/")
        self.assertIn(GTUBE.encode(), body)


if __name__ == "__main__":
    unittest.main()
