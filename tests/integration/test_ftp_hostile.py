"""Hostile FTP clients and servers (issue 10 applied to spec §8), as
test_pop_hostile.py and test_smtp_hostile_dialogue.py are for POP3 and
SMTP: command floods and the error budget, NUL and control bytes, Telnet
commands before a verb (ABOR "urgent"), the 998-byte line limit, a line
that never ends (request_timeout), pipelined commands and one byte per
segment, PORT/EPRT with malformed or hostile addresses, PASV after PASV
without a data connection (no listener leaks: the workers' sockets are
counted in /proc), data connections from elsewhere, a client that writes
into its download, leaves in the middle of a transfer or does not read,
slowloris on the control and the data connections; and servers
(harness.fake_ftp) that drop the data connection after N bytes with 426,
never send the final 226, answer with several lines, garbage or more than
64 KiB, or hang up during a transfer.

Each test asserts what the client got (replies, the bytes of its data
connection), what the server got (vsftpd's protocol and transfer log,
FakeFtp's record), the access record and the logs. Every class also checks
after each test that the proxy is still up with the same workers (no
worker crashed: no "terminated abnormally" in the error log); under
ASan+UBSan (SEKISHO_BUILD=build-san) a sanitizer report fails the class."""
import os
import re
import socket
import subprocess
import threading
import time
import unittest

import harness
from harness import ftp_files
from harness import testfiles
from harness import vsftpd as vs
from harness.fake_ftp import CLOSE, MARK, FakeFtpCase, retr, retr_active, send_file
from harness.ftp_proxy import FtpCase, FtpEnv, RawFtp

ENV = {}
KB = 1024
MB = 1024 * KB
INVALID = "500 Invalid command line"
TIMEOUT = 30 * harness.SLOW


def setUpModule():
    ENV["env"] = FtpEnv("ftp-hostile")


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


def socket_count(pids):
    """Open sockets of the processes (/proc/<pid>/fd)."""
    n = 0
    for pid in pids:
        fds = "/proc/%d/fd" % pid
        for fd in os.listdir(fds):
            try:
                if os.readlink(os.path.join(fds, fd)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
    return n


def vsftpd_sessions(server):
    """vsftpd's session processes (one child of its listener per control
    connection)."""
    out = subprocess.run(["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True,
                         timeout=10).stdout
    return out.split()


def read_all(sock, limit=1 << 31):
    """What a data connection brings until its end (a reset ends it too)."""
    return RawFtp.read_all(sock, limit)[0]


class Sender(threading.Thread):
    """Writes data to a socket from its own thread (the proxy may stop
    reading and close); error is what ended the write, if anything."""

    def __init__(self, sock, data):
        super().__init__(daemon=True)
        self.sock, self.data, self.error = sock, data, None
        self.start()

    def run(self):
        try:
            self.sock.sendall(self.data)
        except OSError as e:
            self.error = e


class Trickle(threading.Thread):
    """Sends data to a socket a chunk at a time, interval seconds apart,
    until it is sent or stop() is called."""

    def __init__(self, sock, data, chunk=1, interval=0.5):
        super().__init__(daemon=True)
        self.sock, self.data, self.chunk, self.interval = sock, data, chunk, interval
        self.stopped = threading.Event()
        self.sent = 0
        self.start()

    def run(self):
        for i in range(0, len(self.data), self.chunk):
            if i and self.stopped.wait(self.interval):
                return
            try:
                self.sock.sendall(self.data[i:i + self.chunk])
            except OSError:
                return
            self.sent += min(self.chunk, len(self.data) - i)

    def stop(self):
        self.stopped.set()
        self.join(5)


class WorkersKept:
    """After each test: the proxy is up with the workers it started with,
    and none of them died (LOG: "terminated abnormally")."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workers = sorted(cls.gw.worker_pids())

    def tearDown(self):
        self.assertTrue(self.gw.proc.alive(), "sekisho exited")
        errors = self.gw.log_text("error")
        self.assertNotIn("terminated abnormally", errors)
        self.assertNotIn("core dumped", errors)
        self.assertEqual(sorted(self.gw.worker_pids()), self.workers)
        super().tearDown()


class VsftpdCase(WorkersKept, FtpCase):
    ENV = ENV


class FakeCase(WorkersKept, FakeFtpCase):
    ENV = ENV
    FILES = {"f.bin": testfiles.clean_bytes(5000, seed=41)}

    def setUp(self):
        self.fake.reset()

    def logged_in(self):
        c = self.client()
        self.assertEqual(c.greeting, ["220 fake FTP server ready"])
        c.login()
        self.fake.reset(**self.script())
        return c

    def script(self):
        return {}


def record(gw, path, server_port, method="GET"):
    """The access record of a transfer of path from/to 127.0.0.1:server_port."""
    return gw.wait_log("access", r" %s %s anonymous " % (method, re.escape(
        "ftp://anonymous@127.0.0.1:%d/%s" % (server_port, path))))[-1]


# ---- the command dialogue -------------------------------------------------------------


class TestErrorBudget(FakeCase):
    """proxy_dialogue's error budget: 20 refused lines, then "421 Too many
    errors" and the end, whatever the flood's size; lines the proxy only
    relays (an unknown verb) are the server's business and cost nothing."""

    def flood(self, c, data):
        workers = self.gw.worker_pids()
        cpu0 = cpu_seconds(workers)
        sender = Sender(c.sock, data)
        got = c.wait_closed(60)
        sender.join(60)
        # The work was bounded by the budget, not by the flood's size.
        self.assertLess(cpu_seconds(workers) - cpu0, 5.0 * harness.SLOW)
        return got.split(b"\r\n")

    def test_100000_invalid_lines_cost_20_replies(self):
        c = self.client()
        lines = self.flood(c, b"\x01\r\n" * 100000)
        self.assertEqual(lines[:20], [INVALID.encode()] * 20)
        self.assertEqual(lines[20:], [b"421 Too many errors", b""])
        self.assertEqual(self.fake.lines(), [])
        c2 = self.client()
        c2.login()
        self.assertEqual(c2.cmd("NOOP"), ["200 NOOP ok."])

    def test_too_long_lines_spend_the_budget(self):
        c = self.client()
        lines = self.flood(c, (b"X" * 2000 + b"\r\n") * 1000)
        self.assertEqual(lines[:20], [b"500 Too long line"] * 20)
        self.assertEqual(lines[20:], [b"421 Too many errors", b""])
        self.assertEqual(self.fake.lines(), [])

    def test_unknown_verbs_are_relayed_and_not_counted(self):
        c = self.logged_in()
        for i in range(30):
            self.assertEqual(c.cmd("XYZZY %d" % i), ["500 Unknown command."])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        self.assertEqual(len(self.fake.lines()), 31)

    def test_user_format_errors_spend_the_budget(self):
        gw = harness.Gateway(os.path.join(self.dir, "self-proxy"), self.env.scand.socket,
                             service="ftp", common={"hostname": "gw.test"},
                             section={"self_proxy": "yes"})
        self.addCleanup(gw.stop)
        c = RawFtp(gw.port)
        self.addCleanup(c.close)
        for _ in range(20):
            self.assertEqual(c.cmd("USER nobody"),
                             ["500 USER format is USER username@hostname or username#hostname"])
        self.assertEqual(c.cmd("USER nobody"), ["421 Too many errors"])
        self.assertEqual(c.wait_closed(), b"")


class TestControlBytes(FakeCase):
    """A line with a control byte (NUL, CR, ESC, DEL...) is refused and
    never relayed (an upstream that ends lines at a bare CR would see two
    commands); a bare LF ends a line; Telnet commands before the verb are
    dropped (RFC 959 4.1.3); 8-bit bytes are data (RFC 2640)."""

    def test_control_bytes_refused_not_relayed(self):
        c = self.logged_in()
        bad = (b"NOOP\x00DELE f.bin", b"\x00", b"NOOP\rDELE f.bin", b"CWD a\x01b", b"\x7f",
               b"\x1b[1mNOOP", b"NO\xffOP", b"\xff\xff NOOP", b"\xff\xf4")
        for line in bad:
            with self.subTest(line=line):
                self.assertEqual(c.cmd(line), [INVALID])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        self.assertEqual(self.fake.lines(), [b"NOOP"])
        self.gw.wait_log("info", r"ftp: invalid command line refused \(control bytes\)",
                         count=len(bad))

    def test_bare_lf_ends_a_line(self):
        c = self.logged_in()
        c.send(b"NOOP\nPWD\n")
        self.assertEqual(c.reply(), ["200 NOOP ok."])
        self.assertEqual(c.reply(), ['257 "/" is the current directory'])
        self.assertEqual(self.fake.lines(), [b"NOOP", b"PWD"])

    def test_telnet_commands_before_the_verb_dropped(self):
        c = self.logged_in()
        for line in (b"\xff\xf4\xff\xf2NOOP", b"\xff\xfb\x01NOOP", b"\xffNOOP", b" \tNOOP"):
            with self.subTest(line=line):
                self.assertEqual(c.cmd(line), ["200 NOOP ok."])
        self.assertEqual(self.fake.lines(), [b"NOOP"] * 4)

    def test_eight_bit_bytes_relayed(self):
        c = self.logged_in()
        name = "\u65e5\u672c".encode("utf-8")
        self.assertEqual(c.cmd(b"CWD " + name), ["250 Directory successfully changed."])
        self.assertEqual(self.fake.lines(), [b"CWD " + name])


class TestLineLength(FakeCase):
    """FTP-3: 998 bytes is a line; 999 is "500 Too long line", never
    relayed, the rest of the line dropped, and the session goes on."""

    def test_998_relayed_999_refused(self):
        c = self.logged_in()
        line998 = b"SITE " + b"x" * 993
        self.assertEqual(len(line998), 998)
        self.assertEqual(c.cmd(line998), ["500 Unknown command."])
        self.assertEqual(c.cmd(line998 + b"y"), ["500 Too long line"])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        self.assertEqual(self.fake.lines(), [line998, b"NOOP"])

    def test_100k_line_costs_one_reply(self):
        c = self.logged_in()
        sender = Sender(c.sock, b"NOOP " + b"z" * (100 * KB) + b"\r\nPWD\r\n")
        self.assertEqual(c.reply(), ["500 Too long line"])
        self.assertEqual(c.reply(), ['257 "/" is the current directory'])
        sender.join(30)
        self.assertEqual(self.fake.lines(), [b"PWD"])


class TestSlowLines(FakeCase):
    """request_timeout=2 bounds a command line from its first byte: a line
    that never ends, trickled a byte at a time (each byte restarting the
    idle timer), ends the session."""
    SECTION = {"request_timeout": "2"}

    def trickled(self, c, head):
        """The replies after head and then a byte every 0.3 s (for up to
        a minute, or until the proxy ends the session)."""
        c.send(head)
        t = Trickle(c.sock, b"x" * 200, interval=0.3)
        replies = []
        try:
            c.sock.settimeout(15 * harness.SLOW)
            for _ in range(2):
                replies.append(c.reply())
        except socket.timeout:
            replies.append(["(nothing while the client trickled for %d s more)"
                            % (15 * harness.SLOW)])
        finally:
            t.stop()
        return replies + [None] * (2 - len(replies))

    def test_line_that_never_ends(self):
        c = self.logged_in()
        first, second = self.trickled(c, b"NOOP")
        self.assertEqual(first, ["421 Timeout: command line not complete within 2 sec"])
        self.assertEqual(second, [])  # closed
        self.gw.wait_log("error", r"Timeout: the command line was not complete within 2 sec "
                                  r"\(request_timeout\)")
        self.assertEqual(self.fake.lines(), [])

    def test_too_long_line_that_never_ends(self):
        # The part of a line beyond 998 bytes is dropped as it comes; it is
        # still an incomplete command line, and request_timeout must end
        # it as any other, or a client keeps its session for ever by
        # trickling bytes after the first 999.
        c = self.logged_in()
        first, second = self.trickled(c, b"N" * 999)
        self.assertEqual(first, ["500 Too long line"])
        self.assertEqual(second, ["421 Timeout: command line not complete within 2 sec"])
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.fake.lines(), [])


class TestPipelining(VsftpdCase):
    """Commands sent together are answered in order, one at a time; one
    byte per segment makes no difference."""

    def test_session_in_one_segment(self):
        c = self.client()
        c.send(b"USER anonymous\r\nPASS pipe@example.com\r\nTYPE I\r\nPWD\r\nSYST\r\n"
               b"SIZE clean_1k.bin\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual([c.reply() for _ in range(8)], [
            ["331 Please specify the password."], ["230 Login successful."],
            ["200 Switching to Binary mode."], ['257 "/" is the current directory'],
            ["215 UNIX Type: L8"], ["213 1024"], ["200 NOOP ok."], ["221 Goodbye."]])
        self.assertEqual(c.wait_closed(), b"")
        self.assertIn("pipe@example.com", self.env.a4.logins())

    def test_transfer_with_commands_behind_it(self):
        c = self.client()
        c.login()
        d = c.connect_data(c.pasv())
        c.send(b"RETR clean_1k.bin\r\nNOOP\r\nSIZE clean_1k.bin\r\n")
        self.assertTrue(c.reply()[-1].startswith("150 "))
        self.assertEqual(read_all(d), ftp_files.content("clean_1k.bin"))
        d.close()
        self.assertEqual([c.reply() for _ in range(3)],
                         [["226 Transfer complete."], ["200 NOOP ok."], ["213 1024"]])

    def test_noops_beyond_the_input_buffer(self):
        c = self.client()
        c.login()
        n = 3000  # 18 KB: more than the proxy reads at once
        sender = Sender(c.sock, b"NOOP\r\n" * n)
        for i in range(n):
            self.assertEqual(c.reply(), ["200 NOOP ok."], "reply %d" % i)
        sender.join(30)
        self.assertEqual(c.cmd("SIZE clean_1k.bin"), ["213 1024"])

    def test_one_byte_per_segment(self):
        c = self.client()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def bytewise(data):
            for i in range(len(data)):
                c.sock.sendall(data[i:i + 1])
        for line, want in ((b"USER anonymous\r\n", "331 "), (b"PASS b@example.com\r\n", "230 "),
                           (b"PASV\r\n", "227 ")):
            bytewise(line)
            reply = c.reply()
            self.assertTrue(reply[-1].startswith(want), reply)
        nums = reply[-1].split("(", 1)[1].split(")", 1)[0].split(",")
        d = c.connect_data((".".join(nums[:4]), int(nums[4]) * 256 + int(nums[5])))
        bytewise(b"RETR clean_1k.bin\r\n")
        self.assertTrue(c.reply()[-1].startswith("150 "))
        self.assertEqual(read_all(d), ftp_files.content("clean_1k.bin"))
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])


# ---- data addresses ---------------------------------------------------------------------------


class TestPortArguments(VsftpdCase):
    """FTP-7, RFC 2577: the proxy connects to what PORT/EPRT name, so only
    the client's own address and a port from 1024 pass; anything another
    parser could read differently (leading zeros: octal for inet_aton,
    blanks, trailing bytes, port 0) is a syntax error. vsftpd hears a PORT
    (the proxy's own address) only for the accepted ones."""

    ILLEGAL = "500 Illegal %s command."
    SYNTAX = "501 Syntax error in %s argument."
    OK = "200 PORT command successful. Consider using PASV."
    PORT = [
        ("127,0,0,1,200,10", OK),
        ("127,0,0,1,4,0", OK),  # port 1024
        ("127,0,0,01,200,10", SYNTAX),  # leading zero
        ("0177,0,0,1,200,10", SYNTAX),  # octal 127
        ("0x7f,0,0,1,200,10", SYNTAX),
        ("127,0,0,1,04,0", SYNTAX),
        ("127, 0,0,1,200,10", SYNTAX),
        ("127,0,0,1,200,10,1", SYNTAX),
        ("127,0,0,1,200", SYNTAX),
        ("127,0,0,1,256,0", SYNTAX),
        ("127,0,0,1,200,-1", SYNTAX),
        ("127,0,0,1,4,99999999999999999999", SYNTAX),
        ("127,0,0,1,0,0", SYNTAX),  # port 0
        ("", SYNTAX),
        ("127,0,0,1,3,255", ILLEGAL),  # port 1023
        ("127,0,0,1,0,21", ILLEGAL),
        ("127,0,0,2,200,10", ILLEGAL),  # a third party on the same host
        ("10,0,0,1,200,10", ILLEGAL),
        ("0,0,0,0,200,10", ILLEGAL),
        ("255,255,255,255,200,10", ILLEGAL),
    ]
    EPRT = [
        ("|1|127.0.0.1|51000|", OK),
        ("!1!127.0.0.1!51000!", OK),  # any delimiter (RFC 2428)
        ("|1|127.0.0.01|51000|", SYNTAX),
        ("|1|0177.0.0.1|51000|", SYNTAX),
        ("|1|127.0.0.1|051000|", SYNTAX),
        ("|1|127.0.0.1|0|", SYNTAX),
        ("|1|127.0.0.1|65536|", SYNTAX),
        ("|1|127.0.0.1|51000", SYNTAX),
        ("|1|127.0.0.1|51000||", SYNTAX),
        ("|3|127.0.0.1|51000|", SYNTAX),
        ("|1|127.1|51000|", SYNTAX),
        ("|2|::1%lo|51000|", SYNTAX),  # a zone
        ("|2|fe80::1%1|51000|", SYNTAX),
        ("||||", SYNTAX),
        ("|1|127.0.0.1|1023|", ILLEGAL),
        ("|1|127.0.0.2|51000|", ILLEGAL),
        ("|2|::1|51000|", "522 Network protocol not supported, use (1)"),
        ("|2|::ffff:127.0.0.1|51000|", "522 Network protocol not supported, use (1)"),
    ]

    def run_table(self, verb, table):
        c = self.client()
        c.login()
        before = len(self.env.a4.commands())
        accepted = 0
        for arg, want in table:
            want = want % verb if "%s" in want else want
            with self.subTest(arg=arg):
                self.assertEqual(c.cmd("%s %s" % (verb, arg)), [want])
            accepted += want == self.OK
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        sent = [x for x in self.env.a4.commands()[before:] if x.split(" ")[0] in ("PORT", "EPRT")]
        self.assertEqual(len(sent), accepted, sent)
        return c

    def test_port(self):
        self.run_table("PORT", self.PORT)
        self.gw.wait_log("info", r"ftp: PORT to \[127,0,0,2,200,10\] refused: a data address must "
                                 r"be the client's own, with a port from 1024")

    def test_eprt(self):
        self.run_table("EPRT", self.EPRT)
        self.gw.wait_log("info", r"ftp: EPRT to \[\|1\|127\.0\.0\.1\|1023\|\] refused")

    def test_active_transfer_after_refusals(self):
        c = self.run_table("PORT", self.PORT[2:])
        ls, port_arg, _ = c.listen_data()
        self.addCleanup(ls.close)
        self.assertEqual(c.cmd("PORT " + port_arg), [self.OK])
        self.assertTrue(c.cmd("RETR clean_1k.bin")[-1].startswith("150 "))
        d, peer = ls.accept()
        self.assertEqual(peer[0], "127.0.0.1")
        self.assertEqual(read_all(d), ftp_files.content("clean_1k.bin"))
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])


@unittest.skipUnless(vs.ipv6_loopback(), "no ::1 here")
class TestEprtArgumentsIpv6(VsftpdCase):
    """The same from a client on ::1 (the server on 127.0.0.1): zones,
    another IPv6 host, an IPv4-mapped address and IPv4 are refused."""
    LISTEN = "::1"
    OK = "200 PORT command successful. Consider using PASV."

    def test_eprt(self):
        c = self.client()
        c.login()
        for arg, want in (("|2|::1|51000|", self.OK),
                          ("|2|0:0:0:0:0:0:0:1|51000|", self.OK),
                          ("|2|::1%lo|51000|", "501 Syntax error in EPRT argument."),
                          ("|2|::1%1|51000|", "501 Syntax error in EPRT argument."),
                          ("|2|[::1]|51000|", "501 Syntax error in EPRT argument."),
                          ("|2|::1|0|", "501 Syntax error in EPRT argument."),
                          ("|2|::2|51000|", "500 Illegal EPRT command."),
                          ("|2|::ffff:127.0.0.1|51000|", "500 Illegal EPRT command."),
                          ("|2|::1|1023|", "500 Illegal EPRT command."),
                          ("|1|127.0.0.1|51000|", "522 Network protocol not supported, use (2)")):
            with self.subTest(arg=arg):
                self.assertEqual(c.cmd("EPRT " + arg), [want])
        self.assertEqual(c.cmd("PORT 127,0,0,1,200,10"),
                         ["522 Network protocol not supported, use (2)"])


class TestPassiveListeners(VsftpdCase):
    """Every PASV/EPSV/PORT replaces the data connection the previous one
    set up: hundreds of them without a transfer leave no listener behind
    (the workers' sockets, /proc), and a data connection from another
    address is refused (FTP-8.2)."""

    def sockets(self):
        return socket_count(self.gw.worker_pids())

    def repeated(self, command):
        harness.wait_for(lambda: not vsftpd_sessions(self.env.a4), 10,
                         what="no vsftpd session left from earlier tests")
        idle = harness.wait_for(lambda: self.sockets() or None, 10, what="sockets")
        c = self.client()
        c.login()
        session = self.sockets()  # + client and server connections
        for _ in range(200):
            command(c)
        self.assertLessEqual(self.sockets(), session + 1)  # the last one's listener
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])
        c.close()
        harness.wait_for(lambda: self.sockets() == idle, 10,
                         what="the workers back to %d sockets" % idle)

    def test_many_pasv_without_connecting(self):
        self.repeated(lambda c: c.pasv())

    def test_many_epsv_without_connecting(self):
        self.repeated(lambda c: c.epsv())

    def test_many_port_without_transfer(self):
        def port(c):
            ls, arg, _ = c.listen_data()
            ls.close()
            self.assertTrue(c.cmd("PORT " + arg)[-1].startswith("200 "))
        self.repeated(port)

    def test_pasv_with_data_connections_but_no_transfer(self):
        def pasv_connect(c):
            self.addCleanup(c.connect_data(c.pasv()).close)
        self.repeated(pasv_connect)

    def test_data_connection_from_another_address(self):
        c = self.client()
        c.login()
        before = len(self.env.a4.commands())
        addr = c.pasv()
        thief = c.connect_data(addr, source="127.0.0.2")
        self.addCleanup(thief.close)
        self.assertEqual(read_all(thief), b"")  # closed at once
        self.assertEqual(c.cmd("RETR clean_1k.bin"), ["530 Invalid Connection Source."])
        self.assertNotIn("RETR clean_1k.bin", self.env.a4.commands()[before:])
        self.gw.wait_log("info", r"ftp: data connection from \[127\.0\.0\.2:\d+\] refused: only "
                                 r"\[127\.0\.0\.1\] may connect there")
        # the next PASV works
        first, final, data = retr(c, "clean_1k.bin")
        self.assertEqual((final, data), (["226 Transfer complete."],
                                         ftp_files.content("clean_1k.bin")))

    def test_second_data_connection_refused(self):
        c = self.client()
        c.login()
        addr = c.pasv()
        d = c.connect_data(addr)
        self.addCleanup(d.close)
        # The one connection is taken; its listener is gone.
        harness.wait_for(lambda: not harness.port_open(addr[1]), 10, what="the listener closed")
        self.assertTrue(c.cmd("RETR clean_1k.bin")[-1].startswith("150 "))
        self.assertEqual(read_all(d), ftp_files.content("clean_1k.bin"))
        self.assertEqual(c.reply(), ["226 Transfer complete."])


# ---- data connections -------------------------------------------------------------------------


def upload_then_leave(case, name, data):
    """The VsftpdCase test case uploads name and leaves (its control
    connection closes) while its data connection is still open; the record
    and vsftpd's session are checked. (vsftpd's transfer lines for it, the
    file's bytes on the server or None)."""
    harness.wait_for(lambda: not vsftpd_sessions(case.env.a4), 10,
                     what="no vsftpd session left from earlier tests")
    c = case.client()
    c.login()
    d = c.connect_data(c.pasv())
    case.addCleanup(d.close)
    case.assertTrue(c.cmd("STOR incoming/" + name)[-1].startswith("150 "))
    d.sendall(data)
    case.assertEqual(len(vsftpd_sessions(case.env.a4)), 1)
    c.close()
    line = record(case.gw, "incoming/" + name, case.env.a4.port, "PUT")
    case.assertIn(" TCP_MISS/500 ", line)
    case.assertIn(" PROXY-ERROR:CLIENT/connection+closed+during+transfer:", line)
    case.gw.wait_log("info", r"ftp: the client left during a transfer")
    # vsftpd's session ends with the proxy's.
    harness.wait_for(lambda: not vsftpd_sessions(case.env.a4), 10,
                     what="vsftpd's session to end")
    path = os.path.join(case.env.upload_path, name)
    got = None
    if os.path.exists(path):
        with open(path, "rb") as f:
            got = f.read()
    return [t for t in case.env.a4.transfers() if t[1] == "/incoming/" + name], got


class TestDataConnectionAbuse(VsftpdCase):
    """What a client does on its data connection cannot corrupt a transfer,
    the record, or the server's session."""

    def test_client_writes_into_its_download(self):
        c = self.client()
        c.login()
        d = c.connect_data(c.pasv())
        sender = Sender(d, b"junk" * (16 * KB))
        self.assertTrue(c.cmd("RETR clean_1k.bin")[-1].startswith("150 "))
        self.assertEqual(read_all(d), ftp_files.content("clean_1k.bin"))
        d.close()
        sender.join(10)
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])

    def test_client_leaves_during_scanned_upload(self):
        transfers, got = upload_then_leave(self, "left.bin", testfiles.clean_bytes(3000, seed=42))
        self.assertIn(got, (None, b""))  # no byte of it reached the server
        self.assertNotIn("OK UPLOAD", [t[0] for t in transfers])

    def test_client_resets_its_upload(self):
        c = self.client()
        c.login()
        d = c.connect_data(c.pasv())
        self.assertTrue(c.cmd("STOR incoming/reset.bin")[-1].startswith("150 "))
        d.sendall(testfiles.clean_bytes(3000, seed=43))
        d.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        d.close()
        self.assertEqual(c.reply(), ["426 Connection closed; transfer aborted."])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        self.assertIn(" PROXY-ERROR:CLIENT/data+connection+reset:",
                      record(self.gw, "incoming/reset.bin", self.env.a4.port, "PUT"))
        path = os.path.join(self.env.upload_path, "reset.bin")
        self.assertIn(open(path, "rb").read() if os.path.exists(path) else None, (None, b""))

    def test_upload_in_progress_does_not_hold_up_others(self):
        c = self.client()
        c.login()
        d = c.connect_data(c.pasv())
        self.addCleanup(d.close)
        self.assertTrue(c.cmd("STOR incoming/slow.bin")[-1].startswith("150 "))
        data = testfiles.clean_bytes(400, seed=44)
        d.sendall(data[:200])  # and the upload stays open meanwhile
        # Sessions on both workers are served meanwhile.
        for _ in range(4):
            other = self.client()
            other.login()
            first, final, got = retr(other, "clean_1k.bin")
            self.assertEqual((final, got), (["226 Transfer complete."],
                                            ftp_files.content("clean_1k.bin")))
            other.cmd("QUIT")
        d.sendall(data[200:])
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        with open(os.path.join(self.env.upload_path, "slow.bin"), "rb") as f:
            self.assertEqual(f.read(), data)


class TestUnscannedUploadLeft(VsftpdCase):
    """virus_check=no: an upload is spliced to the server as it comes. A
    client that leaves before its data connection ended did not finish
    the file: the server must not be told it did (a plain close of its
    data connection is the end of the file in stream mode)."""
    SECTION = {"virus_check": "no"}

    def test_client_leaves_during_spliced_upload(self):
        transfers, got = upload_then_leave(
            self, "spliced-left.bin", testfiles.clean_bytes(3000, seed=45))
        self.assertNotIn("OK UPLOAD", [t[0] for t in transfers],
                         "vsftpd stored the cut upload as complete: %r (%d bytes)"
                         % (transfers, len(got or b"")))


class TestDataSlowloris(FakeCase):
    """timeout_inactive=yes, inactive_timeout=3: a transfer on which no
    byte moves ends after 3 s, whoever stalls it; nothing is delivered as
    if complete, and the record says why."""
    SECTION = {"timeout_inactive": "yes", "inactive_timeout": "3"}
    BIG = testfiles.clean_bytes(4 * MB, seed=46)

    def setUp(self):
        super().setUp()
        self.gate = threading.Event()
        self.addCleanup(self.gate.set)

    def ended(self, c, waits_for):
        self.assertEqual(c.wait_closed(30), b"")
        self.gw.wait_log("error", r"ftp: no traffic for 3 sec while waiting for %s: session "
                                  r"closed" % waits_for)
        line = record(self.gw, "f.bin", self.fake.port)
        self.assertIn(" TCP_MISS/500 ", line)
        self.assertIn(" PROXY-ERROR:PROXY/inactive+timeout:", line)
        harness.wait_for(lambda: self.fake.connected() == 0, 10,
                         what="the server's control connection closed")

    def test_server_never_sends_226(self):
        def hang(sess, line):
            send_file(self.FILES["f.bin"], final=None)(sess, line)
            self.gate.wait(120)
            return CLOSE
        c = self.logged_in()
        self.fake.reset(RETR=hang)
        d = c.connect_data(c.pasv())
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("RETR f.bin"), [MARK.decode().strip()])
        self.ended(c, "the transfer")
        self.assertEqual(read_all(d), b"")

    def test_client_never_connects_its_data_connection(self):
        c = self.logged_in()
        c.pasv()
        c.send(b"RETR f.bin\r\n")
        self.ended(c, "the client's data connection")
        self.assertNotIn(b"RETR f.bin", self.fake.lines())  # FTP-8.2: the client first

    def test_client_never_reads_its_download(self):
        c = self.logged_in()
        self.fake.reset(RETR=send_file(self.BIG))
        d = socket.socket()
        d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        d.settimeout(TIMEOUT)
        self.addCleanup(d.close)
        d.connect(c.pasv())
        self.assertEqual(c.cmd("RETR f.bin"), [MARK.decode().strip()])
        self.ended(c, "the client to take the file")

    def test_upload_that_stops(self):
        c = self.logged_in()
        d = c.connect_data(c.pasv())
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("STOR f.bin"), [MARK.decode().strip()])
        d.sendall(b"x" * 100)  # and then nothing, the data connection open
        self.assertEqual(c.wait_closed(30), b"")
        self.assertIn(" PROXY-ERROR:PROXY/inactive+timeout:",
                      record(self.gw, "f.bin", self.fake.port, "PUT"))
        harness.wait_for(lambda: self.fake.connected() == 0, 10,
                         what="the server's control connection closed")
        self.assertEqual([u[1] for u in self.fake.uploads()], [b""] * len(self.fake.uploads()))


# ---- ABOR ----------------------------------------------------------------------------------


class TestUrgentAbort(FakeCase):
    """ABOR during a transfer the server trickles (3 s): "426 Transfer
    aborted." and "226 Abort successful", none of the bytes, the server
    told ABOR, the session goes on. The forms clients use: RFC 959's IAC
    IP, IAC DM (the DM urgent, so out of band for a receiver without
    SO_OOBINLINE) then ABOR; the same inline; and Python's ftplib, which
    sends the whole "ABOR\\r\\n" with MSG_OOB (its last byte, the LF, is
    the urgent one)."""
    DATA = testfiles.clean_bytes(3 * KB, seed=47)

    def script(self):
        return {"RETR": send_file(self.DATA, chunk=KB, delay=1.5)}

    def aborted(self, send_abor):
        c = self.logged_in()
        d = c.connect_data(c.pasv())
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("RETR f.bin"), [MARK.decode().strip()])
        send_abor(c)
        self.assertEqual(c.reply(), ["426 Transfer aborted."])
        self.assertEqual(c.reply(), ["226 Abort successful"])
        self.assertEqual(read_all(d), b"")
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        self.assertIn(b"ABOR", self.fake.lines())
        self.assertIn(" PROXY-ERROR:CLIENT/ABOR:", record(self.gw, "f.bin", self.fake.port))

    def test_iac_ip_iac_dm_urgent(self):
        def send(c):
            c.send(b"\xff\xf4\xff")
            c.sock.send(b"\xf2", socket.MSG_OOB)
            c.send(b"ABOR\r\n")
        self.aborted(send)

    def test_iac_ip_iac_dm_inline(self):
        self.aborted(lambda c: c.send(b"\xff\xf4\xff\xf2ABOR\r\n"))

    def test_plain_abor(self):
        self.aborted(lambda c: c.send(b"ABOR\r\n"))

    def test_abor_line_sent_urgent_as_ftplib_does(self):
        # vsftpd reads the urgent byte inline (SO_OOBINLINE) and takes the
        # line; a proxy that drops it never sees the line end.
        self.aborted(lambda c: c.sock.send(b"ABOR\r\n", socket.MSG_OOB))


# ---- hostile servers ------------------------------------------------------------------------


class TestHostileServer(FakeCase):
    """A server that breaks the transfer or the reply syntax: the client
    never gets a partial file as a complete one, and a reply the proxy
    cannot parse ends the session with "421 invalid reply from the
    server" (and an error line) instead of being passed on."""
    BIG = testfiles.clean_bytes(200 * KB, seed=48)
    BAD = "421 invalid reply from the server"

    def transfer(self, script, name="f.bin", how=retr):
        c = self.logged_in()
        self.fake.reset(**script)
        first, final, data = how(c, name)
        return c, first, final, data

    def test_data_cut_after_n_bytes_with_426(self):
        # passive and active (the server connects to the proxy), the data
        # connection closed or reset after 5000 bytes
        cases = [(how, reset) for how in (retr, retr_active) for reset in (False, True)]
        for how, reset in cases:
            with self.subTest(mode=how.__name__, reset=reset):
                c, first, final, data = self.transfer({"RETR": send_file(
                    self.BIG, cut_after=5000, reset=reset,
                    final=b"426 Failure writing network stream.\r\n")}, how=how)
                self.assertEqual(first, [MARK.decode().strip()])
                self.assertEqual(final, ["426 Failure writing network stream."])
                self.assertEqual(data, b"")  # NONE of the bytes
                self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        lines = self.gw.wait_log("access", r" GET ftp://anonymous@127\.0\.0\.1:%d/f\.bin "
                                 % self.fake.port, count=len(cases))
        for line in lines[-len(cases):]:
            self.assertIn(" TCP_MISS/500 0 GET ", line)
            self.assertIn(" PROXY-ERROR:SERVER/transfer+failed:", line)

    def test_server_never_sends_226_client_aborts(self):
        sent = threading.Event()

        def no_final(sess, line):
            send_file(self.BIG, final=None)(sess, line)
            sent.set()
            return b""
        c = self.logged_in()
        self.fake.reset(RETR=no_final)
        d = c.connect_data(c.pasv())
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("RETR f.bin"), [MARK.decode().strip()])
        # The file went out whole but the server never says so: the proxy
        # waits for its word; the client's way out is ABOR.
        self.assertTrue(sent.wait(TIMEOUT))
        c.send(b"ABOR\r\n")
        self.assertEqual(c.reply(), ["426 Transfer aborted."])
        self.assertEqual(c.reply(), ["226 Abort successful"])
        self.assertEqual(read_all(d), b"")
        self.assertEqual(c.cmd("PWD"), ['257 "/" is the current directory'])
        self.assertEqual(self.fake.lines()[-3:], [b"ABOR", b"NOOP", b"PWD"])

    def test_multiline_replies(self):
        self.fake.reset(GREETING=b"220-fake FTP server\r\n220-second line\r\n220 ready\r\n")
        c = self.client()
        self.assertEqual(c.greeting, ["220-fake FTP server", "220-second line", "220 ready"])
        c.login()

        def pasv(sess, line):
            one = sess.passive()
            return b"227-Entering Passive Mode.\r\n" + one
        self.fake.reset(
            STAT=b"211-status of fake\r\n connected\r\n211 End of status\r\n",
            PASV=pasv,
            RETR=send_file(b"multi", mark=b"150-Opening\r\n150 BINARY mode\r\n",
                           final=b"226-Transfer complete\r\n226-for f.bin\r\n226 Done\r\n"))
        self.assertEqual(c.cmd("STAT"), ["211-status of fake", " connected",
                                         "211 End of status"])
        first, final, data = retr(c, "f.bin")
        self.assertEqual(first, ["150-Opening", "150 BINARY mode"])
        self.assertEqual((final, data), (["226-Transfer complete", "226-for f.bin", "226 Done"],
                                         b"multi"))
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])

    def test_garbage_replies(self):
        garbage = (b"HELLO there\r\n", b"2000 x\r\n", b"20 x\r\n", b"600 bad code\r\n",
                   b"099 too low\r\n", b"\r\n", b"200\x00x\r\n", b"2OO x\r\n")
        for reply in garbage:
            with self.subTest(reply=reply):
                c = self.logged_in()
                self.fake.reset(NOOP=reply)
                self.assertEqual(c.cmd("NOOP"), [self.BAD])
                self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"ftp: invalid reply from the server \(127\.0\.0\.1:%d\): "
                         % self.fake.port, count=len(garbage))

    def test_garbage_instead_of_226(self):
        c, first, final, data = self.transfer({"RETR": send_file(self.BIG,
                                                                 final=b"SURPRISE\r\n")})
        self.assertEqual(final, [self.BAD])
        self.assertEqual(data, b"")
        self.assertEqual(c.wait_closed(), b"")
        self.assertIn(" PROXY-ERROR:SERVER/invalid+reply:",
                      record(self.gw, "f.bin", self.fake.port))

    def test_garbage_greeting(self):
        self.fake.reset(GREETING=b"+OK this is POP3\r\n")
        c = self.client()
        self.assertEqual(c.greeting, [self.BAD])
        self.assertEqual(c.wait_closed(), b"")

    def test_relayed_reply_over_64k_arrives_whole(self):
        body = b"".join(b"214-help line %04d %s\r\n" % (i, b"h" * 100) for i in range(900))
        body += b"214 end of help\r\n"
        self.assertGreater(len(body), 64 * KB)
        c = self.logged_in()
        self.fake.reset(HELP=body)
        got = c.cmd("HELP")
        self.assertEqual("".join(ln + "\r\n" for ln in got).encode(), body)
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])

    def test_held_reply_over_64k_refused(self):
        # The proxy edits FEAT and parses 227, so it holds them whole;
        # one over its 64 KiB buffer is refused, not cut.
        body = b"".join(b"211-feature %04d %s\r\n" % (i, b"f" * 100) for i in range(900))
        body += b"211 End\r\n"
        for verb in ("FEAT", "PASV"):
            with self.subTest(verb=verb):
                c = self.logged_in()
                self.fake.reset(**{verb: body.replace(b"211", b"227" if verb == "PASV"
                                                      else b"211")})
                self.assertEqual(c.cmd(verb), [self.BAD])
                self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"ftp: a reply of the server \(127\.0\.0\.1:%d\) is over 65536 "
                                  r"bytes" % self.fake.port, count=2)

    def test_reply_line_over_998_bytes(self):
        c = self.logged_in()
        self.fake.reset(NOOP=b"200 " + b"n" * 2000 + b"\r\n")
        self.assertEqual(c.cmd("NOOP"), [self.BAD])
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"ftp: invalid reply from the server \(127\.0\.0\.1:%d\): "
                                  r"TOO_LONG" % self.fake.port)

    def test_reply_line_over_998_bytes_in_pieces(self):
        # The same line arriving in two segments: what the proxy relayed of
        # it before seeing it is too long must not become, with the 421
        # glued to it, a "200" reply for the client.
        def noop(sess, line):
            sess.send(b"200 " + b"n" * 600)
            time.sleep(0.3)
            sess.send(b"n" * 600 + b"\r\n")
            return b""
        c = self.logged_in()
        self.fake.reset(NOOP=noop)
        c.send(b"NOOP\r\n")
        got = c.wait_closed(30).decode("latin-1").split("\r\n")
        self.assertNotIn("200", [ln[:3] for ln in got], got)
        self.assertIn(self.BAD, got)

    def test_server_hangs_up_during_transfer(self):
        def hang_up(sess, line):
            sess.send(MARK)
            return CLOSE
        c, first, final, data = self.transfer({"RETR": hang_up})
        self.assertEqual(first, [MARK.decode().strip()])
        self.assertEqual(final, ["421 disconnected from (127.0.0.1:%d)" % self.fake.port])
        self.assertEqual(c.wait_closed(), b"")
        self.assertIn(" PROXY-ERROR:SERVER/connection+lost:",
                      record(self.gw, "f.bin", self.fake.port))

    def test_pasv_reply_naming_another_host(self):
        # RFC 2577: the proxy connects to the server's own address with
        # the 227's port, never where the 227 points.
        def pasv(sess, line):
            return sess.passive().replace(b"(127,0,0,1,", b"(127,0,0,2,")
        c = self.logged_in()
        self.fake.reset(PASV=pasv, RETR=send_file(b"from 127.0.0.1"))
        first, final, data = retr(c, "f.bin")
        self.assertEqual((final, data), (["226 Transfer complete."], b"from 127.0.0.1"))

    def test_unusable_pasv_reply(self):
        for reply in (b"227 Entering Passive Mode (1,2,3).\r\n",
                      b"227 Entering Passive Mode (127,0,0,1,0,0).\r\n",
                      b"227 Entering Passive Mode (127,0,0,1,256,1).\r\n"):
            with self.subTest(reply=reply):
                c = self.logged_in()
                self.fake.reset(PASV=reply)
                self.assertEqual(c.cmd("PASV"), ["425 Can't open data connection."])
                self.assertEqual(c.cmd("RETR f.bin"),
                                 ["530 please use PORT/PASV command at first."])
        self.gw.wait_log("error", r"ftp: unusable passive reply of the server", count=3)


class TestClientLeavesDownload(FakeCase):
    """A client that leaves while the server trickles its download: the
    record says so and the proxy hangs up on the server."""
    DATA = testfiles.clean_bytes(4 * KB, seed=49)

    def script(self):
        return {"RETR": send_file(self.DATA, chunk=KB, delay=1.0)}

    def test_client_leaves_during_download(self):
        c = self.logged_in()
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR f.bin"), [MARK.decode().strip()])
        c.close()
        d.close()
        line = record(self.gw, "f.bin", self.fake.port)
        self.assertIn(" TCP_MISS/500 0 GET ", line)
        self.assertIn(" PROXY-ERROR:CLIENT/connection+closed+during+transfer:", line)
        harness.wait_for(lambda: self.fake.connected() == 0, 10,
                         what="the server's control connection closed")


if __name__ == "__main__":
    unittest.main()
