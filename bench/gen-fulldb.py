#!/usr/bin/env python3
"""gen-fulldb - write a synthetic full-scale definitions directory.

    python3 bench/gen-fulldb.py OUTDIR [--seed N] [--scale F]

Deterministic (seeded PRNG): the same OUTDIR contents on every run. Sizes
follow the public ClamAV database in order of magnitude, so load time and
memory of sekisho-scand can be measured without downloading it:

  synth.hdb  1,000,000 MD5 hash signatures      md5:size:name
  synth.hsb    300,000 SHA-256 hash signatures  sha256:size:name
  synth.ndb    100,000 body signatures          name:0:*:hex  (10-60 bytes,
                                                about 1 in 5 with wildcards:
                                                ??, {n-m} gaps or (aa|bb))
  eicar.ndb    the EICAR signature (so the engine still detects something)

--scale multiplies the three counts (e.g. 0.1 for a quick try). None of
the random signatures can match the benchmark's clean files except by
astronomically unlikely chance; every name starts with Sekisho.Synth.
"""
import os
import random
import sys

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
COUNTS = {"hdb": 1_000_000, "hsb": 300_000, "ndb": 100_000}


def hexbytes(rng, n):
    return "%0*x" % (2 * n, rng.getrandbits(8 * n))


def body_signature(rng):
    """10-60 bytes of hex; some with wildcards. Every static run keeps at
    least 4 bytes, which libclamav's matchers need to index a pattern."""
    total = rng.randint(10, 60)
    kind = rng.random()
    if kind < 0.8 or total < 12:
        return hexbytes(rng, total)
    parts = []
    left = total
    while left > 0:
        run = min(left, rng.randint(4, 16))
        parts.append(hexbytes(rng, run))
        left -= run
        if left >= 4:
            w = rng.random()
            if w < 0.4:
                parts.append("??")
            elif w < 0.7:
                lo = rng.randint(0, 4)
                parts.append("{%d-%d}" % (lo, lo + rng.randint(1, 8)))
            else:
                parts.append("(%s|%s)" % (hexbytes(rng, 1), hexbytes(rng, 1)))
    return "".join(parts)


def main(argv):
    args, skip = [], False
    for a in argv[1:]:
        if skip:
            skip = False
        elif a in ("--seed", "--scale"):
            skip = True
        else:
            args.append(a)
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    seed, scale = 0x5E1C15, 1.0
    for i, a in enumerate(argv):
        if a == "--seed":
            seed = int(argv[i + 1], 0)
        if a == "--scale":
            scale = float(argv[i + 1])
    out = args[0]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(seed)
    n = {k: max(1, int(v * scale)) for k, v in COUNTS.items()}

    def write(name, lines):
        tmp = os.path.join(out, name + ".tmp")
        with open(tmp, "w") as f:
            f.writelines(lines)
        os.replace(tmp, os.path.join(out, name))

    write("synth.hdb", ("%s:%d:Sekisho.Synth.Md5-%d\n" %
                        (hexbytes(rng, 16), rng.randint(64, 20_000_000), i)
                        for i in range(n["hdb"])))
    write("synth.hsb", ("%s:%d:Sekisho.Synth.Sha256-%d\n" %
                        (hexbytes(rng, 32), rng.randint(64, 20_000_000), i)
                        for i in range(n["hsb"])))
    write("synth.ndb", ("Sekisho.Synth.Body-%d:0:*:%s\n" % (i, body_signature(rng))
                        for i in range(n["ndb"])))
    write("eicar.ndb", ["Eicar-Test-Signature:0:*:%s\n" % EICAR.hex()])
    total = sum(n.values()) + 1
    print("%s: %d signatures (%d md5, %d sha256, %d body, 1 eicar)" %
          (out, total, n["hdb"], n["hsb"], n["ndb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
