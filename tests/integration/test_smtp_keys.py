"""Keys of the SMTP service that no other test set to a value other than
their default (a setting is a promise): the ini copies of the hosts.allow
lists (smtp_from, smtp_to, smtp_rcpt, smtp_lan: CFG-7, each replaces that
field of hosts.allow) and the LAN variants of quarantine and notify_admin
(lan_quarantine, lan_notify_admin). Each test shows the key's effect with
what the client, the parent (smtp-sink), the admin mail server and the
logs saw."""
import os
import re
import smtplib
import socket
import unittest

import harness
from harness import testfiles

ENV = {}
RCPT = "user@local.example"


def setUpModule():
    wd = harness.Workdir("smtp-keys")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def mail(subject):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@outside.example>\r\n\r\nHello.\r\n" % (RCPT, subject, subject))


def eicar_mail(subject):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@outside.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"eicar.com\"\r\n"
            "Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n%s\r\n--b1--\r\n"
            % (RCPT, subject, subject, testfiles.EICAR.decode()))


class KeyCase(unittest.TestCase):
    SECTION = {}
    COMMON = {}
    HOSTS_ALLOW = ""
    ADMIN_SINK = False

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir)
        cls.admin_sink = None
        common = {"hostname": "gw.test"}
        if cls.ADMIN_SINK:
            cls.admin_sink = harness.SmtpSink(cls.dir, subdir="admin-sink")
            common.update({"admin_mailaddr": "admin@gw.test", "admin_mx_host": "127.0.0.1",
                           "admin_mx_port": str(cls.admin_sink.port),
                           "admin_notification_id": "5150"})
        common.update(cls.COMMON)
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port),
                   "virus_check": "yes", "action": "deny"}
        section.update(cls.SECTION)
        cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp", section=section,
                                 hosts_allow=cls.HOSTS_ALLOW, common=common)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()
        if cls.admin_sink:
            cls.admin_sink.stop()

    def client(self):
        return smtplib.SMTP("127.0.0.1", self.gw.port, local_hostname="client.test", timeout=30)

    def received(self, subject):
        return harness.wait_for(
            lambda: [m for m in self.sink.messages() if "Subject: %s" % subject in m], 10,
            what="mail %r at the parent" % subject)

    def refused_at_connect(self):
        """G-15: the connection is closed at once, without a banner."""
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            try:
                data = s.recv(512)
            except ConnectionResetError:
                data = b""
        self.assertEqual(data, b"")

    def quarantine_files(self):
        d = os.path.join(self.gw.prefix, "tmp", "quarantine")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def admin_mails(self):
        return [m for m in self.admin_sink.messages() if "X-Admin-Notification-Id: 5150" in m]


# ---- smtp_from ---------------------------------------------------------

class TestSmtpFromIniRefuses(KeyCase):
    SECTION = {"acl_from": "yes", "smtp_from": "10.0.0.0/255.0.0.0"}
    HOSTS_ALLOW = "smtp_from: 127.0.0.1\n"  # replaced by the ini list

    def test_client_outside_ini_list_closed_without_banner(self):
        self.refused_at_connect()
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:127\.0\.0\.1\]$")
        self.assertEqual(self.sink.messages(), [])


class TestSmtpFromIniAdmits(KeyCase):
    SECTION = {"acl_from": "yes", "smtp_from": "127.0.0.1"}
    HOSTS_ALLOW = "smtp_from: 10.0.0.1\n"

    def test_client_in_ini_list_relays(self):
        with self.client() as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], mail("fromini")), {})
        self.assertEqual(len(self.received("fromini")), 1)


# ---- smtp_to -----------------------------------------------------------

class TestSmtpToIniRefuses(KeyCase):
    SECTION = {"acl_to": "yes", "smtp_to": "10.0.0.1"}
    HOSTS_ALLOW = "smtp_to: 127.0.0.1\n"

    def test_parent_outside_ini_list_is_not_contacted(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            s.settimeout(10)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(512)
                if not chunk:
                    break
                data += chunk
        self.assertRegex(data.decode("latin-1"),
                         r"^421 server open error\(127\.0\.0\.1:%d\) errmsg=\[CONNECT\(127\.0\.0"
                         r"\.1:%d\)/Access Inhibited by Proxy\(SEKISHO\)\]" % (self.sink.port,
                                                                                self.sink.port))
        self.gw.wait_log("info", r"Access Denied to \[127\.0\.0\.1:127\.0\.0\.1\]")
        self.assertEqual(self.sink.messages(), [])


class TestSmtpToIniAdmits(KeyCase):
    SECTION = {"acl_to": "yes", "smtp_to": "127.0.0.1"}
    HOSTS_ALLOW = "smtp_to: 10.0.0.1\n"

    def test_parent_in_ini_list_gets_the_mail(self):
        with self.client() as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], mail("toini")), {})
        self.assertEqual(len(self.received("toini")), 1)


# ---- smtp_rcpt ---------------------------------------------------------

class TestSmtpRcptIni(KeyCase):
    SECTION = {"acl_rcpt": "yes", "lan": "no", "smtp_rcpt": "local.example other.example"}
    HOSTS_ALLOW = "smtp_rcpt: hosts-allow.example\n"

    def rcpt(self, addr):
        with self.client() as c:
            c.ehlo()
            self.assertEqual(c.mail("sender@outside.example")[0], 250)
            return c.docmd("RCPT", "TO:<%s>" % addr)

    def test_ini_domains_are_local(self):
        self.assertEqual(self.rcpt("user@local.example")[0], 250)
        self.assertEqual(self.rcpt("user@other.example")[0], 250)

    def test_hosts_allow_domain_is_replaced(self):
        code, text = self.rcpt("user@hosts-allow.example")
        self.assertEqual(code, 550, text)
        self.assertRegex(text.decode(), r"^Relaying denied\. \(Sekisho/")


# ---- smtp_lan ----------------------------------------------------------

class TestSmtpLanIni(KeyCase):
    # The LAN client gets lan_action (blackhole: 250, dropped) instead of
    # action=deny (554), and may relay to any domain.
    SECTION = {"lan": "yes", "lan_action": "blackhole", "acl_rcpt": "yes",
               "smtp_rcpt": "local.example", "smtp_lan": "127.0.0.1"}
    HOSTS_ALLOW = "smtp_lan: 10.0.0.0/255.0.0.0\n"

    def test_client_in_ini_lan_list_gets_lan_action(self):
        with self.client() as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT],
                                        eicar_mail("lanini")), {})
        self.assertIn("ACTION:BLACKHOLE:", self.gw.wait_log("detect", r"INFECTED")[-1])
        self.assertFalse([m for m in self.sink.messages() if "Subject: lanini" in m])

    def test_client_in_ini_lan_list_may_relay(self):
        with self.client() as c:
            c.ehlo()
            c.mail("sender@outside.example")
            self.assertEqual(c.docmd("RCPT", "TO:<someone@elsewhere.example>")[0], 250)


class TestSmtpLanIniOther(KeyCase):
    SECTION = {"lan": "yes", "lan_action": "blackhole", "smtp_lan": "10.0.0.0/255.0.0.0"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_client_outside_ini_lan_list_gets_action(self):
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                c.sendmail("sender@outside.example", [RCPT], eicar_mail("notlan"))
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertIn("ACTION:DENY:", self.gw.wait_log("detect", r"INFECTED")[-1])


# ---- lan_quarantine, lan_notify_admin ----------------------------------

class TestLanQuarantineNotifyOn(KeyCase):
    # The LAN keys on, the general ones off: a LAN client's detection is
    # quarantined (mailbox format) and the administrator notified.
    ADMIN_SINK = True
    SECTION = {"lan": "yes", "lan_action": "deny", "lan_quarantine": "yes",
               "lan_notify_admin": "yes", "quarantine": "no", "notify_admin": "no"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_lan_detection_quarantined_and_admin_notified(self):
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError):
                c.sendmail("sender@outside.example", [RCPT], eicar_mail("lanq"))
        line = self.gw.wait_log("detect", r"INFECTED")[-1]
        m = re.search(r"DETECT-STAT:INFECTED:[^:]*:[^:]*:([^:]*):", line)
        self.assertTrue(m and m.group(1), line)
        # The mailbox and its meta (date, sender, recipients... for the console).
        self.assertEqual(self.quarantine_files(), [m.group(1), m.group(1) + ".meta"])
        with open(os.path.join(self.gw.prefix, "tmp", "quarantine", m.group(1)), "rb") as f:
            box = f.read()
        self.assertTrue(box.startswith(b"From sender@outside.example "), box[:80])
        self.assertIn(b"Subject: lanq\n", box)
        self.assertIn(testfiles.EICAR, box)
        admin = harness.wait_for(self.admin_mails, 15, what="admin notification")
        self.assertIn("Eicar", admin[-1])


class TestLanQuarantineNotifyOff(KeyCase):
    # The general keys on, the LAN ones off (their default): a LAN client's
    # detection is neither quarantined nor notified; the same mail from a
    # client outside smtp_lan would be (TestQuarantineNotify of
    # test_smtp_session), so the LAN keys are the ones that decide.
    ADMIN_SINK = True
    SECTION = {"lan": "yes", "lan_action": "deny", "quarantine": "yes", "notify_admin": "yes"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_lan_detection_neither_quarantined_nor_notified(self):
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError):
                c.sendmail("sender@outside.example", [RCPT], eicar_mail("lannoq"))
        line = self.gw.wait_log("detect", r"INFECTED")[-1]
        self.assertRegex(line, r"DETECT-STAT:INFECTED:[^:]*:[^:]*:(?=:)")  # no quarantine file
        self.assertEqual(self.quarantine_files(), [])
        # The notification would be sent before the 554 (see smtp_session.c
        # scan_done); give the admin server a bounded moment all the same.
        try:
            harness.wait_for(self.admin_mails, 2, what="no admin notification")
        except TimeoutError:
            pass
        self.assertEqual(self.admin_mails(), [])


if __name__ == "__main__":
    unittest.main()
