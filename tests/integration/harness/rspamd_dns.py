"""A minimal real resolver (Debian's unbound) on loopback for rspamd's tests.

What it does: writes an unbound.conf into the test's work directory and
starts /usr/sbin/unbound in the foreground (-d) on 127.0.0.1 with a free
port (UDP and TCP), answering from local-data only: TXT records given by
the test (an SPF policy for a test domain) and NXDOMAIN for every other
name ("." is a static local zone). So rspamd's SPF, DKIM and DMARC lookups
are answered at once and never leave the machine (the tests run offline),
and a name the test did not define is reliably absent.

What it owns: the configuration file, its log and the unbound process;
stop() ends it. Every wait is bounded.

What it does not do: no recursion, no forwarding, no DNSSEC, no slow or
failing zones, no query log (harness/unbound.py, written for the DNSBL
tests, is the full-featured one; this one exists because rspamd's harness
needed only a few TXT records and must not depend on it).
"""
import os
import shutil
import socket
import struct

from . import Process, free_port, wait_for

UNBOUND = "/usr/sbin/unbound"


def available():
    return os.access(UNBOUND, os.X_OK)


def _quote_txt(text):
    """One TXT record's character-strings (255 bytes at most each) in
    unbound's presentation form."""
    parts = [text[i:i + 255] for i in range(0, len(text), 255)] or [""]
    return " ".join('"%s"' % p.replace("\\", "\\\\").replace('"', '\\"').replace("'", "") for p in parts)


def _query_a(port, name, timeout=0.5):
    """True when unbound answers a UDP query for name (any rcode)."""
    qid = 0x5ec1
    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        msg += bytes([len(label)]) + label.encode()
    msg += b"\x00" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(msg, ("127.0.0.1", port))
            data = s.recv(512)
        except OSError:
            return False
    return len(data) >= 12 and struct.unpack(">H", data[:2])[0] == qid


class LocalDns:
    """unbound answering txt={name: [text, ...]} and a={name: [addr, ...]}."""

    def __init__(self, workdir, txt=None, a=None, name="rspamd-dns"):
        if not available():
            raise RuntimeError("unbound is not installed (apt-get install -y unbound)")
        self.port = free_port()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        data = []
        for host, texts in (txt or {}).items():
            for t in texts:
                data.append("    local-data: '%s. 300 IN TXT %s'" % (host.rstrip("."), _quote_txt(t)))
        for host, addrs in (a or {}).items():
            for addr in addrs:
                kind = "AAAA" if ":" in addr else "A"
                data.append("    local-data: '%s. 300 IN %s %s'" % (host.rstrip("."), kind, addr))
        zones = sorted({h.rstrip(".") for h in list((txt or {})) + list((a or {}))})
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            f.write("""server:
    interface: 127.0.0.1
    port: %(port)d
    do-ip6: no
    do-daemonize: no
    use-syslog: no
    logfile: ""
    verbosity: 1
    username: ""
    chroot: ""
    directory: "%(dir)s"
    pidfile: "%(dir)s/unbound.pid"
    module-config: "iterator"
    num-threads: 1
    access-control: 127.0.0.0/8 allow
    # Everything not defined below is NXDOMAIN at once: no recursion
    # (the tests run offline).
    local-zone: "." static
%(zones)s
%(data)s
remote-control:
    control-enable: no
""" % {"port": self.port, "dir": self.dir,
       "zones": "\n".join('    local-zone: "%s." static' % z for z in zones),
       "data": "\n".join(data)})
        self.proc = Process([UNBOUND, "-d", "-c", conf], os.path.join(self.dir, "unbound.out"))
        try:
            wait_for(lambda: not self.proc.alive() or _query_a(self.port, "ready.invalid"), 10,
                     what="unbound on port %d" % self.port)
            if not self.proc.alive():
                raise RuntimeError("unbound exited:\n" + self.proc.output())
        except BaseException:
            self.proc.stop()
            raise

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
