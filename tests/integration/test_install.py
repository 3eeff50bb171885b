"""make install and the rc scripts (INST-2, CLI-1, G-26): an installed prefix
runs scand and the HTTP proxy from the shipped configuration."""
import os
import re
import subprocess
import unittest

import harness
from harness import testfiles


class TestInstall(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("install")
        self.prefix = os.path.join(self.wd.path, "sekisho")
        www = os.path.join(self.wd.path, "www")
        testfiles.generate(www)
        self.nginx = harness.Nginx(www, self.wd.path)

    def tearDown(self):
        for rc in ("rc.sekisho_http", "rc.sekisho_scand"):
            path = os.path.join(self.prefix, rc)
            if os.path.exists(path):
                subprocess.run([path, "stop"], capture_output=True, timeout=120)
        self.nginx.stop()
        self.wd.cleanup()

    def rc(self, name, action):
        return subprocess.run([os.path.join(self.prefix, name), action], capture_output=True,
                              text=True, timeout=120)

    def test_installed_prefix_runs(self):
        san = ["SAN=1"] if harness.SANITIZED else []
        r = subprocess.run(["make", "-s", "-C", harness.REPO, "install", "prefix=" + self.prefix]
                           + san, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Point the shipped configuration at a free port; everything else as shipped.
        ini = os.path.join(self.prefix, "conf", "sekisho.ini")
        port = harness.free_port()
        text = open(ini).read()
        text = re.sub(r"(?m)^svcport=127\.0\.0\.1:9080$", "svcport=127.0.0.1:%d" % port, text)
        self.assertIn("svcport=127.0.0.1:%d" % port, text)
        with open(ini, "w") as f:
            f.write(text)

        self.assertEqual(self.rc("rc.sekisho_scand", "status").returncode, 3)
        r = self.rc("rc.sekisho_scand", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("[ OK ]", r.stdout)
        # scand took its socket from the ini (scand_socket=run/sekisho-scand.sock).
        self.assertTrue(os.path.exists(os.path.join(self.prefix, "run", "sekisho-scand.sock")))

        r = self.rc("rc.sekisho_http", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        harness.wait_for(lambda: harness.port_open(port), 20, what="installed proxy")
        r = self.rc("rc.sekisho_http", "status")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"is running \(pid \d+\)")

        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x",
                              "http://127.0.0.1:%d" % port, self.nginx.url("eicar.com")],
                             capture_output=True, text=True, timeout=60).stdout
        self.assertEqual(out, "403")
        detect = os.path.join(self.prefix, "log", "http", "detect.log")
        harness.wait_for(lambda: os.path.exists(detect) and "eicar.com" in open(detect).read(),
                         10, what="detect.log line")
        conv = subprocess.run([os.path.join(self.prefix, "misc", "logconv"), "--tail", "1",
                               detect], capture_output=True, text=True, timeout=30)
        self.assertRegex(conv.stdout, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d : \d+\.\d{3} ")

        self.assertEqual(self.rc("rc.sekisho_http", "stop").returncode, 0)
        self.assertEqual(self.rc("rc.sekisho_http", "status").returncode, 3)
        self.assertEqual(self.rc("rc.sekisho_scand", "stop").returncode, 0)
        self.assertEqual(self.rc("rc.sekisho_scand", "status").returncode, 3)


if __name__ == "__main__":
    unittest.main()
