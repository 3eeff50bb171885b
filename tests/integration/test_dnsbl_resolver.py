"""proxy/spam_dnsbl against a real DNS server: RBL and SURBL lookups over
c-ares (SPAM-8, SPAM-9, G-33), through build/tests/dnsbl_probe, which runs
a check and prints the result fields as JSON, against unbound started by
harness/unbound.py with local zones that list and do not list test
addresses and domains, and a zone whose upstream answers after 3 s.

Covered, each from the result the gateway's spam check will act on:
listed / not listed and the detection name (first hit in order, RBL
before SURBL); the list error codes (127.255.255.x, and 127.0.0.1 from a
SURBL zone) and addresses outside 127/8 never list a mail and are named in
the note; IPv6 RBL names (RFC 5782 nibbles); SURBL's registered-domain
reduction, IP literals skipped, de-duplication; the 32-query cap per
method (counted by the queries that reached unbound); the 1 s timeout (a
slow zone that would list: after the timeout the mail is not listed); the
answer cache: a second check within the TTL asks unbound nothing, after
the TTL it asks again, and NXDOMAIN is cached for the SOA's negative TTL.
Why here and not only in unit tests: the TTLs, the SOA of negative
answers and the timeout are what a real server and c-ares actually do.
"""
import json
import os
import subprocess
import unittest

import harness
from harness import SLOW
from harness.unbound import Unbound, available

PROBE = os.path.join(harness.BUILD, "tests", "dnsbl_probe")

# rbl.test lists 192.0.2.2 (127.0.0.2) and 2001:db8::2 (127.0.0.4), and
# answers the error codes for 192.0.2.254/.253; 192.0.2.10 has an address
# outside 127/8 (a resolver that rewrites NXDOMAIN). short.test lists
# 192.0.2.5 for 2 s; neg.test lists nothing and its NXDOMAIN answers may
# be cached for 4 s (SOA minimum).
IPV6_NAME = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
ZONES = {
    "rbl.test": {"records": [
        ("2.2.0.192", "A", "127.0.0.2", 300),
        ("2.2.0.192", "TXT", "listed: see https://rbl.test/192.0.2.2", 300),
        ("254.2.0.192", "A", "127.255.255.254", 300),
        ("253.2.0.192", "A", "127.255.255.252", 300),
        ("10.2.0.192", "A", "10.0.0.1", 300),
        (IPV6_NAME, "A", "127.0.0.4", 300),
    ]},
    "other.test": {"records": [("3.2.0.192", "A", "127.0.0.3", 300)]},
    "short.test": {"records": [("5.2.0.192", "A", "127.0.0.2", 2)], "soa_minimum": 2},
    "neg.test": {"records": [], "soa_minimum": 4},
    "surbl.test": {"records": [
        ("spam.example", "A", "127.0.0.2", 300),
        ("spam.co.jp", "A", "127.0.0.8", 300),
        ("blocked.example", "A", "127.0.0.1", 300),
    ]},
}
ENV = {}


def setUpModule():
    reason = available()
    if reason:
        raise unittest.SkipTest(reason)
    ENV["work"] = harness.Workdir("dnsbl")
    ENV["dns"] = Unbound(ENV["work"].path, zones=ZONES, slow_zones=["slow.test"])


def tearDownModule():
    if "dns" in ENV:
        ENV["dns"].stop()
    if "work" in ENV:
        ENV["work"].cleanup()


def probe(rbl=(), surbl=(), addrs=(), domains=(), rounds=1, gap_ms=0, server=None):
    """The JSON results of the probe's rounds."""
    argv = [PROBE, "--server", server or ENV["dns"].server, "--rounds", str(rounds),
            "--gap-ms", str(gap_ms)]
    for opt, values in (("--rbl", rbl), ("--surbl", surbl), ("--addr", addrs),
                        ("--domain", domains)):
        if values:
            argv += [opt, ",".join(values)]
    timeout = 30 * SLOW + rounds * (gap_ms / 1000.0 + 2)
    p = subprocess.run(argv, capture_output=True, timeout=timeout)
    harness.check_sanitizer_report(p.stderr.decode("utf-8", "replace"), "dnsbl_probe")
    if p.returncode != 0:
        raise AssertionError("dnsbl_probe exit %d: %s" % (p.returncode, p.stderr.decode()))
    lines = p.stdout.decode().splitlines()
    assert len(lines) == rounds, lines
    return [json.loads(line) for line in lines]


def one(**kw):
    return probe(**kw)[0]


class TestListed(unittest.TestCase):
    """What an answer means: listed, not listed, refused, unexpected."""

    def test_listed_address(self):
        r = one(rbl=["rbl.test"], addrs=["192.0.2.1", "192.0.2.2"])
        self.assertTrue(r["listed"], r)
        self.assertEqual(r["name"], "SEKISHO/SPAM_RBL/192.0.2.2[rbl.test:127.0.0.2]")
        self.assertEqual((r["rbl_queries"], r["timeouts"], r["refused"]), (2, 0, 0), r)

    def test_not_listed(self):
        r = one(rbl=["rbl.test", "other.test"], addrs=["192.0.2.1", "198.51.100.9"],
                surbl=["surbl.test"], domains=["www.ham.example"])
        self.assertFalse(r["listed"], r)
        self.assertEqual(r["name"], "")
        self.assertEqual((r["rbl_queries"], r["surbl_queries"], r["timeouts"], r["failed"]),
                         (4, 1, 0, 0), r)

    def test_first_hit_in_order(self):
        """Address order, then zone order; RBL before SURBL."""
        r = one(rbl=["rbl.test", "other.test"], addrs=["192.0.2.3", "192.0.2.2"],
                surbl=["surbl.test"], domains=["spam.example"])
        self.assertEqual(r["name"], "SEKISHO/SPAM_RBL/192.0.2.3[other.test:127.0.0.3]", r)
        r = one(surbl=["surbl.test"], domains=["www.ham.example", "spam.co.jp", "spam.example"])
        self.assertEqual(r["name"], "SEKISHO/SPAM_SURBL/spam.co.jp[surbl.test:127.0.0.8]", r)

    def test_refused_codes_never_list(self):
        r = one(rbl=["rbl.test"], addrs=["192.0.2.254", "192.0.2.253"])
        self.assertFalse(r["listed"], r)
        self.assertEqual(r["refused"], 2, r)
        self.assertIn("refused 254.2.0.192.rbl.test=127.255.255.254", r["note"])
        self.assertIn("refused 253.2.0.192.rbl.test=127.255.255.252", r["note"])

    def test_surbl_127_0_0_1_is_refused(self):
        """SURBL's "access blocked" answer is not a listing."""
        r = one(surbl=["surbl.test"], domains=["http.blocked.example"])
        self.assertFalse(r["listed"], r)
        self.assertEqual(r["refused"], 1, r)
        self.assertIn("blocked.example.surbl.test=127.0.0.1", r["note"])

    def test_unexpected_answer(self):
        r = one(rbl=["rbl.test"], addrs=["192.0.2.10"])
        self.assertFalse(r["listed"], r)
        self.assertEqual((r["unexpected"], r["refused"]), (1, 0), r)
        self.assertIn("unexpected 10.2.0.192.rbl.test=10.0.0.1", r["note"])

    def test_listed_after_refused(self):
        """An error code of one lookup does not hide a listing by another."""
        r = one(rbl=["rbl.test"], addrs=["192.0.2.254", "192.0.2.2"])
        self.assertTrue(r["listed"], r)
        self.assertEqual(r["refused"], 1, r)

    def test_ipv6_address(self):
        r = one(rbl=["rbl.test"], addrs=["2001:db8::1", "2001:DB8:0:0::2"])
        self.assertTrue(r["listed"], r)
        self.assertEqual(r["name"], "SEKISHO/SPAM_RBL/2001:db8::2[rbl.test:127.0.0.4]")
        # the name reached unbound in nibble form (RFC 5782 2.4)
        self.assertGreaterEqual(ENV["dns"].count(IPV6_NAME + ".rbl.test"), 1)


class TestSurblDomains(unittest.TestCase):
    """G-33: hosts reduced to the registered domain, de-duplicated, IP
    literals skipped; the queries that reach the server show it."""

    def test_reduction_and_dedup(self):
        dns = ENV["dns"]
        before = len(dns.queries())
        r = one(surbl=["surbl.test"],
                domains=["www.spam.example", "MAIL.Spam.Example", "a.b.spam.co.jp", "192.0.2.2",
                         "[2001:db8::2]", "co.jp"])
        self.assertTrue(r["listed"], r)
        self.assertEqual(r["name"], "SEKISHO/SPAM_SURBL/spam.example[surbl.test:127.0.0.2]")
        self.assertEqual(r["surbl_queries"], 2, r)
        asked = dns.queries()[before:]
        self.assertEqual(sorted(asked), ["spam.co.jp.surbl.test", "spam.example.surbl.test"])


class TestCap(unittest.TestCase):
    """At most 32 lookups per method, the first ones in order; the rest are
    not sent (counted as skipped)."""

    def test_32_per_method(self):
        dns = ENV["dns"]
        before = len(dns.queries())
        addrs = ["198.51.100.%d" % i for i in range(1, 21)] + ["192.0.2.2"]  # the hit is 21st
        domains = ["www.d%d.example" % i for i in range(40)]
        r = one(rbl=["rbl.test", "other.test"], addrs=addrs, surbl=["surbl.test"],
                domains=domains)
        # 21 addresses x 2 zones = 42 -> 32 (192.0.2.2 is beyond them);
        # 40 domains -> 32
        self.assertEqual((r["rbl_queries"], r["surbl_queries"], r["skipped"]), (32, 32, 18), r)
        self.assertFalse(r["listed"], r)
        asked = dns.queries()[before:]
        self.assertEqual(len(asked), 64, asked)
        self.assertIn("16.100.51.198.other.test", asked)
        self.assertNotIn("17.100.51.198.rbl.test", asked)
        self.assertIn("d31.example.surbl.test", asked)
        self.assertNotIn("d32.example.surbl.test", asked)


class TestTimeout(unittest.TestCase):
    """SPAM-8: no reply within 1 s = not spam. slow.test would list (its
    upstream answers 127.0.0.2 after 3 s): a result that is not listed,
    with the lookup counted as a timeout, shows the check did not wait."""

    def test_slow_zone_times_out(self):
        slow = ENV["dns"].slow
        before = slow.queries
        r = one(surbl=["slow.test"], domains=["timeout1.example"])
        self.assertFalse(r["listed"], r)
        self.assertEqual(r["timeouts"], 1, r)
        self.assertEqual(slow.queries, before + 1)  # the query did go out

    def test_fast_answers_kept_past_a_timeout(self):
        r = one(rbl=["rbl.test"], addrs=["192.0.2.2"], surbl=["slow.test"],
                domains=["timeout2.example"])
        self.assertTrue(r["listed"], r)
        self.assertEqual(r["name"], "SEKISHO/SPAM_RBL/192.0.2.2[rbl.test:127.0.0.2]")
        self.assertEqual(r["timeouts"], 1, r)

    def test_timed_out_answer_not_cached(self):
        """A second round, after the slow answer would have come (3.5 s),
        asks again: nothing was cached from a timed-out lookup."""
        slow = ENV["dns"].slow
        before = slow.queries
        rounds = probe(surbl=["slow.test"], domains=["timeout3.example"], rounds=2,
                       gap_ms=3500)
        self.assertEqual([x["timeouts"] for x in rounds], [1, 1], rounds)
        self.assertEqual([x["cached"] for x in rounds], [0, 0], rounds)
        self.assertEqual(slow.queries, before + 2)


class TestCache(unittest.TestCase):
    """Answers are cached for their TTL (one probe process = one worker's
    cache): within it no query reaches unbound, after it one does."""

    def test_hit_within_ttl(self):
        dns = ENV["dns"]
        name = "2.2.0.192.rbl.test"
        before = dns.count(name)
        rounds = probe(rbl=["rbl.test"], addrs=["192.0.2.2"], rounds=3, gap_ms=200)
        self.assertEqual([x["listed"] for x in rounds], [True] * 3)
        self.assertEqual([x["cached"] for x in rounds], [0, 1, 1], rounds)
        self.assertEqual(rounds[2]["name"], "SEKISHO/SPAM_RBL/192.0.2.2[rbl.test:127.0.0.2]")
        self.assertEqual(dns.count(name), before + 1)

    def test_expiry_after_short_ttl(self):
        """short.test answers with TTL 2: a round 2.5 s later asks again."""
        dns = ENV["dns"]
        name = "5.2.0.192.short.test"
        before = dns.count(name)
        rounds = probe(rbl=["short.test"], addrs=["192.0.2.5"], rounds=3, gap_ms=2500)
        self.assertEqual([x["listed"] for x in rounds], [True] * 3, rounds)
        self.assertEqual([x["cached"] for x in rounds], [0, 0, 0], rounds)
        self.assertEqual(dns.count(name), before + 3)
        rounds = probe(rbl=["short.test"], addrs=["192.0.2.5"], rounds=2, gap_ms=500)
        self.assertEqual([x["cached"] for x in rounds], [0, 1], rounds)

    def test_negative_answer_cached_for_soa_minimum(self):
        """NXDOMAIN carries neg.test's SOA (minimum 4 s, RFC 2308)."""
        dns = ENV["dns"]
        name = "6.2.0.192.neg.test"
        before = dns.count(name)
        rounds = probe(rbl=["neg.test"], addrs=["192.0.2.6"], rounds=3, gap_ms=2000)
        # t=0 asked, t=2 s cached, t>=4 s expired: asked again
        self.assertEqual([x["cached"] for x in rounds], [0, 1, 0], rounds)
        self.assertEqual(dns.count(name), before + 2)
        self.assertEqual([x["listed"] for x in rounds], [False] * 3)

    def test_refused_code_cached(self):
        dns = ENV["dns"]
        before = dns.count("254.2.0.192.rbl.test")
        rounds = probe(rbl=["rbl.test"], addrs=["192.0.2.254"], rounds=2, gap_ms=100)
        self.assertEqual([x["refused"] for x in rounds], [1, 1], rounds)
        self.assertEqual([x["cached"] for x in rounds], [0, 1], rounds)
        self.assertEqual(dns.count("254.2.0.192.rbl.test"), before + 1)


class TestRecordChanges(unittest.TestCase):
    """The harness's data changes (a restart of unbound) reach a new worker:
    a record added is listed, removed is not."""

    def test_add_and_remove(self):
        dns = ENV["dns"]
        self.assertFalse(one(rbl=["other.test"], addrs=["192.0.2.77"])["listed"])
        dns.add_record("other.test", "77.2.0.192", "A", "127.0.0.9", 60)
        try:
            r = one(rbl=["other.test"], addrs=["192.0.2.77"])
            self.assertEqual(r["name"], "SEKISHO/SPAM_RBL/192.0.2.77[other.test:127.0.0.9]")
        finally:
            dns.remove_record("other.test", "77.2.0.192")
        self.assertFalse(one(rbl=["other.test"], addrs=["192.0.2.77"])["listed"])


class TestServerUnreachable(unittest.TestCase):
    """No DNS server at all: not listed, never an error for the mail."""

    def test_nothing_listens(self):
        r = one(rbl=["rbl.test"], addrs=["192.0.2.2"],
                server="127.0.0.1:%d" % harness.free_port())
        self.assertFalse(r["listed"], r)
        self.assertEqual(r["timeouts"] + r["failed"], 1, r)


if __name__ == "__main__":
    unittest.main()
