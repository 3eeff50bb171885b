"""Transfers through the FTP proxy (spec §8: FTP-4, FTP-6 .. FTP-11, C-26,
SCAN-12, LOG-2) with the real vsftpd servers of harness/ftp_proxy.py and
real clients: curl, Python's ftplib and the raw client RawFtp.

Covered, and why:
  - clean files come out byte-identical (sha256 of what the client got, or
    of what landed in the server's incoming/) for RETR and STOR of 1 KiB
    and 10 MiB in every data mode a client uses: EPSV, PASV, EPRT, PORT
    (curl) and ftplib's passive and active mode; STOU and APPE (to a new
    file and to one that exists) through ftplib - the proxy spools,
    scans and re-sends every byte, so a short or reordered copy would show;
  - IPv6: a proxy on ::1 in front of the IPv4 server and a proxy on
    127.0.0.1 in front of the IPv6 server, both modes each way: the proxy
    speaks each side's own family (PASV/PORT to 127.0.0.1, EPSV/EPRT to
    ::1);
  - REST: a resumed download gives the tail, byte-identical;
  - EICAR (and EICAR in a zip) with action=delete: a download is answered
    "530 Infected by Eicar-Test-Signature" and no byte reaches the client;
    an upload likewise and no byte reaches the server (G-17); the session
    goes on in step afterwards;
  - self_proxy: USER name@host:port and name#host:port pick the server
    (which one answered is told by a file only b serves), with and
    without a parent server; the proxy greets with its product name;
  - bounce protection (RFC 2577): a passive data connection from another
    address is refused and the server never sees the command; PORT and
    EPRT naming another address or a port below 1024 are refused and never
    reach the server; in active mode the client's listener is reached by
    the proxy only, and the server is given the proxy's own port;
  - LIST and NLST are the server's bytes in both modes, MLSD's answer is
    the server's; SIZE, MDTM, TYPE, PWD, CWD, CDUP are relayed;
  - the access log: one GET record per download with its byte count, one
    PUT per upload, the URL with the absolute path (after curl's CWD too),
    TCP_MISS/000 with DETECT-STAT:INFECTED for a refused file, the same
    line in the detect log and the "Infected: URL=[...]" info line.

The ::1 classes are skipped only when ::1 cannot be bound here.
"""
import ftplib
import hashlib
import io
import os
import re
import socket
import unittest

import harness
from harness import testfiles
from harness import ftp_files
from harness.ftp_proxy import CURL, PRODUCT_RX, TIMEOUT, FtpCase, FtpEnv, RawFtp, curl

ENV = {}
EICAR_NAME = "Eicar-Test-Signature"
INFECTED = "530 Infected by " + EICAR_NAME
EICAR_FILES = ("eicar.com", "eicar.zip")
SIZES = ("clean_1k.bin", "clean_10m.bin")
# A vsftpd protocol-log line of a reply: ... FTP response: Client "127.0.0.1", "227 ..."
RESPONSE_RX = re.compile(r'FTP response: Client "[^"]*", "(.*)"$')


def setUpModule():
    if CURL is None:
        raise AssertionError("the FTP proxy tests need curl (dev/install-deps.sh test)")
    ENV["env"] = FtpEnv("ftp-transfers")


def tearDownModule():
    if "env" in ENV:
        ENV["env"].stop()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_sha(name):
    return sha(ftp_files.content(name))


def replies(server):
    """The replies vsftpd sent, in order, as its protocol log has them."""
    out = []
    for line in server.log_lines():
        m = RESPONSE_RX.search(line)
        if m:
            out.append(m.group(1))
    return out


def upload_outcome(server, path, timeout=10.0):
    """How vsftpd ended the upload of path (inside its root): "OK UPLOAD"
    or "FAIL UPLOAD", once its log says. (vsftpd writes a FAIL UPLOAD
    line without a byte count, which server.transfers() does not read.)"""
    rx = re.compile(r'\] ((?:OK|FAIL) UPLOAD): Client "[^"]*", "%s"' % re.escape(path))

    def kind():
        found = rx.findall(server.log_text())
        return found[-1] if found else None
    return harness.wait_for(kind, timeout * harness.SLOW,
                            what="vsftpd's log line of the upload of %s" % path)


def pasv_port(text):
    """The port of a 227 reply's (h1,h2,h3,h4,p1,p2)."""
    nums = text.split("(", 1)[1].split(")", 1)[0].split(",")
    return int(nums[4]) * 256 + int(nums[5])


def outcome(fn, *args):
    """The reply text of an ftplib call, or the text of its error."""
    try:
        return fn(*args)
    except ftplib.Error as e:
        return str(e)


class TransferCase(FtpCase):
    ENV = ENV

    @property
    def server(self):
        """The vsftpd behind this class's proxy."""
        return getattr(self.env, self.PARENT)

    def ftp(self, passive=True, user="anonymous"):
        """ftplib logged in through the proxy."""
        f = ftplib.FTP(timeout=TIMEOUT)
        f.connect(self.LISTEN, self.gw.port)
        self.addCleanup(f.close)
        f.login(user, "test@example.com")
        f.set_pasv(passive)
        return f

    def direct(self, server=None):
        """ftplib logged in to the server itself, not through the proxy."""
        server = server or self.server
        f = ftplib.FTP(timeout=TIMEOUT)
        f.connect(server.host, server.port)
        self.addCleanup(f.close)
        f.login("anonymous", "test@example.com")
        return f

    def target(self, name):
        """A name in incoming/ no other test uploads to."""
        self._uploads = getattr(self, "_uploads", 0) + 1
        return "%s-%s-%d-%s" % (type(self).__name__, self._testMethodName, self._uploads, name)

    def uploaded(self, target):
        return os.path.join(self.env.upload_path, target)

    def out(self, name):
        return os.path.join(self.dir, "%s-%s" % (self._testMethodName, name))

    def mark(self):
        return len(self.server.commands())

    def commands_since(self, mark):
        return self.server.commands()[mark:]

    def retr_sha(self, f, name, rest=None):
        h = hashlib.sha256()
        reply = f.retrbinary("RETR " + name, h.update, rest=rest)
        self.assertTrue(reply.startswith("226"), reply)
        return h.hexdigest()

    def curl_get(self, name, *opts):
        """curl -v of name through the proxy; (sha of the file, curl's -v text)."""
        out = self.out(name)
        rc, _, err = curl(["-v"] + list(opts) + ["-o", out, self.url(name)])
        self.assertEqual(rc, 0, err[-2000:])
        return file_sha(out), err

    def curl_put(self, name, *opts):
        """curl -v -T of fixture name into incoming/; (sha of what the server
        stored, curl's -v text, the name in incoming/)."""
        target = self.target(name)
        rc, _, err = curl(["-v"] + list(opts) + ["-T", self.env.files[name],
                                                  self.url("incoming/" + target)])
        self.assertEqual(rc, 0, err[-2000:])
        return file_sha(self.uploaded(target)), err, target

    def records(self, before, count):
        """The access records written after the first before ones, once
        there are count of them; exactly count."""
        self.gw.wait_log("access", r"", count=before + count)
        lines = self.gw.log_lines("access")[before:]
        self.assertEqual(len(lines), count, lines)
        return lines


# ---- clean transfers ------------------------------------------------------------------

# curl's data modes: options, the command curl sends, what the proxy must send
# to the IPv4 server a4 for it (FTP-6, FTP-7: PASV and PORT whatever the
# client used).
CURL_MODES = (
    ("EPSV", (), "> EPSV", "PASV"),
    ("PASV", ("--ftp-pasv", "--disable-epsv"), "> PASV", "PASV"),
    ("EPRT", ("--ftp-port", "127.0.0.1"), "> EPRT |1|127.0.0.1|", "PORT 127,0,0,1,"),
    ("PORT", ("--ftp-port", "127.0.0.1", "--disable-eprt"), "> PORT 127,0,0,1,",
     "PORT 127,0,0,1,"),
)
CLIENT_VERBS = ("> EPSV", "> PASV", "> EPRT", "> PORT")


class TestCleanCurl(TransferCase):
    """RETR and STOR with curl in each data mode (FTP-6, FTP-7, FTP-8)."""

    def test_retr_and_stor_byte_identical_in_every_mode(self):
        for mode, opts, sent, upstream in CURL_MODES:
            for name in SIZES:
                with self.subTest(mode=mode, name=name):
                    mark = self.mark()
                    got, err_get = self.curl_get(name, *opts)
                    self.assertEqual(got, content_sha(name))
                    stored, err_put, _ = self.curl_put(name, *opts)
                    self.assertEqual(stored, content_sha(name))
                    # curl used the mode asked for, and no other (curl
                    # falls back from EPSV to PASV, from EPRT to PORT).
                    for err in (err_get, err_put):
                        self.assertIn(sent, err)
                        for other in CLIENT_VERBS:
                            if not sent.startswith(other):
                                self.assertNotIn("\n" + other, err)
                    cmds = self.commands_since(mark)
                    self.assertEqual(len([c for c in cmds if c.startswith(upstream)]), 2, cmds)
                    self.assertFalse([c for c in cmds if c.startswith(("EPSV", "EPRT"))], cmds)
                    self.assertIn("RETR " + name, cmds)


class TestCleanFtplib(TransferCase):
    """RETR, STOR, STOU and APPE with ftplib, passive and active."""

    def test_retr_and_stor_byte_identical(self):
        for passive in (True, False):
            f = self.ftp(passive)
            for name in SIZES:
                with self.subTest(passive=passive, name=name):
                    mark = self.mark()
                    self.assertEqual(self.retr_sha(f, name), content_sha(name))
                    target = self.target(name)
                    reply = f.storbinary("STOR incoming/" + target,
                                         io.BytesIO(ftp_files.content(name)))
                    self.assertTrue(reply.startswith("226"), reply)
                    self.assertEqual(file_sha(self.uploaded(target)), content_sha(name))
                    cmds = self.commands_since(mark)
                    want = "PASV" if passive else "PORT 127,0,0,1,"
                    self.assertEqual(len([c for c in cmds if c.startswith(want)]), 2, cmds)
            f.quit()

    def _stou(self, f, passive, data):
        """STOU of data by ftplib's own data-connection calls, so the 150
        (which names the file) is seen; the name vsftpd gave."""
        if passive:
            conn = socket.create_connection(f.makepasv(), timeout=TIMEOUT)
            resp = f.sendcmd("STOU")
        else:
            listener = f.makeport()
            resp = f.sendcmd("STOU")
            conn, _ = listener.accept()
            listener.close()
        # vsftpd: "150 FILE: STOU.n"
        self.assertTrue(resp.startswith("150 FILE: "), resp)
        conn.sendall(data)
        conn.close()
        reply = f.voidresp()
        self.assertTrue(reply.startswith("226"), reply)
        return resp[len("150 FILE: "):].strip()

    def test_stou(self):
        data = ftp_files.content("clean_10m.bin")
        for passive in (True, False):
            with self.subTest(passive=passive):
                f = self.ftp(passive)
                f.cwd("incoming")
                made = self._stou(f, passive, data)
                self.assertEqual(file_sha(self.uploaded(made)), sha(data))
                f.quit()

    def test_appe_new_and_existing_file(self):
        data = ftp_files.content("clean_10m.bin")
        cut = 3 * ftp_files.MB + 5
        for passive in (True, False):
            with self.subTest(passive=passive):
                f = self.ftp(passive)
                # APPE to a new file creates it.
                fresh = self.target("appe-new.bin")
                reply = f.storbinary("APPE incoming/" + fresh, io.BytesIO(data[:1024]))
                self.assertTrue(reply.startswith("226"), reply)
                self.assertEqual(file_sha(self.uploaded(fresh)), sha(data[:1024]))
                # APPE to a file that is there adds to it.
                existing = self.target("appe-old.bin")
                path = self.uploaded(existing)
                with open(path, "wb") as fh:
                    fh.write(data[:cut])
                self.env.a4.hand_over(path)
                reply = f.storbinary("APPE incoming/" + existing, io.BytesIO(data[cut:]))
                self.assertTrue(reply.startswith("226"), reply)
                self.assertEqual(file_sha(path), sha(data))
                f.quit()


# ---- IPv6 ------------------------------------------------------------------------------

class Ipv6Case(TransferCase):
    @classmethod
    def setUpClass(cls):
        if ENV["env"].a6 is None:
            raise unittest.SkipTest("::1 cannot be bound here")
        super().setUpClass()


class TestIpv6ClientIpv4Server(Ipv6Case):
    """A proxy on ::1 in front of a4 (127.0.0.1): the client's EPSV/EPRT
    become PASV/PORT upstream, from the proxy's IPv4 address."""
    LISTEN = "::1"

    def test_curl_epsv_and_eprt(self):
        for mode, opts, sent, upstream in (
                ("EPSV", (), "> EPSV", "PASV"),
                ("EPRT", ("--ftp-port", "::1"), "> EPRT |2|::1|", "PORT 127,0,0,1,")):
            for name in SIZES:
                with self.subTest(mode=mode, name=name):
                    mark = self.mark()
                    got, err_get = self.curl_get(name, "-6", "-g", *opts)
                    self.assertEqual(got, content_sha(name))
                    stored, err_put, _ = self.curl_put(name, "-6", "-g", *opts)
                    self.assertEqual(stored, content_sha(name))
                    self.assertIn(sent, err_get)
                    self.assertIn(sent, err_put)
                    cmds = self.commands_since(mark)
                    self.assertEqual(len([c for c in cmds if c.startswith(upstream)]), 2, cmds)

    def test_ftplib_over_ipv6(self):
        # ftplib on an IPv6 connection uses EPSV and EPRT.
        for passive in (True, False):
            f = self.ftp(passive)
            for name in SIZES:
                with self.subTest(passive=passive, name=name):
                    self.assertEqual(self.retr_sha(f, name), content_sha(name))
                    target = self.target(name)
                    reply = f.storbinary("STOR incoming/" + target,
                                         io.BytesIO(ftp_files.content(name)))
                    self.assertTrue(reply.startswith("226"), reply)
                    self.assertEqual(file_sha(self.uploaded(target)), content_sha(name))
            f.quit()


class TestIpv4ClientIpv6Server(Ipv6Case):
    """A proxy on 127.0.0.1 in front of a6 (::1): EPSV and EPRT |2|
    upstream whatever the client used."""
    PARENT = "a6"

    def test_curl_every_mode(self):
        for mode, opts, sent, _ in CURL_MODES:
            upstream = "EPSV" if mode in ("EPSV", "PASV") else "EPRT |2|::1|"
            for name in SIZES:
                with self.subTest(mode=mode, name=name):
                    mark = self.mark()
                    got, err = self.curl_get(name, *opts)
                    self.assertEqual(got, content_sha(name))
                    self.assertIn(sent, err)
                    stored, err, _ = self.curl_put(name, *opts)
                    self.assertEqual(stored, content_sha(name))
                    self.assertIn(sent, err)
                    cmds = self.commands_since(mark)
                    self.assertEqual(len([c for c in cmds if c.startswith(upstream)]), 2, cmds)
                    self.assertFalse([c for c in cmds if c.startswith(("PASV", "PORT"))], cmds)

    def test_ftplib_both_modes(self):
        for passive in (True, False):
            f = self.ftp(passive)
            for name in SIZES:
                with self.subTest(passive=passive, name=name):
                    self.assertEqual(self.retr_sha(f, name), content_sha(name))
                    target = self.target(name)
                    reply = f.storbinary("STOR incoming/" + target,
                                         io.BytesIO(ftp_files.content(name)))
                    self.assertTrue(reply.startswith("226"), reply)
                    self.assertEqual(file_sha(self.uploaded(target)), content_sha(name))
            f.quit()


# ---- REST -------------------------------------------------------------------------------

class TestResume(TransferCase):
    """A download resumed with REST: the tail, byte-identical."""

    def test_ftplib_rest(self):
        data = ftp_files.content("clean_10m.bin")
        for passive, rest in ((True, 4 * ftp_files.MB + 3), (False, 7 * ftp_files.MB + 1)):
            with self.subTest(passive=passive):
                f = self.ftp(passive)
                mark = self.mark()
                self.assertEqual(self.retr_sha(f, "clean_10m.bin", rest=rest), sha(data[rest:]))
                self.assertIn("REST %d" % rest, self.commands_since(mark))
                f.quit()

    def test_curl_continue_at(self):
        data = ftp_files.content("clean_10m.bin")
        rest = 5 * ftp_files.MB + 11
        for mode, opts in (("EPSV", ()), ("EPRT", ("--ftp-port", "127.0.0.1"))):
            with self.subTest(mode=mode):
                mark = self.mark()
                logged = len(self.gw.log_lines("access"))
                rc, out, err = curl(list(opts) + ["-C", str(rest), self.url("clean_10m.bin")])
                self.assertEqual(rc, 0, err)
                self.assertEqual(sha(out), sha(data[rest:]))
                self.assertIn("REST %d" % rest, self.commands_since(mark))
                # The record counts what went to the client: the tail.
                line = self.records(logged, 1)[0]
                self.assertIn(" TCP_MISS/200 %d GET " % (len(data) - rest), line)


# ---- EICAR --------------------------------------------------------------------------------

class TestEicar(TransferCase):
    """action=delete: a detection is "530 Infected by <name>" and the file
    never reaches the other side (FTP-8.4, G-17)."""

    def assertSessionInStep(self, c):
        """The dialogue goes on after the refusal: a clean RETR works."""
        self.assertEqual(c.code("NOOP"), 200)
        addr = c.pasv()
        d = c.connect_data(addr)
        self.addCleanup(d.close)
        self.assertTrue(c.cmd("RETR clean_1k.bin")[-1].startswith("150"))
        data, reset = RawFtp.read_all(d)
        self.assertEqual((sha(data), reset), (content_sha("clean_1k.bin"), False))
        self.assertTrue(c.reply()[-1].startswith("226"))

    def raw_retr(self, c, name, passive):
        """RETR name by hand; (preliminary reply, final reply, the bytes
        the data connection brought)."""
        if passive:
            d = c.connect_data(c.pasv())
            self.addCleanup(d.close)
            first = c.cmd("RETR " + name)
        else:
            ls, port_arg, _ = c.listen_data()
            self.addCleanup(ls.close)
            self.assertEqual(c.code("PORT " + port_arg), 200)
            first = c.cmd("RETR " + name)
            d, _ = ls.accept()
            self.addCleanup(d.close)
        data, _ = RawFtp.read_all(d)
        return first, c.reply(), data

    def raw_stor(self, c, target, data, passive):
        """STOR by hand; (preliminary reply, final reply)."""
        if passive:
            d = c.connect_data(c.pasv())
            first = c.cmd("STOR incoming/" + target)
        else:
            ls, port_arg, _ = c.listen_data()
            self.addCleanup(ls.close)
            self.assertEqual(c.code("PORT " + port_arg), 200)
            first = c.cmd("STOR incoming/" + target)
            d, _ = ls.accept()
        with d:
            d.sendall(data)
        return first, c.reply()

    def assertNothingStored(self, target):
        """No byte of the upload on the server: vsftpd ended it as failed,
        logged no upload of its bytes, and the file is absent or empty."""
        self.assertEqual(upload_outcome(self.env.a4, "/incoming/" + target), "FAIL UPLOAD")
        done = [t for t in self.env.a4.transfers() if t[1] == "/incoming/" + target]
        self.assertFalse([t for t in done if t[0] == "OK UPLOAD" or t[2] > 0], done)
        path = self.uploaded(target)
        if os.path.exists(path):
            self.assertEqual(os.path.getsize(path), 0, "bytes of an infected upload were stored")

    def test_download_refused_raw(self):
        for name in EICAR_FILES:
            for passive in (True, False):
                with self.subTest(name=name, passive=passive):
                    c = self.client()
                    c.login()
                    self.assertEqual(c.code("TYPE I"), 200)
                    first, final, data = self.raw_retr(c, name, passive)
                    self.assertTrue(first[-1].startswith("150"), first)
                    self.assertEqual(final, [INFECTED])
                    self.assertEqual(data, b"")
                    self.assertSessionInStep(c)

    def test_download_refused_ftplib(self):
        for name in EICAR_FILES:
            for passive in (True, False):
                with self.subTest(name=name, passive=passive):
                    f = self.ftp(passive)
                    got = []
                    with self.assertRaises(ftplib.error_perm) as e:
                        f.retrbinary("RETR " + name, got.append)
                    self.assertEqual(str(e.exception), INFECTED)
                    self.assertEqual(b"".join(got), b"")
                    self.assertEqual(self.retr_sha(f, "clean_1k.bin"), content_sha("clean_1k.bin"))
                    f.quit()

    def test_download_refused_curl(self):
        for name in EICAR_FILES:
            for mode, opts in (("EPSV", ()), ("EPRT", ("--ftp-port", "127.0.0.1"))):
                with self.subTest(name=name, mode=mode):
                    rc, out, err = curl(list(opts) + [self.url(name)])
                    self.assertNotEqual(rc, 0, err)
                    self.assertEqual(out, b"")

    def test_upload_refused_raw(self):
        for name in EICAR_FILES:
            data = ftp_files.content(name)
            for passive in (True, False):
                with self.subTest(name=name, passive=passive):
                    c = self.client()
                    c.login()
                    self.assertEqual(c.code("TYPE I"), 200)
                    target = self.target(name)
                    first, final = self.raw_stor(c, target, data, passive)
                    self.assertTrue(first[-1].startswith("150"), first)
                    self.assertEqual(final, [INFECTED])
                    # After the next reply vsftpd has logged how the upload ended.
                    self.assertSessionInStep(c)
                    self.assertNothingStored(target)

    def test_upload_refused_ftplib(self):
        for name in EICAR_FILES:
            data = ftp_files.content(name)
            for passive in (True, False):
                with self.subTest(name=name, passive=passive):
                    f = self.ftp(passive)
                    target = self.target(name)
                    with self.assertRaises(ftplib.error_perm) as e:
                        f.storbinary("STOR incoming/" + target, io.BytesIO(data))
                    self.assertEqual(str(e.exception), INFECTED)
                    self.assertEqual(f.voidcmd("NOOP")[:3], "200")
                    self.assertNothingStored(target)
                    f.quit()

    def test_upload_refused_curl(self):
        for name in EICAR_FILES:
            for mode, opts in (("EPSV", ()), ("EPRT", ("--ftp-port", "127.0.0.1"))):
                with self.subTest(name=name, mode=mode):
                    target = self.target(name)
                    rc, _, err = curl(list(opts) + ["-T", self.env.files[name],
                                                    self.url("incoming/" + target)])
                    self.assertNotEqual(rc, 0, err)
                    self.assertNothingStored(target)


# ---- self_proxy: USER name@host ------------------------------------------------------

class TestUserAtHost(TransferCase):
    """self_proxy=yes without a parent server: USER names the server (FTP-4)."""
    SECTION = {"self_proxy": "yes"}
    PARENT = None

    def login(self, user):
        """ftplib through the proxy as user; (session, its greeting, the reply to the login)."""
        f = ftplib.FTP(timeout=TIMEOUT)
        welcome = f.connect(self.LISTEN, self.gw.port)
        self.addCleanup(f.close)
        reply = f.login(user, "test@example.com")
        return f, welcome, reply

    def assertServedBy(self, f, key):
        """Which server the session reached: b alone has b_only.txt, a alone clean_1k.bin."""
        if key == "b":
            got = io.BytesIO()
            f.retrbinary("RETR b_only.txt", got.write)
            self.assertEqual(got.getvalue(), self.env.B_TEXT)
            with self.assertRaises(ftplib.error_perm) as e:
                f.retrbinary("RETR clean_1k.bin", lambda b: None)
        else:
            self.assertEqual(self.retr_sha(f, "clean_1k.bin"), content_sha("clean_1k.bin"))
            with self.assertRaises(ftplib.error_perm) as e:
                f.retrbinary("RETR b_only.txt", lambda b: None)
        self.assertTrue(str(e.exception).startswith("550"), str(e.exception))

    def test_greeting_is_the_proxys(self):
        c = self.client()
        self.assertEqual(len(c.greeting), 1, c.greeting)
        self.assertRegex(c.greeting[0], r"^220 %s at gw\.test starting\.$" % PRODUCT_RX)

    def test_at_and_hash_pick_the_server(self):
        a4, b = self.env.a4, self.env.b
        for user, key, server in (("anonymous@127.0.0.1:%d" % a4.port, "a", a4),
                                  ("anonymous#127.0.0.1:%d" % b.port, "b", b)):
            with self.subTest(user=user):
                mark = len(server.commands())
                f, welcome, reply = self.login(user)
                # The server's greeting ("220 server a/b") is dropped.
                self.assertRegex(welcome, r"^220 %s at gw\.test starting\.$" % PRODUCT_RX)
                self.assertEqual(reply, "230 Login successful.")
                self.assertServedBy(f, key)
                f.quit()
                # The server got the name part only.
                self.assertEqual(server.commands()[mark], "USER anonymous")
        # The record names the server the USER chose.
        self.access_lines(r" TCP_MISS/200 %d GET ftp://anonymous@127\.0\.0\.1:%d/b_only\.txt "
                          % (len(self.env.B_TEXT), b.port))

    def test_raw_dialogue_never_shows_the_servers_banner(self):
        c = self.client()
        r = c.cmd("USER anonymous#127.0.0.1:%d" % self.env.b.port)
        self.assertEqual(r, ["331 Please specify the password."])
        self.assertEqual(c.cmd("PASS x@example.com"), ["230 Login successful."])
        self.assertEqual(c.cmd("QUIT")[-1][:3], "221")


class TestUserAtHostWithParent(TestUserAtHost):
    """self_proxy=yes with a parent server (a4): a plain USER goes to the
    parent, USER name#host to the server named."""
    PARENT = "a4"

    def test_plain_user_reaches_the_parent(self):
        f, welcome, reply = self.login("anonymous")
        self.assertRegex(welcome, r"^220 %s at gw\.test starting\.$" % PRODUCT_RX)
        self.assertEqual(reply, "230 Login successful.")
        self.assertServedBy(f, "a")
        f.quit()


# ---- bounce protection (RFC 2577) -------------------------------------------------------

class TestBounce(TransferCase):
    """A data connection goes to, or comes from, the client only."""

    def sync(self, c):
        """NOOP through the proxy: once answered, vsftpd has logged every
        command the proxy sent it before."""
        self.assertEqual(c.code("NOOP"), 200)

    def test_passive_data_from_another_address_refused(self):
        refused = 0
        for verb in ("PASV", "EPSV"):
            for retr_first in (False, True):
                with self.subTest(verb=verb, retr_first=retr_first):
                    c = self.client()
                    c.login()
                    mark = self.mark()
                    addr = c.pasv() if verb == "PASV" else c.epsv()
                    if retr_first:
                        # The RETR waits for the data connection (FTP-8.2).
                        c.send("RETR clean_1k.bin\r\n")
                        d = c.connect_data(addr, source="127.0.0.2")
                        reply = c.reply()
                    else:
                        d = c.connect_data(addr, source="127.0.0.2")
                        reply = c.cmd("RETR clean_1k.bin")
                    self.addCleanup(d.close)
                    self.assertEqual(reply, ["530 Invalid Connection Source."])
                    data, _ = RawFtp.read_all(d)
                    self.assertEqual(data, b"")
                    self.sync(c)
                    cmds = self.commands_since(mark)
                    self.assertIn("NOOP", cmds)
                    self.assertFalse([x for x in cmds if x.startswith("RETR")], cmds)
                    refused += 1
                    self.gw.wait_log("info", r"ftp: data connection from \[127\.0\.0\.2:\d+\] "
                                             r"refused: only \[127\.0\.0\.1\] may connect there",
                                     count=refused)

    def test_passive_client_on_another_address(self):
        # The client's control connection from 127.0.0.2: its data
        # connection must come from there, not from 127.0.0.1.
        c = self.client(source="127.0.0.2")
        c.login()
        d = c.connect_data(c.pasv(), source="127.0.0.2")
        self.addCleanup(d.close)
        self.assertTrue(c.cmd("RETR clean_1k.bin")[-1].startswith("150"))
        data, _ = RawFtp.read_all(d)
        self.assertEqual(sha(data), content_sha("clean_1k.bin"))
        self.assertTrue(c.reply()[-1].startswith("226"))
        d = c.connect_data(c.pasv(), source="127.0.0.1")
        self.addCleanup(d.close)
        self.assertEqual(c.cmd("RETR clean_1k.bin"), ["530 Invalid Connection Source."])

    def test_proxy_announces_its_own_passive_port(self):
        c = self.client()
        c.login()
        host, port = c.pasv()
        self.assertEqual(host, "127.0.0.1")
        theirs = [r for r in replies(self.server) if r.startswith("227 ")][-1]
        self.assertNotEqual(port, pasv_port(theirs))

    def test_port_and_eprt_to_others_refused(self):
        c = self.client()
        c.login()
        mark = self.mark()
        for line, want in (("PORT 127,0,0,2,200,10", "500 Illegal PORT command."),
                           ("PORT 127,0,0,1,3,255", "500 Illegal PORT command."),
                           ("PORT 127,0,0,1,0,21", "500 Illegal PORT command."),
                           ("EPRT |1|127.0.0.2|51210|", "500 Illegal EPRT command."),
                           ("EPRT |1|127.0.0.1|1023|", "500 Illegal EPRT command.")):
            with self.subTest(line=line):
                self.assertEqual(c.cmd(line), [want])
                # A refused PORT leaves no data mode behind.
                self.assertEqual(c.cmd("RETR clean_1k.bin"),
                                 ["530 please use PORT/PASV command at first."])
                verb, arg = line.split(" ", 1)
                self.gw.wait_log("info", r"ftp: %s to \[%s\] refused" % (verb, re.escape(arg)))
        self.sync(c)
        cmds = self.commands_since(mark)
        self.assertEqual(cmds, ["NOOP"])
        # 1024 is the first port allowed: a PORT the server gets, the proxy's own.
        self.assertEqual(c.code("PORT 127,0,0,1,4,0"), 200)
        sent = [x for x in self.commands_since(mark) if x.startswith("PORT ")]
        self.assertEqual(len(sent), 1, sent)
        self.assertNotEqual(sent[0], "PORT 127,0,0,1,4,0")

    def test_active_data_connection_comes_from_the_proxy(self):
        c = self.client(source="127.0.0.2")
        c.login()
        ls, port_arg, _ = c.listen_data()
        self.addCleanup(ls.close)
        mark = self.mark()
        self.assertEqual(c.code("PORT " + port_arg), 200)
        self.assertTrue(c.cmd("RETR clean_10m.bin")[-1].startswith("150"))
        d, peer = ls.accept()
        self.addCleanup(d.close)
        data, _ = RawFtp.read_all(d)
        self.assertEqual(sha(data), content_sha("clean_10m.bin"))
        self.assertTrue(c.reply()[-1].startswith("226"))
        # The proxy, from the address the client reached it at, connected.
        self.assertEqual(peer[0], c.sock.getpeername()[0])
        # The server was given the proxy's own address and port, not the client's.
        sent = [x for x in self.commands_since(mark) if x.startswith("PORT ")]
        self.assertEqual(len(sent), 1, sent)
        self.assertTrue(sent[0].startswith("PORT 127,0,0,1,"), sent)
        # No one else reached the client's listener.
        ls.setblocking(False)
        with self.assertRaises(BlockingIOError):
            ls.accept()


# ---- listings and relayed commands ----------------------------------------------------------

class TestListings(TransferCase):
    """LIST, NLST (spliced) and MLSD in both modes; other commands relayed (FTP-9)."""

    def test_listings_equal_the_servers(self):
        direct = self.direct()
        for passive in (True, False):
            f = self.ftp(passive)
            direct.set_pasv(passive)
            for cmd in ("LIST", "NLST", "LIST incoming", "NLST incoming"):
                with self.subTest(passive=passive, cmd=cmd):
                    want, got = io.BytesIO(), io.BytesIO()
                    direct.retrbinary(cmd, want.write)
                    reply = f.retrbinary(cmd, got.write)
                    self.assertTrue(reply.startswith("226"), reply)
                    self.assertEqual(got.getvalue(), want.getvalue())
                    if "incoming" not in cmd:
                        self.assertIn(b"clean_10m.bin", got.getvalue())
            with self.subTest(passive=passive, cmd="MLSD"):
                want = outcome(lambda: list(direct.mlsd()))
                got = outcome(lambda: list(f.mlsd()))
                self.assertEqual(got, want)
                self.assertEqual(f.voidcmd("NOOP")[:3], "200")
            f.quit()

    def test_every_listing_of_a_session_arrives(self):
        # Not only the first: each LIST/NLST of one session has its bytes.
        direct = self.direct()
        c = self.client()
        c.login()
        for cmd in ("LIST", "LIST", "NLST", "LIST"):
            want = io.BytesIO()
            direct.retrbinary(cmd, want.write)
            d = c.connect_data(c.pasv())
            self.addCleanup(d.close)
            first = c.cmd(cmd)
            got, _ = RawFtp.read_all(d)
            final = c.reply()
            self.assertEqual((first[-1][:3], final[-1][:3]), ("150", "226"))
            self.assertEqual(got, want.getvalue(), "%s: %d bytes of %d" % (
                cmd, len(got), len(want.getvalue())))

    def test_commands_relayed(self):
        direct = self.direct()
        f = self.ftp()
        for cmd in ("TYPE A", "SIZE clean_1k.bin", "TYPE I", "SIZE clean_1k.bin",
                    "SIZE clean_10m.bin", "MDTM clean_1k.bin", "SIZE no-such-file", "PWD",
                    "CWD incoming", "PWD", "CDUP", "PWD", "CWD no-such-dir", "SYST"):
            with self.subTest(cmd=cmd):
                self.assertEqual(outcome(f.sendcmd, cmd), outcome(direct.sendcmd, cmd))
        self.assertEqual(f.sendcmd("SIZE clean_1k.bin"), "213 1024")
        self.assertEqual(f.sendcmd("TYPE A"), "200 Switching to ASCII mode.")
        self.assertEqual(f.sendcmd("CWD incoming"), "250 Directory successfully changed.")
        self.assertEqual(f.sendcmd("PWD"), '257 "/incoming" is the current directory')


# ---- the logs ------------------------------------------------------------------------------------

class TestAccessLog(TransferCase):
    """FTP-11, LOG-2, SCAN-12: the records, the detect log, the info line."""

    def url_rx(self, path):
        return re.escape("ftp://anonymous@127.0.0.1:%d%s" % (self.server.port, path))

    def test_get_record_per_download(self):
        for passive, name in ((True, "clean_1k.bin"), (False, "clean_10m.bin")):
            with self.subTest(passive=passive):
                before = len(self.gw.log_lines("access"))
                f = self.ftp(passive)
                self.retr_sha(f, name)
                f.quit()
                line = self.records(before, 1)[0]
                self.assertRegex(line, r" 127\.0\.0\.1 TCP_MISS/200 %d GET %s anonymous "
                                       r"DIRECT/127\.0\.0\.1 " % (len(ftp_files.content(name)),
                                                                  self.url_rx("/" + name)))
                self.assertIn(" DETECT-STAT:CLEAN::::: ACTION:NONE: ", line)

    def test_listing_has_no_record(self):
        before = len(self.gw.log_lines("access"))
        f = self.ftp()
        f.retrlines("LIST", lambda line: None)
        self.retr_sha(f, "clean_1k.bin")
        f.quit()
        self.assertIn("/clean_1k.bin ", self.records(before, 1)[0])

    def test_put_records(self):
        before = len(self.gw.log_lines("access"))
        data = ftp_files.content("clean_1k.bin")
        f = self.ftp()
        first = self.target("a.bin")
        f.storbinary("STOR incoming/" + first, io.BytesIO(data))
        # After a CWD the record still names the absolute path.
        f.cwd("incoming")
        second = self.target("b.bin")
        f.storbinary("STOR " + second, io.BytesIO(data))
        f.quit()
        # curl goes CWD incoming, STOR <name>.
        _, err, third = self.curl_put("clean_10m.bin")
        self.assertIn("> CWD incoming", err)
        lines = self.records(before, 3)
        for line, target, size in ((lines[0], first, 1024), (lines[1], second, 1024),
                                   (lines[2], third, 10 * ftp_files.MB)):
            self.assertRegex(line, r" TCP_MISS/200 %d PUT %s anonymous DIRECT/127\.0\.0\.1 "
                             % (size, self.url_rx("/incoming/" + target)))

    def test_eicar_records_detect_log_info_line(self):
        before = len(self.gw.log_lines("access"))
        f = self.ftp()
        with self.assertRaises(ftplib.error_perm):
            f.retrbinary("RETR eicar.com", lambda b: None)
        target = self.target("eicar.com")
        with self.assertRaises(ftplib.error_perm):
            f.storbinary("STOR incoming/" + target, io.BytesIO(testfiles.EICAR))
        f.quit()
        lines = self.records(before, 2)
        for line, method, path, fname in ((lines[0], "GET", "/eicar.com", "eicar.com"),
                                          (lines[1], "PUT", "/incoming/" + target, target)):
            self.assertRegex(line, r" TCP_MISS/000 0 %s %s anonymous DIRECT/127\.0\.0\.1 "
                             % (method, self.url_rx(path)))
            self.assertIn(" DETECT-STAT:INFECTED:%s:%s:" % (EICAR_NAME, fname), line)
            self.assertIn(" ACTION:DELETE: ", line)
            # The detect log has the same record.
            self.assertIn(line, self.gw.wait_log("detect", re.escape(line)))
            self.gw.wait_log("info", r"Infected: URL=\[%s\] VirusName: %s action=DELETE$"
                             % (self.url_rx(path), EICAR_NAME))


@unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
class TestSpoolFull(unittest.TestCase):
    """FTP-1 (transfers bounded by disk space): tmpdir on a 6 MiB tmpfs. A
    10 MiB download or upload cannot be spooled: the client gets the
    temporary failure 451 and none of the bytes, the server none of the
    upload's; the session goes on and a small file still passes (its spool
    was given back)."""

    def test_full_tmpdir_is_a_temporary_failure(self):
        import subprocess
        env = ENV["env"]
        d = os.path.join(env.wd.path, "full")
        mnt = os.path.join(d, "spool")
        os.makedirs(mnt, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount tmpfs: " + r.stderr.strip())
        gw = None
        try:
            harness.chown_for_daemons(mnt)
            gw = harness.Gateway(d, env.scand.socket, service="ftp",
                                 section={"parent_server_host": env.a4.host,
                                          "parent_server_port": str(env.a4.port),
                                          "virus_check": "yes", "action": "delete"},
                                 common={"hostname": "gw.test", "tmpdir": mnt})
            c = RawFtp(gw.port)
            try:
                c.login()
                data = c.connect_data(c.pasv())
                self.assertEqual(c.cmd("RETR clean_10m.bin")[0][:3], "150")
                got, _ = RawFtp.read_all(data)
                data.close()
                self.assertEqual(c.reply(),
                                 ["451 Requested action aborted: local error in processing."])
                self.assertEqual(got, b"")
                data = c.connect_data(c.pasv())
                self.assertEqual(c.cmd("STOR incoming/full-up.bin")[0][:3], "150")
                try:
                    data.sendall(ftp_files.content("clean_10m.bin"))
                except (ConnectionResetError, BrokenPipeError):
                    pass  # the proxy resets an upload it cannot take
                data.close()
                self.assertEqual(c.reply(),
                                 ["451 Requested action aborted: local error in processing."])
                path = os.path.join(env.upload_path, "full-up.bin")
                self.assertEqual(upload_outcome(env.a4, "/incoming/full-up.bin"), "FAIL UPLOAD")
                self.assertTrue(not os.path.exists(path) or os.path.getsize(path) == 0)
                # The session goes on: a small file passes.
                data = c.connect_data(c.pasv())
                self.assertEqual(c.cmd("RETR clean_1k.bin")[0][:3], "150")
                got, _ = RawFtp.read_all(data)
                data.close()
                self.assertEqual(c.reply()[0][:3], "226")
                self.assertEqual(got, ftp_files.content("clean_1k.bin"))
            finally:
                c.close()
            lines = gw.wait_log("access", r"PROXY-ERROR:PROXY/spool", count=2)
            self.assertTrue(all("TCP_MISS/500" in ln for ln in lines), lines)
            self.assertRegex(gw.log_text("error"), r"ftp: cannot spool \[/clean_10m.bin\]")
        finally:
            if gw:
                gw.stop()
            subprocess.run(["umount", mnt], capture_output=True)


if __name__ == "__main__":
    unittest.main()
