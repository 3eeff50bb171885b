#!/usr/bin/env python3
"""gen_mails.py DIR - the inputs of bench/mime-vs-gmime.sh (deterministic).

  big_b64.eml    ~100 MB: one base64 attachment (75 MB of pseudo-random bytes)
  many_parts.eml ~100 MB: 1,000 parts (alternately base64 attachments with
                 RFC 2231 / RFC 2047 file names, and quoted-printable text)
  big_qp.eml     ~100 MB: one quoted-printable text body (Japanese UTF-8 and
                 ASCII, soft line breaks)
  typical.eml    ~80 KB: multipart/mixed of multipart/alternative (QP text +
                 QP HTML) and a 40 KB base64 PDF-like attachment with an
                 RFC 2047 file name -- repeated by the bench for per-mail cost
A file already there is kept.
"""
import base64
import os
import quopri
import random
import sys

MB = 1024 * 1024


def b64lines(data):
    enc = base64.b64encode(data)
    return b"\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + b"\r\n"


def qp(data):
    out = quopri.encodestring(data.replace(b"\r\n", b"\n"))
    return out.replace(b"\n", b"\r\n")


def head(subject, ctype):
    return ("From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
            "Subject: %s\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
            "Message-ID: <%s@example.com>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: %s\r\n\r\n" % (subject, subject.replace(" ", "."), ctype)).encode()


def prose(rng, n):
    words = ["the", "gateway", "scans", "mail", "\u95a2\u6240", "\u30e1\u30fc\u30eb",
             "attachment", "report", "\u8acb\u6c42\u66f8", "quarterly", "figures", "\u00e9t\u00e9"]
    out, size = [], 0
    while size < n:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(5, 30)))
        b = line.encode("utf-8") + b"\r\n"
        out.append(b)
        size += len(b)
    return b"".join(out)


def big_b64(rng):
    data = rng.randbytes(75 * MB)
    return (head("big b64", 'multipart/mixed; boundary="=_b1"') +
            b"--=_b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
            b"--=_b1\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"big.bin\"\r\n\r\n" +
            b64lines(data) + b"--=_b1--\r\n")


def many_parts(rng):
    out = [head("many parts", 'multipart/mixed; boundary="=_m1"')]
    for i in range(1000):
        if i % 2 == 0:
            data = rng.randbytes(75 * 1024)
            if i % 4 == 0:
                disp = "attachment; filename*=UTF-8''%%E8%%AB%%8B%%E6%%B1%%82-%d.pdf" % i
            else:
                disp = 'attachment; filename="=?UTF-8?B?%s?="' % base64.b64encode(
                    ("\u8acb\u6c42\u66f8-%d.xlsx" % i).encode()).decode()
            out.append(("--=_m1\r\nContent-Type: application/octet-stream\r\n"
                        "Content-Transfer-Encoding: base64\r\nContent-Disposition: %s\r\n\r\n"
                        % disp).encode() + b64lines(data))
        else:
            out.append(b"--=_m1\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
                       qp(prose(rng, 60 * 1024)))
    out.append(b"--=_m1--\r\n")
    return b"".join(out)


def big_qp(rng):
    body = qp(prose(rng, 58 * MB))
    return (head("big qp", "text/plain; charset=utf-8")[:-2] +
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + body)


def typical(rng):
    text = prose(rng, 6 * 1024)
    html = b"<html><body><p>" + text.replace(b"\r\n", b"</p>\r\n<p>") + b"</p></body></html>\r\n"
    pdf = b"%PDF-1.4\n" + rng.randbytes(40 * 1024)
    name = base64.b64encode("\u8acb\u6c42\u66f8 2024.pdf".encode()).decode()
    return (head("typical", 'multipart/mixed; boundary="=_t1"') +
            b"This is a multi-part message in MIME format.\r\n"
            b"--=_t1\r\nContent-Type: multipart/alternative; boundary=\"=_t2\"\r\n\r\n"
            b"--=_t2\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(text) +
            b"--=_t2\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + qp(html) +
            b"--=_t2--\r\n"
            b"--=_t1\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?" + name.encode() +
            b"?=\"\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"=?UTF-8?B?" + name.encode() +
            b"?=\"\r\n\r\n" + b64lines(pdf) + b"--=_t1--\r\n")


def main():
    d = sys.argv[1]
    os.makedirs(d, exist_ok=True)
    for name, fn in (("big_b64.eml", big_b64), ("many_parts.eml", many_parts),
                     ("big_qp.eml", big_qp), ("typical.eml", typical)):
        path = os.path.join(d, name)
        if os.path.exists(path):
            continue
        data = fn(random.Random(name))
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)
        print("%s: %d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
