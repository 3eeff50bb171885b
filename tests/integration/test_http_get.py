"""HTTP GET through the proxy, scanned by sekisho-scand (issue 2, HTTP-10, LOG-2).

Real nginx as origin, real curl as client, the bundled test definitions.
"""
import hashlib
import os
import re
import socket
import subprocess
import unittest

import harness
from harness import testfiles

ENV = {}


def setUpModule():
    wd = harness.Workdir("http-get")
    ENV["wd"] = wd
    www = os.path.join(wd.path, "www")
    ENV["files"] = testfiles.generate(www, big=True)
    with open(os.path.join(www, "1k.bin"), "wb") as f:
        f.write(testfiles.clean_bytes(1024))
    ENV["files"]["1k.bin"] = os.path.join(www, "1k.bin")
    ENV["nginx"] = harness.Nginx(www, wd.path)
    ENV["scand"] = harness.Scand(wd.path)
    ENV["sink"] = harness.SmtpSink(wd.path)


def tearDownModule():
    for k in ("sink", "scand", "nginx"):
        if k in ENV:
            ENV[k].stop()
    ENV["wd"].cleanup()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def curl(proxy, url, *extra, timeout=120):
    """Run curl through the proxy; return (status, headers, body bytes)."""
    r = subprocess.run(["curl", "-s", "-S", "-x", proxy, "-D", "-", "-o", "/dev/stdout",
                        "--max-time", str(timeout)] + list(extra) + [url],
                       capture_output=True, timeout=timeout + 10)
    raw = r.stdout
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def curl_to_file(proxy, url, path, timeout=300):
    r = subprocess.run(["curl", "-s", "-S", "-x", proxy, "-o", path, "-w", "%{http_code}",
                        "--max-time", str(timeout), url],
                       capture_output=True, text=True, timeout=timeout + 10)
    return int(r.stdout or 0)


# LOG-2: the documented field order, with the values URL-encoded.
ACCESS_RX = re.compile(
    r"^(?P<time>\d+\.\d{3}) +(?P<elapsed>\d+) (?P<client>\S+) TCP_MISS/(?P<status>\d{3}) "
    r"(?P<size>\d+) (?P<method>\S+) (?P<url>\S+) (?P<user>\S+) DIRECT/(?P<server>\S+) "
    r"(?P<ctype>\S+) DETECT-STAT:(?P<result>CLEAN|INFECTED|SPAM):(?P<name>[^: ]*):"
    r"(?P<file>[^: ]*):(?P<quarantine>[^: ]*):: ACTION:(?P<action>[A-Z_]+): "
    r"PROXY-STAT:(?P<svc>http):(?P<id>\d+):(?P<pid>\d+):(?P<hostip>[^: ]+):(?P<files>\d+):"
    r"(?P<checks>\d+):(?P<scanms>\d+):(?P<details>[A-Z_,]*): "
    r"PROTOCOL-STAT:(?P<p1>[^: ]*):(?P<p2>[^: ]*): PROXY-ERROR:(?P<error>[^ ]*):$")


class GatewayCase(unittest.TestCase):
    section = {}
    common = {}
    hosts_allow = ""

    @classmethod
    def setUpClass(cls):
        wd = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(wd, exist_ok=True)
        cls.gw = harness.Gateway(wd, ENV["scand"].socket, section=cls.section,
                                 common=cls.common, hosts_allow=cls.hosts_allow)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def url(self, name):
        return ENV["nginx"].url(name)

    def access_line(self, url):
        """The access-log line of the last request for url (bounded wait)."""
        lines = self.gw.wait_log("access", re.escape(" " + url + " "))
        m = ACCESS_RX.match(lines[-1])
        self.assertIsNotNone(m, "access line does not match LOG-2: %r" % lines[-1])
        return m


class TestCleanDownloads(GatewayCase):
    def test_clean_files_arrive_byte_identical(self):
        for name in ("1k.bin", "clean_1m.bin", "clean_100m.bin"):
            with self.subTest(name=name):
                out = os.path.join(ENV["wd"].path, "out-" + name)
                status = curl_to_file(self.gw.proxy, self.url(name), out)
                self.assertEqual(status, 200)
                self.assertEqual(sha256_file(out), sha256_file(ENV["files"][name]))
                m = self.access_line(self.url(name))
                self.assertEqual(m["status"], "200")
                self.assertEqual(m["result"], "CLEAN")
                self.assertEqual(m["action"], "NONE")
                self.assertEqual(m["checks"], "1")  # it was scanned
                self.assertEqual(m["client"], "127.0.0.1")
                self.assertEqual(m["server"], "127.0.0.1")
                self.assertGreaterEqual(int(m["size"]), os.path.getsize(ENV["files"][name]))
                os.unlink(out)

    def test_http10_client(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as s:
            s.sendall(b"GET %s HTTP/1.0\r\nUser-Agent: raw-test\r\n\r\n"
                      % self.url("1k.bin").encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
        self.assertIn(b"Content-Length: 1024", head)
        self.assertIn(b"Connection: close", head)
        with open(ENV["files"]["1k.bin"], "rb") as f:
            self.assertEqual(body, f.read())

    def test_http11_client_and_headers(self):
        status, headers, body = curl(self.gw.proxy, self.url("1k.bin"))
        self.assertEqual(status, 200)
        self.assertEqual(len(body), 1024)
        self.assertEqual(headers.get("content-length"), "1024")

    def test_access_log_line_format(self):
        url = self.url("1k.bin") + "?q=a%20b"
        curl(self.gw.proxy, url, "-H", "X-Forwarded-For: 10.1.2.3, 10.9.9.9")
        m = self.access_line(url)
        self.assertEqual(m["method"], "GET")
        self.assertEqual(m["svc"], "http")
        self.assertEqual(m["files"], "1")
        self.assertEqual(m["user"], "-")
        self.assertEqual(m["ctype"], "application/octet-stream")
        # PROTOCOL-STAT carries the request's X-Forwarded-For, URL-encoded (G-20).
        self.assertEqual(m["p2"], "10.1.2.3%2c+10.9.9.9")
        self.assertEqual(int(m["pid"]) in self.gw.worker_pids(), True)


class TestDetection(GatewayCase):
    section = {"action": "delete", "quarantine": "yes"}

    def check_blocked(self, name):
        status, headers, body = curl(self.gw.proxy, self.url(name))
        self.assertEqual(status, 403, name)
        self.assertIn("text/html", headers.get("content-type", ""))
        page = body.decode("utf-8", "replace")
        m = self.access_line(self.url(name))
        self.assertEqual(m["result"], "INFECTED")
        self.assertEqual(m["action"], "DELETE")
        self.assertEqual(m["status"], "403")
        self.assertTrue(m["name"])
        detect = self.gw.wait_log("detect", re.escape(self.url(name)))
        self.assertIn("DETECT-STAT:INFECTED:", detect[-1])
        self.assertIn(self.url(name), page)  # the detection page names the URL
        return m

    def test_eicar_blocked(self):
        m = self.check_blocked("eicar.com")
        self.assertIn("Eicar", m["name"])

    def test_zipped_eicar_blocked(self):
        self.check_blocked("eicar.zip")

    def test_nested_5_deep_blocked(self):
        self.check_blocked("nested_5.zip")

    def test_quarantine_copy(self):
        m = self.check_blocked("eicar.tar.gz")
        self.assertTrue(m["quarantine"], "quarantine file named in DETECT-STAT")
        path = os.path.join(self.gw.prefix, "tmp/quarantine", m["quarantine"])
        with open(path, "rb") as f:
            self.assertEqual(f.read(), open(ENV["files"]["eicar.tar.gz"], "rb").read())
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)


class TestDetailFlags(GatewayCase):
    def test_encrypted_zip_flag(self):
        status, _, body = curl(self.gw.proxy, self.url("encrypted.zip"))
        self.assertEqual(status, 200)
        self.assertEqual(body, open(ENV["files"]["encrypted.zip"], "rb").read())
        m = self.access_line(self.url("encrypted.zip"))
        self.assertIn("VSD_ENCRYPTED", m["details"].split(","))
        self.assertEqual(m["result"], "CLEAN")

    def test_seven_deep_nesting_flag(self):
        status, _, _ = curl(self.gw.proxy, self.url("nested_7.zip"))
        m = self.access_line(self.url("nested_7.zip"))
        self.assertIn("VSD_MAXNESTED", m["details"].split(","))


class TestActionPassNotifyAdmin(GatewayCase):
    section = {"action": "pass", "notify_admin": "yes"}

    @classmethod
    def setUpClass(cls):
        cls.common = {"admin_mailaddr": "av-admin@example.test, second@example.test",
                      "admin_mx_host": "127.0.0.1",
                      "admin_mx_port": str(ENV["sink"].port),
                      "admin_notification_id": "4242"}
        super().setUpClass()

    def test_infected_file_delivered_logged_and_admin_notified(self):
        status, _, body = curl(self.gw.proxy, self.url("eicar.com"))
        self.assertEqual(status, 200)
        self.assertEqual(body, testfiles.EICAR)
        m = self.access_line(self.url("eicar.com"))
        self.assertEqual(m["result"], "INFECTED")
        self.assertEqual(m["action"], "PASS")
        msgs = harness.wait_for(lambda: [x for x in ENV["sink"].messages()
                                         if "X-Admin-Notification-Id: 4242" in x], 15,
                                what="admin notification in smtp-sink")
        msg = msgs[-1]
        self.assertIn(self.url("eicar.com"), msg)
        self.assertIn("av-admin@example.test", msg)
        self.assertIn("second@example.test", msg)


class TestAclFrom(GatewayCase):
    section = {"acl_from": "yes"}
    hosts_allow = "http_from: 10.0.0.0/255.0.0.0 192.168.\n"

    def test_client_outside_list_refused(self):
        r = subprocess.run(["curl", "-s", "-x", self.gw.proxy, "-o", "/dev/null", "-w",
                            "%{http_code}", "--max-time", "10", self.url("1k.bin")],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.stdout, "000")  # G-15: closed without a banner
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:")
        line = self.gw.wait_log("access", r"TCP_MISS/000 ")[-1]
        self.assertIsNotNone(ACCESS_RX.match(line), line)


class TestAclFromAllowed(GatewayCase):
    section = {"acl_from": "yes"}
    hosts_allow = "http_from: 127.0.0.1\n"

    def test_client_in_list_served(self):
        status, _, body = curl(self.gw.proxy, self.url("1k.bin"))
        self.assertEqual(status, 200)
        self.assertEqual(len(body), 1024)


class TestScannerDown(unittest.TestCase):
    def test_dead_scanner_is_a_temporary_failure(self):
        wd = os.path.join(ENV["wd"].path, "scanner-down")
        os.makedirs(wd, exist_ok=True)
        gw = harness.Gateway(wd, os.path.join(wd, "no-such.sock"))
        try:
            status, _, body = curl(gw.proxy, ENV["nginx"].url("eicar.com"))
            self.assertEqual(status, 503)
            self.assertNotIn(testfiles.EICAR, body)
            gw.wait_log("error", r"Cannot connect to scand's socket")
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
