"""What the POP proxy's integration tests share (spec §7).

  RawPop      a raw POP3 client on a socket: single-line replies, multi-line
              bodies exactly as on the wire, the connection's end;
  FakePop     a scripted line-based POP3 server (threads) for what dovecot
              cannot be made to do: STLS in CAPA, garbage status lines, a
              body cut off, a body larger than the client reads;
  PopEnv      the module fixture: a work directory, sekisho-scand and two
              dovecot instances ("a" on 127.0.0.1, "b" on 127.0.0.1 too:
              the proxy's user@host tests name them by address and port);
  PopCase     one sekisho --pop per class in front of them;
  pbs_dump    the POP-before-SMTP store as mdb_dump prints it (lmdb-utils).

dovecot missing is an ERROR here, never a skip (issue: a skip would hide
that POP goes untested in CI; dev/install-deps.sh installs dovecot-pop3d).
Every wait is bounded; every server listens on loopback only.
"""
import os
import re
import socket
import subprocess
import time
import unittest

from . import SLOW, Gateway, Scand, Workdir, wait_for
from . import dovecot as dv
from . import mail_fixtures as mf
from .line_server import CLOSE, LineServer

TIMEOUT = 30 * SLOW
# Every fixture in mailbox order: message n is ORDER[n - 1].
ORDER = list(mf.FIXTURES)
PRODUCT_RX = r"Sekisho/sekisho_pop/[^/()\s]+/gw\.test"


def require_dovecot():
    """dovecot must be installed: its absence fails the tests."""
    reason = dv.available()
    if reason:
        raise AssertionError("POP tests need dovecot: %s (dev/install-deps.sh test)" % reason)


def msgno(name):
    return ORDER.index(name) + 1


def stuff(message):
    """message (CRLF lines) as a POP3 body on the wire: byte-stuffed, with
    the end line."""
    lines = message.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines = lines[:-1]
    return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines) + b".\r\n"


def unstuff(body):
    """The wire body (end line included) back to the message."""
    assert body.endswith(b"\r\n.\r\n") or body == b".\r\n", body[-20:]
    lines = body[:-3].split(b"\r\n")[:-1]
    return b"".join((ln[1:] if ln.startswith(b".") else ln) + b"\r\n" for ln in lines)


# ---- the client ------------------------------------------------------------------

class RawPop:
    """A POP3 client that shows the bytes: cmd() returns the status line
    (no CRLF), body() the multi-line body as sent (stuffed, end line
    included)."""

    def __init__(self, port, host="127.0.0.1", timeout=TIMEOUT, greet=True, source=None):
        # source: another loopback address to connect from (127.0.0.2 ...)
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""
        self.greeting = self.line() if greet else None

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def line(self):
        """One line without its CRLF; b"" when the connection closed first
        (a partial line then comes back as it is)."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                out, self.buf = self.buf, b""
                return out
            self.buf += chunk
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.rstrip(b"\r\n")

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, line):
        self.send((line if isinstance(line, bytes) else line.encode()) + b"\r\n")
        return self.line()

    def body(self, limit=1 << 24):
        """The multi-line body after a positive status line, as sent,
        through its end line; what came when the connection closed first
        (then not ending with the end line)."""
        searched = 0  # the end line is looked for in new bytes only
        while True:
            if self.buf.startswith(b".\r\n"):
                i = 3
                break
            i = self.buf.find(b"\r\n.\r\n", max(0, searched - 4))
            if i >= 0:
                i += 5
                break
            searched = len(self.buf)
            if len(self.buf) > limit:
                raise AssertionError("body over %d bytes" % limit)
            try:
                chunk = self.sock.recv(1 << 20)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                out, self.buf = self.buf, b""
                return out
            self.buf += chunk
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def multi(self, line):
        """(status line, body or None) of a command with a multi-line reply."""
        st = self.cmd(line)
        return st, (self.body() if st.startswith(b"+OK") else None)

    def login(self, user="alice", password="alice-pw"):
        st = self.cmd("USER " + user)
        assert st.startswith(b"+OK"), st
        st = self.cmd("PASS " + password)
        assert st.startswith(b"+OK"), st
        return st

    def wait_closed(self, timeout=10.0):
        """What still came before the proxy closed the connection; raises
        AssertionError when it stays open."""
        self.sock.settimeout(0.2)
        got, self.buf = self.buf, b""
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return got
            if not chunk:
                return got
            got += chunk
        raise AssertionError("the proxy kept the connection open (got %r)" % got[:200])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- a scripted server -------------------------------------------------------------

class FakePop(LineServer):
    """A line-based POP3 server on 127.0.0.1 (harness.line_server). script
    maps an upper-case verb (or "GREETING", or "*" for any other line) to a
    reply: bytes (sent as they are: a reply with its CRLFs, multi-line
    bodies included), CLOSE, a tuple (bytes, CLOSE) to answer then close,
    or a callable (conn, line) -> one of these (it may also write to conn
    itself and return b""). Every line received is recorded before it is
    answered."""

    DEFAULT = {
        "GREETING": b"+OK fake POP3 server ready\r\n",
        "USER": b"+OK user\r\n",
        "PASS": b"+OK logged in\r\n",
        "CAPA": b"+OK capabilities\r\nTOP\r\nUSER\r\nSTLS\r\nUIDL\r\nSASL PLAIN\r\n.\r\n",
        "STAT": b"+OK 0 0\r\n",
        "NOOP": b"+OK\r\n",
        "QUIT": (b"+OK bye\r\n", CLOSE),
        "*": b"-ERR unknown command\r\n",
    }

    def __init__(self, **script):
        super().__init__(script)

    def reset(self, **script):
        with self.lock:
            self.script = dict(script)
            self.sessions = []

    def lines(self):
        with self.lock:
            return [ln for s in self.sessions for ln in s.lines]

    def script_arg(self, sess):
        return sess.conn


# ---- the fixture -------------------------------------------------------------------

class PopEnv:
    """A module's servers: scand, dovecot a and b. alice's mailbox on a
    holds every fixture (ORDER); on b alice has one mail of her own and
    another password, so a test sees which server it reached."""

    B_MAIL = mf.plain("from b", b"served by b\r\n")

    def __init__(self, name):
        require_dovecot()
        self.wd = Workdir(name)
        self.started = []
        try:
            self.scand = Scand(self.wd.path)
            self.started.append(self.scand)
            self.a = dv.Dovecot(self.wd.path, "a")
            self.started.append(self.a)
            self.b = dv.Dovecot(self.wd.path, "b", users={"alice": "b-pw", "carol": "carol-pw"})
            self.started.append(self.b)
            self.a.set_mailbox("alice", [mf.FIXTURES[n] for n in ORDER])
            self.a.set_mailbox("bob", [mf.FIXTURES["clean_text"]])
            self.b.set_mailbox("alice", [self.B_MAIL])
        except Exception:
            self.stop()
            raise

    def stop(self):
        for p in reversed(self.started):
            try:
                p.stop()
            except Exception:  # noqa: BLE001 - stop everything that was started
                pass
        self.started = []
        self.wd.cleanup()


class PopCase(unittest.TestCase):
    """One sekisho --pop per class. SECTION/COMMON/HOSTS_ALLOW as in the
    SMTP tests; PARENT "a" (default), "b", "fake" (cls.fake, a FakePop) or
    None (no parent_server_host). ENV is the module's {"env": PopEnv};
    GW_ENV a dict of variables for sekisho's environment (PAM, CARES_HOSTS),
    filled by then."""
    ENV = None
    SECTION = {}
    COMMON = {}
    HOSTS_ALLOW = ""
    PARENT = "a"
    FAKE = None  # the FakePop script of the class, when PARENT == "fake"
    GW_ENV = None  # variables added to sekisho's environment (harness.Gateway env=)

    @classmethod
    def setUpClass(cls):
        env = cls.ENV["env"]
        cls.env, cls.a, cls.b = env, env.a, env.b
        cls.dir = os.path.join(env.wd.path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.fake = None
        section = {"virus_check": "yes", "action": "delete"}
        if cls.PARENT == "fake":
            cls.fake = FakePop(**(cls.FAKE or {}))
            section.update(parent_server_host="127.0.0.1", parent_server_port=str(cls.fake.port))
        elif cls.PARENT in ("a", "b"):
            server = getattr(env, cls.PARENT)
            section.update(parent_server_host=server.host, parent_server_port=str(server.port))
        section.update(cls.SECTION)
        common = {"hostname": "gw.test"}
        common.update(cls.COMMON)
        try:
            cls.gw = Gateway(cls.dir, env.scand.socket, service="pop", section=section,
                             common=common, hosts_allow=cls.HOSTS_ALLOW, env=cls.GW_ENV)
        except Exception:
            if cls.fake:
                cls.fake.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.gw.stop()
        finally:
            if cls.fake:
                cls.fake.stop()

    def client(self, greet=True, source=None):
        c = RawPop(self.gw.port, greet=greet, source=source)
        self.addCleanup(c.close)
        return c

    def tmpdir(self):
        return os.path.join(self.gw.prefix, "tmp", "spool")

    def access_lines(self, rx=r"", count=1, timeout=10.0):
        return self.gw.wait_log("access", rx, count=count, timeout=timeout)


def pbs_dump(tmpdir):
    """{address: epoch seconds} of <tmpdir>/pbs.lmdb, read with mdb_dump -p
    (printable: the key and value lines follow "HEADER=END", indented by
    one blank, until "DATA=END")."""
    store = os.path.join(tmpdir, "pbs.lmdb")
    out = subprocess.run(["mdb_dump", "-p", store], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError("mdb_dump %s: %s" % (store, out.stderr))
    lines = out.stdout.splitlines()
    data = lines[lines.index("HEADER=END") + 1:lines.index("DATA=END")]
    entries = [ln[1:] for ln in data]
    return {entries[i]: int(entries[i + 1]) for i in range(0, len(entries) - 1, 2)}


def field(line, name):
    """The value of an access record's "<NAME>:...:" group, e.g. field(l,
    "ACTION") -> "DELETE"."""
    m = re.search(r" %s:([^ ]*)" % re.escape(name), line)
    return m.group(1) if m else None


__all__ = ["RawPop", "FakePop", "PopEnv", "PopCase", "pbs_dump", "stuff", "unstuff", "msgno",
           "ORDER", "CLOSE", "TIMEOUT", "PRODUCT_RX", "require_dovecot", "field", "wait_for"]
