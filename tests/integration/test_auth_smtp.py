"""SMTP authentication at the proxy and POP-before-SMTP (issue 13), end to end:
a raw SMTP client (and swaks) in front of the gateway, a scripted parent that
records every line it gets (harness/smtp_parent.py), real PAM through
pam_wrapper with our module and a user database built by create_userdb
(harness/pam.py), a real dovecot behind the POP proxy for POP-before-SMTP,
and fail2ban's stock postfix[mode=auth] filter reading the auth log.

Covered (spec/behaviour.md; responses.tsv rows in brackets):
- SMTP-8, G-21, SMTP-5 [row 77]: EHLO offers "AUTH PLAIN LOGIN" in place of
  the parent's AUTH lines; PLAIN with and without initial response; LOGIN
  with its two prompts exactly, and with the user name as initial response;
  "*" cancels (501); non-canonical base64 (501); wrong password and unknown
  user [row 37]; an authzid other than the authcid; other mechanisms [row
  38]; success [row 36]; a second AUTH (503); swaks as a real client.
- SMTP-4 [row 30]: before AUTH every command but HELO/EHLO/AUTH/QUIT/RSET
  gets "500 Authentication Required" and nothing reaches the parent; after
  235 the mail is relayed to an outside domain and the access log's user
  field is the user (SMTP-8).
- the error budget (issue 13 item 3): three failures in a session end it
  with 421; one auth log line per failure, each matched by fail2ban's
  postfix[mode=auth] with the client's address; five failures from one
  address (workers=1) refuse even the right password, reason "too many
  failures from this address", while another address is served.
- PAM unavailable (service file or database missing): "454 4.7.0
  Temporary authentication failure", never 235.
- AUTH-5 [row 39]: with proxymail_auth=no the parent's AUTH goes through
  (its EHLO AUTH line, 334 and 235 relayed, nothing checked here).
- AUTH-7, AUTH-4, POP-6, G-07: a POP login through the POP proxy (shared
  tmpdir) lets its address relay through the SMTP proxy; a refused login
  records nothing; another address is still refused; a restart of the SMTP
  service empties the store; a record older (or newer) than pbs_lifetime
  no longer counts (records aged with mdb_load, no waiting); pbs=no ignores
  the store; with pbs and proxymail_auth either suffices (AUTH-4).
- SMTP-7 2, AUTH-4 [row 34]: acl_rcpt=yes with proxymail_auth=yes: the
  smtp_rcpt domains without authentication, other domains "550 Relaying
  denied." until AUTH, then relayed.

Every class runs workers=1, so the per-worker failure limit and cache of
proxy_auth are the ones the test counts on; tests that fail logins connect
from their own loopback address so that their failures are theirs."""
import base64
import os
import re
import subprocess
import tempfile
import time
import unittest

import harness
from harness import dovecot as dv
from harness import pam
from harness import smtp_parent
from harness.pop_proxy import RawPop, pbs_dump
from harness.smtp_parent import PRODUCT_RX, Client, ScriptedParent

ENV = {}
TIMEOUT = 60 * harness.SLOW

USERS = {"alice": "alice-pw", "bob": "bob's pass phrase"}
OUTSIDE_RCPT = "someone@elsewhere.example"  # a domain the gateway does not serve
LOCAL_RCPT = "user@local.example"
SENDER = smtp_parent.SENDER

# A parent advertising its own AUTH (both spellings) around other options.
PARENT_EHLO_WITH_AUTH = ("250-parent.test\r\n250-AUTH CRAM-MD5 DIGEST-MD5\r\n"
                         "250-AUTH=CRAM-MD5\r\n250-SIZE 10240000\r\n250 8BITMIME")

B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

AUTH_LOG_RX = (r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d sekisho_smtp\[(\d+)\]: warning: "
               r"[^\s\[\]]+\[%s\]: SASL %s authentication failed: %s, user=%s$")


def b64(data):
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def plain(user, password, authzid=""):
    """A SASL PLAIN message (RFC 4616), base64."""
    return b64("%s\0%s\0%s" % (authzid, user, password))


def mail_text(rcpt, subject="auth test"):
    return ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@outside.example>\r\n\r\n"
            "Hello.\r\n" % (SENDER, rcpt, subject, subject.replace(" ", "-")))


def store_records(tmpdir, records):
    """Write {address: epoch seconds} into <tmpdir>/pbs.lmdb with mdb_load
    (-T: pairs of key and value lines, G-07's encoding), as a POP login
    that long ago would have; the store is created when missing and left
    to the unprivileged user the workers run as."""
    store = os.path.join(tmpdir, "pbs.lmdb")
    os.makedirs(store, exist_ok=True)
    text = "".join("%s\n%d\n" % kv for kv in records.items())
    r = subprocess.run(["mdb_load", "-T", store], input=text, capture_output=True, text=True,
                       timeout=TIMEOUT)
    if r.returncode != 0:
        raise AssertionError("mdb_load %s: %s" % (store, r.stderr))
    for path in [store] + [os.path.join(store, n) for n in os.listdir(store)]:
        harness.chown_for_daemons(path)


def fail2ban(lines, workdir):
    """fail2ban-regex's verdict on lines with the stock postfix[mode=auth]
    filter: ((lines, ignored, matched, missed), [the hosts it took])."""
    fd, path = tempfile.mkstemp(dir=workdir, suffix=".log")
    with os.fdopen(fd, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    r = subprocess.run(["fail2ban-regex", path, "postfix[mode=auth]"], capture_output=True,
                       text=True, timeout=TIMEOUT)
    m = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed", r.stdout,
                  re.M)
    if not m:
        raise AssertionError("fail2ban-regex: %s%s" % (r.stdout, r.stderr))
    ips = subprocess.run(["fail2ban-regex", "-o", "ip", path, "postfix[mode=auth]"],
                         capture_output=True, text=True, timeout=TIMEOUT).stdout.split()
    return tuple(int(g) for g in m.groups()), ips


def pam_dir(name, db=None):
    """A PAM service directory of the module's work directory holding
    sekisho_smtp on db (None: no service file at all)."""
    return pam.service_dir(os.path.join(ENV["wd"].path, name), db,
                           ["sekisho_smtp"] if db else [])


def setUpModule():
    wd = harness.Workdir("auth-smtp")
    ENV["wd"] = wd
    try:
        ENV["scand"] = harness.Scand(wd.path)
        ENV["pam"] = pam.userdb_service_dir(wd.path, USERS.items(), ["sekisho_smtp"])
        dv_reason = dv.available()
        if dv_reason:
            raise AssertionError("POP-before-SMTP tests need dovecot: %s" % dv_reason)
        ENV["dovecot"] = dv.Dovecot(wd.path, "pop-parent")
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    for key in ("dovecot", "scand"):
        if key in ENV:
            ENV.pop(key).stop()
    ENV.pop("wd").cleanup()


class AuthCase(smtp_parent.ParentCase):
    """One gateway (workers=1) with PAM from the directory PAM_DIR names
    (a key of ENV) in front of a scripted parent."""
    ENV = ENV
    COMMON = {"workers": "1"}
    SECTION = {"proxymail_auth": "yes"}
    PAM_DIR = "pam"
    _next_source = 1

    @classmethod
    def gateway_env(cls):
        return pam.pam_env(ENV[cls.PAM_DIR])

    def setUp(self):
        super().setUp()
        # A loopback address of this test's own (127.0.2.N: not 127.0.1.1,
        # which /etc/hosts may name): its failures count for it alone.
        AuthCase._next_source += 1
        self.src = "127.0.2.%d" % AuthCase._next_source

    def client(self, source=None):
        return super().client(source or self.src)

    def ehlo(self, c):
        reply = c.cmd("EHLO client.test")
        self.assertTrue(reply.startswith("250"), reply)
        return reply

    def authed_client(self, user="alice"):
        c = self.client()
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain(user, USERS[user])), "235 ok authed")
        return c

    def auth_lines(self, source=None, count=0):
        """The auth log lines about this test's client address (at least count)."""
        rx = r"\[%s\]: " % re.escape(source or self.src)
        if count:
            return self.gw.wait_log("auth", rx, count=count)
        return [line for line in self.gw.log_lines("auth") if re.search(rx, line)]

    def assertAuthLine(self, line, mech, reason, user, source=None):
        m = re.match(AUTH_LOG_RX % (re.escape(source or self.src), mech, re.escape(reason),
                                    re.escape(user)), line)
        self.assertTrue(m, line)
        self.assertIn(int(m.group(1)), self.gw.worker_pids())

    def parent_verbs(self):
        return [c.split(" ", 1)[0].upper() for c in self.parent.all_commands()]

    def send_mail(self, c, rcpts, subject):
        """MAIL, RCPTs, DATA and the message; the final reply."""
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        for r in rcpts:
            self.assertEqual(c.cmd("RCPT TO:<%s>" % r), "250 2.1.5 recipient ok")
        self.assertGenerated(c.cmd("DATA"), "354 Enter mail")
        return c.message(mail_text(rcpts[0], subject))

    def access_user(self, rcpt):
        """The user field of the access record of the mail to rcpt (LOG-2)."""
        return self.access_line(rcpt).split()[7]  # <elapsed> is padded: split on runs


# ---- SMTP-8 / G-21: the exchanges -------------------------------------------------

class TestSmtpAuthExchanges(AuthCase):
    """proxymail_auth=yes: the proxy answers AUTH itself (SMTP-8, G-21)."""

    def test_smtp8_ehlo_offers_plain_login_not_the_parents_auth(self):
        # responses.tsv 77: "250-AUTH PLAIN LOGIN" added; the parent's AUTH
        # lines (which name mechanisms the proxy does not take) removed.
        self.parent.reset(EHLO=PARENT_EHLO_WITH_AUTH)
        c = self.client()
        lines = self.ehlo(c).split("\n")
        self.assertEqual(lines[0], "250-parent.test")
        options = [ln[4:] for ln in lines[1:]]
        self.assertEqual([o for o in options if o.upper().startswith("AUTH")],
                         ["AUTH PLAIN LOGIN"])
        self.assertIn("8BITMIME", options)
        self.assertTrue(all(ln.startswith("250-") for ln in lines[:-1]), lines)
        self.assertTrue(lines[-1].startswith("250 "), lines)

    def test_g21_plain_with_initial_response(self):
        c = self.client()
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), "235 ok authed")
        # the exchange is the proxy's: the parent saw no AUTH and no credentials
        self.assertEqual(self.parent_verbs(), ["EHLO"])
        self.gw.wait_log("info", r"SMTP AUTH PLAIN: user \[alice\] authenticated")

    def test_g21_plain_after_empty_challenge(self):
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH PLAIN"), "334 ")  # exactly: no product name on a 334
        self.assertGenerated(c.cmd(plain("bob", USERS["bob"])), "235 ok authed")
        self.assertEqual(self.parent_verbs(), ["EHLO"])

    def test_g21_login_prompts_exactly(self):
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")  # "Username:"
        self.assertEqual(c.cmd(b64("alice")), "334 UGFzc3dvcmQ6")  # "Password:"
        self.assertGenerated(c.cmd(b64("alice-pw")), "235 ok authed")
        self.assertEqual(self.parent_verbs(), ["EHLO"])

    def test_g21_login_with_initial_user(self):
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH LOGIN " + b64("bob")), "334 UGFzc3dvcmQ6")
        self.assertGenerated(c.cmd(b64(USERS["bob"])), "235 ok authed")

    def test_g21_star_cancels_each_step(self):
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH PLAIN"), "334 ")
        self.assertGenerated(c.cmd("*"), "501 Authentication cancelled")
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertGenerated(c.cmd("*"), "501 Authentication cancelled")
        self.assertEqual(c.cmd("AUTH LOGIN " + b64("alice")), "334 UGFzc3dvcmQ6")
        self.assertGenerated(c.cmd("*"), "501 Authentication cancelled")
        # A cancel is no failure (no log line, no budget spent) and leaves
        # the session unauthenticated but usable.
        self.assertGenerated(c.cmd("NOOP"), "500 Authentication Required")
        self.assertEqual(self.auth_lines(), [])
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), "235 ok authed")

    def test_g21_non_canonical_base64_is_501(self):
        # bob's right credentials (22 bytes: "==" padding), spoilt; the first
        # three a lenient decoder would still read as those credentials
        good = plain("bob", USERS["bob"])
        self.assertTrue(good.endswith("=="))
        last = B64_ALPHABET.index(good[-3])
        cases = [
            good.rstrip("="),                                  # padding missing
            good + "==",                                       # padding extra
            good[:-3] + B64_ALPHABET[last | 1] + "==",         # unused bits not zero
            good[:8] + "-_" + good[10:],                       # URL-safe alphabet
            good[:8] + "\t" + good[8:],                        # a blank inside
        ]
        c = self.client()
        self.ehlo(c)
        for bad in cases:
            with self.subTest(bad=bad):
                self.assertEqual(c.cmd("AUTH PLAIN"), "334 ")
                self.assertGenerated(c.cmd(bad), "501 5.5.2 Cannot decode response")
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertGenerated(c.cmd(b64("alice")[:-1]), "501 5.5.2 Cannot decode response")
        # none is a guess: no log line, no 421 after more than three; the
        # canonical form of the same credentials passes
        self.assertEqual(self.auth_lines(), [])
        self.assertGenerated(c.cmd("AUTH PLAIN " + good), "235 ok authed")

    def test_smtp8_wrong_password_535(self):
        c = self.client()
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "wrong")),
                             "535 authorization failed")
        [line] = self.auth_lines(count=1)
        self.assertAuthLine(line, "PLAIN", "authentication failure", "alice")
        self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER), "500 Authentication Required")
        self.assertEqual(self.parent_verbs(), ["EHLO"])

    def test_smtp8_unknown_user_535(self):
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd(b64("mallory")), "334 UGFzc3dvcmQ6")
        self.assertGenerated(c.cmd(b64("alice-pw")), "535 authorization failed")
        [line] = self.auth_lines(count=1)
        self.assertAuthLine(line, "LOGIN", "authentication failure", "mallory")

    def test_smtp8_other_mechanisms_504(self):
        # responses.tsv 38; a mechanism the proxy does not take is no guess.
        c = self.client()
        self.ehlo(c)
        for mech in ("CRAM-MD5", "DIGEST-MD5", "XOAUTH2 " + b64("user=alice"), "GSSAPI"):
            with self.subTest(mech=mech):
                self.assertGenerated(c.cmd("AUTH " + mech), "504 this mechanism not available")
        self.assertEqual(c.cmd("AUTH login " + b64("alice")), "334 UGFzc3dvcmQ6")  # any case
        self.assertGenerated(c.cmd(b64("alice-pw")), "235 ok authed")
        self.assertEqual(self.auth_lines(), [])
        self.assertEqual(self.parent_verbs(), ["EHLO"])

    def test_smtp8_auth_again_503(self):
        c = self.authed_client()
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"])),
                             "503 5.5.1 Error: already authenticated")
        self.assertGenerated(c.cmd("AUTH LOGIN"), "503 5.5.1 Error: already authenticated")
        # still alice's session
        self.assertEqual(self.send_mail(c, [OUTSIDE_RCPT], "again 503"), "250 2.0.0 queued")
        self.assertEqual(self.access_user(OUTSIDE_RCPT), "alice")

    def test_smtp8_authzid_other_than_authcid_535(self):
        c = self.client()
        self.ehlo(c)
        # bob's own password, asking to act as alice: refused, logged
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"], authzid="alice")),
                             "535 authorization failed")
        [line] = self.auth_lines(count=1)
        self.assertAuthLine(line, "PLAIN", "malformed credentials", "bob")
        # the authzid equal to the authcid is no such request
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"], authzid="bob")),
                             "235 ok authed")

    def test_smtp8_hostile_user_name_cannot_name_another_host(self):
        # The user name is the client's: brackets, commas and blanks in it
        # are escaped, so the line stays one line and fail2ban takes the
        # client's own address, never the one the name carries.
        forged = "x]: SASL PLAIN authentication failed: y, user=z unknown[10.9.8.7]"
        c = self.client()
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain(forged, "pw")),
                             "535 authorization failed")
        [line] = self.auth_lines(count=1)
        self.assertNotIn("10.9.8.7]", line)
        self.assertRegex(line, AUTH_LOG_RX % (re.escape(self.src), "PLAIN",
                                              "authentication failure", r"\S+"))
        counts, ips = fail2ban([line], self.dir)
        self.assertEqual(counts, (1, 0, 1, 0))
        self.assertEqual(ips, [self.src])

    def swaks(self, mech, password, source):
        return subprocess.run(
            ["swaks", "--server", "127.0.0.1", "--port", str(self.gw.port), "--local-interface",
             source, "--ehlo", "client.test", "--from", SENDER, "--to", OUTSIDE_RCPT,
             "--auth", mech, "--auth-user", "alice", "--auth-password", password,
             "--header", "Subject: swaks %s" % mech, "--timeout", str(TIMEOUT)],
            capture_output=True, text=True, timeout=TIMEOUT)

    def test_smtp8_swaks_plain_and_login(self):
        for mech in ("PLAIN", "LOGIN"):
            with self.subTest(mech=mech):
                self.parent.reset()
                r = self.swaks(mech, "alice-pw", self.src)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertRegex(r.stdout, r"(?m)^<-  235 ok authed " + PRODUCT_RX + "$")
                [(msg, _)] = self.parent.all_messages()
                self.assertIn(b"Subject: swaks %s" % mech.encode(), msg)
                self.assertIn("RCPT TO:<%s>" % OUTSIDE_RCPT, self.parent.all_commands())
                self.assertEqual(self.access_user(OUTSIDE_RCPT), "alice")
        self.parent.reset()
        r = self.swaks("LOGIN", "not-her-password", self.src)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"(?m)^<\*\* 535 authorization failed " + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_messages(), [])
        self.assertNotIn("MAIL", self.parent_verbs())


# ---- SMTP-4: the gate ---------------------------------------------------------------

class TestAuthRequired(AuthCase):
    """SMTP-4 2 with proxymail_auth=yes, acl_rcpt off, no LAN: only HELO,
    EHLO, AUTH, QUIT and RSET before AUTH [responses.tsv 30]."""

    def test_smtp4_commands_refused_before_auth(self):
        c = self.client()
        self.ehlo(c)
        for line in ("MAIL FROM:<%s>" % SENDER, "RCPT TO:<%s>" % OUTSIDE_RCPT, "DATA", "NOOP",
                     "VRFY alice", "EXPN staff", "HELP", "XYZZY"):
            with self.subTest(line=line):
                self.assertGenerated(c.cmd(line), "500 Authentication Required")
        # nothing of it reached the parent (the EHLO is the gateway's probe, reused)
        self.assertEqual(self.parent.all_commands(), ["EHLO gw.test"])
        self.assertEqual(self.parent.all_messages(), [])

    def test_smtp4_helo_ehlo_auth_quit_rset_taken(self):
        c = self.client()
        self.assertEqual(c.cmd("HELO client.test"), "250 parent.test")
        self.ehlo(c)
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 reset")  # relayed: the parent's reply
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertGenerated(c.cmd("*"), "501 Authentication cancelled")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 bye")
        self.assertEqual(c.wait_closed(), b"")
        # the gateway's probe EHLO, then each command as the client sent it
        self.assertEqual(self.parent_verbs(), ["EHLO", "HELO", "EHLO", "RSET", "QUIT"])

    def test_smtp4_after_235_mail_relayed_user_in_access_log(self):
        c = self.client()
        self.ehlo(c)
        self.assertGenerated(c.cmd("NOOP"), "500 Authentication Required")
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("bob", USERS["bob"])), "235 ok authed")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")
        self.assertEqual(self.send_mail(c, [OUTSIDE_RCPT], "after 235"), "250 2.0.0 queued")
        [(msg, _)] = self.parent.all_messages()
        self.assertIn(b"Subject: after 235\r\n", msg)
        self.assertEqual(self.parent_verbs(), ["EHLO", "NOOP", "MAIL", "RCPT", "DATA"])
        self.assertEqual(self.access_user(OUTSIDE_RCPT), "bob")

    def test_smtp4_pipelined_commands_wait_for_the_pam_answer(self):
        # A client that does not wait for 535 before MAIL must not get
        # MAIL through while PAM is still deciding: the lines after AUTH
        # are taken only once it has answered.
        c = self.client()
        self.ehlo(c)
        c.send("AUTH PLAIN %s\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nNOOP\r\n"
               % (plain("alice", "wrong"), SENDER, OUTSIDE_RCPT))
        self.assertGenerated(c.reply(), "535 authorization failed")
        for _ in range(3):
            self.assertGenerated(c.reply(), "500 Authentication Required")
        self.assertEqual(self.parent_verbs(), ["EHLO"])
        # the same with the right password: each command after 235
        c.send("AUTH LOGIN\r\n%s\r\n%s\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n"
               % (b64("alice"), b64("alice-pw"), SENDER, OUTSIDE_RCPT))
        self.assertEqual(c.reply(), "334 VXNlcm5hbWU6")
        self.assertEqual(c.reply(), "334 UGFzc3dvcmQ6")
        self.assertGenerated(c.reply(), "235 ok authed")
        self.assertEqual(c.reply(), "250 2.1.0 sender ok")
        self.assertEqual(c.reply(), "250 2.1.5 recipient ok")
        self.assertEqual(self.parent_verbs(), ["EHLO", "MAIL", "RCPT"])

    def test_smtp4_rset_keeps_the_authentication(self):
        c = self.authed_client()
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 reset")
        self.assertEqual(self.send_mail(c, [OUTSIDE_RCPT], "after rset"), "250 2.0.0 queued")
        self.assertEqual(self.access_user(OUTSIDE_RCPT), "alice")

    def test_auth7_store_ignored_with_pbs_off(self):
        # pbs=no: even a fresh POP-before-SMTP record of this address does
        # not open the gate (AUTH-7 needs pbs=yes).
        store_records(os.path.join(self.gw.prefix, "tmp", "spool"), {self.src: int(time.time())})
        c = self.client()
        self.ehlo(c)
        self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER), "500 Authentication Required")


# ---- the error budget and the failure limit ----------------------------------------

class TestErrorBudget(AuthCase):
    """Three failed AUTHs end a session with 421; five failures from one
    address in 60 s (one worker) refuse even the right password; each
    failure is an auth log line fail2ban's postfix[mode=auth] reads."""

    def test_smtp8_three_failures_421_and_fail2ban_matches_each(self):
        src = "127.0.0.1"  # the brief's address: fail2ban must find it
        c = self.client(source=src)
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "guess1")),
                             "535 authorization failed")
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd(b64("alice")), "334 UGFzc3dvcmQ6")
        self.assertGenerated(c.cmd(b64("guess2")), "535 authorization failed")
        reply = c.cmd("AUTH PLAIN " + plain("bob", "guess3"))
        lines = reply.split("\n")
        self.assertGenerated(lines[0], "535 authorization failed")
        if len(lines) == 1:  # the 421 may come as a second read
            lines.append(c.reply())
        self.assertGenerated(lines[1], "421 4.7.0 Error: too many authentication failures")
        self.assertEqual(c.wait_closed(), b"")
        log = self.auth_lines(source=src, count=3)
        self.assertEqual(len(log), 3)
        for line, mech, user in zip(log, ("PLAIN", "LOGIN", "PLAIN"), ("alice", "alice", "bob")):
            self.assertAuthLine(line, mech, "authentication failure", user, source=src)
        counts, ips = fail2ban(log, self.dir)
        self.assertEqual(counts, (3, 0, 3, 0))
        self.assertEqual(ips, [src] * 3)
        self.assertNotIn("MAIL", self.parent_verbs())

    def five_failures(self):
        """Five wrong passwords from this test's address in four sessions
        (three, then 421; one; one); the auth log lines they left."""
        def fail_once(c, n):
            self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "guess%d" % n)),
                                 "535 authorization failed")

        c = self.client()
        self.ehlo(c)
        for n in (1, 2, 3):
            fail_once(c, n)
        self.assertGenerated(c.reply(), "421 4.7.0 Error: too many authentication failures")
        self.assertEqual(c.wait_closed(), b"")
        for n in (4, 5):  # sessions two and three: one guess each
            c = self.client()
            self.ehlo(c)
            fail_once(c, n)
            self.assertEqual(c.cmd("QUIT"), "221 2.0.0 bye")
        return self.auth_lines(count=5)

    def test_auth_limit_five_failures_refuse_the_right_password(self):
        log = self.five_failures()
        # session four: the right password, refused without asking PAM
        c = self.client()
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")),
                             "535 authorization failed")
        self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER), "500 Authentication Required")
        log = self.auth_lines(count=6)
        self.assertEqual(len(log), 6)
        for line in log[:4]:
            self.assertAuthLine(line, "PLAIN", "authentication failure", "alice")
        # (log[4], the fifth guess: test_auth_limit_fifth_guess_logged_as_a_failure)
        self.assertAuthLine(log[5], "PLAIN", "too many failures from this address", "alice")
        pam_calls = [ln for ln in self.gw.log_lines("info")
                     if " %s:" % self.src in ln and "PAM sekisho_smtp (authenticate" in ln]
        self.assertEqual(len(pam_calls), 5, pam_calls)
        counts, ips = fail2ban(log, self.dir)
        self.assertEqual(counts, (6, 0, 6, 0))
        self.assertEqual(ips, [self.src] * 6)
        # the limit is per address: another one is served
        c = self.client(source="127.0.3.1")
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), "235 ok authed")

    def test_auth_limit_fifth_guess_logged_as_a_failure(self):
        # The fifth guess was put to PAM and refused by it, like the four
        # before: its reason is "authentication failure". "too many failures
        # from this address" is for the attempts the limit refused unasked.
        log = self.five_failures()
        self.assertEqual(len(log), 5)
        pam_calls = [ln for ln in self.gw.log_lines("info")
                     if " %s:" % self.src in ln and "PAM sekisho_smtp (authenticate" in ln]
        self.assertEqual(len(pam_calls), 5, pam_calls)
        self.assertAuthLine(log[4], "PLAIN", "authentication failure", "alice")


# ---- PAM unavailable -------------------------------------------------------------

class UnavailableCase(AuthCase):
    def assertTemporary(self, c):
        temp = "454 4.7.0 Temporary authentication failure"
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), temp)
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd(b64("bob")), "334 UGFzc3dvcmQ6")
        self.assertGenerated(c.cmd(b64(USERS["bob"])), temp)
        # no failure of the client's: no 421, no auth log line; still no mail
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), temp)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), temp)
        self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER), "500 Authentication Required")
        self.assertEqual(self.auth_lines(), [])
        self.gw.wait_log("error", r"PAM sekisho_smtp \(authenticate, user \[alice\]\)")


class TestPamServiceMissing(UnavailableCase):
    """No sekisho_smtp service file (and no "other"): PAM cannot answer."""
    PAM_DIR = "pam-empty"

    @classmethod
    def setUpClass(cls):
        ENV["pam-empty"] = pam_dir("pam-empty.d")
        super().setUpClass()

    def test_smtp8_pam_service_missing_454(self):
        c = self.client()
        self.ehlo(c)
        self.assertTemporary(c)


class TestPamDatabaseMissing(UnavailableCase):
    """sekisho_smtp names a user database that is not there: 454 until it
    is built, then the same credentials pass (the service file is right)."""
    PAM_DIR = "pam-late-db"

    @classmethod
    def setUpClass(cls):
        cls.late_db = os.path.join(ENV["wd"].path, "late-userdb.db")
        ENV["pam-late-db"] = pam_dir("pam-late-db.d", cls.late_db)
        super().setUpClass()

    def test_smtp8_user_database_missing_454(self):
        c = self.client()
        self.ehlo(c)
        self.assertTemporary(c)
        pam.create_userdb(self.late_db, USERS.items())
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), "235 ok authed")


# ---- AUTH-5: the parent's own AUTH -----------------------------------------------

class TestParentAuthPassThrough(AuthCase):
    """proxymail_auth=no: AUTH is the parent's (AUTH-5, SMTP-8 second
    bullet, responses.tsv 39): its EHLO line stays, its 334 and 235 are
    relayed, the proxy checks nothing (no PAM, no auth log)."""
    SECTION = {"proxymail_auth": "no"}

    def test_auth5_ehlo_keeps_the_parents_auth(self):
        self.parent.reset(EHLO=PARENT_EHLO_WITH_AUTH)
        c = self.client()
        lines = self.ehlo(c).split("\n")
        self.assertIn("250-AUTH CRAM-MD5 DIGEST-MD5", lines)
        self.assertIn("250-AUTH=CRAM-MD5", lines)
        self.assertNotIn("AUTH PLAIN LOGIN", [ln[4:] for ln in lines])

    def test_auth5_parents_exchange_relayed(self):
        challenge = b64("<1896.697170952@parent.test>")
        response = b64("alice 0123456789abcdef0123456789abcdef")
        self.parent.reset(EHLO=PARENT_EHLO_WITH_AUTH, AUTH="334 " + challenge,
                          AUTH_DATA="235 2.7.0 Authentication successful")
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH CRAM-MD5"), "334 " + challenge)
        self.assertEqual(c.cmd(response), "235 2.7.0 Authentication successful")
        self.assertEqual(self.parent.all_commands()[1:], ["AUTH CRAM-MD5", response])
        self.assertEqual(self.send_mail(c, [OUTSIDE_RCPT], "parent auth"), "250 2.0.0 queued")
        self.assertEqual(self.gw.log_text("auth"), "")

    def test_auth5_parents_refusal_relayed_as_it_is(self):
        self.parent.reset(AUTH="535 5.7.8 bad credentials")
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")),
                         "535 5.7.8 bad credentials")
        self.assertEqual(self.parent.all_commands()[-1], "AUTH PLAIN " + plain("alice", "alice-pw"))
        self.assertEqual(self.gw.log_text("auth"), "")


# ---- SMTP-7 2 / AUTH-4: relay control with SMTP AUTH ----------------------------------

class TestRcptAclWithAuth(AuthCase):
    """acl_rcpt=yes, proxymail_auth=yes: the SMTP-4 gate is off; mail to
    the smtp_rcpt domains needs no authentication, other domains are
    "550 Relaying denied." until AUTH (SMTP-7 2, AUTH-4, responses.tsv 34)."""
    SECTION = {"proxymail_auth": "yes", "acl_rcpt": "yes", "lan": "no"}
    HOSTS_ALLOW = "smtp_rcpt: local.example\n"

    def test_smtp7_local_domain_without_auth(self):
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 noop")  # no SMTP-4 gate with acl_rcpt
        self.assertEqual(self.send_mail(c, [LOCAL_RCPT], "local"), "250 2.0.0 queued")
        self.assertEqual(self.access_user(LOCAL_RCPT), "-")

    def test_smtp7_other_domains_denied_until_auth(self):
        c = self.client()
        self.ehlo(c)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % LOCAL_RCPT), "250 2.1.5 recipient ok")
        for rcpt in (OUTSIDE_RCPT, "user%elsewhere.example@local.example",
                     "elsewhere.example!user@local.example"):
            with self.subTest(rcpt=rcpt):
                self.assertGenerated(c.cmd("RCPT TO:<%s>" % rcpt), "550 Relaying denied.")
        self.assertEqual([x for x in self.parent.all_commands() if x.startswith("RCPT")],
                         ["RCPT TO:<%s>" % LOCAL_RCPT])
        # not inside a transaction (RFC 4954 4)
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")),
                             "503 5.5.1 Error: MAIL transaction in progress")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 reset")
        self.assertGenerated(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), "235 ok authed")
        self.assertEqual(self.send_mail(c, [OUTSIDE_RCPT, LOCAL_RCPT], "relayed after auth"),
                         "250 2.0.0 queued")
        [(msg, _)] = self.parent.all_messages()
        self.assertIn(b"Subject: relayed after auth\r\n", msg)
        self.assertIn("RCPT TO:<%s>" % OUTSIDE_RCPT, self.parent.all_commands())
        self.assertEqual(self.access_user(OUTSIDE_RCPT + "," + LOCAL_RCPT), "alice")


# ---- AUTH-7 / AUTH-4: POP-before-SMTP --------------------------------------------------

class PbsCase(unittest.TestCase):
    """A POP proxy (self_proxy=yes, in front of the module's dovecot) and
    an SMTP proxy (pbs=yes, pbs_lifetime=1, plus SMTP_SECTION) sharing one
    tmpdir, each in its own prefix, one worker each."""
    SMTP_SECTION = {}

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        cls.tmpdir = os.path.join(cls.dir, "shared-tmp")
        os.makedirs(cls.tmpdir)
        harness.chown_for_daemons(cls.tmpdir)
        cls.dovecot = ENV["dovecot"]
        cls.parent = ScriptedParent()
        cls.pop = cls.smtp = None
        common = {"hostname": "gw.test", "workers": "1", "tmpdir": cls.tmpdir}
        try:
            cls.pop = harness.Gateway(os.path.join(cls.dir, "pop"), ENV["scand"].socket,
                                      service="pop", common=common,
                                      section={"self_proxy": "yes", "virus_check": "yes"})
            section = {"parent_server_host": "127.0.0.1",
                       "parent_server_port": str(cls.parent.port),
                       "virus_check": "yes", "pbs": "yes", "pbs_lifetime": "1"}
            section.update(cls.SMTP_SECTION)
            cls.smtp = harness.Gateway(os.path.join(cls.dir, "smtp"), ENV["scand"].socket,
                                       service="smtp", common=common, section=section,
                                       env=pam.pam_env(ENV["pam"]))
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            for gw in (cls.smtp, cls.pop):
                if gw:
                    gw.stop()
        finally:
            cls.parent.stop()

    def setUp(self):
        self.parent.reset()

    def smtp_client(self, source):
        c = Client(self.smtp.port, source=source)
        self.addCleanup(c.close)
        self.assertRegex(c.greeting, r"^220 gw\.test ")
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        return c

    def pop_login(self, source, password="alice-pw"):
        """USER alice@<dovecot>, PASS through the POP proxy from source; the
        reply to PASS."""
        c = RawPop(self.pop.port, source=source)
        self.addCleanup(c.close)
        self.assertEqual(c.cmd("USER alice@127.0.0.1:%d" % self.dovecot.port), b"+OK")
        st = c.cmd("PASS " + password)
        self.assertTrue(c.cmd("QUIT").startswith(b"+OK"))
        return st

    def assertRefused(self, source):
        c = self.smtp_client(source)
        self.assertRegex(c.cmd("MAIL FROM:<%s>" % SENDER),
                         r"^500 Authentication Required " + PRODUCT_RX + "$")

    def assertRelays(self, source, subject, c=None):
        c = c or self.smtp_client(source)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % OUTSIDE_RCPT), "250 2.1.5 recipient ok")
        self.assertRegex(c.cmd("DATA"), r"^354 Enter mail " + PRODUCT_RX + "$")
        self.assertEqual(c.message(mail_text(OUTSIDE_RCPT, subject)), "250 2.0.0 queued")
        self.assertTrue(any(b"Subject: %s\r\n" % subject.encode() in m
                            for m, _ in self.parent.all_messages()))

    def store(self):
        return pbs_dump(self.tmpdir)


class TestPopBeforeSmtp(PbsCase):
    """pbs=yes alone (AUTH-7, POP-6, G-07)."""

    def test_auth7_pop_login_opens_relay_for_that_address_only(self):
        src, other = "127.0.4.1", "127.0.4.2"
        waiting = self.smtp_client(src)  # a session open before the login
        self.assertRegex(waiting.cmd("MAIL FROM:<%s>" % SENDER),
                         r"^500 Authentication Required " + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_messages(), [])
        t0 = int(time.time())
        self.assertEqual(self.pop_login(src), b"+OK Logged in.")
        stamp = self.store()[src]
        self.assertTrue(t0 <= stamp <= int(time.time()), stamp)
        self.assertRelays(src, "after pop login")
        # the session that was already open is asked again at each command
        self.assertRelays(src, "same session", c=waiting)
        self.assertRefused(other)
        self.assertNotIn(other, self.store())

    def test_auth7_failed_pop_login_records_nothing(self):
        src = "127.0.4.3"
        self.assertTrue(self.pop_login(src, password="wrong").startswith(b"-ERR"))
        self.assertNotIn(src, self.store())
        self.assertRefused(src)

    def test_auth7_lifetime_in_minutes(self):
        # pbs_lifetime=1: records aged with mdb_load instead of waiting.
        now = int(time.time())
        fresh, old, future = "127.0.4.4", "127.0.4.5", "127.0.4.6"
        store_records(self.tmpdir, {fresh: now - 30, old: now - 90, future: now + 90})
        self.assertRelays(fresh, "thirty seconds old")
        self.assertRefused(old)
        self.assertRefused(future)
        # a new POP login renews the old one
        self.assertEqual(self.pop_login(old), b"+OK Logged in.")
        self.assertRelays(old, "renewed")

    def test_auth7_relayed_parent_auth_does_not_open_the_gate(self):
        # proxymail_auth=no: AUTH goes to the parent (AUTH-5); its 235 is
        # the parent's business and is no PbS login.
        self.parent.reset(AUTH="235 2.7.0 ok")
        src = "127.0.4.7"
        c = self.smtp_client(src)
        self.assertEqual(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")), "235 2.7.0 ok")
        self.assertRegex(c.cmd("MAIL FROM:<%s>" % SENDER),
                         r"^500 Authentication Required " + PRODUCT_RX + "$")

    def test_auth7_smtp_restart_empties_the_store(self):
        src = "127.0.4.8"
        self.assertEqual(self.pop_login(src), b"+OK Logged in.")
        self.assertRelays(src, "before restart")
        self.smtp.stop()
        self.assertIn(src, self.store())  # kept while stopped
        self.smtp.start()
        self.assertEqual(self.store(), {})
        self.assertRefused(src)


class TestPbsOrSmtpAuth(PbsCase):
    """pbs=yes and proxymail_auth=yes: either suffices (AUTH-4, SMTP-8)."""
    SMTP_SECTION = {"proxymail_auth": "yes"}

    def test_auth4_pop_login_suffices(self):
        src = "127.0.5.1"
        self.assertRefused(src)
        self.assertEqual(self.pop_login(src), b"+OK Logged in.")
        self.assertRelays(src, "pbs without auth")

    def test_auth4_smtp_auth_suffices(self):
        src = "127.0.5.2"
        c = self.smtp_client(src)
        self.assertRegex(c.cmd("MAIL FROM:<%s>" % SENDER),
                         r"^500 Authentication Required " + PRODUCT_RX + "$")
        self.assertRegex(c.cmd("AUTH PLAIN " + plain("alice", "alice-pw")),
                         r"^235 ok authed " + PRODUCT_RX + "$")
        self.assertRelays(src, "auth without pbs", c=c)
        self.assertNotIn(src, self.store())

    def test_auth4_neither_refused(self):
        src = "127.0.5.3"
        c = self.smtp_client(src)
        self.assertRegex(c.cmd("AUTH PLAIN " + plain("alice", "wrong")),
                         r"^535 authorization failed " + PRODUCT_RX + "$")
        self.assertRegex(c.cmd("MAIL FROM:<%s>" % SENDER),
                         r"^500 Authentication Required " + PRODUCT_RX + "$")
        self.assertEqual(self.parent.all_messages(), [])


if __name__ == "__main__":
    unittest.main()
