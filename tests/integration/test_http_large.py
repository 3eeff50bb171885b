"""Large downloads: pass_filesize (SCAN-4, OVER_FILESIZE) and trickle
(HTTP-13, TRICKLE): the client gets bytes before the verdict, never a
complete infected file."""
import os
import re
import socket
import threading
import unittest

import harness
from harness import origin as org
from harness import testfiles

ENV = {}
MB = 1024 * 1024


def setUpModule():
    wd = harness.Workdir("large")
    ENV["wd"] = wd
    www = os.path.join(wd.path, "www")
    os.makedirs(www, exist_ok=True)
    clean = testfiles.clean_bytes(MB)
    with open(os.path.join(www, "clean.bin"), "wb") as f:
        f.write(clean)
    with open(os.path.join(www, "late-eicar.bin"), "wb") as f:
        f.write(testfiles.clean_bytes(200 * 1024) + testfiles.EICAR)
    with open(os.path.join(www, "early-eicar.bin"), "wb") as f:
        f.write(testfiles.EICAR + testfiles.clean_bytes(200 * 1024))
    ENV["clean"] = clean
    ENV["nginx"] = harness.Nginx(www, wd.path)
    ENV["scand"] = harness.Scand(wd.path)
    ENV["origin"] = org.Origin()


def tearDownModule():
    ENV["origin"].stop()
    ENV["scand"].stop()
    ENV["nginx"].stop()
    ENV["wd"].cleanup()


def gateway(name, **section):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    return harness.Gateway(wd, ENV["scand"].socket, section=section)


def get(port, url, timeout=60):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % url.encode())
        data = b""
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def gated(first, rest, gate):
    """An origin answer that sends its head and first bytes, then waits for
    the test to open the gate before sending the rest."""
    def behaviour(conn, req):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: %d\r\n\r\n" % (len(first) + len(rest)) + first)
        gate.wait(60)
        conn.sendall(rest)
    return behaviour


class TestPassFilesize(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gateway("filesize", pass_filesize="yes", pass_filesize_len="100000")

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def line(self, name):
        return self.gw.wait_log("access", re.escape(ENV["nginx"].url(name)))[-1]

    def test_large_clean_file_arrives_and_is_flagged(self):
        head, body = get(self.gw.port, ENV["nginx"].url("clean.bin"))
        self.assertTrue(head.startswith(b"HTTP/1.0 200"))
        self.assertIn(b"Content-Length: %d" % MB, head)
        self.assertEqual(body, ENV["clean"])
        self.assertRegex(self.line("clean.bin"), r":OVER_FILESIZE: PROTOCOL-STAT")

    def test_virus_beyond_the_limit_is_not_scanned(self):
        head, body = get(self.gw.port, ENV["nginx"].url("late-eicar.bin"))
        self.assertTrue(head.startswith(b"HTTP/1.0 200"))
        self.assertTrue(body.endswith(testfiles.EICAR))
        self.assertIn("OVER_FILESIZE", self.line("late-eicar.bin"))

    def test_virus_within_the_limit_is_blocked(self):
        head, _ = get(self.gw.port, ENV["nginx"].url("early-eicar.bin"))
        self.assertTrue(head.startswith(b"HTTP/1.0 403"), head[:40])


class TestTrickle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = gateway("trickle", trickle="1", trickle_rate="1048576", trickle_tail="65536")

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def start(self, path, first, rest):
        gate = threading.Event()
        ENV["origin"].route(path, gated(first, rest, gate))
        sock = socket.create_connection(("127.0.0.1", self.gw.port), timeout=60)
        sock.sendall(b"GET %s HTTP/1.0\r\n\r\n" % ENV["origin"].url(path).encode())
        return sock, gate

    @staticmethod
    def read_until_body(sock, nbytes):
        data = b""
        while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < nbytes:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    @staticmethod
    def read_all(sock, data):
        while True:
            try:
                chunk = sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def test_clean_download_trickles_before_the_body_is_complete(self):
        first = testfiles.clean_bytes(300 * 1024, seed=1)
        rest = testfiles.clean_bytes(300 * 1024, seed=2)
        sock, gate = self.start("/trickle-clean", first, rest)
        try:
            # The origin holds back half the file: bytes reach the client anyway.
            data = self.read_until_body(sock, 1)
            head, _, body = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
            self.assertIn(b"Content-Length: %d" % (len(first) + len(rest)), head)
            self.assertGreater(len(body), 0)
            gate.set()
            data = self.read_all(sock, data)
        finally:
            gate.set()
            sock.close()
        self.assertEqual(data.partition(b"\r\n\r\n")[2], first + rest)
        line = self.gw.wait_log("access", r"/trickle-clean ")[-1]
        self.assertIn("PROTOCOL-STAT:TRICKLE:", line)

    def test_infected_download_is_cut_before_the_virus(self):
        first = testfiles.clean_bytes(300 * 1024, seed=3)
        rest = testfiles.clean_bytes(40 * 1024, seed=4) + testfiles.EICAR
        sock, gate = self.start("/trickle-eicar", first, rest)
        try:
            data = self.read_until_body(sock, 1)
            gate.set()
            data = self.read_all(sock, data)
        finally:
            gate.set()
            sock.close()
        body = data.partition(b"\r\n\r\n")[2]
        self.assertGreater(len(body), 0)  # it was trickling
        self.assertLess(len(body), len(first) + len(rest))  # and was cut
        self.assertNotIn(testfiles.EICAR, body)  # the tail never left
        line = self.gw.wait_log("detect", r"/trickle-eicar ")[-1]
        self.assertIn("DETECT-STAT:INFECTED:", line)
        self.gw.wait_log("info", r"trickle: connection cut after \d+ of \d+ bytes")


if __name__ == "__main__":
    unittest.main()
