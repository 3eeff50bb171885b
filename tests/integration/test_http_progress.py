"""The download-progress page (HTTP-13 `progress`, PROTOCOL-STAT PROGRESS).

A browser whose download is still spooling after progress_delay gets a page
that refreshes a /.sekisho-progress/<token> URL; that URL (served by any
worker) reports the state, then hands out the scanned file, or the
detection page. The origin here holds the body back behind a gate, so
"still spooling" is a fact, not a timing guess."""
import os
import re
import socket
import stat
import threading
import time
import unittest

import harness
from harness import origin as org
from harness import testfiles

ENV = {}
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0"
TOKEN_RX = re.compile(rb"http://[^\"/]+(/\.sekisho-progress/[0-9a-f]{32})")


def setUpModule():
    wd = harness.Workdir("progress")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)
    ENV["origin"] = org.Origin()
    gwd = os.path.join(wd.path, "gw-progress")
    os.makedirs(gwd, exist_ok=True)
    ENV["gw"] = harness.Gateway(gwd, ENV["scand"].socket,
                                section={"progress": "yes", "progress_delay": "1"})


def tearDownModule():
    ENV["gw"].stop()
    ENV["origin"].stop()
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def gated(first, rest, gate, ctype=b"application/octet-stream", close_early=False):
    """Head and first bytes at once; the rest when the test opens the gate
    (or, with close_early, a close instead of the rest)."""
    def behaviour(conn, req):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: " + ctype + b"\r\n"
                     b"Content-Length: %d\r\n\r\n" % (len(first) + len(rest)) + first)
        gate.wait(60)
        if not close_early:
            conn.sendall(rest)
    return behaviour


def request(url, ua=BROWSER, extra=b"", method=b"GET"):
    """One request through the gateway; the whole answer (head, body)."""
    with socket.create_connection(("127.0.0.1", ENV["gw"].port), timeout=60) as s:
        s.sendall(b"%s %s HTTP/1.1\r\nHost: x\r\nUser-Agent: %s\r\nConnection: close\r\n%s\r\n"
                  % (method, url.encode(), ua.encode(), extra))
        data = b""
        while True:
            try:
                chunk = s.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def page_url(body):
    m = TOKEN_RX.search(body)
    if not m:
        raise AssertionError("no progress URL in the page: %r" % body[:400])
    return "http://127.0.0.1:%d%s" % (ENV["origin"].port, m.group(1).decode())


def poll(url, until, what, attempts=150):
    """Ask the progress URL again (as the page's refresh does) until
    until(head, body) holds; bounded."""
    for _ in range(attempts):
        head, body = request(url)
        if until(head, body):
            return head, body
        time.sleep(0.1)
    raise AssertionError("progress page never reached: %s (last: %r)" % (what, head[:60]))


class TestProgress(unittest.TestCase):
    def start(self, path, first, rest, **kw):
        gate = threading.Event()
        ENV["origin"].route(path, gated(first, rest, gate, **kw))
        self.addCleanup(gate.set)
        return ENV["origin"].url(path), gate

    def test_browser_gets_page_then_the_scanned_file(self):
        first = testfiles.clean_bytes(200 * 1024, seed=11)
        rest = testfiles.clean_bytes(300 * 1024, seed=12)
        url, gate = self.start("/dl/setup.bin", first, rest)
        head, body = request(url)
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:60])
        self.assertIn(b"Content-Type: text/html", head)
        self.assertIn(b"Cache-Control: no-store", head)
        self.assertIn(b"downloading", body)
        self.assertIn(b"setup.bin", body)
        self.assertIn(b'http-equiv="refresh" content="2"', body)
        purl = page_url(body)
        # While the origin holds the rest back, the page reports what arrived.
        _, body = poll(purl, lambda h, b: b"204800 of 512000 bytes (40%)" in b, "40%")
        self.assertIn(b"downloading", body)
        gate.set()
        _, body = poll(purl, lambda h, b: b"<td>clean</td>" in b, "clean")
        furl = purl + "/setup.bin"
        self.assertIn(b'content="0; url=http://', body)
        self.assertIn(furl.split("/", 3)[3].encode(), body)
        head, data = request(furl)
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:60])
        self.assertIn(b"Content-Length: %d" % (len(first) + len(rest)), head)
        self.assertIn(b"Content-Type: application/octet-stream", head)
        self.assertEqual(data, first + rest)
        # The original request is logged once, flagged PROGRESS.
        line = ENV["gw"].wait_log("access", re.escape(url) + " ")[-1]
        self.assertIn("PROTOCOL-STAT:PROGRESS:", line)
        self.assertRegex(line, r" TCP_MISS/200 ")
        ENV["gw"].wait_log("info", r"progress: page sent, URL=\[%s\]" % re.escape(url))
        # The file stays available for another fetch (a browser may retry).
        head, data = request(furl)
        self.assertEqual(data, first + rest)

    def test_published_files_are_private(self):
        url, gate = self.start("/dl/private.bin", testfiles.clean_bytes(1000, seed=5),
                               testfiles.clean_bytes(1000, seed=6))
        _, body = request(url)
        purl = page_url(body)
        gate.set()
        poll(purl, lambda h, b: b"<td>clean</td>" in b, "clean")
        d = os.path.join(ENV["gw"].prefix, "tmp", "spool", "progress")
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
        token = purl.rsplit("/", 1)[1]
        for ext in (".st", ".body"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(d, token + ext)).st_mode), 0o600)

    def progress_dir(self):
        return os.path.join(ENV["gw"].prefix, "tmp", "spool", "progress")

    def test_expired_entries_are_swept(self):
        d = self.progress_dir()
        os.makedirs(d, exist_ok=True)
        old = [os.path.join(d, "%032x%s" % (7, ext)) for ext in (".st", ".body")]
        for p in old:
            with open(p, "wb") as f:
                f.write(b"x")
            os.utime(p, (time.time() - 601, time.time() - 601))
        fresh = os.path.join(d, "%032x.st" % 8)
        with open(fresh, "wb") as f:
            f.write(b"x")
        # Publishing the next download sweeps the directory.
        url, gate = self.start("/dl/sweep.bin", testfiles.clean_bytes(1000, seed=30),
                               testfiles.clean_bytes(1000, seed=31))
        request(url)
        gate.set()
        for p in old:
            self.assertFalse(os.path.exists(p), p)
        self.assertTrue(os.path.exists(fresh))
        os.unlink(fresh)

    def test_infected_download_gives_the_detection_page(self):
        first = testfiles.clean_bytes(100 * 1024, seed=13)
        url, gate = self.start("/dl/eicar.bin", first, testfiles.EICAR)
        head, body = request(url)
        purl = page_url(body)
        gate.set()
        head, body = poll(purl, lambda h, b: not h.startswith(b"HTTP/1.0 200"), "verdict")
        self.assertTrue(head.startswith(b"HTTP/1.0 403"), head[:60])
        self.assertIn(b"Eicar", body)
        self.assertIn(url.encode(), body)  # the page names the download, not the token
        head, body = request(purl + "/eicar.bin")
        self.assertTrue(head.startswith(b"HTTP/1.0 403"), head[:60])
        self.assertNotIn(testfiles.EICAR, body)
        line = ENV["gw"].wait_log("detect", re.escape(url) + " ")[-1]
        self.assertIn("DETECT-STAT:INFECTED:", line)
        self.assertIn("PROTOCOL-STAT:PROGRESS:", line)
        token = purl.rsplit("/", 1)[1]
        self.assertFalse(os.path.exists(os.path.join(self.progress_dir(), token + ".body")))
        self.assertFalse(os.path.exists(os.path.join(self.progress_dir(), token + ".body.part")))

    def test_server_closing_mid_download_is_reported(self):
        url, gate = self.start("/dl/broken.bin", testfiles.clean_bytes(4096, seed=7),
                               testfiles.clean_bytes(4096, seed=8), close_early=True)
        head, body = request(url)
        purl = page_url(body)
        gate.set()
        head, body = poll(purl, lambda h, b: not h.startswith(b"HTTP/1.0 200"), "error")
        self.assertTrue(head.startswith(b"HTTP/1.0 503"), head[:60])
        self.assertIn(b"Server closed connection", body)
        token = purl.rsplit("/", 1)[1]
        self.assertFalse(os.path.exists(os.path.join(self.progress_dir(), token + ".body.part")))

    def test_fast_download_gets_no_page(self):
        data = testfiles.clean_bytes(50 * 1024, seed=9)
        url, gate = self.start("/dl/fast.bin", data[:1000], data[1000:])
        gate.set()
        head, body = request(url)
        self.assertIn(b"Content-Type: application/octet-stream", head)
        self.assertEqual(body, data)

    def assert_no_page(self, path, ua=BROWSER, ctype=b"application/octet-stream", extra=b""):
        first = testfiles.clean_bytes(8192, seed=21)
        rest = testfiles.clean_bytes(8192, seed=22)
        url, gate = self.start(path, first, rest, ctype=ctype)
        threading.Timer(2.5, gate.set).start()  # past progress_delay=1
        head, body = request(url, ua=ua, extra=extra)
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:60])
        self.assertIn(b"Content-Type: " + ctype, head)
        self.assertEqual(body, first + rest)
        line = ENV["gw"].wait_log("access", re.escape(url) + " ")[-1]
        self.assertNotIn("PROGRESS", line)

    def test_non_browser_client_waits_for_the_file(self):
        self.assert_no_page("/dl/curl.bin", ua="curl/7.88.1")

    def test_image_of_a_page_gets_no_page(self):
        self.assert_no_page("/dl/pic.png", ctype=b"image/png")

    def test_subresource_fetch_gets_no_page(self):
        self.assert_no_page("/dl/embed.bin", extra=b"Sec-Fetch-Dest: embed\r\n")

    def test_unknown_token_is_404(self):
        head, body = request("http://127.0.0.1:9/.sekisho-progress/" + "0" * 32)
        self.assertTrue(head.startswith(b"HTTP/1.0 404"), head[:60])
        self.assertIn(b"no longer available", body)

    def test_malformed_token_goes_to_the_origin(self):
        # Only a well-formed token is ours; anything else is an ordinary URL.
        path = "/.sekisho-progress/" + "G" * 32
        ENV["origin"].route(path, org.response(body=b"origin"))
        head, body = request(ENV["origin"].url(path))
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:60])
        self.assertEqual(body, b"origin")
        ENV["origin"].wait_request(path)

if __name__ == "__main__":
    unittest.main()
