"""The open-relay matrix with every authentication mode on, and XCLIENT with a
real Postfix parent (issue 13: acceptance "the open-relay matrix of the SMTP
issue rerun with every authentication mode on ... and the whole matrix with
acl_rcpt=no plus an XCLIENT parent"; deliverable 6).

Spec items covered (test names start with them): SMTP-4 (the gate: 500
Authentication Required), SMTP-7 (acl_rcpt: 550 Relaying denied.), SMTP-8
(AUTH PLAIN at the proxy: 235 ok authed, 250-AUTH PLAIN LOGIN in EHLO),
AUTH-4 (LAN clients and smtp_rcpt domains need no authentication; with
both modes on either one suffices), AUTH-5 (with proxymail_auth=no the
parent's AUTH passes through, and opens nothing at the gateway), AUTH-7
(POP-before-SMTP through a real POP proxy and dovecot), SMTP-12 (the
gateway must not be an open relay for a parent that trusts it), and the
xclient key (XCLIENT before the first MAIL, LOGIN=<user> /
LOGIN=pop-before-smtp, 421 when the parent refuses it, XFORWARD where only
that is offered). responses.tsv: "500 Authentication Required", "550
Relaying denied.", "235 ok authed", "250-AUTH PLAIN LOGIN".

Part 1, the matrix. Why: the relay tricks of test_smtp_session.RELAY_TRICKS
were shown refused with acl_rcpt alone; turning pbs or proxymail_auth on
changes the gate (SMTP-4 applies only without acl_rcpt) and adds ways to
be "authenticated", each of which must open relaying and nothing else. The
parent is harness.smtp_parent.ScriptedParent, which accepts everything, so
only the gateway decides: what the client is told and what the parent
received (no RCPT of a refused address, every RCPT of a relayed one) are
asserted. One gateway per configuration {pbs, proxymail_auth, both} x
{acl_rcpt=yes, no}; clients are told apart by their loopback source
address: 127.0.0.2 outside (not LAN, never logged in over POP), 127.0.0.3
LAN (smtp_lan, lan=yes), 127.0.0.4 a PbS client (a real POP login through
the module's POP proxy in front of dovecot, recorded in the shared
<tmpdir>/pbs.lmdb). SMTP AUTH is checked by real PAM (pam_wrapper) with
our module and a user database built by create_userdb.

Part 2, XCLIENT with a real Postfix (harness/postfix.py): mynetworks =
127.0.0.1/32 (the gateway's host) and 127.0.0.3/32 (the LAN),
smtpd_authorized_xclient_hosts = 127.0.0.1, smtpd_sasl_auth_enable = yes
(XCLIENT LOGIN needs it, see the harness), smtpd_relay_restrictions =
permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination;
the gateway has acl_rcpt=no (but in TestXclientAclRcptAuth), so the relay decisions
below are postfix's. Why: behind a gateway the parent sees every client at
the gateway's address, which it trusts; with XCLIENT it must judge the real
client. Shown: an outside client's relay attempt is refused by postfix,
which logs the client's address and HELO (also for a HELO client, as
PROTO=SMTP, and for a client that sent no HELO); every relay trick gets
through the gateway the verdict postfix gives that client directly; local
mail is delivered with a Received header naming the client; with
xclient=no the same attempt is relayed (the open relay the default
closes); AUTH at the proxy, PbS and the LAN relay (LOGIN=alice,
LOGIN=pop-before-smtp, mynetworks); a LAN client the parent does not know
is refused by it; with acl_rcpt=yes and proxymail_auth=yes, a client that
authenticates after a first (local) mail must relay too; a parent that
offers but refuses XCLIENT (or the HELO after it) ends the session with
421 before any MAIL; an XFORWARD-only postfix logs orig_client before each
MAIL; an IPv6 client (::1) reaches postfix as ADDR=IPV6:::1.

"""
import base64
import os
import re
import smtplib
import unittest

import harness
from harness import pam
from harness import postfix as pf
from harness import smtp_parent
from harness.dovecot import Dovecot, ipv6_loopback
from harness.pop_proxy import RawPop, pbs_dump, require_dovecot
from harness.smtp_parent import PRODUCT_RX, SENDER
from test_smtp_session import RELAY_TRICKS

ENV = {}
TIMEOUT = 30 * harness.SLOW

OUTSIDE = "127.0.0.2"     # neither LAN nor logged in over POP; outside postfix's mynetworks
LAN = "127.0.0.3"         # smtp_lan at the gateway, and in postfix's mynetworks
PBS = "127.0.0.4"         # logs in through the POP proxy before it sends
LAN_ONLY = "127.0.0.5"    # smtp_lan at the gateway, unknown to postfix
USER, PASSWORD = "alice", "alice-pw"   # the SMTP AUTH user of the user database
LOCAL_RCPT = "user@local.example"      # smtp_rcpt (acl_rcpt), postfix's mydestination
# The one trick the gateway's path parser refuses as a syntax error (501),
# whoever sends it: an unbalanced quote. Every other trick parses, so for
# an authorised client it is relayed as it came.
GATEWAY_SYNTAX_ERRORS = {'user@outside.example"@local.example'}
PLAIN_OK = base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode()).decode()


def setUpModule():
    # Missing postfix or dovecot is a failure, not a skip: a skip would hide
    # that the relay matrix and XCLIENT go untested.
    reason = pf.available()
    if reason:
        raise AssertionError("these tests need a private postfix: %s" % reason)
    require_dovecot()
    wd = harness.Workdir("relay-matrix")
    ENV["wd"] = wd
    started = ENV["started"] = []
    try:
        ENV["scand"] = harness.Scand(wd.path)
        started.append(ENV["scand"])
        # One tmpdir for every gateway of the module: the POP proxy writes
        # pbs.lmdb there and the SMTP proxies read it, as two services on
        # one host share /var/tmp/sekisho (AUTH-7).
        ENV["tmpdir"] = os.path.join(wd.path, "shared-tmp")
        ENV["pamd"] = pam.userdb_service_dir(wd.path, [(USER, PASSWORD)], ["sekisho_smtp"])
        ENV["dovecot"] = Dovecot(wd.path, "dovecot")
        started.append(ENV["dovecot"])
        pop_dir = os.path.join(wd.path, "pop")
        os.makedirs(pop_dir)
        ENV["pop"] = harness.Gateway(
            pop_dir, ENV["scand"].socket, service="pop",
            section={"parent_server_host": ENV["dovecot"].host,
                     "parent_server_port": str(ENV["dovecot"].port),
                     "virus_check": "yes", "action": "delete"},
            common={"hostname": "gw.test", "tmpdir": ENV["tmpdir"]})
        started.append(ENV["pop"])
        addresses = ("127.0.0.1", "::1") if ipv6_loopback() else ("127.0.0.1",)
        ENV["postfix"] = pf.Postfix(wd.path, "postfix", addresses=addresses, main={
            "mynetworks": "127.0.0.1/32 %s/32" % LAN,
            "smtpd_authorized_xclient_hosts": "127.0.0.1",
            "smtpd_sasl_auth_enable": "yes",
            # The trick matrix is one transaction with some twenty refused
            # RCPTs: postfix's defaults would sleep 1 s per error after the
            # tenth and hang up at the twentieth.
            "smtpd_soft_error_limit": "100",
            "smtpd_hard_error_limit": "100"})
        started.append(ENV["postfix"])
    except BaseException:
        tearDownModule()
        raise


def tearDownModule():
    """Stop everything that was started, then report the first failure
    (e.g. a sanitizer report of the POP proxy found by Process.stop)."""
    errors = []
    for p in reversed(ENV.get("started", [])):
        try:
            p.stop()
        except Exception as e:  # noqa: BLE001 - the others are stopped first
            errors.append(e)
    ENV["started"] = []
    ENV["wd"].cleanup()
    if errors:
        raise errors[0]


def pop_login(source):
    """A successful POP login from source through the POP proxy; returns
    once pbs.lmdb holds the address (POP-6, AUTH-7)."""
    with RawPop(ENV["pop"].port, source=source) as c:
        c.login()
        c.cmd("QUIT")
    return harness.wait_for(lambda: source in pbs_dump(ENV["tmpdir"]), 10,
                            what="%s in pbs.lmdb" % source)


def assert_never_logged_in(test, address):
    """The outside address is not in the PbS store: its refusals below are
    the gate's, not a stale record's."""
    test.assertNotIn(address, pbs_dump(ENV["tmpdir"]))


# ---- part 1: the matrix, a scripted parent that accepts anything -------------

class MatrixTests:
    """The matrix for one configuration: PBS / AUTH (the modes on) and
    ACL_RCPT."""
    PBS = False
    AUTH = False
    ACL_RCPT = False

    @classmethod
    def setUpClass(cls):
        cls.SECTION = {"pbs": "yes" if cls.PBS else "no",
                       "proxymail_auth": "yes" if cls.AUTH else "no",
                       "acl_rcpt": "yes" if cls.ACL_RCPT else "no", "lan": "yes"}
        cls.COMMON = {"tmpdir": ENV["tmpdir"]}
        cls.HOSTS_ALLOW = "smtp_rcpt: local.example\nsmtp_lan: %s\n" % LAN
        super().setUpClass()

    @classmethod
    def gateway_env(cls):
        return pam.pam_env(ENV["pamd"])

    def parent_lines(self, verb):
        return [c for c in self.parent.all_commands() if c.upper().startswith(verb)]

    def ehlo(self, c):
        reply = c.cmd("EHLO client.test")
        self.assertTrue(reply.startswith("250-"), reply)
        # SMTP-5, responses.tsv: the proxy's own AUTH is offered only when
        # it is on (the last line of the reply when the parent's was short).
        self.assertEqual(any(re.fullmatch(r"250[- ]AUTH PLAIN LOGIN", l)
                             for l in reply.split("\n")), self.AUTH, reply)

    def send_tricks(self, c, check):
        """RCPT TO each of RELAY_TRICKS on c (a subtest each): the gateway's
        own 501 for those it finds malformed, check(reply) for the others;
        the RCPT lines of those others."""
        others = []
        for addr in RELAY_TRICKS:
            with self.subTest(addr=addr[:60]):
                reply = c.cmd("RCPT TO:<%s>" % addr)
                if addr in GATEWAY_SYNTAX_ERRORS:
                    self.assertGenerated(reply, "501 Syntax error (RCPT TO:)")
                else:
                    check(reply)
                    others.append("RCPT TO:<%s>" % addr)
        return others

    def assert_relays(self, c):
        """What an authorised client gets: MAIL, then every trick reaches
        the parent as it came and the parent's 250 comes back (except the
        gateway's own syntax refusal); then the mail is delivered."""
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
        relayed = self.send_tricks(
            c, lambda reply: self.assertEqual(reply, "250 2.1.5 recipient ok"))
        self.assertEqual(self.parent_lines("RCPT"), relayed)
        self.assertGenerated(c.cmd("DATA"), "354 Enter mail")
        self.assertEqual(c.message("From: %s\r\nTo: user@outside.example\r\nSubject: %s\r\n"
                                   "\r\nHello.\r\n" % (SENDER, self._testMethodName)),
                         "250 2.0.0 queued")
        messages = self.parent.all_messages()
        self.assertEqual(len(messages), 1)
        self.assertIn(("Subject: %s" % self._testMethodName).encode(), messages[0][0])

    def assert_outside_refused(self, c, addr):
        """An unauthenticated client's relay attempt: the gate (500) or the
        relay restriction (550); the parent gets no RCPT."""
        if self.ACL_RCPT:
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
            self.assertGenerated(c.cmd("RCPT TO:<%s>" % addr), "550 Relaying denied.")
        else:
            self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER), "500 Authentication Required")
            self.assertGenerated(c.cmd("RCPT TO:<%s>" % addr), "500 Authentication Required")
        self.assertEqual(self.parent_lines("RCPT"), [])

    # -- the LAN client -------------------------------------------------------------

    def test_auth4_lan_client_relays_unauthenticated(self):
        c = self.client(source=LAN)
        self.ehlo(c)
        self.assert_relays(c)

    # -- the unauthenticated outside client ------------------------------------

    def test_smtp4_smtp7_outside_client_relays_no_trick(self):
        assert_never_logged_in(self, OUTSIDE)
        c = self.client(source=OUTSIDE)
        self.ehlo(c)
        if not self.ACL_RCPT:
            # SMTP-4: no relay restriction, so nothing but HELO, EHLO,
            # AUTH, QUIT and RSET before authentication; not even the
            # local domain.
            self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER), "500 Authentication Required")
            for addr in RELAY_TRICKS + [LOCAL_RCPT]:
                with self.subTest(addr=addr[:60]):
                    self.assertGenerated(c.cmd("RCPT TO:<%s>" % addr),
                                         "500 Authentication Required")
            self.assertGenerated(c.cmd("DATA"), "500 Authentication Required")
            self.assertEqual(self.parent_lines("MAIL"), [])
        else:
            # SMTP-7: the relay restriction; the local domain needs no
            # authentication (AUTH-4).
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % SENDER), "250 2.1.0 sender ok")
            self.send_tricks(c, lambda reply: self.assertGenerated(reply, "550 Relaying denied."))
            self.assertEqual(c.cmd("RCPT TO:<%s>" % LOCAL_RCPT), "250 2.1.5 recipient ok")
        self.assertEqual(self.parent_lines("RCPT"),
                         [] if not self.ACL_RCPT else ["RCPT TO:<%s>" % LOCAL_RCPT])
        self.assertEqual(c.cmd("QUIT").split(" ")[0], "221")


class AuthTests:
    """proxymail_auth=yes: the outside client after AUTH at the proxy."""

    def test_smtp8_outside_client_relays_after_auth(self):
        c = self.client(source=OUTSIDE)
        self.ehlo(c)
        self.assertGenerated(c.cmd("AUTH PLAIN " + PLAIN_OK), "235 ok authed")
        self.assertEqual(self.parent_lines("AUTH"), [])  # checked here, not upstream
        self.assert_relays(c)

    def test_smtp8_wrong_password_opens_nothing(self):
        c = self.client(source=OUTSIDE)
        self.ehlo(c)
        wrong = base64.b64encode(("\0%s\0wrong" % USER).encode()).decode()
        self.assertGenerated(c.cmd("AUTH PLAIN " + wrong), "535 authorization failed")
        self.assert_outside_refused(c, "user@outside.example")


class NoAuthTests:
    """proxymail_auth=no (pbs alone): AUTH goes to the parent (AUTH-5), and
    the parent's 235 is no authentication at the gateway (SMTP-4, SMTP-7
    count only PbS and the proxy's own AUTH)."""

    def test_auth5_parents_auth_opens_nothing_here(self):
        self.parent.reset(AUTH="235 2.7.0 Authentication successful")
        c = self.client(source=OUTSIDE)
        self.ehlo(c)
        self.assertEqual(c.cmd("AUTH PLAIN " + PLAIN_OK), "235 2.7.0 Authentication successful")
        self.assertEqual(self.parent_lines("AUTH"), ["AUTH PLAIN " + PLAIN_OK])
        self.assert_outside_refused(c, "user@outside.example")


class PbsTests:
    """pbs=yes: a client that logged in over POP (AUTH-7)."""

    def test_auth7_pop_before_smtp_client_relays(self):
        pop_login(PBS)
        c = self.client(source=PBS)
        self.ehlo(c)
        self.assert_relays(c)


class NoPbsTests:
    """pbs=no: a POP login counts for nothing at the SMTP proxy."""

    def test_auth7_pbs_off_a_pop_login_opens_nothing(self):
        pop_login(PBS)
        c = self.client(source=PBS)
        self.ehlo(c)
        self.assert_outside_refused(c, "user@outside.example")


class ParentCase(smtp_parent.ParentCase):
    ENV = ENV


class TestMatrixPbsAclRcpt(PbsTests, NoAuthTests, MatrixTests, ParentCase):
    PBS, ACL_RCPT = True, True


class TestMatrixPbs(PbsTests, NoAuthTests, MatrixTests, ParentCase):
    PBS = True


class TestMatrixAuthAclRcpt(AuthTests, NoPbsTests, MatrixTests, ParentCase):
    AUTH, ACL_RCPT = True, True


class TestMatrixAuth(AuthTests, NoPbsTests, MatrixTests, ParentCase):
    AUTH = True


class TestMatrixBothAclRcpt(AuthTests, PbsTests, MatrixTests, ParentCase):
    PBS, AUTH, ACL_RCPT = True, True, True


class TestMatrixBoth(AuthTests, PbsTests, MatrixTests, ParentCase):
    PBS, AUTH = True, True



# ---- part 2: XCLIENT with a real Postfix parent ---------------------------------

class PostfixParentCase(pf.MailChecks, unittest.TestCase):
    """One gateway per class (acl_rcpt=no unless SECTION says otherwise:
    relay decisions are the parent's) in front of the module's postfix, or
    of a postfix of the class's own when POSTFIX_MAIN is set. LISTEN: the
    gateway's address."""
    SECTION = {}
    HOSTS_ALLOW = ""
    LISTEN = "127.0.0.1"
    POSTFIX_MAIN = None

    @classmethod
    def setUpClass(cls):
        if ":" in cls.LISTEN and not ipv6_loopback():
            raise unittest.SkipTest("::1 cannot be bound here")
        cls.dir = os.path.join(ENV["wd"].path, cls.__name__)
        os.makedirs(cls.dir)
        cls.own_postfix = None
        if cls.POSTFIX_MAIN is not None:
            cls.postfix = cls.own_postfix = pf.Postfix(cls.dir, "postfix", main=cls.POSTFIX_MAIN)
        else:
            cls.postfix = ENV["postfix"]
        section = {"parent_server_host": "127.0.0.1", "parent_server_port": str(cls.postfix.port),
                   "virus_check": "yes", "action": "deny", "acl_rcpt": "no"}
        section.update(cls.SECTION)
        try:
            cls.gw = harness.Gateway(cls.dir, ENV["scand"].socket, service="smtp",
                                     section=section, hosts_allow=cls.HOSTS_ALLOW,
                                     common={"hostname": "gw.test", "tmpdir": ENV["tmpdir"]},
                                     env=pam.pam_env(ENV["pamd"]), start=False)
            if ":" in cls.LISTEN:
                cls.gw.section["svcport"] = "[%s]:%d" % (cls.LISTEN, cls.gw.port)
                cls.gw.listen_host = cls.LISTEN
                cls.gw.write_ini()
            cls.gw.start()
        except BaseException:
            if cls.own_postfix:
                cls.own_postfix.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.gw.stop()
        finally:
            if cls.own_postfix:
                cls.own_postfix.stop()

    def connect(self, source, helo="outside.client", host="127.0.0.1"):
        """An SMTP client from source to the gateway, after EHLO helo."""
        s = smtplib.SMTP(timeout=TIMEOUT, source_address=(source, 0), local_hostname=helo)
        self.addCleanup(s.close)
        code, text = s.connect(host, self.gw.port)
        self.assertEqual(code, 220, text)
        self.assertRegex(text.decode(), r"^gw\.test Sekisho/")
        self.assertEqual(s.ehlo()[0], 250)
        return s

    def assert_relays_far(self, s, client, extra=""):
        """A mail to far() on s is queued, delivered, and logged by postfix as
        from client followed by extra (see assertClient)."""
        qid = self.queue(s, self.far())
        self.assertDelivered(qid, self.far())
        self.assertClient(qid, client, extra)

    def assertClient(self, qid, client, extra=""):
        """postfix logged the mail qid as received from client (its
        name[address] form), followed by extra (e.g. the SASL login)."""
        self.postfix.wait_log(r"%s: client=%s%s$" % (qid, re.escape(client), re.escape(extra)))


class TestXclientParent(PostfixParentCase):
    """No authentication mode at the gateway, xclient=yes (the default)."""

    def test_xclient_outside_relay_refused_by_the_parent(self):
        s = self.connect(OUTSIDE, helo="outside.client")
        self.assertEqual(self.rcpt(s, self.far()), pf.relay_denied(self.far()))
        line = self.postfix.wait_log(
            r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.2\]: 554 5\.7\.1 <%s>: Relay access "
            r"denied;" % re.escape(self.far()))[-1]
        self.assertIn("helo=<outside.client>", line)
        self.gw.wait_log("info", r"XCLIENT: the parent was told client \[127\.0\.0\.2\]$")
        s.quit()
        # The probe EHLO, XCLIENT and the client's own EHLO: one session,
        # which postfix closes as the outside client's (it counts XCLIENT
        # as "0/1", the session it started having been replaced).
        self.postfix.wait_log(r"disconnect from unknown\[127\.0\.0\.2\] ehlo=2 xclient=\S+ "
                              r"mail=1 rcpt=0/1 quit=1")

    def test_xclient_local_mail_delivered_with_the_clients_received_header(self):
        s = self.connect(OUTSIDE, helo="outside.client")
        qid = self.queue(s, self.local())
        mail = self.assertDelivered(qid, self.local())
        self.assertIn("Received: from outside.client (unknown [127.0.0.2])\n"
                      "\tby parent.test (Postfix) with ESMTP id %s" % qid, mail)
        self.assertClient(qid, "unknown[127.0.0.2]")

    def test_xclient_helo_client_is_passed_as_smtp(self):
        """A HELO (not EHLO) client: PROTO=SMTP and HELO again after
        XCLIENT; postfix logs and stamps the mail as plain SMTP."""
        s = smtplib.SMTP(timeout=TIMEOUT, source_address=(OUTSIDE, 0),
                         local_hostname="old.client")
        self.addCleanup(s.close)
        self.assertEqual(s.connect("127.0.0.1", self.gw.port)[0], 220)
        self.assertEqual(s.helo()[0], 250)
        self.assertEqual(self.rcpt(s, self.far()), pf.relay_denied(self.far()))
        line = self.postfix.wait_log(r"reject: RCPT from unknown\[127\.0\.0\.2\]: .*<%s>"
                                     % re.escape(self.far()))[-1]
        self.assertIn("proto=SMTP helo=<old.client>", line)
        self.assertEqual(s.rset()[0], 250)
        qid = self.queue(s, self.local())
        mail = self.assertDelivered(qid, self.local())
        self.assertIn("Received: from old.client (unknown [127.0.0.2])\n"
                      "\tby parent.test (Postfix) with SMTP id %s" % qid, mail)

    def test_xclient_client_without_helo_is_still_the_client(self):
        """MAIL with no HELO before it: XCLIENT goes out all the same (HELO
        unavailable), and postfix judges the outside address."""
        s = smtplib.SMTP(timeout=TIMEOUT, source_address=(OUTSIDE, 0))
        self.addCleanup(s.close)
        self.assertEqual(s.connect("127.0.0.1", self.gw.port)[0], 220)
        self.assertEqual(s.docmd("MAIL", "FROM:<%s>" % SENDER), (250, b"2.1.0 Ok"))
        self.assertEqual(s.docmd("RCPT", "TO:<%s>" % self.far()), pf.relay_denied(self.far()))
        self.postfix.wait_log(r"reject: RCPT from unknown\[127\.0\.0\.2\]: .*<%s>"
                              % re.escape(self.far()))

    def test_xclient_every_trick_gets_the_verdict_the_client_gets_directly(self):
        """The acl_rcpt=no matrix: the gateway lets every trick through and
        postfix judges each as if the outside client spoke to it."""
        def verdicts(s):
            self.assertEqual(s.mail(SENDER), (250, b"2.1.0 Ok"))
            return [s.docmd("RCPT", "TO:<%s>" % a) for a in RELAY_TRICKS]

        direct = smtplib.SMTP(timeout=TIMEOUT, source_address=(OUTSIDE, 0),
                              local_hostname="outside.client")
        self.addCleanup(direct.close)
        self.assertEqual(direct.connect(self.postfix.host, self.postfix.port)[0], 220)
        self.assertEqual(direct.ehlo()[0], 250)
        expected = verdicts(direct)
        got = verdicts(self.connect(OUTSIDE, helo="outside.client"))
        self.assertIn(pf.relay_denied("user@outside.example"), expected)
        for addr, want, have in zip(RELAY_TRICKS, expected, got):
            with self.subTest(addr=addr[:60]):
                self.assertEqual(have[0], want[0], (want, have))
                if b"Sekisho/" not in have[1]:  # relayed, not the gateway's own
                    self.assertEqual(have, want)


class TestXclientOff(PostfixParentCase):
    """xclient=no: postfix sees the gateway (in mynetworks) and relays for
    anyone the gateway lets through: the open relay the default closes."""
    SECTION = {"xclient": "no"}

    def test_xclient_no_the_parent_relays_for_the_outside_client(self):
        s = self.connect(OUTSIDE)
        self.assert_relays_far(s, "unknown[127.0.0.1]")


class TestXclientAuthModes(PostfixParentCase):
    """proxymail_auth, pbs and lan on: each way of being authorised at the
    gateway reaches postfix as XCLIENT LOGIN or as the LAN address."""
    SECTION = {"proxymail_auth": "yes", "pbs": "yes", "lan": "yes"}
    HOSTS_ALLOW = "smtp_lan: %s %s\n" % (LAN, LAN_ONLY)

    def test_smtp8_auth_at_the_proxy_relays_as_its_user(self):
        s = self.connect(OUTSIDE)
        code, text = s.docmd("AUTH", "PLAIN " + PLAIN_OK)
        self.assertEqual(code, 235)
        self.assertRegex(text.decode(), r"^ok authed " + PRODUCT_RX + "$")
        self.assert_relays_far(s, "unknown[127.0.0.2]",
                               ", sasl_method=XCLIENT, sasl_username=alice")
        self.gw.wait_log("info", r"XCLIENT: the parent was told client \[127\.0\.0\.2\] login "
                                 r"alice$")

    def test_auth7_pbs_client_relays_as_pop_before_smtp(self):
        pop_login(PBS)
        s = self.connect(PBS)
        self.assert_relays_far(s, "unknown[127.0.0.4]",
                               ", sasl_method=XCLIENT, sasl_username=pop-before-smtp")

    def test_auth4_lan_client_relays_in_the_parents_mynetworks(self):
        s = self.connect(LAN)
        self.assert_relays_far(s, "unknown[127.0.0.3]")

    def test_auth4_lan_client_unknown_to_the_parent_is_refused_by_it(self):
        """With XCLIENT, smtp_lan opens the gateway only: the parent needs
        the LAN in its own mynetworks."""
        s = self.connect(LAN_ONLY)
        self.assertEqual(self.rcpt(s, self.far()), pf.relay_denied(self.far()))
        self.postfix.wait_log(r"reject: RCPT from unknown\[127\.0\.0\.5\]: 554 5\.7\.1 <%s>"
                              % re.escape(self.far()))


class TestXclientAclRcptAuth(PostfixParentCase):
    """acl_rcpt=yes with proxymail_auth=yes: without the gate of SMTP-4 an
    unauthenticated client may send to the local domain first, so the
    first MAIL (and its XCLIENT) may come before AUTH."""
    SECTION = {"acl_rcpt": "yes", "proxymail_auth": "yes"}
    HOSTS_ALLOW = "smtp_rcpt: %s\n" % pf.LOCAL_DOMAIN

    def test_smtp7_outside_client_refused_by_the_gateway_first(self):
        s = self.connect(OUTSIDE)
        self.assertEqual(s.mail(SENDER), (250, b"2.1.0 Ok"))
        code, text = s.rcpt(self.far())
        self.assertEqual(code, 550)
        self.assertRegex(text.decode(), r"^Relaying denied\. " + PRODUCT_RX + "$")
        self.assertEqual(s.rset()[0], 250)
        qid = self.queue(s, self.local())
        self.assertDelivered(qid, self.local())
        self.assertClient(qid, "unknown[127.0.0.2]")

    def test_smtp8_auth_after_a_first_mail_is_refused(self):
        """AUTH after a first (local) mail: XCLIENT went out before that
        MAIL without LOGIN, and postfix takes no second XCLIENT from the
        outside address, so the login could never reach it. The gateway
        refuses the AUTH (503) rather than relay what the parent would
        refuse after a 235; the client can reconnect and AUTH first."""
        s = self.connect(OUTSIDE)
        first = self.queue(s, self.local())
        self.assertDelivered(first, self.local())
        code, text = s.docmd("AUTH", "PLAIN " + PLAIN_OK)
        self.assertEqual(code, 503, text)
        self.assertRegex(text.decode(), r"^5\.5\.1 Error: AUTH must come before the first MAIL ")
        code, text = self.rcpt(s, self.far())
        self.assertEqual(code, 550, text)  # acl_rcpt: not authenticated, not relayed
        # A new session that authenticates first relays.
        s2 = self.connect(OUTSIDE)
        code, text = s2.docmd("AUTH", "PLAIN " + PLAIN_OK)
        self.assertEqual(code, 235, text)
        self.assertEqual(self.rcpt(s2, self.far()), (250, b"2.1.5 Ok"))


class TestXforwardOnlyParent(PostfixParentCase):
    """A postfix of its own that authorises 127.0.0.1 for XFORWARD only."""
    POSTFIX_MAIN = {"smtpd_authorized_xforward_hosts": "127.0.0.1"}

    def test_xforward_each_mail_names_the_client_in_the_parents_log(self):
        """XFORWARD before each MAIL (postfix forgets it after each mail).
        It is for logging: postfix still relays for the gateway's address,
        so with such a parent the gateway's own relay control is what
        stands (SMTP-12)."""
        s = self.connect(OUTSIDE, helo="outside.client")
        first = self.queue(s, self.far())
        second = self.queue(s, self.local())
        for qid, rcpt in ((first, self.far()), (second, self.local())):
            self.assertDelivered(qid, rcpt)
            self.assertClient(qid, "unknown[127.0.0.1]", ", orig_client=unknown[127.0.0.2]")


class TestXclientIpv6Client(PostfixParentCase):
    """The gateway on ::1; postfix listens on IPv4 and IPv6 (so IPv6 is on
    in it) and is reached over IPv4."""
    LISTEN = "::1"

    def test_xclient_ipv6_client_is_judged_by_its_address(self):
        s = self.connect("::1", helo="outside.client", host="::1")
        self.assertEqual(self.rcpt(s, self.far()), pf.relay_denied(self.far()))
        self.postfix.wait_log(r"reject: RCPT from unknown\[::1\]: 554 5\.7\.1 <%s>"
                              % re.escape(self.far()))
        self.assertEqual(s.rset()[0], 250)
        qid = self.queue(s, self.local())
        mail = self.assertDelivered(qid, self.local())
        self.assertIn("Received: from outside.client (unknown [IPv6:::1])", mail)
        self.assertClient(qid, "unknown[::1]")


class TestXclientRefused(ParentCase):
    """A scripted parent that offers XCLIENT (with ADDR) and refuses it, or
    refuses the HELO that follows it: the session must not go on as the
    gateway's."""
    OFFER = "250-parent.test\r\n250-XCLIENT NAME ADDR PROTO HELO\r\n250 8BITMIME"

    def test_xclient_refused_ends_the_session_with_421(self):
        self.parent.reset(EHLO=self.OFFER, **{"*": lambda line, n: (
            "550 5.7.0 Error: insufficient authorization"
            if line.upper().startswith("XCLIENT") else None)})
        c = self.client()
        reply = c.cmd("EHLO client.test")
        self.assertTrue(reply.startswith("250-"), reply)
        self.assertNotIn("XCLIENT", reply)  # the gateway's, never the client's
        self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER),
                             "421 4.7.0 Cannot pass the client to the mail server (127.0.0.1:%d)"
                             % self.parent.port)
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands(),
                         ["EHLO gw.test", "XCLIENT NAME=[UNAVAILABLE] ADDR=127.0.0.1 PROTO=ESMTP "
                                          "HELO=client.test"])
        self.error_line("XCLIENT refused by the parent (127.0.0.1:%d): buf=[550 5.7.0 Error: "
                        "insufficient authorization]; session ended (the parent would see the "
                        "gateway's address)" % self.parent.port)

    def test_xclient_helo_after_it_refused_ends_the_session_with_421(self):
        self.parent.reset(
            EHLO=lambda line, n: self.OFFER if n == 1 else "550 5.7.1 <client.test>: Helo "
                                                            "command rejected",
            **{"*": lambda line, n: ("220 parent.test ESMTP scripted"
                                     if line.upper().startswith("XCLIENT") else None)})
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.test").startswith("250-"))
        self.assertGenerated(c.cmd("MAIL FROM:<%s>" % SENDER),
                             "421 4.7.0 Cannot pass the client to the mail server (127.0.0.1:%d)"
                             % self.parent.port)
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(self.parent.all_commands()[1:],
                         ["XCLIENT NAME=[UNAVAILABLE] ADDR=127.0.0.1 PROTO=ESMTP HELO=client.test",
                          "EHLO client.test"])
        self.error_line("EHLO after XCLIENT refused by the parent (127.0.0.1:%d): buf=[550 5.7.1 "
                        "<client.test>: Helo command rejected]; session ended (the parent would "
                        "see the gateway's address)" % self.parent.port)

if __name__ == "__main__":
    unittest.main()
