#!/usr/bin/env bash
# scand.sh - sekisho-scand against the scan ceiling: scans/s and CPU per
# scan of a bare libclamav loop, of scand's own scan function, and of the
# running daemon fed over its socket, on the same distinct contents.
#
#   bench/scand.sh [--quick]        (after `make`; BUILD as the other benches)
#
# For each database (the bundled databases/ and the synthetic full-scale
# one of bench/gen-fulldb.py, cached in BENCH_DIR) and each size (23 KiB and
# 1 MiB of pseudo-random bytes, scanload -g, cached):
#   1. `sekisho-scand --ceiling` (src/scand/scand_ceiling.h), THREADS
#      threads, SECONDS s per path: path bare (cl_scanmap_callback with the
#      daemon's options, no callbacks: the ceiling) and path engine
#      (engine_scan on a memfd: scand's scan minus socket and hand-off);
#   2. the daemon (sekisho-scand --threads THREADS), which first runs the
#      bare path on its own engine for SECONDS s (--ceiling-first: "bare@d",
#      the yardstick with the same engine memory), then is loaded by
#      bench/scanload.c closed loop with CONNS connections (each SCAN as a
#      proxy sends it: a memfd copy of the file, stamped with a nonce, its
#      descriptor on the request) for SECONDS s; its scans/s and the CPU
#      time of its scanning process (/proc, over the same window) per scan.
# Every content is new: the ceiling and scanload both stamp a nonce unique
# in the run over the first 16 bytes, so libclamav's clean cache never
# hits (it is on, as in service). Prints one row per path with scans/s,
# CPU us per scan, and both as a percentage of the bare loop's (issue 17:
# the daemon's CPU per scan within 5% of the bare loop's). Figures, not a
# test. The machine's load average at start and end is printed: other work
# skews everything (the engine's tables do not fit the CPU caches, so a
# busy neighbour makes every scan dearer).
#
# --quick: 3 s per measurement, the bundled database only.
#
# Environment (all optional):
#   BENCH_SCAND_SECONDS=10    per measurement (--quick 3)
#   BENCH_SCAND_THREADS=nproc scanner threads (ceiling and daemon)
#   BENCH_SCAND_CONNS=8       scanload connections (outstanding requests)
#   BENCH_SCAND_SIZES="23552:2000 1048576:200"   BYTES:FILES per size
#   BENCH_SKIP_FULLDB=1       the bundled database only
#   BENCH_SCAN_TMP=disk       libclamav's temporary files: disk or tmpfs (bench/procs.sh)
#   BENCH_DIR=/var/tmp/sekisho-bench   work dir (database, files: cached)
#   BENCH_FULLDB=$BENCH_DIR/fulldb
#   BENCH_KEEP=1              keep the run directory
#   BUILD=build               build directory (see bench/build-dir.sh)
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
# shellcheck source=bench/build-dir.sh
. "$REPO/bench/build-dir.sh"

QUICK=0
[ "${1:-}" = --quick ] && QUICK=1
[ $# -le 1 ] && { [ $# = 0 ] || [ $QUICK = 1 ]; } || {
    echo "usage: bench/scand.sh [--quick]" >&2
    exit 2
}
SECS=${BENCH_SCAND_SECONDS:-$([ $QUICK = 1 ] && echo 3 || echo 10)}
THREADS=${BENCH_SCAND_THREADS:-$(nproc)}
CONNS=${BENCH_SCAND_CONNS:-8}
SIZES=${BENCH_SCAND_SIZES:-"23552:2000 1048576:200"}
SKIP_FULLDB=${BENCH_SKIP_FULLDB:-$QUICK}
BENCH_DIR=${BENCH_DIR:-/var/tmp/sekisho-bench}
FULLDB=${BENCH_FULLDB:-$BENCH_DIR/fulldb}
# shellcheck disable=SC2034 # read by bench/procs.sh
KEEP=${BENCH_KEEP:-0}
# shellcheck disable=SC2034
STOP_TIMEOUT=30
LOAD_TIMEOUT=600
GEN_TIMEOUT=1800
WARMUP=2

die() {
    echo "scand.sh: $*" >&2
    exit 2
}
note() { echo "[$(date +%H:%M:%S)] $*" >&2; }

[ -x "$BIN/sekisho-scand" ] || die "no $BIN/sekisho-scand: run make first"
[ -f "$BUILD_DIR/libsekisho.a" ] || die "no $BUILD_DIR/libsekisho.a: run make first"
"$BIN/sekisho-scand" --help | grep -q -- --ceiling || die "$BIN/sekisho-scand has no --ceiling"
mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
RUN=$(mktemp -d "$BENCH_DIR/scand.XXXXXX") || die "mktemp failed"
mkdir -p "$RUN/bin" && cp "$BIN/sekisho-scand" "$RUN/bin/" || die "cannot copy the binary"
SCAND=$RUN/bin/sekisho-scand
# shellcheck source=bench/procs.sh
. "$REPO/bench/procs.sh"

LOAD=$RUN/scanload
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$BUILD_TREE/src" -include "$REPO/dev/banned.h" \
    -o "$LOAD" "$REPO/bench/scanload.c" "$BUILD_DIR/libsekisho.a" -lpthread -lm 2>"$RUN/cc.out" ||
    die "cannot compile bench/scanload.c: $(cat "$RUN/cc.out")"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

DBS="bundled:$REPO/databases"
if [ "$SKIP_FULLDB" != 1 ]; then
    GEN_SUM=$(sha256sum "$REPO/bench/gen-fulldb.py" | cut -d' ' -f1)
    if [ ! -f "$FULLDB/eicar.ndb" ] || [ "$(cat "$FULLDB/.generator.sha256" 2>/dev/null)" != "$GEN_SUM" ]; then
        note "generating the full-scale database in $FULLDB (once; cached)"
        rm -rf "$FULLDB.new"
        timeout $GEN_TIMEOUT python3 "$REPO/bench/gen-fulldb.py" "$FULLDB.new" >&2 || die "gen-fulldb.py failed"
        echo "$GEN_SUM" >"$FULLDB.new/.generator.sha256"
        rm -rf "$FULLDB" && mv "$FULLDB.new" "$FULLDB"
    fi
    DBS="$DBS full:$FULLDB"
fi
for sz in $SIZES; do
    bytes=${sz%%:*} n=${sz##*:}
    files=$BENCH_DIR/scanfiles-$n-$bytes
    if [ "$(cat "$files/.complete" 2>/dev/null)" != "$n $bytes" ]; then
        note "writing $n files of $bytes pseudo-random bytes into $files (once; cached)"
        rm -rf "$files"
        timeout $GEN_TIMEOUT "$LOAD" -g "$files" -n "$n" -s "$bytes" >&2 || die "scanload -g failed"
        echo "$n $bytes" >"$files/.complete"
    fi
done
sync # the files' writeback must not land in a measurement

ROWS=()
row() { ROWS+=("$(printf '%-8s %9s %-7s %10s %12s %9s %9s %9s' "$@")"); }

# daemon DB FILES - scanload against a fresh daemon; sets DS (scans/s) and
# DC (CPU us of its scanning process per scan), and DBS_/DBC_ (scans/s, CPU
# us per scan) of the bare loop the daemon ran on its own engine before it
# served (--ceiling-first): the same engine memory as its scans, which a
# ceiling in another process does not have (a full-scale engine's cost per
# scan differs 10-20% between processes).
daemon() {
    local db=$1 files=$2 sock=$RUN/scand.sock sup child out now marks=$RUN/marks line tmp
    tmp=$(scan_tmp_dir "scand-$RANDOM") || die "cannot make a temporary directory"
    start scand TERM "$SCAND" --socket "$sock" --databases "$db" --threads "$THREADS" --tmpdir "$tmp" \
        --ceiling-first "$files" --seconds "$SECS"
    sup=$LAST_PID
    ready() { [ -S "$sock" ] && grep -q 'scanner threads.*pid' "$RUN/scand.out"; }
    wait_until $((LOAD_TIMEOUT + SECS)) eval 'ready || ! alive $sup'
    ready || die "sekisho-scand did not start: $(tail -n 3 "$RUN/scand.out")"
    child=$(sed -n 's/.*scanner threads, .*, pid \([0-9]*\).*/\1/p' "$RUN/scand.out" | tail -n 1)
    now=$(date +%s.%N)
    awk -v n="$now" -v w=$WARMUP -v t="$SECS" 'BEGIN { printf "win %.3f %.3f\n", n + w, n + w + t }' >"$marks"
    out=$(timeout $((SECS + WARMUP + 120)) "$LOAD" -S "$sock" -d "$files" -c "$CONNS" \
        -t $((SECS + WARMUP)) -P "$child" -m "$marks" 2>&1) || die "scanload failed: $out"
    grep -q '^SCANFAIL' <<<"$out" && note "scanload failures: $(grep '^SCANFAIL' <<<"$out" | head -n 3)"
    stop_pid "$sup" TERM
    line=$(grep '^ceiling: path=bare' "$RUN/scand.out" | tail -n 1)
    DBS_=$(field scans_per_s "$line") DBC_=$(field cpu_us_per_scan "$line")
    line=$(grep '^SCANLOAD_PHASE name=win' <<<"$out")
    DS=$(field scans_per_s "$line")
    DC=$(awk -v s="$DS" -v c="$(field pid_cpus "$line")" 'BEGIN { printf "%.1f", (s > 0 ? c * 1e6 / s : 0) }')
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else printf "n/a" }'; }

echo "== sekisho-scand against the scan ceiling ($(date -u +%Y-%m-%dT%H:%M:%SZ), build $BUILD_GIT, $(nproc) CPUs)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "threads=$THREADS seconds=$SECS scanload connections=$CONNS temporary files on $SCAN_TMP_MODE;"
echo "every content distinct (nonce over its head)"
for d in $DBS; do
    name=${d%%:*} db=${d#*:}
    for sz in $SIZES; do
        bytes=${sz%%:*} n=${sz##*:}
        files=$BENCH_DIR/scanfiles-$n-$bytes
        note "$name, $bytes bytes: ceiling (bare, engine)"
        out=$(TMPDIR=$(scan_tmp_dir "ceiling-$name-$bytes") "$SCAND" --databases "$db" --ceiling "$files" \
            --threads "$THREADS" --seconds "$SECS" 2>&1) ||
            die "sekisho-scand --ceiling failed: $out"
        bare=$(grep '^ceiling: path=bare' <<<"$out")
        eng=$(grep '^ceiling: path=engine' <<<"$out")
        bs=$(field scans_per_s "$bare") bc=$(field cpu_us_per_scan "$bare")
        es=$(field scans_per_s "$eng") ec=$(field cpu_us_per_scan "$eng")
        note "$name, $bytes bytes: the daemon under scanload"
        daemon "$db" "$files"
        ds=$DS dc=$DC
        row "$name" "$bytes" bare "$bs" "$bc" 100% 100% ""
        row "$name" "$bytes" engine "$es" "$ec" "$(pct "$es" "$bs")" "$(pct "$ec" "$bc")" ""
        row "$name" "$bytes" bare@d "$DBS_" "$DBC_" "$(pct "$DBS_" "$bs")" "$(pct "$DBC_" "$bc")" 100%
        row "$name" "$bytes" daemon "$ds" "$dc" "$(pct "$ds" "$bs")" "$(pct "$dc" "$bc")" "$(pct "$dc" "$DBC_")"
    done
done
echo
printf '%-8s %9s %-7s %10s %12s %9s %9s %9s\n' db bytes path scans/s cpu_us/scan "%bare/s" "%bare_cpu" "%bare@d"
printf '%s\n' "${ROWS[@]}"
echo
echo "bare: the ceiling (a bare libclamav loop); engine: scand's scan function in-process;"
echo "bare@d: the bare loop in the daemon's own process, before it served (--ceiling-first);"
echo "daemon: sekisho-scand over its socket (CPU of its scanning process per scan); %bare@d: its CPU"
echo "per scan against bare@d's (the issue-17 target: within 5%)."
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
