"""What the SMTP proxy scans and how it names what it finds (SCAN-4, SCAN-6,
SCAN-8, SCAN-9, SMTP-9 2/3, the DETECT-STAT file field): each MIME part is
decoded and scanned under its decoded file name; text bodies only with
virus_check_text; HTML bodies by their executable parts unless
virus_check_wholehtml; block_script / block_activex; pass_ext; riskware and
encrypted archives through the scanner's options. Every test checks what
the client was told and what the parent (smtp-sink) received."""
import base64
import os
import quopri
import re
import smtplib
import time
import unittest
import urllib.parse

import harness
from harness import testfiles

ENV = {}
RCPT = "user@local.example"
EICAR = testfiles.EICAR.decode()


def setUpModule():
    wd = harness.Workdir("smtpscan")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def multipart(parts, subject="scan test", boundary="=_b1"):
    """A multipart/mixed mail of (headers, body) parts."""
    out = ["From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
           "Message-ID: <%s@outside.example>\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\npreamble\r\n"
           % (RCPT, subject, subject.replace(" ", "."), boundary)]
    for headers, body in parts:
        out.append("--%s\r\n%s\r\n\r\n%s\r\n" % (boundary, headers, body))
    out.append("--%s--\r\n" % boundary)
    return "".join(out)


def b64(data):
    raw = data if isinstance(data, bytes) else data.encode()
    text = base64.b64encode(raw).decode()
    return "\r\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def attachment(filename_params, body, cte="base64", ctype="application/octet-stream"):
    return ("Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n"
            "Content-Disposition: attachment; %s" % (ctype, cte, filename_params), body)


def text_part(body, ctype="text/plain"):
    return ("Content-Type: %s; charset=us-ascii" % ctype, body)


def plain_mail(body, subject="plain"):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@outside.example>\r\n\r\n%s\r\n" % (RCPT, subject, subject, body))


def detect_fields(line):
    """(name, file) of a DETECT-STAT field, decoded."""
    m = re.search(r"DETECT-STAT:INFECTED:([^:]*):([^:]*):", line)
    assert m, line
    return urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2))


def proxy_stat(line):
    """(files, checks) of the PROXY-STAT field."""
    m = re.search(r"PROXY-STAT:smtp:\d+:\d+:[^:]*:(\d+):(\d+):", line)
    assert m, line
    return int(m.group(1)), int(m.group(2))


class ScanCase(unittest.TestCase):
    SECTION = {}

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.sink = harness.SmtpSink(cls.dir)
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.sink.port),
                   "virus_check": "yes", "action": "deny"}
        section.update(cls.SECTION)
        cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp", section=section,
                                 common={"hostname": "gw.test"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()

    def send(self, msg):
        """(code, text) of the reply to the end of DATA."""
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=30) as c:
            try:
                c.sendmail("sender@outside.example", [RCPT], msg)
            except smtplib.SMTPDataError as e:
                return e.smtp_code, e.smtp_error.decode()
            return 250, ""

    def delivered(self, msg, subject):
        """Send msg; it must reach the parent (exactly once) marked clean."""
        code, text = self.send(msg)
        self.assertEqual(code, 250, text)
        got = harness.wait_for(
            lambda: [m for m in self.sink.messages() if "Subject: %s\n" % subject in
                     m.replace("\r\n", "\n")], 10, what="mail %r at the sink" % subject)
        self.assertEqual(len(got), 1)
        self.assertRegex(got[0], r"X-Virus-Status: clean\(Sekisho/")
        return got[0]

    def refused(self, msg, subject):
        """Send msg; it must be refused with 554 and never reach the parent.
        Returns (detection name, file) from the detect log."""
        code, text = self.send(msg)
        self.assertEqual(code, 554, text)
        self.assertRegex(text, r"^Infected by \S+ \(Sekisho/")
        line = self.gw.wait_log("detect", r"<%s@outside\.example>" % re.escape(
            urllib.parse.quote(subject.replace(" ", "."))))[-1]
        time.sleep(0.2)
        self.assertFalse([m for m in self.sink.messages() if "Subject: %s\r" % subject in m])
        name, file = detect_fields(line)
        self.assertIn(name, text)
        return name, file, line


class TestAttachmentsNamed(ScanCase):
    """SMTP-9 2/3: a detection names the attachment by its decoded name."""

    def test_base64_attachment_named_in_the_detect_log(self):
        msg = multipart([text_part("hello"), attachment('filename="report.com"', b64(EICAR))],
                        subject="b64 att")
        name, file, line = self.refused(msg, "b64 att")
        self.assertEqual(file, "report.com")
        self.assertTrue(name)

    def test_rfc2231_name(self):
        # filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.com = 請求書.com
        msg = multipart([text_part("hi"),
                         attachment("filename*=UTF-8''%E8%AB%8B%E6%B1%82%E6%9B%B8.com",
                                    b64(EICAR))], subject="rfc2231")
        _, file, _ = self.refused(msg, "rfc2231")
        self.assertEqual(file, "請求書.com")

    def test_rfc2047_name_in_content_type(self):
        encoded = "=?UTF-8?B?%s?=" % base64.b64encode("ファイル.exe".encode()).decode()
        part = ("Content-Type: application/octet-stream; name=\"%s\"\r\n"
                "Content-Transfer-Encoding: base64" % encoded, b64(EICAR))
        _, file, _ = self.refused(multipart([part], subject="rfc2047"), "rfc2047")
        self.assertEqual(file, "ファイル.exe")

    def test_quoted_printable_attachment(self):
        body = quopri.encodestring(testfiles.EICAR + b"\n", quotetabs=True).decode()
        msg = multipart([attachment('filename="qp.txt"', body, cte="quoted-printable",
                                    ctype="text/plain")], subject="qp att")
        _, file, _ = self.refused(msg, "qp att")
        self.assertEqual(file, "qp.txt")

    def test_second_of_two_attachments(self):
        msg = multipart([attachment('filename="clean.bin"', b64(b"nothing here" * 100)),
                         attachment('filename="second.com"', b64(EICAR))], subject="two att")
        _, file, line = self.refused(msg, "two att")
        self.assertEqual(file, "second.com")
        # Both attachments were scanned; the text preamble was not a part.
        self.assertEqual(proxy_stat(line)[1], 2)

    def test_nested_message_rfc822(self):
        inner = multipart([attachment('filename="inner.com"', b64(EICAR))], subject="inner",
                          boundary="=_inner")
        part = ("Content-Type: message/rfc822\r\nContent-Disposition: inline", inner)
        _, file, _ = self.refused(multipart([text_part("fwd"), part], subject="fwd"), "fwd")
        self.assertEqual(file, "inner.com")

    def test_eicar_in_a_zip_attachment(self):
        z = testfiles.zip_bytes([("eicar.com", testfiles.EICAR)])
        _, file, _ = self.refused(multipart([attachment('filename="docs.zip"', b64(z))],
                                            subject="zip att"), "zip att")
        self.assertEqual(file, "docs.zip")

    def test_more_parts_than_the_walker_reports(self):
        # 1200 parts: beyond MIME_PARTS_MAX the whole message is scanned too,
        # so an infected part at the end is still found.
        parts = [text_part("part %d" % i) for i in range(1200)]
        parts.append(attachment('filename="last.com"', b64(EICAR)))
        name, _, _ = self.refused(multipart(parts, subject="many parts"), "many parts")
        self.assertTrue(name)

    def test_clean_attachments_delivered_intact(self):
        data = testfiles.clean_bytes(300 * 1024)  # decoded to a file, not memory
        msg = multipart([text_part("hello"), attachment('filename="big.bin"', b64(data)),
                         attachment('filename="small.bin"', b64(data[:1000]))],
                        subject="clean atts")
        got = self.delivered(msg, "clean atts")
        self.assertIn(b64(data), got.replace("\r\n", "\n").replace("\n", "\r\n"))


class TestTextBodies(ScanCase):
    """SCAN-8 with virus_check_text=no (the default)."""

    def test_plain_text_body_not_scanned(self):
        self.delivered(plain_mail(EICAR, subject="textbody"), "textbody")
        line = self.gw.wait_log("access", r"textbody@outside")[-1]
        self.assertEqual(proxy_stat(line)[1], 0)  # no scan at all

    def test_text_part_not_scanned_but_attached_text_file_is(self):
        self.delivered(multipart([text_part(EICAR)], subject="textpart"), "textpart")
        msg = multipart([text_part("see file"),
                         attachment('filename="notes.txt"', EICAR, cte="7bit",
                                    ctype="text/plain")], subject="textfile")
        _, file, _ = self.refused(msg, "textfile")
        self.assertEqual(file, "notes.txt")

    def test_uuencoded_file_in_a_text_body_is_scanned(self):
        import binascii
        lines = ["begin 644 eicar.com"]
        data = testfiles.EICAR
        for i in range(0, len(data), 45):
            lines.append(binascii.b2a_uu(data[i:i + 45]).decode().rstrip("\n"))
        lines += ["`", "end"]
        _, file, _ = self.refused(plain_mail("Here it is:\r\n" + "\r\n".join(lines),
                                             subject="uu"), "uu")
        self.assertEqual(file, "eicar.com")


class TestTextBodiesChecked(ScanCase):
    SECTION = {"virus_check_text": "yes"}

    def test_plain_text_body_scanned(self):
        self.refused(plain_mail(EICAR, subject="textyes"), "textyes")

    def test_clean_text_body_scanned_and_delivered(self):
        self.delivered(plain_mail("nothing to see", subject="textclean"), "textclean")
        line = self.gw.wait_log("access", r"textclean@outside")[-1]
        self.assertEqual(proxy_stat(line)[1], 1)


HTML_TEXT = "<html><body><p>%s</p></body></html>" % EICAR
# A payload in a data: URI: not an executable part, but libclamav's HTML
# scan of the whole part decodes it (libclamav does not find EICAR in the
# text of an HTML document, which it normalises to lower case).
HTML_DATA_URI = ('<html><body><a href="data:application/octet-stream;base64,%s">x</a>'
                 '</body></html>' % base64.b64encode(testfiles.EICAR).decode())
HTML_SCRIPT = "<html><body><script>var s = '%s';</script></body></html>" % EICAR


class TestHtmlExecutableParts(ScanCase):
    """virus_check_wholehtml=no: only the executable parts of an HTML body."""

    def test_text_of_html_body_not_scanned(self):
        self.delivered(multipart([text_part(HTML_TEXT, "text/html")], subject="htmltext"),
                       "htmltext")
        self.delivered(multipart([text_part(HTML_DATA_URI, "text/html")], subject="htmldata"),
                       "htmldata")

    def test_script_of_html_body_scanned(self):
        self.refused(multipart([text_part(HTML_SCRIPT, "text/html")], subject="htmlscript"),
                     "htmlscript")

    def test_html_attachment_scanned_whole(self):
        msg = multipart([attachment('filename="page.html"', b64(HTML_DATA_URI),
                                    ctype="text/html")], subject="htmlfile")
        _, file, _ = self.refused(msg, "htmlfile")
        self.assertEqual(file, "page.html")

    def test_scripts_pass_without_block_script(self):
        self.delivered(multipart([text_part("<script>alert(1)</script>", "text/html")],
                                 subject="scriptok"), "scriptok")


class TestHtmlWhole(ScanCase):
    SECTION = {"virus_check_wholehtml": "yes"}

    def test_whole_html_body_scanned(self):
        self.refused(multipart([text_part(HTML_DATA_URI, "text/html")], subject="wholedata"),
                     "wholedata")


class TestHtmlPolicies(ScanCase):
    SECTION = {"block_script": "yes", "block_activex": "yes"}

    def test_block_script(self):
        name, _, _ = self.refused(multipart([text_part(
            "<p>hi</p><script>document.write(1)</script>", "text/html")], subject="blkscript"),
            "blkscript")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_SCRIPT")

    def test_block_script_event_handler_and_url(self):
        name, _, _ = self.refused(multipart([text_part(
            '<img src="x.png" onerror="go()">', "text/html")], subject="blkonerr"), "blkonerr")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_SCRIPT")
        name, _, _ = self.refused(multipart([text_part(
            '<a href="java&#115;cript:go()">x</a>', "text/html")], subject="blkurl"), "blkurl")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_SCRIPT")

    def test_block_activex(self):
        name, _, _ = self.refused(multipart([text_part(
            '<object classid="clsid:D27CDB6E-AE6D-11cf-96B8-444553540000"></object>',
            "text/html")], subject="blkax"), "blkax")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_ACTIVEX")

    def test_quoted_printable_html(self):
        body = quopri.encodestring(b"<p>x</p><SCRIPT\n>go()</SCRIPT>").decode()
        part = ("Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable", body)
        name, _, _ = self.refused(multipart([part], subject="blkqp"), "blkqp")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_SCRIPT")

    def test_plain_html_passes(self):
        self.delivered(multipart([text_part('<p><a href="https://example.org/">x</a></p>',
                                            "text/html")], subject="htmlok"), "htmlok")

    def test_script_in_text_plain_is_not_html(self):
        self.delivered(multipart([text_part("<script>x()</script>")], subject="plainscript"),
                       "plainscript")


class TestHtmlPoliciesNeedVirusCheck(ScanCase):
    SECTION = {"block_script": "yes", "block_activex": "yes", "virus_check": "no"}

    def test_off_when_virus_check_no(self):
        # SCAN-6: ActiveX, script and encrypted checks are off with virus_check=no.
        self.delivered(multipart([text_part("<script>go()</script><object classid=x>",
                                            "text/html")], subject="nocheck"), "nocheck")


class TestPassExt(ScanCase):
    SECTION = {"pass_ext": "yes", "pass_ext_list": ".txt,.LOG"}

    def test_listed_extension_not_scanned(self):
        self.delivered(multipart([attachment('filename="readme.TXT"', b64(EICAR))],
                                 subject="passtxt"), "passtxt")
        self.delivered(multipart([attachment('filename="app.log"', b64(EICAR))],
                                 subject="passlog"), "passlog")

    def test_other_extension_scanned(self):
        _, file, _ = self.refused(multipart([attachment('filename="readme.txt.com"',
                                                        b64(EICAR))], subject="passcom"),
                                  "passcom")
        self.assertEqual(file, "readme.txt.com")


class TestRiskwareAndEncrypted(ScanCase):
    SECTION = {"riskware_check": "yes", "block_encrypted": "yes"}

    def test_riskware_detected(self):
        name, file, _ = self.refused(multipart([attachment('filename="tool.bin"',
                                                           b64(testfiles.RISKWARE))],
                                               subject="risk"), "risk")
        self.assertEqual(file, "tool.bin")
        self.assertIn("SekishoTest", name)

    def test_encrypted_zip_blocked(self):
        z = testfiles.encrypted_zip("secret.txt", b"top secret")
        name, file, line = self.refused(multipart([attachment('filename="secret.zip"', b64(z))],
                                                  subject="enc"), "enc")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_ENCRYPTED")
        self.assertEqual(file, "secret.zip")


class TestRiskwareOff(ScanCase):
    SECTION = {"riskware_check": "no"}

    def test_riskware_passes(self):
        self.delivered(multipart([attachment('filename="tool.bin"', b64(testfiles.RISKWARE))],
                                 subject="riskoff"), "riskoff")

    def test_encrypted_zip_logged_not_blocked(self):
        z = testfiles.encrypted_zip("secret.txt", b"top secret")
        self.delivered(multipart([attachment('filename="secret.zip"', b64(z))],
                                 subject="encoff"), "encoff")
        line = self.gw.wait_log("access", r"encoff@outside")[-1]
        self.assertIn("VSD_ENCRYPTED", line)


if __name__ == "__main__":
    unittest.main()
