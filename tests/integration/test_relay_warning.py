"""Never an open relay by accident (SMTP-12): an SMTP service started with
acl_rcpt=no, or reloaded from yes to no, warns in info.log and on stderr;
with acl_rcpt=yes it does not."""
import os
import signal
import subprocess
import unittest

import harness

WARNING = ("WARNING: acl_rcpt=no: the SMTP proxy accepts mail for any recipient; a parent "
           "server that trusts the gateway's address relays it to anyone (open relay). Set "
           "acl_rcpt=yes and list your domains in smtp_rcpt (hosts.allow).")

env = {}


def setUpModule():
    env["wd"] = harness.Workdir("relay-warning")
    env["scand"] = harness.Scand(env["wd"].path)
    env["sink"] = harness.SmtpSink(env["wd"].path)


def tearDownModule():
    for key in ("sink", "scand"):
        if key in env:
            env[key].stop()
    if "wd" in env:
        env["wd"].cleanup()


class SmtpService:
    """sekisho --smtp with stdout and stderr kept apart."""

    def __init__(self, name, acl_rcpt, extra_args=()):
        self.dir = os.path.join(env["wd"].path, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.gw = harness.Gateway(self.dir, env["scand"].socket, service="smtp", start=False,
                                  section={"acl_rcpt": acl_rcpt,
                                           "parent_server_host": "127.0.0.1",
                                           "parent_server_port": str(env["sink"].port)},
                                  hosts_allow="smtp_rcpt: example.com\n")
        self.stderr_path = os.path.join(self.dir, "stderr")
        with open(os.path.join(self.dir, "stdout"), "wb") as out, \
                open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [os.path.join(harness.BIN, "sekisho"), "--smtp", "-f", self.gw.ini]
                + list(extra_args), stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        harness.wait_for(lambda: harness.port_open(self.gw.port) or self.proc.poll() is not None,
                         20, what="SMTP proxy listening")
        if self.proc.poll() is not None:
            raise RuntimeError("sekisho exited: " + self.stderr())
        self.gw.wait_log("info", r"accept_loop")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def reload(self, acl_rcpt, generation):
        self.gw.section["acl_rcpt"] = acl_rcpt
        self.gw.write_ini()
        self.proc.send_signal(signal.SIGHUP)
        self.gw.wait_log("info", r"configuration reloaded \(generation %d\)" % generation)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30 * harness.SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        harness.check_sanitizer_report(self.stderr(), "sekisho --smtp")


class TestRelayWarning(unittest.TestCase):
    def service(self, name, acl_rcpt, extra_args=()):
        svc = SmtpService(name, acl_rcpt, extra_args)
        self.addCleanup(svc.stop)
        return svc

    def test_warns_at_start_with_acl_rcpt_no(self):
        svc = self.service("off", "no")
        self.assertEqual(svc.stderr().count(WARNING), 1, svc.stderr())
        self.assertEqual(sum(WARNING in l for l in svc.gw.log_lines("info")), 1)

    def test_verbose_start_warns_once_on_stderr(self):
        # -v mirrors info.log to stderr: the warning must not come twice.
        svc = self.service("verbose", "no", ["-v"])
        self.assertEqual(svc.stderr().count(WARNING), 1, svc.stderr())

    def test_silent_with_acl_rcpt_yes(self):
        svc = self.service("on", "yes")
        self.assertNotIn("acl_rcpt", svc.stderr())
        self.assertFalse([l for l in svc.gw.log_lines("info") if "acl_rcpt" in l])

    def test_reload_that_switches_acl_rcpt_off_warns(self):
        svc = self.service("reload", "yes")
        svc.reload("no", 1)
        self.assertEqual(svc.stderr().count(WARNING), 1, svc.stderr())
        self.assertEqual(sum(WARNING in l for l in svc.gw.log_lines("info")), 1)
        # Still off on the next reload: already said.
        svc.reload("no", 2)
        self.assertEqual(sum(WARNING in l for l in svc.gw.log_lines("info")), 1)
        self.assertEqual(svc.stderr().count(WARNING), 1)


if __name__ == "__main__":
    unittest.main()
