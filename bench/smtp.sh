#!/usr/bin/env bash
# smtp.sh - throughput, latency and CPU figures of the Sekisho SMTP proxy,
# against direct delivery to a sink, HAProxy relaying to it, clamsmtp +
# clamd, and the scan ceiling of libclamav.
#
#   bench/smtp.sh                  (as root on Debian 12, after `make`)
#
# Compiles its load generator (bench/smtpload.c) into the run directory and
# starts its own postfix smtp-sink (the final destination of every mail; it
# counts, it writes nothing to disk), sekisho-scand (bundled databases/, then
# the synthetic full-scale database of bench/gen-fulldb.py) and sekisho
# --smtp gateways (virus_check=yes, action=deny, parent = the sink); and, for
# each of the two databases, a comparison stack of clamd (same database
# directory) and clamsmtpd (Debian's clamsmtp) in front of the same sink.
# The relay anchors (issue 17; left out with BENCH_SKIP_HAPROXY=1): a
# Sekisho gateway relaying without scanning (virus_check=no, otherwise as
# the scanning ones) and Debian's HAProxy (2.6, installed like the
# comparison packages, no service started) in the foreground (haproxy -db),
# mode tcp, nbthread = CPUs, one frontend on 127.0.0.1 relaying every
# connection to the sink, no log (a TCP relay has no SMTP-level record to
# write; Sekisho's gateways write their access log all the same). All of it
# runs as child processes on 127.0.0.1, on ports picked at run time,
# configured in the run directory; no system service is started or used.
#
# Every mail is unique (about 81 KB: a text/plain part and a 58,800-byte
# application/octet-stream attachment, base64, new Message-ID), so no cache
# (libclamav's, clamd's, Sekisho's verdict cache) makes a repeated mail
# free. Guaranteed, not left to chance: the proxy scans the decoded
# attachment (the text/plain part is not scanned, virus_check_text=no), and
# the attachment's first 16 bytes are a stamp, the rest fresh pseudo-random
# bytes: bench/smtpload -u gives it this script's count of smtpload runs
# (every cell and check mail is a run of its own) and the mail's number
# within that run, so no two attachments sent in one run of this script are
# equal (across gateways, databases and cells). There is no repeated-mail
# mode. It prints, for 1/10/50 concurrent senders, one mail per connection
# and many mails per connection (no RSET): mails/s, MB/s (10^6 bytes of
# message data/s), p50/p99 latency, failed mails, CPU per mail of the
# proxy, the scanner, the sink and the load generator, and for the
# scanning rows the percent of the scan ceiling: smtp-sink direct, HAProxy,
# Sekisho scanning off, Sekisho (both databases), clamsmtp + clamd (both
# databases); then a summary against the targets of the issues.
# The scan ceiling (bench/ceiling.sh): a bare libclamav loop (path bare,
# the daemon's options, every scan of content no cache has seen) with the
# database and the scanner threads of the gateways' scand, on
# BENCH_CEILING_FILES random files of the attachment's decoded size, for
# BENCH_CEILING_SECONDS, measured by the gateways' scand on its own engine
# before it serves (--ceiling-first) and, after the cells of each database,
# by `sekisho-scand --ceiling` in a process of its own; the higher of the
# two is the run's yardstick; a scanned cell's "% of ceiling" = its mails/s
# (one scanned attachment each) / the ceiling's scans/s. The scanning rows
# of Sekisho (bundled, full) have their own yardstick: their scand's bare
# loop measured again right before and right after the cell (SIGUSR2,
# scand_remeasure in bench/procs.sh), the mean of the two.
# Before measuring a scanning stack, an EICAR mail (base64 attachment) must
# not reach the sink and a clean mail must; through a relay (HAProxy,
# Sekisho scanning off) a clean mail must; what each answered is printed.
# Spam rows (issue 14; left out with BENCH_SKIP_SPAM=1): in the same run, with
# the same scand (bundled databases/), load and senders as the Sekisho row
# with spam checks off (spam_check=no, the "bundled db" row), gateways with
# spam_check=yes spam_action=pass and
#   - RBL+SURBL (spam_rbl, spam_surbl; lists rbl.bench and surbl.bench) on an
#     unbound started here (bench/spam_servers.py, through the test harness
#     tests/integration/harness/unbound.py: static local zones, NXDOMAIN with
#     a 300 s negative TTL, no recursion); every mail carries a Received:
#     address (198.18.0.0/15, outside the default spam_rbl_pass) and a URL:
#       cached:   the same address and URL domain in every mail (not listed),
#                 so after a worker's first mail every lookup is a cache hit;
#       uncached: a fresh address and URL domain in every mail (also across
#                 cells), so every lookup goes to unbound;
#   - the spam engine (spam_commtouch=yes): an rspamd started here
#     (bench/spam_servers.py, through tests/integration/harness/rspamd.py:
#     the tests' configuration, one normal worker, offline, its resolver the
#     unbound above); every mail unique (and with a fresh Received:/URL).
# Before measuring them, one listed mail (the Received: address rbl.bench
# lists; a URL domain surbl.bench lists; GTUBE for rspamd) must be delivered
# and recorded as DETECT-STAT:SPAM in the gateway's access log, and a clean
# mail must not; what was seen is printed, and a row whose check failed is
# left out. The spam table adds to mails/s and p50/p99 the ADDED latency
# and proxy CPU per mail against spam checks off, the CPU per mail of the
# spam server (unbound or rspamd) and the DNS queries per mail that reached
# unbound (its query log).
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
#   BENCH_SKIP_HAPROXY=1        leave out HAProxy and Sekisho scanning off
#   BENCH_CEILING_SECONDS=10    duration of each scan ceiling run
#   BENCH_CEILING_FILES=200     random files it scans round-robin
#   BENCH_SKIP_SPAM=1           leave out the spam rows
#   BENCH_SPAM_SENDERS=10       concurrent senders of the spam rows (and of
#   BENCH_SPAM_MODES=many       their spam-off baseline, measured for these
#                               too when BENCH_SENDERS/MODES lack them)
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
SKIP_HAPROXY=${BENCH_SKIP_HAPROXY:-0}
CEILING_SECONDS=${BENCH_CEILING_SECONDS:-10}
CEILING_FILES=${BENCH_CEILING_FILES:-200}
FULL_LOAD_TIMEOUT=${BENCH_SCAND_TIMEOUT:-600}
KEEP=${BENCH_KEEP:-0}
SKIP_SPAM=${BENCH_SKIP_SPAM:-0}
SPAM_SENDERS=${BENCH_SPAM_SENDERS:-10}
SPAM_MODES=${BENCH_SPAM_MODES:-many}

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
HAPROXY=/usr/sbin/haproxy
HAPROXY_START_TIMEOUT=10
HAPROXY_MAXCONN=20000 # lowered to what the descriptor limit allows (2 per connection)
SPAM_START_TIMEOUT=120 # s, unbound + rspamd (rspamd's first start on a machine compiles ~11 s)
RECORD_TIMEOUT=5       # s for a check mail's access record (written after the reply)

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
        systemctl disable --now clamsmtp clamav-daemon clamav-freshclam haproxy >/dev/null 2>&1
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
HAPROXY_STATE=
if [ "$SKIP_HAPROXY" = 1 ]; then
    HAPROXY_STATE="skipped (BENCH_SKIP_HAPROXY=1)"
elif [ ! -x $HAPROXY ]; then
    note "installing haproxy (no service is started)"
    if ! apt_install haproxy || [ ! -x $HAPROXY ]; then
        HAPROXY_STATE="left out: apt-get install haproxy failed"
        note "$HAPROXY_STATE"
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
# shellcheck source=bench/ceiling.sh
. "$REPO/bench/ceiling.sh"

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
declare -A T_PORT T_SRV T_SCAN T_SCANOUT T_GW
declare -A LABEL=(
    [direct]="smtp-sink direct"
    [bundled]="Sekisho, bundled db"
    [full]="Sekisho, full-scale db"
    [csb]="clamsmtp+clamd, bundled db"
    [csf]="clamsmtp+clamd, full-scale db"
    [rblc]="Sekisho+RBL/SURBL, cached"
    [rblu]="Sekisho+RBL/SURBL, uncached"
    [rspamd]="Sekisho+rspamd"
    [haproxy]="HAProxy (mode tcp)"
    [relay]="Sekisho, scanning off"
)
# The targets that scan each mail: the ceiling their cells are in percent of.
declare -A CEIL_OF=([bundled]=bundled [rblc]=bundled [rblu]=bundled [rspamd]=bundled
    [csb]=bundled [full]=full [csf]=full)
declare -A MODE_LABEL=([one]="1 mail/conn" [many]="many/conn")
T_PORT[direct]=$SINK_PORT
T_SRV[direct]=$SINK_PID

# ---- scand and gateways ----------------------------------------------------



# start_gateway NAME SCAND_SOCKET [SECTION] [COMMON] [SCAN] - a sekisho
# --smtp gateway scanning (virus_check=yes, action=deny: an infected mail
# gets 554; SCAN=no: virus_check=no, a relay) in front of the sink, with the
# lines of SECTION added to [smtp] and those of COMMON to [common] (the spam
# gateways); also defines target NAME.
start_gateway() {
    local name=$1 sock=$2 section=${3:-} common=${4:-} scan=${5:-yes}
    # ipv6=no: the parent is the literal 127.0.0.1 (see bench/http.sh).
    # max_sessions_per_client=0: every bench client comes from 127.0.0.1.
    gateway_start smtp "$name" "$sock" "parent_server_host=127.0.0.1
parent_server_port=$SINK_PORT
virus_check=$scan
action=deny
pre_spawn=$PRE_SPAWN
max_sessions_per_client=0
ipv6=no${section:+
$section}" "$common"
    T_PORT[$name]=$GW_PORT
    T_SRV[$name]=${GW_PID[$name]}
    [ "$scan" = yes ] && T_SCAN[$name]=$SCAND_PID && T_SCANOUT[$name]=$SCAND_OUT
    T_GW[$name]=$name
}

# ---- HAProxy ---------------------------------------------------------------

# start_haproxy - Debian's HAProxy in the foreground (-db), mode tcp,
# nbthread = CPUs, relaying every connection on a free port to the sink;
# no log (see the header). Defines target haproxy; 1 (with HAPROXY_STATE)
# when it does not listen.
start_haproxy() {
    local port dir=$RUN/haproxy maxconn
    port=$(free_port)
    maxconn=$((($(ulimit -n) - 100) / 2))
    [ $maxconn -gt $HAPROXY_MAXCONN ] && maxconn=$HAPROXY_MAXCONN
    mkdir -p "$dir"
    cat >"$dir/haproxy.cfg" <<EOF
# written by bench/smtp.sh: a plain TCP relay to smtp-sink
global
    nbthread $(nproc)
    maxconn $maxconn
defaults
    mode tcp
    timeout connect 10s
    timeout client ${IO_TIMEOUT}s
    timeout server ${IO_TIMEOUT}s
frontend smtp
    bind 127.0.0.1:$port
    default_backend sink
backend sink
    server sink 127.0.0.1:$SINK_PORT
EOF
    haproxy_run "$dir/haproxy.cfg" "$port" $HAPROXY_START_TIMEOUT "$HAPROXY" || return 1
    T_PORT[haproxy]=$port
    T_SRV[haproxy]=$HAPROXY_PID
    return 0
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
    local name=$1 db=$2 timeout=$3 dir=$RUN/$1 t0=$SECONDS clamd cs port ctmp
    mkdir -p "$dir/tmp" "$dir/spool"
    ctmp=$(scan_tmp_dir "clamd-$name") || die "cannot make a temporary directory for clamd"
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

# ---- spam servers and gateways ---------------------------------------------
# bench/spam_servers.py starts unbound and rspamd through the integration
# tests' harnesses (one configuration for tests and bench) and writes their
# ports and pids into $RUN/spam.env; it stops them on SIGTERM (and when
# this script is gone). Their pids are registered here too, so that the
# trap stops them even if the wrapper could not.
SPAM_STATE=
RSPAMD_STATE=
SPAM_SRV_PID=
RCV_NEXT=0 # the first -R unique number not sent yet (smtpload's rcv_next)

start_spam_servers() {
    local args=() envf=$RUN/spam.env
    [ -x /usr/bin/rspamd ] || args=(--no-rspamd)
    start spam-servers TERM python3 "$REPO/bench/spam_servers.py" "$RUN/spam" "$envf" "${args[@]}"
    SPAM_SRV_PID=$LAST_PID
    spam_env_ready() { [ -e "$envf" ] || ! alive "$SPAM_SRV_PID"; }
    wait_until $SPAM_START_TIMEOUT spam_env_ready
    if [ ! -e "$envf" ]; then
        SPAM_STATE="left out: bench/spam_servers.py wrote nothing in ${SPAM_START_TIMEOUT}s: $(tail -n 5 "$RUN/spam-servers.out" | tr '\n' ' ')"
        return 1
    fi
    # shellcheck source=/dev/null # written by bench/spam_servers.py
    . "$envf"
    if [ -n "${SPAM_SERVERS_ERROR:-}" ]; then
        SPAM_STATE="left out: $SPAM_SERVERS_ERROR"
        return 1
    fi
    STARTED+=("$UNBOUND_PID:TERM")
    PID_NAME[$UNBOUND_PID]=unbound
    if [ -n "${RSPAMD_PID:-}" ]; then
        STARTED+=("$RSPAMD_PID:TERM")
        PID_NAME[$RSPAMD_PID]=rspamd
    elif [ ${#args[@]} -gt 0 ]; then
        RSPAMD_STATE="left out: /usr/bin/rspamd not installed (Debian package rspamd)"
    else
        RSPAMD_STATE="left out: ${RSPAMD_ERROR:-rspamd did not start}"
    fi
    return 0
}

stop_spam_servers() {
    [ -n "$SPAM_SRV_PID" ] || return 0
    stop_pid "$SPAM_SRV_PID" TERM
    stop_pid "$UNBOUND_PID" TERM
    [ -n "${RSPAMD_PID:-}" ] && stop_pid "$RSPAMD_PID" TERM
    SPAM_SRV_PID=
}

# dns_queries - queries unbound has received (its query log, one line each).
dns_queries() {
    local n
    n=$(grep -c ' A IN$' "$UNBOUND_LOG" 2>/dev/null)
    echo "${n:-0}"
}

# The spam gateways: spam_check=yes spam_action=pass, and in [common] the
# methods. Targets rblc/rblu share gateway rbl (smtpload's -R decides
# whether its DNS cache answers), rspamd is gateway rspamd.
SPAM_SECTION="spam_check=yes
spam_action=pass"
declare -A T_LOAD T_SPAM T_DNS
start_spam_gateways() {
    start_gateway rbl "$SCAND_SOCK" "$SPAM_SECTION" "spam_rbl=yes
spam_surbl=yes
spam_rbl_list=$RBL_ZONE
spam_surbl_list=$SURBL_ZONE
spam_dns_server=127.0.0.1:$UNBOUND_PORT"
    unset 'T_PORT[rbl]' # the gateway is measured as rblc and rblu
    local t
    for t in rblc rblu; do
        T_PORT[$t]=${GW_PORT}
        T_SRV[$t]=${GW_PID[rbl]}
        T_SCAN[$t]=$SCAND_PID
        T_GW[$t]=rbl
        T_SPAM[$t]=$UNBOUND_PID
        T_DNS[$t]=1
    done
    T_LOAD[rblc]=fixed
    T_LOAD[rblu]=unique
    if [ -n "${RSPAMD_PID:-}" ]; then
        start_gateway rspamd "$SCAND_SOCK" "$SPAM_SECTION" "spam_commtouch=yes
spam_engine_server=127.0.0.1:$RSPAMD_PORT"
        T_SPAM[rspamd]=$RSPAMD_PID
        T_LOAD[rspamd]=unique
    fi
}

access_log_of() { echo "${GW_PREFIX[$1]}/log/smtp/access.log"; }
lines_of() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# spam_records GATEWAY - access records classified SPAM so far.
spam_records() {
    local n
    n=$(grep -c 'DETECT-STAT:SPAM:' "$(access_log_of "$1")" 2>/dev/null)
    echo "${n:-0}"
}

# check_spam_mail TARGET SMTPLOAD_ARGS... - one mail through TARGET; prints
# "<reply to the dot>|<mails the sink received>|<DETECT-STAT field of its
# access record>|<queries unbound received>".
check_spam_mail() {
    local t=$1 f n0 n1 a0 q0 q1=0 out reply rec
    shift
    f=$(access_log_of "${T_GW[$t]}")
    a0=$(lines_of "$f")
    n0=$(sink_count)
    q0=$(dns_queries)
    out=$(timeout $((3 * IO_TIMEOUT + 20)) "$LOAD" -p "${T_PORT[$t]}" -n 1 -v -T "$IO_TIMEOUT" \
        -s "$ATTACH_BYTES" -u "$STAMP" "$@" 2>&1)
    reply=$(sed -n 's/^SMTPREPLY //p' <<<"$out")
    [ -n "$reply" ] || reply="no answer ($(tail -n 1 <<<"$out"))"
    record_written() { [ "$(lines_of "$f")" -gt "$a0" ]; }
    wait_until $RECORD_TIMEOUT record_written
    sleep $CHECK_SETTLE
    n1=$(sink_count)
    q1=$(dns_queries)
    rec=$(tail -n +$((a0 + 1)) "$f" | grep -o 'DETECT-STAT:[^ ]*' | tail -n 1)
    echo "$reply|$((n1 - n0))|${rec:-no access record}|$((q1 - q0))"
}

# spam_expect LABEL RESULT PATTERN - one check's text for CHECK; false (and
# a note) unless the mail was answered 250, reached the sink, and its
# record matches PATTERN (grep -E).
spam_expect() {
    local what=$1 r=$2 pat=$3 reply got rec q
    IFS='|' read -r reply got rec q <<<"$r"
    SPAM_CHECK_TEXT="$what: answer '$reply', $got mail(s) at the sink, access record $rec, $q DNS queries at unbound"
    if [ "${reply:0:3}" = 250 ] && [ "$got" = 1 ] && grep -Eq "$pat" <<<"$rec"; then
        return 0
    fi
    NOTES+=("spam check failed: $SPAM_CHECK_TEXT (expected a record matching $pat)")
    return 1
}

# check_spam GATEWAY - before any cell: spam checks are really on (in the
# access record, the ':' of "<zone>:<reply>" is written %3a). Sets
# CHECK[GATEWAY]; a gateway whose check fails is left out (its targets'
# ports are removed, so no cell runs).
check_spam() {
    local gw=$1 ok=1 res=""
    esc() { # a name as a literal in an ERE: its '.', '[' and ']'
        local x=${1//./\\.}
        x=${x//[/\\[}
        echo "${x//]/\\]}"
    }
    if [ "$gw" = rbl ]; then
        next_stamp
        spam_expect "listed Received: address $RBL_LISTED" "$(check_spam_mail rblc -A "$RBL_LISTED")" \
            "^DETECT-STAT:SPAM:SEKISHO/SPAM_RBL/$(esc "$RBL_LISTED")\[$(esc "$RBL_ZONE")(:|%3a)127\.0\.0\.2\]" || ok=0
        res+="$SPAM_CHECK_TEXT; "
        next_stamp
        spam_expect "listed URL domain $SURBL_LISTED" "$(check_spam_mail rblc -D "www.$SURBL_LISTED")" \
            "^DETECT-STAT:SPAM:SEKISHO/SPAM_SURBL/$(esc "$SURBL_LISTED")\[$(esc "$SURBL_ZONE")(:|%3a)127\.0\.0\.2\]" || ok=0
        res+="$SPAM_CHECK_TEXT; "
        next_stamp
        spam_expect "fresh address + URL domain (not listed)" "$(check_spam_mail rblu -R unique -a "$RCV_NEXT")" \
            "^DETECT-STAT:CLEAN" || ok=0
        RCV_NEXT=$((RCV_NEXT + 1))
        res+="$SPAM_CHECK_TEXT"
    else
        next_stamp
        spam_expect "GTUBE" "$(check_spam_mail rspamd -G)" "^DETECT-STAT:SPAM:SEKISHO/SPAM_ENGINE/reject/" || ok=0
        res+="$SPAM_CHECK_TEXT; "
        next_stamp
        spam_expect "clean mail" "$(check_spam_mail rspamd -R unique -a "$RCV_NEXT")" "^DETECT-STAT:CLEAN" || ok=0
        RCV_NEXT=$((RCV_NEXT + 1))
        res+="$SPAM_CHECK_TEXT"
    fi
    CHECK[$gw]=$res
    if [ $ok = 0 ]; then
        local t
        for t in "${!T_GW[@]}"; do
            [ "${T_GW[$t]}" = "$gw" ] && unset "T_PORT[$t]"
        done
        NOTES+=("spam gateway '$gw' left out of the measurements: its check failed")
    fi
}

# ---- checks ----------------------------------------------------------------

# STAMP - smtpload's -u for its next run: the first 8 bytes of every
# attachment it sends (see the header). Every run takes a number of its
# own, counted here in the main shell (next_stamp) before the command
# substitution that starts it.
STAMP=0
next_stamp() { STAMP=$((STAMP + 1)); }

# check_mail TARGET [-E] - one mail (EICAR attachment with -E) through
# TARGET; prints "<reply to the dot>|<mails the sink received>".
check_mail() {
    local t=$1 n0 n1 out reply
    shift
    n0=$(sink_count)
    out=$(timeout $((3 * IO_TIMEOUT + 20)) "$LOAD" -p "${T_PORT[$t]}" -n 1 -v -T "$IO_TIMEOUT" \
        -u "$STAMP" "$@" 2>&1)
    reply=$(sed -n 's/^SMTPREPLY //p' <<<"$out")
    [ -n "$reply" ] || reply="no answer ($(tail -n 1 <<<"$out"))"
    sleep $CHECK_SETTLE
    n1=$(sink_count)
    echo "$reply|$((n1 - n0))"
}

# check TARGET - before any cell: a clean mail must reach the sink; through
# a scanning target an EICAR mail must not (Sekisho: 554 expected), through
# a relay (HAProxy, Sekisho scanning off) it must. Sets CHECK.
declare -A CHECK
check() {
    local t=$1 r reply got res=""
    if [ "$t" = haproxy ] || [ "$t" = relay ]; then
        next_stamp
        r=$(check_mail "$t" -E)
        reply=${r%|*} got=${r##*|}
        if [ "$got" = 1 ] && [ "${reply:0:3}" = 250 ]; then
            res+="EICAR delivered, not scanned (answer: $reply); "
        else
            res+="EICAR NOT DELIVERED ($got mail(s) at the sink; answer: $reply); "
            NOTES+=("check through ${LABEL[$t]}: the EICAR mail did not pass the relay (answer: $reply)")
        fi
    elif [ "$t" != direct ]; then
        next_stamp
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
    next_stamp
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

# pct A B - A in percent of B; n/a without both.
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "n/a" }'; }
declare -A MPS MBS P50 P99 FAILED CPU SCPU TCPU SINKCPU GENCPU OTHERS SPCPU QPM
NOTES=()

# cell TARGET SENDERS MODE - one smtpload run.
cell() {
    local t=$1 c=$2 mode=$3 key out line before after
    local gw=${T_GW[$t]:-} srv=${T_SRV[$t]} scan=${T_SCAN[$t]:-}
    key="$t|$mode|$c"
    out=$RUN/load-$t-$mode-$c.txt
    local c0 s0=0 k0 c1 s1=0 k1 err0=0 n0 n1 b0 b1 w0 w1
    # spam rows: smtpload's Received:/URL mode, the spam server's CPU, the
    # queries that reached unbound, the mails the gateway called spam
    local spam=${T_SPAM[$t]:-} p0=0 p1=0 q0=0 q1=0 h0=0 h1=0 extra=()
    case ${T_LOAD[$t]:-} in
    fixed) extra=(-R fixed) ;;
    unique) extra=(-R unique -a "$RCV_NEXT") ;;
    esac
    # The yardstick of the scanning rows (bundled, full): the gateway's
    # scand's own bare loop right before and right after the cell
    # (bracket_open/_close in bench/procs.sh; docs/bench.md, session 14).
    local br=()
    if [ "$CEILING_SECONDS" != 0 ] && [ -n "${T_SCANOUT[$t]:-}" ] && { [ "$t" = bundled ] || [ "$t" = full ]; }; then
        br=("${T_SCAN[$t]}" 1 "${T_SCANOUT[$t]}" "$CEIL_DIR" $((CEILING_SECONDS * 3 + 30)))
        bracket_open "${br[@]}"
    else
        bracket_none
    fi
    [ -n "$gw" ] && before=$(workers_of "${GW_PID[$gw]}") && err0=$(gw_error_lines "$gw")
    [ -n "$spam" ] && h0=$(spam_records "$gw")
    [ -n "${T_DNS[$t]:-}" ] && q0=$(dns_queries)
    n0=$(sink_count)
    c0=$(cpu_ticks "$srv")
    [ -n "$scan" ] && s0=$(cpu_ticks "$scan")
    [ -n "$spam" ] && p0=$(cpu_ticks "$spam")
    k0=$(cpu_ticks "$SINK_PID")
    b0=$(busy_ticks)
    w0=$(date +%s.%N)
    note "$t, $mode, $c senders, ${CELL_SECONDS}s"
    next_stamp
    timeout $((CELL_SECONDS + 3 * IO_TIMEOUT + 30)) \
        "$LOAD" -p "${T_PORT[$t]}" -c "$c" -m "$mode" -t "$CELL_SECONDS" -w "$WARMUP" -T "$IO_TIMEOUT" \
        -s "$ATTACH_BYTES" -u "$STAMP" "${extra[@]}" >"$out" 2>&1
    c1=$(cpu_ticks "$srv")
    [ -n "$scan" ] && s1=$(cpu_ticks "$scan")
    [ -n "$spam" ] && p1=$(cpu_ticks "$spam")
    k1=$(cpu_ticks "$SINK_PID")
    b1=$(busy_ticks)
    w1=$(date +%s.%N)
    sleep 0.2 # the sink's counter after the last QUIT
    n1=$(sink_count)
    [ -n "${T_DNS[$t]:-}" ] && q1=$(dns_queries)
    [ -n "$spam" ] && h1=$(spam_records "$gw")
    line=$(grep '^SMTPLOAD ' "$out")
    if [ "${T_LOAD[$t]:-}" = unique ]; then
        local next
        next=$(field rcv_next "$line")
        # No result line: skip far ahead rather than reuse a number.
        RCV_NEXT=${next:-$((RCV_NEXT + 1000000))}
    fi
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
        local ours=$((c1 - c0 + s1 - s0 + p1 - p0))
        [ "$t" != direct ] && ours=$((ours + k1 - k0))
        OTHERS[$key]=$(awk -v b=$((b1 - b0)) -v o="$ours" -v g="$(field gen_cpu_s "$line")" \
            -v hz="$CLK_TCK" -v a="$w0" -v z="$w1" \
            'BEGIN { v = ((b - o) / hz - g) / (z - a); printf "%.2f", v < 0 ? 0 : v }')
        if [ "$t" = direct ]; then
            CPU[$key]=$(us_per $((c1 - c0)) "$delivered")
            TCPU[$key]=${CPU[$key]}
        else
            CPU[$key]=$(us_per $((c1 - c0)) "$delivered")
            [ -n "$scan" ] && SCPU[$key]=$(us_per $((s1 - s0)) "$delivered")
            TCPU[$key]=$(us_per $((c1 - c0 + s1 - s0)) "$delivered")
            SINKCPU[$key]=$(us_per $((k1 - k0)) "$delivered")
        fi
        if [ -n "$spam" ]; then
            SPCPU[$key]=$(us_per $((p1 - p0)) "$delivered")
            [ -n "${T_DNS[$t]:-}" ] && QPM[$key]=$(awk -v q=$((q1 - q0)) -v n="$delivered" \
                'BEGIN { if (n > 0) printf "%.2f", q / n; else printf "-" }')
            if [ "$h1" != "$h0" ]; then
                NOTES+=("${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders: $((h1 - h0)) mail(s) recorded as spam (none expected)")
            fi
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
    [ ${#br[@]} -gt 0 ] && bracket_close "$key" "${LABEL[$t]}, ${MODE_LABEL[$mode]}, $c senders" "${br[@]}"
    sleep $CELL_PAUSE
}

in_list() {
    local x=$1 y
    shift
    for y in "$@"; do [ "$x" = "$y" ] && return 0; done
    return 1
}

# wants TARGET SENDERS MODE - is this cell measured? The spam rows have
# their own senders and modes; the spam-off baseline (bundled) runs for
# those too.
SPAM_ON=0
wants() {
    local t=$1 c=$2 mode=$3
    local -a s m ss sm
    read -ra s <<<"$SENDERS"
    read -ra m <<<"$MODES"
    read -ra ss <<<"$SPAM_SENDERS"
    read -ra sm <<<"$SPAM_MODES"
    case $t in
    rblc | rblu | rspamd) in_list "$c" "${ss[@]}" && in_list "$mode" "${sm[@]}" ;;
    bundled)
        { in_list "$c" "${s[@]}" && in_list "$mode" "${m[@]}"; } ||
            { [ $SPAM_ON = 1 ] && in_list "$c" "${ss[@]}" && in_list "$mode" "${sm[@]}"; }
        ;;
    *) in_list "$c" "${s[@]}" && in_list "$mode" "${m[@]}" ;;
    esac
}

# The sender counts and modes of any row, in order.
all_senders() { echo "$SENDERS $SPAM_SENDERS" | tr -s ' ' '\n' | sed '/^$/d' | sort -n -u | tr '\n' ' '; }
all_modes() {
    local mode
    for mode in one many; do
        grep -qw "$mode" <<<"$MODES $SPAM_MODES" && printf '%s ' $mode
    done
}

# run_cells TARGETS - every sender count and mode, interleaved.
run_cells() {
    local targets=$1 c t mode
    for c in $(all_senders); do
        for t in $targets; do
            [ -n "${T_PORT[$t]:-}" ] || continue
            for mode in $(all_modes); do
                wants "$t" "$c" "$mode" && cell "$t" "$c" "$mode"
            done
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
if [ "$SKIP_HAPROXY" != 1 ]; then
    echo "relay:       Sekisho virus_check=no and HAProxy $(dpkg-query -W -f '${Version}' haproxy 2>/dev/null || echo '?') (mode tcp, nbthread $(nproc), no log) in front of the sink${HAPROXY_STATE:+ (HAProxy $HAPROXY_STATE)}"
fi
echo "setup:       unique mails of ${MSG_SIZE:-?} bytes (text/plain + ${ATTACH_BYTES}-byte random attachment, base64); ${CELL_SECONDS}s per cell (${WARMUP}s warm-up);"
echo "             bench/smtpload: one thread per sender, reply timeout ${IO_TIMEOUT}s; smtp-sink -c, backlog $SINK_BACKLOG, nothing written;"
echo "             Sekisho $WORKERS workers, pre_spawn=$PRE_SPAWN, virus_check=yes, action=deny, ipv6=no; scand 2 threads;"
echo "             clamsmtpd defaults (MaxConnections 64, listen backlog 5, Action drop); clamd MaxThreads 12"
if [ "$SKIP_SPAM" != 1 ]; then
    echo "spam rows:   $SPAM_SENDERS senders, modes $SPAM_MODES (BENCH_SPAM_SENDERS/MODES); the same gateway settings plus"
    echo "             spam_check=yes spam_action=pass; unbound $(dpkg-query -W -f '${Version}' unbound 2>/dev/null),"
    echo "             rspamd $(dpkg-query -W -f '${Version}' rspamd 2>/dev/null) (1 normal worker, the tests' configuration)"
fi
echo "load average at start: $LOAD_START"

# ---- phase 1: bundled database ---------------------------------------------

check direct
# The scan ceiling's files: random files of the attachment's decoded size
# (what the proxy hands to scand per mail). Each scand measures the ceiling
# on them before it serves (--ceiling-first); after the cells of each
# database, a process of its own measures it again (KEY-own); the higher is
# the yardstick (ceiling_higher).
CEIL_DIR=$RUN/ceiling-files
ceiling_files "$CEIL_DIR" "$CEILING_FILES" "$ATTACH_BYTES" || die "cannot write the ceiling's files into $CEIL_DIR"
CEIL_FIRST=(--ceiling-first "$CEIL_DIR" --seconds "$CEILING_SECONDS")
start_scand scand-bundled "$REPO/databases" $((BUNDLED_LOAD_TIMEOUT + 2 * CEILING_SECONDS)) "${CEIL_FIRST[@]}" ||
    die "sekisho-scand with databases/ did not start"
ceiling_in_scand bundled scand-bundled "$CEIL_DIR"
note "scand (bundled databases/) listening after ${SCAND_LOAD}s"
start_gateway bundled "$SCAND_SOCK"
check bundled
SCAND_THREADS=$(scand_threads scand-bundled)
[ -n "$SCAND_THREADS" ] || die "no 'N scanner threads' line from sekisho-scand in $RUN/scand-bundled.out"
if [ "$SKIP_HAPROXY" != 1 ]; then
    # The Sekisho relay: the same gateway settings but virus_check=no
    # (scand is configured, never asked).
    start_gateway relay "$SCAND_SOCK" "" "" no
    check relay
    if [ -z "$HAPROXY_STATE" ]; then
        if start_haproxy; then
            check haproxy
        else
            note "$HAPROXY_STATE"
        fi
    fi
fi
if [ -z "$CLAMSMTP_STATE" ]; then
    if start_clamsmtp csb "$REPO/databases" $BUNDLED_LOAD_TIMEOUT; then
        note "clamsmtpd + clamd (bundled databases/) up; clamd loaded in ${CLAMD_LOAD[csb]}s"
        check csb
    else
        CLAMSMTP_STATE="left out: $CLAMSMTP_FAIL"
        note "$CLAMSMTP_STATE"
    fi
fi

if [ "$SKIP_SPAM" = 1 ]; then
    SPAM_STATE="skipped (BENCH_SKIP_SPAM=1)"
elif [ ! -x /usr/sbin/unbound ]; then
    SPAM_STATE="left out: /usr/sbin/unbound not installed (Debian package unbound)"
elif start_spam_servers; then
    note "unbound on port $UNBOUND_PORT; rspamd ${RSPAMD_PORT:+on port $RSPAMD_PORT (up in ${RSPAMD_STARTUP}s)}$RSPAMD_STATE"
    SPAM_ON=1
    start_spam_gateways
    check_spam rbl
    [ -n "${T_PORT[rspamd]:-}" ] && check_spam rspamd
fi
[ -n "$SPAM_STATE" ] && note "spam rows $SPAM_STATE"

run_cells "direct haproxy relay bundled rblc rblu rspamd csb"

stop_gateway bundled
for gw in rbl rspamd relay; do
    [ -n "${GW_PID[$gw]:-}" ] && stop_gateway $gw
done
[ -n "${T_SRV[haproxy]:-}" ] && stop_pid "${T_SRV[haproxy]}" TERM
stop_spam_servers
[ -n "${T_PORT[csb]:-}" ] && stop_clamsmtp csb

# The scan ceiling with the bundled database in a process of its own, the
# gateways' scanner threads, the machine otherwise as quiet as in the cells.
ceiling bundled-own "$CEIL_DIR" "$REPO/databases" "$SCAND_THREADS" "$CEILING_SECONDS" \
    $((BUNDLED_LOAD_TIMEOUT + CEILING_SECONDS + 60))
ceiling_higher bundled

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
        if start_scand scand-full "$FULLDB" $((FULL_LOAD_TIMEOUT + 2 * CEILING_SECONDS)) "${CEIL_FIRST[@]}"; then
            ceiling_in_scand full scand-full "$CEIL_DIR"
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
            threads=$(scand_threads scand-full)
            ceiling full-own "$CEIL_DIR" "$FULLDB" "${threads:-$SCAND_THREADS}" "$CEILING_SECONDS" \
                $((FULL_LOAD_TIMEOUT + CEILING_SECONDS + 60))
            ceiling_higher full
        else
            FULL_STATE="scand did not load it within ${FULL_LOAD_TIMEOUT}s"
            NOTES+=("full-scale database: $FULL_STATE")
        fi
    fi
fi

# ---- report ----------------------------------------------------------------

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
ORDER="direct haproxy relay bundled rblc rblu rspamd full csb csf"
fmt='%-32s %-12s %7s %8s %7s %8s %8s %7s %7s %7s %7s %7s %7s %6s  %s\n'

echo
echo "Columns: mails/s and MB/s (10^6 bytes of message data/s) count the mails acknowledged with 250 in the"
echo "cell's last $((CELL_SECONDS - WARMUP))s (the first ${WARMUP}s are warm-up), latency (p50/p99) too: from connect to the 250"
echo "after the dot (1 mail/conn) or from MAIL to that 250 (many/conn); CPU counts every mail of the cell;"
echo "CPU per mail (us): proxy = smtp-sink (direct), Sekisho master+workers, or clamsmtpd; scan = sekisho-scand"
echo "or clamd; sum = proxy+scan; sink = smtp-sink behind a proxy; client = bench/smtpload (it shares the CPUs)."
echo "others = CPUs (of $(nproc)) kept busy by other work on the machine (or steal) during the cell."
echo "%ceil = mails/s (one scanned attachment each) in percent of the scan ceiling of the row's database (sekisho-scand"
echo "--ceiling, below; for clamsmtp+clamd too, whose clamd scans the whole mail with its own mail parser)."
echo
echo "== ${MSG_SIZE:-?}-byte mails, ${CELL_SECONDS}s per cell"
# shellcheck disable=SC2059 # the format is ours
printf "$fmt" setup mode senders mails/s MB/s "p50 ms" "p99 ms" "proxy" "scan" "sum" "sink" "client" "others" "%ceil" failed
for c in $SENDERS; do
    for t in $ORDER; do
        for mode in $MODES; do
            key="$t|$mode|$c"
            [ -n "${MPS[$key]:-}" ] || continue
            pc=-
            [ -n "${CEIL_OF[$t]:-}" ] && pc=$(ceil_pct "${MPS[$key]}" "${CEIL_OF[$t]}")
            [ -n "${CEIL_CELL[$key]:-}" ] && pc=$(pct "${MPS[$key]}" "${CEIL_CELL[$key]}")
            # shellcheck disable=SC2059
            printf "$fmt" "${LABEL[$t]}" "${MODE_LABEL[$mode]}" "$c" "${MPS[$key]}" "${MBS[$key]:--}" \
                "${P50[$key]:--}" "${P99[$key]:--}" "${CPU[$key]:--}" "${SCPU[$key]:--}" \
                "${TCPU[$key]:--}" "${SINKCPU[$key]:--}" "${GENCPU[$key]:--}" "${OTHERS[$key]:--}" \
                "$pc" "${FAILED[$key]:--}"
        done
    done
    echo
done

echo "== Scan ceiling (path bare, a fresh head per scan: $CEILING_FILES random files of ${ATTACH_BYTES} bytes, the decoded"
echo "   attachment's size; ${CEILING_SECONDS}s; the scanner threads of the gateways' scand), measured by the gateways'"
echo "   scand on its engine before it served (--ceiling-first) and in a process of its own (sekisho-scand --ceiling);"
echo "   the higher of the two is the yardstick of %ceil"
ceiling_report bundled "bundled db   "
[ -n "${CEIL_SPS[bundled-daemon]:-}" ] && ceiling_report bundled-daemon "  in the daemon, lower"
[ -z "${CEIL_SPS[bundled-daemon]:-}" ] && ceiling_report bundled-own "  own process"
if [ "$SKIP_FULLDB" != 1 ]; then
    ceiling_report full "full-scale db"
    [ -n "${CEIL_SPS[full-daemon]:-}" ] && ceiling_report full-daemon "  in the daemon, lower"
    [ -z "${CEIL_SPS[full-daemon]:-}" ] && ceiling_report full-own "  own process"
fi
echo
echo "== Checks before measuring (one EICAR mail, then one clean mail, through each target; through the spam gateways"
echo "   listed mails, then a clean one: the access record of each)"
for t in $ORDER; do
    [ -n "${CHECK[$t]:-}" ] && printf '%-32s %s\n' "${LABEL[$t]}:" "${CHECK[$t]}"
done
[ -n "${CHECK[rbl]:-}" ] && printf '%-32s %s\n' "Sekisho+RBL/SURBL gateway:" "${CHECK[rbl]}"
echo "full-scale database: $FULL_STATE"
[ -n "$SPAM_STATE" ] && echo "spam rows: $SPAM_STATE"
[ -n "$RSPAMD_STATE" ] && echo "rspamd row: $RSPAMD_STATE"
[ -n "$CLAMSMTP_STATE" ] && echo "clamsmtp + clamd: $CLAMSMTP_STATE"
[ -n "$HAPROXY_STATE" ] && echo "HAProxy: $HAPROXY_STATE"

times() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else printf "n/a" }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { a += 0; b += 0; if (a == 0 && b == 0) print ""; else print (a > b ? a : b) }'; }

# diff A B - A - B with one decimal and a sign; n/a unless both are figures.
diff_of() {
    awk -v a="$1" -v b="$2" 'BEGIN { num = "^[0-9]+([.][0-9]+)?$"
        if (a ~ num && b ~ num) printf "%+.1f", a - b; else printf "n/a" }'
}
# intdiff A B - the same without decimals (CPU microseconds).
intdiff() {
    awk -v a="$1" -v b="$2" 'BEGIN { num = "^[0-9]+([.][0-9]+)?$"
        if (a ~ num && b ~ num) printf "%+.0f", a - b; else printf "n/a" }'
}
declare -A SPAM_LABEL=(
    [bundled]="spam off (spam_check=no)"
    [rblc]="RBL+SURBL on, cached"
    [rblu]="RBL+SURBL on, uncached"
    [rspamd]="rspamd on (spam_commtouch)"
)
if [ $SPAM_ON = 1 ]; then
    sfmt='%-28s %-11s %7s %8s %6s %8s %8s %8s %8s %7s %7s %7s %7s %6s\n'
    echo
    echo "== Spam checks (bundled db; spam off = the Sekisho row above, same run, same load and senders)"
    echo "+p50/+p99: added latency per mail against spam off (ms); proxy: Sekisho CPU per mail (us), +proxy: added;"
    echo "server: CPU per mail of unbound (RBL/SURBL rows) or rspamd (us); DNS q: queries per mail that reached unbound."
    # shellcheck disable=SC2059 # the format is ours
    printf "$sfmt" setup mode senders mails/s "vs off" "p50 ms" "p99 ms" "+p50 ms" "+p99 ms" proxy "+proxy" server "DNS q" failed
    for c in $(all_senders); do
        for mode in $(all_modes); do
            base="bundled|$mode|$c"
            for t in bundled rblc rblu rspamd; do
                key="$t|$mode|$c"
                [ -n "${MPS[$key]:-}" ] || continue
                [ "$t" = bundled ] && ! wants rblc "$c" "$mode" && continue
                # shellcheck disable=SC2059
                printf "$sfmt" "${SPAM_LABEL[$t]}" "${MODE_LABEL[$mode]}" "$c" "${MPS[$key]}" \
                    "$(pct "${MPS[$key]}" "${MPS[$base]:-}")" "${P50[$key]:--}" "${P99[$key]:--}" \
                    "$(diff_of "${P50[$key]:-}" "${P50[$base]:-}")" "$(diff_of "${P99[$key]:-}" "${P99[$base]:-}")" \
                    "${CPU[$key]:--}" "$(intdiff "${CPU[$key]:-}" "${CPU[$base]:-}")" "${SPCPU[$key]:--}" \
                    "${QPM[$key]:--}" "${FAILED[$key]:--}"
            done
        done
    done
fi

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
for db in full bundled; do
    [ "$db" = full ] && [ "$SKIP_FULLDB" = 1 ] && continue
    for c in $SENDERS; do
        for mode in $MODES; do
            if [ -n "${CEIL_CELL[$db|$mode|$c]:-}" ]; then
                printf '%-13s vs scan ceiling, %3s senders, %-11s Sekisho %s mails/s, its scand before/after %s scans/s = %s (target >= 95%%); the run'"'"'s ceiling %s = %s\n' \
                    "${db/full/full-scale} db" "$c" "${MODE_LABEL[$mode]}:" "${MPS[$db|$mode|$c]:-n/a}" \
                    "${BRACKET[$db|$mode|$c]/ //}" "$(pct "${MPS[$db|$mode|$c]:-}" "${CEIL_CELL[$db|$mode|$c]}")" \
                    "${CEIL_SPS[$db]:-n/a}" "$(ceil_pct "${MPS[$db|$mode|$c]:-}" "$db")"
                continue
            fi
            printf '%-13s vs scan ceiling, %3s senders, %-11s Sekisho %s mails/s, ceiling %s scans/s = %s (target >= 95%%)\n' \
                "${db/full/full-scale} db" "$c" "${MODE_LABEL[$mode]}:" "${MPS[$db|$mode|$c]:-n/a}" \
                "${CEIL_SPS[$db]:-n/a}" "$(ceil_pct "${MPS[$db|$mode|$c]:-}" "$db")"
        done
    done
done
if [ "$SKIP_HAPROXY" != 1 ]; then
    for c in $SENDERS; do
        for mode in $MODES; do
            printf 'Sekisho scanning off / HAProxy, %3s senders, %-11s %s / %s mails/s = %s (target >= 100%%); CPU per mail %s / %s us\n' \
                "$c" "${MODE_LABEL[$mode]}:" "${MPS[relay|$mode|$c]:-n/a}" "${MPS[haproxy|$mode|$c]:-n/a}" \
                "$(pct "${MPS[relay|$mode|$c]:-}" "${MPS[haproxy|$mode|$c]:-}")" "${CPU[relay|$mode|$c]:-n/a}" \
                "${CPU[haproxy|$mode|$c]:-n/a}"
        done
    done
fi
echo "load average at start: $LOAD_START; at end: $LOAD_END (other work on the machine skews the figures)"

for name in bundled rbl rspamd relay full; do
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
