"""The web console's Virus definition database page (CLI-6, 003:2765-2810) in an
installed prefix: it lists the definitions sekisho-scand serves with their age; Update now
runs dbupdate through the console's controller (a custom database fetched from a mirror the
suite runs: nginx on loopback), the page follows its progress and then lists the new
database, which scand serves without a restart; Automatic updates On and Off write and
remove the hourly line in the crondir the prefix was installed with; the update log is
shown; every action is in log/admin/audit.log."""
import os
import re
import subprocess
import time
import unittest

import harness
from harness import install
from harness import clamdb
from harness.digest import DigestClient
from harness.mirror import Mirror

ENV = {}
PASSWORD = "console-defs-pw1"


def make_install(prefix):
    return install.make_install(prefix, extra=["autoupdate=no"])


def rc(prefix, name, action):
    return subprocess.run([os.path.join(prefix, "rc.sekisho_" + name), action],
                          capture_output=True, text=True, timeout=120 * harness.SLOW)


def setUpModule():
    wd = harness.Workdir("console-defs")
    ENV["wd"] = wd
    ENV["mirror"] = Mirror(wd.path)
    prefix = os.path.join(wd.path, "sekisho")
    r = make_install(prefix)
    if r.returncode != 0:
        raise RuntimeError("make install: " + r.stderr)
    ENV["prefix"] = prefix
    port = harness.free_port()
    ENV["port"] = port
    conf = os.path.join(prefix, "conf", "admin.conf")
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(re.sub(r"(?m)^adminport=\d+$", "adminport=%d" % port, text))
    for name in ("scand", "admin"):
        r = rc(prefix, name, "start")
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (name, r.stdout + r.stderr))
    harness.wait_for(lambda: harness.port_open(port), 20, what="the console's port")
    # The default password must go first (every page leads to the form).
    c = DigestClient("127.0.0.1", port, "admin", "admin")
    r = c.post_form("/account/password", {"current": "admin", "new": PASSWORD,
                                           "again": PASSWORD})
    if "The password was changed" not in r.text:
        raise RuntimeError("password change: %d %s" % (r.status, r.text[-500:]))


def tearDownModule():
    prefix = ENV.get("prefix")
    if prefix:
        for name in ("admin", "scand"):
            rc(prefix, name, "stop")
        text = harness.read_text(os.path.join(prefix, "log", "admin", "error.log"))
        harness.check_sanitizer_report(text, "sekisho-admin")
    if "mirror" in ENV:
        ENV["mirror"].stop()
    ENV["wd"].cleanup()


def notices(page):
    return re.findall(r'role="(?:status|alert)">([^<]*)', page.text)


class TestDefinitionsPage(unittest.TestCase):
    def setUp(self):
        self.c = DigestClient("127.0.0.1", ENV["port"], "admin", PASSWORD)
        self.prefix = ENV["prefix"]

    def audit(self):
        return harness.read_text(os.path.join(self.prefix, "log", "admin", "audit.log"))

    def db_rows(self, page):
        return re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>(\d+)</td>", page.text)

    def test_update_now_installs_and_scand_serves(self):
        page = self.c.get("/definitions")
        self.assertEqual(page.status, 200)
        before = dict((n, s) for n, _, s in self.db_rows(page))
        self.assertTrue(before, page.text[-2000:])
        self.assertRegex(page.text, r"libclamav [0-9.]+, \d+ signatures, loaded ")

        tag = "console%d" % int(time.time())
        path = os.path.join(ENV["wd"].path, tag + ".txt")
        clamdb.marker_file(path, tag)
        ENV["mirror"].put(tag + ".ndb", (clamdb.ndb_for(path) + "\n").encode())
        with open(os.path.join(self.prefix, "conf", "dbupdate.conf"), "w") as f:
            f.write("databases=\nmax_attempts=1\nconnect_timeout=5\nreceive_timeout=20\n"
                    "custom_url=%s\n" % ENV["mirror"].url(tag + ".ndb"))

        r = self.c.post_form("/definitions", {"action": "update"})
        self.assertEqual(r.status, 200)
        self.assertIn("The update has started.", notices(r))

        def listed():
            # scand serves the new set before dbupdate writes its result:
            # wait for both.
            p = self.c.get("/definitions")
            return (tag + ".ndb" in [n for n, _, _ in self.db_rows(p)] and
                    any("definitions updated" in n for n in notices(p)) and p)
        page = harness.wait_for(listed, 120 * harness.SLOW, 0.5, what="the new database listed")
        self.assertIn("custom", [v for n, v, _ in self.db_rows(page) if n == tag + ".ndb"])
        self.assertTrue(any("definitions updated: %s.ndb" % tag in n for n in notices(page)),
                        notices(page))
        # The update log, converted as logconv does, newest first.
        self.assertRegex(page.text, r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d : \d+\.\d+ .*update finished: "
                                    r"definitions updated: %s\.ndb" % tag)
        # scand serves it: its own answer to sekisho-scan --version.
        out = subprocess.run([os.path.join(self.prefix, "sekisho-scan"), "--socket",
                              os.path.join(self.prefix, "run", "sekisho-scand.sock"),
                              "--version"], capture_output=True, text=True, timeout=30).stdout
        self.assertIn(tag + ".ndb version=custom", out)
        self.assertIn("manual definition update", self.audit())
        # The status page's summary line.
        self.assertRegex(self.c.get("/").text, r"newest database built \d{4}-")

    def test_automatic_updates_on_and_off(self):
        cron = os.path.join(os.path.dirname(self.prefix), "cron.d", "sekisho-dbupdate")
        self.assertFalse(os.path.exists(cron))
        r = self.c.post_form("/definitions", {"action": "auto-on"})
        self.assertEqual(r.status, 200)
        with open(cron) as f:
            line = [l for l in f if "dbupdate" in l and not l.startswith("#")][0]
        self.assertRegex(line, r"^\d+ \* \* \* \* root cd %s && \./dbupdate --auto" %
                         re.escape(self.prefix))
        self.assertIn('class="state-on"', r.text)
        r = self.c.post_form("/definitions", {"action": "auto-off"})
        self.assertFalse(os.path.exists(cron))
        self.assertIn('class="state-off"', r.text)
        self.assertIn("automatic updates off", self.audit())


if __name__ == "__main__":
    unittest.main()
