"""A database mirror for the definition-update tests: nginx (Debian package
nginx-light) serving a directory on loopback.

What it does: writes an nginx.conf into its own directory under the test's
work directory and starts nginx as a master process of its own (daemon off,
one worker) on 127.0.0.1:<free port>, with its own pid file, error log and
access log. The served directory (root, by default <dir>/www) is what
dbupdate downloads from: database files (CVD/CLD/cdiff, .ndb, ...) that the
test writes there, e.g. with put().

- /<file>: nginx's static files as they come: Last-Modified from the
  file's mtime, If-Modified-Since answered with 304 when it names that
  time or a later one ("if_modified_since before", as Apache and most
  mirrors answer: libfreshclam sends a custom database's local mtime, the
  time it was downloaded, so with nginx's default "exact" the 304 would
  depend on the download falling in the same second as the file's
  mtime), Range requests
  answered with 206, ETag;
- /slow/<file>: the same files, sent at slow_rate bytes/s (limit_rate):
  a download of size bytes lasts about size / slow_rate seconds, so that a
  test can keep one going while it does something else;
- access log: one record per request, parsed by requests() into Request
  tuples (method, URI, status, body bytes, the If-Modified-Since, Range,
  User-Agent and Via request headers, client address, nginx's request
  time). nginx writes a record once the reply is sent: wait_requests()
  waits for it.

Failure modes: down() stops nginx (its port then refuses connections, but
another program could take it meanwhile) and up() starts it again on the
same port with the same files; dead_url() is a URL on a port this mirror
keeps bound without listening, so a connection there is refused for as long
as the mirror lives; stalled_url() is a URL on a port that accepts
connections into its backlog and never answers (a receive timeout; once
the backlog is full, a connect timeout).

What it owns: its directory, the nginx processes, the two reserved
sockets; stop() ends them. Every wait is bounded. Running as root nginx's
worker stays root ("user root"), as in harness.Nginx, so the served files
need no particular owner.
"""
import collections
import os
import signal
import socket
import time

from . import Process, free_port, port_open, read_text, wait_for

NGINX = "/usr/sbin/nginx"

# Tab-separated (nginx escapes a tab inside a value as \x09); "-" for a
# header the request did not have.
LOG_FORMAT = ("$msec\\t$remote_addr\\t$request_method\\t$request_uri\\t$status\\t"
              "$body_bytes_sent\\t$http_if_modified_since\\t$http_range\\t$http_user_agent\\t"
              "$http_via\\t$request_time")

Request = collections.namedtuple(
    "Request", "time client method uri status bytes if_modified_since range user_agent via "
               "request_time")
Request.__doc__ = """One access-log record of the mirror: time (epoch seconds),
client (address), method, uri (as requested, with the query), status (int),
bytes (body bytes sent, int), if_modified_since, range, user_agent, via
(request header values, None when absent), request_time (seconds, float)."""


def _header(value):
    return None if value == "-" else value


def parse_access_log(text):
    """Request records of an access log written with LOG_FORMAT."""
    out = []
    for line in text.splitlines():
        f = line.split("\t")
        if len(f) != 11:
            continue
        out.append(Request(float(f[0]), f[1], f[2], f[3], int(f[4]), int(f[5]), _header(f[6]),
                           _header(f[7]), _header(f[8]), _header(f[9]), float(f[10])))
    return out


class Mirror:
    """nginx serving root on 127.0.0.1:port (see the module docstring)."""

    def __init__(self, workdir, root=None, slow_rate=64 * 1024, name="mirror"):
        if not os.access(NGINX, os.X_OK):
            raise RuntimeError("nginx is not installed (dev/install-deps.sh test)")
        self.dir = os.path.join(workdir, name)
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.root = os.path.abspath(root or os.path.join(self.dir, "www"))
        os.makedirs(self.root, exist_ok=True)
        self.slow_rate = int(slow_rate)
        self.port = free_port()
        self.access_log = os.path.join(self.dir, "access.log")
        self.error_log = os.path.join(self.dir, "error.log")
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.proc = None
        # Bound, never listening: the kernel refuses connections to it.
        self._dead = socket.socket()
        self._dead.bind(("127.0.0.1", 0))
        # Listening, never accepting: connections wait in the backlog.
        self._stalled = socket.socket()
        self._stalled.bind(("127.0.0.1", 0))
        self._stalled.listen(1)
        try:
            self._write_conf()
            self.up()
        except BaseException:
            self.stop()
            raise

    def _write_conf(self):
        user = "user root;" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write("""# written by tests/integration/harness/mirror.py
%(user)s
daemon off;
master_process on;
worker_processes 1;
error_log %(d)s/error.log info;
pid %(d)s/nginx.pid;
events { worker_connections 256; }
http {
  log_format sekisho escape=default '%(fmt)s';
  access_log %(d)s/access.log sekisho;
  sendfile on;
  server_tokens off;
  if_modified_since before;
  client_body_temp_path %(d)s/tmp;
  proxy_temp_path %(d)s/tmp;
  fastcgi_temp_path %(d)s/tmp;
  uwsgi_temp_path %(d)s/tmp;
  scgi_temp_path %(d)s/tmp;
  types { }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:%(port)d;
    root %(root)s;
    location / { }
    location /slow/ {
      alias %(root)s/;
      limit_rate %(rate)d;
    }
  }
}
""" % {"user": user, "d": self.dir, "fmt": LOG_FORMAT, "port": self.port, "root": self.root,
       "rate": self.slow_rate})

    # -- files ------------------------------------------------------------

    def path(self, name):
        """Where the served file name lives (name relative to root)."""
        return os.path.join(self.root, name.lstrip("/"))

    def put(self, name, data, mtime=None):
        """Write a served file (bytes); mtime (epoch seconds) sets its
        Last-Modified. Returns its path."""
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        tmp = p + ".part-harness"
        with open(tmp, "wb") as f:
            f.write(data)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        os.replace(tmp, p)  # a request never sees a half-written file
        return p

    def remove(self, name):
        try:
            os.unlink(self.path(name))
        except FileNotFoundError:
            pass

    # -- addresses ----------------------------------------------------------

    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path=""):
        """http://127.0.0.1:<port>/<path> (path "slow/x" for the slow one)."""
        return "%s/%s" % (self.base_url, path.lstrip("/"))

    def slow_url(self, path=""):
        return self.url("slow/" + path.lstrip("/"))

    def dead_url(self, path=""):
        """A URL whose connections are refused (nothing listens there)."""
        return "http://127.0.0.1:%d/%s" % (self._dead.getsockname()[1], path.lstrip("/"))

    def stalled_url(self, path=""):
        """A URL whose connections are accepted by the kernel and never
        answered."""
        return "http://127.0.0.1:%d/%s" % (self._stalled.getsockname()[1], path.lstrip("/"))

    # -- log ------------------------------------------------------------------

    def requests(self):
        """Every request the mirror answered since it was made (all runs)."""
        return parse_access_log(read_text(self.access_log))

    def wait_requests(self, uri_part="", count=1, timeout=10.0):
        """The records whose URI contains uri_part, once there are at least
        count of them."""
        def matching():
            found = [r for r in self.requests() if uri_part in r.uri]
            return found if len(found) >= count else None
        return wait_for(matching, timeout, what="%d mirror request(s) for %r" % (count, uri_part))

    def error_text(self):
        return read_text(self.error_log)

    # -- process ---------------------------------------------------------------

    def up(self):
        """Start nginx (again) on the same port."""
        if self.proc is not None and self.proc.alive():
            return
        started = time.monotonic()
        self.proc = Process([NGINX, "-c", self.conf, "-p", self.dir + "/", "-e", self.error_log],
                            os.path.join(self.dir, "nginx.out"))

        def ready():
            if not self.proc.alive():
                raise RuntimeError("nginx exited:\n%s\n%s" % (self.proc.output()[-2000:],
                                                              self.error_text()[-2000:]))
            return port_open(self.port)
        # A port just released by down() can be busy for a moment.
        wait_for(ready, 10, interval=0.02, what="mirror nginx on port %d" % self.port)
        self.startup_s = time.monotonic() - started

    def down(self):
        """Stop nginx; its port refuses connections until up()."""
        if self.proc is not None:
            # SIGTERM: fast shutdown, open connections (a slow download) cut.
            self.proc.stop(signal.SIGTERM, timeout=10)
            self.proc = None
        wait_for(lambda: not port_open(self.port), 5, what="mirror port %d closed" % self.port)

    def stop(self):
        if self.proc is not None:
            self.proc.stop(signal.SIGTERM, timeout=10)
            self.proc = None
        for s in (self._dead, self._stalled):
            s.close()
