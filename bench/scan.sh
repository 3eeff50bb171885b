#!/usr/bin/env bash
# scan.sh - scan throughput and engine load figures of sekisho-scand.
#
#   bench/scan.sh [--quick]       (BUILD=build-dir, default build/)
#
# Prints, in one run, for the bundled test definitions (databases/) and for
# a synthetic full-scale database (bench/gen-fulldb.py, 1.4 M signatures):
#   - engine load time (load + compile) and RSS after loading;
#   - MB/s for 23 KB, 1 MB and 100 MB clean files (pseudo-random bytes, the
#     worst case) and a 1 MB text file, through `sekisho-scand --bench`,
#     for both scan paths (--mode fmap: mmap + cl_fmap_open_memory;
#     --mode desc: cl_scandesc_callback) and with libclamav's clean cache
#     off (a new file: a real scan) and hit (the same file again).
# Figures, not a test: nothing passes or fails on time. The machine's load
# average is printed because other work on it skews the numbers.
# Work files live in ${SEKISHO_BENCH_DIR:-/tmp/sekisho-bench} and are reused.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SCAND=$BUILD/bin/sekisho-scand
WORK=${SEKISHO_BENCH_DIR:-/tmp/sekisho-bench}
QUICK=0
[ "${1:-}" = "--quick" ] && QUICK=1
[ -x "$SCAND" ] || { echo "no $SCAND: run make first" >&2; exit 2; }
mkdir -p "$WORK"

echo "== sekisho-scand scan benchmark ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs, libclamav $(pkg-config --modversion libclamav 2>/dev/null || echo '?'))"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 tests/integration/harness/testfiles.py "$WORK/files" --big >/dev/null
if [ ! -f "$WORK/fulldb/synth.ndb" ]; then
    python3 bench/gen-fulldb.py "$WORK/fulldb"
fi

# iterations DB FILE: enough for a stable figure without taking minutes.
iterations() {
    local db=$1 f=$2
    case "$db:$f" in
    bundled:clean_23k.bin) echo $((QUICK ? 100 : 1000)) ;;
    bundled:clean_100m.bin) echo $((QUICK ? 1 : 3)) ;;
    bundled:*) echo $((QUICK ? 10 : 100)) ;;
    full:clean_23k.bin) echo $((QUICK ? 20 : 200)) ;;
    full:clean_100m.bin) echo 1 ;;
    full:*) echo $((QUICK ? 3 : 10)) ;;
    esac
}

printf '\n%-8s %-18s %-5s %-5s %6s %10s %9s\n' db file mode cache iters ms/scan MB/s
for db in bundled full; do
    dir=databases
    [ $db = full ] && dir=$WORK/fulldb
    first=1
    for f in clean_23k.bin clean_1m.bin clean_text_1m.txt clean_100m.bin; do
        out=$("$SCAND" --databases "$dir" --bench "$WORK/files/$f" --mode fmap,desc \
            --iterations "$(iterations $db $f)")
        if [ $first -eq 1 ]; then
            engine_line=$(grep '^engine:' <<<"$out")
            eval "$(sed -n 's/.*signatures=\([0-9]*\) load_ms=\([0-9]*\) rss_kb=\([0-9]*\) rss_before_kb=\([0-9]*\).*/sigs=\1 load=\2 rss=\3 base=\4/p' <<<"$engine_line")"
            loads+=("$(printf '%-8s signatures=%-8s load+compile=%6s ms  RSS=%6s MB (process before loading: %s MB)' \
                $db "$sigs" "$load" $((rss / 1024)) $((base / 1024)))")
            first=0
        fi
        grep '^bench:' <<<"$out" | while read -r line; do
            mode=$(sed -n 's/.* mode=\([a-z]*\).*/\1/p' <<<"$line")
            cache=$(sed -n 's/.* cache=\([a-z]*\).*/\1/p' <<<"$line")
            it=$(sed -n 's/.* iterations=\([0-9]*\).*/\1/p' <<<"$line")
            ms=$(sed -n 's/.* ms_per_scan=\([0-9.]*\).*/\1/p' <<<"$line")
            mbs=$(sed -n 's/.* MB\/s=\([0-9.]*\).*/\1/p' <<<"$line")
            verdict=$(sed -n 's/.* verdict=\([A-Z]*\).*/\1/p' <<<"$line")
            [ "$verdict" = CLEAN ] || echo "warning: $f scanned $verdict" >&2
            printf '%-8s %-18s %-5s %-5s %6s %10s %9s\n' $db $f "$mode" "$cache" "$it" "$ms" "$mbs"
        done
    done
done
echo
printf '%s\n' "${loads[@]}"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
