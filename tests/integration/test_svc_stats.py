"""The live counters of each service (lib/svc_stats, issue 16's status page
and /metrics): real traffic through the HTTP, SMTP, POP and FTP proxies,
then the counters the master's <tmpdir>/stats.<svc> holds, read from outside
as the console does - by build/tests/stats_dump, which prints them as the
OpenMetrics text of proto/metrics_format - and checked by a real OpenMetrics
parser (Debian's python3-prometheus-client, run by Debian's /usr/bin/python3:
the package installs there).

Why: the console shows these numbers to the administrator and Prometheus
scrapes them; each must count what it says (connections = client sessions,
requests = access-log records, detections = DETECT-STAT INFECTED records,
spam = DETECT-STAT SPAM records, sessions = open now), exactly, across
worker processes, and start from zero when the service starts again.

Servers: nginx (HTTP origin), postfix's smtp-sink (SMTP parent), dovecot
(POP3), vsftpd (FTP); clients: curl, smtplib, a raw POP3 client, ftplib.
Each test starts its own gateway, so every count is since that start."""
import ftplib
import json
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import time
import unittest

import harness
from harness import dovecot as dv
from harness import ftp_files
from harness import mail_fixtures as mf
from harness import spam
from harness import testfiles
from harness import vsftpd as vs
from harness.pop_proxy import RawPop

ENV = {}
DUMP = os.path.join(harness.BUILD, "tests", "stats_dump")
DEBIAN_PYTHON = "/usr/bin/python3"
TIMEOUT = 30 * harness.SLOW
RCPT = "user@local.example"

# Parses the text with the OpenMetrics parser (which refuses anything the
# format does not allow: a missing # EOF, a counter sample without _total,
# a family split in two, a repeated label set...) and prints
# {"<sample>/<service>": [family type, value]}.
PARSE = r"""
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        key = "%s/%s" % (s.name, s.labels.get("service", ""))
        if key in out:
            raise SystemExit("sample twice: " + key)
        out[key] = [fam.type, s.value]
print(json.dumps(out))
"""


def setUpModule():
    wd = harness.Workdir("svc-stats")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def stats_path(gw):
    return os.path.join(gw.prefix, "tmp", "spool", "stats." + gw.service)


def metrics_text(*paths):
    p = subprocess.run([DUMP] + list(paths), capture_output=True, timeout=30)
    harness.check_sanitizer_report(p.stderr.decode("utf-8", "replace"), "stats_dump")
    if p.returncode != 0:
        raise AssertionError("stats_dump %s: exit %d: %s" % (paths, p.returncode, p.stderr))
    return p.stdout.decode()


def parse_metrics(text):
    """The samples of text, by the OpenMetrics parser."""
    p = subprocess.run([DEBIAN_PYTHON, "-c", PARSE], input=text.encode(), capture_output=True,
                       timeout=30)
    if p.returncode != 0:
        raise AssertionError("OpenMetrics parser (python3-prometheus-client, dev/install-deps.sh "
                             "test) refused or failed: %s\n%s"
                             % (p.stderr.decode("utf-8", "replace"), text))
    return json.loads(p.stdout)


def master_pid_in_file(gw):
    """The master pid in the stats file's header (offset 32, native
    int64: lib/svc_stats.c), None before the file exists."""
    try:
        with open(stats_path(gw), "rb") as f:
            f.seek(32)
            return int.from_bytes(f.read(8), "little", signed=True)
    except FileNotFoundError:
        return None


def start_unprobed(gw):
    """Start gw and wait for its workers and its stats file, without
    harness.Gateway.start's readiness probe (a connection to the port,
    which the counters would count)."""
    gw.start(wait=False)

    def ready():
        if not gw.proc.alive():
            raise AssertionError("sekisho exited: " + gw.proc.output())
        return (len(gw.worker_pids()) >= int(gw.common["workers"]) and
                master_pid_in_file(gw) == gw.proc.pid)
    harness.wait_for(ready, 20 * harness.SLOW, what="sekisho --%s and its stats file" % gw.service)


def counters(gw):
    """{"connections", "requests", "detections", "spam", "sessions", "up",
    "start"} of gw's service, through the metrics text."""
    svc = gw.service
    m = parse_metrics(metrics_text(stats_path(gw)))
    out = {}
    for name in ("connections", "requests", "detections", "spam", "scans"):
        kind, value = m["sekisho_%s_total/%s" % (name, svc)]
        assert kind == "counter", (name, kind)
        out[name] = int(value)
    for name in ("hits", "misses"):
        kind, value = m["sekisho_verdict_cache_%s_total/%s" % (name, svc)]
        assert kind == "counter", (name, kind)
        out["cache_" + name] = int(value)
    kind, value = m["sekisho_verdict_cache_hash_seconds_total/%s" % svc]
    assert kind == "counter", kind
    out["hash_seconds"] = float(value)
    for key, name in (("sessions", "sekisho_sessions"), ("up", "sekisho_up"),
                      ("start", "sekisho_start_time_seconds")):
        kind, value = m["%s/%s" % (name, svc)]
        assert kind == "gauge", (name, kind)
        out[key] = int(value)
    return out


def minute_sums(gw):
    """{counter: sum of its 60 minutes} from stats_dump --minutes."""
    p = subprocess.run([DUMP, "--minutes", stats_path(gw)], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0, p.stderr
    sums = {}
    for line in p.stdout.splitlines():
        svc, name, _first, *counts = line.split()
        assert svc == gw.service and len(counts) == 60, line
        sums[name] = sum(int(c) for c in counts)
    return sums


class StatsCase(unittest.TestCase):
    """A fresh gateway of SERVICE per test (section from section()), stopped
    after it."""
    SERVICE = None

    def section(self):
        return {}

    def prepare(self, gw):
        """Files the gateway needs before it starts (e.g. spam rules)."""

    def setUp(self):
        self.dir = os.path.join(ENV["wd"].path, self.id().split(".", 1)[1])
        os.makedirs(self.dir)
        self.gw = harness.Gateway(self.dir, ENV["scand"].socket, service=self.SERVICE,
                                  section=self.section(), common={"hostname": "gw.test"},
                                  start=False)
        self.prepare(self.gw)
        self.before_start = int(time.time())
        start_unprobed(self.gw)
        self.addCleanup(self.gw.stop)

    def wait_counts(self, **want):
        """The counters once those in want have their values (records are
        written after the reply, sessions end after the last byte), then
        every counter compared: nothing more was counted either."""
        def reached():
            c = counters(self.gw)
            return c if all(c[k] == v for k, v in want.items()) else None
        try:
            got = harness.wait_for(reached, 10 * harness.SLOW, what="counters %r" % want)
        except Exception:
            raise AssertionError("counters %r, wanted %r" % (counters(self.gw), want))
        return got

    def assert_exact(self, connections, requests, detections, spam_count=0):
        c = self.wait_counts(requests=requests, sessions=0)
        self.assertEqual(
            {k: c[k] for k in ("connections", "requests", "detections", "spam", "sessions", "up")},
            {"connections": connections, "requests": requests, "detections": detections,
             "spam": spam_count, "sessions": 0, "up": 1})
        self.assertGreaterEqual(c["start"], self.before_start)
        self.assertLessEqual(c["start"], int(time.time()))
        # The last hour's minutes hold every count (the test is younger).
        self.assertEqual(minute_sums(self.gw),
                         {"connections": connections, "requests": requests,
                          "detections": detections, "spam": spam_count, "scans": c["scans"],
                          "cache_hits": c["cache_hits"], "cache_misses": c["cache_misses"]})
        return c

    def hold_session(self):
        """A client connection that stays open: sessions counts it."""
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=TIMEOUT)
        self.addCleanup(s.close)
        self.wait_counts(sessions=1)
        return s

    def restart_from_zero(self, before):
        """Stop: the file stays, down, with the run's counters and no
        sessions; start: a new file, every counter 0."""
        old_pid = self.gw.proc.pid
        self.gw.stop()
        down = counters(self.gw)
        self.assertEqual(down["up"], 0)
        self.assertEqual(down["sessions"], 0)
        for k in ("connections", "requests", "detections", "spam", "start"):
            self.assertEqual(down[k], before[k], k)
        start_unprobed(self.gw)
        self.assertNotEqual(self.gw.proc.pid, old_pid)
        after = counters(self.gw)
        self.assertEqual(after, dict(after, connections=0, requests=0, detections=0, spam=0,
                                     scans=0, cache_hits=0, cache_misses=0, hash_seconds=0.0,
                                     sessions=0, up=1))
        self.assertGreaterEqual(after["start"], before["start"])
        self.assertEqual(minute_sums(self.gw),
                         {"connections": 0, "requests": 0, "detections": 0, "spam": 0,
                          "scans": 0, "cache_hits": 0, "cache_misses": 0})


class HttpStats(StatsCase):
    """3 clean GETs on one kept-alive connection and an EICAR download on
    another; a third connection held open, then closed without a request."""
    SERVICE = "http"

    def section(self):
        return {"keepalive": "yes"}  # HTTP-20: off by default

    @classmethod
    def setUpClass(cls):
        cls.www = os.path.join(ENV["wd"].path, "www")
        os.makedirs(cls.www, exist_ok=True)
        for i in range(3):
            with open(os.path.join(cls.www, "clean%d.bin" % i), "wb") as f:
                f.write(testfiles.clean_bytes(1000 + i))
        with open(os.path.join(cls.www, "eicar.com"), "wb") as f:
            f.write(testfiles.EICAR)
        cls.nginx = harness.Nginx(cls.www, ENV["wd"].path)

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()

    def curl(self, *urls):
        args = []
        for u in urls:
            args += [self.nginx.url(u), "-o", "/dev/null"]
        r = subprocess.run(["curl", "-sS", "-x", self.gw.proxy, "--max-time", str(TIMEOUT),
                            "-w", "%{http_code} %{num_connects}\n"] + args,
                           capture_output=True, text=True, timeout=TIMEOUT + 10)
        return r.stdout.split("\n")[:len(urls)]

    def traffic(self):
        held = self.hold_session()
        # One curl, three URLs: one connection to the proxy, reused.
        self.assertEqual(self.curl("clean0.bin", "clean1.bin", "clean2.bin"),
                         ["200 1", "200 0", "200 0"])
        status = self.curl("eicar.com")[0].split()[0]
        self.assertNotEqual(status, "200")  # action=delete: not the file
        self.gw.wait_log("detect", r"DETECT-STAT:INFECTED:")
        held.close()

    def test_counts_exact(self):
        self.traffic()
        c = self.assert_exact(connections=3, requests=4, detections=1)
        self.assertEqual(len(self.gw.log_lines("access")), 4)
        # Four different bodies, each under the verdict cache's size limit:
        # each looked up in vain, hashed, and scanned.
        self.assertEqual((c["scans"], c["cache_hits"], c["cache_misses"]), (4, 0, 4))
        self.assertGreater(c["hash_seconds"], 0.0)

    def test_verdict_cache_hit_is_not_a_scan(self):
        """The same clean body twice on one connection (one worker): the
        second is answered from the verdict cache, not scanned."""
        self.assertEqual(self.curl("clean0.bin", "clean0.bin", "clean1.bin"),
                         ["200 1", "200 0", "200 0"])
        c = self.assert_exact(connections=1, requests=3, detections=0)
        self.assertEqual((c["scans"], c["cache_hits"], c["cache_misses"]), (2, 1, 2))

    def test_restart_starts_from_zero(self):
        self.traffic()
        self.restart_from_zero(self.assert_exact(connections=3, requests=4, detections=1))

    def test_dead_workers_sessions_taken_off(self):
        """Workers killed with sessions open: the master takes their
        sessions off (they never counted their end)."""
        held = [self.hold_session(), socket.create_connection(("127.0.0.1", self.gw.port),
                                                              timeout=TIMEOUT)]
        self.addCleanup(held[1].close)
        self.wait_counts(sessions=2, connections=2)
        for pid in self.gw.worker_pids():
            os.kill(pid, signal.SIGKILL)
        c = self.wait_counts(sessions=0)
        self.assertEqual((c["connections"], c["requests"], c["up"]), (2, 0, 1))

    def test_file_and_header(self):
        path = stats_path(self.gw)
        st = os.stat(path)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        run_user = self.gw.common["run_user"]
        self.assertEqual(st.st_uid, pwd.getpwnam(run_user).pw_uid)
        self.assertEqual(counters(self.gw)["up"], 1)  # the file's master pid runs
        # Another layout is refused, not misread: a copy with the version
        # raised (offset 8, lib/svc_stats.c).
        copy = os.path.join(self.dir, "stats.http")
        shutil.copy(path, copy)
        with open(copy, "r+b") as f:
            f.seek(8)
            version = int.from_bytes(f.read(4), "little")
            f.seek(8)
            f.write((version + 1).to_bytes(4, "little"))
        p = subprocess.run([DUMP, copy], capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 3)
        self.assertIn("not a stats file of this layout", p.stderr)
        self.assertEqual(p.stdout, "")
        # A service that never started: up 0 and nothing else.
        never = os.path.join(self.dir, "stats.ftp")
        m = parse_metrics(metrics_text(path, never))
        self.assertEqual(m["sekisho_up/ftp"], ["gauge", 0])
        self.assertEqual([k for k in m if k.endswith("/ftp")], ["sekisho_up/ftp"])
        self.assertEqual(m["sekisho_up/http"], ["gauge", 1])


class SmtpStats(StatsCase):
    """One SMTP session with three mails: clean, EICAR (refused), spam (a
    custom rule, spam_action=pass)."""
    SERVICE = "smtp"

    @classmethod
    def setUpClass(cls):
        cls.sink = harness.SmtpSink(os.path.join(ENV["wd"].path), subdir="smtp-sink")

    @classmethod
    def tearDownClass(cls):
        cls.sink.stop()

    def section(self):
        return {"parent_server_host": "127.0.0.1", "parent_server_port": str(self.sink.port),
                "virus_check": "yes", "action": "deny", "spam_check": "yes",
                "spam_action": "pass"}

    def prepare(self, gw):
        spam.write_rules(os.path.join(gw.prefix, "conf", "spam"),
                         "BLACK\tSubject\tIGNORECASE\tcheap pills\n")

    @staticmethod
    def mail(subject, body):
        return ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n\r\n%s\r\n"
                % (RCPT, subject, body))


    def traffic(self):
        with smtplib.SMTP("127.0.0.1", self.gw.port, timeout=TIMEOUT) as c:
            self.wait_counts(sessions=1, connections=1)
            c.sendmail("sender@outside.example", [RCPT], self.mail("hello", "clean text"))
            with self.assertRaises(smtplib.SMTPDataError):
                # EICAR as the attachment eicar.com
                c.sendmail("sender@outside.example", [RCPT], mf.FIXTURES["eicar"])
            c.sendmail("sender@outside.example", [RCPT], self.mail("cheap pills", "buy"))

    def test_counts_exact(self):
        self.traffic()
        self.assert_exact(connections=1, requests=3, detections=1, spam_count=1)
        self.gw.wait_log("detect", r"DETECT-STAT:SPAM:")

    def test_restart_starts_from_zero(self):
        self.traffic()
        before = self.assert_exact(connections=1, requests=3, detections=1, spam_count=1)
        self.restart_from_zero(before)


class PopStats(StatsCase):
    """One POP3 session retrieving a clean mail and an EICAR mail (dovecot)."""
    SERVICE = "pop"

    @classmethod
    def setUpClass(cls):
        reason = dv.available()
        if reason:
            raise AssertionError("POP tests need dovecot: %s" % reason)
        cls.dovecot = dv.Dovecot(ENV["wd"].path, "dovecot")
        cls.dovecot.set_mailbox("alice", [mf.FIXTURES["clean_text"], mf.FIXTURES["eicar"]])

    @classmethod
    def tearDownClass(cls):
        cls.dovecot.stop()

    def section(self):
        return {"parent_server_host": self.dovecot.host,
                "parent_server_port": str(self.dovecot.port),
                "virus_check": "yes", "action": "delete"}

    def traffic(self):
        c = RawPop(self.gw.port)
        self.addCleanup(c.close)
        c.login("alice", "alice-pw")
        for n in (1, 2):
            st, _body = c.multi("RETR %d" % n)
            self.assertTrue(st.startswith(b"+OK"), st)
        c.cmd("QUIT")
        c.wait_closed()

    def test_counts_exact(self):
        self.traffic()
        self.assert_exact(connections=1, requests=2, detections=1)

    def test_restart_starts_from_zero(self):
        self.traffic()
        self.restart_from_zero(self.assert_exact(connections=1, requests=2, detections=1))


class FtpStats(StatsCase):
    """One FTP session downloading a clean file and EICAR (vsftpd)."""
    SERVICE = "ftp"

    @classmethod
    def setUpClass(cls):
        reason = vs.available()
        if reason:
            raise AssertionError("FTP tests need vsftpd: %s" % reason)
        cls.root = os.path.join(ENV["wd"].path, "ftproot")
        ftp_files.generate(cls.root, names=["clean_1k.bin", "eicar.com"])
        cls.vsftpd = vs.Vsftpd(ENV["wd"].path, cls.root, name="vsftpd")

    @classmethod
    def tearDownClass(cls):
        cls.vsftpd.stop()

    def section(self):
        return {"parent_server_host": self.vsftpd.host,
                "parent_server_port": str(self.vsftpd.port),
                "virus_check": "yes", "action": "delete"}

    def traffic(self):
        f = ftplib.FTP(timeout=TIMEOUT)
        self.addCleanup(f.close)
        f.connect("127.0.0.1", self.gw.port)
        f.login("anonymous", "test@example.com")
        got = []
        f.retrbinary("RETR clean_1k.bin", got.append)
        self.assertEqual(b"".join(got), ftp_files.content("clean_1k.bin"))
        with self.assertRaises(ftplib.Error):
            f.retrbinary("RETR eicar.com", got.append)
        f.quit()

    def test_counts_exact(self):
        self.traffic()
        self.assert_exact(connections=1, requests=2, detections=1)

    def test_restart_starts_from_zero(self):
        self.traffic()
        self.restart_from_zero(self.assert_exact(connections=1, requests=2, detections=1))


if __name__ == "__main__":
    unittest.main()
