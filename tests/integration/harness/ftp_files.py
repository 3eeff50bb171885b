"""Fixture files for the FTP tests, written into a vsftpd anon_root.

    from harness import ftp_files
    files = ftp_files.generate(anon_root)        # {name: path}
    big = ftp_files.sparse_file(path, ftp_files.GB)

What generate() writes (deterministic bytes: testfiles' seeded PRNG and
fixed zip time stamps, so a test compares with ftp_files.content(name)
or a hash of the file on disk):

  clean_1k.bin         1024 pseudo-random bytes (clean)
  clean_10m.bin        10 MiB pseudo-random bytes (clean); made at test
                       time, kept when an earlier run left one of the
                       right size
  eicar.com            the EICAR test string (68 bytes)
  eicar.zip            EICAR in a zip
  eicar_passed.jpg     EICAR under a name whose extension a test puts in
                       pass_ext_list: relayed unscanned, so it arrives
  clean_blocked.exe    clean bytes under an extension a block list names

Every file is mode 644 and every directory made 755: vsftpd serves an
anonymous user only world-readable files (anon_world_readable_only).

sparse_file() makes a file of any size (1 GiB for the large-transfer
tests) without writing its bytes: a hole reads as zeros, so it costs no
disk and no time to make; vsftpd serves it like any file. stream_bytes()
yields the same zeros in chunks, for a client that uploads it.
"""
import os

from . import testfiles

KB = 1024
MB = 1024 * KB
GB = 1024 * MB
CHUNK = MB

FIXTURES = {
    "clean_1k.bin": lambda: testfiles.clean_bytes(KB),
    "clean_10m.bin": lambda: testfiles.clean_bytes(10 * MB),
    "eicar.com": lambda: testfiles.EICAR,
    "eicar.zip": lambda: testfiles.zip_bytes([("eicar.com", testfiles.EICAR)]),
    "eicar_passed.jpg": lambda: testfiles.EICAR,
    "clean_blocked.exe": lambda: testfiles.clean_bytes(4 * KB, seed=testfiles.SEED + 1),
}


def content(name):
    """The bytes generate() writes as name."""
    return FIXTURES[name]()


def generate(outdir, names=None):
    """Write the fixtures (all, or those named) into outdir; {name: path}.
    A file of the right size from an earlier run is kept."""
    os.makedirs(outdir, exist_ok=True)
    os.chmod(outdir, 0o755)
    paths = {}
    for name in names or FIXTURES:
        data = FIXTURES[name]()
        path = os.path.join(outdir, name)
        if not (os.path.exists(path) and os.path.getsize(path) == len(data)):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        os.chmod(path, 0o644)
        paths[name] = path
    return paths


def sparse_file(path, size=GB):
    """A file of size bytes, all zeros, made as a hole (truncate): no
    bytes are written. Returns path."""
    with open(path, "wb") as f:
        f.truncate(size)
    os.chmod(path, 0o644)
    return path


def stream_bytes(size=GB, chunk=CHUNK):
    """size zero bytes in chunks of at most chunk (what sparse_file reads
    as), for an upload that must not hold the file in memory."""
    block = bytes(chunk)
    left = size
    while left > 0:
        n = min(left, chunk)
        yield block if n == chunk else block[:n]
        left -= n
