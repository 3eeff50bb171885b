"""dbupdate (CLI-3, C-18, C-39, G-24, KB-2, KB-7, KB-13, LOG-1; issue 15): definitions
fetched with libfreshclam from a mirror the suite runs (nginx on loopback), directly or
through a real Squid with and without proxy authentication, or imported from an offline
bundle with no network at all; verified by loading, switched in atomically and loaded by the
running sekisho-scand, so the HTTP and SMTP proxies detect a file they passed before, without
a restart. Every failure (corrupt, truncated, mirror down, proxy refusing, hostile bundle)
must exit 1 with a clear message and leave databases/ byte for byte as it was.

Only custom databases and bundles can carry a *successful* update here: an official CVD
passes libfreshclam's check only with ClamAV's signing key. The official path (UPDATEURL,
CVD download, signature check) is driven to each of its failures instead."""
import base64
import hashlib
import os
import re
import shutil
import signal
import smtplib
import subprocess
import time
import unittest

import harness
from harness import clamdb, testfiles
from harness.mirror import Mirror
from harness.squid import Squid

ENV = {}
DBUPDATE = os.path.join(harness.BIN, "dbupdate")
RCPT = "user@local.example"


def setUpModule():
    wd = harness.Workdir("dbupdate")
    ENV["wd"] = wd
    www = os.path.join(wd.path, "www")
    os.makedirs(www)
    ENV["www"] = www
    ENV["origin"] = harness.Nginx(www, wd.path)
    ENV["mirror"] = Mirror(wd.path)
    ENV["slow"] = Mirror(wd.path, slow_rate=128 * 1024, name="slowmirror")
    ENV["squid"] = Squid(wd.path)
    ENV["squid_auth"] = Squid(wd.path, auth=("upd", "s3cret#pw"), name="squid-auth")
    ENV["sink"] = harness.SmtpSink(wd.path)


def tearDownModule():
    for key in ("squid_auth", "squid", "slow", "mirror", "origin", "sink"):
        if key in ENV:
            ENV[key].stop()
    ENV["wd"].cleanup()


_count = [0]


def unique(tag):
    _count[0] += 1
    return "%s%d" % (tag, _count[0])


class Site:
    """One gateway: its databases/ (a copy of the repository's), sekisho-scand on it, an
    HTTP and (optionally) an SMTP proxy; dbupdate runs with the HTTP proxy's ini, whose
    prefix holds conf/dbupdate.conf, log/ and run/."""

    def __init__(self, name, smtp=False, common=None):
        self.dir = os.path.join(ENV["wd"].path, name)
        self.db = os.path.join(self.dir, "databases")
        shutil.copytree(os.path.join(harness.REPO, "databases"), self.db)
        self.scand = harness.Scand(self.dir, databases=self.db)
        c = {"database_dir": self.db}
        c.update(common or {})
        self.http = harness.Gateway(os.path.join(self.dir, "http"), self.scand.socket, common=c)
        self.smtp = None
        if smtp:
            self.smtp = harness.Gateway(
                os.path.join(self.dir, "smtp"), self.scand.socket, service="smtp",
                section={"parent_server_host": "127.0.0.1",
                         "parent_server_port": str(ENV["sink"].port),
                         "virus_check": "yes", "action": "deny"},
                common={"database_dir": self.db, "hostname": "gw.test"})
        self.conf = os.path.join(self.http.prefix, "conf", "dbupdate.conf")
        self.log = os.path.join(self.http.prefix, "log", "dbupdate.log")

    def stop(self):
        for g in (self.http, self.smtp):
            if g:
                g.stop()
        self.scand.stop()

    def write_conf(self, **keys):
        """dbupdate.conf: no official databases unless given, one attempt."""
        lines = ["# written by test_dbupdate", "databases=", "max_attempts=1",
                 "connect_timeout=5", "receive_timeout=20"]
        for k, v in keys.items():
            if k == "custom_url":
                lines += ["custom_url=" + u for u in (v if isinstance(v, list) else [v])]
            else:
                lines = [l for l in lines if not l.startswith(k + "=")] + ["%s=%s" % (k, v)]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def argv(self, *args):
        return [DBUPDATE, "-f", self.http.ini] + list(args)

    def run(self, *args, timeout=120, wrapper=()):
        return subprocess.run(list(wrapper) + self.argv(*args), capture_output=True, text=True,
                              timeout=timeout * harness.SLOW)

    def tree(self):
        """{file: sha256} of databases/: what 'left as it was' is checked against."""
        out = {}
        for name in sorted(os.listdir(self.db)):
            with open(os.path.join(self.db, name), "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
        return out

    def log_text(self):
        return harness.read_text(self.log)

    def get(self, name):
        """Body of http://origin/name through the HTTP proxy."""
        r = subprocess.run(["curl", "-s", "-x", self.http.proxy, "-o", "-",
                            ENV["origin"].url(name)], capture_output=True, timeout=30)
        return r.stdout

    def send_mail(self, subject, data):
        """A mail with data as a base64 attachment (text bodies are scanned only with
        virus_check_text); (code, text) of the reply to the end of DATA."""
        b64 = base64.encodebytes(data).decode().replace("\n", "\r\n")
        msg = ("From: sender@outside.example\r\nTo: %s\r\nSubject: %s\r\n"
               "Message-ID: <%s@outside.example>\r\nMIME-Version: 1.0\r\n"
               "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
               "--b1\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n"
               "--b1\r\nContent-Type: application/octet-stream\r\n"
               "Content-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename=\"sample.bin\"\r\n\r\n%s"
               "--b1--\r\n" % (RCPT, subject, subject, b64))
        with smtplib.SMTP("127.0.0.1", self.smtp.port, timeout=30) as c:
            try:
                c.sendmail("sender@outside.example", [RCPT], msg)
            except smtplib.SMTPDataError as e:
                return e.smtp_code, e.smtp_error.decode()
        return 250, ""


def new_marker(tag):
    """A file on the origin with a marker of its own, and its .ndb line."""
    path = os.path.join(ENV["www"], tag + ".txt")
    clamdb.marker_file(path, tag)
    with open(path, "rb") as f:
        data = f.read()
    return path, data, clamdb.ndb_for(path)


class TestUpdateDetects(unittest.TestCase):
    """The acceptance line: a new definition that detects a test file the old set did not
    is fetched, installed and detected through the HTTP and SMTP proxies without a
    restart; a second run finds nothing new."""

    @classmethod
    def setUpClass(cls):
        cls.site = Site("detects", smtp=True)

    @classmethod
    def tearDownClass(cls):
        cls.site.stop()

    def test_fetched_installed_detected_without_restart(self):
        site, mirror = self.site, ENV["mirror"]
        tag = unique("detect")
        path, data, ndb = new_marker(tag)
        name = clamdb.signature_name(tag)
        # Before: the HTTP proxy passes the file, the SMTP proxy the mail.
        self.assertEqual(site.get(os.path.basename(path)), data)
        code, text = site.send_mail(tag + "-before", data)
        self.assertEqual(code, 250, text)

        pids = (site.scand.proc.pid, site.http.proc.pid, site.smtp.proc.pid)
        # Published a minute ago: the download's time (libfreshclam's If-Modified-Since
        # on the next run) is never the same second as the mirror's Last-Modified.
        mirror.put(tag + ".ndb", (ndb + "\n").encode(), mtime=time.time() - 60)
        site.write_conf(custom_url=mirror.url(tag + ".ndb"))
        r = site.run()
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("definitions updated: %s.ndb" % tag, r.stdout)
        self.assertIn("sekisho-scand serves them", r.stdout)
        self.assertTrue(os.path.exists(os.path.join(site.db, tag + ".ndb")))
        # The replaced set is kept, without the new file.
        self.assertTrue(os.path.isdir(site.db + ".previous"))
        self.assertFalse(os.path.exists(os.path.join(site.db + ".previous", tag + ".ndb")))
        self.assertFalse(os.path.exists(site.db + ".staging"))

        # After: both proxies detect it, and nothing was restarted.
        body = site.get(os.path.basename(path))
        self.assertNotEqual(body, data)
        line = site.http.wait_log("detect", re.escape(name))[-1]
        self.assertIn(name, line)
        code, text = site.send_mail(tag + "-after", data)
        self.assertEqual(code, 554, text)
        self.assertIn(name, text)
        self.assertEqual(pids, (site.scand.proc.pid, site.http.proc.pid, site.smtp.proc.pid))
        for p in (site.scand.proc, site.http.proc, site.smtp.proc):
            self.assertTrue(p.alive())
        # The services' info logs say when the engine changed.
        site.http.wait_log("info", r"virus definitions changed")

        # A second run: If-Modified-Since, 304, nothing new, exit 0.
        before = site.tree()
        asked = len([q for q in mirror.requests() if q.uri.endswith(tag + ".ndb")])
        r = site.run()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("no new updates", r.stdout)
        self.assertEqual(site.tree(), before)
        reqs = [q for q in mirror.wait_requests(tag + ".ndb", count=asked + 1)
                if q.uri.endswith(tag + ".ndb")]
        self.assertEqual([q.status for q in reqs][-1], 304)
        self.assertIsNotNone(reqs[-1].if_modified_since)
        log = site.log_text()
        self.assertRegex(log, r"dbupdate\[\d+\]: update finished: definitions updated: %s\.ndb"
                         % tag)
        self.assertRegex(log, r"no new updates: the definitions in service are current "
                              r"\(exit code 0\)")


class FreshSite(unittest.TestCase):
    """Each test gets its own gateway, so a test's databases/ is its own."""
    SMTP = False

    def setUp(self):
        self.site = Site(unique(self.__class__.__name__), smtp=self.SMTP)
        self.before = self.site.tree()

    def tearDown(self):
        self.site.stop()

    def new_custom(self, tag=None):
        tag = tag or unique("c")
        path, data, ndb = new_marker(tag)
        ENV["mirror"].put(tag + ".ndb", (ndb + "\n").encode())
        return tag, ENV["mirror"].url(tag + ".ndb")

    def assertUpdated(self, r, tag):
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn(tag + ".ndb", os.listdir(self.site.db))

    def assertFailedUnchanged(self, r, *needles):
        """Exit 1, each needle in the message on stderr and in dbupdate.log, databases/
        exactly as before, no staging left."""
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for n in needles:
            self.assertRegex(r.stderr, n)
        self.assertIn("the definitions in service are unchanged", r.stderr)
        self.assertEqual(self.site.tree(), self.before)
        self.assertFalse(os.path.exists(self.site.db + ".staging"))
        self.assertRegex(self.site.log_text(), r"update failed: .*\(exit code 1\)")


class TestProxies(FreshSite):
    """conf/dbupdate.conf's proxy settings (003:2787-2794) and sekisho.ini's
    orspservice_http_proxy (KB-13), against a real Squid. libfreshclam tunnels through the
    proxy (CONNECT to the mirror's host:port), so Squid logs the tunnel, not the file."""

    def tunnels(self, sq, before):
        """Squid's CONNECT records to the mirror after the first `before` records."""
        target = "127.0.0.1:%d" % ENV["mirror"].port
        harness.wait_for(lambda: len(sq.requests()) > before, 10, what="a squid record")
        return [q for q in sq.requests()[before:] if q.method == "CONNECT" and q.url == target]

    def via(self, sq, **keys):
        tag, url = self.new_custom()
        before = len(sq.requests())
        conf = dict(custom_url=url, use_proxy="yes", http_proxy_host="127.0.0.1",
                    http_proxy_port=sq.port)
        conf.update(keys)
        self.site.write_conf(**conf)
        return tag, url, self.site.run(), before

    def test_through_squid_without_authentication(self):
        sq = ENV["squid"]
        tag, url, r, before = self.via(sq)
        self.assertUpdated(r, tag)
        self.assertEqual([q.status for q in self.tunnels(sq, before)], [200])
        self.assertTrue(ENV["mirror"].wait_requests(tag + ".ndb"))

    def test_through_squid_with_authentication(self):
        sq = ENV["squid_auth"]
        tag, url, r, before = self.via(sq, http_proxyauth="yes", http_proxyauth_user="upd",
                                       http_proxyauth_pass="s3cret#pw")
        self.assertUpdated(r, tag)
        ok = [q for q in self.tunnels(sq, before) if q.status == 200]
        self.assertEqual([q.user for q in ok], ["upd"])

    def test_use_proxyauth_is_the_same_switch(self):
        # C-18: the guide prints the key once as use_proxyauth.
        sq = ENV["squid_auth"]
        tag, url, r, before = self.via(sq, use_proxyauth="yes", http_proxyauth_user="upd",
                                       http_proxyauth_pass="s3cret#pw")
        self.assertUpdated(r, tag)
        self.assertEqual([q.user for q in self.tunnels(sq, before) if q.status == 200], ["upd"])

    def test_without_credentials_the_proxy_refuses(self):
        sq = ENV["squid_auth"]
        tag, url, r, before = self.via(sq)
        self.assertFailedUnchanged(r, re.escape(url),
                                   r"the proxy 127\.0\.0\.1:%d answered HTTP/1\.1 407 " % sq.port)
        self.assertIn(407, [q.status for q in self.tunnels(sq, before)])

    def test_proxy_refusing_the_password_leaves_databases(self):
        sq = ENV["squid_auth"]
        tag, url, r, before = self.via(sq, http_proxyauth="yes", http_proxyauth_user="upd",
                                       http_proxyauth_pass="wrong")
        self.assertFailedUnchanged(r, re.escape(url),
                                   r"the proxy 127\.0\.0\.1:%d answered HTTP/1\.1 407 " % sq.port)
        self.assertIn(407, [q.status for q in self.tunnels(sq, before)])

    def test_proxy_refusing_everything_leaves_databases(self):
        deny = Squid(self.site.dir, deny_all=True, name="squid-deny")
        try:
            tag, url, r, before = self.via(deny)
            self.assertFailedUnchanged(r, re.escape(url), r"answered HTTP/1\.1 403 ")
            self.assertIn(403, [q.status for q in self.tunnels(deny, before)])
        finally:
            deny.stop()

    def test_dead_proxy(self):
        dead = harness.free_port()
        tag, url = self.new_custom()
        self.site.write_conf(custom_url=url, use_proxy="yes", http_proxy_host="127.0.0.1",
                             http_proxy_port=dead)
        r = self.site.run()
        self.assertFailedUnchanged(r, r"the proxy 127\.0\.0\.1:%d cannot be reached: "
                                      r"Connection refused" % dead)

    def test_orspservice_http_proxy_list_tried_in_order(self):
        # sekisho.ini [common]: a proxy nobody listens on, then the authenticating Squid.
        tag, url = self.new_custom()
        sq = ENV["squid_auth"]
        before = len(sq.requests())
        dead = harness.free_port()
        self.site.http.common["orspservice_http_proxy"] = (
            "http://127.0.0.1:%d,upd:s3cret#pw@127.0.0.1:%d" % (dead, sq.port))
        self.site.http.write_ini()
        self.site.write_conf(custom_url=url)
        r = self.site.run()
        self.assertUpdated(r, tag)
        self.assertEqual([q.user for q in self.tunnels(sq, before) if q.status == 200], ["upd"])
        self.assertRegex(self.site.log_text(), r"127\.0\.0\.1:%d cannot be reached.*trying the "
                                               r"next proxy" % dead)

    def test_bad_orspservice_http_proxy_is_refused(self):
        self.site.http.common["orspservice_http_proxy"] = "http://127.0.0.1:notaport"
        self.site.http.write_ini()
        r = self.site.run()
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"sekisho\.ini:\d+: .*orspservice_http_proxy")


class TestFailures(FreshSite):
    """A corrupt download, a truncated file, a mirror that is down: exit 1, a message that
    says what and why, databases/ untouched, scand still serving the old set."""

    def test_custom_database_that_does_not_load(self):
        mirror = ENV["mirror"]
        name = unique("bad") + ".ndb"
        mirror.put(name, clamdb.malformed_ndb())
        self.site.write_conf(custom_url=mirror.url(name))
        r = self.site.run()
        self.assertFailedUnchanged(r, r"the new definitions do not load", r"(?i)malformed")
        # scand still detects with the old set.
        eicar = os.path.join(self.site.dir, "eicar.com")
        with open(eicar, "wb") as f:
            f.write(testfiles.EICAR)
        out = subprocess.run([os.path.join(harness.BIN, "sekisho-scan"), "--socket",
                              self.site.scand.socket, eicar], capture_output=True, text=True,
                             timeout=30)
        self.assertIn("INFECTED", out.stdout)

    def official(self, body, path="daily.cvd", sub=None):
        sub = sub or unique("m")
        ENV["mirror"].put("%s/%s" % (sub, path), body)
        return ENV["mirror"].url(sub + "/")

    def test_cvd_with_a_bad_signature_from_updateurl(self):
        url = self.official(clamdb.fake_cvd(version=900001, sigs=1))
        self.site.write_conf(UPDATEURL=url, databases="daily")
        r = self.site.run()
        self.assertFailedUnchanged(r, r"daily from %s" % re.escape(url.rstrip("/")))
        self.assertTrue(ENV["mirror"].wait_requests(url.split("/")[-2] + "/daily.cvd"))

    def test_truncated_cvd(self):
        full = clamdb.fake_cvd(version=900002, sigs=1)
        url = self.official(full[:len(full) // 2])
        self.site.write_conf(UPDATEURL=url, databases="daily")
        self.assertFailedUnchanged(self.site.run(), r"daily")

    def test_truncated_cvd_header(self):
        url = self.official(clamdb.fake_cvd(version=900003, sigs=1)[:100])
        self.site.write_conf(UPDATEURL=url, databases="daily")
        self.assertFailedUnchanged(self.site.run(), r"daily")

    def test_mirror_down(self):
        url = ENV["mirror"].dead_url("daily/")
        self.site.write_conf(UPDATEURL=url, databases="daily")
        self.assertFailedUnchanged(self.site.run(), r"Couldn't connect to server")

    def test_custom_url_down(self):
        url = ENV["mirror"].dead_url("x.ndb")
        self.site.write_conf(custom_url=url)
        self.assertFailedUnchanged(self.site.run(), re.escape(url))

    def test_custom_url_missing(self):
        url = ENV["mirror"].url(unique("nosuch") + ".ndb")
        self.site.write_conf(custom_url=url)
        self.assertFailedUnchanged(self.site.run(), re.escape(url))

    def test_updateurl_from_sekisho_ini(self):
        # KB-2: UPDATEURL in sekisho.ini's [common] when dbupdate.conf sets none.
        url = self.official(clamdb.fake_cvd(version=900004, sigs=1))
        self.site.http.common["UPDATEURL"] = url
        self.site.http.write_ini()
        self.site.write_conf(databases="daily")
        self.assertFailedUnchanged(self.site.run(), r"daily from %s" % re.escape(url.rstrip("/")))
        self.assertTrue(ENV["mirror"].wait_requests(url.split("/")[-2] + "/daily.cvd"))


def no_network():
    """argv prefix running a command in a new network namespace (no interface but a
    down loopback): the offline import must need nothing else."""
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return ["unshare", "-n"] if r.returncode == 0 else None


class TestBundle(FreshSite):
    """KB-7: an offline bundle (tar or tar.gz of database files), verified and installed
    the same way, with no network at all; hostile entries refuse the whole bundle."""
    SMTP = True

    def test_bundle_with_no_network(self):
        wrap = no_network()
        self.assertIsNotNone(wrap, "unshare -n is needed to show the import uses no network")
        tag = unique("bundle")
        path, data, ndb = new_marker(tag)
        bundle = clamdb.bundle(os.path.join(self.site.dir, "defs.tar.gz"),
                               {tag + ".ndb": (ndb + "\n").encode()})
        r = self.site.run(bundle, wrapper=wrap)
        self.assertUpdated(r, tag)
        self.assertIn("sekisho-scand serves them", r.stdout)
        code, text = self.site.send_mail(tag, data)
        self.assertEqual(code, 554, text)
        self.assertIn(clamdb.signature_name(tag), text)
        # The same bundle again: nothing new.
        before = self.site.tree()
        r = self.site.run(bundle, wrapper=wrap)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(self.site.tree(), before)

    def test_plain_tar_bundle(self):
        tag = unique("plain")
        path, data, ndb = new_marker(tag)
        bundle = clamdb.bundle(os.path.join(self.site.dir, "defs.tar"),
                               {tag + ".ndb": (ndb + "\n").encode()}, fmt="plain")
        self.assertUpdated(self.site.run(bundle), tag)

    def hostile(self, entry, *needles):
        tag = unique("h")
        path, data, ndb = new_marker(tag)
        bundle = clamdb.bundle(os.path.join(self.site.dir, unique("hostile") + ".tar.gz"),
                               {tag + ".ndb": (ndb + "\n").encode()}, extra=[entry])
        r = self.site.run(bundle)
        self.assertFailedUnchanged(r, *needles)
        # Nothing was written next to the databases either.
        self.assertFalse(os.path.exists(os.path.join(self.site.dir, "evil.ndb")))

    def test_traversal_refused(self):
        self.hostile(clamdb.traversal(), r"\.\./evil\.ndb")

    def test_absolute_name_refused(self):
        self.hostile(clamdb.absolute(os.path.join(self.site.dir, "evil.ndb")), r"evil\.ndb")

    def test_symlink_refused(self):
        self.hostile(clamdb.symlink(), r"(?i)link")

    def test_hardlink_refused(self):
        self.hostile(clamdb.hardlink(), r"(?i)link")

    def test_non_database_refused(self):
        self.hostile(clamdb.non_database(), r"x\.sh")

    def test_huge_entry_refused(self):
        self.hostile(clamdb.huge(), r"huge\.ndb")

    def test_not_a_bundle(self):
        junk = os.path.join(self.site.dir, "junk.tar.gz")
        with open(junk, "wb") as f:
            f.write(b"this is not a tar archive\n" * 40)
        self.assertFailedUnchanged(self.site.run(junk), r"junk\.tar\.gz")

    def test_bundle_that_does_not_load(self):
        bundle = clamdb.bundle(os.path.join(self.site.dir, "bad.tar.gz"),
                               {"bad.ndb": clamdb.malformed_ndb()})
        self.assertFailedUnchanged(self.site.run(bundle), r"do not load")


class TestBackground(FreshSite):
    """G-24: the wait is bounded (--timeout), the update goes on in the background and a
    second dbupdate reports its progress and its result; a signal stops the update and
    gives 128 + its number (CLI-3)."""

    def slow_custom(self):
        """A custom database that takes about 8 s to download from the slow mirror."""
        tag = unique("slow")
        path, data, ndb = new_marker(tag)
        # Comment-free padding: further valid signatures that match nothing.
        pad = "".join("Sekisho.Pad.%d:0:*:%s\n" % (i, os.urandom(16).hex()) for i in range(14000))
        ENV["slow"].put(tag + ".ndb", (ndb + "\n" + pad).encode())
        return tag, ENV["slow"].slow_url(tag + ".ndb")

    def test_timeout_then_progress_then_result(self):
        tag, url = self.slow_custom()
        self.site.write_conf(custom_url=url, receive_timeout=60)
        r = self.site.run("--timeout=2s")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"timeout: .*goes on in the background")
        self.assertEqual(self.site.tree(), self.before)
        # The second call reports the update in progress, then its result.
        r2 = self.site.run()
        self.assertIn("an update is in progress", r2.stdout)
        self.assertIn("fetching " + url, r2.stdout)
        # Once (CI, ASan stage) the background download ended in libcurl's
        # "Timeout was reached" (a 5 s download, receive_timeout=60): the
        # update's log says when each step happened if it is seen again.
        self.assertEqual(r2.returncode, 2, r2.stdout + r2.stderr + self.site.log_text())
        self.assertIn("definitions updated: %s.ndb" % tag, r2.stdout)
        self.assertIn(tag + ".ndb", os.listdir(self.site.db))

    def test_signal_stops_the_update(self):
        tag, url = self.slow_custom()
        self.site.write_conf(custom_url=url, receive_timeout=60)
        status = os.path.join(self.site.http.prefix, "run", "dbupdate.status")
        p = subprocess.Popen(["sh", "-c", 'exec "$@"', "sh"] + self.site.argv(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            harness.wait_for(lambda: "fetching" in harness.read_text(status), 20,
                             what="the update fetching")
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual(p.returncode, -signal.SIGTERM)
        self.assertEqual(self.site.tree(), self.before)
        self.assertRegex(self.site.log_text(), r"stopped by signal 15")
        # The shell's view of it: 128 + 15.
        sh = subprocess.run(["sh", "-c", '"$@" & pid=$!; sleep 1; kill -TERM $pid; wait $pid; '
                             'echo "status=$?"', "sh"] + self.site.argv(),
                            capture_output=True, text=True, timeout=60)
        self.assertIn("status=143", sh.stdout)
        # The stopped update left staging behind; the next update clears it and works.
        tag2, url2 = self.new_custom()
        self.site.write_conf(custom_url=url2)
        r = self.site.run()
        self.assertUpdated(r, tag2)
        self.assertNotIn(tag + ".ndb", os.listdir(self.site.db))


class TestCommandLine(FreshSite):
    """--help, --show-version, --auto, and a dbupdate.conf that cannot be used."""

    def test_help(self):
        r = self.site.run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--timeout", r.stdout)
        self.assertIn("exit status: 0 no new updates, 1 failed", r.stdout)

    def test_unknown_key_refused_with_file_and_line(self):
        with open(self.site.conf, "w") as f:
            f.write("# x\nuse_proxy=no\nhttp_proxy_hots=proxy\n")
        r = self.site.run()
        self.assertEqual(r.returncode, 1)
        self.assertIn("%s:3: unknown key 'http_proxy_hots'" % self.site.conf, r.stderr)
        self.assertEqual(self.site.tree(), self.before)

    def test_proxy_without_host_refused(self):
        with open(self.site.conf, "w") as f:
            f.write("use_proxy=yes\n")
        r = self.site.run()
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"dbupdate\.conf:1: .*http_proxy_host")

    def test_bad_timeout_refused(self):
        r = self.site.run("--timeout=soon")
        self.assertEqual(r.returncode, 1)
        self.assertIn("--timeout=soon", r.stderr)

    def test_show_version(self):
        r = self.site.run("--show-version")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.site.db, "sekisho-test.ndb")) as f:
            sigs = len([l for l in f if l.strip() and not l.startswith("#")])
        self.assertRegex(r.stdout, r"(?m)^sekisho-test\.ndb version=custom signatures=%d "
                                   r"built=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$" % sigs)

    def test_auto_logs_its_delay_and_prints_nothing_on_success(self):
        tag, url = self.new_custom()
        self.site.write_conf(custom_url=url)
        r = self.site.run("--auto", "--delay=1")
        self.assertUpdated(r, tag)
        self.assertEqual(r.stdout, "")
        self.assertRegex(self.site.log_text(),
                         r"automatic update: starting in [01] s \(random delay of at most 1 s\)")

    def test_auto_prints_failures(self):
        self.site.write_conf(custom_url=ENV["mirror"].dead_url("y.ndb"))
        r = self.site.run("--auto", "--delay=0")
        self.assertEqual(r.returncode, 1)
        self.assertIn("y.ndb", r.stderr)


if __name__ == "__main__":
    unittest.main()
