"""An installed prefix for the tests: `make install` into a directory of the
test's own, its services on free loopback ports, started and stopped with
their rc scripts (rc.sekisho<suffix>_<svc>), the web console included
(rc.sekisho<suffix>_admin on admin_port, conf/admin.conf).

Used by test_install.py (the installation itself) and
test_console_browser.py (the console driving the installed services)."""
import os
import re
import smtplib
import subprocess

from . import REPO, SANITIZED, free_port, port_open, wait_for

SERVICES = ("scand", "http", "smtp", "pop", "ftp", "admin")


def make_install(prefix, suffix="", extra=()):
    # pamdir: the PAM service links go next to the prefix, not into the
    # host's /etc/pam.d (test_userdb_pam.py checks them).
    # systemdunitdir, crondir: the hourly definition update likewise.
    parent = os.path.dirname(prefix)
    argv = ["make", "-s", "-C", REPO, "install", "prefix=" + prefix,
            "pamdir=" + os.path.join(parent, "pam.d"),
            "systemdunitdir=" + os.path.join(parent, "systemd"),
            "crondir=" + os.path.join(parent, "cron.d")]
    if suffix:
        argv.append("suffix=" + suffix)
    argv += list(extra)
    if SANITIZED:
        argv.append("SAN=1")
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def ini_set(path, section, key, value):
    """Set key in [section] of an ini file: its line if it has one, else a
    new line right after the section header."""
    with open(path) as f:
        lines = f.read().split("\n")
    current = None
    for i, line in enumerate(lines):
        m = re.match(r"\s*\[(\w+)\]", line)
        if m:
            current = m.group(1).lower()
        elif current == section and re.match(r"\s*%s\s*=" % re.escape(key), line):
            lines[i] = "%s=%s" % (key, value)
            break
    else:
        at = [l.strip().lower() for l in lines].index("[%s]" % section)
        lines.insert(at + 1, "%s=%s" % (key, value))
    with open(path, "w") as f:
        f.write("\n".join(lines))


def conf_set(path, key, value):
    """Set key=value in a key=value file (admin.conf, dbupdate.conf): its
    line, commented out or not, else a new line at the end."""
    with open(path) as f:
        text = f.read()
    line = "%s=%s" % (key, value)
    rx = r"(?m)^#* *%s *=.*$" % re.escape(key)
    if re.search(rx, text):
        text = re.sub(rx, lambda m: line, text, count=1)
    else:
        text += ("" if text.endswith("\n") or not text else "\n") + line + "\n"
    with open(path, "w") as f:
        f.write(text)


class Installation:
    """One `make install` into its own prefix, with its own ports; the SMTP
    proxy hands mail to parent_port. pop and ftp: give those proxies free
    ports too (they are on as shipped, on fixed ports, so a test that may
    start them must ask). admin: the console's port (admin_port, written
    into conf/admin.conf) and console_url."""

    def __init__(self, test, prefix, parent_port, suffix="", pop=False, ftp=False,
                 admin=False):
        self.test = test
        self.prefix = prefix
        self.suffix = suffix
        r = make_install(prefix, suffix)
        test.assertEqual(r.returncode, 0, r.stderr)
        self.ini = os.path.join(prefix, "conf", "sekisho.ini")
        self.admin_conf = os.path.join(prefix, "conf", "admin.conf")
        self.http_port = free_port()
        self.smtp_port = free_port()
        ini_set(self.ini, "http", "svcport", "127.0.0.1:%d" % self.http_port)
        ini_set(self.ini, "smtp", "svcport", "127.0.0.1:%d" % self.smtp_port)
        ini_set(self.ini, "smtp", "parent_server_port", str(parent_port))
        self.pop_port = self.ftp_port = self.admin_port = None
        if pop:
            self.pop_port = free_port()
            ini_set(self.ini, "pop", "svcport", "127.0.0.1:%d" % self.pop_port)
        if ftp:
            self.ftp_port = free_port()
            ini_set(self.ini, "ftp", "svcport", "127.0.0.1:%d" % self.ftp_port)
        if admin:
            self.admin_port = free_port()
            self.admin_conf_set("adminport", str(self.admin_port))

    @property
    def console_url(self):
        return "http://127.0.0.1:%d" % self.admin_port

    def admin_conf_set(self, key, value):
        """key=value in conf/admin.conf (read when the console starts)."""
        conf_set(self.admin_conf, key, value)

    def ports(self):
        """svc -> the port it listens on, for the services given one."""
        out = {"http": self.http_port, "smtp": self.smtp_port, "pop": self.pop_port,
               "ftp": self.ftp_port, "admin": self.admin_port}
        return {k: v for k, v in out.items() if v is not None}

    def rc(self, svc, action):
        path = os.path.join(self.prefix, "rc.sekisho%s_%s" % (self.suffix, svc))
        return subprocess.run([path, action], capture_output=True, text=True, timeout=400)

    def start(self, services=("scand", "http", "smtp")):
        ports = self.ports()
        for svc in services:
            r = self.rc(svc, "start")
            self.test.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.test.assertIn("[ OK ]", r.stdout)
        for svc in services:
            if svc in ports:
                port = ports[svc]
                wait_for(lambda: port_open(port), 20, what="%s on port %d" % (svc, port))

    def stop(self):
        for svc in reversed(SERVICES):
            if os.path.exists(os.path.join(self.prefix, "rc.sekisho%s_%s" % (self.suffix, svc))):
                self.rc(svc, "stop")

    def running_pid(self, svc):
        r = self.rc(svc, "status")
        self.test.assertEqual(r.returncode, 0, r.stdout)
        return int(re.search(r"is running \(pid (\d+)\)", r.stdout).group(1))

    def get(self, url):
        return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x",
                               "http://127.0.0.1:%d" % self.http_port, url],
                              capture_output=True, text=True, timeout=60).stdout

    def mail(self, marker, body=None):
        with smtplib.SMTP("127.0.0.1", self.smtp_port, local_hostname="client.test",
                          timeout=60) as c:
            c.sendmail("sender@example.org", ["user@example.com"],
                       "From: sender@example.org\r\nTo: user@example.com\r\n"
                       "Subject: %s\r\n\r\n%s\r\n" % (marker, body or "body of " + marker))
