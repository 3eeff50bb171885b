"""The SMTP proxy against postfix's smtp-sink as the parent server, driven by
Python's smtplib and raw sockets (SMTP-1 ... SMTP-11, SMTP-14, C-02 ...
C-06). What the parent received is read from the files smtp-sink writes."""
import os
import re
import smtplib
import socket
import time
import unittest

import harness
from harness import testfiles
from harness.fake_scanner import DyingScanner, HungScanner
from harness.line_server import LineServer

ENV = {}
RCPT = "user@local.example"


def setUpModule():
    wd = harness.Workdir("smtp")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def mail(subject="hello", body="Hello there.\r\n", extra_headers=""):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <m1@outside.example>\r\n%s\r\n%s" % (RCPT, subject, extra_headers, body))


def one_attachment_mail(content, filename="eicar.com", extra_headers=""):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: eicar\r\n"
            "Message-ID: <eicar@outside.example>\r\nMIME-Version: 1.0\r\n%s"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n%s\r\n--b1--\r\n"
            % (RCPT, extra_headers, filename, filename, content))


def eicar_mail(extra_headers=""):
    return one_attachment_mail(testfiles.EICAR.decode(), extra_headers=extra_headers)


def clean_attachment_mail():
    """A mail that needs a scan (an attachment): plain-text bodies are
    scanned only with virus_check_text=yes (SCAN-8)."""
    return one_attachment_mail("just some harmless bytes", filename="notes.bin")


class SmtpCase(unittest.TestCase):
    SECTION = {}
    HOSTS_ALLOW = ""
    SINK = True

    @classmethod
    def setUpClass(cls):
        name = cls.__name__
        cls.dir = os.path.join(ENV["wd"].path, name)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir) if cls.SINK else None
        section = {"parent_server_host": "127.0.0.1",
                   "parent_server_port": str(cls.sink.port if cls.sink else harness.free_port()),
                   "virus_check": "yes", "action": "deny"}
        section.update(cls.SECTION)
        cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp", section=section,
                                 hosts_allow=cls.HOSTS_ALLOW, common={"hostname": "gw.test"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        if cls.sink:
            cls.sink.stop()

    def product(self):
        return "Sekisho/sekisho_smtp/"

    def client(self):
        return smtplib.SMTP("127.0.0.1", self.gw.port, local_hostname="client.test", timeout=30)

    def sink_count(self):
        return len(self.sink.messages())

    def wait_sink(self, n):
        return harness.wait_for(lambda: self.sink_count() >= n and self.sink.messages(), 10,
                                what="%d mail(s) at the sink" % n)


class TestDialogue(SmtpCase):
    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=30)
        f = s.makefile("rb")
        return s, f

    def test_c02_own_greeting(self):
        s, f = self.raw()
        with s:
            line = f.readline().decode()
        self.assertRegex(line, r"^220 gw\.test Sekisho/sekisho_smtp/\d+/gw\.test\r\n$")

    def test_smtp5_ehlo_edited_and_helo_replaced(self):
        with self.client() as c:
            code, text = c.ehlo("client.test")
            self.assertEqual(code, 250)
            features = text.decode().upper()
            for gone in ("PIPELINING", "CHUNKING", "BINARYMIME", "STARTTLS"):
                self.assertNotIn(gone, features)
            m = re.search(r"SIZE (\d+)", features)
            self.assertIsNotNone(m, features)
            self.assertLessEqual(int(m.group(1)), 2000000000)
            c.sendmail("sender@outside.example", [RCPT], mail())
        dump = self.wait_sink(1)[-1]
        # The parent heard our host name, not the client's.
        self.assertIn("gw.test", dump)
        self.assertNotIn("client.test", dump.split("\n\n", 1)[0].split("X-Helo", 1)[-1][:40])

    def test_smtp11_unknown_command(self):
        with self.client() as c:
            code, text = c.docmd("FOO", "bar")
        self.assertEqual(code, 500)
        self.assertRegex(text.decode(), r'^Unknown Command: "FOO" \(Sekisho/sekisho_smtp/')

    def test_smtp6_mail_without_from(self):
        with self.client() as c:
            c.ehlo()
            code, text = c.docmd("MAIL", "<a@b>")
        self.assertEqual(code, 501)
        self.assertRegex(text.decode(), r"^Syntax error \(MAIL FROM:\) \(Sekisho/")

    def test_smtp7_rcpt_without_to(self):
        with self.client() as c:
            c.ehlo()
            self.assertEqual(c.docmd("MAIL", "FROM:<a@outside.example>")[0], 250)
            code, text = c.docmd("RCPT", "<user@local.example>")
        self.assertEqual(code, 500)
        self.assertRegex(text.decode(), r'^RCPT command must begin with "RCPT TO:" \(Sekisho/')

    def test_unparsable_paths_are_refused_not_relayed(self):
        with self.client() as c:
            c.ehlo()
            self.assertEqual(c.docmd("MAIL", "FROM:<a@outside.example")[0], 501)
            self.assertEqual(c.docmd("MAIL", "FROM:<a@outside.example>")[0], 250)
            for bad in ("TO:<user@local.example", "TO:<user@local.example>x"):
                code, text = c.docmd("RCPT", bad)
                self.assertEqual(code, 501, text)
                self.assertRegex(text.decode(), r"^Syntax error \(RCPT TO:\) \(Sekisho/")

    def test_c04_too_long_line_closes(self):
        s, f = self.raw()
        with s:
            f.readline()
            s.sendall(b"NOOP " + b"x" * 12000 + b"\r\n")
            line = f.readline().decode()
            self.assertRegex(line, r"^500 Too long line \(Sekisho/")
            self.assertEqual(f.readline(), b"")  # closed

    def test_smtp10_relayed_commands(self):
        with self.client() as c:
            c.ehlo()
            self.assertEqual(c.noop()[0], 250)
            self.assertEqual(c.rset()[0], 250)
            self.assertIn(c.verify("user")[0], (250, 252, 502))


class TestDelivery(SmtpCase):
    def test_clean_mail_delivered_once_with_headers(self):
        before = self.sink_count()
        body = "line one\r\n.leading dot\r\n..two dots\r\nlast\r\n"
        with self.client() as c:
            refused = c.sendmail("sender@outside.example", [RCPT], mail(body=body))
        self.assertEqual(refused, {})
        dump = self.wait_sink(before + 1)[-1]
        self.assertEqual(self.sink_count(), before + 1)
        self.assertIn("X-Virus-Status: clean(Sekisho/sekisho_smtp/", dump)
        self.assertRegex(dump, r"Received: from 127\.0\.0\.1 \(127\.0\.0\.1\)\r?\n\tby gw\.test ")
        # Dot transparency: the parent got the lines as the client meant them.
        self.assertIn(".leading dot", dump)
        self.assertIn("..two dots", dump)
        self.assertNotIn("\n...two", dump)
        line = self.gw.wait_log("access", r"mail:user@local\.example")[-1]
        self.assertIn(" TCP_MISS/200 ", line)  # C-41
        self.assertIn(" GET mail:user@local.example ", line)
        # G-20: '@' and '<>' stay as they are.
        self.assertIn("PROTOCOL-STAT:sender@outside.example:", line)

    def test_several_mails_per_session(self):
        before = self.sink_count()
        with self.client() as c:
            for i in range(3):
                c.sendmail("sender@outside.example", [RCPT], mail(subject="n%d" % i))
        self.wait_sink(before + 3)
        self.assertEqual(self.sink_count(), before + 3)

    def test_eicar_denied_nothing_delivered(self):
        before = self.sink_count()
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                c.sendmail("sender@outside.example", [RCPT], eicar_mail())
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertRegex(cm.exception.smtp_error.decode(), r"^Infected by Eicar")
        time.sleep(0.5)
        self.assertEqual(self.sink_count(), before)
        line = self.gw.wait_log("detect", r"DETECT-STAT:INFECTED:")[-1]
        self.assertIn("ACTION:DENY:", line)
        self.assertIn(" TCP_MISS/000 ", line)  # C-41: nothing relayed

    def test_data_before_rcpt_is_refused_here(self):
        with self.client() as c:
            c.ehlo()
            code, _ = c.docmd("DATA")
        self.assertEqual(code, 503)


class TestBlackhole(SmtpCase):
    SECTION = {"action": "blackhole"}

    def test_eicar_accepted_and_dropped(self):
        before = self.sink_count()
        with self.client() as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], eicar_mail()), {})
        time.sleep(0.5)
        self.assertEqual(self.sink_count(), before)
        self.assertIn("ACTION:BLACKHOLE:", self.gw.wait_log("detect", r"INFECTED")[-1])


class TestPass(SmtpCase):
    SECTION = {"action": "pass"}

    def test_eicar_forwarded_with_status_header(self):
        before = self.sink_count()
        with self.client() as c:
            c.sendmail("sender@outside.example", [RCPT], eicar_mail())
        dump = self.wait_sink(before + 1)[-1]
        self.assertRegex(dump, r"X-Virus-Status: infected\(Sekisho/sekisho_smtp/[^)]*\) with Eicar")


class TestQuarantineNotify(SmtpCase):
    SECTION = {"action": "deny", "quarantine": "yes", "notify_admin": "yes"}

    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, cls.__name__ + "-admin")
        os.makedirs(d, exist_ok=True)
        cls.admin_sink = harness.SmtpSink(d)
        cls.SECTION = dict(cls.SECTION)
        super().setUpClass()
        # [common] keys: restart with the admin mail settings
        cls.gw.stop()
        cls.gw.common.update({"admin_mailaddr": "admin@gw.test", "admin_mx_host": "127.0.0.1",
                              "admin_mx_port": str(cls.admin_sink.port),
                              "admin_notification_id": "4242"})
        cls.gw.write_ini()
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.admin_sink.stop()

    def test_detection_quarantined_as_mbox_and_admin_notified(self):
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError):
                c.sendmail("sender@outside.example", [RCPT], eicar_mail())
        line = self.gw.wait_log("detect", r"INFECTED")[-1]
        m = re.search(r"DETECT-STAT:INFECTED:[^:]*:[^:]*:([^:]*):", line)
        self.assertTrue(m and m.group(1), line)
        path = os.path.join(self.gw.prefix, "tmp", "quarantine", m.group(1))
        with open(path, "rb") as f:
            box = f.read()
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertTrue(box.startswith(b"From sender@outside.example "), box[:80])
        self.assertIn(testfiles.EICAR, box)
        self.assertNotIn(b"\r\n", box)  # mailbox lines end in LF
        admin = harness.wait_for(lambda: [m for m in self.admin_sink.messages()
                                          if "X-Admin-Notification-Id: 4242" in m], 10,
                                 what="admin mail")
        self.assertIn("Eicar", admin[-1])

    def test_own_notification_is_not_detected(self):
        before = self.sink_count()
        with self.client() as c:
            self.assertEqual(c.sendmail("admin@gw.test", [RCPT], eicar_mail(
                extra_headers="X-Admin-Notification-Id: 4242\r\n")), {})
        self.wait_sink(before + 1)
        # With another id it is an ordinary infected mail.
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError):
                c.sendmail("admin@gw.test", [RCPT], eicar_mail(
                    extra_headers="X-Admin-Notification-Id: 4243\r\n"))


class TestLanAction(SmtpCase):
    SECTION = {"action": "deny", "lan": "yes", "lan_action": "blackhole"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_lan_client_gets_lan_action(self):
        with self.client() as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], eicar_mail()), {})
        self.assertIn("ACTION:BLACKHOLE:", self.gw.wait_log("detect", r"INFECTED")[-1])


def attachment_mail(filename, content="hello", ctype="application/octet-stream", boundary="b1"):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: files\r\n"
            "Message-ID: <att@outside.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n"
            "Content-Type: text/plain\r\n\r\nsee attachment\r\n--%s\r\n"
            "Content-Type: %s; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n%s\r\n--%s--\r\n"
            % (RCPT, boundary, boundary, boundary, ctype, filename, filename, content, boundary))


class TestPolicies(SmtpCase):
    SECTION = {"action": "deny", "block_ext": "yes", "block_ext_list": ".EXE,.pif",
               "block_partial_message": "yes"}

    def refused(self, msg):
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                c.sendmail("sender@outside.example", [RCPT], msg)
        self.assertEqual(cm.exception.smtp_code, 554)
        return cm.exception.smtp_error.decode()

    def test_block_ext(self):
        text = self.refused(attachment_mail("setup.exe"))
        self.assertRegex(text, r"^Infected by SEKISHO/POLICY_BLOCK_EXT \(Sekisho/")
        line = self.gw.wait_log("detect", r"POLICY_BLOCK_EXT")[-1]
        self.assertIn(":SEKISHO/POLICY_BLOCK_EXT:setup.exe:", line)  # the file is named
        before = self.sink_count()
        with self.client() as c:  # another extension passes
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT],
                                        attachment_mail("notes.txt")), {})
        self.wait_sink(before + 1)

    def test_block_partial_message(self):
        msg = ("From: a@outside.example\r\nTo: %s\r\nMIME-Version: 1.0\r\n"
               "Content-Type: message/partial; id=\"x@y\"; number=1; total=2\r\n\r\n"
               "part one\r\n" % RCPT)
        self.assertIn("POLICY_BLOCK_PARTIAL_MESSAGE", self.refused(msg))

    def test_bad_boundary(self):
        msg = attachment_mail("a.txt", boundary="bad\x01boundary")
        self.assertIn("POLICY_FORMAT_MIME_BOUNDARY", self.refused(msg))

    def test_log_names_content_type_and_message_id(self):
        with self.client() as c:
            c.sendmail("sender@outside.example", [RCPT], attachment_mail("readme.txt"))
        line = self.gw.wait_log("access", r"att%40outside|att@outside")[-1]
        self.assertIn(" multipart/mixed ", line)
        self.assertIn(":<att@outside.example>: PROXY-ERROR", line)


class TestSendback(SmtpCase):
    # The sender's domain is local (sendback_any_sender=no, issue 10).
    SECTION = {"action": "sendback", "smtp_rcpt": "outside.example"}

    def test_sender_gets_the_notification_instead_of_the_mail(self):
        before = self.sink_count()
        with self.client() as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], eicar_mail()), {})
        msgs = self.wait_sink(before + 1)
        time.sleep(0.5)
        self.assertEqual(self.sink_count(), before + 1)  # the notification only
        note = msgs[-1]
        self.assertNotIn(testfiles.EICAR.decode(), note)
        self.assertIn("To: sender@outside.example", note)
        self.assertRegex(note, r"X-Virus-Status: infected\(Sekisho/sekisho_smtp/[^)]*\) with Eicar")
        self.assertIn("Subject: Virus notification: Eicar", note)
        self.assertIn("Content-Transfer-Encoding: 7bit", note)
        self.assertIn("Message-ID: <eicar@outside.example>", note)  # #{HEADER}
        self.assertIn("ACTION:SENDBACK:", self.gw.wait_log("detect", r"INFECTED")[-1])

    def test_empty_sender_gets_nothing(self):
        before = self.sink_count()
        with self.client() as c:
            self.assertEqual(c.sendmail("<>", [RCPT], eicar_mail()), {})
        time.sleep(0.5)
        self.assertEqual(self.sink_count(), before)


class TestDeleteNotify(SmtpCase):
    SECTION = {"action": "delete"}

    def test_recipients_get_the_notification_instead_of_the_mail(self):
        before = self.sink_count()
        with self.client() as c:
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], eicar_mail()), {})
        note = self.wait_sink(before + 1)[-1]
        self.assertNotIn(testfiles.EICAR.decode(), note)
        self.assertIn("To: %s" % RCPT, note)
        self.assertIn("X-Virus-Status: infected(", note)
        self.assertIn("ACTION:DELETE:", self.gw.wait_log("detect", r"INFECTED")[-1])


class TestUpstreamDown(SmtpCase):
    SINK = False

    def test_smtp3_server_open_error(self):
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=30)
        with s:
            line = s.makefile("rb").readline().decode()
        port = self.gw.section["parent_server_port"]
        self.assertEqual(
            line.split(" (Sekisho/")[0],
            "421 server open error(127.0.0.1:%s) errmsg=[CONNECT(127.0.0.1:%s)/connect: "
            "Connection refused]" % (port, port))


class TestMessageSize(SmtpCase):
    SECTION = {"block_messagesize": "yes", "block_messagesize_len": "2000"}

    def test_too_long_message(self):
        before = self.sink_count()
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                c.sendmail("sender@outside.example", [RCPT], mail(body="x" * 5000 + "\r\n"))
            self.assertEqual(cm.exception.smtp_code, 554)
            self.assertRegex(cm.exception.smtp_error.decode(), r"^Too long message \(Sekisho/")
            # The session goes on.
            self.assertEqual(c.sendmail("sender@outside.example", [RCPT], mail()), {})
        self.wait_sink(before + 1)
        self.assertEqual(self.sink_count(), before + 1)


RELAY_TRICKS = [
    "user@outside.example",
    "user%outside.example@local.example",
    "user%outside.example",
    "outside.example!user",
    "outside.example!user@local.example",
    "@local.example:user@outside.example",
    "@local.example,@x.example:user@outside.example",
    "\"user@outside.example\"@local.example",
    "\"user%outside.example\"@local.example",
    "user@outside.example@local.example",
    "user@local.example@outside.example",
    "user@local.example.",
    "user@local.example..",
    "user@.local.example",
    "user@local..example",
    "user@",
    "@local.example",
    "user@[127.0.0.1]",
    "user@[IPv6:::1]",
    "user%40outside.example@local.example",
    "user\\@outside.example@local.example",
    "user@local.example.outside.example",
    "user@LOCAL.EXAMPLE.OUTSIDE.EXAMPLE",
    "user@outside.example\"@local.example",
    "user@loc al.example",
    "u" * 300 + "@local.example",
    "user@" + "a" * 300 + ".example",
    "user@local.example%outside.example",
    "user@local-example",
]


class TestRelayControl(SmtpCase):
    SECTION = {"acl_rcpt": "yes", "lan": "no"}
    HOSTS_ALLOW = "smtp_rcpt: local.example\n"

    def rcpt(self, addr):
        with self.client() as c:
            c.ehlo()
            self.assertEqual(c.mail("sender@outside.example")[0], 250)
            return c.docmd("RCPT", "TO:<%s>" % addr)

    def test_relay_tricks_refused(self):
        for addr in RELAY_TRICKS:
            with self.subTest(addr=addr[:60]):
                code, text = self.rcpt(addr)
                # Refused: as a relay attempt, or (an unparsable path) as a
                # syntax error; either way never relayed.
                self.assertIn(code, (550, 501), (addr, text))
                if code == 550:
                    self.assertRegex(text.decode(), r"^Relaying denied\. \(Sekisho/")
        # Nothing of it reached the parent. smtp-sink -d opens a dump file at
        # MAIL FROM and removes it when the session ends without DATA, so a
        # file may be seen for a moment after the last QUIT.
        try:
            harness.wait_for(lambda: self.sink_count() == 0, 5, what="no mail at the sink")
        except Exception:
            pass
        self.assertEqual(self.sink_count(), 0)

    def test_local_domain_accepted(self):
        self.assertEqual(self.rcpt("user@local.example")[0], 250)
        self.assertEqual(self.rcpt("USER@LOCAL.EXAMPLE")[0], 250)
        self.assertEqual(self.rcpt("postmaster")[0], 250)  # no @: not refused (SMTP-7)


class TestRelayControlLan(SmtpCase):
    SECTION = {"acl_rcpt": "yes", "lan": "yes"}
    HOSTS_ALLOW = "smtp_rcpt: local.example\nsmtp_lan: 127.0.0.1\n"

    def test_lan_client_may_relay(self):
        accepted = 0
        for addr in RELAY_TRICKS:
            if len(addr) > 250 or " " in addr:
                continue  # the sink itself refuses these as syntax errors
            with self.client() as c:
                c.ehlo()
                c.mail("sender@outside.example")
                code, text = c.docmd("RCPT", "TO:<%s>" % addr)
            self.assertNotEqual(code, 550, (addr, text))
            accepted += code == 250
        self.assertGreater(accepted, 20)


class TestScannerDown(SmtpCase):
    SECTION = {"scand_socket": "/nonexistent/scand.sock"}

    @classmethod
    def setUpClass(cls):
        name = cls.__name__
        cls.dir = os.path.join(ENV["wd"].path, name)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir)
        cls.gw = harness.Gateway(
            cls.dir, os.path.join(cls.dir, "no-scand.sock"), service="smtp",
            section={"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port)},
            common={"hostname": "gw.test"})

    def test_dead_scanner_is_a_temporary_failure(self):
        with self.client() as c:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                c.sendmail("sender@outside.example", [RCPT], clean_attachment_mail())
        self.assertEqual(cm.exception.smtp_code // 100, 4)
        time.sleep(0.5)
        self.assertEqual(self.sink_count(), 0)


if __name__ == "__main__":
    unittest.main()


class _FlakyParent(LineServer):
    """A parent server that behaves until DATA, then closes the connection
    after reading some of the message: nothing is ever delivered. One
    connection at a time (harness.line_server)."""
    CONCURRENT = False
    BACKLOG = 8
    TIMEOUT = 10

    def __init__(self):
        self.data_started = 0
        super().__init__()

    def serve(self, conn, sess):
        conn.sendall(b"220 flaky ESMTP\r\n")
        for _ in range(100):
            line = sess.reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"DATA":
                self.data_started += 1
                conn.sendall(b"354 go ahead\r\n")
                got = len(sess.reader.buf)  # some of the message, then gone
                while got < 1000:
                    chunk = conn.recv(1000 - got)
                    if not chunk:
                        return
                    got += len(chunk)
                return
            if verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            conn.sendall(b"250 ok\r\n")


class TestParentClosesMidData(unittest.TestCase):
    def test_client_gets_a_temporary_failure(self):
        d = os.path.join(ENV["wd"].path, "flaky")
        os.makedirs(d, exist_ok=True)
        parent = _FlakyParent()
        gw = harness.Gateway(d, ENV["scand"].socket, service="smtp",
                             section={"parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(parent.port)},
                             common={"hostname": "gw.test"})
        try:
            c = self_client = smtplib.SMTP("127.0.0.1", gw.port, timeout=30)
            with self.assertRaises((smtplib.SMTPDataError, smtplib.SMTPServerDisconnected,
                                    smtplib.SMTPResponseException)) as cm:
                c.sendmail("sender@outside.example", [RCPT], mail(body="y" * 20000 + "\r\n"))
            code = getattr(cm.exception, "smtp_code", 421)
            self.assertEqual(code // 100, 4, cm.exception)
            self.assertEqual(parent.data_started, 1)
            line = gw.wait_log("access", r"mail:user@local\.example")[-1]
            self.assertIn(" TCP_MISS/500 ", line)
            try:
                self_client.close()
            except OSError:
                pass
        finally:
            gw.stop()
            parent.stop()


@unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
class TestSpoolFull(unittest.TestCase):
    def test_full_tmpdir_is_a_temporary_failure_and_nothing_is_sent(self):
        import subprocess
        d = os.path.join(ENV["wd"].path, "full")
        mnt = os.path.join(d, "spool")
        os.makedirs(mnt, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount tmpfs: " + r.stderr.strip())
        sink = harness.SmtpSink(d)
        gw = None
        try:
            harness.chown_for_daemons(mnt)
            gw = harness.Gateway(d, ENV["scand"].socket, service="smtp",
                                 section={"parent_server_host": "127.0.0.1",
                                          "parent_server_port": str(sink.port)},
                                 common={"hostname": "gw.test", "tmpdir": mnt})
            with smtplib.SMTP("127.0.0.1", gw.port, timeout=60) as c:
                with self.assertRaises(smtplib.SMTPDataError) as cm:
                    c.sendmail("sender@outside.example", [RCPT],
                               mail(body=("z" * 998 + "\r\n") * 8000))
                self.assertEqual(cm.exception.smtp_code, 451)
                # The session goes on, and a small mail gets through.
                self.assertEqual(c.sendmail("sender@outside.example", [RCPT], mail()), {})
            harness.wait_for(lambda: len(sink.messages()) >= 1, 10, what="small mail")
            time.sleep(0.5)
            self.assertEqual(len(sink.messages()), 1)
            self.assertIn("Hello there.", sink.messages()[0])
        finally:
            if gw:
                gw.stop()
            sink.stop()
            subprocess.run(["umount", mnt], capture_output=True)


class TestSigtermDuringData(unittest.TestCase):
    def test_mail_in_flight_is_delivered_exactly_once(self):
        import threading
        d = os.path.join(ENV["wd"].path, "sigterm")
        os.makedirs(d, exist_ok=True)
        sink = harness.SmtpSink(d)
        gw = harness.Gateway(d, ENV["scand"].socket, service="smtp",
                             section={"parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(sink.port)},
                             common={"hostname": "gw.test", "workers": "1"})
        result = {}
        try:
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=60)
            f = s.makefile("rb")
            f.readline()
            for cmd in (b"EHLO client.test", b"MAIL FROM:<sender@outside.example>",
                        b"RCPT TO:<%s>" % RCPT.encode(), b"DATA"):
                s.sendall(cmd + b"\r\n")
                while True:
                    line = f.readline()
                    if line[3:4] != b"-":
                        break
            self.assertTrue(line.startswith(b"354"), line)
            body = mail(body=("w" * 998 + "\r\n") * 50000).encode()  # ~50 MB
            half = len(body) // 2
            s.sendall(body[:half])
            # SIGTERM with half the message sent: the transaction must finish.
            threading.Timer(0, lambda: result.setdefault("rc", gw.stop())).start()
            time.sleep(0.5)
            s.sendall(body[half:] + b"\r\n.\r\n")
            reply = f.readline()
            self.assertTrue(reply.startswith(b"250"), reply)
            s.close()
            harness.wait_for(lambda: "rc" in result, 30, what="gateway exit")
            harness.wait_for(lambda: len(sink.messages()) >= 1, 30, what="the mail at the sink")
            time.sleep(0.5)
            msgs = sink.messages()
            self.assertEqual(len(msgs), 1)
            self.assertGreater(len(msgs[0]), 49 * 1000 * 1000)
            self.assertEqual(msgs[0].count("w" * 998), 50000)
        finally:
            gw.stop()
            sink.stop()


def _with_fake_scanner(name, scanner_cls, section=None):
    """A gateway whose scanner socket is served by scanner_cls, with its own
    smtp-sink: (gw, sink, scanner); the caller stops all three."""
    d = os.path.join(ENV["wd"].path, name)
    os.makedirs(d, exist_ok=True)
    harness.chown_for_daemons(d)
    scanner = scanner_cls(os.path.join(d, name + ".sock"))
    sink = harness.SmtpSink(d)
    sec = {"parent_server_host": "127.0.0.1", "parent_server_port": str(sink.port)}
    sec.update(section or {})
    gw = harness.Gateway(d, scanner.path, service="smtp", section=sec,
                         common={"hostname": "gw.test"})
    return gw, sink, scanner


class TestScannerDiesMidScan(unittest.TestCase):
    def test_temporary_failure_and_nothing_delivered(self):
        gw, sink, scanner = _with_fake_scanner("dying", DyingScanner)
        try:
            with smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as c:
                with self.assertRaises(smtplib.SMTPDataError) as cm:
                    c.sendmail("sender@outside.example", [RCPT], clean_attachment_mail())
                self.assertEqual(cm.exception.smtp_code, 451)
            self.assertGreaterEqual(scanner.request_count(), 1)  # the scan had started
            time.sleep(0.5)
            self.assertEqual(len(sink.messages()), 0)
        finally:
            gw.stop()
            sink.stop()
            scanner.stop()


class TestScannerHangs(unittest.TestCase):
    def test_temporary_failure_after_the_scan_time_limit(self):
        # vsd_scantimeout=1: the proxy waits at most that plus its 5 s margin
        # for an answer, then gives the mail a temporary failure (SCAN-3, no
        # mail lost: never a silent pass).
        gw, sink, scanner = _with_fake_scanner("hung", HungScanner, {"vsd_scantimeout": "1"})
        try:
            with smtplib.SMTP("127.0.0.1", gw.port, timeout=30) as c:
                with self.assertRaises(smtplib.SMTPDataError) as cm:
                    c.sendmail("sender@outside.example", [RCPT], clean_attachment_mail())
                self.assertEqual(cm.exception.smtp_code, 451)
                self.assertEqual(c.noop()[0], 250)  # the session goes on
            self.assertGreaterEqual(scanner.request_count(), 1)
            line = gw.wait_log("access", r"PROXY-ERROR:PROXY/virus")[-1]
            self.assertIn(" TCP_MISS/500 ", line)
            time.sleep(0.5)
            self.assertEqual(len(sink.messages()), 0)
        finally:
            gw.stop()
            sink.stop()
            scanner.stop()


class TestBadGreeting(unittest.TestCase):
    def test_smtp3_non_220_greeting(self):
        import threading
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]

        def serve():
            # (the harness's own readiness probe is a session too)
            for _ in range(20):
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(b"554 not today\r\n")
                    time.sleep(0.2)
        threading.Thread(target=serve, daemon=True).start()
        d = os.path.join(ENV["wd"].path, "badgreet")
        os.makedirs(d, exist_ok=True)
        gw = harness.Gateway(d, ENV["scand"].socket, service="smtp",
                             section={"parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(port)},
                             common={"hostname": "gw.test"})
        try:
            s = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
            with s:
                line = s.makefile("rb").readline().decode()
            self.assertEqual(line.split(" (Sekisho/")[0],
                             "421 Cannot get correct greeting message from mail server "
                             "(127.0.0.1:%d). return code=554" % port)
        finally:
            gw.stop()
            srv.close()
