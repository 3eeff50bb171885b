"""The user database and its PAM module (AUTH-1, AUTH-2, AUTH-3, C-46, G-06,
CLI-5): create_userdb as an administrator runs it, and real libpam
(pamtester under pam_wrapper, harness/pam.py) loading the built
pam_sekisho_userdb.so, so the services sekisho_{http,smtp,pop,ftp} are
checked the way the proxies will use them, without system accounts.

Covered: create_userdb's two input forms, its summary line, exit codes and
"input:line: reason" errors (the old database untouched); a table of users
and passwords through `authenticate` (right, wrong, empty, unknown, longest,
UTF-8, POP/FTP entries that never authenticate); a table of POP/FTP names
through `acct_mgmt`, both as "user@server" and as the proxies pass it (the
user name, the server in the PAM environment variable SEKISHO_SERVER); the
module's arguments and PAM return codes; a rebuild seen by the next call;
and `make install`'s PAM files, links and database. core/userdb itself is
unit-tested in tests/unit/core/test_userdb.c."""
import os
import pwd
import re
import stat
import subprocess
import unittest

import harness
from harness import pam

CREATE_USERDB = os.path.join(harness.BIN, "create_userdb")
TIMEOUT = 60 * harness.SLOW

# pamtester's messages (pam_strerror) per PAM return code.
OK_AUTH = "pamtester: successfully authenticated"
OK_ACCT = "pamtester: account management done."
AUTH_ERR = "pamtester: Authentication failure"                                     # PAM_AUTH_ERR
USER_UNKNOWN = "pamtester: User not known to the underlying authentication module"  # PAM_USER_UNKNOWN
AUTHINFO_UNAVAIL = "pamtester: Authentication service cannot retrieve authentication info"
SERVICE_ERR = "pamtester: Error in service module"                                  # PAM_SERVICE_ERR

LONG_USER = "u" * 255
LONG_PASSWORD = "p" * 254 + "!"
USERS = [
    # (user, password): plain users, HTTP/SMTP authentication
    ("alice", "alice-pw"),
    ("bob", "two words & $ymbols #@:"),
    ("j\u00fcrgen", "\u30d1\u30b9\u30ef\u30fc\u30c9 \u00e9t\u00e9"),
    (LONG_USER, LONG_PASSWORD),
]
ENTRIES = [
    # POP/FTP entries (AUTH-3, C-46): names only
    "carol@pop.example",
    "dave#POP.Example",
    "@ftp.example",
    "eve@[2001:db8::1]",
]


def userdb_text(users=USERS, entries=ENTRIES):
    lines = []
    for user, password in users:
        lines += [user, password]
    for key in entries:
        lines += [key, ""]
    return "\n".join(lines) + "\n"


def create_userdb(args, text=None, cwd=None):
    """Run create_userdb; text (str or bytes) is its standard input."""
    data = text.encode() if isinstance(text, str) else text
    return subprocess.run([CREATE_USERDB] + args, input=data if data is not None else b"",
                          capture_output=True, cwd=cwd, timeout=TIMEOUT)


class Pamtester:
    """pamtester with the PAM services of one directory (pam_wrapper)."""

    def __init__(self, service_dir):
        self.service_dir = service_dir

    def run(self, service, user, ops, password=None, env_vars=None, debug_level=None):
        """(exit status, pamtester's result lines, stderr): the result lines
        are its "pamtester: ..." lines (successes on stdout, the failure on
        stderr after the password prompt)."""
        argv = ["pamtester"]
        for k, v in (env_vars or {}).items():
            argv += ["-E", "%s=%s" % (k, v)]
        argv += [service, user] + list(ops)
        r = subprocess.run(argv, input=((password or "") + "\n").encode(),
                           capture_output=True, timeout=TIMEOUT,
                           env=pam.pam_env(self.service_dir, debug_level=debug_level))
        out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
        results = re.findall(r"pamtester: [^\n]*", out + "\n" + err.replace("Password: ", "\n"))
        return r.returncode, results, err

    def authenticate(self, service, user, password):
        rc, results, _ = self.run(service, user, ["authenticate"], password)
        return rc, results

    def acct_mgmt(self, service, user, server=None):
        env_vars = {"SEKISHO_SERVER": server} if server is not None else None
        rc, results, _ = self.run(service, user, ["acct_mgmt"], env_vars=env_vars)
        return rc, results


class UserdbCase(unittest.TestCase):
    """A work directory with userdb.txt, userdb.db built from it, and the
    four services pointing at the built module and that database."""

    @classmethod
    def setUpClass(cls):
        cls.wd = harness.Workdir("userdb")
        cls.db = os.path.join(cls.wd.path, "userdb.db")
        cls.pamd = os.path.join(cls.wd.path, "pam.d")
        r = create_userdb([cls.db], userdb_text())
        assert r.returncode == 0, r.stderr
        for svc in pam.SERVICES:
            pam.write_service(cls.pamd, svc, pam.service_text(cls.db))
        cls.pt = Pamtester(cls.pamd)

    @classmethod
    def tearDownClass(cls):
        cls.wd.cleanup()


class TestCreateUserdb(unittest.TestCase):
    """create_userdb (AUTH-2, CLI-5): `create_userdb userdb.db < userdb.txt`
    and `create_userdb userdb.db userdb.txt`; a refused text names the input
    and line, exits 1 and leaves the old database as it was."""

    def setUp(self):
        self.wd = harness.Workdir("create-userdb")
        self.dir = self.wd.path

    def tearDown(self):
        self.wd.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, data):
        with open(self.path(name), "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)

    def test_builds_from_stdin_and_from_a_file(self):
        r = create_userdb(["userdb.db"], userdb_text(), cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"create_userdb: 4 users, 4 POP/FTP entries -> userdb.db\n")
        self.assertEqual(r.stderr, b"")
        self.write("other.txt", "zed\nzed-pw\n@pop.example\n\n")
        r = create_userdb(["other.db", "other.txt"], cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"create_userdb: 1 users, 1 POP/FTP entries -> other.db\n")
        # The database holds hashes, not the passwords (AUTH-2 through PAM).
        for name, secret in (("userdb.db", b"alice-pw"), ("other.db", b"zed-pw")):
            with open(self.path(name), "rb") as f:
                self.assertNotIn(secret, f.read())
            self.assertEqual(stat.S_IMODE(os.stat(self.path(name)).st_mode), 0o640)
        pamd = self.path("pam.d")
        pam.write_service(pamd, "sekisho_http", pam.service_text(self.path("other.db")))
        self.assertEqual(Pamtester(pamd).authenticate("sekisho_http", "zed", "zed-pw"),
                         (0, [OK_AUTH]))

    def test_refused_text_names_input_and_line(self):
        good = "alice\nalice-pw\n"
        self.assertEqual(create_userdb([self.path("userdb.db")], good).returncode, 0)
        with open(self.path("userdb.db"), "rb") as f:
            before = f.read()
        ino = os.stat(self.path("userdb.db")).st_ino
        cases = [
            # (text, line, reason)
            ("alice\npw1\nbob\npw2\nalice\npw3\n", 5,
             'duplicate of line 1: both are the key "alice" (user#server is user@server, '
             "and the server is compared without case)"),
            ("x@POP.example\n\ny#pop.example\n\nx#pop.EXAMPLE\n\n", 5,
             'duplicate of line 1: both are the key "x@pop.example" (user#server is '
             "user@server, and the server is compared without case)"),
            ("alice\nalice-pw\n\nbob\npw\n", 3,
             "blank line where a user name is expected (it would pair every following "
             "password with the wrong name)"),
            ("alice\nalice-pw\nbob\n\n", 3,
             "empty password line for a user name (only user@server and @server entries "
             "may have none)"),
            ("alice\n", 1, "user name without a password line (an empty password is an empty "
             "line)"),
            ("al\tice\npw\n", 1, "control byte or NUL in the user name"),
            ("carol@pop.example:110\n\n", 1,
             "server part names a port (an entry names a server, not a port)"),
        ]
        self.write("bad.txt", "")
        for text, line, reason in cases:
            with self.subTest(text=text):
                r = create_userdb([self.path("userdb.db")], text)
                self.assertEqual(r.returncode, 1)
                self.assertEqual(r.stdout, b"")
                self.assertEqual(r.stderr.decode(),
                                 "create_userdb: stdin:%d: %s\n" % (line, reason))
                self.write("bad.txt", text)
                r = create_userdb([self.path("userdb.db"), self.path("bad.txt")])
                self.assertEqual(r.returncode, 1)
                self.assertEqual(r.stderr.decode(), "create_userdb: %s:%d: %s\n"
                                 % (self.path("bad.txt"), line, reason))
                # untouched: same inode, same bytes, no temporary file left
                self.assertEqual(os.stat(self.path("userdb.db")).st_ino, ino)
                with open(self.path("userdb.db"), "rb") as f:
                    self.assertEqual(f.read(), before)
                self.assertEqual([n for n in os.listdir(self.dir) if ".tmp." in n], [])

    def test_input_larger_than_the_limit(self):
        # USERDB_FILE_MAX: 100000 records of two 255-byte lines with CRLF.
        r = create_userdb([self.path("userdb.db")], b"a" * (51400000 + 1))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr,
                         b"create_userdb: stdin: larger than 51400000 bytes (USERDB_FILE_MAX)\n")
        self.assertFalse(os.path.exists(self.path("userdb.db")))

    def test_io_and_usage_errors(self):
        r = create_userdb([self.path("userdb.db"), self.path("missing.txt")])
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode(), "create_userdb: %s: No such file or directory\n"
                         % self.path("missing.txt"))
        r = create_userdb([self.path("no-dir/userdb.db")], "alice\nalice-pw\n")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr.decode(),
                         "create_userdb: %s: its directory %s: No such file or directory\n"
                         % (self.path("no-dir/userdb.db"), self.path("no-dir")))
        self.assertFalse(os.path.exists(self.path("no-dir")))
        r = create_userdb([])
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith(b"usage: create_userdb DB [TEXT]\n"))
        r = create_userdb(["a.db", "b.txt", "c"])
        self.assertEqual(r.returncode, 2)
        r = create_userdb(["--help"])
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"usage: create_userdb DB [TEXT]\n"))
        self.assertEqual(os.listdir(self.dir), [])

    @unittest.skipUnless(os.geteuid() == 0, "changing owner and group needs root")
    def test_rebuild_keeps_owner_group_and_mode(self):
        db = self.path("userdb.db")
        self.assertEqual(create_userdb([db], "alice\nalice-pw\n").returncode, 0)
        nobody = pwd.getpwnam("nobody")
        os.chown(db, nobody.pw_uid, nobody.pw_gid)
        os.chmod(db, 0o604)
        r = create_userdb([db], "alice\nnew-pw\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        st = os.stat(db)
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)),
                         (nobody.pw_uid, nobody.pw_gid, 0o604))


class TestAuthenticate(UserdbCase):
    """pam_authenticate through the module (AUTH-1: HTTP proxy authentication
    and SMTP AUTH go through PAM): the password against the hash of a plain
    user."""

    def test_users_and_passwords(self):
        cases = [
            # (user, password, exit status, result)
            ("alice", "alice-pw", 0, OK_AUTH),
            ("alice", "alice-pw ", 1, AUTH_ERR),
            ("alice", "ALICE-PW", 1, AUTH_ERR),
            ("alice", "", 1, AUTH_ERR),
            ("Alice", "alice-pw", 1, USER_UNKNOWN),
            ("bob", "two words & $ymbols #@:", 0, OK_AUTH),
            ("bob", "two words", 1, AUTH_ERR),
            ("j\u00fcrgen", "\u30d1\u30b9\u30ef\u30fc\u30c9 \u00e9t\u00e9", 0, OK_AUTH),
            ("j\u00fcrgen", "\u30d1\u30b9\u30ef\u30fc\u30c9 ete", 1, AUTH_ERR),
            ("jurgen", "\u30d1\u30b9\u30ef\u30fc\u30c9 \u00e9t\u00e9", 1, USER_UNKNOWN),
            (LONG_USER, LONG_PASSWORD, 0, OK_AUTH),
            (LONG_USER, LONG_PASSWORD + "x", 1, AUTH_ERR),
            (LONG_USER + "u", LONG_PASSWORD, 1, USER_UNKNOWN),
            ("nobody-here", "alice-pw", 1, USER_UNKNOWN),
            # POP/FTP entries have no password and never authenticate
            ("carol@pop.example", "", 1, USER_UNKNOWN),
            ("carol@pop.example", "x", 1, USER_UNKNOWN),
            ("@ftp.example", "", 1, USER_UNKNOWN),
            ("alice@pop.example", "alice-pw", 1, USER_UNKNOWN),
        ]
        for user, password, status, result in cases:
            with self.subTest(user=user[:20], password=password[:20]):
                self.assertEqual(self.pt.authenticate("sekisho_smtp", user, password),
                                 (status, [result]))

    def test_every_service_uses_the_database(self):
        for svc in pam.SERVICES:
            with self.subTest(service=svc):
                self.assertEqual(self.pt.authenticate(svc, "alice", "alice-pw"), (0, [OK_AUTH]))
                self.assertEqual(self.pt.authenticate(svc, "alice", "bad"), (1, [AUTH_ERR]))

    def test_authenticate_then_account_of_a_plain_user(self):
        # What the HTTP and SMTP proxies do: auth, then account (no server).
        rc, results, _ = self.pt.run("sekisho_http", "alice", ["authenticate", "acct_mgmt"],
                                     "alice-pw")
        self.assertEqual((rc, results), (0, [OK_AUTH, OK_ACCT]))


class TestAccount(UserdbCase):
    """pam_acct_mgmt through the module: the POP/FTP user restriction
    (AUTH-3, POP-6, FTP-4, C-46). The proxies pass PAM_USER = the user
    name and the server in the PAM environment (SEKISHO_SERVER, here
    pamtester -E); "user@server" as the PAM user works too."""

    CASES = [
        # (user, server, allowed)
        ("carol", "pop.example", True),
        ("carol", "POP.EXAMPLE", True),
        ("carol", "pop2.example", False),
        ("Carol", "pop.example", False),
        ("dave", "pop.example", True),          # written dave#POP.Example
        ("dave", "ftp.example", True),          # @ftp.example: every user
        ("anyone", "ftp.example", True),
        ("anyone", "ftp2.example", False),
        ("eve", "2001:db8:0::1", True),         # IPv6 in another spelling
        ("eve", "2001:db8::2", False),
        ("alice", "pop.example", False),        # a plain user is not a POP/FTP entry
    ]

    def test_user_and_server_apart(self):
        for user, server, allowed in self.CASES:
            with self.subTest(user=user, server=server):
                self.assertEqual(self.pt.acct_mgmt("sekisho_pop", user, server),
                                 (0, [OK_ACCT]) if allowed else (1, [USER_UNKNOWN]))

    def test_user_at_server_as_the_name(self):
        for user, server, allowed in self.CASES:
            name = "%s@%s" % (user, "[%s]" % server if ":" in server else server)
            for form in (name, name.replace("@", "#")):
                with self.subTest(name=form):
                    self.assertEqual(self.pt.acct_mgmt("sekisho_ftp", form),
                                     (0, [OK_ACCT]) if allowed else (1, [USER_UNKNOWN]))
        # with SEKISHO_SERVER set (as the proxies set it) the name is taken
        # whole: no server can be named through it (issue 13: the name
        # "carol@pop.example" on x.example is not pop.example's carol)
        self.assertEqual(self.pt.acct_mgmt("sekisho_ftp", "carol@pop.example", "x.example"),
                         (1, [USER_UNKNOWN]))

    def test_without_a_server_only_plain_users(self):
        self.assertEqual(self.pt.acct_mgmt("sekisho_http", "alice"), (0, [OK_ACCT]))
        self.assertEqual(self.pt.acct_mgmt("sekisho_http", "carol"), (1, [USER_UNKNOWN]))
        self.assertEqual(self.pt.acct_mgmt("sekisho_http", "@ftp.example"), (1, [USER_UNKNOWN]))


class TestModule(unittest.TestCase):
    """The module's arguments, its PAM return codes when the database is
    missing or not configured, its log lines, its exported symbols, and a
    database rebuilt while in use (opened per call)."""

    def setUp(self):
        self.wd = harness.Workdir("pam-module")
        self.db = os.path.join(self.wd.path, "userdb.db")
        self.pamd = os.path.join(self.wd.path, "pam.d")
        self.pt = Pamtester(self.pamd)
        self.assertEqual(create_userdb([self.db], "alice\nold-pw\n").returncode, 0)

    def tearDown(self):
        self.wd.cleanup()

    def test_missing_db_argument_is_a_service_error(self):
        m = pam.module_path()
        pam.write_service(self.pamd, "sekisho_smtp",
                          "auth required %s debug\naccount required %s\n" % (m, m))
        rc, results, err = self.pt.run("sekisho_smtp", "alice", ["authenticate"], "old-pw")
        self.assertEqual((rc, results), (1, [SERVICE_ERR]))
        self.assertIn("SYSLOG(3): no db=<path> argument: the user database is not configured",
                      err)
        rc, results, _ = self.pt.run("sekisho_smtp", "alice", ["acct_mgmt"])
        self.assertEqual((rc, results), (1, [SERVICE_ERR]))

    def test_unreadable_database_is_authinfo_unavail(self):
        missing = os.path.join(self.wd.path, "missing.db")
        pam.write_service(self.pamd, "sekisho_pop", pam.service_text(missing))
        rc, results, err = self.pt.run("sekisho_pop", "alice", ["authenticate"], "old-pw")
        self.assertEqual((rc, results), (1, [AUTHINFO_UNAVAIL]))
        self.assertIn("SYSLOG(3): cannot open the user database %s: No such file or directory"
                      % missing, err)
        self.assertEqual(self.pt.acct_mgmt("sekisho_pop", "carol", "pop.example"),
                         (1, [AUTHINFO_UNAVAIL]))
        with open(missing, "w") as f:
            f.write("alice\nold-pw\n" * 500)  # the text, not a database
        self.assertEqual(self.pt.authenticate("sekisho_pop", "alice", "old-pw"),
                         (1, [AUTHINFO_UNAVAIL]))

    def test_debug_and_unknown_options_are_logged(self):
        pam.write_service(self.pamd, "sekisho_http",
                          pam.service_text(self.db, debug=True, extra="bogus=1"))
        rc, results, err = self.pt.run("sekisho_http", "alice", ["authenticate"], "old-pw",
                                       debug_level=2)
        self.assertEqual((rc, results), (0, [OK_AUTH]))
        self.assertIn("SYSLOG(3): unknown option: bogus=1", err)
        self.assertIn("SYSLOG(7): authenticate alice: OK", err)
        self.assertNotIn("old-pw", err)
        rc, results, err = self.pt.run("sekisho_http", "alice", ["acct_mgmt"],
                                       env_vars={"SEKISHO_SERVER": "pop.example"},
                                       debug_level=2)
        self.assertEqual((rc, results), (1, [USER_UNKNOWN]))
        self.assertIn("SYSLOG(7): account alice server pop.example: UNKNOWN_USER", err)

    def test_rebuilt_database_is_seen_by_the_next_call(self):
        pam.write_service(self.pamd, "sekisho_smtp", pam.service_text(self.db))
        self.assertEqual(self.pt.authenticate("sekisho_smtp", "alice", "old-pw"), (0, [OK_AUTH]))
        self.assertEqual(create_userdb([self.db], "alice\nnew-pw\n").returncode, 0)
        self.assertEqual(self.pt.authenticate("sekisho_smtp", "alice", "new-pw"), (0, [OK_AUTH]))
        self.assertEqual(self.pt.authenticate("sekisho_smtp", "alice", "old-pw"), (1, [AUTH_ERR]))
        # a refused text leaves the database answering as before
        self.assertEqual(create_userdb([self.db], "alice\nnewer-pw\nalice\nx\n").returncode, 1)
        self.assertEqual(self.pt.authenticate("sekisho_smtp", "alice", "new-pw"), (0, [OK_AUTH]))

    def test_setcred_succeeds(self):
        pam.write_service(self.pamd, "sekisho_smtp", pam.service_text(self.db))
        rc, results, _ = self.pt.run("sekisho_smtp", "alice", ["authenticate", "setcred"],
                                     "old-pw")
        self.assertEqual((rc, results),
                         (0, [OK_AUTH, "pamtester: credential info has successfully been set."]))

    def test_only_the_pam_entry_points_are_exported(self):
        r = subprocess.run(["nm", "-D", "--defined-only", pam.module_path()],
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        names = sorted(line.split()[-1] for line in r.stdout.splitlines() if line.strip())
        self.assertEqual(names, ["pam_sm_acct_mgmt", "pam_sm_authenticate", "pam_sm_setcred"])


class TestInstall(unittest.TestCase):
    """make install (AUTH-1, AUTH-2): the module and create_userdb installed,
    conf/pam/sekisho_<svc>.pam with absolute paths, <pamdir>/sekisho_<svc>
    symlinks to them (a real file there is left alone), userdb.txt 0600 and
    userdb.db 0640 in run_user's group; the installed service works."""

    def setUp(self):
        self.wd = harness.Workdir("pam-install")
        self.prefix = os.path.join(self.wd.path, "sekisho")
        self.pamd = os.path.join(self.wd.path, "pam.d")

    def tearDown(self):
        self.wd.cleanup()

    def install(self):
        argv = ["make", "-s", "-C", harness.REPO, "install", "prefix=" + self.prefix,
                "pamdir=" + self.pamd, "autoupdate=no",
                "systemdunitdir=" + os.path.join(self.wd.path, "systemd")]
        if harness.SANITIZED:
            argv.append("SAN=1")
        r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_install_and_update(self):
        self.install()
        conf = os.path.join(self.prefix, "conf", "pam")
        module = os.path.join(self.prefix, "lib", "security", "pam_sekisho_userdb.so")
        db = os.path.join(conf, "userdb.db")
        for svc in ("http", "smtp", "pop", "ftp"):
            link = os.path.join(self.pamd, "sekisho_" + svc)
            target = os.path.join(conf, "sekisho_%s.pam" % svc)
            self.assertEqual(os.readlink(link), target)
            with open(target) as f:
                lines = [l for l in f.read().splitlines() if l and not l.startswith("#")]
            self.assertEqual([l.split() for l in lines],
                             [["auth", "required", module, "db=" + db],
                              ["account", "required", module, "db=" + db]])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(conf, "userdb.txt")).st_mode), 0o600)
        st = os.stat(db)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        if os.geteuid() == 0:
            # run_user=nobody as shipped: its group reads the database
            self.assertEqual(st.st_gid, pwd.getpwnam("nobody").pw_gid)

        # The administrator's way (AUTH-2): edit userdb.txt, run create_userdb
        # in conf/pam; the installed services (through the links) use it.
        with open(os.path.join(conf, "userdb.txt"), "w") as f:
            f.write("alice\nalice-pw\ncarol@pop.example\n\n")
        r = subprocess.run("./create_userdb userdb.db < userdb.txt", shell=True, cwd=conf,
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "create_userdb: 1 users, 1 POP/FTP entries -> userdb.db\n")
        self.assertEqual(stat.S_IMODE(os.stat(db).st_mode), 0o640)
        self.assertEqual(os.stat(db).st_gid, st.st_gid)
        pt = Pamtester(self.pamd)
        self.assertEqual(pt.authenticate("sekisho_http", "alice", "alice-pw"), (0, [OK_AUTH]))
        self.assertEqual(pt.authenticate("sekisho_smtp", "alice", "x"), (1, [AUTH_ERR]))
        self.assertEqual(pt.acct_mgmt("sekisho_pop", "carol", "pop.example"), (0, [OK_ACCT]))
        self.assertEqual(pt.acct_mgmt("sekisho_ftp", "carol@ftp.example"), (1, [USER_UNKNOWN]))

        # Update: the administrator's copy in pamdir and the user database are
        # kept; an edited conf/pam/*.pam is rewritten, the edit kept as .old.
        smtp_link = os.path.join(self.pamd, "sekisho_smtp")
        os.unlink(smtp_link)
        with open(smtp_link, "w") as f:
            f.write("auth required pam_deny.so\n")
        pop_pam = os.path.join(conf, "sekisho_pop.pam")
        with open(pop_pam, "a") as f:
            f.write("# edited\n")
        r = self.install()
        self.assertIn("make install: warning: %s is a file, not a link: left alone (AUTH-1)"
                      % smtp_link, r.stderr)
        with open(smtp_link) as f:
            self.assertEqual(f.read(), "auth required pam_deny.so\n")
        with open(pop_pam + ".old") as f:
            self.assertTrue(f.read().endswith("# edited\n"))
        with open(pop_pam) as f:
            self.assertNotIn("# edited", f.read())
        with open(os.path.join(conf, "userdb.txt")) as f:
            self.assertEqual(f.read(), "alice\nalice-pw\ncarol@pop.example\n\n")
        self.assertEqual(pt.authenticate("sekisho_http", "alice", "alice-pw"), (0, [OK_AUTH]))


if __name__ == "__main__":
    unittest.main()
