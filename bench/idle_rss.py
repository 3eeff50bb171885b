#!/usr/bin/env python3
"""idle_rss - memory cost of idle client connections to a running proxy.

    python3 bench/idle_rss.py --port PORT --master PID [--count 1000]
                              [--warmup-url URL] [--timeout 30] [--settle 1]

Measures the sum over the proxy's master and its workers (the master's
direct children) of VmRSS (/proc/<pid>/status) and Pss
(/proc/<pid>/smaps_rollup), then opens COUNT TCP connections to
127.0.0.1:PORT and holds them without sending a byte, waits (bounded) until
the workers have accepted all of them, measures again and prints the
difference per connection. Then it closes the connections and measures a
third time (informational: memory an allocator keeps is not returned).

With --warmup-url, a few proxied GETs of that URL are made first so that
one-time lazy initialisation is not charged to the idle connections.

Prints a readable block and one machine line:
    IDLE count=N accepted=N rss_before_kib=.. rss_after_kib=.. ...
Figures only: nothing here passes or fails. Owns only its own sockets.
"""
import argparse
import os
import resource
import socket
import sys
import time

# Sockets beyond COUNT the helper itself may need (warm-up, stdio).
FD_MARGIN = 64
WARMUP_REQUESTS = 10
POLL_INTERVAL = 0.05


def children(pid):
    """Direct children of pid, from /proc/<pid>/task/*/children."""
    out = []
    task_dir = "/proc/%d/task" % pid
    try:
        tids = os.listdir(task_dir)
    except OSError:
        return out
    for tid in tids:
        try:
            with open(os.path.join(task_dir, tid, "children")) as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return out


def kib_field(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(master):
    pids = [master] + children(master)
    rss = sum(kib_field("/proc/%d/status" % p, "VmRSS") for p in pids)
    pss = sum(kib_field("/proc/%d/smaps_rollup" % p, "Pss") for p in pids)
    return {"pids": pids, "rss": rss, "pss": pss}


def socket_fds(pids):
    n = 0
    for p in pids:
        fd_dir = "/proc/%d/fd" % p
        try:
            names = os.listdir(fd_dir)
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(os.path.join(fd_dir, name)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
    return n


def accept_queue(port):
    """Connections waiting in the listening socket's accept queue (the
    rx_queue of a LISTEN entry in /proc/net/tcp{,6})."""
    total = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    local, state, queues = fields[1], fields[3], fields[4]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        total += int(queues.split(":")[1], 16)
        except OSError:
            pass
    return total


def warmup(port, url):
    host = url.split("//", 1)[1].split("/", 1)[0]
    req = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (url, host)).encode()
    for _ in range(WARMUP_REQUESTS):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(req)
            while s.recv(65536):
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--master", type=int, required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--warmup-url")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--settle", type=float, default=1.0)
    a = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = a.count + FD_MARGIN
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))

    if a.warmup_url:
        warmup(a.port, a.warmup_url)
        time.sleep(a.settle)
    before = measure(a.master)
    base_fds = socket_fds(before["pids"][1:])

    socks = []
    t0 = time.monotonic()
    try:
        for _ in range(a.count):
            s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
            socks.append(s)
        # Accepted = every connection left the accept queue and the workers
        # hold that many more sockets. Bounded by --timeout.
        deadline = time.monotonic() + a.timeout
        accepted = 0
        while True:
            accepted = socket_fds(children(a.master)) - base_fds
            if accepted >= a.count and accept_queue(a.port) == 0:
                break
            if time.monotonic() > deadline:
                print("warning: only %d of %d connections accepted after %.0f s"
                      % (accepted, a.count, a.timeout), file=sys.stderr)
                break
            time.sleep(POLL_INTERVAL)
        accept_s = time.monotonic() - t0
        time.sleep(a.settle)
        after = measure(a.master)
        alive = sum(1 for s in socks if not closed_by_peer(s))
    finally:
        for s in socks:
            s.close()
    time.sleep(a.settle)
    closed = measure(a.master)

    n = max(1, a.count)
    d_rss = after["rss"] - before["rss"]
    d_pss = after["pss"] - before["pss"]
    print("  processes measured: master %d + %d workers" % (a.master, len(after["pids"]) - 1))
    print("  %d idle connections opened, %d accepted in %.2f s, %d still open at measurement"
          % (a.count, min(accepted, a.count), accept_s, alive))
    print("  %-28s %12s %12s" % ("", "VmRSS KiB", "Pss KiB"))
    print("  %-28s %12d %12d" % ("before", before["rss"], before["pss"]))
    print("  %-28s %12d %12d" % ("with %d idle connections" % a.count, after["rss"], after["pss"]))
    print("  %-28s %12d %12d" % ("after closing them", closed["rss"], closed["pss"]))
    print("  %-28s %12.1f %12.1f" % ("per idle connection", d_rss / n, d_pss / n))
    print("IDLE count=%d accepted=%d rss_before_kib=%d rss_after_kib=%d pss_before_kib=%d "
          "pss_after_kib=%d rss_per_conn_kib=%.1f pss_per_conn_kib=%.1f"
          % (a.count, min(accepted, a.count), before["rss"], after["rss"], before["pss"],
             after["pss"], d_rss / n, d_pss / n))
    return 0


def closed_by_peer(s):
    """True if the proxy already closed s (a readable EOF)."""
    try:
        s.setblocking(False)
        return s.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


if __name__ == "__main__":
    sys.exit(main())
