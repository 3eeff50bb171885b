"""Mail messages for the POP tests: what a POP server hands out.

Every message is bytes with CRLF line ends, the same on every run (fixed
dates, boundaries and Message-IDs), and carries Date, To and Cc headers
(POP-7: the proxy copies them into the replacement of a deleted virus
mail). The attachments come from testfiles (EICAR, the zipped EICAR, the
deterministic clean bytes). FIXTURES maps a name to a message;
big_mail_file() writes the 100 MB message to a file at test time (never
committed, never held in memory).

  clean_text        a plain text mail
  clean_attachment  a 23 KB clean binary attachment (base64)
  eicar             EICAR as the attachment eicar.com
  eicar_zip         EICAR zipped (eicar.zip)
  blocked_ext       a clean attachment named setup.exe: the block_ext_list
                    example of the spec (.COM,.PIF,.EXE,.BAT, 003:2079)
  html_script       an HTML body with a <script> (block_script)
  dots              lines that begin with periods, one holding a single
                    period, one "..": byte stuffing must carry them intact
"""
import base64
import os

from . import testfiles

DATE = "Wed, 01 Jan 2020 00:00:00 +0000"
FROM = "Sender <sender@outside.example>"
TO = "Alice <alice@inside.example>"
CC = "Bob <bob@inside.example>"


def _headers(subject, extra=()):
    lines = [
        "Return-Path: <sender@outside.example>",
        "From: " + FROM,
        "To: " + TO,
        "Cc: " + CC,
        "Date: " + DATE,
        "Subject: " + subject,
        "Message-ID: <%s@outside.example>" % subject.replace(" ", "-"),
        "MIME-Version: 1.0",
    ]
    lines += list(extra)
    return "\r\n".join(lines).encode() + b"\r\n"


def _b64_lines(data):
    enc = base64.b64encode(data)
    return b"".join(enc[i:i + 76] + b"\r\n" for i in range(0, len(enc), 76))


def plain(subject, body):
    """A text/plain mail; body is bytes with CRLF line ends."""
    return (_headers(subject, ["Content-Type: text/plain; charset=us-ascii",
                               "Content-Transfer-Encoding: 7bit"]) + b"\r\n" + body)


def with_attachment(subject, filename, data, ctype="application/octet-stream"):
    """text/plain part plus one base64 attachment."""
    boundary = b"=_sekisho_pop_1"
    return (_headers(subject, ['Content-Type: multipart/mixed; boundary="%s"'
                               % boundary.decode()]) +
            b"\r\nThis is a multi-part message in MIME format.\r\n"
            b"--" + boundary + b"\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            b"See the attachment.\r\n"
            b"--" + boundary + b"\r\n"
            b"Content-Type: " + ctype.encode() + b'; name="' + filename.encode() + b'"\r\n'
            b"Content-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="' + filename.encode() + b'"\r\n'
            b"\r\n" + _b64_lines(data) +
            b"--" + boundary + b"--\r\n")


def html(subject, markup):
    return (_headers(subject, ["Content-Type: text/html; charset=us-ascii",
                               "Content-Transfer-Encoding: 7bit"]) + b"\r\n" + markup)


def _dots():
    body = (b"The next lines begin with periods.\r\n"
            b".hidden line\r\n"
            b"..two periods\r\n"
            b".\r\n"
            b"..\r\n"
            b". a period and a blank\r\n"
            b"a line with a period . inside\r\n"
            b".\r\n")
    return plain("dots", body)


FIXTURES = {
    "clean_text": plain("clean text", b"Hello Alice,\r\n\r\nthis mail is clean.\r\n"),
    "clean_attachment": with_attachment("clean attachment", "data.bin",
                                        testfiles.clean_bytes(23 * 1024)),
    "eicar": with_attachment("eicar", "eicar.com", testfiles.EICAR),
    "eicar_zip": with_attachment("eicar zip", "eicar.zip",
                                 testfiles.zip_bytes([("eicar.com", testfiles.EICAR)]),
                                 ctype="application/zip"),
    "blocked_ext": with_attachment("blocked ext", "setup.exe", testfiles.clean_bytes(4096)),
    "html_script": html("html script",
                        b"<html><head><title>t</title></head><body>\r\n"
                        b"<p>Hello</p>\r\n"
                        b"<script>document.write('scripted');</script>\r\n"
                        b"</body></html>\r\n"),
    "dots": _dots(),
}

BIG_SIZE = 100 * 1000 * 1000


def big_mail_file(path, size=BIG_SIZE):
    """Write a mail of about size bytes (a base64 attachment of clean
    bytes) to path, in pieces; returns its exact length."""
    head = (_headers("big", ['Content-Type: multipart/mixed; boundary="=_big"']) +
            b"\r\n--=_big\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n")
    tail = b"--=_big--\r\n"
    block = _b64_lines(testfiles.clean_bytes(57 * 1000))  # 1000 lines of 76 chars + CRLF
    written = 0
    with open(path, "wb") as f:
        f.write(head)
        written += len(head)
        while written + len(block) + len(tail) <= size:
            f.write(block)
            written += len(block)
        f.write(tail)
        written += len(tail)
    assert os.path.getsize(path) == written
    return written
