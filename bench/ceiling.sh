# shellcheck shell=bash
# ceiling.sh - sourced by bench/smtp.sh, pop.sh and ftp.sh: the scan ceiling
# of a bench (issue 17) and a scanned cell's percent of it.
#
# The scan ceiling is what libclamav alone scans per second on this machine
# with the gateway's database and scanner-thread count, on files of the
# same sizes and kind as those the proxy hands to sekisho-scand:
# `sekisho-scand --ceiling DIR --path bare --stamp head` (a bare
# cl_scanmap_callback loop with the daemon's scan options and clean cache,
# every scan of content no cache has seen: each file's first 16 bytes are
# replaced by a nonce unique in the run, so the files of DIR may be reused),
# run in the same run as the cells. A cell's percent of the ceiling = the
# objects it scanned per second through the proxy / the ceiling's scans per
# second.
#
# Needs RUN, BIN, NOTES (array) and note() of the sourcing script.

# scand_threads NAME - the scanner threads of the sekisho-scand started as
# NAME by start_scand (bench/procs.sh): its "N scanner threads" log line.
scand_threads() {
    sed -n 's/.*[^0-9]\([0-9][0-9]*\) scanner threads.*/\1/p' "$RUN/$1.out" 2>/dev/null | head -n 1
}

# ceiling_files DIR COUNT BYTES - COUNT files of BYTES fresh random bytes
# (os.urandom) in DIR, c000000.bin ...
ceiling_files() {
    mkdir -p "$1" && python3 - "$@" <<'EOF'
import os, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, "c%06d.bin" % i), "wb") as f:
        left = size
        while left > 0:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
EOF
}

# ceil_field KEY LINE - the value of KEY=value in a line of --ceiling.
ceil_field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# ceiling KEY DIR DB THREADS SECONDS TIMEOUT - sekisho-scand --ceiling on
# the regular files of DIR with the databases of DB, THREADS scanner
# threads, SECONDS s, the whole run (database load included) bounded by
# TIMEOUT s. Sets, for path bare:
#   CEIL_SPS[KEY]   scans per second (the ceiling)
#   CEIL_MBS[KEY]   MB/s (10^6 bytes) scanned
#   CEIL_CPU[KEY]   CPU microseconds per scan
#   CEIL_LINE[KEY]  its "ceiling:" line, CEIL_ENGINE[KEY] its "engine:" line
# Output in $RUN/ceiling-KEY.txt. Returns 1 (with a note) when it printed
# no figure.
declare -A CEIL_SPS CEIL_MBS CEIL_CPU CEIL_LINE CEIL_ENGINE
ceiling() {
    local key=$1 dir=$2 db=$3 threads=$4 secs=$5 timeout=$6 out=$RUN/ceiling-$1.txt line n
    n=$(find "$dir" -maxdepth 1 -type f ! -name '.*' | wc -l)
    note "sekisho-scand --ceiling ($key): $n files, $threads threads, ${secs}s"
    TMPDIR=$(scan_tmp_dir "ceiling-$key") \
        timeout "$timeout" "$BIN/sekisho-scand" --ceiling "$dir" --databases "$db" --threads "$threads" \
        --seconds "$secs" --path bare --stamp head >"$out" 2>&1
    line=$(grep -m 1 '^ceiling: .*path=bare ' "$out")
    if [ -z "$line" ] || [ -z "$(ceil_field scans_per_s "$line")" ]; then
        NOTES+=("sekisho-scand --ceiling ($key) gave no figure: $(tail -n 2 "$out" | tr '\n' ' ')")
        return 1
    fi
    CEIL_LINE[$key]=${line#ceiling: }
    CEIL_ENGINE[$key]=$(sed -n 's/^engine: //p' "$out" | head -n 1)
    CEIL_SPS[$key]=$(ceil_field scans_per_s "$line")
    CEIL_MBS[$key]=$(ceil_field MB_per_s "$line")
    CEIL_CPU[$key]=$(ceil_field cpu_us_per_scan "$line")
    if [ "$(ceil_field errors "$line")" != 0 ] || [ "$(ceil_field infected "$line")" != 0 ]; then
        NOTES+=("sekisho-scand --ceiling ($key): $(ceil_field errors "$line") errors, $(ceil_field infected "$line") infected (random files: none expected)")
    fi
    return 0
}

# ceiling_in_scand KEY NAME DIR - the ceiling the sekisho-scand started as
# NAME (start_scand ... --ceiling-first DIR --seconds S) measured on DIR
# before it served: the bare loop on the very engine its scans use (a
# full-scale engine's cost per scan differs by 10-20% from one process to
# the next: docs/bench.md, issue 17); `ceiling KEY-own ...` measures the
# same in a process of its own and ceiling_higher keeps the higher. Sets
# the CEIL_* of KEY like ceiling(); returns 1 (with a note) when NAME
# printed no figure for DIR.
ceiling_in_scand() {
    local key=$1 name=$2 dir=$3 line
    line=$(grep -m 1 "^ceiling: path=bare .* dir=$dir\$" "$RUN/$name.out")
    if [ -z "$line" ] || [ -z "$(ceil_field scans_per_s "$line")" ]; then
        NOTES+=("$name printed no ceiling for $dir before serving (--ceiling-first): $key falls back to its own process")
        return 1
    fi
    CEIL_LINE[$key]="in $name: ${line#ceiling: }"
    CEIL_ENGINE[$key]="the engine $name serves"
    CEIL_SPS[$key]=$(ceil_field scans_per_s "$line")
    CEIL_MBS[$key]=$(ceil_field MB_per_s "$line")
    CEIL_CPU[$key]=$(ceil_field cpu_us_per_scan "$line")
    return 0
}

# ceiling_higher KEY - KEY (the yardstick of % of ceiling) becomes the
# higher of ceiling_in_scand's and KEY-own's figures: in the runs of
# session 12 the daemon's figure came out 10-30% lower inside a bench than
# the same measurement alone, for reasons not found, and a yardstick must
# not flatter the proxy. KEY-own keeps its own figures for the report, and
# a lower figure of the daemon's moves to KEY-daemon.
ceiling_higher() {
    [ -n "${CEIL_SPS[$1-own]:-}" ] || return 0
    awk -v a="${CEIL_SPS[$1-own]}" -v b="${CEIL_SPS[$1]:-0}" 'BEGIN { exit !(a + 0 > b + 0) }' || return 0
    if [ -n "${CEIL_SPS[$1]:-}" ]; then
        CEIL_SPS[$1-daemon]=${CEIL_SPS[$1]} CEIL_MBS[$1-daemon]=${CEIL_MBS[$1]}
        CEIL_CPU[$1-daemon]=${CEIL_CPU[$1]} CEIL_LINE[$1-daemon]=${CEIL_LINE[$1]}
        CEIL_ENGINE[$1-daemon]=${CEIL_ENGINE[$1]}
    fi
    CEIL_SPS[$1]=${CEIL_SPS[$1-own]} CEIL_MBS[$1]=${CEIL_MBS[$1-own]} CEIL_CPU[$1]=${CEIL_CPU[$1-own]}
    CEIL_LINE[$1]="(own process, the higher) ${CEIL_LINE[$1-own]}" CEIL_ENGINE[$1]=${CEIL_ENGINE[$1-own]}
}

# ceil_pct RATE KEY - RATE (objects scanned per second through the proxy)
# in percent of the ceiling KEY; n/a without both figures.
ceil_pct() {
    awk -v a="$1" -v b="${CEIL_SPS[$2]:-}" 'BEGIN { num = "^[0-9]+([.][0-9]+)?$"
        if (a ~ num && b ~ num && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "n/a" }'
}

# ceiling_report KEY LABEL - one line: the ceiling's figures and engine.
ceiling_report() {
    local key=$1 label=$2
    if [ -n "${CEIL_SPS[$key]:-}" ]; then
        printf '%s: %s scans/s, %s MB/s, %s us CPU per scan (%s; %s)\n' "$label" "${CEIL_SPS[$key]}" \
            "${CEIL_MBS[$key]:-?}" "${CEIL_CPU[$key]:-?}" "${CEIL_LINE[$key]}" "${CEIL_ENGINE[$key]:-no engine line}"
    else
        printf '%s: n/a (see the notes)\n' "$label"
    fi
}
