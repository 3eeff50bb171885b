"""The real-server harness of the FTP proxy tests, driven directly.

No proxy here: Python's ftplib and curl talk to the vsftpd instances of
harness/vsftpd.py as the FTP proxy's tests will put the proxy between
them, so that when a proxy test fails the server side is known to work.
Three instances run at once: "alpha4" on 127.0.0.1 and "alpha6" on ::1
(harness.vsftpd.dual, same anon_root) and "beta" on 127.0.0.1, each with
anonymous uploads into incoming/ and active mode on. Checked: the banner
names the instance; RETR and STOR (and APPE, STOU) are byte-identical for
1 KiB and 10 MiB in passive (PASV, EPSV) and active (PORT, EPRT) mode;
REST resumes a partial download and an upload; SIZE and MDTM answer;
vsftpd refuses a PORT to another address (not promiscuous) and uploads
outside incoming/; its log readers (commands, logins, transfers) see it
all. The ::1 tests are skipped only when ::1 cannot be bound.
"""
import ftplib
import hashlib
import io
import os
import shutil
import subprocess
import unittest

from harness import SLOW, Workdir
from harness import ftp_files
from harness import testfiles
from harness import vsftpd as vs

CURL = shutil.which("curl")
TIMEOUT = 30 * SLOW
ENV = {}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def file_sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def setUpModule():
    reason = vs.available()
    if reason:
        raise unittest.SkipTest(reason)
    wd = Workdir("ftp-harness")
    ENV["wd"] = wd
    root = os.path.join(wd.path, "anon")
    ENV["root"] = root
    ENV["files"] = ftp_files.generate(root)
    os.utime(ENV["files"]["clean_1k.bin"], (testfiles.FIXED_EPOCH, testfiles.FIXED_EPOCH))
    ENV["alpha4"], ENV["alpha6"] = vs.dual(wd.path, root, name="alpha", upload_dir="incoming",
                                           active=True)
    ENV["beta"] = vs.Vsftpd(wd.path, root, name="beta", banner="beta ready",
                            upload_dir="incoming", active=True)


def tearDownModule():
    for key in ("alpha4", "alpha6", "beta"):
        if ENV.get(key):
            ENV[key].stop()
    if "wd" in ENV:
        ENV["wd"].cleanup()


def login(server):
    f = ftplib.FTP()
    f.connect(server.host, server.port, timeout=TIMEOUT)
    f.login("anonymous", "harness@example.org")
    return f


def curl(*args):
    argv = [CURL, "-sS", "--max-time", str(TIMEOUT)] + list(args)
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=TIMEOUT + 10)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


class Base(unittest.TestCase):
    def setUp(self):
        self.v4 = ENV["alpha4"]
        self.wd = ENV["wd"].path

    def out(self, name):
        return os.path.join(self.wd, "%s-%s" % (self.id().rsplit(".", 1)[-1], name))

    def incoming(self, name):
        return os.path.join(ENV["root"], "incoming", name)

    def new_commands(self, server, before):
        return server.commands()[before:]


class FtplibTest(Base):
    def test_banner_names_the_instance(self):
        for key, want in (("alpha4", "220 alpha4 ready"), ("beta", "220 beta ready")):
            with self.subTest(key):
                f = login(ENV[key])
                self.assertEqual(f.getwelcome(), want)
                f.quit()
        # Each session reached its own server: its own log has the login.
        self.assertIn("harness@example.org", ENV["beta"].logins())

    def _roundtrip(self, server, passive):
        f = login(server)
        f.set_pasv(passive)
        for name in ("clean_1k.bin", "clean_10m.bin"):
            with self.subTest(name=name, passive=passive):
                data = ftp_files.content(name)
                got = io.BytesIO()
                self.assertTrue(f.retrbinary("RETR " + name, got.write).startswith("226"))
                self.assertEqual(sha(got.getvalue()), sha(data))
                target = "%s-%s" % ("pasv" if passive else "port", name)
                reply = f.storbinary("STOR incoming/" + target, io.BytesIO(data))
                self.assertTrue(reply.startswith("226"), reply)
                self.assertEqual(file_sha(self.incoming(target)), sha(data))
        f.quit()

    def test_passive_retr_stor_byte_identical(self):
        before = len(self.v4.commands())
        logged = len(self.v4.transfers())
        self._roundtrip(self.v4, True)
        cmds = self.new_commands(self.v4, before)
        self.assertIn("PASV", cmds)
        self.assertNotIn("PORT", " ".join(cmds))
        done = self.v4.wait_transfers(logged + 4)[logged:]
        self.assertIn(("OK UPLOAD", "/incoming/pasv-clean_10m.bin", 10 * ftp_files.MB), done)
        self.assertIn(("OK DOWNLOAD", "/clean_1k.bin", 1024), done)

    def test_active_retr_stor_byte_identical(self):
        before = len(self.v4.commands())
        self._roundtrip(self.v4, False)
        cmds = self.new_commands(self.v4, before)
        self.assertTrue([c for c in cmds if c.startswith("PORT 127,0,0,1,")], cmds)
        self.assertNotIn("PASV", cmds)

    def test_appe_and_stou(self):
        f = login(self.v4)
        f.storbinary("STOR incoming/appended.bin", io.BytesIO(b"first,"))
        reply = f.storbinary("APPE incoming/appended.bin", io.BytesIO(b"second"))
        self.assertTrue(reply.startswith("226"), reply)
        with open(self.incoming("appended.bin"), "rb") as fh:
            self.assertEqual(fh.read(), b"first,second")
        f.cwd("incoming")
        conn = f.transfercmd("STOU")
        # vsftpd names the file in its 150: "150 FILE: STOU.n".
        self.assertTrue(f.lastresp == "150", f.lastresp)
        conn.sendall(b"unique")
        conn.close()
        self.assertTrue(f.voidresp().startswith("226"))
        f.quit()
        made = [n for n in os.listdir(os.path.join(ENV["root"], "incoming"))
                if n.startswith("STOU.")]
        self.assertTrue(made)
        contents = set()
        for n in made:
            with open(self.incoming(n), "rb") as fh:
                contents.add(fh.read())
        self.assertIn(b"unique", contents)

    def test_size_and_mdtm(self):
        f = login(self.v4)
        f.voidcmd("TYPE I")
        self.assertEqual(f.sendcmd("SIZE clean_1k.bin"), "213 1024")
        self.assertEqual(f.sendcmd("SIZE clean_10m.bin"), "213 %d" % (10 * ftp_files.MB))
        # FIXED_EPOCH = 2020-01-01 00:00:00 UTC; vsftpd answers in UTC.
        self.assertEqual(f.sendcmd("MDTM clean_1k.bin"), "213 20200101000000")
        with self.assertRaises(ftplib.error_perm) as e:
            f.sendcmd("SIZE missing.bin")
        self.assertTrue(str(e.exception).startswith("550"))
        f.quit()

    def test_port_to_another_address_is_refused(self):
        f = login(self.v4)
        with self.assertRaises(ftplib.error_perm) as e:
            f.sendcmd("PORT 127,0,0,2,200,10")
        self.assertEqual(str(e.exception), "500 Illegal PORT command.")
        f.quit()

    def test_upload_outside_incoming_is_refused(self):
        f = login(self.v4)
        with self.assertRaises(ftplib.error_perm) as e:
            f.storbinary("STOR not-here.bin", io.BytesIO(b"x"))
        self.assertTrue(str(e.exception).startswith("553"), str(e.exception))
        f.quit()
        self.assertFalse(os.path.exists(os.path.join(ENV["root"], "not-here.bin")))

    def test_non_anonymous_login_is_refused(self):
        f = ftplib.FTP()
        f.connect(self.v4.host, self.v4.port, timeout=TIMEOUT)
        with self.assertRaises(ftplib.error_perm) as e:
            f.login("alice", "secret")
        self.assertEqual(str(e.exception), "530 This FTP server is anonymous only.")
        f.close()


@unittest.skipIf(CURL is None, "curl is not installed")
class CurlTest(Base):
    def _get(self, server, name, *opts):
        out = self.out(name)
        before = len(server.commands())
        rc, _, err = curl(*opts, "-o", out, server.url(name))
        self.assertEqual(rc, 0, err)
        self.assertEqual(file_sha(out), sha(ftp_files.content(name)))
        return self.new_commands(server, before)

    def _put(self, server, name, *opts):
        target = "incoming/%s-%s" % (self.id().rsplit(".", 1)[-1], name)
        before = len(server.commands())
        rc, _, err = curl(*opts, "-T", ENV["files"][name], server.url(target))
        self.assertEqual(rc, 0, err)
        self.assertEqual(file_sha(os.path.join(ENV["root"], target)),
                         sha(ftp_files.content(name)))
        return self.new_commands(server, before)

    def test_passive_epsv(self):
        for name in ("clean_1k.bin", "clean_10m.bin"):
            cmds = self._get(self.v4, name) + self._put(self.v4, name)
            self.assertIn("EPSV", cmds)
            self.assertNotIn("PASV", cmds)

    def test_passive_disable_epsv(self):
        for name in ("clean_1k.bin", "clean_10m.bin"):
            cmds = (self._get(self.v4, name, "--disable-epsv")
                    + self._put(self.v4, name, "--disable-epsv"))
            self.assertIn("PASV", cmds)
            self.assertNotIn("EPSV", cmds)

    def test_active_eprt(self):
        for name in ("clean_1k.bin", "clean_10m.bin"):
            cmds = (self._get(self.v4, name, "--ftp-port", "-")
                    + self._put(self.v4, name, "--ftp-port", "-"))
            self.assertTrue([c for c in cmds if c.startswith("EPRT |1|127.0.0.1|")], cmds)
            self.assertNotIn("EPSV", cmds)

    def test_active_port(self):
        cmds = self._get(self.v4, "clean_10m.bin", "--ftp-port", "-", "--disable-eprt")
        self.assertTrue([c for c in cmds if c.startswith("PORT 127,0,0,1,")], cmds)
        self.assertFalse([c for c in cmds if c.startswith("EPRT")], cmds)

    def test_resume_download(self):
        name = "clean_10m.bin"
        data = ftp_files.content(name)
        part = 3 * ftp_files.MB + 17
        out = self.out(name)
        with open(out, "wb") as f:
            f.write(data[:part])
        before = len(self.v4.commands())
        logged = len(self.v4.transfers())
        rc, _, err = curl("-C", "-", "-o", out, self.v4.url(name))
        self.assertEqual(rc, 0, err)
        self.assertEqual(file_sha(out), sha(data))
        cmds = self.new_commands(self.v4, before)
        self.assertIn("REST %d" % part, cmds)
        # Only the rest went over the wire.
        self.assertIn(("OK DOWNLOAD", "/" + name, len(data) - part), self.v4.wait_transfers(logged + 1)[logged:])

    def test_resume_upload(self):
        name = "clean_10m.bin"
        data = ftp_files.content(name)
        target = self.incoming("resumed.bin")
        with open(target, "wb") as f:
            f.write(data[:4 * ftp_files.MB])
        self.v4.hand_over(target)  # else 553: the session (user ftp) may not write it
        before = len(self.v4.commands())
        rc, _, err = curl("-C", "-", "-T", ENV["files"][name], self.v4.url("incoming/resumed.bin"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(file_sha(target), sha(data))
        cmds = self.new_commands(self.v4, before)
        self.assertIn("SIZE resumed.bin", cmds)
        self.assertIn("APPE resumed.bin", cmds)

    def test_size_and_mdtm_by_curl(self):
        # curl -I on an FTP URL asks SIZE and MDTM and prints them as headers.
        rc, out, err = curl("-I", self.v4.url("clean_1k.bin"))
        self.assertEqual(rc, 0, err)
        text = out.decode()
        self.assertIn("Content-Length: 1024", text)
        self.assertIn("Last-Modified: Wed, 01 Jan 2020 00:00:00 GMT", text)

    def test_two_instances_by_banner(self):
        # curl -v prints the greeting: which server answered.
        for key, want in (("alpha4", "< 220 alpha4 ready"), ("beta", "< 220 beta ready")):
            with self.subTest(key):
                rc, _, err = curl("-v", "-o", os.devnull, ENV[key].url("clean_1k.bin"))
                self.assertEqual(rc, 0, err)
                self.assertIn(want, err)


@unittest.skipIf(CURL is None, "curl is not installed")
class Ipv6Test(Base):
    def setUp(self):
        super().setUp()
        self.v6 = ENV.get("alpha6")
        if self.v6 is None:
            self.skipTest("::1 cannot be bound here")

    def test_curl_ipv6_passive_and_active(self):
        for opts, want in (((), "EPSV"), (("--ftp-port", "-"), "EPRT |2|::1|")):
            with self.subTest(opts=opts):
                for name in ("clean_1k.bin", "clean_10m.bin"):
                    out = self.out(name)
                    before = len(self.v6.commands())
                    rc, _, err = curl("-6", "-v", *opts, "-o", out, self.v6.url(name))
                    self.assertEqual(rc, 0, err)
                    self.assertIn("< 220 alpha6 ready", err)
                    self.assertEqual(file_sha(out), sha(ftp_files.content(name)))
                    cmds = self.new_commands(self.v6, before)
                    self.assertTrue([c for c in cmds if c.startswith(want)], cmds)

    def test_ftplib_ipv6_upload(self):
        f = login(self.v6)
        self.assertEqual(f.getwelcome(), "220 alpha6 ready")
        data = ftp_files.content("clean_1k.bin")
        for passive in (True, False):
            f.set_pasv(passive)
            name = "v6-%s.bin" % passive
            self.assertTrue(f.storbinary("STOR incoming/" + name, io.BytesIO(data))
                            .startswith("226"))
            self.assertEqual(file_sha(self.incoming(name)), sha(data))
        f.quit()


class FtpFilesTest(unittest.TestCase):
    def test_fixtures(self):
        files = ENV["files"]
        self.assertEqual(os.path.getsize(files["clean_1k.bin"]), 1024)
        self.assertEqual(os.path.getsize(files["clean_10m.bin"]), 10 * ftp_files.MB)
        with open(files["eicar_passed.jpg"], "rb") as f:
            self.assertEqual(f.read(), testfiles.EICAR)

    def test_sparse_gigabyte(self):
        path = ftp_files.sparse_file(os.path.join(ENV["wd"].path, "sparse.bin"))
        self.assertEqual(os.path.getsize(path), ftp_files.GB)
        self.assertEqual(sum(len(b) for b in ftp_files.stream_bytes(ftp_files.GB)),
                         ftp_files.GB)
        os.unlink(path)


if __name__ == "__main__":
    unittest.main()
