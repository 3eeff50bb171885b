"""A 2 GB download through the proxy completes with scanning on, and with
trickle the client gets its first bytes while the proxy is still spooling
(issue 3, HTTP-13; SCAN-2: 2 GB is the largest scannable file). Skipped in
the sanitizer pass, where scanning 2 GB would take minutes."""
import hashlib
import os
import re
import socket
import time
import unittest

import harness

SIZE = 2_000_000_000
ENV = {}


def setUpModule():
    if harness.SANITIZED:
        raise unittest.SkipTest("2 GB through the sanitizer build is too slow for the suite")
    wd = harness.Workdir("2gb")
    ENV["wd"] = wd
    www = os.path.join(wd.path, "www")
    os.makedirs(os.path.join(www, "medium"), exist_ok=True)
    path = os.path.join(www, "big2g.bin")
    # Sparse, with deterministic data blocks spread through it.
    with open(path, "wb") as f:
        f.truncate(SIZE)
        for i in range(16):
            f.seek(i * (SIZE // 16))
            f.write(bytes((i * 7 + j) % 251 for j in range(65536)))
    os.link(path, os.path.join(www, "medium", "big2g.bin"))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 << 20), b""):
            h.update(block)
    ENV["sha"] = h.hexdigest()
    ENV["nginx"] = harness.Nginx(www, wd.path)
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    if "wd" not in ENV:
        return
    ENV["scand"].stop()
    ENV["nginx"].stop()
    ENV["wd"].cleanup()


def spool_sizes(gw):
    spool = os.path.join(gw.prefix, "tmp/spool")
    sizes = []
    for pid in gw.worker_pids():
        fddir = "/proc/%d/fd" % pid
        try:
            for fd in os.listdir(fddir):
                try:
                    if os.readlink(os.path.join(fddir, fd)).startswith(spool):
                        sizes.append(os.stat(os.path.join(fddir, fd)).st_size)
                except OSError:
                    pass
        except OSError:
            pass
    return sizes


def download(gw, path, on_first_byte=None):
    """Stream a GET through the proxy; returns (head, byte count, sha256)."""
    url = ENV["nginx"].url(path).encode()
    h = hashlib.sha256()
    n = 0
    with socket.create_connection(("127.0.0.1", gw.port), timeout=300) as s:
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % url)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return data, 0, ""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        first = True
        while True:
            if body:
                if first and on_first_byte:
                    on_first_byte()
                first = False
                h.update(body)
                n += len(body)
            body = s.recv(4 << 20)
            if not body:
                break
    return head, n, h.hexdigest()


class TestTwoGigabytes(unittest.TestCase):
    def test_scanned_2gb_download_completes(self):
        wd = os.path.join(ENV["wd"].path, "scan")
        os.makedirs(wd, exist_ok=True)
        gw = harness.Gateway(wd, ENV["scand"].socket, section={"vsd_scantimeout": "0"})
        try:
            t0 = time.monotonic()
            head, n, sha = download(gw, "big2g.bin")
            print("    2 GB scanned and delivered in %.1f s" % (time.monotonic() - t0))
            self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
            self.assertEqual(n, SIZE)
            self.assertEqual(sha, ENV["sha"])
            line = gw.wait_log("access", re.escape(ENV["nginx"].url("big2g.bin")))[-1]
            self.assertRegex(line, r"DETECT-STAT:CLEAN:.*PROXY-STAT:http:\d+:\d+:[^:]+:1:1:")
        finally:
            gw.stop()

    def test_trickled_2gb_download_starts_before_spooling_ends(self):
        wd = os.path.join(ENV["wd"].path, "trickle")
        os.makedirs(wd, exist_ok=True)
        gw = harness.Gateway(wd, ENV["scand"].socket,
                             section={"vsd_scantimeout": "0", "trickle": "2",
                                      "trickle_rate": "10485760"})
        seen = {}

        def first_byte():
            seen["t"] = time.monotonic()
            seen["spool"] = spool_sizes(gw)

        try:
            t0 = time.monotonic()
            head, n, sha = download(gw, "medium/big2g.bin", first_byte)
            print("    first bytes after %.1f s (trickle=2), spool then %s of %d bytes; done in "
                  "%.1f s" % (seen["t"] - t0, seen["spool"], SIZE, time.monotonic() - t0))
            self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
            self.assertIn(b"Content-Length: %d" % SIZE, head)
            # The first bytes came while the proxy was still spooling the body.
            self.assertTrue(seen["spool"] and all(size < SIZE for size in seen["spool"]),
                            seen["spool"])
            self.assertEqual(n, SIZE)
            self.assertEqual(sha, ENV["sha"])
            line = gw.wait_log("access", re.escape(ENV["nginx"].url("medium/big2g.bin")))[-1]
            self.assertIn("PROTOCOL-STAT:TRICKLE:", line)
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
