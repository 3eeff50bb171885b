"""pamtester agrees with the proxies (issue 13 acceptance; AUTH-1, AUTH-2,
HTTP-5, SMTP-8): one user database (create_userdb) and one PAM module
(pam_sekisho_userdb.so, the shipped PAM file's) under pam_wrapper, and a
table of users and passwords tried three ways: pamtester
`authenticate`, the HTTP proxy (Proxy-Authorization: Basic, 200 vs 407)
and the SMTP proxy (AUTH PLAIN, 235 vs 535). The three must give the
same answer for every row, and it must be the expected one. Each row
comes from its own loopback address (127.0.3.N) so that the per-address
failure limit of the wrong rows never decides a later row."""
import base64
import os
import smtplib
import subprocess
import unittest

import harness
from harness import pam

ENV = {}
USERS = [("alice", "alice-pw"), ("bob", "two words & $ymbols #@:"),
         ("j\u00fcrgen", "\u30d1\u30b9\u30ef\u30fc\u30c9"), ("u" * 255, "p" * 254 + "!")]
ENTRIES = ["carol@pop.example", "@ftp.example"]
# (user, password, expected): right, wrong, prefix, case, unknown, an
# account entry (never authenticates), empty password.
ROWS = [("alice", "alice-pw", True), ("alice", "alice-pw ", False), ("alice", "alice", False),
        ("Alice", "alice-pw", False), ("bob", "two words & $ymbols #@:", True),
        ("bob", "two words", False), ("j\u00fcrgen", "\u30d1\u30b9\u30ef\u30fc\u30c9", True),
        ("jurgen", "\u30d1\u30b9\u30ef\u30fc\u30c9", False), ("u" * 255, "p" * 254 + "!", True),
        ("mallory", "alice-pw", False), ("carol@pop.example", "", False),
        ("carol@pop.example", "x", False), ("alice", "", False)]


def setUpModule():
    harness.serve_test_files(ENV, "authagree")
    wd = ENV["wd"].path
    ENV["pamd"] = pam.userdb_service_dir(wd, USERS + [(e, "") for e in ENTRIES],
                                         ["sekisho_http", "sekisho_smtp"])
    ENV["sink"] = harness.SmtpSink(wd)
    ENV["http"] = harness.Gateway(os.path.join(wd, "h"), ENV["scand"].socket,
                                  section={"proxyauth_pam_auth": "yes"},
                                  env=pam.pam_env(ENV["pamd"]))
    ENV["smtp"] = harness.Gateway(os.path.join(wd, "s"), ENV["scand"].socket, service="smtp",
                                  section={"proxymail_auth": "yes",
                                           "parent_server_host": "127.0.0.1",
                                           "parent_server_port": str(ENV["sink"].port)},
                                  env=pam.pam_env(ENV["pamd"]))


def tearDownModule():
    for k in ("http", "smtp", "sink"):
        if k in ENV:
            ENV[k].stop()
    harness.stop_all(ENV)


def pamtester(user, password):
    r = subprocess.run(["pamtester", "sekisho_http", user, "authenticate"],
                       input=(password + "\n").encode(), capture_output=True,
                       timeout=60 * harness.SLOW, env=pam.pam_env(ENV["pamd"]))
    return r.returncode == 0


def http(user, password, source):
    cred = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    url = "http://127.0.0.1:%d/clean_23k.bin" % ENV["nginx"].port
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface",
                        source, "-x", ENV["http"].proxy, "-H",
                        "Proxy-Authorization: Basic " + cred, url],
                       capture_output=True, text=True, timeout=60 * harness.SLOW)
    return {"200": True, "407": False}.get(r.stdout, r.stdout)


def smtp(user, password, source):
    c = smtplib.SMTP("127.0.0.1", ENV["smtp"].port, timeout=60 * harness.SLOW,
                     source_address=(source, 0))
    try:
        c.ehlo("agree.test")
        msg = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode()
        code, text = c.docmd("AUTH", "PLAIN " + msg)
        return {235: True, 535: False}.get(code, (code, text))
    finally:
        try:
            c.quit()
        except smtplib.SMTPException:
            pass


class TestPamtesterAgrees(unittest.TestCase):
    def test_auth1_pamtester_http_and_smtp_agree(self):
        for i, (user, password, want) in enumerate(ROWS):
            source = "127.0.3.%d" % (i + 1)
            with self.subTest(user=user[:20], password=password[:20]):
                got = (pamtester(user, password), http(user, password, source),
                       smtp(user, password, source))
                self.assertEqual(got, (want, want, want))


if __name__ == "__main__":
    unittest.main()
