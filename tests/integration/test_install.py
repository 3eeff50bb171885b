"""make install and the rc scripts (INST-2, CLI-1, G-26): an installed prefix
runs scand and the proxies from the shipped configuration; <svc>_service
decides what an rc script starts; two installations (one with suffix=2) run
side by side without touching each other's processes."""
import os
import re
import subprocess
import tarfile
import unittest

import harness
from harness import testfiles
from harness.install import Installation, ini_set, make_install


class TestInstall(unittest.TestCase):
    def setUp(self):
        self.wd = harness.Workdir("install")
        self.prefix = os.path.join(self.wd.path, "sekisho")
        www = os.path.join(self.wd.path, "www")
        testfiles.generate(www)
        self.nginx = harness.Nginx(www, self.wd.path)
        self.sink = None
        self.installs = []

    def tearDown(self):
        for inst in self.installs:
            inst.stop()
        # Every service a test may have started (a failed assertion must not
        # leave one running): POP and FTP are on as shipped.
        for rc in ("rc.sekisho_ftp", "rc.sekisho_pop", "rc.sekisho_smtp", "rc.sekisho_http",
                   "rc.sekisho_scand"):
            path = os.path.join(self.prefix, rc)
            if os.path.exists(path):
                subprocess.run([path, "stop"], capture_output=True, timeout=400)
        if self.sink:
            self.sink.stop()
        self.nginx.stop()
        self.wd.cleanup()

    def rc(self, name, action):
        return subprocess.run([os.path.join(self.prefix, name), action], capture_output=True,
                              text=True, timeout=400)

    def test_installed_prefix_runs(self):
        r = make_install(self.prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        # Point the shipped configuration at a free port; everything else as shipped.
        ini = os.path.join(self.prefix, "conf", "sekisho.ini")
        port = harness.free_port()
        text = open(ini).read()
        text = re.sub(r"(?m)^svcport=127\.0\.0\.1:9080$", "svcport=127.0.0.1:%d" % port, text)
        self.assertIn("svcport=127.0.0.1:%d" % port, text)
        with open(ini, "w") as f:
            f.write(text)

        self.assertEqual(self.rc("rc.sekisho_scand", "status").returncode, 3)
        r = self.rc("rc.sekisho_scand", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("[ OK ]", r.stdout)
        # scand took its socket from the ini (scand_socket=run/sekisho-scand.sock).
        self.assertTrue(os.path.exists(os.path.join(self.prefix, "run", "sekisho-scand.sock")))

        r = self.rc("rc.sekisho_http", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        harness.wait_for(lambda: harness.port_open(port), 20, what="installed proxy")
        r = self.rc("rc.sekisho_http", "status")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"is running \(pid \d+\)")

        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x",
                              "http://127.0.0.1:%d" % port, self.nginx.url("eicar.com")],
                             capture_output=True, text=True, timeout=60).stdout
        self.assertEqual(out, "403")
        detect = os.path.join(self.prefix, "log", "http", "detect.log")
        harness.wait_for(lambda: os.path.exists(detect) and "eicar.com" in open(detect).read(),
                         10, what="detect.log line")
        conv = subprocess.run([os.path.join(self.prefix, "misc", "logconv"), "--tail", "1",
                               detect], capture_output=True, text=True, timeout=30)
        self.assertRegex(conv.stdout, r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d : \d+\.\d{3} ")
        # sekisho-quarantine is installed beside the others and reads the shipped ini.
        q = subprocess.run(["./sekisho-quarantine", "list"], cwd=self.prefix,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(q.returncode, 0, q.stderr)
        self.assertTrue(q.stdout.startswith("id\ttime\tservice\t"), q.stdout)

        self.assertEqual(self.rc("rc.sekisho_http", "stop").returncode, 0)
        self.assertEqual(self.rc("rc.sekisho_http", "status").returncode, 3)
        self.assertEqual(self.rc("rc.sekisho_scand", "stop").returncode, 0)
        self.assertEqual(self.rc("rc.sekisho_scand", "status").returncode, 3)

    def test_rc_start_follows_the_service_switch(self):
        """smtp_service=no: rc start says so, starts nothing, exits 0; yes:
        it starts. The switch is read by the binary's own loader, so an
        invalid file is refused with file:line."""
        self.sink = harness.SmtpSink(self.wd.path)
        inst = Installation(self, self.prefix, self.sink.port)
        self.installs.append(inst)
        sekisho = os.path.join(self.prefix, "sekisho")
        ini_set(inst.ini, "smtp", "smtp_service", "no")
        q = subprocess.run([sekisho, "--smtp", "-f", inst.ini, "--service-enabled"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(q.returncode, 1, q.stdout + q.stderr)
        r = inst.rc("smtp", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("smtp_service=no in %s" % inst.ini, r.stdout)
        self.assertNotIn("[ OK ]", r.stdout)
        self.assertFalse(harness.port_open(inst.smtp_port))
        self.assertEqual(inst.rc("smtp", "status").returncode, 3)
        self.assertEqual(harness.processes_under(self.prefix), [])
        # By hand the command line is an explicit request: it starts, and says
        # in info.log that the switch is off.
        by_hand = harness.Process([sekisho, "--smtp", "-f", inst.ini],
                                  os.path.join(self.wd.path, "by-hand.out"))
        try:
            harness.wait_for(lambda: harness.port_open(inst.smtp_port) or not by_hand.alive(),
                             20, what="SMTP proxy started by hand")
            self.assertTrue(by_hand.alive(), by_hand.output())
        finally:
            by_hand.stop()
        info = open(os.path.join(self.prefix, "log", "smtp", "info.log")).read()
        self.assertIn("smtp_service=no in %s; started anyway" % inst.ini, info)

        ini_set(inst.ini, "smtp", "smtp_service", "maybe")
        q = subprocess.run([sekisho, "--smtp", "-f", inst.ini, "--service-enabled"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(q.returncode, 2)
        self.assertRegex(q.stderr, r"%s:\d+: invalid value 'maybe' for key 'smtp_service'"
                         % re.escape(inst.ini))
        r = inst.rc("smtp", "start")
        self.assertEqual(r.returncode, 1)
        self.assertIn("[FAILED]", r.stdout)
        self.assertIn("smtp_service", r.stderr)

        ini_set(inst.ini, "smtp", "smtp_service", "yes")
        r = inst.rc("scand", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = inst.rc("smtp", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("[ OK ]", r.stdout)
        harness.wait_for(lambda: harness.port_open(inst.smtp_port), 20, what="SMTP proxy")
        inst.running_pid("smtp")
        # POP follows its switch the same way (on as shipped).
        pop_port = harness.free_port()
        ini_set(inst.ini, "pop", "svcport", "127.0.0.1:%d" % pop_port)
        ini_set(inst.ini, "pop", "pop_service", "no")
        r = inst.rc("pop", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(harness.port_open(pop_port))
        ini_set(inst.ini, "pop", "pop_service", "yes")
        r = inst.rc("pop", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        harness.wait_for(lambda: harness.port_open(pop_port), 20, what="POP proxy")
        inst.running_pid("pop")
        r = inst.rc("pop", "stop")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # FTP follows its switch the same way (on as shipped).
        ftp_port = harness.free_port()
        ini_set(inst.ini, "ftp", "svcport", "127.0.0.1:%d" % ftp_port)
        ini_set(inst.ini, "ftp", "ftp_service", "no")
        r = inst.rc("ftp", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse(harness.port_open(ftp_port))
        ini_set(inst.ini, "ftp", "ftp_service", "yes")
        r = inst.rc("ftp", "start")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        harness.wait_for(lambda: harness.port_open(ftp_port), 20, what="FTP proxy")
        inst.running_pid("ftp")
        r = inst.rc("ftp", "stop")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_two_installations_side_by_side(self):
        """Two prefixes, one with suffix=2: each runs scand, HTTP and SMTP
        from its rc scripts and serves; stopping one leaves the other up."""
        self.sink = harness.SmtpSink(self.wd.path)
        one = Installation(self, os.path.join(self.wd.path, "one"), self.sink.port)
        self.installs.append(one)
        two = Installation(self, os.path.join(self.wd.path, "two"), self.sink.port, suffix="2")
        self.installs.append(two)
        for name in ("sekisho2", "sekisho-scand2", "rc.sekisho2_http", "rc.sekisho2_smtp",
                     "rc.sekisho2_scand"):
            self.assertTrue(os.path.exists(os.path.join(two.prefix, name)), name)
        self.assertFalse(os.path.exists(os.path.join(two.prefix, "rc.sekisho_http")))
        one.start()
        two.start()

        for inst, prog in ((one, "./sekisho "), (two, "./sekisho2 ")):
            for svc in ("http", "smtp"):
                self.assertTrue(harness.process_cmdline(inst.running_pid(svc)).startswith(prog))
            self.assertIn("sekisho-scand%s " % inst.suffix,
                          harness.process_cmdline(inst.running_pid("scand")))
        url = self.nginx.url("clean_23k.bin")
        self.assertEqual(one.get(url), "200")
        self.assertEqual(two.get(url), "200")
        one.mail("via-one")
        two.mail("via-two")
        harness.wait_for(lambda: len(self.sink.messages()) >= 2, 20, what="two mails")
        got = "\n".join(self.sink.messages())
        self.assertIn("Subject: via-one", got)
        self.assertIn("Subject: via-two", got)

        one_pids = harness.processes_under(one.prefix)
        self.assertTrue(one_pids)
        one.stop()
        for svc in ("scand", "http", "smtp"):
            self.assertEqual(one.rc(svc, "status").returncode, 3)
        harness.wait_for(lambda: not harness.processes_under(one.prefix), 20, what="one stopped")
        self.assertFalse(harness.port_open(one.http_port))
        self.assertFalse(harness.port_open(one.smtp_port))

        for svc in ("scand", "http", "smtp"):
            two.running_pid(svc)
        self.assertEqual(two.get(url), "200")
        self.assertEqual(two.get(self.nginx.url("eicar.com")), "403")
        two.mail("via-two-after")
        harness.wait_for(lambda: "Subject: via-two-after" in "\n".join(self.sink.messages()),
                         20, what="mail through two after one stopped")

        two.stop()
        for svc in ("scand", "http", "smtp"):
            self.assertEqual(two.rc(svc, "status").returncode, 3)
        harness.wait_for(lambda: not harness.processes_under(two.prefix), 20, what="two stopped")


if __name__ == "__main__":
    unittest.main()


class TestInstallDefinitionUpdates(unittest.TestCase):
    """Issue 15 in an installed prefix: dbupdate and conf/dbupdate.conf (0600: it may
    hold a proxy password; an administrator's copy is kept), `make show-dbversion`
    (CLI-3), the hourly automatic update: the systemd timer shipped with the package
    and, without systemd, a cron line at a minute drawn at install time; `make
    autoupdate-off/-on/-status` switch and report it."""

    def setUp(self):
        self.wd = harness.Workdir("install-upd")
        self.prefix = os.path.join(self.wd.path, "sekisho")
        self.units = os.path.join(self.wd.path, "systemd")
        self.crond = os.path.join(self.wd.path, "cron.d")

    def tearDown(self):
        self.wd.cleanup()

    def make_prefix(self, *targets):
        return subprocess.run(["make", "-s", "-C", self.prefix] + list(targets) +
                              ["systemdunitdir=" + self.units, "crondir=" + self.crond],
                              capture_output=True, text=True, timeout=120)

    def test_dbupdate_installed_and_scheduled(self):
        r = make_install(self.prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.access(os.path.join(self.prefix, "dbupdate"), os.X_OK))
        conf = os.path.join(self.prefix, "conf", "dbupdate.conf")
        self.assertEqual(os.stat(conf).st_mode & 0o777, 0o600)

        # No systemd here (/run/systemd/system absent): the cron line.
        self.assertFalse(os.path.isdir("/run/systemd/system"))
        cron = os.path.join(self.crond, "sekisho-dbupdate")
        text = open(cron).read()
        m = re.search(r"(?m)^(\d+) \* \* \* \* root cd (\S+) && \./dbupdate --auto "
                      r"-f conf/sekisho\.ini$", text)
        self.assertTrue(m, text)
        self.assertLess(int(m.group(1)), 60)
        self.assertEqual(m.group(2), self.prefix)
        self.assertIn("automatic updates: on (%s)" % cron, self.make_prefix(
            "autoupdate-status").stdout)

        # The units are shipped all the same, valid for systemd.
        svc = os.path.join(self.units, "sekisho-dbupdate.service")
        timer = os.path.join(self.units, "sekisho-dbupdate.timer")
        self.assertIn("ExecStart=%s/dbupdate --auto --delay=0 -f %s/conf/sekisho.ini"
                      % (self.prefix, self.prefix), open(svc).read())
        self.assertIn("OnCalendar=hourly", open(timer).read())
        self.assertIn("RandomizedDelaySec=", open(timer).read())
        v = subprocess.run(["systemd-analyze", "verify", svc, timer], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        cal = subprocess.run(["systemd-analyze", "calendar", "hourly"], capture_output=True,
                             text=True, timeout=30)
        self.assertIn("*-*-* *:00:00", cal.stdout)

        # The command the cron line runs works from the prefix.
        show = self.make_prefix("show-dbversion")
        self.assertEqual(show.returncode, 0, show.stderr)
        self.assertRegex(show.stdout, r"(?m)^sekisho-test\.ndb version=custom signatures=\d+ ")

        off = self.make_prefix("autoupdate-off")
        self.assertEqual(off.returncode, 0, off.stderr)
        self.assertFalse(os.path.exists(cron))
        self.assertIn("automatic updates: off", self.make_prefix("autoupdate-status").stdout)
        on = self.make_prefix("autoupdate-on")
        self.assertEqual(on.returncode, 0, on.stderr)
        self.assertTrue(os.path.exists(cron))

        # Reinstalling keeps the administrator's dbupdate.conf.
        with open(conf, "a") as f:
            f.write("custom_url=file:///nonexistent/mine.ndb\n")
        r = make_install(self.prefix)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("mine.ndb", open(conf).read())

    def test_autoupdate_no(self):
        r = make_install(self.prefix, extra=["autoupdate=no"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.crond, "sekisho-dbupdate")))
        self.assertTrue(os.path.exists(os.path.join(self.units, "sekisho-dbupdate.timer")))


class TestInstallConsole(unittest.TestCase):
    """make install's console options (INST-2): adminport= and lang= go into
    conf/admin.conf on the first install and an administrator's admin.conf is
    kept afterwards; without lang=, ja when LANG starts with ja or the time zone
    is JST, else en; the console then greets a new visitor in that language;
    conf/sekisho.htdigest holds the default account, readable by run_user's
    group only."""

    def setUp(self):
        self.wd = harness.Workdir("install-console")

    def tearDown(self):
        for prefix in getattr(self, "started", []):
            subprocess.run([os.path.join(prefix, "rc.sekisho_admin"), "stop"],
                           capture_output=True, timeout=60)
        self.wd.cleanup()

    def conf(self, prefix):
        with open(os.path.join(prefix, "conf", "admin.conf")) as f:
            text = f.read()
        port = re.findall(r"(?m)^adminport=(\d+)$", text)
        lang = re.findall(r"(?m)^lang=(\w+)$", text)
        return (port[-1] if port else None, lang[-1] if lang else None)

    def install(self, name, extra=(), env=None):
        prefix = os.path.join(self.wd.path, name, "sekisho")
        os.makedirs(os.path.dirname(prefix))
        argv = ["make", "-s", "-C", harness.REPO, "install", "prefix=" + prefix,
                "pamdir=" + os.path.join(self.wd.path, name, "pam.d"),
                "systemdunitdir=" + os.path.join(self.wd.path, name, "systemd"),
                "crondir=" + os.path.join(self.wd.path, name, "cron.d"), "autoupdate=no"]
        argv += list(extra) + (["SAN=1"] if harness.SANITIZED else [])
        e = dict(os.environ, LANG="C.UTF-8", TZ="UTC")
        e.update(env or {})
        r = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=e)
        self.assertEqual(r.returncode, 0, r.stderr)
        return prefix

    def test_adminport_and_lang(self):
        port = harness.free_port()
        p = self.install("given", ["adminport=%d" % port, "lang=ja"])
        self.assertEqual(self.conf(p), (str(port), "ja"))
        st = os.stat(os.path.join(p, "conf", "admin.conf"))
        self.assertEqual(st.st_mode & 0o777, 0o600)
        ht = os.path.join(p, "conf", "sekisho.htdigest")
        with open(ht) as f:
            self.assertEqual(f.read(), "admin:fsigk:7bcff3ad1a9ecdd7cd2f6c1172a074bc\n")
        self.assertEqual(os.stat(ht).st_mode & 0o777, 0o640)
        # A second install keeps the administrator's admin.conf.
        r = make_install(p, extra=["adminport=1", "lang=en", "autoupdate=no"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.conf(p), (str(port), "ja"))
        # The console greets in Japanese.
        self.started = [p]
        r = subprocess.run([os.path.join(p, "rc.sekisho_admin"), "start"], capture_output=True,
                           text=True, timeout=60 * harness.SLOW)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        page = subprocess.run(["curl", "-s", "http://127.0.0.1:%d/" % port],
                              capture_output=True, timeout=30).stdout.decode()
        self.assertIn('<html lang="ja">', page)
        self.assertIn("ログイン", page)

    def test_lang_default(self):
        self.assertEqual(self.conf(self.install("plain"))[1], "en")
        self.assertEqual(self.conf(self.install("ja-lang", env={"LANG": "ja_JP.UTF-8"}))[1], "ja")
        self.assertEqual(self.conf(self.install("jst", env={"TZ": "Asia/Tokyo"}))[1], "ja")
        self.assertEqual(self.conf(self.install("plain2"))[0], "9012")


class TestDiag(unittest.TestCase):
    """`make diag` in an installed prefix (CLI-6 Diagnostics, issue 16): it writes
    diag.tar.gz (0600) with the configuration, the password files by name only, the
    last 10000 lines of every log, the versions, the installation's processes and
    the df of its spool directories. Every password, secret and token put into
    sekisho.ini, dbupdate.conf and admin.conf (also in a commented-out line and in
    the credentials of a proxy URL), the user database and the htdigest file are
    nowhere in the archive's bytes, while the settings support needs (the pass_*
    keys, the proxies' addresses) are there. scand runs, so the process list and
    the definitions in service show it."""

    SECRETS = {
        "ini_proxy": "Or5p@ss:Word",      # orspservice_http_proxy user:password
        "ini_proxy2": "SecondPw9",
        "dbu_pass": "Dbu#Pass:7",         # dbupdate.conf http_proxyauth_pass
        "dbu_old": "OldDbuPw3",           # ... in a commented-out line
        "admin_token": "MetricsTok42",    # admin.conf metrics_token
        "admin_pass": "AdminPw0rd",       # admin.conf, a commented-out *password* key
        "userdb": "UserdbPw55",           # conf/pam/userdb.txt
        "htdigest": "0123456789abcdef0123456789abcdef",  # conf/sekisho.htdigest HA1
    }

    def setUp(self):
        self.wd = harness.Workdir("install-diag")
        self.prefix = os.path.join(self.wd.path, "sekisho")

    def tearDown(self):
        path = os.path.join(self.prefix, "rc.sekisho_scand")
        if os.path.exists(path):
            subprocess.run([path, "stop"], capture_output=True, timeout=400)
        self.wd.cleanup()

    def conf(self, name):
        return os.path.join(self.prefix, "conf", name)

    def append(self, name, text):
        with open(self.conf(name), "a") as f:
            f.write(text)

    def diag(self):
        return subprocess.run(["make", "-s", "-C", self.prefix, "diag"], capture_output=True,
                              text=True, timeout=300)

    def members(self, archive):
        """name -> bytes of every regular file in the archive."""
        out = {}
        with tarfile.open(archive, "r:gz") as t:
            for m in t.getmembers():
                self.assertFalse(m.issym() or m.islnk(), m.name)
                if m.isfile():
                    out[m.name] = t.extractfile(m).read()
        return out

    def test_diag_archive(self):
        s = self.SECRETS
        r = make_install(self.prefix, extra=["autoupdate=no"])
        self.assertEqual(r.returncode, 0, r.stderr)
        ini = self.conf("sekisho.ini")
        ini_set(ini, "common", "orspservice_http_proxy",
                "http://diaguser:%s@proxy.example:8080, bob:%s@[::1]:3128"
                % (s["ini_proxy"], s["ini_proxy2"]))
        ini_set(ini, "http", "pass_ext_list", "diagext1;diagext2")
        with open(self.conf("dbupdate.conf")) as f:
            text = f.read()
        with open(self.conf("dbupdate.conf"), "w") as f:
            f.write(re.sub(r"(?m)^use_proxy=no$", "use_proxy=yes", text))
        self.append("dbupdate.conf", "http_proxy_host=dbuproxy.example\n"
                    "http_proxyauth=yes\nhttp_proxyauth_user=dbuuser\n"
                    "http_proxyauth_pass = %s\r\n# http_proxyauth_pass=%s\n"
                    % (s["dbu_pass"], s["dbu_old"]))
        with open(self.conf("admin.conf"), "w") as f:
            f.write("adminport=9012\nmetrics_token=%s\n#old_password=%s\n"
                    % (s["admin_token"], s["admin_pass"]))
        with open(self.conf("pam/userdb.txt"), "w") as f:
            f.write("alice\n%s\n" % s["userdb"])
        with open(self.conf("sekisho.htdigest"), "w") as f:
            f.write("admin:fsigk:%s\n" % s["htdigest"])
        # A log longer than what is kept, and one without a final newline.
        os.makedirs(os.path.join(self.prefix, "log", "smtp"), exist_ok=True)
        with open(os.path.join(self.prefix, "log", "smtp", "info.log"), "w") as f:
            for i in range(12000):
                f.write("1327996843.%03d line %d\n" % (i % 1000, i))
        with open(os.path.join(self.prefix, "log", "smtp", "error.log"), "w") as f:
            f.write("1327996843.000 only line")

        r = subprocess.run([os.path.join(self.prefix, "rc.sekisho_scand"), "start"],
                           capture_output=True, text=True, timeout=400)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        scand_pids = [p for p in harness.processes_under(self.prefix)
                      if "sekisho-scand" in harness.process_cmdline(p)]
        self.assertTrue(scand_pids)

        r = self.diag()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        archive = os.path.join(self.prefix, "diag.tar.gz")
        self.assertIn("diag.tar.gz written", r.stdout)
        self.assertEqual(os.stat(archive).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(os.path.join(self.prefix, "run", "diag.tmp")))
        files = self.members(archive)
        for name in ("conf/sekisho.ini", "conf/admin.conf", "conf/hosts.allow",
                     "conf/dbupdate.conf", "conf/template_http.html", "conf/template_smtp.txt",
                     "conf/spam/custom.txt", "conf/spam/files.txt", "secrets.txt", "files.txt",
                     "versions.txt", "processes.txt", "df.txt", "log/smtp/info.log",
                     "log/smtp/error.log", "log/scand.log"):
            self.assertIn("diag/" + name, files)
        for name in files:
            self.assertNotRegex(name, r"userdb|htdigest")

        # No secret anywhere, in any form the archive holds.
        for what, secret in s.items():
            found = [name for name, data in files.items() if secret.encode() in data]
            self.assertEqual(found, [], "the %s secret is in the archive" % what)
        # What replaced them, and what stays.
        got = {k[len("diag/"):]: v.decode("utf-8", "replace") for k, v in files.items()}
        self.assertIn("orspservice_http_proxy=http://(removed)@proxy.example:8080,"
                      " (removed)@[::1]:3128", got["conf/sekisho.ini"])
        self.assertIn("pass_ext_list=diagext1;diagext2", got["conf/sekisho.ini"])
        self.assertIn("http_proxyauth_pass = (removed)\r\n", got["conf/dbupdate.conf"])
        self.assertIn("# http_proxyauth_pass=(removed)\n", got["conf/dbupdate.conf"])
        self.assertIn("http_proxyauth_user=dbuuser\n", got["conf/dbupdate.conf"])
        self.assertIn("\nuse_proxy=yes\n", got["conf/dbupdate.conf"])
        self.assertIn("http_proxy_host=dbuproxy.example\n", got["conf/dbupdate.conf"])
        self.assertEqual(got["conf/admin.conf"],
                         "adminport=9012\nmetrics_token=(removed)\n#old_password=(removed)\n")
        # Files other than the secret-bearing ones are copied as they are.
        with open(self.conf("template_http.html")) as f:
            self.assertEqual(got["conf/template_http.html"], f.read())
        self.assertIn("conf/pam/userdb.txt: present (not included)", got["secrets.txt"])
        self.assertIn("conf/pam/userdb.db: present (not included)", got["secrets.txt"])
        self.assertIn("conf/sekisho.htdigest: present (not included)", got["secrets.txt"])

        info = got["log/smtp/info.log"].splitlines()
        self.assertEqual(len(info), 10000)
        self.assertEqual(info[0], "1327996843.000 line 2000")
        self.assertEqual(info[-1], "1327996843.999 line 11999")
        self.assertEqual(got["log/smtp/error.log"], "1327996843.000 only line")

        self.assertRegex(got["versions.txt"], r"(?m)^sekisho \d+\.\d+\.\d+$")
        self.assertRegex(got["versions.txt"], r"(?m)^sekisho-test\.ndb version=custom ")
        self.assertRegex(got["versions.txt"], r"(?m)^engine: libclamav \d")
        self.assertIn("Linux", got["versions.txt"])
        self.assertIn("ID=debian", got["versions.txt"])
        for pid in scand_pids:
            self.assertRegex(got["processes.txt"], r"(?m)^\S+ +%d .*sekisho-scand" % pid)
        self.assertNotIn("make", got["processes.txt"])
        spool = os.path.join(os.path.realpath(self.prefix), "tmp", "spool")
        self.assertIn("== tmpdir=%s" % spool, got["df.txt"])
        self.assertIn("== quarantine_dir=", got["df.txt"])
        self.assertIn("Filesystem", got["df.txt"])

        # Without scand the archive is made all the same and says so.
        r = subprocess.run([os.path.join(self.prefix, "rc.sekisho_scand"), "stop"],
                           capture_output=True, text=True, timeout=400)
        self.assertEqual(r.returncode, 0)
        r = self.diag()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        got = {k[len("diag/"):]: v.decode("utf-8", "replace")
               for k, v in self.members(archive).items()}
        self.assertIn("(none running)", got["processes.txt"])
        self.assertIn("Cannot connect to sekisho-scand", got["versions.txt"])
