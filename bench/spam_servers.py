#!/usr/bin/env python3
"""spam_servers - the DNS server and the rspamd of bench/smtp.sh's spam rows.

    python3 bench/spam_servers.py DIR ENVFILE [--no-rspamd]

Starts, through the integration tests' harnesses (so the bench runs the very
configuration the spam tests run, written in one place):

- unbound (tests/integration/harness/unbound.py) on 127.0.0.1:<free port>
  with the zones rbl.bench and surbl.bench, each a `local-zone: static`
  with an SOA of TTL and MINIMUM 300 s, so every name they do not list is
  NXDOMAIN with a negative TTL of 300 s (the gateway caches that long);
  rbl.bench lists RBL_LISTED and surbl.bench SURBL_LISTED (127.0.0.2), for
  the checks before measuring. The harness makes the root a static zone
  too, so that no name ever leads to recursion (the bench runs offline);
- rspamd (tests/integration/harness/rspamd.py: one normal worker on
  127.0.0.1:<free port>, the package's rules, the offline settings, the
  hyperscan cache shared with the tests) whose resolver is that unbound:
  its SPF/DKIM/DMARC lookups are answered at once (NXDOMAIN).

Then writes ENVFILE (shell assignments, written whole: the bench waits for
it) and runs until SIGTERM/SIGINT or until its parent (the bench) is gone,
and stops both. A failure to start writes SPAM_SERVERS_ERROR=... instead
(rspamd only: RSPAMD_ERROR=..., the DNS rows still run).

ENVFILE: UNBOUND_PORT UNBOUND_PID UNBOUND_LOG (its query log: one line
per query) RSPAMD_PORT RSPAMD_PID RSPAMD_STARTUP (seconds) RSPAMD_ERROR.
"""
import os
import shlex
import signal
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import rspamd as rspamd_harness  # noqa: E402
from harness.unbound import Unbound  # noqa: E402

RBL_ZONE = "rbl.bench"
SURBL_ZONE = "surbl.bench"
RBL_LISTED = "198.19.255.254"  # bench/smtpload -R unique never sends it
SURBL_LISTED = "listed-shop.example"
NEGATIVE_TTL = 300
PARENT_POLL = 1.0  # s between checks that the bench still runs


def reversed_v4(addr):
    return ".".join(reversed(addr.split(".")))


def write_env(path, values):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        for k, v in values.items():
            f.write("%s=%s\n" % (k, shlex.quote(str(v))))
    os.rename(tmp, path)


def main():
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--no-rspamd"):
        sys.stderr.write("usage: spam_servers.py DIR ENVFILE [--no-rspamd]\n")
        return 2
    workdir, envfile = sys.argv[1], sys.argv[2]
    want_rspamd = len(sys.argv) == 3
    os.makedirs(workdir, exist_ok=True)

    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    parent = os.getppid()
    dns = spamd = None
    env = {}
    try:
        try:
            dns = Unbound(workdir, zones={
                RBL_ZONE: {"records": [(reversed_v4(RBL_LISTED), "A", "127.0.0.2", NEGATIVE_TTL)],
                           "soa_minimum": NEGATIVE_TTL},
                SURBL_ZONE: {"records": [(SURBL_LISTED, "A", "127.0.0.2", NEGATIVE_TTL)],
                             "soa_minimum": NEGATIVE_TTL},
            })
        except (RuntimeError, TimeoutError, OSError) as e:
            write_env(envfile, {"SPAM_SERVERS_ERROR": "unbound: %s" % str(e).replace("\n", " ")[:300]})
            return 1
        env.update(UNBOUND_PORT=dns.port, UNBOUND_PID=dns.proc.pid, UNBOUND_LOG=dns.log_path,
                   RBL_ZONE=RBL_ZONE, SURBL_ZONE=SURBL_ZONE, RBL_LISTED=RBL_LISTED,
                   SURBL_LISTED=SURBL_LISTED)
        if want_rspamd:
            try:
                spamd = rspamd_harness.Rspamd(workdir, dns=dns.server, log_level="warning")
                env.update(RSPAMD_PORT=spamd.port, RSPAMD_PID=spamd.proc.pid,
                           RSPAMD_STARTUP="%.1f" % spamd.startup_s, RSPAMD_LOG=spamd.log_path)
            except (RuntimeError, TimeoutError, OSError) as e:
                env["RSPAMD_ERROR"] = str(e).replace("\n", " ")[:300]
        write_env(envfile, env)
        # Bounded by the bench: its trap sends SIGTERM; if it died without,
        # we are re-parented and stop by ourselves.
        while os.getppid() == parent:
            time.sleep(PARENT_POLL)
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if spamd is not None:
            spamd.stop()
        if dns is not None:
            dns.stop()


if __name__ == "__main__":
    sys.exit(main())
