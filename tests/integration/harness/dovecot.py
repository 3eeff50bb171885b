"""A real dovecot POP3 server (Debian package dovecot-pop3d) on loopback.

What it does: writes a dovecot.conf into its own directory under the
test's work directory and starts `dovecot -F` (foreground) listening for
POP3 on 127.0.0.1 (and/or ::1) at a free port, with users from a
passwd-file (plaintext passwords, so USER/PASS, AUTH PLAIN/LOGIN and APOP
all work) and one Maildir per user that tests fill with set_mailbox() /
add_message(). Several instances run side by side (each has its own
base_dir, state_dir, logs and port): the POP proxy's user@host tests need
two servers.

What it owns: its directory (config, passwd file, logs, Maildirs, runtime
sockets) and the dovecot process group; stop() ends them. Every wait is
bounded.

DovecotAuth is dovecot's authentication service alone (no protocol
listens), users from a passwd-file, on a unix socket that postfix's smtpd
uses as its SASL backend (smtpd_sasl_type = dovecot; harness/postfix.py).

What it does not do: no TLS (ssl = no), no IMAP, no mbox (dovecot's mbox
rewrites headers; a Maildir file is served byte for byte, bare LFs as
CRLF).

Notes on this environment (running as root, gVisor):
- pop3-login refuses to run as root: default_login_user = dovenull (the
  package's unprivileged user); the internal processes may stay root;
- mail processes refuse uid 0 ("userdb returned 0 as uid"): every user's
  mail runs as `nobody`, which owns the Maildirs; the work directory must
  be traversable by it (harness.Workdir is 0755);
- the greeting carries an APOP timestamp ("<pid.n.hex.b64@host>") because
  apop is in auth_mechanisms; its text is login_greeting, which names the
  instance ("sekisho-test <name> ready."), so a test can tell which server
  a proxy reached;
- auth_failure_delay = 0: a wrong password is answered at once (dovecot's
  default waits 2 s);
- start to listening takes about 1 s; stop about 1 s.
As a non-root user everything runs as that user (best effort; the test
suite runs as root).
"""
import os
import pwd
import shutil
import socket

from . import SLOW, Process, read_text, wait_for

DOVECOT = "/usr/sbin/dovecot"
POP3_BINARY = "/usr/lib/dovecot/pop3"
LOGIN_USER = "dovenull"
MAIL_USER = "nobody"

# Default users: name -> password. bob's password holds a space (RFC 1939 7
# lets PASS carry one); carol exists only when a test asks for her.
DEFAULT_USERS = {"alice": "alice-pw", "bob": "bob secret"}


def available():
    """None when dovecot can run here, else the reason it cannot."""
    if not os.path.exists(DOVECOT) or not os.path.exists(POP3_BINARY):
        return "dovecot with POP3 is not installed (Debian package dovecot-pop3d)"
    if os.geteuid() == 0:
        for user in (LOGIN_USER, MAIL_USER):
            try:
                pwd.getpwnam(user)
            except KeyError:
                return "no '%s' user (dovecot-core creates dovenull)" % user
    return None


def ipv6_loopback():
    """True when ::1 can be bound here."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def _port_free_on_all(addresses, tries=50):
    """A port that every address can bind (the kernel picks it for the
    first; the others are checked)."""
    for _ in range(tries):
        socks = []
        try:
            for i, addr in enumerate(addresses):
                s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
                socks.append(s)
                s.bind((addr, 0 if i == 0 else port))
                if i == 0:
                    port = s.getsockname()[1]
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no port free on %s" % ", ".join(addresses))


def _port_open(addr, port):
    try:
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        with socket.socket(family) as s:
            s.settimeout(0.5)
            s.connect((addr, port))
            # dovecot accepts before pop3-login is ready; a greeting means it is
            s.settimeout(2 * SLOW)
            return s.recv(512).startswith(b"+OK")
    except OSError:
        return False


def _no_auth_penalty(directory, proc, name):
    """dovecot delays every login from an address after a failed one (2 s,
    doubling up to 15 s; auth_failure_delay is another delay), which tests
    of wrong passwords would pay. The auth process turns that off when it
    finds no anvil-auth-penalty socket at its start; it starts with the
    first client (a login process, or smtpd on the auth socket), so the
    socket goes before the first connection."""
    penalty = os.path.join(directory, "run", "anvil-auth-penalty")
    wait_for(lambda: os.path.exists(penalty) or not proc.alive(), 15,
             interval=0.05, what="dovecot %s runtime sockets" % name)
    if os.path.exists(penalty):
        os.unlink(penalty)




class Dovecot:
    """dovecot serving POP3 for users (name -> password) on a loopback port.

    host is the first address (the one tests connect to), port the port on
    all of them."""

    def __init__(self, workdir, name="dovecot", users=None, addresses=("127.0.0.1",)):
        reason = available()
        if reason:
            raise RuntimeError(reason)
        self.name = name
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.addresses = list(addresses)
        self.host = self.addresses[0]
        self.port = _port_free_on_all(self.addresses)
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self._seq = 0
        root = os.geteuid() == 0
        if root:
            mail = pwd.getpwnam(MAIL_USER)
            self.uid, self.gid = mail.pw_uid, mail.pw_gid
            login_user, internal_user = LOGIN_USER, "root"
        else:
            me = pwd.getpwuid(os.geteuid())
            self.uid, self.gid = me.pw_uid, me.pw_gid
            login_user = internal_user = me.pw_name
        self.mail_root = os.path.join(self.dir, "mail")
        os.makedirs(self.mail_root)
        self._own(self.mail_root)
        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as f:
            for user, password in self.users.items():
                f.write("%s:{PLAIN}%s::::%s::\n" % (user, password, self.home(user)))
                self._make_maildir(user)
        os.chmod(passwd, 0o600)
        self.conf = os.path.join(self.dir, "dovecot.conf")
        listen = ", ".join(self.addresses)
        with open(self.conf, "w") as f:
            f.write("""# written by tests/integration/harness/dovecot.py
base_dir = %(d)s/run
state_dir = %(d)s/state
instance_name = sekisho-%(name)s
protocols = pop3
listen = %(listen)s
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login apop
auth_failure_delay = 0
auth_verbose = yes
login_greeting = sekisho-test %(name)s ready.
log_path = %(log)s
info_log_path = %(log)s
default_internal_user = %(internal)s
default_internal_group = %(internal_group)s
default_login_user = %(login)s
first_valid_uid = %(uid)d
first_valid_gid = %(gid)d
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN %(passwd)s
}
userdb {
  driver = passwd-file
  args = %(passwd)s
  default_fields = uid=%(uid)d gid=%(gid)d
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    address = %(listen)s
    port = %(port)d
  }
}
service anvil {
  chroot =
}
""" % {"d": self.dir, "name": name, "listen": listen, "log": self.log_path,
                "internal": internal_user, "login": login_user, "uid": self.uid, "gid": self.gid,
                "internal_group": "root" if root else pwd.getpwuid(os.geteuid()).pw_name,
                "passwd": passwd, "port": self.port})
        self.proc = Process([DOVECOT, "-F", "-c", self.conf], os.path.join(self.dir, "dovecot.out"))
        try:
            _no_auth_penalty(self.dir, self.proc, name)
            wait_for(lambda: _port_open(self.host, self.port) or not self.proc.alive(),
                     15, interval=0.1, what="dovecot %s on port %d" % (name, self.port))
        except TimeoutError:
            self.stop()
            raise RuntimeError("dovecot did not start:\n" + self.log_text())
        if not self.proc.alive():
            out = self.proc.output()
            self.stop()
            raise RuntimeError("dovecot exited: " + out + self.log_text())

    # ---- mailboxes ---------------------------------------------------------

    def home(self, user):
        return os.path.join(self.mail_root, user)

    def maildir(self, user):
        return os.path.join(self.home(user), "Maildir")

    def _own(self, path):
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)

    def _make_maildir(self, user):
        for p in (self.home(user), self.maildir(user)):
            os.makedirs(p, exist_ok=True)
            self._own(p)
        for sub in ("cur", "new", "tmp"):
            p = os.path.join(self.maildir(user), sub)
            os.makedirs(p, exist_ok=True)
            self._own(p)

    def add_message(self, user, data=None, path=None):
        """Append one message (bytes, or the file at path: copied, for big
        ones) to user's mailbox; it becomes the highest message number.
        Dovecot numbers new mail in file-name order; the names sort in the
        order of the calls. Add messages before the POP session that must
        see them starts. Returns the file's path."""
        if user not in self.users:
            raise KeyError(user)
        self._seq += 1
        fname = "%010d.M%06dP%d.sekisho" % (1600000000 + self._seq, self._seq, os.getpid())
        tmp = os.path.join(self.maildir(user), "tmp", fname)
        if path is not None:
            shutil.copyfile(path, tmp)
        else:
            with open(tmp, "wb") as f:
                f.write(data)
        self._own(tmp)
        final = os.path.join(self.maildir(user), "new", fname)
        os.rename(tmp, final)
        return final

    def set_mailbox(self, user, messages):
        """Replace user's mailbox with messages (a list of bytes), numbered
        1..n in order. Only between sessions: dovecot's index is rebuilt."""
        shutil.rmtree(self.maildir(user))
        self._make_maildir(user)
        for m in messages:
            self.add_message(user, m)

    # ---- observation -------------------------------------------------------

    def log_text(self):
        return read_text(self.log_path)

    def logins(self):
        """The users that logged in so far, in order (from the log)."""
        out = []
        for line in self.log_text().splitlines():
            # ... pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=...
            if "pop3-login: Info: Login: user=<" in line:
                out.append(line.split("user=<", 1)[1].split(">", 1)[0])
        return out

    def stop(self):
        self.proc.stop_group()


def wait_for_logins(server, count, timeout=5.0):
    """Until server logged count logins (its log is written asynchronously)."""
    wait_for(lambda: len(server.logins()) >= count, timeout, what="%d logins" % count)
    return server.logins()


class DovecotAuth:
    """dovecot as an authentication server only (no protocol listens):
    users (name -> password, plaintext) checked on a unix socket, self.socket,
    in the protocol postfix's smtpd speaks with smtpd_sasl_type = dovecot.
    The socket is mode 0666 so that smtpd (user postfix) can use it."""

    def __init__(self, workdir, name="dovecot-auth", users=None):
        if not os.path.exists(DOVECOT):
            raise RuntimeError("dovecot is not installed (Debian package dovecot-core)")
        self.name = name
        self.users = dict(DEFAULT_USERS if users is None else users)
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.log_path = os.path.join(self.dir, "dovecot.log")
        self.socket = os.path.join(self.dir, "auth-client")
        passwd = os.path.join(self.dir, "passwd")
        with open(passwd, "w") as f:
            for user, password in self.users.items():
                f.write("%s:{PLAIN}%s::::::\n" % (user, password))
        os.chmod(passwd, 0o600)
        root = os.geteuid() == 0
        me = pwd.getpwuid(os.geteuid()).pw_name
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("""# written by tests/integration/harness/dovecot.py
base_dir = %(d)s/run
state_dir = %(d)s/state
instance_name = sekisho-%(name)s
# dovecot wants a listen address even when no protocol listens
protocols = none
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
log_path = %(log)s
info_log_path = %(log)s
default_internal_user = %(internal)s
default_internal_group = %(internal_group)s
default_login_user = %(login)s
passdb {
  driver = passwd-file
  args = scheme=PLAIN %(passwd)s
}
userdb {
  driver = static
  args = uid=%(uid)d gid=%(gid)d
}
service auth {
  unix_listener %(socket)s {
    mode = 0666
  }
}
service anvil {
  chroot =
}
""" % {"d": self.dir, "name": name, "log": self.log_path, "passwd": passwd,
                "internal": "root" if root else me, "internal_group": "root" if root else me,
                "login": LOGIN_USER if root else me, "uid": os.geteuid(), "gid": os.getegid(),
                "socket": self.socket})
        self.proc = Process([DOVECOT, "-F", "-c", self.conf], os.path.join(self.dir, "dovecot.out"))
        try:
            _no_auth_penalty(self.dir, self.proc, name)
            wait_for(lambda: os.path.exists(self.socket) or not self.proc.alive(), 15,
                     interval=0.05, what="dovecot %s auth socket" % name)
        except TimeoutError:
            self.stop()
            raise RuntimeError("dovecot did not start:\n" + self.log_text())
        if not self.proc.alive():
            out = self.proc.output()
            self.stop()
            raise RuntimeError("dovecot exited: " + out + self.log_text())

    def log_text(self):
        return read_text(self.log_path)

    def stop(self):
        self.proc.stop_group()
