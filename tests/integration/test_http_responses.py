"""Response handling found wrong by the message tests and fixed: interim 1xx
heads arriving with the final head, bodiless responses keeping their
Content-Length, and the C-01 oversized header dropped while the response is
served."""
import os
import socket
import unittest

import harness
from harness import origin as org

ENV = {}


def setUpModule():
    wd = harness.Workdir("responses")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)
    ENV["origin"] = org.Origin()


def tearDownModule():
    ENV["origin"].stop()
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def exchange(port, request, timeout=20):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk


class ResponseCase(unittest.TestCase):
    section = {}

    @classmethod
    def setUpClass(cls):
        wd = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(wd, exist_ok=True)
        cls.gw = harness.Gateway(wd, ENV["scand"].socket, section=cls.section)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def get(self, path, method=b"GET"):
        url = ENV["origin"].url(path).encode()
        return exchange(self.gw.port, method + b" " + url + b" HTTP/1.0\r\n\r\n")


class Cases:
    def test_interim_and_final_head_in_one_write(self):
        ENV["origin"].route("/continue-%s" % self.tag, org.raw(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        out = self.get("/continue-%s" % self.tag)
        self.assertTrue(out.startswith(b"HTTP/1.0 200 OK\r\n"), out[:60])
        self.assertTrue(out.endswith(b"\r\n\r\nok"))

    def test_head_keeps_content_length(self):
        ENV["origin"].route("/head-%s" % self.tag, org.response(body=b"x" * 165))
        out = self.get("/head-%s" % self.tag, method=b"HEAD")
        self.assertTrue(out.startswith(b"HTTP/1.0 200"), out[:40])
        self.assertIn(b"\r\nContent-Length: 165\r\n", out)
        self.assertTrue(out.endswith(b"\r\n\r\n"))  # and no body

    def test_oversized_header_is_dropped_and_the_response_served(self):
        # C-01: over the 17 KB limit the excess header data is ignored, logged,
        # and the response still reaches the client.
        ENV["origin"].route("/big-%s" % self.tag, org.big_header(64 * 1024, body=b"payload\n"))
        out = self.get("/big-%s" % self.tag)
        self.assertTrue(out.startswith(b"HTTP/1.0 200"), out[:40])
        self.assertTrue(out.endswith(b"\r\n\r\npayload\n"), out[-60:])
        self.assertLess(len(out), 20 * 1024)
        self.gw.wait_log("error", r"Too large header \(>17408\) ignored\. URL=\[http://127\.0\.0\.1:"
                                  r"\d+/big-%s\]" % self.tag)


class TestScanned(Cases, ResponseCase):
    tag = "scan"
    section = {"use_http11": "yes"}


class TestUnscanned(Cases, ResponseCase):
    tag = "noscan"
    section = {"use_http11": "yes", "virus_check": "no"}


if __name__ == "__main__":
    unittest.main()
