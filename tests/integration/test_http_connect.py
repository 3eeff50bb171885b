"""CONNECT tunnels (HTTP-17, SCAN-1: never scanned, never kept alive;
acl_to and connection errors as for other requests)."""
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
    harness.serve_test_files(ENV, "connect")


def tearDownModule():
    harness.stop_all(ENV)


def gateway(name, hosts_allow="", **section):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    # Test services listen on ephemeral ports; the default (443) would
    # refuse every tunnel here (test_http_hostile.py::TestConnectPorts).
    sec = {"keepalive": "yes", "connect_ports": "1024-65535"}
    sec.update(section)
    return harness.Gateway(wd, ENV["scand"].socket, section=sec, hosts_allow=hosts_allow)


def tunnel_fetch(gw, path, early=False):
    """CONNECT to nginx, then a GET inside the tunnel; returns (connect reply, body)."""
    target = b"127.0.0.1:%d" % ENV["nginx"].port
    get = b"GET /%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode()
    with socket.create_connection(("127.0.0.1", gw.port), timeout=30) as s:
        head = b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, target)
        s.sendall(head + get if early else head)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return data, b""
            data += chunk
        reply, _, rest = data.partition(b"\r\n\r\n")
        if not early:
            s.sendall(get)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            rest += chunk
    _, _, body = rest.partition(b"\r\n\r\n")
    return reply, body


class TestConnect(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gateway("tunnel")

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def test_tunnel_relays_bytes_unscanned(self):
        reply, body = tunnel_fetch(self.gw, "eicar.com")
        self.assertEqual(reply, b"HTTP/1.0 200 Connection established")
        self.assertEqual(body, testfiles.EICAR)  # CONNECT is never scanned (SCAN-1)
        target = "127.0.0.1:%d" % ENV["nginx"].port
        line = self.gw.wait_log("access", r" CONNECT %s " % re.escape(target))[-1]
        self.assertIn("TCP_MISS/200 ", line)
        self.assertIn("DETECT-STAT:CLEAN:", line)
        self.assertRegex(line, r"PROXY-STAT:http:\d+:\d+:127\.0\.0\.1:1:0:")  # no scan

    def test_early_data_after_the_connect_head(self):
        reply, body = tunnel_fetch(self.gw, "clean_1m.bin", early=True)
        self.assertEqual(reply, b"HTTP/1.0 200 Connection established")
        self.assertEqual(hashlib.sha256(body).hexdigest(),
                         hashlib.sha256(open(ENV["files"]["clean_1m.bin"], "rb").read()).hexdigest())

    def test_curl_through_the_tunnel(self):
        out = os.path.join(ENV["wd"].path, "tunnel.out")
        r = subprocess.run(["curl", "-s", "-p", "-x", self.gw.proxy, "-o", out, "-w",
                            "%{http_code}", ENV["nginx"].url("clean_1m.bin")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout, "200")
        self.assertEqual(open(out, "rb").read(), open(ENV["files"]["clean_1m.bin"], "rb").read())

    def test_refused_connect_is_503(self):
        port = harness.free_port()
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=30) as s:
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % port)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.0 503"), data[:40])
        self.assertIn(b"CONNECT(127.0.0.1:%d)/connect: Connection refused" % port, data)

    def test_connect_needs_host_and_port(self):
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=30) as s:
            s.sendall(b"CONNECT /path HTTP/1.1\r\n\r\n")
            data = s.recv(65536)
        self.assertTrue(data.startswith(b"HTTP/1.0 400"), data[:40])


class TestConnectAclTo(unittest.TestCase):
    def test_acl_to_applies_to_tunnels(self):
        gw = gateway("tunnel-acl", hosts_allow="http_to: 10.0.0.1\n", acl_to="yes")
        try:
            reply, _ = tunnel_fetch(gw, "clean_23k.bin")
            self.assertTrue(reply.startswith(b"HTTP/1.0 503"), reply[:40])
            gw.wait_log("info", r"Access Denied to \[127\.0\.0\.1:127\.0\.0\.1\]")
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
