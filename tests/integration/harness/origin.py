"""A scripted HTTP origin server for the cases nginx cannot produce.

What it does: listens on 127.0.0.1 (a free port), reads one request per
connection (head up to MAX_HEAD bytes, then a body framed by Content-Length
or chunked, up to MAX_BODY bytes), records it, and answers with the
behaviour registered for the request's path. The proxy talks HTTP/1.0 with
"Connection: close" to its origins, so one request per connection is all it
needs; the connection is closed after every answer.

What it owns: the listening socket, one thread per connection, and the list
of recorded requests (guarded by a lock; read it with requests() or
wait_request()).

What it does not do: no keep-alive, no TLS, no validation of what it
receives beyond finding the end of the head and the body - tests assert on
the recorded bytes themselves. Every wait is bounded: sockets have a
timeout, slow behaviours cap their pauses, stop() joins with a timeout.

Behaviours are callables behaviour(conn, request) that write the answer to
the socket conn; the factories below build the usual ones. A request with
no registered path gets a 404.
"""
import socket
import socketserver
import threading
import time
from urllib.parse import urlsplit

MAX_HEAD = 256 * 1024       # bytes of a request head we accept
MAX_BODY = 16 * 1024 * 1024  # bytes of a request body we record
IO_TIMEOUT = 30.0            # seconds a connection may stay silent
MAX_PAUSE = 5.0              # longest single pause of a slow behaviour
MAX_SLOW_TOTAL = 20.0        # longest total pausing of one slow answer


class Request:
    """One request as the origin received it (bytes exactly as sent)."""

    def __init__(self, head, body, peer):
        self.head = head      # request line and headers, through the empty line
        self.body = body      # de-chunked when it was chunked
        self.peer = peer
        self.time = time.monotonic()
        lines = head.split(b"\r\n")
        self.request_line = lines[0]
        parts = self.request_line.split(b" ")
        self.method = parts[0]
        self.target = parts[1] if len(parts) > 1 else b""
        self.version = parts[2] if len(parts) > 2 else b""
        self.headers = []     # (name, value) in order, names as sent
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(b":")
            self.headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))

    @property
    def path(self):
        """The path of the target, without query (absolute URIs reduced)."""
        return urlsplit(self.target.decode("latin-1")).path

    def header_values(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name):
        """The single value of a header; None when absent; error when repeated."""
        values = self.header_values(name)
        if len(values) > 1:
            raise AssertionError("header %s repeated: %r" % (name, values))
        return values[0] if values else None

    def __repr__(self):
        return "<Request %r, %d body bytes>" % (self.request_line, len(self.body))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        origin = self.server.origin
        conn = self.request
        conn.settimeout(IO_TIMEOUT)
        with origin._lock:
            origin._conns.add(conn)
        try:
            req = _read_request(conn, self.client_address)
            if req is None:
                return
            origin._record(req)
            behaviour = origin._behaviour_for(req.path)
            behaviour(conn, req)
        except OSError:
            pass  # the proxy went away; what it sent is recorded already
        finally:
            with origin._lock:
                origin._conns.discard(conn)
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _recv_until(conn, data, marker, limit):
    while marker not in data:
        if len(data) > limit:
            raise OSError("request head over %d bytes" % limit)
        chunk = conn.recv(65536)
        if not chunk:
            return data, False
        data += chunk
    return data, True


def _read_exact(conn, data, n):
    while len(data) < n:
        chunk = conn.recv(min(65536, n - len(data)))
        if not chunk:
            break
        data += chunk
    return data


def _read_chunked(conn, data):
    """De-chunk a request body; returns (body, complete)."""
    body = b""
    while True:
        data, ok = _recv_until(conn, data, b"\r\n", 4096)
        if not ok:
            return body, False
        line, _, data = data.partition(b"\r\n")
        size = int(line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            data, _ = _recv_until(conn, data, b"\r\n", 16384)  # trailers are not kept
            return body, True
        if len(body) + size > MAX_BODY:
            raise OSError("request body over %d bytes" % MAX_BODY)
        data = _read_exact(conn, data, size + 2)
        body += data[:size]
        data = data[size + 2:]


def _read_request(conn, peer):
    data, ok = _recv_until(conn, b"", b"\r\n\r\n", MAX_HEAD)
    if not ok:
        return None
    end = data.index(b"\r\n\r\n") + 4
    head, rest = data[:end], data[end:]
    req = Request(head, b"", peer)
    te = ",".join(req.header_values("Transfer-Encoding")).lower()
    if "chunked" in te:
        req.body, _ = _read_chunked(conn, rest)
        return req
    lengths = req.header_values("Content-Length")
    if lengths:
        n = min(int(lengths[0]), MAX_BODY)
        req.body = _read_exact(conn, rest, n)[:n]
    return req


class Origin:
    """The scripted origin. Register behaviours with route(); stop() at the end."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._routes = {}
        self._served = 0
        self._records = []
        self._conns = set()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.origin = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.port, path.lstrip("/"))

    def route(self, path, behaviour):
        """Answer requests for path (exact match, without query) with behaviour."""
        with self._lock:
            self._routes["/" + path.lstrip("/")] = behaviour

    def serve(self, name, behaviour):
        """route() behaviour on a path of its own, /<name>-<n> (n counts the
        calls), so that no test sees another's requests; returns (path, url)."""
        with self._lock:
            self._served += 1
            path = "/%s-%d" % (name, self._served)
        self.route(path, behaviour)
        return path, self.url(path)

    def _behaviour_for(self, path):
        with self._lock:
            return self._routes.get(path, _not_found)

    def _record(self, req):
        with self._cond:
            self._records.append(req)
            self._cond.notify_all()

    def requests(self, path=None):
        """A copy of the recorded requests, oldest first (those for path only)."""
        with self._lock:
            return [r for r in self._records if path is None or r.path == path]

    def wait_request(self, path, count=1, timeout=10.0):
        """The requests for path once there are at least count of them (bounded)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [r for r in self._records if r.path == path]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("origin: no request for %s within %.0f s" % (path, timeout))
                self._cond.wait(left)

    def stop(self, timeout=10.0):
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout)


# ---- behaviours -------------------------------------------------------------

def _head(status_line, headers):
    lines = [status_line] + ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _not_found(conn, req):
    body = b"no behaviour for this path\n"
    conn.sendall(_head("HTTP/1.0 404 Not Found", [("Content-Type", "text/plain"),
                                                  ("Content-Length", str(len(body)))]) + body)


def response(status=200, reason="OK", headers=(), body=b"", version="HTTP/1.1", length=True):
    """A complete response; Content-Length is added when length is true."""
    hdrs = list(headers)
    if length:
        hdrs.append(("Content-Length", str(len(body))))

    def behaviour(conn, req):
        out = _head("%s %d %s" % (version, status, reason) if reason is not None
                    else "%s %d" % (version, status), hdrs)
        conn.sendall(out if req.method == b"HEAD" else out + body)
    return behaviour


def echo(status=200, reason="OK", headers=()):
    """The request head followed by its body, as the response body."""
    def behaviour(conn, req):
        body = req.head + req.body
        out = _head("HTTP/1.1 %d %s" % (status, reason),
                    list(headers) + [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(body)))])
        conn.sendall(out if req.method == b"HEAD" else out + body)
    return behaviour


def raw(data):
    """Exactly these bytes, then close (odd status lines, headers, framing)."""
    def behaviour(conn, req):
        conn.sendall(data)
    return behaviour


def chunk_payload(sizes, seed=0):
    """Deterministic content for chunks of the given sizes (the expected body)."""
    return [bytes((seed + i * 7 + j) % 251 for j in range(n)) for i, n in enumerate(sizes)]


def chunked(sizes, headers=(), extension=b"", trailers=(), seed=0, version="HTTP/1.1"):
    """A chunked response; the chunks carry chunk_payload(sizes, seed)."""
    def behaviour(conn, req):
        conn.sendall(_head("%s 200 OK" % version, list(headers) +
                           [("Transfer-Encoding", "chunked")]))
        for data in chunk_payload(sizes, seed):
            if data:
                conn.sendall(b"%x%s\r\n" % (len(data), extension) + data + b"\r\n")
        tail = b"0\r\n"
        for name, value in trailers:
            tail += ("%s: %s\r\n" % (name, value)).encode("latin-1")
        conn.sendall(tail + b"\r\n")
    return behaviour


def big_header(size, name="Set-Cookie", body=b"ok\n"):
    """A 200 response with one header line whose value is size bytes."""
    value = ("big=" + "c" * size)[:size]
    return response(headers=[(name, value), ("Content-Type", "text/plain")], body=body)


def close_early(total, sent, headers=()):
    """Content-Length: total, but only the first sent bytes, then close."""
    body = chunk_payload([total])[0]

    def behaviour(conn, req):
        conn.sendall(_head("HTTP/1.1 200 OK", list(headers) +
                           [("Content-Length", str(total))]) + body[:sent])
    return behaviour


def slow(pieces, pause, headers=(), length=True):
    """The body in pieces with a pause (capped) before each; with length,
    Content-Length is sent, else the body ends at close."""
    pause = min(pause, MAX_PAUSE, MAX_SLOW_TOTAL / max(1, len(pieces)))

    def behaviour(conn, req):
        hdrs = list(headers)
        if length:
            hdrs.append(("Content-Length", str(sum(len(p) for p in pieces))))
        conn.sendall(_head("HTTP/1.1 200 OK", hdrs))
        for p in pieces:
            time.sleep(pause)
            conn.sendall(p)
    return behaviour


def _hold(conn, hold):
    """Keep conn open, silent, until the peer closes it or hold seconds pass."""
    deadline = time.monotonic() + min(hold, IO_TIMEOUT)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        conn.settimeout(left)
        try:
            if not conn.recv(4096):
                return
        except OSError:
            return


def never_answers(hold=IO_TIMEOUT):
    """Takes the request and sends nothing back (a hung server)."""
    def behaviour(conn, req):
        _hold(conn, hold)
    return behaviour


def stalls(head_headers, body=b"", hold=IO_TIMEOUT):
    """A 200 head with head_headers and the first body bytes, then silence
    (a server that stops sending in the middle of a response)."""
    def behaviour(conn, req):
        conn.sendall(_head("HTTP/1.1 200 OK", list(head_headers)) + body)
        _hold(conn, hold)
    return behaviour


def www_authenticate(challenge="NTLM", status=401, reason="Unauthorized"):
    """A 401 with WWW-Authenticate (HTTP-8, Proxy-Support)."""
    body = b"authentication required\n"
    return response(status, reason, headers=[("WWW-Authenticate", challenge),
                                             ("Content-Type", "text/plain")], body=body)


def close_delimited(body, headers=(), version="HTTP/1.0"):
    """A response without Content-Length: the body ends when we close."""
    return response(headers=list(headers), body=body, version=version, length=False)


def split_response(data):
    """(status line, [(name, value)], body) of raw response bytes."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    return lines[0].decode("latin-1"), headers, body

