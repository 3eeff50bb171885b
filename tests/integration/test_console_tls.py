"""The web console over HTTPS (issue 16: "HTTPS when a certificate is configured"):
with tls_certificate and tls_key in conf/admin.conf, sekisho-admin speaks TLS only
(libmicrohttpd with GnuTLS), digest login works through it, the session cookie is Secure,
and Strict-Transport-Security is sent; a plain HTTP request gets no page. One of the two
without the other is refused at start with admin.conf:line."""
import os
import re
import subprocess
import unittest

import harness
from harness import install

ENV = {}


def make_install(prefix):
    return install.make_install(prefix, extra=["autoupdate=no"])


def setUpModule():
    wd = harness.Workdir("console-tls")
    ENV["wd"] = wd
    prefix = os.path.join(wd.path, "sekisho")
    r = make_install(prefix)
    if r.returncode != 0:
        raise RuntimeError("make install: " + r.stderr)
    ENV["prefix"] = prefix
    conf = os.path.join(prefix, "conf")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-keyout", os.path.join(conf, "console.key"),
                        "-out", os.path.join(conf, "console.crt")],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("openssl: " + r.stderr)


def tearDownModule():
    ENV["wd"].cleanup()


class TestConsoleTls(unittest.TestCase):
    def setUp(self):
        self.prefix = ENV["prefix"]
        self.conf = os.path.join(self.prefix, "conf", "admin.conf")
        with open(self.conf) as f:
            self.shipped = f.read()
        self.port = harness.free_port()

    def tearDown(self):
        subprocess.run([os.path.join(self.prefix, "rc.sekisho_admin"), "stop"],
                       capture_output=True, timeout=60)
        with open(self.conf, "w") as f:
            f.write(self.shipped)

    def write_conf(self, extra):
        text = re.sub(r"(?m)^adminport=\d+$", "adminport=%d" % self.port, self.shipped)
        with open(self.conf, "w") as f:
            f.write(text + extra)

    def start(self):
        return subprocess.run([os.path.join(self.prefix, "rc.sekisho_admin"), "start"],
                              capture_output=True, text=True, timeout=60 * harness.SLOW)

    def test_https_only(self):
        self.write_conf("tls_certificate=conf/console.crt\ntls_key=conf/console.key\n")
        r = self.start()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        harness.wait_for(lambda: harness.port_open(self.port), 20, what="the console's port")
        url = "https://127.0.0.1:%d/" % self.port
        head = subprocess.run(["curl", "-s", "-k", "-D", "-", "-o", "/dev/null", "--digest",
                               "-u", "admin:admin", url],
                              capture_output=True, text=True, timeout=30).stdout
        # The default password: every page leads to the password form.
        self.assertRegex(head, r"HTTP/1\.1 303")
        self.assertIn("Location: /account/password", head)
        self.assertRegex(head, r"Set-Cookie: sekisho_session=[0-9a-f]+; Path=/; HttpOnly; "
                               r"SameSite=Strict; Secure")
        self.assertIn("Strict-Transport-Security: max-age=", head)
        # The certificate is the one configured.
        v = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                            os.path.join(self.prefix, "conf", "console.crt"), url],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(v.stdout, "401", v.stderr)
        # Plain HTTP gets no page.
        plain = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                "--max-time", "10", "http://127.0.0.1:%d/" % self.port],
                               capture_output=True, text=True, timeout=30)
        self.assertNotIn(plain.stdout, ("200", "401", "303"))

    def test_certificate_without_key_refused(self):
        self.write_conf("tls_certificate=conf/console.crt\n")
        r = self.start()
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stdout + r.stderr, r"admin\.conf:\d+: .*tls_key")
        self.assertFalse(harness.port_open(self.port))


if __name__ == "__main__":
    unittest.main()
