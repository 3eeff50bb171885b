"""1 GiB through the FTP proxy (FTP-1: the largest transfer is bounded by
disk space, not memory; FTP-8: a scanned file is received whole, scanned,
then delivered; FTP-11), in passive and in active mode, each way.

RETR of a 1 GiB file of vsftpd's (a sparse file: no disk, no time to make)
and STOR of 1 GiB from ftplib (a file-like that yields zeros) come out
byte-identical: the client's copy and the server's file are hashed as
they stream, never held in memory here, and each transfer has its access
record with the full byte count. While the proxy receives and scans, the
other side's data connection waits: vsftpd's data_connection_timeout
(120 s) bounds how long that may take, so a proxy too slow for 1 GiB
fails here rather than in the field.

Skipped in the sanitizer pass (as test_http_2gb.py), where scanning and
copying 4 GiB would take far longer than the suite allows.
"""
import ftplib
import hashlib
import os
import re
import time
import unittest

import harness
from harness import ftp_files
from harness.ftp_proxy import FtpCase, FtpEnv

SIZE = ftp_files.GB
BIG = "big_1g.bin"
BLOCK = ftp_files.CHUNK
# The client waits while the proxy takes the whole file and scans it.
CLIENT_TIMEOUT = 300 * harness.SLOW
ENV = {}


def setUpModule():
    if harness.SANITIZED:
        raise unittest.SkipTest("1 GiB through the sanitizer build is too slow for the suite")
    env = FtpEnv("ftp-large", ipv6=False)
    ENV["env"] = env
    ftp_files.sparse_file(os.path.join(env.root, BIG), SIZE)
    h = hashlib.sha256()
    for block in ftp_files.stream_bytes(SIZE):
        h.update(block)
    ENV["sha"] = h.hexdigest()


def tearDownModule():
    if "env" in ENV:
        ENV["env"].stop()


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK), b""):
            h.update(block)
    return h.hexdigest()


class Zeros:
    """A file-like for storbinary: SIZE zero bytes, made as they are read."""

    def __init__(self, size):
        self.blocks = ftp_files.stream_bytes(size, BLOCK)

    def read(self, _n=-1):
        return next(self.blocks, b"")


class TestGigabyte(FtpCase):
    ENV = ENV

    def ftp(self, passive):
        f = ftplib.FTP(timeout=CLIENT_TIMEOUT)
        f.connect(self.LISTEN, self.gw.port)
        self.addCleanup(f.close)
        f.login("anonymous", "large@example.com")
        f.set_pasv(passive)
        return f

    def record(self, before):
        self.gw.wait_log("access", r"", count=before + 1, timeout=30)
        return self.gw.log_lines("access")[before]

    def retr(self, passive):
        before = len(self.gw.log_lines("access"))
        f = self.ftp(passive)
        h = hashlib.sha256()
        count = [0]
        t0 = time.monotonic()

        def take(block):
            count[0] += len(block)
            h.update(block)
        reply = f.retrbinary("RETR " + BIG, take, blocksize=BLOCK)
        print("    1 GiB RETR (%s) in %.1f s" % ("passive" if passive else "active",
                                                 time.monotonic() - t0))
        self.assertTrue(reply.startswith("226"), reply)
        f.quit()
        self.assertEqual(count[0], SIZE)
        self.assertEqual(h.hexdigest(), ENV["sha"])
        self.assertRegex(self.record(before), r" TCP_MISS/200 %d GET ftp://anonymous@127\.0\.0\.1:"
                                              r"%d/%s .* DETECT-STAT:CLEAN:"
                         % (SIZE, self.env.a4.port, re.escape(BIG)))

    def stor(self, passive):
        before = len(self.gw.log_lines("access"))
        target = "large-%s.bin" % ("pasv" if passive else "port")
        path = os.path.join(self.env.upload_path, target)
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        f = self.ftp(passive)
        t0 = time.monotonic()
        reply = f.storbinary("STOR incoming/" + target, Zeros(SIZE), blocksize=BLOCK)
        print("    1 GiB STOR (%s) in %.1f s" % ("passive" if passive else "active",
                                                 time.monotonic() - t0))
        self.assertTrue(reply.startswith("226"), reply)
        f.quit()
        self.assertEqual(os.path.getsize(path), SIZE)
        self.assertEqual(file_sha(path), ENV["sha"])
        self.assertRegex(self.record(before), r" TCP_MISS/200 %d PUT ftp://anonymous@127\.0\.0\.1:"
                                              r"%d/incoming/%s .* DETECT-STAT:CLEAN:"
                         % (SIZE, self.env.a4.port, re.escape(target)))

    def test_retr_passive(self):
        self.retr(True)

    def test_retr_active(self):
        self.retr(False)

    def test_stor_passive(self):
        self.stor(True)

    def test_stor_active(self):
        self.stor(False)


if __name__ == "__main__":
    unittest.main()
