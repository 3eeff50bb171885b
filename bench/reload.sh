#!/usr/bin/env bash
# reload.sh - scanning while sekisho-scand reloads its definitions: latency,
# scans/s and the scanning process's RSS before, during and after a reload
# of the synthetic full-scale database (issue 15, "no stall, one copy").
#
#   bench/reload.sh [--quick]       (after `make`; BUILD as the other benches)
#
# Compiles its load generator (bench/scanload.c, against the build's
# libsekisho.a: core/scan_client, as a proxy sends) into the run directory,
# generates the full-scale database with bench/gen-fulldb.py (cached in
# BENCH_DIR, as bench/pop.sh and bench/http.sh do) and RELOAD_FILES distinct
# pseudo-random files (scanload -g, cached), and starts sekisho-scand on that
# database with its default scanner threads (one per CPU, at least 2) as a
# child of this script. Then:
#   1. capacity: scanload closed loop (CAP_CONNS connections, each sending
#      its next SCAN as soon as the last reply is in) for CAP_SECONDS; its
#      scans/s is the capacity of the scanner on this machine now;
#   2. load: scanload open loop at LOAD_PCT % of that capacity (requests
#      due at a fixed rate on CONNS connections; a request's latency counts
#      from when it was due), sampling every 100 ms the VmRSS and CPU time
#      of the scanning process (the process sekisho-scand's supervisor forks, see
#      src/scand/scand_supervise.c: it holds the engines; the supervisor
#      holds none);
#   3. after WARM + BEFORE s, `sekisho-scan --reload` (a RELOAD request,
#      answered by scand when the new engine is swapped in); the phases are
#      before = the BEFORE s up to the request, during = from the request to
#      the reply, after = the AFTER s from the reply (where the old engine
#      is freed);
#   4. prints, for each phase, p50/p99/max latency, scans/s (replies per
#      second), scand's own scan time per request (scan_us of the replies:
#      without the wait for a scanner thread) and VmRSS (first, highest,
#      last sample), the CPUs used by scand, by scanload and by other work
#      on the machine (a note when that skews the figures); the reload's duration (the client's wait, and scand's
#      own "reload done ... in N ms" log line); p99(during)/p99(before);
#      and a per-second timeline.
# Every scanned content is new: scanload sends each request a copy of its
# file in a memfd (as the proxies' in-memory spool) stamped with the run's
# nonce and the request number, so neither libclamav's clean cache nor any
# other can answer, and the files are never written.
# Figures, not a test: nothing passes or fails on time. The machine's load
# average is printed too. What this script wrote before the measurement is
# synced first (its writeback stalled the scans, docs/bench.md). Everything
# started here is stopped on exit (bench/procs.sh).
#
# --quick: the database at --scale 0.1 (140,000 signatures), 2,000 files,
# 5 s phases: about 25 s, to try it out (the full run: about 80 s).
#
# Environment (all optional):
#   BENCH_RELOAD_FILES=20000     distinct files (--quick 2000)
#   BENCH_RELOAD_BYTES=23552     bytes of each
#   BENCH_RELOAD_CONNS=32        connections of the open-loop load
#   BENCH_RELOAD_CAP_CONNS=4     connections of the capacity run
#   BENCH_RELOAD_CAP_SECONDS=12  capacity run (the first 2 s not counted; --quick 6)
#   BENCH_RELOAD_PCT=70          load, % of the measured capacity
#   BENCH_RELOAD_RATE=           a fixed rate in scans/s instead (capacity still printed)
#   BENCH_RELOAD_WARM=3          s of load before the before phase
#   BENCH_RELOAD_BEFORE=15       s (--quick 5);  BENCH_RELOAD_AFTER=15 s (--quick 5)
#   BENCH_RELOAD_TIMEOUT=600     bound on the reload (and on scand's start)
#   BENCH_RELOAD_TMPDIR=         scand's --tmpdir (default: the run directory, on
#                                the disk, as the default /var/tmp/sekisho)
#   BENCH_DIR=/var/tmp/sekisho-bench   work dir (database, files: cached)
#   BENCH_FULLDB=$BENCH_DIR/fulldb     (--quick: $BENCH_DIR/fulldb-0.1)
#   BENCH_KEEP=1                 keep the run directory (scand log, raw scanload output)
#   BUILD=build                  build directory (see bench/build-dir.sh)
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
# shellcheck source=bench/build-dir.sh
. "$REPO/bench/build-dir.sh"

QUICK=0
case "${1:-}" in
"") ;;
--quick) QUICK=1 ;;
*)
    echo "usage: bench/reload.sh [--quick]" >&2
    exit 2
    ;;
esac
[ $# -le 1 ] || {
    echo "usage: bench/reload.sh [--quick]" >&2
    exit 2
}

BENCH_DIR=${BENCH_DIR:-/var/tmp/sekisho-bench}
if [ $QUICK = 1 ]; then
    SCALE=0.1
    FULLDB=${BENCH_FULLDB:-$BENCH_DIR/fulldb-0.1}
    NFILES=${BENCH_RELOAD_FILES:-2000}
    CAP_SECONDS=${BENCH_RELOAD_CAP_SECONDS:-6}
    BEFORE=${BENCH_RELOAD_BEFORE:-5}
    AFTER=${BENCH_RELOAD_AFTER:-5}
else
    SCALE=1
    FULLDB=${BENCH_FULLDB:-$BENCH_DIR/fulldb}
    NFILES=${BENCH_RELOAD_FILES:-20000}
    CAP_SECONDS=${BENCH_RELOAD_CAP_SECONDS:-12}
    BEFORE=${BENCH_RELOAD_BEFORE:-15}
    AFTER=${BENCH_RELOAD_AFTER:-15}
fi
FILE_BYTES=${BENCH_RELOAD_BYTES:-23552}
CONNS=${BENCH_RELOAD_CONNS:-32}
CAP_CONNS=${BENCH_RELOAD_CAP_CONNS:-4}
LOAD_PCT=${BENCH_RELOAD_PCT:-70}
FIXED_RATE=${BENCH_RELOAD_RATE:-}
WARM=${BENCH_RELOAD_WARM:-3}
RELOAD_TIMEOUT=${BENCH_RELOAD_TIMEOUT:-600}
SCAND_TMP=${BENCH_RELOAD_TMPDIR:-}
# shellcheck disable=SC2034 # KEEP and STOP_TIMEOUT are read by bench/procs.sh
KEEP=${BENCH_KEEP:-0}
# shellcheck disable=SC2034
STOP_TIMEOUT=30
GEN_TIMEOUT=1800
CAP_WARMUP=2

die() {
    echo "reload.sh: $*" >&2
    exit 2
}
note() { echo "[$(date +%H:%M:%S)] $*" >&2; }

[ -x "$BIN/sekisho-scand" ] && [ -x "$BIN/sekisho-scan" ] || die "no $BIN/sekisho-scand or sekisho-scan: run make first"
[ -f "$BUILD_DIR/libsekisho.a" ] || die "no $BUILD_DIR/libsekisho.a: run make first"
for tool in cc python3 setsid timeout; do
    command -v $tool >/dev/null || die "$tool not found"
done

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
RUN=$(mktemp -d "$BENCH_DIR/reload.XXXXXX") || die "mktemp failed"
# A copy of the binaries: a `make` beside the bench cannot change them.
mkdir -p "$RUN/bin" && cp "$BIN/sekisho-scand" "$BIN/sekisho-scan" "$RUN/bin/" || die "cannot copy the binaries"
BIN=$RUN/bin

# shellcheck source=bench/procs.sh
. "$REPO/bench/procs.sh"

LOAD=$RUN/scanload
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$BUILD_TREE/src" -include "$REPO/dev/banned.h" \
    -o "$LOAD" "$REPO/bench/scanload.c" "$BUILD_DIR/libsekisho.a" -lpthread -lm 2>"$RUN/scanload-cc.out" ||
    die "cannot compile bench/scanload.c: $(cat "$RUN/scanload-cc.out")"

# field KEY LINE - the value of KEY=value in a scanload line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# ---- database and files (cached) ---------------------------------------------

GEN_SUM=$(sha256sum "$REPO/bench/gen-fulldb.py" | cut -d' ' -f1)
stamp=$(cat "$FULLDB/.generator.sha256" 2>/dev/null)
if [ ! -f "$FULLDB/eicar.ndb" ] || { [ -n "$stamp" ] && [ "$stamp" != "$GEN_SUM" ]; }; then
    note "generating the database (scale $SCALE) in $FULLDB (once; cached)"
    rm -rf "$FULLDB.new"
    timeout $GEN_TIMEOUT python3 "$REPO/bench/gen-fulldb.py" "$FULLDB.new" --scale "$SCALE" >&2 ||
        die "bench/gen-fulldb.py failed"
    echo "$GEN_SUM" >"$FULLDB.new/.generator.sha256"
    rm -rf "$FULLDB"
    mv "$FULLDB.new" "$FULLDB"
fi

FILES=$BENCH_DIR/scanfiles-$NFILES-$FILE_BYTES
if [ "$(cat "$FILES/.complete" 2>/dev/null)" != "$NFILES $FILE_BYTES" ]; then
    note "writing $NFILES files of $FILE_BYTES pseudo-random bytes into $FILES (once; cached)"
    rm -rf "$FILES"
    timeout $GEN_TIMEOUT "$LOAD" -g "$FILES" -n "$NFILES" -s "$FILE_BYTES" >&2 || die "scanload -g failed"
    echo "$NFILES $FILE_BYTES" >"$FILES/.complete"
fi

# What this script wrote so far (binaries, scanload, database, files) is
# written back now: left to the kernel it went out 30 s later (dirty
# expiry), in the middle of the measurement, and stalled the scans, which
# remove a directory per scan on that disk (synchronous discards on an ext4
# mounted with `discard`).
sync

# ---- sekisho-scand -----------------------------------------------------------

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SOCK=$RUN/scand.sock
[ -n "$SCAND_TMP" ] || SCAND_TMP=$RUN/tmp
mkdir -p "$SCAND_TMP" || die "cannot create $SCAND_TMP"
note "starting sekisho-scand on $FULLDB (bounded ${RELOAD_TIMEOUT}s)"
start scand TERM "$BIN/sekisho-scand" --socket "$SOCK" --databases "$FULLDB" --tmpdir "$SCAND_TMP"
SUPERVISOR=$LAST_PID
scand_ready() { [ -S "$SOCK" ] && grep -q 'scanner threads.*pid' "$RUN/scand.out"; }
scand_gone() { ! alive "$SUPERVISOR"; }
wait_until "$RELOAD_TIMEOUT" eval 'scand_ready || scand_gone'
scand_ready || die "sekisho-scand did not start: $(tail -n 5 "$RUN/scand.out")"
# The scanning process logs its pid; it must be the supervisor's child.
CHILD=$(sed -n 's/.*scanner threads, .*, pid \([0-9]*\).*/\1/p' "$RUN/scand.out" | tail -n 1)
[ -n "$CHILD" ] && [ "$(awk '/^PPid:/ {print $2}' "/proc/$CHILD/status" 2>/dev/null)" = "$SUPERVISOR" ] ||
    die "cannot find scand's scanning process (log: $(tail -n 3 "$RUN/scand.out"))"
STARTLINE=$(grep -m1 'loaded .* signatures' "$RUN/scand.out")
SIGS=$(sed -n 's/.*loaded \([0-9]*\) signatures.*/\1/p' <<<"$STARTLINE")
START_MS=$(sed -n 's/.* in \([0-9]*\) ms.*/\1/p' <<<"$STARTLINE")
THREADS=$(sed -n 's/.* \([0-9]*\) scanner threads.*/\1/p' "$RUN/scand.out" | tail -n 1)

# ---- 1. capacity -----------------------------------------------------------------

note "capacity: closed loop, $CAP_CONNS connections, ${CAP_SECONDS}s"
CAP_OUT=$(timeout $((CAP_SECONDS + 120)) "$LOAD" -S "$SOCK" -d "$FILES" -c "$CAP_CONNS" \
    -t "$CAP_SECONDS" -w "$CAP_WARMUP" 2>&1) || die "scanload (capacity) failed: $CAP_OUT"
CAP_LINE=$(grep '^SCANLOAD ' <<<"$CAP_OUT")
CAPACITY=$(field scans_per_s "$CAP_LINE")
[ -n "$CAPACITY" ] && [ "$(field errors "$CAP_LINE")" = 0 ] || die "capacity run failed: $CAP_OUT"
if [ -n "$FIXED_RATE" ]; then
    RATE=$FIXED_RATE
else
    RATE=$(awk -v c="$CAPACITY" -v p="$LOAD_PCT" 'BEGIN { printf "%.1f", c * p / 100 }')
fi

# ---- 2./3. the load and the reload -----------------------------------------------

note "load: open loop at $RATE scans/s on $CONNS connections; reload after $((WARM + BEFORE))s"
MARKS=$RUN/marks.txt
RAW=$RUN/scanload.raw
LIMIT=$((WARM + BEFORE + RELOAD_TIMEOUT + AFTER + 60))
start scanload INT "$LOAD" -S "$SOCK" -d "$FILES" -c "$CONNS" -r "$RATE" -t "$LIMIT" \
    -P "$CHILD" -m "$MARKS" -o "$RAW" -p
LOADER=$LAST_PID
sleep "$WARM"
T_BEFORE=$EPOCHREALTIME
sleep "$BEFORE"
T_START=$EPOCHREALTIME
RELOAD_REPLY=$(timeout "$RELOAD_TIMEOUT" "$BIN/sekisho-scan" --socket "$SOCK" --reload 2>&1)
RELOAD_RC=$?
T_END=$EPOCHREALTIME
sleep "$AFTER"
T_AFTER=$EPOCHREALTIME
printf 'before %s %s\nduring %s %s\nafter %s %s\n' "$T_BEFORE" "$T_START" "$T_START" "$T_END" \
    "$T_END" "$T_AFTER" >"$MARKS"
alive "$LOADER" || die "scanload ended early: $(tail -n 5 "$RUN/scanload.out")"
kill -INT "$LOADER"
wait_until 120 eval "! alive $LOADER" || die "scanload did not stop"
wait "$LOADER" 2>/dev/null
OUT=$(cat "$RUN/scanload.out")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 4. figures ------------------------------------------------------------------

RELOAD_LOG=$(grep -m1 'reload done\|reload failed' "$RUN/scand.out")
RELOAD_MS=$(sed -n 's/.* in \([0-9]*\) ms.*/\1/p' <<<"$RELOAD_LOG")
WAIT_MS=$(awk -v a="$T_START" -v b="$T_END" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
phase() { grep "^SCANLOAD_PHASE name=$1 " <<<"$OUT"; }
P_BEFORE=$(phase before)
P_DURING=$(phase during)
P_AFTER=$(phase after)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo "== sekisho-scand: scanning during a definitions reload"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "build:       $BUILD_DIR at $BUILD_GIT; libclamav $(pkg-config --modversion libclamav 2>/dev/null || echo '?')"
echo "database:    $FULLDB: $SIGS signatures (scale $SCALE), loaded at start in $START_MS ms"
echo "scand:       $THREADS scanner threads (default), scanning process pid $CHILD (child of supervisor $SUPERVISOR; its VmRSS is sampled)"
echo "tmpdir:      $SCAND_TMP ($(findmnt -n -o FSTYPE,OPTIONS --target "$SCAND_TMP" 2>/dev/null | tr -s " "); libclamav makes and removes a directory there per scan)"
echo "files:       $NFILES distinct files of $FILE_BYTES bytes; each request sends a copy in a memfd stamped with its number (no cache can answer)"
echo "capacity:    $CAPACITY scans/s (closed loop, $CAP_CONNS connections, ${CAP_SECONDS}s, first ${CAP_WARMUP}s not counted; p50 $(field p50_ms "$CAP_LINE") ms, p99 $(field p99_ms "$CAP_LINE") ms)"
if [ -n "$FIXED_RATE" ]; then
    echo "load:        $RATE scans/s (BENCH_RELOAD_RATE), open loop, $CONNS connections"
else
    echo "load:        $RATE scans/s = $LOAD_PCT% of capacity, open loop, $CONNS connections"
fi
echo "reload:      sekisho-scan --reload -> '$RELOAD_REPLY' (exit $RELOAD_RC)"
echo "             wait for the reply ${WAIT_MS} ms; scand: '${RELOAD_LOG#*: }'"
echo
echo "Latency: from when a request was due to its reply (includes waiting for a connection"
echo "and for a scanner thread); scan = scand's own time per scan (reply's scan_us)."
printf '%-7s %7s %7s %7s %8s %8s %9s %9s %9s %9s %9s %6s %6s %6s %6s %6s\n' phase dur_s scans/s p50_ms p99_ms max_ms \
    scan_p50 scan_p99 RSS_first RSS_peak RSS_last scand gen others errors unsent
for p in before during after; do
    line=$(phase $p)
    printf '%-7s %7s %7s %7s %8s %8s %9s %9s %9s %9s %9s %6s %6s %6s %6s %6s\n' $p "$(field dur_s "$line")" \
        "$(field scans_per_s "$line")" "$(field p50_ms "$line")" "$(field p99_ms "$line")" \
        "$(field max_ms "$line")" "$(field scan_p50_ms "$line")" "$(field scan_p99_ms "$line")" \
        "$(field rss_first_mb "$line")" "$(field rss_max_mb "$line")" "$(field rss_last_mb "$line")" \
        "$(field pid_cpus "$line")" "$(field gen_cpus "$line")" "$(field other_cpus "$line")" \
        "$(field errors "$line")" "$(field unsent "$line")"
done
echo "(RSS in MiB: VmRSS of the scanning process, one sample per 100 ms, -1 = none in the phase;"
echo " scand, gen, others: CPUs in use on average by the scanning process, by scanload, by the rest"
echo " of the machine, of $(nproc); unsent: requests due in the phase that never left, every"
echo " connection waiting for a reply)"
# other_max PHASE_START PHASE_END - the most CPUs other work used in one
# second of the run that overlaps the phase.
other_max() {
    grep '^SCANLOAD_SEC ' <<<"$OUT" | awk -v t0="$T0" -v a="$1" -v b="$2" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
          abs = t0 + f["t"]; if (abs < b && abs + 1 > a && f["other_cpus"] > m) m = f["other_cpus"] }
        END { printf "%.2f", m }'
}
T0=$(field t0_epoch "$(grep '^SCANLOAD ' <<<"$OUT")")
declare -A P_FROM=([before]=$T_BEFORE [during]=$T_START [after]=$T_END)
declare -A P_TO=([before]=$T_START [during]=$T_END [after]=$T_AFTER)
for p in before during after; do
    line=$(phase $p)
    omax=$(other_max "${P_FROM[$p]}" "${P_TO[$p]}")
    awk -v o="$(field other_cpus "$line")" -v m="$omax" 'BEGIN { exit !(o > 0.25 || m > 0.4) }' &&
        echo "note: other work on the machine used $(field other_cpus "$line") CPUs on average during '$p', up to $omax in one second: its figures are skewed"
    [ "$(field unsent "$line")" = 0 ] ||
        echo "note: the scanner fell behind by more than $CONNS requests during '$p' ($(field unsent "$line") never sent): its latencies are a lower bound"
done
echo
echo "p99(during)/p99(before) = $(ratio "$(field p99_ms "$P_DURING")" "$(field p99_ms "$P_BEFORE")")  (issue 15: within 2x)"
echo "p50(during)/p50(before) = $(ratio "$(field p50_ms "$P_DURING")" "$(field p50_ms "$P_BEFORE")")"
echo "scans/s during/before   = $(ratio "$(field scans_per_s "$P_DURING")" "$(field scans_per_s "$P_BEFORE")")"
RSS_PEAK=$(awk -v a="$(field rss_max_mb "$P_DURING")" -v b="$(field rss_max_mb "$P_AFTER")" 'BEGIN { print (a > b ? a : b) }')
echo "RSS: before $(field rss_last_mb "$P_BEFORE") MiB, peak $RSS_PEAK MiB (during the reload or right after it, before the old engine is freed), after $(field rss_last_mb "$P_AFTER") MiB (peak/before = $(ratio "$RSS_PEAK" "$(field rss_last_mb "$P_BEFORE")"))"
echo "reload duration: ${WAIT_MS} ms (RELOAD request to reply), ${RELOAD_MS:-?} ms (scand: load + compile)"
echo
# Per second, t from the RELOAD request; '*' marks the seconds it ran.
echo "Per second (t = s from the RELOAD request; * = the reload ran in that second):"
printf '%6s %6s %6s %7s %8s %8s %8s %6s %6s\n' t sent 'done' p50_ms p99_ms max_ms RSS_MiB scand others
grep '^SCANLOAD_SEC ' <<<"$OUT" | while read -r line; do
    t=$(field t "$line")
    awk -v t="$t" -v t0="$T0" -v a="$T_BEFORE" -v s="$T_START" -v e="$T_END" -v z="$T_AFTER" \
        -v sent="$(field sent "$line")" -v dn="$(field 'done' "$line")" -v p50="$(field p50_ms "$line")" \
        -v p99="$(field p99_ms "$line")" -v mx="$(field max_ms "$line")" -v rss="$(field rss_mb "$line")" \
        -v cs="$(field pid_cpus "$line")" -v co="$(field other_cpus "$line")" \
        'BEGIN { abs = t0 + t; if (abs + 1 <= a || abs >= z) exit;
                 mark = (abs < e && abs + 1 > s) ? "*" : " ";
                 d = abs - s; f = int(d); if (f > d) f--;
                 printf "%5d%s %6d %6d %7.2f %8.2f %8.2f %8.1f %6.2f %6.2f\n", f, mark, sent, dn, p50, p99, mx, rss, cs, co }'
done
grep '^SCANFAIL ' <<<"$OUT"
echo
echo "load average at start: $LOAD_START; at end: $LOAD_END (other work on the machine skews the figures)"
