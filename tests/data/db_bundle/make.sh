#!/usr/bin/env bash
# make.sh - regenerate the GNU tar fixtures of tests/unit/proto/test_db_bundle.c.
#
# Real archives written by GNU tar (the bundles an administrator makes), so
# the header parser is tested on what tar writes, not only on headers the
# test builds itself. Deterministic (fixed mtime, owner, order, modes) so a
# re-run reproduces the committed files byte for byte with the same tar.
#   good_ustar.tar   --format=ustar: "./", "./daily.ndb", "./local.hdb"
#   gnu_symlink.tar  --format=gnu: "test.ndb", then "link.ndb" -> test.ndb
#   ustar_unsafe.tar --format=ustar -P: "../x.ndb", then a file whose path
#                    is over 100 bytes (so tar splits it into prefix/name)
#   pax.tar          --format=pax, mtime with a fraction: a pax header ('x') first
# The test checks names, sizes and contents (the file contents below).
set -eu
cd "$(dirname "$0")"
out=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TAR=(tar --mtime=@0 --owner=0 --group=0 --numeric-owner --sort=name --blocking-factor=1)

mkdir -p "$tmp/good"
printf 'Sekisho.Test.Daily:0:*:5345_4b495348_4f\n' >"$tmp/good/daily.ndb"
printf '44d88612fea8a8f36de82e1278abb02f:68:Sekisho.Test.Hash\n' >"$tmp/good/local.hdb"
chmod 0644 "$tmp/good/"*; chmod 0755 "$tmp/good"
"${TAR[@]}" --format=ustar -C "$tmp/good" -cf "$out/good_ustar.tar" .

mkdir -p "$tmp/sym"
printf 'Sekisho.Test.Sym:0:*:73796d\n' >"$tmp/sym/test.ndb"
chmod 0644 "$tmp/sym/test.ndb"
ln -s test.ndb "$tmp/sym/link.ndb"
"${TAR[@]}" --format=gnu -C "$tmp/sym" -cf "$out/gnu_symlink.tar" test.ndb link.ndb

long=a123456789/b123456789/c123456789/d123456789/e123456789/f123456789/g123456789/h123456789/i123456789
mkdir -p "$tmp/up/sub" "$tmp/up/sub/$long"
printf 'Sekisho.Test.Up:0:*:7570\n' >"$tmp/up/x.ndb"
printf 'Sekisho.Test.Deep:0:*:64656570\n' >"$tmp/up/sub/$long/deep.ndb"
chmod 0644 "$tmp/up/x.ndb" "$tmp/up/sub/$long/deep.ndb"
"${TAR[@]}" --format=ustar -P -C "$tmp/up/sub" -cf "$out/ustar_unsafe.tar" ../x.ndb "$long/deep.ndb"

mkdir -p "$tmp/pax"
printf 'Sekisho.Test.Pax:0:*:706178\n' >"$tmp/pax/pax.ndb"
chmod 0644 "$tmp/pax/pax.ndb"
"${TAR[@]}" --format=pax --mtime=@1.5 --pax-option=delete=atime,delete=ctime \
    -C "$tmp/pax" -cf "$out/pax.tar" pax.ndb
