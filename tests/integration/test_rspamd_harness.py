"""The rspamd of harness/rspamd.py (issue 14, deliverable 3: the real spam
engine), before the SMTP and POP proxies rely on it.

Python's urllib posts mails DIRECTLY to rspamd's /checkv2, no gateway, with
rspamd's request headers (IP, Helo, From, Rcpt); rspamd resolves through
the unbound of harness/unbound.py, which serves the SPF policy of
spf-fail.example ("v=spf1 ip4:198.51.100.0/24 -all") and NXDOMAIN for
everything else. What each test reads: rspamd's JSON reply (action, score,
symbols) and its log. Covered:
- GTUBE is "reject" (rspamd's pre-filter: is_skipped, symbol GTUBE);
- a mail from spf-fail.example sent from 192.0.2.10 gets R_SPF_FAIL with
  the score the harness configures (7) and the action "add header"; the
  same mail from 198.51.100.7 gets R_SPF_ALLOW and "no action": the
  verdict depends on the IP header and on the policy our resolver served;
- rspamd started offline: the modules that fetch Internet maps are off
  and nothing was fetched from maps.rspamd.com;
- Sekisho's own client (src/proxy/spam_engine.c) against this rspamd: the
  C unit test tests/unit/proxy/test_spam_engine.c runs its real-rspamd
  case with SEKISHO_RSPAMD set (GTUBE -> SPAM reject, a ham -> HAM, the
  SPF failure -> SPAM "add header" naming R_SPF_FAIL, which rspamd only
  finds if the client sent the IP and From headers).
The start-up time is printed (a figure, not a threshold).
"""
import os
import subprocess
import unittest

import harness
from harness import SLOW, Workdir
from harness import rspamd as rs
from harness import unbound

ENV = {}
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SPF_DOMAIN = "spf-fail.example"
SPF_POLICY = "v=spf1 ip4:198.51.100.0/24 -all"
ALLOWED_IP = "198.51.100.7"
FAILING_IP = "192.0.2.10"  # TEST-NET-1: outside the policy, not a local address


def mail(sender, body):
    return ("From: <%s>\r\nTo: <rcpt@dest.example>\r\nSubject: test\r\n"
            "Message-ID: <1@mx.dest.example>\r\nDate: Mon, 7 Dec 2026 07:00:00 +0000\r\n\r\n"
            % sender).encode() + body + b"\r\n"


def envelope(ip, sender):
    return {"IP": ip, "Helo": "mx." + SPF_DOMAIN, "From": sender, "Rcpt": "rcpt@dest.example",
            "Queue-Id": "T1"}


def setUpModule():
    # missing packages are an error, never a skip (dev/install-deps.sh installs them)
    if not rs.available() or unbound.available():
        raise RuntimeError("rspamd or unbound is not installed (dev/install-deps.sh test)")
    wd = ENV["wd"] = Workdir("rspamd")
    try:
        ENV["dns"] = unbound.Unbound(wd.path, zones={SPF_DOMAIN: {"records": [
            ("@", "TXT", SPF_POLICY, 300)]}})
        ENV["rspamd"] = rs.Rspamd(wd.path, dns=ENV["dns"].server)
    except BaseException:
        tearDownModule()
        raise
    print("rspamd started in %.2f s" % ENV["rspamd"].startup_s, flush=True)


def tearDownModule():
    for key in ("rspamd", "dns"):
        if key in ENV:
            ENV.pop(key).stop()
    if "wd" in ENV:
        ENV.pop("wd").cleanup()


class TestRspamdConfiguration(unittest.TestCase):
    """The actions the proxies' spam tests rely on."""

    def post(self, body, headers):
        status, reply = rs.checkv2(ENV["rspamd"].port, body, headers)
        self.assertEqual(status, 200)
        return reply

    def test_gtube_is_reject(self):
        reply = self.post(mail("a@example.org", GTUBE), envelope(ALLOWED_IP, "a@example.org"))
        self.assertEqual(reply["action"], "reject")
        self.assertTrue(reply["is_skipped"])
        self.assertIn("GTUBE", reply["symbols"])
        self.assertEqual(reply["messages"].get("smtp_message"), "Gtube pattern")

    def test_spf_fail_is_add_header(self):
        sender = "a@" + SPF_DOMAIN
        reply = self.post(mail(sender, b"A plain mail."), envelope(FAILING_IP, sender))
        self.assertIn("R_SPF_FAIL", reply["symbols"], sorted(reply["symbols"]))
        self.assertEqual(reply["symbols"]["R_SPF_FAIL"]["score"], 7.0)
        self.assertEqual(reply["symbols"]["R_SPF_FAIL"].get("options"), ["-all"])
        self.assertEqual(reply["action"], "add header")
        self.assertGreaterEqual(reply["score"], 6)
        self.assertLess(reply["score"], 15)
        self.assertEqual(reply["required_score"], 15)

    def test_spf_pass_is_no_action(self):
        sender = "a@" + SPF_DOMAIN
        reply = self.post(mail(sender, b"A plain mail."), envelope(ALLOWED_IP, sender))
        self.assertIn("R_SPF_ALLOW", reply["symbols"], sorted(reply["symbols"]))
        self.assertNotIn("R_SPF_FAIL", reply["symbols"])
        self.assertEqual(reply["action"], "no action")

    def test_unknown_domain_has_no_policy(self):
        # NXDOMAIN from our resolver, at once (no Internet lookup)
        reply = self.post(mail("a@other.example", b"A plain mail."),
                          envelope(FAILING_IP, "a@other.example"))
        self.assertIn("R_SPF_NA", reply["symbols"], sorted(reply["symbols"]))
        self.assertEqual(reply["action"], "no action")

    def test_started_offline(self):
        log = ENV["rspamd"].log()
        for module in ("rbl", "multimap", "phishing", "rspamd_update", "whitelist", "mime_types"):
            self.assertIn("lua module %s is disabled in the configuration" % module, log)
        self.assertIn("internal module fuzzy_check is disabled in the configuration", log)
        self.assertNotIn("maps.rspamd.com", log)
        self.assertNotIn("openphish", log)


class TestSpamEngineClient(unittest.TestCase):
    """src/proxy/spam_engine.c against this rspamd (its unit test's real
    rspamd case, which is only run when SEKISHO_RSPAMD is set)."""

    def test_client_against_real_rspamd(self):
        binary = os.path.join(harness.BUILD, "tests", "proxy", "test_spam_engine")
        self.assertTrue(os.access(binary, os.X_OK), "build the unit tests first: " + binary)
        env = dict(os.environ, SEKISHO_RSPAMD=ENV["rspamd"].address,
                   SEKISHO_RSPAMD_SPF_FAIL="%s a@%s" % (FAILING_IP, SPF_DOMAIN),
                   CMOCKA_MESSAGE_OUTPUT="TAP")
        out = subprocess.run([binary], env=env, cwd=harness.REPO, capture_output=True,
                             text=True, timeout=120 * SLOW)
        text = out.stdout + out.stderr
        self.assertEqual(out.returncode, 0, text)
        lines = [l for l in text.splitlines() if "test_real_rspamd" in l]
        self.assertTrue(lines and lines[0].startswith("ok ") and "SKIP" not in lines[0], text)
        self.assertIn("# real rspamd SPF failure: SEKISHO/SPAM_ENGINE/add_header/", text)
        self.assertRegex(text, r"SPAM_ENGINE/add_header/\d+\.\d\d/R_SPF_FAIL")


if __name__ == "__main__":
    unittest.main()
