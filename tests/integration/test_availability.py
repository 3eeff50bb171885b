"""The scanner comes back by itself (issue 10, item 14): sekisho-scand is a
supervisor that restarts its scanning process when it dies, the proxies
reconnect by themselves, and while it is down every response is either
the scanned file or a 503 temporary failure, never an unscanned one.

Real processes on 127.0.0.1: nginx, sekisho-scand, the HTTP gateway."""
import os
import signal
import subprocess
import threading
import time
import unittest

import harness
from harness import testfiles

ENV = {}
WAIT = 30.0
SLOW_MEMBERS = 1500  # ~15 s of scanning: still in flight when the scanner is killed


def setUpModule():
    harness.serve_test_files(ENV, "availability")
    zeros = b"\0" * (1 << 20)
    with open(os.path.join(ENV["nginx"].root, "slow.zip"), "wb") as f:
        f.write(testfiles.zip_bytes([("z/%05d.bin" % i, zeros) for i in range(SLOW_MEMBERS)]))


def tearDownModule():
    harness.stop_all(ENV)


def curl(proxy, url, timeout=60):
    r = subprocess.run(["curl", "-s", "-x", proxy, "-D", "-", "--max-time", str(timeout), url],
                       capture_output=True, timeout=timeout + 10)
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    first = head.split(b"\r\n")[0].decode("latin-1")
    status = int(first.split()[1]) if first.startswith("HTTP/") else 0
    return status, body


def scanning_pid(scand):
    """The scanning process: the supervisor's child (the process itself
    before there was a supervisor)."""
    out = subprocess.run(["pgrep", "-P", str(scand.proc.pid)], capture_output=True, text=True,
                         timeout=5).stdout.split()
    return int(out[0]) if out else scand.proc.pid


class TestScannerKilledUnderLoad(unittest.TestCase):
    def test_sigkill_of_the_scanning_process(self):
        scand = ENV["scand"]
        d = os.path.join(ENV["wd"].path, "gw")
        os.makedirs(d, exist_ok=True)
        os.chmod(d, 0o755)
        gw = harness.Gateway(d, scand.socket)
        eicar = testfiles.EICAR
        with open(os.path.join(ENV["nginx"].root, "clean_23k.bin"), "rb") as f:
            clean = f.read()
        results = []  # (name, status, body)
        stop = threading.Event()

        def load():
            # Alternate a clean file and EICAR (query strings defeat any cache).
            i = 0
            while not stop.is_set():
                for name in ("clean_23k.bin", "eicar.com"):
                    status, body = curl(gw.proxy, ENV["nginx"].url(name) + "?n=%d" % i, 20)
                    results.append((name, status, body))
                i += 1

        try:
            self.assertEqual(curl(gw.proxy, ENV["nginx"].url("clean_23k.bin"))[0], 200)
            old = scanning_pid(scand)
            loader = threading.Thread(target=load)
            loader.start()
            # A scan in flight when the scanner dies gets the temporary
            # failure, never a pass.
            inflight = {}
            t = threading.Thread(target=lambda: inflight.update(
                r=curl(gw.proxy, ENV["nginx"].url("slow.zip"), 60)))
            t.start()
            time.sleep(2.0)  # pacing: the slow zip is being scanned
            os.kill(old, signal.SIGKILL)
            t.join(WAIT + 60)
            self.assertEqual(inflight["r"][0], 503, "in-flight scan during the kill")
            # Service resumes by itself: a clean download and a detection.
            harness.wait_for(lambda: scanning_pid(scand) not in (old, scand.proc.pid), WAIT,
                             what="a new scanning process")
            n = len(results)
            harness.wait_for(lambda: any(r[0] == "clean_23k.bin" and r[1] == 200
                                         for r in results[n:]) and
                             any(r[0] == "eicar.com" and r[1] == 403 for r in results[n:]),
                             WAIT, what="service resumed (200 clean, 403 EICAR)")
        finally:
            stop.set()
            if "loader" in locals():
                loader.join(WAIT)
            gw.stop()
        self.assertTrue(results)
        for name, status, body in results:
            with self.subTest(name=name, status=status):
                if name == "clean_23k.bin":
                    self.assertIn(status, (200, 503))
                    if status == 200:
                        self.assertEqual(body, clean)
                else:
                    self.assertIn(status, (403, 503))
                    self.assertNotIn(eicar, body)
        out = scand.proc.output()
        self.assertIn("status=9[SIGKILL]", out)
        self.assertIn("Error recovery: restarting service...", out)
        self.assertRegex(out, r"main: scanning process restarted \(pid=\d+\)")


if __name__ == "__main__":
    unittest.main()
