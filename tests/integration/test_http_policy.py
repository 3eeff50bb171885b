"""Access control, logging destinations, failure handling and start-up
checks of the HTTP service (ACL-6, CFG-2, CFG-6, CFG-7, GEN-7, LOG-E4,
LOG-E10, CONN-1, CONN-5, HTTP-4, CLI-2 --daemon)."""
import os
import re
import signal
import socket
import subprocess
import time
import unittest

import harness
from harness import testfiles

ENV = {}


def setUpModule():
    harness.serve_test_files(ENV, "http-policy")


def tearDownModule():
    harness.stop_all(ENV)


def gateway(name, **kw):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    return harness.Gateway(wd, kw.pop("scand_socket", ENV["scand"].socket), **kw)


def curl(proxy, url, timeout=30):
    r = subprocess.run(["curl", "-s", "-x", proxy, "-D", "-", "--max-time", str(timeout), url],
                       capture_output=True, timeout=timeout + 10)
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    first = head.split(b"\r\n")[0].decode("latin-1")
    status = int(first.split()[1]) if first.startswith("HTTP/") else 0
    return status, body.decode("utf-8", "replace")


def raw_request(port, data, timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return out
            out += chunk


class TestAclTo(unittest.TestCase):
    def test_destination_outside_list_is_inhibited(self):
        gw = gateway("aclto", section={"acl_to": "yes"}, hosts_allow="http_to: 10.0.0.1\n")
        try:
            url = ENV["nginx"].url("clean_23k.bin")
            status, body = curl(gw.proxy, url)
            self.assertEqual(status, 503)
            msg = "CONNECT(127.0.0.1:%d)/Access Inhibited by Proxy(SEKISHO)" % ENV["nginx"].port
            self.assertIn(msg, body)
            gw.wait_log("info", re.escape("Access Denied to [127.0.0.1:127.0.0.1]"))
            line = gw.wait_log("access", re.escape(url))[-1]
            self.assertIn("TCP_MISS/503 ", line)
            self.assertIn("PROXY-ERROR:CONNECT(127.0.0.1%%3a%d)/Access+Inhibited+by+Proxy"
                          "(SEKISHO):" % ENV["nginx"].port, line)
        finally:
            gw.stop()

    def test_ini_list_replaces_the_hosts_allow_field(self):
        # CFG-7: http_to= in the ini file is the list, whatever hosts.allow says.
        gw = gateway("aclto-ini", section={"acl_to": "yes", "http_to": "127.0.0.1"},
                     hosts_allow="http_to: 10.0.0.1\n")
        try:
            status, _ = curl(gw.proxy, ENV["nginx"].url("clean_23k.bin"))
            self.assertEqual(status, 200)
        finally:
            gw.stop()


class TestConnectionErrors(unittest.TestCase):
    def test_refused_connection_is_503_with_the_documented_message(self):
        gw = gateway("refused")
        try:
            port = harness.free_port()
            url = "http://127.0.0.1:%d/x" % port
            status, body = curl(gw.proxy, url)
            self.assertEqual(status, 503)
            self.assertIn("CONNECT(127.0.0.1:%d)/connect: Connection refused" % port, body)
            self.assertIn("The server refuse to browse the page.", body)  # HTTP-15
            line = gw.wait_log("access", re.escape(url))[-1]
            self.assertIn("PROXY-ERROR:CONNECT(127.0.0.1%%3a%d)/connect%%3a+Connection+refused:"
                          % port, line)
        finally:
            gw.stop()

    def test_request_line_errors(self):
        gw = gateway("reqline")
        try:
            cases = [
                (b"G" * 99 + b" http://127.0.0.1/ HTTP/1.0\r\n\r\n", b"400",
                 b"Too long Request Method"),
                (b"GET http://127.0.0.1/" + b"a" * 2100 + b" HTTP/1.0\r\n\r\n", b"414",
                 b"Request-URI Too Long"),
                (b"GET http://127.0.0.1/ HTTP/2.0\r\n\r\n", b"505",
                 b"Only support HTTP/0.9, HTTP/1.0, HTTP/1.1"),
            ]
            for req, code, text in cases:
                with self.subTest(code=code):
                    out = raw_request(gw.port, req)
                    self.assertTrue(out.startswith(b"HTTP/1.0 " + code), out[:60])
                    self.assertIn(text, out)
        finally:
            gw.stop()


class TestLogDestinations(unittest.TestCase):
    def test_access_log_pipe_command(self):
        wd = os.path.join(ENV["wd"].path, "pipe")
        os.makedirs(wd, exist_ok=True)
        piped = os.path.join(wd, "piped.log")
        gw = harness.Gateway(wd, ENV["scand"].socket,
                             section={"access_log": "|cat >> %s" % piped})
        try:
            url = ENV["nginx"].url("clean_23k.bin")
            self.assertEqual(curl(gw.proxy, url)[0], 200)
            harness.wait_for(lambda: os.path.exists(piped) and url in open(piped).read(), 10,
                             what="access line through the pipe")
            self.assertFalse(os.path.exists(os.path.join(gw.logdir, "access.log")) and
                             url in gw.log_text("access"))
        finally:
            gw.stop()


class TestNotificationFailure(unittest.TestCase):
    def test_unreachable_admin_mail_server_is_logged(self):
        port = harness.free_port()
        gw = gateway("notifyfail", section={"notify_admin": "yes"},
                     common={"admin_mailaddr": "admin@example.test", "admin_mx_host": "127.0.0.1",
                             "admin_mx_port": str(port)})
        try:
            self.assertEqual(curl(gw.proxy, ENV["nginx"].url("eicar.com"))[0], 403)
            gw.wait_log("error", re.escape("notify_admin:cannot connect to admin mail server"
                                           "[127.0.0.1:%d]" % port) + r".*/strerror\(111\)=")
        finally:
            gw.stop()


class TestScanErrorAction(unittest.TestCase):
    def test_pass_on_scanner_failure_is_explicit_and_logged(self):
        wd = os.path.join(ENV["wd"].path, "scanerr-pass")
        os.makedirs(wd, exist_ok=True)
        gw = harness.Gateway(wd, os.path.join(wd, "absent.sock"),
                             section={"scan_error_action": "pass"})
        try:
            status, _ = curl(gw.proxy, ENV["nginx"].url("clean_23k.bin"))
            self.assertEqual(status, 200)
            gw.wait_log("error", r"virus scan failed: .*scan_error_action=pass")
        finally:
            gw.stop()


class TestListenForms(unittest.TestCase):
    def test_address_and_interface_svcport(self):
        port = harness.free_port()
        gw = gateway("svcport-iface", section={"svcport": "127.0.0.1%%lo:%d" % port}, start=False)
        gw.port = port
        gw.start()
        try:
            self.assertEqual(curl(gw.proxy, ENV["nginx"].url("clean_23k.bin"))[0], 200)
        finally:
            gw.stop()

    def test_daemon_mode(self):
        gw = gateway("daemon", start=False)
        r = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--daemon", "--http", "-f",
                            gw.ini, "-q"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        line = gw.wait_log("info", r"main: entering daemon mode\. \(daemon pid=\d+\)")[-1]
        pid = int(re.search(r"daemon pid=(\d+)", line).group(1))
        try:
            harness.wait_for(lambda: harness.port_open(gw.port), 10, what="daemon listening")
            self.assertEqual(curl(gw.proxy, ENV["nginx"].url("clean_23k.bin"))[0], 200)
        finally:
            os.kill(pid, signal.SIGTERM)
            harness.wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                             open("/proc/%d/stat" % pid).read().split()[2] == "Z", 30,
                             what="daemon stopped")


@unittest.skipUnless(os.geteuid() == 0, "mounting a small tmpfs needs root")
class TestTmpdirSpace(unittest.TestCase):
    def test_less_than_5mb_free_refuses_to_start(self):
        wd = os.path.join(ENV["wd"].path, "tmpfs")
        mnt = os.path.join(wd, "small")
        os.makedirs(mnt, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount tmpfs: " + r.stderr.strip())
        try:
            gw = harness.Gateway(wd, ENV["scand"].socket, common={"tmpdir": mnt + "/spool"},
                                 start=False)
            r = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--http", "-f", gw.ini],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("main:diskspace_check: not enough disk space in temporary directory "
                          "[%s/spool]." % mnt, gw.log_text("error"))
        finally:
            subprocess.run(["umount", mnt], capture_output=True)



class TestScandRestart(unittest.TestCase):
    def test_pooled_scanner_connections_survive_a_scand_restart(self):
        wd = os.path.join(ENV["wd"].path, "scand-restart")
        os.makedirs(wd, exist_ok=True)
        scand = harness.Scand(wd)
        gw = harness.Gateway(wd, scand.socket, common={"workers": "1"})
        try:
            url = ENV["nginx"].url("eicar.com")
            for _ in range(3):  # the worker keeps its scand connection for reuse
                self.assertEqual(curl(gw.proxy, url)[0], 403)
            scand.stop()
            scand = harness.Scand(wd)
            # The idle connection to the old scand is dead; the scan is retried once
            # on a new connection instead of failing.
            self.assertEqual(curl(gw.proxy, url)[0], 403)
            self.assertEqual(curl(gw.proxy, ENV["nginx"].url("clean_23k.bin"))[0], 200)
            self.assertNotIn("virus scan failed", gw.log_text("error"))
            scand.stop()
            self.assertEqual(curl(gw.proxy, url)[0], 503)  # scanner down: temporary failure
        finally:
            gw.stop()
            scand.stop()



def blackhole_listener():
    """A listener whose accept queue is full: connects to it hang (SYN dropped)."""
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


class TestConnectTimeouts(unittest.TestCase):
    def test_connect_timeout_message(self):
        lsock, fillers, port = blackhole_listener()
        gw = gateway("ctimeout", section={"connect_timeout": "1"})
        try:
            status, body = curl(gw.proxy, "http://127.0.0.1:%d/x" % port)
            self.assertEqual(status, 503)
            self.assertIn("CONNECT(127.0.0.1:%d)/connect timeout(&gt;1 sec)" % port, body)
            line = gw.wait_log("access", r"127\.0\.0\.1:%d/x " % port)[-1]
            self.assertIn("PROXY-ERROR:CONNECT(127.0.0.1%%3a%d)/connect+timeout(>1+sec):" % port,
                          line)
        finally:
            gw.stop()
            for c in fillers:
                c.close()
            lsock.close()

    def test_client_cancel_while_connecting(self):
        lsock, fillers, port = blackhole_listener()
        gw = gateway("ccancel")
        try:
            with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as s:
                s.sendall(b"GET http://127.0.0.1:%d/y HTTP/1.0\r\n\r\n" % port)
                time.sleep(0.5)
            line = gw.wait_log("access", r"127\.0\.0\.1:%d/y " % port)[-1]
            self.assertIn("PROXY-ERROR:CONNECT(127.0.0.1%%3a%d)/connect+cancelled:" % port, line)
        finally:
            gw.stop()
            for c in fillers:
                c.close()
            lsock.close()


if __name__ == "__main__":
    unittest.main()
