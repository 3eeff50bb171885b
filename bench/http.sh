#!/usr/bin/env bash
# http.sh - throughput, latency, CPU and idle-memory figures of the Sekisho
# HTTP proxy, against nginx direct, HAProxy (the relay anchor) and Squid +
# c-icap + ClamAV, on repeated and on unique content.
#
#   bench/http.sh                  (as root on Debian 12, after `make`)
#
# Starts its own nginx (origin: a deterministic 23 KiB and 1 MiB file, two
# pools of distinct random bodies of those sizes, the EICAR test file, a
# sparse file for tunnels), sekisho-scand (bundled databases/, then the
# synthetic full-scale database of bench/gen-fulldb.py), sekisho --http
# gateways, HAProxy (Debian's haproxy, plain HTTP relay to the same nginx)
# and, for each of the two databases, a comparison stack of clamd (same
# database directory), c-icap with the virus_scan service (clamd_mod) and
# squid as a forward proxy with an ICAP RESPMOD service (bypass=off). All of
# it runs as child processes on 127.0.0.1, on ports picked at run time,
# configured in the run directory; no system service is started or used.
#
# Two content modes (BENCH_CONTENT), each with its own cells:
#   repeated - the same 23 KiB (1 MiB) object on every request: after the
#              first, a scan is a cache hit (Sekisho's verdict cache,
#              libclamav's clean cache, clamd's); "cache-assisted";
#   unique   - every request a body no cache has seen: a pool of
#              BENCH_UNIQUE_23K (BENCH_UNIQUE_1M) random files on disk in
#              $BENCH_DIR/pool-<size>/ (kept across runs, read once into the
#              page cache before measuring), walked by bench/wrk-proxy.lua
#              without repeating (wrk thread k of T takes files k, k+T, ...).
#              Before a cell of a scanning target, the files handed out by
#              earlier scanned cells get a fresh 16-byte nonce over their
#              head (bench/unique_pool.py stamp), so no scanner sees a body
#              twice, in a cell or across the cells of a run. A scanned cell
#              whose threads use up their share stops early (flagged "ran
#              out": its req/s is then a lower bound); the cells of targets
#              that cache nothing by content (nginx direct, HAProxy, Sekisho
#              scanning off) start over at the pool's beginning (flagged
#              "wrapped").
# It prints:
#   - requests/s, MB/s (10^6 bytes/s, headers included), p50/p99 latency,
#     CPU per request (server, c-icap, scanner), CPUs busy on the machine
#     and, for scanned cells, percent of the scan ceiling, at 10/100/1000 wrk
#     clients for 23 KiB objects and at 10/100 clients for 1 MiB objects
#     (unique mode: 10/100 and 10), each with keep-alive and with
#     "Connection: close": nginx direct, Sekisho scanning off, HAProxy,
#     Sekisho scanning (both databases), Squid + c-icap (both databases);
#   - the scan ceiling of each database (sekisho-scand --ceiling, path bare,
#     the gateways' 2 scanner threads, random 23 KiB and 1 MiB files with a
#     fresh head per scan): a scanned cell's percent of ceiling = its
#     requests/s / the ceiling's scans/s for its database and size (on
#     repeated content marked "*", cache-assisted). For Sekisho's cells on
#     unique content the ceiling is its own scand's bare loop measured right
#     before and right after the cell (SIGUSR2, scand_remeasure in
#     bench/procs.sh; the mean of the two), a table shows both;
#   - CONNECT tunnel throughput (curl --proxytunnel, large download from
#     nginx) through Sekisho and Squid against direct; "n/a (proxy answered
#     <status>)" when the proxy refuses the tunnel;
#   - memory per idle client connection (bench/idle_rss.py);
#   - a summary: per content mode, Sekisho vs Squid + c-icap per database,
#     scanning off / HAProxy, percent of ceiling; the targets of issues 3
#     and 17.
# Before measuring a proxy, one GET of each object (and of the first file of
# each pool) through it is compared byte for byte with the file and, when it
# scans, EICAR must be blocked. Figures only: nothing passes or fails on
# time. The exit status is non-zero only when the bench itself could not run
# (missing binary, a server that did not start). Everything started here is
# stopped on exit (trap). A full run with the default knobs: about 33 min
# (128 cells of 10 s + 2 s pause + 1-2 s, ceilings, database loads, tunnels;
# the first run adds a few minutes to write the 9 GB of pools).
#
# Environment (all optional):
#   BENCH_SECONDS=10            wrk duration of one cell
#   BENCH_CONTENT="repeated unique"  content modes to run
#   BENCH_CLIENTS="10 100 1000" client counts, repeated 23 KiB object
#   BENCH_BIG_CLIENTS="10 100"  client counts, repeated 1 MiB object ("" = none)
#   BENCH_UNIQUE_CLIENTS="10 100"      client counts, unique 23 KiB bodies
#   BENCH_UNIQUE_BIG_CLIENTS=10        client counts, unique 1 MiB bodies ("" = none)
#   BENCH_UNIQUE_23K=200000     pool sizes (files): enough for the fastest
#   BENCH_UNIQUE_1M=4000        scanned cell of BENCH_SECONDS (pools: 9 GB)
#   BENCH_CEILING_SECONDS=10    per size and database (0 = no ceiling)
#   BENCH_CEILING_23K=2000 BENCH_CEILING_1M=200  files of the ceiling runs
#   BENCH_ORIGIN_LOG=1          check run: nginx access log on; per unique
#                               cell the files the origin served, and per
#                               scanner whether any body reached it twice
#   BENCH_SKIP_HAPROXY=1        leave out HAProxy
#   BENCH_SCAN_TMP=disk         the scanners' temporary files (scand, the ceiling,
#                               clamd): disk (the run directory) or tmpfs (/dev/shm);
#                               see bench/procs.sh and docs/bench.md "Issue 17"
#   BENCH_WRK_THREADS=nproc BENCH_WRK_TIMEOUT=10 (s; slower replies count as timeouts)
#   BENCH_WORKERS=nproc         proxy workers;  BENCH_PRE_SPAWN=4000
#   BENCH_NGINX_WORKERS=1       origin worker processes
#   BENCH_IDLE_CONNS=1000
#   BENCH_CONNECT_MB=1024       size of the tunnel download (MiB)
#   BENCH_CONNECT_RUNS=3        single-stream downloads (median is printed)
#   BENCH_CONNECT_STREAMS=10    parallel downloads of the aggregate figure
#   BENCH_DIR=/var/tmp/sekisho-bench   work dir; the full database and the
#   BENCH_FULLDB=$BENCH_DIR/fulldb     pools are cached there and reused
#   BENCH_SKIP_FULLDB=1         leave out the full-scale database
#   BENCH_SKIP_SQUID=1          leave out Squid + c-icap + clamd
#   BENCH_SCAND_TIMEOUT=600     bound on a full database load (s, scand and clamd)
#   BENCH_KEEP=1                keep the run directory (configs, logs, wrk output)
#   BUILD=build                 build directory holding bin/ (relative to the
#                               repository, or absolute; SEKISHO_BUILD too: see
#                               bench/build-dir.sh)
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
# shellcheck source=bench/build-dir.sh
. "$REPO/bench/build-dir.sh"
# curl honours these even with -x: a no_proxy of 127.0.0.1 would bypass the
# proxy under test.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

CELL_SECONDS=${BENCH_SECONDS:-10}
CLIENTS=${BENCH_CLIENTS:-"10 100 1000"}
BIG_CLIENTS=${BENCH_BIG_CLIENTS-"10 100"}
WRK_THREADS=${BENCH_WRK_THREADS:-$(nproc)}
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-10}
WORKERS=${BENCH_WORKERS:-$(nproc)}
PRE_SPAWN=${BENCH_PRE_SPAWN:-4000}
NGINX_WORKERS=${BENCH_NGINX_WORKERS:-1}
IDLE_CONNS=${BENCH_IDLE_CONNS:-1000}
CONNECT_MB=${BENCH_CONNECT_MB:-1024}
CONNECT_RUNS=${BENCH_CONNECT_RUNS:-3}
CONNECT_STREAMS=${BENCH_CONNECT_STREAMS:-10}
BENCH_DIR=${BENCH_DIR:-/var/tmp/sekisho-bench}
FULLDB=${BENCH_FULLDB:-$BENCH_DIR/fulldb}
SKIP_FULLDB=${BENCH_SKIP_FULLDB:-0}
SKIP_SQUID=${BENCH_SKIP_SQUID:-0}
FULL_LOAD_TIMEOUT=${BENCH_SCAND_TIMEOUT:-600}
KEEP=${BENCH_KEEP:-0}
CONTENT=${BENCH_CONTENT:-"repeated unique"}
UNIQUE_CLIENTS=${BENCH_UNIQUE_CLIENTS:-"10 100"}
UNIQUE_BIG_CLIENTS=${BENCH_UNIQUE_BIG_CLIENTS-10}
UNIQUE_23K=${BENCH_UNIQUE_23K:-200000}
UNIQUE_1M=${BENCH_UNIQUE_1M:-4000}
CEIL_SECONDS=${BENCH_CEILING_SECONDS:-10}
CEIL_23K=${BENCH_CEILING_23K:-2000}
CEIL_1M=${BENCH_CEILING_1M:-200}
ORIGIN_LOG=${BENCH_ORIGIN_LOG:-0}
SKIP_HAPROXY=${BENCH_SKIP_HAPROXY:-0}
for m in $CONTENT; do
    case $m in repeated | unique) ;; *) echo "http.sh: BENCH_CONTENT: unknown mode '$m'" >&2 && exit 2 ;; esac
done
has_mode() { [[ " $CONTENT " == *" $1 "* ]]; }

SMALL=23k.bin
BIG=1m.bin
# Unique mode: the pools, served under /u23k/ and /u1m/.
USMALL=u23k
UBIG=u1m
EICAR_FILE=eicar.com
TUNNEL_FILE=tunnel.bin
declare -A OBJ_SIZE=([$SMALL]=$((23 * 1024)) [$BIG]=$((1024 * 1024)) [$USMALL]=$((23 * 1024)) [$UBIG]=$((1024 * 1024)))
declare -A OBJ_LABEL=([$SMALL]="23 KiB" [$BIG]="1 MiB" [$USMALL]="23 KiB" [$UBIG]="1 MiB")
declare -A OBJ_CONTENT=([$SMALL]=repeated [$BIG]=repeated [$USMALL]=unique [$UBIG]=unique)
declare -A POOL_COUNT=([$USMALL]=$UNIQUE_23K [$UBIG]=$UNIQUE_1M)
declare -A POOL_DIR CEIL_DIR POOL_DIRTY=([$USMALL]=0 [$UBIG]=0)
# The 23 KiB (1 MiB) pool and the repeated 23 KiB (1 MiB) object share the
# ceiling of their size.
declare -A OBJ_CEIL=([$SMALL]=$USMALL [$BIG]=$UBIG [$USMALL]=$USMALL [$UBIG]=$UBIG)
declare -A CEIL_COUNT=([$USMALL]=$CEIL_23K [$UBIG]=$CEIL_1M)
pool_path() { echo "/$1/f%07d.bin"; } # the wrk-proxy.lua PATH of pool $1
pool_file() { printf '/%s/f%07d.bin' "$1" "$2"; }
# sekisho-scand's scanner threads (start_scand in bench/procs.sh starts it
# with --threads 2): the ceiling runs with as many.
SCAND_THREADS=2
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
NOFILE_WANT=65536
BUNDLED_LOAD_TIMEOUT=60 # s, scand or clamd with databases/
NGINX_START_TIMEOUT=10
GATEWAY_START_TIMEOUT=20
SQUID_START_TIMEOUT=30
ICAP_START_TIMEOUT=20
STOP_TIMEOUT=30   # s, SIGTERM before SIGKILL
CELL_PAUSE=2      # s between cells: TIME_WAIT and CPU settle
FULLDB_GEN_TIMEOUT=1800
IDLE_ACCEPT_TIMEOUT=30
CHECK_TIMEOUT=30  # s, one curl of a check
CONNECT_TIMEOUT=300 # s, one tunnel download
APT_TIMEOUT=900   # s, installing the comparison packages
HUNG_MS=5000      # a squid transaction open this long at a cell's end hung
SQUID_PACKAGES="squid c-icap libc-icap-mod-virus-scan clamav-daemon"
ICAP_THREADS=100 # c-icap MaxServers 10 x ThreadsPerChild 10 (Debian's)
ICAP_MODULES=/usr/lib/x86_64-linux-gnu/c_icap

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

# apt_install PKG... - noninteractive, without starting any service: a
# policy-rc.d answering 101 ("action forbidden") is put in place for the
# duration when none exists (invoke-rc.d and deb-systemd-invoke ask it).
apt_install() {
    local policy=/usr/sbin/policy-rc.d made_policy=0 rc
    [ "$(id -u)" = 0 ] || return 1
    if [ ! -e $policy ]; then
        printf '#!/bin/sh\n# bench/http.sh: no service starts during its apt-get install\nexit 101\n' >$policy
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
        systemctl disable --now squid c-icap clamav-daemon clamav-freshclam >/dev/null 2>&1
    fi
    return $rc
}

if ! command -v wrk >/dev/null; then
    note "installing wrk"
    apt_install wrk || die "wrk not found and apt-get install wrk failed"
fi
have_squid_stack() {
    command -v squid >/dev/null && command -v c-icap >/dev/null && command -v clamd >/dev/null &&
        [ -f $ICAP_MODULES/virus_scan.so ] && [ -f $ICAP_MODULES/clamd_mod.so ]
}
SQUID_STATE=
if [ "$SKIP_SQUID" = 1 ]; then
    SQUID_STATE="skipped (BENCH_SKIP_SQUID=1)"
elif ! have_squid_stack; then
    note "installing $SQUID_PACKAGES (no service is started)"
    if ! apt_install $SQUID_PACKAGES || ! have_squid_stack; then
        SQUID_STATE="left out: apt-get install $SQUID_PACKAGES failed"
        note "$SQUID_STATE"
    fi
fi
HAPROXY_STATE=
if [ "$SKIP_HAPROXY" = 1 ]; then
    HAPROXY_STATE="skipped (BENCH_SKIP_HAPROXY=1)"
elif ! command -v haproxy >/dev/null; then
    note "installing haproxy (no service is started)"
    if ! apt_install haproxy || ! command -v haproxy >/dev/null; then
        HAPROXY_STATE="left out: apt-get install haproxy failed"
        note "$HAPROXY_STATE"
    elif [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
        systemctl disable --now haproxy >/dev/null 2>&1
    fi
fi
# Each cell holds up to 1000 client sockets, as many upstream ones, spool
# files, and the idle test 1000 more: raise the descriptor limit (inherited
# by every server started here).
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge $NOFILE_WANT ]; then
    ulimit -n $NOFILE_WANT
else
    ulimit -n "$hard"
fi
NOFILE=$(ulimit -n)

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
chmod 755 "$BENCH_DIR"
RUN=$(mktemp -d "$BENCH_DIR/run.XXXXXX") || die "mktemp failed"
# The daemons drop to nobody (Sekisho) or proxy (squid) and must traverse
# the run directory.
chmod 755 "$RUN"

# ---- process bookkeeping and cleanup ---------------------------------------

# shellcheck source=bench/procs.sh
. "$REPO/bench/procs.sh"

# CPU figures: cpu_ticks and us_per (bench/procs.sh).
CLK_TCK=$(getconf CLK_TCK)

# ---- origin ----------------------------------------------------------------

WWW=$RUN/www
mkdir -p "$WWW" "$RUN/nginx-tmp"
# Deterministic content: bytes 0..255 repeated (incompressible enough, and
# the same objects on every run).
for obj in $SMALL $BIG; do
    python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * (int(sys.argv[1]) // 256))' \
        "${OBJ_SIZE[$obj]}" >"$WWW/$obj"
    [ "$(stat -c %s "$WWW/$obj")" = "${OBJ_SIZE[$obj]}" ] || die "could not write $WWW/$obj"
done
printf '%s' "$EICAR" >"$WWW/$EICAR_FILE"
# Tunnel download: a sparse file (zeros from the page cache, no disk).
truncate -s $((CONNECT_MB * 1024 * 1024)) "$WWW/$TUNNEL_FILE" || die "could not create $WWW/$TUNNEL_FILE"
chmod -R a+rX "$WWW"

# Unique mode: the pools (kept across runs in BENCH_DIR) and the files of
# the ceiling runs (random too; the ceiling tool stamps each scan's head
# itself, so a few thousand files do). All of it stays in the page cache for
# the whole run: refuse pools that would not fit in half of the RAM.
NEED_POOLS=0
if has_mode unique; then
    NEED_POOLS=$(( (UNIQUE_23K * OBJ_SIZE[$USMALL] + UNIQUE_1M * OBJ_SIZE[$UBIG]) / 1048576 ))
fi
MEM_MB=$(awk '/MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)
[ "$NEED_POOLS" -le $((MEM_MB / 2)) ] ||
    die "the unique-content pools ($NEED_POOLS MiB) do not fit in half of the RAM ($MEM_MB MiB): lower BENCH_UNIQUE_23K / BENCH_UNIQUE_1M"
# ensure_pool DIR COUNT SIZE - written when missing, read once; the POOL line to stderr.
ensure_pool() {
    local out
    out=$(python3 "$REPO/bench/unique_pool.py" ensure "$1" "$2" "$3") || die "could not write the pool $1: $out"
    note "$out"
}
for u in $USMALL $UBIG; do
    POOL_DIR[$u]=$BENCH_DIR/pool-${OBJ_SIZE[$u]}
    CEIL_DIR[$u]=$BENCH_DIR/ceiling-${OBJ_SIZE[$u]}
done
if has_mode unique; then
    note "unique-content pools in $BENCH_DIR (written once, read into the page cache)"
    for u in $USMALL $UBIG; do ensure_pool "${POOL_DIR[$u]}" "${POOL_COUNT[$u]}" "${OBJ_SIZE[$u]}"; done
fi
if [ "$CEIL_SECONDS" != 0 ]; then
    for u in $USMALL $UBIG; do ensure_pool "${CEIL_DIR[$u]}" "${CEIL_COUNT[$u]}" "${OBJ_SIZE[$u]}"; done
fi

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
  $([ "$ORIGIN_LOG" = 1 ] && echo "access_log $RUN/nginx-access.log;" || echo "access_log off;")
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
    location /$USMALL/ { alias ${POOL_DIR[$USMALL]}/; }
    location /$UBIG/ { alias ${POOL_DIR[$UBIG]}/; }
  }
}
EOF
start nginx QUIT nginx -c "$RUN/nginx.conf"
NGINX_PID=$LAST_PID
wait_until $NGINX_START_TIMEOUT port_open "$NGINX_PORT" || die "nginx did not start: $(cat "$RUN/nginx.out" "$RUN/nginx-error.log" 2>/dev/null)"
ORIGIN=127.0.0.1:$NGINX_PORT

# ---- targets ---------------------------------------------------------------
# A target is one thing wrk sends requests to: direct (nginx), off, bundled,
# full (Sekisho gateways), squidb, squidf (Squid + c-icap + clamd with the
# bundled and the full-scale database), haproxy (HAProxy relaying to nginx).
# Per target (T_DB: the database of a scanning target, bundled or full):
declare -A T_PORT T_MODE T_SRV T_ICAP T_SCAN T_SCANOUT T_DB T_GW T_SQUIDLOG T_ICAPLOG
CUR_DB= # the database of the phase: scanning targets started now use it
declare -A LABEL=(
    [direct]="nginx direct"
    [off]="Sekisho, scanning off"
    [haproxy]="HAProxy, relay"
    [bundled]="Sekisho, scan, bundled db"
    [full]="Sekisho, scan, full-scale db"
    [fullnc]="Sekisho, scan, full db, no vcache"
    [squidb]="Squid+c-icap, bundled db"
    [squidf]="Squid+c-icap, full-scale db"
)
T_PORT[direct]=$NGINX_PORT
T_MODE[direct]=direct
T_SRV[direct]=$NGINX_PID

# ---- scand and gateways ----------------------------------------------------



# start_gateway NAME VIRUS_CHECK SCAND_SOCKET [INI_LINE] - also defines
# target NAME; INI_LINE is added to [http].
start_gateway() {
    local name=$1 vc=$2 sock=$3 extra=${4:-}
    # ipv6=no: with ipv6=yes an older proxy resolved even the literal
    # 127.0.0.1 through DNS (see docs/bench.md). keepalive=yes: the
    # keep-alive cells; "Connection: close" requests still close.
    # max_sessions_per_client=0: every bench client comes from 127.0.0.1.
    # connect_ports: the CONNECT cells tunnel to the origin's port (443
    # only, the default, refused them with 403 since issue 10).
    gateway_start http "$name" "$sock" "virus_check=$vc
pre_spawn=$PRE_SPAWN
max_sessions_per_client=0
ipv6=no
keepalive=yes
connect_ports=$NGINX_PORT
$extra"
    T_PORT[$name]=$GW_PORT
    T_MODE[$name]=proxy
    T_SRV[$name]=${GW_PID[$name]}
    T_GW[$name]=$name
    if [ "$vc" = yes ]; then
        T_SCAN[$name]=$SCAND_PID
        T_SCANOUT[$name]=$SCAND_OUT
        T_DB[$name]=$CUR_DB
    fi
}

# ---- HAProxy ---------------------------------------------------------------

# start_haproxy - defines target haproxy; 1 (HAPROXY_STATE says why) when
# it did not come up.
start_haproxy() {
    local port dir=$RUN/haproxy maxconn=$(((NOFILE - 200) / 2))
    [ $maxconn -gt 20000 ] && maxconn=20000
    port=$(free_port)
    mkdir -p "$dir"
    # The relay anchor: HAProxy's defaults (http-keep-alive on both sides,
    # http-reuse safe, buffers) except what a bench needs: one thread per
    # CPU like Sekisho's workers, maxconn well above the 1000-client cells
    # (HAProxy wants 2 descriptors per connection, client and server side,
    # and refuses to start when maxconn does not fit in the descriptor
    # limit), timeouts longer than wrk's. Access log: one line per request (option
    # httplog) to stdout, which is a file here ($RUN/haproxy.out), because
    # Sekisho writes an access-log line per request too and the comparison
    # should cost both the same; nothing goes to syslog.
    cat >"$dir/haproxy.cfg" <<EOF
global
    nbthread $(nproc)
    maxconn $maxconn
    log stdout format raw daemon
    pidfile $dir/haproxy.pid

defaults
    mode http
    log global
    option httplog
    timeout connect 10s
    timeout client 60s
    timeout server 60s
    timeout http-request 30s
    timeout http-keep-alive 60s

frontend bench
    bind 127.0.0.1:$port
    default_backend origin

backend origin
    server nginx $ORIGIN
EOF
    if ! haproxy -c -q -f "$dir/haproxy.cfg" >"$dir/check.out" 2>&1; then
        HAPROXY_STATE="left out: haproxy -c rejected the configuration: $(head -n 3 "$dir/check.out" | tr '\n' ' ')"
        return 1
    fi
    haproxy_run "$dir/haproxy.cfg" "$port" $GATEWAY_START_TIMEOUT || return 1
    T_PORT[haproxy]=$port
    T_MODE[haproxy]=direct
    T_SRV[haproxy]=$HAPROXY_PID
    return 0
}

# ---- the scan ceiling ------------------------------------------------------

# Two measurements of the ceiling per database and size:
#  - in the gateways' own sekisho-scand, before it serves (--ceiling-first:
#    the bare loop on the engine its scans use; a full-scale engine's cost
#    per scan differs by 10-20% from one process to the next, docs/bench.md,
#    issue 17);
#  - in a process of its own (--ceiling), as before: CEIL_SEP[DB|u].
# The yardstick of "% of ceiling", CEIL[DB|u], is the higher of the two: in
# the runs of session 12 the daemon's figure came out 10-30% lower inside
# a bench than the same measurement alone, for reasons not found, and a
# yardstick must not flatter the proxy.
# CEIL_FIRST - the --ceiling-first options of start_scand (none with
# BENCH_CEILING_SECONDS=0); set before phase 1.
CEIL_FIRST=()
# ceiling_from_scand DB NAME - CEIL[DB|u] from the ceiling: lines the
# sekisho-scand started as NAME printed before serving.
ceiling_from_scand() {
    local db=$1 name=$2 u line
    [ "$CEIL_SECONDS" = 0 ] && return
    for u in $USMALL $UBIG; do
        line=$(grep -m1 "^ceiling: path=bare .* dir=${CEIL_DIR[$u]}\$" "$RUN/$name.out")
        if [ -z "$line" ]; then
            NOTES+=("scan ceiling ($db database, ${OBJ_LABEL[$u]}): $name printed none before serving")
            continue
        fi
        CEIL[$db|$u]=$(sed -n 's/.* scans_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
        CEIL_LINE[$db|$u]=$line
    done
}
# ceiling DB DBDIR - sekisho-scand --ceiling, path bare, SCAND_THREADS
# threads, CEIL_SECONDS on the 23 KiB and on the 1 MiB ceiling files (a
# fresh head per scan: no cache hit), in a process of its own. Sets
# CEIL_SEP[DB|u] (scans/s), CEIL_SEP_LINE, and CEIL[DB|u] when it is
# higher than ceiling_from_scand's (the lower one is printed beside);
# notes why not.
declare -A CEIL CEIL_LINE CEIL_SEP CEIL_SEP_LINE
ceiling() {
    local db=$1 dir=$2 u out line
    [ "$CEIL_SECONDS" = 0 ] && return
    for u in $USMALL $UBIG; do
        note "scan ceiling: $db database, ${OBJ_LABEL[$u]} files, $SCAND_THREADS threads, ${CEIL_SECONDS}s"
        out=$RUN/ceiling-$db-$u.out
        TMPDIR=$(scan_tmp_dir "ceiling-$db") \
            timeout $((FULL_LOAD_TIMEOUT + CEIL_SECONDS + 60)) "$BIN/sekisho-scand" --ceiling "${CEIL_DIR[$u]}" \
            --databases "$dir" --threads $SCAND_THREADS --seconds "$CEIL_SECONDS" --path bare --stamp head \
            >"$out" 2>&1
        line=$(grep -m1 '^ceiling: path=bare' "$out")
        if [ -z "$line" ] && grep -q 'unknown option --ceiling' "$out"; then
            NOTES+=("scan ceiling: $BIN/sekisho-scand has no --ceiling (a build without the ceiling tool): no percent of ceiling")
            return
        elif [ -z "$line" ]; then
            NOTES+=("scan ceiling ($db database, ${OBJ_LABEL[$u]}): no result from sekisho-scand --ceiling: $(tail -n 2 "$out" | tr '\n' ' ')")
            continue
        fi
        CEIL_SEP[$db|$u]=$(sed -n 's/.* scans_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
        CEIL_SEP_LINE[$db|$u]=$line
        if awk -v a="${CEIL_SEP[$db|$u]}" -v b="${CEIL[$db|$u]:-0}" 'BEGIN { exit !(a + 0 > b + 0) }'; then
            [ -n "${CEIL[$db|$u]:-}" ] && CEIL_SEP_LINE[$db|$u]="(in the daemon, lower) ${CEIL_LINE[$db|$u]}"
            CEIL[$db|$u]=${CEIL_SEP[$db|$u]}
            CEIL_LINE[$db|$u]="(own process, the higher) $line"
        fi
    done
}


gw_error_lines() {
    local f=${GW_PREFIX[$1]}/log/http/error.log
    if [ -f "$f" ]; then wc -l <"$f"; else echo 0; fi
}

# ---- Squid + c-icap + clamd ------------------------------------------------

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

# start_squid_stack NAME DBDIR TIMEOUT - clamd on DBDIR, c-icap, squid;
# defines target NAME. Returns 1 (with a note in SQUID_FAIL) when one of
# them did not come up; what was started is stopped by the trap.
declare -A CLAMD_LOAD
SQUID_FAIL=
start_squid_stack() {
    local name=$1 db=$2 timeout=$3 dir=$RUN/$1 t0=$SECONDS clamd icap squid iport sport ctmp
    mkdir -p "$dir/tmp" "$dir/squid"
    ctmp=$(scan_tmp_dir "clamd-$name") || die "cannot make a temporary directory for clamd"
    chown proxy:proxy "$dir/squid" 2>/dev/null || chmod 777 "$dir/squid"
    # clamd: Debian's generated clamd.conf settings for threads, queues and
    # timeouts (MaxThreads 12 ...), libclamav defaults for the scan
    # options, the clean-file cache on (as in scand); runs as root (no
    # User), so it reads c-icap's spool files.
    cat >"$dir/clamd.conf" <<EOF
LocalSocket $dir/clamd.sock
FixStaleSocket true
LocalSocketMode 600
DatabaseDirectory $db
TemporaryDirectory $ctmp
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
        SQUID_FAIL="clamd ($name) not ready after ${timeout}s: $(tail -n 3 "$dir/clamd.log" "$RUN/$name-clamd.out" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    CLAMD_LOAD[$name]=$((SECONDS - t0))

    # c-icap: the settings of Debian's /etc/c-icap/c-icap.conf and
    # virus_scan.conf (threads per server, keep-alive, file types, sizes),
    # with clamd_mod as the engine and every path in the run directory.
    # Debian's capacity (MaxServers 10 x ThreadsPerChild 10), but all 10
    # servers started at once and kept (StartServers 10, MaxSpareThreads
    # 100): with Debian's StartServers 3 / MaxSpareThreads 20, c-icap shrank
    # between cells and grew back about one server a second inside the next
    # one, and the cells measured that ramp (requests waiting seconds for an
    # ICAP thread) rather than the steady state.
    iport=$(free_port)
    cat >"$dir/c-icap.conf" <<EOF
PidFile $dir/c-icap.pid
CommandsSocket $dir/c-icap.ctl
Port 127.0.0.1:$iport
Timeout 300
MaxKeepAliveRequests 100
KeepAliveTimeout 600
StartServers 10
MaxServers 10
MinSpareThreads 10
MaxSpareThreads 100
ThreadsPerChild 10
MaxRequestsPerChild 0
TmpDir $dir/tmp
MaxMemObject 131072
DebugLevel 1
Pipelining on
SupportBuggyClients off
ModulesDir $ICAP_MODULES
ServicesDir $ICAP_MODULES
TemplateDir /usr/share/c_icap/templates/
TemplateDefaultLanguage en
LoadMagicFile /etc/c-icap/c-icap.magic
ServerLog $dir/c-icap-server.log
LogFormat bench "%tl %is %Ib %Ob %huo action=%{virus_scan:action}Sa virus=%{virus_scan:virus}Sa"
AccessLog $dir/c-icap-access.log bench
Module common clamd_mod.so
clamd_mod.ClamdSocket $dir/clamd.sock
Service antivirus_module virus_scan.so
ServiceAlias avscan virus_scan?allow204=on&sizelimit=off&mode=simple
virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GIF JPEG MSOFFICE
virus_scan.SendPercentData 5
virus_scan.StartSendPercentDataAfter 2M
virus_scan.MaxObjectSize 5M
virus_scan.DefaultEngine clamd
EOF
    start "$name-c-icap" TERM c-icap -N -f "$dir/c-icap.conf"
    icap=$LAST_PID
    icap_up() { port_open "$iport" || ! alive "$icap"; }
    wait_until $ICAP_START_TIMEOUT icap_up
    if ! alive "$icap" || ! port_open "$iport"; then
        SQUID_FAIL="c-icap ($name) did not start: $(tail -n 3 "$RUN/$name-c-icap.out" "$dir/c-icap-server.log" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi

    # squid: forward proxy, no cache at all, RESPMOD to avscan, the ICAP
    # service essential (bypass=off: an ICAP failure is an error, never an
    # unscanned response). Access log on, like Sekisho's. max-conn: at most
    # as many ICAP connections as c-icap has threads (one thread serves one
    # persistent connection); more transactions wait inside squid.
    # reply_header_max_size 16 KB and icap_preview_enable off: squid 5.7
    # (Debian 12) stalls a RESPMOD transaction for good when its 64 KB
    # virgin-body pipe fills before the ICAP side drains it (it stops
    # reading the origin and never resumes; this looks like squid bug 5352,
    # fixed in 2025 for squid 6/7). c-icap's virus_scan answers only after
    # the whole body, and on loopback nginx fills the pipe with the first
    # read, so every body over 64 KB hung with the defaults. A smaller first
    # read (the header limit) and no preview round trip avoid it in
    # practice (the first transaction after start, which also fetches the
    # ICAP OPTIONS, may still hang: the checks below warm it up).
    sport=$(free_port)
    cat >"$dir/squid.conf" <<EOF
http_port 127.0.0.1:$sport
pid_filename $dir/squid/squid.pid
cache_log $dir/squid/cache.log
access_log stdio:$dir/squid/access.log
cache_store_log none
coredump_dir $dir/squid
cache_effective_user proxy
cache deny all
cache_mem 0 MB
max_filedescriptors $NOFILE
pinger_enable off
shutdown_lifetime 1 seconds
logfile_rotate 0
reply_header_max_size 16 KB
icap_preview_enable off
http_access allow localhost
http_access deny all
icap_enable on
icap_service avscan respmod_precache icap://127.0.0.1:$iport/avscan bypass=off max-conn=$ICAP_THREADS
adaptation_access avscan allow all
EOF
    start "$name-squid" TERM squid -N -n "skb$$$name" -f "$dir/squid.conf"
    squid=$LAST_PID
    squid_up() { port_open "$sport" || ! alive "$squid"; }
    wait_until $SQUID_START_TIMEOUT squid_up
    if ! alive "$squid" || ! port_open "$sport"; then
        SQUID_FAIL="squid ($name) did not start: $(tail -n 3 "$RUN/$name-squid.out" "$dir/squid/cache.log" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    T_PORT[$name]=$sport
    T_MODE[$name]=proxy
    T_SRV[$name]=$squid
    T_ICAP[$name]=$icap
    T_SCAN[$name]=$clamd
    T_SQUIDLOG[$name]=$dir/squid/access.log
    T_DB[$name]=$CUR_DB
    T_ICAPLOG[$name]=$dir/c-icap-access.log
    return 0
}

stop_squid_stack() {
    stop_pid "${T_SRV[$1]}" TERM
    stop_pid "${T_ICAP[$1]}" TERM
    stop_pid "${T_SCAN[$1]}" TERM
}

# ---- checks ----------------------------------------------------------------

# check TARGET - before any cell: each object (and, in unique mode, the
# first file of each pool) through the target compared byte for byte; EICAR
# must be blocked when the target scans. Sets CHECK.
declare -A CHECK
check() {
    local t=$1 obj out code res="" icap_before=0 path file label objs=()
    local proxy=()
    [ "${T_MODE[$t]}" = proxy ] && proxy=(-x "http://127.0.0.1:${T_PORT[$t]}")
    # Direct-mode targets (HAProxy) take origin-form requests on their port.
    local base=http://$ORIGIN
    [ "${T_MODE[$t]}" = direct ] && base=http://127.0.0.1:${T_PORT[$t]}
    if [ -n "${T_ICAPLOG[$t]:-}" ]; then
        # Warm-up (squid fetches the ICAP OPTIONS on its first transaction).
        curl -s -m $CHECK_TIMEOUT -o /dev/null "${proxy[@]}" "$base/$SMALL"
        icap_before=$(wc -l <"${T_ICAPLOG[$t]}" 2>/dev/null || echo 0)
    fi
    objs=("$SMALL" "$BIG")
    has_mode unique && objs+=("$USMALL" "$UBIG")
    for obj in "${objs[@]}"; do
        if [ "${OBJ_CONTENT[$obj]}" = unique ]; then
            path=$(pool_file "$obj" 0)
            file=${POOL_DIR[$obj]}/${path##*/}
            label="${OBJ_LABEL[$obj]} pool file"
            # The scanner has seen file 0 now: re-stamped before the first
            # scanned cell.
            [ -n "${T_SCAN[$t]:-}" ] && [ "${POOL_DIRTY[$obj]}" -lt 1 ] && POOL_DIRTY[$obj]=1
        else
            path=/$obj
            file=$WWW/$obj
            label=${OBJ_LABEL[$obj]}
        fi
        out=$RUN/check-$t-$obj
        code=$(curl -s -m $CHECK_TIMEOUT -o "$out" -w '%{http_code}' "${proxy[@]}" "$base$path")
        if [ "$code" = 200 ] && cmp -s "$out" "$file"; then
            res+="$label ok; "
        else
            res+="$label FAILED (HTTP $code, $(stat -c %s "$out" 2>/dev/null || echo 0) bytes); "
            NOTES+=("check through ${LABEL[$t]}: $label not delivered intact (HTTP $code)")
        fi
    done
    if [ -n "${T_SCAN[$t]:-}" ]; then
        out=$RUN/check-$t-eicar
        code=$(curl -s -m $CHECK_TIMEOUT -o "$out" -w '%{http_code}' "${proxy[@]}" "$base/$EICAR_FILE")
        if [ "$code" != 000 ] && ! grep -qF 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' "$out" 2>/dev/null; then
            res+="EICAR blocked (HTTP $code)"
        else
            res+="EICAR NOT BLOCKED (HTTP $code)"
            NOTES+=("check through ${LABEL[$t]}: EICAR was not blocked (HTTP $code)")
        fi
    fi
    if [ -n "${T_ICAPLOG[$t]:-}" ]; then
        # The clean objects went through virus_scan (not skipped by type).
        local passed
        passed=$(tail -n +$((icap_before + 1)) "${T_ICAPLOG[$t]}" 2>/dev/null | grep -c 'action=passed')
        res+="; c-icap scanned and passed $passed of ${#objs[@]} clean objects"
    fi
    CHECK[$t]=${res%; }
}

# ---- wrk cells -------------------------------------------------------------

declare -A RPS MBS P99 P50 ERR CPU ICPU SCPU TCPU BUSY POOLINFO ORIGINCHK
NOTES=()
KEYS=() # in the order run

# busy_ticks - "busy total" ticks of all CPUs (/proc/stat: busy = all but
# idle and iowait).
busy_ticks() {
    awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat
}

# origin_check KEY OBJ SCAN FROM - BENCH_ORIGIN_LOG=1: the pool files nginx
# served from access-log line FROM on (the cell's): ORIGINCHK[KEY] says how
# many and how many distinct; for a scanning target (SCAN = its scanner's
# pid) the heads (nonces) of those files are appended to
# $RUN/served-SCAN.txt, checked for repeats at the end.
origin_check() {
    local key=$1 obj=$2 scan=$3 from=$4 idx n distinct
    idx=$RUN/origin-idx-${key//|/-}.txt
    tail -n +"$from" "$RUN/nginx-access.log" |
        awk -v p="/$obj/f" '$9 == 200 && index($7, p) == 1 { s = substr($7, length(p) + 1); sub(/\.bin$/, "", s); print s + 0 }' >"$idx"
    n=$(wc -l <"$idx")
    distinct=$(sort -u "$idx" | wc -l)
    ORIGINCHK[$key]="$n served, $distinct distinct"
    if [ -n "$scan" ]; then
        python3 "$REPO/bench/unique_pool.py" heads "${POOL_DIR[$obj]}" <"$idx" >>"$RUN/served-$scan.txt"
        SERVED_TO[$scan]="${SERVED_TO[$scan]:-}${SERVED_TO[$scan]:+, }${key}"
    fi
}
declare -A SERVED_TO

# cell TARGET CLIENTS CONN OBJECT - one wrk run; CONN is ka or close;
# OBJECT is a repeated object ($SMALL, $BIG) or a pool ($USMALL, $UBIG).
cell() {
    local t=$1 c=$2 conn=$3 obj=$4 key out line before after
    local threads=$WRK_THREADS gw=${T_GW[$t]:-} slog=${T_SQUIDLOG[$t]:-}
    [ "$threads" -gt "$c" ] && threads=$c
    key="$t|$conn|$obj|$c"
    KEYS+=("$key")
    out=$RUN/wrk-$t-$conn-$obj-$c.txt
    local srv=${T_SRV[$t]} icap=${T_ICAP[$t]:-} scan=${T_SCAN[$t]:-}
    local c0 i0=0 s0=0 c1 i1=0 s1=0 err0=0 log0=0 b0 t0 b1 t1 olog0=0
    local path=/$obj pool=()
    if [ "${OBJ_CONTENT[$obj]}" = unique ]; then
        path=$(pool_path "$obj")
        # A scanning target stops when its share of the pool is used up; the
        # others (nothing there caches by content) wrap around.
        pool=("${POOL_COUNT[$obj]}" "$threads" "$([ -n "$scan" ] && echo stop || echo wrap)")
        if [ -n "$scan" ] && [ "${POOL_DIRTY[$obj]}" -gt 0 ]; then
            # Files a scanner has seen get a fresh head first.
            note "$(python3 "$REPO/bench/unique_pool.py" stamp "${POOL_DIR[$obj]}" "${POOL_DIRTY[$obj]}")"
            POOL_DIRTY[$obj]=0
        fi
    fi
    # The yardstick of a Sekisho cell on unique content: its own scand's
    # bare loop right before and right after it (bracket_open/_close in
    # bench/procs.sh; docs/bench.md, session 14).
    local br=()
    if [ "$CEIL_SECONDS" != 0 ] && [ -n "${T_SCANOUT[$t]:-}" ] && [ "${OBJ_CONTENT[$obj]}" = unique ]; then
        # --ceiling-first order: 1 the 23 KiB directory, 2 the 1 MiB one
        br=("${T_SCAN[$t]}" "$([ "${OBJ_CEIL[$obj]}" = "$USMALL" ] && echo 1 || echo 2)" "${T_SCANOUT[$t]}"
            "${CEIL_DIR[${OBJ_CEIL[$obj]}]}" $((CEIL_SECONDS * 3 + 30)))
        bracket_open "${br[@]}"
    else
        bracket_none
    fi
    [ "$ORIGIN_LOG" = 1 ] && olog0=$(($(wc -l <"$RUN/nginx-access.log") + 1))
    [ -n "$gw" ] && before=$(workers_of "${GW_PID[$gw]}") && err0=$(gw_error_lines "$gw")
    [ -n "$slog" ] && log0=$(wc -l <"$slog")
    c0=$(cpu_ticks "$srv")
    [ -n "$icap" ] && i0=$(cpu_ticks "$icap")
    [ -n "$scan" ] && s0=$(cpu_ticks "$scan")
    read -r b0 t0 < <(busy_ticks)
    note "$t, $conn, $obj, $c clients, ${CELL_SECONDS}s"
    timeout $((CELL_SECONDS + WRK_TIMEOUT + 60)) \
        wrk -t"$threads" -c"$c" -d"${CELL_SECONDS}s" --timeout "${WRK_TIMEOUT}s" --latency \
        -s "$REPO/bench/wrk-proxy.lua" "http://127.0.0.1:${T_PORT[$t]}/" -- \
        "${T_MODE[$t]}" "$ORIGIN" "$path" "$([ "$conn" = ka ] && echo keepalive || echo close)" "${pool[@]}" \
        >"$out" 2>&1
    read -r b1 t1 < <(busy_ticks)
    BUSY[$key]=$(awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v n="$(nproc)" 'BEGIN { if (t > 0) printf "%.1f", n * b / t; else printf "-" }')
    c1=$(cpu_ticks "$srv")
    [ -n "$icap" ] && i1=$(cpu_ticks "$icap")
    [ -n "$scan" ] && s1=$(cpu_ticks "$scan")
    line=$(grep '^BENCH ' "$out")
    if [ -z "$line" ]; then
        RPS[$key]=n/a
        NOTES+=("${LABEL[$t]}, $conn, $obj, $c clients: wrk gave no result ($(tail -n 2 "$out" | tr '\n' ' '))")
    else
        # shellcheck disable=SC2034 # all set by the eval of the BENCH line
        local requests duration_us bytes p50_us p99_us max_us err_connect err_read err_write err_status err_timeout
        local pool_sent pool_max pool_stopped pool_wraps
        eval "$(sed 's/^BENCH //' <<<"$line")"
        if [ ${#pool[@]} -gt 0 ]; then
            # wrk's first thread makes one request it never sends (it counts
            # a request's pipelined requests): pool_sent is one too many.
            POOLINFO[$key]="$((pool_sent - 1)) new"
            [ "$pool_wraps" -gt 0 ] && POOLINFO[$key]="wrapped ${pool_wraps}x"
            if [ "$pool_stopped" -gt 0 ]; then
                POOLINFO[$key]="RAN OUT"
                NOTES+=("${LABEL[$t]}, $conn, ${OBJ_LABEL[$obj]} unique, $c clients: $pool_stopped of $threads wrk threads used up their share of the ${POOL_COUNT[$obj]}-file pool before the ${CELL_SECONDS}s were over; req/s is a lower bound (raise BENCH_UNIQUE_23K / BENCH_UNIQUE_1M)")
            fi
            if [ -n "$scan" ]; then
                [ "$pool_max" -ge "${POOL_DIRTY[$obj]}" ] && POOL_DIRTY[$obj]=$((pool_max + 1))
            fi
        fi
        # One decimal below 100/s: a unique 1 MiB cell with the full-scale
        # database scans a few bodies a second.
        RPS[$key]=$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { v = r / (d / 1e6); printf (v < 100 ? "%.1f" : "%.0f"), v }')
        MBS[$key]=$(awk -v b="$bytes" -v d="$duration_us" 'BEGIN { printf "%.1f", b / d }')
        P50[$key]=$(awk -v v="$p50_us" 'BEGIN { printf "%.1f", v / 1000 }')
        P99[$key]=$(awk -v v="$p99_us" 'BEGIN { printf "%.1f", v / 1000 }')
        CPU[$key]=$(us_per $((c1 - c0)) "$requests")
        [ -n "$icap" ] && ICPU[$key]=$(us_per $((i1 - i0)) "$requests")
        [ -n "$scan" ] && SCPU[$key]=$(us_per $((s1 - s0)) "$requests")
        TCPU[$key]=$(us_per $((c1 - c0 + i1 - i0 + s1 - s0)) "$requests")
        local total=$((err_connect + err_read + err_write + err_status + err_timeout))
        if [ $total = 0 ]; then
            ERR[$key]=0
        else
            ERR[$key]="$err_connect/$err_read/$err_write/$err_timeout/$err_status"
        fi
    fi
    if [ -n "$gw" ]; then
        if ! alive "${GW_PID[$gw]}"; then
            NOTES+=("${LABEL[$t]}, $conn, $obj, $c clients: the gateway master exited")
        else
            after=$(workers_of "${GW_PID[$gw]}")
            if [ "$before" != "$after" ]; then
                NOTES+=("${LABEL[$t]}, $conn, $obj, $c clients: worker(s) replaced during the cell (was $before, now $after): a worker died")
                # A dead worker's CPU time is lost to the count: no figure.
                CPU[$key]=n/a
                TCPU[$key]=n/a
            fi
        fi
        local err1
        err1=$(gw_error_lines "$gw")
        if [ "$err1" -gt "$err0" ]; then
            NOTES+=("${LABEL[$t]}, $conn, $obj, $c clients: $((err1 - err0)) new error.log line(s), last: $(tail -n 1 "${GW_PREFIX[$gw]}/log/http/error.log")")
        fi
    fi
    if [ -n "$slog" ]; then
        # Non-200 answers of squid during the cell (000 = client went away:
        # wrk closing its connections at the end of the cell).
        local odd
        odd=$(tail -n +$((log0 + 1)) "$slog" | awk '{ split($4, a, "/"); if (a[2] != "200" && a[2] != "000") n[$4]++ }
            END { for (k in n) printf "%s x%d ", k, n[k] }')
        [ -n "$odd" ] && NOTES+=("${LABEL[$t]}, $conn, $obj, $c clients: squid access.log: $odd")
        # Transactions the client gave up on after more than HUNG_MS (wrk
        # closes its connections at the end of the cell): squid's RESPMOD
        # stall (see start_squid_stack) shows up here.
        local hung
        hung=$(tail -n +$((log0 + 1)) "$slog" | awk -v ms=$HUNG_MS '$4 ~ /ABORTED|\/000/ && $2 + 0 >= ms { n++ } END { print n + 0 }')
        [ "$hung" -gt 0 ] && NOTES+=("${LABEL[$t]}, $conn, $obj, $c clients: $hung squid transaction(s) aborted by the client after >= $((HUNG_MS / 1000)) s (hung)")
    fi
    if [ ${#pool[@]} -gt 0 ] && [ -z "$line" ] && [ -n "$scan" ]; then
        # No result, so no pool_max: the whole pool may have been seen.
        POOL_DIRTY[$obj]=${POOL_COUNT[$obj]}
    fi
    [ ${#br[@]} -gt 0 ] && bracket_close "$key" "${LABEL[$t]}, $conn, ${OBJ_LABEL[$obj]}" "${br[@]}"
    sleep $CELL_PAUSE
    # After the pause: nginx logs a request when it is done.
    [ ${#pool[@]} -gt 0 ] && [ "$ORIGIN_LOG" = 1 ] && origin_check "$key" "$obj" "$scan" "$olog0"
}

# cells TARGETS - for each content mode, every client count, keep-alive and
# close, both sizes.
run_cells() {
    local targets=$1 c t conn mode small big small_clients big_clients
    for mode in $CONTENT; do
        if [ "$mode" = repeated ]; then
            small=$SMALL big=$BIG small_clients=$CLIENTS big_clients=$BIG_CLIENTS
        else
            small=$USMALL big=$UBIG small_clients=$UNIQUE_CLIENTS big_clients=$UNIQUE_BIG_CLIENTS
        fi
        for c in $small_clients; do
            for t in $targets; do
                [ -n "${T_PORT[$t]:-}" ] || continue
                for conn in ka close; do cell "$t" "$c" "$conn" "$small"; done
            done
        done
        for c in $big_clients; do
            for t in $targets; do
                [ -n "${T_PORT[$t]:-}" ] || continue
                for conn in ka close; do cell "$t" "$c" "$conn" "$big"; done
            done
        done
    done
}

# ---- CONNECT tunnels -------------------------------------------------------

# tunnel TARGET - CONNECT_RUNS sequential downloads of the tunnel file
# (median MB/s) and one round of CONNECT_STREAMS parallel ones (aggregate),
# through TARGET with curl --proxytunnel, or direct for "direct".
declare -A TUN1 TUNN TUNCPU TUNSTATE
declare -A TUNLABEL=([direct]="nginx direct" [off]="through Sekisho" [squidb]="through Squid")
tunnel() {
    local t=$1 i out code connect size secs want=$((CONNECT_MB * 1024 * 1024))
    local args=(-s -o /dev/null -m "$CONNECT_TIMEOUT" -w '%{http_connect} %{http_code} %{size_download} %{time_total}\n')
    if [ "$t" = direct ]; then
        args+=(--noproxy '*')
    else
        args+=(-p -x "http://127.0.0.1:${T_PORT[$t]}")
        # Byte check first: the 1 MiB object through the tunnel.
        out=$RUN/tunnel-check-$t
        read -r connect code < <(curl -s -m $CHECK_TIMEOUT -p -x "http://127.0.0.1:${T_PORT[$t]}" \
            -o "$out" -w '%{http_connect} %{http_code}\n' "http://$ORIGIN/$BIG")
        if [ "$connect" != 200 ]; then
            TUNSTATE[$t]="n/a (proxy answered $connect)"
            [ -z "$connect" ] || [ "$connect" = 000 ] && TUNSTATE[$t]="n/a (no answer to CONNECT)"
            return
        fi
        if [ "$code" != 200 ] || ! cmp -s "$out" "$WWW/$BIG"; then
            TUNSTATE[$t]="FAILED (1 MiB object through the tunnel: HTTP $code, $(stat -c %s "$out" 2>/dev/null || echo 0) bytes)"
            NOTES+=("CONNECT through ${LABEL[$t]}: ${TUNSTATE[$t]}")
            return
        fi
    fi
    note "CONNECT throughput: $t"
    # Untimed first download: pages of the sparse file into the page cache.
    [ "$t" = direct ] && curl "${args[@]}" "http://$ORIGIN/$TUNNEL_FILE" >/dev/null
    local rates=() c0 c1 total_s=0
    c0=$(cpu_ticks "${T_SRV[$t]}")
    for ((i = 0; i < CONNECT_RUNS; i++)); do
        read -r connect code size secs < <(curl "${args[@]}" "http://$ORIGIN/$TUNNEL_FILE")
        if [ "$code" != 200 ] || [ "$size" != "$want" ]; then
            TUNSTATE[$t]="FAILED (CONNECT $connect, HTTP $code, $size of $want bytes)"
            NOTES+=("CONNECT through ${LABEL[$t]}: ${TUNSTATE[$t]}")
            return
        fi
        rates+=("$(awk -v b="$size" -v s="$secs" 'BEGIN { printf "%.0f", b / s / 1e6 }')")
        total_s=$(awk -v a="$total_s" -v s="$secs" 'BEGIN { print a + s }')
    done
    c1=$(cpu_ticks "${T_SRV[$t]}")
    TUN1[$t]=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    # CPU seconds of the server (nginx for direct) per GB moved.
    TUNCPU[$t]=$(awk -v t=$((c1 - c0)) -v hz="$CLK_TCK" -v b=$((want * CONNECT_RUNS)) \
        'BEGIN { printf "%.2f", t / hz / (b / 1e9) }')
    # Parallel streams: wall time of the whole round.
    local t0 t1 pids=() ok=1
    t0=$(date +%s.%N)
    for ((i = 0; i < CONNECT_STREAMS; i++)); do
        curl "${args[@]}" "http://$ORIGIN/$TUNNEL_FILE" >"$RUN/tunnel-$t-$i.out" 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || ok=0; done
    t1=$(date +%s.%N)
    for ((i = 0; i < CONNECT_STREAMS; i++)); do
        read -r connect code size secs <"$RUN/tunnel-$t-$i.out"
        [ "$code" = 200 ] && [ "$size" = "$want" ] || ok=0
    done
    if [ $ok = 1 ]; then
        TUNN[$t]=$(awk -v b=$((want * CONNECT_STREAMS)) -v a="$t0" -v z="$t1" 'BEGIN { printf "%.0f", b / (z - a) / 1e6 }')
    else
        TUNN[$t]=failed
        NOTES+=("CONNECT through ${LABEL[$t]}: a parallel download failed or was short")
    fi
    TUNSTATE[$t]=ok
}

# ---- header ----------------------------------------------------------------

GIT=$BUILD_GIT
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== Sekisho HTTP proxy benchmark"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "build:       $BUILD/ at $GIT; $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2); $(nginx -v 2>&1 | cut -d' ' -f3)"
if [ -z "$SQUID_STATE" ]; then
    echo "compared:    squid $(squid -v | sed -n 's/.*Version //p' | head -n 1), c-icap $(c-icap -V 2>&1 | head -n 1 | awk '{print $NF}'), libc-icap-mod-virus-scan $(dpkg-query -W -f '${Version}' libc-icap-mod-virus-scan 2>/dev/null), clamd $(clamd -V 2>&1 | head -n 1 | awk '{print $2}' | cut -d/ -f1)"
fi
echo "setup:       objects 23552 and 1048576 bytes; ${CELL_SECONDS}s per cell; wrk $WRK_THREADS threads, --timeout ${WRK_TIMEOUT}s;"
echo "             nginx $NGINX_WORKERS worker(s); Sekisho $WORKERS workers, pre_spawn=$PRE_SPAWN, ipv6=no, keepalive=yes; scand 2 threads;"
echo "             squid 1 process (-N), ICAP max-conn=$ICAP_THREADS, no preview; c-icap 10 servers x 10 threads; clamd 12 threads; descriptors $NOFILE"
echo "load average at start: $LOAD_START"

# ---- phase 1: bundled database ---------------------------------------------

CUR_DB=bundled
[ "$CEIL_SECONDS" != 0 ] && CEIL_FIRST=(--ceiling-first "${CEIL_DIR[$USMALL]}"
    --ceiling-first "${CEIL_DIR[$UBIG]}" --seconds "$CEIL_SECONDS")
start_scand scand-bundled "$REPO/databases" $((BUNDLED_LOAD_TIMEOUT + 3 * CEIL_SECONDS)) "${CEIL_FIRST[@]}" ||
    die "sekisho-scand with databases/ did not start"
ceiling_from_scand bundled scand-bundled
BUNDLED_SOCK=$SCAND_SOCK
note "scand (bundled databases/) listening after ${SCAND_LOAD}s"
# The ceiling first, while nothing else runs (it loads its own engine).
ceiling bundled "$REPO/databases"
start_gateway off no "$BUNDLED_SOCK"
start_gateway bundled yes "$BUNDLED_SOCK"
if [ -z "$SQUID_STATE" ]; then
    if start_squid_stack squidb "$REPO/databases" $BUNDLED_LOAD_TIMEOUT; then
        note "squid + c-icap + clamd (bundled databases/) up; clamd loaded in ${CLAMD_LOAD[squidb]}s"
    else
        SQUID_STATE="left out: $SQUID_FAIL"
        note "$SQUID_STATE"
    fi
fi
if [ -z "$HAPROXY_STATE" ]; then
    if start_haproxy; then
        note "haproxy $(haproxy -v | head -n 1 | awk '{print $3}') up"
    else
        note "$HAPROXY_STATE"
    fi
fi
for t in off haproxy bundled squidb; do
    [ -n "${T_PORT[$t]:-}" ] && check $t
done

run_cells "direct off haproxy bundled squidb"

# CONNECT: direct, through Sekisho (scanning off; tunnels are never scanned)
# and through squid.
tunnel direct
tunnel off
[ -n "${T_PORT[squidb]:-}" ] && tunnel squidb

stop_gateway off
stop_gateway bundled
[ -n "${T_PORT[haproxy]:-}" ] && stop_pid "${T_SRV[haproxy]}" TERM
[ -n "${T_PORT[squidb]:-}" ] && stop_squid_stack squidb

# ---- idle connections ------------------------------------------------------

start_gateway idle yes "$BUNDLED_SOCK"
note "idle test: $IDLE_CONNS connections"
IDLE_OUT=$(python3 "$REPO/bench/idle_rss.py" --port "${T_PORT[idle]}" --master "${GW_PID[idle]}" \
    --count "$IDLE_CONNS" --warmup-url "http://$ORIGIN/$SMALL" --timeout $IDLE_ACCEPT_TIMEOUT 2>&1)
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
            NOTES+=("bench/gen-fulldb.py failed: full-scale database left out")
        fi
    fi
    chmod -R a+rX "$FULLDB" 2>/dev/null
    if [ -f "$FULLDB/eicar.ndb" ]; then
        note "starting scand with the full-scale database (bounded ${FULL_LOAD_TIMEOUT}s)"
        CUR_DB=full
        if start_scand scand-full "$FULLDB" $((FULL_LOAD_TIMEOUT + 3 * CEIL_SECONDS)) "${CEIL_FIRST[@]}"; then
            ceiling_from_scand full scand-full
            FULL_STATE="scand loaded it in ${SCAND_LOAD}s ($(grep -o 'loaded [0-9]* signatures' "$RUN/scand-full.out"))"
            note "$FULL_STATE"
            ceiling full "$FULLDB"
            start_gateway full yes "$SCAND_SOCK"
            check full
            start_gateway fullnc yes "$SCAND_SOCK" verdict_cache=no
            check fullnc
            if [ -z "$SQUID_STATE" ]; then
                note "starting clamd with the full-scale database (bounded ${FULL_LOAD_TIMEOUT}s)"
                if start_squid_stack squidf "$FULLDB" "$FULL_LOAD_TIMEOUT"; then
                    FULL_STATE+="; clamd loaded it in ${CLAMD_LOAD[squidf]}s ($(grep -o 'Loaded [0-9]* signatures' "$RUN/squidf/clamd.log" | tail -n 1))"
                    check squidf
                else
                    NOTES+=("Squid + c-icap with the full-scale database left out: $SQUID_FAIL")
                fi
            fi
            run_cells "full fullnc squidf"
            stop_gateway full
            stop_gateway fullnc
            [ -n "${T_PORT[squidf]:-}" ] && stop_squid_stack squidf
        else
            FULL_STATE="scand did not load it within ${FULL_LOAD_TIMEOUT}s"
            NOTES+=("full-scale database: $FULL_STATE")
        fi
    fi
fi

# ---- report ----------------------------------------------------------------

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ORDER="direct off haproxy bundled full fullnc squidb squidf"
fmt='%-52s %7s %8s %8s %8s %8s %7s %7s %7s %7s %5s %7s  %-10s %s\n'

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "n/a" }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "n/a" }'; }

# ceil_pct KEY - percent of the scan ceiling of a scanned cell ("" for
# unscanned targets), "*" appended on repeated content (cache-assisted).
ceil_pct() {
    local t obj ceil
    IFS='|' read -r t _ obj _ <<<"$1"
    [ -n "${T_SCAN[$t]:-}" ] || return
    ceil=${CEIL_CELL[$1]:-${CEIL[${T_DB[$t]}|${OBJ_CEIL[$obj]}]:-}}
    printf '%s%s' "$(pct "${RPS[$1]:-}" "$ceil")" "$([ "${OBJ_CONTENT[$obj]}" = repeated ] && echo '*')"
}

table() {
    local obj=$1 clients=$2 c t conn key what
    echo
    if [ "${OBJ_CONTENT[$obj]}" = unique ]; then
        what="unique bodies (${POOL_COUNT[$obj]}-file pool, no body requested twice by a scanned cell)"
    else
        what="repeated object (the same body on every request: scans are cache hits)"
    fi
    echo "== ${OBJ_LABEL[$obj]} (${OBJ_SIZE[$obj]} bytes), $what: wrk --latency, ${CELL_SECONDS}s per cell"
    # shellcheck disable=SC2059 # the format is ours
    printf "$fmt" setup clients req/s MB/s "p50 ms" "p99 ms" "srv us" "icap us" "scan us" "sum us" cpus "ceil %" errors \
        "$([ "${OBJ_CONTENT[$obj]}" = unique ] && echo bodies)"
    for c in $clients; do
        for t in $ORDER; do
            for conn in ka close; do
                key="$t|$conn|$obj|$c"
                [ -n "${RPS[$key]:-}" ] || continue
                # shellcheck disable=SC2059
                printf "$fmt" "${LABEL[$t]}, $([ $conn = ka ] && echo keep-alive || echo Connection: close)" "$c" \
                    "${RPS[$key]}" "${MBS[$key]:--}" "${P50[$key]:--}" "${P99[$key]:--}" "${CPU[$key]:--}" \
                    "${ICPU[$key]:--}" "${SCPU[$key]:--}" "${TCPU[$key]:--}" "${BUSY[$key]:--}" \
                    "$(ceil_pct "$key")" "${ERR[$key]:--}" "${POOLINFO[$key]:-}"
            done
        done
        echo
    done
}

echo
echo "Columns: MB/s = 10^6 bytes/s of responses incl. headers; latency excludes connect; CPU per request:"
echo "srv = nginx (direct), Sekisho master+workers, HAProxy, or squid; icap = c-icap; scan = sekisho-scand or"
echo "clamd; sum = srv+icap+scan (nginx not included for proxied rows); cpus = CPUs busy on the whole machine"
echo "during the cell (wrk and nginx included); ceil % = req/s / the scan ceiling's scans/s (same database and"
echo "size; for Sekisho on unique content: its scand's bare loop right before and after the cell, see below;"
echo "* = repeated content, cache-assisted, not a like-for-like figure); errors = connect/read/write/"
echo "timeout/non-2xx; bodies (unique): distinct bodies handed out, 'wrapped Nx' (an unscanned target went"
echo "through its share of the pool N times), 'RAN OUT' (a scanned cell used up the pool early: see Notes)."
for mode in $CONTENT; do
    if [ "$mode" = repeated ]; then
        table $SMALL "$CLIENTS"
        [ -n "$BIG_CLIENTS" ] && table $BIG "$BIG_CLIENTS"
    else
        table $USMALL "$UNIQUE_CLIENTS"
        [ -n "$UNIQUE_BIG_CLIENTS" ] && table $UBIG "$UNIQUE_BIG_CLIENTS"
    fi
done

echo "== Scan ceiling: path bare, $SCAND_THREADS threads (as the gateways' scand), ${CEIL_SECONDS}s, in the gateways' sekisho-scand"
echo "   before it served (--ceiling-first) and in a process of its own (--ceiling); the higher is the run's yardstick"
echo "   (Squid's cells; Sekisho's unique cells have their own, in the next table),"
echo "   random files ($CEIL_23K of 23 KiB, $CEIL_1M of 1 MiB), a fresh head per scan (no cache hit)"
if [ "$CEIL_SECONDS" = 0 ]; then
    echo "not measured (BENCH_CEILING_SECONDS=0)"
else
    for db in bundled full; do
        for u in $USMALL $UBIG; do
            [ -n "${CEIL_LINE[$db|$u]:-}" ] && printf '%-8s %-7s %s\n' "$db" "${OBJ_LABEL[$u]}" "${CEIL_LINE[$db|$u]}"
            [ -n "${CEIL_SEP_LINE[$db|$u]:-}" ] && [ "${CEIL_SEP_LINE[$db|$u]}" != "${CEIL_LINE[$db|$u]#(own process, the higher) }" ] &&
                printf '%-8s %-7s %s\n' "$db" "${OBJ_LABEL[$u]}" "${CEIL_SEP_LINE[$db|$u]}"
        done
    done
fi

if [ ${#BRACKET[@]} -gt 0 ]; then
    echo
    echo "== The yardstick of Sekisho's scanned unique cells: its scand's own bare loop right before and right after"
    echo "   the cell (SIGUSR2, ${CEIL_SECONDS}s each; an \"after\" serves as the next cell's \"before\"); ceil % above = req/s /"
    echo "   their mean; \"run's\" = req/s / the run's ceiling (the higher of the two above)"
    printf '%-45s %7s %9s %9s %9s %7s %7s\n' cell req/s before/s after/s mean/s "ceil %" "run's"
    for key in "${KEYS[@]}"; do
        [ -n "${BRACKET[$key]:-}" ] || continue
        IFS='|' read -r t conn obj c <<<"$key"
        read -r b0 b1 <<<"${BRACKET[$key]}"
        printf '%-45s %7s %9s %9s %9s %7s %7s\n' "${LABEL[$t]}, $conn, ${OBJ_LABEL[$obj]}, $c" "${RPS[$key]:-n/a}" \
            "$b0" "$b1" "${CEIL_CELL[$key]:--}" "$(ceil_pct "$key")" "$(pct "${RPS[$key]:-}" "${CEIL[${T_DB[$t]}|${OBJ_CEIL[$obj]}]:-}")"
    done
fi

echo
echo "== Checks before measuring (one GET of each object through each proxy, compared with the file)"
for t in off haproxy bundled full fullnc squidb squidf; do
    [ -n "${CHECK[$t]:-}" ] && printf '%-30s %s\n' "${LABEL[$t]}:" "${CHECK[$t]}"
done
echo "full-scale database: $FULL_STATE"
[ -n "$SQUID_STATE" ] && echo "Squid + c-icap: $SQUID_STATE"
[ -n "$HAPROXY_STATE" ] && echo "HAProxy: $HAPROXY_STATE"

if [ "$ORIGIN_LOG" = 1 ]; then
    echo
    echo "== Unique content, origin's view (BENCH_ORIGIN_LOG=1: nginx's access log, 200 answers of pool files)"
    for key in "${KEYS[@]}"; do
        [ -n "${ORIGINCHK[$key]:-}" ] && printf '%-44s %s\n' "$key:" "${ORIGINCHK[$key]}"
    done
    # Per scanner: the heads (nonces) of every body it was handed over the
    # run; a head seen twice is a body scanned twice.
    for scan in "${!SERVED_TO[@]}"; do
        f=$RUN/served-$scan.txt
        n=$(wc -l <"$f")
        d=$(sort -u "$f" | wc -l)
        printf 'scanner %s (%s): %s bodies, %s distinct, %s repeated\n' "${PID_NAME[$scan]:-$scan}" \
            "${SERVED_TO[$scan]}" "$n" "$d" "$((n - d))"
        [ "$n" != "$d" ] && NOTES+=("unique content: scanner ${PID_NAME[$scan]:-$scan} was handed $((n - d)) body(ies) more than once")
    done
fi

echo
echo "== CONNECT tunnel: GET of a $CONNECT_MB MiB file from nginx (curl; --proxytunnel through a proxy)"
printf '%-32s %16s %22s %14s\n' path "1 stream MB/s" "$CONNECT_STREAMS streams MB/s (sum)" "srv CPU s/GB"
for t in direct off squidb; do
    [ -n "${TUNSTATE[$t]:-}" ] || continue
    if [ "${TUNSTATE[$t]}" = ok ]; then
        printf '%-32s %16s %22s %14s\n' "${TUNLABEL[$t]}" \
            "${TUN1[$t]}" "${TUNN[$t]}" "${TUNCPU[$t]}"
    else
        printf '%-32s %s\n' "${TUNLABEL[$t]}" "${TUNSTATE[$t]}"
    fi
done
echo "(1 stream: median of $CONNECT_RUNS downloads; srv CPU = nginx for direct, the proxy otherwise)"

echo
echo "== Memory per idle client connection ($IDLE_CONNS connections, no request sent; master + workers)"
grep -v '^IDLE ' <<<"$IDLE_OUT"

# scan_line LABEL SEKISHO SQUID OBJ CLIENTS - one summary line: Sekisho's
# and Squid + c-icap's req/s, percent of ceiling, CPUs busy, ratio, for
# keep-alive and for close.
scan_line() {
    local label=$1 sek=$2 sq=$3 obj=$4 c=$5 conn out="" a b
    for conn in ka close; do
        a="$sek|$conn|$obj|$c" b="$sq|$conn|$obj|$c"
        [ -n "${RPS[$a]:-}${RPS[$b]:-}" ] || continue
        out+="$([ $conn = ka ] && echo keep-alive || echo close): Sekisho ${RPS[$a]:-n/a} ($(ceil_pct "$a") of ceiling, ${BUSY[$a]:--} CPUs)"
        [ -n "${RPS[$b]:-}" ] &&
            out+=" vs Squid+c-icap ${RPS[$b]} ($(ceil_pct "$b") of ceiling) = $(times "${RPS[$a]:-}" "${RPS[$b]}")"
        out+="; "
    done
    [ -n "$out" ] && printf '%s, %4s clients: %s\n' "$label" "$c" "${out%; }"
}

# relay_line OBJ CLIENTS - scanning off / HAProxy, keep-alive and close.
relay_line() {
    local obj=$1 c=$2
    [ -n "${RPS[off|ka|$obj|$c]:-}${RPS[haproxy|ka|$obj|$c]:-}" ] || return
    printf 'scanning off / HAProxy, %s %s, %4s clients: keep-alive %s (%s / %s req/s, CPU %s / %s us), close %s (%s / %s req/s, CPU %s / %s us) (target >= 100%%)\n' \
        "${OBJ_LABEL[$obj]}" "${OBJ_CONTENT[$obj]}" "$c" \
        "$(pct "${RPS[off|ka|$obj|$c]:-}" "${RPS[haproxy|ka|$obj|$c]:-}")" "${RPS[off|ka|$obj|$c]:-n/a}" "${RPS[haproxy|ka|$obj|$c]:-n/a}" \
        "${CPU[off|ka|$obj|$c]:--}" "${CPU[haproxy|ka|$obj|$c]:--}" \
        "$(pct "${RPS[off|close|$obj|$c]:-}" "${RPS[haproxy|close|$obj|$c]:-}")" "${RPS[off|close|$obj|$c]:-n/a}" "${RPS[haproxy|close|$obj|$c]:-n/a}" \
        "${CPU[off|close|$obj|$c]:--}" "${CPU[haproxy|close|$obj|$c]:--}"
}

if has_mode unique; then
    echo
    echo "== Summary: unique content (no body requested twice by a scanned cell: no cache can hit; issue 17)"
    per_s() { if [ -n "$1" ]; then echo "$1/s"; else echo n/a; fi; }
    printf 'scan ceiling (bare libclamav, %s threads): bundled db 23 KiB %s, 1 MiB %s; full-scale db 23 KiB %s, 1 MiB %s\n' \
        $SCAND_THREADS "$(per_s "${CEIL[bundled|$USMALL]:-}")" "$(per_s "${CEIL[bundled|$UBIG]:-}")" \
        "$(per_s "${CEIL[full|$USMALL]:-}")" "$(per_s "${CEIL[full|$UBIG]:-}")"
    for c in $UNIQUE_CLIENTS; do scan_line "bundled db, 23 KiB" bundled squidb $USMALL "$c"; done
    for c in $UNIQUE_BIG_CLIENTS; do scan_line "bundled db, 1 MiB" bundled squidb $UBIG "$c"; done
    for c in $UNIQUE_CLIENTS; do scan_line "full-scale db, 23 KiB" full squidf $USMALL "$c"; done
    for c in $UNIQUE_BIG_CLIENTS; do scan_line "full-scale db, 1 MiB" full squidf $UBIG "$c"; done
    # On unique content the verdict cache never hits: this pair is its
    # cost on a miss.
    for c in $UNIQUE_CLIENTS; do
        [ -n "${RPS[fullnc|ka|$USMALL|$c]:-}" ] || continue
        printf '  (full-scale db, 23 KiB, %4s clients, without the verdict cache: keep-alive %s (%s of ceiling, scan %s us, srv %s us), close %s (%s); with it: srv %s / %s us)\n' "$c" \
            "${RPS[fullnc|ka|$USMALL|$c]}" "$(ceil_pct "fullnc|ka|$USMALL|$c")" "${SCPU[fullnc|ka|$USMALL|$c]:--}" "${CPU[fullnc|ka|$USMALL|$c]:--}" \
            "${RPS[fullnc|close|$USMALL|$c]:-n/a}" "$(ceil_pct "fullnc|close|$USMALL|$c")" \
            "${CPU[full|ka|$USMALL|$c]:--}" "${CPU[full|close|$USMALL|$c]:--}"
    done
    for c in $UNIQUE_CLIENTS; do relay_line $USMALL "$c"; done
    for c in $UNIQUE_BIG_CLIENTS; do relay_line $UBIG "$c"; done
    echo "targets (issue 17): full-scale db, 23 KiB and 1 MiB: Sekisho >= 95% of the ceiling; bundled db, 23 KiB: >= 3x Squid+c-icap"
    echo "with both CPUs busy; scanning off >= 100% of HAProxy, keep-alive and close"
fi

k() { echo "$1|$2|$SMALL|$3"; }

echo
if has_mode repeated; then
    echo "== Summary: repeated content (cache-assisted; targets of issue 3; 23 KiB objects unless said)"
    for conn in close ka; do
        cl=$([ $conn = ka ] && echo keep-alive || echo "Connection: close")
        printf 'scanning on, full-scale db, 100 clients, %s: Sekisho %s req/s, Squid+c-icap %s req/s = %s (target >= 3x)\n' \
            "$cl" "${RPS[$(k full $conn 100)]:-n/a}" "${RPS[$(k squidf $conn 100)]:-n/a}" \
            "$(times "${RPS[$(k full $conn 100)]:-}" "${RPS[$(k squidf $conn 100)]:-}")"
    done
    for conn in close ka; do
        cl=$([ $conn = ka ] && echo keep-alive || echo "Connection: close")
        printf '  (without the verdict cache, full-scale db, 100 clients, %s: Sekisho %s, Squid+c-icap %s = %s)\n' "$cl" \
            "${RPS[$(k fullnc $conn 100)]:-n/a}" "${RPS[$(k squidf $conn 100)]:-n/a}" \
            "$(times "${RPS[$(k fullnc $conn 100)]:-}" "${RPS[$(k squidf $conn 100)]:-}")"
    done
    for conn in close ka; do
        cl=$([ $conn = ka ] && echo keep-alive || echo "Connection: close")
        printf '  (bundled db, 100 clients, %s: Sekisho %s, Squid+c-icap %s = %s)\n' "$cl" \
            "${RPS[$(k bundled $conn 100)]:-n/a}" "${RPS[$(k squidb $conn 100)]:-n/a}" \
            "$(times "${RPS[$(k bundled $conn 100)]:-}" "${RPS[$(k squidb $conn 100)]:-}")"
    done
    for c in $BIG_CLIENTS; do
        printf '  (full-scale db, 1 MiB, %4s clients: Sekisho/Squid+c-icap %s with Connection: close, %s with keep-alive)\n' "$c" \
            "$(times "${RPS[full|close|$BIG|$c]:-}" "${RPS[squidf|close|$BIG|$c]:-}")" \
            "$(times "${RPS[full|ka|$BIG|$c]:-}" "${RPS[squidf|ka|$BIG|$c]:-}")"
    done
    for c in $CLIENTS; do
        printf 'scanning off vs direct at %4s clients: Connection: close %s, keep-alive %s (target >= 80%%)\n' "$c" \
            "$(pct "${RPS[$(k off close "$c")]:-}" "${RPS[$(k direct close "$c")]:-}")" \
            "$(pct "${RPS[$(k off ka "$c")]:-}" "${RPS[$(k direct ka "$c")]:-}")"
    done
    for c in $BIG_CLIENTS; do
        printf '  (1 MiB at %4s clients: Connection: close %s, keep-alive %s)\n' "$c" \
            "$(pct "${RPS[off|close|$BIG|$c]:-}" "${RPS[direct|close|$BIG|$c]:-}")" \
            "$(pct "${RPS[off|ka|$BIG|$c]:-}" "${RPS[direct|ka|$BIG|$c]:-}")"
    done
    for c in $CLIENTS; do
        for conn in close ka; do
            # Without the verdict cache: every request is scanned, so this is
            # the proxy's cost against the scan's.
            printf 'proxy CPU vs scan CPU per request, full-scale db, no verdict cache, %4s clients, %-10s Sekisho %s/%s us = %s' \
                "$c" "$([ $conn = ka ] && echo keep-alive: || echo close:)" \
                "${CPU[$(k fullnc $conn "$c")]:--}" "${SCPU[$(k fullnc $conn "$c")]:--}" \
                "$(pct "${CPU[$(k fullnc $conn "$c")]:-}" "${SCPU[$(k fullnc $conn "$c")]:-}")"
            printf ' (target <= 10%%)  [Squid+c-icap: %s+%s/%s us]\n' "${CPU[$(k squidf $conn "$c")]:--}" \
                "${ICPU[$(k squidf $conn "$c")]:--}" "${SCPU[$(k squidf $conn "$c")]:--}"
        done
    done
    for c in $CLIENTS; do relay_line $SMALL "$c"; done
    for c in $BIG_CLIENTS; do relay_line $BIG "$c"; done
    echo
fi
echo "== Common to both modes"
if [ "${TUNSTATE[off]:-}" = ok ] && [ "${TUNSTATE[direct]:-}" = ok ]; then
    printf 'CONNECT tunnel vs direct: 1 stream %s, %s streams %s (target >= 90%%)\n' \
        "$(pct "${TUN1[off]}" "${TUN1[direct]}")" "$CONNECT_STREAMS" "$(pct "${TUNN[off]}" "${TUNN[direct]}")"
else
    echo "CONNECT tunnel vs direct: ${TUNSTATE[off]:-not run} (target >= 90%)"
fi
if [ "${TUNSTATE[squidb]:-}" = ok ] && [ "${TUNSTATE[direct]:-}" = ok ]; then
    printf '  (squid tunnel vs direct: 1 stream %s, %s streams %s)\n' \
        "$(pct "${TUN1[squidb]}" "${TUN1[direct]}")" "$CONNECT_STREAMS" "$(pct "${TUNN[squidb]}" "${TUNN[direct]}")"
fi
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
for t in squidb squidf; do
    f=$RUN/$t/c-icap-server.log
    [ -f "$f" ] || continue
    n=$(grep -c 'Not enough available servers' "$f")
    [ "$n" -gt 0 ] && NOTES+=("c-icap ($t) logged 'Not enough available servers' $n time(s) (MaxServers 10 x ThreadsPerChild 10)")
done
if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    echo "== Notes"
    printf -- '- %s\n' "${NOTES[@]}"
fi
exit 0
