"""Skip rules (SCAN-4, SCAN-5): the built-in User-Agent list, pass_user_agent,
acl_pass_to and pass_ext relay the data unscanned and say why in PROXY-STAT."""
import os
import re
import subprocess
import unittest

import harness
from harness import testfiles

ENV = {}


def setUpModule():
    harness.serve_test_files(ENV, "skip")


def tearDownModule():
    harness.stop_all(ENV)


def fetch(gw, path, agent="Mozilla/5.0 (X11; Linux x86_64)"):
    r = subprocess.run(["curl", "-s", "-x", gw.proxy, "-A", agent, "-o", "-", "-w",
                        "\n%{http_code}", ENV["nginx"].url(path)], capture_output=True, timeout=60)
    body, _, code = r.stdout.rpartition(b"\n")
    return int(code), body


class SkipCase(unittest.TestCase):
    section = {}
    hosts_allow = ""

    @classmethod
    def setUpClass(cls):
        wd = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(wd, exist_ok=True)
        cls.gw = harness.Gateway(wd, ENV["scand"].socket, section=cls.section,
                                 hosts_allow=cls.hosts_allow)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def assert_passed_unscanned(self, detail, **kw):
        code, body = fetch(self.gw, "eicar.com", **kw)
        self.assertEqual(code, 200)
        self.assertEqual(body, testfiles.EICAR)
        line = self.gw.wait_log("access", re.escape(ENV["nginx"].url("eicar.com")))[-1]
        self.assertRegex(line, r"PROXY-STAT:http:\d+:\d+:[^:]+:\d+:0:0:%s: " % detail)
        self.assertIn("DETECT-STAT:CLEAN:", line)

    def assert_scanned_and_blocked(self, **kw):
        code, _ = fetch(self.gw, "eicar.com", **kw)
        self.assertEqual(code, 403)


class TestBuiltinUserAgents(SkipCase):
    def test_windows_update_agent_is_never_scanned(self):
        self.assert_passed_unscanned("PASS_USER_AGENT", agent="Windows-Update-Agent/10.0.10011")

    def test_other_agents_are_scanned(self):
        self.assert_scanned_and_blocked(agent="Mozilla/5.0")


class TestPassUserAgent(SkipCase):
    section = {"pass_user_agent": "yes", "pass_user_agent_list": "MyUpdater/,Streamer"}

    def test_listed_prefix_is_not_scanned(self):
        self.assert_passed_unscanned("PASS_USER_AGENT", agent="MyUpdater/3.2")

    def test_prefix_is_case_sensitive(self):
        self.assert_scanned_and_blocked(agent="myupdater/3.2")


class TestPassExt(SkipCase):
    section = {"pass_ext": "yes", "pass_ext_list": ".iso,.COM"}

    def test_listed_extension_is_not_scanned(self):
        self.assert_passed_unscanned("PASS_EXT")

    def test_other_extensions_are_scanned(self):
        code, _ = fetch(self.gw, "eicar.zip")
        self.assertEqual(code, 403)


class TestAclPassTo(SkipCase):
    section = {"acl_pass_to": "yes"}
    hosts_allow = "http_pass_to: 127.0.0.1\n"

    def test_listed_destination_is_not_scanned(self):
        self.assert_passed_unscanned("PASS_TO")


class TestAclPassToOtherHost(SkipCase):
    section = {"acl_pass_to": "yes"}
    hosts_allow = "http_pass_to: 10.1.1.1 .example.com\n"

    def test_unlisted_destination_is_scanned(self):
        self.assert_scanned_and_blocked()


if __name__ == "__main__":
    unittest.main()
