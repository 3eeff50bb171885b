"""The FTP proxy's dialogue (spec §8 FTP-1..FTP-11, §8b, C-25..C-27, G-16)
against real vsftpd servers (harness/ftp_proxy.FtpEnv: "a4" on 127.0.0.1,
"a6" on ::1, "b" on 127.0.0.1, and here "m", whose greeting is a multi-line
banner), driven by a raw client (harness/ftp_proxy.RawFtp) that sees every
reply as the wire has it.

Each test names the FTP-n item, the `ftp` / `ftp-upstream` row of
spec/responses.tsv or the C-/G- decision it shows; docs/internals/
ftp-coverage.md maps them. Three sources of evidence besides the replies:
what vsftpd received (its protocol log: the proxy's own PORT, "USER
<name part>", commands that must never reach it), who owns the sockets of
the data connections (/proc/net/tcp* and /proc/<worker>/fd: the 227's port
is a listener of a sekisho worker, not one of vsftpd's passive ports,
FTP-10), and the proxy's access, info and error logs. "Relayed" is shown
by comparing with a direct session to the same vsftpd.

vsftpd offers no AUTH TLS or MODE Z in its FEAT without a certificate,
greets with a negative reply only when overloaded, and answers NOOP with
200 only: a scripted server (ScriptedFtp, one connection at a time,
replies written by each test) plays those parts.

Transfers in depth (sizes, REST, STOU/APPE, EICAR variants, bounce,
IPv6 transfers) are test_ftp_transfers.py / test_ftp_large.py; the [ftp]
keys (noop_interval among them) test_ftp_keys.py; hostile clients and
servers test_ftp_hostile.py.
"""
import os
import re
import socket
import time
import unittest

import harness
from harness import ftp_files
from harness import vsftpd as vs
from harness.ftp_proxy import PRODUCT_RX, TIMEOUT, FtpCase, FtpEnv, RawFtp
from harness.line_server import LineServer, LineSession

ENV = {}
BANNER_LINES = ["Welcome to server m,", "a greeting of three lines,", "the last one blank:"]
CLEAN = ftp_files.content("clean_1k.bin")
BIG = ftp_files.content("clean_10m.bin")


def setUpModule():
    env = FtpEnv("ftp-dialogue")
    ENV["env"] = env
    try:
        env.m = vs.Vsftpd(env.wd.path, env.root, name="m", banner_lines=BANNER_LINES,
                          upload_dir="incoming", active=True)
    except BaseException:
        env.stop()
        raise
    env.started.append(env.m)


def tearDownModule():
    ENV["env"].stop()


def cant_connect(host, port):
    """C-25 / CONN-1: the reply to a refused connection."""
    return ("500 Can't Connect to (%s:%d) errmsg=[CONNECT(%s:%d)/connect: Connection refused]"
            % (host, port, host, port))


def direct(server):
    """A session straight to the vsftpd instance, for comparison."""
    return RawFtp(server.port, host=server.host)


def new_commands(server, before):
    return server.commands()[before:]


def connections(server):
    """The control connections vsftpd accepted so far."""
    return sum(1 for line in server.log_lines() if "CONNECT: Client" in line)


def server_passive_ports(server):
    """The ports of the 227/229 replies vsftpd sent (its protocol log)."""
    ports = []
    for line in server.log_lines():
        if "FTP response:" not in line:
            continue
        m = re.search(r'"227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)', line)
        if m:
            ports.append(int(m.group(5)) * 256 + int(m.group(6)))
        m = re.search(r'"229 Entering Extended Passive Mode \(\|\|\|(\d+)\|\)', line)
        if m:
            ports.append(int(m.group(1)))
    return ports


def pasv_reply_addr(reply):
    """(host, port) of a 227 reply line of the exact shape of responses.tsv."""
    m = re.match(r"^227 Entering Passive Mode \((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)$", reply)
    assert m, reply
    n = [int(x) for x in m.groups()]
    return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]


def port_arg_addr(arg):
    n = [int(x) for x in arg.split(",")]
    return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]


# ---- who owns a socket: /proc/net/tcp* and /proc/<pid>/fd ----------------------------

LISTEN, ESTABLISHED = "0A", "01"


def _ip_of(hexaddr):
    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    # /proc/net/tcp6: four 32-bit words, each in host (little-endian) order.
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    ip = socket.inet_ntop(socket.AF_INET6, words)
    return ip[7:] if ip.startswith("::ffff:") and "." in ip else ip


def tcp_table():
    """Every TCP socket of the machine: dicts with local/remote ip and port,
    state (LISTEN, ESTABLISHED...) and inode."""
    rows = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            lip, lport = f[1].split(":")
            rip, rport = f[2].split(":")
            rows.append({"lip": _ip_of(lip), "lport": int(lport, 16), "rip": _ip_of(rip),
                         "rport": int(rport, 16), "state": f[3], "inode": f[9]})
    return rows


def socket_inodes(pids):
    out = set()
    for pid in pids:
        fd_dir = "/proc/%d/fd" % pid
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                target = os.readlink(os.path.join(fd_dir, name))
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(target[8:-1])
    return out


def proxy_sockets(gw, state, **match):
    """The TCP sockets in state that a worker of gw holds, whose fields equal
    match (lport=..., rport=..., lip=...)."""
    inodes = socket_inodes(gw.worker_pids())
    return [r for r in tcp_table() if r["state"] == state and r["inode"] in inodes
            and all(r[k] == v for k, v in match.items())]


def slow_data(addr):
    """A data connection that reads nothing and offers a small window, so
    that a 10 MiB file cannot fit into the socket buffers: the transfer
    stays in progress until the test reads."""
    family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
    d = socket.socket(family, socket.SOCK_STREAM)
    d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    d.settimeout(TIMEOUT)
    d.connect(addr)
    return d


# ---- a scripted server ---------------------------------------------------------------

class ScriptedFtp(LineServer):
    """A one-connection-at-a-time FTP server on 127.0.0.1 whose greeting and
    replies a test writes: replies maps a command line, or its verb, to the
    reply bytes (CRLFs included) or to a function f(session, line) that
    talks itself (session.send(bytes), session.readline() - which records
    the line too); anything else gets "502 not scripted". lines() is what
    it received, in order. Bounded: every socket has a timeout and stop()
    joins the thread (harness.line_server)."""
    CONCURRENT = False
    BACKLOG = 4
    TIMEOUT = TIMEOUT
    STOP_JOIN = 10 * harness.SLOW

    def __init__(self, greeting=b"220 scripted ready\r\n", replies=None):
        self.greeting = greeting
        self.replies = dict(replies or {})
        self.received = []
        self.errors = []
        super().__init__()

    def lines(self):
        with self.lock:
            return list(self.received)

    def session(self, conn):
        return _ScriptedSession(self, conn)

    def record_line(self, sess, line):
        with self.lock:
            self.received.append(line)

    def serve(self, conn, session):
        try:
            self._dialogue(session)
        except AssertionError as e:  # the proxy did not do what the script expects
            with self.lock:
                self.errors.append(repr(e))

    def _dialogue(self, session):
        session.send(self.greeting)
        if not self.greeting.startswith(b"2"):
            return
        while not self.stopping:
            line = session.readline()
            if line is None:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb == "QUIT":
                session.send(b"221 scripted bye\r\n")
                return
            reply = self.replies.get(line, self.replies.get(verb, b"502 not scripted\r\n"))
            if callable(reply):
                reply(session, line)
            else:
                session.send(reply)


class _ScriptedSession(LineSession):
    def readline(self):
        """The next command line (recorded), None at the end."""
        raw = self.reader.readline()
        if not raw:
            return None
        line = raw[:-1].rstrip(b"\r").decode("latin-1")
        self.server.record_line(self, line)
        return line


class ScriptedPassive:
    """PASV and RETR for a ScriptedFtp: PASV opens a listener and answers
    227; RETR answers 150 and sends data on the data connection, then keeps
    it open until the proxy's keep-alive NOOP comes on the control
    connection, and answers it with noop_reply either at once (during the
    transfer) or after closing the data connection and sending its 226
    (vsftpd's order: it reads no command during a transfer)."""

    def __init__(self, data, noop_reply, during):
        self.data = data
        self.noop_reply = noop_reply
        self.during = during
        self.listener = None

    def pasv(self, session, line):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(TIMEOUT)
        port = self.listener.getsockname()[1]
        session.send(b"227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n" % (port >> 8, port & 255))

    def retr(self, session, line):
        session.send(b"150 scripted: here it comes\r\n")
        d, _ = self.listener.accept()
        self.listener.close()
        with d:
            d.sendall(self.data)
            assert session.readline() == "NOOP"
            if self.during:
                session.send(self.noop_reply)
        session.send(b"226 scripted: done\r\n")
        if not self.during:
            session.send(self.noop_reply)


class DialogueCase(FtpCase):
    ENV = ENV

    def setUp(self):
        self.a4 = self.env.a4

    def login(self, c):
        c.login()
        self.assertEqual(c.cmd("TYPE I"), ["200 Switching to Binary mode."])
        return c


# ---- self_proxy=no: the parent server at once (FTP-2 .. FTP-11) ----------------------

class TestRelayedServer(DialogueCase):
    """self_proxy=no (the default) with vsftpd a4 as parent_server: the
    server is contacted at once and, but for what the proxy must handle
    itself (data connections, FEAT, refused commands), every reply is the
    server's."""

    # -- FTP-2, FTP-5 --

    def test_ftp2_greeting_of_the_server_relayed(self):
        # responses.tsv: "Client connects, self_proxy=no ...: server greeting relayed"
        before = connections(self.a4)
        c = self.client()
        self.assertEqual(c.greeting, ["220 server a"])
        with direct(self.a4) as d:
            self.assertEqual(c.greeting, d.greeting)
        # The proxy connected before the client said anything.
        self.assertGreaterEqual(connections(self.a4), before + 1)

    def test_ftp5_quit_when_connected_relayed_221_goodbye(self):
        # responses.tsv: "Closing line ... (server reply to QUIT, relayed): 221 Goodbye."
        before = len(self.a4.commands())
        c = self.client()
        self.login(c)
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(new_commands(self.a4, before)[-1], "QUIT")

    def test_ftp4_user_relayed_as_sent_without_self_proxy(self):
        # self_proxy=no: "USER name@host" is not split; the parent gets it whole.
        before = len(self.a4.commands())
        c = self.client()
        line = "USER anonymous@127.0.0.1:%d" % self.env.b.port
        self.assertEqual(c.cmd(line), ["530 This FTP server is anonymous only."])
        self.assertEqual(new_commands(self.a4, before), [line])
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])

    # -- FTP-3 --

    def test_ftp3_line_of_998_bytes_relayed_999_refused(self):
        # responses.tsv: "Command line longer than 998 bytes: 500 Too long line";
        # the session goes on and the next command works.
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        ok_line = "NOOP " + "a" * 993
        self.assertEqual(len(ok_line), 998)
        self.assertEqual(c.cmd(ok_line), ["200 NOOP ok."])
        long_line = "NOOP " + "b" * 994
        self.assertEqual(len(long_line), 999)
        self.assertEqual(c.cmd(long_line), ["500 Too long line"])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        # A far longer line: one reply; its rest is dropped, not read as commands.
        self.assertEqual(c.cmd("NOOP " + "QUIT\r" * 2000), ["500 Too long line"])
        self.assertEqual(c.cmd("SYST"), ["215 UNIX Type: L8"])
        self.assertEqual(new_commands(self.a4, before), [ok_line, "NOOP", "SYST"])
        # A transfer still works after it.
        addr = c.pasv()
        d = c.connect_data(addr)
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])

    # -- FTP-9 --

    def test_ftp9_other_commands_relayed_as_a_direct_session(self):
        # responses.tsv: "Server's transfer replies (1xx etc.) and all other
        # commands: <server reply relayed>". The proxy's replies equal a
        # direct session's to the same vsftpd, and vsftpd got the lines as
        # the client sent them.
        before_login = ["SYST", "HELP", "NOOP", "PWD"]
        after_login = ["SYST", "STAT", "HELP", "NOOP", "SITE HELP", "SITE CHMOD 777 clean_1k.bin",
                       "PWD", "XPWD", "TYPE A", "TYPE I", "SIZE clean_1k.bin",
                       "SIZE no-such-file", "MDTM clean_1k.bin", "CWD incoming", "PWD", "CDUP",
                       "XCUP", "CWD /no-such-dir", "MKD forbidden", "DELE no-such-file",
                       "RNFR no-such-file", "REST 0", "ALLO 1024", "OPTS UTF8 ON", "STAT /",
                       "MODE S", "STRU F", "ACCT x", "XYZZY", "noop", "Syst"]

        def session(conn):
            out = [conn.greeting]
            out += [(line, conn.cmd(line)) for line in before_login]
            out.append(conn.cmd("USER anonymous"))
            out.append(conn.cmd("PASS dialogue@example.org"))
            out += [(line, conn.cmd(line)) for line in after_login]
            out.append(conn.cmd("QUIT"))
            return out

        before = len(self.a4.commands())
        with self.client() as c:
            via_proxy = session(c)
        relayed = new_commands(self.a4, before)
        before = len(self.a4.commands())
        with direct(self.a4) as d:
            straight = session(d)
        self.assertEqual(relayed, new_commands(self.a4, before))

        def same(replies):
            # vsftpd's STAT counts the sessions open at login: the direct
            # session may meet the end of the proxied one.
            return [re.sub(r"client count was \d+", "client count was N", str(r))
                    for r in replies]
        self.assertEqual(same(via_proxy), same(straight))
        # vsftpd logs the verb upper-cased: "noop" and "Syst" arrived as such.
        self.assertEqual(relayed, [re.sub(r"^\w+", lambda m: m.group(0).upper(), l)
                                   for l in before_login + ["USER anonymous", "PASS <password>"]
                                   + after_login + ["QUIT"]])
        # The comparison is not empty: the replies are vsftpd's own texts.
        replies = dict((l, r) for l, r in via_proxy[1 + len(before_login) + 2:-1])
        self.assertEqual(replies["SYST"], ["215 UNIX Type: L8"])
        self.assertEqual(replies["SIZE clean_1k.bin"], ["213 1024"])
        self.assertEqual(replies["XYZZY"], ["500 Unknown command."])
        self.assertEqual(replies["STAT"][0], "211-FTP server status:")
        self.assertEqual(replies["STAT"][-1], "211 End of status")
        self.assertEqual(replies["HELP"][0], "214-The following commands are recognized.")

    # -- FTP-6, FTP-10 passive --

    def test_ftp6_pasv_reply_names_a_listener_of_the_proxy(self):
        # responses.tsv: "PASV: ... proxy's own address and listening port:
        # 227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)"; ftp-upstream: "PASV".
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        reply = c.cmd("PASV")
        self.assertEqual(len(reply), 1)
        host, port = pasv_reply_addr(reply[0])
        self.assertEqual(host, "127.0.0.1")
        self.assertEqual(new_commands(self.a4, before), ["PASV"])
        # The port is the proxy's: a listener of a sekisho worker, neither
        # the port vsftpd answered the proxy nor one of vsftpd's range.
        self.assertTrue(proxy_sockets(self.gw, LISTEN, lport=port), port)
        self.assertFalse(self.a4.pasv_min <= port <= self.a4.pasv_max, port)
        self.assertNotEqual(server_passive_ports(self.a4)[-1], port)
        # And it serves the transfer.
        d = c.connect_data((host, port))
        self.assertEqual(c.cmd("RETR clean_1k.bin"),
                         ["150 Opening BINARY mode data connection for clean_1k.bin (1024 bytes)."])
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])

    def test_ftp10_passive_client_to_proxy_proxy_to_server(self):
        # FTP-10 passive: the client's data connection ends at the proxy,
        # the proxy's starts at the proxy and ends at vsftpd's passive port.
        c = self.client()
        self.login(c)
        host, port = c.pasv()
        server_port = server_passive_ports(self.a4)[-1]
        d = c.connect_data((host, port))
        self.assertEqual(c.cmd("STOR incoming/ftp10-passive.bin"), ["150 Ok to send data."])
        # Both connections are open now (the file is not sent yet).
        mine = d.getsockname()[1]
        self.assertEqual(d.getpeername(), ("127.0.0.1", port))
        self.assertTrue(proxy_sockets(self.gw, ESTABLISHED, lport=port, rport=mine),
                        "the client's data connection does not end at a sekisho worker")
        upstream = proxy_sockets(self.gw, ESTABLISHED, rport=server_port)
        self.assertEqual(len(upstream), 1, upstream)
        self.assertEqual((upstream[0]["lip"], upstream[0]["rip"]), ("127.0.0.1", "127.0.0.1"))
        # FTP-8.4: nothing reaches the server before the upload is whole
        # and scanned (vsftpd made the file at STOR: it stays empty).
        d.sendall(CLEAN)
        time.sleep(0.5)
        target = os.path.join(self.env.upload_path, "ftp10-passive.bin")
        self.assertEqual(os.path.getsize(target), 0)
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        with open(target, "rb") as f:
            self.assertEqual(f.read(), CLEAN)

    # -- FTP-7, C-26, FTP-10 active --

    def test_ftp7_port_proxy_address_upstream_reply_relayed(self):
        # C-26 / ftp-upstream "PORT h1,h2,h3,h4,p1,p2": the server gets the
        # PROXY's address and a port the client never sent; responses.tsv
        # "PORT: reply of the server to the proxy's PORT relayed".
        c = self.client()
        self.login(c)
        ls, port_arg, _ = c.listen_data()
        self.addCleanup(ls.close)
        before = len(self.a4.commands())
        reply = c.cmd("PORT " + port_arg)
        sent = new_commands(self.a4, before)
        with direct(self.a4) as d:
            d.login()
            dls, dport_arg, _ = d.listen_data()
            self.addCleanup(dls.close)
            self.assertEqual(reply, d.cmd("PORT " + dport_arg))
        self.assertEqual(reply, ["200 PORT command successful. Consider using PASV."])
        self.assertEqual(len(sent), 1, sent)
        self.assertTrue(sent[0].startswith("PORT "), sent)
        host, port = port_arg_addr(sent[0][5:])
        self.assertEqual(host, "127.0.0.1")
        self.assertNotEqual(port, ls.getsockname()[1])
        self.assertTrue(proxy_sockets(self.gw, LISTEN, lport=port),
                        "the PORT sent upstream names no listener of sekisho (%d)" % port)

    def test_ftp10_active_server_to_proxy_proxy_to_client(self):
        # FTP-10 active: vsftpd connects to the proxy's listener (the PORT
        # it got), the proxy connects to the client's PORT address. An
        # upload keeps both open until the client sends.
        c = self.client()
        self.login(c)
        ls, port_arg, _ = c.listen_data()
        self.addCleanup(ls.close)
        before = len(self.a4.commands())
        self.assertEqual(c.cmd("PORT " + port_arg)[0][:4], "200 ")
        sent = new_commands(self.a4, before)
        _, proxy_port = port_arg_addr(sent[0][5:])
        self.assertNotEqual(proxy_port, ls.getsockname()[1])
        self.assertEqual(c.cmd("STOR incoming/ftp10-active.bin"), ["150 Ok to send data."])
        d, peer = ls.accept()
        self.addCleanup(d.close)
        self.assertEqual(peer[0], "127.0.0.1")
        # The connection to the client comes from a sekisho worker...
        self.assertTrue(proxy_sockets(self.gw, ESTABLISHED, lport=peer[1],
                                      rport=ls.getsockname()[1]),
                        "the client's data connection does not come from a sekisho worker")
        # ...and vsftpd's ends at the proxy's listener.
        upstream = proxy_sockets(self.gw, ESTABLISHED, lport=proxy_port)
        self.assertEqual(len(upstream), 1, upstream)
        self.assertEqual(upstream[0]["rip"], "127.0.0.1")
        d.sendall(CLEAN)
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        with open(os.path.join(self.env.upload_path, "ftp10-active.bin"), "rb") as f:
            self.assertEqual(f.read(), CLEAN)
        # vsftpd never saw the client's own address.
        self.assertNotIn(port_arg, " ".join(new_commands(self.a4, before)))

    # -- FTP-8 --

    def test_ftp8_use_port_pasv_first(self):
        # responses.tsv: "RETR/LIST/NLST/STOR/STOU/APPE before any PASV or
        # PORT: 530 please use PORT/PASV command at first." (MLSD too).
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        for line in ("RETR clean_1k.bin", "STOR incoming/x", "STOU", "APPE incoming/x", "LIST",
                     "NLST", "MLSD", "retr clean_1k.bin"):
            with self.subTest(line):
                self.assertEqual(c.cmd(line), ["530 please use PORT/PASV command at first."])
        self.assertEqual(new_commands(self.a4, before), [])
        # One PASV serves one transfer: the next needs another.
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        self.assertEqual(c.cmd("RETR clean_1k.bin"), ["530 please use PORT/PASV command at first."])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])

    def test_ftp8_invalid_connection_source(self):
        # responses.tsv: "Passive data connection comes from an address
        # different from the control connection: 530 Invalid Connection
        # Source." The data connection is closed and the server never
        # hears of the command; the session goes on.
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        # The data connection from 127.0.0.2 first, then the command...
        addr = c.pasv()
        bad = c.connect_data(addr, source="127.0.0.2")
        self.gw.wait_log("info", r"ftp: data connection from \[127\.0\.0\.2:%d\] refused: "
                         r"only \[127\.0\.0\.1\] may connect there" % bad.getsockname()[1])
        self.assertEqual(c.cmd("RETR clean_1k.bin"), ["530 Invalid Connection Source."])
        self.assertEqual(c.read_all(bad), (b"", False))
        # ...and the command first, then the data connection.
        addr = c.pasv()
        c.send("RETR clean_1k.bin\r\n")
        bad = c.connect_data(addr, source="127.0.0.2")
        self.assertEqual(c.reply(), ["530 Invalid Connection Source."])
        self.assertEqual(c.read_all(bad), (b"", False))
        self.assertEqual(new_commands(self.a4, before), ["PASV", "PASV"])
        # The session goes on.
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])

    def test_ftp8_c27_cannot_connect_client(self):
        # responses.tsv / C-27: "Active mode: proxy cannot connect to the
        # client's data port: 530 Cannot connect client", after the server's
        # 1xx, and the session ends.
        c = self.client()
        self.login(c)
        dead = harness.free_port()
        arg = "127,0,0,1,%d,%d" % (dead >> 8, dead & 255)
        self.assertEqual(c.cmd("PORT " + arg),
                         ["200 PORT command successful. Consider using PASV."])
        self.assertEqual(c.cmd("RETR clean_1k.bin"),
                         ["150 Opening BINARY mode data connection for clean_1k.bin (1024 bytes)."])
        self.assertEqual(c.reply(), ["530 Cannot connect client"])
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"###ERROR### ftp: cannot connect to the client's data port "
                         r"\[127\.0\.0\.1:%d\]: Connection refused" % dead)
        self.access_lines(r" 127\.0\.0\.1 TCP_MISS/500 0 GET ftp://anonymous@127\.0\.0\.1:%d/"
                          r"clean_1k\.bin anonymous DIRECT/127\.0\.0\.1 .* "
                          r"PROXY-ERROR:CLIENT/cannot\+connect\+client:" % self.a4.port)

    def test_ftp8_active_no_1xx_no_data_connection(self):
        # FTP-8.3: active mode, the command relayed first; a reply other
        # than 1xx ends it: relayed, and the proxy never connects to the
        # client. The PORT is spent.
        c = self.client()
        self.login(c)
        ls, port_arg, _ = c.listen_data()
        self.addCleanup(ls.close)
        self.assertEqual(c.cmd("PORT " + port_arg)[0][:4], "200 ")
        self.assertEqual(c.cmd("RETR no-such-file"), ["550 Failed to open file."])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        ls.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            ls.accept()
        self.assertEqual(c.cmd("RETR clean_1k.bin"), ["530 please use PORT/PASV command at first."])

    def test_ftp8_relayed_1xx_and_final_replies_of_transfers(self):
        # responses.tsv: "Server's transfer replies (1xx etc.) ... relayed":
        # a download, an upload and a listing answered as vsftpd answers
        # a direct session.
        def session(conn, name):
            conn.login()
            out = [conn.cmd("TYPE I")]
            d = conn.connect_data(conn.pasv())
            out.append(conn.cmd("RETR clean_1k.bin"))
            out.append(conn.read_all(d))
            out.append(conn.reply())
            d = conn.connect_data(conn.pasv())
            out.append(conn.cmd("STOR incoming/" + name))
            d.sendall(CLEAN)
            d.close()
            out.append(conn.reply())
            d = conn.connect_data(conn.pasv())
            out.append(conn.cmd("NLST"))
            out.append(sorted(conn.read_all(d)[0].split(b"\r\n")))
            out.append(conn.reply())
            d = conn.connect_data(conn.pasv())
            out.append(conn.cmd("RETR no-such-file"))
            d.close()
            out.append(conn.cmd("QUIT"))
            return out

        with self.client() as c:
            via_proxy = session(c, "relayed-1xx-proxy.bin")
        with direct(self.a4) as d:
            straight = session(d, "relayed-1xx-direct.bin")
        self.assertEqual(via_proxy, straight)
        self.assertEqual(via_proxy[1:4], [
            ["150 Opening BINARY mode data connection for clean_1k.bin (1024 bytes)."],
            (CLEAN, False), ["226 Transfer complete."]])
        self.assertEqual(via_proxy[4:6], [["150 Ok to send data."], ["226 Transfer complete."]])
        self.assertEqual(via_proxy[6], ["150 Here comes the directory listing."])
        self.assertIn(b"clean_1k.bin", via_proxy[7])
        self.assertEqual(via_proxy[8], ["226 Directory send OK."])
        self.assertEqual(via_proxy[9], ["550 Failed to open file."])

    def test_ftp8_infected_download_and_upload(self):
        # responses.tsv: "Virus detected in transferred file: 530 Infected
        # by <detection name>"; no byte of it reaches the other side; the
        # record, the info line; the session goes on.
        c = self.client()
        self.login(c)
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR eicar.com"),
                         ["150 Opening BINARY mode data connection for eicar.com (68 bytes)."])
        self.assertEqual(c.reply(), ["530 Infected by Eicar-Test-Signature"])
        self.assertEqual(c.read_all(d)[0], b"")
        url = r"ftp://anonymous@127\.0\.0\.1:%d/eicar\.com" % self.a4.port
        self.gw.wait_log("info", r"Infected: URL=\[%s\] VirusName: Eicar-Test-Signature "
                         r"action=DELETE" % url)
        self.access_lines(r" 127\.0\.0\.1 TCP_MISS/000 0 GET %s anonymous DIRECT/127\.0\.0\.1 - "
                          r"DETECT-STAT:INFECTED:Eicar-Test-Signature:eicar\.com:" % url)
        # An upload: the server never gets a byte (G-17).
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("STOR incoming/dialogue-eicar.com"), ["150 Ok to send data."])
        d.sendall(harness.EICAR)
        d.shutdown(socket.SHUT_WR)
        self.assertEqual(c.reply(), ["530 Infected by Eicar-Test-Signature"])
        d.close()
        self.access_lines(r" TCP_MISS/000 \d+ PUT ftp://anonymous@127\.0\.0\.1:%d/incoming/"
                          r"dialogue-eicar\.com anonymous DIRECT/127\.0\.0\.1 - "
                          r"DETECT-STAT:INFECTED:Eicar-Test-Signature:" % self.a4.port)
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        path = os.path.join(self.env.upload_path, "dialogue-eicar.com")
        if os.path.exists(path):
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"")

    def test_ftp1_stou_and_appe_scanned_too(self):
        # FTP-1: "scanned: RETR, STOR, STOU, APPE" - the two rarer uploads
        # are received, scanned and refused or passed on like STOR.
        c = self.client()
        self.login(c)
        self.assertEqual(c.cmd("CWD incoming"), ["250 Directory successfully changed."])
        incoming = self.env.upload_path
        records = len(self.gw.log_lines("access"))

        def upload(line, data):
            d = c.connect_data(c.pasv())
            first = c.cmd(line)
            d.sendall(data)
            d.shutdown(socket.SHUT_WR)
            final = c.reply()
            d.close()
            return first, final

        first, final = upload("STOU", CLEAN)
        m = re.match(r"^150 FILE: (STOU\.\d+)$", first[0])
        self.assertTrue(m, first)
        self.assertEqual(final, ["226 Transfer complete."])
        stou_clean = m.group(1)
        with open(os.path.join(incoming, stou_clean), "rb") as f:
            self.assertEqual(f.read(), CLEAN)
        first, final = upload("STOU", harness.EICAR)
        m = re.match(r"^150 FILE: (STOU\.\d+)$", first[0])
        self.assertTrue(m, first)
        self.assertEqual(final, ["530 Infected by Eicar-Test-Signature"])
        stou_eicar = m.group(1)
        path = os.path.join(incoming, stou_eicar)
        if os.path.exists(path):
            with open(path, "rb") as f:
                self.assertEqual(f.read(), b"")
        self.assertEqual(upload("STOR appe-target.bin", CLEAN),
                         (["150 Ok to send data."], ["226 Transfer complete."]))
        self.assertEqual(upload("APPE appe-target.bin", harness.EICAR),
                         (["150 Ok to send data."], ["530 Infected by Eicar-Test-Signature"]))
        self.assertEqual(upload("APPE appe-target.bin", b"appended"),
                         (["150 Ok to send data."], ["226 Transfer complete."]))
        with open(os.path.join(incoming, "appe-target.bin"), "rb") as f:
            self.assertEqual(f.read(), CLEAN + b"appended")
        # Five uploads, five PUT records, each naming its file (a STOU's the
        # name the server chose).
        lines = self.access_lines(r" TCP_MISS/", count=records + 5)[records:]
        self.assertEqual(len(lines), 5, lines)
        url = r"ftp://anonymous@127\.0\.0\.1:%d/incoming/" % self.a4.port
        for line, (status, name) in zip(lines, (
                ("200", stou_clean), ("000", stou_eicar), ("200", "appe-target.bin"),
                ("000", "appe-target.bin"), ("200", "appe-target.bin"))):
            self.assertRegex(line, r" TCP_MISS/%s \d+ PUT %s%s anonymous DIRECT/127\.0\.0\.1 - "
                             r"DETECT-STAT:%s" % (status, url, re.escape(name),
                                                   "CLEAN" if status == "200" else
                                                   "INFECTED:Eicar-Test-Signature:"))

    # -- FTP-11 --

    def test_ftp11_access_log_get_and_put(self):
        # FTP-11: method GET for downloads, PUT for uploads; the path is
        # absolute (CWD followed); a listing leaves no record.
        c = self.client()
        self.login(c)
        before = len(self.gw.log_lines("access"))
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        self.assertEqual(c.cmd("CWD incoming"), ["250 Directory successfully changed."])
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("STOR ftp11-put.bin"), ["150 Ok to send data."])
        d.sendall(CLEAN)
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("LIST"), ["150 Here comes the directory listing."])
        c.read_all(d)
        self.assertEqual(c.reply(), ["226 Directory send OK."])
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])
        c.wait_closed()
        base = r"ftp://anonymous@127\.0\.0\.1:%d" % self.a4.port
        lines = self.access_lines(r" TCP_MISS/", count=before + 2)[before:]
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[0], r" 127\.0\.0\.1 TCP_MISS/200 1024 GET %s/clean_1k\.bin "
                         r"anonymous "
                         r"DIRECT/127\.0\.0\.1 - DETECT-STAT:CLEAN:" % base)
        self.assertRegex(lines[1], r" 127\.0\.0\.1 TCP_MISS/200 1024 PUT "
                         r"%s/incoming/ftp11-put\.bin "
                         r"anonymous DIRECT/127\.0\.0\.1 - DETECT-STAT:CLEAN:" % base)
        time.sleep(0.3)  # a record for the listing would come right after
        self.assertEqual(len(self.gw.log_lines("access")), before + 2)
        with open(os.path.join(self.env.upload_path, "ftp11-put.bin"), "rb") as f:
            self.assertEqual(f.read(), CLEAN)

    # -- FEAT, refused commands, EPSV --

    def test_feat_of_vsftpd_kept_as_it_is(self):
        # vsftpd offers only features the proxy carries: all kept, as spelled.
        c = self.client()
        self.login(c)
        with direct(self.a4) as d:
            d.login()
            self.assertEqual(c.cmd("FEAT"), d.cmd("FEAT"))
        self.assertEqual(c.cmd("FEAT"), ["211-Features:", " EPRT", " EPSV", " MDTM", " PASV",
                                         " REST STREAM", " SIZE", " TVFS", "211 End"])

    def test_refused_commands_never_reach_the_server(self):
        # AUTH and the RFC 2228 commands: 534; LPRT/LPSV/HOST: 502;
        # MODE other than S, STRU other than F: 504. MODE S / STRU F relayed.
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        want = [
            ("AUTH TLS", "534 Request denied for policy reasons: AUTH is not available through "
                         "this proxy"),
            ("AUTH SSL", "534 Request denied for policy reasons: AUTH is not available through "
                         "this proxy"),
            ("PBSZ 0", "534 Request denied for policy reasons: PBSZ is not available through "
                       "this proxy"),
            ("PROT P", "534 Request denied for policy reasons: PROT is not available through "
                       "this proxy"),
            ("CCC", "534 Request denied for policy reasons: CCC is not available through "
                    "this proxy"),
            ("LPRT 4,4,127,0,0,1,2,4,1", "502 LPRT is not available through this proxy"),
            ("LPSV", "502 LPSV is not available through this proxy"),
            ("HOST ftp.example.org", "502 HOST is not available through this proxy"),
            ("MODE Z", "504 Command not implemented for that parameter."),
            ("MODE B", "504 Command not implemented for that parameter."),
            ("STRU R", "504 Command not implemented for that parameter."),
        ]
        for line, reply in want:
            with self.subTest(line):
                self.assertEqual(c.cmd(line), [reply])
        self.assertEqual(new_commands(self.a4, before), [])
        self.assertEqual(c.cmd("MODE S"), ["200 Mode set to S."])
        self.assertEqual(c.cmd("STRU F"), ["200 Structure set to F."])
        self.assertEqual(new_commands(self.a4, before), ["MODE S", "STRU F"])

    def test_epsv_all_then_only_epsv(self):
        # RFC 2428 EPSV ALL: answered by the proxy, never relayed; then
        # PASV, PORT and EPRT are refused and EPSV works.
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        self.assertEqual(c.cmd("EPSV ALL"), ["200 EPSV ALL ok."])
        ls, port_arg, eprt_arg = c.listen_data()
        self.addCleanup(ls.close)
        for line in ("PASV", "PORT " + port_arg, "EPRT " + eprt_arg):
            with self.subTest(line):
                self.assertEqual(c.cmd(line), ["500 EPSV ALL in effect: use EPSV."])
        self.assertEqual(new_commands(self.a4, before), [])
        reply = c.cmd("EPSV")
        m = re.match(r"^229 Entering Extended Passive Mode \(\|\|\|(\d+)\|\)$", reply[0])
        self.assertTrue(m, reply)
        port = int(m.group(1))
        self.assertTrue(proxy_sockets(self.gw, LISTEN, lport=port), port)
        d = c.connect_data(("127.0.0.1", port))
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        # Upstream: the IPv4 server got PASV for the client's EPSV.
        self.assertEqual(new_commands(self.a4, before), ["PASV", "RETR clean_1k.bin"])

    def test_epsv_arguments(self):
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        self.assertEqual(c.cmd("EPSV 2"), ["522 Network protocol not supported, use (1)"])
        self.assertEqual(c.cmd("EPSV 3"), ["501 Syntax error in EPSV argument."])
        self.assertEqual(new_commands(self.a4, before), [])
        self.assertRegex(c.cmd("EPSV 1")[0],
                         r"^229 Entering Extended Passive Mode \(\|\|\|\d+\|\)$")

    # -- ABOR --

    def test_abor_during_a_slow_transfer(self):
        # RFC 959 ABOR while the proxy delivers clean_10m.bin to a client
        # that does not read: "426 Transfer aborted." then "226 Abort
        # successful"; the data connection ends short; the session goes on.
        c = self.client()
        self.login(c)
        before = len(self.gw.log_lines("access"))
        host, port = c.pasv()
        d = slow_data((host, port))
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("RETR clean_10m.bin"),
                         ["150 Opening BINARY mode data connection for clean_10m.bin "
                          "(10485760 bytes)."])
        # Delivery has begun, and only after the file came whole (FTP-8.4):
        # vsftpd had sent its 226 (it logs a reply before it writes it).
        first = d.recv(1)
        self.assertEqual(first, BIG[:1])
        log = self.a4.log_text()
        self.assertIn('"226 Transfer complete."', log[log.rindex('"RETR clean_10m.bin"'):])
        self.assertEqual(c.cmd("ABOR"), ["426 Transfer aborted."])
        self.assertEqual(c.reply(), ["226 Abort successful"])
        got, _ = c.read_all(d)
        self.assertLess(1 + len(got), len(BIG))
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        # The next transfer works.
        d2 = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR clean_1k.bin"),
                         ["150 Opening BINARY mode data connection for clean_1k.bin (1024 bytes)."])
        self.assertEqual(c.read_all(d2), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        lines = self.access_lines(r" TCP_MISS/", count=before + 2)[before:]
        self.assertRegex(lines[0], r" TCP_MISS/500 \d+ GET ftp://anonymous@127\.0\.0\.1:%d/"
                         r"clean_10m\.bin anonymous .* PROXY-ERROR:CLIENT/ABOR:" % self.a4.port)
        self.assertRegex(lines[1], r" TCP_MISS/200 1024 GET ftp://anonymous@127\.0\.0\.1:%d/"
                         r"clean_1k\.bin " % self.a4.port)


    def test_abor_with_the_telnet_ip_dm_prefix(self):
        # RFC 959 4.1.3: IAC IP, then IAC DM sent as urgent data, then ABOR.
        # Without SO_OOBINLINE the proxy reads "IAC IP IAC ABOR".
        c = self.client()
        self.login(c)
        host, port = c.pasv()
        d = slow_data((host, port))
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("RETR clean_10m.bin")[0][:4], "150 ")
        self.assertEqual(d.recv(1), BIG[:1])
        before = len(self.a4.commands())
        c.send(b"\xff\xf4\xff")
        c.sock.send(b"\xf2", socket.MSG_OOB)
        c.send(b"ABOR\r\n")
        self.assertEqual(c.reply(), ["426 Transfer aborted."])
        self.assertEqual(c.reply(), ["226 Abort successful"])
        c.read_all(d)
        self.assertEqual(c.cmd("SYST"), ["215 UNIX Type: L8"])
        # Upstream: at most the proxy's own ABOR and NOOP (when vsftpd still
        # owed its final reply), never the Telnet bytes; then SYST.
        sent = new_commands(self.a4, before)
        self.assertEqual(sent[-1], "SYST")
        self.assertLessEqual(set(sent[:-1]), {"ABOR", "NOOP"})


class TestMultiLineBanner(DialogueCase):
    """FTP-2 with a server whose greeting is a multi-line 220 (vsftpd's
    banner_file): relayed whole, line for line."""
    PARENT = "m"

    def test_ftp2_multi_line_greeting_relayed(self):
        c = self.client()
        self.assertEqual(c.greeting, ["220-" + BANNER_LINES[0], "220-" + BANNER_LINES[1],
                                      "220-" + BANNER_LINES[2], "220 "])
        with direct(self.env.m) as d:
            self.assertEqual(c.greeting, d.greeting)
        c.login()
        self.assertEqual(c.cmd("SYST"), ["215 UNIX Type: L8"])
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])
        self.assertEqual(c.wait_closed(), b"")


class TestConnectFailure(DialogueCase):
    """FTP-2 / C-25 / CONN-1: self_proxy=no and nothing listens on the
    parent's port."""
    PARENT = None
    DEAD = harness.free_port()
    SECTION = {"parent_server_host": "127.0.0.1", "parent_server_port": str(DEAD)}

    def test_ftp2_c25_cant_connect(self):
        # responses.tsv: "Connection to server failed: 500 Can't Connect to
        # (<server-host>:<server-port>) errmsg=[<connection error message>]"
        # without the leading '-' (C-25), then the end.
        c = self.client()
        self.assertEqual(c.greeting, [cant_connect("127.0.0.1", self.DEAD)])
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"127\.0\.0\.1:127\.0\.0\.1:%d .*###ERROR### "
                         r"CONNECT\(127\.0\.0\.1:%d\)/connect: Connection refused$"
                         % (c.sock.getsockname()[1], self.DEAD))


class ScriptedCase(DialogueCase):
    """A ScriptedFtp as the parent server (one per class), reset to a
    plain login server before each test; SCRIPTED_SECTION adds keys."""
    PARENT = None
    SCRIPTED_SECTION = {}
    REPLIES = {"USER": b"331 pw\r\n", "PASS": b"230 in\r\n", "NOOP": b"200 ok\r\n",
               "SYST": b"215 scripted UNIX\r\n"}

    @classmethod
    def setUpClass(cls):
        cls.scripted = ScriptedFtp()
        cls.SECTION = dict(cls.SCRIPTED_SECTION, parent_server_host="127.0.0.1",
                           parent_server_port=str(cls.scripted.port))
        try:
            super().setUpClass()
        except BaseException:
            cls.scripted.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.scripted.stop()

    def setUp(self):
        super().setUp()
        self.scripted.greeting = b"220 scripted ready\r\n"
        self.scripted.replies = dict(self.REPLIES)
        with self.scripted.lock:
            del self.scripted.errors[:]

    def tearDown(self):
        self.assertEqual(self.scripted.errors, [])


class TestScriptedServer(ScriptedCase):
    """What vsftpd does not offer: a FEAT with AUTH, MODE Z, HOST and the
    rest, a refused PASV, a negative greeting."""
    FEAT = (b"211-Extensions supported:\r\n"
            b" AUTH TLS\r\n AUTH SSL\r\n PBSZ\r\n PROT\r\n CCC\r\n ADAT\r\n MODE Z\r\n HOST\r\n"
            b" EPRT\r\n EPSV\r\n mdtm\r\n MFMT\r\n MFF modify;\r\n MLST type*;size*;modify*;\r\n"
            b" PASV\r\n REST STREAM\r\n REST\r\n SIZE\r\n SIZE x\r\n TVFS\r\n UTF8\r\n"
            b" LANG EN*;FR\r\n XCRC\r\n XMD5\r\n HASH SHA-256*\r\n SITE CHMOD\r\n CLNT\r\n"
            b" RANG STREAM\r\n XYZZY\r\n"
            b"211 End\r\n")

    def setUp(self):
        super().setUp()
        self.scripted.replies.update({"FEAT": self.FEAT, "AUTH": b"234 go ahead\r\n"})

    def test_feat_edited(self):
        # proto/ftp_feat's allow-list: the security features, MODE Z, HOST,
        # checksums, fact changes, parameters where none belong and unknown
        # ones are gone; the rest as the server spelled them.
        c = self.client()
        self.assertEqual(c.greeting, ["220 scripted ready"])
        c.login()
        start = len(self.scripted.lines())
        self.assertEqual(c.cmd("FEAT"), [
            "211-Features:", " EPRT", " EPSV", " mdtm", " MLST type*;size*;modify*;", " PASV",
            " REST STREAM", " SIZE", " TVFS", " UTF8", " LANG EN*;FR", "211 End"])
        self.assertEqual(self.scripted.lines()[start:], ["FEAT"])
        # The server would take AUTH TLS; the proxy refuses it itself.
        self.assertEqual(c.cmd("AUTH TLS"), ["534 Request denied for policy reasons: AUTH is "
                                             "not available through this proxy"])
        self.assertEqual(c.cmd("NOOP"), ["200 ok"])
        self.assertEqual(self.scripted.lines()[start:], ["FEAT", "NOOP"])

    def test_feat_with_nothing_allowed(self):
        self.scripted.replies["FEAT"] = b"211-Features:\r\n AUTH TLS\r\n MODE Z\r\n211 End\r\n"
        c = self.client()
        c.login()
        self.assertEqual(c.cmd("FEAT"), ["211 No features"])

    def test_feat_refused_by_the_server_relayed(self):
        self.scripted.replies["FEAT"] = b"500 FEAT? never heard of it\r\n"
        c = self.client()
        c.login()
        self.assertEqual(c.cmd("FEAT"), ["500 FEAT? never heard of it"])

    def test_ftp6_pasv_refused_by_the_server_relayed(self):
        self.scripted.replies["PASV"] = b"425 scripted: no passive today\r\n"
        c = self.client()
        c.login()
        self.assertEqual(c.cmd("PASV"), ["425 scripted: no passive today"])
        self.assertEqual(c.cmd("RETR x"), ["530 please use PORT/PASV command at first."])
        self.assertEqual(self.scripted.lines()[-1], "PASV")

    def test_ftp2_negative_greeting_relayed_then_the_end(self):
        # self_proxy=no: the greeting is the server's, whatever it says;
        # a server that refuses the session ends it.
        self.scripted.greeting = b"421 scripted: too many users\r\n"
        c = self.client()
        self.assertEqual(c.greeting, ["421 scripted: too many users"])
        self.assertEqual(c.wait_closed(), b"")


class TestScriptedKeepAlive(ScriptedCase):
    """FTP-8.5 / LOG-E14: the keep-alive NOOP (noop_interval=1) answered
    with 200 during the transfer (a server that reads commands while it
    sends), or with something else after the transfer's final reply (the
    order of RFC 959, and vsftpd's). The scripted server holds the data
    connection open until the NOOP comes, so the keep-alive is certain to
    be sent. The transfer is the server's (its 150, its bytes, its 226),
    the dialogue stays in step, and a reply other than 200 is the error
    line. (A non-200 reply BEFORE the final one is, by RFC 959's order,
    the transfer's own reply: not tested as a NOOP's.)"""
    SCRIPTED_SECTION = {"noop_interval": "1"}
    LOG_E14 = r"###ERROR### ftp_noop_callback:NOOP command reply error \[%s\]"

    def retr_with_keep_alive(self, noop_reply, during):
        p = ScriptedPassive(CLEAN, noop_reply, during)
        self.scripted.replies.update(PASV=p.pasv, RETR=p.retr)
        c = self.client()
        c.login()
        start = len(self.scripted.lines())
        self.errors_before = len(self.gw.log_lines("error"))
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR clean_1k.bin"), ["150 scripted: here it comes"])
        data, reset = c.read_all(d)
        # The final reply and the bytes together: which reply the proxy
        # took for the transfer's shows in a failure.
        self.assertEqual((c.reply(), len(data), reset), (["226 scripted: done"], len(CLEAN), False))
        self.assertEqual(data, CLEAN)
        self.assertEqual(c.cmd("SYST"), ["215 scripted UNIX"])
        self.assertEqual(self.scripted.lines()[start:],
                         ["PASV", "RETR clean_1k.bin", "NOOP", "SYST"])
        self.access_lines(r" TCP_MISS/200 1024 GET ftp://anonymous@127\.0\.0\.1:%d/clean_1k\.bin "
                          % self.scripted.port)

    def test_ftp8_5_noop_answered_200_during_the_transfer(self):
        self.retr_with_keep_alive(b"200 scripted NOOP ok\r\n", during=True)
        time.sleep(0.3)  # an error line would be written with the reply
        self.assertEqual(self.gw.log_lines("error")[self.errors_before:], [])

    def test_ftp8_5_log_e14_noop_refused_after_the_transfer(self):
        self.retr_with_keep_alive(b"502 scripted: NOOP after\r\n", during=False)
        self.gw.wait_log("error", self.LOG_E14 % "502 scripted: NOOP after")
        self.assertEqual(len(self.gw.log_lines("error")), self.errors_before + 1)


# ---- self_proxy=yes: the server named by USER (FTP-2, FTP-3, FTP-4, FTP-5) -------------

class TestSelfProxy(DialogueCase):
    """self_proxy=yes with a4 as the parent server: the proxy greets; USER
    name@host[:port] or name#host picks the server (the LAST separator),
    USER name goes to the parent."""
    SECTION = {"self_proxy": "yes"}

    def test_ftp2_own_greeting(self):
        # responses.tsv: "220 <product_name> at <hostname> starting."
        before = connections(self.a4)
        c = self.client()
        self.assertEqual(len(c.greeting), 1)
        self.assertRegex(c.greeting[0], r"^220 %s at gw\.test starting\.$" % PRODUCT_RX)
        self.assertEqual(c.cmd("QUIT"), ["221 Quit"])
        self.assertEqual(connections(self.a4), before)

    def test_ftp3_use_user_first(self):
        # responses.tsv: "No server connection yet and command is not USER
        # or QUIT: 530 please use USER command at first." No server is
        # contacted.
        before = (connections(self.a4), connections(self.env.b))
        c = self.client()
        for line in ("PASS x", "SYST", "NOOP", "FEAT", "PASV", "EPSV ALL", "PORT 127,0,0,1,4,1",
                     "RETR clean_1k.bin", "AUTH TLS", "LPRT 4,4,127,0,0,1,2,4,1", "MODE Z",
                     "XYZZY", "ABOR"):
            with self.subTest(line):
                self.assertEqual(c.cmd(line), ["530 please use USER command at first."])
        c.login("anonymous@127.0.0.1:%d" % self.env.b.port)
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])
        self.assertEqual((connections(self.a4), connections(self.env.b)),
                         (before[0], before[1] + 1))

    def test_ftp3_too_long_line_before_user(self):
        c = self.client()
        self.assertEqual(c.cmd("USER " + "x" * 994), ["500 Too long line"])
        self.assertEqual(c.cmd("NOOP"), ["530 please use USER command at first."])
        c.login()
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])

    def test_ftp4_user_at_host_selects_the_server(self):
        # ftp-upstream "USER <name part>": b gets "USER anonymous"; its
        # greeting ("220 server b") is read and dropped; the reply relayed.
        b = self.env.b
        before_a, before_b = len(self.a4.commands()), len(b.commands())
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % b.port),
                         ["331 Please specify the password."])
        self.assertEqual(c.cmd("PASS selfproxy@example.org"), ["230 Login successful."])
        self.assertEqual(c.cmd("TYPE I"), ["200 Switching to Binary mode."])
        d = c.connect_data(c.pasv())
        self.assertEqual(c.cmd("RETR b_only.txt")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (self.env.B_TEXT, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(new_commands(b, before_b)[:2], ["USER anonymous", "PASS <password>"])
        self.assertIn("selfproxy@example.org", b.logins())
        self.assertEqual(new_commands(self.a4, before_a), [])
        # The record names the server the client chose.
        self.access_lines(r" TCP_MISS/200 %d GET ftp://anonymous@127\.0\.0\.1:%d/b_only\.txt "
                          r"anonymous DIRECT/127\.0\.0\.1 " % (len(self.env.B_TEXT), b.port))

    def test_ftp4_split_at_the_last_separator(self):
        b = self.env.b
        for arg, name, reply in (
                ("anonymous#127.0.0.1:%d", "anonymous", "331 Please specify the password."),
                ("x@y.example@127.0.0.1:%d", "x@y.example",
                 "530 This FTP server is anonymous only."),
                ("a#b@127.0.0.1:%d", "a#b", "530 This FTP server is anonymous only."),
                ("a@b#127.0.0.1:%d", "a@b", "530 This FTP server is anonymous only.")):
            with self.subTest(arg):
                before = len(b.commands())
                with self.client() as c:
                    self.assertEqual(c.cmd("USER " + arg % b.port), [reply])
                    self.assertEqual(new_commands(b, before), ["USER " + name])
                    self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])

    def test_ftp4_user_without_separator_goes_to_the_parent(self):
        before = len(self.a4.commands())
        c = self.client()
        c.login()
        self.assertEqual(c.cmd("SYST"), ["215 UNIX Type: L8"])
        self.assertEqual(new_commands(self.a4, before),
                         ["USER anonymous", "PASS <password>", "SYST"])

    def test_g16_port_defaults_to_parent_server_port(self):
        # G-16: "USER name@host" without a port: parent_server_port (a4's),
        # as for POP.
        before = len(self.a4.commands())
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1"), ["331 Please specify the password."])
        self.assertEqual(new_commands(self.a4, before), ["USER anonymous"])

    def test_ftp4_second_user_naming_another_server(self):
        b = self.env.b
        before = connections(self.a4)
        c = self.client()
        before_b = len(b.commands())
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % b.port),
                         ["331 Please specify the password."])
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % self.a4.port),
                         ["530 already connected to (127.0.0.1:%d)" % b.port])
        # The same server again: the name goes to it.
        self.assertEqual(c.cmd("USER ftp@127.0.0.1:%d" % b.port),
                         ["331 Please specify the password."])
        self.assertEqual(c.cmd("PASS again@example.org"), ["230 Login successful."])
        self.assertEqual(new_commands(b, before_b),
                         ["USER anonymous", "USER ftp", "PASS <password>"])
        self.assertEqual(connections(self.a4), before)

    def test_ftp4_c25_connect_failure_at_user(self):
        dead = harness.free_port()
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % dead),
                         [cant_connect("127.0.0.1", dead)])
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"###ERROR### CONNECT\(127\.0\.0\.1:%d\)/connect: "
                         r"Connection refused$" % dead)

    def test_conn4_hostname_lookup_error_at_user(self):
        # §8b CONN-4 in the FTP reply of C-25.
        c = self.client()
        reply = c.cmd("USER anonymous@no-such-host.invalid:21")
        self.assertEqual(len(reply), 1)
        self.assertRegex(reply[0], r"^500 Can't Connect to \(no-such-host\.invalid:21\) errmsg="
                         r"\[CONNECT\(no-such-host\.invalid:21\)/hostname lookup error: "
                         r"[A-Za-z][^\]]*\]$")
        self.assertEqual(c.wait_closed(), b"")

    def test_g16_negative_greeting_after_user(self):
        # G-16: a server greeting other than 220 after a late connect is a
        # connection failure: "500 Can't Connect ..." with the greeting.
        scripted = ScriptedFtp(greeting=b"421 scripted: too many users\r\n")
        self.addCleanup(scripted.stop)
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % scripted.port),
                         ["500 Can't Connect to (127.0.0.1:%d) errmsg=[421 scripted: too many "
                          "users]" % scripted.port])
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(scripted.lines(), [])

    def test_ftp5_quit_without_a_server(self):
        # responses.tsv: "QUIT while not connected to a server: 221 Quit".
        c = self.client()
        self.assertEqual(c.cmd("QUIT"), ["221 Quit"])
        self.assertEqual(c.wait_closed(), b"")

    def test_ftp5_quit_with_a_server_relayed(self):
        before = len(self.env.b.commands())
        c = self.client()
        c.login("anonymous@127.0.0.1:%d" % self.env.b.port)
        self.assertEqual(c.cmd("QUIT"), ["221 Goodbye."])
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(new_commands(self.env.b, before)[-1], "QUIT")


class TestSelfProxyWithoutParent(DialogueCase):
    """self_proxy=yes and no parent_server_host: USER must name a server."""
    PARENT = None
    SECTION = {"self_proxy": "yes"}

    def test_ftp4_user_format_error(self):
        # responses.tsv: "USER without @/# while parent server is empty:
        # 500 USER format is USER username@hostname or username#hostname";
        # the session goes on.
        c = self.client()
        for line in ("USER anonymous", "USER anonymous@", "USER @127.0.0.1", "USER",
                     "USER anonymous@127.0.0.1:0", "USER anonymous@127.0.0.1:99999"):
            with self.subTest(line):
                self.assertEqual(c.cmd(line), ["500 USER format is USER username@hostname or "
                                               "username#hostname"])
        before = len(self.env.a4.commands())
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % self.env.a4.port),
                         ["331 Please specify the password."])
        self.assertEqual(new_commands(self.env.a4, before), ["USER anonymous"])


# ---- IPv6 (FTP-6, FTP-10 across families) --------------------------------------------

@unittest.skipUnless(vs.ipv6_loopback(), "::1 cannot be bound here")
class TestClientOnIpv6(DialogueCase):
    """The proxy on ::1 in front of the IPv4 server a4: a 227 cannot carry
    an IPv6 address, so PASV is refused; EPSV is the proxy's own, upstream
    it is PASV; the PORT upstream is IPv4."""
    LISTEN = "::1"

    def test_pasv_refused_over_ipv6_epsv_served(self):
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        self.assertEqual(c.cmd("PASV"), ["425 PASV is not possible over IPv6: use EPSV."])
        self.assertEqual(c.cmd("EPSV 1"), ["522 Network protocol not supported, use (2)"])
        self.assertEqual(new_commands(self.a4, before), [])
        reply = c.cmd("EPSV")
        m = re.match(r"^229 Entering Extended Passive Mode \(\|\|\|(\d+)\|\)$", reply[0])
        self.assertTrue(m, reply)
        port = int(m.group(1))
        self.assertTrue(proxy_sockets(self.gw, LISTEN, lport=port, lip="::1"), port)
        d = c.connect_data(("::1", port))
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        self.assertEqual(new_commands(self.a4, before), ["PASV", "RETR clean_1k.bin"])

    def test_eprt_over_ipv6_becomes_port_upstream(self):
        c = self.client()
        self.login(c)
        ls, _, eprt_arg = c.listen_data()
        self.addCleanup(ls.close)
        self.assertEqual(c.cmd("PORT 127,0,0,1,4,1"),
                         ["522 Network protocol not supported, use (2)"])
        before = len(self.a4.commands())
        self.assertEqual(c.cmd("EPRT " + eprt_arg),
                         ["200 PORT command successful. Consider using PASV."])
        sent = new_commands(self.a4, before)
        self.assertEqual(len(sent), 1, sent)
        self.assertRegex(sent[0], r"^PORT 127,0,0,1,\d+,\d+$")
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        d, peer = ls.accept()
        self.addCleanup(d.close)
        self.assertEqual(peer[0], "::1")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])


@unittest.skipUnless(vs.ipv6_loopback(), "::1 cannot be bound here")
class TestServerOnIpv6(DialogueCase):
    """An IPv4 client in front of the IPv6 server a6: the proxy speaks EPSV
    and EPRT upstream, and the client still gets its 227 and PORT."""
    PARENT = "a6"

    def test_pasv_becomes_epsv_upstream(self):
        a6 = self.env.a6
        c = self.client()
        self.assertEqual(c.greeting, ["220 server a"])
        self.login(c)
        before = len(a6.commands())
        host, port = pasv_reply_addr(c.cmd("PASV")[0])
        self.assertEqual(host, "127.0.0.1")
        self.assertEqual(new_commands(a6, before), ["EPSV"])
        d = c.connect_data((host, port))
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])

    def test_port_becomes_eprt_upstream(self):
        a6 = self.env.a6
        c = self.client()
        self.login(c)
        ls, port_arg, _ = c.listen_data()
        self.addCleanup(ls.close)
        before = len(a6.commands())
        self.assertEqual(c.cmd("PORT " + port_arg),
                         ["200 EPRT command successful. Consider using EPSV."])
        sent = new_commands(a6, before)
        self.assertEqual(len(sent), 1, sent)
        m = re.match(r"^EPRT \|2\|::1\|(\d+)\|$", sent[0])
        self.assertTrue(m, sent)
        self.assertTrue(proxy_sockets(self.gw, LISTEN, lport=int(m.group(1)), lip="::1"))
        self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:4], "150 ")
        d, peer = ls.accept()
        self.addCleanup(d.close)
        self.assertEqual(peer[0], "127.0.0.1")
        self.assertEqual(c.read_all(d), (CLEAN, False))
        self.assertEqual(c.reply(), ["226 Transfer complete."])


# ---- the NOOP keep-alive (FTP-8.5) -------------------------------------------------------

class TestNoopKeepAlive(DialogueCase):
    """ftp-upstream "NOOP": every noop_interval seconds of a transfer the
    server's control connection gets a NOOP; its 200 never reaches the
    client, and the dialogue stays in step."""
    SECTION = {"noop_interval": "1"}

    def test_noop_upstream_during_a_slow_transfer(self):
        c = self.client()
        self.login(c)
        before = len(self.a4.commands())
        host, port = c.pasv()
        d = slow_data((host, port))
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("RETR clean_10m.bin")[0][:4], "150 ")
        harness.wait_for(lambda: "NOOP" in new_commands(self.a4, before), 15,
                         what="a keep-alive NOOP at vsftpd")
        got, reset = c.read_all(d)
        self.assertFalse(reset)
        self.assertEqual(len(got), len(BIG))
        self.assertTrue(got == BIG)
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        # The next reply is the next command's, not a keep-alive's 200.
        self.assertEqual(c.cmd("SYST"), ["215 UNIX Type: L8"])
        sent = new_commands(self.a4, before)
        self.assertEqual(sent[:2], ["PASV", "RETR clean_10m.bin"])
        self.assertEqual(sent[-1], "SYST")
        self.assertEqual(set(sent[2:-1]), {"NOOP"})
        self.assertNotIn("ftp_noop_callback", self.gw.log_text("error"))


if __name__ == "__main__":
    unittest.main()
