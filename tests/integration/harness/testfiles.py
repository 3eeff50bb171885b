#!/usr/bin/env python3
"""testfiles - deterministic generator of the scanner test files.

    python3 tests/integration/harness/testfiles.py OUTDIR [--big]

or, from a test, generate(outdir, big=False) -> {name: path}.

Every file is the same, byte for byte, on every run (seeded PRNG, fixed
timestamps, our own ZipCrypto header). What is made, and why:

  clean_23k.bin, clean_1m.bin  deterministic pseudo-random bytes (clean)
  clean_100m.bin               the same, 100 MB (only with --big / big=True)
  clean_text_1m.txt            1 MB of deterministic English-like text
                               (random bytes are libclamav's slow case:
                               they hold many false embedded-file magics)
  eicar.com                    the EICAR test string (68 bytes)
  eicar.zip                    EICAR in a zip (1 level)
  nested_N.zip (N = 5, 6, 7)   N zips nested, EICAR in the innermost one
  encrypted.zip                ZipCrypto-encrypted zip (clean content)
  encrypted_eicar.zip          ZipCrypto-encrypted zip holding EICAR
  riskware.txt                 harmless text matched by the bundled PUA
                               test signature (PUA.Win.Tool.SekishoTest)
  riskware_eicar.zip           riskware.txt and eicar.com in one zip
  eicar.tar, eicar.tar.gz, eicar.tar.bz2, eicar.gz, eicar.bz2
  eicar.arj                    made with the `arj` tool when installed; the
                               one file that is not byte-identical between
                               runs (arj stamps its headers with the
                               current time; the main header's stamps are
                               normalised, the file header's are not)
  many_members.zip             3000 small clean members then EICAR, for the
                               per-request scan timeout test

SCAN-2 lists ZIP, ARJ, LZH, CAB, RAR, TAR, GZIP, BZIP2. LZH, CAB and RAR
are not generated: Debian ships only extractors for them (lhasa,
cabextract, unrar-free) and no writer is in Python's standard library.
"""
import bz2
import gzip
import io
import os
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib

EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
# Matched by databases/sekisho-test.ndb (PUA.Win.Tool.SekishoTest-1).
RISKWARE = (b"SEKISHO-RISKWARE-TEST-FILE: this harmless text is detected as\n"
            b"riskware (Tool.Win32.SekishoTest) by the Sekisho test definitions.\n")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)
FIXED_EPOCH = 1577836800
SEED = 0x5E1C15
MB = 1024 * 1024


def clean_bytes(size, seed=SEED):
    """Deterministic pseudo-random bytes (Mersenne Twister, fixed seed)."""
    return random.Random(seed + size).randbytes(size)


def clean_text(size, seed=SEED):
    words = [b"gateway", b"proxy", b"scan", b"mail", b"the", b"of", b"and", b"checkpoint",
             b"traveller", b"inspected", b"definitions", b"archive", b"server", b"client"]
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        line = b" ".join(rng.choice(words) for _ in range(rng.randint(6, 14)))
        out += line.capitalize() + b".\n"
    return bytes(out[:size])


def zip_bytes(members, compress=zipfile.ZIP_DEFLATED):
    """members: list of (name, bytes). Fixed time stamps -> same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = compress
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return out.getvalue()


def nested_zip(depth, payload=EICAR, name="eicar.com"):
    """depth zips, each holding the next; the innermost holds payload."""
    data = zip_bytes([(name, payload)])
    for level in range(2, depth + 1):
        data = zip_bytes([("level%d.zip" % (level - 1), data)])
    return data


def _crc_update(k, c):
    # Raw CRC-32 table step, as ZipCrypto defines it (APPNOTE 6.1.5).
    return zlib.crc32(bytes([c]), k ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def zipcrypto_encrypt(password, plain, crc, seed=SEED):
    """Traditional PKWARE encryption (APPNOTE 6.1) with a seeded header."""
    k = [0x12345678, 0x23456789, 0x34567890]

    def update(c):
        k[0] = _crc_update(k[0], c)
        k[1] = ((k[1] + (k[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k[2] = _crc_update(k[2], k[1] >> 24)

    def stream_byte():
        t = (k[2] | 2) & 0xFFFF
        return ((t * (t ^ 1)) >> 8) & 0xFF

    for c in password:
        update(c)
    header = bytearray(random.Random(seed).randbytes(11)) + bytes([crc >> 24])
    out = bytearray()
    for c in bytes(header) + plain:
        out.append(c ^ stream_byte())
        update(c)
    return bytes(out)


def encrypted_zip(name, plain, password=b"sekisho"):
    """A stored, ZipCrypto-encrypted one-member zip, written by hand
    because zipfile cannot encrypt."""
    crc = zlib.crc32(plain) & 0xFFFFFFFF
    enc = zipcrypto_encrypt(password, plain, crc)
    fname = name.encode()
    dos_time = 0
    dos_date = ((2020 - 1980) << 9) | (1 << 5) | 1
    flags, method, version = 0x0001, 0, 20
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, version, flags, method, dos_time,
                        dos_date, crc, len(enc), len(plain), len(fname), 0) + fname
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, flags,
                          method, dos_time, dos_date, crc, len(enc), len(plain),
                          len(fname), 0, 0, 0, 0, 0o644 << 16, 0) + fname
    cd_offset = len(local) + len(enc)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), cd_offset, 0)
    return local + enc + central + end


def tar_bytes(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = FIXED_EPOCH
            info.mode = 0o644
            info.uname = info.gname = "sekisho"
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def arj_bytes(name, data):
    """EICAR in an ARJ archive made by the `arj` tool, or None without it.
    arj stamps the archive with the current time: those two fields of the
    main header are overwritten and its CRC recomputed."""
    if shutil.which("arj") is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, name)
        with open(src, "wb") as f:
            f.write(data)
        os.utime(src, (FIXED_EPOCH, FIXED_EPOCH))
        arc = os.path.join(d, "out.arj")
        r = subprocess.run(["arj", "a", "-y", arc, name], cwd=d, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        if r.returncode != 0 or not os.path.exists(arc):
            return None
        with open(arc, "rb") as f:
            raw = bytearray(f.read())
    if raw[:2] != b"\x60\xea":
        return None
    size = struct.unpack_from("<H", raw, 2)[0]
    hdr = raw[4:4 + size]
    hdr[8:16] = struct.pack("<II", 0x50210000, 0x50210000)  # created, modified
    raw[4:4 + size] = hdr
    struct.pack_into("<I", raw, 4 + size, zlib.crc32(bytes(hdr)) & 0xFFFFFFFF)
    return bytes(raw)


def many_members_zip(count=3000):
    members = [("clean/%05d.txt" % i, b"sekisho clean member %d\n" % i * 8)
               for i in range(count)]
    members.append(("zz/eicar.com", EICAR))
    return zip_bytes(members)


def generate(outdir, big=False):
    """Write every test file into outdir; return {name: path}. Existing
    files with the right size are kept (the big one is slow to write)."""
    os.makedirs(outdir, exist_ok=True)
    files = {
        "clean_23k.bin": lambda: clean_bytes(23 * 1024),
        "clean_1m.bin": lambda: clean_bytes(MB),
        "clean_text_1m.txt": lambda: clean_text(MB),
        "eicar.com": lambda: EICAR,
        "eicar.zip": lambda: zip_bytes([("eicar.com", EICAR)]),
        "nested_5.zip": lambda: nested_zip(5),
        "nested_6.zip": lambda: nested_zip(6),
        "nested_7.zip": lambda: nested_zip(7),
        "encrypted.zip": lambda: encrypted_zip("readme.txt", b"nothing to see here\n" * 20),
        "encrypted_eicar.zip": lambda: encrypted_zip("eicar.com", EICAR),
        "riskware.txt": lambda: RISKWARE,
        "riskware_eicar.zip": lambda: zip_bytes([("tool.txt", RISKWARE), ("eicar.com", EICAR)]),
        "eicar.tar": lambda: tar_bytes([("eicar.com", EICAR)]),
        "eicar.tar.gz": lambda: gzip.compress(tar_bytes([("eicar.com", EICAR)]), mtime=0),
        "eicar.tar.bz2": lambda: bz2.compress(tar_bytes([("eicar.com", EICAR)])),
        "eicar.gz": lambda: gzip.compress(EICAR, mtime=0),
        "eicar.bz2": lambda: bz2.compress(EICAR),
        "eicar.arj": lambda: arj_bytes("eicar.com", EICAR),
        "many_members.zip": many_members_zip,
    }
    if big:
        files["clean_100m.bin"] = lambda: clean_bytes(100 * MB)
    paths = {}
    for name, make in files.items():
        path = os.path.join(outdir, name)
        data = make()
        if data is None:
            continue
        if not (os.path.exists(path) and os.path.getsize(path) == len(data)):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        paths[name] = path
    return paths


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    for name, path in sorted(generate(argv[1], big="--big" in argv[2:]).items()):
        print("%10d %s" % (os.path.getsize(path), path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
