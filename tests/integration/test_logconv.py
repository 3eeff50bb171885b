"""Integration tests for the logconv tool (spec LOG-7).

Runs $SEKISHO_BUILD/bin/logconv (default build/) on generated log files
with known times, TZ=UTC, and checks every option's output byte for byte.
Self-contained: no harness, no network.
"""
import calendar
import os
import shutil
import subprocess
import tempfile
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("SEKISHO_BUILD", "build")
if not os.path.isabs(BUILD):
    BUILD = os.path.join(REPO, BUILD)
LOGCONV = os.path.join(BUILD, "bin", "logconv")
WRAPPER = os.path.join(REPO, "misc", "logconv")
TIMEOUT = 30
ENV = dict(os.environ, TZ="UTC")


def utc(t):
    """The prefix logconv must write for epoch seconds t (TZ=UTC)."""
    return time.strftime("%Y-%m-%d %H:%M:%S : ", time.gmtime(t))


def run(args, stdin=None, env=ENV, prog=None):
    return subprocess.run([prog or LOGCONV] + args, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=TIMEOUT, env=env)


# Access, info and error lines as Sekisho writes them, plus lines that are
# not log entries and must pass through unchanged.
ACCESS = (b"1327996843.799   9153 192.51.16.1 TCP_MISS/200 227 GET http://100.100.100.100/ - "
          b"DIRECT/127.0.0.1 text/html DETECT-STAT:CLEAN::::: ACTION:NONE: "
          b"PROXY-STAT:http:0:5547:192.51.16.1:1:1:0:: PROTOCOL-STAT::: PROXY-ERROR::")
ERROR = (b"1419552128.199     27 192.168.1.204 TCP_MISS/503 0 GET "
         b"http://www.TARGET-HOST.com/japanese/index.html - DIRECT/2xx.2xx.1xx.5x - "
         b"DETECT-STAT:CLEAN::::: ACTION:NONE: PROXY-STAT:http:60:4044:192.168.1.204:1:0:0:: "
         b"PROTOCOL-STAT::: PROXY-ERROR:CONNECT(www.TARGET-HOST.com%3a80)/"
         b"connect%3a+No+route+to+host:")
INFO = b"1000000000.000 [2001/09/09 01:46:40 9080 - -:-:- -:-:-] main: ### START ###"
TAB = b"1234567890.5\tfield after a tab"
NOT_TIMES = [
    b"hello world",
    b"",
    b"12 abc",                     # too few digits for an epoch time
    b"99999999 eight digits",      # 8 digits: 1973 is the earliest accepted
    b"1234567890abc glued",        # not a whole field
    b"1234567890. no fraction",    # '.' without digits
    b"1234567890.1234567890 frac", # 10 fraction digits
    b"2012-01-31 08:00:43 : text", # looks converted, but no epoch after it
    b" 1234567890 leading blank",
    b"bin\x00ary\xff\x01 bytes",
]
KNOWN = {  # expected conversions, written by hand from the spec examples
    ACCESS: b"2012-01-31 08:00:43 : ",
    ERROR: b"2014-12-26 00:02:08 : ",  # 09:02:08 in JST, as observed (000:84)
    INFO: b"2001-09-09 01:46:40 : ",
    TAB: b"2009-02-13 23:31:30 : ",
}


class LogconvTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(os.access(LOGCONV, os.X_OK), "missing %s (run make)" % LOGCONV)
        self.dir = tempfile.mkdtemp(prefix="sekisho-logconv-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def ok(self, args, stdin=None, env=ENV, prog=None):
        r = run(args, stdin, env, prog)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        return r.stdout

    def sample(self):
        lines = [ACCESS, NOT_TIMES[0], INFO, b"continuation of the info line", ERROR, TAB]
        lines += NOT_TIMES[1:]
        return lines

    def test_convert_prefixes_local_time(self):
        lines = self.sample()
        path = self.write("access.log", b"\n".join(lines) + b"\n")
        want = b"".join(KNOWN.get(l, b"") + l + b"\n" for l in lines)
        self.assertEqual(self.ok([path]), want)
        # stdin, explicit "-" and the "--" separator give the same output
        data = b"\n".join(lines) + b"\n"
        self.assertEqual(self.ok([], stdin=data), want)
        self.assertEqual(self.ok(["-"], stdin=data), want)
        self.assertEqual(self.ok(["--", path]), want)

    def test_observed_jst_line(self):
        # LOG-7 / 000:84: the web console showed this line in Japan time
        path = self.write("a.log", ERROR + b"\n")
        out = self.ok([path], env=dict(os.environ, TZ="JST-9"))
        self.assertEqual(out, b"2014-12-26 09:02:08 : " + ERROR + b"\n")

    def test_conversion_matches_gmtime_for_many_times(self):
        times = [315532800, 1000000000, 1327996843, 1419552128, 1700000000, 2147483647,
                 4102444800, 99999999999]
        lines = [b"%d.%03d x y" % (t, t % 1000) for t in times]
        path = self.write("t.log", b"\n".join(lines) + b"\n")
        want = b"".join(utc(t).encode() + l + b"\n" for t, l in zip(times, lines))
        self.assertEqual(self.ok([path]), want)

    def test_noconv_is_identity_without_filters(self):
        data = b"\n".join(self.sample()) + b"\n"
        path = self.write("a.log", data)
        self.assertEqual(self.ok(["--noconv", path]), data)

    def test_reverse_round_trip(self):
        data = b"\n".join(self.sample()) + b"\n"
        path = self.write("a.log", data)
        converted = self.ok([path])
        self.assertNotEqual(converted, data)
        conv_path = self.write("conv.log", converted)
        self.assertEqual(self.ok(["-r", conv_path]), data)
        self.assertEqual(self.ok(["-r"], stdin=converted), data)
        # -r leaves unconverted lines alone; converting twice changes nothing
        self.assertEqual(self.ok(["-r", path]), data)
        self.assertEqual(self.ok([conv_path]), converted)
        # last line without '\n' survives the round trip
        self.assertEqual(self.ok(["-r"], stdin=self.ok([], stdin=ACCESS)), ACCESS)
        self.assertEqual(self.ok([], stdin=ACCESS), KNOWN[ACCESS] + ACCESS)

    def numbered(self, n, newline_at_end=True):
        lines = [b"%d.000 line %d" % (1300000000 + i, i) for i in range(n)]
        return lines, b"\n".join(lines) + (b"\n" if newline_at_end else b"")

    def conv(self, lines):
        return b"".join(utc(int(l.split(b".")[0])).encode() + l + b"\n" for l in lines)

    def test_tail(self):
        lines, data = self.numbered(25)
        path = self.write("a.log", data)
        self.assertEqual(self.ok(["--tail", path]), self.conv(lines[-10:]))
        self.assertEqual(self.ok(["--tail", "3", path]), self.conv(lines[-3:]))
        self.assertEqual(self.ok([path, "--tail", "3"]), self.conv(lines[-3:]))
        self.assertEqual(self.ok(["--tail=3", path]), self.conv(lines[-3:]))
        self.assertEqual(self.ok(["--tail", "1", "--noconv", path]), lines[-1] + b"\n")
        self.assertEqual(self.ok(["--tail", "0", path]), b"")
        self.assertEqual(self.ok(["--tail", "100", path]), self.conv(lines))
        # from a pipe and from a redirected regular file
        self.assertEqual(self.ok(["--tail", "4"], stdin=data), self.conv(lines[-4:]))
        with open(path, "rb") as f:
            r = subprocess.run([LOGCONV, "--tail", "2"], stdin=f, stdout=subprocess.PIPE,
                               timeout=TIMEOUT, env=ENV)
        self.assertEqual(r.stdout, self.conv(lines[-2:]))
        # a last line without '\n' is a line, and stays without '\n'
        lines, data = self.numbered(5, newline_at_end=False)
        path = self.write("b.log", data)
        self.assertEqual(self.ok(["--tail", "2", "--noconv", path]),
                         lines[-2] + b"\n" + lines[-1])
        # empty lines count; an empty file gives nothing
        path = self.write("c.log", b"a\n\n\nb\n")
        self.assertEqual(self.ok(["--tail", "3", path]), b"\n\nb\n")
        self.assertEqual(self.ok(["--tail", "5", self.write("e.log", b"")]), b"")

    def test_tail_does_not_read_the_whole_file(self):
        # A 64 GiB sparse file: reading it whole would take far longer than
        # the timeout; --tail must seek from the end.
        path = os.path.join(self.dir, "huge.log")
        tail = b"\n1327996843.799 last-but-one\n1327996844.000 last\n"
        with open(path, "wb") as f:
            try:
                f.truncate(64 << 30)
            except OSError as e:
                self.skipTest("no sparse files here: %s" % e)
            f.seek(0, os.SEEK_END)
            f.write(tail)
        start = time.monotonic()
        r = run(["--tail", "2", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, b"2012-01-31 08:00:43 : 1327996843.799 last-but-one\n"
                                   b"2012-01-31 08:00:44 : 1327996844.000 last\n")
        self.assertLess(time.monotonic() - start, 10)

    def timed_log(self, now, offsets):
        lines = [b"leading line without a time"]
        for off in offsets:
            lines.append(b"%d.123 entry %+d" % (now + off, off))
            if off == -10:
                lines.append(b"continuation of entry -10")
        return lines

    def test_tailsec(self):
        now = int(time.time())
        lines = self.timed_log(now, [-7200, -100, -50, -10, -1, 5])
        path = self.write("a.log", b"\n".join(lines) + b"\n")
        out = self.ok(["--tailsec", "30", "--noconv", path])
        self.assertEqual(out, b"%d.123 entry -10\ncontinuation of entry -10\n"
                              b"%d.123 entry -1\n%d.123 entry +5\n" % (now - 10, now - 1, now + 5))
        out = self.ok(["--tailsec", path])  # default 60 seconds, converted
        want = [l for l in lines[1:] if not l.startswith((b"%d" % (now - 7200),
                                                          b"%d" % (now - 100)))]
        self.assertEqual(out, b"".join((utc(int(l.split(b".")[0])).encode()
                                        if l[:1].isdigit() else b"") + l + b"\n" for l in want))
        self.assertEqual(self.ok(["--tailsec=3600", "--noconv", path]),
                         b"\n".join(lines[2:]) + b"\n")
        # combined with --tail: the tail is taken first
        self.assertEqual(self.ok(["--tail", "2", "--tailsec", "30", "--noconv", path]),
                         b"\n".join(lines[-2:]) + b"\n")
        # converted input is filtered by the epoch after the prefix
        conv = self.ok([path])
        self.assertEqual(self.ok(["--tailsec", "30", "-r"], stdin=conv),
                         self.ok(["--tailsec", "30", "--noconv", path]))

    def test_today(self):
        for _ in range(3):  # retry if the test straddles midnight UTC
            now = int(time.time())
            midnight = calendar.timegm(time.gmtime(now)[:3] + (0, 0, 0))
            lines = [b"%d.000 yesterday" % (midnight - 1),
                     b"%d.000 today-start" % midnight,
                     b"continuation",
                     b"%d.500 now" % now,
                     b"%d.000 tomorrow" % (midnight + 86400)]
            path = self.write("a.log", b"\n".join(lines) + b"\n")
            out = self.ok(["--today", "--noconv", path])
            if int(time.time()) // 86400 == now // 86400:
                break
        self.assertEqual(out, b"\n".join(lines[1:4]) + b"\n")
        out = self.ok(["--today", path])
        self.assertEqual(out, utc(midnight).encode() + lines[1] + b"\n" + lines[2] + b"\n" +
                         utc(now).encode() + lines[3] + b"\n")

    def test_cgi(self):
        path = self.write("a.log", ACCESS + b"\n")
        self.assertEqual(self.ok(["--cgi", path]),
                         b"Content-Type: text/plain\r\n\r\n" + KNOWN[ACCESS] + ACCESS + b"\n")

    def test_long_lines_stream(self):
        big = b"1327996843.799 " + b"x" * (3 << 20)
        path = self.write("a.log", big + b"\n" + b"y" * 100000 + b"\n")
        self.assertEqual(self.ok([path]),
                         KNOWN[ACCESS] + big + b"\n" + b"y" * 100000 + b"\n")

    def test_usage_and_errors(self):
        r = run(["-h"])
        self.assertEqual(r.returncode, 0)
        for opt in (b"--tail", b"--tailsec", b"--today", b"--noconv", b"-r", b"--cgi"):
            self.assertIn(opt, r.stdout)
        r = run(["--help"])
        self.assertEqual(r.returncode, 0)
        r = run(["--bogus", "x"])
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, b"")
        r = run(["--tail=abc", "x"])
        self.assertEqual(r.returncode, 2)
        r = run([self.write("a", b""), self.write("b", b"")])
        self.assertEqual(r.returncode, 2)
        r = run([os.path.join(self.dir, "missing.log")])
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"missing.log", r.stderr)

    def test_wrapper_script(self):
        path = self.write("a.log", ERROR + b"\n")
        want = KNOWN[ERROR] + ERROR + b"\n"
        env = dict(ENV, SEKISHO_LOGCONV=LOGCONV)
        self.assertEqual(self.ok(["--tail", "1", path], env=env, prog=WRAPPER), want)
        # a copy of misc/ with the binary installed next to the script
        misc = os.path.join(self.dir, "misc")
        os.mkdir(misc)
        shutil.copy2(WRAPPER, os.path.join(misc, "logconv"))
        shutil.copy2(LOGCONV, os.path.join(misc, "logconv.bin"))
        self.assertEqual(self.ok([path], prog=os.path.join(misc, "logconv")), want)
        os.unlink(os.path.join(misc, "logconv.bin"))
        r = run([path], prog=os.path.join(misc, "logconv"))
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not found", r.stderr)


if __name__ == "__main__":
    unittest.main()
