#!/usr/bin/env python3
"""popmail.py - fills a Maildir with the mails of bench/pop.sh.

    popmail.py MAILDIR COUNT ATTACH_BYTES ATTACH_DIR SAMPLES [UID GID]

Writes into MAILDIR/cur (the Maildir must exist), in file-name order, which
is the order dovecot numbers them:
  1  an EICAR mail (the attachment eicar.com is the EICAR test string);
  2  a clean check mail (as the others);
  3 .. COUNT+2  the bench mails.
Every clean mail has the layout of bench/smtpload.c's (about 81 KB with the
default 58,800-byte attachment): From/To/Subject/Message-ID/Date, a short
text/plain part and an application/octet-stream attachment of fresh random
bytes (os.urandom) in base64, CRLF line ends. No two attachments are equal,
so no cache (the proxy's verdict cache, libclamav's) makes a mail free.
The decoded attachments of the first SAMPLES bench mails are also written to
ATTACH_DIR (the files `sekisho-scand --ceiling` scans for the scan ceiling).
Files are chowned to UID:GID when given (dovecot's mail user). Prints
"POPMAIL count=N bytes_avg=B".
"""
import base64
import os
import sys

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def message(seq, attach, name):
    boundary = os.urandom(8).hex()
    head = (
        "From: Bench Sender <sender@bench.example>\r\n"
        "To: Bench Recipient <rcpt@bench.example>\r\n"
        "Subject: bench mail %d\r\n"
        "Message-ID: <%d.%s@bench.example>\r\n"
        "Date: Mon, 07 Dec 2026 00:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"=_bench_%s\"\r\n"
        "\r\n"
        "This is a multi-part message in MIME format.\r\n"
        "\r\n"
        "--=_bench_%s\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
        "Hello,\r\n"
        "the attached file holds benchmark data (mail %d).\r\n"
        "\r\n"
        "--=_bench_%s\r\n"
        "Content-Type: application/octet-stream; name=\"%s\"\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "Content-Disposition: attachment; filename=\"%s\"\r\n"
        "\r\n" % (seq, seq, boundary, boundary, boundary, seq, boundary, name, name)
    ).encode()
    b64 = base64.encodebytes(attach).replace(b"\n", b"\r\n")  # 76-character lines
    return head + b64 + ("--=_bench_%s--\r\n" % boundary).encode()


def main():
    if len(sys.argv) not in (6, 8):
        sys.exit(__doc__)
    maildir, count, attach_bytes, attach_dir, samples = sys.argv[1:6]
    count, attach_bytes, samples = int(count), int(attach_bytes), int(samples)
    owner = (int(sys.argv[6]), int(sys.argv[7])) if len(sys.argv) == 8 else None
    cur = os.path.join(maildir, "cur")
    os.makedirs(attach_dir, exist_ok=True)
    total = 0
    for i in range(count + 2):
        seq = i + 1
        if i == 0:
            data = message(seq, EICAR, "eicar.com")
        else:
            attach = os.urandom(attach_bytes)
            data = message(seq, attach, "data.bin")
            if 2 <= i < 2 + samples:
                with open(os.path.join(attach_dir, "attach-%d.bin" % seq), "wb") as f:
                    f.write(attach)
            if i >= 2:
                total += len(data)
        # Maildir name: sorts in sequence order; ":2,S" = already seen (cur/).
        path = os.path.join(cur, "%010d.M%07dP1.bench:2,S" % (1700000000 + seq, seq))
        with open(path, "wb") as f:
            f.write(data)
        if owner:
            os.chown(path, *owner)
    print("POPMAIL count=%d bytes_avg=%d" % (count, total // max(count, 1)))


if __name__ == "__main__":
    main()
