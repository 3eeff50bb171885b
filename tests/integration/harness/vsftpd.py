"""A real vsftpd (Debian package vsftpd) on loopback, for FTP tests.

What it does: writes a vsftpd.conf into the test's work directory and
starts /usr/sbin/vsftpd in the foreground (listen=YES, background=NO) on
127.0.0.1 (or ::1) with a free port, anonymous read-only access to a
directory the test provides (anon_root) with or without a password step
(anon_password), passive mode only unless told (see the options), with ports
from a free range, and the FTP protocol log (every command and reply) in
the work directory, so tests can assert what the client sent. An optional
banner_file makes the greeting a multi-line 220 reply.

What it owns: the config file, an empty secure_chroot_dir, the log files
and the vsftpd process group (the listener and one child per session);
stop() ends them all. Every wait is bounded.

Options for the FTP proxy's tests (every one off by default, so the
FTP-over-HTTP callers get the server they always had):
- upload_dir="incoming": a directory of anon_root the anonymous user may
  write to (STOR, STOU, APPE, REST+STOR, DELE, RNFR/RNTO there; the rest
  of anon_root stays read-only). Anonymous uploads were chosen over a
  local user: a local user needs a system account (useradd) and PAM
  (/etc/pam.d/vsftpd, pam_shells), both changes to the machine outside
  the test's directory; anonymous uploads need nothing but vsftpd.conf.
  The anonymous password is still observable: logins() returns it.
  Uploaded files are mode 644 (anon_umask=022), owned by "ftp" as root;
  a file the test itself puts there for APPE or a resumed STOR must be
  given to the session with hand_over() (else 553). STOU names its file
  STOU.1, STOU.2... ("150 FILE: STOU.1") and its transfer log line names
  the directory ("/incoming/"), not the file.
- active=True: PORT and EPRT accepted (port_enable=YES); vsftpd connects
  back from an ephemeral port (connect_from_port_20=NO, no port 20, no
  CAP_NET_BIND_SERVICE needed) and only to the address the control
  connection came from (port_promiscuous=NO, vsftpd's default: a PORT
  naming another address is refused with "500 Illegal PORT command.").
- banner="text": the one-line greeting "220 text" (ftpd_banner), so a
  test can tell which server a proxy reached; banner_lines (a multi-line
  banner_file) wins over it.
- ipv6=True: listens on ::1 only. vsftpd listens on one address family
  per process (listen=YES and listen_ipv6=YES exclude each other): an
  IPv4 and an IPv6 server are two instances (see dual()).
EPSV/EPRT, REST, SIZE and MDTM are vsftpd defaults and always on.
Several instances run side by side: give each its own name (file prefix
in workdir).

What it does not do: no local (PAM) users, no TLS. A login with any name
but anonymous/ftp is refused with "530 This FTP server is anonymous
only.", which is what bad-credential tests need.

Notes on this environment (gVisor sandbox, running as root):
- anonymous sessions run as ftp_username, whose home must exist: the
  package's "ftp" user (/srv/ftp) works, "nobody" (/nonexistent) does not;
- nopriv_user=nobody and secure_chroot_dir pointing at an empty,
  root-owned directory are needed when running as root;
- seccomp_sandbox=NO: vsftpd's seccomp filter is not needed here and
  depends on the kernel's (gVisor's) syscall support;
- as a non-root user vsftpd runs with run_as_launching_user=YES.
"""
import os
import pwd
import random
import re
import signal
import socket
import subprocess
import time

from . import SLOW, Process, free_port, read_text, wait_for

VSFTPD = "/usr/sbin/vsftpd"
PASV_PORTS = 20            # size of the passive port range
PASV_TRIES = 50            # attempts to find a free range
PASV_LOW, PASV_HIGH = 30000, 60000


def available():
    """None when vsftpd can run here, else the reason it cannot."""
    if not os.path.exists(VSFTPD):
        return "vsftpd is not installed (Debian package vsftpd)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("ftp")
        except KeyError:
            return "no 'ftp' user (created by the vsftpd package)"
    return None


def ipv6_loopback():
    """True when ::1 can be bound here."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def _range_free(family, host, low, count):
    socks = []
    try:
        for port in range(low, low + count):
            s = socket.socket(family)
            socks.append(s)
            s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port_range(family, host, count=PASV_PORTS):
    rnd = random.Random(os.getpid() ^ int(time.time()))
    for _ in range(PASV_TRIES):
        low = rnd.randrange(PASV_LOW, PASV_HIGH - count)
        if _range_free(family, host, low, count):
            return low, low + count - 1
    raise RuntimeError("no free range of %d ports for passive mode" % count)


def _free_port6():
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def _port_open(family, host, port):
    try:
        with socket.socket(family) as s:
            s.settimeout(0.5)
            s.connect((host, port))
            return True
    except OSError:
        return False


_XFER = re.compile(r'\] ((?:OK|FAIL) (?:DOWNLOAD|UPLOAD)): Client "[^"]*", "(.*)", (\d+) bytes')


def _make_upload_dir(anon_root, upload_dir):
    """anon_root/upload_dir, writable by the anonymous session's user
    ("ftp" as root; the launching user otherwise). anon_root itself must
    stay unwritable by it: vsftpd refuses a writable chroot root."""
    path = os.path.join(anon_root, upload_dir)
    os.makedirs(path, exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("ftp")
        os.chown(path, pw.pw_uid, pw.pw_gid)
    os.chmod(path, 0o755)
    return path


def dual(workdir, anon_root, name="vsftpd", **options):
    """An IPv4 (127.0.0.1) and an IPv6 (::1) instance serving the same
    anon_root, named NAME4 and NAME6 with banners "NAME4 ready" / "NAME6
    ready" unless options give one. Returns (v4, v6); v6 is None when ::1
    cannot be bound here. Stop both."""
    v4 = Vsftpd(workdir, anon_root, name=name + "4",
                **dict({"banner": name + "4 ready"}, **options))
    if not ipv6_loopback():
        return v4, None
    try:
        v6 = Vsftpd(workdir, anon_root, ipv6=True, name=name + "6",
                    **dict({"banner": name + "6 ready"}, **options))
    except BaseException:
        v4.stop()
        raise
    return v4, v6


class Vsftpd:
    """vsftpd serving anon_root read-only on a loopback port."""

    def __init__(self, workdir, anon_root, ipv6=False, banner_lines=None, anon_password=True,
                 name="vsftpd", upload_dir=None, active=False, banner=None):
        reason = available()
        if reason:
            raise RuntimeError(reason)
        self.workdir = workdir
        self.anon_root = anon_root
        self.name = name
        self.ipv6 = ipv6
        self.banner = banner
        self.upload_path = None
        if upload_dir:
            self.upload_path = _make_upload_dir(anon_root, upload_dir)
        self.host = "::1" if ipv6 else "127.0.0.1"
        family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.port = _free_port6() if ipv6 else free_port()
        self.pasv_min, self.pasv_max = free_port_range(family, self.host)
        self.conf = os.path.join(workdir, name + ".conf")
        self.log_path = os.path.join(workdir, name + ".log")
        empty = os.path.join(workdir, name + "-empty")
        os.makedirs(empty, exist_ok=True)
        os.chmod(empty, 0o755)
        lines = [
            "listen=%s" % ("NO" if ipv6 else "YES"),
            "listen_ipv6=%s" % ("YES" if ipv6 else "NO"),
            ("listen_address6=::1" if ipv6 else "listen_address=127.0.0.1"),
            "listen_port=%d" % self.port,
            "background=NO",
            "anonymous_enable=YES",
            # NO: anonymous logins go USER (331), PASS (230); YES: USER (230).
            "no_anon_password=%s" % ("NO" if anon_password else "YES"),
            "anon_root=%s" % anon_root,
            "local_enable=NO",
            "anon_mkdir_write_enable=NO",
            "pasv_enable=YES",
            "pasv_min_port=%d" % self.pasv_min,
            "pasv_max_port=%d" % self.pasv_max,
            "seccomp_sandbox=NO",
            "secure_chroot_dir=%s" % empty,
            "xferlog_enable=YES",
            "xferlog_std_format=NO",
            "log_ftp_protocol=YES",
            "dual_log_enable=NO",
            "syslog_enable=NO",
            "vsftpd_log_file=%s" % self.log_path,
            "idle_session_timeout=120",
            "data_connection_timeout=120",
        ]
        if upload_dir:
            # anon_other_write_enable: APPE and REST+STOR on an existing
            # file (without it an anonymous upload may only create).
            lines += ["write_enable=YES", "anon_upload_enable=YES",
                      "anon_other_write_enable=YES", "anon_umask=022"]
        else:
            lines += ["write_enable=NO", "anon_upload_enable=NO"]
        if active:
            lines += ["port_enable=YES", "connect_from_port_20=NO", "port_promiscuous=NO"]
        else:
            lines.append("port_enable=NO")
        if banner:
            lines.append("ftpd_banner=%s" % banner)
        if not ipv6:
            lines.append("pasv_address=127.0.0.1")
        if os.geteuid() == 0:
            lines += ["nopriv_user=nobody", "ftp_username=ftp"]
        else:
            lines.append("run_as_launching_user=YES")
        if banner_lines:
            banner = os.path.join(workdir, name + ".banner")
            with open(banner, "w") as f:
                f.write("\n".join(banner_lines) + "\n")
            lines.append("banner_file=%s" % banner)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = Process([VSFTPD, self.conf], os.path.join(workdir, name + ".out"))
        try:
            wait_for(lambda: _port_open(family, self.host, self.port) or not self.proc.alive(),
                     10, what="vsftpd on port %d" % self.port)
        except TimeoutError:
            self.stop()
            raise
        if not self.proc.alive():
            out = self.proc.output()
            self.stop()
            raise RuntimeError("vsftpd exited: " + out)

    def log_lines(self):
        return self.log_text().splitlines()

    def log_text(self):
        """The protocol log so far ("" before the first session)."""
        return read_text(self.log_path)

    def commands(self):
        """Commands received, in order, as vsftpd logged them ("USER anonymous", "PASV"...)."""
        out = []
        for line in self.log_text().splitlines():
            # ... [pid 123] [ftp] FTP command: Client "127.0.0.1", "RETR big.bin"
            if "FTP command:" in line and line.endswith('"'):
                out.append(line.rsplit(', "', 1)[-1][:-1])
        return out

    def logins(self):
        """Successful logins so far, in order: the anonymous passwords
        given (vsftpd logs 'OK LOGIN: Client "127.0.0.1", anon password
        "x@y"'; "" when no_anon_password skipped the PASS step)."""
        out = []
        for line in self.log_lines():
            if "] OK LOGIN: " in line:
                _, _, rest = line.partition(", anon password ")
                out.append(rest[1:-1] if rest.startswith('"') else "")
        return out

    def transfers(self):
        """Finished transfers so far, in order: (kind, path, bytes) with
        kind "OK DOWNLOAD", "OK UPLOAD", "FAIL DOWNLOAD" or "FAIL UPLOAD"
        and path as vsftpd saw it (inside anon_root, e.g. "/incoming/a").
        Directory listings are not transfers here."""
        out = []
        for line in self.log_lines():
            # ... [ftp] OK UPLOAD: Client "127.0.0.1", "/incoming/a", 1024 bytes, 9.1Kbyte/sec
            m = _XFER.search(line)
            if m:
                out.append((m.group(1), m.group(2), int(m.group(3))))
        return out

    def wait_transfers(self, count, timeout=10.0):
        """transfers() once there are at least count of them: vsftpd logs
        a transfer after its 226, so a client may be done before."""
        return wait_for(lambda: len(self.transfers()) >= count and self.transfers(), timeout,
                        what="%d vsftpd transfer log lines" % count)

    def hand_over(self, path):
        """Make a file the test put in the upload directory the anonymous
        session's own (as root: chown to "ftp", mode 644), so that an APPE
        or a resumed STOR (REST) may write to it."""
        if os.geteuid() == 0:
            pw = pwd.getpwnam("ftp")
            os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o644)

    def url(self, path="/", user=None):
        """ftp://host:port/path for curl (user: "name:password" or None)."""
        host = "[%s]" % self.host if self.ipv6 else self.host
        cred = user + "@" if user else ""
        return "ftp://%s%s:%d/%s" % (cred, host, self.port, path.lstrip("/"))

    def stop(self):
        """SIGTERM to the whole process group (sessions included), bounded."""
        proc = self.proc.proc
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(10 * SLOW)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # session children left behind
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.stop()
