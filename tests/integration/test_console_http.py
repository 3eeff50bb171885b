"""The web console (sekisho-admin, issue 16: CLI-6, G-23, AUTH-2, LOG-7,
INST-2) at the HTTP level, against a hostile world.

One `make install` for the module (rc scripts, the shipped sekisho.ini and
sekisho.htdigest), the console started by rc.sekisho_admin as root, scand
and the HTTP proxy by their rc scripts, nginx as the origin. Clients: curl
--digest, Python's urllib digest handler, harness.digest.DigestClient (a
browser-like client) and raw sockets; each test class talks from loopback
source addresses of its own (127.0.0.x), since the console counts failed
logins per address.

Covered, and why:
- Digest login guards every page (401 with realm fsigk, qop and opaque),
  only the style sheet is open, a wrong password is a 401 and an audit
  line, login_failures_max failures in a row give 429 with Retry-After,
  even with the right password, until login_pause passes: a console
  password must not be guessable at network speed.
- The default admin/admin forces a password change (303 everywhere); the
  change through the form rewrites sekisho.htdigest (a new HA1 of realm
  fsigk, mode and owner kept); the old password is refused after it.
- CSRF: a POST without the session's token or cookie changes nothing
  (403, files identical byte for byte, an audit line).
- session_timeout: an idle session is challenged again with a new opaque;
  the old CSRF token is dead after the new login.
- Security headers on every answer, cookies HttpOnly and SameSite=Strict.
- Settings saved through the form keep every other line of the ini
  (comments, unknown keys), restart the service (a new pid); a refused
  value shows its reason and leaves the file alone.
- /metrics: token or allowed address, else 403; OpenMetrics text a real
  parser accepts, counting the requests this module sends.
- Hostile clients: oversized headers, huge bodies, malformed
  Authorization headers, path traversal in every parameter that names a
  file, idle (slowloris) and very many connections: refused or closed,
  never a crash (the web process keeps its pid), others served meanwhile.
- The web process runs as run_user without capabilities and cannot write
  anything under conf/; the controller stays root.
"""
import functools
import hashlib
import html.parser
import http.client
import os
import pwd
import re
import select
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import harness
from harness import install
from harness.digest import DigestClient
from harness.install import ini_set
from harness.procinfo import proc_status
from test_svc_stats import parse_metrics

ENV = {}
USER = "admin"
REALM = "fsigk"
PASSWORD = "Console-test-pw1"
TOKEN = "metrics-token-0123456789abcdef"
DEFAULT_HA1 = "7bcff3ad1a9ecdd7cd2f6c1172a074bc"  # admin:fsigk:admin, as shipped
SESSION_TIMEOUT = 10
FAILURES_MAX = 3
LOGIN_PAUSE = 5
IDLE_TIMEOUT = 5  # idle_timeout= in admin.conf (30 as shipped)
PER_IP_MAX = 16  # ADMIN_PER_IP_MAX
CONNECTIONS_MAX = 32  # ADMIN_CONNECTIONS_MAX
TIMEOUT = 30 * harness.SLOW
MARKER = "kept-by-the-console-" + os.urandom(6).hex()

# Every page of the console (docs/internals/admin.md) and a few that are not.
PAGES = ["/", "/settings/http", "/settings/smtp", "/settings/pop", "/settings/ftp",
         "/settings/common", "/lists/hosts", "/lists/templates",
         "/lists/templates?name=template_http", "/lists/spam", "/lists/users", "/lists/nat",
         "/definitions", "/logs", "/logs?svc=audit", "/quarantine", "/account/password",
         "/account/diag", "/account/version", "/logout", "/lang?to=ja", "/no/such/page",
         "/static/", "/static/console.css/../../settings/http"]


def ha1(password, user=USER):
    return hashlib.md5(("%s:%s:%s" % (user, REALM, password)).encode()).hexdigest()


def make_install(prefix, adminport):
    """make install into prefix with the console on adminport and no hourly
    definition update."""
    return install.make_install(prefix, extra=["adminport=%d" % adminport, "lang=en",
                                               "autoupdate=no"])


def conf(name):
    return os.path.join(ENV["prefix"], "conf", name)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def set_password(password):
    """The admin account's line, written in place (mode and owner kept)."""
    with open(conf("sekisho.htdigest"), "w") as f:
        f.write("# the console's accounts\n%s:%s:%s\n" % (USER, REALM, ha1(password)))


def rc(svc, action):
    return subprocess.run([os.path.join(ENV["prefix"], "rc.sekisho_" + svc), action],
                          capture_output=True, text=True, timeout=120 * harness.SLOW)


def running_pid(svc):
    r = rc(svc, "status")
    m = re.search(r"is running \(pid (\d+)\)", r.stdout)
    return int(m.group(1)) if m else None


def controller_pid():
    with open(os.path.join(ENV["prefix"], "run", "sekisho-admin.pid")) as f:
        return int(f.read().strip())


def web_pid():
    """The web process: the controller's sekisho-admin child."""
    ctl = controller_pid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == ctl and comm.startswith("sekisho-admin"):
            return int(entry)
    return None


def audit_text():
    return harness.read_text(os.path.join(ENV["prefix"], "log", "admin", "audit.log"))


def wait_audit(test, pattern, start=0):
    """The audit log's text after offset start, once it matches pattern."""
    harness.wait_for(lambda: re.search(pattern, audit_text()[start:]), 10,
                     what="audit line %r" % pattern)
    return audit_text()[start:]


def client(source, password=PASSWORD):
    return DigestClient("127.0.0.1", ENV["port"], USER, password, timeout=TIMEOUT,
                        source=source)


def plain(method, path, source, headers=None, body=None):
    """One request without any credentials (harness.digest.Response)."""
    c = DigestClient("127.0.0.1", ENV["port"], USER, "", timeout=TIMEOUT, source=source)
    return c.request(method, path, body=body, headers=headers or {}, retry=False)


def raw_exchange(source, data, timeout=10):
    """Send bytes on a fresh connection from source, then read until the
    console closes it or timeout passes; what came back (b"" for a close
    without an answer). The console may close while we still send."""
    s = socket.socket()
    s.settimeout(timeout * harness.SLOW)
    s.bind((source, 0))
    s.connect(("127.0.0.1", ENV["port"]))
    got = b""
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            if re.search(rb"\r\n\r\n", got) and b"Content-Length: " in got:
                head, _, body = got.partition(b"\r\n\r\n")
                n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
                if len(body) >= n:
                    break
    except (ConnectionResetError, socket.timeout):
        pass
    finally:
        s.close()
    return got


def status_of(answer):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(m.group(1)) if m else None


class FormFields(html.parser.HTMLParser):
    """What a browser submits for the form whose action is `action`: text,
    hidden and password inputs, checked radios and boxes, each select's
    selected option (else its first), textareas."""

    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields = []
        self.select = None
        self.option = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
            return
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "reset", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self.select = {"name": name, "first": None, "selected": None}
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
        elif tag == "textarea" and name:
            self.textarea = [name, ""]

    def handle_data(self, data):
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option" and self.option is not None:
            o, self.option = self.option, None
            value = o["value"] if o["value"] is not None else o["text"]
            if self.select["first"] is None:
                self.select["first"] = value
            if o["selected"]:
                self.select["selected"] = value
        elif tag == "select" and self.select is not None:
            s, self.select = self.select, None
            value = s["selected"] if s["selected"] is not None else s["first"]
            if value is not None:
                self.fields.append((s["name"], value))
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append(tuple(self.textarea))
            self.textarea = None


def form_fields(page, action):
    p = FormFields(action)
    p.feed(page.text)
    return p.fields


def setUpModule():
    wd = harness.Workdir("console-http")
    ENV["wd"] = wd
    prefix = ENV["prefix"] = os.path.join(wd.path, "sekisho")
    ENV["port"] = harness.free_port()
    r = make_install(prefix, ENV["port"])
    if r.returncode != 0:
        wd.cleanup()
        raise AssertionError("make install: %s" % r.stderr)
    ini = ENV["ini"] = conf("sekisho.ini")
    ENV["http_port"] = harness.free_port()
    ini_set(ini, "http", "svcport", "127.0.0.1:%d" % ENV["http_port"])
    ini_set(ini, "http", "pre_spawn", "4")
    # An administrator's own lines: a comment and a key this version does
    # not know (the loader warns and goes on); the console must keep both.
    ini_set(ini, "http", "x_site_note", MARKER)
    with open(ini) as f:
        text = f.read()
    with open(ini, "w") as f:
        f.write(text.replace("[http]\n", "[http]\n# site comment: %s\n" % MARKER, 1))
    with open(conf("admin.conf"), "a") as f:
        f.write("session_timeout=%d\nlogin_failures_max=%d\nlogin_pause=%d\n"
                "metrics_token=%s\nmetrics_allow=127.0.0.1\nidle_timeout=%d\n"
                % (SESSION_TIMEOUT, FAILURES_MAX, LOGIN_PAUSE, TOKEN, IDLE_TIMEOUT))
    www = os.path.join(wd.path, "www")
    os.makedirs(www)
    with open(os.path.join(www, "clean.txt"), "w") as f:
        f.write("clean content\n" * 100)
    ENV["nginx"] = harness.Nginx(www, wd.path)
    for svc in ("scand", "http", "admin"):
        r = rc(svc, "start")
        if r.returncode != 0 or "[ OK ]" not in r.stdout:
            tearDownModule()
            raise AssertionError("rc.sekisho_%s start: %s%s" % (svc, r.stdout, r.stderr))
    harness.wait_for(lambda: harness.port_open(ENV["port"]), 20, what="the console's port")
    harness.wait_for(lambda: harness.port_open(ENV["http_port"]), 20, what="the HTTP proxy")
    set_password(PASSWORD)


def tearDownModule():
    if "prefix" in ENV:
        for svc in ("admin", "http", "scand"):
            rc(svc, "stop")
        for name in ("error.log",):
            harness.check_sanitizer_report(
                harness.read_text(os.path.join(ENV["prefix"], "log", "admin", name)), "console")
    if "nginx" in ENV:
        ENV["nginx"].stop()
    ENV["wd"].cleanup()


class ConsoleCase(unittest.TestCase):
    def assert_served(self, source="127.0.0.2"):
        """The console still answers a logged-in client (and the web
        process is the one we knew: no crash, no restart)."""
        r = client(source).get("/account/version")
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("libmicrohttpd", r.text)

    def assert_security_headers(self, r, what):
        csp = r.header("Content-Security-Policy")
        self.assertIsNotNone(csp, what)
        self.assertIn("default-src 'self'", csp, what)
        self.assertNotIn("unsafe-inline", csp, what)
        self.assertNotIn("unsafe-eval", csp, what)
        self.assertIn("frame-ancestors 'none'", csp, what)
        self.assertEqual(r.header("X-Frame-Options"), "DENY", what)
        self.assertEqual(r.header("X-Content-Type-Options"), "nosniff", what)
        self.assertEqual(r.header("Cache-Control"), "no-store", what)


class Authentication(ConsoleCase):
    """Digest login (G-23) and the failed-login limiter (AUTH-2)."""

    def test_every_page_needs_a_login(self):
        ini = read_bytes(ENV["ini"])
        for path in PAGES:
            for method in ("GET", "POST"):
                body = b"csrf=x&keepalive_timeout=99" if method == "POST" else None
                hdrs = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
                with self.subTest(path=path, method=method):
                    r = plain(method, path, "127.0.0.2", hdrs, body)
                    self.assertEqual(r.status, 401, r.text)
                    www = r.header("WWW-Authenticate")
                    self.assertRegex(www, r'^Digest realm="fsigk"')
                    self.assertRegex(www, r'qop="auth"')
                    self.assertRegex(www, r'opaque="[0-9a-f]{32}"')
                    self.assertRegex(www, r'nonce="[0-9a-f]+"')
                    # the challenge page has no menu nor any page content
                    self.assertNotIn('href="/settings/http"', r.text)
                    self.assertIsNone(r.header("Set-Cookie"))
                    self.assert_security_headers(r, path)
        self.assertEqual(read_bytes(ENV["ini"]), ini)
        # /metrics without the token from an address not in metrics_allow
        r = plain("GET", "/metrics", "127.0.0.3")
        self.assertEqual(r.status, 403)
        self.assertNotIn("sekisho_requests", r.text)
        # the style sheet is the only open path
        r = plain("GET", "/static/console.css", "127.0.0.2")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "text/css; charset=utf-8")
        self.assertIn(".menu", r.text)
        self.assertEqual(plain("POST", "/static/console.css", "127.0.0.2").status, 405)

    def curl(self, source, password, path="/"):
        p = subprocess.run(["curl", "-sS", "--digest", "-u", "%s:%s" % (USER, password),
                            "--interface", source, "--max-time", str(TIMEOUT),
                            "-o", "-", "-w", "\n%{http_code}",
                            "http://127.0.0.1:%d%s" % (ENV["port"], path)],
                           capture_output=True, text=True, timeout=TIMEOUT + 10)
        body, _, code = p.stdout.rpartition("\n")
        return int(code), body

    def test_curl_digest(self):
        code, body = self.curl("127.0.0.4", PASSWORD, "/settings/http")
        self.assertEqual(code, 200, body)
        self.assertIn("Logged in as admin", body)
        self.assertIn('name="keepalive_timeout"', body)
        start = len(audit_text())
        code, body = self.curl("127.0.0.4", "wrong-password")
        self.assertEqual(code, 401)
        self.assertNotIn("Logged in as", body)
        log = wait_audit(self, r"127\.0\.0\.4.*user admin: login failed \(wrong password\)", start)
        # an unknown user is the same 401 and a line of its own
        p = subprocess.run(["curl", "-sS", "--digest", "-u", "nobody-here:x", "--interface",
                            "127.0.0.4", "-o", "/dev/null", "-w", "%{http_code}",
                            "http://127.0.0.1:%d/" % ENV["port"]],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(p.stdout, "401")
        log = wait_audit(self, r"user nobody-here: login failed \(unknown user\)", start)
        self.assertNotIn("wrong-password", log)  # never the password itself
        # the right password again: the series is over
        code, _ = self.curl("127.0.0.4", PASSWORD)
        self.assertEqual(code, 200)

    def test_urllib_digest(self):
        class Md5Handler(urllib.request.HTTPDigestAuthHandler):
            # libmicrohttpd 0.9.75 writes algorithm=md5; urllib compares the
            # name case-sensitively where curl and browsers do not.
            def get_algorithm_impls(self, algorithm):
                return super().get_algorithm_impls(algorithm.upper())

        class FromSource(urllib.request.HTTPHandler):
            def __init__(self, source):
                super().__init__()
                self.source = source

            def http_open(self, req):
                return self.do_open(functools.partial(http.client.HTTPConnection,
                                                      source_address=(self.source, 0)), req)

        def opener(password, source):
            pm = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            pm.add_password(None, "http://127.0.0.1:%d/" % ENV["port"], USER, password)
            return urllib.request.build_opener(Md5Handler(pm), FromSource(source))

        with opener(PASSWORD, "127.0.0.7").open("http://127.0.0.1:%d/account/version" % ENV["port"],
                                   timeout=TIMEOUT) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"libmicrohttpd", r.read())
        # urllib answers each new challenge again, up to 6 times: 401s
        # until login_failures_max, then the pause's 429
        with self.assertRaises(urllib.error.HTTPError) as e:
            opener("not-the-password", "127.0.0.8").open(
                "http://127.0.0.1:%d/" % ENV["port"], timeout=TIMEOUT)
        self.assertIn(e.exception.code, (401, 429))
        self.assertRegex(audit_text(), r"127\.0\.0\.8.*login failed \(wrong password\)")

    def test_failed_logins_pause_the_address(self):
        src = "127.0.0.5"
        start = len(audit_text())
        for i in range(FAILURES_MAX):
            r = client(src, "guess-%d" % i).get("/")
            self.assertEqual(r.status, 401, "failure %d" % (i + 1))
        wait_audit(self, r"127\.0\.0\.5.*login failed \(wrong password\); %d in a row"
                   % FAILURES_MAX, start)
        # now even the right password gets 429 without a check
        good = client(src)
        r = good.get("/")
        self.assertEqual(r.status, 429, r.text)
        retry = int(r.header("Retry-After"))
        self.assertTrue(1 <= retry <= LOGIN_PAUSE, retry)
        self.assertNotIn("Logged in as", r.text)
        self.assert_security_headers(r, "429")
        self.assertEqual(plain("GET", "/settings/http", src).status, 429)
        # another address is not affected
        self.assertEqual(client("127.0.0.6").get("/").status, 200)
        # after login_pause the right password works again
        harness.wait_for(lambda: client(src).get("/").status == 200, LOGIN_PAUSE + 10,
                         interval=0.5, what="the end of login_pause")


class ForcedPasswordChange(ConsoleCase):
    """With the shipped admin/admin every page leads to the password page;
    the change goes through the controller into sekisho.htdigest."""

    def setUp(self):
        path = conf("sekisho.htdigest")
        with open(path, "w") as f:
            f.write("# shipped\nadmin:fsigk:%s\nother:fsigk:%s\n"
                    % (DEFAULT_HA1, ha1("other-pw", "other")))
        self.addCleanup(set_password, PASSWORD)
        self.st = os.stat(path)

    def test_change_forced_then_done(self):
        old = client("127.0.0.10", "admin")
        for path in ("/", "/settings/http", "/logs", "/quarantine", "/definitions"):
            r = old.get(path)
            self.assertEqual(r.status, 303, path)
            self.assertEqual(r.header("Location"), "/account/password", path)
        page = old.get("/account/password")
        self.assertEqual(page.status, 200)
        self.assertIn("still the default", page.text)
        token = page.csrf()
        self.assertRegex(token, r"^[0-9a-f]{32}$")
        # a weak one and a mismatch are refused, the file untouched
        before = read_bytes(conf("sekisho.htdigest"))
        for new, again in (("short", "short"), ("admin", "admin"),
                           ("New-pw-12345", "New-pw-54321")):
            r = old.post("/account/password", {"csrf": token, "current": "admin", "new": new,
                                               "again": again})
            self.assertEqual(r.status, 200)
            self.assertIn('class="notice error"', r.text)
            self.assertEqual(read_bytes(conf("sekisho.htdigest")), before)
        start = len(audit_text())
        r = old.post("/account/password", {"csrf": token, "current": "admin",
                                           "new": "New-pw-12345", "again": "New-pw-12345"})
        self.assertEqual(r.status, 200)
        self.assertIn("The password was changed", r.text)
        wait_audit(self, r"user admin: password changed", start)
        text = read_bytes(conf("sekisho.htdigest")).decode()
        self.assertEqual(text, "# shipped\nadmin:fsigk:%s\nother:fsigk:%s\n"
                         % (ha1("New-pw-12345"), ha1("other-pw", "other")))
        st = os.stat(conf("sekisho.htdigest"))
        self.assertEqual((st.st_mode, st.st_uid, st.st_gid),
                         (self.st.st_mode, self.st.st_uid, self.st.st_gid))
        # the old password is refused (a new address: a fresh count), the
        # new one lets in without any redirect
        self.assertEqual(client("127.0.0.11", "admin").get("/").status, 401)
        r = client("127.0.0.11", "New-pw-12345").get("/settings/http")
        self.assertEqual(r.status, 200)
        self.assertIn('name="keepalive_timeout"', r.text)


class Csrf(ConsoleCase):
    """A POST changes something only with its session's token and cookie."""

    def snapshot(self):
        return {p: read_bytes(p) for p in (ENV["ini"], conf("sekisho.htdigest"))}

    def test_posts_without_the_token_refused(self):
        a = client("127.0.0.12")
        b = client("127.0.0.12")
        token_a = a.get("/account/password").csrf()
        token_b = b.get("/account/password").csrf()
        self.assertNotEqual(token_a, token_b)
        before = self.snapshot()
        pw = {"current": PASSWORD, "new": "Another-pw-123", "again": "Another-pw-123"}
        setting = {"keepalive_timeout": "33"}
        cases = [
            ("no token", a, {}),
            ("a wrong token", a, {"csrf": "0" * 32}),
            ("an empty token", a, {"csrf": ""}),
            ("another session's token", a, {"csrf": token_b}),
        ]
        start = len(audit_text())
        for what, c, extra in cases:
            for uri, fields in (("/account/password", pw), ("/settings/http", setting)):
                with self.subTest(what=what, uri=uri):
                    r = c.post(uri, dict(fields, **extra))
                    self.assertEqual(r.status, 403, r.text)
                    self.assertIn("Nothing was changed", r.text)
                    self.assert_security_headers(r, what)
        # the right token without the session cookie (the answer gives the
        # cookie back, for the next request: a browser that lost it)
        for uri, fields in (("/account/password", pw), ("/settings/http", setting)):
            a.cookies.clear()
            r = a.post(uri, dict(fields, csrf=token_a))
            self.assertEqual(r.status, 403, uri)
        self.assertEqual(self.snapshot(), before)
        log = wait_audit(self, r"refused POST /settings/http: no valid CSRF token", start)
        self.assertEqual(len(re.findall(r"127\.0\.0\.12.*refused POST", log)), 10, log)
        # with token and cookie the same form is taken (here: the current
        # password is wrong, so still nothing written)
        r = b.post("/account/password", {"csrf": token_b, "current": "not-it",
                                         "new": "Another-pw-123", "again": "Another-pw-123"})
        self.assertEqual(r.status, 200)
        self.assertIn("The current password is wrong", r.text)
        self.assertEqual(self.snapshot(), before)


class SessionTimeout(ConsoleCase):
    """session_timeout=10: the idle session ends, its token with it."""

    def test_idle_session_challenged(self):
        c = client("127.0.0.13")
        page = c.get("/account/password")
        self.assertEqual(page.status, 200)
        old_token, old_opaque = page.csrf(), c.challenge["opaque"]
        cookie = c.cookies["sekisho_session"]
        # within the timeout the session goes on (no new cookie); the same
        # URI, since libmicrohttpd 0.9.75 binds a nonce to its URI (another
        # one is answered stale=true, and a browser retries)
        r = c.get("/account/password", retry=False)
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("Set-Cookie"))
        start = len(audit_text())
        time.sleep(SESSION_TIMEOUT + 1)
        r = c.get("/account/password", retry=False)
        self.assertEqual(r.status, 401)
        www = r.header("WWW-Authenticate")
        new_opaque = re.search(r'opaque="([0-9a-f]+)"', www).group(1)
        self.assertNotEqual(new_opaque, old_opaque)
        self.assertNotRegex(www, r"stale=(true|\"true\")")  # the browser asks again
        wait_audit(self, r"127\.0\.0\.13.*session timed out after %d s idle" % SESSION_TIMEOUT,
                   start)
        # a new login: a new session, cookie and token; the old token is dead
        page = c.get("/account/password")
        self.assertEqual(page.status, 200)
        self.assertNotEqual(c.cookies["sekisho_session"], cookie)
        self.assertNotEqual(page.csrf(), old_token)
        before = read_bytes(conf("sekisho.htdigest"))
        r = c.post("/account/password", {"csrf": old_token, "current": PASSWORD,
                                         "new": "Another-pw-123", "again": "Another-pw-123"})
        self.assertEqual(r.status, 403)
        self.assertEqual(read_bytes(conf("sekisho.htdigest")), before)


class Headers(ConsoleCase):
    """Security headers on every kind of answer; cookies."""

    def test_headers_everywhere(self):
        c = client("127.0.0.14")
        answers = {"200 page": c.get("/"), "200 settings": c.get("/settings/http"),
                   "404": c.get("/no/such/page"), "405": c.request("PUT", "/"),
                   "303 lang": c.get("/lang?to=en&back=/logs"),
                   "403 csrf": c.post("/account/password", {"csrf": "bad"}),
                   "401": plain("GET", "/", "127.0.0.14"),
                   "css": plain("GET", "/static/console.css", "127.0.0.14"),
                   "metrics": plain("GET", "/metrics", "127.0.0.1"),
                   "metrics 403": plain("GET", "/metrics", "127.0.0.3")}
        self.assertEqual([answers[k].status for k in ("200 page", "404", "405", "303 lang",
                                                      "403 csrf", "401", "metrics 403")],
                         [200, 404, 405, 303, 403, 401, 403])
        for what, r in answers.items():
            with self.subTest(what):
                self.assert_security_headers(r, what)
        # every cookie: HttpOnly and SameSite=Strict
        fresh = client("127.0.0.14")
        cookies = fresh.get("/").headers_named("Set-Cookie")
        cookies += answers["303 lang"].headers_named("Set-Cookie")
        self.assertEqual(sorted(v.split("=")[0] for v in cookies),
                         ["sekisho_lang", "sekisho_session"])
        for v in cookies:
            attrs = [a.strip().lower() for a in v.split(";")[1:]]
            self.assertIn("httponly", attrs, v)
            self.assertIn("samesite=strict", attrs, v)
            self.assertIn("path=/", attrs, v)
        # no inline script or style in the pages the CSP would block
        for what in ("200 page", "200 settings"):
            self.assertNotRegex(answers[what].text, r"<script|<style|<[^>]*\s(style|on\w+)=")


class Settings(ConsoleCase):
    """Save and Restart on /settings/http, as a browser submits the form."""

    def submit(self, c, changes):
        page = c.get("/settings/http")
        self.assertEqual(page.status, 200)
        # in document order, as a browser sends them
        fields = form_fields(page, "/settings/http")
        names = [k for k, _ in fields]
        self.assertIn("csrf", names)
        self.assertEqual(len(names), len(set(names)), "a name twice in the form")
        self.assertEqual(dict(fields)["keepalive_timeout"], "15")
        for k in changes:
            self.assertIn(k, names)
        return c.post("/settings/http", [(k, changes.get(k, v)) for k, v in fields])

    def test_save_keeps_the_file_and_restarts(self):
        c = client("127.0.0.15")
        before = read_bytes(ENV["ini"]).decode().split("\n")
        pid = running_pid("http")
        self.assertIsNotNone(pid)
        start = len(audit_text())
        r = self.submit(c, {"keepalive_timeout": "20"})
        self.addCleanup(ini_set, ENV["ini"], "http", "keepalive_timeout", "15")
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("Saved; the http service was restarted.", r.text)
        after = read_bytes(ENV["ini"]).decode().split("\n")
        self.assertEqual(len(after), len(before))
        changed = [(b, a) for b, a in zip(before, after) if b != a]
        self.assertEqual(changed, [("keepalive_timeout=15", "keepalive_timeout=20")])
        self.assertIn("# site comment: " + MARKER, after)
        self.assertIn("x_site_note=" + MARKER, after)
        st = os.stat(ENV["ini"])
        self.assertEqual((st.st_mode & 0o7777, st.st_uid), (0o644, 0))
        new_pid = running_pid("http")
        self.assertIsNotNone(new_pid)
        self.assertNotEqual(new_pid, pid)
        log = wait_audit(self, r"restart http: status 0", start)
        self.assertRegex(log, r"127\.0\.0\.15.*settings \[http\] saved: keepalive_timeout\n")
        # the form shows the saved value
        self.assertEqual(dict(form_fields(c.get("/settings/http"), "/settings/http"))
                         ["keepalive_timeout"], "20")

    def test_refused_value_changes_nothing(self):
        c = client("127.0.0.16")
        before = read_bytes(ENV["ini"])
        pid = running_pid("http")
        start = len(audit_text())
        r = self.submit(c, {"keepalive_timeout": "soon"})
        self.assertEqual(r.status, 200)
        self.assertIn("Not saved: correct the values marked below", r.text)
        m = re.search(r'<span class="err" id="f-keepalive_timeout-err">([^<]+)</span>', r.text)
        self.assertIsNotNone(m, "no reason beside the field")
        self.assertTrue(m.group(1).strip())
        self.assertRegex(r.text, r'name="keepalive_timeout" [^>]*aria-invalid="true"[^>]*'
                                 r'value="soon"')
        self.assertEqual(read_bytes(ENV["ini"]), before)
        self.assertEqual(running_pid("http"), pid)
        wait_audit(self, r"settings \[http\] refused \(keepalive_timeout\)", start)


class Metrics(ConsoleCase):
    """/metrics (OpenMetrics) for a scraper with the token or from an
    allowed address, counting the proxy's traffic."""

    def metrics(self, source, token=TOKEN):
        r = plain("GET", "/metrics", source,
                  {"Authorization": "Bearer " + token} if token else None)
        self.assertEqual(r.status, 200, r.text)
        self.assertTrue(r.header("Content-Type").startswith("application/openmetrics-text"),
                        r.header("Content-Type"))
        return parse_metrics(r.text)

    def test_access(self):
        for source, token, want in (("127.0.0.3", TOKEN, 200), ("127.0.0.1", None, 200),
                                    ("127.0.0.3", None, 403), ("127.0.0.3", TOKEN[:-1], 403),
                                    ("127.0.0.3", TOKEN + "x", 403),
                                    ("127.0.0.3", TOKEN.upper(), 403)):
            with self.subTest(source=source, token=token):
                r = plain("GET", "/metrics", source,
                          {"Authorization": "Bearer " + token} if token else None)
                self.assertEqual(r.status, want)
                self.assertEqual("# EOF" in r.text, want == 200)
        # the console's own login is not a token
        c = client("127.0.0.3")
        c.get("/")
        self.assertEqual(c.get("/metrics", retry=False).status, 403)
        self.assertEqual(plain("POST", "/metrics", "127.0.0.1").status, 405)
        self.assertRegex(audit_text(), r"127\.0\.0\.3.*refused /metrics")

    def test_counts_traffic(self):
        m0 = self.metrics("127.0.0.3")
        self.assertEqual(m0["sekisho_up/http"], ["gauge", 1])
        self.assertEqual(m0["sekisho_up/smtp"], ["gauge", 0])
        n = 5
        for _ in range(n):
            p = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                "--max-time", str(TIMEOUT), "-x",
                                "http://127.0.0.1:%d" % ENV["http_port"],
                                ENV["nginx"].url("clean.txt")],
                               capture_output=True, text=True, timeout=TIMEOUT + 10)
            self.assertEqual(p.stdout, "200", p.stderr)

        def counted():
            m = self.metrics("127.0.0.1", token=None)
            return m if (m["sekisho_requests_total/http"][1]
                         - m0["sekisho_requests_total/http"][1]) >= n else None
        m1 = harness.wait_for(counted, 20, interval=0.2, what="the requests counted")
        self.assertEqual(m1["sekisho_start_time_seconds/http"],
                         m0["sekisho_start_time_seconds/http"])  # not restarted meanwhile
        for name in ("requests", "connections"):
            key = "sekisho_%s_total/http" % name
            self.assertEqual(m1[key][0], "counter")
            self.assertEqual(m1[key][1] - m0[key][1], n, name)
        self.assertEqual(m1["sekisho_detections_total/http"],
                         m0["sekisho_detections_total/http"])


class Hostile(ConsoleCase):
    """Clients that break the rules: bounded, refused, never a crash."""

    def setUp(self):
        self.web = web_pid()
        self.assertIsNotNone(self.web)

    def tearDown(self):
        self.assertEqual(web_pid(), self.web, "the web process ended (crash?)")
        self.assert_served()

    def test_oversized_headers(self):
        big_line = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n"
        many = (b"GET / HTTP/1.1\r\nHost: x\r\n" +
                b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 60) for i in range(3000)) + b"\r\n")
        long_url = b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        for what, data in (("one big header", big_line), ("many headers", many),
                           ("a long URL", long_url)):
            with self.subTest(what):
                answer = raw_exchange("127.0.0.20", data)
                # libmicrohttpd's limit: 431 (414 for the URL) or a close
                self.assertIn(status_of(answer), (None, 414, 431), answer[:200])
                if status_of(answer) is None:
                    self.assertEqual(answer, b"")

    def test_huge_post_body(self):
        c = client("127.0.0.21")
        token = c.get("/account/password").csrf()
        before = read_bytes(conf("sekisho.htdigest"))
        fields = {"csrf": token, "current": PASSWORD, "new": "Huge-body-pw-1",
                  "again": "Huge-body-pw-1", "pad": "x" * 1000}
        # A logged-in POST announcing 2 MiB is answered 413 right after its
        # headers, before its body is read (the console then closes).
        # (libmicrohttpd ties a nonce to its method and URL: a small POST there first.)
        self.assertEqual(c.post("/account/password", dict(fields, current="wrong")).status, 200)
        start = urllib.parse.urlencode(fields).encode()
        head = ("POST /account/password HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
                "Cookie: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: %d\r\n\r\n"
                % (c._authorization("POST", "/account/password"),
                   "; ".join("%s=%s" % kv for kv in c.cookies.items()), 2 * 1024 * 1024))
        answer = raw_exchange("127.0.0.21", head.encode() + start, timeout=5)
        self.assertEqual(status_of(answer), 413, answer[:300])
        self.assertEqual(read_bytes(conf("sekisho.htdigest")), before)
        # without a login: challenged, whatever the size
        # (answered as soon as its headers are in, while the
        # body is still on its way: 3 MiB announced, the first 16 KiB sent)
        body = b"a=" + b"b" * (16 * 1024)
        answer = raw_exchange("127.0.0.21", b"POST /settings/http HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Type: application/x-www-form-urlencoded\r\n"
                              b"Content-Length: %d\r\n\r\n" % (3 * 1024 * 1024) + body,
                              timeout=5)
        self.assertEqual(status_of(answer), 401, answer[:200])
        # a length announced and never sent, then a close
        answer = raw_exchange("127.0.0.21", b"POST /settings/http HTTP/1.1\r\nHost: x\r\n"
                              b"Content-Length: 99999999999\r\n\r\nabc", timeout=3)
        self.assertIn(status_of(answer), (None, 401, 413))
        # a form under the limit is taken (control)
        r = c.post("/account/password", dict(fields, pad="x" * 1000, current="wrong"))
        self.assertEqual(r.status, 200)
        self.assertIn("The current password is wrong", r.text)

    def test_malformed_authorization(self):
        # A challenge of our own, for headers that are nearly right.
        www = plain("GET", "/", "127.0.0.22").header("WWW-Authenticate")
        nonce = re.search(r'nonce="([^"]+)"', www).group(1)
        opaque = re.search(r'opaque="([^"]+)"', www).group(1)
        good = ('username="admin", realm="fsigk", nonce="%s", uri="/", qop=auth, '
                'nc=00000001, cnonce="abc", response="%s", opaque="%s"'
                % (nonce, "0" * 32, opaque))
        headers = [
            b"Digest", b"Digest ", b"Digest ,,,,", b"Basic YWRtaW46YWRtaW4=", b"Bearer x",
            b"Digest username", b"Digest username=", b'Digest username="admin',
            b'Digest username="admin\\', b'Digest username=admin,,realm=', b"\xff\xfe\x00\x01",
            b'Digest username="' + b"a" * 20000 + b'"',
            b"Digest " + b"x=y, " * 3000,
            ("Digest " + good).encode(),
            ("Digest " + good.replace("nc=00000001", "nc=zzzzzzzzzzzz")).encode(),
            ("Digest " + good.replace('uri="/"', 'uri="/../../etc/passwd"')).encode(),
            ("Digest " + good.replace('opaque="%s"' % opaque, 'opaque="' + "o" * 5000 + '"'))
            .encode(),
            ("Digest " + good.replace('username="admin"', 'username="adm\\"in"')).encode(),
            ("Digest " + good + ", " + good).encode(),
            ("Digest " + good.replace("qop=auth", "qop=auth-int")).encode(),
            ("Digest " + good.replace('nonce="%s"' % nonce, 'nonce=""')).encode(),
        ]
        for i, h in enumerate(headers):
            # each from an address of its own: some count as failed logins
            source = "127.0.1.%d" % (i + 1)
            with self.subTest(header=h[:60]):
                answer = raw_exchange(source, b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: " +
                                      h + b"\r\nConnection: close\r\n\r\n")
                self.assertIn(status_of(answer), (401, 400, 431), answer[:300])
                self.assertNotIn(b"Logged in as", answer)

    def test_path_traversal(self):
        c = client("127.0.0.23")
        secret = b"root:x:0:"
        pages = ["/logs?svc=../../etc&kind=../../../../etc/passwd",
                 "/logs?svc=/etc/passwd&kind=access", "/logs?svc=http&kind=/etc/passwd",
                 "/logs?svc=..%2F..%2F..%2Fetc%2Fpasswd&kind=..%2Fpasswd",
                 "/lists/templates?name=../sekisho.ini",
                 "/lists/templates?name=..%2Fsekisho.ini",
                 "/lists/templates?name=../../conf/sekisho.ini",
                 "/lists/templates?name=/etc/passwd", "/lists/templates?name=sekisho.ini",
                 "/lists/templates?name=template_http/../../sekisho.ini",
                 "/lists/../../conf/sekisho.ini", "/settings/../../etc/passwd",
                 "/quarantine/../../conf/sekisho.ini", "/static/../conf/sekisho.ini",
                 "/lists/%2e%2e/%2e%2e/conf/sekisho.ini"]
        for path in pages:
            with self.subTest(path=path):
                r = c.get(path)
                self.assertIn(r.status, (200, 400, 404), r.text[:300])
                self.assertNotIn(secret, r.body)
                self.assertNotIn(MARKER, r.text)
        # a POST naming a file by traversal writes nothing
        before = read_bytes(ENV["ini"])
        token = c.get("/account/password").csrf()  # the session's one token
        self.assertIsNotNone(token)
        for name in ("../sekisho.ini", "../../conf/sekisho.ini", "sekisho.ini"):
            r = c.post("/lists/templates?name=" + urllib.parse.quote(name, safe=""),
                       {"csrf": token, "content": "[common]\nrun_user=root\n"})
            self.assertIn(r.status, (200, 400, 404))
        self.assertEqual(read_bytes(ENV["ini"]), before)
        # quarantine ids that climb out of quarantine_dir (tmp/quarantine):
        # files there must stay, and nothing is sent
        tmp = os.path.join(ENV["prefix"], "tmp")
        victims = {}
        for name in ("victim", "victim.meta", "http-1.1.1", "http-1.1.1.meta"):
            victims[os.path.join(tmp, name)] = ("not quarantined: %s\n" % name).encode()
        for path, data in victims.items():
            with open(path, "wb") as f:
                f.write(data)
            self.addCleanup(os.unlink, path)
        for qid in ("../victim", "../http-1.1.1", "..", "../../conf/sekisho.ini", "/etc/passwd",
                    "http-1.1.1/../../victim"):
            for action in ("delete", "zip", "release"):
                with self.subTest(id=qid, action=action):
                    r = c.post("/quarantine", {"csrf": token, "id": qid, "action": action,
                                               "password": "infected"})
                    self.assertEqual(r.status, 200)
                    self.assertTrue(r.header("Content-Type").startswith("text/html"))
                    self.assertIn('class="notice error"', r.text)
                    self.assertNotIn(b"not quarantined", r.body)
        for path, data in victims.items():
            self.assertEqual(read_bytes(path), data)
        self.assertRegex(audit_text(), r"127\.0\.0\.23.*quarantine delete \.\./victim: not an id")

    def test_idle_connections_closed(self):
        """Slowloris: half-sent requests hold their connections only until
        the idle timeout; other clients are served meanwhile."""
        held = []
        for _ in range(8):
            s = socket.socket()
            s.bind(("127.0.0.24", 0))
            s.connect(("127.0.0.1", ENV["port"]))
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        self.addCleanup(lambda: [s.close() for s in held])
        r = client("127.0.0.25").get("/")
        self.assertEqual(r.status, 200)
        closed = set()

        def all_closed():
            readable, _, _ = select.select([s for s in held if s not in closed], [], [], 0.5)
            for s in readable:
                try:
                    data = s.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data or status_of(data) is not None:
                    closed.add(s)
            return len(closed) == len(held)
        harness.wait_for(all_closed, IDLE_TIMEOUT + 20, interval=0.1,
                         what="the idle connections closed")

    def test_many_connections_bounded(self):
        conns = []
        self.addCleanup(lambda: [s.close() for s in conns])

        def open_from(source, n):
            out = []
            for _ in range(n):
                s = socket.socket()
                s.bind((source, 0))
                s.settimeout(5)
                s.connect(("127.0.0.1", ENV["port"]))
                out.append(s)
            conns.extend(out)
            return out

        def still_open(socks):
            """The sockets the console has not closed (a closed one reads
            as end of file at once)."""
            alive = []
            for s in socks:
                readable, _, _ = select.select([s], [], [], 0)
                if readable:
                    try:
                        if s.recv(1) == b"":
                            continue
                    except OSError:
                        continue
                alive.append(s)
            return alive

        first = open_from("127.0.0.26", 40)
        harness.wait_for(lambda: len(still_open(first)) <= PER_IP_MAX, 10, interval=0.1,
                         what="connections past the per-address limit closed")
        time.sleep(0.5)  # and no more closed than that: settle, then count
        self.assertEqual(len(still_open(first)), PER_IP_MAX)
        # another address is served meanwhile
        self.assertEqual(client("127.0.0.27").get("/").status, 200)
        # the whole console's limit: a third address gets what is left
        second = open_from("127.0.0.28", PER_IP_MAX)
        third = open_from("127.0.0.31", 8)
        harness.wait_for(lambda: len(still_open(first + second + third)) <= CONNECTIONS_MAX,
                         10, interval=0.1, what="the connection limit")
        time.sleep(0.5)
        self.assertEqual(len(still_open(first + second + third)), CONNECTIONS_MAX)
        self.assertEqual(raw_exchange("127.0.0.32", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                         b"")  # full: closed at once
        threads = int(proc_status(self.web)["Threads"][0])
        self.assertLessEqual(threads, CONNECTIONS_MAX + 4)
        for s in conns:
            s.close()
        # once they are gone, everyone is served again (until libmicrohttpd has
        # counted the closed ones out, a new connection may still be refused: a
        # reset is "not yet", not a failure)
        def served():
            try:
                return client("127.0.0.29").get("/").status == 200
            except OSError:
                return False
        harness.wait_for(served, 10, interval=0.2, what="the console after the flood")


class Processes(ConsoleCase):
    """The controller stays root; the web process is run_user, has no
    capabilities and cannot write conf/ (the controller writes for it)."""

    def test_no_libclamav(self):
        """The console never links libclamav (only sekisho-scand and dbupdate do)."""
        exe = os.path.join(ENV["prefix"], "sekisho-admin")
        out = subprocess.run(["ldd", exe], capture_output=True, text=True, timeout=30).stdout
        self.assertIn("libmicrohttpd", out)
        self.assertNotIn("libclamav", out)
        self.assertNotIn("libfreshclam", out)

    def test_users_and_conf_access(self):
        ctl, web = controller_pid(), web_pid()
        self.assertIsNotNone(web)
        st = proc_status(ctl)
        self.assertEqual(st["Uid"], ["0"] * 4)
        nobody = pwd.getpwnam("nobody")
        w = proc_status(web)
        self.assertEqual(w["Uid"], [str(nobody.pw_uid)] * 4)
        self.assertEqual(w["Gid"], [str(nobody.pw_gid)] * 4)
        self.assertEqual(int(w["CapEff"][0], 16), 0)
        self.assertEqual(int(w["CapPrm"][0], 16), 0)
        groups = {int(g) for g in w.get("Groups", [])} | {nobody.pw_gid}
        # nothing under conf/ is writable with the web process's credentials
        writable = []
        for root, dirs, files in os.walk(os.path.join(ENV["prefix"], "conf")):
            for name in [root] + [os.path.join(root, f) for f in files]:
                s = os.lstat(name)
                if os.path.islink(name):
                    continue
                if (s.st_uid == nobody.pw_uid and s.st_mode & 0o200 or
                        s.st_gid in groups and s.st_mode & 0o020 or s.st_mode & 0o002):
                    writable.append(name)
        self.assertEqual(writable, [])
        # admin.conf (the metrics token) is the controller's alone
        s = os.stat(conf("admin.conf"))
        self.assertEqual((s.st_uid, s.st_mode & 0o777), (0, 0o600))
        # the web process cannot open sekisho.ini for writing: ask the
        # kernel as that user
        p = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid,
                            "--regid=%d" % nobody.pw_gid, "--clear-groups", "sh", "-c",
                            "for f in sekisho.ini sekisho.htdigest hosts.allow; do "
                            "if : >>\"$f\" 2>/dev/null; then echo \"writable $f\"; fi; done; "
                            "if touch new-file 2>/dev/null; then echo writable conf/; fi"],
                           cwd=os.path.join(ENV["prefix"], "conf"), capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.stdout, "")

    def test_web_process_restarted_by_the_controller(self):
        old = web_pid()
        ctl = controller_pid()
        os.kill(old, 9)
        harness.wait_for(lambda: web_pid() not in (None, old), 10,
                         what="a new web process")
        self.assertEqual(controller_pid(), ctl)
        harness.wait_for(lambda: client("127.0.0.30").get("/").status == 200, 10,
                         interval=0.2, what="the console served again")
        self.assertRegex(harness.read_text(os.path.join(ENV["prefix"], "log", "admin",
                                                        "error.log")),
                         r"the web process %d ended \(signal 9\)" % old)


if __name__ == "__main__":
    unittest.main()
