"""A real rspamd (Debian package rspamd 3.4) on loopback, for the spam tests.

What it does: writes a configuration of its own into the test's work
directory and starts /usr/bin/rspamd in the foreground (-f) with one
"normal" worker (the scanner, POST /checkv2) on 127.0.0.1 and a free port;
no controller, no proxy/milter worker, no fuzzy storage, no system service.
The top-level rspamd.conf is ours; the package's files under /etc/rspamd
($CONFDIR) give the rules and the symbol scores, and our files in
$LOCAL_CONFDIR (the work directory) override them:

- actions: reject at 15, add header at 6, greylist at 4 (the package's
  figures, written down so that the tests rely on what they see here);
- SPF is checked for local addresses too (spf.conf check_local): mail
  reaches rspamd through the gateway from 127.0.0.1;
- R_SPF_FAIL scores spf_fail_score (7.0 by default): a mail failing SPF
  alone reaches "add header"; GTUBE is rspamd's own pre-filter and always
  gives "reject";
- DNS: every lookup goes to the resolver given (dns="127.0.0.1:port",
  e.g. harness.unbound.Unbound serving the SPF policy of the test
  domain); without one rspamd would use /etc/resolv.conf, which the tests
  must not depend on (they run offline);
- offline: the modules that fetch maps or rules from the Internet
  (maps.rspamd.com, openphish, updates.rspamd.com) or ask public DNS
  lists are disabled: rbl, surbl, phishing, multimap, mime_types, mid,
  whitelist, rspamd_update, fuzzy_check, asn, emails, url_redirector,
  hfilter and the external scanners (OFFLINE_DISABLED);
- start-up: rspamd compiles its TLD suffix list with hyperscan (about
  10 s on two cores); hs_cache_dir() keeps the result across runs, so
  only the first start on a machine pays it (about 1 s afterwards);
- no redis: the modules that need it (Bayes statistics, neural,
  ratelimit, greylist, reputation, history_redis, dmarc reports) stay
  off by themselves. Bayes needs a redis server (statistic.conf's
  backend) and at least 200 learned spam and 200 ham messages before it
  classifies: not configured here.

What it owns: the configuration, its log (rspamd.log in its directory),
the pid file and the process group (main process and workers); stop()
ends them. Every wait is bounded (startup: readiness = GET /ping answers
"pong"; startup_s says how long it took).

Running as root it is started with -i (workers as root): dropping to the
package's _rspamd user would need the work directory to be that user's.
"""
import http.client
import json
import os
import tempfile
import time
import urllib.request

from . import SLOW, Process, free_port, read_text, wait_for

RSPAMD = "/usr/bin/rspamd"
CONFDIR = "/etc/rspamd"

# Modules that would fetch maps/rules over HTTP(S) or query public DNS lists.
OFFLINE_DISABLED = ("rbl", "surbl", "phishing", "multimap", "mime_types", "mid", "whitelist",
                    "rspamd_update", "fuzzy_check", "asn", "emails", "url_redirector",
                    "hfilter", "spamassassin", "dcc", "external_services", "antivirus",
                    "p0f", "aws_s3", "clickhouse", "elastic", "metadata_exporter",
                    "metric_exporter", "bimi")

TOP_CONF = """# rspamd for Sekisho's tests: one scanner worker, nothing else.
.include "$CONFDIR/common.conf"

options {
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=1,duplicate=merge) "$LOCAL_CONFDIR/local.d/options.inc"
}

logging {
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "%(log_level)s";
}

worker "normal" {
    bind_socket = "127.0.0.1:%(port)d";
    .include "$CONFDIR/worker-normal.inc"
    count = 1;
}
"""

OPTIONS = """# local.d/options.inc
hs_cache_dir = "%(hs_cache)s";
task_timeout = %(task_timeout)ss;
dns {
    nameserver = [%(nameserver)s];
    timeout = 1s;
    retransmits = 2;
}
"""


def hs_cache_dir():
    """Where rspamd keeps its compiled hyperscan databases across runs.
    The one of the TLD suffix list (url_tld, 9600 suffixes) takes about
    10 s to compile on two cores; cached, a start takes about a second.
    Shared by every instance (the files are named by a hash of their
    patterns)."""
    path = os.environ.get("SEKISHO_RSPAMD_HS_CACHE") or os.path.join(
        tempfile.gettempdir(), "sekisho-rspamd-hs-cache-%d" % os.geteuid())
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def available():
    return os.access(RSPAMD, os.X_OK)


class Rspamd:
    """rspamd answering /checkv2 on 127.0.0.1:port."""

    def __init__(self, workdir, dns=None, spf_fail_score=7.0, name="rspamd",
                 log_level="info", task_timeout=8):
        if not available():
            raise RuntimeError("rspamd is not installed (apt-get install -y rspamd)")
        self.port = free_port()
        self.dir = os.path.join(workdir, name)
        local = os.path.join(self.dir, "local.d")
        os.makedirs(local, exist_ok=True)
        self.log_path = os.path.join(self.dir, "rspamd.log")
        conf = os.path.join(self.dir, "rspamd.conf")
        with open(conf, "w") as f:
            f.write(TOP_CONF % {"port": self.port, "log_level": log_level})
        with open(os.path.join(local, "options.inc"), "w") as f:
            # No resolver given: an address nothing answers on, so that a
            # lookup fails fast instead of leaving the machine.
            f.write(OPTIONS % {"nameserver": '"%s"' % (dns or "127.0.0.1:1"),
                              "hs_cache": hs_cache_dir(), "task_timeout": task_timeout})
        with open(os.path.join(local, "actions.conf"), "w") as f:
            f.write("reject = 15;\nadd_header = 6;\ngreylist = 4;\n")
        with open(os.path.join(local, "spf.conf"), "w") as f:
            # The tests' mail comes from 127.0.0.1 through the gateway,
            # which names that address in the IP header: rspamd must check
            # SPF for it (by default it skips local addresses).
            f.write("check_local = true;\n")
        with open(os.path.join(local, "policies_group.conf"), "w") as f:
            f.write('symbols {\n  "R_SPF_FAIL" { weight = %.2f; }\n}\n' % spf_fail_score)
        for module in OFFLINE_DISABLED:
            with open(os.path.join(local, module + ".conf"), "w") as f:
                f.write("enabled = false;\n")
        argv = [RSPAMD, "-f", "-c", conf]
        for var, value in (("CONFDIR", CONFDIR), ("LOCAL_CONFDIR", self.dir),
                           ("RUNDIR", self.dir), ("DBDIR", self.dir), ("LOGDIR", self.dir)):
            argv += ["--var", "%s=%s" % (var, value)]
        if os.geteuid() == 0:
            argv.append("-i")
        started = time.monotonic()
        self.proc = Process(argv, os.path.join(self.dir, "rspamd.out"))
        try:
            wait_for(lambda: not self.proc.alive() or self._ping(), 60,
                     interval=0.05, what="rspamd on port %d" % self.port)
            if not self.proc.alive():
                raise RuntimeError("rspamd exited:\n%s\n%s" % (self.proc.output(), self.log()))
        except BaseException:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started

    def _ping(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            c.request("GET", "/ping")
            r = c.getresponse()
            ok = r.status == 200 and r.read().strip() == b"pong"
            c.close()
            return ok
        except OSError:
            return False

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def log(self):
        return read_text(self.log_path)

    def stop(self):
        if self.proc is not None:
            self.proc.stop_group(timeout=10)
            self.proc = None


def checkv2(port, body, headers=None, timeout=10):
    """POST body to /checkv2; (HTTP status, parsed JSON reply)."""
    req = urllib.request.Request("http://127.0.0.1:%d/checkv2" % port, data=body, method="POST",
                                 headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout * SLOW) as r:
        return r.status, json.loads(r.read().decode("utf-8"))
