"""Keys of the HTTP service that no other test set to a value other than
their default (a setting is a promise): each test sets one and shows its
effect with what the client, the origin, the admin mail server and the logs
saw; it would fail if the key were ignored.

admin_mx_host, run_user, hosts_allow, template_dir, pass_riskware,
detect_log / info_log / error_log, http_from, http_pass_to, ipv6,
trickle_tail, block_maxnested, block_scantimeout."""
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import unittest

import harness
from harness import origin as org
from harness import testfiles

ENV = {}
KB = 1024
# A zip that libclamav needs many seconds to scan (1500 members of 1 MiB of
# zeros, EICAR last; about 10 ms per member): with vsd_scantimeout=1 the
# scan's deadline passes long before its end (the deadline is checked per
# extracted member, src/scand/engine.c), whatever the machine's speed.
SLOW_MEMBERS = 1500


def slow_scan_zip():
    zeros = b"\0" * (1 << 20)
    members = [("zeros/%05d.bin" % i, zeros) for i in range(SLOW_MEMBERS)]
    members.append(("zz/eicar.com", testfiles.EICAR))
    return testfiles.zip_bytes(members)


def setUpModule():
    harness.serve_test_files(ENV, "http-keys")
    www = ENV["nginx"].root
    with open(os.path.join(www, "slow_scan.zip"), "wb") as f:
        f.write(slow_scan_zip())
    ENV["origin"] = org.Origin()


def tearDownModule():
    if "origin" in ENV:
        ENV["origin"].stop()
    harness.stop_all(ENV)


def subdir(name):
    d = os.path.join(ENV["wd"].path, name)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    return d


def gateway(name, **kw):
    return harness.Gateway(subdir(name), kw.pop("scand_socket", ENV["scand"].socket), **kw)


def curl(proxy, url, timeout=60):
    """(status, body bytes); status 0 when the proxy closed without an answer."""
    r = subprocess.run(["curl", "-s", "-x", proxy, "-D", "-", "--max-time", str(timeout), url],
                       capture_output=True, timeout=timeout + 10)
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    first = head.split(b"\r\n")[0].decode("latin-1")
    status = int(first.split()[1]) if first.startswith("HTTP/") else 0
    return status, body


def url(name):
    return ENV["nginx"].url(name)


def access_line(gw, u):
    return gw.wait_log("access", re.escape(u) + " ")[-1]


class TestAdminMxHost(unittest.TestCase):
    def test_notification_goes_to_the_configured_host(self):
        # The admin mail server listens on 127.0.0.2 only: with the key
        # ignored (127.0.0.1, the default) the notification could not be sent.
        d = subdir("admin-mx")
        sink = harness.SmtpSink(d, host="127.0.0.2", subdir="admin-sink")
        gw = gateway("admin-mx-gw", section={"notify_admin": "yes"},
                     common={"admin_mailaddr": "admin@example.test",
                             "admin_mx_host": "127.0.0.2", "admin_mx_port": str(sink.port),
                             "admin_notification_id": "7117"})
        try:
            self.assertFalse(harness.port_open(sink.port, "127.0.0.1"))
            self.assertEqual(curl(gw.proxy, url("eicar.com"))[0], 403)
            msgs = harness.wait_for(lambda: [m for m in sink.messages()
                                             if "X-Admin-Notification-Id: 7117" in m], 15,
                                    what="admin notification at 127.0.0.2")
            self.assertIn(url("eicar.com"), msgs[-1])
            self.assertIn("admin@example.test", msgs[-1])
            self.assertNotIn("cannot connect to admin mail server", gw.log_text("error"))
        finally:
            gw.stop()
            sink.stop()


    def test_every_address_of_the_host_is_tried(self):
        # admin_mx_host resolves (a hosts file of the test's own, CARES_HOSTS)
        # to 127.0.0.1, where nothing listens on the port, and then to ::1,
        # where the admin mail server is: a notifier that tried only the
        # first address (as it once did) could not send the notification.
        d = subdir("admin-mx-addrs")
        sink = harness.SmtpSink(d, host="::1", subdir="admin-sink")
        hosts = os.path.join(d, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 mx.notify.test\n::1 mx.notify.test\n")
        os.chmod(hosts, 0o644)
        gw = gateway("admin-mx-addrs-gw", section={"notify_admin": "yes"},
                     common={"admin_mailaddr": "admin@example.test",
                             "admin_mx_host": "mx.notify.test", "admin_mx_port": str(sink.port),
                             "admin_notification_id": "7118"},
                     env={"CARES_HOSTS": hosts})
        try:
            self.assertFalse(harness.port_open(sink.port, "127.0.0.1"))
            self.assertEqual(curl(gw.proxy, url("eicar.com"))[0], 403)
            msgs = harness.wait_for(lambda: [m for m in sink.messages()
                                             if "X-Admin-Notification-Id: 7118" in m], 15,
                                    what="admin notification at ::1")
            self.assertIn(url("eicar.com"), msgs[-1])
            self.assertNotIn("notify_admin", gw.log_text("error"))
        finally:
            gw.stop()
            sink.stop()


@unittest.skipUnless(os.geteuid() == 0, "changing users needs root")
class TestRunUser(unittest.TestCase):
    def test_workers_run_as_the_configured_user(self):
        daemon = pwd.getpwnam("daemon")
        self.assertNotEqual(daemon.pw_uid, pwd.getpwnam(harness.unprivileged_user()).pw_uid)
        gw = gateway("run-user", common={"run_user": "daemon"})
        try:
            pids = gw.worker_pids()
            self.assertGreaterEqual(len(pids), 2)
            for pid in pids + [gw.proc.pid]:
                with open("/proc/%d/status" % pid) as f:
                    uids = [l for l in f if l.startswith("Uid:")][0].split()[1:]
                with self.subTest(pid=pid):
                    # real, effective, saved and filesystem uid: all dropped
                    self.assertEqual(set(uids), {str(daemon.pw_uid)}, uids)
            # and the workers still serve (their spool is theirs)
            status, body = curl(gw.proxy, url("clean_23k.bin"))
            self.assertEqual(status, 200)
            self.assertEqual(body, open(ENV["files"]["clean_23k.bin"], "rb").read())
        finally:
            gw.stop()


class TestHostsAllowPath(unittest.TestCase):
    def other_file(self, name, text):
        path = os.path.join(subdir(name), "elsewhere.allow")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def test_the_configured_file_refuses(self):
        # conf/hosts.allow would admit the client; the configured file does not.
        path = self.other_file("hosts-allow-refuse", "http_from: 10.0.0.1\n")
        gw = gateway("hosts-allow-refuse-gw", section={"acl_from": "yes"},
                     common={"hosts_allow": path}, hosts_allow="http_from: 127.0.0.1\n")
        try:
            self.assertEqual(curl(gw.proxy, url("clean_23k.bin"), timeout=10)[0], 0)
            gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:")
        finally:
            gw.stop()

    def test_the_configured_file_admits(self):
        path = self.other_file("hosts-allow-admit", "http_from: 127.0.0.1\n")
        gw = gateway("hosts-allow-admit-gw", section={"acl_from": "yes"},
                     common={"hosts_allow": path}, hosts_allow="http_from: 10.0.0.1\n")
        try:
            self.assertEqual(curl(gw.proxy, url("clean_23k.bin"))[0], 200)
            self.assertNotIn("Access Denied", gw.log_text("info"))
        finally:
            gw.stop()


class TestTemplateDir(unittest.TestCase):
    MARKER = "SEKISHO-TEMPLATE-DIR-MARKER-4711"

    def test_detection_page_comes_from_the_configured_directory(self):
        tpl = subdir("template-dir")
        conf = os.path.join(harness.REPO, "conf")
        for name in os.listdir(conf):
            if name.startswith("template_"):
                shutil.copy(os.path.join(conf, name), tpl)
        with open(os.path.join(conf, "template_http.html"), encoding="utf-8") as f:
            page = f.read()
        page = page.replace("<body>", "<body>\n<p>%s ${DETECTION_NAME}</p>" % self.MARKER, 1)
        self.assertIn(self.MARKER, page)
        with open(os.path.join(tpl, "template_http.html"), "w", encoding="utf-8") as f:
            f.write(page)
        gw = gateway("template-dir-gw", common={"template_dir": tpl})
        try:
            status, body = curl(gw.proxy, url("eicar.com"))
            self.assertEqual(status, 403)
            self.assertIn("%s Eicar-Test-Signature" % self.MARKER, body.decode("utf-8"))
        finally:
            gw.stop()


class TestPassRiskware(unittest.TestCase):
    def fetch_riskware(self, name, patterns):
        gw = gateway(name, section={"riskware_check": "yes", "pass_riskware": patterns})
        try:
            status, body = curl(gw.proxy, url("riskware.txt"))
            line = access_line(gw, url("riskware.txt"))
            return status, body, line, gw.log_text("detect")
        finally:
            gw.stop()

    def test_matching_pattern_passes(self):
        status, body, line, detect = self.fetch_riskware("riskware-pass",
                                                         "Client-IRC.*.*;Tool.Win32.*")
        self.assertEqual(status, 200)
        self.assertEqual(body, testfiles.RISKWARE)
        self.assertIn("DETECT-STAT:CLEAN:", line)
        self.assertNotIn("SekishoTest", detect)

    def test_other_pattern_still_blocks(self):
        status, _, line, _ = self.fetch_riskware("riskware-block", "Client-IRC.*.*;Tool.Linux.*")
        self.assertEqual(status, 403)
        self.assertIn("DETECT-STAT:INFECTED:Tool.Win32.SekishoTest:", line)


class TestLogDestinations(unittest.TestCase):
    def test_detect_info_and_error_logs_go_where_configured(self):
        d = subdir("logdest")
        elsewhere = os.path.join(d, "elsewhere")
        os.makedirs(elsewhere, exist_ok=True)
        harness.chown_for_daemons(elsewhere)
        detect = os.path.join(elsewhere, "detections.txt")
        info = os.path.join(elsewhere, "information.txt")
        piped = os.path.join(elsewhere, "errors-piped.txt")
        dead_port = harness.free_port()
        gw = harness.Gateway(subdir("logdest/gw-dir"), ENV["scand"].socket,
                             section={"detect_log": detect, "info_log": info,
                                      "error_log": "|cat >> %s" % piped,
                                      "notify_admin": "yes"},
                             common={"admin_mailaddr": "admin@example.test",
                                     "admin_mx_host": "127.0.0.1",
                                     "admin_mx_port": str(dead_port)})
        try:
            u = url("eicar.com")
            self.assertEqual(curl(gw.proxy, u)[0], 403)

            def text(path):
                if not os.path.exists(path):
                    return ""
                with open(path, "rb") as f:
                    return f.read().decode("utf-8", "replace")

            harness.wait_for(lambda: u in text(detect), 10, what="detection in detect_log")
            self.assertIn("DETECT-STAT:INFECTED:Eicar-Test-Signature:", text(detect))
            # info.log: the detection record of the service (Infected ...)
            harness.wait_for(lambda: "Eicar-Test-Signature" in text(info), 10,
                             what="detection in info_log")
            # error.log through the pipe: the admin mail server is down
            harness.wait_for(lambda: "notify_admin:cannot connect to admin mail server"
                             "[127.0.0.1:%d]" % dead_port in text(piped), 15,
                             what="error line through the error_log pipe")
            # nothing of it in the default files
            for name in ("detect", "info", "error"):
                with self.subTest(default=name):
                    self.assertNotIn("Eicar", gw.log_text(name))
                    self.assertNotIn("notify_admin", gw.log_text(name))
        finally:
            gw.stop()


class TestHttpFromIni(unittest.TestCase):
    # CFG-7: http_from= in the ini replaces the http_from field of hosts.allow.
    def test_ini_list_refuses_a_client_hosts_allow_admits(self):
        gw = gateway("http-from-refuse", section={"acl_from": "yes", "http_from": "10.0.0.1"},
                     hosts_allow="http_from: 127.0.0.1\n")
        try:
            self.assertEqual(curl(gw.proxy, url("clean_23k.bin"), timeout=10)[0], 0)
            gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:")
        finally:
            gw.stop()

    def test_ini_list_admits_a_client_hosts_allow_refuses(self):
        gw = gateway("http-from-admit", section={"acl_from": "yes", "http_from": "127.0.0.1"},
                     hosts_allow="http_from: 10.0.0.1\n")
        try:
            self.assertEqual(curl(gw.proxy, url("clean_23k.bin"))[0], 200)
        finally:
            gw.stop()


class TestHttpPassToIni(unittest.TestCase):
    def test_destination_in_ini_list_is_relayed_unscanned(self):
        gw = gateway("http-pass-to", section={"acl_pass_to": "yes", "http_pass_to": "127.0.0.1"},
                     hosts_allow="http_pass_to: 10.1.1.1\n")
        try:
            status, body = curl(gw.proxy, url("eicar.com"))
            self.assertEqual(status, 200)
            self.assertEqual(body, testfiles.EICAR)
            line = access_line(gw, url("eicar.com"))
            self.assertRegex(line, r"PROXY-STAT:http:\d+:\d+:[^:]+:\d+:0:0:PASS_TO: ")
        finally:
            gw.stop()

    def test_destination_outside_ini_list_is_scanned(self):
        gw = gateway("http-pass-to-other",
                     section={"acl_pass_to": "yes", "http_pass_to": "10.1.1.1"},
                     hosts_allow="http_pass_to: 127.0.0.1\n")
        try:
            self.assertEqual(curl(gw.proxy, url("eicar.com"))[0], 403)
        finally:
            gw.stop()


class _FamilyOrigin:
    """Two tiny HTTP servers on the same port, one on 127.0.0.1 and one on
    ::1, each answering with its own address as the body."""

    def __init__(self):
        self.socks = []
        for _ in range(50):
            port = harness.free_port()
            try:
                s4 = socket.socket(socket.AF_INET)
                s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s4.bind(("127.0.0.1", port))
                s6 = socket.socket(socket.AF_INET6)
                s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s6.bind(("::1", port))
            except OSError:
                for s in (s4, s6):
                    s.close()
                continue
            self.socks = [(s4, b"127.0.0.1"), (s6, b"::1")]
            self.port = port
            break
        else:
            raise RuntimeError("no port free on both 127.0.0.1 and ::1")
        self.stopping = False
        self.threads = []
        for s, tag in self.socks:
            s.listen(16)
            s.settimeout(0.2)
            t = threading.Thread(target=self.serve, args=(s, tag), daemon=True)
            t.start()
            self.threads.append(t)

    def serve(self, sock, tag):
        while not self.stopping:
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                try:
                    while b"\r\n\r\n" not in data and len(data) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    body = b"served-by-" + tag
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(body) + body)
                except OSError:
                    pass

    def stop(self):
        self.stopping = True
        for t in self.threads:
            t.join(5)
        for s, _ in self.socks:
            s.close()


HOSTS_BIND = 'mount --bind "$0" /etc/hosts && exec "$@"'


def own_hosts_file_works(hosts):
    """Whether this machine lets a child see its own /etc/hosts (a private
    mount namespace; root only). The machine's /etc/hosts is not touched."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "--mount", "sh", "-c", HOSTS_BIND, hosts, "grep", "-q",
                        "v6only.sekisho.test", "/etc/hosts"], capture_output=True, timeout=20)
    return r.returncode == 0


class TestIpv6(unittest.TestCase):
    """ipv6=no: destination names resolve to IPv4 addresses only. The gateway
    runs in a mount namespace of its own with the test's /etc/hosts bound
    over the machine's (c-ares reads /etc/hosts), so nothing depends on what
    the machine's /etc/hosts says about localhost: dual.sekisho.test has
    127.0.0.1 and ::1, v6only.sekisho.test only ::1. An IPv6 literal is
    refused with ipv6=no as well."""

    @classmethod
    def setUpClass(cls):
        cls.dir = subdir("ipv6")
        cls.hosts = os.path.join(cls.dir, "hosts")
        with open(cls.hosts, "w") as f:
            f.write("127.0.0.1 localhost\n127.0.0.1 dual.sekisho.test\n::1 dual.sekisho.test\n"
                    "::1 v6only.sekisho.test\n")
        os.chmod(cls.hosts, 0o644)
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError as e:
            raise unittest.SkipTest("no IPv6 loopback (::1): %s" % e)
        cls.names = own_hosts_file_works(cls.hosts)
        cls.origin = _FamilyOrigin()

    @classmethod
    def tearDownClass(cls):
        cls.origin.stop()

    def gateway(self, name, ipv6):
        section = {"ipv6": ipv6} if ipv6 != "yes" else {}
        wrapper = ["unshare", "--mount", "sh", "-c", HOSTS_BIND, self.hosts] if self.names else []
        return gateway(name, section=section, wrapper=wrapper)

    def u(self, host):
        return "http://%s:%d/who" % (host, self.origin.port)

    def test_ipv6_no_uses_ipv4_addresses_only(self):
        gw = self.gateway("ipv6-no", "no")
        try:
            # An IPv6 literal is not a destination with ipv6=no.
            status, body = curl(gw.proxy, self.u("[::1]"))
            self.assertEqual(status, 503)
            self.assertNotIn(b"served-by", body)
            self.assertNotIn("DIRECT/::1", access_line(gw, self.u("[::1]")))
            if not self.names:
                self.skipTest("no private mount namespace for a hosts file: names not tested")
            status, body = curl(gw.proxy, self.u("dual.sekisho.test"))
            self.assertEqual((status, body), (200, b"served-by-127.0.0.1"))
            self.assertIn(" DIRECT/127.0.0.1 ", access_line(gw, self.u("dual.sekisho.test")))
            # A name with only an IPv6 address cannot be reached at all.
            status, body = curl(gw.proxy, self.u("v6only.sekisho.test"))
            self.assertEqual(status, 503)
            self.assertNotIn(b"served-by", body)
            line = access_line(gw, self.u("v6only.sekisho.test"))
            self.assertIn("TCP_MISS/503 ", line)
            self.assertNotIn("DIRECT/::1", line)
        finally:
            gw.stop()

    def test_default_reaches_ipv6_addresses(self):
        # The same destinations with the key at its default: the IPv6
        # address is used, so the 503s above are the key's doing.
        gw = self.gateway("ipv6-yes", "yes")
        try:
            status, body = curl(gw.proxy, self.u("[::1]"))
            self.assertEqual((status, body), (200, b"served-by-::1"))
            if not self.names:
                self.skipTest("no private mount namespace for a hosts file: names not tested")
            status, body = curl(gw.proxy, self.u("v6only.sekisho.test"))
            self.assertEqual((status, body), (200, b"served-by-::1"))
            self.assertIn(" DIRECT/::1 ", access_line(gw, self.u("v6only.sekisho.test")))
        finally:
            gw.stop()


def gated(first, rest, gate):
    def behaviour(conn, req):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: %d\r\n\r\n" % (len(first) + len(rest)) + first)
        gate.wait(60)
        conn.sendall(rest)
    return behaviour


class TestTrickleTail(unittest.TestCase):
    """trickle_tail=200 KiB (default 64 KiB). The origin sends the head and
    300 KiB, then waits: the client gets exactly 100 KiB, then nothing more
    until the verdict."""
    TAIL = 200 * KB
    FIRST = 300 * KB

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway("trickle-tail", section={"trickle": "1", "trickle_rate": "1048576",
                                                  "trickle_tail": str(cls.TAIL)})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def run_download(self, path, rest):
        first = testfiles.clean_bytes(self.FIRST, seed=11)
        gate = threading.Event()
        ENV["origin"].route(path, gated(first, rest, gate))
        sock = socket.create_connection(("127.0.0.1", self.gw.port), timeout=60)
        try:
            sock.sendall(b"GET %s HTTP/1.0\r\n\r\n" % ENV["origin"].url(path).encode())
            data = b""
            want = self.FIRST - self.TAIL
            while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < want:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            # Held back: several trickle periods (200 ms at 1 MiB/s) bring
            # nothing beyond len(first) - trickle_tail while the origin waits.
            sock.settimeout(1.5)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                chunk = b""
            data += chunk
            early = len(data.partition(b"\r\n\r\n")[2])
            sock.settimeout(60)
            gate.set()
            while True:
                try:
                    chunk = sock.recv(1 << 20)
                except ConnectionResetError:
                    break
                if not chunk:
                    break
                data += chunk
        finally:
            gate.set()
            sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        return first, head, early, body

    def test_infected_download_is_cut_by_at_least_the_tail(self):
        rest = testfiles.clean_bytes(40 * KB, seed=12) + testfiles.EICAR
        first, head, early, body = self.run_download("/tail-eicar", rest)
        total = len(first) + len(rest)
        self.assertTrue(head.startswith(b"HTTP/1.0 200"), head[:40])
        self.assertEqual(early, self.FIRST - self.TAIL)
        self.assertGreater(len(body), 0)
        self.assertLessEqual(len(body), total - self.TAIL)
        self.assertEqual(body, (first + rest)[:len(body)])
        self.assertIn("DETECT-STAT:INFECTED:", self.gw.wait_log("detect", r"/tail-eicar ")[-1])
        self.gw.wait_log("info", r"trickle: connection cut after \d+ of %d bytes" % total)

    def test_clean_download_arrives_whole(self):
        rest = testfiles.clean_bytes(100 * KB, seed=13)
        first, head, early, body = self.run_download("/tail-clean", rest)
        self.assertEqual(early, self.FIRST - self.TAIL)
        self.assertEqual(body, first + rest)
        self.assertIn("PROTOCOL-STAT:TRICKLE:", self.gw.wait_log("access", r"/tail-clean ")[-1])


class TestBlockMaxnested(unittest.TestCase):
    def test_on_seven_deep_nesting_is_a_detection(self):
        gw = gateway("maxnested-on", section={"block_maxnested": "yes"})
        try:
            status, body = curl(gw.proxy, url("nested_7.zip"))
            self.assertEqual(status, 403)
            self.assertIn(b"SEKISHO/POLICY_BLOCK_MAXNESTED", body)
            line = access_line(gw, url("nested_7.zip"))
            self.assertIn("DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_MAXNESTED:", line)
            self.assertIn("VSD_MAXNESTED", line)
            gw.wait_log("detect", re.escape(url("nested_7.zip")))
        finally:
            gw.stop()

    def test_off_seven_deep_nesting_is_logged_and_passed(self):
        gw = gateway("maxnested-off")
        try:
            status, body = curl(gw.proxy, url("nested_7.zip"))
            self.assertEqual(status, 200)
            self.assertEqual(body, open(ENV["files"]["nested_7.zip"], "rb").read())
            line = access_line(gw, url("nested_7.zip"))
            self.assertIn("DETECT-STAT:CLEAN:", line)
            self.assertIn("VSD_MAXNESTED", line)
        finally:
            gw.stop()


class TestBlockScantimeout(unittest.TestCase):
    def test_on_a_timed_out_scan_is_a_detection(self):
        gw = gateway("scantimeout-on", section={"block_scantimeout": "yes",
                                                "vsd_scantimeout": "1"})
        try:
            status, body = curl(gw.proxy, url("slow_scan.zip"))
            self.assertEqual(status, 403)
            self.assertIn(b"SEKISHO/POLICY_BLOCK_SCANTIMEOUT", body)
            line = access_line(gw, url("slow_scan.zip"))
            self.assertIn("DETECT-STAT:INFECTED:SEKISHO/POLICY_BLOCK_SCANTIMEOUT:", line)
            self.assertIn("VSD_SCANTIMEOUT", line)
        finally:
            gw.stop()

    def test_off_a_timed_out_scan_is_logged_and_passed(self):
        gw = gateway("scantimeout-off", section={"vsd_scantimeout": "1"})
        try:
            status, body = curl(gw.proxy, url("slow_scan.zip"))
            self.assertEqual(status, 200)
            self.assertEqual(len(body), os.path.getsize(os.path.join(ENV["nginx"].root,
                                                                     "slow_scan.zip")))
            line = access_line(gw, url("slow_scan.zip"))
            self.assertIn("DETECT-STAT:CLEAN:", line)
            self.assertIn("VSD_SCANTIMEOUT", line)
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
