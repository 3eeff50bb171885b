"""RETR through the POP proxy (spec POP-7, POP-9, POP-1, C-28, C-29, SCAN-12,
LOG-2, TPL-1 template_pop.txt) with a real dovecot, Python's poplib, a raw
client and curl's pop3://.

Clean mail comes out byte-identical (the wire is compared, stuffing
included); a detection with action=delete replaces the mail by our lines
and template_pop.txt, with action=pass our lines precede the original;
every RETR has one access record; a RETR the proxy cannot finish (the
client or the server leaves, the scanner is dead) never hands out a
message that looks whole."""
import hashlib
import os
import poplib
import re
import socket
import struct
import subprocess
import time
import unittest
import urllib.parse

import harness
from harness import fake_scanner
from harness import mail_fixtures as mf
from harness.pop_proxy import (ORDER, PRODUCT_RX, CLOSE, PopCase, PopEnv, RawPop,
                               TIMEOUT, msgno, stuff, unstuff)

ENV = {}
EICAR_NAME = "Eicar-Test-Signature"
RFC822_DATE = r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [+-]\d{4}"


def setUpModule():
    ENV["env"] = PopEnv("pop-retr")


def tearDownModule():
    ENV["env"].stop()


def proxy_error(line):
    m = re.search(r" PROXY-ERROR:(.*):$", line)
    return urllib.parse.unquote_plus(m.group(1)) if m else None


class RetrCase(PopCase):
    ENV = ENV

    def url(self, user="alice"):
        return "pop://%s@127.0.0.1:%d" % (user, self.a.port)

    def retr(self, name, user="alice", password="alice-pw"):
        """(status line, message as the client gets it, unstuffed) of RETR
        of fixture name."""
        c = self.client()
        c.login(user, password)
        st, body = c.multi("RETR %d" % msgno(name))
        self.assertTrue(st.startswith(b"+OK"), st)
        c.cmd("QUIT")
        return st, body

    def records(self, rx, count=1):
        return self.access_lines(rx, count=count)

    def assertLead(self, message, name=EICAR_NAME):
        """C-28, C-29: our two lines first; returns the rest."""
        lines = message.split(b"\r\n", 2)
        self.assertRegex(lines[0].decode(), r"^Received: from SEKISHO: %s$" % RFC822_DATE)
        self.assertRegex(lines[1].decode(), r"^X-Virus-Status: infected\(%s\) with %s$"
                         % (PRODUCT_RX, re.escape(name)))
        return lines[2]


class TestRetrDelete(RetrCase):
    """action=delete (the default) with quarantine and notify_admin."""
    SECTION = {"quarantine": "yes", "notify_admin": "yes"}

    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["env"].wd.path, cls.__name__ + "-admin")
        os.makedirs(d, exist_ok=True)
        cls.admin_sink = harness.SmtpSink(d)
        cls.COMMON = {"admin_mailaddr": "admin@gw.test", "admin_mx_host": "127.0.0.1",
                      "admin_mx_port": str(cls.admin_sink.port), "admin_notification_id": "4343"}
        try:
            super().setUpClass()
        except Exception:
            cls.admin_sink.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.admin_sink.stop()

    def test_pop7_clean_mails_byte_identical(self):
        c = self.client()
        c.login()
        for name in ("clean_text", "clean_attachment", "dots", "blocked_ext", "html_script"):
            st, body = c.multi("RETR %d" % msgno(name))
            self.assertEqual(st, b"+OK %d octets" % len(mf.FIXTURES[name]), name)
            self.assertEqual(body, stuff(mf.FIXTURES[name]), name)
        self.assertIn(b"\r\n..hidden line\r\n...two periods\r\n..\r\n", stuff(mf.FIXTURES["dots"]))
        c.cmd("QUIT")

    def test_pop7_clean_with_poplib(self):
        p = poplib.POP3("127.0.0.1", self.gw.port, timeout=TIMEOUT)
        p.user("alice")
        p.pass_("alice-pw")
        for name in ORDER:
            if name.startswith("eicar"):
                continue
            _r, lines, _ = p.retr(msgno(name))
            self.assertEqual(b"".join(ln + b"\r\n" for ln in lines), mf.FIXTURES[name], name)
        p.quit()

    def test_pop9_record_of_a_clean_retr(self):
        c = self.client(source="127.0.0.2")
        c.login()
        st, _body = c.multi("RETR %d" % msgno("clean_attachment"))
        c.cmd("QUIT")
        line = self.records(r" 127\.0\.0\.2 TCP_MISS/200 %d GET %s - DIRECT/127\.0\.0\.1 "
                            r"multipart/mixed " % (len(mf.FIXTURES["clean_attachment"]),
                                                   re.escape(self.url())))[-1]
        self.assertIn(" DETECT-STAT:CLEAN::::: ACTION:NONE: ", line)
        # LOG-2: PROXY-STAT:pop:<id>:<pid>:<host-ip>:<files = 1>:...; PROTOCOL-STAT empty
        self.assertRegex(line, r" PROXY-STAT:pop:\d+:\d+:127\.0\.0\.2:1:\d+:\d+:: "
                               r"PROTOCOL-STAT::: PROXY-ERROR::$")

    def test_pop7_eicar_replaced_by_template(self):
        for name, fname in (("eicar", "eicar.com"), ("eicar_zip", "eicar.zip")):
            st, body = self.retr(name)
            self.assertEqual(st, b"+OK %d octets" % len(mf.FIXTURES[name]))
            msg = unstuff(body)
            self.assertNotIn(harness.EICAR, msg)
            self.assertNotIn(b"This is a multi-part message", msg)
            rest = self.assertLead(msg)
            # POP-7: Date, To, Cc of the original, in that order, then the template.
            head = "Date: %s\r\nTo: %s\r\nCc: %s\r\n" % (mf.DATE, mf.TO, mf.CC)
            self.assertTrue(rest.startswith(head.encode()), rest[:300])
            tpl = rest[len(head):].decode()
            self.assertTrue(tpl.startswith("Subject: [VIRUS REMOVED] %s\r\n" % EICAR_NAME), tpl)
            header, text = tpl.split("\r\n\r\n", 1)
            self.assertIn("This message replaces a mail that the Sekisho anti-virus gateway",
                          text)
            self.assertIn("Detection name:  %s\r\n" % EICAR_NAME, text)
            self.assertIn("Infected part:   %s\r\n" % fname, text)
            self.assertIn("Action taken:    DELETE\r\n", text)
            self.assertIn("Mail server:     127.0.0.1 [127.0.0.1]\r\n", text)
            self.assertIn("Subject: %s\r\n" % name.replace("_", " "), text)  # #{HEADER}

    def test_pop7_no_date_to_cc_when_absent(self):
        mail = (b"From: x@outside.example\r\nSubject: bare\r\nMIME-Version: 1.0\r\n"
                b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
                b"Content-Type: application/octet-stream; name=\"e.com\"\r\n"
                b"Content-Disposition: attachment; filename=\"e.com\"\r\n\r\n" +
                harness.EICAR + b"\r\n--b--\r\n")
        self.b.add_message("carol", mail)
        # carol is on b: a gateway in front of b.
        gw = harness.Gateway(os.path.join(self.dir, "gw-b"), self.env.scand.socket,
                             service="pop", common={"hostname": "gw.test"},
                             section={"parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(self.b.port)})
        self.addCleanup(gw.stop)
        c = RawPop(gw.port)
        self.addCleanup(c.close)
        c.login("carol", "carol-pw")
        st, body = c.multi("RETR 1")
        rest = self.assertLead(unstuff(body))
        self.assertTrue(rest.startswith(b"Subject: [VIRUS REMOVED] %s\r\n" % EICAR_NAME.encode()),
                        rest[:200])
        c.cmd("QUIT")

    def test_pop9_scan12_records_logs_quarantine_notification(self):
        c = self.client(source="127.0.0.3")
        c.login()
        st, body = c.multi("RETR %d" % msgno("eicar"))
        self.assertTrue(st.startswith(b"+OK"))
        c.cmd("QUIT")
        line = self.records(r" 127\.0\.0\.3 TCP_MISS/200 %d GET %s " % (
            len(mf.FIXTURES["eicar"]), re.escape(self.url())))[-1]
        m = re.search(r" DETECT-STAT:INFECTED:%s:eicar\.com:([^:]+):: ACTION:DELETE: " %
                      EICAR_NAME, line)
        self.assertTrue(m, line)
        self.assertRegex(line, r" PROXY-STAT:pop:\d+:\d+:127\.0\.0\.3:1:[1-9]\d*:\d+:: ")
        # the detect log has the same record
        self.gw.wait_log("detect", re.escape(m.group(1)))
        # LOG-4 info line
        self.gw.wait_log("info", r"Infected: URL=\[%s\] VirusName: %s File: \[eicar\.com\] "
                         r"action=DELETE$" % (re.escape(self.url()), EICAR_NAME))
        # SCAN-12: quarantined in mailbox format
        path = os.path.join(self.gw.prefix, "tmp", "quarantine", m.group(1))
        with open(path, "rb") as f:
            box = f.read()
        self.assertTrue(box.startswith(b"From "), box[:80])
        self.assertIn(b"\nSubject: eicar\n", box)
        self.assertIn(mf.FIXTURES["eicar"].split(b"\r\n\r\n", 1)[1].replace(b"\r\n", b"\n"),
                      box)  # the whole original, LF line ends
        # notify_admin
        admin = harness.wait_for(lambda: [t for t in self.admin_sink.messages()
                                          if "X-Admin-Notification-Id: 4343" in t
                                          and "eicar.com" in t], 10, what="admin mail")
        self.assertIn(EICAR_NAME, admin[-1])
        self.assertIn(self.url(), admin[-1])

    def test_pop7_blocked_ext_and_html_script_pass_when_not_blocked(self):
        for name in ("blocked_ext", "html_script"):
            _st, body = self.retr(name)
            self.assertEqual(body, stuff(mf.FIXTURES[name]))


class TestRetrPass(RetrCase):
    SECTION = {"action": "pass"}

    def test_pop7_pass_prepends_our_lines_to_the_original(self):
        # responses.tsv: "Virus in RETR message, action=pass" and
        # "Inserted on top ... Received: from ...".
        for name, fname in (("eicar", "eicar.com"), ("eicar_zip", "eicar.zip")):
            _st, body = self.retr(name)
            rest = self.assertLead(unstuff(body))
            self.assertEqual(rest, mf.FIXTURES[name])
            line = self.records(r" GET %s .* DETECT-STAT:INFECTED:%s:%s:" % (
                re.escape(self.url()), EICAR_NAME, re.escape(fname)))[-1]
            self.assertIn(" ACTION:PASS: ", line)
        _st, body = self.retr("clean_text")
        self.assertEqual(body, stuff(mf.FIXTURES["clean_text"]))


class TestRetrPolicies(RetrCase):
    SECTION = {"block_ext": "yes", "block_ext_list": ".COM,.PIF,.EXE,.BAT",
               "block_script": "yes"}

    def test_pop7_blocked_ext_replaced(self):
        _st, body = self.retr("blocked_ext")
        rest = self.assertLead(unstuff(body), "SEKISHO/POLICY_BLOCK_EXT")
        self.assertIn(b"Subject: [VIRUS REMOVED] SEKISHO/POLICY_BLOCK_EXT\r\n", rest)
        line = self.records(r"DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_EXT:setup\.exe:")[-1]
        self.assertIn(" ACTION:DELETE: ", line)

    def test_pop7_html_script_replaced(self):
        _st, body = self.retr("html_script")
        rest = self.assertLead(unstuff(body), "SEKISHO/POLICY_BLOCK_SCRIPT")
        self.assertIn(b"Subject: [VIRUS REMOVED] SEKISHO/POLICY_BLOCK_SCRIPT\r\n", rest)

    def test_clean_mail_still_identical(self):
        _st, body = self.retr("clean_attachment")
        self.assertEqual(body, stuff(mf.FIXTURES["clean_attachment"]))


class TestCurl(RetrCase):
    """curl's pop3:// client through the proxy: LIST and RETR."""

    def curl(self, path=""):
        r = subprocess.run(["curl", "-s", "-S", "--max-time", str(60 * harness.SLOW),
                            "-u", "alice:alice-pw",
                            "pop3://127.0.0.1:%d/%s" % (self.gw.port, path)],
                           capture_output=True, timeout=120 * harness.SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_curl_list(self):
        out = self.curl()
        self.assertEqual(out, b"".join(b"%d %d\r\n" % (i + 1, len(mf.FIXTURES[n]))
                                       for i, n in enumerate(ORDER)))

    def test_curl_retr_clean_and_dots(self):
        for name in ("clean_text", "clean_attachment", "dots"):
            self.assertEqual(self.curl(str(msgno(name))), mf.FIXTURES[name], name)

    def test_curl_retr_eicar_replaced(self):
        out = self.curl(str(msgno("eicar")))
        rest = self.assertLead(out)
        self.assertIn(b"Subject: [VIRUS REMOVED] %s\r\n" % EICAR_NAME.encode(), rest)
        self.assertNotIn(harness.EICAR, out)


class TestRetrInterrupted(RetrCase):
    """The client or the server leaves in the middle of a RETR; other
    sessions go on."""
    PARENT = "fake"

    def cut_retr(self, conn, line):
        # +OK, half a message, then the server closes.
        conn.sendall(b"+OK 5000 octets\r\nSubject: cut\r\n\r\n" + b"x" * 2000 + b"\r\n")
        time.sleep(0.2)
        return CLOSE

    def slow_retr(self, conn, line):
        # A long message that takes a while: the client leaves meanwhile.
        conn.sendall(b"+OK 900000 octets\r\nSubject: slow\r\n\r\n")
        for _ in range(300):
            try:
                conn.sendall(b"y" * 2998 + b"\r\n")
            except OSError:
                return CLOSE
            time.sleep(0.01)
        return b".\r\n"

    def test_server_closes_mid_message(self):
        self.fake.reset(RETR=self.cut_retr)
        other = self.client()
        self.assertEqual(other.cmd("USER other"), b"+OK user")
        c = self.client()
        c.login("cut", "pw")
        self.assertEqual(c.cmd("RETR 1"), b"+OK 5000 octets")
        rest = c.wait_closed()
        self.assertFalse(rest.endswith(b"\r\n.\r\n"), rest[-20:])
        self.assertNotIn(b"Subject: cut", rest)  # nothing unjudged goes out
        self.gw.wait_log("info", r"pop: the server \(127\.0\.0\.1:%d\) closed the connection "
                                 r"during RETR" % self.fake.port)
        line = self.records(r" GET pop://cut@127\.0\.0\.1:%d " % self.fake.port)[-1]
        self.assertIn(" TCP_MISS/500 ", line)
        self.assertEqual(proxy_error(line), "SERVER/connection lost during RETR")
        self.assertEqual(other.cmd("PASS x"), b"+OK logged in")
        self.assertEqual(other.cmd("NOOP"), b"+OK")

    def test_client_leaves_mid_retr(self):
        self.fake.reset(RETR=self.slow_retr)
        other = self.client()
        self.assertEqual(other.cmd("USER other2"), b"+OK user")
        c = self.client()
        c.login("gone", "pw")
        self.assertEqual(c.cmd("RETR 1"), b"+OK 900000 octets")
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        self.gw.wait_log("info", r"pop: the client left during RETR")
        line = self.records(r" GET pop://gone@127\.0\.0\.1:%d " % self.fake.port)[-1]
        self.assertIn(" TCP_MISS/500 ", line)
        self.assertEqual(proxy_error(line), "CLIENT/connection closed during RETR")
        self.assertEqual(other.cmd("PASS x"), b"+OK logged in")
        self.assertEqual(other.cmd("NOOP"), b"+OK")

    def test_client_leaves_while_the_message_is_sent(self):
        # The message is whole and judged; the client reads its start and
        # goes: the record still comes, with the client's error.
        big = b"Subject: big\r\n\r\n" + (b"z" * 998 + b"\r\n") * 20000
        self.fake.reset(RETR=b"+OK big\r\n" + stuff(big))
        c = self.client()
        c.login("reader", "pw")
        self.assertEqual(c.cmd("RETR 1"), b"+OK big")
        c.sock.recv(1000)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        line = self.records(r" GET pop://reader@127\.0\.0\.1:%d " % self.fake.port)[-1]
        self.assertIn(" TCP_MISS/500 ", line)
        self.assertEqual(proxy_error(line), "CLIENT/connection closed during RETR")
        c = self.client()
        self.assertEqual(c.cmd("NOOP"), b"+OK")


class TestScannerDead(RetrCase):
    """sekisho-scand dies during the scan: the message is not delivered, the
    connection closes before the end line, the mail stays on the server."""

    @classmethod
    def setUpClass(cls):
        cls.dying = fake_scanner.DyingScanner(os.path.join(ENV["env"].wd.path, "dying.sock"))
        real = ENV["env"].scand.socket
        ENV["env"].scand.socket = cls.dying.path
        try:
            super().setUpClass()
        finally:
            ENV["env"].scand.socket = real

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.dying.stop()

    def test_scanner_dead_message_not_delivered(self):
        c = self.client()
        c.login()
        n = msgno("eicar")
        st = c.cmd("RETR %d" % n)
        self.assertTrue(st.startswith(b"+OK"), st)
        rest = c.wait_closed(30)
        self.assertFalse(rest.endswith(b"\r\n.\r\n"), rest[-20:])
        self.assertNotIn(b"EICAR", rest)
        self.assertGreaterEqual(self.dying.request_count(), 1)
        line = self.records(r" GET %s " % re.escape(self.url()))[-1]
        self.assertIn(" TCP_MISS/500 ", line)
        self.assertTrue(proxy_error(line).startswith("PROXY/virus scan failed"), line)
        self.gw.wait_log("error", r"pop: RETR from \(127\.0\.0\.1:%d\) not delivered: "
                                  r"PROXY/virus scan failed" % self.a.port)
        # the mail is still on the server
        d = RawPop(self.a.port)
        self.addCleanup(d.close)
        d.login()
        self.assertEqual(d.cmd("LIST %d" % n), b"+OK %d %d" % (n, len(mf.FIXTURES["eicar"])))
        self.assertEqual(d.multi("RETR %d" % n)[1], stuff(mf.FIXTURES["eicar"]))


class TestZBigMail(RetrCase):
    """Last: 100 MB through RETR, compared by digest while streaming."""
    PARENT = "b"

    def test_big_mail_byte_identical(self):
        path = os.path.join(self.dir, "big.eml")
        size = mf.big_mail_file(path)
        want = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                want.update(chunk)
        self.b.add_message("carol", path=path)
        os.unlink(path)
        c = self.client()
        c.login("carol", "carol-pw")
        n = int(c.cmd("STAT").split()[1])
        self.assertEqual(c.cmd("RETR %d" % n), b"+OK %d octets" % size)
        got, total, tail = hashlib.sha256(), 0, b""
        data = c.buf
        c.buf = b""
        while total < size + 3:
            chunk = data or c.sock.recv(1 << 20)
            data = b""
            if not chunk:
                break
            got.update(chunk[:max(0, size - total)])
            tail = (tail + chunk)[-5:]
            total += len(chunk)
        self.assertEqual(total, size + 3)
        self.assertEqual(tail, b"\r\n.\r\n")
        self.assertEqual(got.hexdigest(), want.hexdigest())
        self.assertEqual(c.cmd("QUIT"), b"+OK Logging out.")
        line = self.records(r" TCP_MISS/200 %d GET pop://carol@127\.0\.0\.1:%d " % (
            size, self.b.port))[-1]
        self.assertIn(" DETECT-STAT:CLEAN::::: ", line)


if __name__ == "__main__":
    unittest.main()
