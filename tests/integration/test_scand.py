"""Integration tests of sekisho-scand (SCAN-2, SCAN-3, SCAN-9, SCAN-14, DET-2,
DET-3, G-11, GEN-5) against the bundled test definitions in databases/.

Runs the real daemon over its UNIX socket with descriptors passed by
SCM_RIGHTS, using the test files of harness/testfiles.py."""
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name):
    # By path, so these tests depend only on the two harness modules they
    # use and not on whatever else harness/__init__.py imports.
    spec = importlib.util.spec_from_file_location("scand_harness_" + name,
                                                  os.path.join(HERE, "harness", name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


testfiles = _load("testfiles")
_procinfo = _load("procinfo")
proc_status, task_policies = _procinfo.proc_status, _procinfo.task_policies
SCHED_BATCH = _procinfo.SCHED_BATCH
_sd = _load("scand")
CLEAN, ERROR, INFECTED = _sd.CLEAN, _sd.ERROR, _sd.INFECTED
RF_RISKWARE, RF_BLOCK_ENCRYPTED = _sd.RF_RISKWARE, _sd.RF_BLOCK_ENCRYPTED
RF_BLOCK_MAXNESTED, RF_BLOCK_SCANTIMEOUT = _sd.RF_BLOCK_MAXNESTED, _sd.RF_BLOCK_SCANTIMEOUT
VSD_ENCRYPTED, VSD_MAXNESTED, VSD_SCANTIMEOUT = (_sd.VSD_ENCRYPTED, _sd.VSD_MAXNESTED,
                                                 _sd.VSD_SCANTIMEOUT)
Scand, ScandClient, encode_scan = _sd.Scand, _sd.ScandClient, _sd.encode_scan

ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("SEKISHO_BUILD", os.path.join(ROOT, "build"))
DATABASES = os.path.join(ROOT, "databases")
EICAR_NAME = "Eicar-Test-Signature"
RISKWARE_NAME = "Tool.Win32.SekishoTest"




def child_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                         timeout=10).stdout
    return [int(p) for p in out.split()]


def setUpModule():
    global FILES, FILES_DIR
    FILES_DIR = tempfile.mkdtemp(prefix="sks-files-")
    FILES = testfiles.generate(FILES_DIR, big=True)


def tearDownModule():
    shutil.rmtree(FILES_DIR, ignore_errors=True)


class ScandTestBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scand = Scand(BUILD, DATABASES, threads=2).start()

    @classmethod
    def tearDownClass(cls):
        rc = cls.scand.stop()
        log = cls.scand.log()
        cls.scand.cleanup()
        if rc != 0:
            raise AssertionError("sekisho-scand exit status %s:\n%s" % (rc, log[-3000:]))

    def scan(self, name, **kw):
        with self.scand.client() as c:
            return c.scan_path(FILES[name], **kw)


class TestDetection(ScandTestBase):
    def test_start_line(self):
        line = self.scand.start_line
        self.assertRegex(line, r"^sekisho-scand: loaded \d+ signatures from .*databases in \d+ ms, "
                               r"listening on " + self.scand.socket_path)

    def test_eicar(self):
        r = self.scan("eicar.com")
        self.assertEqual(r.verdict, INFECTED)
        self.assertEqual(r.name, EICAR_NAME)  # ".UNOFFICIAL" stripped
        self.assertEqual(r.details, 0)
        self.assertGreater(r.scan_us, 0)

    def test_archives(self):
        # SCAN-2 formats this machine can write (see testfiles.py for the rest).
        for name in ("eicar.zip", "eicar.tar", "eicar.tar.gz", "eicar.tar.bz2", "eicar.gz",
                     "eicar.bz2", "eicar.arj"):
            if name not in FILES:
                continue
            with self.subTest(name=name):
                r = self.scan(name)
                self.assertEqual((r.verdict, r.name), (INFECTED, EICAR_NAME))

    def test_nested_5_and_6_detected(self):
        for depth in (5, 6):
            with self.subTest(depth=depth):
                r = self.scan("nested_%d.zip" % depth)
                self.assertEqual((r.verdict, r.name, r.details), (INFECTED, EICAR_NAME, 0))

    def test_nested_7_maxnested(self):
        r = self.scan("nested_7.zip")
        self.assertEqual((r.verdict, r.details), (CLEAN, VSD_MAXNESTED))
        r = self.scan("nested_7.zip", flags=RF_BLOCK_MAXNESTED)
        self.assertEqual((r.verdict, r.name), (INFECTED, "SEKISHO/POLICY_BLOCK_MAXNESTED"))
        self.assertEqual(r.details, VSD_MAXNESTED)

    def test_encrypted(self):
        for name in ("encrypted.zip", "encrypted_eicar.zip"):
            with self.subTest(name=name):
                r = self.scan(name)
                self.assertEqual((r.verdict, r.details), (CLEAN, VSD_ENCRYPTED))
                r = self.scan(name, flags=RF_BLOCK_ENCRYPTED)
                self.assertEqual((r.verdict, r.name, r.details),
                                 (INFECTED, "SEKISHO/POLICY_BLOCK_ENCRYPTED", VSD_ENCRYPTED))

    def test_riskware(self):
        r = self.scan("riskware.txt")
        self.assertEqual((r.verdict, r.name), (CLEAN, ""), "riskware_check=no reports nothing")
        r = self.scan("riskware.txt", flags=RF_RISKWARE)
        self.assertEqual((r.verdict, r.name), (INFECTED, RISKWARE_NAME))
        for patterns in ("Tool.*.*", "*.*.*", "Client-IRC.*.*; Tool.Win32.SekishoTest",
                         "*.Win32.Sekisho*"):
            with self.subTest(patterns=patterns):
                r = self.scan("riskware.txt", flags=RF_RISKWARE, patterns=patterns)
                self.assertEqual(r.verdict, CLEAN)
        for patterns in ("Client-IRC.*.*", "tool.*.*", "Tool.Linux.*", "Tool.*"):
            with self.subTest(patterns=patterns):
                r = self.scan("riskware.txt", flags=RF_RISKWARE, patterns=patterns)
                self.assertEqual((r.verdict, r.name), (INFECTED, RISKWARE_NAME))

    def test_riskware_does_not_hide_virus(self):
        # All-match mode: the PUA hit does not end the scan before EICAR.
        for flags in (0, RF_RISKWARE):
            r = self.scan("riskware_eicar.zip", flags=flags)
            self.assertEqual((r.verdict, r.name), (INFECTED, EICAR_NAME))

    def test_clean_files(self):
        for name in ("clean_23k.bin", "clean_1m.bin", "clean_100m.bin"):
            with self.subTest(name=name):
                r = self.scan(name)
                self.assertEqual((r.verdict, r.name, r.details, r.error), (CLEAN, "", 0, ""))

    def test_scan_timeout(self):
        full = self.scan("many_members.zip")
        self.assertEqual((full.verdict, full.name), (INFECTED, EICAR_NAME))
        r = self.scan("many_members.zip", timeout_ms=1)
        self.assertEqual((r.verdict, r.details), (CLEAN, VSD_SCANTIMEOUT))
        # Granularity is one extracted object: the timed-out scan stops
        # long before the full scan of 3001 members would have ended.
        self.assertLess(r.scan_us, full.scan_us / 2, (r.scan_us, full.scan_us))
        r = self.scan("many_members.zip", timeout_ms=1, flags=RF_BLOCK_SCANTIMEOUT)
        self.assertEqual((r.verdict, r.name, r.details),
                         (INFECTED, "SEKISHO/POLICY_BLOCK_SCANTIMEOUT", VSD_SCANTIMEOUT))
        # A timed-out scan must not leave the file cached as clean.
        r = self.scan("many_members.zip", timeout_ms=0)
        self.assertEqual((r.verdict, r.name, r.details), (INFECTED, EICAR_NAME, 0))
        # A generous deadline changes nothing.
        r = self.scan("many_members.zip", timeout_ms=600000)
        self.assertEqual((r.verdict, r.details), (INFECTED, 0))


class TestErrors(ScandTestBase):
    def test_unreadable_descriptor_is_error(self):
        with self.scand.client() as c:
            fd = os.open(FILES["eicar.com"], os.O_WRONLY)
            try:
                r = c.scan_fd(fd)
            finally:
                os.close(fd)
            self.assertEqual(r.verdict, ERROR)
            self.assertIn("reading", r.error)
            fd = os.open(FILES_DIR, os.O_RDONLY | os.O_DIRECTORY)
            try:
                r = c.scan_fd(fd)
            finally:
                os.close(fd)
            self.assertEqual(r.verdict, ERROR)
            rd, wr = os.pipe()
            try:
                os.write(wr, b"X5O!P%@AP")
                r = c.scan_fd(rd)
            finally:
                os.close(rd)
                os.close(wr)
            self.assertEqual(r.verdict, ERROR)
            self.assertNotEqual(r.error, "")
            # The connection is still usable afterwards.
            self.assertEqual(c.scan_path(FILES["eicar.com"]).verdict, INFECTED)

    def test_request_without_descriptor(self):
        with self.scand.client() as c:
            c.sock.sendall(encode_scan(77, b"x"))
            r = c.recv_reply()
            self.assertEqual((r.id, r.verdict), (77, ERROR))
            self.assertIn("descriptor", r.error)

    def test_invalid_frame_closes_only_that_connection(self):
        bad = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        bad.settimeout(10)
        bad.connect(self.scand.socket_path)
        bad.sendall(b"GET / HTTP/1.0\r\n\r\n")
        self.assertEqual(bad.recv(100), b"", "invalid request must close the connection")
        bad.close()
        self.assertEqual(self.scan("eicar.com").verdict, INFECTED)

    def test_pipelined_requests(self):
        with self.scand.client() as c:
            ids = {}
            for name in ("eicar.com", "clean_23k.bin", "nested_7.zip", "eicar.zip"):
                fd = os.open(FILES[name], os.O_RDONLY)
                ids[c.send_scan(fd, fname=name)] = name
                os.close(fd)  # scand holds its own copy of the descriptor
            got = {}
            for _ in ids:
                r = c.recv_reply()
                got[ids[r.id]] = (r.verdict, r.details)
        self.assertEqual(got, {"eicar.com": (INFECTED, 0), "clean_23k.bin": (CLEAN, 0),
                               "nested_7.zip": (CLEAN, VSD_MAXNESTED),
                               "eicar.zip": (INFECTED, 0)})

    def test_cli(self):
        cli = os.path.join(BUILD, "bin", "sekisho-scan")
        p = subprocess.run([cli, "--socket", self.scand.socket_path, FILES["clean_23k.bin"]],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"clean_23k.bin: CLEAN flags= scan_us=\d+\n$")
        p = subprocess.run([cli, "--socket", self.scand.socket_path, "--block-encrypted",
                            FILES["clean_23k.bin"], FILES["nested_7.zip"], FILES["encrypted.zip"]],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        lines = p.stdout.splitlines()
        self.assertRegex(lines[1], r"nested_7.zip: CLEAN flags=VSD_MAXNESTED scan_us=\d+$")
        self.assertRegex(lines[2], r"encrypted.zip: INFECTED SEKISHO/POLICY_BLOCK_ENCRYPTED "
                                   r"flags=VSD_ENCRYPTED scan_us=\d+$")
        p = subprocess.run([cli, "--socket", self.scand.socket_path, "--riskware",
                            "--pass-riskware", "Client-IRC.*.*", FILES["riskware.txt"],
                            os.path.join(FILES_DIR, "missing")],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("riskware.txt: INFECTED Tool.Win32.SekishoTest flags=", p.stdout)
        self.assertIn("missing: ERROR", p.stdout)
        p = subprocess.run([cli, "--socket", os.path.join(self.scand.dir, "nope.sock"),
                            FILES["eicar.com"]], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertIn("Cannot connect to sekisho-scand's socket", p.stderr)  # LOG-E24


class TestCeiling(unittest.TestCase):
    """sekisho-scand --ceiling (the scan ceiling of bench/, issue 17) and
    --ceiling-first (the daemon measures it on its own engine, then
    serves): real scans, counted and classified."""

    LINE = (r"ceiling: path=bare threads=1 files=2 avg_bytes=\d+ scans=(\d+) seconds=[\d.]+ "
            r"scans_per_s=[\d.]+ MB_per_s=[\d.]+ cpu_us_per_scan=[\d.]+ clean=(\d+) "
            r"infected=(\d+) errors=0 dir=%s")

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sks-ceiling-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def files(self, *names):
        d = os.path.join(self.dir, "files")
        os.makedirs(d)
        for n in names:
            shutil.copy(FILES[n], d)
        return d

    def test_ceiling_counts_each_scan_and_each_verdict(self):
        # --stamp none: each file once, so the two verdicts are exact.
        d = self.files("clean_23k.bin", "eicar.com")
        p = subprocess.run([os.path.join(BUILD, "bin", "sekisho-scand"), "--ceiling", d,
                            "--databases", DATABASES, "--threads", "1", "--seconds", "5",
                            "--path", "bare", "--stamp", "none"],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, TMPDIR=self.dir))
        self.assertEqual(p.returncode, 0, p.stderr)
        m = [l for l in p.stdout.splitlines() if l.startswith("ceiling:")]
        self.assertEqual(len(m), 1, p.stdout)
        self.assertRegex(m[0], (self.LINE % d) + "$")
        scans, clean, infected = self.fullmatch(m[0], d)
        self.assertEqual((scans, clean, infected), (2, 1, 1))

    def fullmatch(self, line, d):
        """(scans, clean, infected) of a ceiling: line for directory d."""
        g = re.match(self.LINE % re.escape(d), line)
        return tuple(int(x) for x in g.groups())

    def test_ceiling_first_measures_then_serves(self):
        d = self.files("clean_23k.bin", "clean_1m.bin")
        sd = Scand(BUILD, DATABASES, threads=1,
                   extra_args=["--ceiling-first", d, "--seconds", "1"]).start()
        try:
            # Its stamped contents are all new: every scan is counted, none
            # infected; then the daemon serves as ever.
            lines = [l for l in sd.log().splitlines() if l.startswith("ceiling:")]
            self.assertEqual(len(lines), 1, sd.log()[-2000:])
            scans, clean, infected = self.fullmatch(lines[0], d)
            self.assertGreater(scans, 0)
            self.assertEqual((clean, infected), (scans, 0))
            self.assertLess(sd.log().index(lines[0]), sd.log().index("listening"))
            with ScandClient(sd.socket_path) as c:
                r = c.scan_path(FILES["eicar.com"])
            self.assertEqual((r.verdict, r.name), (INFECTED, EICAR_NAME))
        finally:
            sd.stop()
            sd.cleanup()

    def ceiling_lines(self, sd, d=None):
        return [l for l in sd.log().splitlines()
                if l.startswith("ceiling:") and (d is None or l.endswith("dir=" + d))]

    def test_sigusr2_measures_again_while_serving(self):
        # The benches' yardstick taken between cells in the serving daemon
        # (bench/procs.sh scand_remeasure). The bare loop switches
        # libclamav's engine-wide callbacks off: a scan asked for meanwhile
        # waits for it and is then classified with the callbacks on (the
        # detection name comes from them).
        d = self.files("clean_23k.bin", "clean_1m.bin")
        sd = Scand(BUILD, DATABASES, threads=1,
                   extra_args=["--ceiling-first", d, "--seconds", "3"]).start()
        try:
            self.assertEqual(len(self.ceiling_lines(sd)), 1)
            sd.proc.send_signal(signal.SIGUSR2)  # to the supervisor: passed on
            self.assertTrue(sd.wait_log("SIGUSR2: measuring the ceiling of %s" % d),
                            sd.log()[-2000:])
            # The bare loop holds the engine now: this scan waits for its
            # end, and its reply comes after the measurement's line.
            with ScandClient(sd.socket_path) as c:
                r = c.scan_path(FILES["eicar.com"])
            self.assertEqual((r.verdict, r.name), (INFECTED, EICAR_NAME))
            lines = self.ceiling_lines(sd)
            self.assertEqual(len(lines), 2, sd.log()[-2000:])
            scans, clean, infected = self.fullmatch(lines[1], d)
            self.assertGreater(scans, 0)
            self.assertEqual((clean, infected), (scans, 0))
            with ScandClient(sd.socket_path) as c:
                r = c.scan_path(FILES["clean_23k.bin"])
            self.assertEqual(r.verdict, CLEAN)
        finally:
            sd.stop()
            sd.cleanup()

    def test_sigusr2_value_picks_one_directory(self):
        d1 = self.files("clean_23k.bin")
        d2 = os.path.join(self.dir, "two")
        os.makedirs(d2)
        shutil.copy(FILES["clean_1m.bin"], d2)
        sd = Scand(BUILD, DATABASES, threads=1,
                   extra_args=["--ceiling-first", d1, "--ceiling-first", d2,
                               "--seconds", "1"]).start()
        try:
            self.assertEqual((len(self.ceiling_lines(sd, d1)), len(self.ceiling_lines(sd, d2))),
                             (1, 1))
            subprocess.run(["/bin/kill", "-q", "2", "-USR2", str(sd.proc.pid)], check=True,
                           timeout=10)
            self.assertTrue(sd.wait_log("dir=" + d2, count=2), sd.log()[-2000:])
            self.assertIn("SIGUSR2: measuring the ceiling of %s" % d2, sd.log())
            self.assertNotIn("SIGUSR2: measuring the ceiling of %s " % d1, sd.log())
            self.assertEqual((len(self.ceiling_lines(sd, d1)), len(self.ceiling_lines(sd, d2))),
                             (1, 2))
        finally:
            sd.stop()
            sd.cleanup()

    def test_sigusr2_without_ceiling_first_is_ignored(self):
        sd = Scand(BUILD, DATABASES, threads=1).start()
        try:
            sd.proc.send_signal(signal.SIGUSR2)
            self.assertTrue(sd.wait_log("SIGUSR2: ignored"), sd.log()[-2000:])
            with ScandClient(sd.socket_path) as c:
                r = c.scan_path(FILES["eicar.com"])
            self.assertEqual((r.verdict, r.name), (INFECTED, EICAR_NAME))
            self.assertEqual(self.ceiling_lines(sd), [])
        finally:
            sd.stop()
            sd.cleanup()

    def test_ceiling_first_refuses_with_ceiling(self):
        p = subprocess.run([os.path.join(BUILD, "bin", "sekisho-scand"), "--ceiling", self.dir,
                            "--ceiling-first", self.dir], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--ceiling and --ceiling-first do not go together", p.stderr)


EXPECT = {"eicar.com": (INFECTED, EICAR_NAME), "clean_23k.bin": (CLEAN, ""),
          "eicar.zip": (INFECTED, EICAR_NAME), "nested_6.zip": (INFECTED, EICAR_NAME),
          "clean_1m.bin": (CLEAN, "")}


def scan_stream(socket_path, names, results, errors, stop=None):
    """Scan names in order on one connection; append (name, verdict, name)."""
    try:
        with ScandClient(socket_path) as c:
            for name in names:
                if stop is not None and stop.is_set():
                    break
                r = c.scan_path(FILES[name])
                results.append((name, r.verdict, r.name))
    except Exception as e:  # reported by the test thread
        errors.append(repr(e))


class TestConcurrency(ScandTestBase):
    def test_every_thread_is_sched_batch(self):
        # A daemon thread that wakes up must not preempt a running scan or
        # a proxy worker (docs/internals/scand.md): SCHED_BATCH (3) for the
        # event thread and, inherited, the scanner threads.
        m = re.search(r"scanner threads, .*pid (\d+)", self.scand.log())
        self.assertIsNotNone(m, self.scand.log())
        policies = task_policies(int(m.group(1)))
        self.assertGreaterEqual(len(policies), 3)  # the event thread and 2 scanners
        self.assertEqual(set(policies.values()), {SCHED_BATCH}, policies)

    def test_many_concurrent_requests(self):
        conns, per_conn = 20, 10
        names = list(EXPECT)
        results, errors, threads = [], [], []
        for i in range(conns):
            seq = [names[(i + k) % len(names)] for k in range(per_conn)]
            t = threading.Thread(target=scan_stream,
                                 args=(self.scand.socket_path, seq, results, errors))
            threads.append(t)
            t.start()
        for t in threads:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in threads), "clients still waiting")
        self.assertEqual(errors, [])
        self.assertEqual(len(results), conns * per_conn)
        for name, verdict, det in results:
            self.assertEqual((verdict, det), EXPECT[name], name)


class TestReload(unittest.TestCase):
    """Reload while scanning, on a private copy of the definitions."""

    def setUp(self):
        self.db = tempfile.mkdtemp(prefix="sks-db-")
        for f in os.listdir(DATABASES):
            if f.endswith((".ndb", ".hdb", ".ldb", ".hsb")):
                shutil.copy(os.path.join(DATABASES, f), self.db)
        self.scand = Scand(BUILD, self.db, threads=2).start()

    def tearDown(self):
        rc = self.scand.stop()
        log = self.scand.log()
        self.scand.cleanup()
        shutil.rmtree(self.db, ignore_errors=True)
        self.assertEqual(rc, 0, log[-3000:])

    def test_reload_while_scanning(self):
        with self.scand.client() as c:
            before = c.reload()
        self.assertTrue(before.ok, before.error)
        # A new signature in the directory: the reload must pick it up.
        with open(os.path.join(self.db, "extra.ndb"), "w") as f:
            f.write("Sekisho.Test.Extra-1:0:*:%s\n" % b"SEKISHO-EXTRA-TEST".hex())
        stop = threading.Event()
        results, errors, threads = [], [], []
        names = list(EXPECT)
        for i in range(4):
            seq = [names[(i + k) % len(names)] for k in range(100000)]
            t = threading.Thread(target=scan_stream,
                                 args=(self.scand.socket_path, seq, results, errors, stop))
            threads.append(t)
            t.start()
        time.sleep(0.3)
        self.scand.sighup()
        with self.scand.client() as c:
            r = c.reload()
        self.assertTrue(r.ok, r.error)
        self.assertEqual(r.signatures, before.signatures + 1)
        self.assertTrue(self.scand.wait_log("reload done", timeout=60, count=2),
                        self.scand.log()[-2000:])
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join(120)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(errors, [])
        self.assertGreater(len(results), 20)
        for name, verdict, det in results:
            self.assertEqual((verdict, det), EXPECT[name], name)
        # The new engine serves.
        extra = os.path.join(self.scand.dir, "extra.txt")
        with open(extra, "wb") as f:
            f.write(b"xx SEKISHO-EXTRA-TEST xx\n")
        with self.scand.client() as c:
            r = c.scan_path(extra)
        self.assertEqual((r.verdict, r.name), (INFECTED, "Sekisho.Test.Extra-1"))

    def test_engine_id_changes_only_with_the_definitions(self):
        with self.scand.client() as c:
            a = c.scan_path(FILES["eicar.com"])
            b = c.scan_path(FILES["eicar.com"])
            self.assertNotEqual(a.engine_id, 0)
            self.assertEqual(a.engine_id, b.engine_id)
            self.assertTrue(c.reload().ok)
            after = c.scan_path(FILES["eicar.com"])
            self.assertNotEqual(after.engine_id, a.engine_id)
            with open(os.path.join(self.db, "broken.ndb"), "w") as f:
                f.write("this is not a signature\n")
            try:
                self.assertFalse(c.reload().ok)
                kept = c.scan_path(FILES["eicar.com"])
            finally:
                os.unlink(os.path.join(self.db, "broken.ndb"))
            self.assertEqual(kept.engine_id, after.engine_id)  # the old engine serves on

    def test_broken_database_keeps_old_engine(self):
        with self.scand.client() as c:
            good = c.reload()
            self.assertTrue(good.ok)
            with open(os.path.join(self.db, "broken.ndb"), "w") as f:
                f.write("this is not a signature\n")
            r = c.reload()
            self.assertFalse(r.ok)
            self.assertNotEqual(r.error, "")
            self.assertEqual(r.signatures, good.signatures)
            s = c.scan_path(FILES["eicar.com"])
            self.assertEqual((s.verdict, s.name), (INFECTED, EICAR_NAME))
        self.assertIn("reload failed, keeping the engine in service", self.scand.log())
        os.unlink(os.path.join(self.db, "broken.ndb"))
        ok, sigs, err = self.scand.reload()
        self.assertTrue(ok, err)
        self.assertEqual(sigs, good.signatures)


class TestLifecycle(unittest.TestCase):
    def test_stale_socket_removed(self):
        sd = Scand(BUILD, DATABASES, threads=2)
        try:
            stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            stale.bind(sd.socket_path)
            stale.close()  # the file stays: a crashed daemon's leftover (GEN-5)
            sd.start()
            self.assertIn("removed stale socket", sd.log())
            with sd.client() as c:
                self.assertEqual(c.scan_path(FILES["eicar.com"]).verdict, INFECTED)
            # A second daemon on a live socket refuses to start.
            other = Scand(BUILD, DATABASES, threads=2)
            other.socket_path = sd.socket_path
            with self.assertRaises(RuntimeError):
                other.start()
            other.cleanup()
            self.assertEqual(sd.stop(), 0)
        finally:
            sd.cleanup()

    def test_sigterm_finishes_queued_scans(self):
        sd = Scand(BUILD, DATABASES, threads=1).start()
        try:
            with sd.client() as c:
                ids = []
                for _ in range(3):
                    fd = os.open(FILES["many_members.zip"], os.O_RDONLY)
                    ids.append(c.send_scan(fd))
                    os.close(fd)
                time.sleep(0.1)
                sd.proc.send_signal(15)
                got = sorted((c.recv_reply().id, ) for _ in ids)
                self.assertEqual([g[0] for g in got], sorted(ids))
            self.assertEqual(sd.proc.wait(60), 0)
            self.assertFalse(os.path.exists(sd.socket_path))
        finally:
            sd.cleanup()

    @unittest.skipUnless(os.geteuid() == 0, "privilege drop needs root")
    def test_user_drops_privileges(self):
        import pwd
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no user nobody")
        db = tempfile.mkdtemp(prefix="sks-db-")
        os.chmod(db, 0o755)
        shutil.copy(os.path.join(DATABASES, "sekisho-test.ndb"), db)
        os.chmod(os.path.join(db, "sekisho-test.ndb"), 0o644)
        sd = Scand(BUILD, db, threads=1, extra_args=["--user", "nobody"])
        try:
            sd.start()
            # The supervisor and the scanning process it forked: nobody's
            # ids (real, effective, saved, fs), no supplementary group, and
            # no exec can gain privileges (lib/privdrop, as the master).
            scanning = child_pids(sd.proc.pid)
            self.assertEqual(len(scanning), 1)
            for what, pid in (("supervisor", sd.proc.pid), ("scanning process", scanning[0])):
                st = proc_status(pid)
                self.assertEqual(st["Uid"], [str(nobody.pw_uid)] * 4, what)
                self.assertEqual(st["Gid"], [str(nobody.pw_gid)] * 4, what)
                self.assertEqual(st["Groups"], [], what)
                self.assertEqual(st["NoNewPrivs"], ["1"], what)
            self.assertEqual(os.stat(sd.socket_path).st_mode & 0o777, 0o666)
            with sd.client() as c:
                self.assertEqual(c.scan_path(FILES["eicar.com"]).verdict, INFECTED)
                # Reloads still work: the definitions are readable by the user.
                self.assertTrue(c.reload().ok)
            self.assertEqual(sd.stop(), 0)
        finally:
            sd.cleanup()
            shutil.rmtree(db, ignore_errors=True)

    def test_no_new_privs_without_user(self):
        # Nothing to drop (no --user): the supervisor still sets
        # NoNewPrivs before forking, so the scanning process has it too.
        sd = Scand(BUILD, DATABASES, threads=1)
        try:
            sd.start()
            scanning = child_pids(sd.proc.pid)
            self.assertEqual(len(scanning), 1)
            for what, pid in (("supervisor", sd.proc.pid), ("scanning process", scanning[0])):
                st = proc_status(pid)
                self.assertEqual(st["Uid"], [str(os.geteuid())] * 4, what)
                self.assertEqual(st["NoNewPrivs"], ["1"], what)
            self.assertEqual(sd.stop(), 0)
        finally:
            sd.cleanup()

    @unittest.skipUnless(os.geteuid() == 0, "privilege drop needs root")
    def test_user_root_refused(self):
        d = tempfile.mkdtemp(prefix="sks-r-")
        try:
            r = subprocess.run([os.path.join(BUILD, "bin", "sekisho-scand"), "--user", "root",
                                "--socket", os.path.join(d, "s.sock"), "--databases", DATABASES,
                                "--tmpdir", os.path.join(d, "tmp")],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 1)
            self.assertIn("--user: user 'root' is root; refusing to run as root", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "s.sock")))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_sigterm_during_reload(self):
        # A reload thread still running at exit must not outlive the server.
        sd = Scand(BUILD, DATABASES, threads=1).start()
        try:
            sd.sighup()
            sd.proc.send_signal(15)
            self.assertEqual(sd.proc.wait(60), 0, sd.log()[-2000:])
        finally:
            sd.cleanup()

    def test_daemon_mode(self):
        d = tempfile.mkdtemp(prefix="sks-d-")
        sock, log = os.path.join(d, "s.sock"), os.path.join(d, "log")
        try:
            with open(log, "wb") as f:
                rc = subprocess.run([os.path.join(BUILD, "bin", "sekisho-scand"), "--daemon",
                                     "--socket", sock, "--databases", DATABASES,
                                     "--tmpdir", os.path.join(d, "tmp")],
                                    stdout=f, stderr=f, timeout=60).returncode
            self.assertEqual(rc, 0)
            pid = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and pid is None:
                with open(log) as f:
                    for line in f:
                        if "scanner threads" in line:
                            pid = int(line.rsplit("pid ", 1)[1])
                time.sleep(0.05)
            self.assertIsNotNone(pid, "no start line")
            with ScandClient(sock) as c:
                self.assertEqual(c.scan_path(FILES["eicar.com"]).verdict, INFECTED)
            os.kill(pid, 15)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
                time.sleep(0.05)
            self.assertFalse(os.path.exists("/proc/%d" % pid), "daemon ignored SIGTERM")
            self.assertFalse(os.path.exists(sock))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_bad_databases_refuse_to_start(self):
        empty = tempfile.mkdtemp(prefix="sks-empty-")
        sd = Scand(BUILD, empty, threads=1)
        try:
            with self.assertRaises(RuntimeError):
                sd.start()
            self.assertIn("vsd_start() error", sd.log())  # LOG-E18
        finally:
            sd.cleanup()
            shutil.rmtree(empty, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
