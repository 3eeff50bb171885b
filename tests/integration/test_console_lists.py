"""The web console's file pages and top-menu actions in an installed prefix, at the HTTP
level (tests/integration/harness/digest.py; the browser module covers the settings pages):

- hosts.allow: a refused line is shown with hosts.allow:line and nothing is written; a good
  edit is written and the running SMTP proxy reloads it: a domain added to smtp_rcpt is
  accepted at once, where it was refused before.
- templates: a template over 9000 bytes is refused; an edited template_http.html is what the
  HTTP proxy's detection page then shows.
- custom spam rules: a refused rule names its line; a good one is written, the mail services
  reload.
- Add or remove users: an entry is added (userdb.txt and the LMDB database rebuilt by
  create_userdb hold it), its password never appears on the page, and it is removed again.
- quarantine: download as an AES-256 zip that 7z opens with the password (and not without),
  then delete (the object and its meta are gone).
- Diagnostics: diag.tar.gz comes as a download, without the htdigest's content.
- Logout: the session ends; the next request is challenged (the browser asks again).
- NAT redirect (TP-2), with the real iptables (and ip6tables when it has a nat table):
  ticking HTTP and SMTP adds exactly their REDIRECT rules (80 and 25 to the configured
  ports) to the nat table's PREROUTING chain and the page shows them ticked; unticking HTTP
  removes its rule and keeps SMTP's; a POST without a valid CSRF token changes no rule.
  The installed misc/rc.transparent from the command line: on (idempotent, a new port
  replaces the rule), status, off; bad arguments refused with a non-zero status and no
  change; run without the right to use iptables, a message and exit 1. Every sekisho-* rule
  is removed before and after each of these tests (PREROUTING does not see loopback
  traffic: the other tests are not affected).
Every change is in log/admin/audit.log."""
import html
import io
import os
import re
import shutil
import smtplib
import subprocess
import tarfile
import tempfile
import unittest

import harness
from harness import mail_fixtures, testfiles
from harness.digest import DigestClient
from harness.install import Installation, ini_set

PASSWORD = "console-lists-pw1"
ENV = {}


def setUpModule():
    wd = harness.Workdir("console-lists")
    ENV["wd"] = wd
    try:
        www = os.path.join(wd.path, "www")
        testfiles.generate(www)
        with open(os.path.join(www, "eicar.com"), "rb") as f:
            ENV["eicar"] = f.read()
        ENV["nginx"] = harness.Nginx(www, wd.path)
        ENV["sink"] = harness.SmtpSink(wd.path)
        inst = Installation(unittest.TestCase(), os.path.join(wd.path, "sekisho"),
                            ENV["sink"].port, admin=True)
        ini_set(inst.ini, "smtp", "parent_server_host", "127.0.0.1")
        ini_set(inst.ini, "smtp", "quarantine", "yes")
        ini_set(inst.ini, "smtp", "action", "deny")
        ENV["inst"] = inst
        inst.start(services=("scand", "http", "smtp", "admin"))
        c = DigestClient("127.0.0.1", inst.admin_port, "admin", "admin")
        r = c.post_form("/account/password", {"current": "admin", "new": PASSWORD,
                                               "again": PASSWORD})
        if "The password was changed" not in r.text:
            raise RuntimeError("password change: %d %s" % (r.status, r.text[-400:]))
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    if ENV.get("inst"):
        ENV["inst"].stop()
    for k in ("sink", "nginx"):
        if ENV.get(k):
            ENV[k].stop()
    ENV["wd"].cleanup()


def notices(page):
    return re.findall(r'role="(?:status|alert)">([^<]*)', page.text)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class ListsCase(unittest.TestCase):
    def setUp(self):
        self.inst = ENV["inst"]
        self.c = DigestClient("127.0.0.1", self.inst.admin_port, "admin", PASSWORD)

    def conf(self, name):
        return os.path.join(self.inst.prefix, "conf", name)

    def audit(self):
        return harness.read_text(os.path.join(self.inst.prefix, "log", "admin", "audit.log"))

    def save(self, uri, content):
        return self.c.post_form(uri, {"content": content})

    def rcpt_code(self, rcpt):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, local_hostname="client.test",
                          timeout=60) as s:
            s.mail("sender@outside.example")
            code, _ = s.rcpt(rcpt)
            return code


class TestHostsAllow(ListsCase):
    def test_refused_then_saved_and_reloaded(self):
        before = read(self.conf("hosts.allow"))
        r = self.save("/lists/hosts", before.decode() + "http_client: 10.0.0.0/99\n")
        self.assertEqual(r.status, 200)
        self.assertTrue(any(re.search(r"hosts\.allow:\d+:", n) for n in notices(r)), notices(r))
        self.assertEqual(read(self.conf("hosts.allow")), before)

        self.assertEqual(self.rcpt_code("user@example.org") // 100, 5)
        text = before.decode().replace("smtp_rcpt: example.com example.net",
                                       "smtp_rcpt: example.com example.net example.org")
        self.assertNotEqual(text, before.decode())
        r = self.save("/lists/hosts", text)
        self.assertIn("Saved.", notices(r))
        self.assertTrue(any(n.startswith("smtp: ") and "Reloading" in n for n in notices(r)),
                        notices(r))
        self.assertEqual(read(self.conf("hosts.allow")).decode(), text)
        harness.wait_for(lambda: self.rcpt_code("user@example.org") == 250, 30,
                         what="example.org accepted after the reload")
        self.assertIn("hosts.allow saved", self.audit())


class TestTemplates(ListsCase):
    def test_template_edited_and_shown(self):
        uri = "/lists/templates?name=template_http.html"
        before = read(self.conf("template_http.html"))
        r = self.save(uri, "x" * 9001)
        self.assertTrue(any("template larger" in n or "9000" in n for n in notices(r)),
                        notices(r))
        self.assertEqual(read(self.conf("template_http.html")), before)
        marker = "console-template-%d" % os.getpid()
        text = before.decode().replace("<body>", "<body><p>%s</p>" % marker, 1)
        self.assertIn(marker, text)
        r = self.save(uri, text)
        self.assertIn("Saved.", notices(r))
        self.assertEqual(read(self.conf("template_http.html")).decode(), text)

        def page():
            out = subprocess.run(["curl", "-s", "-x", "http://127.0.0.1:%d" % self.inst.http_port,
                                  ENV["nginx"].url("eicar.com")], capture_output=True,
                                 timeout=60).stdout
            return marker.encode() in out
        harness.wait_for(page, 30, 0.5, what="the edited detection page")


class TestSpamRules(ListsCase):
    def test_refused_rule_names_its_line(self):
        before = read(self.conf("spam/custom.txt"))
        r = self.save("/lists/spam", before.decode() + "MAYBE\tSubject\t\tcheap\n")
        self.assertTrue(any(re.search(r"spam/custom\.txt:\d+:", n) for n in notices(r)),
                        notices(r))
        self.assertEqual(read(self.conf("spam/custom.txt")), before)
        text = before.decode() + "BLACK\tSubject\tIGNORECASE\tcheap-pills\n"
        r = self.save("/lists/spam", text)
        self.assertIn("Saved.", notices(r))
        self.assertEqual(read(self.conf("spam/custom.txt")).decode(), text)
        self.assertIn("reload smtp: status 0", self.audit())


class TestUsers(ListsCase):
    def keys(self):
        out = subprocess.run(["mdb_dump", "-n", "-p", self.conf("pam/userdb.db")],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_add_and_remove(self):
        secret = "Alice-Secret-%d" % os.getpid()
        r = self.c.post_form("/lists/users", {"key": "alice", "password": secret})
        self.assertIn("Saved.", notices(r))
        self.assertIn("<td>alice</td>", r.text)
        self.assertNotIn(secret, r.text)
        self.assertIn("alice\n%s\n" % secret, read(self.conf("pam/userdb.txt")).decode())
        self.assertIn("alice", self.keys())
        st = os.stat(self.conf("pam/userdb.txt"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        # An entry the file format refuses (a blank in the key) changes nothing.
        before = read(self.conf("pam/userdb.txt"))
        r = self.c.post_form("/lists/users", {"key": "bad user", "password": "x"})
        self.assertTrue(any(n.startswith("Not saved") for n in notices(r)), notices(r))
        self.assertEqual(read(self.conf("pam/userdb.txt")), before)
        r = self.c.post_form("/lists/users", {"remove": "alice"})
        self.assertIn("Saved.", notices(r))
        self.assertNotIn("<td>alice</td>", r.text)
        self.assertNotIn("alice", read(self.conf("pam/userdb.txt")).decode())
        self.assertNotIn("alice", self.keys())
        self.assertIn("user database: removed alice", self.audit())


class TestQuarantineActions(ListsCase):
    def quarantine_dir(self):
        return os.path.join(self.inst.prefix, "tmp", "quarantine")

    def test_zip_then_delete(self):
        marker = "console-zip-%d" % os.getpid()
        mail = mail_fixtures.with_attachment(marker, "eicar.com", ENV["eicar"])
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, local_hostname="client.test",
                          timeout=60) as s:
            with self.assertRaises(smtplib.SMTPDataError):
                s.sendmail("sender@outside.example", ["user@example.com"], mail)
        qdir = self.quarantine_dir()
        harness.wait_for(lambda: any(n.endswith(".meta") for n in os.listdir(qdir)), 30,
                         what="the quarantine meta")
        qid = [n for n in os.listdir(qdir) if n.endswith(".meta")][0][:-5]
        page = self.c.get("/quarantine")
        self.assertIn(qid, page.text)
        self.assertIn("sender@outside.example", page.text)
        self.assertIn("user@example.com", page.text)

        r = self.c.post("/quarantine", {"csrf": page.csrf(), "id": qid, "action": "zip",
                                        "password": "zip-pw-1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/zip")
        self.assertIn('filename="%s.zip"' % qid, r.header("Content-Disposition"))
        self.assertEqual(r.body[:2], b"PK")
        with tempfile.TemporaryDirectory() as d:
            z = os.path.join(d, "q.zip")
            with open(z, "wb") as f:
                f.write(r.body)
            bad = subprocess.run(["7z", "x", "-y", "-pwrong", "-o" + d + "/bad", z],
                                 capture_output=True, text=True, timeout=60)
            self.assertNotEqual(bad.returncode, 0)
            good = subprocess.run(["7z", "x", "-y", "-pzip-pw-1", "-o" + d + "/good", z],
                                  capture_output=True, text=True, timeout=60)
            self.assertEqual(good.returncode, 0, good.stdout + good.stderr)
            names = sorted(os.listdir(d + "/good"))
            self.assertIn("quarantine-info.txt", names)
            box = [n for n in names if n != "quarantine-info.txt"][0]
            self.assertIn(marker, read(os.path.join(d, "good", box)).decode())

        r = self.c.post("/quarantine", {"csrf": page.csrf(), "id": qid, "action": "delete"})
        self.assertIn("%s was deleted." % qid, notices(r))
        self.assertFalse(os.path.exists(os.path.join(qdir, qid)))
        self.assertFalse(os.path.exists(os.path.join(qdir, qid + ".meta")))
        self.assertIn("quarantine delete %s" % qid, self.audit())


class TestStatus(ListsCase):
    def test_counters_chart_and_space(self):
        """Requests through the HTTP proxy show in its row and in its chart's text;
        the free space of the spool and the quarantine is listed."""
        for _ in range(3):
            out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x",
                                  "http://127.0.0.1:%d" % self.inst.http_port,
                                  ENV["nginx"].url("clean_23k.bin")],
                                 capture_output=True, text=True, timeout=60).stdout
            self.assertEqual(out, "200")

        def http_row():
            page = self.c.get("/")
            m = re.search(r'<tr><th scope="row">http</th><td class="state-on">running</td>'
                          r'<td>[^<]+</td><td>\d+</td><td>(\d+)</td><td>(\d+)</td>', page.text)
            return m and int(m.group(2)) >= 3 and page
        page = harness.wait_for(http_row, 30, 0.5, what="three requests counted")
        self.assertRegex(page.text, r'<svg class="chart"[^>]*aria-label="http: requests \(line\) '
                                    r'and detections \(bars\) per minute over the last hour; '
                                    r'(\d+) requests')
        self.assertRegex(page.text, r"<li>[^<]*tmp/spool: \d+ MiB free of \d+ MiB</li>")
        self.assertRegex(page.text, r"<li>[^<]*tmp/quarantine: ")


class TestTopMenu(ListsCase):
    def test_diag_download(self):
        digest = read(self.conf("sekisho.htdigest")).decode().strip().rsplit(":", 1)[1]
        r = self.c.post_form("/account/diag", {})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/gzip")
        self.assertIn('filename="diag.tar.gz"', r.header("Content-Disposition"))
        with tarfile.open(fileobj=io.BytesIO(r.body), mode="r:gz") as t:
            names = t.getnames()
            self.assertIn("diag/conf/sekisho.ini", names)
            for m in t.getmembers():
                if m.isfile():
                    self.assertNotIn(digest.encode(), t.extractfile(m).read(), m.name)

    def test_logout_ends_the_session(self):
        c = DigestClient("127.0.0.1", self.inst.admin_port, "admin", PASSWORD)
        self.assertEqual(c.get("/account/version").status, 200)
        r = c.post_form("/logout", {})
        self.assertIn("You are logged out", r.text)
        # The same credentials, the same opaque: challenged (stale=false asks the user).
        r = c.get("/account/version", retry=False)
        self.assertEqual(r.status, 401)
        self.assertNotIn("stale=true", r.header("WWW-Authenticate").lower())
        self.assertIn("user admin: logout", self.audit())


STD_PORTS = {"http": 80, "smtp": 25, "pop": 110, "ftp": 21}


def nat_tools():
    """iptables, and ip6tables when it is there with a nat table (as rc.transparent
    decides)."""
    tools = ["iptables"]
    if shutil.which("ip6tables") and subprocess.run(
            ["ip6tables", "-w", "-t", "nat", "-S", "PREROUTING"], capture_output=True,
            timeout=30).returncode == 0:
        tools.append("ip6tables")
    return tools


def sekisho_rules(tool):
    """The PREROUTING rules of the nat table with a sekisho-* comment, sorted."""
    out = subprocess.run([tool, "-w", "-t", "nat", "-S", "PREROUTING"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return sorted(l for l in out.splitlines()
                  if l.startswith("-A PREROUTING ") and " --comment sekisho-" in l)


def remove_sekisho_rules():
    """Delete every sekisho-* rule of both families; bounded (a few rounds, each command
    with a timeout) so that a cleanup never hangs a run."""
    for tool in nat_tools():
        for _ in range(3):
            rules = sekisho_rules(tool)
            if not rules:
                break
            for rule in rules:
                subprocess.run([tool, "-w", "-t", "nat", "-D"] + rule.split()[1:],
                               capture_output=True, timeout=30)


def expected_rules(**ports):
    return sorted("-A PREROUTING -p tcp -m tcp --dport %d -m comment --comment sekisho-%s "
                  "-j REDIRECT --to-ports %d" % (STD_PORTS[svc], svc, port)
                  for svc, port in ports.items())


class NatCase(ListsCase):
    def setUp(self):
        super().setUp()
        remove_sekisho_rules()
        self.addCleanup(remove_sekisho_rules)

    def assert_rules(self, **ports):
        """Exactly these sekisho-* rules, in every family rc.transparent uses."""
        for tool in nat_tools():
            self.assertEqual(sekisho_rules(tool), expected_rules(**ports), tool)


class TestNatRedirect(NatCase):
    @staticmethod
    def ticked(page):
        return {m.group(1) for m in re.finditer(
            r'<input type="checkbox" id="nat-(\w+)" name="\1" value="on"( checked)?>',
            page.text) if m.group(2)}

    def test_tick_untick_csrf_and_audit(self):
        hp, sp = self.inst.http_port, self.inst.smtp_port
        page = self.c.get("/lists/nat")
        self.assertEqual(page.status, 200)
        # Enabled, labelled with the guide's names and the real ports, nothing ticked.
        for svc in STD_PORTS:
            self.assertRegex(page.text, r'<input type="checkbox" id="nat-%s" name="%s" '
                                        r'value="on"> <label for="nat-%s">' % (svc, svc, svc))
        self.assertIn("HTTP redirect (80 → %d)" % hp, page.text)
        self.assertIn("SMTP redirect (25 → %d)" % sp, page.text)
        self.assertRegex(page.text, r"POP redirect \(110 → \d+\)")
        self.assertRegex(page.text, r"FTP redirect \(21 → \d+\)")
        self.assertNotIn("<fieldset disabled", page.text)
        self.assertIn("iptables-save", page.text)
        self.assertEqual(self.ticked(page), set())
        self.assert_rules()

        r = self.c.post("/lists/nat", {"csrf": page.csrf(), "action": "save", "http": "on",
                                       "smtp": "on"})
        self.assertEqual(r.status, 200)
        self.assertIn("HTTP redirect is on (80 → %d)." % hp, notices(r))
        self.assertIn("SMTP redirect is on (25 → %d)." % sp, notices(r))
        self.assert_rules(http=hp, smtp=sp)
        self.assertEqual(self.ticked(r), {"http", "smtp"})
        page = self.c.get("/lists/nat")
        self.assertEqual(self.ticked(page), {"http", "smtp"})

        # Without this session's token (none, or a wrong one) nothing changes, though the
        # form would untick everything.
        for fields in ({"action": "save"}, {"csrf": "0" * 32, "action": "save"}):
            bad = self.c.post("/lists/nat", fields)
            self.assertEqual(bad.status, 403)
            self.assert_rules(http=hp, smtp=sp)

        r = self.c.post("/lists/nat", {"csrf": page.csrf(), "action": "save", "smtp": "on"})
        self.assertIn("HTTP redirect is off.", notices(r))
        self.assert_rules(smtp=sp)
        self.assertEqual(self.ticked(r), {"smtp"})
        r = self.c.post("/lists/nat", {"csrf": page.csrf(), "action": "save", "smtp": "on"})
        self.assertIn("Nothing was changed.", notices(r))
        self.assert_rules(smtp=sp)

        audit = self.audit()
        self.assertIn("NAT redirect http on (80 -> %d): status 0: http on %d" % (hp, hp), audit)
        self.assertIn("NAT redirect smtp on (25 -> %d): status 0: smtp on %d" % (sp, sp), audit)
        self.assertIn("NAT redirect http off (80 -> %d): status 0: http off" % hp, audit)

    def test_rule_to_another_port_is_shown_and_corrected(self):
        """A sekisho-http rule to another port (set by hand, or before svcport changed) is
        ticked, pointed out, and Save points it at the proxy's port."""
        hp = self.inst.http_port
        other = hp + 1 if hp < 65535 else hp - 1
        script = os.path.join(self.inst.prefix, "misc", "rc.transparent")
        r = subprocess.run([script, "on", "http", str(other)], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        page = self.c.get("/lists/nat")
        self.assertEqual(self.ticked(page), {"http"})
        self.assertIn("HTTP redirect sends port 80 to port %d, not to the proxy's port %d: "
                      "Save corrects it." % (other, hp), [html.unescape(n) for n in notices(page)])
        r = self.c.post("/lists/nat", {"csrf": page.csrf(), "action": "save", "http": "on"})
        self.assertIn("HTTP redirect is on (80 → %d)." % hp, notices(r))
        self.assert_rules(http=hp)


class TestRcTransparent(NatCase):
    """The installed script from the command line, as the guide has it (003:4904-4910)."""

    def rc(self, *args, user=None):
        argv = [os.path.join(self.inst.prefix, "misc", "rc.transparent")] + list(args)
        if user:
            argv = ["setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups"] + argv
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    def test_on_status_off(self):
        st = os.stat(os.path.join(self.inst.prefix, "misc", "rc.transparent"))
        self.assertEqual(st.st_mode & 0o777, 0o755)
        r = self.rc("on", "pop", "9110")
        self.assertEqual((r.returncode, r.stdout), (0, "pop on 9110\n"), r.stderr)
        self.assert_rules(pop=9110)
        r = self.rc("on", "pop", "9110")  # idempotent: still one rule
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_rules(pop=9110)
        r = self.rc("on", "pop", "9111")  # another port replaces the rule
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_rules(pop=9111)
        r = self.rc("on", "ftp", "21021")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.rc("status")
        self.assertEqual((r.returncode, r.stdout),
                         (0, "http off\nsmtp off\npop on 9111\nftp on 21021\n"), r.stderr)
        r = self.rc("off", "pop")
        self.assertEqual((r.returncode, r.stdout), (0, "pop off\n"), r.stderr)
        self.assert_rules(ftp=21021)
        r = self.rc("off", "pop")  # nothing to remove: fine
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.rc("off", "ftp")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_rules()
        r = self.rc("status")
        self.assertEqual(r.stdout, "http off\nsmtp off\npop off\nftp off\n")

    def test_bad_arguments_change_nothing(self):
        self.assertEqual(self.rc("on", "smtp", "9025").returncode, 0)
        for args in (["on", "http", "0"], ["on", "http", "80x"], ["on", "nosuch", "9080"],
                     ["on", "http;id", "1"], ["on", "http", "65536"], ["on", "http", "09080"],
                     ["on", "http"], ["on", "http", "9080", "extra"], ["off", "smtp;id"],
                     ["off"], ["status", "http"], ["start"], []):
            r = self.rc(*args)
            self.assertEqual(r.returncode, 2, (args, r.stdout, r.stderr))
            self.assertEqual(r.stdout, "", args)
            self.assertIn("usage: rc.transparent", r.stderr, args)
            self.assert_rules(smtp=9025)

    def test_iptables_refused(self):
        """Without the right to use iptables (run as nobody): its message, exit 1."""
        self.assertEqual(self.rc("on", "smtp", "9025").returncode, 0)
        for args in (["on", "http", "9080"], ["off", "smtp"], ["status"]):
            r = self.rc(*args, user="nobody")
            self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
            self.assertRegex(r.stderr, r"^rc\.transparent: iptables .*failed: .+", args)
            self.assert_rules(smtp=9025)


if __name__ == "__main__":
    unittest.main()
