"""Issue 10 item 11: MIME forms that hid an attachment from the walker
while a mail client extracted it (SCAN-7, SCAN-8, SMTP-9). Each test sends
a real SMTP session through the gateway to smtp-sink and checks the reply,
the detect log and what the parent received. Forms the walker cannot take
apart with certainty are also scanned whole by libclamav's mail parser;
uuencoded files are found anywhere and scanned one by one; a uuencoded
file inside an encoded text is blocked (POLICY_FORMAT_MIME_UUENCODE); a
file name in a charset the decoder does not convert is read as clients
show it, for block_ext."""
import binascii
import os
import quopri
import unittest

import harness
from harness import testfiles
from test_smtp_scan import (ENV, RCPT, EICAR, ScanCase, attachment, b64, multipart,
                            plain_mail, text_part)
import test_smtp_scan


def setUpModule():
    test_smtp_scan.setUpModule()


def tearDownModule():
    test_smtp_scan.tearDownModule()


def uu(data, name="eicar.com", mode="644", eol="\r\n"):
    lines = ["begin %s %s" % (mode, name)]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i:i + 45]).decode().rstrip("\n"))
    lines += ["`", "end"]
    return eol.join(lines)


def head(subject, ctype):
    return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
            "Message-ID: <%s@outside.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: %s\r\n\r\n" % (RCPT, subject, subject.replace(" ", "."), ctype))


def deep_multipart(levels, payload, subject):
    out = [head(subject, 'multipart/mixed; boundary="b0"')]
    for i in range(1, levels):
        out.append("--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" % (i - 1, i))
    h, body = payload
    out.append("--b%d\r\n%s\r\n\r\n%s\r\n--b%d--\r\n" % (levels - 1, h, body, levels - 1))
    for i in range(levels - 2, -1, -1):
        out.append("--b%d--\r\n" % i)
    return "".join(out)


def deep_rfc822(levels, payload, subject):
    h, body = payload
    inner = ("Subject: inner\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
             "boundary=\"in\"\r\n\r\n--in\r\n%s\r\n\r\n%s\r\n--in--\r\n" % (h, body))
    for _ in range(levels):
        inner = "Subject: wrap\r\nContent-Type: message/rfc822\r\n\r\n" + inner
    return head(subject, "message/rfc822") + inner


EICAR_ATT = attachment('filename="eicar.com"', b64(EICAR))
CLEAN_ATT = attachment('filename="c.bin"', b64(testfiles.clean_bytes(5000)))


class TestStructure(ScanCase):
    """Limits and odd boundaries: the message is also scanned whole."""

    def test_boundary_over_256_characters(self):
        bnd = "B" * 300
        msg = multipart([text_part("hi"), EICAR_ATT], subject="long bnd", boundary=bnd)
        name, _, _ = self.refused(msg, "long bnd")
        self.assertIn("Eicar", name)

    def test_multipart_nested_over_20_levels(self):
        # Deeper than the walker and libclamav's mail parser descend: a
        # structural block, whatever the content.
        for payload, subject in ((EICAR_ATT, "deep mp"), (CLEAN_ATT, "deep clean")):
            name, _, _ = self.refused(deep_multipart(25, payload, subject), subject)
            self.assertEqual(name, "SEKISHO/POLICY_FORMAT_MIME_DEPTH")

    def test_rfc822_nested_over_20_levels(self):
        name, _, _ = self.refused(deep_rfc822(24, EICAR_ATT, "deep rfc"), "deep rfc")
        self.assertEqual(name, "SEKISHO/POLICY_FORMAT_MIME_DEPTH")

    def test_rfc2231_continued_boundary(self):
        msg = (head("cont bnd", 'multipart/mixed; boundary*0="part1-"; boundary*1="part2"') +
               "--part1-part2\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
               "--part1-part2\r\n%s\r\n\r\n%s\r\n--part1-part2--\r\n" % EICAR_ATT)
        _, file, _ = self.refused(msg, "cont bnd")
        self.assertEqual(file, "eicar.com")  # the walker took it apart itself

    def test_two_content_types(self):
        # The walker reads the first (a text body, not scanned); a client
        # may take the second: the message is scanned whole as well.
        msg = ("From: sender@outside.example\r\nTo: %s\r\nSubject: two ct\r\n"
               "Message-ID: <two.ct@outside.example>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: text/plain\r\n"
               "Content-Type: multipart/mixed; boundary=\"q\"\r\n\r\n"
               "--q\r\n%s\r\n\r\n%s\r\n--q--\r\n" % ((RCPT,) + EICAR_ATT))
        name, _, _ = self.refused(msg, "two ct")
        self.assertIn("Eicar", name)

    def test_clean_nested_long_boundary_and_rfc2231_mails_delivered_intact(self):
        got = self.delivered(deep_multipart(20, CLEAN_ATT, "nest clean"), "nest clean")
        self.assertIn(CLEAN_ATT[1], got.replace("\r\n", "\n").replace("\n", "\r\n"))
        msg = multipart([text_part("hi"), CLEAN_ATT], subject="bnd clean", boundary="C" * 300)
        got = self.delivered(msg, "bnd clean")
        self.assertIn(CLEAN_ATT[1], got.replace("\r\n", "\n").replace("\n", "\r\n"))
        msg = (head("cont clean", 'multipart/mixed; boundary*0="p1-"; boundary*1="p2"') +
               "--p1-p2\r\n%s\r\n\r\n%s\r\n--p1-p2--\r\n" % CLEAN_ATT)
        self.delivered(msg, "cont clean")


class TestUuencode(ScanCase):
    """uuencoded files anywhere (virus_check_text=no, the default)."""

    def test_uuencode_inside_base64_text(self):
        body = b64("Hello\r\n" + uu(testfiles.EICAR) + "\r\n")
        msg = multipart([("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64",
                          body)], subject="uu b64")
        name, _, _ = self.refused(msg, "uu b64")
        self.assertEqual(name, "SEKISHO/POLICY_FORMAT_MIME_UUENCODE")

    def test_uuencode_inside_quoted_printable_text(self):
        body = quopri.encodestring(("Hello\r\n" + uu(testfiles.EICAR) + "\r\n").encode(),
                                   quotetabs=True).decode()
        msg = multipart([("Content-Type: text/plain\r\nContent-Transfer-Encoding: "
                          "quoted-printable", body)], subject="uu qp")
        name, _, _ = self.refused(msg, "uu qp")
        self.assertEqual(name, "SEKISHO/POLICY_FORMAT_MIME_UUENCODE")

    def test_clean_uuencoded_file_before_the_eicar(self):
        body = ("two files\r\n" + uu(testfiles.clean_bytes(2000), "clean.bin") + "\r\n\r\n" +
                uu(testfiles.EICAR, "second.com"))
        _, file, _ = self.refused(plain_mail(body, subject="uu-two"), "uu-two")
        self.assertEqual(file, "second.com")

    def test_decoy_begin_line(self):
        body = ("begin 644 readme.txt\r\nthis is not data, see below\r\n\r\n" +
                uu(testfiles.EICAR, "real.com"))
        _, file, _ = self.refused(plain_mail(body, subject="uu-decoy"), "uu-decoy")
        self.assertEqual(file, "real.com")

    def test_mode_0644_with_crlf(self):
        body = "file:\r\n" + uu(testfiles.EICAR, "m.com", mode="0644")
        _, file, _ = self.refused(plain_mail(body, subject="uu-0644"), "uu-0644")
        self.assertEqual(file, "m.com")

    def test_x_uuencode_with_text_before_begin(self):
        part = ("Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: "
                "x-uuencode", "here it comes\r\n" + uu(testfiles.EICAR, "x.com"))
        _, file, _ = self.refused(multipart([text_part("hi"), part], subject="uu x"), "uu x")
        self.assertEqual(file, "x.com")

    def test_more_uuencoded_files_than_scanned_is_blocked(self):
        # Bounded work: past 1000 uuencoded files the mail is blocked, not
        # passed with files unscanned.
        body = "\r\n".join(uu(b"clean %d" % i, "f%d.txt" % i) for i in range(1001))
        name, _, _ = self.refused(plain_mail(body, subject="uu-many"), "uu-many")
        self.assertEqual(name, "SEKISHO/POLICY_FORMAT_MIME_UUENCODE")

    def test_clean_uuencoded_mail_delivered_intact(self):
        body = "a file\r\n" + uu(testfiles.clean_bytes(3000), "ok.bin")
        got = self.delivered(plain_mail(body, subject="uu-clean"), "uu-clean")
        self.assertIn(uu(testfiles.clean_bytes(3000), "ok.bin", eol="\n"),
                      got.replace("\r\n", "\n"))


class TestEncodedText(ScanCase):
    """virus_check_text=no skips prose, never a base64/QP payload."""

    def test_unnamed_inline_base64_text_plain(self):
        part = ("Content-Type: text/plain\r\nContent-Disposition: inline\r\n"
                "Content-Transfer-Encoding: base64", b64(EICAR))
        name, _, _ = self.refused(multipart([text_part("hi"), part], subject="b64 text"),
                                  "b64 text")
        self.assertIn("Eicar", name)

    def test_clean_base64_text_delivered(self):
        part = ("Content-Type: text/plain\r\nContent-Transfer-Encoding: base64",
                b64("just words\r\n"))
        self.delivered(multipart([part], subject="b64 clean"), "b64 clean")


class TestForeignCharsetNames(ScanCase):
    """An attachment named with RFC 2047 / RFC 2231 in a charset the
    decoder does not convert (ISO-8859-2, KOI8-R, GBK ...) is still read
    as a mail client shows it: its ASCII, the extension, exact. It was
    kept raw ("=?ISO-8859-2?Q?evil.exe?="), which block_ext=.exe missed."""
    SECTION = {"block_ext": "yes", "block_ext_list": ".exe"}

    def clean_att(self, params):
        return attachment(params, b64(testfiles.clean_bytes(3000)))

    def test_iso_8859_2_encoded_word_file_name_is_blocked(self):
        msg = multipart([text_part("hi"), self.clean_att('filename="=?ISO-8859-2?Q?evil.exe?="')],
                        subject="cs 8859-2")
        name, file, _ = self.refused(msg, "cs 8859-2")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_EXT")
        self.assertEqual(file, "evil.exe")

    def test_koi8r_name_in_content_type_is_blocked(self):
        # "Privet.exe" in Cyrillic, B-encoded, in Content-Type name= only.
        part = ("Content-Type: application/octet-stream; name=\"=?KOI8-R?B?8NLJ18XULmV4ZQ==?=\"\r\n"
                "Content-Transfer-Encoding: base64", b64(testfiles.clean_bytes(3000)))
        name, _, _ = self.refused(multipart([text_part("hi"), part], subject="cs koi8"), "cs koi8")
        self.assertEqual(name, "SEKISHO/POLICY_BLOCK_EXT")

    def test_utf7_and_rfc2231_unknown_charset_are_blocked(self):
        for params, subject in (('filename="=?UTF-7?Q?evil+AC4-exe?="', "cs utf7"),
                                ("filename*=iso-8859-2''%BFevil.exe", "cs 2231")):
            msg = multipart([text_part("hi"), self.clean_att(params)], subject=subject)
            name, _, _ = self.refused(msg, subject)
            self.assertEqual(name, "SEKISHO/POLICY_BLOCK_EXT")

    def test_decoded_nul_in_the_name_is_a_malformed_name(self):
        # "evil.exe\0.txt": a client that stops at the NUL shows evil.exe,
        # another evil.exe.txt; the name is blocked whatever the reading.
        msg = multipart([text_part("hi"),
                         self.clean_att('filename="=?ISO-8859-2?Q?evil.exe=00.txt?="')],
                        subject="cs nul")
        name, _, _ = self.refused(msg, "cs nul")
        self.assertEqual(name, "SEKISHO/POLICY_FORMAT_MIME_FILENAME")

    def test_other_extension_in_a_foreign_charset_is_delivered(self):
        msg = multipart([text_part("hi"), self.clean_att('filename="=?ISO-8859-2?Q?z=B9=BFka.txt?="')],
                        subject="cs clean")
        self.delivered(msg, "cs clean")


if __name__ == "__main__":
    unittest.main()
