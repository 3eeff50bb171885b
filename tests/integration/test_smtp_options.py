"""SMTP proxy options that choose who may connect, where mail goes and what
is added to it (issue 4, Deliver 2 and 3): acl_from / hosts.allow smtp_from
(ACL-6, G-15), reverselookup with name patterns, lan + lan_parent_server
(SMTP-2: mail of smtp_lan clients goes to the LAN parent), anonymous (no
Received: header, X-Virus-Status kept, C-48). Real smtp-sinks as parents,
smtplib and raw sockets as clients."""
import os
import re
import smtplib
import socket
import unittest

import harness

ENV = {}
RCPT = "user@local.example"


def setUpModule():
    wd = harness.Workdir("smtpopt")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def mail(subject):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@outside.example>\r\n\r\nHello.\r\n" % (RCPT, subject, subject))


class OptionCase(unittest.TestCase):
    SECTION = {}
    HOSTS_ALLOW = ""
    LAN_SINK = False

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir)
        cls.lan_sink = None
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port),
                   "virus_check": "yes", "action": "deny"}
        if cls.LAN_SINK:
            lan_dir = os.path.join(cls.dir, "lan")
            os.makedirs(lan_dir, exist_ok=True)
            cls.lan_sink = harness.SmtpSink(lan_dir)
            section.update({"lan": "yes", "lan_parent_server": "yes",
                            "lan_parent_server_host": "127.0.0.1",
                            "lan_parent_server_port": str(cls.lan_sink.port)})
        section.update(cls.SECTION)
        cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp", section=section,
                                 hosts_allow=cls.HOSTS_ALLOW, common={"hostname": "gw.test"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()
        if cls.lan_sink:
            cls.lan_sink.stop()

    def send(self, subject):
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=30) as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], mail(subject)), {})

    @staticmethod
    def received(sink, subject):
        return harness.wait_for(
            lambda: [m for m in sink.messages() if "Subject: %s" % subject in m], 10,
            what="mail %r at %s" % (subject, sink.dir))

    def refused_at_connect(self):
        """G-15: the connection is closed at once, without a banner."""
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=10)
        with s:
            try:
                data = s.recv(512)
            except ConnectionResetError:
                data = b""
        self.assertEqual(data, b"")


class TestAclFromRefused(OptionCase):
    SECTION = {"acl_from": "yes"}
    HOSTS_ALLOW = "smtp_from: 10.0.0.0/255.0.0.0 192.168.\n"

    def test_client_outside_list_closed_without_banner(self):
        self.refused_at_connect()
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:127\.0\.0\.1\]$")
        self.assertEqual(self.sink.messages(), [])


class TestAclFromEmptyList(OptionCase):
    SECTION = {"acl_from": "yes"}
    HOSTS_ALLOW = ""  # ACL-8 / G-15: switched on with no list: nobody

    def test_nobody_may_connect(self):
        self.refused_at_connect()
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:")


class TestAclFromAllowed(OptionCase):
    SECTION = {"acl_from": "yes"}
    HOSTS_ALLOW = "smtp_from: 127.0.0.1\n"

    def test_client_in_list_relays(self):
        self.send("aclok")
        self.assertEqual(len(self.received(self.sink, "aclok")), 1)


class TestReverseLookup(OptionCase):
    # With reverselookup the client's name is known, so a name pattern can
    # admit it; the access log names it too (LOG-2 client field).
    SECTION = {"acl_from": "yes", "reverselookup": "yes"}
    HOSTS_ALLOW = "smtp_from: localhost\n"

    def test_name_pattern_admits_the_named_client(self):
        self.send("rlookup")
        self.received(self.sink, "rlookup")
        line = self.gw.wait_log("access", r"rlookup@outside")[-1]
        self.assertRegex(line, r"^\d+\.\d{3} +\d+ localhost TCP_MISS/200 ")


class TestNamePatternWithoutLookup(OptionCase):
    SECTION = {"acl_from": "yes"}
    HOSTS_ALLOW = "smtp_from: localhost\n"

    def test_name_pattern_needs_reverselookup(self):
        self.refused_at_connect()
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:127\.0\.0\.1\]$")


class TestLanParent(OptionCase):
    LAN_SINK = True
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_lan_client_mail_goes_to_the_lan_parent(self):
        self.send("tolan")
        self.assertEqual(len(self.received(self.lan_sink, "tolan")), 1)
        self.assertFalse([m for m in self.sink.messages() if "Subject: tolan" in m])
        line = self.gw.wait_log("access", r"tolan@outside")[-1]
        self.assertIn(" TCP_MISS/200 ", line)


class TestLanParentNotLan(OptionCase):
    LAN_SINK = True
    HOSTS_ALLOW = "smtp_lan: 10.0.0.0/255.0.0.0\n"

    def test_other_client_mail_goes_to_the_parent(self):
        self.send("toparent")
        self.assertEqual(len(self.received(self.sink, "toparent")), 1)
        self.assertFalse([m for m in self.lan_sink.messages() if "Subject: toparent" in m])


class TestAnonymous(OptionCase):
    SECTION = {"anonymous": "yes"}

    def test_no_received_header_status_kept(self):
        self.send("anon")
        dump = self.received(self.sink, "anon")[0]
        self.assertIsNone(re.search(r"Received: from 127\.0\.0\.1 \(127\.0\.0\.1\)\r?\n\tby gw\.test",
                                    dump), dump)
        self.assertNotIn("by gw.test (Sekisho", dump)
        self.assertIn("X-Virus-Status: clean(Sekisho/sekisho_smtp/", dump)  # C-48


if __name__ == "__main__":
    unittest.main()
