"""A real Postfix (Debian package postfix) as an SMTP parent on loopback.

What it does: runs a private postfix instance for one test class entirely
under its own directory: config_directory (main.cf, master.cf written
here), queue_directory, data_directory, the log (maillog_file, read by the
tests) and an smtp-sink that receives every mail postfix accepts, whatever
its address class (local, relay, default: the transports all point at the
sink), so a test can tell "delivered" from "refused". The smtpd listens on a
loopback port given at construction (or a free one); mynetworks, the relay
restrictions, smtpd_authorized_xclient_hosts / _xforward_hosts and anything
else of main.cf are set per instance (main=).

What it owns: its directory and the process groups of postfix's master
(with its children), of the smtp-sink and, with sasl_users, of a dovecot
auth server; stop() ends them, bounded. It never reads
or writes /etc/postfix (only the package's read-only meta files there) nor
talks to the system instance or syslog: instances started side by side
share nothing but the binaries.

How it runs (found by trying, postfix 3.7 as root under gVisor):
- `postfix -c DIR check` first: it creates the queue's subdirectories with
  the owners postfix wants (mail_owner postfix, setgid_group postdrop); the
  queue directory itself stays root's, data_directory is chowned to
  postfix beforehand (check warns otherwise);
- then `master -c DIR -s` in the foreground, as our child (what `postfix
  start-fg` does when it is not pid 1): start() needs no pid file, stop()
  is SIGTERM to the master (it passes the signal to its children, like
  `postfix abort`) and SIGKILL to the process group for anything left;
- maillog_file must lie under maillog_file_prefixes (default /var,
  /dev/stdout): both name this instance's directory. The postlog service
  (postlogd) writes the file, asynchronously: wait_log() polls;
- every service has chroot = n (nothing is copied into a jail); the master
  refuses to run as a user other than root, so the class needs root;
- smtpd_peername_lookup = no and smtp_dns_support_level = disabled: no
  resolver traffic leaves loopback; every client is "unknown[addr]" in the
  log unless XCLIENT NAME says otherwise;
- SASL, two ways. main={"smtpd_sasl_auth_enable": "yes"} alone: the
  default type (cyrus) starts with no backend at all; its configuration is
  $config_directory/sasl/smtpd.conf (Debian's patch 07_sasl_config: the
  cyrus library opens that file, then /usr/lib/sasl/smtpd.conf, and never
  cyrus_sasl_config_path, as strace shows): PLAIN and LOGIN against an
  sasldb that does not exist, so every AUTH fails, but XCLIENT LOGIN=name
  makes the session authenticated. sasl_users={name: password}: a dovecot
  auth server (harness.dovecot.DovecotAuth) in this instance's directory
  is the backend (smtpd_sasl_type = dovecot), so AUTH PLAIN / LOGIN work;
  Postfix up to 3.7.11 / 3.8.6 / 3.9.0 ignores XCLIENT LOGIN in
  permit_sasl_authenticated unless SASL is enabled (fixed in 3.7.12,
  3.8.7, 3.9.1, 3.10; postfix HISTORY 20240930), so enable it whenever a
  test relies on LOGIN;
- start to a greeting takes about 1-3 s; stop well under a second.
"""
import os
import pwd
import re
import socket
import subprocess

from . import SLOW, Process, SmtpSink, free_port, read_text, recv_until, wait_for
from .dovecot import DovecotAuth, ipv6_loopback  # noqa: F401 (for the tests)
from .smtp_parent import SENDER

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
MASTER = "/usr/lib/postfix/sbin/master"
MAIL_OWNER = "postfix"
SETGID_GROUP = "postdrop"

# The relay policy of the brief: the LAN and authenticated clients relay,
# everybody else may only mail the local domain.
RELAY_RESTRICTIONS = "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"
LOCAL_DOMAIN = "local.example"

# The services a mail needs on its way from smtpd to the sink, as in
# Debian's master.cf but with chroot = n; none of local, virtual, lmtp,
# tlsmgr or the pipe transports (nothing is delivered here).
MASTER_SERVICES = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def available():
    """None when a private postfix can run here, else the reason it cannot."""
    for path in (POSTFIX, MASTER, "/usr/sbin/smtp-sink"):
        if not os.path.exists(path):
            return "%s is missing (Debian package postfix)" % path
    if os.geteuid() != 0:
        return "postfix's master runs only as root"
    try:
        pwd.getpwnam(MAIL_OWNER)
    except KeyError:
        return "no '%s' user (the postfix package creates it)" % MAIL_OWNER
    return None


def mail_version():
    """The installed postfix's version as a tuple of ints, e.g. (3, 7, 11)."""
    out = subprocess.run([POSTCONF, "-dh", "mail_version"], capture_output=True, text=True,
                         timeout=30 * SLOW, check=True).stdout.strip()
    return tuple(int(p) for p in re.findall(r"\d+", out))


def login_needs_sasl(version=None):
    """True when this postfix's permit_sasl_authenticated ignores XCLIENT
    LOGIN unless smtpd_sasl_auth_enable = yes (see the module docstring)."""
    v = version or mail_version()
    return v < (3, 7, 12) or (3, 8) <= v < (3, 8, 7) or (3, 9) <= v < (3, 9, 1)


def relay_denied(rcpt):
    """postfix's refusal of a relay attempt, as smtplib returns it."""
    return (554, ("5.7.1 <%s>: Relay access denied" % rcpt).encode())


class MailChecks:
    """For a TestCase sending mail to postfix (self.postfix), directly or
    through the gateway: recipients of the test's own, so that the log
    lines and the mails are its own; MAIL and RCPT; a whole mail; its
    delivery."""

    def far(self):
        """A recipient in a domain postfix is not responsible for (relaying)."""
        return "%s@far.example" % self._testMethodName

    def local(self):
        return "%s@%s" % (self._testMethodName, LOCAL_DOMAIN)

    def rcpt(self, s, rcpt):
        """MAIL and RCPT on the smtplib client s; the reply to RCPT."""
        self.assertEqual(s.mail(SENDER), (250, b"2.1.0 Ok"))
        return s.rcpt(rcpt)

    def queue(self, s, rcpt):
        """A whole mail to rcpt, which postfix must accept; its queue id."""
        self.assertEqual(self.rcpt(s, rcpt), (250, b"2.1.5 Ok"))
        code, reply = s.data("From: %s\r\nTo: %s\r\nSubject: %s\r\n\r\nHello.\r\n"
                             % (SENDER, rcpt, self._testMethodName))
        self.assertEqual(code, 250, reply)
        m = re.fullmatch(rb"2\.0\.0 Ok: queued as ([0-9A-F]+)", reply)
        self.assertTrue(m, reply)
        return m.group(1).decode()

    def assertDelivered(self, qid, rcpt):
        """The mail qid reached postfix's sink for rcpt; its text."""
        mail = self.postfix.wait_delivered(qid)
        self.assertIn("X-Rcpt-Args: <%s>" % rcpt, mail)
        self.assertIn("Subject: %s" % self._testMethodName, mail)
        return mail


class Postfix:
    """A private postfix instance in workdir/name whose smtpd listens on
    addresses (loopback addresses) at port and delivers every accepted mail
    to self.sink (a harness.SmtpSink).

    main: main.cf settings added to (or replacing) the defaults below, e.g.
    {"smtpd_authorized_xclient_hosts": "127.0.0.1"}. sasl_users (name ->
    password): AUTH checked by a dovecot auth server of this instance."""

    def __init__(self, workdir, name="postfix", port=None, main=None,
                 addresses=("127.0.0.1",), sasl_users=None):
        reason = available()
        if reason:
            raise RuntimeError(reason)
        self.name = name
        self.addresses = list(addresses)
        self.host = self.addresses[0]
        self.port = port or free_port()
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.conf = os.path.join(self.dir, "etc")
        self.queue = os.path.join(self.dir, "queue")
        data = os.path.join(self.dir, "data")
        sasl = os.path.join(self.conf, "sasl")
        for d in (self.conf, self.queue, data, sasl):
            os.makedirs(d)
        pw = pwd.getpwnam(MAIL_OWNER)
        os.chown(data, pw.pw_uid, pw.pw_gid)
        self.log_path = os.path.join(self.dir, "maillog")
        self.proc = None
        self.auth = None
        self.sink = SmtpSink(self.dir, subdir="sink")
        try:
            main = dict(main or {})
            if sasl_users is not None:
                self.auth = DovecotAuth(self.dir, users=sasl_users)
                main = dict({"smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "dovecot",
                             "smtpd_sasl_path": self.auth.socket}, **main)
            with open(os.path.join(sasl, "smtpd.conf"), "w") as f:
                f.write("pwcheck_method: auxprop\nauxprop_plugin: sasldb\n"
                        "sasldb_path: %s\nmech_list: PLAIN LOGIN\n"
                        % os.path.join(sasl, "no-such-sasldb2"))
            self.settings = self._main_cf(data, main)
            self._write_config()
            self._check()
            self._start()
        except BaseException:
            self.stop()
            raise

    # ---- configuration -----------------------------------------------------

    def _main_cf(self, data, main):
        ipv6 = any(":" in a for a in self.addresses)
        sink = "smtp:[%s]:%d" % (self.sink.host, self.sink.port)
        settings = {
            "compatibility_level": "3.6",
            "config_directory": self.conf,
            "queue_directory": self.queue,
            "data_directory": data,
            "mail_owner": MAIL_OWNER,
            "setgid_group": SETGID_GROUP,
            "maillog_file": self.log_path,
            "maillog_file_prefixes": self.dir,
            "inet_interfaces": ", ".join(self.addresses),
            "inet_protocols": "ipv4, ipv6" if ipv6 else "ipv4",
            "myhostname": "parent.test",
            "mydomain": "test",
            "myorigin": "$myhostname",
            "mydestination": LOCAL_DOMAIN,
            "mynetworks": "127.0.0.1/32",
            "smtpd_relay_restrictions": RELAY_RESTRICTIONS,
            "smtpd_authorized_xclient_hosts": "",
            "smtpd_authorized_xforward_hosts": "",
            # Any user of the local domain exists; no aliases database.
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            # Every address class ends at the sink.
            "default_transport": sink,
            "relay_transport": sink,
            "local_transport": sink,
            "virtual_transport": sink,
            "smtpd_peername_lookup": "no",
            "smtp_dns_support_level": "disabled",
            "smtpd_tls_security_level": "none",
            "smtp_tls_security_level": "none",
            "biff": "no",
        }
        settings.update(main)
        return settings

    def _write_config(self):
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("# written by tests/integration/harness/postfix.py\n")
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            for addr in self.addresses:
                listen = "[%s]:%d" % (addr, self.port) if ":" in addr else "%s:%d" % (addr,
                                                                                       self.port)
                f.write("%-20s inet n - n - - smtpd\n" % listen)
            f.write(MASTER_SERVICES)

    def _check(self):
        """`postfix check`: creates the queue directories (it reports to
        the maillog, not to stderr, when that is no terminal)."""
        try:
            r = subprocess.run([POSTFIX, "-c", self.conf, "check"], capture_output=True,
                               text=True, timeout=60 * SLOW)
        except subprocess.TimeoutExpired:
            raise RuntimeError("postfix check did not finish:\n" + self.log_text())
        if r.returncode != 0:
            raise RuntimeError("postfix check failed (%d): %s%s\n%s"
                               % (r.returncode, r.stdout, r.stderr, self.log_text()))

    def _start(self):
        self.proc = Process([MASTER, "-c", self.conf, "-s"],
                            os.path.join(self.dir, "master.out"))
        try:
            wait_for(lambda: "daemon started" in self.log_text() or not self.proc.alive(), 20,
                     interval=0.05, what="postfix %s master" % self.name)
        except TimeoutError:
            raise RuntimeError("postfix master did not start:\n" + self.log_text())
        if not self.proc.alive():
            raise RuntimeError("postfix master exited:\n" + self.proc.output() + self.log_text())
        # The listeners are open once the master says so; one greeting also
        # proves that smtpd starts with this main.cf (smtpd's fatal errors,
        # e.g. a SASL setup it rejects, show only on a connection).
        greeting = self.greeting()
        if not greeting.startswith(b"220 "):
            raise RuntimeError("postfix smtpd did not greet (%r):\n%s"
                               % (greeting, self.log_text()))

    def greeting(self):
        """The greeting line of a new connection (which is then QUIT)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family) as s:
            s.settimeout(20 * SLOW)
            s.connect((self.host, self.port))
            data = recv_until(s, b"\n")
            try:
                s.sendall(b"QUIT\r\n")
                s.recv(4096)
            except OSError:
                pass
        return data

    # ---- observation -------------------------------------------------------

    def log_text(self):
        return read_text(self.log_path)

    def log_lines(self):
        return self.log_text().splitlines()

    def wait_log(self, pattern, timeout=10.0, count=1):
        """The maillog lines matching pattern (a regex), once there are at
        least count of them."""
        rx = re.compile(pattern)

        def matching():
            lines = [l for l in self.log_lines() if rx.search(l)]
            return lines if len(lines) >= count else None
        return wait_for(matching, timeout,
                        what="%d postfix %s log line(s) matching %r" % (count, self.name, pattern))

    def wait_delivered(self, queue_id, timeout=20.0):
        """The sink's copy of the mail postfix queued as queue_id, once the
        delivery to the sink is logged as sent. What smtp-sink writes: its
        X-Client-Addr, X-Helo-Args, X-Mail-Args and X-Rcpt-Args lines
        (what postfix's smtp client told the sink), then the message with
        postfix's Received: header on top."""
        self.wait_log(r"\b%s: to=<[^>]*>, relay=%s\[" % (re.escape(queue_id),
                                                         re.escape(self.sink.host))
                      + r".* status=sent ", timeout)
        # ESMTP, ESMTPA (authenticated), SMTP...
        rx = re.compile(r"\bwith [A-Z0-9]+ id %s\b" % re.escape(queue_id))
        return wait_for(lambda: next((m for m in self.sink.messages() if rx.search(m)), None),
                        timeout, what="mail %s in the sink" % queue_id)

    # ---- the end -----------------------------------------------------------

    def stop(self):
        """SIGTERM to the master (it ends its children), then SIGKILL to its
        process group for anything left; then the auth server and the sink.
        Bounded."""
        if self.proc is not None:
            self.proc.stop_group()
            self.proc = None
        if self.auth is not None:
            self.auth.stop()
            self.auth = None
        if self.sink is not None:
            self.sink.stop()
            self.sink = None
