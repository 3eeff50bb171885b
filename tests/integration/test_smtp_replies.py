"""The SMTP proxy's remaining documented replies (responses.tsv smtp rows,
spec SMTP-3 ... SMTP-14, ACL-6, CONN-5, C-10, C-42, C-49, LOG-E12/E13),
against a scripted parent server written here: every reply of the parent is
chosen per test, and every command line and message the parent receives is
recorded, so the tests can assert what the client was told, what the parent
got, and what was logged.

The client side is a raw socket (exact reply lines are asserted); the
gateway is harness.Gateway with service="smtp"."""
import os
import re
import shutil
import socket
import threading
import time
import unittest
import urllib.parse

import harness
from harness import testfiles

ENV = {}
SENDER = "sender@outside.example"
RCPT = "user@local.example"
AUTH_PLAIN = "AUTH PLAIN AGFsaWNlAHNlY3JldA=="  # \0alice\0secret
# Every reply the proxy generates ends with this (SMTP-2).
PRODUCT_RX = r"\(Sekisho/sekisho_smtp/[^/()\s]+/gw\.test\)"


def setUpModule():
    wd = harness.Workdir("smtp-replies")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def clean_mail(rcpt=RCPT, msgid="m1@outside.example", body="Hello there.\r\n"):
    return ("From: %s\r\nTo: %s\r\nSubject: hello\r\nMessage-ID: <%s>\r\n\r\n%s"
            % (SENDER, rcpt, msgid, body))


def eicar_mail(rcpt=RCPT, msgid="eicar@outside.example"):
    return ("From: %s\r\nTo: %s\r\nSubject: eicar\r\n"
            "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
            "Content-Type: text/plain\r\n\r\nsee attachment\r\n--b1\r\n"
            "Content-Type: application/octet-stream; name=\"eicar.com\"\r\n"
            "Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n%s\r\n--b1--\r\n"
            % (SENDER, rcpt, msgid, testfiles.EICAR.decode()))


# ---- the scripted parent ---------------------------------------------------

CLOSE = "<close the connection without a reply>"

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


class ParentSession:
    """What the parent saw on one connection."""

    def __init__(self):
        self.commands = []  # command lines (no CRLF), message content excluded
        self.messages = []  # (message bytes after dot-unstuffing, the reply to its dot)
        self.counts = {}


class ScriptedParent:
    """A threaded SMTP server on 127.0.0.1. script maps a key (a verb such
    as "RSET", "GREETING", "AUTH_DATA" for a line that follows a 334, "DOT"
    for the end of a message) to a reply: a string (lines joined by CRLF),
    CLOSE, a tuple (reply, CLOSE) to answer and then close, or a callable
    (line, n) -> one of these or None (the default), where n counts that key
    on the connection from 1. Everything is recorded before it is answered,
    so once the client holds a reply the record of what caused it is there."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.script = {}
        self.sessions = []
        self.accepted = 0
        self.conns = set()
        self.workers = []
        self.stopping = False
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

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

    def all_messages(self):
        with self.lock:
            return [m for s in self.sessions for m in s.messages]

    def accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sess = ParentSession()
            with self.lock:
                self.accepted += 1
                self.sessions.append(sess)
                self.conns.add(conn)
            t = threading.Thread(target=self.serve, args=(conn, sess), daemon=True)
            self.workers.append(t)
            t.start()

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
        conn.sendall(r.encode() + b"\r\n")
        return not close

    def serve(self, conn, sess):
        conn.settimeout(10)
        buf = bytearray()
        deadline = time.monotonic() + 120

        def readline():
            while True:
                i = buf.find(b"\n")
                if i >= 0:
                    line = bytes(buf[:i + 1])
                    del buf[:i + 1]
                    return line
                if len(buf) > LINE_MAX or time.monotonic() > deadline:
                    return b""
                chunk = conn.recv(65536)
                if not chunk:
                    return b""
                buf.extend(chunk)

        try:
            if not self.send(conn, self.answer(sess, "GREETING", "")):
                return
            after_334 = False
            for _ in range(1000):
                raw = readline()
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
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
        except OSError:
            pass
        finally:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            with self.lock:
                self.conns.discard(conn)

    def stop(self):
        self.stopping = True
        self.sock.close()
        self.thread.join(5)
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self.workers:
            t.join(5)


# ---- the client --------------------------------------------------------------

class Client:
    """A raw SMTP client: replies come back as text, one line per reply line."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15 * harness.SLOW)
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
        deadline = time.monotonic() + timeout * harness.SLOW
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

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
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
            src = os.path.join(harness.REPO, "conf")
            for name in os.listdir(src):
                if name.startswith("template_"):
                    shutil.copy(os.path.join(src, name), templates)
            path = os.path.join(templates, "template_smtp.txt")
            with open(path) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(cls.TEMPLATE_FROM + "\n" + text)
        try:
            cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp",
                                     section=section, common=common,
                                     hosts_allow=cls.HOSTS_ALLOW, templates_from=templates)
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

    def client(self):
        c = Client(self.gw.port)
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


# ---- SMTP-9 5: sendback, and its error replies (responses.tsv, C-10) --------

class TestSendbackReplies(ParentCase):
    SECTION = {"action": "sendback"}
    COMMON = {"admin_mailaddr": "postmaster@gw.test,second@gw.test"}

    def refused(self, step, **script):
        self.parent.reset(**script)
        c = self.client()
        c.envelope(self)
        reply = c.message(eicar_mail())
        self.assertGenerated(
            reply, "554 SENDBACK:smtp error[%s] (Server Reply: 550 5.7.1 no thanks)" % step)
        # LOG-E12 with the action keyword (C-49).
        self.error_line("smtp_data_cmd_senddata:SENDBACK:smtp error:%s: buf=[550 5.7.1 no thanks]"
                        % step)
        self.assertEqual(self.parent.all_messages(), [])
        self.assertNotIn("DATA", self.parent.all_commands())
        return c

    def test_sendback_rset_refused(self):
        # A server that refuses RSET refuses every RSET of the session.
        self.refused("RSET", RSET="550 5.7.1 no thanks")

    def test_sendback_rset_refused_once(self):
        # Only the first RSET (the one before the notification) is refused.
        self.refused("RSET", RSET=lambda line, n: "550 5.7.1 no thanks" if n == 1 else None)

    def test_sendback_mail_from_refused(self):
        # The first MAIL is the client's; the second is the notification's.
        self.refused("MAIL FROM",
                     MAIL=lambda line, n: "550 5.7.1 no thanks" if n == 2 else None)
        cmds = self.parent.all_commands()
        self.assertIn("MAIL FROM:<postmaster@gw.test>", cmds)

    def test_sendback_rcpt_to_refused(self):
        self.refused("RCPT TO",
                     RCPT=lambda line, n: "550 5.7.1 no thanks" if n == 2 else None)
        self.assertEqual([c for c in self.parent.all_commands() if c.startswith("RCPT")],
                         ["RCPT TO:<%s>" % RCPT, "RCPT TO:<%s>" % SENDER])

    def test_sendback_notification_envelope_and_final_reply(self):
        self.parent.reset(DOT="250 2.0.0 queued as SB1")
        c = self.client()
        c.envelope(self)
        reply = c.message(eicar_mail(msgid="sb-ok@outside.example"))
        # The parent's final reply about the notification, relayed unchanged.
        self.assertEqual(reply, "250 2.0.0 queued as SB1")
        self.assertEqual(self.parent.all_commands(), [
            "EHLO gw.test",
            "MAIL FROM:<%s>" % SENDER,
            "RCPT TO:<%s>" % RCPT,
            "RSET",
            "MAIL FROM:<postmaster@gw.test>",  # no From: in the template: first admin_mailaddr
            "RCPT TO:<%s>" % SENDER,
            "DATA",
        ])
        msgs = self.parent.all_messages()
        self.assertEqual(len(msgs), 1)
        note = msgs[0][0].decode()
        self.assertNotIn(testfiles.EICAR.decode(), note)
        self.assertIn("\r\nTo: %s\r\n" % SENDER, note)
        self.assertIn("\r\nFrom: postmaster@gw.test\r\n", note)
        # SMTP-14: the per-mail info line of a detection.
        line = self.gw.wait_log("info", r"Message-Id: <sb-ok@outside\.example>")[-1]
        self.assertRegex(line, r" Infected: 1 VirusName: Eicar\S*$")
        # The session goes on.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")


class TestSendbackTemplateFrom(ParentCase):
    SECTION = {"action": "sendback"}
    COMMON = {"admin_mailaddr": "postmaster@gw.test"}
    TEMPLATE_FROM = "From: Virus Gate <virusgate@gw.test>"

    def test_sendback_envelope_sender_from_the_template(self):
        c = self.client()
        c.envelope(self)
        self.assertEqual(c.message(eicar_mail()), "250 2.0.0 queued")
        cmds = self.parent.all_commands()
        self.assertEqual(cmds[3:], ["RSET", "MAIL FROM:<virusgate@gw.test>",
                                    "RCPT TO:<%s>" % SENDER, "DATA"])
        note = self.parent.all_messages()[0][0].decode()
        self.assertIn("\r\nFrom: Virus Gate <virusgate@gw.test>\r\n", note)
        self.assertNotIn("From: postmaster@gw.test", note)


# ---- SMTP-9 5: delete, the notification refused -------------------------------

class TestDeleteNotificationRefused(ParentCase):
    SECTION = {"action": "delete"}

    def test_delete_notification_data_refused(self):
        self.parent.reset(DATA="554 5.7.1 no notifications")
        c = self.client()
        c.envelope(self, rcpts=("del@local.example",))
        reply = c.message(eicar_mail(rcpt="del@local.example"))
        self.error_line("smtp_data_cmd_senddata:DELETE:smtp error:DATA: "
                        "buf=[554 5.7.1 no notifications]")
        # A permanent refusal of the notification: the infected mail is
        # refused for good (a retry would meet the same fate), session ends.
        self.assertRegex(reply, r"^554 Infected by \S+ \(the notification was refused\) "
                                r"\(Sekisho/sekisho_smtp/")
        c.wait_closed()
        self.assertEqual(self.parent.all_messages(), [])
        # The envelope given upstream is the original one (delete reuses it).
        self.assertEqual(self.parent.all_commands(),
                         ["EHLO gw.test", "MAIL FROM:<%s>" % SENDER,
                          "RCPT TO:<del@local.example>", "DATA"])
        line = self.access_line("del@local.example")
        self.assertIn("ACTION:DELETE:", line)
        self.assertEqual(self.proxy_error(line),
                         "SERVER/ERROR Reply(DATA): buf=[554 5.7.1 no notifications]")


    def test_delete_notification_data_deferred(self):
        # A temporary refusal: the client gets a temporary failure and may
        # try again; nothing is delivered.
        self.parent.reset(DATA="451 4.3.0 try later")
        c = self.client()
        c.envelope(self, rcpts=("del2@local.example",))
        reply = c.message(eicar_mail(rcpt="del2@local.example"))
        self.assertGenerated(reply, "451 Temporary failure: the notification was refused")
        c.wait_closed()
        self.assertEqual(self.parent.all_messages(), [])


# ---- SMTP-9 5: deny and blackhole, the RSET refused ---------------------------

class CancelRefusedMixin:
    def test_rset_refused_ends_the_session(self):
        self.parent.reset(RSET="554 5.5.1 will not reset")
        c = self.client()
        c.envelope(self)
        reply = c.message(eicar_mail())
        # SMTP-9 5: "if the reply is not 250 end session": neither the
        # action's reply nor a positive one, a temporary failure, then closed.
        self.assertRegex(reply, r"^421 .* " + PRODUCT_RX + "$")
        c.wait_closed()
        self.assertEqual(self.parent.all_messages(), [])
        self.assertEqual(self.parent.all_commands()[-1], "RSET")
        self.assertNotIn("DATA", self.parent.all_commands())


class TestDenyRsetRefused(CancelRefusedMixin, ParentCase):
    SECTION = {"action": "deny"}


class TestBlackholeRsetRefused(CancelRefusedMixin, ParentCase):
    SECTION = {"action": "blackhole"}


# ---- the dialogue: HELO/EHLO, AUTH, RCPT/MAIL refusals, DATA, logs -------------

class TestDialogueReplies(ParentCase):
    SECTION = {"action": "deny"}

    # SMTP-5, responses.tsv "421 <HELO|EHLO> disconnected from (<host>:<port>)"
    def helo_closed(self, verb):
        self.parent.reset(**{verb: CLOSE})
        c = self.client()
        reply = c.cmd("%s client.test" % verb)
        self.assertGenerated(reply, "421 %s disconnected from (127.0.0.1:%d)"
                             % (verb, self.parent.port))
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands(), ["%s gw.test" % verb])

    def test_smtp5_server_closes_on_helo(self):
        self.helo_closed("HELO")

    def test_smtp5_server_closes_on_ehlo(self):
        self.helo_closed("EHLO")

    # SMTP-8 with proxymail_auth=no: the AUTH exchange is relayed.
    def test_smtp8_server_closes_on_auth(self):
        self.parent.reset(AUTH=CLOSE)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertGenerated(c.cmd(AUTH_PLAIN), "500 disconnected from server(AUTH).")
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands()[-1], AUTH_PLAIN)

    def test_smtp8_server_closes_during_auth_login(self):
        self.parent.reset(AUTH="334 ", AUTH_DATA=CLOSE)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 ")
        self.assertGenerated(c.cmd("YWxpY2U="), "500 disconnected from server(AUTH).")
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands()[-2:], ["AUTH LOGIN", "YWxpY2U="])

    def test_smtp8_auth_success_relayed(self):
        self.parent.reset(AUTH="235 2.7.0 Authentication successful")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd(AUTH_PLAIN), "235 2.7.0 Authentication successful")
        self.assertEqual(self.parent.all_commands(), ["EHLO gw.test", AUTH_PLAIN])
        # Back to commands: the next one is relayed as a command.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")

    def test_smtp8_auth_login_exchange_relayed(self):
        self.parent.reset(AUTH="334 VXNlcm5hbWU6",
                          AUTH_DATA=lambda line, n: "334 UGFzc3dvcmQ6" if n == 1
                          else "235 2.7.0 ok")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd("YWxpY2U="), "334 UGFzc3dvcmQ6")
        self.assertEqual(c.cmd("c2VjcmV0"), "235 2.7.0 ok")
        self.assertEqual(self.parent.all_commands()[1:],
                         ["AUTH LOGIN", "YWxpY2U=", "c2VjcmV0"])
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")

    def test_smtp8_unexpected_auth_reply_relayed_and_logged(self):
        self.parent.reset(AUTH="454 try later")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd(AUTH_PLAIN), "454 try later")
        self.error_line("smtp_data_cmd_itr:AUTH buf=[454 try later]")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")  # not stuck in the exchange

    # SMTP-7 3 / C-42: a refused recipient is relayed, the session goes on.
    def test_c42_rcpt_refusal_relayed_session_goes_on(self):
        self.parent.reset(RCPT=lambda line, n: "450 4.2.0 busy" if n == 1 else None,
                          DOT="250 2.0.0 queued as C42")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<busy@local.example>"), "450 4.2.0 busy")
        self.gw.wait_log("info", r"\] ERROR Reply\(RCPT\): buf=\[450 4\.2\.0 busy\]$")
        self.assertEqual(c.cmd("RCPT TO:<ok@local.example>"), "250 2.1.5 recipient ok")
        self.assertRegex(c.cmd("DATA"), r"^354 Enter mail " + PRODUCT_RX + "$")
        self.assertEqual(c.message(clean_mail(rcpt="ok@local.example", msgid="c42@x.example")),
                         "250 2.0.0 queued as C42")
        self.assertEqual(len(self.parent.all_messages()), 1)
        self.assertEqual([x for x in self.parent.all_commands() if x.startswith("RCPT")],
                         ["RCPT TO:<busy@local.example>", "RCPT TO:<ok@local.example>"])
        # Only the accepted recipient is the mail's (SMTP-7 4, SMTP-14).
        line = self.gw.wait_log("access", r"c42@x\.example")[-1]
        self.assertIn(" GET mail:ok@local.example ", line)
        info = self.gw.wait_log("info", r"Message-Id: <c42@x\.example>")[-1]
        self.assertIn(":%d(ok@local.example) Message-Id:" % self.parent.port, info)

    def test_c42_rcpt_421_ends_the_session(self):
        self.parent.reset(RCPT=("421 4.3.2 closing down", CLOSE))
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % RCPT), "421 4.3.2 closing down")
        self.assertEqual(c.wait_closed(), b"")

    # SMTP-6: a refused MAIL is relayed; the session goes on.
    def test_smtp6_mail_refusal_relayed_session_goes_on(self):
        self.parent.reset(MAIL=lambda line, n: "550 5.7.1 sender refused" if n == 1 else None)
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<bad@outside.example>"), "550 5.7.1 sender refused")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % RCPT), "250 2.1.5 recipient ok")
        self.assertRegex(c.cmd("DATA"), r"^354 ")
        self.assertEqual(c.message(clean_mail(msgid="after-refusal@x.example")),
                         "250 2.0.0 queued")
        self.assertEqual(len(self.parent.all_messages()), 1)

    def test_smtp6_mail_refusal_logged_as_proxy_error(self):
        # SMTP-6: "Error reply from the server is logged as PROXY-ERROR
        # SERVER/ERROR Reply(MAIL): buf=[<reply>]" -- in the access log, the
        # only log with a PROXY-ERROR field; at the latest when the session ends.
        self.parent.reset(MAIL="550 5.7.1 sender refused")
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<refused@outside.example>"),
                         "550 5.7.1 sender refused")
        c.cmd("QUIT")
        c.wait_closed()
        want = "SERVER/ERROR Reply(MAIL): buf=[550 5.7.1 sender refused]"
        harness.wait_for(
            lambda: [l for l in self.gw.log_lines("access") if self.proxy_error(l) == want],
            3, what="an access.log record with PROXY-ERROR %r (access.log: %r)"
            % (want, self.gw.log_lines("access")[-3:]))
        # LOG-4: and the info line of the server's error reply.
        self.gw.wait_log("info", r"\] ERROR Reply\(MAIL\): buf=\[550 5\.7\.1 sender refused\]$")

    # SMTP-9 6: the parent refuses the DATA, or the message.
    def test_smtp9_data_refused_relayed(self):
        self.parent.reset(DATA="451 4.3.0 no")
        c = self.client()
        c.envelope(self, rcpts=("datano@local.example",))
        self.assertEqual(c.message(clean_mail(rcpt="datano@local.example")), "451 4.3.0 no")
        self.assertEqual(self.parent.all_messages(), [])
        self.assertEqual(self.parent.all_commands()[-1], "DATA")
        self.gw.wait_log("info", r"\] ERROR Reply\(DATA\) url=\[mail:datano@local\.example\] "
                                 r"buf=\[451 4\.3\.0 no\]$")
        line = self.access_line("datano@local.example")
        self.assertTrue(self.proxy_error(line), line)
        self.assertIn("451 4.3.0 no", self.proxy_error(line))
        self.assertIn(" TCP_MISS/500 ", line)
        # The session goes on.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")

    def test_smtp9_final_dot_refused_relayed(self):
        self.parent.reset(DOT="554 5.7.1 rejected")
        c = self.client()
        c.envelope(self, rcpts=("dotno@local.example",))
        self.assertEqual(c.message(clean_mail(rcpt="dotno@local.example")), "554 5.7.1 rejected")
        msgs = self.parent.all_messages()
        self.assertEqual(len(msgs), 1)  # received, and refused by the parent
        self.assertEqual(msgs[0][1], "554 5.7.1 rejected")
        self.gw.wait_log("info", r"\] ERROR Reply\(DATAEND\): url=\[mail:dotno@local\.example\] "
                                 r"buf=\[554 5\.7\.1 rejected\]$")
        line = self.access_line("dotno@local.example")
        self.assertTrue(self.proxy_error(line), line)
        self.assertIn("554 5.7.1 rejected", self.proxy_error(line))
        self.assertIn(" TCP_MISS/500 ", line)

    # SMTP-14: the info line of every mail.
    def test_smtp14_info_line_clean(self):
        c = self.client()
        c.envelope(self, rcpts=("info-clean@local.example",))
        self.assertEqual(c.message(clean_mail(rcpt="info-clean@local.example",
                                              msgid="info-clean@outside.example")),
                         "250 2.0.0 queued")
        line = self.gw.wait_log("info", r"Message-Id: <info-clean@outside\.example>")[-1]
        self.assertRegex(line, r"\] From: 127\.0\.0\.1:%d\(%s\) To: 127\.0\.0\.1:%d\("
                         r"info-clean@local\.example\) Message-Id: <info-clean@outside\.example> "
                         r"Infected: 0 VirusName: -?$"
                         % (c.local_port, re.escape(SENDER), self.parent.port))

    def test_smtp14_info_line_infected_denied(self):
        c = self.client()
        c.envelope(self, rcpts=("info-virus@local.example",))
        reply = c.message(eicar_mail(rcpt="info-virus@local.example",
                                     msgid="info-virus@outside.example"))
        m = re.match(r"^554 Infected by (\S+) " + PRODUCT_RX + "$", reply)
        self.assertTrue(m, reply)
        line = self.gw.wait_log("info", r"Message-Id: <info-virus@outside\.example>", 3)[-1]
        self.assertRegex(line, r"\] From: 127\.0\.0\.1:%d\(%s\) To: 127\.0\.0\.1:%d\("
                         r"info-virus@local\.example\) Message-Id: <info-virus@outside\.example> "
                         r"Infected: 1 VirusName: %s$"
                         % (c.local_port, re.escape(SENDER), self.parent.port,
                            re.escape(m.group(1))))


# ---- ACL-6 / CONN-5: acl_to and hosts.allow smtp_to ------------------------------

class TestAclToDenied(ParentCase):
    SECTION = {"acl_to": "yes"}
    HOSTS_ALLOW = "smtp_to: 127.0.0.2\n"

    def test_acl6_server_not_allowed(self):
        c = Client(self.gw.port)
        self.addCleanup(c.close)
        port = self.parent.port
        self.assertGenerated(
            c.greeting, "421 server open error(127.0.0.1:%d) errmsg=[CONNECT(127.0.0.1:%d)/"
            "Access Inhibited by Proxy(SEKISHO)]" % (port, port))
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"\] Access Denied to \[127\.0\.0\.1:127\.0\.0\.1\]$")
        time.sleep(0.3 * harness.SLOW)
        self.assertEqual(self.parent.all_commands(), [])

    def test_acl6_server_not_contacted(self):
        # ACL-6: "destination not contacted" -- not even a TCP connection.
        c = Client(self.gw.port)
        self.addCleanup(c.close)
        self.assertTrue(c.greeting.startswith("421 server open error"), c.greeting)
        c.wait_closed()
        time.sleep(0.5 * harness.SLOW)
        self.assertEqual(self.parent.accepted, 0,
                         "the denied parent was connected to (TCP) %d time(s)"
                         % self.parent.accepted)


class TestAclToAllowed(ParentCase):
    SECTION = {"acl_to": "yes"}
    HOSTS_ALLOW = "smtp_to: 127.0.0.1\n"

    def test_acl6_allowed_server_gets_the_mail(self):
        c = self.client()
        c.envelope(self)
        self.assertEqual(c.message(clean_mail(msgid="aclto@outside.example")),
                         "250 2.0.0 queued")
        msgs = self.parent.all_messages()
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Message-ID: <aclto@outside.example>", msgs[0][0])
        self.assertNotIn("Access Denied to", self.gw.log_text("info"))


if __name__ == "__main__":
    unittest.main()
