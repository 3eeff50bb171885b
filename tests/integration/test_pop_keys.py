"""The [pop] keys beside the dialogue and RETR: pop_service, pop_from,
pop_to, acl_from, acl_to, reverselookup, pre_spawn (options.tsv `pop`
rows; CFG-7: an ini list replaces that field of hosts.allow). Each class
is one gateway; each test asserts the key's effect."""
import os
import subprocess
import unittest

import harness
from harness.pop_proxy import PopCase, PopEnv, RawPop

ENV = {}


def setUpModule():
    ENV["env"] = PopEnv("pop-keys")


def tearDownModule():
    ENV["env"].stop()


class KeyCase(PopCase):
    ENV = ENV

    def refused_at_connect(self):
        c = RawPop(self.gw.port, greet=False)
        self.addCleanup(c.close)
        self.assertEqual(c.wait_closed(), b"")

    def admitted(self):
        c = self.client()
        self.assertTrue(c.greeting.startswith(b"+OK sekisho-test a ready."), c.greeting)
        return c


class TestPopServiceSwitch(KeyCase):
    """pop_service=yes: --service-enabled says so (exit 0) and the service
    starts without the "started anyway" note of pop_service=no."""
    SECTION = {"pop_service": "yes"}

    def test_pop_service_yes(self):
        q = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--pop", "-f", self.gw.ini,
                            "--service-enabled"], capture_output=True, text=True, timeout=30)
        self.assertEqual(q.returncode, 0, q.stdout + q.stderr)
        self.assertEqual(q.stdout, "pop_service=yes in %s\n" % self.gw.ini)
        self.assertNotIn("started anyway", self.gw.log_text("info"))
        self.admitted()

    def test_pop_service_no_by_hand(self):
        # The other classes run with the default (no): started by hand anyway.
        ini = os.path.join(self.dir, "off.ini")
        with open(self.gw.ini) as f:
            text = f.read().replace("pop_service=yes", "pop_service=no")
        with open(ini, "w") as f:
            f.write(text)
        q = subprocess.run([os.path.join(harness.BIN, "sekisho"), "--pop", "-f", ini,
                            "--service-enabled"], capture_output=True, text=True, timeout=30)
        self.assertEqual(q.returncode, 1, q.stdout + q.stderr)
        self.assertEqual(q.stdout, "pop_service=no in %s\n" % ini)


class TestPopFromReplacesHostsAllow(KeyCase):
    SECTION = {"acl_from": "yes", "pop_from": "10.0.0.0/255.0.0.0"}
    HOSTS_ALLOW = "pop_from: 127.0.0.1\n"  # replaced by the ini list

    def test_client_not_in_pop_from_refused(self):
        self.refused_at_connect()
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:127\.0\.0\.1\]$")


class TestPopFromAdmits(KeyCase):
    SECTION = {"acl_from": "yes", "pop_from": "127.0.0.1"}
    HOSTS_ALLOW = "pop_from: 10.0.0.1\n"

    def test_client_in_pop_from_admitted(self):
        c = self.admitted()
        c.login()
        self.assertEqual(c.cmd("QUIT"), b"+OK Logging out.")


class TestAclFromHostsAllow(KeyCase):
    SECTION = {"acl_from": "yes"}
    HOSTS_ALLOW = "pop_from: 127.0.0.2\n"

    def test_acl_from_by_address(self):
        c = self.client(source="127.0.0.2")
        self.assertTrue(c.greeting.startswith(b"+OK sekisho-test a ready."))
        self.refused_at_connect()  # from 127.0.0.1
        self.gw.wait_log("info", r"Access Denied from \[127\.0\.0\.1:")


class TestPopToRefuses(KeyCase):
    SECTION = {"acl_to": "yes", "pop_to": "10.0.0.1"}
    HOSTS_ALLOW = "pop_to: 127.0.0.1\n"  # replaced by the ini list

    def test_server_not_in_pop_to(self):
        c = self.client()
        self.assertEqual(c.greeting.decode(),
                         "-ERR Can't Connect to (127.0.0.1:%d) errmsg=[CONNECT(127.0.0.1:%d)/"
                         "Access Inhibited by Proxy(SEKISHO)]" % (self.a.port, self.a.port))
        self.assertEqual(c.wait_closed(), b"")
        self.gw.wait_log("info", r"Access Denied to \[127\.0\.0\.1:127\.0\.0\.1\]")


class TestPopToAdmits(KeyCase):
    SECTION = {"acl_to": "yes", "pop_to": "127.0.0.1"}
    HOSTS_ALLOW = "pop_to: 10.0.0.1\n"

    def test_server_in_pop_to(self):
        self.admitted()


class TestAclToSelfProxy(KeyCase):
    """acl_to with self_proxy: the server the client names is checked
    before it is contacted."""
    SECTION = {"acl_to": "yes", "self_proxy": "yes"}
    HOSTS_ALLOW = "pop_to: 127.0.0.1\n"

    def test_named_server_checked(self):
        c = self.client()
        self.assertEqual(c.cmd("USER alice@127.0.0.2:%d" % self.b.port).decode(),
                         "-ERR Can't Connect to (127.0.0.2:%d) errmsg=[CONNECT(127.0.0.2:%d)/"
                         "Access Inhibited by Proxy(SEKISHO)]" % (self.b.port, self.b.port))
        c = self.client()
        self.assertEqual(c.cmd("USER alice@127.0.0.1:%d" % self.b.port), b"+OK")
        self.assertEqual(c.cmd("PASS b-pw"), b"+OK Logged in.")


class TestReverseLookup(KeyCase):
    SECTION = {"acl_from": "yes", "reverselookup": "yes"}
    HOSTS_ALLOW = "pop_from: localhost\n"

    def test_name_pattern_admits_and_record_names_the_client(self):
        c = self.admitted()
        c.login()
        c.multi("RETR 1")
        c.cmd("QUIT")
        line = self.gw.wait_log("access", r" GET pop://alice@")[-1]
        self.assertRegex(line, r"^\d+\.\d{3} +\d+ localhost TCP_MISS/200 ")


class TestPreSpawn(KeyCase):
    """pre_spawn is the number of simultaneous clients: beyond it LOG-E2,
    and the service recovers once they go."""
    SECTION = {"pre_spawn": "2"}

    def test_pre_spawn_limits_sessions(self):
        held = [self.admitted(), self.admitted()]
        extra = [RawPop(self.gw.port, greet=False) for _ in range(2)]
        for c in extra:
            self.addCleanup(c.close)
        self.gw.wait_log("error", r"Maximum connections: warning: Client connections reached "
                                  r"maximum connections \(2\)")
        for c in held:
            c.close()
        for c in extra:
            c.close()
        c = harness.wait_for(lambda: self._try(), 20, what="a session after the others left")
        self.assertTrue(c.greeting.startswith(b"+OK sekisho-test a ready."))

    def _try(self):
        try:
            c = RawPop(self.gw.port, timeout=3)
        except OSError:
            return None
        if not c.greeting.startswith(b"+OK"):
            c.close()
            return None
        self.addCleanup(c.close)
        return c


if __name__ == "__main__":
    unittest.main()
