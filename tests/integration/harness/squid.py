"""A real Squid (Debian package squid 5.7) on loopback: the update proxy of
the definition-update tests.

What it does: writes a squid.conf into its own directory under the test's
work directory and starts `squid -N` (no daemon, no SMP kids) on
127.0.0.1:<free port>:

- no cache at all: no cache_dir, `cache deny all`, a small memory pool;
  every request goes to the origin (a TCP_MISS);
- clients: 127.0.0.1 only (anything else TCP_DENIED/403);
- destinations: 127.0.0.1 only, matched on the URL (url_regex), so that
  no name is ever resolved and nothing leaves the machine: a request for
  another host (e.g. database.clamav.net, or a CONNECT there) is
  TCP_DENIED/403 at once;
- auth=(user, password): basic proxy authentication by basic_ncsa_auth
  with a password file of our own (an MD5-crypt "$apr1$" hash made by
  `openssl passwd -apr1`, no apache2-utils); a request without
  credentials or with a wrong password is TCP_DENIED/407;
- deny_all=True: a proxy that refuses every request (TCP_DENIED/403);
- logs in its directory: access.log (format "sekisho" below, parsed by
  requests() into Request tuples), cache.log; buffered_logs off, so a
  record is in the file once the reply is sent.

Squid reads its configuration and starts its helpers before it listens (0.1 to
0.2 s here, 1 s to stop); the wait is bounded (readiness = cache.log says
"Accepting HTTP Socket connections"), startup_s says how long it took.

Privileges: as root squid drops to cache_effective_user (the suite's
unprivileged user, harness.unprivileged_user()), which must own its
directory (logs, pid file) and read the password file; as another user it
runs as that user.

What it owns: its directory, the squid process and its helpers (process
group); stop() ends them (shutdown_lifetime 0: no grace period for open
connections).
"""
import collections
import grp
import os
import pwd
import subprocess
import time

from . import Process, chown_for_daemons, free_port, read_text, \
    unprivileged_user, wait_for

SQUID = "/usr/sbin/squid"
NCSA_AUTH = "/usr/lib/squid/basic_ncsa_auth"

# %un: the user name the client gave (authenticated or not), "-" for none;
# %Ss/%>Hs: squid's result code and the status sent to the client.
LOG_FORMAT = "%ts.%03tu %>a %Ss/%03>Hs %<st %rm %ru %un %Sh/%<a %mt"

Request = collections.namedtuple("Request",
                                 "time client result status bytes method url user hierarchy")
Request.__doc__ = """One access.log record of the proxy: time (epoch
seconds), client (address), result (e.g. TCP_MISS, TCP_DENIED), status
(int: 200, 407, ...; 0 when no reply was sent), bytes (sent to the
client), method, url (for CONNECT host:port), user (None when the request
named none), hierarchy (e.g. HIER_DIRECT/127.0.0.1, HIER_NONE/-)."""


def parse_access_log(text):
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 9 or "/" not in f[2]:
            continue
        result, status = f[2].split("/", 1)
        out.append(Request(float(f[0]), f[1], result, int(status), int(f[3]), f[4], f[5],
                           None if f[6] == "-" else f[6], f[7]))
    return out


def password_line(user, password):
    """A basic_ncsa_auth password-file line (MD5-crypt, $apr1$)."""
    out = subprocess.run(["openssl", "passwd", "-apr1", "-stdin"], input=password,
                         capture_output=True, text=True, timeout=20, check=True).stdout
    return "%s:%s\n" % (user, out.strip())


def available():
    return os.access(SQUID, os.X_OK)


class Squid:
    """squid proxying to 127.0.0.1 on 127.0.0.1:port (module docstring)."""

    def __init__(self, workdir, auth=None, deny_all=False, name="squid"):
        if not available():
            raise RuntimeError("squid is not installed (dev/install-deps.sh test)")
        self.auth = auth
        self.deny_all = deny_all
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "squid.conf")
        self.access_log = os.path.join(self.dir, "access.log")
        self.cache_log = os.path.join(self.dir, "cache.log")
        self.passwd = os.path.join(self.dir, "passwd")
        self.proc = None
        if auth:
            with open(self.passwd, "w") as f:
                f.write(password_line(*auth))
        with open(self.conf, "w") as f:
            f.write(self._config())
        for name_ in os.listdir(self.dir):
            chown_for_daemons(os.path.join(self.dir, name_))
        chown_for_daemons(self.dir)
        started = time.monotonic()
        # A service name of its own: squid names its shared-memory segments
        # after it, and another squid on the machine (a bench's, a test's
        # killed before it cleaned up) holding /dev/shm/squid-*.shm made
        # this one exit at start ("shm_open ... File exists").
        self.proc = Process([SQUID, "-N", "-n", "sks%d%d" % (os.getpid(), self.port), "-f",
                             self.conf], os.path.join(self.dir, "squid.out"))
        try:
            wait_for(self._ready, 60, interval=0.05, what="squid on port %d" % self.port)
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started

    def _config(self):
        d = self.dir
        lines = [
            "# written by tests/integration/harness/squid.py",
            "http_port 127.0.0.1:%d" % self.port,
            "visible_hostname sekisho-test-proxy",
            "pid_filename %s/squid.pid" % d,
            "cache_log %s" % self.cache_log,
            "logformat sekisho %s" % LOG_FORMAT,
            "access_log stdio:%s sekisho" % self.access_log,
            "buffered_logs off",
            "cache_store_log none",
            "logfile_rotate 0",
            "coredump_dir %s" % d,
            "netdb_filename none",
            "pinger_enable off",
            "icp_port 0",
            "htcp_port 0",
            "snmp_port 0",
            "cache deny all",
            "cache_mem 8 MB",
            "memory_pools off",
            "shutdown_lifetime 0 seconds",
            "hosts_file none",
            # nothing is resolved (see loopback_url); should a lookup happen
            # all the same, it stays on the machine
            "dns_nameservers 127.0.0.1",
            # no name is resolved: destinations are checked on the URL
            "acl clients src 127.0.0.1/32",
            r"acl loopback_url url_regex -i ^(http://)?127\.0\.0\.1(:[0-9]+)?(/|$)",
            "http_access deny !clients",
        ]
        if os.geteuid() == 0:
            pw = pwd.getpwnam(unprivileged_user())
            lines += ["cache_effective_user %s" % pw.pw_name,
                      "cache_effective_group %s" % grp.getgrgid(pw.pw_gid).gr_name]
        if self.deny_all:
            lines.append("http_access deny all")
        if self.auth:
            lines += [
                "auth_param basic program %s %s" % (NCSA_AUTH, self.passwd),
                "auth_param basic children 2 startup=1 idle=1",
                "auth_param basic realm sekisho-test-proxy",
                "auth_param basic credentialsttl 1 minute",
                "acl authenticated proxy_auth REQUIRED",
                # an auth ACL last on a deny line: the refusal is a 407
                # challenge
                "http_access deny !authenticated",
            ]
        lines += ["http_access deny !loopback_url", "http_access allow all"]
        return "\n".join(lines) + "\n"

    def _ready(self):
        if not self.proc.alive():
            raise RuntimeError("squid exited:\n%s\n%s" % (self.proc.output()[-2000:],
                                                          read_text(self.cache_log)[-3000:]))
        # cache.log, not a probe connection: a probe would be an access.log
        # record ("error:transaction-end-before-headers")
        return "Accepting HTTP Socket connections" in read_text(self.cache_log)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    @property
    def url(self):
        """http://127.0.0.1:<port> (curl -x, http_proxy=)."""
        return "http://" + self.address

    def requests(self):
        return parse_access_log(read_text(self.access_log))

    def wait_requests(self, url_part="", count=1, timeout=10.0):
        """The records whose URL contains url_part, once there are at least
        count of them."""
        def matching():
            found = [r for r in self.requests() if url_part in r.url]
            return found if len(found) >= count else None
        return wait_for(matching, timeout, what="%d squid request(s) for %r" % (count, url_part))

    def log_text(self):
        return read_text(self.cache_log)

    def stop(self):
        if self.proc is not None:
            # SIGTERM: squid closes its ports and helpers and exits
            # (shutdown_lifetime 0); the group kill ends any leftover helper.
            self.proc.stop_group(timeout=15)
            self.proc = None
