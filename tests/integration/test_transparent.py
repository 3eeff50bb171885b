"""Transparent mode (TP-1, 003:1169-1191, 003:4771-4960): with
transparent=yes, a connection that a NAT rule brought to the proxy's port
goes to the server the client was going to (netfilter's original
destination), whatever the parent server settings say; a connection that
came to the port directly is served as in proxy mode.

The rules are real netfilter rules in the nat table's OUTPUT chain (the
guide's PREROUTING rules act on traffic from other hosts only, and all test
traffic stays on loopback). They match only packets from CLIENT, an address
no other test uses, so the gateway's own connections to the servers (from
127.0.0.1) are never redirected, and nothing of a test running beside this
one is touched. Every rule carries TAG and is removed after its test, and
all of them again when the module ends.
"""
import os
import poplib
import re
import shutil
import smtplib
import socket
import subprocess
import threading
import unittest
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import dovecot as dv
from harness import ftp_files
from harness import mail_fixtures as mf
from harness import testfiles
from harness import vsftpd as vs
from harness.ftp_proxy import RawFtp
from harness.ftp_proxy import curl as curl_args

ENV = {}
CLIENT = "127.0.0.77"  # the redirected clients' address (no other test uses it)
FTP_GW_ADDR = "127.0.0.3"  # where the FTP gateway listens (see TestFtp)
TAG = "transparent-test-%d" % os.getpid()  # not sekisho-*: rc.transparent's rules
IPTABLES = shutil.which("iptables")
IP6TABLES = shutil.which("ip6tables")
TIMEOUT = 30 * harness.SLOW


def iptables(*args, check=True, tool=None):
    return subprocess.run([tool or IPTABLES, "-w", "10", "-t", "nat"] + list(args),
                          capture_output=True, text=True, timeout=30, check=check)


def remove_tagged_rules():
    """Every OUTPUT rule of this module's run, whatever a test left."""
    for tool in (IPTABLES, IP6TABLES):
        rules = iptables("-S", "OUTPUT", tool=tool).stdout.splitlines()
        for rule in rules:
            if TAG in rule and rule.startswith("-A OUTPUT "):
                iptables("-D", *rule.split()[1:], check=False, tool=tool)


class Redirect:
    """A NAT rule in OUTPUT for the life of a test: CLIENT's TCP
    connections to 127.0.0.1:dport go to the gateway instead, REDIRECT to
    127.0.0.1:to_port (what the guide's rules do), or with to_addr, DNAT
    to to_addr:to_port."""

    def __init__(self, test, dport, to_port, to_addr=None):
        target = (["-j", "DNAT", "--to-destination", "%s:%d" % (to_addr, to_port)] if to_addr
                  else ["-j", "REDIRECT", "--to-ports", str(to_port)])
        self.spec = ["OUTPUT", "-p", "tcp", "-s", CLIENT, "-d", "127.0.0.1", "--dport",
                     str(dport), "-m", "comment", "--comment", TAG] + target
        iptables("-A", *self.spec)
        test.addCleanup(lambda: iptables("-D", *self.spec, check=False))


def setUpModule():
    if not IPTABLES or not IP6TABLES:
        raise AssertionError("transparent mode needs iptables (dev/install-deps.sh test)")
    remove_tagged_rules()
    harness.serve_test_files(ENV, "transparent")
    wd = ENV["wd"].path
    ENV["auth"] = AuthServer()
    ENV["sink"] = harness.SmtpSink(wd)
    ENV["sink6"] = harness.SmtpSink(wd, host="::1", subdir="sink6")
    ENV["dovecot"] = dv.Dovecot(wd, "pop")
    ENV["dovecot"].set_mailbox("alice", [mf.FIXTURES["clean_text"], mf.FIXTURES["eicar"]])
    ftp_root = os.path.join(wd, "ftp-root")
    ftp_files.generate(ftp_root, ["clean_1k.bin", "eicar.com"])
    ENV["vsftpd"] = vs.Vsftpd(wd, ftp_root, name="vsftpd", banner="server a")


def tearDownModule():
    if IPTABLES and IP6TABLES:
        remove_tagged_rules()
    for key in ("vsftpd", "dovecot", "sink", "sink6", "auth"):
        if key in ENV:
            ENV[key].stop()
    harness.stop_all(ENV)


class AuthHandler(BaseHTTPRequestHandler):
    """A web server asking for NTLM (HTTP-8's Proxy-Support case)."""

    def do_GET(self):
        body = b"authenticate\n"
        self.send_response(401)
        self.send_header("WWW-Authenticate", "NTLM")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class AuthServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), AuthHandler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


def dead_port():
    """A loopback port nothing listens on (a parent server that is down)."""
    return harness.free_port()


def gateway(test_cls, service, section, listen=None, hosts_allow=""):
    wd = os.path.join(ENV["wd"].path, test_cls.__name__)
    os.makedirs(wd, exist_ok=True)
    gw = harness.Gateway(wd, ENV["scand"].socket, service=service, section=section,
                         common={"hostname": "gw.test"}, hosts_allow=hosts_allow, start=False)
    if listen:
        gw.section["svcport"] = ("[%s]:%d" if ":" in listen else "%s:%d") % (listen, gw.port)
        gw.listen_host = listen
        gw.write_ini()
    gw.start()
    return gw


def curl(*args):
    """curl -sS args: (returncode, stdout bytes, stderr text), bounded."""
    return curl_args(args, timeout=30)


# ---- HTTP -------------------------------------------------------------------------

class TestHttp(unittest.TestCase):
    """[http] transparent=yes with a parent server that is down: a
    redirected client's requests reach the web server it was going to."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "http", {"transparent": "yes",
                                       "parent_server_host": "127.0.0.1",
                                       "parent_server_port": str(dead_port())})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def origin(self, path):
        return "http://127.0.0.1:%d/%s" % (ENV["nginx"].port, path)

    def test_clean_download_goes_to_the_original_destination(self):
        Redirect(self, ENV["nginx"].port, self.gw.port)
        code, body, err = curl("--interface", CLIENT, self.origin("clean_23k.bin"))
        self.assertEqual(code, 0, err)
        with open(ENV["files"]["clean_23k.bin"], "rb") as f:
            self.assertEqual(body, f.read())
        # The gateway served it (its access log), from the original
        # destination: the parent is down.
        line = self.gw.wait_log("access", re.escape(self.origin("clean_23k.bin")))[0]
        self.assertIn(" %s TCP_MISS/200 " % CLIENT, line)
        self.assertIn(" DIRECT/127.0.0.1 ", line)

    def test_eicar_is_replaced_by_the_detection_page(self):
        Redirect(self, ENV["nginx"].port, self.gw.port)
        code, body, err = curl("--interface", CLIENT, self.origin("eicar.com"))
        self.assertEqual(code, 0, err)
        self.assertNotIn(testfiles.EICAR, body)
        self.gw.wait_log("detect", re.escape(self.origin("eicar.com")))

    def test_the_host_header_names_the_site_the_address_is_the_clients(self):
        # A name that resolves nowhere: the request still reaches the server
        # the client's packets were for, and is logged with the client's Host.
        Redirect(self, ENV["nginx"].port, self.gw.port)
        code, body, err = curl("--interface", CLIENT, "-H", "Host: www.example.invalid",
                               self.origin("clean_23k.bin"))
        self.assertEqual(code, 0, err)
        with open(ENV["files"]["clean_23k.bin"], "rb") as f:
            self.assertEqual(body, f.read())
        self.gw.wait_log("access", re.escape("http://www.example.invalid/clean_23k.bin"))

    def test_no_proxy_support_header(self):
        # HTTP-8: the client does not know there is a proxy; a server's
        # WWW-Authenticate is not answered with Proxy-Support (RFC 4559).
        Redirect(self, ENV["auth"].port, self.gw.port)
        code, head, err = curl("--interface", CLIENT, "-o", "/dev/null", "-D", "-",
                               "http://127.0.0.1:%d/ntlm" % ENV["auth"].port)
        self.assertEqual(code, 0, err)
        self.assertTrue(head.startswith(b"HTTP/1.0 401 "), head)
        self.assertIn(b"WWW-Authenticate: NTLM", head)
        self.assertNotIn(b"Proxy-Support", head)

    def test_a_direct_connection_is_not_redirected(self):
        # Nothing redirected it: no destination to take the origin-form
        # request to, and the parent is ignored in transparent mode.
        code, body, err = curl("-o", "/dev/null", "-w", "%{http_code}",
                               "http://127.0.0.1:%d/clean_23k.bin" % self.gw.port)
        self.assertEqual(body, b"400", err)
        self.gw.wait_log("info", r"transparent: the connection was not redirected")


class TestHttpAclTo(unittest.TestCase):
    """HTTP-6 in transparent mode: acl_to is matched against the address
    the client was going to, not against the Host it names."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "http", {"transparent": "yes", "acl_to": "yes"},
                         hosts_allow="http_to: 127.0.0.2 .allowed.example\n")

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def test_an_allowed_host_name_does_not_open_another_address(self):
        Redirect(self, ENV["nginx"].port, self.gw.port)
        code, body, err = curl("--interface", CLIENT, "-H", "Host: www.allowed.example",
                               "http://127.0.0.1:%d/clean_23k.bin" % ENV["nginx"].port)
        self.assertEqual(code, 0, err)
        self.assertIn(b"Access Inhibited by Proxy", body)
        with open(ENV["files"]["clean_23k.bin"], "rb") as f:
            self.assertNotIn(f.read(64), body)  # nothing of the file came through
        self.gw.wait_log("info", r"Access Denied to \[127\.0\.0\.1:127\.0\.0\.1\]")


class TestHttpProxyModeBeside(unittest.TestCase):
    """transparent=yes, no parent: a client configured to use the proxy
    (not redirected) is served as in proxy mode."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "http", {"transparent": "yes"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def test_absolute_form_request_served(self):
        url = ENV["nginx"].url("clean_23k.bin")
        code, body, err = curl("-x", self.gw.proxy, url)
        self.assertEqual(code, 0, err)
        with open(ENV["files"]["clean_23k.bin"], "rb") as f:
            self.assertEqual(body, f.read())
        self.gw.wait_log("access", re.escape(url))


class TestHttpTransparentOff(unittest.TestCase):
    """The default, transparent=no: the same redirected request is refused
    (the proxy knows no destination for an origin-form request)."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "http", {})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def test_redirected_request_refused(self):
        Redirect(self, ENV["nginx"].port, self.gw.port)
        code, body, err = curl("--interface", CLIENT, "-o", "/dev/null", "-w", "%{http_code}",
                               "http://127.0.0.1:%d/clean_23k.bin" % ENV["nginx"].port)
        self.assertEqual(body, b"400", err)

    def test_proxy_support_header_in_proxy_mode(self):
        # The contrast of TestHttp.test_no_proxy_support_header.
        code, head, err = curl("-x", self.gw.proxy, "-o", "/dev/null", "-D", "-",
                               "http://127.0.0.1:%d/ntlm" % ENV["auth"].port)
        self.assertEqual(code, 0, err)
        self.assertIn(b"Proxy-Support: Session-Based-Authentication", head)


# ---- SMTP -------------------------------------------------------------------------

def mail(subject, attachment=None):
    m = EmailMessage()
    m["From"] = "alice@example.test"
    m["To"] = "bob@example.test"
    m["Subject"] = subject
    m.set_content("Hello Bob,\n")
    if attachment:
        m.add_attachment(attachment, maintype="application", subtype="octet-stream",
                         filename="a.com")
    return m


class SmtpCase(unittest.TestCase):
    TRANSPARENT = "yes"

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "smtp", {"transparent": cls.TRANSPARENT, "virus_check": "yes",
                                       "parent_server_host": "127.0.0.1",
                                       "parent_server_port": str(dead_port())})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def connect(self):
        Redirect(self, ENV["sink"].port, self.gw.port)
        return smtplib.SMTP("127.0.0.1", ENV["sink"].port, timeout=TIMEOUT,
                            source_address=(CLIENT, 0))


class TestSmtp(SmtpCase):
    """[smtp] transparent=yes, the parent down: mail goes to the server the
    client was going to."""

    def test_clean_mail_reaches_the_original_destination(self):
        before = len(ENV["sink"].messages())
        subject = "transparent clean %d" % os.getpid()
        with self.connect() as s:
            s.send_message(mail(subject))
        harness.wait_for(lambda: len(ENV["sink"].messages()) > before, 10 * harness.SLOW,
                         what="the mail at smtp-sink")
        self.assertTrue(any(subject in m for m in ENV["sink"].messages()))
        # SMTP-14's info line names the server the mail went to.
        self.gw.wait_log("info", r"From: %s:\d+\(alice@example\.test\) To: 127\.0\.0\.1:%d\("
                         % (re.escape(CLIENT), ENV["sink"].port))

    def test_infected_mail_is_not_delivered(self):
        subject = "transparent eicar %d" % os.getpid()
        with self.connect() as s:
            with self.assertRaises(smtplib.SMTPDataError) as cm:
                s.send_message(mail(subject, testfiles.EICAR))
        self.assertGreaterEqual(cm.exception.smtp_code, 500)
        self.gw.wait_log("detect", r"mail:")
        self.assertFalse(any(subject in m for m in ENV["sink"].messages()))


class TestSmtpTransparentOff(SmtpCase):
    """transparent=no: the same redirected client gets the parent, which is
    down (SMTP-3's 421)."""
    TRANSPARENT = "no"

    def test_parent_used(self):
        with self.assertRaises(smtplib.SMTPConnectError) as cm:
            self.connect()
        self.assertEqual(cm.exception.smtp_code, 421)


class TestSmtpIpv6(unittest.TestCase):
    """IPv6 (IP6T_SO_ORIGINAL_DST): a client on ::1 redirected to the
    gateway on ::1. ::1 is the only IPv6 loopback address, so the rule
    matches the tests' own user (root) instead of a source address: the
    gateway's workers run as run_user and are never redirected."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "smtp", {"transparent": "yes", "virus_check": "yes",
                                       "parent_server_host": "127.0.0.1",
                                       "parent_server_port": str(dead_port())},
                         listen="::1")

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def test_clean_mail_reaches_the_original_destination(self):
        sink = ENV["sink6"]
        spec = ["OUTPUT", "-p", "tcp", "-d", "::1", "--dport", str(sink.port), "-m", "owner",
                "--uid-owner", str(os.geteuid()), "-m", "comment", "--comment", TAG,
                "-j", "REDIRECT", "--to-ports", str(self.gw.port)]
        iptables("-A", *spec, tool=IP6TABLES)
        self.addCleanup(lambda: iptables("-D", *spec, check=False, tool=IP6TABLES))
        subject = "transparent ipv6 %d" % os.getpid()
        with smtplib.SMTP("::1", sink.port, timeout=TIMEOUT) as s:
            s.send_message(mail(subject))
        harness.wait_for(lambda: any(subject in m for m in sink.messages()), 10 * harness.SLOW,
                         what="the mail at the IPv6 smtp-sink")
        self.gw.wait_log("info", r"From: ::1:\d+\(alice@example\.test\) To: ::1:%d\("
                         % sink.port)


# ---- POP --------------------------------------------------------------------------

class FromClient(poplib.POP3):
    """poplib from CLIENT's address (it has no source_address)."""

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(CLIENT, 0))


class TestPop(unittest.TestCase):
    """[pop] transparent=yes with self_proxy=yes and no parent: in proxy
    mode a plain USER name is refused (user@host needed); redirected, the
    server is the one the client was going to and USER goes as it is."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "pop", {"transparent": "yes", "self_proxy": "yes",
                                      "virus_check": "yes", "action": "delete"})

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def test_mail_retrieved_from_the_original_destination(self):
        Redirect(self, ENV["dovecot"].port, self.gw.port)
        p = FromClient("127.0.0.1", ENV["dovecot"].port, timeout=TIMEOUT)
        try:
            self.assertIn(b"sekisho-test pop ready", p.getwelcome())
            p.user("alice")
            p.pass_(dv.DEFAULT_USERS["alice"])
            _, lines, _ = p.retr(1)
            self.assertIn(b"this mail is clean.", b"\r\n".join(lines))
            _, lines, _ = p.retr(2)
            self.assertNotIn(testfiles.EICAR, b"\r\n".join(lines))
        finally:
            p.quit()
        self.assertIn("alice", dv.wait_for_logins(ENV["dovecot"], 1))
        self.gw.wait_log("detect", r"")

    def test_direct_connection_is_proxy_mode(self):
        p = poplib.POP3("127.0.0.1", self.gw.port, timeout=TIMEOUT)
        try:
            self.assertNotIn(b"sekisho-test pop ready", p.getwelcome())
            with self.assertRaises(poplib.error_proto) as cm:
                p.user("alice")
            self.assertIn(b"USER format is USER username@hostname", cm.exception.args[0])
        finally:
            p.quit()


# ---- FTP --------------------------------------------------------------------------

class TestFtp(unittest.TestCase):
    """[ftp] transparent=yes with self_proxy=yes and no parent. The rule is
    a DNAT to the gateway on FTP_GW_ADDR, so that the address the client
    was going to (127.0.0.1) is not the gateway's: an EPSV reply would send
    the client's data connection to the server, where no rule brings it to
    the gateway, so EPSV is refused and PASV names the gateway (003:4937)."""

    @classmethod
    def setUpClass(cls):
        cls.gw = gateway(cls, "ftp", {"transparent": "yes", "self_proxy": "yes",
                                      "virus_check": "yes", "action": "delete"},
                         listen=FTP_GW_ADDR)

    @classmethod
    def tearDownClass(cls):
        cls.gw.stop()

    def redirect(self):
        Redirect(self, ENV["vsftpd"].port, self.gw.port, to_addr=FTP_GW_ADDR)

    def url(self, name):
        return "ftp://127.0.0.1:%d/%s" % (ENV["vsftpd"].port, name)

    def test_the_servers_greeting_at_once_epsv_refused_pasv_is_the_gateway(self):
        self.redirect()
        c = RawFtp(ENV["vsftpd"].port, host="127.0.0.1", source=CLIENT, greet=False)
        try:
            greeting = c.reply()
            self.assertTrue(greeting[-1].startswith("220"), greeting)
            self.assertIn("server a", " ".join(greeting))
            c.login()
            r = c.cmd("EPSV")
            self.assertEqual(r, ["502 EPSV is not available through the transparent proxy: "
                                 "use PASV."])
            host, _ = c.pasv()
            self.assertEqual(host, FTP_GW_ADDR)
        finally:
            c.close()

    def test_download_through_the_gateway(self):
        self.redirect()
        # curl tries EPSV, takes the 502, and uses PASV's address.
        code, body, err = curl("-v", "--interface", CLIENT, "--no-ftp-skip-pasv-ip",
                               self.url("clean_1k.bin"))
        self.assertEqual(code, 0, err)
        self.assertEqual(body, ftp_files.content("clean_1k.bin"))
        self.assertIn("< 502 EPSV is not available", err)
        self.assertIn("> PASV", err)
        self.gw.wait_log("access", re.escape("clean_1k.bin"))

    def test_infected_download_refused(self):
        self.redirect()
        code, body, err = curl("--interface", CLIENT, "--no-ftp-skip-pasv-ip",
                               self.url("eicar.com"))
        self.assertNotEqual(code, 0)
        self.assertNotIn(testfiles.EICAR, body)
        self.gw.wait_log("detect", re.escape("eicar.com"))


if __name__ == "__main__":
    unittest.main()
