#!/usr/bin/env bash
# smtp.sh - throughput, latency and CPU figures of the Sekisho SMTP proxy,
# against direct delivery to a sink and against clamsmtp + clamd.
#
#   bench/smtp.sh                  (as root on Debian 12, after `make`)
#
# Compiles its load generator (bench/smtpload.c) into the run directory and
# starts its own postfix smtp-sink (the final destination of every mail; it
# counts, it writes nothing to disk), sekisho-scand (bundled databases/, then
# the synthetic full-scale database of bench/gen-fulldb.py) and sekisho
# --smtp gateways (virus_check=yes, action=deny, parent = the sink); and, for
# each of the two databases, a comparison stack of clamd (same database
# directory) and clamsmtpd (Debian's clamsmtp) in front of the same sink. All
# of it runs as child processes on 127.0.0.1, on ports picked at run time,
# configured in the run directory; no system service is started or used.
#
# Every mail is unique (about 81 KB: a text/plain part and a fresh
# pseudo-random 58,800-byte application/octet-stream attachment, base64,
# new Message-ID), so no cache (libclamav's, clamd's, Sekisho's verdict
# cache) makes a repeated mail free. It prints, for 1/10/50 concurrent
# senders, one mail per connection and many mails per connection (no RSET):
# mails/s, MB/s (10^6 bytes of message data/s), p50/p99 latency, failed
# mails and CPU per mail of the proxy, the scanner, the sink and the load
# generator: smtp-sink direct, Sekisho (both databases), clamsmtp + clamd
# (both databases); then a summary against the targets of the issue.
# Before measuring a scanning stack, an EICAR mail (base64 attachment) must
# not reach the sink and a clean mail must; what each answered is printed.
# Figures only: nothing passes or fails on time. The exit status is non-zero
# only when the bench itself could not run (missing binary, a server that did
# not start). Everything started here is stopped on exit (trap).
#
# Environment (all optional):
#   BENCH_SECONDS=10            duration of one cell
#   BENCH_WARMUP=2              s at the start of a cell whose mails are not counted
#   BENCH_SENDERS="1 10 50"     concurrent senders
#   BENCH_MODES="one many"      one mail per connection / many per connection
#   BENCH_ATTACH_BYTES=58800    random bytes of each attachment (before base64)
#   BENCH_IO_TIMEOUT=30         s; a reply slower than this fails the mail
#   BENCH_WORKERS=nproc         proxy workers;  BENCH_PRE_SPAWN=200
#   BENCH_DIR=/var/tmp/sekisho-bench   work dir; the full database is cached
#   BENCH_FULLDB=$BENCH_DIR/fulldb     in BENCH_FULLDB and reused
#   BENCH_SKIP_FULLDB=1         leave out the full-scale database
#   BENCH_SKIP_CLAMSMTP=1       leave out clamsmtp + clamd
#   BENCH_SCAND_TIMEOUT=600     bound on a full database load (s, scand and clamd)
#   BENCH_KEEP=1                keep the run directory (configs, logs, outputs)
#   BUILD=build                 build directory holding bin/ (relative to the
#                               repository, or absolute; SEKISHO_BUILD too: see
#                               bench/build-dir.sh)
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
# shellcheck source=bench/build-dir.sh
. "$REPO/bench/build-dir.sh"

CELL_SECONDS=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP:-2}
SENDERS=${BENCH_SENDERS:-"1 10 50"}
MODES=${BENCH_MODES:-"one many"}
ATTACH_BYTES=${BENCH_ATTACH_BYTES:-58800}
IO_TIMEOUT=${BENCH_IO_TIMEOUT:-30}
WORKERS=${BENCH_WORKERS:-$(nproc)}
PRE_SPAWN=${BENCH_PRE_SPAWN:-200}
BENCH_DIR=${BENCH_DIR:-/var/tmp/sekisho-bench}
FULLDB=${BENCH_FULLDB:-$BENCH_DIR/fulldb}
SKIP_FULLDB=${BENCH_SKIP_FULLDB:-0}
SKIP_CLAMSMTP=${BENCH_SKIP_CLAMSMTP:-0}
FULL_LOAD_TIMEOUT=${BENCH_SCAND_TIMEOUT:-600}
KEEP=${BENCH_KEEP:-0}

SMTP_SINK=/usr/sbin/smtp-sink
SINK_BACKLOG=1024
SINK_MAX_CONNS=1024 # smtp-sink -m (its default of 256 could queue the proxies' upstreams)
NOFILE_WANT=65536
BUNDLED_LOAD_TIMEOUT=60 # s, scand or clamd with databases/
SINK_START_TIMEOUT=10
GATEWAY_START_TIMEOUT=20
CLAMSMTP_START_TIMEOUT=20
STOP_TIMEOUT=30 # s, SIGTERM before SIGKILL
CELL_PAUSE=2    # s between cells: TIME_WAIT and CPU settle
FULLDB_GEN_TIMEOUT=1800
CHECK_SETTLE=1 # s after a check mail before the sink's count is read
APT_TIMEOUT=900
CLAMSMTP_PACKAGES="clamsmtp clamav-daemon"

die() {
    echo "smtp.sh: $*" >&2
    exit 2
}
note() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites ---------------------------------------------------------

[ -x "$BIN/sekisho" ] && [ -x "$BIN/sekisho-scand" ] || die "no $BIN/sekisho or sekisho-scand: run make first"
[ -x $SMTP_SINK ] || die "$SMTP_SINK not found (Debian package postfix)"
for tool in cc python3 setsid; do
    command -v $tool >/dev/null || die "$tool not found"
done

# apt_install PKG... - noninteractive, without starting any service: a
# policy-rc.d answering 101 ("action forbidden") is put in place for the
# duration when none exists (invoke-rc.d and deb-systemd-invoke ask it).
# (As in bench/http.sh.)
apt_install() {
    local policy=/usr/sbin/policy-rc.d made_policy=0 rc
    [ "$(id -u)" = 0 ] || return 1
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\n# bench/smtp.sh: no service starts during its apt-get install\nexit 101\n' >$policy
        chmod 755 $policy
        made_policy=1
    fi
    DEBIAN_FRONTEND=noninteractive timeout $APT_TIMEOUT \
        apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1
    rc=$?
    if [ $rc != 0 ]; then
        # Stale or missing package lists: refresh once and retry.
        timeout $APT_TIMEOUT apt-get update >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive timeout $APT_TIMEOUT \
            apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1
        rc=$?
    fi
    [ $made_policy = 1 ] && rm -f $policy
    # Where systemd is the init, the units were enabled for the next boot:
    # disable them (no start happened, see above).
    if [ $rc = 0 ] && [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
        systemctl disable --now clamsmtp clamav-daemon clamav-freshclam >/dev/null 2>&1
    fi
    return $rc
}

have_clamsmtp() { command -v clamsmtpd >/dev/null && command -v clamd >/dev/null; }
CLAMSMTP_STATE=
if [ "$SKIP_CLAMSMTP" = 1 ]; then
    CLAMSMTP_STATE="skipped (BENCH_SKIP_CLAMSMTP=1)"
elif ! have_clamsmtp; then
    note "installing $CLAMSMTP_PACKAGES (no service is started)"
    if ! apt_install $CLAMSMTP_PACKAGES || ! have_clamsmtp; then
        CLAMSMTP_STATE="left out: apt-get install $CLAMSMTP_PACKAGES failed"
        note "$CLAMSMTP_STATE"
    fi
fi
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge $NOFILE_WANT ]; then
    ulimit -n $NOFILE_WANT
else
    ulimit -n "$hard"
fi

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
chmod 755 "$BENCH_DIR"
RUN=$(mktemp -d "$BENCH_DIR/run.XXXXXX") || die "mktemp failed"
# The daemons drop to nobody and must traverse the run directory.
chmod 755 "$RUN"

# A copy of the binaries: a `make` running beside the bench (other people's
# work on the same tree) must not change them between phases.
BUILT=$(date -u -r "$BIN/sekisho" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$RUN/bin" && cp "$BIN/sekisho" "$BIN/sekisho-scand" "$RUN/bin/" || die "cannot copy the binaries"
BIN=$RUN/bin

LOAD=$RUN/smtpload
cc -O2 -Wall -Wextra -o "$LOAD" "$REPO/bench/smtpload.c" -lpthread 2>"$RUN/smtpload-cc.out" ||
    die "cannot compile bench/smtpload.c: $(cat "$RUN/smtpload-cc.out")"

# ---- process bookkeeping and cleanup (bench/procs.sh) ---------------------

# shellcheck source=bench/procs.sh
. "$REPO/bench/procs.sh"

# CPU figures: cpu_ticks and us_per (bench/procs.sh).
CLK_TCK=$(getconf CLK_TCK)

# busy_ticks - CPU time (clock ticks) the whole machine spent busy (user,
# nice, system, irq, softirq, steal), all CPUs.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# field KEY LINE - the value of KEY=value in a SMTPLOAD line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# ---- the sink --------------------------------------------------------------
# One smtp-sink for everything: the direct target and the parent server of
# every proxy. -c keeps running counters on its standard output (flushed at
# each end of a mail); sink_count reads the last "mesg=N".

SINK_PORT=$(free_port)
SINK_ARGS=(-c -m "$SINK_MAX_CONNS")
[ "$(id -u)" = 0 ] && SINK_ARGS+=(-u nobody)
start sink TERM $SMTP_SINK "${SINK_ARGS[@]}" "127.0.0.1:$SINK_PORT" $SINK_BACKLOG
SINK_PID=$LAST_PID
wait_until $SINK_START_TIMEOUT port_open "$SINK_PORT" || die "smtp-sink did not start: $(cat "$RUN/sink.out")"

sink_count() {
    local n
    n=$(tail -c 200 "$RUN/sink.out" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1)
    echo "${n:-0}"
}

# ---- targets ---------------------------------------------------------------
# A target is one thing the load generator sends to: direct (smtp-sink),
# bundled, full (Sekisho gateways), csb, csf (clamsmtp + clamd with the
# bundled and the full-scale database). Per target:
declare -A T_PORT T_SRV T_SCAN T_GW
declare -A LABEL=(
    [direct]="smtp-sink direct"
    [bundled]="Sekisho, bundled db"
    [full]="Sekisho, full-scale db"
    [csb]="clamsmtp+clamd, bundled db"
    [csf]="clamsmtp+clamd, full-scale db"
)
declare -A MODE_LABEL=([one]="1 mail/conn" [many]="many/conn")
T_PORT[direct]=$SINK_PORT
T_SRV[direct]=$SINK_PID

# ---- scand and gateways ----------------------------------------------------



# start_gateway NAME SCAND_SOCKET - a sekisho --smtp gateway scanning
# (virus_check=yes, action=deny: an infected mail gets 554) in front of the
# sink; also defines target NAME.
start_gateway() {
    local name=$1 sock=$2
    # ipv6=no: the parent is the literal 127.0.0.1 (see bench/http.sh).
    # max_sessions_per_client=0: every bench client comes from 127.0.0.1.
    gateway_start smtp "$name" "$sock" "parent_server_host=127.0.0.1
parent_server_port=$SINK_PORT
virus_check=yes
action=deny
pre_spawn=$PRE_SPAWN
max_sessions_per_client=0
ipv6=no"
    T_PORT[$name]=$GW_PORT
    T_SRV[$name]=${GW_PID[$name]}
    T_SCAN[$name]=$SCAND_PID
    T_GW[$name]=$name
}


gw_error_lines() {
    local f=${GW_PREFIX[$1]}/log/smtp/error.log
    if [ -f "$f" ]; then wc -l <"$f"; else echo 0; fi
}

# ---- clamsmtp + clamd ------------------------------------------------------

# clamd_ping SOCKET - clamd answers PONG.
clamd_ping() {
    python3 - "$1" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(b"zPING\0")
sys.exit(0 if s.recv(16).startswith(b"PONG") else 1)
EOF
}

# start_clamsmtp NAME DBDIR TIMEOUT - clamd on DBDIR, then clamsmtpd in
# front of the sink; defines target NAME. Returns 1 (with a note in
# CLAMSMTP_FAIL) when one of them did not come up; what was started is
# stopped by the trap.
declare -A CLAMD_LOAD
CLAMSMTP_FAIL=
start_clamsmtp() {
    local name=$1 db=$2 timeout=$3 dir=$RUN/$1 t0=$SECONDS clamd cs port
    mkdir -p "$dir/tmp" "$dir/spool"
    # clamd: Debian's generated clamd.conf settings for threads, queues and
    # timeouts (MaxThreads 12 ...), libclamav defaults for the scan options
    # (mail parsing on), the clean-file cache on (as in scand); runs as the
    # script's user (root: no User line), like clamsmtpd, so it reads
    # clamsmtpd's spool files; no system path is touched.
    cat >"$dir/clamd.conf" <<EOF
LocalSocket $dir/clamd.sock
FixStaleSocket true
LocalSocketMode 600
DatabaseDirectory $db
TemporaryDirectory $dir/tmp
Foreground true
LogFile $dir/clamd.log
LogTime true
PidFile $dir/clamd.pid
MaxThreads 12
MaxConnectionQueueLength 15
MaxQueue 100
ReadTimeout 180
CommandReadTimeout 30
SendBufTimeout 200
IdleTimeout 30
SelfCheck 3600
EOF
    start "$name-clamd" TERM clamd -c "$dir/clamd.conf"
    clamd=$LAST_PID
    clamd_ready() { [ -S "$dir/clamd.sock" ] && clamd_ping "$dir/clamd.sock"; }
    clamd_gone() { ! alive "$clamd"; }
    wait_until "$timeout" eval 'clamd_ready || clamd_gone'
    if ! clamd_ready; then
        CLAMSMTP_FAIL="clamd ($name) not ready after ${timeout}s: $(tail -n 3 "$dir/clamd.log" "$RUN/$name-clamd.out" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    CLAMD_LOAD[$name]=$((SECONDS - t0))

    # clamsmtpd: Debian's /etc/clamsmtpd.conf (defaults: MaxConnections 64,
    # TimeOut 180, Action drop, the X-Virus-Scanned header) with every path
    # in the run directory; in the foreground (-d 1), as the script's user.
    port=$(free_port)
    cat >"$dir/clamsmtpd.conf" <<EOF
OutAddress: 127.0.0.1:$SINK_PORT
Listen: 127.0.0.1:$port
ClamAddress: $dir/clamd.sock
TempDirectory: $dir/spool
PidFile: $dir/clamsmtpd.pid
EOF
    start "$name-clamsmtpd" TERM clamsmtpd -f "$dir/clamsmtpd.conf" -d 1
    cs=$LAST_PID
    cs_up() { port_open "$port" || ! alive "$cs"; }
    wait_until $CLAMSMTP_START_TIMEOUT cs_up
    if ! alive "$cs" || ! port_open "$port"; then
        CLAMSMTP_FAIL="clamsmtpd ($name) did not start: $(tail -n 3 "$RUN/$name-clamsmtpd.out" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    T_PORT[$name]=$port
    T_SRV[$name]=$cs
    T_SCAN[$name]=$clamd
    return 0
}

stop_clamsmtp() {
    stop_pid "${T_SRV[$1]}" TERM
    stop_pid "${T_SCAN[$1]}" TERM
}

# ---- checks ----------------------------------------------------------------

# check_mail TARGET [-E] - one mail (EICAR attachment with -E) through
# TARGET; prints "<reply to the dot>|<mails the sink received>".
check_mail() {
    local t=$1 n0 n1 out reply
    shift
    n0=$(sink_count)
    out=$(timeout $((3 * IO_TIMEOUT + 20)) "$LOAD" -p "${T_PORT[$t]}" -n 1 -v -T "$IO_TIMEOUT" "$@" 2>&1)
    reply=$(sed -n 's/^SMTPREPLY //p' <<<"$out")
    [ -n "$reply" ] || reply="no answer ($(tail -n 1 <<<"$out"))"
    sleep $CHECK_SETTLE
    n1=$(sink_count)
    echo "$reply|$((n1 - n0))"
}

# check TARGET - before any cell: a clean mail must reach the sink; through
# a scanning target an EICAR mail must not (Sekisho: 554 expected). Sets
# CHECK.
declare -A CHECK
check() {
    local t=$1 r reply got res=""
    if [ "$t" != direct ]; then
        r=$(check_mail "$t" -E)
        reply=${r%|*} got=${r##*|}
        if [ "$got" = 0 ]; then
            res+="EICAR not delivered (answer: $reply)"
            if [ -n "${T_GW[$t]:-}" ] && [ "${reply:0:3}" != 554 ]; then
                NOTES+=("check through ${LABEL[$t]}: EICAR answered '$reply', not 554")
            fi
        else
            res+="EICAR DELIVERED ($got mail(s) at the sink; answer: $reply)"
            NOTES+=("check through ${LABEL[$t]}: EICAR was delivered")
        fi
        res+="; "
    fi
    r=$(check_mail "$t")
    reply=${r%|*} got=${r##*|}
    if [ "$got" = 1 ] && [ "${reply:0:3}" = 250 ]; then
        res+="clean mail delivered (answer: $reply)"
    else
        res+="clean mail FAILED ($got mail(s) at the sink; answer: $reply)"
        NOTES+=("check through ${LABEL[$t]}: the clean mail was not delivered (answer: $reply)")
    fi
    CHECK[$t]=$res
}

# ---- cells -----------------------------------------------------------------

declare -A MPS MBS P50 P99 FAILED CPU SCPU TCPU SINKCPU GENCPU OTHERS
NOTES=()

# cell TARGET SENDERS MODE - one smtpload run.
cell() {
    local t=$1 c=$2 mode=$3 key out line before after
    local gw=${T_GW[$t]:-} srv=${T_SRV[$t]} scan=${T_SCAN[$t]:-}
    key="$t|$mode|$c"
    out=$RUN/load-$t-$mode-$c.txt
    local c0 s0=0 k0 c1 s1=0 k1 err0=0 n0 n1 b0 b1 w0 w1
    [ -n "$gw" ] && before=$(workers_of "${GW_PID[$gw]}") && err0=$(gw_error_lines "$gw")
    n0=$(sink_count)
    c0=$(cpu_ticks "$srv")
    [ -n "$scan" ] && s0=$(cpu_ticks "$scan")
    k0=$(cpu_ticks "$SINK_PID")
    b0=$(busy_ticks)
    w0=$(date +%s.%N)
    note "$t, $mode, $c senders, ${CELL_SECONDS}s"
    timeout $((CELL_SECONDS + 3 * IO_TIMEOUT + 30)) \
        "$LOAD" -p "${T_PORT[$t]}" -c "$c" -m "$mode" -t "$CELL_SECONDS" -w "$WARMUP" -T "$IO_TIMEOUT" \
        -s "$ATTACH_BYTES" >"$out" 2>&1
    c1=$(cpu_ticks "$srv")
    [ -n "$scan" ] && s1=$(cpu_ticks "$scan")
    k1=$(cpu_ticks "$SINK_PID")
    b1=$(busy_ticks)
    w1=$(date +%s.%N)
    sleep 0.2 # the sink's counter after the last QUIT
    n1=$(sink_count)
    line=$(grep '^SMTPLOAD ' "$out")
    if [ -z "$line" ]; then
        MPS[$key]=n/a
        NOTES+=("${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders: smtpload gave no result ($(tail -n 2 "$out" | tr '\n' ' '))")
    else
        local warm ok late failed delivered
        warm=$(field warm "$line")
        ok=$(field ok "$line")
        late=$(field late "$line")
        failed=$(field failed "$line")
        delivered=$((warm + ok + late))
        MPS[$key]=$(field msgs_per_s "$line")
        MBS[$key]=$(field mb_per_s "$line")
        P50[$key]=$(field p50_ms "$line")
        P99[$key]=$(field p99_ms "$line")
        FAILED[$key]=$failed
        GENCPU[$key]=$(field gen_cpu_us "$line")
        # CPUs (0..nproc) kept busy during the cell by anything but the
        # processes measured (proxy, scanner, sink, load generator): other
        # work on the machine, or steal.
        local ours=$((c1 - c0 + s1 - s0))
        [ "$t" != direct ] && ours=$((ours + k1 - k0))
        OTHERS[$key]=$(awk -v b=$((b1 - b0)) -v o="$ours" -v g="$(field gen_cpu_s "$line")" \
            -v hz="$CLK_TCK" -v a="$w0" -v z="$w1" \
            'BEGIN { v = ((b - o) / hz - g) / (z - a); printf "%.2f", v < 0 ? 0 : v }')
        if [ "$t" = direct ]; then
            CPU[$key]=$(us_per $((c1 - c0)) "$delivered")
            TCPU[$key]=${CPU[$key]}
        else
            CPU[$key]=$(us_per $((c1 - c0)) "$delivered")
            SCPU[$key]=$(us_per $((s1 - s0)) "$delivered")
            TCPU[$key]=$(us_per $((c1 - c0 + s1 - s0)) "$delivered")
            SINKCPU[$key]=$(us_per $((k1 - k0)) "$delivered")
        fi
        if [ "$failed" != 0 ]; then
            NOTES+=("${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders: $failed failed mail(s): $(grep '^SMTPFAIL ' "$out" | sed 's/^SMTPFAIL //' | tr '\n' ';')")
        fi
        # Every mail the client saw acknowledged must have reached the sink,
        # and nothing more (a failed mail may have, when the failure came
        # after the proxy's delivery: it is said here).
        if [ $((n1 - n0)) != "$delivered" ]; then
            NOTES+=("${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders: the sink received $((n1 - n0)) mails, the client had $delivered acknowledged with 250")
        fi
    fi
    if [ -n "$gw" ]; then
        if ! alive "${GW_PID[$gw]}"; then
            NOTES+=("${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders: the gateway master exited")
        else
            after=$(workers_of "${GW_PID[$gw]}")
            if [ "$before" != "$after" ]; then
                NOTES+=("${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders: worker(s) replaced during the cell (was $before, now $after): a worker died")
                CPU[$key]=n/a
                TCPU[$key]=n/a
            fi
        fi
        local err1
        err1=$(gw_error_lines "$gw")
        if [ "$err1" -gt "$err0" ]; then
            NOTES+=("${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders: $((err1 - err0)) new error.log line(s), last: $(tail -n 1 "${GW_PREFIX[$gw]}/log/smtp/error.log")")
        fi
    fi
    sleep $CELL_PAUSE
}

# run_cells TARGETS - every sender count and mode, interleaved.
run_cells() {
    local targets=$1 c t mode
    for c in $SENDERS; do
        for t in $targets; do
            [ -n "${T_PORT[$t]:-}" ] || continue
            for mode in $MODES; do cell "$t" "$c" "$mode"; done
        done
    done
}

# ---- header ----------------------------------------------------------------

GIT=$BUILD_GIT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
MSG_SIZE=$("$LOAD" -p "$SINK_PORT" -n 1 -s "$ATTACH_BYTES" | sed -n 's/.* avg_msg_bytes=\([0-9]*\).*/\1/p')
echo "== Sekisho SMTP proxy benchmark"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "build:       $BUILD/ at $GIT (sekisho built $BUILT); smtp-sink from postfix $(dpkg-query -W -f '${Version}' postfix 2>/dev/null)"
if [ -z "$CLAMSMTP_STATE" ]; then
    echo "compared:    clamsmtp $(dpkg-query -W -f '${Version}' clamsmtp 2>/dev/null), clamd $(clamd -V 2>&1 | head -n 1 | awk '{print $2}' | cut -d/ -f1)"
fi
echo "setup:       unique mails of ${MSG_SIZE:-?} bytes (text/plain + ${ATTACH_BYTES}-byte random attachment, base64); ${CELL_SECONDS}s per cell (${WARMUP}s warm-up);"
echo "             bench/smtpload: one thread per sender, reply timeout ${IO_TIMEOUT}s; smtp-sink -c, backlog $SINK_BACKLOG, nothing written;"
echo "             Sekisho $WORKERS workers, pre_spawn=$PRE_SPAWN, virus_check=yes, action=deny, ipv6=no; scand 2 threads;"
echo "             clamsmtpd defaults (MaxConnections 64, listen backlog 5, Action drop); clamd MaxThreads 12"
echo "load average at start: $LOAD_START"

# ---- phase 1: bundled database ---------------------------------------------

check direct
start_scand scand-bundled "$REPO/databases" $BUNDLED_LOAD_TIMEOUT || die "sekisho-scand with databases/ did not start"
note "scand (bundled databases/) listening after ${SCAND_LOAD}s"
start_gateway bundled "$SCAND_SOCK"
check bundled
if [ -z "$CLAMSMTP_STATE" ]; then
    if start_clamsmtp csb "$REPO/databases" $BUNDLED_LOAD_TIMEOUT; then
        note "clamsmtpd + clamd (bundled databases/) up; clamd loaded in ${CLAMD_LOAD[csb]}s"
        check csb
    else
        CLAMSMTP_STATE="left out: $CLAMSMTP_FAIL"
        note "$CLAMSMTP_STATE"
    fi
fi

run_cells "direct bundled csb"

stop_gateway bundled
[ -n "${T_PORT[csb]:-}" ] && stop_clamsmtp csb

# ---- phase 2: full-scale database ------------------------------------------

FULL_STATE=skipped
if [ "$SKIP_FULLDB" != 1 ]; then
    GEN_SUM=$(sha256sum "$REPO/bench/gen-fulldb.py" | cut -d' ' -f1)
    # Reused when present (also the one bench/http.sh made); regenerated when
    # missing or when it carries the stamp of an older bench/gen-fulldb.py.
    stamp=$(cat "$FULLDB/.generator.sha256" 2>/dev/null)
    if [ ! -f "$FULLDB/eicar.ndb" ] || { [ -n "$stamp" ] && [ "$stamp" != "$GEN_SUM" ]; }; then
        note "generating the full-scale database in $FULLDB (once; cached)"
        rm -rf "$FULLDB.new"
        if timeout $FULLDB_GEN_TIMEOUT python3 "$REPO/bench/gen-fulldb.py" "$FULLDB.new" >&2; then
            echo "$GEN_SUM" >"$FULLDB.new/.generator.sha256"
            rm -rf "$FULLDB"
            mv "$FULLDB.new" "$FULLDB"
        else
            rm -rf "$FULLDB.new"
            NOTES+=("bench/gen-fulldb.py failed: full-scale database left out")
        fi
    fi
    chmod -R a+rX "$FULLDB" 2>/dev/null
    if [ -f "$FULLDB/eicar.ndb" ]; then
        note "starting scand with the full-scale database (bounded ${FULL_LOAD_TIMEOUT}s)"
        if start_scand scand-full "$FULLDB" "$FULL_LOAD_TIMEOUT"; then
            FULL_STATE="scand loaded it in ${SCAND_LOAD}s ($(grep -o 'loaded [0-9]* signatures' "$RUN/scand-full.out"))"
            note "$FULL_STATE"
            start_gateway full "$SCAND_SOCK"
            check full
            if [ -z "$CLAMSMTP_STATE" ]; then
                note "starting clamd with the full-scale database (bounded ${FULL_LOAD_TIMEOUT}s)"
                if start_clamsmtp csf "$FULLDB" "$FULL_LOAD_TIMEOUT"; then
                    FULL_STATE+="; clamd loaded it in ${CLAMD_LOAD[csf]}s ($(grep -o 'Loaded [0-9]* signatures' "$RUN/csf/clamd.log" | tail -n 1))"
                    check csf
                else
                    NOTES+=("clamsmtp + clamd with the full-scale database left out: $CLAMSMTP_FAIL")
                fi
            fi
            run_cells "full csf"
            stop_gateway full
            [ -n "${T_PORT[csf]:-}" ] && stop_clamsmtp csf
        else
            FULL_STATE="scand did not load it within ${FULL_LOAD_TIMEOUT}s"
            NOTES+=("full-scale database: $FULL_STATE")
        fi
    fi
fi

# ---- report ----------------------------------------------------------------

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ORDER="direct bundled full csb csf"
fmt='%-32s %-12s %7s %8s %7s %8s %8s %7s %7s %7s %7s %7s %7s  %s\n'

echo
echo "Columns: mails/s and MB/s (10^6 bytes of message data/s) count the mails acknowledged with 250 in the"
echo "cell's last $((CELL_SECONDS - WARMUP))s (the first ${WARMUP}s are warm-up), latency (p50/p99) too: from connect to the 250"
echo "after the dot (1 mail/conn) or from MAIL to that 250 (many/conn); CPU counts every mail of the cell;"
echo "CPU per mail (us): proxy = smtp-sink (direct), Sekisho master+workers, or clamsmtpd; scan = sekisho-scand"
echo "or clamd; sum = proxy+scan; sink = smtp-sink behind a proxy; client = bench/smtpload (it shares the CPUs)."
echo "others = CPUs (of $(nproc)) kept busy by other work on the machine (or steal) during the cell."
echo
echo "== ${MSG_SIZE:-?}-byte mails, ${CELL_SECONDS}s per cell"
# shellcheck disable=SC2059 # the format is ours
printf "$fmt" setup mode senders mails/s MB/s "p50 ms" "p99 ms" "proxy" "scan" "sum" "sink" "client" "others" failed
for c in $SENDERS; do
    for t in $ORDER; do
        for mode in $MODES; do
            key="$t|$mode|$c"
            [ -n "${MPS[$key]:-}" ] || continue
            # shellcheck disable=SC2059
            printf "$fmt" "${LABEL[$t]}" "${MODE_LABEL[$mode]}" "$c" "${MPS[$key]}" "${MBS[$key]:--}" \
                "${P50[$key]:--}" "${P99[$key]:--}" "${CPU[$key]:--}" "${SCPU[$key]:--}" \
                "${TCPU[$key]:--}" "${SINKCPU[$key]:--}" "${GENCPU[$key]:--}" "${OTHERS[$key]:--}" \
                "${FAILED[$key]:--}"
        done
    done
    echo
done

echo "== Checks before measuring (one EICAR mail, then one clean mail, through each target)"
for t in $ORDER; do
    [ -n "${CHECK[$t]:-}" ] && printf '%-32s %s\n' "${LABEL[$t]}:" "${CHECK[$t]}"
done
echo "full-scale database: $FULL_STATE"
[ -n "$CLAMSMTP_STATE" ] && echo "clamsmtp + clamd: $CLAMSMTP_STATE"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "n/a" }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "n/a" }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { a += 0; b += 0; if (a == 0 && b == 0) print ""; else print (a > b ? a : b) }'; }

echo
echo "== Summary (targets of the issue)"
best=$(max "${MPS[csf|one|10]:-}" "${MPS[csf|many|10]:-}")
for mode in $MODES; do
    printf 'full-scale db, 10 senders, %-11s Sekisho %s mails/s vs clamsmtp+clamd best %s mails/s (1 mail/conn %s, many/conn %s) = %s (target >= 3x)\n' \
        "${MODE_LABEL[$mode]}:" "${MPS[full|$mode|10]:-n/a}" "${best:-n/a}" "${MPS[csf|one|10]:-n/a}" \
        "${MPS[csf|many|10]:-n/a}" "$(times "${MPS[full|$mode|10]:-}" "$best")"
done
bestb=$(max "${MPS[csb|one|10]:-}" "${MPS[csb|many|10]:-}")
for mode in $MODES; do
    printf '  (bundled db, 10 senders, %-11s Sekisho %s vs clamsmtp+clamd best %s = %s)\n' "${MODE_LABEL[$mode]}:" \
        "${MPS[bundled|$mode|10]:-n/a}" "${bestb:-n/a}" "$(times "${MPS[bundled|$mode|10]:-}" "$bestb")"
done
for c in $SENDERS; do
    for mode in $MODES; do
        printf 'bundled db vs direct, %3s senders, %-11s Sekisho %s mails/s, smtp-sink direct %s = %s (target >= 50%%)\n' \
            "$c" "${MODE_LABEL[$mode]}:" "${MPS[bundled|$mode|$c]:-n/a}" "${MPS[direct|$mode|$c]:-n/a}" \
            "$(pct "${MPS[bundled|$mode|$c]:-}" "${MPS[direct|$mode|$c]:-}")"
    done
done
echo "load average at start: $LOAD_START; at end: $LOAD_END (other work on the machine skews the figures)"

for name in bundled full; do
    [ -n "${GW_PREFIX[$name]:-}" ] || continue
    f=${GW_PREFIX[$name]}/log/smtp/error.log
    if [ -s "$f" ]; then
        NOTES+=("gateway '$name' error.log has $(wc -l <"$f") line(s); last: $(tail -n 3 "$f" | tr '\n' '|')")
    fi
done
if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    echo "== Notes"
    printf -- '- %s\n' "${NOTES[@]}"
fi
exit 0
