"""A scripted SMTP parent server and a raw SMTP client for the SMTP proxy's
integration tests: every reply of the parent is chosen per test, and every
command line and message the parent receives is recorded."""
import os
import re
import select
import shutil
import socket
import time
import unittest
import urllib.parse

from . import REPO, SLOW, Gateway, wait_for  # noqa: F401
from .line_server import LineReader, LineServer

SENDER = "sender@outside.example"
RCPT = "user@local.example"
# Every reply the proxy generates ends with this (SMTP-2).
PRODUCT_RX = r"\(Sekisho/sekisho_smtp/[^/()\s]+/gw\.test\)"


# ---- the scripted parent ---------------------------------------------------

CLOSE = "<close the connection without a reply>"
# Never answer: the parent reads on (and drops) until the peer closes.
HANG = "<never answer>"

DEFAULT_REPLIES = {
    "GREETING": "220 parent.test ESMTP scripted",
    "EHLO": "250-parent.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 8BITMIME",
    "HELO": "250 parent.test",
    "MAIL": "250 2.1.0 sender ok",
    "RCPT": "250 2.1.5 recipient ok",
    "DATA": "354 send it",
    "DOT": "250 2.0.0 queued",
    "RSET": "250 2.0.0 reset",
    "NOOP": "250 2.0.0 noop",
    "VRFY": "252 2.0.0 maybe",
    "AUTH": "504 5.5.4 unrecognized mechanism",
    "AUTH_DATA": "535 5.7.8 bad credentials",
    "QUIT": ("221 2.0.0 bye", CLOSE),
    "*": "500 5.5.2 unknown command",
}
LINE_MAX = 100000
MESSAGE_MAX = 10 * 1000 * 1000
# Command lines served per connection (a hostile test floods 10,000).
COMMANDS_MAX = 20000


class ParentSession:
    """What the parent saw on one connection."""

    def __init__(self):
        self.commands = []  # command lines (no CRLF), message content excluded
        self.raw_commands = []  # the same lines as bytes, with their line end
        self.before_greeting = None  # bytes already waiting when the greeting went
        self.messages = []  # (message bytes after dot-unstuffing, the reply to its dot)
        self.counts = {}


class ScriptedParent(LineServer):
    """A threaded SMTP server on 127.0.0.1 (harness.line_server). script
    maps a key (a verb such as "RSET", "GREETING", "AUTH_DATA" for a line
    that follows a 334, "DOT" for the end of a message) to a reply: a
    string (lines joined by CRLF), CLOSE, a tuple (reply, CLOSE) to answer
    and then close, or a callable (line, n) -> one of these or None (the
    default), where n counts that key on the connection from 1. Everything
    is recorded before it is answered, so once the client holds a reply
    the record of what caused it is there."""
    TIMEOUT = 10

    def __init__(self):
        self.accepted = 0
        super().__init__()

    def reset(self, **script):
        with self.lock:
            self.script = script
            self.sessions = []
            self.accepted = 0

    def active(self):
        """The sessions that carried at least one command."""
        with self.lock:
            return [s for s in self.sessions if s.commands]

    def all_commands(self):
        with self.lock:
            return [c for s in self.sessions for c in s.commands]

    def all_raw_commands(self):
        with self.lock:
            return [c for s in self.sessions for c in s.raw_commands]

    def all_messages(self):
        with self.lock:
            return [m for s in self.sessions for m in s.messages]

    def session(self, conn):
        with self.lock:
            self.accepted += 1
        return ParentSession()

    def answer(self, sess, key, line):
        n = sess.counts[key] = sess.counts.get(key, 0) + 1
        with self.lock:
            r = self.script.get(key)
        if callable(r):
            r = r(line, n)
        if r is None:
            r = DEFAULT_REPLIES.get(key, DEFAULT_REPLIES["*"])
        return r

    @staticmethod
    def send(conn, r):
        """Send reply r; False when the connection is to end."""
        close = False
        if isinstance(r, tuple):
            r, close = r[0], r[1] is CLOSE
        if r is CLOSE:
            return False
        if r is HANG:
            conn.settimeout(1)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if not conn.recv(65536):
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            return False
        conn.sendall(r.encode() + b"\r\n")
        return not close

    def serve(self, conn, sess):
        readline = LineReader(conn, limit=LINE_MAX, deadline=time.monotonic() + 120).readline
        greeting = self.answer(sess, "GREETING", "")
        # What the gateway sent before it was greeted (nothing, SMTP-3).
        waiting = select.select([conn], [], [], 0)[0]
        sess.before_greeting = conn.recv(65536, socket.MSG_PEEK) if waiting else b""
        if not self.send(conn, greeting):
            return
        after_334 = False
        for _ in range(COMMANDS_MAX):
            raw = readline()
            if not raw:
                return
            line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
            sess.raw_commands.append(raw)
            sess.commands.append(line)
            if after_334:
                key = "AUTH_DATA"
            else:
                key = line.split(" ", 1)[0].upper()
                if key not in DEFAULT_REPLIES or key in ("GREETING", "DOT", "AUTH_DATA"):
                    key = "*"
            r = self.answer(sess, key, line)
            text = r[0] if isinstance(r, tuple) else r
            after_334 = (key in ("AUTH", "AUTH_DATA") and isinstance(text, str)
                         and text.startswith("334"))
            ok = self.send(conn, r)
            if ok and key == "DATA" and isinstance(text, str) and text.startswith("354"):
                msg = bytearray()
                while True:
                    ml = readline()
                    if not ml or len(msg) > MESSAGE_MAX:
                        return
                    if ml in (b".\r\n", b".\n"):
                        break
                    msg.extend(ml[1:] if ml.startswith(b".") else ml)
                r = self.answer(sess, "DOT", ".")
                sess.messages.append((bytes(msg), r[0] if isinstance(r, tuple) else r))
                ok = self.send(conn, r)
            if not ok:
                return


# ---- the client --------------------------------------------------------------

class Client:
    """A raw SMTP client: replies come back as text, one line per reply line."""

    def __init__(self, port, host="127.0.0.1", source=None):
        # source: another loopback address to connect from (127.0.0.2 ...),
        # a client the gateway's smtp_lan / PbS / the parent tell apart
        self.sock = socket.create_connection(
            (host, port), timeout=15 * SLOW, source_address=(source, 0) if source else None)
        self.buf = b""
        self.greeting = self.reply()

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def readline(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                line, self.buf = self.buf, b""
                return line
            self.buf += chunk
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def reply(self):
        """One (possibly multi-line) reply, lines joined by "\\n", no CRLF;
        "" when the connection closed first."""
        lines = []
        for _ in range(200):
            line = self.readline()
            if not line:
                break
            lines.append(line.rstrip(b"\r\n").decode("utf-8", "replace"))
            if line[3:4] != b"-":
                break
        return "\n".join(lines)

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def message(self, msg):
        """The message, dot-stuffed, and its end; the final reply."""
        data = msg.encode()
        data = re.sub(rb"(?m)^\.", b"..", data)
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        self.send(data + b".\r\n")
        return self.reply()

    def envelope(self, test, sender=SENDER, rcpts=(RCPT,)):
        test.assertTrue(self.cmd("EHLO client.test").startswith("250"))
        test.assertTrue(self.cmd("MAIL FROM:<%s>" % sender).startswith("250"))
        for r in rcpts:
            test.assertTrue(self.cmd("RCPT TO:<%s>" % r).startswith("250"))
        reply = self.cmd("DATA")
        test.assertRegex(reply, r"^354 Enter mail " + PRODUCT_RX + "$")

    def wait_closed(self, timeout=5.0):
        """What still came before the gateway closed the connection; raises
        AssertionError if it stays open."""
        self.sock.settimeout(0.2)
        got = self.buf
        self.buf = b""
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return got
            if not chunk:
                return got
            got += chunk
        raise AssertionError("the gateway kept the connection open (got %r)" % got)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- the test base ------------------------------------------------------------

class ParentCase(unittest.TestCase):
    """One gateway per class in front of one scripted parent; each test
    sets the parent's script in its own first line (reset)."""
    SECTION = {}
    COMMON = {}
    HOSTS_ALLOW = ""
    TEMPLATE_FROM = None  # a From: line to put at the top of template_smtp.txt
    ENV = None  # the test module's {"wd": Workdir, "scand": Scand}

    @classmethod
    def gateway_env(cls):
        """Variables added to the gateway's environment (Gateway env=, e.g.
        harness.pam.pam_env(...) for proxymail_auth=yes); None: none."""
        return None

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(cls.ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir, exist_ok=True)
        cls.parent = ScriptedParent()
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.parent.port),
                   "virus_check": "yes", "action": "deny"}
        section.update(cls.SECTION)
        common = {"hostname": "gw.test"}
        common.update(cls.COMMON)
        templates = None
        if cls.TEMPLATE_FROM:
            templates = os.path.join(cls.dir, "templates")
            os.makedirs(templates, exist_ok=True)
            src = os.path.join(REPO, "conf")
            for name in os.listdir(src):
                if name.startswith("template_"):
                    shutil.copy(os.path.join(src, name), templates)
            path = os.path.join(templates, "template_smtp.txt")
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(cls.TEMPLATE_FROM + "\n" + text)
        try:
            cls.gw = Gateway(cls.dir, cls.ENV["scand"].socket, service="smtp",
                             section=section, common=common, hosts_allow=cls.HOSTS_ALLOW,
                             templates_from=templates, env=cls.gateway_env())
        except Exception:
            cls.parent.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.gw.stop()
        finally:
            cls.parent.stop()

    def setUp(self):
        self.parent.reset()

    def client(self, source=None):
        c = Client(self.gw.port, source=source)
        self.addCleanup(c.close)
        self.assertRegex(c.greeting, r"^220 gw\.test ")
        return c

    def assertGenerated(self, reply, text):
        """reply is exactly "<text> (<product_name>)"."""
        self.assertRegex(reply, "^" + re.escape(text) + " " + PRODUCT_RX + "$")

    def access_line(self, rcpt, timeout=10.0):
        return self.gw.wait_log("access", r" GET mail:%s " % re.escape(rcpt), timeout)[-1]

    @staticmethod
    def proxy_error(line):
        m = re.search(r" PROXY-ERROR:(.*):$", line)
        return urllib.parse.unquote_plus(m.group(1)) if m else None

    def error_line(self, message, timeout=10.0):
        """The error.log line whose message is exactly message (LOG-3)."""
        return self.gw.wait_log("error", r"\] ###ERROR### %s$" % re.escape(message), timeout)[-1]


