"""The verdict cache (expert verdict_cache): a body scanned CLEAN is not
sent to the scanner again for 60 s, and is forgotten as soon as the
scanner's definitions change.

What the tests observe is the scanner being needed: with sekisho-scand
stopped, a download the cache knows is still served, and one it does not
know gets the documented 503. One worker, so every request meets the same
cache."""
import os
import socket
import unittest

import harness
from harness import origin as org
from harness import testfiles

ENV = {}


def setUpModule():
    wd = harness.Workdir("verdict")
    ENV["wd"] = wd
    ENV["origin"] = org.Origin()


def tearDownModule():
    ENV["origin"].stop()
    ENV["wd"].cleanup()


def get(port, url):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % url.encode())
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], body


class VerdictCacheCase(unittest.TestCase):
    SECTION = {}

    def setUp(self):
        self.dir = os.path.join(ENV["wd"].path, self.id().rsplit(".", 1)[1])
        os.makedirs(self.dir, exist_ok=True)
        self.scand = harness.Scand(self.dir)
        self.gw = harness.Gateway(self.dir, self.scand.socket, common={"workers": "1"},
                                  section=self.SECTION)

    def tearDown(self):
        self.gw.stop()
        self.scand.stop()

    def serve(self, name, body):
        ENV["origin"].route("/%s/%s" % (self.id().rsplit(".", 1)[1], name),
                            org.response(body=body, headers=[("Content-Type",
                                                              "application/octet-stream")]))
        return ENV["origin"].url("/%s/%s" % (self.id().rsplit(".", 1)[1], name))

    def assert_served(self, url, body):
        status, got = get(self.gw.port, url)
        self.assertEqual(status, b"HTTP/1.0 200 OK")
        self.assertEqual(got, body)

    def assert_scanner_needed(self, url):
        status, got = get(self.gw.port, url)
        self.assertEqual(status, b"HTTP/1.0 503 Service Unavailable", got[:300])


class TestVerdictCache(VerdictCacheCase):
    def test_known_clean_body_needs_no_scanner(self):
        a = testfiles.clean_bytes(23552, seed=41)
        url_a = self.serve("a.bin", a)
        url_b = self.serve("b.bin", testfiles.clean_bytes(23552, seed=42))
        self.assert_served(url_a, a)
        self.scand.stop()
        self.assert_served(url_a, a)     # from the cache
        self.assert_scanner_needed(url_b)  # never scanned: 503, not a silent pass
        # The same bytes under another URL are the same verdict.
        self.assert_served(self.serve("a-copy.bin", a), a)

    def test_one_byte_different_is_scanned(self):
        a = testfiles.clean_bytes(4096, seed=43)
        self.assert_served(self.serve("a.bin", a), a)
        self.scand.stop()
        self.assert_scanner_needed(self.serve("a2.bin", a[:-1] + bytes([a[-1] ^ 1])))
        self.assert_scanner_needed(self.serve("a3.bin", a + b"x"))

    def test_new_definitions_forget_everything(self):
        a = testfiles.clean_bytes(8192, seed=44)
        url_a = self.serve("a.bin", a)
        self.assert_served(url_a, a)
        # A new scanner process has compiled its definitions anew: the first
        # reply that names the new engine empties the cache.
        self.scand.stop()
        self.scand = harness.Scand(self.dir)
        b = testfiles.clean_bytes(8192, seed=45)
        self.assert_served(self.serve("b.bin", b), b)
        self.scand.stop()
        self.assert_scanner_needed(url_a)
        self.assert_served(self.serve("b-again.bin", b), b)  # learnt from the new engine

    def test_infected_is_never_remembered(self):
        url = self.serve("eicar.bin", testfiles.EICAR)
        for _ in range(2):
            status, _ = get(self.gw.port, url)
            self.assertEqual(status, b"HTTP/1.0 403 Forbidden")
        self.scand.stop()
        self.assert_scanner_needed(url)

    def test_large_body_is_not_remembered(self):
        big = testfiles.clean_bytes(128 * 1024 + 1, seed=46)
        url = self.serve("big.bin", big)
        self.assert_served(url, big)
        self.scand.stop()
        self.assert_scanner_needed(url)


class TestVerdictCacheOff(VerdictCacheCase):
    SECTION = {"verdict_cache": "no"}

    def test_every_body_is_scanned(self):
        a = testfiles.clean_bytes(2048, seed=47)
        url = self.serve("a.bin", a)
        self.assert_served(url, a)
        self.scand.stop()
        self.assert_scanner_needed(url)


if __name__ == "__main__":
    unittest.main()
