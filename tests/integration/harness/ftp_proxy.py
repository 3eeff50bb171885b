"""What the FTP proxy's integration tests share (spec §8).

  RawFtp      a raw FTP control connection: replies as the wire has them
              (multi-line included), data connections opened by hand
              (pasv() / port()), the connection's end;
  FtpEnv      the module fixture: a work directory, sekisho-scand and the
              vsftpd instances "a4" (127.0.0.1) and "a6" (::1) serving one
              anon_root (harness.vsftpd.dual), and "b" (127.0.0.1, its own
              root and banner), all with anonymous uploads into incoming/
              and active mode on;
  FtpCase     one sekisho --ftp per class in front of them;
  curl()      curl with a timeout, (returncode, stdout, stderr).

vsftpd missing is an ERROR here, never a skip (a skip would hide that FTP
goes untested in CI; dev/install-deps.sh installs vsftpd). Every wait is
bounded; every server listens on loopback only.
"""
import os
import shutil
import socket
import subprocess
import time
import unittest

from . import SLOW, Gateway, Scand, Workdir
from . import ftp_files
from . import vsftpd as vs

TIMEOUT = 30 * SLOW
CURL = shutil.which("curl")
PRODUCT_RX = r"Sekisho/sekisho_ftp/[^/()\s]+/gw\.test"


def require_vsftpd():
    reason = vs.available()
    if reason:
        raise AssertionError("FTP tests need vsftpd: %s (dev/install-deps.sh test)" % reason)


def curl(args, timeout=120):
    """curl -sS with args; (returncode, stdout bytes, stderr text)."""
    r = subprocess.run([CURL, "-sS", "--max-time", str(int(timeout * SLOW))] + list(args),
                       capture_output=True, timeout=timeout * SLOW + 10)
    return r.returncode, r.stdout, r.stderr.decode("utf-8", "replace")


# ---- the client ------------------------------------------------------------------

class RawFtp:
    """An FTP client that shows the bytes. reply() returns one whole reply
    as text lines without CRLF (a multi-line reply is several lines);
    cmd() sends a line and returns its reply; code() the code of a reply."""

    def __init__(self, port, host="127.0.0.1", timeout=TIMEOUT, greet=True, source=None):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.host = host
        self.buf = b""
        self.greeting = self.reply() if greet else None

    def line(self):
        """One line without its CRLF; None when the connection closed first."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                if self.buf:
                    out, self.buf = self.buf, b""
                    return out.decode("latin-1")
                return None
            self.buf += chunk
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out.rstrip(b"\r\n").decode("latin-1")

    def reply(self):
        """A whole reply (RFC 959 4.2) as a list of lines; [] when the
        connection closed first."""
        first = self.line()
        if first is None:
            return []
        lines = [first]
        if len(first) >= 4 and first[3] == "-":
            code = first[:3]
            for _ in range(10000):
                ln = self.line()
                if ln is None:
                    break
                lines.append(ln)
                if ln.startswith(code + " ") or ln == code:
                    break
        return lines

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))

    def cmd(self, line):
        """The reply's lines to one command line."""
        self.send((line if isinstance(line, bytes) else line.encode("latin-1")) + b"\r\n")
        return self.reply()

    def code(self, line):
        r = self.cmd(line)
        return int(r[-1][:3]) if r else 0

    def login(self, user="anonymous", password="test@example.com"):
        r = self.cmd("USER " + user)
        if r and r[-1].startswith("331"):
            r = self.cmd("PASS " + password)
        assert r and r[-1].startswith("230"), r
        return r

    def pasv(self):
        """PASV, then a data connection to the address of the 227."""
        r = self.cmd("PASV")
        assert r and r[-1].startswith("227"), r
        nums = r[-1].split("(", 1)[1].split(")", 1)[0].split(",")
        host = ".".join(nums[:4])
        port = int(nums[4]) * 256 + int(nums[5])
        return (host, port)

    def epsv(self):
        r = self.cmd("EPSV")
        assert r and r[-1].startswith("229"), r
        port = int(r[-1].split("(|||", 1)[1].split("|", 1)[0])
        return (self.host, port)

    def connect_data(self, addr, source=None):
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        d = socket.socket(family, socket.SOCK_STREAM)
        d.settimeout(TIMEOUT)
        if source:
            d.bind((source, 0))
        d.connect(addr)
        return d

    def listen_data(self):
        """A listening socket for active mode on the control connection's
        local address; (socket, PORT argument, EPRT argument)."""
        local = self.sock.getsockname()[0]
        family = socket.AF_INET6 if ":" in local else socket.AF_INET
        ls = socket.socket(family, socket.SOCK_STREAM)
        ls.settimeout(TIMEOUT)
        ls.bind((local, 0))
        ls.listen(1)
        port = ls.getsockname()[1]
        port_arg = None
        if family == socket.AF_INET:
            port_arg = ",".join(local.split(".") + [str(port >> 8), str(port & 255)])
        eprt_arg = "|%d|%s|%d|" % (2 if family == socket.AF_INET6 else 1, local, port)
        return ls, port_arg, eprt_arg

    @staticmethod
    def read_all(d, limit=1 << 31):
        out = bytearray()
        while len(out) <= limit:
            try:
                chunk = d.recv(1 << 20)
            except ConnectionResetError:
                return bytes(out), True
            if not chunk:
                break
            out += chunk
        return bytes(out), False

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
            except (ConnectionResetError, OSError):
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


# ---- the fixture -------------------------------------------------------------------

class FtpEnv:
    """A module's servers: scand, vsftpd a4/a6 (one root, the fixtures of
    harness.ftp_files) and b (another root holding only b_only.txt)."""

    B_TEXT = b"served by b\n"

    def __init__(self, name, ipv6=True):
        require_vsftpd()
        self.wd = Workdir(name)
        self.started = []
        try:
            self.root = os.path.join(self.wd.path, "root")
            self.files = ftp_files.generate(self.root)
            self.scand = Scand(self.wd.path)
            self.started.append(self.scand)
            if ipv6 and vs.ipv6_loopback():
                self.a4, self.a6 = vs.dual(self.wd.path, self.root, name="a", upload_dir="incoming",
                                           active=True, banner="server a")
                self.started += [self.a4, self.a6]
            else:
                self.a4 = vs.Vsftpd(self.wd.path, self.root, name="a4", upload_dir="incoming",
                                    active=True, banner="server a")
                self.a6 = None
                self.started.append(self.a4)
            self.root_b = os.path.join(self.wd.path, "root_b")
            os.makedirs(self.root_b, exist_ok=True)
            os.chmod(self.root_b, 0o755)
            path = os.path.join(self.root_b, "b_only.txt")
            with open(path, "wb") as f:
                f.write(self.B_TEXT)
            os.chmod(path, 0o644)
            self.b = vs.Vsftpd(self.wd.path, self.root_b, name="b", upload_dir="incoming",
                               active=True, banner="server b")
            self.started.append(self.b)
        except Exception:
            self.stop()
            raise

    @property
    def upload_path(self):
        return self.a4.upload_path

    def stop(self):
        for p in reversed(self.started):
            try:
                p.stop()
            except Exception:  # noqa: BLE001 - stop everything that was started
                pass
        self.started = []
        self.wd.cleanup()


class FtpCase(unittest.TestCase):
    """One sekisho --ftp per class. SECTION/COMMON/HOSTS_ALLOW as in the
    POP tests; PARENT "a4" (default), "a6", "b" or None (no
    parent_server_host: self_proxy's USER name@host only). ENV is the
    module's {"env": FtpEnv}. LISTEN "::1" puts the proxy on IPv6."""
    ENV = None
    SECTION = {}
    COMMON = {}
    HOSTS_ALLOW = ""
    PARENT = "a4"
    LISTEN = "127.0.0.1"
    GW_ENV = None  # variables added to sekisho's environment (harness.Gateway env=)
    PROBE_SOURCE = None  # where start()'s readiness probe comes from (harness.Gateway)

    @classmethod
    def setUpClass(cls):
        env = cls.ENV["env"]
        cls.env = env
        cls.dir = os.path.join(env.wd.path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        section = {"virus_check": "yes", "action": "delete"}
        if cls.PARENT:
            server = getattr(env, cls.PARENT)
            section.update(parent_server_host=server.host, parent_server_port=str(server.port))
        section.update(cls.SECTION)
        common = {"hostname": "gw.test"}
        common.update(cls.COMMON)
        cls.gw = Gateway(cls.dir, env.scand.socket, service="ftp", section=section,
                         common=common, hosts_allow=cls.HOSTS_ALLOW, start=False,
                         env=cls.GW_ENV, probe_source=cls.PROBE_SOURCE)
        if cls.LISTEN != "127.0.0.1":
            cls.gw.section["svcport"] = "[%s]:%d" % (cls.LISTEN, cls.gw.port)
            cls.gw.listen_host = cls.LISTEN
            cls.gw.write_ini()
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    @property
    def host(self):
        return self.LISTEN

    def url(self, path="/", user=None):
        """ftp://<proxy>/path for curl (user "name:password" or None)."""
        host = "[%s]" % self.LISTEN if ":" in self.LISTEN else self.LISTEN
        cred = user + "@" if user else ""
        return "ftp://%s%s:%d/%s" % (cred, host, self.gw.port, path.lstrip("/"))

    def client(self, greet=True, source=None):
        c = RawFtp(self.gw.port, host=self.LISTEN, greet=greet, source=source)
        self.addCleanup(c.close)
        return c

    def access_lines(self, rx=r"", count=1, timeout=10.0):
        return self.gw.wait_log("access", rx, count=count, timeout=timeout)
