"""The dovecot POP3 harness itself (issue 11), before the POP proxy uses it.

Two dovecot instances run at once (the proxy's user@host tests need two
servers), the second on ::1 when it can be bound. Python's poplib talks
DIRECTLY to them: USER/PASS and APOP logins, CAPA, LIST, UIDL, TOP and
RETR of every mail fixture, whose bytes must come back exactly (poplib
undoes the byte stuffing), and the raw wire of the stuffed mail and of a
bare AUTH (the multi-line mechanism list proto/pop3_parse expects). The
100 MB mail is the last test and is compared by digest while streaming.
"""
import hashlib
import os
import poplib
import socket
import unittest

from harness import SLOW, Workdir
from harness import dovecot as dv
from harness import mail_fixtures as mf

TIMEOUT = 30 * SLOW
ORDER = list(mf.FIXTURES)  # message n is ORDER[n - 1]


def joined(lines):
    """A message as poplib returns it (lines, unstuffed), as bytes."""
    return b"".join(line + b"\r\n" for line in lines)


def recv_until(sock, end, limit=1 << 20):
    data = b""
    while not data.endswith(end):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data


class DovecotHarness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # dovecot missing is a failure, not a skip: a skip would hide that
        # POP goes untested (dev/install-deps.sh test installs dovecot-pop3d).
        reason = dv.available()
        if reason:
            raise AssertionError("POP tests need dovecot: %s" % reason)
        cls.work = Workdir("pop-dovecot")
        cls.a = dv.Dovecot(cls.work.path, "a")
        second = ("::1",) if dv.ipv6_loopback() else ("127.0.0.1",)
        cls.b = dv.Dovecot(cls.work.path, "b", users={"alice": "other-pw", "carol": "carol-pw"},
                           addresses=second)
        cls.a.set_mailbox("alice", [mf.FIXTURES[n] for n in ORDER])
        cls.a.set_mailbox("bob", [mf.FIXTURES["clean_text"]])
        cls.b.set_mailbox("alice", [mf.plain("from b", b"served by b\r\n")])

    @classmethod
    def tearDownClass(cls):
        cls.b.stop()
        cls.a.stop()
        cls.work.cleanup()

    def pop(self, server):
        return poplib.POP3(server.host, server.port, timeout=TIMEOUT)

    def login(self, server, user, password):
        p = self.pop(server)
        p.user(user)
        p.pass_(password)
        return p

    def test_greeting_names_the_instance_and_offers_apop(self):
        p = self.pop(self.a)
        welcome = p.getwelcome()
        p.quit()
        self.assertTrue(welcome.startswith(b"+OK sekisho-test a ready. <"), welcome)
        self.assertTrue(welcome.endswith(b">"), welcome)

    def test_retr_returns_every_fixture_byte_for_byte(self):
        p = self.login(self.a, "alice", "alice-pw")
        try:
            count, _size = p.stat()
            self.assertEqual(count, len(ORDER))
            _resp, listing, _ = p.list()
            self.assertEqual([int(x.split()[0]) for x in listing], list(range(1, count + 1)))
            for n, name in enumerate(ORDER, 1):
                resp, lines, _octets = p.retr(n)
                self.assertTrue(resp.startswith(b"+OK"), resp)
                self.assertEqual(joined(lines), mf.FIXTURES[name], name)
                # LIST's size is the message in CRLF form, as sent
                self.assertEqual(int(p.list(n).split()[2]), len(mf.FIXTURES[name]), name)
            _resp, uidls, _ = p.uidl()
            self.assertEqual(len(uidls), count)
            resp, lines, _ = p.top(ORDER.index("clean_text") + 1, 0)
            head = mf.FIXTURES["clean_text"].split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            self.assertEqual(joined(lines), head)
        finally:
            p.quit()

    def test_wrong_password_and_unknown_user_are_refused(self):
        for user, password in (("alice", "wrong"), ("nobody-here", "x")):
            p = self.pop(self.a)
            p.user(user)
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_(password)
            self.assertTrue(str(cm.exception).startswith("b'-ERR"), cm.exception)
            p.quit()

    def test_password_with_a_space(self):
        p = self.login(self.a, "bob", "bob secret")
        self.assertEqual(p.stat()[0], 1)
        p.quit()

    def test_apop_login(self):
        p = self.pop(self.a)
        p.apop("alice", "alice-pw")
        self.assertEqual(p.stat()[0], len(ORDER))
        p.quit()
        p = self.pop(self.a)
        with self.assertRaises(poplib.error_proto):
            p.apop("alice", "wrong")
        p.quit()

    def test_capa_before_login(self):
        p = self.pop(self.a)
        capa = p.capa()
        p.quit()
        for cap in ("USER", "TOP", "UIDL", "PIPELINING"):
            self.assertIn(cap, capa)
        self.assertEqual(sorted(capa["SASL"]), ["LOGIN", "PLAIN"])

    def test_two_instances_serve_their_own_mailboxes(self):
        p = self.login(self.b, "alice", "other-pw")
        _resp, lines, _ = p.retr(1)
        p.quit()
        self.assertEqual(joined(lines), mf.plain("from b", b"served by b\r\n"))
        # alice's password of a is not b's, carol exists only on b
        p = self.pop(self.a)
        p.user("carol")
        with self.assertRaises(poplib.error_proto):
            p.pass_("carol-pw")
        p.quit()
        self.assertIn("alice", dv.wait_for_logins(self.b, 1))

    def test_wire_of_stuffed_mail_and_bare_auth(self):
        with socket.create_connection((self.a.host, self.a.port), timeout=TIMEOUT) as s:
            recv_until(s, b"\r\n")
            s.sendall(b"AUTH\r\n")
            # the old SASL discovery: a multi-line reply (pop3_reply_is_multiline)
            auth = recv_until(s, b"\r\n.\r\n")
            self.assertTrue(auth.startswith(b"+OK"), auth)
            self.assertIn(b"\r\nPLAIN\r\n", auth)
            s.sendall(b"USER alice\r\nPASS alice-pw\r\n")
            got = recv_until(s, b"Logged in.\r\n")
            self.assertTrue(got.startswith(b"+OK"), got)
            s.sendall(b"RETR %d\r\n" % (ORDER.index("dots") + 1))
            wire = recv_until(s, b"\r\n.\r\n")
            s.sendall(b"QUIT\r\n")
        status, body = wire.split(b"\r\n", 1)
        self.assertTrue(status.startswith(b"+OK"), status)
        stuffed = b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n"
                           for ln in mf.FIXTURES["dots"].split(b"\r\n")[:-1])
        self.assertEqual(body, stuffed + b".\r\n")
        self.assertIn(b"\r\n..\r\n...\r\n", body)

    def test_z_big_mail_streamed(self):
        """Last: 100 MB through RETR, compared by SHA-256 while streaming.
        No line of the big mail begins with a period, so the wire is the
        mail followed by the end line."""
        path = os.path.join(self.work.path, "big.eml")
        size = mf.big_mail_file(path)
        want = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                self.assertNotIn(b"\n.", chunk)
                want.update(chunk)
        self.b.add_message("carol", path=path)
        os.unlink(path)
        got = hashlib.sha256()
        with socket.create_connection((self.b.host, self.b.port), timeout=TIMEOUT) as s:
            recv_until(s, b"\r\n")
            s.sendall(b"USER carol\r\nPASS carol-pw\r\nRETR 1\r\n")
            head = b""
            while b" octets\r\n" not in head and len(head) < 4096:
                more = s.recv(4096)
                if not more:
                    break
                head += more
            head, first = head.split(b" octets\r\n", 1)
            self.assertEqual(head.split(b"\r\n")[2], b"+OK %d" % size, head)
            total, tail = 0, b""
            while total < size + 3:
                chunk = first or s.recv(1 << 20)
                first = b""
                if not chunk:
                    break
                got.update(chunk[:max(0, size - total)])
                tail = (tail + chunk)[-5:]
                total += len(chunk)
            s.sendall(b"QUIT\r\n")
        self.assertEqual(total, size + 3)
        self.assertEqual(tail, b"\r\n.\r\n")
        self.assertEqual(got.hexdigest(), want.hexdigest())


if __name__ == "__main__":
    unittest.main()
