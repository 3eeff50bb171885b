#!/usr/bin/env python3
"""corpus_mails.py DIR - the mails of the behaviour comparison.

  walk_*     fuzz/corpus/mime_walk/* as they are (whole mails)
  dec_*      fuzz/corpus/mime_decode/* turned into mails: a body input
             (selector 0) as a base64 part and as a quoted-printable part;
             a parameter input (2) as the Content-Disposition or
             Content-Type of an attachment; RFC 2047 words (1) as a quoted
             filename="..." (the legacy form mailers write); a header block
             (3) as the header block of a part
  uu_*       fuzz/corpus/mime_uu/* as a text/plain body
  evasion_*  the mails of tests/integration/test_mail_evasion.py, got by
             running its tests with refused()/delivered() replaced by a
             recorder (no servers are started)
  attack_*   a few more: a part-count bomb and deep nesting
"""
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HEAD = (b"From: a@example.com\r\nTo: b@example.org\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"=_c\"\r\n\r\n")


def wrap(part_head, body):
    return (HEAD + b"--=_c\r\nContent-Type: text/plain\r\n\r\nhi\r\n--=_c\r\n" + part_head +
            b"\r\n\r\n" + body + b"\r\n--=_c--\r\n")


def decode_mails(name, data):
    if len(data) < 2:
        return {}
    sel, k, d = data[0], data[1], data[2:]
    out = {}
    if sel % 4 == 0:
        out["b64"] = wrap(b"Content-Type: application/octet-stream\r\n"
                          b"Content-Transfer-Encoding: base64", d)
        out["qp"] = wrap(b"Content-Type: application/octet-stream\r\n"
                         b"Content-Transfer-Encoding: quoted-printable", d)
    elif sel % 4 == 1:
        out["fn2047"] = wrap(b"Content-Type: application/octet-stream\r\n"
                             b"Content-Disposition: attachment; filename=\"" +
                             d.replace(b"\"", b"").replace(b"\r", b"").replace(b"\n", b"") +
                             b"\"\r\nContent-Transfer-Encoding: base64", b"aGk=")
    elif sel % 4 == 2:
        low = d.lstrip().lower()
        if low.startswith(b"attachment") or low.startswith(b"inline"):
            h = b"Content-Type: application/octet-stream\r\nContent-Disposition: " + d
        else:
            h = b"Content-Type: " + d
        out["param"] = wrap(h.rstrip(b"\r\n") + b"\r\nContent-Transfer-Encoding: base64", b"aGk=")
    else:
        out["hdr"] = wrap(d.rstrip(b"\r\n"), b"aGk=")
    return out


def evasion_mails():
    sys.path[:0] = [os.path.join(ROOT, "tests", "integration")]
    import unittest
    import test_mail_evasion as t
    got = []

    def rec(self, msg, *a, **kw):
        got.append(msg if isinstance(msg, bytes) else msg.encode("latin-1", "replace"))
        return ("Eicar-Test-Signature", "eicar.com", None)

    for cls in (t.TestStructure, t.TestUuencode, t.TestEncodedText):
        cls.refused = rec
        cls.delivered = lambda self, msg, *a, **kw: rec(self, msg) and ""
        for m in unittest.TestLoader().getTestCaseNames(cls):
            n0 = len(got)
            try:
                getattr(cls(m), m)()
            except Exception:  # the recorder's answers fail some asserts
                pass
            for i, msg in enumerate(got[n0:]):
                yield "%s_%d" % (m[5:], i), msg


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    files = {}
    for sub, prefix in (("mime_walk", "walk_"), ("mime_decode", "dec_"), ("mime_uu", "uu_")):
        cdir = os.path.join(ROOT, "fuzz", "corpus", sub)
        for n in sorted(os.listdir(cdir)):
            data = open(os.path.join(cdir, n), "rb").read()
            if sub == "mime_walk":
                files["walk_" + n] = data
            elif sub == "mime_uu":
                files["uu_" + n] = (b"Subject: uu\r\nContent-Type: text/plain\r\n\r\n" + data)
            else:
                for kind, mail in decode_mails(n, data).items():
                    files["dec_%s_%s" % (n, kind)] = mail
    for n, mail in evasion_mails():
        files["evasion_" + n] = mail
    files["attack_empty_parts_1m"] = (HEAD.replace(b"=_c", b"b") +
                                      b"--b\r\n\r\n" * (1024 * 1024 // 7) + b"--b--\r\n")
    deep = [HEAD.replace(b"=_c", b"b0")]
    for i in range(1, 2000):
        deep.append(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n" % (i - 1, i))
    deep.append(b"--b1999\r\nContent-Type: application/octet-stream; name=x.exe\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n")
    files["attack_deep_2000"] = b"".join(deep)
    for n, data in files.items():
        with open(os.path.join(d, n), "wb") as f:
            f.write(data)
    print("%d mails in %s" % (len(files), d))


if __name__ == "__main__":
    main()
