"""Fake scanner sockets for the failure cases a real sekisho-scand cannot
be made to produce on demand.

HungScanner listens on a UNIX socket where the proxy expects
sekisho-scand, takes every connection and its request, and never answers
(a wedged scanner). DyingScanner takes the request and then closes the
connection without an answer (sekisho-scand killed mid-scan). What it owns: the listening socket, the connections it
holds (closed by stop()) and a daemon thread. Every wait is bounded: each
held connection reads with a timeout, and stop() closes everything.
"""
import os
import socket
import threading
import time


class HungScanner:
    HOLD = True  # keep each connection open, unanswered

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.sock.listen(8)
        self.requests = 0
        self.held = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(5)
            with self.lock:
                self.held.append(conn)
            try:
                if conn.recv(4096):
                    with self.lock:
                        self.requests += 1
            except OSError:
                pass
            if not self.HOLD:
                time.sleep(0.3)  # "scanning" ... then gone
                with self.lock:
                    self.held.remove(conn)
                conn.close()

    def request_count(self):
        with self.lock:
            return self.requests

    def stop(self):
        self.sock.close()
        with self.lock:
            for conn in self.held:
                conn.close()
            self.held = []


class DyingScanner(HungScanner):
    HOLD = False
