"""HTTP proxy authentication (HTTP-5, AUTH-1, responses.tsv rows 10-11) and
the PAM pool behind it (issue 13, deliverables 1 and 2).

What is covered, and why:
- the challenge: no, malformed or wrong credentials get exactly
  "HTTP/1.0 407 Proxy Authentication Required" with the one header
  'Proxy-Authenticate: Basic realm="input proxy user/pass"', nothing
  reaches the origin, and the access record has status 407 and user "-";
- admitted requests (curl -U, and urllib answering the challenge the way a
  browser does): the body arrives whole, the user is in the access
  record's user field, and the origin (or a parent proxy) never receives
  Proxy-Authorization - the password must not leave the gateway;
- keep-alive (credentials are per request, not per connection), CONNECT,
  ftp:// and EICAR (authentication must not become a way around scanning);
- the auth log: one line per failed check, in the form fail2ban's stock
  filter postfix[mode=auth] reads - checked with fail2ban-regex itself,
  since the point of the form is that a stock jail bans the address;
- the failure limit: 5 failures from one address block it (even with the
  right password, and without asking PAM); another address is not
  affected. workers=1 there, because the limit is counted per worker;
- PAM broken (no service file, no password file): 503, never a pass;
- PAM off the event loop: while one check takes 3 s, twenty other sessions
  with their own checks are served (workers=1, so that they cannot be
  served by another worker while this one is stuck);
- the cache: good credentials are checked by PAM once (workers=1: the
  cache is the worker's), a wrong password after them still fails;
- proxyauth_pam_auth=no: the header reaches a parent proxy untouched.

How: the gateway runs under pam_wrapper with pam_matrix (PAM_BACKEND,
harness/pam_matrix.py: no system account, nothing in /etc/pam.d). Every
service first runs a pam_exec script that appends PAM_USER to a file for
each authentication, so the tests count what reached PAM; for user "slow"
it also sleeps 3 s and then waits until the test lets it go, so "the other
sessions finished first" is an order the test controls, not a race against
a clock. The origin is harness.origin.Origin, which records the headers
of every request it receives.
"""
import base64
import os
import re
import socket
import subprocess
import threading
import unittest
import urllib.request

import harness
from harness import origin as og
from harness import pam_matrix
from harness import testfiles
from harness import vsftpd as vs
from test_http_get import ACCESS_RX, curl  # LOG-2 and the curl client of the HTTP tests
from test_http_keepalive import closed_by_peer, read_response
from test_http_messages import Reply

# The PAM backend: the one function to swap for our own module
# (pam_sekisho_userdb) once it is there.
PAM_BACKEND = pam_matrix.backend

ENV = {}
IO_TIMEOUT = 30.0 * harness.SLOW
STATUS_407 = "HTTP/1.0 407 Proxy Authentication Required"
REALM = 'Basic realm="input proxy user/pass"'
ERROR_PAGE_TEXT = b"The server refuse to browse the page."
BODY = testfiles.clean_bytes(200 * 1024)
OTHERS = ["user%02d" % i for i in range(1, 21)]  # fresh credentials for the off-loop test
USERS = dict({"alice": "secret", "bob": "hunter2", "slow": "snail"},
             **{u: "pw-" + u for u in OTHERS})
AUTH_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d sekisho_http\[(?P<pid>\d+)\]: warning: "
    r"(?P<host>[^\[\s]+)\[(?P<ip>[^\]]+)\]: SASL PLAIN authentication failed: "
    r"(?P<reason>[^,]+), user=(?P<user>\S*)$")

# pam_exec runs this (as the worker's user) before the password check.
CHECK_SCRIPT = """echo "$PAM_USER" >> %(dir)s/checks
if [ "$PAM_USER" = slow ]; then
    sleep 3
    i=0
    while [ ! -e %(dir)s/slow.go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
fi
exit 0
"""


def setUpModule():
    reason = pam_matrix.available()
    if reason:
        raise unittest.SkipTest(reason)
    wd = harness.Workdir("auth-http")
    ENV["wd"] = wd
    ENV["origin"] = og.Origin()
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    for k in ("scand", "origin"):
        if k in ENV:
            ENV[k].stop()
    if "wd" in ENV:
        ENV["wd"].cleanup()


def serve(name, behaviour):
    """Register behaviour on a path of its own; returns (path, url)."""
    return ENV["origin"].serve(name, behaviour)


def serve_body(name, body=BODY):
    return serve(name, og.response(headers=[("Content-Type", "application/octet-stream")],
                                   body=body))


def basic(user, password=None, scheme="Basic"):
    """A Proxy-Authorization value; password None: the user's own."""
    if password is None:
        password = USERS[user]
    return "%s %s" % (scheme, base64.b64encode(("%s:%s" % (user, password)).encode()).decode())


def connect(port, source=None):
    return socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT,
                                    source_address=(source, 0) if source else None)


def read_all(sock):
    """Everything until the proxy closes (bounded by the socket timeout)."""
    out = b""
    while True:
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            break
        if not chunk:
            break
        out += chunk
    return out


def head_bytes(method, target, cred=None, headers=(), body=None, version="HTTP/1.0"):
    lines = ["%s %s %s" % (method, target, version)]
    if cred is not None:
        lines.append("Proxy-Authorization: " + cred)
    lines += ["%s: %s" % kv for kv in headers]
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def request(gw, url, cred=None, method="GET", headers=(), body=None, source=None):
    """One request on its own connection (raw bytes, so the reply is seen as sent)."""
    with connect(gw.port, source) as s:
        s.sendall(head_bytes(method, url, cred, headers, body))
        return Reply(read_all(s))


class AuthCase(unittest.TestCase):
    """One gateway with proxyauth_pam_auth=<auth> under pam_wrapper."""
    auth = "yes"
    section = {}
    common = {}
    pam = {}  # extra arguments of PAM_BACKEND (a broken PAM)

    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, cls.__name__)
        cls.pamdir = os.path.join(d, "pam")
        os.makedirs(cls.pamdir)
        cls.checks_file = os.path.join(cls.pamdir, "checks")
        with open(cls.checks_file, "w"):
            pass
        os.chmod(cls.checks_file, 0o666)  # appended to by the worker's user
        cls.go_file = os.path.join(cls.pamdir, "slow.go")
        script = pam_matrix.write_script(os.path.join(cls.pamdir, "check.sh"),
                                         CHECK_SCRIPT % {"dir": cls.pamdir})
        env = PAM_BACKEND(cls.pamdir, USERS, pre_auth=[pam_matrix.exec_line(script)], **cls.pam)
        section = {"proxyauth_pam_auth": cls.auth}
        section.update(cls.section)
        cls.gw = harness.Gateway(d, ENV["scand"].socket, section=section, common=cls.common,
                                 env=env)

    @classmethod
    def tearDownClass(cls):
        with open(cls.go_file, "w"):
            pass  # no check may stay parked in the script
        cls.gw.stop()

    def checks(self):
        """The users PAM was asked about so far, in order."""
        with open(self.checks_file) as f:
            return f.read().split()

    def records(self, url, count=1):
        """The access records of url (LOG-2 checked), once there are count."""
        lines = self.gw.wait_log("access", r" %s " % re.escape(url), count=count,
                                 timeout=IO_TIMEOUT)
        out = []
        for line in lines:
            m = ACCESS_RX.match(line)
            self.assertIsNotNone(m, "access line does not match LOG-2: %r" % line)
            out.append(m)
        return out

    def auth_lines(self):
        """The auth log's lines, each checked against the documented form."""
        out = []
        for line in self.gw.log_lines("auth"):
            m = AUTH_LINE.match(line)
            self.assertIsNotNone(m, "auth line not in the documented form: %r" % line)
            out.append(m)
        return out

    def assert_407(self, reply):
        self.assertEqual(reply.status_line, STATUS_407, reply)
        # Exactly one challenge, with the documented realm (responses.tsv row 11).
        self.assertEqual(reply.values("Proxy-Authenticate"), [REALM], reply)
        self.assertIn(ERROR_PAGE_TEXT, reply.body)  # HTTP-15: the error page

    def assert_not_forwarded(self, path):
        self.assertEqual(ENV["origin"].requests(path), [], "the origin was reached")

    def assert_admitted(self, path, reply, body=BODY):
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.body, body)
        got = ENV["origin"].wait_request(path, timeout=IO_TIMEOUT)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].header_values("Proxy-Authorization"), [],
                         "the credentials left the gateway")
        return got[0]


class TestChallenge(AuthCase):
    """Requests without usable credentials: 407, and the origin never sees them."""

    def test_no_credentials(self):
        path, url = serve_body("none")
        reply = request(self.gw, url)
        self.assert_407(reply)
        self.assert_not_forwarded(path)
        m = self.records(url)[0]
        self.assertEqual(m["status"], "407")
        self.assertEqual(m["user"], "-")
        self.assertEqual(m["method"], "GET")
        self.assertEqual(self.checks(), [])  # nothing to ask PAM
        self.assertEqual(self.gw.log_lines("auth"), [])  # no guess was made

    def test_malformed_credentials(self):
        # bob's real credentials (11 bytes: the base64 ends in a pad) with the
        # unused low bits of the last character set: a lenient decoder reads
        # the right password, so only the strict reading refuses it.
        good = ("bob:" + USERS["bob"]).encode()
        canonical = base64.b64encode(good).decode()
        self.assertEqual(canonical[-1:], "=")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        pad_bits = canonical[:-2] + alphabet[alphabet.index(canonical[-2]) + 1] + "="
        self.assertEqual(base64.b64decode(pad_bits), good)
        cases = [
            ("Digest", 'Digest username="alice", realm="input proxy user/pass", nonce="x", '
                       'uri="/", response="00000000000000000000000000000000"', "OTHER_SCHEME"),
            ("NTLM", "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==",
             "OTHER_SCHEME"),
            ("non-canonical base64 (pad bits)", "Basic " + pad_bits, "BAD_BASE64"),
            ("base64 without its padding", "Basic " + canonical.rstrip("="), "BAD_BASE64"),
            ("not base64", "Basic alice:secret", "BAD_BASE64"),
            ("Basic without credentials", "Basic", "BAD_BASE64"),
            ("no colon", "Basic " + base64.b64encode(b"alicesecret").decode(), "MALFORMED"),
            ("empty user", "Basic " + base64.b64encode(b":secret").decode(), "MALFORMED"),
        ]
        seen = {}
        for name, value, why in cases:
            with self.subTest(name):
                path, url = serve_body("malformed")
                self.assert_407(request(self.gw, url, cred=value))
                self.assert_not_forwarded(path)
                self.assertEqual(self.records(url)[0]["user"], "-")
                seen[why] = seen.get(why, 0) + 1
                self.gw.wait_log("info", r"Proxy authentication refused: %s credentials" % why,
                                 count=seen[why], timeout=IO_TIMEOUT)
        self.assertEqual(self.checks(), [])  # refused before PAM

    def test_post_without_credentials(self):
        # The body must not be taken for a next request, nor sent anywhere.
        path, url = serve("post", og.echo())
        body = b"GET http://127.0.0.1:%d/smuggled HTTP/1.0\r\n\r\n" % ENV["origin"].port
        reply = request(self.gw, url, method="POST", body=body,
                        headers=[("Content-Type", "text/plain")])
        self.assert_407(reply)
        self.assert_not_forwarded(path)
        self.assert_not_forwarded("/smuggled")


class TestWrongCredentials(AuthCase):
    """Wrong passwords and unknown users: 407, and a line each in the auth log."""

    def test_failures_are_logged_for_fail2ban(self):
        attempts = [("alice", "wrong"), ("carol", "secret"), ("bob", "secret"),
                    ("mallory[192.0.2.66]", "x")]  # a user name that would forge an address
        urls = []
        for user, password in attempts:
            path, url = serve_body("wrong")
            self.assert_407(request(self.gw, url, cred=basic(user, password)))
            self.assert_not_forwarded(path)
            urls.append(url)
        for url in urls:
            m = self.records(url)[0]
            self.assertEqual((m["status"], m["user"]), ("407", "-"))
        lines = harness.wait_for(lambda: len(self.gw.log_lines("auth")) >= len(attempts) and
                                 self.auth_lines(), IO_TIMEOUT, what="auth log lines")
        self.assertEqual(len(lines), len(attempts))
        self.assertEqual([m["user"] for m in lines],
                         ["alice", "carol", "bob", "mallory%5b192.0.2.66%5d"])
        for m in lines:
            self.assertEqual(m["ip"], "127.0.0.1")
            self.assertEqual(m["reason"], "authentication failure")
            self.assertIn(int(m["pid"]), self.gw.worker_pids())
        self.assertEqual(self.checks(), [u for u, _ in attempts])  # PAM said no to each
        # fail2ban's stock postfix-sasl filter reads every line, and only
        # 127.0.0.1: the forged address in the user name is not taken.
        r = subprocess.run(["fail2ban-regex", "-r", "-o", "ip",
                            os.path.join(self.gw.logdir, "auth.log"), "postfix[mode=auth]"],
                           capture_output=True, text=True, timeout=60 * harness.SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split(), ["127.0.0.1"] * len(attempts), r.stdout)
        # Under the limit: the right password still works.
        path, url = serve_body("after-wrong")
        self.assert_admitted(path, request(self.gw, url, cred=basic("alice")))


class TestAdmitted(AuthCase):
    """Good credentials: the request goes through, the user is logged, the
    header stays at the gateway."""

    def test_curl_proxy_user(self):
        path, url = serve_body("curl")
        status, headers, body = curl(self.gw.proxy, url, "-U", "alice:secret")
        self.assertEqual(status, 200)
        self.assertEqual(body, BODY)
        got = ENV["origin"].wait_request(path, timeout=IO_TIMEOUT)[0]
        self.assertEqual(got.header_values("Proxy-Authorization"), [])
        m = self.records(url)[0]
        self.assertEqual((m["status"], m["user"], m["result"]), ("200", "alice", "CLEAN"))

    def test_urllib_answers_the_challenge(self):
        # urllib sends nothing first, reads the realm from the 407 and
        # retries with the password registered for the proxy: the challenge
        # is usable by a real client.
        path, url = serve_body("urllib")
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, self.gw.proxy, "bob", USERS["bob"])
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": self.gw.proxy}),
            urllib.request.ProxyBasicAuthHandler(passwords))
        with opener.open(url, timeout=IO_TIMEOUT) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.read(), BODY)
        got = ENV["origin"].wait_request(path, timeout=IO_TIMEOUT)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].header_values("Proxy-Authorization"), [])
        # (Two workers: the records may be written in either order.)
        self.assertEqual(sorted((m["status"], m["user"]) for m in self.records(url, count=2)),
                         [("200", "bob"), ("407", "-")])

    def test_scheme_name_in_any_case(self):
        # RFC 9110 11.1: the scheme name is case-insensitive.
        path, url = serve_body("lower")
        self.assert_admitted(path, request(self.gw, url, cred=basic("alice", scheme="bAsIc")))

    def test_post_body_relayed(self):
        path, url = serve("post-ok", og.echo())
        reply = request(self.gw, url, cred=basic("alice"), method="POST", body=BODY,
                        headers=[("Content-Type", "application/octet-stream")])
        self.assertEqual(reply.status, 200, reply)
        got = ENV["origin"].wait_request(path, timeout=IO_TIMEOUT)[0]
        self.assertEqual(got.body, BODY)
        self.assertEqual(got.header_values("Proxy-Authorization"), [])
        self.assertNotIn(b"Proxy-Authorization", reply.body)  # the echo of what arrived

    def test_repeated_header_never_forwarded(self):
        # Two Proxy-Authorization fields (the second one another user's):
        # whatever the verdict, neither may reach the origin.
        path, url = serve_body("twice")
        reply = request(self.gw, url, cred=basic("alice"),
                        headers=[("Proxy-Authorization", basic("bob"))])
        self.assertIn(reply.status, (200, 400, 407), reply)
        for got in ENV["origin"].requests(path):
            self.assertEqual(got.header_values("Proxy-Authorization"), [])

    def test_eicar_still_detected(self):
        # Being authenticated is no way around the scan (HTTP-10).
        path, url = serve_body("eicar", testfiles.EICAR)
        status, headers, body = curl(self.gw.proxy, url, "-U", "alice:secret")
        self.assertEqual(status, 403)
        self.assertNotIn(testfiles.EICAR, body)
        m = self.records(url)[0]
        self.assertEqual((m["status"], m["user"], m["result"], m["action"]),
                         ("403", "alice", "INFECTED", "DELETE"))
        self.assertIn("Eicar", m["name"])
        detect = self.gw.wait_log("detect", re.escape(url), timeout=IO_TIMEOUT)
        self.assertIn(" alice ", detect[0])


class TestKeepAlive(AuthCase):
    """keepalive=yes: every request of a kept connection carries its own
    credentials; the connection itself is never trusted."""
    section = {"keepalive": "yes", "keepalive_timeout": "15"}

    def send(self, sock, url, cred, rest=b""):
        sock.sendall(head_bytes("GET", url, cred, [("Host", "127.0.0.1")], version="HTTP/1.1"))
        head, body, rest = read_response(sock, rest)
        return head, body, rest

    def test_requests_on_one_connection(self):
        urls = []
        with connect(self.gw.port) as s:
            rest = b""
            for i in range(3):
                path, url = serve_body("ka")
                head, body, rest = self.send(s, url, basic("alice"), rest)
                self.assertTrue(head.startswith(b"HTTP/1.0 200 "), head)
                self.assertIn(b"\r\nConnection: Keep-Alive", head)
                self.assertEqual(body, BODY)
                self.assertEqual(ENV["origin"].wait_request(path)[0]
                                 .header_values("Proxy-Authorization"), [])
                urls.append(url)
            # The same connection, now without credentials: challenged and closed.
            none_path, none_url = serve_body("ka-none")
            head, body, rest = self.send(s, none_url, None, rest)
            self.assertTrue(head.startswith(STATUS_407.encode() + b"\r\n"), head)
            self.assertIn(("\r\nProxy-Authenticate: %s\r\n" % REALM).encode(), head + b"\r\n")
            self.assertTrue(closed_by_peer(s, IO_TIMEOUT))
            self.assert_not_forwarded(none_path)
        for i, url in enumerate(urls):
            m = self.records(url)[0]
            self.assertEqual((m["status"], m["user"], m["files"]), ("200", "alice", str(i + 1)))
            self.assertEqual(m["p1"], "KEEPALIVE")
        self.assertEqual(self.records(none_url)[0]["user"], "-")

    def test_other_user_on_the_same_connection(self):
        # Each request names its own user (no carry-over of the first one).
        users = ["alice", "bob", "alice"]
        urls = []
        with connect(self.gw.port) as s:
            rest = b""
            for user in users:
                path, url = serve_body("ka-users")
                head, body, rest = self.send(s, url, basic(user), rest)
                self.assertTrue(head.startswith(b"HTTP/1.0 200 "), head)
                urls.append(url)
            head, body, rest = self.send(s, serve_body("ka-bad")[1], basic("bob", "nope"), rest)
            self.assertTrue(head.startswith(STATUS_407.encode()), head)
        self.assertEqual([self.records(u)[0]["user"] for u in urls], users)


class TestConnect(AuthCase):
    """CONNECT (HTTP-17) needs credentials too; once admitted, the tunnel works."""
    section = {"connect_ports": "1024-65535"}  # the origin's port is ephemeral

    def tunnel(self, cred, early):
        """CONNECT to the origin, then a GET of a new path inside; returns
        (CONNECT reply head, the path, the body got through the tunnel)."""
        path, _ = serve_body("tunnel")
        target = "127.0.0.1:%d" % ENV["origin"].port
        self.connects = len(self.gw.log_lines("access"))
        get = b"GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path.encode(), target.encode())
        with connect(self.gw.port) as s:
            connect_req = head_bytes("CONNECT", target, cred, [("Host", target)],
                                     version="HTTP/1.1")
            s.sendall(connect_req + get if early else connect_req)
            reply, _, rest = harness.recv_until(s, b"\r\n\r\n").partition(b"\r\n\r\n")
            if not reply.startswith(b"HTTP/1.0 200"):
                return reply + b"\r\n\r\n" + rest + read_all(s), path, None
            if not early:
                s.sendall(get)
            rest += read_all(s)
        _, _, body = rest.partition(b"\r\n\r\n")
        return reply, path, body

    def connect_record(self):
        """The access record of the last tunnel (this class's records are all CONNECTs)."""
        lines = harness.wait_for(lambda: len(self.gw.log_lines("access")) > self.connects and
                                 self.gw.log_lines("access"), IO_TIMEOUT, what="a CONNECT record")
        self.assertEqual(len(lines), self.connects + 1)
        m = ACCESS_RX.match(lines[-1])
        self.assertIsNotNone(m, lines[-1])
        self.assertEqual(m["url"], "127.0.0.1:%d" % ENV["origin"].port)
        return m

    def test_without_credentials(self):
        data, path, body = self.tunnel(None, early=True)
        reply = Reply(data)
        self.assert_407(reply)
        self.assertIsNone(body)
        self.assert_not_forwarded(path)  # the GET sent along never went through
        m = self.connect_record()
        self.assertEqual((m["method"], m["status"], m["user"]), ("CONNECT", "407", "-"))

    def test_wrong_password(self):
        data, path, body = self.tunnel(basic("alice", "guess"), early=False)
        self.assert_407(Reply(data))
        self.assert_not_forwarded(path)
        self.gw.wait_log("auth", r"SASL PLAIN authentication failed: .*, user=alice$")

    def test_with_credentials(self):
        for early in (False, True):  # the GET after the 200, or sent with the CONNECT
            with self.subTest(early=early):
                reply, path, body = self.tunnel(basic("bob"), early)
                self.assertTrue(reply.startswith(b"HTTP/1.0 200"), reply)
                self.assertEqual(body, BODY)
                got = ENV["origin"].wait_request(path, timeout=IO_TIMEOUT)
                self.assertEqual(len(got), 1)
                m = self.connect_record()
                self.assertEqual((m["method"], m["user"]), ("CONNECT", "bob"))


class TestFtpUrl(AuthCase):
    """ftp:// URLs (HTTP-16) need credentials too."""

    @classmethod
    def setUpClass(cls):
        reason = vs.available()
        if reason:
            raise unittest.SkipTest(reason)
        super().setUpClass()
        root = os.path.join(ENV["wd"].path, cls.__name__, "ftproot")
        os.makedirs(os.path.join(root, "pub"))
        for name in ("open.bin", "closed.bin"):  # one per test: one URL, one record
            with open(os.path.join(root, "pub", name), "wb") as f:
                f.write(BODY)
            os.chmod(os.path.join(root, "pub", name), 0o644)
        for p in (root, os.path.join(root, "pub")):
            os.chmod(p, 0o755)
        cls.ftpd = vs.Vsftpd(os.path.join(ENV["wd"].path, cls.__name__), root)

    @classmethod
    def tearDownClass(cls):
        cls.ftpd.stop()
        super().tearDownClass()

    def test_without_credentials(self):
        url = self.ftpd.url("/pub/closed.bin")
        before = len(self.ftpd.commands())
        status, headers, body = curl(self.gw.proxy, url)
        self.assertEqual(status, 407)
        self.assertEqual(headers.get("proxy-authenticate"), REALM)
        self.assertEqual(len(self.ftpd.commands()), before)  # the FTP server was not contacted
        m = self.records(url)[0]
        self.assertEqual((m["status"], m["user"]), ("407", "-"))

    def test_with_credentials(self):
        url = self.ftpd.url("/pub/open.bin")
        status, headers, body = curl(self.gw.proxy, url, "-U", "alice:secret")
        self.assertEqual(status, 200)
        self.assertEqual(body, BODY)
        self.assertIn("RETR pub/open.bin", self.ftpd.commands())
        m = self.records(url)[0]
        self.assertEqual((m["user"], m["result"]), ("alice", "CLEAN"))


class TestFailureLimit(AuthCase):
    """Five failures from one address within a minute block that address."""
    # The limit is counted per worker: with one, every attempt meets the same count.
    common = {"workers": "1"}

    def test_limit_per_address(self):
        for i in range(5):
            path, url = serve_body("guess")
            self.assert_407(request(self.gw, url, cred=basic("alice", "guess%d" % i)))
        self.assertEqual(self.checks(), ["alice"] * 5)
        # The right password now: refused, without asking PAM.
        for user in ("alice", "bob"):
            path, url = serve_body("blocked")
            self.assert_407(request(self.gw, url, cred=basic(user)))
            self.assert_not_forwarded(path)
        self.assertEqual(self.checks(), ["alice"] * 5)
        lines = harness.wait_for(lambda: len(self.gw.log_lines("auth")) >= 7 and
                                 self.auth_lines(), IO_TIMEOUT, what="7 auth lines")
        self.assertEqual(len(lines), 7)
        self.assertEqual([m["reason"] for m in lines[:4]], ["authentication failure"] * 4)
        # (The fifth, the one that reaches the limit, is not asserted: see the report.)
        self.assertEqual([(m["reason"], m["user"]) for m in lines[5:]],
                         [("too many failures from this address", "alice"),
                          ("too many failures from this address", "bob")])
        # Another client address is not affected.
        path, url = serve_body("other-address")
        self.assert_admitted(path, request(self.gw, url, cred=basic("alice"), source="127.0.0.2"))
        m = self.records(url)[0]
        self.assertEqual((m["client"], m["user"]), ("127.0.0.2", "alice"))


class PamUnavailableTests:
    """PAM cannot answer: a temporary failure (503), never a pass, never a
    407 (a mixin: the classes below give the broken PAM and the error)."""
    error_rx = None

    def test_good_credentials_get_503(self):
        path, url = serve_body("unavailable")
        reply = request(self.gw, url, cred=basic("alice"))
        self.assertEqual(reply.status_line, "HTTP/1.0 503 Service Unavailable", reply)
        self.assertIn(ERROR_PAGE_TEXT, reply.body)
        self.assert_not_forwarded(path)
        self.gw.wait_log("error", r"###ERROR### PAM sekisho_http \(authenticate, user \[alice\]\): "
                         + self.error_rx, timeout=IO_TIMEOUT)
        m = self.records(url)[0]
        self.assertEqual((m["status"], m["user"]), ("503", "-"))
        self.assertEqual(self.gw.log_lines("auth"), [])  # an outage is not a guess

    def test_wrong_credentials_get_503(self):
        path, url = serve_body("unavailable-wrong")
        reply = request(self.gw, url, cred=basic("alice", "wrong"))
        self.assertEqual(reply.status, 503, reply)
        self.assert_not_forwarded(path)

    def test_no_credentials_still_407(self):
        path, url = serve_body("unavailable-none")
        self.assert_407(request(self.gw, url))


class TestPamServiceMissing(PamUnavailableTests, AuthCase):
    pam = {"service_file": False}
    error_rx = r"pam_start\(sekisho_http\): "


class TestPamPassdbMissing(PamUnavailableTests, AuthCase):
    pam = {"passdb": False}
    error_rx = r"pam_authenticate: Authentication service cannot retrieve authentication info"


class TestOffTheLoop(AuthCase):
    """Deliverable 1: a PAM check that takes seconds does not stop the worker."""
    # One worker: the other sessions can only be served by the one whose
    # check is slow.
    common = {"workers": "1"}

    def setUp(self):
        if os.path.exists(self.go_file):
            os.unlink(self.go_file)

    def tearDown(self):
        with open(self.go_file, "w"):
            pass

    def test_others_served_while_a_check_takes_3_s(self):
        done = []  # (user, status) in the order the replies completed
        lock = threading.Lock()
        urls = {}

        def run(user):
            path, url = serve_body("loop-" + user)
            urls[user] = url
            try:
                status = request(self.gw, url, cred=basic(user)).status
            except OSError as e:
                status = repr(e)
            with lock:
                done.append((user, status))

        start = len(self.checks())
        slow = threading.Thread(target=run, args=("slow",))
        slow.start()
        try:
            harness.wait_for(lambda: "slow" in self.checks()[start:], IO_TIMEOUT,
                             what="the slow check in PAM")
            others = [threading.Thread(target=run, args=(u,)) for u in OTHERS]
            for t in others:
                t.start()
            for t in others:
                t.join(IO_TIMEOUT)
            with lock:
                before = list(done)
            self.assertEqual(sorted(u for u, _ in before), sorted(OTHERS),
                             "the other sessions did not all finish while the check waited")
            self.assertTrue(slow.is_alive())
        finally:
            with open(self.go_file, "w"):
                pass
        slow.join(IO_TIMEOUT)
        self.assertFalse(slow.is_alive())
        self.assertEqual([u for u, _ in done], [u for u, _ in before] + ["slow"])
        self.assertEqual([s for _, s in done], [200] * (len(OTHERS) + 1))
        # Each of them was a real check (fresh credentials, no cache).
        self.assertEqual(sorted(self.checks()[start:]), sorted(OTHERS + ["slow"]))
        for user in OTHERS + ["slow"]:
            self.assertEqual(self.records(urls[user])[0]["user"], user)

    def test_client_leaving_during_a_check(self):
        path, url = serve_body("leaves")
        before = self.checks().count("slow")
        with connect(self.gw.port) as s:
            s.sendall(head_bytes("GET", url, basic("slow")))
            harness.wait_for(lambda: self.checks().count("slow") > before, IO_TIMEOUT,
                             what="the slow check in PAM")
        self.gw.wait_log("info", r"Client closed connection\. .* url=\[%s\]" % re.escape(url),
                         timeout=IO_TIMEOUT)
        with open(self.go_file, "w"):
            pass
        # The abandoned check ends on its thread; the worker goes on.
        path2, url2 = serve_body("after-leave")
        self.assert_admitted(path2, request(self.gw, url2, cred=basic("alice")))
        self.assert_not_forwarded(path)
        self.assertEqual(len(self.gw.worker_pids()), 1)


class TestCache(AuthCase):
    """Good credentials are remembered for a while (60 s); PAM is asked once."""
    # The cache is the worker's: with one, the second connection meets it.
    common = {"workers": "1"}

    def test_good_credentials_checked_once(self):
        for i in range(2):  # two connections (two curl runs)
            path, url = serve_body("cache")
            status, headers, body = curl(self.gw.proxy, url, "-U", "bob:" + USERS["bob"])
            self.assertEqual((status, body), (200, BODY))
            self.assertEqual(self.records(url)[0]["user"], "bob")
        self.assertEqual(self.checks().count("bob"), 1)

    def test_wrong_password_after_a_good_one(self):
        path, url = serve_body("cache-good")
        self.assert_admitted(path, request(self.gw, url, cred=basic("alice")))
        n = self.checks().count("alice")
        path, url = serve_body("cache-wrong")
        self.assert_407(request(self.gw, url, cred=basic("alice", "secret2")))
        self.assert_not_forwarded(path)
        self.assertEqual(self.checks().count("alice"), n + 1)  # PAM was asked
        # The good entry is still there.
        path, url = serve_body("cache-good-again")
        self.assert_admitted(path, request(self.gw, url, cred=basic("alice")))
        self.assertEqual(self.checks().count("alice"), n + 1)


PARENT_URL = "http://auth-parent.invalid/%s"  # not resolvable: only the parent can serve it


class ParentCase(AuthCase):
    """The origin plays the parent proxy (it records the request it is sent)."""

    @classmethod
    def setUpClass(cls):
        cls.section = {"parent_server_host": "127.0.0.1",
                       "parent_server_port": str(ENV["origin"].port)}
        super().setUpClass()

    def via_parent(self, name, cred):
        path, _ = serve_body(name)
        url = PARENT_URL % path.lstrip("/")
        return path, url, request(self.gw, url, cred=cred)


class TestParentWithoutProxyAuth(ParentCase):
    """proxyauth_pam_auth=no (the default): Proxy-Authorization is the
    parent's business and is passed on untouched (HTTP-7 step 8)."""
    auth = "no"

    def test_header_forwarded_to_the_parent(self):
        value = "Basic dXNlcjpwYXNzd29yZA=="
        path, url, reply = self.via_parent("parent-keep", value)
        self.assertEqual(reply.status, 200, reply)
        got = ENV["origin"].wait_request(path, timeout=IO_TIMEOUT)[0]
        self.assertEqual(got.request_line, ("GET %s HTTP/1.0" % url).encode())
        self.assertEqual(got.header_values("Proxy-Authorization"), [value])
        self.assertEqual(self.checks(), [])  # PAM is not involved
        self.assertEqual(self.records(url)[0]["user"], "-")


class TestParentWithProxyAuth(ParentCase):
    """proxyauth_pam_auth=yes with a parent: our credentials stop here."""

    def test_header_not_forwarded_to_the_parent(self):
        path, url, reply = self.via_parent("parent-strip", basic("alice"))
        got = self.assert_admitted(path, reply)
        self.assertEqual(got.request_line, ("GET %s HTTP/1.0" % url).encode())
        self.assertEqual(self.records(url)[0]["user"], "alice")

    def test_challenge_before_the_parent(self):
        path, url, reply = self.via_parent("parent-407", None)
        self.assert_407(reply)
        self.assert_not_forwarded(path)
