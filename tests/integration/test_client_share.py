"""One client cannot take every session (issue 10, item 16): a client
address holds at most max_sessions_per_client sessions of a service, across
its workers; a further connection from it is refused at once with the
protocol's busy reply and an error-log line, while other addresses are
still served."""
import os
import re
import socket
import subprocess
import unittest

import harness

ENV = {}


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
                             section={"max_sessions_per_client": "2", "pre_spawn": "10"})
        held = []
        try:
            held = [hold(gw.port), hold(gw.port)]
            harness.wait_for(lambda: gw.proc.alive(), 5)
            # The two idle connections take their slots; the third is turned
            # away at once, before it sends anything.
            third = hold(gw.port)
            reply = read_all(third)
            third.close()
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


class TestSmtpShare(unittest.TestCase):
    def test_second_connection_gets_421(self):
        wd = os.path.join(ENV["wd"].path, "smtp")
        gw = harness.Gateway(wd, ENV["scand"].socket, service="smtp",
                             section={"max_sessions_per_client": "1",
                                      "parent_server_host": "127.0.0.1",
                                      "parent_server_port": str(ENV["sink"].port),
                                      "product_name": "Sekisho/share"})
        first = None
        try:
            first = hold(gw.port)
            first.settimeout(10 * harness.SLOW)
            self.assertTrue(first.recv(512).startswith(b"220 "))
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
