#!/usr/bin/env bash
# http.sh - throughput, latency and idle-memory figures of the Sekisho HTTP proxy.
#
#   bench/http.sh                  (as root on Debian 12, after `make`)
#
# Starts its own nginx (origin, serving a deterministic 23 KiB file),
# sekisho-scand (bundled databases/ and a synthetic full-scale database from
# bench/gen-fulldb.py) and several sekisho --http instances, all on
# 127.0.0.1, and prints:
#   - requests/s, MB/s (10^6 bytes/s, headers included) and p99 latency at
#     10, 100 and 1000 concurrent wrk clients for: nginx direct (keep-alive
#     and Connection: close), the proxy with scanning off, the proxy scanning
#     with the bundled database, and with the full-scale database;
#   - memory per idle client connection (VmRSS and Pss of master + workers,
#     bench/idle_rss.py);
#   - a summary against the targets (scanning off >= 70% of direct req/s;
#     <= 64 KiB per idle connection).
# Figures only: nothing passes or fails on time. The exit status is non-zero
# only when the bench itself could not run (missing binary, a server that did
# not start). Everything started here is stopped on exit (trap).
#
# Environment (all optional):
#   BENCH_SECONDS=10        wrk duration of one cell
#   BENCH_CLIENTS="10 100 1000"
#   BENCH_WRK_THREADS=nproc BENCH_WRK_TIMEOUT=10 (s; slower replies count as timeouts)
#   BENCH_WORKERS=nproc     proxy workers;  BENCH_PRE_SPAWN=4000
#   BENCH_NGINX_WORKERS=1   origin worker processes
#   BENCH_IDLE_CONNS=1000
#   BENCH_DIR=/var/tmp/sekisho-bench   work dir; the full database is cached
#   BENCH_FULLDB=$BENCH_DIR/fulldb     in BENCH_FULLDB and reused
#   BENCH_SKIP_FULLDB=1     leave out the full-scale database column
#   BENCH_SCAND_TIMEOUT=600 bound on the full database load (s)
#   BENCH_KEEP=1            keep the run directory (configs, logs, wrk output)
#   BUILD=build             build directory holding bin/
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
BUILD=${BUILD:-build}
BIN=$REPO/$BUILD/bin

CELL_SECONDS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-"10 100 1000"}
WRK_THREADS=${BENCH_WRK_THREADS:-$(nproc)}
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-10}
WORKERS=${BENCH_WORKERS:-$(nproc)}
PRE_SPAWN=${BENCH_PRE_SPAWN:-4000}
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-1}
IDLE_CONNS=${BENCH_IDLE_CONNS:-1000}
BENCH_DIR=${BENCH_DIR:-/var/tmp/sekisho-bench}
FULLDB=${BENCH_FULLDB:-$BENCH_DIR/fulldb}
SKIP_FULLDB=${BENCH_SKIP_FULLDB:-0}
FULL_LOAD_TIMEOUT=${BENCH_SCAND_TIMEOUT:-600}
KEEP=${BENCH_KEEP:-0}

OBJECT=23k.bin
OBJECT_SIZE=$((23 * 1024))
NOFILE_WANT=65536
BUNDLED_LOAD_TIMEOUT=60 # s, scand with databases/
NGINX_START_TIMEOUT=10
GATEWAY_START_TIMEOUT=20
STOP_TIMEOUT=30   # s, SIGTERM before SIGKILL
CELL_PAUSE=2      # s between cells: TIME_WAIT and CPU settle
FULLDB_GEN_TIMEOUT=1800
IDLE_ACCEPT_TIMEOUT=30

die() {
    echo "http.sh: $*" >&2
    exit 2
}
note() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites ---------------------------------------------------------

[ -x "$BIN/sekisho" ] && [ -x "$BIN/sekisho-scand" ] || die "no $BIN/sekisho or sekisho-scand: run make first"
for tool in nginx curl python3 setsid; do
    command -v $tool >/dev/null || die "$tool not found"
done
if ! command -v wrk >/dev/null; then
    [ "$(id -u)" = 0 ] || die "wrk not found (apt-get install wrk)"
    note "installing wrk"
    DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null || die "apt-get install wrk failed"
fi
# Each cell holds up to 1000 client sockets, as many upstream ones, spool
# files, and the idle test 1000 more: raise the descriptor limit (inherited
# by nginx, scand and the gateways).
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

# ---- process bookkeeping and cleanup ---------------------------------------

STARTED=() # "pid:signal", stopped in reverse order on exit

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
        note "pid $pid did not stop on SIG$sig within ${STOP_TIMEOUT}s: SIGKILL to its group"
        kill -KILL -- "-$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
}

cleanup() {
    local i
    trap - EXIT INT TERM
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        stop_pid "${STARTED[i]%%:*}" "${STARTED[i]##*:}"
    done
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

# cpu_ticks PID - CPU time (clock ticks) of PID and its live children, plus
# the children it already reaped (a worker replaced during a cell counts).
cpu_ticks() {
    local pid=$1 total=0 p
    total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    for p in $(pgrep -P "$pid"); do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# ---- origin ----------------------------------------------------------------

WWW=$RUN/www
mkdir -p "$WWW" "$RUN/nginx-tmp"
# Deterministic content: bytes 0..255 repeated (incompressible enough, and
# the same object on every run).
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * (int(sys.argv[1]) // 256))' \
    $OBJECT_SIZE >"$WWW/$OBJECT"
[ "$(stat -c %s "$WWW/$OBJECT")" = $OBJECT_SIZE ] || die "could not write $WWW/$OBJECT"
chmod -R a+rX "$WWW"

NGINX_PORT=$(free_port)
cat >"$RUN/nginx.conf" <<EOF
$([ "$(id -u)" = 0 ] && echo "user root;")
daemon off;
worker_processes $NGINX_WORKERS;
worker_rlimit_nofile $NOFILE_WANT;
error_log $RUN/nginx-error.log;
pid $RUN/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  client_body_temp_path $RUN/nginx-tmp;
  proxy_temp_path $RUN/nginx-tmp;
  fastcgi_temp_path $RUN/nginx-tmp;
  uwsgi_temp_path $RUN/nginx-tmp;
  scgi_temp_path $RUN/nginx-tmp;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    root $WWW;
  }
}
EOF
start nginx QUIT nginx -c "$RUN/nginx.conf"
NGINX_PID=$LAST_PID
wait_until $NGINX_START_TIMEOUT port_open "$NGINX_PORT" || die "nginx did not start: $(cat "$RUN/nginx.out" "$RUN/nginx-error.log" 2>/dev/null)"
ORIGIN=127.0.0.1:$NGINX_PORT
URL=http://$ORIGIN/$OBJECT

# ---- scand and gateways ----------------------------------------------------

# start_scand NAME DBDIR TIMEOUT - sets SCAND_SOCK and SCAND_LOAD (seconds);
# returns 1 if scand did not report "listening" in time.
SCAND_SOCK=
SCAND_LOAD=
SCAND_PID=
start_scand() {
    local name=$1 db=$2 timeout=$3 t0=$SECONDS pid
    SCAND_SOCK=$RUN/$name.sock
    start "$name" TERM "$BIN/sekisho-scand" --socket "$SCAND_SOCK" --databases "$db" --threads 2
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
    return 0
}

declare -A GW_PORT GW_PID GW_PREFIX GW_SCAND
workers_of() { pgrep -P "$1" | sort | tr '\n' ' '; }

# start_gateway NAME VIRUS_CHECK SCAND_SOCKET
start_gateway() {
    local name=$1 vc=$2 sock=$3 port prefix pid
    port=$(free_port)
    prefix=$RUN/gw-$name
    mkdir -p "$prefix/conf"
    cp "$REPO"/conf/template_* "$prefix/conf/"
    : >"$prefix/conf/hosts.allow"
    # ipv6=no: with ipv6=yes the proxy resolves even the literal 127.0.0.1
    # through DNS (c-ares 1.18 numeric fast path bug with AF_UNSPEC), which
    # would send queries off the machine and measure the resolver.
    cat >"$prefix/conf/sekisho.ini" <<EOF
[common]
tmpdir=tmp/spool
quarantine_dir=tmp/quarantine
scand_socket=$sock
run_user=nobody
workers=$WORKERS
[http]
svcport=127.0.0.1:$port
virus_check=$vc
pre_spawn=$PRE_SPAWN
ipv6=no
EOF
    chmod -R a+rX "$prefix"
    start "gw-$name" TERM "$BIN/sekisho" --http -f "$prefix/conf/sekisho.ini" -q
    pid=$LAST_PID
    gw_up() { port_open "$port" || ! alive "$pid"; }
    wait_until $GATEWAY_START_TIMEOUT gw_up
    alive "$pid" && port_open "$port" || die "gateway $name did not start: $(tail -n 20 "$RUN/gw-$name.out")"
    gw_workers() { [ "$(pgrep -c -P "$pid")" -ge "$WORKERS" ]; }
    wait_until $GATEWAY_START_TIMEOUT gw_workers || die "gateway $name: workers did not start"
    GW_PORT[$name]=$port
    GW_PID[$name]=$pid
    GW_SCAND[$name]=$SCAND_PID
    GW_PREFIX[$name]=$prefix
}

stop_gateway() { stop_pid "${GW_PID[$1]}" TERM; }

gw_error_tail() {
    local f=${GW_PREFIX[$1]}/log/http/error.log
    [ -s "$f" ] && tail -n "${2:-10}" "$f"
}

# byte_check NAME - one GET through gateway NAME, compared with the file.
declare -A CHECK
byte_check() {
    local name=$1 out=$RUN/check-$1.bin code
    code=$(curl -s -m 20 -o "$out" -w '%{http_code}' -x "http://127.0.0.1:${GW_PORT[$name]}" "$URL")
    if [ "$code" = 200 ] && cmp -s "$out" "$WWW/$OBJECT"; then
        CHECK[$name]=ok
    else
        CHECK[$name]="FAILED (HTTP $code, $(stat -c %s "$out" 2>/dev/null || echo 0) bytes)"
        note "byte check through $name failed: HTTP $code"
    fi
}

# ---- wrk cells -------------------------------------------------------------

declare -A RPS MBS P99 P50 ERR CPU SCPU
NOTES=()

# cell SETUP CLIENTS TARGET_PORT MODE CONN [GATEWAY]
cell() {
    local setup=$1 c=$2 port=$3 mode=$4 conn=$5 gw=${6:-} out line before after
    local threads=$WRK_THREADS
    [ "$threads" -gt "$c" ] && threads=$c
    out=$RUN/wrk-$setup-$c.txt
    # CPU of the server under test: nginx for direct cells, the proxy's
    # master and workers for proxy cells (and scand separately).
    local srv=$NGINX_PID scand=
    if [ -n "$gw" ]; then
        before=$(workers_of "${GW_PID[$gw]}")
        srv=${GW_PID[$gw]}
        [ "$gw" != off ] && scand=${GW_SCAND[$gw]}
    fi
    local cpu0 scpu0=0 cpu1 scpu1=0
    cpu0=$(cpu_ticks "$srv")
    [ -n "$scand" ] && scpu0=$(cpu_ticks "$scand")
    note "$setup, $c clients, ${CELL_SECONDS}s"
    timeout $((CELL_SECONDS + WRK_TIMEOUT + 60)) \
        wrk -t"$threads" -c"$c" -d"${CELL_SECONDS}s" --timeout "${WRK_TIMEOUT}s" --latency \
        -s "$REPO/bench/wrk-proxy.lua" "http://127.0.0.1:$port/" -- "$mode" "$ORIGIN" "/$OBJECT" "$conn" \
        >"$out" 2>&1
    cpu1=$(cpu_ticks "$srv")
    [ -n "$scand" ] && scpu1=$(cpu_ticks "$scand")
    line=$(grep '^BENCH ' "$out")
    if [ -z "$line" ]; then
        RPS[$setup:$c]=n/a
        NOTES+=("$setup at $c clients: wrk gave no result ($(tail -n 2 "$out" | tr '\n' ' '))")
    else
        # shellcheck disable=SC2034 # all set by the eval of the BENCH line
        local requests duration_us bytes p50_us p99_us max_us err_connect err_read err_write err_status err_timeout
        eval "$(sed 's/^BENCH //' <<<"$line")"
        RPS[$setup:$c]=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
        MBS[$setup:$c]=$(awk -v b="$bytes" -v d="$duration_us" 'BEGIN { printf "%.1f", b / d }')
        P50[$setup:$c]=$(awk -v v="$p50_us" 'BEGIN { printf "%.1f", v / 1000 }')
        P99[$setup:$c]=$(awk -v v="$p99_us" 'BEGIN { printf "%.1f", v / 1000 }')
        CPU[$setup:$c]=$(awk -v t=$((cpu1 - cpu0)) -v hz="$CLK_TCK" -v r="$requests" \
            'BEGIN { if (r > 0) printf "%.0f", t / hz * 1e6 / r; else printf "-" }')
        if [ -n "$scand" ]; then
            SCPU[$setup:$c]=$(awk -v t=$((scpu1 - scpu0)) -v hz="$CLK_TCK" -v r="$requests" \
                'BEGIN { if (r > 0) printf "%.0f", t / hz * 1e6 / r; else printf "-" }')
        fi
        local total=$((err_connect + err_read + err_write + err_status + err_timeout))
        if [ $total = 0 ]; then
            ERR[$setup:$c]=0
        else
            ERR[$setup:$c]="$err_connect/$err_read/$err_write/$err_timeout/$err_status"
        fi
    fi
    if [ -n "$gw" ]; then
        if ! alive "${GW_PID[$gw]}"; then
            NOTES+=("$setup at $c clients: the gateway master exited; error.log: $(gw_error_tail "$gw" 5 | tr '\n' '|')")
        else
            after=$(workers_of "${GW_PID[$gw]}")
            if [ "$before" != "$after" ]; then
                NOTES+=("$setup at $c clients: worker(s) replaced during the cell (was $before, now $after): a worker died")
                # A dead worker's CPU time is lost to the count: no figure.
                [ -n "${CPU[$setup:$c]:-}" ] && CPU[$setup:$c]="n/a"
            fi
        fi
    fi
    sleep $CELL_PAUSE
}

# ---- header ----------------------------------------------------------------

GIT=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || GIT="$GIT+local changes in src/"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== Sekisho HTTP proxy benchmark"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "build:       $BUILD/ at $GIT; $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); $(nginx -v 2>&1 | cut -d' ' -f3)"
echo "setup:       object $OBJECT_SIZE bytes; ${CELL_SECONDS}s per cell; wrk $WRK_THREADS threads, --timeout ${WRK_TIMEOUT}s;"
echo "             nginx $NGINX_WORKERS worker(s); proxy $WORKERS workers, pre_spawn=$PRE_SPAWN, ipv6=no; scand 2 threads"
echo "load average at start: $LOAD_START"

# ---- phase 1: direct, scanning off, bundled database -----------------------

start_scand scand-bundled "$REPO/databases" $BUNDLED_LOAD_TIMEOUT || die "sekisho-scand with databases/ did not start"
BUNDLED_SOCK=$SCAND_SOCK
note "scand (bundled databases/) listening after ${SCAND_LOAD}s"
start_gateway off no "$BUNDLED_SOCK"
start_gateway bundled yes "$BUNDLED_SOCK"
byte_check off
byte_check bundled

for c in $CLIENTS; do
    cell direct-ka "$c" "$NGINX_PORT" direct keepalive
    cell direct-close "$c" "$NGINX_PORT" direct close
    cell off "$c" "${GW_PORT[off]}" proxy close off
    cell bundled "$c" "${GW_PORT[bundled]}" proxy close bundled
done
stop_gateway off
stop_gateway bundled

# ---- idle connections ------------------------------------------------------

start_gateway idle yes "$BUNDLED_SOCK"
note "idle test: $IDLE_CONNS connections"
IDLE_OUT=$(python3 "$REPO/bench/idle_rss.py" --port "${GW_PORT[idle]}" --master "${GW_PID[idle]}" \
    --count "$IDLE_CONNS" --warmup-url "$URL" --timeout $IDLE_ACCEPT_TIMEOUT 2>&1)
[ $? = 0 ] || NOTES+=("idle test failed: $(tail -n 3 <<<"$IDLE_OUT" | tr '\n' ' ')")
stop_gateway idle

# ---- phase 2: full-scale database ------------------------------------------

FULL_STATE=skipped
if [ "$SKIP_FULLDB" != 1 ]; then
    GEN_SUM=$(sha256sum "$REPO/bench/gen-fulldb.py" | cut -d' ' -f1)
    # Reused when present; regenerated when missing or when it carries the
    # stamp of an older bench/gen-fulldb.py.
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
            NOTES+=("bench/gen-fulldb.py failed: full-scale database column left out")
        fi
    fi
    chmod -R a+rX "$FULLDB" 2>/dev/null
    if [ -f "$FULLDB/eicar.ndb" ]; then
        note "starting scand with the full-scale database (bounded ${FULL_LOAD_TIMEOUT}s)"
        if start_scand scand-full "$FULLDB" "$FULL_LOAD_TIMEOUT"; then
            FULL_STATE="scand loaded it in ${SCAND_LOAD}s ($(grep -o 'loaded [0-9]* signatures' "$RUN/scand-full.out"))"
            note "$FULL_STATE"
            start_gateway full yes "$SCAND_SOCK"
            byte_check full
            for c in $CLIENTS; do
                cell full "$c" "${GW_PORT[full]}" proxy close full
            done
            stop_gateway full
        else
            FULL_STATE="scand did not load it within ${FULL_LOAD_TIMEOUT}s"
            NOTES+=("full-scale database: $FULL_STATE")
        fi
    fi
fi

# ---- report ----------------------------------------------------------------

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A LABEL=(
    [direct-ka]="nginx direct, keep-alive"
    [direct-close]="nginx direct, Connection: close"
    [off]="proxy, scanning off"
    [bundled]="proxy, scan, bundled db"
    [full]="proxy, scan, full-scale db"
)
SETUPS="direct-ka direct-close off bundled full"

echo
echo "== $OBJECT_SIZE-byte object: wrk --latency, ${CELL_SECONDS}s per cell"
echo "   (MB/s = 10^6 bytes/s of responses incl. headers; latency excludes connect;"
echo "    cpu us/req = CPU time of nginx (direct) or of the proxy's master+workers per request,"
echo "    scand us/req = sekisho-scand's; errors = connect/read/write/timeout/non-2xx)"
printf '%-33s %7s %9s %8s %9s %9s %8s %8s  %s\n' setup clients req/s MB/s "p50 ms" "p99 ms" \
    "cpu us" "scand us" errors
for c in $CLIENTS; do
    for s in $SETUPS; do
        [ -n "${RPS[$s:$c]:-}" ] || continue
        printf '%-33s %7s %9s %8s %9s %9s %8s %8s  %s\n' "${LABEL[$s]}" "$c" "${RPS[$s:$c]}" \
            "${MBS[$s:$c]:--}" "${P50[$s:$c]:--}" "${P99[$s:$c]:--}" "${CPU[$s:$c]:--}" \
            "${SCPU[$s:$c]:--}" "${ERR[$s:$c]:--}"
    done
    echo
done
echo "byte check (one GET through each gateway, compared with the file):" \
    "scanning off ${CHECK[off]:-?}; bundled ${CHECK[bundled]:-?}; full-scale ${CHECK[full]:-not run}"
echo "full-scale database: $FULL_STATE"

echo
echo "== Memory per idle client connection ($IDLE_CONNS connections, no request sent; master + workers)"
grep -v '^IDLE ' <<<"$IDLE_OUT"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "n/a" }'; }
echo
echo "== Summary (targets of the issue)"
for c in $CLIENTS; do
    printf 'scanning off: proxy delivers %s of direct requests/s at %s clients (target >= 70%%)' \
        "$(pct "${RPS[off:$c]:-}" "${RPS[direct-close:$c]:-}")" "$c"
    printf '  [vs direct keep-alive: %s]\n' "$(pct "${RPS[off:$c]:-}" "${RPS[direct-ka:$c]:-}")"
done
for c in $CLIENTS; do
    printf 'CPU per request at %s clients: proxy (scanning off) %s us, nginx (Connection: close) %s us\n' \
        "$c" "${CPU[off:$c]:--}" "${CPU[direct-close:$c]:--}"
done
for c in $CLIENTS; do
    printf 'scanning on:  bundled db %s, full-scale db %s of scanning-off requests/s at %s clients\n' \
        "$(pct "${RPS[bundled:$c]:-}" "${RPS[off:$c]:-}")" "$(pct "${RPS[full:$c]:-}" "${RPS[off:$c]:-}")" "$c"
done
idle_line=$(grep '^IDLE ' <<<"$IDLE_OUT")
if [ -n "$idle_line" ]; then
    rss_pc=$(sed -n 's/.*rss_per_conn_kib=\([-0-9.]*\).*/\1/p' <<<"$idle_line")
    pss_pc=$(sed -n 's/.*pss_per_conn_kib=\([-0-9.]*\).*/\1/p' <<<"$idle_line")
    echo "RSS per idle connection: $rss_pc KiB (target <= 64 KiB)  [Pss: $pss_pc KiB]"
else
    echo "RSS per idle connection: n/a (target <= 64 KiB)"
fi
echo "load average at start: $LOAD_START; at end: $LOAD_END (other work on the machine skews the figures)"

for name in off bundled idle full; do
    [ -n "${GW_PREFIX[$name]:-}" ] || continue
    f=${GW_PREFIX[$name]}/log/http/error.log
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
