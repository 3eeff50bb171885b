"""A scripted line-based FTP server for what vsftpd cannot be made to do.

    from harness.fake_ftp import FakeFtp, CLOSE, send_file, receive_file
    fake = FakeFtp(files={"f.bin": data}, NOOP=b"500 no\\r\\n")
    fake.reset(RETR=send_file(data, cut_after=1000, final=b"426 cut\\r\\n"))
    ... fake.lines() ... fake.stop()

A harness.line_server.LineServer: it listens on 127.0.0.1 (one thread
per control connection) and answers each command line from a
script that maps an upper-case verb (or "GREETING", or "*" for any other
line) to

  - bytes, sent as they are (a reply with its CRLFs: multi-line replies,
    garbage, a reply of any length);
  - CLOSE, to close the control connection without a word;
  - a tuple (bytes, CLOSE): answer, then close;
  - a callable (session, line) -> one of these; it may also write to
    session.conn itself (and return b"").

Every line received is recorded (without its line end) before it is
answered: lines() has them all since the last reset(), in order, across
sessions.

Data connections, which the script's callables drive:
  - PASV and EPSV (the defaults) open a listening socket of the session's
    own on 127.0.0.1 and answer 227 / 229 with its address;
  - PORT and EPRT (the defaults) remember the address and answer 200;
  - session.data() is the transfer's data connection: the one accepted on
    the passive listener, or one made to the PORT/EPRT address;
  - send_file(...) and receive_file(...) make callables for RETR/LIST and
    STOR/APPE that send "150", move the bytes (whole, trickled, cut after
    N bytes, reset) and send a final reply (or none at all);
  - the defaults serve files= for RETR, a listing of them for LIST/NLST,
    and keep what STOR/STOU/APPE receive in uploads().

The session thread is busy while a callable moves data: command lines
that arrive meanwhile (the proxy's keep-alive NOOPs, an ABOR) wait in the
socket and are read and answered afterwards, in order, as vsftpd does.

FakeFtpCase is harness.ftp_proxy.FtpCase with a FakeFtp as the proxy's
parent server (cls.fake). retr(), retr_active() and stor() are one
transfer of a RawFtp client through the proxy, whatever the server (the
FTP proxy's tests share them).

What it does not do: no login check, no directories, no TYPE/MODE
semantics; no IPv6 (it listens on 127.0.0.1 only). Every socket wait is
bounded (DATA_TIMEOUT, the control connection's timeout), and stop() ends
every connection and thread.
"""
import socket
import time

from . import SLOW
from .ftp_proxy import FtpCase, RawFtp
from .line_server import CLOSE, LineServer, LineSession, shut_down

DATA_TIMEOUT = 30 * SLOW  # seconds a transfer waits for its data connection

MARK = b"150 Opening BINARY mode data connection.\r\n"
DONE = b"226 Transfer complete.\r\n"
NO_DATA = b"425 Failed to establish connection.\r\n"


class FakeFtpSession(LineSession):
    """One control connection: what it received and its data connection."""

    def __init__(self, server, conn):
        super().__init__(server, conn)
        self.listener = None  # the passive listening socket (PASV/EPSV)
        self.active = None  # (host, port) of PORT/EPRT

    def passive(self, extended=False):
        """A listening socket for the next transfer; the 227/229 reply."""
        self.close_listener()
        self.active = None
        ls = socket.socket()
        ls.bind(("127.0.0.1", 0))
        ls.listen(4)
        ls.settimeout(DATA_TIMEOUT)
        self.listener = ls
        port = ls.getsockname()[1]
        with self.server.lock:
            self.server.listeners.append(ls)
        if extended:
            return b"229 Entering Extended Passive Mode (|||%d|)\r\n" % port
        return b"227 Entering Passive Mode (127,0,0,1,%d,%d).\r\n" % (port >> 8, port & 255)

    def port(self, line):
        """PORT h1,h2,h3,h4,p1,p2 or EPRT |1|a.b.c.d|port|: remembered."""
        self.close_listener()
        verb, _, arg = line.decode("latin-1").partition(" ")
        try:
            if verb.upper() == "EPRT":
                d = arg[0]
                _, _, host, port, _ = arg.split(d)
                self.active = (host, int(port))
            else:
                n = [int(x) for x in arg.split(",")]
                self.active = (".".join(str(x) for x in n[:4]), n[4] * 256 + n[5])
        except (ValueError, IndexError):
            return b"501 Illegal PORT command.\r\n"
        return b"200 PORT command successful. Consider using PASV.\r\n"

    def data(self):
        """The transfer's data connection (passive: accepted; active:
        connected), or None when none came within DATA_TIMEOUT."""
        try:
            if self.listener is not None:
                d, _ = self.listener.accept()
                self.close_listener()
            elif self.active is not None:
                d = socket.create_connection(self.active, timeout=DATA_TIMEOUT)
                self.active = None
            else:
                return None
        except OSError:
            return None
        d.settimeout(DATA_TIMEOUT)
        with self.server.lock:
            self.server.datas.add(d)
        return d

    def close_data(self, d, reset=False):
        if reset:
            d.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        try:
            d.close()
        finally:
            with self.server.lock:
                self.server.datas.discard(d)

    def close_listener(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None


def send_file(data, mark=MARK, final=DONE, chunk=65536, delay=0.0, cut_after=None,
              reset=False):
    """A RETR/LIST reply: mark, then data over the data connection in
    chunks of chunk bytes with delay seconds between them (a trickle), then
    the data connection closed (reset with reset=True), then final (None:
    never sent). cut_after=N: only the first N bytes are sent before the
    close. data may be a callable (session, line) -> bytes."""

    def run(sess, line):
        body = data(sess, line) if callable(data) else data
        sess.send(mark)
        d = sess.data()
        if d is None:
            return NO_DATA
        if cut_after is not None:
            body = body[:cut_after]
        try:
            for i in range(0, len(body), chunk):
                if i and delay:
                    time.sleep(delay)
                d.sendall(body[i:i + chunk])
        except OSError:
            pass  # the proxy cut it: the final reply still goes out
        sess.close_data(d, reset=reset)
        return final or b""

    return run


def receive_file(mark=MARK, final=DONE, name=None):
    """A STOR/APPE/STOU reply: mark, then everything the data connection
    brings until its end (kept in the server's uploads() under the
    command's argument, or name), then final (None: never sent)."""

    def run(sess, line):
        sess.send(mark)
        d = sess.data()
        if d is None:
            return NO_DATA
        got = bytearray()
        reset = False
        try:
            while True:
                chunk = d.recv(1 << 20)
                if not chunk:
                    break
                got += chunk
        except OSError:
            reset = True  # a reset, not an end: the upload was not complete
        sess.close_data(d)
        key = name or line.decode("latin-1").partition(" ")[2]
        with sess.server.lock:
            sess.server.received.append((key, bytes(got), reset))
        return final or b""

    return run


def _listing(sess, line):
    return b"".join(b"-rw-r--r--    1 0        0    %10d Jan 01  2020 %s\r\n"
                    % (len(v), k.encode()) for k, v in sorted(sess.server.files.items()))


def _retr(sess, line):
    name = line.decode("latin-1").partition(" ")[2]
    if name not in sess.server.files:
        return b"550 Failed to open file.\r\n"
    return send_file(sess.server.files[name])(sess, line)


class FakeFtp(LineServer):
    """A line-based FTP server on 127.0.0.1 (see the top). files: name ->
    bytes for the default RETR and LIST."""

    DEFAULT = {
        "GREETING": b"220 fake FTP server ready\r\n",
        "USER": b"331 Please specify the password.\r\n",
        "PASS": b"230 Login successful.\r\n",
        "TYPE": b"200 Switching to Binary mode.\r\n",
        "MODE": b"200 Mode set to S.\r\n",
        "STRU": b"200 Structure set to F.\r\n",
        "SYST": b"215 UNIX Type: L8\r\n",
        "PWD": b'257 "/" is the current directory\r\n',
        "CWD": b"250 Directory successfully changed.\r\n",
        "NOOP": b"200 NOOP ok.\r\n",
        "FEAT": b"211-Features:\r\n EPSV\r\n PASV\r\n SIZE\r\n211 End\r\n",
        "ABOR": b"225 No transfer to ABOR.\r\n",
        "PASV": lambda sess, line: sess.passive(),
        "EPSV": lambda sess, line: sess.passive(extended=True),
        "PORT": lambda sess, line: sess.port(line),
        "EPRT": lambda sess, line: sess.port(line),
        "RETR": _retr,
        "LIST": send_file(_listing),
        "NLST": send_file(lambda sess, line: b"".join(
            k.encode() + b"\r\n" for k in sorted(sess.server.files))),
        "STOR": receive_file(),
        "APPE": receive_file(),
        "STOU": receive_file(name="STOU"),
        "QUIT": (b"221 Goodbye.\r\n", CLOSE),
        "*": b"500 Unknown command.\r\n",
    }

    def __init__(self, files=None, **script):
        self.files = dict(files or {})
        self.record = []  # every line received, across sessions
        self.received = []  # (name, bytes, reset) per upload
        self.datas = set()
        self.listeners = []
        super().__init__(script)

    def reset(self, **script):
        """A new script (the files stay); the record starts again (lines
        of sessions still open included)."""
        with self.lock:
            self.script = dict(script)
            self.record = []
            self.received = []

    def lines(self):
        """Every command line received since the last reset, in order of
        arrival across sessions (bytes, no CRLF)."""
        with self.lock:
            return list(self.record)

    def uploads(self):
        """(name, bytes, reset) of every upload received so far."""
        with self.lock:
            return list(self.received)

    def connected(self):
        """Control connections the proxy has not closed (whether or not
        their session thread, busy in a callable, has noticed)."""
        with self.lock:
            conns = list(self.conns)
        n = 0
        for c in conns:
            try:
                if c.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    continue  # the peer's end of the connection
            except BlockingIOError:
                pass  # open, nothing to read
            except OSError:
                continue  # closed or reset
            n += 1
        return n

    def session(self, conn):
        return FakeFtpSession(self, conn)

    def record_line(self, sess, line):
        with self.lock:
            sess.lines.append(line)
            self.record.append(line)

    def verb(self, line):
        # A Telnet "urgent" prefix (IAC IP IAC DM) before the verb.
        return super().verb(line.lstrip(b"\xff\xf4\xf2"))

    def ended(self, sess):
        sess.close_listener()

    def wake(self):
        super().wake()
        with self.lock:
            datas = list(self.datas)
            listeners = list(self.listeners)
        shut_down(datas + listeners)  # a listener's accept() wakes too
        for ls in listeners:
            ls.close()


class FakeFtpCase(FtpCase):
    """FtpCase in front of a FakeFtp (cls.fake) instead of vsftpd: the
    proxy's parent server is the fake; FILES and FAKE are its files and
    script for the class (tests change the script with cls.fake.reset)."""
    PARENT = None
    FILES = {}
    FAKE = {}

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeFtp(files=cls.FILES, **cls.FAKE)
        cls.SECTION = dict(cls.SECTION, parent_server_host=cls.fake.host,
                           parent_server_port=str(cls.fake.port))
        try:
            super().setUpClass()
        except BaseException:
            cls.fake.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.fake.stop()


# ---- the client side: one transfer through the proxy (harness.ftp_proxy.RawFtp) -------


def retr(c, path):
    """PASV, then RETR path on the RawFtp c: (first reply, final reply, the
    bytes of the data connection). A first reply that is not 1xx is the
    final one."""
    d = c.connect_data(c.pasv())
    try:
        first = c.cmd("RETR " + path)
        if not first or not first[-1].startswith("1"):
            return first, first, b""
        data = RawFtp.read_all(d)[0]
    finally:
        d.close()
    return first, c.reply(), data


def retr_active(c, path):
    """PORT (a listener of the client's), then RETR path: as retr()."""
    ls, port_arg, _ = c.listen_data()
    try:
        reply = c.cmd("PORT " + port_arg)
        assert reply and reply[-1].startswith("200 "), reply
        first = c.cmd("RETR " + path)
        if not first or not first[-1].startswith("1"):
            return first, first, b""
        d, _ = ls.accept()
        data = RawFtp.read_all(d)[0]
        d.close()
    finally:
        ls.close()
    return first, c.reply(), data


def stor(c, path, data):
    """PASV, then STOR path with data on the RawFtp c: (first reply, final
    reply)."""
    d = c.connect_data(c.pasv())
    try:
        first = c.cmd("STOR " + path)
        if not first or not first[-1].startswith("1"):
            return first, first
        try:
            d.sendall(data)
        except OSError:
            pass  # the proxy refused the upload before its end
    finally:
        d.close()
    return first, c.reply()


__all__ = ["FakeFtp", "FakeFtpSession", "FakeFtpCase", "CLOSE", "send_file", "receive_file",
           "MARK", "DONE", "DATA_TIMEOUT", "retr", "retr_active", "stor"]
