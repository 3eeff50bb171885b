"""Limits of the SMTP proxy's message inspection: G-32 / LOG-E9 (at most
5,500 header lines per message part are read; a message whose headers go
on is delivered unchanged, and scanned whole so that nothing hides behind
the limit) and G-13 block_filesize / block_filesize_len (a decoded part
larger than the limit is the detection SEKISHO/POLICY_BLOCK_FILESIZE, and
the configured action applies). The parent is the scripted one of
harness/smtp_parent.py, which records every message byte for byte."""
import base64
import unittest

import harness
from harness import smtp_parent, testfiles
from harness.smtp_parent import PRODUCT_RX, RCPT, SENDER

ENV = {}
PAD_LINES = 6000


def setUpModule():
    wd = harness.Workdir("smtp-limits")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def padding(n=PAD_LINES):
    return "".join("X-Pad-%05d: header line %d\r\n" % (i, i) for i in range(n))


def attachment_mail(content, filename, msgid, pad=""):
    return ("From: %s\r\nTo: %s\r\nSubject: attachment\r\nMessage-ID: <%s>\r\n%s"
            "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--b1--\r\n"
            % (SENDER, RCPT, msgid, pad, filename, filename,
               base64.encodebytes(content).decode().replace("\n", "\r\n")))


class LimitCase(smtp_parent.ParentCase):
    ENV = ENV

    def send(self, msg, rcpt=RCPT):
        c = self.client()
        c.envelope(self, rcpts=(rcpt,))
        return c, c.message(msg)


class TestLongHeader(LimitCase):
    """G-32, LOG-E9."""

    def test_long_header_delivered_intact_with_the_warning(self):
        msg = ("From: %s\r\nTo: %s\r\nSubject: long\r\nMessage-ID: <long@x.example>\r\n%s"
               "\r\nThe body.\r\n" % (SENDER, RCPT, padding()))
        c, reply = self.send(msg)
        self.assertEqual(reply, "250 2.0.0 queued")
        got = self.parent.all_messages()
        self.assertEqual(len(got), 1)
        # Our two headers first, then the message exactly as the client sent it.
        self.assertTrue(got[0][0].endswith(msg.encode()), got[0][0][:300])
        self.assertEqual(got[0][0].count(b"\r\nX-Virus-Status: clean("), 1)
        self.gw.wait_log("error", r"\] WARNING parse_header: Too long header lines "
                         r"\(len=%d,limit=5500\)\. ignored$" % (PAD_LINES + 4))

    def test_eicar_behind_the_limit_is_found(self):
        # The Content-Type that makes the attachment an attachment is on line
        # 6,006: the part is scanned whole, not taken for a text body.
        msg = attachment_mail(testfiles.EICAR, "eicar.com", "hidden@x.example", pad=padding())
        c, reply = self.send(msg, rcpt="hidden@local.example")
        self.assertRegex(reply, r"^554 Infected by \S+ " + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_messages(), [])
        line = self.gw.wait_log("detect", r" GET mail:hidden@local\.example ")[-1]
        self.assertIn("DETECT-STAT:INFECTED:", line)

    def test_short_header_no_warning(self):
        before = self.gw.log_text("error").count("Too long header lines")
        msg = attachment_mail(b"harmless", "notes.bin", "short@x.example", pad=padding(100))
        c, reply = self.send(msg, rcpt="short@local.example")
        self.assertEqual(reply, "250 2.0.0 queued")
        # (the warning comes before the scan, the scan before the reply)
        self.assertEqual(self.gw.log_text("error").count("Too long header lines"), before)


class TestBlockFilesize(LimitCase):
    """G-13: block_filesize_len is the decoded size of a part."""
    SECTION = {"block_filesize": "yes", "block_filesize_len": "1000"}

    def test_part_over_the_limit_is_a_detection(self):
        msg = attachment_mail(b"A" * 1001, "big.bin", "big@x.example")
        c, reply = self.send(msg, rcpt="big@local.example")
        self.assertRegex(reply, r"^554 Infected by SEKISHO/POLICY_BLOCK_FILESIZE "
                         + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_messages(), [])
        line = self.gw.wait_log("detect", r" GET mail:big@local\.example ")[-1]
        self.assertIn(" DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_FILESIZE:big.bin:", line)
        self.assertIn(" ACTION:DENY: ", line)

    def test_decoded_size_counts_not_the_encoded_one(self):
        # 1,000 bytes decoded, about 1,360 encoded: not over the limit.
        msg = attachment_mail(b"B" * 1000, "fits.bin", "fits@x.example")
        c, reply = self.send(msg, rcpt="fits@local.example")
        self.assertEqual(reply, "250 2.0.0 queued")
        self.assertEqual(len(self.parent.all_messages()), 1)


class TestBlockFilesizeBlackhole(LimitCase):
    """The configured action applies as for any detection."""
    SECTION = {"block_filesize": "yes", "block_filesize_len": "1000", "action": "blackhole"}

    def test_blackhole(self):
        msg = attachment_mail(b"C" * 5000, "big.bin", "bh@x.example")
        c, reply = self.send(msg, rcpt="bh@local.example")
        self.assertRegex(reply, r"^250 Message accepted for delivery " + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_messages(), [])
        line = self.gw.wait_log("detect", r" GET mail:bh@local\.example ")[-1]
        self.assertIn(":SEKISHO/POLICY_BLOCK_FILESIZE:big.bin:", line)
        self.assertIn(" ACTION:BLACKHOLE: ", line)


class TestBlockFilesizeOff(LimitCase):
    SECTION = {"block_filesize_len": "1000"}

    def test_off_by_default(self):
        msg = attachment_mail(b"D" * 5000, "big.bin", "off@x.example")
        c, reply = self.send(msg, rcpt="off@local.example")
        self.assertEqual(reply, "250 2.0.0 queued")


if __name__ == "__main__":
    unittest.main()
