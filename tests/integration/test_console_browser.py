"""The web console in a real browser (CLI-6, G-23, AUTH-2, LOG-7, SCAN-12,
INST-2): an installed prefix (make install) runs the services and
sekisho-admin through their rc scripts; Debian's Chromium, driven by
tests/browser/console.mjs (playwright-core), logs in with HTTP Digest and
uses the pages as an administrator would. What is checked is what the
administrator gets: the forced password change and the new password
being the only one accepted (curl --digest too); a setting changed on each
of the five settings pages reaching the ini (its comments kept) and the
restarted service (an EICAR download passes once virus_check=no; a moved
POP/FTP port; the host name in the SMTP greeting); refused values shown
beside their field with the ini untouched byte for byte; the Japanese
pages; the detection log; a quarantined mail released to the parent; the
session timeout and the CSRF token. Every page in both languages is
screenshot (kept in $SEKISHO_ARTIFACTS/console/ or
tests/integration/artifacts/console/), its HTML checked by vnu (no
errors), axe-core run in it (no violations), and the keyboard path (skip
link, menu, first field) followed.

One installation and one browser per class; the only sleep is the session
timeout's.

Not run under ASan+UBSan: what this module adds is the browser's view (the
pages as Chromium renders them, HTML validity, accessibility, screenshots)
and it takes a minute and a half of the 20-minute test command. The same C
code paths run under the sanitizers in test_console_http, test_console_lists,
test_console_definitions and test_console_tls."""
import difflib
import hashlib
import json
import os
import re
import select
import shutil
import smtplib
import socket
import subprocess
import time
import unittest

import harness
from harness import mail_fixtures, testfiles
from harness.digest import DigestClient, parse_challenge
from harness.install import Installation

BROWSER_DIR = os.path.join(harness.REPO, "tests", "browser")
CONSOLE_MJS = os.path.join(BROWSER_DIR, "console.mjs")
VNU_JAR = os.path.join(BROWSER_DIR, "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
NEW_PASSWORD = "Kanmon-2026!"
PAGES = ("/", "/settings/http", "/settings/smtp", "/settings/pop", "/settings/ftp",
         "/settings/common", "/lists/hosts", "/lists/templates", "/lists/spam", "/lists/users",
         "/lists/nat", "/definitions", "/logs", "/quarantine", "/account/password",
         "/account/diag", "/account/version")
SAVE = "main form .actions button[type=submit]"


def artifacts_dir():
    base = os.environ.get("SEKISHO_ARTIFACTS") or os.path.join(harness.REPO, "tests",
                                                                "integration", "artifacts")
    return os.path.join(base, "console")


class Browser:
    """console.mjs as a child: one Chromium for the class, one JSON
    scenario per line in, one result per line out."""

    def __init__(self, log_path):
        if not os.path.exists(os.path.join(BROWSER_DIR, "node_modules", "playwright-core")):
            raise RuntimeError("tests/browser/node_modules is missing: run "
                               "dev/install-deps.sh test (npm ci --prefix tests/browser)")
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(["node", CONSOLE_MJS], cwd=BROWSER_DIR, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log)

    def run(self, base, steps, context="main", credentials=None, timeout=120):
        """The result of each step; a step that failed fails the test."""
        sc = {"context": context, "base": base, "dir": artifacts_dir(), "steps": steps}
        if credentials:
            sc["credentials"] = {"username": credentials[0], "password": credentials[1]}
        self.proc.stdin.write(json.dumps(sc) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout * harness.SLOW)
        if not ready:
            raise TimeoutError("console.mjs gave no result in %d s" % timeout)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("console.mjs ended (see %s)" % self.log.name)
        r = json.loads(line)
        if not r["ok"]:
            raise AssertionError("browser step %s failed: %s (steps done: %s)"
                                 % (steps[r["step"]] if r["step"] >= 0 else "setup",
                                    r["error"], r["steps"]))
        return r["steps"]

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()


def ha1(user, password):
    return hashlib.md5(("%s:fsigk:%s" % (user, password)).encode()).hexdigest()


def curl_status(url, user, password):
    """The status curl --digest gets: a new login of its own."""
    return subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest",
                           "-u", "%s:%s" % (user, password), url], capture_output=True,
                          text=True, timeout=60).stdout


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def smtp_greeting(port):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        return harness.recv_until(s, b"\r\n").decode("utf-8", "replace")


@unittest.skipIf(harness.SANITIZED, "the browser's view: the sanitizers run the console's "
                 "code in test_console_http/_lists/_definitions/_tls")
class ConsoleCase(unittest.TestCase):
    """An installation (HTTP origin nginx, SMTP parent smtp-sink) with its
    console on a free port, and the browser."""

    SERVICES = ("scand", "http", "smtp", "pop", "ftp", "admin")

    @classmethod
    def setUpClass(cls):
        cls.wd = harness.Workdir("console")
        cls.inst = cls.browser = cls.nginx = cls.sink = None
        try:
            www = os.path.join(cls.wd.path, "www")
            testfiles.generate(www)
            cls.eicar = read_bytes(os.path.join(www, "eicar.com"))
            cls.nginx = harness.Nginx(www, cls.wd.path)
            cls.sink = harness.SmtpSink(cls.wd.path)
            # Installation checks with a TestCase's asserts, here outside a test.
            cls.inst = Installation(unittest.TestCase(), os.path.join(cls.wd.path, "sekisho"),
                                    cls.sink.port, pop=True, ftp=True, admin=True)
            cls.inst.start(services=cls.SERVICES)
            cls.url = cls.inst.console_url
            cls.browser = Browser(os.path.join(cls.wd.path, "browser.log"))
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.browser:
            cls.browser.close()
        if cls.inst:
            cls.inst.stop()
        for x in (cls.sink, cls.nginx):
            if x:
                x.stop()
        cls.wd.cleanup()

    def client(self, password=None):
        return DigestClient("127.0.0.1", self.inst.admin_port, "admin",
                            password or self.password)


class TestConsoleFirstLogin(ConsoleCase):
    """admin/admin, the shipped account: every page leads to the password
    page until the password is changed; then only the new one logs in."""

    SERVICES = ("admin",)
    password = "admin"

    def test_forced_password_change(self):
        b = self.browser
        digest_file = os.path.join(self.inst.prefix, "conf", "sekisho.htdigest")
        self.assertIn("admin:fsigk:%s" % ha1("admin", "admin"), open(digest_file).read())
        steps = b.run(self.url, [{"goto": p} for p in PAGES], context="first",
                      credentials=("admin", "admin"))
        for path, st in zip(PAGES, steps):
            with self.subTest(page=path):
                self.assertEqual(st["status"], 200)
                self.assertEqual(st["path"], "/account/password")
                self.assertEqual(st["h1"], "Admin password")
        # A weak new password is refused by the server (the browser itself
        # stops one under 8 characters: minlength) and changes nothing.
        st = b.run(self.url, [{"query": "#pw-new"}], context="first")
        self.assertIn('minlength="8"', st[0]["elements"][0]["html"])
        r = self.client("admin").post_form("/account/password", {
            "current": "admin", "new": "admin", "again": "admin"})
        self.assertEqual(r.status, 200)
        self.assertIn('<div class="notice error" role="alert">', r.text)
        self.assertIn("admin:fsigk:%s" % ha1("admin", "admin"), open(digest_file).read())

        st = b.run(self.url, [{"fill": ["#pw-current", "admin"]},
                              {"fill": ["#pw-new", NEW_PASSWORD]},
                              {"fill": ["#pw-again", NEW_PASSWORD]},
                              {"click": "main form button[type=submit]"},
                              {"query": ".notice"}], context="first")
        self.assertEqual(st[3]["status"], 200)
        self.assertEqual([e["text"] for e in st[4]["elements"]],
                         ["The password was changed. Your browser will ask for it now."])
        text = open(digest_file).read()
        self.assertIn("admin:fsigk:%s" % ha1("admin", NEW_PASSWORD), text)
        self.assertNotIn(ha1("admin", "admin"), text)

        # The browser that still holds admin/admin is refused from now on.
        st = b.run(self.url, [{"goto": "/"}], context="first")
        self.assertEqual(st[0]["status"], 401)
        self.assertEqual(curl_status(self.url + "/", "admin", "admin"), "401")
        self.assertEqual(curl_status(self.url + "/", "admin", NEW_PASSWORD), "200")
        # With the new one: the pages themselves, no more redirection.
        st = b.run(self.url, [{"goto": "/"}, {"goto": "/settings/http"}], context="second",
                   credentials=("admin", NEW_PASSWORD))
        self.assertEqual((st[0]["status"], st[0]["path"]), (200, "/"))
        self.assertEqual((st[1]["status"], st[1]["path"]), (200, "/settings/http"))
        self.assertEqual(st[1]["h1"], "HTTP")
        audit = harness.read_text(os.path.join(self.inst.prefix, "log", "admin", "audit.log"))
        self.assertIn("password changed", audit)


class TestConsole(ConsoleCase):
    """The console of an installation whose password was changed (by a
    digest client, in setUpClass), every service running."""

    password = NEW_PASSWORD

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            c = DigestClient("127.0.0.1", cls.inst.admin_port, "admin", "admin")
            r = c.post_form("/account/password", {"current": "admin", "new": NEW_PASSWORD,
                                                  "again": NEW_PASSWORD})
            if "The password was changed." not in r.text:
                raise AssertionError("password not changed: %s" % r.text)
            # The browser's context for the class, with the new password.
            cls.browser.run(cls.url, [], credentials=("admin", NEW_PASSWORD))
        except BaseException:
            cls.tearDownClass()
            raise

    def browse(self, steps, context="main"):
        return self.browser.run(self.url, steps, context=context)

    def ini_text(self):
        return read_bytes(self.inst.ini).decode()

    def assert_ini_diff(self, before, after, section, changes):
        """after is before with just the lines of changes (key -> new line)
        replaced or added, in section: every comment and other line kept."""
        diff = [l for l in difflib.ndiff(before.split("\n"), after.split("\n"))
                if l[:1] in "+-"]
        added = [l[2:] for l in diff if l.startswith("+ ")]
        self.assertEqual(sorted(added), sorted("%s=%s" % kv for kv in changes.items()), diff)
        removed = [l[2:] for l in diff if l.startswith("- ")]
        for line in removed:
            self.assertRegex(line, r"^(%s)=" % "|".join(map(re.escape, changes)), diff)
        # each new line is in its section
        current = None
        for line in after.split("\n"):
            m = re.match(r"\[(\w+)\]", line)
            if m:
                current = m.group(1)
            elif line in added:
                self.assertEqual(current, section, line)

    def save_settings(self, page, steps):
        """steps on /settings/<page>, then Save and Restart: the page after."""
        st = self.browse([{"goto": "/settings/" + page}] + steps +
                         [{"click": SAVE}, {"query": ".notice"}])
        self.assertEqual(st[-2]["status"], 200)
        return st[-2], [e["text"] for e in st[-1]["elements"]]

    def restore_ini(self, text, *services):
        """Put the ini back and restart services (a cleanup, without the
        console: a failed test must not leave its setting to the next)."""
        with open(self.inst.ini, "w") as f:
            f.write(text)
        for svc in services:
            r = self.inst.rc(svc, "restart")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    # ---- settings: every section, seen in the ini and in the service ----

    def test_http_virus_check_off_save_and_restart(self):
        url = self.nginx.url("eicar.com")
        self.assertEqual(self.inst.get(url), "403")
        before = self.ini_text()
        self.addCleanup(self.restore_ini, before, "http")
        pid = self.inst.running_pid("http")
        page, notices = self.save_settings("http", [{"check": "input[name=virus_check]"
                                                              "[value=no]"}])
        self.assertEqual(notices, ["Saved.", "Saved; the http service was restarted."])
        self.assert_ini_diff(before, self.ini_text(), "http", {"virus_check": "no"})
        self.assertNotEqual(self.inst.running_pid("http"), pid)
        harness.wait_for(lambda: harness.port_open(self.inst.http_port), 20, what="http proxy")
        got = subprocess.run(["curl", "-s", "-x", "http://127.0.0.1:%d" % self.inst.http_port,
                              url], capture_output=True, timeout=60).stdout
        self.assertEqual(got, self.eicar)
        # The page shows the new value.
        st = self.browse([{"goto": "/settings/http"},
                          {"query": "input[name=virus_check][checked]"}])
        self.assertIn('value="no"', st[1]["elements"][0]["html"])

    def test_pop_and_ftp_port(self):
        before = self.ini_text()
        self.addCleanup(self.restore_ini, before, "pop", "ftp")
        for svc in ("pop", "ftp"):
            with self.subTest(svc=svc):
                old = self.inst.ports()[svc]
                new = harness.free_port()
                pid = self.inst.running_pid(svc)
                text = self.ini_text()
                _, notices = self.save_settings(svc, [{"fill": ["#f-svcport",
                                                                "127.0.0.1:%d" % new]}])
                self.assertEqual(notices[0], "Saved.")
                self.assertIn("the %s service was restarted" % svc, notices[1])
                self.assert_ini_diff(text, self.ini_text(), svc,
                                     {"svcport": "127.0.0.1:%d" % new})
                self.assertNotEqual(self.inst.running_pid(svc), pid)
                harness.wait_for(lambda: harness.port_open(new), 20, what="%s on %d" % (svc, new))
                self.assertFalse(harness.port_open(old))
                banner = smtp_greeting(new)
                self.assertTrue(banner.startswith("+OK" if svc == "pop" else "220"), banner)

    def test_common_hostname_restarts_every_service(self):
        before = self.ini_text()
        self.addCleanup(self.restore_ini, before, "http", "smtp", "pop", "ftp")
        pids = {svc: self.inst.running_pid(svc) for svc in ("http", "smtp", "pop", "ftp")}
        _, notices = self.save_settings("common", [{"fill": ["#f-hostname",
                                                             "console-gw.example"]}])
        self.assertEqual(notices[0], "Saved.")
        for svc in pids:
            self.assertIn("Saved; the %s service was restarted." % svc, notices)
            self.assertNotEqual(self.inst.running_pid(svc), pids[svc])
        self.assert_ini_diff(before, self.ini_text(), "common",
                             {"hostname": "console-gw.example"})
        harness.wait_for(lambda: harness.port_open(self.inst.smtp_port), 20, what="smtp")
        self.assertTrue(smtp_greeting(self.inst.smtp_port).startswith("220 console-gw.example "))

    def test_smtp_quarantine_and_release(self):
        before = self.ini_text()
        self.addCleanup(self.restore_ini, before, "smtp")
        pid = self.inst.running_pid("smtp")
        _, notices = self.save_settings("smtp", [{"check": "input[name=quarantine][value=yes]"}])
        self.assertEqual(notices, ["Saved.", "Saved; the smtp service was restarted."])
        self.assert_ini_diff(before, self.ini_text(), "smtp", {"quarantine": "yes"})
        self.assertNotEqual(self.inst.running_pid("smtp"), pid)
        harness.wait_for(lambda: harness.port_open(self.inst.smtp_port), 20, what="smtp")

        marker = "quarantined-%d" % os.getpid()
        mail = mail_fixtures.with_attachment(marker, "eicar.com", self.eicar)
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, local_hostname="client.test",
                          timeout=60) as c:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                c.sendmail("sender@outside.example", ["user@example.com"], mail)
        self.assertEqual(cm.exception.smtp_code, 554)
        self.assertEqual(self.sink.messages(), [])
        st = self.browse([{"goto": "/quarantine"}, {"query": "main tbody tr"}])
        rows = [r["text"] for r in st[1]["elements"]]
        self.assertEqual(len(rows), 1, rows)
        self.assertIn("smtp", rows[0])
        self.assertIn("Eicar", rows[0])
        st = self.browse([{"click": "button[name=action][value=release]"},
                          {"query": ".notice"}])
        self.assertEqual(st[0]["status"], 200)
        self.assertEqual(len(st[1]["elements"]), 1)
        self.assertIn("ok", st[1]["elements"][0]["html"])
        harness.wait_for(lambda: self.sink.messages(), 30, what="the released mail")
        got = self.sink.messages()
        self.assertEqual(len(got), 1)
        self.assertIn("Subject: %s" % marker, got[0])
        # (smtp-sink writes the mail with LF line ends)
        self.assertIn(mail_fixtures._b64_lines(self.eicar).decode().replace("\r\n", "\n"),
                      got[0])
        # The row says so, and there is no second release.
        st = self.browse([{"goto": "/quarantine"},
                          {"query": "button[name=action][value=release]"}])
        self.assertEqual(st[1]["elements"], [])

    def test_status_page(self):
        """Each running service is shown running (its master's pid from the
        stats file, checked in /proc)."""
        st = self.browse([{"goto": "/"}, {"query": "main tbody th"},
                          {"query": "main tbody td:nth-child(2)"}])
        names = [e["text"] for e in st[1]["elements"]]
        states = [e["text"] for e in st[2]["elements"]]
        self.assertEqual(names, ["http", "smtp", "pop", "ftp"])
        self.assertEqual(states, ["running"] * 4)

    # ---- refused values ----

    def test_refused_values_beside_their_field(self):
        before = read_bytes(self.inst.ini)
        pid = self.inst.running_pid("pop")
        st = self.browse([{"goto": "/settings/pop"}, {"fill": ["#f-svcport", "127.0.0.1:70000"]},
                          {"click": SAVE}, {"query": ".field:has(#f-svcport) .err"},
                          {"query": "#f-svcport"}, {"query": ".err"}, {"query": ".notice"}])
        self.assertEqual(st[2]["status"], 200)
        errs = st[3]["elements"]
        self.assertEqual(len(errs), 1, st[5])
        self.assertIn("70000", errs[0]["text"] + st[4]["elements"][0]["html"])
        self.assertIn('aria-invalid="true"', st[4]["elements"][0]["html"])
        self.assertIn('value="127.0.0.1:70000"', st[4]["elements"][0]["html"])
        self.assertEqual(len(st[5]["elements"]), 1)
        self.assertTrue(st[6]["elements"][0]["text"].startswith("Not saved"))
        self.assertEqual(read_bytes(self.inst.ini), before)
        self.assertEqual(self.inst.running_pid("pop"), pid)

        # A value the form's <select> does not offer, posted by hand.
        c = self.client()
        r = c.post_form("/settings/smtp", {"action": "explode"})
        self.assertEqual(r.status, 200)
        m = re.search(r'<div class="field">(?:(?!<div class="field">).)*id="f-action"'
                      r'(?:(?!<div class="field">).)*', r.text, re.S)
        self.assertTrue(m, r.text)
        self.assertRegex(m.group(0), r'<span class="err" id="f-action-err">[^<]+</span>')
        self.assertEqual(r.text.count('class="err"'), 1)
        self.assertEqual(read_bytes(self.inst.ini), before)

    # ---- language ----

    def test_japanese_and_back(self):
        self.addCleanup(self.browse, [{"goto": "/lang?to=en&back=/"}])
        st = self.browse([{"goto": "/settings/http"}, {"click": "a.lang"},
                          {"query": "a.lang"}, {"goto": "/settings/smtp"}, {"goto": "/logs"},
                          {"query": "nav a[href='/quarantine']"}, {"goto": "/"},
                          {"click": "a.lang"}, {"goto": "/logs"}])
        self.assertEqual(st[1]["path"], "/settings/http")
        self.assertEqual(st[1]["lang"], "ja")
        self.assertEqual(st[1]["title"], "HTTP - Sekisho ウェブコンソール")
        self.assertEqual(st[2]["elements"][0]["text"], "English")
        self.assertEqual((st[3]["lang"], st[4]["lang"]), ("ja", "ja"))
        self.assertEqual(st[4]["h1"], "ログ")
        self.assertEqual(st[5]["elements"][0]["text"], "隔離")
        self.assertEqual((st[6]["lang"], st[6]["h1"]), ("ja", "状態"))
        self.assertEqual((st[7]["path"], st[7]["lang"], st[7]["h1"]), ("/", "en", "Status"))
        self.assertEqual((st[8]["lang"], st[8]["h1"]), ("en", "Logs"))

    # ---- logs ----

    def test_detect_log_shows_eicar(self):
        url = self.nginx.url("eicar.com?console-%d" % os.getpid())
        self.assertEqual(self.inst.get(url), "403")
        detect = os.path.join(self.inst.prefix, "log", "http", "detect.log")
        harness.wait_for(lambda: "console-%d" % os.getpid() in harness.read_text(detect), 10,
                         what="the detection in detect.log")
        st = self.browse([{"goto": "/logs"}, {"select": ["#l-src", "http"]},
                          {"select": ["#l-kind", "detect"]},
                          {"click": "form.log-select button[type=submit]"},
                          {"query": "pre.log"}])
        self.assertEqual(st[3]["status"], 200)
        self.assertIn("svc=http", st[3]["path"])
        self.assertIn("kind=detect", st[3]["path"])
        log = st[4]["elements"][0]["text"]
        line = [l for l in log.split("\n") if "console-%d" % os.getpid() in l]
        self.assertEqual(len(line), 1, log)
        self.assertRegex(line[0], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
        self.assertIn("Eicar", line[0])

    # ---- sessions ----

    def test_session_timeout(self):
        self.inst.admin_conf_set("session_timeout", "10")
        self.addCleanup(self.inst.rc, "admin", "restart")
        self.addCleanup(self.inst.admin_conf_set, "session_timeout", "300")
        r = self.inst.rc("admin", "restart")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        harness.wait_for(lambda: harness.port_open(self.inst.admin_port), 20, what="console")
        before = read_bytes(self.inst.ini)
        c = self.client()
        page = c.get("/settings/http")
        self.assertEqual(page.status, 200)
        token, opaque = page.csrf(), c.challenge["opaque"]
        self.assertTrue(token)
        # Within the timeout the session holds. (libmicrohttpd binds a nonce
        # to its method and URI: the same request again needs no new one.)
        self.assertEqual(c.get("/settings/http", retry=False).status, 200)
        time.sleep(11)
        r = c.get("/settings/http", retry=False)
        self.assertEqual(r.status, 401)
        self.assertNotEqual(parse_challenge(
            r.header("WWW-Authenticate"))["opaque"], opaque)
        # Logged in again: a new session, whose form the old token does not fit.
        r = c.post("/settings/http", {"csrf": token, "virus_check": "no"})
        self.assertEqual(r.status, 403)
        self.assertEqual(read_bytes(self.inst.ini), before)
        self.assertNotEqual(c.get("/settings/http").csrf(), token)

    def test_csrf(self):
        before = read_bytes(self.inst.ini)
        one, two = self.client(), self.client()
        token_one = one.get("/settings/http").csrf()
        token_two = two.get("/settings/http").csrf()
        self.assertNotEqual(token_one, token_two)
        change = {"virus_check": "no"}
        for fields in (change, dict(change, csrf=token_two), dict(change, csrf="0" * 32)):
            with self.subTest(csrf=fields.get("csrf")):
                r = one.post("/settings/http", fields)
                self.assertEqual(r.status, 403)
                self.assertEqual(read_bytes(self.inst.ini), before)
        # Password and quarantine forms likewise.
        r = one.post("/account/password", {"current": NEW_PASSWORD, "new": "Other-pass-1",
                                           "again": "Other-pass-1", "csrf": token_two})
        self.assertEqual(r.status, 403)
        self.assertEqual(curl_status(self.url + "/", "admin", NEW_PASSWORD), "200")
        # The session's own token is accepted (nothing to change here).
        r = one.post("/settings/http", {"csrf": token_one})
        self.assertEqual(r.status, 200)
        self.assertIn("Nothing was changed.", r.text)
        self.assertEqual(read_bytes(self.inst.ini), before)

    def test_second_challenge_keeps_the_session(self):
        """A browser keeps digest credentials per directory: after a first
        page /settings/http, /favicon.ico and /logs are challenged afresh.
        Its answer must not start another session, whose cookie would make
        the form on the screen (this session's token) refused."""
        before = self.ini_text()
        self.addCleanup(self.restore_ini, before, "http")
        c = self.client()
        token = c.get("/settings/http").csrf()
        cookie = dict(c.cookies)
        c.challenge = None  # a request outside the directory: no credentials sent
        r = c.get("/favicon.ico")
        self.assertEqual(r.status, 404)
        self.assertEqual(c.cookies, cookie)
        r = c.post("/settings/http", {"csrf": token, "riskware_check": "yes"})
        self.assertEqual(r.status, 200)
        self.assertIn("Saved.", r.text)
        self.assertIn("\nriskware_check=yes\n", self.ini_text())

    # ---- every page: screenshots, HTML validity, accessibility, keyboard ----

    def test_pages_valid_accessible_in_both_languages(self):
        out = artifacts_dir()
        shutil.rmtree(out, ignore_errors=True)
        self.addCleanup(self.browse, [{"goto": "/lang?to=en&back=/"}])
        files = []
        for lang in ("en", "ja"):
            steps = [{"goto": "/lang?to=%s&back=/" % lang}]
            for path in PAGES:
                name = "%s%s" % (lang, path.replace("/", "_") if path != "/" else "_status")
                steps += [{"goto": path}, {"capture": name}, {"axe": True}]
            st = self.browse(steps)
            for i, path in enumerate(PAGES):
                page, cap, axe = st[1 + 3 * i: 4 + 3 * i]
                with self.subTest(lang=lang, page=path):
                    self.assertEqual((page["status"], page["path"], page["lang"]),
                                     (200, path, lang))
                    self.assertEqual(axe["violations"], [])
                    self.assertGreater(os.path.getsize(cap["image"]), 1000)
                files.append(cap["html"])
            self.check_nat_form(lang)
        vnu = subprocess.run(["java", "-jar", VNU_JAR, "--errors-only"] + files,
                             capture_output=True, text=True, timeout=300)
        self.assertEqual(vnu.returncode, 0, vnu.stdout + vnu.stderr)
        self.assertEqual(vnu.stderr + vnu.stdout, "")

    def check_nat_form(self, lang):
        """The NAT page (TP-2), as its screenshot shows it: the guide's four checkboxes
        enabled, each with its label naming the standard port and the proxy's, and Save."""
        st = self.browse([{"goto": "/lists/nat"}, {"query": "main form input[type=checkbox]"},
                          {"query": "main form label"}, {"query": "main form fieldset, "
                                                                  "main form button"}])
        boxes, labels, rest = st[1]["elements"], st[2]["elements"], st[3]["elements"]
        self.assertEqual([e["id"] for e in boxes], ["nat-http", "nat-smtp", "nat-pop", "nat-ftp"])
        for e in boxes + rest:
            self.assertNotIn("disabled", e["html"], lang)
        word = "redirect" if lang == "en" else "リダイレクト"
        ports = (self.inst.http_port, self.inst.smtp_port)
        self.assertEqual(labels[0]["text"], "HTTP %s (80 → %d)" % (word, ports[0]))
        self.assertEqual(labels[1]["text"], "SMTP %s (25 → %d)" % (word, ports[1]))
        self.assertRegex(labels[2]["text"], r"^POP %s \(110 → \d+\)$" % word)
        self.assertRegex(labels[3]["text"], r"^FTP %s \(21 → \d+\)$" % word)
        self.assertEqual(rest[-1]["text"], "Save" if lang == "en" else "保存")

    def test_keyboard(self):
        st = self.browse([{"goto": "/settings/http"}, {"tab": 40},
                          {"query": "main form input:not([type=hidden]), main form select"}])
        focus = st[1]["focus"]
        first_field = st[2]["elements"][0]
        self.assertEqual(focus[0]["cls"], "skip")
        self.assertEqual(focus[0]["href"], "#main")
        in_nav = [i for i, f in enumerate(focus) if f and f["in_nav"]]
        in_form = [i for i, f in enumerate(focus) if f and f["in_form"]]
        self.assertTrue(in_nav, focus)
        self.assertTrue(in_form, focus)
        self.assertLess(in_nav[0], in_form[0])
        # Every menu entry is reached, in order, before the work area.
        st2 = self.browse([{"query": "nav a"}])
        self.assertEqual([f["href"] for f in focus if f and f["in_nav"]],
                         [re.search(r'href="([^"]+)"', e["html"]).group(1)
                          for e in st2[0]["elements"]])
        first = focus[in_form[0]]
        self.assertIn('name="%s" value="%s"' % (first["name"], first["value"]), first_field["html"])
        # The skip link jumps over the menu: the next Tab is the first field.
        st = self.browse([{"goto": "/settings/http"}, {"tab": 1}, {"press": "Enter"},
                          {"tab": 1}])
        self.assertTrue(st[2]["path"].endswith("#main"), st[2])
        after = st[3]["focus"][0]
        self.assertTrue(after["in_form"], after)
        self.assertEqual((after["name"], after["value"]), (first["name"], first["value"]))


if __name__ == "__main__":
    unittest.main()
