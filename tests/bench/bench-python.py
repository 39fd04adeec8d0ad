#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python references of run-benchmarks.py: smtplib and the email package.

  bench-python.py many HOST PORT COUNT RECIPIENTS FILE
      smtplib.SMTP: one connection, sendmail() of FILE's bytes COUNT times
      to RECIPIENTS recipients, quit (as bench-send-many does).
  bench-python.py huge HOST PORT FILE
      email.message.EmailMessage with FILE attached, sent with
      smtplib.SMTP.send_message().
  bench-python.py compose FILE
      email.message.EmailMessage with FILE attached, serialized with
      email.generator.BytesGenerator into a sink that only counts.

Each prints one line of key=value figures in the same names as the C
programs: wall and CPU seconds of the work (not of starting Python) and the
peak resident set size.
"""

import email.generator
import email.message
import email.policy
import resource
import smtplib
import sys
import time

# Given, so that smtplib does not ask the resolver for this host's name.
HELO_NAME = "[127.0.0.1]"


class CountingSink:
    """A binary file object that throws the bytes away and counts them."""

    def __init__(self):
        self.written = 0

    def write(self, data):
        self.written += len(data)
        return len(data)


def attachment_message(path):
    with open(path, "rb") as f:
        data = f.read()
    message = email.message.EmailMessage()
    message["From"] = "Bench <bench@example.org>"
    message["To"] = "sink@example.net"
    message["Subject"] = "A large attachment"
    message.set_content("The attachment is large.\n")
    message.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename="large.bin")
    return message, len(data)


def figures(start, cpu_start, **extra):
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    fields = dict(extra)
    fields["wall_s"] = f"{wall:.4f}"
    fields["user_s"] = f"{usage.ru_utime - cpu_start.ru_utime:.4f}"
    fields["sys_s"] = f"{usage.ru_stime - cpu_start.ru_stime:.4f}"
    fields["peak_rss_kib"] = usage.ru_maxrss
    print(" ".join(f"{key}={value}" for key, value in fields.items()), flush=True)


def many(host, port, count, recipients, path):
    with open(path, "rb") as f:
        data = f.read()
    to = [f"rcpt{i}@example.net" for i in range(1, recipients + 1)]
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    client = smtplib.SMTP(host, port, local_hostname=HELO_NAME)
    for _ in range(count):
        refused = client.sendmail("bench@example.org", to, data)
        if refused:
            raise SystemExit(f"bench-python: refused {refused}")
    client.quit()
    figures(start, cpu_start, messages=count, recipients=recipients)


def huge(host, port, path):
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    message, size = attachment_message(path)
    client = smtplib.SMTP(host, port, local_hostname=HELO_NAME)
    client.send_message(message)
    client.quit()
    figures(start, cpu_start, attachment_bytes=size)


def compose(path):
    cpu_start = resource.getrusage(resource.RUSAGE_SELF)
    start = time.monotonic()
    message, size = attachment_message(path)
    sink = CountingSink()
    # What smtplib's send_message() writes: CRLF line ends.
    email.generator.BytesGenerator(sink, policy=email.policy.SMTP).flatten(message)
    figures(start, cpu_start, input_bytes=size, output_bytes=sink.written)


def main(argv):
    if len(argv) == 7 and argv[1] == "many":
        many(argv[2], int(argv[3]), int(argv[4]), int(argv[5]), argv[6])
    elif len(argv) == 5 and argv[1] == "huge":
        huge(argv[2], int(argv[3]), argv[4])
    elif len(argv) == 3 and argv[1] == "compose":
        compose(argv[2])
    else:
        sys.stderr.write(__doc__)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
