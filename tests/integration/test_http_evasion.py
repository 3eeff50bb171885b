"""Scanner evasion through the HTTP proxy (issue 10, items 7-9).

A hostile origin (harness/origin.py) serves EICAR in forms the client
undoes but a byte scanner does not see whole: under a Content-Encoding
(item 7), in byte ranges each clean alone (item 9), or in an object larger
than libclamav scans (item 8; tested with scand_max_filesize at 1 MiB
instead of 2 GiB: the same code path, at a bounded cost). Every test asserts what the client got, what the origin was
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


def ranging(body, always_partial=None):
    """An origin honouring `Range: bytes=a-b` (one range) with 206, else 200
    whole; always_partial=(a, b) answers that 206 whatever was asked."""
    def behaviour(conn, req):
        want = req.header("Range")
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", want or "")
        if always_partial:
            m = None
            a, b = always_partial
        elif m:
            a, b = int(m.group(1)), min(int(m.group(2)), len(body) - 1)
        if m or always_partial:
            part = body[a:b + 1]
            head = og._head("HTTP/1.1 206 Partial Content",
                            [("Content-Type", "application/octet-stream"),
                             ("Content-Range", "bytes %d-%d/%d" % (a, b, len(body))),
                             ("Content-Length", str(len(part)))])
            conn.sendall(head + part)
            return
        conn.sendall(og._head("HTTP/1.1 200 OK", [("Content-Type", "application/octet-stream"),
                                                  ("Accept-Ranges", "bytes"),
                                                  ("Content-Length", str(len(body)))]) + body)
    return behaviour


class TestRange(EvasionCase):
    """Item 9: a scanned object is fetched whole; a range is cut from it."""

    def route(self, behaviour):
        EvasionCase.n += 1
        path = "/%s-%d.bin" % (self._testMethodName, EvasionCase.n)
        ENV["origin"].route(path, behaviour)
        return ENV["origin"].url(path), path

    def test_eicar_in_two_ranges_is_blocked_each_time(self):
        url, path = self.route(ranging(EICAR))
        for k, rng in enumerate(("0-33", "34-67")):
            with self.subTest(range=rng):
                status, _, body = curl(url, "-H", "Range: bytes=" + rng)
                self.assertEqual(status, 403)
                self.assertNotIn(EICAR[:34], body)
                self.assertNotIn(EICAR[34:], body)
                req = ENV["origin"].wait_request(path, k + 1)[k]
                self.assertIsNone(req.header("Range"))
                lines = ENV["gw"].wait_log("access", re.escape(" " + url + " "), count=k + 1)
                self.assertEqual(len(lines), k + 1)
                m = ACCESS_RX.search(lines[-1])
                self.assertEqual((m["status"], m["result"]), ("403", "INFECTED"))

    def test_clean_object_ranges_are_exact(self):
        url, path = self.route(ranging(CLEAN))
        total = len(CLEAN)
        cases = [("bytes=100-199", 100, 199), ("bytes=-50", total - 50, total - 1),
                 ("bytes=1000-", 1000, total - 1), ("bytes=0-99999999", 0, total - 1)]
        for n, (rng, a, b) in enumerate(cases):
            with self.subTest(range=rng):
                status, headers, body = curl(url, "-H", "Range: " + rng, "-H",
                                             "If-Modified-Since: Sat, 1 Jan 2000 00:00:00 GMT")
                self.assertEqual(status, 206)
                self.assertEqual(headers["content-range"], "bytes %d-%d/%d" % (a, b, total))
                self.assertEqual(int(headers["content-length"]), b - a + 1)
                self.assertEqual(body, CLEAN[a:b + 1])
                req = ENV["origin"].wait_request(path, n + 1)[n]
                self.assertIsNone(req.header("Range"))
                lines = ENV["gw"].wait_log("access", re.escape(" " + url + " "))
                m = ACCESS_RX.search(lines[-1])
                self.assertEqual((m["status"], m["result"], m["checks"]), ("206", "CLEAN", "1"))

    def test_other_range_forms_get_the_whole_object(self):
        url, path = self.route(ranging(CLEAN))
        for extra in (["-H", "Range: bytes=0-9,20-29"], ["-H", "Range: bytes=0-9", "-H",
                                                         "If-Range: \"etag\""],
                      ["-H", "Range: bytes=99999999-"], ["-H", "Range: items=1-2"]):
            with self.subTest(extra=extra):
                status, headers, body = curl(url, *extra)
                self.assertEqual(status, 200)
                self.assertNotIn("content-range", headers)
                self.assertEqual(body, CLEAN)
        for req in ENV["origin"].requests(path):
            self.assertIsNone(req.header("Range"))
            self.assertIsNone(req.header("If-Range"))

    def test_partial_answer_to_a_whole_request_is_refused(self):
        url, path = self.route(ranging(EICAR, always_partial=(0, 33)))
        status, _, body = curl(url, "-H", "Range: bytes=0-33")
        self.assertEqual(status, 502)
        self.assertNotIn(EICAR[:34], body)
        m = ACCESS_RX.search(ENV["gw"].wait_log("access", re.escape(" " + url + " "))[-1])
        self.assertEqual(m["status"], "502")


LIMIT = 1048576  # scand_max_filesize of TestOverScanLimit


class TestOverScanLimit(EvasionCase):
    """Item 8: an object over scand's limit is scanned in its leading part
    and never logged as a plain CLEAN; block_oversize blocks it."""

    @classmethod
    def setUpClass(cls):
        wd = os.path.join(ENV["wd"].path, "oversize")
        os.makedirs(wd, exist_ok=True)
        ini = os.path.join(wd, "scand.ini")
        with open(ini, "w") as f:
            f.write("[common]\nrun_user=%s\nscand_max_filesize=%d\n"
                    % (harness.unprivileged_user(), LIMIT))
        cls.scand = harness.Scand(wd, extra_args=["-f", ini])
        cls.gw = harness.Gateway(os.path.join(wd, "gw"), cls.scand.socket)
        cls.gw_block = harness.Gateway(os.path.join(wd, "gw-block"), cls.scand.socket,
                                       section={"block_oversize": "yes"})

    @classmethod
    def tearDownClass(cls):
        for k in ("gw", "gw_block", "scand"):
            if hasattr(cls, k):
                getattr(cls, k).stop()

    def fetch(self, gw, body):
        url, _ = self.serve(body, [("Content-Type", "application/octet-stream")])
        saved = ENV["gw"]
        ENV["gw"] = gw
        try:
            status, _, got = curl(url)
            m = self.access(url)
        finally:
            ENV["gw"] = saved
        return status, got, m

    def test_scand_reports_its_limit(self):
        self.assertIn("max file size %d bytes" % LIMIT, self.scand.proc.output())

    def test_eicar_at_offset_0_of_an_oversized_object_is_blocked(self):
        body = EICAR + testfiles.clean_bytes(2 * LIMIT)
        status, got, m = self.fetch(self.gw, body)
        self.assertEqual(status, 403)
        self.assertNotIn(EICAR, got)
        self.assertEqual(m["result"], "INFECTED")
        self.assertRegex(m["name"], r"(?i)eicar")
        self.assertIn("OVER_SCANLIMIT", m["details"].split(","))

    def test_clean_oversized_object_passes_flagged(self):
        body = testfiles.clean_bytes(LIMIT + 4096)
        status, got, m = self.fetch(self.gw, body)
        self.assertEqual((status, got), (200, body))
        self.assertEqual((m["result"], m["checks"]), ("CLEAN", "1"))
        self.assertIn("OVER_SCANLIMIT", m["details"].split(","))

    def test_object_of_exactly_the_limit_is_scanned_whole(self):
        body = testfiles.clean_bytes(LIMIT)
        status, got, m = self.fetch(self.gw, body)
        self.assertEqual((status, got), (200, body))
        self.assertEqual((m["result"], m["details"]), ("CLEAN", ""))

    def test_block_oversize_blocks_it(self):
        body = testfiles.clean_bytes(LIMIT + 4096)
        status, got, m = self.fetch(self.gw_block, body)
        self.assertEqual(status, 403)
        self.assertEqual((m["result"], m["name"], m["action"]),
                         ("INFECTED", "SEKISHO/POLICY_BLOCK_OVERSIZE", "DELETE"))
        self.assertIn("OVER_SCANLIMIT", m["details"].split(","))


if __name__ == "__main__":
    unittest.main()
