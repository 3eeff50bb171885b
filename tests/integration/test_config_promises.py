"""A setting is a promise (issue 9 point 1): a key the code does not act on
is refused when it is set to anything but its default, at start (exit
status 1, "file:line: key: not supported by this version" on stderr) and on
SIGHUP (the error log says so and the running configuration is kept).

One test per key that src/core/config_keys.def marks NOT_BUILT, and one per
group a partly built key is refused in; the table is read from the .def
file so that a key marked not built later is covered without editing this
file."""
import os
import re
import signal
import subprocess
import unittest

import harness

ENV = {}
ROW = re.compile(r"^CONFIG_KEY\((\w+), ([^,]+), (\w+), (\w+), ([^,]+(?:\([^)]*\))?), "
                 r"(D\(\"[^\"]*\"\)|PER_SVC\([^)]*\))", re.M)


def table():
    with open(os.path.join(harness.REPO, "src/core/config_keys.def")) as f:
        text = f.read()
    rows = []
    for m in ROW.finditer(text):
        name, sections, built, typ, arg, default = m.groups()
        d = re.findall(r'"([^"]*)"', default)
        rows.append({"name": name, "sections": sections, "built": built, "type": typ,
                     "arg": arg, "default": d[0] if d else ""})
    return rows


# A valid value other than the default, by key (special cases) or by type.
SPECIAL = {
    "spam_action": "change_subject",
    "spam_change_subject_prefix": "[S]",
    "spam_rbl_list": "bl.example.net",
    "spam_surbl_list": "multi.example.net",
    "UPDATEURL": "http://db.example.net/",
    "orspservice_http_proxy": "http://proxy.example.net:8080",
    "transparent_tproxy_version": "1",
    "pbs_lifetime": "11",
}


def other_value(row):
    if row["name"] in SPECIAL:
        return SPECIAL[row["name"]]
    if row["type"] == "BOOL":
        return "no" if row["default"] == "yes" else "yes"
    if row["type"] in ("STRING", "LIST"):
        return "ALL"
    raise AssertionError("no test value for %s (%s)" % (row["name"], row["type"]))


def group_of(row):
    """The group a not-built key is set in, and the service started."""
    s = row["sections"]
    for flag, group in (("HTTP", "http"), ("SERVICES", "http"), ("ALL", "http"),
                        ("SMTP", "smtp"), ("MAIL", "smtp"),
                        ("POP", "pop"), ("FTP", "ftp")):
        if flag in s:
            return group, ("smtp" if group == "smtp" else "http")
    return "common", "http"


def setUpModule():
    harness.serve_test_files(ENV, "promises")
    ENV["gw"] = harness.Gateway(os.path.join(ENV["wd"].path, "reload"), ENV["scand"].socket)
    with open(ENV["gw"].ini) as f:
        ENV["good_ini"] = f.read()


def tearDownModule():
    if "gw" in ENV:
        ENV["gw"].stop()
    harness.stop_all(ENV)


def fetch_status(proxy, url):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-x", proxy,
                          "--max-time", str(20 * harness.SLOW), url],
                         capture_output=True, text=True, timeout=60 * harness.SLOW)
    return out.stdout


def with_line(ini_text, group, line):
    """ini_text with line added at the end of [group] (the group is
    appended when missing); returns the text and the 1-based line number."""
    lines = ini_text.rstrip("\n").split("\n")
    header = "[%s]" % group
    if header not in lines:
        lines.append(header)
        at = len(lines)
    else:
        at = lines.index(header) + 1
        while at < len(lines) and not lines[at].startswith("["):
            at += 1
    lines.insert(at, line)
    return "\n".join(lines) + "\n", at + 1


class PromiseCase(unittest.TestCase):
    def refused_at_start(self, group, service, key, value):
        wd = os.path.join(ENV["wd"].path, "start-%s-%s" % (group, key))
        gw = harness.Gateway(wd, ENV["scand"].socket, service=service, start=False)
        text, line = with_line(open(gw.ini).read(), group, "%s=%s" % (key, value))
        gw.write_ini(text)
        out = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--" + service, "-f", gw.ini],
                             capture_output=True, text=True, timeout=30 * harness.SLOW)
        self.assertEqual(out.returncode, 1, out.stderr)
        expect = "%s:%d: %s: not supported by this version" % (gw.ini, line, key)
        self.assertIn(expect, out.stderr)
        self.assertIn("configuration refused, not starting", out.stderr)
        self.assertFalse(harness.port_open(gw.port))
        # Its default is accepted: the refusal is about the promise, not the key.
        return expect

    def refused_on_sighup(self, group, key, value):
        gw = ENV["gw"]
        text, line = with_line(ENV["good_ini"], group, "%s=%s" % (key, value))
        pattern = re.compile(r"main:reload: %s:%d: %s: not supported by this version"
                             % (re.escape(gw.ini), line, re.escape(key)))
        before = len([l for l in gw.log_lines("error") if "refused; keeping" in l])
        workers = sorted(gw.worker_pids())
        try:
            gw.write_ini(text)
            gw.proc.send(signal.SIGHUP)
            harness.wait_for(lambda: len([l for l in gw.log_lines("error")
                                          if "refused; keeping" in l]) > before, 10,
                             what="reload refused")
            self.assertTrue([l for l in gw.log_lines("error") if pattern.search(l)],
                            "no error line for %s" % key)
            # The old configuration goes on: same workers, EICAR still blocked.
            self.assertEqual(sorted(gw.worker_pids()), workers)
            self.assertEqual(fetch_status(gw.proxy, ENV["nginx"].url("eicar.com")), "403")
        finally:
            gw.write_ini(ENV["good_ini"])


class NotBuiltKeys(PromiseCase):
    """The generated tests below: each NOT_BUILT key at start and on SIGHUP."""


def add_key_tests():
    for row in table():
        if row["built"] != "NOT_BUILT":
            continue
        group, service = group_of(row)
        value = other_value(row)

        def start(self, row=row, group=group, service=service, value=value):
            self.refused_at_start(group, service, row["name"], value)

        def hup(self, row=row, group=group, value=value):
            self.refused_on_sighup(group, row["name"], value)

        setattr(NotBuiltKeys, "test_%s_refused_at_start" % row["name"], start)
        setattr(NotBuiltKeys, "test_%s_refused_on_sighup" % row["name"], hup)


add_key_tests()


class PartlyBuilt(PromiseCase):
    """Keys acted on in some groups only: refused in the others."""

    CASES = [  # group, service started, key, value, groups where it acts
        ("ftp", "http", "scan_error_action", "pass", "[http]"),
        ("pop", "smtp", "scan_error_action", "pass", "[http]"),
        ("common", "smtp", "scan_error_action", "pass", "[http]"),
        ("smtp", "smtp", "scan_error_action", "pass", "[http]"),
    ]

    def test_refused_where_not_acted_on(self):
        for group, service, key, value, where in self.CASES:
            with self.subTest(group=group, key=key):
                wd = os.path.join(ENV["wd"].path, "partly-%s-%s" % (group, key))
                gw = harness.Gateway(wd, ENV["scand"].socket, service=service, start=False)
                text, line = with_line(open(gw.ini).read(), group, "%s=%s" % (key, value))
                gw.write_ini(text)
                out = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--" + service,
                                      "-f", gw.ini], capture_output=True, text=True,
                                     timeout=30 * harness.SLOW)
                self.assertEqual(out.returncode, 1, out.stderr)
                self.assertIn("%s:%d: %s: not supported by this version in [%s] (only in %s)"
                              % (gw.ini, line, key, group, where), out.stderr)

    def test_defaults_of_not_built_keys_are_accepted(self):
        wd = os.path.join(ENV["wd"].path, "defaults")
        gw = harness.Gateway(wd, ENV["scand"].socket, service="smtp", start=False)
        text = open(gw.ini).read()
        for group, line in (("smtp", "proxymail_auth=no"), ("smtp", "pbs_lifetime=10"),
                            ("common", "spam_rbl=No"), ("pop", "pop_service=no"),
                            ("ftp", "svcport=9021")):
            text, _ = with_line(text, group, line)
        gw.write_ini(text)
        try:
            gw.start()
            self.assertTrue(harness.port_open(gw.port))
        finally:
            gw.stop()


if __name__ == "__main__":
    unittest.main()
