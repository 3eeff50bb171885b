#!/usr/bin/env bash
# run-tests - the README's test command: install what the tests need, build,
# run the whole suite (tests/run.sh); ends with "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
dev/install-deps.sh test
exec tests/run.sh "$@"
