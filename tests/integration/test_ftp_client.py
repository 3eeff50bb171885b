"""Integration tests for core/ftp_client (FTP over HTTP, HTTP-16, G-29, CONN-*).

Drives $SEKISHO_BUILD/bin/sekisho-ftpget - the proxy's FTP client in a
small event-loop program - against a real vsftpd on 127.0.0.1 (and ::1
when it can be bound) serving a directory made here, and checks what
arrives in the output file, the printed outcome (HTTP status, reply code,
CONN-* error text) and, from vsftpd's protocol log, what the client sent.
A silent TCP listener checks the step timeout; a refused port and an
unresolvable name check the connection errors. A scripted FTP server
(FakeFtp, one connection, replies written by each test) produces what
vsftpd will not: a 227 naming another address, a short transfer, 426
after data, a refused PASV, replies split or merged across segments, a
226 before the data ends, a server that hangs up or answers nonsense.
Every subprocess and wait is bounded.
"""
import hashlib
import os
import socket
import subprocess
import threading
import time
import unittest

from harness import BIN, SLOW, Workdir, check_sanitizer_report, free_port
from harness import vsftpd as vs

FTPGET = os.path.join(BIN, "sekisho-ftpget")
RUN_TIMEOUT = 60 * SLOW
BIG = 1024 * 1024

# Names that need HTML escaping or percent-encoding in the listing page.
ODD_NAME = "a b&c<d>.txt"
UTF8_NAME = "\u95a2\u6240.txt"


def pattern(n, seed=b"sekisho"):
    """n deterministic bytes (every byte value occurs)."""
    out = bytearray()
    block = seed
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


def ftpget(host, port, path, outfile, *opts):
    argv = [FTPGET] + list(opts) + [host, str(port), path, outfile]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=RUN_TIMEOUT)
    err = p.stderr.decode("utf-8", "replace")
    check_sanitizer_report(err, "sekisho-ftpget")
    return p.returncode, p.stdout.decode("utf-8", "replace").strip(), err


def fields(line):
    """'ERROR status=404 code=550 error=550 x y' -> ('ERROR', {...}); error= takes the rest."""
    kind, _, rest = line.partition(" ")
    out = {}
    while rest:
        key, _, rest = rest.partition("=")
        if key == "error":
            out[key] = rest
            break
        value, _, rest = rest.partition(" ")
        out[key] = value
    return kind, out


class FtpClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        reason = vs.available()
        if reason:
            raise unittest.SkipTest(reason)
        cls.wd = Workdir("ftp-client")
        cls.root = os.path.join(cls.wd.path, "anon")
        pub = os.path.join(cls.root, "pub")
        os.makedirs(os.path.join(pub, "sub dir"))
        cls.big = pattern(BIG)
        files = {
            "big.bin": cls.big,
            "empty.txt": b"",
            "pub/readme.txt": b"hello over ftp\n",
            "pub/" + ODD_NAME: b"odd\n",
            "pub/" + UTF8_NAME: b"utf-8\n",
            "pub/sub dir/inner.txt": b"inner\n",
        }
        for name, data in files.items():
            with open(os.path.join(cls.root, name), "wb") as f:
                f.write(data)
        os.symlink("readme.txt", os.path.join(pub, "link.txt"))
        for d, _, names in os.walk(cls.root):
            os.chmod(d, 0o755)
            for n in names:
                if not os.path.islink(os.path.join(d, n)):
                    os.chmod(os.path.join(d, n), 0o644)
        cls.ftp = vs.Vsftpd(cls.wd.path, cls.root,
                            banner_lines=["Sekisho test server", "second banner line"])

    @classmethod
    def tearDownClass(cls):
        cls.ftp.stop()
        cls.wd.cleanup()

    def out(self, name):
        return os.path.join(self.wd.path, name)

    def get(self, path, outname, *opts, host="127.0.0.1", port=None):
        rc, line, err = ftpget(host, self.ftp.port if port is None else port, path,
                               self.out(outname), *opts)
        kind, f = fields(line)
        return rc, kind, f, line, err

    def read(self, name):
        with open(self.out(name), "rb") as f:
            return f.read()

    # ---- files -----------------------------------------------------------

    def test_file_byte_identical(self):
        before = len(self.ftp.commands())
        rc, kind, f, line, err = self.get("/big.bin", "big.out")
        self.assertEqual((rc, kind), (0, "FILE"), line + err)
        self.assertEqual(int(f["bytes"]), BIG)
        self.assertEqual(f["server"], "127.0.0.1")
        self.assertEqual(hashlib.sha256(self.read("big.out")).hexdigest(),
                         hashlib.sha256(self.big).hexdigest())
        cmds = self.ftp.commands()[before:]
        # The dialogue of the brief, IPv4: PASV (not EPSV), path relative
        # to the login directory (RFC 1738).
        want = ["USER anonymous", "PASS <password>", "TYPE I", "SIZE big.bin", "PASV",
                "RETR big.bin"]
        self.assertEqual(cmds[:len(want)], want)
        self.assertNotIn("EPSV", cmds)
        # The greeting was a multi-line 220 reply (banner_file).
        self.assertIn('"220-second banner line"', self.ftp.log_text())

    def test_empty_file(self):
        rc, kind, f, line, _ = self.get("/empty.txt", "empty.out")
        self.assertEqual((rc, kind, f.get("bytes")), (0, "FILE", "0"), line)
        self.assertEqual(self.read("empty.out"), b"")

    def test_percent_encoded_name(self):
        enc = "/pub/a%20b%26c%3Cd%3E.txt"
        rc, kind, _, line, _ = self.get(enc, "odd.out")
        self.assertEqual((rc, kind), (0, "FILE"), line)
        self.assertEqual(self.read("odd.out"), b"odd\n")

    def test_missing_file_is_404(self):
        rc, kind, f, line, _ = self.get("/no-such-file.txt", "missing.out")
        self.assertEqual((rc, kind), (1, "ERROR"), line)
        self.assertEqual(f["status"], "404")
        self.assertEqual(f["code"], "550")
        self.assertTrue(f["error"].startswith("550 "), line)

    def test_file_with_slash_is_404(self):
        rc, kind, f, line, _ = self.get("/pub/readme.txt/", "slash.out")
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "404"), line)

    # ---- directories -----------------------------------------------------

    def test_listing(self):
        before = len(self.ftp.commands())
        page = self.out("pub.html")
        rc, kind, f, line, _ = self.get("/pub/", "pub.out", "--html", page)
        self.assertEqual((rc, kind), (0, "LISTING"), line)
        listing = self.read("pub.out").decode("utf-8")
        self.assertEqual(int(f["bytes"]), len(listing.encode("utf-8")))
        for name in ("readme.txt", ODD_NAME, UTF8_NAME, "sub dir", "link.txt -> readme.txt"):
            self.assertIn(name, listing)
        cmds = self.ftp.commands()[before:]
        self.assertIn("CWD pub", cmds)
        self.assertIn("LIST", cmds)
        self.assertNotIn("RETR pub", cmds)
        with open(page, encoding="utf-8") as fh:
            html = fh.read()
        self.assertIn("<title>Index of ftp://127.0.0.1:%d/pub/</title>" % self.ftp.port, html)
        self.assertIn('<li><a href="/">Parent Directory</a></li>', html)
        self.assertIn('<a href="/pub/readme.txt">readme.txt</a> 15 bytes', html)
        self.assertIn('<a href="/pub/a%20b%26c%3Cd%3E.txt">a b&amp;c&lt;d&gt;.txt</a>', html)
        self.assertIn('<a href="/pub/sub%20dir/">sub dir/</a>', html)
        self.assertIn('<a href="/pub/%E9%96%A2%E6%89%80.txt">' + UTF8_NAME + "</a>", html)
        self.assertIn('<a href="/pub/link.txt">link.txt</a> -&gt; readme.txt', html)
        self.assertNotIn("<d>", html)

    def test_directory_without_slash_falls_back_to_list(self):
        before = len(self.ftp.commands())
        page = self.out("subdir.html")
        rc, kind, _, line, _ = self.get("/pub/sub%20dir", "subdir.out", "--html", page)
        self.assertEqual((rc, kind), (0, "LISTING"), line)
        self.assertIn(b"inner.txt", self.read("subdir.out"))
        cmds = self.ftp.commands()[before:]
        self.assertIn("RETR pub/sub dir", cmds)
        self.assertIn("CWD pub/sub dir", cmds)
        with open(page, encoding="utf-8") as fh:
            html = fh.read()
        # Absolute links: right although the page URL has no trailing '/'.
        self.assertIn('<a href="/pub/sub%20dir/inner.txt">inner.txt</a>', html)
        self.assertIn('<li><a href="/pub/">Parent Directory</a></li>', html)

    def test_root_listing(self):
        rc, kind, _, line, _ = self.get("/", "root.out")
        self.assertEqual((rc, kind), (0, "LISTING"), line)
        listing = self.read("root.out")
        for name in (b"big.bin", b"empty.txt", b"pub"):
            self.assertIn(name, listing)

    def test_missing_directory_is_404(self):
        rc, kind, f, line, _ = self.get("/no-such-dir/", "nodir.out")
        self.assertEqual((rc, kind, f.get("status"), f.get("code")), (1, "ERROR", "404", "550"),
                         line)

    # ---- refusals and connection errors ----------------------------------

    def test_bad_credentials_is_401(self):
        rc, kind, f, line, _ = self.get("/big.bin", "cred.out", "--user", "bob",
                                        "--password", "wrong")
        self.assertEqual((rc, kind), (1, "ERROR"), line)
        self.assertEqual((f["status"], f["code"]), ("401", "530"), line)
        self.assertEqual(self.read("cred.out"), b"")

    def test_refused_port(self):
        port = free_port()
        rc, kind, f, line, _ = self.get("/big.bin", "refused.out", port=port)
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "503"), line)
        self.assertEqual(f["error"], "CONNECT(127.0.0.1:%d)/connect: Connection refused" % port)

    def test_unknown_host(self):
        rc, kind, f, line, _ = self.get("/x", "dns.out", "--timeout", "10",
                                        host="no-such-host.invalid", port=21)
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "503"), line)
        self.assertTrue(
            f["error"].startswith("CONNECT(no-such-host.invalid:21)/hostname lookup error: "),
            line)

    def test_control_bytes_in_path_are_refused(self):
        before = len(self.ftp.commands())
        rc, kind, f, line, _ = self.get("/x%0D%0ADELE%20big.bin", "inject.out")
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "400"), line)
        self.assertEqual(f["error"], "Invalid URL format")
        self.assertFalse([c for c in self.ftp.commands()[before:] if c.startswith("DELE")])

    def test_silent_server_times_out(self):
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(4)
        port = lsock.getsockname()[1]
        accepted = []

        def accept():
            lsock.settimeout(RUN_TIMEOUT)
            try:
                conn, _ = lsock.accept()
                accepted.append(conn)  # never answered
            except OSError:
                pass

        t = threading.Thread(target=accept, daemon=True)
        t.start()
        try:
            rc, kind, f, line, _ = self.get("/big.bin", "silent.out", "--timeout", "1",
                                            port=port)
        finally:
            lsock.close()
            t.join(5)
            for c in accepted:
                c.close()
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "503"), line)
        self.assertEqual(f["error"],
                         "CONNECT(127.0.0.1:%d)/timeout(>1 sec) waiting for greeting" % port)


class FtpClientIpv6Test(unittest.TestCase):
    """An IPv6 control connection uses EPSV (RFC 2428)."""

    @classmethod
    def setUpClass(cls):
        reason = vs.available() or (None if vs.ipv6_loopback() else "no ::1 here")
        if reason:
            raise unittest.SkipTest(reason)
        cls.wd = Workdir("ftp-client6")
        cls.root = os.path.join(cls.wd.path, "anon")
        os.makedirs(os.path.join(cls.root, "d"))
        cls.data = pattern(300 * 1024, b"v6")
        with open(os.path.join(cls.root, "d", "f.bin"), "wb") as f:
            f.write(cls.data)
        for d in (cls.root, os.path.join(cls.root, "d")):
            os.chmod(d, 0o755)
        os.chmod(os.path.join(cls.root, "d", "f.bin"), 0o644)
        # Without a password step: 230 answers USER directly.
        cls.ftp = vs.Vsftpd(cls.wd.path, cls.root, ipv6=True, anon_password=False,
                            name="vsftpd6")

    @classmethod
    def tearDownClass(cls):
        cls.ftp.stop()
        cls.wd.cleanup()

    def test_file_over_ipv6_uses_epsv(self):
        out = os.path.join(self.wd.path, "f.out")
        rc, line, err = ftpget("::1", self.ftp.port, "/d/f.bin", out, "--ipv6")
        kind, f = fields(line)
        self.assertEqual((rc, kind, f.get("server")), (0, "FILE", "::1"), line + err)
        with open(out, "rb") as fh:
            self.assertEqual(fh.read(), self.data)
        cmds = self.ftp.commands()
        self.assertEqual(cmds[:5], ["USER anonymous", "TYPE I", "SIZE d/f.bin", "EPSV",
                                    "RETR d/f.bin"])
        self.assertNotIn("PASV", cmds)

    def test_listing_over_ipv6(self):
        out = os.path.join(self.wd.path, "d.out")
        rc, line, _ = ftpget("::1", self.ftp.port, "/d/", out, "--ipv6")
        self.assertEqual((rc, fields(line)[0]), (0, "LISTING"), line)
        with open(out, "rb") as fh:
            self.assertIn(b"f.bin", fh.read())


FAKE_IO_TIMEOUT = 10.0  # seconds a scripted server waits for the client


class FakeFtp:
    """A scripted FTP server on 127.0.0.1 for one control connection.

    script(srv) runs in a thread with srv.send(), srv.cmd(), srv.expect()
    and srv.data_listener(); commands received are kept in srv.commands and
    an exception in the script is kept in srv.error (checked by join())."""

    def __init__(self, script):
        self.script = script
        self.commands = []
        self.error = None
        self.socks = []
        self.lsock = self._listener()
        self.port = self.lsock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _listener(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(4)
        s.settimeout(FAKE_IO_TIMEOUT * SLOW)
        self.socks.append(s)
        return s

    def _run(self):
        try:
            conn, _ = self.lsock.accept()
            conn.settimeout(FAKE_IO_TIMEOUT * SLOW)
            self.socks.append(conn)
            self.conn = conn
            self.rfile = conn.makefile("rb")
            self.script(self)
        except Exception as e:  # reported by join()
            self.error = e
        finally:
            # the makefile() keeps the connection open until it is closed too
            if getattr(self, "rfile", None):
                self.rfile.close()
            for s in self.socks:
                s.close()

    def send(self, data):
        self.conn.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self):
        line = self.rfile.readline(4096).decode("latin-1").rstrip("\r\n")
        self.commands.append(line)
        return line

    def expect(self, word, reply=None):
        line = self.cmd()
        if line.split(" ")[0] != word:
            raise AssertionError("expected %s, got %r" % (word, line))
        if reply:
            self.send(reply)
        return line

    def data_listener(self):
        """A passive-mode listener: (socket, port)."""
        s = self._listener()
        return s, s.getsockname()[1]

    def login(self, size=None):
        self.send("220 fake\r\n")
        self.expect("USER", "331 pw\r\n")
        self.expect("PASS", "230 ok\r\n")
        self.expect("TYPE", "200 ok\r\n")
        self.expect("SIZE", "213 %d\r\n" % size if size is not None else "550 no size\r\n")

    def passive(self, announce="127,0,0,1"):
        """PASV -> 227 announcing `announce`; returns the accepted data connection."""
        ls, port = self.data_listener()
        self.expect("PASV", "227 Entering Passive Mode (%s,%d,%d).\r\n"
                    % (announce, port >> 8, port & 255))
        data, _ = ls.accept()
        self.socks.append(data)
        return data

    def join(self):
        self.thread.join(FAKE_IO_TIMEOUT * SLOW + 5)
        if self.error:
            raise self.error


class FtpClientScriptedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.wd = Workdir("ftp-scripted")

    @classmethod
    def tearDownClass(cls):
        cls.wd.cleanup()

    def run_fake(self, script, path="/f.bin"):
        srv = FakeFtp(script)
        out = os.path.join(self.wd.path, "out")
        rc, line, err = ftpget("127.0.0.1", srv.port, path, out, "--timeout", "5")
        srv.join()
        with open(out, "rb") as f:
            body = f.read()
        kind, f = fields(line)
        return rc, kind, f, line + err, body, srv

    def test_pasv_address_is_ignored(self):
        # The 227 names 127.0.0.2, where nothing listens: the client must
        # connect to the control connection's address (RFC 2577 bounce).
        peers = []

        def script(srv):
            srv.login(size=5)
            data = srv.passive(announce="127,0,0,2")
            peers.append(data.getpeername()[0])
            srv.expect("RETR", "150 here\r\n")
            data.sendall(b"hello")
            data.close()
            srv.send("226 done\r\n")
            srv.cmd()  # QUIT

        rc, kind, f, line, body, srv = self.run_fake(script)
        self.assertEqual((rc, kind, f.get("bytes")), (0, "FILE", "5"), line)
        self.assertEqual(body, b"hello")
        self.assertEqual(peers, ["127.0.0.1"])
        self.assertEqual(srv.commands, ["USER anonymous", "PASS sekisho@", "TYPE I", "SIZE f.bin",
                                        "PASV", "RETR f.bin", "QUIT"])

    def test_short_transfer_is_an_error(self):
        def script(srv):
            srv.login(size=100)
            data = srv.passive()
            srv.expect("RETR", "150 here\r\n")
            data.sendall(b"x" * 50)
            data.close()
            srv.send("226 done\r\n")

        rc, kind, f, line, _, srv = self.run_fake(script)
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "503"), line)
        self.assertEqual(f["error"], "CONNECT(127.0.0.1:%d)/transfer incomplete: 50 of 100 bytes"
                         % srv.port)

    def test_426_after_data(self):
        def script(srv):
            srv.login()
            data = srv.passive()
            srv.expect("RETR", "150 here\r\n")
            data.sendall(b"partial")
            data.close()
            srv.send("426 Connection closed; transfer aborted.\r\n")

        rc, kind, f, line, body, _ = self.run_fake(script)
        self.assertEqual((rc, kind, f.get("status"), f.get("code")), (1, "ERROR", "503", "426"),
                         line)
        self.assertEqual(f["error"], "426 Connection closed; transfer aborted.")

    def test_refused_pasv_falls_back_to_epsv(self):
        def script(srv):
            srv.login(size=3)
            srv.expect("PASV", "502 PASV not implemented\r\n")
            ls, port = srv.data_listener()
            srv.expect("EPSV", "229 Entering Extended Passive Mode (|||%d|)\r\n" % port)
            data, _ = ls.accept()
            srv.expect("RETR", "150 here\r\n")
            data.sendall(b"abc")
            data.close()
            srv.send("226 done\r\n")

        rc, kind, _, line, body, _ = self.run_fake(script)
        self.assertEqual((rc, kind, body), (0, "FILE", b"abc"), line)

    def test_replies_split_and_merged(self):
        # 120 before 220, a multi-line reply sent byte by byte, 150 and 226
        # in one segment before the data arrives.
        def script(srv):
            srv.send("120 wait a moment\r\n")
            for b in b"220-first\r\n 220 not the end\r\n220 ready\r\n":
                srv.send(bytes([b]))
            srv.expect("USER", "230 ok\r\n")
            srv.expect("TYPE", "200 ok\r\n")
            srv.expect("SIZE", "213 4\r\n")
            data = srv.passive()
            srv.expect("RETR", "150 here\r\n226 done\r\n")
            time.sleep(0.2)
            data.sendall(b"late")
            data.close()

        rc, kind, _, line, body, _ = self.run_fake(script)
        self.assertEqual((rc, kind, body), (0, "FILE", b"late"), line)

    def test_server_hangs_up(self):
        def script(srv):
            srv.send("220 fake\r\n")
            srv.expect("USER")

        rc, kind, f, line, _, srv = self.run_fake(script)
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "503"), line)
        self.assertEqual(f["error"], "CONNECT(127.0.0.1:%d)/recv: Connection closed by server"
                         % srv.port)

    def test_nonsense_reply(self):
        def script(srv):
            srv.send("220 fake\r\n")
            srv.expect("USER", "HTTP/1.1 400 Bad Request\r\n\r\n")

        rc, kind, f, line, _, srv = self.run_fake(script)
        self.assertEqual((rc, kind, f.get("status")), (1, "ERROR", "503"), line)
        self.assertEqual(f["error"], "CONNECT(127.0.0.1:%d)/invalid reply to USER" % srv.port)

    def test_service_not_available(self):
        def script(srv):
            srv.send("421-Too many users\r\n421 try later\r\n")

        rc, kind, f, line, _, _ = self.run_fake(script)
        self.assertEqual((rc, kind, f.get("status"), f.get("code")), (1, "ERROR", "503", "421"),
                         line)
        self.assertEqual(f["error"], "421 Too many users try later")

    def test_typecode_d_lists(self):
        # ";type=d" (RFC 1738) lists the path even without a trailing '/'.
        def script(srv):
            srv.send("220 fake\r\n")
            srv.expect("USER", "230 ok\r\n")
            srv.expect("TYPE", "200 ok\r\n")
            srv.expect("CWD", "250 ok\r\n")
            data = srv.passive()
            srv.expect("LIST", "150 here\r\n")
            data.sendall(b"-rw-r--r-- 1 0 0 1 Nov 23 20:06 x\r\n")
            data.close()
            srv.send("226 done\r\n")

        rc, kind, _, line, body, srv = self.run_fake(script, path="/%2Fabs/dir;type=d")
        self.assertEqual((rc, kind), (0, "LISTING"), line)
        self.assertIn("CWD /abs/dir", srv.commands)
        self.assertIn(b" x\r\n", body)


if __name__ == "__main__":
    unittest.main()
