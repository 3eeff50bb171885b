"""The POP/FTP user restriction (proxyauth_pam_account=yes) through real
PAM: the gateway runs under pam_wrapper (harness/pam.py) with our module
pam_sekisho_userdb.so and a database built by create_userdb, in front of
real dovecot and vsftpd servers and scripted ones (FakePop, FakeFtp) that
record every connection and line, so "nothing reached the server" is a
fact of the test, not an assumption.

Covered (docs/internals/auth-coverage.md maps the test names):
- AUTH-1: the POP/FTP restriction goes through the PAM services
  sekisho_pop / sekisho_ftp (acct_mgmt, the server in SEKISHO_SERVER);
  pamtester and the proxy give the same verdict for a table of (user,
  server) pairs;
- AUTH-3, C-46: `user@server`, `user#server` and `@server` entries; the
  server compared without case; a plain `user` entry (an HTTP/SMTP user)
  does not admit that user on a POP/FTP server; the entry keys the server
  name the client used (a name of the same address with no entry is
  refused);
- POP-4 (responses.tsv row 77): self_proxy=yes, `USER name@host[:port]`
  of a listed user is relayed and the login is the server's (dovecot's
  password, dovecot's -ERR for a wrong one); an unlisted user gets
  `-ERR Invalid Account Auth.`, the server is never contacted, the
  session goes on, and the auth log gets the Postfix-form line (mech
  LOGIN, so fail2ban's postfix[mode=auth] filter reads it); self_proxy=no: USER <name> is checked against the parent's host
  as configured (an address, or a name);
- POP-6: APOP's user checked the same way (not relayed when refused, a
  real APOP login when listed); POP AUTH refused while the restriction is
  on (a SASL exchange would carry a name the proxy does not read);
- FTP-4 (responses.tsv row 93): the same table with vsftpd (`500 Invalid
  Account Auth.`), IPv6 servers included;
- proxyauth_pam_account=no: no check at all (a user in no entry logs in,
  POP AUTH relayed);
- PAM unavailable (the database missing, the service file missing): POP
  `-ERR [SYS/TEMP] Authentication service unavailable`, FTP `421
  Authentication service unavailable, closing control connection.` and
  the end of the control connection; never a login, nothing reaches the
  server.

Tests whose docstring says "found by this test" showed defects that are
fixed (the user name with '@' read by the module as if it carried the
server; the auth log's USER lines missed by fail2ban's stock filter).

One gateway per class (its [pop]/[ftp] section); the module's servers
and the user database are shared. Server names (mail-a.test, open.test,
other.test) all resolve to 127.0.0.1 through a hosts file of the test's
own (CARES_HOSTS, lib/dns.h), so entries can name servers that differ
only by name."""
import base64
import hashlib
import os
import re
import socket
import struct
import subprocess
import unittest

import harness
from harness import pam
from harness import vsftpd as vs
from harness.fake_ftp import FakeFtp
from harness.ftp_proxy import FtpCase, RawFtp
from harness.pop_proxy import FakePop, PopCase, PopEnv, RawPop

ENV = {}
TIMEOUT = 60 * harness.SLOW
# Variables of sekisho's environment per PAM set-up (filled by setUpModule).
GW_ENV = {}               # the services on the module's database
GW_ENV_NO_DB = {}         # the services name a database that does not exist
GW_ENV_NO_SERVICE = {}    # no service files at all

# The user database (AUTH-2 text: a name line, a password line). dovecot a
# (127.0.0.1) has alice/alice-pw and bob/"bob secret"; dovecot b (127.0.0.1
# too) alice/b-pw and carol/carol-pw; vsftpd knows anonymous and ftp.
USERDB = [
    ("alice@127.0.0.1", ""),
    ("bob#127.0.0.1", ""),            # the '#' form (C-46)
    ("alice@Mail-A.test", ""),        # the server without case
    ("alice@example.com@mail-a.test", ""),  # a user name with '@' (split at the last)
    ("@open.test", ""),               # every user of open.test
    ("carol", "carol-pw"),            # a plain (HTTP/SMTP) user: no POP/FTP server
    ("anonymous@127.0.0.1", ""),
    ("ftp#127.0.0.1", ""),
    ("anonymous@mail-a.test", ""),
    ("anonymous@[::1]", ""),
]
HOSTS = "127.0.0.1 mail-a.test open.test other.test\n"

INVALID_POP = b"-ERR Invalid Account Auth."
INVALID_FTP = ["500 Invalid Account Auth."]
UNAVAILABLE_POP = b"-ERR [SYS/TEMP] Authentication service unavailable"
UNAVAILABLE_FTP = ["421 Authentication service unavailable, closing control connection."]
AUTH_LINE = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d sekisho_%s\[(\d+)\]: warning: "
             r"127\.0\.0\.1\[127\.0\.0\.1\]: SASL LOGIN authentication failed: "
             r"user not permitted, user=%s$")


def pam_setup(directory, db, services=("sekisho_pop", "sekisho_ftp")):
    """The gateway's environment (CARES_HOSTS included) in which services
    (a service directory of their own) use our module on db."""
    env = pam.pam_env(pam.service_dir(directory, db, services))
    env["CARES_HOSTS"] = ENV["hosts"]
    return env


def setUpModule():
    env = PopEnv("auth-popftp")
    ENV["env"] = env
    try:
        wd = env.wd.path
        root = os.path.join(wd, "ftp-root")
        os.makedirs(root)
        os.chmod(root, 0o755)
        with open(os.path.join(root, "hello.txt"), "wb") as f:
            f.write(b"hello\n")
        os.chmod(os.path.join(root, "hello.txt"), 0o644)
        env.a4, env.a6 = vs.dual(wd, root, name="a", banner="server a")
        env.started += [s for s in (env.a4, env.a6) if s]
        ENV["fakepop"] = FakePop()
        env.started.append(ENV["fakepop"])
        ENV["fakeftp"] = FakeFtp()
        env.started.append(ENV["fakeftp"])
        ENV["hosts"] = os.path.join(wd, "hosts")
        with open(ENV["hosts"], "w") as f:
            f.write(HOSTS)
        os.chmod(ENV["hosts"], 0o644)
        ENV["db"] = pam.create_userdb(os.path.join(wd, "userdb.db"), USERDB)
        ENV["pamd"] = os.path.join(wd, "pam.d")
        GW_ENV.update(pam_setup(ENV["pamd"], ENV["db"]))
        GW_ENV_NO_DB.update(pam_setup(os.path.join(wd, "pam.d-no-db"),
                                      os.path.join(wd, "missing.db")))
        GW_ENV_NO_SERVICE.update(pam_setup(os.path.join(wd, "pam.d-empty"), ENV["db"],
                                           services=()))
    except BaseException:
        env.stop()
        raise


def tearDownModule():
    ENV["env"].stop()


def pamtester_admits(service, user, server):
    """pamtester's acct_mgmt verdict on the module's services: True
    (account management done), False (user unknown); anything else fails."""
    r = subprocess.run(["pamtester", "-E", "SEKISHO_SERVER=" + server, service, user,
                        "acct_mgmt"], capture_output=True, text=True, timeout=TIMEOUT,
                       env=pam.pam_env(ENV["pamd"]))
    out = r.stdout + r.stderr
    if r.returncode == 0 and "pamtester: account management done." in out:
        return True
    if r.returncode == 1 and "pamtester: User not known to the underlying" in out:
        return False
    raise AssertionError("pamtester %s %s@%s: %d %s" % (service, user, server, r.returncode, out))


def sessions(fake):
    """The fake server's sessions so far (each one connection the proxy made)."""
    with fake.lock:
        return list(fake.sessions)


def session_lines(sess, fake):
    with fake.lock:
        return list(sess.lines)


def auth_lines(gw, proto, user):
    return gw.wait_log("auth", AUTH_LINE % (proto, re.escape(user)))


def fail2ban_counts(gw):
    """(lines, matched, missed) of fail2ban-regex on the gateway's auth log
    with the stock filter the auth log's form is meant for."""
    path = os.path.join(gw.logdir, "auth.log")
    r = subprocess.run(["fail2ban-regex", path, "postfix[mode=auth]"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    m = re.search(r"^Lines: (\d+) lines, \d+ ignored, (\d+) matched, (\d+) missed", r.stdout,
                  re.M)
    assert m, r.stdout + r.stderr
    return tuple(int(g) for g in m.groups())


def abandon(sock_owner):
    """Close a client's socket with a reset (SO_LINGER 0): gone at once."""
    sock_owner.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock_owner.close()


class AuthCaseMixin:
    """What the POP and FTP cases share: the gateway under pam_wrapper with
    the module's database, self_proxy=yes with the restriction on, and a
    scripted server (ENV[RECORDER]) that records every connection the proxy
    makes, where LISTED@127.0.0.1 is admitted with RECORDER_ADMITS."""
    ENV = ENV
    GW_ENV = GW_ENV
    PARENT = None
    SECTION = {"self_proxy": "yes", "proxyauth_pam_account": "yes"}
    PROTO = RAW = RECORDER = LISTED = RECORDER_ADMITS = INVALID = None

    @property
    def recorder(self):
        return ENV[self.RECORDER]

    def assert_refused_unseen(self, c, line):
        """line (a USER naming the recorder) refused with Invalid Account
        Auth., and no connection reached the recorder."""
        before = len(sessions(self.recorder))
        self.assertEqual(c.cmd(line), self.INVALID)
        # The positive control: an admitted USER to the same server on the
        # same connection reaches it; the refused one would have come first.
        self.assertEqual(c.cmd("USER %s@127.0.0.1:%d" % (self.LISTED, self.recorder.port)),
                         self.RECORDER_ADMITS)
        new = sessions(self.recorder)[before:]
        self.assertEqual([session_lines(s, self.recorder) for s in new],
                         [[b"USER " + self.LISTED.encode()]])

    def assert_unlisted_refused_by_a_worker(self, c):
        """mallory refused unseen, logged by a worker in the auth log and
        with the server in the info log."""
        self.assert_refused_unseen(c, "USER mallory@127.0.0.1:%d" % self.recorder.port)
        line = auth_lines(self.gw, self.PROTO, "mallory")[-1]
        self.assertIn(int(re.match(AUTH_LINE % (self.PROTO, "mallory"), line).group(1)),
                      self.gw.worker_pids())
        self.gw.wait_log("info", r"Invalid Account Auth\.: user \[mallory\] on \[127\.0\.0\.1\]$")

    def abandon_during_checks(self, count):
        """count clients that each send a USER (every other one LISTED) and
        go at once, while the check runs; returns the first admitted
        session after them: the slots of max_sessions_per_client come free
        as the proxy notices the ends (under load, not all at once)."""
        for i in range(count):
            c = self.RAW(self.gw.port)
            c.send("USER %s@127.0.0.1:%d\r\n" % (self.LISTED if i % 2 else "gone%d" % i,
                                                  self.recorder.port))
            abandon(c)
        return harness.wait_for(self.admitted_client, 20 * harness.SLOW, interval=0.1,
                                what="a session")

    def assert_fail2ban_reads_the_refusals(self, user):
        """Once user's refusal is in the auth log, fail2ban's stock filter
        matches every line of it."""
        auth_lines(self.gw, self.PROTO, user)
        lines, matched, missed = fail2ban_counts(self.gw)
        self.assertGreater(lines, 0)
        self.assertEqual((matched, missed), (lines, 0))

    def assert_pamtester_and_the_proxy_agree(self, cases):
        """For each (user, server, admitted): pamtester's acct_mgmt verdict
        on the protocol's service, and the proxy's reply to USER."""
        for user, server, admitted in cases:
            with self.subTest(user=user, server=server):
                self.assertEqual(pamtester_admits("sekisho_" + self.PROTO, user, server),
                                 admitted)
                with self.RAW(self.gw.port) as c:  # one at a time (max_sessions_per_client)
                    reply = c.cmd("USER %s@%s:%d" % (user, server, self.recorder.port))
                self.assertEqual(reply, self.RECORDER_ADMITS if admitted else self.INVALID)


# ---- POP ----------------------------------------------------------------------------


class PopAuthCase(AuthCaseMixin, PopCase):
    """sekisho --pop under pam_wrapper with the module's database; the
    scripted POP server (fakepop) is the recorder."""
    PROTO, RAW, RECORDER, LISTED, RECORDER_ADMITS = "pop", RawPop, "fakepop", "alice", b"+OK user"
    INVALID = INVALID_POP

    def user(self, c, name, host, port):
        return c.cmd("USER %s@%s:%d" % (name, host, port))


class TestPop4SelfProxy(PopAuthCase):
    """POP-4, AUTH-3, C-46 with self_proxy=yes: the client names the server."""

    def test_pop4_listed_user_relayed_and_logs_in_with_the_servers_password(self):
        c = self.client()
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.a.port), b"+OK")
        self.assertEqual(c.cmd("PASS alice-pw"), b"+OK Logged in.")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK %d " % len(harness.pop_proxy.ORDER)))
        self.assertEqual(c.cmd("QUIT"), b"+OK Logging out.")
        self.assertIn("alice", harness.dovecot.wait_for_logins(self.a, 1))

    def test_pop4_listed_user_wrong_password_gets_the_servers_err(self):
        c = self.client()
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.a.port), b"+OK")
        self.assertEqual(c.cmd("PASS b-pw"), b"-ERR [AUTH] Authentication failed.")
        # the password is the server's: b-pw is alice's on b, also listed there
        c = self.client()
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.b.port), b"+OK")
        self.assertEqual(c.cmd("PASS b-pw"), b"+OK Logged in.")

    def test_c46_hash_entry_admits_both_spellings(self):
        for sep in ("@", "#"):
            with self.subTest(sep=sep):
                c = self.client()
                self.assertEqual(c.cmd("USER bob%s127.0.0.1:%d" % (sep, self.a.port)), b"+OK")
                self.assertEqual(c.cmd("PASS bob secret"), b"+OK Logged in.")

    def test_auth3_at_server_admits_every_user_of_that_server(self):
        for user, password in (("carol", "carol-pw"), ("alice", "b-pw")):
            with self.subTest(user=user):
                c = self.client()
                self.assertEqual(self.user(c, user, "open.test", self.b.port), b"+OK")
                self.assertEqual(c.cmd("PASS " + password), b"+OK Logged in.")
        # a user the server does not know is still the server's to refuse
        c = self.client()
        self.assertEqual(self.user(c, "zed", "open.test", self.b.port), b"+OK")
        self.assertEqual(c.cmd("PASS zed"), b"-ERR [AUTH] Authentication failed.")

    def test_pop4_unlisted_user_refused_and_nothing_reaches_the_server(self):
        c = self.client()
        self.assert_unlisted_refused_by_a_worker(c)

    def test_auth3_plain_entry_does_not_admit_a_pop_user(self):
        # carol is a plain user (HTTP/SMTP) with a password, and carol of b
        # has that very password: the plain key still does not let her in.
        c = self.client()
        self.assertEqual(self.user(c, "carol", "127.0.0.1", self.b.port), INVALID_POP)
        self.assertEqual(c.cmd("PASS carol-pw"), b"-ERR please use USER command at first.")
        auth_lines(self.gw, "pop", "carol")
        c = self.client()
        self.assert_refused_unseen(c, "USER carol@127.0.0.1:%d" % self.recorder.port)

    def test_auth3_server_compared_without_case(self):
        for host in ("mail-a.test", "MAIL-A.TEST", "Mail-A.Test"):
            with self.subTest(host=host):
                c = self.client()
                self.assertEqual(self.user(c, "alice", host, self.a.port), b"+OK")
                self.assertEqual(c.cmd("PASS alice-pw"), b"+OK Logged in.")

    def test_auth3_entry_keys_the_server_name_the_client_used(self):
        # other.test is 127.0.0.1 as well, but no entry names it.
        c = self.client()
        self.assert_refused_unseen(c, "USER alice@other.test:%d" % self.recorder.port)
        # the user name is compared as written
        c = self.client()
        self.assert_refused_unseen(c, "USER ALICE@127.0.0.1:%d" % self.recorder.port)

    def test_pop6_auth_refused_while_restricted(self):
        c = self.client()
        before = len(sessions(self.recorder))
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.recorder.port), b"+OK user")
        for line in ("AUTH PLAIN", "AUTH PLAIN " + base64.b64encode(b"\0bob\0x").decode(),
                     "AUTH"):
            with self.subTest(line=line):
                self.assertEqual(c.cmd(line),
                                 b"-ERR AUTH is not available here; use USER and PASS")
        self.assertEqual(c.cmd("NOOP"), b"+OK")
        new = sessions(self.recorder)[before:]
        self.assertEqual([session_lines(s, self.recorder) for s in new], [[b"USER alice", b"NOOP"]])

    def test_pop4_refused_user_then_listed_user_on_one_connection(self):
        c = self.client()
        self.assertEqual(self.user(c, "mallory", "127.0.0.1", self.a.port), INVALID_POP)
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.a.port), b"+OK")
        self.assertEqual(c.cmd("PASS alice-pw"), b"+OK Logged in.")

    def test_pop4_pipelined_commands_wait_for_the_check(self):
        # Lines that arrive while PAM is asked wait their turn, in order.
        c = self.client()
        c.send("USER mallory@127.0.0.1:%d\r\nPASS x\r\nUSER alice@127.0.0.1:%d\r\n"
               "PASS alice-pw\r\nSTAT\r\n" % (self.a.port, self.a.port))
        self.assertEqual([c.line() for _ in range(4)],
                         [INVALID_POP, b"-ERR please use USER command at first.", b"+OK",
                          b"+OK Logged in."])
        self.assertTrue(c.line().startswith(b"+OK %d " % len(harness.pop_proxy.ORDER)))

    def test_pop4_client_gone_during_the_check(self):
        # proxy_auth_cancel: a session that ends while its check runs is not
        # touched by the answer (under ASan a use after free would show).
        workers = sorted(self.gw.worker_pids())
        c = self.abandon_during_checks(30)  # max_sessions_per_client is 20
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.a.port), b"+OK")
        self.assertEqual(c.cmd("PASS alice-pw"), b"+OK Logged in.")
        self.assertEqual(sorted(self.gw.worker_pids()), workers)

    def admitted_client(self):
        c = self.client()
        return c if c.greeting and c.greeting.startswith(b"+OK") else None

    def test_pop4_auth_log_line_read_by_fail2ban(self):
        """The restriction's refusals are read by fail2ban's stock filter
        postfix[mode=auth], whose mechanism is
        (?i)LOGIN|PLAIN|(?:CRAM|DIGEST)-MD5: they are written as LOGIN
        (found by this test: they were "USER", which it missed)."""
        c = self.client()
        self.assertEqual(self.user(c, "fred", "127.0.0.1", self.a.port), INVALID_POP)
        self.assert_fail2ban_reads_the_refusals("fred")

    def test_auth1_pamtester_and_the_proxy_agree(self):
        cases = [
            # (user, server, admitted)
            ("alice", "127.0.0.1", True),
            ("alice", "mail-a.test", True),
            ("alice", "MAIL-A.TEST", True),
            ("alice", "other.test", False),
            ("bob", "127.0.0.1", True),
            ("bob", "mail-a.test", False),
            ("carol", "127.0.0.1", False),
            ("carol", "open.test", True),
            ("zed", "open.test", True),
            ("zed", "127.0.0.1", False),
            ("ALICE", "127.0.0.1", False),
            ("anonymous", "127.0.0.1", True),  # an FTP-looking entry is an entry
        ]
        self.assert_pamtester_and_the_proxy_agree(cases)

    def test_auth3_user_name_with_at_sign(self):
        """Found by this test (fixed): the entry alice@example.com@mail-a.test
        (user "alice@example.com", server mail-a.test: the split at the LAST
        '@', as create_userdb and USER do) never admits that user: the proxy
        passes PAM_USER "alice@example.com" with SEKISHO_SERVER=mail-a.test,
        and the module takes the '@' in PAM_USER for a server part
        (userdb_check_account) and looks up alice@example.com instead."""
        c = self.client()
        self.assertEqual(c.cmd("USER alice@example.com@mail-a.test:%d" % self.recorder.port),
                         b"+OK user")

    def test_auth3_server_inside_the_user_name_not_trusted(self):
        """Found by this test (fixed): a listed user reaches ANY server
        by writing a listed server into the user name. USER
        alice@mail-a.test@other.test is the user "alice@mail-a.test" on
        other.test (no entry); the module reads PAM_USER "alice@mail-a.test"
        as alice on mail-a.test (listed) and ignores SEKISHO_SERVER, so the
        proxy connects to other.test and relays "USER alice@mail-a.test".
        With @open.test in the database any name "x@open.test" opens every
        server."""
        for line in ("USER alice@mail-a.test@other.test:%d" % self.recorder.port,
                     "USER zed@open.test@127.0.0.1:%d" % self.recorder.port):
            with self.subTest(line=line):
                c = self.client()
                self.assert_refused_unseen(c, line)


class TestPop4ParentByAddress(PopAuthCase):
    """self_proxy=no (parent dovecot a, configured as 127.0.0.1): USER and
    APOP names are checked against the parent's host; the logins are real."""
    PARENT = "a"
    SECTION = {"self_proxy": "no", "proxyauth_pam_account": "yes"}

    def stamp(self, c):
        return re.search(rb"<[^<>]+>", c.greeting).group(0)

    def test_pop4_user_checked_against_the_parent(self):
        c = self.client()
        self.assertTrue(c.greeting.startswith(b"+OK sekisho-test a ready."), c.greeting)
        self.assertEqual(c.cmd("USER bob"), b"+OK")
        self.assertEqual(c.cmd("PASS bob secret"), b"+OK Logged in.")
        c = self.client()
        self.assertEqual(c.cmd("USER carol"), INVALID_POP)
        self.assertEqual(c.cmd("PASS carol-pw"), b"-ERR No username given.")
        auth_lines(self.gw, "pop", "carol")
        self.gw.wait_log("info", r"Invalid Account Auth\.: user \[carol\] on \[127\.0\.0\.1\]$")

    def test_pop6_apop_listed_user_logs_in(self):
        c = self.client()
        digest = hashlib.md5(self.stamp(c) + b"alice-pw").hexdigest()
        self.assertEqual(c.cmd("APOP alice " + digest), b"+OK Logged in.")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK %d " % len(harness.pop_proxy.ORDER)))

    def test_pop6_apop_unlisted_user_refused(self):
        # zed is listed on open.test only; the parent is 127.0.0.1
        c = self.client()
        stamp = self.stamp(c)
        self.assertEqual(c.cmd("APOP zed " + hashlib.md5(stamp + b"x").hexdigest()),
                         INVALID_POP)
        auth_lines(self.gw, "pop", "zed")
        # the session goes on: a listed user's APOP on the same connection
        digest = hashlib.md5(stamp + b"alice-pw").hexdigest()
        self.assertEqual(c.cmd("APOP alice " + digest), b"+OK Logged in.")


class TestPop6ParentByName(PopAuthCase):
    """self_proxy=no with a scripted parent configured by name
    (mail-a.test): what reaches it is recorded, so a refused USER or APOP
    and a refused AUTH are seen not to be relayed."""
    PARENT = "fake"
    FAKE = {"GREETING": b"+OK fake ready <1896.697170952@fake.test>\r\n",
            "APOP": b"+OK apop accepted\r\n", "AUTH": b"+OK auth accepted\r\n"}

    # PopCase's FakePop (cls.fake) is the parent; its port stays, its name
    # is the one the database knows.
    SECTION = {"self_proxy": "no", "proxyauth_pam_account": "yes",
               "parent_server_host": "mail-a.test"}

    def lines_of_this_session(self, c):
        """The lines the parent got on c's connection (c's server session is
        the last one: one client at a time)."""
        self.assertEqual(c.cmd("NOOP"), b"+OK")
        return session_lines(sessions(self.fake)[-1], self.fake)

    def test_pop4_user_checked_against_the_parent_name(self):
        c = self.client()
        self.assertEqual(c.greeting, b"+OK fake ready <1896.697170952@fake.test>")
        self.assertEqual(c.cmd("USER bob"), INVALID_POP)  # bob#127.0.0.1: another name
        self.assertEqual(c.cmd("USER alice"), b"+OK user")
        self.assertEqual(self.lines_of_this_session(c), [b"USER alice", b"NOOP"])
        self.gw.wait_log("info", r"Invalid Account Auth\.: user \[bob\] on \[mail-a\.test\]$")

    def test_pop6_apop_unlisted_not_relayed_listed_relayed(self):
        c = self.client()
        self.assertEqual(c.cmd("APOP bob c4c9334bac560ecc979e58001b3e22fb"), INVALID_POP)
        self.assertEqual(c.cmd("APOP alice c4c9334bac560ecc979e58001b3e22fb"),
                         b"+OK apop accepted")
        self.assertEqual(self.lines_of_this_session(c),
                         [b"APOP alice c4c9334bac560ecc979e58001b3e22fb", b"NOOP"])
        auth_lines(self.gw, "pop", "bob")

    def test_pop6_auth_not_relayed(self):
        c = self.client()
        self.assertEqual(c.cmd("AUTH PLAIN " + base64.b64encode(b"\0zed\0x").decode()),
                         b"-ERR AUTH is not available here; use USER and PASS")
        self.assertEqual(self.lines_of_this_session(c), [b"NOOP"])

    def test_auth3_server_inside_the_user_name_not_trusted(self):
        """Found by this test (fixed): with self_proxy=no the whole
        argument is the user name; "zed@open.test" (no entry on
        mail-a.test) is admitted and relayed because the module takes
        open.test, where every user is listed, out of the name and
        ignores SEKISHO_SERVER=mail-a.test."""
        c = self.client()
        self.assertEqual(c.cmd("USER zed@open.test"), INVALID_POP)
        self.assertEqual(self.lines_of_this_session(c), [b"NOOP"])


class TestPop4SelfProxyWithParent(PopAuthCase):
    """self_proxy=yes with a parent (the scripted one, by name): a plain
    USER name goes to the parent and is checked against its name; a
    name@host is checked against host."""
    PARENT = "fake"
    SECTION = {"self_proxy": "yes", "proxyauth_pam_account": "yes",
               "parent_server_host": "mail-a.test"}

    def test_pop4_plain_name_checked_against_the_parent(self):
        before = len(sessions(self.fake))
        c = self.client()
        self.assertEqual(c.cmd("USER bob"), INVALID_POP)
        self.assertEqual(sessions(self.fake)[before:], [])
        self.assertEqual(c.cmd("USER alice"), b"+OK user")
        self.assertEqual(c.cmd("PASS pw"), b"+OK logged in")
        c = self.client()
        self.assertEqual(c.cmd("USER bob@127.0.0.1:%d" % self.fake.port), b"+OK user")
        new = sessions(self.fake)[before:]
        self.assertEqual([session_lines(s, self.fake) for s in new],
                         [[b"USER alice", b"PASS pw"], [b"USER bob"]])
        self.gw.wait_log("info", r"Invalid Account Auth\.: user \[bob\] on \[mail-a\.test\]$")


class TestPopRestrictionOff(PopAuthCase):
    """proxyauth_pam_account=no (the default), PAM set up all the same: no
    check; carol, in no POP entry, logs in to dovecot b by USER/PASS, APOP
    and AUTH."""
    PARENT = "b"
    SECTION = {"self_proxy": "no"}

    def test_pop4_no_check_without_the_restriction(self):
        c = self.client()
        self.assertEqual(c.cmd("USER carol"), b"+OK")
        self.assertEqual(c.cmd("PASS carol-pw"), b"+OK Logged in.")
        c = self.client()
        stamp = re.search(rb"<[^<>]+>", c.greeting).group(0)
        self.assertEqual(c.cmd("APOP carol " + hashlib.md5(stamp + b"carol-pw").hexdigest()),
                         b"+OK Logged in.")
        c = self.client()
        self.assertEqual(c.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0carol\0carol-pw")),
                         b"+OK Logged in.")
        self.assertEqual(self.gw.log_text("auth"), "")
        self.assertNotIn("PAM sekisho_pop", self.gw.log_text("info"))


class TestPopPamUnavailable(PopAuthCase):
    """The database of the service is missing (PAM_AUTHINFO_UNAVAIL): a
    temporary failure, never a login, nothing reaches the server."""
    GW_ENV = GW_ENV_NO_DB

    def test_auth1_pam_unavailable_is_a_temporary_failure(self):
        before = len(sessions(self.recorder))
        c = self.client()
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.recorder.port), UNAVAILABLE_POP)
        self.assertEqual(c.cmd("PASS alice-pw"), b"-ERR please use USER command at first.")
        self.assertEqual(self.user(c, "alice", "127.0.0.1", self.a.port), UNAVAILABLE_POP)
        self.assertEqual(c.cmd("QUIT"), b"+OK Quit")
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(sessions(self.recorder)[before:], [])
        self.gw.wait_log("error", r"PAM sekisho_pop \(account, user \[alice\]\): pam_acct_mgmt: "
                                  r"Authentication service cannot retrieve authentication info")
        # an outage is no client's failure: nothing for fail2ban
        self.assertEqual(self.gw.log_text("auth"), "")


# ---- FTP ----------------------------------------------------------------------------


class FtpAuthCase(AuthCaseMixin, FtpCase):
    """sekisho --ftp under pam_wrapper with the module's database; the
    scripted FTP server (fakeftp) is the recorder."""
    PROTO, RAW, RECORDER, LISTED = "ftp", RawFtp, "fakeftp", "anonymous"
    RECORDER_ADMITS = ["331 Please specify the password."]
    INVALID = INVALID_FTP

    @property
    def a4(self):
        return self.env.a4

    def assert_unavailable_closes(self, error_rx):
        """USER when PAM cannot answer: 421 and the end of the control
        connection, nothing reaches the recorder, the error logged (its
        reason: error_rx), nothing for fail2ban."""
        before = len(sessions(self.recorder))
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % self.recorder.port),
                         UNAVAILABLE_FTP)
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(sessions(self.recorder)[before:], [])
        self.gw.wait_log("error", r"PAM sekisho_ftp \(account, user \[anonymous\]\): " + error_rx)
        self.assertEqual(self.gw.log_text("auth"), "")

    def login(self, c, password):
        self.assertEqual(c.cmd("PASS " + password), ["230 Login successful."])
        self.assertEqual(c.cmd("SIZE hello.txt"), ["213 6"])


class TestFtp4SelfProxy(FtpAuthCase):
    """FTP-4, AUTH-3, C-46 with self_proxy=yes against vsftpd."""

    def test_ftp4_listed_user_relayed_and_logs_in(self):
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % self.a4.port),
                         ["331 Please specify the password."])
        self.login(c, "listed@example.com")
        self.assertIn("listed@example.com", self.a4.logins())

    def test_c46_hash_entry_admits_both_spellings(self):
        for sep in ("@", "#"):
            with self.subTest(sep=sep):
                c = self.client()
                self.assertEqual(c.cmd("USER ftp%s127.0.0.1:%d" % (sep, self.a4.port)),
                                 ["331 Please specify the password."])
                self.login(c, "hash%s@example.com" % ("at" if sep == "@" else "hash"))

    def test_auth3_at_server_admits_every_user_of_that_server(self):
        c = self.client()
        self.assertEqual(c.cmd("USER ftp@open.test:%d" % self.a4.port),
                         ["331 Please specify the password."])
        self.login(c, "open@example.com")
        # relayed: refusing a non-anonymous user is vsftpd's business
        c = self.client()
        self.assertEqual(c.cmd("USER yves@open.test:%d" % self.a4.port),
                         ["530 This FTP server is anonymous only."])
        self.assertIn("USER yves", self.a4.commands())

    def test_ftp4_unlisted_user_refused_and_nothing_reaches_the_server(self):
        c = self.client()
        self.assert_unlisted_refused_by_a_worker(c)
        # vsftpd a: a refused user never connects there either
        c = self.client()
        self.assertEqual(c.cmd("USER walter@127.0.0.1:%d" % self.a4.port), INVALID_FTP)
        self.assertEqual(c.cmd("PASS x"), ["530 please use USER command at first."])
        self.assertNotIn("USER walter", self.a4.commands())

    def test_ftp4_client_gone_during_the_check(self):
        workers = sorted(self.gw.worker_pids())
        c = self.abandon_during_checks(12)  # max_sessions_per_client is 5
        self.assertEqual(c.cmd("USER anonymous@127.0.0.1:%d" % self.a4.port),
                         ["331 Please specify the password."])
        self.login(c, "after@example.com")
        self.assertEqual(sorted(self.gw.worker_pids()), workers)

    def admitted_client(self):
        c = RawFtp(self.gw.port)
        self.addCleanup(c.close)
        return c if c.greeting and c.greeting[0].startswith("220 ") else None

    def test_ftp4_auth_log_line_read_by_fail2ban(self):
        """As for POP: fail2ban's stock postfix[mode=auth] filter reads
        every refusal line."""
        c = self.client()
        self.assertEqual(c.cmd("USER fred@127.0.0.1:%d" % self.a4.port), INVALID_FTP)
        self.assert_fail2ban_reads_the_refusals("fred")

    def test_auth3_server_compared_without_case(self):
        for host in ("mail-a.test", "MAIL-A.TEST"):
            with self.subTest(host=host):
                c = self.client()
                self.assertEqual(c.cmd("USER anonymous@%s:%d" % (host, self.a4.port)),
                                 ["331 Please specify the password."])
                self.login(c, "case@example.com")

    def test_auth3_entry_keys_the_server_name_the_client_used(self):
        c = self.client()
        self.assert_refused_unseen(c, "USER anonymous@other.test:%d" % self.recorder.port)

    def test_ftp4_ipv6_server_entry(self):
        if not self.env.a6:
            self.skipTest("::1 cannot be bound here")
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@[::1]:%d" % self.env.a6.port),
                         ["331 Please specify the password."])
        self.login(c, "six@example.com")
        self.assertIn("six@example.com", self.env.a6.logins())
        self.assertEqual(c.cmd("USER ftp@[::1]:%d" % self.env.a6.port), INVALID_FTP)

    def test_auth1_pamtester_and_the_proxy_agree(self):
        cases = [
            ("anonymous", "127.0.0.1", True),
            ("anonymous", "mail-a.test", True),
            ("anonymous", "MAIL-A.test", True),
            ("anonymous", "other.test", False),
            ("ftp", "127.0.0.1", True),
            ("ftp", "mail-a.test", False),
            ("ftp", "open.test", True),
            ("Anonymous", "127.0.0.1", False),
            ("carol", "127.0.0.1", False),
            ("alice", "127.0.0.1", True),  # a POP-looking entry is an entry
        ]
        self.assert_pamtester_and_the_proxy_agree(cases)

    def test_auth3_server_inside_the_user_name_not_trusted(self):
        """Found by this test (fixed): as for POP, USER
        anonymous@mail-a.test@other.test is let through to other.test (no
        entry) because the module reads the listed server out of the user
        name and ignores SEKISHO_SERVER."""
        c = self.client()
        self.assert_refused_unseen(c, "USER anonymous@mail-a.test@other.test:%d"
                                   % self.recorder.port)


class TestFtp4Parent(FtpAuthCase):
    """self_proxy=no: vsftpd a (127.0.0.1) is the parent; USER <name> is
    checked against 127.0.0.1 and, refused, never relayed (vsftpd's
    protocol log has every command it got)."""
    PARENT = "a4"
    SECTION = {"self_proxy": "no", "proxyauth_pam_account": "yes"}

    def test_ftp4_user_checked_against_the_parent(self):
        c = self.client()
        self.assertEqual(c.greeting, ["220 server a"])
        self.assertEqual(c.cmd("USER victor"), INVALID_FTP)
        self.assertEqual(c.cmd("USER ftp"), ["331 Please specify the password."])
        self.login(c, "parent@example.com")
        cmds = self.a4.commands()
        self.assertIn("USER ftp", cmds)
        self.assertNotIn("USER victor", cmds)
        auth_lines(self.gw, "ftp", "victor")


class TestFtpRestrictionOff(FtpAuthCase):
    """proxyauth_pam_account=no: no check (other.test has no entry)."""
    SECTION = {"self_proxy": "yes"}

    def test_ftp4_no_check_without_the_restriction(self):
        c = self.client()
        self.assertEqual(c.cmd("USER anonymous@other.test:%d" % self.a4.port),
                         ["331 Please specify the password."])
        self.login(c, "off@example.com")
        self.assertEqual(self.gw.log_text("auth"), "")


class TestFtpPamUnavailable(FtpAuthCase):
    """No PAM service file at all: 421 and the end of the control
    connection; nothing reaches the server."""
    GW_ENV = GW_ENV_NO_SERVICE

    def test_auth1_pam_unavailable_closes_the_control_connection(self):
        self.assert_unavailable_closes(
            r"pam_start\(sekisho_ftp\): Critical error - immediate abort")


class TestFtpPamUnavailableNoDb(FtpAuthCase):
    """The service's database is missing: the same 421."""
    GW_ENV = GW_ENV_NO_DB

    def test_auth1_pam_unavailable_closes_the_control_connection(self):
        self.assert_unavailable_closes(r"pam_acct_mgmt: Authentication service cannot retrieve")


if __name__ == "__main__":
    unittest.main()
