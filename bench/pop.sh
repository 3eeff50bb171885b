#!/usr/bin/env bash
# pop.sh - RETR throughput and CPU figures of the Sekisho POP3 proxy, against
# dovecot direct, and against the scan ceiling of libclamav.
#
#   bench/pop.sh                   (as root on Debian 12, after `make`)
#
# Compiles its load generator (bench/popload.c) into the run directory,
# fills one Maildir with bench/popmail.py (an EICAR mail, a clean check
# mail, then the bench mails: about 81 KB each, a text/plain part and a
# fresh random 58,800-byte attachment in base64, so no two are alike) and
# starts its own dovecot (POP3 only, plaintext USER/PASS, configured like
# tests/integration/harness/dovecot.py), sekisho-scand (bundled databases/,
# then the synthetic full-scale database of bench/gen-fulldb.py) and
# sekisho --pop gateways (self_proxy=no, parent = that dovecot,
# virus_check=yes, action=delete). All of it runs as child processes on
# 127.0.0.1, on ports picked at run time, configured in the run directory; no
# system service is started or used.
#
# Cells, each BENCH_SECONDS: CLIENTS concurrent POP3 sessions (USER, PASS,
# then RETR after RETR, no DELE, QUIT at the end) at 1, 10 and 50 clients:
#   - dovecot direct (message numbers cycling over all bench mails);
#   - through Sekisho, bundled db, then full-scale db; every RETR of a
#     proxied cell is of a mail no earlier cell retrieved through a proxy
#     (popload -m unique over a window of its own), so neither the verdict
#     cache nor libclamav's cache can help; a cell ends early when its
#     window is used up (its rate is then over the time it took);
#     a direct cell runs right before each proxied one (same client count);
#   - one repeated-object cell: 10 clients, every RETR of the same mail,
#     through the bundled gateway (verdict cache hits).
# Before measuring, through each target, RETR 1 (EICAR) must not come back
# with the EICAR string and RETR 2 (clean) must come back with the stored
# mail's body byte for byte.
# Then the scan ceiling (bench/ceiling.sh), for each database measured:
# `sekisho-scand --ceiling --path bare --stamp head` (a bare libclamav loop
# with the daemon's scan options and clean cache; every scan of content no
# cache has seen) with that database and the scanner threads of the
# gateways' scand, for BENCH_CEILING_SECONDS, on the decoded attachments of
# the first BENCH_CEILING_SAMPLES bench mails (the files the proxy hands to
# scand: one per RETR; the text/plain part is not scanned).
# It prints messages/s, MB/s (10^6 bytes of message data/s), p50/p99 RETR
# latency, CPU per message of the proxy, scand, dovecot and the load
# generator, percent of direct and, for the proxied cells on unique mails,
# percent of the ceiling (messages/s over the ceiling's scans/s) and the
# ceiling's CPU per scan over the proxied path's CPU per message; then a
# summary against the targets of issues 11 and 17.
# Figures only: nothing passes or fails on time. The exit status is non-zero
# only when the bench itself could not run. Everything started here is
# stopped on exit (trap).
#
# Environment (all optional):
#   BENCH_SECONDS=8             duration of one cell
#   BENCH_WARMUP=1              s at the start of a cell whose RETRs are not counted
#   BENCH_CLIENTS="1 10 50"     concurrent POP3 sessions
#   BENCH_ATTACH_BYTES=58800    random bytes of each attachment (before base64)
#   BENCH_UNIQUE_BUNDLED=2000   mails of each bundled-db proxied cell's window
#   BENCH_UNIQUE_FULL=500       mails of each full-db proxied cell's window
#   BENCH_REPEAT=1              the repeated-object cell (0 = leave it out)
#   BENCH_CEILING_SAMPLES=200   attachments the scan ceiling scans round-robin
#   BENCH_CEILING_SECONDS=10    duration of each scan ceiling run
#   BENCH_IO_TIMEOUT=30         s; a reply slower than this fails the RETR
#   BENCH_WORKERS=nproc         proxy workers;  BENCH_PRE_SPAWN=200
#   BENCH_DIR=/var/tmp/sekisho-bench   work dir; the full database is cached
#   BENCH_FULLDB=$BENCH_DIR/fulldb     in BENCH_FULLDB and reused
#   BENCH_SKIP_FULLDB=1         leave out the full-scale database
#   BENCH_SCAND_TIMEOUT=600     bound on a full database load (s)
#   BENCH_KEEP=1                keep the run directory (configs, logs, outputs)
#   BUILD=build                 build directory holding bin/ (relative to the
#                               repository, or absolute; SEKISHO_BUILD too: see
#                               bench/build-dir.sh)
# A longer run: BENCH_SECONDS=20 BENCH_UNIQUE_BUNDLED=8000 BENCH_UNIQUE_FULL=1500.
set -u
cd "$(dirname "$0")/.." || exit 2
REPO=$PWD
# shellcheck source=bench/build-dir.sh
. "$REPO/bench/build-dir.sh"

CELL_SECONDS=${BENCH_SECONDS:-8}
WARMUP=${BENCH_WARMUP:-1}
CLIENTS=${BENCH_CLIENTS:-"1 10 50"}
ATTACH_BYTES=${BENCH_ATTACH_BYTES:-58800}
UNIQUE_BUNDLED=${BENCH_UNIQUE_BUNDLED:-2000}
UNIQUE_FULL=${BENCH_UNIQUE_FULL:-500}
REPEAT=${BENCH_REPEAT:-1}
CEILING_SAMPLES=${BENCH_CEILING_SAMPLES:-200}
CEILING_SECONDS=${BENCH_CEILING_SECONDS:-10}
IO_TIMEOUT=${BENCH_IO_TIMEOUT:-30}
WORKERS=${BENCH_WORKERS:-$(nproc)}
PRE_SPAWN=${BENCH_PRE_SPAWN:-200}
BENCH_DIR=${BENCH_DIR:-/var/tmp/sekisho-bench}
FULLDB=${BENCH_FULLDB:-$BENCH_DIR/fulldb}
SKIP_FULLDB=${BENCH_SKIP_FULLDB:-0}
FULL_LOAD_TIMEOUT=${BENCH_SCAND_TIMEOUT:-600}
KEEP=${BENCH_KEEP:-0}

DOVECOT=/usr/sbin/dovecot
POP_USER=bench
POP_PASS=bench-pw
NOFILE_WANT=65536
BUNDLED_LOAD_TIMEOUT=60
DOVECOT_START_TIMEOUT=15
GATEWAY_START_TIMEOUT=20
STOP_TIMEOUT=30
CELL_PAUSE=2
FULLDB_GEN_TIMEOUT=1800
MAILGEN_TIMEOUT=1800
CHECK_TIMEOUT=60
FIRST_BENCH_MSG=3 # 1 = EICAR, 2 = clean check mail (bench/popmail.py)

die() {
    echo "pop.sh: $*" >&2
    exit 2
}
note() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# ---- prerequisites ---------------------------------------------------------

[ -x "$BIN/sekisho" ] && [ -x "$BIN/sekisho-scand" ] || die "no $BIN/sekisho or sekisho-scand: run make first"
[ -x $DOVECOT ] && [ -x /usr/lib/dovecot/pop3 ] || die "dovecot with POP3 not found (Debian package dovecot-pop3d)"
for tool in cc python3 setsid; do
    command -v $tool >/dev/null || die "$tool not found"
done
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge $NOFILE_WANT ]; then
    ulimit -n $NOFILE_WANT
else
    ulimit -n "$hard"
fi

mkdir -p "$BENCH_DIR" || die "cannot create $BENCH_DIR"
chmod 755 "$BENCH_DIR"
RUN=$(mktemp -d "$BENCH_DIR/run.XXXXXX") || die "mktemp failed"
# The daemons drop to nobody (Sekisho, dovecot's mail processes) and must
# traverse the run directory.
chmod 755 "$RUN"

# A copy of the binaries: a `make` beside the bench cannot change them.
BUILT=$(date -u -r "$BIN/sekisho" +%Y-%m-%dT%H:%M:%SZ)
mkdir -p "$RUN/bin" && cp "$BIN/sekisho" "$BIN/sekisho-scand" "$RUN/bin/" || die "cannot copy the binaries"
BIN=$RUN/bin

LOAD=$RUN/popload
cc -O2 -Wall -Wextra -o "$LOAD" "$REPO/bench/popload.c" -lpthread 2>"$RUN/popload-cc.out" ||
    die "cannot compile bench/popload.c: $(cat "$RUN/popload-cc.out")"

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

# field KEY LINE - the value of KEY=value in a POPLOAD line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# ---- mailbox and dovecot ---------------------------------------------------
# As tests/integration/harness/dovecot.py: as root, the login processes run
# as dovenull and the mail processes as nobody, who owns the Maildir.

if [ "$(id -u)" = 0 ]; then
    MAIL_UID=$(id -u nobody) MAIL_GID=$(id -g nobody)
    LOGIN_USER=dovenull INTERNAL_USER=root INTERNAL_GROUP=root
else
    MAIL_UID=$(id -u) MAIL_GID=$(id -g)
    LOGIN_USER=$(id -un) INTERNAL_USER=$(id -un) INTERNAL_GROUP=$(id -gn)
fi
DC=$RUN/dovecot
HOME_DIR=$DC/mail/$POP_USER
MAILDIR=$HOME_DIR/Maildir
mkdir -p "$MAILDIR/cur" "$MAILDIR/new" "$MAILDIR/tmp"
chown -R "$MAIL_UID:$MAIL_GID" "$DC/mail"
chmod 755 "$DC"
NMAILS=$((3 * UNIQUE_BUNDLED))
[ "$SKIP_FULLDB" != 1 ] && NMAILS=$((NMAILS + 3 * UNIQUE_FULL))
note "writing $NMAILS bench mails into $MAILDIR"
GEN=$(timeout $MAILGEN_TIMEOUT python3 "$REPO/bench/popmail.py" "$MAILDIR" "$NMAILS" "$ATTACH_BYTES" \
    "$RUN/attach" "$CEILING_SAMPLES" "$MAIL_UID" "$MAIL_GID") || die "bench/popmail.py failed"
MSG_SIZE=$(sed -n 's/.*bytes_avg=\([0-9]*\).*/\1/p' <<<"$GEN")

DC_PORT=$(free_port)
printf '%s:{PLAIN}%s::::%s::\n' "$POP_USER" "$POP_PASS" "$HOME_DIR" >"$DC/passwd"
chmod 600 "$DC/passwd"
cat >"$DC/dovecot.conf" <<CONF
# written by bench/pop.sh (as tests/integration/harness/dovecot.py)
base_dir = $DC/run
state_dir = $DC/state
instance_name = sekisho-bench-pop
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
login_greeting = sekisho-bench dovecot ready.
log_path = $DC/dovecot.log
info_log_path = $DC/dovecot.log
default_internal_user = $INTERNAL_USER
default_internal_group = $INTERNAL_GROUP
default_login_user = $LOGIN_USER
first_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
mail_location = maildir:~/Maildir
# 50 sessions of one user from 127.0.0.1 (default 10), and room for them.
default_process_limit = 300
mail_max_userip_connections = 10000
passdb {
  driver = passwd-file
  args = scheme=PLAIN $DC/passwd
}
userdb {
  driver = passwd-file
  args = $DC/passwd
  default_fields = uid=$MAIL_UID gid=$MAIL_GID
}
service pop3-login {
  chroot =
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DC_PORT
  }
}
service anvil {
  chroot =
}
CONF
start dovecot TERM $DOVECOT -F -c "$DC/dovecot.conf"
DC_PID=$LAST_PID
# No login penalty after a failed login (see the harness).
wait_until $DOVECOT_START_TIMEOUT eval '[ -e "$DC/run/anvil-auth-penalty" ] || ! alive $DC_PID'
rm -f "$DC/run/anvil-auth-penalty"
dc_greets() { python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1])),2); s.settimeout(2); sys.exit(0 if s.recv(64).startswith(b"+OK") else 1)' "$DC_PORT" 2>/dev/null; }
wait_until $DOVECOT_START_TIMEOUT dc_greets || die "dovecot did not start: $(tail -n 5 "$DC/dovecot.log" "$RUN/dovecot.out" 2>/dev/null)"

# ---- checks ----------------------------------------------------------------

# pop_check PORT - RETR 1 (EICAR) and RETR 2 (clean) on one session: prints
# "eicar=<absent|PRESENT|...> clean=<identical|body ok, N header lines
# added|DIFFERENT|...> stat=<STAT reply>".
pop_check() {
    timeout $CHECK_TIMEOUT python3 - "$1" "$POP_USER" "$POP_PASS" "$MAILDIR/cur" <<'PY' 2>&1 | tail -n 1
import os, poplib, sys
port, user, pw, cur = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
names = sorted(os.listdir(cur))
with open(os.path.join(cur, names[1]), "rb") as f:
    stored = f.read()
try:
    p = poplib.POP3("127.0.0.1", port, timeout=50)
    p.user(user)
    p.pass_(pw)
    stat = p.stat()
    e = b"\r\n".join(p.retr(1)[1])
    eicar = "PRESENT" if b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in e else "absent"
    if b"X-Virus-Status" in e:
        eicar += " (" + [l for l in e.split(b"\r\n") if l.startswith(b"X-Virus-Status")][0].decode("ascii", "replace") + ")"
    c = b"\r\n".join(p.retr(2)[1]) + b"\r\n"
    p.quit()
    if c == stored:
        clean = "identical"
    else:
        body = stored.split(b"\r\n\r\n", 1)[1]
        chead, _, cbody = c.partition(b"\r\n\r\n")
        if cbody == body:
            extra = [l.decode("ascii", "replace") for l in chead.split(b"\r\n") if l not in stored.split(b"\r\n\r\n", 1)[0].split(b"\r\n")]
            clean = "body identical, header lines added: " + "; ".join(extra)
        else:
            clean = "DIFFERENT (%d bytes, stored %d)" % (len(c), len(stored))
    print("eicar=%s clean=%s stat=%s" % (eicar, clean, stat))
except Exception as ex:
    print("FAILED: %r" % (ex,))
PY
}

# ---- scand and gateways ----------------------------------------------------


declare -A T_PORT T_SCAN
declare -A LABEL=(
    [direct]="dovecot direct"
    [bundled]="Sekisho, bundled db"
    [full]="Sekisho, full-scale db"
    [repeat]="Sekisho, bundled db, same mail"
)
T_PORT[direct]=$DC_PORT

# start_gateway NAME SCAND_SOCKET - sekisho --pop, self_proxy=no, parent =
# the dovecot; defines target NAME.
start_gateway() {
    local name=$1 sock=$2
    # max_sessions_per_client=0: every bench client comes from 127.0.0.1.
    gateway_start pop "$name" "$sock" "self_proxy=no
parent_server_host=127.0.0.1
parent_server_port=$DC_PORT
virus_check=yes
action=delete
pre_spawn=$PRE_SPAWN
max_sessions_per_client=0
ipv6=no"
    T_PORT[$name]=$GW_PORT
    T_SCAN[$name]=$SCAND_PID
}

gw_error_lines() {
    local f=${GW_PREFIX[$1]}/log/pop/error.log
    if [ -f "$f" ]; then wc -l <"$f"; else echo 0; fi
}

declare -A CHECK
NOTES=()
check() {
    CHECK[$1]=$(pop_check "${T_PORT[$1]}")
    case ${CHECK[$1]} in
    FAILED*) NOTES+=("check through ${LABEL[$1]}: ${CHECK[$1]}") ;;
    esac
    if [ "$1" != direct ] && [[ ${CHECK[$1]} != *eicar=absent* ]]; then
        NOTES+=("check through ${LABEL[$1]}: the EICAR mail was not replaced")
    fi
}

# ---- cells -----------------------------------------------------------------

declare -A MPS MBS P50 P99 FAILED CPU SCPU DCPU GENCPU OTHERS
ROWS=() # "target|clients" in the order run

# cell ROWKEY TARGET CLIENTS POPLOAD-ARGS... - one popload run; ROWKEY is
# the row's name (a target measured twice in a phase gets two).
cell() {
    local row=$1 t=$2 c=$3
    shift 3
    local gw=${T_GW_OF[$t]:-} key="$row|$c" out line
    out=$RUN/load-$row-$c.txt
    local c0 c1 s0=0 s1=0 d0 d1 b0 b1 w0 w1 before="" err0=0
    [ -n "$gw" ] && before=$(workers_of "${GW_PID[$gw]}") && err0=$(gw_error_lines "$gw")
    c0=$([ -n "$gw" ] && cpu_ticks "${GW_PID[$gw]}" || echo 0)
    [ -n "$gw" ] && s0=$(cpu_ticks "${T_SCAN[$gw]}")
    d0=$(cpu_ticks "$DC_PID")
    b0=$(busy_ticks)
    w0=$(date +%s.%N)
    note "$row, $c clients, ${CELL_SECONDS}s ($*)"
    timeout $((CELL_SECONDS + 3 * IO_TIMEOUT + 30)) "$LOAD" -p "${T_PORT[$t]}" -u "$POP_USER" -P "$POP_PASS" \
        -c "$c" -t "$CELL_SECONDS" -w "$WARMUP" -T "$IO_TIMEOUT" "$@" >"$out" 2>&1
    c1=$([ -n "$gw" ] && cpu_ticks "${GW_PID[$gw]}" || echo 0)
    [ -n "$gw" ] && s1=$(cpu_ticks "${T_SCAN[$gw]}")
    d1=$(cpu_ticks "$DC_PID")
    b1=$(busy_ticks)
    w1=$(date +%s.%N)
    ROWS+=("$key")
    line=$(grep '^POPLOAD ' "$out")
    if [ -z "$line" ]; then
        MPS[$key]=n/a
        NOTES+=("$row, $c clients: popload gave no result ($(tail -n 2 "$out" | tr '\n' ' '))")
    else
        local done_
        done_=$(($(field warm "$line") + $(field ok "$line") + $(field late "$line")))
        MPS[$key]=$(field msgs_per_s "$line")
        MBS[$key]=$(field mb_per_s "$line")
        P50[$key]=$(field p50_ms "$line")
        P99[$key]=$(field p99_ms "$line")
        FAILED[$key]=$(field failed "$line")
        GENCPU[$key]=$(field gen_cpu_us "$line")
        DCPU[$key]=$(us_per $((d1 - d0)) "$done_")
        if [ -n "$gw" ]; then
            CPU[$key]=$(us_per $((c1 - c0)) "$done_")
            SCPU[$key]=$(us_per $((s1 - s0)) "$done_")
        fi
        OTHERS[$key]=$(awk -v b=$((b1 - b0)) -v o=$((c1 - c0 + s1 - s0 + d1 - d0)) -v g="$(field gen_cpu_s "$line")" \
            -v hz="$CLK_TCK" -v a="$w0" -v z="$w1" \
            'BEGIN { v = ((b - o) / hz - g) / (z - a); printf "%.2f", v < 0 ? 0 : v }')
        if [ "$(field nowarm "$line")" = 1 ]; then
            NOTES+=("$row, $c clients: the window of unique mails was used up in $(field run_s "$line")s, before twice the warm-up: the rate is over the whole run (a larger BENCH_UNIQUE_* gives a steadier figure)")
        fi
        if [ "${FAILED[$key]}" != 0 ]; then
            NOTES+=("$row, $c clients: ${FAILED[$key]} failed RETR(s): $(grep '^POPFAIL ' "$out" | sed 's/^POPFAIL //' | tr '\n' ';')")
        fi
    fi
    if [ -n "$gw" ]; then
        if ! alive "${GW_PID[$gw]}"; then
            NOTES+=("$row, $c clients: the gateway master exited")
        elif [ "$before" != "$(workers_of "${GW_PID[$gw]}")" ]; then
            NOTES+=("$row, $c clients: worker(s) replaced during the cell: a worker died")
            CPU[$key]=n/a
        fi
        local err1
        err1=$(gw_error_lines "$gw")
        if [ "$err1" -gt "$err0" ]; then
            NOTES+=("$row, $c clients: $((err1 - err0)) new error.log line(s), last: $(tail -n 1 "${GW_PREFIX[$gw]}/log/pop/error.log")")
        fi
    fi
    sleep $CELL_PAUSE
}
declare -A T_GW_OF

# The next unused window of bench mails for a proxied cell.
NEXT_MSG=$FIRST_BENCH_MSG
# proxied_cells TARGET WINDOW - for each client count: a direct cell, then
# the proxied one over a fresh window of WINDOW mails.
proxied_cells() {
    local t=$1 win=$2 c
    for c in $CLIENTS; do
        cell "direct-$t" direct "$c" -m cycle -f $FIRST_BENCH_MSG -n "$NMAILS"
        cell "$t" "$t" "$c" -m unique -f "$NEXT_MSG" -n "$win"
        NEXT_MSG=$((NEXT_MSG + win))
    done
}

# ---- header ----------------------------------------------------------------

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== Sekisho POP3 proxy benchmark"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
echo "build:       $BUILD/ at $BUILD_GIT (sekisho built $BUILT); $($DOVECOT --version | sed 's/^/dovecot /')"
echo "setup:       $NMAILS unique mails of ${MSG_SIZE:-?} bytes on average (text/plain + ${ATTACH_BYTES}-byte random attachment, base64) in one Maildir;"
echo "             ${CELL_SECONDS}s per cell (${WARMUP}s warm-up); bench/popload: one thread and one POP3 session per client, RETR after RETR;"
echo "             proxied cells: windows of $UNIQUE_BUNDLED (bundled db) / $UNIQUE_FULL (full db) mails never retrieved before through a proxy;"
echo "             Sekisho $WORKERS workers, pre_spawn=$PRE_SPAWN, self_proxy=no, virus_check=yes, action=delete, ipv6=no; scand 2 threads"
echo "load average at start: $LOAD_START"

T_GW_OF[direct]=
check direct

# ---- phase 1: bundled database ---------------------------------------------

start_scand scand-bundled "$REPO/databases" $BUNDLED_LOAD_TIMEOUT || die "sekisho-scand with databases/ did not start"
note "scand (bundled databases/) listening after ${SCAND_LOAD}s"
BUNDLED_THREADS=$(scand_threads scand-bundled)
[ -n "$BUNDLED_THREADS" ] || die "no 'N scanner threads' line from sekisho-scand in $RUN/scand-bundled.out"
FULL_THREADS=
start_gateway bundled "$SCAND_SOCK"
T_GW_OF[bundled]=bundled
T_GW_OF[repeat]=bundled
T_PORT[repeat]=${T_PORT[bundled]}
check bundled
proxied_cells bundled "$UNIQUE_BUNDLED"
if [ "$REPEAT" = 1 ]; then
    cell direct-repeat direct 10 -m repeat -f $FIRST_BENCH_MSG
    cell repeat repeat 10 -m repeat -f $FIRST_BENCH_MSG
fi
stop_pid "${GW_PID[bundled]}" TERM
stop_pid "$SCAND_PID" TERM

# ---- phase 2: full-scale database ------------------------------------------

FULL_STATE=skipped
if [ "$SKIP_FULLDB" != 1 ]; then
    GEN_SUM=$(sha256sum "$REPO/bench/gen-fulldb.py" | cut -d' ' -f1)
    # Reused when present (also the one bench/http.sh or smtp.sh made).
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
            FULL_THREADS=$(scand_threads scand-full)
            FULL_THREADS=${FULL_THREADS:-$BUNDLED_THREADS}
            start_gateway full "$SCAND_SOCK"
            T_GW_OF[full]=full
            check full
            proxied_cells full "$UNIQUE_FULL"
            stop_pid "${GW_PID[full]}" TERM
            stop_pid "$SCAND_PID" TERM
        else
            FULL_STATE="scand did not load it within ${FULL_LOAD_TIMEOUT}s"
            NOTES+=("full-scale database: $FULL_STATE")
        fi
    fi
fi

# ---- scan ceiling: sekisho-scand --ceiling on the same attachments --------

# After the cells (the gateways and their scand stopped): the attachments
# popmail.py kept, with the scanner threads each gateway's scand ran.
ceiling bundled "$RUN/attach" "$REPO/databases" "$BUNDLED_THREADS" "$CEILING_SECONDS" \
    $((BUNDLED_LOAD_TIMEOUT + CEILING_SECONDS + 60))
[ -n "$FULL_THREADS" ] && ceiling full "$RUN/attach" "$FULLDB" "$FULL_THREADS" "$CEILING_SECONDS" \
    $((FULL_LOAD_TIMEOUT + CEILING_SECONDS + 60))

# ---- report ----------------------------------------------------------------

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "n/a" }'; }
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A DIRECT_OF=([bundled]=direct-bundled [full]=direct-full [repeat]=direct-repeat)
declare -A CEIL_OF=([full]=full [bundled]=bundled)
fmt='%-34s %7s %8s %7s %8s %8s %7s %7s %7s %7s %6s %7s %8s %7s %8s\n'
# cpu_share CEIL_CPU_US PROXY_US SCAN_US - the ceiling's CPU per scan over
# the proxied path's CPU per mail (proxy + scand), in percent.
cpu_share() { awk -v c="$1" -v p="$2" -v s="$3" 'BEGIN { if (c + 0 > 0 && p + s > 0) printf "%.0f%%", 100 * c / (p + s); else printf "n/a" }'; }

echo
echo "Columns: msgs/s and MB/s (10^6 bytes of message data/s) count the RETRs completed in a cell after its"
echo "${WARMUP}s warm-up (to the deadline, or to the end when a proxied cell's window of unique mails ran out);"
echo "latency p50/p99 from sending RETR to the terminating dot. CPU per message (us), every RETR of the cell:"
echo "proxy = Sekisho master+workers, scan = sekisho-scand, dovecot = all dovecot processes, client = bench/popload"
echo "(it shares the CPUs); others = CPUs (of $(nproc)) kept busy by other work on the machine during the cell."
echo "direct = the same client count straight to dovecot, run just before; %ceil = msgs/s (one scanned attachment"
echo "each) in percent of the scan ceiling's scans/s with the row's database (sekisho-scand --ceiling, below);"
echo "cpu%ceil = the ceiling's CPU per scan over the proxied path's CPU per mail (proxy + scan): the share of the"
echo "gateway's CPU that is the scan itself, independent of other load on the machine. The same-mail row is"
echo "answered by the verdict cache: no percent of the ceiling."
echo
echo "== ${MSG_SIZE:-?}-byte mails, ${CELL_SECONDS}s per cell"
# shellcheck disable=SC2059
printf "$fmt" setup clients msgs/s MB/s "p50 ms" "p99 ms" proxy scan dovecot client others failed "%direct" "%ceil" "cpu%ceil"
for key in "${ROWS[@]}"; do
    row=${key%|*} c=${key#*|}
    label=${LABEL[$row]:-${LABEL[direct]}}
    d=${DIRECT_OF[$row]:-}
    pd=-
    [ -n "$d" ] && pd=$(pct "${MPS[$key]:-}" "${MPS[$d|$c]:-}")
    pc=- pcc=-
    if [ -n "${CEIL_OF[$row]:-}" ]; then
        pc=$(ceil_pct "${MPS[$key]:-}" "${CEIL_OF[$row]}")
        pcc=$(cpu_share "${CEIL_CPU[${CEIL_OF[$row]}]:-}" "${CPU[$key]:-}" "${SCPU[$key]:-}")
    fi
    # shellcheck disable=SC2059
    printf "$fmt" "$label" "$c" "${MPS[$key]}" "${MBS[$key]:--}" "${P50[$key]:--}" "${P99[$key]:--}" \
        "${CPU[$key]:--}" "${SCPU[$key]:--}" "${DCPU[$key]:--}" "${GENCPU[$key]:--}" "${OTHERS[$key]:--}" \
        "${FAILED[$key]:--}" "$pd" "$pc" "$pcc"
done
echo
echo "== Scan ceiling (sekisho-scand --ceiling --path bare --stamp head: the decoded attachments of $CEILING_SAMPLES bench"
echo "   mails, ${ATTACH_BYTES} bytes each; ${CEILING_SECONDS}s; the scanner threads of the gateways' scand; after the cells)"
ceiling_report bundled "bundled db   "
[ -n "$FULL_THREADS" ] && ceiling_report full "full-scale db"
echo
echo "== Checks before measuring (RETR 1 = EICAR mail, RETR 2 = clean mail, through each target)"
for t in direct bundled full; do
    [ -n "${CHECK[$t]:-}" ] && printf '%-24s %s\n' "${LABEL[$t]}:" "${CHECK[$t]}"
done
echo "full-scale database: $FULL_STATE"

echo
echo "== Summary (targets of issues 11 and 17)"
for c in $CLIENTS; do
    printf 'bundled db vs direct,  %2s clients: Sekisho %s msgs/s, dovecot direct %s = %s (target >= 50%%)\n' "$c" \
        "${MPS[bundled|$c]:-n/a}" "${MPS[direct-bundled|$c]:-n/a}" "$(pct "${MPS[bundled|$c]:-}" "${MPS[direct-bundled|$c]:-}")"
done
for db in full bundled; do
    [ "$db" = full ] && [ -z "$FULL_THREADS" ] && continue
    for c in $CLIENTS; do
        printf '%-13s vs scan ceiling, %2s clients: Sekisho %s msgs/s, ceiling %s scans/s = %s (target >= 95%%)\n' \
            "${db/full/full-scale} db" "$c" "${MPS[$db|$c]:-n/a}" "${CEIL_SPS[$db]:-n/a}" "$(ceil_pct "${MPS[$db|$c]:-}" "$db")"
    done
done
[ -n "$FULL_THREADS" ] && for c in $CLIENTS; do
    printf '  (CPU: full db, %2s clients: ceiling %s us per scan, proxied path %s+%s us per mail = %s)\n' "$c" \
        "${CEIL_CPU[full]:-n/a}" "${CPU[full|$c]:-n/a}" "${SCPU[full|$c]:-n/a}" \
        "$(cpu_share "${CEIL_CPU[full]:-}" "${CPU[full|$c]:-}" "${SCPU[full|$c]:-}")"
done
[ "$REPEAT" = 1 ] && printf 'same mail (verdict cache), 10 clients: Sekisho %s msgs/s, dovecot direct %s = %s\n' \
    "${MPS[repeat|10]:-n/a}" "${MPS[direct-repeat|10]:-n/a}" "$(pct "${MPS[repeat|10]:-}" "${MPS[direct-repeat|10]:-}")"
echo "load average at start: $LOAD_START; at end: $LOAD_END (other work on the machine skews the figures)"

for name in bundled full; do
    [ -n "${GW_PREFIX[$name]:-}" ] || continue
    f=${GW_PREFIX[$name]}/log/pop/error.log
    [ -s "$f" ] && NOTES+=("gateway '$name' error.log has $(wc -l <"$f") line(s); last: $(tail -n 3 "$f" | tr '\n' '|')")
done
# dovecot's master can take 30 s and more to end after SIGTERM: 5 s, then
# its process group is killed (all of it is ours and stateless).
kill -TERM "$DC_PID" 2>/dev/null
wait_until 5 eval '! alive $DC_PID'
kill -KILL -- "-$DC_PID" 2>/dev/null
if [ ${#NOTES[@]} -gt 0 ]; then
    echo
    echo "== Notes"
    printf -- '- %s\n' "${NOTES[@]}"
fi
exit 0
