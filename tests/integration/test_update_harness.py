"""The harness of the definition-update tests (issue 15), before
test_dbupdate relies on it: harness/mirror.py (nginx as the database
mirror), harness/squid.py (a real Squid as the update proxy) and
harness/clamdb.py (test databases made with sigtool, checked with
clamscan, and offline bundles).

No Sekisho program is involved: real clients (curl, Python's tarfile) and
ClamAV's own clamscan check what the harness serves and writes. Covered:
- the mirror serves a file as written, answers If-Modified-Since with 304
  and a Range with 206, logs each request with the request headers the
  update tests look at, and /slow/ really is rate limited (the transfer
  takes at least half of size/rate: a property of the harness, measured
  on curl, not a threshold on Sekisho); the dead URL refuses, the stalled
  one never answers, down()/up() take the mirror away and back;
- Squid relays a GET to the mirror (its log: TCP_MISS/200; the mirror's:
  a Via header naming squid) and refuses destinations other than
  127.0.0.1 without resolving them; with basic authentication, no
  credentials and a wrong password get 407 and the right ones 200; the
  deny_all proxy refuses with 403;
- clamdb: the .ndb and .hdb lines detect their marker file and not
  another one; the malformed .ndb, the fake CVD (only its digital
  signature is wrong: the same bytes named .cud load) and truncated
  files are refused by libclamav; the unsigned .cud built by sigtool
  loads and its header says what was asked;
- bundles: gzip'd and plain tarballs hold exactly the entries asked for,
  the hostile ones included (names, types, link targets, modes, declared
  sizes; the archive ends inside the huge entry).
The start-up times of nginx and Squid are printed (figures, not
thresholds).
"""
import email.utils
import gzip
import hashlib
import os
import subprocess
import tarfile
import unittest

from harness import SLOW, Workdir
from harness import clamdb
from harness import mirror as mirror_mod
from harness import squid as squid_mod

ENV = {}
SLOW_RATE = 64 * 1024  # bytes/s of the mirror's /slow/
USER, PASSWORD = "updater", "s3cret pass:word"


def curl(url, *args, timeout=30):
    """(curl's exit code, HTTP status, headers, body, stderr)."""
    wd = ENV["wd"].path
    body_path = os.path.join(wd, "curl.body")
    out = subprocess.run(["curl", "-sS", "--noproxy", "", "-D", "-", "-o", body_path,
                          "-w", "\\n%{http_code}", "-m", str(timeout * SLOW)] + list(args) + [url],
                         capture_output=True, text=True, timeout=timeout * SLOW + 10)
    head, _, code = out.stdout.rpartition("\n")
    try:
        with open(body_path, "rb") as f:
            body = f.read()
        os.unlink(body_path)
    except FileNotFoundError:
        body = b""
    return out.returncode, int(code or 0), head, body, out.stderr


def setUpModule():
    # missing packages are an error, never a skip (dev/install-deps.sh installs them)
    reason = clamdb.available()
    if reason or not squid_mod.available():
        raise RuntimeError(reason or "squid is not installed (dev/install-deps.sh test)")
    wd = ENV["wd"] = Workdir("update-harness")
    try:
        ENV["mirror"] = mirror_mod.Mirror(wd.path, slow_rate=SLOW_RATE)
        ENV["squid"] = squid_mod.Squid(wd.path)
        ENV["squid_auth"] = squid_mod.Squid(wd.path, auth=(USER, PASSWORD), name="squid-auth")
        ENV["squid_deny"] = squid_mod.Squid(wd.path, deny_all=True, name="squid-deny")
    except BaseException:
        tearDownModule()
        raise
    print("mirror nginx started in %.2f s; squid in %.2f s (auth %.2f s, deny_all %.2f s)"
          % (ENV["mirror"].startup_s, ENV["squid"].startup_s, ENV["squid_auth"].startup_s,
             ENV["squid_deny"].startup_s), flush=True)


def tearDownModule():
    for key in ("squid_deny", "squid_auth", "squid", "mirror"):
        if key in ENV:
            ENV.pop(key).stop()
    if "wd" in ENV:
        ENV.pop("wd").cleanup()


class TestMirror(unittest.TestCase):
    """nginx as the database mirror: what libfreshclam's downloads meet."""

    MTIME = 1796600000

    @classmethod
    def setUpClass(cls):
        cls.data = os.urandom(200 * 1024)
        ENV["mirror"].put("daily.cvd", cls.data, mtime=cls.MTIME)

    def test_serves_the_file(self):
        m = ENV["mirror"]
        rc, code, head, body, err = curl(m.url("daily.cvd"))
        self.assertEqual((rc, code), (0, 200), err)
        self.assertEqual(body, self.data)
        self.assertIn("Last-Modified: " + email.utils.formatdate(self.MTIME, usegmt=True), head)
        rec = m.wait_requests("/daily.cvd")[-1]
        self.assertEqual((rec.method, rec.status, rec.bytes), ("GET", 200, len(self.data)))
        self.assertIsNone(rec.if_modified_since)
        self.assertIsNone(rec.range)
        self.assertIsNone(rec.via)
        self.assertTrue(rec.user_agent.startswith("curl/"), rec)

    def test_if_modified_since_gets_304(self):
        m = ENV["mirror"]
        rc, code, head, _, err = curl(m.url("daily.cvd"))
        self.assertEqual(code, 200, err)
        last_modified = [l.split(":", 1)[1].strip() for l in head.splitlines()
                         if l.lower().startswith("last-modified:")][0]
        before = len(m.requests())
        rc, code, _, body, err = curl(m.url("daily.cvd"), "-H",
                                      "If-Modified-Since: " + last_modified)
        self.assertEqual((rc, code, body), (0, 304, b""), err)
        rec = m.wait_requests("/daily.cvd", before + 1)[-1]
        self.assertEqual((rec.status, rec.bytes), (304, 0))
        self.assertEqual(rec.if_modified_since, last_modified)
        # a changed file is sent again
        m.put("changed.cvd", b"new", mtime=self.MTIME + 3600)
        rc, code, _, body, err = curl(m.url("changed.cvd"), "-H",
                                      "If-Modified-Since: " + last_modified)
        self.assertEqual((code, body), (200, b"new"), err)

    def test_range_gets_206(self):
        m = ENV["mirror"]
        rc, code, head, body, err = curl(m.url("daily.cvd"), "-r", "1000-1999")
        self.assertEqual((rc, code), (0, 206), err)
        self.assertEqual(body, self.data[1000:2000])
        self.assertIn("Content-Range: bytes 1000-1999/%d" % len(self.data), head)
        rec = [r for r in m.wait_requests("/daily.cvd") if r.range][-1]
        self.assertEqual((rec.status, rec.bytes, rec.range), (206, 1000, "bytes=1000-1999"))

    def test_slow_serves_the_same_file(self):
        # No clock in tests: that /slow/ is slow shows where it is used,
        # test_dbupdate.TestBackground (an update still running when
        # --timeout=2s ends the wait, and still reporting progress after).
        m = ENV["mirror"]
        rc, code, _, body, err = curl(m.slow_url("daily.cvd"), timeout=60)
        self.assertEqual((rc, code), (0, 200), err)
        self.assertEqual(body, self.data)
        rec = m.wait_requests("/slow/daily.cvd")[-1]
        self.assertEqual((rec.status, rec.bytes), (200, len(self.data)))

    def test_missing_file_is_404(self):
        rc, code, _, _, err = curl(ENV["mirror"].url("nothing-here.cvd"))
        self.assertEqual(code, 404, err)
        self.assertEqual(ENV["mirror"].wait_requests("/nothing-here.cvd")[-1].status, 404)

    def test_dead_url_refuses(self):
        rc, code, _, _, err = curl(ENV["mirror"].dead_url("daily.cvd"))
        self.assertEqual((rc, code), (7, 0), err)  # 7: failed to connect
        self.assertIn("Couldn't connect", err)

    def test_stalled_url_never_answers(self):
        rc, code, _, body, err = curl(ENV["mirror"].stalled_url("daily.cvd"), timeout=1)
        self.assertEqual((rc, code, body), (28, 0, b""), err)  # 28: timed out
        self.assertIn("0 bytes received", err)

    def test_down_and_up(self):
        m = mirror_mod.Mirror(ENV["wd"].path, name="mirror-downup")
        try:
            m.put("main.cvd", b"main")
            rc, code, _, body, err = curl(m.url("main.cvd"))
            self.assertEqual((code, body), (200, b"main"), err)
            m.down()
            rc, code, _, _, err = curl(m.url("main.cvd"))
            self.assertEqual((rc, code), (7, 0), err)
            m.up()
            rc, code, _, body, err = curl(m.url("main.cvd"))
            self.assertEqual((code, body), (200, b"main"), err)
            # nginx logs a request after answering it: wait for the record.
            self.assertEqual([r.status for r in m.wait_requests("main.cvd", count=2)], [200, 200])
        finally:
            m.stop()


class TestSquid(unittest.TestCase):
    """Squid as the update proxy, without authentication."""

    def test_relays_to_the_mirror(self):
        m, s = ENV["mirror"], ENV["squid"]
        m.put("relay/daily.cld", b"relayed bytes")
        rc, code, _, body, err = curl(m.url("relay/daily.cld"), "-x", s.url)
        self.assertEqual((rc, code, body), (0, 200, b"relayed bytes"), err)
        rec = s.wait_requests("/relay/daily.cld")[-1]
        self.assertEqual((rec.result, rec.status, rec.method, rec.client),
                         ("TCP_MISS", 200, "GET", "127.0.0.1"))
        self.assertEqual(rec.url, m.url("relay/daily.cld"))
        self.assertIsNone(rec.user)
        self.assertEqual(rec.hierarchy, "HIER_DIRECT/127.0.0.1")
        origin = m.wait_requests("/relay/daily.cld")[-1]
        self.assertIn("squid", origin.via)

    def test_nothing_is_cached(self):
        m, s = ENV["mirror"], ENV["squid"]
        m.put("relay/twice.cvd", b"x" * 1000)
        for _ in range(2):
            self.assertEqual(curl(m.url("relay/twice.cvd"), "-x", s.url)[1], 200)
        self.assertEqual([r.result for r in s.wait_requests("/relay/twice.cvd", 2)],
                         ["TCP_MISS", "TCP_MISS"])
        self.assertEqual(len(m.wait_requests("/relay/twice.cvd", 2)), 2)

    def test_other_destinations_refused(self):
        s = ENV["squid"]
        rc, code, _, _, err = curl("http://database.clamav.net/daily.cvd", "-x", s.url)
        self.assertEqual(code, 403, err)
        rec = s.wait_requests("database.clamav.net/daily.cvd")[-1]
        self.assertEqual((rec.result, rec.status, rec.hierarchy),
                         ("TCP_DENIED", 403, "HIER_NONE/-"))
        rc, code, _, _, err = curl("https://database.clamav.net/daily.cvd", "-x", s.url)
        self.assertEqual(rc, 56, err)  # CONNECT tunnel failed
        self.assertIn("403", err)
        rec = s.wait_requests("database.clamav.net:443")[-1]
        self.assertEqual((rec.method, rec.result, rec.status), ("CONNECT", "TCP_DENIED", 403))

    def test_deny_all_refuses(self):
        m, s = ENV["mirror"], ENV["squid_deny"]
        m.put("relay/denied.cvd", b"never")
        rc, code, _, body, err = curl(m.url("relay/denied.cvd"), "-x", s.url)
        self.assertEqual(code, 403, err)
        rec = s.wait_requests("/relay/denied.cvd")[-1]
        self.assertEqual((rec.result, rec.status), ("TCP_DENIED", 403))
        self.assertEqual([r for r in m.requests() if "denied.cvd" in r.uri], [])


class TestSquidAuth(unittest.TestCase):
    """Squid with basic proxy authentication (basic_ncsa_auth)."""

    def setUp(self):
        self.m, self.s = ENV["mirror"], ENV["squid_auth"]
        self.name = "auth/%s.cvd" % self.id().rsplit(".", 1)[1]
        self.m.put(self.name, b"authorized")

    def test_no_credentials_407(self):
        rc, code, head, _, err = curl(self.m.url(self.name), "-x", self.s.url)
        self.assertEqual(code, 407, err)
        self.assertIn('Proxy-Authenticate: Basic realm="sekisho-test-proxy"', head)
        rec = self.s.wait_requests(self.name)[-1]
        self.assertEqual((rec.result, rec.status, rec.user), ("TCP_DENIED", 407, None))
        self.assertEqual([r for r in self.m.requests() if self.name in r.uri], [])

    def test_wrong_password_407(self):
        rc, code, _, _, err = curl(self.m.url(self.name), "-x", self.s.url,
                                   "--proxy-user", USER + ":wrong")
        self.assertEqual(code, 407, err)
        rec = self.s.wait_requests(self.name)[-1]
        self.assertEqual((rec.result, rec.status, rec.user), ("TCP_DENIED", 407, USER))
        self.assertEqual([r for r in self.m.requests() if self.name in r.uri], [])

    def test_right_password_200(self):
        rc, code, _, body, err = curl(self.m.url(self.name), "-x", self.s.url,
                                      "--proxy-user", "%s:%s" % (USER, PASSWORD))
        self.assertEqual((rc, code, body), (0, 200, b"authorized"), err)
        rec = self.s.wait_requests(self.name)[-1]
        self.assertEqual((rec.result, rec.status, rec.user), ("TCP_MISS", 200, USER))
        self.assertEqual(len(self.m.wait_requests(self.name)), 1)

    def test_password_file_is_hashed(self):
        with open(self.s.passwd) as f:
            line = f.read()
        self.assertTrue(line.startswith(USER + ":$apr1$"), line)
        self.assertNotIn(PASSWORD, line)


class TestClamDb(unittest.TestCase):
    """clamdb's databases as clamscan (libclamav) sees them."""

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, "clamdb")
        os.makedirs(cls.dir)
        cls.target = os.path.join(cls.dir, "target.txt")
        cls.other = os.path.join(cls.dir, "other.txt")
        cls.marker = clamdb.marker_file(cls.target, "Target")
        clamdb.marker_file(cls.other, "Other")

    def path(self, name, data=None):
        p = os.path.join(self.dir, name)
        if data is not None:
            with open(p, "wb") as f:
                f.write(data)
        return p

    def assertRefused(self, db, *messages):
        r = clamdb.clamscan(db, self.target)
        self.assertEqual((r.rc, r.found), (2, []), r.output)
        for message in messages:
            self.assertIn(message, r.output)

    def test_marker_files_differ(self):
        self.assertRegex(self.marker, r"^SEKISHO-DBUPDATE-TEST-MARKER:Target:[0-9a-f]{32}$")
        self.assertEqual(clamdb.marker_of(self.target), (self.marker, "Target"))
        self.assertNotEqual(clamdb.marker_of(self.other)[0], self.marker)

    def test_ndb_detects_the_marker_file(self):
        line = clamdb.ndb_for(self.target)
        self.assertEqual(line, "Sekisho.Test.Target:0:*:" + self.marker.encode().hex())
        db = clamdb.write_db(self.dir, "target.ndb", [line])
        r = clamdb.clamscan(db, self.target)
        self.assertEqual((r.rc, r.found), (1, ["Sekisho.Test.Target.UNOFFICIAL"]), r.output)
        r = clamdb.clamscan(db, self.other)
        self.assertEqual((r.rc, r.found), (0, []), r.output)
        self.assertIn("other.txt: OK", r.output)

    def test_hdb_detects_the_file(self):
        line = clamdb.hdb_for(self.target, "Sekisho.Test.TargetMd5")
        self.assertRegex(line, r"^[0-9a-f]{32}:%d:Sekisho\.Test\.TargetMd5$"
                         % os.path.getsize(self.target))
        db = clamdb.write_db(self.dir, "target.hdb", [line])
        r = clamdb.clamscan(db, self.target)
        self.assertEqual((r.rc, r.found), (1, ["Sekisho.Test.TargetMd5.UNOFFICIAL"]), r.output)
        self.assertEqual(clamdb.clamscan(db, self.other).rc, 0)

    def test_malformed_ndb_refused(self):
        db = clamdb.write_db(self.dir, "malformed.ndb", clamdb.malformed_ndb())
        self.assertRefused(db, "Malformed database")

    def test_unsigned_cud_loads(self):
        data = clamdb.unsigned_cud(7, [clamdb.ndb_for(self.target)])
        header = clamdb.cvd_header(data)
        self.assertEqual((header["version"], header["sigs"], header["dsig"]), (7, 1, "X"))
        db = self.path("daily.cud", data)
        r = clamdb.clamscan(db, self.target)
        self.assertEqual((r.rc, r.found), (1, ["Sekisho.Test.Target.UNOFFICIAL"]), r.output)
        info = subprocess.run([clamdb.SIGTOOL, "-i", db], capture_output=True, text=True,
                              timeout=30 * SLOW).stdout
        self.assertIn("Version: 7", info)
        self.assertIn("Verification: Unsigned container", info)

    def test_fake_cvd_refused(self):
        data = clamdb.fake_cvd(27000, 1, [clamdb.ndb_for(self.target)])
        header = data[:512].decode()
        self.assertRegex(header.rstrip(" "),
                         r"^ClamAV-VDB:\d\d \w{3} \d{4} \d\d-\d\d \+0000:27000:1:"
                         r"\d+:[0-9a-f]{32}:[A-Za-z0-9+/]{86}:sekisho:\d+$")
        self.assertEqual(header, header.rstrip(" ").ljust(512))
        self.assertEqual(clamdb.cvd_header(data)["md5"], hashlib.md5(data[512:]).hexdigest())
        self.assertRefused(self.path("daily.cvd", data), "Can't verify database integrity",
                           "cli_decodesig: Resulting signature too large")
        self.assertRefused(self.path("daily.cld", data), "Can't verify database integrity")
        # the same bytes as an unsigned container load: the signature is
        # the only thing wrong
        r = clamdb.clamscan(self.path("fake-as.cud", data), self.target)
        self.assertEqual((r.rc, r.found), (1, ["Sekisho.Test.Target.UNOFFICIAL"]), r.output)

    def test_truncated_refused(self):
        cud = self.path("whole.cud", clamdb.unsigned_cud(3, [clamdb.ndb_for(self.target)]))
        size = os.path.getsize(cud)
        self.assertEqual(len(clamdb.truncated(cud, 300, self.path("head.cud"))), 300)
        self.assertEqual(os.path.getsize(cud), size)  # the original is left alone
        self.assertRefused(self.path("head.cud"), "Broken or not a CVD file")
        clamdb.truncated(cud, size - 100, self.path("body.cud"))
        self.assertRefused(self.path("body.cud"), "Malformed database")
        ndb = clamdb.write_db(self.dir, "whole.ndb", [clamdb.ndb_for(self.target)])
        clamdb.truncated(ndb, 10, self.path("cut.ndb"))  # inside the name
        self.assertRefused(self.path("cut.ndb"), "Malformed database")
        # A text database cut after an even number of hex digits is still a
        # database, with a shorter signature: loading it is no check of a
        # download's completeness.
        clamdb.truncated(ndb, len("Sekisho.Test.Target:0:*:") + 12, self.path("short.ndb"))
        r = clamdb.clamscan(self.path("short.ndb"), self.other)
        self.assertEqual((r.rc, r.found), (1, ["Sekisho.Test.Target.UNOFFICIAL"]), r.output)


class TestBundles(unittest.TestCase):
    """Offline bundles are what tarfile reads in them."""

    def setUp(self):
        self.dir = os.path.join(ENV["wd"].path, "bundles", self.id().rsplit(".", 1)[1])
        os.makedirs(self.dir)
        self.files = {"daily.cud": clamdb.unsigned_cud(5), "custom.ndb": clamdb.malformed_ndb()}

    def members(self, path):
        with tarfile.open(path) as t:
            return [(m.name, m.type, m.size, m.linkname, m.mode) for m in t.getmembers()]

    def test_gz_and_plain(self):
        for fmt, magic_at, magic in (("gz", 0, b"\x1f\x8b"), ("plain", 257, b"ustar")):
            with self.subTest(fmt=fmt):
                p = clamdb.bundle(os.path.join(self.dir, "b." + fmt), self.files, fmt)
                with open(p, "rb") as f:
                    raw = f.read()
                self.assertEqual(raw[magic_at:magic_at + len(magic)], magic)
                members = self.members(p)
                self.assertEqual(members, [("daily.cud", tarfile.REGTYPE,
                                            len(self.files["daily.cud"]), "", 0o644),
                                           ("custom.ndb", tarfile.REGTYPE,
                                            len(self.files["custom.ndb"]), "", 0o644)])
                with tarfile.open(p) as t:
                    for name, data in self.files.items():
                        self.assertEqual(t.extractfile(name).read(), data)

    def test_hostile_entries(self):
        outside = os.path.join(self.dir, "outside.ndb")
        extra = [clamdb.traversal(), clamdb.absolute(outside), clamdb.symlink(),
                 clamdb.hardlink("hard.ndb", "/etc/shadow"), clamdb.non_database()]
        p = clamdb.bundle(os.path.join(self.dir, "hostile.tar.gz"), self.files, "gz", extra)
        members = self.members(p)
        hostile = clamdb.hostile_ndb()
        self.assertEqual(members[2:], [
            ("../evil.ndb", tarfile.REGTYPE, len(hostile), "", 0o644),
            (outside, tarfile.REGTYPE, len(hostile), "", 0o644),
            ("link.ndb", tarfile.SYMTYPE, 0, "/etc/passwd", 0o644),
            ("hard.ndb", tarfile.LNKTYPE, 0, "/etc/shadow", 0o644),
            ("x.sh", tarfile.REGTYPE, 17, "", 0o755)])
        with tarfile.open(p) as t:
            self.assertEqual(t.extractfile("../evil.ndb").read(), hostile)
        # the hostile content is a database libclamav would load
        db = clamdb.write_db(self.dir, "hostile.ndb", hostile)
        probe = os.path.join(self.dir, "probe.txt")
        with open(probe, "wb") as f:
            f.write(b"SEKISHO-HOSTILE-BUNDLE-ENTRY")
        self.assertEqual(clamdb.clamscan(db, probe).found, ["Sekisho.Test.HostileEntry.UNOFFICIAL"])

    def test_huge_declared_size(self):
        for fmt in ("gz", "plain"):
            with self.subTest(fmt=fmt):
                p = clamdb.bundle(os.path.join(self.dir, "huge." + fmt), self.files, fmt,
                                  [clamdb.huge("huge.ndb", data=b"A" * 1000)])
                size = os.path.getsize(p)
                with open(p, "rb") as f:
                    raw = f.read()
                if fmt == "gz":
                    raw = gzip.decompress(raw)
                self.assertLess(size, 64 * 1024)
                seen = []
                with self.assertRaises(tarfile.ReadError):
                    with tarfile.open(p) as t:
                        for m in t:
                            seen.append((m.name, m.size))
                self.assertEqual(seen[:2], [("daily.cud", len(self.files["daily.cud"])),
                                            ("custom.ndb", len(self.files["custom.ndb"]))])
                self.assertEqual(seen[2:], [("huge.ndb", (1 << 33) - 512)])
                # the archive ends 1000 bytes into the entry
                self.assertTrue(raw.endswith(b"A" * 1000))


if __name__ == "__main__":
    unittest.main()
