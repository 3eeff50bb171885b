"""Scanner evasion through the HTTP proxy (issue 10, items 7-9).

A hostile origin (harness/origin.py) serves EICAR in forms the client
undoes but a byte scanner does not see whole: under a Content-Encoding
(item 7). Every test asserts what the client got, what the origin was
asked and what the access log recorded; the same bodies, clean, must reach
the client byte-exact (still encoded, as the origin sent them).

Brotli and zstd bodies are made with the Debian `brotli` and `zstd` tools
(dev/install-deps.sh test).
"""
import gzip
import os
import re
import subprocess
import unittest
import zlib

import harness
from harness import origin as og
from harness import testfiles

ENV = {}
EICAR = testfiles.EICAR
CLEAN = testfiles.clean_text(200 * 1024)

# LOG-2 fields this module asserts (see test_http_get.ACCESS_RX for all).
ACCESS_RX = re.compile(
    r" TCP_MISS/(?P<status>\d{3}) .* DETECT-STAT:(?P<result>CLEAN|INFECTED):(?P<name>[^: ]*):"
    r".* ACTION:(?P<action>[A-Z_]+): PROXY-STAT:http:\d+:\d+:[^: ]+:\d+:(?P<checks>\d+):\d+:"
    r"(?P<details>[A-Z_,]*): ")


def setUpModule():
    wd = harness.Workdir("http-evasion")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)
    ENV["origin"] = og.Origin()
    ENV["gw"] = harness.Gateway(os.path.join(wd.path, "gw"), ENV["scand"].socket)


def tearDownModule():
    for k in ("gw", "scand"):
        if k in ENV:
            ENV[k].stop()
    if "origin" in ENV:
        ENV["origin"].stop()
    ENV["wd"].cleanup()


def tool(argv, data):
    return subprocess.run(argv, input=data, capture_output=True, check=True, timeout=30).stdout


def raw_deflate(data):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


ENCODERS = {
    "gzip": lambda d: gzip.compress(d, mtime=0),
    "deflate-zlib": zlib.compress,
    "deflate-raw": raw_deflate,
    "br": lambda d: tool(["brotli", "-c"], d),
    "zstd": lambda d: tool(["zstd", "-q", "-c"], d),
}


def token(kind):
    return "deflate" if kind.startswith("deflate") else kind


def curl(url, *extra, timeout=60):
    """GET through the gateway, no decoding by curl: (status, headers, body)."""
    r = subprocess.run(["curl", "-s", "-S", "-x", ENV["gw"].proxy, "-D", "-", "-o",
                        "/dev/stdout", "--max-time", str(timeout)] + list(extra) + [url],
                       capture_output=True, timeout=timeout + 10)
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


class EvasionCase(unittest.TestCase):
    n = 0

    def serve(self, body, headers=(), status=200, reason="OK"):
        EvasionCase.n += 1
        path = "/%s-%d.bin" % (self._testMethodName, EvasionCase.n)
        ENV["origin"].route(path, og.response(status, reason, headers=list(headers), body=body))
        return ENV["origin"].url(path), path

    def access(self, url):
        lines = ENV["gw"].wait_log("access", re.escape(" " + url + " "))
        m = ACCESS_RX.search(lines[-1])
        self.assertIsNotNone(m, lines[-1])
        return m

    def assert_blocked(self, url, name=None):
        status, headers, body = curl(url)
        self.assertEqual(status, 403, body[:300])
        self.assertNotIn(EICAR, body)
        self.assertIn(b"<html", body.lower())
        m = self.access(url)
        self.assertEqual(m["status"], "403")
        self.assertEqual(m["result"], "INFECTED")
        self.assertEqual(m["action"], "DELETE")
        if name:
            self.assertEqual(m["name"], name)
        return m


class TestContentEncoding(EvasionCase):
    """Item 7: every coding a client may undo is undone before the scan."""

    def test_eicar_under_each_encoding_is_blocked(self):
        for kind, enc in ENCODERS.items():
            with self.subTest(encoding=kind):
                url, _ = self.serve(enc(EICAR), [("Content-Encoding", token(kind)),
                                                 ("Content-Type", "text/plain")])
                m = self.assert_blocked(url)
                self.assertRegex(m["name"], r"(?i)eicar")
                self.assertEqual(m["checks"], "1")

    def test_clean_body_under_each_encoding_is_delivered_as_sent(self):
        for kind, enc in ENCODERS.items():
            with self.subTest(encoding=kind):
                sent = enc(CLEAN)
                url, _ = self.serve(sent, [("Content-Encoding", token(kind)),
                                           ("Content-Type", "text/plain")])
                status, headers, body = curl(url)
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("content-encoding"), token(kind))
                self.assertEqual(body, sent)
                m = self.access(url)
                self.assertEqual((m["result"], m["checks"], m["details"]), ("CLEAN", "1", ""))

    def test_two_stacked_encodings_are_undone(self):
        url, _ = self.serve(gzip.compress(zlib.compress(EICAR), mtime=0),
                            [("Content-Encoding", "deflate"), ("Content-Encoding", "gzip")])
        self.assertRegex(self.assert_blocked(url)["name"], r"(?i)eicar")

    def test_undecodable_bodies_are_blocked_and_flagged(self):
        cases = {
            "unknown token": (EICAR, "x-sekisho-unknown"),
            "corrupt deflate": (zlib.compress(EICAR)[:-6] + b"\xff" * 6, "deflate"),
            "truncated zstd": (ENCODERS["zstd"](CLEAN)[:-40], "zstd"),
            "three layers": (gzip.compress(gzip.compress(gzip.compress(EICAR))),
                             "gzip, gzip, gzip"),
        }
        for what, (body, coding) in cases.items():
            with self.subTest(what=what):
                url, _ = self.serve(body, [("Content-Encoding", coding)])
                m = self.assert_blocked(url, "SEKISHO/POLICY_BLOCK_ENCODING")
                self.assertIn("VSD_UNDECODED", m["details"].split(","))

    def test_accept_encoding_offers_only_decodable_codings(self):
        url, path = self.serve(CLEAN, [("Content-Type", "text/plain")])
        status, _, body = curl(url, "-H", "Accept-Encoding: gzip;q=1, xz, br, *;q=0.1, zstd")
        self.assertEqual((status, body), (200, CLEAN))
        req = ENV["origin"].wait_request(path)[-1]
        self.assertEqual(req.header("Accept-Encoding"), "gzip;q=1, br, zstd")
        url, path = self.serve(CLEAN, [("Content-Type", "text/plain")])
        status, _, body = curl(url, "-H", "Accept-Encoding: compress, xz")
        self.assertEqual((status, body), (200, CLEAN))
        self.assertEqual(ENV["origin"].wait_request(path)[-1].header("Accept-Encoding"),
                         "identity")


if __name__ == "__main__":
    unittest.main()
