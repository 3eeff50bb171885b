"""Hostile POP clients and servers (issue 10 applied to spec §7): control
bytes, bare line ends, a byte per segment, slowloris, floods, pipelining,
the error budget, a server that sends more than the client reads, and a
server that speaks garbage. Each test asserts what the client, the server
(harness/pop_proxy.FakePop records every line) and the logs saw."""
import os
import socket
import threading
import time
import unittest

import harness
from harness import mail_fixtures as mf
from harness.pop_proxy import PopCase, PopEnv, RawPop, msgno, stuff

ENV = {}


def setUpModule():
    ENV["env"] = PopEnv("pop-hostile")


def tearDownModule():
    ENV["env"].stop()


def cpu_seconds(pids):
    """utime + stime of the processes, in seconds (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


class HostileCase(PopCase):
    ENV = ENV
    PARENT = "fake"

    def setUp(self):
        self.fake.reset()


class TestControlBytes(HostileCase):
    def test_nul_and_bare_cr_refused_not_relayed(self):
        c = self.client()
        for line in (b"NOOP\x00RETR 1", b"NOOP\rDELE 1", b"USER a\x01b", b"\x7f"):
            self.assertEqual(c.cmd(line), b"-ERR Invalid command line", line)
        self.assertEqual(c.cmd("NOOP"), b"+OK")
        self.assertEqual(self.fake.lines(), [b"NOOP"])
        self.gw.wait_log("info", r"pop: invalid command line refused \(control bytes\)", count=4)

    def test_bare_lf_ends_a_line(self):
        c = self.client()
        c.send(b"NOOP\nSTAT\n")
        self.assertEqual(c.line(), b"+OK")
        self.assertEqual(c.line(), b"+OK 0 0")
        self.assertEqual(self.fake.lines(), [b"NOOP", b"STAT"])


class TestSegmentsAndPipelining(HostileCase):
    PARENT = "a"

    def setUp(self):
        pass

    def test_one_byte_per_segment(self):
        c = self.client()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for b in b"USER alice\r\nPASS alice-pw\r\nRETR %d\r\n" % msgno("dots"):
            c.send(bytes([b]))
            time.sleep(0.002)
        self.assertEqual(c.line(), b"+OK")
        self.assertEqual(c.line(), b"+OK Logged in.")
        self.assertTrue(c.line().startswith(b"+OK"))
        self.assertEqual(c.body(), stuff(mf.FIXTURES["dots"]))

    def test_pipelined_commands_answered_in_order(self):
        c = self.client()
        c.send(b"USER alice\r\nPASS alice-pw\r\nSTAT\r\nLIST\r\nNOOP\r\nRETR %d\r\n"
               b"UIDL 1\r\nQUIT\r\n" % msgno("clean_text"))
        self.assertEqual(c.line(), b"+OK")
        self.assertEqual(c.line(), b"+OK Logged in.")
        self.assertTrue(c.line().startswith(b"+OK 7 "))
        self.assertTrue(c.line().startswith(b"+OK"))
        listing = c.body()
        self.assertEqual(listing.count(b"\r\n"), 8)
        self.assertEqual(c.line(), b"+OK")
        self.assertTrue(c.line().startswith(b"+OK"))
        self.assertEqual(c.body(), stuff(mf.FIXTURES["clean_text"]))
        self.assertTrue(c.line().startswith(b"+OK 1 "))
        self.assertEqual(c.line(), b"+OK Logging out.")
        self.assertEqual(c.wait_closed(), b"")

    def test_noop_flood_in_one_segment(self):
        c = self.client()
        c.login()
        n = 2000
        sender = threading.Thread(target=c.send, args=(b"NOOP\r\n" * n,), daemon=True)
        sender.start()
        for i in range(n):
            self.assertEqual(c.line(), b"+OK", "reply %d" % i)
        sender.join(30)
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 7 "))


class TestErrorBudget(HostileCase):
    def test_100000_invalid_commands_cost_21_replies(self):
        c = self.client()
        workers = self.gw.worker_pids()
        cpu0 = cpu_seconds(workers)

        def flood():
            try:
                c.sock.sendall(b"\x01\r\n" * 100000)
            except OSError:
                pass  # the proxy closed the connection: expected
        sender = threading.Thread(target=flood, daemon=True)
        sender.start()
        got = c.wait_closed(30)
        sender.join(30)
        lines = got.split(b"\r\n")
        self.assertEqual(lines[:20], [b"-ERR Invalid command line"] * 20)
        self.assertEqual(lines[20:], [b"-ERR Too many errors", b""])
        self.assertEqual(self.fake.lines(), [])
        # The work was bounded by the budget, not by the flood's size.
        self.assertLess(cpu_seconds(workers) - cpu0, 5.0 * harness.SLOW)
        c2 = self.client()
        self.assertEqual(c2.cmd("NOOP"), b"+OK")

    def test_user_format_errors_spend_the_budget(self):
        gw = harness.Gateway(os.path.join(self.dir, "self-proxy"), self.env.scand.socket,
                             service="pop", common={"hostname": "gw.test"},
                             section={"self_proxy": "yes"})
        self.addCleanup(gw.stop)
        c = RawPop(gw.port)
        self.addCleanup(c.close)
        for _ in range(20):
            self.assertEqual(c.cmd("USER nobody"),
                             b"-ERR USER format is USER username@hostname or username#hostname")
        self.assertEqual(c.cmd("USER nobody"), b"-ERR Too many errors")
        self.assertEqual(c.wait_closed(), b"")


class TestSlowClients(HostileCase):
    """timeout_inactive: a silent client or server is let go after
    inactive_timeout; a client trickling a line a byte at a time keeps the
    idle timer going but request_timeout bounds the line."""
    SECTION = {"timeout_inactive": "yes", "inactive_timeout": "3", "request_timeout": "2"}

    def test_silent_client_closed(self):
        c = self.client()
        self.assertEqual(c.line(), b"-ERR Timeout, closing connection")
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"pop: no traffic for 3 sec while waiting for a command of "
                                  r"the client: session closed")

    def test_silent_server_closed(self):
        self.fake.reset(STAT=b"")  # never answered
        c = self.client()
        c.send(b"STAT\r\n")
        self.assertEqual(c.line(), b"-ERR Timeout, closing connection")
        self.gw.wait_log("error", r"waiting for a reply of the server: session closed")

    def test_slowloris_bounded_by_request_timeout(self):
        c = self.client()
        stop = threading.Event()

        def trickle():
            for _ in range(200):
                if stop.wait(0.5):
                    return
                try:
                    c.sock.sendall(b"x")
                except OSError:
                    return
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        try:
            c.sock.settimeout(120 * harness.SLOW)
            self.assertEqual(c.line(), b"-ERR Timeout: command line not complete within 2 sec")
            self.assertEqual(c.wait_closed(), b"")
        finally:
            stop.set()
            t.join(5)
        self.gw.wait_log("error", r"Timeout: the command line was not complete within 2 sec "
                                  r"\(request_timeout\)")
        self.assertEqual(self.fake.lines(), [])


class TestServerFlowControl(HostileCase):
    """A server that sends a body far larger than the client reads: the
    proxy stops reading it (bounded buffers), and the client gets it all
    once it reads."""
    BODY = b"".join(b"%d %d\r\n" % (i, i * 7) for i in range(1, 1500001))  # ~ 20 MB

    def test_large_list_while_the_client_does_not_read(self):
        self.fake.reset(LIST=b"+OK many\r\n" + self.BODY + b".\r\n")
        c = self.client()
        workers = self.gw.worker_pids()
        rss0 = rss_kib(workers)
        c.send(b"LIST\r\n")
        time.sleep(2)  # the client does not read: the proxy must not buffer it all
        grown = rss_kib(workers) - rss0
        self.assertLess(grown, 8 * 1024, "the workers grew by %d KiB" % grown)
        self.assertEqual(c.line(), b"+OK many")
        self.assertEqual(c.body(limit=1 << 26), self.BODY + b".\r\n")
        self.assertEqual(c.cmd("NOOP"), b"+OK")


class TestGarbageServer(HostileCase):
    def test_garbage_status_line(self):
        for reply in (b"HELLO there\r\n", b"+OKAY\r\n", b"+OK\x00bad\r\n", b"\r\n"):
            self.fake.reset(NOOP=reply)
            c = self.client()
            self.assertEqual(c.cmd("NOOP"), b"-ERR invalid reply from the server", reply)
            self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"pop: invalid reply from the server \(127\.0\.0\.1:%d\): "
                         % self.fake.port, count=4)

    def test_garbage_greeting(self):
        self.fake.reset(GREETING=b"220 this is SMTP\r\n")
        c = self.client()
        self.assertEqual(c.greeting, b"-ERR invalid reply from the server")
        self.assertEqual(c.wait_closed(), b"")

    def test_endless_status_line(self):
        def endless(conn, line):
            try:
                for _ in range(100):
                    conn.sendall(b"+OK " + b"x" * 8192)
            except OSError:
                pass
            return b""
        self.fake.reset(NOOP=endless)
        c = self.client()
        self.assertEqual(c.cmd("NOOP"), b"-ERR invalid reply from the server")
        self.assertEqual(c.wait_closed(), b"")

    def test_negative_greeting_relayed_and_closed(self):
        self.fake.reset(GREETING=b"-ERR maintenance\r\n")
        c = self.client()
        self.assertEqual(c.greeting, b"-ERR maintenance")
        self.assertEqual(c.wait_closed(), b"")


if __name__ == "__main__":
    unittest.main()
