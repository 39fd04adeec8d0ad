#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks a message a server received against the message that was sent.

    check-received.py SENT.eml RECEIVED.eml

SENT.eml is the caller's message as GMime writes it (Bcc included);
RECEIVED.eml is what the aiosmtpd peer saved. Python's
email package is the reference parser: both messages must parse to the
same tree of parts with the same types, file names and decoded payloads
(text compared with its line breaks made uniform, everything else byte for
byte), the same From, To, Cc and Subject, and the received one must have no
Bcc header and only CRLF line breaks. Prints every problem found; exits 1
if there was one.
"""

import email
import email.policy
import sys


def load(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


def shape(message):
    parts = []
    for part in message.walk():
        entry = [part.get_content_type(), part.get_filename(), part.get("Content-ID")]
        if not part.is_multipart():
            payload = part.get_payload(decode=True)
            if part.get_content_maintype() == "text":
                payload = payload.replace(b"\r\n", b"\n")
            entry.append(payload)
        parts.append(entry)
    return parts


def main():
    sent_path, received_path = sys.argv[1:3]
    problems = []

    with open(received_path, "rb") as f:
        raw = f.read()
    if raw.replace(b"\r\n", b"").find(b"\n") >= 0 or raw.replace(b"\r\n", b"").find(b"\r") >= 0:
        problems.append("the received message has a bare CR or LF")

    sent, received = load(sent_path), load(received_path)
    if received["Bcc"] is not None or received["Resent-Bcc"] is not None:
        problems.append("the received message has a Bcc header")
    for name in ("From", "To", "Cc", "Subject"):
        if str(sent[name]) != str(received[name]):
            problems.append(f"{name}: sent {sent[name]!r}, received {received[name]!r}")
    if received["Date"] is None or received["Message-ID"] is None:
        problems.append("the received message lacks Date or Message-ID")
    sent_shape, received_shape = shape(sent), shape(received)
    if len(sent_shape) != len(received_shape):
        problems.append(f"{len(sent_shape)} parts sent, {len(received_shape)} received")
    for i, (a, b) in enumerate(zip(sent_shape, received_shape)):
        if a != b:
            problems.append(f"part {i} differs: sent {a[:3]}, received {b[:3]}")

    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
