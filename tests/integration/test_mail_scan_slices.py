"""The mail scan runs in slices (issue 11): while a worker walks and
decodes a 1 GB message, its other sessions are served. The gateway has
ONE worker; a second SMTP session opened while the first one's mail is
being taken apart gets its greeting and its EHLO reply before that mail's
only part has reached the scanner, and so before the mail's final reply.
The scanner is a fake that takes the request and never answers, so the
order does not depend on how fast a scan is; once it has the request it
is stopped, and the mail gets its 451 (a scan error is never a pass).
Skipped in the sanitizer pass (1 GB through ASan takes minutes) and when
the disk lacks room for the spool and the decoded part."""
import os
import select
import shutil
import unittest

import harness
from harness import SLOW, wait_for
from harness.fake_scanner import HungScanner
from harness.smtp_parent import Client

SIZE = 1 << 30  # the message
LINE = b"A" * 76 + b"\r\n"  # base64 of zeros
ENV = {}


def setUpModule():
    if harness.SANITIZED:
        raise unittest.SkipTest("1 GB through the sanitizer build is too slow for the suite")
    wd = harness.Workdir("mailslice")
    ENV["wd"] = wd
    free = shutil.disk_usage(wd.path).free
    if free < 4 * SIZE:
        wd.cleanup()
        raise unittest.SkipTest("needs 4 GB free in %s, has %d MB" % (wd.path, free >> 20))


def tearDownModule():
    if "wd" in ENV:
        ENV["wd"].cleanup()


def big_mail_head():
    return (b"From: sender@outside.example\r\nTo: user@local.example\r\nSubject: big\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            b"--b1\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Disposition: attachment; filename=\"zeros.bin\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n")


def send_big_mail(sock):
    """The 1 GB message and its end, streamed from one 1 MiB block."""
    head, tail = big_mail_head(), b"--b1--\r\n.\r\n"
    sock.sendall(head)
    block = LINE * ((1 << 20) // len(LINE))
    left = SIZE - len(head) - len(tail)
    while left >= len(block):
        sock.sendall(block)
        left -= len(block)
    sock.sendall(LINE * (left // len(LINE)))
    sock.sendall(tail)


def message_mapped(pid):
    """Has the worker mapped a file of half the message size or more (the
    spooled mail, mapped when its scan starts)?"""
    try:
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                fields = line.split()
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                if hi - lo >= SIZE // 2 and len(fields) >= 5 and fields[4] != "0":
                    return True
    except OSError:
        pass
    return False


class TestOtherSessionServedDuringScan(unittest.TestCase):
    def test_second_session_answered_while_1gb_mail_is_decoded(self):
        d = os.path.join(ENV["wd"].path, "slices")
        os.makedirs(d, exist_ok=True)
        harness.chown_for_daemons(d)
        scanner = HungScanner(os.path.join(d, "hung.sock"))
        self.addCleanup(scanner.stop)
        sink = harness.SmtpSink(d)
        self.addCleanup(sink.stop)
        gw = harness.Gateway(d, scanner.path, service="smtp",
                             section={"parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(sink.port),
                                      "virus_check": "yes", "action": "deny"},
                             common={"hostname": "gw.test", "workers": "1"})
        self.addCleanup(gw.stop)
        pids = gw.worker_pids()
        self.assertEqual(len(pids), 1)

        c1 = Client(gw.port)
        self.addCleanup(c1.close)
        c1.sock.settimeout(600 * SLOW)
        self.assertRegex(c1.greeting, r"^220 gw\.test ")
        c1.envelope(self)
        send_big_mail(c1.sock)
        # The scan has begun once the worker maps the spooled message.
        wait_for(lambda: message_mapped(pids[0]), 300 * SLOW, what="the message mapped")

        c2 = Client(gw.port)
        self.addCleanup(c2.close)
        ehlo = c2.cmd("EHLO second.test")
        requests_at_ehlo = scanner.request_count()
        early = c1.buf or select.select([c1.sock], [], [], 0)[0]
        self.assertRegex(c2.greeting, r"^220 gw\.test ")
        self.assertTrue(ehlo.startswith("250"), ehlo)
        self.assertFalse(early, "the 1 GB mail was answered before the second session")
        self.assertEqual(requests_at_ehlo, 0,
                         "the second session was served only after the whole mail was decoded")

        # The first mail goes on: its part reaches the scanner, which dies.
        wait_for(lambda: scanner.request_count() >= 1, 300 * SLOW, what="the scan request")
        scanner.stop()
        final = c1.reply()
        self.assertTrue(final.startswith("451 "), final)
        self.assertEqual(c2.cmd("NOOP")[:3], "250")
