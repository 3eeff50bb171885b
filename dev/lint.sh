#!/usr/bin/env bash
# lint - the static checks: the layer rule (dev/check-layers.sh), clang-format
# on every tracked C file, cppcheck over src, fuzz, tests/unit and tests/tools. One line
# "ok - lint: <check>" or "not ok - lint: <check>" per check (what failed
# follows, indented); exit status 0 only if every check passed. `make lint`
# runs it, and so does the lint stage of tests/run.sh, which counts its lines.
set -u
cd "$(dirname "$0")/.." || exit 2
failed=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
report() { # report NAME STATUS: the check's line, and its output if it failed
    if [ "$2" -eq 0 ]; then
        echo "ok - lint: $1"
    else
        echo "not ok - lint: $1"
        head -40 "$out" | sed 's/^/    /'
        failed=1
    fi
}

dev/check-layers.sh >"$out" 2>&1
report "layer rule" $?

git ls-files '*.c' '*.h' | while read -r f; do
    [ -f "$f" ] && ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1 && echo "$f"
done >"$out"
[ -s "$out" ]
report "clang-format" $((1 - $?))

cppcheck -j "$(nproc)" --quiet --error-exitcode=1 --std=c11 --enable=warning,portability,performance \
    --inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -Isrc src fuzz tests/unit tests/tools \
    >"$out" 2>&1
report "cppcheck" $?

exit $failed
