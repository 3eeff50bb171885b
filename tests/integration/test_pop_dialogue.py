"""The POP proxy's dialogue (spec §7 POP-2..POP-6, POP-8, G-16, AUTH-7, G-07)
against two real dovecot instances and a scripted server (harness/pop_proxy).

Each test names the POP-n item or the `pop` row of spec/responses.tsv it
shows; docs/internals/pop-coverage.md maps them. RETR, scanning and records
are test_pop_retr.py; hostile clients and servers test_pop_hostile.py;
the keys of [pop] test_pop_keys.py."""
import base64
import hashlib
import poplib
import re
import signal
import time
import unittest

import harness
from harness import mail_fixtures as mf
from harness.pop_proxy import (ORDER, PRODUCT_RX, FakePop, PopCase, PopEnv, RawPop, msgno,
                               pbs_dump, stuff)

ENV = {}
CANT_CONNECT_REFUSED = (r"^-ERR Can't Connect to \(127\.0\.0\.1:%d\) "
                        r"errmsg=\[CONNECT\(127\.0\.0\.1:%d\)/connect: Connection refused\]$")


def setUpModule():
    ENV["env"] = PopEnv("pop-dialogue")


def tearDownModule():
    ENV["env"].stop()


def closed_port():
    """A loopback port nobody listens on."""
    return harness.free_port()


def direct(server):
    return RawPop(server.port, host=server.host)


class DialogueCase(PopCase):
    ENV = ENV


# ---- self_proxy=no: the parent server at once (POP-2) ---------------------------------

class TestRelayedServer(DialogueCase):
    """self_proxy=no: the server is contacted at once, its greeting and
    every reply are the client's (POP-2, POP-4 first sentence, POP-5,
    POP-6, POP-8)."""

    def test_pop2_greeting_of_the_server_relayed(self):
        # responses.tsv: "Client connects, self_proxy=no ...: server greeting relayed"
        c = self.client()
        self.assertRegex(c.greeting, rb"^\+OK sekisho-test a ready\. <[^<>]+>$")
        self.assertEqual(c.cmd("QUIT"), b"+OK Logging out")
        self.assertEqual(c.wait_closed(), b"")

    def test_pop4_user_relayed_as_sent(self):
        # self_proxy=no: "USER name@host" is not split, the server gets it whole.
        c = self.client()
        self.assertEqual(c.cmd("USER alice@127.0.0.1:%d" % self.b.port), b"+OK")
        self.assertTrue(c.cmd("PASS b-pw").startswith(b"-ERR [AUTH]"))
        self.assertEqual(c.cmd("USER alice"), b"+OK")
        self.assertEqual(c.cmd("PASS alice-pw"), b"+OK Logged in.")
        self.assertIn("alice", harness.dovecot.wait_for_logins(self.a, 1))

    def test_pop5_quit_relayed_when_connected(self):
        # responses.tsv: QUIT when connected: the server's reply relayed.
        c = self.client()
        c.login()
        self.assertEqual(c.cmd("QUIT"), b"+OK Logging out.")
        self.assertEqual(c.wait_closed(), b"")

    def test_pop8_every_other_command_relayed_byte_for_byte(self):
        # responses.tsv: "All other commands ... <server reply relayed>": the
        # proxy's replies are the server's own, bodies (dot-stuffing
        # included) as sent.
        cmds = ["STAT", "LIST", "LIST 1", "LIST 99", "UIDL", "UIDL 2", "NOOP", "RSET",
                "TOP %d 0" % msgno("clean_text"), "TOP %d 20" % msgno("dots"),
                "TOP %d 50" % msgno("eicar"), "XYZZY", "LAST"]
        got = {}
        for name, conn in (("proxy", self.client()), ("direct", direct(self.a))):
            with conn:
                conn.login()
                replies = []
                for line in cmds:
                    st = conn.cmd(line)
                    multi = (line in ("LIST", "UIDL") or line.startswith("TOP")) and \
                        st.startswith(b"+OK")
                    replies.append((line, st, conn.body() if multi else None))
                got[name] = replies
                conn.cmd("QUIT")
        self.assertEqual(got["proxy"], got["direct"])
        top_dots = dict((l, b) for l, _s, b in got["proxy"])["TOP %d 20" % msgno("dots")]
        self.assertIn(b"\r\n..hidden line\r\n...two periods\r\n..\r\n", top_dots)

    def test_c30_top_of_the_eicar_mail_relayed_unscanned(self):
        # C-30: only RETR is scanned; TOP hands out the virus unchanged and
        # leaves no record.
        before = len(self.gw.log_lines("access"))
        c = self.client()
        c.login()
        st, body = c.multi("TOP %d 100" % msgno("eicar"))
        self.assertTrue(st.startswith(b"+OK"), st)
        self.assertEqual(body, stuff(mf.FIXTURES["eicar"]))
        c.cmd("QUIT")
        c.wait_closed()
        time.sleep(0.5)
        self.assertEqual(len(self.gw.log_lines("access")), before)
        self.assertNotIn("Eicar", self.gw.log_text("detect"))

    def test_pop8_dele_and_rset_relayed(self):
        c = self.client()
        c.login("bob", "bob secret")
        self.assertEqual(c.cmd("DELE 1"), b"+OK Marked to be deleted.")
        self.assertTrue(c.cmd("LIST 1").startswith(b"-ERR"))
        self.assertTrue(c.cmd("RSET").startswith(b"+OK"))
        self.assertTrue(c.cmd("LIST 1").startswith(b"+OK 1 "))
        self.assertEqual(c.cmd("QUIT"), b"+OK Logging out.")

    def test_pop8_with_poplib(self):
        p = poplib.POP3("127.0.0.1", self.gw.port, timeout=harness.pop_proxy.TIMEOUT)
        self.assertTrue(p.getwelcome().startswith(b"+OK sekisho-test a ready."))
        p.user("alice")
        p.pass_("alice-pw")
        self.assertEqual(p.stat()[0], len(ORDER))
        _r, listing, _ = p.list()
        self.assertEqual([int(x.split()[1]) for x in listing], [len(mf.FIXTURES[n]) for n in ORDER])
        self.assertEqual(len(p.uidl()[1]), len(ORDER))
        _r, lines, _ = p.top(msgno("clean_text"), 0)
        self.assertEqual(b"".join(ln + b"\r\n" for ln in lines),
                         mf.FIXTURES["clean_text"].split(b"\r\n\r\n")[0] + b"\r\n\r\n")
        self.assertTrue(p.noop().startswith(b"+OK"))
        self.assertTrue(p.rset().startswith(b"+OK"))
        capa = p.capa()
        self.assertIn("UIDL", capa)
        self.assertTrue(p.quit().startswith(b"+OK"))

    def test_pop6_apop_relayed(self):
        # self_proxy=no: the greeting's timestamp is the server's, so APOP
        # works through the proxy; a wrong digest is the server's -ERR.
        p = poplib.POP3("127.0.0.1", self.gw.port, timeout=harness.pop_proxy.TIMEOUT)
        self.assertTrue(p.apop("alice", "alice-pw").startswith(b"+OK"))
        self.assertEqual(p.stat()[0], len(ORDER))
        p.quit()
        p = poplib.POP3("127.0.0.1", self.gw.port, timeout=harness.pop_proxy.TIMEOUT)
        with self.assertRaises(poplib.error_proto):
            p.apop("alice", "wrong")
        p.quit()

    def test_pop6_auth_plain_exchange_relayed(self):
        # RFC 5034: the continuation "+ " and the client's answer go through.
        c = self.client()
        st = c.cmd("AUTH PLAIN")
        self.assertTrue(st.startswith(b"+") and not st.startswith(b"+OK"), st)
        self.assertEqual(c.cmd(base64.b64encode(b"\0alice\0alice-pw")), b"+OK Logged in.")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK %d " % len(ORDER)))
        c.cmd("QUIT")
        # with the initial response on the command line
        c = self.client()
        st = c.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0bob\0bob secret"))
        self.assertEqual(st, b"+OK Logged in.")
        # a refused exchange: the server's -ERR
        c = self.client()
        self.assertTrue(c.cmd("AUTH PLAIN").startswith(b"+"))
        self.assertTrue(c.cmd(base64.b64encode(b"\0alice\0nope")).startswith(b"-ERR"))
        self.assertEqual(c.cmd("USER alice"), b"+OK")

    def test_pop8_bare_auth_lists_the_mechanisms(self):
        st, body = self.client().multi("AUTH")
        self.assertTrue(st.startswith(b"+OK"), st)
        self.assertIn(b"\r\nPLAIN\r\n", b"\r\n" + body)

    def test_pop3_line_of_998_bytes_taken_999_refused(self):
        # responses.tsv: "Command line longer than 998 bytes": -ERR Too long line.
        c = self.client()
        line = b"NOOP " + b"x" * (998 - 5)
        st = c.cmd(line)
        self.assertNotEqual(st, b"-ERR Too long line")
        self.assertTrue(st.startswith((b"+OK", b"-ERR")), st)
        self.assertEqual(c.cmd(b"NOOP " + b"x" * (999 - 5)), b"-ERR Too long line")
        self.assertEqual(c.wait_closed(), b"")


class TestPopBeforeSmtpFeed(DialogueCase):
    """AUTH-7, G-07, POP-6: a positive reply to PASS, APOP or AUTH records
    the client's address in <tmpdir>/pbs.lmdb (key: the address, value:
    decimal epoch seconds); a refused one does not."""

    def test_auth7_logins_recorded_refusals_not(self):
        t0 = int(time.time())
        c = self.client(source="127.0.0.2")
        c.login()
        c = self.client(source="127.0.0.3")
        self.assertEqual(c.cmd("USER alice"), b"+OK")
        self.assertTrue(c.cmd("PASS wrong").startswith(b"-ERR"))
        c = self.client(source="127.0.0.4")
        stamp = re.search(rb"<[^<>]+>", c.greeting).group(0)
        digest = hashlib.md5(stamp + b"alice-pw").hexdigest()
        self.assertEqual(c.cmd("APOP alice " + digest), b"+OK Logged in.")
        c = self.client(source="127.0.0.5")
        self.assertTrue(c.cmd("AUTH PLAIN").startswith(b"+"))
        self.assertEqual(c.cmd(base64.b64encode(b"\0alice\0alice-pw")), b"+OK Logged in.")
        c = self.client(source="127.0.0.6")
        self.assertTrue(c.cmd(b"AUTH PLAIN " + base64.b64encode(b"\0alice\0x")).startswith(b"-ERR"))
        store = pbs_dump(self.tmpdir())
        self.assertEqual(sorted(a for a in store if a != "127.0.0.1"),
                         ["127.0.0.2", "127.0.0.4", "127.0.0.5"])
        for addr in ("127.0.0.2", "127.0.0.4", "127.0.0.5"):
            self.assertLessEqual(t0, store[addr])
            self.assertLessEqual(store[addr], int(time.time()))

    def test_auth7_store_emptied_at_service_start(self):
        c = self.client(source="127.0.0.7")
        c.login()
        c.cmd("QUIT")
        self.assertIn("127.0.0.7", pbs_dump(self.tmpdir()))
        self.gw.stop()
        self.assertIn("127.0.0.7", pbs_dump(self.tmpdir()))  # kept while stopped
        self.gw.start()
        self.assertEqual(pbs_dump(self.tmpdir()), {})


class TestConnectFailure(DialogueCase):
    """POP-2: self_proxy=no and the server cannot be reached."""
    PARENT = None
    PORT = closed_port()
    SECTION = {"parent_server_host": "127.0.0.1", "parent_server_port": str(PORT)}

    def test_pop2_cant_connect(self):
        # responses.tsv: "Connection to server failed (at connect ...)"
        c = self.client()
        self.assertRegex(c.greeting, (CANT_CONNECT_REFUSED % (self.PORT, self.PORT)).encode())
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("error", r"CONNECT\(127\.0\.0\.1:%d\)/connect: Connection refused"
                         % self.PORT)


# ---- self_proxy=yes: the client names the server (POP-2..POP-5, G-16) -------------------

class TestSelfProxy(DialogueCase):
    SECTION = {"self_proxy": "yes"}

    def test_pop2_own_greeting(self):
        # responses.tsv: "+OK <product_name> starting."
        c = self.client()
        self.assertRegex(c.greeting.decode(), r"^\+OK %s starting\.$" % PRODUCT_RX)

    def test_pop3_use_user_first(self):
        # responses.tsv: "No server connection yet and command is not USER or QUIT"
        c = self.client()
        for line in ("STAT", "PASS alice-pw", "LIST", "RETR 1", "CAPA", "NOOP", "TOP 1 0",
                     "AUTH PLAIN", "XYZZY", "uidl"):
            self.assertEqual(c.cmd(line), b"-ERR please use USER command at first.", line)
        self.assertEqual(c.cmd("QUIT"), b"+OK Quit")

    def test_pop1_apop_refused_with_self_proxy(self):
        # POP-1: APOP cannot be used with self_proxy=yes; before USER it is
        # refused by POP-3's rule, and the server never sees it.
        p = poplib.POP3("127.0.0.1", self.gw.port, timeout=harness.pop_proxy.TIMEOUT)
        with self.assertRaises(poplib.error_proto) as cm:
            # poplib needs a timestamp in the greeting: ours has none
            p.apop("alice", "alice-pw")
        self.assertIn("APOP not supported", str(cm.exception))
        c = self.client()
        self.assertEqual(c.cmd("APOP alice 0123456789abcdef0123456789abcdef"),
                         b"-ERR please use USER command at first.")

    def test_pop4_user_at_host_port_selects_the_server(self):
        for sep, server, other, password in (("@", self.b, self.a, "b-pw"),
                                             ("#", self.a, self.b, "alice-pw"),
                                             ("@", self.a, self.b, "alice-pw")):
            before = (len(server.logins()), len(other.logins()))
            c = self.client()
            self.assertEqual(c.cmd("USER alice%s127.0.0.1:%d" % (sep, server.port)), b"+OK")
            self.assertEqual(c.cmd("PASS " + password), b"+OK Logged in.")
            st, body = c.multi("RETR 1")
            self.assertTrue(st.startswith(b"+OK"), st)
            want = self.env.B_MAIL if server is self.b else mf.FIXTURES[ORDER[0]]
            self.assertEqual(body, stuff(want))
            self.assertEqual(c.cmd("QUIT"), b"+OK Logging out.")
            harness.dovecot.wait_for_logins(server, before[0] + 1)
            self.assertEqual(len(other.logins()), before[1])

    def test_g16_port_defaults_to_parent_server_port(self):
        # "USER name@host" without a port: parent_server_port (a's).
        c = self.client()
        self.assertEqual(c.cmd("USER alice@127.0.0.1"), b"+OK")
        self.assertEqual(c.cmd("PASS alice-pw"), b"+OK Logged in.")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK %d " % len(ORDER)))

    def test_pop4_user_without_at_goes_to_the_parent(self):
        c = self.client()
        self.assertEqual(c.cmd("USER bob"), b"+OK")
        self.assertEqual(c.cmd("PASS bob secret"), b"+OK Logged in.")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 1 "))

    def test_pop4_split_at_the_last_separator(self):
        fake = FakePop()
        self.addCleanup(fake.stop)
        for arg, name in (("x@y.example@127.0.0.1:%d", b"x@y.example"),
                          ("a#b@127.0.0.1:%d", b"a#b"),
                          ("a@b#127.0.0.1:%d", b"a@b"),
                          ("a@b@c#127.0.0.1:%d", b"a@b@c")):
            fake.reset()
            c = self.client()
            self.assertEqual(c.cmd("USER " + arg % fake.port), b"+OK user")
            self.assertEqual(fake.lines(), [b"USER " + name])
            self.assertEqual(c.cmd("QUIT"), b"+OK bye")

    def test_pop4_connect_failure_at_user(self):
        # responses.tsv: "Connection to server failed (... or at USER)"
        port = closed_port()
        c = self.client()
        self.assertRegex(c.cmd("USER alice@127.0.0.1:%d" % port),
                         (CANT_CONNECT_REFUSED % (port, port)).encode())
        self.assertEqual(c.wait_closed(), b"")

    def test_g16_negative_greeting_after_user(self):
        fake = FakePop(GREETING=b"-ERR too busy\r\n")
        self.addCleanup(fake.stop)
        c = self.client()
        self.assertEqual(c.cmd("USER alice@127.0.0.1:%d" % fake.port),
                         b"-ERR Can't Connect to (127.0.0.1:%d) errmsg=[-ERR too busy]" % fake.port)
        self.assertEqual(c.wait_closed(), b"")
        self.assertEqual(fake.lines(), [])

    def test_pop5_quit_without_a_server(self):
        # responses.tsv: "QUIT while not connected to a server": +OK Quit
        c = self.client()
        self.assertEqual(c.cmd("QUIT"), b"+OK Quit")
        self.assertEqual(c.wait_closed(), b"")

    def test_pop5_quit_with_a_server_relayed(self):
        c = self.client()
        self.assertEqual(c.cmd("USER alice@127.0.0.1:%d" % self.a.port), b"+OK")
        self.assertEqual(c.cmd("QUIT"), b"+OK Logging out")
        self.assertEqual(c.wait_closed(), b"")

    def test_pop3_too_long_line_before_user(self):
        c = self.client()
        self.assertEqual(c.cmd(b"USER " + b"a" * 994), b"-ERR Too long line")
        self.assertEqual(c.wait_closed(), b"")

    def test_pop4_bad_target_is_a_format_error(self):
        c = self.client()
        for arg in ("", " ", "@127.0.0.1", "alice@", "alice@[::1", "alice@host:0", "alice@h:99999",
                    "alice@ho st"):
            self.assertEqual(c.cmd("USER " + arg),
                             b"-ERR USER format is USER username@hostname or username#hostname",
                             arg)
        self.assertEqual(c.cmd("USER alice@127.0.0.1:%d" % self.a.port), b"+OK")


class TestSelfProxyWithoutParent(DialogueCase):
    """POP-4: no parent server, USER without @/#."""
    PARENT = None
    SECTION = {"self_proxy": "yes"}

    def test_pop4_user_without_at_and_no_parent(self):
        # responses.tsv: "USER without @/# while parent server is empty"
        c = self.client()
        self.assertEqual(c.cmd("USER alice"),
                         b"-ERR USER format is USER username@hostname or username#hostname")
        # the session goes on
        self.assertEqual(c.cmd("USER alice@127.0.0.1:%d" % self.b.port), b"+OK")
        self.assertEqual(c.cmd("PASS b-pw"), b"+OK Logged in.")
        self.assertTrue(c.cmd("STAT").startswith(b"+OK 1 "))

    def test_pop4_user_at_host_default_port_110(self):
        # G-16: no parent_server_port set: 110 (nobody listens there here).
        c = self.client()
        self.assertRegex(c.cmd("USER alice@127.0.0.1"),
                         rb"^-ERR Can't Connect to \(127\.0\.0\.1:110\) errmsg=\[")


class TestCapaAndStls(DialogueCase):
    """CAPA is relayed without STLS; STLS is refused, never relayed (a
    TLS session would be a tunnel the scanner cannot see into)."""
    PARENT = "fake"

    def test_capa_without_stls(self):
        c = self.client()
        self.assertEqual(c.greeting, b"+OK fake POP3 server ready")
        st, body = c.multi("CAPA")
        self.assertEqual(st, b"+OK capabilities")
        self.assertEqual(body, b"TOP\r\nUSER\r\nUIDL\r\nSASL PLAIN\r\n.\r\n")

    def test_stls_refused_not_relayed(self):
        self.fake.reset()
        c = self.client()
        self.assertEqual(c.cmd("STLS"), b"-ERR STLS is not available through this proxy")
        self.assertEqual(c.cmd("NOOP"), b"+OK")
        self.assertEqual(self.fake.lines(), [b"NOOP"])

    def test_unknown_multiline_free_reply_relayed(self):
        self.fake.reset(XTND=b"+OK xtnd done\r\n")
        c = self.client()
        self.assertEqual(c.cmd("XTND XMIT"), b"+OK xtnd done")
        self.assertEqual(c.cmd("NOOP"), b"+OK")


class TestServiceStop(DialogueCase):
    """SIGTERM between commands: the session is told and closed."""

    def test_stop_between_commands(self):
        c = self.client()
        c.login()
        self.gw.proc.send(signal.SIGTERM)
        line = c.line()
        self.assertIn(line, (b"-ERR Service shutting down, please try again later", b""))
        c.wait_closed()
        self.gw.proc.proc.wait(30)
        self.gw.start()
        c = self.client()
        self.assertTrue(c.greeting.startswith(b"+OK sekisho-test a ready."))


if __name__ == "__main__":
    unittest.main()
