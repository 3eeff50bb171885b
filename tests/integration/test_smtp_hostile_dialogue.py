"""Hostile SMTP clients against the command dialogue (issue 11): NUL and
bare line ends, one byte per segment, slowloris, command floods, talking
before the greeting, and the error budget (proxy_dialogue.h). The gateway
stands in front of the scripted parent (harness/smtp_parent.py), which
records every command line and message it received; each test asserts what
the client, the parent and the logs saw (and, for floods, the CPU the
workers used, from /proc)."""
import re
import socket
import threading
import time
import unittest

import harness
from harness import smtp_parent
from harness.smtp_parent import PRODUCT_RX, RCPT, SENDER

ENV = {}


def setUpModule():
    wd = harness.Workdir("smtp-hostile-dialogue")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


ENVELOPE = ("EHLO client.test\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n"
            % (SENDER, RCPT)).encode()
# What the gateway adds in front of a clean message (SMTP-9 6).
ADDED_HEADERS = (rb"Received: from \S+ \(127\.0\.0\.1\)\r\n\tby gw\.test \([^)]+\) ;\r\n\t[^\r\n]+"
                 rb"\r\nX-Virus-Status: clean\([^)]+\)\r\n")


def stuffed(message):
    """message (CRLF lines) dot-stuffed and ended, as a client sends it."""
    return re.sub(rb"(?m)^\.", b"..", message) + b".\r\n"


def replies_of(data):
    """The reply lines in data (each ends with CRLF)."""
    return data.decode("utf-8", "replace").split("\r\n")[:-1]


class Sender(threading.Thread):
    """Writes data to a socket from its own thread (the gateway may stop
    reading, and the kernel's buffers need not hold all of it); error is
    the exception that ended the write, if any, sent what was taken."""

    def __init__(self, sock, data, chunk=65536, sndbuf=None):
        super().__init__(daemon=True)
        if sndbuf:  # fixed: loopback autotuning could take megabytes
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        self.sock, self.data, self.chunk = sock, data, chunk
        self.sent, self.error = 0, None
        self.start()

    def run(self):
        view = memoryview(self.data)
        try:
            while self.sent < len(view):
                self.sent += self.sock.send(view[self.sent:self.sent + self.chunk])
        except OSError as e:
            self.error = e


class DialogueCase(smtp_parent.ParentCase):
    ENV = ENV

    def read_until_closed(self, c, limit=1 << 20):
        """Everything the gateway sends until it closes (EOF or reset)."""
        got = c.buf
        c.buf = b""
        c.sock.settimeout(15 * harness.SLOW)
        while len(got) < limit:
            try:
                chunk = c.sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            got += chunk
        return got

    def deliver_after(self, c):
        """The session still works: a clean mail is delivered once."""
        c.envelope(self)
        self.assertRegex(c.message("Subject: after\r\n\r\nclean\r\n"), r"^250 2\.0\.0 queued$")
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1, messages)
        self.assertTrue(messages[0][0].endswith(b"Subject: after\r\n\r\nclean\r\n"))


# ---- NUL bytes -------------------------------------------------------------------


class TestNulBytes(DialogueCase):
    """A command line holding a NUL is an unknown command (smtp_parse.h:
    a control byte makes any verb unknown): answered 500, never relayed.
    In DATA a NUL is message data: spooled, scanned and relayed as it is
    (smtp_dot.h keeps every byte but the dot stuffing)."""

    def test_nul_in_commands_is_unknown_and_never_relayed(self):
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        for line, verb in ((b"NO\0OP", "NO"), (b"\0NOOP", ""),
                           (b"MAIL FROM:<" + SENDER.encode() + b">\0", "MAIL"),
                           (b"EHLO cli\0ent.test", "EHLO"), (b"RSET\0", "RSET")):
            with self.subTest(line=line):
                c.send(line + b"\r\n")
                self.assertRegex(c.reply(), r'^500 Unknown Command: "%s" %s$'
                                 % (re.escape(verb), PRODUCT_RX))
        commands = self.parent.all_raw_commands()
        self.assertEqual(commands, [b"EHLO gw.test\r\n"])
        self.deliver_after(c)  # 5 invalid commands: well within the budget
        self.assertFalse([x for x in self.parent.all_raw_commands() if b"\0" in x])

    def test_nul_in_data_is_scanned_and_relayed_as_data(self):
        c = self.client()
        c.envelope(self)
        body = (b"Subject: nul\r\nX-Nul: a\0b\r\n\r\nbefore\0after\r\n\0\r\n\0.\0\r\n"
                b"\0\0\0\0\r\n")
        c.send(stuffed(body))
        self.assertRegex(c.reply(), r"^250 2\.0\.0 queued$")
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1, messages)
        self.assertRegex(messages[0][0], b"^" + ADDED_HEADERS + re.escape(body) + b"$")
        self.assertIn("/200 ", self.access_line(RCPT))

    def infected_with_nul(self, boundary):
        c = self.client()
        c.envelope(self)
        body = (b"Subject: nul\r\nX-Nul: \0\0\0\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n"
                b"--" + boundary + b"\r\nContent-Type: text/plain\r\n\r\nhi\0\r\n"
                b"--" + boundary + b"\r\nContent-Type: application/octet-stream; "
                b"name=\"e.com\"\r\n\r\n" + harness.EICAR + b"\r\n--" + boundary + b"--\r\n")
        c.send(stuffed(body))
        reply = c.reply()
        self.assertEqual(self.parent.all_messages(), [])
        return reply

    def test_nul_in_the_header_does_not_hide_an_attachment(self):
        self.assertRegex(self.infected_with_nul(b"b1"),
                         r"^554 Infected by Eicar\S* " + PRODUCT_RX + "$")

    def test_nul_in_the_boundary_is_blocked(self):
        # The walker cannot take such a boundary: blocked as a policy, not
        # passed unscanned.
        self.assertRegex(self.infected_with_nul(b"b\0"),
                         r"^554 Infected by SEKISHO/POLICY_FORMAT_MIME_BOUNDARY " + PRODUCT_RX + "$")
        self.assertIn("SEKISHO/POLICY_FORMAT_MIME_BOUNDARY",
                      self.gw.wait_log("detect", r"POLICY_FORMAT_MIME_BOUNDARY")[-1])


# ---- bare LF / CR in command lines ------------------------------------------------


class TestBareLineEnds(DialogueCase):
    """A bare LF ends a command line (as postfix accepts it); upstream
    every command goes with CRLF. A CR inside a line is a control byte: the
    line is unknown, never relayed (an upstream that ended lines at a bare
    CR would see two commands). Bare LF in DATA: test_smtp_hostile.py
    TestSmtpSmuggling."""

    def test_bare_lf_commands_are_accepted_and_relayed_with_crlf(self):
        c = self.client()
        c.send(b"EHLO client.test\nMAIL FROM:<" + SENDER.encode() + b">\nRCPT TO:<" +
               RCPT.encode() + b">\r\nNOOP\nDATA\n")
        self.assertRegex(c.reply(), r"^250-")
        self.assertRegex(c.reply(), r"^250 2\.1\.0 ")
        self.assertRegex(c.reply(), r"^250 2\.1\.5 ")
        self.assertEqual(c.reply(), "250 2.0.0 noop")
        self.assertRegex(c.reply(), r"^354 ")
        self.assertRegex(c.message("Subject: lf\r\n\r\nbody\r\n"), r"^250 2\.0\.0 queued$")
        self.assertRegex(c.cmd("QUIT"), r"^221 ")
        self.assertEqual(self.parent.all_raw_commands(), [
            b"EHLO gw.test\r\n", b"MAIL FROM:<" + SENDER.encode() + b">\r\n",
            b"RCPT TO:<" + RCPT.encode() + b">\r\n", b"NOOP\r\n", b"DATA\r\n", b"QUIT\r\n"])
        self.assertEqual(len(self.parent.all_messages()), 1)

    def test_cr_inside_a_command_line_is_not_relayed(self):
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        c.send(b"NOOP\rRSET\r\n")
        self.assertRegex(c.reply(), r'^500 Unknown Command: "NOOP RSET" ' + PRODUCT_RX + "$")
        c.send(b"RCPT TO:<" + RCPT.encode() + b">\rDATA\n")
        self.assertRegex(c.reply(), r'^500 Unknown Command: "RCPT" ' + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_raw_commands(), [b"EHLO gw.test\r\n"])


# ---- one byte per segment -------------------------------------------------------


def odd_message():
    """CRLF lines with dots where stuffing matters, 8-bit bytes and a long
    line, so that every boundary the dot decoder holds across calls is cut."""
    lines = [b"From: " + SENDER.encode(), b"Subject: bytes", b"", b".leading dot", b"..two",
             b".", b". ", b".x", b"\xe6\x97\xa5\xe6\x9c\xac", b"x" * 990, b"end ."]
    return b"\r\n".join(lines) + b"\r\n"


class TestOneBytePerSegment(DialogueCase):
    """A whole session (commands, message, end line, QUIT) written one
    byte per send with TCP_NODELAY: the mail arrives byte for byte."""

    def send_bytewise(self, c, data):
        for i in range(len(data)):
            c.sock.sendall(data[i:i + 1])

    def test_whole_session_byte_by_byte_dialogue(self):
        c = self.client()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        message = odd_message()
        for line, rx in ((b"EHLO client.test\r\n", r"^250-"),
                         (b"MAIL FROM:<" + SENDER.encode() + b">\r\n", r"^250 "),
                         (b"RCPT TO:<" + RCPT.encode() + b">\r\n", r"^250 "),
                         (b"DATA\r\n", r"^354 "), (stuffed(message), r"^250 2\.0\.0 queued$"),
                         (b"QUIT\r\n", r"^221 ")):
            self.send_bytewise(c, line)
            self.assertRegex(c.reply(), rx)
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1, messages)
        self.assertRegex(messages[0][0], b"^" + ADDED_HEADERS + re.escape(message) + b"$")

    def test_whole_session_byte_by_byte_pipelined(self):
        c = self.client()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        message = odd_message()
        self.send_bytewise(c, ENVELOPE + stuffed(message) + b"QUIT\r\n")
        for rx in (r"^250-", r"^250 ", r"^250 ", r"^354 ", r"^250 2\.0\.0 queued$", r"^221 "):
            self.assertRegex(c.reply(), rx)
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1, messages)
        self.assertRegex(messages[0][0], b"^" + ADDED_HEADERS + re.escape(message) + b"$")


# ---- slowloris ----------------------------------------------------------------------


class TestSlowloris(DialogueCase):
    """request_timeout bounds a command line from its first byte (issue 10
    item 16): a line trickled a byte at a time, each byte restarting the
    idle timer, ends the session with 421 after request_timeout seconds.
    The limit is per line: a session of lines that each arrive whole goes
    on, and the message after DATA is not a command line."""
    SECTION = {"request_timeout": "2"}

    def trickle(self, c, data, pause=0.3, stop=None):
        """data a byte every pause seconds; what came back meanwhile."""
        c.sock.settimeout(pause)
        got = b""
        for i in range(len(data)):
            try:
                c.sock.sendall(data[i:i + 1])
            except OSError:
                break
            try:
                chunk = c.sock.recv(4096)
                if not chunk:
                    break
                got += chunk
            except socket.timeout:
                pass
            if stop and stop in got:
                break
        return got

    def test_trickled_command_line_gets_421_and_is_not_relayed(self):
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        partial = b"MAIL FROM:<" + b"s" * 60  # 22 s at this pace: far past 2 s
        got = self.trickle(c, partial, stop=b"\r\n")
        got += self.read_until_closed(c)
        self.assertRegex(got.decode(), r"^421 Timeout: command line not complete within 2 sec, "
                         r"closing connection %s\r\n$" % PRODUCT_RX)
        self.gw.wait_log("error", r"Timeout: the command line was not complete within 2 sec "
                                  r"\(request_timeout\), received=\d+$")
        self.assertEqual(self.parent.all_commands(), ["EHLO gw.test"])

    def test_whole_lines_are_not_limited_by_request_timeout(self):
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        for i in range(8):  # 8 x 0.5 s: twice request_timeout
            self.assertEqual(c.cmd("NOOP %d" % i), "250 2.0.0 noop")
            time.sleep(0.5)
        self.deliver_after(c)

    def test_trickled_message_is_not_a_command_line(self):
        c = self.client()
        c.envelope(self)
        body = b"Subject: slow\r\n\r\nslowly\r\n"  # 25 bytes: 7.5 s at this pace
        got = self.trickle(c, stuffed(body))
        if b"\r\n" not in got:
            got += c.reply().encode() + b"\r\n"
        self.assertEqual(replies_of(got), ["250 2.0.0 queued"])
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1)
        self.assertTrue(messages[0][0].endswith(body))


# ---- floods ----------------------------------------------------------------------------

FLOOD = 10000


class TestCommandFlood(DialogueCase):
    """10,000 NOOPs in one write: each is relayed on its own, one in
    flight at a time, and answered in order."""

    def test_ten_thousand_pipelined_noops(self):
        self.parent.reset(NOOP=lambda line, n: "250 2.0.0 %s #%d" % (line, n))
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        workers = self.gw.worker_pids()
        cpu0 = harness.cpu_seconds(workers)
        sender = Sender(c.sock, b"".join(b"NOOP %05d\r\n" % i for i in range(FLOOD)))
        for i in range(FLOOD):
            self.assertEqual(c.reply(), "250 2.0.0 NOOP %05d #%d" % (i, i + 1))
        sender.join(30 * harness.SLOW)
        self.assertIsNone(sender.error)
        used = harness.cpu_seconds(workers) - cpu0
        commands = self.parent.all_commands()
        self.assertEqual(commands, ["EHLO gw.test"] + ["NOOP %05d" % i for i in range(FLOOD)])
        # Each command costs the worker a few system calls: far below
        # 100 us of CPU each (a worker that spun on its buffered input
        # while waiting for the parent would burn far more).
        self.assertLess(used, FLOOD * 100e-6 * harness.SLOW,
                        "the workers used %.2f s of CPU for %d commands" % (used, FLOOD))
        self.deliver_after(c)

    def test_locally_answered_commands_flood_with_a_reader_that_waits(self):
        """Refusals the gateway answers itself (503 here) queue replies
        without waiting for the parent: a client that writes 20,000 of them
        before it reads gets every reply, in order, and the session goes on
        (it is not cut off with a truncated reply when the reply buffer is
        full)."""
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        count = 20000
        sender = Sender(c.sock, b"DATA\r\n" * count + b"NOOP\r\n")
        time.sleep(1)  # the client reads later: the replies pile up
        for i in range(count):
            self.assertRegex(c.reply(), r"^503 Need MAIL FROM and RCPT TO before DATA "
                             + PRODUCT_RX + "$", "reply %d" % i)
        self.assertEqual(c.reply(), "250 2.0.0 noop")
        sender.join(30 * harness.SLOW)
        self.assertIsNone(sender.error)
        self.deliver_after(c)


# ---- talking before the greeting -------------------------------------------------------


def slow_greeting(reply):
    def greet(line, n):
        time.sleep(1)  # the client's pipelined commands arrive meanwhile
        return reply
    return greet


class TestPipeliningBeforeGreeting(DialogueCase):
    """A client that sends a whole transaction before the gateway greets:
    nothing goes upstream before the parent greeted, the client hears the
    gateway's 220 first, and a mail is accepted only with the parent's
    250 (SMTP-3, SMTP-9)."""

    def raw_client(self):
        s = socket.create_connection(("127.0.0.1", self.gw.port), timeout=15 * harness.SLOW)
        self.addCleanup(s.close)
        return s

    def test_served_in_order_after_the_greeting(self):
        self.parent.reset(GREETING=slow_greeting("220 parent.test ESMTP slow"))
        s = self.raw_client()
        s.sendall(ENVELOPE + stuffed(b"Subject: early\r\n\r\nbody\r\n") + b"QUIT\r\n")
        c = smtp_parent.Client.__new__(smtp_parent.Client)
        c.sock, c.buf = s, b""
        self.assertRegex(c.reply(), r"^220 gw\.test ")
        for rx in (r"^250-", r"^250 2\.1\.0 ", r"^250 2\.1\.5 ", r"^354 Enter mail ",
                   r"^250 2\.0\.0 queued$", r"^221 "):
            self.assertRegex(c.reply(), rx)
        self.assertEqual(self.read_until_closed(c), b"")
        sessions = self.parent.active()
        self.assertEqual(len(sessions), 1)
        self.assertEqual(sessions[0].before_greeting, b"")
        self.assertEqual(sessions[0].commands,
                         ["EHLO gw.test", "MAIL FROM:<%s>" % SENDER, "RCPT TO:<%s>" % RCPT,
                          "DATA", "QUIT"])
        self.assertEqual(len(sessions[0].messages), 1)

    def test_refused_greeting_accepts_nothing(self):
        self.parent.reset(GREETING=slow_greeting("554 5.7.1 go away"))
        s = self.raw_client()
        s.sendall(ENVELOPE + stuffed(b"Subject: early\r\n\r\nbody\r\n") + b"QUIT\r\n")
        c = smtp_parent.Client.__new__(smtp_parent.Client)
        c.sock, c.buf = s, b""
        got = self.read_until_closed(c)
        self.assertRegex(got.decode(), r"^421 Cannot get correct greeting message from mail "
                         r"server \(127\.0\.0\.1:%d\)\. return code=554 %s\r\n$"
                         % (self.parent.port, PRODUCT_RX))
        self.assertEqual(self.parent.all_commands(), [])
        self.assertEqual(self.parent.all_messages(), [])
        self.assertEqual(self.parent.sessions[0].before_greeting, b"")


# ---- the error budget ----------------------------------------------------------------------

BUDGET = 20  # PROXY_DIALOGUE_ERROR_BUDGET
TOO_MANY = r"^421 4\.7\.0 Error: too many errors %s$" % PRODUCT_RX
INVALID = (("XYZZY", r'^500 Unknown Command: "XYZZY" '),
           ("MAIL FROM:<a@b", r"^501 Syntax error \(MAIL FROM:\) "),
           ("MAIL", r"^501 Syntax error \(MAIL FROM:\) "),
           ("RCPT <x@y>", r'^500 RCPT command must begin with "RCPT TO:" '),
           ("RCPT TO:<a@b>x", r"^501 Syntax error \(RCPT TO:\) "))


class TestErrorBudget(DialogueCase):
    """A client that sends more than 20 invalid commands (unknown verbs,
    MAIL / RCPT syntax errors) is told "421 4.7.0 Error: too many errors"
    and disconnected (postfix's smtpd_hard_error_limit); valid commands do
    not count."""

    def test_hundred_thousand_invalid_commands(self):
        c = self.client()
        workers = self.gw.worker_pids()
        cpu0 = harness.cpu_seconds(workers)
        count = 100000
        data = b"".join(b"INVALID-COMMAND-%06d\r\n" % i for i in range(count))
        sender = Sender(c.sock, data, sndbuf=65536)
        got = self.read_until_closed(c)
        sender.join(30 * harness.SLOW)
        used = harness.cpu_seconds(workers) - cpu0
        replies = replies_of(got)
        self.assertEqual(len(replies), BUDGET + 1, replies)
        for i in range(BUDGET):
            self.assertRegex(replies[i], r'^500 Unknown Command: "INVALID-COMMAND-%06d" %s$'
                             % (i, PRODUCT_RX))
        self.assertRegex(replies[BUDGET], TOO_MANY)
        self.gw.wait_log("info", r"too many errors from \[127\.0\.0\.1\]: disconnected$")
        # Only the gateway's own EHLO (xclient=yes asks what the parent
        # offers): no invalid command reached the parent.
        self.assertEqual(self.parent.all_commands(), ["EHLO gw.test"])
        # The gateway closed with the rest unread: the client's write fails.
        self.assertIsInstance(sender.error, (ConnectionResetError, BrokenPipeError))
        self.assertLess(sender.sent, len(data))
        # 21 replies and one read of 64 KiB: nothing near the cost of
        # parsing 100,000 lines.
        self.assertLess(used, 0.2 * harness.SLOW, "the workers used %.2f s of CPU" % used)

    def test_every_kind_of_invalid_command_counts(self):
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        for i in range(BUDGET):
            line, rx = INVALID[i % len(INVALID)]
            self.assertRegex(c.cmd(line), rx + PRODUCT_RX + "$", "command %d" % i)
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")  # still served at the budget
        line, _ = INVALID[BUDGET % len(INVALID)]
        self.assertRegex(c.cmd(line), TOO_MANY)
        self.assertEqual(self.read_until_closed(c), b"")
        self.gw.wait_log("info", r"too many errors from \[127\.0\.0\.1\]: disconnected$")
        self.assertEqual(self.parent.all_commands(), ["EHLO gw.test", "NOOP"])

    def test_valid_commands_do_not_count(self):
        disconnected = self.gw.log_text("info").count("too many errors")
        c = self.client()
        self.assertRegex(c.cmd("EHLO client.test"), r"^250")
        lines, expect = [], []
        for i in range(30):
            lines.append("NOOP %d" % i)
            expect.append(r"^250 2\.0\.0 noop$")
            if i < BUDGET - 1:
                line, rx = INVALID[i % len(INVALID)]
                lines.append(line)
                expect.append(rx + PRODUCT_RX + "$")
        c.send("".join(x + "\r\n" for x in lines))
        for i, rx in enumerate(expect):
            self.assertRegex(c.reply(), rx, "reply %d to %r" % (i, lines[i]))
        # 19 invalid and 30 valid commands: the session goes on.
        self.deliver_after(c)
        self.assertEqual(len([x for x in self.parent.all_commands() if x.startswith("NOOP")]), 30)
        self.assertEqual(self.gw.log_text("info").count("too many errors"), disconnected)


class TestLastReplyBeforeClose(DialogueCase):
    """A session that ends while the client's input is still unread (error
    budget, "500 Too long line", SIGTERM's 421 with pipelined commands
    behind) must not close() a socket whose receive queue is not empty: the
    kernel would send RST and discard what the client had not read yet, the
    final reply included. The session core closes such a session with a
    lingering close (proxy_linger: shutdown(SHUT_WR), the input read and
    dropped until EOF or a bound, then close)."""

    def test_final_reply_reaches_a_client_that_reads_late(self):
        c = self.client()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        count = 3000  # ~200 KB of 503 replies: more than the sockets buffer
        data = (b"DATA\r\n" * count + b"XYZZY\r\n" * (BUDGET + 1) +
                b"".join(b"JUNK-%06d\r\n" % i for i in range(30000)))
        sender = Sender(c.sock, data, sndbuf=65536)
        time.sleep(1)  # the client reads late: the gateway is ahead of it
        got = self.read_until_closed(c, limit=1 << 24)
        sender.join(30 * harness.SLOW)
        self.gw.wait_log("info", r"too many errors from \[127\.0\.0\.1\]: disconnected$")
        replies = replies_of(got)
        self.assertEqual(len(replies), count + BUDGET + 1, replies[-3:])
        self.assertRegex(replies[-1], TOO_MANY)


if __name__ == "__main__":
    unittest.main()
