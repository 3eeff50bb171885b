"""[common] keys read by sekisho-scand started with -f <ini> (see
src/scand/main.c): database_dir and scand_threads (with scand_socket and
run_user). Each test sets the key to a value other than its default and
shows its effect: the definitions come from that directory (EICAR detected
from a copy of databases/, an empty directory refused) and the pool has that
many scanner threads (scand's start line and /proc)."""
import os
import pwd
import re
import shutil
import unittest

import harness
from harness import testfiles
from harness.scand import CLEAN, INFECTED, ScandClient

ENV = {}
THREADS = 5  # not the default (one per CPU, at least 2) on any test machine we use


def setUpModule():
    wd = harness.Workdir("common-keys")
    ENV["wd"] = wd
    files = os.path.join(wd.path, "files")
    os.makedirs(files)
    for name, data in (("eicar.com", testfiles.EICAR), ("clean.bin", testfiles.clean_bytes(4096))):
        path = os.path.join(files, name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, 0o644)
    os.chmod(files, 0o755)
    ENV["files"] = files


def tearDownModule():
    ENV["wd"].cleanup()


def scand_dir(name):
    # sun_path is 108 bytes: the work directory is short (/tmp/sekisho-...).
    d = os.path.join(ENV["wd"].path, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    harness.chown_for_daemons(d)
    return d


def write_ini(d, common):
    ini = os.path.join(d, "sekisho.ini")
    with open(ini, "w") as f:
        f.write("[common]\n" + "".join("%s=%s\n" % kv for kv in common.items()))
    os.chmod(ini, 0o644)
    return ini


def start_scand(d, ini):
    return harness.Process([os.path.join(harness.BIN, "sekisho-scand"), "-f", ini],
                           os.path.join(d, "scand.out"))


class TestScandFromIni(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = scand_dir("scand-ini")
        # A copy of the bundled definitions somewhere else: the scanner can
        # only find them through database_dir (its default is "databases",
        # relative to the ini's prefix, where there is none).
        cls.db = os.path.join(cls.dir, "defs-copy")
        shutil.copytree(os.path.join(harness.REPO, "databases"), cls.db)
        for root, dirs, names in os.walk(cls.db):
            os.chmod(root, 0o755)
            for n in names:
                os.chmod(os.path.join(root, n), 0o644)
        cls.socket = os.path.join(cls.dir, "s.sock")
        cls.ini = write_ini(cls.dir, {"scand_socket": cls.socket, "database_dir": cls.db,
                                      "scand_threads": str(THREADS),
                                      "tmpdir": os.path.join(cls.dir, "tmp")})
        cls.proc = start_scand(cls.dir, cls.ini)
        harness.wait_for(lambda: (os.path.exists(cls.socket) and "listening" in cls.proc.output())
                         or not cls.proc.alive(), 60, what="sekisho-scand -f listening")
        if not cls.proc.alive():
            raise RuntimeError("sekisho-scand -f exited:\n" + cls.proc.output())

    @classmethod
    def tearDownClass(cls):
        cls.proc.stop()

    def test_definitions_come_from_database_dir(self):
        out = self.proc.output()
        self.assertRegex(out, r"sekisho-scand: loaded [1-9]\d* signatures from %s in "
                         % re.escape(self.db))
        with ScandClient(self.socket) as c:
            r = c.scan_path(os.path.join(ENV["files"], "eicar.com"))
            self.assertEqual((r.verdict, r.name), (INFECTED, "Eicar-Test-Signature"))
            r = c.scan_path(os.path.join(ENV["files"], "clean.bin"))
            self.assertEqual((r.verdict, r.name), (CLEAN, ""))

    def test_pool_has_scand_threads_threads(self):
        m = re.search(r"\b%d scanner threads, scan path \w+, pid (\d+)" % THREADS,
                      self.proc.output())
        self.assertTrue(m, self.proc.output())
        # The scanning process (the supervisor, proc.pid, has one thread).
        with open("/proc/%s/status" % m.group(1)) as f:
            threads = int(re.search(r"^Threads:\s+(\d+)$", f.read(), re.M).group(1))
        self.assertGreaterEqual(threads, THREADS + 1)  # the pool and the main thread

    @unittest.skipUnless(os.geteuid() == 0, "changing users needs root")
    def test_runs_as_run_user(self):
        # run_user at its default (nobody) is what -f applies as root.
        with open("/proc/%d/status" % self.proc.pid) as f:
            uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
        self.assertEqual(int(uid), pwd.getpwnam("nobody").pw_uid)


class TestEmptyDatabaseDir(unittest.TestCase):
    def test_empty_database_dir_is_refused(self):
        d = scand_dir("scand-empty")
        empty = os.path.join(d, "no-defs")
        os.makedirs(empty, exist_ok=True)
        os.chmod(empty, 0o755)
        sock = os.path.join(d, "s.sock")
        proc = start_scand(d, write_ini(d, {"scand_socket": sock, "database_dir": empty}))
        try:
            harness.wait_for(lambda: not proc.alive(), 60, what="sekisho-scand to give up")
        finally:
            rc = proc.stop()
        self.assertNotEqual(rc, 0)
        out = proc.output()
        self.assertIn("vsd_start() error: cl_load(%s): " % empty, out)
        self.assertNotIn("listening", out)
        self.assertFalse(os.path.exists(sock))


if __name__ == "__main__":
    unittest.main()
