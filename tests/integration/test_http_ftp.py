"""FTP over HTTP (HTTP-16, G-29): ftp:// URLs fetched from a real vsftpd,
scanned like downloads, directories rendered as HTML, never kept alive."""
import os
import re
import socket
import unittest

import harness
from harness import testfiles
from harness import vsftpd as vs

ENV = {}


def setUpModule():
    reason = vs.available()
    if reason:
        raise unittest.SkipTest(reason)
    wd = harness.Workdir("http-ftp")
    ENV["wd"] = wd
    root = os.path.join(wd.path, "ftproot")
    os.makedirs(os.path.join(root, "pub", "sub dir"), exist_ok=True)
    ENV["clean"] = testfiles.clean_bytes(1024 * 1024)
    with open(os.path.join(root, "pub", "clean.bin"), "wb") as f:
        f.write(ENV["clean"])
    with open(os.path.join(root, "pub", "eicar.com"), "wb") as f:
        f.write(testfiles.EICAR)
    for dirpath, dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for name in files:
            os.chmod(os.path.join(dirpath, name), 0o644)
    ENV["ftpd"] = vs.Vsftpd(wd.path, root)
    ENV["scand"] = harness.Scand(wd.path)
    gwdir = os.path.join(wd.path, "gw")
    os.makedirs(gwdir, exist_ok=True)
    ENV["gw"] = harness.Gateway(gwdir, ENV["scand"].socket,
                                section={"keepalive": "yes", "product_name": "Sekisho/test-ftp"})


def tearDownModule():
    for k in ("gw", "scand", "ftpd"):
        if k in ENV:
            ENV[k].stop()
    if "wd" in ENV:
        ENV["wd"].cleanup()


def fetch(path, method=b"GET", version=b"HTTP/1.1", host=b"127.0.0.1", gw=None):
    url = b"ftp://%s:%d%s" % (host, ENV["ftpd"].port, path)
    gw = gw or ENV["gw"]
    with socket.create_connection(("127.0.0.1", gw.port), timeout=60) as s:
        s.sendall(b"%s %s %s\r\nHost: x\r\n\r\n" % (method, url, version))
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


class TestFtpAclTo(unittest.TestCase):
    """ACL-7 for ftp:// URLs as for http:// ones (issue 11: ftp:// was
    checked by its name only): the destination's name OR each address it
    resolves to must be in http_to, checked before any is contacted."""

    def gateway(self, name, http_to):
        d = os.path.join(ENV["wd"].path, name)
        os.makedirs(d, exist_ok=True)
        return harness.Gateway(d, ENV["scand"].socket, section={"acl_to": "yes"},
                               hosts_allow="http_to: %s\n" % http_to)

    def test_a_name_is_allowed_by_the_address_it_resolves_to(self):
        gw = self.gateway("ftp-aclto-addr", "127.0.0.1")
        try:
            head, body = fetch(b"/pub/clean.bin", host=b"localhost", gw=gw)
            self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:60])
            self.assertEqual(body, ENV["clean"])
        finally:
            gw.stop()

    def test_a_name_whose_address_is_not_allowed_is_inhibited(self):
        gw = self.gateway("ftp-aclto-deny", "10.0.0.1")
        try:
            head, body = fetch(b"/pub/clean.bin", host=b"localhost", gw=gw)
            self.assertTrue(head.startswith(b"HTTP/1.0 503"), head[:60])
            self.assertIn(b"CONNECT(localhost:%d)/Access Inhibited by Proxy(SEKISHO)"
                          % ENV["ftpd"].port, body)
            gw.wait_log("info", re.escape("Access Denied to [127.0.0.1:localhost]"))
            self.assertEqual(ENV["ftpd"].log_text().count("CONNECT: Client"), self.connects)
        finally:
            gw.stop()

    def setUp(self):
        self.connects = ENV["ftpd"].log_text().count("CONNECT: Client")


class TestFtpOverHttp(unittest.TestCase):
    def test_file_is_fetched_scanned_and_never_kept_alive(self):
        head, body = fetch(b"/pub/clean.bin")
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
        self.assertIn(b"\r\nServer: Sekisho/test-ftp\r\n", head)  # HTTP-16
        self.assertIn(b"\r\nConnection: close", head)               # HTTP-20 f
        self.assertEqual(body, ENV["clean"])
        line = ENV["gw"].wait_log("access", r"ftp://127\.0\.0\.1:\d+/pub/clean\.bin ")[-1]
        self.assertIn("TCP_MISS/200 ", line)
        self.assertRegex(line, r"PROXY-STAT:http:\d+:\d+:[^:]+:1:1:")  # scanned

    def test_infected_file_is_blocked(self):
        head, body = fetch(b"/pub/eicar.com")
        self.assertTrue(head.startswith(b"HTTP/1.0 403"), head[:40])
        self.assertNotIn(testfiles.EICAR, body)
        ENV["gw"].wait_log("detect", r"ftp://127\.0\.0\.1:\d+/pub/eicar\.com ")

    def test_directory_listing_page(self):
        head, body = fetch(b"/pub/")
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
        self.assertIn(b"Content-Type: text/html", head)
        page = body.decode("utf-8")
        self.assertIn("<ul>", page)
        self.assertIn("clean.bin", page)
        self.assertIn("eicar.com", page)
        self.assertIn("sub dir", page)
        self.assertRegex(page, r'href="[^"]*sub%20dir/?"')

    def test_missing_file_is_404(self):
        head, body = fetch(b"/pub/no-such-file")
        self.assertTrue(head.startswith(b"HTTP/1.0 404"), head[:40])

    def test_refused_connection_is_503(self):
        port = harness.free_port()
        with socket.create_connection(("127.0.0.1", ENV["gw"].port), timeout=60) as s:
            s.sendall(b"GET ftp://127.0.0.1:%d/x HTTP/1.0\r\n\r\n" % port)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.0 503"), data[:40])
        self.assertIn(b"CONNECT(127.0.0.1:%d)/connect: Connection refused" % port, data)


if __name__ == "__main__":
    unittest.main()
