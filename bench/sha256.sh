#!/usr/bin/env bash
# sha256.sh - throughput of lib/sha256 (bench/sha256.c): a 1 GiB stream in
# 64 KiB updates and 23 KiB objects. Builds build/libsekisho.a first.
#
#   bench/sha256.sh [MiB [chunk_bytes]]
set -eu
cd "$(dirname "$0")/.."
make -s build/libsekisho.a
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Isrc -include dev/banned.h \
    -o "$out/sha256-bench" bench/sha256.c build/libsekisho.a -lcrypto
"$out/sha256-bench" "$@"
