#!/usr/bin/env python3
"""Integration test runner: discovers tests/integration/test_*.py and prints
one line per test, "PASS <id>" or "FAIL <id>", for tests/run.sh to count.

SEKISHO_BUILD names the build directory whose binaries are under test;
SEKISHO_TEST_FILTER keeps only tests whose id contains the given word;
SEKISHO_TEST_CLAIM_DIR (an empty directory shared by several runners)
makes each runner run only the test modules it claims first, so that
runners started side by side share the suite."""
import os
import sys
import time
import traceback
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class LineResult(unittest.TestResult):
    def startTest(self, test):
        os.environ["SEKISHO_TEST_ID"] = test.id()
        super().startTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        print("PASS %s" % test.id(), flush=True)

    def _fail(self, test, err, kind):
        print("FAIL %s (%s)" % (test.id(), kind), flush=True)
        for line in "".join(traceback.format_exception(*err)).splitlines()[-25:]:
            print("    " + line, flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err, "error")

    def addSubTest(self, test, subtest, err):
        # A failing subTest fails its test, which then never reaches
        # addSuccess: report it here or it would vanish from the count.
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._fail(subtest, err,
                       "failure" if issubclass(err[0], test.failureException) else "error")

    def addExpectedFailure(self, test, err):
        # A known bug pinned by a test (unittest.expectedFailure).
        super().addExpectedFailure(test, err)
        print("xfail %s (known bug, see its docstring)" % test.id(), flush=True)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        print("FAIL %s (unexpected success: the known bug is fixed; drop expectedFailure)"
              % test.id(), flush=True)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print("skip %s: %s" % (test.id(), reason), flush=True)


class TracedSuite(unittest.TestSuite):
    """Names the running test in SEKISHO_TEST_ID, for the gateways it starts
    (their key trace, see config_trace_keys): the module or class while its
    fixtures run, then each test."""

    def _handleModuleFixture(self, test, result):
        os.environ["SEKISHO_TEST_ID"] = test.__class__.__module__
        super()._handleModuleFixture(test, result)

    def _handleClassSetUp(self, test, result):
        os.environ["SEKISHO_TEST_ID"] = "%s.%s" % (test.__class__.__module__,
                                                   test.__class__.__qualname__)
        super()._handleClassSetUp(test, result)


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


# Modules that take longest go first, so that the runners sharing the work
# (SEKISHO_TEST_CLAIM_DIR) end at about the same time. Measured by
# tests/run.sh ("slowest modules", 2026-12-07): test_http_inactive took
# 85 s (172 s under ASan) and started late, holding up the end of the stage.
SLOW_FIRST = ("test_http_inactive", "test_http_2gb", "test_ftp_large", "test_ftp_keys",
              "test_ftp_hostile", "test_smtp_hostile_dialogue", "test_scanner_abuse",
              "test_http_hostile", "test_client_share", "test_http_large", "test_install",
              "test_process_model", "test_http_keys", "test_run_gateway", "test_http_progress",
              "test_smtp_session", "test_dbupdate", "test_console_browser")


def by_module(tests):
    """[(module, [tests])] in discovery order, the slow modules first."""
    groups = {}
    for t in tests:
        groups.setdefault(t.__class__.__module__, []).append(t)
    rank = {m: i for i, m in enumerate(SLOW_FIRST)}
    return sorted(groups.items(), key=lambda kv: rank.get(kv[0], len(rank)))


def main():
    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    word = os.environ.get("SEKISHO_TEST_FILTER", "")
    tests = [t for t in flatten(suite) if word in t.id()]
    result = LineResult()
    claim_dir = os.environ.get("SEKISHO_TEST_CLAIM_DIR")
    if not claim_dir:
        TracedSuite(tests).run(result)
        return 0 if result.wasSuccessful() else 1
    # Several runners share the modules: each runs the modules it claims
    # first (mkdir is atomic), one module with its fixtures at a time.
    for module, group in by_module(tests):
        try:
            os.mkdir(os.path.join(claim_dir, module))
        except FileExistsError:
            continue
        started = time.monotonic()
        TracedSuite(group).run(result)
        # for tests/run.sh's list of the slowest modules
        print("MODULE %s %.1f" % (module, time.monotonic() - started), flush=True)
        # A top-level run tears its last class and module down but leaves
        # them recorded as "previous": the next run would tear them down
        # again.
        result._previousTestClass = None
    print("RUNNER DONE %d" % result.testsRun, flush=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
