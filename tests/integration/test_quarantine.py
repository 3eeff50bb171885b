"""The quarantine beyond the copy (SCAN-12, issue 16): the meta the proxies
write beside each quarantined object, and sekisho-quarantine, which runs
the core functions the console's quarantine page runs (list, show,
release, delete, zip).

SMTP: an EICAR mail with two recipients goes through the SMTP proxy with
quarantine=yes and action=deny in front of postfix's smtp-sink; the
mailbox copy gets a meta naming the sender, both recipients, the client,
the detection, the access log's URL and the message's size. `release`
delivers it to the same smtp-sink: what arrives is the message as the
client sent it (lines that mailbox format quotes, ">From" and "From ", and
a line starting with a dot come out as they went in), from the original
envelope sender to both original recipients; the meta then says released,
a second release is refused and nothing more arrives. `zip` writes an
archive that 7z opens with the password (object and meta) and not without
it; `delete` removes object and meta. Ids that are not the proxies' files
(a path, a traversal, a meta without its object) are refused by every
command and touch nothing.

HTTP: an EICAR download from nginx through the HTTP proxy with
quarantine=yes; the meta names the URL and the client; `release` marks it
released (no mail is involved: the object stays, downloadable), once."""
import os
import re
import shutil
import smtplib
import subprocess
import unittest

import harness
from harness import testfiles

ENV = {}
SENDER = "sender@outside.example"
RCPTS = ["alice@local.example", "bob@local.example"]
TOOL = os.path.join(harness.BIN, "sekisho-quarantine")


def setUpModule():
    wd = harness.Workdir("quarantine")
    ENV["wd"] = wd
    ENV["scand"] = harness.Scand(wd.path)


def tearDownModule():
    ENV["scand"].stop()
    ENV["wd"].cleanup()


def eicar_mail():
    """A mail with EICAR attached and the lines mailbox format must quote
    and SMTP must stuff, as bytes with CRLF line ends."""
    return ("From: %s\r\nTo: %s\r\nSubject: quarantined\r\n"
            "Message-ID: <q1@outside.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
            "--b1\r\nContent-Type: text/plain\r\n\r\n"
            "From the start of a line\r\n>From quoted once\r\n>>From twice\r\n"
            ".a line with a leading dot\r\n..two dots\r\n.\r\nthe end\r\n"
            "--b1\r\nContent-Type: application/octet-stream; name=\"eicar.com\"\r\n"
            "Content-Disposition: attachment; filename=\"eicar.com\"\r\n\r\n%s\r\n--b1--\r\n"
            % (SENDER, ", ".join(RCPTS), testfiles.EICAR.decode())).encode()


def parse_meta(text):
    """The meta as a dict of lists (rcpt repeats)."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(": ")
        if sep:
            out.setdefault(k, []).append(v)
    return out


class ToolCase(unittest.TestCase):
    """A gateway and sekisho-quarantine run on its ini."""

    def tool(self, *args, ok=True):
        r = subprocess.run([TOOL, "-f", self.gw.ini] + list(args), capture_output=True,
                           timeout=120 * harness.SLOW, stdin=subprocess.DEVNULL)
        if ok is not None:
            self.assertEqual(r.returncode, 0 if ok else 1,
                             "%s: %s %s" % (args, r.stdout, r.stderr))
        return r

    @property
    def qdir(self):
        return os.path.join(self.gw.prefix, "tmp", "quarantine")

    def quarantined(self, pattern):
        """The id named by the detect log line matching pattern (DETECT-STAT's
        quarantine field)."""
        line = self.gw.wait_log("detect", pattern)[-1]
        m = re.search(r"DETECT-STAT:INFECTED:[^:]*:[^:]*:([^:]+):", line)
        self.assertTrue(m, line)
        return m.group(1)

    def meta_of(self, qid):
        path = os.path.join(self.qdir, qid + ".meta")
        harness.wait_for(lambda: os.path.exists(path), 10 * harness.SLOW, what="the meta")
        with open(path) as f:
            return f.read()

    def check_hostile_ids_refused(self, good_meta):
        # A meta without its object, planted by hand.
        with open(os.path.join(self.qdir, "smtp-1.1.1.meta"), "w") as f:
            f.write(good_meta)
        victim = os.path.join(self.gw.workdir, "victim")
        with open(victim, "w") as f:
            f.write("keep me")
        out = os.path.join(self.gw.workdir, "hostile.zip")
        for bad in ("../x", "/etc/passwd", "..", "smtp-1.1.1", "../../victim",
                    "smtp-1.1.1.meta", ""):
            for args in (["show", bad], ["release", bad], ["delete", bad], ["zip", bad, out]):
                r = self.tool(*args, ok=False)
                self.assertRegex(r.stderr.decode(), r"not an id|no such quarantined object",
                                 args)
            self.assertFalse(os.path.exists(out))
        self.assertTrue(os.path.exists(os.path.join(self.qdir, "smtp-1.1.1.meta")))
        self.assertTrue(os.path.exists("/etc/passwd"))
        with open(victim) as f:
            self.assertEqual(f.read(), "keep me")
        os.unlink(os.path.join(self.qdir, "smtp-1.1.1.meta"))


class TestSmtpQuarantine(ToolCase):
    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, "smtp")
        os.makedirs(d, exist_ok=True)
        harness.chown_for_daemons(d)
        cls.sink = harness.SmtpSink(d)
        cls.gw = harness.Gateway(d, ENV["scand"].socket, service="smtp",
                                 section={"parent_server_host": "127.0.0.1",
                                          "parent_server_port": str(cls.sink.port),
                                          "virus_check": "yes", "action": "deny",
                                          "quarantine": "yes"},
                                 common={"hostname": "gw.test"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.sink.stop()

    def sink_messages(self):
        return self.sink.messages()

    def test_meta_release_zip_delete(self):
        before_detect = len(self.gw.log_lines("detect"))
        msg = eicar_mail()
        c = smtplib.SMTP("127.0.0.1", self.gw.port, timeout=60 * harness.SLOW)
        try:
            with self.assertRaises(smtplib.SMTPDataError):
                c.sendmail(SENDER, RCPTS, msg)
        finally:
            c.close()
        harness.wait_for(lambda: len(self.gw.log_lines("detect")) > before_detect,
                         10 * harness.SLOW, what="the detect record")
        qid = self.quarantined(r"INFECTED")
        self.assertRegex(qid, r"^smtp-\d+\.\d+\.\d+$")

        # The meta: what the access log says of this mail.
        text = self.meta_of(qid)
        m = parse_meta(text)
        self.assertEqual(m["sekisho-quarantine"], ["1"])
        self.assertEqual(m["service"], ["smtp"])
        self.assertEqual(m["result"], ["INFECTED"])
        self.assertIn("Eicar", m["detection"][0])
        self.assertEqual(m["client"], ["127.0.0.1"])
        self.assertEqual(m["sender"], [SENDER])
        self.assertEqual(m["rcpt"], RCPTS)
        self.assertEqual(m["rcpt_count"], ["2"])
        self.assertEqual(m["url"], ["mail:" + ",".join(RCPTS)])
        self.assertEqual(m["size"], [str(len(msg))])
        self.assertNotIn("released", m)
        self.assertEqual(os.stat(os.path.join(self.qdir, qid + ".meta")).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(os.path.join(self.qdir, qid + ".meta.tmp")))

        # list and show.
        r = self.tool("list")
        lines = r.stdout.decode().splitlines()
        self.assertTrue(lines[0].startswith("id\ttime\tservice"), lines)
        row = [l for l in lines if l.startswith(qid + "\t")]
        self.assertEqual(len(row), 1, lines)
        cols = row[0].split("\t")
        self.assertEqual(cols[2:4], ["smtp", "INFECTED"])
        self.assertEqual(cols[5], "127.0.0.1")
        self.assertEqual(cols[7], SENDER)
        self.assertEqual(cols[8], ",".join(RCPTS))
        self.assertEqual(cols[-1], "-")
        r = self.tool("show", qid)
        self.assertIn("sender: %s\n" % SENDER, r.stdout.decode())

        # zip: 7z opens it with the password, and only with it.
        self.check_zip(qid, text)

        # release: the parent gets the message as it was sent.
        sunk = len(self.sink_messages())
        r = self.tool("release", qid, "--by", "tester")
        self.assertIn("delivered to 2 recipient(s)", r.stdout.decode())
        got = harness.wait_for(lambda: self.sink_messages()[sunk:], 10 * harness.SLOW,
                               what="the released mail at the parent")
        self.assertEqual(len(got), 1)
        self.check_delivered(got[0], msg)
        m = parse_meta(self.meta_of(qid))
        self.assertRegex(m["released"][0], r"^\d+ tester$")
        r = self.tool("release", qid, ok=False)
        self.assertIn("released already", r.stderr.decode())
        self.assertEqual(len(self.sink_messages()), sunk + 1)  # nothing more sent
        self.assertRegex(self.tool("list").stdout.decode(),
                         re.escape(qid) + r"\t.*\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n")

        # Hostile ids, with a real item there.
        self.check_hostile_ids_refused(text)

        # delete: both files go; a second delete is refused.
        self.tool("delete", qid)
        self.assertFalse(os.path.exists(os.path.join(self.qdir, qid)))
        self.assertFalse(os.path.exists(os.path.join(self.qdir, qid + ".meta")))
        r = self.tool("delete", qid, ok=False)
        self.assertIn("no such quarantined object", r.stderr.decode())
        self.assertNotIn(qid, self.tool("list").stdout.decode())

    def check_delivered(self, dump, msg):
        """smtp-sink's dump: its X-*-Args lines, its Received header, then the
        message (LF line ends)."""
        head, _, rest = dump.partition("\nReceived: ")
        self.assertIn("X-Mail-Args: <%s>" % SENDER, head.splitlines())
        self.assertEqual([l for l in head.splitlines() if l.startswith("X-Rcpt-Args:")],
                         ["X-Rcpt-Args: <%s>" % r for r in RCPTS])
        self.assertIn("X-Helo-Args: gw.test", head.splitlines())
        lines = rest.split("\n")
        i = 1
        while lines[i].startswith("\t"):  # the Received header's folded lines
            i += 1
        body = "\n".join(lines[i:])
        self.assertEqual(body.rstrip("\n"), msg.decode().replace("\r\n", "\n").rstrip("\n"))

    def check_zip(self, qid, meta_text):
        if not shutil.which("7z"):
            self.fail("7z (Debian p7zip-full) is needed: dev/install-deps.sh test")
        out = os.path.join(self.gw.workdir, "q.zip")
        r = self.tool("zip", qid, out)
        listing = subprocess.run(["7z", "l", "-slt", "-pinfected", out], capture_output=True,
                                 text=True, timeout=60)
        self.assertEqual(listing.returncode, 0, listing.stdout + listing.stderr)
        self.assertEqual(listing.stdout.count("Encrypted = +"), 2, listing.stdout)
        self.assertIn("AES-256", listing.stdout)
        dest = os.path.join(self.gw.workdir, "unzipped")
        shutil.rmtree(dest, ignore_errors=True)
        x = subprocess.run(["7z", "x", "-pinfected", "-o" + dest, out], capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(x.returncode, 0, x.stdout + x.stderr)
        with open(os.path.join(dest, qid + ".mbox"), "rb") as f, \
                open(os.path.join(self.qdir, qid), "rb") as g:
            self.assertEqual(f.read(), g.read())
        with open(os.path.join(dest, "quarantine-info.txt")) as f:
            self.assertEqual(f.read(), meta_text)
        for pw in (["-pwrong"], []):  # a wrong password, none at all
            shutil.rmtree(dest, ignore_errors=True)
            bad = subprocess.run(["7z", "x"] + pw + ["-o" + dest, out], capture_output=True,
                                 text=True, timeout=60, stdin=subprocess.DEVNULL)
            self.assertNotEqual(bad.returncode, 0, pw)
            self.assertFalse(os.path.exists(os.path.join(dest, qid + ".mbox")) and
                             os.path.getsize(os.path.join(dest, qid + ".mbox")) > 0, pw)
        # Another password given.
        out2 = os.path.join(self.gw.workdir, "q2.zip")
        self.tool("zip", qid, out2, "--password", "p@ss")
        t = subprocess.run(["7z", "t", "-pp@ss", out2], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(t.returncode, 0, t.stdout + t.stderr)
        t = subprocess.run(["7z", "t", "-pinfected", out2], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        self.assertNotEqual(t.returncode, 0)


class TestHttpQuarantine(ToolCase):
    @classmethod
    def setUpClass(cls):
        d = os.path.join(ENV["wd"].path, "http")
        www = os.path.join(d, "www")
        os.makedirs(www, exist_ok=True)
        with open(os.path.join(www, "eicar.com"), "wb") as f:
            f.write(testfiles.EICAR)
        harness.chown_for_daemons(d)
        cls.nginx = harness.Nginx(www, d)
        cls.gw = harness.Gateway(d, ENV["scand"].socket, service="http",
                                 section={"action": "delete", "quarantine": "yes"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()
        cls.nginx.stop()

    def test_meta_names_url_and_release_marks_it(self):
        url = self.nginx.url("eicar.com")
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x",
                            self.gw.proxy, "--max-time", "60", url],
                           capture_output=True, text=True, timeout=90)
        self.assertEqual(r.stdout, "403")
        qid = self.quarantined(re.escape(url))
        self.assertRegex(qid, r"^http-\d+\.\d+\.\d+$")
        m = parse_meta(self.meta_of(qid))
        self.assertEqual(m["service"], ["http"])
        self.assertEqual(m["url"], [url])
        self.assertEqual(m["client"], ["127.0.0.1"])
        self.assertEqual(m["size"], [str(len(testfiles.EICAR))])
        self.assertIn("Eicar", m["detection"][0])
        self.assertNotIn("sender", m)
        self.assertNotIn("rcpt", m)

        r = self.tool("release", qid, "--by", "web-admin")
        self.assertIn("marked released", r.stdout.decode())
        m = parse_meta(self.meta_of(qid))
        self.assertRegex(m["released"][0], r"^\d+ web-admin$")
        with open(os.path.join(self.qdir, qid), "rb") as f:
            self.assertEqual(f.read(), testfiles.EICAR)  # still there
        r = self.tool("release", qid, ok=False)
        self.assertIn("released already", r.stderr.decode())
        # The console runs as run_user: the rewritten meta stays readable to it.
        st_obj = os.stat(os.path.join(self.qdir, qid))
        st_meta = os.stat(os.path.join(self.qdir, qid + ".meta"))
        self.assertEqual((st_meta.st_uid, st_meta.st_gid), (st_obj.st_uid, st_obj.st_gid))


if __name__ == "__main__":
    unittest.main()
