"""A real unbound (Debian package unbound) on loopback, serving test DNS lists.

What it does: writes an unbound.conf into its own directory under the
test's work directory and starts `unbound -d` on 127.0.0.1:<free port>
(UDP and TCP) with the test's data:

- zones: {"rbl.test": {"records": [("2.0.0.127", "A", "127.0.0.2", 300),
  ...], "soa_minimum": 30}}: each zone is a `local-zone: static`, so a
  name it does not list is NXDOMAIN; record names are relative to the
  zone ("@" = the zone itself), types A or TXT, with their TTLs. A zone
  with soa_minimum (the default, 30 s) has an SOA record (TTL = the same
  value), which unbound puts in the authority section of its NXDOMAIN and
  NODATA answers: the negative TTL of RFC 2308; soa_minimum=None leaves
  it out (a negative answer that must not be cached);
- slow zones (slow_zones=["slow.test"]): a forward-zone to SlowUpstream,
  a small Python UDP DNS server in this module that answers every A query
  with 127.0.0.2 after SLOW_DELAY (3 s) seconds: unbound cannot delay its
  own answers. Each query to it is counted (slow.queries).

Changing the data: set_zones()/add_record()/remove_record() rewrite the
configuration and RESTART unbound on the same port (remote control is off
on purpose, so unbound-control cannot reload it); a restart also empties
unbound's cache, which is what a test of Sekisho's own cache wants.

Counting: log-queries is on; queries() is the list of query names that
reached unbound (from its log file), count(name) their number.

What it owns: its directory and the unbound process (and the slow
upstream's socket and threads); stop() ends them. Every wait is bounded.
It runs with username "" (no privilege drop: it runs as the test user),
no chroot, no remote control, do-daemonize no, module-config "iterator"
(no DNSSEC validation: the test zones are not signed), one thread.
"""
import os
import re
import socket
import struct
import threading
import time

from . import SLOW, Process, free_port, read_text, wait_for

UNBOUND = "/usr/sbin/unbound"
CHECKCONF = "/usr/sbin/unbound-checkconf"
SLOW_DELAY = 3.0  # seconds before the slow upstream answers
DEFAULT_SOA_MINIMUM = 30


def available():
    """None when unbound can run here, else the reason it cannot."""
    if not os.path.exists(UNBOUND):
        return "unbound is not installed (Debian package unbound)"
    return None


def _qname(msg, off=12):
    """The question name of a DNS message (no compression in a question)."""
    labels = []
    while off < len(msg):
        n = msg[off]
        if n == 0:
            return ".".join(labels).lower(), off + 1
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    raise ValueError("truncated question")


def dns_query(port, name, qtype=1, timeout=1.0, host="127.0.0.1"):
    """One UDP query; (rcode, [A addresses]) or None when nothing came."""
    qid = int(time.monotonic() * 1000) & 0xFFFF
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(q, (host, port))
        try:
            data, _ = s.recvfrom(4096)
        except OSError:
            return None
    rcode = data[3] & 0x0F
    an = struct.unpack(">H", data[6:8])[0]
    _, off = _qname(data)
    off += 4
    addrs = []
    for _ in range(an):
        while data[off] != 0 and data[off] & 0xC0 != 0xC0:
            off += 1 + data[off]
        off += 2 if data[off] & 0xC0 == 0xC0 else 1
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[off:off + 10])
        off += 10
        if rtype == 1 and rdlen == 4:
            addrs.append(socket.inet_ntoa(data[off:off + 4]))
        off += rdlen
    return rcode, addrs


class SlowUpstream:
    """A UDP DNS server on 127.0.0.1 that answers each A query with
    127.0.0.2 (TTL 60) after delay seconds, one thread per query; counts
    the queries it received (queries, names)."""

    def __init__(self, delay=SLOW_DELAY):
        self.delay = delay
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.names = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def queries(self):
        with self.lock:
            return len(self.names)

    def _serve(self):
        while not self.stopping.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                name, end = _qname(data)
            except (ValueError, IndexError):
                continue
            with self.lock:
                self.names.append(name)
            threading.Thread(target=self._answer, args=(data, end, peer), daemon=True).start()

    def _answer(self, query, qend, peer):
        # bounded: one sleep, and nothing at all once the harness stops
        if self.stopping.wait(self.delay):
            return
        qtype = struct.unpack(">H", query[qend:qend + 2])[0] if len(query) >= qend + 2 else 0
        flags = 0x8180 | (query[2] & 0x01) << 8  # QR, RD copied, RA; NOERROR
        an = 1 if qtype == 1 else 0
        reply = query[:2] + struct.pack(">HHHHH", flags, 1, an, 0, 0) + query[12:qend + 4]
        if an:
            reply += b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.2")
        try:
            self.sock.sendto(reply, peer)
        except OSError:
            pass

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


class Unbound:
    """unbound serving zones (see the module docstring) on 127.0.0.1:port."""

    def __init__(self, workdir, zones=None, slow_zones=(), name="unbound"):
        reason = available()
        if reason:
            raise RuntimeError(reason)
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.conf = os.path.join(self.dir, "unbound.conf")
        self.log_path = os.path.join(self.dir, "unbound.log")
        self.zones = {z: {"records": list(d.get("records", ())),
                          "soa_minimum": d.get("soa_minimum", DEFAULT_SOA_MINIMUM)}
                      for z, d in (zones or {}).items()}
        self.slow_zones = list(slow_zones)
        self.slow = SlowUpstream() if self.slow_zones else None
        self.port = free_port()
        self.proc = None
        self.restarts = 0
        self._log_base = 0  # log bytes of earlier runs (the log is appended to)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    @property
    def server(self):
        """The server argument of spam_dnsbl (c-ares' "addr:port")."""
        return "127.0.0.1:%d" % self.port

    def _config(self):
        lines = [
            "# written by tests/integration/harness/unbound.py",
            "server:",
            "  interface: 127.0.0.1",
            "  port: %d" % self.port,
            "  do-udp: yes",
            "  do-tcp: yes",
            "  do-ip6: no",
            "  so-reuseport: no",
            "  num-threads: 1",
            '  username: ""',
            '  chroot: ""',
            "  directory: \"%s\"" % self.dir,
            "  pidfile: \"%s\"" % os.path.join(self.dir, "unbound.pid"),
            "  logfile: \"%s\"" % self.log_path,
            "  use-syslog: no",
            "  log-queries: yes",
            "  verbosity: 1",
            "  do-daemonize: no",
            '  module-config: "iterator"',
            "  access-control: 127.0.0.0/8 allow",
            "  do-not-query-localhost: no",
            # nothing outside the test zones is ever resolved: no root
            # priming, no trust anchor
            "  harden-referral-path: no",
            "  qname-minimisation: no",
            # the slow upstream answers after SLOW_DELAY: unbound must wait
            # that long for it instead of retrying (each retry is a new
            # query id, and the late answer to the first one is dropped)
            "  infra-cache-min-rtt: %d" % int((SLOW_DELAY + 2) * 1000),
            # and answer its client that late (the default, 1900 ms, drops it)
            "  discard-timeout: %d" % int((SLOW_DELAY + 2) * 1000),
            # every slow answer comes from the upstream, never from unbound's
            # cache (local data is never cached anyway)
            "  cache-max-ttl: 0",
            "  cache-max-negative-ttl: 0",
            # everything outside the test zones is NXDOMAIN at once: the
            # tests run offline (rspamd asks about names of its own)
            '  local-zone: "." static',
        ]
        for zone, data in self.zones.items():
            lines.append('  local-zone: "%s." static' % zone)
            if data["soa_minimum"] is not None:
                m = int(data["soa_minimum"])
                lines.append('  local-data: "%s. %d IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 %d"'
                             % (zone, m, zone, zone, m))
            for rname, rtype, value, ttl in data["records"]:
                fq = zone if rname == "@" else "%s.%s" % (rname, zone)
                if rtype == "TXT":
                    lines.append("  local-data: '%s. %d IN TXT \"%s\"'"
                                 % (fq, ttl, value.replace('"', "").replace("'", "")))
                else:
                    lines.append('  local-data: "%s. %d IN %s %s"' % (fq, ttl, rtype, value))
        for zone in self.slow_zones:
            # "test." (RFC 6761) is one of unbound's default static local
            # zones: a transparent zone under it lets the forward through
            lines.append('  local-zone: "%s." transparent' % zone)
            lines.append('  domain-insecure: "%s."' % zone)
        lines.append("remote-control:")
        lines.append("  control-enable: no")
        for zone in self.slow_zones:
            lines += ["forward-zone:", '  name: "%s."' % zone,
                      "  forward-addr: 127.0.0.1@%d" % self.slow.port]
        return "\n".join(lines) + "\n"

    def _start(self):
        with open(self.conf, "w") as f:
            f.write(self._config())
        self._log_base = len(read_text(self.log_path).encode())
        self.proc = Process([UNBOUND, "-d", "-c", self.conf],
                            os.path.join(self.dir, "unbound.out"))
        probe = None
        for zone in self.zones:
            probe = zone
            break

        def ready():
            if not self.proc.alive():
                raise RuntimeError("unbound exited:\n%s\n%s" % (self.proc.output()[-2000:],
                                                                read_text(self.log_path)[-2000:]))
            if probe is None:
                return self._tcp_open()
            return dns_query(self.port, probe, qtype=6, timeout=0.3) is not None
        wait_for(ready, 15, interval=0.05, what="unbound on port %d" % self.port)

    def _tcp_open(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def restart(self):
        """Stop and start on the same port with the current data."""
        self.proc.stop()
        self.restarts += 1
        self._start()

    def set_zones(self, zones):
        self.zones = {z: {"records": list(d.get("records", ())),
                          "soa_minimum": d.get("soa_minimum", DEFAULT_SOA_MINIMUM)}
                      for z, d in zones.items()}
        self.restart()

    def add_record(self, zone, rname, rtype, value, ttl):
        self.zones[zone]["records"].append((rname, rtype, value, ttl))
        self.restart()

    def remove_record(self, zone, rname):
        self.zones[zone]["records"] = [r for r in self.zones[zone]["records"] if r[0] != rname]
        self.restart()

    def queries(self):
        """Names (lower case, no final dot) queried since the last (re)start,
        from log-queries lines ("info: 127.0.0.1 <name>. A IN")."""
        text = read_text(self.log_path).encode()[self._log_base:].decode("utf-8", "replace")
        return [m.group(1).lower() for m in
                re.finditer(r"info: \S+ (\S+)\. [A-Z0-9]+ IN", text)]

    def count(self, name):
        return self.queries().count(name.lower().rstrip("."))

    def stop(self):
        if self.proc is not None:
            self.proc.stop()
            self.proc = None
        if self.slow is not None:
            self.slow.stop()
            self.slow = None
