"""Every key the FTP proxy acts on (src/core/config_keys.def rows whose
built column holds FTP: BUILT_ALL, BUILT_FTP, BUILT_HTTP_FTP and
self_proxy), set in [ftp] to a value other than its default by a test that
asserts its effect on what the client, the server (vsftpd's protocol log,
or harness.fake_ftp's record), the admin mail server, the quarantine and
the logs saw; with the key ignored, the test would fail. A setting is a
promise (tests/check-key-coverage.py).

Covered: ftp_service, svcport, parent_server_host/port, self_proxy,
virus_check, action, notify_admin with admin_mailaddr / admin_mx_host /
admin_mx_port / admin_notification_id / template_dir, quarantine with
quarantine_dir, pre_spawn, max_sessions_per_client, acl_from (+ ftp_from),
acl_to (+ ftp_to), acl_pass_to (+ ftp_pass_to), reverselookup, pass_ext /
pass_ext_list, pass_filesize / pass_filesize_len, vsd_scantimeout,
block_scantimeout, riskware_check / pass_riskware, block_filesize /
block_filesize_len, block_maxnested, access_log / detect_log / info_log /
error_log (other files and '|command'), product_name, hostname, ipv6,
timeout_inactive / inactive_timeout, request_timeout, connect_timeout,
verdict_cache with scand_socket, noop_interval, tmpdir, hosts_allow,
run_user, workers. The [common] keys are set in [ftp] (G-05: a service
group overrides [common]), so the test also shows that the override holds.

Each class is one `sekisho --ftp` (harness.ftp_proxy.FtpCase) in front of
the module's vsftpd instances, or a scripted server (FakeFtpCase) where
vsftpd cannot be made to answer NOOP with an error."""
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import time
import unittest

import harness
from harness import ftp_files
from harness import testfiles
from harness import vsftpd as vs
from harness.fake_ftp import FakeFtpCase, retr, send_file, stor
from harness.ftp_proxy import PRODUCT_RX, FtpCase, FtpEnv, RawFtp

ENV = {}
KB = 1024
EICAR_NAME = "Eicar-Test-Signature"
PASS_LEN = 100000  # pass_filesize_len of TestPassFilesize
# More of each file than the proxy can have spooled when it passes
# pass_filesize_len (one 64 KiB read beyond it at most): an EICAR here is
# in the unscanned tail.
BEYOND = 200 * KB
SLOW_MEMBERS = 1500  # see slow_scan_zip


def slow_scan_zip():
    """A zip that libclamav needs many seconds to scan (1500 members of
    1 MiB of zeros, EICAR last), as in test_http_keys.py: with
    vsd_scantimeout=1 the scan's deadline passes long before its end."""
    zeros = b"\0" * (1 << 20)
    members = [("zeros/%05d.bin" % i, zeros) for i in range(SLOW_MEMBERS)]
    members.append(("zz/eicar.com", testfiles.EICAR))
    return testfiles.zip_bytes(members)


EXTRA = {
    "late_eicar.bin": lambda: testfiles.clean_bytes(BEYOND, seed=21) + testfiles.EICAR,
    "early_eicar.bin": lambda: testfiles.EICAR + testfiles.clean_bytes(BEYOND, seed=22),
    "clean_1m.bin": lambda: testfiles.clean_bytes(1024 * KB, seed=23),
    "exact_1000.bin": lambda: testfiles.clean_bytes(1000, seed=24),
    "riskware.txt": lambda: testfiles.RISKWARE,
    "nested_7.zip": lambda: testfiles.nested_zip(7),
    "slow_scan.zip": slow_scan_zip,
}


def setUpModule():
    env = FtpEnv("ftp-keys")
    ENV["env"] = env
    ENV["extra"] = {}
    try:
        for name, make in EXTRA.items():
            data = make()
            path = os.path.join(env.root, name)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o644)
            ENV["extra"][name] = data
    except BaseException:
        env.stop()
        raise


def tearDownModule():
    ENV["env"].stop()


def content(name):
    """The bytes the module's servers a4/a6 serve as name."""
    return ENV["extra"][name] if name in ENV["extra"] else ftp_files.content(name)


def subdir(parent, name, daemon=False):
    d = os.path.join(parent, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    if daemon:
        harness.chown_for_daemons(d)
    return d


def read(path):
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


STAT = re.compile(r" PROXY-STAT:ftp:\d+:\d+:[^: ]*:(\d+):(\d+):(\d+):([^: ]*): ")


def proxy_stat(line):
    """(files, checks, details list) of an access record."""
    m = STAT.search(line)
    assert m, line
    return int(m.group(1)), int(m.group(2)), [d for d in m.group(4).split(",") if d]


class KeyCase(FtpCase):
    ENV = ENV

    def server(self):
        return getattr(self.env, self.PARENT or "a4")

    def ftp_url(self, path, server=None):
        server = server or self.server()
        return "ftp://anonymous@%s:%d/%s" % (server.host, server.port, path.lstrip("/"))

    def record(self, path, method="GET", server=None):
        """The access record of a transfer of path (FTP-11)."""
        return self.gw.wait_log("access", r" %s %s anonymous " % (method, re.escape(
            self.ftp_url(path, server))))[-1]

    def logged_in(self):
        c = self.client()
        self.assertEqual(c.greeting, ["220 server %s" % ("b" if self.PARENT == "b" else "a")])
        c.login()
        return c

    def assert_delivered(self, name, c=None):
        first, final, data = retr(c or self.logged_in(), name)
        self.assertTrue(first[-1].startswith("150 "), first)
        self.assertEqual(final, ["226 Transfer complete."])
        self.assertEqual(data, content(name))

    def assert_refused(self, name, detection=EICAR_NAME, c=None):
        first, final, data = retr(c or self.logged_in(), name)
        self.assertTrue(first[-1].startswith("150 "), first)
        self.assertEqual(final, ["530 Infected by %s" % detection])
        self.assertEqual(data, b"")

    def extra_gateway(self, name, section, common=None, hosts_allow=""):
        """Another sekisho --ftp for one test, stopped at its end."""
        c = {"hostname": "gw.test"}
        c.update(common or {})
        gw = harness.Gateway(subdir(self.dir, name), self.env.scand.socket, service="ftp",
                             section=section, common=c, hosts_allow=hosts_allow)
        self.addCleanup(gw.stop)
        return gw

    def raw(self, port, **kw):
        c = RawFtp(port, **kw)
        self.addCleanup(c.close)
        return c


# ---- the service switch and the endpoints --------------------------------------------


class TestFtpService(KeyCase):
    """ftp_service=yes: --service-enabled says so (exit 0) and the service
    starts without the note that it was started by hand although off."""
    SECTION = {"ftp_service": "yes"}

    def service_enabled(self, ini):
        return subprocess.run([os.path.join(harness.BIN, "sekisho"), "--ftp", "-f", ini,
                               "--service-enabled"], capture_output=True, text=True,
                              timeout=30 * harness.SLOW)

    def test_ftp_service_yes(self):
        q = self.service_enabled(self.gw.ini)
        self.assertEqual(q.returncode, 0, q.stdout + q.stderr)
        self.assertEqual(q.stdout, "ftp_service=yes in %s\n" % self.gw.ini)
        self.assertNotIn("started anyway", self.gw.log_text("info"))
        self.assert_delivered("clean_1k.bin")

    def test_ftp_service_no_is_reported(self):
        ini = os.path.join(self.dir, "off.ini")
        with open(self.gw.ini) as f:
            text = f.read().replace("ftp_service=yes", "ftp_service=no")
        with open(ini, "w") as f:
            f.write(text)
        q = self.service_enabled(ini)
        self.assertEqual(q.returncode, 1, q.stdout + q.stderr)
        self.assertEqual(q.stdout, "ftp_service=no in %s\n" % ini)


@unittest.skipUnless(vs.ipv6_loopback(), "no ::1 here")
class TestSvcportIpv6(KeyCase):
    """svcport=[::1]:PORT: the proxy listens there (and not on 127.0.0.1);
    an IPv6 client downloads through it with EPSV from the IPv4 server."""
    LISTEN = "::1"

    def test_listens_on_the_configured_endpoint(self):
        self.assertEqual(self.gw.section["svcport"], "[::1]:%d" % self.gw.port)
        self.assertFalse(harness.port_open(self.gw.port, "127.0.0.1"))
        c = self.client()
        self.assertEqual(c.greeting, ["220 server a"])
        c.login()
        d = c.connect_data(c.epsv())
        self.assertTrue(c.cmd("RETR clean_1k.bin")[-1].startswith("150 "))
        data, _ = RawFtp.read_all(d)
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        self.assertEqual(data, content("clean_1k.bin"))
        self.assertRegex(self.record("clean_1k.bin"), r"^\S+ +\d+ ::1 TCP_MISS/200 1024 GET ")


class TestParentServer(KeyCase):
    """parent_server_host/port name the server (b, not a)."""
    PARENT = "b"

    def test_the_parent_is_reached(self):
        c = self.logged_in()
        first, final, data = retr(c, "b_only.txt")
        self.assertEqual((final, data), (["226 Transfer complete."], self.env.B_TEXT))
        self.assertIn("test@example.com", self.env.b.logins())
        self.assertRegex(self.record("b_only.txt"),
                         r" TCP_MISS/200 %d GET ftp://anonymous@127\.0\.0\.1:%d/b_only\.txt "
                         r"anonymous DIRECT/127\.0\.0\.1 " % (len(self.env.B_TEXT),
                                                               self.env.b.port))

    def test_unreachable_parent(self):
        port = harness.free_port()
        gw = self.extra_gateway("dead-parent", {"parent_server_host": "127.0.0.1",
                                                "parent_server_port": str(port)})
        c = self.raw(gw.port)
        self.assertEqual(c.greeting, ["500 Can't Connect to (127.0.0.1:%d) errmsg=[CONNECT("
                                      "127.0.0.1:%d)/connect: Connection refused]" % (port, port)])
        self.assertEqual(c.wait_closed(), b"")


class TestSelfProxy(KeyCase):
    """self_proxy=yes (FTP-2, FTP-4): the proxy greets; USER name@host[:port]
    or name#host picks the server, whose greeting is dropped."""
    PARENT = None
    SECTION = {"self_proxy": "yes"}

    def test_greeting_and_user_at_host(self):
        c = self.client()
        self.assertEqual(len(c.greeting), 1)
        self.assertRegex(c.greeting[0], r"^220 %s at gw\.test starting\.$" % PRODUCT_RX)
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % self.env.b.port),
                         ["331 Please specify the password."])
        self.assertEqual(c.cmd("PASS self@example.com"), ["230 Login successful."])
        first, final, data = retr(c, "b_only.txt")
        self.assertEqual((final, data), (["226 Transfer complete."], self.env.B_TEXT))
        self.assertIn("self@example.com", self.env.b.logins())
        # A second USER for another server: refused, the session stays on b.
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % self.env.a4.port),
                         ["530 already connected to (127.0.0.1:%d)" % self.env.b.port])
        self.assertIn(" GET ftp://anonymous@127.0.0.1:%d/b_only.txt " % self.env.b.port,
                      self.record("b_only.txt", server=self.env.b))

    def test_user_hash_host(self):
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous#127.0.0.1:%d" % self.env.a4.port),
                         ["331 Please specify the password."])
        c.cmd("PASS hash@example.com")
        self.assertEqual(retr(c, "clean_1k.bin")[2], content("clean_1k.bin"))
        self.assertIn("hash@example.com", self.env.a4.logins())

    def test_user_without_host_and_no_parent(self):
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous"),
                         ["500 USER format is USER username@hostname or username#hostname"])
        self.assertEqual(c.cmd("NOOP"), ["530 please use USER command at first."])


# ---- scanning and actions ---------------------------------------------------------------


class TestVirusCheckNo(KeyCase):
    """virus_check=no: files pass unscanned both ways (DETECT-STAT:CLEAN,
    no scanner check)."""
    SECTION = {"virus_check": "no"}

    def test_eicar_download_passes_unscanned(self):
        self.assert_delivered("eicar.com")
        line = self.record("eicar.com")
        self.assertIn(" TCP_MISS/200 68 GET ", line)
        self.assertIn(" DETECT-STAT:CLEAN::::: ACTION:NONE: ", line)
        self.assertEqual(proxy_stat(line)[1], 0)

    def test_eicar_upload_passes_unscanned(self):
        c = self.logged_in()
        self.assertEqual(stor(c, "incoming/vc-no.com", testfiles.EICAR)[1],
                         ["226 Transfer complete."])
        with open(os.path.join(self.env.upload_path, "vc-no.com"), "rb") as f:
            self.assertEqual(f.read(), testfiles.EICAR)
        self.assertEqual(proxy_stat(self.record("incoming/vc-no.com", "PUT"))[1], 0)


class TestActionPass(KeyCase):
    """action=pass: a detection is delivered and logged."""
    SECTION = {"action": "pass"}

    def test_eicar_delivered_and_logged(self):
        self.assert_delivered("eicar.com")
        url = self.ftp_url("eicar.com")
        line = self.record("eicar.com")
        self.assertIn(" TCP_MISS/200 68 GET %s " % url, line)
        self.assertIn(" DETECT-STAT:INFECTED:%s:eicar.com:" % EICAR_NAME, line)
        self.assertIn(" ACTION:PASS: ", line)
        self.assertEqual(proxy_stat(line)[1], 1)
        self.gw.wait_log("detect", re.escape(url))
        self.gw.wait_log("info", r"Infected: URL=\[%s\] VirusName: %s action=PASS$"
                         % (re.escape(url), EICAR_NAME))


class TestNotifyAdminQuarantine(KeyCase):
    """notify_admin (admin_mailaddr, admin_mx_host, admin_mx_port,
    admin_notification_id, template_dir) and quarantine (quarantine_dir),
    all in [ftp]. The admin mail server listens on 127.0.0.2 only: with
    admin_mx_host ignored (127.0.0.1) nothing could arrive."""
    MARKER = "FTP-TEMPLATE-DIR-MARKER-5150"

    @classmethod
    def setUpClass(cls):
        env = ENV["env"]
        base = subdir(env.wd.path, cls.__name__)
        cls.sink = harness.SmtpSink(base, host="127.0.0.2", subdir="admin-sink")
        cls.quarantine = subdir(base, "ftp-quarantine")
        tpl = subdir(base, "templates")
        conf = os.path.join(harness.REPO, "conf")
        for name in os.listdir(conf):
            if name.startswith("template_"):
                shutil.copy(os.path.join(conf, name), tpl)
        with open(os.path.join(tpl, "template_admin.txt"), "a") as f:
            f.write("%s ${DETECTION_NAME}\n" % cls.MARKER)
        cls.SECTION = {"notify_admin": "yes", "quarantine": "yes",
                       "quarantine_dir": cls.quarantine, "template_dir": tpl,
                       "admin_mailaddr": "ftp-admin@example.test",
                       "admin_mx_host": "127.0.0.2", "admin_mx_port": str(cls.sink.port),
                       "admin_notification_id": "5150"}
        try:
            super().setUpClass()
        except BaseException:
            cls.sink.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.sink.stop()

    def quarantined(self, line, name):
        m = re.search(r" DETECT-STAT:INFECTED:%s:%s:([^: ]+):: ACTION:DELETE: "
                      % (EICAR_NAME, re.escape(name)), line)
        self.assertTrue(m, line)
        path = os.path.join(self.quarantine, m.group(1))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path, "rb") as f:
            return m.group(1), f.read()

    def test_download_detection_mailed_and_quarantined(self):
        self.assertFalse(harness.port_open(self.sink.port, "127.0.0.1"))
        self.assert_refused("eicar.com")
        url = self.ftp_url("eicar.com")
        qname, data = self.quarantined(self.record("eicar.com"), "eicar.com")
        self.assertEqual(data, testfiles.EICAR)
        mails = harness.wait_for(lambda: [m for m in self.sink.messages()
                                          if "X-Admin-Notification-Id: 5150" in m
                                          and url in m], 15, what="admin notification")
        mail = mails[-1]
        self.assertIn("ftp-admin@example.test", mail)
        self.assertIn("URL:             %s\n" % url, mail.replace("\r\n", "\n"))
        self.assertIn(qname, mail)
        self.assertIn("%s %s" % (self.MARKER, EICAR_NAME), mail)  # template_dir's template
        self.assertNotIn("notify_admin", self.gw.log_text("error"))

    def test_upload_detection_quarantined(self):
        c = self.logged_in()
        first, final = stor(c, "incoming/q-up.com", testfiles.EICAR)
        self.assertEqual(final, ["530 Infected by %s" % EICAR_NAME])
        qname, data = self.quarantined(self.record("incoming/q-up.com", "PUT"), "q-up.com")
        self.assertEqual(data, testfiles.EICAR)
        path = os.path.join(self.env.upload_path, "q-up.com")
        self.assertEqual(read(path), "")  # G-17: no byte reached the server


# ---- sessions -------------------------------------------------------------------------------


class TestPreSpawn(KeyCase):
    """pre_spawn=2: two simultaneous sessions; the third waits (LOG-E2)
    and is served once one of them ends."""
    SECTION = {"pre_spawn": "2"}

    def test_third_session_waits_for_a_slot(self):
        held = [self.client(), self.client()]
        for c in held:
            self.assertEqual(c.greeting, ["220 server a"])
        waiting = self.raw(self.gw.port, greet=False)
        self.gw.wait_log("error", r"Maximum connections: warning: Client connections reached "
                                  r"maximum connections \(2\)")
        held[0].cmd("QUIT")
        held[0].close()
        self.assertEqual(waiting.reply(), ["220 server a"])


class TestMaxSessionsPerClient(KeyCase):
    SECTION = {"max_sessions_per_client": "2"}
    # Not from 127.0.0.1: the gateway counts the readiness probe's session
    # until its worker reads the probe's close.
    PROBE_SOURCE = "127.0.0.9"

    def test_third_session_from_one_address_refused(self):
        held = [self.client(), self.client()]
        extra = self.raw(self.gw.port, greet=False)
        self.assertRegex(extra.line(), r"^421 Too many connections from your address \(%s\)$"
                         % PRODUCT_RX)
        self.assertEqual(extra.wait_closed(), b"")
        self.gw.wait_log("error", r"Maximum connections per client: 127\.0\.0\.1 already holds 2 "
                                  r"sessions \(max_sessions_per_client\)")
        # another address is served
        self.assertEqual(self.client(source="127.0.0.2").greeting, ["220 server a"])
        held[0].cmd("QUIT")
        held[0].close()
        c = harness.wait_for(lambda: self._greeted(), 10, what="a session after one left")
        self.assertEqual(c.greeting, ["220 server a"])

    def _greeted(self):
        c = self.raw(self.gw.port)
        return c if c.greeting == ["220 server a"] else None


# ---- access control ----------------------------------------------------------------------


class TestAclFrom(KeyCase):
    SECTION = {"acl_from": "yes"}
    HOSTS_ALLOW = "ftp_from: 127.0.0.2\n"

    def test_only_listed_clients_admitted(self):
        self.assertEqual(self.client(source="127.0.0.2").greeting, ["220 server a"])
        c = self.raw(self.gw.port, greet=False)
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:127\.0\.0\.1\]$")


class TestFtpFromRefuses(KeyCase):
    """CFG-7: ftp_from in the ini replaces the field of hosts.allow."""
    SECTION = {"acl_from": "yes", "ftp_from": "10.0.0.0/255.0.0.0"}
    HOSTS_ALLOW = "ftp_from: 127.0.0.1\n"

    def test_client_not_in_ftp_from_refused(self):
        c = self.raw(self.gw.port, greet=False)
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:127\.0\.0\.1\]$")


class TestFtpFromAdmits(KeyCase):
    SECTION = {"acl_from": "yes", "ftp_from": "127.0.0.1"}
    HOSTS_ALLOW = "ftp_from: 10.0.0.1\n"

    def test_client_in_ftp_from_admitted(self):
        self.assert_delivered("clean_1k.bin")


class TestAclTo(KeyCase):
    """acl_to with self_proxy: the server USER names is checked before it
    is contacted (CONN-5)."""
    PARENT = None
    SECTION = {"self_proxy": "yes", "acl_to": "yes"}
    HOSTS_ALLOW = "ftp_to: 127.0.0.1\n"

    def test_denied_server_not_contacted(self):
        port = self.env.b.port
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.2:%d" % port),
                         ["500 Can't Connect to (127.0.0.2:%d) errmsg=[CONNECT(127.0.0.2:%d)/"
                          "Access Inhibited by Proxy(SEKISHO)]" % (port, port)])
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"Access Denied to \[127\.0\.0\.2:127\.0\.0\.2\]")
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % port),
                         ["331 Please specify the password."])


class TestFtpToRefuses(KeyCase):
    SECTION = {"acl_to": "yes", "ftp_to": "10.0.0.1"}
    HOSTS_ALLOW = "ftp_to: 127.0.0.1\n"  # replaced by the ini list

    def test_parent_not_in_ftp_to(self):
        port = self.env.a4.port
        c = self.client()
        self.assertEqual(c.greeting, ["500 Can't Connect to (127.0.0.1:%d) errmsg=[CONNECT("
                                      "127.0.0.1:%d)/Access Inhibited by Proxy(SEKISHO)]"
                                      % (port, port)])
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"Access Denied to \[127\.0\.0\.1:127\.0\.0\.1\]")


class TestFtpToAdmits(KeyCase):
    SECTION = {"acl_to": "yes", "ftp_to": "127.0.0.1"}
    HOSTS_ALLOW = "ftp_to: 10.0.0.1\n"

    def test_parent_in_ftp_to(self):
        self.assert_delivered("clean_1k.bin")


class TestAclPassTo(KeyCase):
    """acl_pass_to + hosts.allow ftp_pass_to: files from and to a listed
    server are relayed unscanned (PASS_TO, no scanner check)."""
    SECTION = {"acl_pass_to": "yes"}
    HOSTS_ALLOW = "ftp_pass_to: 127.0.0.1\n"

    def test_eicar_passes_unscanned(self):
        self.assert_delivered("eicar.com")
        line = self.record("eicar.com")
        self.assertIn(" DETECT-STAT:CLEAN:", line)
        _, checks, details = proxy_stat(line)
        self.assertEqual((checks, details), (0, ["PASS_TO"]))

    def test_eicar_upload_passes_unscanned(self):
        c = self.logged_in()
        self.assertEqual(stor(c, "incoming/pass-to.com", testfiles.EICAR)[1],
                         ["226 Transfer complete."])
        with open(os.path.join(self.env.upload_path, "pass-to.com"), "rb") as f:
            self.assertEqual(f.read(), testfiles.EICAR)
        self.assertEqual(proxy_stat(self.record("incoming/pass-to.com", "PUT"))[2], ["PASS_TO"])


class TestFtpPassToAdmits(KeyCase):
    SECTION = {"acl_pass_to": "yes", "ftp_pass_to": "127.0.0.1"}
    HOSTS_ALLOW = "ftp_pass_to: 10.1.1.1\n"  # replaced by the ini list

    def test_server_in_ftp_pass_to_unscanned(self):
        self.assert_delivered("eicar.com")
        self.assertEqual(proxy_stat(self.record("eicar.com"))[2], ["PASS_TO"])


class TestFtpPassToOther(KeyCase):
    SECTION = {"acl_pass_to": "yes", "ftp_pass_to": "10.1.1.1"}
    HOSTS_ALLOW = "ftp_pass_to: 127.0.0.1\n"

    def test_server_outside_ftp_pass_to_scanned(self):
        self.assert_refused("eicar.com")


class TestReverseLookup(KeyCase):
    """reverselookup: a host-name pattern in ftp_from admits the client,
    and the record names it."""
    SECTION = {"acl_from": "yes", "reverselookup": "yes"}
    HOSTS_ALLOW = "ftp_from: localhost\n"

    def test_name_pattern_admits_and_record_names_the_client(self):
        self.assert_delivered("clean_1k.bin")
        self.assertRegex(self.record("clean_1k.bin"), r"^\S+ +\d+ localhost TCP_MISS/200 1024 ")


# ---- what is scanned ------------------------------------------------------------------


class TestPassExt(KeyCase):
    SECTION = {"pass_ext": "yes", "pass_ext_list": ".gif,.JPG"}

    def test_listed_extension_passes_unscanned(self):
        self.assert_delivered("eicar_passed.jpg")  # case-insensitive
        line = self.record("eicar_passed.jpg")
        self.assertIn(" DETECT-STAT:CLEAN:", line)
        _, checks, details = proxy_stat(line)
        self.assertEqual((checks, details), (0, ["PASS_EXT"]))

    def test_other_extension_scanned(self):
        self.assert_refused("eicar.com")


class TestPassFilesize(KeyCase):
    """pass_filesize: the first pass_filesize_len bytes are scanned, the
    rest relayed unscanned (SCAN-4, OVER_FILESIZE)."""
    SECTION = {"pass_filesize": "yes", "pass_filesize_len": str(PASS_LEN)}

    def test_large_file_delivered_whole_and_flagged(self):
        self.assert_delivered("clean_1m.bin")
        line = self.record("clean_1m.bin")
        self.assertIn(" TCP_MISS/200 %d GET " % (1024 * KB), line)
        self.assertIn("OVER_FILESIZE", proxy_stat(line)[2])

    def test_small_file_not_flagged(self):
        self.assert_delivered("clean_1k.bin")
        self.assertEqual(proxy_stat(self.record("clean_1k.bin"))[2], [])

    def test_virus_beyond_the_limit_passes(self):
        self.assert_delivered("late_eicar.bin")
        line = self.record("late_eicar.bin")
        self.assertIn(" DETECT-STAT:CLEAN:", line)
        self.assertIn("OVER_FILESIZE", proxy_stat(line)[2])

    def test_virus_within_the_limit_refused(self):
        self.assert_refused("early_eicar.bin")


class TestScanTimeout(KeyCase):
    """vsd_scantimeout=1: a scan that runs longer is cut, logged
    VSD_SCANTIMEOUT, and the file passes (block_scantimeout=no)."""
    SECTION = {"vsd_scantimeout": "1"}

    def test_timed_out_scan_logged_and_passed(self):
        self.assert_delivered("slow_scan.zip")
        line = self.record("slow_scan.zip")
        self.assertIn(" DETECT-STAT:CLEAN:", line)
        self.assertIn("VSD_SCANTIMEOUT", proxy_stat(line)[2])


class TestBlockScantimeout(KeyCase):
    SECTION = {"vsd_scantimeout": "1", "block_scantimeout": "yes"}

    def test_timed_out_scan_is_a_detection(self):
        self.assert_refused("slow_scan.zip", "SEKISHO/POLICY_BLOCK_SCANTIMEOUT")
        line = self.record("slow_scan.zip")
        self.assertIn(" DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_SCANTIMEOUT:", line)
        self.assertIn("VSD_SCANTIMEOUT", proxy_stat(line)[2])


class TestDefaults(KeyCase):
    """The keys below at their defaults, so that the other classes' results
    are the keys' doing: riskware passes, a 7-deep archive passes with
    VSD_MAXNESTED, nothing is OVER_FILESIZE."""

    def test_riskware_passes_without_riskware_check(self):
        self.assert_delivered("riskware.txt")
        self.assertIn(" DETECT-STAT:CLEAN:", self.record("riskware.txt"))

    def test_deep_archive_passes_with_maxnested_flag(self):
        self.assert_delivered("nested_7.zip")
        line = self.record("nested_7.zip")
        self.assertIn(" DETECT-STAT:CLEAN:", line)
        self.assertIn("VSD_MAXNESTED", proxy_stat(line)[2])

    def test_large_file_scanned_whole(self):
        self.assert_refused("late_eicar.bin")


class TestRiskwareCheck(KeyCase):
    SECTION = {"riskware_check": "yes"}

    def test_riskware_refused(self):
        self.assert_refused("riskware.txt", "Tool.Win32.SekishoTest")
        self.assertIn(" DETECT-STAT:INFECTED:Tool.Win32.SekishoTest:riskware.txt:",
                      self.record("riskware.txt"))


class TestPassRiskware(KeyCase):
    SECTION = {"riskware_check": "yes", "pass_riskware": "Client-IRC.*.*;Tool.Win32.*"}

    def test_matching_pattern_passes(self):
        self.assert_delivered("riskware.txt")
        self.assertIn(" DETECT-STAT:CLEAN:", self.record("riskware.txt"))
        self.assertNotIn("SekishoTest", self.gw.log_text("detect"))


class TestBlockFilesize(KeyCase):
    """block_filesize: a scanned file over block_filesize_len is the
    detection SEKISHO/POLICY_BLOCK_FILESIZE (G-13); one of exactly the
    limit passes."""
    SECTION = {"block_filesize": "yes", "block_filesize_len": "1000"}

    def test_larger_download_refused(self):
        self.assert_refused("clean_1k.bin", "SEKISHO/POLICY_BLOCK_FILESIZE")
        line = self.record("clean_1k.bin")
        self.assertIn(" TCP_MISS/000 0 GET ", line)
        self.assertIn(" DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_FILESIZE:clean_1k.bin:", line)
        self.assertIn(" ACTION:DELETE: ", line)

    def test_file_of_the_limit_passes(self):
        self.assert_delivered("exact_1000.bin")

    def test_larger_upload_refused(self):
        c = self.logged_in()
        first, final = stor(c, "incoming/big-up.bin", testfiles.clean_bytes(2000))
        self.assertEqual(final, ["530 Infected by SEKISHO/POLICY_BLOCK_FILESIZE"])
        self.assertEqual(read(os.path.join(self.env.upload_path, "big-up.bin")), "")
        self.assertIn(" DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_FILESIZE:big-up.bin:",
                      self.record("incoming/big-up.bin", "PUT"))


class TestBlockMaxnested(KeyCase):
    SECTION = {"block_maxnested": "yes"}

    def test_deep_archive_is_a_detection(self):
        self.assert_refused("nested_7.zip", "SEKISHO/POLICY_BLOCK_MAXNESTED")
        line = self.record("nested_7.zip")
        self.assertIn(" DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_MAXNESTED:", line)
        self.assertIn("VSD_MAXNESTED", proxy_stat(line)[2])


# ---- logs --------------------------------------------------------------------------------


class TestLogDestinations(KeyCase):
    """access_log and info_log to other files, detect_log and error_log to
    '|command' pipes; the default files get none of it. The error: the
    admin mail server is down (notify_admin)."""

    @classmethod
    def setUpClass(cls):
        base = subdir(ENV["env"].wd.path, cls.__name__ + "-logs", daemon=True)
        cls.paths = {k: os.path.join(base, k + ".txt") for k in ("access", "detect", "info",
                                                                 "error")}
        cls.dead_port = harness.free_port()
        cls.SECTION = {"access_log": cls.paths["access"],
                       "detect_log": "|cat >> %s" % cls.paths["detect"],
                       "info_log": cls.paths["info"],
                       "error_log": "|cat >> %s" % cls.paths["error"],
                       "notify_admin": "yes", "admin_mailaddr": "admin@example.test",
                       "admin_mx_host": "127.0.0.1", "admin_mx_port": str(cls.dead_port)}
        super().setUpClass()

    def test_each_log_goes_where_configured(self):
        self.assert_refused("eicar.com")
        url = self.ftp_url("eicar.com")
        p = self.paths
        harness.wait_for(lambda: " GET %s " % url in read(p["access"]), 10,
                         what="record in access_log")
        self.assertIn(" DETECT-STAT:INFECTED:%s:" % EICAR_NAME, read(p["access"]))
        harness.wait_for(lambda: " GET %s " % url in read(p["detect"]), 10,
                         what="record through the detect_log pipe")
        harness.wait_for(lambda: "Infected: URL=[%s]" % url in read(p["info"]), 10,
                         what="detection in info_log")
        harness.wait_for(lambda: "notify_admin:cannot connect to admin mail server"
                         "[127.0.0.1:%d]" % self.dead_port in read(p["error"]), 15,
                         what="error line through the error_log pipe")
        for name in ("access", "detect", "info", "error"):
            with self.subTest(default=name):
                self.assertNotIn("eicar", self.gw.log_text(name))
                self.assertNotIn("notify_admin", self.gw.log_text(name))


# ---- expert keys ---------------------------------------------------------------------------


class TestProductNameHostname(KeyCase):
    """product_name and hostname in [ftp]: the self_proxy greeting."""
    PARENT = None
    SECTION = {"self_proxy": "yes", "product_name": "TestGate-FTP/9",
               "hostname": "ftp-gw.example"}

    def test_greeting(self):
        self.assertEqual(self.client().greeting,
                         ["220 TestGate-FTP/9 at ftp-gw.example starting."])


@unittest.skipUnless(vs.ipv6_loopback(), "no ::1 here")
class TestIpv6No(KeyCase):
    """ipv6=no: no IPv6 destination, not even a literal; with the default
    the same server is reached (TestIpv6Default)."""
    PARENT = "a6"
    SECTION = {"ipv6": "no"}

    def test_ipv6_server_not_contacted(self):
        a6 = self.env.a6
        before = a6.log_text().count("CONNECT: Client")
        c = self.client()
        self.assertEqual(len(c.greeting), 1)
        self.assertTrue(c.greeting[0].startswith(
            "500 Can't Connect to (::1:%d) errmsg=[CONNECT(::1:%d)/" % (a6.port, a6.port)),
            c.greeting)
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(a6.log_text().count("CONNECT: Client"), before)


@unittest.skipUnless(vs.ipv6_loopback(), "no ::1 here")
class TestIpv6Default(KeyCase):
    PARENT = "a6"

    def test_ipv6_server_reached(self):
        c = self.logged_in()
        self.assertEqual(retr(c, "clean_1k.bin")[2], content("clean_1k.bin"))
        self.assertIn("test@example.com", self.env.a6.logins())


class TestInactiveTimeout(KeyCase):
    SECTION = {"timeout_inactive": "yes", "inactive_timeout": "2"}

    def test_idle_session_closed(self):
        c = self.client()
        c.login()
        self.assertEqual(c.reply(), ["421 Timeout, closing control connection."])
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"ftp: no traffic for 2 sec while waiting for a command of "
                                  r"the client: session closed")


class TestRequestTimeout(KeyCase):
    """request_timeout=2: a command line trickled a byte at a time ends the
    session; the server never sees it."""
    SECTION = {"request_timeout": "2"}

    def test_trickled_line(self):
        c = self.client()
        c.login()
        before = len(self.env.a4.commands())
        stop = threading.Event()

        def trickle():
            for b in b"NOOP and more and more":
                if stop.wait(0.4):
                    return
                try:
                    c.sock.sendall(bytes([b]))
                except OSError:
                    return
        t = threading.Thread(target=trickle, daemon=True)
        t.start()
        try:
            self.assertEqual(c.reply(),
                             ["421 Timeout: command line not complete within 2 sec"])
            self.assertEqual(c.wait_closed(), b"")
        finally:
            stop.set()
            t.join(5)
        self.gw.wait_log("error", r"Timeout: the command line was not complete within 2 sec "
                                  r"\(request_timeout\)")
        self.assertNotIn("NOOP", " ".join(self.env.a4.commands()[before:]))


def blackhole_listener():
    """A listener whose backlog is full, so that a connect to it hangs (as
    in test_http_policy.py)."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    fillers = []
    for _ in range(5):
        c = socket.socket()
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(c)
    return lsock, fillers, port


class TestConnectTimeout(KeyCase):
    def test_connect_timeout_message(self):
        lsock, fillers, port = blackhole_listener()
        try:
            gw = self.extra_gateway("ctimeout", {"connect_timeout": "1",
                                                 "parent_server_host": "127.0.0.1",
                                                 "parent_server_port": str(port)})
            c = self.raw(gw.port)
            self.assertEqual(c.greeting, ["500 Can't Connect to (127.0.0.1:%d) errmsg=[CONNECT("
                                          "127.0.0.1:%d)/connect timeout(>1 sec)]"
                                          % (port, port)])
            self.assertEqual(c.wait_closed(), b"")
        finally:
            for s in fillers:
                s.close()
            lsock.close()


class VerdictCacheCase(KeyCase):
    """What shows the verdict cache: with its own sekisho-scand (named by
    scand_socket in [ftp]; [common] names the module's) stopped, a clean
    file the cache knows is still served. One worker: one cache."""
    SECTION = {}
    COMMON = {"workers": "1"}

    @classmethod
    def setUpClass(cls):
        cls.own = subdir(ENV["env"].wd.path, cls.__name__ + "-scand", daemon=True)
        cls.scand = harness.Scand(cls.own)
        cls.SECTION = dict(cls.SECTION, scand_socket=cls.scand.socket)
        try:
            super().setUpClass()
        except BaseException:
            cls.scand.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.scand.proc.alive():
                cls.scand.stop()

    def fetch_twice(self):
        self.assert_delivered("clean_1k.bin")
        self.scand.stop()
        return retr(self.logged_in(), "clean_1k.bin")


class TestVerdictCacheDefault(VerdictCacheCase):
    def test_known_clean_file_served_without_scanner(self):
        first, final, data = self.fetch_twice()
        self.assertEqual((final, data), (["226 Transfer complete."], content("clean_1k.bin")))


class TestVerdictCacheNo(VerdictCacheCase):
    SECTION = {"verdict_cache": "no"}

    def test_every_file_needs_the_scanner(self):
        first, final, data = self.fetch_twice()
        self.assertEqual(final, ["451 Requested action aborted: virus scan failed, please try "
                                 "again later."])
        self.assertEqual(data, b"")
        self.gw.wait_log("error", r"virus scan failed: .* URL=\[%s\]"
                         % re.escape(self.ftp_url("clean_1k.bin")))
        self.assertIn(" PROXY-ERROR:PROXY/virus+scan+failed:",
                      self.gw.wait_log("access", r" TCP_MISS/500 ")[-1])


class TestNoopIntervalVsftpd(KeyCase):
    """noop_interval=1: while an upload is received (the client trickles it
    for about 3 s) the proxy sends NOOP to vsftpd every second."""
    SECTION = {"noop_interval": "1"}

    def test_server_receives_noops(self):
        c = self.logged_in()
        before = len(self.env.a4.commands())
        d = c.connect_data(c.pasv())
        self.assertTrue(c.cmd("STOR incoming/noop.bin")[-1].startswith("150 "))
        data = testfiles.clean_bytes(4 * KB, seed=31)
        for i in range(4):
            d.sendall(data[i * KB:(i + 1) * KB])
            time.sleep(1)
        d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        self.assertEqual(c.cmd("NOOP"), ["200 NOOP ok."])
        cmds = harness.wait_for(lambda: [x for x in self.env.a4.commands()[before:]
                                         if x == "NOOP"][1:] and self.env.a4.commands()[before:],
                                10, what="the proxy's NOOPs in vsftpd's log")
        self.assertEqual(cmds[:3], ["PASV", "STOR incoming/noop.bin", "NOOP"])
        with open(os.path.join(self.env.upload_path, "noop.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertNotIn("ftp_noop_callback", self.gw.log_text("error"))


class TestNoopIntervalReplyError(FakeFtpCase):
    """noop_interval=1 against a server that answers NOOP "500 no" while
    a download trickles for 3 s: LOG-E14 for each, the file still arrives."""
    ENV = ENV
    SECTION = {"noop_interval": "1"}
    DATA = testfiles.clean_bytes(3 * KB, seed=32)
    FAKE = {"NOOP": b"500 no\r\n", "RETR": send_file(DATA, chunk=KB, delay=1.5)}

    def test_noop_reply_error_logged(self):
        c = self.client()
        c.login()
        first, final, data = retr(c, "t.bin")
        self.assertEqual((final, data), (["226 Transfer complete."], self.DATA))
        lines = self.gw.wait_log("error", r"ftp_noop_callback:NOOP command reply error "
                                          r"\[500 no\]$", count=2)
        self.assertGreaterEqual(len(lines), 2)
        # the keep-alive's replies are not taken for the next command's
        self.assertEqual(c.cmd("PWD"), ['257 "/" is the current directory'])
        self.assertGreaterEqual(self.fake.lines().count(b"NOOP"), 2)


# ---- [common] keys set in [ftp] --------------------------------------------------------------


class TestTmpdir(KeyCase):
    """tmpdir in [ftp]: a file too large for the memory spool (256 KiB) is
    spooled in that directory while it comes in."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = os.path.join(ENV["env"].wd.path, cls.__name__ + "-spool")
        cls.SECTION = {"tmpdir": cls.tmp}
        super().setUpClass()

    def spool_files(self):
        out = []
        for pid in self.gw.worker_pids():
            fds = "/proc/%d/fd" % pid
            for fd in os.listdir(fds):
                try:
                    target = os.readlink(os.path.join(fds, fd))
                except OSError:
                    continue
                if target.startswith(self.tmp + "/"):
                    out.append(target)
        return out

    def test_large_upload_spooled_in_tmpdir(self):
        self.assertTrue(os.path.isdir(self.tmp))  # made at start
        c = self.logged_in()
        d = c.connect_data(c.pasv())
        self.assertTrue(c.cmd("STOR incoming/spooled.bin")[-1].startswith("150 "))
        data = testfiles.clean_bytes(400 * KB, seed=33)
        d.sendall(data)  # and the upload stays open
        try:
            files = harness.wait_for(self.spool_files, 10, what="a spool file in tmpdir")
            self.assertEqual(len(files), 1, files)
        finally:
            d.close()
        self.assertEqual(c.reply(), ["226 Transfer complete."])
        with open(os.path.join(self.env.upload_path, "spooled.bin"), "rb") as f:
            self.assertEqual(f.read(), data)
        harness.wait_for(lambda: not self.spool_files(), 10, what="the spool file closed")


class TestHostsAllowPath(KeyCase):
    """hosts_allow in [ftp]: that file decides, not conf/hosts.allow."""
    HOSTS_ALLOW = "ftp_from: 127.0.0.1\n"

    @classmethod
    def setUpClass(cls):
        d = subdir(ENV["env"].wd.path, cls.__name__ + "-acl")
        cls.allow = os.path.join(d, "elsewhere.allow")
        with open(cls.allow, "w") as f:
            f.write("ftp_from: 127.0.0.2\n")
        os.chmod(cls.allow, 0o644)
        cls.SECTION = {"acl_from": "yes", "hosts_allow": cls.allow}
        super().setUpClass()

    def test_the_configured_file_decides(self):
        c = self.raw(self.gw.port, greet=False)
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:")
        self.assertEqual(self.client(source="127.0.0.2").greeting, ["220 server a"])


@unittest.skipUnless(os.geteuid() == 0, "changing users needs root")
class TestRunUserWorkers(KeyCase):
    """run_user and workers in [ftp]: three workers, all running as daemon."""
    SECTION = {"run_user": "daemon", "workers": "3"}

    def test_workers_and_their_user(self):
        daemon = pwd.getpwnam("daemon")
        self.assertNotEqual(daemon.pw_uid, pwd.getpwnam(harness.unprivileged_user()).pw_uid)
        pids = harness.wait_for(lambda: len(self.gw.worker_pids()) >= 3 and self.gw.worker_pids(),
                                10, what="three workers")
        self.assertEqual(len(pids), 3)
        for pid in pids:
            with open("/proc/%d/status" % pid) as f:
                uids = [ln for ln in f if ln.startswith("Uid:")][0].split()[1:]
            with self.subTest(pid=pid):
                self.assertEqual(set(uids), {str(daemon.pw_uid)}, uids)
        self.assert_refused("eicar.com")  # the workers still scan (their spool is theirs)


if __name__ == "__main__":
    unittest.main()
