#!/usr/bin/env bash
# gen-config-doc - regenerate the key reference of docs/man/sekisho.ini.5.md
# from src/core/config_keys.def (through config_doc_write() of the built
# library), replacing the text between the BEGIN/END GENERATED KEYS markers.
#
#   dev/gen-config-doc.sh          rewrite the manual page in place
#   dev/gen-config-doc.sh --check  exit 1 if the page is out of date
#
# tests/unit/core/test_config.c makes the same check in the unit tests.
set -eu
cd "$(dirname "$0")/.."
doc=docs/man/sekisho.ini.5.md
begin='<!-- BEGIN GENERATED KEYS (dev/gen-config-doc.sh) -->'
end='<!-- END GENERATED KEYS -->'
make -s build/libsekisho.a
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/gen.c" <<'C'
#include <stdio.h>
#include "core/config.h"
int main(void)
{
    config_doc_write(stdout);
    return 0;
}
C
${CC:-cc} -std=c11 -D_GNU_SOURCE -Isrc -o "$tmp/gen" "$tmp/gen.c" build/libsekisho.a
"$tmp/gen" >"$tmp/keys.md"
grep -qxF "$begin" "$doc" && grep -qxF "$end" "$doc" || { echo "$doc: markers missing" >&2; exit 2; }
awk -v b="$begin" -v e="$end" -v keys="$tmp/keys.md" '
    $0 == b { print; while ((getline line < keys) > 0) print line; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }' "$doc" >"$tmp/new.md"
if [ "${1:-}" = "--check" ]; then
    if cmp -s "$doc" "$tmp/new.md"; then echo "$doc: up to date"; else
        echo "$doc: out of date, run dev/gen-config-doc.sh" >&2; exit 1; fi
else
    cp "$tmp/new.md" "$doc"
    echo "$doc: regenerated ($(grep -c '^### ' "$doc") keys)"
fi
