"""One client cannot take every session (issue 10, item 16): a client
address holds at most max_sessions_per_client sessions of a service, across
its workers; a further connection from it is refused at once with the
protocol's busy reply and an error-log line, while other addresses are
still served. A request head trickled a byte at a time is bounded by
request_timeout (the idle timer alone restarts with every byte)."""
import time
import os
import re
import select
import socket
import subprocess
import unittest

import harness

ENV = {}
# Where Gateway.start()'s readiness probe connects from: not an address
# whose sessions these tests count.
PROBE_SOURCE = "127.0.0.9"


def setUpModule():
    harness.serve_test_files(ENV, "share")
    ENV["sink"] = harness.SmtpSink(ENV["wd"].path)


def tearDownModule():
    if "sink" in ENV:
        ENV["sink"].stop()
    harness.stop_all(ENV)


def hold(port, source="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * harness.SLOW,
                                 source_address=(source, 0))
    return s


def read_all(s):
    data = b""
    s.settimeout(10 * harness.SLOW)
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


class TestHttpShare(unittest.TestCase):
    def test_third_connection_from_one_address_is_refused(self):
        wd = os.path.join(ENV["wd"].path, "http")
        gw = harness.Gateway(wd, ENV["scand"].socket,
                             section={"max_sessions_per_client": "2", "pre_spawn": "10"},
                             probe_source=PROBE_SOURCE)
        held = []
        try:
            # Three idle connections: whichever the gateway accepts last
            # (two workers accept in parallel) is turned away at once,
            # before it sends anything; the other two keep their slots.
            conns = [hold(gw.port) for _ in range(3)]
            ready, _, _ = select.select(conns, [], [], 10 * harness.SLOW)
            self.assertEqual(len(ready), 1, "exactly one connection is refused")
            reply = read_all(ready[0])
            ready[0].close()
            held = [c for c in conns if c is not ready[0]]
            self.assertTrue(reply.startswith(b"HTTP/1.0 503 Service Unavailable\r\n"), reply)
            self.assertTrue(reply.endswith(b"\r\n\r\nToo many connections from your address\r\n"),
                            reply)
            gw.wait_log("error", r"Maximum connections per client: 127\.0\.0\.1 already holds 2 "
                                 r"sessions \(max_sessions_per_client\)")
            # Another address is served.
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                  "--interface", "127.0.0.2", "-x", gw.proxy,
                                  "--max-time", str(20 * harness.SLOW),
                                  ENV["nginx"].url("clean_23k.bin")],
                                 capture_output=True, text=True, timeout=60 * harness.SLOW)
            self.assertEqual(out.stdout, "200")
            # A slot given back is available to the address again.
            held.pop().close()
            out = harness.wait_for(lambda: subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", gw.proxy,
                 "--max-time", str(20 * harness.SLOW), ENV["nginx"].url("clean_23k.bin")],
                capture_output=True, text=True, timeout=60 * harness.SLOW).stdout == "200", 10,
                what="a freed slot")
            self.assertTrue(out)
        finally:
            for s in held:
                s.close()
            gw.stop()


class TestRequestTimeout(unittest.TestCase):
    def trickle(self, gw, seconds):
        """Send a request head one byte every 0.3 s; return what the
        gateway answered (b"" if nothing within the given time)."""
        s = hold(gw.port)
        s.settimeout(0.3)
        head = b"GET " + ENV["nginx"].url("clean_23k.bin").encode() + b" HTTP/1.0\r\nX-Slow: "
        head += b"a" * 400
        got = b""
        deadline = time.monotonic() + seconds * harness.SLOW
        try:
            for c in head:
                if time.monotonic() > deadline:
                    break
                try:
                    s.sendall(bytes([c]))
                except OSError:
                    break
                try:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                except socket.timeout:
                    continue
        finally:
            s.close()
        return got

    def test_trickled_head_gets_408(self):
        wd = os.path.join(ENV["wd"].path, "reqtimeout")
        gw = harness.Gateway(wd, ENV["scand"].socket, section={"request_timeout": "2"})
        try:
            got = self.trickle(gw, 30)
            self.assertTrue(got.startswith(b"HTTP/1.0 408 Request Timeout\r\n"), got[:200])
            self.assertIn(b"not complete within 2 sec (request_timeout)", got)
            gw.wait_log("error", r"Request Timeout: the request head was not complete within "
                                 r"2 sec \(request_timeout\), received=\d+")
        finally:
            gw.stop()

    def test_without_the_limit_the_trickle_goes_on(self):
        wd = os.path.join(ENV["wd"].path, "reqtimeout-off")
        gw = harness.Gateway(wd, ENV["scand"].socket, section={"request_timeout": "0"})
        try:
            # Every byte restarts the 120 s idle timer: after 5 s of
            # trickling nothing has been answered.
            self.assertEqual(self.trickle(gw, 5), b"")
        finally:
            gw.stop()


class TestSmtpCommandTimeout(unittest.TestCase):
    def test_trickled_command_gets_421(self):
        wd = os.path.join(ENV["wd"].path, "smtp-cmdtimeout")
        gw = harness.Gateway(wd, ENV["scand"].socket, service="smtp",
                             section={"request_timeout": "2",
                                      "parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(ENV["sink"].port),
                                      "product_name": "Sekisho/share"})
        try:
            s = hold(gw.port)
            s.settimeout(10 * harness.SLOW)
            self.assertTrue(s.recv(512).startswith(b"220 "))
            s.settimeout(0.3)
            got = b""
            deadline = time.monotonic() + 30 * harness.SLOW
            for c in b"EHLO " + b"x" * 200:
                if time.monotonic() > deadline or b"421" in got:
                    break
                try:
                    s.sendall(bytes([c]))
                    chunk = s.recv(512)
                    if not chunk:
                        break
                    got += chunk
                except socket.timeout:
                    continue
                except OSError:
                    break
            s.close()
            self.assertEqual(got, b"421 Timeout: command line not complete within 2 sec, closing "
                                  b"connection (Sekisho/share)\r\n")
            gw.wait_log("error", r"Timeout: the command line was not complete within 2 sec "
                                 r"\(request_timeout\), received=\d+")
        finally:
            gw.stop()


class TestSmtpShare(unittest.TestCase):
    def test_second_connection_gets_421(self):
        wd = os.path.join(ENV["wd"].path, "smtp")
        gw = harness.Gateway(wd, ENV["scand"].socket, service="smtp",
                             section={"max_sessions_per_client": "1",
                                      "parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(ENV["sink"].port),
                                      "product_name": "Sekisho/share"},
                             probe_source=PROBE_SOURCE)
        first = None
        try:
            first = hold(gw.port)
            first.settimeout(10 * harness.SLOW)
            greeting = first.recv(512)
            # This was once a 421 (CI, ASan stage): start()'s readiness probe
            # from 127.0.0.1 still held the address's one session. The probe
            # now comes from PROBE_SOURCE; if it is ever not a 220 again, say
            # what it was and what the gateway logged.
            self.assertTrue(greeting.startswith(b"220 "),
                            (greeting, gw.log_lines("error")[-5:], gw.log_lines("info")[-5:]))
            second = hold(gw.port)
            reply = read_all(second)
            second.close()
            self.assertEqual(reply,
                             b"421 4.7.0 Too many connections from your address (Sekisho/share)\r\n")
            other = hold(gw.port, source="127.0.0.2")
            other.settimeout(10 * harness.SLOW)
            self.assertTrue(other.recv(512).startswith(b"220 "))
            other.close()
            self.assertTrue([l for l in gw.log_lines("error")
                             if re.search(r"Maximum connections per client: 127\.0\.0\.1", l)])
        finally:
            if first:
                first.close()
            gw.stop()


if __name__ == "__main__":
    unittest.main()
