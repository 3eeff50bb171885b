"""Templates and generated mails (TPL-1 ... TPL-5, G-31), triggered for real.

Every page and mail the gateway renders from a template: the HTTP detection
page (an EICAR download), the HTTP error page (an unreachable server), the
progress page, the admin notification (HTTP and SMTP), and the SMTP sendback
/ delete notifications (template_smtp.txt, template_smtp_lan.txt). Each
template is the shipped one with a last line naming all 25 variables of
TPL-3, so the tests see what every variable became in every context: no
`${...}` / `#{...}` may be left, and each value is checked. The mails are
read as smtp-sink stored them: exact header bytes, and Python's email
package must decode them back to the original text (RFC 2047, G-31)."""
import base64
import email
import email.policy
import os
import re
import shutil
import smtplib
import socket
import subprocess
import threading
import unittest
import urllib.parse

import harness
from harness import origin as org
from harness import testfiles

ENV = {}
RCPT = "user@local.example"
INFO_BASE = "https://www.virustotal.com/gui/search/"
# 200 characters, with the reserved characters a name can hold.
LONG_NAME = ("Sekisho.Test/Long@Name+With=Reserved&Chars-" + "x" * 200)[:200]
LONG_MARK = b"SEKISHO-LONG-DETECTION-NAME-TEST-FILE: harmless text detected by a test signature"

# TPL-3, in the guide's order; ${} for the first 16, #{} for the rest.
VARS = ["SERVICE_TYPE", "DETECTION_NAME", "VIRUS_INFO_URL", "CLIENT_HOST", "CLIENT_ADDR",
        "SERVER_HOST", "SERVER_ADDR", "STATUS", "METHOD", "URL", "CONTENT_TYPE",
        "CONTENT_LENGTH", "FILENAME", "QUARANTINE_FILE", "TIME", "TIME_STR", "TEXT", "MAILFROM",
        "RCPTTO", "MESSAGE_ID", "ERROR_STR", "ACTION", "PATH_QUERY", "X_FORWARDED_FOR",
        "HEADER"]
ALL_LINE = "ALL:" + "|".join(("${%s}" if i < 16 else "#{%s}") % v
                             for i, v in enumerate(VARS)) + "|END\n"
SIGIL = re.compile(r"[$#]\{[A-Za-z0-9_]*\}")

JA_SUBJECT = "ウイルスを検出しました: ${DETECTION_NAME} (送信者 #{MAILFROM})"
JA_FROM_NAME = "関所ゲートウェイ 管理者"
JA_FROM_ADDR = "gw-notice@example.test"
JA_BODY = "このメールは関所ゲートウェイが自動的に送信しました。"


def info_url(name):
    return INFO_BASE + urllib.parse.quote(name, safe="")


def template_dir(path, ja_smtp=False):
    """The shipped templates, each ending with ALL_LINE."""
    os.makedirs(path, exist_ok=True)
    src = os.path.join(harness.REPO, "conf")
    for name in os.listdir(src):
        if not name.startswith("template_"):
            continue
        with open(os.path.join(src, name), encoding="utf-8") as f:
            text = f.read()
        if ja_smtp and name in ("template_smtp.txt", "template_smtp_lan.txt"):
            body = text.split("\n\n", 1)[1]
            text = "Subject: %s\nFrom: %s <%s>\n\n%s\n%s" % (
                JA_SUBJECT, JA_FROM_NAME, JA_FROM_ADDR, JA_BODY, body)
        with open(os.path.join(path, name), "w", encoding="utf-8") as f:
            f.write(text.rstrip("\n") + "\n" + ALL_LINE)
    return path


def all_values(text):
    """The 25 values of the ALL line, by name."""
    i = text.rindex("ALL:")
    j = text.index("|END", i)
    parts = text[i + 4:j].split("|")
    if len(parts) != len(VARS):
        raise AssertionError("ALL line has %d fields: %r" % (len(parts), text[i:j + 4]))
    return dict(zip(VARS, parts))


def setUpModule():
    wd = harness.Workdir("templates")
    ENV["wd"] = wd
    db = os.path.join(wd.path, "db")
    os.makedirs(db)
    shutil.copy(os.path.join(harness.REPO, "databases", "sekisho-test.ndb"), db)
    with open(os.path.join(db, "long-name.ndb"), "w") as f:
        f.write("%s:0:*:%s\n" % (LONG_NAME, LONG_MARK.hex()))
    for name in os.listdir(db):
        os.chmod(os.path.join(db, name), 0o644)
    www = os.path.join(wd.path, "www")
    os.makedirs(www)
    with open(os.path.join(www, "eicar.com"), "wb") as f:
        f.write(testfiles.EICAR)
    with open(os.path.join(www, "long.bin"), "wb") as f:
        f.write(LONG_MARK + b"\n")
    ENV["nginx"] = harness.Nginx(www, wd.path)
    ENV["scand"] = harness.Scand(wd.path, databases=db)
    ENV["tpl"] = template_dir(os.path.join(wd.path, "tpl"))
    ENV["tpl_ja"] = template_dir(os.path.join(wd.path, "tpl-ja"), ja_smtp=True)


def tearDownModule():
    for key in ("scand", "nginx"):
        ENV[key].stop()
    ENV["wd"].cleanup()


def sink_raw(sink):
    out = []
    for name in sorted(os.listdir(sink.dir)):
        with open(os.path.join(sink.dir, name), "rb") as f:
            out.append(f.read())
    return out


def wait_mail(sink, pred, what):
    return harness.wait_for(lambda: [m for m in sink_raw(sink) if pred(m)], 15, what=what)[-1]


def header_block(raw):
    """The header block as smtp-sink stored it (it ends lines in LF)."""
    return raw.split(b"\n\n", 1)[0]


class MailChecks:
    """Assertions shared by every mail read from smtp-sink."""

    def check_mail_form(self, raw):
        head = header_block(raw)
        for line in head.split(b"\n"):
            self.assertLessEqual(len(line), 998, line[:80])
            for word in re.findall(rb"=\?[^?]+\?[BbQq]\?[^?]*\?=", line):
                self.assertLessEqual(len(word), 75, word)  # RFC 2047 2
        self.assertRegex(head, rb"(?m)^MIME-Version: 1\.0$")
        self.assertEqual(len(re.findall(rb"(?im)^MIME-Version:", head)), 1)
        self.assertRegex(head, rb"(?m)^Content-Type: text/plain; charset=UTF-8$")
        self.assertRegex(head, rb"(?m)^Content-Transfer-Encoding: (7|8)bit$")
        text = raw.decode("utf-8")
        self.assertIsNone(SIGIL.search(text), SIGIL.search(text))
        return email.message_from_bytes(raw, policy=email.policy.default)


# ---- HTTP --------------------------------------------------------------------


class TestHttpPages(unittest.TestCase, MailChecks):
    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, "http")
        os.makedirs(d, exist_ok=True)
        cls.admin = harness.SmtpSink(d)
        cls.gw = harness.Gateway(
            d, ENV["scand"].socket, templates_from=ENV["tpl"],
            section={"action": "delete", "notify_admin": "yes", "quarantine": "yes"},
            common={"admin_mailaddr": "av-admin@example.test", "admin_mx_host": "127.0.0.1",
                    "admin_mx_port": str(cls.admin.port), "admin_notification_id": "5151"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.admin.stop()

    def get(self, url):
        r = subprocess.run(["curl", "-s", "-x", self.gw.proxy, "-H",
                            "X-Forwarded-For: 203.0.113.9", "--max-time", "30", "-w",
                            "\n%{http_code}", url], capture_output=True, timeout=60)
        body, _, code = r.stdout.rpartition(b"\n")
        return int(code), body.decode("utf-8")

    def check_page(self, body):
        self.assertIsNone(SIGIL.search(body), SIGIL.search(body))
        return all_values(body)

    def test_detection_page_has_every_variable(self):
        url = ENV["nginx"].url("eicar.com")
        code, body = self.get(url)
        self.assertEqual(code, 403)
        v = self.check_page(body)
        self.assertEqual(v["SERVICE_TYPE"], "http")
        self.assertEqual(v["DETECTION_NAME"], "Eicar-Test-Signature")
        self.assertEqual(v["VIRUS_INFO_URL"], info_url("Eicar-Test-Signature"))
        self.assertEqual(v["CLIENT_ADDR"], "127.0.0.1")
        self.assertEqual(v["CLIENT_HOST"], "127.0.0.1")
        self.assertEqual(v["SERVER_ADDR"], "127.0.0.1")
        self.assertEqual(v["SERVER_HOST"], "127.0.0.1")
        self.assertEqual(v["STATUS"], "403")
        self.assertEqual(v["METHOD"], "GET")
        self.assertEqual(v["URL"], url)
        self.assertEqual(v["CONTENT_LENGTH"], str(len(testfiles.EICAR)))
        self.assertEqual(v["FILENAME"], "eicar.com")
        self.assertRegex(v["QUARANTINE_FILE"], r"^http-\d+\.\d+\.\d+$")
        self.assertRegex(v["TIME"], r"^\d{10}$")
        self.assertRegex(v["TIME_STR"], r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
        self.assertEqual(v["ACTION"], "DELETE")
        self.assertEqual(v["PATH_QUERY"], "/eicar.com")
        self.assertEqual(v["X_FORWARDED_FOR"], "203.0.113.9")
        for name in ("TEXT", "MAILFROM", "RCPTTO", "MESSAGE_ID", "ERROR_STR", "HEADER"):
            self.assertEqual(v[name], "", name)  # no meaning on an HTTP page

    def test_long_detection_name_url_is_whole(self):
        code, body = self.get(ENV["nginx"].url("long.bin"))
        self.assertEqual(code, 403)
        v = self.check_page(body)
        self.assertEqual(v["DETECTION_NAME"], LONG_NAME.replace("&", "&amp;"))
        self.assertEqual(v["VIRUS_INFO_URL"], info_url(LONG_NAME))
        self.assertIn('<a href="%s"' % info_url(LONG_NAME), body)
        raw = wait_mail(self.admin, lambda m: info_url(LONG_NAME).encode() in m,
                        "admin mail with the long name's URL")
        self.check_mail_form(raw)

    def test_error_page_has_every_variable(self):
        url = "http://127.0.0.1:%d/refused?a=1" % harness.free_port()
        code, body = self.get(url)
        self.assertEqual(code, 503)
        v = self.check_page(body)
        self.assertIn("Connection refused", v["ERROR_STR"])
        self.assertEqual(v["STATUS"], "503")
        self.assertEqual(v["URL"], url)
        self.assertEqual(v["PATH_QUERY"], "/refused?a=1")
        self.assertEqual(v["DETECTION_NAME"], "")
        self.assertEqual(v["VIRUS_INFO_URL"], "")
        self.assertEqual(v["MAILFROM"], "")

    def test_admin_notification_has_every_variable(self):
        url = ENV["nginx"].url("eicar.com") + "?admin"
        self.get(url)
        raw = wait_mail(self.admin, lambda m: url.encode() in m, "admin mail")
        msg = self.check_mail_form(raw)
        self.assertEqual(msg["X-Admin-Notification-Id"], "5151")
        self.assertEqual(msg["Subject"], "[Sekisho] Eicar-Test-Signature detected (http)")
        v = all_values(msg.get_content())
        self.assertEqual(v["SERVICE_TYPE"], "http")
        self.assertEqual(v["URL"], url)
        self.assertEqual(v["VIRUS_INFO_URL"], info_url("Eicar-Test-Signature"))
        self.assertEqual(v["PATH_QUERY"], "/eicar.com?admin")
        self.assertEqual(v["MAILFROM"], "")


class TestHttpProgressPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, "progress")
        os.makedirs(d, exist_ok=True)
        cls.origin = org.Origin()
        cls.gw = harness.Gateway(d, ENV["scand"].socket, templates_from=ENV["tpl"],
                                 section={"progress": "yes", "progress_delay": "1"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.origin.stop()

    def test_progress_page_has_every_variable(self):
        gate = threading.Event()
        self.addCleanup(gate.set)
        first = testfiles.clean_bytes(200 * 1024, seed=21)

        def behaviour(conn, req):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % (2 * len(first)) + first)
            gate.wait(60)
            conn.sendall(first)
        self.origin.route("/dl/setup.bin", behaviour)
        url = self.origin.url("/dl/setup.bin")
        ua = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=60) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n"
                      % (url.encode(), ua.encode()))
            data = b""
            while b"|END" not in data:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
        body = data.partition(b"\r\n\r\n")[2].decode("utf-8")
        self.assertIn("downloading", body)
        self.assertIsNone(SIGIL.search(body), SIGIL.search(body))
        v = all_values(body)
        self.assertEqual(v["SERVICE_TYPE"], "http")
        self.assertEqual(v["URL"], url)
        self.assertEqual(v["FILENAME"], "setup.bin")
        self.assertEqual(v["DETECTION_NAME"], "")
        self.assertEqual(v["MESSAGE_ID"], "")


# ---- SMTP --------------------------------------------------------------------


def eicar_mail(subject="eicar", content=None, filename="eicar.com"):
    content = content if content is not None else testfiles.EICAR.decode()
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <tpl@outside.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n%s\r\n--b1--\r\n"
            % (RCPT, subject, filename, filename, content))


class SmtpTemplateCase(unittest.TestCase, MailChecks):
    SECTION = {}
    TEMPLATES = "tpl"
    HOSTS_ALLOW = ""

    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(d, exist_ok=True)
        cls.sink = harness.SmtpSink(d)
        ad = os.path.join(d, "admin")
        os.makedirs(ad, exist_ok=True)
        cls.admin = harness.SmtpSink(ad)
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port),
                   "virus_check": "yes", "quarantine": "yes", "notify_admin": "yes"}
        section.update(cls.SECTION)
        cls.gw = harness.Gateway(
            d, ENV["scand"].socket, service="smtp", section=section,
            templates_from=ENV[cls.TEMPLATES], hosts_allow=cls.HOSTS_ALLOW,
            common={"hostname": "gw.test", "admin_mailaddr": "av-admin@example.test",
                    "admin_mx_host": "127.0.0.1", "admin_mx_port": str(cls.admin.port),
                    "admin_notification_id": "6262"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()
        cls.admin.stop()

    def send(self, msg, sender="sender@outside.example"):
        with smtplib.SMTP("127.0.0.1", self.gw.port, local_hostname="client.test",
                          timeout=30) as c:
            return c.sendmail(sender, [RCPT], msg)

    def check_smtp_values(self, v, action):
        self.assertEqual(v["SERVICE_TYPE"], "smtp")
        self.assertEqual(v["DETECTION_NAME"], "Eicar-Test-Signature")
        self.assertEqual(v["VIRUS_INFO_URL"], info_url("Eicar-Test-Signature"))
        self.assertEqual(v["CLIENT_ADDR"], "127.0.0.1")
        self.assertEqual(v["SERVER_ADDR"], "127.0.0.1")
        self.assertEqual(v["STATUS"], "000")  # C-41: nothing relayed
        self.assertEqual(v["METHOD"], "GET")
        self.assertEqual(v["URL"], "mail:" + RCPT)
        self.assertEqual(v["CONTENT_TYPE"], "multipart/mixed")
        self.assertRegex(v["CONTENT_LENGTH"], r"^\d{3,}$")
        self.assertEqual(v["FILENAME"], "eicar.com")
        self.assertRegex(v["QUARANTINE_FILE"], r"^smtp-\d+\.\d+\.\d+$")
        self.assertRegex(v["TIME"], r"^\d{10}$")
        self.assertEqual(v["MAILFROM"], "sender@outside.example")
        self.assertEqual(v["RCPTTO"], RCPT)
        self.assertEqual(v["MESSAGE_ID"], "<tpl@outside.example>")
        self.assertEqual(v["ACTION"], action)
        self.assertIn("Message-ID: <tpl@outside.example>", v["HEADER"])
        for name in ("PATH_QUERY", "X_FORWARDED_FOR", "TEXT"):
            self.assertEqual(v[name], "", name)


class TestSmtpDeleteAndAdmin(SmtpTemplateCase):
    SECTION = {"action": "delete"}

    def test_delete_notification_has_every_variable(self):
        self.assertEqual(self.send(eicar_mail(subject="delete-case")), {})
        raw = wait_mail(self.sink, lambda m: b"Subject: delete-case" in m, "delete notification")
        msg = self.check_mail_form(raw)
        self.assertEqual(msg["Subject"], "Virus notification: Eicar-Test-Signature")
        self.assertEqual(msg["From"], "av-admin@example.test")  # no From: in the template
        self.check_smtp_values(all_values(msg.get_content()), "DELETE")

    def test_admin_notification_has_every_variable(self):
        self.send(eicar_mail(subject="admin-case"))
        raw = wait_mail(self.admin, lambda m: b"Subject: admin-case" in m, "admin mail")
        msg = self.check_mail_form(raw)
        self.assertEqual(msg["Subject"], "[Sekisho] Eicar-Test-Signature detected (smtp)")
        self.check_smtp_values(all_values(msg.get_content()), "DELETE")


class TestSmtpSendbackJapanese(SmtpTemplateCase):
    # The sender's domain is local (sendback_any_sender=no, issue 10).
    SECTION = {"action": "sendback", "smtp_rcpt": "outside.example"}
    TEMPLATES = "tpl_ja"

    @staticmethod
    def encoded_words(text):
        """The encoding G-31 specifies: UTF-8 "B" words of at most 36 bytes,
        whole characters, folded with a line end and SP (smtp-sink
        stores LF)."""
        words, chunk = [], b""
        for ch in text:
            b = ch.encode("utf-8")
            if len(chunk) + len(b) > 36:
                words.append(chunk)
                chunk = b""
            chunk += b
        words.append(chunk)
        return "\n ".join("=?UTF-8?B?%s?=" % base64.b64encode(w).decode() for w in words)

    def test_utf8_subject_and_from_are_rfc2047_encoded(self):
        self.assertEqual(self.send(eicar_mail(subject="ja-case")), {})
        raw = wait_mail(self.sink, lambda m: b"Subject: ja-case" in m, "sendback notification")
        subject = JA_SUBJECT.replace("${DETECTION_NAME}", "Eicar-Test-Signature").replace(
            "#{MAILFROM}", "sender@outside.example")
        head = header_block(raw).decode("ascii")  # every header byte is ASCII now
        self.assertIn("\nSubject: %s\n" % self.encoded_words(subject), head)
        self.assertIn("\nFrom: %s <%s>\n" % (self.encoded_words(JA_FROM_NAME), JA_FROM_ADDR),
                      head)
        self.assertIn("\nX-Mail-Args: <%s>\n" % JA_FROM_ADDR, head)  # TPL-2 envelope
        self.assertIn("\nTo: sender@outside.example\n", head)
        self.assertRegex(head, r"(?m)^Content-Transfer-Encoding: 8bit$")  # UTF-8 body
        msg = self.check_mail_form(raw)
        self.assertEqual(msg["Subject"], subject)
        self.assertEqual(msg["From"].addresses[0].display_name, JA_FROM_NAME)
        self.assertEqual(msg["From"].addresses[0].addr_spec, JA_FROM_ADDR)
        self.assertIn(JA_BODY, msg.get_content())
        self.check_smtp_values(all_values(msg.get_content()), "SENDBACK")

    def test_long_detection_name_in_mail(self):
        mail = eicar_mail(subject="long", content=LONG_MARK.decode(), filename="long.bin")
        self.assertEqual(self.send(mail), {})
        raw = wait_mail(self.sink, lambda m: b"Subject: long" in m,
                        "sendback notification for the long name")
        msg = self.check_mail_form(raw)
        self.assertIn(LONG_NAME, msg["Subject"])
        v = all_values(msg.get_content())
        self.assertEqual(v["DETECTION_NAME"], LONG_NAME)
        self.assertEqual(v["VIRUS_INFO_URL"], info_url(LONG_NAME))


class TestSmtpLanSendback(SmtpTemplateCase):
    SECTION = {"action": "deny", "lan": "yes", "lan_action": "sendback", "lan_quarantine": "yes"}
    HOSTS_ALLOW = "smtp_lan: 127.0.0.1\n"

    def test_lan_notification_has_every_variable(self):
        self.assertEqual(self.send(eicar_mail(subject="lan-case")), {})
        raw = wait_mail(self.sink, lambda m: b"Subject: lan-case" in m, "LAN notification")
        msg = self.check_mail_form(raw)
        self.assertEqual(msg["Subject"], "Virus notification (LAN): Eicar-Test-Signature")
        self.check_smtp_values(all_values(msg.get_content()), "SENDBACK")


if __name__ == "__main__":
    unittest.main()
