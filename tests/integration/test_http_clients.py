"""Client-side details: HTTP/0.9 requests (HTTP-3), reverse lookup of the
client (reverselookup, ACL-4, LOG-2 client field), IPv6 listening and
upstream (GEN-12 extended, issue 3)."""
import os
import re
import socket
import subprocess
import unittest

import harness
from harness import testfiles

ENV = {}


def setUpModule():
    harness.serve_test_files(ENV, "clients")


def tearDownModule():
    harness.stop_all(ENV)


def gateway(name, hosts_allow="", **section):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    return harness.Gateway(wd, ENV["scand"].socket, section=section, hosts_allow=hosts_allow)


def raw(port, data, host="127.0.0.1", family=socket.AF_INET):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect((host, port))
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class TestHttp09(unittest.TestCase):
    def test_http09_request_gets_the_body_alone(self):
        gw = gateway("h09")
        try:
            out = raw(gw.port, b"GET %s\r\n" % ENV["nginx"].url("clean_23k.bin").encode())
            self.assertEqual(out, open(ENV["files"]["clean_23k.bin"], "rb").read())
            out = raw(gw.port, b"GET %s\r\n" % ENV["nginx"].url("eicar.com").encode())
            self.assertNotIn(b"HTTP/1.0", out)          # no status line
            self.assertIn(b"<html", out.lower())         # the detection page itself
            self.assertNotIn(testfiles.EICAR, out)
        finally:
            gw.stop()


class TestReverseLookup(unittest.TestCase):
    def test_client_name_in_log_and_acl(self):
        # /etc/hosts maps 127.0.0.1 to localhost; c-ares reads it for PTR lookups.
        gw = gateway("rlookup", hosts_allow="http_from: localhost\n", reverselookup="yes",
                     acl_from="yes")
        try:
            r = subprocess.run(["curl", "-s", "-x", gw.proxy, "-o", "/dev/null", "-w",
                                "%{http_code}", ENV["nginx"].url("clean_23k.bin")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.stdout, "200")
            line = gw.wait_log("access", re.escape(ENV["nginx"].url("clean_23k.bin")))[-1]
            self.assertRegex(line, r"^\d+\.\d{3} +\d+ localhost TCP_MISS/200 ")
        finally:
            gw.stop()

    def test_name_patterns_need_reverselookup(self):
        gw = gateway("no-rlookup", hosts_allow="http_from: localhost\n", acl_from="yes")
        try:
            r = subprocess.run(["curl", "-s", "-x", gw.proxy, "-o", "/dev/null", "-w",
                                "%{http_code}", ENV["nginx"].url("clean_23k.bin")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.stdout, "000")  # ACL-4: only address patterns can match
        finally:
            gw.stop()


@unittest.skipUnless(ipv6_loopback(), "no IPv6 loopback")
class TestIpv6(unittest.TestCase):
    def test_listen_on_ipv6_and_fetch_from_ipv6_origin(self):
        port = harness.free_port()
        wd = os.path.join(ENV["wd"].path, "v6")
        os.makedirs(wd, exist_ok=True)
        gw = harness.Gateway(wd, ENV["scand"].socket, section={"svcport": "[::1]:%d" % port},
                             start=False)
        gw.port = port
        argv = [os.path.join(harness.BIN, "sekisho"), "--http", "-f", gw.ini]
        gw.proc = harness.Process(argv, os.path.join(wd, "sekisho-v6.out"))
        try:
            harness.wait_for(lambda: harness.port_open(port, "::1"), 20, what="[::1] listener")
            # An IPv6 origin: nginx on [::1] serving the same files.
            v6port = harness.free_port()
            conf = os.path.join(wd, "nginx6.conf")
            src = open(os.path.join(ENV["wd"].path, "nginx.conf")).read()
            src = re.sub(r"listen 127\.0\.0\.1:\d+;", "listen [::1]:%d;" % v6port, src)
            src = src.replace(os.path.join(ENV["wd"].path, "nginx.pid"), os.path.join(wd, "n6.pid"))
            open(conf, "w").write(src)
            nginx6 = harness.Process(["nginx", "-c", conf], os.path.join(wd, "nginx6.out"))
            try:
                harness.wait_for(lambda: harness.port_open(v6port, "::1"), 10, what="nginx [::1]")
                out = raw(port, b"GET http://[::1]:%d/clean_23k.bin HTTP/1.0\r\n\r\n" % v6port,
                          host="::1", family=socket.AF_INET6)
                head, _, body = out.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
                self.assertEqual(body, open(ENV["files"]["clean_23k.bin"], "rb").read())
                line = gw.wait_log("access", r"http://\[::1\]:%d/clean_23k\.bin" % v6port)[-1]
                self.assertIn(" ::1 TCP_MISS/200 ", line)
                self.assertIn(" DIRECT/::1 ", line)
            finally:
                nginx6.stop()
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
