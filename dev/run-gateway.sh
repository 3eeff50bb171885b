#!/usr/bin/env bash
# run-gateway - the README's run command: install packages, build, install
# into a prefix (default /opt/sekisho) with the repository's default
# configuration, start sekisho-scand with the bundled definitions and the
# HTTP proxy in the foreground. Ctrl-C stops both.
#   PREFIX=/opt/sekisho dev/run-gateway.sh
set -eu
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/opt/sekisho}
dev/install-deps.sh build
make -s -j"$(nproc)" all-bins
make -s install prefix="$PREFIX"
cd "$PREFIX"
./rc.sekisho_scand start
trap './rc.sekisho_scand stop' EXIT
echo "sekisho-scand: $(./sekisho-scan --version 2>/dev/null || true)listening on $PREFIX/run/sekisho-scand.sock"
echo "logs: $PREFIX/log/http/{access,detect,info,error}.log"
./sekisho --http -f conf/sekisho.ini -v
