#!/usr/bin/env python3
"""compare.py BENCH_BIN DIR - run `mime_bench ours|gmime dump` on every mail
in DIR (one process per mail and engine, 30 s timeout) and compare the leaf
lists: count, file names, decoded sizes and CRCs (types are compared too,
but listed apart: GMime says application/octet-stream where RFC 2045 and
we say text/plain). Prints one line per mail and the totals."""
import os
import subprocess
import sys


def run(binary, engine, path):
    try:
        p = subprocess.run([binary, engine, "dump", path], capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return None, "TIMEOUT"
    if p.returncode != 0:
        return None, "EXIT %d %s" % (p.returncode, p.stderr[-200:])
    leaves, flags = [], ""
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f = line.split("\t")
        if f[0] == "leaf":
            leaves.append((f[1], f[2], f[3], int(f[4]), f[5]))
        elif f[0] == "flags":
            flags = f[1].strip()
    return leaves, flags


def fmt(leaves):
    return " | ".join("%s %s %r %d/%s" % l for l in leaves[:6]) + (
        " | ... (%d)" % len(leaves) if len(leaves) > 6 else "")


def main():
    binary, d = sys.argv[1], sys.argv[2]
    agree = same_content = differ = failed = 0
    for n in sorted(os.listdir(d)):
        path = os.path.join(d, n)
        lo, fo = run(binary, "ours", path)
        lg, fg = run(binary, "gmime", path)
        if lo is None or lg is None:
            failed += 1
            print("FAIL   %s ours=%s gmime=%s" % (n, fo if lo is None else "ok",
                                                 fg if lg is None else "ok"))
            continue
        key_o = [(l[2], l[3], l[4]) for l in lo]
        key_g = [(l[2], l[3], l[4]) for l in lg]
        if key_o == key_g and [l[0] for l in lo] == [l[0] for l in lg]:
            agree += 1
            print("AGREE  %s (%d leaves) ours[%s] gmime[%s]" % (n, len(lo), fo, fg))
        elif key_o == key_g:
            same_content += 1
            print("TYPES  %s (%d leaves) ours[%s] gmime[%s]\n  ours : %s\n  gmime: %s"
                  % (n, len(lo), fo, fg, fmt(lo), fmt(lg)))
        else:
            differ += 1
            print("DIFFER %s ours[%s] gmime[%s]\n  ours : %s\n  gmime: %s"
                  % (n, fo, fg, fmt(lo), fmt(lg)))
    print("total: %d agree, %d same leaves but other types, %d differ, %d failed"
          % (agree, same_content, differ, failed))


if __name__ == "__main__":
    main()
