"""Client keep-alive (HTTP-20, keepalive_timeout) and upstream connection
reuse, with scanning on and off."""
import os
import signal
import re
import socket
import socketserver
import threading
import time
import unittest

import harness
from harness import testfiles

ENV = {}
BODY = testfiles.clean_bytes(23 * 1024)


class CountingOrigin(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 origin that records which TCP connection served each
    request. close_after_response: answer as if persistent, then close
    (a server timing an idle connection out)."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, close_after_response=False):
        self.close_after_response = close_after_response
        self.lock = threading.Lock()
        self.requests = []  # (client port, request line)
        super().__init__(("127.0.0.1", 0), OriginHandler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


class OriginHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(10)
        data = b""
        try:
            while True:
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, data = data.partition(b"\r\n\r\n")
                line = head.split(b"\r\n")[0].decode()
                with self.server.lock:
                    self.server.requests.append((self.client_address[1], line))
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)
                if self.server.close_after_response:
                    return
        except OSError:
            return


def setUpModule():
    harness.serve_test_files(ENV, "keepalive")


def tearDownModule():
    harness.stop_all(ENV)


def gateway(name, **section):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    sec = {"keepalive": "yes", "keepalive_timeout": "15"}
    sec.update(section)
    return harness.Gateway(wd, ENV["scand"].socket, section=sec, common={"workers": "1"})


def read_response(sock, buf=b""):
    """Read one response with Content-Length; return (head, body, rest)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before a response head")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    length = int(m.group(1)) if m else None
    while length is not None and len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    if length is None:
        return head, rest, b""
    return head, rest[:length], rest[length:]


def closed_by_peer(sock, timeout):
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


class TestClientKeepAlive(unittest.TestCase):
    def check_two_requests(self, gw, url):
        with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
            req = b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % url.encode()
            s.sendall(req)
            head1, body1, rest = read_response(s)
            s.sendall(req)
            head2, body2, _ = read_response(s, rest)
        for head, body in ((head1, body1), (head2, body2)):
            self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:30])
            self.assertIn(b"\r\nConnection: Keep-Alive", head)
            self.assertEqual(body, open(ENV["files"]["clean_23k.bin"], "rb").read())
        lines = gw.wait_log("access", re.escape(url))
        harness.wait_for(lambda: len(gw.wait_log("access", re.escape(url))) >= 2, 10,
                         what="two access lines")
        lines = gw.wait_log("access", re.escape(url))
        # HTTP-18: the per-connection request counter and the KEEPALIVE flag.
        self.assertRegex(lines[0], r"PROXY-STAT:http:\d+:\d+:127\.0\.0\.1:1:")
        self.assertRegex(lines[1], r"PROXY-STAT:http:\d+:\d+:127\.0\.0\.1:2:")
        for line in lines:
            self.assertIn("PROTOCOL-STAT:KEEPALIVE:", line)

    def test_two_requests_on_one_connection_scanned(self):
        gw = gateway("ka-scan")
        try:
            self.check_two_requests(gw, ENV["nginx"].url("clean_23k.bin"))
        finally:
            gw.stop()

    def test_two_requests_on_one_connection_unscanned(self):
        gw = gateway("ka-noscan", virus_check="no")
        try:
            self.check_two_requests(gw, ENV["nginx"].url("clean_23k.bin"))
        finally:
            gw.stop()

    def test_pipelined_requests(self):
        gw = gateway("ka-pipe")
        try:
            url = ENV["nginx"].url("clean_23k.bin").encode()
            with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
                s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\nGET %s HTTP/1.1\r\nHost: a\r\n"
                          b"Connection: close\r\n\r\n" % (url, url))
                h1, b1, rest = read_response(s)
                h2, b2, _ = read_response(s, rest)
                self.assertEqual(len(b1), len(BODY))
                self.assertEqual(len(b2), len(BODY))
                self.assertIn(b"Connection: Keep-Alive", h1)
                self.assertIn(b"Connection: close", h2)  # the client asked to close
                self.assertTrue(closed_by_peer(s, 10))
        finally:
            gw.stop()

    def test_http10_client_gets_close_unless_it_asks(self):
        gw = gateway("ka-10")
        try:
            url = ENV["nginx"].url("clean_23k.bin").encode()
            with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
                s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % url)
                head, _, _ = read_response(s)
                self.assertIn(b"Connection: close", head)
            with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
                s.sendall(b"GET %s HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n" % url)
                head, _, _ = read_response(s)
                self.assertIn(b"Connection: Keep-Alive", head)
        finally:
            gw.stop()

    def test_keepalive_timeout_closes_idle_connection(self):
        gw = gateway("ka-timeout", keepalive_timeout="1")
        try:
            url = ENV["nginx"].url("clean_23k.bin").encode()
            with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
                s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % url)
                head, _, _ = read_response(s)
                self.assertIn(b"Keep-Alive", head)
                t0 = time.monotonic()
                self.assertTrue(closed_by_peer(s, 20), "closed after keepalive_timeout")
                print("    idle connection closed after %.1f s" % (time.monotonic() - t0))
        finally:
            gw.stop()

    def test_keepalive_no_closes(self):
        gw = gateway("ka-off", keepalive="no")
        try:
            url = ENV["nginx"].url("clean_23k.bin").encode()
            with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
                s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % url)
                head, _, _ = read_response(s)
                self.assertIn(b"Connection: close", head)
                self.assertTrue(closed_by_peer(s, 10))
        finally:
            gw.stop()

    def test_detection_page_closes_the_connection(self):
        gw = gateway("ka-detect")
        try:
            url = ENV["nginx"].url("eicar.com").encode()
            with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
                s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % url)
                head, _, _ = read_response(s)
                self.assertTrue(head.startswith(b"HTTP/1.0 403"))
                self.assertIn(b"Connection: close", head)  # HTTP-20 d
                self.assertTrue(closed_by_peer(s, 10))
        finally:
            gw.stop()


class TestUpstreamReuse(unittest.TestCase):
    def run_three(self, origin, **section):
        gw = gateway("up-%d" % origin.port, use_http11="yes", **section)
        try:
            url = "http://127.0.0.1:%d/f" % origin.port
            with socket.create_connection(("127.0.0.1", gw.port), timeout=20) as s:
                rest = b""
                for _ in range(3):
                    s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % url.encode())
                    head, body, rest = read_response(s, rest)
                    self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
                    self.assertEqual(body, BODY)
            return [port for port, _ in origin.requests]
        finally:
            gw.stop()

    def test_upstream_connection_is_reused(self):
        origin = CountingOrigin()
        try:
            ports = self.run_three(origin)
            self.assertEqual(len(ports), 3)
            self.assertEqual(len(set(ports)), 1, "one upstream connection for three requests")
        finally:
            origin.stop()

    def test_server_closing_a_kept_connection_is_retried(self):
        origin = CountingOrigin(close_after_response=True)
        try:
            ports = self.run_three(origin, virus_check="no")
            self.assertEqual(len(ports), 3)
            self.assertEqual(len(set(ports)), 3)
        finally:
            origin.stop()



class TestStopWithIdleConnections(unittest.TestCase):
    def test_sigterm_closes_idle_keepalive_connections_at_once(self):
        gw = gateway("ka-stop", keepalive_timeout="600")
        url = ENV["nginx"].url("clean_23k.bin").encode()
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=20)
        try:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % url)
            head, _, _ = read_response(s)
            self.assertIn(b"Keep-Alive", head)
            gw.proc.send(signal.SIGTERM)
            # The idle connection is closed and the service exits without
            # waiting for keepalive_timeout (600 s).
            self.assertTrue(closed_by_peer(s, 30))
            self.assertEqual(gw.proc.proc.wait(60), 0)
        finally:
            s.close()
            gw.stop()


if __name__ == "__main__":
    unittest.main()
