#!/usr/bin/env bash
# run.sh - the whole test suite: lint, unit, fuzz replay and short fuzzing,
# integration; then unit and integration again under ASan+UBSan.
# Ends with the line "N passed, N failed"; exit status 0 only if none failed.
#
#   tests/run.sh              everything
#   tests/run.sh --no-san     skip the sanitizer pass
#   tests/run.sh --only unit|fuzz|integration|lint   one stage (normal build)
#   SEKISHO_TEST_FILTER=word  only integration tests whose id contains word
set -u
cd "$(dirname "$0")/.." || exit 2
JOBS=$(nproc 2>/dev/null || echo 2)
SAN=1 ONLY=""
while [ $# -gt 0 ]; do
    case "$1" in
    --no-san) SAN=0 ;;
    --only) ONLY=$2; shift ;;
    *) echo "usage: $0 [--no-san] [--only stage]" >&2; exit 2 ;;
    esac
    shift
done
PASSED=0 FAILED=0
FAILURES=()
ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() { FAILED=$((FAILED + 1)); FAILURES+=("$1"); echo "not ok - $1"; }
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

# run_unit BUILD_DIR LABEL: every cmocka binary, one result per test case (TAP).
run_unit() {
    local b=$1 label=$2 t out
    for t in "$b"/tests/*/test_*; do
        [ -x "$t" ] || continue
        out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout 300 "$t" 2>&1)
        local rc=$? n=0
        while IFS= read -r line; do
            case "$line" in
            "ok "*) ok "$label $(basename "$t"): ${line#ok * - }"; n=$((n + 1)) ;;
            "not ok "*) not_ok "$label $(basename "$t"): ${line#not ok * - }"; n=$((n + 1)); echo "$out" | sed 's/^/    /' | tail -20 ;;
            esac
        done <<<"$out"
        if [ $n -eq 0 ] || { [ $rc -ne 0 ] && ! grep -q '^not ok' <<<"$out"; }; then
            not_ok "$label $(basename "$t") (exit $rc)"
            echo "$out" | tail -20 | sed 's/^/    /'
        fi
    done
}

# run_integration BUILD_DIR LABEL [KEY_TRACE_FILE]: the integration tests in
# SEKISHO_TEST_RUNNERS (3) runners side by side; each claims whole test
# modules from a shared directory (run.py), so a slow module on one does not
# hold up the others. Most of a test's time is spent waiting on servers (a
# whole run kept the two cores 46% busy with two runners), so three runners
# fit two cores. What a test keeps for people to look at (the console's
# screenshots) goes to $SEKISHO_ARTIFACTS, <build dir>/artifacts unless set.
run_integration() {
    local b=$1 label=$2 trace=${3:-} line claim out i start=$SECONDS
    local runners=${SEKISHO_TEST_RUNNERS:-3} modules=()
    # Under ASan every process is several times heavier: two runners there
    # (a timing-sensitive greeting check failed once with three).
    [ "$b" = build-san ] && runners=${SEKISHO_SAN_RUNNERS:-2}
    claim=$(mktemp -d)
    out=()
    local pids=()
    for ((i = 0; i < runners; i++)); do
        out+=("$claim.out$i")
        SEKISHO_BUILD="$PWD/$b" SEKISHO_KEY_TRACE="$trace" SEKISHO_TEST_CLAIM_DIR="$claim" \
            SEKISHO_ARTIFACTS="${SEKISHO_ARTIFACTS:-$PWD/$b/artifacts}" \
            timeout 1800 python3 tests/integration/run.py >"$claim.out$i" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
    for f in "${out[@]}"; do
        grep -q '^RUNNER DONE' "$f" || not_ok "$label runner ${f##*.out} did not finish (timeout or crash)"
        while IFS= read -r line; do
            case "$line" in
            "PASS "*) ok "$label ${line#PASS }" ;;
            "FAIL "*) not_ok "$label ${line#FAIL }" ;;
            "RUNNER DONE "*) ;;
            "MODULE "*) modules+=("${line#MODULE }") ;;
            *) echo "    $line" ;;
            esac
        done <"$f"
        rm -f "$f"
    done
    rm -rf "$claim"
    # Where the time goes (the whole command must stay under 20 minutes):
    # the stage's wall time and its slowest modules (each on one runner).
    echo "# $label: $((SECONDS - start)) s with $runners runners; slowest modules:" \
        "$(printf '%s\n' "${modules[@]}" | sort -k2 -rn | head -8 | awk '{printf "%s%s %ss", (NR > 1 ? ", " : ""), $1, $2}')"
}

if want lint; then
    # dev/lint.sh (also `make lint`) prints one ok/not ok line per check.
    out=$(dev/lint.sh 2>&1)
    rc=$?
    while IFS= read -r line; do
        case "$line" in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) not_ok "${line#not ok - }" ;;
        *) echo "$line" ;;
        esac
    done <<<"$out"
    if [ $rc -ne 0 ] && ! grep -q '^not ok' <<<"$out"; then not_ok "lint (dev/lint.sh exit $rc)"; fi
fi

if ! make -s -j"$JOBS" >/tmp/sekisho-build.$$ 2>&1; then
    not_ok "build"; tail -40 /tmp/sekisho-build.$$
    echo "$PASSED passed, $FAILED failed"; exit 1
fi
ok "build"
rm -f /tmp/sekisho-build.$$

stage_start=$SECONDS
want unit && run_unit build unit && echo "# unit: $((SECONDS - stage_start)) s"

# The fuzzers' build (clang, ASan+UBSan, build-fuzz/) and the sanitizer
# build (build-san/) are separate trees that nothing before them needs: in a
# whole run they are made in the background at the lowest priority while
# unit, fuzz replay and integration run (integration leaves the cores about
# half idle, waiting on servers), so they take CPU only when the tests leave
# it. They run one after the other, each with -j$JOBS.
bgdir=$(mktemp -d)
bg_builds() {
    (nice -n 19 make -s -j"$JOBS" fuzz >"$bgdir/fuzz.log" 2>&1; echo $? >"$bgdir/fuzz.rc"
     if [ "$SAN" -eq 1 ] && [ -z "$ONLY" ]; then
         nice -n 19 make -s -j"$JOBS" SAN=1 >"$bgdir/san.log" 2>&1; echo $? >"$bgdir/san.rc"
     fi) &
}
# bg_wait NAME: wait (at most 30 minutes) for background build NAME; true if it succeeded.
bg_wait() {
    local i
    for ((i = 0; i < 1800; i++)); do
        [ -f "$bgdir/$1.rc" ] && break
        sleep 1
    done
    [ "$(cat "$bgdir/$1.rc" 2>/dev/null)" = 0 ]
}
want fuzz && command -v clang >/dev/null && bg_builds

if want fuzz; then
    stage_start=$SECONDS
    for r in build/fuzz/replay_fuzz_*; do
        [ -x "$r" ] || continue
        name=${r##*/replay_fuzz_}
        if [ -d "fuzz/corpus/$name" ] && out=$(timeout 300 "$r" "fuzz/corpus/$name" 2>&1); then
            ok "fuzz replay $name: $out"
        else
            not_ok "fuzz replay $name"; echo "${out:-no corpus fuzz/corpus/$name}" | tail -20 | sed 's/^/    /'
        fi
    done
    echo "# fuzz replay: $((SECONDS - stage_start)) s"
fi

if want integration; then
    # Every daemon the tests start appends the keys it was given away from
    # their defaults (config_trace_keys); the daemons run as nobody, so the
    # file is writable by all in a directory of its own.
    tracedir=$(mktemp -d)
    chmod 755 "$tracedir"
    install -m 666 /dev/null "$tracedir/keys.trace"
    run_integration build integration "$tracedir/keys.trace"
    if [ -z "${SEKISHO_TEST_FILTER:-}" ]; then
        if out=$(python3 tests/check-key-coverage.py "$tracedir/keys.trace" 2>&1); then
            ok "key coverage: $(tail -1 <<<"$out")"
        else
            not_ok "key coverage"; sed 's/^/    /' <<<"$out"
        fi
    fi
    rm -rf "$tracedir"
fi

if want fuzz; then
    stage_start=$SECONDS
    if command -v clang >/dev/null && bg_wait fuzz; then
        # One libFuzzer run per core at a time (each is single-threaded);
        # the results are reported in target order afterwards.
        fuzzdir=$(mktemp -d)
        names=()
        for f in build-fuzz/fuzz/fuzz_*; do
            [ -x "$f" ] || continue
            name=${f##*/fuzz_}
            names+=("$name")
            mkdir -p "$fuzzdir/$name"
            cp -r "fuzz/corpus/$name/." "$fuzzdir/$name/" 2>/dev/null
            dict=(); [ -f "fuzz/dict/$name.dict" ] && dict=(-dict="fuzz/dict/$name.dict")
            while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
            (timeout 120 "$f" -max_total_time="${SEKISHO_FUZZ_SECONDS:-3}" -rss_limit_mb=2048 \
                -artifact_prefix="$fuzzdir/$name/" "${dict[@]}" "$fuzzdir/$name" \
                >"$fuzzdir/$name.log" 2>&1; echo $? >"$fuzzdir/$name.rc") &
        done
        wait
        for name in "${names[@]}"; do
            if [ "$(cat "$fuzzdir/$name.rc" 2>/dev/null)" = 0 ]; then
                ok "fuzz $name: $(grep -o 'stat::number_of_executed_units: [0-9]*\|Done [0-9]* runs' "$fuzzdir/$name.log" | tail -1)"
            else
                not_ok "fuzz $name"; tail -30 "$fuzzdir/$name.log" | sed 's/^/    /'
                ls "$fuzzdir/$name"/crash-* "$fuzzdir/$name"/leak-* 2>/dev/null | sed 's/^/    artifact: /'
            fi
        done
        rm -rf "$fuzzdir"
    else
        not_ok "fuzz build"; tail -20 "$bgdir/fuzz.log" 2>/dev/null
    fi
    echo "# fuzzing (after the background build): $((SECONDS - stage_start)) s"
fi

if [ $SAN -eq 1 ] && [ -z "$ONLY" ]; then
    # Made in the background after the fuzzers when clang is there;
    # otherwise here.
    if { [ -f "$bgdir/fuzz.rc" ] && bg_wait san; } ||
        { [ ! -f "$bgdir/fuzz.rc" ] && make -s -j"$JOBS" SAN=1 >"$bgdir/san.log" 2>&1; }; then
        ok "build asan+ubsan"
        export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
        run_unit build-san asan
        run_integration build-san asan
    else
        not_ok "build asan+ubsan"; tail -40 "$bgdir/san.log"
    fi
fi
wait
rm -rf "$bgdir"

if [ $FAILED -gt 0 ]; then
    echo "failures:"; printf '  %s\n' "${FAILURES[@]}"
fi
echo "$PASSED passed, $FAILED failed in $((SECONDS / 60)) min $((SECONDS % 60)) s"
[ $FAILED -eq 0 ]
