"""The quarantine copy of a large infected mail is made off the worker's
event loop (proxy_bgcopy). The gateway has ONE worker and quarantine=yes;
a 200 MB mail carries EICAR in an attachment and a 200 MB text part. Its
mailbox copy takes seconds, made by the worker's copier thread: a second
session greeted before the mail ended gets its EHLO reply while the
quarantine file is still short of its final size (before the change the
copy ran on the loop, and the mail's own 550 came only after the whole
file was written: the size check failed). The file then reaches its size
and holds the message in mailbox format ("From " line, LF line ends,
every byte). A worker told to stop while such a copy runs finishes it
before it exits. HTTP: a 16 MB infected download, spooled in tmpdir, with
quarantine_dir on another file system (/dev/shm) cannot be linked; its
copy, made by the same thread, is the object byte for byte. Skipped in the sanitizer pass (200 MB through ASan) and
when the disk lacks room."""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import SLOW, testfiles, wait_for
from harness.smtp_parent import Client

BIG = 200 * 1024 * 1024  # the text part
LINE = b"A" * 76 + b"\r\n"
BLOCK = LINE * ((1 << 20) // len(LINE))
SENDER = "sender@outside.example"
ENV = {}


def setUpModule():
    if harness.SANITIZED:
        raise unittest.SkipTest("200 MB through the sanitizer build is too slow for the suite")
    wd = harness.Workdir("qbgcopy")
    ENV["wd"] = wd
    free = shutil.disk_usage(wd.path).free
    if free < 8 * BIG:
        wd.cleanup()
        raise unittest.SkipTest("needs 1.6 GB free in %s, has %d MB" % (wd.path, free >> 20))
    ENV["scand"] = harness.Scand(wd.path)
    www = os.path.join(wd.path, "www")
    os.makedirs(www)
    ENV["zip"] = os.path.join(www, "big_eicar.zip")
    with open(ENV["zip"], "wb") as f:  # stored: the object is as big as its members
        f.write(testfiles.zip_bytes([("eicar.com", testfiles.EICAR),
                                     ("filler.bin", testfiles.clean_bytes(16 * testfiles.MB))],
                                    compress=0))
    harness.chown_for_daemons(www)
    ENV["nginx"] = harness.Nginx(www, wd.path)


def tearDownModule():
    for k in ("nginx", "scand"):
        if k in ENV:
            ENV[k].stop()
    if "wd" in ENV:
        ENV["wd"].cleanup()


HEAD = (b"From: " + SENDER.encode() + b"\r\nTo: user@local.example\r\nSubject: big\r\n"
        b"Message-ID: <big@outside.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
        b"--b1\r\nContent-Type: application/octet-stream; name=\"eicar.com\"\r\n"
        b"Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n"
        + testfiles.EICAR + b"\r\n--b1\r\nContent-Type: text/plain\r\n\r\n")
TAIL = b"--b1--\r\n"
NBLOCKS = BIG // len(BLOCK)
# "From <sender> <asctime date, always 24 characters>\n" (proto/mbox_format)
SEP_LEN = len("From ") + len(SENDER) + 1 + 24 + 1


def message_pieces():
    """The message as the gateway spools it (no dot to stuff: no line
    starts with one), in pieces."""
    yield HEAD
    for _ in range(NBLOCKS):
        yield BLOCK
    yield TAIL


def expected_mbox_body():
    """(size, sha256) of the message in mailbox format after the "From "
    line: LF line ends (no line starts with "From "), then the empty line
    that ends the entry."""
    h, n = hashlib.sha256(), 0
    for piece in message_pieces():
        piece = piece.replace(b"\r\n", b"\n")
        h.update(piece)
        n += len(piece)
    h.update(b"\n")
    return n + 1, h.hexdigest()


def file_body(path):
    """(first line, size and sha256 of the rest) of a quarantine file."""
    h, n = hashlib.sha256(), 0
    with open(path, "rb") as f:
        first = f.readline()
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            n += len(chunk)
    return first, n, h.hexdigest()


class QuarantineCase(unittest.TestCase):
    def setUp(self):
        d = os.path.join(ENV["wd"].path, type(self).__name__[4:8])  # short: socket paths
        os.makedirs(d, exist_ok=True)
        harness.chown_for_daemons(d)
        self.sink = harness.SmtpSink(d)
        self.addCleanup(self.sink.stop)
        self.gw = harness.Gateway(d, ENV["scand"].socket, service="smtp",
                                  section={"parent_server_host": "127.0.0.1",
                                           "parent_server_port": str(self.sink.port),
                                           "virus_check": "yes", "action": "deny",
                                           "quarantine": "yes"},
                                  common={"hostname": "gw.test", "workers": "1"})
        self.addCleanup(self.gw.stop)
        self.assertEqual(len(self.gw.worker_pids()), 1)
        self.qdir = os.path.join(self.gw.prefix, "tmp", "quarantine")

    def send_infected_mail(self, c):
        """The 200 MB mail, and its final reply (the deny, with the copy
        begun: the destination is created before the reply)."""
        c.sock.settimeout(600 * SLOW)
        c.envelope(self, sender=SENDER)
        for piece in message_pieces():
            c.sock.sendall(piece)
        c.sock.sendall(b".\r\n")
        final = c.reply()
        self.assertRegex(final, r"^5\d\d ")
        files = os.listdir(self.qdir)
        self.assertEqual(len(files), 1, files)
        return os.path.join(self.qdir, files[0])

    def check_complete(self, path, size, digest):
        first, n, h = file_body(path)
        self.assertRegex(first, rb"^From " + re.escape(SENDER.encode()) +
                         rb" \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n$")
        self.assertEqual(n, size)
        self.assertEqual(h, digest)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)


class TestCopyOffTheLoop(QuarantineCase):
    def test_other_session_served_while_200mb_mail_is_quarantined(self):
        size, digest = expected_mbox_body()
        # The second session is greeted first: its EHLO then needs one turn
        # of the worker's loop (and the parent's reply).
        c2 = Client(self.gw.port)
        self.addCleanup(c2.close)
        self.assertRegex(c2.greeting, r"^220 gw\.test ")
        c1 = Client(self.gw.port)
        self.addCleanup(c1.close)
        path = self.send_infected_mail(c1)
        ehlo = c2.cmd("EHLO second.test")
        size_at_ehlo = os.stat(path).st_size
        self.assertTrue(ehlo.startswith("250"), ehlo)
        self.assertLess(size_at_ehlo, SEP_LEN + size,
                        "the second session was served only after the whole quarantine copy")
        # The copy goes on to the end, and is the whole message.
        wait_for(lambda: os.stat(path).st_size >= SEP_LEN + size, 300 * SLOW, interval=0.1,
                 what="the quarantine file at its final size")
        line = self.gw.wait_log("detect", r"INFECTED")[-1]
        self.assertIn(":%s:" % os.path.basename(path), line)  # the record names it
        self.check_complete(path, size, digest)
        self.assertNotIn("quarantine", self.gw.log_text("error"))
        self.assertEqual(c2.cmd("NOOP")[:3], "250")


class TestStopFinishesCopy(QuarantineCase):
    def test_worker_stopped_during_copy_leaves_it_complete(self):
        size, digest = expected_mbox_body()
        c1 = Client(self.gw.port)
        self.addCleanup(c1.close)
        path = self.send_infected_mail(c1)
        c1.close()
        self.assertLess(os.stat(path).st_size, SEP_LEN + size, "the copy was over already")
        self.assertEqual(self.gw.stop(timeout=120 * SLOW), 0)  # not killed
        self.check_complete(path, size, digest)
        self.assertNotIn("quarantine", self.gw.log_text("error"))


class TestHttpCopyToOtherFileSystem(unittest.TestCase):
    def test_download_quarantined_by_copy_when_link_impossible(self):
        d = os.path.join(ENV["wd"].path, "http")
        os.makedirs(d, exist_ok=True)
        harness.chown_for_daemons(d)
        if not os.path.isdir("/dev/shm"):
            self.skipTest("no /dev/shm")
        qdir = tempfile.mkdtemp(prefix="sekisho-q-", dir="/dev/shm")
        self.addCleanup(shutil.rmtree, qdir, True)
        harness.chown_for_daemons(qdir)
        if os.stat(qdir).st_dev == os.stat(d).st_dev:
            self.skipTest("/dev/shm is on the spool's file system: the spool would be linked")
        gw = harness.Gateway(d, ENV["scand"].socket, service="http",
                             section={"action": "delete", "quarantine": "yes"},
                             common={"workers": "1", "quarantine_dir": qdir})
        self.addCleanup(gw.stop)
        url = ENV["nginx"].url("big_eicar.zip")
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x",
                            gw.proxy, "--max-time", "120", url],
                           capture_output=True, text=True, timeout=130)
        self.assertEqual(r.stdout, "403")
        line = gw.wait_log("detect", re.escape(url))[-1]
        m = re.search(r"DETECT-STAT:INFECTED:[^:]*:[^:]*:([^:]*):", line)
        self.assertTrue(m and m.group(1), line)
        path = os.path.join(qdir, m.group(1))
        size = os.stat(ENV["zip"]).st_size
        wait_for(lambda: os.path.exists(path) and os.stat(path).st_size >= size, 120 * SLOW,
                 interval=0.05, what="the quarantine file at its final size")
        with open(path, "rb") as f, open(ENV["zip"], "rb") as g:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(),
                             hashlib.sha256(g.read()).hexdigest())
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        self.assertNotIn("quarantine", gw.log_text("error"))


if __name__ == "__main__":
    unittest.main()
