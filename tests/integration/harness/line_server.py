"""The plumbing of the scripted line-based servers the tests put behind a
proxy (harness.fake_ftp.FakeFtp, harness.pop_proxy.FakePop,
harness.smtp_parent.ScriptedParent, test_ftp_dialogue's ScriptedFtp): the
listening socket, the threads, reading lines, the script and a bounded
stop(), written once.

LineServer listens on 127.0.0.1 (a free port: .host, .port) and serves
each connection it accepts in a thread of its own (CONCURRENT = False: one
connection at a time, in the accept thread). A connection is

  - session(conn): the object that stands for it (a LineSession unless a
    server makes its own), made as it is accepted;
  - serve(conn, sess): the dialogue. The default greets from the script
    and then answers each line: it is recorded (record_line(), before it is
    answered) and looked up by verb() in the script;
  - ended(sess) and the connection shut down and closed, whatever ended it
    (an OSError, the peer's end, stop()).

The script (.script, with DEFAULT under it) maps an upper-case verb (or
"GREETING", or "*" for any other line) to

  - bytes, sent as they are (a reply with its CRLFs);
  - CLOSE, to close the connection without a word;
  - a tuple (bytes, CLOSE): answer, then close;
  - a callable (script_arg(sess), line) -> one of these; it may also write
    itself (and return b"").

Every socket wait is bounded: the listener polls every 0.2 s for stop(), a
connection waits TIMEOUT seconds for the peer, and stop() wakes every
connection (wake()) and joins every thread (STOP_JOIN seconds each). IPv4
loopback only.
"""
import socket
import threading
import time

from . import SLOW

CLOSE = "<close>"


def shut_down(socks):
    """Shuts each socket down for reading and writing: a thread blocked on
    one (recv, accept) wakes up."""
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class LineReader:
    """The lines a socket brings, one at a time, with their line ends."""

    def __init__(self, conn, bufsize=65536, limit=None, deadline=None):
        # limit: bytes a line may grow to; deadline: time.monotonic() after
        # which no more is read (None: no limit, no deadline)
        self.conn = conn
        self.bufsize = bufsize
        self.limit = limit
        self.deadline = deadline
        self.buf = bytearray()

    def readline(self):
        """The next line, line end included; b"" when the peer closed first
        (a partial last line is dropped), the line grew over limit or the
        deadline passed."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if self.limit is not None and len(self.buf) > self.limit:
                return b""
            if self.deadline is not None and time.monotonic() > self.deadline:
                return b""
            chunk = self.conn.recv(self.bufsize)
            if not chunk:
                return b""
            self.buf.extend(chunk)


class LineSession:
    """One connection: the socket, its lines (as received, no line end)."""

    def __init__(self, server, conn):
        self.server = server
        self.conn = conn
        self.lines = []
        self.reader = LineReader(conn)

    def send(self, data):
        self.conn.sendall(data if isinstance(data, bytes) else data.encode("latin-1"))


class LineServer:
    """A scripted line-based server on 127.0.0.1 (see the top). A subclass
    sets its own attributes first and then calls LineServer.__init__,
    which starts accepting."""

    DEFAULT = {"*": b""}
    CONCURRENT = True  # a thread per connection; False: one at a time
    BACKLOG = 16
    TIMEOUT = 120 * SLOW  # a connection's socket timeout (a sendall of a big reply included)
    STOP_JOIN = 5  # seconds stop() waits for each thread
    LINES_MAX = 100000  # lines the default serve() answers on one connection

    def __init__(self, script=None):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(self.BACKLOG)
        self.sock.settimeout(0.2)  # how soon the accept loop sees stop()
        self.host = "127.0.0.1"
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.script = dict(script or {})
        self.sessions = []  # every connection's session(), in order of arrival
        self.conns = set()
        self.threads = []
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    # ---- hooks -------------------------------------------------------------------

    def session(self, conn):
        """The object for a connection just accepted (kept in .sessions)."""
        return LineSession(self, conn)

    def serve(self, conn, sess):
        """The dialogue: the greeting, then one reply per line."""
        if not self.reply("GREETING", sess, b""):
            return
        for _ in range(self.LINES_MAX):
            raw = sess.reader.readline()
            if not raw:
                return
            line = raw.rstrip(b"\r\n")
            self.record_line(sess, line)
            if not self.reply(self.verb(line), sess, line):
                return

    def record_line(self, sess, line):
        with self.lock:
            sess.lines.append(line)

    def verb(self, line):
        """The script key of a line."""
        return line.split(b" ", 1)[0].decode("latin-1").upper()

    def script_arg(self, sess):
        """What a callable of the script gets first."""
        return sess

    def ended(self, sess):
        """The connection is about to close."""

    def wake(self):
        """Ends every wait of the connections' threads (stop())."""
        with self.lock:
            conns = list(self.conns)
        shut_down(conns)

    # ---- the script ------------------------------------------------------------

    def reply(self, key, sess, line):
        """Sends the script's reply to key; False when the connection is to
        end."""
        with self.lock:
            r = self.script.get(key, self.DEFAULT.get(key))
            if r is None:
                r = self.script.get("*", self.DEFAULT["*"])
        if callable(r):
            r = r(self.script_arg(sess), line)
        close = False
        if isinstance(r, tuple):
            r, close = r[0], r[1] is CLOSE
        if r is CLOSE:
            return False
        if r:
            sess.send(r)
        return not close

    # ---- the plumbing ----------------------------------------------------------

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sess = self.session(conn)
            with self.lock:
                self.sessions.append(sess)
                self.conns.add(conn)
            if not self.CONCURRENT:
                self._run(conn, sess)
                continue
            t = threading.Thread(target=self._run, args=(conn, sess), daemon=True)
            self.threads.append(t)
            t.start()

    def _run(self, conn, sess):
        conn.settimeout(self.TIMEOUT)
        try:
            self.serve(conn, sess)
        except OSError:
            pass  # the peer hung up (a reset), or stop()
        finally:
            self.ended(sess)
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
            with self.lock:
                self.conns.discard(conn)

    def stop(self):
        """Closes the listener, ends every connection, joins every thread."""
        self.stopping = True
        self.sock.close()
        self.wake()  # a connection served in the accept thread (CONCURRENT = False)
        self.thread.join(self.STOP_JOIN)
        self.wake()  # one accepted just before the listener closed
        for t in self.threads:
            t.join(self.STOP_JOIN)


__all__ = ["LineServer", "LineSession", "LineReader", "CLOSE", "shut_down"]
