"""Integration-test harness: real servers on loopback and the gateway under test.

Everything here starts real processes (nginx, postfix's smtp-sink,
sekisho-scand, sekisho) on 127.0.0.1 with ports picked at run time, waits for
them with bounded polls, and stops them. Binaries come from $SEKISHO_BUILD
(default: build/ of the repository).
"""
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BUILD = os.environ.get("SEKISHO_BUILD", os.path.join(REPO, "build"))
BIN = os.path.join(BUILD, "bin")
SANITIZED = os.path.basename(BUILD.rstrip("/")).startswith("build-san")
# Sanitizer builds are slower; waits scale with this.
SLOW = 4 if SANITIZED else 1

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-"
         b"ANTIVIRUS-TEST-FILE!$H+H*")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recv_until(sock, marker):
    """Bytes from sock until they hold marker, or the peer closes (the
    socket's timeout bounds each wait); all that was read."""
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll predicate until it returns a true value; bounded by timeout."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("timed out waiting for %s" % what)
        time.sleep(interval)


def port_open(port, host="127.0.0.1", source=None):
    try:
        with socket.create_connection((host, port), timeout=0.5,
                                      source_address=(source, 0) if source else None):
            return True
    except OSError:
        return False


def unprivileged_user():
    """The user daemons drop to when the tests run as root."""
    return "nobody"


def chown_for_daemons(path):
    if os.geteuid() == 0:
        pw = pwd.getpwnam(unprivileged_user())
        os.chown(path, pw.pw_uid, pw.pw_gid)


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def check_sanitizer_report(text, who):
    """Fail loudly when a sanitizer build reported a problem in a child."""
    for marker in SANITIZER_MARKERS:
        if marker in text:
            start = text.index(marker)
            raise AssertionError("%s: sanitizer report:\n%s" % (who, text[max(0, start - 200):start + 3000]))


class Process:
    """A child process with its output captured to a file."""

    def __init__(self, argv, log_path, env=None, cwd=None):
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env, cwd=cwd,
                                     start_new_session=True)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def send(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        if self.alive():
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
        check_sanitizer_report(self.output(), " ".join(self.argv[:2]))
        return self.proc.returncode

    def stop_group(self, timeout=10.0):
        """For a daemon's master that ends its own children on SIGTERM
        (dovecot, postfix): SIGTERM, then SIGKILL to the whole process group
        for anything left behind; bounded."""
        if self.alive():
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout * SLOW)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        return self.stop()


def read_text(path):
    """The text of a file a server writes (its log), "" while it does not
    exist yet; bytes that are not UTF-8 replaced."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


class Nginx:
    """nginx serving a directory on a loopback port (the origin server)."""

    def __init__(self, root, workdir):
        self.root = root
        self.port = free_port()
        self.workdir = workdir
        os.makedirs(os.path.join(workdir, "nginx-tmp"), exist_ok=True)
        conf = os.path.join(workdir, "nginx.conf")
        user = "user root;" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write("""%(user)s
daemon off;
worker_processes 1;
error_log %(w)s/nginx-error.log;
pid %(w)s/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path %(w)s/nginx-tmp;
  proxy_temp_path %(w)s/nginx-tmp;
  fastcgi_temp_path %(w)s/nginx-tmp;
  uwsgi_temp_path %(w)s/nginx-tmp;
  scgi_temp_path %(w)s/nginx-tmp;
  types { text/html html; application/octet-stream bin; application/zip zip; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:%(port)d;
    root %(root)s;
    location /slow/ { limit_rate 25m; }
    location /medium/ { limit_rate 200m; }
  }
}
""" % {"w": workdir, "port": self.port, "root": root, "user": user})
        self.proc = Process(["nginx", "-c", conf], os.path.join(workdir, "nginx.out"))
        wait_for(lambda: port_open(self.port), 10, what="nginx on port %d" % self.port)

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def stop(self):
        self.proc.stop(signal.SIGQUIT)


class SmtpSink:
    """postfix's smtp-sink writing every mail to a file (admin notifications).
    host: the loopback address it listens on (another one than 127.0.0.1,
    e.g. 127.0.0.2 or ::1, shows that a host setting is followed)."""

    def __init__(self, workdir, host="127.0.0.1", subdir="sink"):
        self.host = host
        self.port = free_port()
        self.dir = os.path.join(workdir, subdir)
        os.makedirs(self.dir, exist_ok=True)
        chown_for_daemons(self.dir)
        argv = ["/usr/sbin/smtp-sink"]
        if os.geteuid() == 0:
            argv += ["-u", unprivileged_user()]
        listen = "[%s]:%d" % (host, self.port) if ":" in host else "%s:%d" % (host, self.port)
        argv += ["-d", self.dir + "/%M.", listen, "64"]
        self.proc = Process(argv, os.path.join(workdir, "smtp-%s.out" % subdir.replace("/", "-")))
        wait_for(lambda: port_open(self.port, host), 10, what="smtp-sink")

    def messages(self):
        out = []
        for name in sorted(os.listdir(self.dir)):
            with open(os.path.join(self.dir, name), "rb") as f:
                out.append(f.read().decode("utf-8", "replace"))
        return out

    def stop(self):
        self.proc.stop()


class Scand:
    """sekisho-scand with the bundled definitions (or another directory)."""

    def __init__(self, workdir, databases=None, threads=2, extra_args=()):
        self.socket = os.path.join(workdir, "scand.sock")
        self.databases = databases or os.path.join(REPO, "databases")
        # extra_args come first, so "-f INI" is overridden by the options.
        # --tmpdir: libclamav's temporary files go to this test's own
        # directory (scand empties DIR/scand at start; /var/tmp/sekisho is
        # shared by every scand the suite runs side by side).
        argv = [os.path.join(BIN, "sekisho-scand")] + list(extra_args) + [
            "--socket", self.socket, "--databases", self.databases, "--threads", str(threads),
            "--tmpdir", os.path.join(workdir, "scand-tmp")]
        out = os.path.join(workdir, "scand.out")
        # A scand started again in the same directory appends to the same
        # output: wait for this one's "listening" line, not the last one's.
        started = read_text(out).count("listening")
        self.proc = Process(argv, out)
        wait_for(lambda: os.path.exists(self.socket) and
                 self.proc.output().count("listening") > started,
                 30, what="sekisho-scand socket")

    def stop(self):
        self.proc.stop()


DEFAULT_HTTP = {
    "virus_check": "yes",
    "action": "delete",
}


class Gateway:
    """One sekisho service in its own prefix (conf/, log/, tmp/)."""

    def __init__(self, workdir, scand_socket, service="http", common=None, section=None,
                 hosts_allow="", templates_from=None, extra_args=(), start=True, wrapper=(),
                 env=None, probe_source=None):
        self.workdir = workdir
        self.service = service
        self.prefix = os.path.join(workdir, "gw")
        self.conf = os.path.join(self.prefix, "conf")
        os.makedirs(self.conf, exist_ok=True)
        src = templates_from or os.path.join(REPO, "conf")
        for name in os.listdir(src):
            if name.startswith("template_"):
                shutil.copy(os.path.join(src, name), self.conf)
        self.port = free_port()
        self.listen_host = "127.0.0.1"  # where start() waits for the service
        # The address start()'s readiness probe connects from. A test that
        # counts sessions per client address gives it an address of its own:
        # the gateway counts the probe's session until its worker reads the
        # probe's close, and a test connection may arrive before that.
        self.probe_source = probe_source
        self.common = {"tmpdir": "tmp/spool", "quarantine_dir": "tmp/quarantine",
                       "scand_socket": scand_socket, "run_user": unprivileged_user(),
                       "workers": "2"}
        self.common.update(common or {})
        self.section = {"svcport": "127.0.0.1:%d" % self.port}
        if service == "http":
            self.section.update(DEFAULT_HTTP)
        self.section.update(section or {})
        self.ini = os.path.join(self.conf, "sekisho.ini")
        self.write_ini()
        with open(os.path.join(self.conf, "hosts.allow"), "w") as f:
            f.write(hosts_allow)
        self.logdir = os.path.join(self.prefix, "log", service)
        self.proc = None
        self.extra_args = list(extra_args)
        # argv put before sekisho's (e.g. unshare ... to run it in its own
        # mount namespace); the wrapper must exec sekisho in its own pid.
        self.wrapper = list(wrapper)
        # Variables added to the environment of sekisho (e.g. CARES_HOSTS,
        # a hosts file of the test's own: src/lib/dns.h).
        self.env = dict(os.environ, **env) if env else None
        if start:
            self.start()

    def write_ini(self, text=None):
        if text is None:
            lines = ["[common]"] + ["%s=%s" % kv for kv in self.common.items()]
            lines += ["[%s]" % self.service] + ["%s=%s" % kv for kv in self.section.items()]
            text = "\n".join(lines) + "\n"
        with open(self.ini, "w") as f:
            f.write(text)

    def start(self, wait=True):
        argv = self.wrapper + [os.path.join(BIN, "sekisho"), "--" + self.service, "-f",
                               self.ini] + self.extra_args
        self.proc = Process(argv, os.path.join(self.workdir, "sekisho-%s.out" % self.service),
                            env=self.env)
        if wait:
            wait_for(lambda: port_open(self.port, self.listen_host, self.probe_source) or not self.proc.alive(), 20,
                     what="sekisho listening")
            if not self.proc.alive():
                raise RuntimeError("sekisho exited: " + self.proc.output())
            wait_for(lambda: len(self.worker_pids()) >= int(self.common.get("workers", 1)), 10,
                     what="workers started")

    @property
    def proxy(self):
        return "http://127.0.0.1:%d" % self.port

    def log_text(self, name):
        path = os.path.join(self.logdir, name + ".log")
        if not os.path.exists(path):
            return ""
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def log_lines(self, name):
        return [l for l in self.log_text(name).splitlines() if l]

    def wait_log(self, name, pattern, timeout=10.0, count=1):
        """The lines of log name matching pattern, once there are at least
        count of them (a record is written after the reply is sent, so a
        client may be answered before its line is there)."""
        rx = re.compile(pattern)

        def matching():
            lines = [l for l in self.log_lines(name) if rx.search(l)]
            return lines if len(lines) >= count else None
        return wait_for(matching, timeout,
                        what="%d %s.log line(s) matching %r" % (count, name, pattern))

    def worker_pids(self):
        if not self.proc or not self.proc.alive():
            return []
        try:
            out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                                 text=True, timeout=5).stdout
        except subprocess.TimeoutExpired:
            return []
        return [int(p) for p in out.split()]

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.proc:
            return self.proc.stop(sig, timeout)
        return None


def serve_test_files(env, name):
    """The usual module fixture: a work directory (env["wd"]), the test files
    of testfiles.generate (env["files"]) served by nginx (env["nginx"]), and
    sekisho-scand with the bundled definitions (env["scand"])."""
    from . import testfiles
    wd = Workdir(name)
    env["wd"] = wd
    www = os.path.join(wd.path, "www")
    env["files"] = testfiles.generate(www)
    env["nginx"] = Nginx(www, wd.path)
    env["scand"] = Scand(wd.path)


def stop_all(env):
    """Undo serve_test_files (whatever of it was started)."""
    for key in ("scand", "nginx"):
        if key in env:
            env[key].stop()
    if "wd" in env:
        env["wd"].cleanup()


class Workdir:
    """A temporary directory that the unprivileged daemons can traverse."""

    def __init__(self, name):
        self.path = tempfile.mkdtemp(prefix="sekisho-%s-" % name)
        os.chmod(self.path, 0o755)

    def cleanup(self):
        if os.environ.get("SEKISHO_KEEP_TMP"):
            print("keeping", self.path)
            return
        shutil.rmtree(self.path, ignore_errors=True)


def cpu_seconds(pids):
    """utime + stime of the processes, in seconds (/proc/<pid>/stat)."""
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / os.sysconf("SC_CLK_TCK")


def process_cmdline(pid):
    """The command line of pid, arguments joined by blanks ("" once it is
    gone or a zombie)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def processes_under(directory):
    """Pids of the live processes whose command line names something inside
    directory (an installation prefix)."""
    needle = directory.rstrip("/") + "/"
    return [int(n) for n in os.listdir("/proc")
            if n.isdigit() and needle in process_cmdline(int(n))]
