"""The private postfix of harness/postfix.py, before the SMTP proxy uses it as
the parent that must see the real client (issue 13, deliverable 6: XCLIENT,
XFORWARD where only that is offered).

Python's smtplib talks DIRECTLY to postfix, no gateway: from 127.0.0.1 (the
host the gateway runs on, in mynetworks) and from 127.0.0.2 (bound as the
source address: a client "outside", not in mynetworks). What each test
reads: postfix's replies, its log (maillog_file) and the mails its smtp
client handed to the smtp-sink behind it. Covered, per configuration:
- nothing authorised: the LAN relays (delivered), the outside is refused
  relaying (554 5.7.1 Relay access denied) but may mail the local domain;
  EHLO offers neither XCLIENT nor XFORWARD and both are refused (550);
- smtpd_authorized_xclient_hosts / _xforward_hosts = 127.0.0.1: EHLO lists
  them with their attributes to that host only; XCLIENT ADDR=<outside>
  makes postfix refuse the relay and log the outside address; the
  authorisation follows the new address (one XCLIENT must carry every
  attribute); XCLIENT is refused inside a transaction; the EHLO after it
  replaces its HELO; IPv6 needs IPV6: (and IPv6 on in postfix); values
  are xtext; XFORWARD changes the log, not the relay decision;
- XCLIENT LOGIN: needs smtpd_sasl_auth_enable = yes on this postfix (no
  SASL backend needed); then the outside client relays as that user. A
  refused XCLIENT (501) leaves the session the gateway's: it relays;
- a real SASL backend (dovecot's auth socket): AUTH PLAIN / LOGIN from the
  outside relay, a wrong password does not, and XCLIENT LOGIN is trusted
  without being checked against the backend.
"""
import base64
import re
import smtplib
import unittest

from harness import SLOW, Workdir
from harness import postfix as pf

ENV = {}
TIMEOUT = 15 * SLOW
# Listening on ::1 too also turns IPv6 on (inet_protocols), which an IPv6
# XCLIENT ADDR needs.
BOTH = ("127.0.0.1", "::1") if pf.ipv6_loopback() else ("127.0.0.1",)
OUTSIDE = "127.0.0.2"  # a loopback address outside mynetworks
SENDER = pf.SENDER
GREETING = (220, b"parent.test ESMTP Postfix")
UNAUTHORISED = (550, b"5.7.0 Error: insufficient authorization")
XCLIENT_ATTRS = {"NAME", "ADDR", "PROTO", "HELO", "REVERSE_NAME", "PORT", "LOGIN"}
XFORWARD_ATTRS = {"NAME", "ADDR", "PROTO", "HELO", "SOURCE", "PORT", "IDENT"}


def setUpModule():
    # postfix missing is a failure, not a skip: a skip would hide that the
    # proxy's XCLIENT goes untested against a real parent.
    reason = pf.available()
    if reason:
        raise AssertionError("these tests need a private postfix: %s" % reason)
    ENV["wd"] = Workdir("postfix")


def tearDownModule():
    ENV["wd"].cleanup()


class PostfixCase(pf.MailChecks, unittest.TestCase):
    """One private postfix per class, configured by MAIN / SASL_USERS."""
    MAIN = {}
    SASL_USERS = None
    ADDRESSES = ("127.0.0.1",)

    @classmethod
    def setUpClass(cls):
        cls.postfix = pf.Postfix(ENV["wd"].path, cls.__name__, main=cls.MAIN,
                                 addresses=cls.ADDRESSES, sasl_users=cls.SASL_USERS)

    @classmethod
    def tearDownClass(cls):
        cls.postfix.stop()

    def connect(self, source="127.0.0.1", helo="client.test", host=None):
        s = smtplib.SMTP(timeout=TIMEOUT, source_address=(source, 0))
        self.addCleanup(s.close)
        self.assertEqual(s.connect(host or self.postfix.host, self.postfix.port), GREETING)
        self.assertEqual(s.ehlo(helo)[0], 250)
        return s

    def xclient(self, s, attrs, helo="outside.client"):
        """XCLIENT attrs; postfix answers with a new greeting and the
        session starts over, so EHLO again."""
        self.assertEqual(s.docmd("XCLIENT", attrs), GREETING)
        self.assertEqual(s.ehlo(helo)[0], 250)

    def assertRefused(self, s, rcpt, client):
        """RCPT rcpt is refused as a relay attempt, logged for client
        (postfix's name[address]); nothing is queued."""
        self.assertEqual(self.rcpt(s, rcpt), pf.relay_denied(rcpt))
        self.assertEqual(s.docmd("DATA"), (554, b"5.5.1 Error: no valid recipients"))
        self.postfix.wait_log(r"NOQUEUE: reject: RCPT from %s: 554 5.7.1 <%s>: Relay access denied"
                              % (re.escape(client), re.escape(rcpt)))



class LanOnly(PostfixCase):
    """mynetworks = 127.0.0.1/32 (and ::1 where it can be bound); no host
    authorised for XCLIENT or XFORWARD (postfix's defaults)."""
    ADDRESSES = BOTH
    MAIN = {"mynetworks": "127.0.0.1/32 [::1]/128"} if len(ADDRESSES) == 2 else {}

    def test_lan_client_relays_and_the_sink_gets_the_mail(self):
        s = self.connect()
        qid = self.queue(s, self.far())
        mail = self.assertDelivered(qid, self.far())
        self.assertIn("Received: from client.test (unknown [127.0.0.1])\n"
                      "\tby parent.test (Postfix) with ESMTP id %s" % qid, mail)
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.1\]$" % qid)

    def test_outside_client_is_refused_relaying(self):
        s = self.connect(OUTSIDE)
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")

    def test_outside_client_may_mail_the_local_domain(self):
        s = self.connect(OUTSIDE, helo="outside.client")
        qid = self.queue(s, self.local())
        mail = self.assertDelivered(qid, self.local())
        self.assertIn("Received: from outside.client (unknown [127.0.0.2])", mail)

    def test_lan_client_over_ipv6_relays(self):
        if "::1" not in self.ADDRESSES:
            self.skipTest("::1 cannot be bound here")
        s = self.connect("::1", host="::1")
        qid = self.queue(s, self.far())
        mail = self.assertDelivered(qid, self.far())
        self.assertIn("Received: from client.test (unknown [IPv6:::1])", mail)

    def test_neither_xclient_nor_xforward_is_offered_or_obeyed(self):
        s = self.connect()
        self.assertNotIn("xclient", s.esmtp_features)
        self.assertNotIn("xforward", s.esmtp_features)
        self.assertEqual(s.docmd("XCLIENT", "ADDR=127.0.0.2"), UNAUTHORISED)
        self.assertEqual(s.docmd("XFORWARD", "ADDR=127.0.0.2"), UNAUTHORISED)
        # The session is still the LAN client's.
        qid = self.queue(s, self.far())
        self.assertDelivered(qid, self.far())
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.1\]$" % qid)


class XclientParent(PostfixCase):
    """XCLIENT and XFORWARD authorised for 127.0.0.1 (the gateway's host);
    SASL off; IPv4 and (where it can be bound) IPv6."""
    ADDRESSES = BOTH
    MAIN = {"smtpd_authorized_xclient_hosts": "127.0.0.1",
            "smtpd_authorized_xforward_hosts": "127.0.0.1"}

    def test_ehlo_to_the_authorised_host_lists_xclient_and_xforward(self):
        s = self.connect()
        self.assertLessEqual(XCLIENT_ATTRS, set(s.esmtp_features["xclient"].split()))
        self.assertLessEqual(XFORWARD_ATTRS, set(s.esmtp_features["xforward"].split()))

    def test_ehlo_to_another_host_lists_neither(self):
        s = self.connect(OUTSIDE)
        self.assertNotIn("xclient", s.esmtp_features)
        self.assertNotIn("xforward", s.esmtp_features)
        self.assertEqual(s.docmd("XCLIENT", "ADDR=127.0.0.1"), UNAUTHORISED)
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")

    def test_xclient_outside_address_is_refused_relaying(self):
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2 NAME=[UNAVAILABLE] HELO=outside.client")
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")
        line = self.postfix.wait_log(r"reject: RCPT from unknown\[127\.0\.0\.2\]: .*<%s>"
                                     % re.escape(self.far()))[-1]
        self.assertIn("helo=<outside.client>", line)
        s.quit()
        # The TCP peer was 127.0.0.1, yet the session is logged as the outside.
        self.postfix.wait_log(r"disconnect from unknown\[127\.0\.0\.2\] ehlo=2 xclient=")

    def test_xclient_values_reach_the_log_and_the_received_header(self):
        s = self.connect()
        self.xclient(s, "NAME=client.outside.example ADDR=127.0.0.2 PORT=4321 "
                        "HELO=outside.client PROTO=ESMTP")
        qid = self.queue(s, self.local())
        mail = self.assertDelivered(qid, self.local())
        self.assertIn("Received: from outside.client (client.outside.example [127.0.0.2])\n"
                      "\tby parent.test (Postfix) with ESMTP id %s" % qid, mail)
        self.postfix.wait_log(r"%s: client=client\.outside\.example\[127\.0\.0\.2\]$" % qid)

    def test_xclient_authorisation_follows_the_new_address(self):
        """Once ADDR names a host outside smtpd_authorized_xclient_hosts, a
        second XCLIENT is refused: every attribute goes in one command."""
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2")
        self.assertNotIn("xclient", s.esmtp_features)
        self.assertEqual(s.docmd("XCLIENT", "HELO=outside.client"), UNAUTHORISED)
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")

    def test_xclient_inside_a_transaction_is_refused(self):
        s = self.connect()
        self.assertEqual(s.mail(SENDER), (250, b"2.1.0 Ok"))
        self.assertEqual(s.docmd("XCLIENT", "ADDR=127.0.0.2"),
                         (503, b"5.5.1 Error: MAIL transaction in progress"))
        self.assertEqual(s.rset(), (250, b"2.0.0 Ok"))
        self.xclient(s, "ADDR=127.0.0.2")
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")

    def test_xclient_ipv6_address_needs_the_ipv6_prefix(self):
        if "::1" not in self.ADDRESSES:
            self.skipTest("::1 cannot be bound here")
        s = self.connect()
        self.assertEqual(s.docmd("XCLIENT", "ADDR=2001:db8::5"),
                         (501, b"5.5.4 Bad ADDR syntax: 2001:db8::5"))
        self.xclient(s, "ADDR=IPV6:2001:db8::5")
        self.assertRefused(s, self.far(), "unknown[2001:db8::5]")

    def test_xclient_values_are_xtext(self):
        s = self.connect()
        # No EHLO after it: a new one would replace the HELO of XCLIENT.
        self.assertEqual(s.docmd("XCLIENT", "ADDR=127.0.0.2 HELO=outside+2Bclient"), GREETING)
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")
        line = self.postfix.wait_log(r"reject: RCPT from .*<%s>" % re.escape(self.far()))[-1]
        self.assertIn("helo=<outside+client>", line)

    def test_a_new_ehlo_replaces_the_xclient_helo(self):
        """The EHLO that follows XCLIENT (to learn the extensions again)
        sets the HELO postfix logs and checks: it must carry the client's."""
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2 HELO=outside.client", helo="gw.test")
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")
        line = self.postfix.wait_log(r"reject: RCPT from .*<%s>" % re.escape(self.far()))[-1]
        self.assertIn("helo=<gw.test>", line)

    def test_xclient_login_without_sasl(self):
        """LOGIN is accepted, but whether permit_sasl_authenticated honours
        it with smtpd_sasl_auth_enable = no depends on the postfix version
        (harness/postfix.py): the recipe enables SASL."""
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2 NAME=[UNAVAILABLE] HELO=outside.client LOGIN=alice")
        if pf.login_needs_sasl():
            self.assertRefused(s, self.far(), "unknown[127.0.0.2]")
        else:
            qid = self.queue(s, self.far())
            self.assertDelivered(qid, self.far())

    def test_xforward_changes_the_log_not_the_relay_decision(self):
        s = self.connect()
        self.assertEqual(s.docmd("XFORWARD", "ADDR=127.0.0.2 NAME=client.outside.example "
                                             "HELO=outside.client PROTO=ESMTP"),
                         (250, b"2.0.0 Ok"))
        # Still the LAN client for the relay restrictions: the outside
        # address does not stop the relay.
        qid = self.queue(s, self.far())
        mail = self.assertDelivered(qid, self.far())
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.1\], "
                              r"orig_client=client\.outside\.example\[127\.0\.0\.2\]$" % qid)
        self.assertIn("Received: from client.test (unknown [127.0.0.1])", mail)


class XclientLoginParent(PostfixCase):
    """XCLIENT authorised for 127.0.0.1 and smtpd_sasl_auth_enable = yes
    with no SASL backend (cyrus, nothing to check passwords against); IPv4
    only (inet_protocols = ipv4)."""
    MAIN = {"smtpd_authorized_xclient_hosts": "127.0.0.1", "smtpd_sasl_auth_enable": "yes"}

    def test_a_refused_xclient_leaves_the_gateways_address(self):
        """An IPv6 ADDR is a syntax error to an IPv4-only postfix; the
        session goes on as 127.0.0.1, in mynetworks, and relays: a gateway
        must not carry on after XCLIENT is refused."""
        s = self.connect()
        self.assertEqual(s.docmd("XCLIENT", "ADDR=IPV6:2001:db8::5 LOGIN=alice"),
                         (501, b"5.5.4 Bad ADDR syntax: IPV6:2001:db8::5"))
        qid = self.queue(s, self.far())
        self.assertDelivered(qid, self.far())
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.1\]$" % qid)

    def test_ehlo_lists_auth_and_xclient_login(self):
        s = self.connect()
        self.assertEqual(s.esmtp_features["auth"].split(), ["PLAIN", "LOGIN"])
        self.assertIn("LOGIN", s.esmtp_features["xclient"].split())

    def test_xclient_login_lets_the_outside_client_relay(self):
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2 NAME=[UNAVAILABLE] HELO=outside.client LOGIN=alice")
        qid = self.queue(s, self.far())
        self.assertDelivered(qid, self.far())
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.2\], sasl_method=XCLIENT, "
                              r"sasl_username=alice$" % qid)

    def test_the_same_client_without_login_is_refused(self):
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2 NAME=[UNAVAILABLE] HELO=outside.client")
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")

    def test_login_unavailable_is_no_login(self):
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2 LOGIN=[UNAVAILABLE]")
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")

    def test_auth_fails_without_a_backend(self):
        s = self.connect(OUTSIDE)
        self.assertEqual(s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice\0alice-pw")
                                 .decode()),
                         (535, b"5.7.8 Error: authentication failed: authentication failure"))
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")


class SaslParent(PostfixCase):
    """XCLIENT authorised for 127.0.0.1; AUTH checked by dovecot's auth
    server (users alice / alice-pw)."""
    MAIN = {"smtpd_authorized_xclient_hosts": "127.0.0.1"}
    SASL_USERS = {"alice": "alice-pw"}

    def test_auth_plain_lets_the_outside_client_relay(self):
        s = self.connect(OUTSIDE)
        self.assertEqual(s.esmtp_features["auth"].split(), ["PLAIN", "LOGIN"])
        self.assertEqual(s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice\0alice-pw")
                                 .decode()),
                         (235, b"2.7.0 Authentication successful"))
        qid = self.queue(s, self.far())
        self.assertDelivered(qid, self.far())
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.2\], sasl_method=PLAIN, "
                              r"sasl_username=alice$" % qid)

    def test_auth_login_lets_the_outside_client_relay(self):
        s = self.connect(OUTSIDE)
        self.assertEqual(s.docmd("AUTH", "LOGIN"), (334, b"VXNlcm5hbWU6"))  # Username:
        self.assertEqual(s.docmd(base64.b64encode(b"alice").decode()),
                         (334, b"UGFzc3dvcmQ6"))  # Password:
        self.assertEqual(s.docmd(base64.b64encode(b"alice-pw").decode()),
                         (235, b"2.7.0 Authentication successful"))
        qid = self.queue(s, self.far())
        self.assertDelivered(qid, self.far())
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.2\], sasl_method=LOGIN, "
                              r"sasl_username=alice$" % qid)

    def test_wrong_password_does_not_relay(self):
        s = self.connect(OUTSIDE)
        code, reply = s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0alice\0wrong").decode())
        self.assertEqual(code, 535, reply)
        self.assertTrue(reply.startswith(b"5.7.8 Error: authentication failed"), reply)
        self.assertRefused(s, self.far(), "unknown[127.0.0.2]")
        self.postfix.wait_log(r"warning: unknown\[127\.0\.0\.2\]: SASL PLAIN authentication "
                              r"failed: .*sasl_username=alice$")

    def test_xclient_login_is_trusted_not_checked(self):
        """postfix does not ask the backend about an XCLIENT LOGIN: the
        gateway alone vouches for the name it passes."""
        s = self.connect()
        self.xclient(s, "ADDR=127.0.0.2 LOGIN=nobody-the-backend-knows")
        qid = self.queue(s, self.far())
        self.assertDelivered(qid, self.far())
        self.postfix.wait_log(r"%s: client=unknown\[127\.0\.0\.2\], sasl_method=XCLIENT, "
                              r"sasl_username=nobody-the-backend-knows$" % qid)


if __name__ == "__main__":
    unittest.main()
