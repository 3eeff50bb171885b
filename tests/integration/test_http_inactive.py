"""timeout_inactive / inactive_timeout (HTTP-21, KB-28, 000:78, G-22).

With timeout_inactive=yes a session in which no byte moved in either
direction for inactive_timeout seconds is ended, whatever it waits for: the
client gets the error page (504) when it got nothing yet, else the
connection is closed; the error log and the access record say why. With
timeout_inactive=no (the default) G-22's limits stay: the same waits are
still pending after twice the limit. The tests use inactive_timeout=2."""
import os
import re
import socket
import threading
import unittest

import harness
from harness import origin as og
from harness.fake_scanner import HungScanner

ENV = {}
LIMIT = 2
NO_TRAFFIC = "no traffic in either direction for %d sec" % LIMIT
NO_TRAFFIC_LOGGED = NO_TRAFFIC.replace(" ", "+")


def setUpModule():
    harness.serve_test_files(ENV, "http-inactive")
    o = og.Origin()
    ENV["origin"] = o
    o.route("/silent", og.never_answers())
    o.route("/stalls", og.stalls([("Content-Length", "100000")], b"x" * 1000))
    o.route("/slow", og.slow([b"s" * 100] * 5, 1.0))


def tearDownModule():
    ENV["origin"].stop()
    harness.stop_all(ENV)


def gateway(name, inactive=True, scand_socket=None, **section):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    sec = {"timeout_inactive": "yes" if inactive else "no", "inactive_timeout": str(LIMIT)}
    sec.update(section)
    return harness.Gateway(wd, scand_socket or ENV["scand"].socket, section=sec)


def read_all(s, cap=1 << 22):
    """Everything the proxy sends until it closes (bounded by s's timeout)."""
    out = b""
    while len(out) < cap:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    return out


def exchange(port, data, timeout=30):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_all(s)


def status_of(reply):
    first = reply.split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) > 1 and first[0].startswith(b"HTTP/") else 0


def get(url):
    return b"GET %s HTTP/1.0\r\n\r\n" % url.encode()


class SilentServer:
    """A TCP server that accepts and never sends (a tunnel's silent peer).
    backlog_full=True instead fills its one-slot accept queue, so that
    further connects hang in the handshake (a server that never accepts)."""

    def __init__(self, backlog_full=False):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held = []
        if backlog_full:
            self.sock.listen(0)
            filler = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            self.held.append(filler)
            return
        self.sock.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def stop(self):
        self.sock.close()
        for c in self.held:
            c.close()


class TestServerNeverAnswers(unittest.TestCase):
    def test_client_gets_504_after_the_limit(self):
        gw = gateway("never-answers")
        try:
            url = ENV["origin"].url("/silent")
            reply = exchange(gw.port, get(url))
            self.assertEqual(status_of(reply), 504, reply[:200])
            self.assertIn(("%s while waiting for the server's response (timeout_inactive)" %
                           NO_TRAFFIC).encode(), reply.replace(b"&#39;", b"'"))
            gw.wait_log("error", re.escape("%s while waiting for the server's response "
                                           "(timeout_inactive); session ended. URL=[%s]" %
                                           (NO_TRAFFIC, url)))
            line = gw.wait_log("access", re.escape(url))[-1]
            self.assertIn(" TCP_MISS/504 ", line)
            self.assertIn("PROXY-ERROR:Timeout%3a+" + NO_TRAFFIC_LOGGED, line)
        finally:
            gw.stop()

    def test_without_timeout_inactive_the_request_is_still_pending(self):
        # G-22's 120 s without progress stay: after twice the limit the
        # client still waits, and nothing was logged for the request.
        gw = gateway("never-answers-off", inactive=False)
        try:
            url = ENV["origin"].url("/silent")
            with socket.create_connection(("127.0.0.1", gw.port), timeout=2 * LIMIT) as s:
                s.sendall(get(url))
                with self.assertRaises(socket.timeout):
                    s.recv(1)
            self.assertNotIn(url, gw.log_text("access"))
            self.assertNotIn("timeout_inactive", gw.log_text("error"))
        finally:
            # The request is still pending upstream (that is the point), and
            # a graceful stop would wait for it: 2 s, then the process group
            # is killed.
            gw.stop(timeout=2)


class TestResponseStalls(unittest.TestCase):
    def test_scanned_download_that_stops_gets_504(self):
        # The body is being spooled for the scan: the client got nothing yet.
        gw = gateway("stalls")
        try:
            url = ENV["origin"].url("/stalls")
            reply = exchange(gw.port, get(url))
            self.assertEqual(status_of(reply), 504, reply[:200])
            self.assertIn(b"while receiving the response body", reply)
            self.assertNotIn(b"x" * 1000, reply)
        finally:
            gw.stop()

    def test_relayed_download_that_stops_is_closed(self):
        # Not scanned (pass_ext): the head and the first bytes are out, so
        # all the proxy can do is close; the access record says why.
        gw = gateway("stalls-relay", pass_ext="yes", pass_ext_list="stalls")
        try:
            url = ENV["origin"].url("/stalls")
            reply = exchange(gw.port, get(url))
            self.assertEqual(status_of(reply), 200)
            head, _, body = reply.partition(b"\r\n\r\n")
            self.assertIn(b"Content-Length: 100000", head)
            self.assertEqual(body, b"x" * 1000)
            gw.wait_log("error", re.escape("%s while relaying the response (timeout_inactive); "
                                           "session ended. URL=[%s], written=" % (NO_TRAFFIC, url)))
            line = gw.wait_log("access", re.escape(url))[-1]
            self.assertIn(" TCP_MISS/200 ", line)
            self.assertIn("PROXY-ERROR:Timeout%3a+" + NO_TRAFFIC_LOGGED, line)
        finally:
            gw.stop()

    def test_traffic_keeps_a_slow_download_going(self):
        # Five pauses of 1 s: longer than the limit in total, never silent
        # for as long as the limit.
        gw = gateway("slow")
        try:
            reply = exchange(gw.port, get(ENV["origin"].url("/slow")))
            self.assertEqual(status_of(reply), 200)
            self.assertEqual(reply.partition(b"\r\n\r\n")[2], b"s" * 500)
        finally:
            gw.stop()


class TestRequestBodyStalls(unittest.TestCase):
    def test_upload_that_stops_gets_504_and_nothing_reaches_the_server(self):
        gw = gateway("upload-stalls", virus_check_post="yes")
        try:
            url = ENV["origin"].url("/upload-stalls")
            head = (b"POST %s HTTP/1.0\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                    b"Content-Length: 5000\r\n\r\n" % url.encode())
            reply = exchange(gw.port, head + b"p" * 100)
            self.assertEqual(status_of(reply), 504, reply[:200])
            self.assertIn(b"while receiving the client&#39;s request body", reply)
            self.assertEqual(ENV["origin"].requests("/upload-stalls"), [])
            gw.wait_log("error", re.escape("%s while receiving the client's request body" %
                                           NO_TRAFFIC))
        finally:
            gw.stop()


class TestScannerHangs(unittest.TestCase):
    def test_hung_scanner_without_scan_time_limit_gets_504(self):
        # vsd_scantimeout=0: the scan itself has no limit; inactivity ends it.
        d = os.path.join(ENV["wd"].path, "hung")
        os.makedirs(d, exist_ok=True)
        harness.chown_for_daemons(d)
        scanner = HungScanner(os.path.join(d, "hung.sock"))
        gw = gateway("hung-gw", scand_socket=scanner.path, vsd_scantimeout="0")
        try:
            url = ENV["nginx"].url("clean_23k.bin")
            reply = exchange(gw.port, get(url))
            self.assertEqual(status_of(reply), 504, reply[:200])
            self.assertIn(b"while waiting for the virus scan", reply)
            self.assertGreaterEqual(scanner.request_count(), 1)  # the scan had started
            gw.wait_log("error", re.escape("%s while waiting for the virus scan" % NO_TRAFFIC))
            line = gw.wait_log("access", re.escape(url))[-1]
            self.assertIn(" TCP_MISS/504 ", line)
            self.assertIn("PROXY-ERROR:Timeout%3a+" + NO_TRAFFIC_LOGGED, line)
        finally:
            gw.stop()
            scanner.stop()


class TestServerConnectHangs(unittest.TestCase):
    def test_connect_that_never_completes_gets_504(self):
        srv = SilentServer(backlog_full=True)
        gw = gateway("connect-hangs")
        try:
            url = "http://127.0.0.1:%d/x" % srv.port
            reply = exchange(gw.port, get(url))
            self.assertEqual(status_of(reply), 504, reply[:200])
            self.assertIn(b"while connecting to the server", reply)
            line = gw.wait_log("access", re.escape(url))[-1]
            self.assertIn(" TCP_MISS/504 ", line)
        finally:
            gw.stop()
            srv.stop()


class TestSilentTunnel(unittest.TestCase):
    def connect(self, gw, srv, timeout):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=timeout)
        target = b"127.0.0.1:%d" % srv.port
        s.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            self.assertTrue(chunk, data)
            data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.0 200 "), data)
        return s, target

    def test_tunnel_that_goes_silent_is_closed(self):
        srv = SilentServer()
        gw = gateway("tunnel", connect_ports=str(srv.port))
        try:
            s, target = self.connect(gw, srv, 30)
            with s:
                s.sendall(b"hello")  # traffic, then silence on both sides
                self.assertEqual(read_all(s), b"")  # closed by the proxy
            gw.wait_log("error", re.escape("%s while relaying the CONNECT tunnel "
                                           "(timeout_inactive); session ended. URL=[%s]" %
                                           (NO_TRAFFIC, target.decode())))
            line = gw.wait_log("access", r"CONNECT %s " % re.escape(target.decode()))[-1]
            self.assertIn("PROXY-ERROR:Timeout%3a+" + NO_TRAFFIC_LOGGED, line)
        finally:
            gw.stop()
            srv.stop()

    def test_without_timeout_inactive_the_tunnel_stays_open(self):
        srv = SilentServer()
        gw = gateway("tunnel-off", inactive=False, connect_ports=str(srv.port))
        try:
            s, _ = self.connect(gw, srv, 2 * LIMIT)
            with s:
                with self.assertRaises(socket.timeout):
                    s.recv(1)
            self.assertNotIn("timeout_inactive", gw.log_text("error"))
        finally:
            # The server's end first: the tunnel then ends and the gateway
            # stops at once instead of waiting for it.
            srv.stop()
            gw.stop()


if __name__ == "__main__":
    unittest.main()
