#!/usr/bin/env python3
"""unique_pool.py - the pools of distinct bodies of bench/http.sh's unique mode.

    unique_pool.py ensure DIR COUNT SIZE
    unique_pool.py stamp DIR COUNT
    unique_pool.py heads DIR < INDEXES

ensure: DIR holds the files f0000000.bin .. f{COUNT-1:07d}.bin of SIZE
pseudo-random bytes each (os.urandom; kept across runs: only missing files or
files of another size are written), then reads every one of them once, so
that the bench measures the page cache and not the disk. Prints one line:
    POOL dir= count= size= written= sync_s= read_s= pool_mb=
(sync_s: syncfs after writing, so that the writeback does not run during
the bench.)
(http.sh checks beforehand that its pools fit in RAM.)

stamp: writes a fresh 16-byte nonce over the head of the files 0 .. COUNT-1
(pwrite, nothing else of the file changes): 8 random bytes drawn once per
call and the file's index, so no two files of one stamp and no two stamps
carry the same head. bench/http.sh stamps the files a scanned cell handed
out before the next scanned cell, so no scanner's cache (libclamav's clean
cache: MD5 of the content; Sekisho's verdict cache: SHA-256; clamd's) ever
sees a body again. The dirty pages are written back (syncfs) before it
returns, not during the next cell. Prints:
    STAMP dir= count= seconds= sync_s=
Files beyond COUNT (a pool made larger by an earlier run) are left alone.

heads: for each file index on stdin (one a line), its current 16-byte head in
hex, one a line: the identity of the body it serves now (http.sh's check
run, BENCH_ORIGIN_LOG=1, collects them per scanner to find repeats).
"""

import ctypes
import os
import struct
import sys
import time

NONCE_BYTES = 16
READ_CHUNK = 1 << 20


def syncfs(directory):
    """Writes the file system's dirty pages back now, so that the writeback
    of what was just written does not run during the next cell. Returns the
    seconds it took."""
    t0 = time.monotonic()
    fd = os.open(directory, os.O_RDONLY)
    try:
        if ctypes.CDLL(None, use_errno=True).syncfs(fd) != 0:
            raise OSError(ctypes.get_errno(), "syncfs " + directory)
    finally:
        os.close(fd)
    return time.monotonic() - t0


def name(directory, index):
    return os.path.join(directory, "f%07d.bin" % index)


def ensure(directory, count, size):
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    written = 0
    for i in range(count):
        path = name(directory, i)
        try:
            if os.stat(path).st_size == size:
                continue
        except FileNotFoundError:
            pass
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(os.urandom(size))
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)
        written += 1
    sync_s = syncfs(directory) if written else 0.0
    # Read once: every page of the pool in the page cache before a cell.
    t0 = time.monotonic()
    buf = bytearray(READ_CHUNK)
    for i in range(count):
        fd = os.open(name(directory, i), os.O_RDONLY)
        try:
            while os.readv(fd, [buf]) == READ_CHUNK:
                pass
        finally:
            os.close(fd)
    read_s = time.monotonic() - t0
    print("POOL dir=%s count=%d size=%d written=%d sync_s=%.1f read_s=%.1f pool_mb=%.0f"
          % (directory, count, size, written, sync_s, read_s, count * size / 1e6))
    return 0


def stamp(directory, count):
    t0 = time.monotonic()
    tag = os.urandom(NONCE_BYTES - 8)
    for i in range(count):
        fd = os.open(name(directory, i), os.O_WRONLY)
        try:
            if os.pwrite(fd, tag + struct.pack(">Q", i), 0) != NONCE_BYTES:
                raise OSError("short pwrite to %s" % name(directory, i))
        finally:
            os.close(fd)
    stamp_s = time.monotonic() - t0
    print("STAMP dir=%s count=%d seconds=%.2f sync_s=%.2f" % (directory, count, stamp_s, syncfs(directory)))
    return 0


def heads(directory):
    for line in sys.stdin:
        if not line.strip():
            continue
        fd = os.open(name(directory, int(line)), os.O_RDONLY)
        try:
            sys.stdout.write(os.pread(fd, NONCE_BYTES, 0).hex() + "\n")
        finally:
            os.close(fd)
    return 0


def main(argv):
    if len(argv) == 5 and argv[1] == "ensure":
        return ensure(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) == 4 and argv[1] == "stamp":
        return stamp(argv[2], int(argv[3]))
    if len(argv) == 3 and argv[1] == "heads":
        return heads(argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
