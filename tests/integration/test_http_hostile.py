"""Hostile clients against the HTTP proxy: malformed and over-long heads,
request smuggling, pipelining abuse, slow and vanishing clients, garbage.

Every case checks four things:
  (a) the proxy answers with the documented error (400/414/431/505, HTTP-4)
      or closes the connection, within a bounded time;
  (b) a normal request through the same gateway still gets 200 and the
      right bytes;
  (c) no worker died: the worker pids are unchanged and error.log has no
      "child(...) stopped." line;
  (d) a request that must be refused never reached the origin.

Most gateways run one worker, so the worker that saw the hostile bytes is
the one that must serve the next request. The origins record what they
receive: harness.origin.Origin (one request per connection) for the refusal
checks, and PersistentOrigin below (any number of requests per connection,
strict framing) for the desync cases, where a smuggled request would hide
behind another on a reused upstream connection.
"""
import contextlib
import os
import random
import re
import socket
import socketserver
import struct
import threading
import time
import unittest

import harness
from harness import origin as og

ENV = {}
IO_TIMEOUT = 15.0 * harness.SLOW    # the longest a hostile exchange may take
PROMPT = 3.0 * harness.SLOW         # a normal request beside slow clients
ERROR_PAGE_TEXT = b"The server refuse to browse the page."
REFUSED = (400, 414, 431, 505)       # statuses a malformed request may get
NORMAL_BODY_SIZE = 7000
SPLIT_GAP = 0.001                    # seconds between the segments of a split request


def setUpModule():
    wd = harness.Workdir("http-hostile")
    ENV["wd"] = wd
    ENV["origin"] = og.Origin()
    ENV["persistent"] = PersistentOrigin()
    ENV["scand"] = harness.Scand(wd.path)
    ENV["seq"] = 0


def tearDownModule():
    for k in ("scand", "persistent", "origin"):
        if k in ENV:
            ENV[k].stop()
    ENV["wd"].cleanup()


def serve(name, behaviour):
    """Register behaviour on a path of its own; returns (path, url)."""
    return ENV["origin"].serve(name, behaviour)


# ---- an origin that keeps connections open ------------------------------------

class PersistentOrigin(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 origin serving any number of requests per connection.

    Records every request it parses (strict framing: Transfer-Encoding
    chunked wins over Content-Length, as RFC 9112 6.3 says) with the
    number of its connection, and the bytes left unparsed when a
    connection ends. A request smuggled behind another shows up as an
    extra record or as leftover bytes; og.Origin reads one request per
    connection and would never see it."""
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self):
        self.lock = threading.Lock()
        self.records = []    # (connection number, og.Request)
        self.leftovers = []  # (connection number, bytes)
        self.conns = 0
        super().__init__(("127.0.0.1", 0), _PersistentHandler)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def snapshot(self):
        with self.lock:
            return list(self.records), list(self.leftovers)

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(10)


def _recv_more(sock, data, limit=og.MAX_HEAD):
    if len(data) > limit:
        raise OSError("request head too long")
    chunk = sock.recv(65536)
    if not chunk:
        raise EOFError
    return data + chunk


class _PersistentHandler(socketserver.BaseRequestHandler):
    def handle(self):
        srv = self.server
        with srv.lock:
            srv.conns += 1
            number = srv.conns
        sock = self.request
        sock.settimeout(og.IO_TIMEOUT)
        data = b""
        try:
            while True:
                while b"\r\n\r\n" not in data:
                    data = _recv_more(sock, data)
                head, _, data = data.partition(b"\r\n\r\n")
                req = og.Request(head + b"\r\n\r\n", b"", self.client_address)
                te = ",".join(req.header_values("Transfer-Encoding")).lower()
                if te:
                    if te.strip() != "chunked":
                        raise OSError("unknown transfer coding")
                    req.body, data = self.read_chunked(sock, data)
                else:
                    n = int((req.header_values("Content-Length") or ["0"])[0])
                    while len(data) < n:
                        data = _recv_more(sock, data)
                    req.body, data = data[:n], data[n:]
                with srv.lock:
                    srv.records.append((number, req))
                body = b"%s body=%d\n" % (req.request_line, len(req.body))
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body)
                if "close" in ",".join(req.header_values("Connection")).lower():
                    break
        except (OSError, EOFError, ValueError):
            pass
        if data:
            with srv.lock:
                srv.leftovers.append((number, data))

    def read_chunked(self, sock, data):
        body = b""
        while True:
            while b"\r\n" not in data:
                data = _recv_more(sock, data, 4096)
            line, _, data = data.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while not data.startswith(b"\r\n") and b"\r\n\r\n" not in data:
                    data = _recv_more(sock, data, 16384)
                end = 2 if data.startswith(b"\r\n") else data.index(b"\r\n\r\n") + 4
                return body, data[end:]
            while len(data) < size + 2:
                data = _recv_more(sock, data, og.MAX_BODY)
            if data[size:size + 2] != b"\r\n":
                raise OSError("chunk data not followed by CRLF")
            body += data[:size]
            data = data[size + 2:]


# ---- talking to the proxy -----------------------------------------------------

class Outcome:
    """What a hostile client saw: the bytes, and how the connection ended."""

    def __init__(self, raw, eof, reset, elapsed):
        self.raw = raw
        self.eof = eof        # the proxy closed (FIN)
        self.reset = reset    # the connection was reset
        self.elapsed = elapsed
        self.status = 0
        self.status_line = ""
        if raw.startswith(b"HTTP/") and b"\r\n\r\n" in raw:
            self.status_line, self.headers, self.body = og.split_response(raw)
            parts = self.status_line.split(" ")
            if len(parts) > 1 and parts[1].isdigit():
                self.status = int(parts[1])

    @property
    def closed(self):
        return self.eof or self.reset

    def __repr__(self):
        return "<Outcome eof=%s reset=%s %.1fs %r>" % (self.eof, self.reset, self.elapsed,
                                                       self.raw[:300])


@contextlib.contextmanager
def case(what):
    """Name the case in a failure. (Plain loops instead of subTest: the
    runner prints PASS/FAIL lines only for whole tests.)"""
    try:
        yield
    except AssertionError as e:
        raise AssertionError("%s: %s" % (what, e)) from None


def hostile(port, data, timeout=IO_TIMEOUT, split=False, shut_wr=False):
    """Send data (in a thread, so a proxy that stops reading cannot block
    us) and read until the proxy closes or timeout passes. split: one byte
    per segment; shut_wr: then half-close, as a client with nothing more
    to say."""
    start = time.monotonic()
    deadline = start + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def sender():
        try:
            if split:
                for i in range(len(data)):
                    sock.sendall(data[i:i + 1])
                    time.sleep(SPLIT_GAP)
            else:
                sock.sendall(data)
            if shut_wr:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the proxy answered and closed before taking everything

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    raw, eof, reset = b"", False, False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                reset = True
                break
            if not chunk:
                eof = True
                break
            raw += chunk
    finally:
        sock.close()
        t.join(5)
    return Outcome(raw, eof, reset, time.monotonic() - start)


def read_response(sock, buf=b""):
    """One response framed by Content-Length from a kept connection:
    (head, body, rest), or None when the proxy closed first."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if not m:
        raise AssertionError("response without Content-Length on a kept connection: %r"
                             % head[:300])
    length = int(m.group(1))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed inside a response body")
        rest += chunk
    return head, rest[:length], rest[length:]


def origin_host():
    return b"127.0.0.1:%d" % ENV["origin"].port


def gateway(name, section=None, common=None):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    return harness.Gateway(wd, ENV["scand"].socket, section=section, common=common)


class HostileCase(unittest.TestCase):
    """One gateway per class; every test checks (b) and (c) at its end."""
    section = {}
    common = {"workers": "1"}

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls.__name__, dict(cls.section), dict(cls.common))

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def setUp(self):
        self.pids = sorted(self.gw.worker_pids())
        self.assertTrue(self.pids, "workers running before the test")

    # (a)
    def assert_refused(self, out, statuses=REFUSED, message=None, may_close=False):
        """The documented error page, or (may_close) a close without one;
        either way the connection ends within IO_TIMEOUT."""
        self.assertTrue(out.closed, "connection left open after a refused request: %r" % out)
        if not out.raw and may_close:
            return
        self.assertIn(out.status, statuses, out)
        self.assertTrue(out.status_line.startswith("HTTP/1.0 "), out)
        self.assertIn(ERROR_PAGE_TEXT, out.body)  # HTTP-15
        if message is not None:
            self.assertIn(b"ERROR: " + message.encode(), out.body)

    # (b) and (c)
    def assert_survived(self):
        self.normal_request()
        self.assertEqual(sorted(self.gw.worker_pids()), self.pids, "a worker was replaced")
        self.assertTrue(self.gw.proc.alive())
        err = self.gw.log_text("error")
        self.assertNotRegex(err, r"child\(\d+\) stopped\.", err[-2000:])

    def normal_request(self):
        """A plain GET through the gateway: 200 and the exact bytes."""
        ENV["seq"] += 1
        body = og.chunk_payload([NORMAL_BODY_SIZE], seed=ENV["seq"] % 200)[0]
        path, url = serve("normal", og.response(
            headers=[("Content-Type", "application/octet-stream")], body=body))
        out = hostile(self.gw.port, b"GET %s HTTP/1.0\r\nUser-Agent: normal\r\n\r\n"
                      % url.encode(), timeout=PROMPT + 10 * harness.SLOW)
        self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
        self.assertEqual(out.body, body)
        self.assertEqual(len(ENV["origin"].requests(path)), 1)
        return out.elapsed

    # (d)
    def assert_not_forwarded(self, path):
        self.assertEqual(ENV["origin"].requests(path), [], "a refused request reached the origin")

    def refused_case(self, name, make, statuses=REFUSED, message=None, may_close=False,
                     split=False):
        """Send make(path, url) for a fresh origin path; check (a)-(d)."""
        path, url = serve(name, og.echo())
        out = hostile(self.gw.port, make(path.encode(), url.encode()), split=split)
        self.assert_refused(out, statuses, message, may_close)
        self.assert_survived()
        self.assert_not_forwarded(path)
        return out


# ---- malformed and over-long heads --------------------------------------------

class TestMalformedHeads(HostileCase):
    def test_bare_lf_line_endings_work(self):
        path, url = serve("bare-lf", og.echo())
        out = hostile(self.gw.port, b"GET %s HTTP/1.0\nUser-Agent: lf-only\nX-Bare: lf\n\n"
                      % url.encode())
        self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
        got = ENV["origin"].requests(path)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].header("X-Bare"), "lf")
        self.assertEqual(got[0].header("User-Agent"), "lf-only")
        self.assertEqual(out.body, got[0].head + got[0].body)
        self.assert_survived()

    def test_bare_lf_post_with_body_works(self):
        path, url = serve("bare-lf-post", og.echo())
        body = b"a=1&b=2\r\n\n"
        out = hostile(self.gw.port, b"POST %s HTTP/1.1\nHost: %s\nContent-Length: %d\n"
                      b"Connection: close\n\n%s" % (url.encode(), origin_host(), len(body), body))
        self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
        got = ENV["origin"].requests(path)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].body, body)
        self.assert_survived()

    def test_cr_without_lf_in_header_value(self):
        self.refused_case("cr-value", lambda p, u: b"GET %s HTTP/1.0\r\nX-A: one\rtwo\r\n\r\n"
                          % u, (400,))

    def test_cr_without_lf_hiding_a_header(self):
        # "X-A: x\rTransfer-Encoding: chunked" reads as two lines to a lenient peer.
        self.refused_case("cr-hide", lambda p, u: b"POST %s HTTP/1.1\r\nHost: %s\r\n"
                          b"X-A: x\rTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc"
                          % (u, origin_host()), (400,))

    def test_nul_in_method(self):
        self.refused_case("nul-method", lambda p, u: b"GE\x00T %s HTTP/1.0\r\n\r\n" % u, (400,),
                          "Illegal method character.")

    def test_nul_in_url(self):
        self.refused_case("nul-url", lambda p, u: b"GET %s\x00x HTTP/1.0\r\n\r\n" % u, (400,),
                          "Illegal URL character.")

    def test_nul_in_version(self):
        self.refused_case("nul-version", lambda p, u: b"GET %s HTTP/1.\x000\r\n\r\n" % u,
                          (400, 505))

    def test_nul_in_header_value(self):
        self.refused_case("nul-value", lambda p, u: b"GET %s HTTP/1.0\r\nX-A: a\x00b\r\n\r\n"
                          % u, (400,))

    def test_nul_in_header_name(self):
        self.refused_case("nul-name", lambda p, u: b"GET %s HTTP/1.0\r\nX-\x00A: b\r\n\r\n" % u,
                          (400,))

    def test_overlong_url(self):
        out = self.refused_case("long-url", lambda p, u: b"GET %s?%s HTTP/1.0\r\n\r\n"
                                % (u, b"q" * 10000), (414,), "Request-URI Too Long")
        self.assertEqual(out.status_line, "HTTP/1.0 414 Request-URI Too Long")

    def test_overlong_url_without_line_end(self):
        # Decided once the line passes its limit; no need to wait for the end.
        out = self.refused_case("long-url-open", lambda p, u: b"GET %s?%s" % (u, b"q" * 100000),
                                (414,), "Request-URI Too Long")
        self.assertLess(out.elapsed, 5 * harness.SLOW)

    def test_overlong_method(self):
        self.refused_case("long-method", lambda p, u: b"%s %s HTTP/1.0\r\n\r\n" % (b"M" * 5000, u),
                          (400,), "Too long Request Method")

    def test_overlong_version(self):
        self.refused_case("long-version", lambda p, u: b"GET %s HTTP/1.%s\r\n\r\n"
                          % (u, b"1" * 5000), (400,), "Too long Request Version")

    def test_line_without_spaces(self):
        self.refused_case("no-spaces", lambda p, u: b"A" * 100000 + b"\r\n\r\n", (400,),
                          "Too long Request Method")

    def test_url_of_2098_bytes_ok_2099_refused(self):
        for length, ok in ((2098, True), (2099, False)):
            with case("URL of %d bytes" % length):
                path, url = serve("url%d" % length, og.echo())
                url += "?q="
                url += "u" * (length - len(url))
                self.assertEqual(len(url), length)
                out = hostile(self.gw.port, b"GET %s HTTP/1.0\r\n\r\n" % url.encode())
                if ok:
                    self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
                    got = ENV["origin"].requests(path)
                    self.assertEqual(len(got), 1)
                    self.assertEqual(got[0].target, url[url.index(path):].encode())
                else:
                    self.assert_refused(out, (414,), "Request-URI Too Long")
                    self.assertEqual(out.status_line, "HTTP/1.0 414 Request-URI Too Long")
                    self.assert_not_forwarded(path)
                self.assert_survived()

    def test_header_block_over_64k(self):
        headers = b"".join(b"X-Big-%d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
        self.assertGreater(len(headers), 65536)
        self.refused_case("big-block", lambda p, u: b"GET %s HTTP/1.0\r\n%s\r\n" % (u, headers),
                          (431, 400))

    def test_header_flood(self):
        headers = b"".join(b"X-F%d: v\r\n" % i for i in range(5000))
        self.refused_case("flood", lambda p, u: b"GET %s HTTP/1.0\r\n%s\r\n" % (u, headers),
                          (431, 400))

    def test_200k_single_header_line(self):
        self.refused_case("one-line", lambda p, u: b"GET %s HTTP/1.0\r\nCookie: %s\r\n\r\n"
                          % (u, b"c" * 200000), (431, 400))

    def test_obs_fold_continuation(self):
        self.refused_case("obs-fold", lambda p, u: b"GET %s HTTP/1.0\r\nX-A: one\r\n  two\r\n\r\n"
                          % u, (400,))
        self.refused_case("obs-fold-tab", lambda p, u: b"GET %s HTTP/1.0\r\nX-A: one\r\n\ttwo\r\n"
                          b"\r\n" % u, (400,))

    def test_header_without_colon(self):
        self.refused_case("no-colon", lambda p, u: b"GET %s HTTP/1.0\r\nJust words here\r\n\r\n"
                          % u, (400,))

    def test_two_host_headers(self):
        self.refused_case("two-hosts", lambda p, u: b"GET %s HTTP/1.1\r\nHost: a.example\r\n"
                          b"Host: b.example\r\n\r\n" % u, (400,))

    def test_head_size_limit(self):
        base = b"GET %s HTTP/1.0\r\n"
        for total, ok in ((65536, True), (65537, False)):
            with case("head of %d bytes" % total):
                path, url = serve("head%d" % total, og.echo())
                line = base % url.encode()
                pad = total - len(line) - len(b"X-Pad: \r\n\r\n")
                head = line + b"X-Pad: " + b"p" * pad + b"\r\n\r\n"
                self.assertEqual(len(head), total)
                out = hostile(self.gw.port, head)
                if ok:
                    self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
                    got = ENV["origin"].requests(path)
                    self.assertEqual(len(got), 1)
                    self.assertEqual(got[0].header("X-Pad"), "p" * pad)
                else:
                    self.assert_refused(out, (431, 400))
                    self.assert_not_forwarded(path)
                self.assert_survived()

    def test_header_count_limit(self):
        for count, ok in ((128, True), (129, False)):
            with case("%d header lines" % count):
                path, url = serve("hdrs%d" % count, og.echo())
                out = hostile(self.gw.port, b"GET %s HTTP/1.0\r\n%s\r\n" % (
                    url.encode(), b"".join(b"X-H%d: v\r\n" % i for i in range(count))))
                if ok:
                    self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
                    got = ENV["origin"].requests(path)
                    self.assertEqual(len(got), 1)
                    self.assertEqual(got[0].header("X-H127"), "v")
                else:
                    self.assert_refused(out, (431, 400))
                    self.assert_not_forwarded(path)
                self.assert_survived()

    def test_leading_empty_lines(self):
        # RFC 9112 2.2: a few are skipped; a flood of them is not waited through.
        path, url = serve("lead-ok", og.echo())
        out = hostile(self.gw.port, b"\r\n" * 4 + b"GET %s HTTP/1.0\r\n\r\n" % url.encode())
        self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
        self.assertEqual(len(ENV["origin"].requests(path)), 1)
        self.refused_case("lead-flood", lambda p, u: b"\r\n" * 100000 + b"GET %s HTTP/1.0\r\n\r\n"
                          % u, (400,))

    def test_cr_without_lf_in_request_line(self):
        self.refused_case("cr-url", lambda p, u: b"GET %s\rx HTTP/1.0\r\n\r\n" % u, (400,),
                          "Illegal URL character.")
        self.refused_case("cr-version", lambda p, u: b"GET %s HTTP/1.0\r\r\n\r\n" % u, (505, 400))

    def test_obfuscated_hosts_refused(self):
        # Hosts a resolver would read as 127.0.0.1 and userinfo tricks (HTTP-4:
        # "Invalid URL format"); they must not slip past acl_to to the origin.
        port = ENV["origin"].port
        for form in (b"http://127.1:%d%s", b"http://0x7f.0.0.1:%d%s", b"http://2130706433:%d%s",
                     b"http://0177.0.0.1:%d%s", b"http://user@127.0.0.1:%d%s",
                     b"http://127.0.0.1%%2e:%d%s", b"http://127.0.0.1:%d@evil.example%s",
                     b"http://127.0.0.1:%d%s#frag"):
            with case(form.decode()):
                self.refused_case("host-trick", lambda p, u: b"GET %s HTTP/1.0\r\n\r\n"
                                  % (form % (port, p)), (400,), "Invalid URL format")


# ---- request smuggling ----------------------------------------------------------

def post(url, headers, body):
    """A POST whose framing headers are exactly the given ones."""
    return (b"POST %s HTTP/1.1\r\nHost: %s\r\n" % (url, origin_host()) +
            b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body)


class TestSmugglingRefused(HostileCase):
    """Ambiguous framing is refused before anything goes upstream (RFC 9112
    6.3); the request bodies here are short, so any forwarding would show."""

    def check(self, name, headers, body=b"5\r\nhello\r\n0\r\n\r\n", statuses=(400,)):
        self.refused_case(name, lambda p, u: post(u, headers, body), statuses)

    def test_content_length_and_transfer_encoding(self):
        self.check("cl-te", [b"Content-Length: 15", b"Transfer-Encoding: chunked"])
        self.check("te-cl", [b"Transfer-Encoding: chunked", b"Content-Length: 15"])

    def test_two_different_content_lengths(self):
        self.check("cl-cl", [b"Content-Length: 5", b"Content-Length: 6"], b"hello!")
        self.check("cl-list", [b"Content-Length: 5, 6"], b"hello!")

    def test_transfer_encoding_chunked_identity(self):
        self.check("te-identity", [b"Transfer-Encoding: chunked, identity"])

    def test_transfer_encoding_xchunked(self):
        self.check("te-xchunked", [b"Transfer-Encoding: xchunked"])

    def test_transfer_encoding_space_before_colon(self):
        self.check("te-space", [b"Transfer-Encoding : chunked"])

    def test_transfer_encoding_leading_space(self):
        self.check("te-lead", [b"X-Pad: 1", b" Transfer-Encoding: chunked"])

    def test_transfer_encoding_folded(self):
        self.check("te-fold", [b"Transfer-Encoding:", b" chunked"])

    def test_transfer_encoding_chunked_then_other(self):
        self.check("te-te", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: x"])

    def test_transfer_encoding_in_http10(self):
        path, url = serve("te-http10", og.echo())
        out = hostile(self.gw.port, b"POST %s HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"5\r\nhello\r\n0\r\n\r\n" % url.encode())
        self.assert_refused(out, (400,))
        self.assert_survived()
        self.assert_not_forwarded(path)

    def test_bad_content_length_values(self):
        for value in (b"-1", b"abc", b"99999999999999999999999", b"18446744073709551616",
                      b"+5", b"0x10", b"5 5", b"", b"1e3"):
            with case("Content-Length: %r" % value):
                self.check("cl-bad", [b"Content-Length: " + value], b"hello")

    def test_transfer_encoding_chunked_twice(self):
        self.check("te-twice", [b"Transfer-Encoding: chunked, chunked"])
        self.check("te-twice-lines", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"])

    def test_bad_trailers_and_extensions(self):
        for body in (b"5\r\nhello\r\n0\r\nX-T: y\n\r\n",
                     b"5\r\nhello\r\n0\r\nX-T: " + b"t" * 20000 + b"\r\n\r\n",
                     b"5;" + b"e" * 5000 + b"\r\nhello\r\n0\r\n\r\n"):
            with case("chunked body %r" % body[:30]):
                self.check("chunk-trailer", [b"Transfer-Encoding: chunked"], body)

    def test_cl_te_one_byte_per_segment(self):
        # The outcome must not depend on how the bytes arrive.
        self.refused_case("cl-te-split", lambda p, u: post(u, [
            b"Content-Length: 6", b"Transfer-Encoding: chunked"], b"0\r\n\r\nG"), (400,),
            split=True)

    def test_valid_chunked_post_one_byte_per_segment(self):
        path, url = serve("chunked-split", og.echo())
        out = hostile(self.gw.port, post(url.encode(), [b"Transfer-Encoding: chunked",
                                                        b"Connection: close"],
                                         b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n"),
                      split=True)
        self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
        got = ENV["origin"].requests(path)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].body, b"hello, world")
        self.assertEqual(got[0].header("Content-Length"), "12")  # re-framed (G-35)
        self.assertEqual(got[0].header_values("Transfer-Encoding"), [])
        self.assert_survived()

    def test_bad_chunk_sizes(self):
        for body in (b"zz\r\nhello\r\n0\r\n\r\n", b"-5\r\nhello\r\n0\r\n\r\n",
                     b"1" + b"0" * 40 + b"\r\nhello\r\n0\r\n\r\n",
                     b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
                     b"5\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n",
                     b" 5\r\nhello\r\n0\r\n\r\n"):
            with case("chunked body %r" % body[:30]):
                self.check("chunk-bad", [b"Transfer-Encoding: chunked"], body, (400,))


SMUGGLED = b"/smuggled"


class TestDesync(HostileCase):
    """Classic desync payloads against a gateway that keeps its upstream
    connections (use_http11), towards PersistentOrigin: the origin must
    never see a request the proxy did not parse and rewrite itself."""
    section = {"use_http11": "yes", "keepalive": "yes", "virus_check": "no"}

    def setUp(self):
        super().setUp()
        self.before = len(ENV["persistent"].snapshot()[0])

    def check_origin(self, expected_paths):
        """The origin saw exactly expected_paths (in order), each carrying
        our Via (so the proxy framed it), nothing smuggled, no leftovers."""
        time.sleep(0.2 * harness.SLOW)  # a stray request would have arrived by now
        records, leftovers = ENV["persistent"].snapshot()
        new = [r for _, r in records[self.before:]]
        self.assertEqual([r.path.encode() for r in new], expected_paths, new)
        for r in new:
            self.assertNotIn(SMUGGLED, r.target)
            self.assertEqual(len(r.header_values("Via")), 1, r.head)
        self.assertEqual([x for x in leftovers if SMUGGLED in x[1] or b"GPOST" in x[1]], [])
        return new

    def url(self, path):
        return ENV["persistent"].url(path).encode()

    def host(self):
        return b"127.0.0.1:%d" % ENV["persistent"].port

    def follow_up(self):
        """A request on a new connection: it must arrive unprefixed."""
        out = hostile(self.gw.port, b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                      % (self.url("/follow"), self.host()))
        self.assertEqual(out.status_line, "HTTP/1.0 200 OK", out)
        self.assertEqual(out.body, b"GET /follow HTTP/1.1 body=0\n")

    def refused_desync(self, payload):
        out = hostile(self.gw.port, payload)
        self.assert_refused(out, (400,))
        self.follow_up()
        self.check_origin([b"/follow"])
        self.assert_survived()

    def test_cl_te(self):
        # Front end by Content-Length, back end by chunked: "G" would prefix the next request.
        self.refused_desync(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 6\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"
                            % (self.url("/cl-te"), self.host()))

    def test_te_cl(self):
        inner = b"GPOST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 15\r\n\r\nx=1" % (
            SMUGGLED, self.host())
        self.refused_desync(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\n"
                            b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                            % (self.url("/te-cl"), self.host(), len(inner), inner))

    def test_te_te_obfuscated(self):
        inner = b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (SMUGGLED, self.host())
        for te in (b"Transfer-Encoding: chunked\r\nTransfer-encoding: cow",
                   b"Transfer-Encoding: xchunked", b"Transfer-Encoding : chunked",
                   b"Transfer-Encoding:\r\n chunked", b"Transfer-Encoding: chunked, identity"):
            with case("framing %r" % te):
                self.before = len(ENV["persistent"].snapshot()[0])
                self.refused_desync(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 4\r\n"
                                    b"%s\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
                                    % (self.url("/te-te"), self.host(), te, len(inner), inner))

    def test_cl_te_after_a_good_request_on_a_kept_connection(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                      b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 6\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"
                      b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n"
                      % (self.url("/kept-1"), self.host(), self.url("/kept-2"), self.host(),
                         self.url(SMUGGLED.decode()), self.host()))
            first = read_response(s)
            self.assertIsNotNone(first)
            second = read_response(s, first[2])
            self.assertIsNotNone(second)
            s.settimeout(IO_TIMEOUT)
            self.assertEqual(s.recv(1), b"", "closed after the 400")
        self.assertTrue(first[0].startswith(b"HTTP/1.0 200"), first[0])
        self.assertEqual(first[1], b"GET /kept-1 HTTP/1.1 body=0\n")
        self.assertTrue(second[0].startswith(b"HTTP/1.0 400"), second[0])
        self.follow_up()
        self.check_origin([b"/kept-1", b"/follow"])
        self.assert_survived()

    def test_request_inside_chunked_body_stays_body(self):
        inner = b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (SMUGGLED, self.host())
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT) as s:
            s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"%x\r\n%s\r\n0\r\n\r\n" % (self.url("/inside-chunked"), self.host(),
                                                len(inner), inner))
            first = read_response(s)
            self.assertIsNotNone(first)
            s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                      % (self.url("/follow"), self.host()))
            second = read_response(s, first[2])
        self.assertTrue(first[0].startswith(b"HTTP/1.0 200"), first[0])
        self.assertEqual(first[1], b"POST /inside-chunked HTTP/1.1 body=%d\n" % len(inner))
        self.assertIsNotNone(second)
        self.assertEqual(second[1], b"GET /follow HTTP/1.1 body=0\n")
        new = self.check_origin([b"/inside-chunked", b"/follow"])
        self.assertEqual(new[0].body, inner)
        self.assert_survived()

    def test_request_inside_content_length_body_stays_body(self):
        inner = b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (SMUGGLED, self.host())
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT) as s:
            # Body and the next request in one write.
            s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n%s"
                      b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                      % (self.url("/inside-cl"), self.host(), len(inner), inner,
                         self.url("/follow"), self.host()))
            first = read_response(s)
            self.assertIsNotNone(first)
            second = read_response(s, first[2])
        self.assertEqual(first[1], b"POST /inside-cl HTTP/1.1 body=%d\n" % len(inner))
        self.assertIsNotNone(second)
        self.assertEqual(second[1], b"GET /follow HTTP/1.1 body=0\n")
        new = self.check_origin([b"/inside-cl", b"/follow"])
        self.assertEqual(new[0].body, inner)
        self.assert_survived()

    def connection_nominates(self, path, framing, body, token):
        """A request whose Connection header names its own framing field
        (issue 10 item 4): the proxy once removed that field and forwarded
        the body, which the kept upstream connection then ran as a second
        request without Via. The body must stay the body."""
        inner = b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (SMUGGLED, self.host())
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT) as s:
            s.sendall(b"POST %s HTTP/1.1\r\nHost: %s\r\nConnection: %s\r\n%s\r\n\r\n%s"
                      % (self.url(path), self.host(), token, framing, body(inner)))
            first = read_response(s)
        self.assertIsNotNone(first)
        self.assertTrue(first[0].startswith(b"HTTP/1.0 200"), first[0])
        self.assertEqual(first[1], b"POST %s HTTP/1.1 body=%d\n" % (path.encode(), len(inner)))
        self.follow_up()
        new = self.check_origin([path.encode(), b"/follow"])
        self.assertEqual(new[0].body, inner)
        self.assert_survived()

    def test_connection_cannot_remove_content_length(self):
        inner_len = len(b"GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (SMUGGLED, self.host()))
        self.connection_nominates("/conn-cl", b"Content-Length: %d" % inner_len,
                                  lambda inner: inner, b"Content-Length")

    def test_connection_cannot_remove_transfer_encoding(self):
        self.connection_nominates("/conn-te", b"Transfer-Encoding: chunked",
                                  lambda inner: b"%x\r\n%s\r\n0\r\n\r\n" % (len(inner), inner),
                                  b"keep-alive, Transfer-Encoding")


# ---- pipelining abuse -----------------------------------------------------------

class TestPipelining(HostileCase):
    section = {"keepalive": "yes"}

    def pipeline(self, count, pad):
        paths = [serve("pipe", og.echo())[0] for _ in range(count)]
        reqs = b"".join(b"GET %s HTTP/1.1\r\nHost: %s\r\nX-Pad: %s\r\n\r\n"
                        % (ENV["origin"].url(p).encode(), origin_host(), b"p" * pad)
                        for p in paths)
        answered = []
        closed = False
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT) as s:
            t = threading.Thread(target=lambda: s.sendall(reqs), daemon=True)
            t.start()
            rest = b""
            deadline = time.monotonic() + 60 * harness.SLOW
            while len(answered) < count and time.monotonic() < deadline:
                try:
                    r = read_response(s, rest)
                except ConnectionResetError:
                    r = None
                if r is None:
                    closed = True
                    break
                head, body, rest = r
                answered.append((head, body))
            t.join(10)
        # All answered in order, or the connection closed cleanly part-way.
        self.assertTrue(len(answered) == count or closed, "%d of %d answered" %
                        (len(answered), count))
        for (head, body), path in zip(answered, paths):
            self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:60])
            self.assertTrue(body.startswith(b"GET %s HTTP/1.0\r\n" % path.encode()), body[:80])
        for path in paths[:len(answered)]:
            self.assertEqual(len(ENV["origin"].requests(path)), 1, path)
        self.assert_survived()
        return len(answered)

    def test_malformed_request_in_the_middle_of_a_pipeline(self):
        before = [serve("pipe-before", og.echo())[0] for _ in range(20)]
        bad_path = serve("pipe-bad", og.echo())[0]
        after = [serve("pipe-after", og.echo())[0] for _ in range(20)]

        def get(p, extra=b""):
            return b"GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (
                ENV["origin"].url(p).encode(), origin_host(), extra)
        reqs = (b"".join(get(p) for p in before) + get(bad_path, b"X-Bad: a\x00b\r\n") +
                b"".join(get(p) for p in after))
        answers = []
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT) as s:
            s.sendall(reqs)
            rest = b""
            for _ in range(len(before) + 2):
                r = read_response(s, rest)
                if r is None:
                    break
                answers.append(r[:2])
                rest = r[2]
        self.assertEqual(len(answers), len(before) + 1, "answers, then a close")
        for (head, body), path in zip(answers, before):
            self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:60])
            self.assertTrue(body.startswith(b"GET %s HTTP/1.0\r\n" % path.encode()), body[:80])
        self.assertTrue(answers[-1][0].startswith(b"HTTP/1.0 400"), answers[-1][0][:60])
        self.assert_survived()
        for path in [bad_path] + after:
            self.assert_not_forwarded(path)

    def test_100_pipelined_requests_in_one_write(self):
        n = self.pipeline(100, 10)
        print("    %d of 100 small pipelined requests answered" % n)

    def test_100_pipelined_requests_over_64k(self):
        n = self.pipeline(100, 1200)  # more than the request buffer holds at once
        print("    %d of 100 large pipelined requests answered" % n)


# ---- slow and vanishing clients ---------------------------------------------------

class TestSlowloris(HostileCase):
    """50 clients each trickling one header byte a second, with the default
    pre_spawn and workers: normal requests are still served promptly."""
    common = {}
    CLIENTS = 50
    ROUNDS = 6

    def test_slow_header_clients_do_not_starve_others(self):
        path, url = serve("slowloris", og.echo())
        head = b"GET %s HTTP/1.1\r\nHost: %s\r\nX-Slow: %s\r\n\r\n" % (
            url.encode(), origin_host(), b"s" * 64)
        socks = [socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
                 for _ in range(self.CLIENTS)]
        try:
            worst = 0.0
            for i in range(self.ROUNDS):
                t0 = time.monotonic()
                for s in socks:
                    s.sendall(head[i:i + 1])
                worst = max(worst, self.normal_request())
                time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
            print("    slowest normal request beside %d slow clients: %.2f s"
                  % (self.CLIENTS, worst))
            self.assertLess(worst, PROMPT)
            for s in socks:  # none was answered or closed: they are mid-head
                s.setblocking(False)
                with self.assertRaises(BlockingIOError):
                    s.recv(1)
        finally:
            for s in socks:
                s.close()
        self.assertNotIn("Maximum connections", self.gw.log_text("error"))
        self.assert_survived()
        self.assert_not_forwarded(path)


class TestSlowlorisSmallPreSpawn(HostileCase):
    """With pre_spawn below the number of slow clients, the LOG-E2 warning
    is logged, and the service recovers once they go."""
    section = {"pre_spawn": "5"}

    def test_exhausted_pre_spawn_warns_and_recovers(self):
        socks = [socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
                 for _ in range(8)]
        try:
            for s in socks:
                s.sendall(b"G")
            self.gw.wait_log("error", r"Maximum connections: warning: Client connections reached "
                                      r"maximum connections \(5\) \. More request will be "
                                      r"blocked/rejected\.")
        finally:
            for s in socks:
                s.close()
        self.assert_survived()


# ---- CONNECT ports and loops (issue 10 items 5 and 6) ---------------------------

class EchoServer:
    """A TLS-less TCP service that echoes what it receives, counting the
    connections it accepted (the allowed CONNECT destination)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self.echo, args=(conn,), daemon=True).start()

    @staticmethod
    def echo(conn):
        with conn:
            conn.settimeout(IO_TIMEOUT)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        return
                    conn.sendall(data)
            except OSError:
                return

    def stop(self):
        self.sock.close()


def read_until(sock, marker, timeout=IO_TIMEOUT):
    """Bytes from sock until marker arrived or the peer closed (bounded)."""
    deadline = time.monotonic() + timeout
    data = b""
    while marker not in data and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        data += chunk
    return data


def local_non_loopback_address():
    """An address of this host outside 127/8 (the one a route to a TEST-NET
    address would leave from), or None without such a route."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.connect(("192.0.2.1", 9))
            ip = u.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


class TestConnectPorts(HostileCase):
    """connect_ports (item 5): CONNECT to the parent MTA's port made any
    HTTP client a sender the MTA trusts. Only listed ports are tunnelled."""

    @classmethod
    def setUpClass(cls):
        from harness import smtp_parent
        cls.echo = EchoServer()
        cls.mta = smtp_parent.ScriptedParent()
        cls.section = {"connect_ports": "%d, 8000-8001" % cls.echo.port}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.echo.stop()
        cls.mta.stop()

    def relay_attempt(self, port):
        return hostile(port, b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
                       b"HELO spammer\r\nMAIL FROM:<a@b.example>\r\n"
                       b"RCPT TO:<victim@outside.example>\r\nDATA\r\n"
                       % (self.mta.port, self.mta.port))

    def test_connect_to_the_mta_port_is_refused(self):
        out = self.relay_attempt(self.gw.port)
        self.assert_refused(out, (403,), "CONNECT(127.0.0.1:%d)/Port not allowed for CONNECT "
                            "(connect_ports)" % self.mta.port)
        self.assertNotIn(b"220 ", out.raw)
        self.assertEqual(self.mta.accepted, 0, "the MTA was reached")
        self.gw.wait_log("info", r"Access Denied to \[127\.0\.0\.1:%d\] \(connect_ports\)"
                         % self.mta.port)
        line = self.gw.wait_log("access", r" CONNECT 127\.0\.0\.1:%d " % self.mta.port)[-1]
        self.assertIn("/403 ", line)
        self.assert_survived()

    def test_connect_to_an_allowed_port_works(self):
        before = self.echo.accepted
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT) as s:
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % self.echo.port)
            head = read_until(s, b"\r\n\r\n")
            self.assertEqual(head, b"HTTP/1.0 200 Connection established\r\n\r\n")
            s.sendall(b"ping through the tunnel")
            self.assertEqual(read_until(s, b"tunnel"), b"ping through the tunnel")
        self.assertEqual(self.echo.accepted, before + 1)
        self.assert_survived()

    def test_default_allows_only_443(self):
        gw = gateway("connect-ports-default")
        try:
            out = self.relay_attempt(gw.port)
            self.assert_refused(out, (403,))
            out = hostile(gw.port, b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % self.echo.port)
            self.assert_refused(out, (403,))
            self.assertEqual(self.mta.accepted, 0)
        finally:
            gw.stop()


class TestSelfLoop(HostileCase):
    """Item 6: requests and tunnels to the gateway itself, and requests
    that already carry its Via, are refused at once with 508."""
    common = {"workers": "1"}
    section = {"connect_ports": "1-65535", "pre_spawn": "20", "keepalive": "yes"}

    def assert_loop(self, out):
        self.assert_refused(out, (508,))
        self.assertIn(b"Loop Detected", out.status_line.encode())
        self.assertIn(b"Request loop", out.body)

    def test_connect_to_itself_is_refused(self):
        out = hostile(self.gw.port, b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % self.gw.port)
        self.assert_loop(out)
        self.assertIn(b"CONNECT(127.0.0.1:%d)/Request loop: the destination is this proxy"
                      % self.gw.port, out.body)
        self.gw.wait_log("info", r"Request loop refused: 127\.0\.0\.1:%d is this proxy"
                         % self.gw.port)
        self.assert_survived()

    def test_connect_to_itself_by_name_is_refused(self):
        out = hostile(self.gw.port, b"CONNECT localhost:%d HTTP/1.1\r\n\r\n" % self.gw.port)
        self.assert_loop(out)
        self.assert_survived()

    def test_get_to_itself_is_refused(self):
        path, url = serve("self-get", og.echo())
        out = hostile(self.gw.port, b"GET http://127.0.0.1:%d/%s HTTP/1.1\r\nHost: x\r\n\r\n"
                      % (self.gw.port, url.encode()))
        self.assert_loop(out)
        self.assert_survived()
        self.assert_not_forwarded(path)

    def test_request_with_our_via_is_refused(self):
        # The gateway's own Via, as an origin received it.
        path, url = serve("via-probe", og.echo())
        hostile(self.gw.port, b"GET %s HTTP/1.0\r\n\r\n" % url.encode())
        via = ENV["origin"].requests(path)[0].header_values("Via")[-1]
        path, url = serve("via-loop", og.echo())
        out = hostile(self.gw.port, b"GET %s HTTP/1.1\r\nHost: %s\r\n"
                      b"Via: 1.1 other-proxy, %s\r\n\r\n"
                      % (url.encode(), origin_host(), via.encode()))
        self.assert_loop(out)
        self.assertIn(b"Via shows the request already passed", out.body)
        self.assert_survived()
        self.assert_not_forwarded(path)

    def test_wildcard_listener_refuses_every_local_address(self):
        wd = os.path.join(ENV["wd"].path, "self-wildcard")
        os.makedirs(wd, exist_ok=True)
        gw = harness.Gateway(wd, ENV["scand"].socket, common={"workers": "1"},
                             section={"connect_ports": "1-65535"}, start=False)
        gw.section["svcport"] = str(gw.port)  # 0.0.0.0 and :: as the system binds it
        gw.write_ini()
        gw.start()
        try:
            targets = [b"127.0.0.2", b"0.0.0.0"]
            local = local_non_loopback_address()
            if local:
                targets.append(local.encode())
            for host in targets:
                with case(host):
                    out = hostile(gw.port, b"CONNECT %s:%d HTTP/1.1\r\n\r\n" % (host, gw.port))
                    self.assert_loop(out)
                    out = hostile(gw.port, b"GET http://%s:%d/x HTTP/1.0\r\n\r\n"
                                  % (host, gw.port))
                    self.assert_loop(out)
            self.assertNotIn("Maximum connections", gw.log_text("error"))
        finally:
            gw.stop()

    def test_nested_connects_do_not_consume_sessions(self):
        # 30 CONNECTs to itself in one write: without the guard each one
        # became a tunnel carrying the rest to a new session, past pre_spawn.
        nested = b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % self.gw.port
        socks = []
        try:
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=IO_TIMEOUT)
                s.sendall(nested * 30)
                socks.append(s)
            for s in socks:
                head = read_until(s, b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.0 508 "), head[:200])
        finally:
            for s in socks:
                s.close()
        self.assert_survived()
        self.assertNotIn("Maximum connections", self.gw.log_text("error"))
        connects = [l for l in self.gw.log_text("access").splitlines() if " CONNECT " in l]
        self.assertTrue(all("/508 " in l for l in connects), connects[-5:])


class TestMethodEvasion(HostileCase):
    """Item 10: a response carried malware past the scanner when fetched by
    a method other than GET, POST or PUT."""

    def test_any_method_response_is_scanned(self):
        from harness import testfiles
        for method in (b"PATCH", b"DELETE", b"OPTIONS", b"PROPFIND", b"XEVADE"):
            with case(method):
                path, url = serve("evade", og.response(body=testfiles.EICAR))
                out = hostile(self.gw.port, b"%s %s HTTP/1.1\r\nHost: %s\r\n"
                              b"Connection: close\r\n\r\n" % (method, url.encode(), origin_host()))
                self.assertEqual(out.status, 403, out)
                self.assertNotIn(testfiles.EICAR, out.raw)
                self.assertEqual(len(ENV["origin"].requests(path)), 1)
                line = self.gw.wait_log("access", r" %s %s " % (method.decode(), re.escape(url)))[-1]
                self.assertIn("INFECTED", line)
        self.assert_survived()


def reset_close(sock):
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class TestVanishingClients(HostileCase):
    def test_connect_send_nothing_close(self):
        for _ in range(20):
            socket.create_connection(("127.0.0.1", self.gw.port), timeout=5).close()
        self.assert_survived()

    def test_connect_send_nothing_reset(self):
        for _ in range(20):
            reset_close(socket.create_connection(("127.0.0.1", self.gw.port), timeout=5))
        self.assert_survived()

    def test_half_request_then_reset(self):
        path, url = serve("half", og.echo())
        for data in (b"GET %s HTTP/1.1\r\nHost: %s\r\nX-Half: " % (url.encode(), origin_host()),
                     b"GE", b"GET " + url.encode()[:20]):
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
                s.sendall(data)
                time.sleep(0.05)
                reset_close(s)
        self.assert_survived()
        self.assert_not_forwarded(path)

    def test_half_body_then_reset(self):
        for headers, body in (([b"Content-Length: 100000"], b"x" * 5000),
                              ([b"Transfer-Encoding: chunked"], b"1000\r\n" + b"y" * 300)):
            with case("headers %r" % headers):
                path, url = serve("half-body", og.echo())
                s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
                s.sendall(post(url.encode(), headers, body))
                time.sleep(0.3 * harness.SLOW)
                reset_close(s)
                self.assert_survived()
                if b"chunked" in headers[0]:
                    self.assert_not_forwarded(path)  # chunked bodies are spooled first (G-35)

    def test_reset_while_waiting_for_the_origin(self):
        pieces = og.chunk_payload([1000, 1000, 1000], seed=4)
        path, url = serve("reset-wait", og.slow(pieces, 1.0))
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=5)
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % url.encode())
        ENV["origin"].wait_request(path, timeout=10 * harness.SLOW)
        reset_close(s)
        self.gw.wait_log("info", r"Client closed connection", timeout=10)
        self.assert_survived()


# ---- garbage -------------------------------------------------------------------

class TestGarbage(HostileCase):
    """Random bytes from fixed seeds. A blob that does not complete a
    request line may leave the proxy waiting for the rest (bounded by the
    120 s idle timer), so the client either half-closes after it or ends
    it with an empty line; both must end at once."""

    @staticmethod
    def blobs(first_seed, count):
        for seed in range(first_seed, first_seed + count):
            rng = random.Random(seed)
            size = rng.choice((16, 300, 4096, 70000))
            yield seed, bytes(rng.getrandbits(8) for _ in range(size))

    def test_random_bytes_then_half_close(self):
        for seed, data in self.blobs(0, 12):
            with case("seed %d, %d bytes" % (seed, len(data))):
                out = hostile(self.gw.port, data, shut_wr=True)
                self.assert_refused(out, REFUSED, may_close=True)
        self.assert_survived()

    def test_random_bytes_then_empty_line(self):
        for seed, data in self.blobs(100, 12):
            with case("seed %d, %d bytes" % (seed, len(data))):
                out = hostile(self.gw.port, data + b"\r\n\r\n")
                self.assert_refused(out, REFUSED)
        self.assert_survived()

    def test_random_bytes_after_a_valid_request_line(self):
        path, url = serve("garbage-head", og.echo())
        for seed, junk in self.blobs(1000, 6):
            with case("seed %d" % seed):
                out = hostile(self.gw.port, b"GET %s HTTP/1.0\r\n%s\r\n\r\n"
                              % (url.encode(), junk))
                self.assert_refused(out, REFUSED)
        self.assert_survived()
        self.assert_not_forwarded(path)


if __name__ == "__main__":
    unittest.main()
