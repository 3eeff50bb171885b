"""Request bodies: upload scanning with virus_check_post (HTTP-11, G-18),
chunked request bodies forwarded with a Content-Length (G-35), IE's extra
CRLF (HTTP-12) and interrupted uploads."""
import os
import re
import socket
import subprocess
import time
import unittest

import harness
from harness import origin as org
from harness import testfiles

ENV = {}


def setUpModule():
    wd = harness.Workdir("upload")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)
    ENV["origin"] = org.Origin()
    ENV["origin"].route("/up", org.echo())
    ENV["origin"].route("/store", org.response(body=b"stored\n"))


def tearDownModule():
    ENV["origin"].stop()
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def exchange(port, data, timeout=30):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def chunked(body, size=7):
    out = b""
    for i in range(0, len(body), size):
        part = body[i:i + size]
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


class UploadCase(unittest.TestCase):
    section = {}

    @classmethod
    def setUpClass(cls):
        wd = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(wd, exist_ok=True)
        cls.gw = harness.Gateway(wd, ENV["scand"].socket, section=cls.section)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def url(self, tag):
        return (ENV["origin"].url("/up") + "?" + tag).encode()

    def received(self, tag):
        return [r for r in ENV["origin"].requests("/up") if r.target.endswith(tag.encode())]


class TestUploadScanning(UploadCase):
    section = {"virus_check_post": "yes", "quarantine": "yes"}

    def test_infected_put_is_refused_and_not_forwarded(self):
        out = exchange(self.gw.port, b"PUT %s HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s"
                       % (self.url("put-eicar"), len(testfiles.EICAR), testfiles.EICAR))
        self.assertTrue(out.startswith(b"HTTP/1.0 403 Forbidden"), out[:40])
        self.assertEqual(self.received("put-eicar"), [])
        line = self.gw.wait_log("detect", r" PUT .*put-eicar")[-1]
        self.assertIn("DETECT-STAT:INFECTED:", line)
        self.assertIn("ACTION:DELETE:", line)

    def test_infected_multipart_post_is_refused(self):
        path = os.path.join(ENV["wd"].path, "eicar.zip")
        with open(path, "wb") as f:
            f.write(testfiles.zip_bytes([("eicar.com", testfiles.EICAR)]))
        r = subprocess.run(["curl", "-s", "-x", self.gw.proxy, "-o", "/dev/null", "-w",
                            "%{http_code}", "-F", "file=@" + path,
                            self.url("post-eicar").decode()],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout, "403")
        self.assertEqual(self.received("post-eicar"), [])

    def test_clean_post_is_forwarded_intact(self):
        body = testfiles.clean_bytes(300 * 1024)
        out = exchange(self.gw.port, b"POST %s HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s"
                       % (self.url("post-clean"), len(body), body))
        self.assertTrue(out.startswith(b"HTTP/1.0 200"), out[:40])
        got = self.received("post-clean")
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].body, body)
        self.assertEqual(got[0].header("Content-Length"), str(len(body)))
        line = self.gw.wait_log("access", r" POST .*post-clean")[-1]
        self.assertRegex(line, r"PROXY-STAT:http:\d+:\d+:[^:]+:1:[12]:")  # scanned

    def test_infected_chunked_upload_is_refused(self):
        out = exchange(self.gw.port, b"PUT %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                       b"\r\nConnection: close\r\n\r\n%s"
                       % (self.url("put-chunked-eicar"), chunked(testfiles.EICAR)))
        self.assertTrue(out.startswith(b"HTTP/1.0 403"), out[:40])
        self.assertEqual(self.received("put-chunked-eicar"), [])

    def test_quarantined_upload(self):
        exchange(self.gw.port, b"PUT %s HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s"
                 % (self.url("put-q"), len(testfiles.EICAR), testfiles.EICAR))
        line = self.gw.wait_log("detect", r"put-q")[-1]
        name = re.search(r"DETECT-STAT:INFECTED:[^:]*:[^:]*:([^:]+)::", line).group(1)
        with open(os.path.join(self.gw.prefix, "tmp/quarantine", name), "rb") as f:
            self.assertEqual(f.read(), testfiles.EICAR)


class TestUnscannedUploads(UploadCase):
    section = {"virus_check_post": "no"}

    def test_infected_put_passes_without_virus_check_post(self):
        # (The origin answers without echoing: an echoed EICAR would be caught
        # in the response, which is scanned for PUT too - SCAN-1.)
        url = (ENV["origin"].url("/store") + "?put-noscan").encode()
        out = exchange(self.gw.port, b"PUT %s HTTP/1.0\r\nContent-Length: %d\r\n\r\n%s"
                       % (url, len(testfiles.EICAR), testfiles.EICAR))
        self.assertTrue(out.startswith(b"HTTP/1.0 200"), out[:40])
        got = [r for r in ENV["origin"].requests("/store") if r.target.endswith(b"put-noscan")]
        self.assertEqual(got[0].body, testfiles.EICAR)

    def test_chunked_body_forwarded_with_content_length(self):
        body = testfiles.clean_bytes(100 * 1024)
        out = exchange(self.gw.port, b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                       b"\r\nConnection: close\r\n\r\n%s" % (self.url("chunked"), chunked(body, 4096)))
        self.assertTrue(out.startswith(b"HTTP/1.0 200"), out[:40])
        got = self.received("chunked")[0]
        self.assertEqual(got.body, body)
        self.assertEqual(got.header("Content-Length"), str(len(body)))
        self.assertEqual(got.header_values("Transfer-Encoding"), [])

    def test_ie_extra_crlf_after_post(self):
        out = exchange(self.gw.port, b"POST %s HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello\r\n"
                       % self.url("ie-crlf"))
        self.assertTrue(out.startswith(b"HTTP/1.0 200"), out[:40])
        self.assertEqual(self.received("ie-crlf")[0].body, b"hello")

    def test_interrupted_upload_is_logged(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=30) as s:
            s.sendall(b"PUT %s HTTP/1.0\r\nContent-Length: 100000\r\n\r\nonly a little"
                      % self.url("interrupted"))
            time.sleep(0.2)
        self.gw.wait_log("info", r"file uploading is interrupted by client\.")


class TestIeCrlfScanned(UploadCase):
    section = {"virus_check_post": "yes"}

    def test_ie_extra_crlf_is_read_and_logged(self):
        out = exchange(self.gw.port, b"POST %s HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello\r\n"
                       % self.url("ie-crlf-scan"))
        self.assertTrue(out.startswith(b"HTTP/1.0 200"), out[:40])
        self.gw.wait_log("info", r"read extra CRLF for POST method")


if __name__ == "__main__":
    unittest.main()
