"""auth_log (issue 13): where failed authentications are written, in the
form fail2ban's stock postfix[mode=auth] filter reads. The default path
log/<svc>/auth.log is exercised by the protocol modules (test_auth_http,
test_auth_smtp, test_auth_popftp); here the key itself is set: another
file, and a '|command' pipe as for the other logs (CFG-6). The backend is
the product's own: pam_sekisho_userdb.so on a database built by
create_userdb, under pam_wrapper (harness/pam.py)."""
import os
import subprocess
import unittest

import harness
from harness import pam

ENV = {}
LINE_RX = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d sekisho_http\[\d+\]: warning: [^\[]*\[127\.0\.0\.1\]: "
           r"SASL PLAIN authentication failed: authentication failure, user=mallory$")


def setUpModule():
    harness.serve_test_files(ENV, "authkeys")
    ENV["pamd"] = pam.userdb_service_dir(ENV["wd"].path, [("alice", "alice-pw")],
                                         ["sekisho_http"])


def tearDownModule():
    harness.stop_all(ENV)


def curl(gw, cred):
    url = "http://127.0.0.1:%d/clean_23k.bin" % ENV["nginx"].port
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", gw.proxy,
                        "-U", cred, url], capture_output=True, text=True, timeout=60)
    return r.stdout


class AuthLogPath(unittest.TestCase):
    def test_auth_log_elsewhere(self):
        d = os.path.join(ENV["wd"].path, "elsewhere")
        os.makedirs(d, exist_ok=True)
        gw = harness.Gateway(d, ENV["scand"].socket,
                             section={"proxyauth_pam_auth": "yes",
                                      "auth_log": "log/custom/failures.log"},
                             env=pam.pam_env(ENV["pamd"]))
        try:
            self.assertEqual(curl(gw, "mallory:guess"), "407")
            self.assertEqual(curl(gw, "alice:alice-pw"), "200")
            path = os.path.join(gw.prefix, "log", "custom", "failures.log")
            lines = harness.wait_for(lambda: open(path).read().splitlines()
                                     if os.path.exists(path) else None, 10 * harness.SLOW,
                                     what="failures.log")
            self.assertEqual(len(lines), 1, lines)
            self.assertRegex(lines[0], LINE_RX)
            self.assertFalse(os.path.exists(os.path.join(gw.logdir, "auth.log")))
        finally:
            gw.stop()

    def test_auth_log_pipe(self):
        d = os.path.join(ENV["wd"].path, "piped")
        os.makedirs(d, exist_ok=True)
        out = os.path.join(d, "piped.txt")
        gw = harness.Gateway(d, ENV["scand"].socket,
                             section={"proxyauth_pam_auth": "yes",
                                      "auth_log": "|cat >> %s" % out},
                             env=pam.pam_env(ENV["pamd"]))
        try:
            self.assertEqual(curl(gw, "mallory:guess"), "407")
            lines = harness.wait_for(lambda: open(out).read().splitlines()
                                     if os.path.exists(out) and os.path.getsize(out) else None,
                                     10 * harness.SLOW, what="piped auth line")
            self.assertEqual(len(lines), 1, lines)
            self.assertRegex(lines[0], LINE_RX)
        finally:
            gw.stop()
        # fail2ban's stock filter reads the line as written.
        r = subprocess.run(["fail2ban-regex", out, "postfix[mode=auth]"], capture_output=True,
                           text=True, timeout=120)
        self.assertRegex(r.stdout, r"Lines: 1 lines, 0 ignored, 1 matched, 0 missed")
        # ... and bans the client's address: "-o <ip>" prints what it extracted.
        r = subprocess.run(["fail2ban-regex", "-o", "<ip>", out, "postfix[mode=auth]"],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.stdout.split(), ["127.0.0.1"])


if __name__ == "__main__":
    unittest.main()
