#!/usr/bin/env bash
# ftp.sh - RETR and STOR throughput and CPU figures of the Sekisho FTP proxy,
# against vsftpd direct, scanning off and on.
#
#   bash bench/ftp.sh              (as root on Debian 12, after `make`)
#
# Compiles its client (bench/ftpload.c) into the run directory and starts its
# own vsftpd (anonymous, downloads from files/, uploads into incoming/,
# passive and active mode; configured like tests/integration/harness/
# vsftpd.py), sekisho-scand (the bundled databases/) and two sekisho --ftp
# gateways in front of that vsftpd (self_proxy=no, parent = the vsftpd,
# action=delete): one with virus_check=no, one with virus_check=yes. All of
# it runs as child processes on 127.0.0.1, on ports picked at run time,
# configured in the run directory; no system service is started or used.
#
# Cells: for each file size (1 MB and 100 MB, MB = 10^6 bytes), RETR and
# STOR, passive mode (PASV) and, for the sizes of BENCH_ACTIVE_SIZES, active
# mode (PORT), and three setups: vsftpd direct, Sekisho scanning off,
# Sekisho scanning on. A cell is BENCH_SIZES' repetitions of one transfer,
# each a bench/ftpload session of its own (login, one timed transfer, QUIT);
# the repetitions of the three setups are interleaved (direct, off, on, then
# off, on, direct ...) so that other load on the machine hits all three
# alike. A transfer is timed by the client from PASV (or PORT) to the final
# reply of RETR/STOR: the data connection, the bytes and, through the
# scanning gateway, the wait for the whole file to be received, scanned and
# delivered. The same client, with the same options, runs direct and
# through the proxies. Every transfer is of a file of its own: distinct
# pseudo-random bytes (ftpload -G), made before its cell and removed after
# it, so neither Sekisho's verdict cache nor libclamav's clean-file cache in
# sekisho-scand can know a file; uploads are checked for their size on the
# server and removed.
# Before measuring, through each setup (curl, passive): a random 1 MB file
# downloaded and uploaded must arrive byte for byte; through the scanning
# gateway the EICAR test file must be refused both ways.
# The scan ceiling (bench/ceiling.sh), before the cells and again after
# them (the scan rate drifts with the other load on the machine):
# `sekisho-scand --ceiling --path bare --stamp head` (a bare libclamav loop
# with the daemon's scan options and clean cache; every scan of content no
# cache has seen) with the bundled databases/ and the scanner threads of
# the gateway's scand, for each size on random files of that size (the
# files the proxy hands to scand): BENCH_CEILING_FILES files for
# BENCH_CEILING_SECONDS below 10 MB, BENCH_CEILING_BIG_FILES for
# BENCH_CEILING_BIG_SECONDS from 10 MB on (several scans of each). A
# scanned cell's percent of the ceiling = its files per second (the median
# MB/s over the size) / the ceiling's scans per second (the mean of before
# and after); a cell moves one file at a time, so one scanner thread works
# and, on a quiet machine (the ceiling's threads each on a CPU), 100 /
# threads percent is about the most it can reach.
# It prints, per cell, the median MB/s (10^6 bytes per second) with the
# lowest and highest repetition, the percent of direct (median over
# median), for the scanning gateway the share of the transfer time its
# access records give as scan time and the percent of the ceiling, CPU per
# MB of Sekisho (master + workers), sekisho-scand, vsftpd and the client,
# and the CPUs kept busy by other work on the machine; then the scan
# ceiling, the checks, and the issue's targets (100 MB: scanning off >= 90%
# of direct, scanning on >= 50%) as "target" lines with the measured
# percent.
# Figures only: nothing passes or fails on time. The exit status is non-zero
# only when the bench itself could not run. Everything started here is
# stopped, and every file it made removed, on exit (trap).
#
# Environment (all optional):
#   BENCH_SIZES="1:20 100:5"    SIZE:REPETITIONS, SIZE in MB (10^6 bytes)
#   BENCH_ACTIVE_SIZES=100      sizes also measured in active mode ("" = none)
#   BENCH_IO_TIMEOUT=120        s; a socket operation slower than this fails the transfer
#   BENCH_WORKERS=nproc         proxy workers
#   BENCH_CEILING_SECONDS=10    scan ceiling run of a size below 10 MB, on
#   BENCH_CEILING_FILES=20      so many random files of that size
#   BENCH_CEILING_BIG_SECONDS=30  the same from 10 MB on
#   BENCH_CEILING_BIG_FILES=3
#   BENCH_DIR=/var/tmp/sekisho-bench   work dir (the run directory is made in it)
#   BENCH_KEEP=1                keep the run directory (configs, logs, outputs;
#                               the transferred files are removed all the same)
#   BUILD=build                 build directory holding bin/ (relative to the
#                               repository, or absolute; SEKISHO_BUILD too: see
#                               bench/build-dir.sh)
# A quick try: BENCH_SIZES="1:5 100:1" BENCH_ACTIVE_SIZES= bash bench/ftp.sh
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
# shellcheck source=bench/build-dir.sh
. "$REPO/bench/build-dir.sh"
# curl honours these for ftp:// too.
unset ftp_proxy FTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

SIZES=${BENCH_SIZES:-"1:20 100:5"}
ACTIVE_SIZES=${BENCH_ACTIVE_SIZES-100}
IO_TIMEOUT=${BENCH_IO_TIMEOUT:-120}
WORKERS=${BENCH_WORKERS:-$(nproc)}
BENCH_DIR=${BENCH_DIR:-/var/tmp/sekisho-bench}
KEEP=${BENCH_KEEP:-0}
CEILING_SECONDS=${BENCH_CEILING_SECONDS:-10}
CEILING_FILES=${BENCH_CEILING_FILES:-20}
CEILING_BIG_SECONDS=${BENCH_CEILING_BIG_SECONDS:-30}
CEILING_BIG_FILES=${BENCH_CEILING_BIG_FILES:-3}
CEILING_BIG_MB=10 # from this size on: BENCH_CEILING_BIG_*

VSFTPD=/usr/sbin/vsftpd
MB=1000000
PASV_PORTS=200 # vsftpd's passive range; bench transfers are sequential
BUNDLED_LOAD_TIMEOUT=60
VSFTPD_START_TIMEOUT=10
GATEWAY_START_TIMEOUT=20
SESSION_END_TIMEOUT=10 # s for vsftpd's session processes to end after QUIT
STOP_TIMEOUT=30
CHECK_TIMEOUT=60
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'

die() {
    echo "ftp.sh: $*" >&2
    exit 2
}
note() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites ---------------------------------------------------------

[ -x "$BIN/sekisho" ] && [ -x "$BIN/sekisho-scand" ] || die "no $BIN/sekisho or sekisho-scand: run make first"
[ -x $VSFTPD ] || die "$VSFTPD not found (Debian package vsftpd)"
for tool in cc curl python3 setsid cmp; do
    command -v $tool >/dev/null || die "$tool not found"
done
if [ "$(id -u)" = 0 ]; then
    getent passwd ftp >/dev/null || die "no 'ftp' user (made by the vsftpd package)"
fi
for spec in $SIZES; do
    [[ $spec =~ ^[0-9]+:[0-9]+$ ]] && [ "${spec%%:*}" -gt 0 ] && [ "${spec##*:}" -gt 0 ] ||
        die "BENCH_SIZES: '$spec' is not SIZE:REPETITIONS"
done

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
chmod 755 "$BENCH_DIR"
RUN=$(mktemp -d "$BENCH_DIR/ftp.XXXXXX") || die "mktemp failed"
# The gateways drop to nobody and vsftpd's sessions run as ftp: both must
# traverse the run directory.
chmod 755 "$RUN"

# ---- process bookkeeping and cleanup (bench/procs.sh) ---------------------

# shellcheck source=bench/procs.sh
. "$REPO/bench/procs.sh"
# shellcheck source=bench/ceiling.sh
. "$REPO/bench/ceiling.sh"
# The bench files (and the scan ceiling's) go on exit also with BENCH_KEEP=1
# (hundreds of MB), after the processes that use them are stopped.
trap 'cleanup; rm -rf "${FILES:-}" "${UP_LOCAL:-}" "${UPLOADS:-}" "$RUN"/ceiling-*mb' EXIT

# A copy of the binaries: a `make` beside the bench cannot change them.
BUILT=$(date -u -r "$BIN/sekisho" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$RUN/bin" && cp "$BIN/sekisho" "$BIN/sekisho-scand" "$RUN/bin/" || die "cannot copy the binaries"
BIN=$RUN/bin

LOAD=$RUN/ftpload
cc -O2 -Wall -Wextra -o "$LOAD" "$REPO/bench/ftpload.c" 2>"$RUN/ftpload-cc.out" ||
    die "cannot compile bench/ftpload.c: $(cat "$RUN/ftpload-cc.out")"

# CPU figures: cpu_ticks and us_per (bench/procs.sh).
CLK_TCK=$(getconf CLK_TCK)

# busy_ticks - CPU time (clock ticks) the whole machine spent busy (user,
# nice, system, irq, softirq, steal), all CPUs.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# field KEY LINE - the value of KEY=value in an ftpload line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# ---- vsftpd ----------------------------------------------------------------
# As tests/integration/harness/vsftpd.py: anonymous only, anon_root owned by
# root and not writable (vsftpd refuses a writable chroot), uploads into
# incoming/ (owned by the anonymous session's user), active mode from an
# ephemeral port (no port 20 needed), the transfer log on.

ROOT=$RUN/root
FILES=$ROOT/files
UPLOADS=$ROOT/incoming
UP_LOCAL=$RUN/up # the files the client uploads
mkdir -p "$FILES" "$UPLOADS" "$UP_LOCAL" "$RUN/vsftpd-empty" "$RUN/check"
chmod 755 "$ROOT" "$FILES" "$UPLOADS" "$RUN/vsftpd-empty"
if [ "$(id -u)" = 0 ]; then
    chown ftp: "$UPLOADS"
    SESSION_USER=("nopriv_user=nobody" "ftp_username=ftp")
else
    SESSION_USER=("run_as_launching_user=YES")
fi

# free_range COUNT - the first port of COUNT consecutive free 127.0.0.1 ports.
free_range() {
    python3 - "$1" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
for _ in range(50):
    low = random.randrange(30000, 60000 - count)
    socks = []
    try:
        for port in range(low, low + count):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port))
        print(low)
        sys.exit(0)
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
sys.exit(1)
PY
}

VS_PORT=$(free_port)
PASV_LOW=$(free_range $PASV_PORTS) || die "no $PASV_PORTS free ports for vsftpd's passive mode"
{
    echo "# written by bench/ftp.sh (as tests/integration/harness/vsftpd.py)"
    printf '%s\n' listen=YES listen_ipv6=NO listen_address=127.0.0.1 "listen_port=$VS_PORT" \
        background=NO anonymous_enable=YES no_anon_password=NO "anon_root=$ROOT" local_enable=NO \
        write_enable=YES anon_upload_enable=YES anon_mkdir_write_enable=NO anon_other_write_enable=YES \
        anon_umask=022 pasv_enable=YES "pasv_min_port=$PASV_LOW" "pasv_max_port=$((PASV_LOW + PASV_PORTS - 1))" \
        pasv_address=127.0.0.1 port_enable=YES connect_from_port_20=NO port_promiscuous=NO \
        seccomp_sandbox=NO "secure_chroot_dir=$RUN/vsftpd-empty" xferlog_enable=YES xferlog_std_format=NO \
        log_ftp_protocol=NO dual_log_enable=NO syslog_enable=NO "vsftpd_log_file=$RUN/vsftpd.log" \
        idle_session_timeout=$((2 * IO_TIMEOUT)) data_connection_timeout=$((2 * IO_TIMEOUT)) \
        "${SESSION_USER[@]}"
} >"$RUN/vsftpd.conf"
start vsftpd TERM $VSFTPD "$RUN/vsftpd.conf"
VS_PID=$LAST_PID
wait_until $VSFTPD_START_TIMEOUT eval 'port_open $VS_PORT || ! alive $VS_PID'
alive $VS_PID && port_open "$VS_PORT" || die "vsftpd did not start: $(cat "$RUN/vsftpd.out")"
# Each ftpload session is measured alone: its vsftpd processes are gone (and
# their CPU time reaped into the listener's) before the next one starts.
vsftpd_idle() { [ -z "$(pgrep -P "$VS_PID")" ]; }

# ---- scand and gateways ----------------------------------------------------

start_scand scand "$REPO/databases" $BUNDLED_LOAD_TIMEOUT || die "sekisho-scand did not start"
SCAND_THREADS=$(scand_threads scand)
[ -n "$SCAND_THREADS" ] || die "no 'N scanner threads' line from sekisho-scand in $RUN/scand.out"

declare -A T_PORT
declare -A LABEL=([direct]="vsftpd direct" [off]="Sekisho, scanning off" [on]="Sekisho, scanning on")
T_PORT[direct]=$VS_PORT

# start_gateway NAME VIRUS_CHECK - sekisho --ftp in front of the vsftpd.
start_gateway() {
    local name=$1 check=$2
    # ipv6=no: the parent is the literal 127.0.0.1.
    gateway_start ftp "$name" "$SCAND_SOCK" "self_proxy=no
parent_server_host=127.0.0.1
parent_server_port=$VS_PORT
virus_check=$check
action=delete
ipv6=no"
    T_PORT[$name]=$GW_PORT
}
start_gateway off no
start_gateway on yes
WORKERS_AT_START=$(workers_of "${GW_PID[off]}")$(workers_of "${GW_PID[on]}")

NOTES=()

# ---- checks (curl, passive) ------------------------------------------------

"$LOAD" -G $MB "$FILES/check.bin" "$UP_LOCAL/check.bin" || die "cannot write the check files"
printf '%s' "$EICAR" >"$FILES/eicar.com"
printf '%s' "$EICAR" >"$UP_LOCAL/eicar.com"
chmod 644 "$FILES"/* "$UP_LOCAL"/*

# curl_ftp OUT ARGS... - curl -v with a bound; "rc=N" and the last reply
# curl saw (its "< NNN ..." lines).
curl_ftp() {
    local out=$1 rc
    shift
    curl -sS -v --max-time $CHECK_TIMEOUT "$@" >"$out" 2>"$out.err"
    rc=$?
    echo "rc=$rc last reply: $(grep '^< [1-5][0-9][0-9] ' "$out.err" | tail -n 1 | cut -c3- | tr -d '\r')"
}

# detect_of METHOD PATH - the DETECT-STAT of the scanning gateway's detect
# log record of that transfer.
detect_of() {
    local rec
    wait_until 5 grep -qs " $1 ftp://[^ ]*/$2 " "${GW_PREFIX[on]}/log/ftp/detect.log"
    rec=$(grep -s " $1 ftp://[^ ]*/$2 " "${GW_PREFIX[on]}/log/ftp/detect.log" | tail -n 1)
    if [ -n "$rec" ]; then sed 's/.* \(DETECT-STAT:[^ ]*\) \(ACTION:[^ ]*\).*/\1 \2/' <<<"$rec"; else echo "no record"; fi
}

declare -A CHECK
check() {
    local t=$1 url="ftp://127.0.0.1:${T_PORT[$1]}" r d u
    r=$(curl_ftp "$RUN/check/$t.down" "$url/files/check.bin")
    if cmp -s "$RUN/check/$t.down" "$FILES/check.bin"; then d=identical; else d="DIFFERENT ($r)"; fi
    r=$(curl_ftp "$RUN/check/$t.up" -T "$UP_LOCAL/check.bin" "$url/incoming/check-$t.bin")
    if cmp -s "$UPLOADS/check-$t.bin" "$UP_LOCAL/check.bin"; then u=identical; else u="DIFFERENT ($r)"; fi
    rm -f "$UPLOADS/check-$t.bin"
    CHECK[$t]="download=$d upload=$u"
    [ "$d" = identical ] && [ "$u" = identical ] || NOTES+=("check through ${LABEL[$t]}: ${CHECK[$t]}")
    [ "$t" = on ] || return 0
    r=$(curl_ftp "$RUN/check/eicar.down" "$url/files/eicar.com")
    if grep -q EICAR-STANDARD "$RUN/check/eicar.down"; then
        d="DELIVERED ($r)"
    else
        d="refused, $(wc -c <"$RUN/check/eicar.down") bytes to the client ($r; detect.log: $(detect_of GET files/eicar.com))"
    fi
    r=$(curl_ftp "$RUN/check/eicar.up" -T "$UP_LOCAL/eicar.com" "$url/incoming/eicar.com")
    if grep -qs EICAR-STANDARD "$UPLOADS/eicar.com"; then
        u="STORED ($r)"
    else
        u="refused, $(stat -c %s "$UPLOADS/eicar.com" 2>/dev/null || echo no) bytes on the server ($r; detect.log: $(detect_of PUT incoming/eicar.com))"
    fi
    rm -f "$UPLOADS/eicar.com"
    CHECK[$t]+=" eicar download: $d; eicar upload: $u"
    [[ $d == refused* ]] && [[ $u == refused* ]] || NOTES+=("check through ${LABEL[$t]}: EICAR was not refused: ${CHECK[$t]}")
}

# ---- transfers -------------------------------------------------------------

declare -A RATES SECS CPU_XFER CPU_GW CPU_SCAN CPU_VS CPU_CLIENT OTHER_TICKS WALL BYTES_DONE FAILED
KEYS=() # "size|mode|dir|target" in the order measured

# xfer KEY TARGET DIR MODE BYTES NAME - one ftpload session with one timed
# transfer of NAME; its MB/s is added to RATES[KEY], the CPU time of the
# processes during the session to the CPU_* counters of KEY.
xfer() {
    local key=$1 t=$2 dir=$3 mode=$4 bytes=$5 name=$6
    local gw=${GW_PID[$t]:-} out=$RUN/out/${6%.bin}.txt args line
    local g0=0 g1=0 s0 s1 v0 v1 b0 b1 w0 w1 client=0
    args=(-p "${T_PORT[$t]}" -x "$dir" -T "$IO_TIMEOUT")
    [ "$mode" = port ] && args+=(-a)
    if [ "$dir" = retr ]; then args+=(-r files -s "$bytes"); else args+=(-r incoming -l "$UP_LOCAL"); fi
    [ -n "$gw" ] && g0=$(cpu_ticks "$gw")
    s0=$(cpu_ticks "$SCAND_PID")
    v0=$(cpu_ticks "$VS_PID")
    b0=$(busy_ticks)
    w0=$(date +%s.%N)
    timeout $((4 * IO_TIMEOUT + 30)) "$LOAD" "${args[@]}" "$name" >"$out" 2>&1
    wait_until $SESSION_END_TIMEOUT vsftpd_idle || NOTES+=("$name: vsftpd's session still running ${SESSION_END_TIMEOUT}s after the client ended")
    [ -n "$gw" ] && g1=$(cpu_ticks "$gw")
    s1=$(cpu_ticks "$SCAND_PID")
    v1=$(cpu_ticks "$VS_PID")
    b1=$(busy_ticks)
    w1=$(date +%s.%N)
    line=$(grep '^FTPLOAD ' "$out")
    [ -n "$line" ] && client=$(field cpu_s "$line")
    CPU_GW[$key]=$((${CPU_GW[$key]:-0} + g1 - g0))
    CPU_SCAN[$key]=$((${CPU_SCAN[$key]:-0} + s1 - s0))
    CPU_VS[$key]=$((${CPU_VS[$key]:-0} + v1 - v0))
    CPU_CLIENT[$key]=$(awk -v a="${CPU_CLIENT[$key]:-0}" -v b="$client" 'BEGIN { printf "%.3f", a + b }')
    OTHER_TICKS[$key]=$((${OTHER_TICKS[$key]:-0} + (b1 - b0) - (g1 - g0) - (s1 - s0) - (v1 - v0)))
    WALL[$key]=$(awk -v a="${WALL[$key]:-0}" -v s="$w0" -v e="$w1" 'BEGIN { printf "%.3f", a + e - s }')
    line=$(grep '^FTPXFER ' "$out")
    if [ -n "$line" ] && [ "$dir" = stor ] && [ "$(stat -c %s "$UPLOADS/$name" 2>/dev/null)" != "$bytes" ]; then
        NOTES+=("$name through ${LABEL[$t]}: the client got $(field reply "$line") but the server has $(stat -c %s "$UPLOADS/$name" 2>/dev/null || echo no) bytes of $bytes")
        line=
    fi
    rm -f "$UPLOADS/$name"
    if [ -z "$line" ]; then
        FAILED[$key]=$((${FAILED[$key]:-0} + 1))
        NOTES+=("$name through ${LABEL[$t]}: failed: $(grep -h '^FTPFAIL \|ftpload' "$out" | head -n 2 | tr '\n' ' ')")
        return
    fi
    RATES[$key]+="$(field mb_per_s "$line") "
    SECS[$key]=$(awk -v a="${SECS[$key]:-0}" -v b="$(field secs "$line")" 'BEGIN { printf "%.6f", a + b }')
    CPU_XFER[$key]=$(awk -v a="${CPU_XFER[$key]:-0}" -v b="$(field cpu_s "$line")" 'BEGIN { printf "%.6f", a + b }')
    BYTES_DONE[$key]=$((${BYTES_DONE[$key]:-0} + bytes))
}

# cell_group SIZE_MB REPS MODE DIR - REPS transfers through each setup,
# interleaved, each of a file of its own.
TARGETS=(direct off on)
cell_group() {
    local size=$1 reps=$2 mode=$3 dir=$4 bytes=$(($1 * MB)) i j t name names=() where
    where=$FILES
    [ "$dir" = stor ] && where=$UP_LOCAL
    for ((i = 1; i <= reps; i++)); do
        for t in "${TARGETS[@]}"; do
            names+=("$where/${size}mb-$mode-$dir-$t-$i.bin")
        done
    done
    note "${size} MB, $dir, $mode: writing ${#names[@]} files of $bytes bytes"
    "$LOAD" -G "$bytes" "${names[@]}" || die "cannot write the bench files into $where"
    for t in "${TARGETS[@]}"; do
        KEYS+=("$size|$mode|$dir|$t")
        FAILED[$size|$mode|$dir|$t]=0
    done
    note "${size} MB, $dir, $mode: $reps x ${#TARGETS[@]} transfers"
    for ((i = 1; i <= reps; i++)); do
        # Rotate the order: rep 1 direct off on, rep 2 off on direct ...
        for ((j = 0; j < ${#TARGETS[@]}; j++)); do
            t=${TARGETS[$(((i - 1 + j) % ${#TARGETS[@]}))]}
            xfer "$size|$mode|$dir|$t" "$t" "$dir" "$mode" "$bytes" "${size}mb-$mode-$dir-$t-$i.bin"
        done
    done
    rm -f "${names[@]}"
}

# ---- scan ceiling: sekisho-scand --ceiling on files of the same sizes ----

# ceilings WHEN - the scan ceiling (bench/ceiling.sh) of each size, WHEN
# (before, after) the cells: random files of the size (ftpload -G), removed
# after. Sets CEIL_*[WHEN-SIZE]; once both ran, CEIL_SPS[mean-SIZE] = the
# mean of those there are.
ceilings() {
    local when=$1 spec size n secs dir i names
    for spec in $SIZES; do
        size=${spec%%:*}
        n=$CEILING_FILES secs=$CEILING_SECONDS
        [ "$size" -ge $CEILING_BIG_MB ] && n=$CEILING_BIG_FILES secs=$CEILING_BIG_SECONDS
        dir=$RUN/ceiling-${size}mb
        names=()
        for ((i = 0; i < n; i++)); do names+=("$dir/c$i.bin"); done
        mkdir -p "$dir" && "$LOAD" -G $((size * MB)) "${names[@]}" || die "cannot write the ceiling's files into $dir"
        ceiling "$when-$size" "$dir" "$REPO/databases" "$SCAND_THREADS" "$secs" \
            $((BUNDLED_LOAD_TIMEOUT + secs + 60))
        rm -rf "$dir"
        if [ "$when" = after ]; then
            CEIL_SPS[mean-$size]=$(awk -v a="${CEIL_SPS[before-$size]:-}" -v b="${CEIL_SPS[after-$size]:-}" \
                'BEGIN { n = (a != "") + (b != ""); if (n) printf "%.2f", (a + b) / n }')
        fi
    done
}

# ---- header ----------------------------------------------------------------

mkdir -p "$RUN/out"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== Sekisho FTP proxy benchmark"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "build:       $BUILD/ at $BUILD_GIT (sekisho built $BUILT); vsftpd $(dpkg-query -W -f '${Version}' vsftpd 2>/dev/null || echo '?'); curl $(curl --version | head -n 1 | awk '{print $2}') (checks)"
echo "setup:       sizes:repetitions $SIZES (MB = 10^6 bytes); active mode (PORT) also for: ${ACTIVE_SIZES:-none}; bench/ftpload,"
echo "             one session per transfer, timed from PASV/PORT to the final reply; vsftpd 1 listener, sendfile;"
echo "             Sekisho $WORKERS workers, self_proxy=no, action=delete, virus_check=no / yes; scand $SCAND_THREADS threads, bundled databases/"
echo "unique:      every transfer is of a file no other transfer of this run moved (distinct pseudo-random bytes),"
echo "             so neither Sekisho's verdict cache nor libclamav's clean-file cache in scand can hit"
echo "load average at start: $LOAD_START"

for t in "${TARGETS[@]}"; do check "$t"; done
ceilings before

# ---- cells -----------------------------------------------------------------

for spec in $SIZES; do
    size=${spec%%:*} reps=${spec##*:}
    modes=pasv
    [[ " $ACTIVE_SIZES " == *" $size "* ]] && modes="pasv port"
    for mode in $modes; do
        for dir in retr stor; do
            cell_group "$size" "$reps" "$mode" "$dir"
        done
    done
done
ceilings after

# ---- report ----------------------------------------------------------------

# median LIST - the median of space-separated numbers.
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
range() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { if (NR) printf "%s-%s", lo, hi }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "n/a" }'; }
# ms_per_mb TICKS BYTES - CPU milliseconds per 10^6 bytes moved.
ms_per_mb() { awk -v t="$1" -v hz="$CLK_TCK" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", t / hz * 1000 / (b / 1e6); else printf "-" }'; }

# scan_stats SIZE MODE DIR SECS - from the scanning gateway's access
# records of the cell: the scan time (PROXY-STAT's scan ms) in percent of
# SECS, the client's time for those transfers; and the median over the
# records of size / scan time (MB/s): the scanner's rate during the cell.
scan_stats() {
    local recs share rate
    recs=$(grep -s " ftp://[^ ]*/[a-z]*/$1mb-$2-$3-on-[0-9]*\.bin " "${GW_PREFIX[on]}/log/ftp/access.log" |
        awk '{ split($0, a, " PROXY-STAT:"); split(a[2], f, ":"); print $5, f[7] }')
    share=$(awk -v secs="$4" '{ ms += $2 } END { if (secs > 0 && NR) printf "%.0f%%", ms / 10 / secs; else printf "n/a" }' <<<"$recs")
    rate=$(median "$(awk '$2 > 0 { printf "%.1f ", $1 / 1e6 / ($2 / 1000) }' <<<"$recs")")
    echo "$share ${rate:-n/a}"
}

declare -A MED SCAN_RATE PCEIL
# files_per_s MB_PER_S SIZE_MB - files of SIZE_MB per second at that rate.
files_per_s() { awk -v r="$1" -v s="$2" 'BEGIN { if (r + 0 > 0 && s > 0) printf "%.4f", r / s }'; }
for key in "${KEYS[@]}"; do MED[$key]=$(median "${RATES[$key]:-}"); done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "Columns: MB/s = 10^6 bytes per second of one transfer, timed by the client from PASV/PORT to the final reply"
echo "(through the scanning gateway the whole file is received, scanned, then delivered, before that reply); the median"
echo "of the cell's repetitions, then the lowest-highest; %direct = median over vsftpd direct's median of the same"
echo "size, command and mode. CPU ms per MB moved, over every repetition of the cell (whole sessions: login and QUIT"
echo "too): proxy = Sekisho master+workers, scan = sekisho-scand, vsftpd = all its processes; client = bench/ftpload"
echo "over the timed part only (its own start and login left out, to show what the client costs per MB moved);"
echo "others = CPUs (of $(nproc)) kept busy by other work on the machine meanwhile. %scan (scanning gateway) = the"
echo "scan time of the cell's access records (PROXY-STAT scan ms) in percent of the client's time for those transfers;"
echo "scanMB = the median over those records of the file's size over its scan time: scand's MB/s during the cell."
echo "%ceil (scanning gateway) = files per second (MB/s over the size) in percent of the scan ceiling's scans per"
echo "second ($SCAND_THREADS threads; below): one transfer at a time keeps one scanner thread busy, so on a quiet machine"
echo "about $((100 / SCAND_THREADS))% is its most (with other work on the CPUs the ceiling's threads scale less, and it can be more)."
fmt='%-4s %-4s %-22s %9s %19s %8s %6s %6s %6s %7s %7s %7s %7s %6s %6s\n'
prev_size=
for key in "${KEYS[@]}"; do
    IFS='|' read -r size mode dir t <<<"$key"
    if [ "$size" != "$prev_size" ]; then
        reps=$(for s in $SIZES; do [ "${s%%:*}" = "$size" ] && echo "${s##*:}"; done | head -n 1)
        echo
        echo "== $size MB files ($((size * MB)) bytes), $reps repetitions per cell"
        # shellcheck disable=SC2059 # the format is ours
        printf "$fmt" cmd mode setup "MB/s" "(min-max)" "%direct" "%scan" "scanMB" "%ceil" proxy scan vsftpd client others failed
        prev_size=$size
    fi
    d=${MED[$size|$mode|$dir|direct]:-}
    pd=-
    [ "$t" != direct ] && pd=$(pct "${MED[$key]}" "$d")
    bytes=${BYTES_DONE[$key]:-0}
    gw=- scan=-
    [ "$t" != direct ] && gw=$(ms_per_mb "${CPU_GW[$key]:-0}" "$bytes")
    [ "$t" = on ] && scan=$(ms_per_mb "${CPU_SCAN[$key]:-0}" "$bytes")
    client=$(awk -v c="${CPU_XFER[$key]:-0}" -v b="$bytes" 'BEGIN { if (b > 0) printf "%.2f", c * 1000 / (b / 1e6); else printf "-" }')
    others=$(awk -v t="${OTHER_TICKS[$key]:-0}" -v c="${CPU_CLIENT[$key]:-0}" -v hz="$CLK_TCK" -v w="${WALL[$key]:-0}" \
        'BEGIN { if (w > 0) { v = (t / hz - c) / w; printf "%.2f", v < 0 ? 0 : v } else printf "-" }')
    sw=- sr=- pc=-
    if [ "$t" = on ]; then
        read -r sw sr < <(scan_stats "$size" "$mode" "$dir" "${SECS[$key]:-0}")
        SCAN_RATE[$key]=$sr
        pc=$(ceil_pct "$(files_per_s "${MED[$key]:-}" "$size")" "mean-$size")
        PCEIL[$key]=$pc
    fi
    # shellcheck disable=SC2059 # the format is ours
    printf "$fmt" "${dir^^}" "$mode" "${LABEL[$t]}" "${MED[$key]:-n/a}" "($(range "${RATES[$key]:-}"))" "$pd" "$sw" "$sr" "$pc" \
        "$gw" "$scan" "$(ms_per_mb "${CPU_VS[$key]:-0}" "$bytes")" "$client" "$others" "${FAILED[$key]:-0}"
done

echo
echo "== Scan ceiling (sekisho-scand --ceiling --path bare --stamp head, bundled databases/, $SCAND_THREADS threads as the"
echo "   gateway's scand; random files of each size: $CEILING_FILES for ${CEILING_SECONDS}s below $CEILING_BIG_MB MB, $CEILING_BIG_FILES for ${CEILING_BIG_SECONDS}s from $CEILING_BIG_MB MB on)"
for spec in $SIZES; do
    size=${spec%%:*}
    printf '%s MB files: %s scans/s (%s MB/s) before the cells, %s scans/s (%s MB/s) after them, mean %s scans/s\n' "$size" \
        "${CEIL_SPS[before-$size]:-n/a}" "${CEIL_MBS[before-$size]:-n/a}" "${CEIL_SPS[after-$size]:-n/a}" \
        "${CEIL_MBS[after-$size]:-n/a}" "${CEIL_SPS[mean-$size]:-n/a}"
    for when in before after; do
        ceiling_report "$when-$size" "  $when"
    done
done

echo
echo "== Checks before measuring (curl, passive: a random 1 MB file down and up; the EICAR test file down and up)"
for t in "${TARGETS[@]}"; do
    printf '%-22s %s\n' "${LABEL[$t]}:" "${CHECK[$t]:-not run}"
done

echo
echo "== Targets (issue 12; figures only, nothing passes or fails)"
for spec in $SIZES; do
    size=${spec%%:*}
    [ "$size" = 100 ] || continue
    for key in "${KEYS[@]}"; do
        IFS='|' read -r s mode dir t <<<"$key"
        [ "$s" = "$size" ] && [ "$t" != direct ] || continue
        want=90
        [ "$t" = on ] && want=50
        bound=
        [ "$t" = on ] && bound="; scand scanned at ${SCAN_RATE[$key]:-n/a} MB/s meanwhile: the scan alone allows $(pct "${SCAN_RATE[$key]:-}" "${MED[$s|$mode|$dir|direct]:-}") of direct; ${PCEIL[$key]:-n/a} of the scan ceiling"
        printf 'target: %s MB %s %s, %-21s %s MB/s vs direct %s MB/s = %s (target >= %s%%)%s\n' "$size" "${dir^^}" \
            "$mode" "${LABEL[$t]}:" "${MED[$key]:-n/a}" "${MED[$s|$mode|$dir|direct]:-n/a}" \
            "$(pct "${MED[$key]:-}" "${MED[$s|$mode|$dir|direct]:-}")" "$want" "$bound"
    done
done
echo "load average at start: $LOAD_START; at end: $LOAD_END (other work on the machine skews the figures)"

for t in off on; do
    alive "${GW_PID[$t]}" || NOTES+=("gateway '$t': the master exited")
    f=${GW_PREFIX[$t]}/log/ftp/error.log
    [ -s "$f" ] && NOTES+=("gateway '$t' error.log has $(wc -l <"$f") line(s); last: $(tail -n 3 "$f" | tr '\n' '|')")
done
[ "$WORKERS_AT_START" = "$(workers_of "${GW_PID[off]}")$(workers_of "${GW_PID[on]}")" ] ||
    NOTES+=("a gateway worker was replaced during the run: a worker died")
if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    echo "== Notes"
    printf -- '- %s\n' "${NOTES[@]}"
fi
exit 0
