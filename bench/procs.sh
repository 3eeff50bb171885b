# shellcheck shell=bash disable=SC2034 # LAST_PID is read by the sourcing script
# procs.sh - sourced by bench/http.sh, smtp.sh, pop.sh and ftp.sh: the
# processes a bench starts and stops. Each daemon runs in its own session
# (setsid), its output in $RUN/<name>.out; on exit every one is stopped in
# reverse order (its signal, a bounded wait of STOP_TIMEOUT, then SIGKILL to
# its group) and $RUN removed unless KEEP=1. Needs RUN, KEEP, STOP_TIMEOUT
# and a note() function of the sourcing script.

STARTED=() # "pid:signal", stopped in reverse order on exit
declare -A PID_NAME

alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# stop_pid PID SIG - SIG, bounded wait, then SIGKILL to its process group
# (every daemon is started with setsid, so the group is its own tree).
stop_pid() {
    local pid=$1 sig=$2 deadline=$((SECONDS + STOP_TIMEOUT))
    if alive "$pid"; then
        kill -"$sig" "$pid" 2>/dev/null
        while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    fi
    if alive "$pid" || pgrep -g "$pid" >/dev/null 2>&1; then
        note "pid $pid (${PID_NAME[$pid]:-?}) did not stop on SIG$sig within ${STOP_TIMEOUT}s: SIGKILL to its group"
        kill -KILL -- "-$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

# Where the scanners (sekisho-scand, the ceiling, clamd) keep their
# temporary files: BENCH_SCAN_TMP=disk (default: under the run directory, on
# the disk, as a default gateway's /var/tmp/sekisho) or tmpfs (a directory in
# /dev/shm, removed on exit). libclamav makes and removes a directory per
# scan; on a disk whose removal waits for the device (a journal-less ext4
# mounted with discard, docs/bench.md "Issue 17") that wait is in every scan.
SCAN_TMP_MODE=${BENCH_SCAN_TMP:-disk}
case $SCAN_TMP_MODE in
tmpfs) SCAN_TMP_BASE=$(mktemp -d /dev/shm/sekisho-bench.XXXXXX) ;;
disk) SCAN_TMP_BASE=$RUN/scan-tmp && mkdir -p "$SCAN_TMP_BASE" ;;
*) echo "BENCH_SCAN_TMP is disk or tmpfs" >&2 && exit 2 ;;
esac || exit 2
chmod 755 "$SCAN_TMP_BASE"
# scan_tmp_dir NAME - a directory for NAME's temporary files (world-writable
# and sticky: the daemons drop to nobody or clamav); prints its path.
scan_tmp_dir() {
    mkdir -p "$SCAN_TMP_BASE/$1" && chmod 1777 "$SCAN_TMP_BASE/$1" && echo "$SCAN_TMP_BASE/$1"
}

cleanup() {
    local i
    trap - EXIT INT TERM
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        stop_pid "${STARTED[i]%%:*}" "${STARTED[i]##*:}"
    done
    [ "$SCAN_TMP_MODE" = tmpfs ] && rm -rf "$SCAN_TMP_BASE"
    if [ "$KEEP" = 1 ]; then
        echo "run directory kept: $RUN" >&2
    else
        rm -rf "$RUN"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME SIG ARGV... - run ARGV in its own session, output to $RUN/NAME.out.
LAST_PID=
start() {
    local name=$1 sig=$2
    shift 2
    setsid "$@" >"$RUN/$name.out" 2>&1 </dev/null &
    LAST_PID=$!
    PID_NAME[$LAST_PID]=$name
    STARTED+=("$LAST_PID:$sig")
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until SECONDS CMD... - poll CMD every 0.1 s, bounded.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# ---- what every bench starts the same way ------------------------------------
# Needs BIN, BUILD_TREE, WORKERS, GATEWAY_START_TIMEOUT, die() and note().

declare -A GW_PID GW_PREFIX
GW_PORT=   # the port of the gateway gateway_start started last
SCAND_PID= # the sekisho-scand start_scand started last
SCAND_SOCK=
SCAND_OUT= # its output (the "ceiling:" lines of --ceiling-first and SIGUSR2)
SCAND_LOAD=

# gateway_start SVC NAME SOCK SECTION [COMMON] - a sekisho --SVC gateway in
# $RUN/gw-NAME: [common] with what every bench uses (tmpdir, quarantine_dir,
# scand_socket SOCK, run_user nobody, WORKERS workers) and the lines of
# COMMON, [SVC] with svcport (a free port on 127.0.0.1) and the lines of
# SECTION. Waits until it listens and its workers run (dies otherwise); sets
# GW_PID[NAME], GW_PREFIX[NAME], GW_PORT.
gateway_start() {
    local svc=$1 name=$2 sock=$3 section=$4 common=${5:-} port prefix pid nl=$'\n'
    port=$(free_port)
    prefix=$RUN/gw-$name
    mkdir -p "$prefix/conf"
    cp "$BUILD_TREE"/conf/template_* "$prefix/conf/"
    : >"$prefix/conf/hosts.allow"
    printf '[common]\ntmpdir=tmp/spool\nquarantine_dir=tmp/quarantine\nscand_socket=%s\nrun_user=nobody\nworkers=%s\n%s[%s]\nsvcport=127.0.0.1:%s\n%s\n' \
        "$sock" "$WORKERS" "${common:+$common$nl}" "$svc" "$port" "$section" >"$prefix/conf/sekisho.ini"
    chmod -R a+rX "$prefix"
    start "gw-$name" TERM "$BIN/sekisho" "--$svc" -f "$prefix/conf/sekisho.ini" -q
    pid=$LAST_PID
    gw_up() { port_open "$port" || ! alive "$pid"; }
    wait_until "$GATEWAY_START_TIMEOUT" gw_up
    alive "$pid" && port_open "$port" || die "gateway $name did not start: $(tail -n 20 "$RUN/gw-$name.out")"
    gw_workers() { [ "$(pgrep -c -P "$pid")" -ge "$WORKERS" ]; }
    wait_until "$GATEWAY_START_TIMEOUT" gw_workers || die "gateway $name: workers did not start"
    GW_PID[$name]=$pid
    GW_PREFIX[$name]=$prefix
    GW_PORT=$port
}

# haproxy_run CFG PORT TIMEOUT [BINARY] - haproxy -db -f CFG as the child
# "haproxy", waited for on PORT for TIMEOUT s; sets HAPROXY_PID, or
# HAPROXY_STATE (why it is left out) and returns 1.
haproxy_run() {
    local cfg=$1 port=$2 timeout=$3 bin=${4:-haproxy}
    start haproxy TERM "$bin" -db -f "$cfg"
    HAPROXY_PID=$LAST_PID
    haproxy_up() { port_open "$port" || ! alive "$HAPROXY_PID"; }
    wait_until "$timeout" haproxy_up
    if ! alive "$HAPROXY_PID" || ! port_open "$port"; then
        HAPROXY_STATE="left out: haproxy did not start: $(tail -n 3 "$RUN/haproxy.out" | tr '\n' ' ')"
        return 1
    fi
}

stop_gateway() { stop_pid "${GW_PID[$1]}" TERM; }

# start_scand NAME DB TIMEOUT [ARG...] - sekisho-scand (2 threads) on
# $RUN/NAME.sock with the databases of DB and the further ARGs (e.g.
# --ceiling-first DIR); 1 when it does not listen within TIMEOUT s.
# Sets SCAND_SOCK, SCAND_PID, SCAND_LOAD (seconds to listen).
start_scand() {
    local name=$1 db=$2 timeout=$3 t0=$SECONDS pid
    shift 3
    SCAND_SOCK=$RUN/$name.sock
    # Its own tmpdir: the default (/var/tmp/sekisho) may be another scand's
    # (a test run's), which a restarted scand empties and a new one refuses.
    local tmp
    tmp=$(scan_tmp_dir "$name") || die "cannot make a temporary directory for $name"
    start "$name" TERM "$BIN/sekisho-scand" --socket "$SCAND_SOCK" --databases "$db" --threads 2 \
        --tmpdir "$tmp" "$@"
    pid=$LAST_PID
    scand_ready() { [ -S "$SCAND_SOCK" ] && grep -q listening "$RUN/$name.out"; }
    scand_gone() { ! alive "$pid"; }
    wait_until "$timeout" eval 'scand_ready || scand_gone'
    if ! scand_ready; then
        note "sekisho-scand ($name) not listening after ${timeout}s: $(tail -n 5 "$RUN/$name.out")"
        stop_pid "$pid" TERM
        return 1
    fi
    SCAND_LOAD=$((SECONDS - t0))
    SCAND_PID=$pid
    SCAND_OUT=$RUN/$name.out
    return 0
}

# scand_remeasure PID N OUT DIR BOUND - ask the serving sekisho-scand PID
# (started with --ceiling-first, whose Nth directory is DIR; its output in
# OUT) to run its bare loop on DIR again (SIGUSR2 with value N; src/scand/
# ceiling_rerun.h) and wait at most BOUND s for the new "ceiling:" line.
# Prints its scans_per_s, or nothing. The yardstick of a cell in the same
# process and the same minute: call it right before and right after the
# cell, while no load runs. Polls every 0.5 s, so that the wait costs the
# measurement little CPU.
scand_remeasure() {
    local pid=$1 n=$2 out=$3 dir=$4 bound=$5 before deadline line
    before=$(grep -c "^ceiling: path=bare .* dir=$dir\$" "$out")
    /bin/kill -q "$n" -USR2 "$pid" 2>/dev/null || return 0
    deadline=$((SECONDS + bound))
    while [ $SECONDS -lt $deadline ]; do
        sleep 0.5
        [ "$(grep -c "^ceiling: path=bare .* dir=$dir\$" "$out")" -gt "$before" ] || continue
        line=$(grep "^ceiling: path=bare .* dir=$dir\$" "$out" | tail -n 1)
        sed -n 's/.* scans_per_s=\([0-9.]*\).*/\1/p' <<<"$line"
        return 0
    done
}

# The bracket of a cell (bench/http.sh, bench/smtp.sh): scand_remeasure
# right before it (bracket_open) and right after it (bracket_close); their
# mean is the cell's yardstick. A cell that brackets the same daemon and
# directory as the cell just before takes that cell's "after" as its
# "before". BRACKET[CELL]="before after", CEIL_CELL[CELL]=mean.
declare -A BRACKET CEIL_CELL
BR_LAST_KEY="" BR_LAST_VAL="" BR0=""
# bracket_open PID N OUT DIR BOUND - sets BR0; call before every cell (a
# cell without a bracket calls bracket_none, which breaks the chain).
bracket_open() {
    if [ "$BR_LAST_KEY" = "$3|$4" ]; then
        BR0=$BR_LAST_VAL
    else
        note "$(basename "$3" .out): its bare loop before the cell"
        BR0=$(scand_remeasure "$@")
    fi
    BR_LAST_KEY=""
}
bracket_none() { BR_LAST_KEY=""; }
# bracket_close CELL LABEL PID N OUT DIR BOUND - after the cell: the
# "after" measurement, BRACKET and CEIL_CELL of CELL, a note naming LABEL
# when either measurement is missing.
bracket_close() {
    local cell=$1 label=$2 br1
    shift 2
    sleep 1 # the cell's last replies out
    note "$(basename "$3" .out): its bare loop after the cell"
    br1=$(scand_remeasure "$@")
    BRACKET[$cell]="${BR0:-?} ${br1:-?}"
    if [ -n "$BR0" ] && [ -n "$br1" ]; then
        CEIL_CELL[$cell]=$(awk -v a="$BR0" -v b="$br1" 'BEGIN { printf "%.1f", (a + b) / 2 }')
    else
        NOTES+=("$label: the daemon's bare loop around the cell was not measured (before: ${BR0:-none}, after: ${br1:-none}); its percent of ceiling is against the run's ceiling")
    fi
    BR_LAST_KEY="$3|$4"
    BR_LAST_VAL=$br1
}

# cpu_ticks PID... - CPU ticks of the processes and of their children.
cpu_ticks() {
    local total=0 pid p
    for pid in "$@"; do
        total=$((total + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
        for p in $(pgrep -P "$pid"); do
            total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
        done
    done
    echo "$total"
}

# us_per TICKS N - microseconds of CPU per unit ("-" for none).
us_per() {
    awk -v t="$1" -v hz="$CLK_TCK" -v r="$2" 'BEGIN { if (r > 0) printf "%.0f", t / hz * 1e6 / r; else printf "-" }'
}

workers_of() { pgrep -P "$1" | sort | tr '\n' ' '; }
