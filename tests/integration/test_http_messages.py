"""What the HTTP proxy sends upstream and back (HTTP-2, HTTP-4, HTTP-6,
HTTP-7, HTTP-8, HTTP-14, HTTP-15, HTTP-18, HTTP-21, G-35, C-01, CONN-1).

The origin is harness.origin.Origin, a scripted server that records the
bytes it receives, so the tests assert exactly what the proxy forwarded;
clients are raw sockets, so the tests see the bytes the proxy answers.
"""
import http.client
import os
import re
import socket
import subprocess
import time
import unittest

import harness
from harness import origin as og
from test_http_get import ACCESS_RX  # LOG-2, one definition for all HTTP tests

ENV = {}
IO_TIMEOUT = 30.0 * harness.SLOW
ERROR_PAGE_TEXT = b"The server refuse to browse the page."


def setUpModule():
    wd = harness.Workdir("http-messages")
    ENV["wd"] = wd
    ENV["origin"] = og.Origin()
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    for k in ("scand", "origin"):
        if k in ENV:
            ENV[k].stop()
    ENV["wd"].cleanup()


def serve(name, behaviour):
    """Register behaviour on a path of its own; returns (path, url)."""
    return ENV["origin"].serve(name, behaviour)


class Reply:
    """A response as the client received it."""

    def __init__(self, data):
        self.raw = data
        self.status_line, self.headers, self.body = og.split_response(data)
        parts = self.status_line.split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name):
        values = self.values(name)
        assert len(values) <= 1, "%s repeated: %r" % (name, values)
        return values[0] if values else None

    def __repr__(self):
        return "<Reply %r %r>" % (self.status_line, self.raw[:300])


def exchange(port, data, timeout=IO_TIMEOUT):
    """Send data to the proxy and read until it closes (bounded)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(1 << 16)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


def send(gw, method, url, version="HTTP/1.0", headers=(), body=None):
    """One request through gw; Content-Length is added when body is given."""
    line = b"%s %s" % (method if isinstance(method, bytes) else method.encode(),
                       url if isinstance(url, bytes) else url.encode())
    if version:
        line += b" " + (version if isinstance(version, bytes) else version.encode())
    head = [line] + [("%s: %s" % kv).encode("latin-1") for kv in headers]
    if body is not None:
        head.append(b"Content-Length: %d" % len(body))
    return Reply(exchange(gw.port, b"\r\n".join(head) + b"\r\n\r\n" + (body or b"")))


def gateway(name, section=None, **kw):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    return harness.Gateway(wd, ENV["scand"].socket, section=section, **kw)


class GatewayCase(unittest.TestCase):
    section = {}

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls.__name__, cls.section)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def origin(self):
        return ENV["origin"]

    def received(self, path):
        """The one request the origin received for path."""
        reqs = ENV["origin"].wait_request(path, timeout=10 * harness.SLOW)
        self.assertEqual(len(reqs), 1, reqs)
        return reqs[0]

    def access_line(self, url):
        lines = self.gw.wait_log("access", re.escape(" " + url + " "))
        m = ACCESS_RX.match(lines[-1])
        self.assertIsNotNone(m, "access line does not match LOG-2: %r" % lines[-1])
        return m

    def assert_error_page(self, reply, status_line, message):
        self.assertEqual(reply.status_line, status_line, reply)
        self.assertIn(ERROR_PAGE_TEXT, reply.body)  # HTTP-15: template_http_error.html
        self.assertIn(b"ERROR: " + message.encode(), reply.body)
        self.assertEqual(reply.header("Content-Length"), str(len(reply.body)))
        self.assertIn("text/html", reply.header("Content-Type") or "")


# ---- HTTP-2: methods ---------------------------------------------------------

class TestMethods(GatewayCase):
    """HTTP-2 through the default (scanning) gateway."""

    def check_method(self, method, body=None):
        path, url = serve("m-" + method.lower(), og.echo())
        reply = send(self.gw, method, url + "?k=v", headers=[("X-Test", method)], body=body)
        got = self.received(path)
        self.assertEqual(got.request_line, b"%s %s?k=v HTTP/1.0" % (method.encode(), path.encode()))
        self.assertEqual(got.body, body or b"")
        self.assertEqual(got.header("X-Test"), method)
        if body is not None:
            self.assertEqual(got.header("Content-Length"), str(len(body)))
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        if method == "HEAD":
            self.assertEqual(reply.body, b"")
        else:
            self.assertEqual(reply.body, got.head + got.body)  # the origin's echo, intact
        m = self.access_line(url + "?k=v")  # HTTP-18
        self.assertEqual(m["method"], method)
        self.assertEqual(m["status"], "200")
        return got

    def test_http2_get(self):
        self.check_method("GET")

    def test_http2_post_with_body(self):
        self.check_method("POST", b"field=value&other=" + bytes(range(256)) * 40)

    def test_http2_put_with_body(self):
        self.check_method("PUT", b"put body\r\n\r\nwith blank lines\n" * 3000)

    def test_http2_head(self):
        self.check_method("HEAD")

    def test_http2_options(self):
        self.check_method("OPTIONS")

    def test_http2_delete(self):
        self.check_method("DELETE")

    def test_http2_trace(self):
        self.check_method("TRACE")

    def test_http2_propfind_with_body(self):
        self.check_method("PROPFIND", b'<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/>'
                                      b"</propfind>")

    def test_http2_mkcol(self):
        self.check_method("MKCOL")

    def test_http2_extension_method_with_body(self):
        self.check_method("X-SEKISHO-EXT", b"extension body")

    def test_http2_post_with_curl(self):
        body = og.chunk_payload([200000], seed=9)[0]
        path, url = serve("m-curl-post", og.echo())
        src = os.path.join(ENV["wd"].path, "curl-post.bin")
        dst = os.path.join(ENV["wd"].path, "curl-post.out")
        with open(src, "wb") as f:
            f.write(body)
        r = subprocess.run(["curl", "-s", "-S", "-x", self.gw.proxy, "--data-binary", "@" + src,
                            "-H", "Content-Type: application/octet-stream", "-o", dst,
                            "-D", dst + ".head", "-w", "%{http_code}",
                            "--max-time", str(int(IO_TIMEOUT)), url],
                           capture_output=True, text=True, timeout=IO_TIMEOUT + 10)
        self.assertEqual(r.stdout, "200", r.stderr)
        with open(dst + ".head", "rb") as f:
            self.assertTrue(f.read().startswith(b"HTTP/1.0 200 OK\r\n"))
        got = self.received(path)
        self.assertEqual(got.request_line, b"POST %s HTTP/1.0" % path.encode())
        self.assertEqual(got.body, body)
        self.assertEqual(got.header_values("Proxy-Connection"), [])
        with open(dst, "rb") as f:
            self.assertEqual(f.read(), got.head + got.body)

    def test_http2_put_with_http_client(self):
        body = b"put through http.client\n" * 5000
        path, url = serve("m-pyput", og.echo())
        conn = http.client.HTTPConnection("127.0.0.1", self.gw.port, timeout=IO_TIMEOUT)
        try:
            conn.request("PUT", url, body=body, headers={"Content-Type": "text/plain"})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        self.assertEqual((resp.version, resp.status, resp.reason), (10, 200, "OK"))
        got = self.received(path)
        self.assertEqual(got.method, b"PUT")
        self.assertEqual(got.body, body)
        self.assertEqual(data, got.head + got.body)


# ---- HTTP-4, HTTP-6, HTTP-15: errors of the proxy ----------------------------

class TestRequestLine(GatewayCase):
    """HTTP-4: the request-line rows of responses.tsv, each at its limit."""

    def test_http4_method_too_long(self):
        path, url = serve("h4-method99", og.echo())
        reply = send(self.gw, "M" * 99, url)
        self.assert_error_page(reply, "HTTP/1.0 400 Bad Request", "Too long Request Method")
        self.assertEqual(ENV["origin"].requests(path), [])

    def test_http4_method_of_98_bytes_is_relayed(self):
        path, url = serve("h4-method98", og.echo())
        reply = send(self.gw, "M" * 98, url)
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        self.assertEqual(self.received(path).method, b"M" * 98)

    def test_http4_illegal_method_character(self):
        path, url = serve("h4-methodchar", og.echo())
        reply = send(self.gw, b"GE\x01T", url)
        self.assert_error_page(reply, "HTTP/1.0 400 Bad Request", "Illegal method character.")
        self.assertEqual(ENV["origin"].requests(path), [])

    def url_of_length(self, name, length):
        path, url = serve(name, og.echo())
        url += "?q="
        return path, url + "u" * (length - len(url))

    def test_http4_url_too_long(self):
        path, url = self.url_of_length("h4-url2099", 2099)
        self.assertEqual(len(url), 2099)
        reply = send(self.gw, "GET", url)
        self.assert_error_page(reply, "HTTP/1.0 414 Request-URI Too Long", "Request-URI Too Long")
        self.assertEqual(ENV["origin"].requests(path), [])

    def test_http4_url_of_2098_bytes_is_relayed(self):
        path, url = self.url_of_length("h4-url2098", 2098)
        self.assertEqual(len(url), 2098)
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        got = self.received(path)
        self.assertEqual(got.target, url[url.index(path):].encode())

    def test_http4_illegal_url_character(self):
        path, url = serve("h4-urlchar", og.echo())
        reply = send(self.gw, "GET", url.encode() + b"\x01x")
        self.assert_error_page(reply, "HTTP/1.0 400 Bad Request", "Illegal URL character.")
        self.assertEqual(ENV["origin"].requests(path), [])

    def test_http4_invalid_url_format(self):
        port = ENV["origin"].port
        for target in ("gopher://127.0.0.1:%d/x" % port, "http://127.0.0.1:99999/x",
                       "http://127.0.0.1:%d/x#fragment" % port, "http:///nohost"):
            with self.subTest(target=target):
                reply = send(self.gw, "GET", target)
                self.assert_error_page(reply, "HTTP/1.0 400 Bad Request", "Invalid URL format")
                self.assertIn(b"URL: " + target.encode(), reply.body)  # HTTP-15

    def test_http4_version_too_long(self):
        path, url = serve("h4-version99", og.echo())
        version = "HTTP/1." + "1" * 92
        self.assertEqual(len(version), 99)
        reply = send(self.gw, "GET", url, version=version)
        self.assert_error_page(reply, "HTTP/1.0 400 Bad Request", "Too long Request Version")
        # 98 bytes is within the length limit: the value is then refused (505).
        reply = send(self.gw, "GET", url, version=version[:98])
        self.assert_error_page(reply, "HTTP/1.0 505 HTTP Version Not Supported",
                               "Only support HTTP/0.9, HTTP/1.0, HTTP/1.1")
        self.assertEqual(ENV["origin"].requests(path), [])

    def test_http4_http20_not_supported(self):
        path, url = serve("h4-http20", og.echo())
        reply = send(self.gw, "GET", url, version="HTTP/2.0")
        self.assert_error_page(reply, "HTTP/1.0 505 HTTP Version Not Supported",
                               "Only support HTTP/0.9, HTTP/1.0, HTTP/1.1")
        self.assertEqual(ENV["origin"].requests(path), [])

    def test_http6_connection_refused_is_503(self):
        port = harness.free_port()
        url = "http://127.0.0.1:%d/refused" % port
        reply = send(self.gw, "GET", url)
        message = "CONNECT(127.0.0.1:%d)/connect: Connection refused" % port  # CONN-1
        self.assert_error_page(reply, "HTTP/1.0 503 Service Unavailable", message)
        m = self.access_line(url)
        self.assertEqual(m["status"], "503")
        self.assertEqual(m["error"],
                         "CONNECT(127.0.0.1%%3a%d)/connect%%3a+Connection+refused" % port)

    def test_http15_error_page_names_url_and_error(self):
        port = harness.free_port()
        url = "http://127.0.0.1:%d/page?x=1" % port
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status, 503)
        page = reply.body.decode("utf-8")
        self.assertIn("The server refuse to browse the page. The URL or other input may not be "
                      "correct. Please confirm the value.", page)
        self.assertRegex(page, r"(?m)^URL: %s$" % re.escape(url))
        self.assertRegex(page, r"(?m)^ERROR: %s$"
                         % re.escape("CONNECT(127.0.0.1:%d)/connect: Connection refused" % port))


# ---- HTTP-7: the request the origin receives ---------------------------------

VIA_HOST = "gw.example.test"
PRODUCT = "TestProduct/1.0"


class TestRequestRewrite(GatewayCase):
    section = {"virus_check": "no", "hostname": VIA_HOST, "product_name": PRODUCT}

    def via(self):
        return "1.0 %s:%d (%s)" % (VIA_HOST, self.gw.port, PRODUCT)

    def test_http7_absolute_uri_reduced_http10(self):
        path, url = serve("h7-line", og.echo())
        reply = send(self.gw, "GET", url + "?a=1&b=%20c")
        self.assertEqual(reply.status, 200)
        got = self.received(path)
        self.assertEqual(got.request_line, b"GET %s?a=1&b=%%20c HTTP/1.0" % path.encode())

    def test_http7_http11_request_sent_as_http10(self):
        path, url = serve("h7-v11", og.echo())
        host = "127.0.0.1:%d" % ENV["origin"].port
        reply = send(self.gw, "GET", url, version="HTTP/1.1", headers=[("Host", host)])
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        self.assertEqual(self.received(path).request_line, b"GET %s HTTP/1.0" % path.encode())

    def test_http7_hop_by_hop_headers_removed(self):
        path, url = serve("h7-hop", og.echo())
        send(self.gw, "GET", url, headers=[
            ("Connection", "keep-alive, X-Named-Hop"), ("Proxy-Connection", "keep-alive"),
            ("Keep-Alive", "timeout=300"), ("Trailer", "X-Checksum"), ("X-Named-Hop", "1"),
            ("X-End-To-End", "kept value"), ("Accept", "*/*")])
        got = self.received(path)
        for name in ("Proxy-Connection", "Keep-Alive", "Trailer", "X-Named-Hop"):
            self.assertEqual(got.header_values(name), [], name)
        # The client's Connection is gone; what the proxy itself says is "close".
        self.assertEqual(got.header_values("Connection"), ["close"])
        self.assertEqual(got.header("X-End-To-End"), "kept value")
        self.assertEqual(got.header("Accept"), "*/*")

    def test_http7_via_added(self):
        path, url = serve("h7-via-new", og.echo())
        send(self.gw, "GET", url)
        self.assertEqual(self.received(path).header_values("Via"), [self.via()])

    def test_http7_via_appended(self):
        path, url = serve("h7-via", og.echo())
        send(self.gw, "GET", url, headers=[("Via", "1.1 first.example (squid)")])
        self.assertEqual(self.received(path).header_values("Via"),
                         ["1.1 first.example (squid), " + self.via()])

    def test_http7_x_forwarded_for_added(self):
        path, url = serve("h7-xff-new", og.echo())
        send(self.gw, "GET", url)
        self.assertEqual(self.received(path).header_values("X-Forwarded-For"), ["127.0.0.1"])

    def test_http7_x_forwarded_for_appended(self):
        path, url = serve("h7-xff", og.echo())
        send(self.gw, "GET", url, headers=[("X-Forwarded-For", "192.0.2.7, 198.51.100.9")])
        self.assertEqual(self.received(path).header_values("X-Forwarded-For"),
                         ["192.0.2.7, 198.51.100.9, 127.0.0.1"])

    def test_http7_host_set_from_url(self):
        host = "127.0.0.1:%d" % ENV["origin"].port
        path, url = serve("h7-host", og.echo())
        send(self.gw, "GET", url, version="HTTP/1.1", headers=[("Host", "wrong.example")])
        self.assertEqual(self.received(path).header_values("Host"), [host])
        path, url = serve("h7-host10", og.echo())
        send(self.gw, "GET", url)  # HTTP/1.0 without Host
        self.assertEqual(self.received(path).header_values("Host"), [host])

    def test_http7_proxy_authorization_kept_without_proxy_auth(self):
        # Step 8 removes it only when proxy authentication is enabled.
        path, url = serve("h7-pauth", og.echo())
        send(self.gw, "GET", url, headers=[("Proxy-Authorization", "Basic dXNlcjpwdw==")])
        self.assertEqual(self.received(path).header("Proxy-Authorization"), "Basic dXNlcjpwdw==")

    def test_http7_request_body_relayed(self):
        body = bytes(range(256)) * 1024
        path, url = serve("h7-body", og.echo())
        reply = send(self.gw, "POST", url, headers=[("Content-Type", "application/octet-stream")],
                     body=body)
        self.assertEqual(reply.status, 200)
        got = self.received(path)
        self.assertEqual(got.body, body)
        self.assertEqual(got.header("Content-Length"), str(len(body)))


class TestRequestRewriteDefaults(GatewayCase):
    """The shipped defaults: product name Sekisho/sekisho_http/<version>/<hostname>."""

    def test_http7_via_default_product_name(self):
        path, url = serve("h7-via-default", og.echo())
        send(self.gw, "GET", url, version="HTTP/1.1",
             headers=[("Host", "127.0.0.1:%d" % ENV["origin"].port)])
        got = self.received(path)
        self.assertTrue(got.request_line.endswith(b" HTTP/1.0"), got.request_line)  # no use_http11
        host = re.escape(socket.gethostname())
        via = got.header_values("Via")
        self.assertEqual(len(via), 1, via)
        self.assertRegex(via[0], r"^1\.0 %s:%d \(Sekisho/sekisho_http/\d+/%s\)$"
                         % (host, self.gw.port, host))


class TestAnonymous(GatewayCase):
    section = {"anonymous": "yes", "virus_check": "no"}

    def test_http7_anonymous_adds_neither_via_nor_xff(self):
        path, url = serve("h7-anon", og.echo())
        send(self.gw, "GET", url)
        got = self.received(path)
        self.assertEqual(got.header_values("Via"), [])
        self.assertEqual(got.header_values("X-Forwarded-For"), [])

    def test_http7_anonymous_leaves_existing_headers(self):
        path, url = serve("h7-anon-keep", og.echo())
        send(self.gw, "GET", url, headers=[("Via", "1.1 first.example"),
                                           ("X-Forwarded-For", "192.0.2.7")])
        got = self.received(path)
        self.assertEqual(got.header_values("Via"), ["1.1 first.example"])
        self.assertEqual(got.header_values("X-Forwarded-For"), ["192.0.2.7"])


# ---- HTTP-8: the response the client receives ---------------------------------

class ResponseRewrite:
    """HTTP-8 tests, run with scanning on and off (subclasses)."""

    def test_http8_status_line_downgraded(self):
        for line in ("HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found",
                     "HTTP/1.1 299 Custom Reason With Spaces", "HTTP/1.1 503 Service Unavailable",
                     "HTTP/1.0 200 Fine"):
            with self.subTest(line=line):
                body = b"body of " + line.encode()
                _, url = serve("h8-status", og.raw(
                    line.encode() + b"\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                    % len(body) + body))
                reply = send(self.gw, "GET", url)
                self.assertEqual(reply.status_line, "HTTP/1.0 " + line.split(" ", 1)[1], reply)
                self.assertEqual(reply.body, body)
                self.assertEqual(reply.header("Content-Length"), str(len(body)))
                self.assertEqual(self.access_line(url)["status"], line.split(" ")[1])  # HTTP-18

    def test_http8_connection_headers_removed(self):
        _, url = serve("h8-conn", og.response(headers=[
            ("Connection", "keep-alive, X-Named-Hop"), ("Proxy-Connection", "keep-alive"),
            ("Keep-Alive", "timeout=5, max=100"), ("X-Named-Hop", "1"),
            ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-End-To-End", "yes"),
            ("Content-Type", "text/plain")], body=b"hello\n"))
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status, 200, reply)
        for name in ("Proxy-Connection", "Keep-Alive", "X-Named-Hop"):
            self.assertEqual(reply.values(name), [], name)
        self.assertEqual(reply.values("Connection"), ["close"])
        self.assertEqual(reply.values("Set-Cookie"), ["a=1", "b=2"])
        self.assertEqual(reply.header("X-End-To-End"), "yes")
        self.assertEqual(reply.body, b"hello\n")

    def test_http8_proxy_support_with_www_authenticate(self):
        _, url = serve("h8-auth", og.www_authenticate('NTLM'))
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status_line, "HTTP/1.0 401 Unauthorized", reply)
        self.assertEqual(reply.header("WWW-Authenticate"), "NTLM")
        self.assertEqual(reply.header("Proxy-Support"), "Session-Based-Authentication")
        self.assertEqual(reply.body, b"authentication required\n")

    def test_http8_no_proxy_support_without_www_authenticate(self):
        _, url = serve("h8-noauth", og.response(body=b"x"))
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.values("Proxy-Support"), [])

    def test_close_delimited_response_arrives_complete(self):
        body = og.chunk_payload([300000], seed=3)[0]
        _, url = serve("close-delim", og.close_delimited(
            body, headers=[("Content-Type", "application/octet-stream")]))
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        self.assertEqual(reply.body, body)
        if reply.header("Content-Length") is not None:
            self.assertEqual(reply.header("Content-Length"), str(len(body)))

    def test_slow_body_arrives_complete(self):
        pieces = og.chunk_payload([5000, 1, 7000, 300], seed=5)
        _, url = serve("slow", og.slow(pieces, 0.3))
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.body, b"".join(pieces))

    def test_c01_8k_response_header_passes(self):
        _, url = serve("c01-8k", og.big_header(8192))
        reply = send(self.gw, "GET", url)
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        self.assertEqual(reply.header("Set-Cookie"), ("big=" + "c" * 8192)[:8192])
        self.assertEqual(reply.body, b"ok\n")

    def test_c01_64k_response_header_logged_and_service_survives(self):
        _, url = serve("c01-64k", og.big_header(65536))
        send(self.gw, "GET", url)  # the client-side outcome is not asserted (being changed)
        self.gw.wait_log("error", r"Too large header")
        for i in range(3):
            _, u = serve("c01-after", og.response(body=b"still here %d\n" % i))
            reply = send(self.gw, "GET", u)
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual(reply.body, b"still here %d\n" % i)
        self.assertTrue(self.gw.proc.alive())


class TestResponseScanned(GatewayCase, ResponseRewrite):
    section = {"virus_check": "yes"}

    def test_http14_server_closes_early_not_delivered_as_complete(self):
        _, url = serve("h14-early", og.close_early(100000, 5000))
        reply = send(self.gw, "GET", url)
        # Store-and-forward: the truncated body is never passed off as the file.
        self.assertNotEqual(reply.status, 200, reply)
        self.gw.wait_log("info", r"is_server_alivesocket: .*Server closed connection while "
                                 r"transaction\. There may be timeout on the server because of "
                                 r"no traffic\. \(elapsed=\d+ms\)")


class TestResponseUnscanned(GatewayCase, ResponseRewrite):
    section = {"virus_check": "no"}

    def test_http14_server_closes_early_body_cut(self):
        _, url = serve("h14-early-relay", og.close_early(100000, 5000))
        reply = send(self.gw, "GET", url)
        # Streaming: the head is out already; the client sees a short body.
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.header("Content-Length"), "100000")
        self.assertLess(len(reply.body), 100000)


# ---- G-35 and HTTP-21: HTTP/1.1 upstream --------------------------------------

CHUNK_SIZES = [1, 10, 4096, 65539, 7, 100000, 2]


class Chunked:
    """G-35: chunked responses reach the client de-chunked (subclasses set scanning)."""

    def check_chunked(self, behaviour, sizes, seed):
        path, url = serve("g35-chunked", behaviour)
        reply = send(self.gw, "GET", url, version="HTTP/1.1",
                     headers=[("Host", "127.0.0.1:%d" % ENV["origin"].port)])
        expected = b"".join(og.chunk_payload(sizes, seed))
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        self.assertEqual(reply.values("Transfer-Encoding"), [])
        self.assertEqual(len(reply.body), len(expected))
        self.assertEqual(reply.body, expected)
        length = reply.header("Content-Length")
        if self.gw.section["virus_check"] == "yes" or length is not None:
            self.assertEqual(length, str(len(expected)))  # store-and-forward knows the length
        got = self.received(path)
        self.assertTrue(got.request_line.endswith(b" HTTP/1.1"), got.request_line)  # HTTP-21
        return reply

    def test_g35_chunked_response_dechunked(self):
        self.check_chunked(og.chunked(CHUNK_SIZES, seed=1,
                                      headers=[("Content-Type", "application/octet-stream")]),
                           CHUNK_SIZES, 1)

    def test_g35_chunk_extensions_and_trailers(self):
        sizes = [300, 5, 70000]
        self.check_chunked(og.chunked(sizes, seed=2, extension=b";name=value",
                                      trailers=[("X-Checksum", "abc")]), sizes, 2)


class TestHttp11Scanned(GatewayCase, Chunked):
    section = {"use_http11": "yes", "virus_check": "yes"}

    def test_http21_use_http11_relays_http11(self):
        path, url = serve("h21", og.echo())
        host = "127.0.0.1:%d" % ENV["origin"].port
        reply = send(self.gw, "GET", url, version="HTTP/1.1", headers=[("Host", host)])
        self.assertEqual(reply.status_line, "HTTP/1.0 200 OK", reply)
        self.assertEqual(self.received(path).request_line, b"GET %s HTTP/1.1" % path.encode())
        # An HTTP/1.0 client's request stays HTTP/1.0.
        path, url = serve("h21-10", og.echo())
        send(self.gw, "GET", url)
        self.assertEqual(self.received(path).request_line, b"GET %s HTTP/1.0" % path.encode())


class TestHttp11Unscanned(GatewayCase, Chunked):
    section = {"use_http11": "yes", "virus_check": "no"}


# ---- HTTP-18: the access log ---------------------------------------------------

class TestAccessLog(GatewayCase):
    def test_http18_access_log_fields(self):
        cases = []
        _, url = serve("h18-get", og.echo())
        cases.append(("GET", url + "?a=b", None, "200", ""))
        _, url = serve("h18-post", og.echo())
        cases.append(("POST", url, b"data", "200", ""))
        _, url = serve("h18-head", og.echo())
        cases.append(("HEAD", url, None, "200", ""))
        _, url = serve("h18-ext", og.echo())
        cases.append(("X-EXT", url, None, "200", ""))
        _, url = serve("h18-404", og.response(404, "Not Found", body=b"nope"))
        cases.append(("GET", url, None, "404", ""))
        _, url = serve("h18-xff", og.echo())
        cases.append(("GET", url, None, "200", "192.0.2.1, 198.51.100.2"))
        cases.append(("GET", "http://127.0.0.1:%d/h18-refused" % harness.free_port(), None,
                      "503", ""))
        cases.append(("GET", "gopher://127.0.0.1/h18-badurl", None, "400", ""))
        for method, url, body, status, xff in cases:
            with self.subTest(method=method, url=url):
                headers = [("X-Forwarded-For", xff)] if xff else []
                reply = send(self.gw, method, url, headers=headers, body=body)
                self.assertEqual(str(reply.status), status, reply)
                m = self.access_line(url)
                self.assertEqual(m["method"], method)
                self.assertEqual(m["url"], url)
                self.assertEqual(m["status"], status)
                self.assertEqual(m["client"], "127.0.0.1")
                self.assertEqual(m["p1"], "")  # no KEEPALIVE / PROGRESS / TRICKLE
                self.assertEqual(m["p2"], xff.replace(",", "%2c").replace(" ", "+"))
                self.assertGreaterEqual(int(m["size"]), len(reply.raw))


if __name__ == "__main__":
    unittest.main()
