#!/usr/bin/env python3
"""check-key-coverage - every built key of sekisho.ini is exercised.

A setting is a promise: a key the code acts on must be set to a value other
than its default by at least one integration test, or nothing shows that it
acts. The integration run records, through config_trace_keys() in every
sekisho and sekisho-scand it starts, which keys differ from their defaults
and which test started it (SEKISHO_KEY_TRACE, SEKISHO_TEST_ID).

    tests/check-key-coverage.py TRACE_FILE

prints one line per key of src/core/config_keys.def (where it is built, how
many tests set it, a few of them) and exits 1 when a built key was set by
no test. Keys that are not built are listed for information: the unit tests
and tests/integration/test_config_promises.py show that they are refused.
"""
import collections
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROW = re.compile(r"^CONFIG_KEY\((\w+), ([^,]+), (\w+), ", re.M)


def keys():
    with open(os.path.join(REPO, "src/core/config_keys.def")) as f:
        return [(m.group(1), m.group(3)) for m in ROW.finditer(f.read())]


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    tests = collections.defaultdict(set)
    with open(argv[1]) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                tests[parts[0]].add(parts[2])
    table = keys()
    if not table:
        print("no CONFIG_KEY rows found", file=sys.stderr)
        return 2
    missing = []
    for name, built in table:
        who = sorted(tests.get(name, ()))
        state = "not built" if built == "NOT_BUILT" else built.lower().replace("built_", "")
        shown = ", ".join(who[:3]) + (" +%d" % (len(who) - 3) if len(who) > 3 else "")
        print("%-28s %-10s %3d  %s" % (name, state, len(who), shown or "-"))
        if built != "NOT_BUILT" and not who:
            missing.append(name)
    if missing:
        print("built keys that no integration test sets to a non-default value: %s"
              % " ".join(missing))
        return 1
    print("every built key (%d) is set by at least one integration test"
          % sum(1 for _, b in table if b != "NOT_BUILT"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
