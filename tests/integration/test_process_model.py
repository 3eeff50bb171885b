"""The proxy's process model: start-up checks, privileges, supervision,
SIGTERM draining, SIGHUP reload, pre_spawn (issue 2 point 5; GEN-4, GEN-7,
GEN-8, LOG-E1, LOG-E2, LOG-E19, CLI-2)."""
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import threading
import time
import unittest

import harness
from harness import testfiles
from harness.procinfo import proc_status

ENV = {}


def setUpModule():
    wd = harness.Workdir("procmodel")
    ENV["wd"] = wd
    www = os.path.join(wd.path, "www")
    os.makedirs(os.path.join(www, "slow"), exist_ok=True)
    ENV["files"] = testfiles.generate(www)
    big = os.path.join(www, "slow", "big100m.bin")
    with open(big, "wb") as f:
        f.write(testfiles.clean_bytes(100 * testfiles.MB))
    ENV["big"] = big
    ENV["nginx"] = harness.Nginx(www, wd.path)
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["nginx"].stop()
    ENV["wd"].cleanup()


def new_gateway(name, **kw):
    wd = os.path.join(ENV["wd"].path, name)
    os.makedirs(wd, exist_ok=True)
    return harness.Gateway(wd, ENV["scand"].socket, **kw)


def fetch(proxy, url, timeout=60):
    r = subprocess.run(["curl", "-s", "-x", proxy, "-o", "/dev/null", "-w", "%{http_code}",
                        "--max-time", str(timeout), url],
                       capture_output=True, text=True, timeout=timeout + 10)
    return r.stdout




class TestStartup(unittest.TestCase):
    def test_invalid_config_refused_with_file_line_reason(self):
        wd = os.path.join(ENV["wd"].path, "badcfg")
        os.makedirs(wd, exist_ok=True)
        gw = harness.Gateway(wd, ENV["scand"].socket, start=False,
                             section={"pre_spawn": "0", "keepalive": "perhaps"})
        r = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--http", "-f", gw.ini],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, re.escape(gw.ini) + r":\d+: .*pre_spawn")
        self.assertRegex(r.stderr, re.escape(gw.ini) + r":\d+: .*keepalive")

    def test_missing_config_refused(self):
        r = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--http", "-f",
                            "/nonexistent/sekisho.ini"], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent/sekisho.ini", r.stderr)

    def test_help_lists_options(self):
        r = subprocess.run([os.path.join(harness.BIN, "sekisho"), "-h"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        for opt in ("--http", "--smtp", "--pop", "--ftp", "-f", "--daemon", "-q", "-v", "-P"):
            self.assertIn(opt, r.stdout)

    def test_bind_failure_logged(self):
        gw = new_gateway("bind1")
        try:
            wd = os.path.join(ENV["wd"].path, "bind2")
            os.makedirs(wd, exist_ok=True)
            other = harness.Gateway(wd, ENV["scand"].socket, start=False,
                                    section={"svcport": "127.0.0.1:%d" % gw.port})
            r = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--http", "-f", other.ini],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            err = other.log_text("error")
            self.assertIn("bind(port=%d,addr=127.0.0.1). # Please check whether other service"
                          % gw.port, err)
            self.assertIn("/strerror(98)=Address already in use", err)
        finally:
            gw.stop()

    def test_port_option_overrides_svcport(self):
        port = harness.free_port()
        gw = new_gateway("portopt", start=False, extra_args=["-P", str(port)])
        gw.port = port
        gw.start()
        try:
            self.assertEqual(fetch(gw.proxy, ENV["nginx"].url("clean_23k.bin")), "200")
        finally:
            gw.stop()

    def test_start_and_stop_lines(self):
        gw = new_gateway("startstop")
        gw.stop()
        info = gw.log_text("info")
        self.assertRegex(info, r"main: ### START ### \(argv=\[.*--http -f .*\],ver=\[[0-9.]+\],"
                               r"pid=%d\)" % gw.proc.pid)
        self.assertIn("main: accept_loop(", info)
        self.assertRegex(info, r"main: ### STOP ### \(ver=\[[0-9.]+\], pid=%d, sig=15\[SIGTERM\]\)"
                         % gw.proc.pid)


@unittest.skipUnless(os.geteuid() == 0, "privilege drop needs root")
class TestPrivileges(unittest.TestCase):
    def test_runs_unprivileged_with_private_spool(self):
        gw = new_gateway("privs")
        try:
            pw = pwd.getpwnam("nobody")
            nobody = pw.pw_uid
            workers = gw.worker_pids()
            self.assertEqual(len(workers), 2)
            # Every id (real, effective, saved, fs) is nobody's, no
            # supplementary group is left, and no exec can gain privileges.
            for what, pid in [("master after binding", gw.proc.pid)] + [
                    ("worker %d" % w, w) for w in workers]:
                st = proc_status(pid)
                self.assertEqual(st["Uid"], [str(nobody)] * 4, what)
                self.assertEqual(st["Gid"], [str(pw.pw_gid)] * 4, what)
                self.assertEqual(st["Groups"], [], what)
                self.assertEqual(st["NoNewPrivs"], ["1"], what)
            spool = os.path.join(gw.prefix, "tmp/spool")
            st = os.stat(spool)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
            self.assertEqual(st.st_uid, nobody)
            # During a slow spooled download the spool file is unnamed and 0600.
            t = threading.Thread(target=fetch, args=(gw.proxy, ENV["nginx"].url("slow/big100m.bin")))
            t.start()
            seen = harness.wait_for(lambda: self._spool_fds(gw, spool), 30,
                                    what="an open spool file")
            for path, mode in seen:
                self.assertTrue(path.endswith("(deleted)") or "#" in path, path)
                self.assertEqual(mode, 0o600)
            # Nothing named but the service's counters (lib/svc_stats), 0600 too.
            self.assertEqual(os.listdir(spool), ["stats.http"])
            st = os.stat(os.path.join(spool, "stats.http"))
            self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid), (0o600, nobody))
            t.join(120)
        finally:
            gw.stop()

    @staticmethod
    def _spool_fds(gw, spool):
        found = []
        for pid in gw.worker_pids():
            fddir = "/proc/%d/fd" % pid
            try:
                for fd in os.listdir(fddir):
                    try:
                        target = os.readlink(os.path.join(fddir, fd))
                    except OSError:
                        continue
                    if target.startswith(spool):
                        found.append((target, stat.S_IMODE(os.stat(os.path.join(fddir, fd)).st_mode)))
            except OSError:
                continue
        return found


class TestSupervision(unittest.TestCase):
    def test_killed_worker_is_logged_and_replaced(self):
        gw = new_gateway("supervise")
        try:
            before = gw.worker_pids()
            self.assertEqual(len(before), 2)
            victim = before[0]
            t0 = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            after = harness.wait_for(lambda: (lambda p: p if len(p) == 2 and victim not in p
                                              else None)(gw.worker_pids()), 5,
                                     what="replacement worker")
            replaced_ms = (time.monotonic() - t0) * 1000
            print("    worker replaced after %.0f ms" % replaced_ms)
            self.assertNotIn(victim, after)
            err = gw.wait_log("error", r"Error recovery: restarting service\.\.\.")
            text = gw.log_text("error")
            self.assertRegex(text, r"###ERROR### main:quit_signal:child\(\d+\) stopped\. "
                                   r"\(sig=17\[SIGCHLD\], si_code=2\[CLD_KILLED\], "
                                   r"status=9\[SIGKILL\].*pid=%d\)" % victim)
            self.assertTrue(err)
            self.assertEqual(fetch(gw.proxy, ENV["nginx"].url("clean_23k.bin")), "200")
        finally:
            gw.stop()

    def test_other_connections_survive_a_worker_kill(self):
        gw = new_gateway("survive", common={"workers": "2"})
        try:
            results = []
            stop = threading.Event()

            def load():
                for _ in range(200):
                    if stop.is_set():
                        return
                    results.append(fetch(gw.proxy, ENV["nginx"].url("clean_23k.bin"), 20))

            t = threading.Thread(target=load)
            t.start()
            harness.wait_for(lambda: len(results) >= 5, 30, what="first requests")
            os.kill(gw.worker_pids()[0], signal.SIGKILL)
            n = len(results)
            harness.wait_for(lambda: len(results) >= n + 20, 60, what="requests after the kill")
            stop.set()
            t.join(60)
            # At most the requests in flight in the killed worker fail.
            self.assertGreaterEqual(results[n:].count("200"), len(results[n:]) - 1)
        finally:
            gw.stop()


class TestSignals(unittest.TestCase):
    def test_sigterm_lets_a_100mb_download_finish(self):
        gw = new_gateway("sigterm")
        out = os.path.join(ENV["wd"].path, "sigterm.out")
        result = {}

        def download():
            r = subprocess.run(["curl", "-s", "-x", gw.proxy, "-o", out, "-w", "%{http_code}",
                                "--max-time", "300", ENV["nginx"].url("slow/big100m.bin")],
                               capture_output=True, text=True, timeout=320)
            result["code"] = r.stdout

        t = threading.Thread(target=download)
        t.start()
        # Wait until the transfer is in flight (the proxy is spooling it).
        harness.wait_for(lambda: TestPrivileges._spool_fds(gw, os.path.join(gw.prefix, "tmp/spool"))
                         or os.path.exists(out) and os.path.getsize(out) > 0, 30,
                         what="download in flight")
        gw.proc.send(signal.SIGTERM)
        # New connections are refused while the old one finishes.
        harness.wait_for(lambda: not harness.port_open(gw.port), 10, what="listener closed")
        t.join(300)
        self.assertEqual(result.get("code"), "200")
        with open(out, "rb") as a, open(ENV["big"], "rb") as b:
            self.assertTrue(a.read() == b.read(), "download complete and identical")
        self.assertEqual(gw.proc.proc.wait(60), 0)
        os.unlink(out)

    def test_sighup_refuses_a_bad_edit_and_applies_a_good_one(self):
        gw = new_gateway("sighup")
        try:
            eicar = ENV["nginx"].url("eicar.com")
            self.assertEqual(fetch(gw.proxy, eicar), "403")
            good = open(gw.ini).read()
            # A bad edit: the service keeps running with the old configuration.
            with open(gw.ini, "w") as f:
                f.write(good.replace("action=delete", "action=explode"))
            gw.proc.send(signal.SIGHUP)
            gw.wait_log("error", r"main:reload: configuration .* refused")
            gw.wait_log("error", r"main:reload: .*sekisho\.ini:\d+: .*action")
            self.assertTrue(gw.proc.alive())
            self.assertEqual(fetch(gw.proxy, eicar), "403")
            # A good edit is applied without a restart.
            with open(gw.ini, "w") as f:
                f.write(good.replace("action=delete", "action=pass"))
            gw.proc.send(signal.SIGHUP)
            gw.wait_log("info", r"configuration reloaded")
            harness.wait_for(lambda: fetch(gw.proxy, eicar) == "200", 10,
                             what="new configuration in force")
        finally:
            gw.stop()


class TestPreSpawn(unittest.TestCase):
    def test_pre_spawn_caps_sessions_with_the_documented_warning(self):
        gw = new_gateway("prespawn", section={"pre_spawn": "2"})
        try:
            # Two idle connections take both session slots.
            held = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(2)]
            gw.wait_log("error", r"Maximum connections: warning: Client connections reached "
                                 r"maximum connections \(2\) \. More request will be blocked")
            # A third client waits, and is served once a slot frees.
            result = {}
            t = threading.Thread(target=lambda: result.update(
                code=fetch(gw.proxy, ENV["nginx"].url("clean_23k.bin"), 60)))
            t.start()
            time.sleep(0.5 * harness.SLOW)
            self.assertNotIn("code", result, "the third session must wait for a slot")
            held[0].close()
            t.join(60)
            self.assertEqual(result.get("code"), "200")
            held[1].close()
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
