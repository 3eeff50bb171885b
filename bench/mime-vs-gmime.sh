#!/usr/bin/env bash
# mime-vs-gmime.sh - our MIME walker + decoders against GMime 3
# (docs/internals/mime-gmime.md). Not part of the product build.
#
#   bench/mime-vs-gmime.sh [--compare]     (BUILD=build-dir, default build/)
#
# Builds bench/mime/mime_bench.c against $BUILD/libsekisho.a and GMime,
# generates the inputs (bench/mime/gen_mails.py) and prints, per input and
# engine, the median of 3 runs (each in a process of its own): wall and CPU
# seconds, peak RSS (ru_maxrss: with a mapped mail this counts its file
# pages) and peak anonymous RSS (heap). --compare also runs the behaviour
# comparison (bench/mime/corpus_mails.py, bench/mime/compare.py).
# Figures, not a test. Work files: ${SEKISHO_BENCH_DIR:-/tmp/sekisho-bench}/mime.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
WORK=${SEKISHO_BENCH_DIR:-/tmp/sekisho-bench}/mime
[ -f "$BUILD/libsekisho.a" ] || { echo "no $BUILD/libsekisho.a: run make first" >&2; exit 2; }
mkdir -p "$WORK"
BIN=$WORK/mime_bench
cc -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Isrc bench/mime/mime_bench.c -o "$BIN" \
    "$BUILD/libsekisho.a" $(pkg-config --cflags --libs gmime-3.0) -lz
python3 bench/mime/gen_mails.py "$WORK/in" >/dev/null
python3 - "$WORK/in/empty_parts_2m.eml" <<'PY'
import os, sys
p = sys.argv[1]
if not os.path.exists(p):
    open(p, "wb").write(b"From: a@b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
                        b"boundary=b\r\n\r\n" + b"--b\r\n\r\n" * (2 * 1024 * 1024 // 7) + b"--b--\r\n")
PY

echo "== mime walk+decode benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, GMime $(pkg-config --modversion gmime-3.0))"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %-10s %6s %6s %7s %7s %11s %12s %8s\n' input engine mails leaves wall_s cpu_s maxrss_MB anon_peak_MB MB/s_cpu
for spec in big_b64.eml:1 many_parts.eml:1 big_qp.eml:1 typical.eml:3000 empty_parts_2m.eml:1; do
    f=${spec%%:*} n=${spec##*:}
    for e in ours gmime gmime-mmap; do
        for r in 1 2 3; do "$BIN" $e bench "$n" "$WORK/in/$f"; done |
            python3 -c '
import sys, os
rows = [dict(kv.split("=") for kv in l.split()) for l in sys.stdin]
cpu = lambda r: float(r["user"]) + float(r["sys"])
rows.sort(key=cpu)
m = rows[1]
size = os.path.getsize(sys.argv[2]) * int(m["mails"]) / 1e6
print("%-22s %-10s %6s %6s %7.3f %7.3f %11.1f %12.1f %8.0f" % (sys.argv[1], m["engine"], m["mails"],
      m["leaves"], float(m["wall"]), cpu(m), int(m["maxrss_kb"]) / 1024,
      int(m["anon_peak_kb"]) / 1024, size / max(cpu(m), 1e-6)))' "$f" "$WORK/in/$f"
    done
done
if [ "${1:-}" = "--compare" ]; then
    python3 bench/mime/corpus_mails.py "$WORK/cmp" >/dev/null
    python3 bench/mime/compare.py "$BIN" "$WORK/cmp"
fi
