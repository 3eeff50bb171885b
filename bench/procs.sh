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
