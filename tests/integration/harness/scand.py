"""scand - start/stop helper for sekisho-scand in integration tests, and a
small Python client of its wire format (src/proto/scanreq.h).

    from harness.scand import Scand
    sd = Scand(build_dir, databases_dir, threads=2)
    sd.start()                 # waits (bounded) for the start line
    sd.socket_path             # give this to the proxy under test
    sd.reload()                # RELOAD request -> (ok, signatures, error)
    sd.sighup()                # SIGHUP, no reply
    sd.stop()                  # SIGTERM, bounded wait, kill as a last resort

    c = ScandClient(sd.socket_path)
    r = c.scan_path("/tmp/x/eicar.com", flags=RF_RISKWARE)
    r.verdict, r.name, r.details, r.scan_us, r.error

Every wait is bounded; the daemon's stderr goes to sd.log_path.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

# Wire constants (src/proto/scanreq.h).
MAGIC_REQ = b"SKQ1"
MAGIC_REP = b"SKR1"
VERSION = 3
T_SCAN, T_RELOAD = 0, 1
SVC_HTTP, SVC_SMTP, SVC_POP, SVC_FTP = 0, 1, 2, 3
CLEAN, INFECTED, ERROR = 0, 1, 2
VERDICTS = {CLEAN: "CLEAN", INFECTED: "INFECTED", ERROR: "ERROR"}
RF_RISKWARE = 1 << 0
RF_BLOCK_ENCRYPTED = 1 << 1
RF_BLOCK_MAXNESTED = 1 << 2
RF_BLOCK_SCANTIMEOUT = 1 << 3
RF_MAIL = 1 << 4
VSD_ENCRYPTED = 1 << 0
VSD_MAXNESTED = 1 << 1
VSD_SCANTIMEOUT = 1 << 2
VSD_UNDECODED = 1 << 3
VSD_OVERSIZE = 1 << 4
VSD_MAXFILES = 1 << 5
HEADER_LEN = 12

START_TIMEOUT = float(os.environ.get("SEKISHO_SCAND_START_TIMEOUT", "60"))
STOP_TIMEOUT = 30.0
IO_TIMEOUT = float(os.environ.get("SEKISHO_SCAND_IO_TIMEOUT", "120"))


def _s16(b):
    return struct.pack(">H", len(b)) + b


def encode_scan(req_id, fname=b"", flags=0, timeout_ms=0, patterns=b"", service=SVC_HTTP):
    body = (struct.pack(">QBBHI", req_id, service, 0, flags, timeout_ms) + _s16(patterns) +
            _s16(fname))
    return MAGIC_REQ + bytes([VERSION, T_SCAN]) + struct.pack(">HI", 0, len(body)) + body


def encode_reload(req_id):
    body = struct.pack(">Q", req_id)
    return MAGIC_REQ + bytes([VERSION, T_RELOAD]) + struct.pack(">HI", 0, len(body)) + body


class Reply:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def verdict_name(self):
        return VERDICTS.get(self.verdict, "?")

    def __repr__(self):
        return "Reply(%r)" % self.__dict__


def decode_reply(data):
    """data holds exactly one frame."""
    if data[:4] != MAGIC_REP or data[4] != VERSION:
        raise ValueError("bad reply header %r" % data[:12])
    typ = data[5]
    body = data[HEADER_LEN:]
    req_id = struct.unpack_from(">Q", body, 0)[0]
    if typ == T_SCAN:
        verdict, _, details, scan_us, engine_id = struct.unpack_from(">BBHQQ", body, 8)
        off = 28
        n = struct.unpack_from(">H", body, off)[0]
        name = body[off + 2:off + 2 + n].decode()
        off += 2 + n
        n = struct.unpack_from(">H", body, off)[0]
        error = body[off + 2:off + 2 + n].decode()
        return Reply(type=typ, id=req_id, verdict=verdict, details=details, scan_us=scan_us,
                     engine_id=engine_id, name=name, error=error)
    ok, _, _, sigs = struct.unpack_from(">BBHQ", body, 8)
    n = struct.unpack_from(">H", body, 20)[0]
    error = body[22:22 + n].decode()
    return Reply(type=typ, id=req_id, ok=bool(ok), signatures=sigs, error=error)


class ScandClient:
    """One connection; requests are sent one at a time (or pipelined with
    send_scan/recv_reply)."""

    def __init__(self, socket_path, timeout=IO_TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(socket_path)
        self.next_id = 1

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def _recv_exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise ConnectionError("sekisho-scand closed the connection")
            out += chunk
        return out

    def recv_reply(self):
        head = self._recv_exact(HEADER_LEN)
        blen = struct.unpack_from(">I", head, 8)[0]
        return decode_reply(head + self._recv_exact(blen))

    def send_scan(self, fd, fname="", flags=0, timeout_ms=0, patterns="", service=SVC_HTTP):
        req_id = self.next_id
        self.next_id += 1
        frame = encode_scan(req_id, fname.encode(), flags, timeout_ms, patterns.encode(), service)
        socket.send_fds(self.sock, [frame[:1]], [fd])  # the fd rides on the first byte
        self.sock.sendall(frame[1:])
        return req_id

    def scan_fd(self, fd, **kw):
        req_id = self.send_scan(fd, **kw)
        r = self.recv_reply()
        if r.id != req_id:
            raise AssertionError("reply id %d for request %d" % (r.id, req_id))
        return r

    def scan_path(self, path, **kw):
        fd = os.open(path, os.O_RDONLY)
        try:
            kw.setdefault("fname", os.path.basename(path))
            return self.scan_fd(fd, **kw)
        finally:
            os.close(fd)

    def reload(self):
        req_id = self.next_id
        self.next_id += 1
        self.sock.sendall(encode_reload(req_id))
        r = self.recv_reply()
        if r.id != req_id:
            raise AssertionError("reply id %d for reload %d" % (r.id, req_id))
        return r


class Scand:
    def __init__(self, build_dir, databases_dir, threads=2, extra_args=()):
        self.binary = os.path.join(build_dir, "bin", "sekisho-scand")
        self.databases_dir = databases_dir
        self.threads = threads
        self.extra_args = list(extra_args)
        # sun_path is 108 bytes: keep the directory short.
        self.dir = tempfile.mkdtemp(prefix="sks-")
        os.chmod(self.dir, 0o755)  # --user: the dropped user reaches DIR/tmp
        self.socket_path = os.path.join(self.dir, "scand.sock")
        self.log_path = os.path.join(self.dir, "scand.log")
        self.proc = None
        self.start_line = None

    def start(self):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("no %s (build first)" % self.binary)
        log = open(self.log_path, "ab")
        args = [self.binary, "--socket", self.socket_path, "--databases", self.databases_dir,
                "--threads", str(self.threads), "--tmpdir", os.path.join(self.dir, "tmp")
                ] + self.extra_args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log()
            for line in text.splitlines():
                if line.startswith("sekisho-scand: loaded ") and "listening on" in line:
                    self.start_line = line
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("sekisho-scand exited with %s:\n%s" %
                                   (self.proc.returncode, text))
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("sekisho-scand did not start within %ss:\n%s" %
                           (START_TIMEOUT, self.log()))

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, text, timeout=30.0, count=1):
        """Wait until text occurs count times in the log; True if it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log().count(text) >= count:
                return True
            time.sleep(0.05)
        return False

    def client(self):
        return ScandClient(self.socket_path)

    def reload(self):
        """RELOAD request; returns (ok, signatures, error) when it ended."""
        with self.client() as c:
            r = c.reload()
        return r.ok, r.signatures, r.error

    def sighup(self):
        self.proc.send_signal(signal.SIGHUP)

    def stop(self):
        """SIGTERM, wait (bounded), SIGKILL as a last resort. Returns the
        exit status."""
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait(STOP_TIMEOUT)
        elif self.proc is not None:
            rc = self.proc.returncode
        return rc

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
