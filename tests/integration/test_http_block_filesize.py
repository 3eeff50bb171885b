"""block_filesize / block_filesize_len (G-13, 003:6644): an object the proxy
would scan that is larger than block_filesize_len is the detection
SEKISHO/POLICY_BLOCK_FILESIZE, decided as soon as its size is known, and
answered like a virus: action=delete gives the detection page (a cut
connection once the head is out), action=pass logs it and delivers. Scanned
uploads (virus_check_post) are refused before anything reaches the origin;
ftp:// downloads stop at the limit. pass_filesize's unscanned tail counts,
so a blocked object never reaches the client whole."""
import os
import re
import socket
import unittest

import harness
from harness import origin as og
from harness import testfiles
from harness import vsftpd as vs

ENV = {}
NAME = "SEKISHO/POLICY_BLOCK_FILESIZE"
SIZE_23K = 23 * 1024


def setUpModule():
    harness.serve_test_files(ENV, "http-block-filesize")
    o = og.Origin()
    ENV["origin"] = o
    # A head announcing 1 MB, then silence: only a decision made on the
    # head can answer before the client's timeout.
    o.route("/announced", og.stalls([("Content-Length", str(1 << 20))]))
    # Chunked, 3 x 5000 bytes, then silence: the limit is passed while
    # spooling, and the end never comes.
    head = [("Transfer-Encoding", "chunked")]
    chunks = b"".join(b"%x\r\n" % 5000 + b"c" * 5000 + b"\r\n" for _ in range(3))
    o.route("/chunked-endless", og.stalls(head, chunks))
    # 40000 bytes of unknown length; the first 6000 come alone, so that
    # pass_filesize (5000) starts the scan before the rest arrives.
    body = og.chunk_payload([40000])[0]
    ENV["body40k"] = body
    o.route("/until-close-40k", og.slow([body[:6000], body[6000:]], 0.5, length=False))
    o.route("/upload", og.response(body=b"stored\n"))  # small: the answer is not blocked


def tearDownModule():
    ENV["origin"].stop()
    harness.stop_all(ENV)


def gateway(name, limit, **section):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    sec = {"block_filesize": "yes", "block_filesize_len": str(limit)}
    sec.update(section)
    return harness.Gateway(wd, ENV["scand"].socket, section=sec)


def exchange(port, data, timeout=30):
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def get(url):
    return b"GET %s HTTP/1.0\r\n\r\n" % url.encode()


def split(reply):
    head, _, body = reply.partition(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0].split()
    return (int(first[1]) if len(first) > 1 else 0), head, body


class TestDownloads(unittest.TestCase):
    def assert_blocked(self, gw, url, reply, action="DELETE"):
        status, head, body = split(reply)
        self.assertEqual(status, 403, reply[:300])
        self.assertIn(NAME.encode(), body)  # the detection page names it
        self.assertIn(b"Connection: close", head)
        line = gw.wait_log("detect", re.escape(url))[-1]
        self.assertIn("DETECT-STAT:INFECTED:%s:" % NAME, line)
        self.assertIn(" TCP_MISS/403 ", line)
        self.assertIn(action, line)
        gw.wait_log("info", re.escape("Infected: URL=[%s] VirusName: %s action=%s" %
                                      (url, NAME, action)))

    def test_limit_is_inclusive(self):
        # Exactly block_filesize_len bytes pass; one more is blocked.
        url = ENV["nginx"].url("clean_23k.bin")
        gw = gateway("inclusive", SIZE_23K)
        try:
            status, _, body = split(exchange(gw.port, get(url)))
            self.assertEqual(status, 200)
            self.assertEqual(len(body), SIZE_23K)
            self.assertNotIn(NAME, gw.log_text("detect"))
        finally:
            gw.stop()
        gw = gateway("one-less", SIZE_23K - 1)
        try:
            self.assert_blocked(gw, url, exchange(gw.port, get(url)))
        finally:
            gw.stop()

    def test_known_length_is_decided_before_the_body(self):
        gw = gateway("announced", 10000)
        try:
            url = ENV["origin"].url("/announced")
            self.assert_blocked(gw, url, exchange(gw.port, get(url)))
        finally:
            gw.stop()

    def test_unknown_length_stops_at_the_limit(self):
        gw = gateway("chunked", 8000)
        try:
            url = ENV["origin"].url("/chunked-endless")
            self.assert_blocked(gw, url, exchange(gw.port, get(url)))
        finally:
            gw.stop()

    def test_action_pass_logs_and_delivers(self):
        gw = gateway("pass", 10000, action="pass")
        try:
            url = ENV["nginx"].url("clean_23k.bin")
            status, _, body = split(exchange(gw.port, get(url)))
            self.assertEqual(status, 200)
            with open(os.path.join(ENV["wd"].path, "www", "clean_23k.bin"), "rb") as f:
                self.assertEqual(body, f.read())
            line = gw.wait_log("detect", re.escape(url))[-1]
            self.assertIn("DETECT-STAT:INFECTED:%s:" % NAME, line)
            self.assertIn(" TCP_MISS/200 ", line)
            self.assertIn("PASS", line)
        finally:
            gw.stop()

    def test_not_scanned_objects_are_not_checked(self):
        # pass_ext exempts the object from scanning, and so from the limit.
        gw = gateway("pass-ext", 1000, pass_ext="yes", pass_ext_list="bin")
        try:
            status, _, body = split(exchange(gw.port, get(ENV["nginx"].url("clean_23k.bin"))))
            self.assertEqual(status, 200)
            self.assertEqual(len(body), SIZE_23K)
        finally:
            gw.stop()

    def test_pass_filesize_tail_is_cut_at_the_limit(self):
        # pass_filesize scans the first 5000 bytes and would relay the rest
        # unscanned: the head is out, so passing the limit cuts the
        # connection before the client has the whole object.
        gw = gateway("tail", 20000, pass_filesize="yes", pass_filesize_len="5000")
        try:
            url = ENV["origin"].url("/until-close-40k")
            status, _, body = split(exchange(gw.port, get(url)))
            self.assertEqual(status, 200)
            self.assertLessEqual(len(body), 20000)
            self.assertGreaterEqual(len(body), 5000)  # the scanned part went out
            self.assertEqual(body, ENV["body40k"][:len(body)])
            line = gw.wait_log("detect", re.escape(url))[-1]
            self.assertIn("DETECT-STAT:INFECTED:%s:" % NAME, line)
            gw.wait_log("info", re.escape("block_filesize: connection cut after"))
        finally:
            gw.stop()

    def test_pass_filesize_with_known_length_is_blocked_at_the_head(self):
        gw = gateway("tail-known", 10000, pass_filesize="yes", pass_filesize_len="5000")
        try:
            url = ENV["nginx"].url("clean_23k.bin")
            self.assert_blocked(gw, url, exchange(gw.port, get(url)))
        finally:
            gw.stop()


class TestUploads(unittest.TestCase):
    def post(self, gw, body, chunked=False):
        url = ENV["origin"].url("/upload")
        head = b"POST %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % url.encode()
        head += b"Content-Type: multipart/form-data; boundary=b\r\n"
        if chunked:
            data = head + b"Transfer-Encoding: chunked\r\n\r\n"
            for i in range(0, len(body), 4000):
                piece = body[i:i + 4000]
                data += b"%x\r\n" % len(piece) + piece + b"\r\n"
            data += b"0\r\n\r\n"
        else:
            data = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        return url, exchange(gw.port, data)

    def test_larger_upload_is_refused_before_the_origin(self):
        gw = gateway("upload", 10000, virus_check_post="yes")
        try:
            for chunked in (False, True):
                url, reply = self.post(gw, b"u" * 20000, chunked)
                status, _, body = split(reply)
                self.assertEqual(status, 403, (chunked, reply[:300]))
                self.assertIn(NAME.encode(), body)
                self.assertEqual(ENV["origin"].requests("/upload"), [])
            harness.wait_for(lambda: len([l for l in gw.log_lines("detect") if NAME in l]) == 2,
                             what="two detect.log lines")
        finally:
            gw.stop()

    def test_upload_within_the_limit_is_forwarded(self):
        gw = gateway("upload-ok", 10000, virus_check_post="yes")
        try:
            _, reply = self.post(gw, b"u" * 10000)
            self.assertEqual(split(reply), (200, split(reply)[1], b"stored\n"))
            req = ENV["origin"].wait_request("/upload")[-1]
            self.assertEqual(req.body, b"u" * 10000)
        finally:
            gw.stop()


class TestFtp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = vs.available()
        if reason:
            raise unittest.SkipTest(reason)
        root = os.path.join(ENV["wd"].path, "ftproot")
        os.makedirs(os.path.join(root, "pub"), exist_ok=True)
        cls.clean = testfiles.clean_bytes(SIZE_23K)
        with open(os.path.join(root, "pub", "clean.bin"), "wb") as f:
            f.write(cls.clean)
        for dirpath, _, files in os.walk(root):
            os.chmod(dirpath, 0o755)
            for name in files:
                os.chmod(os.path.join(dirpath, name), 0o644)
        cls.ftpd = vs.Vsftpd(ENV["wd"].path, root)

    @classmethod
    def tearDownClass(cls):
        cls.ftpd.stop()

    def fetch(self, gw):
        url = "ftp://127.0.0.1:%d/pub/clean.bin" % self.ftpd.port
        return url, split(exchange(gw.port, get(url)))

    def test_larger_ftp_file_is_blocked(self):
        gw = gateway("ftp", 10000)
        try:
            url, (status, _, body) = self.fetch(gw)
            self.assertEqual(status, 403)
            self.assertIn(NAME.encode(), body)
            line = gw.wait_log("detect", re.escape(url))[-1]
            self.assertIn("DETECT-STAT:INFECTED:%s:" % NAME, line)
        finally:
            gw.stop()

    def test_ftp_file_within_the_limit_is_delivered(self):
        gw = gateway("ftp-ok", SIZE_23K)
        try:
            _, (status, _, body) = self.fetch(gw)
            self.assertEqual(status, 200)
            self.assertEqual(body, self.clean)
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
