"""Test databases for the definition-update tests, made with ClamAV's own
tools (Debian package clamav: sigtool, clamscan).

Detecting a new file:
- marker_file(path, tag) writes a harmless text file holding a marker
  string of its own ("SEKISHO-DBUPDATE-TEST-MARKER:<tag>:<32 random hex>"),
  so that a signature made for it detects that file and nothing else;
- ndb_for(path) is an .ndb line (body signature, any file type, any
  offset) for the marker of such a file, the hex from `sigtool
  --hex-dump`; hdb_for(path) an .hdb line (MD5 of the whole file) from
  `sigtool --md5`. The signature name is "Sekisho.Test.<tag>"; libclamav
  reports a signature from a database that is not an official signed
  one with ".UNOFFICIAL" appended (clamscan prints
  "Sekisho.Test.<tag>.UNOFFICIAL FOUND");
- write_db(dir, filename, lines) writes a database file;
- unsigned_cud(version, lines) is a real ClamAV container (header,
  gzip'd tar with the .ndb and its .info) built by `sigtool --build
  --unsigned`: libclamav loads it without a digital signature, and it
  has a version, a signature count and a build time like a CVD.

Databases libclamav refuses:
- malformed_ndb(): an .ndb line whose signature is not hex ("Malformed
  database");
- fake_cvd(version, sigs): the container of unsigned_cud() behind a
  well-formed 512-byte CVD header ("ClamAV-VDB:<build time>:<version>:
  <sigs>:<flevel>:<md5>:<dsig>:<builder>:<stime>", space-padded) whose MD5
  is right and whose digital signature is made up: the signature is the
  only thing wrong with it (the same bytes named .cud load), and libclamav
  prints "cli_decodesig: Resulting signature too large (128 vs 16)" and
  "Can't verify database integrity";
- truncated(path, n): the first n bytes of a file (a CVD cut in its
  header: "Broken or not a CVD file"; in its body: "Malformed database").

Offline bundles: bundle(path, files, fmt, extra) writes a tarball (gzip'd
or plain) with Python's tarfile: the database files given, then hostile
entries (Entry objects from traversal(), absolute(), symlink(),
hardlink(), non_database(), huge()).

clamscan(dbs, target) runs `clamscan --no-summary -d ...` and returns
(exit code, the names found, the output): the check that a database is,
or is not, what libclamav loads.
"""
import collections
import gzip
import hashlib
import io
import os
import re
import secrets
import subprocess
import tarfile
import tempfile
import time

from . import SLOW

SIGTOOL = "/usr/bin/sigtool"
CLAMSCAN = "/usr/bin/clamscan"
MARKER_PREFIX = "SEKISHO-DBUPDATE-TEST-MARKER"
MARKER_RX = re.compile(MARKER_PREFIX.encode() + rb":([A-Za-z0-9_-]+):[0-9a-f]{32}")
TAG_RX = re.compile(r"^[A-Za-z0-9_-]+$")
CVD_HEADER_SIZE = 512
# ClamAV's alphabet for the dsig field (sigtool's encoding of the RSA
# signature: 86 characters of a-z A-Z 0-9 + /).
DSIG_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"


def available():
    """None when the ClamAV tools are here, else the reason they are not."""
    for tool in (SIGTOOL, CLAMSCAN):
        if not os.access(tool, os.X_OK):
            return "%s is missing (Debian package clamav; dev/install-deps.sh test)" % tool
    return None


def _run(argv, data=None, cwd=None):
    return subprocess.run(argv, input=data, capture_output=True, cwd=cwd, timeout=60 * SLOW)


def signature_name(tag):
    return "Sekisho.Test.%s" % tag


def hex_dump(data):
    """sigtool --hex-dump of data (bytes): the hex of an .ndb body."""
    out = _run([SIGTOOL, "--hex-dump"], data)
    if out.returncode != 0:
        raise RuntimeError("sigtool --hex-dump: %s" % out.stderr.decode("utf-8", "replace"))
    return out.stdout.decode().strip()


# -- files to detect ---------------------------------------------------------

def marker_file(path, tag):
    """Write a harmless text file with a unique marker; the marker (str)."""
    if not TAG_RX.match(tag):
        raise ValueError("tag %r: letters, digits, - and _ only" % tag)
    marker = "%s:%s:%s" % (MARKER_PREFIX, tag, secrets.token_hex(16))
    with open(path, "w") as f:
        f.write("A Sekisho definition-update test file, harmless text.\n%s\n"
                "A signature made for the marker above detects this file only.\n" % marker)
    return marker


def marker_of(path):
    """(marker, tag) of a marker_file."""
    with open(path, "rb") as f:
        m = MARKER_RX.search(f.read())
    if not m:
        raise ValueError("%s holds no %s" % (path, MARKER_PREFIX))
    return m.group(0).decode(), m.group(1).decode()


def ndb_for(path, name=None):
    """An .ndb line (no newline) detecting the marker of the marker_file at
    path; name defaults to Sekisho.Test.<tag>."""
    marker, tag = marker_of(path)
    return "%s:0:*:%s" % (name or signature_name(tag), hex_dump(marker.encode()))


def hdb_for(path, name=None):
    """An .hdb line "md5:size:name" for the whole file at path (sigtool
    --md5); name defaults to Sekisho.Test.<tag> for a marker_file, else
    Sekisho.Test.<file name>."""
    out = _run([SIGTOOL, "--md5", path])
    if out.returncode != 0:
        raise RuntimeError("sigtool --md5: %s" % out.stderr.decode("utf-8", "replace"))
    md5, size, _ = out.stdout.decode().strip().split(":", 2)
    if name is None:
        try:
            name = signature_name(marker_of(path)[1])
        except ValueError:
            name = signature_name(re.sub(r"[^A-Za-z0-9_-]", "_", os.path.basename(path)))
    return "%s:%s:%s" % (md5, size, name)


def write_db(directory, filename, lines):
    """Write the database file directory/filename: lines (str), one a line,
    or the content as bytes. Returns its path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, filename)
    data = lines if isinstance(lines, bytes) else "".join(l + "\n" for l in lines).encode()
    with open(path, "wb") as f:
        f.write(data)
    return path


# -- containers ---------------------------------------------------------------

def _default_lines(db):
    return ["Sekisho.Test.%sContainer:0:*:%s"
            % (db.capitalize(), hex_dump(("SEKISHO-%s-CONTAINER-TEST" % db.upper()).encode()))]


def unsigned_cud(version, lines=None, db="daily", builder="sekisho"):
    """A .cud (bytes) built by sigtool --build --unsigned from <db>.ndb with
    lines (default: one harmless signature); header version = version."""
    with tempfile.TemporaryDirectory(prefix="sekisho-cud-") as d:
        write_db(d, db + ".ndb", lines or _default_lines(db))
        with open(os.path.join(d, "COPYING"), "w") as f:
            f.write("Test database of the Sekisho test suite.\n")
        # sigtool asks for the builder's name on stdin; --datadir: no older
        # container to take a version from.
        out = _run([SIGTOOL, "--build=%s.cud" % db, "--unsigned", "--cvd-version=%d" % version,
                    "--datadir=" + d], (builder + "\n").encode(), cwd=d)
        cud = os.path.join(d, db + ".cud")
        if out.returncode != 0 or not os.path.exists(cud):
            raise RuntimeError("sigtool --build: %s%s" % (out.stdout.decode("utf-8", "replace"),
                                                          out.stderr.decode("utf-8", "replace")))
        with open(cud, "rb") as f:
            return f.read()


def cvd_header(data):
    """The fields of a CVD/CLD/CUD header (bytes of the file or its first
    512): dict with build_time, version, sigs, flevel, md5, dsig, builder,
    stime."""
    f = data[:CVD_HEADER_SIZE].decode("ascii", "replace").rstrip(" \0").split(":")
    if len(f) < 9 or f[0] != "ClamAV-VDB":
        raise ValueError("not a ClamAV container header")
    return {"build_time": f[1], "version": int(f[2]), "sigs": int(f[3]), "flevel": int(f[4]),
            "md5": f[5], "dsig": f[6], "builder": f[7], "stime": int(f[8])}


def fake_cvd(version, sigs=1, lines=None, db="daily", dsig=None, build_time=None):
    """A CVD (bytes) that is right in every respect but its digital
    signature (made up, in ClamAV's alphabet): libclamav refuses it."""
    cud = unsigned_cud(version, lines, db)
    body = cud[CVD_HEADER_SIZE:]
    # The container's creation time is the one sigtool wrote into the
    # .info inside it: libclamav refuses ("Corrupted CVD header") a
    # header whose time differs from it, and a clock read here instead
    # differed whenever sigtool's run crossed a second (CI, once).
    now = cvd_header(cud)["stime"] if build_time is None else build_time
    dsig = dsig or "".join(secrets.choice(DSIG_ALPHABET) for _ in range(86))
    header = "ClamAV-VDB:%s:%d:%d:%d:%s:%s:%s:%d" % (
        time.strftime("%d %b %Y %H-%M +0000", time.gmtime(now)), version, sigs,
        cvd_header(cud)["flevel"], hashlib.md5(body).hexdigest(), dsig, "sekisho", int(now))
    return header.encode().ljust(CVD_HEADER_SIZE, b" ") + body


def malformed_ndb():
    """An .ndb (bytes) libclamav refuses: the signature is not hex."""
    return b"Sekisho.Test.Malformed:0:*:this-is-not-hex\n"


def truncated(path, n, dest=None):
    """The first n bytes of the file at path (which is not changed), also
    written to dest when given."""
    with open(path, "rb") as f:
        data = f.read(n)
    if dest:
        with open(dest, "wb") as f:
            f.write(data)
    return data


# -- checking with clamscan -----------------------------------------------------

ScanResult = collections.namedtuple("ScanResult", "rc found output")
ScanResult.__doc__ = """clamscan's exit code (0 clean, 1 found, 2 error), the
signature names found, its stdout + stderr."""


def clamscan(dbs, target):
    """clamscan --no-summary -d <each of dbs> target."""
    if isinstance(dbs, str):
        dbs = [dbs]
    argv = [CLAMSCAN, "--no-summary"]
    for db in dbs:
        argv += ["-d", db]
    out = _run(argv + [target])
    text = out.stdout.decode("utf-8", "replace") + out.stderr.decode("utf-8", "replace")
    found = re.findall(r": (\S+) FOUND$", out.stdout.decode("utf-8", "replace"), re.M)
    return ScanResult(out.returncode, found, text)


# -- offline bundles ------------------------------------------------------------

class Entry:
    """A tar entry of bundle(): name; data (bytes); kind "file", "symlink"
    or "hardlink" (target: what the link names); size: the size its header
    declares (default len(data)); mode."""

    def __init__(self, name, data=b"", kind="file", target="", size=None, mode=0o644):
        self.name = name
        self.data = data
        self.kind = kind
        self.target = target
        self.size = len(data) if size is None else size
        self.mode = mode

    def __repr__(self):
        return "Entry(%r, %s, size=%d)" % (self.name, self.kind, self.size)


def hostile_ndb():
    """A well-formed .ndb (bytes), the content of the hostile entries: were
    one accepted, it would detect the text "SEKISHO-HOSTILE-BUNDLE-ENTRY"."""
    return ("Sekisho.Test.HostileEntry:0:*:%s\n"
            % hex_dump(b"SEKISHO-HOSTILE-BUNDLE-ENTRY")).encode()


def traversal(name="../evil.ndb", data=None):
    """A file whose name climbs out of the directory it is extracted to."""
    return Entry(name, hostile_ndb() if data is None else data)


def absolute(path, data=None):
    """A file with an absolute name (give one inside the test's directory,
    so that the test can see it was not written)."""
    if not path.startswith("/"):
        raise ValueError("absolute() wants an absolute path")
    return Entry(path, hostile_ndb() if data is None else data)


def symlink(name="link.ndb", target="/etc/passwd"):
    return Entry(name, kind="symlink", target=target)


def hardlink(name="hard.ndb", target="/etc/passwd"):
    return Entry(name, kind="hardlink", target=target)


def non_database(name="x.sh", data=b"#!/bin/sh\nexit 0\n"):
    """A file with an extension that is no ClamAV database's, executable."""
    return Entry(name, data, mode=0o755)


def huge(name="huge.ndb", size=(1 << 33) - 512, data=b""):
    """A file whose header declares size bytes (default just under 8 GiB,
    the most an octal ustar size field holds) of which the archive holds
    only data: the archive ends inside it."""
    return Entry(name, data, size=size)


def _tarinfo(entry, mtime):
    ti = tarfile.TarInfo(entry.name)
    ti.mtime = mtime
    ti.mode = entry.mode
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    if entry.kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, entry.target
    elif entry.kind == "hardlink":
        ti.type, ti.linkname = tarfile.LNKTYPE, entry.target
    else:
        ti.size = entry.size
    return ti


def bundle(path, files, fmt="gz", extra=(), mtime=None):
    """Write an offline bundle at path: files (dict name -> bytes, in that
    order), then the Entry objects of extra (an entry whose declared size
    exceeds its data is written last: the archive ends inside it). fmt
    "gz" (tar.gz) or "plain" (tar). Returns path."""
    if fmt not in ("gz", "plain"):
        raise ValueError("fmt: gz or plain")
    mtime = int(time.time()) if mtime is None else mtime
    entries = [Entry(n, d) for n, d in files.items()] + list(extra)
    whole = [e for e in entries if e.kind != "file" or e.size == len(e.data)]
    cut = [e for e in entries if e not in whole]
    if len(cut) > 1:
        raise ValueError("only one entry can have a declared size larger than its data")
    raw = io.BytesIO()
    # USTAR: names and sizes as every extractor reads them (no pax headers,
    # which would carry the hostile names in a second place).
    tf = tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT)
    for e in whole:
        ti = _tarinfo(e, mtime)
        tf.addfile(ti, io.BytesIO(e.data) if ti.isreg() else None)
    if cut:
        ti = _tarinfo(cut[0], mtime)
        # the header alone: tarfile would want all the data
        raw.write(ti.tobuf(tarfile.USTAR_FORMAT, tarfile.ENCODING, "surrogateescape"))
        raw.write(cut[0].data)
        data = raw.getvalue()  # no end-of-archive blocks: it ends inside the entry
    else:
        tf.close()
        data = raw.getvalue()
    if fmt == "gz":
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as f:
        f.write(data)
    return path
