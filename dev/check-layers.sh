#!/usr/bin/env bash
# check-layers - enforce the include layer rule of docs/architecture.md.
#   lib      -> nothing of ours (only lib/)
#   proto    -> lib/str, lib/buf, proto/
#   core     -> lib/, proto/, core/
#   clam     -> lib/, proto/, clam/ (the libclamav code scand and dbupdate share)
#   proxy/X  -> lib/, proto/, core/, the shared modules directly in proxy/
#               (proxy_*.h, spam_*.h ...) and proxy/X/ (never a sibling)
#   master   -> everything above
#   scand    -> lib/, proto/, core/config*, clam/, scand/
#   tools, pam -> lib/, core/, proto/, own folder; tools/dbupdate also clam/
#   admin    -> lib/, core/, proto/, admin/ (one program: sekisho-admin)
# System headers: <clamav.h> only in scand/ and clam/, <libfreshclam.h> only
# in tools/dbupdate/ (the binaries linked with those libraries).
set -u
cd "$(dirname "$0")/.." || exit 2
bad=0
violation() { echo "layer violation: $1 includes \"$2\""; bad=1; }
while IFS= read -r f; do
    layer=${f#src/}; layer=${layer%%/*}
    sub=$(echo "$f" | cut -d/ -f3)
    while IFS= read -r inc; do
        case "$layer" in
        lib) [[ $inc == lib/* ]] || violation "$f" "$inc" ;;
        proto) [[ $inc == lib/str.h || $inc == lib/buf.h || $inc == proto/* ]] || violation "$f" "$inc" ;;
        core) [[ $inc == lib/* || $inc == proto/* || $inc == core/* ]] || violation "$f" "$inc" ;;
        clam) [[ $inc == lib/* || $inc == proto/* || $inc == clam/* ]] || violation "$f" "$inc" ;;
        proxy) [[ $inc == lib/* || $inc == proto/* || $inc == core/* || ($inc == proxy/* && $inc != proxy/*/*) || $inc == proxy/$sub/* ]] || violation "$f" "$inc" ;;
        master) ;;
        scand) [[ $inc == lib/* || $inc == proto/* || $inc == core/config* || $inc == clam/* || $inc == scand/* ]] || violation "$f" "$inc" ;;
        admin) [[ $inc == lib/* || $inc == proto/* || $inc == core/* || $inc == admin/* ]] || violation "$f" "$inc" ;;
        tools|pam) [[ $inc == lib/* || $inc == proto/* || $inc == core/* || $inc == $layer/$sub/* ||
            ($layer/$sub == tools/dbupdate && $inc == clam/*) ]] || violation "$f" "$inc" ;;
        esac
    done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    if [[ $layer != scand && $layer != clam ]] && grep -q '^#[[:space:]]*include[[:space:]]*<clamav.h>' "$f"; then
        violation "$f" "<clamav.h>"
    fi
    if [[ ${f#src/} != tools/dbupdate/* ]] && grep -q '^#[[:space:]]*include[[:space:]]*<libfreshclam.h>' "$f"; then
        violation "$f" "<libfreshclam.h>"
    fi
done < <(find src -name '*.[ch]' | sort)
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad
