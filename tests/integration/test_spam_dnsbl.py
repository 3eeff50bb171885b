"""RBL and SURBL through the SMTP and POP proxies (spec SPAM-8, SPAM-9,
SPAM-2 order, G-33, C-16, spam_rbl_pass of hosts.allow), against a real
unbound started by the suite (harness/unbound.py) with local zones that
list and do not list test addresses and domains, and a zone whose
upstream answers after 3 s.

Covered, each by what the parent received (the X-Spam-Status line), the
access record and what reached unbound (its query log):
- an address of a Received: field listed in an RBL zone names the mail
  SEKISHO/SPAM_RBL/<address>[<zone>:<reply>]; a URL domain of a text or
  HTML body listed in a SURBL zone SEKISHO/SPAM_SURBL/<domain>[...], the
  host reduced to its registered domain (G-33);
- the default spam_rbl_pass (127.0.0.1 10. 192.168. 172.16/12): those
  addresses are never queried, also when the zone lists them; a
  spam_rbl_pass of hosts.allow replaces it, and then the SMTP client's own
  address is queried (SMTP only: POP has no client address to query);
- order: an RBL hit names the mail before a SURBL hit (SPAM-2), a custom
  BLACK rule before both, and a WHITE rule stops the check before any
  query is sent;
- at most 32 RBL queries per mail (SPAM-8): the queries beyond them never
  reach the server;
- no answer within 1 s is "not listed" (SPAM-8): the mail is delivered
  unmarked and the error log says so;
- answers are cached for their TTL: a second mail with the same address
  asks unbound nothing.
"""
import os
import re
import smtplib
import unittest
import urllib.parse

import harness
from harness import mail_fixtures as mf
from harness import spam
from harness.pop_proxy import PopCase, PopEnv
from harness.unbound import Unbound, available

ENV = {}
RCPT = "user@local.example"
ZONES = {
    "rbl.test": {"records": [
        ("9.113.0.203", "A", "127.0.0.4", 300),     # 203.0.113.9
        ("5.1.168.192", "A", "127.0.0.2", 300),     # 192.168.1.5: in the default pass list
        ("1.0.0.127", "A", "127.0.0.2", 300),       # the SMTP client, 127.0.0.1
        ("99.100.51.198", "A", "127.0.0.2", 300),   # 198.51.100.99: the address after the cap
    ]},
    "rbl2.test": {"records": [("7.100.51.198", "A", "127.0.0.3", 300)]},  # 198.51.100.7
    "surbl.test": {"records": [
        ("badsite.example", "A", "127.0.0.2", 300),
        ("evil.co.jp", "A", "127.0.0.4", 300),
    ]},
}


def setUpModule():
    reason = available()
    if reason:
        raise RuntimeError(reason)  # an error, never a skip: CI installs unbound
    wd = harness.Workdir("spamdnsbl")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)
    ENV["dns"] = Unbound(wd.path, zones=ZONES, slow_zones=["slow.test"])


def tearDownModule():
    ENV["dns"].stop()
    ENV["scand"].stop()
    if "pop" in ENV:
        ENV["pop"].stop()
    ENV["wd"].cleanup()


def mail(subject, received=(), body="hello\r\n", ctype="text/plain"):
    lines = ["Received: from relay%d.example (relay%d.example [%s])\r\n\tby mx.example; "
             "Mon, 7 Dec 2026 08:00:00 +0000\r\n" % (i, i, a) for i, a in enumerate(received)]
    return ("%sFrom: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@outside.example>\r\nContent-Type: %s\r\n\r\n%s"
            % ("".join(lines), RCPT, subject, subject.replace(" ", "."), ctype, body))


class DnsblCase(unittest.TestCase):
    SECTION = {}
    COMMON = {}
    HOSTS_ALLOW = ""
    RULES = None

    @classmethod
    def setUpClass(cls):
        cls.dns = ENV["dns"]
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir)
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port),
                   "virus_check": "yes", "action": "deny", "spam_check": "yes",
                   "spam_action": "pass"}
        section.update(cls.SECTION)
        common = {"hostname": "gw.test", "workers": "1", "spam_rbl": "yes", "spam_surbl": "yes",
                  "spam_rbl_list": "rbl.test, rbl2.test", "spam_surbl_list": "surbl.test",
                  "spam_dns_server": cls.dns.server}
        common.update(cls.COMMON)
        cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp", section=section,
                                 common=common, hosts_allow=cls.HOSTS_ALLOW, start=False)
        if cls.RULES is not None:
            spam.write_rules(os.path.join(cls.gw.prefix, "conf", "spam"), cls.RULES)
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()

    def setUp(self):
        self.base = len(self.dns.queries())

    def asked(self, name=None):
        """Names that reached unbound since this test began (or the count of
        name among them)."""
        q = self.dns.queries()[self.base:]
        return q if name is None else q.count(name)

    def send(self, msg):
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=30) as c:
            c.sendmail("sender@outside.example", [RCPT], msg.encode())

    def delivered(self, subject, msg=None):
        """Send (msg or a plain mail), return it as the parent got it."""
        if msg is not None:
            self.send(msg)
        got = harness.wait_for(lambda: [m for m in self.sink.messages()
                                        if "Subject: %s\r" % subject in m
                                        or "Subject: %s\n" % subject in m], 15,
                               what="mail %r at the sink" % subject)
        self.assertEqual(len(got), 1)
        return got[0]

    def spam_name(self, got):
        return spam.spam_name(got)


class TestRblSurbl(DnsblCase):
    RULES = "BLACK\tSubject\t\tcustom-black\nWHITE\tSubject\t\tcustom-white\n"

    def test_spam8_received_address_listed(self):
        got = self.delivered("rbl hit", mail("rbl hit", received=["203.0.113.9"]))
        self.assertEqual(self.spam_name(got), "SEKISHO/SPAM_RBL/203.0.113.9[rbl.test:127.0.0.4]")
        line = self.gw.wait_log("access", r"rbl\.hit@outside")[0]
        m = re.search(r"DETECT-STAT:SPAM:([^:]*):", line)
        self.assertEqual(urllib.parse.unquote(m.group(1)),
                         "SEKISHO/SPAM_RBL/203.0.113.9[rbl.test:127.0.0.4]")
        self.gw.wait_log("info", r"Spam: .*method=rbl action=PASS")

    def test_spam8_second_zone_and_not_listed(self):
        got = self.delivered("rbl2 hit", mail("rbl2 hit", received=["198.51.100.7"]))
        self.assertEqual(self.spam_name(got), "SEKISHO/SPAM_RBL/198.51.100.7[rbl2.test:127.0.0.3]")
        got = self.delivered("not listed", mail("not listed", received=["198.51.100.200"]))
        self.assertIsNone(self.spam_name(got))
        # both zones were asked about the address
        self.assertEqual(self.asked("200.100.51.198.rbl.test"), 1)
        self.assertEqual(self.asked("200.100.51.198.rbl2.test"), 1)

    def test_spam8_default_pass_list_not_queried(self):
        got = self.delivered("private relay", mail("private relay",
                                                   received=["192.168.1.5", "10.1.2.3"]))
        self.assertIsNone(self.spam_name(got))
        self.assertEqual(self.asked("5.1.168.192.rbl.test"), 0)
        self.assertEqual(self.asked("3.2.1.10.rbl.test"), 0)
        # nor the client, 127.0.0.1
        self.assertEqual(self.asked("1.0.0.127.rbl.test"), 0)

    def test_spam9_surbl_text_body_registered_domain(self):
        got = self.delivered("surbl text", mail("surbl text",
                                                body="see http://www.Evil.co.jp/offer now\r\n"))
        self.assertEqual(self.spam_name(got), "SEKISHO/SPAM_SURBL/evil.co.jp[surbl.test:127.0.0.4]")
        self.assertEqual(self.asked("www.evil.co.jp.surbl.test"), 0)  # G-33: reduced

    def test_spam9_surbl_html_body(self):
        got = self.delivered("surbl html", mail(
            "surbl html", body="<p><a href=\"https://shop.badsite.example/x\">buy</a></p>\r\n",
            ctype="text/html"))
        self.assertEqual(self.spam_name(got),
                         "SEKISHO/SPAM_SURBL/badsite.example[surbl.test:127.0.0.2]")

    def test_spam2_rbl_names_before_surbl_and_custom_before_both(self):
        got = self.delivered("both lists", mail("both lists", received=["203.0.113.9"],
                                                body="http://badsite.example/\r\n"))
        self.assertEqual(self.spam_name(got), "SEKISHO/SPAM_RBL/203.0.113.9[rbl.test:127.0.0.4]")
        got = self.delivered("custom-black all", mail("custom-black all",
                                                      received=["203.0.113.9"]))
        self.assertEqual(self.spam_name(got), "SEKISHO/SPAM_LIST/CUSTOM/1/Subject")

    def test_spam5_white_rule_skips_the_lists(self):
        got = self.delivered("custom-white", mail("custom-white", received=["198.51.100.77"],
                                                  body="http://unlisted-white.example/\r\n"))
        self.assertIsNone(self.spam_name(got))
        self.assertEqual(self.asked("77.100.51.198.rbl.test"), 0)
        self.assertEqual(self.asked("unlisted-white.example.surbl.test"), 0)
        self.assertEqual(self.asked(), [])

    def test_spam8_32_query_cap(self):
        # 17 distinct addresses x 2 zones = 34 lookups: the last address
        # (listed in rbl.test) is beyond the 32 and never asked about
        addrs = ["198.51.100.%d" % (110 + i) for i in range(16)] + ["198.51.100.99"]
        got = self.delivered("capped", mail("capped", received=addrs))
        self.assertIsNone(self.spam_name(got))
        asked = [q for q in self.asked() if q.endswith(".100.51.198.rbl.test")
                 or q.endswith(".100.51.198.rbl2.test")]
        asked = [q for q in asked if int(q.split(".")[0]) >= 110 or q.startswith("99.")]
        self.assertEqual(len(asked), 32)
        self.assertEqual(self.asked("99.100.51.198.rbl.test"), 0)

    def test_spam8_answers_cached_for_their_ttl(self):
        self.delivered("cache one", mail("cache one", received=["198.51.100.50"]))
        self.delivered("cache two", mail("cache two", received=["198.51.100.50"]))
        self.assertEqual(self.asked("50.100.51.198.rbl.test"), 1)


class TestClientAddress(DnsblCase):
    """hosts.allow spam_rbl_pass replaces the default: then the SMTP
    client (127.0.0.1) is queried, and listed."""
    HOSTS_ALLOW = "spam_rbl_pass: 10.\n"

    def test_spam8_smtp_client_address_queried(self):
        got = self.delivered("client listed", mail("client listed"))
        self.assertEqual(self.spam_name(got), "SEKISHO/SPAM_RBL/127.0.0.1[rbl.test:127.0.0.2]")
        got = self.delivered("private now", mail("private now", received=["192.168.1.5"]))
        # 192.168. is no longer excluded: queried (the client, first, names it)
        self.assertEqual(self.asked("5.1.168.192.rbl.test"), 1)


class TestSlowDns(DnsblCase):
    """SPAM-8: no answer within 1 s means not spam."""
    COMMON = {"spam_rbl_list": "slow.test", "spam_surbl": "no"}

    def test_spam8_one_second_timeout_is_not_spam(self):
        got = self.delivered("slow list", mail("slow list", received=["203.0.113.50"]))
        self.assertIsNone(self.spam_name(got))
        self.gw.wait_log("error", r"RBL/SURBL: 1 of 1 queries had no answer within 1 s")
        line = self.gw.wait_log("access", r"slow\.list@")[0]
        self.assertNotIn("DETECT-STAT:SPAM", line)


# ---- POP ------------------------------------------------------------------------------

POP_SPAM = ("Received: from relay.example (relay.example [203.0.113.9])\r\n\tby mx.example; "
            "Mon, 7 Dec 2026 08:00:00 +0000\r\n").encode() + mf.plain("pop rbl", b"hello\r\n")
POP_RCV = ("Received: from relay.example (relay.example [203.0.113.9])\r\n\tby mx.example; "
           "Mon, 7 Dec 2026 08:00:00 +0000\r\n").encode()
POP_SURBL = mf.plain("pop surbl", b"see http://www.evil.co.jp/x\r\n")
POP_CUSTOM = POP_RCV + mf.plain("custom-black by pop", b"see http://badsite.example/\r\n")
POP_BOTH = POP_RCV + mf.plain("pop both", b"see http://badsite.example/\r\n")


class TestPopRbl(PopCase):
    ENV = ENV
    SECTION = {"spam_check": "yes", "spam_action": "pass"}
    HOSTS_ALLOW = "spam_rbl_pass: 10.\n"

    @classmethod
    def setUpClass(cls):
        if "pop" not in ENV:
            ENV["pop"] = PopEnv("spamdnsbl-pop")
            ENV["pop"].a.set_mailbox("bob", [POP_SPAM, mf.plain("pop clean", b"hi\r\n"),
                                             POP_SURBL, POP_CUSTOM, POP_BOTH])
        ENV["env"] = ENV["pop"]
        spam_dir = os.path.join(ENV["pop"].wd.path, "spamdir-" + cls.__name__)
        spam.write_rules(spam_dir, "BLACK\tSubject\t\tcustom-black\n")
        cls.COMMON = {"workers": "1", "spam_rbl": "yes", "spam_rbl_list": "rbl.test",
                      "spam_surbl": "yes", "spam_surbl_list": "surbl.test",
                      "spam_dns_server": ENV["dns"].server, "spam_dir": spam_dir}
        super().setUpClass()

    def retr(self, n):
        return spam.pop_retr(self, n)

    def test_pop_spam8_received_listed_client_never_queried(self):
        base = len(ENV["dns"].queries())
        body = self.retr(1)
        self.assertRegex(body.split(b"\r\n")[1].decode(),
                         r"^X-Spam-Status: Yes\(.*\) with "
                         r"SEKISHO/SPAM_RBL/203\.0\.113\.9\[rbl\.test:127\.0\.0\.4\]$")
        self.assertTrue(body.endswith(POP_SPAM))
        # POP has no client address to query: 127.0.0.1 (not excluded
        # here) was never asked about by the POP proxy
        self.assertEqual(self.retr(2), mf.plain("pop clean", b"hi\r\n"))
        self.assertNotIn("1.0.0.127.rbl.test", ENV["dns"].queries()[base:])

    def status(self, n):
        return self.retr(n).split(b"\r\n")[1].decode()

    def test_pop_spam9_surbl(self):
        self.assertRegex(self.status(3), r"^X-Spam-Status: Yes\(.*\) with "
                         r"SEKISHO/SPAM_SURBL/evil\.co\.jp\[surbl\.test:127\.0\.0\.4\]$")

    def test_pop_spam2_custom_then_rbl_then_surbl(self):
        self.assertRegex(self.status(4), r" with SEKISHO/SPAM_LIST/CUSTOM/1/Subject$")
        self.assertRegex(self.status(5), r" with SEKISHO/SPAM_RBL/203\.0\.113\.9\[")


if __name__ == "__main__":
    unittest.main()
