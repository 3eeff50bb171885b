"""The README's run command (dev/run-gateway.sh), driven as the README's
examples drive it: it installs into PREFIX, runs sekisho-scand and every
service switched on in the installed sekisho.ini (HTTP, SMTP, POP and FTP
as shipped), each printing where it listens; curl fetches a page through the
HTTP proxy, swaks sends a mail through the SMTP proxy to its parent
(smtp-sink, set with SMTP_PARENT), curl fetches mail through the POP3 proxy
from a dovecot named in the user name and a file through the FTP proxy from
a vsftpd named the same way (EICAR refused); the web console answers on
ADMINPORT with its login challenge; SIGINT (Ctrl-C) stops everything."""
import os
import re
import signal
import subprocess
import unittest

import harness
from harness import dovecot, ftp_files, mail_fixtures, testfiles
from harness import vsftpd as vs


class TestRunGateway(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("run-gateway")
        www = os.path.join(self.wd.path, "www")
        testfiles.generate(www)
        self.nginx = harness.Nginx(www, self.wd.path)
        self.sink = harness.SmtpSink(self.wd.path)
        self.pop = dovecot.Dovecot(self.wd.path, "run")
        self.pop.set_mailbox("alice", [mail_fixtures.FIXTURES["clean_text"],
                                       mail_fixtures.FIXTURES["eicar"]])
        self.ftp_root = os.path.join(self.wd.path, "ftproot")
        ftp_files.generate(self.ftp_root, ["clean_1k.bin", "eicar.com"])
        self.ftp = vs.Vsftpd(self.wd.path, self.ftp_root, name="run-ftp")
        self.prefix = os.path.join(self.wd.path, "sekisho")
        self.script = None

    def tearDown(self):
        if self.script and self.script.poll() is None:
            self.script.send_signal(signal.SIGTERM)
            try:
                self.script.wait(120 * harness.SLOW)
            except subprocess.TimeoutExpired:
                os.killpg(self.script.pid, signal.SIGKILL)
                self.script.wait(10)
        for pid in harness.processes_under(self.prefix):
            os.kill(pid, signal.SIGKILL)
        self.sink.stop()
        self.pop.stop()
        self.ftp.stop()
        self.nginx.stop()
        self.wd.cleanup()

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def test_readme_run_command(self):
        http_port, smtp_port, pop_port = harness.free_port(), harness.free_port(), harness.free_port()
        ftp_port, admin_port = harness.free_port(), harness.free_port()
        run_env = dict(os.environ, PREFIX=self.prefix,
                       PAMDIR=os.path.join(self.wd.path, "pam.d"),
                       SYSTEMDUNITDIR=os.path.join(self.wd.path, "systemd"),
                       CRONDIR=os.path.join(self.wd.path, "cron.d"),
                       HTTP_SVCPORT="127.0.0.1:%d" % http_port,
                       SMTP_SVCPORT="127.0.0.1:%d" % smtp_port,
                       POP_SVCPORT="127.0.0.1:%d" % pop_port,
                       FTP_SVCPORT="127.0.0.1:%d" % ftp_port,
                       SMTP_PARENT="127.0.0.1:%d" % self.sink.port,
                       ADMINPORT=str(admin_port))
        if harness.SANITIZED:
            run_env["SAN"] = "1"
        self.out_path = os.path.join(self.wd.path, "run-gateway.out")
        with open(self.out_path, "wb") as out:
            self.script = subprocess.Popen(
                ["bash", os.path.join(harness.REPO, "dev", "run-gateway.sh")], env=run_env,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        for svc, port in (("http", http_port), ("smtp", smtp_port), ("pop", pop_port),
                          ("ftp", ftp_port)):
            harness.wait_for(
                lambda: "sekisho_%s: listening on 127.0.0.1:%d" % (svc, port) in self.output()
                or self.script.poll() is not None, 600, 0.2, what="sekisho_%s listening" % svc)
            self.assertIsNone(self.script.poll(), self.output())
            harness.wait_for(lambda: harness.port_open(port), 20, what="port %d" % port)
        self.assertIn("listening on %s/run/sekisho-scand.sock" % self.prefix, self.output())
        # The console: its line, then the login challenge (CLI-6, G-23).
        harness.wait_for(lambda: "sekisho-admin: the web console on http://127.0.0.1:%d/"
                         % admin_port in self.output() or self.script.poll() is not None,
                         60, 0.2, what="the console's line")
        self.assertIsNone(self.script.poll(), self.output())
        head = subprocess.run(["curl", "-s", "-o", "/dev/null", "-D", "-",
                               "http://127.0.0.1:%d/" % admin_port],
                              capture_output=True, text=True, timeout=30).stdout
        self.assertRegex(head, r"^HTTP/1\.1 401")
        self.assertIn('WWW-Authenticate: Digest realm="fsigk"', head)
        # The rc scripts see the services of this run.
        r = subprocess.run([os.path.join(self.prefix, "rc.sekisho_smtp"), "status"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout)

        # README: curl -x http://127.0.0.1:9080 http://example.test/
        page = subprocess.run(["curl", "-s", "-x", "http://127.0.0.1:%d" % http_port,
                               self.nginx.url("clean_23k.bin")], capture_output=True,
                              timeout=60)
        with open(os.path.join(self.wd.path, "www", "clean_23k.bin"), "rb") as f:
            self.assertEqual(page.stdout, f.read())

        # README: swaks --server 127.0.0.1:9025 --to user@example.com --from you@example.org
        sw = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % smtp_port,
                             "--to", "user@example.com", "--from", "you@example.org",
                             "--header", "Subject: through run-gateway"],
                            capture_output=True, text=True, timeout=120)
        self.assertEqual(sw.returncode, 0, sw.stdout + sw.stderr)
        harness.wait_for(lambda: any("Subject: through run-gateway" in m
                                     for m in self.sink.messages()), 20, what="mail at the parent")
        # The shipped configuration is no open relay: another domain is refused.
        sw = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % smtp_port,
                             "--to", "someone@elsewhere.test", "--from", "you@example.org"],
                            capture_output=True, text=True, timeout=120)
        self.assertNotEqual(sw.returncode, 0)
        self.assertRegex(sw.stdout, r"<\*\* +5\d\d")

        # README: curl pop3://alice%40<server>:<password>@127.0.0.1:9110/1 (self_proxy=yes
        # as shipped: the user name names the POP3 server)
        user = "alice%%40127.0.0.1%%3A%d" % self.pop.port
        url = "pop3://%s:alice-pw@127.0.0.1:%d/" % (user, pop_port)
        got = subprocess.run(["curl", "-s", url + "1"], capture_output=True, timeout=60)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, mail_fixtures.FIXTURES["clean_text"])
        got = subprocess.run(["curl", "-s", url + "2"], capture_output=True, timeout=60)
        self.assertIn(b"X-Virus-Status: infected(", got.stdout)
        self.assertNotIn(testfiles.EICAR, got.stdout)

        # README: curl 'ftp://anonymous%40<server>:x@127.0.0.1:9021/<file>' (self_proxy=yes
        # as shipped: the user name names the FTP server)
        user = "anonymous%%40127.0.0.1%%3A%d" % self.ftp.port
        url = "ftp://%s:x@127.0.0.1:%d/" % (user, ftp_port)
        got = subprocess.run(["curl", "-s", url + "clean_1k.bin"], capture_output=True,
                             timeout=60)
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, ftp_files.content("clean_1k.bin"))
        got = subprocess.run(["curl", "-s", url + "eicar.com"], capture_output=True, timeout=60)
        self.assertNotEqual(got.returncode, 0)
        self.assertNotIn(testfiles.EICAR, got.stdout)

        self.assertTrue(harness.processes_under(self.prefix))
        self.script.send_signal(signal.SIGINT)
        self.script.wait(120 * harness.SLOW)
        self.assertEqual(self.script.returncode, 130, self.output())
        self.assertEqual(harness.processes_under(self.prefix), [])
        self.assertFalse(harness.port_open(http_port))
        self.assertFalse(harness.port_open(smtp_port))
        self.assertFalse(harness.port_open(pop_port))
        self.assertFalse(harness.port_open(ftp_port))
        self.assertFalse(harness.port_open(admin_port))
        self.assertRegex(self.output(), re.compile(r"Stopping Sekisho scanning daemon.*\[ OK \]"))
        harness.check_sanitizer_report(self.output(), "run-gateway")


if __name__ == "__main__":
    unittest.main()
